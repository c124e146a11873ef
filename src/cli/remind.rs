//! `punctual remind`: the due loop in the foreground, with desktop notifications (D-Bus on Linux) that offer
//! Join, Snooze 1 min, Snooze 5 min and Dismiss. For people who run Punctual without the desktop app, and a
//! way to see reminders work end to end. Accounts sync in the background every `sync_interval_minutes`.

use super::opener::SystemOpener;
use super::screen::SessionLock;
use punctual::app::{App, JoinHost, LoopSignal};
use punctual::error::Error;
use punctual::join::{Notification, Notifier};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, Mutex};

/// Sends reminders as desktop notifications and routes their buttons back to the app.
struct DesktopNotifier {
    app: Arc<App>,
    wake: Mutex<Sender<LoopSignal>>,
}

impl Notifier for DesktopNotifier {
    fn notify(&self, n: &Notification) -> Result<(), String> {
        let mut note = notify_rust::Notification::new();
        note.appname("Punctual").summary(&n.title).body(&n.body);
        if n.has_link {
            // "default" is what a click on the notification itself does where the server has no buttons.
            note.action("default", "Join").action("join", "Join");
        }
        note.action("snooze1", "Snooze 1 min")
            .action("snooze5", "Snooze 5 min")
            .action("dismiss", "Dismiss");
        let handle = note.show().map_err(|e| e.to_string())?;
        eprintln!("reminder: {} — {}", n.title, n.body);
        let (app, plan) = (self.app.clone(), n.plan_id.clone());
        let wake = self.wake.lock().map_err(|e| e.to_string())?.clone();
        #[cfg(all(unix, not(target_os = "macos")))]
        std::thread::spawn(move || {
            handle.wait_for_action(|action| {
                let done = match action {
                    "default" | "join" => app.join(&plan, &SystemOpener).map(|_| ()),
                    "snooze1" => app.snooze(&plan, 1),
                    "snooze5" => app.snooze(&plan, 5),
                    "dismiss" => app.dismiss(&plan),
                    _ => Ok(()),
                };
                if let Err(e) = done {
                    eprintln!("error [{}]: {}", e.code.as_str(), e.message);
                }
                let _ = wake.send(LoopSignal::Changed);
            });
        });
        #[cfg(not(all(unix, not(target_os = "macos"))))]
        let _ = (handle, app, plan, wake);
        Ok(())
    }
}

/// Runs until interrupted.
pub fn run(app: App) -> Result<(), Error> {
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
    let notifier = DesktopNotifier {
        app: app.clone(),
        wake: Mutex::new(tx),
    };
    let host = JoinHost {
        notifier: &notifier,
        opener: &SystemOpener,
        screen: &SessionLock,
    };
    eprintln!("Punctual is watching for meetings (Ctrl-C to stop).");
    app.run_join_loop(&host, &rx)
}
