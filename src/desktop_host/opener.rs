//! Opening a meeting link: `$BROWSER` when set, else the platform's opener (`xdg-open`, `open`, `start`).
//!
//! `$BROWSER` follows the old Unix convention: a command, with `%s` standing for the link if it wants it
//! elsewhere than at the end, and possibly several commands separated by `:`, of which the first is used.
//! The opener is given a moment to fail (a missing program, `xdg-open` finding no handler); a browser that
//! is still running after that counts as opened and is reaped in the background, so that neither the CLI nor
//! the desktop app waits for the browser window to close.

use crate::join::Opener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long an opener may take to report failure before the link counts as opened.
const GRACE: Duration = Duration::from_secs(3);

/// `$BROWSER`, then the platform's opener.
pub struct SystemOpener;

impl Opener for SystemOpener {
    fn open(&self, url: &str) -> Result<(), String> {
        let argv = command_for(std::env::var("BROWSER").ok().as_deref(), url);
        let Some((program, args)) = argv.split_first() else {
            return Err("no command to open the link with".to_string());
        };
        let child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {program}: {e}"))?;
        settle(child, GRACE)
    }
}

/// The command line that opens `url`, given the value of `$BROWSER`.
fn command_for(browser: Option<&str>, url: &str) -> Vec<String> {
    let first = browser
        .and_then(|b| b.split(':').map(str::trim).find(|c| !c.is_empty()))
        .map(|c| c.split_whitespace().map(str::to_string).collect::<Vec<_>>());
    match first {
        Some(mut parts) => {
            if parts.iter().any(|p| p.contains("%s")) {
                parts = parts.into_iter().map(|p| p.replace("%s", url)).collect();
            } else {
                parts.push(url.to_string());
            }
            parts
        }
        None if cfg!(target_os = "macos") => vec!["open".into(), url.into()],
        // `start` treats its first quoted argument as a window title, hence the empty one.
        None if cfg!(windows) => vec![
            "cmd".into(),
            "/C".into(),
            "start".into(),
            String::new(),
            url.into(),
        ],
        None => vec!["xdg-open".into(), url.into()],
    }
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

    #[test]
    fn browser_gets_the_link_at_the_end_or_in_place_of_percent_s() {
        assert_eq!(
            command_for(Some("firefox --new-window"), URL),
            vec!["firefox", "--new-window", URL],
            "a plain command gets the link appended"
        );
        assert_eq!(
            command_for(Some("chromium --app=%s --x"), URL),
            vec![
                "chromium".to_string(),
                format!("--app={URL}"),
                "--x".to_string()
            ],
            "%s marks where the link goes"
        );
        assert_eq!(
            command_for(Some(" :w3m:lynx"), URL),
            vec!["w3m", URL],
            "of a colon-separated list the first command is used"
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn without_browser_linux_uses_xdg_open() {
        assert_eq!(
            command_for(Some("  "), URL),
            vec!["xdg-open", URL],
            "a blank $BROWSER is no browser: the desktop's default handler opens the link"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_failing_opener_is_an_error_and_a_running_one_counts_as_opened() {
        let spawn = |script: &str| {
            Command::new("sh")
                .args(["-c", script])
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
        let started = Instant::now();
        assert!(
            settle(spawn("sleep 5"), Duration::from_millis(200)).is_ok(),
            "a browser still running after the grace period has the link open"
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "joining must not wait for the browser window to close"
        );
    }
}
