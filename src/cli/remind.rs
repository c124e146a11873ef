//! `punctual remind`: the due loop in the foreground, with desktop notifications (D-Bus on Linux) that offer
//! Join, Snooze 1 min, Snooze 5 min and Dismiss. For people who run Punctual without the desktop app, and a
//! way to see reminders work end to end. The notifier, opener and screen-lock check are the desktop app's
//! own ([`punctual::desktop_host`]). Accounts sync in the background every `sync_interval_minutes`.

use punctual::app::{App, JoinHost, LoopSignal};
use punctual::desktop_host::{DesktopNotifier, SessionLock, SystemOpener};
use punctual::error::Error;
use std::sync::mpsc::channel;
use std::sync::Arc;

/// Runs until interrupted.
pub fn run(app: App) -> Result<(), Error> {
    super::accounts::tidy(&app);
    let app = Arc::new(app);
    let (tx, rx) = channel();
    // Accounts sync in the background at the configured interval; each pass wakes the due loop, which
    // plans again from what arrived.
    let (sync_app, sync_wake) = (app.clone(), tx.clone());
    std::thread::spawn(move || loop {
        if let Err(e) = sync_app.sync(None, false, &mut |_, _| {}) {
            eprintln!("sync: error [{}]: {}", e.code.as_str(), e.message);
        }
        if sync_wake.send(LoopSignal::Changed).is_err() {
            return;
        }
        let wait = sync_app
            .sync_interval()
            .unwrap_or(std::time::Duration::from_secs(300));
        std::thread::sleep(wait);
    });
    let notifier = DesktopNotifier::new(app.clone(), tx);
    let host = JoinHost {
        notifier: &notifier,
        opener: &SystemOpener,
        screen: &SessionLock,
    };
    eprintln!("Punctual is watching for meetings (Ctrl-C to stop).");
    app.run_join_loop(&host, &rx)
}
