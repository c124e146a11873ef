//! The account commands end to end: the `punctual` binary with its real keychain backend (GNOME Keyring
//! in a private D-Bus session) against the fake Google.

mod support;

use serde_json::Value;
use std::io::Write;
use std::process::{Command, Output, Stdio};
use support::fake_google::{items, FakeGoogle, Fault, CLIENT_ID, CLIENT_SECRET};
use support::keyring_session::KeyringSession;

fn with_fake(mut c: Command, fake: &FakeGoogle) -> Command {
    c.env("PUNCTUAL_GOOGLE_AUTH_URL", fake.auth_url())
        .env("PUNCTUAL_GOOGLE_TOKEN_URL", fake.token_url())
        .env("PUNCTUAL_GOOGLE_API_URL", &fake.base);
    c
}

fn run(mut c: Command, args: &[&str], stdin: &str) -> Output {
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
    child.wait_with_output().expect("punctual finishes")
}

fn json_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

fn error_code(o: &Output) -> String {
    let v: Value = serde_json::from_slice(&o.stderr).unwrap_or_else(|e| {
        panic!(
            "stderr is a JSON error ({e}): {}",
            String::from_utf8_lossy(&o.stderr)
        )
    });
    v["error"]["code"].as_str().unwrap_or_default().to_string()
}

#[test]
fn connect_list_select_sync_and_disconnect_from_the_command_line() {
    let Some(ks) = KeyringSession::start() else {
        return;
    };
    let fake = FakeGoogle::start();
    fake.put(
        "jane@acme.example",
        items::with_meet(
            items::timed(
                "ev1",
                "Planning",
                "2026-03-10T09:00:00+01:00",
                "2026-03-10T10:00:00+01:00",
                "Europe/Berlin",
            ),
            "abc-defg-hij",
        ),
    );
    let data = tempfile::tempdir().expect("a data dir");
    let rt = fake.issue_refresh_token();
    let cmd = || with_fake(ks.punctual(data.path()), &fake);

    let o = run(
        cmd(),
        &[
            "--json",
            "connect",
            "google",
            "--refresh-token-stdin",
            "--client-id",
            CLIENT_ID,
            "--client-secret",
            CLIENT_SECRET,
        ],
        &rt,
    );
    assert!(
        o.status.success(),
        "connect works: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let conn = json_of(&o);
    let id = conn["id"].as_str().expect("a connection id").to_string();
    assert_eq!(
        conn["event_count"], 1,
        "the first sync ran after connecting: {conn}"
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("1 change received"),
        "sync progress goes to stderr, one line per page: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        ks.stored().contains(&format!("{id}/refresh_token")),
        "the refresh token is in the keychain: {}",
        ks.stored()
    );

    let o = run(cmd(), &["--json", "connections"], "");
    let list = json_of(&o);
    assert_eq!(
        list.as_array().map(Vec::len),
        Some(2),
        "local and the account: {list}"
    );
    assert_eq!(list[1]["state"], "connected", "the account is connected");

    let o = run(
        cmd(),
        &[
            "--json",
            "calendars",
            "--connection",
            &id,
            "--deselect",
            "jane@acme.example",
        ],
        "",
    );
    assert!(
        o.status.success(),
        "deselect works: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        json_of(&o)[0]["selected"],
        false,
        "the calendar is deselected"
    );
    let o = run(
        cmd(),
        &[
            "--json",
            "calendars",
            "--connection",
            &id,
            "--select",
            "jane@acme.example",
        ],
        "",
    );
    assert_eq!(json_of(&o)[0]["selected"], true, "and selected again");

    // Sync works without the flags: the connection remembers its client, the keychain its secret.
    fake.put(
        "jane@acme.example",
        items::timed(
            "ev2",
            "Review",
            "2026-03-11T09:00:00+01:00",
            "2026-03-11T10:00:00+01:00",
            "Europe/Berlin",
        ),
    );
    // The cached access token is refused once: the sync refreshes it, and the fake rotates the refresh
    // token, so this run handles three live tokens; none may reach what it prints.
    fake.push_fault(Fault::Unauthorized);
    let issued_before = fake.state().issued.len();
    let o = run(cmd(), &["--json", "sync", &id], "");
    assert!(
        o.status.success(),
        "sync works: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        json_of(&o)[0]["changes"],
        1,
        "one change since the last sync"
    );
    assert!(
        fake.state().issued.len() > issued_before,
        "the sync refreshed its token, so new tokens were in play"
    );
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    for t in fake.state().issued.iter() {
        assert!(
            !printed.contains(t.as_str()),
            "token {t} is not in the process's output or log: {printed}"
        );
    }

    let o = run(cmd(), &["--json", "sync", "no-such-connection"], "");
    assert_eq!(o.status.code(), Some(2), "an unknown id is bad input");
    assert_eq!(error_code(&o), "not_found", "and says so");

    let everything = {
        let mut s = String::new();
        for entry in std::fs::read_dir(data.path()).expect("data dir") {
            s.push_str(&String::from_utf8_lossy(
                &std::fs::read(entry.expect("entry").path()).unwrap_or_default(),
            ));
        }
        s
    };
    for t in fake
        .state()
        .issued
        .iter()
        .filter(|t| !t.starts_with("code"))
    {
        assert!(
            !everything.contains(t.as_str()),
            "token {t} is not in the data directory"
        );
    }

    let o = run(cmd(), &["--json", "disconnect", &id], "");
    assert!(
        o.status.success(),
        "disconnect works: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = run(cmd(), &["--json", "connections"], "");
    assert_eq!(
        json_of(&o).as_array().map(Vec::len),
        Some(1),
        "only the local connection is left"
    );
    assert!(
        !ks.stored().contains(&id),
        "no keychain entry of the account is left: {}",
        ks.stored()
    );
}

#[test]
fn connect_without_a_client_id_is_bad_input_and_writes_nothing() {
    let Some(ks) = KeyringSession::start() else {
        return;
    };
    let fake = FakeGoogle::start();
    let data = tempfile::tempdir().expect("a data dir");
    let o = run(
        with_fake(ks.punctual(data.path()), &fake),
        &["--json", "connect", "google", "--refresh-token-stdin"],
        "1//whatever",
    );
    assert_eq!(o.status.code(), Some(2), "a missing client id is bad input");
    assert_eq!(
        error_code(&o),
        "invalid_input",
        "the code names the problem"
    );
    let o = run(
        with_fake(ks.punctual(data.path()), &fake),
        &["--json", "connections"],
        "",
    );
    assert_eq!(
        json_of(&o).as_array().map(Vec::len),
        Some(1),
        "no connection was written"
    );
    assert!(
        !ks.stored().contains("refresh_token"),
        "no secret was written: {}",
        ks.stored()
    );
    assert_eq!(fake.requests("/token"), 0, "nothing was sent to Google");
}

#[test]
fn without_a_secret_service_the_error_says_how_to_fix_it() {
    let fake = FakeGoogle::start();
    let data = tempfile::tempdir().expect("a data dir");
    let home = tempfile::tempdir().expect("a home");
    let rt = fake.issue_refresh_token();
    let mut c = with_fake(Command::new(env!("CARGO_BIN_EXE_punctual")), &fake);
    c.env(
        "DBUS_SESSION_BUS_ADDRESS",
        format!("unix:path={}/no-bus", home.path().display()),
    )
    .env("HOME", home.path())
    .env("PUNCTUAL_DATA_DIR", data.path());
    let o = run(
        c,
        &[
            "--json",
            "connect",
            "google",
            "--refresh-token-stdin",
            "--client-id",
            CLIENT_ID,
            "--client-secret",
            CLIENT_SECRET,
        ],
        &rt,
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "a missing keychain is not bad input"
    );
    assert_eq!(
        error_code(&o),
        "keychain_unavailable",
        "the code names the missing keychain"
    );
    let text = String::from_utf8_lossy(&o.stderr);
    assert!(
        text.contains("gnome-keyring"),
        "the message says how to get one: {text}"
    );
    assert!(!text.contains(&rt), "the token is never printed");
}

#[test]
fn the_browser_sign_in_works_from_the_command_line() {
    let Some(ks) = KeyringSession::start() else {
        return;
    };
    let fake = FakeGoogle::start();
    let data = tempfile::tempdir().expect("a data dir");
    let mut c = with_fake(ks.punctual(data.path()), &fake);
    // The "browser" is curl following the authorize redirect to the loopback listener.
    c.env("BROWSER", "curl -sfL -o /dev/null")
        .env("PUNCTUAL_GOOGLE_CLIENT_ID", CLIENT_ID)
        .env("PUNCTUAL_GOOGLE_CLIENT_SECRET", CLIENT_SECRET);
    let o = run(c, &["--json", "connect", "google", "--timeout", "30"], "");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "the browser flow connects: {err}");
    assert!(
        err.contains("http://127.0.0.1:") || err.contains("127.0.0.1%3A"),
        "the sign-in URL is printed with the loopback redirect: {err}"
    );
    assert_eq!(
        json_of(&o)["account_email"],
        "jane@acme.example",
        "the account is connected"
    );
}

#[test]
fn conflicts_list_and_an_unknown_dismiss_is_bad_input() {
    let data = tempfile::tempdir().expect("a data dir");
    let mut c = Command::new(env!("CARGO_BIN_EXE_punctual"));
    c.env("PUNCTUAL_DATA_DIR", data.path());
    let o = run(c, &["--json", "conflicts"], "");
    assert!(
        o.status.success(),
        "listing works: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        json_of(&o),
        serde_json::json!([]),
        "a fresh store has no conflicts"
    );
    let mut c = Command::new(env!("CARGO_BIN_EXE_punctual"));
    c.env("PUNCTUAL_DATA_DIR", data.path());
    let o = run(c, &["--json", "conflicts", "--dismiss", "7"], "");
    assert_eq!(o.status.code(), Some(2), "an unknown conflict is bad input");
    assert_eq!(error_code(&o), "not_found", "and says so");
}

#[test]
fn a_client_stored_with_config_connects_and_its_secret_is_never_printed() {
    let Some(ks) = KeyringSession::start() else {
        return;
    };
    let fake = FakeGoogle::start();
    let data = tempfile::tempdir().expect("a data dir");
    let cmd = || with_fake(ks.punctual(data.path()), &fake);

    let o = run(
        cmd(),
        &["--json", "config", "google-client", "--client-id", "  "],
        "",
    );
    assert_eq!(o.status.code(), Some(2), "an empty client id is bad input");
    let err: Value = serde_json::from_slice(&o.stderr).expect("a JSON error");
    assert_eq!(
        err["error"]["field"], "client_id",
        "the error names the field: {err}"
    );

    let o = run(
        cmd(),
        &[
            "--json",
            "config",
            "google-client",
            "--client-id",
            CLIENT_ID,
            "--client-secret",
            CLIENT_SECRET,
        ],
        "",
    );
    assert!(
        o.status.success(),
        "storing the client works: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        json_of(&o),
        serde_json::json!({"client_id": CLIENT_ID, "client_secret_set": true}),
        "the answer says a secret is set without showing it"
    );

    // No flag and no environment variable: the fake's token endpoint refuses a client without its secret,
    // so a working connect proves the stored secret was sent.
    let rt = fake.issue_refresh_token();
    let o = run(
        cmd(),
        &[
            "--json",
            "connect",
            "google",
            "--refresh-token-stdin",
            "--no-sync",
        ],
        &rt,
    );
    assert!(
        o.status.success(),
        "connect works with the stored client: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = run(cmd(), &["--json", "connections"], "");
    let list = json_of(&o);
    assert_eq!(
        list.as_array().map(Vec::len),
        Some(2),
        "local and the account: {list}"
    );
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        printed.contains(CLIENT_ID),
        "the client id is shown, so the check below looks at the right output: {printed}"
    );
    assert!(
        !printed.contains(CLIENT_SECRET),
        "the client secret is never printed: {printed}"
    );
}

#[test]
fn the_log_records_connects_refreshes_and_syncs_without_a_token_or_a_title() {
    let Some(ks) = KeyringSession::start() else {
        return;
    };
    let fake = FakeGoogle::start();
    fake.put(
        "jane@acme.example",
        items::with_meet(
            items::timed(
                "ev1",
                "Quarterly layoffs planning",
                "2026-03-10T09:00:00+01:00",
                "2026-03-10T10:00:00+01:00",
                "Europe/Berlin",
            ),
            "abc-defg-hij",
        ),
    );
    let data = tempfile::tempdir().expect("a data dir");
    let logs = tempfile::tempdir().expect("a log dir");
    let rt = fake.issue_refresh_token();
    let cmd = || {
        let mut c = with_fake(ks.punctual(data.path()), &fake);
        c.env("PUNCTUAL_LOG_DIR", logs.path())
            .env_remove("PUNCTUAL_LOG");
        c
    };
    let o = run(
        cmd(),
        &[
            "--json",
            "connect",
            "google",
            "--refresh-token-stdin",
            "--client-id",
            CLIENT_ID,
            "--client-secret",
            CLIENT_SECRET,
        ],
        &rt,
    );
    assert!(
        o.status.success(),
        "connect works: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The cached access token is refused once, so the next sync refreshes it (and the fake rotates it).
    fake.push_fault(Fault::Unauthorized);
    let o = run(cmd(), &["--json", "sync"], "");
    assert!(
        o.status.success(),
        "sync works: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains("Quarterly layoffs planning"),
        "a sync's progress on stderr names no event"
    );
    let o = run(cmd(), &["--json", "logs", "-n", "200"], "");
    assert!(
        o.status.success(),
        "logs works: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let shown = json_of(&o);
    assert_eq!(
        shown["path"].as_str(),
        logs.path().to_str(),
        "`punctual logs` names the log folder"
    );
    let text: String = std::fs::read_dir(logs.path())
        .expect("the log folder exists")
        .filter_map(|e| std::fs::read_to_string(e.expect("an entry").path()).ok())
        .collect();
    for want in [
        "connected",
        "calendar synced",
        "access token refreshed",
        "sync done",
    ] {
        assert!(
            text.contains(want),
            "the log records {want:?}, so a bug report shows what happened:\n{text}"
        );
    }
    let issued = fake.state().issued.clone();
    assert!(
        issued.len() >= 3,
        "the fake issued tokens to look for: {issued:?}"
    );
    for secret in issued
        .iter()
        .map(String::as_str)
        .chain([rt.as_str(), CLIENT_SECRET])
    {
        assert!(
            !text.contains(secret),
            "a token or secret never reaches the log, which users send to strangers"
        );
    }
    for private in [
        "Quarterly layoffs planning",
        "abc-defg-hij",
        "jane@acme.example",
    ] {
        assert!(
            !text.contains(private),
            "{private:?} is the user's own: the log holds ids and counts only"
        );
    }
}

#[test]
fn the_client_secret_can_come_from_stdin_instead_of_a_flag() {
    let Some(ks) = KeyringSession::start() else {
        return;
    };
    let fake = FakeGoogle::start();
    let data = tempfile::tempdir().expect("a data dir");
    let rt = fake.issue_refresh_token();
    let args = [
        "--json",
        "connect",
        "google",
        "--refresh-token-stdin",
        "--client-secret-stdin",
        "--client-id",
        CLIENT_ID,
        "--no-sync",
    ];
    let o = run(
        with_fake(ks.punctual(data.path()), &fake),
        &args,
        &format!("{rt}\n"),
    );
    assert_eq!(
        error_code(&o),
        "invalid_input",
        "a missing secret line is bad input, named as such"
    );
    let o = run(
        with_fake(ks.punctual(data.path()), &fake),
        &args,
        &format!("{rt}\n{CLIENT_SECRET}\n"),
    );
    assert!(
        o.status.success(),
        "the secret read from stdin's second line signs in, with nothing secret on the command line: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn a_microsoft_client_id_stored_with_config_is_the_one_connect_microsoft_signs_in_with() {
    let Some(ks) = KeyringSession::start() else {
        return;
    };
    let graph = support::fake_graph::FakeGraph::start();
    let data = tempfile::tempdir().expect("a data dir");
    // The fake's endpoints, but no client id in the environment: only the stored one can name it.
    let cmd = || {
        let mut c = ks.punctual(data.path());
        c.env("PUNCTUAL_MICROSOFT_AUTH_URL", graph.auth_url("common"))
            .env("PUNCTUAL_MICROSOFT_TOKEN_URL", graph.token_url("common"))
            .env("PUNCTUAL_MICROSOFT_API_URL", graph.api_url())
            .env_remove("PUNCTUAL_MICROSOFT_CLIENT_ID");
        c
    };
    let rt = graph.issue_refresh_token();
    let o = run(
        cmd(),
        &[
            "--json",
            "connect",
            "microsoft",
            "--refresh-token-stdin",
            "--no-sync",
        ],
        &rt,
    );
    assert_eq!(
        error_code(&o),
        "invalid_input",
        "with no client id anywhere, connect says so before any request"
    );

    let o = run(
        cmd(),
        &[
            "--json",
            "config",
            "microsoft-client",
            "--client-id",
            support::fake_graph::CLIENT_ID,
        ],
        "",
    );
    assert!(
        o.status.success(),
        "storing a public client (no secret) works: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        json_of(&o),
        serde_json::json!({"client_id": support::fake_graph::CLIENT_ID, "client_secret_set": false}),
        "the answer shows the stored id"
    );
    let o = run(
        cmd(),
        &[
            "--json",
            "connect",
            "microsoft",
            "--refresh-token-stdin",
            "--no-sync",
        ],
        &rt,
    );
    assert!(
        o.status.success(),
        "connect signs in with the stored client id (the fake's token endpoint checks it): {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        json_of(&o)["provider"],
        "outlook_calendar",
        "a Microsoft account is connected"
    );
}
