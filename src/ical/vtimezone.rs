//! VTIMEZONE (RFC 5545 §3.6.5): the file's own description of a zone, used when a TZID is not a name
//! [`Zone::parse`] knows (Exchange's "Customized Time Zone", Outlook's display names, "US-Eastern").
//!
//! Concepts:
//! - An observance (STANDARD or DAYLIGHT) switches to `TZOFFSETTO` at its onsets: its DTSTART (a local time
//!   in `TZOFFSETFROM`), each RDATE, and each instance of its RRULE. The offset at an instant is the
//!   `TZOFFSETTO` of the latest onset at or before it.
//! - Only the yearly rule shapes that VTIMEZONEs use in practice are understood: `FREQ=YEARLY;BYMONTH=m` with
//!   `BYDAY=nDD` (n from -5 to 5), or `BYDAY=DD` with a `BYMONTHDAY` list (the "second Sunday on or after the
//!   8th" style of older producers), or a single `BYMONTHDAY`; `UNTIL` and `COUNT` are honoured.
//! - [`VTimezone::match_iana`] picks the IANA zone whose offsets agree with the VTIMEZONE at sample instants
//!   of a reference year (mid-month and an hour either side of each onset), so that events keep their
//!   wall-clock time across DST with the real zone rules. When none agrees, [`VTimezone::to_utc`] reads a
//!   local time with the VTIMEZONE's own offsets.

use super::lexer::ContentLine;
use super::values::{parse_time, parse_utc_offset, RawTime};
use crate::time::Zone;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Utc, Weekday};

#[derive(Clone, Debug, Default)]
pub(crate) struct VTimezone {
    pub tzid: String,
    pub observances: Vec<Observance>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Observance {
    pub start: Option<NaiveDateTime>,
    pub offset_from: Option<i32>,
    pub offset_to: Option<i32>,
    pub rule: Option<YearlyRule>,
    pub rdates: Vec<NaiveDateTime>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DaySpec {
    /// The nth weekday of the month (negative counts from the end).
    Nth(i32, Weekday),
    /// The first given weekday on or after a day of the month.
    OnOrAfter(u32, Weekday),
    /// A fixed day of the month.
    MonthDay(u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct YearlyRule {
    pub month: u32,
    pub day: DaySpec,
    pub until: Option<DateTime<Utc>>,
    pub count: Option<u32>,
}

/// One switch to a new offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Onset {
    at: DateTime<Utc>,
    offset: i32,
}

impl Observance {
    /// Applies one property line of a STANDARD or DAYLIGHT block.
    pub fn apply(&mut self, line: &ContentLine<'_>) {
        let name = line.name();
        if name.eq_ignore_ascii_case("DTSTART") {
            self.start = parse_time(line.value()).map(|t| match t {
                RawTime::Date(d) => d.and_time(chrono::NaiveTime::MIN),
                RawTime::DateTime { local, .. } => local,
            });
        } else if name.eq_ignore_ascii_case("TZOFFSETFROM") {
            self.offset_from = parse_utc_offset(line.value());
        } else if name.eq_ignore_ascii_case("TZOFFSETTO") {
            self.offset_to = parse_utc_offset(line.value());
        } else if name.eq_ignore_ascii_case("RRULE") {
            self.rule = parse_yearly_rule(line.value());
        } else if name.eq_ignore_ascii_case("RDATE") {
            for v in line.value().split(',') {
                // A PERIOD value starts with its DATE-TIME.
                let v = v.split('/').next().unwrap_or(v);
                if let Some(RawTime::DateTime { local, .. }) = parse_time(v) {
                    self.rdates.push(local);
                }
            }
        }
    }

    fn to(&self) -> Option<i32> {
        self.offset_to
    }

    fn from(&self) -> i32 {
        self.offset_from.or(self.offset_to).unwrap_or(0)
    }

    /// Onsets of this observance in a calendar year (by local date).
    fn onsets_in(&self, year: i32, out: &mut Vec<Onset>) {
        let (Some(start), Some(to)) = (self.start, self.to()) else {
            return;
        };
        let from = Duration::seconds(i64::from(self.from()));
        if start.year() == year {
            out.push(Onset {
                at: (start - from).and_utc(),
                offset: to,
            });
        }
        for r in &self.rdates {
            if r.year() == year {
                out.push(Onset {
                    at: (*r - from).and_utc(),
                    offset: to,
                });
            }
        }
        if let Some(rule) = self.rule {
            if year < start.year() {
                return;
            }
            if let Some(count) = rule.count {
                // A yearly rule's kth instance is in start.year + k (the DTSTART is the first).
                if (year - start.year()) as i64 >= i64::from(count) {
                    return;
                }
            }
            let Some(date) = rule_date(year, rule.month, rule.day) else {
                return;
            };
            let local = date.and_time(start.time());
            if local <= start {
                return;
            }
            let at = (local - from).and_utc();
            if rule.until.is_some_and(|u| at > u) {
                return;
            }
            out.push(Onset { at, offset: to });
        }
    }

    /// Every onset at or before `t`, latest only, for observances without a rule (any year).
    fn latest_fixed_onset(&self, t: DateTime<Utc>) -> Option<Onset> {
        let (start, to) = (self.start?, self.to()?);
        let from = Duration::seconds(i64::from(self.from()));
        std::iter::once(start)
            .chain(self.rdates.iter().copied())
            .map(|l| Onset {
                at: (l - from).and_utc(),
                offset: to,
            })
            .filter(|o| o.at <= t)
            .max_by_key(|o| o.at)
    }
}

fn weekday(code: &str) -> Option<Weekday> {
    crate::time::ical_weekday(code)
}

/// Parses the yearly rule shapes VTIMEZONEs use (see the module doc). Anything else gives `None`, and
/// the observance then counts only at its DTSTART and RDATEs.
fn parse_yearly_rule(value: &str) -> Option<YearlyRule> {
    // A valid RECUR value is ASCII; checking first makes the byte slicing below safe on any input.
    if !value.is_ascii() {
        return None;
    }
    let mut freq_yearly = false;
    let mut month = None;
    let mut byday: Option<(i32, Weekday)> = None;
    let mut monthdays: Vec<u32> = Vec::new();
    let mut until = None;
    let mut count = None;
    for part in value.trim().trim_end_matches(';').split(';') {
        let (k, v) = part.split_once('=')?;
        let v = v.trim().to_ascii_uppercase();
        match k.trim().to_ascii_uppercase().as_str() {
            "FREQ" => freq_yearly = v == "YEARLY",
            "BYMONTH" => month = v.parse::<u32>().ok(),
            "BYDAY" => {
                let (n, code) = v.split_at(v.len().checked_sub(2)?);
                let n = if n.is_empty() {
                    0
                } else {
                    n.trim_start_matches('+').parse().ok()?
                };
                byday = Some((n, weekday(code)?));
            }
            "BYMONTHDAY" => {
                for d in v.split(',') {
                    monthdays.push(d.parse().ok()?);
                }
            }
            "UNTIL" => {
                until = match parse_time(&v)? {
                    RawTime::Date(d) => Some(d.and_time(chrono::NaiveTime::MIN).and_utc()),
                    // §3.3.10: in a VTIMEZONE, UNTIL must be UTC; read a local one as UTC too.
                    RawTime::DateTime { local, .. } => Some(local.and_utc()),
                }
            }
            "COUNT" => count = v.parse().ok(),
            "INTERVAL" if v != "1" => return None,
            _ => {}
        }
    }
    if !freq_yearly {
        return None;
    }
    let month = month?;
    let day = match (byday, monthdays.as_slice()) {
        (Some((0, wd)), [first, ..]) => DaySpec::OnOrAfter(*first, wd),
        (Some((n, wd)), _) if n != 0 => DaySpec::Nth(n, wd),
        (None, [d]) => DaySpec::MonthDay(*d),
        _ => return None,
    };
    Some(YearlyRule {
        month,
        day,
        until,
        count,
    })
}

fn rule_date(year: i32, month: u32, day: DaySpec) -> Option<NaiveDate> {
    match day {
        DaySpec::MonthDay(d) => NaiveDate::from_ymd_opt(year, month, d),
        DaySpec::OnOrAfter(d, wd) => {
            let first = NaiveDate::from_ymd_opt(year, month, d)?;
            let shift =
                (7 + wd.num_days_from_monday() - first.weekday().num_days_from_monday()) % 7;
            first.checked_add_signed(Duration::days(i64::from(shift)))
        }
        DaySpec::Nth(n, wd) if n > 0 => {
            NaiveDate::from_weekday_of_month_opt(year, month, wd, n as u8).or_else(|| {
                // n = 5 in a month with four: the last one, as Windows' "fifth week" means.
                last_weekday(year, month, wd)
            })
        }
        DaySpec::Nth(n, wd) => {
            let last = last_weekday(year, month, wd)?;
            last.checked_sub_signed(Duration::weeks(i64::from(-n - 1)))
                .filter(|d| d.month() == month)
        }
    }
}

fn last_weekday(year: i32, month: u32, wd: Weekday) -> Option<NaiveDate> {
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)?
    };
    let last = next.pred_opt()?;
    let back = (7 + last.weekday().num_days_from_monday() - wd.num_days_from_monday()) % 7;
    last.checked_sub_signed(Duration::days(i64::from(back)))
}

/// Zones tried first when matching, so a VTIMEZONE that fits many zones gets the familiar one.
const PREFERRED: &[&str] = &[
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Halifax",
    "America/St_Johns",
    "America/Sao_Paulo",
    "America/Mexico_City",
    "America/Bogota",
    "America/Santiago",
    "Europe/Lisbon",
    "Europe/Helsinki",
    "Europe/Athens",
    "Europe/Moscow",
    "Europe/Istanbul",
    "Asia/Jerusalem",
    "Africa/Cairo",
    "Africa/Johannesburg",
    "Asia/Dubai",
    "Asia/Tehran",
    "Asia/Karachi",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Dhaka",
    "Asia/Bangkok",
    "Asia/Shanghai",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Australia/Perth",
    "Australia/Adelaide",
    "Australia/Darwin",
    "Australia/Brisbane",
    "Australia/Sydney",
    "Australia/Hobart",
    "Pacific/Auckland",
];

impl VTimezone {
    /// Whether the VTIMEZONE has at least one usable observance.
    pub fn is_usable(&self) -> bool {
        self.observances
            .iter()
            .any(|o| o.start.is_some() && o.offset_to.is_some())
    }

    /// The offset (seconds east of UTC) in force at an instant, per the VTIMEZONE's observances.
    pub fn offset_at(&self, t: DateTime<Utc>) -> i32 {
        let mut best: Option<Onset> = None;
        let consider = |best: &mut Option<Onset>, o: Onset| {
            if o.at <= t && best.is_none_or(|b| o.at > b.at) {
                *best = Some(o);
            }
        };
        let mut buf = Vec::new();
        for obs in &self.observances {
            if obs.rule.is_some() {
                buf.clear();
                obs.onsets_in(t.year() - 1, &mut buf);
                obs.onsets_in(t.year(), &mut buf);
                obs.onsets_in(t.year() + 1, &mut buf);
                for o in &buf {
                    consider(&mut best, *o);
                }
            }
            if let Some(o) = obs.latest_fixed_onset(t) {
                consider(&mut best, o);
            }
        }
        if best.is_none() {
            // A rule whose onsets all lie further back (UNTIL long ago): walk back a year at a time.
            let earliest = self
                .observances
                .iter()
                .filter_map(|o| o.start.map(|s| s.year()))
                .min()
                .unwrap_or(t.year());
            let mut y = t.year() - 2;
            while best.is_none() && y >= earliest && t.year() - y < 400 {
                for obs in &self.observances {
                    buf.clear();
                    obs.onsets_in(y, &mut buf);
                    for o in &buf {
                        consider(&mut best, *o);
                    }
                }
                y -= 1;
            }
        }
        match best {
            Some(o) => o.offset,
            // Before the first onset §3.6.5 leaves it undefined; the earliest observance's TZOFFSETFROM is
            // what was in force then.
            None => self
                .observances
                .iter()
                .filter(|o| o.start.is_some())
                .min_by_key(|o| o.start)
                .map(|o| o.from())
                .unwrap_or(0),
        }
    }

    /// Reads a wall-clock time with the VTIMEZONE's offsets: the earlier instant when it is ambiguous, and
    /// the offset from before a gap when it does not exist (RFC 5545 §3.3.5).
    pub fn to_utc(&self, local: NaiveDateTime) -> DateTime<Utc> {
        let mut offsets: Vec<i32> = self
            .observances
            .iter()
            .flat_map(|o| [o.offset_to, o.offset_from])
            .flatten()
            .collect();
        offsets.sort_unstable_by(|a, b| b.cmp(a));
        offsets.dedup();
        for o in &offsets {
            let at = (local - Duration::seconds(i64::from(*o))).and_utc();
            if self.offset_at(at) == *o {
                return at;
            }
        }
        let before = self.offset_at((local - Duration::days(1)).and_utc());
        (local - Duration::seconds(i64::from(before))).and_utc()
    }

    /// The IANA zone that agrees with this VTIMEZONE around `year`, if one does.
    pub fn match_iana(&self, year: i32) -> Option<Zone> {
        if !self.is_usable() {
            return None;
        }
        let mut samples: Vec<DateTime<Utc>> = Vec::with_capacity(40);
        for y in [year - 1, year] {
            for m in 1..=12 {
                for d in [1, 15] {
                    if let Some(t) =
                        NaiveDate::from_ymd_opt(y, m, d).and_then(|d| d.and_hms_opt(12, 0, 0))
                    {
                        samples.push(t.and_utc());
                    }
                }
            }
            let mut onsets = Vec::new();
            for obs in &self.observances {
                obs.onsets_in(y, &mut onsets);
            }
            for o in onsets {
                samples.push(o.at - Duration::hours(1));
                samples.push(o.at + Duration::hours(1));
            }
        }
        let expected: Vec<i32> = samples.iter().map(|t| self.offset_at(*t)).collect();
        let fits = |z: Zone| {
            samples
                .iter()
                .zip(&expected)
                .all(|(t, e)| z.offset_seconds(*t) == *e)
        };
        // A hint in the TZID itself: "custom_America/New_York", "(UTC+01:00) Amsterdam, Berlin, ...".
        let tzid = self.tzid.to_ascii_lowercase().replace(' ', "_");
        let hinted = Zone::all_names().filter(|n| {
            let lower = n.to_ascii_lowercase();
            let city = lower.rsplit('/').next().unwrap_or(&lower);
            n.contains('/') && (tzid.contains(&lower) || (city.len() > 3 && tzid.contains(city)))
        });
        for name in hinted {
            if let Some(z) = Zone::parse(name).filter(|z| fits(*z)) {
                return Some(z);
            }
        }
        // A fixed offset of whole hours is an Etc/GMT zone (whose sign is inverted, by POSIX convention).
        if expected.windows(2).all(|w| w[0] == w[1]) {
            if let Some(&off) = expected.first() {
                if off == 0 {
                    return Some(Zone::UTC);
                }
                if off % 3600 == 0 {
                    let h = -off / 3600;
                    let name = format!("Etc/GMT{}{}", if h > 0 { "+" } else { "-" }, h.abs());
                    if let Some(z) = Zone::parse(&name).filter(|z| fits(*z)) {
                        return Some(z);
                    }
                }
            }
        }
        PREFERRED
            .iter()
            .copied()
            .chain(Zone::all_names())
            .filter_map(Zone::parse)
            .find(|z| fits(*z))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nth_weekday_rules() {
        // Second Sunday of March 2024 is the 10th; last Sunday of October 2024 is the 27th.
        assert_eq!(
            rule_date(2024, 3, DaySpec::Nth(2, Weekday::Sun)),
            NaiveDate::from_ymd_opt(2024, 3, 10)
        );
        assert_eq!(
            rule_date(2024, 10, DaySpec::Nth(-1, Weekday::Sun)),
            NaiveDate::from_ymd_opt(2024, 10, 27)
        );
        assert_eq!(
            rule_date(2024, 3, DaySpec::OnOrAfter(8, Weekday::Sun)),
            NaiveDate::from_ymd_opt(2024, 3, 10)
        );
    }
}
