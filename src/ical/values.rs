//! Value types of RFC 5545 §3.3: DATE, DATE-TIME, DURATION, UTC-OFFSET, parsed by hand (no format strings,
//! no regexes) because an import reads tens of thousands of them.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

/// A DATE or DATE-TIME value before its zone is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RawTime {
    Date(NaiveDate),
    /// A DATE-TIME; `utc` is true for the `Z` form (§3.3.5 form #2).
    DateTime {
        local: NaiveDateTime,
        utc: bool,
    },
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() {
        return None;
    }
    let mut n: u32 = 0;
    for d in b {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u32::from(d - b'0'))?;
    }
    Some(n)
}

/// `YYYYMMDD` (§3.3.4).
pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 8 {
        return None;
    }
    let y = digits(&b[0..4])?;
    NaiveDate::from_ymd_opt(y as i32, digits(&b[4..6])?, digits(&b[6..8])?)
}

/// `YYYYMMDD` or `YYYYMMDDTHHMMSS[Z]` (§3.3.4, §3.3.5). Also accepts a missing seconds field
/// (`YYYYMMDDTHHMM`), which some hand-written files have, and a leap second 60 read as 59.
pub(crate) fn parse_time(s: &str) -> Option<RawTime> {
    let s = s.trim();
    // Every valid form is ASCII; checking first makes the byte slicing below safe on any input.
    if !s.is_ascii() {
        return None;
    }
    if s.len() == 8 {
        return parse_date(s).map(RawTime::Date);
    }
    // A DATE with a stray 'Z' (Google birthday calendars write RDATE:20131210Z).
    if s.len() == 9 && s.ends_with(['Z', 'z']) {
        return parse_date(&s[..8]).map(RawTime::Date);
    }
    let (body, utc) = match s.strip_suffix(['Z', 'z']) {
        Some(b) => (b, true),
        None => (s, false),
    };
    let b = body.as_bytes();
    if b.len() < 13 || !(b[8] == b'T' || b[8] == b't') {
        return None;
    }
    let date = parse_date(&body[..8])?;
    let h = digits(&b[9..11])?;
    let m = digits(&b[11..13])?;
    let sec = match b.len() {
        13 => 0,
        15 => digits(&b[13..15])?.min(59),
        _ => return None,
    };
    // §3.3.5 allows 24:00:00? No: hour is 00-23. Some producers write T240000 for midnight of the next day.
    let local = if h == 24 && m == 0 && sec == 0 {
        date.succ_opt()?.and_time(NaiveTime::MIN)
    } else {
        date.and_time(NaiveTime::from_hms_opt(h, m, sec)?)
    };
    Some(RawTime::DateTime { local, utc })
}

/// A DURATION (§3.3.6): a nominal part in days (weeks are 7 days) and an exact part in seconds, kept apart
/// because §3.3.6 says a day is nominal (it keeps the wall-clock time across DST) while hours are exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IcalDuration {
    pub days: i64,
    pub seconds: i64,
}

/// `[+-]P(nW | nD [T nH nM nS] | T nH nM nS)`. Lenient: accepts parts in any combination (`P1DT2H`,
/// `PT90M`, `P1W2D` which Google has written).
pub(crate) fn parse_duration(s: &str) -> Option<IcalDuration> {
    let s = s.trim();
    let (neg, rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let rest = rest.strip_prefix(['P', 'p'])?;
    let mut days: i64 = 0;
    let mut seconds: i64 = 0;
    let mut in_time = false;
    let mut num: Option<i64> = None;
    let mut any = false;
    for c in rest.bytes() {
        match c {
            b'0'..=b'9' => {
                let n = num.unwrap_or(0);
                num = Some(n.checked_mul(10)?.checked_add(i64::from(c - b'0'))?);
            }
            b'T' | b't' => in_time = true,
            unit => {
                let n = num.take()?;
                any = true;
                match (unit.to_ascii_uppercase(), in_time) {
                    (b'W', false) => days = days.checked_add(n.checked_mul(7)?)?,
                    (b'D', false) => days = days.checked_add(n)?,
                    (b'H', true) => seconds = seconds.checked_add(n.checked_mul(3600)?)?,
                    (b'M', true) => seconds = seconds.checked_add(n.checked_mul(60)?)?,
                    (b'S', true) => seconds = seconds.checked_add(n)?,
                    _ => return None,
                }
            }
        }
    }
    if num.is_some() || !any {
        return None;
    }
    // Bound to a sane span so later date arithmetic cannot overflow.
    if days.abs() > 366 * 1000 || seconds.abs() > 86_400 * 366 * 1000 {
        return None;
    }
    if neg {
        days = -days;
        seconds = -seconds;
    }
    Some(IcalDuration { days, seconds })
}

/// Formats a duration for DURATION-like output (not used by the writer, which always writes DTEND).
#[cfg(test)]
pub(crate) fn format_duration(d: &IcalDuration) -> String {
    format!("P{}DT{}S", d.days, d.seconds)
}

/// UTC-OFFSET (§3.3.14): `+HHMM` or `+HHMMSS`, in seconds east of UTC.
pub(crate) fn parse_utc_offset(s: &str) -> Option<i32> {
    let s = s.trim();
    let b = s.as_bytes();
    let sign = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let body = &b[1..];
    let (h, m, sec) = match body.len() {
        4 => (digits(&body[0..2])?, digits(&body[2..4])?, 0),
        6 => (
            digits(&body[0..2])?,
            digits(&body[2..4])?,
            digits(&body[4..6])?,
        ),
        _ => return None,
    };
    if h > 23 || m > 59 || sec > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60 + sec) as i32)
}

/// Formats a UTC-OFFSET (§3.3.14).
pub(crate) fn format_utc_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let a = seconds.unsigned_abs();
    let (h, m, s) = (a / 3600, (a % 3600) / 60, a % 60);
    if s == 0 {
        format!("{sign}{h:02}{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(
            parse_duration("PT1H30M"),
            Some(IcalDuration {
                days: 0,
                seconds: 5400
            })
        );
        assert_eq!(
            parse_duration("-P1W"),
            Some(IcalDuration {
                days: -7,
                seconds: 0
            })
        );
        assert_eq!(
            parse_duration("P1DT12H"),
            Some(IcalDuration {
                days: 1,
                seconds: 43200
            })
        );
        assert_eq!(parse_duration("P"), None);
        assert_eq!(parse_duration("PT5"), None);
        assert_eq!(
            format_duration(&IcalDuration {
                days: 1,
                seconds: 2
            }),
            "P1DT2S"
        );
    }

    #[test]
    fn offsets() {
        assert_eq!(parse_utc_offset("-0500"), Some(-18000));
        assert_eq!(parse_utc_offset("+0545"), Some(20700));
        assert_eq!(format_utc_offset(-18000), "-0500");
        assert_eq!(format_utc_offset(20700), "+0545");
    }

    #[test]
    fn times() {
        assert!(matches!(
            parse_time("20240102T030405Z"),
            Some(RawTime::DateTime { utc: true, .. })
        ));
        assert!(matches!(parse_time("20240102"), Some(RawTime::Date(_))));
        assert_eq!(parse_time("2024-01-02"), None);
    }
}
