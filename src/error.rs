//! The error every operation of [`crate::app`] returns: a stable `code`, a message for people, and the field
//! at fault for validation errors.
//!
//! `code` is a closed enum. The CLI prints it as `{"error":{"code","message","field"}}` and the desktop shell
//! sends the same shape over IPC, so scripts and the UI can match on it. Adding a code is fine; renaming one
//! breaks users' scripts.

use serde::Serialize;
use std::fmt;

/// Stable error codes.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    TitleRequired,
    TitleTooLong,
    InvalidStart,
    InvalidEnd,
    EndBeforeStart,
    StartInPast,
    InvalidColor,
    UnknownTimeZone,
    InvalidRrule,
    InvalidLimit,
    InvalidCursor,
    InvalidWindow,
    InvalidInput,
    NotFound,
    ReadOnly,
    NotIcalendar,
    Duplicate,
    NoMeetingLink,
    UnsafeLink,
    OpenFailed,
    /// An account's grant was revoked or expired: the user must connect it again.
    NeedsReconnect,
    /// The OAuth callback's `state` was not the one this flow sent (RFC 6749 §10.12).
    OauthStateMismatch,
    /// The user (or the provider) refused the authorization.
    AccessDenied,
    /// The OAuth flow failed otherwise: no code, a second callback, a token endpoint error.
    OauthFailed,
    /// No OS keychain to keep tokens in.
    KeychainUnavailable,
    Timeout,
    /// The user stopped the operation (a sign-in cancelled from the app).
    Cancelled,
    /// An input or an answer is over its size cap (see [`crate::limits`]): an imported file, an IPC argument,
    /// a provider's or token endpoint's answer.
    TooLarge,
    /// The provider could not be reached, or its answer was cut short.
    Network,
    /// The provider answered something this build does not understand, or kept failing.
    Provider,
    Storage,
    Io,
    Internal,
}

impl ErrorCode {
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorCode::TitleRequired => "title_required",
            ErrorCode::TitleTooLong => "title_too_long",
            ErrorCode::InvalidStart => "invalid_start",
            ErrorCode::InvalidEnd => "invalid_end",
            ErrorCode::EndBeforeStart => "end_before_start",
            ErrorCode::StartInPast => "start_in_past",
            ErrorCode::InvalidColor => "invalid_color",
            ErrorCode::UnknownTimeZone => "unknown_time_zone",
            ErrorCode::InvalidRrule => "invalid_rrule",
            ErrorCode::InvalidLimit => "invalid_limit",
            ErrorCode::InvalidCursor => "invalid_cursor",
            ErrorCode::InvalidWindow => "invalid_window",
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::NotFound => "not_found",
            ErrorCode::ReadOnly => "read_only",
            ErrorCode::NotIcalendar => "not_icalendar",
            ErrorCode::Duplicate => "duplicate",
            ErrorCode::NoMeetingLink => "no_meeting_link",
            ErrorCode::UnsafeLink => "unsafe_link",
            ErrorCode::OpenFailed => "open_failed",
            ErrorCode::NeedsReconnect => "needs_reconnect",
            ErrorCode::OauthStateMismatch => "oauth_state_mismatch",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::OauthFailed => "oauth_failed",
            ErrorCode::KeychainUnavailable => "keychain_unavailable",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Cancelled => "cancelled",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::Network => "network",
            ErrorCode::Provider => "provider",
            ErrorCode::Storage => "storage",
            ErrorCode::Io => "io",
            ErrorCode::Internal => "internal",
        }
    }

    /// True for errors caused by what the user typed (the CLI exits with 2 for these).
    pub fn is_bad_input(&self) -> bool {
        !matches!(
            self,
            ErrorCode::Storage
                | ErrorCode::Io
                | ErrorCode::Internal
                | ErrorCode::OpenFailed
                | ErrorCode::NeedsReconnect
                | ErrorCode::OauthStateMismatch
                | ErrorCode::AccessDenied
                | ErrorCode::OauthFailed
                | ErrorCode::KeychainUnavailable
                | ErrorCode::Timeout
                | ErrorCode::Cancelled
                | ErrorCode::Network
                | ErrorCode::Provider
        )
    }
}

/// An operation's failure.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            field: None,
        }
    }

    /// A validation error about one input field.
    pub fn field(code: ErrorCode, field: &str, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            field: Some(field.to_string()),
        }
    }

    pub fn not_found(what: &str, id: &str) -> Self {
        Error::new(ErrorCode::NotFound, format!("no {what} with id {id:?}"))
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::new(ErrorCode::Storage, format!("database error: {e}"))
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::new(ErrorCode::Io, e.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
