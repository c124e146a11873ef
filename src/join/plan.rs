//! Planning: which occurrences get a join plan, deduplicated across calendars, reconciled with the plans
//! that already exist. Pure: no store, no clock.

use super::{due, EventRule, JoinAction, JoinPlan, JoinRules, JoinStatus, PlanFor};
use chrono::{DateTime, Duration, NaiveTime, Timelike, Utc};
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
#[cfg(test)]
fn key(part: &str, start: DateTime<Utc>) -> String {
    key_at(part, start.timestamp())
}

/// [`key`] of a start already converted; `format!` was a third of planning from scratch.
#[cfg(test)]
fn key_at(part: &str, start: i64) -> String {
    key_with(part, Start::new(start).digits())
}

/// A start in decimal, as `format!` would write it, written once for both keys of a plan (itoa: a digit
/// loop with a UTF-8 check cost over 300 instructions a key).
struct Start(itoa::Buffer, i64);

impl Start {
    fn new(start: i64) -> Self {
        Start(itoa::Buffer::new(), start)
    }

    fn digits(&mut self) -> &str {
        self.0.format(self.1)
    }
}

/// "part|digits" in one allocation of its exact size.
fn key_with(part: &str, digits: &str) -> String {
    let mut k = String::with_capacity(part.len() + 1 + digits.len());
    k.push_str(part);
    k.push('|');
    k.push_str(digits);
    k
}

/// A url key as stored: the normalized URL, then "|start"; one allocation, where normalizing and then
/// formatting the key took three on every new plan. A URL already in normal form (the common case, which
/// hashing the keys found out: `plain`) is copied without its scheme as the text it is.
fn url_key(raw: &str, plain: bool, digits: &str) -> String {
    if plain {
        let rest = raw
            .strip_prefix("https://")
            .or_else(|| raw.strip_prefix("http://"));
        debug_assert!(
            rest.is_some() && rest == already_normal(raw),
            "only a URL already in normal form is passed as plain"
        );
        return key_with(rest.unwrap_or(raw), digits);
    }
    let mut out = Vec::with_capacity(raw.len() + 1 + digits.len());
    normalized_pieces(raw, &mut |piece| out.extend_from_slice(piece));
    let mut k = String::from_utf8(out).unwrap_or_default();
    k.push('|');
    k.push_str(digits);
    k
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
        // The tail goes in as one partial word (what feeding it byte by byte builds, since the word is empty
        // here): most keys end in one, and the byte loop was a tenth of a re-planning pass. Shifted in
        // rather than copied, as a copy of variable length is a call to memcpy.
        let tail = chunks.remainder();
        self.word = tail.iter().rev().fold(0, |w, &x| (w << 8) | u64::from(x));
        self.fill = tail.len() as u32;
    }

    /// Ends a key: the part's tail padded into its own word, then the start as one word.
    fn with_start(mut self, start: i64) -> u64 {
        if self.fill != 0 {
            let w = self.word;
            self.mix(w);
            self.word = 0;
            self.fill = 0;
        }
        self.mix(start as u64);
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
    h.with_start(start.timestamp())
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
    // Whole-slice tests without early exits, which the compiler turns into a few wide compares: the short
    // URLs made `find` and early-exit scans cost more than the bytes they looked at.
    let b = rest.as_bytes();
    let host_end = b.iter().position(|&x| x == b'/').unwrap_or(b.len());
    let upper = b[..host_end]
        .iter()
        .fold(false, |acc, x| acc | x.is_ascii_uppercase());
    let query_or_fragment = has_either(b, b'#', b'?');
    // It opens with the scheme, so only its end can carry whitespace that trimming would take off.
    let plain = !upper
        && !query_or_fragment
        && !rest.ends_with('/')
        && !rest.starts_with("www.")
        && !u.ends_with(char::is_whitespace);
    plain.then_some(rest)
}

/// Whether `b` contains `x` or `y`, eight bytes per step.
fn has_either(b: &[u8], x: u8, y: u8) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // The classic zero-byte test: it can misplace which byte is zero, but never misses or invents one,
    // and whether there is one is all that is asked.
    let zero_byte = |w: u64| w.wrapping_sub(ONES) & !w & HIGHS != 0;
    let word =
        |w: u64| zero_byte(w ^ (ONES * u64::from(x))) || zero_byte(w ^ (ONES * u64::from(y)));
    let mut chunks = b.chunks_exact(8);
    let mut found = false;
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        found |= word(u64::from_le_bytes(w));
    }
    found || chunks.remainder().iter().any(|&t| t == x || t == y)
}

/// A candidate's (uid key, url key) hashes, and whether its URL is already in normal form (so that a plan
/// built from it need not ask again). URLs are normalized straight into the hasher: building each
/// normalized string (and a map to reuse them) was most of a re-planning pass.
fn keys(c: &Candidate, start: i64) -> (u64, Option<u64>, bool) {
    let mut plain = false;
    let url = c.meeting_url.as_deref().map(|u| {
        let mut h = KeyHasher::default();
        match already_normal(u) {
            Some(rest) => {
                plain = true;
                h.bytes(rest.as_bytes());
            }
            None => normalized_pieces(u, &mut |piece| h.bytes(piece)),
        }
        h.with_start(start)
    });
    let mut h = KeyHasher::default();
    h.bytes(c.uid.as_bytes());
    (h.with_start(start), url, plain)
}

#[cfg(test)]
fn keys_of(cands: &[&Candidate]) -> Vec<(u64, Option<u64>)> {
    cands
        .iter()
        .map(|c| {
            let (uid, url, _) = keys(c, c.start.timestamp());
            (uid, url)
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

/// Groups duplicates: candidates sharing a uid key or a url key are one meeting (union-find). Its root is
/// the group's lowest index.
fn groups(live: &[Live<'_>]) -> Groups {
    let mut parent: Vec<u32> = (0..live.len() as u32).collect();
    let mut seen: FastMap<u64, u32> = FastMap::default();
    seen.reserve(live.len() * 2);
    // Most meetings have no copy: only the members of real groups are sorted out below.
    let mut joined: Vec<u32> = Vec::new();
    for (n, block) in live.chunks(warm::BLOCK).enumerate() {
        // Looking a block's keys up first brings in the table's slots for them all at once; the inserts
        // below then find them in cache, where one after another they waited out a miss each.
        let mut sink = warm::Sink::default();
        for l in block {
            for key in std::iter::once(l.uid).chain(l.url) {
                sink.found(seen.get(&key).copied());
            }
        }
        sink.finish();
        for (k, l) in block.iter().enumerate() {
            let i = (n * warm::BLOCK + k) as u32;
            for key in std::iter::once(l.uid).chain(l.url) {
                match seen.entry(key) {
                    std::collections::hash_map::Entry::Occupied(j) => {
                        let j = *j.get();
                        let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                        parent[a.max(b) as usize] = a.min(b);
                        joined.extend([i, j]);
                    }
                    std::collections::hash_map::Entry::Vacant(v) => {
                        v.insert(i);
                    }
                }
            }
        }
    }
    let mut members: Vec<(u32, u32)> = joined
        .into_iter()
        .map(|i| (find(&mut parent, i), i))
        .collect();
    members.sort_unstable();
    members.dedup();
    Groups { parent, members }
}

fn find(p: &mut [u32], mut i: u32) -> u32 {
    while p[i as usize] != i {
        p[i as usize] = p[p[i as usize] as usize];
        i = p[i as usize];
    }
    i
}

/// Groups in the order of their roots, each with its members in index order.
struct Groups {
    parent: Vec<u32>,
    /// (root, member) for the groups of more than one, sorted.
    members: Vec<(u32, u32)>,
}

impl Groups {
    /// Calls `each` with every group, roots ascending.
    fn each(mut self, mut each: impl FnMut(&[u32])) {
        let mut many: Vec<u32> = Vec::new();
        let mut next = 0;
        for i in 0..self.parent.len() as u32 {
            if find(&mut self.parent, i) != i {
                continue;
            }
            if self.members.get(next).is_some_and(|&(r, _)| r == i) {
                many.clear();
                while let Some(&(_, m)) = self.members.get(next).filter(|&&(r, _)| r == i) {
                    many.push(m);
                    next += 1;
                }
                each(&many);
            } else {
                each(&[i]);
            }
        }
    }
}

/// When a meeting starting at `start` is due (less the lead time) and its early reminder, if any.
fn times(
    start: DateTime<Utc>,
    lead: i64,
    rules: &JoinRules,
) -> (DateTime<Utc>, Option<DateTime<Utc>>) {
    let early = rules
        .early_reminder_minutes
        .filter(|&m| m > lead)
        .map(|m| minutes_before(start, m));
    (minutes_before(start, lead), early)
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

/// `start` moved `minutes` earlier, exactly as chrono's subtraction gives it. Within the same day (nearly
/// always) the time of day is set directly: chrono's checked date arithmetic ran for every candidate.
fn minutes_before(start: DateTime<Utc>, minutes: i64) -> DateTime<Utc> {
    // Through the naive UTC time: `Timelike` and `date_naive` on the `DateTime` go by way of an offset.
    let naive = start.naive_utc();
    let (secs, nanos) = (naive.num_seconds_from_midnight(), naive.nanosecond());
    let same_day = minutes
        .checked_mul(60)
        .filter(|d| (0..=i64::from(secs)).contains(d) && nanos < 1_000_000_000)
        .and_then(|d| NaiveTime::from_num_seconds_from_midnight_opt(secs - d as u32, nanos));
    match same_day {
        Some(t) => naive.date().and_time(t).and_utc(),
        None => start - Duration::minutes(minutes),
    }
}

/// Plans by the hash of their occurrence id: a table of plain words, where string keys made every probe a
/// string comparison. The last plan with an id wins, as with the id itself as the key.
struct ByOccurrence<'a> {
    plans: &'a [JoinPlan],
    index: FastMap<u64, usize>,
}

impl<'a> ByOccurrence<'a> {
    fn new(plans: &'a [JoinPlan]) -> Self {
        let mut index: FastMap<u64, usize> = FastMap::default();
        index.reserve(plans.len());
        for (b, block) in plans.chunks(warm::BLOCK).enumerate() {
            let mut sink = warm::Sink::default();
            for p in block {
                sink.str(&p.occurrence_id);
            }
            sink.finish();
            for (j, p) in block.iter().enumerate() {
                index.insert(id_hash(&p.occurrence_id), b * warm::BLOCK + j);
            }
        }
        ByOccurrence { plans, index }
    }

    fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The last plan following this occurrence.
    #[cfg(test)]
    fn last(&self, id: &str) -> Option<usize> {
        self.probe(id_hash(id)).and_then(|e| self.confirmed(e, id))
    }

    /// The plan stored under an id's hash, not yet checked against the id (see [`Self::confirmed`]): the
    /// first pass looks up a block's plans before it reads them.
    fn probe(&self, id_hash: u64) -> Option<usize> {
        self.index.get(&id_hash).copied()
    }

    /// The plan under the id's hash is the last with the id when its id matches (a later one would have
    /// replaced it); otherwise two ids share the hash, and a scan answers.
    fn confirmed(&self, e: usize, id: &str) -> Option<usize> {
        if self.plans[e].occurrence_id == id {
            Some(e)
        } else {
            self.plans.iter().rposition(|p| p.occurrence_id == id)
        }
    }
}

fn id_hash(id: &str) -> u64 {
    let mut h = KeyHasher::default();
    h.bytes(id.as_bytes());
    h.value()
}

/// A candidate the rules want planned: its index, action, lead time and start (copied, so that deciding
/// reads no candidate it does not compare), the hashes of its dedup keys, and the plan following its
/// occurrence.
struct Live<'a> {
    c: &'a Candidate,
    index: u32,
    action: JoinAction,
    lead: i64,
    start: DateTime<Utc>,
    uid: u64,
    url: Option<u64>,
    /// Whether the URL is already in normal form ([`already_normal`]).
    url_plain: bool,
    /// The last existing plan following this occurrence, whether or not a meeting claims it.
    plan: Option<usize>,
    /// Whether that plan already says everything planning would write for this candidate ([`unchanged`]).
    unchanged: bool,
}

/// What planning decided for one meeting whose plan must be written: built into a [`JoinPlan`] once the
/// candidates are no longer borrowed, so that the plan can take their strings instead of copying them.
struct Decision {
    /// The representative candidate's index.
    rep: u32,
    /// The existing plan it takes over, if any.
    found: Option<usize>,
    action: JoinAction,
    start: i64,
    url_plain: bool,
    scheduled: DateTime<Utc>,
    early: Option<DateTime<Utc>>,
}

/// Computes the changes that bring `existing` in line with `candidates`. Candidates are the occurrences in
/// the planning window `[now, now + horizon)` (by end and start); existing plans inside that window whose
/// meeting is no longer a candidate are cancelled.
///
/// A new plan is made of its candidate's strings: they are taken out of `candidates` (left empty there)
/// rather than copied, six per plan, which was a quarter of the planner's instructions over the bench's
/// passes (callgrind). The caller drops the rest of the candidates when it is done with them.
pub fn plan(
    candidates: &mut [Candidate],
    existing: &[JoinPlan],
    rules: &JoinRules,
    now: DateTime<Utc>,
    new_id: &mut dyn FnMut() -> String,
) -> Vec<Change> {
    let mut claimed = vec![false; existing.len()];
    let decisions = decide(candidates, existing, rules, now, &mut claimed);
    // With no plans yet every meeting is an insert: room for them all at once, rather than growing a vector
    // of large plans step by step. Otherwise few change, and an unchanged calendar allocates nothing.
    let mut changes = Vec::with_capacity(if existing.is_empty() {
        decisions.len()
    } else {
        0
    });
    for block in decisions.chunks(warm::BLOCK) {
        let mut sink = warm::Sink::default();
        for d in block {
            sink.candidate(&candidates[d.rep as usize], false);
        }
        sink.finish();
        for d in block {
            changes.extend(build(&mut candidates[d.rep as usize], d, existing, new_id));
        }
    }
    let horizon_end = now + Duration::hours(rules.horizon_hours.max(1));
    // Claimed plans stay; only the others are read (nearly none when re-planning an unchanged calendar).
    for (p, _) in existing.iter().zip(&claimed).filter(|(_, &kept)| !kept) {
        // Only plans in the window are judged: later ones are planned again when the window reaches them.
        let in_window = p.end > now && p.start < horizon_end;
        if in_window && p.status != JoinStatus::Cancelled && !p.status.is_final() {
            changes.push(Change::Cancel(p.id.clone()));
        }
    }
    changes
}

/// The plan a decision writes, made of its representative's strings, settled against the plan it takes
/// over. Each candidate represents at most one meeting, so nothing taken here is needed again.
fn build(
    c: &mut Candidate,
    d: &Decision,
    existing: &[JoinPlan],
    new_id: &mut dyn FnMut() -> String,
) -> Option<Change> {
    let mut start = Start::new(d.start);
    let digits = start.digits();
    let url_key = c
        .meeting_url
        .as_deref()
        .map(|u| url_key(u, d.url_plain, digits));
    let p = JoinPlan {
        id: String::new(),
        occurrence_id: std::mem::take(&mut c.occurrence_id),
        event_id: std::mem::take(&mut c.event_id),
        calendar_id: std::mem::take(&mut c.calendar_id),
        title: std::mem::take(&mut c.title),
        start: c.start,
        end: c.end,
        scheduled_join_time: d.scheduled,
        early_reminder_at: d.early,
        early_sent: false,
        status: JoinStatus::Scheduled,
        action: d.action,
        platform: c.platform.take(),
        meeting_url: c.meeting_url.take(),
        uid_key: key_with(&c.uid, digits),
        url_key,
        next_fire_at: None,
    };
    settle(p, d.found.map(|e| &existing[e]), new_id)
}

/// What becomes of a plan just built for a meeting: it takes over `old` when the meeting had one (keeping
/// its id, and where it stands while the time holds), or it is a new plan. `None` when the plan it takes
/// over already says all of it.
pub(super) fn settle(
    mut p: JoinPlan,
    old: Option<&JoinPlan>,
    new_id: &mut dyn FnMut() -> String,
) -> Option<Change> {
    let early = p.early_reminder_at;
    let Some(old) = old else {
        p.id = new_id();
        p.early_sent = early.is_none();
        p.next_fire_at = due::next_fire(&p);
        return Some(Change::Insert(p));
    };
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
    (&p != old).then_some(Change::Update(p))
}

/// Groups the wanted candidates into meetings and decides, meeting by meeting in the order of their
/// groups, which plan each takes over and whether it must be written. Marks in `claimed` every existing
/// plan that a meeting keeps, changed or not.
fn decide(
    candidates: &[Candidate],
    existing: &[JoinPlan],
    rules: &JoinRules,
    now: DateTime<Utc>,
    claimed: &mut [bool],
) -> Vec<Decision> {
    let horizon_end = now + Duration::hours(rules.horizon_hours.max(1));
    let by_occurrence = ByOccurrence::new(existing);
    let live = live::live(
        candidates,
        existing,
        &by_occurrence,
        rules,
        (now, horizon_end),
    );
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
    let mut decisions = Vec::with_capacity(if existing.is_empty() { live.len() } else { 0 });

    groups(&live).each(|group| {
        let at = |i: u32| &live[i as usize];
        // The representative: one with a link first, then the lowest occurrence id, so it is stable.
        let Some(rep) = group.iter().map(|&i| at(i)).min_by(|a, b| {
            (a.c.meeting_url.is_none(), &a.c.occurrence_id)
                .cmp(&(b.c.meeting_url.is_none(), &b.c.occurrence_id))
        }) else {
            return;
        };
        let (c, action, lead) = (rep.c, rep.action, rep.lead);
        // A plan follows its occurrence first (so a moved event keeps its plan), then its keys.
        let found = group
            .iter()
            .find_map(|&i| at(i).plan.filter(|&e| !claimed[e]))
            .or_else(|| {
                let by_key = by_key.get_or_insert_with(|| keyed(existing));
                group.iter().find_map(|&i| {
                    let l = at(i);
                    std::iter::once(l.uid)
                        .chain(l.url)
                        .find_map(|k| by_key.get(&k).copied().filter(|&e| !claimed[e]))
                })
            });
        if let Some(e) = found {
            claimed[e] = true;
            // The first pass compared the representative with its own plan, so an unchanged meeting (the
            // common case) reads neither again.
            if rep.plan == Some(e) && rep.unchanged {
                return;
            }
        }
        let (scheduled, early) = times(rep.start, lead, rules);
        if let Some(e) = found.filter(|&e| rep.plan != Some(e)) {
            if unchanged(&existing[e], c, action, scheduled, early) {
                return;
            }
        }
        decisions.push(Decision {
            rep: rep.index,
            found,
            action,
            start: rep.start.timestamp(),
            url_plain: rep.url_plain,
            scheduled,
            early,
        });
    });
    decisions
}

mod live;
#[cfg(test)]
mod reference;
mod warm;

#[cfg(test)]
mod tests {
    use super::super::{CalendarRule, EventRule, PlanFor};
    use super::*;
    use proptest::prelude::*;

    /// Random candidates for comparing the planner with [`reference::plan`]: few uids, rooms and times so
    /// duplicates are common, links in the spellings normalization folds together, every rule flag, and up
    /// to a few blocks of the first pass, so that groups span blocks.
    fn arb_cands() -> impl Strategy<Value = Vec<Candidate>> {
        let link = prop_oneof![
            Just("https://zoom.us/j/1"),
            Just("https://zoom.us/j/2"),
            Just("HTTPS://WWW.Zoom.us/j/1/"),
            Just("http://zoom.us/j/1?utm_source=x#frag"),
            Just("https://zoom.us/j/2?pwd=a&from=mail"),
            Just("meet.google.com/abc"),
            Just(" https://meet.google.com/abc "),
        ];
        let one = (
            (0..5u8, 0..3u8, 0..4u8, 0..6i64, 0..3u8),
            prop::option::weighted(0.8, link),
            (any::<bool>(), 0..40u8),
        );
        prop::collection::vec(one, 0..70).prop_map(|v| {
            let base = DateTime::from_timestamp(1_764_000_000, 0).expect("in range");
            v.into_iter()
                .enumerate()
                .map(|(i, ((uid, cal, ev, slot, title), url, (series, flags)))| {
                    let start = base + Duration::minutes(slot * 30 - 40);
                    Candidate {
                        occurrence_id: format!("occ-{}", i % 27),
                        event_id: format!("ev-{ev}"),
                        series_id: series.then(|| format!("ser-{}", ev % 2)),
                        calendar_id: format!("cal-{cal}"),
                        uid: format!("uid-{uid}"),
                        title: format!("t{title}"),
                        start,
                        end: start + Duration::minutes(30),
                        all_day: flags == 1,
                        free: flags == 2,
                        declined: flags == 3,
                        not_joinable: flags == 4,
                        platform: url.map(|_| "zoom".to_string()),
                        meeting_url: url.map(str::to_string),
                    }
                })
                .collect()
        })
    }

    fn arb_rules() -> impl Strategy<Value = JoinRules> {
        let cal = (
            any::<bool>(),
            prop::option::of(0..20i64),
            prop::option::of(any::<bool>()),
        );
        let ev = prop_oneof![
            Just(EventRule::Skip),
            Just(EventRule::AutoJoin),
            Just(EventRule::Notify)
        ];
        (
            (
                0..20i64,
                prop::option::of(0..30i64),
                any::<bool>(),
                any::<bool>(),
            ),
            (any::<bool>(), any::<bool>(), any::<bool>(), 1..4i64),
            prop::collection::btree_map(0..3u8, cal, 0..3),
            prop::collection::btree_map(0..6u8, ev, 0..3),
        )
            .prop_map(
                |((lead, early, all_timed, auto), (sd, sa, sf, horizon), cals, evs)| JoinRules {
                    lead_minutes: lead - 2,
                    early_reminder_minutes: early,
                    plan_for: if all_timed {
                        PlanFor::AllTimed
                    } else {
                        PlanFor::Meetings
                    },
                    skip_declined: sd,
                    skip_all_day: sa,
                    skip_free: sf,
                    auto_join: auto,
                    horizon_hours: horizon,
                    calendars: cals
                        .into_iter()
                        .map(|(k, (enabled, lead_minutes, auto_join))| {
                            (
                                format!("cal-{k}"),
                                CalendarRule {
                                    enabled,
                                    lead_minutes,
                                    auto_join,
                                },
                            )
                        })
                        .collect(),
                    events: evs
                        .into_iter()
                        .map(|(k, r)| {
                            (
                                if k < 4 {
                                    format!("ev-{k}")
                                } else {
                                    format!("ser-{}", k - 4)
                                },
                                r,
                            )
                        })
                        .collect(),
                    ..JoinRules::default()
                },
            )
    }

    /// Plans as a previous pass left them and as the due loop moved them on: some dropped, duplicated,
    /// notified, snoozed, cancelled, joined, with reminders sent, or with other titles and times.
    fn aged(plans: Vec<JoinPlan>, edits: &[(u8, u8)]) -> Vec<JoinPlan> {
        let mut out = Vec::new();
        for (i, mut p) in plans.into_iter().enumerate() {
            let (what, how) = edits.get(i).copied().unwrap_or((0, 0));
            let at = p.start - Duration::minutes(i64::from(how));
            match what {
                1 => continue,
                2 => p.status = JoinStatus::Notified,
                3 => {
                    p.status = JoinStatus::Snoozed;
                    p.next_fire_at = Some(at);
                }
                4 => p.status = JoinStatus::Cancelled,
                5 => p.status = JoinStatus::Joined,
                6 => p.early_sent = !p.early_sent,
                7 => p.title.push('!'),
                8 => {
                    p.start += Duration::minutes(30);
                    p.scheduled_join_time = at;
                }
                9 => p.early_reminder_at = Some(at),
                10 => out.push(JoinPlan {
                    id: format!("{}-copy", p.id),
                    ..p.clone()
                }),
                11 => p.occurrence_id = format!("occ-{how}"),
                _ => {}
            }
            out.push(p);
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// The planner's shortcuts (hashed keys, the no-change fast path, keys built without format!) change
        /// nothing: on random calendars, rules and aged plans it gives the reference's changes, in order.
        #[test]
        fn the_planner_gives_the_straightforward_planners_changes(
            before in arb_cands(),
            after in arb_cands(),
            rules in arb_rules(),
            edits in prop::collection::vec((0..14u8, 0..60u8), 0..30),
            later in 0..90i64,
        ) {
            let now = DateTime::from_timestamp(1_764_000_000, 0).expect("in range");
            let ids = || {
                let mut n = 0;
                move || {
                    n += 1;
                    format!("p{n}")
                }
            };
            let first = plan(&mut before.clone(), &[], &rules, now, &mut ids());
            prop_assert_eq!(
                &first,
                &reference::plan(&before, &[], &rules, now, &mut ids()),
                "planning from nothing"
            );
            let plans: Vec<JoinPlan> = first
                .into_iter()
                .filter_map(|c| match c {
                    Change::Insert(p) => Some(p),
                    _ => None,
                })
                .collect();
            let existing = aged(plans, &edits);
            let now = now + Duration::minutes(later);
            for cands in [&before, &after] {
                prop_assert_eq!(
                    plan(&mut cands.clone(), &existing, &rules, now, &mut ids()),
                    reference::plan(cands, &existing, &rules, now, &mut ids()),
                    "planning again over existing plans"
                );
            }
        }
    }

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
        fn a_url_taken_as_already_normal_is_its_normal_form(
            url in "(https?://|HTTPS://|\\s)?(www\\.|WWW\\.)?[a-zA-Z0-9./#?-]{0,30}(\\s|\u{a0}|\u{2003}|/)?",
        ) {
            if let Some(rest) = already_normal(&url) {
                prop_assert_eq!(rest, normalize_url(&url), "the shortcut may only skip work normalization would not do");
            }
        }

        #[test]
        fn the_wordwise_byte_search_finds_what_a_scan_finds(b in prop::collection::vec(any::<u8>(), 0..40), x in any::<u8>(), y in any::<u8>()) {
            prop_assert_eq!(
                has_either(&b, x, y),
                b.iter().any(|&t| t == x || t == y),
                "the eight-bytes-a-step search is only a faster scan"
            );
        }

        #[test]
        fn minutes_before_is_chronos_subtraction(
            ts in -5_000_000_000i64..5_000_000_000i64,
            nanos in prop_oneof![Just(0u32), 0..2_000_000_000u32],
            minutes in prop_oneof![0..3_000i64, any::<i32>().prop_map(i64::from)],
        ) {
            // A leap second's nanoseconds (>= 1e9) exist only in a minute's last second.
            let nanos = if ts.rem_euclid(60) == 59 { nanos } else { nanos % 1_000_000_000 };
            let start = DateTime::from_timestamp(ts, nanos).expect("in range");
            prop_assert_eq!(
                minutes_before(start, minutes),
                start - Duration::minutes(minutes),
                "the same-day shortcut must give chrono's answer, leap seconds and day changes included"
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

    /// The first pass compares each candidate with its own occurrence's plan; a meeting that takes over the
    /// plan of another of its copies must compare that plan with its representative instead.
    #[test]
    fn a_plan_taken_over_from_another_copy_is_compared_with_the_representative() {
        let now = DateTime::from_timestamp(1_764_000_000, 0).expect("in range");
        let start = now + Duration::hours(1);
        let meeting = |occ: &str, uid: &str, room: u8| Candidate {
            occurrence_id: occ.into(),
            event_id: format!("{occ}-event"),
            series_id: None,
            calendar_id: "cal".into(),
            uid: uid.into(),
            title: "Standup".into(),
            start,
            end: start + Duration::minutes(30),
            all_day: false,
            free: false,
            declined: false,
            not_joinable: false,
            platform: Some("zoom".into()),
            meeting_url: Some(format!("https://zoom.us/j/{room}")),
        };
        let rules = JoinRules::default();
        let ids = || {
            let mut n = 0;
            move || {
                n += 1;
                format!("p{n}")
            }
        };
        // Two meetings, two plans.
        let before = [meeting("b-occ", "u1", 1), meeting("a-occ", "u2", 2)];
        let existing: Vec<JoinPlan> = plan(&mut before.clone(), &[], &rules, now, &mut ids())
            .into_iter()
            .filter_map(|c| match c {
                Change::Insert(p) => Some(p),
                _ => None,
            })
            .collect();
        // Then the second turns out to be a copy of the first (same uid): one meeting, represented by the
        // lower occurrence id, which takes over the plan of the copy met first. The representative's own
        // plan still says all of it, but that is not the plan the meeting keeps.
        let after = [meeting("b-occ", "u1", 1), meeting("a-occ", "u1", 2)];
        let changes = plan(&mut after.clone(), &existing, &rules, now, &mut ids());
        assert_eq!(
            changes,
            reference::plan(&after, &existing, &rules, now, &mut ids()),
            "the planner agrees with the reference"
        );
        assert!(
            matches!(&changes[..], [Change::Update(p), Change::Cancel(gone)]
                if p.id == existing[0].id && p.occurrence_id == "a-occ" && *gone == existing[1].id),
            "the first copy's plan now follows the representative, and the representative's own plan goes: {changes:?}"
        );
    }

    #[test]
    fn an_occurrence_whose_hash_leads_to_another_plan_is_still_found() {
        let now = DateTime::from_timestamp(1_764_000_000, 0).expect("in range");
        let plan_for = |i: usize, occ: &str| JoinPlan {
            id: format!("p{i}"),
            occurrence_id: occ.into(),
            event_id: "e".into(),
            calendar_id: "c".into(),
            title: "t".into(),
            start: now,
            end: now,
            scheduled_join_time: now,
            early_reminder_at: None,
            early_sent: true,
            status: JoinStatus::Scheduled,
            action: JoinAction::Notify,
            platform: None,
            meeting_url: None,
            uid_key: format!("u{i}|0"),
            url_key: None,
            next_fire_at: None,
        };
        let plans = [plan_for(0, "a"), plan_for(1, "b"), plan_for(2, "a")];
        let by = ByOccurrence::new(&plans);
        assert_eq!(by.last("a"), Some(2), "the last plan with an id wins");
        assert_eq!(by.last("x"), None, "an id no plan follows has none");
        // As if "a" hashed to where "b" is stored: the scan must still find the last "a".
        assert_eq!(
            by.confirmed(1, "a"),
            Some(2),
            "a hash shared by two ids never hands over the other id's plan"
        );
        assert_eq!(
            by.confirmed(1, "x"),
            None,
            "nor invents a plan for an id none follows"
        );
    }

    #[test]
    fn a_stored_key_spells_its_start_as_format_does() {
        for start in [0, 7, -1, 1_764_000_000, -86_400, i64::MAX, i64::MIN] {
            assert_eq!(
                key_at("uid", start),
                format!("uid|{start}"),
                "keys written by earlier versions (with format!) must still match"
            );
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
