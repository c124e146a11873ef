//! A Microsoft account through the one connect path, against the fake Graph: identity, calendars, a first
//! sync by calendarView delta with a Teams meeting and its link, and a lost grant.

mod support;

use punctual::app::{App, ConnectRequest, ListQuery, SignIn};
use punctual::error::ErrorCode;
use punctual::model::{ConnectionState, Provider};
use punctual::providers::ProviderSetup;
use punctual::secrets::{MemorySecrets, SecretString};
use punctual::time::{FixedClock, Zone};
use std::sync::Arc;
use support::fake_graph::{self, FakeGraph};

fn app_for(fake: &FakeGraph) -> App {
    let clock = Arc::new(FixedClock::new(support::now()));
    App::in_memory(clock, Zone::parse("Europe/Berlin").expect("a zone"))
        .expect("an app")
        .with_secrets(Arc::new(MemorySecrets::new()))
        .with_provider(
            Provider::OutlookCalendar,
            ProviderSetup {
                auth_url: fake.auth_url("{tenant}"),
                token_url: fake.token_url("{tenant}"),
                api_url: fake.api_url(),
                client_id: Some(fake_graph::CLIENT_ID.into()),
                ..ProviderSetup::default()
            },
        )
}

fn connect(app: &App, rt: String) -> punctual::error::Result<punctual::model::Connection> {
    app.connect(
        Provider::OutlookCalendar,
        ConnectRequest::new(SignIn::RefreshToken(SecretString::new(rt))),
    )
}

#[test]
fn a_microsoft_account_connects_and_its_teams_meeting_syncs_with_its_link() {
    let fake = FakeGraph::start();
    let start = support::now() + chrono::Duration::days(1);
    let fmt = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%S").to_string();
    fake.put(
        fake_graph::DEFAULT_CALENDAR,
        fake_graph::items::teams(fake_graph::items::single(
            "Contoso sync",
            &fmt(start),
            &fmt(start + chrono::Duration::minutes(30)),
            "UTC",
        )),
    );
    let app = app_for(&fake);
    let conn = connect(&app, fake.issue_refresh_token()).expect("the refresh token connects");
    assert_eq!(
        conn.provider,
        Provider::OutlookCalendar,
        "stored as outlook_calendar"
    );
    assert_eq!(
        conn.account_email.as_deref(),
        Some(fake_graph::DEFAULT_EMAIL),
        "the account is /me's mail"
    );
    assert!(
        conn.calendars.iter().any(|c| c.selected && c.is_primary),
        "the default calendar starts selected: {:?}",
        conn.calendars
    );
    app.sync(Some(&conn.id), false, &mut |_, _| {})
        .expect("the first sync works");
    let list = app
        .list_events(&ListQuery {
            from: Some(support::now().to_rfc3339()),
            to: Some((support::now() + chrono::Duration::days(3)).to_rfc3339()),
            all: true,
            limit: Some(100),
            ..Default::default()
        })
        .expect("list");
    let ev = list
        .events
        .iter()
        .find(|e| e.title == "Contoso sync")
        .expect("the Teams meeting was synced");
    assert!(
        ev.meeting_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://teams.microsoft.com/")),
        "its Teams link is the meeting link: {ev:?}"
    );
}

#[test]
fn a_lost_microsoft_grant_needs_a_reconnect() {
    let fake = FakeGraph::start();
    let app = app_for(&fake);
    let conn = connect(&app, fake.issue_refresh_token()).expect("connects");
    fake.revoke();
    fake.expire_access_tokens();
    let e = app
        .sync(Some(&conn.id), false, &mut |_, _| {})
        .expect_err("a revoked grant fails the sync");
    assert_eq!(
        e.code,
        ErrorCode::NeedsReconnect,
        "AADSTS70008 is needs_reconnect: {e:?}"
    );
    assert_eq!(
        app.connection(&conn.id).expect("kept").state,
        ConnectionState::NeedsReconnect,
        "the account says so"
    );
}

#[test]
fn a_tenant_that_is_not_a_guid_or_a_known_name_is_refused_before_any_request() {
    let fake = FakeGraph::start();
    let app = app_for(&fake);
    let e = app
        .connect(
            Provider::OutlookCalendar,
            ConnectRequest {
                tenant: Some("evil.example/../x".into()),
                ..ConnectRequest::new(SignIn::RefreshToken(SecretString::new(
                    fake.issue_refresh_token(),
                )))
            },
        )
        .expect_err("a bad tenant is refused");
    assert_eq!(
        e.field.as_deref(),
        Some("tenant"),
        "the error names the field: {e:?}"
    );
    assert_eq!(
        app.connections().expect("list").len(),
        1,
        "nothing was stored"
    );
}
