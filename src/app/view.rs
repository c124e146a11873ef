//! Building the [`EventView`] that the CLI's JSON and the UI show.
//!
//! Timed starts and ends are RFC 3339 in UTC; all-day ones are dates, with the end exclusive as in
//! RFC 5545 and Google's API. `time_zone` names the event's own zone.

use super::EventView;
use crate::model::{Event, DEFAULT_COLOR, LOCAL_CONNECTION_ID};
use crate::store::OccurrenceRow;
use crate::time::{wire, Zone};
use chrono::{DateTime, Utc};

fn instant(t: DateTime<Utc>) -> String {
    wire::utc_string(t)
}

fn bound(t: DateTime<Utc>, all_day: bool, zone: Zone) -> String {
    if all_day {
        zone.local(t).date().to_string()
    } else {
        instant(t)
    }
}

/// Moves the event's fields into the view: a listing builds a view from every row it reads, and the
/// copies were a tenth of a window query.
fn base(e: Event, deleted: bool, connection_id: String) -> EventView {
    let all_day = e.all_day();
    let (meeting_platform, meeting_url) = match e.meeting {
        Some(m) => (Some(m.platform), Some(m.url)),
        None => (None, None),
    };
    EventView {
        title: e.title,
        start_time: String::new(),
        end_time: String::new(),
        all_day,
        time_zone: e.time_zone.name().to_string(),
        calendar_id: e.calendar_id,
        connection_id,
        platform: e.platform,
        platform_id: e.platform_id,
        ical_uid: e.uid,
        series_id: None,
        original_start: None,
        meeting_platform,
        meeting_url,
        location: e.location,
        description: e.description,
        url: e.url,
        color: e.color.unwrap_or_else(|| DEFAULT_COLOR.to_string()),
        availability: e.availability,
        repeat: e
            .recurrence
            .filter(|r| !r.rrules.is_empty())
            .map(|r| r.rrules.join("\n")),
        created_at: instant(e.created_at),
        updated_at: instant(e.updated_at),
        is_deleted: deleted,
        joins: Vec::new(),
        raw: e.raw,
        id: e.id,
    }
}

/// The view of one materialized occurrence.
pub fn of_occurrence(r: OccurrenceRow, zone: Zone) -> EventView {
    let mut v = base(r.event, false, r.connection_id);
    v.id = r.id;
    v.start_time = bound(r.start, v.all_day, zone);
    v.end_time = bound(r.end, v.all_day, zone);
    v.series_id = r.series_id;
    v.original_start = r.original_start;
    v
}

/// The view of an event that has no occurrence in the store (deleted, or every instance excluded).
pub fn of_event(e: &Event, deleted: bool, zone: Zone) -> EventView {
    let connection = if e.platform == "local" || e.platform == "ics" {
        LOCAL_CONNECTION_ID
    } else {
        ""
    };
    let (start, end) = (e.start.to_utc(zone), e.end.to_utc(zone));
    let mut v = base(e.clone(), deleted, connection.to_string());
    v.start_time = bound(start, v.all_day, zone);
    v.end_time = bound(end, v.all_day, zone);
    v
}
