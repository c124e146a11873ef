//! The SQLite store: every SQL string in Punctual lives under this module.
//!
//! Concepts and invariants:
//! - One database file per data directory, in WAL mode, so the desktop app and the CLI can read while the
//!   other writes. Every write runs in a `BEGIN IMMEDIATE` transaction with a busy timeout: taking the write
//!   lock up front means two writers queue instead of failing with "database is locked" on a lock upgrade.
//! - Events are stored whole (MessagePack in `events.body`, events.rs) beside the columns queries filter on.
//! - Occurrences are materialized: singles always have theirs; series instances exist for the UTC months
//!   listed in `horizon`. A window query first makes sure every month it touches is materialized
//!   ([`Store::ensure_months`]), then is a range scan on `occurrences(start_utc, id)`.
//! - The unit of materialization is the *uid group*: a calendar's events sharing an iCalendar UID (a master
//!   and its overrides, or a lone event). Any write to a group re-materializes that group.
//! - Floating times and all-day dates are read in the zone recorded in `meta.zone`; when the user's zone
//!   changes, every occurrence is rebuilt.

mod apply;
mod calendars;
mod checkpoint;
mod connections;
mod events;
mod joins;
pub mod migrations;
mod occurrences;
mod outbox;

pub use connections::{RemoteCalendar, RemoteChange, SyncState};
pub use events::{Encoded, Encodings};
pub use joins::bad_setting;
pub use occurrences::{
    instance_id, OccurrenceRow, PageDirection, PageKey, WindowQuery, MAX_INSTANCES_PER_RANGE,
};
pub use outbox::{Operation, OutboxRow};

use crate::error::{Error, ErrorCode, Result};
use crate::time::Zone;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// How long a writer waits for another process's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The database of one data directory.
pub struct Store {
    /// Declared before `conn` so that it is dropped first: its thread closes its connection, and the
    /// store's, closing last, checkpoints what is left and removes the log.
    checkpointer: Option<checkpoint::Checkpointer>,
    conn: Mutex<Connection>,
    path: Option<PathBuf>,
    zone: Zone,
}

/// A write transaction. Dropping it without [`Store::write`] returning `Ok` rolls everything back.
pub struct Writer<'a> {
    tx: Transaction<'a>,
    zone: Zone,
    /// The longest occurrence written in this transaction, folded into `meta.max_span` once at commit.
    max_span: std::cell::Cell<i64>,
}

/// Read access inside one consistent snapshot.
pub struct Reader<'a> {
    conn: &'a Connection,
}

/// The data holds other people's names, meetings and links: on Unix the folder is the user's alone (0700)
/// and so is the database (0600), created so before SQLite opens it; SQLite gives its -wal and -shm files
/// the database's own mode. An existing folder or file with wider modes is narrowed.
fn owner_only(dir: &Path, db: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let narrow = |p: &Path, mode: u32| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).map_err(|e| {
                Error::new(
                    ErrorCode::Io,
                    format!("cannot make {} private: {e}", p.display()),
                )
            })
        };
        narrow(dir, 0o700)?;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(db)
            .map_err(|e| {
                Error::new(
                    ErrorCode::Storage,
                    format!("cannot create {}: {e}", db.display()),
                )
            })?;
        narrow(db, 0o600)?;
        for side in ["-wal", "-shm"] {
            let p = PathBuf::from(format!("{}{side}", db.display()));
            if p.exists() {
                narrow(&p, 0o600)?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (dir, db);
    Ok(())
}

impl Store {
    /// Opens (creating and migrating if needed) `punctual.sqlite3` in `dir`. Floating and all-day times
    /// are read in `zone`.
    pub fn open(dir: &Path, zone: Zone) -> Result<Store> {
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::new(
                ErrorCode::Io,
                format!("cannot create the data directory {}: {e}", dir.display()),
            )
        })?;
        let path = dir.join("punctual.sqlite3");
        owner_only(dir, &path)?;
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| {
            Error::new(
                ErrorCode::Storage,
                format!("cannot open {}: {e}", path.display()),
            )
        })?;
        Store::setup(conn, Some(path), zone)
    }

    /// An in-memory store, for tests and benchmarks.
    pub fn open_in_memory(zone: Zone) -> Result<Store> {
        Store::setup(Connection::open_in_memory()?, None, zone)
    }

    /// An in-memory store in UTC with the local calendar, for unit tests.
    #[cfg(test)]
    pub(crate) fn with_local_calendar() -> Store {
        let store = Store::open_in_memory(Zone::UTC).expect("an in-memory store opens");
        store
            .write(|w| w.ensure_local_calendar(chrono::Utc::now()))
            .expect("the local calendar is written");
        store
    }

    fn setup(mut conn: Connection, path: Option<PathBuf>, zone: Zone) -> Result<Store> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // Every hot statement is prepared once per connection; parsing SQL showed up at 7% of a window
        // query when the cache (16 by default) was smaller than the set the app cycles through.
        conn.set_prepared_statement_cache_capacity(128);
        // The query planner stability guarantee: plans do not depend on bound values, so a cached window
        // query is not re-prepared each time it is bound (measured: a re-prepare on every page).
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )?;
        // 8 KB pages for a new database (an existing one keeps its size: WAL mode cannot change it). The
        // occurrence keys are long (two UUID-length texts and a time), so 4 KB pages split and rebalance
        // often: 8 KB materialized a year of 2,000 series in about two thirds of the time, and sped
        // syncing up by a fifth; 16 KB was slower than 8 (benches/core.rs, benches/sync.rs).
        conn.execute_batch("PRAGMA page_size = 8192")?;
        // WAL lets readers and one writer work at once across processes (https://sqlite.org/wal.html).
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if path.is_some() && !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::new(
                ErrorCode::Storage,
                format!("the database refused WAL mode ({mode})"),
            ));
        }
        // A 64 MB page cache keeps a large import or a year's materialization from spilling pages mid
        // transaction (measured: spills dominated materialization with the 2 MB default); memory-mapped reads
        // skip a copy per page for window queries.
        // Checkpoints are where WAL mode with synchronous = NORMAL fsyncs (twice each). A sync page of 2,500
        // events writes about 5 MB of WAL, past the 1,000-page default, so every page's commit checkpointed:
        // fsyncs were a quarter of the apply path's wall time (strace). Checkpoints now run on a thread of
        // their own (checkpoint.rs); the automatic one, every 128 MB, only bounds the log if that thread
        // lags. Each commit stays atomic (a crash loses whole transactions, page and cursor together, which
        // the next sync redoes), and the size limit truncates the WAL back after a large sync.
        conn.execute_batch(
            "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536;
             PRAGMA temp_store = MEMORY; PRAGMA mmap_size = 268435456;
             PRAGMA wal_autocheckpoint = 16384; PRAGMA journal_size_limit = 16777216;",
        )?;
        migrations::migrate(&mut conn)
            .map_err(|e| Error::new(ErrorCode::Storage, e.to_string()))?;
        let checkpointer = path
            .as_deref()
            .map(|p| checkpoint::Checkpointer::new(p, conn.total_changes()));
        let store = Store {
            checkpointer,
            conn: Mutex::new(conn),
            path,
            zone,
        };
        store.write(|w| w.check_zone())?;
        Ok(store)
    }

    /// The database file, for the shell to watch. `None` for an in-memory store.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The zone floating and all-day times are read in.
    pub fn zone(&self) -> Zone {
        self.zone
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a transaction open (rusqlite rolls back on drop),
        // so the connection is still usable.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` in one write transaction and commits if it returns `Ok`.
    pub fn write<T>(&self, f: impl FnOnce(&mut Writer<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut w = Writer {
            tx,
            zone: self.zone,
            max_span: std::cell::Cell::new(0),
        };
        let out = f(&mut w)?;
        w.flush_max_span()?;
        // A commit changes no rows, so the count read before it is the count after.
        let changes = w.tx.total_changes();
        w.tx.commit()?;
        if let Some(cp) = &self.checkpointer {
            cp.committed(changes);
        }
        Ok(out)
    }

    /// Runs `f` in one read transaction (a consistent snapshot).
    pub fn read<T>(&self, f: impl FnOnce(&Reader<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
        let out = f(&Reader { conn: &tx })?;
        tx.finish()?;
        Ok(out)
    }

    /// Rewrites the database and empties its write-ahead log, so no freed page keeps bytes that were
    /// removed (a secret an older version stored): for one-time migrations, not for every write.
    pub fn scrub(&self) -> Result<()> {
        let conn = self.lock();
        conn.execute_batch(
            "PRAGMA wal_checkpoint(TRUNCATE); VACUUM; PRAGMA wal_checkpoint(TRUNCATE);",
        )?;
        Ok(())
    }

    /// Rows changed through this store since it was opened: a test that an operation wrote nothing.
    pub fn total_changes(&self) -> u64 {
        self.lock().total_changes()
    }

    /// A number that changes whenever any connection, in any process, commits. Cheap: for change checks.
    pub fn data_version(&self) -> Result<i64> {
        let conn = self.lock();
        Ok(conn.query_row("PRAGMA data_version", [], |r| r.get(0))?)
    }
}

impl Writer<'_> {
    fn conn(&self) -> &Connection {
        &self.tx
    }

    pub fn reader(&self) -> Reader<'_> {
        Reader { conn: &self.tx }
    }

    fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn()
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }

    fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.conn().execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )?;
        Ok(())
    }

    /// Rebuilds every occurrence when the zone that floating and all-day times are read in has changed.
    fn check_zone(&mut self) -> Result<()> {
        let name = self.zone.name();
        match self.meta("zone")? {
            Some(z) if z == name => Ok(()),
            None => self.set_meta("zone", name),
            Some(_) => {
                self.set_meta("zone", name)?;
                self.rebuild_all_occurrences()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_size(store: &Store) -> i64 {
        store
            .read(|r| Ok(r.conn.query_row("PRAGMA page_size", [], |row| row.get(0))?))
            .expect("the page size reads")
    }

    #[test]
    fn a_new_database_has_8k_pages_and_an_older_4k_one_keeps_its_own() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let fresh = Store::open(&dir.path().join("new"), Zone::UTC).expect("a new store opens");
        assert_eq!(
            page_size(&fresh),
            8192,
            "a new database is created with 8 KB pages"
        );

        // A database made by an earlier Punctual, with SQLite's default 4 KB pages.
        let old_dir = dir.path().join("old");
        std::fs::create_dir_all(&old_dir).expect("the old data dir");
        let old = Connection::open(old_dir.join("punctual.sqlite3")).expect("an old database");
        old.execute_batch(
            "PRAGMA page_size = 4096; PRAGMA journal_mode = WAL; CREATE TABLE t (x);",
        )
        .expect("the old database is written");
        drop(old);
        let reopened =
            Store::open(&old_dir, Zone::UTC).expect("the old database opens and migrates");
        assert_eq!(
            page_size(&reopened),
            4096,
            "WAL mode cannot change an existing database's page size, and opening must not fail for it"
        );
        let tables: i64 = reopened
            .read(|r| {
                Ok(r.conn.query_row(
                    "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('t', 'events')",
                    [],
                    |row| row.get(0),
                )?)
            })
            .expect("the schema reads");
        assert_eq!(
            tables, 2,
            "the old table is kept and the migrations ran on top of it"
        );
    }
}
