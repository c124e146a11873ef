//! `punctual config`: settings that have no better home, today the Google OAuth client.
//!
//! The client secret is taken but never printed back: the answer only says whether one is set.

use super::render;
use clap::{Args, Subcommand};
use punctual::app::App;
use punctual::error::Error;

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Store the Google OAuth client that `connect google` uses when no flag or environment variable names
    /// one. Without --client-secret, a secret stored before is dropped.
    GoogleClient(GoogleClientArgs),
}

#[derive(Args, Debug)]
pub struct GoogleClientArgs {
    /// The OAuth client id.
    #[arg(long)]
    client_id: String,
    /// The OAuth client secret (Google's desktop clients have one that is not really secret).
    #[arg(long)]
    client_secret: Option<String>,
}

pub fn run(app: &App, command: ConfigCommand, json: bool) -> Result<(), Error> {
    let ConfigCommand::GoogleClient(a) = command;
    let view = app.set_google_client(&a.client_id, a.client_secret.as_deref())?;
    if json {
        return render::json(&view);
    }
    render::line(&format!(
        "Google OAuth client {} stored ({}).",
        view.client_id,
        if view.client_secret_set {
            "with a client secret"
        } else {
            "without a client secret"
        }
    ))
}
