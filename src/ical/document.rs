//! The component layer (RFC 5545 §3.4, §3.6): which content lines belong to the VCALENDAR, to each VEVENT
//! and to each VTIMEZONE.
//!
//! Invariants:
//! - One pass over the unfolded lines; no line is copied. A VEVENT keeps its property lines (not those of its
//!   VALARMs or other sub-components) and the byte range of its text in the input, for `Event::raw`.
//! - Damage is local (calcard style): a line that is not a content line, or a VEVENT that never ends, marks
//!   that VEVENT broken (it is skipped later with a warning naming it); outside a VEVENT it is a warning.
//!   Only input that is not iCalendar at all is an error.

use super::lexer::{ContentLine, Unfolder};
use super::vtimezone::{Observance, VTimezone};
use super::IcalError;

/// A VEVENT as found: its own property lines (a range of [`Document::lines`], so that 10,000 events cost
/// one vector, not 10,000) and where it sits in the input.
pub(crate) struct RawEvent {
    pub lines: std::ops::Range<usize>,
    /// Byte range of `BEGIN:VEVENT` through `END:VEVENT` in the input.
    pub start: usize,
    pub end: usize,
    pub line_no: usize,
    /// Why the VEVENT cannot be used, when it cannot.
    pub broken: Option<String>,
}

/// A VEVENT with its lines, as the mapper reads it.
#[derive(Clone, Copy)]
pub(crate) struct EventRef<'d, 'a> {
    pub lines: &'d [ContentLine<'a>],
    pub start: usize,
    pub end: usize,
    pub line_no: usize,
    pub broken: Option<&'d str>,
}

pub(crate) struct Document<'a> {
    /// The whole input as text, when it is valid UTF-8 (for slicing each VEVENT's raw text cheaply).
    pub text: Option<&'a str>,
    /// Every VEVENT's property lines, event after event.
    pub lines: Vec<ContentLine<'a>>,
    /// The VCALENDAR's own properties that the import reads (X-WR-CALNAME, NAME, X-WR-TIMEZONE).
    pub calendar: Vec<ContentLine<'a>>,
    pub timezones: Vec<VTimezone>,
    pub events: Vec<RawEvent>,
    pub warnings: super::Warnings,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Frame {
    Calendar,
    Event,
    Timezone,
    Observance,
    /// Any other component (VALARM, VTODO, VJOURNAL, X-components): its lines are skipped.
    Other,
}

/// The open components, innermost last, with an index from each name an `END:` can close them by to where
/// they sit, so that matching an `END:` costs a lookup, not a scan of the stack. (A scan made a file of deep
/// `BEGIN:`s and many unmatched `END:`s quadratic.)
struct Open {
    frames: Vec<(Frame, String)>,
    /// Key (see [`Open::key`]) → the depths of the open frames with that key, ascending.
    at: std::collections::HashMap<String, Vec<usize>>,
}

/// The key of STANDARD and DAYLIGHT observances: either END closes either (they differ only in name). It is
/// not a component name, so an Other component named STANDARD keeps a key of its own.
const OBSERVANCE_KEY: &str = "\0OBSERVANCE";

impl Open {
    fn new() -> Open {
        let mut open = Open {
            frames: Vec::new(),
            at: std::collections::HashMap::new(),
        };
        open.push(Frame::Calendar, "");
        open
    }

    /// The name an `END:` must carry to close `frame`, upper-cased (component names are case-insensitive,
    /// RFC 5545 §2; a non-ASCII byte is compared as it is, as `eq_ignore_ascii_case` did).
    fn key(frame: Frame, name: &str) -> String {
        match frame {
            Frame::Calendar => "VCALENDAR".to_string(),
            Frame::Event => "VEVENT".to_string(),
            Frame::Timezone => "VTIMEZONE".to_string(),
            Frame::Observance => OBSERVANCE_KEY.to_string(),
            Frame::Other => name.to_ascii_uppercase(),
        }
    }

    fn push(&mut self, frame: Frame, name: &str) {
        let key = Open::key(frame, name);
        self.at
            .entry(key.clone())
            .or_default()
            .push(self.frames.len());
        self.frames.push((frame, key));
    }

    fn pop(&mut self) -> Option<Frame> {
        let (frame, key) = self.frames.pop()?;
        if let Some(depths) = self.at.get_mut(&key) {
            depths.pop();
        }
        Some(frame)
    }

    fn top(&self) -> Option<Frame> {
        self.frames.last().map(|(f, _)| *f)
    }

    fn len(&self) -> usize {
        self.frames.len()
    }

    fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    fn clear(&mut self) {
        self.frames.clear();
        self.at.clear();
    }

    /// The depth of the innermost open frame that `END:{end}` closes.
    fn closed_by(&self, end: &str) -> Option<usize> {
        let key = end.to_ascii_uppercase();
        let last = |k: &str| self.at.get(k).and_then(|d| d.last().copied());
        let named = last(&key);
        let observance = if key == "STANDARD" || key == "DAYLIGHT" {
            last(OBSERVANCE_KEY)
        } else {
            None
        };
        named.max(observance)
    }

    fn has_calendar(&self) -> bool {
        self.frames.iter().any(|(f, _)| *f == Frame::Calendar)
    }
}

/// Says what a text that is not iCalendar looks like, for the error message.
fn describe_not_ical(bytes: &[u8]) -> IcalError {
    let head = &bytes[..bytes.len().min(1024)];
    let trimmed = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map(|i| &head[i..])
        .unwrap_or(&[]);
    let msg = if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        "the file is empty".to_string()
    } else if head.contains(&0) {
        "the file is binary, not iCalendar text".to_string()
    } else if trimmed.starts_with(b"{") || trimmed.starts_with(b"[") {
        "the file looks like JSON, not iCalendar (it must start with BEGIN:VCALENDAR)".to_string()
    } else if trimmed.starts_with(b"<") {
        "the file looks like HTML or XML, not iCalendar (it must start with BEGIN:VCALENDAR)"
            .to_string()
    } else if trimmed
        .get(..12)
        .is_some_and(|h| h.eq_ignore_ascii_case(b"BEGIN:VCARD\r") || h.starts_with(b"BEGIN:VCARD"))
    {
        "the file is a vCard, not iCalendar".to_string()
    } else {
        let first = trimmed.split(|b| *b == b'\n').next().unwrap_or(&[]);
        let first = String::from_utf8_lossy(&first[..first.len().min(60)]);
        format!(
            "the file does not start with BEGIN:VCALENDAR (it starts with {:?})",
            first.trim_end()
        )
    };
    IcalError::NotICalendar(msg)
}

/// "line 12", for warnings. The line's text is not quoted: a broken line is often part of an event's title
/// or description (a lost fold), and warnings reach stderr and the log, where those never go.
fn label(line_no: usize) -> String {
    format!("line {line_no}")
}

/// Splits the input into components. `bytes` has no BOM.
pub(crate) fn read(bytes: &[u8]) -> Result<Document<'_>, IcalError> {
    if bytes.iter().take(1024).any(|b| *b == 0) {
        return Err(describe_not_ical(bytes));
    }
    let mut lines = Unfolder::new(bytes);
    let text = lines.text();
    let first = match lines.next() {
        Some(l) => l,
        None => return Err(describe_not_ical(bytes)),
    };
    if !first.text.trim().eq_ignore_ascii_case("BEGIN:VCALENDAR") {
        return Err(describe_not_ical(bytes));
    }
    let mut doc = Document {
        text,
        lines: Vec::with_capacity(bytes.len() / 48),
        calendar: Vec::new(),
        timezones: Vec::new(),
        events: Vec::new(),
        warnings: super::Warnings::default(),
    };
    // Shallow in real files (VCALENDAR > VEVENT > VALARM), but as deep as a hostile file makes it.
    let mut stack = Open::new();
    // Whether the bottom Calendar frame was opened implicitly for components found after END:VCALENDAR.
    let mut implicit = false;
    // Calendar-level components that are not imported (VTODO, VJOURNAL, VFREEBUSY, ...), with counts.
    let mut ignored: Vec<(String, usize)> = Vec::new();
    // Name → its place in `ignored`, so that a file of many distinct names stays linear.
    let mut ignored_at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut event: Option<RawEvent> = None;
    let mut lossy_lines = 0usize;

    for raw in lines {
        if raw.lossy {
            // A Latin-1 file has such bytes on many lines: name the first few, count the rest.
            lossy_lines += 1;
            if lossy_lines <= 5 {
                let msg = format!(
                    "{}: not valid UTF-8; invalid bytes replaced",
                    label(raw.line_no)
                );
                doc.warnings.push(msg);
            }
        }
        let (start, end, line_no) = (raw.start, raw.end, raw.line_no);
        let line = match ContentLine::parse(raw.text, line_no) {
            Ok(l) => l,
            Err((e, _)) => {
                let msg = format!("{}: {e}", label(line_no));
                match event.as_mut() {
                    Some(ev) => {
                        if ev.broken.is_none() {
                            ev.broken = Some(msg);
                        }
                    }
                    None => doc.warnings.push(format!("ignored {msg}")),
                }
                continue;
            }
        };
        let top = stack.top();
        if line.is("BEGIN") {
            let comp = line.value().trim();
            let mut top = top;
            if implicit && comp.eq_ignore_ascii_case("VCALENDAR") && stack.len() == 1 {
                // A real VCALENDAR after loose components: it replaces the implicit one.
                stack.clear();
                implicit = false;
                top = None;
            }
            if stack.is_empty() && !comp.eq_ignore_ascii_case("VCALENDAR") {
                // Components after END:VCALENDAR (libical's example files, concatenated exports): read them
                // as if a VCALENDAR still held them, rather than drop events.
                doc.warnings.push(format!(
                    "line {line_no}: BEGIN:{comp} outside any VCALENDAR; read as part of the calendar"
                ));
                stack.push(Frame::Calendar, "");
                implicit = true;
                top = Some(Frame::Calendar);
            }
            let frame = match top {
                None if comp.eq_ignore_ascii_case("VCALENDAR") => Frame::Calendar,
                Some(Frame::Calendar) if comp.eq_ignore_ascii_case("VEVENT") => {
                    event = Some(RawEvent {
                        lines: doc.lines.len()..doc.lines.len(),
                        start,
                        end,
                        line_no,
                        broken: None,
                    });
                    Frame::Event
                }
                Some(Frame::Calendar) if comp.eq_ignore_ascii_case("VTIMEZONE") => {
                    doc.timezones.push(VTimezone::default());
                    Frame::Timezone
                }
                Some(Frame::Timezone)
                    if comp.eq_ignore_ascii_case("STANDARD")
                        || comp.eq_ignore_ascii_case("DAYLIGHT") =>
                {
                    // STANDARD and DAYLIGHT differ only in name; the offsets say everything.
                    if let Some(tz) = doc.timezones.last_mut() {
                        tz.observances.push(Observance::default());
                    }
                    Frame::Observance
                }
                Some(Frame::Calendar) => {
                    let name = comp.to_ascii_uppercase();
                    match ignored_at.get(&name) {
                        Some(&i) => ignored[i].1 += 1,
                        None => {
                            ignored_at.insert(name.clone(), ignored.len());
                            ignored.push((name, 1));
                        }
                    }
                    Frame::Other
                }
                _ => Frame::Other,
            };
            stack.push(frame, comp);
            continue;
        }
        if line.is("END") {
            let comp = line.value().trim();
            let Some(depth) = stack.closed_by(comp) else {
                doc.warnings.push_with(|| {
                    format!("line {line_no}: END:{comp} without a matching BEGIN, ignored")
                });
                continue;
            };
            // Close everything above the matching frame too: a missing END inside it.
            while stack.len() > depth {
                let Some(frame) = stack.pop() else { break };
                if frame == Frame::Event {
                    if let Some(mut ev) = event.take() {
                        ev.end = end;
                        if stack.len() > depth && ev.broken.is_none() {
                            ev.broken = Some(format!(
                                "line {line_no}: END:{comp} before END:VEVENT (the VEVENT never ends)"
                            ));
                        }
                        doc.events.push(ev);
                    }
                }
            }
            continue;
        }
        match top {
            Some(Frame::Event) => {
                if let Some(ev) = event.as_mut() {
                    doc.lines.push(line);
                    ev.lines.end = doc.lines.len();
                }
            }
            Some(Frame::Calendar) => {
                if line.is("X-WR-CALNAME") || line.is("NAME") || line.is("X-WR-TIMEZONE") {
                    doc.calendar.push(line);
                }
            }
            Some(Frame::Timezone) => {
                if line.is("TZID") {
                    if let Some(tz) = doc.timezones.last_mut() {
                        // TZID is TEXT here (Outlook escapes the commas of its display names) but a
                        // parameter value in DTSTART, where it is written unescaped: keep the unescaped form.
                        tz.tzid = line.text_value().trim().to_string();
                    }
                }
            }
            Some(Frame::Observance) => {
                if let Some(obs) = doc
                    .timezones
                    .last_mut()
                    .and_then(|tz| tz.observances.last_mut())
                {
                    obs.apply(&line);
                }
            }
            Some(Frame::Other) => {}
            None => doc.warnings.push(format!(
                "line {line_no}: {} after END:VCALENDAR, ignored",
                line.name()
            )),
        }
    }
    if let Some(mut ev) = event.take() {
        ev.end = bytes.len();
        if ev.broken.is_none() {
            ev.broken = Some("the file ends before END:VEVENT".to_string());
        }
        doc.events.push(ev);
    }
    if lossy_lines > 5 {
        doc.warnings.push(format!(
            "{} more lines were not valid UTF-8 (is the file Latin-1?); invalid bytes replaced",
            lossy_lines - 5
        ));
    }
    for (name, count) in ignored {
        doc.warnings.push(format!(
            "{count} {name} component(s) ignored: only VEVENTs are imported"
        ));
    }
    if !implicit && stack.has_calendar() {
        doc.warnings
            .push("the file ends without END:VCALENDAR (truncated?)".to_string());
    }
    Ok(doc)
}

impl<'a> Document<'a> {
    pub fn event<'d>(&'d self, ev: &'d RawEvent) -> EventRef<'d, 'a> {
        EventRef {
            lines: self.lines.get(ev.lines.clone()).unwrap_or(&[]),
            start: ev.start,
            end: ev.end,
            line_no: ev.line_no,
            broken: ev.broken.as_deref(),
        }
    }
}
