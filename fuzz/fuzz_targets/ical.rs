//! Fuzz the iCalendar parser and what an import does next: no input may panic it, a parse keeps at most
//! MAX_WARNINGS warnings (plus the summary line), and every series it yields expands. The writer is left to
//! tests/ical_roundtrip.rs: its VTIMEZONE transitions cost milliseconds under coverage instrumentation, which
//! took the target from thousands of runs a second to under a hundred.
#![no_main]

#[path = "shared/mod.rs"]
mod shared;

use libfuzzer_sys::fuzz_target;
use punctual::ical::{self, ParseOptions, MAX_WARNINGS};

fuzz_target!(|data: &[u8]| {
    let zone = shared::zone();
    let opts = ParseOptions {
        calendar_id: "cal".into(),
        user_zone: zone,
        now: shared::now(),
    };
    let Ok(parsed) = ical::parse_bytes(data, &opts) else {
        return;
    };
    assert!(
        parsed.warnings.len() <= MAX_WARNINGS + 1,
        "a parse keeps at most {MAX_WARNINGS} warnings and one summary, kept {}",
        parsed.warnings.len()
    );
    shared::expand_groups(&parsed.events, zone);
});
