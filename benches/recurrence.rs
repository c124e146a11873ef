//! Materializing 2,000 recurring series over a one-year window (issue 2's goal: ≤ 1 s in release).
//!
//! The mix is meant to look like a real calendar: daily stand-ups, weekly meetings on a few weekdays,
//! monthly "last weekday" and "second Tuesday" reviews, some ending by COUNT or UNTIL, zoned in DST and
//! non-DST zones, some floating, some all-day, started anywhere from 2012 to 2026 (so far-past skipping is
//! exercised too). Run with `cargo bench --bench recurrence`; it prints one timed pass before criterion's
//! own measurement.

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use criterion::{criterion_group, criterion_main, Criterion};
use punctual::model::Recurrence;
use punctual::recurrence::{expand, Series, Window};
use punctual::time::{When, Zone};
use std::hint::black_box;
use std::time::Instant;

const RULES: &[&str] = &[
    "FREQ=DAILY",
    "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR",
    "FREQ=DAILY;COUNT=400",
    "FREQ=WEEKLY;BYDAY=MO,WE,FR",
    "FREQ=WEEKLY;BYDAY=TU,TH",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH",
    "FREQ=WEEKLY;UNTIL=20261001T000000Z",
    "FREQ=WEEKLY;COUNT=500",
    "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
    "FREQ=MONTHLY;BYDAY=2TU",
    "FREQ=MONTHLY;BYMONTHDAY=15",
    "FREQ=YEARLY",
];

fn make_series() -> Vec<(When, When, Recurrence)> {
    let zones: Vec<Option<Zone>> = [
        "America/New_York",
        "Europe/Berlin",
        "Asia/Tokyo",
        "UTC",
        "Australia/Sydney",
    ]
    .iter()
    .map(|n| Zone::parse(n))
    .chain([None])
    .collect();
    let base = NaiveDate::from_ymd_opt(2012, 1, 2)
        .map(|d| d.and_time(NaiveTime::MIN))
        .unwrap_or_default();
    (0..2000usize)
        .map(|i| {
            let rule = RULES[i % RULES.len()];
            // Starts spread over 2012–2026, at working hours.
            let start: NaiveDateTime = base
                + Duration::days((i as i64 * 2_617) % 5_300)
                + Duration::hours(8 + (i as i64 % 9));
            let all_day = i % 10 == 7;
            let (s, e) = if all_day {
                (
                    When::Date { date: start.date() },
                    When::Date {
                        date: start.date() + Duration::days(1),
                    },
                )
            } else {
                let end = start + Duration::minutes(30 + 15 * (i as i64 % 4));
                match zones[i % zones.len()] {
                    Some(zone) => (
                        When::Zoned { local: start, zone },
                        When::Zoned { local: end, zone },
                    ),
                    None => (
                        When::Floating { local: start },
                        When::Floating { local: end },
                    ),
                }
            };
            let mut rec = Recurrence {
                rrules: vec![rule.to_string()],
                rdates: vec![],
                exdates: vec![],
            };
            if i % 5 == 0 {
                rec.exdates.push(s.with_naive(start + Duration::days(7)));
            }
            (s, e, rec)
        })
        .collect()
}

fn materialize(all: &[(When, When, Recurrence)], window: Window, zone: Zone) -> usize {
    let mut n = 0;
    for (s, e, rec) in all {
        let series = Series {
            start: *s,
            end: *e,
            recurrence: rec,
        };
        if let Ok(x) = expand(&series, &[], window, zone, 5_000) {
            n += x.instances.len();
        }
    }
    n
}

fn bench(c: &mut Criterion) {
    let all = make_series();
    let window = Window {
        start: NaiveDate::from_ymd_opt(2026, 1, 1)
            .map(|d| d.and_time(NaiveTime::MIN).and_utc())
            .unwrap_or_default(),
        end: NaiveDate::from_ymd_opt(2027, 1, 1)
            .map(|d| d.and_time(NaiveTime::MIN).and_utc())
            .unwrap_or_default(),
    };
    let zone = Zone::parse("Europe/Paris").unwrap_or(Zone::UTC);
    let t = Instant::now();
    let n = materialize(&all, window, zone);
    println!(
        "materialize 2000 series over one year: {n} instances in {:?} (goal ≤ 1 s)",
        t.elapsed()
    );
    let mut group = c.benchmark_group("recurrence");
    group.sample_size(10);
    group.bench_function("materialize_2000_series_one_year", |b| {
        b.iter(|| materialize(black_box(&all), black_box(window), zone))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
