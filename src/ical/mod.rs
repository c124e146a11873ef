//! iCalendar (RFC 5545) parse and write, for `punctual import` and `punctual export`.
//!
//! Layers, each in its own file:
//! - `lexer`: content lines (§3.1): unfolding on bytes (so a fold inside a multi-byte character is mended),
//!   names, parameters with quoted values and RFC 6868 escapes, TEXT unescaping (§3.3.11).
//! - `document`: components (§3.4, §3.6): the VCALENDAR's properties, each VEVENT's lines and byte range,
//!   each VTIMEZONE.
//! - `vtimezone`: VTIMEZONE observances (§3.6.5), matched to an IANA zone or used for their offsets.
//! - `event`: VEVENT → [`Event`].
//! - `writer`: [`Event`]s → a VCALENDAR text, with one generated VTIMEZONE per zone used.
//!
//! Invariants:
//! - Parsing never stops at a damaged event. Input that is not iCalendar at all (empty, binary, JSON, HTML, a
//!   text that does not start with BEGIN:VCALENDAR) is [`IcalError::NotICalendar`]; everything else is a
//!   [`Parsed`] whose `warnings` name what was skipped or guessed.
//! - Whatever [`write`] emits, [`parse`] reads back into equal events (same uid, title, times, recurrence,
//!   ...); a round-trip test holds it to that.
//! - Parsing is linear in the input and allocates per event, not per line (see benches/ical.rs). That holds
//!   for hostile input too: an `END:` is matched against the open components through an index, not a scan
//!   of them, so a million unmatched `END:` lines under a deep nest of `BEGIN:`s cost a million lookups.
//! - At most [`MAX_WARNINGS`] warnings are kept, in file order; the rest are counted, and one last warning
//!   says how many were not shown.

mod document;
mod event;
mod lexer;
mod values;
mod vtimezone;
mod writer;

use crate::model::Event;
use crate::time::Zone;
use chrono::{DateTime, Utc};

pub use writer::write;

/// What a parse needs to know beyond the text.
#[derive(Clone, Debug)]
pub struct ParseOptions {
    /// The calendar the events go into.
    pub calendar_id: String,
    /// The zone for floating times and dates when the file names none (no X-WR-TIMEZONE).
    pub user_zone: Zone,
    /// The import time: `created_at`/`updated_at` of events without CREATED/DTSTAMP.
    pub now: DateTime<Utc>,
}

/// A parsed calendar file.
#[derive(Clone, Debug)]
pub struct Parsed {
    /// X-WR-CALNAME (or RFC 7986 NAME).
    pub name: Option<String>,
    /// X-WR-TIMEZONE, when it names a zone we know.
    pub time_zone: Option<Zone>,
    /// Every usable VEVENT, in file order: singles, series masters and overrides.
    pub events: Vec<Event>,
    /// How many VEVENTs were skipped as broken (each has a warning).
    pub skipped: usize,
    /// What was skipped or guessed, one sentence each, naming the event and line: at most [`MAX_WARNINGS`],
    /// then one that says how many more there were.
    pub warnings: Vec<String>,
    /// How many warnings were not kept in `warnings` (the number its last line states).
    pub hidden_warnings: usize,
}

/// How many warnings a parse (and an import) keeps: enough to show what is wrong with a file, few enough
/// that a file of a million broken lines does not become a million strings.
pub const MAX_WARNINGS: usize = 100;

/// Warnings in the order they arose, at most [`MAX_WARNINGS`] of them, and a count of the rest.
#[derive(Clone, Debug, Default)]
pub struct Warnings {
    shown: Vec<String>,
    hidden: usize,
}

impl Warnings {
    /// Continues the warnings of a [`Parsed`] (a later stage, such as an import, adds its own).
    pub fn resume(parsed: &Parsed) -> Warnings {
        let mut shown = parsed.warnings.clone();
        if parsed.hidden_warnings > 0 {
            // The summary line is written again, with the new count, by `into_vec`.
            shown.pop();
        }
        Warnings {
            shown,
            hidden: parsed.hidden_warnings,
        }
    }

    pub fn push(&mut self, warning: String) {
        self.push_with(|| warning);
    }

    /// Pushes the warning `make` writes, formatting it only while there is room for it.
    pub fn push_with(&mut self, make: impl FnOnce() -> String) {
        if self.shown.len() < MAX_WARNINGS {
            self.shown.push(make());
        } else {
            self.hidden += 1;
        }
    }

    /// Adds `other`'s warnings after these, keeping the count of every warning not shown.
    pub fn append(&mut self, other: Warnings) {
        other.shown.into_iter().for_each(|w| self.push(w));
        self.hidden += other.hidden;
    }

    /// How many warnings were counted but not kept.
    pub fn hidden(&self) -> usize {
        self.hidden
    }

    /// The kept warnings, then "N more warnings not shown" when some were not kept.
    pub fn into_vec(self) -> Vec<String> {
        let mut out = self.shown;
        if self.hidden > 0 {
            out.push(format!("{} more warnings not shown", self.hidden));
        }
        out
    }
}

impl Extend<String> for Warnings {
    fn extend<I: IntoIterator<Item = String>>(&mut self, iter: I) {
        iter.into_iter().for_each(|w| self.push(w));
    }
}

/// Why a text could not be read as iCalendar at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IcalError {
    /// The text is not iCalendar: empty, binary, JSON, HTML, or not starting with BEGIN:VCALENDAR.
    #[error("not an iCalendar file: {0}")]
    NotICalendar(String),
}

/// Parses an iCalendar text. See [`parse_bytes`] for files read from disk, which may hold a fold inside a
/// multi-byte character or stray invalid UTF-8.
pub fn parse(text: &str, opts: &ParseOptions) -> Result<Parsed, IcalError> {
    parse_bytes(text.as_bytes(), opts)
}

/// Parses an iCalendar file's bytes. Prefer this over [`parse`] for files: unfolding happens before UTF-8
/// decoding, so a multi-byte character split by a fold (which RFC 5545 §3.1 forbids but producers write)
/// is mended instead of garbled, and invalid bytes cost a warning, not the file.
pub fn parse_bytes(bytes: &[u8], opts: &ParseOptions) -> Result<Parsed, IcalError> {
    // A UTF-16 file (Windows tools sometimes write one) is re-encoded as UTF-8 first.
    let utf16 = match bytes {
        [0xFF, 0xFE, rest @ ..] => Some(decode_utf16(rest, u16::from_le_bytes)),
        [0xFE, 0xFF, rest @ ..] => Some(decode_utf16(rest, u16::from_be_bytes)),
        _ => None,
    };
    let bytes = match &utf16 {
        Some(s) => s.as_bytes(),
        None => bytes,
    };
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // Classic Mac OS line endings (CR alone), which old exports still have: read them as LF.
    let cr_only = (memchr::memchr(b'\n', bytes).is_none()
        && memchr::memchr(b'\r', bytes).is_some())
    .then(|| {
        bytes
            .iter()
            .map(|b| if *b == b'\r' { b'\n' } else { *b })
            .collect::<Vec<u8>>()
    });
    let bytes = cr_only.as_deref().unwrap_or(bytes);

    let mut doc = document::read(bytes)?;
    let mut warnings = std::mem::take(&mut doc.warnings);

    let cal_value = |name: &str| {
        doc.calendar
            .iter()
            .find(|l| l.is(name))
            .map(|l| l.text_value().trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let name = cal_value("X-WR-CALNAME").or_else(|| cal_value("NAME"));
    let time_zone = match cal_value("X-WR-TIMEZONE") {
        Some(tz) => {
            let z = Zone::parse(&tz);
            if z.is_none() {
                warnings.push(format!(
                    "X-WR-TIMEZONE {tz:?} is not a zone we know; ignored"
                ));
            }
            z
        }
        None => None,
    };

    let mut mapper = event::Mapper::new(opts, time_zone, std::mem::take(&mut doc.timezones));
    let mut events = Vec::with_capacity(doc.events.len());
    let mut skipped = 0;
    for raw in &doc.events {
        match mapper.event(&doc.event(raw), bytes, doc.text) {
            Ok(e) => events.push(e),
            Err(why) => {
                skipped += 1;
                mapper.warnings.push(why);
            }
        }
    }
    warnings.append(std::mem::take(&mut mapper.warnings));
    event::align_to_masters(&mut events, &mut warnings);
    let hidden_warnings = warnings.hidden();
    Ok(Parsed {
        name,
        time_zone,
        events,
        skipped,
        warnings: warnings.into_vec(),
        hidden_warnings,
    })
}

fn decode_utf16(bytes: &[u8], word: fn([u8; 2]) -> u16) -> String {
    let units = bytes.chunks_exact(2).map(|c| word([c[0], c[1]]));
    char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// Reads recurrence lines as a provider sends them (Google's `recurrence` field: `RRULE:...`,
/// `EXDATE;TZID=...:...`, `RDATE;VALUE=DATE:...`) for a series that starts at `start`. They go through the
/// same parser as a file's VEVENT, so a TZID, a DATE-valued EXDATE on a DATE-TIME series, or a damaged
/// rule is read exactly as an import reads it. Returns `None` when no usable rule or date is left, with
/// the parser's warnings.
pub fn recurrence_from_lines(
    lines: &[String],
    start: &crate::time::When,
    zone: Zone,
) -> (Option<crate::model::Recurrence>, Vec<String>) {
    use crate::time::When;
    let dtstart = match start {
        When::Date { date } => format!("DTSTART;VALUE=DATE:{}", date.format("%Y%m%d")),
        When::Floating { local } => format!("DTSTART:{}", local.format("%Y%m%dT%H%M%S")),
        When::Zoned { local, zone } => {
            format!("DTSTART;TZID={zone}:{}", local.format("%Y%m%dT%H%M%S"))
        }
        When::Utc { at } => format!("DTSTART:{}", at.format("%Y%m%dT%H%M%SZ")),
    };
    let mut text = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:r\r\n");
    text.push_str(&dtstart);
    text.push_str("\r\n");
    for l in lines {
        // One content line each: a line break inside would smuggle in another property.
        let l = l.replace(['\r', '\n'], "");
        let upper = l.to_ascii_uppercase();
        if ["RRULE", "RDATE", "EXDATE", "EXRULE"]
            .iter()
            .any(|p| upper.starts_with(&format!("{p}:")) || upper.starts_with(&format!("{p};")))
        {
            text.push_str(&l);
            text.push_str("\r\n");
        }
    }
    text.push_str("END:VEVENT\r\nEND:VCALENDAR\r\n");
    let opts = ParseOptions {
        calendar_id: String::new(),
        user_zone: zone,
        now: DateTime::<Utc>::default(),
    };
    match parse(&text, &opts) {
        Ok(mut p) => (
            p.events
                .pop()
                .and_then(|e| e.recurrence)
                .filter(|r| !r.is_empty()),
            p.warnings,
        ),
        Err(e) => (None, vec![e.to_string()]),
    }
}
