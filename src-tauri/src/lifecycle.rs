//! The main window's life: created from its entry in tauri.conf.json (which has `"create": false`), closed
//! for real, and created again from the same entry. The app itself lives on in the tray until Quit.
//!
//! A process runs in one of two [`Mode`]s. With the window, it is a WebKit app. Tray-only (start at login,
//! or once the window is closed) it never starts WebKit: it shows the tray, runs the reminders and nothing
//! else. Switching replaces the process image with a fresh one in the other mode ([`switch_to`]: same pid,
//! same data, the window's size and position saved first). That is the only way to give back what WebKit
//! and the GL stack leave mapped in a process that once showed a page (about 90 MB, measured with
//! scripts/bench-desktop.sh); in tray-only mode GDK's GL is also off (`GDK_GL=disable`), since no window
//! will need it. The cost is a cold start when the window opens again. Plans and notifications survive the
//! switch as they survive any restart: the due loop sends nothing twice.
//!
//! Where the switch cannot happen (the exec failed), the window is simply destroyed in-process. On Linux,
//! Tauri keeps the WebKit context for the app's lifetime (tauri-apps/tauri#14626, after wry#590), and WebKit
//! keeps that context's network process running with no page left, so [`after_main_closed`] ends that one
//! child process; WebKit starts a new one with the next window, as Ulauncher does (Ulauncher#1064).
//!
//! One instance runs per data directory: a second launch on the same data hands over to the first (which
//! shows its window) and exits. Different data directories (`PUNCTUAL_DATA_DIR`) are different calendars,
//! so they may run side by side.

use std::sync::atomic::{AtomicBool, Ordering};
use tauri::{AppHandle, Manager, WebviewWindowBuilder};

/// The main window's label, as in tauri.conf.json and capabilities/default.json.
pub const MAIN: &str = "main";
/// The command-line flag that starts Punctual in the tray without a window (start at login uses it).
pub const TRAY_FLAG: &str = "--tray";
/// Set (to "1") when Punctual itself turned GDK's GL off for a tray-only process, so that the window
/// process it becomes gets GL back. A `GDK_GL` the user set is left alone.
const GL_OFF_BY_US: &str = "PUNCTUAL_TRAY_GDK_GL";

/// Set once the user quit: the window closing then must not switch to tray-only mode.
static QUITTING: AtomicBool = AtomicBool::new(false);

/// How this process runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// With the main window (a normal launch).
    Window,
    /// Tray and reminders only; WebKit is never started.
    TrayOnly,
}

/// The mode a process started with these arguments runs in.
pub fn mode(args: impl IntoIterator<Item = String>) -> Mode {
    if args.into_iter().any(|a| a == TRAY_FLAG) {
        Mode::TrayOnly
    } else {
        Mode::Window
    }
}

/// Marks the app as quitting (Quit, or an exit with a code).
pub fn quitting() {
    QUITTING.store(true, Ordering::SeqCst);
}

/// Before anything starts: a tray-only launch whose environment still has GDK's GL on switches it off, by
/// starting again at once (the environment cannot be changed safely once threads may run).
pub fn prepare(mode: Mode) {
    if mode == Mode::TrayOnly && std::env::var_os("GDK_GL").is_none() {
        let e = exec(Mode::TrayOnly);
        eprintln!("punctual-desktop: staying with GDK's GL on: {e}");
    }
}

/// Replaces this process with a fresh one in `mode`, after saving the window's place and stopping the
/// reminders between two ticks. Returns only if that failed.
pub fn switch_to(app: &AppHandle, mode: Mode) -> std::io::Error {
    use tauri_plugin_window_state::{AppHandleExt, StateFlags};
    if let Err(e) =
        app.save_window_state(StateFlags::SIZE | StateFlags::POSITION | StateFlags::MAXIMIZED)
    {
        eprintln!("punctual-desktop: the window's place is not saved: {e}");
    }
    let due = app.try_state::<crate::reminders::DueLoop>();
    if let Some(due) = &due {
        due.stop();
    }
    // The new image would not know these children, and they would stay as zombies.
    #[cfg(target_os = "linux")]
    webkit::end_children(std::time::Duration::from_secs(3));
    let failed = exec(mode);
    if let Some(due) = &due {
        if let Err(e) = due.resume() {
            eprintln!("punctual-desktop: reminders did not restart: {e}");
        }
    }
    failed
}

/// Linux only: it is where the saving was measured, and elsewhere the app bundle's launch services expect
/// the process they started.
#[cfg(target_os = "linux")]
fn exec(mode: Mode) -> std::io::Error {
    use std::os::unix::process::CommandExt;
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return e,
    };
    let mut cmd = std::process::Command::new(exe);
    cmd.args(std::env::args().skip(1).filter(|a| a != TRAY_FLAG));
    match mode {
        Mode::TrayOnly => {
            cmd.arg(TRAY_FLAG);
            if std::env::var_os("GDK_GL").is_none() {
                cmd.env("GDK_GL", "disable").env(GL_OFF_BY_US, "1");
            }
        }
        Mode::Window => {
            if std::env::var_os(GL_OFF_BY_US).is_some() {
                cmd.env_remove("GDK_GL").env_remove(GL_OFF_BY_US);
            }
        }
    }
    cmd.exec()
}

#[cfg(not(target_os = "linux"))]
fn exec(_mode: Mode) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "the window closes in-process here",
    )
}

/// Shows the main window, creating it if it was closed, and gives it focus. In tray-only mode, becomes the
/// window process instead. A new window appears once its page runs ([`crate::reveal`]).
pub fn open_main(app: &AppHandle) -> tauri::Result<()> {
    if let Some(window) = app.get_webview_window(MAIN) {
        window.unminimize()?;
        window.show()?;
        window.set_focus()?;
        return Ok(());
    }
    if app.try_state::<Mode>().as_deref() == Some(&Mode::TrayOnly) {
        let e = switch_to(app, Mode::Window);
        // The exec failed: open the window in this process after all.
        eprintln!("punctual-desktop: opening the window in the tray process: {e}");
    }
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|w| w.label == MAIN)
        .cloned()
        .ok_or_else(|| tauri::Error::WindowNotFound)?;
    let builder = WebviewWindowBuilder::from_config(app, &config)?;
    let window = crate::startup_trace::instrument(crate::reveal::hidden(builder)).build()?;
    crate::reveal::at_the_latest(&window);
    Ok(())
}

/// [`open_main`] for a second launch that handed over over D-Bus. A tray-only process becomes the window
/// process a moment later, so that the reply reaches the second launch first: replaced before replying,
/// it would leave the caller with "no reply" and a failed exit.
pub fn open_main_for_second_launch(app: &AppHandle) {
    if app.try_state::<Mode>().as_deref() != Some(&Mode::TrayOnly) {
        return open_main_logged(app);
    }
    let app = app.clone();
    let spawned = std::thread::Builder::new()
        .name("punctual-open".into())
        .spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            let main = app.clone();
            if let Err(e) = app.run_on_main_thread(move || open_main_logged(&main)) {
                eprintln!("punctual-desktop: cannot open the window: {e}");
            }
        });
    if let Err(e) = spawned {
        eprintln!("punctual-desktop: cannot open the window: {e}");
    }
}

/// [`open_main`] for event handlers, which have nowhere to return an error to.
pub fn open_main_logged(app: &AppHandle) {
    if let Err(e) = open_main(app) {
        eprintln!("punctual-desktop: cannot open the window: {e}");
    }
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

/// After the main window is destroyed: become the tray-only process, unless the user is quitting or there
/// is no tray to live in. If that fails, end WebKit's idle network process (see the module's comment),
/// after a moment so that the page has finished closing, and only if no window is open again.
pub fn after_main_closed(app: &AppHandle) {
    if QUITTING.load(Ordering::SeqCst) || app.try_state::<crate::tray::Tray>().is_none() {
        return;
    }
    let e = switch_to(app, Mode::TrayOnly);
    eprintln!("punctual-desktop: staying in the window process: {e}");
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
    use rustix::process::{kill_process, waitpid, Pid, Signal, WaitOptions};
    use std::time::{Duration, Instant};

    /// The kernel's 15-character `comm` of WebKit's network process.
    const NETWORK_COMM: &str = "WebKitNetworkPr";

    /// Ends every WebKit child of this process and reaps it: SIGTERM, then SIGKILL for any still running
    /// after `grace`.
    pub fn end_children(grace: Duration) {
        let mut left: Vec<Pid> = children_named(std::process::id(), "WebKit")
            .into_iter()
            .filter_map(|pid| i32::try_from(pid).ok().and_then(Pid::from_raw))
            .collect();
        for pid in &left {
            let _ = kill_process(*pid, Signal::TERM);
        }
        let deadline = Instant::now() + grace;
        while !left.is_empty() && Instant::now() < deadline {
            // Reaped here, or already by GLib's child watch (ECHILD): either way it is gone.
            left.retain(|pid| matches!(waitpid(Some(*pid), WaitOptions::NOHANG), Ok(None)));
            std::thread::sleep(Duration::from_millis(20));
        }
        // Past the grace period (a loaded machine), no more asking: a killed process exits at once.
        for pid in left {
            let _ = kill_process(pid, Signal::KILL);
            let _ = waitpid(Some(pid), WaitOptions::empty());
        }
    }

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
        assert_eq!(
            mode(["punctual-desktop".into(), TRAY_FLAG.into()]),
            Mode::TrayOnly,
            "start at login passes --tray"
        );
        assert_eq!(
            mode(["punctual-desktop".to_string()]),
            Mode::Window,
            "a normal launch opens the window"
        );
    }
}
