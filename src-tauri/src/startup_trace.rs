//! Where a cold start spends its time, for scripts/bench_desktop.py: with `PUNCTUAL_STARTUP_TRACE` set, each
//! step of a start (main, setup, the window, every page resource and IPC call) prints one line to stderr,
//! `punctual-startup <unix seconds> <step>`. Wall-clock seconds rather than a monotonic clock, so that the
//! benchmark can put these lines on one time line with its own spawn and with strace's `-ttt`.
//!
//! Unset (always, outside measurements), a mark costs one load of a cached flag.
//!
//! Only a build with the `startup-trace` feature (scripts/bench-desktop.sh --trace) reads the variable, has
//! the `startup_marks` command and grants the window its permission ([`grant`]); in any other build the
//! marks are off and the page's call is refused, since the shipped capability does not hold it.

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};
use tauri::{Manager, Runtime, WebviewWindowBuilder};

/// The variable that turns the marks on; any value does.
pub const VAR: &str = "PUNCTUAL_STARTUP_TRACE";

/// Whether this process prints marks; read once, so that the environment is not read on every call.
pub fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| cfg!(feature = "startup-trace") && std::env::var_os(VAR).is_some())
}

/// Grants the main window the `startup_marks` command: a capability of its own, added at run time, so that
/// capabilities/default.json (what ships) never holds it.
#[cfg(feature = "startup-trace")]
pub fn grant<R: Runtime>(app: &tauri::AppHandle<R>) -> tauri::Result<()> {
    app.add_capability(
        tauri::ipc::CapabilityBuilder::new("startup-trace")
            .window(crate::lifecycle::MAIN)
            .permission("allow-startup-marks"),
    )
}

/// Prints the step `what` with the time now, when tracing.
pub fn mark(what: &str) {
    if enabled() {
        eprintln!("{}", line(SystemTime::now(), what));
    }
}

/// With tracing on, the window also reports its page: each resource the shell serves it (its start and end
/// of loading are marked by [`crate::reveal`], which owns the window's page-load handler), and (through the flag the script below sets) the page's own marks, which it sends
/// with `startup_marks` once it has shown an event.
pub fn instrument<'a, R: Runtime, M: Manager<R>>(
    builder: WebviewWindowBuilder<'a, R, M>,
) -> WebviewWindowBuilder<'a, R, M> {
    if !enabled() {
        return builder;
    }
    builder
        .initialization_script("window.__PUNCTUAL_STARTUP_TRACE__ = true;")
        .on_web_resource_request(|request, _| mark(&format!("served {}", request.uri().path())))
}

/// The page's own marks (ui/src/ipc/startupTrace.ts): each a step and its time in milliseconds since the
/// epoch, as the page's clock (`performance.timeOrigin + performance.now()`) gives it.
#[cfg(feature = "startup-trace")]
#[tauri::command]
pub fn startup_marks(marks: Vec<(String, f64)>) {
    if !enabled() {
        return;
    }
    for (what, ms) in marks {
        // A mark the page could not time (NaN, negative) is printed at the epoch rather than dropped.
        let since = std::time::Duration::try_from_secs_f64(ms / 1000.0).unwrap_or_default();
        eprintln!("{}", line(UNIX_EPOCH + since, &format!("page: {what}")));
    }
}

/// One trace line: the time as seconds since the epoch with microseconds, then the step.
pub fn line(at: SystemTime, what: &str) -> String {
    // A clock before 1970 would be a broken machine; 0 keeps the line readable there.
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    format!(
        "punctual-startup {}.{:06} {what}",
        since.as_secs(),
        since.subsec_micros()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_line_carries_seconds_with_microseconds_and_the_step() {
        let at = UNIX_EPOCH + Duration::from_micros(1_700_000_000_000_042);
        assert_eq!(
            line(at, "window built"),
            "punctual-startup 1700000000.000042 window built",
            "the benchmark parses the second field as float seconds, so the microseconds are zero-padded"
        );
    }
}
