//! The iCalendar parser on hostile input: unmatched `END:` lines by the hundred thousand, under a deep nest
//! of open components, cost one lookup each (not a scan of what is open), and the warnings they raise are
//! kept to `ical::MAX_WARNINGS` with one line that counts the rest.

use chrono::{TimeZone, Utc};
use punctual::ical::{self, ParseOptions, Parsed, MAX_WARNINGS};
use punctual::time::Zone;

fn opts() -> ParseOptions {
    ParseOptions {
        calendar_id: "cal-1".to_string(),
        user_zone: Zone::parse("Europe/Berlin").expect("known zone"),
        now: Utc
            .with_ymd_and_hms(2026, 11, 21, 12, 0, 0)
            .single()
            .expect("a valid instant"),
    }
}

const EVENT: &str = "BEGIN:VEVENT\r\nUID:kept@test\r\nDTSTAMP:20261101T000000Z\r\n\
DTSTART:20261123T093000Z\r\nDTEND:20261123T094500Z\r\nSUMMARY:Still here\r\nEND:VEVENT\r\n";

/// A calendar with one good event, then `nest` open X-components, then `unmatched` END lines that close
/// nothing, then the ENDs of the nest.
fn hostile(nest: usize, unmatched: usize) -> String {
    let mut s = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n");
    s.push_str(EVENT);
    for i in 0..nest {
        s.push_str(&format!("BEGIN:X-NEST-{i}\r\n"));
    }
    for _ in 0..unmatched {
        s.push_str("END:X-NEVER-OPENED\r\n");
    }
    for i in (0..nest).rev() {
        s.push_str(&format!("END:X-NEST-{i}\r\n"));
    }
    s.push_str("END:VCALENDAR\r\n");
    s
}

fn parse(text: &str) -> Parsed {
    ical::parse(text, &opts()).expect("a calendar with stray END lines is still iCalendar")
}

/// Checks the warnings of a parse whose only problems are `unmatched` stray END lines, plus (with a nest)
/// the one line that counts the X-components it ignored.
fn assert_bounded(p: &Parsed, nest: usize, unmatched: usize) {
    assert_eq!(
        p.events.len(),
        1,
        "stray END lines cost nothing but warnings: the good event is read"
    );
    assert_eq!(p.events[0].title, "Still here", "the event is read whole");
    assert_eq!(
        p.warnings.len(),
        MAX_WARNINGS + 1,
        "at most MAX_WARNINGS warnings are kept, plus one that counts the rest"
    );
    // The stray ENDs' warnings, then the one that counts the ignored X-components, which is hidden too.
    let hidden = unmatched + usize::from(nest > 0) - MAX_WARNINGS;
    assert_eq!(
        p.hidden_warnings, hidden,
        "every warning not kept is counted"
    );
    assert_eq!(
        p.warnings.last().map(String::as_str),
        Some(format!("{hidden} more warnings not shown").as_str()),
        "the last warning says how many were not shown"
    );
    assert!(
        p.warnings[..MAX_WARNINGS]
            .iter()
            .all(|w| w.contains("END:X-NEVER-OPENED without a matching BEGIN")),
        "the kept warnings are the first ones, in file order: {:?}",
        &p.warnings[..3]
    );
}

#[test]
fn two_hundred_thousand_unmatched_end_lines_parse_with_bounded_warnings() {
    let unmatched = 200_000;
    let p = parse(&hostile(0, unmatched));
    assert_bounded(&p, 0, unmatched);
}

#[test]
fn unmatched_end_lines_under_a_deep_nest_cost_a_lookup_each() {
    // With a scan of the open components per END, this is 50,000 × 200,000 = 1e10 comparisons (a 20,000-deep nest took 70 s);
    // with the index it is 200,000 lookups. The test asserts the result, not a time: a quadratic parser
    // shows up as a test that does not finish.
    let (nest, unmatched) = (50_000, 200_000);
    let p = parse(&hostile(nest, unmatched));
    assert_bounded(&p, nest, unmatched);
}

#[test]
fn the_warning_count_does_not_grow_with_the_input() {
    let small = parse(&hostile(100, 10_000));
    let large = parse(&hostile(100, 100_000));
    assert_eq!(
        small.warnings.len(),
        large.warnings.len(),
        "ten times the broken lines keep the same number of warnings"
    );
    assert_eq!(
        large.hidden_warnings - small.hidden_warnings,
        90_000,
        "the extra broken lines are counted, not kept"
    );
}

#[test]
fn an_end_still_closes_the_innermost_component_of_its_name() {
    // STANDARD and DAYLIGHT close either observance; an END names the innermost open component it closes,
    // and closes what is open above it (a missing END inside it).
    let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n\
BEGIN:VTIMEZONE\r\nTZID:Custom/Zone\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\n\
TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n\
BEGIN:VEVENT\r\nUID:a@test\r\nDTSTAMP:20261101T000000Z\r\nDTSTART;TZID=Custom/Zone:20261123T093000\r\n\
DTEND;TZID=Custom/Zone:20261123T094500\r\nSUMMARY:A\r\nBEGIN:VALARM\r\nBEGIN:X-INNER\r\n\
END:VALARM\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:b@test\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261124T093000Z\r\n\
DTEND:20261124T094500Z\r\nSUMMARY:B\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let p = parse(text);
    let titles: Vec<&str> = p.events.iter().map(|e| e.title.as_str()).collect();
    assert_eq!(
        titles,
        ["A", "B"],
        "END:DAYLIGHT closed the STANDARD observance and END:VALARM closed the X-component inside it, \
         so both events are read: {:?}",
        p.warnings
    );
    assert_eq!(
        p.events[0].start.to_utc(opts().user_zone),
        Utc.with_ymd_and_hms(2026, 11, 23, 8, 30, 0)
            .single()
            .expect("a valid instant"),
        "the VTIMEZONE's observance was read before END:DAYLIGHT closed it (+01:00)"
    );
}
