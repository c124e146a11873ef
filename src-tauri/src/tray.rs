//! The tray icon: the next meeting with a countdown, "Join next meeting", the rest of today's meetings each
//! with Join, "Open Punctual" and "Quit". The menu always exists, because a Linux tray icon without one gets
//! no clicks at all.
//!
//! What the tray shows is a pure function of the meetings and the time ([`model`]), tested without a window.
//! A thread refreshes it at each minute boundary (the countdown) and whenever the data changed (the
//! watcher's notice, [`Tray::changed`]); it rebuilds the menu only when an entry differs, so an idle minute
//! costs one query and at most a new title. The title sits beside the icon where the platform shows one
//! (macOS, AppIndicator panels); the tooltip carries the same text elsewhere.

use crate::commands::Core;
use crate::{joins, lifecycle};
use chrono::{DateTime, Duration, NaiveTime, Timelike, Utc};
use punctual::app::NextMeeting;
use punctual::time::Zone;
use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::sync::Mutex;
use tauri::menu::{IsMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Wry};

/// Today's other meetings listed in the menu, at most.
const TODAY_LIMIT: usize = 12;
/// Event titles are cut to this many characters in the menu and the title.
const TITLE_CHARS: usize = 40;
pub const JOIN_NEXT: &str = "join-next";
pub const OPEN: &str = "open";
pub const QUIT: &str = "quit";
/// Menu ids of today's meetings: this prefix, then the occurrence id.
pub const JOIN_PREFIX: &str = "join:";

/// One line of the tray menu.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// Information, shown disabled.
    Label(String),
    Item {
        id: String,
        label: String,
        enabled: bool,
    },
    Separator,
}

/// Everything the tray shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrayModel {
    /// "Standup in 5 min", "Now: Standup" or "No upcoming meetings": the title and the tooltip.
    pub status: String,
    pub entries: Vec<Entry>,
}

/// What the tray shows for the `next` meeting and the rest of `today`, at `now`, with times in `zone`.
pub fn model(
    next: Option<&NextMeeting>,
    today: &[NextMeeting],
    zone: Zone,
    now: DateTime<Utc>,
) -> TrayModel {
    let hm = |t: DateTime<Utc>| zone.local(t).format("%H:%M").to_string();
    let (status, first) = match next.and_then(|m| start_of(m).map(|s| (m, s))) {
        None => (
            "No upcoming meetings".to_string(),
            "No upcoming meetings".to_string(),
        ),
        Some((m, start)) if start <= now => {
            let title = short(&m.event.title);
            (
                format!("Now: {title}"),
                format!("Now: {title} · since {}", hm(start)),
            )
        }
        Some((m, start)) => {
            let title = short(&m.event.title);
            let when = if zone.local(start).date() == zone.local(now).date() {
                hm(start)
            } else {
                zone.local(start).format("%a %d %b %H:%M").to_string()
            };
            (
                format!("{title} {}", countdown(start - now)),
                format!("Next: {title} · {when}"),
            )
        }
    };
    let mut entries = vec![
        Entry::Label(first),
        Entry::Item {
            id: JOIN_NEXT.into(),
            label: "Join next meeting".into(),
            enabled: next.is_some(),
        },
    ];
    let next_id = next.map(|m| m.event.id.as_str());
    let later: Vec<Entry> = today
        .iter()
        .filter(|m| Some(m.event.id.as_str()) != next_id)
        .filter_map(|m| {
            let start = start_of(m)?;
            Some(Entry::Item {
                id: format!("{JOIN_PREFIX}{}", m.event.id),
                label: format!("Join {} · {}", short(&m.event.title), hm(start)),
                enabled: true,
            })
        })
        .collect();
    if !later.is_empty() {
        entries.push(Entry::Separator);
        entries.push(Entry::Label("Later today".into()));
        entries.extend(later);
    }
    entries.push(Entry::Separator);
    entries.push(Entry::Item {
        id: OPEN.into(),
        label: "Open Punctual".into(),
        enabled: true,
    });
    entries.push(Entry::Item {
        id: QUIT.into(),
        label: "Quit".into(),
        enabled: true,
    });
    TrayModel { status, entries }
}

fn start_of(m: &NextMeeting) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(&m.event.start_time)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// "in 5 min", "in 1 h 05 min", "in 3 days". Minutes round up: at 9:59:30 a 10:00 meeting is "in 1 min",
/// never "in 0 min".
pub fn countdown(left: Duration) -> String {
    let minutes = (left.num_seconds() + 59).div_euclid(60).max(1);
    match minutes {
        m if m < 60 => format!("in {m} min"),
        m if m < 24 * 60 => format!("in {} h {:02} min", m / 60, m % 60),
        m => match m / (24 * 60) {
            1 => "in 1 day".to_string(),
            d => format!("in {d} days"),
        },
    }
}

/// An event's title for a menu: cut to [`TITLE_CHARS`], with `&` doubled because the menu toolkits read a
/// single `&` as a keyboard mnemonic.
fn short(title: &str) -> String {
    let t = title.trim();
    let cut: String = if t.chars().count() > TITLE_CHARS {
        t.chars()
            .take(TITLE_CHARS - 1)
            .chain(std::iter::once('…'))
            .collect()
    } else {
        t.to_string()
    };
    cut.replace('&', "&&")
}

/// The running tray: wake its refresher with [`Tray::changed`].
pub struct Tray {
    wake: Mutex<Sender<()>>,
}

impl Tray {
    /// The data changed: refresh now.
    pub fn changed(&self) {
        if let Ok(tx) = self.wake.lock() {
            // The refresher is gone only while the app exits.
            let _ = tx.send(());
        }
    }
}

/// Creates the tray icon and starts its refresher.
pub fn start(app: &AppHandle) -> tauri::Result<Tray> {
    let first = snapshot(app);
    let mut builder = TrayIconBuilder::with_id("punctual")
        .menu(&menu(app, &first.entries)?)
        .tooltip(&first.status)
        .title(&first.status)
        // A left click opens the window where the platform reports clicks (macOS, Windows); the menu is
        // on the right button there, and on any click on Linux.
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| on_menu(app, event.id().as_ref()))
        .on_tray_icon_event(|icon, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                lifecycle::open_main_logged(icon.app_handle());
            }
        });
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    let icon = builder.build(app)?;

    let (tx, rx) = channel::<()>();
    let app = app.clone();
    std::thread::Builder::new()
        .name("punctual-tray".into())
        .spawn(move || {
            let mut shown = first;
            loop {
                match rx.recv_timeout(until_next_minute(Utc::now())) {
                    Ok(()) => while rx.try_recv().is_ok() {},
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => return,
                }
                let model = snapshot(&app);
                if let Err(e) = show(&app, &icon, &shown, &model) {
                    eprintln!("punctual-desktop: cannot update the tray: {e}");
                }
                shown = model;
            }
        })?;
    Ok(Tray {
        wake: Mutex::new(tx),
    })
}

/// Just past the next minute boundary, when every countdown in minutes changes.
fn until_next_minute(now: DateTime<Utc>) -> std::time::Duration {
    let into = std::time::Duration::new(u64::from(now.second()), now.nanosecond() % 1_000_000_000);
    std::time::Duration::from_millis(60_200).saturating_sub(into)
}

/// The model from the core now. A core that cannot answer shows as no meetings, and says why on stderr.
fn snapshot(app: &AppHandle) -> TrayModel {
    let read = app.state::<Core>().with(|core| {
        let now = core.now();
        let zone = core.user_zone();
        let midnight =
            zone.resolve((zone.local(now).date() + chrono::Days::new(1)).and_time(NaiveTime::MIN));
        let next = core.next_meeting()?;
        let today = core.upcoming_meetings(midnight, TODAY_LIMIT)?;
        Ok(model(next.as_ref(), &today, zone, now))
    });
    read.unwrap_or_else(|e| {
        eprintln!(
            "punctual-desktop: the tray cannot read the meetings: {}",
            e.message
        );
        model(None, &[], Zone::UTC, Utc::now())
    })
}

/// Shows `model`, touching only what differs from `shown`.
fn show(
    app: &AppHandle,
    icon: &TrayIcon,
    shown: &TrayModel,
    model: &TrayModel,
) -> tauri::Result<()> {
    if model.entries != shown.entries {
        icon.set_menu(Some(menu(app, &model.entries)?))?;
    }
    if model.status != shown.status {
        icon.set_tooltip(Some(&model.status))?;
        icon.set_title(Some(&model.status))?;
    }
    Ok(())
}

fn menu(app: &AppHandle, entries: &[Entry]) -> tauri::Result<Menu<Wry>> {
    let mut items: Vec<Box<dyn IsMenuItem<Wry>>> = Vec::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        items.push(match e {
            Entry::Label(text) => Box::new(MenuItem::with_id(
                app,
                format!("label-{i}"),
                text,
                false,
                None::<&str>,
            )?),
            Entry::Item { id, label, enabled } => {
                Box::new(MenuItem::with_id(app, id, label, *enabled, None::<&str>)?)
            }
            Entry::Separator => Box::new(PredefinedMenuItem::separator(app)?),
        });
    }
    let refs: Vec<&dyn IsMenuItem<Wry>> = items.iter().map(|b| b.as_ref()).collect();
    Menu::with_items(app, &refs)
}

fn on_menu(app: &AppHandle, id: &str) {
    match id {
        JOIN_NEXT => joins::join_in_background(app, "next".to_string()),
        OPEN => lifecycle::open_main_logged(app),
        QUIT => {
            lifecycle::quitting();
            app.exit(0);
        }
        other => {
            if let Some(occurrence) = other.strip_prefix(JOIN_PREFIX) {
                joins::join_in_background(app, occurrence.to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use punctual::app::EventView;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("a valid test time")
            .with_timezone(&Utc)
    }

    fn meeting(id: &str, title: &str, start: &str, now: DateTime<Utc>) -> NextMeeting {
        let secs = (at(start) - now).num_seconds();
        let event: EventView = serde_json::from_value(serde_json::json!({
            "id": id, "title": title, "start_time": start, "end_time": start, "all_day": false,
            "time_zone": "UTC", "calendar_id": "local", "connection_id": "local", "platform": "local",
            "platform_id": null, "ical_uid": id, "series_id": null, "original_start": null,
            "meeting_platform": "google_meet", "meeting_url": "https://meet.google.com/abc-defg-hij",
            "location": null, "description": null, "url": null, "color": "#3b82f6", "availability": "busy",
            "repeat": null, "created_at": start, "updated_at": start, "is_deleted": false, "joins": [],
            "raw": null
        }))
        .expect("an EventView from its JSON form");
        NextMeeting {
            event,
            starts_in_seconds: secs,
            in_progress: secs <= 0,
        }
    }

    #[test]
    fn the_menu_always_exists_even_with_no_meetings() {
        let m = model(None, &[], Zone::UTC, at("2026-11-21T09:00:00Z"));
        assert_eq!(
            m.status, "No upcoming meetings",
            "the title says there is nothing to join"
        );
        assert_eq!(
            m.entries.first(),
            Some(&Entry::Label("No upcoming meetings".into())),
            "the first line says so too"
        );
        assert!(
            m.entries.contains(&Entry::Item {
                id: JOIN_NEXT.into(),
                label: "Join next meeting".into(),
                enabled: false
            }),
            "Join next meeting stays in place but cannot be clicked when there is nothing to join"
        );
        let ids: Vec<&str> = m
            .entries
            .iter()
            .filter_map(|e| match e {
                Entry::Item { id, .. } => Some(id.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(
            ids,
            vec![JOIN_NEXT, OPEN, QUIT],
            "Open and Quit are always there: on Linux the menu is the only way to reach the app"
        );
    }

    #[test]
    fn the_next_meeting_shows_with_a_countdown_and_the_rest_of_today_with_join() {
        let now = at("2026-11-21T09:55:00Z");
        let next = meeting("a", "Standup", "2026-11-21T10:00:00Z", now);
        let later = meeting("b", "Design review", "2026-11-21T14:30:00Z", now);
        let m = model(Some(&next), &[next.clone(), later], Zone::UTC, now);
        assert_eq!(
            m.status, "Standup in 5 min",
            "title and countdown to the start"
        );
        assert_eq!(
            m.entries[0],
            Entry::Label("Next: Standup · 10:00".into()),
            "the first line names the next meeting and its start"
        );
        assert!(
            m.entries.contains(&Entry::Item {
                id: "join:b".into(),
                label: "Join Design review · 14:30".into(),
                enabled: true
            }),
            "each later meeting today can be joined from the menu: {m:?}"
        );
        assert!(
            !m.entries
                .iter()
                .any(|e| matches!(e, Entry::Item { id, .. } if id == "join:a")),
            "the next meeting is not listed twice"
        );
    }

    #[test]
    fn during_a_meeting_the_tray_says_now() {
        let now = at("2026-11-21T10:07:00Z");
        let running = meeting("a", "Standup", "2026-11-21T10:00:00Z", now);
        let m = model(
            Some(&running),
            std::slice::from_ref(&running),
            Zone::UTC,
            now,
        );
        assert_eq!(
            m.status, "Now: Standup",
            "a meeting in progress is shown as now, not as a negative countdown"
        );
        assert_eq!(
            m.entries[0],
            Entry::Label("Now: Standup · since 10:00".into()),
            "with its start"
        );
    }

    #[test]
    fn a_next_meeting_on_another_day_names_the_day_and_times_are_in_the_user_zone() {
        let now = at("2026-11-21T20:00:00Z");
        let next = meeting("a", "Standup", "2026-11-23T08:00:00Z", now);
        let paris = Zone::parse("Europe/Paris").expect("a known zone");
        let m = model(Some(&next), &[], paris, now);
        assert_eq!(
            m.entries[0],
            Entry::Label("Next: Standup · Mon 23 Nov 09:00".into()),
            "a meeting on another day shows its day, at the user's local time (UTC+1 in November)"
        );
        assert_eq!(m.status, "Standup in 1 day", "a far meeting counts in days");
    }

    #[test]
    fn countdowns_round_up_to_whole_minutes() {
        assert_eq!(
            countdown(Duration::seconds(30)),
            "in 1 min",
            "never 'in 0 min' before the start"
        );
        assert_eq!(
            countdown(Duration::seconds(60)),
            "in 1 min",
            "exactly one minute"
        );
        assert_eq!(
            countdown(Duration::seconds(61)),
            "in 2 min",
            "a minute and a bit rounds up"
        );
        assert_eq!(
            countdown(Duration::minutes(65)),
            "in 1 h 05 min",
            "hours and minutes"
        );
        assert_eq!(countdown(Duration::hours(50)), "in 2 days", "days");
    }

    #[test]
    fn titles_are_cut_and_ampersands_survive_the_menu_toolkit() {
        assert_eq!(
            short("R&D sync"),
            "R&&D sync",
            "a single & would become a mnemonic and vanish"
        );
        let long = "x".repeat(100);
        assert_eq!(
            short(&long).chars().count(),
            TITLE_CHARS,
            "a long title is cut so the menu stays narrow"
        );
    }

    #[test]
    fn the_refresher_wakes_just_after_each_minute_boundary() {
        let wait = until_next_minute(at("2026-11-21T09:59:45Z"));
        assert!(
            wait > std::time::Duration::from_secs(15)
                && wait <= std::time::Duration::from_millis(15_200),
            "from :45 it waits about 15 s, to just past the minute: {wait:?}"
        );
    }
}
