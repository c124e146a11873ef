//! Fuzz the Google events.list page reader and the item mapper: no body may panic them, and the series they
//! yield expand as a sync would store them.
#![no_main]

#[path = "shared/mod.rs"]
mod shared;

use libfuzzer_sys::fuzz_target;
use punctual::providers::google;
use punctual::providers::CalendarRef;
use punctual::store::RemoteChange;

fuzz_target!(|data: &[u8]| {
    let zone = shared::zone();
    let calendar = CalendarRef {
        id: "cal",
        remote_id: "primary",
        zone,
    };
    if let Ok(page) = google::parse_events_page(data, &calendar) {
        let events: Vec<_> = page
            .changes
            .into_iter()
            .filter_map(|c| match c {
                RemoteChange::Upsert(e) => Some(*e),
                RemoteChange::Remove { .. } => None,
            })
            .collect();
        shared::expand_groups(&events, zone);
    }
    // One item on its own, as events.get answers.
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(Some(RemoteChange::Upsert(e))) = google::map_item(text, "cal", zone) {
            shared::expand_groups(&[*e], zone);
        }
    }
});
