//! The planner written the straightforward way, for tests only: string keys in std maps, groups as vectors,
//! every plan built before it is compared. The fast planner must produce exactly its changes.

use super::super::{EventRule, JoinAction, JoinPlan, JoinRules, JoinStatus, PlanFor};
use super::{key, normalize_url, Candidate, Change};
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;

/// The changes [`super::plan`] must produce, computed without any of its shortcuts.
pub fn plan(
    candidates: &[Candidate],
    existing: &[JoinPlan],
    rules: &JoinRules,
    now: DateTime<Utc>,
    new_id: &mut dyn FnMut() -> String,
) -> Vec<Change> {
    let horizon_end = now + Duration::hours(rules.horizon_hours.max(1));
    let live: Vec<_> = candidates
        .iter()
        .filter(|c| c.end > now && c.start < horizon_end)
        .filter_map(|c| wanted(c, rules).map(|(a, l)| (c, a, l)))
        .collect();
    let keys: Vec<(String, Option<String>)> = live
        .iter()
        .map(|(c, _, _)| {
            let url = c
                .meeting_url
                .as_deref()
                .map(|u| key(&normalize_url(u), c.start));
            (key(&c.uid, c.start), url)
        })
        .collect();

    // Union-find over shared keys; the root of a group is its lowest index.
    let mut parent: Vec<usize> = (0..live.len()).collect();
    fn find(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            i = p[i];
        }
        i
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, (uid, url)) in keys.iter().enumerate() {
        for k in std::iter::once(uid.as_str()).chain(url.as_deref()) {
            match seen.get(k) {
                Some(&j) => {
                    let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                    parent[a.max(b)] = a.min(b);
                }
                None => {
                    seen.insert(k, i);
                }
            }
        }
    }
    let mut groups: Vec<Vec<usize>> = vec![Vec::new(); live.len()];
    for i in 0..live.len() {
        let r = find(&mut parent, i);
        groups[r].push(i);
    }

    let mut by_occurrence: HashMap<&str, usize> = HashMap::new();
    let mut by_key: HashMap<&str, usize> = HashMap::new();
    for (i, p) in existing.iter().enumerate() {
        by_occurrence.insert(&p.occurrence_id, i);
        by_key.insert(&p.uid_key, i);
        if let Some(k) = &p.url_key {
            by_key.insert(k, i);
        }
    }
    let mut claimed = vec![false; existing.len()];
    let mut changes = Vec::new();
    for group in groups.iter().filter(|g| !g.is_empty()) {
        let Some(&rep) = group.iter().min_by_key(|&&i| {
            (
                live[i].0.meeting_url.is_none(),
                live[i].0.occurrence_id.clone(),
            )
        }) else {
            continue;
        };
        let (c, action, lead) = live[rep];
        let found = group
            .iter()
            .find_map(|&i| {
                by_occurrence
                    .get(live[i].0.occurrence_id.as_str())
                    .copied()
                    .filter(|&e| !claimed[e])
            })
            .or_else(|| {
                group.iter().find_map(|&i| {
                    std::iter::once(keys[i].0.as_str())
                        .chain(keys[i].1.as_deref())
                        .find_map(|k| by_key.get(k).copied().filter(|&e| !claimed[e]))
                })
            });
        let scheduled = c.start - Duration::minutes(lead);
        let early = rules
            .early_reminder_minutes
            .filter(|&m| m > lead)
            .map(|m| c.start - Duration::minutes(m));
        if let Some(e) = found.filter(|&e| unchanged(&existing[e], c, action, scheduled, early)) {
            claimed[e] = true;
            continue;
        }
        let p = JoinPlan {
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
            uid_key: keys[rep].0.clone(),
            url_key: keys[rep].1.clone(),
            next_fire_at: None,
        };
        if let Some(e) = found {
            claimed[e] = true;
        }
        changes.extend(super::settle(p, found.map(|e| &existing[e]), new_id));
    }
    for (i, p) in existing.iter().enumerate() {
        let in_window = p.end > now && p.start < horizon_end;
        if !claimed[i] && in_window && p.status != JoinStatus::Cancelled && !p.status.is_final() {
            changes.push(Change::Cancel(p.id.clone()));
        }
    }
    changes
}

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

fn unchanged(
    old: &JoinPlan,
    c: &Candidate,
    action: JoinAction,
    scheduled: DateTime<Utc>,
    early: Option<DateTime<Utc>>,
) -> bool {
    old.status != JoinStatus::Cancelled
        && old.start == c.start
        && old.end == c.end
        && old.scheduled_join_time == scheduled
        && old.action == action
        && (old.early_sent || old.early_reminder_at == early)
        && old.occurrence_id == c.occurrence_id
        && old.event_id == c.event_id
        && old.calendar_id == c.calendar_id
        && old.title == c.title
        && old.platform == c.platform
        && old.meeting_url == c.meeting_url
}
