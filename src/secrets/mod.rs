//! Secrets: OAuth tokens kept in the OS keychain, never in SQLite and never in a log line.
//!
//! Concepts:
//! - [`SecretString`] wraps a token. Its `Debug` and `Display` print `[redacted]`, so a token that ends up
//!   in a `{:?}` or an error message shows nothing of itself; [`SecretString::expose`] is the one way to the
//!   bytes, and is called only where a token goes on the wire or into the keychain.
//! - [`Secrets`] is the store: [`KeyringSecrets`] (Secret Service on Linux, Keychain on macOS, Credential
//!   Manager on Windows, through the `keyring` crate) and [`MemorySecrets`] for tests.
//! - Keys are per connection: [`refresh_key`] and [`access_key`]. A disconnect deletes both.

use crate::error::{Error, ErrorCode, Result};
use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

/// The keychain service name every entry is filed under.
pub const SERVICE: &str = "app.punctual";

/// A token or password. Prints as `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(s: impl Into<String>) -> Self {
        SecretString(s.into())
    }

    /// The secret itself: for the wire and the keychain only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The refresh token's key for a connection.
pub fn refresh_key(connection_id: &str) -> String {
    format!("{connection_id}/refresh_token")
}

/// The access token's key for a connection (cached so every command does not refresh).
pub fn access_key(connection_id: &str) -> String {
    format!("{connection_id}/access_token")
}

/// A store of secrets by key.
pub trait Secrets: Send + Sync {
    fn get(&self, key: &str) -> Result<Option<SecretString>>;
    fn set(&self, key: &str, value: &SecretString) -> Result<()>;
    /// Deletes a secret; deleting one that is not there is not an error.
    fn delete(&self, key: &str) -> Result<()>;
}

/// The OS keychain.
#[derive(Clone, Debug)]
pub struct KeyringSecrets {
    service: String,
}

impl Default for KeyringSecrets {
    fn default() -> Self {
        KeyringSecrets {
            service: SERVICE.to_string(),
        }
    }
}

/// How to get a keychain, per platform, for the error a user sees when there is none.
const NO_KEYCHAIN_HELP: &str = if cfg!(target_os = "linux") {
    "Punctual keeps account tokens in the Secret Service, and none answered on the session D-Bus. Install and \
     start one (GNOME Keyring: `sudo apt install gnome-keyring` and log in again, or run \
     `eval \"$(gnome-keyring-daemon --start --components=secrets)\"`; KDE: KWallet), make sure \
     DBUS_SESSION_BUS_ADDRESS is set, then try again"
} else if cfg!(target_os = "macos") {
    "Punctual keeps account tokens in the login Keychain, which refused access: unlock it in Keychain Access \
     and allow Punctual, then try again"
} else {
    "Punctual keeps account tokens in the Windows Credential Manager, which refused access: check that the \
     Credential Manager service is running, then try again"
};

impl KeyringSecrets {
    pub fn new(service: &str) -> Self {
        KeyringSecrets {
            service: service.to_string(),
        }
    }

    fn entry(&self, key: &str) -> Result<keyring::Entry> {
        keyring::Entry::new(&self.service, key).map_err(keyring_error)
    }
}

/// Maps a keyring failure; never includes a secret (the keyring crate's errors carry none).
fn keyring_error(e: keyring::Error) -> Error {
    match e {
        keyring::Error::NoStorageAccess(inner) | keyring::Error::PlatformFailure(inner) => {
            Error::new(
                ErrorCode::KeychainUnavailable,
                format!("no keychain is available ({inner}). {NO_KEYCHAIN_HELP}"),
            )
        }
        other => Error::new(
            ErrorCode::KeychainUnavailable,
            format!("the keychain failed: {other}. {NO_KEYCHAIN_HELP}"),
        ),
    }
}

impl Secrets for KeyringSecrets {
    fn get(&self, key: &str) -> Result<Option<SecretString>> {
        match self.entry(key)?.get_password() {
            Ok(s) => Ok(Some(SecretString(s))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(keyring_error(e)),
        }
    }

    fn set(&self, key: &str, value: &SecretString) -> Result<()> {
        self.entry(key)?
            .set_password(value.expose())
            .map_err(keyring_error)
    }

    fn delete(&self, key: &str) -> Result<()> {
        match self.entry(key)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(keyring_error(e)),
        }
    }
}

/// Secrets in memory: for tests, and for nothing else (they die with the process).
#[derive(Debug, Default)]
pub struct MemorySecrets {
    map: Mutex<HashMap<String, SecretString>>,
    /// When set, every call fails as a missing keychain would.
    unavailable: std::sync::atomic::AtomicBool,
}

impl MemorySecrets {
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes every later call fail with `keychain_unavailable`, as a machine without a keychain does.
    pub fn set_unavailable(&self, yes: bool) {
        self.unavailable
            .store(yes, std::sync::atomic::Ordering::SeqCst);
    }

    /// The keys held, for tests that a disconnect removed them.
    pub fn keys(&self) -> Vec<String> {
        let mut k: Vec<String> = self.lock().keys().cloned().collect();
        k.sort();
        k
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, SecretString>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn check(&self) -> Result<()> {
        if self.unavailable.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(Error::new(
                ErrorCode::KeychainUnavailable,
                format!("no keychain is available. {NO_KEYCHAIN_HELP}"),
            ));
        }
        Ok(())
    }
}

impl Secrets for MemorySecrets {
    fn get(&self, key: &str) -> Result<Option<SecretString>> {
        self.check()?;
        Ok(self.lock().get(key).cloned())
    }
    fn set(&self, key: &str, value: &SecretString) -> Result<()> {
        self.check()?;
        self.lock().insert(key.to_string(), value.clone());
        Ok(())
    }
    fn delete(&self, key: &str) -> Result<()> {
        self.check()?;
        self.lock().remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_prints_nothing_of_itself() {
        let s = SecretString::new("ya29.super-secret-token");
        let shown = format!("{s} {s:?} {:?}", Some(&s));
        assert!(
            !shown.contains("super-secret"),
            "Display and Debug must never show the token: {shown}"
        );
        assert_eq!(
            s.expose(),
            "ya29.super-secret-token",
            "expose is the way to the bytes"
        );
    }

    #[test]
    fn an_unavailable_keychain_says_how_to_fix_it() {
        let m = MemorySecrets::new();
        m.set_unavailable(true);
        let e = m
            .set("k", &SecretString::new("v"))
            .expect_err("an unavailable keychain must refuse");
        assert_eq!(e.code, ErrorCode::KeychainUnavailable, "the code says why");
        assert!(
            e.message.contains("then try again"),
            "the message tells the user how to fix it: {}",
            e.message
        );
    }
}
