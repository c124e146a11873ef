//! The operations the CLI and the desktop shell call. (Contract; bodies being written.)

use crate::error::{Error, ErrorCode, Result};
use crate::model::Availability;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

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
    data_dir: PathBuf,
}

impl App {
    /// Opens (creating if needed) the database in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<App> {
        Ok(App {
            data_dir: data_dir.to_path_buf(),
        })
    }
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }
    pub fn list_events(&self, _q: &ListQuery) -> Result<EventPage> {
        Err(Error::new(ErrorCode::Internal, "not yet"))
    }
    pub fn create_event(&self, _input: &EventInput) -> Result<EventView> {
        Err(Error::new(ErrorCode::Internal, "not yet"))
    }
    pub fn edit_event(&self, _id: &str, _patch: &EventInput, _scope: Scope) -> Result<EventView> {
        Err(Error::new(ErrorCode::Internal, "not yet"))
    }
    pub fn delete_event(&self, _id: &str, _scope: Scope) -> Result<()> {
        Err(Error::new(ErrorCode::Internal, "not yet"))
    }
    pub fn calendars(&self) -> Result<Vec<CalendarView>> {
        Err(Error::new(ErrorCode::Internal, "not yet"))
    }
    pub fn import_ics(&self, _text: &str, _calendar_name: Option<&str>) -> Result<ImportReport> {
        Err(Error::new(ErrorCode::Internal, "not yet"))
    }
    pub fn export_ics(&self, _calendar_id: Option<&str>) -> Result<String> {
        Err(Error::new(ErrorCode::Internal, "not yet"))
    }
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
