//! Events → an RFC 5545 VCALENDAR text.
//!
//! Invariants:
//! - Lines end in CRLF and are folded so that no line exceeds 75 octets (§3.1), never inside a UTF-8
//!   character; TEXT values are escaped (§3.3.11) and parameter values RFC 6868-escaped and quoted when they
//!   hold ':' ';' or ','.
//! - Every TZID used has a VTIMEZONE (§3.6.5), generated from the zone's real offsets: each transition
//!   between the year before the earliest time written and the year after the latest one is its own
//!   observance, and when the zone's last two transitions follow an "nth weekday of the month" rule that
//!   holds for the following years too, an open-ended RRULE observance continues it, so other calendar
//!   apps read recurring events correctly beyond the last year. `Utc` values are written with `Z` and need
//!   no VTIMEZONE.
//! - [`super::parse`] reads the output back into equal events (the TZID is the IANA name, which
//!   `Zone::parse` knows, so the VTIMEZONE is for other readers).

use super::lexer::{encode_rfc6868, escape_text};
use super::values::format_utc_offset;
use crate::model::{Availability, Event, EventStatus};
use crate::time::{When, Zone};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Utc, Weekday};
use std::collections::BTreeMap;
use std::fmt::Write as _;

const PRODID: &str = "-//Punctual//Punctual Calendar//EN";

/// Writes `events` as one VCALENDAR named `calendar_name`.
pub fn write(calendar_name: &str, events: &[Event]) -> String {
    let mut w = Writer {
        out: String::with_capacity(1024 + events.len() * 512),
        line: String::with_capacity(256),
    };
    w.simple("BEGIN", "VCALENDAR");
    w.simple("VERSION", "2.0");
    w.simple("PRODID", PRODID);
    w.simple("CALSCALE", "GREGORIAN");
    w.text("X-WR-CALNAME", &[], calendar_name);

    // Zones used, with the span of years their times cover.
    let mut zones: BTreeMap<&'static str, (Zone, i32, i32)> = BTreeMap::new();
    for e in events {
        let mut note = |v: &When| {
            if let When::Zoned { local, zone } = v {
                let y = local.year();
                let entry = zones.entry(zone.name()).or_insert((*zone, y, y));
                entry.1 = entry.1.min(y);
                entry.2 = entry.2.max(y);
            }
        };
        note(&e.start);
        note(&e.end);
        if let Some(r) = &e.recurrence {
            r.rdates.iter().chain(r.exdates.iter()).for_each(&mut note);
        }
        if let Some(r) = &e.recurrence_id {
            note(r);
        }
    }
    for (zone, first, last) in zones.values() {
        w.vtimezone(*zone, *first, *last);
    }
    for e in events {
        w.event(e);
    }
    w.simple("END", "VCALENDAR");
    w.out
}

struct Writer {
    out: String,
    /// The logical line being built, folded into `out` by [`Writer::flush`].
    line: String,
}

fn fmt_local(t: NaiveDateTime) -> String {
    t.format("%Y%m%dT%H%M%S").to_string()
}

fn fmt_utc(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

impl Writer {
    /// Folds the logical line into `out` (§3.1): at most 75 octets per physical line, continuation lines
    /// start with one space, and a fold never splits a UTF-8 character.
    fn flush(&mut self) {
        let mut width = 0;
        for c in self.line.chars() {
            let n = c.len_utf8();
            if width + n > 75 {
                self.out.push_str("\r\n ");
                width = 1;
            }
            self.out.push(c);
            width += n;
        }
        self.out.push_str("\r\n");
        self.line.clear();
    }

    fn start(&mut self, name: &str, params: &[(&str, &str)]) {
        self.line.push_str(name);
        for (k, v) in params {
            self.line.push(';');
            self.line.push_str(k);
            self.line.push('=');
            let v = encode_rfc6868(v);
            if v.contains([':', ';', ',']) {
                self.line.push('"');
                self.line.push_str(&v);
                self.line.push('"');
            } else {
                self.line.push_str(&v);
            }
        }
        self.line.push(':');
    }

    fn simple(&mut self, name: &str, value: &str) {
        self.simple_with(name, &[], value);
    }

    fn text(&mut self, name: &str, params: &[(&str, &str)], value: &str) {
        self.start(name, params);
        escape_text(value, &mut self.line);
        self.flush();
    }

    fn when(&mut self, name: &str, extra: &[(&str, &str)], v: &When) {
        let mut params: Vec<(&str, &str)> = extra.to_vec();
        let value = match v {
            When::Date { date } => {
                params.push(("VALUE", "DATE"));
                date.format("%Y%m%d").to_string()
            }
            When::Floating { local } => fmt_local(*local),
            When::Zoned { local, zone } => {
                params.push(("TZID", zone.name()));
                fmt_local(*local)
            }
            When::Utc { at } => fmt_utc(*at),
        };
        self.start(name, &params);
        self.line.push_str(&value);
        self.flush();
    }

    fn event(&mut self, e: &Event) {
        self.simple("BEGIN", "VEVENT");
        self.text("UID", &[], &e.uid);
        self.simple("DTSTAMP", &fmt_utc(e.updated_at));
        self.simple("CREATED", &fmt_utc(e.created_at));
        self.simple("LAST-MODIFIED", &fmt_utc(e.updated_at));
        self.when("DTSTART", &[], &e.start);
        self.when("DTEND", &[], &e.end);
        if let Some(rid) = &e.recurrence_id {
            if e.this_and_future {
                self.when("RECURRENCE-ID", &[("RANGE", "THISANDFUTURE")], rid);
            } else {
                self.when("RECURRENCE-ID", &[], rid);
            }
        }
        self.text("SUMMARY", &[], &e.title);
        // Empty text reads back as absent, so it is not written.
        if let Some(d) = e.description.as_deref().filter(|d| !d.is_empty()) {
            self.text("DESCRIPTION", &[], d);
        }
        if let Some(l) = e.location.as_deref().filter(|l| !l.is_empty()) {
            self.text("LOCATION", &[], l);
        }
        if let Some(u) = e.url.as_deref().filter(|u| !u.trim().is_empty()) {
            // URL is a URI (§3.8.4.6), not TEXT: no escaping; a URI has no line breaks.
            self.simple("URL", u.trim());
        }
        if let Some(c) = &e.color {
            self.simple("COLOR", c);
        }
        self.simple(
            "TRANSP",
            match e.availability {
                Availability::Busy => "OPAQUE",
                Availability::Free => "TRANSPARENT",
            },
        );
        self.simple(
            "STATUS",
            match e.status {
                EventStatus::Confirmed => "CONFIRMED",
                EventStatus::Tentative => "TENTATIVE",
                EventStatus::Cancelled => "CANCELLED",
            },
        );
        if let Some(r) = &e.recurrence {
            for rule in &r.rrules {
                self.simple("RRULE", rule);
            }
            for d in &r.rdates {
                self.when("RDATE", &[], d);
            }
            for d in &r.exdates {
                self.when("EXDATE", &[], d);
            }
        }
        for uri in &e.conference.uris {
            // RFC 7986 §5.11: CONFERENCE needs VALUE=URI.
            self.simple_with("CONFERENCE", &[("VALUE", "URI")], uri);
        }
        if let Some(html) = &e.conference.html {
            self.text("X-ALT-DESC", &[("FMTTYPE", "text/html")], html);
        }
        self.simple("END", "VEVENT");
    }

    /// A value that is not TEXT (URI, RECUR, ...): written as is, minus control characters, which would break
    /// the line structure (a URI or a rule never holds one legitimately).
    fn simple_with(&mut self, name: &str, params: &[(&str, &str)], value: &str) {
        self.start(name, params);
        if value.contains(|c: char| c.is_control()) {
            self.line.extend(value.chars().filter(|c| !c.is_control()));
        } else {
            self.line.push_str(value);
        }
        self.flush();
    }

    /// A VTIMEZONE for `zone` covering the years `first - 1` to `last + 1` (see the module doc).
    fn vtimezone(&mut self, zone: Zone, first: i32, last: i32) {
        let from_year = first.saturating_sub(1).max(1800);
        let to_year = last.saturating_add(1).min(2200).max(from_year);
        let (Some(t0), Some(t1)) = (year_start(from_year), year_start(to_year + 1)) else {
            return;
        };
        let transitions = transitions(zone, t0, t1);
        self.simple("BEGIN", "VTIMEZONE");
        self.simple("TZID", zone.name());
        // The offset in force at the start of the span, as an observance starting there.
        let o0 = zone.offset_seconds(t0);
        let first_is_dst = transitions.first().is_some_and(|t| t.to < t.from);
        self.observance(
            first_is_dst,
            t0.naive_utc() + Duration::seconds(i64::from(o0)),
            o0,
            o0,
            None,
        );
        for t in &transitions {
            let local = t.at.naive_utc() + Duration::seconds(i64::from(t.from));
            self.observance(t.to > t.from, local, t.from, t.to, None);
        }
        // Continue the zone's current rule past the span, when it has a simple one.
        if let Some(rules) = yearly_rules(zone, to_year) {
            for (t, rule) in rules {
                let local = t.at.naive_utc() + Duration::seconds(i64::from(t.from));
                self.observance(t.to > t.from, local, t.from, t.to, Some(&rule));
            }
        }
        self.simple("END", "VTIMEZONE");
    }

    fn observance(
        &mut self,
        daylight: bool,
        local: NaiveDateTime,
        from: i32,
        to: i32,
        rrule: Option<&str>,
    ) {
        let kind = if daylight { "DAYLIGHT" } else { "STANDARD" };
        self.simple("BEGIN", kind);
        self.simple("DTSTART", &fmt_local(local));
        self.simple("TZOFFSETFROM", &format_utc_offset(from));
        self.simple("TZOFFSETTO", &format_utc_offset(to));
        if let Some(r) = rrule {
            self.simple("RRULE", r);
        }
        self.simple("END", kind);
    }
}

fn year_start(year: i32) -> Option<DateTime<Utc>> {
    NaiveDate::from_ymd_opt(year, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// A change of UTC offset at an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Transition {
    at: DateTime<Utc>,
    from: i32,
    to: i32,
}

/// Every offset change in [t0, t1), found by probing the zone daily and bisecting to the second. Zones
/// never change offset twice within a day, so a daily probe misses nothing.
fn transitions(zone: Zone, t0: DateTime<Utc>, t1: DateTime<Utc>) -> Vec<Transition> {
    let mut out = Vec::new();
    let mut t = t0;
    let mut off = zone.offset_seconds(t);
    while t < t1 {
        let next = t + Duration::days(1);
        let next_off = zone.offset_seconds(next);
        if next_off != off {
            let (mut lo, mut hi) = (t, next);
            while hi - lo > Duration::seconds(1) {
                let mid = lo + (hi - lo) / 2;
                if zone.offset_seconds(mid) == off {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            out.push(Transition {
                at: hi,
                from: off,
                to: next_off,
            });
        }
        t = next;
        off = next_off;
    }
    out
}

fn byday_code(wd: Weekday) -> &'static str {
    match wd {
        Weekday::Mon => "MO",
        Weekday::Tue => "TU",
        Weekday::Wed => "WE",
        Weekday::Thu => "TH",
        Weekday::Fri => "FR",
        Weekday::Sat => "SA",
        Weekday::Sun => "SU",
    }
}

/// The ordinal of a date's weekday in its month: 1..=4 counted from the start, or -1 for the last one when
/// it is the last (the form DST rules use: "last Sunday of March").
fn nth_of_month(local: NaiveDate) -> i32 {
    let days_in_month = NaiveDate::from_ymd_opt(
        if local.month() == 12 {
            local.year() + 1
        } else {
            local.year()
        },
        if local.month() == 12 {
            1
        } else {
            local.month() + 1
        },
        1,
    )
    .and_then(|d| d.pred_opt())
    .map(|d| d.day())
    .unwrap_or(31);
    if local.day() + 7 > days_in_month {
        -1
    } else {
        ((local.day() - 1) / 7 + 1) as i32
    }
}

/// The zone's two yearly transitions after `after_year`, as RRULE observances, when the transitions of the
/// three following years all follow the same "nth weekday of month at the same local time" rule.
fn yearly_rules(zone: Zone, after_year: i32) -> Option<Vec<(Transition, String)>> {
    let (t0, t1) = (year_start(after_year + 1)?, year_start(after_year + 4)?);
    let all = transitions(zone, t0, t1);
    if all.len() != 6 {
        return None;
    }
    let key = |t: &Transition| {
        let local = t.at.naive_utc() + Duration::seconds(i64::from(t.from));
        (
            local.month(),
            nth_of_month(local.date()),
            local.weekday(),
            local.time(),
            t.from,
            t.to,
        )
    };
    let (a, b) = (key(&all[0]), key(&all[1]));
    if a == b {
        return None;
    }
    for pair in all.chunks(2) {
        if key(&pair[0]) != a || key(&pair[1]) != b {
            return None;
        }
    }
    let mut out = Vec::new();
    for (t, (month, nth, wd, _, _, _)) in [(all[0], a), (all[1], b)] {
        let mut rule = String::new();
        let _ = write!(
            rule,
            "FREQ=YEARLY;BYMONTH={month};BYDAY={nth}{}",
            byday_code(wd)
        );
        out.push((t, rule));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_at_75_octets_without_splitting_characters() {
        let mut w = Writer {
            out: String::new(),
            line: String::new(),
        };
        w.text("SUMMARY", &[], &"é".repeat(100));
        for l in w.out.split("\r\n") {
            assert!(l.len() <= 75, "line of {} octets: {l:?}", l.len());
        }
    }

    #[test]
    fn nth_weekday_codes() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("valid date");
        assert_eq!(nth_of_month(d(2024, 3, 31)), -1, "last Sunday of March");
        assert_eq!(nth_of_month(d(2024, 3, 10)), 2, "second Sunday of March");
    }
}
