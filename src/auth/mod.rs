//! OAuth 2.0 for desktop apps: the authorization code flow with PKCE on a loopback redirect (RFC 8252),
//! token refresh, and the one HTTP client every provider call uses.
//!
//! Concepts and invariants:
//! - [`LoopbackFlow`] binds `127.0.0.1` on a port the OS picks and redirects to
//!   `http://127.0.0.1:PORT/callback`: the literal address, not `localhost` (RFC 8252 §7.3, §8.3). PKCE uses
//!   S256 (RFC 7636 §4.2), and the `state` is checked on the callback (RFC 6749 §10.12).
//! - The listener answers exactly one callback and then closes, so a second request (a reload, a replay) is
//!   refused by the OS rather than starting a second exchange. Requests for other paths (a favicon) get a 404
//!   and do not use it up. It gives up after [`LoopbackFlow::DEFAULT_TIMEOUT`] unless told otherwise.
//! - Each failure (a wrong state, `error=access_denied`, no code, a timeout) is a typed [`Error`] and
//!   returns before any token exists, so nothing can be stored.
//! - The token request never follows a redirect ([`http_client`] has redirects off): a redirected token
//!   request would send the code and secret to wherever it pointed.
//! - Tokens come back as [`SecretString`]s. A provider may rotate the refresh token on any refresh; callers
//!   store the new one every time [`Tokens::refresh`] is `Some`.

mod loopback;

pub use loopback::{Callback, Cancel, LoopbackFlow};

use crate::error::{Error, ErrorCode, Result};
use crate::secrets::SecretString;
use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, HttpRequest, HttpResponse,
    PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, TokenResponse, TokenUrl,
};
use std::sync::Once;
use std::time::Duration;

/// How long one HTTP request may take, connect to last byte.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// An OAuth client's endpoints and credentials.
#[derive(Clone, Debug)]
pub struct OAuthConfig {
    pub auth_url: String,
    pub token_url: String,
    pub client_id: String,
    /// Google's desktop clients have one that is not really secret; it is still never logged.
    pub client_secret: Option<SecretString>,
    pub scopes: Vec<String>,
    /// Extra authorization parameters (Google: `access_type=offline`, `prompt=consent`).
    pub extra_params: Vec<(String, String)>,
}

/// What a token endpoint returned.
#[derive(Clone, Debug)]
pub struct Tokens {
    pub access: SecretString,
    /// A new refresh token, when the server sent one (always on a code exchange; on a refresh when it rotates).
    pub refresh: Option<SecretString>,
    pub expires_in: Option<Duration>,
}

/// Installs ring as the process's rustls provider, once. Any reqwest client in the process needs it first.
pub fn install_tls_provider() {
    static PROVIDER: Once = Once::new();
    // A second install (the shell's plugins may have done it) is refused, which is fine: one provider is set.
    PROVIDER.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The HTTP client for token and API requests: rustls with ring, no redirects, bounded time. One per
/// process (a clone shares its connection pool and runtime thread; building one costs a thread start).
pub fn http_client() -> Result<reqwest::blocking::Client> {
    static CLIENT: std::sync::OnceLock<std::result::Result<reqwest::blocking::Client, String>> =
        std::sync::OnceLock::new();
    install_tls_provider();
    CLIENT
        .get_or_init(|| {
            reqwest::blocking::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(HTTP_TIMEOUT)
                .connect_timeout(Duration::from_secs(10))
                .user_agent(concat!("punctual/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|e| {
            Error::new(
                ErrorCode::Internal,
                format!("cannot build the HTTP client: {e}"),
            )
        })
}

/// A transport failure, for oauth2's client trait. Its message never holds a body or a token.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{0}")]
    Failed(String),
    /// The answer's body is over the cap ([`crate::limits::MAX_RESPONSE_BYTES`]).
    #[error("the answer is larger than the {} limit", crate::limits::describe(*.limit))]
    TooLarge { limit: u64 },
}

/// Reads an answer's body, at most `limit` bytes of it: a declared length over the cap is refused before a
/// byte is read, and a body without one (chunked) is cut one byte past the cap.
pub fn read_body(resp: reqwest::blocking::Response, limit: u64) -> Result<Vec<u8>, HttpError> {
    if resp.content_length().is_some_and(|n| n > limit) {
        return Err(HttpError::TooLarge { limit });
    }
    crate::limits::read_capped(resp, limit).map_err(|e| match e {
        crate::limits::CappedReadError::TooLarge { limit } => HttpError::TooLarge { limit },
        // reqwest's reader wraps its own error in io::Error: the cause is a cut or timed-out answer.
        crate::limits::CappedReadError::Io(e) => {
            HttpError::Failed(format!("the answer was cut short: {e}"))
        }
    })
}

/// Sends one oauth2 request through reqwest.
fn send(client: &reqwest::blocking::Client, req: HttpRequest) -> Result<HttpResponse, HttpError> {
    let (parts, body) = req.into_parts();
    let mut rb = client
        .request(parts.method, parts.uri.to_string())
        .body(body);
    for (name, value) in &parts.headers {
        rb = rb.header(name, value);
    }
    let resp = rb.send().map_err(|e| HttpError::Failed(net_message(&e)))?;
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = read_body(resp, crate::limits::MAX_RESPONSE_BYTES)?;
    let mut out = http::Response::builder().status(status);
    for (name, value) in &headers {
        out = out.header(name, value);
    }
    out.body(bytes)
        .map_err(|e| HttpError::Failed(format!("bad response: {e}")))
}

/// A reqwest error without its URL, which may carry a code in the query.
pub fn net_message(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the answer was cut short or garbled"
    } else {
        "the request failed"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        what.to_string()
    } else {
        format!("{what}: {detail}")
    }
}

fn bad_url(what: &str, e: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorCode::InvalidInput,
        format!("the {what} is not a URL: {e}"),
    )
}

/// Why a token request failed, as an [`Error`]: `invalid_grant` is `needs_reconnect`.
fn token_error(e: RequestTokenError<HttpError, oauth2::basic::BasicErrorResponse>) -> Error {
    match e {
        RequestTokenError::ServerResponse(r) => {
            let desc = r.error_description().cloned().unwrap_or_default();
            match r.error() {
                BasicErrorResponseType::InvalidGrant => Error::new(
                    ErrorCode::NeedsReconnect,
                    format!("the account's authorization was revoked or has expired (invalid_grant{}); connect it again", if desc.is_empty() { String::new() } else { format!(": {desc}") }),
                ),
                other => Error::new(
                    ErrorCode::OauthFailed,
                    format!("the token endpoint refused the request: {}{}", other.as_ref(), if desc.is_empty() { String::new() } else { format!(" ({desc})") }),
                ),
            }
        }
        RequestTokenError::Request(HttpError::TooLarge { limit }) => {
            crate::limits::too_large(None, "the token endpoint's answer", limit)
        }
        RequestTokenError::Request(e) => Error::new(
            ErrorCode::Network,
            format!("cannot reach the token endpoint: {e}"),
        ),
        RequestTokenError::Parse(e, _) => Error::new(
            ErrorCode::OauthFailed,
            format!("the token endpoint's answer is not a token response: {e}"),
        ),
        RequestTokenError::Other(e) => Error::new(
            ErrorCode::OauthFailed,
            format!("the token endpoint answered unexpectedly: {e}"),
        ),
    }
}

fn tokens_of(r: &oauth2::basic::BasicTokenResponse) -> Tokens {
    Tokens {
        access: SecretString::new(r.access_token().secret().clone()),
        refresh: r
            .refresh_token()
            .map(|t| SecretString::new(t.secret().clone())),
        expires_in: r.expires_in(),
    }
}

/// Exchanges an authorization code (with its PKCE verifier) for tokens.
pub fn exchange_code(
    cfg: &OAuthConfig,
    redirect_uri: &str,
    code: &str,
    verifier: PkceCodeVerifier,
) -> Result<Tokens> {
    let client = BasicClient::new(ClientId::new(cfg.client_id.clone()))
        .set_auth_type(AuthType::RequestBody)
        .set_token_uri(TokenUrl::new(cfg.token_url.clone()).map_err(|e| bad_url("token URL", e))?)
        .set_redirect_uri(
            RedirectUrl::new(redirect_uri.to_string()).map_err(|e| bad_url("redirect URI", e))?,
        );
    let client = match &cfg.client_secret {
        Some(s) => client.set_client_secret(ClientSecret::new(s.expose().to_string())),
        None => client,
    };
    let http = http_client()?;
    let resp = client
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .set_pkce_verifier(verifier)
        .request(&|r| send(&http, r))
        .map_err(token_error)?;
    let tokens = tokens_of(&resp);
    if tokens.refresh.is_none() {
        return Err(Error::new(
            ErrorCode::OauthFailed,
            "the provider sent no refresh token, so Punctual could not stay connected; remove its access in your account's security settings and connect again",
        ));
    }
    Ok(tokens)
}

/// Gets a new access token with a refresh token. `refresh` in the answer is the rotated token, if any.
pub fn refresh(cfg: &OAuthConfig, refresh_token: &SecretString) -> Result<Tokens> {
    let client = BasicClient::new(ClientId::new(cfg.client_id.clone()))
        .set_auth_type(AuthType::RequestBody)
        .set_token_uri(TokenUrl::new(cfg.token_url.clone()).map_err(|e| bad_url("token URL", e))?);
    let client = match &cfg.client_secret {
        Some(s) => client.set_client_secret(ClientSecret::new(s.expose().to_string())),
        None => client,
    };
    let http = http_client()?;
    let rt = RefreshToken::new(refresh_token.expose().to_string());
    let resp = client
        .exchange_refresh_token(&rt)
        .request(&|r| send(&http, r))
        .map_err(token_error)?;
    Ok(tokens_of(&resp))
}

/// Checks that the authorize URL is a URL, before a browser is opened on it.
fn auth_url(cfg: &OAuthConfig) -> Result<AuthUrl> {
    AuthUrl::new(cfg.auth_url.clone()).map_err(|e| bad_url("authorization URL", e))
}
