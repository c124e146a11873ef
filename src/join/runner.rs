//! What the due loop needs from its host: a way to notify, a way to open a link, and whether the screen is
//! locked. The desktop shell implements them with the OS; the CLI and the tests with their own.

use chrono::{DateTime, Utc};

/// The loop never sleeps longer than this, and checks the wall clock each time it wakes, because monotonic
/// timers stop while the machine sleeps.
pub const MAX_SLEEP_SECS: i64 = 15;

/// Why a notification is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// The optional early reminder.
    Early,
    /// The main reminder before the start.
    Due,
    /// Sent after the start because the loop was not running or the machine slept.
    CatchUp,
    /// A repeat of an unanswered reminder.
    Nag,
}

/// A reminder to show. Hosts that support actions offer Join, Snooze 1 min, Snooze 5 min and Dismiss;
/// others join on click.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Notification {
    pub plan_id: String,
    pub occurrence_id: String,
    pub kind: NotificationKind,
    pub title: String,
    pub body: String,
    pub start: DateTime<Utc>,
    pub platform: Option<String>,
    pub has_link: bool,
}

pub trait Notifier: Send + Sync {
    fn notify(&self, n: &Notification) -> Result<(), String>;
}

pub trait Opener: Send + Sync {
    fn open(&self, url: &str) -> Result<(), String>;
}

pub trait ScreenLock: Send + Sync {
    fn is_locked(&self) -> bool;
}

/// A screen that is never reported locked, where the host cannot tell.
pub struct NeverLocked;

impl ScreenLock for NeverLocked {
    fn is_locked(&self) -> bool {
        false
    }
}
