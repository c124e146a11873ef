//! A fake Microsoft Graph and Microsoft identity platform: the v2.0 authorize and token endpoints, `/me`,
//! `/me/calendars`, calendarView delta, and event reads and writes, as a real HTTP/1.1 server on
//! 127.0.0.1:0 with state. Written from Microsoft's documentation (the identity platform's authorization code
//! flow, Graph's `event: delta` and "Get incremental changes to events in a calendar view", the `event`
//! resource, Graph throttling) with the wire format of ../shared/fixtures/providers/graph.
//!
//! What it holds to, so the client is tested against the real rules:
//! - Identity platform (`/{tenant}/oauth2/v2.0/authorize` and `/token`): the tenant is `common`,
//!   `organizations`, `consumers` or a GUID. A public client: `client_id` is [`CLIENT_ID`] and a request that
//!   presents a `client_secret` is refused (AADSTS700025), as Entra refuses one from a public client. PKCE
//!   S256 is checked for real (RFC 7636 §4.6: AADSTS501481 on a wrong verifier), a code is good once
//!   (AADSTS54005 the second time), and the redirect must be a loopback one. A refresh token is issued only
//!   when `offline_access` was granted. Every refresh rotates the refresh token and kills the old one (Entra
//!   may keep the old one alive; the fake is stricter so a client that does not save the new one fails).
//!   `revoke()` makes refreshes answer `invalid_grant` with `error_codes: [70008]` (and API calls 401), the
//!   `InteractionRequired` token mode answers `interaction_required` with `[50076]`, and `NoRefreshToken`
//!   leaves `refresh_token` out of every token answer (a refresh that issues none leaves the presented
//!   refresh token alive, as RFC 6749 §6 has it).
//! - Bearer tokens: an access token belongs to the mailbox it was issued to, lives `access_lifetime`
//!   (checked for real) until `expire_access_tokens()`, and a bad or expired one gets 401 with
//!   `InvalidAuthenticationToken`. Several mailboxes (`add_user`): the API lists only the caller's
//!   calendars and answers 404 `ErrorItemNotFound` for another mailbox's calendar or event.
//! - calendarView delta (`/me/calendars/{id}/calendarView/delta`, and `/me/calendarView/delta` for the
//!   default calendar): a round's first request names the window (`startDateTime`, `endDateTime`, required);
//!   the server snapshots the instances whose span overlaps it (single instances, occurrences, exceptions;
//!   never series masters), and serves them in pages of `Prefer: odata.maxpagesize=N` (else `page_size`;
//!   never more than `page_limit`, as Graph may send fewer than preferred),
//!   each page but the last carrying `@odata.nextLink` (`$skiptoken`), the last `@odata.deltaLink`
//!   (`$deltatoken`). Both are opaque, on the same base and path as the request, and encode the window. A
//!   deltaLink returns what changed since its round began: changed instances in full, and
//!   `{"@odata.type", "id", "@removed": {"reason": "deleted"}}` for ones deleted or moved out of the window
//!   (which may name an instance the client never had: Graph does the same). Items in a page are rendered
//!   when served, so a change during a round may show early; it shows again in the next round.
//!   `expire_delta_tokens()` makes every token issued so far (skip and delta) answer 410 with the body of
//!   fixture error_410_sync_state_not_found.json (`SyncStateNotFound`); so does an unknown token.
//!   `empty_pages` puts an empty page (with a nextLink) before every page, and `replay` serves each page's
//!   first item again at its end: neither is an error for the client.
//! - Occurrences come as stubs in delta pages when `occurrence_stubs` (the default): `@odata.type`,
//!   `@odata.etag`, `id`, `type`, `seriesMasterId`, `start`, `end` only, so the client must GET the master
//!   (`/me/calendars/{cal}/events/{id}` or `/me/events/{id}`); `event_fetches(id)` counts those GETs.
//!   Single instances and exceptions come in full, as in the fixtures.
//! - Times: with `Prefer: outlook.timezone="Z"` (Z "UTC", an IANA or a Windows name) start and end are in Z
//!   with `"timeZone": Z`. Without it the fake answers in the event's own zone (its `start.timeZone`, often a
//!   Windows name). Graph documents UTC as its default there; the fake is stricter, so a client that forgets
//!   the header, or does not map zones, is caught. All-day events keep their dates (midnight to midnight)
//!   labelled with the answer's zone. `Prefer: outlook.body-content-type="text"` turns an HTML body into text
//!   (`text<href>` for links). Each honoured preference is named in `Preference-Applied`.
//! - Series: a master holds Graph's `patternedRecurrence` (`daily`, `weekly` with `daysOfWeek` and
//!   `firstDayOfWeek`, `absoluteMonthly`, `absoluteYearly`; ranges `endDate`, `numbered`, `noEnd`) and the
//!   fake expands it itself, plainly, day by day from `range.startDate`, at the master's wall-clock start time
//!   in its `start.timeZone` (so DST is kept as Exchange keeps it). An occurrence's id is
//!   `{masterId}_occ{start as YYYYMMDDTHHMMSSZ}`; its etag is derived from the master's. A PATCH of an
//!   occurrence makes it an `exception` (same id, with `originalStart`), a DELETE of one removes it from the
//!   series; a PATCH of the master touches every occurrence (they show in the next delta), and
//!   exceptions stay. Deleting a master deletes its exceptions and occurrences.
//! - Writes: `POST /me/calendars/{id}/events` (and `/me/events`, the default calendar) assigns the id and
//!   answers 201. `transactionId` is honoured: a POST whose `transactionId` (per mailbox) already made an
//!   event that still exists answers 201 with that event as it is now and creates nothing. (Graph's docs say
//!   the property exists "to avoid redundant POST operations" and name no status for the repeat; 201 with
//!   the same event is what a retrying client can use without a special case.) `PATCH` and `DELETE` of
//!   `/me/events/{id}` (or under a calendar) honour `If-Match`: a stale etag gets 412
//!   `ErrorIrresolvableConflict`; without the header the write goes through, as on Graph. Every write gives a
//!   new `W/"..."` etag and shows in the delta feed; DELETE answers 204, and 404 when gone. A create with
//!   `isOnlineMeeting: true, onlineMeetingProvider: "teamsForBusiness"` gets an `onlineMeeting.joinUrl`. A
//!   read-only (`canEdit: false`) calendar refuses writes with 403 `ErrorAccessDenied`.
//! - Faults on API requests, on demand (`push_fault`) or seeded at random (`set_chaos`): 429 and 503 with
//!   Retry-After, 504, 401 (which kills that access token), a reset connection (after the request took
//!   effect, so a POST's answer is lost), a truncated body, any answer as given (`Raw`: a page that is not
//!   JSON, a redirect, an error code), and the real answer rewritten (`Rewrite`). Outlook allows 4
//!   concurrent requests per mailbox: a 5th in flight gets 429 `ApplicationThrottled`
//!   ("MailboxConcurrency"); `max_concurrency()` is the most ever in flight for one mailbox, the refused one
//!   included, so a test can assert the client never went past 4. `latency` holds each API answer (outside
//!   the lock) so concurrency is visible.
//! - `GET /me/events/{id}/instances?startDateTime=..&endDateTime=..` lists a master's occurrences and
//!   exceptions overlapping the window, in full (one page).
//! - `set_offline(true)` makes the server unreachable: requests are read and the connection closed, with
//!   nothing logged or done. `fault_on(prefix, fault)` aims a fault at the first request whose
//!   "METHOD /path" starts with `prefix`, whatever else is queued.
//! - `add_singles` loads many single events under one lock, for benchmarks.

#![allow(dead_code)]

use base64::Engine as _;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc, Weekday};
use punctual::time::Zone;
use serde_json::{json, Map, Value};
use sha2::Digest;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Instant;

/// The app registration the fake knows: a public client (no secret), as a desktop app is.
pub const CLIENT_ID: &str = "5e3ce6c0-2b1f-4285-8d4b-75ee78787346";
/// The directory (tenant) the default mailbox lives in; also accepted as a tenant in the URL.
pub const TENANT_ID: &str = "8d5c7f3a-1e2b-4c6d-9f80-a1b2c3d4e5f6";
/// The scopes a calendar client asks for.
pub const SCOPES: &str = "offline_access Calendars.ReadWrite User.Read";
pub const DEFAULT_EMAIL: &str = "jane.doe@acme.example";
/// The default mailbox's default calendar ("Calendar").
pub const DEFAULT_CALENDAR: &str = "AAMkAGI2TGuLAAAcal-jane=";

/// A fault to answer an API request with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// 429 Too Many Requests with Retry-After.
    TooMany {
        retry_after: u64,
    },
    /// 503 Service Unavailable with Retry-After.
    Unavailable {
        retry_after: u64,
    },
    /// 504 Gateway Timeout.
    GatewayTimeout,
    /// 401, and the access token used stops working.
    Unauthorized,
    Reset,
    Truncate,
    /// Answers normally: queued before another fault, it lets that one hit a later request.
    Pass,
    /// Answers this instead of the real answer (a page that is not JSON, a redirect elsewhere, an error
    /// body such as `resyncRequired`), without touching any state.
    Raw {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Answers the real answer (its state change made) with its JSON body passed through the function
    /// first: an event without its start, a nextLink that points elsewhere.
    Rewrite(Rewriter),
}

/// A change to an answer's JSON body, for [`Fault::Rewrite`].
#[derive(Clone, Copy)]
pub struct Rewriter(pub fn(&mut Value));

impl std::fmt::Debug for Rewriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Rewriter(..)")
    }
}

impl PartialEq for Rewriter {
    fn eq(&self, other: &Rewriter) -> bool {
        std::ptr::fn_addr_eq(self.0, other.0)
    }
}

impl Eq for Rewriter {}

impl Fault {
    /// A Graph error body with `code` (as `syncStateNotFound` or `resyncRequired`) under `status`.
    pub fn graph_error(status: u16, code: &str) -> Fault {
        let r = graph_error(status, code, "The sync state is gone; synchronize again.");
        Fault::Raw {
            status,
            headers: r.headers,
            body: r.body,
        }
    }
}

/// How the authorize endpoint answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthorizeMode {
    Approve,
    Deny,
    WrongState,
}

/// How the token endpoint answers a good request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenMode {
    Normal,
    /// Refreshes answer `interaction_required` (AADSTS50076: MFA now required).
    InteractionRequired,
    /// Token answers carry no `refresh_token`.
    NoRefreshToken,
}

#[derive(Clone, Debug)]
pub struct FakeCalendar {
    pub id: String,
    pub name: String,
    pub color: String,
    pub hex_color: String,
    pub is_default: bool,
    pub can_edit: bool,
    pub owner_name: String,
    pub owner_address: String,
}

#[derive(Clone, Debug)]
pub struct Mailbox {
    /// The user's object id (a GUID), `/me`'s `id`.
    pub id: String,
    /// `/me`'s `mail`: None for some personal (Outlook.com) accounts, whose address is the UPN only.
    pub mail: Option<String>,
    pub upn: String,
    pub display_name: String,
    pub calendars: Vec<FakeCalendar>,
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Logged {
    /// "METHOD path?query", the query decoded.
    pub line: String,
    /// The headers, lower-cased, without `authorization`.
    pub headers: HashMap<String, String>,
    pub body: String,
}

#[derive(Clone, Debug)]
struct Stored {
    seq: u64,
    cal: String,
    item: Value,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl Stored {
    fn kind(&self) -> &str {
        self.item["type"].as_str().unwrap_or("singleInstance")
    }
}

struct Grant {
    challenge: String,
    redirect_uri: String,
    mailbox: usize,
    scope: String,
}

/// One instance in a delta round, rendered when its page is served.
#[derive(Clone, Debug)]
enum Entry {
    /// A stored single instance or exception.
    Item(String),
    Occurrence {
        master: String,
        start: DateTime<Utc>,
    },
    Removed(String),
}

struct Round {
    cal: String,
    mailbox: usize,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    entries: Vec<Entry>,
    /// The change number the round began at: its deltaLink returns what changed after it.
    seq: u64,
}

enum Token {
    Skip {
        round: Arc<Round>,
        pos: usize,
        empty_served: bool,
        generation: u64,
    },
    Delta {
        cal: String,
        mailbox: usize,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        seq: u64,
        generation: u64,
    },
}

pub struct State {
    /// Mailboxes; the first is the default one (`DEFAULT_EMAIL`).
    pub mailboxes: Vec<Mailbox>,
    events: HashMap<String, BTreeMap<String, Stored>>,
    /// The calendar of each stored event.
    where_is: HashMap<String, String>,
    /// Occurrences deleted from their series (and deleted exceptions), which expansion skips.
    deleted_occurrences: HashSet<String>,
    /// (change number, calendar, id) of every instance deleted.
    removed: Vec<(u64, String, String)>,
    /// (change number, calendar, the master before the change) for every master changed or deleted, so a
    /// delta can announce the occurrences that went away.
    old_masters: Vec<(u64, String, Value)>,
    seq: u64,
    /// (mailbox, transactionId) → the id of the event it made.
    transactions: HashMap<(usize, String), String>,
    codes: HashMap<String, Grant>,
    used_codes: HashSet<String>,
    /// Live refresh tokens: their mailbox and granted scope.
    refresh_tokens: HashMap<String, (usize, String)>,
    /// Live access tokens: their mailbox and when they were issued.
    access_tokens: HashMap<String, (usize, Instant)>,
    /// How long an access token works (reported as `expires_in`).
    pub access_lifetime: std::time::Duration,
    pub revoked: bool,
    next_id: u64,
    pub authorize_mode: AuthorizeMode,
    pub token_mode: TokenMode,
    /// The mailbox (index) the authorize endpoint signs in as.
    pub approve_as: usize,
    tokens: HashMap<String, Token>,
    generation: u64,
    /// Tokens of a generation before this one answer 410.
    min_generation: u64,
    /// Delta page size without `Prefer: odata.maxpagesize`.
    pub page_size: usize,
    /// The most items a delta page holds whatever the client prefers: `odata.maxpagesize` is a preference,
    /// and Graph may send fewer (so a client asking for 200 still meets many pages).
    pub page_limit: Option<usize>,
    /// `/me/calendars` page size without `$top`.
    pub calendars_page_size: usize,
    pub occurrence_stubs: bool,
    pub empty_pages: bool,
    pub replay: bool,
    /// How long each API answer takes, as a real server's round trip would.
    pub latency: std::time::Duration,
    faults: VecDeque<Fault>,
    /// Faults for the first API request whose "METHOD /path" starts with a prefix (`fault_on`).
    targeted: Vec<(String, Fault)>,
    chaos: Option<(u64, u32)>,
    pub log: Vec<Logged>,
    /// Every access and refresh token ever issued, for the no-secrets-in-storage test.
    pub issued: Vec<String>,
    in_flight: HashMap<usize, usize>,
    /// The most API requests ever in flight at once for one mailbox, refused ones included.
    pub max_in_flight: usize,
    /// Outlook's per-mailbox concurrency limit.
    pub concurrency_limit: usize,
    /// A POST repeating a transactionId answers 409 instead of the event it made: Graph's docs name no
    /// status for the repeat, so the client is tested against this answer too.
    pub duplicate_transaction_conflict: bool,
    /// Unreachable: every request but `_control` is read, then the connection is closed unanswered and
    /// nothing takes effect, as when the network is down.
    pub offline: bool,
    /// The Retry-After of a MailboxConcurrency 429.
    pub concurrency_retry_after: u64,
}

pub struct FakeGraph {
    pub base: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

// ---------------------------------------------------------------------------------------------------------
// HTTP plumbing (as in fake_google.rs).

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn parse_query(q: &str) -> HashMap<String, String> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// A query parameter by name, case-insensitively (Graph's docs spell them `startDateTime` and
/// `startdatetime` both).
fn param<'a>(q: &'a HashMap<String, String>, name: &str) -> Option<&'a String> {
    q.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

struct Request {
    method: String,
    path: String,
    query: HashMap<String, String>,
    headers: HashMap<String, String>,
    body: String,
}

fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let target = first.next()?.to_string();
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    Some(Request {
        method,
        path: path.to_string(),
        query: parse_query(query),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn bearer_of(req: &Request) -> &str {
    req.headers
        .get("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or("")
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    fault: Option<Fault>,
}

impl Response {
    fn header(mut self, k: &str, v: impl Into<String>) -> Response {
        self.headers.push((k.to_string(), v.into()));
        self
    }
}

fn json_response(status: u16, v: Value) -> Response {
    Response {
        status,
        headers: vec![(
            "Content-Type".into(),
            "application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8".into(),
        )],
        body: v.to_string(),
        fault: None,
    }
}

fn no_content() -> Response {
    Response {
        status: 204,
        headers: Vec::new(),
        body: String::new(),
        fault: None,
    }
}

/// Graph's error body: `{"error": {"code", "message", "innerError": {...}}}`.
fn graph_error(status: u16, code: &str, message: &str) -> Response {
    json_response(
        status,
        json!({"error": {"code": code, "message": message, "innerError": inner_error()}}),
    )
}

fn inner_error() -> Value {
    let now = Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string();
    json!({"date": now, "request-id": "9f1b7c6e-0000-4000-8000-0123456789ab",
           "client-request-id": "9f1b7c6e-0000-4000-8000-0123456789ab"})
}

/// The identity platform's error body (reference-error-codes: error, error_description, error_codes, ...).
fn aad_error(status: u16, error: &str, code: u32, description: &str) -> Response {
    let now = Utc::now().format("%Y-%m-%d %H:%M:%SZ").to_string();
    json_response(
        status,
        json!({"error": error,
               "error_description": format!("AADSTS{code}: {description} Trace ID: 0000aaaa-11bb-cccc-dd22-eeeeee333333 Correlation ID: aaaa0000-bb11-2222-33cc-444444dddddd Timestamp: {now}"),
               "error_codes": [code], "timestamp": now,
               "trace_id": "0000aaaa-11bb-cccc-dd22-eeeeee333333",
               "correlation_id": "aaaa0000-bb11-2222-33cc-444444dddddd",
               "error_uri": format!("https://login.microsoftonline.com/error?code={code}")}),
    )
}

fn not_found() -> Response {
    graph_error(
        404,
        "ErrorItemNotFound",
        "The specified object was not found in the store.",
    )
}

fn bad_request(message: &str) -> Response {
    graph_error(400, "ErrorInvalidRequest", message)
}

fn sync_state_not_found() -> Response {
    // The exact shape of fixture error_410_sync_state_not_found.json.
    json_response(
        410,
        json!({"error": {"code": "SyncStateNotFound", "message": "The sync state generation is not found.",
                         "innerError": inner_error()}}),
    )
}

/// Writes one answer. Connections are kept alive (HTTP/1.1's default) unless a fault cuts them.
fn write_response(stream: &mut TcpStream, r: Response) -> bool {
    if r.fault == Some(Fault::Reset) {
        let _ = stream.shutdown(Shutdown::Both);
        return false;
    }
    let reason = match r.status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        410 => "Gone",
        412 => "Precondition Failed",
        429 => "Too Many Requests",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    };
    let mut out = format!("HTTP/1.1 {} {reason}\r\n", r.status);
    for (k, v) in &r.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("request-id: 9f1b7c6e-0000-4000-8000-0123456789ab\r\n");
    out.push_str(&format!("Content-Length: {}\r\n\r\n", r.body.len()));
    let body = if r.fault == Some(Fault::Truncate) {
        &r.body[..r.body.len() / 2]
    } else {
        &r.body[..]
    };
    // One write: headers and body in separate small writes meet Nagle and delayed ACKs (40 ms each).
    out.push_str(body);
    let _ = stream.write_all(out.as_bytes());
    let _ = stream.flush();
    if r.fault == Some(Fault::Truncate) {
        let _ = stream.shutdown(Shutdown::Both);
        return false;
    }
    true
}

// ---------------------------------------------------------------------------------------------------------
// Times and recurrence.

/// Graph's wall-clock form: `2024-03-05T15:00:00.0000000`.
fn wall(t: NaiveDateTime) -> String {
    format!("{}.0000000", t.format("%Y-%m-%dT%H:%M:%S"))
}

/// A `dateTimeTimeZone`'s `dateTime`: a wall-clock time, optionally with fractional seconds; an instant
/// (with `Z` or an offset) is accepted too and read in `zone`.
fn parse_wall(s: &str, zone: Zone) -> Option<NaiveDateTime> {
    if s.ends_with('Z')
        || s.get(19..)
            .is_some_and(|r| r.contains('+') || r.contains('-'))
    {
        let t = DateTime::parse_from_rfc3339(s).ok()?.with_timezone(&Utc);
        return Some(zone.local(t));
    }
    let head = s.get(..19)?;
    let rest = &s[19..];
    if !(rest.is_empty()
        || (rest.starts_with('.') && rest[1..].bytes().all(|b| b.is_ascii_digit())))
    {
        return None;
    }
    NaiveDateTime::parse_from_str(head, "%Y-%m-%dT%H:%M:%S").ok()
}

/// A query's `startDateTime`/`endDateTime`: ISO 8601 with an offset, or without one (read as UTC).
fn parse_instant(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    parse_wall(s, Zone::UTC).map(|n| n.and_utc())
}

/// A `dateTimeTimeZone` value's zone and instant.
fn when_of(v: &Value) -> Option<(Zone, DateTime<Utc>)> {
    let zone = Zone::parse(v.get("timeZone")?.as_str()?)?;
    let local = parse_wall(v.get("dateTime")?.as_str()?, zone)?;
    Some((zone, zone.resolve(local)))
}

fn weekday(name: &str) -> Option<Weekday> {
    Some(match name.to_ascii_lowercase().as_str() {
        "sunday" => Weekday::Sun,
        "monday" => Weekday::Mon,
        "tuesday" => Weekday::Tue,
        "wednesday" => Weekday::Wed,
        "thursday" => Weekday::Thu,
        "friday" => Weekday::Fri,
        "saturday" => Weekday::Sat,
        _ => return None,
    })
}

/// What the fake can expand of a `patternedRecurrence`; anything else is refused at write time.
fn check_recurrence(r: &Value) -> Result<(), String> {
    if r.is_null() {
        return Ok(());
    }
    let p = &r["pattern"];
    let kind = p["type"].as_str().unwrap_or_default();
    if !["daily", "weekly", "absoluteMonthly", "absoluteYearly"].contains(&kind) {
        return Err(format!("recurrence pattern type '{kind}' is not supported"));
    }
    if p["interval"].as_u64().unwrap_or(0) == 0 {
        return Err("recurrence pattern interval must be at least 1".into());
    }
    if kind == "weekly" {
        let days = p["daysOfWeek"].as_array().cloned().unwrap_or_default();
        if days.is_empty() || days.iter().any(|d| d.as_str().and_then(weekday).is_none()) {
            return Err("a weekly pattern needs daysOfWeek".into());
        }
    }
    let range = &r["range"];
    let start_ok = range["startDate"]
        .as_str()
        .is_some_and(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok());
    if !start_ok {
        return Err("recurrence range startDate is required".into());
    }
    match range["type"].as_str().unwrap_or_default() {
        "noEnd" => Ok(()),
        "endDate"
            if range["endDate"]
                .as_str()
                .is_some_and(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok()) =>
        {
            Ok(())
        }
        "numbered" if range["numberOfOccurrences"].as_u64().unwrap_or(0) > 0 => Ok(()),
        other => Err(format!("recurrence range '{other}' is not valid")),
    }
}

/// The starts of a master's occurrences whose span overlaps [from, to), in order.
fn expand(master: &Value, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let (Some((zone, start)), Some((_, end))) =
        (when_of(&master["start"]), when_of(&master["end"]))
    else {
        return Vec::new();
    };
    let r = &master["recurrence"];
    let p = &r["pattern"];
    let range = &r["range"];
    let length = end - start;
    let time: NaiveTime = zone.local(start).time();
    let interval = p["interval"].as_u64().unwrap_or(1).max(1) as i64;
    let Some(first) = range["startDate"]
        .as_str()
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
    else {
        return Vec::new();
    };
    let last_wanted = zone.local(to).date() + Duration::days(1);
    let last = match range["type"].as_str() {
        Some("endDate") => range["endDate"]
            .as_str()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .map_or(last_wanted, |d| d.min(last_wanted)),
        _ => last_wanted,
    };
    let limit = match range["type"].as_str() {
        Some("numbered") => range["numberOfOccurrences"].as_u64().unwrap_or(0),
        _ => u64::MAX,
    };
    let days: Vec<Weekday> = p["daysOfWeek"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d.as_str().and_then(weekday))
        .collect();
    let first_day = p["firstDayOfWeek"]
        .as_str()
        .and_then(weekday)
        .unwrap_or(Weekday::Sun);
    let week_of = |d: NaiveDate| {
        let back = (7 + d.weekday().num_days_from_sunday() - first_day.num_days_from_sunday()) % 7;
        d - Duration::days(i64::from(back))
    };
    let months = |d: NaiveDate| {
        (d.year() - first.year()) as i64 * 12 + d.month() as i64 - first.month() as i64
    };
    let mut out = Vec::new();
    let mut count = 0u64;
    let mut d = first;
    while d <= last && count < limit {
        let hit = match p["type"].as_str() {
            Some("daily") => (d - first).num_days() % interval == 0,
            Some("weekly") => {
                days.contains(&d.weekday())
                    && ((week_of(d) - week_of(first)).num_days() / 7) % interval == 0
            }
            Some("absoluteMonthly") => {
                u64::from(d.day()) == p["dayOfMonth"].as_u64().unwrap_or(0)
                    && months(d) % interval == 0
            }
            Some("absoluteYearly") => {
                u64::from(d.day()) == p["dayOfMonth"].as_u64().unwrap_or(0)
                    && u64::from(d.month()) == p["month"].as_u64().unwrap_or(0)
                    && (months(d) / 12) % interval == 0
            }
            _ => false,
        };
        if hit {
            count += 1;
            let t = zone.resolve(d.and_time(time));
            if t >= to {
                break;
            }
            if t + length > from {
                out.push(t);
            }
        }
        d += Duration::days(1);
    }
    out
}

fn occurrence_id(master: &str, start: DateTime<Utc>) -> String {
    format!("{master}_occ{}", start.format("%Y%m%dT%H%M%SZ"))
}

fn parse_occurrence_id(id: &str) -> Option<(&str, DateTime<Utc>)> {
    let (master, suffix) = id.rsplit_once("_occ")?;
    let t = NaiveDateTime::parse_from_str(suffix, "%Y%m%dT%H%M%SZ").ok()?;
    Some((master, t.and_utc()))
}

/// Graph's text rendering of an HTML body: tags dropped, a link as `text<href>`, entities decoded.
fn html_to_text(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    let mut pending_href: Option<String> = None;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        let Some(j) = rest[i..].find('>') else {
            rest = "";
            break;
        };
        let tag = &rest[i + 1..i + j];
        let lower = tag.to_ascii_lowercase();
        if lower.starts_with("a ") {
            pending_href = lower.find("href=\"").and_then(|k| {
                let v = &tag[k + 6..];
                v.find('"').map(|e| v[..e].to_string())
            });
        } else if lower == "/a" {
            if let Some(h) = pending_href.take() {
                out.push_str(&format!("<{h}>"));
            }
        } else if lower.starts_with("br") || lower == "/p" || lower == "/div" {
            out.push_str("\r\n");
        }
        rest = &rest[i + j + 1..];
    }
    out.push_str(rest);
    out.replace("&nbsp;", " ")
        .replace("&lt;", "\u{1}")
        .replace("&gt;", "\u{2}")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
        .replace('\u{1}', "&lt;")
        .replace('\u{2}', "&gt;")
        .trim()
        .to_string()
}

/// How a request wants events rendered.
struct Out {
    /// The zone from `Prefer: outlook.timezone`, with the name as the client wrote it.
    zone: Option<(Zone, String)>,
    text_body: bool,
    page_size: Option<usize>,
    applied: Vec<String>,
}

impl Out {
    fn of(req: &Request) -> Out {
        let mut out = Out {
            zone: None,
            text_body: false,
            page_size: None,
            applied: Vec::new(),
        };
        // Several Prefer headers arrive joined by commas; each preference is `name=value`.
        let prefer = req.headers.get("prefer").cloned().unwrap_or_default();
        for p in prefer.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let v = v.trim().trim_matches('"');
            match k.trim().to_ascii_lowercase().as_str() {
                "outlook.timezone" => {
                    if let Some(z) = Zone::parse(v) {
                        out.zone = Some((z, v.to_string()));
                        out.applied.push(format!("outlook.timezone=\"{v}\""));
                    }
                }
                "outlook.body-content-type" if v.eq_ignore_ascii_case("text") => {
                    out.text_body = true;
                    out.applied
                        .push("outlook.body-content-type=\"text\"".into());
                }
                "odata.maxpagesize" => {
                    if let Ok(n) = v.parse::<usize>() {
                        out.page_size = Some(n.max(1));
                        out.applied.push(format!("odata.maxpagesize={n}"));
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// A `dateTimeTimeZone` for an instant of an event whose own zone is `own`.
    fn when(&self, t: DateTime<Utc>, own: Zone, own_label: &str, all_day: bool) -> Value {
        let (zone, label) = match &self.zone {
            Some((z, l)) => (*z, l.as_str()),
            None => (own, own_label),
        };
        // An all-day event is dates, not instants: its midnights stay midnights in any answer zone.
        let local = if all_day { own.local(t) } else { zone.local(t) };
        json!({"dateTime": wall(local), "timeZone": label})
    }

    fn respond(&self, r: Response) -> Response {
        if self.applied.is_empty() {
            r
        } else {
            r.header("Preference-Applied", self.applied.join(", "))
        }
    }
}

/// Graph's instant form with seven fractional digits: `2024-03-01T10:11:12.7654321Z`.
fn stamp(t: DateTime<Utc>) -> String {
    format!(
        "{}.{:07}Z",
        t.format("%Y-%m-%dT%H:%M:%S"),
        t.timestamp_subsec_nanos() / 100
    )
}

fn etag_of(change_key: &str) -> String {
    format!("W/\"{change_key}\"")
}

// ---------------------------------------------------------------------------------------------------------
// The state.

/// Fields Graph sets itself; a PATCH or POST body cannot change them.
const PROTECTED: &[&str] = &[
    "id",
    "type",
    "seriesMasterId",
    "iCalUId",
    "uid",
    "@odata.etag",
    "@odata.type",
    "@odata.context",
    "changeKey",
    "createdDateTime",
    "lastModifiedDateTime",
    "occurrenceId",
    "originalStart",
    "webLink",
];

/// Where an event id leads.
enum Target {
    Stored(String),
    Occurrence {
        master: String,
        start: DateTime<Utc>,
    },
}

impl State {
    fn new_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}{:010}AAA=", self.next_id)
    }

    fn token(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        let t = format!(
            "{prefix}{}.{:x}",
            self.next_id,
            self.next_id.wrapping_mul(0x9e37_79b9_7f4a_7c15)
        );
        self.issued.push(t.clone());
        t
    }

    fn mailbox_of_email(&self, email: &str) -> usize {
        self.mailboxes
            .iter()
            .position(|m| m.upn.eq_ignore_ascii_case(email))
            .unwrap_or_else(|| panic!("{email} must be added with add_user first"))
    }

    fn owns(&self, mailbox: usize, cal: &str) -> Option<&FakeCalendar> {
        self.mailboxes
            .get(mailbox)?
            .calendars
            .iter()
            .find(|c| c.id == cal)
    }

    fn default_calendar(&self, mailbox: usize) -> String {
        self.mailboxes[mailbox]
            .calendars
            .iter()
            .find(|c| c.is_default)
            .map(|c| c.id.clone())
            .unwrap_or_default()
    }

    fn mailbox_of_cal(&self, cal: &str) -> Option<usize> {
        self.mailboxes
            .iter()
            .position(|m| m.calendars.iter().any(|c| c.id == cal))
    }

    fn stored(&self, id: &str) -> Option<&Stored> {
        let cal = self.where_is.get(id)?;
        self.events.get(cal)?.get(id)
    }

    /// What an id names, if it is live: a stored event, or an occurrence its master's pattern makes.
    fn target(&self, id: &str) -> Option<(String, Target)> {
        if let Some(s) = self.stored(id) {
            return Some((s.cal.clone(), Target::Stored(id.to_string())));
        }
        let (master, start) = parse_occurrence_id(id)?;
        let m = self.stored(master).filter(|m| m.kind() == "seriesMaster")?;
        if self.deleted_occurrences.contains(id) {
            return None;
        }
        let hit = expand(
            &m.item,
            start - Duration::seconds(1),
            start + Duration::seconds(1),
        )
        .contains(&start);
        hit.then(|| {
            (
                m.cal.clone(),
                Target::Occurrence {
                    master: master.to_string(),
                    start,
                },
            )
        })
    }

    /// Stores an event as changed now: a new change number, change key and etag, its instants computed.
    fn store(&mut self, cal: &str, mut item: Value) -> Value {
        self.seq += 1;
        let seq = self.seq;
        let ck = b64url(format!("ck-{seq}-{}", self.next_id).as_bytes());
        item["changeKey"] = json!(ck);
        item["@odata.etag"] = json!(etag_of(&ck));
        item["lastModifiedDateTime"] = json!(stamp(Utc::now()));
        let id = item["id"].as_str().expect("events have ids").to_string();
        let (_, start) = when_of(&item["start"]).expect("a stored event has a valid start");
        let (_, end) = when_of(&item["end"]).expect("a stored event has a valid end");
        self.where_is.insert(id.clone(), cal.to_string());
        self.events.entry(cal.to_string()).or_default().insert(
            id,
            Stored {
                seq,
                cal: cal.to_string(),
                item: item.clone(),
                start,
                end,
            },
        );
        item
    }

    /// Removes a stored event, leaving the tombstone a delta announces.
    fn unstore(&mut self, id: &str) -> Option<Stored> {
        let cal = self.where_is.remove(id)?;
        let s = self.events.get_mut(&cal)?.remove(id)?;
        self.seq += 1;
        self.removed.push((self.seq, cal, id.to_string()));
        Some(s)
    }

    /// Builds a new event from a body, as Graph fills one in; Err is the 400's message.
    fn build(&mut self, mailbox: usize, body: &Value, id: Option<String>) -> Result<Value, String> {
        let Some(obj) = body.as_object() else {
            return Err("the body must be a JSON object".into());
        };
        for k in ["start", "end"] {
            let v = &body[k];
            if v.get("dateTime").and_then(Value::as_str).is_none()
                || v.get("timeZone").and_then(Value::as_str).is_none()
            {
                return Err(format!("{k} with dateTime and timeZone is required"));
            }
            if when_of(v).is_none() {
                return Err(format!(
                    "{k}: the dateTime or the time zone '{}' is not valid",
                    v["timeZone"].as_str().unwrap_or_default()
                ));
            }
        }
        check_recurrence(body.get("recurrence").unwrap_or(&Value::Null))?;
        let id = match id {
            Some(id) => id,
            None => self.new_id("AAMkAGfake"),
        };
        let m = &self.mailboxes[mailbox];
        let (me_name, me_address) = (
            m.display_name.clone(),
            m.mail.clone().unwrap_or_else(|| m.upn.clone()),
        );
        let uid = format!(
            "040000008200E00074C5B7101A82E008000000{}",
            b64url(id.as_bytes()).to_ascii_uppercase()
        );
        let now = stamp(Utc::now());
        let mut item = json!({
            "id": id, "createdDateTime": now, "categories": [], "transactionId": null,
            "originalStartTimeZone": body["start"]["timeZone"], "originalEndTimeZone": body["end"]["timeZone"],
            "iCalUId": uid, "uid": uid, "reminderMinutesBeforeStart": 15, "isReminderOn": true,
            "hasAttachments": false, "subject": "", "bodyPreview": "", "importance": "normal",
            "sensitivity": "normal", "isAllDay": false, "isCancelled": false, "isOrganizer": true,
            "responseRequested": true, "seriesMasterId": null, "showAs": "busy", "type": "singleInstance",
            "webLink": format!("https://outlook.office365.com/owa/?itemid={}&exvsurl=1&path=/calendar/item", percent_encode(&id)),
            "onlineMeetingUrl": null, "isOnlineMeeting": false, "onlineMeetingProvider": "unknown",
            "allowNewTimeProposals": true, "occurrenceId": null, "isDraft": false, "hideAttendees": false,
            "responseStatus": {"response": "organizer", "time": "0001-01-01T00:00:00Z"},
            "body": {"contentType": "html", "content": ""},
            "location": {"displayName": "", "locationType": "default", "uniqueIdType": "unknown",
                         "address": {}, "coordinates": {}},
            "locations": [], "recurrence": null, "attendees": [],
            "organizer": {"emailAddress": {"name": me_name, "address": me_address}},
            "onlineMeeting": null,
        });
        for (k, v) in obj {
            if !PROTECTED.contains(&k.as_str()) {
                item[k.as_str()] = v.clone();
            }
        }
        self.finish(&mut item);
        Ok(item)
    }

    /// What follows from the fields: the type from `recurrence`, the preview from the body, a Teams link.
    fn finish(&mut self, item: &mut Value) {
        let kind = item["type"]
            .as_str()
            .unwrap_or("singleInstance")
            .to_string();
        if kind != "exception" && kind != "occurrence" {
            let recurring = !item["recurrence"].is_null();
            item["type"] = json!(if recurring {
                "seriesMaster"
            } else {
                "singleInstance"
            });
        }
        let content = item["body"]["content"].as_str().unwrap_or_default();
        let text = if item["body"]["contentType"].as_str() == Some("html") {
            html_to_text(content)
        } else {
            content.to_string()
        };
        item["bodyPreview"] = json!(text.chars().take(255).collect::<String>());
        let teams = item["isOnlineMeeting"].as_bool() == Some(true)
            && item["onlineMeetingProvider"].as_str() == Some("teamsForBusiness");
        if teams && item["onlineMeeting"].get("joinUrl").is_none() {
            self.next_id += 1;
            let thread = b64url(format!("meeting-{}-{}", self.next_id, item["id"]).as_bytes());
            let oid = self.mailboxes[0].id.clone();
            let join = format!(
                "https://teams.microsoft.com/l/meetup-join/19%3ameeting_{thread}%40thread.v2/0?context=%7b%22Tid%22%3a%22{TENANT_ID}%22%2c%22Oid%22%3a%22{oid}%22%7d"
            );
            item["onlineMeeting"] = json!({"joinUrl": join, "conferenceId": format!("{}", 800_000_000 + self.next_id),
                "tollNumber": "+1 323-849-4874", "tollFreeNumbers": [], "quickDial": "+1 323-849-4874,,851234567#",
                "phones": [], "ipPhone": null, "sipUri": null});
        }
    }

    /// An occurrence as `GET /me/events/{id}` serves it: the master's fields at its own start.
    fn occurrence_item(&self, master: &Stored, start: DateTime<Utc>) -> Value {
        let id = occurrence_id(master.item["id"].as_str().unwrap_or_default(), start);
        let mut item = master.item.clone();
        let (zone, _) = when_of(&master.item["start"]).unwrap_or((Zone::UTC, master.start));
        let length = master.end - master.start;
        let label = master.item["start"]["timeZone"].clone();
        let end_label = master.item["end"]["timeZone"].clone();
        let master_id = master.item["id"].clone();
        let date = zone.local(start).date();
        let ck = format!(
            "{}.{}",
            master.item["changeKey"].as_str().unwrap_or_default(),
            date.format("%Y%m%d")
        );
        item["id"] = json!(id);
        item["type"] = json!("occurrence");
        item["seriesMasterId"] = master_id.clone();
        item["recurrence"] = Value::Null;
        item["occurrenceId"] = json!(format!(
            "OID.{}.{}",
            master_id.as_str().unwrap_or_default(),
            date
        ));
        item["originalStart"] = json!(start.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        item["iCalUId"] = json!(format!(
            "{}_OCC{}",
            master.item["iCalUId"].as_str().unwrap_or_default(),
            date.format("%Y%m%d")
        ));
        item["changeKey"] = json!(ck);
        item["@odata.etag"] = json!(etag_of(&ck));
        item["start"] = json!({"dateTime": wall(zone.local(start)), "timeZone": label});
        let end_zone = when_of(&master.item["end"]).map_or(zone, |(z, _)| z);
        item["end"] =
            json!({"dateTime": wall(end_zone.local(start + length)), "timeZone": end_label});
        item
    }

    /// An event as the API serves it, under `out`'s preferences.
    fn render(&self, item: &Value, out: &Out, delta: bool) -> Value {
        let mut v = item.clone();
        let all_day = item["isAllDay"].as_bool() == Some(true);
        for k in ["start", "end"] {
            if let Some((zone, t)) = when_of(&item[k]) {
                let label = item[k]["timeZone"].as_str().unwrap_or("UTC");
                v[k] = out.when(t, zone, label, all_day);
            }
        }
        if out.text_body && item["body"]["contentType"].as_str() == Some("html") {
            v["body"] = json!({"contentType": "text",
                               "content": html_to_text(item["body"]["content"].as_str().unwrap_or_default())});
        }
        if delta {
            let mut m = Map::new();
            m.insert("@odata.type".into(), json!("#microsoft.graph.event"));
            if let Some(o) = v.as_object() {
                m.extend(o.clone());
            }
            v = Value::Object(m);
        }
        v
    }

    fn render_entry(&self, e: &Entry, out: &Out) -> Value {
        let removed = |id: &str| json!({"@odata.type": "#microsoft.graph.event", "id": id, "@removed": {"reason": "deleted"}});
        match e {
            Entry::Item(id) => match self.stored(id) {
                Some(s) => self.render(&s.item, out, true),
                None => removed(id),
            },
            Entry::Occurrence { master, start } => {
                let id = occurrence_id(master, *start);
                match self.target(&id) {
                    Some((_, Target::Occurrence { .. })) => {
                        let m = self.stored(master).expect("a live occurrence has a master");
                        let full = self.render(&self.occurrence_item(m, *start), out, true);
                        if !self.occurrence_stubs {
                            return full;
                        }
                        let mut stub = Map::new();
                        for k in [
                            "@odata.type",
                            "@odata.etag",
                            "id",
                            "type",
                            "seriesMasterId",
                            "start",
                            "end",
                        ] {
                            stub.insert(k.into(), full[k].clone());
                        }
                        Value::Object(stub)
                    }
                    Some((_, Target::Stored(id))) => match self.stored(&id) {
                        Some(s) => self.render(&s.item, out, true),
                        None => removed(&id),
                    },
                    None => removed(&id),
                }
            }
            Entry::Removed(id) => removed(id),
        }
    }

    /// Every instance of a calendar overlapping [from, to), by start then id.
    fn full_entries(&self, cal: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Entry> {
        let mut found: Vec<(DateTime<Utc>, String, Entry)> = Vec::new();
        for (id, s) in self.events.get(cal).into_iter().flatten() {
            if s.kind() == "seriesMaster" {
                for t in expand(&s.item, from, to) {
                    let occ = occurrence_id(id, t);
                    if !self.deleted_occurrences.contains(&occ) && !self.where_is.contains_key(&occ)
                    {
                        found.push((
                            t,
                            occ,
                            Entry::Occurrence {
                                master: id.clone(),
                                start: t,
                            },
                        ));
                    }
                }
            } else if s.start < to && s.end > from {
                found.push((s.start, id.clone(), Entry::Item(id.clone())));
            }
        }
        found.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        found.into_iter().map(|(_, _, e)| e).collect()
    }

    /// What changed in [from, to) after change number `since`.
    fn changed_entries(
        &self,
        cal: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        since: u64,
    ) -> Vec<Entry> {
        let mut out: BTreeMap<String, Entry> = BTreeMap::new();
        let empty = BTreeMap::new();
        let events = self.events.get(cal).unwrap_or(&empty);
        for (id, s) in events.iter().filter(|(_, s)| s.seq > since) {
            if s.kind() == "seriesMaster" {
                for t in expand(&s.item, from, to) {
                    let occ = occurrence_id(id, t);
                    if !self.deleted_occurrences.contains(&occ) && !self.where_is.contains_key(&occ)
                    {
                        out.insert(
                            occ,
                            Entry::Occurrence {
                                master: id.clone(),
                                start: t,
                            },
                        );
                    }
                }
            } else if s.start < to && s.end > from {
                out.insert(id.clone(), Entry::Item(id.clone()));
            } else {
                // Moved out of the window: the client must drop it.
                out.insert(id.clone(), Entry::Removed(id.clone()));
            }
        }
        // Whether an id is an instance in the window now (so an old master's occurrence is not removed).
        let present = |id: &str| match self.target(id) {
            Some((c, Target::Stored(_))) => {
                c == cal
                    && self
                        .stored(id)
                        .is_some_and(|s| s.start < to && s.end > from)
            }
            Some((c, Target::Occurrence { start, .. })) => c == cal && start < to && start >= from,
            None => false,
        };
        for (_, _, old) in self
            .old_masters
            .iter()
            .filter(|(seq, c, _)| *seq > since && c == cal)
        {
            let master = old["id"].as_str().unwrap_or_default();
            for t in expand(old, from, to) {
                let occ = occurrence_id(master, t);
                if !out.contains_key(&occ) && !present(&occ) {
                    out.insert(occ.clone(), Entry::Removed(occ));
                }
            }
        }
        for (_, _, id) in self
            .removed
            .iter()
            .filter(|(seq, c, _)| *seq > since && c == cal)
        {
            if !out.contains_key(id) && !present(id) {
                out.insert(id.clone(), Entry::Removed(id.clone()));
            }
        }
        out.into_values().collect()
    }

    fn mint(&mut self, t: Token) -> String {
        self.next_id += 1;
        let name = format!(
            "R0usm{}{:x}",
            self.next_id,
            self.next_id.wrapping_mul(0x2545_f491_4f6c_dd1d)
        );
        self.tokens.insert(name.clone(), t);
        name
    }

    fn page(
        &mut self,
        req: &Request,
        out: &Out,
        round: Arc<Round>,
        pos: usize,
        empty_served: bool,
    ) -> Response {
        let link = |tok: &str, kind: &str| format!("{}?${kind}={tok}", req.path);
        let base = req
            .headers
            .get("host")
            .map(|h| format!("http://{h}"))
            .unwrap_or_default();
        let context = json!(format!("{base}/v1.0/$metadata#Collection(event)"));
        let generation = self.generation;
        if self.empty_pages && !empty_served {
            let tok = self.mint(Token::Skip {
                round,
                pos,
                empty_served: true,
                generation,
            });
            return out.respond(json_response(
                200,
                json!({"@odata.context": context,
                       "@odata.nextLink": format!("{base}{}", link(&tok, "skiptoken")),
                       "value": []}),
            ));
        }
        let size = out
            .page_size
            .unwrap_or(self.page_size)
            .min(self.page_limit.unwrap_or(usize::MAX))
            .max(1);
        let end = (pos + size).min(round.entries.len());
        let mut items: Vec<Value> = round.entries[pos.min(end)..end]
            .iter()
            .map(|e| self.render_entry(e, out))
            .collect();
        if self.replay {
            if let Some(first) = items.first().cloned() {
                items.push(first);
            }
        }
        let mut page = json!({"@odata.context": context, "value": items});
        if end < round.entries.len() {
            let tok = self.mint(Token::Skip {
                round,
                pos: end,
                empty_served: false,
                generation,
            });
            page["@odata.nextLink"] = json!(format!("{base}{}", link(&tok, "skiptoken")));
        } else {
            let tok = self.mint(Token::Delta {
                cal: round.cal.clone(),
                mailbox: round.mailbox,
                from: round.from,
                to: round.to,
                seq: round.seq,
                generation,
            });
            page["@odata.deltaLink"] = json!(format!("{base}{}", link(&tok, "deltatoken")));
        }
        out.respond(json_response(200, page))
    }

    fn delta(&mut self, req: &Request, mailbox: usize, cal: &str) -> Response {
        let out = Out::of(req);
        let live = |g: u64, min: u64| g >= min;
        if let Some(tok) = param(&req.query, "$skiptoken") {
            return match self.tokens.get(tok) {
                Some(Token::Skip {
                    round,
                    pos,
                    empty_served,
                    generation,
                }) if live(*generation, self.min_generation) && round.mailbox == mailbox => {
                    let (round, pos, empty_served) = (round.clone(), *pos, *empty_served);
                    self.page(req, &out, round, pos, empty_served)
                }
                _ => sync_state_not_found(),
            };
        }
        let (cal, from, to, entries) = if let Some(tok) = param(&req.query, "$deltatoken") {
            match self.tokens.get(tok) {
                Some(Token::Delta {
                    cal,
                    mailbox: m,
                    from,
                    to,
                    seq,
                    generation,
                }) if live(*generation, self.min_generation) && *m == mailbox => {
                    let (cal, from, to, seq) = (cal.clone(), *from, *to, *seq);
                    let entries = self.changed_entries(&cal, from, to, seq);
                    (cal, from, to, entries)
                }
                _ => return sync_state_not_found(),
            }
        } else {
            if self.owns(mailbox, cal).is_none() {
                return not_found();
            }
            let window = (
                param(&req.query, "startDateTime").and_then(|s| parse_instant(s)),
                param(&req.query, "endDateTime").and_then(|s| parse_instant(s)),
            );
            let (Some(from), Some(to)) = window else {
                return graph_error(
                    400,
                    "ErrorInvalidParameter",
                    "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.",
                );
            };
            if to <= from {
                return graph_error(
                    400,
                    "ErrorInvalidParameter",
                    "EndDateTime must be after StartDateTime.",
                );
            }
            let entries = self.full_entries(cal, from, to);
            (cal.to_string(), from, to, entries)
        };
        let round = Arc::new(Round {
            cal,
            mailbox,
            from,
            to,
            entries,
            seq: self.seq,
        });
        self.page(req, &out, round, 0, false)
    }

    fn if_match(req: &Request, current: &str) -> Result<(), Response> {
        match req.headers.get("if-match").map(|s| s.trim()) {
            None | Some("*") => Ok(()),
            Some(m) if m == current => Ok(()),
            Some(_) => Err(graph_error(
                412,
                "ErrorIrresolvableConflict",
                "The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.",
            )),
        }
    }

    fn create(&mut self, req: &Request, mailbox: usize, cal: &str) -> Response {
        let out = Out::of(req);
        let Some(c) = self.owns(mailbox, cal) else {
            return not_found();
        };
        if !c.can_edit {
            return graph_error(
                403,
                "ErrorAccessDenied",
                "Access is denied. Check credentials and try again.",
            );
        }
        let Ok(body) = serde_json::from_str::<Value>(&req.body) else {
            return bad_request("The request body is not valid JSON.");
        };
        let tx = body["transactionId"].as_str().map(str::to_string);
        if let Some(tx) = &tx {
            if let Some(s) = self
                .transactions
                .get(&(mailbox, tx.clone()))
                .and_then(|id| self.stored(id))
            {
                if self.duplicate_transaction_conflict {
                    return graph_error(
                        409,
                        "ErrorDuplicateTransactionId",
                        "An event with this transactionId already exists.",
                    );
                }
                return out.respond(json_response(201, self.render(&s.item, &out, false)));
            }
        }
        let item = match self.build(mailbox, &body, None) {
            Ok(item) => item,
            Err(m) => return bad_request(&m),
        };
        let item = self.store(cal, item);
        if let Some(tx) = tx {
            let id = item["id"].as_str().unwrap_or_default().to_string();
            self.transactions.insert((mailbox, tx), id);
        }
        out.respond(json_response(201, self.render(&item, &out, false)))
    }

    /// Applies a PATCH body to an event in place; Err is the 400's message.
    fn apply_patch(&mut self, item: &mut Value, body: &Value) -> Result<(), String> {
        let Some(obj) = body.as_object() else {
            return Err("the body must be a JSON object".into());
        };
        let exception = item["type"].as_str() == Some("exception");
        for (k, v) in obj {
            if PROTECTED.contains(&k.as_str())
                || k == "transactionId"
                || (exception && k == "recurrence")
            {
                continue;
            }
            item[k.as_str()] = v.clone();
        }
        for k in ["start", "end"] {
            if when_of(&item[k]).is_none() {
                return Err(format!("{k} is not valid"));
            }
        }
        check_recurrence(&item["recurrence"])?;
        self.finish(item);
        Ok(())
    }

    /// PATCH or DELETE of an event the caller may reach.
    fn write(&mut self, req: &Request, mailbox: usize, id: &str) -> Response {
        let out = Out::of(req);
        let Some((cal, target)) = self.target(id) else {
            return not_found();
        };
        let Some(c) = self.owns(mailbox, &cal) else {
            return not_found();
        };
        if !c.can_edit {
            return graph_error(
                403,
                "ErrorAccessDenied",
                "Access is denied. Check credentials and try again.",
            );
        }
        let current = match &target {
            Target::Stored(id) => self.stored(id).map(|s| s.item.clone()),
            Target::Occurrence { master, start } => {
                self.stored(master).map(|m| self.occurrence_item(m, *start))
            }
        };
        let Some(mut item) = current else {
            return not_found();
        };
        if let Err(r) = Self::if_match(req, item["@odata.etag"].as_str().unwrap_or_default()) {
            return r;
        }
        match req.method.as_str() {
            "PATCH" => {
                let Ok(body) = serde_json::from_str::<Value>(&req.body) else {
                    return bad_request("The request body is not valid JSON.");
                };
                if let Target::Occurrence { .. } = target {
                    // A changed occurrence becomes an exception of its series, under the same id.
                    item["type"] = json!("exception");
                    item["occurrenceId"] = Value::Null;
                }
                let before = item.clone();
                if let Err(m) = self.apply_patch(&mut item, &body) {
                    return bad_request(&m);
                }
                if before["type"].as_str() == Some("seriesMaster") {
                    self.seq += 1;
                    self.old_masters.push((self.seq, cal.clone(), before));
                }
                let item = self.store(&cal, item);
                out.respond(json_response(200, self.render(&item, &out, false)))
            }
            "DELETE" => {
                self.delete_target(&cal, target);
                no_content()
            }
            _ => graph_error(405, "ErrorInvalidRequest", "Method not allowed."),
        }
    }

    fn delete_target(&mut self, cal: &str, target: Target) {
        match target {
            Target::Occurrence { master, start } => {
                let id = occurrence_id(&master, start);
                self.deleted_occurrences.insert(id.clone());
                self.seq += 1;
                self.removed.push((self.seq, cal.to_string(), id));
            }
            Target::Stored(id) => {
                let Some(s) = self.unstore(&id) else {
                    return;
                };
                match s.kind() {
                    "exception" => {
                        self.deleted_occurrences.insert(id);
                    }
                    "seriesMaster" => {
                        let exceptions: Vec<String> = self
                            .events
                            .get(cal)
                            .into_iter()
                            .flatten()
                            .filter(|(_, e)| e.item["seriesMasterId"].as_str() == Some(id.as_str()))
                            .map(|(k, _)| k.clone())
                            .collect();
                        for e in exceptions {
                            self.unstore(&e);
                        }
                        self.seq += 1;
                        self.old_masters.push((self.seq, cal.to_string(), s.item));
                    }
                    _ => {}
                }
            }
        }
    }

    fn get_event(&self, req: &Request, mailbox: usize, cal: Option<&str>, id: &str) -> Response {
        let out = Out::of(req);
        let Some((c, target)) = self.target(id) else {
            return not_found();
        };
        if self.owns(mailbox, &c).is_none() || cal.is_some_and(|cal| cal != c) {
            return not_found();
        }
        let item = match target {
            Target::Stored(id) => self.stored(&id).map(|s| s.item.clone()),
            Target::Occurrence { master, start } => {
                self.stored(&master).map(|m| self.occurrence_item(m, start))
            }
        };
        match item {
            Some(item) => {
                let etag = item["@odata.etag"].as_str().unwrap_or_default().to_string();
                out.respond(
                    json_response(200, self.render(&item, &out, false)).header("ETag", etag),
                )
            }
            None => not_found(),
        }
    }

    /// `GET /me/events/{id}/instances?startDateTime=..&endDateTime=..`: a series master's occurrences and
    /// exceptions overlapping the window, in full, by start (one page: the fake's series are small).
    fn list_instances(&self, req: &Request, mailbox: usize, id: &str) -> Response {
        let out = Out::of(req);
        let Some(m) = self.stored(id).filter(|m| m.kind() == "seriesMaster") else {
            return not_found();
        };
        if self.owns(mailbox, &m.cal).is_none() {
            return not_found();
        }
        let (Some(from), Some(to)) = (
            param(&req.query, "startDateTime").and_then(|s| parse_instant(s)),
            param(&req.query, "endDateTime").and_then(|s| parse_instant(s)),
        ) else {
            return bad_request("startDateTime and endDateTime are required.");
        };
        let value: Vec<Value> = self
            .full_entries(&m.cal, from, to)
            .into_iter()
            .filter_map(|e| match e {
                Entry::Occurrence { master, start } if master == id => {
                    let m = self.stored(&master)?;
                    Some(self.render(&self.occurrence_item(m, start), &out, false))
                }
                Entry::Item(i) => self
                    .stored(&i)
                    .filter(|s| s.item["seriesMasterId"].as_str() == Some(id))
                    .map(|s| self.render(&s.item, &out, false)),
                _ => None,
            })
            .collect();
        out.respond(json_response(200, json!({ "value": value })))
    }

    fn calendar_json(c: &FakeCalendar) -> Value {
        json!({"id": c.id, "name": c.name, "color": c.color, "hexColor": c.hex_color,
               "isDefaultCalendar": c.is_default, "changeKey": b64url(c.id.as_bytes()),
               "canShare": c.is_default, "canViewPrivateItems": c.is_default, "canEdit": c.can_edit,
               "allowedOnlineMeetingProviders": ["teamsForBusiness"],
               "defaultOnlineMeetingProvider": "teamsForBusiness", "isTallyingResponses": true,
               "isRemovable": !c.is_default,
               "owner": {"name": c.owner_name, "address": c.owner_address}})
    }

    fn route(&mut self, req: &Request, mailbox: usize) -> Response {
        let segs: Vec<String> = req
            .path
            .trim_start_matches('/')
            .split('/')
            .map(percent_decode)
            .collect();
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        let host = req.headers.get("host").cloned().unwrap_or_default();
        match (req.method.as_str(), &segs[..]) {
            ("GET", ["v1.0", "me"]) => {
                let m = &self.mailboxes[mailbox];
                json_response(
                    200,
                    json!({"@odata.context": format!("http://{host}/v1.0/$metadata#users/$entity"),
                           "businessPhones": [], "displayName": m.display_name,
                           "givenName": m.display_name.split(' ').next(), "jobTitle": null,
                           "mail": m.mail, "mobilePhone": null, "officeLocation": null,
                           "preferredLanguage": "en-US",
                           "surname": m.display_name.split(' ').nth(1),
                           "userPrincipalName": m.upn, "id": m.id}),
                )
            }
            ("GET", ["v1.0", "me", "calendars"]) => {
                let skip: usize = param(&req.query, "$skip")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                let top: usize = param(&req.query, "$top")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(self.calendars_page_size)
                    .max(1);
                let all = &self.mailboxes[mailbox].calendars;
                let value: Vec<Value> = all
                    .iter()
                    .skip(skip)
                    .take(top)
                    .map(Self::calendar_json)
                    .collect();
                let mut page = json!({"@odata.context": format!("http://{host}/v1.0/$metadata#users('{}')/calendars",
                                                                 percent_encode(&self.mailboxes[mailbox].upn)),
                                      "value": value});
                if skip + top < all.len() {
                    page["@odata.nextLink"] = json!(format!(
                        "http://{host}/v1.0/me/calendars?$top={top}&$skip={}",
                        skip + top
                    ));
                }
                json_response(200, page)
            }
            ("GET", ["v1.0", "me", "calendars", cal]) => match self.owns(mailbox, cal) {
                Some(c) => json_response(200, Self::calendar_json(c)),
                None => not_found(),
            },
            ("GET", ["v1.0", "me", "calendars", cal, "calendarView", "delta"]) => {
                let cal = cal.to_string();
                self.delta(req, mailbox, &cal)
            }
            ("GET", ["v1.0", "me", "calendarView", "delta"]) => {
                let cal = self.default_calendar(mailbox);
                self.delta(req, mailbox, &cal)
            }
            ("GET", ["v1.0", "me", "calendars", cal, "events", id]) => {
                self.get_event(req, mailbox, Some(cal), id)
            }
            ("GET", ["v1.0", "me", "events", id]) => self.get_event(req, mailbox, None, id),
            ("GET", ["v1.0", "me", "events", id, "instances"]) => {
                self.list_instances(req, mailbox, id)
            }
            ("POST", ["v1.0", "me", "calendars", cal, "events"]) => {
                let cal = cal.to_string();
                self.create(req, mailbox, &cal)
            }
            ("POST", ["v1.0", "me", "events"]) => {
                let cal = self.default_calendar(mailbox);
                self.create(req, mailbox, &cal)
            }
            ("PATCH" | "DELETE", ["v1.0", "me", "events", id]) => {
                let id = id.to_string();
                self.write(req, mailbox, &id)
            }
            ("PATCH" | "DELETE", ["v1.0", "me", "calendars", cal, "events", id]) => {
                match self.target(id) {
                    Some((c, _)) if c == *cal => {
                        let id = id.to_string();
                        self.write(req, mailbox, &id)
                    }
                    _ => not_found(),
                }
            }
            _ => graph_error(
                400,
                "BadRequest",
                &format!(
                    "Resource not found for the segment '{}'.",
                    segs.last().unwrap_or(&"")
                ),
            ),
        }
    }

    fn next_fault(&mut self) -> Option<Fault> {
        if let Some(f) = self.faults.pop_front() {
            return Some(f);
        }
        let (seed, percent) = self.chaos?;
        let mut x = seed.max(1);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.chaos = Some((x, percent));
        if (x % 100) as u32 >= percent {
            return None;
        }
        Some(match (x >> 8) % 6 {
            0 => Fault::TooMany { retry_after: 0 },
            1 => Fault::Unavailable { retry_after: 0 },
            2 => Fault::GatewayTimeout,
            3 => Fault::Unauthorized,
            4 => Fault::Reset,
            _ => Fault::Truncate,
        })
    }

    /// An API request, with the caller's mailbox if its token is good. The second value is the mailbox
    /// whose concurrency slot the request holds until its answer is written.
    fn api(&mut self, req: &Request) -> (Response, Option<usize>) {
        let bearer = bearer_of(req).to_string();
        let mailbox = match self.access_tokens.get(&bearer) {
            Some((m, at)) if !self.revoked && at.elapsed() < self.access_lifetime => *m,
            Some(_) if !self.revoked => {
                return (
                    invalid_token("Lifetime validation failed, the token is expired."),
                    None,
                )
            }
            _ => return (invalid_token("Access token is empty or invalid."), None),
        };
        let n = self.in_flight.entry(mailbox).or_insert(0);
        *n += 1;
        let now = *n;
        self.max_in_flight = self.max_in_flight.max(now);
        if now > self.concurrency_limit {
            *self.in_flight.entry(mailbox).or_insert(1) -= 1;
            let r = graph_error(
                429,
                "ApplicationThrottled",
                "Application is over its MailboxConcurrency limit.",
            )
            .header("Retry-After", self.concurrency_retry_after.to_string());
            return (r, None);
        }
        let line = format!("{} {}", req.method, req.path);
        let fault = match self
            .targeted
            .iter()
            .position(|(p, _)| line.starts_with(p.as_str()))
        {
            Some(i) => Some(self.targeted.remove(i).1),
            None => self.next_fault(),
        };
        let r = match fault {
            None | Some(Fault::Pass) => self.route(req, mailbox),
            Some(Fault::TooMany { retry_after }) => json_response(
                429,
                json!({"error": {"code": "TooManyRequests", "message": "Please retry again later.",
                                 "innerError": {"code": "429", "message": "Please retry after", "status": "429"}}}),
            )
            .header("Retry-After", retry_after.to_string()),
            Some(Fault::Unavailable { retry_after }) => graph_error(
                503,
                "ServiceNotAvailable",
                "The service is temporarily unavailable. Please retry later.",
            )
            .header("Retry-After", retry_after.to_string()),
            Some(Fault::GatewayTimeout) => graph_error(504, "UnknownError", "Gateway Timeout"),
            Some(Fault::Unauthorized) => {
                self.access_tokens.remove(&bearer);
                invalid_token("Lifetime validation failed, the token is expired.")
            }
            Some(f @ (Fault::Reset | Fault::Truncate)) => {
                let mut r = self.route(req, mailbox);
                r.fault = Some(f);
                r
            }
            Some(Fault::Raw {
                status,
                headers,
                body,
            }) => Response {
                status,
                headers,
                body,
                fault: None,
            },
            Some(Fault::Rewrite(Rewriter(f))) => {
                let mut r = self.route(req, mailbox);
                if let Ok(mut v) = serde_json::from_str::<Value>(&r.body) {
                    f(&mut v);
                    r.body = v.to_string();
                }
                r
            }
        };
        (r, Some(mailbox))
    }

    fn leave(&mut self, mailbox: usize) {
        if let Some(n) = self.in_flight.get_mut(&mailbox) {
            *n = n.saturating_sub(1);
        }
    }

    // -----------------------------------------------------------------------------------------------------
    // The identity platform.

    fn authorize(&mut self, q: &HashMap<String, String>) -> Response {
        let redirect = q.get("redirect_uri").cloned().unwrap_or_default();
        let loopback =
            redirect.starts_with("http://127.0.0.1:") || redirect.starts_with("http://localhost:");
        if q.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
            return aad_error(
                400,
                "unauthorized_client",
                700016,
                "Application with identifier was not found in the directory.",
            );
        }
        if !loopback {
            return aad_error(
                400,
                "invalid_request",
                50011,
                "The redirect URI specified in the request does not match the redirect URIs configured for the application.",
            );
        }
        let scope = q.get("scope").cloned().unwrap_or_default();
        let scopes: Vec<&str> = scope.split(' ').collect();
        let ok = q.get("response_type").map(String::as_str) == Some("code")
            && q.get("code_challenge_method").map(String::as_str) == Some("S256")
            && q.contains_key("code_challenge")
            && scopes.contains(&"Calendars.ReadWrite")
            && scopes.contains(&"User.Read");
        if !ok {
            return aad_error(
                400,
                "invalid_request",
                900144,
                "The request needs response_type=code, a S256 code_challenge and the scopes Calendars.ReadWrite and User.Read.",
            );
        }
        let state = percent_encode(q.get("state").map_or("", String::as_str));
        let location = match self.authorize_mode {
            AuthorizeMode::Approve | AuthorizeMode::WrongState => {
                let code = self.token("M.C5_BAY.2.U.");
                self.codes.insert(
                    code.clone(),
                    Grant {
                        challenge: q["code_challenge"].clone(),
                        redirect_uri: redirect.clone(),
                        mailbox: self.approve_as,
                        scope,
                    },
                );
                let st = if self.authorize_mode == AuthorizeMode::WrongState {
                    "forged-state".to_string()
                } else {
                    state
                };
                format!(
                    "{redirect}?code={}&state={st}&session_state=4f9c0c1e-0000-4000-8000-5e551015a7e0",
                    percent_encode(&code)
                )
            }
            AuthorizeMode::Deny => format!(
                "{redirect}?error=access_denied&error_description={}&state={state}",
                percent_encode("AADSTS65004: User declined to consent to access the app.")
            ),
        };
        Response {
            status: 302,
            headers: vec![("Location".into(), location)],
            body: String::new(),
            fault: None,
        }
    }

    fn grant_tokens(&mut self, mailbox: usize, scope: &str) -> Value {
        let access = self.token("EwB4A8l6BAAUfake.");
        self.access_tokens
            .insert(access.clone(), (mailbox, Instant::now()));
        let granted: Vec<&str> = scope
            .split(' ')
            .filter(|s| !s.is_empty() && *s != "offline_access")
            .collect();
        let mut v = json!({"token_type": "Bearer", "scope": granted.join(" "),
                           "expires_in": self.access_lifetime.as_secs(),
                           "ext_expires_in": self.access_lifetime.as_secs(),
                           "access_token": access});
        let offline = scope.split(' ').any(|s| s == "offline_access");
        if offline && self.token_mode != TokenMode::NoRefreshToken {
            let rt = self.token("M.C5_BAY.0.U.-refresh.");
            self.refresh_tokens
                .insert(rt.clone(), (mailbox, scope.to_string()));
            v["refresh_token"] = json!(rt);
        }
        v
    }

    fn token_endpoint(&mut self, body: &str) -> Response {
        let f = parse_query(body);
        if f.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
            return aad_error(
                400,
                "unauthorized_client",
                700016,
                "Application with identifier was not found in the directory.",
            );
        }
        if f.contains_key("client_secret") || f.contains_key("client_assertion") {
            return aad_error(
                401,
                "invalid_client",
                700025,
                "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
            );
        }
        match f.get("grant_type").map(String::as_str) {
            Some("authorization_code") => {
                let code = f.get("code").cloned().unwrap_or_default();
                if self.used_codes.contains(&code) {
                    return aad_error(
                        400,
                        "invalid_grant",
                        54005,
                        "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
                    );
                }
                let Some(grant) = self.codes.remove(&code) else {
                    return aad_error(
                        400,
                        "invalid_grant",
                        70000,
                        "Provided grant is invalid or malformed.",
                    );
                };
                self.used_codes.insert(code);
                let verifier = f.get("code_verifier").cloned().unwrap_or_default();
                if b64url(&sha2::Sha256::digest(verifier.as_bytes())) != grant.challenge {
                    return aad_error(
                        400,
                        "invalid_grant",
                        501481,
                        "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
                    );
                }
                if f.get("redirect_uri") != Some(&grant.redirect_uri) {
                    return aad_error(
                        400,
                        "invalid_grant",
                        50011,
                        "The redirect URI does not match the one used to acquire the authorization code.",
                    );
                }
                json_response(200, self.grant_tokens(grant.mailbox, &grant.scope))
            }
            Some("refresh_token") => {
                if self.token_mode == TokenMode::InteractionRequired {
                    let mut r = aad_error(
                        400,
                        "interaction_required",
                        50076,
                        "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '00000003-0000-0000-c000-000000000000'.",
                    );
                    if let Ok(mut v) = serde_json::from_str::<Value>(&r.body) {
                        v["suberror"] = json!("basic_action");
                        r.body = v.to_string();
                    }
                    return r;
                }
                let rt = f.get("refresh_token").cloned().unwrap_or_default();
                let live = if self.revoked {
                    None
                } else {
                    self.refresh_tokens.remove(&rt)
                };
                let Some((mailbox, scope)) = live else {
                    return aad_error(
                        400,
                        "invalid_grant",
                        70008,
                        "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
                    );
                };
                let answer = self.grant_tokens(mailbox, &scope);
                if answer.get("refresh_token").is_none() {
                    // No new refresh token issued: the one presented stays good (RFC 6749 section 6: the
                    // client discards the old one only when the server issues a new one).
                    self.refresh_tokens.insert(rt, (mailbox, scope));
                }
                json_response(200, answer)
            }
            _ => aad_error(
                400,
                "unsupported_grant_type",
                70003,
                "The app requested an unsupported grant type.",
            ),
        }
    }

    /// The test-control API a separate process (the desktop end-to-end tests, through `fake-cloud`)
    /// drives: `POST /_control/put?cal=ID` with a Graph event as the body (answers the stored event),
    /// `patch?id=EID` with fields, `delete?id=EID`, `revoke`, `unrevoke`, `expire_delta_tokens`,
    /// `expire_access_tokens`, `refresh_token` (answers a new one for the default mailbox),
    /// `fault?kind=429|503|504|401|reset|truncate`, `authorize_mode?mode=approve|deny|wrong_state`,
    /// `token_mode?mode=normal|interaction_required|no_refresh_token`.
    fn control(&mut self, req: &Request) -> Response {
        let ok = || json_response(200, json!({"ok": true}));
        let q = |k: &str| req.query.get(k).cloned().unwrap_or_default();
        let body: Value = serde_json::from_str(&req.body).unwrap_or(Value::Null);
        match req.path.trim_start_matches("/_control/") {
            "put" => {
                let cal = req
                    .query
                    .get("cal")
                    .cloned()
                    .unwrap_or_else(|| DEFAULT_CALENDAR.to_string());
                let Some(mailbox) = self.mailbox_of_cal(&cal) else {
                    return json_response(400, json!({"error": "no such calendar"}));
                };
                let id = body["id"].as_str().map(str::to_string);
                match self.build(mailbox, &body, id) {
                    Ok(item) => json_response(200, self.store(&cal, item)),
                    Err(m) => json_response(400, json!({"error": m})),
                }
            }
            "patch" => match self.edit(&q("id"), &body) {
                Ok(v) => json_response(200, v),
                Err(m) => json_response(400, json!({"error": m})),
            },
            "delete" => {
                let id = q("id");
                match self.target(&id) {
                    Some((cal, t)) => {
                        self.delete_target(&cal, t);
                        ok()
                    }
                    None => json_response(404, json!({"error": "no such event"})),
                }
            }
            "revoke" => {
                self.revoked = true;
                ok()
            }
            "unrevoke" => {
                self.revoked = false;
                ok()
            }
            "expire_delta_tokens" => {
                self.expire_delta_tokens();
                ok()
            }
            "expire_access_tokens" => {
                self.access_tokens.clear();
                ok()
            }
            "refresh_token" => {
                let rt = self.token("M.C5_BAY.0.U.-refresh.");
                self.refresh_tokens.insert(rt.clone(), (0, SCOPES.into()));
                json_response(200, json!({"refresh_token": rt}))
            }
            "fault" => {
                let f = match q("kind").as_str() {
                    "429" => Fault::TooMany { retry_after: 1 },
                    "503" => Fault::Unavailable { retry_after: 1 },
                    "504" => Fault::GatewayTimeout,
                    "401" => Fault::Unauthorized,
                    "reset" => Fault::Reset,
                    "truncate" => Fault::Truncate,
                    _ => {
                        return json_response(
                            400,
                            json!({"error": "kind: 429, 503, 504, 401, reset or truncate"}),
                        )
                    }
                };
                self.faults.push_back(f);
                ok()
            }
            "authorize_mode" => {
                self.authorize_mode = match q("mode").as_str() {
                    "approve" => AuthorizeMode::Approve,
                    "deny" => AuthorizeMode::Deny,
                    "wrong_state" => AuthorizeMode::WrongState,
                    _ => {
                        return json_response(
                            400,
                            json!({"error": "mode: approve, deny or wrong_state"}),
                        )
                    }
                };
                ok()
            }
            "token_mode" => {
                self.token_mode = match q("mode").as_str() {
                    "normal" => TokenMode::Normal,
                    "interaction_required" => TokenMode::InteractionRequired,
                    "no_refresh_token" => TokenMode::NoRefreshToken,
                    _ => {
                        return json_response(
                            400,
                            json!({"error": "mode: normal, interaction_required or no_refresh_token"}),
                        )
                    }
                };
                ok()
            }
            _ => json_response(404, json!({"error": "no such control"})),
        }
    }

    /// A change made on the server (another client, the user in Outlook): as a PATCH without If-Match.
    fn edit(&mut self, id: &str, fields: &Value) -> Result<Value, String> {
        let (cal, target) = self.target(id).ok_or("no such event")?;
        let mut item = match &target {
            Target::Stored(id) => self.stored(id).map(|s| s.item.clone()),
            Target::Occurrence { master, start } => {
                self.stored(master).map(|m| self.occurrence_item(m, *start))
            }
        }
        .ok_or("no such event")?;
        if let Target::Occurrence { .. } = target {
            item["type"] = json!("exception");
            item["occurrenceId"] = Value::Null;
        }
        let before = item.clone();
        self.apply_patch(&mut item, fields)?;
        if before["type"].as_str() == Some("seriesMaster") {
            self.seq += 1;
            self.old_masters.push((self.seq, cal.clone(), before));
        }
        Ok(self.store(&cal, item))
    }

    fn expire_delta_tokens(&mut self) {
        self.generation += 1;
        self.min_generation = self.generation;
    }
}

fn invalid_token(message: &str) -> Response {
    graph_error(401, "InvalidAuthenticationToken", message).header(
        "WWW-Authenticate",
        "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"",
    )
}

fn valid_tenant(t: &str) -> bool {
    let guid = t.len() == 36
        && t.bytes().enumerate().all(|(i, b)| {
            if [8, 13, 18, 23].contains(&i) {
                b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        });
    guid || ["common", "organizations", "consumers"].contains(&t)
}

fn serve(mut stream: TcpStream, state: &Mutex<State>) {
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(10)));
    let _ = stream.set_nodelay(true);
    // One request after another on the same connection, as clients with a pool send them.
    while let Some(req) = read_request(&mut stream) {
        let (resp, latency, slot) = {
            let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
            // Unanswered and unlogged: the request never reached Graph.
            if s.offline && !req.path.starts_with("/_control") {
                return;
            }
            let mut q: Vec<String> = req.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
            q.sort();
            let mut headers = req.headers.clone();
            headers.remove("authorization");
            s.log.push(Logged {
                line: format!("{} {}?{}", req.method, req.path, q.join("&")),
                headers,
                body: req.body.clone(),
            });
            let segs: Vec<&str> = req.path.trim_start_matches('/').split('/').collect();
            let (resp, slot) = match (req.method.as_str(), &segs[..]) {
                ("POST", ["_control", ..]) => (s.control(&req), None),
                (m, [tenant, "oauth2", "v2.0", endpoint]) => {
                    let r = if !valid_tenant(tenant) {
                        aad_error(
                            400,
                            "invalid_request",
                            90002,
                            &format!("Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."),
                        )
                    } else {
                        match (m, *endpoint) {
                            ("GET", "authorize") => s.authorize(&req.query),
                            ("POST", "token") => s.token_endpoint(&req.body),
                            _ => json_response(405, json!({"error": "method not allowed"})),
                        }
                    };
                    (r, None)
                }
                (_, ["v1.0", ..]) => s.api(&req),
                _ => (not_found(), None),
            };
            let latency = if slot.is_some() {
                s.latency
            } else {
                std::time::Duration::ZERO
            };
            (resp, latency, slot)
        };
        // Outside the lock, so that other connections are answered meanwhile.
        std::thread::sleep(latency);
        let keep = write_response(&mut stream, resp);
        if let Some(m) = slot {
            state.lock().unwrap_or_else(|e| e.into_inner()).leave(m);
        }
        if !keep {
            return;
        }
    }
}

impl FakeGraph {
    pub fn start() -> FakeGraph {
        let listener =
            TcpListener::bind("127.0.0.1:0").expect("the fake binds a free loopback port");
        let base = format!("http://{}", listener.local_addr().expect("a bound address"));
        let jane = Mailbox {
            id: "4d1f2a0c-7b3e-4c55-9a8e-1f2b3c4d5e6f".into(),
            mail: Some(DEFAULT_EMAIL.into()),
            upn: DEFAULT_EMAIL.into(),
            display_name: "Jane Doe".into(),
            calendars: vec![FakeCalendar {
                id: DEFAULT_CALENDAR.into(),
                name: "Calendar".into(),
                color: "auto".into(),
                hex_color: String::new(),
                is_default: true,
                can_edit: true,
                owner_name: "Jane Doe".into(),
                owner_address: DEFAULT_EMAIL.into(),
            }],
        };
        let state = Arc::new(Mutex::new(State {
            mailboxes: vec![jane],
            events: HashMap::new(),
            where_is: HashMap::new(),
            deleted_occurrences: HashSet::new(),
            removed: Vec::new(),
            old_masters: Vec::new(),
            seq: 0,
            transactions: HashMap::new(),
            codes: HashMap::new(),
            used_codes: HashSet::new(),
            refresh_tokens: HashMap::new(),
            access_tokens: HashMap::new(),
            access_lifetime: std::time::Duration::from_secs(3599),
            revoked: false,
            next_id: 0,
            authorize_mode: AuthorizeMode::Approve,
            token_mode: TokenMode::Normal,
            approve_as: 0,
            tokens: HashMap::new(),
            generation: 0,
            min_generation: 0,
            page_size: 50,
            page_limit: None,
            calendars_page_size: 10,
            occurrence_stubs: true,
            empty_pages: false,
            replay: false,
            latency: std::time::Duration::ZERO,
            faults: VecDeque::new(),
            targeted: Vec::new(),
            chaos: None,
            log: Vec::new(),
            issued: Vec::new(),
            in_flight: HashMap::new(),
            max_in_flight: 0,
            concurrency_limit: 4,
            concurrency_retry_after: 1,
            offline: false,
            duplicate_transaction_conflict: false,
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        // Blocking accept: Drop wakes it with one last connection after setting `stop`.
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if sp.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    let st = st.clone();
                    std::thread::spawn(move || serve(stream, &st));
                }
            }
        });
        FakeGraph {
            base,
            state,
            stop,
            thread: Some(thread),
        }
    }

    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The authorize endpoint for a tenant (`common`, `organizations`, `consumers` or a GUID).
    pub fn auth_url(&self, tenant: &str) -> String {
        format!("{}/{tenant}/oauth2/v2.0/authorize", self.base)
    }
    pub fn token_url(&self, tenant: &str) -> String {
        format!("{}/{tenant}/oauth2/v2.0/token", self.base)
    }
    /// The Graph base, as `https://graph.microsoft.com/v1.0` is.
    pub fn api_url(&self) -> String {
        format!("{}/v1.0", self.base)
    }

    /// A refresh token for the default mailbox, as if the user had connected before.
    pub fn issue_refresh_token(&self) -> String {
        self.issue_refresh_token_for(DEFAULT_EMAIL)
    }

    pub fn issue_refresh_token_for(&self, email: &str) -> String {
        let mut s = self.state();
        let m = s.mailbox_of_email(email);
        let rt = s.token("M.C5_BAY.0.U.-refresh.");
        s.refresh_tokens.insert(rt.clone(), (m, SCOPES.into()));
        rt
    }

    /// An access token the API accepts, for callers that talk to it directly (tests, the benchmark).
    pub fn issue_access_token(&self) -> String {
        self.issue_access_token_for(DEFAULT_EMAIL)
    }

    pub fn issue_access_token_for(&self, email: &str) -> String {
        let mut s = self.state();
        let m = s.mailbox_of_email(email);
        let t = s.token("EwB4A8l6BAAUfake.");
        s.access_tokens.insert(t.clone(), (m, Instant::now()));
        t
    }

    /// Adds a mailbox; its default calendar's id is returned. `mail: None` is an account whose address is
    /// its UPN only.
    pub fn add_user(&self, upn: &str, mail: Option<&str>, name: &str) -> String {
        let mut s = self.state();
        let n = s.mailboxes.len();
        let cal = format!("AAMkAGcal-{}=", b64url(upn.as_bytes()));
        s.mailboxes.push(Mailbox {
            id: format!("00000000-0000-4000-8000-{n:012}"),
            mail: mail.map(str::to_string),
            upn: upn.into(),
            display_name: name.into(),
            calendars: vec![FakeCalendar {
                id: cal.clone(),
                name: "Calendar".into(),
                color: "auto".into(),
                hex_color: String::new(),
                is_default: true,
                can_edit: true,
                owner_name: name.into(),
                owner_address: upn.into(),
            }],
        });
        cal
    }

    /// Adds a calendar that is not the default to a mailbox's list.
    pub fn add_calendar(&self, email: &str, cal: FakeCalendar) {
        let mut s = self.state();
        let m = s.mailbox_of_email(email);
        s.mailboxes[m].calendars.push(cal);
    }

    /// A calendar for `add_calendar`: someone else's shared with the user (`can_edit: false`), or the
    /// user's own second one.
    pub fn calendar(id: &str, name: &str, owner: &str, can_edit: bool) -> FakeCalendar {
        FakeCalendar {
            id: id.into(),
            name: name.into(),
            color: "lightBlue".into(),
            hex_color: "#a6d1f5".into(),
            is_default: false,
            can_edit,
            owner_name: owner.split('@').next().unwrap_or(owner).into(),
            owner_address: owner.into(),
        }
    }

    /// Stores an event (a Graph body; `id` kept if given, else assigned) as changed now; answers it as
    /// stored. Panics on a body Graph would refuse, naming why.
    pub fn put(&self, cal: &str, item: Value) -> Value {
        let mut s = self.state();
        let mailbox = s.mailbox_of_cal(cal).unwrap_or(0);
        let id = item["id"].as_str().map(str::to_string);
        let built = s
            .build(mailbox, &item, id)
            .unwrap_or_else(|e| panic!("the fake refuses this event: {e}"));
        s.store(cal, built)
    }

    /// Changes an event on the server (an occurrence becomes an exception), as another client would.
    pub fn edit(&self, id: &str, fields: Value) -> Value {
        self.state()
            .edit(id, &fields)
            .unwrap_or_else(|e| panic!("the fake cannot edit {id}: {e}"))
    }

    /// Deletes an event, an occurrence or a whole series on the server.
    pub fn delete(&self, id: &str) {
        let mut s = self.state();
        let (cal, t) = s
            .target(id)
            .unwrap_or_else(|| panic!("{id} is not a live event"));
        s.delete_target(&cal, t);
    }

    /// An event, occurrence or master as `GET /me/events/{id}` serves it with times in UTC.
    pub fn get(&self, id: &str) -> Option<Value> {
        let s = self.state();
        let (_, t) = s.target(id)?;
        let item = match t {
            Target::Stored(id) => s.stored(&id)?.item.clone(),
            Target::Occurrence { master, start } => s.occurrence_item(s.stored(&master)?, start),
        };
        Some(s.render(&item, &utc_out(), false))
    }

    /// The calendar view's truth: every instance in [from, to), in full, times in UTC, by start.
    pub fn instances(&self, cal: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Value> {
        let s = self.state();
        let out = Out {
            zone: Some((Zone::UTC, "UTC".into())),
            text_body: false,
            page_size: None,
            applied: Vec::new(),
        };
        let entries = s.full_entries(cal, from, to);
        entries
            .iter()
            .map(|e| match e {
                Entry::Occurrence { master, start } => s.render(
                    &s.occurrence_item(s.stored(master).expect("a master"), *start),
                    &out,
                    false,
                ),
                e => s.render_entry(e, &out),
            })
            .collect()
    }

    /// Loads `n` single events (30 minutes each, `spacing` apart from `first`, UTC, a Teams link on every
    /// third) under one lock, for benchmarks; answers their ids.
    pub fn add_singles(
        &self,
        cal: &str,
        n: usize,
        first: DateTime<Utc>,
        spacing: Duration,
    ) -> Vec<String> {
        let mut s = self.state();
        let mailbox = s.mailbox_of_cal(cal).unwrap_or(0);
        let mut ids = Vec::with_capacity(n);
        for i in 0..n {
            let start = first + spacing * i as i32;
            let mut body = items::single(
                &format!("Bulk meeting {i}"),
                &wall(start.naive_utc()),
                &wall((start + Duration::minutes(30)).naive_utc()),
                "UTC",
            );
            if i % 3 == 0 {
                body = items::teams(body);
            }
            let item = s
                .build(mailbox, &body, None)
                .expect("bulk events are valid");
            ids.push(item["id"].as_str().unwrap_or_default().to_string());
            s.store(cal, item);
        }
        ids
    }

    pub fn expire_delta_tokens(&self) {
        self.state().expire_delta_tokens();
    }

    /// Every access token issued so far stops working (401), as when an hour has passed.
    pub fn expire_access_tokens(&self) {
        self.state().access_tokens.clear();
    }

    pub fn revoke(&self) {
        self.state().revoked = true;
    }

    pub fn unrevoke(&self) {
        self.state().revoked = false;
    }

    /// Makes the server unreachable (see `State::offline`), or reachable again.
    pub fn set_offline(&self, offline: bool) {
        self.state().offline = offline;
    }

    /// Answers the first API request whose "METHOD /path" (e.g. "PATCH /v1.0/me/events/") starts with
    /// `prefix` with `f`, whatever else is queued.
    pub fn fault_on(&self, prefix: &str, f: Fault) {
        self.state().targeted.push((prefix.to_string(), f));
    }

    pub fn push_fault(&self, f: Fault) {
        self.state().faults.push_back(f);
    }

    /// Drops the faults pushed and not yet served.
    pub fn clear_faults(&self) {
        self.state().faults.clear();
    }

    /// Faults `percent`% of API requests, chosen by `seed`.
    pub fn set_chaos(&self, seed: u64, percent: u32) {
        self.state().chaos = (percent > 0).then_some((seed | 1, percent));
    }

    /// How many requests' "METHOD path?query" line contains `needle`.
    pub fn requests(&self, needle: &str) -> usize {
        self.state()
            .log
            .iter()
            .filter(|l| l.line.contains(needle))
            .count()
    }

    /// How many times an event was fetched by id (`GET .../events/{id}`, either path).
    pub fn event_fetches(&self, id: &str) -> usize {
        self.state()
            .log
            .iter()
            .filter(|l| {
                let Some(path) = l.line.strip_prefix("GET ") else {
                    return false;
                };
                let path = path.split('?').next().unwrap_or_default();
                let segs: Vec<String> = path.split('/').map(percent_decode).collect();
                segs.len() >= 2 && segs[segs.len() - 2] == "events" && segs[segs.len() - 1] == id
            })
            .count()
    }

    /// The most API requests in flight at once for one mailbox, a refused 5th included.
    pub fn max_concurrency(&self) -> usize {
        self.state().max_in_flight
    }
}

fn utc_out() -> Out {
    Out {
        zone: Some((Zone::UTC, "UTC".into())),
        text_body: false,
        page_size: None,
        applied: Vec::new(),
    }
}

impl Drop for FakeGraph {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.base.trim_start_matches("http://"));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Event bodies in Graph's shapes, as a client would POST them.
pub mod items {
    use serde_json::{json, Value};

    /// A timed single event; `start`/`end` are wall-clock times (`2026-03-02T09:00:00`) in `tz` (IANA,
    /// Windows or "UTC").
    pub fn single(subject: &str, start: &str, end: &str, tz: &str) -> Value {
        json!({"subject": subject,
               "body": {"contentType": "html", "content": format!("<html><body><p>{subject}</p></body></html>")},
               "start": {"dateTime": start, "timeZone": tz}, "end": {"dateTime": end, "timeZone": tz},
               "location": {"displayName": ""}})
    }

    /// An all-day event from `date` for `days` days (midnight to midnight in `tz`).
    pub fn all_day(subject: &str, date: &str, days: i64, tz: &str) -> Value {
        let d = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").expect("a YYYY-MM-DD date");
        let end = d + chrono::Duration::days(days);
        json!({"subject": subject, "isAllDay": true, "showAs": "free",
               "start": {"dateTime": format!("{d}T00:00:00.0000000"), "timeZone": tz},
               "end": {"dateTime": format!("{end}T00:00:00.0000000"), "timeZone": tz}})
    }

    /// Asks for a Teams meeting, as Outlook does: Graph makes the join link.
    pub fn teams(mut v: Value) -> Value {
        v["isOnlineMeeting"] = json!(true);
        v["onlineMeetingProvider"] = json!("teamsForBusiness");
        v
    }

    /// A weekly series on `days` (e.g. ["tuesday"]), from the start's date, ending per `range`
    /// (see [`no_end`], [`until`], [`numbered`]).
    pub fn weekly(
        subject: &str,
        start: &str,
        end: &str,
        tz: &str,
        days: &[&str],
        interval: u32,
        range: Value,
    ) -> Value {
        let mut v = single(subject, start, end, tz);
        v["recurrence"] = json!({"pattern": {"type": "weekly", "interval": interval, "daysOfWeek": days,
                                             "firstDayOfWeek": "sunday"},
                                 "range": with_start(range, start, tz)});
        v
    }

    /// A daily series every `interval` days.
    pub fn daily(
        subject: &str,
        start: &str,
        end: &str,
        tz: &str,
        interval: u32,
        range: Value,
    ) -> Value {
        let mut v = single(subject, start, end, tz);
        v["recurrence"] = json!({"pattern": {"type": "daily", "interval": interval},
                                 "range": with_start(range, start, tz)});
        v
    }

    pub fn no_end() -> Value {
        json!({"type": "noEnd"})
    }
    /// Ends on `date` (YYYY-MM-DD, inclusive).
    pub fn until(date: &str) -> Value {
        json!({"type": "endDate", "endDate": date})
    }
    pub fn numbered(n: u32) -> Value {
        json!({"type": "numbered", "numberOfOccurrences": n})
    }

    fn with_start(mut range: Value, start: &str, tz: &str) -> Value {
        range["startDate"] = json!(&start[..10]);
        range["recurrenceTimeZone"] = json!(tz);
        range
    }
}
