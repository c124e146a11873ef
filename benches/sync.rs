//! Sync benchmark for Google and Microsoft Graph (release: `cargo bench --bench sync`), printing, for each
//! provider in one run, the figures issues 6 and 14 ask for:
//! - the apply path (parse the events.list or calendarView delta page, detect links, store the page with its
//!   cursor) over 50k events in the provider's page size, in events/s, run as the sync engine runs it (a writer thread stores one
//!   page while the next is parsed): the median of `PUNCTUAL_BENCH_SAMPLES` runs (5), each on a fresh
//!   store; and each stage's cost when they run one after another;
//! - the end-to-end time of a connect and first sync of the same 50k events from the fake over HTTP.
//!
//! A bench binary rather than criterion, like benches/core.rs: the figures are throughputs of one large run.
//! The events are generated deterministically: for Google a third carry a Meet link and one in twenty is a
//! weekly series; for Graph (`FakeGraph::add_singles`) every event is a single instance and a third are
//! Teams meetings. The database is a real file in a temp dir (WAL), as in the app.

#[path = "../tests/support/fake_google.rs"]
#[allow(dead_code, clippy::all)]
mod fake_google;
#[path = "../tests/support/fake_graph.rs"]
#[allow(dead_code, clippy::all)]
mod fake_graph;

use chrono::{DateTime, Duration, Utc};
use fake_google::{items, FakeGoogle};
use fake_graph::FakeGraph;
use punctual::app::{App, ConnectRequest, SignIn};
use punctual::model::{stamp, Connection, ConnectionState, Provider};
use punctual::providers::google::{parse_events_page, PAGE_SIZE};
use punctual::providers::ProviderSetup;
use punctual::providers::{CalendarRef, ChangePage};
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
    let zone = Zone::parse("Europe/Berlin").expect("zone");
    punctual::auth::install_tls_provider();
    let http = reqwest::blocking::Client::new();
    let apply_only = std::env::var_os("PUNCTUAL_BENCH_APPLY_ONLY").is_some();

    // Google: events.list pages of 2,500 with their sync token.
    let fake = FakeGoogle::start();
    fake.state().page_size = PAGE_SIZE as usize;
    let t = Instant::now();
    fill(&fake, base);
    println!(
        "fake Google filled with {EVENTS} events in {:.2?}",
        t.elapsed()
    );
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
        let body = get(&http, &url, &token, &[]);
        let v: serde_json::Value = serde_json::from_slice(&body).expect("page JSON");
        page = v["nextPageToken"].as_str().map(str::to_string);
        bodies.push(body);
        if page.is_none() {
            break;
        }
    }
    let google = Bench {
        name: "Google",
        provider: Provider::GoogleCalendar,
        remote_cal: CAL,
        meetings: EVENTS.div_ceil(3),
    };
    google.apply(&bodies, base, zone, &|body, cref| {
        parse_events_page(body, cref).expect("a Google page parses")
    });
    if !apply_only {
        let (_dir, app) = bench_app(base, zone);
        let app = app.with_provider(
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
        google.end_to_end(&app, fake.issue_refresh_token());
    }
    drop(fake);

    // Microsoft Graph: calendarView delta pages, followed by @odata.nextLink to the deltaLink, with the
    // headers the provider sends.
    let graph = FakeGraph::start();
    graph.state().page_size = graph_page_size();
    let t = Instant::now();
    graph.add_singles(
        fake_graph::DEFAULT_CALENDAR,
        EVENTS,
        base,
        Duration::minutes(10),
    );
    println!(
        "fake Graph filled with {EVENTS} events in {:.2?}",
        t.elapsed()
    );
    let api = url::Url::parse(&graph.api_url()).expect("the fake's API base");
    let token = graph.issue_access_token();
    let prefer = [
        ("Prefer", "outlook.timezone=\"UTC\"".to_string()),
        ("Prefer", "outlook.body-content-type=\"text\"".to_string()),
        ("Prefer", format!("odata.maxpagesize={}", graph_page_size())),
    ];
    let mut bodies = Vec::new();
    let mut next = Some(format!(
        "{}/me/calendars/{}/calendarView/delta?startDateTime={}&endDateTime={}",
        graph.api_url(),
        fake_graph::DEFAULT_CALENDAR,
        (base - Duration::days(30)).format("%Y-%m-%dT%H:%M:%SZ"),
        (base + Duration::days(400)).format("%Y-%m-%dT%H:%M:%SZ"),
    ));
    while let Some(url) = next.take() {
        let body = get(&http, &url, &token, &prefer);
        let v: serde_json::Value = serde_json::from_slice(&body).expect("page JSON");
        next = v["@odata.nextLink"].as_str().map(str::to_string);
        bodies.push(body);
    }
    let microsoft = Bench {
        name: "Microsoft Graph",
        provider: Provider::OutlookCalendar,
        remote_cal: fake_graph::DEFAULT_CALENDAR,
        meetings: EVENTS.div_ceil(3),
    };
    microsoft.apply(&bodies, base, zone, &|body, cref| {
        // Every event of the bench is a single instance: no series master is asked for.
        punctual::providers::microsoft::parse_page(body, cref, &api, &mut |_| Ok(None))
            .expect("a Graph page parses")
    });
    if !apply_only {
        let (_dir, app) = bench_app(base, zone);
        let app = app.with_provider(
            Provider::OutlookCalendar,
            ProviderSetup {
                auth_url: graph.auth_url("common"),
                token_url: graph.token_url("common"),
                api_url: graph.api_url(),
                client_id: Some(fake_graph::CLIENT_ID.into()),
                ..ProviderSetup::default()
            },
        );
        microsoft.end_to_end(&app, graph.issue_refresh_token());
    }
}

/// The fake Graph's page size: the provider's own (`Prefer: odata.maxpagesize`), as the app asks for it, or
/// `PUNCTUAL_BENCH_GRAPH_PAGE_SIZE`, to see what the page size costs (pages are transactions).
fn graph_page_size() -> usize {
    std::env::var("PUNCTUAL_BENCH_GRAPH_PAGE_SIZE")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(punctual::providers::microsoft::PAGE_SIZE as usize)
}

/// One GET with a bearer token and extra headers, answering the body.
fn get(
    http: &reqwest::blocking::Client,
    url: &str,
    token: &str,
    headers: &[(&str, String)],
) -> Vec<u8> {
    let mut req = http.get(url).bearer_auth(token);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    req.send()
        .and_then(|r| r.error_for_status())
        .and_then(|r| r.bytes())
        .expect("the fake serves a page")
        .to_vec()
}

/// An app on a fresh data dir with in-memory secrets (kept with its dir).
fn bench_app(base: DateTime<Utc>, zone: Zone) -> (tempfile::TempDir, App) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let app = App::open_with(dir.path(), Arc::new(FixedClock::new(base)), zone)
        .expect("an app")
        .with_secrets(Arc::new(MemorySecrets::new()));
    (dir, app)
}

/// One provider's figures: the apply path over its pages, and a first sync end to end.
struct Bench {
    name: &'static str,
    provider: Provider,
    remote_cal: &'static str,
    /// How many of the events carry a link detection accepts.
    meetings: usize,
}

impl Bench {
    /// The apply path as the sync engine runs it: the writer thread stores a page while this thread parses
    /// and detects the next (`sync::with_pipeline`). Each sample starts from a fresh store. This shared
    /// 2-core host's speed drifts by half from one second to the next (the same work has taken 0.9 to 1.6 s
    /// of CPU), so the figure is the median of several samples, with the range beside it; then each stage's
    /// cost when they run one after another.
    fn apply(
        &self,
        bodies: &[Vec<u8>],
        base: DateTime<Utc>,
        zone: Zone,
        parse: &dyn Fn(&[u8], &CalendarRef<'_>) -> ChangePage,
    ) {
        let now = base;
        let samples: usize = std::env::var("PUNCTUAL_BENCH_SAMPLES")
            .ok()
            .and_then(|n| n.parse().ok())
            .filter(|&n| n > 0)
            .unwrap_or(5);
        // A first sync is a full fetch: its pages are marked, and the last removes what none of them held.
        let phase = |i: usize| punctual::sync::FetchPhase::Full {
            first: i == 0,
            last: i + 1 == bodies.len(),
        };
        let mut runs: Vec<(f64, Option<f64>)> = Vec::with_capacity(samples);
        let mut n = 0;
        for _ in 0..samples {
            let (_dir, store, cal_id) = bench_store(base, zone, self.provider, self.remote_cal);
            let cref = CalendarRef {
                id: &cal_id,
                remote_id: self.remote_cal,
                zone,
            };
            let cpu0 = process_cpu_seconds();
            let t = Instant::now();
            let stored = punctual::sync::with_pipeline(&store, &cal_id, |pipeline| {
                let mut stored = 0;
                for (i, body) in bodies.iter().enumerate() {
                    let page = parse(body, &cref);
                    let next = cursor_after(&page);
                    stored += pipeline
                        .push(page.changes, next, phase(i), now)?
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
                "  {} sample: {n} events in {:.0} ms = {:.0} events/s{}",
                self.name,
                wall * 1e3,
                n as f64 / wall,
                cpu.map_or(String::new(), |c| format!(", {c:.2} s of CPU"))
            );
            runs.push((n as f64 / wall, cpu));
        }
        // Measured after the samples, so that writing back this run's database does not weigh on them.
        let (serial_dir, store, cal_id) = bench_store(base, zone, self.provider, self.remote_cal);
        let cref = CalendarRef {
            id: &cal_id,
            remote_id: self.remote_cal,
            zone,
        };
        let (mut parse_t, mut prepare, mut write, mut free) = Default::default();
        let mut serial_n = 0;
        for (i, body) in bodies.iter().enumerate() {
            let t = Instant::now();
            let page = parse(body, &cref);
            parse_t += t.elapsed();
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
        let serial: std::time::Duration = [parse_t, prepare, write, free].iter().sum();
        drop(store);
        report_sizes(serial_dir.path(), self.meetings);
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
            "{} apply path (parse, detect, store; pipelined as the sync engine runs it): {n} events in {} \
             pages: median {:.0} events/s over {samples} samples (min {:.0}, max {:.0}; goal >= 50000){cpu}",
            self.name,
            bodies.len(),
            rates[rates.len() / 2],
            rates[0],
            rates[rates.len() - 1]
        );
        println!(
            "  the stages one after another: parse {}, detect links and encode rows {}, store {}, free {}; \
             sum {} = {:.0} events/s",
            ms(parse_t),
            ms(prepare),
            ms(write),
            ms(free),
            ms(serial),
            n as f64 / serial.as_secs_f64()
        );
    }

    /// Connect with a refresh token, then the first sync of every event over HTTP from the fake.
    fn end_to_end(&self, app: &App, refresh_token: String) {
        let t = Instant::now();
        let conn = app
            .connect(
                self.provider,
                ConnectRequest::new(SignIn::RefreshToken(SecretString::new(refresh_token))),
            )
            .expect("connect");
        let reports = app
            .sync(Some(&conn.id), false, &mut |_, _| {})
            .expect("sync");
        let e2e = t.elapsed();
        let changes: usize = reports.iter().map(|r| r.changes).sum();
        println!(
            "{} end to end: connect + first sync of {changes} events over HTTP from the fake in {:.2?} \
             ({:.0} events/s)",
            self.name,
            e2e,
            changes as f64 / e2e.as_secs_f64()
        );
    }
}

/// A store in a temp dir (WAL, as in the app) with the bench's calendar of `provider` in it.
fn bench_store(
    base: DateTime<Utc>,
    zone: Zone,
    provider: Provider,
    remote_cal: &str,
) -> (tempfile::TempDir, Store, String) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let store = Store::open(dir.path(), zone).expect("a store");
    let now = base;
    let cal_id = store
        .write(|w| {
            w.ensure_local_calendar(now)?;
            w.ensure_months(base - Duration::days(31), base + Duration::days(31 * 13))?;
            w.insert_connection(&Connection {
                id: "bench".into(),
                provider,
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
                    remote_id: remote_cal.into(),
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
fn report_sizes(dir: &std::path::Path, meetings_wanted: usize) {
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
            meetings as usize, meetings_wanted,
            "every third event carries a meeting link (Meet, Teams) that detection accepts"
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
