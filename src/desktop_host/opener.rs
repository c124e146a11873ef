//! Opening a meeting link (or the browser sign-in page) without ever handing it to a shell.
//!
//! Links come from strangers: anyone can put one on an invite, and with auto-join it opens with no click. So a
//! link is first parsed and checked against an allow-list of schemes (the web, and the native-app schemes that
//! [`crate::detect::platforms::Native`] builds); what is opened is the parsed URL's own serialization, never
//! the raw text. It then goes to the OS's URL handler directly:
//! - Windows: `ShellExecuteW` with the "open" verb. Never `cmd /C start`: cmd reads `&`, `|`, `^` and `%VAR%`
//!   inside the URL, and every native meeting link holds a `&`.
//! - macOS: `/usr/bin/open URL`, as one argument of a process started without a shell.
//! - Linux and the other Unixes: `$BROWSER` when it is set, else `xdg-open URL`.
//!
//! `$BROWSER` follows the old Unix convention: a command, with `%s` standing for the link if it wants it
//! elsewhere than at the end, and possibly several commands separated by `:`, of which the first is used. It
//! is split on whitespace and started directly, so no shell reads the link there either.
//!
//! The opener is given a moment to fail (a missing program, `xdg-open` finding no handler); a browser that
//! is still running after that counts as opened and is reaped in the background, so that neither the CLI nor
//! the desktop app waits for the browser window to close.

use crate::detect::platforms::Native;
use crate::join::Opener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long an opener may take to report failure before the link counts as opened.
const GRACE: Duration = Duration::from_secs(3);

/// `$BROWSER`, then the platform's URL handler.
pub struct SystemOpener;

impl Opener for SystemOpener {
    fn open(&self, url: &str) -> Result<(), String> {
        open_with(std::env::var("BROWSER").ok().as_deref(), url)
    }
}

/// The operating systems whose opening code differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Os {
    /// Linux, the BSDs: `$BROWSER` or `xdg-open`.
    Unix,
    Mac,
    Windows,
}

const THIS_OS: Os = if cfg!(windows) {
    Os::Windows
} else if cfg!(target_os = "macos") {
    Os::Mac
} else {
    Os::Unix
};

/// How a checked link reaches the OS.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Launch {
    /// A program started directly with these arguments: no shell parses them.
    Exec { program: String, args: Vec<String> },
    /// `ShellExecuteW(NULL, "open", file, NULL, NULL, SW_SHOWNORMAL)`: Windows' URL handler, no cmd.exe.
    ShellOpen { file: String },
}

/// Checks `raw` and opens it the way this OS does, with `browser` standing for `$BROWSER`.
fn open_with(browser: Option<&str>, raw: &str) -> Result<(), String> {
    let url = openable(raw)?;
    run(launch_for(THIS_OS, browser, &url))
}

/// Shows a folder of Punctual's own (the logs) in the OS's file manager. `$BROWSER` is not asked: it is
/// for web pages. The path goes as one argument, or as a `file:` URL where the handler takes URLs.
pub fn open_folder(dir: &std::path::Path) -> Result<(), String> {
    run(folder_launch_for(THIS_OS, dir)?)
}

/// What `os` is asked to run to show `dir`, which must be an absolute path.
fn folder_launch_for(os: Os, dir: &std::path::Path) -> Result<Launch, String> {
    if !dir.is_absolute() {
        return Err(format!("{} is not an absolute folder path", dir.display()));
    }
    let path = dir.to_string_lossy().into_owned();
    Ok(match os {
        // Explorer opens a folder path given to the "open" verb.
        Os::Windows => Launch::ShellOpen { file: path },
        Os::Mac => Launch::Exec {
            program: "/usr/bin/open".into(),
            args: vec![path],
        },
        Os::Unix => {
            // xdg-open takes a file: URL as well as a path; the URL cannot be read as an option.
            let url = url::Url::from_directory_path(dir)
                .map_err(|()| format!("{} cannot be written as a file: URL", dir.display()))?;
            Launch::Exec {
                program: "xdg-open".into(),
                args: vec![url.to_string()],
            }
        }
    })
}

/// Starts what [`launch_for`] or [`folder_launch_for`] chose.
fn run(launch: Launch) -> Result<(), String> {
    match launch {
        Launch::Exec { program, args } => {
            let child = Command::new(&program)
                .args(&args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .spawn()
                .map_err(|e| format!("cannot start {program}: {e}"))?;
            settle(child, GRACE)
        }
        Launch::ShellOpen { file } => shell_open(&file),
    }
}

/// The link as a URL Punctual is willing to open: http(s) with a host, or a native meeting app's scheme.
fn openable(raw: &str) -> Result<url::Url, String> {
    let url =
        url::Url::parse(raw.trim()).map_err(|e| format!("not a link Punctual can open: {e}"))?;
    let scheme = url.scheme();
    let web = matches!(scheme, "http" | "https");
    if web && url.host_str().is_none_or(str::is_empty) {
        return Err("not a link Punctual can open: it names no host".to_string());
    }
    let native = Native::ALL.iter().any(|n| n.scheme() == Some(scheme));
    if !(web || native) {
        return Err(format!(
            "Punctual opens only web and meeting-app links, not {scheme}: links"
        ));
    }
    Ok(url)
}

/// What `os` is asked to run for `url`. Every branch passes [`url::Url::as_str`] as one argument.
fn launch_for(os: Os, browser: Option<&str>, url: &url::Url) -> Launch {
    let link = url.as_str();
    let exec = |program: &str, args: Vec<String>| Launch::Exec {
        program: program.to_string(),
        args,
    };
    match os {
        Os::Windows => Launch::ShellOpen {
            file: link.to_string(),
        },
        Os::Mac => exec("/usr/bin/open", vec![link.to_string()]),
        Os::Unix => match browser_command(browser, link) {
            Some((program, args)) => exec(&program, args),
            None => exec("xdg-open", vec![link.to_string()]),
        },
    }
}

/// The first command of `$BROWSER` with the link in place of `%s`, or appended; `None` when it names none.
fn browser_command(browser: Option<&str>, link: &str) -> Option<(String, Vec<String>)> {
    let first = browser?.split(':').map(str::trim).find(|c| !c.is_empty())?;
    let mut parts: Vec<String> = first.split_whitespace().map(str::to_string).collect();
    if parts.iter().any(|p| p.contains("%s")) {
        parts = parts.into_iter().map(|p| p.replace("%s", link)).collect();
    } else {
        parts.push(link.to_string());
    }
    let program = parts.remove(0);
    Some((program, parts))
}

#[cfg(windows)]
fn shell_open(file: &str) -> Result<(), String> {
    use std::os::windows::ffi::OsStrExt;
    use windows_sys::Win32::UI::Shell::ShellExecuteW;
    use windows_sys::Win32::UI::WindowsAndMessaging::SW_SHOWNORMAL;
    let wide = |s: &str| {
        std::ffi::OsStr::new(s)
            .encode_wide()
            .chain(Some(0))
            .collect::<Vec<u16>>()
    };
    let (verb, file) = (wide("open"), wide(file));
    // SAFETY: both strings are NUL-terminated UTF-16 that outlive the call; null window, parameters and
    // directory are documented as allowed.
    let code = unsafe {
        ShellExecuteW(
            std::ptr::null_mut(),
            verb.as_ptr(),
            file.as_ptr(),
            std::ptr::null(),
            std::ptr::null(),
            SW_SHOWNORMAL,
        )
    } as isize;
    // ShellExecuteW documents a value above 32 as success and anything else as an error code.
    if code > 32 {
        Ok(())
    } else {
        Err(format!(
            "Windows could not open the link (ShellExecute error {code})"
        ))
    }
}

#[cfg(not(windows))]
fn shell_open(_file: &str) -> Result<(), String> {
    Err("ShellExecute exists only on Windows".to_string())
}

/// Waits up to `grace` for the opener to exit: a failure status is an error; still running is success.
fn settle(mut child: Child, grace: Duration) -> Result<(), String> {
    let deadline = Instant::now() + grace;
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => return Err(format!("the opener exited with {status}")),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                // A browser started in the foreground: it opened the link; reap it when it ends.
                std::thread::spawn(move || child.wait());
                return Ok(());
            }
            Err(e) => return Err(format!("cannot wait for the opener: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://meet.google.com/abc-defg-hij";

    /// Links holding every character a shell or cmd.exe would act on.
    const HOSTILE: &[&str] = &[
        "https://acme.zoom.us/j/123?pwd=x&calc",
        "zoommtg://acme.zoom.us/join?action=join&confno=123&pwd=a|calc",
        "https://example.com/a\"b\" & calc.exe",
        "https://example.com/%PATH%?q=%USERPROFILE%",
        "https://example.com/a^b^&calc",
        "https://example.com/x|calc|y",
        "https://example.com/has space?and more spaces",
        "https://example.com/line\nbreak&calc\r\n",
        "https://example.com/$(touch /tmp/pwned)`id`;id",
        "msteams:/l/meetup-join/19%3ameeting_X%40thread.v2/0?context=%7b%7d&x=1",
    ];

    fn plan(os: Os, browser: Option<&str>, raw: &str) -> Launch {
        let url = openable(raw).unwrap_or_else(|e| panic!("{raw:?} is an allowed scheme: {e}"));
        launch_for(os, browser, &url)
    }

    /// What the URL parser makes of `raw`: the only text that may reach the OS.
    fn serialized(raw: &str) -> String {
        url::Url::parse(raw.trim())
            .expect("parses")
            .as_str()
            .to_string()
    }

    #[test]
    fn windows_hands_the_parsed_link_to_shell_execute_and_never_to_cmd() {
        for raw in HOSTILE {
            assert_eq!(
                plan(Os::Windows, None, raw),
                Launch::ShellOpen {
                    file: serialized(raw)
                },
                "{raw:?}: Windows opens through ShellExecuteW, where no cmd.exe reads & | ^ %VAR%"
            );
            assert_eq!(
                plan(Os::Windows, Some("firefox"), raw),
                Launch::ShellOpen {
                    file: serialized(raw)
                },
                "{raw:?}: $BROWSER is a Unix convention; Windows always uses its URL handler"
            );
        }
    }

    #[test]
    fn macos_and_linux_pass_the_parsed_link_as_one_argument() {
        for raw in HOSTILE {
            let link = serialized(raw);
            assert!(
                !link.contains(['\n', '\r', ' ', '"', '`']),
                "{raw:?}: the serialization has no raw whitespace, quote or backtick: {link:?}"
            );
            assert_eq!(
                plan(Os::Mac, None, raw),
                Launch::Exec {
                    program: "/usr/bin/open".into(),
                    args: vec![link.clone()]
                },
                "{raw:?}: macOS runs open directly with the link as its only argument"
            );
            assert_eq!(
                plan(Os::Unix, None, raw),
                Launch::Exec {
                    program: "xdg-open".into(),
                    args: vec![link.clone()]
                },
                "{raw:?}: Linux runs xdg-open directly with the link as its only argument"
            );
            assert_eq!(
                plan(Os::Unix, Some("firefox --new-window"), raw),
                Launch::Exec {
                    program: "firefox".into(),
                    args: vec!["--new-window".into(), link.clone()]
                },
                "{raw:?}: $BROWSER is split on whitespace, and the link stays one argument"
            );
        }
    }

    #[test]
    fn the_link_is_the_parsers_serialization_not_the_raw_text() {
        assert_eq!(
            serialized("https://example.com/has space?and more"),
            "https://example.com/has%20space?and%20more",
            "spaces are percent-encoded, so the link cannot split into two arguments"
        );
        assert_eq!(
            serialized("https://example.com/line\nbreak"),
            "https://example.com/linebreak",
            "the URL standard drops newlines and tabs, so no second line reaches the opener"
        );
        assert_eq!(
            serialized("  https://example.com/a\"b  "),
            "https://example.com/a%22b",
            "quotes are encoded and surrounding blanks trimmed"
        );
    }

    #[test]
    fn only_web_and_meeting_app_schemes_are_opened() {
        for raw in [
            "file:///etc/passwd",
            "javascript:alert(1)",
            "ms-msdt:/id PCWDiagnostic",
            "search-ms:query=calc",
            "C:\\Windows\\System32\\calc.exe",
            "calc.exe",
            "&calc",
            "",
            "smb://attacker/share",
            "https://",
            "data:text/html,<script>1</script>",
        ] {
            assert!(
                openable(raw).is_err(),
                "{raw:?} is neither a web link nor a meeting app's: opening it could run or leak something"
            );
        }
        for raw in [
            URL,
            "http://127.0.0.1:8080/x",
            "zoommtg://zoom.us/join?action=join&confno=1",
            "msteams:/l/meetup-join/x",
            "webex://acme.webex.com/meet/x",
            "discord://-/channels/1/2",
        ] {
            assert!(
                openable(raw).is_ok(),
                "{raw:?} is a link Punctual builds or detects"
            );
        }
    }

    #[test]
    fn every_native_link_the_platform_table_builds_is_openable() {
        for p in crate::detect::platforms::PLATFORMS {
            if let Some(scheme) = p.native.scheme() {
                assert!(
                    Native::ALL.contains(&p.native),
                    "{}: Native::ALL lists every kind, so its scheme {scheme} is allowed",
                    p.id
                );
            }
        }
        for raw in [
            "https://acme.zoom.us/j/84512345678?pwd=abc",
            "https://teams.microsoft.com/l/meetup-join/19%3ameeting_X%40thread.v2/0?context=%7b%7d",
            "https://acme.webex.com/meet/alice",
        ] {
            let native = crate::detect::accept_url(raw)
                .ok()
                .and_then(|l| l.native_url)
                .unwrap_or_else(|| panic!("{raw} has a native link"));
            assert!(
                openable(&native).is_ok(),
                "{native}: a native link detection builds must pass the opener's allow-list"
            );
        }
    }

    #[test]
    fn browser_gets_the_link_at_the_end_or_in_place_of_percent_s() {
        assert_eq!(
            browser_command(Some("chromium --app=%s --x"), URL),
            Some((
                "chromium".to_string(),
                vec![format!("--app={URL}"), "--x".to_string()]
            )),
            "%s marks where the link goes"
        );
        assert_eq!(
            browser_command(Some(" :w3m:lynx"), URL),
            Some(("w3m".to_string(), vec![URL.to_string()])),
            "of a colon-separated list the first command is used"
        );
        assert_eq!(
            browser_command(Some("  "), URL),
            None,
            "a blank $BROWSER is no browser: the desktop's default handler opens the link"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_hostile_link_reaches_the_browser_as_one_argument_and_runs_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let argv = dir.path().join("argv");
        let pwned = dir.path().join("pwned");
        let browser = dir.path().join("browser");
        std::fs::write(
            &browser,
            format!(
                "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > '{}'\n",
                argv.display()
            ),
        )
        .expect("write the stand-in browser");
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755))
                .expect("make it executable");
        }
        let raw = format!(
            "https://acme.zoom.us/j/1?pwd=x&touch {p};touch {p}|touch {p}$(touch {p})",
            p = pwned.display()
        );
        open_with(Some(&browser.display().to_string()), &raw).expect("the stand-in browser runs");
        let got = std::fs::read_to_string(&argv).expect("the browser recorded its arguments");
        assert_eq!(
            got.lines().collect::<Vec<_>>(),
            vec![serialized(&raw)],
            "the browser gets exactly one argument: the parsed link"
        );
        assert!(
            !pwned.exists(),
            "no shell read the link, so none of its commands ran"
        );
        assert!(
            open_with(Some(&browser.display().to_string()), "file:///etc/passwd").is_err(),
            "a refused scheme never reaches the browser"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_failing_opener_is_an_error_and_a_running_one_counts_as_opened() {
        // No output: a child that outlives the test must not hold the test runner's pipes open.
        let spawn = |script: &str| {
            Command::new("sh")
                .args(["-c", script])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("sh starts")
        };
        assert!(
            settle(spawn("exit 3"), GRACE).is_err(),
            "an opener that fails must be reported, so the user learns the meeting did not open"
        );
        assert!(
            settle(spawn("exit 0"), GRACE).is_ok(),
            "an opener that succeeds opened the link"
        );
        // A browser that never exits: settle must answer while it still runs, not when it closes. The
        // minute is a bound on the answer arriving at all, not a speed.
        let browser = spawn("exec sleep 3600");
        let pid = browser.id().to_string();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || tx.send(settle(browser, Duration::from_millis(200))));
        let answer = rx.recv_timeout(Duration::from_secs(60));
        let _ = Command::new("kill").args(["-9", &pid]).status();
        assert!(
            matches!(answer, Ok(Ok(()))),
            "a browser still running after the grace period has the link open, and joining does not wait \
             for its window to close: {answer:?}"
        );
    }

    #[test]
    fn a_folder_goes_to_the_file_manager_as_one_argument_and_never_to_browser() {
        let dir = std::path::Path::new("/home/jo & co/.local/state/punctual/logs");
        assert_eq!(
            folder_launch_for(Os::Unix, dir),
            Ok(Launch::Exec {
                program: "xdg-open".into(),
                args: vec!["file:///home/jo%20&%20co/.local/state/punctual/logs/".into()],
            }),
            "xdg-open gets the folder as a file: URL, so no part of the path can read as an option"
        );
        assert_eq!(
            folder_launch_for(Os::Mac, dir),
            Ok(Launch::Exec {
                program: "/usr/bin/open".into(),
                args: vec![dir.to_string_lossy().into_owned()],
            }),
            "open gets the path as one argument of a process started without a shell"
        );
        assert_eq!(
            folder_launch_for(Os::Windows, dir),
            Ok(Launch::ShellOpen {
                file: dir.to_string_lossy().into_owned(),
            }),
            "Windows shows the folder through ShellExecute, never cmd.exe"
        );
        assert!(
            folder_launch_for(Os::Unix, std::path::Path::new("logs")).is_err(),
            "a relative path would depend on the working directory: refused"
        );
    }
}
