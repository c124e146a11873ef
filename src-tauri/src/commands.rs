//! The IPC commands: each reads its arguments, calls [`punctual::app::App`], and returns the core's result.
//!
//! Errors cross IPC as the core's [`punctual::error::Error`], which serializes to `{code, message, field}`;
//! the UI matches on `code` and shows a validation error beside `field`. Commands run on Tauri's async pool
//! (`async`), never on the main thread, so a slow query cannot freeze the window. The core sits behind a
//! `Mutex` because one SQLite connection serves one caller at a time.

use punctual::app::{
    App, CalendarView, EventInput, EventPage, EventView, ImportReport, JoinOutcome, ListQuery,
    NextMeeting, Scope, Settings,
};
use punctual::desktop_host::SystemOpener;
use punctual::error::{Error, ErrorCode, Result};
use punctual::join::JoinRules;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use tauri::{AppHandle, State};

/// The core as the shell holds it. If the data directory cannot be opened, the window still opens and every
/// command returns that error, so the user sees why instead of a crash.
pub struct Core {
    data_dir: Option<PathBuf>,
    app: std::result::Result<Mutex<App>, Error>,
}

impl Core {
    /// Opens the core on `PUNCTUAL_DATA_DIR` or the OS data directory.
    pub fn open_default() -> Core {
        match punctual::app::default_data_dir() {
            Ok(dir) => Core::open(&dir),
            Err(e) => Core {
                data_dir: None,
                app: Err(e),
            },
        }
    }

    /// Opens the core on `dir`.
    pub fn open(dir: &Path) -> Core {
        Core {
            data_dir: Some(dir.to_path_buf()),
            app: App::open(dir)
                .inspect(|app| {
                    // Start-up housekeeping of the keychain; a failure shows at the first account call.
                    let _ = app.tidy_secrets();
                })
                .map(Mutex::new),
        }
    }

    /// The data directory, if one was found.
    pub fn data_dir(&self) -> Option<&Path> {
        self.data_dir.as_deref()
    }

    /// Runs `f` with the core, or returns the error that kept it from opening.
    pub fn with<T>(&self, f: impl FnOnce(&App) -> Result<T>) -> Result<T> {
        let app = self.app.as_ref().map_err(Clone::clone)?;
        // A panic in an earlier command leaves the connection usable: SQLite rolled the transaction back.
        let app = app.lock().unwrap_or_else(PoisonError::into_inner);
        f(&app)
    }
}

/// Events and occurrences in a window, one page at a time.
#[tauri::command(async)]
pub fn list_events(core: State<'_, Core>, query: ListQuery) -> Result<EventPage> {
    let page = core.with(|app| app.list_events(&query));
    crate::startup_trace::mark("list_events answered");
    page
}

/// Creates an event; validation errors name their field.
#[tauri::command(async)]
pub fn create_event(core: State<'_, Core>, input: EventInput) -> Result<EventView> {
    core.with(|app| app.create_event(&input))
}

/// Edits an event, or the chosen part of a series.
#[tauri::command(async)]
pub fn edit_event(
    core: State<'_, Core>,
    id: String,
    input: EventInput,
    scope: Scope,
) -> Result<EventView> {
    core.with(|app| app.edit_event(&id, &input, scope))
}

/// Deletes an event, or the chosen part of a series.
#[tauri::command(async)]
pub fn delete_event(core: State<'_, Core>, id: String, scope: Scope) -> Result<()> {
    core.with(|app| app.delete_event(&id, scope))
}

/// Every calendar with its event count.
#[tauri::command(async)]
pub fn calendars(core: State<'_, Core>) -> Result<Vec<CalendarView>> {
    core.with(|app| app.calendars())
}

/// Imports iCalendar text (read by the UI from a file the user picked) into a local calendar.
#[tauri::command(async)]
pub fn import_ics(
    core: State<'_, Core>,
    text: String,
    calendar_name: Option<String>,
) -> Result<ImportReport> {
    core.with(|app| app.import_ics(&text, calendar_name.as_deref()))
}

/// Exports one calendar, or every calendar, as iCalendar text.
#[tauri::command(async)]
pub fn export_ics(core: State<'_, Core>, calendar_id: Option<String>) -> Result<String> {
    core.with(|app| app.export_ics(calendar_id.as_deref()))
}

/// The desktop preferences.
#[tauri::command(async)]
pub fn settings(core: State<'_, Core>) -> Result<Settings> {
    core.with(|app| app.settings())
}

/// Validates and stores the desktop preferences, then applies start at login and the join shortcut; returns
/// what was stored. If the OS refuses one (a shortcut taken by another app), the previous settings come
/// back, so the store never claims what is not in effect.
#[tauri::command(async)]
pub fn update_settings(
    app: AppHandle,
    core: State<'_, Core>,
    settings: Settings,
) -> Result<Settings> {
    let before = core.with(|c| c.settings())?;
    let stored = core.with(|c| c.update_settings(&settings))?;
    crate::prefs::apply(&app, &stored).inspect_err(|_| {
        let _ = core.with(|c| c.update_settings(&before));
        let _ = crate::prefs::apply(&app, &before);
    })?;
    Ok(stored)
}

/// The join rules: reminder lead time, which events get a plan, auto-join and the overrides.
#[tauri::command(async)]
pub fn join_rules(core: State<'_, Core>) -> Result<JoinRules> {
    core.with(|app| app.join_rules())
}

/// Validates and stores the join rules, and plans again with them.
#[tauri::command(async)]
pub fn set_join_rules(core: State<'_, Core>, rules: JoinRules) -> Result<()> {
    core.with(|app| app.set_join_rules(&rules))
}

/// Meetings in progress or starting within `hours`, soonest first, at most `limit`: the "Up next" panel.
#[tauri::command(async)]
pub fn upcoming_meetings(
    core: State<'_, Core>,
    hours: u32,
    limit: usize,
) -> Result<Vec<NextMeeting>> {
    core.with(|app| {
        let until = app.now() + chrono::Duration::hours(i64::from(hours.min(24 * 28)));
        app.upcoming_meetings(until, limit)
    })
}

/// Opens a meeting: `target` is an event or occurrence id, or "next". Only links that detection accepted
/// are opened, with `$BROWSER` or the desktop's default opener.
#[tauri::command(async)]
pub fn join_event(core: State<'_, Core>, target: String) -> Result<JoinOutcome> {
    core.with(|app| app.join(&target, &SystemOpener))
}

/// The data directory in use, shown in the UI's footer and settings.
#[tauri::command(async)]
pub fn data_dir(core: State<'_, Core>) -> Result<String> {
    core.data_dir
        .as_ref()
        .map(|d| d.display().to_string())
        .ok_or_else(|| Error::new(ErrorCode::Io, "no data directory"))
}

/// The folder of the log files a user can send with a bug report (Settings shows it), made if missing so
/// that "Open folder" always has something to open.
#[tauri::command(async)]
pub fn log_folder() -> Result<String> {
    let dir = punctual::logs::log_dir()?;
    std::fs::create_dir_all(&dir).map_err(|e| {
        Error::new(
            ErrorCode::Io,
            format!("the log folder {} cannot be made: {e}", dir.display()),
        )
    })?;
    Ok(dir.display().to_string())
}

/// Shows the log folder in the OS's file manager.
#[tauri::command(async)]
pub fn open_log_folder() -> Result<()> {
    let dir = PathBuf::from(log_folder()?);
    punctual::desktop_host::open_folder(&dir).map_err(|e| {
        Error::new(
            ErrorCode::Io,
            format!("the log folder {} could not be opened: {e}", dir.display()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unopened_core_returns_its_open_error_to_every_command() {
        let core = Core {
            data_dir: None,
            app: Err(Error::new(ErrorCode::Io, "disk on fire")),
        };
        let err = core.with(|app| app.calendars()).err();
        assert_eq!(
            err.map(|e| e.message),
            Some("disk on fire".to_string()),
            "the UI must see why the core did not open, not a generic failure"
        );
    }

    #[test]
    fn the_commands_core_creates_and_lists_events_without_a_window() {
        let dir = tempfile::tempdir().expect("a temporary data dir");
        let core = Core::open(dir.path());
        let tomorrow = chrono::Utc::now().date_naive() + chrono::Days::new(1);
        let input = EventInput {
            title: Some("Standup".into()),
            start: Some(format!("{tomorrow}T09:00:00Z")),
            end: Some(format!("{tomorrow}T09:15:00Z")),
            ..EventInput::default()
        };
        let created = core
            .with(|app| app.create_event(&input))
            .expect("a valid event is created");
        let page = core
            .with(|app| {
                app.list_events(&ListQuery {
                    all: true,
                    ..ListQuery::default()
                })
            })
            .expect("the default window lists");
        assert!(
            page.events.iter().any(|e| e.id == created.id),
            "what create_event wrote, list_events must return through the same Core"
        );
        let blank = EventInput {
            title: Some("  ".into()),
            ..input
        };
        let err = core.with(|app| app.create_event(&blank)).err();
        assert_eq!(
            err.map(|e| (e.code, e.field)),
            Some((ErrorCode::TitleRequired, Some("title".to_string()))),
            "a validation error reaches the UI with its code and field"
        );
    }

    #[test]
    fn errors_cross_ipc_as_code_message_field() {
        let e = Error::field(ErrorCode::TitleRequired, "title", "title is required");
        let json = serde_json::to_value(&e).ok();
        assert_eq!(
            json,
            Some(
                serde_json::json!({"code": "title_required", "message": "title is required", "field": "title"})
            ),
            "the UI matches on this exact shape (ui/src/ipc)"
        );
    }
}
