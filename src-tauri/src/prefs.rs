//! The settings that act on the desktop rather than on the calendar: start at login (the autostart plugin:
//! an XDG autostart entry, a LaunchAgent, a Run key) and the global shortcut that joins the next meeting.
//!
//! They are applied at startup from the stored settings and again by the `update_settings` command. The
//! store is the source of truth; the OS is brought in line with it, touching the autostart entry only when
//! it differs, so a launch writes nothing when nothing changed.
//!
//! The shortcut plugin is loaded only once a shortcut is set: on X11 its listener thread wakes every 50 ms
//! (global-hotkey's x11 event loop), which an idle tray app that never asked for a shortcut should not pay.
//! Once loaded it stays until the app ends; turning the shortcut off releases the key.

use crate::joins;
use crate::lifecycle::TRAY_FLAG;
use punctual::app::Settings;
use punctual::error::{Error, ErrorCode, Result};
use std::sync::Mutex;
use tauri::plugin::TauriPlugin;
use tauri::{AppHandle, Manager, Wry};
use tauri_plugin_autostart::ManagerExt as _;
use tauri_plugin_global_shortcut::{GlobalShortcut, GlobalShortcutExt as _, ShortcutState};

/// The accelerator this app holds, if any. The lock is held for the whole change, so that two settings
/// updates at once neither load the plugin twice nor race on the key.
static REGISTERED: Mutex<Option<String>> = Mutex::new(None);

/// The autostart plugin, launching Punctual into the tray at login.
pub fn autostart_plugin() -> TauriPlugin<Wry> {
    tauri_plugin_autostart::Builder::new()
        .app_name("Punctual")
        .arg(TRAY_FLAG)
        .build()
}

/// The global shortcut plugin: whichever shortcut is registered joins the next meeting when pressed.
fn shortcut_plugin() -> TauriPlugin<Wry> {
    tauri_plugin_global_shortcut::Builder::new()
        .with_handler(|app, _shortcut, event| {
            if event.state == ShortcutState::Pressed {
                joins::join_in_background(app, "next".to_string());
            }
        })
        .build()
}

/// Brings start at login and the join shortcut in line with `settings`. An error names the setting.
pub fn apply(app: &AppHandle, settings: &Settings) -> Result<()> {
    start_at_login(app, settings.start_at_login)?;
    join_shortcut(app, settings.join_shortcut.as_deref())
}

fn start_at_login(app: &AppHandle, on: bool) -> Result<()> {
    let autostart = app.autolaunch();
    if autostart.is_enabled().ok() == Some(on) {
        return Ok(());
    }
    let done = if on {
        autostart.enable()
    } else {
        autostart.disable()
    };
    done.map_err(|e| {
        Error::field(
            ErrorCode::Io,
            "start_at_login",
            format!("cannot change start at login: {e}"),
        )
    })
}

fn join_shortcut(app: &AppHandle, accelerator: Option<&str>) -> Result<()> {
    let mut registered = REGISTERED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if registered.as_deref() == accelerator {
        return Ok(());
    }
    if app.try_state::<GlobalShortcut<Wry>>().is_none() {
        app.plugin(shortcut_plugin()).map_err(|e| {
            Error::field(
                ErrorCode::Io,
                "join_shortcut",
                format!("global shortcuts are not available here: {e}"),
            )
        })?;
    }
    let shortcuts = app.global_shortcut();
    if let Some(previous) = registered.as_deref() {
        // Released by name, never with `unregister_all`: that holds the plugin's lock while the X thread
        // ungrabs the key, and a key event the X thread reads first waits for that same lock, so the
        // main thread, the X thread and this one would wait on each other for ever.
        shortcuts.unregister(previous).map_err(|e| {
            Error::field(
                ErrorCode::Io,
                "join_shortcut",
                format!("cannot release the previous shortcut: {e}"),
            )
        })?;
        *registered = None;
    }
    if let Some(accelerator) = accelerator {
        // The core checked the shape; the OS decides whether the key is free.
        shortcuts.register(accelerator).map_err(|e| {
            Error::field(
                ErrorCode::InvalidInput,
                "join_shortcut",
                format!("the shortcut {accelerator:?} cannot be used: {e}"),
            )
        })?;
        *registered = Some(accelerator.to_string());
    }
    Ok(())
}
