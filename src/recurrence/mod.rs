//! Recurrence: a series master (DTSTART + RRULEs, RDATEs, EXDATEs) and its overrides, expanded into the
//! instances that overlap a window, in absolute time (RFC 5545 §3.8.5).
//!
//! Concepts:
//! - The *frame* of a series is the zone its wall-clock values are read in: the DTSTART zone for a zoned
//!   series, UTC for a UTC series, and `floating_zone` (the user's zone) for floating and all-day series.
//!   Rules are expanded on wall-clock values in that frame, not on instants: a 09:00 America/New_York
//!   meeting stays 09:00 local across DST (RFC 5545 §3.3.10: the time of day is derived from DTSTART).
//!   The `rrule` crate is fed those wall-clock values carried as UTC, so it does calendar arithmetic only
//!   and never applies DST itself (which avoids its duplicate around spring-forward); each value is then
//!   read with [`Zone::resolve`], which moves a nonexistent time forward and takes the earlier of two
//!   ambiguous ones (RFC 5545 §3.3.5).
//! - The *recurrence id* of an instance is its original start as the rule produced it, as a [`When`] of
//!   the same kind as DTSTART. Overrides, EXDATEs and RDATEs are matched by instant
//!   (`to_utc(floating_zone)`), because a RECURRENCE-ID or an EXDATE may be written in UTC while DTSTART is
//!   zoned. Two wall-clock values that land on the same instant (an HOURLY rule's 02:00 and 03:00 on a
//!   spring-forward day) are one instance: the one whose wall-clock time really exists is kept.
//! - DTSTART is always the first instance, and counts towards COUNT (RFC 5545 §3.8.5.3), even when it does
//!   not match the rule.
//! - UNTIL may be UTC (`Z`), local (no `Z`: against §3.3.10 when DTSTART has a zone, but common in real
//!   files, and refused by rrule 0.14) or a date (the whole day). It is converted into the frame before
//!   rrule sees it; a UTC UNTIL is re-checked against each instance's instant. COUNT with UNTIL (forbidden,
//!   but written by some producers) ends at whichever comes first; [`validate_rrule`] refuses it.
//! - A value written in the frame itself (an RDATE, a RECURRENCE-ID in DTSTART's zone) keeps its wall-clock
//!   time as written, even inside a DST gap, so it matches the rule's own value.
//! - An override replaces one instance (its start, end and data); a cancelled one removes it. An override
//!   with RANGE=THISANDFUTURE (RFC 5545 §3.8.4.4, §3.2.13) also applies to every later instance: each is
//!   shifted by the override's start delta, in wall-clock terms, and takes the override's duration. The
//!   latest such override at or before an instance wins; an override of that very instance wins over both.
//!
//! Invariants of [`Expansion::instances`]: sorted by (start, recurrence id); each recurrence id (instant)
//! once; each overlaps the window (`end > window.start && start < window.end`, or a zero-length instance
//! with its start in `[window.start, window.end)`); at most `max_instances`.
//!
//! Bounds: nothing here loops forever or allocates without bound. A rule without an end is cut at the
//! window end; iteration is lazy and stops past it. A rule with no COUNT is restarted from a
//! period-aligned point just before the window (with every part RFC 5545 derives from DTSTART made
//! explicit, so its instances are identical), and a MINUTELY series that began in 1990 costs as much as
//! one that began yesterday. A COUNT rule must be counted from DTSTART; its iteration is bounded by COUNT
//! and by a step budget (100,000 values per call). Each rule stops after `max_instances` values that can
//! reach the window, and the result is then cut to `max_instances` with `capped` set and a warning. The
//! rrule crate's own iteration limit (a rule that stops matching) ends a rule with a warning, not a panic.
//! Windows are clamped to the years 1..9000.
//!
//! Lenient reading: a rule that breaks §3.3.10 in a way real files do (a BYxxx part its FREQ forbids, an
//! INTERVAL over 65535) is expanded by `lenient.rs` as a filter on what its FREQ produces, with a warning;
//! a rule that cannot be read at all is dropped with a warning, and the series keeps at least DTSTART. So
//! [`expand`] does not fail on a stored event: a stored event never vanishes because of its rule.

mod lenient;
pub(crate) mod rule;

use crate::model::Recurrence;
use crate::time::{When, Zone};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rule::{carrier, Rule, Until};

use rrule::Frequency;

/// A series master, as far as expansion cares.
#[derive(Clone, Copy, Debug)]
pub struct Series<'a> {
    pub start: When,
    pub end: When,
    pub recurrence: &'a Recurrence,
}

/// An override of one instance (RECURRENCE-ID), or of it and every later one (RANGE=THISANDFUTURE).
#[derive(Clone, Debug)]
pub struct Override {
    pub recurrence_id: When,
    pub this_and_future: bool,
    pub start: When,
    pub end: When,
    /// A cancelled override (STATUS:CANCELLED, a provider's cancelled instance) removes the instance.
    pub cancelled: bool,
}

/// The half-open span [start, end) whose overlapping instances are wanted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// One instance of a series in absolute time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    /// The instance's original start as the rule produced it: its RECURRENCE-ID.
    pub recurrence_id: When,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The index into the overrides slice of the override that shapes this instance, if any.
    pub override_index: Option<usize>,
}

/// The instances of a series inside a window.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expansion {
    /// Sorted by (start, recurrence_id), each recurrence_id once.
    pub instances: Vec<Instance>,
    /// True when `max_instances` (or, for a COUNT rule walked from a distant DTSTART, the step budget) cut
    /// the expansion short; `warnings` then says so.
    pub capped: bool,
    pub warnings: Vec<String>,
}

/// Why a rule could not be expanded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RecurrenceError {
    /// The rule part at fault ("FREQ", "BYDAY", "UNTIL", ...), when one is.
    pub part: Option<String>,
    pub message: String,
}

/// How many values the rrule iterators may produce in one call of [`expand`], in total. A COUNT rule has to
/// be walked from DTSTART (the n-th instance cannot be found without counting the ones before it); this
/// keeps a COUNT=4294967295 SECONDLY rule from stalling a sync (about 0.1 s in a release build, where rrule
/// takes about 1 µs per SECONDLY value). No real COUNT rule comes near it (a daily one would need 270
/// years).
const STEP_BUDGET: u64 = 100_000;

/// How far before the window's local start a wall-clock value can still land inside the window: by the
/// length of a gap (spring-forward) that ended shortly before it, since a value in a gap moves forward
/// (RFC 5545 §3.3.5). Reading the offset a day earlier finds such a gap, even Samoa's skipped day in 2011.
fn slack_before(frame: Zone, t: DateTime<Utc>) -> Duration {
    let jump = frame.offset_seconds(t) - frame.offset_seconds(t - Duration::hours(26));
    Duration::minutes(1) + Duration::seconds(i64::from(jump.max(0)))
}

/// How far after the window's local end a wall-clock value can still land inside the window: when the end
/// falls in the second pass of a repeated hour (fall-back), later values of the first pass resolve earlier.
fn slack_after(frame: Zone, t: DateTime<Utc>) -> Duration {
    let jump = frame.offset_seconds(t - Duration::hours(26)) - frame.offset_seconds(t);
    Duration::minutes(1) + Duration::seconds(i64::from(jump.max(0)))
}

/// A value's wall-clock time in the series' frame. A value written in the frame itself (the same zone, or
/// floating for a floating series) keeps its wall-clock time as written, even one inside a DST gap, so that
/// it matches the rule's own values; anything else is converted through its instant.
fn in_frame(w: &When, series_start: &When, frame: Zone, fz: Zone) -> NaiveDateTime {
    match (series_start, w) {
        (When::Zoned { zone: a, .. }, When::Zoned { zone: b, local }) if a == b => *local,
        (When::Floating { .. }, When::Floating { local }) => *local,
        (When::Date { .. }, When::Date { date }) => date.and_time(NaiveTime::MIN),
        (When::Utc { .. }, When::Utc { at }) => at.naive_utc(),
        _ => frame.local(w.to_utc(fz)),
    }
}

/// The earliest instant a window may start at (1 January of year 1).
fn earliest() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(1, 1, 1).map_or(DateTime::<Utc>::MIN_UTC, |d| {
        d.and_time(NaiveTime::MIN).and_utc()
    })
}

/// The latest instant a window may end at (1 January of year 9000).
fn latest() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(9000, 1, 1).map_or(DateTime::<Utc>::MAX_UTC, |d| {
        d.and_time(NaiveTime::MIN).and_utc()
    })
}

/// How an instance's end follows from its start.
#[derive(Clone, Copy, Debug)]
enum Span {
    /// All-day: a nominal number of days, so an all-day event on a DST day still ends at local midnight
    /// (RFC 5545 §3.3.6: a day is nominal, not 24 hours).
    Days(i64),
    /// Timed: the exact duration of DTSTART..DTEND applies to every instance (RFC 5545 §3.8.5.3).
    Exact(Duration),
}

impl Span {
    fn of(start: &When, end: &When, fz: Zone) -> Span {
        match (start, end) {
            (When::Date { date: s }, When::Date { date: e }) => {
                Span::Days((*e - *s).num_days().max(0))
            }
            _ => Span::Exact((end.to_utc(fz) - start.to_utc(fz)).max(Duration::zero())),
        }
    }
    fn as_duration(self) -> Duration {
        match self {
            Span::Days(d) => Duration::days(d),
            Span::Exact(d) => d,
        }
    }
}

/// Everything expansion needs, converted once into the series' frame.
struct Plan {
    start: When,
    /// The zone the series' wall-clock values are read in.
    frame: Zone,
    date: bool,
    /// DTSTART's wall-clock value in the frame.
    anchor: NaiveDateTime,
    rules: Vec<Rule>,
    rdates: Vec<NaiveDateTime>,
    ex_instants: Vec<DateTime<Utc>>,
    /// EXDATEs given as dates against a timed series (or the reverse): every instance on that local day.
    ex_days: Vec<NaiveDate>,
}

/// Wall-clock values with their instants, each with the UTC UNTIL to re-check it against (see
/// [`Plan::until_in_frame`]).
type RuleValues = Vec<(NaiveDateTime, DateTime<Utc>, Option<DateTime<Utc>>)>;

/// Values generated over a range of the frame's wall clock.
struct Generated {
    /// (instant, wall-clock value), sorted by instant, unique by instant.
    items: Vec<(DateTime<Utc>, NaiveDateTime)>,
    /// Set when a limit stopped generation: nothing after this wall-clock value is known.
    cut_at: Option<NaiveDateTime>,
}

impl Plan {
    fn new(
        series: &Series<'_>,
        fz: Zone,
        warnings: &mut Vec<String>,
    ) -> Result<Plan, RecurrenceError> {
        let start = series.start;
        let frame = match start {
            When::Zoned { zone, .. } => zone,
            When::Utc { .. } => Zone::UTC,
            When::Date { .. } | When::Floating { .. } => fz,
        };
        let date = start.is_date();
        let anchor = start.naive();
        let rec = series.recurrence;
        let mut rules = Vec::new();
        let mut first_error = None;
        for text in &rec.rrules {
            match Rule::parse(text, false) {
                Ok(r) => {
                    for part in &r.ignored {
                        warnings.push(format!("RRULE {text:?}: ignored unsupported part {part}"));
                    }
                    for note in &r.off_spec {
                        warnings.push(format!("RRULE {text:?}: {note}"));
                    }
                    rules.push(r);
                }
                Err(e) => {
                    warnings.push(format!("RRULE {text:?} skipped: {}", e.message));
                    first_error.get_or_insert(e);
                }
            }
        }
        // A series whose rules are all unreadable still has DTSTART, its first instance (RFC 5545
        // §3.8.5.3): a stored event never vanishes because its rule is broken.
        if rules.is_empty() && rec.rdates.is_empty() && first_error.is_some() {
            warnings.push("no RRULE could be read; only the first occurrence is shown".into());
        }
        let to_frame = |w: &When| -> NaiveDateTime {
            match (date, w) {
                (true, other) => in_frame(other, &start, frame, fz)
                    .date()
                    .and_time(NaiveTime::MIN),
                // An RDATE given as a date for a timed series: that day at DTSTART's time of day.
                (false, When::Date { date: d }) => d.and_time(anchor.time()),
                (false, other) => in_frame(other, &start, frame, fz),
            }
        };
        let mut rdates: Vec<NaiveDateTime> = rec.rdates.iter().map(to_frame).collect();
        rdates.sort();
        rdates.dedup();
        let mut ex_instants = Vec::new();
        let mut ex_days = Vec::new();
        for ex in &rec.exdates {
            match (date, ex) {
                (false, When::Date { date: d }) => ex_days.push(*d),
                (true, When::Date { .. }) | (false, _) => ex_instants.push(ex.to_utc(fz)),
                (true, other) => ex_days.push(frame.local(other.to_utc(fz)).date()),
            }
        }
        ex_instants.sort();
        ex_days.sort();
        Ok(Plan {
            start,
            frame,
            date,
            anchor,
            rules,
            rdates,
            ex_instants,
            ex_days,
        })
    }

    /// The instant of a wall-clock value of this series (RFC 5545 §3.3.5 for gaps and overlaps).
    fn instant(&self, n: NaiveDateTime) -> DateTime<Utc> {
        if self.date {
            self.frame.resolve(n.date().and_time(NaiveTime::MIN))
        } else {
            self.frame.resolve(n)
        }
    }

    fn excluded(&self, t: DateTime<Utc>, n: NaiveDateTime) -> bool {
        self.ex_instants.binary_search(&t).is_ok() || self.ex_days.binary_search(&n.date()).is_ok()
    }

    /// UNTIL in the frame's wall clock, and the instant bound to re-check when it was written in UTC.
    fn until_in_frame(&self, u: Until) -> (NaiveDateTime, Option<DateTime<Utc>>) {
        match (u, self.date) {
            (Until::Date(d), true) => (d.and_time(NaiveTime::MIN), None),
            // A date UNTIL on a timed series includes that whole day.
            (Until::Date(d), false) => (
                d.and_hms_opt(23, 59, 59)
                    .unwrap_or(d.and_time(NaiveTime::MIN)),
                None,
            ),
            (Until::Local(t), true) => (t.date().and_time(NaiveTime::MIN), None),
            // A local UNTIL (no Z) with a zoned DTSTART breaks RFC 5545 §3.3.10 but is common; it is read in
            // the series' own zone, which is what its writer meant.
            (Until::Local(t), false) => (t, None),
            (Until::Utc(t), true) => (self.frame.local(t).date().and_time(NaiveTime::MIN), None),
            (Until::Utc(t), false) => (self.frame.local(t), Some(t)),
        }
    }

    /// Generates the set (DTSTART, rules, RDATEs, minus EXDATEs) over the wall-clock range [lo, hi].
    /// Each rule stops after `limit` values at or after `count_from`.
    fn generate(
        &self,
        lo: NaiveDateTime,
        hi: NaiveDateTime,
        count_from: DateTime<Utc>,
        limit: usize,
        budget: &mut u64,
        warnings: &mut Vec<String>,
    ) -> Generated {
        let mut naive: RuleValues = Vec::new();
        let mut cut_at: Option<NaiveDateTime> = None;
        if self.anchor >= lo && self.anchor <= hi {
            naive.push((self.anchor, self.instant(self.anchor), None));
        }
        for (i, r) in self.rules.iter().enumerate() {
            let (values, cut) =
                self.run_rule(r, i == 0, lo, hi, count_from, limit, budget, warnings);
            if let Some(c) = cut {
                cut_at = Some(cut_at.map_or(c, |p| p.min(c)));
            }
            naive.extend(values);
        }
        for &n in &self.rdates {
            if n >= lo && n <= hi {
                naive.push((n, self.instant(n), None));
            }
        }
        let mut keyed: Vec<(DateTime<Utc>, NaiveDateTime)> = Vec::with_capacity(naive.len());
        for (n, t, until) in naive {
            if cut_at.is_some_and(|c| n > c) || until.is_some_and(|u| t > u) || self.excluded(t, n)
            {
                continue;
            }
            keyed.push((t, n));
        }
        keyed.sort_unstable();
        // Values on the same instant (a DST gap moved one onto another) are one instance; keep the one
        // whose wall-clock time really exists, so its recurrence id is the time a provider would write.
        let mut items: Vec<(DateTime<Utc>, NaiveDateTime)> = Vec::with_capacity(keyed.len());
        for (t, n) in keyed {
            match items.last_mut() {
                Some(last) if last.0 == t => {
                    if !self.date && self.frame.local(t) == n {
                        last.1 = n;
                    }
                }
                _ => items.push((t, n)),
            }
        }
        Generated { items, cut_at }
    }

    /// Runs one rule over [lo, hi]. Returns its wall-clock values (with the UTC UNTIL to re-check) and, when
    /// a limit stopped it, the last value produced.
    #[allow(clippy::too_many_arguments)]
    fn run_rule(
        &self,
        r: &Rule,
        first: bool,
        lo: NaiveDateTime,
        hi: NaiveDateTime,
        count_from: DateTime<Utc>,
        limit: usize,
        budget: &mut u64,
        warnings: &mut Vec<String>,
    ) -> (RuleValues, Option<NaiveDateTime>) {
        if r.needs_filter() {
            return self.run_lenient(r, first, lo, hi, count_from, limit, budget, warnings);
        }
        let mut out = Vec::new();
        let (until, until_utc) = match r.until {
            Some(u) => {
                let (n, t) = self.until_in_frame(u);
                (Some(n), t)
            }
            None => (None, None),
        };
        // Everything the rule makes is at or before UNTIL: a rule that ended before the range, or before
        // DTSTART, contributes nothing (DTSTART itself is added by the caller).
        if until.is_some_and(|u| u < lo || u < self.anchor) {
            return (out, None);
        }
        let start = if r.count.is_none() {
            rebase(r, self.anchor, lo).unwrap_or(self.anchor)
        } else {
            self.anchor
        };
        let built = match r.to_rrule(self.anchor, start, r.count, until) {
            Ok(b) => b,
            Err(e) => {
                warnings.push(format!("RRULE skipped: {}", e.message));
                return (out, None);
            }
        };
        // `limit()` turns on rrule's own guard against a rule that never matches again (it stops after
        // 100,000 empty periods instead of looping forever).
        let set = rrule::RRuleSet::new(carrier(start)).rrule(built).limit();
        let mut produced_in_range = 0usize;
        let mut last: Option<(NaiveDateTime, bool)> = None;
        let mut ended = true;
        let mut reached_hi = false;
        let mut cut = None;
        for dt in &set {
            if *budget == 0 {
                warnings.push(format!(
                    "RRULE stopped after {STEP_BUDGET} steps before reaching the window end; later instances \
                     are not shown"
                ));
                ended = false;
                cut = Some(last.map_or(lo, |l| l.0));
                break;
            }
            *budget -= 1;
            let n = dt.naive_utc();
            if n > hi {
                ended = false;
                reached_hi = true;
                break;
            }
            let kept = n >= lo;
            if kept {
                let t = self.instant(n);
                out.push((n, t, until_utc));
                if t >= count_from {
                    produced_in_range += 1;
                }
            }
            last = Some((n, kept));
            if produced_in_range > limit {
                ended = false;
                cut = Some(n);
                break;
            }
        }
        if ended {
            // DTSTART counts as the first of COUNT instances even when the rule does not produce it
            // (RFC 5545 §3.8.5.3). Then the rule's own COUNT-th value is one too many.
            if let (Some(_), true) = (r.count, first) {
                if !self.rule_produces_anchor(r) {
                    if let Some((_, true)) = last {
                        out.pop();
                    }
                }
            }
            if r.count.is_none() && r.until.is_none() && !reached_hi {
                warnings.push(format!(
                    "a {} rule stopped producing instances after {}: the rule matches no later date \
                     (or hit the iteration limit)",
                    r.freq,
                    last.map_or_else(|| "its start".to_string(), |l| l.0.to_string())
                ));
            }
        }
        (out, cut)
    }

    /// Whether the rule's first value is DTSTART itself (DTSTART is synchronized with the rule).
    fn rule_produces_anchor(&self, r: &Rule) -> bool {
        match r.to_rrule(self.anchor, self.anchor, Some(1), None) {
            Ok(b) => {
                let set = rrule::RRuleSet::new(carrier(self.anchor)).rrule(b).limit();
                let first = set.into_iter().next();
                first.is_some_and(|d| d.naive_utc() == self.anchor)
            }
            Err(_) => false,
        }
    }
}

/// A later start for rule `r` (which has no COUNT) that is aligned to its FREQ × INTERVAL period grid and at
/// or before `target`, so that iteration from there yields exactly the original instances from that point
/// on. None when there is no such point after `anchor`.
fn rebase(r: &Rule, anchor: NaiveDateTime, target: NaiveDateTime) -> Option<NaiveDateTime> {
    use chrono::{Datelike, Timelike};
    if target <= anchor {
        return None;
    }
    let n = i64::try_from(r.interval.max(1)).unwrap_or(i64::MAX);
    let midnight = |d: NaiveDate| d.and_time(NaiveTime::MIN);
    let aligned = match r.freq {
        Frequency::Yearly => {
            let k = i64::from(target.year() - anchor.year()) / n;
            let year = i64::from(anchor.year()) + k * n;
            if k <= 0 {
                return None;
            }
            NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, 1, 1).map(midnight)
        }
        Frequency::Monthly => {
            let m0 = i64::from(anchor.year()) * 12 + i64::from(anchor.month0());
            let m1 = i64::from(target.year()) * 12 + i64::from(target.month0());
            let k = (m1 - m0) / n;
            let m = m0 + k * n;
            let year = i32::try_from(m.div_euclid(12)).ok()?;
            let month = u32::try_from(m.rem_euclid(12)).ok()? + 1;
            if k <= 0 {
                return None;
            }
            NaiveDate::from_ymd_opt(year, month, 1).map(midnight)
        }
        Frequency::Weekly => {
            // Weeks start on WKST (RFC 5545 §3.3.10): align to the WKST day of the anchor's week.
            let back = (7 + i64::from(anchor.weekday().num_days_from_monday())
                - i64::from(r.wkst.num_days_from_monday()))
                % 7;
            let week0 = anchor.date() - Duration::days(back);
            let weeks = (target.date() - week0).num_days().div_euclid(7);
            let k = weeks / n;
            (k > 0).then(|| midnight(week0 + Duration::days(k * n * 7)))
        }
        Frequency::Daily => {
            let k = (target.date() - anchor.date()).num_days() / n;
            (k > 0).then(|| midnight(anchor.date() + Duration::days(k * n)))
        }
        Frequency::Hourly => {
            let h0 = anchor.with_minute(0)?.with_second(0)?.with_nanosecond(0)?;
            let k = (target - h0).num_hours() / n;
            (k > 0).then(|| h0 + Duration::hours(k * n))
        }
        Frequency::Minutely => {
            let m0 = anchor.with_second(0)?.with_nanosecond(0)?;
            let k = (target - m0).num_minutes() / n;
            (k > 0).then(|| m0 + Duration::minutes(k * n))
        }
        Frequency::Secondly => {
            let s0 = anchor.with_nanosecond(0)?;
            let k = (target - s0).num_seconds() / n;
            (k > 0).then(|| s0 + Duration::seconds(k * n))
        }
    };
    aligned.filter(|a| *a > anchor && *a <= target)
}

fn overlaps(start: DateTime<Utc>, end: DateTime<Utc>, w: Window) -> bool {
    if end > start {
        end > w.start && start < w.end
    } else {
        start >= w.start && start < w.end
    }
}

/// A RANGE=THISANDFUTURE override, prepared.
struct RangeOverride {
    index: usize,
    rid: DateTime<Utc>,
    /// The start delta in the frame's wall clock, so later instances keep their new local time across DST.
    shift: Duration,
    span: Span,
    cancelled: bool,
}

/// Expands a series into the instances overlapping `window`, in absolute time. Dates and floating times are
/// read in `floating_zone`. At most `max_instances` are produced.
pub fn expand(
    series: &Series<'_>,
    overrides: &[Override],
    window: Window,
    floating_zone: Zone,
    max_instances: usize,
) -> Result<Expansion, RecurrenceError> {
    let fz = floating_zone;
    let mut warnings = Vec::new();
    let plan = Plan::new(series, fz, &mut warnings)?;
    // Far beyond any calendar (and beyond what the rrule crate iterates, ±10,000 years), a window only risks
    // arithmetic overflow: clamp it.
    let window = Window {
        start: window.start.clamp(earliest(), latest()),
        end: window.end.clamp(earliest(), latest()),
    };
    if window.end <= window.start {
        return Ok(Expansion {
            instances: vec![],
            capped: false,
            warnings,
        });
    }
    let span = Span::of(&series.start, &series.end, fz);
    if series.end.to_utc(fz) < series.start.to_utc(fz) {
        warnings.push(
            "the series ends before it starts; its instances are treated as zero-length".into(),
        );
    }

    // Overrides, by the instant of their RECURRENCE-ID.
    let mut exact: Vec<(DateTime<Utc>, usize)> = Vec::new();
    let mut ranges: Vec<RangeOverride> = Vec::new();
    for (index, o) in overrides.iter().enumerate() {
        let rid = o.recurrence_id.to_utc(fz);
        if o.this_and_future {
            let shift = in_frame(&o.start, &plan.start, plan.frame, fz)
                - in_frame(&o.recurrence_id, &plan.start, plan.frame, fz);
            ranges.push(RangeOverride {
                index,
                rid,
                shift,
                span: Span::of(&o.start, &o.end, fz),
                cancelled: o.cancelled,
            });
        } else {
            exact.push((rid, index));
        }
    }
    // A later override of the same instance replaces an earlier one.
    exact.sort_by_key(|&(rid, index)| (rid, std::cmp::Reverse(index)));
    exact.dedup_by_key(|e| e.0);
    ranges.sort_by_key(|r| (r.rid, r.index));

    // The wall-clock range whose instances can reach the window: back by the longest duration and the
    // largest forward shift, forward by the largest backward shift.
    let longest = ranges
        .iter()
        .map(|r| r.span.as_duration())
        .fold(span.as_duration(), Duration::max);
    let max_fwd_shift = ranges
        .iter()
        .map(|r| r.shift)
        .fold(Duration::zero(), Duration::max);
    let max_back_shift = ranges
        .iter()
        .map(|r| -r.shift)
        .fold(Duration::zero(), Duration::max);
    let w_lo = plan.frame.local(window.start);
    let w_hi = plan.frame.local(window.end);
    let lo = w_lo
        - longest.min(Duration::days(366 * 100))
        - max_fwd_shift
        - slack_before(plan.frame, window.start);
    let hi = w_hi + max_back_shift + slack_after(plan.frame, window.end);
    // Values that start before this cannot overlap the window, so only values from here on count towards
    // the cap.
    let count_from = window.start - longest;
    let limit = max_instances.saturating_add(exact.len()).saturating_add(1);
    let mut budget = STEP_BUDGET;
    let generated = plan.generate(lo, hi, count_from, limit, &mut budget, &mut warnings);

    let end_of = |n: NaiveDateTime, start: DateTime<Utc>, s: Span| -> DateTime<Utc> {
        match s {
            Span::Days(d) => plan.instant(n + Duration::days(d)),
            Span::Exact(d) => start + d,
        }
    };
    // The start, end and shaping override of the instance with this recurrence id; None when cancelled.
    let shape = |t: DateTime<Utc>,
                 n: NaiveDateTime|
     -> Option<(DateTime<Utc>, DateTime<Utc>, Option<usize>)> {
        if let Ok(i) = exact.binary_search_by_key(&t, |e| e.0) {
            let index = exact[i].1;
            let o = &overrides[index];
            if o.cancelled {
                return None;
            }
            let s = o.start.to_utc(fz);
            return Some((s, o.end.to_utc(fz).max(s), Some(index)));
        }
        let at = ranges.partition_point(|r| r.rid <= t);
        if at > 0 {
            let r = &ranges[at - 1];
            if r.cancelled {
                return None;
            }
            let o = &overrides[r.index];
            if r.rid == t {
                let s = o.start.to_utc(fz);
                return Some((s, o.end.to_utc(fz).max(s), Some(r.index)));
            }
            let moved = n + r.shift;
            let s = plan.instant(moved);
            return Some((s, end_of(moved, s, r.span), Some(r.index)));
        }
        Some((t, end_of(n, t, span), None))
    };

    let mut found: Vec<(DateTime<Utc>, Instance)> = Vec::new();
    for &(t, n) in &generated.items {
        if let Some((start, end, override_index)) = shape(t, n) {
            if overlaps(start, end, window) {
                found.push((
                    t,
                    Instance {
                        recurrence_id: plan.start.with_naive(n),
                        start,
                        end,
                        override_index,
                    },
                ));
            }
        }
    }
    // An override can move an instance from far outside the window into it: check that its RECURRENCE-ID
    // is really an instance of the series, then include it.
    for &(rid, index) in &exact {
        let o = &overrides[index];
        let (s, e) = (o.start.to_utc(fz), o.end.to_utc(fz));
        if o.cancelled || !overlaps(s, e.max(s), window) {
            continue;
        }
        let n = in_frame(&o.recurrence_id, &plan.start, plan.frame, fz);
        if n >= lo && n <= hi && generated.cut_at.is_none_or(|c| n <= c) {
            if generated.items.binary_search_by_key(&rid, |i| i.0).is_err() {
                warnings.push(format!(
                    "override with RECURRENCE-ID {} matches no instance of the series; ignored",
                    rid.to_rfc3339()
                ));
            }
            continue;
        }
        let probe = plan.generate(
            n - Duration::seconds(1),
            n + Duration::seconds(1),
            DateTime::<Utc>::MIN_UTC,
            4,
            &mut budget,
            &mut warnings,
        );
        match probe.items.iter().find(|i| i.0 == rid) {
            Some(&(_, rn)) => found.push((
                rid,
                Instance {
                    recurrence_id: plan.start.with_naive(rn),
                    start: s,
                    end: e.max(s),
                    override_index: Some(index),
                },
            )),
            None => warnings.push(format!(
                "override with RECURRENCE-ID {} matches no instance of the series; ignored",
                rid.to_rfc3339()
            )),
        }
    }

    found.sort_by(|a, b| {
        a.1.start
            .cmp(&b.1.start)
            .then_with(|| a.0.cmp(&b.0))
            .then_with(|| a.1.recurrence_id.naive().cmp(&b.1.recurrence_id.naive()))
    });
    let mut capped = generated.cut_at.is_some();
    let mut instances: Vec<Instance> = found.into_iter().map(|f| f.1).collect();
    if instances.len() > max_instances {
        instances.truncate(max_instances);
        capped = true;
    }
    if capped {
        warnings.push(format!(
            "series capped at {max_instances} instances in this window: its rule produces more (a runaway \
             rule such as FREQ=MINUTELY with no end?)"
        ));
    }
    Ok(Expansion {
        instances,
        capped,
        warnings,
    })
}

/// Checks one RRULE value (without the `RRULE:` prefix) and names the part at fault.
pub fn validate_rrule(rule: &str, start: &When) -> Result<(), RecurrenceError> {
    let r = Rule::parse(rule, true)?;
    let anchor = start.naive();
    if let Some(u) = r.until {
        let frame = start.zone().unwrap_or(Zone::UTC);
        let until = match u {
            Until::Date(d) => d
                .and_hms_opt(23, 59, 59)
                .unwrap_or(d.and_time(NaiveTime::MIN)),
            Until::Local(t) => t,
            Until::Utc(t) => frame.local(t),
        };
        let until = if start.is_date() {
            until.date().and_time(NaiveTime::MIN)
        } else {
            until
        };
        if until < anchor {
            return Err(RecurrenceError {
                part: Some("UNTIL".into()),
                message: format!(
                    "UNTIL ({until}) is before the start ({anchor}): expected an end on or after the first \
                     occurrence"
                ),
            });
        }
    }
    // Let the rrule crate check what is left (ranges per FREQ); UNTIL was checked above.
    r.to_rrule(anchor, anchor, r.count, None)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").expect("test times are YYYY-MM-DDTHH:MM")
    }

    fn rule(text: &str) -> Rule {
        Rule::parse(text, true).expect("test rules are valid")
    }

    #[test]
    fn rebase_aligns_to_the_period_grid_of_dtstart() {
        let anchor = t("1990-01-03T09:30"); // a Wednesday
        let target = t("2026-06-10T12:00");
        let cases = [
            ("FREQ=DAILY;INTERVAL=3", "2026-06-08T00:00"),
            // Weeks start on WKST: the Monday (default) of the anchor's week is 1990-01-01.
            ("FREQ=WEEKLY;INTERVAL=2", "2026-06-01T00:00"),
            ("FREQ=WEEKLY;WKST=SU", "2026-06-07T00:00"),
            ("FREQ=MONTHLY;INTERVAL=5", "2026-04-01T00:00"),
            ("FREQ=YEARLY;INTERVAL=4", "2026-01-01T00:00"),
            ("FREQ=HOURLY;INTERVAL=5", "2026-06-10T11:00"),
            ("FREQ=MINUTELY;INTERVAL=7", "2026-06-10T11:57"),
        ];
        for (text, want) in cases {
            assert_eq!(
                rebase(&rule(text), anchor, target),
                Some(t(want)),
                "{text}: the restart point is a whole number of periods after DTSTART's period, at or \
                 before the target"
            );
        }
        assert_eq!(
            rebase(&rule("FREQ=DAILY"), anchor, t("1990-01-03T23:00")),
            None,
            "no restart point inside DTSTART's own period"
        );
    }

    #[test]
    fn rebased_rule_keeps_the_defaults_of_the_original_dtstart() {
        // MONTHLY without BYMONTHDAY repeats on DTSTART's day (31); restarted on 1 April it must still pick
        // the 31st and skip April.
        let r = rule("FREQ=MONTHLY");
        let anchor = t("2020-01-31T09:00");
        let start = t("2026-04-01T00:00");
        let built = r.to_rrule(anchor, start, None, None).expect("valid");
        let set = rrule::RRuleSet::new(carrier(start)).rrule(built).limit();
        let first: Vec<NaiveDateTime> = set.into_iter().take(2).map(|d| d.naive_utc()).collect();
        assert_eq!(
            first,
            vec![t("2026-05-31T09:00"), t("2026-07-31T09:00")],
            "the month day and time of day come from the original DTSTART (RFC 5545 §3.3.10)"
        );
    }

    #[test]
    fn parse_accepts_lenient_extensions_only_when_lenient() {
        assert!(
            Rule::parse("FREQ=DAILY;X-NAME=1;RSCALE=GREGORIAN", false).is_ok(),
            "lenient ignores X- parts"
        );
        let e = Rule::parse("FREQ=DAILY;X-NAME=1", true).expect_err("strict refuses X- parts");
        assert_eq!(
            e.part.as_deref(),
            Some("X-NAME"),
            "the unknown part is named"
        );
        let e = Rule::parse("FREQ=DAILY;FREQ=WEEKLY", true).expect_err("a part given twice");
        assert_eq!(
            e.part.as_deref(),
            Some("FREQ"),
            "the repeated part is named"
        );
    }
}
