//! The operating system's side of the due loop, shared by the `punctual remind` command and the desktop
//! shell: desktop notifications whose buttons act on the plan ([`DesktopNotifier`]), opening a link with
//! `$BROWSER` or the platform's opener ([`SystemOpener`]), and whether the session's screen is locked
//! ([`SessionLock`]).
//!
//! These are the real implementations of [`crate::join::Notifier`], [`crate::join::Opener`] and
//! [`crate::join::ScreenLock`]; the core's tests use fakes. Nothing here knows about Tauri: the shell hands
//! them to [`crate::app::App::run_join_loop`] exactly as the CLI does.

mod notifier;
mod opener;
mod screen;

pub use notifier::{notice, DesktopNotifier};
pub use opener::{open_folder, SystemOpener};
pub use screen::SessionLock;
