//! Deciding whether one URL is a meeting link: scheme, userinfo, port, host, path — in that order.
//!
//! Invariants:
//! - Hosts are compared only after `url::Url` has parsed them (WHATWG URL Standard, which lowercases, applies
//!   IDNA/UTS #46 and removes default ports), and only on label boundaries: `h == d || h.ends_with("." + d)`.
//!   No substring of raw text decides acceptance, so `zoom.us@evil.com` (host `evil.com`), `zoom.us.evil.com`,
//!   `evilzoom.us` and `zoom-us.com` are never accepted.
//! - No allowed host is an internationalized name, so a host that was written with non-ASCII characters or holds
//!   a punycode (`xn--`) label is never accepted. Its decoded form is only used to name what it imitates.
//! - The more specific host wins: `events.zoom.com` belongs to Zoom Events even though `zoom.com` is Zoom's.

use super::platforms::{
    PathRule, Platform, DENY_FIRST_SEGMENT, DENY_HOST_PREFIX, DOCUMENT_SUFFIXES, PLATFORMS,
};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::OnceLock;
use url::Url;

/// Why a link was not offered. Every variant is a reason the user can read in `punctual detect --all`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Rejection {
    #[error("not a valid URL ({reason})")]
    Unparseable { reason: String },
    #[error("scheme `{scheme}:` is not http or https")]
    BadScheme { scheme: String },
    #[error(
        "the link carries a user name or password before the host, a way to disguise the real host"
    )]
    Userinfo,
    #[error("port {port} is not a meeting service's port")]
    UnexpectedPort { port: u16 },
    #[error("host {host} imitates {platform} but is not one of its hosts")]
    LookalikeHost { host: String, platform: String },
    #[error("host {host} is an internationalized name{}", resembles.as_ref().map(|p| format!(" that imitates {p}")).unwrap_or_default())]
    IdnHomograph {
        host: String,
        resembles: Option<String>,
    },
    #[error("host {host} is not a known meeting service")]
    UnknownHost { host: String },
    #[error("not a meeting page on {platform}: {why}")]
    NotAMeetingPage { platform: String, why: String },
    #[error("more than {max} redirect wrappers nested")]
    TooManyWrappers { max: usize },
    #[error("the {wrapper} wrapper has no target link")]
    EmptyWrapper { wrapper: String },
}

/// A link that passed every check.
#[derive(Debug)]
pub struct Accepted {
    pub platform: &'static Platform,
    pub rule: String,
    pub parsed: Url,
}

/// FNV-1a: the index is looked up once per label suffix of every link host, and hosts are short, so a simple
/// hash beats SipHash here; the keys are our own table's hosts, so there is nothing to attack.
#[derive(Default)]
pub struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type HostIndex = HashMap<&'static str, usize, std::hash::BuildHasherDefault<Fnv>>;

fn host_index() -> &'static HostIndex {
    static INDEX: OnceLock<HostIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut m = HostIndex::default();
        for (i, p) in PLATFORMS.iter().enumerate() {
            for h in p.hosts {
                m.insert(*h, i);
            }
        }
        m
    })
}

/// The row whose host is `host` or the longest label-boundary suffix of it, with the matched domain.
/// `host` must already be lowercase.
pub fn platform_for_host(host: &str) -> Option<(&'static Platform, &'static str)> {
    let index = host_index();
    let mut h = host;
    loop {
        if let Some((k, &i)) = index.get_key_value(h) {
            return PLATFORMS.get(i).map(|p| (p, *k));
        }
        h = &h[h.find('.')? + 1..];
    }
}

/// Does `host` (lowercase) end with `domain` on a label boundary?
pub fn host_is(host: &str, domain: &str) -> bool {
    host == domain
        || (host.len() > domain.len()
            && host.ends_with(domain)
            && host.as_bytes()[host.len() - domain.len() - 1] == b'.')
}

/// The platform a rejected host imitates, from the brands in the table: `zoom-us.com` → zoom.
fn imitated(host: &str) -> Option<&'static str> {
    let flat: String = host.chars().filter(|c| *c != '-' && *c != '.').collect();
    PLATFORMS
        .iter()
        .find(|p| p.brands.iter().any(|b| flat.contains(b)))
        .map(|p| p.id)
}

/// Map common Cyrillic and Greek confusables to the Latin letters they imitate (a subset of Unicode's
/// confusables.txt, UTS #39 §4), enough to name the platform a homograph imitates.
fn skeleton(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'а' | 'α' => 'a',
            'с' | 'ϲ' => 'c',
            'е' | 'ε' => 'e',
            'һ' => 'h',
            'і' | 'ι' | 'ӏ' => 'i',
            'ј' => 'j',
            'к' | 'κ' => 'k',
            'м' => 'm',
            'о' | 'ο' | 'σ' | '0' => 'o',
            'р' | 'ρ' => 'p',
            'ѕ' => 's',
            'т' | 'τ' => 't',
            'ս' | 'υ' => 'u',
            'ν' | 'ѵ' => 'v',
            'ԝ' | 'ω' => 'w',
            'х' | 'χ' => 'x',
            'у' | 'γ' => 'y',
            'ᴢ' => 'z',
            other => other,
        })
        .collect()
}

/// The raw authority of `raw` (between `://` and the path), to see whether it was written with non-ASCII.
fn raw_authority(raw: &str) -> &str {
    // Same reading as the URL Standard for special schemes: scheme, `:`, any run of `/` or `\\`, then the host.
    let after = raw
        .split_once(':')
        .map_or(raw, |(_, rest)| rest.trim_start_matches(['/', '\\']));
    let end = after.find(['/', '?', '#', '\\']).unwrap_or(after.len());
    &after[..end]
}

/// Check one URL, exactly as it would be opened.
#[cfg(test)]
pub fn validate(raw: &str) -> Result<Accepted, Rejection> {
    validate_parsed(raw, Url::parse(raw))
}

/// Check one URL that unwrapping already parsed (unwrapping parses it on the way).
pub fn validate_parsed(
    raw: &str,
    parsed: Result<Url, url::ParseError>,
) -> Result<Accepted, Rejection> {
    let parsed = parsed.map_err(|e| Rejection::Unparseable {
        reason: e.to_string(),
    })?;
    let scheme = parsed.scheme();
    if scheme != "http" && scheme != "https" {
        return Err(Rejection::BadScheme {
            scheme: scheme.to_string(),
        });
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Rejection::Userinfo);
    }
    let host = match parsed.host() {
        Some(url::Host::Domain(d)) => d.to_string(),
        Some(other) => {
            return Err(Rejection::UnknownHost {
                host: other.to_string(),
            })
        }
        None => {
            return Err(Rejection::Unparseable {
                reason: "no host".into(),
            })
        }
    };
    if let Some(port) = parsed.port() {
        return Err(Rejection::UnexpectedPort { port });
    }
    if !raw_authority(raw).is_ascii() || host.split('.').any(|l| l.starts_with("xn--")) {
        let (unicode, _) = idna::domain_to_unicode(&host);
        let skel = skeleton(&unicode);
        let resembles = platform_for_host(&skel)
            .map(|(p, _)| p.id)
            .or_else(|| imitated(&skel))
            .map(str::to_string);
        return Err(Rejection::IdnHomograph { host, resembles });
    }
    let Some((platform, domain)) = platform_for_host(&host) else {
        return Err(match imitated(&host) {
            Some(p) => Rejection::LookalikeHost {
                host,
                platform: p.to_string(),
            },
            None => Rejection::UnknownHost { host },
        });
    };
    let not_meeting = |why: String| Rejection::NotAMeetingPage {
        platform: platform.id.to_string(),
        why,
    };
    if let Some(prefix) = DENY_HOST_PREFIX
        .iter()
        .find(|p| host.starts_with(**p) && host.len() >= p.len() + domain.len())
    {
        return Err(not_meeting(format!(
            "{prefix}{domain} serves documentation or support"
        )));
    }
    let segs: Vec<&str> = parsed
        .path_segments()
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect();
    if let Some(last) = segs.last() {
        let lower = last.to_ascii_lowercase();
        if DOCUMENT_SUFFIXES.iter().any(|s| lower.ends_with(s)) {
            return Err(not_meeting(format!("{last} is a document or an installer")));
        }
    }
    match platform.paths {
        PathRule::Custom(name, check) => {
            if check(&parsed) {
                Ok(Accepted {
                    platform,
                    rule: format!("{}: host {domain}, path {name}", platform.id),
                    parsed,
                })
            } else {
                Err(not_meeting(format!(
                    "path {} is not a {name}",
                    parsed.path()
                )))
            }
        }
        PathRule::Patterns(patterns) => match patterns
            .iter()
            .find(|p| pattern_matches(p, &segs, &parsed, platform))
        {
            Some(p) => Ok(Accepted {
                platform,
                rule: format!("{}: host {domain}, path {p}", platform.id),
                parsed,
            }),
            None => Err(not_meeting(format!(
                "path {} matches none of {}",
                parsed.path(),
                patterns.join(" ")
            ))),
        },
    }
}

/// Match one path pattern (syntax in [`super::platforms`]) against the non-empty path segments.
fn pattern_matches(pattern: &str, segs: &[&str], parsed: &Url, platform: &Platform) -> bool {
    let (path, key) = match pattern.split_once('?') {
        Some((p, q)) => (p, Some(q.trim_end_matches('='))),
        None => (pattern, None),
    };
    let mut matched_all = false;
    let pats: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    for (i, pat) in pats.iter().enumerate() {
        let Some(seg) = segs.get(i) else { return false };
        match *pat {
            "**" => {
                matched_all = true;
                break;
            }
            "*" => {
                if i == 0 {
                    let lower = seg.to_ascii_lowercase();
                    if DENY_FIRST_SEGMENT.contains(&lower.as_str())
                        || platform.deny.contains(&lower.as_str())
                    {
                        return false;
                    }
                }
            }
            lit => {
                if !seg.eq_ignore_ascii_case(lit) {
                    return false;
                }
            }
        }
    }
    if !matched_all && segs.len() != pats.len() {
        return false;
    }
    match key {
        Some(k) => parsed
            .query_pairs()
            .any(|(name, v)| name.eq_ignore_ascii_case(k) && !v.is_empty()),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffix_is_on_label_boundaries() {
        assert!(
            host_is("acme.zoom.us", "zoom.us"),
            "a subdomain is on a label boundary"
        );
        assert!(host_is("zoom.us", "zoom.us"), "the domain itself matches");
        assert!(
            !host_is("evilzoom.us", "zoom.us"),
            "evilzoom.us only shares a substring"
        );
        assert!(
            platform_for_host("zoom.us.evil.com").is_none(),
            "a platform host as a prefix is not the host"
        );
        assert_eq!(
            platform_for_host("events.zoom.com").map(|(p, _)| p.id),
            Some("zoom_events"),
            "the longest suffix decides the platform"
        );
    }

    #[test]
    fn reasons_name_the_trick() {
        let r = validate("https://zoom-us.com/j/123").err();
        assert!(
            matches!(r, Some(Rejection::LookalikeHost { .. })),
            "zoom-us.com imitates zoom: {r:?}"
        );
        let r = validate("https://zoom.us@evil.com/j/123").err();
        assert_eq!(r, Some(Rejection::Userinfo), "userinfo hides the real host");
        let r = validate("https://zооm.us/j/123").err();
        assert!(
            matches!(&r, Some(Rejection::IdnHomograph { resembles: Some(p), .. }) if p == "zoom"),
            "Cyrillic o's make a homograph of zoom.us: {r:?}"
        );
        let r = validate("https://meet.google.com/landing").err();
        assert!(
            matches!(r, Some(Rejection::NotAMeetingPage { .. })),
            "the Meet landing page is not a meeting"
        );
    }
}
