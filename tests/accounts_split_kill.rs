//! "This and following" at the provider survives a SIGKILL between its steps. A split is two calls (end the
//! old series, insert the new one); `punctual edit --scope following` is killed while the provider has taken a
//! step whose answer never reached the process. The next `punctual sync` replays the outbox: the series ends up
//! split at the provider exactly once, with nothing filed as a conflict and every occurrence titled as the
//! user asked.

mod support;

use serde_json::Value;
use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::fake_google::{items, FakeGoogle, CLIENT_ID, CLIENT_SECRET};
use support::keyring_session::KeyringSession;

const CAL: &str = "jane@acme.example";

/// Monday of the week after next at 10:00 UTC: ahead of the clock, so the sync window holds the series.
fn first_start() -> chrono::DateTime<chrono::Utc> {
    use chrono::Datelike;
    let today = chrono::Utc::now().date_naive();
    let monday =
        today + chrono::Duration::days(14 - i64::from(today.weekday().num_days_from_monday()));
    monday
        .and_hms_opt(10, 0, 0)
        .expect("10:00 exists on every day")
        .and_utc()
}

struct World {
    ks: KeyringSession,
    fake: FakeGoogle,
    data: tempfile::TempDir,
}

impl World {
    /// An account synced once, with a weekly series of four at the provider.
    fn new() -> Option<World> {
        let ks = KeyringSession::start()?;
        let fake = FakeGoogle::start();
        let start = first_start();
        let fmt = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        fake.put(
            CAL,
            items::recurring(
                "wk",
                "Weekly",
                &fmt(start),
                &fmt(start + chrono::Duration::minutes(30)),
                "UTC",
                &["RRULE:FREQ=WEEKLY;COUNT=4"],
            ),
        );
        let w = World {
            ks,
            fake,
            data: tempfile::tempdir().expect("a data dir"),
        };
        let mut connect = w
            .cmd()
            .args(["--json", "connect", "google", "--refresh-token-stdin"])
            .args(["--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET])
            .stdin(Stdio::piped())
            .spawn()
            .expect("connect starts");
        let rt = w.fake.issue_refresh_token();
        connect
            .stdin
            .take()
            .expect("stdin")
            .write_all(rt.as_bytes())
            .expect("token written");
        let out = connect.wait_with_output().expect("connect ends");
        assert!(
            out.status.success(),
            "the account connects and syncs: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(w)
    }

    fn cmd(&self) -> Command {
        let mut c = self.ks.punctual(self.data.path());
        c.env("PUNCTUAL_GOOGLE_AUTH_URL", self.fake.auth_url())
            .env("PUNCTUAL_GOOGLE_TOKEN_URL", self.fake.token_url())
            .env("PUNCTUAL_GOOGLE_API_URL", &self.fake.base)
            .env("PUNCTUAL_TIME_ZONE", "UTC")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("punctual runs")
    }

    fn json(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} succeeds: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("the output is JSON")
    }

    /// The series' occurrences as listed, (start, title), in order.
    fn occurrences(&self) -> Vec<(String, String, String)> {
        let from = (first_start() - chrono::Duration::days(1)).to_rfc3339();
        let to = (first_start() + chrono::Duration::days(40)).to_rfc3339();
        let list = self.json(&[
            "--json", "events", "--all", "--from", &from, "--to", &to, "--limit", "100",
        ]);
        let mut out: Vec<(String, String, String)> = list["events"]
            .as_array()
            .expect("an events array")
            .iter()
            .map(|e| {
                let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
                (s("start_time"), s("title"), s("id"))
            })
            .collect();
        out.sort();
        out
    }

    /// Kills `punctual edit --scope following` once the provider has answered `gated` (but the answer is
    /// held), then lets a plain sync replay the outbox.
    fn kill_split_at(&self, gated: &str) {
        let third = self.occurrences()[2].2.clone();
        let gate = self.fake.hold_answers(gated);
        let before = self.fake.requests(gated);
        let mut edit = self
            .cmd()
            .args([
                "edit",
                &third,
                "--scope",
                "following",
                "--title",
                "Renamed from here",
            ])
            .spawn()
            .expect("the edit starts");
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.fake.requests(gated) == before {
            assert!(
                Instant::now() < deadline,
                "the edit's push reaches the provider's {gated} step"
            );
            if let Some(status) = edit.try_wait().expect("the edit's status") {
                panic!("the edit ended ({status}) before the provider was asked to {gated}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        // The provider has taken the step; the process dies before it hears so.
        edit.kill().expect("SIGKILL the edit");
        let _ = edit.wait();
        gate.release();
        self.fake.state().answer_gates.clear();

        let sync = self.run(&["sync"]);
        assert!(
            sync.status.success(),
            "the next sync replays the outbox: {}",
            String::from_utf8_lossy(&sync.stderr)
        );
        self.split_once();
    }

    fn split_once(&self) {
        let series: Vec<Value> = self
            .fake
            .items(CAL)
            .into_iter()
            .filter(|i| i["status"] != "cancelled" && i.get("recurrence").is_some())
            .collect();
        assert_eq!(
            series.len(),
            2,
            "the series is split at the provider exactly once, the ended master and one new series: {series:?}"
        );
        let conflicts = self.json(&["--json", "conflicts"]);
        assert_eq!(
            conflicts.as_array().map(Vec::len),
            Some(0),
            "a step the provider took is never filed as the provider refusing it: {conflicts}"
        );
        let titles: Vec<String> = self.occurrences().into_iter().map(|o| o.1).collect();
        assert_eq!(
            titles,
            ["Weekly", "Weekly", "Renamed from here", "Renamed from here"],
            "the user's change holds from the third occurrence on, and the first two are untouched"
        );
    }
}

#[test]
fn a_split_killed_after_the_provider_ended_the_old_series_is_finished_once_by_the_next_sync() {
    let Some(w) = World::new() else { return };
    // Step one, ending the master, is a PATCH: taken at the provider, its answer lost.
    w.kill_split_at("PATCH /calendar/v3/calendars/");
}

#[test]
fn a_split_killed_after_the_provider_made_the_new_series_is_finished_once_by_the_next_sync() {
    let Some(w) = World::new() else { return };
    // Step two, the new series, is a POST: the master's end was saved, the insert's answer lost.
    w.kill_split_at("POST /calendar/v3/calendars/");
}
