//! Crash safety: `punctual sync` is killed with SIGKILL at random points, 50 times, while the server keeps
//! changing. After every kill the database is intact and consistent; the next complete run converges on
//! what a clean full sync of the same server gives.

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
    let mut rng: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut killed_running = 0;
    for round in 0..50 {
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
        let mut child = cmd().args(["sync"]).spawn().expect("sync starts");
        // A round's sync takes about 250–450 ms at this latency (more after a 410): kills up to 600 ms in
        // reach every part of it, its last commit included, and some land after it ended.
        std::thread::sleep(Duration::from_millis(next() % 600));
        if child.try_wait().expect("the child's status").is_none() {
            killed_running += 1;
        }
        // SIGKILL: no destructors, no rollback by the process, the worst case for the database.
        let _ = child.kill();
        let _ = child.wait();
        consistent(&db, round);
    }
    eprintln!("{killed_running} of 50 kills landed while a sync ran");
    assert!(
        killed_running >= 15,
        "most kills must land while a sync runs, or the test proves nothing: {killed_running} of 50"
    );
    let status = cmd().args(["sync"]).status().expect("the last sync runs");
    assert!(status.success(), "a complete run after 50 kills succeeds");
    consistent(&db, 50);

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
