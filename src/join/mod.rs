//! Join plans: one planned join per upcoming meeting, with a scheduled join time and a status — Punctual's
//! local version of MeetStream's and Attendee's "bots".
//!
//! Concepts and invariants:
//! - [`plan`] is pure: from the candidate occurrences, the rules and the existing plans it computes the
//!   changes (insert, update, cancel). The same meeting seen on two calendars or accounts — same iCalUID and
//!   start, or same normalized meeting URL and start — gets one plan. A plan follows its occurrence by id, so
//!   a moved event moves its plan rather than cancelling it.
//! - [`due`] is pure too: given a plan and the wall clock, it says what to do now (early reminder, notify,
//!   catch up, auto-join, nag, or mark missed). Time is always passed in; a runner that wakes late after a
//!   suspend simply sees a later "now" and catches up.
//! - Status moves scheduled → notified → joined | dismissed | snoozed (back to scheduled) | missed, or to
//!   cancelled when the occurrence goes away. A plan's state is saved *before* its notification is sent, so a
//!   crash or restart never sends one twice (at most once, by design).
//! - Auto-join never happens more than [`AUTO_JOIN_GRACE_SECS`] after the start, nor while the screen is
//!   locked; then the plan only notifies.

mod due;
mod plan;
mod runner;

pub use due::{after, closed, due, next_fire, snoozed, Step, AUTO_JOIN_GRACE_SECS, NAG_UNTIL_SECS};
pub use plan::{normalize_url, plan, Candidate, Change};
pub use runner::{
    NeverLocked, Notification, NotificationKind, Notifier, Opener, ScreenLock, MAX_SLEEP_SECS,
};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where a plan stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JoinStatus {
    Scheduled,
    Notified,
    Joined,
    Dismissed,
    Snoozed,
    Missed,
    Cancelled,
}

impl JoinStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            JoinStatus::Scheduled => "scheduled",
            JoinStatus::Notified => "notified",
            JoinStatus::Joined => "joined",
            JoinStatus::Dismissed => "dismissed",
            JoinStatus::Snoozed => "snoozed",
            JoinStatus::Missed => "missed",
            JoinStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<JoinStatus> {
        [
            JoinStatus::Scheduled,
            JoinStatus::Notified,
            JoinStatus::Joined,
            JoinStatus::Dismissed,
            JoinStatus::Snoozed,
            JoinStatus::Missed,
            JoinStatus::Cancelled,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }

    /// No further notification or join happens from here.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            JoinStatus::Joined | JoinStatus::Dismissed | JoinStatus::Missed | JoinStatus::Cancelled
        )
    }
}

/// What a plan does when it is due.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JoinAction {
    Notify,
    AutoJoin,
}

impl JoinAction {
    pub fn as_str(&self) -> &'static str {
        match self {
            JoinAction::Notify => "notify",
            JoinAction::AutoJoin => "auto_join",
        }
    }
    pub fn parse(s: &str) -> Option<JoinAction> {
        match s {
            "notify" => Some(JoinAction::Notify),
            "auto_join" => Some(JoinAction::AutoJoin),
            _ => None,
        }
    }
}

/// One planned join.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinPlan {
    pub id: String,
    /// The occurrence this plan follows (the representative of its duplicates).
    pub occurrence_id: String,
    pub event_id: String,
    pub calendar_id: String,
    pub title: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// When the main notification (or auto-join) is due: start minus the lead time.
    pub scheduled_join_time: DateTime<Utc>,
    /// The optional early reminder.
    pub early_reminder_at: Option<DateTime<Utc>>,
    pub early_sent: bool,
    pub status: JoinStatus,
    pub action: JoinAction,
    pub platform: Option<String>,
    pub meeting_url: Option<String>,
    /// Dedup keys: "uid|start" and "normalized url|start".
    pub uid_key: String,
    pub url_key: Option<String>,
    /// When the due loop must look at this plan next; `None` once nothing more will happen.
    pub next_fire_at: Option<DateTime<Utc>>,
}

/// Which events get a plan.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PlanFor {
    /// Events with a meeting link (the default).
    #[default]
    Meetings,
    /// Every timed event.
    AllTimed,
}

/// A calendar's override of the rules.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CalendarRule {
    /// `false` turns join plans off for the calendar.
    #[serde(default = "yes")]
    pub enabled: bool,
    pub lead_minutes: Option<i64>,
    pub auto_join: Option<bool>,
}

fn yes() -> bool {
    true
}

/// An event's own override.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventRule {
    Skip,
    AutoJoin,
    Notify,
}

/// The join rules, as settings.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinRules {
    /// Minutes before the start that the notification (or auto-join) is due.
    pub lead_minutes: i64,
    /// An optional earlier reminder, in minutes before the start.
    pub early_reminder_minutes: Option<i64>,
    pub plan_for: PlanFor,
    pub skip_declined: bool,
    pub skip_all_day: bool,
    pub skip_free: bool,
    pub auto_join: bool,
    /// Repeat the notification every minute until joined or dismissed, up to 5 minutes after the start.
    pub nag: bool,
    /// Open the platform's native app when it has one.
    pub open_native: bool,
    /// How far ahead plans are made.
    pub horizon_hours: i64,
    #[serde(default)]
    pub calendars: BTreeMap<String, CalendarRule>,
    /// Keyed by event id (a single event or a whole series).
    #[serde(default)]
    pub events: BTreeMap<String, EventRule>,
}

impl Default for JoinRules {
    fn default() -> Self {
        JoinRules {
            lead_minutes: 1,
            early_reminder_minutes: None,
            plan_for: PlanFor::Meetings,
            skip_declined: true,
            skip_all_day: true,
            skip_free: true,
            auto_join: false,
            nag: false,
            open_native: true,
            horizon_hours: 48,
            calendars: BTreeMap::new(),
            events: BTreeMap::new(),
        }
    }
}
