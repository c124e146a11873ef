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
use crate::providers::google::{self, Google};
use crate::providers::{CalendarProvider, CalendarRef, ProviderError};
use crate::secrets::{access_key, refresh_key, SecretString, Secrets};
use crate::store::RemoteChange;
use crate::sync::{Engine, Progress, SyncReport, TokenSource};
use std::time::Duration;

/// Where Google is and which OAuth client talks to it. Endpoints default to Google's and can be pointed
/// elsewhere (tests, self-hosted proxies) with `PUNCTUAL_GOOGLE_AUTH_URL`, `PUNCTUAL_GOOGLE_TOKEN_URL` and
/// `PUNCTUAL_GOOGLE_API_URL`.
#[derive(Clone, Debug)]
pub struct GoogleSetup {
    pub auth_url: String,
    pub token_url: String,
    pub api_url: String,
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
}

impl GoogleSetup {
    /// Endpoints and client from the environment (`PUNCTUAL_GOOGLE_CLIENT_ID`, `_SECRET`), else Google's.
    pub fn from_env() -> GoogleSetup {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        GoogleSetup {
            auth_url: var("PUNCTUAL_GOOGLE_AUTH_URL")
                .unwrap_or_else(|| google::DEFAULT_AUTH_URL.to_string()),
            token_url: var("PUNCTUAL_GOOGLE_TOKEN_URL")
                .unwrap_or_else(|| google::DEFAULT_TOKEN_URL.to_string()),
            api_url: var("PUNCTUAL_GOOGLE_API_URL")
                .unwrap_or_else(|| google::DEFAULT_API_URL.to_string()),
            client_id: var("PUNCTUAL_GOOGLE_CLIENT_ID"),
            client_secret: var("PUNCTUAL_GOOGLE_CLIENT_SECRET").map(SecretString::new),
        }
    }
}

/// The settings key of how often accounts sync, in minutes (default [`DEFAULT_SYNC_MINUTES`]).
pub const SYNC_INTERVAL_SETTING: &str = "sync_interval_minutes";
pub const DEFAULT_SYNC_MINUTES: i64 = 5;

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
        let tokens = auth::refresh(&self.oauth, &rt)?;
        // A rotated refresh token replaces the old one at once: the old one may already be dead.
        if let Some(new) = &tokens.refresh {
            self.secrets.set(&refresh_key(self.connection_id), new)?;
        }
        self.secrets
            .set(&access_key(self.connection_id), &tokens.access)?;
        Ok(tokens.access)
    }
}

fn provider_failure(e: ProviderError) -> Error {
    match e {
        ProviderError::Unauthorized => Error::new(
            ErrorCode::OauthFailed,
            "Google refused the new access token",
        ),
        ProviderError::Network(m) => Error::new(
            ErrorCode::Network,
            format!("Google could not be reached: {m}"),
        ),
        ProviderError::TooLarge { limit } => {
            crate::limits::too_large(None, "Google's calendar list", limit)
        }
        other => Error::new(
            ErrorCode::Provider,
            format!("Google's calendar list could not be read: {other}"),
        ),
    }
}

impl App {
    /// Uses another secret store (tests: [`crate::secrets::MemorySecrets`]).
    pub fn with_secrets(mut self, secrets: std::sync::Arc<dyn Secrets>) -> App {
        self.secrets = secrets;
        self
    }

    /// Uses other Google endpoints or OAuth client than the environment's.
    pub fn with_google(mut self, setup: GoogleSetup) -> App {
        self.google = setup;
        self
    }

    /// Uses another retry policy for syncs (tests: no real sleeping).
    pub fn with_backoff(mut self, backoff: crate::sync::Backoff) -> App {
        self.backoff = backoff;
        self
    }

    fn oauth_config(&self, setup: &GoogleSetup) -> Result<OAuthConfig> {
        let client_id = setup.client_id.clone().ok_or_else(|| {
            Error::field(
                ErrorCode::InvalidInput,
                "client_id",
                "no Google OAuth client id: pass --client-id, set PUNCTUAL_GOOGLE_CLIENT_ID, or store one with `punctual config google-client`",
            )
        })?;
        Ok(OAuthConfig {
            auth_url: setup.auth_url.clone(),
            token_url: setup.token_url.clone(),
            client_id,
            client_secret: setup.client_secret.clone(),
            scopes: google::SCOPES.iter().map(|s| s.to_string()).collect(),
            // Offline access for a refresh token; consent so Google sends one on a reconnect too.
            extra_params: vec![
                ("access_type".into(), "offline".into()),
                ("prompt".into(), "consent".into()),
            ],
        })
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

    /// Runs the browser sign-in: `open` gets the authorization URL (the CLI prints it and opens the
    /// browser). Waits up to `timeout` for the redirect.
    pub fn connect_google(
        &self,
        open: &dyn Fn(&str) -> std::result::Result<(), String>,
        timeout: Duration,
    ) -> Result<Connection> {
        self.connect_google_cancellable(open, timeout, &Cancel::new())
    }

    /// [`App::connect_google`] that `cancel` can stop while it waits for the browser (the desktop's
    /// Cancel button): it then fails with `cancelled`, and nothing is stored.
    pub fn connect_google_cancellable(
        &self,
        open: &dyn Fn(&str) -> std::result::Result<(), String>,
        timeout: Duration,
        cancel: &Cancel,
    ) -> Result<Connection> {
        let setup = self.google_setup()?;
        let cfg = self.oauth_config(&setup)?;
        let flow = LoopbackFlow::start(&cfg, timeout)?.cancelled_by(cancel);
        // A browser that cannot be opened is not fatal: the URL is on screen to open by hand.
        let _ = open(flow.authorize_url());
        let tokens = flow.finish(&cfg)?;
        self.finish_connect(&setup, &cfg, tokens)
    }

    /// Connects with a refresh token the user already has (MeetStream's and Attendee's way).
    pub fn connect_google_refresh_token(&self, refresh: SecretString) -> Result<Connection> {
        if refresh.expose().trim().is_empty() {
            return Err(Error::field(
                ErrorCode::InvalidInput,
                "refresh_token",
                "the refresh token is empty",
            ));
        }
        let setup = self.google_setup()?;
        let cfg = self.oauth_config(&setup)?;
        let mut tokens = auth::refresh(&cfg, &refresh)?;
        if tokens.refresh.is_none() {
            tokens.refresh = Some(refresh);
        }
        self.finish_connect(&setup, &cfg, tokens)
    }

    fn finish_connect(
        &self,
        setup: &GoogleSetup,
        cfg: &OAuthConfig,
        tokens: Tokens,
    ) -> Result<Connection> {
        let Some(refresh) = tokens.refresh.clone() else {
            return Err(Error::new(
                ErrorCode::OauthFailed,
                "the provider sent no refresh token",
            ));
        };
        let api = Google::new(&setup.api_url)?;
        let calendars = api.calendars(&tokens.access).map_err(provider_failure)?;
        let email = calendars
            .iter()
            .find(|c| c.is_primary)
            .map(|c| c.remote_id.clone());
        let key = email
            .as_ref()
            .map(|e| format!("{}:{}", Provider::GoogleCalendar.as_str(), e.to_lowercase()));
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
                w.set_connection_metadata(&id, &metadata, now)?;
            } else {
                w.insert_connection(&Connection {
                    id: id.clone(),
                    provider: Provider::GoogleCalendar,
                    account_email: email.clone(),
                    user_name: calendars
                        .iter()
                        .find(|c| c.is_primary)
                        .map(|c| c.summary.clone()),
                    state: ConnectionState::Connected,
                    connection_failure_data: None,
                    last_sync_at: None,
                    event_count: 0,
                    calendars: Vec::new(),
                    primary_calendar_id: None,
                    metadata: serde_json::json!({ "client_id": cfg.client_id, "scopes": cfg.scopes }),
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

    pub(super) fn provider_for(&self, conn: &Connection) -> Result<Box<dyn CalendarProvider>> {
        match conn.provider {
            Provider::GoogleCalendar => Ok(Box::new(Google::new(&self.google_setup()?.api_url)?)),
            other => Err(Error::new(
                ErrorCode::InvalidInput,
                format!("{} connections cannot sync in this version", other.as_str()),
            )),
        }
    }

    pub(super) fn tokens_for<'a>(&'a self, conn: &'a Connection) -> Result<KeychainTokens<'a>> {
        let mut setup = self.google_setup()?;
        if let Some(id) = conn.metadata.get("client_id").and_then(|v| v.as_str()) {
            setup.client_id = Some(id.to_string());
        }
        if let Some(s) = self.secrets.get(&client_secret_key(&conn.id))? {
            setup.client_secret = Some(s);
        }
        Ok(KeychainTokens {
            secrets: self.secrets.as_ref(),
            connection_id: &conn.id,
            oauth: self.oauth_config(&setup)?,
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
        if let Err(e) = &result {
            if e.code == ErrorCode::NeedsReconnect {
                self.cancel_plans_of(&conn.id)?;
            }
        }
        result
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
    /// secrets. The local connection stays.
    pub fn disconnect(&self, id: &str) -> Result<()> {
        let conn = self.connection(id)?;
        if conn.provider == Provider::Local {
            return Err(Error::field(
                ErrorCode::InvalidInput,
                "connection",
                "the local calendar cannot be disconnected",
            ));
        }
        // Secrets first: a keychain that refuses leaves the connection in place to try again, rather than
        // tokens nobody can find any more.
        for k in [refresh_key(id), access_key(id), client_secret_key(id)] {
            self.secrets.delete(&k)?;
        }
        self.store.write(|w| w.delete_connection(id))?;
        self.replan()
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
        // An instance of a series is asked for by Google's instance id: the master's id and the original
        // start, in the same compact UTC form our occurrence ids end with.
        let remote_id = match p.occurrence_id.split_once('_') {
            Some((_, rid)) if event.is_series() => format!("{platform_id}_{rid}"),
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
        let ask = |t: &SecretString| provider.event(t, &cal, &remote_id);
        let answer = match tokens.access().map(|t| ask(&t)) {
            Ok(Err(ProviderError::Unauthorized)) => tokens.refresh().map(|t| ask(&t)),
            other => other,
        };
        let change = match answer {
            Ok(Ok(Some(RemoteChange::Upsert(e)))) => {
                RemoteChange::Upsert(Box::new(super::with_link(*e)))
            }
            Ok(Ok(Some(remove))) => remove,
            // Gone at the provider: the whole event, or the override that stood for this instance.
            Ok(Ok(None)) if !event.is_series() => RemoteChange::Remove {
                uid: event.uid.clone(),
                recurrence_id: event.recurrence_id,
            },
            _ => return Ok(()),
        };
        self.store
            .write(|w| w.apply_remote_page(&p.calendar_id, std::slice::from_ref(&change)))?;
        Ok(())
    }
}
