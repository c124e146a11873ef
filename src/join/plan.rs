//! Planning: which occurrences get a join plan, deduplicated across calendars, reconciled with the plans
//! that already exist. Pure: no store, no clock.

use super::{due, EventRule, JoinAction, JoinPlan, JoinRules, JoinStatus, PlanFor};
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;

/// An occurrence that may get a plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub occurrence_id: String,
    pub event_id: String,
    /// The series master for instances, so a rule on the series covers every instance.
    pub series_id: Option<String>,
    pub calendar_id: String,
    pub uid: String,
    pub title: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub all_day: bool,
    pub free: bool,
    pub declined: bool,
    pub not_joinable: bool,
    pub platform: Option<String>,
    pub meeting_url: Option<String>,
}

/// What planning changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    Insert(JoinPlan),
    Update(JoinPlan),
    /// The plan's occurrence is gone, declined, or no longer wanted.
    Cancel(String),
}

/// A meeting URL reduced to what identifies the room: scheme and host lower-cased, no "www.", no trailing
/// slash, no fragment, and no query parameters that only track the click.
pub fn normalize_url(raw: &str) -> String {
    let Ok(mut u) = url::Url::parse(raw.trim()) else {
        return raw.trim().to_ascii_lowercase();
    };
    u.set_fragment(None);
    let kept: Vec<(String, String)> = u
        .query_pairs()
        .filter(|(k, _)| !k.starts_with("utm_") && k != "from" && k != "referrer")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let host = u
        .host_str()
        .unwrap_or("")
        .trim_start_matches("www.")
        .to_ascii_lowercase();
    let path = u.path().trim_end_matches('/').to_string();
    let mut out = format!("{host}{path}");
    if !kept.is_empty() {
        let q: Vec<String> = kept.iter().map(|(k, v)| format!("{k}={v}")).collect();
        out.push('?');
        out.push_str(&q.join("&"));
    }
    out
}

fn uid_key(c: &Candidate) -> String {
    format!("{}|{}", c.uid, c.start.timestamp())
}

fn url_key(c: &Candidate) -> Option<String> {
    c.meeting_url
        .as_deref()
        .map(|u| format!("{}|{}", normalize_url(u), c.start.timestamp()))
}

/// Whether the rules give this occurrence a plan, and with which action.
fn wanted(c: &Candidate, rules: &JoinRules) -> Option<(JoinAction, i64)> {
    let cal = rules.calendars.get(&c.calendar_id);
    if cal.is_some_and(|r| !r.enabled) {
        return None;
    }
    let rule = rules
        .events
        .get(&c.event_id)
        .or_else(|| c.series_id.as_ref().and_then(|s| rules.events.get(s)));
    if rule == Some(&EventRule::Skip) || c.not_joinable {
        return None;
    }
    if (rules.skip_all_day && c.all_day)
        || (rules.skip_free && c.free)
        || (rules.skip_declined && c.declined)
        || (rules.plan_for == PlanFor::Meetings && c.meeting_url.is_none())
    {
        return None;
    }
    let auto = match rule {
        Some(EventRule::AutoJoin) => true,
        Some(EventRule::Notify) => false,
        _ => cal.and_then(|r| r.auto_join).unwrap_or(rules.auto_join),
    };
    // Auto-join needs something to open.
    let action = if auto && c.meeting_url.is_some() {
        JoinAction::AutoJoin
    } else {
        JoinAction::Notify
    };
    let lead = cal
        .and_then(|r| r.lead_minutes)
        .unwrap_or(rules.lead_minutes)
        .max(0);
    Some((action, lead))
}

/// Groups duplicates: candidates sharing a uid key or a url key are one meeting (union-find).
fn groups(cands: &[&Candidate]) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..cands.len()).collect();
    fn find(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    let mut seen: HashMap<String, usize> = HashMap::with_capacity(cands.len() * 2);
    for (i, c) in cands.iter().enumerate() {
        for key in std::iter::once(uid_key(c)).chain(url_key(c)) {
            match seen.get(&key) {
                Some(&j) => {
                    let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                    parent[a.max(b)] = a.min(b);
                }
                None => {
                    seen.insert(key, i);
                }
            }
        }
    }
    let mut by_root: HashMap<usize, Vec<usize>> = HashMap::new();
    for i in 0..cands.len() {
        let r = find(&mut parent, i);
        by_root.entry(r).or_default().push(i);
    }
    let mut out: Vec<Vec<usize>> = by_root.into_values().collect();
    out.sort_unstable_by_key(|g| g[0]);
    out
}

/// Computes the changes that bring `existing` in line with `candidates`. Candidates are the occurrences in
/// the planning window `[now, now + horizon)` (by end and start); existing plans inside that window whose
/// meeting is no longer a candidate are cancelled.
pub fn plan(
    candidates: &[Candidate],
    existing: &[JoinPlan],
    rules: &JoinRules,
    now: DateTime<Utc>,
    new_id: &mut dyn FnMut() -> String,
) -> Vec<Change> {
    let horizon_end = now + Duration::hours(rules.horizon_hours.max(1));
    let live: Vec<(&Candidate, JoinAction, i64)> = candidates
        .iter()
        .filter(|c| c.end > now && c.start < horizon_end)
        .filter_map(|c| wanted(c, rules).map(|(a, l)| (c, a, l)))
        .collect();
    let refs: Vec<&Candidate> = live.iter().map(|(c, _, _)| *c).collect();

    let mut by_occurrence: HashMap<&str, usize> = HashMap::new();
    let mut by_key: HashMap<&str, usize> = HashMap::new();
    for (i, p) in existing.iter().enumerate() {
        by_occurrence.insert(p.occurrence_id.as_str(), i);
        by_key.insert(p.uid_key.as_str(), i);
        if let Some(k) = &p.url_key {
            by_key.insert(k.as_str(), i);
        }
    }
    let mut claimed = vec![false; existing.len()];
    let mut changes = Vec::new();

    for group in groups(&refs) {
        // The representative: one with a link first, then the lowest occurrence id, so it is stable.
        let Some(&rep) = group.iter().min_by(|&&a, &&b| {
            (refs[a].meeting_url.is_none(), &refs[a].occurrence_id)
                .cmp(&(refs[b].meeting_url.is_none(), &refs[b].occurrence_id))
        }) else {
            continue;
        };
        let (c, action, lead) = (live[rep].0, live[rep].1, live[rep].2);
        // A plan follows its occurrence first (so a moved event keeps its plan), then its keys.
        let found = group
            .iter()
            .find_map(|&i| {
                by_occurrence
                    .get(refs[i].occurrence_id.as_str())
                    .copied()
                    .filter(|&e| !claimed[e])
            })
            .or_else(|| {
                group.iter().find_map(|&i| {
                    let c = refs[i];
                    std::iter::once(uid_key(c))
                        .chain(url_key(c))
                        .find_map(|k| by_key.get(k.as_str()).copied().filter(|&e| !claimed[e]))
                })
            });
        let scheduled = c.start - Duration::minutes(lead);
        let early = rules
            .early_reminder_minutes
            .filter(|&m| m > lead)
            .map(|m| c.start - Duration::minutes(m));
        let mut p = JoinPlan {
            id: String::new(),
            occurrence_id: c.occurrence_id.clone(),
            event_id: c.event_id.clone(),
            calendar_id: c.calendar_id.clone(),
            title: c.title.clone(),
            start: c.start,
            end: c.end,
            scheduled_join_time: scheduled,
            early_reminder_at: early,
            early_sent: false,
            status: JoinStatus::Scheduled,
            action,
            platform: c.platform.clone(),
            meeting_url: c.meeting_url.clone(),
            uid_key: uid_key(c),
            url_key: url_key(c),
            next_fire_at: None,
        };
        match found {
            Some(e) => {
                claimed[e] = true;
                let old = &existing[e];
                p.id = old.id.clone();
                if old.start == p.start
                    && old.scheduled_join_time == p.scheduled_join_time
                    && old.status != JoinStatus::Cancelled
                {
                    // Same time: keep where it stands (notified, snoozed, joined...).
                    p.status = old.status;
                    p.early_sent = old.early_sent || early.is_none();
                    p.early_reminder_at = if old.early_sent {
                        old.early_reminder_at
                    } else {
                        early
                    };
                    p.next_fire_at = old.next_fire_at;
                    if old.early_reminder_at != p.early_reminder_at && !old.early_sent {
                        p.next_fire_at = due::next_fire(&p);
                    }
                } else {
                    // Moved (or back from cancelled): a fresh plan at the new time.
                    p.early_sent = early.is_none();
                    p.next_fire_at = due::next_fire(&p);
                }
                if &p != old {
                    changes.push(Change::Update(p));
                }
            }
            None => {
                p.id = new_id();
                p.early_sent = early.is_none();
                p.next_fire_at = due::next_fire(&p);
                changes.push(Change::Insert(p));
            }
        }
    }
    for (i, p) in existing.iter().enumerate() {
        // Only plans in the window are judged: later ones are planned again when the window reaches them.
        let in_window = p.end > now && p.start < horizon_end;
        if !claimed[i] && in_window && p.status != JoinStatus::Cancelled && !p.status.is_final() {
            changes.push(Change::Cancel(p.id.clone()));
        }
    }
    changes
}
