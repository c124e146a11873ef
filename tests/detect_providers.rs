//! Detection on provider API pages (Google Calendar v3, Microsoft Graph v1.0, Zoom v2) from the shared fixtures.
//!
//! The fixtures live outside the repository (../shared/fixtures/providers); when they are missing the tests say so
//! loudly and pass, rather than copying them in.

#[path = "support/fixtures.rs"]
mod fixtures;

use punctual::detect::{self, invite_from_conference_json, invite_from_input, InviteField};
use punctual::model::LinkSource;
use serde_json::Value;

fn fixture(rel: &str) -> Option<Value> {
    let path = fixtures::dir("providers").join(rel);
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(serde_json::from_str(&text).expect("a provider fixture is JSON")),
        Err(e) => {
            fixtures::missing(&path, &e.to_string());
            None
        }
    }
}

fn items<'v>(page: &'v Value, key: &str) -> Vec<&'v Value> {
    page.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

fn find<'v>(list: &[&'v Value], key: &str, value: &str) -> Option<&'v Value> {
    list.iter()
        .copied()
        .find(|v| v.get(key).and_then(Value::as_str) == Some(value))
}

#[test]
fn google_events() {
    let Some(page) = fixture("google/events_list_page1.json") else {
        return;
    };
    let list = items(&page, "items");
    let meet = find(&list, "summary", "Weekly team sync").expect("fixture has the Meet event");
    let link = detect::detect(&invite_from_conference_json(meet).as_invite()).expect("a Meet link");
    assert_eq!(
        (link.platform.as_str(), link.url.as_str(), link.source),
        (
            "google_meet",
            "https://meet.google.com/kpw-qzrt-vxa",
            LinkSource::Conference
        ),
        "the video entry point is the link"
    );
    assert_eq!(
        link.dial_in,
        vec!["+1-650-555-0143"],
        "the phone entry point gives the dial-in number"
    );

    let zoom = find(&list, "summary", "Vendor call (Zoom)").expect("fixture has the Zoom event");
    let link = detect::detect(&invite_from_conference_json(zoom).as_invite()).expect("a Zoom link");
    assert_eq!(
        link.source,
        LinkSource::Location,
        "with no conference data, the location comes first"
    );
    assert_eq!(
        link.url, "https://acme.zoom.us/j/84512345678?pwd=bXlSeWJ5aWRsTk5VZz09",
        "the Zoom link as written"
    );
    assert_eq!(
        link.passcode.as_deref(),
        Some("736291"),
        "the passcode from the HTML description"
    );

    for quiet in ["Company offsite", "Focus time"] {
        let ev = find(&list, "summary", quiet).expect("fixture event");
        assert_eq!(
            detect::detect(&invite_from_conference_json(ev).as_invite()),
            None,
            "{quiet} has no meeting link"
        );
    }

    let Some(page2) = fixture("google/events_list_page2_last.json") else {
        return;
    };
    let list = items(&page2, "items");
    let teams =
        find(&list, "summary", "Teams call with Contoso").expect("fixture has the Teams event");
    let link =
        detect::detect(&invite_from_conference_json(teams).as_invite()).expect("a Teams link");
    assert_eq!(
        (link.platform.as_str(), link.source),
        ("teams", LinkSource::Description),
        "the Teams block in the description"
    );
    assert_eq!(
        link.meeting_id.as_deref(),
        Some("240 156 813 941"),
        "Teams meeting id from the block"
    );
    assert_eq!(
        link.passcode.as_deref(),
        Some("9kQ3Zx"),
        "Teams passcode from the block"
    );
}

#[test]
fn google_video_entry_point_at_any_position() {
    let ev: Value = serde_json::json!({
        "conferenceData": {"entryPoints": [
            {"entryPointType": "phone", "uri": "tel:+1-650-555-0143"},
            {"entryPointType": "more", "uri": "https://tel.meet/abc-defg-hij?pin=1"},
            {"entryPointType": "video", "uri": "https://meet.google.com/abc-defg-hij"}
        ]},
        "hangoutLink": "https://meet.google.com/xyz-wxyz-xyz"
    });
    let link = detect::detect(&invite_from_conference_json(&ev).as_invite());
    assert_eq!(
        link.map(|l| l.url),
        Some("https://meet.google.com/abc-defg-hij".into()),
        "the video entry point wins over hangoutLink, wherever it is"
    );
}

#[test]
fn graph_events() {
    let Some(page) = fixture("graph/events_list_with_series_master.json") else {
        return;
    };
    let list = items(&page, "value");
    let teams =
        find(&list, "subject", "Weekly design review").expect("fixture has the Teams event");
    let link =
        detect::detect(&invite_from_conference_json(teams).as_invite()).expect("a Teams link");
    assert_eq!(
        (link.platform.as_str(), link.source),
        ("teams", LinkSource::Conference),
        "onlineMeeting.joinUrl comes first"
    );
    assert!(
        link.url
            .starts_with("https://teams.microsoft.com/l/meetup-join/19%3ameeting_"),
        "the join URL as sent: {}",
        link.url
    );
    assert!(
        link.dial_in.iter().any(|d| d == "+1 323-849-4874"),
        "onlineMeeting.tollNumber is a dial-in: {:?}",
        link.dial_in
    );

    let zoom = find(&list, "subject", "Partner sync (Zoom)").expect("fixture has the Zoom event");
    let invite = invite_from_conference_json(zoom);
    assert!(invite.html.is_some(), "an HTML body is read as HTML");
    let link = detect::detect(&invite.as_invite()).expect("a Zoom link");
    assert_eq!(
        link.url, "https://acme.zoom.us/j/84512345678?pwd=bXlSeWJ5aWRsTk5VZz09",
        "the location link"
    );
    let html_only = detect::Invite {
        html: invite.html.as_deref(),
        ..Default::default()
    };
    let link = detect::detect(&html_only).expect("the SafeLinks href unwraps");
    assert_eq!(
        link.url, "https://acme.zoom.us/j/84512345678?pwd=bXlSeWJ5aWRsTk5VZz09",
        "SafeLinks removed, target kept byte for byte"
    );

    for quiet in ["Conference (all day)", "Budget review"] {
        let ev = find(&list, "subject", quiet).expect("fixture event");
        assert_eq!(
            detect::detect(&invite_from_conference_json(ev).as_invite()),
            None,
            "{quiet} has no meeting link"
        );
    }
}

#[test]
fn zoom_meetings() {
    let Some(page) = fixture("zoom/users_me_meetings_page1.json") else {
        return;
    };
    let list = items(&page, "meetings");
    assert!(!list.is_empty(), "the fixture lists meetings");
    for m in list {
        let join = m
            .get("join_url")
            .and_then(Value::as_str)
            .expect("every Zoom meeting has a join_url");
        let link =
            detect::detect(&invite_from_conference_json(m).as_invite()).expect("a Zoom link");
        assert_eq!(
            (link.platform.as_str(), link.url.as_str()),
            ("zoom", join),
            "join_url is the link"
        );
        assert!(
            link.meeting_id
                .as_deref()
                .is_some_and(|id| join.contains(id)),
            "the id comes from /j/{{id}}"
        );
    }
}

#[test]
fn cli_input_modes() {
    let json = r#"{"join_url": "https://acme.zoom.us/j/84512345601?pwd=abc"}"#;
    let inv = invite_from_input(None, json).expect("JSON object input");
    assert_eq!(
        inv.conference,
        vec!["https://acme.zoom.us/j/84512345601?pwd=abc"],
        "a JSON object is read as provider JSON"
    );
    let inv = invite_from_input(
        None,
        "<p>Join <a href=\"https://meet.google.com/abc-defg-hij\">here</a></p>",
    )
    .expect("html");
    assert!(inv.html.is_some(), "HTML-looking stdin is read as HTML");
    let inv = invite_from_input(None, "Join https://meet.google.com/abc-defg-hij").expect("text");
    assert!(inv.description.is_some(), "plain stdin is the description");
    let inv = invite_from_input(Some(InviteField::Location), "https://whereby.com/jane")
        .expect("location");
    assert_eq!(
        inv.location.as_deref(),
        Some("https://whereby.com/jane"),
        "--field location"
    );
    assert!(
        invite_from_input(Some(InviteField::ConferenceJson), "not json").is_err(),
        "bad JSON is an error, not a guess"
    );
    assert!(
        "bogus".parse::<InviteField>().is_err(),
        "unknown --field names are rejected"
    );
    let all = detect::explain(&inv.as_invite());
    let text = all.render_text(true);
    assert!(
        text.contains("whereby") && text.contains("location"),
        "the report names platform and field: {text}"
    );
    let json = serde_json::to_value(&all).expect("Explanation serializes");
    assert!(
        json.get("candidates")
            .and_then(Value::as_array)
            .is_some_and(|c| c.len() == 1),
        "--json lists candidates"
    );
}
