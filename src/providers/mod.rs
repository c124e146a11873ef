//! Calendar providers: one [`CalendarProvider`] trait, one file per provider.
//!
//! A provider translates its wire format and nothing else: it lists calendars, fetches one page of changes
//! for a cursor, and answers whether one event is still on. Retries, backoff, token refresh, connection state
//! and what to store are the sync engine's ([`crate::sync`]), decided once for every provider. So Microsoft
//! Graph (delta links), Zoom (meetings) and CalDAV (sync-collection) are each one more file here: map their
//! cursor onto [`Cursor`], their items onto [`RemoteChange`], and their failures onto [`ProviderError`].
//! A provider whose calendars Punctual can write to also names and encodes events for the outbox
//! ([`EventCodec`], found by [`codec`]); the rules of editing (scopes, preconditions, the outbox) are the
//! app's, once.

pub mod google;
pub mod microsoft;
pub mod registry;

pub use registry::{CredentialKind, ProviderSetup, ProviderSpec, Registry};

use crate::model::{Event, Provider};
use crate::secrets::SecretString;
use crate::store::{RemoteCalendar, RemoteChange};
use crate::time::{When, Zone};
use chrono::{DateTime, Utc};
use std::time::Duration;

/// One of our calendars, as a provider call needs it.
#[derive(Clone, Debug)]
pub struct CalendarRef<'a> {
    /// Our calendar id: the `calendar_id` of the events a provider returns.
    pub id: &'a str,
    /// The provider's id for it.
    pub remote_id: &'a str,
    /// The zone for times that name none (the calendar's zone, else the user's).
    pub zone: Zone,
}

/// The span of time a full fetch covers, for providers whose change feed works on a window (Graph's
/// calendarView delta); see [`CalendarProvider::full_window`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// Where a fetch starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cursor<'a> {
    /// Everything (inside `window`, where the provider works on one), from the first page or from a saved
    /// page of a full fetch in progress.
    Full {
        page: Option<&'a str>,
        window: Option<Window>,
    },
    /// The changes since a sync token, from the first page or from a saved one.
    Since {
        token: &'a str,
        page: Option<&'a str>,
    },
}

/// One page of changes.
#[derive(Clone, Debug, Default)]
pub struct ChangePage {
    pub changes: Vec<RemoteChange>,
    /// The next page of this same fetch.
    pub next_page: Option<String>,
    /// On the last page: the token for the next incremental fetch.
    pub sync_token: Option<String>,
    /// Items that could not be read, one sentence each; they never stop a sync.
    pub warnings: Vec<String>,
}

/// Who an account is, as its provider says: what `connections` shows and how a reconnect finds its row.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountIdentity {
    pub email: Option<String>,
    pub name: Option<String>,
    /// The provider's own id of the user, where it has one.
    pub user_id: Option<String>,
}

/// A provider's version tag of an event (Google's `etag`): the precondition of every change to it, so a
/// write never overwrites a version it did not read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Etag(pub String);

/// A provider call's failure, in the terms the sync engine decides on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The access token was refused (HTTP 401): refresh it and retry once.
    #[error("the access token was refused")]
    Unauthorized,
    /// The sync token expired (Google's 410 GONE): start a full sync.
    #[error("the sync token is no longer valid")]
    SyncTokenGone,
    /// Too many requests (429, or Google's 403 rateLimitExceeded); wait at least `retry_after`.
    #[error("rate limited by the provider")]
    RateLimited { retry_after: Option<Duration> },
    /// A 5xx answer.
    #[error("the provider failed with HTTP {status}")]
    Server {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// No answer, a reset connection, or an answer cut short.
    #[error("network: {0}")]
    Network(String),
    /// The calendar or event does not exist (any more).
    #[error("not found")]
    NotFound,
    /// An insert's id is taken (HTTP 409).
    #[error("an event with this id already exists")]
    AlreadyExists,
    /// The event changed at the provider since we read it (HTTP 412 on an If-Match write).
    #[error("the event changed at the provider since it was read")]
    Conflict,
    /// The answer's body is over [`crate::limits::MAX_RESPONSE_BYTES`]; asking again would get the same.
    #[error("the provider's answer is larger than the {} limit", crate::limits::describe(*.limit))]
    TooLarge { limit: u64 },
    /// Anything else: a 4xx the engine cannot fix by retrying, or an answer that is not the API's shape.
    #[error("{0}")]
    Other(String),
}

impl ProviderError {
    /// Whether waiting and asking again may help.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ProviderError::RateLimited { .. }
                | ProviderError::Server { .. }
                | ProviderError::Network(_)
        )
    }

    /// The wait the provider asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ProviderError::RateLimited { retry_after }
            | ProviderError::Server { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// How a provider names and encodes events that Punctual creates or changes: what an outbox row holds, and
/// the ids under which the provider will send the event back. Pure: no network, no store.
pub trait EventCodec: Send + Sync {
    /// The `platform` of events from this provider.
    fn platform(&self) -> &'static str;
    /// A fresh provider id for an event created here. The client chooses it, so a retried insert whose
    /// answer was lost cannot create the event twice.
    fn new_event_id(&self) -> String;
    /// Our id for the provider's event `remote_id` in our calendar `calendar_id`: stable, so a full
    /// resync rebuilds the same ids.
    fn local_id(&self, calendar_id: &str, remote_id: &str) -> String;
    /// The provider's id for the instance of series `master_remote_id` originally at `original_start`.
    fn instance_id(&self, master_remote_id: &str, original_start: &When, zone: Zone) -> String;
    /// The version of `event` the provider last sent, if it has sent one.
    fn version(&self, event: &Event) -> Option<Etag>;
    /// The request body that writes `event` (times without a zone read in `zone`).
    fn encode(&self, event: &Event, zone: Zone) -> serde_json::Value;
    /// A body made by [`EventCodec::encode`], read back as the event of `calendar_id` it writes.
    fn decode(&self, body: &serde_json::Value, calendar_id: &str, zone: Zone) -> Option<Event>;
    /// Why the provider cannot hold `event` as it is (a repeat rule it has no way to express), in a
    /// sentence for the user; `None` when it can. Asked before anything is stored or queued.
    fn unsupported(&self, _event: &Event, _zone: Zone) -> Option<String> {
        None
    }
    /// The provider's id of the series `event` is an instance of, for providers whose instances
    /// Punctual stores one by one, each under its own id, without their master (Graph's occurrences and
    /// exceptions). `None` for everything else, Google's instances among them (their master is stored).
    fn series_of(&self, _event: &Event) -> Option<String> {
        None
    }
    /// Whether the provider stores a created event under an id of its own (Graph), so that the client's id
    /// is only the create's idempotency key.
    fn assigns_ids(&self) -> bool {
        false
    }
    /// Whether `event`, as the provider answered a write, is a series master that Punctual does not
    /// store (see [`EventCodec::series_of`]): its instances are stored instead
    /// ([`SeriesOp::Read`]).
    fn is_unstored_master(&self, _event: &Event) -> bool {
        false
    }
}

/// A change to a whole series at a provider whose instances Punctual stores one by one
/// ([`EventCodec::series_of`]): the provider reads the master itself.
#[derive(Clone, Copy, Debug)]
pub struct SeriesEdit<'a> {
    /// The provider's id of the series master.
    pub master_id: &'a str,
    /// Where instances are stored (the sync's full window): the instances a change returns.
    pub window: Window,
    pub op: SeriesOp<'a>,
}

/// What a [`SeriesEdit`] does. Each one is safe to repeat: a retry finds what an attempt whose answer was
/// lost already did, and does not do it twice.
#[derive(Clone, Copy, Debug)]
pub enum SeriesOp<'a> {
    /// Nothing: the series' instances in the window, to store.
    Read,
    /// Every instance takes the fields of `edited` (one occurrence as the user changed it), and moves
    /// by as much as `edited` moved from `was`, the start the user saw.
    All { edited: &'a Event, was: &'a When },
    /// A new series that goes on as this one would from the occurrence originally at `cut`, with the
    /// fields and times of `edited`, created under `edited.platform_id` as the client's key.
    Continue { edited: &'a Event, cut: &'a When },
    /// The series ends before the occurrence originally at `cut`, and its exceptions from then on go; a
    /// series ended there already is left as it is.
    EndBefore { cut: &'a When },
}

/// The codec of a provider whose calendars Punctual writes to; `None` for read-only ones.
pub fn codec(provider: Provider) -> Option<&'static dyn EventCodec> {
    match provider {
        Provider::GoogleCalendar => Some(&google::GoogleCodec),
        Provider::OutlookCalendar => Some(&microsoft::GraphCodec),
        _ => None,
    }
}

/// A calendar service. Every call takes the current access token; refreshing it is the caller's job.
pub trait CalendarProvider: Send + Sync {
    fn provider(&self) -> Provider;

    /// Who the token belongs to.
    fn account(&self, token: &SecretString) -> Result<AccountIdentity, ProviderError>;

    /// The window a full fetch covers at `now`, for providers whose feed needs one; `None`: everything.
    fn full_window(&self, _now: DateTime<Utc>) -> Option<Window> {
        None
    }

    /// The account's calendars. The primary calendar's `remote_id` is the account's e-mail where the
    /// provider works that way (Google).
    fn calendars(&self, token: &SecretString) -> Result<Vec<RemoteCalendar>, ProviderError>;

    /// One page of events for `cursor`.
    fn changes(
        &self,
        token: &SecretString,
        calendar: &CalendarRef<'_>,
        cursor: Cursor<'_>,
    ) -> Result<ChangePage, ProviderError>;

    /// One event (or one instance of a series) by the provider's id, as a change to store: the join-plan
    /// re-check applies it, so the plan follows the provider's latest word. `None` when it does not exist.
    fn event(
        &self,
        token: &SecretString,
        calendar: &CalendarRef<'_>,
        event_remote_id: &str,
    ) -> Result<Option<RemoteChange>, ProviderError>;

    /// Creates an event under the id the client chose (`platform_id`), so a retry cannot create it twice;
    /// a provider that assigns ids itself (Graph) sends that id as its idempotency key (`transactionId`)
    /// and returns the event under its own id, to which the app then moves the stored event and its join
    /// plan. Returns the provider's version to store, or `None` when an event with that id is already
    /// there (an earlier attempt whose answer was lost).
    fn insert(
        &self,
        token: &SecretString,
        calendar: &CalendarRef<'_>,
        event: &Event,
    ) -> Result<Option<RemoteChange>, ProviderError>;

    /// Changes an event (or one instance of a series, by its instance id), only if it is still at version
    /// `etag`; [`ProviderError::Conflict`] otherwise. `None` sends no precondition: for an instance the
    /// provider holds no version of yet, whose master's version the caller has checked.
    fn patch(
        &self,
        token: &SecretString,
        calendar: &CalendarRef<'_>,
        event: &Event,
        etag: Option<&Etag>,
    ) -> Result<RemoteChange, ProviderError>;

    /// Deletes an event (or cancels one instance of a series), only if it is still at version `etag`
    /// (`None`: as for [`CalendarProvider::patch`]). One that is already gone is not an error.
    fn delete(
        &self,
        token: &SecretString,
        calendar: &CalendarRef<'_>,
        event_remote_id: &str,
        etag: Option<&Etag>,
    ) -> Result<(), ProviderError>;

    /// Changes a series whose instances Punctual stores one by one ([`EventCodec::series_of`]), and
    /// returns what to store: the instances in the edit's window as they are now, and the removal of those
    /// that are gone. Providers that store masters never get one.
    fn change_series(
        &self,
        _token: &SecretString,
        _calendar: &CalendarRef<'_>,
        _edit: &SeriesEdit<'_>,
    ) -> Result<Vec<RemoteChange>, ProviderError> {
        Err(ProviderError::Other(
            "this provider keeps its series as masters, which are changed directly".into(),
        ))
    }
}
