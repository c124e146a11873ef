//! The operations the CLI and the desktop shell call: list, create, edit, delete, import, export.
//!
//! Both skins only parse input, call these, and render the result or the [`Error`]. Every operation takes
//! "now" from the injected [`Clock`] and reads floating and all-day times in the user's zone, so tests pin
//! both. Writes go through one store transaction each, so a failed validation or a failed write leaves the
//! database exactly as it was.

mod accounts;
mod cursor;
mod edit;
mod ics;
mod joins;
mod oauth_client;
mod push;
mod settings;
mod validate;
mod view;
mod writes;

pub use accounts::{
    ConnectRequest, Disconnected, SignIn, DEFAULT_SYNC_MINUTES, SYNC_INTERVAL_SETTING,
};
pub use joins::{new_plan_id, JoinHost, JoinOutcome, LoopSignal, NextMeeting};
pub use oauth_client::ClientView;
pub use push::{ConflictChange, ConflictView};
pub use settings::{Settings, Theme, TimeFormat, WeekStart};
pub use validate::MAX_TITLE_CHARS;

use crate::error::{Error, ErrorCode, Result};
use crate::model::{
    Availability, ConferenceData, Event, EventStatus, Recurrence, LOCAL_CALENDAR_ID,
};
use crate::store::{PageDirection, Store, WindowQuery};
use crate::time::{parse_when, Clock, SystemClock, Zone};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Which instances of a recurring event an edit or delete touches.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Only this occurrence.
    This,
    /// This occurrence and every later one.
    Following,
    /// The whole series.
    #[default]
    All,
}

/// A list request; every field optional, with MeetStream's defaults.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ListQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    #[serde(default)]
    pub calendars: Vec<String>,
    /// Every event, not only those with a meeting link.
    #[serde(default)]
    pub all: bool,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// One event or occurrence as the CLI's JSON and the UI see it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventView {
    pub id: String,
    pub title: String,
    pub start_time: String,
    pub end_time: String,
    pub all_day: bool,
    pub time_zone: String,
    pub calendar_id: String,
    pub connection_id: String,
    pub platform: String,
    pub platform_id: Option<String>,
    pub ical_uid: String,
    pub series_id: Option<String>,
    pub original_start: Option<String>,
    pub meeting_platform: Option<String>,
    pub meeting_url: Option<String>,
    pub location: Option<String>,
    pub description: Option<String>,
    pub url: Option<String>,
    pub color: String,
    pub availability: Availability,
    pub repeat: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub is_deleted: bool,
    pub joins: Vec<JoinView>,
    pub raw: Option<String>,
}

/// A planned join of one occurrence, with MeetStream's bot fields. Empty until join plans exist.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JoinView {
    pub id: String,
    pub status: String,
    pub scheduled_join_time: String,
    pub platform: Option<String>,
    pub meeting_url: Option<String>,
    pub action: String,
    pub is_scheduled: bool,
}

/// A page of events.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventPage {
    pub events: Vec<EventView>,
    pub has_more: bool,
    pub next_cursor: Option<String>,
    pub previous_cursor: Option<String>,
}

/// What a user typed to create an event. Strings are validated by the core, not by the skins.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct EventInput {
    pub title: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    #[serde(default)]
    pub all_day: bool,
    pub time_zone: Option<String>,
    pub description: Option<String>,
    pub location: Option<String>,
    pub url: Option<String>,
    pub color: Option<String>,
    pub availability: Option<Availability>,
    pub repeat: Option<String>,
    #[serde(default)]
    pub rdates: Vec<String>,
    #[serde(default)]
    pub exdates: Vec<String>,
    pub calendar: Option<String>,
}

/// A calendar with its event count.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalendarView {
    pub id: String,
    pub connection_id: String,
    pub name: String,
    pub color: String,
    pub is_primary: bool,
    pub selected: bool,
    pub read_only: bool,
    pub event_count: i64,
}

/// What an import did.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImportReport {
    pub calendar_id: String,
    pub created: usize,
    pub updated: usize,
    pub skipped: usize,
    pub warnings: Vec<String>,
}

/// The core, opened on one data directory.
pub struct App {
    store: Store,
    clock: Arc<dyn Clock>,
    zone: Zone,
    data_dir: Option<PathBuf>,
    /// Account tokens: the OS keychain unless a test swaps it.
    secrets: Arc<dyn crate::secrets::Secrets>,
    /// The providers accounts connect to, each with its endpoints and OAuth client.
    providers: crate::providers::Registry,
    backoff: crate::sync::Backoff,
    /// Join plans whose event a provider has been asked about (at most once each).
    checked_plans: std::sync::Mutex<std::collections::HashSet<String>>,
}

/// Months materialized around "now" when the app opens: last month through a year ahead.
const HORIZON_MONTHS_BACK: i64 = 1;
const HORIZON_MONTHS_AHEAD: i64 = 13;
/// The default list window (MeetStream's contract): from a day ago to four weeks ahead.
const DEFAULT_BACK_DAYS: i64 = 1;
const DEFAULT_AHEAD_DAYS: i64 = 28;
pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 100;

impl App {
    /// Opens (creating if needed) the database in `data_dir`, with the wall clock and the user's zone.
    pub fn open(data_dir: &Path) -> Result<App> {
        App::open_with(data_dir, Arc::new(SystemClock), Zone::user())
    }

    /// Opens with an explicit clock and user zone (tests pin both).
    pub fn open_with(data_dir: &Path, clock: Arc<dyn Clock>, zone: Zone) -> Result<App> {
        let store = Store::open(data_dir, zone)?;
        App::start(store, clock, zone, Some(data_dir.to_path_buf()))
    }

    /// An app over an in-memory database, for tests and benchmarks.
    pub fn in_memory(clock: Arc<dyn Clock>, zone: Zone) -> Result<App> {
        App::start(Store::open_in_memory(zone)?, clock, zone, None)
    }

    fn start(
        store: Store,
        clock: Arc<dyn Clock>,
        zone: Zone,
        data_dir: Option<PathBuf>,
    ) -> Result<App> {
        let now = clock.now();
        store.write(|w| {
            w.ensure_local_calendar(now)?;
            w.ensure_months(
                now - Duration::days(31 * HORIZON_MONTHS_BACK),
                now + Duration::days(31 * HORIZON_MONTHS_AHEAD),
            )
        })?;
        Ok(App {
            store,
            clock,
            zone,
            data_dir,
            secrets: Arc::new(crate::secrets::KeyringSecrets::default()),
            providers: crate::providers::Registry::from_env(),
            backoff: crate::sync::Backoff::default(),
            checked_plans: Default::default(),
        })
    }

    /// The data directory, or `None` for an in-memory app.
    pub fn data_dir(&self) -> Option<&Path> {
        self.data_dir.as_deref()
    }

    /// The database file, for the shell to watch for other processes' writes.
    pub fn database_path(&self) -> Option<&Path> {
        self.store.path()
    }

    /// The zone floating and all-day times are shown in.
    pub fn user_zone(&self) -> Zone {
        self.zone
    }

    /// Changes whenever anything is committed, by any process.
    pub fn data_version(&self) -> Result<i64> {
        self.store.data_version()
    }

    /// Rows this app has changed since it opened; unchanged after an operation that wrote nothing.
    pub fn total_changes(&self) -> u64 {
        self.store.total_changes()
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Lists occurrences in a window, one page at a time, ordered by (start, id).
    pub fn list_events(&self, q: &ListQuery) -> Result<EventPage> {
        let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(Error::field(
                ErrorCode::InvalidLimit,
                "limit",
                format!("limit must be between 1 and {MAX_LIMIT}; got {limit}"),
            ));
        }
        let (scope, page) = match &q.cursor {
            Some(c) => {
                let c = cursor::decode(c)?;
                (c.scope, Some(c.key))
            }
            None => (self.list_scope(q)?, None),
        };
        let (from, to) = (scope.from()?, scope.to()?);
        if !self.store.read(|r| r.horizon_covers(from, to))? {
            self.store.write(|w| w.ensure_months(from, to))?;
        }
        let wq = WindowQuery {
            from,
            to,
            calendars: scope.calendars.clone(),
            meeting_only: !scope.all,
            limit: limit as usize + 1,
            page: page.clone(),
        };
        let mut rows = self.store.read(|r| r.query_window(&wq))?;
        let backwards = matches!(&page, Some(p) if p.direction == PageDirection::Previous);
        let more = rows.len() > limit as usize;
        if more {
            // The extra row only says whether another page exists in the direction of travel.
            if backwards {
                rows.remove(0);
            } else {
                rows.pop();
            }
        }
        let (first, last) = (
            rows.first().map(cursor::key_of),
            rows.last().map(cursor::key_of),
        );
        let next_cursor = match (backwards, more) {
            (true, _) | (false, true) => {
                last.map(|k| cursor::encode(&scope, k, PageDirection::Next))
            }
            (false, false) => None,
        };
        let previous_cursor = match (backwards, more) {
            (true, true) => first.map(|k| cursor::encode(&scope, k, PageDirection::Previous)),
            (true, false) => None,
            (false, _) => page
                .and(first)
                .map(|k| cursor::encode(&scope, k, PageDirection::Previous)),
        };
        let mut events: Vec<EventView> = rows
            .into_iter()
            .map(|r| view::of_occurrence(r, self.zone))
            .collect();
        self.attach_joins(&mut events)?;
        Ok(EventPage {
            events,
            has_more: next_cursor.is_some(),
            next_cursor,
            previous_cursor,
        })
    }

    fn list_scope(&self, q: &ListQuery) -> Result<cursor::Scope> {
        let now = self.clock.now();
        let from = match q.from.as_deref() {
            Some(s) => self.parse_bound(s, "from")?,
            None => now - Duration::days(DEFAULT_BACK_DAYS),
        };
        let to = match q.to.as_deref() {
            Some(s) => self.parse_bound(s, "to")?,
            None => now + Duration::days(DEFAULT_AHEAD_DAYS),
        };
        if to <= from {
            return Err(Error::field(
                ErrorCode::InvalidWindow,
                "to",
                "to must be after from",
            ));
        }
        for c in &q.calendars {
            if self.store.read(|r| r.calendar(c))?.is_none() {
                return Err(Error::field(
                    ErrorCode::NotFound,
                    "calendar",
                    format!("no calendar with id {c:?}"),
                ));
            }
        }
        Ok(cursor::Scope::new(from, to, q.calendars.clone(), q.all))
    }

    fn parse_bound(&self, s: &str, field: &str) -> Result<DateTime<Utc>> {
        parse_when(s, self.zone)
            .map(|w| w.to_utc(self.zone))
            .map_err(|e| {
                Error::field(
                    ErrorCode::InvalidWindow,
                    field,
                    format!("{field} {s:?} is not understood: {e}"),
                )
            })
    }

    /// One occurrence (or event) by id.
    pub fn get_event(&self, id: &str) -> Result<EventView> {
        let mut v = self.store.read(|r| {
            if let Some(row) = r.occurrence(id)? {
                return Ok(view::of_occurrence(row, self.zone));
            }
            match r.event(id)? {
                Some((e, deleted)) => Ok(view::of_event(&e, deleted, self.zone)),
                None => Err(Error::not_found("event", id)),
            }
        })?;
        self.attach_joins(std::slice::from_mut(&mut v))?;
        Ok(v)
    }

    /// Creates an event after validating every field; nothing is written when any is bad.
    pub fn create_event(&self, input: &EventInput) -> Result<EventView> {
        let now = self.clock.now();
        let draft = validate::validate(input, None, self.zone, now)?;
        let calendar_id = input
            .calendar
            .as_deref()
            .filter(|c| !c.is_empty())
            .unwrap_or(LOCAL_CALENDAR_ID);
        self.writable_calendar(calendar_id)?;
        let id = uuid::Uuid::new_v4().to_string();
        let mut event = Event {
            uid: format!("{id}@punctual"),
            id,
            calendar_id: calendar_id.to_string(),
            title: String::new(),
            description: None,
            location: None,
            url: None,
            color: None,
            start: draft.start,
            end: draft.end,
            time_zone: draft.time_zone,
            availability: Availability::Busy,
            status: EventStatus::Confirmed,
            recurrence: None,
            recurrence_id: None,
            this_and_future: false,
            conference: ConferenceData::default(),
            meeting: None,
            attendance: Default::default(),
            platform: "local".to_string(),
            platform_id: None,
            raw: None,
            created_at: now,
            updated_at: now,
        };
        edit::apply_draft(&mut event, &draft, true);
        let event = with_link(event);
        if let Some(conn) = self.account_of(&event.calendar_id)? {
            let event = self.create_in_account(event, &conn)?;
            self.replan()?;
            return self.first_view(&event);
        }
        self.store.write(|w| {
            w.save_event(&event)?;
            w.materialize_group(&event.calendar_id, &event.uid)
        })?;
        self.replan()?;
        self.first_view(&event)
    }

    /// The view of an event's first occurrence, or of the event itself when it has none in the store.
    fn first_view(&self, event: &Event) -> Result<EventView> {
        let first = if event.is_series() {
            crate::store::instance_id(&event.id, &event.start, self.zone)
        } else {
            event.id.clone()
        };
        self.store.read(|r| match r.occurrence(&first)? {
            Some(row) => Ok(view::of_occurrence(row, self.zone)),
            None => Ok(view::of_event(event, false, self.zone)),
        })
    }

    fn writable_calendar(&self, id: &str) -> Result<()> {
        match self.store.read(|r| r.calendar(id))? {
            None => Err(Error::field(
                ErrorCode::NotFound,
                "calendar",
                format!("no calendar with id {id:?}"),
            )),
            Some(c) if c.read_only => Err(Error::field(
                ErrorCode::ReadOnly,
                "calendar",
                format!("calendar {:?} is read-only", c.name),
            )),
            Some(_) => Ok(()),
        }
    }

    /// Edits an event or occurrence; `scope` says which instances of a series change.
    pub fn edit_event(&self, id: &str, input: &EventInput, scope: Scope) -> Result<EventView> {
        let target = edit::resolve(&self.store, id, self.zone)?;
        if let Some(c) = input.calendar.as_deref() {
            if c != target.event.calendar_id {
                return Err(Error::field(
                    ErrorCode::InvalidInput,
                    "calendar",
                    "moving an event to another calendar is not supported; export and import it instead",
                ));
            }
        }
        self.writable_calendar(&target.event.calendar_id)?;
        if let Some(conn) = self.account_of(&target.event.calendar_id)? {
            let edited = self.edit_in_account(&target, input, scope, &conn)?;
            self.replan()?;
            return self.first_view_or(&edited);
        }
        let edited = edit::edit(
            &self.store,
            &target,
            input,
            scope,
            self.zone,
            self.clock.now(),
        )?;
        self.replan()?;
        self.first_view_or(&edited)
    }

    fn first_view_or(&self, edited: &edit::Edited) -> Result<EventView> {
        match self.store.read(|r| r.occurrence(&edited.occurrence_id))? {
            Some(row) => Ok(view::of_occurrence(row, self.zone)),
            None => self.first_view(&edited.event),
        }
    }

    /// Deletes an event or occurrence; `scope` says which instances of a series go.
    pub fn delete_event(&self, id: &str, scope: Scope) -> Result<()> {
        let target = edit::resolve(&self.store, id, self.zone)?;
        self.writable_calendar(&target.event.calendar_id)?;
        if let Some(conn) = self.account_of(&target.event.calendar_id)? {
            self.delete_in_account(&target, scope, &conn)?;
            return self.replan();
        }
        edit::delete(&self.store, &target, scope, self.zone, self.clock.now())?;
        self.replan()
    }

    /// Every calendar with its event count.
    pub fn calendars(&self) -> Result<Vec<CalendarView>> {
        let rows = self.store.read(|r| r.calendars())?;
        Ok(rows
            .into_iter()
            .map(|(c, n)| CalendarView {
                id: c.id,
                connection_id: c.connection_id,
                name: c.name,
                color: c.color,
                is_primary: c.is_primary,
                selected: c.selected,
                read_only: c.read_only,
                event_count: n,
            })
            .collect())
    }

    /// Imports iCalendar text into the local calendar, or into the local calendar named `calendar_name`
    /// (created when missing). Re-importing updates events by UID and duplicates nothing.
    pub fn import_ics(&self, text: &str, calendar_name: Option<&str>) -> Result<ImportReport> {
        self.import_ics_bytes(text.as_bytes(), calendar_name)
    }

    /// Imports a file's bytes as read: a fold that splits a UTF-8 character is mended, and bytes that are
    /// not UTF-8 at all cost a warning rather than the file.
    pub fn import_ics_bytes(
        &self,
        data: &[u8],
        calendar_name: Option<&str>,
    ) -> Result<ImportReport> {
        let report = ics::import(
            &self.store,
            data,
            calendar_name,
            self.zone,
            self.clock.now(),
        )?;
        self.replan()?;
        Ok(report)
    }

    /// Writes a calendar (default: the local calendar) as iCalendar text.
    pub fn export_ics(&self, calendar_id: Option<&str>) -> Result<String> {
        ics::export(&self.store, calendar_id.unwrap_or(LOCAL_CALENDAR_ID))
    }
}

/// Runs link detection on an event's fields and records the result on it.
pub(crate) fn with_link(mut e: Event) -> Event {
    let invite = crate::detect::Invite {
        conference: &e.conference.uris,
        url: e.url.as_deref(),
        location: e.location.as_deref(),
        description: e.description.as_deref(),
        html: e.conference.html.as_deref(),
    };
    e.meeting = crate::detect::detect(&invite);
    e
}

/// Keeps `Recurrence` in this module's vocabulary for the edit code.
pub(crate) fn recurrence_of(
    rules: Vec<String>,
    rdates: Vec<crate::time::When>,
    exdates: Vec<crate::time::When>,
) -> Option<Recurrence> {
    let r = Recurrence {
        rrules: rules,
        rdates,
        exdates,
    };
    (!r.is_empty()).then_some(r)
}

/// The data directory: `PUNCTUAL_DATA_DIR` if set, else the OS data dir (XDG on Linux, Application Support on
/// macOS, AppData on Windows).
pub fn default_data_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("PUNCTUAL_DATA_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("app", "Punctual", "Punctual")
        .map(|d| d.data_dir().to_path_buf())
        .ok_or_else(|| Error::new(ErrorCode::Io, "cannot find a home directory for Punctual's data; pass --data-dir or set PUNCTUAL_DATA_DIR"))
}
