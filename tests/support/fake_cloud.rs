//! `fake-cloud`: the fake Google and the fake Microsoft Graph of the core's tests as a process, for the
//! desktop end-to-end tests.
//!
//! Run it (`cargo run --features fake-cloud --bin fake-cloud [-- --events FILE] [--graph-events FILE]`):
//! each fake binds its own 127.0.0.1:0 listener. `--events` loads an events.list-shaped JSON file's `items`
//! into Google's primary calendar `jane@acme.example`; `--graph-events` loads a Graph page's `value` (event
//! bodies, as POSTed) into the Graph default calendar. It prints one JSON line with the environment the app
//! needs: for Google `PUNCTUAL_GOOGLE_AUTH_URL`, `_TOKEN_URL`, `_REVOKE_URL`, `_API_URL`, the client id and
//! secret, `refresh_token` and `control`; for Microsoft `PUNCTUAL_MICROSOFT_AUTH_URL`, `_TOKEN_URL` (tenant
//! `common`), `_API_URL` (the `/v1.0` base), `_CLIENT_ID` (a public client: no secret),
//! `microsoft_refresh_token`, `microsoft_calendar` (the default calendar's id) and `microsoft_control`. Then
//! it serves until its stdin closes. Tests change each server through `POST {control}...` (see
//! `State::control` in each fake).

#[path = "fake_google.rs"]
#[allow(dead_code, clippy::all)]
mod fake_google;
#[path = "fake_graph.rs"]
#[allow(dead_code, clippy::all)]
mod fake_graph;

use std::io::Read;

fn main() -> std::process::ExitCode {
    let fake = fake_google::FakeGoogle::start();
    let graph = fake_graph::FakeGraph::start();
    let args: Vec<String> = std::env::args().collect();
    match load(&args, "--events") {
        Ok(Some(page)) => {
            for item in page["items"].as_array().into_iter().flatten() {
                fake.put("jane@acme.example", item.clone());
            }
        }
        Ok(None) => {}
        Err(e) => {
            eprintln!("fake-cloud: {e}");
            return std::process::ExitCode::from(2);
        }
    }
    match load(&args, "--graph-events") {
        Ok(Some(page)) => {
            for item in page["value"].as_array().into_iter().flatten() {
                if let Err(e) = put_graph(&graph, item) {
                    eprintln!("fake-cloud: an event in --graph-events is refused: {e}");
                    return std::process::ExitCode::from(2);
                }
            }
        }
        Ok(None) => {}
        Err(e) => {
            eprintln!("fake-cloud: {e}");
            return std::process::ExitCode::from(2);
        }
    }
    let line = serde_json::json!({
        "PUNCTUAL_GOOGLE_AUTH_URL": fake.auth_url(),
        "PUNCTUAL_GOOGLE_TOKEN_URL": fake.token_url(),
        "PUNCTUAL_GOOGLE_REVOKE_URL": fake.revoke_url(),
        "PUNCTUAL_GOOGLE_API_URL": fake.base,
        "PUNCTUAL_GOOGLE_CLIENT_ID": fake_google::CLIENT_ID,
        "PUNCTUAL_GOOGLE_CLIENT_SECRET": fake_google::CLIENT_SECRET,
        "refresh_token": fake.issue_refresh_token(),
        "control": format!("{}/_control/", fake.base),
        "PUNCTUAL_MICROSOFT_AUTH_URL": graph.auth_url("common"),
        "PUNCTUAL_MICROSOFT_TOKEN_URL": graph.token_url("common"),
        "PUNCTUAL_MICROSOFT_API_URL": graph.api_url(),
        "PUNCTUAL_MICROSOFT_CLIENT_ID": fake_graph::CLIENT_ID,
        "microsoft_refresh_token": graph.issue_refresh_token(),
        "microsoft_calendar": fake_graph::DEFAULT_CALENDAR,
        "microsoft_control": format!("{}/_control/", graph.base),
    });
    println!("{line}");
    // Serve until the test closes our stdin (or dies, which closes it too).
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    std::process::ExitCode::SUCCESS
}

/// The JSON file named after `flag`, if the flag is given.
fn load(args: &[String], flag: &str) -> Result<Option<serde_json::Value>, String> {
    let Some(i) = args.iter().position(|a| a == flag) else {
        return Ok(None);
    };
    let path = args.get(i + 1).ok_or(format!("{flag} needs a file"))?;
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| format!("{path} is not JSON: {e}"))
}

/// Stores one Graph event through the control API's own path, so a bad one is an error, not a panic.
fn put_graph(graph: &fake_graph::FakeGraph, item: &serde_json::Value) -> Result<(), String> {
    punctual::auth::install_tls_provider();
    let r = reqwest::blocking::Client::new()
        .post(format!("{}/_control/put", graph.base))
        .body(item.to_string())
        .send()
        .map_err(|e| e.to_string())?;
    if r.status().is_success() {
        Ok(())
    } else {
        Err(r.text().unwrap_or_default())
    }
}
