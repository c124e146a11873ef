//! iCalendar parsing: the lexer (folding, escapes, parameters, BOM, line endings), the VEVENT mapping, time
//! zones (IANA, Windows, VTIMEZONE, X-WR-TIMEZONE), robustness, and not-iCalendar errors.

// Tests report failure by panicking; STYLE.md's "no unwrap()" is for code outside tests.
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use punctual::ical::{self, IcalError, ParseOptions, Parsed};
use punctual::model::{Availability, EventStatus};
use punctual::time::{When, Zone};

fn opts() -> ParseOptions {
    ParseOptions {
        calendar_id: "cal-1".to_string(),
        user_zone: Zone::parse("America/Chicago").expect("known zone"),
        now: Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap(),
    }
}

fn parse(text: &str) -> Parsed {
    ical::parse(text, &opts()).expect("valid iCalendar")
}

/// Wraps VEVENT bodies (and any extra calendar lines) into a calendar, CRLF line endings.
fn cal(body: &str) -> String {
    let mut s = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n");
    for l in body.lines() {
        s.push_str(l);
        s.push_str("\r\n");
    }
    s.push_str("END:VCALENDAR\r\n");
    s
}

fn dt(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
}

fn utc(s: &str) -> DateTime<Utc> {
    dt(s).and_utc()
}

fn zone(name: &str) -> Zone {
    Zone::parse(name).unwrap()
}

// ---------------------------------------------------------------- lexer

#[test]
fn folded_lines_with_space_and_tab_are_joined() {
    let p = parse(&cal(
        "BEGIN:VEVENT\nUID:u1\nDTSTART:20260101T100000Z\nSUMMARY:Quarterly plan\n ning with\n\t the team\nEND:VEVENT",
    ));
    assert_eq!(
        p.events[0].title, "Quarterly planning with the team",
        "a fold removes exactly the CRLF and one space or tab (RFC 5545 §3.1)"
    );
}

#[test]
fn fold_inside_a_multibyte_character_is_mended() {
    // "Réunion" with the fold between the two bytes of 'é' (0xC3 0xA9).
    let mut bytes =
        cal("BEGIN:VEVENT\nUID:u1\nDTSTART:20260101T100000Z\nSUMMARY:XX\nEND:VEVENT").into_bytes();
    let at = bytes.windows(10).position(|w| w == b"SUMMARY:XX").unwrap();
    let mut replaced = bytes[..at].to_vec();
    replaced.extend_from_slice(b"SUMMARY:R\xC3\r\n \xA9union");
    replaced.extend_from_slice(&bytes[at + 10..]);
    bytes = replaced;
    let p = ical::parse_bytes(&bytes, &opts()).expect("valid iCalendar");
    assert_eq!(
        p.events[0].title, "Réunion",
        "unfolding happens on bytes, before UTF-8 decoding, so a split character is whole again"
    );
    assert!(
        p.warnings.is_empty(),
        "no invalid UTF-8 remains: {:?}",
        p.warnings
    );
}

#[test]
fn text_escapes_are_decoded() {
    let p = parse(&cal(
        "BEGIN:VEVENT\nUID:u1\nDTSTART:20260101T100000Z\nSUMMARY:A\\, B\\; C\nDESCRIPTION:line1\\nline2\\Nline3 \\\\ end\nLOCATION:Room 1\\, Floor 2\nEND:VEVENT",
    ));
    let e = &p.events[0];
    assert_eq!(
        e.title, "A, B; C",
        "\\, and \\; are the characters (§3.3.11)"
    );
    assert_eq!(
        e.description.as_deref(),
        Some("line1\nline2\nline3 \\ end"),
        "\\n and \\N are newlines, \\\\ is a backslash"
    );
    assert_eq!(e.location.as_deref(), Some("Room 1, Floor 2"));
}

#[test]
fn quoted_params_with_colon_and_semicolon_and_rfc6868() {
    let p = parse(&cal(
        "BEGIN:VEVENT\nUID:u1\nDTSTART;TZID=\"Europe/Paris\":20260101T100000\nATTENDEE;CN=\"Doe; J: ^'Boss^' ^^\";ROLE=CHAIR:mailto:j@x.org\nX-ALT-DESC;FMTTYPE=\"text/html\":<b>hi</b>\nSUMMARY:S\nEND:VEVENT",
    ));
    let e = &p.events[0];
    assert_eq!(
        e.start,
        When::Zoned {
            local: dt("2026-01-01 10:00"),
            zone: zone("Europe/Paris")
        },
        "a quoted TZID is unquoted"
    );
    assert_eq!(
        e.conference.html.as_deref(),
        Some("<b>hi</b>"),
        "the ':' inside the ATTENDEE's quoted CN must not end its parameters early, and a quoted FMTTYPE counts"
    );
}

#[test]
fn bom_lf_and_lowercase_names_are_accepted() {
    let text = "\u{feff}begin:vcalendar\nversion:2.0\nbegin:vevent\nuid:u1\ndtstart:20260101T100000Z\nsummary:lower\nend:vevent\nend:vcalendar\n";
    let p = parse(text);
    assert_eq!(
        p.events.len(),
        1,
        "a BOM, bare LF and lowercase names are all tolerated"
    );
    assert_eq!(p.events[0].title, "lower");
}

#[test]
fn crlf_and_lf_give_the_same_events() {
    let body = "BEGIN:VEVENT\nUID:u1\nDTSTART:20260101T100000Z\nSUMMARY:Same\nEND:VEVENT";
    let crlf = parse(&cal(body));
    let lf = parse(&cal(body).replace("\r\n", "\n"));
    assert_eq!(crlf.events[0].title, lf.events[0].title);
    assert_eq!(crlf.events[0].start, lf.events[0].start);
}

// ---------------------------------------------------------------- not iCalendar

#[test]
fn not_icalendar_inputs_are_errors_with_clear_messages() {
    let cases: &[(&[u8], &str)] = &[
        (b"", "empty"),
        (b"   \r\n\n", "empty"),
        (b"{\"events\": []}", "JSON"),
        (b"<html><body>Not found</body></html>", "HTML"),
        (b"\x00\x01\x02PK\x03\x04binary", "binary"),
        (b"BEGIN:VCARD\r\nVERSION:3.0\r\nEND:VCARD\r\n", "vCard"),
        (b"hello world\n", "BEGIN:VCALENDAR"),
    ];
    for (input, expect) in cases {
        match ical::parse_bytes(input, &opts()) {
            Err(IcalError::NotICalendar(msg)) => assert!(
                msg.contains(expect),
                "the message for {:?} should say {expect:?}, got {msg:?}",
                String::from_utf8_lossy(input)
            ),
            other => panic!(
                "{:?} must be NotICalendar, got {other:?}",
                String::from_utf8_lossy(input)
            ),
        }
    }
}

// ---------------------------------------------------------------- mapping

#[test]
fn every_property_maps() {
    let p = parse(&cal(concat!(
        "X-WR-CALNAME:Team\n",
        "BEGIN:VEVENT\n",
        "UID:abc@example.com\n",
        "DTSTAMP:20250101T000000Z\n",
        "CREATED:20240101T080000Z\n",
        "LAST-MODIFIED:20250301T090000Z\n",
        "DTSTART;TZID=America/New_York:20260310T090000\n",
        "DTEND;TZID=America/New_York:20260310T093000\n",
        "SUMMARY:Standup\n",
        "DESCRIPTION:Daily\n",
        "LOCATION:Room 4\n",
        "URL:https://example.com/e/1\n",
        "COLOR:#FF8800\n",
        "TRANSP:TRANSPARENT\n",
        "STATUS:TENTATIVE\n",
        "RRULE:FREQ=WEEKLY;BYDAY=MO,WE\n",
        "RRULE:FREQ=MONTHLY;BYMONTHDAY=1\n",
        "EXDATE;TZID=America/New_York:20260311T090000,20260316T090000\n",
        "EXDATE:20260401T130000Z\n",
        "RDATE;VALUE=DATE:20260320\n",
        "CONFERENCE;VALUE=URI;FEATURE=VIDEO:https://meet.example.com/abc\n",
        "X-GOOGLE-CONFERENCE:https://meet.google.com/aaa-bbbb-ccc\n",
        "X-MICROSOFT-SKYPETEAMSMEETINGURL:https://teams.microsoft.com/l/meetup-join/x\n",
        "X-ALT-DESC;FMTTYPE=text/html:<p>Join</p>\n",
        "BEGIN:VALARM\n",
        "ACTION:DISPLAY\n",
        "DESCRIPTION:alarm text must not override\n",
        "TRIGGER:-PT10M\n",
        "END:VALARM\n",
        "END:VEVENT",
    )));
    assert_eq!(
        p.name.as_deref(),
        Some("Team"),
        "X-WR-CALNAME is the calendar's name"
    );
    let e = &p.events[0];
    let ny = zone("America/New_York");
    assert_eq!(e.uid, "abc@example.com");
    assert_eq!(e.calendar_id, "cal-1", "calendar_id comes from the options");
    assert!(uuid::Uuid::parse_str(&e.id).is_ok(), "id is a fresh uuid");
    assert_eq!(e.title, "Standup");
    assert_eq!(
        e.description.as_deref(),
        Some("Daily"),
        "a VALARM's DESCRIPTION is not the event's"
    );
    assert_eq!(e.location.as_deref(), Some("Room 4"));
    assert_eq!(e.url.as_deref(), Some("https://example.com/e/1"));
    assert_eq!(e.color.as_deref(), Some("#FF8800"));
    assert_eq!(
        e.start,
        When::Zoned {
            local: dt("2026-03-10 09:00"),
            zone: ny
        }
    );
    assert_eq!(
        e.end,
        When::Zoned {
            local: dt("2026-03-10 09:30"),
            zone: ny
        }
    );
    assert_eq!(e.time_zone, ny, "the event's zone is DTSTART's");
    assert_eq!(e.availability, Availability::Free, "TRANSPARENT is free");
    assert_eq!(e.status, EventStatus::Tentative);
    let r = e.recurrence.as_ref().expect("a series");
    assert_eq!(
        r.rrules,
        vec!["FREQ=WEEKLY;BYDAY=MO,WE", "FREQ=MONTHLY;BYMONTHDAY=1"],
        "every RRULE line is kept"
    );
    assert_eq!(
        r.exdates,
        vec![
            When::Zoned {
                local: dt("2026-03-11 09:00"),
                zone: ny
            },
            When::Zoned {
                local: dt("2026-03-16 09:00"),
                zone: ny
            },
            When::Utc {
                at: utc("2026-04-01 13:00")
            },
        ],
        "EXDATE comma lists and several lines, with TZID or Z"
    );
    assert_eq!(
        r.rdates,
        vec![When::Date {
            date: NaiveDate::from_ymd_opt(2026, 3, 20).unwrap()
        }]
    );
    assert_eq!(
        e.conference.uris,
        vec![
            "https://meet.example.com/abc",
            "https://meet.google.com/aaa-bbbb-ccc",
            "https://teams.microsoft.com/l/meetup-join/x"
        ]
    );
    assert_eq!(e.conference.html.as_deref(), Some("<p>Join</p>"));
    assert!(e.meeting.is_none(), "link detection is the store's job");
    assert_eq!(e.platform, "ics");
    assert_eq!(e.platform_id, None);
    let raw = e.raw.as_deref().expect("raw text");
    assert!(
        raw.starts_with("BEGIN:VEVENT") && raw.trim_end().ends_with("END:VEVENT"),
        "raw is the VEVENT's text"
    );
    assert_eq!(
        e.created_at,
        utc("2024-01-01 08:00"),
        "created_at is CREATED"
    );
    assert_eq!(
        e.updated_at,
        utc("2025-03-01 09:00"),
        "updated_at is LAST-MODIFIED"
    );
}

#[test]
fn defaults_for_missing_properties() {
    let p = parse(&cal(
        "BEGIN:VEVENT\nUID:u1\nDTSTART:20260101T100000\nSUMMARY:\nDESCRIPTION:\nLOCATION:\nEND:VEVENT",
    ));
    let e = &p.events[0];
    assert_eq!(
        (&e.description, &e.location),
        (&None, &None),
        "empty DESCRIPTION: and LOCATION: lines (Google writes them) mean absent"
    );
    assert_eq!(
        e.title, "(No title)",
        "an empty or missing SUMMARY reads as (No title)"
    );
    assert_eq!(
        e.start,
        When::Floating {
            local: dt("2026-01-01 10:00")
        },
        "no TZID, no Z: floating"
    );
    assert_eq!(
        e.end, e.start,
        "a DATE-TIME start with no end has zero length (§3.6.1)"
    );
    assert_eq!(
        e.time_zone,
        opts().user_zone,
        "floating events are in the user's zone"
    );
    assert_eq!(e.availability, Availability::Busy);
    assert_eq!(e.status, EventStatus::Confirmed);
    assert_eq!(e.recurrence, None);
    assert_eq!(
        e.created_at,
        opts().now,
        "no CREATED/DTSTAMP: the import time"
    );
    assert_eq!(e.updated_at, opts().now);
}

#[test]
fn all_day_defaults_and_duration() {
    let p = parse(&cal(concat!(
        "BEGIN:VEVENT\nUID:a\nDTSTART;VALUE=DATE:20260228\nEND:VEVENT\n",
        "BEGIN:VEVENT\nUID:b\nDTSTART;VALUE=DATE:20260301\nDURATION:P3D\nEND:VEVENT\n",
        "BEGIN:VEVENT\nUID:c\nDTSTART:20260301T100000Z\nDURATION:PT1H30M\nEND:VEVENT\n",
        "BEGIN:VEVENT\nUID:d\nDTSTART;TZID=Europe/Berlin:20260328T120000\nDURATION:P1D\nEND:VEVENT\n",
        "BEGIN:VEVENT\nUID:e\nDTSTART;TZID=Europe/Berlin:20260329T010000\nDURATION:PT2H\nEND:VEVENT",
    )));
    let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let by = |uid: &str| p.events.iter().find(|e| e.uid == uid).unwrap();
    assert_eq!(
        by("a").end,
        When::Date {
            date: d(2026, 3, 1)
        },
        "a DATE start with no end lasts one day (§3.6.1)"
    );
    assert!(by("a").all_day());
    assert_eq!(
        by("b").end,
        When::Date {
            date: d(2026, 3, 4)
        },
        "DTSTART + P3D"
    );
    assert_eq!(
        by("c").end,
        When::Utc {
            at: utc("2026-03-01 11:30")
        }
    );
    let berlin = zone("Europe/Berlin");
    assert_eq!(
        by("d").end,
        When::Zoned {
            local: dt("2026-03-29 12:00"),
            zone: berlin
        },
        "P1D is a nominal day: the same wall-clock time across the DST change (§3.3.6)"
    );
    assert_eq!(
        by("e").end,
        When::Zoned {
            local: dt("2026-03-29 04:00"),
            zone: berlin
        },
        "PT2H is exact: 01:00 CET + 2h crosses the 02:00→03:00 jump and reads 04:00 CEST"
    );
}

#[test]
fn windows_tzids_map_to_iana() {
    let p = parse(&cal(concat!(
        "BEGIN:VEVENT\nUID:a\nDTSTART;TZID=Romance Standard Time:20260601T100000\nEND:VEVENT\n",
        "BEGIN:VEVENT\nUID:b\nDTSTART;TZID=\"AUS Eastern Standard Time\":20260601T100000\nEND:VEVENT\n",
        "BEGIN:VEVENT\nUID:c\nDTSTART;TZID=India Standard Time:20260601T100000\nEND:VEVENT",
    )));
    assert_eq!(p.events[0].start.zone(), Some(zone("Europe/Paris")));
    assert_eq!(p.events[1].start.zone(), Some(zone("Australia/Sydney")));
    assert_eq!(
        p.events[2].start.to_utc(Zone::UTC),
        utc("2026-06-01 04:30"),
        "India Standard Time is UTC+05:30"
    );
}

#[test]
fn x_wr_timezone_makes_floating_times_zoned() {
    let p = parse(&cal(concat!(
        "X-WR-TIMEZONE:Europe/Lisbon\n",
        "BEGIN:VEVENT\nUID:a\nDTSTART:20260701T090000\nDTEND:20260701T100000\nEND:VEVENT\n",
        "BEGIN:VEVENT\nUID:b\nDTSTART;VALUE=DATE:20260701\nEND:VEVENT",
    )));
    let lisbon = zone("Europe/Lisbon");
    assert_eq!(p.time_zone, Some(lisbon));
    assert_eq!(
        p.events[0].start,
        When::Zoned {
            local: dt("2026-07-01 09:00"),
            zone: lisbon
        }
    );
    assert_eq!(p.events[0].time_zone, lisbon);
    assert!(p.events[1].start.is_date(), "dates stay dates");
    assert_eq!(
        p.events[1].time_zone, lisbon,
        "an all-day event is in the calendar's zone"
    );
}

#[test]
fn unknown_tzid_with_vtimezone_matches_an_iana_zone() {
    let p = parse(&cal(concat!(
        "BEGIN:VTIMEZONE\nTZID:Customized Time Zone\n",
        "BEGIN:STANDARD\nDTSTART:16010101T030000\nTZOFFSETFROM:+0200\nTZOFFSETTO:+0100\n",
        "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10\nEND:STANDARD\n",
        "BEGIN:DAYLIGHT\nDTSTART:16010101T020000\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0200\n",
        "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3\nEND:DAYLIGHT\nEND:VTIMEZONE\n",
        "BEGIN:VEVENT\nUID:a\nDTSTART;TZID=Customized Time Zone:20260715T100000\nEND:VEVENT",
    )));
    let e = &p.events[0];
    let z = e.start.zone().expect("zoned");
    assert_eq!(
        e.start.to_utc(Zone::UTC),
        utc("2026-07-15 08:00"),
        "CEST (+02:00) in July, per the VTIMEZONE"
    );
    assert!(
        matches!(e.start, When::Zoned { .. }),
        "matched to an IANA zone, so DST rules keep applying"
    );
    assert_eq!(
        z.offset_seconds(utc("2026-01-15 12:00")),
        3600,
        "{z} must be +01:00 in winter like the VTIMEZONE"
    );
}

#[test]
fn unknown_tzid_whose_vtimezone_matches_nothing_uses_its_offsets() {
    // A fictional zone: +03:17 standard, +04:17 from the first Sunday of February to the first of August.
    let p = parse(&cal(concat!(
        "BEGIN:VTIMEZONE\nTZID:Fictional/Odd\n",
        "BEGIN:STANDARD\nDTSTART:20000806T020000\nTZOFFSETFROM:+0417\nTZOFFSETTO:+0317\n",
        "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=8\nEND:STANDARD\n",
        "BEGIN:DAYLIGHT\nDTSTART:20000206T020000\nTZOFFSETFROM:+0317\nTZOFFSETTO:+0417\n",
        "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=2\nEND:DAYLIGHT\nEND:VTIMEZONE\n",
        "BEGIN:VEVENT\nUID:a\nDTSTART;TZID=Fictional/Odd:20260601T120000\nEND:VEVENT\n",
        "BEGIN:VEVENT\nUID:b\nDTSTART;TZID=Fictional/Odd:20261201T120000\nEND:VEVENT",
    )));
    assert_eq!(
        p.events[0].start,
        When::Utc {
            at: utc("2026-06-01 07:43")
        },
        "12:00 at +04:17"
    );
    assert_eq!(
        p.events[1].start,
        When::Utc {
            at: utc("2026-12-01 08:43")
        },
        "12:00 at +03:17"
    );
    assert!(
        p.warnings.iter().any(|w| w.contains("Fictional/Odd")),
        "the fallback is reported"
    );
}

#[test]
fn unknown_tzid_without_vtimezone_is_read_in_the_default_zone_with_a_warning() {
    let p = parse(&cal(
        "BEGIN:VEVENT\nUID:a\nSUMMARY:x\nDTSTART;TZID=Mars/Olympus:20260601T120000\nEND:VEVENT",
    ));
    assert_eq!(p.events.len(), 1, "the event still imports");
    assert_eq!(p.events[0].start.zone(), Some(opts().user_zone));
    assert!(p.warnings.iter().any(|w| w.contains("Mars/Olympus")));
}

#[test]
fn recurrence_id_and_this_and_future() {
    let p = parse(&cal(concat!(
        "BEGIN:VEVENT\nUID:s\nDTSTART:20260105T100000Z\nRRULE:FREQ=DAILY;COUNT=10\nEND:VEVENT\n",
        "BEGIN:VEVENT\nUID:s\nRECURRENCE-ID:20260107T100000Z\nDTSTART:20260107T150000Z\nEND:VEVENT\n",
        "BEGIN:VEVENT\nUID:s\nRECURRENCE-ID;RANGE=THISANDFUTURE:20260110T100000Z\nDTSTART:20260110T110000Z\nEND:VEVENT",
    )));
    assert_eq!(p.events.len(), 3);
    assert_eq!(
        p.events[1].recurrence_id,
        Some(When::Utc {
            at: utc("2026-01-07 10:00")
        })
    );
    assert!(!p.events[1].this_and_future);
    assert!(p.events[2].this_and_future, "RANGE=THISANDFUTURE is kept");
    assert!(
        p.events[1].recurrence.is_none(),
        "overrides carry no recurrence"
    );
}

#[test]
fn broken_vevents_are_skipped_with_a_warning_naming_them_and_the_rest_import() {
    let p = parse(&cal(concat!(
        "BEGIN:VEVENT\nUID:good-1\nSUMMARY:Fine\nDTSTART:20260101T100000Z\nEND:VEVENT\n",
        "BEGIN:VEVENT\nUID:bad-start\nSUMMARY:Bad start\nDTSTART:2026-01-01 10:00\nEND:VEVENT\n",
        "BEGIN:VEVENT\nUID:no-start\nSUMMARY:No start\nEND:VEVENT\n",
        "BEGIN:VEVENT\nUID:bad-rule\nSUMMARY:Bad rule\nDTSTART:20260101T100000Z\nRRULE:FREQ=SOMETIMES\nEND:VEVENT\n",
        "BEGIN:VEVENT\nUID:bad-rule-2\nSUMMARY:Bad rule 2\nDTSTART:20260101T100000Z\nRRULE:BYDAY=MO\nEND:VEVENT\n",
        "BEGIN:VEVENT\nUID:bad-line\nSUMMARY:Bad line\nDTSTART:20260101T100000Z\nthis line has no colon\nEND:VEVENT\n",
        "BEGIN:VEVENT\nUID:good-2\nSUMMARY:Also fine\nDTSTART:20260102T100000Z\nEND:VEVENT",
    )));
    let uids: Vec<&str> = p.events.iter().map(|e| e.uid.as_str()).collect();
    assert_eq!(
        uids,
        vec!["good-1", "good-2"],
        "only the broken ones are skipped"
    );
    assert_eq!(p.skipped, 5);
    for (uid, summary) in [
        ("bad-start", "Bad start"),
        ("no-start", "No start"),
        ("bad-rule", "Bad rule"),
        ("bad-rule-2", "Bad rule 2"),
        ("bad-line", "Bad line"),
    ] {
        assert!(
            p.warnings.iter().any(|w| w.contains(uid)),
            "a warning names {uid}, by which the user finds it in the file: {:?}",
            p.warnings
        );
        assert!(
            !p.warnings.iter().any(|w| w.contains(summary)),
            "no warning carries the title {summary:?}: warnings reach stderr and the log: {:?}",
            p.warnings
        );
    }
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("line 34") && w.contains("not a property name")),
        "the bad line is named by its number and what is wrong with it: {:?}",
        p.warnings
    );
    assert!(
        !p.warnings
            .iter()
            .any(|w| w.contains("this line has no colon")),
        "and its text is not quoted (it may be part of a title or description): {:?}",
        p.warnings
    );
}

#[test]
fn truncated_file_keeps_the_complete_events() {
    let text = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART:20260101T100000Z\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:b\r\nDTST";
    let p = parse(text);
    assert_eq!(p.events.len(), 1);
    assert_eq!(p.skipped, 1, "the cut-off VEVENT is skipped");
}

#[test]
fn missing_uid_gets_a_stable_derived_one() {
    let text = cal(concat!(
        "BEGIN:VEVENT\nDTSTAMP:20260101T000000Z\nDTSTART:20260101T100000Z\nSUMMARY:No uid\nEND:VEVENT\n",
        "BEGIN:VEVENT\nDTSTAMP:20260101T000000Z\nDTSTART:20260101T100000Z\nSUMMARY:No uid\nEND:VEVENT",
    ));
    let a = parse(&text);
    let b = parse(&text.replace("DTSTAMP:20260101T000000Z", "DTSTAMP:20270101T000000Z"));
    assert!(!a.events[0].uid.is_empty());
    assert_ne!(
        a.events[0].uid, a.events[1].uid,
        "two UID-less twins in one file stay two events"
    );
    assert_eq!(
        a.events[0].uid, b.events[0].uid,
        "re-importing the same file (even re-stamped) gives the same uid, so nothing duplicates"
    );
    assert_eq!(a.events[1].uid, b.events[1].uid);
}

#[test]
fn components_after_end_vcalendar_and_several_calendars_are_read() {
    let text = concat!(
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART:20260101T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        "BEGIN:VEVENT\r\nUID:b\r\nDTSTART:20260102T100000Z\r\nEND:VEVENT\r\n",
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:c\r\nDTSTART:20260103T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    );
    let p = parse(text);
    let uids: Vec<&str> = p.events.iter().map(|e| e.uid.as_str()).collect();
    assert_eq!(
        uids,
        vec!["a", "b", "c"],
        "loose and concatenated calendars still import (libical's example files)"
    );
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("outside any VCALENDAR")),
        "the oddity is reported"
    );
}

#[test]
fn ignored_components_and_duplicate_uids_are_reported() {
    let p = parse(&cal(concat!(
        "BEGIN:VTODO\nUID:t\nSUMMARY:todo\nEND:VTODO\n",
        "BEGIN:VEVENT\nUID:dup\nDTSTART:20260101T100000Z\nSUMMARY:first\nEND:VEVENT\n",
        "BEGIN:VEVENT\nUID:dup\nDTSTART:20260101T110000Z\nSUMMARY:second\nEND:VEVENT",
    )));
    assert_eq!(p.events.len(), 2);
    assert!(
        p.warnings.iter().any(|w| w.contains("VTODO")),
        "{:?}",
        p.warnings
    );
    assert!(
        p.warnings.iter().any(|w| w.contains("share UID dup")),
        "{:?}",
        p.warnings
    );
}

#[test]
fn utf16_and_invalid_utf8_are_survivable() {
    let text = cal("BEGIN:VEVENT\nUID:u\nDTSTART:20260101T100000Z\nSUMMARY:Zoë\nEND:VEVENT");
    let mut utf16 = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    let p = ical::parse_bytes(&utf16, &opts()).expect("a UTF-16LE file with BOM is re-encoded");
    assert_eq!(p.events[0].title, "Zoë");

    let latin1 = cal("BEGIN:VEVENT\nUID:u\nDTSTART:20260101T100000Z\nSUMMARY:Zo\u{1}\nEND:VEVENT")
        .replace('\u{1}', "\u{FFFD}")
        .into_bytes();
    let mut bytes = latin1.clone();
    let at = bytes
        .windows(3)
        .position(|w| w == "\u{FFFD}".as_bytes())
        .unwrap();
    bytes.splice(at..at + 3, [0xEB]); // 'ë' in Latin-1: not UTF-8
    let p = ical::parse_bytes(&bytes, &opts()).expect("one bad byte does not fail the file");
    assert_eq!(p.events[0].title, "Zo\u{FFFD}");
    assert!(
        p.warnings.iter().any(|w| w.contains("UTF-8")),
        "the replacement is reported"
    );
}

#[test]
fn date_with_stray_z_is_a_date() {
    let p = parse(&cal(
        "BEGIN:VEVENT\nUID:u\nDTSTART;VALUE=DATE:20141210\nRRULE:FREQ=YEARLY\nRDATE;VALUE=DATE:20131210Z\nEND:VEVENT",
    ));
    let r = p.events[0].recurrence.as_ref().unwrap();
    assert_eq!(
        r.rdates,
        vec![When::Date {
            date: NaiveDate::from_ymd_opt(2013, 12, 10).unwrap()
        }],
        "Google birthday calendars write this"
    );
}

#[test]
fn override_ids_and_exdates_take_the_masters_value_type() {
    let p = parse(&cal(concat!(
        // Exchange: an all-day series whose override RECURRENCE-ID is a date-time at midnight.
        "BEGIN:VEVENT\nUID:bins\nDTSTART;VALUE=DATE:20200402\nDTEND;VALUE=DATE:20200403\nRRULE:FREQ=WEEKLY;INTERVAL=2\nEND:VEVENT\n",
        "BEGIN:VEVENT\nUID:bins\nRECURRENCE-ID;TZID=GMT Standard Time:20200416T000000\nDTSTART;VALUE=DATE:20200417\nDTEND;VALUE=DATE:20200418\nEND:VEVENT\n",
        // ical.js: a DATE EXDATE on a DATE-TIME series.
        "BEGIN:VEVENT\nUID:daily\nDTSTART:20240609T030000Z\nRRULE:FREQ=DAILY;COUNT=4\nEXDATE;VALUE=DATE:20240611\nEND:VEVENT",
    )));
    assert_eq!(
        p.events[1].recurrence_id,
        Some(When::Date { date: NaiveDate::from_ymd_opt(2020, 4, 16).unwrap() }),
        "RECURRENCE-ID must have DTSTART's value type (§3.8.4.4), so the override meets its instance"
    );
    assert_eq!(
        p.events[2].recurrence.as_ref().unwrap().exdates,
        vec![When::Utc {
            at: utc("2024-06-11 03:00")
        }],
        "a DATE EXDATE on a DATE-TIME series removes that day's instance"
    );
}

#[test]
fn status_color_conference_variants() {
    let p = parse(&cal(concat!(
        "BEGIN:VEVENT\nUID:u\nDTSTART:20260101T100000Z\nSTATUS:CANCELLED\nCOLOR:turquoise\n",
        "X-MICROSOFT-ONLINEMEETINGCONFLINK:conf:sip:alice@example.com;gruu;opaque=app:conf:focus:id:ABC\n",
        "X-MICROSOFT-SKYPETEAMSMEETINGURL:https://teams.microsoft.com/l/meetup-join/abc\n",
        "CONFERENCE;VALUE=URI:https://teams.microsoft.com/l/meetup-join/abc\n",
        "END:VEVENT",
    )));
    let e = &p.events[0];
    assert_eq!(e.status, EventStatus::Cancelled);
    assert_eq!(
        e.color, None,
        "RFC 7986 CSS colour names are not #RRGGBB and are left out"
    );
    assert_eq!(
        e.conference.uris,
        vec![
            "conf:sip:alice@example.com;gruu;opaque=app:conf:focus:id:ABC",
            "https://teams.microsoft.com/l/meetup-join/abc"
        ],
        "each URI once, in file order"
    );
}

#[test]
fn end_before_start_and_mixed_value_types_are_repaired() {
    let p = parse(&cal(concat!(
        "BEGIN:VEVENT\nUID:a\nDTSTART:20260101T100000Z\nDTEND:20260101T090000Z\nEND:VEVENT\n",
        "BEGIN:VEVENT\nUID:b\nDTSTART;VALUE=DATE:20260101\nDTEND:20260103T000000Z\nEND:VEVENT",
    )));
    assert_eq!(
        p.events[0].end, p.events[0].start,
        "an end before the start is set to the start"
    );
    assert!(p
        .warnings
        .iter()
        .any(|w| w.contains("ends before it starts")));
    assert_eq!(
        p.events[1].end,
        When::Date {
            date: NaiveDate::from_ymd_opt(2026, 1, 3).unwrap()
        },
        "a DATE start keeps a DATE end"
    );
}

#[test]
fn outlook_display_name_tzid_is_matched_with_its_city_hint() {
    let p = parse(&cal(concat!(
        "BEGIN:VTIMEZONE\nTZID:(UTC+01:00) Amsterdam\\, Berlin\\, Bern\\, Rome\\, Stockholm\\, Vienna\n",
        "BEGIN:STANDARD\nDTSTART:16010101T030000\nTZOFFSETFROM:+0200\nTZOFFSETTO:+0100\n",
        "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\nEND:STANDARD\n",
        "BEGIN:DAYLIGHT\nDTSTART:16010101T020000\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0200\n",
        "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\nEND:DAYLIGHT\nEND:VTIMEZONE\n",
        "BEGIN:VEVENT\nUID:a\n",
        // In the parameter the name is quoted, not escaped (as Outlook writes it).
        "DTSTART;TZID=\"(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna\":20260105T090000\n",
        "END:VEVENT",
    )));
    assert_eq!(
        p.events[0].start.zone(),
        Some(zone("Europe/Amsterdam")),
        "the first city named in the TZID whose zone fits the VTIMEZONE: {:?}",
        p.warnings
    );
}

#[test]
fn rfc6868_escapes_in_a_tzid_parameter_reach_the_vtimezone() {
    // The VTIMEZONE's TZID is `Office "HQ"^1`; in the DTSTART parameter it is written with RFC 6868
    // escapes: ^' for the quote and ^^ for the caret.
    let p = parse(&cal(concat!(
        "BEGIN:VTIMEZONE\nTZID:Office \"HQ\"^1\n",
        "BEGIN:STANDARD\nDTSTART:19700101T000000\nTZOFFSETFROM:+0530\nTZOFFSETTO:+0530\nEND:STANDARD\nEND:VTIMEZONE\n",
        "BEGIN:VEVENT\nUID:a\nDTSTART;TZID=Office ^'HQ^'^^1:20260105T090000\nEND:VEVENT",
    )));
    assert_eq!(
        p.events[0].start.to_utc(Zone::UTC),
        utc("2026-01-05 03:30"),
        "09:00 at +05:30, through the VTIMEZONE the escaped TZID names: {:?}",
        p.warnings
    );
}

#[test]
fn a_vtimezone_with_only_old_observances_is_matched_in_the_years_it_describes() {
    // RFC 5545 §4's America/New_York VTIMEZONE, renamed: two observances, no RRULE, 1998-1999 only.
    let p = parse(&cal(concat!(
        "BEGIN:VTIMEZONE\nTZID:NYC 1998\n",
        "BEGIN:STANDARD\nDTSTART:19981025T020000\nTZOFFSETFROM:-0400\nTZOFFSETTO:-0500\nEND:STANDARD\n",
        "BEGIN:DAYLIGHT\nDTSTART:19990404T020000\nTZOFFSETFROM:-0500\nTZOFFSETTO:-0400\nEND:DAYLIGHT\n",
        "END:VTIMEZONE\n",
        "BEGIN:VEVENT\nUID:a\nDTSTART;TZID=NYC 1998:19990312T083000\nEND:VEVENT\n",
        "BEGIN:VEVENT\nUID:b\nDTSTART;TZID=NYC 1998:19990612T083000\nEND:VEVENT",
    )));
    assert_eq!(
        p.events[0].start.to_utc(Zone::UTC),
        utc("1999-03-12 13:30"),
        "EST in March 1999"
    );
    assert_eq!(
        p.events[1].start.to_utc(Zone::UTC),
        utc("1999-06-12 12:30"),
        "EDT in June 1999"
    );
}

#[test]
fn cr_only_line_endings_are_read() {
    let text =
        cal("BEGIN:VEVENT\nUID:mac\nDTSTART:20260101T100000Z\nSUMMARY:Old\n Mac\nEND:VEVENT")
            .replace("\r\n", "\r");
    let p = parse(&text);
    assert_eq!(
        p.events.len(),
        1,
        "classic Mac OS files end lines with CR alone"
    );
    assert_eq!(p.events[0].title, "OldMac", "and fold the same way");
}
