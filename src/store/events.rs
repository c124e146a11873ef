//! Events: single events, series masters and overrides, stored whole as JSON beside their key columns.

use super::calendars::parse_ts;
use super::{Reader, Writer};
use crate::error::{Error, ErrorCode, Result};
use crate::model::Event;
use crate::time::Zone;
use rusqlite::{params, OptionalExtension};
use std::borrow::Cow;

/// What an upsert did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upserted {
    /// The stored id: the existing row's id when the event was already there.
    pub id: String,
    pub created: bool,
}

/// The kind column of an event.
fn kind(e: &Event) -> &'static str {
    if e.recurrence_id.is_some() {
        "override"
    } else if e.is_series() {
        "series"
    } else {
        "single"
    }
}

/// The key that tells an override from its master within a uid group: the RECURRENCE-ID's instant, since
/// producers write it in UTC or in the series' zone interchangeably.
pub(crate) fn recurrence_key(e: &Event, zone: Zone) -> String {
    e.recurrence_id
        .map(|r| r.to_utc(zone).timestamp().to_string())
        .unwrap_or_default()
}

/// The insert that [`Writer::save_event`] and [`Writer::put_events`] share; a row that exists under the same id
/// is updated in place, keeping its creation time and undeleting it.
const PUT_EVENTS: &str =
    "INSERT INTO events (id, calendar_id, uid, recurrence_key, kind, has_meeting, deleted,
                                    body, created_at, updated_at, raw) VALUES ";
const EVENT_VALUES: &str = "(?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)";
const PUT_EVENTS_CONFLICT: &str = " ON CONFLICT (id) DO UPDATE SET
                     calendar_id = excluded.calendar_id, uid = excluded.uid,
                     recurrence_key = excluded.recurrence_key, kind = excluded.kind,
                     has_meeting = excluded.has_meeting, deleted = 0, body = excluded.body,
                     updated_at = excluded.updated_at, raw = excluded.raw";

/// Rows per multi-row event insert: 10 values each, far below SQLite's 32,766 bound parameters.
const EVENT_BATCH: usize = 64;

/// An event encoded for the events table, its body serialized once.
pub(super) struct EventRow<'a> {
    event: Cow<'a, Event>,
    key: String,
    kind: &'static str,
    has_meeting: bool,
    body: String,
    created_at: String,
    updated_at: String,
}

impl<'a> EventRow<'a> {
    /// `key` is the event's [`recurrence_key`].
    pub(super) fn new(event: Cow<'a, Event>, key: String) -> Result<EventRow<'a>> {
        Ok(EventRow {
            key,
            kind: kind(&event),
            has_meeting: event.meeting.is_some(),
            body: encode(&event)?,
            created_at: event.created_at.to_rfc3339(),
            updated_at: event.updated_at.to_rfc3339(),
            event,
        })
    }

    /// The event as it is written.
    pub(super) fn event(&self) -> &Event {
        &self.event
    }

    /// The values of [`EVENT_VALUES`], in order.
    fn values(&self) -> [&dyn rusqlite::ToSql; 10] {
        [
            &self.event.id,
            &self.event.calendar_id,
            &self.event.uid,
            &self.key,
            &self.kind,
            &self.has_meeting,
            &self.body,
            &self.created_at,
            &self.updated_at,
            &self.event.raw,
        ]
    }
}

pub(super) fn decode(body: &str, raw: Option<String>) -> Result<Event> {
    let mut e: Event = serde_json::from_str(body).map_err(|e| {
        Error::new(
            ErrorCode::Storage,
            format!("a stored event could not be read: {e}"),
        )
    })?;
    e.raw = raw;
    Ok(e)
}

fn encode(e: &Event) -> Result<String> {
    serde_json::to_string(e)
        .map_err(|e| Error::new(ErrorCode::Internal, format!("cannot encode event: {e}")))
}

impl Reader<'_> {
    /// An event by id, with its deleted flag.
    pub fn event(&self, id: &str) -> Result<Option<(Event, bool)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT body, deleted, raw FROM events WHERE id = ?1")?;
        let row: Option<(String, bool, Option<String>)> = stmt
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        row.map(|(b, d, raw)| Ok((decode(&b, raw)?, d))).transpose()
    }

    /// The live events of a uid group: a master and its overrides, or a lone event.
    pub fn group(&self, calendar_id: &str, uid: &str) -> Result<Vec<Event>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT body, raw FROM events WHERE calendar_id = ?1 AND uid = ?2 AND deleted = 0
              ORDER BY recurrence_key",
        )?;
        let bodies = stmt.query_map([calendar_id, uid], |r| {
            Ok((r.get::<_, String>(0)?, r.get(1)?))
        })?;
        bodies
            .map(|b| b.map_err(Error::from).and_then(|(b, raw)| decode(&b, raw)))
            .collect()
    }

    /// Every live event of a calendar, masters before their overrides.
    pub fn calendar_events(&self, calendar_id: &str) -> Result<Vec<Event>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT body, raw FROM events WHERE calendar_id = ?1 AND deleted = 0 ORDER BY uid, recurrence_key",
        )?;
        let bodies = stmt.query_map([calendar_id], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))?;
        bodies
            .map(|b| b.map_err(Error::from).and_then(|(b, raw)| decode(&b, raw)))
            .collect()
    }

    /// The number of live events (singles and series, not overrides) in a calendar.
    pub fn event_count(&self, calendar_id: &str) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM events WHERE calendar_id = ?1 AND deleted = 0 AND kind != 'override'",
            [calendar_id],
            |r| r.get(0),
        )?)
    }
}

impl Writer<'_> {
    /// Inserts an event, or updates the one with the same (calendar, uid, recurrence-id), keeping its id and
    /// creation time. Does not materialize: call [`Writer::materialize_group`] after a batch.
    pub fn upsert_event(&self, e: &Event) -> Result<Upserted> {
        let key = recurrence_key(e, self.zone);
        let existing: Option<(String, String)> = self
            .conn()
            .prepare_cached(
                "SELECT id, created_at FROM events WHERE calendar_id = ?1 AND uid = ?2 AND recurrence_key = ?3",
            )?
            .query_row(params![e.calendar_id, e.uid, key], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let mut stored = e.clone();
        let created = existing.is_none();
        if let Some((id, created_at)) = existing {
            stored.id = id;
            stored.created_at = parse_ts(&created_at);
        }
        self.put_event(&stored, &key)?;
        Ok(Upserted {
            id: stored.id,
            created,
        })
    }

    /// Writes an event under its own id (insert or replace), undeleting it.
    pub fn save_event(&self, e: &Event) -> Result<()> {
        self.put_event(e, &recurrence_key(e, self.zone))
    }

    fn put_event(&self, e: &Event, key: &str) -> Result<()> {
        let row = EventRow::new(Cow::Borrowed(e), key.to_string())?;
        self.conn()
            .prepare_cached(&format!("{PUT_EVENTS}{EVENT_VALUES}{PUT_EVENTS_CONFLICT}"))?
            .execute(row.values().as_slice())?;
        Ok(())
    }

    /// Writes many events as [`Writer::save_event`] writes one (each under its own id), in multi-row
    /// statements: per-statement overhead and the statement journal's page copies were most of an event's
    /// insert cost when a sync page wrote its events one statement each.
    pub(super) fn put_events(&self, rows: &[EventRow<'_>]) -> Result<()> {
        let batches = rows.chunks_exact(EVENT_BATCH);
        let rest = batches.remainder();
        if rows.len() >= EVENT_BATCH {
            let mut stmt = self.conn().prepare_cached(&format!(
                "{PUT_EVENTS}{}{PUT_EVENTS_CONFLICT}",
                vec![EVENT_VALUES; EVENT_BATCH].join(", ")
            ))?;
            for batch in batches {
                let values: Vec<&dyn rusqlite::ToSql> =
                    batch.iter().flat_map(EventRow::values).collect();
                stmt.execute(values.as_slice())?;
            }
        }
        let mut stmt = self
            .conn()
            .prepare_cached(&format!("{PUT_EVENTS}{EVENT_VALUES}{PUT_EVENTS_CONFLICT}"))?;
        for row in rest {
            stmt.execute(row.values().as_slice())?;
        }
        Ok(())
    }

    /// Removes an event and its occurrences for good.
    pub fn remove_event(&self, id: &str) -> Result<()> {
        self.conn()
            .prepare_cached("DELETE FROM events WHERE id = ?1")?
            .execute([id])?;
        Ok(())
    }
}
