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
    let mut out = Vec::with_capacity(raw.len());
    normalized_pieces(raw, &mut |piece| out.extend_from_slice(piece));
    String::from_utf8(out).unwrap_or_default()
}

/// Emits the normalized URL of [`normalize_url`] in pieces, so planning can hash it without building it.
/// Every piece is whole UTF-8 (lower-casing touches ASCII only), so the pieces join into valid text.
fn normalized_pieces(raw: &str, emit: &mut dyn FnMut(&[u8])) {
    let s = raw.trim();
    let s = s.split('#').next().unwrap_or(s);
    // Compared in place: lower-casing a copy of the scheme was an allocation per URL, and planning sees
    // every candidate's URL on every pass.
    let has = |scheme: &str| {
        s.as_bytes()
            .get(..scheme.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(scheme.as_bytes()))
    };
    let s = if has("https://") {
        &s[8..]
    } else if has("http://") {
        &s[7..]
    } else {
        s
    };
    let (rest, query) = s.split_once('?').unwrap_or((s, ""));
    let (host, path) = rest
        .find('/')
        .map(|i| rest.split_at(i))
        .unwrap_or((rest, ""));
    let host = host.as_bytes();
    let host = if host.len() >= 4 && host[..4].eq_ignore_ascii_case(b"www.") {
        &host[4..]
    } else {
        host
    };
    let mut buf = [0u8; 64];
    for chunk in host.chunks(buf.len()) {
        let lowered = &mut buf[..chunk.len()];
        lowered.copy_from_slice(chunk);
        lowered.make_ascii_lowercase();
        emit(lowered);
    }
    emit(path.trim_end_matches('/').as_bytes());
    let mut first = true;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let key = pair.split('=').next().unwrap_or("");
        if key.starts_with("utm_") || key == "from" || key == "referrer" {
            continue;
        }
        emit(if first { b"?" } else { b"&" });
        emit(pair.as_bytes());
        first = false;
    }
}

/// A dedup key as stored: "part|start".
fn key(part: &str, start: DateTime<Utc>) -> String {
    format!("{part}|{}", start.timestamp())
}

/// A 64-bit hash of a byte sequence, equal for equal bytes however they are fed in. It takes eight bytes
/// per step (byte-wise FNV was a tenth of a planning pass) and ends with a full avalanche; dedup keys are
/// compared by this hash alone, so it must not collide in practice.
#[derive(Default, Clone, Copy)]
struct KeyHasher {
    h: u64,
    word: u64,
    fill: u32,
    len: u64,
}

impl KeyHasher {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;

    fn mix(&mut self, w: u64) {
        self.h = (self.h ^ w).wrapping_mul(Self::K).rotate_left(29);
    }

    fn byte(&mut self, b: u8) {
        self.word |= u64::from(b) << (8 * self.fill);
        self.fill += 1;
        if self.fill == 8 {
            let w = self.word;
            self.mix(w);
            self.word = 0;
            self.fill = 0;
        }
    }

    fn bytes(&mut self, mut b: &[u8]) {
        self.len += b.len() as u64;
        while self.fill != 0 {
            let Some((&first, rest)) = b.split_first() else {
                return;
            };
            self.byte(first);
            b = rest;
        }
        let mut chunks = b.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.mix(u64::from_le_bytes(w));
        }
        for &x in chunks.remainder() {
            self.byte(x);
        }
    }

    /// Ends a key: the part's tail padded into its own word, then the start as one word.
    fn with_start(mut self, start: DateTime<Utc>) -> u64 {
        if self.fill != 0 {
            let w = self.word;
            self.mix(w);
            self.word = 0;
            self.fill = 0;
        }
        self.mix(start.timestamp() as u64);
        self.value()
    }

    fn value(&self) -> u64 {
        // MurmurHash3's 64-bit finalizer over the state, the pending bytes and the length.
        let mut h = self.h ^ self.word.wrapping_mul(Self::K) ^ self.len.rotate_left(32);
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// The hash of the key "part|start" without building it: the part's bytes, then the start as one word.
fn key_hash(part: &str, start: DateTime<Utc>) -> u64 {
    let mut h = KeyHasher::default();
    h.bytes(part.as_bytes());
    h.with_start(start)
}

/// A stored key's hash, equal to [`key_hash`] of its parts; 0 (matching nothing real) if it is malformed.
fn stored_hash(k: &str) -> u64 {
    k.rsplit_once('|')
        .and_then(|(part, ts)| {
            let t = DateTime::from_timestamp(ts.parse::<i64>().ok()?, 0)?;
            Some(key_hash(part, t))
        })
        .unwrap_or(0)
}

/// The identity hasher for keys that are already hashes, and [`KeyHasher`] for strings.
#[derive(Default, Clone, Copy)]
struct PreHashed(KeyHasher, Option<u64>);

impl std::hash::Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.1.unwrap_or_else(|| self.0.value())
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.bytes(bytes);
    }
    fn write_u64(&mut self, n: u64) {
        self.1 = Some(n);
    }
    fn write_usize(&mut self, n: usize) {
        self.1 = Some(n as u64);
    }
}

type FastMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<PreHashed>>;

/// The normalized form of a URL that normalization would only strip the scheme from (the common case:
/// `https://zoom.us/j/123`), found with one scan instead of taking the URL apart.
fn already_normal(u: &str) -> Option<&str> {
    let rest = u
        .strip_prefix("https://")
        .or_else(|| u.strip_prefix("http://"))?;
    let host_end = rest.find('/').unwrap_or(rest.len());
    let plain = u.trim().len() == u.len()
        && !rest.ends_with('/')
        && !rest.as_bytes().iter().any(|&b| b == b'#' || b == b'?')
        && !rest.as_bytes()[..host_end]
            .iter()
            .any(u8::is_ascii_uppercase)
        && !rest.starts_with("www.");
    plain.then_some(rest)
}

/// Each candidate's (uid key, url key) hashes. URLs are normalized straight into the hasher: building each
/// normalized string (and a map to reuse them) was most of a re-planning pass.
fn keys_of(cands: &[&Candidate]) -> Vec<(u64, Option<u64>)> {
    cands
        .iter()
        .map(|c| {
            let url = c.meeting_url.as_deref().map(|u| {
                let mut h = KeyHasher::default();
                match already_normal(u) {
                    Some(rest) => h.bytes(rest.as_bytes()),
                    None => normalized_pieces(u, &mut |piece| h.bytes(piece)),
                }
                h.with_start(c.start)
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
    let keys = keys_of(&refs);

    let mut by_occurrence: FastMap<&str, usize> = FastMap::default();
    by_occurrence.reserve(existing.len());
    for (i, p) in existing.iter().enumerate() {
        by_occurrence.insert(p.occurrence_id.as_str(), i);
    }
    // Plans by dedup key, built only when some meeting has no plan under its own occurrence (a new copy, or
    // a moved meeting): re-planning an unchanged calendar never needs it, and re-hashing every stored key
    // was a third of that pass.
    let mut by_key: Option<FastMap<u64, usize>> = None;
    let keyed = |existing: &[JoinPlan]| {
        let mut m: FastMap<u64, usize> = FastMap::default();
        m.reserve(existing.len() * 2);
        for (i, p) in existing.iter().enumerate() {
            m.insert(stored_hash(&p.uid_key), i);
            if let Some(k) = &p.url_key {
                m.insert(stored_hash(k), i);
            }
        }
        m
    };
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
                let by_key = by_key.get_or_insert_with(|| keyed(existing));
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
            .map(|u| key(&normalize_url(u), c.start));
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn a_key_hashes_as_its_stored_text(part in "\\PC{0,80}", ts in -5_000_000_000i64..5_000_000_000i64) {
            let start = DateTime::from_timestamp(ts, 0).expect("in range");
            prop_assert_eq!(
                key_hash(&part, start),
                stored_hash(&key(&part, start)),
                "planning matches stored plans by the hash of their key text"
            );
        }

        #[test]
        fn a_url_hashed_in_pieces_matches_its_stored_normalized_key(
            url in "(https?://|HTTPS://)?(www\\.|WWW\\.)?[a-zA-Z0-9.-]{1,80}(/[a-z0-9/]{0,20})?(\\?[a-z_=0-9&]{0,30})?(#[a-z]{0,5})?",
            ts in 0i64..4_000_000_000i64,
        ) {
            let start = DateTime::from_timestamp(ts, 0).expect("in range");
            let cand = Candidate {
                occurrence_id: "o".into(),
                event_id: "e".into(),
                series_id: None,
                calendar_id: "c".into(),
                uid: "u".into(),
                title: "t".into(),
                start,
                end: start,
                all_day: false,
                free: false,
                declined: false,
                not_joinable: false,
                platform: None,
                meeting_url: Some(url.clone()),
            };
            let streamed = keys_of(&[&cand])[0].1;
            prop_assert_eq!(
                streamed,
                Some(stored_hash(&key(&normalize_url(&url), start))),
                "a plan stored with its url key must be found again by the streamed hash of {:?}", url
            );
        }

        #[test]
        fn the_hash_does_not_depend_on_how_bytes_are_split(bytes in prop::collection::vec(any::<u8>(), 0..64), cut in 0usize..64) {
            let cut = cut.min(bytes.len());
            let mut whole = KeyHasher::default();
            whole.bytes(&bytes);
            let mut split = KeyHasher::default();
            split.bytes(&bytes[..cut]);
            split.bytes(&bytes[cut..]);
            prop_assert_eq!(whole.value(), split.value(), "streaming from parts equals hashing the whole");
        }
    }

    #[test]
    fn keys_that_differ_only_in_length_or_a_trailing_zero_differ() {
        let h = |b: &[u8]| {
            let mut k = KeyHasher::default();
            k.bytes(b);
            k.value()
        };
        assert_ne!(h(b""), h(b"\0"), "a zero byte is not the same as nothing");
        assert_ne!(
            h(b"abcdefgh"),
            h(b"abcdefgh\0"),
            "the length is part of the hash"
        );
        let mut seen = std::collections::HashSet::new();
        for n in 800_000_000u64..800_200_000 {
            assert!(
                seen.insert(stored_hash(&format!("zoom.us/j/{n}|1764000000"))),
                "structured room ids (the common case) never collide"
            );
        }
    }
}
