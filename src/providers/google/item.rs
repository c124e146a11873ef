//! One events.list item as Google sends it, read in place: strings borrow from the page, and the fields
//! Punctual has no use for are skipped without being built. Reading every item into a `serde_json::Value`
//! tree first (a map and a string per field) was a quarter of the apply path's instructions.
//!
//! Every field is lenient, as reading a `Value` was: a string field holding something else reads as absent,
//! a nested object that does not have the expected shape reads as absent, and only JSON that does not parse
//! (or names a field twice) fails the item.

use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;

/// A string field: `None` when absent or not a string.
#[derive(Debug, Default)]
pub(super) struct Text<'a>(pub(super) Option<Cow<'a, str>>);

impl<'a> Text<'a> {
    pub(super) fn as_str(&self) -> Option<&str> {
        self.0.as_deref()
    }

    /// The text unless it is blank, as Google leaves fields it has no value for.
    pub(super) fn non_blank(&self) -> Option<String> {
        self.as_str()
            .filter(|s| !s.trim().is_empty())
            .map(str::to_string)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Text(Some(Cow::Borrowed(s))))
    }
    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Text(Some(Cow::Owned(s.to_string()))))
    }
    fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
        Ok(Text(Some(Cow::Owned(s))))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Text(None))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Text(None))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Text(None))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Text(None))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Text(None))
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Text(None))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Text(None))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Text(None))
    }
}

/// A field whose presence matters (a `null` included), kept as its source text to be read on demand.
#[derive(Debug, Default)]
pub(super) struct Field<'a>(pub(super) Option<&'a RawValue>);

impl<'de: 'a, 'a> Deserialize<'de> for Field<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <&'a RawValue>::deserialize(d).map(|r| Field(Some(r)))
    }
}

impl<'a> Field<'a> {
    /// The field read as `T`, or `None` when it is absent or has another shape.
    pub(super) fn read<T: Deserialize<'a>>(&self) -> Option<T> {
        serde_json::from_str(self.0?.get()).ok()
    }
}

/// A `{date}` or `{dateTime, timeZone}` object.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Time<'a> {
    #[serde(borrow, default)]
    pub(super) date: Text<'a>,
    #[serde(borrow, default)]
    pub(super) date_time: Text<'a>,
    #[serde(borrow, default)]
    pub(super) time_zone: Text<'a>,
}

/// An attendee, for whether the user declined.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Attendee<'a> {
    #[serde(rename = "self", borrow, default)]
    pub(super) is_self: Field<'a>,
    #[serde(borrow, default)]
    pub(super) response_status: Text<'a>,
}

/// The fields of an events.list item that Punctual reads.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Item<'a> {
    #[serde(borrow, default)]
    pub(super) id: Text<'a>,
    #[serde(borrow, default)]
    pub(super) recurring_event_id: Text<'a>,
    #[serde(borrow, default)]
    pub(super) status: Text<'a>,
    #[serde(borrow, default)]
    pub(super) original_start_time: Field<'a>,
    #[serde(borrow, default)]
    pub(super) start: Field<'a>,
    #[serde(borrow, default)]
    pub(super) end: Field<'a>,
    #[serde(borrow, default)]
    pub(super) recurrence: Field<'a>,
    #[serde(borrow, default)]
    pub(super) summary: Text<'a>,
    #[serde(borrow, default)]
    pub(super) description: Text<'a>,
    #[serde(borrow, default)]
    pub(super) location: Text<'a>,
    #[serde(borrow, default)]
    pub(super) event_type: Text<'a>,
    #[serde(borrow, default)]
    pub(super) created: Text<'a>,
    #[serde(borrow, default)]
    pub(super) updated: Text<'a>,
    #[serde(borrow, default)]
    pub(super) color_id: Text<'a>,
    #[serde(borrow, default)]
    pub(super) transparency: Text<'a>,
    #[serde(borrow, default)]
    pub(super) attendees: Field<'a>,
    // Where join links come from (what `detect::invite_from_conference_json` reads for them).
    #[serde(borrow, default)]
    pub(super) conference_data: Field<'a>,
    #[serde(borrow, default)]
    pub(super) hangout_link: Field<'a>,
    #[serde(borrow, default)]
    pub(super) online_meeting: Field<'a>,
    #[serde(borrow, default)]
    pub(super) online_meeting_url: Field<'a>,
    #[serde(rename = "join_url", borrow, default)]
    pub(super) join_url: Field<'a>,
}

impl Item<'_> {
    /// The recurrence lines, when `recurrence` is an array (its non-string entries dropped).
    pub(super) fn recurrence_lines(&self) -> Option<Vec<String>> {
        let lines: Vec<Text<'_>> = self.recurrence.read()?;
        Some(
            lines
                .iter()
                .filter_map(|l| l.as_str().map(str::to_string))
                .collect(),
        )
    }

    /// Whether the user's own attendee entry declined.
    pub(super) fn declined_by_self(&self) -> bool {
        let Some(list) = self.attendees.read::<Vec<&RawValue>>() else {
            return false;
        };
        list.iter().any(|raw| {
            serde_json::from_str::<Attendee<'_>>(raw.get()).is_ok_and(|a| {
                a.is_self.0.map(RawValue::get) == Some("true")
                    && a.response_status.as_str() == Some("declined")
            })
        })
    }

    /// The join links of the item's conference fields, best first. Only those fields are built into a
    /// `Value` (and only when one is there), so detection reads them exactly as it reads any provider's.
    pub(super) fn conference_uris(&self) -> Vec<String> {
        let fields = [
            ("conferenceData", &self.conference_data),
            ("hangoutLink", &self.hangout_link),
            ("onlineMeeting", &self.online_meeting),
            ("onlineMeetingUrl", &self.online_meeting_url),
            ("join_url", &self.join_url),
        ];
        if fields.iter().all(|(_, f)| f.0.is_none()) {
            return Vec::new();
        }
        let object: serde_json::Map<String, Value> = fields
            .iter()
            .filter_map(|(k, f)| Some((k.to_string(), f.read::<Value>()?)))
            .collect();
        crate::detect::invite_from_conference_json(&Value::Object(object)).conference
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_of_another_type_read_as_absent() {
        let item: Item<'_> = serde_json::from_str(
            r#"{"id": 7, "summary": {"a": [1, 2]}, "description": ["x"], "status": null,
                "start": "2026-01-01", "recurrence": "RRULE:FREQ=DAILY", "unknown": {"deep": [1]}}"#,
        )
        .expect("an item with odd fields still reads");
        assert_eq!(item.id.as_str(), None, "a numeric id is no id");
        assert_eq!(item.summary.as_str(), None, "an object is no summary");
        assert_eq!(
            item.description.as_str(),
            None,
            "an array is no description"
        );
        assert_eq!(item.status.as_str(), None, "null is no status");
        assert!(
            item.start.read::<Time<'_>>().is_none(),
            "a start that is not an object has no time"
        );
        assert!(
            item.recurrence_lines().is_none(),
            "a recurrence that is not an array has no lines"
        );
    }

    #[test]
    fn a_null_field_is_present() {
        let item: Item<'_> = serde_json::from_str(r#"{"originalStartTime": null}"#).expect("reads");
        assert!(
            item.original_start_time.0.is_some(),
            "a null originalStartTime is there (and unusable), not absent"
        );
    }

    #[test]
    fn escaped_strings_are_unescaped() {
        let item: Item<'_> =
            serde_json::from_str(r#"{"summary": "Caf\u00e9 \"1\""}"#).expect("reads");
        assert_eq!(
            item.summary.as_str(),
            Some("Café \"1\""),
            "a string with escapes is decoded, not borrowed raw"
        );
    }

    #[test]
    fn declined_needs_the_users_own_entry() {
        let item: Item<'_> = serde_json::from_str(
            r#"{"attendees": [3, {"email": "a", "responseStatus": "declined"},
                              {"self": true, "responseStatus": "declined"}]}"#,
        )
        .expect("reads");
        assert!(
            item.declined_by_self(),
            "the self entry declined; the odd entries before it are skipped"
        );
        let other: Item<'_> = serde_json::from_str(
            r#"{"attendees": [{"self": "true", "responseStatus": "declined"}]}"#,
        )
        .expect("reads");
        assert!(
            !other.declined_by_self(),
            "self must be the boolean true, as Google sends it"
        );
    }
}
