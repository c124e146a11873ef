//! Accounts in the desktop app: connect an account of any registered provider (Google, Microsoft) in the
//! system browser or with a pasted refresh token, sync now and every `sync_interval_minutes`, and tell the
//! window how each step goes. A provider is named by its registry slug; the shell never names one itself.
//!
//! Network work never runs on the window's core ([`crate::commands::Core`]): a sign-in waits up to five
//! minutes for the browser and a first sync can take a while, and the window's commands must not queue
//! behind either. Each sign-in opens its own [`App`] on the data directory, and syncs share one more, behind
//! a lock, so that the timer's sync and "Sync now" never run at once. Their writes reach the window, the tray
//! and the reminders through [`crate::watch`], like any other process's.
//!
//! The provider code is blocking (reqwest's blocking client), so it runs on `spawn_blocking` threads and on
//! the timer's own thread, never on the async runtime's workers.

use crate::commands::Core;
use punctual::app::{App, ClientView, ConflictView, ConnectRequest, SignIn};
use punctual::auth::{Cancel, LoopbackFlow};
use punctual::desktop_host::SystemOpener;
use punctual::error::{Error, ErrorCode, Result};
use punctual::join::Opener;
use punctual::model::{Connection, Provider};
use punctual::secrets::{SecretString, Secrets};
use punctual::sync::{SyncActivity, SyncReport, SyncStage};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tauri::{AppHandle, Emitter, Manager, State};

/// The event that carries each [`SyncActivity`] to the window (ui/src/ipc/tauri.ts).
pub const ACTIVITY_EVENT: &str = "punctual://sync-activity";

/// How long after start the first background sync waits: the window and the tray come first.
const FIRST_SYNC_DELAY: Duration = Duration::from_secs(3);

/// The accounts' shared state; cheap to clone into worker threads.
#[derive(Clone)]
pub struct Accounts(Arc<Inner>);

struct Inner {
    dir: Option<PathBuf>,
    /// The syncs' own core, opened on first use; the lock is also what keeps syncs one at a time.
    syncer: Mutex<Option<App>>,
    /// The sign-in in progress, if any: Cancel stops it.
    connecting: Mutex<Option<Cancel>>,
    /// Tells the timer thread to stop, or to start its wait again with a changed interval.
    timer: Mutex<Option<mpsc::Sender<TimerMsg>>>,
    /// The secrets store every App of these accounts uses: the OS keychain, unless a test gave its own.
    secrets: Option<Arc<dyn Secrets>>,
}

/// The OAuth client a pasted refresh token was issued to.
struct TokenClient {
    id: String,
    secret: Option<SecretString>,
    tenant: Option<String>,
}

enum TimerMsg {
    Stop,
    Reschedule,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn no_data_dir() -> Error {
    Error::new(
        ErrorCode::Io,
        "no data directory: set PUNCTUAL_DATA_DIR or check the home directory",
    )
}

impl Accounts {
    pub fn new(dir: Option<&Path>) -> Accounts {
        Accounts::with_secrets(dir, None)
    }

    /// Accounts whose apps keep secrets in `secrets` instead of the OS keychain (tests run where none is).
    fn with_secrets(dir: Option<&Path>, secrets: Option<Arc<dyn Secrets>>) -> Accounts {
        Accounts(Arc::new(Inner {
            dir: dir.map(Path::to_path_buf),
            syncer: Mutex::new(None),
            connecting: Mutex::new(None),
            timer: Mutex::new(None),
            secrets,
        }))
    }

    fn open_app(&self) -> Result<App> {
        let app = App::open(self.0.dir.as_deref().ok_or_else(no_data_dir)?)?;
        Ok(match &self.0.secrets {
            Some(s) => app.with_secrets(Arc::clone(s)),
            None => app,
        })
    }

    /// Syncs one connection or all of them on the syncs' core, emitting each step; one sync at a time.
    pub fn sync(
        &self,
        handle: &AppHandle,
        id: Option<&str>,
        full: bool,
    ) -> Result<Vec<SyncReport>> {
        let mut syncer = lock(&self.0.syncer);
        if syncer.is_none() {
            *syncer = Some(self.open_app()?);
        }
        let Some(app) = syncer.as_ref() else {
            return Err(no_data_dir());
        };
        let result = app.sync(id, full, &mut |conn, p| {
            emit(handle, SyncActivity::step(conn, &p));
        });
        match &result {
            Ok(reports) => {
                for r in reports {
                    emit(handle, SyncActivity::done(r));
                }
            }
            Err(e) => emit(handle, SyncActivity::failed(id, &e.message)),
        }
        result
    }

    /// Starts the timer: a first sync shortly after start, then one every `sync_interval_minutes` (read
    /// again each time, so a changed setting applies from the next round). Only accounts are synced; with
    /// none, a round costs one query.
    pub fn start_timer(&self, handle: AppHandle) {
        let (tx, rx) = mpsc::channel::<TimerMsg>();
        *lock(&self.0.timer) = Some(tx);
        let me = self.clone();
        let spawned = std::thread::Builder::new()
            .name("punctual-sync".into())
            .spawn(move || {
                let mut wait = FIRST_SYNC_DELAY;
                loop {
                    match rx.recv_timeout(wait) {
                        Err(RecvTimeoutError::Timeout) => wait = me.timer_round(&handle),
                        // A new interval counts from now: going from an hour to five minutes must not
                        // wait out the hour first.
                        Ok(TimerMsg::Reschedule) => wait = Accounts::interval(&handle),
                        Ok(TimerMsg::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
            });
        if let Err(e) = spawned {
            eprintln!("punctual-desktop: no background sync: {e}");
        }
    }

    /// The interval in the settings, read through the window's core: a tray-only Punctual with no account
    /// opens no second database connection for its timer.
    fn interval(handle: &AppHandle) -> Duration {
        handle
            .state::<Core>()
            .with(|app| app.sync_interval())
            .unwrap_or(Duration::from_secs(
                60 * punctual::app::DEFAULT_SYNC_MINUTES as u64,
            ))
    }

    /// One timer round; returns how long to wait for the next.
    fn timer_round(&self, handle: &AppHandle) -> Duration {
        let accounts = handle
            .state::<Core>()
            .with(|app| app.connections())
            .map(|cs| cs.iter().any(|c| c.provider != Provider::Local))
            .unwrap_or(false);
        if accounts {
            // A failed round is already on the connection (its state and failure data) and in the window.
            let _ = self.sync(handle, None, false);
        }
        Accounts::interval(handle)
    }

    pub fn stop(&self) {
        if let Some(tx) = lock(&self.0.timer).take() {
            let _ = tx.send(TimerMsg::Stop);
        }
    }

    fn reschedule(&self) {
        if let Some(tx) = lock(&self.0.timer).as_ref() {
            let _ = tx.send(TimerMsg::Reschedule);
        }
    }

    /// Runs the browser sign-in to the provider named `provider` (a registry slug: `google`, `microsoft`),
    /// then the first sync.
    fn connect_account(&self, handle: &AppHandle, provider: &str) -> Result<Connection> {
        let result = self.sign_in(provider, &|a| emit(handle, a), &SystemOpener);
        self.after_connect(handle, result)
    }

    /// The browser sign-in alone, with the window and the browser passed in (so tests need neither). Only
    /// one sign-in at a time: a second is refused rather than left waiting for a browser tab the user may
    /// never see, and the slot is free again however the first one ends.
    fn sign_in(
        &self,
        provider: &str,
        notify: &dyn Fn(SyncActivity),
        browser: &dyn Opener,
    ) -> Result<Connection> {
        let cancel = {
            let mut slot = lock(&self.0.connecting);
            if slot.is_some() {
                return Err(Error::new(
                    ErrorCode::InvalidInput,
                    "a sign-in is already waiting in the browser; finish or cancel it first",
                ));
            }
            let c = Cancel::new();
            *slot = Some(c.clone());
            c
        };
        let result = self.open_app().and_then(|app| {
            let spec = app.providers().by_name(provider)?;
            let open = |url: &str| {
                notify(SyncActivity {
                    connection_id: None,
                    stage: SyncStage::WaitingForBrowser,
                    changes: 0,
                    message: format!(
                        "Sign in to {} in your browser, then come back here",
                        spec.display_name()
                    ),
                });
                browser.open(url)
            };
            app.connect(
                spec.provider(),
                ConnectRequest::new(SignIn::Browser {
                    open: &open,
                    timeout: LoopbackFlow::DEFAULT_TIMEOUT,
                    cancel,
                }),
            )
        });
        *lock(&self.0.connecting) = None;
        result
    }

    /// Connects with a refresh token the user pasted, with the OAuth client it was issued to (and, for
    /// Microsoft, the tenant it signed in through; none is the provider's default).
    fn connect_account_token(
        &self,
        handle: &AppHandle,
        provider: &str,
        refresh_token: SecretString,
        client: TokenClient,
    ) -> Result<Connection> {
        let result = self.token_sign_in(provider, refresh_token, client);
        self.after_connect(handle, result)
    }

    fn token_sign_in(
        &self,
        provider: &str,
        refresh_token: SecretString,
        client: TokenClient,
    ) -> Result<Connection> {
        let app = self.open_app()?;
        // The provider first: with an unknown one, a missing client id is not the problem to report.
        let spec = app.providers().by_name(provider)?;
        if client.id.trim().is_empty() {
            return Err(Error::field(
                ErrorCode::InvalidInput,
                "client_id",
                "the OAuth client id is required with a refresh token",
            ));
        }
        let request = ConnectRequest {
            client_id: Some(client.id.trim().to_string()),
            client_secret: client.secret.filter(|s| !s.expose().trim().is_empty()),
            tenant: client
                .tenant
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty()),
            sign_in: SignIn::RefreshToken(refresh_token),
        };
        app.connect(spec.provider(), request)
    }

    /// A new connection syncs at once, in the background, so the window can show it (and its progress)
    /// right away.
    fn after_connect(&self, handle: &AppHandle, result: Result<Connection>) -> Result<Connection> {
        match &result {
            Ok(conn) => {
                let (me, handle, id) = (self.clone(), handle.clone(), conn.id.clone());
                tauri::async_runtime::spawn_blocking(move || {
                    let _ = me.sync(&handle, Some(&id), false);
                });
            }
            Err(e) if e.code == ErrorCode::Cancelled => {}
            Err(e) => emit(handle, SyncActivity::failed(None, &e.message)),
        }
        result
    }

    fn cancel_connect(&self) {
        if let Some(c) = lock(&self.0.connecting).as_ref() {
            c.cancel();
        }
    }
}

fn emit(handle: &AppHandle, activity: SyncActivity) {
    // No window to tell is fine: the connection's state in the store says the same.
    let _ = handle.emit(ACTIVITY_EVENT, activity);
}

/// Runs blocking account work off the async runtime's workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|e| Error::new(ErrorCode::Internal, format!("account work stopped: {e}")))?
}

/// Every connection, the local one first.
#[tauri::command(async)]
pub fn connections(core: State<'_, Core>) -> Result<Vec<Connection>> {
    core.with(|app| app.connections())
}

/// Signs in to `provider` (a registry slug: `google`, `microsoft`) in the system browser; resolves with
/// the new connection, whose first sync then runs in the background (its steps arrive as
/// [`ACTIVITY_EVENT`]s). An unknown provider is `invalid_input` on the field `provider`.
#[tauri::command]
pub async fn connect_account(
    handle: AppHandle,
    accounts: State<'_, Accounts>,
    provider: String,
) -> Result<Connection> {
    let accounts = accounts.inner().clone();
    blocking(move || accounts.connect_account(&handle, &provider)).await
}

/// Stops the sign-in that waits for the browser; it fails with `cancelled`.
#[tauri::command]
pub fn cancel_connect(accounts: State<'_, Accounts>) {
    accounts.cancel_connect();
}

/// Connects an account of `provider` with an existing refresh token and the OAuth client it belongs to;
/// `tenant` is Microsoft's directory (`common`, `organizations`, `consumers` or a tenant id).
#[tauri::command]
pub async fn connect_account_token(
    handle: AppHandle,
    accounts: State<'_, Accounts>,
    provider: String,
    refresh_token: String,
    client_id: String,
    client_secret: Option<String>,
    tenant: Option<String>,
) -> Result<Connection> {
    let accounts = accounts.inner().clone();
    let refresh = SecretString::new(refresh_token.trim().to_string());
    let client = TokenClient {
        id: client_id,
        secret: client_secret.map(SecretString::new),
        tenant,
    };
    blocking(move || accounts.connect_account_token(&handle, &provider, refresh, client)).await
}

/// Syncs one connection (or every account) now; resolves when done.
#[tauri::command]
pub async fn sync_now(
    handle: AppHandle,
    accounts: State<'_, Accounts>,
    id: Option<String>,
) -> Result<Vec<SyncReport>> {
    let accounts = accounts.inner().clone();
    blocking(move || accounts.sync(&handle, id.as_deref(), false)).await
}

/// Includes or leaves out one of a connection's calendars; the window syncs it next.
#[tauri::command(async)]
pub fn select_calendar(
    core: State<'_, Core>,
    connection_id: String,
    calendar_id: String,
    selected: bool,
) -> Result<Connection> {
    core.with(|app| app.select_calendar(&connection_id, &calendar_id, selected))
}

/// Removes an account with its events, plans, sync state and keychain secrets. Waits for a running sync
/// to end first, so that no page of it lands after the account is gone.
#[tauri::command]
pub async fn disconnect(
    handle: AppHandle,
    accounts: State<'_, Accounts>,
    id: String,
) -> Result<()> {
    let accounts = accounts.inner().clone();
    blocking(move || {
        let _no_sync = lock(&accounts.0.syncer);
        let out = handle.state::<Core>().with(|app| app.disconnect(&id))?;
        // The account is gone here either way; the user should know its grant may live on there.
        if let Some(why) = out.revoke_error {
            let _ = punctual::desktop_host::notice(
                "Punctual could not revoke its access",
                &format!("{why}. Remove Punctual in your account's security settings."),
            );
        }
        Ok(())
    })
    .await
}

/// The changes a provider refused for good (see `App::conflicts`), oldest first. A sync that marks one
/// writes the store, so the window hears of it as a change and asks again.
#[tauri::command(async)]
pub fn conflicts(core: State<'_, Core>) -> Result<Vec<ConflictView>> {
    core.with(|app| app.conflict_views())
}

/// Forgets a conflict the user has seen; an id that is not a conflict is `not_found`.
#[tauri::command(async)]
pub fn dismiss_conflict(core: State<'_, Core>, id: i64) -> Result<()> {
    core.with(|app| app.dismiss_conflict(id))
}

/// How often accounts sync in the background, in minutes.
#[tauri::command(async)]
pub fn sync_interval(core: State<'_, Core>) -> Result<u32> {
    core.with(|app| Ok((app.sync_interval()?.as_secs() / 60) as u32))
}

/// Sets how often accounts sync (1 to 1440 minutes); the next round is that far from now.
#[tauri::command(async)]
pub fn set_sync_interval(
    core: State<'_, Core>,
    accounts: State<'_, Accounts>,
    minutes: i64,
) -> Result<()> {
    core.with(|app| app.set_sync_interval(minutes))?;
    accounts.reschedule();
    Ok(())
}

/// The OAuth client of `provider` (a registry slug) stored in the settings (never its secret; only whether
/// one is set).
#[tauri::command(async)]
pub fn oauth_client(core: State<'_, Core>, provider: String) -> Result<Option<ClientView>> {
    core.with(|app| {
        let spec = app.providers().by_name(&provider)?;
        app.oauth_client(spec.provider())
    })
}

/// Stores the OAuth client that "Connect <provider>" uses when the environment names none. Replaces both
/// fields: without a secret, a stored one is dropped.
#[tauri::command(async)]
pub fn set_oauth_client(
    core: State<'_, Core>,
    provider: String,
    client_id: String,
    client_secret: Option<String>,
) -> Result<ClientView> {
    let secret = client_secret.filter(|s| !s.trim().is_empty());
    core.with(|app| {
        let spec = app.providers().by_name(&provider)?;
        app.set_oauth_client(spec.provider(), &client_id, secret.as_deref())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_and_field(e: &Error) -> (String, Option<String>) {
        let j = serde_json::to_value(e).unwrap_or_default();
        (
            j["code"].as_str().unwrap_or_default().to_string(),
            j["field"].as_str().map(str::to_string),
        )
    }

    /// A browser that does what a test tells it to with each URL, instead of opening one.
    struct StandIn<F: Fn(&str) + Send + Sync>(F);

    impl<F: Fn(&str) + Send + Sync> Opener for StandIn<F> {
        fn open(&self, url: &str) -> std::result::Result<(), String> {
            (self.0)(url);
            Ok(())
        }
    }

    #[test]
    fn an_unknown_provider_is_the_registrys_error_and_leaves_no_sign_in_waiting() {
        let dir = tempfile::tempdir().expect("a temporary data dir");
        let accounts = Accounts::new(Some(dir.path()));
        let never = StandIn(|url: &str| panic!("no browser opens for an unknown provider: {url}"));
        let err = accounts
            .sign_in("yahoo", &|_| {}, &never)
            .expect_err("yahoo is no provider of this build");
        assert_eq!(
            code_and_field(&err),
            ("invalid_input".into(), Some("provider".into())),
            "the window marks the provider as the fault: {err:?}"
        );
        assert!(
            lock(&accounts.0.connecting).is_none(),
            "a refused sign-in must free the slot, or every later Connect would be refused"
        );
        let err = accounts
            .token_sign_in(
                "yahoo",
                SecretString::new("1//rt"),
                TokenClient {
                    id: String::new(),
                    secret: None,
                    tenant: None,
                },
            )
            .expect_err("yahoo is no provider of this build");
        assert_eq!(
            code_and_field(&err).1.as_deref(),
            Some("provider"),
            "with an unknown provider, the empty client id is not the problem to report: {err:?}"
        );
        let err = accounts
            .token_sign_in(
                "google",
                SecretString::new("1//rt"),
                TokenClient {
                    id: "  ".into(),
                    secret: None,
                    tenant: None,
                },
            )
            .expect_err("a refresh token is useless without the client it was issued to");
        assert_eq!(
            code_and_field(&err),
            ("invalid_input".into(), Some("client_id".into())),
            "the form marks the client id field: {err:?}"
        );
    }

    #[test]
    fn a_browser_sign_in_names_its_provider_runs_one_at_a_time_and_cancel_ends_it() {
        let dir = tempfile::tempdir().expect("a temporary data dir");
        // CI runs the Rust tests with no session bus, so no keychain: the sign-in's secrets live in memory.
        let secrets: Arc<dyn Secrets> = Arc::new(punctual::secrets::MemorySecrets::new());
        App::open(dir.path())
            .map(|app| app.with_secrets(Arc::clone(&secrets)))
            .and_then(|app| {
                app.set_oauth_client(Provider::GoogleCalendar, "desk-test.apps.example", None)
            })
            .expect("a stored Google client to sign in with");
        let accounts = Accounts::with_secrets(Some(dir.path()), Some(secrets));
        let messages = Mutex::new(Vec::<String>::new());
        let opened = Mutex::new(Vec::<String>::new());
        let second = Mutex::new(None::<Result<Connection>>);
        let browser = StandIn(|url: &str| {
            lock(&opened).push(url.to_string());
            // The user clicks Connect again while the browser tab waits.
            *lock(&second) = Some(accounts.sign_in("google", &|_| {}, &StandIn(|_: &str| {})));
            accounts.cancel_connect();
        });
        let notify = |a: SyncActivity| lock(&messages).push(a.message);
        let err = accounts
            .sign_in("Google", &notify, &browser)
            .expect_err("the sign-in was cancelled before the browser came back");
        assert_eq!(
            code_and_field(&err).0,
            "cancelled",
            "Cancel ends the wait with its own code, which the window does not show as a failure: {err:?}"
        );
        assert_eq!(
            lock(&messages).as_slice(),
            ["Sign in to Google in your browser, then come back here"],
            "the waiting message names the provider's display name"
        );
        let opened = lock(&opened).clone();
        assert!(
            opened.len() == 1 && opened[0].contains("desk-test.apps.example"),
            "the browser gets one authorization URL, for the stored client: {opened:?}"
        );
        let refused = lock(&second)
            .take()
            .map(|r| r.map(|c| c.id).map_err(|e| e.message));
        assert!(
            matches!(&refused, Some(Err(m)) if m.contains("already waiting")),
            "a second sign-in while one waits is refused, not queued: {refused:?}"
        );
        assert!(
            lock(&accounts.0.connecting).is_none(),
            "a cancelled sign-in frees the slot for the next Connect"
        );
    }

    #[test]
    fn conflicts_answer_through_the_windows_core_and_a_stale_dismiss_is_not_found() {
        let dir = tempfile::tempdir().expect("a temporary data dir");
        let core = Core::open(dir.path());
        let listed = core.with(|app| app.conflict_views()).map(|v| v.len());
        assert_eq!(
            listed.ok(),
            Some(0),
            "a store with no account lists no conflicts, rather than failing the page"
        );
        // Two windows (or the CLI) may dismiss the same conflict: the second learns it is gone.
        let err = core
            .with(|app| app.dismiss_conflict(7))
            .err()
            .map(|e| serde_json::to_value(&e).ok());
        assert_eq!(
            err.flatten().map(|j| j["code"].clone()),
            Some(serde_json::json!("not_found")),
            "the UI tells a vanished conflict from a failure by this code"
        );
    }
}
