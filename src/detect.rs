//! Meeting link detection (issue 3 fills this in).

use crate::model::MeetingLink;

/// The fields of an event that can hold a join link, in detection's order of preference.
#[derive(Clone, Copy, Debug, Default)]
pub struct Invite<'a> {
    pub conference: &'a [String],
    pub url: Option<&'a str>,
    pub location: Option<&'a str>,
    pub description: Option<&'a str>,
    pub html: Option<&'a str>,
}

/// The one join link in an invite, if there is a safe one.
pub fn detect(_invite: &Invite<'_>) -> Option<MeetingLink> {
    None
}
