//! Checkpoints the WAL on a thread of its own, so that no write waits for one.
//!
//! In WAL mode a commit only appends pages to the log; a checkpoint later copies them into the database file
//! and fsyncs it. SQLite's automatic checkpoint runs inside whichever commit crosses the threshold, so that
//! commit pays for copying everything before it: measured, a month's first visit took 560–650 ms instead of
//! about 200 because the checkpoint of a 100k-event import landed in it, and checkpoints were a tenth of a
//! sync's apply path. A PASSIVE checkpoint from a second connection takes no lock a writer needs
//! (https://sqlite.org/wal.html#checkpointing), so it runs beside the next write on another core.
//!
//! The writer asks for a checkpoint after every [`ROWS_PER_CHECKPOINT`] rows it changed: rows stand in for
//! log pages, which SQLite does not report without a hook. A burst of requests while one runs collapses into
//! one. The writer's own automatic checkpoint stays on as a bound on the log in case this thread lags.

use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::Duration;

/// Rows changed between two requests: a few MB of log, a few hundred milliseconds of copying at most.
pub(super) const ROWS_PER_CHECKPOINT: u64 = 4_096;

/// The checkpoint thread of one database file, started on the first request.
pub(super) struct Checkpointer {
    path: PathBuf,
    /// Rows changed (the connection's running total) when a checkpoint was last asked for.
    asked_at: Mutex<u64>,
    thread: Mutex<Option<(SyncSender<()>, JoinHandle<()>)>>,
}

impl Checkpointer {
    pub(super) fn new(path: &Path, total_changes: u64) -> Checkpointer {
        Checkpointer {
            path: path.to_path_buf(),
            asked_at: Mutex::new(total_changes),
            thread: Mutex::new(None),
        }
    }

    /// Called after each commit with the writer's running count of changed rows.
    pub(super) fn committed(&self, total_changes: u64) {
        {
            let mut asked = self.asked_at.lock().unwrap_or_else(|e| e.into_inner());
            if total_changes.saturating_sub(*asked) < ROWS_PER_CHECKPOINT {
                return;
            }
            *asked = total_changes;
        }
        self.request();
    }

    /// Asks the thread for a checkpoint, starting it if needed.
    fn request(&self) {
        let mut thread = self.thread.lock().unwrap_or_else(|e| e.into_inner());
        if thread.is_none() {
            let (tx, rx) = sync_channel(1);
            let path = self.path.clone();
            let spawned = std::thread::Builder::new()
                .name("punctual-checkpoint".into())
                .spawn(move || run(&path, rx));
            match spawned {
                Ok(handle) => *thread = Some((tx, handle)),
                // Without a thread the writer's automatic checkpoint still bounds the log.
                Err(_) => return,
            }
        }
        if let Some((tx, _)) = thread.as_ref() {
            match tx.try_send(()) {
                // Full: a request is already waiting, and it will see these pages too.
                Ok(()) | Err(TrySendError::Full(())) => {}
                Err(TrySendError::Disconnected(())) => *thread = None,
            }
        }
    }
}

impl Drop for Checkpointer {
    /// Lets a running checkpoint finish and closes the thread's connection before the store's own closes,
    /// so that the last connection to close can checkpoint the rest and remove the log.
    fn drop(&mut self) {
        let thread = self.thread.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Some((tx, handle)) = thread.take() {
            drop(tx);
            let _ = handle.join();
        }
    }
}

/// The thread: one PASSIVE checkpoint per request until the store goes away. Failures have no one to be
/// reported to and lose nothing: the log keeps every page, and the writer's own automatic checkpoint (or
/// the next request) copies them.
fn run(path: &Path, requests: Receiver<()>) {
    let Ok(conn) = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    ) else {
        return;
    };
    // This connection writes no rows, so it must not run an automatic checkpoint inside its own commits.
    let ready = conn
        .busy_timeout(Duration::from_secs(5))
        .and_then(|()| conn.execute_batch("PRAGMA wal_autocheckpoint = 0"));
    if ready.is_err() {
        return;
    }
    while requests.recv().is_ok() {
        // It answers (busy, frames in the log, frames copied); a page held back by a reader is copied by
        // the next request.
        let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wal_frames(path: &Path) -> (i64, i64) {
        let conn = Connection::open(path).expect("a second connection opens");
        conn.execute_batch("PRAGMA wal_autocheckpoint = 0")
            .expect("no checkpoint on this connection");
        // A PASSIVE checkpoint with nothing left to copy reports the log as the thread left it.
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get(1)?, r.get(2)?))
        })
        .expect("the log reports its frames")
    }

    #[test]
    fn a_request_copies_the_log_into_the_database_off_the_writer() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("db.sqlite3");
        let writer = Connection::open(&path).expect("opens");
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
                 CREATE TABLE t (x TEXT);
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
                 INSERT INTO t SELECT printf('%0200d', i) FROM n;",
            )
            .expect("rows are written to the log");
        let before = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let cp = Checkpointer::new(&path, 0);
        cp.committed(writer.total_changes());
        drop(cp);
        let after = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        assert!(
            after > before + 500_000,
            "the thread copied the log's pages into the database file ({before} -> {after} bytes)"
        );
        let (log, copied) = wal_frames(&path);
        assert_eq!(
            log, copied,
            "every frame of the log is in the database once the thread is done"
        );
        let n: i64 = writer
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .expect("counts");
        assert_eq!(n, 5000, "the writer still sees every row");
    }

    #[test]
    fn small_writes_do_not_wake_the_thread() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let cp = Checkpointer::new(&dir.path().join("db.sqlite3"), 100);
        cp.committed(100 + ROWS_PER_CHECKPOINT - 1);
        assert!(
            cp.thread.lock().map(|t| t.is_none()).unwrap_or(false),
            "fewer rows than the threshold start no thread"
        );
    }
}
