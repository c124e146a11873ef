//! The due state machine: what a plan needs now, and the plan after it is done. Pure; "now" is passed in, so
//! a runner that wakes late (after a suspend, or with the app not running) just sees a later time and
//! catches up: a catch-up notification while the meeting runs, or "missed" once it has ended.

use super::{JoinAction, JoinPlan, JoinStatus};
use chrono::{DateTime, Duration, Utc};

/// Auto-join never happens later than this after the start; past it the plan only notifies.
pub const AUTO_JOIN_GRACE_SECS: i64 = 120;
/// The nag repeats every minute until this long after the start.
pub const NAG_UNTIL_SECS: i64 = 300;
const NAG_EVERY_SECS: i64 = 60;

/// What to do for a plan now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The optional early reminder ("in 10 minutes").
    EarlyReminder,
    /// The main notification. `started_minutes_ago` is set for a catch-up after the start.
    Notify { started_minutes_ago: Option<i64> },
    /// Open the meeting.
    AutoJoin,
    /// The repeated notification of a nagging plan.
    Nag,
    /// The meeting ended with no action.
    Miss,
}

/// When a plan in its current state next needs the loop.
pub fn next_fire(p: &JoinPlan) -> Option<DateTime<Utc>> {
    match p.status {
        JoinStatus::Scheduled => Some(match p.early_reminder_at {
            Some(at) if !p.early_sent => at,
            _ => p.scheduled_join_time,
        }),
        // Snoozes and nags set their own time; without one, the end is when the plan is marked missed.
        JoinStatus::Snoozed | JoinStatus::Notified => Some(p.next_fire_at.unwrap_or(p.end)),
        _ => None,
    }
}

/// What the plan needs at `now`, if anything.
pub fn due(p: &JoinPlan, now: DateTime<Utc>, nag: bool, screen_locked: bool) -> Option<Step> {
    if p.status.is_final() || p.next_fire_at.is_none_or(|t| now < t) {
        return None;
    }
    if now >= p.end {
        return Some(Step::Miss);
    }
    let started_minutes_ago = (now > p.start).then(|| (now - p.start).num_minutes());
    match p.status {
        JoinStatus::Scheduled => {
            if !p.early_sent && p.early_reminder_at.is_some() && now < p.scheduled_join_time {
                return Some(Step::EarlyReminder);
            }
            let in_grace = now - p.start <= Duration::seconds(AUTO_JOIN_GRACE_SECS);
            if p.action == JoinAction::AutoJoin && in_grace && !screen_locked {
                Some(Step::AutoJoin)
            } else {
                Some(Step::Notify {
                    started_minutes_ago,
                })
            }
        }
        JoinStatus::Snoozed => Some(Step::Notify {
            started_minutes_ago,
        }),
        JoinStatus::Notified if nag && now <= p.start + Duration::seconds(NAG_UNTIL_SECS) => {
            Some(Step::Nag)
        }
        _ => None,
    }
}

/// The plan once `step` has been taken at `now`.
pub fn after(p: &JoinPlan, step: Step, now: DateTime<Utc>, nag: bool) -> JoinPlan {
    let mut n = p.clone();
    match step {
        Step::EarlyReminder => {
            n.early_sent = true;
            n.next_fire_at = Some(p.scheduled_join_time.max(now));
        }
        Step::Notify { .. } | Step::Nag => {
            n.status = JoinStatus::Notified;
            n.early_sent = true;
            let again = now + Duration::seconds(NAG_EVERY_SECS);
            n.next_fire_at = Some(
                if nag && again <= p.start + Duration::seconds(NAG_UNTIL_SECS) {
                    again
                } else {
                    p.end
                },
            );
        }
        Step::AutoJoin => {
            n.status = JoinStatus::Joined;
            n.next_fire_at = None;
        }
        Step::Miss => {
            n.status = JoinStatus::Missed;
            n.next_fire_at = None;
        }
    }
    n
}

/// The plan after the user snoozes it for `minutes`.
pub fn snoozed(p: &JoinPlan, now: DateTime<Utc>, minutes: i64) -> JoinPlan {
    let mut n = p.clone();
    n.status = JoinStatus::Snoozed;
    n.early_sent = true;
    n.next_fire_at = Some(now + Duration::minutes(minutes.max(1)));
    n
}

/// The plan after the user joins or dismisses it.
pub fn closed(p: &JoinPlan, status: JoinStatus) -> JoinPlan {
    let mut n = p.clone();
    n.status = status;
    n.next_fire_at = None;
    n
}
