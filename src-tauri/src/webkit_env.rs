//! WebKitGTK's rendering mode, chosen before GTK and WebKit start: the page is drawn without accelerated
//! compositing (`WEBKIT_DISABLE_COMPOSITING_MODE=1`), unless the user set that variable themselves (WebKit
//! reads "0" as "keep compositing on", so a user who wants it back can have it).
//!
//! Punctual's window is a static page of text and boxes: compositing buys it nothing, and costs a GL context
//! in the web process and the buffers it renders to. Measured with scripts/bench-desktop.sh (release, Xvfb,
//! where GL is Mesa's software renderer): window open after an idle minute, 323-326 MB PSS over the app and
//! its WebKit processes with compositing, 235 MB without (the web process alone 205 MB -> 108 MB); and the
//! calendar was painted 1.1-1.5 s after start instead of 2.4-3.7 s (before the UI's own start-up changes).
//!
//! Set through the environment rather than the Settings API (hardware acceleration policy "never" through
//! `with_webview`): the setting arrives after the page has started loading, and the web process then kept
//! 6 MB more (234-235 MB in the same measurement). The web process inherits the variable from this process.

/// The variable WebKitGTK reads; any value but "0" turns compositing off.
pub const DISABLE_COMPOSITING: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";

/// Turns accelerated compositing off for the WebKit processes this process will start, unless the user
/// already chose. Must run first thing in `main`, before any thread exists: the environment is process-wide
/// and not safe to change while another thread may read it.
#[cfg(target_os = "linux")]
pub fn prefer_unaccelerated() {
    if let Some(value) = to_set(std::env::var_os(DISABLE_COMPOSITING).as_deref()) {
        std::env::set_var(DISABLE_COMPOSITING, value);
    }
}

#[cfg(not(target_os = "linux"))]
pub fn prefer_unaccelerated() {}

/// The value to give [`DISABLE_COMPOSITING`], given the one it has: none if the user set it.
pub fn to_set(current: Option<&std::ffi::OsStr>) -> Option<&'static str> {
    match current {
        Some(_) => None,
        None => Some("1"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn a_choice_of_the_user_is_kept_and_otherwise_compositing_goes_off() {
        assert_eq!(
            to_set(None),
            Some("1"),
            "left unset, Punctual turns compositing off"
        );
        assert_eq!(
            to_set(Some(OsStr::new("0"))),
            None,
            "a user who asked for compositing keeps it"
        );
        assert_eq!(
            to_set(Some(OsStr::new("1"))),
            None,
            "nor is a user's own \"1\" rewritten"
        );
    }
}
