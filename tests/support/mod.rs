//! Shared by the account tests: the fake Google and the fake Microsoft Graph, and an app wired to the
//! Google one with in-memory secrets and a backoff that records its waits instead of sleeping.

#![allow(dead_code)]

pub mod fake_google;
pub mod fake_graph;
pub mod keyring_session;

use chrono::{DateTime, Utc};
use fake_google::FakeGoogle;
use punctual::app::{App, ConnectRequest, SignIn};
use punctual::error::Result as CoreResult;
use punctual::model::{Connection, Provider};
use punctual::providers::ProviderSetup;
use punctual::secrets::{MemorySecrets, SecretString, Secrets};
use punctual::sync::Backoff;
use punctual::time::{FixedClock, Zone};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct Harness {
    pub fake: FakeGoogle,
    pub app: App,
    pub secrets: Arc<MemorySecrets>,
    pub clock: Arc<FixedClock>,
    /// Every wait the sync's backoff asked for.
    pub waits: Arc<Mutex<Vec<Duration>>>,
}

pub fn setup_for(fake: &FakeGoogle) -> ProviderSetup {
    ProviderSetup {
        auth_url: fake.auth_url(),
        token_url: fake.token_url(),
        api_url: fake.base.clone(),
        revoke_url: Some(fake.revoke_url()),
        client_id: Some(fake_google::CLIENT_ID.to_string()),
        client_secret: Some(SecretString::new(fake_google::CLIENT_SECRET)),
        ..ProviderSetup::default()
    }
}

/// The Google connects the account tests were written with, over the app's one `connect`.
pub trait GoogleApp: Sized {
    fn with_google(self, setup: ProviderSetup) -> Self;
    fn connect_google(
        &self,
        open: &dyn Fn(&str) -> std::result::Result<(), String>,
        timeout: Duration,
    ) -> CoreResult<Connection>;
    fn connect_google_refresh_token(&self, refresh: SecretString) -> CoreResult<Connection>;
}

impl GoogleApp for App {
    fn with_google(self, setup: ProviderSetup) -> App {
        self.with_provider(Provider::GoogleCalendar, setup)
    }

    fn connect_google(
        &self,
        open: &dyn Fn(&str) -> std::result::Result<(), String>,
        timeout: Duration,
    ) -> CoreResult<Connection> {
        self.connect(
            Provider::GoogleCalendar,
            ConnectRequest::new(SignIn::Browser {
                open,
                timeout,
                cancel: punctual::auth::Cancel::new(),
            }),
        )
    }

    fn connect_google_refresh_token(&self, refresh: SecretString) -> CoreResult<Connection> {
        self.connect(
            Provider::GoogleCalendar,
            ConnectRequest::new(SignIn::RefreshToken(refresh)),
        )
    }
}

pub fn recording_backoff(waits: &Arc<Mutex<Vec<Duration>>>, seed: u64) -> Backoff {
    let w = waits.clone();
    Backoff {
        base: Duration::from_millis(100),
        max_delay: Duration::from_secs(30),
        attempts: 6,
        sleep: Arc::new(move |d| w.lock().unwrap_or_else(|e| e.into_inner()).push(d)),
        seed,
    }
}

pub fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-02T08:00:00Z")
        .expect("a valid instant")
        .with_timezone(&Utc)
}

impl Harness {
    /// An in-memory app pointed at a fresh fake.
    pub fn new() -> Harness {
        Harness::with_app(|clock, zone| {
            App::in_memory(clock, zone).expect("an in-memory app opens")
        })
    }

    /// An app on a database file in a temp dir (returned with it, to keep it alive): for tests that read
    /// the file, or open a second app on it.
    pub fn file_backed() -> (tempfile::TempDir, Harness) {
        let dir = tempfile::tempdir().expect("a temp dir");
        let h = Harness::with_app(|clock, zone| {
            App::open_with(dir.path(), clock, zone).expect("a file-backed app")
        });
        (dir, h)
    }

    /// Revokes the account's grant at the fake and forgets the cached access token, so the next sync must
    /// refresh, and fails with needs_reconnect.
    pub fn lose_the_grant(&self, id: &str) -> punctual::error::Error {
        self.fake.revoke();
        self.secrets
            .delete(&punctual::secrets::access_key(id))
            .expect("forget the cached access token so a refresh is needed");
        self.sync(id).expect_err("a revoked grant fails the sync")
    }

    pub fn with_app(open: impl FnOnce(Arc<FixedClock>, Zone) -> App) -> Harness {
        let fake = FakeGoogle::start();
        let secrets = Arc::new(MemorySecrets::new());
        let clock = Arc::new(FixedClock::new(now()));
        let waits = Arc::new(Mutex::new(Vec::new()));
        let zone = Zone::parse("Europe/Berlin").expect("a known zone");
        let app = open(clock.clone(), zone)
            .with_secrets(secrets.clone())
            .with_google(setup_for(&fake))
            .with_backoff(recording_backoff(&waits, 7));
        Harness {
            fake,
            app,
            secrets,
            clock,
            waits,
        }
    }

    /// Connects the fake's account from a refresh token and returns the connection id.
    pub fn connect(&self) -> String {
        let rt = self.fake.issue_refresh_token();
        self.app
            .connect_google_refresh_token(SecretString::new(rt))
            .expect("connecting with a valid refresh token works")
            .id
    }

    pub fn sync(&self, id: &str) -> punctual::error::Result<Vec<punctual::sync::SyncReport>> {
        self.app.sync(Some(id), false, &mut |_, _| {})
    }
}

/// Every occurrence from 20 February to 1 June 2026 as (start, end, title), sorted: what the convergence and
/// crash tests compare between a synced store and a fresh full sync of the server's truth.
pub fn window_occurrences(app: &App) -> Vec<(String, String, String)> {
    occurrences_between(app, "2026-02-20T00:00:00Z", "2026-06-01T00:00:00Z")
}

/// Every occurrence from `from` to `to` (RFC 3339) as (start, end, title), sorted.
pub fn occurrences_between(app: &App, from: &str, to: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = app
            .list_events(&punctual::app::ListQuery {
                from: Some(from.into()),
                to: Some(to.into()),
                all: true,
                limit: Some(100),
                cursor: cursor.clone(),
                ..Default::default()
            })
            .expect("listing works");
        out.extend(
            page.events
                .into_iter()
                .map(|e| (e.start_time, e.end_time, e.title)),
        );
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    out.sort();
    out
}

/// The setup that points the app's Microsoft provider at a fake Graph (tenant `{tenant}` in its endpoints,
/// as the registry writes the account's tenant into them).
pub fn graph_setup(fake: &fake_graph::FakeGraph) -> ProviderSetup {
    ProviderSetup {
        auth_url: fake.auth_url("{tenant}"),
        token_url: fake.token_url("{tenant}"),
        api_url: fake.api_url(),
        client_id: Some(fake_graph::CLIENT_ID.into()),
        ..ProviderSetup::default()
    }
}

/// An app on a database file wired to a fresh fake Graph, with in-memory secrets and the recording
/// backoff: the Microsoft twin of [`Harness`]. File-backed, so a test can read what was written.
pub struct GraphHarness {
    pub fake: fake_graph::FakeGraph,
    pub app: App,
    pub secrets: Arc<MemorySecrets>,
    pub clock: Arc<FixedClock>,
    pub waits: Arc<Mutex<Vec<Duration>>>,
    pub dir: tempfile::TempDir,
}

/// What a sync may write, read straight from the database: every event row, every join plan and every
/// calendar's cursor. Two equal snapshots mean nothing of that was written in between.
#[derive(Debug, PartialEq, Eq)]
pub struct Written {
    pub events: Vec<String>,
    pub plans: Vec<String>,
    pub cursors: Vec<String>,
}

impl GraphHarness {
    pub fn new() -> GraphHarness {
        let dir = tempfile::tempdir().expect("a temp dir");
        let fake = fake_graph::FakeGraph::start();
        let secrets = Arc::new(MemorySecrets::new());
        let clock = Arc::new(FixedClock::new(now()));
        let waits = Arc::new(Mutex::new(Vec::new()));
        let zone = Zone::parse("Europe/Berlin").expect("a known zone");
        let app = App::open_with(dir.path(), clock.clone(), zone)
            .expect("a file-backed app")
            .with_secrets(secrets.clone())
            .with_provider(Provider::OutlookCalendar, graph_setup(&fake))
            .with_backoff(recording_backoff(&waits, 7));
        GraphHarness {
            fake,
            app,
            secrets,
            clock,
            waits,
            dir,
        }
    }

    /// Connects the fake's default mailbox from a refresh token and returns the connection id.
    pub fn connect(&self) -> String {
        self.app
            .connect(
                Provider::OutlookCalendar,
                ConnectRequest::new(SignIn::RefreshToken(SecretString::new(
                    self.fake.issue_refresh_token(),
                ))),
            )
            .expect("connecting with a valid refresh token works")
            .id
    }

    pub fn sync(&self, id: &str) -> punctual::error::Result<Vec<punctual::sync::SyncReport>> {
        self.app.sync(Some(id), false, &mut |_, _| {})
    }

    pub fn written(&self) -> Written {
        let c = rusqlite::Connection::open(self.dir.path().join("punctual.sqlite3"))
            .expect("the database opens beside the app");
        let rows = |sql: &str| -> Vec<String> {
            let mut st = c.prepare(sql).expect("the query prepares");
            let out = st
                .query_map([], |r| {
                    let n = r.as_ref().column_count();
                    let mut cols = Vec::with_capacity(n);
                    for i in 0..n {
                        let v: rusqlite::types::Value = r.get(i)?;
                        cols.push(format!("{v:?}"));
                    }
                    Ok(cols.join("|"))
                })
                .expect("the query runs")
                .collect::<rusqlite::Result<Vec<String>>>()
                .expect("the rows read");
            out
        };
        Written {
            events: rows("SELECT id, deleted, body, raw FROM events ORDER BY id"),
            plans: rows("SELECT id, status, scheduled_join_time FROM join_plans ORDER BY id"),
            cursors: rows(
                "SELECT calendar_id, sync_token, page_token, last_full_sync FROM sync_state ORDER BY calendar_id",
            ),
        }
    }
}
