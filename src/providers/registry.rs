//! The providers Punctual connects to, each described once by its own file: where its endpoints are (and
//! which environment variables move them), which OAuth scopes and parameters its sign-in needs, what its
//! accounts are called, and how to build its API client. The app holds a [`Registry`] and never names a
//! provider: connecting, refreshing and syncing an account go through the [`ProviderSpec`] of its
//! [`Provider`].
//!
//! Invariants:
//! - A [`ProviderSetup`] is resolved per call, field by field: the request's own values (a client id sent
//!   with a connect, a tenant), then the environment, then the spec's defaults. So one shared app connects
//!   accounts of several OAuth clients without being rebuilt.
//! - A setup's client secret is a [`SecretString`]: it is never printed, and never stored in SQLite.

use super::CalendarProvider;
use crate::error::{Error, ErrorCode, Result};
use crate::model::Provider;
use crate::secrets::SecretString;
use std::collections::HashMap;

/// How an account of a provider proves who it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialKind {
    /// OAuth 2.0: a browser sign-in (or a refresh token the user has) gives tokens that refresh.
    OAuth,
    /// A username and password (CalDAV's app-specific passwords).
    Password,
}

/// Where one provider is and which OAuth client talks to it. Endpoints default to the provider's own and
/// can be pointed elsewhere (tests, proxies) with its `PUNCTUAL_<PROVIDER>_*_URL` variables.
#[derive(Clone, Debug, Default)]
pub struct ProviderSetup {
    pub auth_url: String,
    pub token_url: String,
    pub api_url: String,
    /// Where a refresh token is revoked on disconnect, for providers that have such an endpoint.
    pub revoke_url: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
    /// The directory an account signs in through, for providers that have several (Microsoft's tenants).
    pub tenant: Option<String>,
}

/// One provider as the app sees it; implemented once, in the provider's own file.
pub trait ProviderSpec: Send + Sync {
    fn provider(&self) -> Provider;
    /// What users call it: "Google", "Microsoft".
    fn display_name(&self) -> &'static str;
    fn credential(&self) -> CredentialKind;
    /// The subcommand and IPC name: `google`, `microsoft`.
    fn slug(&self) -> &'static str;
    /// Endpoints and client from the environment, else the provider's defaults.
    fn setup_from_env(&self) -> ProviderSetup;
    /// The OAuth scopes a sign-in asks for.
    fn scopes(&self) -> Vec<String>;
    /// Extra authorization parameters (Google: `access_type=offline`, `prompt=consent`).
    fn extra_auth_params(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    /// Checks and applies what a connect request names beyond a client (Microsoft: its tenant, written into
    /// the endpoint URLs). The default takes nothing more.
    fn resolve(&self, setup: ProviderSetup) -> Result<ProviderSetup> {
        Ok(setup)
    }
    /// Whether a sign-in can work without a client secret (a public client, PKCE only).
    fn public_client(&self) -> bool {
        false
    }
    /// Where an OAuth client the user stores for this provider is kept: the settings key of its id, and the
    /// keychain key of its secret (never SQLite). Named by the slug, so a provider's stored client keeps
    /// its keys across versions.
    fn stored_client_keys(&self) -> (String, String) {
        (
            format!("{}_oauth_client", self.slug()),
            format!("oauth_client/{}/client_secret", self.slug()),
        )
    }
    /// The API client at `setup.api_url`.
    fn client(&self, setup: &ProviderSetup) -> Result<Box<dyn CalendarProvider>>;
    /// Revokes a refresh token at the provider, so a disconnected account's grant is dead there too.
    /// Providers without a revocation endpoint do nothing (the default).
    fn revoke(&self, _setup: &ProviderSetup, _refresh_token: &SecretString) -> Result<()> {
        Ok(())
    }
}

/// Every provider Punctual connects, with the setup each one is configured with.
pub struct Registry {
    specs: Vec<&'static dyn ProviderSpec>,
    setups: HashMap<Provider, ProviderSetup>,
}

impl Registry {
    /// Every provider of this build, each set up from the environment.
    pub fn from_env() -> Registry {
        let specs: Vec<&'static dyn ProviderSpec> =
            vec![&super::google::GoogleSpec, &super::microsoft::MicrosoftSpec];
        let setups = specs
            .iter()
            .map(|s| (s.provider(), s.setup_from_env()))
            .collect();
        Registry { specs, setups }
    }

    /// The spec of `provider`, or a clear error for one this build cannot connect.
    pub fn spec(&self, provider: Provider) -> Result<&'static dyn ProviderSpec> {
        self.specs
            .iter()
            .copied()
            .find(|s| s.provider() == provider)
            .ok_or_else(|| {
                Error::field(
                    ErrorCode::InvalidInput,
                    "provider",
                    format!(
                        "{} accounts cannot be connected in this version",
                        provider.as_str()
                    ),
                )
            })
    }

    /// The spec named `slug` (`google`, `microsoft`) or by its provider id (`outlook_calendar`).
    pub fn by_name(&self, name: &str) -> Result<&'static dyn ProviderSpec> {
        let name = name.trim().to_ascii_lowercase();
        self.specs
            .iter()
            .copied()
            .find(|s| s.slug() == name || s.provider().as_str() == name)
            .ok_or_else(|| {
                let known: Vec<_> = self.specs.iter().map(|s| s.slug()).collect();
                Error::field(
                    ErrorCode::InvalidInput,
                    "provider",
                    format!("unknown provider {name:?}; one of: {}", known.join(", ")),
                )
            })
    }

    /// The setup `provider` is configured with (before a request's own values).
    pub fn setup(&self, provider: Provider) -> ProviderSetup {
        self.setups.get(&provider).cloned().unwrap_or_default()
    }

    /// Replaces one provider's setup (tests: a fake server's endpoints).
    pub fn set_setup(&mut self, provider: Provider, setup: ProviderSetup) {
        self.setups.insert(provider, setup);
    }

    pub fn specs(&self) -> impl Iterator<Item = &'static dyn ProviderSpec> + '_ {
        self.specs.iter().copied()
    }
}

/// A variable of the environment, unless unset or blank.
pub fn env_var(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_provider_is_found_by_its_slug_and_its_id() {
        let r = Registry::from_env();
        for (name, provider) in [
            ("google", Provider::GoogleCalendar),
            ("google_calendar", Provider::GoogleCalendar),
            ("Google_Calendar", Provider::GoogleCalendar),
            ("microsoft", Provider::OutlookCalendar),
            ("Outlook_Calendar", Provider::OutlookCalendar),
        ] {
            assert_eq!(
                r.by_name(name).map(|s| s.provider()).ok(),
                Some(provider),
                "{name} names a provider of this build"
            );
        }
        let err = r
            .by_name("myspace")
            .err()
            .expect("an unknown provider is refused");
        assert_eq!(
            err.code,
            ErrorCode::InvalidInput,
            "a wrong provider is the caller's input"
        );
        assert!(
            err.message.contains("google") && err.message.contains("microsoft"),
            "the error lists what is known: {}",
            err.message
        );
    }
}
