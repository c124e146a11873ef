//! Time: every use of chrono-tz lives here, with the `Clock` trait and the `When` value.
//!
//! Concepts:
//! - [`Zone`] is an IANA time zone. Windows names (Exchange, Outlook) are mapped to IANA on the way in
//!   ([`Zone::parse`]), so nothing past this module ever sees a Windows name.
//! - [`When`] is a point as the source wrote it: a date (all-day), a floating wall-clock time, a wall-clock
//!   time in a zone, or an absolute UTC instant. Recurrence works on these wall-clock values so that a series
//!   keeps its local time across DST; only [`When::to_utc`] turns one into an instant.
//! - A wall-clock time that does not exist (inside a spring-forward gap) is read with the offset from before the
//!   gap, so it moves forward by the gap's length (RFC 5545 §3.3.5). An ambiguous one (fall-back) takes the
//!   first, earlier instant.
//! - [`Clock`] is passed in wherever "now" matters (validation, default windows, reminders), never read deep
//!   inside, so tests can pin it.

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

mod windows_zones;
pub mod wire;

/// An IANA time zone.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Zone(Tz);

impl Zone {
    pub const UTC: Zone = Zone(Tz::UTC);

    /// Parses an IANA name, or a Windows zone name as Exchange and Outlook write them.
    /// Returns `None` for anything else.
    pub fn parse(name: &str) -> Option<Zone> {
        let name = name.trim();
        if let Ok(tz) = Tz::from_str(name) {
            return Some(Zone(tz));
        }
        // Some producers quote the TZID or prefix it with a vendor path such as
        // "/mozilla.org/20050126_1/America/New_York"; the IANA name is the tail.
        let unquoted = name.trim_matches('"');
        if let Some(iana) = windows_zones::to_iana(unquoted) {
            return Tz::from_str(iana).ok().map(Zone);
        }
        for (i, _) in unquoted.match_indices('/') {
            if let Ok(tz) = Tz::from_str(&unquoted[i + 1..]) {
                return Some(Zone(tz));
            }
        }
        None
    }

    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// The Windows name of this zone, where it is some Windows zone's primary one (CLDR), as Exchange and
    /// Graph write zones; UTC is "UTC". `None` for the rest, which a writer then sends as UTC instants.
    pub fn windows_name(&self) -> Option<&'static str> {
        if self.0 == Tz::UTC || self.0 == Tz::Etc__UTC {
            return Some("UTC");
        }
        windows_zones::to_windows(self.0.name())
    }

    /// The user's system zone, or UTC when it cannot be read or is not an IANA name we know.
    pub fn system() -> Zone {
        iana_time_zone::get_timezone()
            .ok()
            .and_then(|n| Zone::parse(&n))
            .unwrap_or(Zone::UTC)
    }

    /// The user's zone: `PUNCTUAL_TIME_ZONE`, else `TZ` when it names a zone, else the system's.
    pub fn user() -> Zone {
        ["PUNCTUAL_TIME_ZONE", "TZ"]
            .iter()
            .filter_map(|k| std::env::var(k).ok())
            .find_map(|v| Zone::parse(v.trim_start_matches(':')))
            .unwrap_or_else(Zone::system)
    }

    /// Reads a wall-clock time in this zone as an instant, following RFC 5545 §3.3.5 for gaps and overlaps.
    pub fn resolve(&self, local: NaiveDateTime) -> DateTime<Utc> {
        match self.0.from_local_datetime(&local) {
            LocalResult::Single(t) => t.with_timezone(&Utc),
            LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
            LocalResult::None => {
                // In a gap: use the offset in force just before it, which moves the time forward by the gap.
                let mut probe = local;
                for _ in 0..48 {
                    probe -= Duration::minutes(30);
                    if let LocalResult::Single(t) | LocalResult::Ambiguous(t, _) =
                        self.0.from_local_datetime(&probe)
                    {
                        let offset = t.offset().fix();
                        return (local - offset).and_utc();
                    }
                }
                local.and_utc()
            }
        }
    }

    /// The wall-clock time of an instant in this zone.
    pub fn local(&self, t: DateTime<Utc>) -> NaiveDateTime {
        t.with_timezone(&self.0).naive_local()
    }

    /// The UTC offset, in seconds, in force at an instant.
    pub fn offset_seconds(&self, t: DateTime<Utc>) -> i32 {
        use chrono::Offset;
        t.with_timezone(&self.0).offset().fix().local_minus_utc()
    }

    /// Every IANA zone name, for pickers.
    pub fn all_names() -> impl Iterator<Item = &'static str> {
        chrono_tz::TZ_VARIANTS.iter().map(|t| t.name())
    }
}

use chrono::Offset as _;

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Zone({})", self.0.name())
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name())
    }
}

impl Serialize for Zone {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.name())
    }
}

impl<'de> Deserialize<'de> for Zone {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A visitor rather than `String::deserialize`: every stored event names a zone, and the name is only
        // looked up, never kept.
        struct Name;
        impl serde::de::Visitor<'_> for Name {
            type Value = Zone;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an IANA or Windows time zone name")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Zone, E> {
                Zone::parse(s).ok_or_else(|| E::custom(format!("unknown time zone {s:?}")))
            }
        }
        d.deserialize_str(Name)
    }
}

/// A start or end as its source wrote it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
// Externally tagged: it decodes without buffering, which matters when a listing decodes every row.
#[serde(rename_all = "snake_case")]
pub enum When {
    /// An all-day date.
    Date { date: NaiveDate },
    /// A wall-clock time with no zone: the same clock time wherever the user is.
    Floating {
        #[serde(with = "wire::naive")]
        local: NaiveDateTime,
    },
    /// A wall-clock time in a zone; it keeps its clock time across DST.
    Zoned {
        #[serde(with = "wire::naive")]
        local: NaiveDateTime,
        zone: Zone,
    },
    /// An absolute instant.
    Utc {
        #[serde(with = "wire::utc")]
        at: DateTime<Utc>,
    },
}

impl When {
    /// The instant this names. Dates and floating times are read in `floating_zone`, the user's zone.
    pub fn to_utc(&self, floating_zone: Zone) -> DateTime<Utc> {
        match *self {
            When::Date { date } => floating_zone.resolve(date.and_time(NaiveTime::MIN)),
            When::Floating { local } => floating_zone.resolve(local),
            When::Zoned { local, zone } => zone.resolve(local),
            When::Utc { at } => at,
        }
    }

    pub fn is_date(&self) -> bool {
        matches!(self, When::Date { .. })
    }

    /// The zone this value carries, if any (UTC for `Utc`).
    pub fn zone(&self) -> Option<Zone> {
        match self {
            When::Zoned { zone, .. } => Some(*zone),
            When::Utc { .. } => Some(Zone::UTC),
            _ => None,
        }
    }

    /// The wall-clock value (midnight for a date; the UTC clock for `Utc`).
    pub fn naive(&self) -> NaiveDateTime {
        match *self {
            When::Date { date } => date.and_time(NaiveTime::MIN),
            When::Floating { local } | When::Zoned { local, .. } => local,
            When::Utc { at } => at.naive_utc(),
        }
    }

    /// The same kind of value (same zone, or date-ness) at another wall-clock time.
    pub fn with_naive(&self, local: NaiveDateTime) -> When {
        match *self {
            When::Date { .. } => When::Date { date: local.date() },
            When::Floating { .. } => When::Floating { local },
            When::Zoned { zone, .. } => When::Zoned { local, zone },
            When::Utc { .. } => When::Utc {
                at: local.and_utc(),
            },
        }
    }
}

/// The source of "now". Pass one in; never call `Utc::now()` deep inside.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The real wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that says what it is told, for tests.
#[derive(Debug)]
pub struct FixedClock(std::sync::Mutex<DateTime<Utc>>);

impl FixedClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        FixedClock(std::sync::Mutex::new(at))
    }
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }
    pub fn advance(&self, by: Duration) {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *g += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Why a user-typed time was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseWhenError {
    #[error("expected an ISO 8601 date-time with an offset or zone (2026-11-21T09:30:00+01:00, 2026-11-21T09:30:00Z, or 2026-11-21T09:30 with a time zone), or a date (2026-11-21) for all-day events")]
    Format,
    #[error("unknown time zone {0:?}")]
    Zone(String),
}

/// Parses a user-typed start or end.
///
/// Accepts `YYYY-MM-DD` (a date), `YYYY-MM-DDTHH:MM[:SS]` with `Z` or `±HH:MM` (an instant, then shown in
/// `zone`), with a bracketed zone `…[Europe/Paris]`, or with no offset at all (wall-clock time in `zone`).
pub fn parse_when(input: &str, zone: Zone) -> Result<When, ParseWhenError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(ParseWhenError::Format);
    }
    if let Ok(date) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(When::Date { date });
    }
    // RFC 9557 style suffix: 2026-11-21T09:30[Europe/Paris]
    let (body, bracket_zone) = match (s.find('['), s.ends_with(']')) {
        (Some(i), true) => {
            let name = &s[i + 1..s.len() - 1];
            let z = Zone::parse(name).ok_or_else(|| ParseWhenError::Zone(name.to_string()))?;
            (&s[..i], Some(z))
        }
        _ => (s, None),
    };
    let zone = bracket_zone.unwrap_or(zone);
    if let Ok(t) = DateTime::parse_from_rfc3339(body) {
        let at = t.with_timezone(&Utc);
        return Ok(When::Zoned {
            local: zone.local(at),
            zone,
        });
    }
    for fmt in ["%Y-%m-%dT%H:%M%:z", "%Y-%m-%dT%H:%M%z", "%Y-%m-%d %H:%M%:z"] {
        if let Ok(t) = DateTime::parse_from_str(body, fmt) {
            let at = t.with_timezone(&Utc);
            return Ok(When::Zoned {
                local: zone.local(at),
                zone,
            });
        }
    }
    if let Some(stripped) = body.strip_suffix('Z') {
        if let Some(local) = parse_naive(stripped) {
            let at = local.and_utc();
            return Ok(When::Zoned {
                local: zone.local(at),
                zone,
            });
        }
    }
    if let Some(local) = parse_naive(body) {
        return Ok(When::Zoned { local, zone });
    }
    Err(ParseWhenError::Format)
}

fn parse_naive(s: &str) -> Option<NaiveDateTime> {
    [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
}

/// Today's date in a zone.
pub fn today_in(zone: Zone, now: DateTime<Utc>) -> NaiveDate {
    zone.local(now).date()
}

/// Formats an instant in a zone for people: "Sat 21 Nov 09:30".
pub fn human(t: DateTime<Utc>, zone: Zone) -> String {
    t.with_timezone(&zone.0)
        .format("%a %d %b %Y %H:%M")
        .to_string()
}

/// Formats an instant as RFC 3339 with the zone's offset, for JSON output.
pub fn rfc3339_in(t: DateTime<Utc>, zone: Zone) -> String {
    t.with_timezone(&zone.0).to_rfc3339()
}

/// The weekday of an iCalendar two-letter code (RFC 5545 §3.3.10 "weekday"): MO, TU, ... SU.
pub fn ical_weekday(code: &str) -> Option<chrono::Weekday> {
    use chrono::Weekday;
    Some(match code {
        "MO" => Weekday::Mon,
        "TU" => Weekday::Tue,
        "WE" => Weekday::Wed,
        "TH" => Weekday::Thu,
        "FR" => Weekday::Fri,
        "SA" => Weekday::Sat,
        "SU" => Weekday::Sun,
        _ => return None,
    })
}
