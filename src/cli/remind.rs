//! `punctual remind`: the due loop in the foreground, with desktop notifications (D-Bus on Linux) that offer
//! Join, Snooze 1 min, Snooze 5 min and Dismiss. For people who run Punctual without the desktop app, and a
//! way to see reminders work end to end. The notifier, opener and screen-lock check are the desktop app's
//! own ([`punctual::desktop_host`]).

use punctual::app::{App, JoinHost};
use punctual::desktop_host::{DesktopNotifier, SessionLock, SystemOpener};
use punctual::error::Error;
use std::sync::mpsc::channel;
use std::sync::Arc;

/// Runs until interrupted.
pub fn run(app: App) -> Result<(), Error> {
    let app = Arc::new(app);
    let (tx, rx) = channel();
    let notifier = DesktopNotifier::new(app.clone(), tx);
    let host = JoinHost {
        notifier: &notifier,
        opener: &SystemOpener,
        screen: &SessionLock,
    };
    eprintln!("Punctual is watching for meetings (Ctrl-C to stop).");
    app.run_join_loop(&host, &rx)
}
