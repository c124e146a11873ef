//! ICS import and export through `punctual::app`: idempotent re-import, broken events skipped, files that are
//! not iCalendar refused with nothing written, and export → import giving back the same occurrences.

#[path = "support/fixtures.rs"]
mod fixtures;

use chrono::{DateTime, Utc};
use punctual::app::{App, ListQuery};
use punctual::error::ErrorCode;
use punctual::time::{FixedClock, Zone};
use std::path::PathBuf;
use std::sync::Arc;

fn app(zone: &str) -> App {
    let now = DateTime::parse_from_rfc3339("2026-11-21T12:00:00Z")
        .expect("valid")
        .with_timezone(&Utc);
    App::in_memory(
        Arc::new(FixedClock::new(now)),
        Zone::parse(zone).expect("zone exists"),
    )
    .expect("app opens")
}

/// Every occurrence in a window as (start, end, title), in list order.
fn occurrences(
    app: &App,
    from: &str,
    to: &str,
    calendar: Option<&str>,
) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut q = ListQuery {
        from: Some(from.into()),
        to: Some(to.into()),
        all: true,
        limit: Some(100),
        calendars: calendar.map(|c| vec![c.to_string()]).unwrap_or_default(),
        ..Default::default()
    };
    loop {
        let page = app.list_events(&q).expect("listing works");
        out.extend(
            page.events
                .into_iter()
                .map(|v| (v.start_time, v.end_time, v.title)),
        );
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

const TEAM: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nX-WR-CALNAME:Team\r\n\
BEGIN:VEVENT\r\nUID:standup@test\r\nDTSTAMP:20261101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20261123T093000\r\n\
DTEND;TZID=Europe/Berlin:20261123T094500\r\nRRULE:FREQ=WEEKLY;BYDAY=MO,WE;COUNT=6\r\n\
EXDATE;TZID=Europe/Berlin:20261125T093000\r\nSUMMARY:Standup\r\nLOCATION:https://meet.google.com/abc-defg-hij\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:standup@test\r\nDTSTAMP:20261101T000000Z\r\nRECURRENCE-ID;TZID=Europe/Berlin:20261130T093000\r\n\
DTSTART;TZID=Europe/Berlin:20261130T110000\r\nDTEND;TZID=Europe/Berlin:20261130T111500\r\nSUMMARY:Standup (late)\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:offsite@test\r\nDTSTAMP:20261101T000000Z\r\nDTSTART;VALUE=DATE:20261204\r\nDTEND;VALUE=DATE:20261206\r\n\
SUMMARY:Offsite\\, day one\\nand two\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:floating@test\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261201T080000\r\nDTEND:20261201T083000\r\nSUMMARY:Floating breakfast\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n";

#[test]
fn import_expands_series_with_exdate_and_override() {
    let app = app("UTC");
    let r = app.import_ics(TEAM, None).expect("the file imports");
    assert_eq!(
        (r.created, r.updated, r.skipped),
        (4, 0, 0),
        "a master, an override and two singles are new"
    );
    let occ = occurrences(&app, "2026-11-01", "2027-01-01", None);
    let standups: Vec<_> = occ
        .iter()
        .filter(|o| o.2.starts_with("Standup"))
        .map(|o| (o.0.as_str(), o.2.as_str()))
        .collect();
    // Mon/Wed 09:30 Berlin (08:30 UTC); Wed 25 Nov is excluded; Mon 30 Nov moved to 11:00 (10:00 UTC).
    assert_eq!(
        standups,
        [
            ("2026-11-23T08:30:00Z", "Standup"),
            ("2026-11-30T10:00:00Z", "Standup (late)"),
            ("2026-12-02T08:30:00Z", "Standup"),
            ("2026-12-07T08:30:00Z", "Standup"),
            ("2026-12-09T08:30:00Z", "Standup"),
        ],
        "COUNT=6 minus one EXDATE, with the override in place of its instance"
    );
    let offsite = occ
        .iter()
        .find(|o| o.2.starts_with("Offsite"))
        .expect("the all-day event is listed");
    assert_eq!(
        (offsite.0.as_str(), offsite.1.as_str()),
        ("2026-12-04", "2026-12-06"),
        "all-day dates survive with an exclusive end"
    );
    assert_eq!(
        offsite.2, "Offsite, day one\nand two",
        "escaped text is unescaped"
    );
}

#[test]
fn importing_the_same_file_again_duplicates_nothing() {
    let app = app("UTC");
    app.import_ics(TEAM, None).expect("first import");
    let before = occurrences(&app, "2026-11-01", "2027-01-01", None);
    let r = app.import_ics(TEAM, None).expect("second import");
    assert_eq!(
        (r.created, r.updated),
        (0, 4),
        "every event is matched by UID and updated"
    );
    assert_eq!(
        occurrences(&app, "2026-11-01", "2027-01-01", None),
        before,
        "the occurrences are the same after a re-import"
    );
    let changed = TEAM.replace("SUMMARY:Floating breakfast", "SUMMARY:Floating brunch");
    app.import_ics(&changed, None).expect("third import");
    let after = occurrences(&app, "2026-11-01", "2027-01-01", None);
    assert!(
        after.iter().any(|o| o.2 == "Floating brunch"),
        "an edited event updates in place"
    );
    assert_eq!(after.len(), before.len(), "an update replaces, never adds");
}

#[test]
fn a_named_calendar_is_created_once() {
    let app = app("UTC");
    let a = app
        .import_ics(TEAM, Some("Team"))
        .expect("into a new calendar");
    let b = app
        .import_ics(TEAM, Some("team"))
        .expect("into the same calendar, by name");
    assert_eq!(
        a.calendar_id, b.calendar_id,
        "the name finds the calendar made by the first import"
    );
    let cals = app.calendars().expect("calendars");
    let team = cals
        .iter()
        .find(|c| c.id == a.calendar_id)
        .expect("the calendar is listed");
    assert_eq!(
        (team.name.as_str(), team.event_count),
        ("Team", 3),
        "three events: a series and two singles (overrides are not counted)"
    );
    assert_eq!(
        cals.iter().find(|c| c.id == "local").map(|c| c.event_count),
        Some(0),
        "the local calendar got nothing"
    );
}

#[test]
fn a_broken_event_is_skipped_with_a_warning_and_the_rest_import() {
    let app = app("UTC");
    let broken = TEAM.replace(
        "BEGIN:VEVENT\r\nUID:floating@test",
        "BEGIN:VEVENT\r\nUID:broken@test\r\nSUMMARY:Broken one\r\nDTSTART:not-a-date\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:floating@test",
    );
    let r = app
        .import_ics(&broken, None)
        .expect("a broken event does not fail the import");
    assert_eq!(
        (r.created, r.skipped),
        (4, 1),
        "four good events import and one is skipped"
    );
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("broken@test") || w.contains("Broken one")),
        "the warning names the broken event: {:?}",
        r.warnings
    );
}

#[test]
fn a_file_that_is_not_icalendar_is_refused_and_nothing_is_written() {
    let app = app("UTC");
    let changes = app.total_changes();
    let calendars = app.calendars().expect("calendars");
    for (name, text) in [
        ("empty", ""),
        ("json", "{\"events\": []}"),
        ("html", "<html><body>hi</body></html>"),
        ("binary", "\u{0}\u{1}\u{2}PK\u{3}\u{4}"),
        (
            "vcard",
            "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Someone\r\nEND:VCARD\r\n",
        ),
    ] {
        let e = app
            .import_ics(text, Some("Should not exist"))
            .expect_err(name);
        assert_eq!(
            e.code,
            ErrorCode::NotIcalendar,
            "{name}: the error is not_icalendar ({})",
            e.message
        );
        assert_eq!(
            app.total_changes(),
            changes,
            "{name}: a refused import writes nothing"
        );
        assert_eq!(
            app.calendars().expect("calendars"),
            calendars,
            "{name}: not even the named calendar is created"
        );
    }
}

#[test]
fn export_then_import_gives_the_same_occurrences() {
    let a = app("America/New_York");
    a.import_ics(TEAM, None).expect("import");
    a.create_event(&punctual::app::EventInput {
        title: Some("Monthly review; \"quoted\", with commas".into()),
        start: Some("2026-12-15T16:00".into()),
        end: Some("2026-12-15T17:00".into()),
        time_zone: Some("Asia/Tokyo".into()),
        repeat: Some("FREQ=MONTHLY;BYDAY=-1FR;COUNT=4".into()),
        description: Some("Line one\nLine two — ünïcödé 🎉 and a long line that certainly needs folding because it goes past seventy-five octets".into()),
        ..Default::default()
    })
    .expect("a created series");
    let text = a.export_ics(None).expect("export");
    assert!(
        text.starts_with("BEGIN:VCALENDAR\r\n"),
        "export writes iCalendar with CRLF line ends"
    );
    assert!(
        text.lines().all(|l| l.len() <= 75),
        "export folds every line to 75 octets (RFC 5545 §3.1)"
    );
    let b = app("America/New_York");
    b.import_ics(&text, None).expect("the export imports back");
    let (mut got, mut want) = (
        occurrences(&b, "2026-11-01", "2027-06-01", None),
        occurrences(&a, "2026-11-01", "2027-06-01", None),
    );
    got.sort();
    want.sort();
    assert_eq!(got, want, "export → import yields the same occurrences");
}

fn fixtures() -> Option<Vec<PathBuf>> {
    let dir = fixtures::dir("ics");
    let rd = match std::fs::read_dir(&dir) {
        Ok(rd) => rd,
        Err(e) => {
            fixtures::missing(&dir, &e.to_string());
            return None;
        }
    };
    let mut files: Vec<_> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "ics"))
        .collect();
    files.sort();
    Some(files)
}

#[test]
fn every_real_world_file_imports_and_round_trips() {
    let Some(files) = fixtures() else { return };
    assert!(
        files.len() >= 20,
        "the fixture folder holds the real-world files"
    );
    for f in files {
        let text = std::fs::read_to_string(&f).expect("fixture is UTF-8");
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let a = app("Europe/Berlin");
        let r = a
            .import_ics(&text, Some("Fixture"))
            .unwrap_or_else(|e| panic!("{name} imports: {e}"));
        let vevents = text.matches("BEGIN:VEVENT").count();
        assert!(
            r.created + r.skipped >= vevents.min(1),
            "{name}: every VEVENT is imported or skipped with a warning"
        );
        assert_eq!(
            r.skipped,
            r.warnings
                .iter()
                .filter(|w| w.starts_with("skipped"))
                .count(),
            "{name}: each skip has its warning"
        );
        let cal = r.calendar_id.clone();
        let before = occurrences(&a, "1996-01-01", "2031-01-01", Some(&cal));
        assert!(
            r.created == 0 || !before.is_empty(),
            "{name}: its events have occurrences between 1996 and 2031"
        );
        let exported = a.export_ics(Some(&cal)).expect("export");
        let b = app("Europe/Berlin");
        let r2 = b
            .import_ics(&exported, Some("Fixture"))
            .unwrap_or_else(|e| panic!("{name}: export imports back: {e}"));
        assert_eq!(r2.skipped, 0, "{name}: our own export has no broken events");
        // Ids are new on each import, so occurrences that share a start may list in another order: compare sorted.
        let (mut after, mut before) = (
            occurrences(&b, "1996-01-01", "2031-01-01", Some(&r2.calendar_id)),
            before,
        );
        after.sort();
        before.sort();
        assert_eq!(
            after, before,
            "{name}: export → import keeps every occurrence"
        );
    }
}

/// Worked out by hand from google_exdate_and_override.ics: yearly on 1 Aug at 19:00 in Los Angeles (PDT,
/// UTC−7, so 02:00Z the next day), the 2014 instance moved to 18:30, and 2016 excluded.
#[test]
fn google_export_with_exdate_and_override_matches_a_hand_computation() {
    let Some(files) = fixtures() else { return };
    let f = files
        .iter()
        .find(|p| p.ends_with("google_exdate_and_override.ics"))
        .expect("the fixtures folder holds google_exdate_and_override.ics");
    let a = app("Europe/Berlin");
    let r = a
        .import_ics(&std::fs::read_to_string(f).expect("readable"), None)
        .expect("imports");
    assert_eq!(r.skipped, 0, "nothing in Google's export is broken");
    let starts: Vec<_> = occurrences(&a, "2014-01-01", "2019-01-01", None)
        .into_iter()
        .map(|o| o.0)
        .collect();
    assert_eq!(
        starts,
        [
            "2014-08-02T01:30:00Z",
            "2015-08-02T02:00:00Z",
            "2017-08-02T02:00:00Z",
            "2018-08-02T02:00:00Z"
        ],
        "the override replaces 2014, the EXDATE removes 2016"
    );
}
