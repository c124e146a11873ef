//! The main window is created hidden and shown once its page runs: at the page's first IPC call (main.ts
//! makes its first-screen reads before anything else), when the web process is past its start-up and has
//! loaded the page's script and style.
//!
//! Shown at once, GTK draws the window while the new web process is still starting, and WebKitGTK's UI process,
//! asked to draw a web view whose first backing store has not arrived, waits for it for up to 500 ms. In about
//! half of the starts the web process was meanwhile waiting on the UI process itself, so nothing happened for
//! those 500 ms (seen with `perf record -e sched:sched_switch,sched:sched_wakeup`: both main threads asleep,
//! the UI one woken by its timer after exactly 500 ms); those starts painted the calendar after 1.2-1.5 s
//! instead of 0.7-0.9 s (scripts/bench-desktop.sh --trace). Shown when the page starts loading, one start in
//! six still lost the 500 ms, between the page's request and its script: the web process was still loading.
//!
//! Should the page never call (a web process that cannot start, a script that fails), the window is shown
//! anyway after [`AT_THE_LATEST`], so that the user sees the window and whatever WebKit shows in it.

use crate::startup_trace;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tauri::webview::PageLoadEvent;
use tauri::{Manager, Runtime, Webview, WebviewWindow, WebviewWindowBuilder, Window};

/// How long a window whose page has not called yet stays hidden.
pub const AT_THE_LATEST: Duration = Duration::from_secs(2);

/// Whether the newest main window was shown; one process has at most one at a time.
static SHOWN: AtomicBool = AtomicBool::new(true);

/// `builder`, hidden until its page's first IPC call ([`on_call`]) or [`AT_THE_LATEST`] ([`at_the_latest`]).
pub fn hidden<'a, R: Runtime, M: Manager<R>>(
    builder: WebviewWindowBuilder<'a, R, M>,
) -> WebviewWindowBuilder<'a, R, M> {
    SHOWN.store(false, Ordering::SeqCst);
    builder.visible(false).on_page_load(|_, payload| {
        startup_trace::mark(match payload.event() {
            PageLoadEvent::Started => "page load started",
            PageLoadEvent::Finished => "page load finished",
        })
    })
}

/// For every IPC call: the first one shows the window that made it.
pub fn on_call<R: Runtime>(webview: &Webview<R>) {
    if !SHOWN.swap(true, Ordering::SeqCst) {
        startup_trace::mark("window shown");
        show(&webview.window());
    }
}

/// After [`AT_THE_LATEST`], shows `window` if its page has not done so yet.
pub fn at_the_latest<R: Runtime>(window: &WebviewWindow<R>) {
    let window = window.as_ref().window();
    let spawned = std::thread::Builder::new()
        .name("punctual-reveal".into())
        .spawn(move || {
            std::thread::sleep(AT_THE_LATEST);
            if !SHOWN.swap(true, Ordering::SeqCst) {
                eprintln!(
                    "punctual-desktop: the page has not called yet; showing the window anyway"
                );
                show(&window);
            }
        });
    if let Err(e) = spawned {
        eprintln!("punctual-desktop: cannot start the window's timer: {e}");
    }
}

/// Shows and focuses `window`.
fn show<R: Runtime>(window: &Window<R>) {
    if let Err(e) = window.show().and_then(|()| window.set_focus()) {
        eprintln!("punctual-desktop: cannot show the window: {e}");
    }
}
