//! Events: single events, series masters and overrides, stored whole beside their key columns.
//!
//! A body is the `model::Event` in MessagePack, its fields as an array in declaration order (a BLOB). It is
//! about half the bytes of the JSON that earlier versions wrote, and decodes several times faster: a body is
//! decoded for every row a listing returns and written for every event a sync applies. Rows written as JSON
//! (TEXT) by earlier versions still decode. Because fields are matched by position, a field may only be
//! added at the end of `Event`, with `#[serde(default)]`, so that older bodies (shorter arrays) still read.

use super::calendars::parse_ts;
use super::{Reader, Writer};
use crate::error::{Error, ErrorCode, Result};
use crate::model::Event;
use crate::time::Zone;
use rusqlite::types::ValueRef;
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

/// The columns of an event's row that are computed from the event: its body serialized once, its key and
/// its time stamps. A sync computes them on the thread that reads the page, off the writer's path
/// ([`Encodings`]).
#[derive(Clone, Debug)]
pub struct Encoded {
    pub(super) key: String,
    kind: &'static str,
    has_meeting: bool,
    body: Vec<u8>,
    pub(super) created_at: String,
    updated_at: String,
}

impl Encoded {
    /// `zone` is the store's: it reads a floating RECURRENCE-ID into the key.
    pub fn new(e: &Event, zone: Zone) -> Result<Encoded> {
        Encoded::with_key(e, recurrence_key(e, zone))
    }

    fn with_key(e: &Event, key: String) -> Result<Encoded> {
        Ok(Encoded {
            key,
            kind: kind(e),
            has_meeting: e.meeting.is_some(),
            body: encode(e)?,
            created_at: e.created_at.to_rfc3339(),
            updated_at: e.updated_at.to_rfc3339(),
        })
    }
}

/// The encoded rows of a page's changes, in order: `None` for a removal.
pub struct Encodings(pub(super) Vec<Option<Encoded>>);

impl Encodings {
    pub fn of(changes: &[super::RemoteChange], zone: Zone) -> Result<Encodings> {
        changes
            .iter()
            .map(|c| match c {
                super::RemoteChange::Upsert(e) => Encoded::new(e, zone).map(Some),
                super::RemoteChange::Remove { .. } => Ok(None),
            })
            .collect::<Result<_>>()
            .map(Encodings)
    }
}

/// An event ready for the events table.
pub(super) struct EventRow<'a> {
    event: Cow<'a, Event>,
    enc: Cow<'a, Encoded>,
}

impl<'a> EventRow<'a> {
    /// `key` is the event's [`recurrence_key`].
    pub(super) fn new(event: Cow<'a, Event>, key: String) -> Result<EventRow<'a>> {
        Ok(EventRow {
            enc: Cow::Owned(Encoded::with_key(&event, key)?),
            event,
        })
    }

    /// An event with its columns computed already.
    pub(super) fn encoded(event: &'a Event, enc: &'a Encoded) -> EventRow<'a> {
        EventRow {
            event: Cow::Borrowed(event),
            enc: Cow::Borrowed(enc),
        }
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
            &self.enc.key,
            &self.enc.kind,
            &self.enc.has_meeting,
            &self.enc.body,
            &self.enc.created_at,
            &self.enc.updated_at,
            &self.event.raw,
        ]
    }
}

/// Decodes a stored body: MessagePack (a BLOB), or JSON (TEXT) as versions before it wrote.
pub(super) fn decode(body: ValueRef<'_>, raw: Option<String>) -> Result<Event> {
    let unreadable = |why: String| {
        Error::new(
            ErrorCode::Storage,
            format!("a stored event could not be read: {why}"),
        )
    };
    let mut e: Event = match body {
        ValueRef::Blob(b) => rmp_serde::from_slice(b).map_err(|e| unreadable(e.to_string()))?,
        ValueRef::Text(t) => serde_json::from_slice(t).map_err(|e| unreadable(e.to_string()))?,
        other => return Err(unreadable(format!("its body is {:?}", other.data_type()))),
    };
    e.raw = raw;
    Ok(e)
}

fn encode(e: &Event) -> Result<Vec<u8>> {
    rmp_serde::to_vec(e)
        .map_err(|e| Error::new(ErrorCode::Internal, format!("cannot encode event: {e}")))
}

impl Reader<'_> {
    /// An event by id, with its deleted flag.
    pub fn event(&self, id: &str) -> Result<Option<(Event, bool)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT body, deleted, raw FROM events WHERE id = ?1")?;
        let row = stmt
            .query_row([id], |r| {
                Ok((decode(r.get_ref(0)?, r.get(2)?), r.get::<_, bool>(1)?))
            })
            .optional()?;
        row.map(|(e, d)| Ok((e?, d))).transpose()
    }

    /// The live events of a uid group: a master and its overrides, or a lone event.
    pub fn group(&self, calendar_id: &str, uid: &str) -> Result<Vec<Event>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT body, raw FROM events WHERE calendar_id = ?1 AND uid = ?2 AND deleted = 0
              ORDER BY recurrence_key",
        )?;
        let events =
            stmt.query_map([calendar_id, uid], |r| Ok(decode(r.get_ref(0)?, r.get(1)?)))?;
        events.map(|e| e.map_err(Error::from)?).collect()
    }

    /// Every live event of a calendar, masters before their overrides.
    pub fn calendar_events(&self, calendar_id: &str) -> Result<Vec<Event>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT body, raw FROM events WHERE calendar_id = ?1 AND deleted = 0 ORDER BY uid, recurrence_key",
        )?;
        let events = stmt.query_map([calendar_id], |r| Ok(decode(r.get_ref(0)?, r.get(1)?)))?;
        events.map(|e| e.map_err(Error::from)?).collect()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LOCAL_CALENDAR_ID as CAL;
    use crate::store::{RemoteChange, Store};

    /// A Google event with a description, a Meet link, a zone and a recurrence: most of `Event`'s fields.
    fn event() -> Event {
        let item = serde_json::json!({
            "id": "weekly", "status": "confirmed", "summary": "Standup",
            "description": "Notes: <b>bold</b> & \"quoted\"", "location": "Room 4",
            "created": "2026-01-01T00:00:00Z", "updated": "2026-01-02T00:00:00Z",
            "start": {"dateTime": "2026-03-02T09:00:00+01:00", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": "2026-03-02T09:30:00+01:00", "timeZone": "Europe/Berlin"},
            "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10", "EXDATE;TZID=Europe/Berlin:20260304T090000"],
            "hangoutLink": "https://meet.google.com/abc-defg-hij"
        });
        let zone = Zone::parse("Europe/Berlin").unwrap_or(Zone::UTC);
        match crate::providers::google::map_item(&item.to_string(), CAL, zone) {
            Ok(Some(RemoteChange::Upsert(e))) => crate::app::with_link(*e),
            other => panic!("the test item maps to an upsert: {other:?}"),
        }
    }

    fn store() -> Store {
        Store::with_local_calendar()
    }

    #[test]
    fn a_body_is_written_as_messagepack_and_reads_back_whole() {
        let store = store();
        let mut e = event();
        e.raw = Some("{\"id\":\"weekly\"}".into());
        store.write(|w| w.save_event(&e)).expect("saves");
        let kind: String = store
            .read(|r| {
                Ok(r.conn
                    .query_row("SELECT typeof(body) FROM events", [], |r| r.get(0))?)
            })
            .expect("reads");
        assert_eq!(kind, "blob", "a new body is binary, not JSON text");
        let back = store.read(|r| r.event(&e.id)).expect("reads");
        assert_eq!(
            back,
            Some((e, false)),
            "every field, the raw source included, survives the binary body"
        );
    }

    /// A store holding `event()`, its body then overwritten with `body` as stored by other means.
    fn with_body(body: rusqlite::types::Value) -> (Store, Event) {
        let store = store();
        let e = event();
        store.write(|w| w.save_event(&e)).expect("saves");
        store
            .write(|w| {
                w.conn()
                    .execute("UPDATE events SET body = ?1", [body])
                    .map_err(Error::from)
            })
            .expect("the body is overwritten");
        (store, e)
    }

    #[test]
    fn a_json_body_from_an_earlier_version_still_reads() {
        let json = serde_json::to_string(&event()).expect("encodes");
        let (store, e) = with_body(json.into());
        let back = store.read(|r| r.event(&e.id)).expect("reads");
        assert_eq!(
            back,
            Some((e, false)),
            "a JSON (TEXT) body, as earlier versions wrote it, decodes to the same event"
        );
    }

    #[test]
    fn a_damaged_body_is_a_storage_error_in_either_format() {
        // 0xc1 is the one byte MessagePack never uses.
        for body in [vec![0xc1_u8].into(), "{\"id\": 1".to_string().into()] {
            let (store, e) = with_body(body);
            let err = store
                .read(|r| r.event(&e.id))
                .expect_err("a damaged body is no event");
            assert_eq!(
                err.code,
                ErrorCode::Storage,
                "an unreadable row is reported as storage damage, not a panic: {}",
                err.message
            );
        }
    }
}
