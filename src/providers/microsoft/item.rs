//! One Graph `event` as calendarView delta sends it, read in place: each field Punctual uses is kept as its
//! source text (a borrowed [`RawValue`]) and read on demand, and the dozens it has no use for are skipped.
//!
//! Every field is lenient: a string field holding something else reads as absent, an object without the
//! expected shape reads as absent, and only JSON that does not parse (or names a field twice) fails the item.
//! A field kept raw also says whether it was sent at all, which is how an occurrence stub (id, type,
//! seriesMasterId, start, end) is told from a full occurrence, and how a stub takes the rest from its master
//! field by field ([`Item::or_master`]).

use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// A field whose presence matters (a `null` included), kept as its source text.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Field<'a>(pub(super) Option<&'a RawValue>);

impl<'de: 'a, 'a> Deserialize<'de> for Field<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <&'a RawValue>::deserialize(d).map(|r| Field(Some(r)))
    }
}

impl<'a> Field<'a> {
    /// The field read as `T`, or `None` when it is absent or has another shape.
    pub(super) fn read<T: Deserialize<'a>>(&self) -> Option<T> {
        serde_json::from_str(self.0?.get()).ok()
    }

    /// The field as a string (borrowed unless it has escapes), or `None` when absent or not a string.
    pub(super) fn text(&self) -> Option<Cow<'a, str>> {
        let raw = self.0?.get();
        if !raw.starts_with('"') {
            return None;
        }
        match serde_json::from_str::<&'a str>(raw) {
            Ok(s) => Some(Cow::Borrowed(s)),
            Err(_) => serde_json::from_str::<String>(raw).ok().map(Cow::Owned),
        }
    }

    /// The string unless it is blank, as Graph sends fields it has no value for (`"displayName": ""`).
    pub(super) fn non_blank(&self) -> Option<String> {
        self.text()
            .filter(|s| !s.trim().is_empty())
            .map(Cow::into_owned)
    }

    /// Whether the field is the boolean `true`.
    pub(super) fn is_true(&self) -> bool {
        self.0.map(RawValue::get) == Some("true")
    }

    /// Whether it was sent with a value (`null` counts as not sent: Graph writes `null` for "none").
    pub(super) fn present(&self) -> bool {
        self.0.is_some_and(|r| r.get() != "null")
    }

    /// A string field of the object this field holds. Read with a visitor that keeps only that member:
    /// this runs a few times for every event of a sync, and a map of every member cost an allocation each.
    pub(super) fn member(&self, name: &str) -> Option<Cow<'a, str>> {
        let raw = self.0?.get();
        let mut de = serde_json::Deserializer::from_str(raw);
        let found = serde::Deserializer::deserialize_map(&mut de, MemberOf { name }).ok()?;
        found.and_then(|f| f.text())
    }

    fn or(self, other: Field<'a>) -> Field<'a> {
        if self.present() {
            self
        } else {
            other
        }
    }
}

/// Finds the member `name` of a JSON object, skipping the others without keeping them.
struct MemberOf<'n> {
    name: &'n str,
}

impl<'de, 'n> serde::de::Visitor<'de> for MemberOf<'n> {
    type Value = Option<Field<'de>>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if found.is_none() && key == self.name {
                found = Some(map.next_value::<Field<'de>>()?);
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// A `dateTimeTimeZone`: a wall-clock `dateTime` without offset and the `timeZone` it is read in.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Time<'a> {
    #[serde(borrow, default)]
    pub(super) date_time: Field<'a>,
    #[serde(borrow, default)]
    pub(super) time_zone: Field<'a>,
}

/// The fields of a Graph event that Punctual reads.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Item<'a> {
    #[serde(borrow, default)]
    pub(super) id: Field<'a>,
    #[serde(rename = "@removed", borrow, default)]
    pub(super) removed: Field<'a>,
    #[serde(rename = "type", borrow, default)]
    pub(super) kind: Field<'a>,
    #[serde(borrow, default)]
    pub(super) series_master_id: Field<'a>,
    #[serde(borrow, default)]
    pub(super) subject: Field<'a>,
    #[serde(borrow, default)]
    pub(super) body: Field<'a>,
    #[serde(borrow, default)]
    pub(super) location: Field<'a>,
    #[serde(borrow, default)]
    pub(super) start: Field<'a>,
    #[serde(borrow, default)]
    pub(super) end: Field<'a>,
    #[serde(borrow, default)]
    pub(super) original_start_time_zone: Field<'a>,
    #[serde(borrow, default)]
    pub(super) is_all_day: Field<'a>,
    #[serde(borrow, default)]
    pub(super) is_cancelled: Field<'a>,
    #[serde(borrow, default)]
    pub(super) show_as: Field<'a>,
    #[serde(borrow, default)]
    pub(super) response_status: Field<'a>,
    #[serde(borrow, default)]
    pub(super) created_date_time: Field<'a>,
    #[serde(borrow, default)]
    pub(super) last_modified_date_time: Field<'a>,
    // Where join links come from (what `detect::invite_from_conference_json` reads for them).
    #[serde(borrow, default)]
    pub(super) online_meeting: Field<'a>,
    #[serde(borrow, default)]
    pub(super) online_meeting_url: Field<'a>,
    // Only what `encode` writes, so a body read back as an outbox row keeps its id.
    #[serde(borrow, default)]
    pub(super) transaction_id: Field<'a>,
}

impl<'a> Item<'a> {
    /// An occurrence that came as a stub: the docs' and the fixtures' occurrences name their series and
    /// times but may leave out everything else, which then comes from the master.
    pub(super) fn is_stub(&self) -> bool {
        self.kind.text().as_deref() == Some("occurrence")
            && self.series_master_id.present()
            && !self.subject.present()
    }

    /// This occurrence with every content field it left out taken from its series master. Its own id,
    /// times and kind stay its own (its version and iCalUId are in its raw JSON).
    pub(super) fn or_master(self, m: &Item<'a>) -> Item<'a> {
        Item {
            subject: self.subject.or(m.subject),
            body: self.body.or(m.body),
            location: self.location.or(m.location),
            original_start_time_zone: self.original_start_time_zone.or(m.original_start_time_zone),
            is_all_day: self.is_all_day.or(m.is_all_day),
            show_as: self.show_as.or(m.show_as),
            response_status: self.response_status.or(m.response_status),
            online_meeting: self.online_meeting.or(m.online_meeting),
            online_meeting_url: self.online_meeting_url.or(m.online_meeting_url),
            created_date_time: self.created_date_time.or(m.created_date_time),
            last_modified_date_time: self.last_modified_date_time.or(m.last_modified_date_time),
            ..self
        }
    }

    /// The user's own answer (`responseStatus.response`): none, organizer, tentativelyAccepted, accepted,
    /// declined, notResponded.
    pub(super) fn response(&self) -> Option<Cow<'a, str>> {
        self.response_status.member("response")
    }

    /// The join links of the item's conference fields, best first (`onlineMeeting.joinUrl`, then
    /// `onlineMeetingUrl`, then the dial-ins), read by detection exactly as it reads any provider's.
    pub(super) fn conference_uris(&self) -> Vec<String> {
        if !self.online_meeting.present() && !self.online_meeting_url.present() {
            return Vec::new();
        }
        let mut object = serde_json::Map::new();
        for (k, f) in [
            ("onlineMeeting", &self.online_meeting),
            ("onlineMeetingUrl", &self.online_meeting_url),
        ] {
            if let Some(v) = f.read::<serde_json::Value>() {
                object.insert(k.to_string(), v);
            }
        }
        crate::detect::invite_from_conference_json(&serde_json::Value::Object(object)).conference
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_is_read_from_its_object_and_nothing_else_counts() {
        let field = |json: &'static str| Field(serde_json::from_str::<&RawValue>(json).ok());
        let loc = field(
            r#"{"address": {"city": "Köln"}, "displayName": "Room \"A\"", "x": [1, {"y": 2}]}"#,
        );
        assert_eq!(
            loc.member("displayName").as_deref(),
            Some("Room \"A\""),
            "the member is found past nested objects and arrays, its escapes decoded"
        );
        assert_eq!(
            loc.member("address"),
            None,
            "a member that is not a string reads as absent, as any field of another type does"
        );
        assert_eq!(loc.member("missing"), None, "an absent member is absent");
        assert_eq!(
            field(r#""Room 1""#).member("displayName"),
            None,
            "a field that is not an object has no members"
        );
        assert_eq!(
            Field(None).member("displayName"),
            None,
            "neither has a field that was never sent"
        );
    }

    #[test]
    fn fields_of_another_type_read_as_absent() {
        let item: Item<'_> = serde_json::from_str(
            r#"{"id": 7, "subject": {"a": [1]}, "showAs": null, "location": "Room 1",
                "isAllDay": "true", "unknown": {"deep": [1]}}"#,
        )
        .expect("an item with odd fields still reads");
        assert_eq!(item.id.text(), None, "a numeric id is no id");
        assert_eq!(item.subject.text(), None, "an object is no subject");
        assert_eq!(item.show_as.text(), None, "null is no showAs");
        assert_eq!(
            item.location.member("displayName"),
            None,
            "a location that is not an object has no displayName"
        );
        assert!(
            !item.is_all_day.is_true(),
            "only the boolean true is all-day, not the string"
        );
    }

    #[test]
    fn escaped_strings_are_unescaped() {
        let item: Item<'_> =
            serde_json::from_str(r#"{"subject": "Caf\u00e9 \"1\""}"#).expect("reads");
        assert_eq!(
            item.subject.text().as_deref(),
            Some("Café \"1\""),
            "a string with escapes is decoded, not borrowed raw"
        );
    }

    #[test]
    fn a_stub_takes_what_it_lacks_from_its_master_and_keeps_its_own() {
        let stub: Item<'_> = serde_json::from_str(
            r#"{"id": "occ", "type": "occurrence", "seriesMasterId": "m",
                "start": {"dateTime": "2024-03-12T15:00:00", "timeZone": "UTC"}, "onlineMeeting": null}"#,
        )
        .expect("reads");
        let master: Item<'_> = serde_json::from_str(
            r#"{"id": "m", "type": "seriesMaster", "subject": "Review", "showAs": "free",
                "start": {"dateTime": "2024-03-05T15:00:00", "timeZone": "UTC"},
                "onlineMeeting": {"joinUrl": "https://teams.microsoft.com/l/meetup-join/x"}}"#,
        )
        .expect("reads");
        assert!(stub.is_stub(), "an occurrence without a subject is a stub");
        assert!(!master.is_stub(), "a master is never a stub");
        let full = stub.or_master(&master);
        assert_eq!(
            full.subject.text().as_deref(),
            Some("Review"),
            "the subject comes from the master"
        );
        assert_eq!(
            full.conference_uris(),
            vec!["https://teams.microsoft.com/l/meetup-join/x".to_string()],
            "a null onlineMeeting is none, so the master's join link fills it"
        );
        assert_eq!(
            full.id.text().as_deref(),
            Some("occ"),
            "the occurrence keeps its own id"
        );
        assert_eq!(
            full.start
                .read::<Time<'_>>()
                .and_then(|t| t.date_time.text().map(Cow::into_owned))
                .as_deref(),
            Some("2024-03-12T15:00:00"),
            "and its own start, not the series' first"
        );
    }
}
