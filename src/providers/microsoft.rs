//! Microsoft Graph v1.0 (Microsoft 365 and Outlook.com): `/me`, `/me/calendars`, calendarView delta, and
//! event reads and writes.
//!
//! Wire facts this file relies on (https://learn.microsoft.com/graph/delta-query-events,
//! https://learn.microsoft.com/graph/api/event-delta, https://learn.microsoft.com/graph/api/resources/event,
//! https://learn.microsoft.com/graph/api/resources/datetimetimezone):
//! - calendarView delta works on a window: the first request names `startDateTime` and `endDateTime`; every
//!   later one is the `@odata.nextLink` (more pages of this round) or the last page's `@odata.deltaLink` (the
//!   next round) exactly as the server returned it, their state opaque to the client. So a page cursor and a
//!   sync token are URLs, and each is followed only while it stays on the API base: a link elsewhere would
//!   carry the account's bearer token there.
//! - It returns instances, not masters: single events, occurrences and exceptions of a series, each under its
//!   own id. Punctual stores each as a single event (uid and platform_id its Graph id), so an `@removed`
//!   entry, which names only an id, removes exactly it. An occurrence may come as a stub (id, type,
//!   seriesMasterId, start, end); its subject, body, location and join link come from the series master,
//!   `GET /me/calendars/{cal}/events/{master}`, fetched once per master per round (see [`Graph::masters`]).
//! - `Prefer: outlook.timezone="UTC"` makes every time UTC; a time in any other zone (a Windows name such
//!   as "Eastern Standard Time", or IANA) is still read through [`Zone::parse`], and the event keeps its
//!   `originalStartTimeZone` as its zone. All-day events are midnight to midnight, read as dates.
//! - A lost sync state is 410, or an error whose code is `syncStateNotFound` or `resyncRequired` (any
//!   case); 401 an expired token; 429 and 503/504 carry Retry-After; 412 a failed If-Match.
//! - Graph assigns event ids. A create sends the client's id as `transactionId`, so a retried POST whose
//!   answer was lost does not make a second event, and the event comes back under Graph's id.

mod item;

use super::{
    AccountIdentity, CalendarProvider, CalendarRef, ChangePage, Cursor, Etag, ProviderError, Window,
};
use crate::auth::{http_client, net_message};
use crate::error::{Error, ErrorCode};
use crate::model::{Attendance, Availability, ConferenceData, Event, EventStatus, Provider};
use crate::secrets::SecretString;
use crate::store::{RemoteCalendar, RemoteChange};
use crate::time::{When, Zone};
use chrono::{DateTime, NaiveDateTime, Utc};
use item::{Field, Item, Time};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The API base that `PUNCTUAL_MICROSOFT_API_URL` replaces.
pub const DEFAULT_API_URL: &str = "https://graph.microsoft.com/v1.0";
/// The identity platform's v2.0 endpoints; `{tenant}` is replaced by the account's tenant.
pub const DEFAULT_AUTH_URL: &str =
    "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize";
pub const DEFAULT_TOKEN_URL: &str = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token";
/// A refresh token, the calendars' events read and written, and `/me`.
pub const SCOPES: &[&str] = &["offline_access", "Calendars.ReadWrite", "User.Read"];
/// What `platform` our Graph events carry.
pub const PLATFORM: &str = "outlook_calendar";
/// The page size asked for with `Prefer: odata.maxpagesize`; Graph may send fewer.
pub const PAGE_SIZE: u32 = 200;
/// The tenant a sign-in uses unless told otherwise: work, school and personal accounts alike.
pub const DEFAULT_TENANT: &str = "common";
/// How far back and ahead a full fetch's window reaches (issue 14: at least 30 days back, 365 ahead).
const WINDOW_BACK_DAYS: i64 = 30;
const WINDOW_AHEAD_DAYS: i64 = 365;

/// `tenant` checked: one of the identity platform's three audiences (`common`, `organizations`,
/// `consumers`, in any case, returned lower-case) or a directory's GUID (returned lower-case, hyphenated).
pub fn validate_tenant(tenant: &str) -> Result<String, Error> {
    let t = tenant.trim().to_ascii_lowercase();
    if matches!(t.as_str(), "common" | "organizations" | "consumers") {
        return Ok(t);
    }
    // Only the hyphenated form: the others uuid accepts (braces, urn:, bare hex) are no tenant id.
    if t.len() == 36 {
        if let Ok(id) = uuid::Uuid::parse_str(&t) {
            return Ok(id.hyphenated().to_string());
        }
    }
    Err(Error::field(
        ErrorCode::InvalidInput,
        "tenant",
        format!(
            "{tenant:?} is not a tenant: use common, organizations, consumers or the directory's id (a GUID)"
        ),
    ))
}

/// Microsoft Graph at an API base.
pub struct Graph {
    api: url::Url,
    http: reqwest::blocking::Client,
    /// Series masters read this round, by (calendar, master id): `None` for one that is gone. A stub needs
    /// its master's fields, and a round may hold many occurrences of one series, across pages; so each master
    /// is fetched once per round, and a cursor without a page (a round's first request) drops that calendar's
    /// entries, so the next round sees masters as they are then. Kept in memory only: a round resumed from a
    /// saved page after a restart fetches them again.
    masters: Mutex<HashMap<(String, String), Option<Arc<str>>>>,
}

#[derive(Deserialize)]
struct Page<'a> {
    #[serde(borrow)]
    value: Option<Vec<&'a RawValue>>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
    #[serde(rename = "@odata.deltaLink")]
    delta_link: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CalendarEntry {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    is_default_calendar: bool,
    #[serde(default)]
    can_edit: bool,
    hex_color: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Me {
    id: Option<String>,
    mail: Option<String>,
    user_principal_name: Option<String>,
    display_name: Option<String>,
}

impl Graph {
    /// Graph at `api_base` (https://graph.microsoft.com/v1.0, or a fake).
    pub fn new(api_base: &str) -> Result<Graph, Error> {
        let api = url::Url::parse(api_base).map_err(|e| {
            Error::field(
                ErrorCode::InvalidInput,
                "api_url",
                format!("the Microsoft Graph URL {api_base:?} is not a URL: {e}"),
            )
        })?;
        Ok(Graph {
            api,
            http: http_client()?,
            masters: Mutex::new(HashMap::new()),
        })
    }

    fn url(&self, segments: &[&str]) -> url::Url {
        let mut u = self.api.clone();
        if let Ok(mut p) = u.path_segments_mut() {
            p.pop_if_empty();
            p.extend(segments);
        }
        u
    }

    fn get(&self, token: &SecretString, url: url::Url) -> Result<Vec<u8>, ProviderError> {
        self.send(self.http.get(url), token)
    }

    /// Sends a request with the preferences every answer is read under, and returns the body of a 2xx
    /// answer, or the failure in the engine's terms.
    fn send(
        &self,
        req: reqwest::blocking::RequestBuilder,
        token: &SecretString,
    ) -> Result<Vec<u8>, ProviderError> {
        let resp = req
            .bearer_auth(token.expose())
            .header("Prefer", "outlook.timezone=\"UTC\"")
            .header("Prefer", "outlook.body-content-type=\"text\"")
            .header("Prefer", format!("odata.maxpagesize={PAGE_SIZE}"))
            .send()
            .map_err(|e| ProviderError::Network(net_message(&e)))?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| super::google::retry_after(v, Utc::now()));
        let body = resp.bytes().map_err(|e| {
            ProviderError::Network(format!("the answer was cut short: {}", net_message(&e)))
        })?;
        classify(status, retry_after, &body).map(|()| body.to_vec())
    }

    /// Sends a write with a JSON body and reads the event Graph answers with.
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
            .map_err(|e| ProviderError::Other(format!("Graph's answer is not UTF-8: {e}")))?;
        map_item(text, None, calendar.id, calendar.zone)
            .map_err(ProviderError::Other)?
            .ok_or_else(|| ProviderError::Other("Graph answered a write with no event".into()))
    }

    /// A series master's JSON, from this round's cache or from Graph; `None` when it is gone.
    fn master(
        &self,
        token: &SecretString,
        calendar: &CalendarRef<'_>,
        master_id: &str,
    ) -> Result<Option<Arc<str>>, ProviderError> {
        self.cached_master(calendar, master_id, || {
            let url = self.url(&["me", "calendars", calendar.remote_id, "events", master_id]);
            match self.get(token, url) {
                Ok(body) => String::from_utf8(body)
                    .map(|s| Some(Arc::from(s)))
                    .map_err(|e| ProviderError::Other(format!("Graph's answer is not UTF-8: {e}"))),
                Err(ProviderError::NotFound) => Ok(None),
                Err(e) => Err(e),
            }
        })
    }

    /// The cached master, else `fetch`'s answer, cached unless it failed.
    fn cached_master(
        &self,
        calendar: &CalendarRef<'_>,
        master_id: &str,
        fetch: impl FnOnce() -> Result<Option<Arc<str>>, ProviderError>,
    ) -> Result<Option<Arc<str>>, ProviderError> {
        let key = (calendar.remote_id.to_string(), master_id.to_string());
        if let Some(m) = self.lock_masters().get(&key) {
            return Ok(m.clone());
        }
        // Fetched without the lock held: a master is one request, and a second fetch of it is harmless.
        let fetched = fetch()?;
        self.lock_masters().insert(key, fetched.clone());
        Ok(fetched)
    }

    fn lock_masters(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<(String, String), Option<Arc<str>>>> {
        // A panic while holding the lock leaves at worst a missing entry, which is fetched again.
        self.masters.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// `link` parsed, if it lies on the API base: the same scheme, host and port, and a path under the base's
/// path. Anything else is refused before a request carries the account's token there.
pub fn on_base(api: &url::Url, link: &str) -> Result<url::Url, ProviderError> {
    let off = |why: &str| {
        ProviderError::Other(format!(
            "Graph sent a link that points off the API base {api} ({why}); it was not followed"
        ))
    };
    let u = url::Url::parse(link).map_err(|_| off("not a URL"))?;
    if u.scheme() != api.scheme()
        || u.host_str() != api.host_str()
        || u.port_or_known_default() != api.port_or_known_default()
    {
        return Err(off(&format!(
            "{}://{}",
            u.scheme(),
            u.host_str().unwrap_or_default()
        )));
    }
    let base = api.path().trim_end_matches('/');
    let path = u.path();
    if !(path == base || path.starts_with(&format!("{base}/"))) {
        return Err(off(&format!("path {path}")));
    }
    Ok(u)
}

/// Reads one calendarView (delta) page. A stub's master comes from `master` (its Graph id in, its JSON or
/// `None` out). Every item becomes a change, or a warning when it cannot be read; a page that is not JSON, or
/// whose next link or delta link points off `api`, fails whole, so nothing of it is stored.
pub fn parse_page(
    body: &[u8],
    calendar: &CalendarRef<'_>,
    api: &url::Url,
    master: &mut dyn FnMut(&str) -> Result<Option<Arc<str>>, ProviderError>,
) -> Result<ChangePage, ProviderError> {
    let page: Page<'_> = serde_json::from_slice(body).map_err(|e| {
        // A body that stops mid-JSON is a dropped connection as far as retrying goes.
        if e.is_eof() {
            ProviderError::Network(format!("the answer was cut short: {e}"))
        } else {
            ProviderError::Other(format!("Graph's delta page is not JSON: {e}"))
        }
    })?;
    let items = page.value.ok_or_else(|| {
        ProviderError::Other("Graph's delta page has no \"value\" list of events".into())
    })?;
    for link in page.next_link.iter().chain(page.delta_link.iter()) {
        on_base(api, link)?;
    }
    let mut out = ChangePage {
        changes: Vec::with_capacity(items.len()),
        next_page: page.next_link,
        sync_token: page.delta_link,
        warnings: Vec::new(),
    };
    for raw in items {
        let item: Item<'_> = match serde_json::from_str(raw.get()) {
            Ok(i) => i,
            Err(e) => {
                out.warnings.push(format!("an event is not JSON: {e}"));
                continue;
            }
        };
        let master_json = match item.series_master_id.text() {
            Some(mid) if item.is_stub() => match master(&mid)? {
                Some(m) => Some(m),
                None => {
                    out.warnings.push(format!(
                        "occurrence {}: its series master {mid} is gone; skipped",
                        item.id.text().unwrap_or_default()
                    ));
                    continue;
                }
            },
            _ => None,
        };
        let master_item = match master_json.as_deref().map(serde_json::from_str::<Item<'_>>) {
            Some(Ok(m)) => Some(m),
            Some(Err(e)) => {
                out.warnings
                    .push(format!("a series master is not JSON: {e}"));
                continue;
            }
            None => None,
        };
        match map_parsed(
            item,
            master_item.as_ref(),
            raw.get(),
            calendar.id,
            calendar.zone,
        ) {
            Ok(Some(c)) => out.changes.push(c),
            Ok(None) => {}
            Err(why) => out.warnings.push(why),
        }
    }
    Ok(out)
}

/// Maps an HTTP status (and Graph's error body) onto the engine's terms.
fn classify(status: u16, retry_after: Option<Duration>, body: &[u8]) -> Result<(), ProviderError> {
    if (200..=299).contains(&status) {
        return Ok(());
    }
    let code = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| {
            v.pointer("/error/code")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_default();
    // Graph names a lost delta state in the error's code, with 410 or another status.
    if ["syncStateNotFound", "resyncRequired"]
        .iter()
        .any(|c| c.eq_ignore_ascii_case(&code))
    {
        return Err(ProviderError::SyncTokenGone);
    }
    match status {
        401 => Err(ProviderError::Unauthorized),
        404 => Err(ProviderError::NotFound),
        409 => Err(ProviderError::AlreadyExists),
        410 => Err(ProviderError::SyncTokenGone),
        412 => Err(ProviderError::Conflict),
        429 => Err(ProviderError::RateLimited { retry_after }),
        500..=599 => Err(ProviderError::Server {
            status,
            retry_after,
        }),
        other => Err(ProviderError::Other(format!(
            "Microsoft Graph answered HTTP {other}{}",
            if code.is_empty() {
                String::new()
            } else {
                format!(" ({code})")
            }
        ))),
    }
}

impl CalendarProvider for Graph {
    fn provider(&self) -> Provider {
        Provider::OutlookCalendar
    }

    /// `GET /me`: the e-mail is `mail`, else `userPrincipalName` (accounts without a mailbox address,
    /// and personal accounts, often have only that); the name is `displayName`.
    fn account(&self, token: &SecretString) -> Result<AccountIdentity, ProviderError> {
        let body = self.get(token, self.url(&["me"]))?;
        let me: Me = serde_json::from_slice(&body).map_err(|e| {
            ProviderError::Other(format!("Graph's /me is not the expected JSON: {e}"))
        })?;
        let non_blank = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
        Ok(AccountIdentity {
            email: non_blank(me.mail).or_else(|| non_blank(me.user_principal_name)),
            name: non_blank(me.display_name),
            user_id: non_blank(me.id),
        })
    }

    fn full_window(&self, now: DateTime<Utc>) -> Option<Window> {
        // From a day's start, so every call during one round names the same window.
        let day = now.date_naive().and_time(chrono::NaiveTime::MIN).and_utc();
        Some(Window {
            start: day - chrono::Duration::days(WINDOW_BACK_DAYS),
            end: day + chrono::Duration::days(WINDOW_AHEAD_DAYS),
        })
    }

    fn calendars(&self, token: &SecretString) -> Result<Vec<RemoteCalendar>, ProviderError> {
        #[derive(Deserialize)]
        struct List {
            #[serde(default)]
            value: Vec<CalendarEntry>,
            #[serde(rename = "@odata.nextLink")]
            next_link: Option<String>,
        }
        let mut out = Vec::new();
        let mut url = self.url(&["me", "calendars"]);
        loop {
            let body = self.get(token, url)?;
            let list: List = serde_json::from_slice(&body).map_err(|e| {
                ProviderError::Other(format!(
                    "Graph's calendar list is not the expected JSON: {e}"
                ))
            })?;
            out.extend(list.value.into_iter().map(|c| RemoteCalendar {
                remote_id: c.id,
                summary: c.name,
                description: None,
                is_primary: c.is_default_calendar,
                writable: c.can_edit,
                access_role: None,
                time_zone: None,
                // `color` is a name from Graph's own palette (lightBlue, ...), whose values the docs do not
                // give; only an explicit hexColor is a colour.
                background_color: c.hex_color.filter(|h| h.starts_with('#')),
                foreground_color: None,
            }));
            match list.next_link {
                Some(next) => url = on_base(&self.api, &next)?,
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
        let url = match cursor {
            Cursor::Full { page: Some(p), .. } | Cursor::Since { page: Some(p), .. } => {
                on_base(&self.api, p)?
            }
            Cursor::Since {
                token: t,
                page: None,
            } => {
                self.forget_masters(calendar);
                on_base(&self.api, t)?
            }
            Cursor::Full { page: None, window } => {
                self.forget_masters(calendar);
                let w = window.ok_or_else(|| {
                    ProviderError::Other(
                        "a full fetch from Graph needs a window (calendarView delta has no other)"
                            .into(),
                    )
                })?;
                let mut u = self.url(&[
                    "me",
                    "calendars",
                    calendar.remote_id,
                    "calendarView",
                    "delta",
                ]);
                u.query_pairs_mut()
                    .append_pair("startDateTime", &iso_utc(w.start))
                    .append_pair("endDateTime", &iso_utc(w.end));
                u
            }
        };
        let body = self.get(token, url)?;
        parse_page(&body, calendar, &self.api, &mut |mid| {
            self.master(token, calendar, mid)
        })
    }

    fn event(
        &self,
        token: &SecretString,
        calendar: &CalendarRef<'_>,
        event_remote_id: &str,
    ) -> Result<Option<RemoteChange>, ProviderError> {
        let body = match self.get(token, self.url(&["me", "events", event_remote_id])) {
            Ok(b) => b,
            Err(ProviderError::NotFound | ProviderError::SyncTokenGone) => return Ok(None),
            Err(e) => return Err(e),
        };
        let text = std::str::from_utf8(&body)
            .map_err(|e| ProviderError::Other(format!("Graph's answer is not UTF-8: {e}")))?;
        map_item(text, None, calendar.id, calendar.zone).map_err(ProviderError::Other)
    }

    fn insert(
        &self,
        token: &SecretString,
        calendar: &CalendarRef<'_>,
        event: &Event,
    ) -> Result<Option<RemoteChange>, ProviderError> {
        if event.platform_id.is_none() {
            return Err(ProviderError::Other(
                "an event to create in Graph needs its client id (the transactionId)".into(),
            ));
        }
        let url = self.url(&["me", "calendars", calendar.remote_id, "events"]);
        match self.write(
            self.http.post(url),
            token,
            calendar,
            &event_body(event, calendar.zone),
        ) {
            Ok(c) => Ok(Some(c)),
            // The transactionId was taken, by this same event from an attempt whose answer was lost.
            Err(ProviderError::AlreadyExists) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn patch(
        &self,
        token: &SecretString,
        calendar: &CalendarRef<'_>,
        event: &Event,
        etag: Option<&Etag>,
    ) -> Result<RemoteChange, ProviderError> {
        let id = event
            .platform_id
            .as_deref()
            .ok_or_else(|| ProviderError::Other("the event has no Graph id".into()))?;
        let mut req = self.http.patch(self.url(&["me", "events", id]));
        if let Some(etag) = etag {
            req = req.header(reqwest::header::IF_MATCH, &etag.0);
        }
        // The transactionId is a create's key; it is in the body only so an outbox row keeps its id.
        let mut body = event_body(event, calendar.zone);
        if let Some(o) = body.as_object_mut() {
            o.remove("transactionId");
        }
        self.write(req, token, calendar, &body)
    }

    fn delete(
        &self,
        token: &SecretString,
        _calendar: &CalendarRef<'_>,
        event_remote_id: &str,
        etag: Option<&Etag>,
    ) -> Result<(), ProviderError> {
        let mut req = self
            .http
            .delete(self.url(&["me", "events", event_remote_id]));
        if let Some(etag) = etag {
            req = req.header(reqwest::header::IF_MATCH, &etag.0);
        }
        match self.send(req, token) {
            Ok(_) | Err(ProviderError::NotFound | ProviderError::SyncTokenGone) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

impl Graph {
    /// A round starts: this calendar's cached masters are from the last one.
    fn forget_masters(&self, calendar: &CalendarRef<'_>) {
        self.lock_masters()
            .retain(|(cal, _), _| cal != calendar.remote_id);
    }
}

/// An instant as Graph's query parameters take it (ISO 8601 in UTC, whole seconds).
fn iso_utc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A `dateTimeTimeZone` as an instant: its wall clock read in its zone (a Windows or IANA name;
/// `fallback` when it names none Punctual knows), or an RFC 3339 value's own offset.
fn instant_of(t: &Time<'_>, fallback: Zone) -> Option<(NaiveDateTime, DateTime<Utc>)> {
    let text = t.date_time.text()?;
    if let Ok(at) = DateTime::parse_from_rfc3339(&text) {
        return Some((at.naive_local(), at.with_timezone(&Utc)));
    }
    let local = NaiveDateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
    let zone = t
        .time_zone
        .text()
        .and_then(|z| Zone::parse(&z))
        .unwrap_or(fallback);
    Some((local, zone.resolve(local)))
}

/// A time field as a [`When`]: a date for all-day events (their midnight as sent), else the instant in
/// the event's own zone, so the UI shows it as the organizer wrote it.
fn when_of(f: &Field<'_>, all_day: bool, event_zone: Zone, fallback: Zone) -> Option<When> {
    let (local, at) = instant_of(&f.read::<Time<'_>>()?, fallback)?;
    Some(if all_day {
        When::Date { date: local.date() }
    } else {
        When::Zoned {
            local: event_zone.local(at),
            zone: event_zone,
        }
    })
}

fn stamp_of(f: &Field<'_>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(&f.text()?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// One Graph event (`raw`, with its series master's JSON for a stub) as a change. `Ok(None)` for items
/// that carry nothing to store.
pub fn map_item(
    raw: &str,
    master: Option<&str>,
    calendar_id: &str,
    zone: Zone,
) -> Result<Option<RemoteChange>, String> {
    let item: Item<'_> =
        serde_json::from_str(raw).map_err(|e| format!("an event is not JSON: {e}"))?;
    let master = master
        .map(serde_json::from_str::<Item<'_>>)
        .transpose()
        .map_err(|e| format!("a series master is not JSON: {e}"))?;
    map_parsed(item, master.as_ref(), raw, calendar_id, zone)
}

fn map_parsed(
    item: Item<'_>,
    master: Option<&Item<'_>>,
    raw: &str,
    calendar_id: &str,
    zone: Zone,
) -> Result<Option<RemoteChange>, String> {
    // A body this file encoded has no id yet, only the client's transactionId.
    let id = item
        .id
        .non_blank()
        .or_else(|| item.transaction_id.non_blank())
        .ok_or("an event without an id was skipped")?;
    if item.removed.present() {
        return Ok(Some(RemoteChange::Remove {
            uid: id,
            recurrence_id: None,
        }));
    }
    let v = match master {
        Some(m) if item.is_stub() => item.or_master(m),
        _ => item,
    };
    let all_day = v.is_all_day.is_true();
    let time_zone = v
        .original_start_time_zone
        .text()
        .and_then(|z| Zone::parse(&z))
        .or_else(|| {
            v.start
                .read::<Time<'_>>()
                .and_then(|t| t.time_zone.text().and_then(|z| Zone::parse(&z)))
        })
        .unwrap_or(zone);
    let start = when_of(&v.start, all_day, time_zone, zone)
        .ok_or_else(|| format!("event {id}: no usable start; skipped"))?;
    let end = when_of(&v.end, all_day, time_zone, zone).unwrap_or(start);
    let content_type = v.body.member("contentType");
    let description = v
        .body
        .member("content")
        .filter(|c| !c.trim().is_empty())
        .map(|c| c.into_owned());
    let html = description
        .as_deref()
        .filter(|d| {
            content_type
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case("html"))
                || crate::detect::looks_like_html(d)
        })
        .map(str::to_string);
    let created = stamp_of(&v.created_date_time).unwrap_or_default();
    let updated = stamp_of(&v.last_modified_date_time).unwrap_or(created);
    Ok(Some(RemoteChange::Upsert(Box::new(Event {
        id: super::google::local_id(calendar_id, &id),
        calendar_id: calendar_id.to_string(),
        // Each instance is its own event, under its own Graph id, which `@removed` names. The iCalUId has no
        // field of its own in the model; it stays in `raw`.
        uid: id.clone(),
        title: v.subject.non_blank().unwrap_or_default(),
        description,
        location: v.location.member("displayName").and_then(|l| {
            let l = l.trim();
            (!l.is_empty()).then(|| l.to_string())
        }),
        url: None,
        color: None,
        start,
        end,
        time_zone: if all_day { zone } else { time_zone },
        availability: if v.show_as.text().as_deref() == Some("free") {
            Availability::Free
        } else {
            Availability::Busy
        },
        status: if v.is_cancelled.is_true() {
            EventStatus::Cancelled
        } else {
            EventStatus::Confirmed
        },
        recurrence: None,
        recurrence_id: None,
        this_and_future: false,
        conference: ConferenceData {
            uris: v.conference_uris(),
            html,
        },
        meeting: None,
        attendance: Attendance {
            declined: v.response().as_deref() == Some("declined"),
            not_joinable: false,
        },
        platform: PLATFORM.to_string(),
        platform_id: Some(id),
        raw: Some(raw.to_string()),
        created_at: created,
        updated_at: updated,
    }))))
}

/// A [`When`] as Graph's `dateTimeTimeZone`: the wall clock in the event's zone under its Windows name, or
/// the UTC instant as "UTC" for a zone with no Windows name (create and update may refuse the others).
fn graph_time(w: &When, zone: Zone) -> Value {
    let fmt = |t: NaiveDateTime| t.format("%Y-%m-%dT%H:%M:%S").to_string();
    match w {
        When::Date { date } => {
            // All-day: midnight in the event's zone, as Graph requires of isAllDay events.
            let name = zone.windows_name().unwrap_or("UTC");
            serde_json::json!({ "dateTime": fmt(date.and_time(chrono::NaiveTime::MIN)), "timeZone": name })
        }
        other => {
            let z = other.zone().unwrap_or(zone);
            match z.windows_name() {
                Some(name) => {
                    serde_json::json!({ "dateTime": fmt(z.local(other.to_utc(zone))), "timeZone": name })
                }
                None => {
                    serde_json::json!({ "dateTime": fmt(other.to_utc(zone).naive_utc()), "timeZone": "UTC" })
                }
            }
        }
    }
}

/// The body of a create or update: the fields Punctual edits, and the client's id as `transactionId`.
/// Recurrence is not written: every Graph event Punctual holds is one instance.
pub fn event_body(e: &Event, zone: Zone) -> Value {
    let event_zone = if e.all_day() { zone } else { e.time_zone };
    let mut v = serde_json::json!({
        "subject": e.title,
        "body": { "contentType": "text", "content": e.description.clone().unwrap_or_default() },
        "start": graph_time(&e.start, event_zone),
        "end": graph_time(&e.end, event_zone),
        "isAllDay": e.all_day(),
        "location": { "displayName": e.location.clone().unwrap_or_default() },
        "showAs": if e.availability == Availability::Free { "free" } else { "busy" },
    });
    if let Some(id) = &e.platform_id {
        v["transactionId"] = Value::String(id.clone());
    }
    v
}

/// The version Graph sent with an event (`@odata.etag`), kept in its raw JSON.
pub fn etag_of(e: &Event) -> Option<Etag> {
    let raw = e.raw.as_deref()?;
    let v: Value = serde_json::from_str(raw).ok()?;
    v.get("@odata.etag")
        .and_then(Value::as_str)
        .map(|t| Etag(t.to_string()))
}

/// Graph's naming and encoding of events written from Punctual.
pub struct GraphCodec;

impl super::EventCodec for GraphCodec {
    fn platform(&self) -> &'static str {
        PLATFORM
    }

    /// The create's `transactionId`; Graph answers with its own id, to which the app moves the event.
    fn new_event_id(&self) -> String {
        uuid::Uuid::new_v4().hyphenated().to_string()
    }

    fn local_id(&self, calendar_id: &str, remote_id: &str) -> String {
        super::google::local_id(calendar_id, remote_id)
    }

    /// Graph's occurrence ids are opaque and cannot be derived from a start; since every Graph event
    /// Punctual holds is one instance under its own id, this only names instances of series created here,
    /// in the store's own form.
    fn instance_id(&self, master_remote_id: &str, original_start: &When, zone: Zone) -> String {
        crate::store::instance_id(master_remote_id, original_start, zone)
    }

    fn version(&self, event: &Event) -> Option<Etag> {
        etag_of(event)
    }

    fn encode(&self, event: &Event, zone: Zone) -> Value {
        event_body(event, zone)
    }

    fn decode(&self, body: &Value, calendar_id: &str, zone: Zone) -> Option<Event> {
        match map_item(&body.to_string(), None, calendar_id, zone) {
            Ok(Some(RemoteChange::Upsert(e))) => Some(*e),
            _ => None,
        }
    }
}
