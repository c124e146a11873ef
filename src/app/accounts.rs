//! Accounts through the app: connect (browser flow or an existing refresh token), list connections, pick
//! calendars, sync, the provider's word on a join plan, and disconnect.
//!
//! Invariants:
//! - A connect writes nothing until the provider has answered with the account's calendars: a failed or
//!   refused sign-in leaves no connection and no secret. Secrets are written before the row and removed
//!   again if the row cannot be written, so a row never points at missing tokens on purpose.
//! - A connection remembers its OAuth client id (in `metadata`, not secret) and its client secret (in the
//!   keychain), so `punctual sync` works without the flags the connect used.
//! - After a sync that ends in `needs_reconnect`, the connection's open join plans are cancelled, and
//!   planning skips its events until it is connected again.

use super::App;
use crate::auth::{self, Cancel, LoopbackFlow, OAuthConfig, Tokens};
use crate::error::{Error, ErrorCode, Result};
use crate::join::{self, JoinPlan, JoinStatus};
use crate::model::{stamp, Connection, ConnectionState, Provider};
use crate::providers::{
    CalendarProvider, CalendarRef, ProviderError, ProviderSetup, ProviderSpec, Registry,
};
use crate::secrets::{access_key, refresh_key, SecretString, Secrets};
use crate::store::RemoteChange;
use crate::sync::{Calls, Engine, Progress, SyncReport, TokenSource};
use std::time::Duration;

/// What a connect names beyond the provider: an OAuth client of its own (the MeetStream and Attendee
/// contracts send one with each call), a tenant, and how the account signs in.
pub struct ConnectRequest<'a> {
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
    /// Microsoft's directory: `common`, `organizations`, `consumers` or a tenant id.
    pub tenant: Option<String>,
    pub sign_in: SignIn<'a>,
}

/// How a connect gets its first tokens.
pub enum SignIn<'a> {
    /// The browser flow: `open` gets the authorization URL (the CLI prints it and opens the browser); the
    /// flow waits up to `timeout` for the redirect, and `cancel` stops it (the desktop's Cancel button).
    Browser {
        open: &'a dyn Fn(&str) -> std::result::Result<(), String>,
        timeout: Duration,
        cancel: Cancel,
    },
    /// A refresh token the user already has.
    RefreshToken(SecretString),
}

impl<'a> ConnectRequest<'a> {
    /// A request with nothing but its sign-in: the configured client and the default tenant.
    pub fn new(sign_in: SignIn<'a>) -> ConnectRequest<'a> {
        ConnectRequest {
            client_id: None,
            client_secret: None,
            tenant: None,
            sign_in,
        }
    }
}

/// The settings key of how often accounts sync, in minutes (default [`DEFAULT_SYNC_MINUTES`]).
pub const SYNC_INTERVAL_SETTING: &str = "sync_interval_minutes";
pub const DEFAULT_SYNC_MINUTES: i64 = 5;

/// Held while a connection's secrets are checked and written (a token refresh's write-back) or removed
/// (disconnect), so the two never interleave in this process.
static SECRETS_GATE: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// One sync at a time per connection in this process. Two at once (the desktop's timer and "Sync now")
/// would each run a full fetch's mark-and-sweep on the same calendar: the second's first page forgets the
/// first's marks, and the first's sweep then removes events the server still has. The later sync waits,
/// then goes on from the cursor the first one saved.
type SyncGates = std::collections::BTreeMap<String, std::sync::Arc<std::sync::Mutex<()>>>;
static SYNC_GATES: std::sync::Mutex<SyncGates> = std::sync::Mutex::new(SyncGates::new());

/// The gate of one connection's syncs (see [`SYNC_GATES`]).
fn sync_gate(connection_id: &str) -> std::sync::Arc<std::sync::Mutex<()>> {
    // A panic while holding the map leaves it whole: an entry is inserted or not.
    let mut gates = SYNC_GATES.lock().unwrap_or_else(|p| p.into_inner());
    gates.entry(connection_id.to_string()).or_default().clone()
}

/// What a disconnect did beyond removing the account here.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Disconnected {
    pub id: String,
    /// Whether the provider revoked the account's grant (false where it has no revocation endpoint).
    pub revoked: bool,
    /// Why the provider could not be told, when it could not: the local removal went on regardless.
    pub revoke_error: Option<String>,
}

/// The keychain entry listing every connection id Punctual has filed secrets under: the keychain cannot be
/// listed, so this is how [`App::tidy_secrets`] finds entries whose connection is gone. An id is added
/// before its secrets are written, so a crash between the two leaves nothing unlisted.
const SECRET_INDEX_KEY: &str = "index/connections";

/// What [`App::tidy_secrets`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TidyReport {
    /// Connections whose keychain entries were removed because the connection is gone.
    pub removed: Vec<String>,
    /// Whether an OAuth client secret an older version kept in SQLite moved to the keychain.
    pub moved_client_secret: bool,
}

fn client_secret_key(connection_id: &str) -> String {
    format!("{connection_id}/client_secret")
}

/// A connection's tokens in the keychain, refreshed through its OAuth client.
pub(super) struct KeychainTokens<'a> {
    secrets: &'a dyn Secrets,
    connection_id: &'a str,
    oauth: OAuthConfig,
}

impl TokenSource for KeychainTokens<'_> {
    fn access(&self) -> Result<SecretString> {
        match self.secrets.get(&access_key(self.connection_id))? {
            Some(t) => Ok(t),
            None => self.refresh(),
        }
    }

    fn refresh(&self) -> Result<SecretString> {
        let rt = self
            .secrets
            .get(&refresh_key(self.connection_id))?
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::NeedsReconnect,
                    "the keychain holds no refresh token for this account; connect it again",
                )
            })?;
        let tokens = auth::refresh(&self.oauth, &rt).inspect_err(|e| {
            tracing::warn!(
                connection = self.connection_id,
                code = e.code.as_str(),
                "token refresh failed"
            )
        })?;
        tracing::info!(
            connection = self.connection_id,
            rotated = tokens.refresh.is_some(),
            "access token refreshed"
        );
        // Written back only if the refresh token is still the one this refresh used, checked and written
        // under one lock with disconnect: a disconnect (or another refresh) meanwhile wins, and no token
        // outlives the account it belonged to.
        let _gate = SECRETS_GATE.lock().unwrap_or_else(|e| e.into_inner());
        let current = self.secrets.get(&refresh_key(self.connection_id))?;
        if current.as_ref().map(SecretString::expose) != Some(rt.expose()) {
            return Err(Error::new(
                ErrorCode::NeedsReconnect,
                "the account was disconnected or signed in again while its token was refreshed",
            ));
        }
        // A rotated refresh token replaces the old one at once: the old one may already be dead.
        if let Some(new) = &tokens.refresh {
            self.secrets.set(&refresh_key(self.connection_id), new)?;
        }
        self.secrets
            .set(&access_key(self.connection_id), &tokens.access)?;
        Ok(tokens.access)
    }
}

fn provider_failure(name: &str, e: ProviderError) -> Error {
    match e {
        ProviderError::Unauthorized => Error::new(
            ErrorCode::OauthFailed,
            format!("{name} refused the new access token"),
        ),
        ProviderError::Network(m) => Error::new(
            ErrorCode::Network,
            format!("{name} could not be reached: {m}"),
        ),
        ProviderError::TooLarge { limit } => {
            crate::limits::too_large(None, &format!("{name}'s calendar list"), limit)
        }
        other => Error::new(
            ErrorCode::Provider,
            format!("{name}'s account or calendar list could not be read: {other}"),
        ),
    }
}

impl App {
    /// Uses another secret store (tests: [`crate::secrets::MemorySecrets`]).
    pub fn with_secrets(mut self, secrets: std::sync::Arc<dyn Secrets>) -> App {
        self.secrets = secrets;
        self
    }

    /// Uses other endpoints or another OAuth client for `provider` than the environment's (tests: a fake).
    pub fn with_provider(mut self, provider: Provider, setup: ProviderSetup) -> App {
        self.providers.set_setup(provider, setup);
        self
    }

    /// The providers this app connects.
    pub fn providers(&self) -> &Registry {
        &self.providers
    }

    /// Uses another retry policy for syncs (tests: no real sleeping).
    pub fn with_backoff(mut self, backoff: crate::sync::Backoff) -> App {
        self.backoff = backoff;
        self
    }

    fn oauth_config(&self, spec: &dyn ProviderSpec, setup: &ProviderSetup) -> Result<OAuthConfig> {
        let name = spec.display_name();
        let slug = spec.slug();
        let client_id = setup.client_id.clone().ok_or_else(|| {
            Error::field(
                ErrorCode::InvalidInput,
                "client_id",
                format!(
                    "no {name} OAuth client id: pass --client-id, set PUNCTUAL_{}_CLIENT_ID, or store one with `punctual config {slug}-client`",
                    slug.to_ascii_uppercase()
                ),
            )
        })?;
        Ok(OAuthConfig {
            auth_url: setup.auth_url.clone(),
            token_url: setup.token_url.clone(),
            client_id,
            client_secret: setup.client_secret.clone(),
            scopes: spec.scopes(),
            extra_params: spec.extra_auth_params(),
        })
    }

    /// The setup a connect of `spec` uses: the request's own client and tenant first, then the app's
    /// (environment or tests), then the client stored in the settings.
    fn request_setup(
        &self,
        spec: &dyn ProviderSpec,
        req: &ConnectRequest<'_>,
    ) -> Result<ProviderSetup> {
        let mut setup = self.providers.setup(spec.provider());
        if let Some(id) = req
            .client_id
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            // A secret belongs to one client: another client's would be sent with this id.
            if setup.client_id.as_deref() != Some(id) {
                setup.client_secret = None;
            }
            setup.client_id = Some(id.to_string());
        }
        if let Some(secret) = &req.client_secret {
            setup.client_secret = Some(secret.clone());
        }
        if let Some(tenant) = &req.tenant {
            setup.tenant = Some(tenant.clone());
        }
        let setup = self.with_stored_client(spec, setup)?;
        spec.resolve(setup)
    }

    /// How often the background sync runs (the desktop app and `punctual remind`).
    pub fn sync_interval(&self) -> Result<Duration> {
        let minutes = match self.store.read(|r| r.setting(SYNC_INTERVAL_SETTING))? {
            Some(v) => v
                .trim()
                .parse::<i64>()
                .map_err(|e| crate::store::bad_setting(SYNC_INTERVAL_SETTING, e))?,
            None => DEFAULT_SYNC_MINUTES,
        };
        Ok(Duration::from_secs(60 * minutes.clamp(1, 24 * 60) as u64))
    }

    /// Sets the background sync interval: 1 to 1440 minutes.
    pub fn set_sync_interval(&self, minutes: i64) -> Result<()> {
        if !(1..=24 * 60).contains(&minutes) {
            return Err(Error::field(
                ErrorCode::InvalidInput,
                "minutes",
                format!("the sync interval must be between 1 and 1440 minutes; got {minutes}"),
            ));
        }
        self.store
            .write(|w| w.set_setting(SYNC_INTERVAL_SETTING, &minutes.to_string()))
    }

    /// Every connection, the local one first.
    pub fn connections(&self) -> Result<Vec<Connection>> {
        self.store.read(|r| r.connections())
    }

    pub fn connection(&self, id: &str) -> Result<Connection> {
        self.store.read(|r| r.connection(id))?.ok_or_else(|| {
            Error::field(
                ErrorCode::NotFound,
                "connection",
                format!("no connection with id {id:?}"),
            )
        })
    }

    /// Connects an account of `provider`: signs in (browser or refresh token), asks the provider who the
    /// account is and which calendars it has, and only then stores the connection and its secrets. A sign-in
    /// that fails or is cancelled stores nothing.
    pub fn connect(&self, provider: Provider, req: ConnectRequest<'_>) -> Result<Connection> {
        let spec = self.providers.spec(provider)?;
        let setup = self.request_setup(spec, &req)?;
        let cfg = self.oauth_config(spec, &setup)?;
        let tokens = match req.sign_in {
            SignIn::Browser {
                open,
                timeout,
                cancel,
            } => {
                let flow = LoopbackFlow::start(&cfg, timeout)?.cancelled_by(&cancel);
                // A browser that cannot be opened is not fatal: the URL is on screen to open by hand.
                let _ = open(flow.authorize_url());
                flow.finish(&cfg)?
            }
            SignIn::RefreshToken(refresh) => {
                if refresh.expose().trim().is_empty() {
                    return Err(Error::field(
                        ErrorCode::InvalidInput,
                        "refresh_token",
                        "the refresh token is empty",
                    ));
                }
                let refresh = SecretString::new(refresh.expose().trim());
                let mut tokens = auth::refresh(&cfg, &refresh)?;
                if tokens.refresh.is_none() {
                    tokens.refresh = Some(refresh);
                }
                tokens
            }
        };
        let conn = self.finish_connect(spec, &setup, &cfg, tokens);
        match &conn {
            Ok(c) => tracing::info!(connection = %c.id, provider = spec.slug(), "connected"),
            Err(e) => tracing::warn!(
                provider = spec.slug(),
                code = e.code.as_str(),
                "connect failed"
            ),
        }
        conn
    }

    fn finish_connect(
        &self,
        spec: &dyn ProviderSpec,
        setup: &ProviderSetup,
        cfg: &OAuthConfig,
        tokens: Tokens,
    ) -> Result<Connection> {
        let Some(refresh) = tokens.refresh.clone() else {
            return Err(Error::new(
                ErrorCode::OauthFailed,
                "the provider sent no refresh token",
            ));
        };
        let name = spec.display_name();
        let api = spec.client(setup)?;
        let who = api
            .account(&tokens.access)
            .map_err(|e| provider_failure(name, e))?;
        let calendars = api
            .calendars(&tokens.access)
            .map_err(|e| provider_failure(name, e))?;
        let email = who.email.clone();
        let key = who
            .email
            .as_ref()
            .or(who.user_id.as_ref())
            .map(|e| format!("{}:{}", spec.provider().as_str(), e.to_lowercase()));
        let now = self.clock.now();
        let existing = match &key {
            Some(k) => self
                .store
                .read(|r| r.connections())?
                .into_iter()
                .find(|c| c.deduplication_key.as_deref() == Some(k.as_str())),
            None => None,
        };
        let id = match existing {
            Some(c) if c.state == ConnectionState::NeedsReconnect => c.id,
            Some(c) => {
                return Err(Error::field(
                    ErrorCode::Duplicate,
                    "deduplication_key",
                    format!(
                        "{} is already connected (connection {}); disconnect it first to connect it again",
                        c.account_email.unwrap_or_default(),
                        c.id
                    ),
                ))
            }
            None => uuid::Uuid::new_v4().to_string(),
        };
        let previous = self.store.read(|r| r.connection(&id))?;
        let reconnect = previous.is_some();
        self.index_secrets_of(&id)?;
        self.secrets.set(&refresh_key(&id), &refresh)?;
        self.secrets.set(&access_key(&id), &tokens.access)?;
        match &cfg.client_secret {
            Some(s) => self.secrets.set(&client_secret_key(&id), s)?,
            // A secret kept for another client would be sent with this one's id.
            None if reconnect => self.secrets.delete(&client_secret_key(&id))?,
            None => {}
        }
        let written = self.store.write(|w| {
            if reconnect {
                w.set_connection_state(&id, ConnectionState::Connected, None, now)?;
                // The new grant belongs to the client that asked for it, which refreshes it from now on.
                let mut metadata = previous
                    .as_ref()
                    .map(|c| c.metadata.clone())
                    .filter(serde_json::Value::is_object)
                    .unwrap_or_else(|| serde_json::json!({}));
                metadata["client_id"] = serde_json::json!(cfg.client_id);
                metadata["scopes"] = serde_json::json!(cfg.scopes);
                metadata["tenant"] = serde_json::json!(setup.tenant);
                w.set_connection_metadata(&id, &metadata, now)?;
            } else {
                w.insert_connection(&Connection {
                    id: id.clone(),
                    provider: spec.provider(),
                    account_email: email.clone(),
                    user_name: who.name.clone(),
                    state: ConnectionState::Connected,
                    connection_failure_data: None,
                    last_sync_at: None,
                    event_count: 0,
                    calendars: Vec::new(),
                    primary_calendar_id: None,
                    metadata: serde_json::json!({
                        "client_id": cfg.client_id,
                        "scopes": cfg.scopes,
                        "tenant": setup.tenant,
                        "user_id": who.user_id,
                    }),
                    deduplication_key: key.clone(),
                    created_at: stamp(now),
                    updated_at: stamp(now),
                })?;
            }
            w.put_remote_calendars(&id, &calendars, now)?;
            Ok(())
        });
        if let Err(e) = written {
            if !reconnect {
                for k in [refresh_key(&id), access_key(&id), client_secret_key(&id)] {
                    let _ = self.secrets.delete(&k);
                }
            }
            return Err(e);
        }
        self.connection(&id)
    }

    fn secret_index(&self) -> Result<Vec<String>> {
        Ok(self
            .secrets
            .get(SECRET_INDEX_KEY)?
            .and_then(|s| serde_json::from_str(s.expose()).ok())
            .unwrap_or_default())
    }

    /// Writes the index; an empty one is no entry at all, so a keychain without accounts holds nothing of
    /// Punctual's.
    fn set_secret_index(&self, ids: &[String]) -> Result<()> {
        if ids.is_empty() {
            return self.secrets.delete(SECRET_INDEX_KEY);
        }
        let json = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
        self.secrets.set(SECRET_INDEX_KEY, &SecretString::new(json))
    }

    /// Lists `id` in the keychain's index before secrets are filed under it.
    fn index_secrets_of(&self, id: &str) -> Result<()> {
        let mut ids = self.secret_index()?;
        if !ids.iter().any(|i| i == id) {
            ids.push(id.to_string());
            self.set_secret_index(&ids)?;
        }
        Ok(())
    }

    /// Start-up housekeeping of the keychain: removes the entries of connections that no longer exist (a
    /// crash between a connect's secrets and its row, a database restored from a backup) and moves an OAuth
    /// client secret an older version kept in SQLite into the keychain.
    pub fn tidy_secrets(&self) -> Result<TidyReport> {
        let mut report = TidyReport {
            moved_client_secret: self.move_client_secret_to_keychain()?,
            ..Default::default()
        };
        let live: std::collections::HashSet<String> =
            self.connections()?.into_iter().map(|c| c.id).collect();
        let _gate = SECRETS_GATE.lock().unwrap_or_else(|e| e.into_inner());
        let listed = self.secret_index()?;
        for id in listed.iter().filter(|id| !live.contains(*id)) {
            for k in [refresh_key(id), access_key(id), client_secret_key(id)] {
                self.secrets.delete(&k)?;
            }
            report.removed.push(id.clone());
        }
        if !report.removed.is_empty() {
            let kept: Vec<String> = listed.into_iter().filter(|id| live.contains(id)).collect();
            self.set_secret_index(&kept)?;
            tracing::info!(
                removed = report.removed.len(),
                "keychain entries of gone connections removed"
            );
        }
        Ok(report)
    }

    /// Selects or deselects one of a connection's calendars (by our id or the provider's).
    pub fn select_calendar(
        &self,
        connection_id: &str,
        calendar: &str,
        selected: bool,
    ) -> Result<Connection> {
        let conn = self.connection(connection_id)?;
        let cal = conn
            .calendars
            .iter()
            .find(|c| c.id == calendar || c.remote_id.as_deref() == Some(calendar))
            .ok_or_else(|| {
                Error::field(
                    ErrorCode::NotFound,
                    "calendar",
                    format!("connection {connection_id} has no calendar {calendar:?}"),
                )
            })?;
        self.store
            .write(|w| w.set_calendar_selected(&cal.id, selected))?;
        self.replan()?;
        self.connection(connection_id)
    }

    /// The setup a stored connection refreshes and syncs with: the app's, with the OAuth client and the
    /// tenant its grant was issued to.
    fn connection_setup(
        &self,
        spec: &dyn ProviderSpec,
        conn: &Connection,
    ) -> Result<ProviderSetup> {
        let mut setup = self.with_stored_client(spec, self.providers.setup(conn.provider))?;
        if let Some(id) = conn.metadata.get("client_id").and_then(|v| v.as_str()) {
            setup.client_id = Some(id.to_string());
        }
        if let Some(secret) = self.secrets.get(&client_secret_key(&conn.id))? {
            setup.client_secret = Some(secret);
        }
        if let Some(t) = conn.metadata.get("tenant").and_then(|v| v.as_str()) {
            setup.tenant = Some(t.to_string());
        }
        spec.resolve(setup)
    }

    pub(super) fn provider_for(&self, conn: &Connection) -> Result<Box<dyn CalendarProvider>> {
        let spec = self.providers.spec(conn.provider)?;
        spec.client(&self.connection_setup(spec, conn)?)
    }

    pub(super) fn tokens_for<'a>(&'a self, conn: &'a Connection) -> Result<KeychainTokens<'a>> {
        let spec = self.providers.spec(conn.provider)?;
        let setup = self.connection_setup(spec, conn)?;
        Ok(KeychainTokens {
            secrets: self.secrets.as_ref(),
            connection_id: &conn.id,
            oauth: self.oauth_config(spec, &setup)?,
        })
    }

    /// Syncs one connection, or every account when `id` is `None`. `full` drops the sync tokens first.
    /// Stops at the first failing connection only after trying the others; returns the reports of those
    /// that succeeded, or the first error.
    pub fn sync(
        &self,
        id: Option<&str>,
        full: bool,
        progress: &mut dyn FnMut(&str, Progress),
    ) -> Result<Vec<SyncReport>> {
        let targets: Vec<Connection> = match id {
            Some(id) => {
                let c = self.connection(id)?;
                if c.provider == Provider::Local {
                    return Err(Error::field(
                        ErrorCode::InvalidInput,
                        "connection",
                        "the local calendar has nothing to sync",
                    ));
                }
                vec![c]
            }
            None => self
                .connections()?
                .into_iter()
                .filter(|c| c.provider != Provider::Local)
                .collect(),
        };
        let mut reports = Vec::new();
        let mut first_error = None;
        for conn in targets {
            match self.sync_one(&conn, full, progress) {
                Ok(r) => reports.push(r),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        self.replan()?;
        match first_error {
            Some(e) => Err(e),
            None => Ok(reports),
        }
    }

    fn sync_one(
        &self,
        conn: &Connection,
        full: bool,
        progress: &mut dyn FnMut(&str, Progress),
    ) -> Result<SyncReport> {
        let gate = sync_gate(&conn.id);
        // A sync that panicked left nothing half-done that the lock protects: the store's transactions
        // did that already.
        let _one_at_a_time = gate.lock().unwrap_or_else(|p| p.into_inner());
        // A provider that asked for a long wait gets no request before then, not even the outbox's.
        if let Some(held) = crate::sync::held_until(&self.store, &conn.id, self.clock.now())? {
            return Err(held);
        }
        // Local changes go out first, so the fetch that follows brings back the provider's versions of
        // them. Rows that cannot go out wait, with their error, for the next sync.
        let _ = self.push_outbox(conn);
        let provider = self.provider_for(conn)?;
        let tokens = self.tokens_for(conn)?;
        let engine = Engine {
            store: &self.store,
            clock: self.clock.as_ref(),
            provider: provider.as_ref(),
            tokens: &tokens,
            backoff: self.backoff.clone(),
            zone: self.zone,
        };
        let result = engine.sync(&conn.id, full, &mut |p| progress(&conn.id, p));
        match &result {
            Ok(r) => tracing::info!(
                connection = %conn.id,
                provider = conn.provider.as_str(),
                calendars = r.calendars,
                pages = r.pages,
                changes = r.changes,
                full_resyncs = r.full_resyncs,
                "sync done"
            ),
            Err(e) => tracing::warn!(
                connection = %conn.id,
                provider = conn.provider.as_str(),
                code = e.code.as_str(),
                "sync failed"
            ),
        }
        if let Err(e) = &result {
            if e.code == ErrorCode::NeedsReconnect {
                self.cancel_plans_of(&conn.id)?;
            }
        }
        result
    }

    /// Provider calls under the shared policy (the hold, one token refresh) that try once and never sleep
    /// in a backoff: for work a user or a due reminder is waiting on, whose retry is the next sync.
    pub(super) fn one_try_calls<'a>(
        &'a self,
        tokens: &'a dyn TokenSource,
        connection_id: &'a str,
    ) -> Calls<'a> {
        let once = crate::sync::Backoff {
            attempts: 1,
            ..self.backoff.clone()
        };
        Calls::new(
            &self.store,
            self.clock.as_ref(),
            tokens,
            once,
            connection_id,
        )
    }

    fn cancel_plans_of(&self, connection_id: &str) -> Result<()> {
        let now = self.clock.now();
        let plans = self
            .store
            .read(|r| r.open_plans_of_connection(connection_id))?;
        self.store.write(|w| {
            for p in &plans {
                w.save_plan(&join::closed(p, JoinStatus::Cancelled), now)?;
            }
            Ok(())
        })
    }

    /// Removes a connection with its calendars, events, occurrences, join plans, sync state and keychain
    /// secrets, after asking the provider to revoke its grant (a failure there is reported, and the local
    /// removal goes on: the user asked for the account to be gone). The local connection stays.
    pub fn disconnect(&self, id: &str) -> Result<Disconnected> {
        let conn = self.connection(id)?;
        if conn.provider == Provider::Local {
            return Err(Error::field(
                ErrorCode::InvalidInput,
                "connection",
                "the local calendar cannot be disconnected",
            ));
        }
        let mut out = Disconnected {
            id: id.to_string(),
            ..Default::default()
        };
        let spec = self.providers.spec(conn.provider).ok();
        if let (Some(spec), Some(rt)) = (spec, self.secrets.get(&refresh_key(id))?) {
            let revoked = self
                .connection_setup(spec, &conn)
                .and_then(|setup| spec.revoke(&setup, &rt));
            match revoked {
                Ok(()) => out.revoked = self.providers.setup(conn.provider).revoke_url.is_some(),
                Err(e) => {
                    tracing::warn!(connection = id, code = e.code.as_str(), "revocation failed");
                    out.revoke_error = Some(e.message);
                }
            }
        }
        {
            // Secrets first: a keychain that refuses leaves the connection in place to try again, rather
            // than tokens nobody can find any more.
            let _gate = SECRETS_GATE.lock().unwrap_or_else(|e| e.into_inner());
            for k in [refresh_key(id), access_key(id), client_secret_key(id)] {
                self.secrets.delete(&k)?;
            }
            let rest: Vec<String> = self
                .secret_index()?
                .into_iter()
                .filter(|i| i != id)
                .collect();
            self.set_secret_index(&rest)?;
        }
        self.store.write(|w| w.delete_connection(id))?;
        self.replan()?;
        tracing::info!(connection = id, revoked = out.revoked, "disconnected");
        Ok(out)
    }

    /// Asks the provider for a plan's event, once per plan, and stores what it says (Google: the single
    /// event or instance), so the store's answer that follows is the provider's latest word. Offline or
    /// refused, nothing changes and the stored copy decides: a network hiccup never cancels a meeting.
    pub(super) fn refresh_plan_event(&self, p: &JoinPlan) -> Result<()> {
        let Some((connection_id, Some(remote_cal))) =
            self.store.read(|r| r.calendar_origin(&p.calendar_id))?
        else {
            return Ok(());
        };
        {
            let mut asked = self.checked_plans.lock().unwrap_or_else(|e| e.into_inner());
            if !asked.insert(p.id.clone()) {
                return Ok(());
            }
        }
        let (Some(conn), Some((event, _))) = self
            .store
            .read(|r| Ok((r.connection(&connection_id)?, r.event(&p.event_id)?)))?
        else {
            return Ok(());
        };
        let Some(platform_id) = event.platform_id.clone() else {
            return Ok(());
        };
        // An instance of a series is asked for by the provider's id of that instance, which its codec
        // makes from the master's id and the original start.
        let rid = if event.is_series() {
            super::edit::resolve(&self.store, &p.occurrence_id, self.zone)
                .ok()
                .and_then(|t| t.rid)
        } else {
            None
        };
        let remote_id = match (rid, crate::providers::codec(conn.provider)) {
            (Some(rid), Some(codec)) => codec.instance_id(&platform_id, &rid, self.zone),
            _ => platform_id,
        };
        let (Ok(provider), Ok(tokens)) = (self.provider_for(&conn), self.tokens_for(&conn)) else {
            return Ok(());
        };
        let cal = CalendarRef {
            id: &p.calendar_id,
            remote_id: &remote_cal,
            zone: self.zone,
        };
        // The reminder is due: one try, with the shared hold and token refresh, and no backoff sleeps.
        let mut calls = self.one_try_calls(&tokens, &conn.id);
        if calls.check_hold().is_err() {
            return Ok(());
        }
        let answer = calls.call(&mut |_| {}, |t| provider.event(t, &cal, &remote_id));
        let change = match answer {
            Ok(Some(RemoteChange::Upsert(e))) => {
                RemoteChange::Upsert(Box::new(super::with_link(*e)))
            }
            Ok(Some(remove)) => remove,
            // Gone at the provider: the whole event, or the override that stood for this instance.
            Ok(None) if !event.is_series() => RemoteChange::Remove {
                uid: event.uid.clone(),
                recurrence_id: event.recurrence_id,
            },
            Ok(None) => return Ok(()),
            Err(e) => {
                // A long Retry-After is recorded for the next call; offline or refused, the stored copy
                // decides.
                let _ = calls.fail(e);
                return Ok(());
            }
        };
        self.store
            .write(|w| w.apply_remote_page(&p.calendar_id, std::slice::from_ref(&change)))?;
        Ok(())
    }
}
