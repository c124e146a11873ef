//! Change events: when another process (the `punctual` CLI, a second window, a future sync) writes the database,
//! the UI refreshes within a moment, without polling.
//!
//! The data directory is watched with the OS's file notifications (inotify, FSEvents, ReadDirectoryChangesW).
//! A burst of writes (the WAL, the shared-memory index, a checkpoint) is coalesced into one notice, and the
//! notice is sent only when SQLite's `data_version` says another connection committed: reads and this app's own
//! writes (which the UI refreshes after by itself) do not echo back.
//!
//! The tray and the due loop hear of every write, the window's own included (the commands' connection
//! counts its changes), through the `on_change` callback: a meeting created in the window must reach the
//! tray and the reminders too.

use crate::commands::Core;
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use std::path::Path;
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::Duration;
use tauri::{AppHandle, Emitter, Manager};

/// The event the UI listens to (ui/src/ipc/tauri.ts).
pub const CHANGED_EVENT: &str = "punctual://changed";

/// How long to wait for the rest of a burst of writes before looking at the database.
const SETTLE: Duration = Duration::from_millis(150);

/// Keeps the watcher alive for as long as the app runs (dropping it stops the notifications).
pub struct Watching {
    _watcher: Mutex<RecommendedWatcher>,
}

/// Watches `dir` and emits [`CHANGED_EVENT`] to every window when another process changed the database;
/// calls `on_change` after any write, this app's own included.
pub fn start(
    app: &AppHandle,
    dir: &Path,
    on_change: impl Fn() + Send + 'static,
) -> notify::Result<Watching> {
    let (tx, rx) = mpsc::channel::<()>();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(event) = res {
            if matches!(
                event.kind,
                EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_)
            ) {
                // The receiver is gone only when the app is shutting down.
                let _ = tx.send(());
            }
        }
    })?;
    watcher.watch(dir, RecursiveMode::NonRecursive)?;

    let app = app.clone();
    std::thread::Builder::new()
        .name("punctual-watch".into())
        .spawn(move || {
            let mut last = None;
            while rx.recv().is_ok() {
                std::thread::sleep(SETTLE);
                while rx.try_recv().is_ok() {}
                let seen = app
                    .state::<Core>()
                    .with(|core| Ok((core.data_version()?, core.total_changes())))
                    .ok();
                if seen.is_none() || seen == last {
                    continue;
                }
                let others_wrote = seen.map(|s| s.0) != last.map(|s: (i64, u64)| s.0);
                last = seen;
                on_change();
                if others_wrote {
                    if let Err(e) = app.emit(CHANGED_EVENT, ()) {
                        eprintln!("punctual-desktop: cannot notify the window of a change: {e}");
                    }
                }
            }
        })
        .map_err(|e| notify::Error::generic(&e.to_string()))?;
    Ok(Watching {
        _watcher: Mutex::new(watcher),
    })
}
