//! Finding link candidates in one field of text or HTML, in a single pass.
//!
//! Concepts:
//! - SIMD substring searches (`memchr::memmem`) find `://`, `www.` and, in HTML, `href`, merged by position;
//!   only there is any further work done. In `detect`, a candidate whose raw host is neither in the platform
//!   table nor a wrapper is dropped before any decoding or parsing ([`may_be_interesting`]).
//! - In text, a candidate runs from its scheme to the first character that cannot be in a link as written in
//!   prose (whitespace, `<`, `>`, `"`, backtick, control characters, typographic quotes), then loses the trailing
//!   punctuation and unbalanced closing brackets that belong to the sentence ("…/j/123)." → "…/j/123").
//! - In HTML, each `href` value is taken whole (entities decoded, HTML Standard §13.1.4 named and numeric
//!   character references), and the anchor's text is skipped: it is what the user reads, not what a click opens.
//!   URLs written outside anchors are still found, as in text, after entity decoding.
//! - [`Found::raw`] is never re-encoded: it is the field's own characters (entity-decoded in HTML).
//!
//! Invariant: positions are byte offsets into the field, always on char boundaries (the scanner only stops on
//! ASCII bytes or at char boundaries).

use std::borrow::Cow;

/// A candidate as written in a field.
#[derive(Debug)]
pub struct Found<'t> {
    /// The link as written (entity-decoded in HTML), with `https://` prepended to a bare `www.` link.
    pub raw: Cow<'t, str>,
    /// Byte offset in the field.
    pub offset: usize,
    pub from_href: bool,
}

const PAT_SCHEME: usize = 0;
const PAT_WWW: usize = 1;
const PAT_HREF: usize = 2;

/// The needles, each found with `memchr::memmem` (SIMD, rare-byte prefiltered) and merged by position.
/// Separate exact-case searches beat one case-insensitive automaton by a wide margin on invite bodies;
/// the case variants covered are the ones mail clients write (`HREF` in old Outlook HTML, `WWW.` in shouting
/// prose, `HTTPS://` needs nothing since `://` has no case).
struct Needles<'t> {
    iters: Vec<(
        usize,
        usize,
        std::iter::Peekable<memchr::memmem::FindIter<'t, 'static>>,
    )>,
}

impl<'t> Needles<'t> {
    fn new(bytes: &'t [u8], html: bool) -> Self {
        let mut iters = vec![
            (
                PAT_SCHEME,
                3,
                memchr::memmem::find_iter(bytes, b"://").peekable(),
            ),
            (
                PAT_WWW,
                4,
                memchr::memmem::find_iter(bytes, b"www.").peekable(),
            ),
            (
                PAT_WWW,
                4,
                memchr::memmem::find_iter(bytes, b"WWW.").peekable(),
            ),
        ];
        if html {
            iters.push((
                PAT_HREF,
                4,
                memchr::memmem::find_iter(bytes, b"href").peekable(),
            ));
            iters.push((
                PAT_HREF,
                4,
                memchr::memmem::find_iter(bytes, b"HREF").peekable(),
            ));
        }
        Needles { iters }
    }

    /// The next needle starting at or after `pos`: (pattern, start, end).
    fn next_from(&mut self, pos: usize) -> Option<(usize, usize, usize)> {
        let mut best: Option<(usize, usize, usize)> = None;
        let mut best_i = 0;
        for (i, (kind, len, it)) in self.iters.iter_mut().enumerate() {
            while it.peek().is_some_and(|&p| p < pos) {
                it.next();
            }
            if let Some(&p) = it.peek() {
                if best.is_none_or(|(_, s, _)| p < s) {
                    best = Some((*kind, p, p + *len));
                    best_i = i;
                }
            }
        }
        if best.is_some() {
            if let Some((_, _, it)) = self.iters.get_mut(best_i) {
                it.next();
            }
        }
        best
    }
}

/// Does this text look like HTML (a real tag such as `<a `, `<br>`, `</p>`), rather than prose with `<https://…>`?
pub fn looks_like_html(text: &str) -> bool {
    let b = text.as_bytes();
    for i in memchr::memchr_iter(b'<', b) {
        let mut j = i + 1;
        if b.get(j) == Some(&b'/') {
            j += 1;
        }
        let start = j;
        while b.get(j).is_some_and(u8::is_ascii_alphanumeric) {
            j += 1;
        }
        if j > start
            && b[start].is_ascii_alphabetic()
            && matches!(b.get(j), Some(b'>' | b' ' | b'/' | b'\t' | b'\n' | b'\r'))
        {
            return true;
        }
    }
    false
}

fn is_terminator(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(
            c,
            '<' | '>'
                | '"'
                | '`'
                | '{'
                | '}'
                | '|'
                | '\\'
                | '^'
                | '\u{201c}'
                | '\u{201d}'
                | '\u{2018}'
                | '\u{2019}'
                | '\u{ff1e}'
                | '\u{3009}'
        )
}

/// Cheap prefilter for `detect`: can a link with this raw text ever be accepted or unwrapped?
/// It mirrors [`super::validate::validate_parsed`]: a host outside the table and the wrappers is never accepted.
/// Anything unusual in the authority (userinfo, a port, percent escapes, entities, non-ASCII, an overlong name)
/// is rare, so it answers yes and lets `validate` decide, which keeps `detect` exactly equal to `explain`.
pub fn may_be_interesting(raw: &str) -> bool {
    // Only a `://` right after a scheme starts the authority; one inside a query (`www.x.com/?u=https://…`) does not.
    let after = match raw.find("://") {
        Some(i)
            if raw[..i]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')) =>
        {
            // The URL Standard skips any further slashes and backslashes before the host of an http(s) URL
            // (`https:///acme.zoom.us/…` has host acme.zoom.us), and so must this shortcut (found by fuzzing).
            raw[i + 3..].trim_start_matches(['/', '\\'])
        }
        _ => raw,
    };
    let end = after.find(['/', '?', '#', '\\']).unwrap_or(after.len());
    let authority = &after[..end];
    if authority.len() > 253 || !authority.is_ascii() || authority.contains(['@', ':', '%', '&']) {
        return true;
    }
    let mut buf = [0u8; 253];
    let lower = &mut buf[..authority.len()];
    lower.copy_from_slice(authority.as_bytes());
    lower.make_ascii_lowercase();
    let Ok(host) = std::str::from_utf8(lower) else {
        return true;
    };
    let host = host.trim_end_matches('.');
    super::validate::platform_for_host(host).is_some() || super::unwrap::is_wrapper_host(host)
}

/// ASCII bytes that end a link in prose (see [`is_terminator`]), as a lookup table.
const ASCII_END: [bool; 128] = {
    let mut t = [false; 128];
    let mut i = 0;
    while i < 128 {
        let c = i as u8;
        t[i] = c <= b' '
            || c == 0x7f
            || matches!(
                c,
                b'<' | b'>' | b'"' | b'`' | b'{' | b'}' | b'|' | b'\\' | b'^'
            );
        i += 1;
    }
    t
};

/// Byte index where a link starting at `from` ends.
fn link_end(text: &str, from: usize) -> usize {
    let b = text.as_bytes();
    let mut i = from;
    while i < b.len() {
        let c = b[i];
        if c < 128 {
            if ASCII_END[c as usize] {
                return i;
            }
            i += 1;
        } else {
            // Non-ASCII: decode the char (rare in links) and check it, including Unicode spaces and quotes.
            let Some(ch) = text.get(i..).and_then(|t| t.chars().next()) else {
                return i;
            };
            if is_terminator(ch) {
                return i;
            }
            i += ch.len_utf8();
        }
    }
    b.len()
}

/// Strip sentence punctuation and unbalanced closing brackets from the end of a link found in prose.
pub fn trim_trailing(s: &str) -> &str {
    // Bracket balances are counted once and updated as characters are stripped, so a link ending in a long run
    // of brackets costs linear time, not quadratic.
    let count = |c: char| s.bytes().filter(|b| *b == c as u8).count() as isize;
    let mut round = count('(') - count(')');
    let mut square = count('[') - count(']');
    let mut curly = count('{') - count('}');
    let mut s = s;
    loop {
        let Some(last) = s.chars().next_back() else {
            return s;
        };
        let strip = match last {
            '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '*' | '"' => true,
            ')' if round < 0 => {
                round += 1;
                true
            }
            ']' if square < 0 => {
                square += 1;
                true
            }
            '}' if curly < 0 => {
                curly += 1;
                true
            }
            _ => false,
        };
        if !strip {
            return s;
        }
        s = &s[..s.len() - last.len_utf8()];
    }
}

/// Decode HTML character references (`&amp;`, `&#58;`, `&#x3A;`, and the few named ones invites use).
/// Unknown references are kept as written.
pub fn decode_entities(s: &str) -> Cow<'_, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest[1..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '#'))
            .map(|e| e + 1);
        let (name, consumed) = match end {
            Some(e) if rest.as_bytes().get(e) == Some(&b';') => (&rest[1..e], e + 1),
            // HTML allows a few references without the semicolon; `&amp` is the one that appears in links.
            Some(e) => (&rest[1..e], e),
            None => (&rest[1..], rest.len()),
        };
        let decoded = match name {
            "amp" | "AMP" => Some('&'),
            "lt" | "LT" => Some('<'),
            "gt" | "GT" => Some('>'),
            "quot" | "QUOT" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            "sol" => Some('/'),
            "colon" => Some(':'),
            "quest" => Some('?'),
            "equals" => Some('='),
            "num" => Some('#'),
            "percnt" => Some('%'),
            _ => name.strip_prefix('#').and_then(|n| {
                let code = match n.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok(),
                    None => n.parse().ok(),
                };
                code.and_then(char::from_u32)
            }),
        };
        let needs_semicolon = !matches!(name, "amp" | "AMP" | "lt" | "gt" | "quot" | "nbsp");
        match decoded {
            Some(c) if consumed > name.len() + 1 || !needs_semicolon => {
                out.push(c);
                rest = &rest[consumed..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Scan one field and call `emit` for each candidate, in order of position.
///
/// `bad_schemes`: also emit links whose scheme is not http(s) (for `explain`); `detect` skips them, since they
/// can never be accepted.
pub fn scan<'t>(text: &'t str, html: bool, bad_schemes: bool, emit: &mut dyn FnMut(Found<'t>)) {
    let bytes = text.as_bytes();
    let mut needles = Needles::new(bytes, html);
    let mut pos = 0;
    let mut close_cache: Option<Option<usize>> = None;
    while pos < text.len() {
        let Some((pattern, m_start, m_end)) = needles.next_from(pos) else {
            return;
        };
        pos = m_end;
        match pattern {
            PAT_SCHEME => {
                let mut s = m_start;
                while s > 0
                    && matches!(bytes[s - 1], b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'+' | b'-' | b'.')
                {
                    s -= 1;
                }
                while s < m_start && !bytes[s].is_ascii_alphabetic() {
                    s += 1;
                }
                if s == m_start {
                    continue;
                }
                let end = link_end(text, m_end);
                pos = pos.max(end);
                let scheme = &text[s..m_start];
                let web =
                    scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http");
                if !bad_schemes && (!web || !may_be_interesting(&text[s..end])) {
                    continue;
                }
                if let Some(raw) = prose_link(&text[s..end], html, None) {
                    emit(Found {
                        raw,
                        offset: s,
                        from_href: false,
                    });
                }
            }
            PAT_WWW => {
                let s = m_start;
                if s > 0
                    && matches!(bytes[s - 1], b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'/' | b'@' | b'-' | b'_' | b'%' | b'=')
                {
                    continue;
                }
                let end = link_end(text, m_end);
                pos = pos.max(end);
                if !bad_schemes && !may_be_interesting(&text[s..end]) {
                    continue;
                }
                if let Some(raw) = prose_link(&text[s..end], html, Some("https://")) {
                    emit(Found {
                        raw,
                        offset: s,
                        from_href: false,
                    });
                }
            }
            _ if html => {
                let Some((vs, ve)) = attribute_value(bytes, m_end) else {
                    continue;
                };
                pos = pos.max(ve);
                let raw_value = text[vs..ve].trim();
                let value: Cow<'t, str> = if bad_schemes || may_be_interesting(raw_value) {
                    match decode_entities(raw_value) {
                        Cow::Borrowed(b) => Cow::Borrowed(b),
                        // A decoded `&nbsp;` or other space never belongs in a join link: the link ends there.
                        Cow::Owned(o) => {
                            let o = o.trim();
                            Cow::Owned(
                                o[..o.find(char::is_whitespace).unwrap_or(o.len())].to_string(),
                            )
                        }
                    }
                } else {
                    Cow::Borrowed("")
                };
                let web = value
                    .get(..8)
                    .is_some_and(|p| p.eq_ignore_ascii_case("https://"))
                    || value
                        .get(..7)
                        .is_some_and(|p| p.eq_ignore_ascii_case("http://"));
                let scheme_like = value.find(':').is_some_and(|c| {
                    value[..c]
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.')
                });
                let uninteresting = value.starts_with('#')
                    || value
                        .get(..7)
                        .is_some_and(|p| p.eq_ignore_ascii_case("mailto:"))
                    || value
                        .get(..4)
                        .is_some_and(|p| p.eq_ignore_ascii_case("tel:"));
                if web || (bad_schemes && scheme_like && !uninteresting) {
                    emit(Found {
                        raw: value,
                        offset: vs,
                        from_href: true,
                    });
                }
                // Skip the anchor's text: a link written there is not what the click opens.
                if opens_anchor(bytes, m_start) {
                    // Remember the last answer: many anchors without a closing tag must not each search to the
                    // end of the field.
                    let close = match close_cache {
                        Some(Some(c)) if c >= ve => Some(c),
                        Some(None) => None,
                        _ => {
                            let c = find_close_anchor(bytes, ve);
                            close_cache = Some(c);
                            c
                        }
                    };
                    if let Some(close) = close {
                        pos = pos.max(close);
                    }
                }
            }
            _ => {}
        }
    }
}

/// The longest field searched for links written without a scheme.
pub const BARE_MAX: usize = 4096;

/// Links written without a scheme in a short field (`acme.zoom.us/j/…`, `meet.google.com/abc-defg-hij`).
/// Only tokens whose host is in the platform table (or a wrapper) are candidates, in both `detect` and
/// `explain`, so ordinary words with a dot and a slash are never reported. The candidate gets `https://`.
pub fn scan_bare<'t>(text: &'t str, emit: &mut dyn FnMut(Found<'t>)) {
    let is_sep = |c: char| {
        c.is_whitespace()
            || matches!(
                c,
                ',' | ';' | '<' | '>' | '(' | ')' | '"' | '\'' | '[' | ']' | '|'
            )
    };
    let mut offset = 0;
    for token in text.split(is_sep) {
        let start = offset;
        offset += token.len()
            + text[offset + token.len()..]
                .chars()
                .next()
                .map_or(0, char::len_utf8);
        let token = trim_trailing(token);
        if token.contains("://")
            || token
                .get(..4)
                .is_some_and(|p| p.eq_ignore_ascii_case("www."))
        {
            continue;
        }
        let Some(slash) = token.find('/') else {
            continue;
        };
        let host = &token[..slash];
        let hostlike = host.contains('.')
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
            && host
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphanumeric());
        if hostlike && slash + 1 < token.len() && may_be_interesting(host) {
            emit(Found {
                raw: Cow::Owned(format!("https://{token}")),
                offset: start,
                from_href: false,
            });
        }
    }
}

/// Turn a prose slice into a candidate: entity-decode in HTML, cut at a decoded terminator, trim punctuation.
fn prose_link<'t>(slice: &'t str, html: bool, prefix: Option<&str>) -> Option<Cow<'t, str>> {
    let mut raw: Cow<'t, str> = if html {
        decode_entities(slice)
    } else {
        Cow::Borrowed(slice)
    };
    if let Cow::Owned(o) = &raw {
        let cut = link_end(o, 0);
        let trimmed = trim_trailing(&o[..cut]).to_string();
        raw = Cow::Owned(trimmed);
    } else {
        raw = Cow::Borrowed(trim_trailing(slice));
    }
    // A scheme or `www.` with nothing after it is not a link.
    let body_len = raw.len() - raw.find("://").map_or(4, |i| i + 3).min(raw.len());
    if body_len == 0 || (prefix.is_some() && raw.len() <= 4) {
        return None;
    }
    Some(match prefix {
        Some(p) => Cow::Owned(format!("{p}{raw}")),
        None => raw,
    })
}

/// The value span of an attribute whose name just ended at `i` (`href = "…"`, `'…'` or unquoted).
fn attribute_value(b: &[u8], mut i: usize) -> Option<(usize, usize)> {
    while b.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    if b.get(i) != Some(&b'=') {
        return None;
    }
    i += 1;
    while b.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    match b.get(i) {
        Some(&q @ (b'"' | b'\'')) => {
            let start = i + 1;
            // An unterminated quote must not make every later `href` search to the end of the field.
            let window = b.get(start..)?;
            let window = &window[..window.len().min(MAX_ATTRIBUTE)];
            let len = memchr::memchr(q, window)?;
            Some((start, start + len))
        }
        Some(_) => {
            let start = i;
            let len = b[start..]
                .iter()
                .position(|c| c.is_ascii_whitespace() || *c == b'>')
                .unwrap_or(b.len() - start);
            Some((start, start + len))
        }
        None => None,
    }
}

/// Is the attribute at `at` inside an `<a …>` start tag?
fn opens_anchor(b: &[u8], at: usize) -> bool {
    let from = at.saturating_sub(2048);
    let Some(lt) = memchr::memrchr(b'<', &b[from..at]) else {
        return false;
    };
    let tag = &b[from + lt + 1..at];
    tag.first().is_some_and(|c| c.eq_ignore_ascii_case(&b'a'))
        && tag.get(1).is_some_and(u8::is_ascii_whitespace)
        && !tag.contains(&b'>')
}

/// The longest attribute value read; no join link is longer, and it bounds the work on unterminated quotes.
const MAX_ATTRIBUTE: usize = 16 * 1024;

/// The position of the `</a` that closes the anchor opened before `from`.
fn find_close_anchor(b: &[u8], from: usize) -> Option<usize> {
    let hay = b.get(from..)?;
    memchr::memchr_iter(b'<', hay)
        .find(|&i| {
            hay.get(i + 1) == Some(&b'/')
                && hay
                    .get(i + 2)
                    .is_some_and(|c| c.eq_ignore_ascii_case(&b'a'))
                && !hay.get(i + 3).is_some_and(u8::is_ascii_alphanumeric)
        })
        .map(|i| from + i)
}

/// Plain text of an HTML fragment for reading labels ("Meeting ID: …"): tags become line breaks, entities are
/// decoded. Not a renderer: style and script contents are kept, which labels never match.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&decode_entities(&rest[..lt]));
        out.push('\n');
        match rest[lt..].find('>') {
            Some(gt) => rest = &rest[lt + gt + 1..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(&decode_entities(rest));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str, html: bool) -> Vec<String> {
        let mut v = Vec::new();
        scan(text, html, true, &mut |f| v.push(f.raw.into_owned()));
        v
    }

    #[test]
    fn prose_links_lose_sentence_punctuation() {
        assert_eq!(
            all("Join (https://zoom.us/j/1?pwd=a).", false),
            vec!["https://zoom.us/j/1?pwd=a"],
            "the sentence's ) and . are not the link's"
        );
        assert_eq!(
            all("see https://en.wikipedia.org/wiki/Foo_(bar) now", false),
            vec!["https://en.wikipedia.org/wiki/Foo_(bar)"],
            "balanced brackets belong to the link"
        );
        assert_eq!(
            all(
                "Click here<https://teams.microsoft.com/l/meetup-join/x>",
                false
            ),
            vec!["https://teams.microsoft.com/l/meetup-join/x"],
            "Outlook's <…> ends the link"
        );
    }

    #[test]
    fn html_takes_the_href_not_the_text() {
        let got = all(
            r#"<a href="https://evil.example/x?a=1&amp;b=2">https://zoom.us/j/1</a> and https://meet.google.com/abc-defg-hij&nbsp;ok"#,
            true,
        );
        assert_eq!(
            got,
            vec![
                "https://evil.example/x?a=1&b=2",
                "https://meet.google.com/abc-defg-hij"
            ],
            "the anchor text is skipped and entities decoded"
        );
    }

    #[test]
    fn entities_decode() {
        assert_eq!(
            decode_entities("a&amp;b&#58;c&#x2F;d&bogus;e&amp"),
            "a&b:c/d&bogus;e&",
            "known references decode, unknown stay"
        );
    }
}
