//! Google Calendar API v3: calendarList, events.list with sync tokens, and events.get.
//!
//! Wire facts this file relies on (https://developers.google.com/calendar/api/v3/reference/events/list and
//! https://developers.google.com/calendar/api/guides/sync):
//! - `events.list` with `singleEvents=false` returns recurring masters (with `recurrence`: RRULE / EXDATE /
//!   RDATE lines) and their exceptions (`recurringEventId` + `originalStartTime`) as separate items; with
//!   `showDeleted=true`, cancelled items too. A cancelled item without `recurringEventId` removes an event
//!   (a master takes its series with it); a cancelled one with it removes one instance.
//! - Pages are chained with `pageToken` (`maxResults` at most 2500); the last page carries
//!   `nextSyncToken`, which the next fetch passes as `syncToken`. An expired token is HTTP 410.
//! - 401 is an expired access token; 403 with reason `rateLimitExceeded` / `userRateLimitExceeded` and 429
//!   are rate limits; 5xx are Google's failures.
//! - Writes (https://developers.google.com/calendar/api/guides/recurringevents): a series is inserted with
//!   its `recurrence` lines and a `timeZone` on start and end; one instance is changed by patching its
//!   instance id (`<master>_<original start>`), which makes it an exception, and deleted by deleting that id,
//!   which leaves a cancelled instance. Google serves an instance it has no exception for, so such an id
//!   can be written before it was ever listed.
//! - Event ids may contain underscores (instance ids are `<master>_<start>`), so they are never our ids:
//!   an event's `uid` is its master's Google id (`recurringEventId`, else `id`), its `platform_id` its own id.

mod item;

use super::{AccountIdentity, CalendarProvider, CalendarRef, ChangePage, Cursor, ProviderError};
use crate::auth::{http_client, net_message, read_body, HttpError};
use crate::model::{Attendance, Availability, ConferenceData, Event, EventStatus, Provider};
use crate::secrets::SecretString;
use crate::store::{RemoteCalendar, RemoteChange};
use crate::time::{When, Zone};
use chrono::{DateTime, NaiveDate, Utc};
use item::{Field, Item, Text, Time};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::time::Duration;

/// The API base that `PUNCTUAL_GOOGLE_API_URL` replaces.
pub const DEFAULT_API_URL: &str = "https://www.googleapis.com";
pub const DEFAULT_AUTH_URL: &str = "https://accounts.google.com/o/oauth2/v2/auth";
pub const DEFAULT_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
/// Read the calendar list; read and write events.
pub const SCOPES: &[&str] = &[
    "https://www.googleapis.com/auth/calendar.readonly",
    "https://www.googleapis.com/auth/calendar.events",
];
/// The largest page events.list serves.
pub const PAGE_SIZE: u32 = 2500;
/// What `platform` our Google events carry.
pub const PLATFORM: &str = "google_calendar";

/// Google's event palette (`colorId` 1 to 11; https://developers.google.com/calendar/api/v3/reference/colors).
const EVENT_COLORS: [&str; 11] = [
    "#a4bdfc", "#7ae7bf", "#dbadff", "#ff887c", "#fbd75b", "#ffb878", "#46d6db", "#e1e1e1",
    "#5484ed", "#51b749", "#dc2127",
];

/// Event types that are never joined (https://developers.google.com/calendar/api/guides/event-types).
const NOT_JOINABLE: &[&str] = &["focusTime", "outOfOffice", "workingLocation"];

/// Google Calendar at an API base.
pub struct Google {
    api: url::Url,
    http: reqwest::blocking::Client,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventsPage<'a> {
    #[serde(borrow, default)]
    items: Vec<&'a RawValue>,
    next_page_token: Option<String>,
    next_sync_token: Option<String>,
    time_zone: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CalendarListPage {
    #[serde(default)]
    items: Vec<CalendarListEntry>,
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CalendarListEntry {
    id: String,
    #[serde(default)]
    summary: String,
    summary_override: Option<String>,
    description: Option<String>,
    #[serde(default)]
    primary: bool,
    access_role: Option<String>,
    time_zone: Option<String>,
    background_color: Option<String>,
    foreground_color: Option<String>,
    // Google's own `selected` (shown in its web list) is left unread: it does not choose what syncs
    // (`Writer::put_remote_calendars`).
    #[serde(default)]
    deleted: bool,
}

impl Google {
    /// Google at `api_base` (https://www.googleapis.com, or a fake).
    pub fn new(api_base: &str) -> Result<Google, crate::error::Error> {
        let api = url::Url::parse(api_base).map_err(|e| {
            crate::error::Error::field(
                crate::error::ErrorCode::InvalidInput,
                "api_url",
                format!("the Google API URL {api_base:?} is not a URL: {e}"),
            )
        })?;
        Ok(Google {
            api,
            http: http_client()?,
        })
    }

    fn url(&self, segments: &[&str]) -> url::Url {
        let mut u = self.api.clone();
        if let Ok(mut p) = u.path_segments_mut() {
            p.pop_if_empty();
            p.extend(["calendar", "v3"]);
            p.extend(segments);
        }
        u
    }

    /// GETs a URL and returns the body of a 2xx answer, or the failure in the engine's terms.
    fn get(&self, token: &SecretString, url: url::Url) -> Result<Vec<u8>, ProviderError> {
        self.send(self.http.get(url), token)
    }

    fn send(
        &self,
        req: reqwest::blocking::RequestBuilder,
        token: &SecretString,
    ) -> Result<Vec<u8>, ProviderError> {
        let resp = req
            .bearer_auth(token.expose())
            .send()
            .map_err(|e| ProviderError::Network(net_message(&e)))?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry_after(v, Utc::now()));
        let body = read_body(resp, crate::limits::MAX_RESPONSE_BYTES).map_err(|e| match e {
            HttpError::TooLarge { limit } => ProviderError::TooLarge { limit },
            HttpError::Failed(m) => ProviderError::Network(m),
        })?;
        classify(status, retry_after, &body).map(|()| body)
    }

    /// Sends a write with a JSON body and reads the event Google answers with.
    fn write(
        &self,
        req: reqwest::blocking::RequestBuilder,
        token: &SecretString,
        calendar: &CalendarRef<'_>,
        body: &Value,
    ) -> Result<RemoteChange, ProviderError> {
        let req = req
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
        let answer = self.send(req, token)?;
        let text = std::str::from_utf8(&answer)
            .map_err(|e| ProviderError::Other(format!("Google's answer is not UTF-8: {e}")))?;
        map_item(text, calendar.id, calendar.zone)
            .map_err(ProviderError::Other)?
            .ok_or_else(|| ProviderError::Other("Google answered a write with no event".into()))
    }
}

/// A [`When`] as Google's `{date}` or `{dateTime, timeZone}`.
fn google_time(w: &When, zone: Zone) -> Value {
    match w {
        When::Date { date } => serde_json::json!({ "date": date.format("%Y-%m-%d").to_string() }),
        other => {
            let z = other.zone().unwrap_or(zone);
            serde_json::json!({
                "dateTime": other.to_utc(zone).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "timeZone": z.name(),
            })
        }
    }
}

/// A date or date-time of a recurrence line (RDATE, EXDATE), with its parameters: `VALUE=DATE`, a `TZID`,
/// or UTC. The line's name and the colon are the caller's.
fn recurrence_value(w: &When) -> String {
    match w {
        When::Date { date } => format!(";VALUE=DATE:{}", date.format("%Y%m%d")),
        When::Floating { local } => format!(":{}", local.format("%Y%m%dT%H%M%S")),
        When::Zoned { local, zone } => {
            format!(";TZID={}:{}", zone.name(), local.format("%Y%m%dT%H%M%S"))
        }
        When::Utc { at } => format!(":{}", at.format("%Y%m%dT%H%M%SZ")),
    }
}

/// A series' rules and dates as Google's `recurrence` lines (RFC 5545 content lines, without DTSTART:
/// Google takes the series' start from `start`).
pub fn recurrence_lines(r: &crate::model::Recurrence) -> Vec<String> {
    let rules = r.rrules.iter().map(|rule| format!("RRULE:{rule}"));
    let rdates = r
        .rdates
        .iter()
        .map(|d| format!("RDATE{}", recurrence_value(d)));
    let exdates = r
        .exdates
        .iter()
        .map(|d| format!("EXDATE{}", recurrence_value(d)));
    rules.chain(rdates).chain(exdates).collect()
}

/// Google's id of one instance of a series: the master's id and the instance's original start in UTC basic
/// format (`abc_20261124T090000Z`), or its date for all-day series (`abc_20261124`).
pub fn instance_gid(master_gid: &str, original_start: &When, zone: Zone) -> String {
    crate::store::instance_id(master_gid, original_start, zone)
}

/// The body of an insert or patch: the fields Punctual edits, a series' `recurrence`, and for one instance of a series its `recurringEventId` and
/// `originalStartTime`, so the body read back (a replayed outbox row) is still that instance.
pub fn event_body(e: &Event, zone: Zone) -> Value {
    let mut v = serde_json::json!({
        "summary": e.title,
        "start": google_time(&e.start, zone),
        "end": google_time(&e.end, zone),
        "transparency": if e.availability == Availability::Free { "transparent" } else { "opaque" },
        "description": e.description.clone().unwrap_or_default(),
        "location": e.location.clone().unwrap_or_default(),
    });
    if let Some(id) = &e.platform_id {
        v["id"] = Value::String(id.clone());
    }
    match &e.recurrence_id {
        Some(original) => {
            v["recurringEventId"] = Value::String(e.uid.clone());
            v["originalStartTime"] = google_time(original, zone);
        }
        // Left out for singles: a patch without the field leaves a series Punctual could not read alone.
        None => {
            if let Some(r) = &e.recurrence {
                v["recurrence"] = serde_json::json!(recurrence_lines(r));
            }
        }
    }
    v
}

/// Google's naming and encoding of events written from Punctual.
pub struct GoogleCodec;

impl super::EventCodec for GoogleCodec {
    fn platform(&self) -> &'static str {
        PLATFORM
    }

    fn new_event_id(&self) -> String {
        new_event_id()
    }

    fn local_id(&self, calendar_id: &str, remote_id: &str) -> String {
        local_id(calendar_id, remote_id)
    }

    fn instance_id(&self, master_remote_id: &str, original_start: &When, zone: Zone) -> String {
        instance_gid(master_remote_id, original_start, zone)
    }

    fn version(&self, event: &Event) -> Option<super::Etag> {
        etag_of(event)
    }

    fn encode(&self, event: &Event, zone: Zone) -> Value {
        event_body(event, zone)
    }

    fn decode(&self, body: &Value, calendar_id: &str, zone: Zone) -> Option<Event> {
        match map_item(&body.to_string(), calendar_id, zone) {
            Ok(Some(RemoteChange::Upsert(e))) => Some(*e),
            _ => None,
        }
    }
}

/// The etag Google sent with an event, kept in its raw JSON.
pub fn etag_of(e: &Event) -> Option<super::Etag> {
    let raw = e.raw.as_deref()?;
    let v: Value = serde_json::from_str(raw).ok()?;
    v.get("etag")
        .and_then(Value::as_str)
        .map(|t| super::Etag(t.to_string()))
}

/// Our id for a Google event: derived from the calendar and Google's id (a stable FNV-1a, shaped as a
/// UUID so it has no underscore), so a full resync after a 410 rebuilds the same ids and links to them
/// (join plans, the UI's selection) survive it.
pub fn local_id(calendar_id: &str, google_id: &str) -> String {
    let hash = |basis: u64| {
        let mut h = basis;
        for b in calendar_id.bytes().chain([0]).chain(google_id.bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h
    };
    uuid::Uuid::from_u64_pair(hash(0xcbf2_9ce4_8422_2325), hash(0x6c62_272e_07bb_0142)).to_string()
}

/// An event id Google accepts (base32hex characters, 5 to 1024 of them), made up by the client so an
/// insert can be retried safely.
pub fn new_event_id() -> String {
    // A v4 UUID's hex digits are all base32hex characters.
    uuid::Uuid::new_v4().simple().to_string()
}

/// Reads one events.list page: every item becomes a change, or a warning when it cannot be read.
pub fn parse_events_page(
    body: &[u8],
    calendar: &CalendarRef<'_>,
) -> Result<ChangePage, ProviderError> {
    let page: EventsPage<'_> = serde_json::from_slice(body).map_err(cut_short)?;
    let zone = page
        .time_zone
        .as_deref()
        .and_then(Zone::parse)
        .unwrap_or(calendar.zone);
    let mut out = ChangePage {
        changes: Vec::with_capacity(page.items.len()),
        next_page: page.next_page_token,
        sync_token: page.next_sync_token,
        warnings: Vec::new(),
    };
    for item in page.items {
        match map_item(item.get(), calendar.id, zone) {
            Ok(Some(c)) => out.changes.push(c),
            Ok(None) => {}
            Err(why) => out.warnings.push(why),
        }
    }
    Ok(out)
}

/// A Retry-After header's wait: delay-seconds, or an HTTP-date (RFC 9110 §10.2.3) measured from `now`; a
/// date already past asks for no wait.
pub(super) fn retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?;
    Some((at.with_timezone(&Utc) - now).to_std().unwrap_or_default())
}

/// Maps an HTTP status (and Google's error body) onto the engine's terms.
fn classify(status: u16, retry_after: Option<Duration>, body: &[u8]) -> Result<(), ProviderError> {
    let reason = || -> String {
        serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| {
                v.pointer("/error/errors/0/reason")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .unwrap_or_default()
    };
    match status {
        200..=299 => Ok(()),
        401 => Err(ProviderError::Unauthorized),
        404 => Err(ProviderError::NotFound),
        409 => Err(ProviderError::AlreadyExists),
        412 => Err(ProviderError::Conflict),
        410 => Err(ProviderError::SyncTokenGone),
        429 => Err(ProviderError::RateLimited { retry_after }),
        403 if matches!(
            reason().as_str(),
            "rateLimitExceeded" | "userRateLimitExceeded"
        ) =>
        {
            Err(ProviderError::RateLimited { retry_after })
        }
        500..=599 => Err(ProviderError::Server {
            status,
            retry_after,
        }),
        other => Err(ProviderError::Other(format!(
            "Google answered HTTP {other}{}",
            match reason() {
                r if r.is_empty() => String::new(),
                r => format!(" ({r})"),
            }
        ))),
    }
}

fn cut_short(e: serde_json::Error) -> ProviderError {
    // A body that stops mid-JSON is a dropped connection as far as retrying goes.
    if e.is_eof() {
        ProviderError::Network(format!("the answer was cut short: {e}"))
    } else {
        ProviderError::Other(format!("Google's answer is not the expected JSON: {e}"))
    }
}

impl CalendarProvider for Google {
    fn provider(&self) -> Provider {
        Provider::GoogleCalendar
    }

    /// Google names no user in the Calendar API: the primary calendar's id is the account's e-mail and its
    /// summary the user's name (calendarList, `primary: true`).
    fn account(&self, token: &SecretString) -> Result<AccountIdentity, ProviderError> {
        let primary = self.calendars(token)?.into_iter().find(|c| c.is_primary);
        Ok(AccountIdentity {
            email: primary.as_ref().map(|c| c.remote_id.clone()),
            name: primary.map(|c| c.summary),
            user_id: None,
        })
    }

    fn calendars(&self, token: &SecretString) -> Result<Vec<RemoteCalendar>, ProviderError> {
        let mut out = Vec::new();
        let mut page: Option<String> = None;
        loop {
            let mut url = self.url(&["users", "me", "calendarList"]);
            url.query_pairs_mut()
                .append_pair("maxResults", "250")
                .append_pair("showDeleted", "false");
            if let Some(p) = &page {
                url.query_pairs_mut().append_pair("pageToken", p);
            }
            let body = self.get(token, url)?;
            let list: CalendarListPage = serde_json::from_slice(&body).map_err(cut_short)?;
            out.extend(
                list.items
                    .into_iter()
                    .filter(|c| !c.deleted)
                    .map(|c| RemoteCalendar {
                        summary: c.summary_override.unwrap_or(c.summary),
                        remote_id: c.id,
                        description: c.description.filter(|d| !d.is_empty()),
                        is_primary: c.primary,
                        // Only these two roles may change events (calendarList's accessRole).
                        writable: matches!(c.access_role.as_deref(), Some("owner" | "writer")),
                        access_role: c.access_role,
                        time_zone: c.time_zone,
                        background_color: c.background_color,
                        foreground_color: c.foreground_color,
                    }),
            );
            match list.next_page_token {
                Some(p) => page = Some(p),
                None => return Ok(out),
            }
        }
    }

    fn changes(
        &self,
        token: &SecretString,
        calendar: &CalendarRef<'_>,
        cursor: Cursor<'_>,
    ) -> Result<ChangePage, ProviderError> {
        let mut url = self.url(&["calendars", calendar.remote_id, "events"]);
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("singleEvents", "false")
                .append_pair("showDeleted", "true")
                .append_pair("maxResults", &PAGE_SIZE.to_string());
            let page = match cursor {
                Cursor::Full { page, .. } => page,
                Cursor::Since { token, page } => {
                    q.append_pair("syncToken", token);
                    page
                }
            };
            if let Some(p) = page {
                q.append_pair("pageToken", p);
            }
        }
        let body = self.get(token, url)?;
        parse_events_page(&body, calendar)
    }

    fn insert(
        &self,
        token: &SecretString,
        calendar: &CalendarRef<'_>,
        event: &Event,
    ) -> Result<Option<RemoteChange>, ProviderError> {
        let url = self.url(&["calendars", calendar.remote_id, "events"]);
        match self.write(
            self.http.post(url),
            token,
            calendar,
            &event_body(event, calendar.zone),
        ) {
            Ok(c) => Ok(Some(c)),
            // 409: the id is taken, by this same event from an attempt whose answer was lost.
            Err(ProviderError::AlreadyExists) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn patch(
        &self,
        token: &SecretString,
        calendar: &CalendarRef<'_>,
        event: &Event,
        etag: Option<&super::Etag>,
    ) -> Result<RemoteChange, ProviderError> {
        let id = event
            .platform_id
            .as_deref()
            .ok_or_else(|| ProviderError::Other("the event has no Google id".into()))?;
        let url = self.url(&["calendars", calendar.remote_id, "events", id]);
        let mut req = self.http.patch(url);
        if let Some(etag) = etag {
            req = req.header(reqwest::header::IF_MATCH, &etag.0);
        }
        // Which instance a patch is for is in its URL; the two fields naming it are immutable at Google, so
        // they stay out of the request (they are in the body only so an outbox row reads back as that instance).
        let mut body = event_body(event, calendar.zone);
        if let Some(o) = body.as_object_mut() {
            o.remove("recurringEventId");
            o.remove("originalStartTime");
        }
        self.write(req, token, calendar, &body)
    }

    fn delete(
        &self,
        token: &SecretString,
        calendar: &CalendarRef<'_>,
        event_remote_id: &str,
        etag: Option<&super::Etag>,
    ) -> Result<(), ProviderError> {
        let url = self.url(&["calendars", calendar.remote_id, "events", event_remote_id]);
        let mut req = self.http.delete(url);
        if let Some(etag) = etag {
            req = req.header(reqwest::header::IF_MATCH, &etag.0);
        }
        match self.send(req, token) {
            Ok(_) | Err(ProviderError::NotFound | ProviderError::SyncTokenGone) => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn event(
        &self,
        token: &SecretString,
        calendar: &CalendarRef<'_>,
        event_remote_id: &str,
    ) -> Result<Option<RemoteChange>, ProviderError> {
        let url = self.url(&["calendars", calendar.remote_id, "events", event_remote_id]);
        let body = match self.get(token, url) {
            Ok(b) => b,
            Err(ProviderError::NotFound | ProviderError::SyncTokenGone) => return Ok(None),
            Err(e) => return Err(e),
        };
        let text = std::str::from_utf8(&body)
            .map_err(|e| ProviderError::Other(format!("Google's answer is not UTF-8: {e}")))?;
        map_item(text, calendar.id, calendar.zone).map_err(ProviderError::Other)
    }
}

/// A Google `{date}` / `{dateTime, timeZone}` object as a [`When`]. A dateTime keeps its zone's wall clock
/// (so a series keeps its local time across DST); without a zone it is an instant. Google's API reference
/// (Events resource, `start.dateTime`) requires an offset "unless a time zone is explicitly specified in
/// timeZone": a dateTime without one is a wall-clock time in that zone (or, leniently, the calendar's).
fn when_of(t: &Time<'_>, zone: Zone) -> Option<When> {
    if let Some(d) = t.date.as_str() {
        return NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .ok()
            .map(|date| When::Date { date });
    }
    let text = t.date_time.as_str()?;
    let z = t.time_zone.as_str().and_then(Zone::parse).unwrap_or(zone);
    let local = match DateTime::parse_from_rfc3339(text) {
        Ok(at) => z.local(at.with_timezone(&Utc)),
        Err(_) => chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").ok()?,
    };
    Some(When::Zoned { local, zone: z })
}

/// A time field (`start`, `end`, `originalStartTime`) as a [`When`], if it is one.
fn time_of(f: &Field<'_>, zone: Zone) -> Option<When> {
    when_of(&f.read::<Time<'_>>()?, zone)
}

fn stamp_of(t: &Text<'_>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(t.as_str()?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// One events.list item as a change. `Ok(None)` for items that carry nothing to store.
pub fn map_item(raw: &str, calendar_id: &str, zone: Zone) -> Result<Option<RemoteChange>, String> {
    let v: Item<'_> =
        serde_json::from_str(raw).map_err(|e| format!("an event is not JSON: {e}"))?;
    let id =
        v.id.non_blank()
            .ok_or("an event without an id was skipped")?;
    let master = v.recurring_event_id.non_blank();
    let status = v.status.as_str().unwrap_or("confirmed");
    let original = match v.original_start_time.0 {
        Some(_) => Some(time_of(&v.original_start_time, zone).ok_or_else(|| {
            format!("event {id}: its originalStartTime is not a date or date-time; skipped")
        })?),
        None => None,
    };
    if status == "cancelled" && master.is_none() {
        return Ok(Some(RemoteChange::Remove {
            uid: id,
            recurrence_id: None,
        }));
    }
    let uid = master.clone().unwrap_or_else(|| id.clone());
    let (start, end) = match (time_of(&v.start, zone), time_of(&v.end, zone)) {
        (Some(s), Some(e)) => (s, e),
        (Some(s), None) => (s, s),
        _ => match (status, original) {
            // A cancelled instance carries only its original start: it removes that instance.
            ("cancelled", Some(o)) => (o, o),
            _ => return Err(format!("event {id}: no usable start; skipped")),
        },
    };
    if master.is_some() && original.is_none() {
        return Err(format!(
            "event {id}: an instance without originalStartTime; skipped"
        ));
    }
    let time_zone = start.zone().unwrap_or(zone);
    let recurrence = match v.recurrence_lines() {
        Some(lines) if master.is_none() => {
            crate::ical::recurrence_from_lines(&lines, &start, zone).0
        }
        _ => None,
    };
    let description = v.description.non_blank();
    let html = description
        .as_deref()
        .filter(|d| crate::detect::looks_like_html(d))
        .map(str::to_string);
    let event_type = v.event_type.as_str().unwrap_or("default");
    let created = stamp_of(&v.created).unwrap_or_default();
    let updated = stamp_of(&v.updated).unwrap_or(created);
    let color = v
        .color_id
        .as_str()
        .and_then(|c| c.parse::<usize>().ok())
        .and_then(|i| EVENT_COLORS.get(i.wrapping_sub(1)))
        .map(|c| c.to_string());
    Ok(Some(RemoteChange::Upsert(Box::new(Event {
        id: local_id(calendar_id, &id),
        calendar_id: calendar_id.to_string(),
        uid,
        title: v.summary.non_blank().unwrap_or_default(),
        description,
        location: v.location.non_blank(),
        url: None,
        color,
        start,
        end,
        time_zone,
        availability: if v.transparency.as_str() == Some("transparent") {
            Availability::Free
        } else {
            Availability::Busy
        },
        status: match status {
            "cancelled" => EventStatus::Cancelled,
            "tentative" => EventStatus::Tentative,
            _ => EventStatus::Confirmed,
        },
        recurrence,
        recurrence_id: original.filter(|_| master.is_some()),
        this_and_future: false,
        conference: ConferenceData {
            uris: v.conference_uris(),
            html,
        },
        meeting: None,
        attendance: Attendance {
            declined: v.declined_by_self(),
            not_joinable: NOT_JOINABLE.contains(&event_type),
        },
        platform: PLATFORM.to_string(),
        platform_id: Some(id),
        raw: Some(raw.to_string()),
        created_at: created,
        updated_at: updated,
    }))))
}

/// Google as the registry knows it: endpoints from `PUNCTUAL_GOOGLE_AUTH_URL`, `_TOKEN_URL`, `_API_URL` and
/// `_REVOKE_URL`, the client from `PUNCTUAL_GOOGLE_CLIENT_ID` / `_SECRET`.
pub struct GoogleSpec;

/// Where Google revokes a token (https://developers.google.com/identity/protocols/oauth2/native-app).
pub const DEFAULT_REVOKE_URL: &str = "https://oauth2.googleapis.com/revoke";

impl super::registry::ProviderSpec for GoogleSpec {
    fn provider(&self) -> Provider {
        Provider::GoogleCalendar
    }

    fn display_name(&self) -> &'static str {
        "Google"
    }

    fn credential(&self) -> super::registry::CredentialKind {
        super::registry::CredentialKind::OAuth
    }

    fn slug(&self) -> &'static str {
        "google"
    }

    fn setup_from_env(&self) -> super::registry::ProviderSetup {
        use super::registry::env_var as var;
        super::registry::ProviderSetup {
            auth_url: var("PUNCTUAL_GOOGLE_AUTH_URL").unwrap_or_else(|| DEFAULT_AUTH_URL.into()),
            token_url: var("PUNCTUAL_GOOGLE_TOKEN_URL").unwrap_or_else(|| DEFAULT_TOKEN_URL.into()),
            api_url: var("PUNCTUAL_GOOGLE_API_URL").unwrap_or_else(|| DEFAULT_API_URL.into()),
            revoke_url: Some(
                var("PUNCTUAL_GOOGLE_REVOKE_URL").unwrap_or_else(|| DEFAULT_REVOKE_URL.into()),
            ),
            client_id: var("PUNCTUAL_GOOGLE_CLIENT_ID"),
            client_secret: var("PUNCTUAL_GOOGLE_CLIENT_SECRET").map(SecretString::new),
            tenant: None,
        }
    }

    fn scopes(&self) -> Vec<String> {
        SCOPES.iter().map(|s| s.to_string()).collect()
    }

    fn extra_auth_params(&self) -> Vec<(String, String)> {
        // Offline access for a refresh token; consent so Google sends one on a reconnect too.
        vec![
            ("access_type".into(), "offline".into()),
            ("prompt".into(), "consent".into()),
        ]
    }

    fn client(
        &self,
        setup: &super::registry::ProviderSetup,
    ) -> Result<Box<dyn CalendarProvider>, crate::error::Error> {
        Ok(Box::new(Google::new(&setup.api_url)?))
    }

    /// `POST {revoke_url}` with `token=`: 200 revokes it; 400 `invalid_token` means it is dead already,
    /// which is what a revocation wants.
    fn revoke(
        &self,
        setup: &super::registry::ProviderSetup,
        refresh_token: &SecretString,
    ) -> Result<(), crate::error::Error> {
        use crate::error::{Error, ErrorCode};
        let Some(url) = setup.revoke_url.as_deref() else {
            return Ok(());
        };
        let resp = http_client()?
            .post(url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(
                url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("token", refresh_token.expose())
                    .finish(),
            )
            .send()
            .map_err(|e| {
                Error::new(
                    ErrorCode::Network,
                    format!(
                        "Google's revocation endpoint could not be reached: {}",
                        net_message(&e)
                    ),
                )
            })?;
        let status = resp.status().as_u16();
        let body = resp.text().unwrap_or_default();
        match status {
            200..=299 => Ok(()),
            400 if body.contains("invalid_token") => Ok(()),
            _ => Err(Error::new(
                if status >= 500 {
                    ErrorCode::Network
                } else {
                    ErrorCode::Provider
                },
                format!("Google did not revoke the account's access (HTTP {status})"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_codec_reads_back_the_body_it_writes() {
        use super::super::codec;
        let zone = Zone::parse("Europe/Berlin").expect("a known zone");
        let item = serde_json::json!({
            "id": "weekly", "status": "confirmed", "summary": "Standup", "location": "Room 4",
            "description": "Notes", "etag": "\"v1\"",
            "start": {"dateTime": "2026-03-02T09:00:00+01:00", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": "2026-03-02T09:30:00+01:00", "timeZone": "Europe/Berlin"},
            "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10"]
        });
        let Ok(Some(RemoteChange::Upsert(e))) = map_item(&item.to_string(), "cal", zone) else {
            panic!("the test item maps to an upsert");
        };
        let c = codec(Provider::GoogleCalendar).expect("Google calendars are written to");
        assert_eq!(
            c.version(&e).map(|v| v.0).as_deref(),
            Some("\"v1\""),
            "the version is the etag Google sent"
        );
        let back = c
            .decode(&c.encode(&e, zone), "cal", zone)
            .expect("an encoded body decodes");
        assert_eq!(
            (&back.title, &back.location, &back.description),
            (&e.title, &e.location, &e.description),
            "the texts survive an outbox row"
        );
        assert_eq!(
            (back.start, back.end, &back.recurrence),
            (e.start, e.end, &e.recurrence),
            "so do the times, their zone and the rule"
        );
        assert_eq!(
            c.local_id("cal", "weekly"),
            e.id,
            "a created event's id is derived as a synced one's, so the sync finds it again"
        );
        assert!(
            codec(Provider::Ics).is_none() && codec(Provider::Local).is_none(),
            "feeds are read-only, and the local calendar is written directly, not through a codec"
        );
    }

    #[test]
    fn a_date_time_without_an_offset_is_read_in_its_named_zone() {
        let zone = Zone::parse("Europe/Berlin").expect("a known zone");
        let ny = Zone::parse("America/New_York").expect("a known zone");
        let item = serde_json::json!({
            "id": "m_20261208T140000Z", "recurringEventId": "m", "status": "confirmed", "summary": "Moved",
            "start": {"dateTime": "2026-12-08T10:00:00", "timeZone": "America/New_York"},
            "end": {"dateTime": "2026-12-08T10:30:00.000", "timeZone": "America/New_York"},
            "originalStartTime": {"dateTime": "2026-12-08T09:00:00", "timeZone": "America/New_York"}
        });
        let Ok(Some(RemoteChange::Upsert(e))) = map_item(&item.to_string(), "cal", zone) else {
            panic!("an instance whose times have a zone and no offset maps to an upsert");
        };
        let at = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .expect("test instants are RFC 3339")
                .with_timezone(&Utc)
        };
        assert_eq!(
            (e.start.to_utc(zone), e.end.to_utc(zone)),
            (at("2026-12-08T15:00:00Z"), at("2026-12-08T15:30:00Z")),
            "10:00 in New York in December is 15:00 UTC, not 10:00 in the calendar's zone or UTC"
        );
        assert_eq!(
            e.start.zone(),
            Some(ny),
            "the start keeps its named zone, so a series stays at 10:00 local across DST"
        );
        assert_eq!(
            e.recurrence_id.map(|r| r.to_utc(zone)),
            Some(at("2026-12-08T14:00:00Z")),
            "originalStartTime is read in its named zone too, so the override finds its instance"
        );
        let no_zone = serde_json::json!({
            "id": "x", "status": "confirmed",
            "start": {"dateTime": "2026-12-08T09:00:00"}, "end": {"dateTime": "2026-12-08T09:30:00"}
        });
        let Ok(Some(RemoteChange::Upsert(e))) = map_item(&no_zone.to_string(), "cal", zone) else {
            panic!("a dateTime with neither offset nor zone still maps");
        };
        assert_eq!(
            e.start.to_utc(zone),
            at("2026-12-08T08:00:00Z"),
            "with no timeZone either, the calendar's zone (Berlin, UTC+1 in December) is the one left"
        );
    }

    #[test]
    fn a_retry_after_is_read_as_seconds_or_as_an_http_date() {
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:27:00Z")
            .map(|t| t.with_timezone(&Utc))
            .expect("a valid instant");
        assert_eq!(
            retry_after(" 120 ", now),
            Some(Duration::from_secs(120)),
            "delay-seconds is a number of seconds"
        );
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(60)),
            "an HTTP-date is the wait until that instant"
        );
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO),
            "a date already past asks for no wait"
        );
        assert_eq!(
            retry_after("soon", now),
            None,
            "anything else is no Retry-After at all"
        );
    }

    #[test]
    fn recurrence_goes_out_as_lines_google_reads_back_the_same() {
        let berlin = Zone::parse("Europe/Berlin").expect("a known zone");
        let at = |s: &str| {
            chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").expect("a local time")
        };
        let start = When::Zoned {
            local: at("2026-03-09T10:00"),
            zone: berlin,
        };
        let r = crate::model::Recurrence {
            rrules: vec!["FREQ=WEEKLY;COUNT=4".into()],
            rdates: vec![When::Utc {
                at: at("2026-04-01T08:00").and_utc(),
            }],
            exdates: vec![When::Zoned {
                local: at("2026-03-16T10:00"),
                zone: berlin,
            }],
        };
        let lines = recurrence_lines(&r);
        assert_eq!(
            lines,
            vec![
                "RRULE:FREQ=WEEKLY;COUNT=4".to_string(),
                "RDATE:20260401T080000Z".to_string(),
                "EXDATE;TZID=Europe/Berlin:20260316T100000".to_string(),
            ],
            "each rule and date is one content line, zones named"
        );
        assert_eq!(
            crate::ical::recurrence_from_lines(&lines, &start, berlin).0,
            Some(r),
            "and the lines read back as the same recurrence, so a replayed outbox row sends what was made"
        );
    }

    #[test]
    fn an_instance_id_is_the_master_and_the_original_start_in_utc_or_its_date() {
        let berlin = Zone::parse("Europe/Berlin").expect("a known zone");
        let local = chrono::NaiveDateTime::parse_from_str("2026-11-24T10:00", "%Y-%m-%dT%H:%M")
            .expect("a local time");
        assert_eq!(
            instance_gid(
                "abc",
                &When::Zoned {
                    local,
                    zone: berlin
                },
                berlin
            ),
            "abc_20261124T090000Z",
            "a timed instance is named by its UTC start, as Google names it"
        );
        assert_eq!(
            instance_gid("abc", &When::Date { date: local.date() }, berlin),
            "abc_20261124",
            "an all-day instance by its date"
        );
    }

    /// One timed item with `extra` merged in, mapped as events.list would deliver it.
    fn mapped(extra: Value) -> Event {
        let mut item = serde_json::json!({
            "id": "ev1", "status": "confirmed", "summary": "Sync",
            "start": {"dateTime": "2026-03-10T10:00:00+01:00", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": "2026-03-10T10:30:00+01:00", "timeZone": "Europe/Berlin"},
            "hangoutLink": "https://meet.google.com/abc-defg-hij",
        });
        if let (Some(o), Some(more)) = (item.as_object_mut(), extra.as_object()) {
            o.extend(more.clone());
        }
        let berlin = Zone::parse("Europe/Berlin").expect("a known zone");
        match map_item(&item.to_string(), "cal", berlin) {
            Ok(Some(RemoteChange::Upsert(e))) => *e,
            other => panic!("a confirmed timed item {item} is an upsert, not {other:?}"),
        }
    }

    #[test]
    fn focus_time_out_of_office_and_working_location_are_never_joinable() {
        for kind in ["focusTime", "outOfOffice", "workingLocation"] {
            let e = mapped(serde_json::json!({ "eventType": kind }));
            assert!(
                e.attendance.not_joinable,
                "a {kind} block is not a meeting, even with a Meet link on it"
            );
            assert!(
                !e.attendance.declined,
                "a {kind} block is not declined: the two flags are kept apart"
            );
        }
        for kind in ["default", "birthday", "fromGmail"] {
            assert!(
                !mapped(serde_json::json!({ "eventType": kind }))
                    .attendance
                    .not_joinable,
                "a {kind} event can be joined"
            );
        }
        assert!(
            !mapped(serde_json::json!({})).attendance.not_joinable,
            "an item without eventType is Google's default type, which can be joined"
        );
    }

    #[test]
    fn transparency_transparent_is_free_and_anything_else_busy() {
        assert_eq!(
            mapped(serde_json::json!({ "transparency": "transparent" })).availability,
            Availability::Free,
            "transparent means the time shows as available"
        );
        assert_eq!(
            mapped(serde_json::json!({ "transparency": "opaque" })).availability,
            Availability::Busy,
            "opaque blocks the time"
        );
        assert_eq!(
            mapped(serde_json::json!({})).availability,
            Availability::Busy,
            "Google's default transparency is opaque"
        );
    }

    #[test]
    fn color_id_picks_from_googles_event_palette() {
        assert_eq!(
            mapped(serde_json::json!({ "colorId": "1" }))
                .color
                .as_deref(),
            Some("#a4bdfc"),
            "colorId 1 is the palette's first entry (the ids count from 1)"
        );
        assert_eq!(
            mapped(serde_json::json!({ "colorId": "11" }))
                .color
                .as_deref(),
            Some("#dc2127"),
            "colorId 11 is the last entry"
        );
        for bad in [
            serde_json::json!({ "colorId": "0" }),
            serde_json::json!({ "colorId": "12" }),
            serde_json::json!({ "colorId": "red" }),
            serde_json::json!({ "colorId": 5 }),
            serde_json::json!({}),
        ] {
            assert_eq!(
                mapped(bad.clone()).color,
                None,
                "{bad} names no palette entry, so the calendar's colour shows"
            );
        }
    }

    #[test]
    fn only_the_users_own_declined_response_counts_as_declined() {
        let attendees = |list: Value| mapped(serde_json::json!({ "attendees": list }));
        assert!(
            attendees(serde_json::json!([
                {"email": "raj@acme.example", "responseStatus": "accepted"},
                {"email": "jane@acme.example", "self": true, "responseStatus": "declined"},
            ]))
            .attendance
            .declined,
            "the user's own entry (self: true) declined"
        );
        assert!(
            !attendees(serde_json::json!([
                {"email": "raj@acme.example", "responseStatus": "declined"},
                {"email": "jane@acme.example", "self": true, "responseStatus": "accepted"},
            ]))
            .attendance
            .declined,
            "someone else declining says nothing about the user"
        );
        for status in ["accepted", "tentative", "needsAction"] {
            assert!(
                !attendees(serde_json::json!([
                    {"email": "jane@acme.example", "self": true, "responseStatus": status},
                ]))
                .attendance
                .declined,
                "a self response of {status} is not declined"
            );
        }
        assert!(
            !mapped(serde_json::json!({})).attendance.declined,
            "an event without attendees is the user's own, not declined"
        );
    }

    #[test]
    fn statuses_map_onto_the_engines_terms() {
        assert_eq!(
            classify(410, None, b"{}"),
            Err(ProviderError::SyncTokenGone),
            "410 means a full sync"
        );
        let rl = br#"{"error":{"errors":[{"reason":"rateLimitExceeded"}],"code":403}}"#;
        assert!(
            matches!(
                classify(403, None, rl),
                Err(ProviderError::RateLimited { .. })
            ),
            "403 rateLimitExceeded is a rate limit, not a permission problem"
        );
        assert!(
            matches!(classify(403, None, b"{}"), Err(ProviderError::Other(_))),
            "a plain 403 is not retried"
        );
        assert_eq!(
            classify(429, Some(Duration::from_secs(7)), b""),
            Err(ProviderError::RateLimited {
                retry_after: Some(Duration::from_secs(7))
            }),
            "429 keeps its Retry-After"
        );
    }
}
