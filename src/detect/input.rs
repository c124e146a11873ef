//! Building an invite from provider JSON or from `punctual detect`'s stdin.
//!
//! Provider fields read, in the order detection prefers them (issue 3):
//! - Google Calendar API v3 Events: `conferenceData.entryPoints[]` with `entryPointType == "video"` at any
//!   position, then `hangoutLink`; `location`; `description` (often HTML). Phone entry points are kept as
//!   `tel:` entries for the dial-in numbers; they are never join links.
//! - Microsoft Graph v1.0 event: `onlineMeeting.joinUrl`, then `onlineMeetingUrl` (deprecated but still sent);
//!   `body.content` as HTML when `body.contentType == "html"`, as text otherwise; `location.displayName`;
//!   `onlineMeeting.tollNumber` / `tollFreeNumbers` as `tel:` entries.
//! - Zoom API v2 meeting: `join_url`; `agenda` as the description.
//!
//! A list page (`items`, `value`, `meetings`) stands for its first event, so a whole API response can be piped to
//! `punctual detect` in a bug report.

use super::Invite;
use serde::Serialize;
use serde_json::Value;

/// An invite that owns its text, for input that is not a stored event.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OwnedInvite {
    pub conference: Vec<String>,
    pub url: Option<String>,
    pub location: Option<String>,
    pub description: Option<String>,
    pub html: Option<String>,
}

impl OwnedInvite {
    pub fn as_invite(&self) -> Invite<'_> {
        Invite {
            conference: &self.conference,
            url: self.url.as_deref(),
            location: self.location.as_deref(),
            description: self.description.as_deref(),
            html: self.html.as_deref(),
        }
    }
}

/// Which field `punctual detect --field` reads stdin as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InviteField {
    Location,
    Description,
    Html,
    ConferenceJson,
}

impl std::str::FromStr for InviteField {
    type Err = InputError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "location" => Ok(Self::Location),
            "description" => Ok(Self::Description),
            "html" => Ok(Self::Html),
            "conference-json" | "conference_json" | "json" => Ok(Self::ConferenceJson),
            other => Err(InputError::UnknownField(other.to_string())),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("unknown field `{0}`: expected location, description, html or conference-json")]
    UnknownField(String),
    #[error("conference-json: not a JSON object: {0}")]
    Json(String),
}

fn str_at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v str> {
    path.iter()
        .try_fold(v, |v, k| v.get(k))?
        .as_str()
        .filter(|s| !s.trim().is_empty())
}

/// Read a Google, Graph or Zoom event (or a page of them) into an invite.
pub fn invite_from_conference_json(v: &Value) -> OwnedInvite {
    let is_event = [
        "conferenceData",
        "hangoutLink",
        "onlineMeeting",
        "onlineMeetingUrl",
        "join_url",
        "body",
        "location",
        "description",
    ]
    .iter()
    .any(|k| v.get(k).is_some());
    if !is_event {
        for list in ["items", "value", "meetings"] {
            if let Some(first) = v
                .get(list)
                .and_then(Value::as_array)
                .and_then(|a| a.first())
            {
                return invite_from_conference_json(first);
            }
        }
    }
    let mut inv = OwnedInvite::default();
    let mut tel = Vec::new();
    if let Some(points) = v
        .pointer("/conferenceData/entryPoints")
        .and_then(Value::as_array)
    {
        for p in points {
            let kind = p.get("entryPointType").and_then(Value::as_str);
            let uri = p
                .get("uri")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty());
            match (kind, uri) {
                (Some("video"), Some(u)) => inv.conference.push(u.to_string()),
                (Some("phone"), Some(u)) => tel.push(u.to_string()),
                _ => {}
            }
        }
    }
    for path in [
        &["hangoutLink"][..],
        &["onlineMeeting", "joinUrl"],
        &["onlineMeetingUrl"],
        &["join_url"],
    ] {
        if let Some(u) = str_at(v, path) {
            if !inv.conference.iter().any(|c| c == u) {
                inv.conference.push(u.to_string());
            }
        }
    }
    if let Some(n) = str_at(v, &["onlineMeeting", "tollNumber"]) {
        tel.push(format!("tel:{n}"));
    }
    if let Some(list) = v
        .pointer("/onlineMeeting/tollFreeNumbers")
        .and_then(Value::as_array)
    {
        tel.extend(
            list.iter()
                .filter_map(Value::as_str)
                .map(|n| format!("tel:{n}")),
        );
    }
    inv.conference.extend(tel);
    inv.location = match v.get("location") {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        Some(obj @ Value::Object(_)) => str_at(obj, &["displayName"]).map(str::to_string),
        _ => None,
    };
    inv.description = str_at(v, &["description"])
        .or_else(|| str_at(v, &["agenda"]))
        .map(str::to_string);
    if let Some(content) = str_at(v, &["body", "content"]) {
        let html = v
            .pointer("/body/contentType")
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case("html"));
        if html {
            inv.html = Some(content.to_string());
        } else if inv.description.is_none() {
            inv.description = Some(content.to_string());
        }
    }
    inv
}

/// Build the invite `punctual detect` reads from stdin. With no field, the text is a whole invite: a JSON object
/// is read as provider JSON; anything else is the description, and also the HTML body when it looks like HTML.
pub fn invite_from_input(
    field: Option<InviteField>,
    text: &str,
) -> Result<OwnedInvite, InputError> {
    let owned = || Some(text.to_string());
    Ok(match field {
        Some(InviteField::Location) => OwnedInvite {
            location: owned(),
            ..Default::default()
        },
        Some(InviteField::Description) => OwnedInvite {
            description: owned(),
            ..Default::default()
        },
        Some(InviteField::Html) => OwnedInvite {
            html: owned(),
            ..Default::default()
        },
        Some(InviteField::ConferenceJson) => {
            let v: Value =
                serde_json::from_str(text).map_err(|e| InputError::Json(e.to_string()))?;
            if !v.is_object() {
                return Err(InputError::Json("expected an object".into()));
            }
            invite_from_conference_json(&v)
        }
        None => match serde_json::from_str::<Value>(text.trim()) {
            Ok(v) if v.is_object() => invite_from_conference_json(&v),
            _ if super::looks_like_html(text) => OwnedInvite {
                html: owned(),
                ..Default::default()
            },
            _ => OwnedInvite {
                description: owned(),
                ..Default::default()
            },
        },
    })
}
