//! Building the [`EventView`] that the CLI's JSON and the UI show.
//!
//! Timed starts and ends are RFC 3339 in UTC; all-day ones are dates, with the end exclusive as in
//! RFC 5545 and Google's API. `time_zone` names the event's own zone.

use super::EventView;
use crate::model::{Event, DEFAULT_COLOR, LOCAL_CONNECTION_ID};
use crate::store::OccurrenceRow;
use crate::time::Zone;
use chrono::{DateTime, SecondsFormat, Utc};

fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn bound(t: DateTime<Utc>, all_day: bool, zone: Zone) -> String {
    if all_day {
        zone.local(t).date().to_string()
    } else {
        instant(t)
    }
}

fn base(e: &Event, deleted: bool, connection_id: &str) -> EventView {
    EventView {
        id: e.id.clone(),
        title: e.title.clone(),
        start_time: String::new(),
        end_time: String::new(),
        all_day: e.all_day(),
        time_zone: e.time_zone.name().to_string(),
        calendar_id: e.calendar_id.clone(),
        connection_id: connection_id.to_string(),
        platform: e.platform.clone(),
        platform_id: e.platform_id.clone(),
        ical_uid: e.uid.clone(),
        series_id: None,
        original_start: None,
        meeting_platform: e.meeting.as_ref().map(|m| m.platform.clone()),
        meeting_url: e.meeting.as_ref().map(|m| m.url.clone()),
        location: e.location.clone(),
        description: e.description.clone(),
        url: e.url.clone(),
        color: e.color.clone().unwrap_or_else(|| DEFAULT_COLOR.to_string()),
        availability: e.availability,
        repeat: e
            .recurrence
            .as_ref()
            .filter(|r| !r.rrules.is_empty())
            .map(|r| r.rrules.join("\n")),
        created_at: instant(e.created_at),
        updated_at: instant(e.updated_at),
        is_deleted: deleted,
        joins: Vec::new(),
        raw: e.raw.clone(),
    }
}

/// The view of one materialized occurrence.
pub fn of_occurrence(r: &OccurrenceRow, zone: Zone) -> EventView {
    let mut v = base(&r.event, false, &r.connection_id);
    v.id = r.id.clone();
    v.start_time = bound(r.start, v.all_day, zone);
    v.end_time = bound(r.end, v.all_day, zone);
    v.series_id = r.series_id.clone();
    v.original_start = r.original_start.clone();
    v
}

/// The view of an event that has no occurrence in the store (deleted, or every instance excluded).
pub fn of_event(e: &Event, deleted: bool, zone: Zone) -> EventView {
    let connection = if e.platform == "local" || e.platform == "ics" {
        LOCAL_CONNECTION_ID
    } else {
        ""
    };
    let mut v = base(e, deleted, connection);
    v.start_time = bound(e.start.to_utc(zone), v.all_day, zone);
    v.end_time = bound(e.end.to_utc(zone), v.all_day, zone);
    v
}
