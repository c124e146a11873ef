//! The loopback redirect listener of RFC 8252 §7.3: one callback on `http://127.0.0.1:PORT/callback`.

use super::{auth_url, exchange_code, OAuthConfig, Tokens};
use crate::error::{Error, ErrorCode, Result};
use oauth2::basic::BasicClient;
use oauth2::{ClientId, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The path the provider redirects the browser to.
const CALLBACK_PATH: &str = "/callback";
/// The longest request line and headers a callback may have.
const MAX_REQUEST: usize = 16 * 1024;

/// One authorization in progress: the listener, the PKCE verifier and the expected state.
pub struct LoopbackFlow {
    listener: TcpListener,
    redirect_uri: String,
    url: String,
    state: CsrfToken,
    verifier: PkceCodeVerifier,
    timeout: Duration,
    cancel: Cancel,
}

/// Stops a flow that waits for the browser (the app's Cancel button). Clones share one flag.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// What the callback carried, once the state checked out.
#[derive(Debug)]
pub struct Callback {
    pub code: String,
}

const DONE_PAGE: &str = "<!doctype html><meta charset=utf-8><title>Punctual</title>\
<body style=\"font-family:sans-serif;margin:4em\"><h1>You are connected.</h1>\
<p>Punctual has your calendar now. You can close this tab and return to Punctual.</p>";

fn failed_page(why: &str) -> String {
    let why = why
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!(
        "<!doctype html><meta charset=utf-8><title>Punctual</title>\
<body style=\"font-family:sans-serif;margin:4em\"><h1>Punctual was not connected.</h1>\
<p>{why}</p><p>You can close this tab and try again from Punctual.</p>"
    )
}

fn timeout_too_long() -> Error {
    Error::field(
        ErrorCode::InvalidInput,
        "timeout",
        format!(
            "the sign-in timeout must be at most {} seconds (24 hours)",
            LoopbackFlow::MAX_TIMEOUT.as_secs()
        ),
    )
}

impl LoopbackFlow {
    /// How long the listener waits for the browser (the five minutes).
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5 * 60);

    /// The longest wait [`LoopbackFlow::start`] takes: a sign-in takes minutes, and a timeout from the user
    /// (`--timeout`) is refused above this rather than overflow the deadline's arithmetic.
    pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

    /// Binds the listener and builds the authorization URL to open in the browser.
    pub fn start(cfg: &OAuthConfig, timeout: Duration) -> Result<LoopbackFlow> {
        // Checked before the browser opens: the user learns of the bad timeout, not of a sign-in that hangs.
        if timeout > Self::MAX_TIMEOUT {
            return Err(timeout_too_long());
        }
        let listener = TcpListener::bind(("127.0.0.1", 0)).map_err(|e| {
            Error::new(
                ErrorCode::Io,
                format!("cannot listen on 127.0.0.1 for the sign-in redirect: {e}"),
            )
        })?;
        let port = listener.local_addr()?.port();
        let redirect_uri = format!("http://127.0.0.1:{port}{CALLBACK_PATH}");
        let client = BasicClient::new(ClientId::new(cfg.client_id.clone()))
            .set_auth_uri(auth_url(cfg)?)
            .set_redirect_uri(
                RedirectUrl::new(redirect_uri.clone())
                    .map_err(|e| super::bad_url("redirect URI", e))?,
            );
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut req = client
            .authorize_url(CsrfToken::new_random)
            .set_pkce_challenge(challenge)
            .add_scopes(cfg.scopes.iter().cloned().map(Scope::new));
        for (k, v) in &cfg.extra_params {
            req = req.add_extra_param(k.clone(), v.clone());
        }
        let (url, state) = req.url();
        Ok(LoopbackFlow {
            listener,
            redirect_uri,
            url: url.to_string(),
            state,
            verifier,
            timeout,
            cancel: Cancel::new(),
        })
    }

    /// Lets `cancel` end the wait for the browser early, with a `cancelled` error and nothing stored.
    pub fn cancelled_by(mut self, cancel: &Cancel) -> LoopbackFlow {
        self.cancel = cancel.clone();
        self
    }

    /// The URL to open in the user's browser.
    pub fn authorize_url(&self) -> &str {
        &self.url
    }

    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Waits for the callback, answers the browser, then exchanges the code. Consumes the flow: the listener
    /// closes whatever happens.
    pub fn finish(self, cfg: &OAuthConfig) -> Result<Tokens> {
        let cb = wait_for_callback(
            &self.listener,
            self.state.secret(),
            self.timeout,
            &self.cancel,
        )?;
        drop(self.listener);
        exchange_code(cfg, &self.redirect_uri, &cb.code, self.verifier)
    }
}

/// The longest one connection may take to deliver its request: a browser sends its request at once, so a
/// connection still incomplete after this is a stall (a byte every few seconds) or an idle pre-connection.
const CONNECTION_DEADLINE: Duration = Duration::from_secs(5);
/// How often the wait looks at its connections, the listener and Cancel.
const TICK: Duration = Duration::from_millis(20);
/// The most connections held open at once: beyond it the oldest is dropped, so a flood cannot grow memory.
const MAX_OPEN: usize = 16;

/// One accepted connection, read without blocking until its request is whole or its deadline passes.
struct Pending {
    stream: TcpStream,
    buf: Vec<u8>,
    deadline: Instant,
}

/// What a whole request asked for.
enum Request {
    /// The callback with this flow's state: its verdict ends the wait.
    Answer(Result<Callback>),
    /// Anything else (another path, a missing or foreign state): answered, and the wait goes on.
    Ignored { foreign_state: bool },
}

/// Waits for the browser's callback with this flow's `state`, or until the time is up or `cancel` is set.
///
/// No connection can hold the wait up: connections are read without blocking, side by side, each with a
/// deadline of [`CONNECTION_DEADLINE`] (within the flow's own), so a silent pre-connection or a client that
/// trickles bytes is dropped while the real callback is served. A request with a missing or foreign state
/// is answered 400 and the wait goes on: only the browser that started this flow can end it, and a page
/// that guesses the port cannot. Cancel is checked on every tick, whatever is open.
fn wait_for_callback(
    listener: &TcpListener,
    state: &str,
    timeout: Duration,
    cancel: &Cancel,
) -> Result<Callback> {
    wait_with(listener, state, timeout, cancel, CONNECTION_DEADLINE)
}

/// [`wait_for_callback`] with each connection's deadline given (tests hold connections open for good, to
/// show that one never waits for another).
fn wait_with(
    listener: &TcpListener,
    state: &str,
    timeout: Duration,
    cancel: &Cancel,
    per_connection: Duration,
) -> Result<Callback> {
    listener.set_nonblocking(true)?;
    let deadline = Instant::now()
        .checked_add(timeout)
        .ok_or_else(timeout_too_long)?;
    let mut open: Vec<Pending> = Vec::new();
    let mut refused_foreign = false;
    loop {
        if cancel.is_cancelled() {
            return Err(Error::new(
                ErrorCode::Cancelled,
                "connecting was cancelled; nothing was saved",
            ));
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(if refused_foreign {
                Error::new(
                    ErrorCode::OauthStateMismatch,
                    "the sign-in answer that came back does not belong to this attempt (its state does not match), and the right one never came; nothing was saved. Start connecting again",
                )
            } else {
                Error::new(
                    ErrorCode::Timeout,
                    format!(
                        "no answer from the browser within {} seconds; start connecting again",
                        timeout.as_secs()
                    ),
                )
            });
        }
        loop {
            match listener.accept() {
                Ok((stream, _)) => {
                    if stream.set_nonblocking(true).is_err() {
                        continue;
                    }
                    if open.len() >= MAX_OPEN {
                        open.remove(0);
                    }
                    open.push(Pending {
                        stream,
                        buf: Vec::new(),
                        deadline: now
                            .checked_add(per_connection)
                            .unwrap_or(deadline)
                            .min(deadline),
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
        }
        let mut i = 0;
        while i < open.len() {
            match advance(&mut open[i], state, now) {
                None => i += 1,
                Some(done) => {
                    let mut conn = open.swap_remove(i);
                    match done {
                        Some(Request::Answer(result)) => {
                            let (status, body) = match &result {
                                Ok(_) => ("200 OK", DONE_PAGE.to_string()),
                                Err(e) => ("400 Bad Request", failed_page(&e.message)),
                            };
                            respond(&mut conn.stream, status, &body);
                            return result;
                        }
                        Some(Request::Ignored { foreign_state }) => {
                            refused_foreign |= foreign_state;
                        }
                        // Dropped: timed out, closed, or too large.
                        None => {}
                    }
                }
            }
        }
        std::thread::sleep(TICK);
    }
}

/// Reads what `conn` has sent. `None` while its request is still coming; `Some(None)` when it is dropped
/// (deadline passed, closed early, too large); `Some(Some(request))` once it is whole, answered unless it
/// is this flow's callback (which the caller answers).
fn advance(conn: &mut Pending, state: &str, now: Instant) -> Option<Option<Request>> {
    let mut chunk = [0u8; 2048];
    loop {
        match conn.stream.read(&mut chunk) {
            Ok(0) => return Some(None),
            Ok(n) => {
                conn.buf.extend_from_slice(&chunk[..n]);
                if conn.buf.len() > MAX_REQUEST {
                    respond(
                        &mut conn.stream,
                        "431 Request Header Fields Too Large",
                        "too large",
                    );
                    return Some(None);
                }
                if conn.buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    return Some(Some(request(conn, state)));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return Some(None),
        }
    }
    (now >= conn.deadline).then_some(None)
}

/// What a whole request asks for; answers it unless it is this flow's callback.
fn request(conn: &mut Pending, state: &str) -> Request {
    let head = String::from_utf8_lossy(&conn.buf);
    let target = head
        .lines()
        .next()
        .and_then(|l| {
            let mut parts = l.split(' ');
            (parts.next() == Some("GET")).then(|| parts.next())?
        })
        .unwrap_or("");
    let url = url::Url::parse(&format!("http://127.0.0.1{target}")).ok();
    let Some(url) = url.filter(|u| u.path() == CALLBACK_PATH) else {
        respond(&mut conn.stream, "404 Not Found", "not here");
        return Request::Ignored {
            foreign_state: false,
        };
    };
    let param = |k: &str| {
        url.query_pairs()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.into_owned())
    };
    let result = check(
        param("state").as_deref(),
        param("error").as_deref(),
        param("error_description").as_deref(),
        param("code"),
        state,
    );
    match result {
        Err(e) if e.code == ErrorCode::OauthStateMismatch => {
            respond(
                &mut conn.stream,
                "400 Bad Request",
                &failed_page(&e.message),
            );
            Request::Ignored {
                foreign_state: true,
            }
        }
        other => Request::Answer(other),
    }
}

/// The callback's verdict. The state is checked first: an error or a code from a request this flow did not
/// start means nothing (RFC 6749 §10.12).
fn check(
    got_state: Option<&str>,
    error: Option<&str>,
    error_description: Option<&str>,
    code: Option<String>,
    state: &str,
) -> Result<Callback> {
    if !constant_time_eq(got_state.unwrap_or("").as_bytes(), state.as_bytes()) {
        return Err(Error::new(
            ErrorCode::OauthStateMismatch,
            "the sign-in answer does not belong to this attempt (its state does not match); nothing was saved. Start connecting again",
        ));
    }
    if let Some(err) = error {
        let detail = error_description
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        return Err(if err == "access_denied" {
            Error::new(
                ErrorCode::AccessDenied,
                format!("access was denied{detail}; nothing was saved"),
            )
        } else {
            Error::new(
                ErrorCode::OauthFailed,
                format!("the provider refused the sign-in: {err}{detail}; nothing was saved"),
            )
        });
    }
    match code.filter(|c| !c.is_empty()) {
        Some(code) => Ok(Callback { code }),
        None => Err(Error::new(
            ErrorCode::OauthFailed,
            "the sign-in answer carried no authorization code; nothing was saved. Start connecting again",
        )),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn respond(stream: &mut TcpStream, status: &str, body: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_is_checked_before_anything_else() {
        let e = check(
            Some("other"),
            Some("access_denied"),
            None,
            Some("c".into()),
            "mine",
        )
        .expect_err("a foreign state must be refused");
        assert_eq!(
            e.code,
            ErrorCode::OauthStateMismatch,
            "an answer to another attempt is refused before its error or code is read"
        );
        let ok = check(Some("mine"), None, None, Some("c".into()), "mine")
            .expect("the right state with a code is accepted");
        assert_eq!(ok.code, "c", "the code is passed on");
    }

    /// A listener on a free loopback port, and the base URL of its callback.
    fn listener() -> (TcpListener, String) {
        let l = TcpListener::bind(("127.0.0.1", 0)).expect("a loopback port");
        let port = l.local_addr().expect("an address").port();
        (l, format!("127.0.0.1:{port}"))
    }

    /// A browser's callback request; what the listener answered (its status line) comes back.
    fn callback(addr: &str, query: &str) -> std::thread::JoinHandle<String> {
        let (addr, query) = (addr.to_string(), query.to_string());
        std::thread::spawn(move || {
            let mut s = TcpStream::connect(&addr).expect("the listener accepts");
            write!(s, "GET /callback?{query} HTTP/1.1\r\nHost: {addr}\r\n\r\n").expect("sent");
            let mut answer = String::new();
            let _ = s.read_to_string(&mut answer);
            answer.lines().next().unwrap_or_default().to_string()
        })
    }

    #[test]
    fn a_client_that_trickles_bytes_cannot_hold_up_the_real_callback() {
        let (l, addr) = listener();
        let stop = Arc::new(AtomicBool::new(false));
        let (a2, stop2) = (addr.clone(), stop.clone());
        // A byte every two seconds: it never completes a request, and never stops on its own.
        let slow = std::thread::spawn(move || {
            let mut s = TcpStream::connect(&a2).expect("the listener accepts");
            let mut dropped = false;
            for b in b"GET /callback?state=mine&code=evil".iter().cycle() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                if s.write_all(&[*b]).is_err() {
                    dropped = true;
                    break;
                }
                std::thread::sleep(Duration::from_secs(2));
            }
            dropped
        });
        std::thread::sleep(Duration::from_millis(300));
        let real = callback(&addr, "state=mine&code=good");
        let got = wait_with(&l, "mine", Duration::from_secs(60), &Cancel::new(), FOREVER)
            .expect("the real callback is served while the slow client trickles");
        assert_eq!(
            got.code, "good",
            "the code is the real callback's, not the slow client's"
        );
        assert!(
            real.join().expect("the browser thread").contains("200"),
            "the browser gets the success page"
        );
        drop(l);
        stop.store(true, Ordering::SeqCst);
        let _ = slow.join();
    }

    #[test]
    fn a_silent_pre_connection_is_dropped_and_does_not_delay_the_callback() {
        let (l, addr) = listener();
        // Browsers open a spare connection ahead of time and may send nothing on it.
        let idle = TcpStream::connect(&addr).expect("the listener accepts");
        let real = callback(&addr, "state=mine&code=good");
        // The idle connection is never dropped here: the callback must be served beside it.
        let got = wait_with(&l, "mine", Duration::from_secs(60), &Cancel::new(), FOREVER)
            .expect("the callback is served beside the idle connection");
        assert_eq!(got.code, "good", "the callback's code");
        assert!(
            real.join().expect("browser").contains("200"),
            "answered 200"
        );
        drop(idle);
    }

    /// A connection deadline longer than any test.
    const FOREVER: Duration = Duration::from_secs(3600);

    #[test]
    fn an_idle_connection_is_closed_after_its_deadline() {
        let (l, addr) = listener();
        let mut idle = TcpStream::connect(&addr).expect("the listener accepts");
        idle.set_read_timeout(Some(Duration::from_secs(30)))
            .expect("a read timeout");
        let waiter = std::thread::spawn(move || {
            wait_for_callback(&l, "mine", Duration::from_secs(20), &Cancel::new())
        });
        let mut buf = [0u8; 1];
        let n = loop {
            match idle.read(&mut buf) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        }
        .expect("the listener closes the connection, not the read timeout");
        assert_eq!(
            n, 0,
            "an idle connection is closed by the listener once its deadline passes"
        );
        // The wait itself goes on: the real callback still ends it.
        let real = callback(&addr, "state=mine&code=late");
        let got = waiter
            .join()
            .expect("the wait")
            .expect("the callback after the idle one");
        assert_eq!(got.code, "late", "the flow still takes its callback");
        assert!(
            real.join().expect("browser").contains("200"),
            "answered 200"
        );
    }

    #[test]
    fn a_foreign_state_is_answered_400_and_the_real_callback_still_connects() {
        let (l, addr) = listener();
        let waiter = std::thread::spawn(move || {
            wait_for_callback(&l, "mine", Duration::from_secs(60), &Cancel::new())
        });
        let forged = callback(&addr, "state=guessed&code=evil");
        let missing = callback(&addr, "code=evil");
        assert!(
            forged.join().expect("forger").contains("400"),
            "a foreign state gets 400"
        );
        assert!(
            missing.join().expect("forger").contains("400"),
            "a missing state gets 400"
        );
        // Both forgeries were answered; the flow still waits for its own callback.
        let real = callback(&addr, "state=mine&code=good");
        let got = waiter
            .join()
            .expect("the wait")
            .expect("the real callback connects after the forgeries");
        assert_eq!(got.code, "good", "the right state's code, not a forged one");
        assert!(
            real.join().expect("browser").contains("200"),
            "answered 200"
        );
    }

    #[test]
    fn only_foreign_states_until_the_timeout_is_a_state_mismatch() {
        let (l, addr) = listener();
        let forged = callback(&addr, "state=guessed&code=evil");
        let e = wait_for_callback(&l, "mine", Duration::from_secs(2), &Cancel::new())
            .expect_err("no right callback came");
        assert_eq!(
            e.code,
            ErrorCode::OauthStateMismatch,
            "the user learns that an answer came but did not belong to this attempt: {e:?}"
        );
        assert!(
            forged.join().expect("forger").contains("400"),
            "the forgery got 400"
        );
    }

    #[test]
    fn cancel_ends_the_wait_while_a_connection_is_open() {
        let (l, addr) = listener();
        let idle = TcpStream::connect(&addr).expect("the listener accepts");
        let cancel = Cancel::new();
        let stopper = cancel.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            stopper.cancel();
        });
        // The open connection is never dropped here: Cancel must be seen while it is open.
        let e = wait_with(&l, "mine", Duration::from_secs(60), &cancel, FOREVER)
            .expect_err("a cancelled flow ends");
        assert_eq!(
            e.code,
            ErrorCode::Cancelled,
            "Cancel works while a connection is held open: {e:?}"
        );
        drop(idle);
    }

    #[test]
    fn a_cancelled_wait_ends_at_once_with_cancelled() {
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("a loopback port");
        let cancel = Cancel::new();
        let stopper = cancel.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            stopper.cancel();
        });
        let e = wait_for_callback(&listener, "mine", Duration::from_secs(30), &cancel)
            .expect_err("a cancelled flow must not wait out its 30 seconds");
        assert_eq!(
            e.code,
            ErrorCode::Cancelled,
            "the user's cancel is its own error, not a timeout: {e:?}"
        );
    }
}
