//! Writes to an Outlook calendar through `App`, against the fake Graph: creates with a `transactionId` and
//! the id Graph assigns reconciled, edits and deletes with `If-Match`, conflicts shown and never
//! overwritten, the outbox while Graph is unreachable, and a series' scopes mapped onto Graph's series.

mod support;

use punctual::app::{App, ConflictChange, ConnectRequest, EventInput, ListQuery, Scope, SignIn};
use punctual::error::ErrorCode;
use punctual::model::{Connection, Provider};
use punctual::providers::ProviderSetup;
use punctual::secrets::{MemorySecrets, SecretString};
use punctual::time::{FixedClock, Zone};
use serde_json::{json, Value};
use std::sync::Arc;
use support::fake_graph::{self, items, FakeGraph, Fault, DEFAULT_CALENDAR};

const TEAMS: &str = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0";

struct Graph {
    fake: FakeGraph,
    app: App,
    conn: Connection,
}

impl Graph {
    /// An app connected to the fake's default mailbox, its first sync done.
    fn new() -> Graph {
        Graph::with(|_| {})
    }

    /// As [`Graph::new`], with events put on the server before the first sync.
    fn with(seed: impl FnOnce(&FakeGraph)) -> Graph {
        Graph::with_app(seed, |clock, zone| {
            App::in_memory(clock, zone).expect("an app")
        })
    }

    /// As [`Graph::with`], on the app `open` makes.
    fn with_app(
        seed: impl FnOnce(&FakeGraph),
        open: impl FnOnce(Arc<FixedClock>, Zone) -> App,
    ) -> Graph {
        let fake = FakeGraph::start();
        seed(&fake);
        let clock = Arc::new(FixedClock::new(support::now()));
        let app = open(clock, Zone::parse("Europe/Berlin").expect("a zone"))
            .with_secrets(Arc::new(MemorySecrets::new()))
            .with_backoff(support::recording_backoff(
                &Arc::new(std::sync::Mutex::new(Vec::new())),
                3,
            ))
            .with_provider(
                Provider::OutlookCalendar,
                ProviderSetup {
                    auth_url: fake.auth_url("{tenant}"),
                    token_url: fake.token_url("{tenant}"),
                    api_url: fake.api_url(),
                    client_id: Some(fake_graph::CLIENT_ID.into()),
                    ..ProviderSetup::default()
                },
            );
        let conn = app
            .connect(
                Provider::OutlookCalendar,
                ConnectRequest::new(SignIn::RefreshToken(SecretString::new(
                    fake.issue_refresh_token(),
                ))),
            )
            .expect("the refresh token connects");
        let g = Graph { fake, app, conn };
        g.sync().expect("the first sync works");
        g
    }

    /// Our id of the default Outlook calendar.
    fn calendar(&self) -> String {
        self.app
            .connection(&self.conn.id)
            .expect("the connection")
            .calendars
            .iter()
            .find(|c| c.is_primary)
            .expect("the default calendar")
            .id
            .clone()
    }

    fn sync(&self) -> punctual::error::Result<Vec<punctual::sync::SyncReport>> {
        self.app.sync(Some(&self.conn.id), false, &mut |_, _| {})
    }

    /// What the store shows in March 2026: (start, title, platform id), by start.
    fn stored(&self) -> Vec<(String, String, Option<String>)> {
        let mut out: Vec<_> = self
            .app
            .list_events(&ListQuery {
                from: Some("2026-03-01T00:00:00Z".into()),
                to: Some("2026-04-01T00:00:00Z".into()),
                all: true,
                limit: Some(100),
                ..Default::default()
            })
            .expect("list")
            .events
            .into_iter()
            .map(|e| (e.start_time, e.title, e.platform_id))
            .collect();
        out.sort();
        out
    }

    fn view(&self, title: &str) -> punctual::app::EventView {
        self.app
            .list_events(&ListQuery {
                from: Some("2026-03-01T00:00:00Z".into()),
                to: Some("2026-04-01T00:00:00Z".into()),
                all: true,
                limit: Some(100),
                ..Default::default()
            })
            .expect("list")
            .events
            .into_iter()
            .find(|e| e.title == title)
            .unwrap_or_else(|| panic!("{title:?} is stored: {:?}", self.stored()))
    }

    /// The server's truth in March 2026: (start in UTC, subject, id), by start.
    fn on_server(&self) -> Vec<(String, String, String)> {
        let mut out: Vec<_> = self
            .fake
            .instances(
                DEFAULT_CALENDAR,
                "2026-03-01T00:00:00Z".parse().expect("an instant"),
                "2026-04-01T00:00:00Z".parse().expect("an instant"),
            )
            .into_iter()
            .map(|i| {
                (
                    i["start"]["dateTime"]
                        .as_str()
                        .unwrap_or_default()
                        .chars()
                        .take(19)
                        .collect::<String>(),
                    i["subject"].as_str().unwrap_or_default().to_string(),
                    i["id"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        out.sort();
        out
    }

    /// The logged requests whose line starts with `prefix` ("POST /v1.0/me/calendars/..."), in order.
    fn logged(&self, prefix: &str) -> Vec<support::fake_graph::Logged> {
        self.fake
            .state()
            .log
            .iter()
            .filter(|l| l.line.starts_with(prefix))
            .cloned()
            .collect()
    }
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

/// Today, within the join planner's horizon.
fn soon(cal: &str, title: &str) -> EventInput {
    EventInput {
        start: Some("2026-03-02T14:00:00+01:00".into()),
        end: Some("2026-03-02T15:00:00+01:00".into()),
        ..input(cal, title)
    }
}

fn titled(title: &str) -> EventInput {
    EventInput {
        title: Some(title.into()),
        ..Default::default()
    }
}

/// "Review" on 20 March 2026, 10:00 to 11:00 in Berlin, on the server before the first sync.
fn synced_review() -> (Graph, String) {
    let mut id = String::new();
    let g = Graph::with(|f| {
        let v = f.put(
            DEFAULT_CALENDAR,
            items::single(
                "Review",
                "2026-03-20T10:00:00",
                "2026-03-20T11:00:00",
                "W. Europe Standard Time",
            ),
        );
        id = v["id"].as_str().expect("an id").to_string();
    });
    (g, id)
}

#[test]
fn a_create_posts_to_the_calendar_with_a_transaction_id_and_moves_to_the_id_graph_assigns() {
    let g = Graph::new();
    let cal = g.calendar();
    let mut create = soon(&cal, "Planning");
    create.description = Some(format!("Join: {TEAMS}"));
    let v = g.app.create_event(&create).expect("the create works");
    let posts = g.logged(&format!(
        "POST /v1.0/me/calendars/{DEFAULT_CALENDAR}/events"
    ));
    assert_eq!(posts.len(), 1, "one POST to the calendar's events");
    let body: Value = serde_json::from_str(&posts[0].body).expect("a JSON body");
    let tx = body["transactionId"].as_str().unwrap_or_default();
    assert!(!tx.is_empty(), "the POST carries a transactionId: {body}");
    assert_eq!(body["subject"], "Planning", "with the title as subject");
    let server = g.on_server();
    assert_eq!(server.len(), 1, "Graph holds the event: {server:?}");
    let graph_id = server[0].2.clone();
    assert_ne!(graph_id, tx, "Graph assigned its own id");
    let stored = g.view("Planning");
    assert_eq!(
        stored.platform_id.as_deref(),
        Some(graph_id.as_str()),
        "the stored event moved to Graph's id at once"
    );
    assert_ne!(stored.id, v.id, "and our id follows it");
    assert_eq!(
        stored.joins.len(),
        1,
        "the Teams meeting has its join plan: {stored:?}"
    );
    let plan = stored.joins[0].id.clone();
    g.sync().expect("the next sync");
    let after = g.stored();
    assert_eq!(after.len(), 1, "the sync finds it, not a copy: {after:?}");
    let again = g.view("Planning");
    assert_eq!(again.id, stored.id, "under the same id");
    assert_eq!(
        again.joins.iter().map(|j| j.id.clone()).collect::<Vec<_>>(),
        vec![plan],
        "its join plan is the one made before the sync"
    );
    assert!(
        g.app.conflicts().expect("conflicts").is_empty(),
        "no conflict"
    );
}

#[test]
fn a_create_made_offline_keeps_its_join_plan_when_it_moves_to_graphs_id() {
    let g = Graph::new();
    g.fake.set_offline(true);
    let mut create = soon(&g.calendar(), "Planning");
    create.description = Some(format!("Join: {TEAMS}"));
    let v = g
        .app
        .create_event(&create)
        .expect("the local create works offline");
    let local = g.view("Planning");
    assert_eq!(local.id, v.id, "shown under our id meanwhile");
    assert_eq!(local.joins.len(), 1, "with its join plan: {local:?}");
    let plan = local.joins[0].id.clone();
    assert!(g.on_server().is_empty(), "nothing reached Graph");
    g.fake.set_offline(false);
    g.sync().expect("the sync after the network is back");
    let server = g.on_server();
    assert_eq!(server.len(), 1, "the outbox was replayed: {server:?}");
    let moved = g.view("Planning");
    assert_eq!(
        moved.platform_id.as_deref(),
        Some(server[0].2.as_str()),
        "the event moved to Graph's id"
    );
    assert_eq!(
        moved.joins.iter().map(|j| j.id.clone()).collect::<Vec<_>>(),
        vec![plan],
        "the join plan moved with it, not planned again"
    );
    assert_eq!(g.stored().len(), 1, "one event: {:?}", g.stored());
}

#[test]
fn a_create_whose_answer_was_lost_is_retried_without_a_second_event() {
    for fault in [Fault::Reset, Fault::Truncate] {
        let g = Graph::new();
        // The fake stores the event, then drops the connection (or cuts the answer short).
        g.fake.push_fault(fault.clone());
        g.app
            .create_event(&input(&g.calendar(), "Planning"))
            .expect("the local create succeeds");
        assert_eq!(
            g.on_server().len(),
            1,
            "{fault:?}: the first attempt did reach Graph"
        );
        g.sync().expect("the retry and the sync");
        let posts = g.logged(&format!(
            "POST /v1.0/me/calendars/{DEFAULT_CALENDAR}/events"
        ));
        assert_eq!(posts.len(), 2, "{fault:?}: the POST was retried");
        assert_eq!(
            posts[0].body, posts[1].body,
            "{fault:?}: with the same transactionId"
        );
        let server = g.on_server();
        assert_eq!(
            server.len(),
            1,
            "{fault:?}: the repeated transactionId made no second event"
        );
        let stored = g.stored();
        assert_eq!(
            stored,
            vec![(
                stored[0].0.clone(),
                "Planning".to_string(),
                Some(server[0].2.clone())
            )],
            "{fault:?}: the store holds it once, under Graph's id"
        );
        assert!(
            g.app.conflicts().expect("conflicts").is_empty(),
            "{fault:?}: no conflict"
        );
    }
}

#[test]
fn a_retried_create_answered_with_409_leaves_one_event_under_graphs_id() {
    let g = Graph::new();
    g.fake.state().duplicate_transaction_conflict = true;
    g.fake.push_fault(Fault::Reset);
    g.app
        .create_event(&input(&g.calendar(), "Planning"))
        .expect("the local create succeeds");
    g.sync().expect("the retry and the sync");
    let server = g.on_server();
    assert_eq!(server.len(), 1, "the 409 made no second event: {server:?}");
    assert_eq!(
        g.stored(),
        vec![(
            "2026-03-20T09:00:00Z".to_string(),
            "Planning".to_string(),
            Some(server[0].2.clone())
        )],
        "the stand-in gave way to Graph's copy: one event, under Graph's id"
    );
    g.sync().expect("another sync");
    assert_eq!(g.stored().len(), 1, "and it stays one");
    assert!(
        g.app.conflicts().expect("conflicts").is_empty(),
        "no conflict"
    );
}

#[test]
fn an_edit_patches_the_event_with_its_etag() {
    let (g, gid) = synced_review();
    let etag = g.fake.get(&gid).expect("on the server")["@odata.etag"]
        .as_str()
        .expect("an etag")
        .to_string();
    let local = g.view("Review");
    g.app
        .edit_event(&local.id, &titled("Review (moved)"), Scope::All)
        .expect("the edit works");
    let patches = g.logged(&format!("PATCH /v1.0/me/events/{gid}"));
    assert_eq!(patches.len(), 1, "one PATCH of the event by its Graph id");
    assert_eq!(
        patches[0].headers.get("if-match"),
        Some(&etag),
        "with the etag the edit was made on"
    );
    assert_eq!(
        g.fake.get(&gid).expect("still there")["subject"],
        "Review (moved)",
        "Graph took the change"
    );
    g.sync().expect("sync");
    assert_eq!(
        g.stored()
            .into_iter()
            .map(|(_, t, _)| t)
            .collect::<Vec<_>>(),
        vec!["Review (moved)".to_string()],
        "one event, changed"
    );
}

#[test]
fn an_edit_of_a_version_that_changed_in_outlook_is_a_conflict_not_an_overwrite() {
    let (g, gid) = synced_review();
    g.fake.edit(&gid, json!({"subject": "Review (by Outlook)"}));
    let local = g.view("Review");
    g.app
        .edit_event(&local.id, &titled("Review (by Punctual)"), Scope::All)
        .expect("the local edit succeeds");
    assert_eq!(
        g.fake.get(&gid).expect("still there")["subject"],
        "Review (by Outlook)",
        "the 412 kept Outlook's version"
    );
    let views = g.app.conflict_views().expect("conflict views");
    assert_eq!(views.len(), 1, "the refusal is shown: {views:?}");
    assert_eq!(views[0].change, ConflictChange::Update, "as an update");
    assert_eq!(
        views[0].title.as_deref(),
        Some("Review (by Punctual)"),
        "named by the user's version"
    );
    g.sync().expect("the next sync");
    assert_eq!(
        g.stored()
            .into_iter()
            .map(|(_, t, _)| t)
            .collect::<Vec<_>>(),
        vec!["Review (by Outlook)".to_string()],
        "the provider's version stands locally too"
    );
    assert_eq!(
        g.logged(&format!("PATCH /v1.0/me/events/{gid}")).len(),
        1,
        "the conflict is never sent again"
    );
}

#[test]
fn a_delete_sends_delete_with_its_etag_and_one_already_gone_is_done() {
    let (g, gid) = synced_review();
    let local = g.view("Review");
    g.app
        .delete_event(&local.id, Scope::All)
        .expect("the delete works");
    let deletes = g.logged(&format!("DELETE /v1.0/me/events/{gid}"));
    assert_eq!(deletes.len(), 1, "one DELETE by the Graph id");
    assert!(
        deletes[0].headers.contains_key("if-match"),
        "with the etag it was made on"
    );
    assert!(g.on_server().is_empty(), "Graph deleted it");
    assert!(g.stored().is_empty(), "and so did the store");

    // Deleted in Outlook meanwhile: Graph answers 404, which means done.
    let (g, gid) = synced_review();
    g.fake.delete(&gid);
    let local = g.view("Review");
    g.app
        .delete_event(&local.id, Scope::All)
        .expect("the delete works");
    assert_eq!(
        g.logged(&format!("DELETE /v1.0/me/events/{gid}")).len(),
        1,
        "the DELETE went out"
    );
    assert!(
        g.app.conflicts().expect("conflicts").is_empty(),
        "a 404 on delete is not a conflict"
    );
    g.sync().expect("sync");
    assert!(g.stored().is_empty(), "nothing left");
}

#[test]
fn changes_made_while_graph_is_unreachable_wait_in_the_outbox_and_replay_in_order() {
    let (g, gid) = synced_review();
    g.fake.set_offline(true);
    let cal = g.calendar();
    g.app
        .create_event(&input(&cal, "Offline new"))
        .expect("a create offline");
    let local = g.view("Review");
    g.app
        .edit_event(&local.id, &titled("Review (offline)"), Scope::All)
        .expect("an edit offline");
    let e = g
        .sync()
        .expect_err("the sync fails while Graph is unreachable");
    assert_ne!(
        e.code,
        ErrorCode::NeedsReconnect,
        "offline is not a lost grant: {e:?}"
    );
    assert_eq!(
        g.fake.get(&gid).expect("there")["subject"],
        "Review",
        "nothing reached Graph"
    );
    assert_eq!(g.stored().len(), 2, "both changes show locally meanwhile");
    g.fake.set_offline(false);
    g.sync().expect("the sync once Graph is back");
    let server: Vec<String> = g.on_server().into_iter().map(|(_, t, _)| t).collect();
    assert_eq!(
        server,
        vec!["Offline new".to_string(), "Review (offline)".to_string()],
        "both replayed"
    );
    assert_eq!(
        g.stored().len(),
        2,
        "and stored once each: {:?}",
        g.stored()
    );
    assert!(
        g.app.conflicts().expect("conflicts").is_empty(),
        "no conflict"
    );
}

/// A weekly "Standup" on Tuesdays in March 2026 at 09:00 Berlin time (W. Europe Standard Time), five of
/// them, on the server before the first sync; answers the master's id.
fn synced_standup() -> (Graph, String) {
    let mut id = String::new();
    let g = Graph::with(|f| {
        let v = f.put(
            DEFAULT_CALENDAR,
            items::weekly(
                "Standup",
                "2026-03-03T09:00:00",
                "2026-03-03T09:30:00",
                "W. Europe Standard Time",
                &["tuesday"],
                1,
                items::until("2026-03-31"),
            ),
        );
        id = v["id"].as_str().expect("an id").to_string();
    });
    assert_eq!(
        g.stored().len(),
        5,
        "five Tuesdays synced: {:?}",
        g.stored()
    );
    (g, id)
}

/// Our id of the stored instance starting at `start` (RFC 3339 in UTC, as the list shows it).
fn instance(g: &Graph, start: &str) -> punctual::app::EventView {
    g.app
        .list_events(&ListQuery {
            from: Some("2026-03-01T00:00:00Z".into()),
            to: Some("2026-04-01T00:00:00Z".into()),
            all: true,
            limit: Some(100),
            ..Default::default()
        })
        .expect("list")
        .events
        .into_iter()
        .find(|e| e.start_time.starts_with(start))
        .unwrap_or_else(|| panic!("an instance at {start}: {:?}", g.stored()))
}

/// The store and the server agree on every instance: (start, title, Graph id).
fn agree(g: &Graph, why: &str) {
    let server: Vec<(String, String, Option<String>)> = g
        .on_server()
        .into_iter()
        .map(|(s, t, id)| (s, t, Some(id)))
        .collect();
    let stored: Vec<(String, String, Option<String>)> = g
        .stored()
        .into_iter()
        .map(|(s, t, id)| (s.chars().take(19).collect(), t, id))
        .collect();
    assert_eq!(stored, server, "{why}: the store holds what Graph holds");
}

fn titles(g: &Graph) -> Vec<(String, String)> {
    g.on_server()
        .into_iter()
        .map(|(s, t, _)| (s[..10].to_string(), t))
        .collect()
}

#[test]
fn editing_one_occurrence_of_an_outlook_series_patches_that_occurrence() {
    let (g, _) = synced_standup();
    let occ = instance(&g, "2026-03-17");
    let gid = occ.platform_id.clone().expect("a Graph id");
    let etag = g.fake.get(&gid).expect("the occurrence")["@odata.etag"].clone();
    g.app
        .edit_event(&occ.id, &titled("Standup (moved room)"), Scope::This)
        .expect("the edit works");
    let patches = g.logged(&format!("PATCH /v1.0/me/events/{gid}"));
    assert_eq!(patches.len(), 1, "the occurrence's own id is patched");
    assert_eq!(
        patches[0].headers.get("if-match").map(String::as_str),
        etag.as_str(),
        "with its etag"
    );
    let server = titles(&g);
    assert_eq!(
        server
            .iter()
            .filter(|(_, t)| t == "Standup (moved room)")
            .count(),
        1,
        "only that occurrence changed: {server:?}"
    );
    agree(&g, "after the push");
    g.sync().expect("sync");
    agree(&g, "after the sync");
}

#[test]
fn editing_the_whole_outlook_series_patches_its_master_and_moves_every_occurrence() {
    let (g, master) = synced_standup();
    let occ = instance(&g, "2026-03-17");
    let etag = g.fake.get(&master).expect("the master")["@odata.etag"]
        .as_str()
        .expect("an etag")
        .to_string();
    g.app
        .edit_event(
            &occ.id,
            &EventInput {
                title: Some("Standup (all)".into()),
                start: Some("2026-03-17T10:00:00+01:00".into()),
                end: Some("2026-03-17T10:30:00+01:00".into()),
                ..Default::default()
            },
            Scope::All,
        )
        .expect("the edit works");
    let patches = g.logged(&format!("PATCH /v1.0/me/events/{master}"));
    assert_eq!(patches.len(), 1, "the series master is patched");
    assert_eq!(
        patches[0].headers.get("if-match"),
        Some(&etag),
        "with the master's etag"
    );
    let server = g.on_server();
    assert_eq!(server.len(), 5, "still five: {server:?}");
    assert!(
        server.iter().all(|(_, t, _)| t == "Standup (all)"),
        "every occurrence took the title: {server:?}"
    );
    assert_eq!(
        server
            .iter()
            .map(|(s, _, _)| s.as_str())
            .collect::<Vec<_>>(),
        vec![
            "2026-03-03T09:00:00",
            "2026-03-10T09:00:00",
            "2026-03-17T09:00:00",
            "2026-03-24T09:00:00",
            // Berlin is on summer time from 29 March: 10:00 there is 08:00 UTC.
            "2026-03-31T08:00:00",
        ],
        "each moved one hour later in Berlin"
    );
    agree(&g, "after the push");
    g.sync().expect("sync");
    agree(&g, "after the sync");
    assert!(
        g.app.conflicts().expect("conflicts").is_empty(),
        "no conflict"
    );
}

#[test]
fn a_series_edit_on_a_version_that_changed_in_outlook_is_a_conflict() {
    let (g, master) = synced_standup();
    g.fake
        .edit(&master, json!({"subject": "Standup (by Outlook)"}));
    let occ = instance(&g, "2026-03-17");
    g.app
        .edit_event(&occ.id, &titled("Standup (by Punctual)"), Scope::All)
        .expect("the local edit succeeds");
    assert_eq!(
        g.logged(&format!("PATCH /v1.0/me/events/{master}")).len(),
        0,
        "the master was never patched"
    );
    let views = g.app.conflict_views().expect("conflicts");
    assert_eq!(views.len(), 1, "the refusal is shown: {views:?}");
    assert_eq!(
        views[0].title.as_deref(),
        Some("Standup (by Punctual)"),
        "named by the user's version"
    );
    g.sync().expect("sync");
    assert!(
        titles(&g).iter().all(|(_, t)| t == "Standup (by Outlook)"),
        "Outlook's version stands: {:?}",
        titles(&g)
    );
    agree(&g, "after the sync");
}

#[test]
fn editing_this_and_following_of_an_outlook_series_ends_it_and_starts_a_new_one() {
    let (g, master) = synced_standup();
    let occ = instance(&g, "2026-03-17");
    g.app
        .edit_event(&occ.id, &titled("Standup v2"), Scope::Following)
        .expect("the edit works");
    let posts = g.logged(&format!(
        "POST /v1.0/me/calendars/{DEFAULT_CALENDAR}/events"
    ));
    assert_eq!(posts.len(), 1, "one new series");
    let body: Value = serde_json::from_str(&posts[0].body).expect("JSON");
    assert!(
        body["transactionId"]
            .as_str()
            .is_some_and(|t| !t.is_empty()),
        "created with a transactionId: {body}"
    );
    assert_eq!(
        body["recurrence"]["pattern"]["type"], "weekly",
        "with the old series' pattern: {body}"
    );
    assert_eq!(
        body["recurrence"]["range"]["startDate"], "2026-03-17",
        "from the occurrence on: {body}"
    );
    let old = g.fake.get(&master).expect("the old master");
    assert_eq!(
        old["recurrence"]["range"]["endDate"], "2026-03-16",
        "the old series ends the day before"
    );
    assert_eq!(
        titles(&g),
        vec![
            ("2026-03-03".to_string(), "Standup".to_string()),
            ("2026-03-10".to_string(), "Standup".to_string()),
            ("2026-03-17".to_string(), "Standup v2".to_string()),
            ("2026-03-24".to_string(), "Standup v2".to_string()),
            ("2026-03-31".to_string(), "Standup v2".to_string()),
        ],
        "the server holds the split"
    );
    agree(&g, "after the push");
    g.sync().expect("sync");
    agree(&g, "after the sync");
}

#[test]
fn a_split_whose_steps_lost_their_answers_is_finished_by_the_retry_and_never_doubled() {
    for lost in ["POST /v1.0/me/calendars/", "PATCH /v1.0/me/events/"] {
        let (g, master) = synced_standup();
        // The step takes effect at Graph, then the connection drops before the answer.
        g.fake.fault_on(lost, Fault::Reset);
        let occ = instance(&g, "2026-03-17");
        g.app
            .edit_event(&occ.id, &titled("Standup v2"), Scope::Following)
            .expect("the local edit succeeds");
        g.sync().expect("the retry and the sync");
        assert_eq!(
            g.on_server().len(),
            5,
            "{lost}: no second new series, nothing lost: {:?}",
            g.on_server()
        );
        assert_eq!(
            g.fake.get(&master).expect("the old master")["recurrence"]["range"]["endDate"],
            "2026-03-16",
            "{lost}: the old series ends before the cut"
        );
        assert_eq!(
            titles(&g).iter().filter(|(_, t)| t == "Standup v2").count(),
            3,
            "{lost}: the new series holds the rest: {:?}",
            titles(&g)
        );
        assert_eq!(
            g.logged(&format!("PATCH /v1.0/me/events/{master}")).len(),
            1,
            "{lost}: the retry found the old series ended already and did not end it again"
        );
        agree(&g, lost);
        assert!(
            g.app.conflicts().expect("conflicts").is_empty(),
            "{lost}: a lost answer is not a conflict"
        );
    }
}

#[test]
fn deleting_occurrences_of_an_outlook_series_maps_each_scope_onto_graph() {
    let (g, _) = synced_standup();
    let occ = instance(&g, "2026-03-10");
    let gid = occ.platform_id.clone().expect("a Graph id");
    g.app
        .delete_event(&occ.id, Scope::This)
        .expect("delete this");
    assert_eq!(
        g.logged(&format!("DELETE /v1.0/me/events/{gid}")).len(),
        1,
        "this: the occurrence's own id"
    );
    assert_eq!(g.on_server().len(), 4, "one occurrence gone");
    agree(&g, "delete this");

    let occ = instance(&g, "2026-03-24");
    g.app
        .delete_event(&occ.id, Scope::Following)
        .expect("delete following");
    assert_eq!(
        titles(&g).into_iter().map(|(d, _)| d).collect::<Vec<_>>(),
        vec!["2026-03-03", "2026-03-17"],
        "following: the series ends before it"
    );
    agree(&g, "delete following");

    let (g, master) = synced_standup();
    let occ = instance(&g, "2026-03-17");
    g.app.delete_event(&occ.id, Scope::All).expect("delete all");
    assert_eq!(
        g.logged(&format!("DELETE /v1.0/me/events/{master}")).len(),
        1,
        "all: the series master"
    );
    assert!(g.on_server().is_empty(), "the series is gone");
    assert!(g.stored().is_empty(), "and so is every instance here");
    g.sync().expect("sync");
    agree(&g, "after the sync");
}

#[test]
fn series_changes_made_offline_are_replayed_when_graph_is_back() {
    let (g, _) = synced_standup();
    g.fake.set_offline(true);
    // A change to the whole series moves every occurrence's version on, so the one-occurrence change
    // comes first, as a user would make them: each was made on the version it is checked against.
    let occ = instance(&g, "2026-03-24");
    g.app
        .delete_event(&occ.id, Scope::This)
        .expect("the local delete works offline");
    let occ = instance(&g, "2026-03-17");
    g.app
        .edit_event(&occ.id, &titled("Standup (all)"), Scope::All)
        .expect("the local edit works offline");
    assert!(
        titles(&g).iter().all(|(_, t)| t == "Standup"),
        "nothing reached Graph"
    );
    g.fake.set_offline(false);
    g.sync().expect("the sync once Graph is back");
    assert_eq!(
        titles(&g),
        vec![
            ("2026-03-03".to_string(), "Standup (all)".to_string()),
            ("2026-03-10".to_string(), "Standup (all)".to_string()),
            ("2026-03-17".to_string(), "Standup (all)".to_string()),
            ("2026-03-31".to_string(), "Standup (all)".to_string()),
        ],
        "both changes replayed, in order"
    );
    agree(&g, "after the replay");
}

#[test]
fn a_series_created_in_an_outlook_calendar_is_written_as_graphs_patterned_recurrence() {
    let g = Graph::new();
    let mut create = input(&g.calendar(), "Weekly sync");
    create.start = Some("2026-03-03T09:00:00+01:00".into());
    create.end = Some("2026-03-03T09:30:00+01:00".into());
    create.repeat = Some("FREQ=WEEKLY;BYDAY=TU;COUNT=3".into());
    g.app.create_event(&create).expect("the create works");
    let posts = g.logged(&format!(
        "POST /v1.0/me/calendars/{DEFAULT_CALENDAR}/events"
    ));
    assert_eq!(posts.len(), 1, "one POST");
    let body: Value = serde_json::from_str(&posts[0].body).expect("JSON");
    assert_eq!(
        body["recurrence"],
        json!({"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["tuesday"],
                           "firstDayOfWeek": "monday"},
               "range": {"type": "numbered", "numberOfOccurrences": 3, "startDate": "2026-03-03",
                         "recurrenceTimeZone": "W. Europe Standard Time"}}),
        "the rule as Graph's patternedRecurrence"
    );
    assert_eq!(g.on_server().len(), 3, "Graph made three occurrences");
    agree(
        &g,
        "the store holds Graph's occurrences, not a copy of the series",
    );
    g.sync().expect("sync");
    agree(&g, "after the sync");
}

#[test]
fn a_rule_graph_cannot_express_is_refused_with_why_and_nothing_is_written() {
    let g = Graph::new();
    for rule in [
        "FREQ=MONTHLY;BYDAY=2TU",
        "FREQ=HOURLY;COUNT=3",
        "FREQ=MONTHLY;BYMONTHDAY=1,15",
        "FREQ=WEEKLY;BYDAY=TU;BYSETPOS=1",
    ] {
        let mut create = input(&g.calendar(), "Odd");
        create.repeat = Some(rule.into());
        let e = g
            .app
            .create_event(&create)
            .expect_err("Graph cannot hold the rule");
        assert_eq!(e.code, ErrorCode::InvalidInput, "{rule}: bad input: {e:?}");
        assert_eq!(
            e.field.as_deref(),
            Some("repeat"),
            "{rule}: names the field"
        );
        assert!(
            e.message.contains("Outlook"),
            "{rule}: says what Outlook can hold: {}",
            e.message
        );
    }
    assert!(g.stored().is_empty(), "nothing stored");
    assert!(
        g.app.conflicts().expect("conflicts").is_empty(),
        "nothing queued as a conflict"
    );
    assert!(g.logged("POST /v1.0/").is_empty(), "nothing sent to Graph");
    // A series already there keeps its rule: an edit that gives it one Graph cannot hold is refused too.
    let (g, gid) = synced_review();
    let local = g.view("Review");
    let e = g
        .app
        .edit_event(
            &local.id,
            &EventInput {
                repeat: Some("FREQ=MONTHLY;BYDAY=-1FR".into()),
                ..Default::default()
            },
            Scope::All,
        )
        .expect_err("refused");
    assert_eq!(e.field.as_deref(), Some("repeat"), "names the field: {e:?}");
    assert_eq!(
        g.view("Review").repeat,
        None,
        "the stored event is as it was"
    );
    assert!(
        g.logged(&format!("PATCH /v1.0/me/events/{gid}")).is_empty(),
        "nothing sent"
    );
}

fn run(mut c: std::process::Command, args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = c
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("punctual starts");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(stdin.as_bytes())
        .expect("stdin written");
    let o = child.wait_with_output().expect("punctual finishes");
    assert!(
        o.status.success(),
        "punctual {args:?} works: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn json_of(o: &std::process::Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is JSON ({e}): {}",
            String::from_utf8_lossy(&o.stdout)
        )
    })
}

#[test]
fn punctual_create_with_an_outlook_calendar_posts_it_to_graph() {
    // The binary runs on the real clock, which refuses a create in the past: the event is in 2027.
    let Some(ks) = support::keyring_session::KeyringSession::start() else {
        return;
    };
    let fake = FakeGraph::start();
    let data = tempfile::tempdir().expect("a data dir");
    let cmd = || {
        let mut c = ks.punctual(data.path());
        c.env("PUNCTUAL_MICROSOFT_AUTH_URL", fake.auth_url("{tenant}"))
            .env("PUNCTUAL_MICROSOFT_TOKEN_URL", fake.token_url("{tenant}"))
            .env("PUNCTUAL_MICROSOFT_API_URL", fake.api_url())
            .env_remove("PUNCTUAL_MICROSOFT_CLIENT_ID");
        c
    };
    let conn = json_of(&run(
        cmd(),
        &[
            "--json",
            "connect",
            "microsoft",
            "--refresh-token-stdin",
            "--client-id",
            fake_graph::CLIENT_ID,
        ],
        &fake.issue_refresh_token(),
    ));
    let cal = conn["calendars"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["is_primary"] == true)
        .and_then(|c| c["id"].as_str())
        .unwrap_or_else(|| panic!("the default calendar is listed: {conn}"))
        .to_string();
    run(
        cmd(),
        &[
            "--json",
            "create",
            "--title",
            "Planning",
            "--start",
            "2027-06-15T10:00",
            "--end",
            "2027-06-15T11:00",
            "--calendar",
            &cal,
        ],
        "",
    );
    let posts: Vec<_> = fake
        .state()
        .log
        .iter()
        .filter(|l| {
            l.line.starts_with(&format!(
                "POST /v1.0/me/calendars/{DEFAULT_CALENDAR}/events"
            ))
        })
        .cloned()
        .collect();
    assert_eq!(posts.len(), 1, "the CLI's create went to Graph at once");
    let body: Value = serde_json::from_str(&posts[0].body).expect("JSON");
    assert!(
        body["transactionId"]
            .as_str()
            .is_some_and(|t| !t.is_empty()),
        "with a transactionId: {body}"
    );
    let server = fake.instances(
        DEFAULT_CALENDAR,
        "2027-06-01T00:00:00Z".parse().expect("an instant"),
        "2027-07-01T00:00:00Z".parse().expect("an instant"),
    );
    assert_eq!(server.len(), 1, "Graph holds it: {server:?}");
    let events = json_of(&run(
        cmd(),
        &[
            "--json",
            "events",
            "--from",
            "2027-06-01",
            "--to",
            "2027-07-01",
            "--all",
        ],
        "",
    ));
    let listed: Vec<&Value> = events["events"].as_array().into_iter().flatten().collect();
    assert_eq!(listed.len(), 1, "one event listed: {events}");
    assert_eq!(
        listed[0]["platform_id"], server[0]["id"],
        "under the id Graph assigned"
    );
}

#[test]
fn a_create_queued_by_an_older_version_as_graphs_request_body_still_goes_out_once() {
    let dir = tempfile::tempdir().expect("a data dir");
    let g = Graph::with_app(
        |_| {},
        |clock, zone| App::open_with(dir.path(), clock, zone).expect("a file-backed app"),
    );
    // Rows used to hold the provider's request body; a row left by that version must still be sent.
    let tx = "2f0e6f5c-7d1a-4c1e-9a57-0c5b3f7e4d21";
    let legacy = json!({
        "subject": "Queued before", "transactionId": tx, "isAllDay": false, "showAs": "busy",
        "body": {"contentType": "text", "content": ""}, "location": {"displayName": ""},
        "start": {"dateTime": "2026-03-20T10:00:00", "timeZone": "W. Europe Standard Time"},
        "end": {"dateTime": "2026-03-20T11:00:00", "timeZone": "W. Europe Standard Time"},
    });
    let db = rusqlite::Connection::open(dir.path().join("punctual.sqlite3")).expect("the database");
    db.execute(
        "INSERT INTO outbox (calendar_id, event_id, operation, payload, created_at)
         VALUES (?1, ?2, 'create', ?3, '2026-03-02T08:00:00+00:00')",
        rusqlite::params![g.calendar(), format!("legacy-{tx}"), legacy.to_string()],
    )
    .expect("a legacy row");
    drop(db);
    g.sync().expect("the sync pushes it");
    let posts = g.logged(&format!(
        "POST /v1.0/me/calendars/{DEFAULT_CALENDAR}/events"
    ));
    assert_eq!(posts.len(), 1, "the legacy row went out once");
    let body: Value = serde_json::from_str(&posts[0].body).expect("JSON");
    assert_eq!(
        body["transactionId"], tx,
        "with the transactionId it was queued with"
    );
    assert_eq!(body["subject"], "Queued before", "and its fields");
    g.sync().expect("another sync");
    assert_eq!(
        g.logged(&format!(
            "POST /v1.0/me/calendars/{DEFAULT_CALENDAR}/events"
        ))
        .len(),
        1,
        "the row is done, not sent again"
    );
    let server = g.on_server();
    assert_eq!(
        g.stored(),
        vec![(
            "2026-03-20T09:00:00Z".to_string(),
            "Queued before".to_string(),
            Some(server[0].2.clone())
        )],
        "stored once, under Graph's id"
    );
}
