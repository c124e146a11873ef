//! The Microsoft sync path through `App`, against the fake Graph: a lost delta state (410,
//! `syncStateNotFound`, `resyncRequired`) and the full fetch after it, the window and its renewal, empty
//! pages and replayed items, occurrence stubs and their masters, `@removed`, declined and cancelled
//! meetings, input that must be refused without writing anything, and throttling.

mod support;

use chrono::{DateTime, Duration as CDuration, Utc};
use punctual::app::{App, ConnectRequest, EventView, ListQuery, SignIn};
use punctual::error::ErrorCode;
use punctual::model::Provider;
use punctual::secrets::{refresh_key, Secrets};
use punctual::time::Clock as _;
use serde_json::{json, Value};
use std::sync::Mutex;
use std::time::Duration;
use support::fake_graph::{items, Fault, Rewriter, TokenMode, DEFAULT_CALENDAR};
use support::GraphHarness;

/// Graph's wall-clock form of a UTC instant.
fn wall(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// A single 30-minute event at `start` (UTC) on the default calendar; answers its Graph id.
fn single(h: &GraphHarness, subject: &str, start: DateTime<Utc>) -> String {
    put(
        h,
        items::single(
            subject,
            &wall(start),
            &wall(start + CDuration::minutes(30)),
            "UTC",
        ),
    )
}

/// A Teams meeting `minutes` from the test clock's now: soon enough to get a join plan.
fn meeting(h: &GraphHarness, subject: &str, minutes: i64) -> String {
    let start = support::now() + CDuration::minutes(minutes);
    put(
        h,
        items::teams(items::single(
            subject,
            &wall(start),
            &wall(start + CDuration::minutes(30)),
            "UTC",
        )),
    )
}

fn put(h: &GraphHarness, item: Value) -> String {
    h.fake.put(DEFAULT_CALENDAR, item)["id"]
        .as_str()
        .expect("the fake assigns an id")
        .to_string()
}

/// Every stored event from 60 days before the test clock's start to 400 days after.
fn events(app: &App) -> Vec<EventView> {
    let from = support::now() - CDuration::days(60);
    let to = support::now() + CDuration::days(400);
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = app
            .list_events(&ListQuery {
                from: Some(from.to_rfc3339()),
                to: Some(to.to_rfc3339()),
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
    let mut t: Vec<String> = events(app).into_iter().map(|e| e.title).collect();
    t.sort();
    t
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// The join plans that are scheduled, by title.
fn scheduled(app: &App) -> Vec<String> {
    let mut t: Vec<String> = events(app)
        .into_iter()
        .filter(|e| e.joins.iter().any(|j| j.status == "scheduled"))
        .map(|e| e.title)
        .collect();
    t.sort();
    t
}

/// A connection whose first sync brought `n` meetings soon, each with a Teams link and a join plan.
fn synced_with_meetings(n: usize) -> (GraphHarness, String) {
    let h = GraphHarness::new();
    for i in 0..n {
        meeting(&h, &format!("Meeting {i}"), 30 + 10 * i as i64);
    }
    let id = h.connect();
    h.sync(&id).expect("the first sync works");
    assert_eq!(
        scheduled(&h.app).len(),
        n,
        "every Teams meeting soon has a plan before the test begins"
    );
    (h, id)
}

// ---------------------------------------------------------------------------------------------------------
// A lost delta state.

#[test]
fn a_410_sync_state_not_found_fetches_the_calendar_in_full_and_drops_what_the_server_lost() {
    let (h, id) = synced_with_meetings(3);
    // Deleted while the token expired: only the full fetch's sweep can remove it.
    let gone = events(&h.app)
        .into_iter()
        .find(|e| e.title == "Meeting 2")
        .and_then(|e| e.platform_id)
        .expect("Meeting 2 has its Graph id");
    h.fake.delete(&gone);
    h.fake.expire_delta_tokens();
    let before = h.fake.requests("startDateTime=");
    let r = h.sync(&id).expect("the sync recovers from 410");
    assert_eq!(r[0].full_resyncs, 1, "one full fetch after the 410");
    assert_eq!(
        h.fake.requests("startDateTime="),
        before + 1,
        "the full fetch is a new round from the window"
    );
    assert_eq!(
        titles(&h.app),
        strings(&["Meeting 0", "Meeting 1"]),
        "the full fetch holds exactly the server's events"
    );
    let r = h.sync(&id).expect("the next sync is incremental again");
    assert_eq!(r[0].full_resyncs, 0, "the new round's deltaLink works");
}

#[test]
fn sync_state_not_found_under_400_and_resync_required_fetch_in_full_too() {
    for (status, code) in [
        (400, "syncStateNotFound"),
        (410, "resyncRequired"),
        (400, "ResyncRequired"),
    ] {
        let (h, id) = synced_with_meetings(2);
        // The calendar list answers; the delta request gets the lost-state error.
        h.fake.push_fault(Fault::Pass);
        h.fake.push_fault(Fault::graph_error(status, code));
        let r = h
            .sync(&id)
            .unwrap_or_else(|e| panic!("{status} {code} is a lost state, not a failure: {e:?}"));
        assert_eq!(
            r[0].full_resyncs, 1,
            "{status} {code}: the error's code alone means a full fetch"
        );
        assert_eq!(
            titles(&h.app),
            strings(&["Meeting 0", "Meeting 1"]),
            "{status} {code}: and the calendar holds the server's events once each"
        );
        assert_eq!(
            scheduled(&h.app).len(),
            2,
            "{status} {code}: the plans survive the full fetch"
        );
    }
}

#[test]
fn a_410_whose_full_fetch_never_gets_its_first_page_changes_nothing() {
    let (h, id) = synced_with_meetings(3);
    h.fake.expire_delta_tokens();
    let written = h.written();
    // The calendar list and the stale deltaLink (410) answer; every try of the full fetch's first page
    // fails.
    h.fake.push_fault(Fault::Pass);
    h.fake.push_fault(Fault::Pass);
    for _ in 0..6 {
        h.fake.push_fault(Fault::GatewayTimeout);
    }
    let e = h
        .sync(&id)
        .expect_err("a full fetch that never gets a page fails the sync");
    assert_eq!(e.code, ErrorCode::Network, "Graph kept failing: {e:?}");
    assert_eq!(
        h.written(),
        written,
        "no page of the full fetch was stored, so no event, plan or cursor changed"
    );
    let r = h.sync(&id).expect("the next sync recovers");
    assert_eq!(
        r[0].full_resyncs, 1,
        "the saved cursor is still the stale one: it meets the 410 again and fetches in full"
    );
    assert_eq!(
        scheduled(&h.app),
        strings(&["Meeting 0", "Meeting 1", "Meeting 2"]),
        "and the calendar holds the server's three meetings once each, with their plans"
    );
}

#[test]
fn a_full_fetch_after_a_410_that_fails_midway_keeps_every_event_and_every_plan() {
    let (h, id) = synced_with_meetings(5);
    h.fake.state().page_limit = Some(2);
    h.fake.expire_delta_tokens();
    let written = h.written();
    // The calendar list, the stale deltaLink (410) and the full fetch's first page answer; every try of
    // its second page fails.
    for _ in 0..3 {
        h.fake.push_fault(Fault::Pass);
    }
    for _ in 0..6 {
        h.fake.push_fault(Fault::Unavailable { retry_after: 0 });
    }
    let e = h
        .sync(&id)
        .expect_err("a full fetch whose second page never comes fails the sync");
    assert_eq!(e.code, ErrorCode::Network, "Graph kept failing: {e:?}");
    assert_eq!(
        events(&h.app).len(),
        5,
        "the pages that never came do not empty the calendar: the full fetch removes nothing before its last page"
    );
    assert_eq!(
        scheduled(&h.app).len(),
        5,
        "and no join plan was cancelled by the sync that failed"
    );
    assert_eq!(
        h.written().plans,
        written.plans,
        "the plans are the very rows they were"
    );
    let last = events(&h.app)
        .into_iter()
        .find(|e| e.title == "Meeting 4")
        .and_then(|e| e.platform_id)
        .expect("Meeting 4 has its Graph id");
    h.fake.delete(&last);
    h.sync(&id).expect("the next sync finishes the full fetch");
    assert_eq!(
        titles(&h.app),
        strings(&["Meeting 0", "Meeting 1", "Meeting 2", "Meeting 3"]),
        "the finished fetch removes what the server no longer has, and only that"
    );
    assert_eq!(scheduled(&h.app).len(), 4, "the four left keep their plans");
}

// ---------------------------------------------------------------------------------------------------------
// The window.

/// The window each new round asked for, from the fake's log: (startDateTime, endDateTime).
fn windows(h: &GraphHarness) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let param = |line: &str, name: &str| -> DateTime<Utc> {
        let v = line
            .split(['?', '&'])
            .find_map(|p| p.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("{line} names {name}"));
        DateTime::parse_from_rfc3339(v)
            .unwrap_or_else(|e| panic!("{name} {v} is ISO 8601: {e}"))
            .with_timezone(&Utc)
    };
    h.fake
        .state()
        .log
        .iter()
        .filter(|l| l.line.contains("startDateTime="))
        .map(|l| {
            (
                param(&l.line, "startDateTime"),
                param(&l.line, "endDateTime"),
            )
        })
        .collect()
}

#[test]
fn the_delta_round_opens_a_window_of_thirty_days_back_and_a_year_ahead() {
    let h = GraphHarness::new();
    let now = support::now();
    single(&h, "Last month", now - CDuration::days(29));
    single(&h, "Next year", now + CDuration::days(364));
    single(&h, "Too far back", now - CDuration::days(45));
    single(&h, "Too far ahead", now + CDuration::days(380));
    let id = h.connect();
    h.sync(&id).expect("the first sync works");
    let w = windows(&h);
    assert_eq!(w.len(), 1, "one round: {w:?}");
    let (from, to) = w[0];
    assert!(
        from <= now - CDuration::days(30) && to >= now + CDuration::days(365),
        "the window covers at least 30 days back and 365 ahead of {now}: {from}..{to}"
    );
    let t = titles(&h.app);
    assert!(
        t.contains(&"Last month".to_string()) && t.contains(&"Next year".to_string()),
        "what lies in the window is stored: {t:?}"
    );
    assert!(
        !t.contains(&"Too far ahead".to_string()) && !t.contains(&"Too far back".to_string()),
        "calendarView delta serves only the window: {t:?}"
    );
}

#[test]
fn when_the_window_moves_on_a_new_round_starts_and_old_events_stay_until_it_replaces_them() {
    let h = GraphHarness::new();
    let t0 = support::now();
    single(&h, "Old", t0 - CDuration::days(25));
    single(&h, "Soon", t0 + CDuration::days(10));
    single(&h, "Later", t0 + CDuration::days(20));
    let id = h.connect();
    h.sync(&id).expect("the first sync works");
    assert_eq!(
        titles(&h.app),
        strings(&["Later", "Old", "Soon"]),
        "all three are in the first window"
    );
    h.clock.advance(CDuration::days(3));
    h.sync(&id).expect("a sync within the week");
    assert_eq!(
        windows(&h).len(),
        1,
        "within a week the deltaLink serves: no new round"
    );

    // Eight days on, the window has moved: "Old" (25 days back then, 33 now) falls out of it.
    h.clock.advance(CDuration::days(5));
    h.fake.state().page_limit = Some(1);
    // The calendar list and the new round's first page answer; every try of its second page fails.
    h.fake.push_fault(Fault::Pass);
    h.fake.push_fault(Fault::Pass);
    for _ in 0..6 {
        h.fake.push_fault(Fault::Unavailable { retry_after: 0 });
    }
    h.sync(&id)
        .expect_err("the new round fails on its second page");
    let w = windows(&h);
    assert_eq!(w.len(), 2, "a new round began for the new window: {w:?}");
    assert!(
        w[1].0 > w[0].0 && w[1].0 <= h.clock.now() - CDuration::days(30),
        "it starts later than the first, still 30 days back from the new now: {w:?}"
    );
    assert_eq!(
        titles(&h.app),
        strings(&["Later", "Old", "Soon"]),
        "until the new round has stored its last page, the old events stay, the one leaving the window too"
    );
    h.sync(&id).expect("the next sync finishes the round");
    assert_eq!(
        titles(&h.app),
        strings(&["Later", "Soon"]),
        "the finished round replaced the old window's events: what left the window is gone"
    );
    assert_eq!(
        windows(&h).len(),
        2,
        "the round was resumed, not begun again"
    );
}

// ---------------------------------------------------------------------------------------------------------
// Pages.

#[test]
fn empty_pages_with_a_next_link_and_replayed_items_are_no_error_and_no_duplicate() {
    let h = GraphHarness::new();
    {
        let mut s = h.fake.state();
        s.page_limit = Some(2);
        s.empty_pages = true;
        s.replay = true;
    }
    for i in 0..5 {
        single(
            &h,
            &format!("Event {i}"),
            support::now() + CDuration::days(i + 1),
        );
    }
    let id = h.connect();
    let r = h.sync(&id).expect("empty pages and replays are no error");
    assert!(
        r[0].warnings.is_empty(),
        "nor a warning: {:?}",
        r[0].warnings
    );
    assert!(
        r[0].pages >= 6,
        "the empty pages were followed through their nextLinks: {} pages",
        r[0].pages
    );
    let want: Vec<String> = (0..5).map(|i| format!("Event {i}")).collect();
    assert_eq!(
        titles(&h.app),
        want,
        "each event once, however often it came"
    );
    let ev = events(&h.app)
        .into_iter()
        .find(|e| e.title == "Event 2")
        .and_then(|e| e.platform_id)
        .expect("Event 2 has its Graph id");
    h.fake.edit(&ev, json!({"subject": "Event 2 renamed"}));
    h.sync(&id)
        .expect("an incremental round with empty pages and replays");
    let mut want = want;
    want[2] = "Event 2 renamed".into();
    assert_eq!(
        titles(&h.app),
        want,
        "the change replaced its event, and nothing doubled"
    );
}

// ---------------------------------------------------------------------------------------------------------
// Occurrences, removals, responses.

#[test]
fn occurrence_stubs_take_the_masters_fields_and_each_master_is_fetched_once_per_sync() {
    let h = GraphHarness::new();
    h.fake.state().page_limit = Some(3);
    let mut standup = items::teams(items::weekly(
        "Standup",
        "2026-03-03T09:00:00",
        "2026-03-03T09:15:00",
        "W. Europe Standard Time",
        &["tuesday", "thursday"],
        1,
        items::numbered(8),
    ));
    standup["location"] = json!({"displayName": "Room 4"});
    let standup = put(&h, standup);
    let review = put(
        &h,
        items::daily(
            "Review",
            "2026-03-02T15:00:00",
            "2026-03-02T15:30:00",
            "UTC",
            1,
            items::numbered(5),
        ),
    );
    let id = h.connect();
    h.sync(&id).expect("the first sync works");
    let all = events(&h.app);
    let occ: Vec<&EventView> = all.iter().filter(|e| e.title == "Standup").collect();
    assert_eq!(
        occ.len(),
        8,
        "every occurrence is stored: {:?}",
        titles(&h.app)
    );
    for e in &occ {
        assert_eq!(
            e.location.as_deref(),
            Some("Room 4"),
            "the stub takes the master's location"
        );
        assert!(
            e.description
                .as_deref()
                .is_some_and(|d| d.contains("Standup")),
            "and its body: {:?}",
            e.description
        );
        assert!(
            e.meeting_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://teams.microsoft.com/")),
            "and its Teams link: {e:?}"
        );
    }
    assert_eq!(
        all.iter().filter(|e| e.title == "Review").count(),
        5,
        "the other series is whole too"
    );
    assert_eq!(
        (
            h.fake.event_fetches(&standup),
            h.fake.event_fetches(&review)
        ),
        (1, 1),
        "each master is fetched once in the sync, not once per occurrence, across pages"
    );
    h.fake.edit(&standup, json!({"subject": "Daily standup"}));
    h.sync(&id).expect("the next sync works");
    assert_eq!(
        events(&h.app)
            .iter()
            .filter(|e| e.title == "Daily standup")
            .count(),
        8,
        "a renamed master renames its occurrences"
    );
    assert_eq!(
        h.fake.event_fetches(&standup),
        2,
        "the next sync fetches the master again, once, as it is now"
    );
}

#[test]
fn removed_items_delete_and_one_for_an_event_never_seen_is_no_error() {
    let h = GraphHarness::new();
    let a = single(&h, "Stays", support::now() + CDuration::days(1));
    let b = single(&h, "Deleted", support::now() + CDuration::days(2));
    let c = single(&h, "Moved away", support::now() + CDuration::days(3));
    let id = h.connect();
    h.sync(&id).expect("the first sync works");
    assert_eq!(titles(&h.app).len(), 3, "three events");
    h.fake.delete(&b);
    // Moved beyond the window: Graph announces it as @removed.
    h.fake.edit(
        &c,
        json!({"start": {"dateTime": "2028-01-05T09:00:00", "timeZone": "UTC"},
               "end": {"dateTime": "2028-01-05T09:30:00", "timeZone": "UTC"}}),
    );
    // Made and deleted between two syncs: its @removed names an event the client never had.
    let brief = single(&h, "Brief", support::now() + CDuration::days(4));
    h.fake.delete(&brief);
    // And one more @removed for an id that never existed at all.
    h.fake.push_fault(Fault::Pass);
    h.fake.push_fault(Fault::Rewrite(Rewriter(|page| {
        if let Some(v) = page["value"].as_array_mut() {
            v.push(
                json!({"@odata.type": "#microsoft.graph.event", "id": "AAMkNeverSeen=",
                          "@removed": {"reason": "deleted"}}),
            );
        }
    })));
    let r = h
        .sync(&id)
        .expect("an @removed for an unknown event is no error");
    assert!(
        r[0].warnings.is_empty(),
        "nor a warning: {:?}",
        r[0].warnings
    );
    assert_eq!(
        titles(&h.app),
        strings(&["Stays"]),
        "deleted and moved-away events are removed"
    );
    assert_eq!(
        events(&h.app)[0].platform_id.as_deref(),
        Some(a.as_str()),
        "the one left is the one that stayed"
    );
}

#[test]
fn a_meeting_the_user_declined_gets_no_join_plan() {
    let h = GraphHarness::new();
    meeting(&h, "Accepted", 30);
    let start = support::now() + CDuration::minutes(60);
    let mut declined = items::teams(items::single(
        "Declined",
        &wall(start),
        &wall(start + CDuration::minutes(30)),
        "UTC",
    ));
    declined["isOrganizer"] = json!(false);
    declined["responseStatus"] = json!({"response": "declined", "time": "2026-03-01T10:00:00Z"});
    put(&h, declined);
    let id = h.connect();
    h.sync(&id).expect("sync");
    let all = events(&h.app);
    let d = all
        .iter()
        .find(|e| e.title == "Declined")
        .expect("the declined meeting is stored");
    assert!(
        d.meeting_url.is_some(),
        "it has its Teams link, so a missing plan is not for want of a link"
    );
    assert_eq!(
        scheduled(&h.app),
        strings(&["Accepted"]),
        "only the meeting the user has not declined gets a plan"
    );
}

#[test]
fn a_cancelled_meeting_loses_its_plan_and_leaves_the_calendar() {
    let (h, id) = synced_with_meetings(2);
    let all = events(&h.app);
    let m0 = all
        .iter()
        .find(|e| e.title == "Meeting 0")
        .expect("Meeting 0");
    let plan = m0
        .joins
        .first()
        .map(|j| j.id.clone())
        .expect("Meeting 0 has a plan");
    let graph_id = m0.platform_id.clone().expect("a Graph id");
    // The organizer cancelled: the attendee's copy stays, with isCancelled.
    h.fake.edit(&graph_id, json!({"isCancelled": true}));
    h.sync(&id).expect("sync");
    assert_eq!(
        titles(&h.app),
        strings(&["Meeting 1"]),
        "a cancelled meeting is no longer in the calendar, as a cancelled Google event is not"
    );
    let history = h.app.plan_history(&plan).expect("the plan's history");
    assert_eq!(
        history.last().map(|(s, _)| s.as_str()),
        Some("cancelled"),
        "its plan is cancelled: {history:?}"
    );
    assert_eq!(
        scheduled(&h.app),
        strings(&["Meeting 1"]),
        "the other keeps its plan"
    );
}

// ---------------------------------------------------------------------------------------------------------
// Bad input: refused, and nothing written.

#[test]
fn a_delta_page_that_is_not_json_fails_the_sync_and_writes_nothing() {
    let (h, id) = synced_with_meetings(2);
    meeting(&h, "New", 90);
    let written = h.written();
    h.fake.push_fault(Fault::Pass);
    h.fake.push_fault(Fault::Raw {
        status: 200,
        headers: vec![("Content-Type".into(), "text/html".into())],
        body: "<html><body>Service is being updated</body></html>".into(),
    });
    let e = h
        .sync(&id)
        .expect_err("a page that is not JSON fails the sync");
    assert_eq!(
        e.code,
        ErrorCode::Provider,
        "Graph's answer is wrong, not the network: {e:?}"
    );
    assert!(
        e.message.contains("not JSON"),
        "the message says why: {}",
        e.message
    );
    assert_eq!(h.written(), written, "no event, plan or cursor was written");
    h.sync(&id).expect("the next sync works");
    assert_eq!(titles(&h.app).len(), 3, "and brings the new event");
}

#[test]
fn an_event_with_no_start_is_skipped_with_a_warning_and_the_rest_is_stored() {
    let (h, id) = synced_with_meetings(1);
    let broken = meeting(&h, "Broken", 60);
    meeting(&h, "Fine", 90);
    let written = h.written();
    h.fake.push_fault(Fault::Pass);
    h.fake.push_fault(Fault::Rewrite(Rewriter(|page| {
        for v in page["value"].as_array_mut().into_iter().flatten() {
            if v["subject"] == "Broken" {
                if let Some(o) = v.as_object_mut() {
                    o.remove("start");
                }
            }
        }
    })));
    let r = h.sync(&id).expect("one broken event never stops a sync");
    assert!(
        r[0].warnings
            .iter()
            .any(|w| w.contains(&broken) && w.contains("no usable start")),
        "the warning names the event and why: {:?}",
        r[0].warnings
    );
    assert_eq!(
        titles(&h.app),
        strings(&["Fine", "Meeting 0"]),
        "the event without a start was not written; the rest was"
    );
    assert!(
        !h.written().events.iter().any(|row| row.contains(&broken)),
        "no row of it exists"
    );
    assert_ne!(
        h.written().cursors,
        written.cursors,
        "the page's cursor was saved with the rest"
    );
}

/// Points every link of a page at another server.
fn off_base(page: &mut Value) {
    for key in ["@odata.nextLink", "@odata.deltaLink"] {
        if let Some(link) = page[key].as_str() {
            let evil = OFF_BASE.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let path = link.splitn(4, '/').nth(3).unwrap_or_default().to_string();
            page[key] = json!(format!("{evil}/{path}"));
        }
    }
}

/// The base of the server links are turned towards (a rewriter is a plain function, so it reads it here).
static OFF_BASE: Mutex<String> = Mutex::new(String::new());

#[test]
fn a_next_link_or_delta_link_off_the_api_base_is_refused_and_never_followed() {
    let evil = support::fake_graph::FakeGraph::start();
    *OFF_BASE.lock().unwrap_or_else(|e| e.into_inner()) = evil.base.clone();
    // A first sync of several pages whose first page's nextLink points elsewhere; then an incremental one
    // whose deltaLink does.
    let h = GraphHarness::new();
    h.fake.state().page_limit = Some(1);
    for i in 0..3 {
        meeting(&h, &format!("Meeting {i}"), 30 + 10 * i);
    }
    let id = h.connect();
    let written = h.written();
    h.fake.push_fault(Fault::Pass);
    h.fake.push_fault(Fault::Rewrite(Rewriter(off_base)));
    let e = h
        .sync(&id)
        .expect_err("a nextLink elsewhere fails the sync");
    assert_eq!(e.code, ErrorCode::Provider, "{e:?}");
    assert!(
        e.message.contains("off the API base"),
        "the message says why: {}",
        e.message
    );
    assert_eq!(
        h.written(),
        written,
        "nothing of the page with the bad link was stored"
    );
    h.sync(&id).expect("the next sync works");
    let written = h.written();
    assert_eq!(titles(&h.app).len(), 3, "three meetings");
    h.fake.state().page_limit = Some(50);
    meeting(&h, "New", 90);
    h.fake.push_fault(Fault::Pass);
    h.fake.push_fault(Fault::Rewrite(Rewriter(off_base)));
    let e = h
        .sync(&id)
        .expect_err("a deltaLink elsewhere fails the sync");
    assert!(
        e.message.contains("off the API base"),
        "the message says why: {}",
        e.message
    );
    assert_eq!(
        h.written(),
        written,
        "the page with the bad deltaLink was not stored, its new event included"
    );
    assert!(
        evil.state().log.is_empty(),
        "no request, and so no bearer token, ever went to the other server: {:?}",
        evil.state().log.iter().map(|l| &l.line).collect::<Vec<_>>()
    );
    h.sync(&id).expect("the next sync works");
    assert_eq!(titles(&h.app).len(), 4, "and brings the new event");
}

#[test]
fn a_redirect_off_the_api_base_is_not_followed_and_writes_nothing() {
    let evil = support::fake_graph::FakeGraph::start();
    let (h, id) = synced_with_meetings(2);
    meeting(&h, "New", 90);
    let written = h.written();
    for status in [302, 307] {
        h.fake.push_fault(Fault::Pass);
        h.fake.push_fault(Fault::Raw {
            status,
            headers: vec![(
                "Location".into(),
                format!("{}/v1.0/me/calendars/x/calendarView/delta", evil.base),
            )],
            body: String::new(),
        });
        let e = h.sync(&id).expect_err("a redirect is no page");
        assert_eq!(e.code, ErrorCode::Provider, "{status}: {e:?}");
        assert!(
            e.message.contains(&status.to_string()),
            "{status}: the message names it: {}",
            e.message
        );
        assert_eq!(h.written(), written, "{status}: nothing was written");
    }
    assert!(
        evil.state().log.is_empty(),
        "the redirect was never followed, so the token never went there"
    );
}

/// A browser that approves at the fake's authorize endpoint and brings the code to the loopback.
fn browser() -> impl Fn(&str) -> Result<(), String> {
    |url: &str| {
        let url = url.to_string();
        std::thread::spawn(move || {
            punctual::auth::install_tls_provider();
            let c = reqwest::blocking::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("a client");
            let resp = c.get(&url).send().expect("the authorize endpoint answers");
            let loc = resp
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .expect("a redirect to the loopback")
                .to_string();
            let _ = c.get(&loc).send();
        });
        Ok(())
    }
}

#[test]
fn a_browser_sign_in_whose_token_answer_has_no_refresh_token_is_refused_and_stores_nothing() {
    let h = GraphHarness::new();
    h.fake.state().token_mode = TokenMode::NoRefreshToken;
    let before = h.app.connections().expect("list").len();
    let open = browser();
    let e = h
        .app
        .connect(
            Provider::OutlookCalendar,
            ConnectRequest::new(SignIn::Browser {
                open: &open,
                timeout: Duration::from_secs(20),
                cancel: punctual::auth::Cancel::new(),
            }),
        )
        .expect_err("a grant without a refresh token cannot stay connected");
    assert_eq!(e.code, ErrorCode::OauthFailed, "{e:?}");
    assert!(
        e.message.contains("no refresh token"),
        "the message says why: {}",
        e.message
    );
    assert_eq!(
        h.app.connections().expect("list").len(),
        before,
        "no connection was stored"
    );
    assert!(
        h.fake.requests("/v1.0/") == 0,
        "and Graph was never asked for anything"
    );
    h.fake.state().token_mode = TokenMode::Normal;
    let c = h
        .app
        .connect(
            Provider::OutlookCalendar,
            ConnectRequest::new(SignIn::Browser {
                open: &open,
                timeout: Duration::from_secs(20),
                cancel: punctual::auth::Cancel::new(),
            }),
        )
        .expect("with a refresh token the same sign-in connects");
    assert!(
        h.secrets
            .get(&refresh_key(&c.id))
            .expect("keychain")
            .is_some(),
        "and its refresh token is kept"
    );
}

#[test]
fn a_refresh_that_rotates_nothing_keeps_the_old_refresh_token() {
    let h = GraphHarness::new();
    meeting(&h, "Meeting", 30);
    let id = h.connect();
    let first = h
        .secrets
        .get(&refresh_key(&id))
        .expect("keychain")
        .expect("a refresh token");
    // From now on the token endpoint issues no new refresh token (RFC 6749 §6: the old one then stays).
    h.fake.state().token_mode = TokenMode::NoRefreshToken;
    for round in 0..2 {
        h.fake.expire_access_tokens();
        h.sync(&id).unwrap_or_else(|e| {
            panic!("refresh {round}: the kept refresh token still works: {e:?}")
        });
        assert_eq!(
            h.secrets.get(&refresh_key(&id)).expect("keychain").as_ref(),
            Some(&first),
            "refresh {round}: with no new one sent, the old refresh token is kept, not dropped"
        );
    }
    h.fake.state().token_mode = TokenMode::Normal;
    h.fake.expire_access_tokens();
    h.sync(&id).expect("a rotating refresh");
    assert_ne!(
        h.secrets.get(&refresh_key(&id)).expect("keychain").as_ref(),
        Some(&first),
        "a rotated refresh token replaces the old one"
    );
}

#[test]
fn tenants_that_are_neither_a_guid_nor_a_known_name_are_refused_before_any_request() {
    let h = GraphHarness::new();
    let before = h.app.connections().expect("list").len();
    for bad in [
        "contoso",
        "8d5c7f3a1e2b4c6d9f80a1b2c3d4e5f6",
        "{8d5c7f3a-1e2b-4c6d-9f80-a1b2c3d4e5f6}",
        "common/../evil",
        "",
    ] {
        let e = h
            .app
            .connect(
                Provider::OutlookCalendar,
                ConnectRequest {
                    tenant: Some(bad.into()),
                    ..ConnectRequest::new(SignIn::RefreshToken(
                        punctual::secrets::SecretString::new(h.fake.issue_refresh_token()),
                    ))
                },
            )
            .expect_err("not a tenant");
        assert_eq!(
            (e.code, e.field.as_deref()),
            (ErrorCode::InvalidInput, Some("tenant")),
            "{bad:?}: the caller's input, naming the field: {e:?}"
        );
        assert!(
            e.message.contains("tenant"),
            "{bad:?}: the message says what: {}",
            e.message
        );
    }
    assert_eq!(
        h.app.connections().expect("list").len(),
        before,
        "nothing was stored"
    );
    assert!(
        h.fake.state().log.is_empty(),
        "and no request went anywhere"
    );
    h.app
        .connect(
            Provider::OutlookCalendar,
            ConnectRequest {
                tenant: Some(support::fake_graph::TENANT_ID.to_uppercase()),
                ..ConnectRequest::new(SignIn::RefreshToken(punctual::secrets::SecretString::new(
                    h.fake.issue_refresh_token(),
                )))
            },
        )
        .expect("a directory's GUID is a tenant");
    assert!(
        h.fake.requests(&format!(
            "/{}/oauth2/v2.0/token",
            support::fake_graph::TENANT_ID
        )) >= 1,
        "it went to that directory's token endpoint, lower-cased"
    );
}

// ---------------------------------------------------------------------------------------------------------
// Throttling.

#[test]
fn rate_limits_and_unavailable_answers_back_off_honouring_retry_after() {
    let (h, id) = synced_with_meetings(1);
    h.waits.lock().expect("waits").clear();
    h.fake.push_fault(Fault::TooMany { retry_after: 7 });
    h.fake.push_fault(Fault::Unavailable { retry_after: 3 });
    h.fake.push_fault(Fault::GatewayTimeout);
    h.sync(&id).expect("throttling is retried until it passes");
    let waits = h.waits.lock().expect("waits").clone();
    assert_eq!(waits.len(), 3, "one wait per refusal: {waits:?}");
    assert!(
        waits[0] >= Duration::from_secs(7),
        "429's Retry-After: 7 is honoured: {waits:?}"
    );
    assert!(
        waits[1] >= Duration::from_secs(3),
        "503's Retry-After: 3 is honoured: {waits:?}"
    );
    assert!(
        waits.iter().all(|w| *w <= Duration::from_secs(30)),
        "no wait passes the cap: {waits:?}"
    );
}

#[test]
fn a_retry_after_longer_than_a_sync_waits_holds_the_microsoft_account() {
    for fault in [
        Fault::TooMany { retry_after: 3600 },
        Fault::Unavailable { retry_after: 3600 },
    ] {
        let (h, id) = synced_with_meetings(1);
        h.fake.push_fault(Fault::Pass);
        h.fake.push_fault(fault.clone());
        let e = h
            .sync(&id)
            .expect_err("an hour is longer than a sync waits");
        assert!(
            e.message.contains("wait until 2026-03-02T09:00:00Z"),
            "{fault:?}: the error says until when: {}",
            e.message
        );
        let sent = h.fake.state().log.len();
        h.clock.advance(CDuration::minutes(59));
        h.sync(&id).expect_err("a sync within the hour is held");
        assert_eq!(
            h.fake.state().log.len(),
            sent,
            "{fault:?}: a held sync sends no request at all"
        );
        h.clock.advance(CDuration::minutes(2));
        h.sync(&id).expect("after the hour the sync goes ahead");
    }
}

#[test]
fn a_sync_never_has_more_than_four_requests_in_flight_per_mailbox() {
    let h = GraphHarness::new();
    {
        let mut s = h.fake.state();
        s.page_limit = Some(2);
        s.latency = Duration::from_millis(5);
    }
    for i in 0..4 {
        put(
            &h,
            items::daily(
                &format!("Series {i}"),
                &format!("2026-03-0{}T1{i}:00:00", 2 + i),
                &format!("2026-03-0{}T1{i}:30:00", 2 + i),
                "UTC",
                1,
                items::numbered(3),
            ),
        );
        single(
            &h,
            &format!("Single {i}"),
            support::now() + CDuration::days(i + 1),
        );
    }
    let id = h.connect();
    // Two syncs at once, as the desktop's timer and "Sync now" may start them.
    let app = &h.app;
    std::thread::scope(|s| {
        let a = s.spawn(|| app.sync(Some(&id), false, &mut |_, _| {}));
        let b = s.spawn(|| app.sync(Some(&id), false, &mut |_, _| {}));
        let _ = a.join().expect("a sync thread ends");
        let _ = b.join().expect("a sync thread ends");
    });
    assert_eq!(
        titles(&h.app).len(),
        16,
        "two syncs at once store every event: neither's full fetch sweeps away what the other saw"
    );
    h.sync(&id).expect("a sync on its own works");
    let max = h.fake.max_concurrency();
    assert!(
        (1..=4).contains(&max),
        "Graph allows 4 concurrent requests per mailbox; the client never had more in flight: {max}"
    );
    assert_eq!(titles(&h.app).len(), 16, "every event arrived once");
}
