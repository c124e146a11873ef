//! Punctual's desktop shell: one window titled "Punctual" over the `punctual` core.
//!
//! The shell holds no domain logic. It opens the core on the data directory (`PUNCTUAL_DATA_DIR` or the OS
//! data dir), registers the IPC commands of [`commands`], and serves the web UI built into `ui/dist`.
//! When another process writes the database, [`watch`] tells the UI to refresh. Tray and notifications are
//! later steps; they belong here, beside the commands.

pub mod commands;
pub mod watch;

use commands::Core;
use tauri::Manager;

/// Builds and runs the app until its last window closes.
pub fn run() -> Result<(), tauri::Error> {
    let core = Core::open_default();
    tauri::Builder::default()
        .manage(core)
        .setup(|app| {
            let dir = app
                .state::<Core>()
                .data_dir()
                .map(std::path::Path::to_path_buf);
            if let Some(dir) = dir {
                match watch::start(app.handle(), &dir) {
                    Ok(watching) => {
                        app.manage(watching);
                    }
                    // The app still works; the window just will not see other processes' writes live.
                    Err(e) => eprintln!("punctual-desktop: not watching {}: {e}", dir.display()),
                }
            }
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::list_events,
            commands::create_event,
            commands::edit_event,
            commands::delete_event,
            commands::calendars,
            commands::import_ics,
            commands::export_ics,
            commands::data_dir,
            commands::settings,
            commands::update_settings,
            commands::join_rules,
            commands::set_join_rules,
            commands::upcoming_meetings,
        ])
        .run(tauri::generate_context!())
}
