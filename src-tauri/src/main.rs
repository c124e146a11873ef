//! The `punctual-desktop` binary: starts the Tauri app defined in the library.

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // The same daily log as the CLI's (punctual::logs), kept open for the app's life.
    let _log = punctual::logs::init();
    if let Err(e) = punctual_desktop::run() {
        eprintln!("punctual-desktop: {e}");
        std::process::exit(1);
    }
}
