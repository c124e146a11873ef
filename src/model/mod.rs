//! Domain types: Connection, Calendar, Event (single, series or override), Occurrence, MeetingLink, JoinPlan.
//!
//! No I/O happens here. Invariants:
//! - An [`Event`] is one of three shapes: a single event (`recurrence` and `recurrence_id` both empty), a series
//!   master (`recurrence` set), or an override of one instance of a series (`recurrence_id` set, same `uid` as
//!   its master). Overrides never carry a recurrence of their own.
//! - `end` is exclusive. For all-day events `start` and `end` are both dates, and `end` is the day after the last
//!   day (RFC 5545 §3.6.1).
//! - An [`Occurrence`] is one materialized instance in absolute time; the store keeps them for a rolling horizon
//!   so window queries are index range scans.

mod connection;
mod link;

pub use connection::{
    stamp, Connection, ConnectionCalendar, ConnectionFailure, ConnectionState, Provider,
};
pub use link::{LinkSource, MeetingLink};

use crate::time::{When, Zone};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The id of the calendar that exists on every fresh install.
pub const LOCAL_CALENDAR_ID: &str = "local";
/// The id of the connection that owns local and imported calendars.
pub const LOCAL_CONNECTION_ID: &str = "local";
/// The default event colour.
pub const DEFAULT_COLOR: &str = "#6CD9FF";

/// Whether an event blocks time (RFC 5545 TRANSP).
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    #[default]
    Busy,
    Free,
}

/// RFC 5545 STATUS of an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    #[default]
    Confirmed,
    Tentative,
    Cancelled,
}

/// The recurrence of a series master: RRULE lines, RDATEs and EXDATEs.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Recurrence {
    /// Each RRULE value without the `RRULE:` prefix, e.g. `FREQ=WEEKLY;BYDAY=MO,WE`.
    pub rrules: Vec<String>,
    pub rdates: Vec<When>,
    pub exdates: Vec<When>,
}

impl Recurrence {
    pub fn is_empty(&self) -> bool {
        self.rrules.is_empty() && self.rdates.is_empty()
    }
}

/// Meeting data a provider gives outside the free-text fields, for link detection.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ConferenceData {
    /// Join URIs from structured conference data (Google entryPoints/hangoutLink, Graph onlineMeeting,
    /// Zoom join_url, iCalendar CONFERENCE / X-GOOGLE-CONFERENCE / Teams properties), best first.
    pub uris: Vec<String>,
    /// The HTML body, where the source has one (Graph body, X-ALT-DESC).
    pub html: Option<String>,
}

/// The user's part in an event: what join planning needs beyond times and links.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Attendance {
    /// The user declined (their own responseStatus / PARTSTAT).
    #[serde(default)]
    pub declined: bool,
    /// A kind of event that is never joined (Google's focusTime, outOfOffice, workingLocation).
    #[serde(default)]
    pub not_joinable: bool,
}

/// A calendar event as stored: a single event, a series master or an override.
///
/// The store writes it field by field in declaration order (store/events.rs): a new field goes at the end,
/// with `#[serde(default)]`, or bodies written before it no longer read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    pub calendar_id: String,
    /// The iCalendar UID; shared by a series and its overrides.
    pub uid: String,
    pub title: String,
    pub description: Option<String>,
    pub location: Option<String>,
    pub url: Option<String>,
    pub color: Option<String>,
    pub start: When,
    pub end: When,
    /// The zone the event was written in; the user's zone for floating and all-day events.
    pub time_zone: Zone,
    pub availability: Availability,
    pub status: EventStatus,
    pub recurrence: Option<Recurrence>,
    /// For an override: the original start of the instance it replaces.
    pub recurrence_id: Option<When>,
    /// For an override with RANGE=THISANDFUTURE: it also applies to every later instance.
    pub this_and_future: bool,
    pub conference: ConferenceData,
    pub meeting: Option<MeetingLink>,
    /// The user's own part in the event, as providers report it.
    #[serde(default)]
    pub attendance: Attendance,
    /// Where it came from: "local", "ics", "google_calendar", ...
    pub platform: String,
    /// The provider's own id, where it has one.
    pub platform_id: Option<String>,
    /// The source as received (an iCalendar VEVENT, a provider JSON object), for bug reports. The store keeps
    /// it beside the event rather than inside its JSON, so listings do not decode it twice.
    #[serde(skip)]
    pub raw: Option<String>,
    #[serde(with = "crate::time::wire::utc")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time::wire::utc")]
    pub updated_at: DateTime<Utc>,
}

impl Event {
    pub fn all_day(&self) -> bool {
        self.start.is_date()
    }
    pub fn is_series(&self) -> bool {
        self.recurrence.as_ref().is_some_and(|r| !r.is_empty())
    }
}

/// One instance of an event in absolute time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occurrence {
    /// The event whose data this instance shows (the master, or the override that replaced it).
    pub event_id: String,
    /// The series master, for instances of a series.
    pub series_id: Option<String>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The instance's original start (its RECURRENCE-ID), for instances of a series.
    pub original_start: Option<When>,
}

/// A calendar: local, imported, or one of an account's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calendar {
    pub id: String,
    pub connection_id: String,
    pub name: String,
    pub description: Option<String>,
    pub color: String,
    pub time_zone: Option<String>,
    pub is_primary: bool,
    pub selected: bool,
    pub read_only: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}
