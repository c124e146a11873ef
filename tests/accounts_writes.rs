//! Writes to a Google calendar: idempotent inserts with client ids, patches and deletes with If-Match,
//! the outbox when offline, and conflicts that are shown, never overwritten.

mod support;

use punctual::app::{EventInput, ListQuery, Scope};
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
