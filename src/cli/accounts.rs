//! `punctual connections`, `connect google|microsoft`, `calendars --connection`, `sync` and `disconnect`.
//!
//! Progress goes to stderr, so `--json` output on stdout stays one JSON document. Tokens read from stdin
//! are wrapped at once and never printed.

use super::render;
use clap::{Args, Subcommand};
use punctual::app::{App, ConnectRequest, SignIn};
use punctual::auth::Cancel;
use punctual::desktop_host::SystemOpener;
use punctual::error::{Error, ErrorCode};
use punctual::join::Opener;
use punctual::model::{Connection, Provider};
use punctual::secrets::SecretString;
use punctual::sync::Progress;
use std::io::{Read, Write};
use std::time::Duration;

#[derive(Subcommand, Debug)]
pub enum ConnectProvider {
    /// Connect a Google account: the browser sign-in, or --refresh-token-stdin.
    Google(GoogleArgs),
    /// Connect a Microsoft 365 or Outlook.com account: the browser sign-in, or --refresh-token-stdin.
    Microsoft(MicrosoftArgs),
}

/// What every OAuth connect takes.
#[derive(Args, Debug)]
pub struct SignInArgs {
    /// Read an existing refresh token from stdin instead of signing in with the browser.
    #[arg(long)]
    refresh_token_stdin: bool,
    /// Seconds to wait for the browser (default 300).
    #[arg(long, default_value_t = 300)]
    timeout: u64,
    /// Do not sync after connecting.
    #[arg(long)]
    no_sync: bool,
}

#[derive(Args, Debug)]
pub struct GoogleArgs {
    /// The OAuth client id (default: PUNCTUAL_GOOGLE_CLIENT_ID, then the settings).
    #[arg(long)]
    client_id: Option<String>,
    /// The OAuth client secret (default: PUNCTUAL_GOOGLE_CLIENT_SECRET, then the settings). Prefer
    /// --client-secret-stdin or the environment variable: a flag is visible to other users in `ps`.
    #[arg(long, conflicts_with = "client_secret_stdin")]
    client_secret: Option<String>,
    /// Read the OAuth client secret from stdin (its first line; with --refresh-token-stdin, its second).
    #[arg(long)]
    client_secret_stdin: bool,
    #[command(flatten)]
    sign_in: SignInArgs,
}

#[derive(Args, Debug)]
pub struct MicrosoftArgs {
    /// The application (client) id of a public client (default: PUNCTUAL_MICROSOFT_CLIENT_ID).
    #[arg(long)]
    client_id: Option<String>,
    /// The directory to sign in through: common (default), organizations, consumers, or a tenant id.
    #[arg(long)]
    tenant: Option<String>,
    #[command(flatten)]
    sign_in: SignInArgs,
}

#[derive(Args, Debug)]
pub struct SyncArgs {
    /// A connection id (default: every account).
    id: Option<String>,
    /// Drop the sync tokens and fetch everything again.
    #[arg(long)]
    full: bool,
}

fn progress_line(connection: &str, p: &Progress) -> String {
    let short = connection.get(..8).unwrap_or(connection);
    format!("[{short}] {}", p.message())
}

fn stderr(s: &str) {
    let _ = writeln!(std::io::stderr(), "{s}");
}

pub fn connections(app: &App, json: bool) -> Result<(), Error> {
    let list = app.connections()?;
    if json {
        return render::json(&list);
    }
    let mut out = String::new();
    for c in &list {
        out.push_str(&describe(c));
    }
    render::raw(&out)
}

fn describe(c: &Connection) -> String {
    let mut s = format!(
        "{}  {}  {}  {}  {} events{}\n",
        c.id,
        c.provider.as_str(),
        c.account_email.as_deref().unwrap_or("-"),
        c.state.as_str(),
        c.event_count,
        c.last_sync_at
            .as_deref()
            .map(|t| format!(", synced {t}"))
            .unwrap_or_default()
    );
    if let Some(f) = &c.connection_failure_data {
        s.push_str(&format!("    last failure [{}]: {}\n", f.error, f.message));
    }
    for cal in &c.calendars {
        s.push_str(&format!(
            "    [{}] {}  {}{}\n",
            if cal.selected { "x" } else { " " },
            cal.id,
            cal.summary,
            if cal.is_primary { " (primary)" } else { "" }
        ));
    }
    s
}

pub fn connect(app: App, provider: ConnectProvider, json: bool) -> Result<(), Error> {
    tidy(&app);
    let (provider, client_id, mut client_secret, secret_stdin, tenant, args) = match provider {
        ConnectProvider::Google(a) => (
            Provider::GoogleCalendar,
            a.client_id,
            a.client_secret,
            a.client_secret_stdin,
            None,
            a.sign_in,
        ),
        ConnectProvider::Microsoft(a) => (
            Provider::OutlookCalendar,
            a.client_id,
            None,
            false,
            a.tenant,
            a.sign_in,
        ),
    };
    // Secrets from stdin, one a line: the refresh token first, then the client secret.
    let mut lines = Vec::new();
    if args.refresh_token_stdin || secret_stdin {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        lines = text.lines().map(|l| l.trim().to_string()).collect();
    }
    let mut lines = lines.into_iter();
    let refresh_token = args
        .refresh_token_stdin
        .then(|| lines.next().unwrap_or_default());
    if secret_stdin {
        let secret = lines.next().filter(|s| !s.is_empty()).ok_or_else(|| {
            Error::field(
                ErrorCode::InvalidInput,
                "client_secret",
                "--client-secret-stdin was given but stdin held no client secret line",
            )
        })?;
        client_secret = Some(secret);
    }
    let name = app.providers().spec(provider)?.display_name();
    let open = |url: &str| {
        stderr(&format!(
            "Opening your browser to sign in to {name}. If it does not open, visit:\n\n  {url}\n"
        ));
        // In the background: a $BROWSER that runs until the browser quits must not hold up the
        // listener that the browser is about to call.
        let url = url.to_string();
        std::thread::spawn(move || {
            if let Err(e) = SystemOpener.open(&url) {
                stderr(&format!(
                    "Could not open a browser ({e}); open the link above by hand."
                ));
            }
        });
        Ok(())
    };
    let sign_in = if let Some(token) = refresh_token {
        SignIn::RefreshToken(SecretString::new(token))
    } else {
        SignIn::Browser {
            open: &open,
            timeout: Duration::from_secs(args.timeout.max(1)),
            cancel: Cancel::new(),
        }
    };
    let conn = app.connect(
        provider,
        ConnectRequest {
            client_id,
            client_secret: client_secret.map(SecretString::new),
            tenant,
            sign_in,
        },
    )?;
    stderr(&format!(
        "Connected {} ({}).",
        conn.account_email.as_deref().unwrap_or("the account"),
        conn.id
    ));
    let conn = if args.no_sync {
        conn
    } else {
        app.sync(Some(&conn.id), false, &mut |c, p| {
            stderr(&progress_line(c, &p))
        })?;
        app.connection(&conn.id)?
    };
    if json {
        render::json(&conn)
    } else {
        render::raw(&describe(&conn))
    }
}

pub fn calendars(
    app: &App,
    connection: &str,
    select: &[String],
    deselect: &[String],
    json: bool,
) -> Result<(), Error> {
    if let Some(both) = select.iter().find(|s| deselect.contains(s)) {
        return Err(Error::field(
            ErrorCode::InvalidInput,
            "select",
            format!("calendar {both:?} is both selected and deselected"),
        ));
    }
    let mut conn = app.connection(connection)?;
    for c in select {
        conn = app.select_calendar(connection, c, true)?;
    }
    for c in deselect {
        conn = app.select_calendar(connection, c, false)?;
    }
    if json {
        render::json(&conn.calendars)
    } else {
        render::raw(&describe(&conn))
    }
}

/// The keychain's start-up housekeeping ([`App::tidy_secrets`]) before account work. Best effort: a
/// keychain that fails here fails the command's own use of it, with its own message.
pub fn tidy(app: &App) {
    if let Err(e) = app.tidy_secrets() {
        tracing::warn!(code = e.code.as_str(), "keychain housekeeping failed");
    }
}

pub fn sync(app: &App, args: SyncArgs, json: bool) -> Result<(), Error> {
    tidy(app);
    let result = app.sync(args.id.as_deref(), args.full, &mut |c, p| {
        stderr(&progress_line(c, &p))
    });
    mention_conflicts(app);
    let reports = result?;
    if json {
        return render::json(&reports);
    }
    let mut out = String::new();
    for r in &reports {
        out.push_str(&format!(
            "Synced {}: {} calendar(s), {} change(s) in {} page(s){}\n",
            r.connection_id,
            r.calendars,
            r.changes,
            r.pages,
            if r.full_resyncs > 0 {
                format!(", {} full resync(s)", r.full_resyncs)
            } else {
                String::new()
            }
        ));
        for w in &r.warnings {
            out.push_str(&format!("  warning: {w}\n"));
        }
    }
    render::raw(&out)
}

/// Lists changes a provider refused for good, or dismisses one.
pub fn conflicts(app: &App, dismiss: Option<i64>, json: bool) -> Result<(), Error> {
    if let Some(id) = dismiss {
        app.dismiss_conflict(id)?;
        return if json {
            render::json(&serde_json::json!({ "dismissed": id }))
        } else {
            render::line(&format!("Dismissed conflict {id}"))
        };
    }
    let list = app.conflicts()?;
    if json {
        return render::json(&list);
    }
    let mut out = String::new();
    for c in &list {
        out.push_str(&format!(
            "{}  {} of event {} ({})\n    {}\n",
            c.id,
            c.operation,
            c.event_id,
            c.created_at,
            c.last_error.as_deref().unwrap_or_default()
        ));
    }
    if list.is_empty() {
        out.push_str("No conflicts.\n");
    }
    render::raw(&out)
}

fn mention_conflicts(app: &App) {
    if let Ok(list) = app.conflicts() {
        if !list.is_empty() {
            stderr(&format!(
                "{} change(s) were not applied because the event changed at the provider; see `punctual conflicts`",
                list.len()
            ));
        }
    }
}

pub fn disconnect(app: &App, id: &str, json: bool) -> Result<(), Error> {
    let out = app.disconnect(id)?;
    if let Some(why) = &out.revoke_error {
        stderr(&format!(
            "Warning: the provider could not revoke Punctual's access ({why}); remove it in your account's security settings."
        ));
    }
    if json {
        render::json(&serde_json::json!({
            "disconnected": id,
            "revoked": out.revoked,
            "revoke_error": out.revoke_error,
        }))
    } else {
        render::line(&format!(
            "Disconnected {id}; its events, plans and tokens are gone"
        ))
    }
}
