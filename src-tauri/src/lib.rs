//! Punctual's desktop shell: a window titled "Punctual" and a tray icon over the `punctual` core.
//!
//! The shell holds no domain logic. It opens the core on the data directory (`PUNCTUAL_DATA_DIR` or the OS
//! data dir) and registers the IPC commands of [`commands`]. Beside them:
//! - [`lifecycle`]: the window is created from its config, destroyed on close and created again from the
//!   tray; the app keeps running in the tray until Quit, and runs once per data directory;
//! - [`tray`]: the next meeting with a countdown, Join, today's other meetings, Open and Quit;
//! - [`reminders`]: the due loop on its own thread and connection, with real notifications;
//! - [`watch`]: another process's writes refresh the window, and every write the tray and the due loop;
//! - [`prefs`]: start at login and the global join shortcut, from the stored settings;
//! - [`joins`]: joining from the tray and the shortcut;
//! - [`accounts`]: connecting accounts, and syncing them now and on a timer, off the window's core;
//! - [`trim`]: tray-only mode gives back the file pages it does not use;
//! - [`reveal`]: a new window is shown once its page runs;
//! - [`webkit_env`]: WebKit draws the page without accelerated compositing;
//! - [`startup_trace`]: on request, timed marks of each step of a start, for the benchmark.

pub mod accounts;
pub mod commands;
pub mod joins;
pub mod lifecycle;
pub mod prefs;
pub mod reminders;
pub mod reveal;
pub mod startup_trace;
pub mod tray;
pub mod trim;
pub mod watch;
pub mod webkit_env;

use accounts::Accounts;
use commands::Core;
use reminders::DueLoop;
use tauri::{Manager, RunEvent, WindowEvent};
use tray::Tray;

/// Builds and runs the app until Quit.
pub fn run() -> Result<(), tauri::Error> {
    // First: it changes the environment, which is only safe while this is the only thread.
    webkit_env::prefer_unaccelerated();
    startup_trace::mark("main");
    let mode = lifecycle::mode(std::env::args());
    lifecycle::prepare(mode);
    let core = Core::open_default();
    startup_trace::mark("core opened");
    let accounts = Accounts::new(core.data_dir());
    let context = tauri::generate_context!();
    let instance = lifecycle::instance_id(
        &context.config().identifier,
        core.data_dir(),
        punctual::app::default_data_dir().ok().as_deref(),
    );
    let app = tauri::Builder::default()
        // First, so that a second launch hands over before anything else starts.
        .plugin(
            tauri_plugin_single_instance::Builder::new()
                .dbus_id(instance)
                .callback(|app, _args, _cwd| lifecycle::open_main_for_second_launch(app))
                .build(),
        )
        .plugin(
            tauri_plugin_window_state::Builder::new()
                // Visibility is the app's to decide (a start at login stays in the tray).
                .with_state_flags(
                    tauri_plugin_window_state::StateFlags::SIZE
                        | tauri_plugin_window_state::StateFlags::POSITION
                        | tauri_plugin_window_state::StateFlags::MAXIMIZED,
                )
                .build(),
        )
        .plugin(prefs::autostart_plugin())
        .manage(core)
        .manage(accounts)
        .manage(mode)
        .setup(move |app| {
            startup_trace::mark("setup");
            let handle = app.handle();
            // Before the window exists, so that its page may send its marks.
            #[cfg(feature = "startup-trace")]
            startup_trace::grant(handle)?;
            // The window first, so that WebKit starts its processes and loads the page while the rest starts:
            // the tray, the reminders and the watcher took 30-40 ms of the main thread before it.
            if mode == lifecycle::Mode::Window {
                lifecycle::open_main(handle)?;
                startup_trace::mark("window built");
            }
            let stored = handle.state::<Core>().with(|c| c.settings());
            match stored.and_then(|s| prefs::apply(handle, &s)) {
                Ok(()) => {}
                Err(e) => eprintln!("punctual-desktop: settings not applied: {}", e.message),
            }
            match tray::start(handle) {
                Ok(tray) => {
                    app.manage(tray);
                }
                // Without a tray, closing the window quits (see `run` below), so the app is never unreachable.
                Err(e) => eprintln!("punctual-desktop: no tray icon: {e}"),
            }
            let dir = handle
                .state::<Core>()
                .data_dir()
                .map(std::path::Path::to_path_buf);
            if let Some(dir) = dir {
                match DueLoop::start(&dir) {
                    Ok(due) => {
                        app.manage(due);
                    }
                    Err(e) => eprintln!("punctual-desktop: no reminders: {e}"),
                }
                let notify = handle.clone();
                let on_change = move || {
                    if let Some(tray) = notify.try_state::<Tray>() {
                        tray.changed();
                    }
                    if let Some(due) = notify.try_state::<DueLoop>() {
                        due.changed();
                    }
                };
                match watch::start(handle, &dir, on_change) {
                    Ok(watching) => {
                        app.manage(watching);
                    }
                    // The app still works; the window just will not see other processes' writes live.
                    Err(e) => eprintln!("punctual-desktop: not watching {}: {e}", dir.display()),
                }
            }
            handle.state::<Accounts>().start_timer(handle.clone());
            if mode == lifecycle::Mode::TrayOnly {
                trim::file_pages_later();
            }
            startup_trace::mark("setup done");
            Ok(())
        })
        .on_window_event(|window, event| {
            if window.label() == lifecycle::MAIN && matches!(event, WindowEvent::Destroyed) {
                lifecycle::after_main_closed(window.app_handle());
            }
        })
        .invoke_handler(on_each_call(tauri::generate_handler![
            commands::list_events,
            commands::create_event,
            commands::edit_event,
            commands::delete_event,
            commands::calendars,
            commands::import_ics,
            commands::export_ics,
            commands::data_dir,
            commands::log_folder,
            commands::open_log_folder,
            commands::settings,
            commands::update_settings,
            commands::join_rules,
            commands::set_join_rules,
            commands::upcoming_meetings,
            commands::join_event,
            accounts::connections,
            accounts::connect_account,
            accounts::cancel_connect,
            accounts::connect_account_token,
            accounts::sync_now,
            accounts::select_calendar,
            accounts::disconnect,
            accounts::conflicts,
            accounts::dismiss_conflict,
            accounts::sync_interval,
            accounts::set_sync_interval,
            accounts::oauth_client,
            accounts::set_oauth_client,
            #[cfg(feature = "startup-trace")]
            startup_trace::startup_marks,
        ]))
        .build(context)?;
    startup_trace::mark("app built");
    app.run(|app, event| match event {
        RunEvent::Ready => startup_trace::mark("ready"),
        // The last window closed: Punctual lives on in the tray. Quit exits with a code, which passes.
        RunEvent::ExitRequested {
            code: None, api, ..
        } if app.try_state::<Tray>().is_some() => api.prevent_exit(),
        RunEvent::ExitRequested { code: Some(_), .. } => lifecycle::quitting(),
        RunEvent::Exit => {
            if let Some(due) = app.try_state::<DueLoop>() {
                due.stop();
            }
            app.state::<Accounts>().stop();
        }
        _ => {}
    });
    Ok(())
}

/// The command handler, with what happens at each call before it: the first shows the window
/// ([`reveal`]), and each is marked as it arrives when tracing ([`startup_trace`]).
fn on_each_call<R: tauri::Runtime>(
    handler: impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static,
) -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
    move |invoke| {
        if startup_trace::enabled() {
            startup_trace::mark(&format!("ipc {}", invoke.message.command()));
        }
        reveal::on_call(&invoke.message.webview());
        handler(invoke)
    }
}
