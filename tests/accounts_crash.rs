//! Crash safety: `punctual sync` is killed with SIGKILL at random points, 50 times (100 with
//! `PUNCTUAL_LONG=1`), while the server keeps changing. After every kill the database is intact and
//! consistent; the next complete run converges on what a clean full sync of the same server gives. Once
//! against the fake Google, once against the fake Graph (the CLI reaches each through its
//! `PUNCTUAL_*_URL` variables).

mod support;
#[allow(unused_imports)]
use support::GoogleApp as _;

use punctual::app::App;
use punctual::secrets::{MemorySecrets, SecretString};
use punctual::time::{FixedClock, Zone};
use std::io::Write;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use support::fake_google::{items, FakeGoogle, CLIENT_ID, CLIENT_SECRET};
use support::fake_graph::{self, FakeGraph};
use support::keyring_session::KeyringSession;

const CAL: &str = "jane@acme.example";
const TZ: &str = "Europe/Berlin";

fn single(id: u32, rev: u32) -> serde_json::Value {
    let day = 1 + id % 28;
    let hour = 8 + id % 9;
    items::timed(
        &format!("ev{id}"),
        &format!("Event {id} rev {rev}"),
        &format!("2026-03-{day:02}T{hour:02}:00:00+01:00"),
        &format!("2026-03-{day:02}T{hour:02}:30:00+01:00"),
        TZ,
    )
}

fn consistent(db: &std::path::Path, round: usize) {
    let c = rusqlite::Connection::open(db).expect("the database opens after a kill");
    let check: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity check runs");
    assert_eq!(check, "ok", "round {round}: SQLite reports the file intact");
    let orphans: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM occurrences WHERE owner_id NOT IN (SELECT id FROM events)",
            [],
            |r| r.get(0),
        )
        .expect("count orphans");
    assert_eq!(
        orphans, 0,
        "round {round}: no occurrence outlives its event"
    );
    let half: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM sync_state WHERE sync_token IS NULL AND page_token IS NULL",
            [],
            |r| r.get(0),
        )
        .expect("count sync states");
    assert_eq!(
        half, 0,
        "round {round}: a sync state row always says where to go on"
    );
}

/// How many times each test kills a sync: 50, or 100 with `PUNCTUAL_LONG=1`.
fn kills() -> usize {
    if std::env::var("PUNCTUAL_LONG").is_ok_and(|v| v == "1") {
        100
    } else {
        50
    }
}

/// Runs `punctual sync` `kills` times, the server changed by `change` (round, random source) before each
/// run, and SIGKILLs each run at a random point (up to 600 ms in, or a little past a complete run's length
/// if that is longer), checking the database after every kill. Returns how many kills landed while a sync
/// still ran, after asserting that most did.
fn kill_syncs(
    kills: usize,
    db: &std::path::Path,
    cmd: &dyn Fn() -> std::process::Command,
    change: &mut dyn FnMut(usize, &mut dyn FnMut() -> u64),
) -> usize {
    let mut rng: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut killed_running = 0;
    let mut reach: u64 = 600;
    // Kills that came after the run had committed something (its cursor moved): they show the kills
    // reach into the sync, not only its start-up.
    let mut after_a_commit = 0;
    let cursors = || -> String {
        rusqlite::Connection::open(db)
            .and_then(|c| {
                c.query_row(
                    "SELECT coalesce(group_concat(coalesce(sync_token, '') || coalesce(page_token, '')), '') FROM sync_state",
                    [],
                    |r| r.get(0),
                )
            })
            .unwrap_or_default()
    };
    for round in 0..kills {
        change(round, &mut next);
        let before = cursors();
        let mut child = cmd().args(["sync"]).spawn().expect("sync starts");
        std::thread::sleep(Duration::from_millis(next() % reach));
        let running = child.try_wait().expect("the child's status").is_none();
        // SIGKILL: no destructors, no rollback by the process, the worst case for the database.
        let _ = child.kill();
        let _ = child.wait();
        consistent(db, round);
        if running {
            killed_running += 1;
            after_a_commit += usize::from(cursors() != before);
        }
        if round == 0 {
            // After the first kill (most likely inside the first, full sync), a complete run finishes that
            // fetch, and a second one, an incremental sync like most rounds', is timed: kills reach up to
            // a little past its length, so they land in every part of a sync, its last commit included,
            // however fast this machine is, and some after it ended.
            cmd().args(["sync"]).status().expect("a complete run");
            let started = std::time::Instant::now();
            cmd().args(["sync"]).status().expect("a complete run");
            reach = reach.max(started.elapsed().as_millis() as u64 * 5 / 4);
            eprintln!(
                "an incremental sync took {:?}: kills reach {reach} ms",
                started.elapsed()
            );
        }
    }
    eprintln!("{after_a_commit} of the {killed_running} kills during a sync came after it had committed a page");
    assert!(
        killed_running >= kills * 3 / 10,
        "most kills must land while a sync runs, or the test proves nothing: {killed_running} of {kills}"
    );
    killed_running
}

#[test]
fn a_sync_killed_at_random_points_stays_consistent_and_converges() {
    let Some(ks) = KeyringSession::start() else {
        return;
    };
    let fake = FakeGoogle::start();
    fake.state().page_size = 25;
    // Each answer takes as long as a real round trip: an incremental sync is then a few hundred
    // milliseconds on any machine, so the random kills below land inside syncs rather than after them
    // (on a fast idle machine, a sync without latency was over before most kills).
    fake.state().latency = Duration::from_millis(60);
    for id in 0..300 {
        fake.put(CAL, single(id, 0));
    }
    fake.put(
        CAL,
        items::recurring(
            "weekly",
            "Weekly",
            "2026-03-02T09:00:00+01:00",
            "2026-03-02T09:30:00+01:00",
            TZ,
            &["RRULE:FREQ=WEEKLY;COUNT=10"],
        ),
    );
    let data = tempfile::tempdir().expect("a data dir");
    let cmd = || {
        let mut c = ks.punctual(data.path());
        c.env("PUNCTUAL_GOOGLE_AUTH_URL", fake.auth_url())
            .env("PUNCTUAL_GOOGLE_TOKEN_URL", fake.token_url())
            .env("PUNCTUAL_GOOGLE_API_URL", &fake.base)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    };
    let mut connect = cmd()
        .args([
            "--json",
            "connect",
            "google",
            "--refresh-token-stdin",
            "--no-sync",
        ])
        .args(["--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET])
        .spawn()
        .expect("connect starts");
    let rt = fake.issue_refresh_token();
    connect
        .stdin
        .take()
        .expect("stdin")
        .write_all(rt.as_bytes())
        .expect("token written");
    assert!(
        connect.wait().expect("connect ends").success(),
        "the account connects"
    );

    let db = data.path().join("punctual.sqlite3");
    let kills = kills();
    let started = std::time::Instant::now();
    let killed_running = kill_syncs(kills, &db, &cmd, &mut |round, next| {
        // The server moves on between runs: updates, deletions, new events, and now and then a 410.
        for _ in 0..5 {
            let id = (next() % 340) as u32;
            match next() % 3 {
                0 => fake.delete(CAL, &format!("ev{id}")),
                _ => fake.put(CAL, single(id, round as u32 + 1)),
            }
        }
        if next() % 10 == 0 {
            fake.expire_sync_tokens();
        }
        if next() % 7 == 0 {
            fake.put(
                CAL,
                items::cancelled_instance(
                    "weekly",
                    &format!("2026-03-{:02}T09:00:00+01:00", 2 + 7 * (next() % 4)),
                    TZ,
                ),
            );
        }
    });
    eprintln!(
        "google: {killed_running} of {kills} kills landed while a sync ran, in {:?}",
        started.elapsed()
    );
    let status = cmd().args(["sync"]).status().expect("the last sync runs");
    assert!(status.success(), "a complete run after the kills succeeds");
    consistent(&db, kills);

    let clock = Arc::new(FixedClock::new(support::now()));
    let zone = Zone::parse(TZ).expect("zone");
    let after =
        App::open_with(data.path(), clock.clone(), zone).expect("the killed app's data opens");
    let fresh = App::in_memory(clock, zone)
        .expect("a clean app")
        .with_secrets(Arc::new(MemorySecrets::new()))
        .with_google(support::setup_for(&fake));
    let c = fresh
        .connect_google_refresh_token(SecretString::new(fake.issue_refresh_token()))
        .expect("the clean app connects");
    fresh
        .sync(Some(&c.id), false, &mut |_, _| {})
        .expect("a clean full sync");
    let want = support::window_occurrences(&fresh);
    assert!(
        want.len() > 250,
        "the server still has most events: {}",
        want.len()
    );
    assert_eq!(
        support::window_occurrences(&after),
        want,
        "after the kills and one complete run the store equals a clean full sync"
    );
}

/// One Microsoft single event: `id` days from `base` (1 to 28), at an hour of the day, 30 minutes, in UTC.
fn graph_single(base: chrono::DateTime<chrono::Utc>, id: u32, rev: u32) -> serde_json::Value {
    let start = base
        + chrono::Duration::days(1 + (id % 28) as i64)
        + chrono::Duration::hours((id % 9) as i64);
    let mut v = fake_graph::items::single(
        &format!("Event {id} rev {rev}"),
        &start.format("%Y-%m-%dT%H:%M:%S").to_string(),
        &(start + chrono::Duration::minutes(30))
            .format("%Y-%m-%dT%H:%M:%S")
            .to_string(),
        "UTC",
    );
    v["id"] = serde_json::json!(format!("ev{id}"));
    v
}

#[test]
fn a_microsoft_sync_killed_at_random_points_stays_consistent_and_converges() {
    let Some(ks) = KeyringSession::start() else {
        return;
    };
    let fake = FakeGraph::start();
    fake.state().page_limit = Some(25);
    // As for Google: each answer takes a real round trip's time, so kills land inside syncs.
    fake.state().latency = Duration::from_millis(60);
    // The CLI runs on the real clock: the events live in the weeks after today, inside Graph's window.
    let base = chrono::Utc::now()
        .date_naive()
        .and_hms_opt(8, 0, 0)
        .expect("08:00 exists")
        .and_utc();
    let mut live = std::collections::BTreeSet::new();
    for id in 0..300 {
        fake.put(fake_graph::DEFAULT_CALENDAR, graph_single(base, id, 0));
        live.insert(id);
    }
    // A weekly series, served as occurrence stubs whose master each sync fetches.
    let first = base + chrono::Duration::days(1) + chrono::Duration::hours(1);
    let mut weekly = fake_graph::items::teams(fake_graph::items::weekly(
        "Weekly",
        &first.format("%Y-%m-%dT%H:%M:%S").to_string(),
        &(first + chrono::Duration::minutes(30))
            .format("%Y-%m-%dT%H:%M:%S")
            .to_string(),
        "UTC",
        &[first.format("%A").to_string().to_lowercase().as_str()],
        1,
        fake_graph::items::numbered(10),
    ));
    weekly["id"] = serde_json::json!("weekly");
    fake.put(fake_graph::DEFAULT_CALENDAR, weekly);
    let mut cancelled = std::collections::BTreeSet::new();
    let data = tempfile::tempdir().expect("a data dir");
    let cmd = || {
        let mut c = ks.punctual(data.path());
        c.env("PUNCTUAL_MICROSOFT_AUTH_URL", fake.auth_url("{tenant}"))
            .env("PUNCTUAL_MICROSOFT_TOKEN_URL", fake.token_url("{tenant}"))
            .env("PUNCTUAL_MICROSOFT_API_URL", fake.api_url())
            .env("PUNCTUAL_MICROSOFT_CLIENT_ID", fake_graph::CLIENT_ID)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    };
    let mut connect = cmd()
        .args([
            "--json",
            "connect",
            "microsoft",
            "--refresh-token-stdin",
            "--no-sync",
        ])
        .spawn()
        .expect("connect starts");
    connect
        .stdin
        .take()
        .expect("stdin")
        .write_all(fake.issue_refresh_token().as_bytes())
        .expect("token written");
    assert!(
        connect.wait().expect("connect ends").success(),
        "the account connects"
    );

    let db = data.path().join("punctual.sqlite3");
    let kills = kills();
    let started = std::time::Instant::now();
    let killed_running = kill_syncs(kills, &db, &cmd, &mut |round, next| {
        // The server moves on between runs: updates, deletions, new events, a deleted occurrence, and now
        // and then a 410.
        for _ in 0..5 {
            let id = (next() % 340) as u32;
            if next() % 3 == 0 {
                if live.remove(&id) {
                    fake.delete(&format!("ev{id}"));
                }
            } else {
                fake.put(
                    fake_graph::DEFAULT_CALENDAR,
                    graph_single(base, id, round as u32 + 1),
                );
                live.insert(id);
            }
        }
        if next() % 10 == 0 {
            fake.expire_delta_tokens();
        }
        if next() % 7 == 0 {
            let week = 1 + next() % 9;
            if cancelled.insert(week) {
                let at = first + chrono::Duration::weeks(week as i64);
                fake.delete(&format!("weekly_occ{}", at.format("%Y%m%dT%H%M%SZ")));
            }
        }
    });
    eprintln!(
        "microsoft: {killed_running} of {kills} kills landed while a sync ran, in {:?}",
        started.elapsed()
    );
    let status = cmd().args(["sync"]).status().expect("the last sync runs");
    assert!(status.success(), "a complete run after the kills succeeds");
    consistent(&db, kills);

    let clock = Arc::new(FixedClock::new(chrono::Utc::now()));
    let zone = Zone::parse(TZ).expect("zone");
    let after =
        App::open_with(data.path(), clock.clone(), zone).expect("the killed app's data opens");
    let fresh = App::in_memory(clock, zone)
        .expect("a clean app")
        .with_secrets(Arc::new(MemorySecrets::new()))
        .with_provider(
            punctual::model::Provider::OutlookCalendar,
            support::graph_setup(&fake),
        );
    let c = fresh
        .connect(
            punctual::model::Provider::OutlookCalendar,
            punctual::app::ConnectRequest::new(punctual::app::SignIn::RefreshToken(
                SecretString::new(fake.issue_refresh_token()),
            )),
        )
        .expect("the clean app connects");
    fresh
        .sync(Some(&c.id), false, &mut |_, _| {})
        .expect("a clean full sync");
    let (from, to) = (
        base.to_rfc3339(),
        (base + chrono::Duration::days(90)).to_rfc3339(),
    );
    let want = support::occurrences_between(&fresh, &from, &to);
    assert!(
        want.len() > 250,
        "the server still has most events: {}",
        want.len()
    );
    assert!(
        want.iter().any(|(_, _, t)| t == "Weekly"),
        "the series' occurrences are among them"
    );
    assert_eq!(
        support::occurrences_between(&after, &from, &to),
        want,
        "after the kills and one complete run the store equals a clean full sync"
    );
}
