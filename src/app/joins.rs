//! Join plans through the app: planning after every write and on each tick, the due loop's tick, joining,
//! snoozing and dismissing, the next meeting, and the `joins` of listed events.
//!
//! The order of a tick is save-then-send: each plan's new status is committed before its notification goes
//! out, so a crash or a restart never repeats one (RFC-style "at most once"), and a second process running
//! the same loop finds nothing left to send.

use super::{App, EventView, JoinView, ListQuery};
use crate::error::{Error, ErrorCode, Result};
use crate::join::{
    self, Candidate, JoinPlan, JoinRules, JoinStatus, Notification, NotificationKind, Notifier,
    Opener, ScreenLock, Step, MAX_SLEEP_SECS,
};
use crate::model::{Availability, EventStatus};
use crate::store::{bad_setting, OccurrenceRow, WindowQuery};
use crate::time::wire;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::mpsc::{Receiver, RecvTimeoutError};

const RULES_KEY: &str = "join_rules";
/// Occurrences a planning pass may see; far above any real two-day window.
const MAX_CANDIDATES: usize = 100_000;
/// How soon before a plan is due its event is checked with its provider.
const RECHECK_BEFORE_SECS: i64 = 120;

/// What wakes the due loop early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoopSignal {
    /// Something changed: plan again now.
    Changed,
    Stop,
}

/// What the due loop's host provides.
pub struct JoinHost<'a> {
    pub notifier: &'a dyn Notifier,
    pub opener: &'a dyn Opener,
    pub screen: &'a dyn ScreenLock,
}

/// What a join opened.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JoinOutcome {
    pub occurrence_id: String,
    pub title: String,
    pub platform: String,
    /// The link that was opened: the native-app link or the web link.
    pub opened: String,
    pub native: bool,
}

/// The next meeting and how far away it is.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NextMeeting {
    pub event: EventView,
    /// Seconds until the start; negative while it runs.
    pub starts_in_seconds: i64,
    pub in_progress: bool,
}

/// A new plan's id: a random UUID, hyphenated and lower-case as `Uuid`'s `Display` writes it, encoded
/// into its one allocation. Planning from scratch makes one per meeting, and going through `to_string`
/// (the formatting machinery, then a growing string) cost several times the encoding.
pub fn new_plan_id() -> String {
    uuid::Uuid::new_v4()
        .hyphenated()
        .encode_lower(&mut uuid::Uuid::encode_buffer())
        .to_owned()
}

fn candidate(r: &OccurrenceRow) -> Candidate {
    let e = &r.event;
    Candidate {
        occurrence_id: r.id.clone(),
        event_id: e.id.clone(),
        series_id: r.series_id.clone(),
        calendar_id: e.calendar_id.clone(),
        uid: e.uid.clone(),
        title: e.title.clone(),
        start: r.start,
        end: r.end,
        all_day: e.all_day(),
        free: e.availability == Availability::Free,
        declined: e.attendance.declined || e.status == EventStatus::Cancelled,
        not_joinable: e.attendance.not_joinable,
        platform: e.meeting.as_ref().map(|m| m.platform.clone()),
        meeting_url: e.meeting.as_ref().map(|m| m.url.clone()),
    }
}

fn join_view(p: &JoinPlan) -> JoinView {
    JoinView {
        id: p.id.clone(),
        status: p.status.as_str().to_string(),
        scheduled_join_time: p
            .scheduled_join_time
            .to_rfc3339_opts(SecondsFormat::Secs, true),
        platform: p.platform.clone(),
        meeting_url: p.meeting_url.clone(),
        action: p.action.as_str().to_string(),
        is_scheduled: matches!(p.status, JoinStatus::Scheduled | JoinStatus::Snoozed),
    }
}

impl App {
    /// The join rules (defaults until the user changes them).
    pub fn join_rules(&self) -> Result<JoinRules> {
        match self.store.read(|r| r.setting(RULES_KEY))? {
            Some(json) => serde_json::from_str(&json).map_err(|e| bad_setting(RULES_KEY, e)),
            None => Ok(JoinRules::default()),
        }
    }

    /// Saves the join rules after checking them, and plans again.
    pub fn set_join_rules(&self, rules: &JoinRules) -> Result<()> {
        let minutes = |v: i64, field: &str| {
            if (0..=24 * 60).contains(&v) {
                Ok(())
            } else {
                Err(Error::field(
                    ErrorCode::InvalidInput,
                    field,
                    format!("{field} must be between 0 and 1440 minutes"),
                ))
            }
        };
        minutes(rules.lead_minutes, "lead_minutes")?;
        if let Some(m) = rules.early_reminder_minutes {
            minutes(m, "early_reminder_minutes")?;
        }
        for (calendar, rule) in &rules.calendars {
            if let Some(m) = rule.lead_minutes {
                // Unchecked, a huge lead would overflow the planner's date arithmetic at the next plan.
                minutes(m, &format!("calendars.{calendar}.lead_minutes"))?;
            }
        }
        if !(1..=24 * 14).contains(&rules.horizon_hours) {
            return Err(Error::field(
                ErrorCode::InvalidInput,
                "horizon_hours",
                "horizon_hours must be between 1 and 336",
            ));
        }
        let json = serde_json::to_string(rules)
            .map_err(|e| Error::new(ErrorCode::Internal, e.to_string()))?;
        self.store.write(|w| w.set_setting(RULES_KEY, &json))?;
        self.replan()
    }

    /// Brings the join plans in line with the calendar. Cheap when nothing changed.
    pub fn replan(&self) -> Result<()> {
        let now = self.clock.now();
        let rules = self.join_rules()?;
        let to = now + Duration::hours(rules.horizon_hours.max(1));
        if !self.store.read(|r| r.horizon_covers(now, to))? {
            self.store.write(|w| w.ensure_months(now, to))?;
        }
        let q = WindowQuery {
            from: now,
            to,
            calendars: Vec::new(),
            meeting_only: false,
            limit: MAX_CANDIDATES,
            page: None,
        };
        let (rows, existing) = self
            .store
            .read(|r| Ok((r.query_window(&q)?, r.plans_between(now, to)?)))?;
        // An account that needs reconnecting gets no plans: its copy of the calendar may be stale.
        let stale = self
            .store
            .read(|r| r.connections_in_state(crate::model::ConnectionState::NeedsReconnect))?;
        let mut candidates: Vec<Candidate> = rows
            .iter()
            .filter(|r| !stale.contains(&r.connection_id))
            .map(candidate)
            .collect();
        let changes = join::plan(&mut candidates, &existing, &rules, now, &mut new_plan_id);
        if !changes.is_empty() {
            self.store.write(|w| w.apply_plan_changes(&changes, now))?;
        }
        Ok(())
    }

    /// One pass of the due loop: plans again, then handles every plan that is due. Returns when the loop
    /// should wake next (never later than [`MAX_SLEEP_SECS`] from now).
    pub fn tick(&self, host: &JoinHost<'_>) -> Result<DateTime<Utc>> {
        self.replan()?;
        let now = self.clock.now();
        let rules = self.join_rules()?;
        let (due, next) = self
            .store
            .read(|r| r.plans_due(now + Duration::seconds(RECHECK_BEFORE_SECS)))?;
        // Asked only when something is due: the check is a D-Bus round trip, and an idle tick should cost
        // nothing but the query above.
        let locked = !due.is_empty() && host.screen.is_locked();
        // The earliest time a plan looked at now but not yet acted on needs the loop again.
        let mut pending: Option<DateTime<Utc>> = None;
        for p in due {
            if !self.still_on(&p)? {
                self.store
                    .write(|w| w.save_plan(&join::closed(&p, JoinStatus::Cancelled), now))?;
                continue;
            }
            let Some(step) = join::due(&p, now, rules.nag, locked) else {
                // Checked ahead of time (the provider re-check window); it fires later.
                pending = pending
                    .into_iter()
                    .chain(p.next_fire_at.filter(|t| *t > now))
                    .min();
                continue;
            };
            let updated = join::after(&p, step, now, rules.nag);
            // Save first: a crash after this never repeats the notification.
            self.store.write(|w| w.save_plan(&updated, now))?;
            // The plan's id and what happened only: a title is the user's, and a log is sent to others.
            tracing::info!(plan = %p.id, step = ?step, "reminder");
            match step {
                Step::AutoJoin => {
                    if let Err(e) = self.open_link(p.meeting_url.as_deref(), &rules, host.opener) {
                        // Could not open: tell the user instead, so the meeting is not silently lost.
                        let n = self.notification(&p, NotificationKind::CatchUp, Some(&e.message));
                        let _ = host.notifier.notify(&n);
                    }
                }
                Step::Miss => {}
                Step::EarlyReminder => {
                    let _ =
                        host.notifier
                            .notify(&self.notification(&p, NotificationKind::Early, None));
                }
                Step::Nag => {
                    let _ =
                        host.notifier
                            .notify(&self.notification(&p, NotificationKind::Nag, None));
                }
                Step::Notify {
                    started_minutes_ago,
                } => {
                    let kind = if started_minutes_ago.is_some() {
                        NotificationKind::CatchUp
                    } else {
                        NotificationKind::Due
                    };
                    let _ = host.notifier.notify(&self.notification(&p, kind, None));
                }
            }
        }
        let cap = now + Duration::seconds(MAX_SLEEP_SECS);
        let later = next.map(|n| n - Duration::seconds(RECHECK_BEFORE_SECS));
        Ok(pending
            .into_iter()
            .chain(later)
            .min()
            .map(|t| t.clamp(now, cap))
            .unwrap_or(cap))
    }

    /// Runs the due loop until `signals` says stop (or its sender is gone). It sleeps until the next plan
    /// is due but never longer than [`MAX_SLEEP_SECS`], and reads the wall clock each time it wakes, since
    /// monotonic timers stand still while the machine sleeps. Send [`LoopSignal::Changed`] after a write so
    /// new plans are seen at once.
    pub fn run_join_loop(&self, host: &JoinHost<'_>, signals: &Receiver<LoopSignal>) -> Result<()> {
        loop {
            let wake = self.tick(host)?;
            let wait = (wake - self.clock.now()).to_std().unwrap_or_default();
            match signals.recv_timeout(wait) {
                Ok(LoopSignal::Stop) | Err(RecvTimeoutError::Disconnected) => return Ok(()),
                Ok(LoopSignal::Changed) | Err(RecvTimeoutError::Timeout) => {}
            }
        }
    }

    /// Asks the event's source whether the meeting is still on: an account's provider, once per plan
    /// (Google: the single event), else (or when the provider cannot answer) the store.
    fn still_on(&self, p: &JoinPlan) -> Result<bool> {
        self.refresh_plan_event(p)?;
        self.store.read(|r| {
            Ok(match r.occurrence(&p.occurrence_id)? {
                Some(row) => {
                    row.event.status != EventStatus::Cancelled && !row.event.attendance.declined
                }
                None => false,
            })
        })
    }

    fn notification(
        &self,
        p: &JoinPlan,
        kind: NotificationKind,
        note: Option<&str>,
    ) -> Notification {
        let now = self.clock.now();
        let at = self.zone.local(p.start).format("%H:%M");
        let platform = p
            .platform
            .as_deref()
            .map(|id| crate::detect::platform_name(id).unwrap_or(id).to_string());
        let on = platform
            .as_deref()
            .map(|n| format!(" · {n}"))
            .unwrap_or_default();
        let mut body = match kind {
            NotificationKind::Early => format!(
                "in {} min, at {at}{on}",
                (p.start - now).num_minutes().max(1)
            ),
            NotificationKind::CatchUp if now > p.start => {
                format!(
                    "started {} min ago — Join?{on}",
                    (now - p.start).num_minutes().max(1)
                )
            }
            _ => format!("{at}{on}"),
        };
        if let Some(n) = note {
            body.push_str(&format!(" ({n})"));
        }
        Notification {
            plan_id: p.id.clone(),
            occurrence_id: p.occurrence_id.clone(),
            kind,
            title: p.title.clone(),
            body,
            start: p.start,
            platform,
            has_link: p.meeting_url.is_some(),
        }
    }

    /// Re-validates a link with detection and opens it: the native app when the rules say so and the
    /// platform has one, else the browser.
    fn open_link(
        &self,
        url: Option<&str>,
        rules: &JoinRules,
        opener: &dyn Opener,
    ) -> Result<(String, String, bool)> {
        let url = url.ok_or_else(|| {
            Error::new(
                ErrorCode::NoMeetingLink,
                "this event has no meeting link to join",
            )
        })?;
        let link = crate::detect::accept_url(url).map_err(|r| {
            Error::new(
                ErrorCode::UnsafeLink,
                format!("the link was not opened: {r}"),
            )
        })?;
        let (target, native) = match (&link.native_url, rules.open_native) {
            (Some(n), true) => (n.clone(), true),
            _ => (link.url.clone(), false),
        };
        opener.open(&target).map_err(|e| {
            Error::new(
                ErrorCode::OpenFailed,
                format!("could not open the meeting: {e}"),
            )
        })?;
        Ok((target, link.platform, native))
    }

    /// Joins a meeting: `next`, an occurrence id, or a plan id. Opens only links that detection accepts.
    pub fn join(&self, target: &str, opener: &dyn Opener) -> Result<JoinOutcome> {
        let now = self.clock.now();
        let (occurrence, plan) = if target == "next" {
            let next = self
                .next_meeting()?
                .ok_or_else(|| Error::new(ErrorCode::NotFound, "no upcoming meeting"))?;
            (next.event, None)
        } else if let Some(p) = self.store.read(|r| r.plan(target))? {
            (self.get_event(&p.occurrence_id)?, Some(p))
        } else {
            (self.get_event(target)?, None)
        };
        let rules = self.join_rules()?;
        let url = occurrence.meeting_url.clone().ok_or_else(|| {
            Error::new(
                ErrorCode::NoMeetingLink,
                // The id, not the title: the CLI prints errors to stderr, where titles never go.
                format!("the event {} has no meeting link to join", occurrence.id),
            )
        })?;
        let (opened, platform, native) = self.open_link(Some(&url), &rules, opener)?;
        let plan = match plan {
            Some(p) => Some(p),
            None => self
                .plans_for(std::slice::from_ref(&occurrence))?
                .into_iter()
                .next()
                .map(|(_, p)| p),
        };
        if let Some(p) = plan.filter(|p| !p.status.is_final()) {
            self.store
                .write(|w| w.save_plan(&join::closed(&p, JoinStatus::Joined), now))?;
        }
        Ok(JoinOutcome {
            occurrence_id: occurrence.id,
            title: occurrence.title,
            platform,
            opened,
            native,
        })
    }

    /// Snoozes a plan's reminder for `minutes`.
    pub fn snooze(&self, plan_id: &str, minutes: i64) -> Result<()> {
        if !(1..=60).contains(&minutes) {
            return Err(Error::field(
                ErrorCode::InvalidInput,
                "minutes",
                "snooze for 1 to 60 minutes",
            ));
        }
        let now = self.clock.now();
        let p = self
            .store
            .read(|r| r.plan(plan_id))?
            .ok_or_else(|| Error::not_found("join plan", plan_id))?;
        self.store
            .write(|w| w.save_plan(&join::snoozed(&p, now, minutes), now))
    }

    /// Dismisses a plan: no more reminders for this meeting.
    pub fn dismiss(&self, plan_id: &str) -> Result<()> {
        let now = self.clock.now();
        let p = self
            .store
            .read(|r| r.plan(plan_id))?
            .ok_or_else(|| Error::not_found("join plan", plan_id))?;
        self.store
            .write(|w| w.save_plan(&join::closed(&p, JoinStatus::Dismissed), now))
    }

    /// A plan's status history, oldest first, as (status, RFC 3339 time).
    pub fn plan_history(&self, plan_id: &str) -> Result<Vec<(String, String)>> {
        self.store.read(|r| r.plan_history(plan_id))
    }

    /// The meeting in progress or the next one to start, with a link, within four weeks.
    pub fn next_meeting(&self) -> Result<Option<NextMeeting>> {
        let now = self.clock.now();
        Ok(self
            .upcoming_meetings(now + Duration::days(28), 1)?
            .into_iter()
            .next())
    }

    /// Timed meetings with a link that are in progress or start before `until`, soonest first, at most
    /// `limit` (1 to 100). The "Up next" panel and the tray's list of today's meetings read this.
    pub fn upcoming_meetings(
        &self,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<NextMeeting>> {
        if !(1..=100).contains(&limit) {
            return Err(Error::field(
                ErrorCode::InvalidLimit,
                "limit",
                "limit must be between 1 and 100",
            ));
        }
        let now = self.clock.now();
        if until <= now {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        let mut cursor = None;
        // All-day entries are not meetings one joins, so a page may hold fewer than `limit`: read on.
        loop {
            let page = self.list_events(&ListQuery {
                from: Some(now.to_rfc3339()),
                to: Some(until.to_rfc3339()),
                limit: Some(100),
                cursor,
                ..Default::default()
            })?;
            for event in page.events {
                if event.all_day || event.meeting_url.is_none() {
                    continue;
                }
                let Ok(start) = DateTime::parse_from_rfc3339(&event.start_time) else {
                    continue;
                };
                let secs = (start.with_timezone(&Utc) - now).num_seconds();
                out.push(NextMeeting {
                    in_progress: secs <= 0,
                    starts_in_seconds: secs,
                    event,
                });
                if out.len() == limit {
                    return Ok(out);
                }
            }
            match (page.has_more, page.next_cursor) {
                (true, Some(next)) => cursor = Some(next),
                _ => return Ok(out),
            }
        }
    }

    /// The plans of listed occurrences, matched directly or as duplicates of another calendar's copy.
    ///
    /// A duplicate's dedup keys carry its start, so every plan a page can match starts inside the page's
    /// span; the plans of that span (a day either side, for an occurrence whose move is not planned yet)
    /// are read with one range query and matched in memory.
    pub(super) fn plans_for(&self, views: &[EventView]) -> Result<Vec<(usize, JoinPlan)>> {
        let starts: Vec<i64> = views
            .iter()
            .map(|v| {
                wire::parse_utc(&v.start_time)
                    .map(|t| t.timestamp())
                    .unwrap_or(i64::MIN)
            })
            .collect();
        let ends = views
            .iter()
            .filter_map(|v| wire::parse_utc(&v.end_time).ok());
        let (Some(from), Some(to)) = (
            starts
                .iter()
                .filter(|&&s| s != i64::MIN)
                .min()
                .and_then(|&s| DateTime::from_timestamp(s, 0)),
            ends.max(),
        ) else {
            return Ok(Vec::new());
        };
        let plans = self
            .store
            .read(|r| r.plans_between(from - Duration::days(1), to + Duration::days(1)))?;
        // Stored keys are "part|start"; split once here, so a listed view is matched without building its
        // keys, and its URL is normalized only when some plan has a URL key at its very start.
        let split = |k: &str| {
            let (part, ts) = k.rsplit_once('|')?;
            Some((part.to_string(), ts.parse::<i64>().ok()?))
        };
        let mut by_occurrence: HashMap<&str, usize> = HashMap::new();
        let mut by_uid: HashMap<(String, i64), usize> = HashMap::new();
        let mut by_url: HashMap<(String, i64), usize> = HashMap::new();
        for (i, p) in plans.iter().enumerate() {
            by_occurrence.entry(p.occurrence_id.as_str()).or_insert(i);
            if let Some(k) = split(&p.uid_key) {
                by_uid.entry(k).or_insert(i);
            }
            if let Some(k) = p.url_key.as_deref().and_then(split) {
                by_url.entry(k).or_insert(i);
            }
        }
        let url_starts: std::collections::HashSet<i64> = by_url.keys().map(|(_, t)| *t).collect();
        let mut out = Vec::new();
        for (i, v) in views.iter().enumerate() {
            let start = starts[i];
            let found = by_occurrence
                .get(v.id.as_str())
                .or_else(|| by_uid.get(&(v.ical_uid.clone(), start)))
                .or_else(|| {
                    let url = v
                        .meeting_url
                        .as_deref()
                        .filter(|_| url_starts.contains(&start))?;
                    by_url.get(&(join::normalize_url(url), start))
                });
            if let Some(&p) = found {
                out.push((i, plans[p].clone()));
            }
        }
        Ok(out)
    }

    /// Fills `joins` on listed events.
    pub(super) fn attach_joins(&self, views: &mut [EventView]) -> Result<()> {
        let span = |v: &EventView, s: &str| wire::parse_utc(s).ok().filter(|_| !v.all_day);
        let (Some(from), Some(to)) = (
            views.first().and_then(|v| span(v, &v.start_time)),
            views.iter().filter_map(|v| span(v, &v.end_time)).max(),
        ) else {
            return Ok(());
        };
        // Plans exist only near now; a page of other weeks skips the key matching entirely.
        if !self
            .store
            .read(|r| r.any_plan_between(from - Duration::days(1), to + Duration::days(1)))?
        {
            return Ok(());
        }
        for (i, p) in self.plans_for(views)? {
            views[i].joins = vec![join_view(&p)];
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::new_plan_id;

    #[test]
    fn a_new_plan_id_is_spelled_as_uuids_display_spells_it() {
        let id = new_plan_id();
        let parsed = uuid::Uuid::parse_str(&id).expect("a plan id is a UUID");
        assert_eq!(
            id,
            parsed.to_string(),
            "plan ids keep the spelling stored ones have (hyphenated, lower-case)"
        );
        assert_eq!(
            parsed.get_version(),
            Some(uuid::Version::Random),
            "a plan id is random, so ids made by two processes never clash"
        );
        assert_eq!(id.capacity(), id.len(), "the id is its one allocation");
    }
}
