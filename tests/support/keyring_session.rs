//! A private D-Bus session with GNOME Keyring's Secret Service, for tests that run the `punctual` binary
//! with its real keychain backend. The session lives as long as the value: dropping it closes the shell's
//! stdin, the shell exits, and dbus-run-session tears down the bus and the keyring daemon with it.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub struct KeyringSession {
    child: Child,
    pub bus: String,
    pub home: tempfile::TempDir,
}

const SCRIPT: &str = r#"eval "$(printf pw | gnome-keyring-daemon --unlock --components=secrets)" >/dev/null
echo "BUS=$DBUS_SESSION_BUS_ADDRESS"
read _"#;

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl KeyringSession {
    /// Starts a session, or returns `None` (after a loud message) where the tools are not installed. In CI
    /// (`CI` set), whose setup installs them, their absence fails the test instead: a skipped keychain test
    /// must not pass there unnoticed.
    pub fn start() -> Option<KeyringSession> {
        if !have("dbus-run-session") || !have("gnome-keyring-daemon") {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must test the real keychain path: dbus-run-session and gnome-keyring-daemon are \
                 installed by scripts/setup-debian.sh"
            );
            eprintln!(
                "\n!!!!! SKIPPED: dbus-run-session or gnome-keyring-daemon is missing (apt install dbus-x11 \
                 gnome-keyring); the real keychain path was not tested !!!!!\n"
            );
            return None;
        }
        let home = tempfile::tempdir().expect("a temp home for the keyring");
        let mut child = Command::new("dbus-run-session")
            .args(["--", "sh", "-c", SCRIPT])
            .env("HOME", home.path())
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env("XDG_RUNTIME_DIR", home.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-run-session starts");
        let out = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(out)
            .read_line(&mut line)
            .expect("the session prints its bus address");
        let bus = line
            .trim()
            .strip_prefix("BUS=")
            .unwrap_or_default()
            .to_string();
        assert!(!bus.is_empty(), "the session has a bus address: {line:?}");
        Some(KeyringSession { child, bus, home })
    }

    /// A `punctual` command inside this session, on `data_dir`.
    pub fn punctual(&self, data_dir: &Path) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_punctual"));
        c.env("DBUS_SESSION_BUS_ADDRESS", &self.bus)
            .env("HOME", self.home.path())
            .env("XDG_DATA_HOME", self.home.path().join("data"))
            .env("PUNCTUAL_DATA_DIR", data_dir)
            .env("PUNCTUAL_TIME_ZONE", "Europe/Berlin")
            .env_remove("PUNCTUAL_GOOGLE_CLIENT_ID")
            .env_remove("PUNCTUAL_GOOGLE_CLIENT_SECRET");
        c
    }

    /// Every secret Punctual filed in this keyring (by `secret-tool search`), as text.
    pub fn stored(&self) -> String {
        let out = Command::new("secret-tool")
            .args(["search", "--all", "service", "app.punctual"])
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus)
            .env("HOME", self.home.path())
            .output();
        match out {
            Ok(o) => format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) => format!("secret-tool failed: {e}"),
        }
    }

    pub fn home(&self) -> PathBuf {
        self.home.path().to_path_buf()
    }
}

impl Drop for KeyringSession {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}
