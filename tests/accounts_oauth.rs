//! The OAuth loopback flow end to end against the fake Google: a test "browser" follows the authorize
//! redirect to the app's 127.0.0.1 listener. Every failure leaves no connection and no secret behind.

mod support;
#[allow(unused_imports)]
use support::GoogleApp as _;

use punctual::error::ErrorCode;
use punctual::model::{ConnectionState, Provider};
use punctual::secrets::SecretString;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::fake_google::{AuthorizeMode, FakeGoogle};
use support::Harness;

/// What the browser saw: the final page, or why it could not load.
type Seen = Arc<Mutex<Vec<Result<(u16, String), String>>>>;

/// Opens `url` as a browser would, in the background, following redirects to the loopback listener.
fn browser(seen: &Seen) -> impl Fn(&str) -> Result<(), String> {
    let seen = seen.clone();
    move |url: &str| {
        let url = url.to_string();
        let seen = seen.clone();
        std::thread::spawn(move || {
            punctual::auth::install_tls_provider();
            let client = reqwest::blocking::Client::new();
            let r = client
                .get(&url)
                .send()
                .and_then(|r| {
                    let s = r.status().as_u16();
                    r.text().map(|t| (s, t))
                })
                .map_err(|e| e.to_string());
            seen.lock().unwrap_or_else(|e| e.into_inner()).push(r);
        });
        Ok(())
    }
}

/// What the browser saw, once it has seen something: the browser runs on its own thread, so the test
/// waits for its page (generously: a busy machine is slow, never wrong) rather than for a fixed time.
fn pages(seen: &Seen) -> Vec<Result<(u16, String), String>> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let got = seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if !got.is_empty() || std::time::Instant::now() > deadline {
            return got;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Nothing of a failed connect may remain: only the local connection, and an empty keychain.
fn assert_nothing_stored(h: &Harness, why: &str) {
    let conns = h.app.connections().expect("connections list");
    assert_eq!(
        conns.len(),
        1,
        "{why}: only the local connection may exist, found {conns:?}"
    );
    assert_eq!(
        conns[0].provider,
        Provider::Local,
        "{why}: the one left is the local one"
    );
    assert!(
        h.secrets.keys().is_empty(),
        "{why}: no secret may be stored, found keys {:?}",
        h.secrets.keys()
    );
}

#[test]
fn the_browser_flow_connects_with_pkce_and_the_page_says_close_the_tab() {
    let h = Harness::new();
    let seen: Seen = Default::default();
    let conn = h
        .app
        .connect_google(&browser(&seen), Duration::from_secs(20))
        .expect("the flow completes against the fake");
    assert_eq!(
        conn.provider,
        Provider::GoogleCalendar,
        "a Google connection"
    );
    assert_eq!(
        conn.state,
        ConnectionState::Connected,
        "connected after sign-in"
    );
    assert_eq!(
        conn.account_email.as_deref(),
        Some("jane@acme.example"),
        "the primary calendar's id is the account's e-mail"
    );
    assert_eq!(
        conn.deduplication_key.as_deref(),
        Some("google_calendar:jane@acme.example"),
        "the account is its deduplication key"
    );
    assert_eq!(conn.calendars.len(), 1, "the fake's one calendar is listed");
    assert!(
        conn.calendars[0].selected && conn.calendars[0].is_primary,
        "the primary calendar syncs"
    );
    assert_eq!(
        conn.primary_calendar_id.as_deref(),
        Some(conn.calendars[0].id.as_str()),
        "the primary calendar is named"
    );
    // The browser's last page comes from the loopback listener.
    let p = pages(&seen);
    let (status, body) = p
        .first()
        .and_then(|r| r.as_ref().ok())
        .expect("the browser got the loopback page");
    assert_eq!(*status, 200, "the callback page is a success");
    assert!(
        body.contains("close this tab"),
        "the page tells the user they can close the tab: {body}"
    );
    let keys = h.secrets.keys();
    assert!(
        keys.iter().any(|k| k.ends_with("/refresh_token")),
        "the refresh token is in the keychain: {keys:?}"
    );
    let auth = h
        .fake
        .state()
        .log
        .iter()
        .find(|l| l.contains("/o/oauth2/v2/auth"))
        .cloned();
    let auth = auth.expect("the browser went to the authorize endpoint");
    assert!(
        auth.contains("code_challenge_method=S256"),
        "PKCE uses S256: {auth}"
    );
    assert!(
        auth.contains("redirect_uri=http://127.0.0.1:") && auth.contains("/callback"),
        "the redirect is the literal loopback address with /callback (RFC 8252 §7.3): {auth}"
    );
}

fn failing_flow(mode: AuthorizeMode) -> (Harness, punctual::error::Error, Seen) {
    let h = Harness::new();
    h.fake.state().authorize_mode = mode;
    let seen: Seen = Default::default();
    // Short: a forged state is answered and waited past until the flow's timeout, as only the right
    // callback can end it.
    let e = h
        .app
        .connect_google(&browser(&seen), Duration::from_secs(3))
        .expect_err("this flow must fail");
    (h, e, seen)
}

#[test]
fn a_wrong_state_is_refused_and_nothing_is_stored() {
    let (h, e, seen) = failing_flow(AuthorizeMode::WrongState);
    assert_eq!(
        e.code,
        ErrorCode::OauthStateMismatch,
        "a forged state is refused: {e:?}"
    );
    assert_nothing_stored(&h, "wrong state");
    assert_eq!(
        h.fake.requests("POST /token"),
        0,
        "a code with a forged state is never exchanged"
    );
    let p = pages(&seen);
    let body = p
        .first()
        .and_then(|r| r.as_ref().ok())
        .map(|(_, b)| b.clone())
        .unwrap_or_default();
    assert!(
        body.contains("not connected"),
        "the browser page says it failed: {body}"
    );
}

#[test]
fn access_denied_is_its_own_error_and_nothing_is_stored() {
    let (h, e, _) = failing_flow(AuthorizeMode::Deny);
    assert_eq!(e.code, ErrorCode::AccessDenied, "the user said no: {e:?}");
    assert_nothing_stored(&h, "access denied");
}

#[test]
fn a_callback_without_a_code_is_refused_and_nothing_is_stored() {
    let (h, e, _) = failing_flow(AuthorizeMode::NoCode);
    assert_eq!(
        e.code,
        ErrorCode::OauthFailed,
        "no code, no connection: {e:?}"
    );
    assert!(
        e.message.contains("no authorization code"),
        "the message says what was missing: {}",
        e.message
    );
    assert_nothing_stored(&h, "missing code");
}

#[test]
fn the_listener_times_out_and_nothing_is_stored() {
    let h = Harness::new();
    let e = h
        .app
        .connect_google(&|_| Ok(()), Duration::from_millis(300))
        .expect_err("nobody opens the browser");
    assert_eq!(
        e.code,
        ErrorCode::Timeout,
        "the wait ends with a timeout: {e:?}"
    );
    assert_nothing_stored(&h, "timeout");
}

#[test]
fn the_listener_takes_one_callback_and_refuses_a_second() {
    let h = Harness::new();
    let redirect: Arc<Mutex<Option<String>>> = Default::default();
    let r2 = redirect.clone();
    // The browser thread checks what it sees; joining it brings a failed check into this test's result.
    let browser: Arc<Mutex<Option<std::thread::JoinHandle<()>>>> = Default::default();
    let b2 = browser.clone();
    // This "browser" records where the authorize endpoint redirects, then visits it, then a favicon-like
    // path first to prove other paths do not use the listener up.
    let open = move |url: &str| {
        let url = url.to_string();
        let r2 = r2.clone();
        let handle = std::thread::spawn(move || {
            punctual::auth::install_tls_provider();
            let no_follow = reqwest::blocking::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("a client");
            let resp = no_follow
                .get(&url)
                .send()
                .expect("the authorize endpoint answers");
            let loc = resp
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .expect("a redirect to the loopback")
                .to_string();
            let origin = loc
                .split("/callback")
                .next()
                .unwrap_or_default()
                .to_string();
            let fav = no_follow
                .get(format!("{origin}/favicon.ico"))
                .send()
                .expect("the listener answers");
            assert_eq!(fav.status().as_u16(), 404, "other paths get a 404");
            no_follow
                .get(&loc)
                .send()
                .expect("the callback is answered");
            *r2.lock().unwrap_or_else(|e| e.into_inner()) = Some(loc);
        });
        *b2.lock().unwrap_or_else(|e| e.into_inner()) = Some(handle);
        Ok(())
    };
    h.app
        .connect_google(&open, Duration::from_secs(20))
        .expect("the first callback connects");
    browser
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .expect("the browser was opened")
        .join()
        .expect("every check the browser made held");
    let loc = redirect
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .expect("the browser saw the redirect");
    let again = reqwest::blocking::Client::new().get(&loc).send();
    assert!(
        again.is_err(),
        "a second callback finds no listener (it closed after the first): {again:?}"
    );
    assert_eq!(
        h.app.connections().expect("list").len(),
        2,
        "exactly one account was added"
    );
    assert_eq!(
        h.fake.requests("POST /token"),
        1,
        "the code was exchanged once"
    );
}

#[test]
fn the_token_request_does_not_follow_redirects() {
    let h = Harness::new();
    h.fake.state().token_redirect = true;
    let seen: Seen = Default::default();
    let e = h
        .app
        .connect_google(&browser(&seen), Duration::from_secs(20))
        .expect_err("a redirected token request fails");
    assert_eq!(
        e.code,
        ErrorCode::OauthFailed,
        "the redirect is an unexpected answer: {e:?}"
    );
    assert_eq!(
        h.fake.requests("/stolen"),
        0,
        "the redirect target never saw the code"
    );
    assert_nothing_stored(&h, "token redirect");
}

#[test]
fn a_refresh_token_connects_and_a_second_connect_is_a_duplicate() {
    let h = Harness::new();
    let id = h.connect();
    let keys_before = h.secrets.keys();
    let changes = h.app.total_changes();
    let rt = h.fake.issue_refresh_token();
    let e = h
        .app
        .connect_google_refresh_token(SecretString::new(rt))
        .expect_err("the same account twice is refused");
    assert_eq!(
        e.code,
        ErrorCode::Duplicate,
        "the deduplication key is taken: {e:?}"
    );
    assert_eq!(
        h.app.total_changes(),
        changes,
        "a refused connect writes nothing"
    );
    assert_eq!(h.secrets.keys(), keys_before, "and stores no secret");
    assert!(
        e.message.contains(&id),
        "the message names the existing connection: {}",
        e.message
    );
}

#[test]
fn a_revoked_refresh_token_does_not_connect() {
    let h = Harness::new();
    let e = h
        .app
        .connect_google_refresh_token(SecretString::new("1//not-issued"))
        .expect_err("an unknown refresh token fails");
    assert_eq!(
        e.code,
        ErrorCode::NeedsReconnect,
        "invalid_grant means sign in again: {e:?}"
    );
    assert_nothing_stored(&h, "invalid refresh token");
}

#[test]
fn without_a_keychain_the_connect_fails_clearly_and_writes_nothing() {
    let h = Harness::new();
    let rt = h.fake.issue_refresh_token();
    h.secrets.set_unavailable(true);
    let e = h
        .app
        .connect_google_refresh_token(SecretString::new(rt))
        .expect_err("no keychain, no connection");
    assert_eq!(
        e.code,
        ErrorCode::KeychainUnavailable,
        "the code says what is missing: {e:?}"
    );
    assert!(
        e.message.contains("try again"),
        "the message says how to fix it: {}",
        e.message
    );
    h.secrets.set_unavailable(false);
    assert_nothing_stored(&h, "no keychain");
}

#[test]
fn a_fake_google_is_independent_per_test() {
    // Guards the harness itself: two fakes never share state, so tests cannot leak into each other.
    let a = FakeGoogle::start();
    let b = FakeGoogle::start();
    a.issue_refresh_token();
    assert_ne!(a.base, b.base, "each fake has its own port");
    assert!(b.state().issued.is_empty(), "b saw nothing of a's tokens");
}
