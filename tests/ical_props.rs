//! Property tests for the iCalendar parser and writer: no input makes `parse` panic or loop, damage stays
//! local, and `write` → `parse` is the identity on every field export promises to keep.

// Tests report failure by panicking; STYLE.md's "no unwrap()" is for code outside tests.
#![allow(clippy::unwrap_used)]

use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
use proptest::prelude::*;
use punctual::ical::{self, ParseOptions};
use punctual::model::{Availability, ConferenceData, Event, EventStatus, Recurrence};
use punctual::time::{When, Zone};

fn opts() -> ParseOptions {
    ParseOptions {
        calendar_id: "p".to_string(),
        user_zone: Zone::parse("Europe/Paris").unwrap(),
        now: Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap(),
    }
}

const SAMPLE: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nX-WR-TIMEZONE:Europe/Berlin\r\nBEGIN:VTIMEZONE\r\nTZID:Custom\r\nBEGIN:STANDARD\r\nDTSTART:16010101T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART;TZID=Custom:20260105T090000\r\nDURATION:PT1H\r\nSUMMARY:Caf\u{e9} \\, ok\r\n  continued\r\nRRULE:FREQ=WEEKLY;COUNT=5\r\nEXDATE;TZID=Custom:20260112T090000\r\nBEGIN:VALARM\r\nTRIGGER:-PT5M\r\nEND:VALARM\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:a\r\nRECURRENCE-ID;TZID=Custom:20260119T090000\r\nDTSTART;VALUE=DATE:20260120\r\nATTENDEE;CN=\"x:y;z\":mailto:x@y\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Arbitrary bytes after a valid header: never a panic, and an `Ok` keeps every event well-formed.
    #[test]
    fn arbitrary_bytes_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let mut bytes = b"BEGIN:VCALENDAR\r\n".to_vec();
        bytes.extend_from_slice(&tail);
        if let Ok(p) = ical::parse_bytes(&bytes, &opts()) {
            for e in &p.events {
                prop_assert!(!e.uid.is_empty());
            }
        }
        let _ = ical::parse_bytes(&tail, &opts());
    }

    /// A real calendar with random damage (bytes replaced, removed, inserted, or the text cut short) never
    /// panics, and events the damage did not touch still import.
    #[test]
    fn damaged_calendars_never_panic(
        edits in proptest::collection::vec((0usize..SAMPLE.len(), any::<u8>(), 0u8..3), 1..6),
        cut in proptest::option::of(0usize..SAMPLE.len()),
    ) {
        let mut bytes = SAMPLE.as_bytes().to_vec();
        for (at, b, kind) in edits {
            let at = at.min(bytes.len().saturating_sub(1));
            match kind {
                0 => bytes[at] = b,
                1 => { bytes.remove(at); }
                _ => bytes.insert(at, b),
            }
        }
        if let Some(c) = cut {
            bytes.truncate(c.min(bytes.len()));
        }
        if let Ok(p) = ical::parse_bytes(&bytes, &opts()) {
            prop_assert!(p.events.len() + p.skipped <= 2, "no event is invented");
            // What the parser lets through must not trip the expansion either.
            for e in p.events.iter().filter(|e| e.recurrence.is_some()) {
                let series = punctual::recurrence::Series {
                    start: e.start,
                    end: e.end,
                    recurrence: e.recurrence.as_ref().unwrap(),
                };
                let window = punctual::recurrence::Window {
                    start: Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap(),
                    end: Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap(),
                };
                let _ = punctual::recurrence::expand(&series, &[], window, opts().user_zone, 1000);
            }
        }
    }
}

fn text_strategy() -> impl Strategy<Value = String> {
    // Characters that stress escaping and folding: TEXT specials, RFC 6868 specials, multi-byte, newlines.
    proptest::collection::vec(
        prop_oneof![
            Just(','),
            Just(';'),
            Just('\\'),
            Just('\n'),
            Just(':'),
            Just('"'),
            Just('^'),
            Just(' '),
            Just('é'),
            Just('日'),
            Just('🎉'),
            Just('\t'),
            proptest::char::range('a', 'z'),
        ],
        0..200,
    )
    .prop_map(|v| v.into_iter().collect())
}

fn when_strategy() -> impl Strategy<Value = When> {
    let zones = [
        "Europe/Paris",
        "America/New_York",
        "Australia/Sydney",
        "Asia/Kolkata",
        "UTC",
    ];
    (0i64..3650 * 24 * 60, 0u8..4, 0usize..zones.len()).prop_map(move |(minutes, kind, z)| {
        let base = NaiveDate::from_ymd_opt(2020, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        let local: NaiveDateTime = base + chrono::Duration::minutes(minutes);
        match kind {
            0 => When::Date { date: local.date() },
            1 => When::Floating { local },
            2 => When::Zoned {
                local,
                zone: Zone::parse(zones[z]).unwrap(),
            },
            _ => When::Utc {
                at: local.and_utc(),
            },
        }
    })
}

fn event_strategy() -> impl Strategy<Value = Event> {
    (
        "[a-zA-Z0-9@._-]{1,40}",
        text_strategy(),
        proptest::option::of(text_strategy()),
        proptest::option::of(text_strategy()),
        when_strategy(),
        0i64..5000,
        any::<bool>(),
        proptest::option::of(("(DAILY|WEEKLY|MONTHLY)", 1u32..20)),
        proptest::collection::vec(when_strategy(), 0..3),
    )
        .prop_map(
            |(uid, title, description, location, start, minutes, free, rule, exdates)| {
                let end = match start {
                    When::Date { date } => When::Date {
                        date: date + chrono::Duration::days(1 + minutes % 3),
                    },
                    other => other.with_naive(other.naive() + chrono::Duration::minutes(minutes)),
                };
                // Empty text reads back as absent.
                let description = description.filter(|d| !d.is_empty());
                let location = location.filter(|l| !l.is_empty());
                let title = title.trim().to_string();
                let title = if title.is_empty() {
                    "(No title)".to_string()
                } else {
                    title
                };
                // EXDATEs take the series' value type on parse (§3.8.5.1), so generate them that way.
                let exdates: Vec<When> = exdates
                    .iter()
                    .map(|x| match start {
                        When::Date { .. } => When::Date {
                            date: x.naive().date(),
                        },
                        _ => start.with_naive(x.naive()),
                    })
                    .collect();
                let recurrence = rule.map(|(freq, count)| Recurrence {
                    rrules: vec![format!("FREQ={freq};COUNT={count}")],
                    rdates: vec![],
                    exdates,
                });
                let time_zone = match start {
                    When::Zoned { zone, .. } => zone,
                    When::Utc { .. } => Zone::UTC,
                    _ => opts().user_zone,
                };
                Event {
                    id: String::new(),
                    calendar_id: "p".to_string(),
                    uid,
                    title,
                    description,
                    location,
                    url: None,
                    color: None,
                    start,
                    end,
                    time_zone,
                    availability: if free {
                        Availability::Free
                    } else {
                        Availability::Busy
                    },
                    status: EventStatus::Confirmed,
                    recurrence,
                    recurrence_id: None,
                    this_and_future: false,
                    conference: ConferenceData::default(),
                    meeting: None,
                    attendance: Default::default(),
                    platform: "ics".to_string(),
                    platform_id: None,
                    raw: None,
                    created_at: Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap(),
                    updated_at: Utc.with_ymd_and_hms(2025, 2, 1, 0, 0, 0).unwrap(),
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// write → parse is the identity (ids are fresh and raw is the source, so both are left out), and every
    /// physical line written is at most 75 octets.
    #[test]
    fn write_then_parse_is_the_identity(events in proptest::collection::vec(event_strategy(), 1..6)) {
        // UIDs must be unique for the comparison by position to be meaningful.
        let mut events = events;
        for (i, e) in events.iter_mut().enumerate() {
            e.uid = format!("{i}-{}", e.uid);
        }
        let text = ical::write("Props", &events);
        for line in text.split("\r\n") {
            prop_assert!(line.len() <= 75, "line of {} octets", line.len());
        }
        let p = ical::parse(&text, &opts()).unwrap();
        prop_assert_eq!(p.events.len(), events.len(), "warnings: {:?}", p.warnings);
        for (want, got) in events.iter().zip(&p.events) {
            let mut got = got.clone();
            got.id = String::new();
            got.raw = None;
            prop_assert_eq!(&got, want);
        }
    }
}
