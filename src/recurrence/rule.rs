//! One RRULE value, parsed into its parts and checked against RFC 5545 §3.3.10, then handed to the `rrule`
//! crate as an explicit rule.
//!
//! Concepts:
//! - [`Rule`] is the parsed text. It keeps UNTIL as the source wrote it ([`Until`]): a date, a local date-time
//!   (no `Z`; common in real files although §3.3.10 wants UTC when DTSTART has a zone) or a UTC date-time.
//!   The caller turns it into the series' wall-clock frame, because rrule 0.14 refuses a local UNTIL with a
//!   zoned DTSTART.
//! - Every check names the rule part at fault in [`RecurrenceError::part`], and the message says what is
//!   expected, because the create command shows it to users.
//! - [`Rule::to_rrule`] fills in the parts that RFC 5545 derives from DTSTART (the month day of a MONTHLY
//!   rule, the weekday of a WEEKLY rule, the time of day of a DAILY rule, ...) from the *original* DTSTART,
//!   so that the rule can then be started from a later, period-aligned point without changing its
//!   instances. That is how expansion skips years of past instances cheaply.
//! - Lenient parsing (files and providers) keeps two kinds of rule that §3.3.10 forbids but real calendars
//!   hold: a BYxxx part its FREQ does not allow (BYWEEKNO without YEARLY, BYYEARDAY with DAILY, WEEKLY or
//!   MONTHLY, BYMONTHDAY with WEEKLY), listed in [`Rule::off_spec`], and an INTERVAL over 65535 (the RFC
//!   sets no bound; the rrule crate takes a u16). [`Rule::needs_filter`] sends such a rule to
//!   `lenient.rs`, which applies the part as a filter on what the FREQ produces. Strict parsing (the create
//!   command) still refuses both, so Punctual never writes one.

use super::RecurrenceError;
use chrono::{
    DateTime, Datelike, Month, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc, Weekday,
};
use rrule::{Frequency, NWeekday, RRule};

/// UNTIL as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Until {
    /// `UNTIL=20261231`: inclusive of that whole day.
    Date(NaiveDate),
    /// `UNTIL=20261231T090000`: a wall-clock time in the series' own frame.
    Local(NaiveDateTime),
    /// `UNTIL=20261231T140000Z`.
    Utc(DateTime<Utc>),
}

/// A parsed RRULE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rule {
    pub freq: Frequency,
    pub interval: u64,
    pub count: Option<u32>,
    pub until: Option<Until>,
    pub wkst: Weekday,
    pub by_set_pos: Vec<i32>,
    pub by_month: Vec<u8>,
    pub by_month_day: Vec<i8>,
    pub by_year_day: Vec<i16>,
    pub by_week_no: Vec<i8>,
    pub by_day: Vec<NWeekday>,
    pub by_hour: Vec<u8>,
    pub by_minute: Vec<u8>,
    pub by_second: Vec<u8>,
    /// Parts that were ignored in lenient mode (X- names, RSCALE, SKIP), for warnings.
    pub ignored: Vec<String>,
    /// Why the rule breaks §3.3.10 in a way lenient mode expands anyway, for warnings.
    pub off_spec: Vec<String>,
}

const FREQS: &str = "SECONDLY, MINUTELY, HOURLY, DAILY, WEEKLY, MONTHLY or YEARLY";
const PARTS: &str = "FREQ, UNTIL, COUNT, INTERVAL, BYSECOND, BYMINUTE, BYHOUR, BYDAY, BYMONTHDAY, \
                     BYYEARDAY, BYWEEKNO, BYMONTH, BYSETPOS or WKST";

fn err(part: &str, message: String) -> RecurrenceError {
    RecurrenceError {
        part: Some(part.to_string()),
        message,
    }
}

/// Parses a comma-separated list of integers, each in `range` and not zero unless `zero_ok`.
fn int_list<T>(
    part: &str,
    value: &str,
    lo: i64,
    hi: i64,
    zero_ok: bool,
    expected: &str,
) -> Result<Vec<T>, RecurrenceError>
where
    T: TryFrom<i64>,
{
    let bad = || {
        err(
            part,
            format!(
                "{part}={value} is not valid: {part} must be a comma-separated list of {expected}"
            ),
        )
    };
    if value.trim().is_empty() {
        return Err(bad());
    }
    let mut out = Vec::new();
    for item in value.split(',') {
        let item = item.trim();
        let item = item.strip_prefix('+').unwrap_or(item);
        let n: i64 = item.parse().map_err(|_| bad())?;
        if n < lo || n > hi || (n == 0 && !zero_ok) {
            return Err(bad());
        }
        out.push(T::try_from(n).map_err(|_| bad())?);
    }
    Ok(out)
}

fn weekday(code: &str) -> Option<Weekday> {
    crate::time::ical_weekday(code)
}

fn by_day(value: &str) -> Result<Vec<NWeekday>, RecurrenceError> {
    let bad = |item: &str| {
        err(
            "BYDAY",
            format!(
                "BYDAY value {item:?} is not valid: expected weekdays MO, TU, WE, TH, FR, SA or SU, each \
                 optionally preceded by a position such as 1MO (first Monday) or -1FR (last Friday)"
            ),
        )
    };
    let mut out = Vec::new();
    for item in value.split(',') {
        let item = item.trim().to_ascii_uppercase();
        if item.len() < 2 {
            return Err(bad(&item));
        }
        let (num, code) = item.split_at(item.len() - 2);
        let day = weekday(code).ok_or_else(|| bad(&item))?;
        if num.is_empty() {
            out.push(NWeekday::Every(day));
        } else {
            let digits = num.strip_prefix('+').unwrap_or(num);
            let n: i16 = digits.parse().map_err(|_| bad(&item))?;
            if n == 0 || !(-53..=53).contains(&n) {
                return Err(bad(&item));
            }
            out.push(NWeekday::Nth(n, day));
        }
    }
    Ok(out)
}

fn until(value: &str) -> Result<Until, RecurrenceError> {
    let v = value.trim();
    let bad = || {
        err(
            "UNTIL",
            format!(
                "UNTIL={v} is not valid: expected a date such as 20261231 or a date-time such as \
                 20261231T235959Z (UTC) or 20261231T235959 (local)"
            ),
        )
    };
    match v.len() {
        8 => NaiveDate::parse_from_str(v, "%Y%m%d")
            .map(Until::Date)
            .map_err(|_| bad()),
        15 => NaiveDateTime::parse_from_str(v, "%Y%m%dT%H%M%S")
            .map(Until::Local)
            .map_err(|_| bad()),
        16 if v.ends_with('Z') || v.ends_with('z') => {
            NaiveDateTime::parse_from_str(&v[..15], "%Y%m%dT%H%M%S")
                .map(|t| Until::Utc(t.and_utc()))
                .map_err(|_| bad())
        }
        _ => Err(bad()),
    }
}

impl Rule {
    /// Parses one RRULE value (an optional `RRULE:` prefix is accepted). `strict` rejects parts that RFC 5545
    /// does not define; lenient parsing (for files from other programs) ignores X- names, RSCALE and SKIP.
    pub(crate) fn parse(text: &str, strict: bool) -> Result<Rule, RecurrenceError> {
        let mut text = text.trim();
        if text.len() >= 6 && text[..6].eq_ignore_ascii_case("RRULE:") {
            text = &text[6..];
        }
        let mut seen: Vec<String> = Vec::new();
        let mut rule = Rule {
            freq: Frequency::Daily,
            interval: 1,
            count: None,
            until: None,
            wkst: Weekday::Mon,
            by_set_pos: vec![],
            by_month: vec![],
            by_month_day: vec![],
            by_year_day: vec![],
            by_week_no: vec![],
            by_day: vec![],
            by_hour: vec![],
            by_minute: vec![],
            by_second: vec![],
            ignored: vec![],
            off_spec: vec![],
        };
        let mut freq = None;
        for segment in text.split(';') {
            let segment = segment.trim();
            if segment.is_empty() {
                continue;
            }
            let Some((name, value)) = segment.split_once('=') else {
                let name = segment.to_ascii_uppercase();
                return Err(err(
                    &name,
                    format!(
                        "rule part {name:?} has no value: expected NAME=VALUE, e.g. FREQ=WEEKLY"
                    ),
                ));
            };
            let name = name.trim().to_ascii_uppercase();
            let value = value.trim();
            if seen.contains(&name) {
                return Err(err(
                    &name,
                    format!("{name} appears more than once: each rule part may be given only once"),
                ));
            }
            seen.push(name.clone());
            match name.as_str() {
                "FREQ" => {
                    freq = Some(match value.to_ascii_uppercase().as_str() {
                        "SECONDLY" => Frequency::Secondly,
                        "MINUTELY" => Frequency::Minutely,
                        "HOURLY" => Frequency::Hourly,
                        "DAILY" => Frequency::Daily,
                        "WEEKLY" => Frequency::Weekly,
                        "MONTHLY" => Frequency::Monthly,
                        "YEARLY" => Frequency::Yearly,
                        _ => {
                            return Err(err(
                                "FREQ",
                                format!("FREQ={value} is not a frequency: expected {FREQS}"),
                            ))
                        }
                    })
                }
                "INTERVAL" => {
                    let n: u64 = value.parse().map_err(|_| {
                        err(
                            "INTERVAL",
                            format!("INTERVAL={value} is not valid: expected a whole number from 1 to 65535"),
                        )
                    })?;
                    if n == 0 {
                        return Err(err(
                            "INTERVAL",
                            "INTERVAL=0 is not valid: expected a whole number from 1 to 65535 \
                             (1 means every period)"
                                .to_string(),
                        ));
                    }
                    if strict && n > u64::from(u16::MAX) {
                        return Err(err(
                            "INTERVAL",
                            format!("INTERVAL={value} is too large: expected a whole number from 1 to 65535"),
                        ));
                    }
                    rule.interval = n;
                }
                "COUNT" => {
                    let n: u64 = value.parse().map_err(|_| {
                        err(
                            "COUNT",
                            format!("COUNT={value} is not valid: expected a whole number of occurrences, at least 1"),
                        )
                    })?;
                    if n == 0 {
                        return Err(err(
                            "COUNT",
                            "COUNT=0 is not valid: expected a whole number of occurrences, at least 1"
                                .to_string(),
                        ));
                    }
                    rule.count = Some(u32::try_from(n).map_err(|_| {
                        err(
                            "COUNT",
                            format!("COUNT={value} is too large: expected at most 4294967295"),
                        )
                    })?);
                }
                "UNTIL" => rule.until = Some(until(value)?),
                "WKST" => {
                    rule.wkst = weekday(&value.to_ascii_uppercase()).ok_or_else(|| {
                        err(
                            "WKST",
                            format!(
                            "WKST={value} is not valid: expected one of MO, TU, WE, TH, FR, SA, SU"
                        ),
                        )
                    })?
                }
                "BYSECOND" => {
                    rule.by_second = int_list(
                        "BYSECOND",
                        value,
                        0,
                        59,
                        true,
                        "seconds from 0 to 59 (leap second 60 is not supported)",
                    )?
                }
                "BYMINUTE" => {
                    rule.by_minute =
                        int_list("BYMINUTE", value, 0, 59, true, "minutes from 0 to 59")?
                }
                "BYHOUR" => {
                    rule.by_hour = int_list("BYHOUR", value, 0, 23, true, "hours from 0 to 23")?
                }
                "BYDAY" => rule.by_day = by_day(value)?,
                "BYMONTHDAY" => {
                    rule.by_month_day = int_list(
                        "BYMONTHDAY",
                        value,
                        -31,
                        31,
                        false,
                        "days of the month from 1 to 31 or -31 to -1 (counting from the end)",
                    )?
                }
                "BYYEARDAY" => {
                    rule.by_year_day = int_list(
                        "BYYEARDAY",
                        value,
                        -366,
                        366,
                        false,
                        "days of the year from 1 to 366 or -366 to -1",
                    )?
                }
                "BYWEEKNO" => {
                    rule.by_week_no = int_list(
                        "BYWEEKNO",
                        value,
                        -53,
                        53,
                        false,
                        "ISO week numbers from 1 to 53 or -53 to -1",
                    )?
                }
                "BYMONTH" => {
                    rule.by_month = int_list("BYMONTH", value, 1, 12, false, "months from 1 to 12")?
                }
                "BYSETPOS" => {
                    rule.by_set_pos = int_list(
                        "BYSETPOS",
                        value,
                        -366,
                        366,
                        false,
                        "positions from 1 to 366 or -366 to -1 (e.g. -1 for the last)",
                    )?
                }
                other => {
                    let extension = other.starts_with("X-") || other == "RSCALE" || other == "SKIP";
                    if strict || !extension {
                        return Err(err(
                            other,
                            format!("{other} is not a rule part: expected one of {PARTS}"),
                        ));
                    }
                    rule.ignored.push(format!("{other}={value}"));
                }
            }
        }
        rule.freq = freq.ok_or_else(|| {
            err(
                "FREQ",
                format!(
                    "FREQ is missing: every rule needs FREQ={FREQS} (e.g. FREQ=WEEKLY;BYDAY=MO)"
                ),
            )
        })?;
        rule.check(strict)?;
        if rule.interval > u64::from(u16::MAX) {
            rule.off_spec.push(format!(
                "INTERVAL={} is over 65535; expanded period by period",
                rule.interval
            ));
        }
        Ok(rule)
    }

    /// The combinations RFC 5545 §3.3.10 forbids. Lenient parsing lets COUNT and UNTIL together through
    /// (some producers write both); the rule then ends at whichever comes first.
    fn check(&mut self, strict: bool) -> Result<(), RecurrenceError> {
        use Frequency::*;
        let f = self.freq;
        if strict && self.count.is_some() && self.until.is_some() {
            return Err(err(
                "COUNT",
                "COUNT and UNTIL cannot both be given (RFC 5545 §3.3.10): end the rule either after a \
                 number of occurrences or at a date"
                    .to_string(),
            ));
        }
        let numbered = self.by_day.iter().any(|d| matches!(d, NWeekday::Nth(..)));
        if numbered && !matches!(f, Monthly | Yearly) {
            return Err(err(
                "BYDAY",
                format!(
                    "BYDAY with a position (such as 1MO or -1FR) needs FREQ=MONTHLY or FREQ=YEARLY, not {f}: \
                     use plain weekdays (MO,WE) here"
                ),
            ));
        }
        if numbered && f == Yearly && !self.by_week_no.is_empty() {
            return Err(err(
                "BYDAY",
                "BYDAY with a position (such as 1MO) cannot be combined with BYWEEKNO: use plain weekdays"
                    .to_string(),
            ));
        }
        if f == Monthly {
            if let Some(NWeekday::Nth(n, _)) = self
                .by_day
                .iter()
                .find(|d| matches!(d, NWeekday::Nth(n, _) if !(-5..=5).contains(n)))
            {
                return Err(err(
                    "BYDAY",
                    format!("BYDAY position {n} is out of range for FREQ=MONTHLY: expected 1 to 5 or -5 to -1"),
                ));
            }
        }
        let mut notes = Vec::new();
        let mut forbidden = |part: &str, message: String| -> Result<(), RecurrenceError> {
            if strict {
                return Err(err(part, message));
            }
            notes.push(format!(
                "{message} (RFC 5545 §3.3.10); applied as a filter on what FREQ={f} produces"
            ));
            Ok(())
        };
        if !self.by_month_day.is_empty() && f == Weekly {
            forbidden(
                "BYMONTHDAY",
                "BYMONTHDAY cannot be used with FREQ=WEEKLY: use BYDAY, or FREQ=MONTHLY"
                    .to_string(),
            )?;
        }
        if !self.by_year_day.is_empty() && matches!(f, Daily | Weekly | Monthly) {
            forbidden(
                "BYYEARDAY",
                format!("BYYEARDAY cannot be used with FREQ={f}: expected FREQ=YEARLY (or finer than DAILY)"),
            )?;
        }
        if !self.by_week_no.is_empty() && f != Yearly {
            forbidden(
                "BYWEEKNO",
                format!("BYWEEKNO can only be used with FREQ=YEARLY, not {f}"),
            )?;
        }
        self.off_spec.extend(notes);
        if !self.by_set_pos.is_empty() {
            let other = !(self.by_month.is_empty()
                && self.by_month_day.is_empty()
                && self.by_year_day.is_empty()
                && self.by_week_no.is_empty()
                && self.by_day.is_empty()
                && self.by_hour.is_empty()
                && self.by_minute.is_empty()
                && self.by_second.is_empty());
            if !other {
                return Err(err(
                    "BYSETPOS",
                    "BYSETPOS needs another BYxxx part to choose from (e.g. BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1)"
                        .to_string(),
                ));
            }
        }
        Ok(())
    }

    /// Whether the rrule crate cannot expand this rule as written: a part its FREQ forbids, or an INTERVAL
    /// beyond its u16. Only lenient parsing lets such a rule through.
    pub(crate) fn needs_filter(&self) -> bool {
        self.off_spec_week_no()
            || self.off_spec_year_day()
            || self.off_spec_month_day()
            || self.interval > u64::from(u16::MAX)
    }

    pub(crate) fn off_spec_week_no(&self) -> bool {
        !self.by_week_no.is_empty() && self.freq != Frequency::Yearly
    }

    pub(crate) fn off_spec_year_day(&self) -> bool {
        !self.by_year_day.is_empty()
            && matches!(
                self.freq,
                Frequency::Daily | Frequency::Weekly | Frequency::Monthly
            )
    }

    pub(crate) fn off_spec_month_day(&self) -> bool {
        !self.by_month_day.is_empty() && self.freq == Frequency::Weekly
    }

    /// Builds the rrule crate's rule, started at `dt_start` (a wall-clock value in the series' frame, carried
    /// as UTC so that rrule never applies DST itself) with every part that RFC 5545 derives from DTSTART
    /// taken from `anchor`, the series' original DTSTART.
    pub(crate) fn to_rrule(
        &self,
        anchor: NaiveDateTime,
        dt_start: NaiveDateTime,
        count: Option<u32>,
        until: Option<NaiveDateTime>,
    ) -> Result<RRule, RecurrenceError> {
        use Frequency::*;
        let mut by_month = self.by_month.clone();
        let mut by_month_day = self.by_month_day.clone();
        let mut by_day = self.by_day.clone();
        let mut by_hour = self.by_hour.clone();
        let mut by_minute = self.by_minute.clone();
        let mut by_second = self.by_second.clone();
        // The same defaults rrule's own finalize step takes from DTSTART (RFC 5545 §3.3.10: "Information,
        // not contained in the rule, necessary to determine the various recurrence instance start time and
        // dates are derived from the Start Time ("DTSTART") component attribute").
        if self.by_week_no.is_empty()
            && self.by_year_day.is_empty()
            && by_month_day.is_empty()
            && by_day.is_empty()
        {
            match self.freq {
                Yearly => {
                    if by_month.is_empty() {
                        by_month = vec![anchor.month() as u8];
                    }
                    by_month_day = vec![anchor.day() as i8];
                }
                Monthly => by_month_day = vec![anchor.day() as i8],
                Weekly => by_day = vec![NWeekday::Every(anchor.weekday())],
                _ => {}
            }
        }
        if by_hour.is_empty() && self.freq < Hourly {
            by_hour = vec![anchor.hour() as u8];
        }
        if by_minute.is_empty() && self.freq < Minutely {
            by_minute = vec![anchor.minute() as u8];
        }
        if by_second.is_empty() && self.freq < Secondly {
            by_second = vec![anchor.second().min(59) as u8];
        }
        let months: Vec<Month> = by_month
            .iter()
            .filter_map(|m| Month::try_from(*m).ok())
            .collect();
        let mut r = RRule::new(self.freq)
            .interval(u16::try_from(self.interval).map_err(|_| {
                err(
                    "INTERVAL",
                    format!(
                        "INTERVAL={} is too large: expected a whole number from 1 to 65535",
                        self.interval
                    ),
                )
            })?)
            .week_start(self.wkst)
            .by_set_pos(self.by_set_pos.clone())
            .by_month(&months)
            .by_month_day(by_month_day)
            .by_year_day(self.by_year_day.clone())
            .by_week_no(self.by_week_no.clone())
            .by_weekday(by_day)
            .by_hour(by_hour)
            .by_minute(by_minute)
            .by_second(by_second);
        if let Some(c) = count {
            r = r.count(c);
        }
        if let Some(u) = until {
            r = r.until(carrier(u));
        }
        r.validate(carrier(dt_start)).map_err(from_rrule_error)
    }
}

/// A wall-clock value carried through rrule as UTC: rrule then does calendar arithmetic only, and DST is
/// applied afterwards by `Zone::resolve` (RFC 5545 §3.3.5).
pub(crate) fn carrier(t: NaiveDateTime) -> DateTime<rrule::Tz> {
    rrule::Tz::UTC.from_utc_datetime(&t)
}

/// Maps an rrule error to a part name where its message names one.
pub(crate) fn from_rrule_error(e: rrule::RRuleError) -> RecurrenceError {
    let message = e.to_string();
    let part = [
        "BYSETPOS",
        "BYMONTHDAY",
        "BYMONTH",
        "BYYEARDAY",
        "BYWEEKNO",
        "BYDAY",
        "BYHOUR",
        "BYMINUTE",
        "BYSECOND",
        "UNTIL",
        "INTERVAL",
        "COUNT",
        "WKST",
        "FREQ",
    ]
    .iter()
    .find(|p| message.contains(*p))
    .map(|p| p.to_string());
    RecurrenceError { part, message }
}
