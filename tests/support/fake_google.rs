//! A fake Google: OAuth authorize and token endpoints, calendarList, events.list and events.get, as a real
//! HTTP/1.1 server on 127.0.0.1:0 with state.
//!
//! What it holds to, so the client is tested against the real rules:
//! - PKCE is checked for real: the token request's `code_verifier`, hashed with SHA-256 and base64url-encoded,
//!   must equal the authorize request's `code_challenge` (RFC 7636 §4.6), and a code is good once.
//! - Every refresh rotates the refresh token and kills the old one, so a client that does not save the new
//!   one fails its next refresh. `revoke()` makes every refresh answer `invalid_grant`.
//! - Events carry a change number. A sync token names the number it was issued at; an events.list with it
//!   returns every item changed since (deletions as `status: cancelled`), paged by id after the last one
//!   served, so an item changed mid-paging is picked up by the next sync instead of shifting a page.
//!   `expire_sync_tokens()` makes every token issued so far answer 410.
//! - Recurring events as Google keeps them: a series is inserted with `recurrence` lines (checked, with a
//!   `timeZone` required on a timed series); PATCH of an instance id (`<master>_<original start>`) makes an
//!   exception with `recurringEventId` and `originalStartTime`, DELETE of one leaves a cancelled instance,
//!   and both show in the sync-token change feed. Writes to an instance without an exception yet are held
//!   to If-Match against the master when one is sent; writes to a stored item always need If-Match.
//! - Faults on demand (`push_fault`), or seeded at random (`set_chaos`): 429 with Retry-After, 500, 401, 403
//!   rateLimitExceeded, a reset connection, a truncated body.
//! - Several accounts: the default one (`calendars`, whose primary is `jane@acme.example`) and any added with
//!   `add_user`. A token belongs to the account it was issued to, a refresh hands that on to the tokens it
//!   grants, and the API lists only that account's calendars and answers 404 for another account's, so a
//!   client that mixes up its connections' tokens fails.

#![allow(dead_code)]

use base64::Engine as _;
use serde_json::{json, Value};
use sha2::Digest;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

pub const CLIENT_ID: &str = "fake-client.apps.googleusercontent.com";
pub const CLIENT_SECRET: &str = "fake-client-secret";
/// A second OAuth client the fake also knows, for a reconnect through another client.
pub const OTHER_CLIENT_ID: &str = "other-client.apps.googleusercontent.com";
pub const OTHER_CLIENT_SECRET: &str = "other-client-secret";

/// A fault to answer an API request with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    TooMany {
        retry_after: u64,
    },
    ServerError,
    Unauthorized,
    RateLimit403,
    Reset,
    Truncate,
    /// Answers normally: queued before another fault, it lets that one hit a later request.
    Pass,
}

/// How the authorize endpoint answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthorizeMode {
    Approve,
    Deny,
    WrongState,
    NoCode,
}

#[derive(Clone, Debug)]
struct Stored {
    seq: u64,
    item: Value,
}

#[derive(Clone, Debug)]
pub struct FakeCalendar {
    pub id: String,
    pub summary: String,
    pub primary: bool,
    pub time_zone: String,
}

struct Grant {
    challenge: String,
    redirect_uri: String,
}

pub struct State {
    /// The default account's calendars.
    pub calendars: Vec<FakeCalendar>,
    /// Accounts added with `add_user`, by e-mail: their calendars, the primary first.
    pub users: HashMap<String, Vec<FakeCalendar>>,
    /// The added account each live token was issued to; a token not in it is the default account's.
    owners: HashMap<String, String>,
    events: HashMap<String, BTreeMap<String, Stored>>,
    seq: u64,
    /// Sync tokens issued before this change number answer 410.
    min_token_seq: u64,
    codes: HashMap<String, Grant>,
    refresh_tokens: HashSet<String>,
    access_tokens: HashSet<String>,
    pub revoked: bool,
    next_id: u64,
    pub authorize_mode: AuthorizeMode,
    /// Answer the token endpoint with a redirect (the client must not follow it).
    pub token_redirect: bool,
    pub page_size: usize,
    /// How long each answer takes, as a real server's round trip would: lets a test kill a client while
    /// it waits, whatever this machine's speed.
    pub latency: std::time::Duration,
    faults: VecDeque<Fault>,
    chaos: Option<(u64, u32)>,
    /// Every request as "METHOD path?query".
    pub log: Vec<String>,
    /// Bearer tokens and refresh tokens ever issued, for the no-secrets-in-storage test.
    pub issued: Vec<String>,
    /// Every token revoked at `/revoke`, in order.
    pub revocations: Vec<String>,
    /// The revocation endpoint answers 503 (an outage), revoking nothing.
    pub revoke_fails: bool,
    /// Answers to requests whose "METHOD path" starts with the key are computed (the change is made) and then
    /// wait, outside the lock, while the gate is held: a test acts while a call is in flight (a disconnect
    /// during a refresh, a SIGKILL between two steps), whatever the machine's speed.
    pub answer_gates: Vec<(String, Arc<Gate>)>,
}

/// A gate a test closes and opens: [`Gate::pass`] waits while it is held.
#[derive(Default)]
pub struct Gate {
    held: Mutex<bool>,
    opened: std::sync::Condvar,
}

impl Gate {
    pub fn hold(&self) {
        *self.held.lock().unwrap_or_else(|e| e.into_inner()) = true;
    }

    pub fn release(&self) {
        *self.held.lock().unwrap_or_else(|e| e.into_inner()) = false;
        self.opened.notify_all();
    }

    /// Waits while the gate is held; a minute at most, so a test that forgets to release fails, not hangs.
    fn pass(&self) {
        let held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let _ = self
            .opened
            .wait_timeout_while(held, std::time::Duration::from_secs(60), |h| *h);
    }
}

pub struct FakeGoogle {
    pub base: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

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

fn parse_query(q: &str) -> HashMap<String, String> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
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
    let mut chunk = [0u8; 4096];
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

/// The bearer token of a request, or "" without one.
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

fn json_response(status: u16, v: Value) -> Response {
    Response {
        status,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: v.to_string(),
        fault: None,
    }
}

fn google_error(status: u16, reason: &str, message: &str) -> Response {
    json_response(
        status,
        json!({"error": {"errors": [{"domain": "global", "reason": reason, "message": message}],
                         "code": status, "message": message}}),
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
        204 => "No Content",
        409 => "Conflict",
        412 => "Precondition Failed",
        302 => "Found",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        410 => "Gone",
        429 => "Too Many Requests",
        _ => "Error",
    };
    let mut out = format!("HTTP/1.1 {} {reason}\r\n", r.status);
    for (k, v) in &r.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
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

impl State {
    /// Stores an item as changed now, with a fresh etag.
    fn store_item(&mut self, cal: &str, mut item: Value) -> Value {
        self.seq += 1;
        let seq = self.seq;
        item["etag"] = json!(format!("\"{seq}\""));
        let id = item["id"].as_str().expect("events have ids").to_string();
        self.events.entry(cal.to_string()).or_default().insert(
            id,
            Stored {
                seq,
                item: item.clone(),
            },
        );
        item
    }

    fn live(&self, cal: &str, id: &str) -> Option<&Value> {
        self.events
            .get(cal)
            .and_then(|m| m.get(id))
            .map(|s| &s.item)
            .filter(|i| i.get("status").and_then(Value::as_str) != Some("cancelled"))
    }

    fn if_match(&self, req: &Request, cal: &str, id: &str) -> Result<(), Response> {
        let current = self
            .live(cal, id)
            .and_then(|i| i.get("etag"))
            .and_then(Value::as_str);
        match (current, req.headers.get("if-match")) {
            (None, _) => Err(google_error(404, "notFound", "Not Found")),
            (Some(c), Some(m)) if c == m => Ok(()),
            _ => Err(google_error(412, "conditionNotMet", "Precondition Failed")),
        }
    }

    /// What Google checks of a body's `recurrence`: known line names, and a zone on a timed series' start
    /// and end ("timeZone is required for recurring events").
    fn check_recurrence(body: &Value) -> Result<(), Response> {
        let Some(lines) = body.get("recurrence").and_then(Value::as_array) else {
            return Ok(());
        };
        for l in lines {
            let l = l.as_str().unwrap_or_default().to_ascii_uppercase();
            if !["RRULE:", "EXRULE:", "RDATE", "EXDATE"]
                .iter()
                .any(|p| l.starts_with(p))
                || (l.starts_with("RRULE:") && !l.contains("FREQ="))
            {
                return Err(google_error(400, "invalid", "Invalid recurrence rule."));
            }
        }
        let timed_without_zone = |k: &str| {
            body.get(k).is_some_and(|t| {
                t.get("dateTime").is_some() && t.get("timeZone").and_then(Value::as_str).is_none()
            })
        };
        if !lines.is_empty() && (timed_without_zone("start") || timed_without_zone("end")) {
            return Err(google_error(
                400,
                "required",
                "Missing time zone definition for start time.",
            ));
        }
        Ok(())
    }

    /// An instance of a live series that has no exception yet, as Google serves it: the master's fields at
    /// the original start its id names (`<master>_<YYYYMMDDTHHMMSSZ>`, or `<master>_<YYYYMMDD>`).
    fn virtual_instance(&self, cal: &str, id: &str) -> Option<Value> {
        let (master_id, suffix) = id.rsplit_once('_')?;
        let master = self.live(cal, master_id)?.clone();
        master.get("recurrence")?;
        let tz = master["start"]["timeZone"].clone();
        let mut item = master.clone();
        let obj = item.as_object_mut()?;
        obj.remove("recurrence");
        obj.insert("id".into(), json!(id));
        obj.insert("recurringEventId".into(), json!(master_id));
        if let Ok(date) = chrono::NaiveDate::parse_from_str(suffix, "%Y%m%d") {
            let from =
                chrono::NaiveDate::parse_from_str(master["start"]["date"].as_str()?, "%Y-%m-%d")
                    .ok()?;
            let to = chrono::NaiveDate::parse_from_str(master["end"]["date"].as_str()?, "%Y-%m-%d")
                .ok()?;
            let day = |d: chrono::NaiveDate| json!({"date": d.format("%Y-%m-%d").to_string()});
            obj.insert("originalStartTime".into(), day(date));
            obj.insert("start".into(), day(date));
            obj.insert("end".into(), day(date + (to - from)));
            return Some(item);
        }
        let at = chrono::NaiveDateTime::parse_from_str(suffix, "%Y%m%dT%H%M%SZ")
            .ok()?
            .and_utc();
        let instant =
            |k: &str| chrono::DateTime::parse_from_rfc3339(master[k]["dateTime"].as_str()?).ok();
        let length = instant("end")? - instant("start")?;
        let time = |t: chrono::DateTime<chrono::Utc>| json!({"dateTime": t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), "timeZone": tz});
        obj.insert("originalStartTime".into(), time(at));
        obj.insert("start".into(), time(at));
        obj.insert("end".into(), time(at + length));
        Some(item)
    }

    /// A write to an instance Google holds no exception for yet. If-Match, when sent, is held against the
    /// master (the instance is the master's data until it has its own version).
    fn virtual_if_match(&self, req: &Request, cal: &str, id: &str) -> Result<Value, Response> {
        let Some(item) = self.virtual_instance(cal, id) else {
            return Err(google_error(404, "notFound", "Not Found"));
        };
        let master = item["recurringEventId"].as_str().unwrap_or_default();
        let master_etag = self
            .live(cal, master)
            .and_then(|m| m.get("etag"))
            .and_then(Value::as_str);
        match req.headers.get("if-match") {
            Some(m) if Some(m.as_str()) != master_etag => {
                Err(google_error(412, "conditionNotMet", "Precondition Failed"))
            }
            _ => Ok(item),
        }
    }

    fn write(&mut self, req: &Request, cal: &str, id: Option<&str>) -> Response {
        let body: Value = serde_json::from_str(&req.body).unwrap_or(Value::Null);
        if req.method != "DELETE" {
            if let Err(r) = Self::check_recurrence(&body) {
                return r;
            }
        }
        let stored = id.is_some_and(|id| self.events.get(cal).and_then(|m| m.get(id)).is_some());
        match (req.method.as_str(), id) {
            ("POST", None) => {
                let Some(id) = body.get("id").and_then(Value::as_str).map(str::to_string) else {
                    return google_error(400, "required", "the fake wants client ids");
                };
                if self.events.get(cal).and_then(|m| m.get(&id)).is_some() {
                    return google_error(
                        409,
                        "duplicate",
                        "The requested identifier already exists.",
                    );
                }
                let mut item = body.clone();
                item["kind"] = json!("calendar#event");
                item["status"] = json!("confirmed");
                item["iCalUID"] = json!(format!("{id}@google.com"));
                json_response(200, self.store_item(cal, item))
            }
            ("PATCH", Some(id)) => {
                let mut item = if stored {
                    if let Err(r) = self.if_match(req, cal, id) {
                        return r;
                    }
                    self.live(cal, id).cloned().unwrap_or(Value::Null)
                } else {
                    // Patching an instance makes it an exception of its series.
                    match self.virtual_if_match(req, cal, id) {
                        Ok(item) => item,
                        Err(r) => return r,
                    }
                };
                if let (Some(obj), Some(patch)) = (item.as_object_mut(), body.as_object()) {
                    for (k, v) in patch {
                        obj.insert(k.clone(), v.clone());
                    }
                }
                json_response(200, self.store_item(cal, item))
            }
            ("DELETE", Some(id)) => {
                let current = if stored {
                    if let Err(r) = self.if_match(req, cal, id) {
                        return r;
                    }
                    self.live(cal, id).cloned().unwrap_or(Value::Null)
                } else {
                    match self.virtual_if_match(req, cal, id) {
                        Ok(item) => item,
                        Err(r) => return r,
                    }
                };
                // A deleted instance stays as a cancelled one, keyed to its series, as Google keeps it.
                let mut stub = json!({"kind": "calendar#event", "id": id, "status": "cancelled"});
                for k in ["recurringEventId", "originalStartTime"] {
                    if let Some(v) = current.get(k) {
                        stub[k] = v.clone();
                    }
                }
                self.store_item(cal, stub);
                Response {
                    status: 204,
                    headers: Vec::new(),
                    body: String::new(),
                    fault: None,
                }
            }
            _ => google_error(405, "methodNotAllowed", "Method Not Allowed"),
        }
    }

    /// The calendars of the account a bearer token was issued to.
    fn calendars_of(&self, bearer: &str) -> &[FakeCalendar] {
        self.owners
            .get(bearer)
            .and_then(|u| self.users.get(u))
            .map_or(&self.calendars[..], |c| &c[..])
    }

    /// Whether a bearer may use a calendar: an account's own, or one no account lists (as before accounts
    /// were told apart, so tests that write to an unlisted calendar keep working).
    fn may_see(&self, bearer: &str, cal: &str) -> bool {
        let listed = self
            .calendars
            .iter()
            .chain(self.users.values().flatten())
            .any(|c| c.id == cal);
        !listed || self.calendars_of(bearer).iter().any(|c| c.id == cal)
    }

    fn token(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        let t = format!(
            "{prefix}-{}-{:x}",
            self.next_id,
            self.next_id.wrapping_mul(0x9e37_79b9_7f4a_7c15)
        );
        self.issued.push(t.clone());
        t
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
            1 => Fault::ServerError,
            2 => Fault::Unauthorized,
            3 => Fault::RateLimit403,
            4 => Fault::Reset,
            _ => Fault::Truncate,
        })
    }

    fn authorize(&mut self, q: &HashMap<String, String>) -> Response {
        let redirect = q.get("redirect_uri").cloned().unwrap_or_default();
        let ok = q.get("client_id").map(String::as_str) == Some(CLIENT_ID)
            && q.get("response_type").map(String::as_str) == Some("code")
            && q.get("code_challenge_method").map(String::as_str) == Some("S256")
            && q.contains_key("code_challenge")
            && redirect.starts_with("http://127.0.0.1:");
        if !ok {
            return json_response(400, json!({"error": "invalid_request"}));
        }
        let state = q.get("state").cloned().unwrap_or_default();
        let location = match self.authorize_mode {
            AuthorizeMode::Approve | AuthorizeMode::WrongState => {
                let code = self.token("code");
                self.codes.insert(
                    code.clone(),
                    Grant {
                        challenge: q["code_challenge"].clone(),
                        redirect_uri: redirect.clone(),
                    },
                );
                let st = if self.authorize_mode == AuthorizeMode::WrongState {
                    "forged-state".to_string()
                } else {
                    state
                };
                format!("{redirect}?state={st}&code={code}&scope=calendar")
            }
            AuthorizeMode::Deny => format!("{redirect}?error=access_denied&state={state}"),
            AuthorizeMode::NoCode => format!("{redirect}?state={state}"),
        };
        Response {
            status: 302,
            headers: vec![("Location".into(), location)],
            body: String::new(),
            fault: None,
        }
    }

    fn grant_tokens(&mut self, with_refresh: bool) -> Value {
        let access = self.token("ya29.access");
        self.access_tokens.insert(access.clone());
        let mut v = json!({"access_token": access, "expires_in": 3599, "token_type": "Bearer",
                           "scope": "https://www.googleapis.com/auth/calendar.events"});
        if with_refresh {
            let rt = self.token("1//refresh");
            self.refresh_tokens.insert(rt.clone());
            v["refresh_token"] = json!(rt);
        }
        v
    }

    /// Google's revocation endpoint: `token=` a refresh or access token, which stops working at once
    /// (https://developers.google.com/identity/protocols/oauth2/native-app#tokenrevoke).
    fn revoke_endpoint(&mut self, body: &str) -> Response {
        if self.revoke_fails {
            return json_response(503, json!({"error": "backendError"}));
        }
        let token = parse_query(body).get("token").cloned().unwrap_or_default();
        if self.refresh_tokens.remove(&token) || self.access_tokens.remove(&token) {
            self.revocations.push(token);
            json_response(200, json!({}))
        } else {
            json_response(
                400,
                json!({"error": "invalid_token", "error_description": "Token expired or revoked"}),
            )
        }
    }

    fn token_endpoint(&mut self, body: &str) -> Response {
        if self.token_redirect {
            return Response {
                status: 307,
                headers: vec![("Location".into(), "/stolen".into())],
                body: String::new(),
                fault: None,
            };
        }
        let f = parse_query(body);
        let client = (
            f.get("client_id").map(String::as_str),
            f.get("client_secret").map(String::as_str),
        );
        if client != (Some(CLIENT_ID), Some(CLIENT_SECRET))
            && client != (Some(OTHER_CLIENT_ID), Some(OTHER_CLIENT_SECRET))
        {
            return json_response(401, json!({"error": "invalid_client"}));
        }
        let bad_grant = |d: &str| {
            json_response(
                400,
                json!({"error": "invalid_grant", "error_description": d}),
            )
        };
        match f.get("grant_type").map(String::as_str) {
            Some("authorization_code") => {
                let Some(grant) = f.get("code").and_then(|c| self.codes.remove(c)) else {
                    return bad_grant("Bad code");
                };
                let verifier = f.get("code_verifier").cloned().unwrap_or_default();
                if b64url(&sha2::Sha256::digest(verifier.as_bytes())) != grant.challenge {
                    return bad_grant("Invalid code verifier.");
                }
                if f.get("redirect_uri") != Some(&grant.redirect_uri) {
                    return bad_grant("redirect_uri mismatch");
                }
                json_response(200, self.grant_tokens(true))
            }
            Some("refresh_token") => {
                let rt = f.get("refresh_token").cloned().unwrap_or_default();
                if self.revoked || !self.refresh_tokens.remove(&rt) {
                    return bad_grant("Token has been expired or revoked.");
                }
                let granted = self.grant_tokens(true);
                if let Some(owner) = self.owners.remove(&rt) {
                    for k in ["access_token", "refresh_token"] {
                        if let Some(t) = granted[k].as_str() {
                            self.owners.insert(t.to_string(), owner.clone());
                        }
                    }
                }
                json_response(200, granted)
            }
            _ => json_response(400, json!({"error": "unsupported_grant_type"})),
        }
    }

    /// The test-control API a separate process (the desktop end-to-end tests, through `fake-cloud`) drives:
    /// `POST /_control/put?cal=ID` with an event as the body, `delete?cal=ID&id=EID`, `revoke`,
    /// `unrevoke`, `expire_sync_tokens`, `refresh_token` (answers a new one), `fault?kind=429|500|401|reset|truncate`.
    fn control(&mut self, req: &Request) -> Response {
        let cal = req
            .query
            .get("cal")
            .cloned()
            .unwrap_or_else(|| "jane@acme.example".to_string());
        let ok = || json_response(200, json!({"ok": true}));
        match req.path.trim_start_matches("/_control/") {
            "put" => match serde_json::from_str::<Value>(&req.body) {
                Ok(item) if item.get("id").is_some() => {
                    json_response(200, self.store_item(&cal, item))
                }
                _ => json_response(
                    400,
                    json!({"error": "the body must be an event with an id"}),
                ),
            },
            "delete" => {
                let id = req.query.get("id").cloned().unwrap_or_default();
                let map = self.events.entry(cal.clone()).or_default();
                map.retain(|_, v| {
                    v.item.get("recurringEventId").and_then(Value::as_str) != Some(id.as_str())
                });
                self.store_item(
                    &cal,
                    json!({"kind": "calendar#event", "id": id, "status": "cancelled"}),
                );
                ok()
            }
            "revoke" => {
                self.revoked = true;
                ok()
            }
            "unrevoke" => {
                self.revoked = false;
                ok()
            }
            "expire_sync_tokens" => {
                self.min_token_seq = self.seq + 1;
                ok()
            }
            "refresh_token" => {
                let rt = self.token("1//refresh");
                self.refresh_tokens.insert(rt.clone());
                json_response(200, json!({"refresh_token": rt}))
            }
            "fault" => {
                let f = match req.query.get("kind").map(String::as_str) {
                    Some("429") => Fault::TooMany { retry_after: 1 },
                    Some("500") => Fault::ServerError,
                    Some("401") => Fault::Unauthorized,
                    Some("reset") => Fault::Reset,
                    Some("truncate") => Fault::Truncate,
                    _ => {
                        return json_response(
                            400,
                            json!({"error": "kind: 429, 500, 401, reset or truncate"}),
                        )
                    }
                };
                self.faults.push_back(f);
                ok()
            }
            _ => json_response(404, json!({"error": "no such control"})),
        }
    }

    fn api(&mut self, req: &Request) -> Response {
        let bearer = bearer_of(req);
        if self.revoked || !self.access_tokens.contains(bearer) {
            return google_error(401, "authError", "Invalid Credentials");
        }
        if let Some(fault) = self.next_fault() {
            return match fault {
                Fault::TooMany { retry_after } => {
                    let mut r = google_error(429, "rateLimitExceeded", "Rate Limit Exceeded");
                    r.headers
                        .push(("Retry-After".into(), retry_after.to_string()));
                    r
                }
                Fault::ServerError => google_error(500, "backendError", "Backend Error"),
                Fault::Unauthorized => {
                    self.access_tokens.remove(bearer);
                    google_error(401, "authError", "Invalid Credentials")
                }
                Fault::RateLimit403 => {
                    google_error(403, "rateLimitExceeded", "Rate Limit Exceeded")
                }
                Fault::Pass => self.route(req),
                f @ (Fault::Reset | Fault::Truncate) => {
                    let mut r = self.route(req);
                    r.fault = Some(f);
                    r
                }
            };
        }
        self.route(req)
    }

    fn route(&mut self, req: &Request) -> Response {
        let bearer = bearer_of(req);
        let segs: Vec<String> = req
            .path
            .trim_start_matches('/')
            .split('/')
            .map(percent_decode)
            .collect();
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        if let ["calendar", "v3", "calendars", cal, ..] = segs.as_slice() {
            if !self.may_see(bearer, cal) {
                return google_error(404, "notFound", "Not Found");
            }
        }
        if req.method != "GET" {
            return match segs.as_slice() {
                ["calendar", "v3", "calendars", cal, "events"] => self.write(req, cal, None),
                ["calendar", "v3", "calendars", cal, "events", id] => {
                    self.write(req, cal, Some(id))
                }
                _ => google_error(404, "notFound", "Not Found"),
            };
        }
        match segs.as_slice() {
            ["calendar", "v3", "users", "me", "calendarList"] => {
                let items: Vec<Value> = self
                    .calendars_of(bearer)
                    .iter()
                    .map(|c| {
                        json!({"kind": "calendar#calendarListEntry", "id": c.id, "summary": c.summary,
                               "timeZone": c.time_zone, "primary": c.primary, "accessRole": "owner",
                               "backgroundColor": "#9fe1e7", "foregroundColor": "#000000",
                               "selected": true})
                    })
                    .collect();
                json_response(
                    200,
                    json!({"kind": "calendar#calendarList", "items": items}),
                )
            }
            ["calendar", "v3", "calendars", cal, "events"] => self.list(cal, &req.query),
            ["calendar", "v3", "calendars", cal, "events", id] => {
                match self.events.get(*cal).and_then(|m| m.get(*id)) {
                    Some(s) => json_response(200, s.item.clone()),
                    None => google_error(404, "notFound", "Not Found"),
                }
            }
            _ => google_error(404, "notFound", "Not Found"),
        }
    }

    fn list(&mut self, cal: &str, q: &HashMap<String, String>) -> Response {
        let mut known = self.calendars.iter().chain(self.users.values().flatten());
        let Some(c) = known.find(|c| c.id == cal).cloned() else {
            return google_error(404, "notFound", "Not Found");
        };
        assert_eq!(
            q.get("singleEvents").map(String::as_str),
            Some("false"),
            "the client must ask for masters and exceptions, not expanded instances"
        );
        assert_eq!(
            q.get("showDeleted").map(String::as_str),
            Some("true"),
            "the client must ask for deletions"
        );
        let max: usize = q
            .get("maxResults")
            .and_then(|m| m.parse().ok())
            .unwrap_or(250);
        let size = max.min(self.page_size).max(1);
        // A page token is "since:upto:last id served"; a sync token is "s<upto>".
        let (since, upto, after) = match q.get("pageToken") {
            Some(p) => {
                let mut parts = p.splitn(3, ':');
                let since: u64 = parts.next().and_then(|x| x.parse().ok()).unwrap_or(0);
                let upto: u64 = parts.next().and_then(|x| x.parse().ok()).unwrap_or(0);
                (since, upto, parts.next().map(str::to_string))
            }
            None => {
                let since = match q.get("syncToken") {
                    Some(t) => {
                        let n: Option<u64> = t.strip_prefix('s').and_then(|n| n.parse().ok());
                        match n {
                            Some(n) if n >= self.min_token_seq => n,
                            _ => {
                                return google_error(
                                    410,
                                    "fullSyncRequired",
                                    "Sync token is no longer valid, a full sync is required.",
                                )
                            }
                        }
                    }
                    None => 0,
                };
                (since, self.seq, None)
            }
        };
        let empty = BTreeMap::new();
        let all = self.events.get(cal).unwrap_or(&empty);
        let full = since == 0;
        let mut items = Vec::new();
        let mut last = None;
        let mut more = false;
        let from = match after.as_deref() {
            Some(a) => std::ops::Bound::Excluded(a.to_string()),
            None => std::ops::Bound::Unbounded,
        };
        for (id, s) in all.range((from, std::ops::Bound::Unbounded)) {
            if s.seq <= since || s.seq > upto {
                continue;
            }
            // A full sync leaves out deleted events, as Google does once tombstones age.
            if full
                && s.item.get("status").and_then(Value::as_str) == Some("cancelled")
                && s.item.get("recurringEventId").is_none()
            {
                continue;
            }
            if items.len() == size {
                more = true;
                break;
            }
            items.push(s.item.clone());
            last = Some(id.clone());
        }
        let mut page = json!({"kind": "calendar#events", "summary": c.summary, "timeZone": c.time_zone,
                              "accessRole": "owner", "items": items});
        if more {
            page["nextPageToken"] = json!(format!("{since}:{upto}:{}", last.unwrap_or_default()));
        } else {
            page["nextSyncToken"] = json!(format!("s{upto}"));
        }
        json_response(200, page)
    }
}

impl FakeGoogle {
    /// Holds the answers to requests starting with `prefix` ("POST /token") until the gate is released.
    pub fn hold_answers(&self, prefix: &str) -> Arc<Gate> {
        let gate = Arc::new(Gate::default());
        gate.hold();
        self.state()
            .answer_gates
            .push((prefix.to_string(), Arc::clone(&gate)));
        gate
    }

    pub fn start() -> FakeGoogle {
        let listener =
            TcpListener::bind("127.0.0.1:0").expect("the fake binds a free loopback port");
        let base = format!("http://{}", listener.local_addr().expect("a bound address"));
        let state = Arc::new(Mutex::new(State {
            calendars: vec![FakeCalendar {
                id: "jane@acme.example".into(),
                summary: "Jane Doe".into(),
                primary: true,
                time_zone: "Europe/Berlin".into(),
            }],
            users: HashMap::new(),
            owners: HashMap::new(),
            events: HashMap::new(),
            seq: 0,
            min_token_seq: 0,
            codes: HashMap::new(),
            refresh_tokens: HashSet::new(),
            access_tokens: HashSet::new(),
            revoked: false,
            next_id: 0,
            authorize_mode: AuthorizeMode::Approve,
            token_redirect: false,
            page_size: 2500,
            latency: std::time::Duration::ZERO,
            faults: VecDeque::new(),
            chaos: None,
            log: Vec::new(),
            issued: Vec::new(),
            revocations: Vec::new(),
            revoke_fails: false,
            answer_gates: Vec::new(),
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
        FakeGoogle {
            base,
            state,
            stop,
            thread: Some(thread),
        }
    }

    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn auth_url(&self) -> String {
        format!("{}/o/oauth2/v2/auth", self.base)
    }
    pub fn token_url(&self) -> String {
        format!("{}/token", self.base)
    }
    pub fn revoke_url(&self) -> String {
        format!("{}/revoke", self.base)
    }

    /// A refresh token the fake accepts, as if the user had connected before.
    pub fn issue_refresh_token(&self) -> String {
        let mut s = self.state();
        let rt = s.token("1//refresh");
        s.refresh_tokens.insert(rt.clone());
        rt
    }

    /// An access token the API accepts, for callers that talk to it directly (the benchmark).
    pub fn issue_access_token(&self) -> String {
        let mut s = self.state();
        let t = s.token("ya29.access");
        s.access_tokens.insert(t.clone());
        t
    }

    /// Adds a calendar that is not the primary to the default account's list.
    pub fn add_calendar(&self, id: &str, summary: &str, time_zone: &str) {
        self.state().calendars.push(FakeCalendar {
            id: id.into(),
            summary: summary.into(),
            primary: false,
            time_zone: time_zone.into(),
        });
    }

    /// Adds an account besides the default one, whose primary calendar's id is its e-mail (as Google's is).
    pub fn add_user(&self, email: &str, name: &str, time_zone: &str) {
        self.state().users.insert(
            email.into(),
            vec![FakeCalendar {
                id: email.into(),
                summary: name.into(),
                primary: true,
                time_zone: time_zone.into(),
            }],
        );
    }

    /// A refresh token of an account added with `add_user`, as if that user had connected before.
    pub fn issue_refresh_token_for(&self, email: &str) -> String {
        let mut s = self.state();
        assert!(
            s.users.contains_key(email),
            "{email} must be added with add_user before it can have tokens"
        );
        let rt = s.token("1//refresh");
        s.refresh_tokens.insert(rt.clone());
        s.owners.insert(rt.clone(), email.into());
        rt
    }

    /// Stores an event (by its `id`) as changed now.
    pub fn put(&self, cal: &str, item: Value) {
        self.state().store_item(cal, item);
    }

    /// The current version of an event, as the API would serve it.
    pub fn get(&self, cal: &str, id: &str) -> Option<Value> {
        self.state()
            .events
            .get(cal)
            .and_then(|m| m.get(id))
            .map(|s| s.item.clone())
    }

    /// Deletes an event: it becomes a cancelled stub; a master's exceptions go with it.
    pub fn delete(&self, cal: &str, id: &str) {
        let mut s = self.state();
        s.events
            .entry(cal.to_string())
            .or_default()
            .retain(|_, v| v.item.get("recurringEventId").and_then(Value::as_str) != Some(id));
        s.store_item(
            cal,
            json!({"kind": "calendar#event", "id": id, "status": "cancelled"}),
        );
    }

    /// The live items of a calendar (for building a truth).
    pub fn items(&self, cal: &str) -> Vec<Value> {
        self.state()
            .events
            .get(cal)
            .map(|m| m.values().map(|s| s.item.clone()).collect())
            .unwrap_or_default()
    }

    pub fn expire_sync_tokens(&self) {
        let mut s = self.state();
        s.min_token_seq = s.seq + 1;
    }

    pub fn revoke(&self) {
        self.state().revoked = true;
    }

    pub fn push_fault(&self, f: Fault) {
        self.state().faults.push_back(f);
    }

    /// Faults `percent`% of API requests, chosen by `seed`.
    pub fn set_chaos(&self, seed: u64, percent: u32) {
        self.state().chaos = (percent > 0).then_some((seed | 1, percent));
    }

    pub fn requests(&self, needle: &str) -> usize {
        self.state()
            .log
            .iter()
            .filter(|l| l.contains(needle))
            .count()
    }
}

fn serve(mut stream: TcpStream, state: &Mutex<State>) {
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(10)));
    let _ = stream.set_nodelay(true);
    // One request after another on the same connection, as clients with a pool send them.
    while let Some(req) = read_request(&mut stream) {
        let (resp, latency, gate) = {
            let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
            let q: Vec<String> = req.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
            s.log
                .push(format!("{} {}?{}", req.method, req.path, q.join("&")));
            let resp = match (req.method.as_str(), req.path.as_str()) {
                ("GET", "/o/oauth2/v2/auth") => s.authorize(&req.query),
                ("POST", p) if p.starts_with("/_control/") => s.control(&req),
                ("POST", "/token") => s.token_endpoint(&req.body),
                ("POST", "/revoke") => s.revoke_endpoint(&req.body),
                ("GET" | "POST" | "PATCH" | "DELETE", _) => s.api(&req),
                _ => json_response(405, json!({"error": "method not allowed"})),
            };
            let line = format!("{} {}", req.method, req.path);
            let gate = s
                .answer_gates
                .iter()
                .find(|(prefix, _)| line.starts_with(prefix.as_str()))
                .map(|(_, g)| Arc::clone(g));
            (resp, s.latency, gate)
        };
        // Outside the lock, so that other connections are answered meanwhile.
        std::thread::sleep(latency);
        if let Some(gate) = gate {
            gate.pass();
        }
        if !write_response(&mut stream, resp) {
            return;
        }
    }
}

impl Drop for FakeGoogle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.base.trim_start_matches("http://"));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Event builders in Google's shapes.
pub mod items {
    use serde_json::{json, Value};

    pub fn timed(id: &str, summary: &str, start: &str, end: &str, tz: &str) -> Value {
        json!({"kind": "calendar#event", "id": id, "status": "confirmed", "summary": summary,
               "created": "2026-01-01T00:00:00.000Z", "updated": "2026-01-02T00:00:00.000Z",
               "start": {"dateTime": start, "timeZone": tz}, "end": {"dateTime": end, "timeZone": tz},
               "iCalUID": format!("{id}@google.com"), "eventType": "default"})
    }

    pub fn with_meet(mut v: Value, code: &str) -> Value {
        v["hangoutLink"] = json!(format!("https://meet.google.com/{code}"));
        v["conferenceData"] = json!({"entryPoints": [{"entryPointType": "video",
            "uri": format!("https://meet.google.com/{code}")}],
            "conferenceSolution": {"key": {"type": "hangoutsMeet"}, "name": "Google Meet"}});
        v
    }

    pub fn recurring(
        id: &str,
        summary: &str,
        start: &str,
        end: &str,
        tz: &str,
        lines: &[&str],
    ) -> Value {
        let mut v = timed(id, summary, start, end, tz);
        v["recurrence"] = json!(lines);
        v
    }

    /// An exception: instance `original` (a date-time with offset) of `master` moved to start/end.
    pub fn exception(
        master: &str,
        original: &str,
        summary: &str,
        start: &str,
        end: &str,
        tz: &str,
    ) -> Value {
        let mut v = timed(&instance_id(master, original), summary, start, end, tz);
        v["recurringEventId"] = json!(master);
        v["originalStartTime"] = json!({"dateTime": original, "timeZone": tz});
        v
    }

    pub fn cancelled_instance(master: &str, original: &str, tz: &str) -> Value {
        json!({"kind": "calendar#event", "id": instance_id(master, original), "status": "cancelled",
               "recurringEventId": master, "originalStartTime": {"dateTime": original, "timeZone": tz}})
    }

    /// Google's instance id: the master's id and the original start in UTC, basic format.
    pub fn instance_id(master: &str, original: &str) -> String {
        let t = chrono::DateTime::parse_from_rfc3339(original)
            .expect("an RFC 3339 original start")
            .with_timezone(&chrono::Utc);
        format!("{master}_{}", t.format("%Y%m%dT%H%M%SZ"))
    }
}
