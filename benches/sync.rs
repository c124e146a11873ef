//! Google sync benchmark (release: `cargo bench --bench sync`), printing the figures issue 6 asks for:
//! - the apply path (parse the events.list page, detect links, store the page with its cursor) over 50k
//!   events in pages of 2,500, in events/s, run as the sync engine runs it (a writer thread stores one
//!   page while the next is parsed): the median of `PUNCTUAL_BENCH_SAMPLES` runs (5), each on a fresh
//!   store; and each stage's cost when they run one after another;
//! - the end-to-end time of a first sync of the same 50k events from the fake Google over HTTP.
//!
//! A bench binary rather than criterion, like benches/core.rs: the figures are throughputs of one large run.
//! The events are generated deterministically: a third carry a Meet link, one in twenty is a weekly series,
//! and the database is a real file in a temp dir (WAL), as in the app.

#[path = "../tests/support/fake_google.rs"]
#[allow(dead_code, clippy::all)]
mod fake_google;

use chrono::{DateTime, Duration, Utc};
use fake_google::{items, FakeGoogle};
use punctual::app::{App, ConnectRequest, SignIn};
use punctual::model::{stamp, Connection, ConnectionState, Provider};
use punctual::providers::google::{parse_events_page, PAGE_SIZE};
use punctual::providers::CalendarRef;
use punctual::providers::ProviderSetup;
use punctual::secrets::{MemorySecrets, SecretString};
use punctual::store::{RemoteCalendar, Store, SyncState};
use punctual::time::{FixedClock, Zone};
use std::sync::Arc;
use std::time::Instant;

const CAL: &str = "jane@acme.example";
const EVENTS: usize = 50_000;

fn fill(fake: &FakeGoogle, base: DateTime<Utc>) {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for i in 0..EVENTS {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let start = base + Duration::minutes(((x % (365 * 24 * 4)) * 15) as i64);
        let end = start + Duration::minutes(30);
        let id = format!("ev{i:06}");
        let item = if i % 20 == 0 {
            items::recurring(
                &id,
                &format!("Series {i}"),
                &start.to_rfc3339(),
                &end.to_rfc3339(),
                "Europe/Berlin",
                &["RRULE:FREQ=WEEKLY;COUNT=20"],
            )
        } else {
            let mut v = items::timed(
                &id,
                &format!("Meeting {i}"),
                &start.to_rfc3339(),
                &end.to_rfc3339(),
                "Europe/Berlin",
            );
            v["description"] = serde_json::json!(format!(
                "Agenda for meeting {i}: notes, links, and a long line of text."
            ));
            v
        };
        let item = if i % 3 == 0 {
            // A Meet code is letters only (xxx-xxxx-xxx): detection must accept it, as it would a real one.
            let letters: String = format!("{:04}", i % 10_000)
                .bytes()
                .map(|d| char::from(b'a' + (d - b'0')))
                .collect();
            items::with_meet(item, &format!("abc-{letters}-xyz"))
        } else {
            item
        };
        fake.put(CAL, item);
    }
}

fn main() {
    let base = DateTime::parse_from_rfc3339("2026-01-05T08:00:00Z")
        .expect("a valid instant")
        .with_timezone(&Utc);
    let fake = FakeGoogle::start();
    fake.state().page_size = PAGE_SIZE as usize;
    let t = Instant::now();
    fill(&fake, base);
    println!(
        "fake Google filled with {EVENTS} events in {:.2?}",
        t.elapsed()
    );
    let zone = Zone::parse("Europe/Berlin").expect("zone");
    let clock = Arc::new(FixedClock::new(base));

    // The pages as Google would serve them, fetched once so the apply path is measured alone.
    punctual::auth::install_tls_provider();
    let http = reqwest::blocking::Client::new();
    let token = fake.issue_access_token();
    let mut bodies = Vec::new();
    let mut page: Option<String> = None;
    loop {
        let mut url = format!(
            "{}/calendar/v3/calendars/{CAL}/events?singleEvents=false&showDeleted=true&maxResults={PAGE_SIZE}",
            fake.base
        );
        if let Some(p) = &page {
            url.push_str(&format!("&pageToken={p}"));
        }
        let body = http
            .get(&url)
            .bearer_auth(&token)
            .send()
            .and_then(|r| r.bytes())
            .expect("the fake serves a page")
            .to_vec();
        let v: serde_json::Value = serde_json::from_slice(&body).expect("page JSON");
        page = v["nextPageToken"].as_str().map(str::to_string);
        bodies.push(body);
        if page.is_none() {
            break;
        }
    }

    let now = base;

    // The apply path as the sync engine runs it: the writer thread stores a page while this thread
    // parses and detects the next (`sync::with_pipeline`). Each sample starts from a fresh store. This
    // shared 2-core host's speed drifts by half from one second to the next (the same work has taken
    // 0.9 to 1.6 s of CPU), so the figure is the median of several samples, with the range beside it.
    let samples: usize = std::env::var("PUNCTUAL_BENCH_SAMPLES")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(5);
    let mut runs: Vec<(f64, Option<f64>)> = Vec::with_capacity(samples);
    let mut n = 0;
    for _ in 0..samples {
        let (_dir, store, cal_id) = bench_store(base, zone);
        let cref = CalendarRef {
            id: &cal_id,
            remote_id: CAL,
            zone,
        };
        let cpu0 = process_cpu_seconds();
        let t = Instant::now();
        let stored = punctual::sync::with_pipeline(&store, &cal_id, |pipeline| {
            let mut stored = 0;
            for (i, body) in bodies.iter().enumerate() {
                let page = parse_events_page(body, &cref).expect("a page parses");
                let next = cursor_after(&page);
                let phase = punctual::sync::FetchPhase::Full {
                    first: i == 0,
                    last: i + 1 == bodies.len(),
                };
                stored += pipeline
                    .push(page.changes, next, phase, now)?
                    .iter()
                    .map(|p| p.changes)
                    .sum::<usize>();
            }
            Ok(stored + pipeline.drain()?.iter().map(|p| p.changes).sum::<usize>())
        })
        .expect("the pipeline stores every page");
        let wall = t.elapsed().as_secs_f64();
        let cpu = cpu0.zip(process_cpu_seconds()).map(|(a, b)| b - a);
        assert!(
            n == 0 || stored == n,
            "every sample stores the same changes ({stored}, then {n})"
        );
        n = stored;
        println!(
            "  sample: {n} events in {:.0} ms = {:.0} events/s{}",
            wall * 1e3,
            n as f64 / wall,
            cpu.map_or(String::new(), |c| format!(", {c:.2} s of CPU"))
        );
        runs.push((n as f64 / wall, cpu));
    }
    // The stages one after another on one thread, each timed: what each costs. Measured after the
    // samples, so that writing back this run's database does not weigh on the first of them.
    let (serial_dir, store, cal_id) = bench_store(base, zone);
    let cref = CalendarRef {
        id: &cal_id,
        remote_id: CAL,
        zone,
    };
    let (mut parse, mut prepare, mut write, mut free) = Default::default();
    let mut serial_n = 0;
    // A first sync is a full fetch: its pages are marked, and the last removes what none of them held.
    let phase = |i: usize| punctual::sync::FetchPhase::Full {
        first: i == 0,
        last: i + 1 == bodies.len(),
    };
    for (i, body) in bodies.iter().enumerate() {
        let t = Instant::now();
        let page = parse_events_page(body, &cref).expect("a page parses");
        parse += t.elapsed();
        let next = cursor_after(&page);
        let t = Instant::now();
        let ready = punctual::sync::prepare(page.changes, zone).expect("a page encodes");
        prepare += t.elapsed();
        let t = Instant::now();
        store
            .write(|w| punctual::sync::store_page(w, &cal_id, &ready, &next, phase(i), now))
            .expect("a page stores");
        write += t.elapsed();
        serial_n += ready.changes.len();
        let t = Instant::now();
        drop(ready);
        free += t.elapsed();
    }
    let serial: std::time::Duration = [parse, prepare, write, free].iter().sum();
    drop(store);
    report_sizes(serial_dir.path());
    assert_eq!(
        serial_n, n,
        "the stages one after another store every change the pipeline did"
    );

    let mut rates: Vec<f64> = runs.iter().map(|r| r.0).collect();
    rates.sort_by(f64::total_cmp);
    let mut cpus: Vec<f64> = runs.iter().filter_map(|r| r.1).collect();
    cpus.sort_by(f64::total_cmp);
    let cpu = cpus.get(cpus.len() / 2).map_or(String::new(), |c| {
        format!(", median {c:.2} s of CPU over its threads")
    });
    let ms = |d: std::time::Duration| format!("{:.0} ms", d.as_secs_f64() * 1e3);
    println!(
        "apply path (parse, detect, store; pipelined as the sync engine runs it): {n} events in {} pages \
         of {PAGE_SIZE}: median {:.0} events/s over {samples} samples (min {:.0}, max {:.0}; goal >= 50000){cpu}",
        bodies.len(),
        rates[rates.len() / 2],
        rates[0],
        rates[rates.len() - 1]
    );
    println!(
        "  the stages one after another: parse {}, detect links and encode rows {}, store {}, free {}; \
         sum {} = {:.0} events/s",
        ms(parse),
        ms(prepare),
        ms(write),
        ms(free),
        ms(serial),
        n as f64 / serial.as_secs_f64()
    );

    if std::env::var_os("PUNCTUAL_BENCH_APPLY_ONLY").is_some() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let app = App::open_with(dir.path(), clock, zone)
        .expect("an app")
        .with_secrets(Arc::new(MemorySecrets::new()))
        .with_provider(
            Provider::GoogleCalendar,
            ProviderSetup {
                auth_url: fake.auth_url(),
                token_url: fake.token_url(),
                api_url: fake.base.clone(),
                client_id: Some(fake_google::CLIENT_ID.into()),
                client_secret: Some(SecretString::new(fake_google::CLIENT_SECRET)),
                ..ProviderSetup::default()
            },
        );
    let t = Instant::now();
    let conn = app
        .connect(
            Provider::GoogleCalendar,
            ConnectRequest::new(SignIn::RefreshToken(SecretString::new(
                fake.issue_refresh_token(),
            ))),
        )
        .expect("connect");
    let reports = app
        .sync(Some(&conn.id), false, &mut |_, _| {})
        .expect("sync");
    let e2e = t.elapsed();
    println!(
        "end to end: connect + first sync of {} events over HTTP from the fake in {:.2?} ({:.0} events/s)",
        reports[0].changes,
        e2e,
        reports[0].changes as f64 / e2e.as_secs_f64()
    );
}

/// A store in a temp dir (WAL, as in the app) with the bench's Google calendar in it.
fn bench_store(base: DateTime<Utc>, zone: Zone) -> (tempfile::TempDir, Store, String) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let store = Store::open(dir.path(), zone).expect("a store");
    let now = base;
    let cal_id = store
        .write(|w| {
            w.ensure_local_calendar(now)?;
            w.ensure_months(base - Duration::days(31), base + Duration::days(31 * 13))?;
            w.insert_connection(&Connection {
                id: "bench".into(),
                provider: Provider::GoogleCalendar,
                account_email: Some(CAL.into()),
                user_name: None,
                state: ConnectionState::Connected,
                connection_failure_data: None,
                last_sync_at: None,
                event_count: 0,
                calendars: Vec::new(),
                primary_calendar_id: None,
                metadata: serde_json::json!({}),
                deduplication_key: None,
                created_at: stamp(now),
                updated_at: stamp(now),
            })?;
            let ids = w.put_remote_calendars(
                "bench",
                &[RemoteCalendar {
                    remote_id: CAL.into(),
                    summary: "Jane".into(),
                    description: None,
                    is_primary: true,
                    writable: true,
                    access_role: Some("owner".into()),
                    time_zone: Some("Europe/Berlin".into()),
                    background_color: None,
                    foreground_color: None,
                }],
                now,
            )?;
            Ok(ids[0].clone())
        })
        .expect("the bench calendar");
    (dir, store, cal_id)
}

/// The cursor saved with a page, as the engine computes it.
fn cursor_after(page: &punctual::providers::ChangePage) -> SyncState {
    SyncState {
        sync_token: page.sync_token.clone(),
        page_token: page.next_page.clone(),
        last_sync_at: None,
    }
}

/// What the apply path left on disk: the bytes a sync writes are a large part of its cost.
fn report_sizes(dir: &std::path::Path) {
    let size = |name: &str| std::fs::metadata(dir.join(name)).map_or(0, |m| m.len());
    let db = dir.join("punctual.sqlite3");
    let per_row = rusqlite::Connection::open(&db).and_then(|c| {
        c.query_row(
            "SELECT AVG(LENGTH(body)), AVG(LENGTH(raw)), COUNT(*), SUM(has_meeting) FROM events",
            [],
            |r| {
                Ok((
                    r.get::<_, f64>(0)?,
                    r.get::<_, f64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            },
        )
    });
    if let Ok((body, raw, n, meetings)) = per_row {
        assert_eq!(
            meetings as usize,
            EVENTS.div_ceil(3),
            "every third event carries a Meet link that detection accepts"
        );
        println!(
            "on disk: database {:.1} MB + WAL {:.1} MB for {n} event rows, {meetings} with a meeting (body {body:.0} B, raw {raw:.0} B each)",
            size("punctual.sqlite3") as f64 / 1e6,
            size("punctual.sqlite3-wal") as f64 / 1e6,
        );
    }
}

/// CPU time of the whole process (every thread) where Linux tells it, in seconds: on this shared
/// machine a busy neighbour inflates wall time, much less CPU time.
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces): utime and stime are
    // the 12th and 13th of them, in clock ticks of 1/100 s on Linux.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}
