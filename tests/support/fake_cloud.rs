//! `fake-cloud`: the fake Google of the core's tests as a process, for the desktop end-to-end tests.
//!
//! Run it (`cargo run --features fake-cloud --bin fake-cloud [-- --events FILE]`): it binds 127.0.0.1:0,
//! loads an events.list-shaped JSON file's `items` into the primary calendar `jane@acme.example` if given,
//! prints one JSON line with the environment the app needs (`PUNCTUAL_GOOGLE_AUTH_URL`, `_TOKEN_URL`,
//! `_API_URL`, the client id and secret) and a refresh token, then serves until its stdin closes. Tests
//! change the server through `POST {base}/_control/...` (see `State::control` in the fake).

#[path = "fake_google.rs"]
#[allow(dead_code, clippy::all)]
mod fake_google;

use std::io::Read;

fn main() -> std::process::ExitCode {
    let fake = fake_google::FakeGoogle::start();
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--events") {
        let Some(path) = args.get(i + 1) else {
            eprintln!("fake-cloud: --events needs a file");
            return std::process::ExitCode::from(2);
        };
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("fake-cloud: cannot read {path}: {e}");
                return std::process::ExitCode::from(2);
            }
        };
        let page: serde_json::Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("fake-cloud: {path} is not JSON: {e}");
                return std::process::ExitCode::from(2);
            }
        };
        for item in page["items"].as_array().into_iter().flatten() {
            fake.put("jane@acme.example", item.clone());
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
    });
    println!("{line}");
    // Serve until the test closes our stdin (or dies, which closes it too).
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    std::process::ExitCode::SUCCESS
}
