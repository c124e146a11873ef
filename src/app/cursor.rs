//! Opaque page cursors: base64 (URL-safe) of a small JSON object holding the query's scope and the
//! (start, id) key where the page starts. A cursor alone continues the listing it came from, so scripts
//! need not repeat the window.

use crate::error::{Error, ErrorCode, Result};
use crate::store::{OccurrenceRow, PageDirection, PageKey};
use base64::Engine as _;
use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// What a listing covers: the window and filters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    #[serde(rename = "f")]
    from: i64,
    #[serde(rename = "t")]
    to: i64,
    #[serde(rename = "c", default)]
    pub calendars: Vec<String>,
    #[serde(rename = "a", default)]
    pub all: bool,
}

impl Scope {
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>, calendars: Vec<String>, all: bool) -> Self {
        Scope {
            from: from.timestamp(),
            to: to.timestamp(),
            calendars,
            all,
        }
    }
    pub fn from(&self) -> Result<DateTime<Utc>> {
        ts(self.from)
    }
    pub fn to(&self) -> Result<DateTime<Utc>> {
        ts(self.to)
    }
}

fn ts(s: i64) -> Result<DateTime<Utc>> {
    Utc.timestamp_opt(s, 0).single().ok_or_else(bad)
}

#[derive(Serialize, Deserialize)]
struct Wire {
    v: u8,
    #[serde(flatten)]
    scope: Scope,
    /// "n" for the page after the key, "p" for the page before it.
    d: String,
    s: i64,
    i: String,
}

/// A decoded cursor.
pub struct Cursor {
    pub scope: Scope,
    pub key: PageKey,
}

pub fn key_of(r: &OccurrenceRow) -> (i64, String) {
    (r.start.timestamp(), r.id.clone())
}

pub fn encode(scope: &Scope, (s, i): (i64, String), d: PageDirection) -> String {
    let w = Wire {
        v: 1,
        scope: scope.clone(),
        d: if d == PageDirection::Next { "n" } else { "p" }.into(),
        s,
        i,
    };
    let json = serde_json::to_vec(&w).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

fn bad() -> Error {
    Error::field(
        ErrorCode::InvalidCursor,
        "cursor",
        "cursor is not one this app gave out; start the listing again without it",
    )
}

pub fn decode(c: &str) -> Result<Cursor> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c.trim())
        .map_err(|_| bad())?;
    let w: Wire = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    let direction = match (w.v, w.d.as_str()) {
        (1, "n") => PageDirection::Next,
        (1, "p") => PageDirection::Previous,
        _ => return Err(bad()),
    };
    if w.scope.to <= w.scope.from {
        return Err(bad());
    }
    Ok(Cursor {
        scope: w.scope,
        key: PageKey {
            start: w.s,
            id: w.i,
            direction,
        },
    })
}
