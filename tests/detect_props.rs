//! Property tests for detection: whatever the input, a returned link is safe and was in the input.
//!
//! Properties, over invites assembled from real fragments (meeting links, lookalikes, wrappers, HTML, prose,
//! punctuation) and over arbitrary strings:
//! - every returned URL parses, is http(s), has no userinfo, and `accept_url` accepts it with the same platform
//!   (so its host is an allowed host by label-boundary suffix);
//! - it appears in the input, after entity and percent decoding (unwrapping decodes nothing else);
//! - `detect` equals `explain(...).link`, and detection never panics.

use proptest::prelude::*;
use punctual::detect::{self, Invite};

const LINKS: &[&str] = &[
    "https://acme.zoom.us/j/84512345678?pwd=bXlSeWJ5aWRsTk5VZz09",
    "https://meet.google.com/kpw-qzrt-vxa",
    "https://teams.microsoft.com/l/meetup-join/19%3ameeting_X%40thread.v2/0?context=%7b%22Tid%22%3a%22a%22%7d",
    "https://teams.live.com/meet/9412345678901?p=AbCdEf",
    "https://acme.webex.com/acme/j.php?MTID=m123abc",
    "https://meet.goto.com/512345678",
    "https://whereby.com/jane",
    "https://facetime.apple.com/join#v=1&p=AbC&k=XyZ",
    "https://zoom.us.evil.com/j/1",
    "https://evilzoom.us/j/1",
    "https://zoom-us.com/j/1",
    "https://zoom.us@evil.com/j/1",
    "https://zооm.us/j/1",
    "javascript:alert(1)",
    "https://meet.google.com/landing",
    "https://zoom.us/u/abc",
    "https://zoom.us:8443/j/1",
    "https://docs.google.com/document/d/1/edit",
    "www.gotomeeting.com/join/123456789",
    "zoommtg://zoom.us/join?confno=1",
];

const FILLER: &[&str] = &[
    " ",
    "\n",
    "Join: ",
    "(",
    ")",
    ".",
    ",",
    "<br>",
    "<p>",
    "</p>",
    "&amp;",
    "&nbsp;",
    "<",
    ">",
    "\"",
    "'",
    "]",
    "[",
    "Meeting ID: 845 1234 5678",
    "Passcode: 736291",
    "+1 646 558 8656",
    "href=",
    "<a href=\"",
    "\">",
    "</a>",
    "://",
    "www.",
    "%2F",
    "é",
    "\u{a0}",
    "https://",
    "?",
    "#",
    "=",
];

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(LINKS).prop_map(str::to_string),
        1 => prop::sample::select(LINKS).prop_map(|l| format!("https://nam12.safelinks.protection.outlook.com/?url={}&data=05", enc(l))),
        1 => prop::sample::select(LINKS).prop_map(|l| format!("https://www.google.com/url?q={}&sa=D", enc(l))),
        1 => prop::sample::select(LINKS).prop_map(|l| format!("<a href=\"{}\">{}</a>", l.replace('&', "&amp;"), LINKS[0])),
        4 => prop::sample::select(FILLER).prop_map(str::to_string),
        1 => "[a-zA-Z0-9 .:/?#&=%-]{0,12}",
    ]
}

/// Entity- and percent-decode repeatedly: every form the input could hold the returned link in.
fn decoded_forms(input: &str) -> Vec<String> {
    let mut forms = vec![input.to_string()];
    let mut cur = input.to_string();
    for _ in 0..4 {
        let ent = cur.replace("&amp;", "&").replace("&#38;", "&");
        let pct = percent_decode(&ent);
        forms.push(ent);
        forms.push(pct.clone());
        cur = pct;
    }
    forms
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (
                (b[i + 1] as char).to_digit(16),
                (b[i + 2] as char).to_digit(16),
            ) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn check(input: &str) -> Result<(), TestCaseError> {
    for field in 0..3 {
        let invite = match field {
            0 => Invite {
                description: Some(input),
                ..Default::default()
            },
            1 => Invite {
                html: Some(input),
                ..Default::default()
            },
            _ => Invite {
                location: Some(input),
                ..Default::default()
            },
        };
        let link = detect::detect(&invite);
        let explained = detect::explain(&invite);
        prop_assert_eq!(&link, &explained.link, "detect must equal explain's link");
        let Some(link) = link else { continue };
        let parsed = url::Url::parse(&link.url);
        prop_assert!(parsed.is_ok(), "returned URL must parse: {}", link.url);
        let parsed = parsed.map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(
            matches!(parsed.scheme(), "http" | "https"),
            "only http(s) is returned: {}",
            link.url
        );
        prop_assert!(
            parsed.username().is_empty() && parsed.password().is_none(),
            "no userinfo: {}",
            link.url
        );
        let again = detect::accept_url(&link.url).map(|l| l.platform);
        prop_assert_eq!(
            again.as_deref(),
            Ok(link.platform.as_str()),
            "the host must be allowed for the platform: {}",
            &link.url
        );
        // A link written without a scheme (`www.…`, or a platform host in a short field) is returned with the
        // https:// that opening it needs; the rest is as written.
        let bare = link.url.strip_prefix("https://");
        prop_assert!(
            decoded_forms(input)
                .iter()
                .any(|f| f.contains(&link.url) || bare.is_some_and(|b| f.contains(b))),
            "the link must appear in the input after unwrapping: {} not in {:?}",
            link.url,
            input
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn returned_links_are_safe_and_come_from_the_input(pieces in prop::collection::vec(piece(), 1..12)) {
        check(&pieces.concat())?;
    }

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,400}") {
        check(&s)?;
    }
}
