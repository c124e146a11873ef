//! Connections, their calendars as the provider lists them, and per-calendar sync state.
//!
//! Invariants:
//! - A sync token is written in the same transaction as the page that ends with it (see
//!   [`Writer::apply_remote_page`]), so the store never holds a token for data it does not have.
//! - A full sync that spans pages stores its next page token with each page; a token of `None` with no page
//!   token means "start a full sync", which first drops the calendar's events in the first page's
//!   transaction.
//! - Removing a connection removes its calendars, events, occurrences, join plans, sync state and outbox in
//!   one transaction; occurrences and plans have no foreign key to cascade, so they are deleted first.

use super::calendars::parse_ts;
use super::{Reader, Writer};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{
    stamp, Calendar, Connection, ConnectionCalendar, ConnectionFailure, ConnectionState, Event,
    Provider,
};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row};
use std::collections::BTreeSet;

const CONNECTION_COLUMNS: &str =
    "id, provider, account_email, user_name, state, failure_json, last_sync_at, \
     metadata_json, deduplication_key, created_at, updated_at, primary_calendar_id";

/// A calendar as a provider lists it, before it has our id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteCalendar {
    pub remote_id: String,
    pub summary: String,
    pub description: Option<String>,
    pub is_primary: bool,
    /// Whether Punctual may write events to it (the provider's own role, in its terms, is `access_role`).
    pub writable: bool,
    pub access_role: Option<String>,
    pub time_zone: Option<String>,
    pub background_color: Option<String>,
    pub foreground_color: Option<String>,
}

/// Where a calendar's sync stands.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncState {
    /// The provider's token for "changes since"; `None` before the first complete sync.
    pub sync_token: Option<String>,
    /// The next page of a full sync in progress.
    pub page_token: Option<String>,
    pub last_sync_at: Option<String>,
}

/// One change a provider reported, ready to store.
#[derive(Clone, Debug, PartialEq)]
pub enum RemoteChange {
    /// A new or changed single event, series master or instance override (cancelled overrides included:
    /// they remove their instance).
    Upsert(Box<Event>),
    /// The event with this uid (and, for an instance, this original start) is gone.
    Remove {
        uid: String,
        recurrence_id: Option<crate::time::When>,
    },
}

fn connection_from_row(r: &Row<'_>) -> rusqlite::Result<Connection> {
    let bad = |i: usize, what: &str| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            format!("unknown {what}").into(),
        )
    };
    let failure: Option<String> = r.get(5)?;
    let metadata: String = r.get(7)?;
    Ok(Connection {
        id: r.get(0)?,
        provider: Provider::parse(r.get_ref(1)?.as_str()?).ok_or_else(|| bad(1, "provider"))?,
        account_email: r.get(2)?,
        user_name: r.get(3)?,
        state: ConnectionState::parse(r.get_ref(4)?.as_str()?).ok_or_else(|| bad(4, "state"))?,
        connection_failure_data: failure.and_then(|f| serde_json::from_str(&f).ok()),
        last_sync_at: r.get(6)?,
        event_count: 0,
        calendars: Vec::new(),
        primary_calendar_id: r.get(11)?,
        metadata: serde_json::from_str(&metadata).unwrap_or_else(|_| serde_json::json!({})),
        deduplication_key: r.get(8)?,
        created_at: stamp(parse_ts(r.get_ref(9)?.as_str()?)),
        updated_at: stamp(parse_ts(r.get_ref(10)?.as_str()?)),
    })
}

fn connection_calendar_from_row(r: &Row<'_>) -> rusqlite::Result<ConnectionCalendar> {
    Ok(ConnectionCalendar {
        id: r.get(0)?,
        remote_id: r.get(1)?,
        summary: r.get(2)?,
        description: r.get(3)?,
        is_primary: r.get(4)?,
        access_role: r.get(5)?,
        time_zone: r.get(6)?,
        background_color: r.get(7)?,
        foreground_color: r.get(8)?,
        selected: r.get(9)?,
        writable: !r.get::<_, bool>(10)?,
    })
}

impl Reader<'_> {
    /// Every connection with its calendars and live event count, the local one first.
    pub fn connections(&self) -> Result<Vec<Connection>> {
        let ids: Vec<String> = {
            let mut stmt = self.conn.prepare_cached(
                "SELECT id FROM connections ORDER BY provider = 'local' DESC, created_at, id",
            )?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(c) = self.connection(&id)? {
                out.push(c);
            }
        }
        Ok(out)
    }

    /// One connection with its calendars and live event count.
    pub fn connection(&self, id: &str) -> Result<Option<Connection>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {CONNECTION_COLUMNS} FROM connections WHERE id = ?1"
        ))?;
        let Some(mut c) = stmt.query_row([id], connection_from_row).optional()? else {
            return Ok(None);
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, remote_id, name, description, is_primary, access_role, time_zone, color,
                    foreground_color, selected, read_only
               FROM calendars WHERE connection_id = ?1 ORDER BY is_primary DESC, name, id",
        )?;
        c.calendars = stmt
            .query_map([id], connection_calendar_from_row)?
            .collect::<rusqlite::Result<_>>()?;
        c.event_count = self.conn.query_row(
            "SELECT COUNT(*) FROM events e JOIN calendars c ON c.id = e.calendar_id
              WHERE c.connection_id = ?1 AND e.deleted = 0 AND e.kind != 'override'",
            [id],
            |r| r.get(0),
        )?;
        if c.primary_calendar_id.is_none() {
            c.primary_calendar_id = c
                .calendars
                .iter()
                .find(|k| k.is_primary)
                .map(|k| k.id.clone());
        }
        Ok(Some(c))
    }

    /// The time before which the provider asked not to be asked again (a long Retry-After), if any.
    pub fn retry_not_before(&self, connection_id: &str) -> Result<Option<DateTime<Utc>>> {
        let until: Option<String> = self
            .conn
            .prepare_cached(
                "SELECT MAX(s.backoff_until) FROM sync_state s JOIN calendars c ON c.id = s.calendar_id
                  WHERE c.connection_id = ?1",
            )?
            .query_row([connection_id], |r| r.get(0))?;
        Ok(until.as_deref().map(parse_ts))
    }

    pub fn sync_state(&self, calendar_id: &str) -> Result<SyncState> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT sync_token, page_token, last_sync_at FROM sync_state WHERE calendar_id = ?1",
        )?;
        Ok(stmt
            .query_row([calendar_id], |r| {
                Ok(SyncState {
                    sync_token: r.get(0)?,
                    page_token: r.get(1)?,
                    last_sync_at: r.get(2)?,
                })
            })
            .optional()?
            .unwrap_or_default())
    }

    /// When the calendar's last full fetch began: the start of the window a windowed feed (Graph's
    /// calendarView delta) was opened on.
    pub fn last_full_fetch(&self, calendar_id: &str) -> Result<Option<DateTime<Utc>>> {
        let at: Option<Option<String>> = self
            .conn
            .prepare_cached("SELECT last_full_sync FROM sync_state WHERE calendar_id = ?1")?
            .query_row([calendar_id], |r| r.get(0))
            .optional()?;
        Ok(at
            .flatten()
            .and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
            .map(|d| d.with_timezone(&Utc)))
    }

    /// The calendar of a connection with this provider id.
    pub fn calendar_by_remote_id(
        &self,
        connection_id: &str,
        remote_id: &str,
    ) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT id FROM calendars WHERE connection_id = ?1 AND remote_id = ?2")?
            .query_row([connection_id, remote_id], |r| r.get(0))
            .optional()?)
    }

    /// The connection and provider calendar id of one of our calendars.
    pub fn calendar_origin(&self, calendar_id: &str) -> Result<Option<(String, Option<String>)>> {
        Ok(self
            .conn
            .prepare_cached("SELECT connection_id, remote_id FROM calendars WHERE id = ?1")?
            .query_row([calendar_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    /// Connections in a state whose events must get no join plan.
    pub fn connections_in_state(&self, state: ConnectionState) -> Result<BTreeSet<String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id FROM connections WHERE state = ?1")?;
        let rows = stmt.query_map([state.as_str()], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Rows of every table that belong to a connection, for the test that a disconnect leaves nothing.
    pub fn rows_of_connection(&self, connection_id: &str) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT (SELECT COUNT(*) FROM connections WHERE id = ?1)
                  + (SELECT COUNT(*) FROM calendars WHERE connection_id = ?1)
                  + (SELECT COUNT(*) FROM events e JOIN calendars c ON c.id = e.calendar_id WHERE c.connection_id = ?1)
                  + (SELECT COUNT(*) FROM sync_state s JOIN calendars c ON c.id = s.calendar_id WHERE c.connection_id = ?1)
                  + (SELECT COUNT(*) FROM outbox o JOIN calendars c ON c.id = o.calendar_id WHERE c.connection_id = ?1)",
            [connection_id],
            |r| r.get(0),
        )?)
    }
}

impl Writer<'_> {
    /// Adds a connection. A deduplication key already in use is an error with code `duplicate`.
    pub fn insert_connection(&self, c: &Connection) -> Result<()> {
        if let Some(key) = &c.deduplication_key {
            let taken: Option<String> = self
                .conn()
                .prepare_cached("SELECT id FROM connections WHERE deduplication_key = ?1")?
                .query_row([key], |r| r.get(0))
                .optional()?;
            if let Some(other) = taken {
                return Err(Error::field(
                    ErrorCode::Duplicate,
                    "deduplication_key",
                    format!("connection {other} already uses the deduplication key {key:?}"),
                ));
            }
        }
        self.conn().execute(
            &format!(
                "INSERT INTO connections ({CONNECTION_COLUMNS})
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
            ),
            params![
                c.id,
                c.provider.as_str(),
                c.account_email,
                c.user_name,
                c.state.as_str(),
                c.connection_failure_data
                    .as_ref()
                    .and_then(|f| serde_json::to_string(f).ok()),
                c.last_sync_at,
                c.metadata.to_string(),
                c.deduplication_key,
                c.created_at,
                c.updated_at,
                c.primary_calendar_id,
            ],
        )?;
        Ok(())
    }

    /// Replaces a connection's metadata (a JSON object).
    pub fn set_connection_metadata(
        &self,
        id: &str,
        metadata: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let n = self.conn().execute(
            "UPDATE connections SET metadata_json = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, metadata.to_string(), stamp(now)],
        )?;
        if n == 0 {
            return Err(Error::not_found("connection", id));
        }
        Ok(())
    }

    /// Sets a connection's state; `failure` replaces the failure data (`None` clears it).
    pub fn set_connection_state(
        &self,
        id: &str,
        state: ConnectionState,
        failure: Option<&ConnectionFailure>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let n = self.conn().execute(
            "UPDATE connections SET state = ?2, failure_json = ?3, updated_at = ?4 WHERE id = ?1",
            params![
                id,
                state.as_str(),
                failure.and_then(|f| serde_json::to_string(f).ok()),
                stamp(now)
            ],
        )?;
        if n == 0 {
            return Err(Error::not_found("connection", id));
        }
        Ok(())
    }

    pub fn set_connection_synced(&self, id: &str, now: DateTime<Utc>) -> Result<()> {
        self.conn().execute(
            "UPDATE connections SET last_sync_at = ?2, updated_at = ?2 WHERE id = ?1",
            params![id, stamp(now)],
        )?;
        Ok(())
    }

    /// Brings a connection's calendars in line with the provider's list: new ones are added (only the
    /// primary one selected), known ones keep the user's selection, vanished ones are removed with their
    /// events. Returns our ids, in the provider's order.
    pub fn put_remote_calendars(
        &self,
        connection_id: &str,
        list: &[RemoteCalendar],
        now: DateTime<Utc>,
    ) -> Result<Vec<String>> {
        let mut ids = Vec::with_capacity(list.len());
        for rc in list {
            let existing = self
                .reader()
                .calendar_by_remote_id(connection_id, &rc.remote_id)?;
            let color = rc
                .background_color
                .clone()
                .unwrap_or_else(|| crate::model::DEFAULT_COLOR.to_string());
            let read_only = !rc.writable;
            let id = match existing {
                Some(id) => {
                    self.conn().execute(
                        "UPDATE calendars SET name = ?2, description = ?3, color = ?4, time_zone = ?5,
                                access_role = ?6, is_primary = ?7, read_only = ?8, foreground_color = ?9,
                                updated_at = ?10
                          WHERE id = ?1",
                        params![
                            id,
                            rc.summary,
                            rc.description,
                            color,
                            rc.time_zone,
                            rc.access_role,
                            rc.is_primary,
                            read_only,
                            rc.foreground_color,
                            now.to_rfc3339()
                        ],
                    )?;
                    id
                }
                None => {
                    let cal = Calendar {
                        id: uuid::Uuid::new_v4().to_string(),
                        connection_id: connection_id.to_string(),
                        name: rc.summary.clone(),
                        description: rc.description.clone(),
                        color,
                        time_zone: rc.time_zone.clone(),
                        is_primary: rc.is_primary,
                        // Only the primary calendar syncs until the user picks more. A provider's
                        // own "shown" flag (Google's `selected`) also covers colleagues' calendars and
                        // holiday feeds: syncing those would plan joins for other people's meetings.
                        selected: rc.is_primary,
                        read_only,
                        created_at: now,
                        updated_at: now,
                    };
                    self.insert_calendar(&cal)?;
                    self.conn().execute(
                        "UPDATE calendars SET remote_id = ?2, access_role = ?3, foreground_color = ?4
                          WHERE id = ?1",
                        params![cal.id, rc.remote_id, rc.access_role, rc.foreground_color],
                    )?;
                    cal.id
                }
            };
            ids.push(id);
        }
        let stale: Vec<String> = {
            let mut stmt = self
                .conn()
                .prepare_cached("SELECT id, remote_id FROM calendars WHERE connection_id = ?1")?;
            let rows = stmt.query_map([connection_id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()?
                .into_iter()
                .filter(|(_, remote)| {
                    !remote
                        .as_ref()
                        .is_some_and(|r| list.iter().any(|c| &c.remote_id == r))
                })
                .map(|(id, _)| id)
                .collect()
        };
        for id in stale {
            self.remove_calendar(&id)?;
        }
        let primary = list
            .iter()
            .position(|c| c.is_primary)
            .map(|i| ids[i].clone());
        self.conn().execute(
            "UPDATE connections SET primary_calendar_id = ?2, updated_at = ?3 WHERE id = ?1",
            params![connection_id, primary, stamp(now)],
        )?;
        Ok(ids)
    }

    /// Selects or deselects a calendar for sync and display.
    pub fn set_calendar_selected(&self, calendar_id: &str, selected: bool) -> Result<()> {
        let n = self.conn().execute(
            "UPDATE calendars SET selected = ?2 WHERE id = ?1",
            params![calendar_id, selected],
        )?;
        if n == 0 {
            return Err(Error::field(
                ErrorCode::NotFound,
                "calendar",
                format!("no calendar with id {calendar_id:?}"),
            ));
        }
        Ok(())
    }

    /// Drops every event (and occurrence) of a calendar and its sync state: the start of a full sync.
    pub fn wipe_calendar(&self, calendar_id: &str) -> Result<()> {
        self.conn().execute(
            "DELETE FROM occurrences WHERE owner_id IN (SELECT id FROM events WHERE calendar_id = ?1)",
            [calendar_id],
        )?;
        self.conn()
            .execute("DELETE FROM events WHERE calendar_id = ?1", [calendar_id])?;
        self.conn().execute(
            "DELETE FROM sync_state WHERE calendar_id = ?1",
            [calendar_id],
        )?;
        Ok(())
    }

    fn remove_calendar(&self, calendar_id: &str) -> Result<()> {
        self.wipe_calendar(calendar_id)?;
        self.conn().execute(
            "DELETE FROM join_plans WHERE calendar_id = ?1",
            [calendar_id],
        )?;
        self.conn()
            .execute("DELETE FROM calendars WHERE id = ?1", [calendar_id])?;
        Ok(())
    }

    /// Records (or with `None` clears) the time before which the provider asked this connection not to
    /// ask again. Kept with each calendar's sync state, which goes with the calendar; a calendar that has
    /// no sync state yet gets an empty one, the same as none.
    pub fn set_retry_not_before(
        &self,
        connection_id: &str,
        until: Option<DateTime<Utc>>,
    ) -> Result<()> {
        let sql = match until {
            Some(_) => {
                "INSERT INTO sync_state (calendar_id, backoff_until)
                      SELECT id, ?2 FROM calendars WHERE connection_id = ?1
                 ON CONFLICT (calendar_id) DO UPDATE SET backoff_until = excluded.backoff_until"
            }
            None => {
                "UPDATE sync_state SET backoff_until = ?2
                  WHERE backoff_until IS NOT NULL
                    AND calendar_id IN (SELECT id FROM calendars WHERE connection_id = ?1)"
            }
        };
        self.conn()
            .prepare_cached(sql)?
            .execute(params![connection_id, until.map(stamp)])?;
        Ok(())
    }

    /// Saves where a calendar's sync stands.
    pub fn save_sync_state(
        &self,
        calendar_id: &str,
        state: &SyncState,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO sync_state (calendar_id, sync_token, page_token, last_sync_at, last_full_sync)
                 VALUES (?1, ?2, ?3, ?4, NULL)
                 ON CONFLICT (calendar_id) DO UPDATE SET sync_token = excluded.sync_token,
                     page_token = excluded.page_token, last_sync_at = excluded.last_sync_at",
            )?
            .execute(params![
                calendar_id,
                state.sync_token,
                state.page_token,
                stamp(now)
            ])?;
        Ok(())
    }

    /// Records that a full fetch of the calendar began at `now` (after its first page's sync state).
    pub fn mark_full_fetch(&self, calendar_id: &str, now: DateTime<Utc>) -> Result<()> {
        self.conn()
            .prepare_cached("UPDATE sync_state SET last_full_sync = ?2 WHERE calendar_id = ?1")?
            .execute(params![calendar_id, stamp(now)])?;
        Ok(())
    }

    /// Removes a connection and everything that hangs off it. The local connection cannot be removed.
    pub fn delete_connection(&self, id: &str) -> Result<()> {
        let calendars: Vec<String> = {
            let mut stmt = self
                .conn()
                .prepare_cached("SELECT id FROM calendars WHERE connection_id = ?1")?;
            let rows = stmt.query_map([id], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for c in &calendars {
            self.remove_calendar(c)?;
        }
        self.conn()
            .execute("DELETE FROM connections WHERE id = ?1", [id])?;
        Ok(())
    }
}
