//! Argument parsing and dispatch for the `punctual` command.

mod accounts;
mod config;
mod remind;
mod render;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use punctual::app::{self, App, EventInput, ListQuery, Scope};
use punctual::error::{Error, ErrorCode};
use punctual::model::Availability;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "punctual",
    version,
    about = "Every calendar in one place; never miss or be late to a meeting."
)]
struct Cli {
    /// Where the database lives (default: the OS data dir).
    #[arg(long, global = true, env = "PUNCTUAL_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List events in a window (default: from a day ago to four weeks ahead; meetings only unless --all).
    Events(EventsArgs),
    /// Create an event.
    Create(CreateArgs),
    /// Edit an event or occurrence.
    Edit(EditArgs),
    /// Delete an event or occurrence.
    Delete(DeleteArgs),
    /// Import an .ics file (or - for stdin) into the local calendar, or into a named local calendar.
    Import(ImportArgs),
    /// Write a calendar as .ics to stdout.
    Export(ExportArgs),
    /// List calendars with their event counts; with --connection, an account's calendars and selection.
    Calendars {
        /// An account's connection id: list its calendars, and --select / --deselect them.
        #[arg(long, value_name = "ID")]
        connection: Option<String>,
        /// Sync and show this calendar (our id or the provider's); repeatable.
        #[arg(long, value_name = "CAL", requires = "connection")]
        select: Vec<String>,
        /// Stop syncing and showing this calendar; repeatable.
        #[arg(long, value_name = "CAL", requires = "connection")]
        deselect: Vec<String>,
    },
    /// List accounts (connections) with their state, event counts and calendars.
    Connections,
    /// Connect an account.
    #[command(subcommand)]
    Connect(accounts::ConnectProvider),
    /// Sync accounts now, with progress on stderr.
    Sync(accounts::SyncArgs),
    /// List changes an account refused for good (the event changed or was deleted there), never overwritten.
    Conflicts {
        /// Forget this conflict (its id from the list).
        #[arg(long, value_name = "ID")]
        dismiss: Option<i64>,
    },
    /// Store settings: the Google OAuth client.
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Print where the log is and its last lines (for a bug report: it holds no titles or tokens).
    Logs {
        /// How many of the last lines to print.
        #[arg(long, short = 'n', default_value_t = 50)]
        lines: usize,
    },
    /// Remove an account with its events, join plans, sync state and keychain secrets.
    Disconnect {
        /// The connection id (from `punctual connections`).
        id: String,
    },
    /// Find the meeting link in an invite read from stdin.
    Detect(DetectArgs),
    /// Join a meeting: `next`, or an event, occurrence or join-plan id. Opens only links detection accepts.
    Join {
        /// `next`, or an id from `punctual events --json`.
        target: String,
    },
    /// Print the next meeting (or the one in progress).
    Next {
        /// Waybar's custom-module JSON: text with the countdown, a tooltip, and a class.
        #[arg(long)]
        waybar: bool,
    },
    /// Watch for meetings and show reminders (with Join, Snooze and Dismiss) until interrupted.
    Remind,
    /// Print shell completions.
    Completions { shell: clap_complete::Shell },
}

#[derive(Args, Debug)]
struct EventsArgs {
    /// Window start (ISO 8601 date or date-time).
    #[arg(long)]
    from: Option<String>,
    /// Window end.
    #[arg(long)]
    to: Option<String>,
    /// Only these calendars (repeatable).
    #[arg(long = "calendar", value_name = "ID")]
    calendars: Vec<String>,
    /// Every event, not only those with a meeting link.
    #[arg(long)]
    all: bool,
    /// Page size, 1 to 100.
    #[arg(long, allow_negative_numbers = true)]
    limit: Option<i64>,
    /// Continue from a next_cursor or previous_cursor.
    #[arg(long, conflicts_with = "every")]
    cursor: Option<String>,
    /// Every occurrence in the window in one call, page after page (--limit is then the page size); with
    /// --json, one JSON object per line (NDJSON), written as it is read.
    #[arg(long)]
    every: bool,
}

#[derive(Args, Debug, Default)]
struct Fields {
    #[arg(long)]
    title: Option<String>,
    /// ISO 8601: 2026-11-21T09:30, 2026-11-21T09:30:00+01:00, or 2026-11-21 for all-day.
    #[arg(long)]
    start: Option<String>,
    #[arg(long)]
    end: Option<String>,
    #[arg(long)]
    all_day: bool,
    /// IANA time zone (default: yours).
    #[arg(long = "tz", value_name = "ZONE")]
    time_zone: Option<String>,
    #[arg(long)]
    description: Option<String>,
    #[arg(long)]
    location: Option<String>,
    #[arg(long)]
    url: Option<String>,
    /// #RRGGBB
    #[arg(long)]
    color: Option<String>,
    /// Show as free rather than busy.
    #[arg(long)]
    free: bool,
    /// An RRULE, e.g. FREQ=WEEKLY;BYDAY=MO,WE
    #[arg(long)]
    repeat: Option<String>,
    /// Extra dates (RDATE), repeatable or comma-separated.
    #[arg(long = "rdate")]
    rdates: Vec<String>,
    /// Excluded dates (EXDATE), repeatable or comma-separated.
    #[arg(long = "exdate")]
    exdates: Vec<String>,
    #[arg(long, value_name = "ID")]
    calendar: Option<String>,
}

impl Fields {
    fn input(self) -> EventInput {
        EventInput {
            title: self.title,
            start: self.start,
            end: self.end,
            all_day: self.all_day,
            time_zone: self.time_zone,
            description: self.description,
            location: self.location,
            url: self.url,
            color: self.color,
            availability: self.free.then_some(Availability::Free),
            repeat: self.repeat,
            rdates: self.rdates,
            exdates: self.exdates,
            calendar: self.calendar,
        }
    }
}

#[derive(Args, Debug)]
struct CreateArgs {
    #[command(flatten)]
    fields: Fields,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ScopeArg {
    This,
    Following,
    All,
}

impl From<ScopeArg> for Scope {
    fn from(s: ScopeArg) -> Scope {
        match s {
            ScopeArg::This => Scope::This,
            ScopeArg::Following => Scope::Following,
            ScopeArg::All => Scope::All,
        }
    }
}

#[derive(Args, Debug)]
struct EditArgs {
    /// An event or occurrence id (from `punctual events --json`).
    id: String,
    #[command(flatten)]
    fields: Fields,
    /// For recurring events: this occurrence, this and following, or all.
    #[arg(long, value_enum, default_value = "all")]
    scope: ScopeArg,
}

#[derive(Args, Debug)]
struct DeleteArgs {
    id: String,
    #[arg(long, value_enum, default_value = "all")]
    scope: ScopeArg,
}

#[derive(Args, Debug)]
struct ImportArgs {
    /// An .ics file, or - for stdin.
    file: String,
    /// Import into the local calendar with this name (created when missing).
    #[arg(long, value_name = "NAME")]
    calendar: Option<String>,
}

#[derive(Args, Debug)]
struct ExportArgs {
    /// The calendar to export (default: the local calendar).
    #[arg(long, value_name = "ID")]
    calendar: Option<String>,
}

#[derive(Args, Debug)]
struct DetectArgs {
    /// Which field the invite text is: location, description, html or conference-json (default: guess).
    #[arg(long)]
    field: Option<String>,
    /// List every candidate, including rejected ones and why.
    #[arg(long)]
    all: bool,
}

/// Runs the command line and returns the process exit code.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let json = cli.json;
    let _log = punctual::logs::init();
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            render::error(&e, json);
            ExitCode::from(if e.code.is_bad_input() { 2 } else { 1 })
        }
    }
}

fn open(dir: Option<PathBuf>) -> Result<App, Error> {
    let dir = match dir.filter(|d| !d.as_os_str().is_empty()) {
        Some(d) => d,
        None => app::default_data_dir()?,
    };
    App::open(&dir)
}

fn dispatch(cli: Cli) -> Result<(), Error> {
    let json = cli.json;
    match cli.command {
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "punctual",
                &mut std::io::stdout(),
            );
            Ok(())
        }
        Command::Detect(a) => detect(a, json),
        Command::Logs { lines } => {
            let dir = punctual::logs::log_dir()?;
            let tail = punctual::logs::tail(&dir, lines);
            if json {
                render::json(&serde_json::json!({ "path": dir, "lines": tail }))
            } else {
                let mut out = format!("Log folder: {}\n", dir.display());
                for l in tail {
                    out.push_str(&l);
                    out.push('\n');
                }
                render::raw(&out)
            }
        }
        Command::Remind => remind::run(open(cli.data_dir)?),
        Command::Join { target } => {
            let app = open(cli.data_dir)?;
            let out = app.join(&target, &punctual::desktop_host::SystemOpener)?;
            if json {
                render::json(&out)
            } else {
                render::line(&format!(
                    "Joining {:?} ({}): {}",
                    out.title, out.platform, out.opened
                ))
            }
        }
        Command::Next { waybar } => {
            let app = open(cli.data_dir)?;
            let next = app.next_meeting()?;
            match (waybar, json) {
                (true, _) => render::json(&render::waybar(next.as_ref(), app.user_zone())),
                (false, true) => render::json(&next),
                (false, false) => render::line(&render::next(next.as_ref(), app.user_zone())),
            }
        }
        Command::Events(a) => {
            let app = open(cli.data_dir)?;
            let all = a.all;
            let mut q = ListQuery {
                from: a.from,
                to: a.to,
                calendars: a.calendars,
                all,
                limit: a.limit,
                cursor: a.cursor,
            };
            if !a.every {
                let page = app.list_events(&q)?;
                return if json {
                    render::json(&page)
                } else {
                    render::Agenda::new(app.user_zone(), all).page(&page, true)
                };
            }
            // One process for the whole window: the pages are read one after another through the same
            // cursor the paged output hands out, and each is written before the next is read.
            let page_size = a.limit.unwrap_or(100);
            let mut agenda = render::Agenda::new(app.user_zone(), all);
            loop {
                let page = app.list_events(&q)?;
                let open = if json {
                    render::ndjson(&page.events)?
                } else {
                    agenda.page(&page, page.next_cursor.is_none())?;
                    true
                };
                match page.next_cursor {
                    Some(c) if open => {
                        q = ListQuery {
                            cursor: Some(c),
                            limit: Some(page_size),
                            ..Default::default()
                        }
                    }
                    _ => return Ok(()),
                }
            }
        }
        Command::Create(a) => {
            let app = open(cli.data_dir)?;
            let v = app.create_event(&a.fields.input())?;
            if json {
                render::json(&v)
            } else {
                render::created("Created", &v, app.user_zone())
            }
        }
        Command::Edit(a) => {
            let app = open(cli.data_dir)?;
            let v = app.edit_event(&a.id, &a.fields.input(), a.scope.into())?;
            if json {
                render::json(&v)
            } else {
                render::created("Updated", &v, app.user_zone())
            }
        }
        Command::Delete(a) => {
            let app = open(cli.data_dir)?;
            app.delete_event(&a.id, a.scope.into())?;
            if json {
                render::json(&serde_json::json!({ "deleted": a.id }))
            } else {
                render::line(&format!("Deleted {}", a.id))
            }
        }
        Command::Import(a) => {
            let data = read_input(&a.file)?;
            let app = open(cli.data_dir)?;
            let report = app.import_ics_bytes(&data, a.calendar.as_deref())?;
            if json {
                render::json(&report)
            } else {
                render::import(&report)
            }
        }
        Command::Export(a) => {
            let app = open(cli.data_dir)?;
            render::raw(&app.export_ics(a.calendar.as_deref())?)
        }
        Command::Connections => accounts::connections(&open(cli.data_dir)?, json),
        Command::Connect(p) => accounts::connect(open(cli.data_dir)?, p, json),
        Command::Sync(a) => accounts::sync(&open(cli.data_dir)?, a, json),
        Command::Conflicts { dismiss } => accounts::conflicts(&open(cli.data_dir)?, dismiss, json),
        Command::Disconnect { id } => accounts::disconnect(&open(cli.data_dir)?, &id, json),
        Command::Config(c) => config::run(&open(cli.data_dir)?, c, json),
        Command::Calendars {
            connection: Some(c),
            select,
            deselect,
        } => accounts::calendars(&open(cli.data_dir)?, &c, &select, &deselect, json),
        Command::Calendars { .. } => {
            let app = open(cli.data_dir)?;
            let cals = app.calendars()?;
            if json {
                render::json(&cals)
            } else {
                render::calendars(&cals)
            }
        }
    }
}

fn read_input(file: &str) -> Result<Vec<u8>, Error> {
    let limit = punctual::limits::MAX_IMPORT_BYTES;
    let read = if file == "-" {
        punctual::limits::read_capped(std::io::stdin().lock(), limit)
    } else {
        let f = std::fs::File::open(file).map_err(|e| {
            let code = if e.kind() == std::io::ErrorKind::NotFound {
                ErrorCode::InvalidInput
            } else {
                ErrorCode::Io
            };
            Error::field(code, "file", format!("cannot read {file}: {e}"))
        })?;
        punctual::limits::read_capped(f, limit)
    };
    // Read no further than the cap: a huge file (or /dev/zero) must not be held whole just to be refused.
    let bytes = read.map_err(|e| match e {
        punctual::limits::CappedReadError::TooLarge { limit } => {
            let what = if file == "-" { "standard input" } else { file };
            punctual::limits::too_large(Some("file"), what, limit)
        }
        punctual::limits::CappedReadError::Io(e) => {
            Error::field(ErrorCode::Io, "file", format!("cannot read {file}: {e}"))
        }
    })?;
    // Encoding is the parser's business: it mends folds inside UTF-8 characters and reports what it cannot read.
    Ok(bytes)
}

fn detect(a: DetectArgs, json: bool) -> Result<(), Error> {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text)?;
    let bad = |e: punctual::detect::InputError| {
        Error::field(ErrorCode::InvalidInput, "field", e.to_string())
    };
    let field = a
        .field
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(bad)?;
    let invite = punctual::detect::invite_from_input(field, &text).map_err(bad)?;
    let explanation = punctual::detect::explain(&invite.as_invite());
    if json {
        render::json(&explanation)
    } else {
        render::raw(&explanation.render_text(a.all))
    }
}
