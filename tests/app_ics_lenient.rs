//! Rules that break RFC 5545 §3.3.10 but come in real files still expand, through an .ics import, as the
//! widely used libraries expand them: the forbidden BYxxx part (BYWEEKNO without YEARLY, BYYEARDAY with
//! DAILY/WEEKLY/MONTHLY, BYMONTHDAY with WEEKLY) filters what FREQ produces, and an INTERVAL over 65535
//! steps as written. The expected dates are an independent expansion: python-dateutil 2.9's `rrulestr`
//! over 2026-01-01..2029-01-01 with the same DTSTART, written out here. A rule that cannot be read at all
//! still shows its first occurrence.

use chrono::{DateTime, Utc};
use punctual::app::{App, ListQuery};
use punctual::time::{FixedClock, Zone};
use std::sync::Arc;

fn app() -> App {
    let now = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .expect("valid")
        .with_timezone(&Utc);
    App::in_memory(Arc::new(FixedClock::new(now)), Zone::UTC).expect("app opens")
}

fn one_event(dtstart: &str, rule: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:odd@test\r\n\
         DTSTAMP:20251201T000000Z\r\nDTSTART:{dtstart}\r\nDURATION:PT30M\r\nRRULE:{rule}\r\n\
         SUMMARY:Odd rule\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

/// Every occurrence start in [from, to), in list order, across all pages.
fn starts(app: &App, from: &str, to: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut q = ListQuery {
        from: Some(from.into()),
        to: Some(to.into()),
        all: true,
        limit: Some(100),
        ..Default::default()
    };
    loop {
        let page = app.list_events(&q).expect("listing works");
        out.extend(page.events.into_iter().map(|v| v.start_time));
        match page.next_cursor {
            Some(c) => {
                q = ListQuery {
                    cursor: Some(c),
                    limit: Some(100),
                    ..Default::default()
                }
            }
            None => return out,
        }
    }
}

struct Case {
    why: &'static str,
    dtstart: &'static str,
    rule: &'static str,
    want: &'static [&'static str],
}

const CASES: &[Case] = &[
        Case {
            why: "BYWEEKNO without YEARLY: every day of weeks 2 and 20 that the months hold (no default day from DTSTART, since a day part is given)",
            dtstart: "20260105T090000Z",
            rule: "FREQ=MONTHLY;BYWEEKNO=2,20",
            want: &[
                "2026-01-05T09:00:00Z",
                "2026-01-06T09:00:00Z",
                "2026-01-07T09:00:00Z",
                "2026-01-08T09:00:00Z",
                "2026-01-09T09:00:00Z",
                "2026-01-10T09:00:00Z",
                "2026-01-11T09:00:00Z",
                "2026-05-11T09:00:00Z",
                "2026-05-12T09:00:00Z",
                "2026-05-13T09:00:00Z",
                "2026-05-14T09:00:00Z",
                "2026-05-15T09:00:00Z",
                "2026-05-16T09:00:00Z",
                "2026-05-17T09:00:00Z",
                "2027-01-11T09:00:00Z",
                "2027-01-12T09:00:00Z",
                "2027-01-13T09:00:00Z",
                "2027-01-14T09:00:00Z",
                "2027-01-15T09:00:00Z",
                "2027-01-16T09:00:00Z",
                "2027-01-17T09:00:00Z",
                "2027-05-17T09:00:00Z",
                "2027-05-18T09:00:00Z",
                "2027-05-19T09:00:00Z",
                "2027-05-20T09:00:00Z",
                "2027-05-21T09:00:00Z",
                "2027-05-22T09:00:00Z",
                "2027-05-23T09:00:00Z",
                "2028-01-10T09:00:00Z",
                "2028-01-11T09:00:00Z",
                "2028-01-12T09:00:00Z",
                "2028-01-13T09:00:00Z",
                "2028-01-14T09:00:00Z",
                "2028-01-15T09:00:00Z",
                "2028-01-16T09:00:00Z",
                "2028-05-15T09:00:00Z",
                "2028-05-16T09:00:00Z",
                "2028-05-17T09:00:00Z",
                "2028-05-18T09:00:00Z",
                "2028-05-19T09:00:00Z",
                "2028-05-20T09:00:00Z",
                "2028-05-21T09:00:00Z",
            ],
        },
        Case {
            why: "BYWEEKNO with WEEKLY: the Monday of week 20 each year",
            dtstart: "20260511T090000Z",
            rule: "FREQ=WEEKLY;BYWEEKNO=20;BYDAY=MO",
            want: &[
                "2026-05-11T09:00:00Z",
                "2027-05-17T09:00:00Z",
                "2028-05-15T09:00:00Z",
            ],
        },
        Case {
            why: "BYWEEKNO with DAILY, across a year boundary (week 1 of 2027 starts on 4 January)",
            dtstart: "20261228T090000Z",
            rule: "FREQ=DAILY;BYWEEKNO=1;BYDAY=MO,FR",
            // DTSTART (week 53 of 2026) is the first instance whatever the rule says (RFC 5545 §3.8.5.3);
            // python-dateutil leaves it out, so it is added here by hand.
            want: &[
                "2026-12-28T09:00:00Z",
                "2027-01-04T09:00:00Z",
                "2027-01-08T09:00:00Z",
                "2028-01-03T09:00:00Z",
                "2028-01-07T09:00:00Z",
            ],
        },
        Case {
            why: "BYYEARDAY with MONTHLY: day 100 and the last day of each year (2028 is a leap year)",
            dtstart: "20260410T090000Z",
            rule: "FREQ=MONTHLY;BYYEARDAY=100,-1",
            want: &[
                "2026-04-10T09:00:00Z",
                "2026-12-31T09:00:00Z",
                "2027-04-10T09:00:00Z",
                "2027-12-31T09:00:00Z",
                "2028-04-09T09:00:00Z",
                "2028-12-31T09:00:00Z",
            ],
        },
        Case {
            why: "BYYEARDAY with DAILY and COUNT: COUNT counts the filtered days",
            dtstart: "20260410T090000Z",
            rule: "FREQ=DAILY;BYYEARDAY=1,100;COUNT=4",
            want: &[
                "2026-04-10T09:00:00Z",
                "2027-01-01T09:00:00Z",
                "2027-04-10T09:00:00Z",
                "2028-01-01T09:00:00Z",
            ],
        },
        Case {
            why: "BYYEARDAY with WEEKLY every other week: a day is kept only in a week on the INTERVAL grid",
            dtstart: "20260410T090000Z",
            rule: "FREQ=WEEKLY;INTERVAL=2;BYYEARDAY=100,107,114",
            want: &[
                "2026-04-10T09:00:00Z",
                "2026-04-24T09:00:00Z",
                "2027-04-10T09:00:00Z",
                "2027-04-24T09:00:00Z",
                "2028-04-09T09:00:00Z",
                "2028-04-23T09:00:00Z",
            ],
        },
        Case {
            why: "BYMONTHDAY with WEEKLY every other week",
            dtstart: "20260120T090000Z",
            rule: "FREQ=WEEKLY;INTERVAL=2;BYMONTHDAY=13,15,20",
            want: &[
                "2026-01-20T09:00:00Z",
                "2026-02-20T09:00:00Z",
                "2026-03-20T09:00:00Z",
                "2026-04-13T09:00:00Z",
                "2026-04-15T09:00:00Z",
                "2026-05-13T09:00:00Z",
                "2026-05-15T09:00:00Z",
                "2026-06-13T09:00:00Z",
                "2026-07-20T09:00:00Z",
                "2026-08-20T09:00:00Z",
                "2026-09-15T09:00:00Z",
                "2026-09-20T09:00:00Z",
                "2026-10-13T09:00:00Z",
                "2026-10-15T09:00:00Z",
                "2026-11-13T09:00:00Z",
                "2026-11-15T09:00:00Z",
                "2026-12-13T09:00:00Z",
                "2027-01-20T09:00:00Z",
                "2027-02-15T09:00:00Z",
                "2027-02-20T09:00:00Z",
                "2027-03-15T09:00:00Z",
                "2027-03-20T09:00:00Z",
                "2027-04-13T09:00:00Z",
                "2027-04-15T09:00:00Z",
                "2027-05-13T09:00:00Z",
                "2027-05-15T09:00:00Z",
                "2027-06-13T09:00:00Z",
                "2027-07-20T09:00:00Z",
                "2027-08-20T09:00:00Z",
                "2027-09-13T09:00:00Z",
                "2027-09-15T09:00:00Z",
                "2027-10-13T09:00:00Z",
                "2027-10-15T09:00:00Z",
                "2027-11-13T09:00:00Z",
                "2027-12-20T09:00:00Z",
                "2028-01-20T09:00:00Z",
                "2028-02-15T09:00:00Z",
                "2028-02-20T09:00:00Z",
                "2028-03-13T09:00:00Z",
                "2028-03-15T09:00:00Z",
                "2028-04-13T09:00:00Z",
                "2028-04-15T09:00:00Z",
                "2028-05-13T09:00:00Z",
                "2028-06-20T09:00:00Z",
                "2028-07-20T09:00:00Z",
                "2028-08-15T09:00:00Z",
                "2028-08-20T09:00:00Z",
                "2028-09-13T09:00:00Z",
                "2028-09-15T09:00:00Z",
                "2028-10-13T09:00:00Z",
                "2028-10-15T09:00:00Z",
                "2028-11-20T09:00:00Z",
                "2028-12-20T09:00:00Z",
            ],
        },
        Case {
            why: "BYMONTHDAY with WEEKLY, BYDAY and BYSETPOS: the first match of each week",
            dtstart: "20260115T090000Z",
            rule: "FREQ=WEEKLY;BYMONTHDAY=1,15;BYDAY=MO,TH;BYSETPOS=1",
            want: &[
                "2026-01-15T09:00:00Z",
                "2026-06-01T09:00:00Z",
                "2026-06-15T09:00:00Z",
                "2026-10-01T09:00:00Z",
                "2026-10-15T09:00:00Z",
                "2027-02-01T09:00:00Z",
                "2027-02-15T09:00:00Z",
                "2027-03-01T09:00:00Z",
                "2027-03-15T09:00:00Z",
                "2027-04-01T09:00:00Z",
                "2027-04-15T09:00:00Z",
                "2027-07-01T09:00:00Z",
                "2027-07-15T09:00:00Z",
                "2027-11-01T09:00:00Z",
                "2027-11-15T09:00:00Z",
                "2028-05-01T09:00:00Z",
                "2028-05-15T09:00:00Z",
                "2028-06-01T09:00:00Z",
                "2028-06-15T09:00:00Z",
            ],
        },
        Case {
            why: "INTERVAL over 65535, DAILY: the next instance is 191 years away",
            dtstart: "20260105T090000Z",
            rule: "FREQ=DAILY;INTERVAL=70000",
            want: &[
                "2026-01-05T09:00:00Z",
            ],
        },
        Case {
            why: "INTERVAL over 65535, SECONDLY with COUNT: every 27 h 46 min 40 s",
            dtstart: "20260105T090000Z",
            rule: "FREQ=SECONDLY;INTERVAL=100000;COUNT=5",
            want: &[
                "2026-01-05T09:00:00Z",
                "2026-01-06T12:46:40Z",
                "2026-01-07T16:33:20Z",
                "2026-01-08T20:20:00Z",
                "2026-01-10T00:06:40Z",
            ],
        },
        Case {
            why: "INTERVAL over 65535, MINUTELY: every 48 days 14 h 40 min",
            dtstart: "20260105T090000Z",
            rule: "FREQ=MINUTELY;INTERVAL=70000",
            want: &[
                "2026-01-05T09:00:00Z",
                "2026-02-22T23:40:00Z",
                "2026-04-12T14:20:00Z",
                "2026-05-31T05:00:00Z",
                "2026-07-18T19:40:00Z",
                "2026-09-05T10:20:00Z",
                "2026-10-24T01:00:00Z",
                "2026-12-11T15:40:00Z",
                "2027-01-29T06:20:00Z",
                "2027-03-18T21:00:00Z",
                "2027-05-06T11:40:00Z",
                "2027-06-24T02:20:00Z",
                "2027-08-11T17:00:00Z",
                "2027-09-29T07:40:00Z",
                "2027-11-16T22:20:00Z",
                "2028-01-04T13:00:00Z",
                "2028-02-22T03:40:00Z",
                "2028-04-10T18:20:00Z",
                "2028-05-29T09:00:00Z",
                "2028-07-16T23:40:00Z",
                "2028-09-03T14:20:00Z",
                "2028-10-22T05:00:00Z",
                "2028-12-09T19:40:00Z",
            ],
        },
];

#[test]
fn off_spec_rules_expand_as_a_filter_on_what_freq_produces() {
    for case in CASES {
        let app = app();
        let report = app
            .import_ics(&one_event(case.dtstart, case.rule), None)
            .expect("the file imports");
        assert_eq!(report.created, 1, "{}: the event is stored", case.rule);
        let got = starts(&app, "2026-01-01", "2029-01-01");
        assert_eq!(
            got, case.want,
            "{} ({}): the occurrences are dateutil's",
            case.rule, case.why
        );
    }
}

#[test]
fn off_spec_rules_keep_their_warning() {
    for (rule, part) in [
        ("FREQ=MONTHLY;BYWEEKNO=2,20", "BYWEEKNO"),
        ("FREQ=DAILY;BYYEARDAY=1,100", "BYYEARDAY"),
        ("FREQ=WEEKLY;BYMONTHDAY=15", "BYMONTHDAY"),
        ("FREQ=DAILY;INTERVAL=70000", "INTERVAL=70000"),
    ] {
        let report = app()
            .import_ics(&one_event("20260105T090000Z", rule), None)
            .expect("the file imports");
        assert!(
            report
                .warnings
                .iter()
                .any(|w| w.contains(part) && w.contains("RFC 5545")
                    || w.contains(part) && w.contains("65535")),
            "{rule}: the import says the rule breaks RFC 5545 ({part}), got {:?}",
            report.warnings
        );
    }
}

#[test]
fn an_unreadable_rule_still_shows_its_first_occurrence() {
    let app = app();
    let report = app
        .import_ics(&one_event("20260105T090000Z", "FREQ=DAILY;BYHOUR=25"), None)
        .expect("the file imports");
    assert_eq!(report.created, 1, "the event is stored");
    assert!(
        report.warnings.iter().any(|w| w.contains("BYHOUR=25")),
        "the import says which rule it could not read, got {:?}",
        report.warnings
    );
    assert_eq!(
        starts(&app, "2026-01-01", "2027-01-01"),
        ["2026-01-05T09:00:00Z"],
        "a stored event never vanishes: DTSTART is its first occurrence (RFC 5545 §3.8.5.3)"
    );
}
