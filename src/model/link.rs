//! The meeting link found in an event, and the field it came from.

use serde::{Deserialize, Serialize};

/// Which field of an event a link was found in, in the order detection prefers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkSource {
    Conference,
    Url,
    Location,
    Description,
    Html,
}

/// A join link that detection accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingLink {
    /// The platform's id in the detection table, e.g. "zoom", "google_meet", "teams".
    pub platform: String,
    /// The link the user would click, exactly as written (after unwrapping redirect wrappers).
    pub url: String,
    /// The native-app link built from `url`, where the platform has one.
    pub native_url: Option<String>,
    pub source: LinkSource,
    pub meeting_id: Option<String>,
    pub passcode: Option<String>,
    #[serde(default)]
    pub dial_in: Vec<String>,
}
