//! The outbox: local changes to provider calendars waiting to be pushed.
//!
//! Invariants:
//! - A row is written in the same transaction as the local change it carries, so a change is never stored
//!   without its push, nor pushed without being stored.
//! - Rows are pushed oldest first, per connection. A push that fails for a transient reason stays, with its
//!   attempt count and error; one the provider refuses because the event changed there is marked a conflict
//!   (`last_error` starting `conflict:`) and is never retried or applied: the user decides.

use super::{Reader, Writer};
use crate::error::Result;
use chrono::{DateTime, Utc};
use rusqlite::{params, Row};

/// What a row asks the provider to do.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct OutboxRow {
    pub id: i64,
    pub calendar_id: String,
    pub event_id: String,
    /// `create`, `update`, `delete`, or `split` (a series ended before an occurrence, then a new series
    /// from it and the old exceptions after it dropped: steps pushed in order, with their progress saved).
    pub operation: String,
    /// As JSON: the user's event in our model (`event`; `master` and `new` for a split), which the
    /// provider's codec encodes when the row is pushed, and the precondition (`etag`, and what it is the
    /// version of). Rows queued by versions before that hold the provider's request body instead, which
    /// the push still reads through the codec.
    pub payload: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: String,
}

/// What a row asks the provider to do; the table's CHECK admits exactly these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
    /// A series ended before an occurrence and continued from it: steps, with their progress saved.
    Split,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Update => "update",
            Operation::Delete => "delete",
            Operation::Split => "split",
        }
    }

    pub fn parse(s: &str) -> Option<Operation> {
        [
            Operation::Create,
            Operation::Update,
            Operation::Delete,
            Operation::Split,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }
}

impl OutboxRow {
    /// The row's operation; `None` only for a value the table's CHECK would refuse.
    pub fn op(&self) -> Option<Operation> {
        Operation::parse(&self.operation)
    }

    /// Why the provider refused this row, if it is a conflict.
    pub fn conflict_message(&self) -> Option<&str> {
        self.last_error.as_deref()?.strip_prefix(CONFLICT)
    }
}

const COLUMNS: &str =
    "o.id, o.calendar_id, o.event_id, o.operation, o.payload, o.attempts, o.last_error, o.created_at";
const CONFLICT: &str = "conflict: ";

fn row(r: &Row<'_>) -> rusqlite::Result<OutboxRow> {
    Ok(OutboxRow {
        id: r.get(0)?,
        calendar_id: r.get(1)?,
        event_id: r.get(2)?,
        operation: r.get(3)?,
        payload: r.get(4)?,
        attempts: r.get(5)?,
        last_error: r.get(6)?,
        created_at: r.get(7)?,
    })
}

impl Reader<'_> {
    /// A connection's rows still to push, oldest first.
    pub fn outbox_pending(&self, connection_id: &str) -> Result<Vec<OutboxRow>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM outbox o JOIN calendars c ON c.id = o.calendar_id
              WHERE c.connection_id = ?1 AND (o.last_error IS NULL OR o.last_error NOT LIKE 'conflict: %')
              ORDER BY o.id"
        ))?;
        let rows = stmt.query_map([connection_id], row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every change the provider refused for good (marked by [`Writer::outbox_conflict`]).
    pub fn outbox_conflicts(&self) -> Result<Vec<OutboxRow>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM outbox o WHERE o.last_error LIKE 'conflict: %' ORDER BY o.id"
        ))?;
        let rows = stmt.query_map([], row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

impl Writer<'_> {
    pub fn outbox_add(
        &self,
        calendar_id: &str,
        event_id: &str,
        operation: Operation,
        payload: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.conn().execute(
            "INSERT INTO outbox (calendar_id, event_id, operation, payload, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                calendar_id,
                event_id,
                operation.as_str(),
                payload,
                now.to_rfc3339()
            ],
        )?;
        Ok(())
    }

    pub fn outbox_done(&self, id: i64) -> Result<()> {
        self.conn()
            .execute("DELETE FROM outbox WHERE id = ?1", [id])?;
        Ok(())
    }

    /// Saves how far a row of several steps has got (its payload with the steps done), so a retry goes on
    /// from there instead of repeating a step whose precondition no longer holds.
    pub fn outbox_progress(&self, id: i64, payload: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE outbox SET payload = ?2 WHERE id = ?1",
            params![id, payload],
        )?;
        Ok(())
    }

    /// An event the provider stored under an id of its own choosing (Graph assigns ids on create): its
    /// join plans move to `new_id`, the rows still waiting for it name the provider's id instead of the
    /// one we proposed, and the old rows go, so that the provider's version stored next is the one event.
    /// Idempotent: a retried create whose event moved already finds nothing to move.
    pub fn move_event(
        &self,
        old_id: &str,
        new_id: &str,
        proposed_remote_id: &str,
        remote_id: &str,
    ) -> Result<()> {
        if old_id == new_id {
            return Ok(());
        }
        self.conn().execute(
            "UPDATE join_plans SET event_id = ?2, occurrence_id = ?2 || substr(occurrence_id, length(?1) + 1)
              WHERE event_id = ?1",
            params![old_id, new_id],
        )?;
        // Ids are UUIDs on one side and the provider's opaque ids on the other: a text replacement in a
        // payload cannot hit anything but the id itself.
        self.conn().execute(
            "UPDATE outbox SET event_id = ?2, payload = replace(payload, '\"' || ?3 || '\"', '\"' || ?4 || '\"')
              WHERE event_id = ?1",
            params![old_id, new_id, proposed_remote_id, remote_id],
        )?;
        self.remove_event(old_id)
    }

    /// Records a failed attempt; the row stays for the next push.
    pub fn outbox_failed(&self, id: i64, error: &str, now: DateTime<Utc>) -> Result<()> {
        self.conn().execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3 WHERE id = ?1",
            params![id, error, now.to_rfc3339()],
        )?;
        Ok(())
    }

    /// Marks a row a conflict: kept for the user, never pushed again.
    pub fn outbox_conflict(&self, id: i64, message: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?2 WHERE id = ?1",
            params![id, format!("{CONFLICT}{message}")],
        )?;
        Ok(())
    }

    /// Drops a conflict once the user has seen it.
    pub fn outbox_dismiss(&self, id: i64) -> Result<usize> {
        Ok(self.conn().execute(
            "DELETE FROM outbox WHERE id = ?1 AND last_error LIKE 'conflict: %'",
            [id],
        )?)
    }
}
