//! Opening a meeting link from the command line: `$BROWSER` when set (a command, with `%s` for the link if
//! it wants it elsewhere than at the end), else the platform's opener.

use punctual::join::Opener;
use std::process::{Command, Stdio};

pub struct SystemOpener;

impl Opener for SystemOpener {
    fn open(&self, url: &str) -> Result<(), String> {
        let mut cmd = match std::env::var("BROWSER")
            .ok()
            .filter(|b| !b.trim().is_empty())
        {
            Some(b) => {
                let mut parts = b.split_whitespace().map(str::to_string).collect::<Vec<_>>();
                if parts.iter().any(|p| p.contains("%s")) {
                    parts = parts.into_iter().map(|p| p.replace("%s", url)).collect();
                } else {
                    parts.push(url.to_string());
                }
                let mut c = Command::new(&parts[0]);
                c.args(&parts[1..]);
                c
            }
            None if cfg!(target_os = "macos") => {
                let mut c = Command::new("open");
                c.arg(url);
                c
            }
            None if cfg!(windows) => {
                // `start` treats its first quoted argument as a window title, hence the empty one.
                let mut c = Command::new("cmd");
                c.args(["/C", "start", "", url]);
                c
            }
            None => {
                let mut c = Command::new("xdg-open");
                c.arg(url);
                c
            }
        };
        let status = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status()
            .map_err(|e| format!("cannot start the opener: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("the opener exited with {status}"))
        }
    }
}
