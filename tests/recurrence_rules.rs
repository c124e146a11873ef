//! Known-answer tests for recurrence expansion. Expected dates are worked out by hand; where an example comes
//! from RFC 5545 §3.8.5.3 ("Examples" of RRULE) it says so, with the RFC's DTSTART in America/New_York.
//! US DST in 2026 starts on Sunday 8 March (02:00 → 03:00) and ends on Sunday 1 November (02:00 → 01:00).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use punctual::model::Recurrence;
use punctual::recurrence::{expand, validate_rrule, Expansion, Override, Series, Window};
use punctual::time::{When, Zone};
use std::time::Instant;

fn zone(name: &str) -> Zone {
    Zone::parse(name).expect("test zones are IANA names")
}
fn ny() -> Zone {
    zone("America/New_York")
}
fn local(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").expect("test times are YYYY-MM-DDTHH:MM")
}
fn utc(s: &str) -> DateTime<Utc> {
    local(s).and_utc()
}
fn zoned(s: &str, z: Zone) -> When {
    When::Zoned {
        local: local(s),
        zone: z,
    }
}
fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test dates are YYYY-MM-DD")
}
fn rec(rules: &[&str]) -> Recurrence {
    Recurrence {
        rrules: rules.iter().map(|r| r.to_string()).collect(),
        rdates: vec![],
        exdates: vec![],
    }
}
fn window(from: DateTime<Utc>, to: DateTime<Utc>) -> Window {
    Window {
        start: from,
        end: to,
    }
}

/// Expands a one-hour series starting at `start` in `z` over a generous window and returns the local start
/// times as "YYYY-MM-DD HH:MM".
fn starts(start: &str, z: Zone, r: &Recurrence, from: &str, to: &str) -> Vec<String> {
    let s = zoned(start, z);
    let e = When::Zoned {
        local: local(start) + chrono::Duration::hours(1),
        zone: z,
    };
    let series = Series {
        start: s,
        end: e,
        recurrence: r,
    };
    let x =
        expand(&series, &[], window(utc(from), utc(to)), Zone::UTC, 10_000).expect("rule is valid");
    assert!(!x.capped, "a small window must not hit the cap");
    x.instances
        .iter()
        .map(|i| z.local(i.start).format("%Y-%m-%d %H:%M").to_string())
        .collect()
}

fn at_nine(days: &[&str]) -> Vec<String> {
    days.iter().map(|d| format!("{d} 09:00")).collect()
}

#[test]
fn rfc_daily_for_10_occurrences() {
    // RFC 5545: "Daily for 10 occurrences" DTSTART;TZID=America/New_York:19970902T090000 RRULE:FREQ=DAILY;COUNT=10
    let got = starts(
        "1997-09-02T09:00",
        ny(),
        &rec(&["FREQ=DAILY;COUNT=10"]),
        "1997-01-01T00:00",
        "1999-01-01T00:00",
    );
    let want: Vec<String> = (2..=11).map(|d| format!("1997-09-{d:02} 09:00")).collect();
    assert_eq!(got, want, "COUNT=10 gives exactly the ten days Sep 2..11");
}

#[test]
fn rfc_daily_until_keeps_local_time_across_dst_end() {
    // RFC 5545: "Daily until December 24, 1997": UNTIL=19971224T000000Z gives Sep 2 .. Dec 23 (113 days),
    // always 09:00 local although DST ended on 26 Oct 1997.
    let r = rec(&["FREQ=DAILY;UNTIL=19971224T000000Z"]);
    let got = starts(
        "1997-09-02T09:00",
        ny(),
        &r,
        "1997-01-01T00:00",
        "1999-01-01T00:00",
    );
    assert_eq!(got.len(), 113, "Sep 2 through Dec 23 inclusive is 113 days");
    assert_eq!(
        got.first().map(String::as_str),
        Some("1997-09-02 09:00"),
        "DTSTART is the first instance"
    );
    assert_eq!(
        got.last().map(String::as_str),
        Some("1997-12-23 09:00"),
        "Dec 24 09:00 EST is after UNTIL"
    );
    assert!(
        got.iter().all(|s| s.ends_with("09:00")),
        "a zoned series keeps its wall-clock time across DST"
    );
}

#[test]
fn rfc_every_other_week_on_tuesday_and_thursday() {
    // RFC 5545: "Every other week on Tuesday and Thursday, for 8 occurrences"
    let r = rec(&["FREQ=WEEKLY;INTERVAL=2;COUNT=8;WKST=SU;BYDAY=TU,TH"]);
    let got = starts(
        "1997-09-02T09:00",
        ny(),
        &r,
        "1997-01-01T00:00",
        "1999-01-01T00:00",
    );
    let want = at_nine(&[
        "1997-09-02",
        "1997-09-04",
        "1997-09-16",
        "1997-09-18",
        "1997-09-30",
        "1997-10-02",
        "1997-10-14",
        "1997-10-16",
    ]);
    assert_eq!(got, want, "RFC 5545 §3.8.5.3 lists these eight dates");
}

#[test]
fn rfc_monthly_on_the_first_friday() {
    // RFC 5545: "Monthly on the first Friday for 10 occurrences" DTSTART 19970905T090000
    let r = rec(&["FREQ=MONTHLY;COUNT=10;BYDAY=1FR"]);
    let got = starts(
        "1997-09-05T09:00",
        ny(),
        &r,
        "1997-01-01T00:00",
        "1999-01-01T00:00",
    );
    let want = at_nine(&[
        "1997-09-05",
        "1997-10-03",
        "1997-11-07",
        "1997-12-05",
        "1998-01-02",
        "1998-02-06",
        "1998-03-06",
        "1998-04-03",
        "1998-05-01",
        "1998-06-05",
    ]);
    assert_eq!(got, want, "RFC 5545 §3.8.5.3 lists these first Fridays");
}

#[test]
fn rfc_last_weekday_of_the_month_bysetpos() {
    // RFC 5545: "The last work day of the month" FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1
    let r = rec(&["FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1"]);
    let got = starts(
        "1997-09-29T09:00",
        ny(),
        &r,
        "1997-09-01T00:00",
        "1998-04-01T00:00",
    );
    // The RFC's list starts at 30 September; its DTSTART (Monday 29 September) is not synchronised with the
    // rule, and RFC 5545 says DTSTART is always the first instance, so it is listed here too (as Google
    // Calendar and libical do).
    let want = at_nine(&[
        "1997-09-29",
        "1997-09-30",
        "1997-10-31",
        "1997-11-28",
        "1997-12-31",
        "1998-01-30",
        "1998-02-27",
        "1998-03-31",
    ]);
    assert_eq!(
        got, want,
        "BYSETPOS=-1 picks the last weekday of each month"
    );
}

#[test]
fn rfc_first_saturday_after_first_sunday() {
    // RFC 5545: "Monthly on the first Saturday that follows the first Sunday of the month"
    let r = rec(&["FREQ=MONTHLY;COUNT=10;BYDAY=SA;BYMONTHDAY=7,8,9,10,11,12,13"]);
    let got = starts(
        "1997-09-13T09:00",
        ny(),
        &r,
        "1997-01-01T00:00",
        "1999-01-01T00:00",
    );
    let want = at_nine(&[
        "1997-09-13",
        "1997-10-11",
        "1997-11-08",
        "1997-12-13",
        "1998-01-10",
        "1998-02-07",
        "1998-03-07",
        "1998-04-11",
        "1998-05-09",
        "1998-06-13",
    ]);
    assert_eq!(got, want, "RFC 5545 §3.8.5.3 lists these Saturdays");
}

#[test]
fn rfc_third_tuesday_wednesday_or_thursday() {
    // RFC 5545: "The third instance into the month of one of Tuesday, Wednesday, or Thursday, for the next
    // 3 months"
    let r = rec(&["FREQ=MONTHLY;COUNT=3;BYDAY=TU,WE,TH;BYSETPOS=3"]);
    let got = starts(
        "1997-09-04T09:00",
        ny(),
        &r,
        "1997-01-01T00:00",
        "1999-01-01T00:00",
    );
    assert_eq!(
        got,
        at_nine(&["1997-09-04", "1997-10-07", "1997-11-06"]),
        "RFC 5545 §3.8.5.3 lists these"
    );
}

#[test]
fn rfc_every_15_minutes_for_6_occurrences() {
    let r = rec(&["FREQ=MINUTELY;INTERVAL=15;COUNT=6"]);
    let got = starts(
        "1997-09-02T09:00",
        ny(),
        &r,
        "1997-01-01T00:00",
        "1999-01-01T00:00",
    );
    let want: Vec<String> = ["09:00", "09:15", "09:30", "09:45", "10:00", "10:15"]
        .iter()
        .map(|t| format!("1997-09-02 {t}"))
        .collect();
    assert_eq!(
        got, want,
        "RFC 5545 §3.8.5.3: every 15 minutes for 6 occurrences"
    );
}

#[test]
fn rfc_every_3_hours_with_local_until() {
    // RFC 5545's "every 3 hours from 09:00 to 17:00" example, with UNTIL written as local time (no Z), as
    // real files do: rrule 0.14 refuses that with a zoned DTSTART, so it must be normalised.
    let r = rec(&["FREQ=HOURLY;INTERVAL=3;UNTIL=19970902T170000"]);
    let got = starts(
        "1997-09-02T09:00",
        ny(),
        &r,
        "1997-01-01T00:00",
        "1999-01-01T00:00",
    );
    let want: Vec<String> = ["09:00", "12:00", "15:00"]
        .iter()
        .map(|t| format!("1997-09-02 {t}"))
        .collect();
    assert_eq!(got, want, "a local UNTIL is read in the series' zone");
}

#[test]
fn rfc_every_20_minutes_during_office_hours() {
    let r = rec(&["FREQ=DAILY;BYHOUR=9,10,11,12,13,14,15,16;BYMINUTE=0,20,40"]);
    let got = starts(
        "1997-09-02T09:00",
        ny(),
        &r,
        "1997-09-02T00:00",
        "1997-09-04T04:00",
    );
    assert_eq!(
        got.len(),
        48,
        "8 hours × 3 per hour on each of Sep 2 and Sep 3"
    );
    assert_eq!(
        got[23], "1997-09-02 16:40",
        "the last slot of the first day is 16:40"
    );
}

#[test]
fn rfc_wkst_changes_the_result() {
    // RFC 5545: WKST matters for FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU.
    let mo = starts(
        "1997-08-05T09:00",
        ny(),
        &rec(&["FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO"]),
        "1997-01-01T00:00",
        "1999-01-01T00:00",
    );
    assert_eq!(
        mo,
        at_nine(&["1997-08-05", "1997-08-10", "1997-08-19", "1997-08-24"]),
        "weeks start Monday"
    );
    let su = starts(
        "1997-08-05T09:00",
        ny(),
        &rec(&["FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU"]),
        "1997-01-01T00:00",
        "1999-01-01T00:00",
    );
    assert_eq!(
        su,
        at_nine(&["1997-08-05", "1997-08-17", "1997-08-19", "1997-08-31"]),
        "weeks start Sunday"
    );
}

#[test]
fn rfc_monday_of_week_20() {
    let r = rec(&["FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO"]);
    let got = starts(
        "1997-05-12T09:00",
        ny(),
        &r,
        "1997-01-01T00:00",
        "1999-12-31T00:00",
    );
    assert_eq!(
        got,
        at_nine(&["1997-05-12", "1998-05-11", "1999-05-17"]),
        "Monday of ISO week 20"
    );
}

#[test]
fn rfc_friday_the_13th_with_exdate() {
    // RFC 5545: "Every Friday the 13th, forever" with EXDATE of DTSTART.
    let mut r = rec(&["FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13"]);
    r.exdates.push(zoned("1997-09-02T09:00", ny()));
    let got = starts(
        "1997-09-02T09:00",
        ny(),
        &r,
        "1997-01-01T00:00",
        "2000-12-31T00:00",
    );
    assert_eq!(
        got,
        at_nine(&[
            "1998-02-13",
            "1998-03-13",
            "1998-11-13",
            "1999-08-13",
            "2000-10-13"
        ]),
        "EXDATE removes the unsynchronised DTSTART; the rest are the Friday-the-13ths"
    );
}

#[test]
fn rfc_us_presidential_election_day() {
    let r = rec(&["FREQ=YEARLY;INTERVAL=4;BYMONTH=11;BYDAY=TU;BYMONTHDAY=2,3,4,5,6,7,8"]);
    let got = starts(
        "1996-11-05T09:00",
        ny(),
        &r,
        "1996-01-01T00:00",
        "2005-01-01T00:00",
    );
    assert_eq!(
        got,
        at_nine(&["1996-11-05", "2000-11-07", "2004-11-02"]),
        "RFC 5545 §3.8.5.3 election days"
    );
}

#[test]
fn rfc_third_to_last_day_of_month() {
    let r = rec(&["FREQ=MONTHLY;COUNT=6;BYMONTHDAY=-3"]);
    let got = starts(
        "1997-09-28T09:00",
        ny(),
        &r,
        "1997-01-01T00:00",
        "1999-01-01T00:00",
    );
    let want = at_nine(&[
        "1997-09-28",
        "1997-10-29",
        "1997-11-28",
        "1997-12-29",
        "1998-01-29",
        "1998-02-26",
    ]);
    assert_eq!(got, want, "BYMONTHDAY=-3 counts from the end of each month");
}

#[test]
fn rfc_yearly_by_year_day() {
    let r = rec(&["FREQ=YEARLY;INTERVAL=3;COUNT=10;BYYEARDAY=1,100,200"]);
    let got = starts(
        "1997-01-01T09:00",
        ny(),
        &r,
        "1997-01-01T00:00",
        "2010-01-01T00:00",
    );
    let want = at_nine(&[
        "1997-01-01",
        "1997-04-10",
        "1997-07-19",
        "2000-01-01",
        "2000-04-09",
        "2000-07-18",
        "2003-01-01",
        "2003-04-10",
        "2003-07-19",
        "2006-01-01",
    ]);
    assert_eq!(
        got, want,
        "RFC 5545 §3.8.5.3: every third year on days 1, 100 and 200"
    );
}

#[test]
fn dtstart_not_matching_the_rule_counts_as_first() {
    // 2026-03-02 is a Monday; the rule wants Tuesdays. RFC 5545: DTSTART always counts as the first instance.
    let got = starts(
        "2026-03-02T09:00",
        ny(),
        &rec(&["FREQ=WEEKLY;BYDAY=TU;COUNT=3"]),
        "2026-01-01T00:00",
        "2027-01-01T00:00",
    );
    assert_eq!(
        got,
        at_nine(&["2026-03-02", "2026-03-03", "2026-03-10"]),
        "DTSTART plus two Tuesdays make COUNT=3"
    );
}

#[test]
fn several_rrules_and_rdate() {
    let mut r = rec(&[
        "FREQ=WEEKLY;BYDAY=MO;COUNT=2",
        "FREQ=WEEKLY;BYDAY=WE;COUNT=2",
    ]);
    r.rdates.push(zoned("2026-03-06T09:00", ny()));
    let got = starts(
        "2026-03-02T09:00",
        ny(),
        &r,
        "2026-01-01T00:00",
        "2027-01-01T00:00",
    );
    assert_eq!(
        got,
        at_nine(&[
            "2026-03-02",
            "2026-03-04",
            "2026-03-06",
            "2026-03-09",
            "2026-03-11"
        ]),
        "the union of both rules and the RDATE, in order"
    );
}

#[test]
fn weekly_at_nine_new_york_across_both_dst_changes() {
    let z = ny();
    let r = rec(&["FREQ=WEEKLY;BYDAY=MO"]);
    let series = Series {
        start: zoned("2026-01-05T09:00", z),
        end: zoned("2026-01-05T10:00", z),
        recurrence: &r,
    };
    let x = expand(
        &series,
        &[],
        window(utc("2026-03-01T00:00"), utc("2026-03-17T00:00")),
        Zone::UTC,
        100,
    )
    .expect("valid");
    let got: Vec<DateTime<Utc>> = x.instances.iter().map(|i| i.start).collect();
    assert_eq!(
        got,
        vec![
            utc("2026-03-02T14:00"),
            utc("2026-03-09T13:00"),
            utc("2026-03-16T13:00")
        ],
        "09:00 EST is 14:00Z; after 8 March 09:00 EDT is 13:00Z"
    );
    let x = expand(
        &series,
        &[],
        window(utc("2026-10-25T00:00"), utc("2026-11-10T00:00")),
        Zone::UTC,
        100,
    )
    .expect("valid");
    let got: Vec<DateTime<Utc>> = x.instances.iter().map(|i| i.start).collect();
    assert_eq!(
        got,
        vec![
            utc("2026-10-26T13:00"),
            utc("2026-11-02T14:00"),
            utc("2026-11-09T14:00")
        ],
        "after 1 November 09:00 EST is 14:00Z again"
    );
    assert!(
        x.instances
            .iter()
            .all(|i| i.end - i.start == chrono::Duration::hours(1)),
        "every instance lasts an hour"
    );
}

#[test]
fn nonexistent_time_moves_forward() {
    let z = ny();
    let r = rec(&["FREQ=DAILY"]);
    let series = Series {
        start: zoned("2026-03-06T02:30", z),
        end: zoned("2026-03-06T03:00", z),
        recurrence: &r,
    };
    let x = expand(
        &series,
        &[],
        window(utc("2026-03-07T00:00"), utc("2026-03-10T00:00")),
        Zone::UTC,
        100,
    )
    .expect("valid");
    let got: Vec<String> = x
        .instances
        .iter()
        .map(|i| z.local(i.start).format("%m-%d %H:%M").to_string())
        .collect();
    assert_eq!(
        got,
        vec!["03-07 02:30", "03-08 03:30", "03-09 02:30"],
        "RFC 5545 §3.3.5: 02:30 on 8 March moves to 03:30"
    );
    assert_eq!(
        x.instances[1].recurrence_id,
        zoned("2026-03-08T02:30", z),
        "the recurrence id stays the rule's own wall-clock value"
    );
}

#[test]
fn hourly_across_spring_forward_has_no_duplicate() {
    let z = ny();
    let r = rec(&["FREQ=HOURLY"]);
    let series = Series {
        start: zoned("2026-03-07T22:00", z),
        end: zoned("2026-03-07T22:30", z),
        recurrence: &r,
    };
    let x = expand(
        &series,
        &[],
        window(utc("2026-03-08T05:00"), utc("2026-03-08T09:00")),
        Zone::UTC,
        100,
    )
    .expect("valid");
    let got: Vec<DateTime<Utc>> = x.instances.iter().map(|i| i.start).collect();
    assert_eq!(
        got,
        vec![utc("2026-03-08T05:00"), utc("2026-03-08T06:00"), utc("2026-03-08T07:00"), utc("2026-03-08T08:00")],
        "00:00 EST, 01:00 EST, then 02:00 (nonexistent, moved to 03:00 EDT) and 03:00 EDT are one instance"
    );
    assert_eq!(
        x.instances[2].recurrence_id,
        zoned("2026-03-08T03:00", z),
        "the genuine wall-clock time is kept"
    );
}

#[test]
fn hourly_across_fall_back_takes_the_first_of_ambiguous_times() {
    let z = ny();
    let r = rec(&["FREQ=HOURLY"]);
    let series = Series {
        start: zoned("2026-10-31T22:00", z),
        end: zoned("2026-10-31T22:30", z),
        recurrence: &r,
    };
    let x = expand(
        &series,
        &[],
        window(utc("2026-11-01T04:00"), utc("2026-11-01T08:00")),
        Zone::UTC,
        100,
    )
    .expect("valid");
    let got: Vec<DateTime<Utc>> = x.instances.iter().map(|i| i.start).collect();
    assert_eq!(
        got,
        vec![utc("2026-11-01T04:00"), utc("2026-11-01T05:00"), utc("2026-11-01T07:00")],
        "00:00 EDT, 01:00 EDT (the first of the two 01:00s), 02:00 EST: wall-clock hours, each once"
    );
}

fn weekly_series(r: &Recurrence) -> Series<'_> {
    // Mondays 09:00–10:00 New York from 5 January 2026.
    Series {
        start: zoned("2026-01-05T09:00", ny()),
        end: zoned("2026-01-05T10:00", ny()),
        recurrence: r,
    }
}

fn local_spans(x: &Expansion) -> Vec<String> {
    x.instances
        .iter()
        .map(|i| {
            format!(
                "{}-{}",
                ny().local(i.start).format("%m-%d %H:%M"),
                ny().local(i.end).format("%H:%M")
            )
        })
        .collect()
}

#[test]
fn this_and_future_shifts_every_later_instance() {
    let r = rec(&["FREQ=WEEKLY;COUNT=10"]);
    let o = Override {
        recurrence_id: zoned("2026-01-19T09:00", ny()),
        this_and_future: true,
        start: zoned("2026-01-19T10:30", ny()),
        end: zoned("2026-01-19T12:00", ny()),
        cancelled: false,
    };
    let x = expand(
        &weekly_series(&r),
        &[o],
        window(utc("2026-01-01T00:00"), utc("2027-01-01T00:00")),
        Zone::UTC,
        100,
    )
    .expect("valid");
    assert_eq!(
        local_spans(&x),
        vec![
            "01-05 09:00-10:00", "01-12 09:00-10:00", "01-19 10:30-12:00", "01-26 10:30-12:00", "02-02 10:30-12:00",
            "02-09 10:30-12:00", "02-16 10:30-12:00", "02-23 10:30-12:00", "03-02 10:30-12:00", "03-09 10:30-12:00",
        ],
        "RANGE=THISANDFUTURE moves the instance and every later one by +1:30 local, with the new 1:30 duration, \
         also after DST starts"
    );
    assert!(
        x.instances[..2].iter().all(|i| i.override_index.is_none()),
        "earlier instances are untouched"
    );
    assert!(
        x.instances[2..].iter().all(|i| i.override_index == Some(0)),
        "later instances are shaped by it"
    );
    assert_eq!(
        x.instances[5].recurrence_id,
        zoned("2026-02-09T09:00", ny()),
        "recurrence ids stay the originals"
    );
}

#[test]
fn single_override_wins_over_this_and_future() {
    let r = rec(&["FREQ=WEEKLY;COUNT=4"]);
    let range = Override {
        recurrence_id: zoned("2026-01-12T09:00", ny()),
        this_and_future: true,
        start: zoned("2026-01-12T11:00", ny()),
        end: zoned("2026-01-12T12:00", ny()),
        cancelled: false,
    };
    let one = Override {
        recurrence_id: zoned("2026-01-19T09:00", ny()),
        this_and_future: false,
        start: zoned("2026-01-20T14:00", ny()),
        end: zoned("2026-01-20T15:00", ny()),
        cancelled: false,
    };
    let x = expand(
        &weekly_series(&r),
        &[range, one],
        window(utc("2026-01-01T00:00"), utc("2027-01-01T00:00")),
        Zone::UTC,
        100,
    )
    .expect("valid");
    assert_eq!(
        local_spans(&x),
        vec![
            "01-05 09:00-10:00",
            "01-12 11:00-12:00",
            "01-20 14:00-15:00",
            "01-26 11:00-12:00"
        ],
        "an override of one instance is more specific than a range override"
    );
    assert_eq!(
        x.instances[2].override_index,
        Some(1),
        "the single override shapes its instance"
    );
}

#[test]
fn cancelled_override_removes_the_instance() {
    let r = rec(&["FREQ=WEEKLY;COUNT=3"]);
    let o = Override {
        recurrence_id: When::Utc {
            at: utc("2026-01-12T14:00"),
        },
        this_and_future: false,
        start: zoned("2026-01-12T09:00", ny()),
        end: zoned("2026-01-12T10:00", ny()),
        cancelled: true,
    };
    let x = expand(
        &weekly_series(&r),
        &[o],
        window(utc("2026-01-01T00:00"), utc("2027-01-01T00:00")),
        Zone::UTC,
        100,
    )
    .expect("valid");
    assert_eq!(
        local_spans(&x),
        vec!["01-05 09:00-10:00", "01-19 09:00-10:00"],
        "a cancelled override (RECURRENCE-ID in UTC, matched by instant) removes its instance"
    );
}

#[test]
fn cancelled_this_and_future_ends_the_series() {
    let r = rec(&["FREQ=WEEKLY"]);
    let o = Override {
        recurrence_id: zoned("2026-01-19T09:00", ny()),
        this_and_future: true,
        start: zoned("2026-01-19T09:00", ny()),
        end: zoned("2026-01-19T10:00", ny()),
        cancelled: true,
    };
    let x = expand(
        &weekly_series(&r),
        &[o],
        window(utc("2026-01-01T00:00"), utc("2027-01-01T00:00")),
        Zone::UTC,
        100,
    )
    .expect("valid");
    assert_eq!(
        local_spans(&x),
        vec!["01-05 09:00-10:00", "01-12 09:00-10:00"],
        "nothing from 19 January on"
    );
}

#[test]
fn exdate_in_utc_removes_a_zoned_instance() {
    let mut r = rec(&["FREQ=WEEKLY;COUNT=3"]);
    r.exdates.push(When::Utc {
        at: utc("2026-01-12T14:00"),
    });
    let x = expand(
        &weekly_series(&r),
        &[],
        window(utc("2026-01-01T00:00"), utc("2027-01-01T00:00")),
        Zone::UTC,
        100,
    )
    .expect("valid");
    assert_eq!(
        local_spans(&x),
        vec!["01-05 09:00-10:00", "01-19 09:00-10:00"],
        "EXDATE 20260112T140000Z is the same instant as 09:00 EST on 12 January"
    );
}

#[test]
fn override_moves_an_instance_from_far_outside_into_the_window() {
    let r = rec(&["FREQ=WEEKLY"]);
    let moved = Override {
        recurrence_id: zoned("2026-01-05T09:00", ny()),
        this_and_future: false,
        start: zoned("2026-06-03T16:00", ny()),
        end: zoned("2026-06-03T17:00", ny()),
        cancelled: false,
    };
    let bogus = Override {
        recurrence_id: zoned("2026-01-06T09:00", ny()),
        this_and_future: false,
        start: zoned("2026-06-04T16:00", ny()),
        end: zoned("2026-06-04T17:00", ny()),
        cancelled: false,
    };
    let x = expand(
        &weekly_series(&r),
        &[moved, bogus],
        window(utc("2026-06-02T00:00"), utc("2026-06-06T00:00")),
        Zone::UTC,
        100,
    )
    .expect("valid");
    assert_eq!(
        local_spans(&x),
        vec!["06-03 16:00-17:00"],
        "the 5 January instance moved into the window appears; June 1 is before the window; a RECURRENCE-ID \
         that is not an instance (a Tuesday) is ignored"
    );
    assert!(
        x.warnings.iter().any(|w| w.contains("matches no instance")),
        "the ignored override is reported"
    );
}

#[test]
fn override_moving_an_instance_out_of_the_window_removes_it() {
    let r = rec(&["FREQ=WEEKLY"]);
    let moved = Override {
        recurrence_id: zoned("2026-06-01T09:00", ny()),
        this_and_future: false,
        start: zoned("2026-09-01T09:00", ny()),
        end: zoned("2026-09-01T10:00", ny()),
        cancelled: false,
    };
    let x = expand(
        &weekly_series(&r),
        &[moved],
        window(utc("2026-05-31T00:00"), utc("2026-06-06T00:00")),
        Zone::UTC,
        100,
    )
    .expect("valid");
    assert!(
        x.instances.is_empty(),
        "the only instance of the window moved away: {:?}",
        x.instances
    );
}

#[test]
fn floating_series_is_read_in_the_floating_zone() {
    let r = rec(&["FREQ=DAILY;COUNT=2"]);
    let series = Series {
        start: When::Floating {
            local: local("2026-03-28T09:00"),
        },
        end: When::Floating {
            local: local("2026-03-28T10:00"),
        },
        recurrence: &r,
    };
    let w = window(utc("2026-03-01T00:00"), utc("2026-04-01T00:00"));
    let paris = expand(&series, &[], w, zone("Europe/Paris"), 10).expect("valid");
    let tokyo = expand(&series, &[], w, zone("Asia/Tokyo"), 10).expect("valid");
    assert_eq!(
        paris.instances.iter().map(|i| i.start).collect::<Vec<_>>(),
        vec![utc("2026-03-28T08:00"), utc("2026-03-29T07:00")],
        "09:00 floating in Paris: CET on 28 March, CEST from 29 March"
    );
    assert_eq!(
        tokyo.instances.iter().map(|i| i.start).collect::<Vec<_>>(),
        vec![utc("2026-03-28T00:00"), utc("2026-03-29T00:00")],
        "09:00 floating in Tokyo is 00:00Z"
    );
    assert_eq!(
        paris.instances[1].recurrence_id,
        When::Floating {
            local: local("2026-03-29T09:00")
        },
        "a floating series has floating recurrence ids"
    );
}

#[test]
fn all_day_series_spans_local_days_across_dst() {
    let r = rec(&["FREQ=DAILY;UNTIL=20260309"]);
    let series = Series {
        start: When::Date {
            date: date("2026-03-07"),
        },
        end: When::Date {
            date: date("2026-03-08"),
        },
        recurrence: &r,
    };
    let x = expand(
        &series,
        &[],
        window(utc("2026-03-01T00:00"), utc("2026-04-01T00:00")),
        ny(),
        10,
    )
    .expect("valid");
    let spans: Vec<(DateTime<Utc>, DateTime<Utc>)> =
        x.instances.iter().map(|i| (i.start, i.end)).collect();
    assert_eq!(
        spans,
        vec![
            (utc("2026-03-07T05:00"), utc("2026-03-08T05:00")),
            (utc("2026-03-08T05:00"), utc("2026-03-09T04:00")),
            (utc("2026-03-09T04:00"), utc("2026-03-10T04:00")),
        ],
        "all-day instances run local midnight to local midnight; 8 March is 23 hours long"
    );
    assert_eq!(
        x.instances[2].recurrence_id,
        When::Date {
            date: date("2026-03-09")
        },
        "date recurrence ids"
    );
}

#[test]
fn all_day_exdate_removes_the_day() {
    let mut r = rec(&["FREQ=WEEKLY;BYDAY=FR;COUNT=3"]);
    r.exdates.push(When::Date {
        date: date("2026-03-13"),
    });
    let series = Series {
        start: When::Date {
            date: date("2026-03-06"),
        },
        end: When::Date {
            date: date("2026-03-07"),
        },
        recurrence: &r,
    };
    let x = expand(
        &series,
        &[],
        window(utc("2026-03-01T00:00"), utc("2026-04-01T00:00")),
        ny(),
        10,
    )
    .expect("valid");
    let days: Vec<When> = x.instances.iter().map(|i| i.recurrence_id).collect();
    assert_eq!(
        days,
        vec![
            When::Date {
                date: date("2026-03-06")
            },
            When::Date {
                date: date("2026-03-20")
            }
        ],
        "EXDATE;VALUE=DATE removes the 13th"
    );
}

#[test]
fn until_forms_local_utc_and_date() {
    let s = "2026-03-01T09:00";
    let w = ("2026-01-01T00:00", "2027-01-01T00:00");
    let n = |rule: &str| starts(s, ny(), &rec(&[rule]), w.0, w.1).len();
    assert_eq!(
        n("FREQ=DAILY;UNTIL=20260305T090000"),
        5,
        "local UNTIL is inclusive, read in the series' zone"
    );
    assert_eq!(
        n("FREQ=DAILY;UNTIL=20260305T140000Z"),
        5,
        "UTC UNTIL 14:00Z is 09:00 EST, inclusive"
    );
    assert_eq!(
        n("FREQ=DAILY;UNTIL=20260305T135959Z"),
        4,
        "one second before excludes 5 March"
    );
    assert_eq!(
        n("FREQ=DAILY;UNTIL=20260305"),
        5,
        "a date UNTIL includes that whole day"
    );
    assert_eq!(
        n("FREQ=DAILY;UNTIL=20260310T130000Z"),
        10,
        "after DST 09:00 EDT is 13:00Z, inclusive"
    );
}

#[test]
fn window_overlap_rules() {
    let r = rec(&["FREQ=DAILY;COUNT=3"]);
    let z = ny();
    let series = Series {
        start: zoned("2026-01-05T09:00", z),
        end: zoned("2026-01-05T10:00", z),
        recurrence: &r,
    };
    // The window starts in the middle of the first instance and ends exactly at the third's start.
    let x = expand(
        &series,
        &[],
        window(utc("2026-01-05T14:30"), utc("2026-01-07T14:00")),
        Zone::UTC,
        10,
    )
    .expect("valid");
    assert_eq!(
        x.instances.len(),
        2,
        "an instance running over the window start counts; one starting at its end does not"
    );
    let zero = Series {
        start: zoned("2026-01-05T09:00", z),
        end: zoned("2026-01-05T09:00", z),
        recurrence: &r,
    };
    let x = expand(
        &zero,
        &[],
        window(utc("2026-01-05T14:00"), utc("2026-01-06T14:00")),
        Zone::UTC,
        10,
    )
    .expect("valid");
    assert_eq!(
        x.instances.len(),
        1,
        "a zero-length instance counts at the window start but not at its end"
    );
}

#[test]
fn runaway_minutely_rule_is_capped_quickly() {
    let r = rec(&["FREQ=MINUTELY"]);
    let z = ny();
    let series = Series {
        start: zoned("2016-01-01T00:00", z),
        end: zoned("2016-01-01T00:01", z),
        recurrence: &r,
    };
    let t = Instant::now();
    let x = expand(
        &series,
        &[],
        window(utc("2026-01-01T00:00"), utc("2036-01-01T00:00")),
        Zone::UTC,
        5_000,
    )
    .expect("valid");
    let took = t.elapsed();
    assert!(x.capped, "5 million minutes in ten years is over the cap");
    assert_eq!(x.instances.len(), 5_000, "exactly max_instances are kept");
    assert!(
        x.warnings.iter().any(|w| w.contains("capped")),
        "the cap is reported: {:?}",
        x.warnings
    );
    assert_eq!(
        x.instances[0].start,
        utc("2026-01-01T00:00"),
        "the kept ones are the first in the window"
    );
    assert!(
        took.as_secs_f64() < 2.0,
        "capping must not walk the whole rule (took {took:?})"
    );
}

#[test]
fn series_from_1990_skips_the_past_cheaply() {
    let z = ny();
    for (rule, per_day) in [
        ("FREQ=MINUTELY", 1440),
        ("FREQ=HOURLY", 24),
        ("FREQ=MINUTELY;INTERVAL=7", 206),
    ] {
        let r = rec(&[rule]);
        let series = Series {
            start: zoned("1990-01-01T00:00", z),
            end: zoned("1990-01-01T00:01", z),
            recurrence: &r,
        };
        let t = Instant::now();
        let x = expand(
            &series,
            &[],
            window(utc("2026-06-01T04:00"), utc("2026-06-02T04:00")),
            Zone::UTC,
            100_000,
        )
        .expect("valid");
        let took = t.elapsed();
        assert!(!x.capped, "{rule}: one day is under the cap");
        assert!(
            x.instances.len().abs_diff(per_day) <= 1,
            "{rule}: one day holds about {per_day} instances, got {}",
            x.instances.len()
        );
        assert!(
            took.as_millis() < 500,
            "{rule}: 36 years of past instances must be skipped, not walked (took {took:?})"
        );
    }
    // The INTERVAL=7 grid must be the one anchored at 1990-01-01 00:00, not at the window.
    let r = rec(&["FREQ=MINUTELY;INTERVAL=7"]);
    let series = Series {
        start: zoned("1990-01-01T00:00", z),
        end: zoned("1990-01-01T00:01", z),
        recurrence: &r,
    };
    let x = expand(
        &series,
        &[],
        window(utc("2026-06-01T04:00"), utc("2026-06-02T04:00")),
        Zone::UTC,
        100_000,
    )
    .expect("valid");
    let anchor = zoned("1990-01-01T00:00", z).to_utc(Zone::UTC);
    assert!(
        x.instances.iter().all(|i| (z.local(i.start) - local("1990-01-01T00:00")).num_minutes() % 7 == 0),
        "every instance is a whole number of 7-minute steps (in wall-clock time) after DTSTART {anchor}"
    );
}

#[test]
fn bad_rules_name_the_part() {
    let start = zoned("2026-03-02T09:00", ny());
    for (rule, part) in [
        ("BYDAY=MO", "FREQ"),
        ("FREQ=FORTNIGHTLY", "FREQ"),
        ("FREQ=WEEKLY;BYDAY=MX", "BYDAY"),
        ("FREQ=WEEKLY;BYDAY=1MO", "BYDAY"),
        ("FREQ=DAILY;UNTIL=2026-12-31", "UNTIL"),
        ("FREQ=DAILY;COUNT=3;UNTIL=20261231T000000Z", "COUNT"),
        ("FREQ=DAILY;INTERVAL=0", "INTERVAL"),
        ("FREQ=DAILY;INTERVAL=-2", "INTERVAL"),
        ("FREQ=DAILY;COUNT=0", "COUNT"),
        ("FREQ=MONTHLY;BYMONTHDAY=32", "BYMONTHDAY"),
        ("FREQ=WEEKLY;BYMONTHDAY=3", "BYMONTHDAY"),
        ("FREQ=YEARLY;BYMONTH=13", "BYMONTH"),
        ("FREQ=DAILY;BYHOUR=24", "BYHOUR"),
        ("FREQ=MONTHLY;BYSETPOS=1", "BYSETPOS"),
        ("FREQ=MONTHLY;BYWEEKNO=3", "BYWEEKNO"),
        ("FREQ=DAILY;WKST=XX", "WKST"),
        ("FREQ=DAILY;FOO=1", "FOO"),
        ("FREQ=DAILY;UNTIL=20200101T000000Z", "UNTIL"),
    ] {
        let e = validate_rrule(rule, &start).expect_err(rule);
        assert_eq!(
            e.part.as_deref(),
            Some(part),
            "{rule}: the error must name {part}: {}",
            e.message
        );
        assert!(
            e.message.contains(part),
            "{rule}: the message must mention {part}: {}",
            e.message
        );
    }
    for ok in [
        "FREQ=WEEKLY;BYDAY=MO,WE,FR",
        "RRULE:FREQ=MONTHLY;BYDAY=-1FR",
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
        "FREQ=DAILY;UNTIL=20261231T235959",
        "FREQ=DAILY;UNTIL=20261231T235959Z",
        "freq=yearly;bymonth=3;byday=2su",
    ] {
        assert_eq!(validate_rrule(ok, &start), Ok(()), "{ok} is a valid rule");
    }
}

#[test]
fn one_bad_rule_among_several_is_a_warning() {
    let r = rec(&["FREQ=WEEKLY;COUNT=2", "FREQ=NEVER"]);
    let x = expand(
        &weekly_series(&r),
        &[],
        window(utc("2026-01-01T00:00"), utc("2027-01-01T00:00")),
        Zone::UTC,
        100,
    )
    .expect("the good rule still expands");
    assert_eq!(x.instances.len(), 2, "the good rule's two instances");
    assert!(
        x.warnings.iter().any(|w| w.contains("FREQ")),
        "the bad rule is reported: {:?}",
        x.warnings
    );
    let r = rec(&["FREQ=NEVER"]);
    let x = expand(
        &weekly_series(&r),
        &[],
        window(utc("2026-01-01T00:00"), utc("2027-01-01T00:00")),
        Zone::UTC,
        100,
    )
    .expect("a series whose only rule is unreadable still has its DTSTART");
    assert_eq!(
        x.instances.len(),
        1,
        "a stored event never vanishes: DTSTART is its first instance (RFC 5545 §3.8.5.3)"
    );
    assert!(
        x.warnings.iter().any(|w| w.contains("FREQ=NEVER")),
        "the unreadable rule is reported: {:?}",
        x.warnings
    );
}

#[test]
fn rule_that_never_matches_ends_with_a_warning() {
    let r = rec(&["FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"]);
    let t = Instant::now();
    let x = expand(
        &weekly_series(&r),
        &[],
        window(utc("2026-01-01T00:00"), utc("2030-01-01T00:00")),
        Zone::UTC,
        100,
    )
    .expect("valid syntax");
    assert!(
        t.elapsed().as_secs() < 5,
        "rrule's iteration limit must stop a rule that never matches"
    );
    assert_eq!(x.instances.len(), 1, "only DTSTART");
}

#[test]
fn rfc_every_thursday_in_march() {
    // RFC 5545: "Every Thursday in March, forever" DTSTART 19970313T090000
    let r = rec(&["FREQ=YEARLY;BYMONTH=3;BYDAY=TH"]);
    let got = starts(
        "1997-03-13T09:00",
        ny(),
        &r,
        "1997-01-01T00:00",
        "1999-01-01T00:00",
    );
    let want = at_nine(&[
        "1997-03-13",
        "1997-03-20",
        "1997-03-27",
        "1998-03-05",
        "1998-03-12",
        "1998-03-19",
        "1998-03-26",
    ]);
    assert_eq!(
        got, want,
        "RFC 5545 §3.8.5.3 lists these Thursdays (09:00 EST and EDT alike)"
    );
}

#[test]
fn rfc_yearly_in_june_and_july() {
    // RFC 5545: "Yearly in June and July for 10 occurrences" DTSTART 19970610T090000
    let r = rec(&["FREQ=YEARLY;COUNT=10;BYMONTH=6,7"]);
    let got = starts(
        "1997-06-10T09:00",
        ny(),
        &r,
        "1997-01-01T00:00",
        "2010-01-01T00:00",
    );
    let want: Vec<String> = (1997..=2001)
        .flat_map(|y| [format!("{y}-06-10 09:00"), format!("{y}-07-10 09:00")])
        .collect();
    assert_eq!(got, want, "the month day comes from DTSTART");
}

#[test]
fn rfc_every_day_in_january_for_3_years() {
    // RFC 5545: FREQ=YEARLY;UNTIL=20000131T140000Z;BYMONTH=1;BYDAY=SU,MO,TU,WE,TH,FR,SA, DTSTART 19980101T090000
    let r = rec(&["FREQ=YEARLY;UNTIL=20000131T140000Z;BYMONTH=1;BYDAY=SU,MO,TU,WE,TH,FR,SA"]);
    let got = starts(
        "1998-01-01T09:00",
        ny(),
        &r,
        "1997-01-01T00:00",
        "2001-01-01T00:00",
    );
    assert_eq!(
        got.len(),
        93,
        "31 January days in each of 1998, 1999 and 2000"
    );
    assert_eq!(
        got.last().map(String::as_str),
        Some("2000-01-31 09:00"),
        "UNTIL 14:00Z is 09:00 EST, inclusive"
    );
}

#[test]
fn hourly_with_byminute_and_minutely_with_bysecond() {
    let got = starts(
        "2026-05-04T09:00",
        ny(),
        &rec(&["FREQ=HOURLY;INTERVAL=2;BYMINUTE=0,45;COUNT=5"]),
        "2026-01-01T00:00",
        "2027-01-01T00:00",
    );
    let want: Vec<String> = ["09:00", "09:45", "11:00", "11:45", "13:00"]
        .iter()
        .map(|t| format!("2026-05-04 {t}"))
        .collect();
    assert_eq!(got, want, "every other hour at :00 and :45");
    let r = rec(&["FREQ=MINUTELY;BYSECOND=0,30;COUNT=4"]);
    let series = Series {
        start: zoned("2026-05-04T09:00", ny()),
        end: zoned("2026-05-04T09:00", ny()),
        recurrence: &r,
    };
    let x = expand(
        &series,
        &[],
        window(utc("2026-05-04T00:00"), utc("2026-05-05T00:00")),
        Zone::UTC,
        10,
    )
    .expect("valid");
    let secs: Vec<i64> = x
        .instances
        .iter()
        .map(|i| (i.start - utc("2026-05-04T13:00")).num_seconds())
        .collect();
    assert_eq!(
        secs,
        vec![0, 30, 60, 90],
        "BYSECOND=0,30 gives two instances a minute"
    );
}

#[test]
fn utc_series_matches_a_zoned_recurrence_id() {
    let r = rec(&["FREQ=DAILY;COUNT=3"]);
    let series = Series {
        start: When::Utc {
            at: utc("2026-07-01T13:00"),
        },
        end: When::Utc {
            at: utc("2026-07-01T14:00"),
        },
        recurrence: &r,
    };
    let o = Override {
        recurrence_id: zoned("2026-07-02T09:00", ny()),
        this_and_future: false,
        start: When::Utc {
            at: utc("2026-07-02T15:00"),
        },
        end: When::Utc {
            at: utc("2026-07-02T16:00"),
        },
        cancelled: false,
    };
    let x = expand(
        &series,
        &[o],
        window(utc("2026-07-01T00:00"), utc("2026-07-05T00:00")),
        ny(),
        10,
    )
    .expect("valid");
    let starts: Vec<DateTime<Utc>> = x.instances.iter().map(|i| i.start).collect();
    assert_eq!(
        starts,
        vec![
            utc("2026-07-01T13:00"),
            utc("2026-07-02T15:00"),
            utc("2026-07-03T13:00")
        ],
        "RECURRENCE-ID 09:00 EDT is 13:00Z, the second instance of the UTC series"
    );
    assert_eq!(
        x.instances[1].recurrence_id,
        When::Utc {
            at: utc("2026-07-02T13:00")
        },
        "UTC recurrence ids"
    );
}

#[test]
fn extreme_windows_do_not_overflow() {
    let r = rec(&["FREQ=YEARLY"]);
    let w = Window {
        start: DateTime::<Utc>::MIN_UTC,
        end: DateTime::<Utc>::MAX_UTC,
    };
    let x = expand(&weekly_series(&r), &[], w, Zone::UTC, 50).expect("valid");
    assert_eq!(
        x.instances.len(),
        50,
        "a yearly rule over all of time is cut at max_instances"
    );
    assert!(x.capped, "and says so");
}

#[test]
fn count_and_until_together_end_at_whichever_comes_first() {
    // RFC 5545 forbids COUNT with UNTIL, and validate_rrule refuses it; files from other programs still
    // carry it, and expansion must not drop the series for it.
    let got = starts(
        "2026-03-02T09:00",
        ny(),
        &rec(&["FREQ=DAILY;COUNT=10;UNTIL=20260304T235959Z"]),
        "2026-01-01T00:00",
        "2027-01-01T00:00",
    );
    assert_eq!(
        got,
        at_nine(&["2026-03-02", "2026-03-03", "2026-03-04"]),
        "UNTIL comes before COUNT here"
    );
    let got = starts(
        "2026-03-02T09:00",
        ny(),
        &rec(&["FREQ=DAILY;COUNT=2;UNTIL=20260304T235959Z"]),
        "2026-01-01T00:00",
        "2027-01-01T00:00",
    );
    assert_eq!(
        got,
        at_nine(&["2026-03-02", "2026-03-03"]),
        "COUNT comes before UNTIL here"
    );
}

#[test]
fn rdate_on_a_rule_instance_is_not_a_duplicate_and_date_exdate_clears_the_day() {
    let mut r = rec(&["FREQ=DAILY;COUNT=4"]);
    // 14:00Z is 09:00 EST on 3 March: the same instant as the rule's third instance.
    r.rdates.push(When::Utc {
        at: utc("2026-03-03T14:00"),
    });
    // An RDATE in UTC that is not on the rule: 15:30Z is 10:30 EST on 6 March.
    r.rdates.push(When::Utc {
        at: utc("2026-03-06T15:30"),
    });
    // EXDATE;VALUE=DATE against a timed series removes that local day's instance.
    r.exdates.push(When::Date {
        date: date("2026-03-02"),
    });
    let series = Series {
        start: zoned("2026-03-01T09:00", ny()),
        end: zoned("2026-03-01T10:00", ny()),
        recurrence: &r,
    };
    let x = expand(
        &series,
        &[],
        window(utc("2026-02-01T00:00"), utc("2026-04-01T00:00")),
        Zone::UTC,
        100,
    )
    .expect("valid");
    let got: Vec<String> = x
        .instances
        .iter()
        .map(|i| ny().local(i.start).format("%m-%d %H:%M").to_string())
        .collect();
    assert_eq!(
        got,
        vec!["03-01 09:00", "03-03 09:00", "03-04 09:00", "03-06 10:30"],
        "RDATE on an existing instance adds nothing; the other RDATE is added; 2 March is excluded"
    );
    assert_eq!(
        x.instances[3].recurrence_id,
        zoned("2026-03-06T10:30", ny()),
        "an RDATE's recurrence id is in the series' own zone"
    );
}
