//! Fuzz the Microsoft Graph calendarView (delta) page reader and the item mapper: no body may panic them, and
//! the series they yield expand as a sync would store them. The input is a page, then optionally a NUL byte
//! and the JSON every stub's series master fetch answers with (none after it: the master is gone).
#![no_main]

#[path = "shared/mod.rs"]
mod shared;

use libfuzzer_sys::fuzz_target;
use punctual::providers::microsoft::{self, MasterFetch};
use punctual::providers::{CalendarRef, ProviderError};
use punctual::store::RemoteChange;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let (page, master) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], std::str::from_utf8(&data[i + 1..]).ok()),
        None => (data, None),
    };
    let zone = shared::zone();
    let calendar = CalendarRef {
        id: "cal",
        remote_id: "AAMk",
        zone,
    };
    let Ok(api) = url::Url::parse("https://graph.microsoft.com/v1.0") else {
        return;
    };
    let mut fetch =
        |_: &str| -> Result<Option<Arc<str>>, ProviderError> { Ok(master.map(Arc::from)) };
    let fetch: &mut MasterFetch<'_> = &mut fetch;
    if let Ok(page) = microsoft::parse_page(page, &calendar, &api, fetch) {
        for link in page.next_page.iter().chain(page.sync_token.iter()) {
            assert!(
                microsoft::on_base(&api, link).is_ok(),
                "a page is only read when its links stay on the API base: {link}"
            );
        }
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
    if let Ok(text) = std::str::from_utf8(page) {
        if let Ok(Some(RemoteChange::Upsert(e))) = microsoft::map_item(text, master, "cal", zone) {
            shared::expand_groups(&[*e], zone);
        }
    }
});
