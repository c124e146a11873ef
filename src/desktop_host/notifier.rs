//! Reminders as desktop notifications (D-Bus org.freedesktop.Notifications on Linux, the notification
//! centre on macOS and Windows) with the buttons Join, Snooze 1 min, Snooze 5 min and Dismiss. Where the
//! server shows no buttons, clicking the notification itself sends the "default" action, which joins.
//!
//! A button acts on the plan through the app that owns the loop, then wakes the loop
//! ([`LoopSignal::Changed`]) so that a snoozed plan is rescheduled at once.

use super::opener::SystemOpener;
use crate::app::{App, LoopSignal};
use crate::join::{Notification, Notifier};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};

/// Sends reminders as desktop notifications and routes their buttons back to the app.
pub struct DesktopNotifier {
    app: Arc<App>,
    wake: Mutex<Sender<LoopSignal>>,
}

impl DesktopNotifier {
    /// A notifier whose buttons act through `app` and then send [`LoopSignal::Changed`] on `wake`.
    pub fn new(app: Arc<App>, wake: Sender<LoopSignal>) -> DesktopNotifier {
        DesktopNotifier {
            app,
            wake: Mutex::new(wake),
        }
    }
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
        // The plan, not the title: stderr ends up in terminals, logs and bug reports.
        eprintln!("reminder shown (plan {})", n.plan_id);
        let (app, plan) = (self.app.clone(), n.plan_id.clone());
        let wake = self.wake.lock().map_err(|e| e.to_string())?.clone();
        #[cfg(all(unix, not(target_os = "macos")))]
        std::thread::spawn(move || {
            // Blocks until the notification is answered or closed, hence a thread per notification.
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

/// A plain notification with no buttons, for messages such as a join that failed with no window open.
pub fn notice(summary: &str, body: &str) -> Result<(), String> {
    notify_rust::Notification::new()
        .appname("Punctual")
        .summary(summary)
        .body(body)
        .show()
        .map(|_| ())
        .map_err(|e| e.to_string())
}
