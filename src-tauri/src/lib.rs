//! Punctual's desktop shell: one window titled "Punctual" over the `punctual` core.
//!
//! The shell holds no domain logic. It opens the core on the data directory (`PUNCTUAL_DATA_DIR` or the OS
//! data dir), registers the IPC commands of [`commands`], and serves the web UI built into `ui/dist`.
//! Tray, notifications and file watching are later steps; they belong here, beside the commands.

pub mod commands;

use commands::Core;

/// Builds and runs the app until its last window closes.
pub fn run() -> Result<(), tauri::Error> {
    let core = Core::open_default();
    tauri::Builder::default()
        .manage(core)
        .invoke_handler(tauri::generate_handler![
            commands::list_events,
            commands::create_event,
            commands::edit_event,
            commands::delete_event,
            commands::calendars,
            commands::import_ics,
            commands::export_ics,
            commands::data_dir,
        ])
        .run(tauri::generate_context!())
}
