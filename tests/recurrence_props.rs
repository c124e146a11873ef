//! Property tests over random RRULEs: whatever the rule, zone and window, expansion is sorted, unique by
//! recurrence id, inside the window, within `max_instances`, obeys COUNT and UNTIL, and — when the window
//! covers the whole series — a COUNT rule yields exactly COUNT instances minus its EXDATEs.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use proptest::prelude::*;
use punctual::model::Recurrence;
use punctual::recurrence::{expand, Expansion, Override, Series, Window};
use punctual::time::{When, Zone};
use std::collections::HashSet;

const FREQS: [&str; 6] = ["YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY", "MINUTELY"];
const DAYS: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
/// UTC and Asia/Kolkata have no DST; the others do, Lord Howe by half an hour.
const ZONES: [&str; 5] = [
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
];

#[derive(Clone, Debug)]
struct Case {
    freq: usize,
    interval: u32,
    /// 0: no end, 1: COUNT, 2: UNTIL.
    end_kind: u8,
    count: u32,
    until_days: i64,
    byday: Option<u8>,
    bymonthday: Option<Vec<u8>>,
    bymonth: Option<u16>,
    byhour: Option<u32>,
    setpos: Option<i8>,
    /// 0..5: a zone in ZONES; 5: floating; 6: all-day.
    kind: usize,
    start_minutes: i64,
    window_from_days: i64,
    window_len_hours: i64,
    exdate_picks: Vec<usize>,
    max_instances: usize,
}

fn case() -> impl Strategy<Value = Case> {
    (
        (0usize..6, 1u32..5, 0u8..3, 1u32..40, 0i64..400),
        (
            proptest::option::of(1u8..128),
            proptest::option::of(proptest::collection::vec(1u8..29, 1..4)),
            proptest::option::of(1u16..4096),
            proptest::option::of(1u32..(1 << 24)),
            proptest::option::of(prop_oneof![Just(1i8), Just(-1i8)]),
        ),
        (
            0usize..7,
            0i64..(6 * 365 * 24 * 60),
            -60i64..800,
            1i64..(3 * 365 * 24),
        ),
        (proptest::collection::vec(0usize..40, 0..4), 20usize..3000),
    )
        .prop_map(
            |(
                (freq, interval, end_kind, count, until_days),
                (byday, bymonthday, bymonth, byhour, setpos),
                (kind, start_minutes, window_from_days, window_len_hours),
                (exdate_picks, max_instances),
            )| Case {
                freq,
                interval,
                end_kind,
                count,
                until_days,
                byday,
                bymonthday,
                bymonth,
                byhour,
                setpos,
                kind,
                start_minutes,
                window_from_days,
                window_len_hours,
                exdate_picks,
                max_instances,
            },
        )
}

impl Case {
    fn all_day(&self) -> bool {
        self.kind == 6
    }
    /// The frequency actually used: all-day series stay at DAILY or coarser.
    fn freq(&self) -> usize {
        if self.all_day() {
            self.freq.min(3)
        } else {
            self.freq
        }
    }
    fn zone(&self) -> Option<Zone> {
        ZONES
            .get(self.kind)
            .map(|n| Zone::parse(n).expect("test zones are IANA names"))
    }
    fn start_local(&self) -> NaiveDateTime {
        let base = NaiveDate::from_ymd_opt(2020, 1, 1)
            .expect("valid date")
            .and_time(NaiveTime::MIN);
        let t = base + Duration::minutes(self.start_minutes);
        // Day 29–31 as the default BYMONTHDAY (taken from DTSTART) with a BYMONTH of short months can match
        // nothing, ever; keep DTSTART on days 1–28 so that COUNT is always reachable.
        let t = t - Duration::days(i64::from(t.day().saturating_sub(28)));
        if self.all_day() {
            t.date().and_time(NaiveTime::MIN)
        } else {
            t
        }
    }
    fn start(&self) -> When {
        let local = self.start_local();
        match (self.all_day(), self.zone()) {
            (true, _) => When::Date { date: local.date() },
            (false, Some(zone)) => When::Zoned { local, zone },
            (false, None) => When::Floating { local },
        }
    }
    fn end(&self) -> When {
        match self.start() {
            When::Date { date } => When::Date {
                date: date + Duration::days(1),
            },
            other => other.with_naive(self.start_local() + Duration::minutes(45)),
        }
    }
    /// Which BY parts are used: each only where it is always satisfiable, so that a COUNT rule really
    /// reaches COUNT within the test's horizon (sub-daily rules get no BYMONTH/BYMONTHDAY, BYMONTHDAY is
    /// never combined with BYDAY, BYSETPOS is ±1 over a non-empty set).
    fn rule(&self, floating_zone: Zone) -> String {
        let freq = self.freq();
        let mut parts = vec![format!("FREQ={}", FREQS[freq])];
        if self.interval > 1 {
            parts.push(format!("INTERVAL={}", self.interval));
        }
        match self.end_kind {
            1 => parts.push(format!("COUNT={}", self.count)),
            2 => parts.push(format!("UNTIL={}", self.until_text(floating_zone))),
            _ => {}
        }
        let mut by = false;
        if let Some(mask) = self.byday {
            let days: Vec<&str> = (0..7)
                .filter(|i| mask & (1 << i) != 0)
                .map(|i| DAYS[i])
                .collect();
            parts.push(format!("BYDAY={}", days.join(",")));
            by = true;
        } else if let Some(days) = &self.bymonthday {
            if freq <= 1 || freq == 3 {
                let days: Vec<String> = days.iter().map(u8::to_string).collect();
                parts.push(format!("BYMONTHDAY={}", days.join(",")));
                by = true;
            }
        }
        if let Some(mut mask) = self.bymonth {
            if freq == 1 {
                // A MONTHLY rule with INTERVAL visits only some months; DTSTART's month is always one.
                mask |= 1 << self.start_local().month0();
            }
            if freq <= 3 {
                let months: Vec<String> = (0..12)
                    .filter(|i| mask & (1 << i) != 0)
                    .map(|i| (i + 1).to_string())
                    .collect();
                parts.push(format!("BYMONTH={}", months.join(",")));
                by = true;
            }
        }
        if let Some(mask) = self.byhour {
            if !self.all_day() && freq != 5 {
                let hours: Vec<String> = (0..24)
                    .filter(|i| mask & (1 << i) != 0)
                    .map(|i: u32| i.to_string())
                    .collect();
                parts.push(format!("BYHOUR={}", hours.join(",")));
                by = true;
            }
        }
        if let (Some(p), true) = (self.setpos, by) {
            parts.push(format!("BYSETPOS={p}"));
        }
        parts.join(";")
    }
    fn until_instant(&self, floating_zone: Zone) -> DateTime<Utc> {
        let per = [365, 30, 7, 1, 0, 0][self.freq()];
        let span = if per == 0 {
            Duration::hours(self.until_days)
        } else {
            Duration::days(self.until_days * per / 4)
        };
        self.start().to_utc(floating_zone) + span
    }
    fn until_text(&self, floating_zone: Zone) -> String {
        let u = self.until_instant(floating_zone);
        match (self.all_day(), self.zone()) {
            (true, _) => floating_zone.local(u).format("%Y%m%d").to_string(),
            (false, Some(_)) => u.format("%Y%m%dT%H%M%SZ").to_string(),
            // A floating series has a floating (local) UNTIL.
            (false, None) => floating_zone.local(u).format("%Y%m%dT%H%M%S").to_string(),
        }
    }
    fn byhour_count(&self) -> u32 {
        self.byhour.map_or(1, u32::count_ones)
    }
    /// Whether two wall-clock values of this rule can land on the same instant in a DST gap (and be merged
    /// into one instance), which would make "exactly COUNT" wrong by design.
    /// An HOURLY rule whose INTERVAL steps never land on a BYHOUR hour (from 11:00 every 4 hours is
    /// 3, 7, 11, 15, 19, 23; BYHOUR=4,10 meets none of them): nothing after DTSTART ever matches, so COUNT
    /// cannot be reached and DTSTART is the only instance.
    fn never_repeats(&self) -> bool {
        let (Some(mask), 4) = (self.byhour, self.freq()) else {
            return false;
        };
        let step = gcd(self.interval, 24);
        let start = self.start_local().hour();
        !(0..24u32).any(|h| mask >> h & 1 == 1 && (h + 24 - start % step) % step == 0)
    }

    fn may_collide(&self, floating_zone: Zone) -> bool {
        let zone = self.zone().unwrap_or(floating_zone);
        let dst = !matches!(zone.name(), "UTC" | "Asia/Kolkata");
        if !dst || self.all_day() {
            return false;
        }
        let start = self.start_local();
        let start_in_gap = zone.local(zone.resolve(start)) != start;
        self.freq() >= 4 || self.byhour_count() > 1 || start_in_gap
    }
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

fn check_invariants(
    c: &Case,
    x: &Expansion,
    w: Window,
    fz: Zone,
    max: usize,
    rule: &str,
) -> Result<(), TestCaseError> {
    let rids: Vec<DateTime<Utc>> = x
        .instances
        .iter()
        .map(|i| i.recurrence_id.to_utc(fz))
        .collect();
    for (pair, ids) in x.instances.windows(2).zip(rids.windows(2)) {
        prop_assert!(
            (pair[0].start, ids[0]) <= (pair[1].start, ids[1]),
            "{rule}: instances must be sorted by (start, recurrence id): {:?} then {:?}",
            pair[0],
            pair[1]
        );
    }
    let unique: HashSet<DateTime<Utc>> = rids.iter().copied().collect();
    prop_assert_eq!(
        unique.len(),
        rids.len(),
        "{}: each recurrence id (as an instant) must appear once",
        rule
    );
    for i in &x.instances {
        let inside = if i.end > i.start {
            i.end > w.start && i.start < w.end
        } else {
            i.start >= w.start && i.start < w.end
        };
        prop_assert!(
            inside,
            "{}: every instance must overlap the window {:?}: {:?}",
            rule,
            w,
            i
        );
        prop_assert_eq!(
            i.recurrence_id.is_date(),
            c.all_day(),
            "{}: recurrence ids are of the same kind as DTSTART",
            rule
        );
    }
    prop_assert!(
        x.instances.len() <= max,
        "{}: never more than max_instances ({})",
        rule,
        max
    );
    if c.end_kind == 1 {
        prop_assert!(
            x.instances.len() as u32 <= c.count,
            "{}: never more instances than COUNT",
            rule
        );
    }
    if c.end_kind == 2 {
        let start = c.start().to_utc(fz);
        for (i, rid) in x.instances.iter().zip(&rids) {
            if c.all_day() {
                let until = fz.local(c.until_instant(fz)).date();
                prop_assert!(
                    i.recurrence_id.naive().date() <= until,
                    "{}: no all-day instance after the UNTIL date: {:?}",
                    rule,
                    i
                );
            } else if c.zone().is_none() {
                // A floating series has a local UNTIL, compared in wall-clock terms.
                let until = fz.local(c.until_instant(fz));
                prop_assert!(
                    i.recurrence_id.naive() <= until || *rid == start,
                    "{}: no instance (other than DTSTART) starts after the local UNTIL: {:?}",
                    rule,
                    i
                );
            } else {
                prop_assert!(
                    *rid <= c.until_instant(fz) || *rid == start,
                    "{}: no instance (other than DTSTART) starts after UNTIL: {:?}",
                    rule,
                    i
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_rules_expand_sorted_unique_inside_the_window(c in case()) {
        let fz = Zone::parse("Europe/Paris").expect("IANA zone");
        let rule = c.rule(fz);
        let rec = Recurrence { rrules: vec![rule.clone()], rdates: vec![], exdates: vec![] };
        let series = Series { start: c.start(), end: c.end(), recurrence: &rec };
        let from = c.start().to_utc(fz) + Duration::days(c.window_from_days);
        let w = Window { start: from, end: from + Duration::hours(c.window_len_hours) };
        let x = expand(&series, &[], w, fz, c.max_instances).map_err(|e| TestCaseError::fail(format!("{rule}: {e}")))?;
        check_invariants(&c, &x, w, fz, c.max_instances, &rule)?;
    }

    #[test]
    fn count_rules_yield_exactly_count_minus_exdates(mut c in case()) {
        c.end_kind = 1;
        let fz = Zone::parse("Europe/Paris").expect("IANA zone");
        let rule = c.rule(fz);
        let mut rec = Recurrence { rrules: vec![rule.clone()], rdates: vec![], exdates: vec![] };
        let start = c.start().to_utc(fz);
        // Everything from DTSTART on: COUNT ≤ 40 at INTERVAL ≤ 4 fits in 200 years for every rule here.
        let w = Window { start: start - Duration::days(1), end: start + Duration::days(200 * 366) };
        let max = 100_000;
        let all = {
            let series = Series { start: c.start(), end: c.end(), recurrence: &rec };
            expand(&series, &[], w, fz, max).map_err(|e| TestCaseError::fail(format!("{rule}: {e}")))?
        };
        check_invariants(&c, &all, w, fz, max, &rule)?;
        prop_assert!(!all.capped, "{}: {} instances are far below the cap", rule, all.instances.len());
        if c.never_repeats() {
            prop_assert_eq!(all.instances.len(), 1, "{}: only DTSTART, since no later hour can match", rule);
        } else if !c.may_collide(fz) {
            prop_assert_eq!(all.instances.len() as u32, c.count, "{}: a COUNT rule over its whole span yields exactly COUNT instances (DTSTART counts as the first)", rule);
        }
        // Exclude some of them, by instant in UTC (EXDATE may be written in UTC while DTSTART is zoned).
        let mut excluded = HashSet::new();
        for &p in &c.exdate_picks {
            if let Some(i) = all.instances.get(p) {
                let ex = if c.all_day() { i.recurrence_id } else { When::Utc { at: i.recurrence_id.to_utc(fz) } };
                rec.exdates.push(ex);
                excluded.insert(i.recurrence_id.to_utc(fz));
            }
        }
        let series = Series { start: c.start(), end: c.end(), recurrence: &rec };
        let x = expand(&series, &[], w, fz, max).map_err(|e| TestCaseError::fail(format!("{rule}: {e}")))?;
        check_invariants(&c, &x, w, fz, max, &rule)?;
        prop_assert_eq!(
            x.instances.len(),
            all.instances.len() - excluded.len(),
            "{}: EXDATEs remove exactly the instances they name (COUNT counts them first, RFC 5545 §3.8.5.1)",
            rule
        );
        prop_assert!(
            x.instances.iter().all(|i| !excluded.contains(&i.recurrence_id.to_utc(fz))),
            "{}: no excluded instance remains",
            rule
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Far-past skipping restarts a rule from a later, period-aligned point; that must never change which
    /// instances fall in the window. The reference expands from DTSTART with no skipping at all.
    #[test]
    fn a_window_sees_the_same_instances_as_expanding_from_dtstart(c in case()) {
        let fz = Zone::parse("Europe/Paris").expect("IANA zone");
        let rule = c.rule(fz);
        let rec = Recurrence { rrules: vec![rule.clone()], rdates: vec![], exdates: vec![] };
        let series = Series { start: c.start(), end: c.end(), recurrence: &rec };
        let start = c.start().to_utc(fz);
        let from = start + Duration::days(c.window_from_days);
        let w = Window { start: from, end: from + Duration::hours(c.window_len_hours) };
        let big = Window { start: start - Duration::days(1), end: w.end.max(start + Duration::days(1)) };
        let max = 200_000;
        let reference = expand(&series, &[], big, fz, max).map_err(|e| TestCaseError::fail(format!("{rule}: {e}")))?;
        prop_assume!(!reference.capped);
        let x = expand(&series, &[], w, fz, max).map_err(|e| TestCaseError::fail(format!("{rule}: {e}")))?;
        let expected: Vec<_> = reference
            .instances
            .iter()
            .filter(|i| if i.end > i.start { i.end > w.start && i.start < w.end } else { i.start >= w.start && i.start < w.end })
            .cloned()
            .collect();
        prop_assert_eq!(x.instances, expected, "{}: the window must hold exactly the reference's instances that overlap it", rule);
    }
}

/// One random `NAME=VALUE` rule part, valid or not.
fn part() -> impl Strategy<Value = String> {
    let ints = proptest::collection::vec(-400i32..400, 1..4)
        .prop_map(|v| v.iter().map(i32::to_string).collect::<Vec<_>>().join(","));
    let day = (proptest::option::of(-60i32..60), 0usize..8).prop_map(|(n, d)| {
        let code = ["MO", "TU", "WE", "TH", "FR", "SA", "SU", "XX"][d];
        n.map_or(code.to_string(), |n| format!("{n}{code}"))
    });
    let days = proptest::collection::vec(day, 1..4).prop_map(|v| v.join(","));
    prop_oneof![
        prop_oneof![
            Just("SECONDLY"),
            Just("MINUTELY"),
            Just("HOURLY"),
            Just("DAILY"),
            Just("WEEKLY"),
            Just("MONTHLY"),
            Just("YEARLY"),
            Just("NEVER")
        ]
        .prop_map(|f| format!("FREQ={f}")),
        prop_oneof![
            Just("0"),
            Just("1"),
            Just("3"),
            Just("65535"),
            Just("99999"),
            Just("-1"),
            Just("x")
        ]
        .prop_map(|v| format!("INTERVAL={v}")),
        prop_oneof![
            Just("0"),
            Just("1"),
            Just("7"),
            Just("4294967295"),
            Just("99999999999")
        ]
        .prop_map(|v| format!("COUNT={v}")),
        prop_oneof![
            Just("00010101"),
            Just("99991231T235959Z"),
            Just("20261301"),
            Just("20270101T000000"),
            Just("20260308T023000"),
            Just("soon")
        ]
        .prop_map(|v| format!("UNTIL={v}")),
        (
            prop_oneof![
                Just("BYMONTH"),
                Just("BYMONTHDAY"),
                Just("BYYEARDAY"),
                Just("BYWEEKNO"),
                Just("BYHOUR"),
                Just("BYMINUTE"),
                Just("BYSECOND"),
                Just("BYSETPOS")
            ],
            ints
        )
            .prop_map(|(n, v)| format!("{n}={v}")),
        days.prop_map(|v| format!("BYDAY={v}")),
        prop_oneof![Just("MO"), Just("SU"), Just("ZZ")].prop_map(|v| format!("WKST={v}")),
        Just("X-FOO=1".to_string()),
        Just("garbage".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Whatever the text, expansion returns (an error or instances) without panicking or running away,
    /// and what it returns keeps the invariants.
    #[test]
    fn arbitrary_rule_text_never_panics(
        parts in proptest::collection::vec(part(), 1..6),
        start_days in -40_000i64..40_000,
        from_days in -400i64..40_000,
        len_days in 1i64..400,
        kind in 0usize..7,
    ) {
        let fz = Zone::parse("America/New_York").expect("IANA zone");
        let rule = parts.join(";");
        let rec = Recurrence { rrules: vec![rule.clone()], rdates: vec![], exdates: vec![] };
        let base = NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid date").and_hms_opt(9, 30, 0).expect("valid time")
            + Duration::days(start_days);
        let c = Case {
            freq: 3, interval: 1, end_kind: 0, count: 1, until_days: 0, byday: None, bymonthday: None,
            bymonth: None, byhour: None, setpos: None, kind, start_minutes: 0, window_from_days: 0,
            window_len_hours: 1, exdate_picks: vec![], max_instances: 1000,
        };
        let start = match c.start() {
            When::Date { .. } => When::Date { date: base.date() },
            other => other.with_naive(base),
        };
        let end = match start {
            When::Date { date } => When::Date { date: date + Duration::days(1) },
            other => other.with_naive(base + Duration::minutes(30)),
        };
        let series = Series { start, end, recurrence: &rec };
        let from = start.to_utc(fz) + Duration::days(from_days);
        let w = Window { start: from, end: from + Duration::days(len_days) };
        let t = std::time::Instant::now();
        let result = expand(&series, &[], w, fz, 1000);
        prop_assert!(t.elapsed().as_secs() < 10, "{}: expansion must stay bounded (took {:?})", rule, t.elapsed());
        if let Ok(x) = result {
            let mut c = c;
            c.end_kind = 0;
            check_invariants(&c, &x, w, fz, 1000, &rule)?;
        }
        let _ = punctual::recurrence::validate_rrule(&rule, &start);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// RANGE=THISANDFUTURE at a random instance with a random shift and duration: earlier instances are
    /// untouched, that one and every later one start at its wall-clock time plus the shift (DST-correct) and
    /// take the new duration; nothing is lost or duplicated.
    #[test]
    fn this_and_future_shifts_exactly_the_later_instances(
        mut c in case(),
        pick in 0usize..40,
        shift_minutes in -3000i64..3000,
        minutes in 0i64..300,
    ) {
        c.end_kind = 1;
        let fz = Zone::parse("Europe/Paris").expect("IANA zone");
        let rule = c.rule(fz);
        let rec = Recurrence { rrules: vec![rule.clone()], rdates: vec![], exdates: vec![] };
        let series = Series { start: c.start(), end: c.end(), recurrence: &rec };
        let start = c.start().to_utc(fz);
        let w = Window { start: start - Duration::days(10), end: start + Duration::days(200 * 366) };
        let plain = expand(&series, &[], w, fz, 100_000).map_err(|e| TestCaseError::fail(format!("{rule}: {e}")))?;
        prop_assume!(!plain.instances.is_empty());
        let k = pick % plain.instances.len();
        let rid = plain.instances[k].recurrence_id;
        // The series' frame: its own zone, or the floating zone for floating and all-day series.
        let frame = c.zone().unwrap_or(fz);
        let (shift, o_start, o_end) = if c.all_day() {
            let days = Duration::days(shift_minutes / 600);
            let len = Duration::days(minutes / 60 + 1);
            let d = rid.naive().date() + days;
            (days, When::Date { date: d }, When::Date { date: d + len })
        } else {
            let shift = Duration::minutes(shift_minutes);
            let s = rid.naive() + shift;
            (shift, rid.with_naive(s), rid.with_naive(s + Duration::minutes(minutes)))
        };
        let o = Override { recurrence_id: rid, this_and_future: true, start: o_start, end: o_end, cancelled: false };
        let length = o_end.to_utc(fz) - o_start.to_utc(fz);
        let x = expand(&series, &[o], w, fz, 100_000).map_err(|e| TestCaseError::fail(format!("{rule}: {e}")))?;
        let rid_at = rid.to_utc(fz);
        let mut got: Vec<_> = x.instances.clone();
        got.sort_by_key(|i| i.recurrence_id.to_utc(fz));
        prop_assert_eq!(got.len(), plain.instances.len(), "{}: a range override moves instances, it adds or drops none", rule);
        let mut want: Vec<_> = plain.instances.clone();
        want.sort_by_key(|i| i.recurrence_id.to_utc(fz));
        for (g, p) in got.iter().zip(&want) {
            prop_assert_eq!(g.recurrence_id, p.recurrence_id, "{}: recurrence ids stay the originals", rule);
            if p.recurrence_id.to_utc(fz) < rid_at {
                prop_assert_eq!(g, p, "{}: instances before the override are untouched", rule);
            } else {
                let local = if c.all_day() {
                    p.recurrence_id.naive().date().and_time(NaiveTime::MIN) + shift
                } else {
                    p.recurrence_id.naive() + shift
                };
                let s = frame.resolve(local);
                let e = if c.all_day() { frame.resolve(local + (o_end.naive() - o_start.naive())) } else { s + length };
                prop_assert_eq!(
                    (g.start, g.end, g.override_index),
                    (s, e, Some(0)),
                    "{}: instance {:?} moves by the override's wall-clock shift {:?} and takes its length",
                    rule,
                    p.recurrence_id,
                    shift
                );
            }
        }
    }
}

/// Found by `count_rules_yield_exactly_count_minus_exdates`: an HOURLY rule whose steps never meet its BYHOUR
/// yields DTSTART alone, and the expansion ends instead of searching for a second instance forever.
#[test]
fn an_hourly_rule_that_never_meets_its_byhour_yields_only_dtstart() {
    let utc = Zone::parse("UTC").expect("IANA zone");
    let local = NaiveDate::from_ymd_opt(2021, 5, 4)
        .expect("valid date")
        .and_hms_opt(11, 0, 0)
        .expect("valid time");
    let rec = Recurrence {
        rrules: vec!["FREQ=HOURLY;INTERVAL=4;COUNT=2;BYHOUR=4,5,10,13,16,17,20,21".into()],
        rdates: vec![],
        exdates: vec![],
    };
    let series = Series {
        start: When::Zoned { local, zone: utc },
        end: When::Zoned {
            local: local + Duration::minutes(45),
            zone: utc,
        },
        recurrence: &rec,
    };
    let start = local.and_utc();
    let w = Window {
        start: start - Duration::days(1),
        end: start + Duration::days(366),
    };
    let x = expand(&series, &[], w, utc, 100_000).expect("expands");
    assert_eq!(
        x.instances.len(),
        1,
        "from 11:00 every 4 hours is 3, 7, 11, 15, 19, 23 o'clock: no BYHOUR hour, so DTSTART alone"
    );
}
