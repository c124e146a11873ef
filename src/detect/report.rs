//! What detection saw: every candidate with its field, rule and verdict, for `punctual detect` and bug reports.
//!
//! Invariant: exactly one candidate has `chosen == true` when `link` is `Some`, and it is the one `link` was
//! built from; none otherwise.

use super::unwrap::Wrapper;
use super::validate::Rejection;
use crate::model::{LinkSource, MeetingLink};
use serde::Serialize;
use std::fmt::Write as _;

/// One link-looking thing found in an invite.
#[derive(Clone, Debug, Serialize)]
pub struct Candidate {
    pub source: LinkSource,
    /// Byte offset in the field (in the conference entry, for conference data).
    pub offset: usize,
    /// Taken from an HTML `href` rather than from text.
    pub from_href: bool,
    /// The link as written, when it differs from `url` (a wrapper was removed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<String>,
    /// The link after unwrapping: what would be opened.
    pub url: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub wrappers: Vec<Wrapper>,
    pub platform: Option<String>,
    /// The table rule that accepted it: "zoom: host zoom.us, path /j/*".
    pub rule: Option<String>,
    /// Why it was not accepted.
    pub rejection: Option<Rejection>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub native_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meeting_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passcode: Option<String>,
    /// This candidate is the returned link.
    pub chosen: bool,
}

/// The result of [`super::explain`]: the link detection returns and everything it considered.
#[derive(Clone, Debug, Serialize)]
pub struct Explanation {
    pub link: Option<MeetingLink>,
    pub candidates: Vec<Candidate>,
}

fn source_name(s: LinkSource) -> &'static str {
    match s {
        LinkSource::Conference => "conference",
        LinkSource::Url => "url",
        LinkSource::Location => "location",
        LinkSource::Description => "description",
        LinkSource::Html => "html",
    }
}

impl Explanation {
    /// The candidate the link was built from.
    pub fn chosen(&self) -> Option<&Candidate> {
        self.candidates.iter().find(|c| c.chosen)
    }

    /// Human-readable report. `all`: also list every other candidate, rejected ones with their reason.
    pub fn render_text(&self, all: bool) -> String {
        let mut out = String::new();
        match (&self.link, self.chosen()) {
            (Some(link), chosen) => {
                let name = super::platform_name(&link.platform).unwrap_or(&link.platform);
                let _ = writeln!(out, "link:      {}", link.url);
                let _ = writeln!(out, "platform:  {name} ({})", link.platform);
                let _ = writeln!(out, "field:     {}", source_name(link.source));
                if let Some(c) = chosen {
                    if let Some(rule) = &c.rule {
                        let _ = writeln!(out, "rule:      {rule}");
                    }
                    if !c.wrappers.is_empty() {
                        let names: Vec<_> = c.wrappers.iter().map(|w| w.name()).collect();
                        let _ = writeln!(out, "unwrapped: {}", names.join(" > "));
                    }
                }
                if let Some(n) = &link.native_url {
                    let _ = writeln!(out, "native:    {n}");
                }
                if let Some(id) = &link.meeting_id {
                    let _ = writeln!(out, "meeting id: {id}");
                }
                if let Some(p) = &link.passcode {
                    let _ = writeln!(out, "passcode:  {p}");
                }
                for d in &link.dial_in {
                    let _ = writeln!(out, "dial-in:   {d}");
                }
            }
            (None, _) => {
                let _ = writeln!(out, "no meeting link found");
                if !all && !self.candidates.is_empty() {
                    let _ = writeln!(
                        out,
                        "({} candidates rejected; run with --all to see why)",
                        self.candidates.len()
                    );
                }
            }
        }
        if all {
            let _ = writeln!(out, "\ncandidates ({}):", self.candidates.len());
            for c in &self.candidates {
                let mark = if c.chosen {
                    "chosen  "
                } else if c.rejection.is_none() {
                    "accepted"
                } else {
                    "rejected"
                };
                let _ = writeln!(
                    out,
                    "  [{mark}] {} @{}{}: {}",
                    source_name(c.source),
                    c.offset,
                    if c.from_href { " href" } else { "" },
                    c.url
                );
                if let Some(f) = &c.found {
                    let _ = writeln!(out, "             found as {f}");
                }
                match (&c.rule, &c.rejection) {
                    (_, Some(r)) => {
                        let _ = writeln!(out, "             why: {r}");
                    }
                    (Some(rule), None) => {
                        let _ = writeln!(out, "             rule: {rule}");
                    }
                    (None, None) => {}
                }
            }
        }
        out
    }
}
