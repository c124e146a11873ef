//! Build script: compiles tauri.conf.json (symlinked from the repository root) and the capabilities, and
//! declares the app's commands so that each needs an explicit permission (capabilities/default.json).

fn main() {
    let manifest = tauri_build::AppManifest::new().commands(punctual_desktop_commands());
    if let Err(e) = tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest)) {
        eprintln!("tauri build script failed: {e:#}");
        std::process::exit(1);
    }
}

/// Every command in `src/commands.rs`, `src/accounts.rs` and `src/startup_trace.rs`; the capability file grants
/// `allow-<name>` for each one the UI uses. `startup_marks` is declared in every build, so that its permission
/// file stays the same whatever the features, but only a `startup-trace` build registers the command and
/// grants its permission (at run time, `startup_trace::grant`); capabilities/default.json never does.
fn punctual_desktop_commands() -> &'static [&'static str] {
    &[
        "list_events",
        "create_event",
        "edit_event",
        "delete_event",
        "calendars",
        "import_ics",
        "export_ics",
        "data_dir",
        "log_folder",
        "open_log_folder",
        "settings",
        "update_settings",
        "join_rules",
        "set_join_rules",
        "upcoming_meetings",
        "join_event",
        "connections",
        "connect_account",
        "cancel_connect",
        "connect_account_token",
        "sync_now",
        "select_calendar",
        "disconnect",
        "conflicts",
        "dismiss_conflict",
        "sync_interval",
        "set_sync_interval",
        "oauth_client",
        "set_oauth_client",
        "startup_marks",
    ]
}
