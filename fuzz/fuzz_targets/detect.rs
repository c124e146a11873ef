//! Fuzz the link detector: no input may panic it, and every link it returns must pass re-validation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use punctual::detect::{self, Invite};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The first byte picks the field, so HTML and text paths are both covered.
    let field = data.first().copied().unwrap_or(0) % 4;
    let conference = vec![text.to_string()];
    let invite = match field {
        0 => Invite {
            description: Some(text),
            ..Default::default()
        },
        1 => Invite {
            html: Some(text),
            ..Default::default()
        },
        2 => Invite {
            location: Some(text),
            ..Default::default()
        },
        _ => Invite {
            conference: &conference,
            ..Default::default()
        },
    };
    let link = detect::detect(&invite);
    let explained = detect::explain(&invite);
    assert_eq!(link, explained.link, "detect and explain must agree");
    let _ = explained.render_text(true);
    if let Some(link) = link {
        let again = detect::accept_url(&link.url);
        assert!(
            again.is_ok(),
            "a returned link must pass accept_url: {} {:?}",
            link.url,
            again
        );
    }
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
        let inv = detect::invite_from_conference_json(&v);
        let _ = detect::explain(&inv.as_invite());
    }
});
