//! The log a user can send with a bug report: one rotating file per day in the OS's log folder, written
//! through `tracing`.
//!
//! What goes in is decided where it is logged, and is only ever ids, counts, durations, states and error
//! codes: each sync (provider, calendar id, pages, changes, duration, outcome), each outbox push, each
//! reminder fired or caught up, each failure with its code. Never a token, a secret, an event's title,
//! description or location, or an attendee: a log is sent to strangers. (A test reads the log after a
//! connect, a refresh and a sync for the tokens and the titles it used, and finds none.)
//!
//! - Where: `$PUNCTUAL_LOG_DIR` if set; else `$XDG_STATE_HOME/punctual/logs` (`~/.local/state/...`) on
//!   Linux, `~/Library/Logs/Punctual` on macOS, `%LOCALAPPDATA%\Punctual\Logs` on Windows.
//! - How much: `PUNCTUAL_LOG` takes `RUST_LOG`-style directives (`debug`, `punctual::sync=debug,warn`);
//!   the default is `info`. Files rotate daily and the last [`KEEP_FILES`] are kept.

use crate::error::{Error, ErrorCode, Result};
use std::path::{Path, PathBuf};

/// The name every log file starts with (`punctual.log.2026-12-07`).
pub const FILE_PREFIX: &str = "punctual.log";
/// How many daily files are kept.
pub const KEEP_FILES: usize = 7;

/// The folder the log files go to.
pub fn log_dir() -> Result<PathBuf> {
    if let Some(d) = std::env::var_os("PUNCTUAL_LOG_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d));
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let dir = if cfg!(windows) {
        std::env::var_os("LOCALAPPDATA").map(|d| PathBuf::from(d).join("Punctual").join("Logs"))
    } else if cfg!(target_os = "macos") {
        home.map(|h| h.join("Library").join("Logs").join("Punctual"))
    } else {
        std::env::var_os("XDG_STATE_HOME")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .or_else(|| home.map(|h| h.join(".local").join("state")))
            .map(|d| d.join("punctual").join("logs"))
    };
    dir.ok_or_else(|| {
        Error::new(
            ErrorCode::Storage,
            "no folder for the log: set PUNCTUAL_LOG_DIR (or HOME)",
        )
    })
}

/// Keeps the log writer running; dropping it flushes what is buffered. Hold it for the process's life.
pub struct LogGuard(#[allow(dead_code)] tracing_appender::non_blocking::WorkerGuard);

/// Starts logging to the daily file for the rest of the process. Best effort: a log folder that cannot be
/// made leaves the program running without a log (it says so on stderr once), since no command should fail
/// for want of one.
pub fn init() -> Option<LogGuard> {
    let dir = log_dir().ok()?;
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("punctual: no log is written: {}: {e}", dir.display());
        return None;
    }
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix(FILE_PREFIX)
        .max_log_files(KEEP_FILES)
        .build(&dir)
        .ok()?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = tracing_subscriber::EnvFilter::try_from_env("PUNCTUAL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let installed = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .with_target(true)
        .try_init();
    installed.ok().map(|_| LogGuard(guard))
}

/// The log files in `dir`, oldest first.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with(FILE_PREFIX))
                })
                .collect()
        })
        .unwrap_or_default();
    // The date suffix sorts as the days do.
    files.sort();
    files
}

/// The last `n` lines of the log, across the newest files.
pub fn tail(dir: &Path, n: usize) -> Vec<String> {
    let mut lines = std::collections::VecDeque::with_capacity(n + 1);
    for f in files(dir) {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        for l in text.lines() {
            lines.push_back(l.to_string());
            if lines.len() > n {
                lines.pop_front();
            }
        }
    }
    lines.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_reads_the_newest_lines_across_the_days_in_order() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("punctual.log.2026-12-06"), "a\nb\nc\n").expect("write");
        std::fs::write(dir.path().join("punctual.log.2026-12-07"), "d\ne\n").expect("write");
        std::fs::write(dir.path().join("other.txt"), "x\n").expect("write");
        assert_eq!(
            tail(dir.path(), 3),
            vec!["c", "d", "e"],
            "the last lines come from the newest days, oldest first, and only from log files"
        );
        assert_eq!(
            files(dir.path()).len(),
            2,
            "files other than the log's are not the log"
        );
    }
}
