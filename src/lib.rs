//! Punctual's core: every calendar in one place, and never a missed meeting.
//!
//! This crate knows nothing of Tauri or a window. The `punctual` CLI and the desktop shell (src-tauri) are two
//! thin skins over [`app`]; the tests drive it directly. See ARCHITECTURE.md for the plan of the house.

pub mod app;
pub mod auth;
pub mod desktop_host;
pub mod detect;
pub mod error;
pub mod ical;
pub mod join;
pub mod limits;
pub mod logs;
pub mod model;
pub mod providers;
pub mod recurrence;
pub mod secrets;
pub mod store;
pub mod sync;
pub mod time;
