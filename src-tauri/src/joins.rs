//! Joining from the shell: the tray's Join items and the global shortcut. Both go through the core's
//! [`punctual::app::App::join`], which opens only links that detection accepted, with the same opener as the
//! `join_event` command. They run off the main thread, because an opener may take a moment, and a failure
//! is shown as a notification, since there is no window to show it in.

use crate::commands::Core;
use punctual::desktop_host::SystemOpener;
use tauri::{AppHandle, Manager};

/// Joins `target` ("next" or an occurrence id) on a background thread.
pub fn join_in_background(app: &AppHandle, target: String) {
    let app = app.clone();
    let spawned = std::thread::Builder::new()
        .name("punctual-join".into())
        .spawn(move || {
            let joined = app
                .state::<Core>()
                .with(|core| core.join(&target, &SystemOpener));
            if let Err(e) = joined {
                eprintln!(
                    "punctual-desktop: join {target}: [{}] {}",
                    e.code.as_str(),
                    e.message
                );
                if let Err(n) =
                    punctual::desktop_host::notice("Punctual could not join", &e.message)
                {
                    eprintln!("punctual-desktop: cannot show a notification: {n}");
                }
            }
        });
    if let Err(e) = spawned {
        eprintln!("punctual-desktop: cannot start joining: {e}");
    }
}
