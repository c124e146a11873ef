//! Real-world iCalendar files (../shared/fixtures/ics, not copied into the repository) parse, and their
//! occurrences in a window match an independent computation written here by hand from each file's text.

// Tests report failure by panicking; STYLE.md's "no unwrap()" is for code outside tests.
#![allow(clippy::unwrap_used)]

#[path = "support/fixtures.rs"]
mod fixtures;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use punctual::ical::{self, ParseOptions, Parsed};
use punctual::model::Event;
use punctual::recurrence::{self, Override, Series, Window};
use punctual::time::Zone;
use std::path::PathBuf;

fn fixtures_dir() -> Option<PathBuf> {
    let dir = fixtures::dir("ics");
    if dir.is_dir() {
        Some(dir)
    } else {
        fixtures::missing(&dir, "no such folder");
        None
    }
}

fn opts() -> ParseOptions {
    ParseOptions {
        calendar_id: "fixtures".to_string(),
        user_zone: Zone::parse("UTC").unwrap(),
        now: Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap(),
    }
}

fn load(name: &str) -> Option<Parsed> {
    let dir = fixtures_dir()?;
    let bytes = std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    Some(ical::parse_bytes(&bytes, &opts()).unwrap_or_else(|e| panic!("{name} must parse: {e}")))
}

fn at(s: &str) -> DateTime<Utc> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M")
        .unwrap()
        .and_utc()
}

/// (start, end) pairs from "YYYY-MM-DD HH:MM" strings, in UTC.
fn spans(list: &[(&str, &str)]) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    list.iter().map(|(a, b)| (at(a), at(b))).collect()
}

/// The occurrences of the event `uid` (its master with every override of the same uid) inside
/// [from, to), in UTC, through `punctual::recurrence::expand`. A single event is its own occurrence.
fn occurrences(p: &Parsed, uid: &str, from: &str, to: &str) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let fz = opts().user_zone;
    let master: &Event = p
        .events
        .iter()
        .find(|e| e.uid == uid && e.recurrence_id.is_none())
        .unwrap_or_else(|| panic!("no master with UID {uid}"));
    let window = Window {
        start: at(from),
        end: at(to),
    };
    let Some(rec) = master.recurrence.as_ref() else {
        let (s, e) = (master.start.to_utc(fz), master.end.to_utc(fz));
        return if s < window.end && e > window.start {
            vec![(s, e)]
        } else {
            vec![]
        };
    };
    let overrides: Vec<Override> = p
        .events
        .iter()
        .filter(|e| e.uid == uid)
        .filter_map(|e| {
            Some(Override {
                recurrence_id: e.recurrence_id?,
                this_and_future: e.this_and_future,
                start: e.start,
                end: e.end,
                cancelled: e.status == punctual::model::EventStatus::Cancelled,
            })
        })
        .collect();
    let series = Series {
        start: master.start,
        end: master.end,
        recurrence: rec,
    };
    let x = recurrence::expand(&series, &overrides, window, fz, 10_000)
        .unwrap_or_else(|e| panic!("{uid} must expand: {e}"));
    x.instances.iter().map(|i| (i.start, i.end)).collect()
}

fn uid_of(p: &Parsed, summary_prefix: &str) -> String {
    p.events
        .iter()
        .find(|e| e.title.starts_with(summary_prefix))
        .unwrap_or_else(|| panic!("no event titled {summary_prefix}..."))
        .uid
        .clone()
}

/// Exchange 2010, TZID "Eastern Standard Time" (a Windows name) with its VTIMEZONE. 2024-10-28 is before the
/// first Sunday of November (Nov 3), so EDT (-04:00): 17:00 local is 21:00 UTC.
#[test]
fn exchange_eastern_standard_time() {
    let Some(p) = load("exchange2010_eastern_standard_time.ics") else {
        return;
    };
    assert_eq!(
        p.events[0].time_zone,
        Zone::parse("America/New_York").unwrap(),
        "Windows name mapped through CLDR"
    );
    assert_eq!(
        occurrences(
            &p,
            "minimal-demo-event-est-20241028@example.com",
            "2024-10-01 00:00",
            "2024-12-01 00:00"
        ),
        spans(&[("2024-10-28 21:00", "2024-10-28 22:00")])
    );
}

/// Exchange 2010, quoted TZID "Pacific Standard Time": 2017-02-24 12:00 PST (-08:00) is 20:00 UTC.
#[test]
fn exchange_pacific_standard_time_quoted_tzid() {
    let Some(p) = load("exchange2010_pacific_standard_time.ics") else {
        return;
    };
    let uid = uid_of(&p, "Test 4");
    assert_eq!(
        occurrences(&p, &uid, "2017-02-01 00:00", "2017-03-01 00:00"),
        spans(&[("2017-02-24 20:00", "2017-02-24 20:30")])
    );
}

/// Exchange 2010: an all-day series every other Thursday from 2020-04-02, until 2020-09-16T23:00Z, with
/// three instances moved a day later by RECURRENCE-IDs written as date-times in "GMT Standard Time" (which
/// must be read as the series' dates). Thursdays: Apr 2, 16→17, 30, May 14, 28→29, Jun 11, 25, Jul 9, 23,
/// Aug 6, 20, Sep 3→4. Dates are read in the floating zone, UTC here.
#[test]
fn exchange_all_day_series_with_recurrence_id_overrides() {
    let Some(p) = load("exchange2010_gmt_recurrence_id.ics") else {
        return;
    };
    let uid = uid_of(&p, "Refuse black bin");
    let days = [
        "04-02", "04-17", "04-30", "05-14", "05-29", "06-11", "06-25", "07-09", "07-23", "08-06",
        "08-20", "09-04",
    ];
    let want: Vec<_> = days
        .iter()
        .map(|d| {
            let s = at(&format!("2020-{d} 00:00"));
            (s, s + chrono::Duration::days(1))
        })
        .collect();
    assert_eq!(
        occurrences(&p, &uid, "2020-04-01 00:00", "2020-09-10 00:00"),
        want
    );
}

/// Google export with X-WR-TIMEZONE America/New_York and UTC times: 17:00Z stays 17:00Z (noon EST), and the
/// event's zone is the calendar's.
#[test]
fn google_x_wr_timezone() {
    let Some(p) = load("google_x_wr_timezone.ics") else {
        return;
    };
    let ny = Zone::parse("America/New_York").unwrap();
    assert_eq!(p.time_zone, Some(ny));
    assert!(p.events.iter().all(|e| e.time_zone == ny));
    assert_eq!(
        occurrences(
            &p,
            "3bc4jff97631or97ntnk75n4se@google.com",
            "2021-12-01 00:00",
            "2022-01-01 00:00"
        ),
        spans(&[("2021-12-22 17:00", "2021-12-22 18:00")])
    );
    assert_eq!(
        occurrences(
            &p,
            "14n7h56i35m32ukcq76s46d45p@google.com",
            "2021-12-01 00:00",
            "2022-01-01 00:00"
        ),
        spans(&[("2021-12-23 02:00", "2021-12-23 03:00")])
    );
}

/// Google: a yearly 19:00-20:00 America/Los_Angeles series from 2014-08-01, 2016 excluded by EXDATE, and
/// the 2014 instance moved to 18:30-19:30. August is PDT (-07:00): 19:00 is 02:00Z the next day.
#[test]
fn google_exdate_and_override() {
    let Some(p) = load("google_exdate_and_override.ics") else {
        return;
    };
    assert_eq!(
        occurrences(
            &p,
            "aogpprh4bolu8ckmop49ca6404@google.com",
            "2014-01-01 00:00",
            "2019-01-01 00:00"
        ),
        spans(&[
            ("2014-08-02 01:30", "2014-08-02 02:30"),
            ("2015-08-02 02:00", "2015-08-02 03:00"),
            ("2017-08-02 02:00", "2017-08-02 03:00"),
            ("2018-08-02 02:00", "2018-08-02 03:00"),
        ])
    );
}

/// Google, Europe/Lisbon, weekly on Mondays 11:30-13:00 from 2020-09-21. Summer time (+01:00) ends on
/// 2020-10-25, so the wall-clock time stays 11:30 while UTC moves from 10:30 to 11:30.
#[test]
fn google_lisbon_weekly_across_dst() {
    let Some(p) = load("google_lisbon_weekly_dst.ics") else {
        return;
    };
    assert_eq!(
        occurrences(&p, "EVENT2", "2020-10-12 00:00", "2020-11-10 00:00"),
        spans(&[
            ("2020-10-12 10:30", "2020-10-12 12:00"),
            ("2020-10-19 10:30", "2020-10-19 12:00"),
            ("2020-10-26 11:30", "2020-10-26 13:00"),
            ("2020-11-02 11:30", "2020-11-02 13:00"),
            ("2020-11-09 11:30", "2020-11-09 13:00"),
        ])
    );
}

/// SabreDAV: weekly 00:30-01:00 Europe/Berlin from 2019-03-04, COUNT=8, two instances excluded by UTC
/// EXDATEs (2019-03-10T23:30Z and 2019-03-24T23:30Z are the Mar 11 and Mar 25 instances, CET). COUNT counts
/// the excluded ones too (§3.8.5.3). From Mar 31 CEST (+02:00) applies: 00:30 is 22:30Z the day before.
#[test]
fn nextcloud_weekly_with_two_deleted() {
    let Some(p) = load("nextcloud_sabredav_weekly_two_deleted.ics") else {
        return;
    };
    assert_eq!(
        occurrences(
            &p,
            "SX2CURHKFTKKFFU3VUD7K",
            "2019-03-01 00:00",
            "2019-06-01 00:00"
        ),
        spans(&[
            ("2019-03-03 23:30", "2019-03-04 00:00"),
            ("2019-03-17 23:30", "2019-03-18 00:00"),
            ("2019-03-31 22:30", "2019-03-31 23:00"),
            ("2019-04-07 22:30", "2019-04-07 23:00"),
            ("2019-04-14 22:30", "2019-04-14 23:00"),
            ("2019-04-21 22:30", "2019-04-21 23:00"),
        ])
    );
}

/// DAVx5: Tuesdays 16:15 Europe/Berlin (+PT1H30M) from 2019-10-15 with a folded comma-list EXDATE in UTC
/// removing Oct 15, Oct 22 (CEST, 14:15Z) and Nov 5, 19, 26, Dec 3, 17, 24, 31 (CET, 15:15Z; the last value
/// is folded mid-token). Left: Oct 29, Nov 12, Dec 10, Jan 7, Jan 14.
#[test]
fn davx5_exdate_list() {
    let Some(p) = load("rie_exdate.ics") else {
        return;
    };
    assert_eq!(
        occurrences(
            &p,
            "f0f31ddb-6918-46af-a5a1-0a7254fbce71",
            "2019-10-01 00:00",
            "2020-01-15 00:00"
        ),
        spans(&[
            ("2019-10-29 15:15", "2019-10-29 16:45"),
            ("2019-11-12 15:15", "2019-11-12 16:45"),
            ("2019-12-10 15:15", "2019-12-10 16:45"),
            ("2020-01-07 15:15", "2020-01-07 16:45"),
            ("2020-01-14 15:15", "2020-01-14 16:45"),
        ])
    );
}

/// RANGE=THISANDFUTURE: every other day at 12:00Z (2h) from 2024-09-01, plus an RDATE on Sep 14 09:00Z.
/// From Sep 13 on, instances move 3h earlier and last 7h; Sep 15 has its own override (17:00-19:00); from
/// Sep 21 on, instances move 26h22m later and last 1h51m (§3.8.4.4: the latest THISANDFUTURE wins).
#[test]
fn range_thisandfuture() {
    let Some(p) = load("rie_range_thisandfuture.ics") else {
        return;
    };
    assert_eq!(p.events.iter().filter(|e| e.this_and_future).count(), 2);
    assert_eq!(
        occurrences(&p, "210", "2024-09-09 00:00", "2024-09-25 00:00"),
        spans(&[
            ("2024-09-09 12:00", "2024-09-09 14:00"),
            ("2024-09-11 12:00", "2024-09-11 14:00"),
            ("2024-09-13 09:00", "2024-09-13 16:00"),
            ("2024-09-14 06:00", "2024-09-14 13:00"),
            ("2024-09-15 17:00", "2024-09-15 19:00"),
            ("2024-09-17 09:00", "2024-09-17 16:00"),
            ("2024-09-19 09:00", "2024-09-19 16:00"),
            ("2024-09-22 14:22", "2024-09-22 16:13"),
            ("2024-09-24 14:22", "2024-09-24 16:13"),
        ])
    );
}

/// RDATE overlapping a rule instance gives one instance; an EXDATE removes an RDATE too. The file has no
/// UIDs, so each event gets a derived one.
#[test]
fn rdate_overlap_and_exdate() {
    let Some(p) = load("rie_rdate.ics") else {
        return;
    };
    let a = uid_of(&p, "rdate and rrule overlap");
    let b = uid_of(&p, "rdate and rrule overlap but");
    let c = uid_of(&p, "rdate but exdate");
    assert!(a != b && b != c && a != c, "derived UIDs differ");
    assert_eq!(
        occurrences(&p, &a, "2014-07-04 00:00", "2014-07-07 00:00"),
        spans(&[
            ("2014-07-04 19:00", "2014-07-04 21:00"),
            ("2014-07-05 19:00", "2014-07-05 21:00"),
            ("2014-07-06 19:00", "2014-07-06 21:00"),
        ])
    );
    assert_eq!(
        occurrences(&p, &b, "2015-07-04 00:00", "2015-07-07 00:00"),
        spans(&[
            ("2015-07-04 19:00", "2015-07-04 21:00"),
            ("2015-07-06 19:00", "2015-07-06 21:00")
        ])
    );
    assert_eq!(
        occurrences(&p, &c, "2024-01-01 00:00", "2026-01-01 00:00"),
        spans(&[("2024-08-03 19:00", "2024-08-03 21:00")])
    );
}

/// ical.js: DAILY COUNT=4 from 2024-06-09T03:00Z, EXDATE;VALUE=DATE:20240611 removes the instance on that
/// date. DTSTART without DTEND: zero length (§3.6.1).
#[test]
fn icaljs_date_exdate_on_a_date_time_series() {
    let Some(p) = load("icaljs_rdate_exdate.ics") else {
        return;
    };
    assert_eq!(
        occurrences(&p, "123", "2024-06-01 00:00", "2024-07-01 00:00"),
        spans(&[
            ("2024-06-09 03:00", "2024-06-09 03:00"),
            ("2024-06-10 03:00", "2024-06-10 03:00"),
            ("2024-06-12 03:00", "2024-06-12 03:00"),
        ])
    );
}

/// RFC 5545 §4 examples: a UTC event spanning days (example 1), a zoned one in EST (example 2: 08:30 -05:00
/// is 13:30Z), and from libical's RFC 2445 examples a yearly all-day anniversary from 1997-11-02.
#[test]
fn rfc5545_section4_examples() {
    let Some(p1) = load("rfc5545_section4_example1.ics") else {
        return;
    };
    assert_eq!(
        occurrences(
            &p1,
            "uid1@example.com",
            "1996-09-01 00:00",
            "1996-10-01 00:00"
        ),
        spans(&[("1996-09-18 14:30", "1996-09-20 22:00")])
    );
    let Some(p2) = load("rfc5545_section4_example2.ics") else {
        return;
    };
    assert_eq!(
        occurrences(
            &p2,
            "guid-1.example.com",
            "1998-03-01 00:00",
            "1998-04-01 00:00"
        ),
        spans(&[("1998-03-12 13:30", "1998-03-12 14:30")])
    );
    let Some(p3) = load("rfc2445_examples_libical.ics") else {
        return;
    };
    assert_eq!(
        occurrences(
            &p3,
            "19970901T130000Z-123403@host.com",
            "1997-01-01 00:00",
            "2000-01-01 00:00"
        ),
        spans(&[
            ("1997-11-02 00:00", "1997-11-03 00:00"),
            ("1998-11-02 00:00", "1998-11-03 00:00"),
            ("1999-11-02 00:00", "1999-11-03 00:00"),
        ])
    );
}

#[test]
fn every_fixture_parses_without_error() {
    let Some(dir) = fixtures_dir() else { return };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ics"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 30,
        "the fixture folder holds the real-world files"
    );
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        let p = ical::parse_bytes(&bytes, &opts())
            .unwrap_or_else(|e| panic!("{} must parse: {e}", f.display()));
        for e in &p.events {
            assert!(
                !e.uid.is_empty() && !e.title.is_empty(),
                "{}: every event has a uid and a title",
                f.display()
            );
            assert!(
                e.end.to_utc(Zone::UTC) >= e.start.to_utc(Zone::UTC),
                "{}: {} ends before it starts",
                f.display(),
                e.uid
            );
        }
        for w in &p.warnings {
            eprintln!("{}: warning: {w}", f.display());
        }
    }
}
