//! Redirect wrappers: Outlook SafeLinks and Google's `/url?q=` redirector.
//!
//! Invariants:
//! - A wrapper is recognized only by its parsed host (label-boundary suffix) and path, never by text.
//!   SafeLinks: `*.safelinks.protection.outlook.com/?url=…` (and the GCC `safelinks.protection.office365.us`),
//!   documented in Microsoft Defender for Office 365 "Safe Links". Google: `www.google.com/url?q=…` (or `url=`).
//! - The target is the query parameter decoded once (application/x-www-form-urlencoded, as browsers send it).
//!   When that still looks encoded (`https%3A…` or HTML entities), it is decoded once more; nothing is ever
//!   re-encoded, so the result is the link as the wrapper's target would be opened.
//! - Unwrapping repeats for nested wrappers, at most [`MAX_DEPTH`] times.

use super::scan::decode_entities;
use super::validate::{host_is, Rejection};
use serde::Serialize;
use url::Url;

pub const MAX_DEPTH: usize = 8;

/// Which wrapper a link was found inside.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Wrapper {
    SafeLinks,
    GoogleRedirect,
}

impl Wrapper {
    pub fn name(self) -> &'static str {
        match self {
            Wrapper::SafeLinks => "safelinks",
            Wrapper::GoogleRedirect => "google_redirect",
        }
    }
}

/// Is `host` (lowercase) a wrapper's host? Used by the scanner's cheap prefilter.
pub fn is_wrapper_host(host: &str) -> bool {
    host_is(host, "safelinks.protection.outlook.com")
        || host_is(host, "safelinks.protection.office365.us")
        || host == "www.google.com"
        || host == "google.com"
}

fn wrapper_of(u: &Url) -> Option<(Wrapper, &'static [&'static str])> {
    if u.scheme() != "https" && u.scheme() != "http" {
        return None;
    }
    let host = u.host_str()?;
    if host_is(host, "safelinks.protection.outlook.com")
        || host_is(host, "safelinks.protection.office365.us")
    {
        return Some((Wrapper::SafeLinks, &["url"]));
    }
    if (host == "www.google.com" || host == "google.com") && u.path() == "/url" {
        return Some((Wrapper::GoogleRedirect, &["q", "url"]));
    }
    None
}

fn looks_percent_encoded(s: &str) -> bool {
    let lower = s.get(..8).map(str::to_ascii_lowercase).unwrap_or_default();
    lower.starts_with("http%3a") || lower.starts_with("https%3a")
}

/// The innermost link, the wrappers removed (outermost first), and the innermost link parsed.
pub type Unwrapped = (String, Vec<Wrapper>, Result<Url, url::ParseError>);

/// Remove every wrapper around `raw`. The innermost link is parsed once here and handed to validation.
pub fn unwrap_all(raw: &str) -> Result<Unwrapped, Rejection> {
    let mut current = raw.to_string();
    let mut wrappers = Vec::new();
    loop {
        let u = match Url::parse(&current) {
            Ok(u) => u,
            Err(e) => return Ok((current, wrappers, Err(e))),
        };
        let Some((wrapper, keys)) = wrapper_of(&u) else {
            return Ok((current, wrappers, Ok(u)));
        };
        if wrappers.len() >= MAX_DEPTH {
            return Err(Rejection::TooManyWrappers { max: MAX_DEPTH });
        }
        let target = keys
            .iter()
            .find_map(|k| {
                u.query_pairs()
                    .find(|(name, _)| name == k)
                    .map(|(_, v)| v.into_owned())
            })
            .filter(|v| !v.trim().is_empty())
            .ok_or(Rejection::EmptyWrapper {
                wrapper: wrapper.name().to_string(),
            })?;
        let mut target = target.trim().to_string();
        if looks_percent_encoded(&target) {
            target = percent_decode(&target);
        }
        if target.contains('&') {
            target = decode_entities(&target).into_owned();
        }
        wrappers.push(wrapper);
        current = target;
    }
}

/// Percent-decode once (RFC 3986 §2.1); invalid escapes and invalid UTF-8 are kept as written.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_wrappers_unwrap_to_the_target() {
        let inner = "https://acme.zoom.us/j/84512345678?pwd=abc";
        let google = format!(
            "https://www.google.com/url?q={}&sa=D",
            inner
                .replace(':', "%3A")
                .replace('/', "%2F")
                .replace('?', "%3F")
                .replace('=', "%3D")
        );
        let safe = format!(
            "https://nam12.safelinks.protection.outlook.com/?url={}&data=05",
            google
                .replace('%', "%25")
                .replace(':', "%3A")
                .replace('/', "%2F")
                .replace('?', "%3F")
                .replace('=', "%3D")
                .replace('&', "%26")
        );
        let got = unwrap_all(&safe);
        assert_eq!(
            got.map(|(u, w, _)| (u, w)),
            Ok((
                inner.to_string(),
                vec![Wrapper::SafeLinks, Wrapper::GoogleRedirect]
            )),
            "a SafeLinks around a Google redirect must unwrap both layers"
        );
    }

    #[test]
    fn percent_decode_keeps_bad_escapes() {
        assert_eq!(
            percent_decode("a%2Fb%zz%"),
            "a/b%zz%",
            "only valid escapes are decoded"
        );
    }
}
