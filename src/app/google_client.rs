//! The Google-named entry points the skins were built on (the CLI's `config google-client`, the shell's
//! `google_client` and `set_google_client` commands and their generated `GoogleClientView` binding), over
//! the per-provider stored client of [`super::oauth_client`]. They stay until the skins name the provider
//! themselves; nothing else in the core is Google's here.

use super::oauth_client::ClientView;
use super::App;
use crate::error::Result;
use crate::model::Provider;
use serde::Serialize;

/// The settings key of the stored Google client: `{"client_id": ..}` (the registry's key for it).
pub const GOOGLE_CLIENT_SETTING: &str = "google_oauth_client";

/// What the settings say about the Google OAuth client, without the secret.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GoogleClientView {
    pub client_id: String,
    pub client_secret_set: bool,
}

impl From<ClientView> for GoogleClientView {
    fn from(v: ClientView) -> GoogleClientView {
        GoogleClientView {
            client_id: v.client_id,
            client_secret_set: v.client_secret_set,
        }
    }
}

impl App {
    /// [`App::set_oauth_client`] for Google.
    pub fn set_google_client(
        &self,
        client_id: &str,
        client_secret: Option<&str>,
    ) -> Result<GoogleClientView> {
        self.set_oauth_client(Provider::GoogleCalendar, client_id, client_secret)
            .map(Into::into)
    }

    /// [`App::oauth_client`] for Google.
    pub fn google_client(&self) -> Result<Option<GoogleClientView>> {
        Ok(self.oauth_client(Provider::GoogleCalendar)?.map(Into::into))
    }
}
