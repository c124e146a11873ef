//! Output: JSON for scripts, a readable agenda for people (in the user's zone).

use chrono::{DateTime, NaiveDate, Utc};
use punctual::app::{CalendarView, EventPage, EventView, ImportReport};
use punctual::error::Error;
use punctual::time::Zone;
use serde::Serialize;
use std::io::Write;

fn out(s: &str) -> Result<(), Error> {
    let mut o = std::io::stdout().lock();
    // A closed pipe (punctual events | head) is not an error worth a message.
    match o.write_all(s.as_bytes()).and_then(|_| o.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.map_err(Error::from),
    }
}

pub fn json<T: Serialize>(v: &T) -> Result<(), Error> {
    let s = serde_json::to_string_pretty(v)
        .map_err(|e| Error::new(punctual::error::ErrorCode::Internal, e.to_string()))?;
    out(&format!("{s}\n"))
}

pub fn raw(s: &str) -> Result<(), Error> {
    out(s)
}

pub fn line(s: &str) -> Result<(), Error> {
    out(&format!("{s}\n"))
}

pub fn error(e: &Error, json: bool) {
    let text = if json {
        serde_json::json!({ "error": e }).to_string()
    } else {
        match &e.field {
            Some(f) => format!("error [{}] ({f}): {}", e.code.as_str(), e.message),
            None => format!("error [{}]: {}", e.code.as_str(), e.message),
        }
    };
    let _ = writeln!(std::io::stderr(), "{text}");
}

fn instant(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The day an occurrence is listed under, and its time column.
fn when(v: &EventView, zone: Zone) -> (NaiveDate, String) {
    if v.all_day {
        let d = v.start_time.parse().unwrap_or_default();
        return (d, "all day    ".to_string());
    }
    match (instant(&v.start_time), instant(&v.end_time)) {
        (Some(s), Some(e)) => {
            let (ls, le) = (zone.local(s), zone.local(e));
            (
                ls.date(),
                format!("{}–{}", ls.format("%H:%M"), le.format("%H:%M")),
            )
        }
        _ => (NaiveDate::default(), v.start_time.clone()),
    }
}

/// One occurrence per line as compact JSON (NDJSON), flushed once the lines are written. False when the
/// reader has gone (a closed pipe), so the caller stops reading pages.
pub fn ndjson(events: &[EventView]) -> Result<bool, Error> {
    let mut s = String::with_capacity(events.len() * 512);
    for v in events {
        let line = serde_json::to_string(v)
            .map_err(|e| Error::new(punctual::error::ErrorCode::Internal, e.to_string()))?;
        s.push_str(&line);
        s.push('\n');
    }
    let mut o = std::io::stdout().lock();
    match o.write_all(s.as_bytes()).and_then(|_| o.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        r => r.map(|_| true).map_err(Error::from),
    }
}

/// The readable agenda, grouped by day in the user's zone; it keeps the day it is in, so pages printed one
/// after another (`events --every`) read as one list.
pub struct Agenda {
    zone: Zone,
    /// Whether --all was given: the hint to use it is pointless then.
    all: bool,
    day: Option<NaiveDate>,
    printed: bool,
}

impl Agenda {
    pub fn new(zone: Zone, all: bool) -> Agenda {
        Agenda {
            zone,
            all,
            day: None,
            printed: false,
        }
    }

    /// Prints one page; `last` when no page follows in this call (the empty-window note goes there).
    pub fn page(&mut self, page: &EventPage, last: bool) -> Result<(), Error> {
        let mut s = String::new();
        for v in &page.events {
            let (d, time) = when(v, self.zone);
            if self.day != Some(d) {
                s.push_str(&format!("\n{}\n", d.format("%a %d %b %Y")));
                self.day = Some(d);
            }
            s.push_str(&format!("  {time}  {}", v.title));
            if let Some(p) = &v.meeting_platform {
                s.push_str(&format!("  [{p}]"));
            }
            if let Some(l) = v.location.as_deref().filter(|l| !l.is_empty()) {
                s.push_str(&format!("  @ {l}"));
            }
            s.push_str(&format!("\n      id {}\n", v.id));
            self.printed = true;
        }
        if last && !self.printed {
            s.push_str(if self.all {
                "No events in this window.\n"
            } else {
                "No events in this window. Use --all to include events without a meeting link.\n"
            });
        }
        if let (true, Some(c)) = (last, &page.next_cursor) {
            s.push_str(&format!("\nMore: --cursor {c}\n"));
        }
        out(&s)
    }
}

pub fn created(verb: &str, v: &EventView, zone: Zone) -> Result<(), Error> {
    let (d, time) = when(v, zone);
    line(&format!(
        "{verb} {:?} on {} {} ({})\nid {}",
        v.title,
        d.format("%a %d %b %Y"),
        time.trim(),
        zone,
        v.id
    ))
}

pub fn import(r: &ImportReport) -> Result<(), Error> {
    for w in &r.warnings {
        let _ = writeln!(std::io::stderr(), "warning: {w}");
    }
    line(&format!(
        "Imported {} events into calendar {} ({} new, {} updated, {} skipped)",
        r.created + r.updated,
        r.calendar_id,
        r.created,
        r.updated,
        r.skipped
    ))
}

pub fn calendars(cals: &[CalendarView]) -> Result<(), Error> {
    let mut s = String::new();
    for c in cals {
        s.push_str(&format!(
            "{}  {}  {} events{}{}\n",
            c.id,
            c.name,
            c.event_count,
            if c.is_primary { "  (primary)" } else { "" },
            if c.read_only { "  (read-only)" } else { "" }
        ));
    }
    out(&s)
}

/// "in 12 min", "in 2 h 5 min", or "now" for a countdown.
fn countdown(secs: i64) -> String {
    if secs <= 0 {
        return "now".into();
    }
    let m = (secs + 59) / 60;
    if m < 60 {
        format!("in {m} min")
    } else {
        format!("in {} h {} min", m / 60, m % 60)
    }
}

fn start_local(n: &punctual::app::NextMeeting, zone: Zone) -> String {
    instant(&n.event.start_time)
        .map(|t| zone.local(t).format("%H:%M").to_string())
        .unwrap_or_default()
}

pub fn next(n: Option<&punctual::app::NextMeeting>, zone: Zone) -> String {
    match n {
        None => "No meeting in the next four weeks.".into(),
        Some(n) if n.in_progress => {
            format!("Now: {} (since {})", n.event.title, start_local(n, zone))
        }
        Some(n) => format!(
            "{} {} (at {}{})",
            n.event.title,
            countdown(n.starts_in_seconds),
            start_local(n, zone),
            n.event
                .meeting_platform
                .as_deref()
                .map(|p| format!(", {p}"))
                .unwrap_or_default()
        ),
    }
}

/// Waybar's custom module format: `text`, `tooltip` and `class` ("none", "later", "soon" within 10 minutes,
/// "now" during the meeting).
pub fn waybar(n: Option<&punctual::app::NextMeeting>, zone: Zone) -> serde_json::Value {
    let Some(n) = n else {
        return serde_json::json!({ "text": "", "tooltip": "No upcoming meetings", "class": "none" });
    };
    let class = if n.in_progress {
        "now"
    } else if n.starts_in_seconds <= 600 {
        "soon"
    } else {
        "later"
    };
    let text = if n.in_progress {
        format!("Now: {}", n.event.title)
    } else {
        format!("{} {}", n.event.title, countdown(n.starts_in_seconds))
    };
    serde_json::json!({ "text": text, "tooltip": next(Some(n), zone), "class": class })
}
