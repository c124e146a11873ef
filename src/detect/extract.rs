//! Meeting id, passcode and dial-in numbers: what a later "copy" action offers beside the link.
//!
//! Sources, best first:
//! - The accepted link itself: Zoom's `/j/{id}` (Zoom's own "meeting ID"), Teams' `/meet/{id}?p={passcode}`,
//!   Google Meet's meeting code. Zoom's `pwd=` is an encrypted token, not the passcode, so it is never used.
//! - Labels in the invite's text, as Zoom ("Meeting ID: 845 1234 5678", "Passcode: 736291"), Teams ("Meeting ID:
//!   240 156 813 941", "Passcode: 9kQ3Zx", "Phone conference ID: 123 456 789#") and Webex ("Meeting number
//!   (access code): 2634 123 4567", "Meeting password: …") write them. A label only counts when a `:` follows
//!   it, so prose such as "forgot your password?" yields nothing.
//! - Dial-in numbers: every `+` followed by digits (E.164 style, with spaces, dashes, brackets, and the one-tap
//!   `,,id#` suffix), kept as written, deduplicated, at most [`MAX_DIAL_IN`].

pub const MAX_DIAL_IN: usize = 20;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Details {
    pub meeting_id: Option<String>,
    pub passcode: Option<String>,
    pub dial_in: Vec<String>,
}

/// Id and passcode carried by the link itself.
pub fn from_url(platform: &str, u: &url::Url) -> Details {
    let mut d = Details::default();
    let mut segs = u
        .path_segments()
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty());
    match platform {
        "zoom" => {
            if let (Some(kind), Some(id)) = (segs.next(), segs.next()) {
                if matches!(kind, "j" | "w" | "s")
                    && id.len() >= 9
                    && id.bytes().all(|b| b.is_ascii_digit())
                {
                    d.meeting_id = Some(id.to_string());
                }
            }
        }
        "teams" if segs.next().is_some_and(|s| s.eq_ignore_ascii_case("meet")) => {
            d.meeting_id = segs
                .next()
                .filter(|id| id.bytes().all(|b| b.is_ascii_digit()))
                .map(str::to_string);
            d.passcode = u
                .query_pairs()
                .find(|(k, _)| k == "p")
                .map(|(_, v)| v.into_owned());
        }
        "google_meet" => d.meeting_id = segs.next().map(str::to_string),
        _ => {}
    }
    d
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Label {
    Id,
    Passcode,
}

/// Labels as invites write them, lowercase. Longer labels first, so "meeting password" is not read as "password"
/// only (the result is the same value either way; the order only keeps the intent obvious).
const LABELS: &[(&str, Label)] = &[
    ("phone conference id", Label::Id),
    ("meeting number", Label::Id),
    ("conference id", Label::Id),
    ("meeting id", Label::Id),
    ("webinar id", Label::Id),
    ("access code", Label::Id),
    ("meeting password", Label::Passcode),
    ("meeting passcode", Label::Passcode),
    ("numeric password", Label::Passcode),
    ("passcode", Label::Passcode),
    ("password", Label::Passcode),
];

/// The label that ends right before the `:` at `colon`, skipping spaces and one parenthetical
/// ("Meeting number (access code):"). Found by looking back from each colon, which is far cheaper than
/// searching the whole text for every label.
fn label_before(text: &str, colon: usize) -> Option<Label> {
    let mut before = text[..colon].trim_end_matches([' ', '\t', '\u{a0}']);
    if before.ends_with(')') {
        // Only a short parenthetical counts; looking back no further keeps this linear in the text.
        let from = before.len().saturating_sub(41);
        let open = from + memchr::memrchr(b'(', &before.as_bytes()[from..])?;
        before = before[..open].trim_end_matches([' ', '\t', '\u{a0}']);
    }
    let b = before.as_bytes();
    LABELS.iter().find_map(|(label, kind)| {
        let start = b.len().checked_sub(label.len())?;
        let matches = b[start..].eq_ignore_ascii_case(label.as_bytes());
        let boundary = start == 0 || !b[start - 1].is_ascii_alphanumeric();
        (matches && boundary).then_some(*kind)
    })
}

/// The value after a label's `:`.
fn value_after(text: &str, colon: usize) -> &str {
    text[colon + 1..].trim_start_matches(|c: char| c.is_whitespace())
}

fn numeric_id(v: &str) -> Option<String> {
    let mut end = 0;
    let mut digits = 0;
    let b = v.as_bytes();
    while end < b.len() {
        if b[end].is_ascii_digit() {
            digits += 1;
            end += 1;
        } else if matches!(b[end], b' ' | b'-') && b.get(end + 1).is_some_and(u8::is_ascii_digit) {
            end += 1;
        } else {
            break;
        }
    }
    (digits >= 6).then(|| v[..end].to_string())
}

fn passcode(v: &str) -> Option<String> {
    let token = v.split(|c: char| c.is_whitespace()).next().unwrap_or("");
    let token = token.trim_end_matches(['.', ',', ';', ')']);
    (!token.is_empty() && token.len() <= 32 && token.chars().any(|c| c.is_ascii_alphanumeric()))
        .then(|| token.to_string())
}

/// Labelled id and passcode, and dial-in numbers, from plain text.
pub fn from_text(text: &str) -> Details {
    let mut d = Details::default();
    for colon in memchr::memchr_iter(b':', text.as_bytes()) {
        let Some(label) = label_before(text, colon) else {
            continue;
        };
        let v = value_after(text, colon);
        match label {
            Label::Id if d.meeting_id.is_none() => d.meeting_id = numeric_id(v),
            Label::Passcode if d.passcode.is_none() => d.passcode = passcode(v),
            _ => {}
        }
        if d.meeting_id.is_some() && d.passcode.is_some() {
            break;
        }
    }
    d.dial_in = dial_ins(text);
    d
}

fn dial_ins(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out: Vec<String> = Vec::new();
    let mut next = 0;
    for i in memchr::memchr_iter(b'+', b) {
        if i < next || !b.get(i + 1).is_some_and(u8::is_ascii_digit) {
            continue;
        }
        if i > 0 && b[i - 1].is_ascii_alphanumeric() {
            continue;
        }
        let mut end = i + 1;
        while end < b.len()
            && matches!(
                b[end],
                b'0'..=b'9' | b' ' | b'-' | b'(' | b')' | b'.' | b',' | b'#' | b'*'
            )
        {
            end += 1;
        }
        next = end;
        let number = text[i..end].trim_end_matches([' ', '(', '-', '.', ',', ')']);
        let digits = number.bytes().filter(u8::is_ascii_digit).count();
        if (8..=40).contains(&digits) && !out.iter().any(|n| n == number) {
            out.push(number.to_string());
            if out.len() >= MAX_DIAL_IN {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zoom_copy_invitation() {
        let text = "Meeting ID: 845 1234 5678\nPasscode: 736291\nOne tap mobile\n+16465588656,,84512345678#,,,,*736291# US (New York)\n+13017158592,,84512345678# US\n\nDial by your location\n        +1 646 558 8656 US (New York)\n";
        let d = from_text(text);
        assert_eq!(
            d.meeting_id.as_deref(),
            Some("845 1234 5678"),
            "the id is kept as the invite writes it"
        );
        assert_eq!(
            d.passcode.as_deref(),
            Some("736291"),
            "Passcode: labels the passcode"
        );
        assert_eq!(
            d.dial_in,
            vec![
                "+16465588656,,84512345678#,,,,*736291#",
                "+13017158592,,84512345678#",
                "+1 646 558 8656"
            ],
            "one-tap numbers keep their suffix; the location text is not part of the number"
        );
    }

    #[test]
    fn prose_is_not_a_label() {
        let d = from_text("Forgot your password? Reset it. The meeting id is in the doc.");
        assert_eq!(d, Details::default(), "a label without a colon is prose");
    }
}
