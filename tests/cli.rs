//! The `punctual` binary as scripts use it: exit codes, JSON output and errors, and two processes writing to
//! one database at once.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn punctual(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_punctual"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env("PUNCTUAL_TIME_ZONE", "UTC")
        .stdin(Stdio::null())
        .output()
        .expect("the punctual binary runs")
}

fn json_of(out: &[u8]) -> Value {
    serde_json::from_slice(out)
        .unwrap_or_else(|e| panic!("output is JSON ({e}): {}", String::from_utf8_lossy(out)))
}

/// A start far enough ahead that the test never races the clock.
fn future(days: i64, hour: u32) -> String {
    let d = chrono::Utc::now().date_naive() + chrono::Duration::days(days);
    format!("{d}T{hour:02}:00")
}

#[test]
fn create_then_list_as_json() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = punctual(
        dir.path(),
        &[
            "create",
            "--title",
            "Standup",
            "--start",
            &future(2, 9),
            "--end",
            &future(2, 10),
            "--location",
            "https://zoom.us/j/123456789",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "a valid create exits 0: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created = json_of(&out.stdout);
    let out = punctual(dir.path(), &["events", "--json"]);
    assert!(out.status.success(), "listing exits 0");
    let page = json_of(&out.stdout);
    let events = page["events"].as_array().expect("events is a list");
    assert_eq!(
        events.len(),
        1,
        "the meeting is listed by default (it has a Zoom link)"
    );
    assert_eq!(
        events[0]["id"], created["id"],
        "the listed id is the created one"
    );
    assert_eq!(
        events[0]["meeting_platform"], "zoom",
        "the link detector found Zoom in the location"
    );
    assert_eq!(page["has_more"], false, "one event fits one page");
}

#[test]
fn bad_input_exits_2_with_a_json_error_on_stderr() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cases: &[(&[&str], &str, Option<&str>)] = &[
        (
            &[
                "create",
                "--title",
                "",
                "--start",
                "2030-01-01T10:00",
                "--end",
                "2030-01-01T11:00",
            ],
            "title_required",
            Some("title"),
        ),
        (
            &[
                "create",
                "--title",
                "x",
                "--start",
                "2030-01-01T10:00",
                "--end",
                "2030-01-01T11:00",
                "--calendar",
                "missing",
            ],
            "not_found",
            Some("calendar"),
        ),
        (
            &[
                "create",
                "--title",
                "x",
                "--start",
                "2030-01-01T10:00",
                "--end",
                "2030-01-01T11:00",
                "--color",
                "blue",
            ],
            "invalid_color",
            Some("color"),
        ),
        (&["events", "--limit", "0"], "invalid_limit", Some("limit")),
        (
            &["events", "--limit", "101"],
            "invalid_limit",
            Some("limit"),
        ),
        (
            &["import", "/definitely/not/here.ics"],
            "invalid_input",
            Some("file"),
        ),
        (&["delete", "no-such-event"], "not_found", None),
    ];
    for (args, code, field) in cases {
        let mut a = args.to_vec();
        a.push("--json");
        let out = punctual(dir.path(), &a);
        assert_eq!(out.status.code(), Some(2), "{args:?}: bad input exits 2");
        assert!(
            out.stdout.is_empty(),
            "{args:?}: nothing is printed to stdout on error"
        );
        let err = json_of(&out.stderr);
        assert_eq!(err["error"]["code"], *code, "{args:?}: the stable code");
        assert!(
            err["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{args:?}: a message for people"
        );
        if let Some(f) = field {
            assert_eq!(err["error"]["field"], *f, "{args:?}: the field at fault");
        }
    }
    let list = json_of(
        &punctual(
            dir.path(),
            &[
                "events",
                "--all",
                "--from",
                "2020-01-01",
                "--to",
                "2040-01-01",
                "--json",
            ],
        )
        .stdout,
    );
    assert_eq!(
        list["events"].as_array().map(Vec::len),
        Some(0),
        "no rejected command wrote an event"
    );
    let usage = punctual(dir.path(), &["events", "--no-such-flag"]);
    assert_eq!(
        usage.status.code(),
        Some(2),
        "a usage error is bad input too"
    );
}

#[test]
fn text_errors_name_the_code_and_field() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = punctual(
        dir.path(),
        &[
            "create",
            "--title",
            "x",
            "--start",
            "tomorrowish",
            "--end",
            "2030-01-01T11:00",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unparseable start is bad input"
    );
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("invalid_start") && text.contains("ISO 8601"),
        "the text error names the code and the expected format: {text}"
    );
}

#[test]
fn two_processes_writing_at_once_never_see_database_is_locked() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Create the database first so both writers race on writes, not on creating the file.
    assert!(
        punctual(dir.path(), &["calendars"]).status.success(),
        "the database is created"
    );
    let script = |tag: &str| {
        let bin = env!("CARGO_BIN_EXE_punctual");
        let d = dir.path().display().to_string();
        let (s, e) = (future(3, 9), future(3, 10));
        format!("set -e; for i in $(seq 1 25); do {bin} --data-dir '{d}' create --title '{tag} '$i --start {s} --end {e} >/dev/null; done")
    };
    let a = Command::new("sh")
        .args(["-c", &script("A")])
        .env("PUNCTUAL_TIME_ZONE", "UTC")
        .stderr(Stdio::piped())
        .spawn()
        .expect("writer A starts");
    let b = Command::new("sh")
        .args(["-c", &script("B")])
        .env("PUNCTUAL_TIME_ZONE", "UTC")
        .stderr(Stdio::piped())
        .spawn()
        .expect("writer B starts");
    let (a, b) = (
        a.wait_with_output().expect("writer A ends"),
        b.wait_with_output().expect("writer B ends"),
    );
    for (name, o) in [("A", &a), ("B", &b)] {
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !err.contains("locked"),
            "writer {name} must never see 'database is locked': {err}"
        );
        assert!(
            o.status.success(),
            "writer {name} succeeded every time: {err}"
        );
    }
    let list =
        json_of(&punctual(dir.path(), &["events", "--all", "--limit", "100", "--json"]).stdout);
    assert_eq!(
        list["events"].as_array().map(Vec::len),
        Some(50),
        "all 50 writes from both processes landed"
    );
}

#[test]
fn completions_are_printed_for_each_shell() {
    let dir = tempfile::tempdir().expect("temp dir");
    for shell in ["bash", "zsh", "fish"] {
        let out = punctual(dir.path(), &["completions", shell]);
        assert!(out.status.success(), "{shell} completions exit 0");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("punctual"),
            "{shell} completions mention the command"
        );
    }
}

#[test]
fn human_agenda_groups_by_day() {
    let dir = tempfile::tempdir().expect("temp dir");
    let start = future(2, 9);
    punctual(
        dir.path(),
        &[
            "create",
            "--title",
            "Planning",
            "--start",
            &start,
            "--end",
            &future(2, 10),
        ],
    );
    let out = punctual(dir.path(), &["events", "--all"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("09:00–10:00  Planning"),
        "the agenda shows the time range and title: {text}"
    );
}

#[test]
fn join_next_opens_through_browser_and_next_prints_waybar_json() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("opened.txt");
    let browser = dir.path().join("browser.sh");
    std::fs::write(
        &browser,
        format!("#!/bin/sh\necho \"$1\" >> '{}'\n", log.display()),
    )
    .expect("write fake browser");
    let _ = Command::new("chmod").arg("+x").arg(&browser).status();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_punctual"))
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .env("PUNCTUAL_TIME_ZONE", "UTC")
            .env("BROWSER", &browser)
            .stdin(Stdio::null())
            .output()
            .expect("runs")
    };
    let lunch = run(&[
        "create",
        "--title",
        "Lunch",
        "--start",
        &future(1, 11),
        "--end",
        &future(1, 12),
        "--location",
        "Cafeteria",
        "--json",
    ]);
    let lunch_id = json_of(&lunch.stdout)["id"]
        .as_str()
        .map(str::to_string)
        .expect("an id");
    let out = run(&["join", &lunch_id, "--json"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "joining an event with no link is bad input"
    );
    assert_eq!(
        json_of(&out.stderr)["error"]["code"],
        "no_meeting_link",
        "the error says there is no link"
    );
    assert!(
        !log.exists(),
        "nothing was opened for an event without a link"
    );

    run(&[
        "create",
        "--title",
        "Sync",
        "--start",
        &future(1, 9),
        "--end",
        &future(1, 10),
        "--location",
        "https://meet.google.com/abc-defg-hij",
    ]);
    let out = run(&["next", "--waybar"]);
    assert!(out.status.success(), "next --waybar exits 0");
    let w = json_of(&out.stdout);
    assert!(
        w["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("Sync in ")),
        "waybar text has the countdown: {w}"
    );
    assert_eq!(w["class"], "later", "a meeting tomorrow is 'later'");
    assert!(
        w["tooltip"].as_str().is_some_and(|t| t.contains("Sync")),
        "the tooltip names the meeting"
    );

    let out = run(&["join", "next", "--json"]);
    assert!(
        out.status.success(),
        "join next succeeds: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let opened = std::fs::read_to_string(&log).expect("the browser was called");
    assert_eq!(
        opened.trim(),
        "https://meet.google.com/abc-defg-hij",
        "the browser got exactly the meeting link"
    );
}

fn detect(args: &[&str], stdin: &str) -> Output {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_punctual"))
        .arg("detect")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("punctual detect runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write the invite");
    child.wait_with_output().expect("detect ends")
}

#[test]
fn detect_reads_an_invite_from_stdin_and_explains_every_candidate() {
    let invite = "Join Zoom Meeting\nhttps://us02web.zoom.us/j/84512345678?pwd=bXlS.1\n\nNot this: https://zoom.us.evil.com/j/1\n";
    let out = detect(&["--json"], invite);
    assert!(
        out.status.success(),
        "detect exits 0: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json_of(&out.stdout);
    assert_eq!(
        v["link"]["url"], "https://us02web.zoom.us/j/84512345678?pwd=bXlS.1",
        "the link as written, trailing dot stripped: {v}"
    );
    assert_eq!(v["link"]["platform"], "zoom", "the platform is named");
    let all = detect(&["--all"], invite);
    let text = String::from_utf8_lossy(&all.stdout);
    assert!(
        text.contains("zoom.us.evil.com"),
        "--all lists the rejected lookalike too: {text}"
    );
    let bad = detect(&["--field", "bogus", "--json"], invite);
    assert_eq!(
        bad.status.code(),
        Some(2),
        "an unknown --field is bad input"
    );
    assert_eq!(
        json_of(&bad.stderr)["error"]["field"],
        "field",
        "the error names the flag"
    );
}

#[test]
fn an_imported_conference_property_becomes_the_meeting_link() {
    let dir = tempfile::tempdir().expect("temp dir");
    let start = (chrono::Utc::now() + chrono::Duration::days(2))
        .format("%Y%m%dT100000Z")
        .to_string();
    let end = (chrono::Utc::now() + chrono::Duration::days(2))
        .format("%Y%m%dT110000Z")
        .to_string();
    let ics = format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:c@t\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:{start}\r\nDTEND:{end}\r\nSUMMARY:Conf\r\nCONFERENCE;VALUE=URI;FEATURE=VIDEO:https://meet.google.com/abc-defg-hij\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n");
    let file = dir.path().join("c.ics");
    std::fs::write(&file, ics).expect("write ics");
    let imp = punctual(dir.path(), &["import", file.to_str().unwrap_or_default()]);
    assert!(
        imp.status.success(),
        "the file imports: {}",
        String::from_utf8_lossy(&imp.stderr)
    );
    let list = json_of(&punctual(dir.path(), &["events", "--json"]).stdout);
    assert_eq!(
        list["events"][0]["meeting_platform"], "google_meet",
        "RFC 7986 CONFERENCE is found by detection: {list}"
    );
    assert_eq!(
        list["events"][0]["meeting_url"], "https://meet.google.com/abc-defg-hij",
        "the conference URI is the link"
    );
}

/// Five series of 1,000 meetings each (every five hours), from two days ahead: 5,000 occurrences in 220 days.
fn five_thousand_meetings(dir: &Path) -> (String, String) {
    let day = chrono::Utc::now().date_naive() + chrono::Duration::days(2);
    let mut ics = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n");
    for i in 0..5 {
        let start = day.format(&format!("%Y%m%dT0{i}0000Z")).to_string();
        let end = day.format(&format!("%Y%m%dT0{i}1000Z")).to_string();
        ics.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:s{i}@t\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:{start}\r\nDTEND:{end}\r\n\
             RRULE:FREQ=HOURLY;INTERVAL=5;COUNT=1000\r\nSUMMARY:Series {i}\r\n\
             LOCATION:https://zoom.us/j/12345678{i}\r\nEND:VEVENT\r\n"
        ));
    }
    ics.push_str("END:VCALENDAR\r\n");
    let file = dir.join("many.ics");
    std::fs::write(&file, ics).expect("write ics");
    let imp = punctual(dir, &["import", file.to_str().unwrap_or_default()]);
    assert!(
        imp.status.success(),
        "the file imports: {}",
        String::from_utf8_lossy(&imp.stderr)
    );
    (
        day.to_string(),
        (day + chrono::Duration::days(220)).to_string(),
    )
}

#[test]
fn events_every_prints_the_whole_window_in_one_call_as_ndjson() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (from, to) = five_thousand_meetings(dir.path());
    let out = punctual(
        dir.path(),
        &["events", "--from", &from, "--to", &to, "--every", "--json"],
    );
    assert!(
        out.status.success(),
        "--every exits 0: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let streamed: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("each line is one JSON object (NDJSON) ({e}): {l}"))
        })
        .collect();
    assert_eq!(
        streamed.len(),
        5000,
        "every occurrence of the window comes out of one call, not only the first page"
    );
    // The same window through the paged output, cursor after cursor.
    let mut paged: Vec<Value> = Vec::new();
    let mut page = json_of(
        &punctual(
            dir.path(),
            &[
                "events", "--from", &from, "--to", &to, "--limit", "100", "--json",
            ],
        )
        .stdout,
    );
    loop {
        paged.extend(page["events"].as_array().cloned().unwrap_or_default());
        let Some(c) = page["next_cursor"].as_str().map(str::to_string) else {
            break;
        };
        page = json_of(&punctual(dir.path(), &["events", "--cursor", &c, "--json"]).stdout);
    }
    assert_eq!(
        streamed, paged,
        "--every gives exactly the objects, in the order, that paging through the window gives"
    );
    let text = punctual(
        dir.path(),
        &["events", "--from", &from, "--to", &to, "--every"],
    );
    let text = String::from_utf8_lossy(&text.stdout);
    assert_eq!(
        text.lines()
            .filter(|l| l.trim_start().starts_with("id "))
            .count(),
        5000,
        "the agenda lists every occurrence too"
    );
    assert!(
        !text.contains("--cursor"),
        "nothing is left to page through, so no cursor is offered"
    );
}

#[test]
fn the_empty_window_hint_names_all_only_when_it_was_not_given() {
    let dir = tempfile::tempdir().expect("temp dir");
    let without = punctual(dir.path(), &["events"]);
    assert!(
        String::from_utf8_lossy(&without.stdout).contains("Use --all"),
        "without --all, an empty window suggests it"
    );
    let with = punctual(dir.path(), &["events", "--all"]);
    let text = String::from_utf8_lossy(&with.stdout);
    assert!(
        text.contains("No events in this window.") && !text.contains("--all"),
        "with --all given, the hint does not tell the user to pass it: {text}"
    );
}

#[test]
fn a_timeout_past_what_time_arithmetic_holds_is_bad_input_not_a_panic() {
    let dir = tempfile::tempdir().expect("temp dir");
    for timeout in ["18446744073709551615", "86401"] {
        let out = Command::new(env!("CARGO_BIN_EXE_punctual"))
            .arg("--data-dir")
            .arg(dir.path())
            .args([
                "connect",
                "google",
                "--client-id",
                "x",
                "--timeout",
                timeout,
                "--json",
            ])
            // Were the check missed, no browser opens and no request leaves the machine.
            .env("BROWSER", "true")
            .env("PUNCTUAL_GOOGLE_AUTH_URL", "http://127.0.0.1:1/auth")
            .env("PUNCTUAL_GOOGLE_TOKEN_URL", "http://127.0.0.1:1/token")
            .stdin(Stdio::null())
            .output()
            .expect("the punctual binary runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains("panicked"),
            "--timeout {timeout}: an overflowing deadline is refused, not a panic: {stderr}"
        );
        assert_eq!(
            out.status.code(),
            Some(2),
            "--timeout {timeout}: a timeout over 24 hours is bad input: {stderr}"
        );
        let err = json_of(&out.stderr);
        assert_eq!(
            err["error"]["code"], "invalid_input",
            "--timeout {timeout}: the stable code"
        );
        assert_eq!(
            err["error"]["field"], "timeout",
            "--timeout {timeout}: the field at fault"
        );
    }
}

#[test]
fn an_import_over_the_size_cap_is_too_large_and_reads_no_further() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("huge.ics");
    // Sparse: the file is one byte over the cap on paper and costs no disk.
    let f = std::fs::File::create(&file).expect("the file is created");
    f.set_len(punctual::limits::MAX_IMPORT_BYTES + 1)
        .expect("the file grows");
    let path = file.to_str().expect("a UTF-8 temp path");
    let out = punctual(dir.path(), &["import", path, "--json"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a file over the cap is bad input: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = json_of(&out.stderr);
    assert_eq!(
        err["error"]["code"], "too_large",
        "the stable code for a size cap"
    );
    assert_eq!(err["error"]["field"], "file", "the field at fault");
    assert!(
        err["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("64 MB")),
        "the message states the cap: {err}"
    );
}

#[test]
fn an_import_names_the_events_it_warns_about_by_uid_never_by_title_or_text() {
    let dir = tempfile::tempdir().expect("temp dir");
    let start = (chrono::Utc::now() + chrono::Duration::days(2))
        .format("%Y%m%dT100000Z")
        .to_string();
    // One event skipped (no usable DTSTART), one kept with a warning (a bad EXDATE), one series with a bad
    // EXDATE: each has a title and a description that must not reach stderr.
    let ics = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n\
         BEGIN:VEVENT\r\nUID:skipped@t\r\nDTSTART:not-a-time\r\nSUMMARY:Layoffs planning\r\nDESCRIPTION:Confidential list\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:kept@t\r\nDTSTART:{start}\r\nEXDATE:garbage\r\nSUMMARY:Acquisition of Initech\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:series@t\r\nDTSTART:{start}\r\nRRULE:FREQ=DAILY;COUNT=3\r\nEXDATE:20XX\r\nSUMMARY:Secret offsite\r\nEND:VEVENT\r\n\
         END:VCALENDAR\r\n"
    );
    let file = dir.path().join("w.ics");
    std::fs::write(&file, ics).expect("write ics");
    let imp = punctual(dir.path(), &["import", file.to_str().unwrap_or_default()]);
    let stderr = String::from_utf8_lossy(&imp.stderr);
    assert!(
        imp.status.success(),
        "a file with warnings still imports what it can: {stderr}"
    );
    assert!(
        stderr.contains("skipped@t") && stderr.contains("line 4"),
        "the skipped event is named by its UID and line, so the user can find it in the file: {stderr}"
    );
    assert!(
        stderr.contains("kept@t"),
        "the event kept with a warning is named by its UID: {stderr}"
    );
    for secret in [
        "Layoffs",
        "Confidential",
        "Initech",
        "Secret offsite",
        "SUMMARY",
    ] {
        assert!(
            !stderr.contains(secret),
            "stderr (which scripts log) never carries an event's title or text, found {secret:?}: {stderr}"
        );
    }
}
