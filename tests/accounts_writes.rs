//! Writes to a Google calendar: idempotent inserts with client ids, patches and deletes with If-Match,
//! the outbox when offline, and conflicts that are shown, never overwritten.

mod support;
#[allow(unused_imports)]
use support::GoogleApp as _;

use punctual::app::{ConflictChange, EventInput, ListQuery, Scope};
use serde_json::Value;
use support::fake_google::{items, Fault};
use support::Harness;

const CAL: &str = "jane@acme.example";

fn calendar(h: &Harness, id: &str) -> String {
    h.app.connection(id).expect("connection").calendars[0]
        .id
        .clone()
}

fn input(cal: &str, title: &str) -> EventInput {
    EventInput {
        title: Some(title.into()),
        start: Some("2026-03-20T10:00:00+01:00".into()),
        end: Some("2026-03-20T11:00:00+01:00".into()),
        calendar: Some(cal.into()),
        ..Default::default()
    }
}

fn stored(h: &Harness) -> Vec<(String, String)> {
    h.app
        .list_events(&ListQuery {
            from: Some("2026-03-01".into()),
            to: Some("2026-04-01".into()),
            all: true,
            ..Default::default()
        })
        .expect("list")
        .events
        .into_iter()
        .map(|e| (e.id, e.title))
        .collect()
}

fn live_on_server(h: &Harness) -> Vec<Value> {
    h.fake
        .items(CAL)
        .into_iter()
        .filter(|i| i["status"] != "cancelled")
        .collect()
}

/// A connection whose first sync brought one event, "Review" (Google id ev1), with our id for it.
fn synced_review() -> (Harness, String, String) {
    let h = Harness::new();
    h.fake.put(
        CAL,
        items::timed(
            "ev1",
            "Review",
            "2026-03-20T10:00:00+01:00",
            "2026-03-20T11:00:00+01:00",
            "Europe/Berlin",
        ),
    );
    let id = h.connect();
    h.sync(&id).expect("sync");
    let local = stored(&h)[0].0.clone();
    (h, id, local)
}

#[test]
fn a_created_event_is_inserted_with_the_clients_id_and_synced_back_once() {
    let h = Harness::new();
    let id = h.connect();
    let v = h
        .app
        .create_event(&input(&calendar(&h, &id), "Planning"))
        .expect("create");
    let server = live_on_server(&h);
    assert_eq!(server.len(), 1, "the insert reached Google at once");
    assert_eq!(server[0]["summary"], "Planning", "with its fields");
    let gid = server[0]["id"].as_str().expect("an id").to_string();
    assert_eq!(
        v.platform_id.as_deref(),
        Some(gid.as_str()),
        "the id is the one the client chose"
    );
    h.sync(&id).expect("sync");
    assert_eq!(
        stored(&h),
        vec![(v.id.clone(), "Planning".into())],
        "the sync finds it, not a copy of it"
    );
    assert!(
        h.app.conflicts().expect("conflicts").is_empty(),
        "no conflict"
    );
}

#[test]
fn an_insert_whose_answer_was_lost_is_retried_without_a_duplicate() {
    let h = Harness::new();
    let id = h.connect();
    // The fake applies the insert, then drops the connection before answering.
    h.fake.push_fault(Fault::Reset);
    h.app
        .create_event(&input(&calendar(&h, &id), "Planning"))
        .expect("the local create succeeds");
    assert_eq!(
        live_on_server(&h).len(),
        1,
        "the first attempt did reach Google"
    );
    h.sync(&id).expect("the retry and the sync");
    assert_eq!(
        h.fake.requests("POST /calendar"),
        2,
        "the insert was retried"
    );
    assert_eq!(
        live_on_server(&h).len(),
        1,
        "a 409 on the retry means done, not a second event"
    );
    assert_eq!(stored(&h).len(), 1, "and the store holds it once");
}

#[test]
fn changes_made_offline_wait_in_the_outbox_and_go_out_with_the_next_sync() {
    let h = Harness::new();
    let id = h.connect();
    h.fake.push_fault(Fault::ServerError);
    h.app
        .create_event(&input(&calendar(&h, &id), "Offline"))
        .expect("the local create succeeds");
    assert!(
        live_on_server(&h).is_empty(),
        "Google did not get it while failing"
    );
    assert_eq!(stored(&h).len(), 1, "the event is shown locally meanwhile");
    h.sync(&id).expect("the next sync");
    let server = live_on_server(&h);
    assert_eq!(server.len(), 1, "the outbox was replayed");
    assert_eq!(server[0]["summary"], "Offline", "with the change");
}

#[test]
fn edits_and_deletes_carry_the_etag_they_were_made_on() {
    let (h, id, local) = synced_review();
    let edit = EventInput {
        title: Some("Review v2".into()),
        ..Default::default()
    };
    h.app.edit_event(&local, &edit, Scope::All).expect("edit");
    assert_eq!(
        h.fake.get(CAL, "ev1").expect("on the server")["summary"],
        "Review v2",
        "the patch arrived"
    );
    // The patch's answer carried a new etag; a second edit must use it, or Google would refuse it.
    let edit = EventInput {
        title: Some("Review v3".into()),
        ..Default::default()
    };
    h.app
        .edit_event(&local, &edit, Scope::All)
        .expect("a second edit");
    assert_eq!(
        h.fake.get(CAL, "ev1").expect("on the server")["summary"],
        "Review v3",
        "the second patch arrived"
    );
    assert!(
        h.app.conflicts().expect("conflicts").is_empty(),
        "no conflict on the way"
    );
    h.app.delete_event(&local, Scope::All).expect("delete");
    assert_eq!(
        h.fake.get(CAL, "ev1").expect("a stub")["status"],
        "cancelled",
        "the delete arrived"
    );
    h.sync(&id).expect("sync");
    assert!(stored(&h).is_empty(), "and stays deleted after a sync");
}

#[test]
fn an_edit_on_a_version_that_changed_in_google_is_a_conflict_not_an_overwrite() {
    let (h, id, local) = synced_review();
    // Someone renames it in Google; this store has not seen that yet.
    h.fake.put(
        CAL,
        items::timed(
            "ev1",
            "Review (moved by Raj)",
            "2026-03-20T10:00:00+01:00",
            "2026-03-20T11:00:00+01:00",
            "Europe/Berlin",
        ),
    );
    let edit = EventInput {
        title: Some("Review, my version".into()),
        ..Default::default()
    };
    h.app
        .edit_event(&local, &edit, Scope::All)
        .expect("the local edit is accepted");
    assert_eq!(
        h.fake.get(CAL, "ev1").expect("on the server")["summary"],
        "Review (moved by Raj)",
        "Google's newer version is not overwritten"
    );
    let conflicts = h.app.conflicts().expect("conflicts");
    assert_eq!(
        conflicts.len(),
        1,
        "the refused edit is a conflict the user can see"
    );
    assert_eq!(conflicts[0].operation, "update", "it is the edit");
    assert!(
        conflicts[0].payload.contains("my version"),
        "it keeps what the user wanted"
    );
    h.sync(&id).expect("sync");
    assert_eq!(
        stored(&h),
        vec![(local, "Review (moved by Raj)".to_string())],
        "the store shows Google's version"
    );
    assert_eq!(
        h.fake.requests("PATCH"),
        1,
        "a conflict is never pushed again"
    );
    h.app.dismiss_conflict(conflicts[0].id).expect("dismiss");
    assert!(
        h.app.conflicts().expect("conflicts").is_empty(),
        "a dismissed conflict is gone"
    );
}

#[test]
fn an_edit_to_an_event_deleted_in_google_is_shown_and_never_retried() {
    let (h, id, local) = synced_review();
    // Someone deletes it in Google; this store has not seen that yet.
    h.fake.delete(CAL, "ev1");
    let edit = EventInput {
        title: Some("Review, my version".into()),
        ..Default::default()
    };
    h.app
        .edit_event(&local, &edit, Scope::All)
        .expect("the local edit is accepted");
    let conflicts = h.app.conflicts().expect("conflicts");
    assert_eq!(
        conflicts.len(),
        1,
        "the refused edit is shown to the user: {conflicts:?}"
    );
    assert!(
        conflicts[0]
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("deleted at the provider")),
        "it says why: {:?}",
        conflicts[0].last_error
    );
    h.sync(&id).expect("sync");
    h.sync(&id).expect("sync");
    assert_eq!(
        h.fake.requests("PATCH"),
        1,
        "a change the provider can never take is not sent again at every sync"
    );
    assert!(
        stored(&h).is_empty(),
        "the store follows Google: the event is gone: {:?}",
        stored(&h)
    );
}

#[test]
fn each_conflict_names_its_event_calendar_connection_and_refused_change() {
    let h = Harness::new();
    let at = ("2026-03-20T10:00:00+01:00", "2026-03-20T11:00:00+01:00");
    h.fake.put(
        CAL,
        items::timed("ev1", "Review", at.0, at.1, "Europe/Berlin"),
    );
    h.fake.put(
        CAL,
        items::timed("ev2", "Retro", at.0, at.1, "Europe/Berlin"),
    );
    let id = h.connect();
    h.sync(&id).expect("sync");
    let local = |title: &str| {
        stored(&h)
            .into_iter()
            .find(|(_, t)| t == title)
            .map(|(i, _)| i)
            .expect("synced")
    };
    let (review, retro) = (local("Review"), local("Retro"));
    // Both change in Google; this store has not seen that yet.
    h.fake.put(
        CAL,
        items::timed("ev1", "Review (moved by Raj)", at.0, at.1, "Europe/Berlin"),
    );
    h.fake.put(
        CAL,
        items::timed("ev2", "Retro (kept by Raj)", at.0, at.1, "Europe/Berlin"),
    );
    let edit = EventInput {
        title: Some("Review, my version".into()),
        ..Default::default()
    };
    h.app.edit_event(&review, &edit, Scope::All).expect("edit");
    h.app.delete_event(&retro, Scope::All).expect("delete");

    let views = h.app.conflict_views().expect("conflict views");
    let conn = h.app.connection(&id).expect("connection");
    let cal = &conn.calendars[0];
    let shape: Vec<_> = views
        .iter()
        .map(|v| {
            (
                v.event_id.clone(),
                v.title.clone(),
                v.change,
                v.connection_id.clone(),
                v.calendar_id.clone(),
                v.calendar_name.clone(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        vec![
            (
                review,
                Some("Review, my version".to_string()),
                ConflictChange::Update,
                id.clone(),
                cal.id.clone(),
                cal.summary.clone()
            ),
            (
                retro,
                Some("Retro".to_string()),
                ConflictChange::Delete,
                id.clone(),
                cal.id.clone(),
                cal.summary.clone()
            ),
        ],
        "oldest first, each names the user's version of the event (a delete, the title it had) and where it lives"
    );
    assert!(
        views
            .iter()
            .all(|v| v.message.contains("changed at the provider")
                && !v.message.starts_with("conflict")),
        "the message is the reason, without the store's marker: {views:?}"
    );
    assert!(
        views
            .iter()
            .all(|v| v.changed_at.ends_with('Z') && v.changed_at.starts_with("2026-")),
        "when the user made the change, in the UTC form every view uses: {views:?}"
    );

    h.app.dismiss_conflict(views[0].id).expect("dismiss");
    assert_eq!(
        h.app
            .conflict_views()
            .expect("conflict views")
            .iter()
            .map(|v| v.id)
            .collect::<Vec<_>>(),
        vec![views[1].id],
        "dismissing one leaves the other"
    );
}

#[test]
fn a_full_resync_before_the_push_does_not_lose_the_change() {
    let h = Harness::new();
    let id = h.connect();
    h.fake.push_fault(Fault::ServerError);
    h.app
        .create_event(&input(&calendar(&h, &id), "Made offline"))
        .expect("the local create succeeds");
    // The push fails again, but the fetch works: the first (full) sync drops the calendar's events,
    // the unpushed one with them.
    h.fake.push_fault(Fault::ServerError);
    h.sync(&id).expect("the sync itself works");
    assert!(
        live_on_server(&h).is_empty(),
        "the push has not happened yet"
    );
    h.sync(&id).expect("the next sync pushes");
    let server = live_on_server(&h);
    assert_eq!(
        server.len(),
        1,
        "the outbox row carried the change itself, so it still went out"
    );
    assert_eq!(
        server[0]["summary"], "Made offline",
        "with the user's fields"
    );
    h.sync(&id).expect("and a sync after");
    assert_eq!(
        stored(&h).into_iter().map(|(_, t)| t).collect::<Vec<_>>(),
        vec!["Made offline".to_string()],
        "the store holds it once"
    );
}

// Recurring events. The series: Mondays at 10:00 Berlin, four times from 9 March 2026; the last one falls
// after the switch to summer time (29 March), so its UTC hour differs, which checks zones on the way.

const TZ: &str = "Europe/Berlin";

fn weekly(h: &Harness) {
    h.fake.put(
        CAL,
        items::recurring(
            "wk",
            "Weekly",
            "2026-03-09T10:00:00+01:00",
            "2026-03-09T10:30:00+01:00",
            TZ,
            &["RRULE:FREQ=WEEKLY;COUNT=4"],
        ),
    );
}

fn occ(start: &str, end: &str, title: &str) -> (String, String, String) {
    (start.into(), end.into(), title.into())
}

/// The four occurrences of [`weekly`], as listings show them (UTC).
fn weekly_occurrences() -> Vec<(String, String, String)> {
    vec![
        occ("2026-03-09T09:00:00Z", "2026-03-09T09:30:00Z", "Weekly"),
        occ("2026-03-16T09:00:00Z", "2026-03-16T09:30:00Z", "Weekly"),
        occ("2026-03-23T09:00:00Z", "2026-03-23T09:30:00Z", "Weekly"),
        occ("2026-03-30T08:00:00Z", "2026-03-30T08:30:00Z", "Weekly"),
    ]
}

/// The listed ids of the occurrences in the test window, in time order.
fn occurrence_ids(h: &Harness) -> Vec<String> {
    let mut list: Vec<(String, String)> = h
        .app
        .list_events(&ListQuery {
            from: Some("2026-02-20T00:00:00Z".into()),
            to: Some("2026-06-01T00:00:00Z".into()),
            all: true,
            limit: Some(100),
            ..Default::default()
        })
        .expect("list")
        .events
        .into_iter()
        .map(|e| (e.start_time, e.id))
        .collect();
    list.sort();
    list.into_iter().map(|(_, id)| id).collect()
}

/// The server's truth as a second app sees it after a clean full sync.
fn fresh_truth(h: &Harness) -> Vec<(String, String, String)> {
    let fresh = punctual::app::App::in_memory(h.clock.clone(), h.app.user_zone())
        .expect("a second app")
        .with_secrets(std::sync::Arc::new(punctual::secrets::MemorySecrets::new()))
        .with_google(support::setup_for(&h.fake));
    let rt = h.fake.issue_refresh_token();
    let c = fresh
        .connect_google_refresh_token(punctual::secrets::SecretString::new(rt))
        .expect("the second app connects");
    fresh
        .sync(Some(&c.id), false, &mut |_, _| {})
        .expect("the full sync works");
    support::window_occurrences(&fresh)
}

/// Syncs, then checks the store against what the user wanted and against a fresh full sync of the server.
fn converged(h: &Harness, id: &str, want: &[(String, String, String)], why: &str) {
    h.sync(id).expect("sync");
    let got = support::window_occurrences(&h.app);
    assert_eq!(got, want, "{why}: the store shows what the user did");
    assert_eq!(
        fresh_truth(h),
        got,
        "{why}: the server's truth, read afresh, is the same"
    );
    assert!(
        h.app.conflicts().expect("conflicts").is_empty(),
        "{why}: no conflict on the way"
    );
}

fn titled(title: &str) -> EventInput {
    EventInput {
        title: Some(title.into()),
        ..Default::default()
    }
}

fn synced_weekly() -> (Harness, String) {
    let h = Harness::new();
    weekly(&h);
    let id = h.connect();
    h.sync(&id).expect("sync");
    assert_eq!(
        support::window_occurrences(&h.app),
        weekly_occurrences(),
        "the series is stored with its four occurrences"
    );
    (h, id)
}

#[test]
fn a_recurring_event_is_inserted_with_its_rule_and_zone_and_syncs_back_as_one_series() {
    let h = Harness::new();
    let id = h.connect();
    let v = h
        .app
        .create_event(&EventInput {
            title: Some("Weekly".into()),
            start: Some("2026-03-09T10:00:00".into()),
            end: Some("2026-03-09T10:30:00".into()),
            time_zone: Some(TZ.into()),
            repeat: Some("FREQ=WEEKLY;COUNT=4".into()),
            exdates: vec!["2026-03-16T10:00:00".into()],
            calendar: Some(calendar(&h, &id)),
            ..Default::default()
        })
        .expect("create");
    let server = live_on_server(&h);
    assert_eq!(server.len(), 1, "one series reached Google: {server:?}");
    let lines: Vec<&str> = server[0]["recurrence"]
        .as_array()
        .expect("a recurrence array")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        lines,
        vec![
            "RRULE:FREQ=WEEKLY;COUNT=4",
            "EXDATE;TZID=Europe/Berlin:20260316T100000"
        ],
        "the rule and the excluded date go as recurrence lines"
    );
    assert_eq!(
        server[0]["start"]["timeZone"], TZ,
        "a recurring event's start names its zone, as Google requires"
    );
    assert_eq!(
        v.platform_id.as_deref(),
        server[0]["id"].as_str(),
        "under the client's id"
    );
    let mut want = weekly_occurrences();
    want.remove(1);
    converged(&h, &id, &want, "a created series");
}

#[test]
fn editing_the_whole_series_patches_the_master() {
    let (h, id) = synced_weekly();
    let second = occurrence_ids(&h)[1].clone();
    h.app
        .edit_event(&second, &titled("Weekly v2"), Scope::All)
        .expect("edit all");
    let master = h.fake.get(CAL, "wk").expect("the master");
    assert_eq!(master["summary"], "Weekly v2", "the master was patched");
    assert_eq!(
        master["recurrence"],
        serde_json::json!(["RRULE:FREQ=WEEKLY;COUNT=4"]),
        "an unchanged rule is left as it was"
    );
    let want: Vec<_> = weekly_occurrences()
        .into_iter()
        .map(|(s, e, _)| (s, e, "Weekly v2".to_string()))
        .collect();
    converged(&h, &id, &want, "a series edited as a whole");
}

#[test]
fn editing_one_occurrence_makes_an_exception_in_google() {
    let (h, id) = synced_weekly();
    let second = occurrence_ids(&h)[1].clone();
    let moved = EventInput {
        title: Some("Weekly (moved)".into()),
        start: Some("2026-03-17T14:00:00+01:00".into()),
        end: Some("2026-03-17T14:30:00+01:00".into()),
        ..Default::default()
    };
    h.app
        .edit_event(&second, &moved, Scope::This)
        .expect("edit this");
    let ex = h
        .fake
        .get(CAL, "wk_20260316T090000Z")
        .expect("Google holds an exception under the instance id");
    assert_eq!(ex["recurringEventId"], "wk", "it belongs to the series");
    assert_eq!(
        ex["originalStartTime"]["dateTime"], "2026-03-16T09:00:00Z",
        "it replaces the instance it was made from"
    );
    assert_eq!(ex["summary"], "Weekly (moved)", "with the edit");
    assert!(
        h.fake.get(CAL, "wk").expect("master")["summary"] == "Weekly",
        "the master is untouched"
    );
    let mut want = weekly_occurrences();
    want[1] = occ(
        "2026-03-17T13:00:00Z",
        "2026-03-17T13:30:00Z",
        "Weekly (moved)",
    );
    want.sort();
    converged(&h, &id, &want, "one occurrence edited");

    // Now the occurrence is an exception with its own version: a second edit is made on that one.
    let again = occurrence_ids(&h)[1].clone();
    h.app
        .edit_event(&again, &titled("Weekly (moved again)"), Scope::This)
        .expect("a second edit of the occurrence");
    want[1].2 = "Weekly (moved again)".into();
    converged(&h, &id, &want, "the exception edited again");
}

#[test]
fn editing_this_and_following_ends_the_master_and_inserts_a_new_series() {
    let (h, id) = synced_weekly();
    // The last occurrence is already an exception in Google: after the split it would belong to nothing.
    h.fake.put(
        CAL,
        items::exception(
            "wk",
            "2026-03-30T10:00:00+02:00",
            "Weekly (late)",
            "2026-03-30T11:00:00+02:00",
            "2026-03-30T11:30:00+02:00",
            TZ,
        ),
    );
    h.sync(&id).expect("sync");
    let third = occurrence_ids(&h)[2].clone();
    let later = EventInput {
        title: Some("Weekly, later".into()),
        start: Some("2026-03-23T11:00:00+01:00".into()),
        end: Some("2026-03-23T11:30:00+01:00".into()),
        ..Default::default()
    };
    h.app
        .edit_event(&third, &later, Scope::Following)
        .expect("edit following");
    let master = h.fake.get(CAL, "wk").expect("the master");
    assert_eq!(
        master["recurrence"],
        serde_json::json!(["RRULE:FREQ=WEEKLY;UNTIL=20260323T085959Z"]),
        "the master ends just before the chosen occurrence"
    );
    let new: Vec<Value> = live_on_server(&h)
        .into_iter()
        .filter(|i| i["id"] != "wk" && i.get("recurringEventId").is_none())
        .collect();
    assert_eq!(new.len(), 1, "one new series was inserted: {new:?}");
    assert_eq!(
        new[0]["recurrence"],
        serde_json::json!(["RRULE:FREQ=WEEKLY;COUNT=2"]),
        "it carries the rest of the COUNT"
    );
    assert_eq!(
        h.fake.get(CAL, "wk_20260330T080000Z").expect("a stub")["status"],
        "cancelled",
        "the old series' exception after the split was deleted"
    );
    let mut want = weekly_occurrences();
    want.truncate(2);
    want.push(occ(
        "2026-03-23T10:00:00Z",
        "2026-03-23T10:30:00Z",
        "Weekly, later",
    ));
    want.push(occ(
        "2026-03-30T09:00:00Z",
        "2026-03-30T09:30:00Z",
        "Weekly, later",
    ));
    converged(&h, &id, &want, "a series split");
}

#[test]
fn deleting_one_occurrence_cancels_that_instance() {
    let (h, id) = synced_weekly();
    let second = occurrence_ids(&h)[1].clone();
    h.app
        .delete_event(&second, Scope::This)
        .expect("delete this");
    let stub = h
        .fake
        .get(CAL, "wk_20260316T090000Z")
        .expect("a cancelled instance");
    assert_eq!(stub["status"], "cancelled", "the instance is cancelled");
    assert_eq!(stub["recurringEventId"], "wk", "and keyed to its series");
    let mut want = weekly_occurrences();
    want.remove(1);
    converged(&h, &id, &want, "one occurrence deleted");
}

#[test]
fn deleting_one_occurrence_of_an_all_day_series_uses_the_date_as_instance_id() {
    let h = Harness::new();
    let mut item = items::timed("days", "Standup", "x", "x", TZ);
    item["start"] = serde_json::json!({"date": "2026-03-10"});
    item["end"] = serde_json::json!({"date": "2026-03-11"});
    item["recurrence"] = serde_json::json!(["RRULE:FREQ=DAILY;COUNT=3"]);
    h.fake.put(CAL, item);
    let id = h.connect();
    h.sync(&id).expect("sync");
    let second = occurrence_ids(&h)[1].clone();
    h.app
        .delete_event(&second, Scope::This)
        .expect("delete this");
    assert_eq!(
        h.fake
            .get(CAL, "days_20260311")
            .expect("a cancelled instance")["status"],
        "cancelled",
        "an all-day instance's id ends with its date"
    );
    let want = vec![
        occ("2026-03-10", "2026-03-11", "Standup"),
        occ("2026-03-12", "2026-03-13", "Standup"),
    ];
    converged(&h, &id, &want, "an all-day occurrence deleted");
}

#[test]
fn deleting_this_and_following_ends_the_series() {
    let (h, id) = synced_weekly();
    let third = occurrence_ids(&h)[2].clone();
    h.app
        .delete_event(&third, Scope::Following)
        .expect("delete following");
    assert_eq!(
        h.fake.get(CAL, "wk").expect("the master")["recurrence"],
        serde_json::json!(["RRULE:FREQ=WEEKLY;UNTIL=20260323T085959Z"]),
        "the master ends before the chosen occurrence"
    );
    let mut want = weekly_occurrences();
    want.truncate(2);
    converged(&h, &id, &want, "the rest of a series deleted");

    h.app
        .delete_event(&occurrence_ids(&h)[0], Scope::All)
        .expect("delete all");
    converged(&h, &id, &[], "the whole series deleted");
}

#[test]
fn recurring_changes_made_offline_are_replayed_at_the_next_sync() {
    let (h, id) = synced_weekly();
    let ids = occurrence_ids(&h);
    h.fake.push_fault(Fault::ServerError);
    h.app
        .edit_event(&ids[0], &titled("First, renamed"), Scope::This)
        .expect("the local edit succeeds");
    h.fake.push_fault(Fault::ServerError);
    h.app
        .delete_event(&ids[1], Scope::This)
        .expect("the local delete succeeds");
    h.fake.push_fault(Fault::ServerError);
    h.app
        .delete_event(&ids[3], Scope::Following)
        .expect("the local split succeeds");
    assert_eq!(
        h.fake.requests("PATCH") + h.fake.requests("DELETE"),
        0,
        "nothing reached Google while it failed"
    );
    let want = vec![
        occ(
            "2026-03-09T09:00:00Z",
            "2026-03-09T09:30:00Z",
            "First, renamed",
        ),
        occ("2026-03-23T09:00:00Z", "2026-03-23T09:30:00Z", "Weekly"),
    ];
    assert_eq!(
        support::window_occurrences(&h.app),
        want,
        "the changes show locally meanwhile"
    );
    converged(&h, &id, &want, "offline changes replayed");
}

#[test]
fn a_split_cut_off_after_its_first_step_goes_on_from_there() {
    let (h, id) = synced_weekly();
    let third = occurrence_ids(&h)[2].clone();
    // The master's patch goes through; the insert of the new series fails.
    h.fake.push_fault(Fault::Pass);
    h.fake.push_fault(Fault::ServerError);
    h.app
        .edit_event(&third, &titled("Renamed from here"), Scope::Following)
        .expect("the local split succeeds");
    assert_eq!(h.fake.requests("PATCH"), 1, "the master was patched");
    let mut want = weekly_occurrences();
    want[2].2 = "Renamed from here".into();
    want[3].2 = "Renamed from here".into();
    converged(&h, &id, &want, "a split finished by the next sync");
    assert_eq!(
        h.fake.requests("PATCH"),
        1,
        "the spent patch was not sent again (its etag would have been refused)"
    );
}

#[test]
fn an_instance_edit_on_a_stale_version_is_a_conflict_not_an_overwrite() {
    let (h, id) = synced_weekly();
    let exception = |summary: &str| {
        items::exception(
            "wk",
            "2026-03-16T10:00:00+01:00",
            summary,
            "2026-03-16T10:00:00+01:00",
            "2026-03-16T10:30:00+01:00",
            TZ,
        )
    };
    h.fake.put(CAL, exception("Weekly (Raj's notes)"));
    h.sync(&id).expect("sync");
    // Raj edits that occurrence again in Google; this store has not seen it.
    h.fake.put(CAL, exception("Weekly (Raj's second notes)"));
    let second = occurrence_ids(&h)[1].clone();
    h.app
        .edit_event(&second, &titled("Weekly, my version"), Scope::This)
        .expect("the local edit is accepted");
    assert_eq!(
        h.fake
            .get(CAL, "wk_20260316T090000Z")
            .expect("the exception")["summary"],
        "Weekly (Raj's second notes)",
        "Google's newer version is not overwritten"
    );
    let conflicts = h.app.conflicts().expect("conflicts");
    assert_eq!(conflicts.len(), 1, "the refused edit is a conflict");
    assert_eq!(conflicts[0].operation, "update", "it is the edit");
    h.sync(&id).expect("sync");
    let mut want = weekly_occurrences();
    want[1].2 = "Weekly (Raj's second notes)".into();
    assert_eq!(
        support::window_occurrences(&h.app),
        want,
        "the store shows Google's version"
    );
    assert_eq!(fresh_truth(&h), want, "which is the server's truth");
    h.app.dismiss_conflict(conflicts[0].id).expect("dismiss");

    // An instance without an exception was read with its master's version: a master changed since wins.
    let mut master = h.fake.get(CAL, "wk").expect("the master");
    master["summary"] = serde_json::json!("Weekly (renamed by Raj)");
    h.fake.put(CAL, master);
    let third = occurrence_ids(&h)[2].clone();
    h.app
        .edit_event(&third, &titled("Third, my version"), Scope::This)
        .expect("the local edit is accepted");
    assert!(
        h.fake.get(CAL, "wk_20260323T090000Z").is_none(),
        "no exception was made on a master that changed"
    );
    assert_eq!(
        h.app.conflicts().expect("conflicts").len(),
        1,
        "the refused edit is a conflict"
    );
    h.sync(&id).expect("sync");
    assert!(
        support::window_occurrences(&h.app)
            .iter()
            .all(|o| o.2 != "Third, my version"),
        "after the sync the local edit has given way to Google's version"
    );
    assert_eq!(
        fresh_truth(&h),
        support::window_occurrences(&h.app),
        "the store is the server's truth"
    );
}

#[test]
fn bad_recurring_input_is_refused_and_writes_nothing() {
    let (h, id) = synced_weekly();
    h.fake.put(
        CAL,
        items::timed(
            "single",
            "Single",
            "2026-03-20T10:00:00+01:00",
            "2026-03-20T11:00:00+01:00",
            TZ,
        ),
    );
    h.sync(&id).expect("sync");
    let before = support::window_occurrences(&h.app);
    let requests_before = h.fake.state().log.len();
    let ids = occurrence_ids(&h);
    let single = ids
        .iter()
        .find(|i| !i.contains('_'))
        .expect("the single's id")
        .clone();

    let e = h
        .app
        .create_event(&EventInput {
            repeat: Some("FREQ=SOMETIMES".into()),
            ..input(&calendar(&h, &id), "Bad rule")
        })
        .expect_err("an invalid rule is refused");
    assert_eq!(
        e.field.as_deref(),
        Some("repeat"),
        "the error names the rule: {e:?}"
    );
    let e = h
        .app
        .edit_event(&single, &titled("x"), Scope::This)
        .expect_err("\"this occurrence\" of a single event is refused");
    assert_eq!(
        e.field.as_deref(),
        Some("scope"),
        "the error names the scope: {e:?}"
    );
    let e = h
        .app
        .delete_event(&single, Scope::Following)
        .expect_err("\"this and following\" of a single event is refused");
    assert_eq!(
        e.field.as_deref(),
        Some("scope"),
        "the error names the scope"
    );
    let e = h
        .app
        .edit_event(
            &ids[1],
            &EventInput {
                repeat: Some("FREQ=DAILY".into()),
                ..Default::default()
            },
            Scope::This,
        )
        .expect_err("one occurrence cannot get its own rule");
    assert_eq!(
        e.field.as_deref(),
        Some("repeat"),
        "the error names the rule"
    );
    let e = h
        .app
        .edit_event(
            &ids[1],
            &EventInput {
                repeat: Some("FREQ=WEEKLY;BYDAY=XX".into()),
                ..Default::default()
            },
            Scope::Following,
        )
        .expect_err("an invalid rule on a split is refused");
    assert_eq!(
        e.field.as_deref(),
        Some("repeat"),
        "the error names the rule"
    );

    assert_eq!(
        support::window_occurrences(&h.app),
        before,
        "the store is unchanged"
    );
    assert_eq!(
        h.fake.state().log.len(),
        requests_before,
        "nothing was sent to Google"
    );
    let conn = h.app.connection(&id).expect("connection");
    assert_eq!(
        h.app.push_outbox(&conn).expect("push"),
        0,
        "nothing was queued in the outbox"
    );
}

#[test]
fn a_single_event_made_recurring_becomes_a_series_in_google() {
    let h = Harness::new();
    h.fake.put(
        CAL,
        items::timed(
            "one",
            "Review",
            "2026-03-09T10:00:00+01:00",
            "2026-03-09T10:30:00+01:00",
            TZ,
        ),
    );
    let id = h.connect();
    h.sync(&id).expect("sync");
    let single = occurrence_ids(&h)[0].clone();
    h.app
        .edit_event(
            &single,
            &EventInput {
                repeat: Some("FREQ=WEEKLY;COUNT=4".into()),
                ..Default::default()
            },
            Scope::All,
        )
        .expect("make it repeat");
    assert_eq!(
        h.fake.get(CAL, "one").expect("the event")["recurrence"],
        serde_json::json!(["RRULE:FREQ=WEEKLY;COUNT=4"]),
        "the patch carried the new rule"
    );
    let want: Vec<_> = weekly_occurrences()
        .into_iter()
        .map(|(s, e, _)| (s, e, "Review".to_string()))
        .collect();
    converged(&h, &id, &want, "a single made recurring");
}

#[test]
fn a_database_failure_between_the_steps_of_a_split_is_retried_not_filed_as_a_conflict() {
    let (dir, h) = Harness::file_backed();
    weekly(&h);
    let id = h.connect();
    h.sync(&id).expect("sync");
    let third = occurrence_ids(&h)[2].clone();
    let db =
        rusqlite::Connection::open(dir.path().join("punctual.sqlite3")).expect("open the file");
    // Saving the first step's progress fails, after Google took that step: a full disk, as SQLite says it.
    db.execute_batch(
        r#"CREATE TRIGGER fail_progress BEFORE UPDATE OF payload ON outbox
               WHEN NEW.payload LIKE '%"done":1%'
           BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;"#,
    )
    .expect("install the failing trigger");
    h.app
        .edit_event(&third, &titled("Renamed from here"), Scope::Following)
        .expect("the local split succeeds; its push fails on our side");
    assert_eq!(h.fake.requests("PATCH"), 1, "Google ended the master");
    assert!(
        h.app.conflicts().expect("conflicts").is_empty(),
        "our own store's failure is not the provider refusing the change"
    );
    db.execute_batch("DROP TRIGGER fail_progress")
        .expect("the disk has room again");
    let mut want = weekly_occurrences();
    want[2].2 = "Renamed from here".into();
    want[3].2 = "Renamed from here".into();
    converged(&h, &id, &want, "a split retried after a local failure");
    let series: Vec<Value> = live_on_server(&h)
        .into_iter()
        .filter(|i| i.get("recurrence").is_some())
        .collect();
    assert_eq!(
        series.len(),
        2,
        "the series is split at Google exactly once: the ended master and one new series: {series:?}"
    );
}

#[test]
fn a_change_made_while_the_provider_asked_to_wait_is_not_sent_before_then() {
    let h = Harness::new();
    let id = h.connect();
    // The calendar list answers; the events request is told to come back in an hour.
    h.fake.push_fault(Fault::Pass);
    h.fake.push_fault(Fault::TooMany { retry_after: 3600 });
    h.sync(&id)
        .expect_err("an hour is longer than a sync waits");
    let sent = h.fake.state().log.len();
    h.app
        .create_event(&input(&calendar(&h, &id), "Held"))
        .expect("the local create succeeds");
    assert_eq!(
        h.fake.state().log.len(),
        sent,
        "the outbox push follows the same hold as the sync: no request within the hour"
    );
    assert_eq!(stored(&h).len(), 1, "the event is shown locally meanwhile");
    h.clock.advance(chrono::Duration::minutes(61));
    h.sync(&id).expect("after the hour the sync goes ahead");
    let server = live_on_server(&h);
    assert_eq!(server.len(), 1, "and the held change went out once");
}
