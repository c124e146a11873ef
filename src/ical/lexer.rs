//! The content-line layer of RFC 5545 §3.1: unfolding, splitting a line into name, parameters and value,
//! RFC 6868 parameter escaping, and TEXT unescaping (§3.3.11).
//!
//! Invariants:
//! - Unfolding works on bytes, before UTF-8 decoding, because producers fold at 75 octets and some split a
//!   multi-byte character across the fold (§3.1 says they should not, but Outlook and others do). A logical
//!   line is decoded only once it is whole.
//! - A logical line that needs no unfolding borrows from the input; nothing is copied for it.
//! - A [`ContentLine`] keeps byte offsets into its text instead of owned parts, so a line costs one `Cow`
//!   and three integers. Parameters are scanned only when asked for (TZID, VALUE, RANGE, FMTTYPE), which
//!   keeps the common case (no parameters, or parameters nobody reads) free.

use std::borrow::Cow;

/// One logical line: the physical line plus its continuation lines, CR and LF removed.
#[derive(Debug)]
pub(crate) struct RawLine<'a> {
    pub text: Cow<'a, str>,
    /// Byte offset of the line's first byte in the input.
    pub start: usize,
    /// Byte offset just past the line's last byte (including its line break) in the input.
    pub end: usize,
    /// 1-based number of the first physical line.
    pub line_no: usize,
    /// True when the line was not valid UTF-8 and invalid bytes were replaced with U+FFFD.
    pub lossy: bool,
}

/// Splits input into logical lines (RFC 5545 §3.1 unfolding). Accepts CRLF and bare LF; a line that starts
/// with a space or a horizontal tab continues the previous one, and that one whitespace character is removed.
/// Blank lines are skipped (they are not valid iCalendar, but exports with trailing blank lines are common).
pub(crate) struct Unfolder<'a> {
    bytes: &'a [u8],
    /// The input as text, when all of it is valid UTF-8 (checked once): unfolded lines are then sliced
    /// from it without decoding each one again.
    text: Option<&'a str>,
    pos: usize,
    line_no: usize,
}

impl<'a> Unfolder<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Unfolder {
            bytes,
            text: std::str::from_utf8(bytes).ok(),
            pos: 0,
            line_no: 0,
        }
    }

    /// The input as text, when all of it is valid UTF-8.
    pub fn text(&self) -> Option<&'a str> {
        self.text
    }

    /// The next physical line (without CR/LF) and advances past it.
    fn physical(&mut self) -> &'a [u8] {
        let rest = &self.bytes[self.pos..];
        let (line, advance) = match memchr::memchr(b'\n', rest) {
            Some(i) => (&rest[..i], i + 1),
            None => (rest, rest.len()),
        };
        self.pos += advance;
        self.line_no += 1;
        line.strip_suffix(b"\r").unwrap_or(line)
    }

    fn continues(&self) -> bool {
        matches!(self.bytes.get(self.pos), Some(b' ' | b'\t'))
    }
}

impl<'a> Iterator for Unfolder<'a> {
    type Item = RawLine<'a>;

    fn next(&mut self) -> Option<RawLine<'a>> {
        loop {
            if self.pos >= self.bytes.len() {
                return None;
            }
            let start = self.pos;
            let first = self.physical();
            let line_no = self.line_no;
            if !self.continues() {
                // The common case: one physical line. Slicing valid text at a line break (ASCII) is safe.
                let end = start + first.len();
                if let Some(t) = self.text.and_then(|t| t.get(start..end)) {
                    if t.bytes().all(|b| b == b' ' || b == b'\t') {
                        continue;
                    }
                    return Some(RawLine {
                        text: Cow::Borrowed(t),
                        start,
                        end: self.pos,
                        line_no,
                        lossy: false,
                    });
                }
            }
            let bytes: Cow<'a, [u8]> = if self.continues() {
                let mut owned = first.to_vec();
                while self.continues() {
                    let cont = self.physical();
                    owned.extend_from_slice(&cont[1..]);
                }
                Cow::Owned(owned)
            } else {
                Cow::Borrowed(first)
            };
            if bytes.iter().all(|b| *b == b' ' || *b == b'\t') {
                continue;
            }
            let (text, lossy) = decode(bytes);
            return Some(RawLine {
                text,
                start,
                end: self.pos,
                line_no,
                lossy,
            });
        }
    }
}

fn decode(bytes: Cow<'_, [u8]>) -> (Cow<'_, str>, bool) {
    match bytes {
        Cow::Borrowed(b) => match std::str::from_utf8(b) {
            Ok(s) => (Cow::Borrowed(s), false),
            Err(_) => (Cow::Owned(String::from_utf8_lossy(b).into_owned()), true),
        },
        Cow::Owned(v) => match String::from_utf8(v) {
            Ok(s) => (Cow::Owned(s), false),
            Err(e) => (
                Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
                true,
            ),
        },
    }
}

/// Why a logical line is not a content line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LineError {
    /// The name is empty or has a character outside `ALPHA / DIGIT / "-"` (§3.1).
    BadName,
    /// No `:` separates the value.
    NoValue,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LineError::BadName => f.write_str("not a property name"),
            LineError::NoValue => f.write_str("no ':' before the value"),
        }
    }
}

/// `name *(";" param) ":" value` (RFC 5545 §3.1), as offsets into the unfolded text.
#[derive(Debug, Clone)]
pub(crate) struct ContentLine<'a> {
    text: Cow<'a, str>,
    name_end: usize,
    value_start: usize,
    pub line_no: usize,
}

impl<'a> ContentLine<'a> {
    /// Splits a logical line; on failure the text comes back with the reason, for the warning.
    pub fn parse(text: Cow<'a, str>, line_no: usize) -> Result<Self, (LineError, Cow<'a, str>)> {
        let bytes = text.as_bytes();
        // §3.1: name = iana-token / x-name, both ALPHA / DIGIT / "-". An underscore is accepted too, because
        // some Outlook add-ins write X-names with one.
        let name_end = bytes
            .iter()
            .position(|b| !(b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_'))
            .unwrap_or(bytes.len());
        let value_start = match bytes.get(name_end) {
            _ if name_end == 0 => None,
            Some(b':') => Some(Ok(name_end + 1)),
            Some(b';') => Some(find_value_colon(bytes, name_end).ok_or(LineError::NoValue)),
            Some(_) => Some(Err(LineError::BadName)),
            None => Some(Err(LineError::NoValue)),
        };
        let value_start = match value_start {
            None => return Err((LineError::BadName, text)),
            Some(Err(e)) => return Err((e, text)),
            Some(Ok(v)) => v,
        };
        Ok(ContentLine {
            text,
            name_end,
            value_start,
            line_no,
        })
    }

    /// The whole unfolded line.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The property name as written (compare with [`ContentLine::is`]: names are case-insensitive, §3.1).
    pub fn name(&self) -> &str {
        &self.text[..self.name_end]
    }

    pub fn is(&self, name: &str) -> bool {
        self.name().eq_ignore_ascii_case(name)
    }

    /// The raw value, not unescaped.
    pub fn value(&self) -> &str {
        &self.text[self.value_start..]
    }

    /// The value as TEXT (§3.3.11): `\n`, `\,`, `\;` and `\\` unescaped.
    pub fn text_value(&self) -> Cow<'_, str> {
        unescape_text(self.value())
    }

    /// The parameters as `(name, raw value)`; the raw value may be quoted and may hold a comma list.
    pub fn params(&self) -> Params<'_> {
        let end = self.value_start.saturating_sub(1).max(self.name_end);
        Params {
            rest: &self.text[self.name_end..end],
        }
    }

    /// The first value of a parameter, unquoted and RFC 6868-decoded.
    pub fn param(&self, name: &str) -> Option<Cow<'_, str>> {
        self.params()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, raw)| param_values(raw).next())
    }

    /// Whether a parameter has a value, case-insensitively (VALUE=DATE, RANGE=THISANDFUTURE).
    pub fn param_is(&self, name: &str, value: &str) -> bool {
        self.param(name)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case(value))
    }
}

/// Finds the ':' that ends the parameters: the first one outside a quoted string (§3.1: a quoted
/// param-value may hold ':' ';' ','). If quotes are unbalanced (a producer wrote a bare '"' inside a value),
/// falls back to the first ':' at all.
fn find_value_colon(bytes: &[u8], from: usize) -> Option<usize> {
    let mut quoted = false;
    for (i, b) in bytes.iter().enumerate().skip(from) {
        match b {
            b'"' => quoted = !quoted,
            b':' if !quoted => return Some(i + 1),
            _ => {}
        }
    }
    bytes[from..]
        .iter()
        .position(|b| *b == b':')
        .map(|i| from + i + 1)
}

/// Iterator over `;name=value` parameters.
pub(crate) struct Params<'t> {
    rest: &'t str,
}

impl<'t> Iterator for Params<'t> {
    type Item = (&'t str, &'t str);

    fn next(&mut self) -> Option<(&'t str, &'t str)> {
        loop {
            let rest = self.rest.strip_prefix(';')?;
            let bytes = rest.as_bytes();
            let mut quoted = false;
            let mut end = bytes.len();
            for (i, b) in bytes.iter().enumerate() {
                match b {
                    b'"' => quoted = !quoted,
                    b';' if !quoted => {
                        end = i;
                        break;
                    }
                    _ => {}
                }
            }
            let param = &rest[..end];
            self.rest = &rest[end..];
            match param.split_once('=') {
                Some((n, v)) => return Some((n.trim(), v)),
                // A parameter without '=' is malformed; skip it rather than fail the whole line.
                None => continue,
            }
        }
    }
}

/// The values of a parameter: `a,b` or `"a:b","c"`, unquoted and RFC 6868-decoded.
pub(crate) fn param_values(raw: &str) -> impl Iterator<Item = Cow<'_, str>> {
    let mut rest = raw;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let (item, next) = if let Some(inner) = rest.strip_prefix('"') {
            match inner.find('"') {
                Some(i) => {
                    let after = &inner[i + 1..];
                    (&inner[..i], after.strip_prefix(',').unwrap_or(after))
                }
                None => (inner, ""),
            }
        } else {
            match rest.find(',') {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, ""),
            }
        };
        rest = next;
        Some(decode_rfc6868(item))
    })
}

/// RFC 6868 §3: in a parameter value `^n` is a newline, `^'` a double quote and `^^` a caret; a `^`
/// followed by anything else stays as it is.
pub(crate) fn decode_rfc6868(s: &str) -> Cow<'_, str> {
    if !s.contains('^') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '^' {
            match chars.peek() {
                Some('n') | Some('N') => {
                    out.push('\n');
                    chars.next();
                }
                Some('\'') => {
                    out.push('"');
                    chars.next();
                }
                Some('^') => {
                    out.push('^');
                    chars.next();
                }
                _ => out.push('^'),
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// RFC 6868 §3 encoding, for writing: `^` → `^^`, `"` → `^'`, newline → `^n`.
pub(crate) fn encode_rfc6868(s: &str) -> Cow<'_, str> {
    if !s.contains(['^', '"', '\n', '\r']) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 4);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '^' => out.push_str("^^"),
            '"' => out.push_str("^'"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("^n");
            }
            '\n' => out.push_str("^n"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// TEXT unescaping (RFC 5545 §3.3.11): `\n` or `\N` is a newline; `\\`, `\;`, `\,` are the character. Any
/// other escaped character (`\:` from some Outlook versions) is taken as the character itself.
pub(crate) fn unescape_text(s: &str) -> Cow<'_, str> {
    let Some(mut at) = memchr::memchr(b'\\', s.as_bytes()) else {
        return Cow::Borrowed(s);
    };
    // Copy the runs between backslashes whole; only the escapes are looked at one by one.
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    loop {
        out.push_str(&rest[..at]);
        let mut after = rest[at + 1..].chars();
        match after.next() {
            Some('n') | Some('N') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
        rest = after.as_str();
        match memchr::memchr(b'\\', rest.as_bytes()) {
            Some(next) => at = next,
            None => break,
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// TEXT escaping (RFC 5545 §3.3.11), for writing. CRLF and CR become `\n` too; other control characters,
/// which TEXT may not hold (§3.3.11: TSAFE-CHAR excludes CONTROL), are dropped, except HTAB.
pub(crate) fn escape_text(s: &str, out: &mut String) {
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            c if c.is_control() && c != '\t' => {}
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &str) -> Vec<String> {
        Unfolder::new(input.as_bytes())
            .map(|l| l.text.into_owned())
            .collect()
    }

    #[test]
    fn unfolds_space_and_tab_with_crlf_and_lf() {
        assert_eq!(
            lines("A:1\r\n 2\r\n\t3\r\nB:x\nC:y"),
            vec!["A:123", "B:x", "C:y"]
        );
    }

    #[test]
    fn unfolds_inside_a_multibyte_character() {
        let mut bytes = b"SUMMARY:caf".to_vec();
        bytes.extend_from_slice(&[0xC3, b'\r', b'\n', b' ', 0xA9]);
        let got: Vec<_> = Unfolder::new(&bytes).collect();
        assert_eq!(got[0].text, "SUMMARY:café", "the fold splits é's two bytes");
        assert!(!got[0].lossy);
    }

    #[test]
    fn quoted_params_may_hold_colon_and_semicolon() {
        let l = ContentLine::parse(
            Cow::Borrowed(r#"ATTENDEE;CN="Doe; John: CEO";ROLE=CHAIR:mailto:j@x.org"#),
            1,
        )
        .expect("valid line");
        assert_eq!(l.name(), "ATTENDEE");
        assert_eq!(l.value(), "mailto:j@x.org");
        assert_eq!(l.param("cn").as_deref(), Some("Doe; John: CEO"));
        assert_eq!(l.param("ROLE").as_deref(), Some("CHAIR"));
    }

    #[test]
    fn rfc6868_round_trip() {
        assert_eq!(decode_rfc6868("a^nb^'c^^d^x"), "a\nb\"c^d^x");
        assert_eq!(encode_rfc6868("a\nb\"c^d"), "a^nb^'c^^d");
    }
}
