//! OAuth 2.0 for desktop apps: the authorization code flow with PKCE on a loopback redirect (RFC 8252),
//! token refresh, and the one HTTP client every provider call uses.
//!
//! Concepts and invariants:
//! - [`LoopbackFlow`] binds `127.0.0.1` on a port the OS picks and redirects to
//!   `http://127.0.0.1:PORT/callback`: the literal address, not `localhost` (RFC 8252 §7.3, §8.3). PKCE uses
//!   S256 (RFC 7636 §4.2), and the `state` is checked on the callback (RFC 6749 §10.12).
//! - The listener answers exactly one callback with this flow's state and then closes, so a second request
//!   (a reload, a replay) is refused by the OS rather than starting a second exchange. Requests for other
//!   paths (a favicon) get a 404, and callbacks with a missing or foreign state a 400; neither uses it up,
//!   so a page that guesses the port can neither end nor forge the sign-in. Connections are served side by
//!   side, each with a deadline of a few seconds, so none (a stalled or silent one) holds the wait up, and
//!   Cancel is seen at once. It gives up after [`LoopbackFlow::DEFAULT_TIMEOUT`] unless told otherwise.
//! - Each failure (only foreign states until the timeout, `error=access_denied`, no code, a timeout) is a
//!   typed [`Error`] and returns before any token exists, so nothing can be stored.
//! - The token request never follows a redirect ([`http_client`] has redirects off): a redirected token
//!   request would send the code and secret to wherever it pointed.
//! - Tokens come back as [`SecretString`]s. A provider may rotate the refresh token on any refresh; callers
//!   store the new one every time [`Tokens::refresh`] is `Some`.

mod loopback;

pub use loopback::{Callback, Cancel, LoopbackFlow};

use crate::error::{Error, ErrorCode, Result};
use crate::secrets::SecretString;
use oauth2::basic::{
    BasicErrorResponseType, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenResponse,
};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, EndpointNotSet, EndpointSet,
    ErrorResponse, HttpRequest, HttpResponse, PkceCodeVerifier, RedirectUrl, RefreshToken,
    RequestTokenError, StandardRevocableToken, TokenResponse, TokenUrl,
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

/// A token endpoint's error answer (RFC 6749 §5.2), with the numeric `error_codes` that the Microsoft
/// identity platform adds (its AADSTS numbers), which say more reliably than the text why it refused.
#[derive(Clone, Debug, serde::Deserialize, serde::Serialize)]
pub struct TokenErrorResponse {
    error: BasicErrorResponseType,
    #[serde(default)]
    error_description: Option<String>,
    #[serde(default)]
    error_codes: Vec<u64>,
}

impl std::fmt::Display for TokenErrorResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.error.as_ref())
    }
}

impl ErrorResponse for TokenErrorResponse {}

/// The OAuth client type every token request uses: the basic one, with [`TokenErrorResponse`].
type TokenClient<HasTokenUrl = EndpointSet> = oauth2::Client<
    TokenErrorResponse,
    BasicTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    HasTokenUrl,
>;

/// AADSTS codes that mean the grant is gone or needs the user again: an expired or revoked refresh token
/// (70008, 700082, 50173), consent withdrawn (65001), multi-factor or a sign-in required (50076, 50078,
/// 50079), and an expired session (70043).
const RECONNECT_CODES: &[u64] = &[70008, 700082, 50173, 65001, 50076, 50078, 50079, 70043];

/// Why a token request failed, as an [`Error`]: `invalid_grant`, `interaction_required` and the AADSTS
/// codes of [`RECONNECT_CODES`] are `needs_reconnect`.
fn token_error(e: RequestTokenError<HttpError, TokenErrorResponse>) -> Error {
    match e {
        RequestTokenError::ServerResponse(r) => {
            let desc = r.error_description.clone().unwrap_or_default();
            let name = r.error.as_ref();
            let reconnect = matches!(r.error, BasicErrorResponseType::InvalidGrant)
                || name == "interaction_required"
                || r.error_codes.iter().any(|c| RECONNECT_CODES.contains(c));
            let detail = if desc.is_empty() {
                String::new()
            } else {
                format!(": {desc}")
            };
            if reconnect {
                Error::new(
                    ErrorCode::NeedsReconnect,
                    format!("the account's authorization was revoked or has expired, or the provider needs you to sign in again ({name}{detail}); connect it again"),
                )
            } else {
                Error::new(
                    ErrorCode::OauthFailed,
                    format!(
                        "the token endpoint refused the request: {name}{}",
                        if desc.is_empty() {
                            String::new()
                        } else {
                            format!(" ({desc})")
                        }
                    ),
                )
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

fn tokens_of(r: &BasicTokenResponse) -> Tokens {
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
    let client = TokenClient::<EndpointNotSet>::new(ClientId::new(cfg.client_id.clone()))
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
    let client = TokenClient::<EndpointNotSet>::new(ClientId::new(cfg.client_id.clone()))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(body: &str) -> Error {
        let r: TokenErrorResponse = serde_json::from_str(body).expect("an RFC 6749 error body");
        token_error(RequestTokenError::<HttpError, _>::ServerResponse(r))
    }

    #[test]
    fn a_lost_grant_is_needs_reconnect_by_its_error_or_its_aadsts_code() {
        for body in [
            r#"{"error":"invalid_grant","error_description":"Token has been expired or revoked."}"#,
            r#"{"error":"interaction_required","error_description":"AADSTS50076: MFA required","error_codes":[50076]}"#,
            // Microsoft's numbers decide even when the error name is a general one.
            r#"{"error":"invalid_request","error_description":"AADSTS70043: expired","error_codes":[70043]}"#,
            r#"{"error":"invalid_client","error_codes":[65001]}"#,
        ] {
            assert_eq!(
                refused(body).code,
                ErrorCode::NeedsReconnect,
                "{body}: the grant is gone or needs the user, so the account must be connected again"
            );
        }
    }

    #[test]
    fn other_refusals_are_oauth_failures_that_name_the_error() {
        let e = refused(
            r#"{"error":"invalid_client","error_description":"bad secret","error_codes":[7000215]}"#,
        );
        assert_eq!(
            e.code,
            ErrorCode::OauthFailed,
            "a wrong client is not the account's grant: reconnecting with it would fail the same way"
        );
        assert!(
            e.message.contains("invalid_client") && e.message.contains("bad secret"),
            "the message says what the endpoint said: {}",
            e.message
        );
    }
}
