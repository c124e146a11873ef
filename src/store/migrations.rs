//! Versioned schema migrations, tracked in `PRAGMA user_version`.
//!
//! Each entry runs once, in order, inside one transaction with the version bump, so a crash mid-migration
//! leaves the previous version intact. Never edit a shipped migration: append a new one.
//!
//! Version 1 lays out the whole house, including tables that later features fill (connections, sync state,
//! outbox, join plans), so they arrive by their own migrations only when their shape changes.

use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    // 1: the house.
    r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE connections (
    id                TEXT PRIMARY KEY,
    provider          TEXT NOT NULL,
    account_email     TEXT,
    user_name         TEXT,
    state             TEXT NOT NULL DEFAULT 'connected',
    failure_json      TEXT,
    last_sync_at      TEXT,
    metadata_json     TEXT NOT NULL DEFAULT '{}',
    deduplication_key TEXT UNIQUE,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);

CREATE TABLE calendars (
    id            TEXT PRIMARY KEY,
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    remote_id     TEXT,
    name          TEXT NOT NULL,
    description   TEXT,
    color         TEXT NOT NULL,
    time_zone     TEXT,
    access_role   TEXT,
    is_primary    INTEGER NOT NULL DEFAULT 0,
    selected      INTEGER NOT NULL DEFAULT 1,
    read_only     INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX calendars_connection ON calendars(connection_id);

-- One row per single event, series master or override. `body` is the model::Event as JSON; the columns
-- beside it are the ones queries filter on.
CREATE TABLE events (
    id             TEXT PRIMARY KEY,
    calendar_id    TEXT NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
    uid            TEXT NOT NULL,
    -- '' for singles and masters; the RECURRENCE-ID as UTC seconds for overrides.
    recurrence_key TEXT NOT NULL DEFAULT '',
    kind           TEXT NOT NULL CHECK (kind IN ('single', 'series', 'override')),
    has_meeting    INTEGER NOT NULL DEFAULT 0,
    deleted        INTEGER NOT NULL DEFAULT 0,
    body           TEXT NOT NULL,
    raw            TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    UNIQUE (calendar_id, uid, recurrence_key)
);
CREATE INDEX events_kind ON events(kind) WHERE kind = 'series';

-- Occurrences materialized for the horizon months (see `horizon`); singles always have theirs. Keyed by
-- (owner, rid): the single event or series master, and "" or the instance's compact original start.
CREATE TABLE occurrences (
    owner_id    TEXT NOT NULL,
    rid         TEXT NOT NULL,
    -- The override that gives this instance its data; NULL when the owner does.
    event_id    TEXT,
    start_utc   INTEGER NOT NULL,
    end_utc     INTEGER NOT NULL,
    has_meeting INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (owner_id, rid)
) WITHOUT ROWID;
-- Covering every column a window query reads from occurrences, so a scan touches only this index.
CREATE INDEX occurrences_start ON occurrences(start_utc, owner_id, rid, end_utc, has_meeting, event_id);

-- The UTC months (year * 12 + month0) whose series instances are materialized.
CREATE TABLE horizon (
    month INTEGER PRIMARY KEY
);

CREATE TABLE sync_state (
    calendar_id      TEXT PRIMARY KEY REFERENCES calendars(id) ON DELETE CASCADE,
    sync_token       TEXT,
    last_full_sync   TEXT,
    last_sync_at     TEXT,
    backoff_until    TEXT,
    failures         INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    calendar_id     TEXT NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
    event_id        TEXT NOT NULL,
    operation       TEXT NOT NULL CHECK (operation IN ('create', 'update', 'delete')),
    payload         TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error      TEXT,
    created_at      TEXT NOT NULL
);

-- Join plans (see crate::join): one per upcoming meeting, deduplicated across calendars by uid_key/url_key.
CREATE TABLE join_plans (
    id                  TEXT PRIMARY KEY,
    occurrence_id       TEXT NOT NULL,
    event_id            TEXT NOT NULL,
    calendar_id         TEXT NOT NULL,
    title               TEXT NOT NULL,
    start_utc           INTEGER NOT NULL,
    end_utc             INTEGER NOT NULL,
    scheduled_join_time INTEGER NOT NULL,
    early_reminder_at   INTEGER,
    early_sent          INTEGER NOT NULL DEFAULT 0,
    status              TEXT NOT NULL,
    action              TEXT NOT NULL,
    platform            TEXT,
    meeting_url         TEXT,
    uid_key             TEXT NOT NULL,
    url_key             TEXT,
    next_fire_at        INTEGER,
    updated_at          TEXT NOT NULL
);
CREATE INDEX join_plans_next ON join_plans(next_fire_at) WHERE next_fire_at IS NOT NULL;
CREATE INDEX join_plans_window ON join_plans(end_utc, start_utc);
CREATE INDEX join_plans_occurrence ON join_plans(occurrence_id);
CREATE INDEX join_plans_uid_key ON join_plans(uid_key);
CREATE INDEX join_plans_url_key ON join_plans(url_key);

-- Every status a plan has had, with its time.
CREATE TABLE join_plan_history (
    plan_id TEXT NOT NULL REFERENCES join_plans(id) ON DELETE CASCADE,
    status  TEXT NOT NULL,
    at      TEXT NOT NULL
);
CREATE INDEX join_plan_history_plan ON join_plan_history(plan_id);

-- User settings, one JSON value per key.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"#,
    // 2: `events.kind` checked with OR, not IN: SQLite evaluates a CHECK of `IN` with three values through a
    // temporary table it builds on every insert and update (measured: 8% of an import). A CHECK cannot be
    // altered in place, so the table is rebuilt with the same columns, rows and indexes.
    r#"
CREATE TABLE events_rebuilt (
    id             TEXT PRIMARY KEY,
    calendar_id    TEXT NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
    uid            TEXT NOT NULL,
    recurrence_key TEXT NOT NULL DEFAULT '',
    kind           TEXT NOT NULL CHECK (kind = 'single' OR kind = 'series' OR kind = 'override'),
    has_meeting    INTEGER NOT NULL DEFAULT 0,
    deleted        INTEGER NOT NULL DEFAULT 0,
    body           TEXT NOT NULL,
    raw            TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    UNIQUE (calendar_id, uid, recurrence_key)
);
INSERT INTO events_rebuilt (id, calendar_id, uid, recurrence_key, kind, has_meeting, deleted, body, raw,
                            created_at, updated_at)
     SELECT id, calendar_id, uid, recurrence_key, kind, has_meeting, deleted, body, raw, created_at, updated_at
       FROM events;
DROP TABLE events;
ALTER TABLE events_rebuilt RENAME TO events;
CREATE INDEX events_kind ON events(kind) WHERE kind = 'series';
"#,
    // 3: accounts. Calendars gain the provider's text colour; a connection names its primary calendar; a full
    // sync that spans pages records where it stopped, so a crash resumes it instead of starting over.
    r#"
ALTER TABLE calendars ADD COLUMN foreground_color TEXT;
ALTER TABLE connections ADD COLUMN primary_calendar_id TEXT;
ALTER TABLE sync_state ADD COLUMN page_token TEXT;
CREATE UNIQUE INDEX calendars_remote ON calendars(connection_id, remote_id) WHERE remote_id IS NOT NULL;
CREATE INDEX join_plans_calendar ON join_plans(calendar_id);
CREATE INDEX outbox_calendar ON outbox(calendar_id);
"#,
    // 4: the outbox learns `split` ("this and following" in an account's calendar: several steps, one row).
    // SQLite cannot alter a CHECK, so the table is rebuilt with its rows.
    r#"
CREATE TABLE outbox_rebuilt (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    calendar_id     TEXT NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
    event_id        TEXT NOT NULL,
    operation       TEXT NOT NULL CHECK (operation IN ('create', 'update', 'delete', 'split')),
    payload         TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error      TEXT,
    created_at      TEXT NOT NULL
);
INSERT INTO outbox_rebuilt (id, calendar_id, event_id, operation, payload, attempts, next_attempt_at,
                            last_error, created_at)
     SELECT id, calendar_id, event_id, operation, payload, attempts, next_attempt_at, last_error, created_at
       FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_rebuilt RENAME TO outbox;
CREATE INDEX outbox_calendar ON outbox(calendar_id);
"#,
    // 5: a full fetch marks what it has stored, page by page, and removes the rest only with its last page,
    // so a fetch that fails midway never leaves a calendar half empty (see `Writer::full_fetch_sweep`).
    r#"
CREATE TABLE full_fetch_seen (
    calendar_id TEXT NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
    event_id    TEXT NOT NULL,
    PRIMARY KEY (calendar_id, event_id)
) WITHOUT ROWID;
"#,
];

/// The schema version this build writes.
pub const LATEST: i64 = MIGRATIONS.len() as i64;

/// Brings the database up to [`LATEST`]. Refuses a database from a newer Punctual rather than guessing.
pub fn migrate(conn: &mut Connection) -> Result<(), MigrationError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > LATEST {
        return Err(MigrationError::TooNew {
            found: current,
            supported: LATEST,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Another process may have migrated while we waited for the write lock.
        let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if now > i as i64 {
            continue;
        }
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error("this database was written by a newer Punctual (schema {found}; this build knows up to {supported})")]
    TooNew { found: i64, supported: i64 },
    #[error(transparent)]
    Sql(#[from] rusqlite::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database at version 1 with an event in it migrates to the latest schema with the event intact.
    #[test]
    fn a_version_1_database_keeps_its_events_through_every_migration() {
        let mut conn = Connection::open_in_memory().expect("opens");
        conn.execute_batch("PRAGMA foreign_keys = ON")
            .expect("pragma");
        conn.execute_batch(MIGRATIONS[0])
            .expect("version 1 applies");
        conn.pragma_update(None, "user_version", 1)
            .expect("marks version 1");
        conn.execute_batch(
            "INSERT INTO connections (id, provider, created_at, updated_at) VALUES ('local', 'local', 'x', 'x');
             INSERT INTO calendars (id, connection_id, name, color, created_at, updated_at)
                  VALUES ('local', 'local', 'Local', '#6CD9FF', 'x', 'x');
             INSERT INTO events (id, calendar_id, uid, recurrence_key, kind, body, created_at, updated_at)
                  VALUES ('e1', 'local', 'u1', '', 'series', '{}', 'c', 'u');",
        )
        .expect("a version 1 row");
        migrate(&mut conn).expect("migrates");
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version");
        assert_eq!(version, LATEST, "every migration ran");
        let row: (String, String, String) = conn
            .query_row(
                "SELECT id, kind, created_at FROM events WHERE kind = 'series'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .expect("the event survives the rebuild");
        assert_eq!(
            row,
            ("e1".into(), "series".into(), "c".into()),
            "the rebuilt table keeps every column of every row"
        );
        let bad = conn.execute(
            "INSERT INTO events (id, calendar_id, uid, kind, body, created_at, updated_at)
                  VALUES ('e2', 'local', 'u2', 'weekly', '{}', 'c', 'u')",
            [],
        );
        assert!(
            bad.is_err(),
            "the rebuilt table still refuses an unknown kind"
        );
        let index: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'events_kind'",
                [],
                |r| r.get(0),
            )
            .expect("schema");
        assert_eq!(index, 1, "the partial index on series is rebuilt too");
    }
}
