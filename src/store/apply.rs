//! Applying one page of provider changes (up to 2,500 events) to a calendar: the hot path of a sync.
//!
//! The result is row for row what applying each change in turn gives (an upsert keyed by calendar, uid and
//! recurrence key, then every touched uid group re-materialized); the tests compare the two. What makes it
//! fast is doing the work per page rather than per event:
//! - the stored rows of every uid the page names are read in one query up front, and [`Known`] keeps them
//!   as the page's own writes leave them, so no event needs an existence or an override query of its own;
//! - events are written in multi-row statements, flushed before a removal so that its DELETE sees them;
//! - a group with no stored row (a new lone single, a new series with its overrides: nearly all of a full
//!   sync) is materialized from the page itself instead of being read back, and every occurrence computed
//!   that way goes into multi-row inserts. Groups with stored rows or a removal are read back as before.

use super::calendars::parse_ts;
use super::events::{Encoded, Encodings, EventRow};
use super::occurrences::{group_occurrences, single_occurrence, NewOccurrence};
use super::{RemoteChange, Writer};
use crate::error::Result;
use crate::model::{Event, EventStatus};
use crate::time::When;
use rusqlite::params;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// A stored row as an upsert needs it: the id it keeps and its creation time as stored. Borrowed from the
/// page where the page wrote it: a first sync records thousands, and copying each was a tenth of the
/// writer's time.
#[derive(Clone, Debug)]
struct Stored<'a> {
    id: Cow<'a, str>,
    created_at: Cow<'a, str>,
}

/// (uid, recurrence key).
type Place<'a> = (Cow<'a, str>, Cow<'a, str>);

/// The stored rows of the page's uids, kept as the page's writes leave them.
#[derive(Default)]
struct Known<'a> {
    /// uid → its rows by recurrence key. Nearly every uid has one row, so a short list beats a map.
    groups: HashMap<Cow<'a, str>, Vec<(Cow<'a, str>, Stored<'a>)>>,
    /// id → (uid, recurrence key): an insert whose id is taken updates that row, wherever it was.
    by_id: HashMap<Cow<'a, str>, Place<'a>>,
}

impl<'a> Known<'a> {
    /// Reads the rows of every uid in `uids` in one statement.
    fn load(w: &Writer<'_>, calendar_id: &str, uids: &BTreeSet<&str>) -> Result<Known<'a>> {
        let mut known = Known::default();
        if uids.is_empty() {
            return Ok(known);
        }
        let list = serde_json::to_string(uids).map_err(|e| {
            crate::error::Error::new(
                crate::error::ErrorCode::Internal,
                format!("cannot list the page's uids: {e}"),
            )
        })?;
        let mut stmt = w.conn().prepare_cached(
            "SELECT uid, recurrence_key, id, created_at FROM events
              WHERE calendar_id = ?1 AND uid IN (SELECT value FROM json_each(?2))",
        )?;
        let mut rows = stmt.query(params![calendar_id, list])?;
        while let Some(r) = rows.next()? {
            let (uid, key): (String, String) = (r.get(0)?, r.get(1)?);
            let stored = Stored {
                id: Cow::Owned(r.get(2)?),
                created_at: Cow::Owned(r.get(3)?),
            };
            known.put(Cow::Owned(uid), Cow::Owned(key), stored);
        }
        Ok(known)
    }

    fn get(&self, uid: &str, key: &str) -> Option<&Stored<'a>> {
        let rows = self.groups.get(uid)?;
        rows.iter().find(|(k, _)| k == key).map(|(_, row)| row)
    }

    /// Whether the uid has a stored override (an instance of a series, maybe of one not stored yet).
    fn has_overrides(&self, uid: &str) -> bool {
        self.groups
            .get(uid)
            .is_some_and(|rows| rows.iter().any(|(k, _)| !k.is_empty()))
    }

    /// Records a row written under (uid, key). Returns the uid that lost a row to it, when its id belonged
    /// to another group's row (which the write then took over).
    fn put(&mut self, uid: Cow<'a, str>, key: Cow<'a, str>, row: Stored<'a>) -> Option<String> {
        let place = (uid, key);
        let previous = self.by_id.insert(row.id.clone(), place.clone());
        let loser = previous.filter(|p| *p != place);
        if let Some((u, k)) = &loser {
            if let Some(rows) = self.groups.get_mut(u.as_ref()) {
                rows.retain(|(key, _)| key != k);
            }
        }
        let (uid, key) = place;
        let rows = self.groups.entry(uid).or_default();
        match rows.iter_mut().find(|(k, _)| *k == key) {
            Some((_, stored)) => *stored = row,
            None => rows.push((key, row)),
        }
        loser.map(|(u, _)| u.into_owned())
    }

    /// Forgets the rows a removal deleted: the uid's row with `key`, or all of them.
    fn remove(&mut self, uid: &str, key: Option<&str>) {
        let Some(rows) = self.groups.get_mut(uid) else {
            return;
        };
        let by_id = &mut self.by_id;
        rows.retain(|(k, row)| {
            let gone = key.is_none_or(|key| key == k);
            if gone {
                by_id.remove(&row.id);
            }
            !gone
        });
    }
}

/// One page being applied.
struct Page<'a> {
    calendar_id: &'a str,
    known: Known<'a>,
    /// How many changes of the page name each uid.
    per_uid: HashMap<&'a str, usize>,
    /// Every event row of the page, in order; those from `written` on are not in the database yet.
    rows: Vec<EventRow<'a>>,
    written: usize,
    /// The occurrences of new lone singles and of groups built from the page.
    occurrences: Vec<NewOccurrence>,
    /// Groups to re-materialize (every uid but new lone singles').
    touched: BTreeSet<&'a str>,
    /// For each touched group, its rows in this page by recurrence key (the latest write of each key).
    in_page: HashMap<&'a str, BTreeMap<&'a str, usize>>,
    /// Touched groups that must be read back: they had stored rows, a removal, or lost a row.
    read_back: HashSet<String>,
}

impl<'a> Page<'a> {
    fn new(w: &Writer<'_>, calendar_id: &'a str, changes: &'a [RemoteChange]) -> Result<Page<'a>> {
        let mut per_uid: HashMap<&str, usize> = HashMap::with_capacity(changes.len());
        for ch in changes {
            *per_uid.entry(uid_of(ch)).or_default() += 1;
        }
        let uids: BTreeSet<&str> = per_uid.keys().copied().collect();
        let known = Known::load(w, calendar_id, &uids)?;
        let read_back = known.groups.keys().map(|uid| uid.to_string()).collect();
        Ok(Page {
            calendar_id,
            known,
            per_uid,
            rows: Vec::with_capacity(changes.len()),
            written: 0,
            occurrences: Vec::with_capacity(changes.len()),
            touched: BTreeSet::new(),
            in_page: HashMap::new(),
            read_back,
        })
    }

    fn upsert(&mut self, w: &Writer<'_>, e: &'a Event, enc: &'a Encoded) -> Result<()> {
        debug_assert_eq!(e.calendar_id, self.calendar_id);
        let key = enc.key.as_str();
        let existing = self.known.get(&e.uid, key).cloned();
        // A new lone single (the bulk of a first sync) has one known occurrence and no group to build,
        // unless instances of the same uid are stored.
        let lone = existing.is_none()
            && !e.is_series()
            && e.recurrence_id.is_none()
            && self.per_uid.get(e.uid.as_str()) == Some(&1)
            && !self.known.has_overrides(&e.uid);
        let (row, stored) = match existing {
            None => (
                EventRow::encoded(e, enc),
                Stored {
                    id: Cow::Borrowed(&e.id),
                    created_at: Cow::Borrowed(&enc.created_at),
                },
            ),
            // An update keeps the stored id and creation time: the page's encoding holds when they are
            // the event's own (as they are for a provider's stable ids).
            Some(s) if s.id == e.id && s.created_at == enc.created_at => {
                (EventRow::encoded(e, enc), s)
            }
            Some(s) => {
                let mut kept = e.clone();
                kept.id = s.id.to_string();
                kept.created_at = parse_ts(&s.created_at);
                (EventRow::new(Cow::Owned(kept), key.to_string())?, s)
            }
        };
        if let Some(loser) = self
            .known
            .put(Cow::Borrowed(&e.uid), Cow::Borrowed(key), stored)
        {
            self.read_back.insert(loser);
        }
        if lone {
            if row.event().status != EventStatus::Cancelled {
                self.occurrences
                    .push(single_occurrence(row.event(), w.zone));
            }
        } else {
            self.touched.insert(e.uid.as_str());
            self.in_page
                .entry(e.uid.as_str())
                .or_default()
                .insert(key, self.rows.len());
        }
        self.rows.push(row);
        Ok(())
    }

    fn remove(&mut self, w: &Writer<'_>, uid: &'a str, recurrence_id: Option<When>) -> Result<()> {
        // The DELETE must see the page's earlier writes.
        self.flush(w)?;
        let key = recurrence_id.map(|r| r.to_utc(w.zone).timestamp().to_string());
        w.remove_remote(self.calendar_id, uid, key.as_deref())?;
        self.known.remove(uid, key.as_deref());
        self.touched.insert(uid);
        self.read_back.insert(uid.to_string());
        Ok(())
    }

    fn flush(&mut self, w: &Writer<'_>) -> Result<()> {
        w.put_events(&self.rows[self.written..])?;
        self.written = self.rows.len();
        Ok(())
    }

    /// Writes what is left and materializes the touched groups, in uid order as their warnings read.
    fn finish(mut self, w: &Writer<'_>) -> Result<Vec<String>> {
        self.flush(w)?;
        let mut warnings = Vec::new();
        if !self.touched.is_empty() {
            let ranges = w.horizon_ranges()?;
            for &uid in &self.touched {
                match self.in_page.get(uid) {
                    Some(keys) if !self.read_back.contains(uid) => {
                        let group: Vec<&Event> =
                            keys.values().map(|&i| self.rows[i].event()).collect();
                        // An id can come with occurrences of a group it belonged to before.
                        for e in &group {
                            w.delete_occurrences_of(&e.id)?;
                        }
                        self.occurrences.extend(group_occurrences(
                            &group,
                            &ranges,
                            w.zone,
                            &mut warnings,
                        ));
                    }
                    _ => warnings.extend(w.materialize_group_in(self.calendar_id, uid, &ranges)?),
                }
            }
        }
        w.insert_occurrences(&self.occurrences)?;
        Ok(warnings)
    }
}

/// Encodings made for another page: a caller's bug, refused before anything is written.
fn mismatch() -> crate::error::Error {
    crate::error::Error::new(
        crate::error::ErrorCode::Internal,
        "a page's encodings do not match its changes",
    )
}

fn uid_of(ch: &RemoteChange) -> &str {
    match ch {
        RemoteChange::Upsert(e) => e.uid.as_str(),
        RemoteChange::Remove { uid, .. } => uid.as_str(),
    }
}

impl Writer<'_> {
    /// Applies one page of provider changes to a calendar and re-materializes every touched group. The
    /// caller saves the page's sync state in the same transaction.
    pub fn apply_remote_page(
        &self,
        calendar_id: &str,
        changes: &[RemoteChange],
    ) -> Result<Vec<String>> {
        self.apply_encoded_page(calendar_id, changes, &Encodings::of(changes, self.zone)?)
    }

    /// [`Writer::apply_remote_page`] with the rows encoded already (by [`Encodings::of`] with this store's
    /// zone), as a sync does on the thread that reads pages.
    pub fn apply_encoded_page(
        &self,
        calendar_id: &str,
        changes: &[RemoteChange],
        encodings: &Encodings,
    ) -> Result<Vec<String>> {
        if encodings.0.len() != changes.len() {
            return Err(mismatch());
        }
        let mut page = Page::new(self, calendar_id, changes)?;
        for (ch, enc) in changes.iter().zip(&encodings.0) {
            match (ch, enc) {
                (RemoteChange::Upsert(e), Some(enc)) => page.upsert(self, e, enc)?,
                (RemoteChange::Remove { uid, recurrence_id }, None) => {
                    page.remove(self, uid, *recurrence_id)?
                }
                _ => return Err(mismatch()),
            }
        }
        page.finish(self)
    }

    /// Starts a full fetch of a calendar: what an earlier, unfinished one saw no longer counts.
    pub fn full_fetch_begin(&self, calendar_id: &str) -> Result<()> {
        self.conn()
            .prepare_cached("DELETE FROM full_fetch_seen WHERE calendar_id = ?1")?
            .execute([calendar_id])?;
        Ok(())
    }

    /// Marks the events a page of a full fetch stored.
    pub fn full_fetch_saw(&self, calendar_id: &str, changes: &[RemoteChange]) -> Result<()> {
        let mut stmt = self.conn().prepare_cached(
            "INSERT OR IGNORE INTO full_fetch_seen (calendar_id, event_id) VALUES (?1, ?2)",
        )?;
        for ch in changes {
            if let RemoteChange::Upsert(e) = ch {
                stmt.execute(params![calendar_id, e.id])?;
            }
        }
        Ok(())
    }

    /// Ends a full fetch with its last page: every event of the calendar it did not see is gone at the
    /// provider, and goes here too, as a removal would (an override gives its instance back to the
    /// series). Returns the expansion warnings of the series touched.
    pub fn full_fetch_sweep(&self, calendar_id: &str) -> Result<Vec<String>> {
        let unseen: Vec<(String, String)> = {
            let mut stmt = self.conn().prepare_cached(
                "SELECT uid, recurrence_key FROM events
                  WHERE calendar_id = ?1
                    AND id NOT IN (SELECT event_id FROM full_fetch_seen WHERE calendar_id = ?1)
                  ORDER BY recurrence_key = '' DESC",
            )?;
            let rows = stmt.query_map([calendar_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut touched = std::collections::BTreeSet::new();
        for (uid, key) in &unseen {
            let key = (!key.is_empty()).then_some(key.as_str());
            self.remove_remote(calendar_id, uid, key)?;
            if key.is_some() {
                touched.insert(uid.clone());
            }
        }
        self.full_fetch_begin(calendar_id)?;
        let mut warnings = Vec::new();
        for uid in touched {
            warnings.extend(self.materialize_group(calendar_id, &uid)?);
        }
        Ok(warnings)
    }

    /// Deletes a removed event: with `key`, the one override row (a removed instance); without, every row of
    /// the uid (Google sends a removed master's id alone, and its instances go with it).
    fn remove_remote(&self, calendar_id: &str, uid: &str, key: Option<&str>) -> Result<()> {
        self.conn()
            .prepare_cached(
                "DELETE FROM occurrences WHERE owner_id IN
                    (SELECT id FROM events WHERE calendar_id = ?1 AND uid = ?2
                        AND (?3 IS NULL OR recurrence_key = ?3))",
            )?
            .execute(params![calendar_id, uid, key])?;
        self.conn()
            .prepare_cached(
                "DELETE FROM events WHERE calendar_id = ?1 AND uid = ?2
                    AND (?3 IS NULL OR recurrence_key = ?3)",
            )?
            .execute(params![calendar_id, uid, key])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LOCAL_CALENDAR_ID as CAL;
    use crate::store::Store;
    use crate::time::Zone;
    use chrono::{DateTime, Utc};
    use rusqlite::types::Value;
    use serde_json::json;

    fn zone() -> Zone {
        Zone::parse("Europe/Berlin").unwrap_or(Zone::UTC)
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    /// A store with the local calendar and a year of materialized months.
    fn store() -> Store {
        let store = Store::open_in_memory(zone()).expect("an in-memory store opens");
        store
            .write(|w| {
                w.ensure_local_calendar(at("2026-01-01T00:00:00Z"))?;
                w.ensure_months(at("2026-01-01T00:00:00Z"), at("2027-01-01T00:00:00Z"))
            })
            .expect("the calendar and its horizon are written");
        store
    }

    fn timed(id: &str, start: &str, end: &str) -> serde_json::Value {
        json!({"id": id, "status": "confirmed", "summary": format!("Event {id}"),
               "created": "2026-01-01T00:00:00Z", "updated": "2026-01-02T00:00:00Z",
               "start": {"dateTime": start, "timeZone": "Europe/Berlin"},
               "end": {"dateTime": end, "timeZone": "Europe/Berlin"}})
    }

    fn series(id: &str, start: &str, end: &str) -> serde_json::Value {
        let mut v = timed(id, start, end);
        v["recurrence"] = json!(["RRULE:FREQ=WEEKLY;COUNT=10"]);
        v
    }

    fn moved(master: &str, original: &str, start: &str, end: &str) -> serde_json::Value {
        let mut v = timed(&format!("{master}_{original}"), start, end);
        v["recurringEventId"] = json!(master);
        v["originalStartTime"] = json!({"dateTime": original, "timeZone": "Europe/Berlin"});
        v
    }

    fn cancelled(id: &str) -> serde_json::Value {
        json!({"id": id, "status": "cancelled"})
    }

    fn cancelled_instance(master: &str, original: &str) -> serde_json::Value {
        json!({"id": format!("{master}_x"), "status": "cancelled", "recurringEventId": master,
               "originalStartTime": {"dateTime": original, "timeZone": "Europe/Berlin"}})
    }

    fn changes(items: &[serde_json::Value]) -> Vec<RemoteChange> {
        items
            .iter()
            .filter_map(|v| {
                crate::providers::google::map_item(&v.to_string(), CAL, zone())
                    .expect("a test item maps")
            })
            .map(|c| match c {
                RemoteChange::Upsert(e) => {
                    RemoteChange::Upsert(Box::new(crate::app::with_link(*e)))
                }
                other => other,
            })
            .collect()
    }

    /// The page applied one change at a time, as the store did before pages were batched: the reference
    /// the batched path must match row for row.
    fn apply_one_by_one(w: &Writer<'_>, changes: &[RemoteChange]) -> Result<Vec<String>> {
        let mut touched = BTreeSet::new();
        let mut per_uid: HashMap<&str, usize> = HashMap::new();
        for ch in changes {
            *per_uid.entry(uid_of(ch)).or_default() += 1;
        }
        for ch in changes {
            match ch {
                RemoteChange::Upsert(e) => {
                    let up = w.upsert_event(e)?;
                    let has_overrides: bool = w.conn().query_row(
                        "SELECT EXISTS (SELECT 1 FROM events
                                         WHERE calendar_id = ?1 AND uid = ?2 AND recurrence_key != '')",
                        [CAL, e.uid.as_str()],
                        |r| r.get(0),
                    )?;
                    if up.created
                        && !e.is_series()
                        && e.recurrence_id.is_none()
                        && per_uid.get(e.uid.as_str()) == Some(&1)
                        && !has_overrides
                    {
                        let mut stored = e.as_ref().clone();
                        stored.id = up.id;
                        w.materialize_new_single(&stored)?;
                    } else {
                        touched.insert(e.uid.clone());
                    }
                }
                RemoteChange::Remove { uid, recurrence_id } => {
                    let key = recurrence_id.map(|r| r.to_utc(w.zone).timestamp().to_string());
                    w.remove_remote(CAL, uid, key.as_deref())?;
                    touched.insert(uid.clone());
                }
            }
        }
        let mut warnings = Vec::new();
        for uid in touched {
            warnings.extend(w.materialize_group(CAL, &uid)?);
        }
        Ok(warnings)
    }

    /// Every row of the tables a page writes, in a stable order.
    fn dump(store: &Store) -> Vec<Vec<Value>> {
        store
            .read(|r| {
                let mut out = Vec::new();
                for sql in [
                    "SELECT * FROM events ORDER BY id",
                    "SELECT * FROM occurrences ORDER BY owner_id, rid",
                    "SELECT * FROM meta WHERE key = 'max_span'",
                ] {
                    let mut stmt = r.conn.prepare(sql)?;
                    let n = stmt.column_count();
                    let rows =
                        stmt.query_map([], |row| (0..n).map(|i| row.get::<_, Value>(i)).collect())?;
                    out.extend(rows.collect::<rusqlite::Result<Vec<Vec<Value>>>>()?);
                }
                Ok(out)
            })
            .expect("the tables read")
    }

    /// A first page: lone singles, a series with a moved and a cancelled instance in the same page (one of
    /// them before its master), a series whose instance comes alone, a duplicate item and a removal.
    fn first_page() -> Vec<RemoteChange> {
        changes(&[
            timed(
                "single1",
                "2026-03-02T09:00:00+01:00",
                "2026-03-02T09:30:00+01:00",
            ),
            moved(
                "weekly",
                "2026-03-10T10:00:00+01:00",
                "2026-03-11T15:00:00+01:00",
                "2026-03-11T16:00:00+01:00",
            ),
            series(
                "weekly",
                "2026-03-03T10:00:00+01:00",
                "2026-03-03T11:00:00+01:00",
            ),
            cancelled_instance("weekly", "2026-03-17T10:00:00+01:00"),
            timed(
                "single2",
                "2026-04-01T12:00:00+02:00",
                "2026-04-01T13:00:00+02:00",
            ),
            series(
                "lonely",
                "2026-05-04T08:00:00+02:00",
                "2026-05-04T08:15:00+02:00",
            ),
            moved(
                "stray",
                "2026-06-01T08:00:00+02:00",
                "2026-06-02T08:00:00+02:00",
                "2026-06-02T09:00:00+02:00",
            ),
            timed(
                "twice",
                "2026-07-01T08:00:00+02:00",
                "2026-07-01T09:00:00+02:00",
            ),
            timed(
                "twice",
                "2026-07-01T10:00:00+02:00",
                "2026-07-01T11:00:00+02:00",
            ),
            cancelled("never-stored"),
        ])
    }

    /// A later page over the first: updates, a new instance of a stored series, removals of a series and of
    /// an instance, a removal followed by a re-creation, a new single, and the stray instance's master.
    fn second_page() -> Vec<RemoteChange> {
        let mut renamed = timed(
            "single1",
            "2026-03-02T11:00:00+01:00",
            "2026-03-02T12:00:00+01:00",
        );
        renamed["summary"] = json!("Renamed");
        renamed["hangoutLink"] = json!("https://meet.google.com/abc-defg-hij");
        changes(&[
            renamed,
            moved(
                "weekly",
                "2026-03-24T10:00:00+01:00",
                "2026-03-24T12:00:00+01:00",
                "2026-03-24T13:00:00+01:00",
            ),
            cancelled("lonely"),
            cancelled_instance("weekly", "2026-03-10T10:00:00+01:00"),
            cancelled("single2"),
            timed(
                "single2",
                "2026-04-02T12:00:00+02:00",
                "2026-04-02T13:00:00+02:00",
            ),
            timed(
                "single3",
                "2026-08-01T12:00:00+02:00",
                "2026-08-01T13:00:00+02:00",
            ),
            series(
                "stray",
                "2026-06-01T08:00:00+02:00",
                "2026-06-01T09:00:00+02:00",
            ),
        ])
    }

    fn apply_pages(pages: &[Vec<RemoteChange>], batched: bool) -> (Store, Vec<String>) {
        let store = store();
        let mut warnings = Vec::new();
        for page in pages {
            warnings.extend(
                store
                    .write(|w| {
                        if batched {
                            w.apply_remote_page(CAL, page)
                        } else {
                            apply_one_by_one(w, page)
                        }
                    })
                    .expect("a page applies"),
            );
        }
        (store, warnings)
    }

    #[test]
    fn a_first_page_is_stored_as_one_change_at_a_time_stores_it() {
        let pages = [first_page()];
        let (batched, batched_warnings) = apply_pages(&pages, true);
        let (reference, reference_warnings) = apply_pages(&pages, false);
        let rows = dump(&batched);
        assert_eq!(
            rows,
            dump(&reference),
            "a page built from memory must write exactly the rows the change-by-change path writes"
        );
        assert_eq!(
            batched_warnings, reference_warnings,
            "the warnings come out the same, in the same order"
        );
        let occurrences: i64 = batched
            .read(|r| {
                Ok(r.conn
                    .query_row("SELECT COUNT(*) FROM occurrences", [], |r| r.get(0))?)
            })
            .expect("count");
        // 2 singles + 1 of "twice" + weekly's 10 less the cancelled one + lonely's 10 + the stray instance.
        assert_eq!(
            occurrences, 23,
            "every instance of the page is materialized once, and the cancelled one not at all"
        );
    }

    #[test]
    fn a_later_page_over_stored_rows_matches_the_change_by_change_path() {
        let pages = [first_page(), second_page()];
        let (batched, batched_warnings) = apply_pages(&pages, true);
        let (reference, reference_warnings) = apply_pages(&pages, false);
        assert_eq!(
            dump(&batched),
            dump(&reference),
            "updates, removals and groups read back must leave the rows the change-by-change path leaves"
        );
        assert_eq!(
            batched_warnings, reference_warnings,
            "the warnings come out the same, in the same order"
        );
    }

    #[test]
    fn a_page_split_into_single_changes_converges_to_the_same_rows() {
        let whole = [first_page(), second_page()];
        let split: Vec<Vec<RemoteChange>> =
            whole.iter().flatten().map(|c| vec![c.clone()]).collect();
        assert_eq!(
            dump(&apply_pages(&whole, true).0),
            dump(&apply_pages(&split, true).0),
            "where page boundaries fall must not change what is stored"
        );
    }

    #[test]
    fn an_update_keeps_the_stored_id_and_creation_time() {
        let store = store();
        let first = changes(&[timed(
            "e1",
            "2026-03-02T09:00:00+01:00",
            "2026-03-02T09:30:00+01:00",
        )]);
        store
            .write(|w| w.apply_remote_page(CAL, &first))
            .expect("the first version applies");
        // The same uid arriving under another id (as a pushed local event's answer does) updates the row.
        let mut later = changes(&[timed(
            "e1",
            "2026-03-02T10:00:00+01:00",
            "2026-03-02T10:30:00+01:00",
        )]);
        if let Some(RemoteChange::Upsert(e)) = later.first_mut() {
            e.id = "another-id".into();
            e.created_at = at("2026-02-01T00:00:00Z");
        }
        store
            .write(|w| w.apply_remote_page(CAL, &later))
            .expect("the update applies");
        let rows: Vec<(String, String, i64)> = store
            .read(|r| {
                let mut stmt = r.conn.prepare(
                    "SELECT e.id, e.created_at, o.start_utc FROM events e
                       JOIN occurrences o ON o.owner_id = e.id",
                )?;
                let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .expect("rows");
        let expected_id = crate::providers::google::local_id(CAL, "e1");
        assert_eq!(
            rows,
            vec![(
                expected_id,
                at("2026-01-01T00:00:00Z").to_rfc3339(),
                at("2026-03-02T09:00:00Z").timestamp()
            )],
            "one row, under its first id and creation time, with the updated occurrence"
        );
    }

    #[test]
    fn the_page_lookup_is_an_index_search_per_uid() {
        let store = store();
        let plan: Vec<String> = store
            .read(|r| {
                let mut stmt = r.conn.prepare(
                    "EXPLAIN QUERY PLAN SELECT uid, recurrence_key, id, created_at FROM events
                      WHERE calendar_id = ?1 AND uid IN (SELECT value FROM json_each(?2))",
                )?;
                let rows = stmt.query_map(params![CAL, "[\"a\"]"], |r| r.get::<_, String>(3))?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .expect("plan");
        assert!(
            plan.iter()
                .any(|p| p.starts_with("SEARCH events USING INDEX") && p.contains("uid=?")),
            "the page's uids are looked up through the (calendar, uid) index, not by a scan: {plan:?}"
        );
    }
}
