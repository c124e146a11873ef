//! The operations the CLI and the desktop shell call. (Contract; bodies being written.)

use crate::error::{Error, ErrorCode, Result};
use crate::model::Availability;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Which instances of a recurring event an edit or delete touches.
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
    pub joins: Vec<serde_json::Value>,
    pub raw: Option<String>,
}

/// A page of events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventPage {
    pub events: Vec<EventView>,
    pub has_more: bool,
    pub next_cursor: Option<String>,
    pub previous_cursor: Option<String>,
}

/// What a user typed to create an event. Strings are validated by the core, not by the skins.
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
        Ok(App { data_dir: data_dir.to_path_buf() })
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
