//! The one policy for every provider call: the sync, the outbox push and the join-plan re-check all go
//! through [`Calls`], so each of them honours the same rules.
//!
//! - A connection the provider asked to wait (a Retry-After longer than [`Backoff::max_delay`], recorded up
//!   to [`MAX_HOLD`]) gets no request before that time: [`Calls::check_hold`].
//! - The cached access token is tried first; a 401 refreshes it and retries that request once. A refresh
//!   that rotates the refresh token saves the new one before anything else happens ([`TokenSource`]).
//! - Transient failures (429, 403 rate limits, 5xx, dropped or cut-short answers) are retried with
//!   exponential backoff and full jitter, never sooner than a Retry-After, at most [`Backoff::attempts`]
//!   times per request.

use super::{Backoff, Progress, TokenSource};
use crate::error::{Error, ErrorCode, Result};
use crate::model::stamp;
use crate::providers::ProviderError;
use crate::secrets::SecretString;
use crate::store::Store;
use crate::time::Clock;
use std::time::Duration;

/// Why a provider call gave up.
#[derive(Debug)]
pub enum CallError {
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
pub(super) struct Jitter(pub(super) u64);

impl Jitter {
    pub(super) fn next(&mut self) -> u64 {
        let mut x = self.0.max(1);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// The error a provider failure ends an operation with, once the policy has given up on it.
pub fn provider_error(e: ProviderError) -> Error {
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

/// One operation's provider calls for one connection: what they share (the access token once fetched, the
/// jitter) and the policy they follow.
pub struct Calls<'a> {
    store: &'a Store,
    clock: &'a dyn Clock,
    tokens: &'a dyn TokenSource,
    backoff: Backoff,
    connection_id: &'a str,
    token: Option<SecretString>,
    jitter: Jitter,
}

impl<'a> Calls<'a> {
    pub fn new(
        store: &'a Store,
        clock: &'a dyn Clock,
        tokens: &'a dyn TokenSource,
        backoff: Backoff,
        connection_id: &'a str,
    ) -> Calls<'a> {
        let jitter = Jitter(backoff.seed);
        Calls {
            store,
            clock,
            tokens,
            backoff,
            connection_id,
            token: None,
            jitter,
        }
    }

    /// The error to stop with when the provider asked this connection to wait and the time has not come.
    pub fn check_hold(&self) -> Result<()> {
        match held_until(self.store, self.connection_id, self.clock.now())? {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// The error a failed call ends the operation with. A long wait the provider asked for is recorded
    /// first, so that no call for the connection asks again before then.
    pub fn fail(&self, e: CallError) -> Error {
        match e {
            CallError::Provider(e) => provider_error(e),
            CallError::Fatal(e) => e,
            CallError::WaitAsked(wait) => {
                let until = self.clock.now()
                    + chrono::Duration::from_std(wait.min(MAX_HOLD)).unwrap_or_default();
                match self
                    .store
                    .write(|w| w.set_retry_not_before(self.connection_id, Some(until)))
                {
                    Ok(()) => held_error(until),
                    Err(e) => e,
                }
            }
        }
    }

    /// Runs `call` with the connection's access token, refreshing once on a 401 and backing off on
    /// transient failures.
    pub fn call<T>(
        &mut self,
        progress: &mut dyn FnMut(Progress),
        mut call: impl FnMut(&SecretString) -> Result<T, ProviderError>,
    ) -> Result<T, CallError> {
        let mut refreshed = false;
        let mut attempt = 0;
        loop {
            let t = match &self.token {
                Some(t) => t.clone(),
                None => {
                    let t = self.tokens.access().map_err(CallError::Fatal)?;
                    self.token = Some(t.clone());
                    t
                }
            };
            match call(&t) {
                Ok(v) => return Ok(v),
                Err(ProviderError::Unauthorized) if !refreshed => {
                    refreshed = true;
                    self.token = Some(self.tokens.refresh().map_err(CallError::Fatal)?);
                }
                Err(e)
                    if e.is_transient()
                        && e.retry_after().is_some_and(|w| w > self.backoff.max_delay) =>
                {
                    // Retrying sooner would ignore the server; waiting that long would hold the caller.
                    return Err(CallError::WaitAsked(e.retry_after().unwrap_or_default()));
                }
                Err(e) if e.is_transient() && attempt + 1 < self.backoff.attempts => {
                    attempt += 1;
                    let wait = self
                        .backoff
                        .wait(attempt, e.retry_after(), self.jitter.next());
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
}
