//! Google sync against the fake: paging, incremental sync, 410, 401 with refresh and rotation,
//! invalid_grant, rate limits and dropped answers, recurrence, the join-plan re-check, and disconnect.

mod support;
#[allow(unused_imports)]
use support::GoogleApp as _;

use chrono::{DateTime, Duration as CDuration, Utc};
use punctual::app::{App, EventView, JoinHost, ListQuery};
use punctual::error::ErrorCode;
use punctual::join::{Notification, Notifier, Opener, ScreenLock};
use punctual::model::ConnectionState;
use punctual::secrets::{refresh_key, Secrets};
use serde_json::Value;
use std::time::Duration;
use support::fake_google::{items, Fault, OTHER_CLIENT_ID, OTHER_CLIENT_SECRET};
use support::Harness;

const CAL: &str = "jane@acme.example";
const TZ: &str = "Europe/Berlin";

fn all_events(app: &App, from: &str, to: &str) -> Vec<EventView> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = app
            .list_events(&ListQuery {
                from: Some(from.into()),
                to: Some(to.into()),
                all: true,
                limit: Some(100),
                cursor: cursor.clone(),
                ..Default::default()
            })
            .expect("listing works");
        out.extend(page.events);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return out,
        }
    }
}

fn titles(app: &App) -> Vec<String> {
    let mut t: Vec<String> = all_events(app, "2026-02-01", "2026-05-01")
        .into_iter()
        .map(|e| e.title)
        .collect();
    t.sort();
    t
}

fn single(id: &str, title: &str, day: u32, hour: u32) -> Value {
    items::timed(
        id,
        title,
        &format!("2026-03-{day:02}T{hour:02}:00:00+01:00"),
        &format!("2026-03-{day:02}T{hour:02}:30:00+01:00"),
        TZ,
    )
}

/// A connection whose first sync brought three meetings, ev1 to ev3.
fn synced_with_three_meetings() -> (Harness, String) {
    let h = Harness::new();
    for i in 1..=3 {
        h.fake.put(
            CAL,
            single(&format!("ev{i}"), &format!("Meeting {i}"), 10 + i, 9),
        );
    }
    let id = h.connect();
    h.sync(&id).expect("first sync");
    (h, id)
}

#[test]
fn a_full_sync_pages_and_the_next_sync_asks_only_for_changes() {
    let h = Harness::new();
    h.fake.state().page_size = 2;
    for i in 1..=5 {
        h.fake.put(
            CAL,
            single(&format!("ev{i}"), &format!("Meeting {i}"), 10 + i, 9),
        );
    }
    let id = h.connect();
    let reports = h.sync(&id).expect("the first sync works");
    assert_eq!(
        reports[0].pages, 3,
        "five events in pages of two are three pages"
    );
    assert_eq!(titles(&h.app).len(), 5, "every event arrived");
    let conn = h.app.connection(&id).expect("the connection");
    assert_eq!(conn.event_count, 5, "the connection counts its events");
    assert_eq!(
        conn.state,
        ConnectionState::Connected,
        "connected after a good sync"
    );
    assert!(conn.last_sync_at.is_some(), "the sync time is recorded");

    h.fake.put(CAL, single("ev1", "Meeting 1 renamed", 11, 10));
    h.fake.delete(CAL, "ev2");
    h.fake.put(CAL, single("ev6", "Meeting 6", 20, 9));
    let before = h.fake.requests("syncToken=");
    h.sync(&id).expect("the incremental sync works");
    assert!(
        h.fake.requests("syncToken=") > before,
        "the second sync used the saved sync token"
    );
    let t = titles(&h.app);
    assert!(
        t.contains(&"Meeting 1 renamed".to_string()),
        "an update arrived: {t:?}"
    );
    assert!(
        !t.contains(&"Meeting 2".to_string()),
        "a deletion arrived: {t:?}"
    );
    assert!(
        t.contains(&"Meeting 6".to_string()),
        "a new event arrived: {t:?}"
    );
    assert_eq!(
        t.len(),
        5,
        "five events after one delete and one create: {t:?}"
    );
}

#[test]
fn recurring_masters_exceptions_and_cancelled_instances_expand() {
    let h = Harness::new();
    h.fake.put(
        CAL,
        items::recurring(
            "weekly",
            "Weekly sync",
            "2026-03-03T10:00:00+01:00",
            "2026-03-03T10:30:00+01:00",
            TZ,
            &[
                "RRULE:FREQ=WEEKLY;COUNT=6",
                "EXDATE;TZID=Europe/Berlin:20260310T100000",
            ],
        ),
    );
    let id = h.connect();
    h.sync(&id).expect("sync");
    let starts = |app: &App| -> Vec<String> {
        all_events(app, "2026-03-01", "2026-05-01")
            .into_iter()
            .filter(|e| e.title.starts_with("Weekly"))
            .map(|e| format!("{} {}", e.start_time, e.title))
            .collect()
    };
    assert_eq!(
        starts(&h.app).len(),
        5,
        "six weekly instances less one EXDATE: {:?}",
        starts(&h.app)
    );
    // Across the DST change on 29 March the series keeps 10:00 Berlin time.
    assert!(
        starts(&h.app)
            .iter()
            .any(|s| s.starts_with("2026-03-31T08:00:00Z")),
        "the series keeps 10:00 Berlin time across DST (08:00Z in summer time): {:?}",
        starts(&h.app)
    );
    h.fake.put(
        CAL,
        items::exception(
            "weekly",
            "2026-03-17T10:00:00+01:00",
            "Weekly sync (moved)",
            "2026-03-18T15:00:00+01:00",
            "2026-03-18T15:30:00+01:00",
            TZ,
        ),
    );
    h.fake.put(
        CAL,
        items::cancelled_instance("weekly", "2026-03-24T10:00:00+01:00", TZ),
    );
    h.sync(&id).expect("incremental sync");
    let s = starts(&h.app);
    assert_eq!(s.len(), 4, "one instance cancelled, one moved: {s:?}");
    assert!(
        s.contains(&"2026-03-18T14:00:00Z Weekly sync (moved)".to_string()),
        "the exception replaced its instance: {s:?}"
    );
    assert!(
        !s.iter().any(|x| x.starts_with("2026-03-24")),
        "the cancelled instance is gone: {s:?}"
    );
    h.fake.delete(CAL, "weekly");
    h.sync(&id).expect("sync after deleting the series");
    assert!(
        starts(&h.app).is_empty(),
        "a deleted master takes its series with it"
    );
}

#[test]
fn times_that_name_a_zone_without_an_offset_are_read_in_that_zone() {
    // Google's API reference allows a dateTime with no offset when timeZone names the zone.
    let h = Harness::new();
    let ny = "America/New_York";
    let master = items::recurring(
        "nyc",
        "NYC sync",
        "2026-12-01T09:00:00",
        "2026-12-01T09:30:00",
        ny,
        &["RRULE:FREQ=WEEKLY;COUNT=3"],
    );
    h.fake.put(CAL, master);
    let mut moved = items::timed(
        "nyc_20261208T140000Z",
        "NYC sync (moved)",
        "2026-12-08T11:00:00",
        "2026-12-08T11:30:00",
        ny,
    );
    moved["recurringEventId"] = serde_json::json!("nyc");
    moved["originalStartTime"] =
        serde_json::json!({"dateTime": "2026-12-08T09:00:00", "timeZone": ny});
    h.fake.put(CAL, moved);
    let id = h.connect();
    h.sync(&id).expect("sync");
    let got: Vec<String> = all_events(&h.app, "2026-11-01", "2027-01-01")
        .into_iter()
        .filter(|e| e.title.starts_with("NYC"))
        .map(|e| format!("{} {} {}", e.start_time, e.end_time, e.title))
        .collect();
    assert_eq!(
        got,
        [
            "2026-12-01T14:00:00Z 2026-12-01T14:30:00Z NYC sync",
            "2026-12-08T16:00:00Z 2026-12-08T16:30:00Z NYC sync (moved)",
            "2026-12-15T14:00:00Z 2026-12-15T14:30:00Z NYC sync",
        ],
        "09:00 New York (UTC-5 in December) is 14:00Z; the exception's originalStartTime, read in New York \
         too, replaces the 8 December instance"
    );
}

/// An events.list page from tests/fixtures/google (example pages in the shapes of Google's API reference).
fn fixture_page(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/google")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("the fixture {} is in the repository: {e}", path.display()));
    serde_json::from_str(&text).expect("a fixture page is JSON")
}

#[test]
fn the_fixture_pages_map_onto_events_links_and_attendance() {
    let h = Harness::new();
    // The pages' week: join plans are made from "now" on, and the fixtures are from March 2024.
    h.clock.set(
        DateTime::parse_from_rfc3339("2024-03-04T12:00:00Z")
            .expect("an instant")
            .with_timezone(&Utc),
    );
    h.fake.state().calendars[0].time_zone = "America/New_York".into();
    let mut served = 0;
    for f in ["events_list_page1.json", "events_list_page2_last.json"] {
        for item in fixture_page(f)["items"].as_array().expect("items") {
            h.fake.put(CAL, item.clone());
            served += 1;
        }
    }
    // A plain timed event without a link: under "every timed event" it gets a plan, so the blocks below
    // that get none are left out for their eventType, not for having no link.
    h.fake.put(
        CAL,
        items::timed(
            "plaindesk",
            "Desk time",
            "2024-03-07T09:00:00-05:00",
            "2024-03-07T10:00:00-05:00",
            "America/New_York",
        ),
    );
    served += 1;
    let id = h.connect();
    let report = h.sync(&id).expect("the fixture pages sync");
    assert_eq!(
        report[0].changes, served,
        "every fixture item arrived: {:?}",
        report[0]
    );
    h.app
        .set_join_rules(&punctual::join::JoinRules {
            plan_for: punctual::join::PlanFor::AllTimed,
            horizon_hours: 24 * 14,
            ..Default::default()
        })
        .expect("plan every timed event for two weeks");
    let events = all_events(&h.app, "2024-03-01", "2024-04-30");
    let by_title = |t: &str| {
        events.iter().find(|e| e.title == t).unwrap_or_else(|| {
            panic!(
                "an event titled {t:?} among {:?}",
                events.iter().map(|e| &e.title).collect::<Vec<_>>()
            )
        })
    };
    let moved = by_title("Weekly team sync (moved)");
    assert_eq!(
        moved.platform, "google_calendar",
        "events say where they came from"
    );
    let weekly: Vec<&EventView> = events
        .iter()
        .filter(|e| e.title == "Weekly team sync")
        .collect();
    assert!(
        weekly
            .iter()
            .all(|e| e.meeting_platform.as_deref() == Some("google_meet")),
        "hangoutLink / conferenceData became a Meet link on every instance"
    );
    assert!(
        !weekly
            .iter()
            .any(|e| e.start_time.starts_with("2024-03-19")),
        "the EXDATE;TZID line removed 19 March: {:?}",
        weekly.iter().map(|e| &e.start_time).collect::<Vec<_>>()
    );
    assert!(
        by_title("Focus time")
            .raw
            .as_deref()
            .is_some_and(|r| r.contains("focusTime")),
        "the focus-time event arrived with its raw JSON"
    );

    // Attendance, seen through the join plans it decides.
    let planned = |e: &EventView| !e.joins.is_empty();
    let first_weekly = weekly
        .iter()
        .find(|e| e.start_time.starts_with("2024-03-05"))
        .expect("the series' first instance");
    assert!(
        planned(first_weekly),
        "a Meet the user accepted gets a plan: {first_weekly:?}"
    );
    assert!(
        planned(by_title("Teams call with Contoso")),
        "a Teams call the user's own entry accepted gets a plan"
    );
    assert!(
        planned(by_title("Desk time")),
        "a plain timed event gets a plan when every timed event is planned"
    );
    let vendor = by_title("Vendor call (Zoom)");
    assert_eq!(
        vendor.meeting_platform.as_deref(),
        Some("zoom"),
        "the declined call still has its Zoom link"
    );
    assert!(
        !planned(vendor),
        "but no plan: the user's own attendee entry (self: true) declined it"
    );
    for blocked in ["Focus time", "Out of office"] {
        let e = by_title(blocked);
        assert_eq!(
            e.availability,
            punctual::model::Availability::Busy,
            "{blocked} is opaque, so busy time is not the reason it gets no plan"
        );
        assert!(
            !planned(e),
            "{blocked} is not joinable (its eventType), so it gets no plan"
        );
    }

    // Transparency.
    for free in ["Company offsite", "Office", "Home"] {
        assert_eq!(
            by_title(free).availability,
            punctual::model::Availability::Free,
            "{free} is transparent, so it shows as free"
        );
    }
    assert_eq!(
        by_title("Teams call with Contoso").availability,
        punctual::model::Availability::Busy,
        "an event without transparency is busy, as Google's default is opaque"
    );
}

#[test]
fn an_expired_sync_token_wipes_the_calendar_and_syncs_in_full() {
    let (h, id) = synced_with_three_meetings();
    // A deletion that a full sync will not mention: only a wipe removes it locally.
    h.fake.delete(CAL, "ev3");
    h.fake.expire_sync_tokens();
    let r = h.sync(&id).expect("the sync recovers from 410");
    assert_eq!(r[0].full_resyncs, 1, "one full resync after the 410");
    assert!(
        h.fake.requests("syncToken=") >= 1,
        "the stale token was tried first"
    );
    assert_eq!(
        titles(&h.app),
        vec!["Meeting 1".to_string(), "Meeting 2".to_string()],
        "the full resync holds exactly the server's events"
    );
}

#[test]
fn a_retry_after_of_years_holds_the_account_for_a_day_at_most() {
    let h = Harness::new();
    h.fake.put(CAL, single("ev1", "Meeting 1", 11, 9));
    let id = h.connect();
    h.fake.push_fault(Fault::Pass);
    h.fake.push_fault(Fault::TooMany {
        retry_after: 1_000_000_000_000,
    });
    let e = h
        .sync(&id)
        .expect_err("a server asking for ages stops the sync, without overflowing the clock");
    assert!(
        e.message.contains("wait until 2026-03-03T08:00:00Z"),
        "the hold is capped at a day, so a garbled or absurd Retry-After cannot silence the account for good: {}",
        e.message
    );
    h.clock
        .advance(CDuration::hours(24) + CDuration::seconds(1));
    h.sync(&id).expect("a day later the sync goes ahead");
}

#[test]
fn a_410_whose_full_fetch_fails_keeps_the_calendar_until_a_page_arrives() {
    let (h, id) = synced_with_three_meetings();
    h.fake.expire_sync_tokens();
    // The calendar list and the stale-token request (410) answer; every try of the full fetch fails.
    h.fake.push_fault(Fault::Pass);
    h.fake.push_fault(Fault::Pass);
    for _ in 0..6 {
        h.fake.push_fault(Fault::ServerError);
    }
    let e = h
        .sync(&id)
        .expect_err("a full fetch that keeps failing fails the sync");
    assert_eq!(e.code, ErrorCode::Network, "a server failure: {e:?}");
    assert_eq!(
        h.fake.requests("syncToken="),
        1,
        "the stale token was tried once, and answered 410"
    );
    assert_eq!(
        titles(&h.app).len(),
        3,
        "no page of the full fetch arrived, so the calendar keeps its events"
    );
    let r = h.sync(&id).expect("the next sync recovers");
    assert_eq!(
        r[0].full_resyncs, 1,
        "the saved token is still the stale one: it meets the 410 again and fetches in full"
    );
    assert_eq!(
        titles(&h.app).len(),
        3,
        "and the calendar holds the server's three events once each"
    );
}

#[test]
fn a_full_sync_that_fails_keeps_the_calendar_and_its_cursor() {
    let (h, id) = synced_with_three_meetings();
    // The calendar list answers; every try of the full fetch fails.
    h.fake.push_fault(Fault::Pass);
    for _ in 0..6 {
        h.fake.push_fault(Fault::ServerError);
    }
    h.app
        .sync(Some(&id), true, &mut |_, _| {})
        .expect_err("a full sync whose fetch keeps failing fails");
    assert_eq!(
        titles(&h.app).len(),
        3,
        "a full sync drops the events with its first page, and none arrived"
    );
    let before = h.fake.requests("syncToken=");
    h.sync(&id).expect("the next sync works");
    assert_eq!(
        h.fake.requests("syncToken="),
        before + 1,
        "the saved sync token survived the failed full sync, so the next sync asks for changes only"
    );
    assert_eq!(titles(&h.app).len(), 3, "and nothing was lost or doubled");
}

#[test]
fn a_retry_after_longer_than_a_sync_waits_holds_every_request_until_then() {
    let h = Harness::new();
    h.fake.put(CAL, single("ev1", "Meeting 1", 11, 9));
    let id = h.connect();
    // The calendar list answers; the events request is told to come back in an hour.
    h.fake.push_fault(Fault::Pass);
    h.fake.push_fault(Fault::TooMany { retry_after: 3600 });
    let e = h
        .sync(&id)
        .expect_err("an hour is longer than a sync waits");
    assert_eq!(e.code, ErrorCode::Network, "a rate limit: {e:?}");
    assert!(
        e.message.contains("wait until 2026-03-02T09:00:00Z"),
        "the error says until when the service asked to wait: {}",
        e.message
    );
    assert!(
        h.waits.lock().expect("waits").is_empty(),
        "the sync neither sat out the hour nor retried sooner than asked"
    );
    let sent = h.fake.state().log.len();
    h.clock.advance(CDuration::minutes(59));
    let e = h.sync(&id).expect_err("a sync within the hour is held");
    assert!(
        e.message.contains("wait until"),
        "it says why: {}",
        e.message
    );
    assert_eq!(
        h.fake.state().log.len(),
        sent,
        "a held sync sends no request at all"
    );
    h.clock.advance(CDuration::minutes(2));
    h.sync(&id).expect("after the hour the sync goes ahead");
    assert_eq!(
        titles(&h.app),
        vec!["Meeting 1".to_string()],
        "and brings the events"
    );
    h.sync(&id)
        .expect("a good sync clears the hold, so the next one runs at once");
}

#[test]
fn a_401_refreshes_once_and_the_rotated_refresh_token_is_saved() {
    let h = Harness::new();
    h.fake.put(CAL, single("ev1", "Meeting 1", 11, 9));
    let id = h.connect();
    let before = h
        .secrets
        .get(&refresh_key(&id))
        .expect("keychain")
        .expect("a refresh token");
    h.fake.push_fault(Fault::Unauthorized);
    h.sync(&id).expect("a 401 is cured by a refresh");
    let after = h
        .secrets
        .get(&refresh_key(&id))
        .expect("keychain")
        .expect("a refresh token");
    assert_ne!(
        before, after,
        "the rotated refresh token replaced the old one"
    );
    // The fake killed the old token on rotation: only the saved new one can refresh again.
    h.fake.push_fault(Fault::Unauthorized);
    h.sync(&id)
        .expect("the saved rotated token refreshes again");
    h.fake.push_fault(Fault::Unauthorized);
    h.fake.push_fault(Fault::Unauthorized);
    let e = h
        .sync(&id)
        .expect_err("a second 401 after a refresh is not retried forever");
    assert_eq!(
        e.code,
        ErrorCode::NeedsReconnect,
        "a fresh token refused means reconnect: {e:?}"
    );
}

struct Quiet;
impl Notifier for Quiet {
    fn notify(&self, _: &Notification) -> Result<(), String> {
        Ok(())
    }
}
impl Opener for Quiet {
    fn open(&self, _: &str) -> Result<(), String> {
        Ok(())
    }
}
impl ScreenLock for Quiet {
    fn is_locked(&self) -> bool {
        false
    }
}

fn soon(h: &Harness, id: &str, minutes: i64) -> Value {
    let start: DateTime<Utc> = h.clock.now() + CDuration::minutes(minutes);
    let end = start + CDuration::minutes(30);
    items::with_meet(
        items::timed(id, "Standup", &start.to_rfc3339(), &end.to_rfc3339(), TZ),
        "abc-defg-hij",
    )
}

fn plan_status(app: &App) -> Option<String> {
    let now = app.now();
    all_events(
        app,
        &now.to_rfc3339(),
        &(now + CDuration::hours(2)).to_rfc3339(),
    )
    .into_iter()
    .find(|e| e.title == "Standup")
    .and_then(|e| e.joins.first().map(|j| j.status.clone()))
}

use punctual::time::Clock as _;

#[test]
fn invalid_grant_needs_reconnect_and_cancels_the_connections_plans() {
    let h = Harness::new();
    h.fake.put(CAL, soon(&h, "standup", 30));
    let id = h.connect();
    h.sync(&id).expect("sync");
    assert_eq!(
        plan_status(&h.app).as_deref(),
        Some("scheduled"),
        "a Meet event soon gets a plan"
    );
    let e = h.lose_the_grant(&id);
    assert_eq!(
        e.code,
        ErrorCode::NeedsReconnect,
        "invalid_grant is needs_reconnect: {e:?}"
    );
    let conn = h.app.connection(&id).expect("the connection stays");
    assert_eq!(
        conn.state,
        ConnectionState::NeedsReconnect,
        "the state says reconnect"
    );
    let failure = conn
        .connection_failure_data
        .expect("failure data is recorded");
    assert_eq!(
        failure.error, "needs_reconnect",
        "the failure names its code"
    );
    assert!(!failure.at.is_empty(), "and when it happened");
    assert_eq!(
        plan_status(&h.app).as_deref(),
        Some("cancelled"),
        "the account's join plans are cancelled"
    );
    // The service then fails for a while: that failure must not read as "connected".
    h.fake.state().revoked = false;
    for _ in 0..6 {
        h.fake.push_fault(Fault::ServerError);
    }
    let e = h.sync(&id).expect_err("the service is down");
    assert_eq!(
        e.code,
        ErrorCode::Network,
        "this failure is a network one: {e:?}"
    );
    assert_eq!(
        h.app.connection(&id).expect("connection").state,
        ConnectionState::NeedsReconnect,
        "a later network failure does not hide that the account needs reconnecting"
    );
    h.app.replan().expect("planning again");
    assert_eq!(
        plan_status(&h.app).as_deref(),
        Some("cancelled"),
        "planning does not bring plans back while the account needs reconnecting"
    );
}

#[test]
fn rate_limits_and_server_errors_back_off_honouring_retry_after() {
    let h = Harness::new();
    h.fake.put(CAL, single("ev1", "Meeting 1", 11, 9));
    let id = h.connect();
    h.fake.push_fault(Fault::TooMany { retry_after: 7 });
    h.fake.push_fault(Fault::ServerError);
    h.fake.push_fault(Fault::RateLimit403);
    h.fake.push_fault(Fault::Reset);
    h.fake.push_fault(Fault::Truncate);
    h.sync(&id)
        .expect("transient failures are retried until they pass");
    let waits = h.waits.lock().expect("waits").clone();
    assert_eq!(waits.len(), 5, "one wait per transient failure: {waits:?}");
    assert!(
        waits[0] >= Duration::from_secs(7),
        "Retry-After: 7 is honoured: {waits:?}"
    );
    assert!(
        waits.iter().all(|w| *w <= Duration::from_secs(30)),
        "no wait is longer than the cap: {waits:?}"
    );
    assert_eq!(
        titles(&h.app),
        vec!["Meeting 1".to_string()],
        "the data arrived in the end"
    );
}

#[test]
fn a_server_that_keeps_failing_gives_up_after_a_bounded_number_of_tries() {
    let h = Harness::new();
    let id = h.connect();
    for _ in 0..20 {
        h.fake.push_fault(Fault::ServerError);
    }
    let e = h.sync(&id).expect_err("a dead server fails the sync");
    assert_eq!(
        e.code,
        ErrorCode::Network,
        "the failure is a network one: {e:?}"
    );
    let waits = h.waits.lock().expect("waits").clone();
    assert_eq!(waits.len(), 5, "six tries are five waits");
    for (i, w) in waits.iter().enumerate() {
        let bound = Duration::from_millis(100 << (i + 1));
        assert!(
            *w <= bound,
            "retry {} waits at most base * 2^{} = {bound:?}: {waits:?}",
            i + 1,
            i + 1
        );
    }
    assert!(
        waits.iter().sum::<Duration>() > Duration::ZERO,
        "the retries do wait: {waits:?}"
    );
    let conn = h.app.connection(&id).expect("connection");
    assert_eq!(
        conn.state,
        ConnectionState::Connected,
        "a server failure does not need a reconnect"
    );
    assert_eq!(
        conn.connection_failure_data.map(|f| f.error).as_deref(),
        Some("network"),
        "but the failure is recorded"
    );
}

#[test]
fn the_join_plan_asks_google_once_and_follows_a_cancellation() {
    let h = Harness::new();
    h.fake.put(CAL, soon(&h, "standup", 1));
    let id = h.connect();
    h.sync(&id).expect("sync");
    let host = JoinHost {
        notifier: &Quiet,
        opener: &Quiet,
        screen: &Quiet,
    };
    let now = h.app.now();
    let plan = all_events(
        &h.app,
        &now.to_rfc3339(),
        &(now + CDuration::hours(2)).to_rfc3339(),
    )
    .into_iter()
    .find(|e| e.title == "Standup")
    .and_then(|e| e.joins.first().map(|j| j.id.clone()))
    .expect("the Meet event has a plan");
    // Cancelled on the server after the last sync: only the re-check can know.
    h.fake.delete(CAL, "standup");
    h.app.tick(&host).expect("tick");
    h.app.tick(&host).expect("tick again");
    assert_eq!(
        h.fake.requests("/events/standup"),
        1,
        "the provider is asked about a plan at most once"
    );
    let history = h.app.plan_history(&plan).expect("the plan's history");
    assert_eq!(
        history.last().map(|(s, _)| s.as_str()),
        Some("cancelled"),
        "the provider's 'cancelled' cancels the plan before it fires: {history:?}"
    );
    assert!(
        !history.iter().any(|(s, _)| s == "notified"),
        "no notification went out for a cancelled meeting: {history:?}"
    );
    assert!(
        titles(&h.app).is_empty(),
        "the re-check stored the cancellation"
    );
}

#[test]
fn selecting_a_calendar_needs_a_known_one_and_writes_nothing_otherwise() {
    let h = Harness::new();
    let id = h.connect();
    let changes = h.app.total_changes();
    let e = h
        .app
        .select_calendar(&id, "nope", true)
        .expect_err("unknown calendar");
    assert_eq!(
        e.code,
        ErrorCode::NotFound,
        "an unknown calendar is not found: {e:?}"
    );
    assert_eq!(
        h.app.total_changes(),
        changes,
        "a refused selection writes nothing"
    );
    let c = h
        .app
        .select_calendar(&id, CAL, false)
        .expect("deselect by the provider's id");
    assert!(!c.calendars[0].selected, "the calendar is deselected");
}

#[test]
fn a_sync_killed_midway_does_not_turn_a_needed_reconnect_into_connected() {
    let (dir, h) = Harness::file_backed();
    let id = h.connect();
    h.lose_the_grant(&id);
    // What a sync killed after it marked the connection `syncing` leaves behind.
    rusqlite::Connection::open(dir.path().join("punctual.sqlite3"))
        .and_then(|db| {
            db.execute(
                "UPDATE connections SET state = 'syncing' WHERE id = ?1",
                [&id],
            )
        })
        .expect("the stale state is written");
    h.fake.state().revoked = false;
    for _ in 0..6 {
        h.fake.push_fault(Fault::ServerError);
    }
    let e = h
        .sync(&id)
        .expect_err("a sync that meets only server failures fails");
    assert_ne!(
        e.code,
        ErrorCode::NeedsReconnect,
        "this failure is the server's, not the grant's: {e:?}"
    );
    assert_eq!(
        h.app.connection(&id).expect("the connection").state,
        ConnectionState::NeedsReconnect,
        "a server failure says nothing about the grant, which the failure data says is gone"
    );
}

#[test]
fn a_reconnect_through_another_client_refreshes_with_that_client_from_then_on() {
    let (dir, h) = Harness::file_backed();
    h.fake.put(CAL, single("ev1", "Meeting 1", 11, 9));
    let id = h.connect();
    h.lose_the_grant(&id);
    h.fake.state().revoked = false;
    // The user reconnects with Punctual configured for another OAuth client.
    let other = App::open_with(
        dir.path(),
        h.clock.clone(),
        punctual::time::Zone::parse(TZ).expect("a known zone"),
    )
    .expect("a second app on the same data")
    .with_secrets(h.secrets.clone())
    .with_google(punctual::providers::ProviderSetup {
        client_id: Some(OTHER_CLIENT_ID.into()),
        client_secret: Some(punctual::secrets::SecretString::new(OTHER_CLIENT_SECRET)),
        ..support::setup_for(&h.fake)
    });
    let conn = other
        .connect_google_refresh_token(punctual::secrets::SecretString::new(
            h.fake.issue_refresh_token(),
        ))
        .expect("the reconnect works");
    assert_eq!(conn.id, id, "a reconnect keeps the connection");
    assert_eq!(
        conn.metadata["client_id"], OTHER_CLIENT_ID,
        "the connection records the client its new grant belongs to"
    );
    h.secrets
        .delete(&punctual::secrets::access_key(&id))
        .expect("forget the access token again, so the next sync must refresh");
    let r = h
        .sync(&id)
        .expect("the refresh goes out with the new client's id and secret together");
    assert_eq!(r[0].changes, 1, "and the sync brings the event");
}

#[test]
fn disconnect_removes_every_trace_of_the_account() {
    let (dir, h) = Harness::file_backed();
    h.fake.put(CAL, soon(&h, "standup", 30));
    h.fake.put(
        CAL,
        items::recurring(
            "weekly",
            "Weekly",
            "2026-03-03T10:00:00+01:00",
            "2026-03-03T10:30:00+01:00",
            TZ,
            &["RRULE:FREQ=WEEKLY"],
        ),
    );
    h.fake.put(CAL, single("review", "Review", 20, 10));
    let id = h.connect();
    h.sync(&id).expect("sync");
    assert_eq!(
        plan_status(&h.app).as_deref(),
        Some("scheduled"),
        "there is a plan to remove"
    );
    let review = all_events(&h.app, "2026-03-20", "2026-03-21")
        .into_iter()
        .find(|e| e.title == "Review")
        .expect("the review was synced")
        .id;
    // Renamed in Google after the sync: the local edit that follows is refused, and kept as a conflict.
    h.fake
        .put(CAL, single("review", "Review (moved by Raj)", 20, 10));
    h.app
        .edit_event(
            &review,
            &punctual::app::EventInput {
                title: Some("Review, my version".into()),
                ..Default::default()
            },
            punctual::app::Scope::All,
        )
        .expect("the local edit is accepted");
    // Google is failing: a new event waits in the outbox.
    h.fake.push_fault(Fault::ServerError);
    let calendar = h.app.connection(&id).expect("connection").calendars[0]
        .id
        .clone();
    h.app
        .create_event(&punctual::app::EventInput {
            title: Some("Made offline".into()),
            start: Some("2026-03-21T10:00:00+01:00".into()),
            end: Some("2026-03-21T11:00:00+01:00".into()),
            calendar: Some(calendar),
            ..Default::default()
        })
        .expect("the local create succeeds while Google fails");
    assert_eq!(
        h.app.conflicts().expect("conflicts").len(),
        1,
        "there is a conflict to remove"
    );
    let db =
        rusqlite::Connection::open(dir.path().join("punctual.sqlite3")).expect("open the file");
    let count = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).expect(sql) };
    assert_eq!(
        count("SELECT COUNT(*) FROM outbox WHERE last_error IS NULL OR last_error NOT LIKE 'conflict: %'"),
        1,
        "the offline create waits in the outbox"
    );
    // What only the local calendar holds; everything above it came from the account.
    let local_only = [
        ("connections", 1),
        ("calendars", 1),
        ("events", 0),
        ("occurrences", 0),
        ("sync_state", 0),
        ("outbox", 0),
        ("join_plans", 0),
        ("join_plan_history", 0),
    ];
    for (table, local) in local_only {
        let n = count(&format!("SELECT COUNT(*) FROM {table}"));
        assert!(
            n > local,
            "before disconnect, {table} holds the account's rows too ({n}), so their removal is seen"
        );
    }
    h.app.disconnect(&id).expect("disconnect");
    for (table, want) in local_only {
        assert_eq!(
            count(&format!("SELECT COUNT(*) FROM {table}")),
            want,
            "after disconnect, {table} holds only the local calendar's rows"
        );
    }
    assert!(
        h.app.conflicts().expect("conflicts").is_empty(),
        "the account's conflict went with it"
    );
    assert!(
        h.secrets.keys().is_empty(),
        "the keychain entries are gone: {:?}",
        h.secrets.keys()
    );
    let e = h
        .app
        .disconnect("local")
        .expect_err("the local calendar stays");
    assert_eq!(
        e.code,
        ErrorCode::InvalidInput,
        "the local connection cannot be removed"
    );
}

#[test]
fn no_token_reaches_the_database_or_the_output() {
    let (dir, h) = Harness::file_backed();
    h.fake.put(CAL, single("ev1", "Meeting 1", 11, 9));
    let id = h.connect();
    h.fake.push_fault(Fault::Unauthorized);
    let mut log = String::new();
    let reports = h
        .app
        .sync(Some(&id), false, &mut |c, p| {
            log.push_str(&format!("{c} {p:?}\n"))
        })
        .expect("sync with a refresh");
    log.push_str(&format!(
        "{reports:?} {:?}",
        h.app.connections().expect("list")
    ));
    log.push_str(&serde_json::to_string(&h.app.connections().expect("list")).expect("json"));
    let issued = h.fake.state().issued.clone();
    assert!(
        issued.len() >= 4,
        "tokens were issued and rotated: {issued:?}"
    );
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir.path()).expect("the data dir") {
        let p = entry.expect("an entry").path();
        bytes.extend(std::fs::read(&p).unwrap_or_default());
    }
    for t in issued.iter().filter(|t| !t.starts_with("code")) {
        assert!(
            !bytes.windows(t.len()).any(|w| w == t.as_bytes()),
            "token {t} must not be in the database files"
        );
        assert!(
            !log.contains(t.as_str()),
            "token {t} must not be in the log or output"
        );
    }
}

#[test]
fn a_recurring_event_with_an_invalid_rule_is_refused_before_google_sees_it() {
    let h = Harness::new();
    let id = h.connect();
    let cal = h.app.connection(&id).expect("connection").calendars[0]
        .id
        .clone();
    let changes = h.app.total_changes();
    let e = h
        .app
        .create_event(&punctual::app::EventInput {
            title: Some("Weekly".into()),
            start: Some("2026-03-20T10:00:00+01:00".into()),
            end: Some("2026-03-20T11:00:00+01:00".into()),
            repeat: Some("FREQ=WEEKLY;BYDAY=XX".into()),
            calendar: Some(cal),
            ..Default::default()
        })
        .expect_err("an invalid rule is refused");
    assert_eq!(
        e.code,
        ErrorCode::InvalidRrule,
        "the refusal names the rule as the problem: {e:?}"
    );
    assert_eq!(e.field.as_deref(), Some("repeat"), "and names the field");
    assert_eq!(
        h.app.total_changes(),
        changes,
        "a refused create writes nothing"
    );
    assert_eq!(h.fake.requests("POST /calendar"), 0, "and sends nothing");
}

#[test]
fn a_full_sync_fetches_everything_again_without_the_token() {
    let (h, id) = synced_with_three_meetings();
    let lists_before = h.fake.requests("/events?");
    let r = h
        .app
        .sync(Some(&id), true, &mut |_, _| {})
        .expect("a full sync");
    assert_eq!(r[0].changes, 3, "every event was fetched again: {:?}", r[0]);
    let log = h.fake.state().log.clone();
    let lists: Vec<&String> = log.iter().filter(|l| l.contains("/events?")).collect();
    assert_eq!(lists.len(), lists_before + 1, "one more list request");
    assert!(
        !lists.last().is_some_and(|l| l.contains("syncToken")),
        "--full does not send the saved token: {:?}",
        lists.last()
    );
    assert_eq!(
        titles(&h.app).len(),
        3,
        "and the store holds the three events once each"
    );
}

#[test]
fn the_sync_interval_is_a_setting_with_bounds() {
    let h = Harness::new();
    assert_eq!(
        h.app.sync_interval().expect("default"),
        Duration::from_secs(300),
        "accounts sync every 5 minutes by default"
    );
    let changes = h.app.total_changes();
    let e = h
        .app
        .set_sync_interval(0)
        .expect_err("zero minutes is refused");
    assert_eq!(
        e.code,
        ErrorCode::InvalidInput,
        "a bad interval is bad input: {e:?}"
    );
    assert_eq!(
        e.field.as_deref(),
        Some("minutes"),
        "the error names the field"
    );
    assert_eq!(
        h.app.total_changes(),
        changes,
        "a refused interval writes nothing"
    );
    h.app.set_sync_interval(15).expect("15 minutes is fine");
    assert_eq!(
        h.app.sync_interval().expect("read back"),
        Duration::from_secs(900),
        "the setting is read back"
    );
}

#[test]
fn reconnecting_an_account_that_needs_it_restores_it_in_place() {
    let h = Harness::new();
    h.fake.put(CAL, soon(&h, "standup", 30));
    let id = h.connect();
    h.sync(&id).expect("sync");
    h.lose_the_grant(&id);
    assert_eq!(
        h.app.connection(&id).expect("conn").state,
        ConnectionState::NeedsReconnect,
        "the account needs reconnecting"
    );
    h.fake.state().revoked = false;
    let rt = h.fake.issue_refresh_token();
    let again = h
        .app
        .connect_google_refresh_token(punctual::secrets::SecretString::new(rt))
        .expect("connecting the same account again repairs it");
    assert_eq!(
        again.id, id,
        "the same connection is reused, not duplicated"
    );
    assert_eq!(
        again.state,
        ConnectionState::Connected,
        "it is connected again"
    );
    assert!(
        again.connection_failure_data.is_none(),
        "the failure is cleared"
    );
    assert_eq!(
        h.app.connections().expect("list").len(),
        2,
        "still one account"
    );
    h.sync(&id).expect("it syncs again");
    assert_eq!(
        plan_status(&h.app).as_deref(),
        Some("scheduled"),
        "its meetings get join plans again"
    );
}

#[test]
fn the_control_api_that_fake_cloud_exposes_changes_the_server() {
    // The desktop end-to-end tests drive the fake from another process through these endpoints.
    let h = Harness::new();
    let id = h.connect();
    punctual::auth::install_tls_provider();
    let http = reqwest::blocking::Client::new();
    let post = |path: &str, body: String| {
        http.post(format!("{}/_control/{path}", h.fake.base))
            .body(body)
            .send()
            .expect("the control API answers")
            .status()
            .as_u16()
    };
    assert_eq!(
        post("put", single("ev1", "From control", 12, 9).to_string()),
        200,
        "put works"
    );
    h.sync(&id).expect("sync");
    assert_eq!(
        titles(&h.app),
        vec!["From control".to_string()],
        "the event put through control syncs"
    );
    assert_eq!(post("revoke", String::new()), 200, "revoke works");
    h.secrets
        .delete(&punctual::secrets::access_key(&id))
        .expect("forget the cached access token");
    let e = h.sync(&id).expect_err("a revoked grant");
    assert_eq!(
        e.code,
        ErrorCode::NeedsReconnect,
        "revoke through control is invalid_grant: {e:?}"
    );
    assert_eq!(
        post("nonsense", String::new()),
        404,
        "an unknown control is refused"
    );
}

/// The listing of one calendar by our id: explicit calendars are listed whether selected or not, so this
/// shows what the store holds for it.
fn stored_in(app: &App, calendar: &str) -> Vec<EventView> {
    app.list_events(&ListQuery {
        from: Some("2026-02-01".into()),
        to: Some("2026-05-01".into()),
        calendars: vec![calendar.into()],
        all: true,
        limit: Some(100),
        ..Default::default()
    })
    .expect("listing one calendar works")
    .events
}

#[test]
fn only_the_primary_calendar_syncs_until_the_user_selects_another() {
    const TEAM: &str = "team@group.calendar.google.com";
    let h = Harness::new();
    // The fake lists the team calendar as Google's `selected: true` (shown in Google's web list): that
    // must not be enough to sync it.
    h.fake.add_calendar(TEAM, "Team", TZ);
    h.fake.put(CAL, single("mine", "Mine", 10, 9));
    h.fake.put(TEAM, single("team1", "Team 1", 11, 9));
    let id = h.connect();
    let conn = h.app.connection(&id).expect("the connection");
    assert_eq!(
        conn.calendars.len(),
        2,
        "calendarList's two calendars are both listed: {:?}",
        conn.calendars
    );
    let team = conn
        .calendars
        .iter()
        .find(|c| c.remote_id.as_deref() == Some(TEAM))
        .expect("the team calendar is listed")
        .clone();
    assert!(
        !team.selected && !team.is_primary,
        "a calendar other than the primary starts unselected: {team:?}"
    );
    h.sync(&id).expect("sync");
    assert_eq!(
        titles(&h.app),
        vec!["Mine".to_string()],
        "only the primary calendar's events are shown"
    );
    assert!(
        stored_in(&h.app, &team.id).is_empty(),
        "nothing of the unselected calendar is stored"
    );
    assert_eq!(
        h.fake.requests(&format!("/calendars/{TEAM}/events")),
        0,
        "its events are never even asked for"
    );

    h.app
        .select_calendar(&id, TEAM, true)
        .expect("select the team calendar");
    h.sync(&id).expect("sync after selecting");
    assert_eq!(
        titles(&h.app),
        vec!["Mine".to_string(), "Team 1".to_string()],
        "a selected calendar syncs"
    );
    // A later sync lists the calendars again; the user's choice must survive it.
    h.sync(&id).expect("another sync");
    assert!(
        h.app
            .connection(&id)
            .expect("connection")
            .calendars
            .iter()
            .any(|c| c.id == team.id && c.selected),
        "the user's selection survives the calendar list of later syncs"
    );

    h.app
        .select_calendar(&id, &team.id, false)
        .expect("deselect it again, by our id");
    h.fake.put(TEAM, single("team2", "Team 2", 12, 9));
    let asked = h.fake.requests(&format!("/calendars/{TEAM}/events"));
    h.sync(&id).expect("sync after deselecting");
    assert_eq!(
        h.fake.requests(&format!("/calendars/{TEAM}/events")),
        asked,
        "a deselected calendar is not fetched any more"
    );
    assert_eq!(
        titles(&h.app),
        vec!["Mine".to_string()],
        "a deselected calendar's events are hidden"
    );
    let kept: Vec<String> = stored_in(&h.app, &team.id)
        .into_iter()
        .map(|e| e.title)
        .collect();
    assert_eq!(
        kept,
        vec!["Team 1".to_string()],
        "deselecting hides the events but keeps them and the sync token, as select_calendar only flips the flag"
    );

    h.app
        .select_calendar(&id, TEAM, true)
        .expect("select it once more");
    let lists = |with_token: bool| {
        h.fake
            .state()
            .log
            .iter()
            .filter(|l| l.contains(&format!("/calendars/{TEAM}/events?")))
            .filter(|l| l.contains("syncToken=") == with_token)
            .count()
    };
    let (full_before, incremental_before) = (lists(false), lists(true));
    h.sync(&id).expect("sync after selecting again");
    assert_eq!(
        (lists(false), lists(true)),
        (full_before, incremental_before + 1),
        "selecting again resumes from the saved sync token instead of starting over"
    );
    assert_eq!(
        titles(&h.app),
        vec![
            "Mine".to_string(),
            "Team 1".to_string(),
            "Team 2".to_string()
        ],
        "and brings the change made meanwhile"
    );
}

#[test]
fn focus_time_and_declined_meetings_synced_from_google_get_no_join_plan() {
    let h = Harness::new();
    let meet = |id: &str, title: &str, minutes: i64, code: &str| {
        let start: DateTime<Utc> = h.clock.now() + CDuration::minutes(minutes);
        let end = start + CDuration::minutes(30);
        items::with_meet(
            items::timed(id, title, &start.to_rfc3339(), &end.to_rfc3339(), TZ),
            code,
        )
    };
    // Each carries its own Meet link, so only eventType or the user's answer can keep a plan away.
    h.fake
        .put(CAL, meet("accepted", "Accepted", 20, "aaa-aaaa-aaa"));
    let mut focus = meet("focus", "Focus", 40, "bbb-bbbb-bbb");
    focus["eventType"] = "focusTime".into();
    h.fake.put(CAL, focus);
    let mut away = meet("away", "Away", 60, "ccc-cccc-ccc");
    away["eventType"] = "outOfOffice".into();
    h.fake.put(CAL, away);
    let mut declined = meet("declined", "Declined", 80, "ddd-dddd-ddd");
    declined["attendees"] = serde_json::json!([
        {"email": "raj@acme.example", "organizer": true, "responseStatus": "accepted"},
        {"email": CAL, "self": true, "responseStatus": "declined"},
    ]);
    h.fake.put(CAL, declined);
    let id = h.connect();
    h.sync(&id).expect("sync");
    let now = h.app.now();
    let events = all_events(
        &h.app,
        &now.to_rfc3339(),
        &(now + CDuration::hours(3)).to_rfc3339(),
    );
    let joins = |title: &str| {
        let e = events
            .iter()
            .find(|e| e.title == title)
            .unwrap_or_else(|| panic!("{title} was synced"));
        assert_eq!(
            e.meeting_platform.as_deref(),
            Some("google_meet"),
            "{title} has its Meet link, so a missing plan is not for want of a link"
        );
        e.joins.iter().map(|j| j.status.clone()).collect::<Vec<_>>()
    };
    assert_eq!(
        joins("Accepted"),
        vec!["scheduled".to_string()],
        "an ordinary Meet event soon gets a plan"
    );
    assert!(
        joins("Focus").is_empty(),
        "a focusTime block is never joined"
    );
    assert!(
        joins("Away").is_empty(),
        "an outOfOffice block is never joined"
    );
    assert!(
        joins("Declined").is_empty(),
        "a meeting the user declined is not joined"
    );
}

#[test]
fn two_google_accounts_sync_side_by_side_and_disconnecting_one_keeps_the_other() {
    const RAJ: &str = "raj@acme.example";
    let h = Harness::new();
    h.fake.add_user(RAJ, "Raj Patel", TZ);
    h.fake.put(CAL, single("jane1", "Jane's review", 10, 9));
    h.fake.put(RAJ, single("raj1", "Raj's planning", 11, 9));
    let jane = h.connect();
    let raj = h
        .app
        .connect_google_refresh_token(punctual::secrets::SecretString::new(
            h.fake.issue_refresh_token_for(RAJ),
        ))
        .expect("a second Google account connects beside the first")
        .id;
    assert_ne!(jane, raj, "each account is its own connection");
    h.app
        .sync(None, false, &mut |_, _| {})
        .expect("syncing every account works");

    let conn = |id: &str| h.app.connection(id).expect("the connection");
    for (id, email, title) in [(&jane, CAL, "Jane's review"), (&raj, RAJ, "Raj's planning")] {
        let c = conn(id);
        assert_eq!(
            c.account_email.as_deref(),
            Some(email),
            "each connection is its own account"
        );
        assert_eq!(
            c.calendars
                .iter()
                .map(|c| c.remote_id.clone())
                .collect::<Vec<_>>(),
            vec![Some(email.to_string())],
            "{email}'s connection lists its own calendar only"
        );
        assert_eq!(c.event_count, 1, "{email} counts its own event");
        assert_eq!(c.state, ConnectionState::Connected, "{email} synced well");
        let mine: Vec<String> = all_events(&h.app, "2026-03-01", "2026-04-01")
            .into_iter()
            .filter(|e| e.connection_id == *id)
            .map(|e| e.title)
            .collect();
        assert_eq!(
            mine,
            vec![title.to_string()],
            "{email}'s event is filed under its connection"
        );
    }
    assert_eq!(
        h.app.connections().expect("list").len(),
        3,
        "the local calendar and the two accounts"
    );

    h.app.disconnect(&jane).expect("disconnect Jane");
    assert_eq!(
        titles(&h.app),
        vec!["Raj's planning".to_string()],
        "Jane's events went, Raj's stayed"
    );
    assert!(
        h.secrets
            .get(&refresh_key(&raj))
            .expect("keychain")
            .is_some(),
        "Raj's refresh token stays in the keychain"
    );
    assert!(
        h.secrets
            .get(&refresh_key(&jane))
            .expect("keychain")
            .is_none(),
        "Jane's is gone"
    );
    h.fake.put(RAJ, single("raj2", "Raj's retro", 12, 9));
    h.sync(&raj).expect("Raj's account still syncs");
    assert_eq!(
        titles(&h.app),
        vec!["Raj's planning".to_string(), "Raj's retro".to_string()],
        "and brings its new event"
    );
    assert_eq!(
        conn(&raj).event_count,
        2,
        "Raj's connection counts both of its events"
    );
}

#[test]
fn a_full_fetch_that_fails_after_its_first_page_keeps_every_event_and_every_plan() {
    let h = Harness::new();
    h.fake.state().page_size = 2;
    // Five meetings with a Meet link in the next hours, so each one has a join plan.
    for i in 0..5 {
        h.fake
            .put(CAL, soon(&h, &format!("standup{i}"), 30 + 10 * i as i64));
    }
    let id = h.connect();
    h.sync(&id).expect("first sync");
    let now = h.app.now();
    let window = |app: &App| {
        all_events(
            app,
            &now.to_rfc3339(),
            &(now + CDuration::hours(3)).to_rfc3339(),
        )
    };
    let planned = |app: &App| {
        window(app)
            .iter()
            .filter(|e| e.joins.iter().any(|j| j.status == "scheduled"))
            .count()
    };
    assert_eq!(window(&h.app).len(), 5, "the first sync stored all five");
    assert_eq!(planned(&h.app), 5, "and each one has a plan");
    h.fake.expire_sync_tokens();
    // The calendar list, the stale token (410) and the full fetch's first page answer; every try of its
    // second page fails.
    for _ in 0..3 {
        h.fake.push_fault(Fault::Pass);
    }
    for _ in 0..8 {
        h.fake.push_fault(Fault::ServerError);
    }
    h.sync(&id)
        .expect_err("a full fetch that fails on its second page fails the sync");
    assert_eq!(
        window(&h.app).len(),
        5,
        "the pages that never came do not empty the calendar: the full fetch removes nothing before its last page"
    );
    assert_eq!(
        planned(&h.app),
        5,
        "and no reminder was cancelled by the sync that failed"
    );
    h.fake.delete(CAL, "standup4");
    h.sync(&id).expect("the next sync finishes the full fetch");
    assert_eq!(
        window(&h.app).len(),
        4,
        "the finished full fetch removes what the server no longer has"
    );
}

#[test]
fn disconnect_revokes_the_refresh_token_at_google() {
    let h = Harness::new();
    let id = h.connect();
    let rt = h
        .secrets
        .get(&refresh_key(&id))
        .expect("keychain")
        .expect("the account's refresh token");
    let out = h.app.disconnect(&id).expect("disconnect");
    assert!(
        out.revoked && out.revoke_error.is_none(),
        "Google took the revocation: {out:?}"
    );
    assert_eq!(
        h.fake.state().revocations,
        vec![rt.expose().to_string()],
        "the account's refresh token was revoked at Google's endpoint"
    );
    let again = h.app.connect_google_refresh_token(rt.clone());
    assert_eq!(
        again.map(|_| ()).map_err(|e| e.code),
        Err(ErrorCode::NeedsReconnect),
        "the revoked token no longer works anywhere"
    );
}

#[test]
fn a_failed_revocation_is_reported_and_the_account_is_removed_all_the_same() {
    let h = Harness::new();
    let id = h.connect();
    h.fake.state().revoke_fails = true;
    let out = h.app.disconnect(&id).expect("disconnect goes on");
    assert!(
        !out.revoked
            && out
                .revoke_error
                .as_deref()
                .is_some_and(|e| e.contains("503")),
        "the failure is reported: {out:?}"
    );
    assert!(
        h.app.connection(&id).is_err(),
        "the account is gone locally all the same"
    );
    assert!(
        h.secrets
            .get(&refresh_key(&id))
            .expect("keychain")
            .is_none(),
        "and so are its secrets"
    );
}

#[test]
fn a_refresh_in_flight_during_disconnect_writes_no_token_back() {
    let h = Harness::new();
    let id = h.connect();
    // The next sync must refresh, and the token endpoint's answer waits until the disconnect is done.
    h.secrets
        .delete(&punctual::secrets::access_key(&id))
        .expect("forget the access token");
    let gate = h.fake.hold_answers("POST /token");
    let before = h.fake.requests("POST /token");
    std::thread::scope(|s| {
        let syncing = s.spawn(|| h.sync(&id));
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while h.fake.requests("POST /token") == before {
            assert!(
                std::time::Instant::now() < deadline,
                "the sync asks for a new token"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        let disconnected = h.app.disconnect(&id);
        // Only now does the refresh's answer reach the sync, which must find the account gone.
        gate.release();
        disconnected.expect("disconnect while the refresh is in flight");
        let _ = syncing.join().expect("the sync thread ends");
    });
    for key in [refresh_key(&id), punctual::secrets::access_key(&id)] {
        assert!(
            h.secrets.get(&key).expect("keychain").is_none(),
            "{key}: the refresh that finished after the disconnect wrote nothing back"
        );
    }
}

#[test]
fn start_up_housekeeping_removes_keychain_entries_whose_connection_is_gone() {
    let (dir, h) = Harness::file_backed();
    let id = h.connect();
    // A connect that crashed between its secrets and its row left these behind (its id was indexed).
    let index = h
        .secrets
        .get("index/connections")
        .expect("keychain")
        .expect("connects index their ids");
    let ids: Vec<String> = serde_json::from_str(index.expose()).expect("a JSON list");
    assert_eq!(ids, vec![id.clone()], "the connection is indexed");
    let ghost = "0000-ghost";
    h.secrets
        .set(
            "index/connections",
            &punctual::secrets::SecretString::new(serde_json::json!([id, ghost]).to_string()),
        )
        .expect("index the ghost");
    h.secrets
        .set(
            &refresh_key(ghost),
            &punctual::secrets::SecretString::new("1//ghost"),
        )
        .expect("a ghost's token");
    drop(dir);
    let report = h.app.tidy_secrets().expect("housekeeping");
    assert_eq!(
        report.removed,
        vec![ghost.to_string()],
        "only the ghost is removed"
    );
    assert!(
        h.secrets
            .get(&refresh_key(ghost))
            .expect("keychain")
            .is_none(),
        "its token is gone"
    );
    assert!(
        h.secrets
            .get(&refresh_key(&id))
            .expect("keychain")
            .is_some(),
        "the live connection keeps its token"
    );
}

#[test]
fn the_oauth_client_secret_lives_in_the_keychain_never_in_sqlite() {
    let (dir, h) = Harness::file_backed();
    let db_path = dir.path().join("punctual.sqlite3");
    let db = rusqlite::Connection::open(&db_path).expect("open the file");
    // What an older version wrote: the secret inside the setting.
    db.execute(
        "INSERT OR REPLACE INTO settings (key, value) VALUES ('google_oauth_client', ?1)",
        [r#"{"client_id":"old.apps.example","client_secret":"legacy-shh-123"}"#],
    )
    .expect("an old setting");
    let report = h.app.tidy_secrets().expect("housekeeping");
    assert!(report.moved_client_secret, "the old secret is moved");
    assert_eq!(
        h.secrets
            .get("oauth_client/google/client_secret")
            .expect("keychain")
            .map(|s| s.expose().to_string())
            .as_deref(),
        Some("legacy-shh-123"),
        "into the keychain"
    );
    h.app
        .set_oauth_client(
            punctual::model::Provider::GoogleCalendar,
            "new.apps.example",
            Some("fresh-shh-456"),
        )
        .expect("a new client");
    assert!(
        h.app
            .oauth_client(punctual::model::Provider::GoogleCalendar)
            .expect("view")
            .expect("set")
            .client_secret_set,
        "the view says a secret is set"
    );
    drop(db);
    // Everything SQLite holds, the write-ahead log included, once the app has checkpointed.
    let bytes: Vec<u8> = ["", "-wal"]
        .iter()
        .filter_map(|suffix| std::fs::read(format!("{}{suffix}", db_path.display())).ok())
        .flatten()
        .collect();
    let text = String::from_utf8_lossy(&bytes);
    for secret in ["legacy-shh-123", "fresh-shh-456"] {
        assert!(
            !text.contains(secret),
            "{secret}: a client secret is never in the database files"
        );
    }
}

#[test]
fn two_syncs_of_one_account_at_once_keep_every_event() {
    let h = Harness::new();
    h.fake.state().page_size = 2;
    h.fake.state().latency = Duration::from_millis(5);
    for i in 1..=9 {
        h.fake.put(
            CAL,
            single(&format!("ev{i}"), &format!("Meeting {i}"), 10 + i, 9),
        );
    }
    let id = h.connect();
    // As the desktop's timer and "Sync now" may start them: two full fetches of one calendar at once
    // would each sweep away what only the other had marked as seen.
    std::thread::scope(|s| {
        let a = s.spawn(|| h.sync(&id));
        let b = s.spawn(|| h.sync(&id));
        a.join()
            .expect("a sync thread ends")
            .expect("the first sync works");
        b.join()
            .expect("a sync thread ends")
            .expect("the second sync works");
    });
    let want: Vec<String> = (1..=9).map(|i| format!("Meeting {i}")).collect();
    assert_eq!(
        titles(&h.app),
        want,
        "the syncs ran one after the other, so every event is there once"
    );
}
