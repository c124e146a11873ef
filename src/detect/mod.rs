//! Meeting link detection: find the one right join link in an event, and never a dangerous one.
//!
//! Concepts:
//! - An [`Invite`] is the fields of an event that can hold a link, in the order detection prefers them
//!   ([`LinkSource`]): conference data, the event's url, its location, its description (read as HTML when it
//!   looks like HTML, as Google's often is), and the HTML body.
//! - A [`Candidate`] is every link-looking thing found in those fields ([`scan`]), unwrapped from SafeLinks and
//!   Google redirects ([`unwrap`]) and then accepted or rejected with a reason ([`validate`]) against the
//!   platform table ([`platforms::PLATFORMS`], one row per service).
//! - The best candidate is the accepted one with the earliest field, then the lowest platform priority, then the
//!   earliest position. [`explain`] keeps every candidate for `punctual detect --all` and a future chooser;
//!   [`detect`] returns the same best link without keeping the rejected ones.
//!
//! Invariants:
//! - A returned link's `url` parses, is http(s), has no userinfo and no explicit port, and its host is one of
//!   the table's hosts by label-boundary suffix. It is the link as written in the invite (after unwrapping),
//!   never re-encoded: its query and fragment are kept.
//! - `native_url` is only ever built here, from an accepted link; a native scheme found in an invite is rejected.
//! - `detect(i) == explain(i).link` for every invite (checked by the tests).
//! - No network, no store: this module is pure and never panics on any input (fuzzed, see fuzz/).

mod extract;
mod input;
pub mod platforms;
mod report;
mod scan;
mod unwrap;
mod validate;

pub use input::{
    invite_from_conference_json, invite_from_input, InputError, InviteField, OwnedInvite,
};
pub use report::{Candidate, Explanation};
pub use scan::looks_like_html;
pub use unwrap::Wrapper;
pub use validate::Rejection;

use crate::model::{LinkSource, MeetingLink};
use platforms::{Native, Platform};

/// The fields of an event that can hold a join link, in detection's order of preference.
#[derive(Clone, Copy, Debug, Default)]
pub struct Invite<'a> {
    pub conference: &'a [String],
    pub url: Option<&'a str>,
    pub location: Option<&'a str>,
    pub description: Option<&'a str>,
    pub html: Option<&'a str>,
}

impl<'a> Invite<'a> {
    /// The fields of a stored event, in detection's order: its conference URIs, url, location, description
    /// and HTML body.
    pub fn from_event(event: &'a crate::model::Event) -> Self {
        Invite {
            conference: &event.conference.uris,
            url: event.url.as_deref(),
            location: event.location.as_deref(),
            description: event.description.as_deref(),
            html: event.conference.html.as_deref(),
        }
    }
}

/// The one join link in an invite, if there is a safe one.
pub fn detect(invite: &Invite<'_>) -> Option<MeetingLink> {
    run(invite, false).link
}

/// The best link and every candidate, accepted or not, with the field, the rule and the reason.
pub fn explain(invite: &Invite<'_>) -> Explanation {
    run(invite, true)
}

/// Re-validate a link right before it is opened: unwrap it, check it against the table, rebuild its native link.
/// The result's `source` is [`LinkSource::Url`]; id, passcode and dial-in come only from the link itself.
pub fn accept_url(url: &str) -> Result<MeetingLink, Rejection> {
    let (inner, _, parsed) = unwrap::unwrap_all(url.trim())?;
    let accepted = validate::validate_parsed(&inner, parsed)?;
    let details = extract::from_url(accepted.platform.id, &accepted.parsed);
    Ok(MeetingLink {
        platform: accepted.platform.id.to_string(),
        native_url: native_url(accepted.platform, &accepted.parsed),
        url: inner,
        source: LinkSource::Url,
        meeting_id: details.meeting_id,
        passcode: details.passcode,
        dial_in: details.dial_in,
    })
}

/// Re-validate a stored link before opening it, keeping what detection extracted (id, passcode, dial-in,
/// source). The native link is rebuilt from the web link, so a tampered `native_url` is never opened.
pub fn accept_link(link: &MeetingLink) -> Result<MeetingLink, Rejection> {
    let fresh = accept_url(&link.url)?;
    Ok(MeetingLink {
        source: link.source,
        meeting_id: link.meeting_id.clone().or(fresh.meeting_id),
        passcode: link.passcode.clone().or(fresh.passcode),
        dial_in: if link.dial_in.is_empty() {
            fresh.dial_in
        } else {
            link.dial_in.clone()
        },
        ..fresh
    })
}

/// The display name of a platform id ("zoom" → "Zoom").
pub fn platform_name(id: &str) -> Option<&'static str> {
    platforms::by_id(id).map(|p| p.name)
}

/// The native-app link for an accepted web link, where the platform has one.
fn native_url(p: &Platform, u: &url::Url) -> Option<String> {
    let host = u.host_str()?;
    match p.native {
        Native::None => None,
        Native::Zoom => {
            // zoommtg://{host}/join?action=join&confno={id}&pwd={pwd} (Zoom "Launching the Zoom client by URL scheme").
            let id = extract::from_url("zoom", u).meeting_id?;
            let pwd = u.query()?.split('&').find_map(|kv| kv.strip_prefix("pwd="));
            Some(match pwd {
                Some(pwd) if !pwd.is_empty() => {
                    format!("zoommtg://{host}/join?action=join&confno={id}&pwd={pwd}")
                }
                _ => format!("zoommtg://{host}/join?action=join&confno={id}"),
            })
            .or(None)
        }
        Native::Teams => {
            let path = u.path();
            if path.starts_with("/l/") || path.starts_with("/meet/") {
                Some(match u.query() {
                    Some(q) => format!("msteams:{path}?{q}"),
                    None => format!("msteams:{path}"),
                })
            } else {
                None
            }
        }
        Native::Webex => Some(match u.query() {
            Some(q) => format!("webex://{host}{}?{q}", u.path()),
            None => format!("webex://{host}{}", u.path()),
        }),
        Native::Discord => u
            .path()
            .starts_with("/channels/")
            .then(|| format!("discord://-{}", u.path())),
    }
}

/// The fields of an invite in preference order, each with whether it is read as HTML.
fn fields<'a>(invite: &Invite<'a>) -> Vec<(LinkSource, &'a str, bool)> {
    let mut out: Vec<(LinkSource, &'a str, bool)> = invite
        .conference
        .iter()
        .map(|c| (LinkSource::Conference, c.as_str(), false))
        .collect();
    if let Some(u) = invite.url {
        out.push((LinkSource::Url, u, false));
    }
    if let Some(l) = invite.location {
        out.push((LinkSource::Location, l, false));
    }
    if let Some(d) = invite.description {
        out.push((LinkSource::Description, d, scan::looks_like_html(d)));
    }
    if let Some(h) = invite.html {
        out.push((LinkSource::Html, h, true));
    }
    out
}

fn run(invite: &Invite<'_>, keep_all: bool) -> Explanation {
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut best: Option<(usize, (LinkSource, u8, usize))> = None;
    let mut seq = 0usize;
    for (source, text, html) in fields(invite) {
        // A later field can never beat an accepted link from an earlier one, so `detect` stops here.
        if !keep_all && best.as_ref().is_some_and(|(_, key)| key.0 < source) {
            break;
        }
        let mut on_found = |found: scan::Found<'_>| {
            seq += 1;
            let (url, wrappers, verdict) = match unwrap::unwrap_all(&found.raw) {
                Ok((inner, wrappers, parsed)) => {
                    let verdict = validate::validate_parsed(&inner, parsed);
                    (inner, wrappers, verdict)
                }
                Err(r) => (found.raw.to_string(), Vec::new(), Err(r)),
            };
            let accepted = verdict
                .as_ref()
                .ok()
                .map(|a| (a.platform.id, a.platform.priority));
            if !keep_all && accepted.is_none() {
                return;
            }
            let (platform, rule, rejection, native, details) = match verdict {
                Ok(a) => {
                    let native = native_url(a.platform, &a.parsed);
                    let details = extract::from_url(a.platform.id, &a.parsed);
                    (
                        Some(a.platform.id.to_string()),
                        Some(a.rule),
                        None,
                        native,
                        details,
                    )
                }
                Err(r) => {
                    let platform = match &r {
                        Rejection::NotAMeetingPage { platform, .. } => Some(platform.clone()),
                        _ => None,
                    };
                    (platform, None, Some(r), None, extract::Details::default())
                }
            };
            let index = candidates.len();
            if let Some((_, priority)) = accepted {
                let key = (source, priority, seq);
                if best.as_ref().is_none_or(|(_, k)| key < *k) {
                    best = Some((index, key));
                }
            }
            candidates.push(Candidate {
                source,
                offset: found.offset,
                from_href: found.from_href,
                found: if found.raw == url {
                    None
                } else {
                    Some(found.raw.into_owned())
                },
                url,
                wrappers,
                platform,
                rule,
                rejection,
                native_url: native,
                meeting_id: details.meeting_id,
                passcode: details.passcode,
                chosen: false,
            });
        };
        scan::scan(text, html, keep_all, &mut on_found);
        // Short fields often hold a link without its scheme ("acme.zoom.us/j/…" in a location).
        if !html && source <= LinkSource::Location && text.len() <= scan::BARE_MAX {
            scan::scan_bare(text, &mut on_found);
        }
    }
    let link = best.and_then(|(i, _)| {
        let c = candidates.get_mut(i)?;
        c.chosen = true;
        let text = details_text(invite, c.source, c.offset);
        let from_text = extract::from_text(&text);
        Some(MeetingLink {
            platform: c.platform.clone().unwrap_or_default(),
            url: c.url.clone(),
            native_url: c.native_url.clone(),
            source: c.source,
            meeting_id: c.meeting_id.clone().or(from_text.meeting_id),
            passcode: c.passcode.clone().or(from_text.passcode),
            dial_in: from_text.dial_in,
        })
    });
    if !keep_all {
        candidates.clear();
    }
    Explanation { link, candidates }
}

/// How far around the chosen link labels and dial-in numbers are read: invites put them in the meeting block,
/// right after the link (ids and passcodes within a few hundred bytes, dial-in lists within a few KB). Bounding it keeps extraction from costing
/// more than the scan on long bodies.
const DETAILS_BEFORE: usize = 1024;
const DETAILS_AFTER: usize = 6 * 1024;

/// The largest char boundary at or below `i`.
fn floor_boundary(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The invite's text as a reader sees it, near the chosen link, for labels and dial-in numbers.
fn details_text(invite: &Invite<'_>, source: LinkSource, offset: usize) -> String {
    let mut text = String::new();
    for c in invite.conference {
        text.push_str(&c[..floor_boundary(c, 4096)]);
        text.push('\n');
    }
    let fields = [
        (LinkSource::Location, invite.location),
        (LinkSource::Description, invite.description),
        (LinkSource::Html, invite.html),
    ];
    for (field, t) in fields {
        let Some(t) = t else { continue };
        let (from, to) = if field == source {
            (
                offset.saturating_sub(DETAILS_BEFORE),
                offset + DETAILS_AFTER,
            )
        } else {
            (0, DETAILS_AFTER)
        };
        let window = &t[floor_boundary(t, from)..floor_boundary(t, to)];
        if field == LinkSource::Html || scan::looks_like_html(window) {
            text.push_str(&scan::html_to_text(window));
        } else {
            text.push_str(window);
        }
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_order_then_priority() {
        let conference = vec!["https://meet.google.com/kpw-qzrt-vxa".to_string()];
        let invite = Invite {
            conference: &conference,
            description: Some("Or Zoom: https://acme.zoom.us/j/84512345678"),
            ..Default::default()
        };
        let link = detect(&invite);
        assert_eq!(
            link.map(|l| l.platform),
            Some("google_meet".into()),
            "conference data beats the description"
        );
        let invite = Invite {
            description: Some(
                "Slack https://app.slack.com/huddle/T1/C2 or https://acme.zoom.us/j/84512345678",
            ),
            ..Default::default()
        };
        assert_eq!(
            detect(&invite).map(|l| l.platform),
            Some("zoom".into()),
            "in one field, Zoom outranks a Slack huddle"
        );
    }

    #[test]
    fn native_links() {
        let l = accept_url("https://acme.zoom.us/j/84512345678?pwd=bXlSeWJ5aWRsTk5VZz09");
        assert_eq!(
            l.ok().and_then(|l| l.native_url),
            Some("zoommtg://acme.zoom.us/join?action=join&confno=84512345678&pwd=bXlSeWJ5aWRsTk5VZz09".into()),
            "the Zoom native link carries the id and the pwd token verbatim"
        );
        let l = accept_url(
            "https://teams.microsoft.com/l/meetup-join/19%3ameeting_X%40thread.v2/0?context=%7b%7d",
        );
        assert_eq!(
            l.ok().and_then(|l| l.native_url),
            Some("msteams:/l/meetup-join/19%3ameeting_X%40thread.v2/0?context=%7b%7d".into()),
            "the Teams native link is the web path under msteams:"
        );
    }
}
