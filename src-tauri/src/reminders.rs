//! The due loop inside the desktop app: reminders and auto-joins while Punctual runs, window open or not.
//!
//! The loop runs on its own thread with its own [`App`] on the same data directory, that is its own SQLite
//! connection, so a tick never waits for the commands' lock nor makes the window wait. It uses the same
//! notifier, opener and screen-lock check as `punctual remind` ([`punctual::desktop_host`]). The watcher
//! wakes it when the data changed ([`DueLoop::changed`]); otherwise it sleeps until the next plan is due, at
//! most 15 s, and reads the wall clock each time (tokio-style timers stop while the machine sleeps).
//!
//! A failed tick (the disk, a busy database) does not end reminders for the session: the loop starts again
//! after a pause. Quit stops it and waits for it ([`DueLoop::stop`]).

use punctual::app::{App, JoinHost, LoopSignal};
use punctual::desktop_host::{DesktopNotifier, SessionLock, SystemOpener};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long to wait before running the loop again after it failed.
const RETRY: Duration = Duration::from_secs(15);

/// The running loop.
pub struct DueLoop {
    dir: PathBuf,
    signals: Mutex<Sender<LoopSignal>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl DueLoop {
    /// Starts the loop on `data_dir`.
    pub fn start(data_dir: &Path) -> std::io::Result<DueLoop> {
        let due = DueLoop {
            dir: data_dir.to_path_buf(),
            signals: Mutex::new(channel().0),
            thread: Mutex::new(None),
        };
        due.resume()?;
        Ok(due)
    }

    /// Starts the loop again after [`DueLoop::stop`]; does nothing while it runs.
    pub fn resume(&self) -> std::io::Result<()> {
        let mut thread = self.thread.lock().unwrap_or_else(PoisonError::into_inner);
        if thread.is_some() {
            return Ok(());
        }
        let (tx, rx) = channel();
        let wake = tx.clone();
        let dir = self.dir.clone();
        *thread = Some(
            std::thread::Builder::new()
                .name("punctual-due".into())
                .spawn(move || run(&dir, wake, &rx))?,
        );
        *self.signals.lock().unwrap_or_else(PoisonError::into_inner) = tx;
        Ok(())
    }

    /// The data changed: plan again now.
    pub fn changed(&self) {
        self.send(LoopSignal::Changed);
    }

    /// Stops the loop and waits for it to finish its tick.
    pub fn stop(&self) {
        self.send(LoopSignal::Stop);
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }

    fn send(&self, signal: LoopSignal) {
        if let Ok(tx) = self.signals.lock() {
            // The loop is gone only after Stop.
            let _ = tx.send(signal);
        }
    }
}

fn run(dir: &Path, wake: Sender<LoopSignal>, signals: &Receiver<LoopSignal>) {
    loop {
        let result = App::open(dir).map(Arc::new).and_then(|app| {
            let notifier = DesktopNotifier::new(app.clone(), wake.clone());
            let host = JoinHost {
                notifier: &notifier,
                opener: &SystemOpener,
                screen: &SessionLock,
            };
            app.run_join_loop(&host, signals)
        });
        match result {
            Ok(()) => return,
            Err(e) => eprintln!(
                "punctual-desktop: reminders stopped [{}]: {}; trying again in {} s",
                e.code.as_str(),
                e.message,
                RETRY.as_secs()
            ),
        }
        match signals.recv_timeout(RETRY) {
            Ok(LoopSignal::Stop) | Err(RecvTimeoutError::Disconnected) => return,
            Ok(LoopSignal::Changed) | Err(RecvTimeoutError::Timeout) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn the_loop_runs_on_its_own_connection_and_stops_promptly() {
        let dir = tempfile::tempdir().expect("a temporary data dir");
        let due = DueLoop::start(dir.path()).expect("the loop thread starts");
        // The loop opens the data directory itself: its database appears without the shell's Core.
        let db_seen = (0..100).any(|_| {
            std::thread::sleep(Duration::from_millis(50));
            std::fs::read_dir(dir.path()).is_ok_and(|mut d| d.next().is_some())
        });
        assert!(
            db_seen,
            "the due loop opened its own connection on the data directory"
        );
        due.changed();
        let started = Instant::now();
        due.stop();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "Quit must not wait for the loop's 15 s sleep: {:?}",
            started.elapsed()
        );
        assert!(
            due.thread.lock().map(|t| t.is_none()).unwrap_or(false),
            "the thread was joined, so nothing runs after Quit"
        );
        due.resume().expect("the loop starts again");
        assert!(
            due.thread.lock().map(|t| t.is_some()).unwrap_or(false),
            "after a failed switch of process the reminders run again"
        );
        due.stop();
    }
}
