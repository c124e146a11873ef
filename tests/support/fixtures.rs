//! Where the shared real-world fixtures (../shared/fixtures) are, and what a test does without them: on a
//! developer's machine it says loudly that it was not checked and returns; under CI (`CI` set), whose
//! checkout always has them, their absence fails the test, so a missing fixture can never pass as green.

use std::path::PathBuf;

/// The fixtures folder `rel` under ../shared/fixtures.
pub fn dir(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures")
        .join(rel)
}

/// Reports a missing fixture: panics under CI, else prints why the test checked nothing.
pub fn missing(what: &std::path::Path, why: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "{} is missing ({why}): CI must check the real-world fixtures, not skip them",
        what.display()
    );
    eprintln!(
        "\n!!!!! SKIPPED: {} is missing ({why}); this test checked nothing !!!!!\n",
        what.display()
    );
}
