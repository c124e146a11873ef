//! Connections and calendars.

use super::{Reader, Writer};
use crate::error::Result;
use crate::model::{Calendar, DEFAULT_COLOR, LOCAL_CALENDAR_ID, LOCAL_CONNECTION_ID};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row};

const CALENDAR_COLUMNS: &str =
    "id, connection_id, name, description, color, time_zone, is_primary, selected, \
                                read_only, created_at, updated_at";

fn calendar_from_row(r: &Row<'_>) -> rusqlite::Result<Calendar> {
    Ok(Calendar {
        id: r.get(0)?,
        connection_id: r.get(1)?,
        name: r.get(2)?,
        description: r.get(3)?,
        color: r.get(4)?,
        time_zone: r.get(5)?,
        is_primary: r.get(6)?,
        selected: r.get(7)?,
        read_only: r.get(8)?,
        created_at: parse_ts(r.get_ref(9)?.as_str()?),
        updated_at: parse_ts(r.get_ref(10)?.as_str()?),
    })
}

/// Timestamps are written by this module as RFC 3339; a corrupt one reads as the epoch rather than failing a
/// whole listing.
pub(super) fn parse_ts(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

impl Reader<'_> {
    pub fn calendars(&self) -> Result<Vec<(Calendar, i64)>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {CALENDAR_COLUMNS},
                    (SELECT COUNT(*) FROM events e
                      WHERE e.calendar_id = c.id AND e.deleted = 0 AND e.kind != 'override')
               FROM calendars c
              ORDER BY c.connection_id = 'local' DESC, c.is_primary DESC, c.name"
        ))?;
        let rows = stmt.query_map([], |r| Ok((calendar_from_row(r)?, r.get(11)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn calendar(&self, id: &str) -> Result<Option<Calendar>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {CALENDAR_COLUMNS} FROM calendars WHERE id = ?1"
        ))?;
        Ok(stmt.query_row([id], calendar_from_row).optional()?)
    }

    /// A calendar of a connection found by its name, case-insensitively.
    pub fn calendar_by_name(&self, connection_id: &str, name: &str) -> Result<Option<Calendar>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {CALENDAR_COLUMNS} FROM calendars
              WHERE connection_id = ?1 AND name = ?2 COLLATE NOCASE ORDER BY created_at LIMIT 1"
        ))?;
        Ok(stmt
            .query_row([connection_id, name], calendar_from_row)
            .optional()?)
    }
}

impl Writer<'_> {
    /// Makes sure the local connection and the local calendar exist (a fresh install's default).
    pub fn ensure_local_calendar(&self, now: DateTime<Utc>) -> Result<()> {
        let ts = now.to_rfc3339();
        self.conn().execute(
            "INSERT OR IGNORE INTO connections (id, provider, state, created_at, updated_at)
             VALUES (?1, 'local', 'connected', ?2, ?2)",
            params![LOCAL_CONNECTION_ID, ts],
        )?;
        self.conn().execute(
            "INSERT OR IGNORE INTO calendars (id, connection_id, name, color, is_primary, created_at, updated_at)
             VALUES (?1, ?2, 'Local', ?3, 1, ?4, ?4)",
            params![LOCAL_CALENDAR_ID, LOCAL_CONNECTION_ID, DEFAULT_COLOR, ts],
        )?;
        Ok(())
    }

    pub fn insert_calendar(&self, c: &Calendar) -> Result<()> {
        self.conn().execute(
            &format!("INSERT INTO calendars ({CALENDAR_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"),
            params![
                c.id,
                c.connection_id,
                c.name,
                c.description,
                c.color,
                c.time_zone,
                c.is_primary,
                c.selected,
                c.read_only,
                c.created_at.to_rfc3339(),
                c.updated_at.to_rfc3339()
            ],
        )?;
        Ok(())
    }
}
