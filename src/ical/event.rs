//! VEVENT → [`Event`] (RFC 5545 §3.6.1, §3.8; RFC 7986 COLOR and CONFERENCE; the X- properties Google and
//! Microsoft write for meetings).
//!
//! Invariants:
//! - A VEVENT without a usable DTSTART, with an RRULE that is not `KEY=VALUE` parts with a FREQ, with a bad
//!   RECURRENCE-ID, or with a line that is not a content line is skipped: the caller gets a warning that names
//!   it (line, UID, and why; never its SUMMARY: warnings reach stderr and the
//!   log, where an event's title must not go). Anything less (a bad EXDATE value, an unknown TZID) is a warning, and the
//!   event still imports.
//! - Times keep the form their source used ([`When`]): a TZID that [`Zone::parse`] knows gives `Zoned`; one it
//!   does not know but that the file describes in a VTIMEZONE gives `Zoned` in the matching IANA zone, or
//!   `Utc` computed with the VTIMEZONE's offsets when no IANA zone matches; `Z` gives `Utc`; neither gives
//!   `Floating`, or `Zoned` in X-WR-TIMEZONE when the calendar has one (Google exports floating times meaning
//!   the calendar's zone); a DATE gives `Date`.
//! - A VEVENT without a UID gets `punctual-<128-bit hash>@ics` from its DTSTART, DTEND/DURATION, SUMMARY,
//!   LOCATION, RRULE and RECURRENCE-ID lines (a stable FNV-1a over their unfolded text; DTSTAMP, which
//!   exporters rewrite on every export, is left out), so importing the same file again updates instead of
//!   duplicating. Two UID-less VEVENTs with the same hash in one file get `-2`, `-3`, ... in file order.

use super::document::EventRef;
use super::lexer::{unescape_text, ContentLine};
use super::values::{parse_duration, parse_time, RawTime};
use super::vtimezone::VTimezone;
use super::ParseOptions;
use crate::model::{Availability, ConferenceData, Event, EventStatus, Recurrence};
use crate::time::{When, Zone};
use chrono::{DateTime, Duration, NaiveDateTime, NaiveTime, Utc};
use std::collections::HashMap;

/// How a TZID is read, decided once per TZID per file.
#[derive(Clone, Copy, Debug)]
enum TzRes {
    Zone(Zone),
    /// The index of a VTIMEZONE whose own offsets convert local times to UTC.
    Offsets(usize),
}

/// Properties whose value is a join URI for a meeting.
const CONFERENCE_PROPS: &[&str] = &[
    // RFC 7986 §5.11.
    "CONFERENCE",
    // Google Calendar exports.
    "X-GOOGLE-CONFERENCE",
    // Exchange / Outlook for Teams and Skype meetings.
    "X-MICROSOFT-SKYPETEAMSMEETINGURL",
    "X-MICROSOFT-ONLINEMEETINGEXTERNALLINK",
    "X-MICROSOFT-ONLINEMEETINGCONFLINK",
];

pub(crate) struct Mapper<'o> {
    opts: &'o ParseOptions,
    /// X-WR-TIMEZONE, when the calendar names a zone we know.
    pub wr_zone: Option<Zone>,
    timezones: Vec<VTimezone>,
    by_tzid: HashMap<String, usize>,
    resolved: HashMap<String, TzRes>,
    derived_uids: HashMap<String, u32>,
    pub warnings: super::Warnings,
}

/// Why a VEVENT was skipped.
type Skip = String;

fn upper<'b>(name: &str, buf: &'b mut [u8; 48]) -> &'b str {
    let n = name.len().min(buf.len());
    buf[..n].copy_from_slice(&name.as_bytes()[..n]);
    buf[..n].make_ascii_uppercase();
    // Names are ASCII by construction (the lexer accepts only ALPHA / DIGIT / "-" / "_").
    std::str::from_utf8(&buf[..n]).unwrap_or("")
}

/// FNV-1a as a `Hasher`, for the per-file maps keyed by UID: SipHash's DoS resistance buys nothing for a file
/// the user imports themselves, and it showed in profiles of a 10,000-event import.
#[derive(Clone, Copy)]
pub(crate) struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

type FastMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<Fnv>>;

/// FNV-1a, 64-bit, with a chosen offset basis: stable across Rust releases (std's hasher is not).
fn fnv1a(basis: u64, parts: &[&str]) -> u64 {
    let mut h = basis;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(b'\n')) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

fn is_hex_color(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 7 && b[0] == b'#' && b[1..].iter().all(u8::is_ascii_hexdigit)
}

/// Checks an RRULE's shape: `KEY=VALUE` parts separated by ';', a FREQ among the seven of §3.3.10, and only
/// the parts §3.3.10 (and RFC 7529's RSCALE/SKIP) define, or X- parts. Whether the parts make sense together
/// is the recurrence module's business. Returns the rule upper-cased (§3.3.10 values are case-insensitive)
/// without a trailing ';'.
pub(crate) fn check_rrule(value: &str) -> Result<String, String> {
    let v = value.trim().trim_end_matches(';');
    if v.is_empty() {
        return Err("the RRULE is empty".to_string());
    }
    // §3.3.10's grammar is ASCII only; anything else is damage (and would trip byte-indexed parsers).
    if !v.is_ascii() {
        return Err(format!("the RRULE {v:?} has non-ASCII characters"));
    }
    let mut freq = false;
    for part in v.split(';') {
        let Some((k, val)) = part.split_once('=') else {
            return Err(format!("RRULE part {part:?} is not KEY=VALUE"));
        };
        if val.trim().is_empty() {
            return Err(format!("RRULE part {part:?} has no value"));
        }
        let mut buf = [0u8; 48];
        let key = upper(k.trim(), &mut buf);
        match key {
            "FREQ" => {
                let f = val.trim().to_ascii_uppercase();
                if !matches!(
                    f.as_str(),
                    "SECONDLY" | "MINUTELY" | "HOURLY" | "DAILY" | "WEEKLY" | "MONTHLY" | "YEARLY"
                ) {
                    return Err(format!("RRULE FREQ={val} is not a frequency"));
                }
                freq = true;
            }
            "UNTIL" | "COUNT" | "INTERVAL" | "BYSECOND" | "BYMINUTE" | "BYHOUR" | "BYDAY"
            | "BYMONTHDAY" | "BYYEARDAY" | "BYWEEKNO" | "BYMONTH" | "BYSETPOS" | "WKST"
            | "RSCALE" | "SKIP" => {}
            k if k.starts_with("X-") => {}
            _ => return Err(format!("RRULE has an unknown part {k:?}")),
        }
    }
    if !freq {
        return Err("the RRULE has no FREQ".to_string());
    }
    Ok(v.to_ascii_uppercase())
}

impl<'o> Mapper<'o> {
    pub fn new(opts: &'o ParseOptions, wr_zone: Option<Zone>, timezones: Vec<VTimezone>) -> Self {
        let by_tzid = timezones
            .iter()
            .enumerate()
            .filter(|(_, tz)| tz.is_usable())
            .map(|(i, tz)| (tz.tzid.clone(), i))
            .collect();
        Mapper {
            opts,
            wr_zone,
            timezones,
            by_tzid,
            resolved: HashMap::new(),
            derived_uids: HashMap::new(),
            warnings: super::Warnings::default(),
        }
    }

    /// The zone that dates and floating times belong to.
    fn default_zone(&self) -> Zone {
        self.wr_zone.unwrap_or(self.opts.user_zone)
    }

    /// How to read `tzid`, decided on its first use. `year` is the year of that first value: a VTIMEZONE is
    /// matched to an IANA zone around the years it is used in, because a VTIMEZONE may describe only those
    /// years (individual observances, no RRULE).
    fn resolve_tzid(&mut self, tzid: &str, year: i32) -> TzRes {
        if let Some(r) = self.resolved.get(tzid) {
            return *r;
        }
        let res = if let Some(z) = Zone::parse(tzid) {
            TzRes::Zone(z)
        } else if let Some(&i) = self
            .by_tzid
            .get(tzid)
            .or_else(|| self.by_tzid.get(tzid.trim_matches('"')))
            .or_else(|| self.by_tzid.get(unescape_text(tzid).as_ref()))
        {
            match self.timezones[i].match_iana(year) {
                Some(z) => TzRes::Zone(z),
                None => {
                    self.warnings.push(format!(
                        "TZID {tzid:?} matches no IANA zone; its times are converted to UTC with the file's VTIMEZONE"
                    ));
                    TzRes::Offsets(i)
                }
            }
        } else {
            let z = self.default_zone();
            self.warnings.push(format!(
                "unknown TZID {tzid:?} with no VTIMEZONE; its times are read in {z}"
            ));
            TzRes::Zone(z)
        };
        self.resolved.insert(tzid.to_string(), res);
        res
    }

    /// One DATE or DATE-TIME value of a property, with the property's TZID and VALUE parameters.
    fn when(&mut self, line: &ContentLine<'_>, value: &str) -> Result<When, String> {
        let raw =
            parse_time(value).ok_or_else(|| format!("{value:?} is not a DATE or DATE-TIME"))?;
        Ok(match raw {
            RawTime::Date(date) => When::Date { date },
            RawTime::DateTime { local, .. } if line.param_is("VALUE", "DATE") => {
                When::Date { date: local.date() }
            }
            RawTime::DateTime { local, utc: true } => When::Utc {
                at: local.and_utc(),
            },
            RawTime::DateTime { local, utc: false } => match line.param("TZID") {
                Some(tzid) => {
                    match self.resolve_tzid(tzid.trim(), chrono::Datelike::year(&local)) {
                        TzRes::Zone(zone) => When::Zoned { local, zone },
                        TzRes::Offsets(i) => When::Utc {
                            at: self.timezones[i].to_utc(local),
                        },
                    }
                }
                None => match self.wr_zone {
                    Some(zone) => When::Zoned { local, zone },
                    None => When::Floating { local },
                },
            },
        })
    }

    /// Every value of a list property (RDATE, EXDATE): comma lists, PERIOD values read as their start.
    fn when_list(
        &mut self,
        line: &ContentLine<'_>,
        out: &mut Vec<When>,
        what: &str,
        ev: &EventRef<'_, '_>,
    ) {
        for v in line.value().split(',') {
            let v = v.trim();
            if v.is_empty() {
                continue;
            }
            let v = v.split('/').next().unwrap_or(v);
            match self.when(line, v) {
                Ok(w) => out.push(w),
                Err(e) => self.warnings.push(format!(
                    "{}: {what} value ignored at line {}: {e}",
                    describe(ev),
                    line.line_no
                )),
            }
        }
    }

    fn stamp(value: &str) -> Option<DateTime<Utc>> {
        // §3.8.7: CREATED, DTSTAMP and LAST-MODIFIED are UTC; read a local or date value as UTC too.
        match parse_time(value)? {
            RawTime::Date(d) => Some(d.and_time(NaiveTime::MIN).and_utc()),
            RawTime::DateTime { local, .. } => Some(local.and_utc()),
        }
    }

    fn derive_uid(&mut self, ev: &EventRef<'_, '_>) -> String {
        let parts: Vec<&str> = ev
            .lines
            .iter()
            .filter(|l| {
                [
                    "DTSTART",
                    "DTEND",
                    "DURATION",
                    "SUMMARY",
                    "LOCATION",
                    "RRULE",
                    "RECURRENCE-ID",
                ]
                .iter()
                .any(|n| l.is(n))
            })
            .map(|l| l.text())
            .collect();
        let base = format!(
            "punctual-{:016x}{:016x}@ics",
            fnv1a(0xcbf2_9ce4_8422_2325, &parts),
            fnv1a(0x6c62_272e_07bb_0142, &parts)
        );
        let n = self.derived_uids.entry(base.clone()).or_insert(0);
        *n += 1;
        if *n == 1 {
            base
        } else {
            format!("{base}-{n}")
        }
    }

    /// Maps one VEVENT. `source` is the whole input, for `raw`; `text` the same when it is valid UTF-8.
    pub fn event(
        &mut self,
        ev: &EventRef<'_, '_>,
        source: &[u8],
        text: Option<&str>,
    ) -> Result<Event, Skip> {
        // Described only when something goes wrong: most events never need it.
        let who = || describe(ev);
        if let Some(why) = ev.broken {
            return Err(format!("skipped {}: {why}", who()));
        }
        let mut uid: Option<String> = None;
        let mut title: Option<String> = None;
        let mut description = None;
        let mut location = None;
        let mut url = None;
        let mut color = None;
        let mut dtstart: Option<&ContentLine<'_>> = None;
        let mut dtend: Option<&ContentLine<'_>> = None;
        let mut duration: Option<&ContentLine<'_>> = None;
        let mut availability = Availability::Busy;
        let mut status = EventStatus::Confirmed;
        let mut recurrence = Recurrence::default();
        let mut recurrence_id = None;
        let mut this_and_future = false;
        let mut conference = ConferenceData::default();
        let (mut created, mut modified, mut dtstamp) = (None, None, None);

        for line in ev.lines {
            let mut buf = [0u8; 48];
            match upper(line.name(), &mut buf) {
                "UID" => uid = Some(line.text_value().trim().to_string()),
                "SUMMARY" => title = Some(line.text_value().trim().to_string()),
                // Google writes empty DESCRIPTION: and LOCATION: lines; empty means absent.
                "DESCRIPTION" => description = non_empty(line.text_value().into_owned()),
                "LOCATION" => location = non_empty(line.text_value().into_owned()),
                "URL" => url = non_empty(line.value().trim().to_string()),
                "COLOR" => {
                    let v = line.value().trim();
                    if is_hex_color(v) {
                        color = Some(v.to_string());
                    }
                }
                "DTSTART" => dtstart = Some(line),
                "DTEND" => dtend = Some(line),
                "DURATION" => duration = Some(line),
                "TRANSP" if line.value().trim().eq_ignore_ascii_case("TRANSPARENT") => {
                    availability = Availability::Free;
                }
                "STATUS" => {
                    let v = line.value().trim();
                    if v.eq_ignore_ascii_case("TENTATIVE") {
                        status = EventStatus::Tentative;
                    } else if v.eq_ignore_ascii_case("CANCELLED") {
                        status = EventStatus::Cancelled;
                    }
                }
                "RRULE" => match check_rrule(line.value()) {
                    Ok(r) => recurrence.rrules.push(r),
                    Err(e) => {
                        return Err(format!("skipped {}: line {}: {e}", who(), line.line_no));
                    }
                },
                "RDATE" => self.when_list(line, &mut recurrence.rdates, "RDATE", ev),
                "EXDATE" => self.when_list(line, &mut recurrence.exdates, "EXDATE", ev),
                "RECURRENCE-ID" => {
                    recurrence_id = Some(self.when(line, line.value()).map_err(|e| {
                        format!(
                            "skipped {}: line {}: bad RECURRENCE-ID: {e}",
                            who(),
                            line.line_no
                        )
                    })?);
                    this_and_future = line.param_is("RANGE", "THISANDFUTURE");
                }
                "X-ALT-DESC" | "STYLED-DESCRIPTION"
                    if line
                        .param("FMTTYPE")
                        .is_some_and(|f| f.trim().eq_ignore_ascii_case("text/html")) =>
                {
                    conference.html = Some(line.text_value().into_owned());
                }
                "CREATED" => created = Self::stamp(line.value()),
                "LAST-MODIFIED" => modified = Self::stamp(line.value()),
                "DTSTAMP" => dtstamp = Self::stamp(line.value()),
                name if CONFERENCE_PROPS.contains(&name) => {
                    let v = line.value().trim();
                    if v.contains(':') && !conference.uris.iter().any(|u| u == v) {
                        conference.uris.push(v.to_string());
                    }
                }
                _ => {}
            }
        }

        let Some(dtstart) = dtstart else {
            return Err(format!("skipped {}: it has no DTSTART", who()));
        };
        let start = self.when(dtstart, dtstart.value()).map_err(|e| {
            format!(
                "skipped {}: line {}: bad DTSTART: {e}",
                who(),
                dtstart.line_no
            )
        })?;
        let end = self.end(start, dtend, duration, ev);

        if recurrence_id.is_some() && !recurrence.rrules.is_empty() {
            // model::Event: an override never carries a recurrence of its own.
            self.warnings.push(format!(
                "{}: an override (RECURRENCE-ID) with its own RRULE; the RRULE is ignored",
                who()
            ));
            recurrence = Recurrence::default();
        }
        let recurrence = if recurrence.rrules.is_empty()
            && recurrence.rdates.is_empty()
            && recurrence.exdates.is_empty()
        {
            None
        } else {
            Some(recurrence)
        };

        let time_zone = match start {
            When::Zoned { zone, .. } => zone,
            When::Utc { .. } => self.wr_zone.unwrap_or(Zone::UTC),
            When::Date { .. } | When::Floating { .. } => self.default_zone(),
        };
        let uid = match uid.filter(|u| !u.is_empty()) {
            Some(u) => u,
            None => self.derive_uid(ev),
        };
        let created_at = created.or(dtstamp).unwrap_or(self.opts.now);
        let updated_at = modified.or(dtstamp).unwrap_or(created_at);
        let raw_end = ev.end.min(source.len());
        let raw_start = ev.start.min(raw_end);
        let raw = match text.and_then(|t| t.get(raw_start..raw_end)) {
            Some(t) => t.to_string(),
            None => String::from_utf8_lossy(&source[raw_start..raw_end]).into_owned(),
        };

        Ok(Event {
            id: uuid::Uuid::new_v4().to_string(),
            calendar_id: self.opts.calendar_id.clone(),
            uid,
            title: title
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| "(No title)".to_string()),
            description,
            location,
            url,
            color,
            start,
            end,
            time_zone,
            availability,
            status,
            recurrence,
            recurrence_id,
            this_and_future,
            conference,
            meeting: None,
            attendance: Default::default(),
            platform: "ics".to_string(),
            platform_id: None,
            raw: Some(raw),
            created_at,
            updated_at,
        })
    }

    /// DTEND, or DTSTART + DURATION, or the §3.6.1 defaults: a DATE start lasts one day, a DATE-TIME start
    /// with no end has zero length. The end keeps the start's form (date or not), and never precedes it.
    fn end(
        &mut self,
        start: When,
        dtend: Option<&ContentLine<'_>>,
        duration: Option<&ContentLine<'_>>,
        ev: &EventRef<'_, '_>,
    ) -> When {
        let who = || describe(ev);
        let default = match start {
            When::Date { date } => When::Date {
                date: date.succ_opt().unwrap_or(date),
            },
            other => other,
        };
        let end = if let Some(line) = dtend {
            match self.when(line, line.value()) {
                Ok(e) => Some(e),
                Err(e) => {
                    self.warnings.push(format!(
                        "{}: line {}: bad DTEND ignored: {e}",
                        who(),
                        line.line_no
                    ));
                    None
                }
            }
        } else if let Some(line) = duration {
            match parse_duration(line.value()) {
                Some(d) => Some(add_duration(start, d.days, d.seconds)),
                None => {
                    self.warnings.push(format!(
                        "{}: line {}: bad DURATION {:?} ignored",
                        who(),
                        line.line_no,
                        line.value()
                    ));
                    None
                }
            }
        } else {
            None
        };
        let Some(end) = end else { return default };
        // Keep the start's form: a DATE start with a DATE-TIME end (or the reverse) is invalid (§3.6.1) but
        // written by some producers.
        let end = match (start, end) {
            (When::Date { .. }, When::Date { .. }) => end,
            (When::Date { .. }, other) => When::Date {
                date: other.naive().date(),
            },
            (_, When::Date { date }) => start.with_naive(date.and_time(NaiveTime::MIN)),
            _ => end,
        };
        let fz = self.default_zone();
        if end.to_utc(fz) < start.to_utc(fz) {
            self.warnings.push(format!(
                "{}: it ends before it starts; its end is set to its start",
                who()
            ));
            return default_for_bad_end(start);
        }
        end
    }
}

fn default_for_bad_end(start: When) -> When {
    match start {
        When::Date { date } => When::Date {
            date: date.succ_opt().unwrap_or(date),
        },
        other => other,
    }
}

/// DTSTART + DURATION (§3.3.6): days are nominal (same wall-clock time), hours/minutes/seconds exact.
fn add_duration(start: When, days: i64, seconds: i64) -> When {
    let nominal = |local: NaiveDateTime| {
        local
            .checked_add_signed(Duration::days(days))
            .unwrap_or(local)
    };
    match start {
        When::Date { date } => {
            let d = date
                .checked_add_signed(Duration::days(days + seconds.div_euclid(86_400)))
                .unwrap_or(date);
            When::Date { date: d }
        }
        When::Floating { local } => When::Floating {
            local: nominal(local) + Duration::seconds(seconds),
        },
        When::Zoned { local, zone } => {
            let at = zone.resolve(nominal(local)) + Duration::seconds(seconds);
            When::Zoned {
                local: zone.local(at),
                zone,
            }
        }
        When::Utc { at } => When::Utc {
            at: at + Duration::days(days) + Duration::seconds(seconds),
        },
    }
}

/// Gives each override's RECURRENCE-ID and each master's EXDATEs the value type of the master's DTSTART, as
/// RFC 5545 §3.8.4.4 and §3.8.5.1 require and as producers do not always write: Exchange writes
/// `RECURRENCE-ID;TZID=...:20200416T000000` for an all-day series (read as that date), and ical.js's samples
/// exclude a DATE-TIME series' instance with `EXDATE;VALUE=DATE` (read as the instance at DTSTART's time on
/// that date). Without this, expansion (which matches by instant) would keep the instance and add the
/// override beside it.
pub(crate) fn align_to_masters(events: &mut [Event], warnings: &mut super::Warnings) {
    let masters: FastMap<String, (When, Zone)> = events
        .iter()
        .filter(|e| e.recurrence.is_some() && e.recurrence_id.is_none())
        .map(|e| (e.uid.clone(), (e.start, e.time_zone)))
        .collect();
    for e in events.iter_mut() {
        if let Some(rid) = e.recurrence_id {
            if let Some((like, zone)) = masters.get(&e.uid) {
                e.recurrence_id = Some(align(rid, *like, *zone));
            }
        } else if let Some(r) = e.recurrence.as_mut() {
            let (like, zone) = (e.start, e.time_zone);
            for x in r.exdates.iter_mut() {
                *x = align(*x, like, zone);
            }
        }
    }
    let mut seen: std::collections::HashSet<
        (&str, Option<When>),
        std::hash::BuildHasherDefault<Fnv>,
    > = std::collections::HashSet::with_capacity_and_hasher(events.len(), Default::default());
    let mut duplicates = Vec::new();
    for e in events.iter() {
        if !seen.insert((e.uid.as_str(), e.recurrence_id)) {
            duplicates.push(e.uid.clone());
        }
    }
    for uid in duplicates {
        // The store upserts by (calendar, UID, RECURRENCE-ID): the later VEVENT replaces the earlier one.
        warnings.push(format!(
            "two VEVENTs share UID {uid} (and RECURRENCE-ID); the later one wins on import"
        ));
    }
}

/// `v` in the value type (DATE or DATE-TIME) of `like`; only a DATE/DATE-TIME mismatch is changed.
fn align(v: When, like: When, zone: Zone) -> When {
    match (like, v) {
        (When::Date { .. }, When::Date { .. }) => v,
        (When::Date { .. }, When::Utc { at }) => When::Date {
            date: zone.local(at).date(),
        },
        (When::Date { .. }, other) => When::Date {
            date: other.naive().date(),
        },
        (_, When::Date { date }) => like.with_naive(date.and_time(like.naive().time())),
        _ => v,
    }
}

/// "the VEVENT at line 12 (UID abc)", for warnings: the line and the UID find the event in the file, and
/// the title stays out because warnings go to stderr and the log.
fn describe(ev: &EventRef<'_, '_>) -> String {
    let uid = ev
        .lines
        .iter()
        .find(|l| l.is("UID"))
        .map(|l| l.text_value().trim().to_string());
    match uid {
        Some(u) => format!("the VEVENT at line {} (UID {u})", ev.line_no),
        None => format!("the VEVENT at line {}", ev.line_no),
    }
}
