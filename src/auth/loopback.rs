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

/// Accepts connections until one is a request for the callback path or the time is up. Returns the code when
/// the callback is a success with the right state.
fn wait_for_callback(
    listener: &TcpListener,
    state: &str,
    timeout: Duration,
    cancel: &Cancel,
) -> Result<Callback> {
    listener.set_nonblocking(true)?;
    let deadline = Instant::now()
        .checked_add(timeout)
        .ok_or_else(timeout_too_long)?;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                if let Some(result) = handle(stream, state, deadline) {
                    return result;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if cancel.is_cancelled() {
                    return Err(Error::new(
                        ErrorCode::Cancelled,
                        "connecting was cancelled; nothing was saved",
                    ));
                }
                if Instant::now() >= deadline {
                    return Err(Error::new(
                        ErrorCode::Timeout,
                        format!(
                            "no answer from the browser within {} seconds; start connecting again",
                            timeout.as_secs()
                        ),
                    ));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Reads one request. `None` when it was not the callback (the listener keeps waiting).
fn handle(mut stream: TcpStream, state: &str, deadline: Instant) -> Option<Result<Callback>> {
    let _ = stream.set_nonblocking(false);
    let left = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(100));
    let _ = stream.set_read_timeout(Some(left.min(Duration::from_secs(10))));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 2048];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < MAX_REQUEST {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let head = String::from_utf8_lossy(&buf);
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
        respond(&mut stream, "404 Not Found", "not here");
        return None;
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
    match &result {
        Ok(_) => respond(&mut stream, "200 OK", DONE_PAGE),
        Err(e) => respond(&mut stream, "400 Bad Request", &failed_page(&e.message)),
    }
    Some(result)
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
