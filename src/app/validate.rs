//! Validation of what a user typed into an event: each bad input gets a stable code, a message that names
//! the field, and nothing is written.
//!
//! "The past" is judged in the event's own zone: a wall-clock start is resolved in that zone before it is
//! compared with now, and an all-day event for today (in that zone) is allowed. An edit that leaves the start
//! alone never fails this check, so past events can still be corrected.

use super::EventInput;
use crate::error::{Error, ErrorCode, Result};
use crate::limits;
use crate::model::{Availability, DEFAULT_COLOR};
use crate::recurrence;
use crate::time::{parse_when, today_in, When, Zone};
use chrono::{DateTime, Duration, Utc};

/// The longest title accepted, in characters.
pub const MAX_TITLE_CHARS: usize = 1_000;

/// A timed event with no end lasts this long, as in most calendar apps.
const DEFAULT_DURATION_MINUTES: i64 = 60;

/// An event's fields after validation, before they become an `Event`.
#[derive(Clone, Debug, PartialEq)]
pub struct Draft {
    pub title: String,
    pub start: When,
    pub end: When,
    pub time_zone: Zone,
    pub description: Option<String>,
    pub location: Option<String>,
    pub url: Option<String>,
    pub color: Option<String>,
    pub availability: Availability,
    /// `None`: the input said nothing about repeating.
    pub repeat: Option<Vec<String>>,
    pub rdates: Option<Vec<When>>,
    pub exdates: Option<Vec<When>>,
}

/// Validates `input` over `base` (the current values, for an edit) and returns the full draft.
pub fn validate(
    input: &EventInput,
    base: Option<&Draft>,
    user_zone: Zone,
    now: DateTime<Utc>,
) -> Result<Draft> {
    check_sizes(input)?;
    let title = match (&input.title, base) {
        (Some(t), _) => check_title(t)?,
        (None, Some(b)) => b.title.clone(),
        (None, None) => {
            return Err(Error::field(
                ErrorCode::TitleRequired,
                "title",
                "title is required",
            ))
        }
    };
    let time_zone = match &input.time_zone {
        Some(z) if !z.trim().is_empty() => Zone::parse(z).ok_or_else(|| {
            Error::field(
                ErrorCode::UnknownTimeZone,
                "time_zone",
                format!("time_zone {z:?} is not a known IANA time zone (for example Europe/Paris or America/New_York)"),
            )
        })?,
        _ => base.map(|b| b.time_zone).unwrap_or(user_zone),
    };

    let start_given = input.start.as_deref().is_some_and(|s| !s.trim().is_empty());
    let start = match (input.start.as_deref(), base) {
        (Some(s), _) if start_given => parse_field(s, "start", ErrorCode::InvalidStart, time_zone)?,
        (_, Some(b)) => rezone(b.start, time_zone),
        (_, None) => {
            return Err(Error::field(
                ErrorCode::InvalidStart,
                "start",
                "start is required",
            ))
        }
    };
    let all_day = input.all_day || start.is_date();
    let start = if all_day {
        When::Date {
            date: start.naive().date(),
        }
    } else {
        start
    };

    let end = match input.end.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => parse_field(s, "end", ErrorCode::InvalidEnd, time_zone)?,
        None => match base {
            // Keep the duration when only the start moved.
            Some(b) => shift(b.end, b.start, start),
            None if all_day => When::Date {
                date: start.naive().date() + Duration::days(1),
            },
            None => start.with_naive(start.naive() + Duration::minutes(DEFAULT_DURATION_MINUTES)),
        },
    };
    let end = if all_day {
        if !end.is_date() && input.end.is_some() && !input.all_day {
            return Err(Error::field(
                ErrorCode::InvalidEnd,
                "end",
                "end must be a date (2026-11-21) when start is a date",
            ));
        }
        // All-day ends are exclusive (RFC 5545 §3.6.1); an end on the start day means a one-day event.
        let d = end.naive().date();
        When::Date {
            date: if d == start.naive().date() {
                d + Duration::days(1)
            } else {
                d
            },
        }
    } else if end.is_date() {
        return Err(Error::field(
            ErrorCode::InvalidEnd,
            "end",
            "end must be a date-time (2026-11-21T10:00) when start is a date-time",
        ));
    } else {
        end
    };
    let (s, e) = (start.to_utc(time_zone), end.to_utc(time_zone));
    if e < s {
        return Err(Error::field(
            ErrorCode::EndBeforeStart,
            "end",
            "end is before start",
        ));
    }

    let start_changed = base.is_none_or(|b| b.start != start || b.time_zone != time_zone);
    if start_changed {
        check_not_past(&start, time_zone, now)?;
    }

    let color = match &input.color {
        Some(c) if !c.trim().is_empty() => Some(check_color(c.trim())?),
        Some(_) => None,
        None => base
            .map(|b| b.color.clone())
            .unwrap_or_else(|| Some(DEFAULT_COLOR.to_string())),
    };
    let url = match &input.url {
        Some(u) if !u.trim().is_empty() => Some(check_url(u.trim())?),
        Some(_) => None,
        None => base.and_then(|b| b.url.clone()),
    };
    let repeat = match &input.repeat {
        Some(r) => Some(check_repeat(r, &start)?),
        None => None,
    };
    let rdates = parse_dates(&input.rdates, "rdates", time_zone, all_day)?;
    let exdates = parse_dates(&input.exdates, "exdates", time_zone, all_day)?;

    Ok(Draft {
        title,
        start,
        end,
        time_zone,
        description: text_field(&input.description, base.and_then(|b| b.description.clone())),
        location: text_field(&input.location, base.and_then(|b| b.location.clone())),
        url,
        color,
        availability: input
            .availability
            .or(base.map(|b| b.availability))
            .unwrap_or_default(),
        repeat,
        rdates,
        exdates,
    })
}

/// Every text of `input` within [`limits::MAX_TEXT_ARG_BYTES`], before any is parsed: the input comes over
/// IPC or from a script, and a multi-MB description would otherwise be stored, synced and sent back.
fn check_sizes(input: &EventInput) -> Result<()> {
    let texts = [
        ("title", &input.title),
        ("start", &input.start),
        ("end", &input.end),
        ("time_zone", &input.time_zone),
        ("description", &input.description),
        ("location", &input.location),
        ("url", &input.url),
        ("color", &input.color),
        ("repeat", &input.repeat),
        ("calendar", &input.calendar),
    ];
    for (field, value) in texts {
        if let Some(v) = value {
            limits::check_text(field, v)?;
        }
    }
    for (field, list) in [("rdates", &input.rdates), ("exdates", &input.exdates)] {
        limits::check_len(
            field,
            list.iter().map(String::len).sum(),
            limits::MAX_TEXT_ARG_BYTES,
        )?;
    }
    Ok(())
}

fn check_title(t: &str) -> Result<String> {
    let t = t.trim();
    if t.is_empty() {
        return Err(Error::field(
            ErrorCode::TitleRequired,
            "title",
            "title is required",
        ));
    }
    let n = t.chars().count();
    if n > MAX_TITLE_CHARS {
        return Err(Error::field(
            ErrorCode::TitleTooLong,
            "title",
            format!("title is {n} characters long; the limit is {MAX_TITLE_CHARS}"),
        ));
    }
    Ok(t.to_string())
}

fn parse_field(s: &str, field: &str, code: ErrorCode, zone: Zone) -> Result<When> {
    parse_when(s, zone).map_err(|e| match e {
        crate::time::ParseWhenError::Zone(z) => Error::field(
            ErrorCode::UnknownTimeZone,
            field,
            format!("{field} names an unknown time zone {z:?}"),
        ),
        other => Error::field(
            code,
            field,
            format!("{field} {s:?} is not understood: {other}"),
        ),
    })
}

/// The same wall-clock value read in another zone (a zone change on edit keeps the clock time).
fn rezone(w: When, zone: Zone) -> When {
    match w {
        When::Zoned { local, .. } => When::Zoned { local, zone },
        other => other,
    }
}

/// Moves `end` by however far `start` moved from `old_start`, keeping the event's length.
fn shift(end: When, old_start: When, start: When) -> When {
    let delta = start.naive() - old_start.naive();
    match (start, end) {
        (When::Date { .. }, _) => When::Date {
            date: (end.naive() + delta).date(),
        },
        (s, e) => s.with_naive(e.naive() + delta),
    }
}

fn check_not_past(start: &When, zone: Zone, now: DateTime<Utc>) -> Result<()> {
    match start {
        When::Date { date } => {
            let today = today_in(zone, now);
            if *date < today {
                return Err(Error::field(
                    ErrorCode::StartInPast,
                    "start",
                    format!("start {date} is in the past; today is {today} in {zone}"),
                ));
            }
        }
        _ => {
            // Within the current minute counts as now, so "start now" from a form is accepted.
            let at = start.to_utc(zone);
            if at < now - Duration::seconds(60) {
                return Err(Error::field(
                    ErrorCode::StartInPast,
                    "start",
                    format!(
                        "start {} is in the past; it is now {} in {zone}",
                        start.naive().format("%Y-%m-%d %H:%M"),
                        zone.local(now).format("%Y-%m-%d %H:%M")
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn check_color(c: &str) -> Result<String> {
    let ok = c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|ch| ch.is_ascii_hexdigit());
    if !ok {
        return Err(Error::field(
            ErrorCode::InvalidColor,
            "color",
            format!("color {c:?} must be #RRGGBB, for example {DEFAULT_COLOR}"),
        ));
    }
    Ok(c.to_ascii_uppercase())
}

fn check_url(u: &str) -> Result<String> {
    match url::Url::parse(u) {
        Ok(p) if matches!(p.scheme(), "http" | "https") && p.host_str().is_some() => {
            Ok(u.to_string())
        }
        _ => Err(Error::field(
            ErrorCode::InvalidInput,
            "url",
            format!("url {u:?} must be an http or https address"),
        )),
    }
}

fn check_repeat(r: &str, start: &When) -> Result<Vec<String>> {
    let mut rules = Vec::new();
    for line in r.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let rule = line.strip_prefix("RRULE:").unwrap_or(line).trim();
        recurrence::validate_rrule(rule, start).map_err(|e| {
            let part = e
                .part
                .as_deref()
                .map(|p| format!(" ({p})"))
                .unwrap_or_default();
            Error::field(
                ErrorCode::InvalidRrule,
                "repeat",
                format!("repeat rule is invalid{part}: {}", e.message),
            )
        })?;
        rules.push(rule.to_string());
    }
    Ok(rules)
}

fn parse_dates(
    values: &[String],
    field: &str,
    zone: Zone,
    all_day: bool,
) -> Result<Option<Vec<When>>> {
    if values.is_empty() {
        return Ok(None);
    }
    let mut out = Vec::new();
    for v in values
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        let w = parse_when(v, zone).map_err(|e| {
            Error::field(
                ErrorCode::InvalidRrule,
                field,
                format!("{field} value {v:?} is not understood: {e}"),
            )
        })?;
        out.push(if all_day {
            When::Date {
                date: w.naive().date(),
            }
        } else {
            w
        });
    }
    Ok(Some(out))
}

fn text_field(input: &Option<String>, base: Option<String>) -> Option<String> {
    match input {
        Some(s) if s.trim().is_empty() => None,
        Some(s) => Some(s.clone()),
        None => base,
    }
}
