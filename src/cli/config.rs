//! `punctual config`: settings that have no better home, today the OAuth client each provider signs in
//! with (`google-client`, `microsoft-client`).
//!
//! The client secret is taken but never printed back: the answer only says whether one is set.

use super::render;
use clap::{Args, Subcommand};
use punctual::app::App;
use punctual::error::Error;
use punctual::model::Provider;

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Store the Google OAuth client that `connect google` uses when no flag or environment variable names
    /// one. Without --client-secret, a secret stored before is dropped.
    GoogleClient(ClientArgs),
    /// Store the Microsoft OAuth client (an app registration's Application (client) id; a public client
    /// has no secret) that `connect microsoft` uses when no flag or environment variable names one.
    MicrosoftClient(ClientArgs),
}

#[derive(Args, Debug)]
pub struct ClientArgs {
    /// The OAuth client id.
    #[arg(long)]
    client_id: String,
    /// The OAuth client secret, where the client has one (Google's desktop clients have one that is not
    /// really secret; Microsoft's public clients have none).
    #[arg(long)]
    client_secret: Option<String>,
}

pub fn run(app: &App, command: ConfigCommand, json: bool) -> Result<(), Error> {
    let (provider, a) = match command {
        ConfigCommand::GoogleClient(a) => (Provider::GoogleCalendar, a),
        ConfigCommand::MicrosoftClient(a) => (Provider::OutlookCalendar, a),
    };
    let view = app.set_oauth_client(provider, &a.client_id, a.client_secret.as_deref())?;
    if json {
        return render::json(&view);
    }
    render::line(&format!(
        "{} OAuth client {} stored ({}).",
        app.providers().spec(provider)?.display_name(),
        view.client_id,
        if view.client_secret_set {
            "with a client secret"
        } else {
            "without a client secret"
        }
    ))
}
