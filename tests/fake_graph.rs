//! Self-tests of the fake Microsoft Graph (tests/support/fake_graph.rs): the Microsoft provider is tested
//! against it, so if it does not hold to Graph's rules (paging, delta, PKCE, rotation, idempotent creates,
//! preconditions, stubs, throttling) those tests prove nothing. Each test talks HTTP to it as a client would.

#[path = "support/fixtures.rs"]
mod fixtures;
mod support;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sha2::Digest;
use std::collections::HashMap;
use std::time::Duration;
use support::fake_graph::{
    items, AuthorizeMode, FakeGraph, Fault, TokenMode, CLIENT_ID, DEFAULT_CALENDAR, DEFAULT_EMAIL,
    SCOPES,
};

const CAL: &str = DEFAULT_CALENDAR;
const FROM: &str = "2026-03-01T00:00:00Z";
const TO: &str = "2026-04-01T00:00:00Z";

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("an RFC 3339 instant")
        .with_timezone(&Utc)
}

struct Client {
    http: reqwest::blocking::Client,
    token: String,
}

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Client {
    fn new(token: String) -> Client {
        punctual::auth::install_tls_provider();
        Client {
            http: reqwest::blocking::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("a client"),
            token,
        }
    }

    fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Answer {
        let mut r = self
            .http
            .request(method.parse().expect("a method"), url)
            .bearer_auth(&self.token);
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        if let Some(b) = body {
            r = r
                .header("Content-Type", "application/json")
                .body(b.to_string());
        }
        let resp = r.send().expect("the fake answers");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().expect("a whole body");
        Answer {
            status,
            headers,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    fn get(&self, url: &str, prefer: &str) -> Answer {
        let h: Vec<(&str, &str)> = if prefer.is_empty() {
            vec![]
        } else {
            vec![("Prefer", prefer)]
        };
        self.send("GET", url, &h, None)
    }

    /// Follows a delta round from `url` to its deltaLink: every page, and the deltaLink.
    fn round(&self, url: &str, prefer: &str) -> (Vec<Value>, String) {
        let mut pages = Vec::new();
        let mut url = url.to_string();
        for _ in 0..10_000 {
            let a = self.get(&url, prefer);
            assert_eq!(a.status, 200, "a delta page answers 200: {}", a.body);
            let next = a.body["@odata.nextLink"].as_str().map(str::to_string);
            let delta = a.body["@odata.deltaLink"].as_str().map(str::to_string);
            assert!(
                next.is_some() != delta.is_some(),
                "a page carries exactly one of nextLink and deltaLink: {}",
                a.body
            );
            pages.push(a.body);
            match (next, delta) {
                (Some(n), _) => url = n,
                (_, Some(d)) => return (pages, d),
                _ => unreachable!(),
            }
        }
        panic!("a delta round must end in a deltaLink");
    }
}

fn delta_url(fake: &FakeGraph, cal: &str) -> String {
    format!(
        "{}/me/calendars/{cal}/calendarView/delta?startDateTime={FROM}&endDateTime={TO}",
        fake.api_url()
    )
}

fn ids(pages: &[Value]) -> Vec<String> {
    pages
        .iter()
        .flat_map(|p| p["value"].as_array().cloned().unwrap_or_default())
        .map(|v| v["id"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn values(pages: &[Value]) -> Vec<Value> {
    pages
        .iter()
        .flat_map(|p| p["value"].as_array().cloned().unwrap_or_default())
        .collect()
}

fn single(fake: &FakeGraph, subject: &str, day: u32) -> String {
    let v = fake.put(
        CAL,
        items::single(
            subject,
            &format!("2026-03-{day:02}T09:00:00"),
            &format!("2026-03-{day:02}T10:00:00"),
            "UTC",
        ),
    );
    v["id"].as_str().expect("an id").to_string()
}

#[test]
fn delta_pages_chain_with_next_links_and_end_with_a_delta_link() {
    let fake = FakeGraph::start();
    let inside: Vec<String> = (2..7)
        .map(|d| single(&fake, &format!("In {d}"), d))
        .collect();
    let outside = fake.put(
        CAL,
        items::single("April", "2026-04-02T09:00:00", "2026-04-02T10:00:00", "UTC"),
    );
    let c = Client::new(fake.issue_access_token());
    let (pages, delta) = c.round(&delta_url(&fake, CAL), "odata.maxpagesize=2");
    let sizes: Vec<usize> = pages
        .iter()
        .map(|p| p["value"].as_array().map_or(0, Vec::len))
        .collect();
    assert_eq!(
        sizes,
        vec![2, 2, 1],
        "five events in pages of two: {pages:?}"
    );
    let mut got = ids(&pages);
    got.sort();
    let mut want = inside.clone();
    want.sort();
    assert_eq!(got, want, "exactly the events inside the window, each once");
    assert!(
        !ids(&pages).contains(&outside["id"].as_str().unwrap_or_default().to_string()),
        "an event outside the window is not in the view"
    );
    for p in &pages[..2] {
        let next = p["@odata.nextLink"].as_str().unwrap_or_default();
        assert!(
            next.starts_with(&fake.api_url()) && next.contains("$skiptoken="),
            "a nextLink is a $skiptoken URL on the same base: {next}"
        );
    }
    assert!(
        delta.starts_with(&fake.api_url()) && delta.contains("$deltatoken="),
        "the last page's deltaLink is a $deltatoken URL on the same base: {delta}"
    );
    assert!(
        values(&pages)
            .iter()
            .all(|v| v["@odata.type"] == "#microsoft.graph.event"),
        "delta items carry @odata.type, as in the fixtures"
    );
    let plain = c.get(&delta_url(&fake, CAL), "");
    assert_eq!(
        plain.body["value"].as_array().map_or(0, Vec::len),
        5,
        "without Prefer the default page size (50) holds all five"
    );
    let missing = c.get(
        &format!("{}/me/calendars/{CAL}/calendarView/delta", fake.api_url()),
        "",
    );
    assert_eq!(
        missing.status, 400,
        "a first delta request without a window is refused"
    );
}

#[test]
fn a_delta_link_returns_only_what_changed() {
    let fake = FakeGraph::start();
    let keep = single(&fake, "Untouched", 2);
    let edited = single(&fake, "Before", 3);
    let deleted = single(&fake, "Doomed", 4);
    let moved = single(&fake, "Moving", 5);
    let c = Client::new(fake.issue_access_token());
    let (_, delta) = c.round(&delta_url(&fake, CAL), "");
    fake.edit(&edited, json!({"subject": "After"}));
    fake.delete(&deleted);
    fake.edit(
        &moved,
        json!({"start": {"dateTime": "2026-05-05T09:00:00", "timeZone": "UTC"},
               "end": {"dateTime": "2026-05-05T10:00:00", "timeZone": "UTC"}}),
    );
    let added = single(&fake, "New", 6);
    let (pages, next_delta) = c.round(&delta, "");
    let got: HashMap<String, Value> = values(&pages)
        .into_iter()
        .map(|v| (v["id"].as_str().unwrap_or_default().to_string(), v))
        .collect();
    assert!(
        !got.contains_key(&keep),
        "an unchanged event is not in the delta"
    );
    assert_eq!(got.len(), 4, "edited, deleted, moved out, added: {got:?}");
    assert_eq!(got[&edited]["subject"], "After", "a change comes in full");
    assert_eq!(got[&added]["subject"], "New", "a new event comes in full");
    for gone in [&deleted, &moved] {
        assert_eq!(
            got[gone],
            json!({"@odata.type": "#microsoft.graph.event", "id": gone, "@removed": {"reason": "deleted"}}),
            "a deleted event, or one moved out of the window, comes as @removed"
        );
    }
    let (again, _) = c.round(&next_delta, "");
    assert!(
        ids(&again).is_empty(),
        "nothing changed since the last deltaLink: {again:?}"
    );
}

#[test]
fn every_token_issued_before_expiry_answers_410_sync_state_not_found() {
    let fake = FakeGraph::start();
    for d in 2..6 {
        single(&fake, "Ev", d);
    }
    let c = Client::new(fake.issue_access_token());
    let first = c.get(&delta_url(&fake, CAL), "odata.maxpagesize=2");
    let skip = first.body["@odata.nextLink"]
        .as_str()
        .expect("a nextLink")
        .to_string();
    let (_, delta) = c.round(&delta_url(&fake, CAL), "");
    fake.expire_delta_tokens();
    let fixture = fixtures::dir("providers/graph/error_410_sync_state_not_found.json");
    let want: Option<Value> = std::fs::read_to_string(&fixture)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    if want.is_none() {
        fixtures::missing(&fixture, "the body shape was not compared with the fixture");
    }
    for url in [&delta, &skip] {
        let a = c.get(url, "");
        assert_eq!(a.status, 410, "an expired token is Gone: {url}");
        assert_eq!(
            a.body["error"]["code"], "SyncStateNotFound",
            "the expired token's error code is Graph's"
        );
        if let Some(want) = &want {
            assert_eq!(
                a.body["error"]["message"], want["error"]["message"],
                "the message is the fixture's"
            );
            let keys = |v: &Value| {
                let mut k: Vec<String> = v["error"]["innerError"]
                    .as_object()
                    .map(|o| o.keys().cloned().collect())
                    .unwrap_or_default();
                k.sort();
                k
            };
            assert_eq!(
                keys(&a.body),
                keys(want),
                "innerError has the fixture's fields"
            );
        }
    }
    let garbage = c.get(
        &format!(
            "{}/me/calendarView/delta?$deltatoken=nonsense",
            fake.api_url()
        ),
        "",
    );
    assert_eq!(garbage.status, 410, "an unknown delta token is Gone too");
    let (fresh, _) = c.round(&delta_url(&fake, CAL), "");
    assert_eq!(ids(&fresh).len(), 4, "a new round after expiry works");
}

/// A PKCE pair: (verifier, S256 challenge).
fn pkce(verifier: &str) -> (String, String) {
    use base64::Engine as _;
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier.to_string(), challenge)
}

const REDIRECT: &str = "http://127.0.0.1:49152/callback";

/// Runs the authorize step as a browser would and answers the redirect's query.
fn authorize(
    fake: &FakeGraph,
    c: &Client,
    challenge: &str,
    tenant: &str,
) -> HashMap<String, String> {
    let url = format!(
        "{}?client_id={CLIENT_ID}&response_type=code&redirect_uri={}&scope={}&state=st%2Fate&code_challenge={challenge}&code_challenge_method=S256",
        fake.auth_url(tenant),
        urlenc(REDIRECT),
        urlenc(SCOPES)
    );
    let a = c.get(&url, "");
    assert_eq!(a.status, 302, "authorize redirects: {}", a.body);
    let loc = a.headers["location"]
        .to_str()
        .expect("a Location")
        .to_string();
    assert!(
        loc.starts_with(REDIRECT),
        "the redirect goes to the loopback redirect_uri: {loc}"
    );
    let q = loc.split_once('?').map_or("", |(_, q)| q);
    url::form_urlencoded::parse(q.as_bytes())
        .into_owned()
        .collect()
}

fn urlenc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn token_request(fake: &FakeGraph, c: &Client, form: &[(&str, &str)]) -> Answer {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let resp = c
        .http
        .post(fake.token_url("common"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .expect("the token endpoint answers");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    Answer {
        status,
        headers,
        body: serde_json::from_str(&resp.text().expect("a body")).unwrap_or(Value::Null),
    }
}

fn code_exchange(fake: &FakeGraph, c: &Client, code: &str, verifier: &str) -> Answer {
    token_request(
        fake,
        c,
        &[
            ("client_id", CLIENT_ID),
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
            ("scope", SCOPES),
        ],
    )
}

#[test]
fn pkce_refuses_a_wrong_verifier_and_a_code_is_good_once() {
    let fake = FakeGraph::start();
    let c = Client::new(String::new());
    let (verifier, challenge) = pkce("a-verifier-of-enough-length-0123456789-abcdefghijkl");
    let q = authorize(&fake, &c, &challenge, "common");
    assert_eq!(q["state"], "st/ate", "the state comes back as sent");
    let wrong = code_exchange(
        &fake,
        &c,
        &q["code"],
        "another-verifier-0123456789-abcdefghijklmnop",
    );
    assert_eq!(wrong.status, 400, "a wrong verifier is refused");
    assert_eq!(wrong.body["error"], "invalid_grant", "{}", wrong.body);
    assert_eq!(
        wrong.body["error_codes"],
        json!([501481]),
        "AADSTS501481: the verifier does not match the challenge"
    );
    let q = authorize(&fake, &c, &challenge, TENANT_GUID);
    let ok = code_exchange(&fake, &c, &q["code"], &verifier);
    assert_eq!(
        ok.status, 200,
        "the right verifier gets tokens: {}",
        ok.body
    );
    for k in ["access_token", "refresh_token", "expires_in", "scope"] {
        assert!(ok.body.get(k).is_some(), "the token answer has {k}");
    }
    assert_eq!(ok.body["token_type"], "Bearer", "bearer tokens");
    let again = code_exchange(&fake, &c, &q["code"], &verifier);
    assert_eq!(
        again.body["error_codes"],
        json!([54005]),
        "a code is good once: {}",
        again.body
    );
    let q = authorize(&fake, &c, &challenge, "common");
    let secret = token_request(
        &fake,
        &c,
        &[
            ("client_id", CLIENT_ID),
            ("client_secret", "s3cret"),
            ("grant_type", "authorization_code"),
            ("code", &q["code"]),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
        ],
    );
    assert_eq!(
        (secret.status, secret.body["error_codes"].clone()),
        (401, json!([700025])),
        "a public client must not present a secret"
    );
}

const TENANT_GUID: &str = "8d5c7f3a-1e2b-4c6d-9f80-a1b2c3d4e5f6";

#[test]
fn authorize_modes_and_tenants() {
    let fake = FakeGraph::start();
    let c = Client::new(String::new());
    let (_, challenge) = pkce("v-0123456789-0123456789-0123456789-0123456789");
    fake.state().authorize_mode = AuthorizeMode::Deny;
    let q = authorize(&fake, &c, &challenge, "organizations");
    assert_eq!(
        q.get("error").map(String::as_str),
        Some("access_denied"),
        "a denial redirects with error=access_denied"
    );
    assert!(!q.contains_key("code"), "a denial carries no code");
    fake.state().authorize_mode = AuthorizeMode::WrongState;
    let q = authorize(&fake, &c, &challenge, "consumers");
    assert_ne!(q["state"], "st/ate", "WrongState forges the state");
    let bad = c.get(
        &format!(
            "{}?client_id={CLIENT_ID}&response_type=code",
            fake.auth_url("not-a-tenant")
        ),
        "",
    );
    assert_eq!(
        (bad.status, bad.body["error_codes"].clone()),
        (400, json!([90002])),
        "a tenant that is neither a GUID nor one of the three names is not found"
    );
}

fn refresh(fake: &FakeGraph, c: &Client, rt: &str) -> Answer {
    token_request(
        fake,
        c,
        &[
            ("client_id", CLIENT_ID),
            ("grant_type", "refresh_token"),
            ("refresh_token", rt),
            ("scope", SCOPES),
        ],
    )
}

#[test]
fn every_refresh_rotates_and_the_old_token_dies() {
    let fake = FakeGraph::start();
    let c = Client::new(String::new());
    let rt1 = fake.issue_refresh_token();
    let a = refresh(&fake, &c, &rt1);
    assert_eq!(a.status, 200, "a live refresh token works: {}", a.body);
    let rt2 = a.body["refresh_token"]
        .as_str()
        .expect("a new refresh token")
        .to_string();
    assert_ne!(rt1, rt2, "the refresh token rotates");
    let old = refresh(&fake, &c, &rt1);
    assert_eq!(
        (
            old.status,
            old.body["error"].clone(),
            old.body["error_codes"].clone()
        ),
        (400, json!("invalid_grant"), json!([70008])),
        "the old refresh token died with the rotation"
    );
    let access = a.body["access_token"].as_str().expect("an access token");
    let me = Client::new(access.to_string()).get(&format!("{}/me", fake.api_url()), "");
    assert_eq!(me.status, 200, "the refreshed access token works");

    fake.state().token_mode = TokenMode::InteractionRequired;
    let mfa = refresh(&fake, &c, &rt2);
    assert_eq!(
        (mfa.body["error"].clone(), mfa.body["error_codes"].clone()),
        (json!("interaction_required"), json!([50076])),
        "the interaction mode answers AADSTS50076"
    );
    fake.state().token_mode = TokenMode::NoRefreshToken;
    let bare = refresh(&fake, &c, &rt2);
    assert_eq!(bare.status, 200, "a refresh still works: {}", bare.body);
    assert!(
        bare.body.get("refresh_token").is_none(),
        "NoRefreshToken leaves the refresh token out"
    );
    fake.state().token_mode = TokenMode::Normal;
    let rt3 = fake.issue_refresh_token();
    fake.revoke();
    let revoked = refresh(&fake, &c, &rt3);
    assert_eq!(
        revoked.body["error_codes"],
        json!([70008]),
        "a revoked grant refuses refreshes with AADSTS70008"
    );
}

fn create(c: &Client, fake: &FakeGraph, body: &Value) -> Answer {
    c.send(
        "POST",
        &format!("{}/me/calendars/{CAL}/events", fake.api_url()),
        &[("Prefer", "outlook.timezone=\"UTC\"")],
        Some(body),
    )
}

#[test]
fn a_repeated_transaction_id_returns_the_first_event_and_creates_nothing() {
    let fake = FakeGraph::start();
    let c = Client::new(fake.issue_access_token());
    let mut body = items::single(
        "Retried",
        "2026-03-10T09:00:00",
        "2026-03-10T10:00:00",
        "UTC",
    );
    body["transactionId"] = json!("7E163156-7762-4BEB-A1C6-729EA81755A7");
    // The first answer is lost (reset after the server made the event), as on a flaky network.
    fake.push_fault(Fault::Reset);
    let lost = c
        .http
        .post(format!("{}/me/calendars/{CAL}/events", fake.api_url()))
        .bearer_auth(&c.token)
        .body(body.to_string())
        .send();
    assert!(lost.is_err(), "the reset loses the first answer");
    let first = create(&c, &fake, &body);
    let second = create(&c, &fake, &body);
    assert_eq!(
        (first.status, second.status),
        (201, 201),
        "a repeated create answers 201 (the fake's documented choice)"
    );
    assert_eq!(
        first.body["id"], second.body["id"],
        "the same transactionId names the same event"
    );
    assert_eq!(
        fake.instances(CAL, at(FROM), at(TO)).len(),
        1,
        "retries with one transactionId made one event"
    );
    body["transactionId"] = json!("another");
    let other = create(&c, &fake, &body);
    assert_ne!(
        other.body["id"], first.body["id"],
        "another transactionId makes another event"
    );
    assert_eq!(
        fake.instances(CAL, at(FROM), at(TO)).len(),
        2,
        "two events now"
    );
}

#[test]
fn a_stale_if_match_gets_412_and_every_write_changes_the_etag() {
    let fake = FakeGraph::start();
    let c = Client::new(fake.issue_access_token());
    let made = create(
        &c,
        &fake,
        &items::single(
            "Edit me",
            "2026-03-10T09:00:00",
            "2026-03-10T10:00:00",
            "UTC",
        ),
    );
    assert_eq!(made.status, 201, "created: {}", made.body);
    let id = made.body["id"]
        .as_str()
        .expect("the server assigns an id")
        .to_string();
    let etag1 = made.body["@odata.etag"]
        .as_str()
        .expect("an etag")
        .to_string();
    assert!(etag1.starts_with("W/\""), "a weak etag: {etag1}");
    let url = format!("{}/me/events/{id}", fake.api_url());
    let patched = c.send(
        "PATCH",
        &url,
        &[("If-Match", &etag1)],
        Some(&json!({"subject": "Edited"})),
    );
    assert_eq!(
        patched.status, 200,
        "a current etag lets the write through: {}",
        patched.body
    );
    let etag2 = patched.body["@odata.etag"]
        .as_str()
        .expect("an etag")
        .to_string();
    assert_ne!(etag1, etag2, "each write gives a new etag");
    let stale = c.send(
        "PATCH",
        &url,
        &[("If-Match", &etag1)],
        Some(&json!({"subject": "Lost"})),
    );
    assert_eq!(
        (stale.status, stale.body["error"]["code"].clone()),
        (412, json!("ErrorIrresolvableConflict")),
        "a stale etag is refused"
    );
    assert_eq!(
        fake.get(&id).expect("still there")["subject"],
        "Edited",
        "a refused write changed nothing"
    );
    let stale_delete = c.send("DELETE", &url, &[("If-Match", &etag1)], None);
    assert_eq!(stale_delete.status, 412, "a stale DELETE is refused too");
    let gone = c.send("DELETE", &url, &[("If-Match", &etag2)], None);
    assert_eq!(gone.status, 204, "a current DELETE answers 204");
    let again = c.send("DELETE", &url, &[], None);
    assert_eq!(again.status, 404, "a second DELETE finds nothing");
}

#[test]
fn occurrences_come_as_stubs_whose_master_must_be_fetched() {
    let fake = FakeGraph::start();
    let master = fake.put(
        CAL,
        items::teams(items::weekly(
            "Weekly design review",
            "2026-03-03T10:00:00",
            "2026-03-03T11:00:00",
            "W. Europe Standard Time",
            &["tuesday"],
            1,
            items::numbered(3),
        )),
    );
    let master_id = master["id"].as_str().expect("an id").to_string();
    let c = Client::new(fake.issue_access_token());
    let (pages, delta) = c.round(&delta_url(&fake, CAL), "outlook.timezone=\"UTC\"");
    let got = values(&pages);
    assert_eq!(got.len(), 3, "three occurrences, no master: {got:?}");
    for v in &got {
        assert_eq!(
            v["type"], "occurrence",
            "calendarView never returns the master"
        );
        assert_eq!(
            v["seriesMasterId"],
            json!(master_id),
            "a stub names its master"
        );
        let mut keys: Vec<&str> = v
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort();
        assert_eq!(
            keys,
            vec![
                "@odata.etag",
                "@odata.type",
                "end",
                "id",
                "seriesMasterId",
                "start",
                "type"
            ],
            "an occurrence is a stub: its subject and link are the master's"
        );
    }
    assert_eq!(
        got[0]["start"],
        json!({"dateTime": "2026-03-03T09:00:00.0000000", "timeZone": "UTC"}),
        "10:00 in Berlin (CET) is 09:00 UTC"
    );
    let m = c.get(
        &format!("{}/me/calendars/{CAL}/events/{master_id}", fake.api_url()),
        "",
    );
    assert_eq!(
        m.body["type"], "seriesMaster",
        "the master is fetched by id"
    );
    assert!(
        m.body["onlineMeeting"]["joinUrl"]
            .as_str()
            .is_some_and(|u| u.starts_with("https://teams.microsoft.com/l/meetup-join/")),
        "a Teams series has a join link: {}",
        m.body["onlineMeeting"]
    );
    assert_eq!(fake.event_fetches(&master_id), 1, "the fetch was counted");

    let occ = |i: usize| got[i]["id"].as_str().expect("an id").to_string();
    let url = |id: &str| format!("{}/me/events/{id}", fake.api_url());
    let moved = c.send(
        "PATCH",
        &url(&occ(1)),
        &[],
        Some(&json!({"subject": "Moved review"})),
    );
    assert_eq!(
        moved.status, 200,
        "an occurrence can be patched: {}",
        moved.body
    );
    assert_eq!(
        moved.body["type"], "exception",
        "a patched occurrence is an exception"
    );
    assert_eq!(
        c.send("DELETE", &url(&occ(2)), &[], None).status,
        204,
        "an occurrence can be deleted"
    );
    let (changes, _) = c.round(&delta, "");
    let changes = values(&changes);
    assert_eq!(
        changes.len(),
        2,
        "the exception and the deletion: {changes:?}"
    );
    let exception = changes
        .iter()
        .find(|v| v["id"] == json!(occ(1)))
        .expect("the exception");
    assert_eq!(
        (exception["type"].clone(), exception["subject"].clone()),
        (json!("exception"), json!("Moved review")),
        "an exception comes in full"
    );
    let removed = changes
        .iter()
        .find(|v| v["id"] == json!(occ(2)))
        .expect("the deletion");
    assert_eq!(
        removed["@removed"]["reason"], "deleted",
        "a deleted occurrence is @removed"
    );
    assert_eq!(
        fake.instances(CAL, at(FROM), at(TO)).len(),
        2,
        "the series now has one occurrence and one exception"
    );
}

#[test]
fn times_are_in_utc_when_asked_and_in_the_events_zone_otherwise() {
    let fake = FakeGraph::start();
    let id = fake.put(
        CAL,
        items::single(
            "West coast",
            "2026-03-02T09:00:00",
            "2026-03-02T10:00:00",
            "Pacific Standard Time",
        ),
    )["id"]
        .as_str()
        .expect("an id")
        .to_string();
    let c = Client::new(fake.issue_access_token());
    let url = format!("{}/me/events/{id}", fake.api_url());
    let utc = c.get(&url, "outlook.timezone=\"UTC\"");
    assert_eq!(
        utc.body["start"],
        json!({"dateTime": "2026-03-02T17:00:00.0000000", "timeZone": "UTC"}),
        "09:00 PST is 17:00 UTC"
    );
    assert!(
        utc.headers["preference-applied"]
            .to_str()
            .is_ok_and(|p| p.contains("outlook.timezone")),
        "the honoured preference is named"
    );
    let own = c.get(&url, "");
    assert_eq!(
        own.body["start"],
        json!({"dateTime": "2026-03-02T09:00:00.0000000", "timeZone": "Pacific Standard Time"}),
        "without the header, the event's own (Windows) zone"
    );
    let text = c.get(&url, "outlook.body-content-type=\"text\"");
    assert_eq!(
        text.body["body"],
        json!({"contentType": "text", "content": "West coast"}),
        "a text body when asked"
    );
}

#[test]
fn a_fifth_concurrent_request_per_mailbox_is_throttled() {
    let fake = FakeGraph::start();
    fake.state().latency = Duration::from_millis(400);
    let token = fake.issue_access_token();
    let url = format!("{}/me", fake.api_url());
    let burst = |n: usize| -> Vec<(u16, Value, Option<String>)> {
        let handles: Vec<_> = (0..n)
            .map(|_| {
                let (token, url) = (token.clone(), url.clone());
                std::thread::spawn(move || {
                    let a = Client::new(token).get(&url, "");
                    let ra = a
                        .headers
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string);
                    (a.status, a.body, ra)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a request thread"))
            .collect()
    };
    let four = burst(4);
    assert!(
        four.iter().all(|(s, _, _)| *s == 200),
        "four at once are allowed"
    );
    assert_eq!(fake.max_concurrency(), 4, "four were in flight together");
    let five = burst(5);
    let refused: Vec<_> = five.iter().filter(|(s, _, _)| *s == 429).collect();
    assert_eq!(
        refused.len(),
        1,
        "the fifth concurrent request is refused: {five:?}"
    );
    assert_eq!(
        refused[0].1["error"]["code"], "ApplicationThrottled",
        "Outlook's MailboxConcurrency error"
    );
    assert!(refused[0].2.is_some(), "the refusal says when to retry");
    assert_eq!(fake.max_concurrency(), 5, "the counter saw the fifth");
}

#[test]
fn tokens_are_checked_and_each_mailbox_sees_only_its_own() {
    let fake = FakeGraph::start();
    let bob_cal = fake.add_user("bob@outlook.example", None, "Bob Roe");
    fake.add_calendar(
        DEFAULT_EMAIL,
        FakeGraph::calendar("AAMkAGshared=", "Team", "boss@acme.example", false),
    );
    let bad = Client::new("not-a-token".into()).get(&format!("{}/me", fake.api_url()), "");
    assert_eq!(
        (bad.status, bad.body["error"]["code"].clone()),
        (401, json!("InvalidAuthenticationToken")),
        "a bad token gets Graph's 401"
    );
    let jane = Client::new(fake.issue_access_token());
    let me = jane.get(&format!("{}/me", fake.api_url()), "").body;
    assert_eq!(
        (me["mail"].clone(), me["displayName"].clone()),
        (json!(DEFAULT_EMAIL), json!("Jane Doe")),
        "/me is the token's mailbox"
    );
    let bob = Client::new(fake.issue_access_token_for("bob@outlook.example"));
    let bob_me = bob.get(&format!("{}/me", fake.api_url()), "").body;
    assert_eq!(
        (bob_me["mail"].clone(), bob_me["userPrincipalName"].clone()),
        (Value::Null, json!("bob@outlook.example")),
        "an account without mail has its UPN"
    );
    let cals = jane.get(&format!("{}/me/calendars?$top=1", fake.api_url()), "");
    assert_eq!(
        cals.body["value"][0]["isDefaultCalendar"], true,
        "the default calendar first"
    );
    let next = cals.body["@odata.nextLink"]
        .as_str()
        .expect("a second page");
    let shared = jane.get(next, "").body;
    assert_eq!(
        (
            shared["value"][0]["canEdit"].clone(),
            shared["value"][0]["owner"]["address"].clone()
        ),
        (json!(false), json!("boss@acme.example")),
        "a shared calendar is someone else's and read-only"
    );
    assert!(
        shared.get("@odata.nextLink").is_none(),
        "two calendars, two pages"
    );
    let cross = bob.get(&delta_url(&fake, CAL), "");
    assert_eq!(cross.status, 404, "Bob cannot read Jane's calendar");
    assert_eq!(
        bob.get(&delta_url(&fake, &bob_cal), "").status,
        200,
        "Bob reads his own"
    );
    let ro = jane.send(
        "POST",
        &format!("{}/me/calendars/AAMkAGshared=/events", fake.api_url()),
        &[],
        Some(&items::single(
            "No",
            "2026-03-02T09:00:00",
            "2026-03-02T10:00:00",
            "UTC",
        )),
    );
    assert_eq!(ro.status, 403, "a read-only calendar refuses a create");
    fake.expire_access_tokens();
    assert_eq!(
        jane.get(&format!("{}/me", fake.api_url()), "").status,
        401,
        "an expired access token gets 401"
    );
}

#[test]
fn faults_come_on_demand() {
    let fake = FakeGraph::start();
    let c = Client::new(fake.issue_access_token());
    let url = format!("{}/me", fake.api_url());
    fake.push_fault(Fault::TooMany { retry_after: 7 });
    fake.push_fault(Fault::Unavailable { retry_after: 3 });
    fake.push_fault(Fault::GatewayTimeout);
    let a = c.get(&url, "");
    assert_eq!(
        (
            a.status,
            a.headers.get("retry-after").and_then(|v| v.to_str().ok())
        ),
        (429, Some("7")),
        "429 with Retry-After"
    );
    let b = c.get(&url, "");
    assert_eq!(
        (
            b.status,
            b.headers.get("retry-after").and_then(|v| v.to_str().ok())
        ),
        (503, Some("3")),
        "503 with Retry-After"
    );
    assert_eq!(c.get(&url, "").status, 504, "504");
    fake.push_fault(Fault::Truncate);
    let cut = c
        .http
        .get(&url)
        .bearer_auth(&c.token)
        .send()
        .and_then(|r| r.text());
    assert!(
        cut.map_or(true, |t| serde_json::from_str::<Value>(&t).is_err()),
        "a truncated body is not whole JSON"
    );
    fake.push_fault(Fault::Unauthorized);
    assert_eq!(c.get(&url, "").status, 401, "a 401 fault");
    assert_eq!(
        c.get(&url, "").status,
        401,
        "and the token it hit stays dead"
    );
}

#[test]
fn empty_pages_and_replayed_items_still_end_in_a_delta_link() {
    let fake = FakeGraph::start();
    for d in 2..5 {
        single(&fake, "Ev", d);
    }
    {
        let mut s = fake.state();
        s.empty_pages = true;
        s.replay = true;
    }
    let c = Client::new(fake.issue_access_token());
    let (pages, _) = c.round(&delta_url(&fake, CAL), "odata.maxpagesize=2");
    assert!(
        pages
            .iter()
            .any(|p| p["value"].as_array().is_some_and(Vec::is_empty)
                && p.get("@odata.nextLink").is_some()),
        "an empty page carries a nextLink"
    );
    let all = ids(&pages);
    let mut unique = all.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 3, "every event is served");
    assert!(all.len() > unique.len(), "some item came twice: {all:?}");
}

#[test]
fn many_events_load_quickly_and_page_through() {
    let fake = FakeGraph::start();
    let t = std::time::Instant::now();
    let ids = fake.add_singles(
        CAL,
        5_000,
        at("2026-03-01T00:00:00Z"),
        chrono::Duration::minutes(5),
    );
    assert_eq!(ids.len(), 5_000, "all loaded");
    assert!(
        t.elapsed() < Duration::from_secs(20),
        "the bulk loader is quick: {:?}",
        t.elapsed()
    );
    let c = Client::new(fake.issue_access_token());
    let (pages, _) = c.round(&delta_url(&fake, CAL), "odata.maxpagesize=1000");
    assert_eq!(pages.len(), 5, "5,000 events in pages of 1,000");
    assert_eq!(
        values(&pages)
            .iter()
            .filter(|v| v["onlineMeeting"]["joinUrl"].is_string())
            .count(),
        1_667,
        "every third bulk event is a Teams meeting"
    );
}
