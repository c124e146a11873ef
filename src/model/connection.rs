//! Connections: an account (or the local store) that owns calendars.
//!
//! Invariants:
//! - The local calendar and imported calendars belong to the connection of provider `local`; every other
//!   connection is one account at one provider, and a user may have several per provider.
//! - `deduplication_key` is unique across connections (the store refuses a second one with code `duplicate`).
//! - `connection_failure_data` is set exactly while the last sync or refresh failed; a success clears it.
//! - Nothing here ever holds a token: tokens live behind [`crate::secrets::Secrets`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a connection's calendars come from.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    GoogleCalendar,
    OutlookCalendar,
    Zoom,
    AppleCalendar,
    Caldav,
    Ics,
    Local,
}

impl Provider {
    pub fn as_str(&self) -> &'static str {
        match self {
            Provider::GoogleCalendar => "google_calendar",
            Provider::OutlookCalendar => "outlook_calendar",
            Provider::Zoom => "zoom",
            Provider::AppleCalendar => "apple_calendar",
            Provider::Caldav => "caldav",
            Provider::Ics => "ics",
            Provider::Local => "local",
        }
    }

    pub fn parse(s: &str) -> Option<Provider> {
        [
            Provider::GoogleCalendar,
            Provider::OutlookCalendar,
            Provider::Zoom,
            Provider::AppleCalendar,
            Provider::Caldav,
            Provider::Ics,
            Provider::Local,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }
}

/// A connection's state.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionState {
    Connecting,
    Connected,
    Syncing,
    NeedsReconnect,
    Disconnected,
}

impl ConnectionState {
    pub fn as_str(&self) -> &'static str {
        match self {
            ConnectionState::Connecting => "connecting",
            ConnectionState::Connected => "connected",
            ConnectionState::Syncing => "syncing",
            ConnectionState::NeedsReconnect => "needs_reconnect",
            ConnectionState::Disconnected => "disconnected",
        }
    }

    pub fn parse(s: &str) -> Option<ConnectionState> {
        [
            ConnectionState::Connecting,
            ConnectionState::Connected,
            ConnectionState::Syncing,
            ConnectionState::NeedsReconnect,
            ConnectionState::Disconnected,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }
}

/// Why a connection last failed (Attendee's `connection_failure_data`).
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionFailure {
    /// An [`crate::error::ErrorCode`] string, e.g. `needs_reconnect`.
    pub error: String,
    pub message: String,
    pub at: String,
}

/// One calendar of a connection, as the connections page shows it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionCalendar {
    /// Our calendar id (what `--calendar` and `punctual calendars --select` take).
    pub id: String,
    /// The provider's id for it.
    pub remote_id: Option<String>,
    pub summary: String,
    pub description: Option<String>,
    pub is_primary: bool,
    pub access_role: Option<String>,
    pub time_zone: Option<String>,
    pub background_color: String,
    pub foreground_color: Option<String>,
    pub selected: bool,
    /// Whether the account may change its events: false for a calendar shared read-only (or free/busy
    /// only), whatever the provider calls that.
    pub writable: bool,
}

/// An account, or the local store.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Connection {
    pub id: String,
    pub provider: Provider,
    pub account_email: Option<String>,
    pub user_name: Option<String>,
    pub state: ConnectionState,
    pub connection_failure_data: Option<ConnectionFailure>,
    pub last_sync_at: Option<String>,
    pub event_count: i64,
    pub calendars: Vec<ConnectionCalendar>,
    pub primary_calendar_id: Option<String>,
    /// Free-form facts about the account (scopes granted, the provider's user id, ...).
    #[cfg_attr(feature = "ts", ts(type = "Record<string, unknown>"))]
    pub metadata: serde_json::Value,
    pub deduplication_key: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// The stamp format of connection times.
pub fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
