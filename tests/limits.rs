//! The bounds on what comes in from outside. The size caps of `punctual::limits`: an imported file over the
//! cap writes nothing, an event text over the cap names its field, and a provider's or token endpoint's
//! answer over the cap is `too_large`, whether it declares its length or streams without end. And time
//! arithmetic on user input: a value that would overflow it is refused as invalid input, not a panic.

use chrono::{DateTime, Utc};
use punctual::app::App;
use punctual::auth::OAuthConfig;
use punctual::error::ErrorCode;
use punctual::limits::{MAX_IMPORT_BYTES, MAX_RESPONSE_BYTES};
use punctual::providers::google::Google;
use punctual::providers::{CalendarProvider, ProviderError};
use punctual::secrets::SecretString;
use punctual::time::{FixedClock, Zone};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;

fn app() -> App {
    let now = DateTime::parse_from_rfc3339("2026-11-21T12:00:00Z")
        .expect("valid")
        .with_timezone(&Utc);
    App::in_memory(
        Arc::new(FixedClock::new(now)),
        Zone::parse("Europe/Berlin").expect("zone exists"),
    )
    .expect("app opens")
}

const ONE_EVENT: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n\
BEGIN:VEVENT\r\nUID:big@test\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261123T093000Z\r\n\
DTEND:20261123T094500Z\r\nSUMMARY:Hidden in a huge file\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

#[test]
fn an_import_over_the_cap_is_too_large_and_writes_nothing() {
    let app = app();
    let before = app.calendars().expect("calendars list");
    // A real calendar padded past the cap with blank lines: without the cap, its event would be imported.
    let mut data = ONE_EVENT.as_bytes().to_vec();
    data.resize(MAX_IMPORT_BYTES as usize + 1, b'\n');
    let err = app
        .import_ics_bytes(&data, Some("Should not exist"))
        .expect_err("a file one byte over the cap is refused");
    assert_eq!(
        err.code,
        ErrorCode::TooLarge,
        "the code says the file is too large: {err:?}"
    );
    assert_eq!(
        err.field.as_deref(),
        Some("file"),
        "the field at fault is the file"
    );
    assert!(
        err.message.contains("64 MB"),
        "the message states the cap: {}",
        err.message
    );
    let after = app.calendars().expect("calendars list");
    assert_eq!(
        before, after,
        "a refused import creates no calendar and no event"
    );
}

/// How the fake endpoint answers every request.
#[derive(Clone, Copy)]
enum Answer {
    /// A chunked body that never ends: only a reader with a cap stops.
    Endless,
    /// A `Content-Length` over the cap, then a few bytes: refused from the header alone.
    Declared,
}

/// A one-route HTTP server on 127.0.0.1:0 answering 200 with an oversized body; returns its base URL.
fn oversized_endpoint(answer: Answer) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("the fake binds a free loopback port");
    let base = format!("http://{}", listener.local_addr().expect("a bound address"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().expect("the socket clones"));
                // The request's head, up to its blank line (the token request's small body is left unread).
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                    if line == "\r\n" {
                        break;
                    }
                    line.clear();
                }
                match answer {
                    Answer::Endless => {
                        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                                    Transfer-Encoding: chunked\r\n\r\n";
                        if stream.write_all(head.as_bytes()).is_err() {
                            return;
                        }
                        // One 64 KiB chunk, sent again and again: the fake holds 64 KiB, not the body.
                        let body = vec![b' '; 64 * 1024];
                        let mut chunk = format!("{:x}\r\n", body.len()).into_bytes();
                        chunk.extend_from_slice(&body);
                        chunk.extend_from_slice(b"\r\n");
                        // Ends when the client hangs up, which it must once it is past the cap.
                        while stream.write_all(&chunk).is_ok() {}
                    }
                    Answer::Declared => {
                        let head = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{{",
                            MAX_RESPONSE_BYTES + 1
                        );
                        let _ = stream.write_all(head.as_bytes());
                        // Keep the connection open a while: a client that waits for the body would time out.
                        std::thread::sleep(std::time::Duration::from_secs(5));
                    }
                }
            });
        }
    });
    base
}

fn google_calendars(answer: Answer) -> Result<Vec<punctual::store::RemoteCalendar>, ProviderError> {
    let google = Google::new(&oversized_endpoint(answer)).expect("the fake's URL is a URL");
    google.calendars(&SecretString::new("access"))
}

#[test]
fn a_provider_answer_that_streams_past_the_cap_is_too_large() {
    let got = google_calendars(Answer::Endless);
    assert!(
        matches!(got, Err(ProviderError::TooLarge { limit }) if limit == MAX_RESPONSE_BYTES),
        "an endless answer is cut at the cap, not read until the timeout: {got:?}"
    );
}

#[test]
fn a_provider_answer_that_declares_a_length_over_the_cap_is_too_large() {
    let got = google_calendars(Answer::Declared);
    assert!(
        matches!(got, Err(ProviderError::TooLarge { limit }) if limit == MAX_RESPONSE_BYTES),
        "a declared length over the cap is refused before the body is read: {got:?}"
    );
}

fn token_config(answer: Answer) -> OAuthConfig {
    let base = oversized_endpoint(answer);
    OAuthConfig {
        auth_url: format!("{base}/auth"),
        token_url: format!("{base}/token"),
        client_id: "client".into(),
        client_secret: None,
        scopes: vec![],
        extra_params: vec![],
    }
}

#[test]
fn a_token_endpoint_answer_over_the_cap_is_too_large() {
    for (answer, what) in [(Answer::Endless, "streams"), (Answer::Declared, "declares")] {
        let err = punctual::auth::refresh(&token_config(answer), &SecretString::new("refresh"))
            .expect_err("an oversized token answer is refused");
        assert_eq!(
            err.code,
            ErrorCode::TooLarge,
            "a token answer that {what} past the cap is too_large, not a network failure: {err:?}"
        );
    }
}

#[test]
fn an_event_description_over_the_text_cap_is_too_large_and_names_its_field() {
    let app = app();
    let input = punctual::app::EventInput {
        title: Some("Planning".into()),
        start: Some("2026-11-23T09:00".into()),
        end: Some("2026-11-23T10:00".into()),
        description: Some("d".repeat(punctual::limits::MAX_TEXT_ARG_BYTES + 1)),
        ..Default::default()
    };
    let err = app
        .create_event(&input)
        .expect_err("a description over 1 MB is refused");
    assert_eq!(
        err.code,
        ErrorCode::TooLarge,
        "the code says the text is too large: {err:?}"
    );
    assert_eq!(
        err.field.as_deref(),
        Some("description"),
        "the UI shows the error beside the description"
    );
    let ok = punctual::app::EventInput {
        description: Some("d".repeat(punctual::limits::MAX_TEXT_ARG_BYTES)),
        ..input
    };
    app.create_event(&ok)
        .expect("a description of exactly the cap is taken");
}

#[test]
fn a_calendar_lead_time_that_would_overflow_the_planner_is_refused() {
    let app = app();
    let mut rules = app.join_rules().expect("the rules read");
    rules.calendars.insert(
        "local".into(),
        punctual::join::CalendarRule {
            enabled: true,
            lead_minutes: Some(i64::MAX),
            auto_join: None,
        },
    );
    let err = app
        .set_join_rules(&rules)
        .expect_err("a lead of i64::MAX minutes is refused, before the planner subtracts it");
    assert_eq!(
        err.code,
        ErrorCode::InvalidInput,
        "the code says the input is wrong: {err:?}"
    );
    assert_eq!(
        err.field.as_deref(),
        Some("calendars.local.lead_minutes"),
        "the field at fault is named"
    );
    assert_eq!(
        app.join_rules()
            .expect("the rules read")
            .calendars
            .get("local"),
        None,
        "the refused rules were not stored"
    );
}
