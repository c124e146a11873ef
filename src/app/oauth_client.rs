//! The OAuth client a user stores for a provider (`punctual config google-client`, the desktop's client
//! form), kept in the settings and the keychain under the keys its provider names
//! ([`crate::providers::ProviderSpec::stored_client_keys`]), so every provider's stored client works the
//! same way.
//!
//! Invariants:
//! - Flags and environment variables win over the settings, field by field; the stored secret is only used
//!   with the stored client id, since a secret belongs to one client and sending it with another id fails.
//! - The client id is a setting; the secret, like every other secret, lives in the keychain, never in
//!   SQLite, and nothing here ever shows it: the view says only whether one is set. A secret an older
//!   version kept in the setting is moved to the keychain by [`App::tidy_secrets`], and read from the
//!   setting until then.

use super::App;
use crate::error::{Error, ErrorCode, Result};
use crate::model::Provider;
use crate::providers::{ProviderSetup, ProviderSpec};
use crate::secrets::SecretString;
use crate::store::bad_setting;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Stored {
    client_id: String,
    /// Only in settings an older version wrote; never written now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
}

/// What the settings say about a provider's OAuth client, without the secret.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClientView {
    pub client_id: String,
    pub client_secret_set: bool,
}

fn non_empty(spec: &dyn ProviderSpec, field: &str, value: &str) -> Result<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(Error::field(
            ErrorCode::InvalidInput,
            field,
            format!(
                "the {} OAuth {field} must not be empty",
                spec.display_name()
            ),
        ));
    }
    Ok(v.to_string())
}

impl App {
    fn stored_client(&self, spec: &dyn ProviderSpec) -> Result<Option<Stored>> {
        let (setting, _) = spec.stored_client_keys();
        match self.store.read(|r| r.setting(&setting))? {
            Some(json) => serde_json::from_str(&json)
                .map(Some)
                .map_err(|e| bad_setting(&setting, e)),
            None => Ok(None),
        }
    }

    /// Stores the OAuth client the next connect to `provider` uses when no flag or environment variable
    /// names one: the id in the settings, the secret in the keychain. Without a secret, a secret stored
    /// before is dropped (it belonged to the old client).
    pub fn set_oauth_client(
        &self,
        provider: Provider,
        client_id: &str,
        client_secret: Option<&str>,
    ) -> Result<ClientView> {
        let spec = self.providers.spec(provider)?;
        let (setting, secret_key) = spec.stored_client_keys();
        let client_id = non_empty(spec, "client_id", client_id)?;
        let secret = client_secret
            .map(|s| non_empty(spec, "client_secret", s))
            .transpose()?;
        let json = serde_json::to_string(&Stored {
            client_id: client_id.clone(),
            client_secret: None,
        })
        .map_err(|e| {
            Error::new(
                ErrorCode::Storage,
                format!("the OAuth client setting cannot be written: {e}"),
            )
        })?;
        // The keychain first: a keychain that refuses leaves the old client whole.
        match &secret {
            Some(s) => self
                .secrets
                .set(&secret_key, &SecretString::new(s.clone()))?,
            None => self.secrets.delete(&secret_key)?,
        }
        self.store.write(|w| w.set_setting(&setting, &json))?;
        Ok(ClientView {
            client_secret_set: secret.is_some(),
            client_id,
        })
    }

    /// The stored client's secret: the keychain's, else one an older version left in the setting.
    fn stored_secret(
        &self,
        spec: &dyn ProviderSpec,
        stored: &Stored,
    ) -> Result<Option<SecretString>> {
        let (_, secret_key) = spec.stored_client_keys();
        Ok(match self.secrets.get(&secret_key)? {
            Some(s) => Some(s),
            None => stored.client_secret.clone().map(SecretString::new),
        })
    }

    /// `provider`'s OAuth client in the settings, if one is set.
    pub fn oauth_client(&self, provider: Provider) -> Result<Option<ClientView>> {
        let spec = self.providers.spec(provider)?;
        let Some(stored) = self.stored_client(spec)? else {
            return Ok(None);
        };
        Ok(Some(ClientView {
            client_secret_set: self.stored_secret(spec, &stored)?.is_some(),
            client_id: stored.client_id,
        }))
    }

    /// Moves the client secrets an older version kept in the settings into the keychain. Returns whether
    /// there was one.
    pub(super) fn move_client_secret_to_keychain(&self) -> Result<bool> {
        let mut moved = false;
        for spec in self.providers.specs() {
            let Some(stored) = self.stored_client(spec)? else {
                continue;
            };
            let Some(secret) = stored.client_secret else {
                continue;
            };
            let (setting, secret_key) = spec.stored_client_keys();
            self.secrets.set(&secret_key, &SecretString::new(secret))?;
            let json = serde_json::to_string(&Stored {
                client_id: stored.client_id,
                client_secret: None,
            })
            .map_err(|e| Error::new(ErrorCode::Storage, e.to_string()))?;
            self.store.write(|w| w.set_setting(&setting, &json))?;
            moved = true;
        }
        if moved {
            // The old row's bytes may live on in a freed page or the log until the file is rewritten.
            self.store.scrub()?;
        }
        Ok(moved)
    }

    /// `s` completed with the client stored in the settings for `spec`'s provider: flags and environment
    /// first, then the settings' client.
    pub(super) fn with_stored_client(
        &self,
        spec: &dyn ProviderSpec,
        mut s: ProviderSetup,
    ) -> Result<ProviderSetup> {
        let Some(stored) = self.stored_client(spec)? else {
            return Ok(s);
        };
        let id = s.client_id.get_or_insert_with(|| stored.client_id.clone());
        if s.client_secret.is_none() && *id == stored.client_id {
            s.client_secret = self.stored_secret(spec, &stored)?;
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{FixedClock, Zone};
    use chrono::TimeZone;
    use std::sync::Arc;

    fn app(flags: ProviderSetup) -> App {
        let clock = Arc::new(FixedClock::new(
            chrono::Utc
                .with_ymd_and_hms(2030, 1, 7, 9, 0, 0)
                .single()
                .expect("a valid instant"),
        ));
        App::in_memory(clock, Zone::UTC)
            .expect("an in-memory app")
            .with_secrets(Arc::new(crate::secrets::MemorySecrets::new()))
            .with_provider(crate::model::Provider::GoogleCalendar, flags)
    }

    fn no_flags() -> ProviderSetup {
        ProviderSetup {
            auth_url: "http://127.0.0.1:1/auth".into(),
            token_url: "http://127.0.0.1:1/token".into(),
            api_url: "http://127.0.0.1:1".into(),
            ..ProviderSetup::default()
        }
    }

    fn setup_of(app: &App) -> Result<ProviderSetup> {
        let spec = app.providers.spec(crate::model::Provider::GoogleCalendar)?;
        app.with_stored_client(spec, app.providers.setup(spec.provider()))
    }

    fn secret_of(s: &ProviderSetup) -> Option<&str> {
        s.client_secret.as_ref().map(SecretString::expose)
    }

    #[test]
    fn the_settings_client_id_and_secret_are_used_when_no_flag_names_one() {
        let app = app(no_flags());
        let view = app
            .set_oauth_client(
                crate::model::Provider::GoogleCalendar,
                " id.apps.example ",
                Some("shh"),
            )
            .expect("a valid client is stored");
        assert_eq!(
            view,
            ClientView {
                client_id: "id.apps.example".into(),
                client_secret_set: true
            },
            "the id is trimmed and the view only says a secret is set"
        );
        let s = setup_of(&app).expect("setup");
        assert_eq!(
            s.client_id.as_deref(),
            Some("id.apps.example"),
            "the id comes from the settings"
        );
        assert_eq!(secret_of(&s), Some("shh"), "and so does the secret");
    }

    #[test]
    fn flags_win_and_a_stored_secret_never_goes_with_another_client_id() {
        let mut flags = no_flags();
        flags.client_id = Some("other.apps.example".into());
        let app = app(flags);
        app.set_oauth_client(
            crate::model::Provider::GoogleCalendar,
            "id.apps.example",
            Some("shh"),
        )
        .expect("stored");
        let s = setup_of(&app).expect("setup");
        assert_eq!(
            s.client_id.as_deref(),
            Some("other.apps.example"),
            "the flag's id wins"
        );
        assert_eq!(
            secret_of(&s),
            None,
            "the stored secret belongs to the stored id, so it is not sent with another"
        );

        let mut flags = no_flags();
        flags.client_id = Some("id.apps.example".into());
        flags.client_secret = Some(SecretString::new("from-env"));
        let app = self::app(flags);
        app.set_oauth_client(
            crate::model::Provider::GoogleCalendar,
            "id.apps.example",
            Some("shh"),
        )
        .expect("stored");
        let s = setup_of(&app).expect("setup");
        assert_eq!(
            secret_of(&s),
            Some("from-env"),
            "a secret from flags or the environment wins over the settings"
        );
    }

    #[test]
    fn an_empty_id_or_secret_is_refused_by_name_and_stores_nothing() {
        let app = app(no_flags());
        let e = app
            .set_oauth_client(crate::model::Provider::GoogleCalendar, "  ", Some("shh"))
            .expect_err("an empty id is refused");
        assert_eq!(e.code, ErrorCode::InvalidInput, "it is bad input");
        assert_eq!(
            e.field.as_deref(),
            Some("client_id"),
            "the error names the field"
        );
        let e = app
            .set_oauth_client(
                crate::model::Provider::GoogleCalendar,
                "id.apps.example",
                Some(""),
            )
            .expect_err("an empty secret is refused");
        assert_eq!(
            e.field.as_deref(),
            Some("client_secret"),
            "the error names the secret's field"
        );
        assert_eq!(
            app.oauth_client(crate::model::Provider::GoogleCalendar)
                .expect("read"),
            None,
            "nothing was stored"
        );
    }

    #[test]
    fn setting_a_client_without_a_secret_drops_the_old_secret() {
        let app = app(no_flags());
        app.set_oauth_client(
            crate::model::Provider::GoogleCalendar,
            "a.apps.example",
            Some("shh"),
        )
        .expect("stored");
        app.set_oauth_client(
            crate::model::Provider::GoogleCalendar,
            "b.apps.example",
            None,
        )
        .expect("stored");
        let s = setup_of(&app).expect("setup");
        assert_eq!(secret_of(&s), None, "the old client's secret is gone");
        assert_eq!(
            s.client_id.as_deref(),
            Some("b.apps.example"),
            "the new id is in force"
        );
    }

    #[test]
    fn a_microsoft_client_id_is_stored_and_used_like_googles() {
        let app =
            app(no_flags()).with_provider(crate::model::Provider::OutlookCalendar, no_flags());
        app.set_oauth_client(crate::model::Provider::OutlookCalendar, "ms-client", None)
            .expect("a public client is stored without a secret");
        let spec = app
            .providers
            .spec(crate::model::Provider::OutlookCalendar)
            .expect("Microsoft is registered");
        let s = app
            .with_stored_client(spec, app.providers.setup(spec.provider()))
            .expect("setup");
        assert_eq!(
            s.client_id.as_deref(),
            Some("ms-client"),
            "the stored id is used for Microsoft too"
        );
        assert_eq!(
            setup_of(&app).expect("setup").client_id,
            None,
            "and it is Microsoft's alone, not Google's"
        );
    }
}
