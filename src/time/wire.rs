//! Stored times, read fast: serde `with` modules for the instants and wall-clock times inside an event's
//! stored JSON.
//!
//! Every listing decodes a page of events, each with four or more times, and chrono's general RFC 3339
//! parser (which accepts every variant the RFC allows) was a tenth of a window query. The store only ever
//! writes chrono's own canonical forms, `2026-06-24T12:45:00Z` and `2026-06-24T12:45:00`, so those exact
//! shapes are read digit by digit; anything else (fractional seconds, offsets, text written by hand) goes
//! to chrono, so the accepted set is unchanged. Writing takes the same shortcut for whole seconds and is
//! checked against chrono's own text, so what is stored is unchanged too.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::de::{self, Deserializer, Visitor};
use serde::{Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// `YYYY-MM-DDTHH:MM:SS` at the start of `s`, when it has exactly that shape and is a real date and time.
fn wall_clock(s: &[u8]) -> Option<NaiveDateTime> {
    if s.len() < 19
        || s[4] != b'-'
        || s[7] != b'-'
        || s[10] != b'T'
        || s[13] != b':'
        || s[16] != b':'
    {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        s[range].iter().try_fold(0u32, |n, &b| {
            b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
        })
    };
    let year = i32::try_from(num(0..4)?).ok()?;
    NaiveDate::from_ymd_opt(year, num(5..7)?, num(8..10)?)?.and_hms_opt(
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    )
}

/// Parses an instant: the canonical `...Z` form directly, everything else through chrono.
pub fn parse_utc(s: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    let b = s.as_bytes();
    if b.len() == 20 && b[19] == b'Z' {
        if let Some(t) = wall_clock(b) {
            return Ok(t.and_utc());
        }
    }
    DateTime::<Utc>::from_str(s)
}

/// Parses a wall-clock time: the canonical form directly, everything else through chrono.
pub fn parse_naive(s: &str) -> Result<NaiveDateTime, chrono::ParseError> {
    if s.len() == 19 {
        if let Some(t) = wall_clock(s.as_bytes()) {
            return Ok(t);
        }
    }
    NaiveDateTime::from_str(s)
}

/// Writes an instant as `YYYY-MM-DDTHH:MM:SSZ` (whole seconds), the form every listing shows; the same text
/// as chrono's `to_rfc3339_opts(SecondsFormat::Secs, true)`, without its general formatting machinery.
/// (Fractional seconds are dropped, as that format drops them.)
pub fn utc_string(t: DateTime<Utc>) -> String {
    match canonical(t.naive_utc()) {
        Some(mut b) => {
            b[19] = b'Z';
            std::str::from_utf8(&b)
                .map(str::to_owned)
                .unwrap_or_default()
        }
        None => t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    }
}

/// Writes `n` as `width` decimal digits at `at` (the caller checked it fits).
fn put(b: &mut [u8], at: usize, width: usize, mut n: u32) {
    for i in (at..at + width).rev() {
        b[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// `YYYY-MM-DDTHH:MM:SS` plus one spare byte, for whole-second times in years 0 to 9999 (everything the
/// calendar stores); `None` sends anything else to chrono.
fn canonical(t: NaiveDateTime) -> Option<[u8; 20]> {
    use chrono::{Datelike, Timelike};
    let (date, time) = (t.date(), t.time());
    let year = date.year();
    if !(0..=9999).contains(&year) || time.nanosecond() != 0 {
        return None;
    }
    let mut b = *b"0000-00-00T00:00:00 ";
    put(&mut b, 0, 4, year.unsigned_abs());
    put(&mut b, 5, 2, date.month());
    put(&mut b, 8, 2, date.day());
    put(&mut b, 11, 2, time.hour());
    put(&mut b, 14, 2, time.minute());
    put(&mut b, 17, 2, time.second());
    Some(b)
}

/// An instant in iCalendar's compact UTC form, `YYYYMMDDTHHMMSSZ` (fractional seconds dropped): the key of
/// every materialized series instance, so it is written without chrono's format-string machinery.
pub fn compact_utc(t: DateTime<Utc>) -> String {
    use chrono::{Datelike, Timelike};
    let (date, time) = (t.date_naive(), t.time());
    let year = date.year();
    if !(0..=9999).contains(&year) {
        return t.format("%Y%m%dT%H%M%SZ").to_string();
    }
    let mut b = *b"00000000T000000Z";
    put(&mut b, 0, 4, year.unsigned_abs());
    put(&mut b, 4, 2, date.month());
    put(&mut b, 6, 2, date.day());
    put(&mut b, 9, 2, time.hour());
    put(&mut b, 11, 2, time.minute());
    // A leap second is written as 60, as chrono writes it.
    put(
        &mut b,
        13,
        2,
        time.second() + u32::from(time.nanosecond() >= 1_000_000_000),
    );
    std::str::from_utf8(&b)
        .map(str::to_owned)
        .unwrap_or_default()
}

/// A date in iCalendar's compact form, `YYYYMMDD`.
pub fn compact_date(d: NaiveDate) -> String {
    use chrono::Datelike;
    let year = d.year();
    if !(0..=9999).contains(&year) {
        return d.format("%Y%m%d").to_string();
    }
    let mut b = *b"00000000";
    put(&mut b, 0, 4, year.unsigned_abs());
    put(&mut b, 4, 2, d.month());
    put(&mut b, 6, 2, d.day());
    std::str::from_utf8(&b)
        .map(str::to_owned)
        .unwrap_or_default()
}

struct StrVisitor<T>(fn(&str) -> Result<T, chrono::ParseError>, &'static str);

impl<T> Visitor<'_> for StrVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.1)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        (self.0)(v).map_err(E::custom)
    }
}

/// `#[serde(with = "crate::time::wire::utc")]` for a `DateTime<Utc>`.
pub mod utc {
    use super::*;

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        match canonical(t.naive_utc()) {
            Some(mut b) => {
                b[19] = b'Z';
                s.serialize_str(std::str::from_utf8(&b).map_err(serde::ser::Error::custom)?)
            }
            None => t.serialize(s),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        d.deserialize_str(StrVisitor(parse_utc, "an RFC 3339 instant"))
    }
}

/// `#[serde(with = "crate::time::wire::naive")]` for a `NaiveDateTime`.
pub mod naive {
    use super::*;

    pub fn serialize<S: Serializer>(t: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
        match canonical(*t) {
            Some(b) => {
                s.serialize_str(std::str::from_utf8(&b[..19]).map_err(serde::ser::Error::custom)?)
            }
            None => t.serialize(s),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDateTime, D::Error> {
        d.deserialize_str(StrVisitor(parse_naive, "a date and time without a zone"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::Deserialize;

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Both {
        #[serde(with = "utc")]
        at: DateTime<Utc>,
        #[serde(with = "naive")]
        local: NaiveDateTime,
    }

    proptest! {
        #[test]
        fn the_fast_path_reads_what_chrono_writes_and_agrees_with_chrono(
            secs in -62_000_000_000i64..250_000_000_000i64
        ) {
            let at = DateTime::from_timestamp(secs, 0).expect("in chrono's range");
                let v = Both { at, local: at.naive_utc() };
            let json = serde_json::to_string(&v).expect("serializes");
            let chrono_json = format!(
                r#"{{"at":{},"local":{}}}"#,
                serde_json::to_string(&at).expect("serializes"),
                serde_json::to_string(&at.naive_utc()).expect("serializes")
            );
            prop_assert_eq!(&json, &chrono_json, "the stored text is chrono's own");
            let back: Both = serde_json::from_str(&json).expect("reads back");
            prop_assert_eq!(back, v, "what is written reads back to the same instant and wall clock");
        }

        #[test]
        fn any_text_parses_exactly_as_chrono_parses_it(
            s in "[0-9T:Z+. -]{15,25}|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z?"
        ) {
            prop_assert_eq!(
                parse_utc(&s).ok(),
                DateTime::<Utc>::from_str(&s).ok(),
                "the fast path must accept and reject exactly what chrono does for {:?}", s
            );
            prop_assert_eq!(
                parse_naive(&s).ok(),
                NaiveDateTime::from_str(&s).ok(),
                "the fast path must accept and reject exactly what chrono does for {:?}", s
            );
        }
    }

    proptest! {
        #[test]
        fn compact_forms_are_chrono_s(secs in -62_000_000_000i64..250_000_000_000i64) {
            let at = DateTime::from_timestamp(secs, 0).expect("in chrono's range");
            prop_assert_eq!(compact_utc(at), at.format("%Y%m%dT%H%M%SZ").to_string(), "instance keys keep their text");
            prop_assert_eq!(compact_date(at.date_naive()), at.date_naive().format("%Y%m%d").to_string(), "all-day keys keep their text");
        }

        #[test]
        fn utc_string_writes_what_chrono_writes(secs in -62_000_000_000i64..250_000_000_000i64) {
            let at = DateTime::from_timestamp(secs, 0).expect("in chrono's range");
            prop_assert_eq!(
                utc_string(at),
                at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "listings must show exactly the text chrono would"
            );
        }
    }

    #[test]
    fn fractional_seconds_are_written_by_chrono() {
        let at = DateTime::from_timestamp(1_764_000_000, 500_000_000).expect("in range");
        let v = Both {
            at,
            local: at.naive_utc(),
        };
        assert_eq!(
            serde_json::to_string(&v).ok(),
            Some(format!(
                r#"{{"at":{},"local":{}}}"#,
                serde_json::to_string(&at).expect("serializes"),
                serde_json::to_string(&at.naive_utc()).expect("serializes")
            )),
            "a time the fast path does not cover is written exactly as chrono writes it"
        );
    }

    #[test]
    fn impossible_dates_and_other_shapes_fall_back_to_chrono() {
        for s in [
            "2026-02-30T10:00:00Z",
            "2026-13-01T10:00:00Z",
            "2026-06-24T24:00:00Z",
            "2026-06-24T12:45:00.5Z",
            "2026-06-24T12:45:00+02:00",
            "2026-06-24 12:45:00Z",
        ] {
            assert_eq!(
                parse_utc(s).ok(),
                DateTime::<Utc>::from_str(s).ok(),
                "{s:?} must be judged by chrono, not accepted or refused by the fast path"
            );
        }
    }
}
