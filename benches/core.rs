//! Core benchmarks (release: `cargo bench --bench core`), printing the figures issue 2 asks for:
//! - month-view window queries over 100k events including 2k recurring series (p50/p99 per page);
//! - ICS import of a 10k-event file (events/s);
//! - materializing 2k recurring series over one year.
//!
//! `PUNCTUAL_BENCH=write-ics` only writes the 10k-event file (for scripts/bench-events.sh).
//!
//! A bench binary rather than criterion because the goal is a p99, which criterion does not report. Inputs
//! are generated deterministically; the database is a real file in a temp dir (WAL), as in the app.

use chrono::{DateTime, Duration, Utc};
use punctual::app::{App, ListQuery};
use punctual::time::{FixedClock, Zone};
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

const ZONES: [&str; 4] = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC"];
const RULES: [&str; 10] = [
    "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR",
    "FREQ=WEEKLY;BYDAY=MO",
    "FREQ=WEEKLY;BYDAY=TU,TH",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE",
    "FREQ=WEEKLY;BYDAY=FR;COUNT=40",
    "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
    "FREQ=WEEKLY;BYDAY=MO,WE,FR",
    "FREQ=MONTHLY;BYMONTHDAY=15",
    "FREQ=WEEKLY;BYDAY=TH;UNTIL=20280101T000000Z",
    "FREQ=DAILY;INTERVAL=3",
];

/// A small deterministic generator (xorshift), so every run measures the same data.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn ics(singles: usize, series: usize, base: DateTime<Utc>, seed: u64) -> String {
    let mut r = Rng(seed);
    let mut s = String::with_capacity((singles + series) * 400);
    s.push_str("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//punctual bench//EN\r\n");
    let stamp = "20260101T000000Z";
    for i in 0..singles {
        let start = base + Duration::minutes((r.below(2 * 365 * 24 * 4) * 15) as i64);
        let end = start + Duration::minutes(15 * (1 + r.below(8) as i64));
        let link = if i % 3 == 0 {
            format!("\r\nLOCATION:https://zoom.us/j/{}", 90_000_000 + i)
        } else {
            String::new()
        };
        let _ = write!(
            s,
            "BEGIN:VEVENT\r\nUID:single-{i}@bench\r\nDTSTAMP:{stamp}\r\nDTSTART:{}\r\nDTEND:{}\r\nSUMMARY:Meeting {i}\r\nDESCRIPTION:Agenda for meeting {i}\\nnotes{link}\r\nEND:VEVENT\r\n",
            start.format("%Y%m%dT%H%M%SZ"),
            end.format("%Y%m%dT%H%M%SZ"),
        );
    }
    for i in 0..series {
        let start = base + Duration::days(r.below(60) as i64);
        let zone = ZONES[i % ZONES.len()];
        let hour = 8 + r.below(9);
        let _ = write!(
            s,
            "BEGIN:VEVENT\r\nUID:series-{i}@bench\r\nDTSTAMP:{stamp}\r\nDTSTART;TZID={zone}:{}T{hour:02}0000\r\nDTEND;TZID={zone}:{}T{hour:02}3000\r\nRRULE:{}\r\nSUMMARY:Series {i}\r\nLOCATION:https://meet.google.com/abc-defg-{:03}\r\nEND:VEVENT\r\n",
            start.format("%Y%m%d"),
            start.format("%Y%m%d"),
            RULES[i % RULES.len()],
            i % 1000,
        );
    }
    s.push_str("END:VCALENDAR\r\n");
    s
}

/// This process's CPU time (user + system) in ms, on Linux; the machine may be shared, so wall time alone
/// can mislead.
fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of /proc/PID/stat, in clock ticks (100 per second on Linux).
    (ticks(11) + ticks(12)) * 10.0
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn open(now: DateTime<Utc>) -> (tempfile::TempDir, App) {
    let dir = tempfile::tempdir().expect("temp dir");
    let app =
        App::open_with(dir.path(), Arc::new(FixedClock::new(now)), Zone::UTC).expect("app opens");
    (dir, app)
}

fn main() {
    let now: DateTime<Utc> = "2026-11-21T12:00:00Z".parse().expect("valid instant");
    let base = now - Duration::days(180);

    // PUNCTUAL_BENCH=import|materialize|query runs one part (for profiling).
    let only = std::env::var("PUNCTUAL_BENCH").unwrap_or_default();
    let run = |part: &str| only.is_empty() || only == part;

    // PUNCTUAL_BENCH=write-ics writes the 10k-event file of the import bench to PUNCTUAL_BENCH_ICS and stops,
    // so that scripts/bench-events.sh times the CLI (and khal) on the very same events.
    if only == "write-ics" {
        let path = std::env::var("PUNCTUAL_BENCH_ICS")
            .expect("PUNCTUAL_BENCH_ICS names the file to write");
        std::fs::write(&path, ics(9_800, 200, base, 7)).expect("the .ics file is written");
        return;
    }

    // 1. ICS import throughput, 10k events (a realistic mix: 9,800 singles, 200 series).
    if run("import") {
        let text = ics(9_800, 200, base, 7);
        let (mut rates, mut cpus) = (Vec::new(), Vec::new());
        // PUNCTUAL_BENCH_SAMPLES=1 imports once (for callgrind).
        let reps: usize = std::env::var("PUNCTUAL_BENCH_SAMPLES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(5);
        for _ in 0..reps {
            let (_d, app) = open(now);
            let (t, cpu) = (Instant::now(), cpu_ms());
            let rep = app.import_ics(&text, None).expect("import works");
            let secs = t.elapsed().as_secs_f64();
            cpus.push(10_000.0 / ((cpu_ms() - cpu).max(1.0) / 1e3));
            assert_eq!(rep.created, 10_000, "every generated event imports");
            rates.push(10_000.0 / secs);
        }
        rates.sort_by(f64::total_cmp);
        cpus.sort_by(f64::total_cmp);
        println!(
            "import 10k events ({:.1} MB): median {:.0} events/s wall, {:.0} events/s per CPU second, best {:.0} wall (goal >= 20000)",
            text.len() as f64 / 1e6,
            rates[rates.len() / 2],
            cpus[cpus.len() / 2],
            rates[rates.len() - 1]
        );
    }

    // 2. Materializing 2k recurring series over one year.
    if run("materialize") {
        let (_d2, app) = open(now);
        app.import_ics(&ics(0, 2_000, base, 11), None)
            .expect("series import");
        let (t, cpu) = (Instant::now(), cpu_ms());
        let q = ListQuery {
            from: Some("2029-01-01".into()),
            to: Some("2030-01-01".into()),
            all: true,
            limit: Some(1),
            ..Default::default()
        };
        app.list_events(&q)
            .expect("a year outside the horizon is materialized on demand");
        println!(
            "materialize 2k series over one year: {:.0} ms wall, {:.0} ms CPU (goal <= 1000 ms)",
            t.elapsed().as_secs_f64() * 1e3,
            cpu_ms() - cpu
        );
    }

    // 4 (first, it is quick). Planning join plans over 100k occurrences, pure.
    if run("plan") {
        plan_bench(now);
    }

    // 3. Month-view window queries over 100k events including 2k series.
    if !run("query") {
        return;
    }
    // PUNCTUAL_BENCH_REUSE=DIR queries a database kept earlier (below) instead of importing again, so a
    // profiler (perf, callgrind) sees only the queries.
    let reuse = std::env::var("PUNCTUAL_BENCH_REUSE").ok();
    let (_d3, app) = match &reuse {
        Some(dir) => (
            None,
            App::open_with(
                std::path::Path::new(dir),
                Arc::new(FixedClock::new(now)),
                Zone::UTC,
            )
            .expect("the kept database opens"),
        ),
        None => {
            let (d3, app) = open(now);
            let t = Instant::now();
            app.import_ics(&ics(98_000, 2_000, base, 3), None)
                .expect("100k import");
            println!(
                "setup: imported 100k events in {:.1} s",
                t.elapsed().as_secs_f64()
            );
            // PUNCTUAL_BENCH_KEEP=DIR keeps the 100k-event database there, for PUNCTUAL_BENCH_REUSE.
            if let Ok(keep) = std::env::var("PUNCTUAL_BENCH_KEEP") {
                let kept = std::path::Path::new(&keep);
                std::fs::create_dir_all(kept).expect("the keep dir is writable");
                for f in std::fs::read_dir(d3.path())
                    .expect("the data dir lists")
                    .flatten()
                {
                    std::fs::copy(f.path(), kept.join(f.file_name())).expect("copies");
                }
            }
            (Some(d3), app)
        }
    };
    let samples_per_view: usize = std::env::var("PUNCTUAL_BENCH_SAMPLES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000);
    let months: Vec<(String, String)> = (0..12)
        .map(|m| {
            let from = (base + Duration::days(30 * m + 30)).date_naive();
            (from.to_string(), (from + Duration::days(31)).to_string())
        })
        .collect();
    // The first visit to a month outside the materialized horizon expands every series over it (a write),
    // once; it is reported on its own, and the percentiles below are the month view's steady state.
    let mut first_visits = Vec::new();
    for (from, to) in &months {
        let t = Instant::now();
        app.list_events(&ListQuery {
            from: Some(from.clone()),
            to: Some(to.clone()),
            all: true,
            limit: Some(100),
            ..Default::default()
        })
        .expect("month query");
        first_visits.push(t.elapsed().as_secs_f64() * 1e3);
    }
    first_visits.sort_by(f64::total_cmp);
    println!(
        "first visit to each of 12 months (materializes the months outside the horizon): median {:.1} ms, max {:.1} ms",
        percentile(&first_visits, 0.5),
        first_visits[first_visits.len() - 1]
    );
    for (label, all) in [("every event", true), ("meetings only", false)] {
        let mut samples = Vec::new();
        let mut per_month = vec![Vec::new(); months.len()];
        for i in 0..samples_per_view {
            let (from, to) = &months[i % months.len()];
            let q = ListQuery {
                from: Some(from.clone()),
                to: Some(to.clone()),
                all,
                limit: Some(100),
                ..Default::default()
            };
            let t = Instant::now();
            let page = app.list_events(&q).expect("month query");
            samples.push(t.elapsed().as_secs_f64() * 1e3);
            per_month[i % months.len()].push(t.elapsed().as_secs_f64() * 1e3);
            assert_eq!(page.events.len(), 100, "a busy month fills a page");
        }
        samples.sort_by(f64::total_cmp);
        // PUNCTUAL_BENCH_DETAIL=1: each month's median, to see which months make the tail.
        if std::env::var_os("PUNCTUAL_BENCH_DETAIL").is_some() {
            for (m, v) in per_month.iter_mut().enumerate() {
                v.sort_by(f64::total_cmp);
                println!(
                    "  month {} from {}: median {:.3} ms",
                    m,
                    months[m].0,
                    percentile(v, 0.5)
                );
            }
        }
        println!(
            "month window, first page of 100 ({label}): p50 {:.3} ms, p99 {:.3} ms (goal p99 <= 2 ms)",
            percentile(&samples, 0.5),
            percentile(&samples, 0.99)
        );
    }
    // A whole month, paged through, as the month view loads it (PUNCTUAL_BENCH_SKIP_PAGED=1 skips it).
    if std::env::var_os("PUNCTUAL_BENCH_SKIP_PAGED").is_some() {
        return;
    }
    let mut samples = Vec::new();
    let mut total = 0;
    for (from, to) in &months {
        let t = Instant::now();
        let mut q = ListQuery {
            from: Some(from.clone()),
            to: Some(to.clone()),
            all: true,
            limit: Some(100),
            ..Default::default()
        };
        let mut n = 0;
        loop {
            let p = app.list_events(&q).expect("page");
            n += p.events.len();
            match p.next_cursor {
                Some(c) => {
                    q = ListQuery {
                        cursor: Some(c),
                        limit: Some(100),
                        ..Default::default()
                    }
                }
                None => break,
            }
        }
        total += n;
        samples.push(t.elapsed().as_secs_f64() * 1e3);
    }
    samples.sort_by(f64::total_cmp);
    println!(
        "whole month paged (avg {} occurrences): p50 {:.1} ms, max {:.1} ms",
        total / months.len(),
        percentile(&samples, 0.5),
        samples[samples.len() - 1]
    );
}

fn plan_bench(now: DateTime<Utc>) {
    use punctual::join::{self, Candidate, Change, JoinRules};
    let mut r = Rng(5);
    let cands: Vec<Candidate> = (0..100_000)
        .map(|i| {
            let start = now + Duration::minutes((r.below(47 * 4) * 15) as i64);
            // A tenth are copies of another calendar's meeting, to exercise deduplication.
            let uid = if i % 10 == 0 {
                format!("uid-{}", i / 10)
            } else {
                format!("uid-{i}")
            };
            let link = (i % 4 != 0)
                .then(|| format!("https://zoom.us/j/{}", 800_000_000 + r.below(50_000)));
            Candidate {
                occurrence_id: format!("{i:08}-occurrence"),
                event_id: format!("{i:08}-event"),
                series_id: None,
                calendar_id: format!("cal-{}", i % 3),
                uid,
                title: format!("Meeting {i}"),
                start,
                end: start + Duration::minutes(30),
                all_day: false,
                free: false,
                declined: i % 50 == 0,
                not_joinable: false,
                platform: link.as_ref().map(|_| "zoom".to_string()),
                meeting_url: link,
            }
        })
        .collect();
    let rules = JoinRules {
        horizon_hours: 48,
        ..JoinRules::default()
    };
    // A new plan's id as the app makes it.
    let mut new_id = punctual::app::new_plan_id;
    let mut fresh = Vec::new();
    let mut again = Vec::new();
    let mut plans = Vec::new();
    let mut cpu_fresh = Vec::new();
    let mut cpu_again = Vec::new();
    for _ in 0..5 {
        // The planner takes the strings of the candidates it plans (it moves them into the plans): a fresh
        // copy each time, made outside the timing, as the app builds its candidates from the store.
        let mut input = cands.clone();
        let (t, cpu) = (Instant::now(), cpu_ms());
        let changes = join::plan(&mut input, &[], &rules, now, &mut new_id);
        fresh.push(t.elapsed().as_secs_f64() * 1e3);
        cpu_fresh.push(cpu_ms() - cpu);
        plans = changes
            .into_iter()
            .filter_map(|c| match c {
                Change::Insert(p) => Some(p),
                _ => None,
            })
            .collect::<Vec<_>>();
        // The app reads the existing plans from the store before re-planning: fresh copies laid out in
        // order, where the plans just made share their strings' memory with the candidates they came from.
        plans = plans.clone();
        let mut input = cands.clone();
        let (t, cpu) = (Instant::now(), cpu_ms());
        let changes = join::plan(&mut input, &plans, &rules, now, &mut new_id);
        again.push(t.elapsed().as_secs_f64() * 1e3);
        cpu_again.push(cpu_ms() - cpu);
        assert!(
            changes.is_empty(),
            "re-planning an unchanged calendar changes nothing"
        );
    }
    for v in [&mut fresh, &mut again, &mut cpu_fresh, &mut cpu_again] {
        v.sort_by(f64::total_cmp);
    }
    println!(
        "plan 100k occurrences: {:.1} ms wall ({:.0} ms CPU) from scratch, {:.1} ms wall ({:.0} ms CPU) against {} existing plans (median of 5; goal <= 50 ms)",
        fresh[2],
        cpu_fresh[2],
        again[2],
        cpu_again[2],
        plans.len()
    );
}
