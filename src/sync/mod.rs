//! The sync engine: for each selected calendar of a connection, fetch the changes since the saved token and
//! apply each page with its cursor in one transaction. Policy lives here, once, for every provider.
//!
//! Invariants:
//! - A page's events and the cursor that follows it (the next page token, or on the last page the new sync
//!   token) commit together, so a crash at any point leaves either the old cursor with the old data or the
//!   new cursor with the new data; the next run continues from there and converges. Pages are stored by
//!   a writer thread while the next is fetched ([`with_pipeline`]); pages that queue up while it writes
//!   share its next transaction, in order, each still followed by its own cursor.
//! - A fetch resumed from a saved page token is followed by one incremental round, so a run that ends
//!   well leaves the calendar as the server is now, not as it was when an interrupted fetch began.
//! - A full sync (`--full`, or after a 410: the token expired, at most twice per calendar per run) drops the
//!   calendar's events in the transaction of its first page, never before: until a page arrives the
//!   calendar keeps its events and its saved cursor, so a fetch that fails loses nothing.
//! - Access tokens: the cached one is tried first; a 401 refreshes it and retries that request once. A
//!   refresh that rotates the refresh token saves the new one before anything else happens.
//! - Transient failures (429, 403 rate limits, 5xx, dropped or cut-short answers) are retried with
//!   exponential backoff and full jitter, never sooner than a Retry-After, at most [`Backoff::attempts`]
//!   times per request and never longer than [`Backoff::max_delay`] per wait. A Retry-After longer than
//!   that stops the sync and is recorded (up to [`MAX_HOLD`]): no request goes to the provider for that
//!   connection before the time it asked for. The app checks [`held_until`] before its first request of a
//!   sync, the outbox push, so the engine does not check it again.
//! - The engine never talks HTTP itself: a [`CalendarProvider`] does, and [`TokenSource`] refreshes.

mod activity;
mod pipeline;

pub use activity::{SyncActivity, SyncStage};
pub use pipeline::{with_pipeline, Pipeline, Stored};

use crate::error::{Error, ErrorCode, Result};
use crate::model::{stamp, ConnectionFailure, ConnectionState};
use crate::providers::{CalendarProvider, CalendarRef, Cursor, ProviderError};
use crate::secrets::SecretString;
use crate::store::{Encodings, RemoteChange, Store, SyncState};
use crate::time::{Clock, Zone};
use std::sync::Arc;
use std::time::Duration;

/// How transient failures are retried.
#[derive(Clone)]
pub struct Backoff {
    /// The first wait; each retry doubles it.
    pub base: Duration,
    /// No single wait is longer. A server asking for longer gets a failed sync now, and no request until
    /// the time it asked for.
    pub max_delay: Duration,
    /// Tries per request, the first included.
    pub attempts: u32,
    /// How to wait: the real sleep, or a recorder in tests.
    pub sleep: Arc<dyn Fn(Duration) + Send + Sync>,
    /// Seeds the jitter.
    pub seed: u64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(500),
            max_delay: Duration::from_secs(60),
            attempts: 6,
            sleep: Arc::new(std::thread::sleep),
            seed: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0x9e37_79b9),
        }
    }
}

impl Backoff {
    /// The wait before retry number `attempt` (1 for the first retry): full jitter, a uniform draw from
    /// `random` up to `base * 2^attempt` (capped at `max_delay`), so that clients failing together do not
    /// retry together; never shorter than the provider's `retry_after`, which the caller has checked is
    /// within `max_delay`.
    fn wait(&self, attempt: u32, retry_after: Option<Duration>, random: u64) -> Duration {
        let bound = self
            .base
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.max_delay);
        let spread = bound.as_millis() as u64;
        let jittered = Duration::from_millis(random % (spread + 1));
        jittered
            .max(retry_after.unwrap_or_default())
            .min(self.max_delay)
    }
}

/// Gives the engine access tokens.
pub trait TokenSource {
    /// The access token to try first (cached, or freshly refreshed when none is cached).
    fn access(&self) -> Result<SecretString>;
    /// A new access token after a 401. `needs_reconnect` when the grant is gone.
    fn refresh(&self) -> Result<SecretString>;
}

/// What a sync reports as it goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Progress {
    Calendars {
        count: usize,
    },
    Page {
        calendar: String,
        changes: usize,
        total: usize,
    },
    FullResync {
        calendar: String,
    },
    Retry {
        attempt: u32,
        wait: Duration,
        why: String,
    },
}

/// What one connection's sync did.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct SyncReport {
    pub connection_id: String,
    pub calendars: usize,
    pub changes: usize,
    pub pages: usize,
    pub full_resyncs: usize,
    pub warnings: Vec<String>,
}

/// A page of changes made ready to store: links detected and rows encoded.
pub struct ReadyPage {
    pub changes: Vec<RemoteChange>,
    encodings: Encodings,
}

/// The first half of the apply path, which needs no database: link detection on every event of a page,
/// then each row's encoding (in `zone`, the store's).
pub fn prepare(changes: Vec<RemoteChange>, zone: Zone) -> Result<ReadyPage> {
    let changes: Vec<RemoteChange> = changes
        .into_iter()
        .map(|c| match c {
            RemoteChange::Upsert(e) => RemoteChange::Upsert(Box::new(crate::app::with_link(*e))),
            other => other,
        })
        .collect();
    let encodings = Encodings::of(&changes, zone)?;
    Ok(ReadyPage { changes, encodings })
}

/// The second half, inside the caller's write transaction (which may hold other pages before it): a page's
/// changes and the cursor that follows them, after dropping the calendar's events when a full fetch starts.
/// Returns the expansion warnings.
pub fn store_page(
    w: &crate::store::Writer<'_>,
    calendar_id: &str,
    page: &ReadyPage,
    next: &SyncState,
    starts_full: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<String>> {
    if starts_full {
        w.wipe_calendar(calendar_id)?;
    }
    let warnings = w.apply_encoded_page(calendar_id, &page.changes, &page.encodings)?;
    w.save_sync_state(calendar_id, next, now)?;
    Ok(warnings)
}

/// Why a provider call gave up.
enum CallError {
    Provider(ProviderError),
    /// The provider asked for a longer wait than a sync spends waiting ([`Backoff::max_delay`]).
    WaitAsked(Duration),
    /// The token source failed (no keychain, a revoked grant): nothing to retry.
    Fatal(Error),
}

/// The longest hold a Retry-After sets: a server's "come back in a year" (or a garbled number) must not
/// silence an account for good; a day later, the next sync asks again.
pub const MAX_HOLD: Duration = Duration::from_secs(24 * 60 * 60);

/// The error of a sync that the provider asked to hold until `until`.
fn held_error(until: chrono::DateTime<chrono::Utc>) -> Error {
    Error::new(
        ErrorCode::Network,
        format!(
            "the calendar service asked Punctual to wait until {} before asking again; no sync runs before then",
            stamp(until)
        ),
    )
}

/// When the provider has asked a connection's client to wait (a long Retry-After), the error that a sync
/// started before that time gives, without any request to the provider; `None` when it may go ahead.
pub fn held_until(
    store: &Store,
    connection_id: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<Error>> {
    Ok(store
        .read(|r| r.retry_not_before(connection_id))?
        .filter(|until| *until > now)
        .map(held_error))
}

/// A small xorshift for jitter: the engine needs spread, not cryptographic randomness.
struct Jitter(u64);

impl Jitter {
    fn next(&mut self) -> u64 {
        let mut x = self.0.max(1);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// What one run's provider calls share: the connection, its access token once fetched, and the jitter.
struct Session<'c> {
    connection_id: &'c str,
    token: Option<SecretString>,
    jitter: Jitter,
}

/// Syncs one connection's selected calendars.
pub struct Engine<'a> {
    pub store: &'a Store,
    pub clock: &'a dyn Clock,
    pub provider: &'a dyn CalendarProvider,
    pub tokens: &'a dyn TokenSource,
    pub backoff: Backoff,
    pub zone: Zone,
}

fn provider_error(e: ProviderError) -> Error {
    match e {
        ProviderError::Network(m) => Error::new(
            ErrorCode::Network,
            format!("the calendar service could not be reached: {m}"),
        ),
        ProviderError::RateLimited { .. } => Error::new(
            ErrorCode::Network,
            "the calendar service kept refusing requests (rate limited); the next sync tries again",
        ),
        ProviderError::Server { status, .. } => Error::new(
            ErrorCode::Network,
            format!("the calendar service kept failing (HTTP {status}); the next sync tries again"),
        ),
        ProviderError::Unauthorized => Error::new(
            ErrorCode::NeedsReconnect,
            "the calendar service refused a freshly refreshed token; connect the account again",
        ),
        ProviderError::TooLarge { limit } => {
            crate::limits::too_large(None, "the calendar service's answer", limit)
        }
        other => Error::new(ErrorCode::Provider, other.to_string()),
    }
}

impl Engine<'_> {
    /// The error a failed call ends the sync with. A long wait the provider asked for is recorded first,
    /// so that no sync of the connection asks again before then.
    fn fail(&self, connection_id: &str, e: CallError) -> Error {
        match e {
            CallError::Provider(e) => provider_error(e),
            CallError::Fatal(e) => e,
            CallError::WaitAsked(wait) => {
                let until = self.clock.now()
                    + chrono::Duration::from_std(wait.min(MAX_HOLD)).unwrap_or_default();
                match self
                    .store
                    .write(|w| w.set_retry_not_before(connection_id, Some(until)))
                {
                    Ok(()) => held_error(until),
                    Err(e) => e,
                }
            }
        }
    }

    /// Runs `call` with the connection's access token, refreshing once on a 401 and backing off on
    /// transient failures.
    fn call<T>(
        &self,
        session: &mut Session<'_>,
        progress: &mut dyn FnMut(Progress),
        mut call: impl FnMut(&SecretString) -> Result<T, ProviderError>,
    ) -> Result<T, CallError> {
        let mut refreshed = false;
        let mut attempt = 0;
        loop {
            let t = match &session.token {
                Some(t) => t.clone(),
                None => {
                    let t = self.tokens.access().map_err(CallError::Fatal)?;
                    session.token = Some(t.clone());
                    t
                }
            };
            match call(&t) {
                Ok(v) => return Ok(v),
                Err(ProviderError::Unauthorized) if !refreshed => {
                    refreshed = true;
                    session.token = Some(self.tokens.refresh().map_err(CallError::Fatal)?);
                }
                Err(e)
                    if e.is_transient()
                        && e.retry_after().is_some_and(|w| w > self.backoff.max_delay) =>
                {
                    // Retrying sooner would ignore the server; waiting that long would hold the sync.
                    return Err(CallError::WaitAsked(e.retry_after().unwrap_or_default()));
                }
                Err(e) if e.is_transient() && attempt + 1 < self.backoff.attempts => {
                    attempt += 1;
                    let wait = self
                        .backoff
                        .wait(attempt, e.retry_after(), session.jitter.next());
                    progress(Progress::Retry {
                        attempt,
                        wait,
                        why: e.to_string(),
                    });
                    (self.backoff.sleep)(wait);
                }
                Err(e) => return Err(CallError::Provider(e)),
            }
        }
    }

    /// Syncs every selected calendar of `connection_id`. `full` drops the saved tokens first.
    pub fn sync(
        &self,
        connection_id: &str,
        full: bool,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<SyncReport> {
        let now = self.clock.now();
        let before = self
            .store
            .read(|r| r.connection(connection_id))?
            .ok_or_else(|| Error::not_found("connection", connection_id))?;
        self.store.write(|w| {
            w.set_connection_state(
                connection_id,
                ConnectionState::Syncing,
                before.connection_failure_data.as_ref(),
                now,
            )
        })?;
        let result = self.run(connection_id, full, progress);
        let now = self.clock.now();
        match &result {
            Ok(_) => self.store.write(|w| {
                w.set_connection_state(connection_id, ConnectionState::Connected, None, now)?;
                w.set_retry_not_before(connection_id, None)?;
                w.set_connection_synced(connection_id, now)
            })?,
            Err(e) => {
                // Only a success clears needs_reconnect: a network failure says nothing about the grant.
                // A sync killed midway leaves `syncing` behind; its failure data still tells.
                let needed_reconnect = before.state == ConnectionState::NeedsReconnect
                    || (before.state == ConnectionState::Syncing
                        && before
                            .connection_failure_data
                            .as_ref()
                            .is_some_and(|f| f.error == ErrorCode::NeedsReconnect.as_str()));
                let state = if e.code == ErrorCode::NeedsReconnect || needed_reconnect {
                    ConnectionState::NeedsReconnect
                } else {
                    ConnectionState::Connected
                };
                let failure = ConnectionFailure {
                    error: e.code.as_str().to_string(),
                    message: e.message.clone(),
                    at: stamp(now),
                };
                self.store
                    .write(|w| w.set_connection_state(connection_id, state, Some(&failure), now))?;
            }
        }
        result
    }

    fn run(
        &self,
        connection_id: &str,
        full: bool,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<SyncReport> {
        let mut session = Session {
            connection_id,
            token: None,
            jitter: Jitter(self.backoff.seed),
        };
        let mut report = SyncReport {
            connection_id: connection_id.to_string(),
            ..Default::default()
        };
        let list = self
            .call(&mut session, progress, |t| self.provider.calendars(t))
            .map_err(|e| self.fail(connection_id, e))?;
        let now = self.clock.now();
        self.store
            .write(|w| w.put_remote_calendars(connection_id, &list, now))?;
        let conn = self
            .store
            .read(|r| r.connection(connection_id))?
            .ok_or_else(|| Error::not_found("connection", connection_id))?;
        let selected: Vec<_> = conn.calendars.iter().filter(|c| c.selected).collect();
        progress(Progress::Calendars {
            count: selected.len(),
        });
        for cal in selected {
            let Some(remote_id) = cal.remote_id.as_deref() else {
                continue;
            };
            let zone = cal
                .time_zone
                .as_deref()
                .and_then(Zone::parse)
                .unwrap_or(self.zone);
            let cref = CalendarRef {
                id: &cal.id,
                remote_id,
                zone,
            };
            self.sync_calendar(&mut session, &cref, full, progress, &mut report)?;
            report.calendars += 1;
        }
        Ok(report)
    }

    /// Fetches a calendar's pages while a writer thread stores them ([`with_pipeline`]). `full` fetches
    /// everything, ignoring the saved cursor.
    fn sync_calendar(
        &self,
        session: &mut Session<'_>,
        cal: &CalendarRef<'_>,
        full: bool,
        progress: &mut dyn FnMut(Progress),
        report: &mut SyncReport,
    ) -> Result<()> {
        let mut total = 0;
        with_pipeline(self.store, cal.id, |pipeline| {
            let mut gone = 0;
            // The cursor is read once: after that, each page's cursor is the one queued with it, which
            // the writer saves in that page's transaction.
            let mut state = if full {
                SyncState::default()
            } else {
                self.store.read(|r| r.sync_state(cal.id))?
            };
            // A fetch resumed from a saved page serves the server as it was when that fetch began, maybe
            // runs ago; one more incremental round after its last page brings the calendar up to now.
            let mut catch_up = state.page_token.is_some();
            loop {
                let cursor = match (&state.sync_token, &state.page_token) {
                    (Some(t), page) => Cursor::Since {
                        token: t,
                        page: page.as_deref(),
                    },
                    (None, page) => Cursor::Full {
                        page: page.as_deref(),
                    },
                };
                let starts_full = state.sync_token.is_none() && state.page_token.is_none();
                let page =
                    match self.call(session, progress, |t| self.provider.changes(t, cal, cursor)) {
                        Ok(p) => p,
                        Err(CallError::Provider(ProviderError::SyncTokenGone)) if gone < 2 => {
                            gone += 1;
                            report.full_resyncs += 1;
                            // Pages still queued must land before the wipe, or they would outlive it.
                            let done = pipeline.drain()?;
                            stored(done, cal.id, &mut total, report, progress);
                            progress(Progress::FullResync {
                                calendar: cal.id.to_string(),
                            });
                            // The token is worthless: fetch everything. The first page's transaction drops
                            // the calendar's events; until then they stay, in case the fetch fails.
                            state = SyncState::default();
                            continue;
                        }
                        Err(e) => return Err(self.fail(session.connection_id, e)),
                    };
                let last = page.next_page.is_none();
                let next = SyncState {
                    sync_token: if last {
                        page.sync_token.clone().or(state.sync_token.clone())
                    } else {
                        state.sync_token.clone()
                    },
                    page_token: page.next_page.clone(),
                    last_sync_at: None,
                };
                if last && next.sync_token.is_none() {
                    report.warnings.push(format!(
                        "calendar {}: the last page carried no sync token; the next sync is a full one",
                        cal.id
                    ));
                }
                report.warnings.extend(page.warnings.iter().cloned());
                let done =
                    pipeline.push(page.changes, next.clone(), starts_full, self.clock.now())?;
                stored(done, cal.id, &mut total, report, progress);
                state = next;
                if last && catch_up && state.sync_token.is_some() {
                    catch_up = false;
                } else if last {
                    let done = pipeline.drain()?;
                    stored(done, cal.id, &mut total, report, progress);
                    return Ok(());
                }
            }
        })
    }
}

/// Counts and reports pages the writer has stored.
fn stored(
    pages: Vec<Stored>,
    calendar_id: &str,
    total: &mut usize,
    report: &mut SyncReport,
    progress: &mut dyn FnMut(Progress),
) {
    for page in pages {
        *total += page.changes;
        report.changes += page.changes;
        report.pages += 1;
        report.warnings.extend(page.warnings);
        progress(Progress::Page {
            calendar: calendar_id.to_string(),
            changes: page.changes,
            total: *total,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backoff() -> Backoff {
        Backoff {
            base: Duration::from_millis(100),
            max_delay: Duration::from_secs(30),
            attempts: 6,
            sleep: Arc::new(|_| {}),
            seed: 7,
        }
    }

    /// The waits of retry `attempt` over many draws of the jitter.
    fn draws(attempt: u32, retry_after: Option<Duration>) -> Vec<Duration> {
        let b = backoff();
        let mut jitter = Jitter(0x2545_f491_4f6c_dd1d);
        (0..2_000)
            .map(|_| b.wait(attempt, retry_after, jitter.next()))
            .collect()
    }

    #[test]
    fn each_retry_waits_a_random_time_up_to_a_bound_that_doubles() {
        for attempt in 1..=5 {
            let bound = Duration::from_millis(100 << attempt);
            let waits = draws(attempt, None);
            assert!(
                waits.iter().all(|w| *w <= bound),
                "retry {attempt} waits at most base * 2^{attempt} = {bound:?}"
            );
            let max = waits.iter().max().copied().unwrap_or_default();
            let min = waits.iter().min().copied().unwrap_or_default();
            assert!(
                max > bound * 9 / 10 && min < bound / 10,
                "full jitter spreads retry {attempt}'s waits over the whole range: {min:?}..{max:?} of {bound:?}"
            );
            let mean = waits.iter().sum::<Duration>() / waits.len() as u32;
            assert!(
                mean > bound * 2 / 5 && mean < bound * 3 / 5,
                "a uniform draw averages half the bound: {mean:?} of {bound:?}"
            );
        }
    }

    #[test]
    fn no_wait_passes_the_cap_and_none_comes_before_retry_after() {
        assert!(
            draws(16, None)
                .iter()
                .all(|w| *w <= Duration::from_secs(30)),
            "a late retry's bound is capped at max_delay"
        );
        let asked = Duration::from_secs(7);
        assert!(
            draws(1, Some(asked)).iter().all(|w| *w >= asked),
            "a retry never comes sooner than the Retry-After the server sent"
        );
    }
}
