//! Whether the screen is locked, so the due loop never auto-joins into a locked session. On Linux it asks
//! the session's org.freedesktop.ScreenSaver (GetActive), then logind's LockedHint for this session; where
//! neither answers, the screen counts as unlocked. Elsewhere it is never reported locked.

use crate::join::ScreenLock;

/// The session's screen lock, asked over D-Bus each time the loop looks.
pub struct SessionLock;

#[cfg(target_os = "linux")]
impl ScreenLock for SessionLock {
    fn is_locked(&self) -> bool {
        screensaver_active().or_else(logind_locked).unwrap_or(false)
    }
}

#[cfg(target_os = "linux")]
fn screensaver_active() -> Option<bool> {
    let conn = zbus::blocking::Connection::session().ok()?;
    let reply = conn
        .call_method(
            Some("org.freedesktop.ScreenSaver"),
            "/org/freedesktop/ScreenSaver",
            Some("org.freedesktop.ScreenSaver"),
            "GetActive",
            &(),
        )
        .ok()?;
    reply.body().deserialize::<bool>().ok()
}

#[cfg(target_os = "linux")]
fn logind_locked() -> Option<bool> {
    let conn = zbus::blocking::Connection::system().ok()?;
    let reply = conn
        .call_method(
            Some("org.freedesktop.login1"),
            "/org/freedesktop/login1/session/auto",
            Some("org.freedesktop.DBus.Properties"),
            "Get",
            &("org.freedesktop.login1.Session", "LockedHint"),
        )
        .ok()?;
    let value: zbus::zvariant::OwnedValue = reply.body().deserialize().ok()?;
    bool::try_from(value).ok()
}

#[cfg(not(target_os = "linux"))]
impl ScreenLock for SessionLock {
    fn is_locked(&self) -> bool {
        false
    }
}
