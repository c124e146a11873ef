//! `write` then `parse` gives back the same events, and what `write` emits is valid RFC 5545 (CRLF, folding
//! at 75 octets, a VTIMEZONE per zone whose offsets are the zone's real ones).

// Tests report failure by panicking; STYLE.md's "no unwrap()" is for code outside tests.
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use punctual::ical::{self, ParseOptions};
use punctual::model::{Availability, ConferenceData, Event, EventStatus, Recurrence};
use punctual::time::{When, Zone};

fn opts() -> ParseOptions {
    ParseOptions {
        calendar_id: "cal-rt".to_string(),
        user_zone: Zone::parse("Asia/Tokyo").unwrap(),
        now: Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap(),
    }
}

fn dt(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
}

fn utc(s: &str) -> DateTime<Utc> {
    dt(s).and_utc()
}

fn zone(n: &str) -> Zone {
    Zone::parse(n).unwrap()
}

fn base(uid: &str, start: When, end: When, tz: Zone) -> Event {
    Event {
        id: format!("id-{uid}"),
        calendar_id: "cal-rt".to_string(),
        uid: uid.to_string(),
        title: format!("Event {uid}"),
        description: None,
        location: None,
        url: None,
        color: None,
        start,
        end,
        time_zone: tz,
        availability: Availability::Busy,
        status: EventStatus::Confirmed,
        recurrence: None,
        recurrence_id: None,
        this_and_future: false,
        conference: ConferenceData::default(),
        meeting: None,
        attendance: Default::default(),
        platform: "ics".to_string(),
        platform_id: None,
        raw: None,
        created_at: utc("2025-01-02 03:04"),
        updated_at: utc("2025-06-07 08:09"),
    }
}

fn sample_events() -> Vec<Event> {
    let paris = zone("Europe/Paris");
    let ny = zone("America/New_York");
    let sydney = zone("Australia/Sydney");
    let tokyo = opts().user_zone;
    let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();

    let mut series = base(
        "series@rt",
        When::Zoned {
            local: dt("2026-03-02 09:00"),
            zone: paris,
        },
        When::Zoned {
            local: dt("2026-03-02 09:30"),
            zone: paris,
        },
        paris,
    );
    series.title = "Standup; daily, with \\ backslash and a very long title that certainly needs folding — ünïcödé 日本語 ✓".to_string();
    series.description =
        Some("Line one\nLine two, with comma; and semicolon\r\nLine three".to_string());
    series.location = Some("Room \"A\", Floor 2".to_string());
    series.url = Some("https://example.com/meet?a=1&b=2;c=3".to_string());
    series.color = Some("#12AB9F".to_string());
    series.availability = Availability::Free;
    series.status = EventStatus::Tentative;
    series.recurrence = Some(Recurrence {
        rrules: vec![
            "FREQ=WEEKLY;BYDAY=MO,WE,FR;UNTIL=20261231T235959Z".to_string(),
            "FREQ=MONTHLY;BYMONTHDAY=15".to_string(),
        ],
        rdates: vec![
            When::Zoned {
                local: dt("2026-03-07 11:00"),
                zone: paris,
            },
            When::Utc {
                at: utc("2026-04-04 10:00"),
            },
        ],
        exdates: vec![
            When::Zoned {
                local: dt("2026-03-04 09:00"),
                zone: paris,
            },
            When::Zoned {
                local: dt("2026-03-06 09:00"),
                zone: paris,
            },
        ],
    });
    series.conference = ConferenceData {
        uris: vec![
            "https://meet.google.com/abc-defg-hij".to_string(),
            "https://teams.microsoft.com/l/meetup-join/19%3ameeting".to_string(),
        ],
        html: Some(
            "<p>Join: <a href=\"https://zoom.us/j/123\">here</a>; or dial, maybe</p>".to_string(),
        ),
    };

    let mut moved = base(
        "series@rt",
        When::Zoned {
            local: dt("2026-03-09 14:00"),
            zone: paris,
        },
        When::Zoned {
            local: dt("2026-03-09 14:45"),
            zone: paris,
        },
        paris,
    );
    moved.recurrence_id = Some(When::Zoned {
        local: dt("2026-03-09 09:00"),
        zone: paris,
    });

    let mut future = base(
        "series@rt",
        When::Zoned {
            local: dt("2026-05-04 10:00"),
            zone: paris,
        },
        When::Zoned {
            local: dt("2026-05-04 10:30"),
            zone: paris,
        },
        paris,
    );
    future.recurrence_id = Some(When::Zoned {
        local: dt("2026-05-04 09:00"),
        zone: paris,
    });
    future.this_and_future = true;

    let mut all_day = base(
        "allday@rt",
        When::Date {
            date: d(2026, 7, 14),
        },
        When::Date {
            date: d(2026, 7, 16),
        },
        tokyo,
    );
    all_day.recurrence = Some(Recurrence {
        rrules: vec!["FREQ=YEARLY".to_string()],
        rdates: vec![],
        exdates: vec![When::Date {
            date: d(2027, 7, 14),
        }],
    });

    let floating = base(
        "floating@rt",
        When::Floating {
            local: dt("2026-08-01 07:00"),
        },
        When::Floating {
            local: dt("2026-08-01 08:00"),
        },
        tokyo,
    );
    let instant = base(
        "utc@rt",
        When::Utc {
            at: utc("2026-09-01 15:00"),
        },
        When::Utc {
            at: utc("2026-09-01 16:00"),
        },
        Zone::UTC,
    );
    let mut cancelled = base(
        "ny@rt",
        When::Zoned {
            local: dt("2026-11-01 01:30"),
            zone: ny,
        },
        When::Zoned {
            local: dt("2026-11-01 03:00"),
            zone: ny,
        },
        ny,
    );
    cancelled.status = EventStatus::Cancelled;
    let southern = base(
        "syd@rt",
        When::Zoned {
            local: dt("2026-10-04 09:00"),
            zone: sydney,
        },
        When::Zoned {
            local: dt("2026-10-04 10:00"),
            zone: sydney,
        },
        sydney,
    );
    vec![
        series, moved, future, all_day, floating, instant, cancelled, southern,
    ]
}

/// The fields a round trip must keep (ids are fresh uuids on parse, raw is the source text).
fn comparable(e: &Event) -> Event {
    let mut e = e.clone();
    e.id = String::new();
    e.raw = None;
    if let Some(d) = &mut e.description {
        *d = d.replace("\r\n", "\n");
    }
    e
}

#[test]
fn write_then_parse_gives_the_same_events() {
    let events = sample_events();
    let text = ical::write("Round trip; test", &events);
    let parsed = ical::parse(&text, &opts()).expect("our own output is iCalendar");
    assert!(
        parsed.warnings.is_empty(),
        "our own output needs no guessing: {:?}",
        parsed.warnings
    );
    assert_eq!(
        parsed.name.as_deref(),
        Some("Round trip; test"),
        "X-WR-CALNAME round-trips, escaped"
    );
    assert_eq!(parsed.events.len(), events.len());
    for (want, got) in events.iter().zip(&parsed.events) {
        assert_eq!(
            comparable(got),
            comparable(want),
            "event {} must survive write → parse unchanged",
            want.uid
        );
    }
}

#[test]
fn output_is_crlf_and_folded_at_75_octets() {
    let text = ical::write("Cal", &sample_events());
    assert!(
        text.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:"),
        "header first"
    );
    assert!(text.ends_with("END:VCALENDAR\r\n"));
    assert!(
        !text.replace("\r\n", "").contains('\n'),
        "every line break is CRLF (§3.1)"
    );
    for line in text.split("\r\n") {
        assert!(
            line.len() <= 75,
            "a physical line of {} octets: {line:?}",
            line.len()
        );
    }
    assert!(text.contains("\r\n "), "the long title is folded");
}

#[test]
fn one_vtimezone_per_zone_used_and_none_for_utc() {
    let text = ical::write("Cal", &sample_events());
    for z in ["Europe/Paris", "America/New_York", "Australia/Sydney"] {
        assert_eq!(
            text.matches(&format!("TZID:{z}\r\n")).count(),
            1,
            "exactly one VTIMEZONE for {z} (§3.6.5: every TZID used needs one)"
        );
    }
    assert_eq!(
        text.matches("BEGIN:VTIMEZONE").count(),
        3,
        "UTC and floating need no VTIMEZONE"
    );
}

/// The generated VTIMEZONEs must describe the zone's real offsets. Renaming the TZIDs to names `Zone::parse`
/// does not know forces the parser to rely on the VTIMEZONE alone; the instants must not move.
#[test]
fn generated_vtimezones_carry_the_real_offsets() {
    let events = sample_events();
    let text = ical::write("Cal", &events);
    let renamed = text
        .replace("Europe/Paris", "My Paris Zone")
        .replace("America/New_York", "My Eastern Zone")
        .replace("Australia/Sydney", "My Sydney Zone");
    let parsed = ical::parse(&renamed, &opts()).expect("valid");
    let fz = opts().user_zone;
    for (want, got) in events.iter().zip(&parsed.events) {
        assert_eq!(
            got.start.to_utc(fz),
            want.start.to_utc(fz),
            "{}: start instant",
            want.uid
        );
        assert_eq!(
            got.end.to_utc(fz),
            want.end.to_utc(fz),
            "{}: end instant",
            want.uid
        );
    }
    // Also across several years of a recurring Paris event: a VTIMEZONE-derived zone must agree in 2031.
    let paris = zone("Europe/Paris");
    let mut long = base(
        "long@rt",
        When::Zoned {
            local: dt("2026-01-05 09:00"),
            zone: paris,
        },
        When::Zoned {
            local: dt("2026-01-05 10:00"),
            zone: paris,
        },
        paris,
    );
    long.recurrence = Some(Recurrence {
        rrules: vec!["FREQ=WEEKLY".to_string()],
        ..Recurrence::default()
    });
    let text = ical::write("Cal", &[long]).replace("Europe/Paris", "Paris Custom");
    let p = ical::parse(&text, &opts()).expect("valid");
    let z = p.events[0]
        .start
        .zone()
        .expect("matched to an IANA zone, not converted to UTC");
    for probe in [
        utc("2031-07-01 12:00"),
        utc("2031-12-01 12:00"),
        utc("2031-03-30 00:30"),
        utc("2031-03-30 01:30"),
    ] {
        assert_eq!(
            z.offset_seconds(probe),
            paris.offset_seconds(probe),
            "{z} vs Europe/Paris at {probe}"
        );
    }
}

#[test]
fn export_of_parsed_real_world_shapes_round_trips_again() {
    // parse → write → parse is a fixed point for the second parse.
    let first = ical::write("Cal", &sample_events());
    let a = ical::parse(&first, &opts()).unwrap();
    let second = ical::write("Cal", &a.events);
    let b = ical::parse(&second, &opts()).unwrap();
    for (x, y) in a.events.iter().zip(&b.events) {
        assert_eq!(comparable(x), comparable(y));
    }
}
