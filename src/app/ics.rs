//! ICS import and export through the store: parse first, then write everything in one transaction, so a file
//! that is not iCalendar writes nothing and a broken VEVENT costs only itself.

use super::{with_link, ImportReport};
use crate::error::{Error, ErrorCode, Result};
use crate::ical::{self, ParseOptions};
use crate::limits;
use crate::model::{Calendar, DEFAULT_COLOR, LOCAL_CALENDAR_ID, LOCAL_CONNECTION_ID};
use crate::store::Store;
use crate::time::Zone;
use chrono::{DateTime, Utc};
use std::collections::{BTreeSet, HashMap};

pub fn import(
    store: &Store,
    data: &[u8],
    calendar_name: Option<&str>,
    zone: Zone,
    now: DateTime<Utc>,
) -> Result<ImportReport> {
    // Before anything is parsed or written: a file over the cap writes nothing.
    if data.len() as u64 > limits::MAX_IMPORT_BYTES {
        return Err(limits::too_large(
            Some("file"),
            "the file",
            limits::MAX_IMPORT_BYTES,
        ));
    }
    if let Some(n) = calendar_name {
        limits::check_text("calendar", n)?;
    }
    let name = calendar_name.map(str::trim).filter(|n| !n.is_empty());
    let existing = match name {
        Some(n) => store.read(|r| r.calendar_by_name(LOCAL_CONNECTION_ID, n))?,
        None => store.read(|r| r.calendar(LOCAL_CALENDAR_ID))?,
    };
    let calendar = existing.unwrap_or_else(|| Calendar {
        id: uuid::Uuid::new_v4().to_string(),
        connection_id: LOCAL_CONNECTION_ID.to_string(),
        name: name.unwrap_or("Local").to_string(),
        description: None,
        color: DEFAULT_COLOR.to_string(),
        time_zone: None,
        is_primary: false,
        selected: true,
        read_only: false,
        created_at: now,
        updated_at: now,
    });
    let opts = ParseOptions {
        calendar_id: calendar.id.clone(),
        user_zone: zone,
        now,
    };
    let parsed = ical::parse_bytes(data, &opts)
        .map_err(|e| Error::new(ErrorCode::NotIcalendar, e.to_string()))?;
    let mut per_uid: HashMap<&str, usize> = HashMap::new();
    for e in &parsed.events {
        *per_uid.entry(e.uid.as_str()).or_default() += 1;
    }
    let is_new_calendar = store.read(|r| r.calendar(&calendar.id))?.is_none();
    // The group work's warnings go under the parse's cap too, after the parse's own.
    let mut warnings = ical::Warnings::resume(&parsed);
    let (created, updated) = store.write(|w| {
        if is_new_calendar {
            w.insert_calendar(&calendar)?;
        }
        let (mut created, mut updated) = (0, 0);
        let mut groups = BTreeSet::new();
        for e in &parsed.events {
            let e = with_link(e.clone());
            let up = w.upsert_event(&e)?;
            if up.created {
                created += 1;
            } else {
                updated += 1;
            }
            // A new lone single needs no group work: its one occurrence is known.
            if up.created
                && !e.is_series()
                && e.recurrence_id.is_none()
                && per_uid.get(e.uid.as_str()) == Some(&1)
            {
                w.materialize_new_single(&e)?;
            } else {
                groups.insert(e.uid.clone());
            }
        }
        for uid in groups {
            warnings.extend(w.materialize_group(&calendar.id, &uid)?);
        }
        Ok((created, updated))
    })?;
    Ok(ImportReport {
        calendar_id: calendar.id,
        created,
        updated,
        skipped: parsed.skipped,
        warnings: warnings.into_vec(),
    })
}

pub fn export(store: &Store, calendar_id: &str) -> Result<String> {
    let (calendar, events) = store.read(|r| {
        let c = r.calendar(calendar_id)?.ok_or_else(|| {
            Error::field(
                ErrorCode::NotFound,
                "calendar",
                format!("no calendar with id {calendar_id:?}"),
            )
        })?;
        Ok((c, r.calendar_events(calendar_id)?))
    })?;
    Ok(ical::write(&calendar.name, &events))
}
