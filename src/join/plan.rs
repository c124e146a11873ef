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

/// A meeting URL reduced to what identifies the room: no scheme, host lower-cased without "www.", no
/// trailing slash, no fragment, and no query parameters that only track the click (utm_*, from,
/// referrer). Plain string work, since planning normalizes every candidate's link.
pub fn normalize_url(raw: &str) -> String {
    let s = raw.trim();
    let s = s.split('#').next().unwrap_or(s);
    let lower = s.get(..8).map(str::to_ascii_lowercase).unwrap_or_default();
    let s = if lower.starts_with("https://") {
        &s[8..]
    } else if lower.starts_with("http://") {
        &s[7..]
    } else {
        s
    };
    let (rest, query) = s.split_once('?').unwrap_or((s, ""));
    let (host, path) = rest
        .find('/')
        .map(|i| rest.split_at(i))
        .unwrap_or((rest, ""));
    let host = host.to_ascii_lowercase();
    let mut out = String::with_capacity(s.len());
    out.push_str(host.strip_prefix("www.").unwrap_or(&host));
    out.push_str(path.trim_end_matches('/'));
    let mut first = true;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let key = pair.split('=').next().unwrap_or("");
        if key.starts_with("utm_") || key == "from" || key == "referrer" {
            continue;
        }
        out.push(if first { '?' } else { '&' });
        out.push_str(pair);
        first = false;
    }
    out
}

/// A dedup key as stored: "part|start".
fn key(part: &str, start: DateTime<Utc>) -> String {
    format!("{part}|{}", start.timestamp())
}

/// FNV-1a over a key's bytes, streamed from its parts so no string is built: planning hashes hundreds of
/// thousands of keys, where std's DoS-resistant SipHash and the allocations dominated the profile.
fn key_hash(part: &str, start: DateTime<Utc>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |b: u8| h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    part.bytes().for_each(&mut eat);
    eat(b'|');
    let mut digits = [0u8; 24];
    let mut n = start.timestamp();
    let negative = n < 0;
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10).unsigned_abs() as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if negative {
        eat(b'-');
    }
    digits[i..].iter().copied().for_each(&mut eat);
    h
}

/// A stored key's hash, equal to [`key_hash`] of its parts.
fn stored_hash(k: &str) -> u64 {
    match k.rsplit_once('|') {
        Some((part, ts)) => match ts
            .parse::<i64>()
            .ok()
            .and_then(|t| DateTime::from_timestamp(t, 0))
        {
            Some(t) => key_hash(part, t),
            None => 0,
        },
        None => 0,
    }
}

/// The identity hasher for keys that are already FNV hashes, and FNV-1a for strings.
#[derive(Default, Clone, Copy)]
struct PreHashed(u64);

impl std::hash::Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = n as u64;
    }
}

type FastMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<PreHashed>>;

/// Each candidate's (uid key, url key) hashes; each distinct URL is normalized once.
fn keys_of<'a>(
    cands: &[&'a Candidate],
    normalized: &mut FastMap<&'a str, String>,
) -> Vec<(u64, Option<u64>)> {
    cands
        .iter()
        .map(|c| {
            let url = c.meeting_url.as_deref().map(|u| {
                let n = normalized.entry(u).or_insert_with(|| normalize_url(u));
                key_hash(n, c.start)
            });
            (key_hash(&c.uid, c.start), url)
        })
        .collect()
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
fn groups(keys: &[(u64, Option<u64>)]) -> Groups {
    let mut parent: Vec<usize> = (0..keys.len()).collect();
    fn find(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    let mut seen: FastMap<u64, usize> = FastMap::default();
    seen.reserve(keys.len() * 2);
    for (i, &(uid, url)) in keys.iter().enumerate() {
        for key in std::iter::once(uid).chain(url) {
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
    // Flat groups by counting sort on the root: one allocation for all, not one per group.
    let roots: Vec<usize> = (0..keys.len()).map(|i| find(&mut parent, i)).collect();
    let mut start = vec![0usize; keys.len() + 1];
    for &r in &roots {
        start[r + 1] += 1;
    }
    for i in 0..keys.len() {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut members = vec![0usize; keys.len()];
    for (i, &r) in roots.iter().enumerate() {
        members[fill[r]] = i;
        fill[r] += 1;
    }
    Groups { members, start }
}

/// Groups as one list of members and the offset where each root's group starts.
struct Groups {
    members: Vec<usize>,
    start: Vec<usize>,
}

impl Groups {
    fn iter(&self) -> impl Iterator<Item = &[usize]> {
        (0..self.start.len() - 1)
            .map(|r| &self.members[self.start[r]..self.start[r + 1]])
            .filter(|g| !g.is_empty())
    }
}

/// Whether an existing plan already says everything planning would write for this candidate.
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
    let mut normalized = FastMap::default();
    normalized.reserve(refs.len());
    let keys = keys_of(&refs, &mut normalized);

    let mut by_occurrence: FastMap<&str, usize> = FastMap::default();
    by_occurrence.reserve(existing.len());
    let mut by_key: FastMap<u64, usize> = FastMap::default();
    by_key.reserve(existing.len() * 2);
    for (i, p) in existing.iter().enumerate() {
        by_occurrence.insert(p.occurrence_id.as_str(), i);
        by_key.insert(stored_hash(&p.uid_key), i);
        if let Some(k) = &p.url_key {
            by_key.insert(stored_hash(k), i);
        }
    }
    let mut claimed = vec![false; existing.len()];
    let mut changes = Vec::new();

    let grouped = groups(&keys);
    for group in grouped.iter() {
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
                    let (uid, url) = keys[i];
                    std::iter::once(uid)
                        .chain(url)
                        .find_map(|k| by_key.get(&k).copied().filter(|&e| !claimed[e]))
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
        let url_key = c
            .meeting_url
            .as_deref()
            .map(|u| key(normalized.get(u).map(String::as_str).unwrap_or(u), c.start));
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
            uid_key: key(&c.uid, c.start),
            url_key,
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
