//! What the targets share: the options a parse runs with, and the expansion that storing events runs next.
// Each target uses only some of these helpers.
#![allow(dead_code)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use punctual::model::Event;
use punctual::recurrence::{self, Override, Series, Window};
use punctual::time::Zone;
use std::collections::BTreeMap;

/// A zone with DST, so floating and all-day times cross its gaps and folds.
pub fn zone() -> Zone {
    Zone::parse("Europe/Berlin").unwrap_or(Zone::UTC)
}

/// A fixed "now", so a crash reproduces.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 8, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

/// Expands every series among `events` with its overrides, as the store does when it materializes a uid
/// group, over the year after its start. The instance cap keeps a hostile rule from costing more than the
/// store would ever spend on it.
pub fn expand_groups(events: &[Event], zone: Zone) {
    let mut groups: BTreeMap<&str, Vec<&Event>> = BTreeMap::new();
    for e in events {
        groups.entry(e.uid.as_str()).or_default().push(e);
    }
    for group in groups.values() {
        let Some(master) = group
            .iter()
            .find(|e| e.is_series() && e.recurrence_id.is_none())
        else {
            for e in group {
                let _ = e.start.to_utc(zone);
                let _ = e.end.to_utc(zone);
            }
            continue;
        };
        let Some(rec) = master.recurrence.as_ref() else {
            continue;
        };
        let overrides: Vec<Override> = group
            .iter()
            .filter_map(|o| {
                Some(Override {
                    recurrence_id: o.recurrence_id?,
                    this_and_future: o.this_and_future,
                    start: o.start,
                    end: o.end,
                    cancelled: o.status == punctual::model::EventStatus::Cancelled,
                })
            })
            .collect();
        let series = Series {
            start: master.start,
            end: master.end,
            recurrence: rec,
        };
        let from = master.start.to_utc(zone);
        let window = Window {
            start: from.checked_sub_signed(Duration::days(1)).unwrap_or(from),
            end: from.checked_add_signed(Duration::days(400)).unwrap_or(from),
        };
        if let Ok(x) = recurrence::expand(&series, &overrides, window, zone, 200) {
            assert!(
                x.instances.len() <= 200,
                "expand must honour its instance cap, gave {}",
                x.instances.len()
            );
        }
    }
}
