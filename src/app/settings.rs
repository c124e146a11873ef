//! The user's preferences for the desktop app: theme, week start, time format, start at login and the
//! global join shortcut.
//!
//! They live in the store beside the join rules (which hold the reminder lead time), so the CLI, the desktop
//! shell and a second window all read the same values. Unknown fields in a stored value are ignored and
//! missing ones take their default, so a newer or older version of the app never loses the rest.

use super::App;
use crate::error::{Error, ErrorCode, Result};
use crate::store::bad_setting;
use serde::{Deserialize, Serialize};

const SETTINGS_KEY: &str = "app_settings";
/// Longer than any accelerator a person types ("CommandOrControl+Shift+Alt+F12" is 31).
const MAX_SHORTCUT_CHARS: usize = 64;
const MODIFIERS: &[&str] = &[
    "shift",
    "ctrl",
    "control",
    "alt",
    "option",
    "super",
    "cmd",
    "command",
    "meta",
    "cmdorctrl",
    "commandorcontrol",
];

/// The colour scheme.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    /// Follow the operating system.
    #[default]
    System,
    Light,
    Dark,
}

/// The first day of the week in the calendar views.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum WeekStart {
    #[default]
    Monday,
    Sunday,
    Saturday,
}

/// How times of day are written.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TimeFormat {
    /// The locale's convention.
    #[default]
    Auto,
    /// 14:30.
    H24,
    /// 2:30 PM.
    H12,
}

/// The desktop preferences. The reminder lead time is in [`crate::join::JoinRules`].
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Settings {
    pub theme: Theme,
    pub week_start: WeekStart,
    pub time_format: TimeFormat,
    /// Start Punctual (to the tray) when the user logs in.
    pub start_at_login: bool,
    /// A global shortcut that joins the next meeting, as an accelerator such as "CmdOrCtrl+Shift+J".
    /// `None` (the default) registers nothing, so Punctual never takes a key combination unasked.
    pub join_shortcut: Option<String>,
}

impl App {
    /// The desktop preferences (defaults until the user changes them).
    pub fn settings(&self) -> Result<Settings> {
        match self.store.read(|r| r.setting(SETTINGS_KEY))? {
            Some(json) => serde_json::from_str(&json).map_err(|e| bad_setting(SETTINGS_KEY, e)),
            None => Ok(Settings::default()),
        }
    }

    /// Validates and stores the desktop preferences; returns what was stored. A blank shortcut means none.
    pub fn update_settings(&self, settings: &Settings) -> Result<Settings> {
        let mut s = settings.clone();
        s.join_shortcut = match s.join_shortcut.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(shortcut) => Some(check_shortcut(shortcut)?),
        };
        let json = serde_json::to_string(&s)
            .map_err(|e| Error::new(ErrorCode::Internal, e.to_string()))?;
        self.store.write(|w| w.set_setting(SETTINGS_KEY, &json))?;
        Ok(s)
    }
}

/// Checks an accelerator's shape: modifiers then one key, joined by `+`, with at least one modifier so a
/// plain letter is never swallowed system-wide. The shell's shortcut plugin has the final word on the key.
fn check_shortcut(shortcut: &str) -> Result<String> {
    let bad = |why: &str| {
        Error::field(
            ErrorCode::InvalidInput,
            "join_shortcut",
            format!("the shortcut {shortcut:?} {why}; write it like CmdOrCtrl+Shift+J"),
        )
    };
    if shortcut.chars().count() > MAX_SHORTCUT_CHARS {
        return Err(bad("is too long"));
    }
    let parts: Vec<&str> = shortcut.split('+').map(str::trim).collect();
    let Some((key, modifiers)) = parts.split_last() else {
        return Err(bad("is empty"));
    };
    if key.is_empty() || parts.iter().any(|p| p.is_empty()) {
        return Err(bad("has an empty part"));
    }
    if MODIFIERS.contains(&key.to_ascii_lowercase().as_str()) {
        return Err(bad("ends with a modifier instead of a key"));
    }
    if modifiers.is_empty() {
        return Err(bad("needs at least one modifier"));
    }
    if let Some(m) = modifiers
        .iter()
        .find(|m| !MODIFIERS.contains(&m.to_ascii_lowercase().as_str()))
    {
        return Err(bad(&format!("has {m:?} where a modifier should be")));
    }
    Ok(parts.join("+"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{FixedClock, Zone};
    use chrono::TimeZone;
    use std::sync::Arc;

    fn app() -> App {
        let clock = Arc::new(FixedClock::new(
            chrono::Utc
                .with_ymd_and_hms(2030, 1, 7, 9, 0, 0)
                .single()
                .expect("a valid instant"),
        ));
        App::in_memory(clock, Zone::UTC).expect("an in-memory app")
    }

    #[test]
    fn settings_default_until_changed_then_round_trip() {
        let app = app();
        assert_eq!(
            app.settings().ok(),
            Some(Settings::default()),
            "a fresh install shows the defaults"
        );
        let wanted = Settings {
            theme: Theme::Dark,
            week_start: WeekStart::Sunday,
            time_format: TimeFormat::H12,
            start_at_login: true,
            join_shortcut: Some(" CmdOrCtrl + Shift + J ".into()),
        };
        let stored = app.update_settings(&wanted).expect("valid settings store");
        assert_eq!(
            stored.join_shortcut.as_deref(),
            Some("CmdOrCtrl+Shift+J"),
            "the shortcut is stored trimmed, as the shell registers it"
        );
        assert_eq!(
            app.settings().ok(),
            Some(stored),
            "what was stored is read back"
        );
    }

    #[test]
    fn a_bad_shortcut_names_its_field_and_changes_nothing() {
        let app = app();
        for bad in ["J", "Shift+", "Ctrl+Shift", "Hyper+J", "Ctrl++J"] {
            let err = app
                .update_settings(&Settings {
                    theme: Theme::Dark,
                    join_shortcut: Some(bad.into()),
                    ..Settings::default()
                })
                .err();
            assert_eq!(
                err.map(|e| (e.code, e.field)),
                Some((ErrorCode::InvalidInput, Some("join_shortcut".to_string()))),
                "{bad:?} is not a usable global shortcut, and the form shows why beside the field"
            );
            assert_eq!(
                app.settings().ok(),
                Some(Settings::default()),
                "a rejected update stores nothing, not even its valid fields"
            );
        }
    }

    #[test]
    fn a_blank_shortcut_means_none_and_old_values_keep_their_defaults() {
        let app = app();
        let stored = app
            .update_settings(&Settings {
                join_shortcut: Some("   ".into()),
                ..Settings::default()
            })
            .expect("a blank shortcut is valid");
        assert_eq!(stored.join_shortcut, None, "blank turns the shortcut off");
        let older: Settings =
            serde_json::from_str(r#"{"theme":"light","retired_field":1}"#).expect("decodes");
        assert_eq!(
            (older.theme, older.week_start),
            (Theme::Light, WeekStart::Monday),
            "a value written by another version keeps what it has and defaults the rest"
        );
    }
}
