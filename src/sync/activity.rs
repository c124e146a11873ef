//! What an account's connect or sync looks like while it runs: one sentence per step for the CLI's stderr,
//! and [`SyncActivity`] for the desktop's connections page, which shows the latest one under the account.

use super::Progress;
use serde::Serialize;

impl Progress {
    /// The step as a sentence for people, without the connection it belongs to.
    pub fn message(&self) -> String {
        match self {
            Progress::Calendars { count } => match count {
                1 => "1 calendar to sync".to_string(),
                n => format!("{n} calendars to sync"),
            },
            Progress::Page { changes, total, .. } => {
                format!("{} received ({total} so far)", changes_text(*changes))
            }
            Progress::FullResync { .. } => {
                "the sync token expired; syncing everything again".to_string()
            }
            Progress::Retry { attempt, wait, why } => {
                format!("{why}; retry {attempt} in {:.1} s", wait.as_secs_f64())
            }
        }
    }
}

fn changes_text(n: usize) -> String {
    match n {
        1 => "1 change".to_string(),
        n => format!("{n} changes"),
    }
}

/// Where a connect or sync is.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncStage {
    /// The sign-in page is open in the browser; the app waits for its redirect.
    WaitingForBrowser,
    Syncing,
    Done,
    Failed,
}

/// One step of a connect or sync, as the desktop emits it to the window.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SyncActivity {
    /// The connection, or `None` while a new account is still signing in.
    pub connection_id: Option<String>,
    pub stage: SyncStage,
    /// Changes received so far in this run.
    pub changes: u32,
    pub message: String,
}

impl SyncActivity {
    /// A running sync's step.
    pub fn step(connection_id: &str, p: &Progress) -> SyncActivity {
        let changes = match p {
            Progress::Page { total, .. } => *total,
            _ => 0,
        };
        SyncActivity {
            connection_id: Some(connection_id.to_string()),
            stage: SyncStage::Syncing,
            changes: u32::try_from(changes).unwrap_or(u32::MAX),
            message: p.message(),
        }
    }

    /// The end of one connection's sync.
    pub fn done(report: &super::SyncReport) -> SyncActivity {
        SyncActivity {
            connection_id: Some(report.connection_id.clone()),
            stage: SyncStage::Done,
            changes: u32::try_from(report.changes).unwrap_or(u32::MAX),
            message: match report.changes {
                0 => "Up to date".to_string(),
                n => format!("Synced: {} received", changes_text(n)),
            },
        }
    }

    /// A failed connect or sync, with the error's message.
    pub fn failed(connection_id: Option<&str>, message: &str) -> SyncActivity {
        SyncActivity {
            connection_id: connection_id.map(str::to_string),
            stage: SyncStage::Failed,
            changes: 0,
            message: message.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn each_step_reads_as_a_sentence() {
        assert_eq!(
            Progress::Page {
                calendar: "c".into(),
                changes: 1,
                total: 2501
            }
            .message(),
            "1 change received (2501 so far)",
            "one change is singular, and the running total is shown"
        );
        assert_eq!(
            Progress::Calendars { count: 3 }.message(),
            "3 calendars to sync",
            "the calendar count is plural above one"
        );
        let retry = Progress::Retry {
            attempt: 2,
            wait: Duration::from_millis(1500),
            why: "HTTP 429".into(),
        };
        assert_eq!(
            retry.message(),
            "HTTP 429; retry 2 in 1.5 s",
            "a retry says why and when"
        );
    }

    #[test]
    fn a_sync_that_found_nothing_new_says_up_to_date() {
        let report = |changes| super::super::SyncReport {
            connection_id: "conn".into(),
            changes,
            ..Default::default()
        };
        assert_eq!(
            SyncActivity::done(&report(0)).message,
            "Up to date",
            "\"Synced: 0 changes\" reads like a failure to a user"
        );
        assert_eq!(
            SyncActivity::done(&report(3)).message,
            "Synced: 3 changes received",
            "a sync that brought changes says how many"
        );
    }

    #[test]
    fn a_page_step_carries_the_running_total() {
        let a = SyncActivity::step(
            "conn",
            &Progress::Page {
                calendar: "c".into(),
                changes: 2500,
                total: 5000,
            },
        );
        assert_eq!(
            (a.stage, a.changes),
            (SyncStage::Syncing, 5000),
            "the window shows how many changes arrived so far, not the last page's"
        );
    }
}
