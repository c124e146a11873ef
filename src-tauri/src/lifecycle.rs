//! The main window's life: created from its entry in tauri.conf.json (which has `"create": false`), closed
//! for real, and created again from the same entry. The app itself lives on in the tray until Quit.
//!
//! Closing destroys the webview rather than hiding it, so that a closed Punctual costs no WebKit memory.
//! On Linux, Tauri keeps the WebKit context for the app's lifetime (tauri-apps/tauri#14626, after
//! wry#590), and WebKit keeps that context's network process running with no page left. Once the window is
//! gone, [`after_main_closed`] ends that one child process; WebKit starts a new one with the next window,
//! as Ulauncher does for its preferences window (Ulauncher#1064).
//!
//! One instance runs per data directory: a second launch on the same data hands over to the first (which
//! shows its window) and exits. Different data directories (`PUNCTUAL_DATA_DIR`) are different calendars,
//! so they may run side by side.

use tauri::{AppHandle, Manager, WebviewWindow, WebviewWindowBuilder};

/// The main window's label, as in tauri.conf.json and capabilities/default.json.
pub const MAIN: &str = "main";
/// The command-line flag that starts Punctual in the tray without a window (start at login uses it).
pub const TRAY_FLAG: &str = "--tray";

/// Shows the main window, creating it if it was closed, and gives it focus.
pub fn open_main(app: &AppHandle) -> tauri::Result<WebviewWindow> {
    if let Some(window) = app.get_webview_window(MAIN) {
        window.unminimize()?;
        window.show()?;
        window.set_focus()?;
        return Ok(window);
    }
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|w| w.label == MAIN)
        .cloned()
        .ok_or_else(|| tauri::Error::WindowNotFound)?;
    let window = WebviewWindowBuilder::from_config(app, &config)?.build()?;
    window.set_focus()?;
    Ok(window)
}

/// [`open_main`] for event handlers, which have nowhere to return an error to.
pub fn open_main_logged(app: &AppHandle) {
    if let Err(e) = open_main(app) {
        eprintln!("punctual-desktop: cannot open the window: {e}");
    }
}

/// Whether this launch should stay in the tray (start at login) instead of opening the window.
pub fn starts_in_tray(args: impl IntoIterator<Item = String>) -> bool {
    args.into_iter().any(|a| a == TRAY_FLAG)
}

/// The D-Bus name that makes the app single-instance for one data directory (the single-instance plugin
/// appends ".SingleInstance"). The OS data directory keeps the plain app identifier; another directory
/// adds a stable hash of its path. FNV-1a rather than std's hasher, whose output may change between Rust
/// releases: an upgraded Punctual must still find the running one.
pub fn instance_id(
    identifier: &str,
    data_dir: Option<&std::path::Path>,
    default_dir: Option<&std::path::Path>,
) -> String {
    match data_dir {
        Some(dir) if Some(dir) != default_dir => {
            let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
            for b in dir.as_os_str().as_encoded_bytes() {
                hash ^= u64::from(*b);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
            // A D-Bus name element must not start with a digit, hence the "d".
            format!("{identifier}.d{hash:016x}")
        }
        _ => identifier.to_string(),
    }
}

/// After the main window is destroyed: end WebKit's idle network process (see the module's comment).
/// Waits a moment first, so that the page has finished closing, and does nothing if a window is open again.
pub fn after_main_closed(app: &AppHandle) {
    #[cfg(target_os = "linux")]
    {
        let app = app.clone();
        let spawned = std::thread::Builder::new()
            .name("punctual-reap".into())
            .spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(800));
                if app.webview_windows().is_empty() {
                    webkit::end_network_process();
                }
            });
        if let Err(e) = spawned {
            eprintln!("punctual-desktop: cannot start the WebKit clean-up: {e}");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = app;
}

#[cfg(target_os = "linux")]
mod webkit {
    use rustix::process::{kill_process, Pid, Signal};

    /// The kernel's 15-character `comm` of WebKit's network process.
    const NETWORK_COMM: &str = "WebKitNetworkPr";

    /// Sends SIGTERM to this process's WebKit network process children.
    pub fn end_network_process() {
        for pid in children_named(std::process::id(), NETWORK_COMM) {
            if let Some(pid) = i32::try_from(pid).ok().and_then(Pid::from_raw) {
                if let Err(e) = kill_process(pid, Signal::TERM) {
                    eprintln!("punctual-desktop: cannot end WebKit's network process {pid:?}: {e}");
                }
            }
        }
    }

    /// The pids of `parent`'s children whose command name starts with `prefix`, from /proc.
    pub fn children_named(parent: u32, prefix: &str) -> Vec<u32> {
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| {
                std::fs::read_to_string(format!("/proc/{pid}/stat"))
                    .ok()
                    .is_some_and(|stat| {
                        parse_stat(&stat)
                            .is_some_and(|(comm, ppid)| ppid == parent && comm.starts_with(prefix))
                    })
            })
            .collect()
    }

    /// (comm, ppid) from a /proc/PID/stat line. The name is in parentheses and may itself hold spaces and
    /// parentheses, so the fields after it are read from the last ')'. (proc(5))
    pub fn parse_stat(stat: &str) -> Option<(&str, u32)> {
        let open = stat.find('(')?;
        let close = stat.rfind(')')?;
        let comm = stat.get(open + 1..close)?;
        let mut rest = stat.get(close + 1..)?.split_whitespace();
        let _state = rest.next()?;
        let ppid = rest.next()?.parse().ok()?;
        Some((comm, ppid))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn stat_lines_give_the_name_and_parent_even_with_odd_names() {
            assert_eq!(
                parse_stat("4242 (WebKitNetworkPr) S 4100 4100 4100 0 -1"),
                Some(("WebKitNetworkPr", 4100)),
                "the plain case"
            );
            assert_eq!(
                parse_stat("7 (a) b (c) R 1 7 7 0"),
                Some(("a) b (c", 1)),
                "a name with parentheses and spaces must not shift the parent pid"
            );
            assert_eq!(parse_stat("garbage"), None, "an unreadable line is skipped");
        }

        #[test]
        fn children_are_found_by_parent_and_name() {
            let mut child = std::process::Command::new("sleep")
                .arg("5")
                .spawn()
                .expect("sleep starts");
            let found = children_named(std::process::id(), "sleep");
            let _ = child.kill();
            let _ = child.wait();
            assert!(
                found.contains(&child.id()),
                "a child of this process is found by its name: {found:?}"
            );
            assert!(
                children_named(std::process::id(), NETWORK_COMM).is_empty(),
                "a test process has no WebKit child, so nothing would be ended"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn each_data_directory_is_its_own_instance() {
        let default = Path::new("/home/u/.local/share/punctual");
        let id = |d: &str| instance_id("app.punctual.desktop", Some(Path::new(d)), Some(default));
        assert_eq!(
            instance_id("app.punctual.desktop", Some(default), Some(default)),
            "app.punctual.desktop",
            "the usual data directory keeps the plain identifier"
        );
        assert_eq!(
            id("/tmp/a"),
            id("/tmp/a"),
            "the same directory always finds the same instance"
        );
        assert_ne!(
            id("/tmp/a"),
            id("/tmp/b"),
            "another directory is another calendar, another instance"
        );
        let name = id("/tmp/a");
        let last = name.rsplit('.').next().unwrap_or_default();
        assert!(
            last.starts_with('d') && last.len() == 17,
            "a valid D-Bus name element (no leading digit): {name}"
        );
    }

    #[test]
    fn the_tray_flag_is_recognised() {
        assert!(
            starts_in_tray(["punctual-desktop".into(), TRAY_FLAG.into()]),
            "start at login passes --tray"
        );
        assert!(
            !starts_in_tray(["punctual-desktop".to_string()]),
            "a normal launch opens the window"
        );
    }
}
