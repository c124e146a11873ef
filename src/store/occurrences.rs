//! Materialized occurrences and the window query.
//!
//! A series' instances are expanded (by [`crate::recurrence`]) only for the UTC months in `horizon`; a query
//! for a window outside them first materializes the missing months, so browsing 1997 or 2040 works and costs
//! the expansion once. Overlap is tested with an index range scan: `start_utc` is bounded below by the window
//! start minus the longest occurrence ever stored (`meta.max_span`), which keeps the scan to the window.
//!
//! Keys: an occurrence belongs to an *owner*, the single event or the series master, and is keyed by
//! (owner, rid), where rid is "" for a single and the instance's original start in compact form
//! (`20261123T093000Z`, or `20261123` for all-day series) otherwise. Its public id is `owner` or `owner_rid`,
//! as Google names instances. Keying by owner makes a group's re-materialization a prefix delete and keeps
//! rows small: the profile of materializing a year showed B-tree inserts dominating, so the table is
//! WITHOUT ROWID with one secondary index, and `event_id` is stored only for instances an override shapes.

use super::events::decode;
use super::{Reader, Writer};
use crate::error::Result;
use crate::model::{Event, EventStatus};
use crate::recurrence::{self, Override, Series, Window};
use crate::time::{wire, When, Zone};
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use rusqlite::{params, params_from_iter, types::Value, OptionalExtension};
use std::collections::HashMap;

/// The most instances one series gets per materialized range; a rule past it (FREQ=MINUTELY with no end) is
/// cut with a warning.
pub const MAX_INSTANCES_PER_RANGE: usize = 5_000;

/// One occurrence ready to be stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct NewOccurrence {
    owner_id: String,
    rid: String,
    /// The override giving this instance its data, when it is not the owner.
    event_id: Option<String>,
    start: i64,
    end: i64,
    has_meeting: bool,
}

/// Where a page starts: after (or before) this (start, id).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageKey {
    pub start: i64,
    pub id: String,
    pub direction: PageDirection,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageDirection {
    Next,
    Previous,
}

/// A window query over materialized occurrences.
#[derive(Clone, Debug)]
pub struct WindowQuery {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Empty: every selected calendar.
    pub calendars: Vec<String>,
    pub meeting_only: bool,
    /// Rows wanted; the query returns at most this many.
    pub limit: usize,
    pub page: Option<PageKey>,
}

/// One occurrence with the event that gives its data.
#[derive(Clone, Debug, PartialEq)]
pub struct OccurrenceRow {
    pub id: String,
    pub event: Event,
    pub series_id: Option<String>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub original_start: Option<String>,
    pub connection_id: String,
}

/// The month index (year * 12 + month0) of an instant, in UTC.
fn month_of(t: DateTime<Utc>) -> i64 {
    t.year() as i64 * 12 + t.month0() as i64
}

/// The first and last months `[from, to)` touches.
fn month_span(from: DateTime<Utc>, to: DateTime<Utc>) -> (i64, i64) {
    let first = month_of(from);
    (
        first,
        month_of(to - chrono::Duration::seconds(1)).max(first),
    )
}

fn month_start(m: i64) -> DateTime<Utc> {
    let (y, m0) = (m.div_euclid(12), m.rem_euclid(12));
    NaiveDate::from_ymd_opt(y as i32, m0 as u32 + 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| Utc.from_utc_datetime(&d))
        .unwrap_or_default()
}

/// Contiguous runs of months as windows.
fn month_ranges(months: &[i64]) -> Vec<Window> {
    let mut out: Vec<Window> = Vec::new();
    let mut run: Option<(i64, i64)> = None;
    for &m in months {
        run = match run {
            Some((a, b)) if m == b + 1 => Some((a, m)),
            Some((a, b)) => {
                out.push(Window {
                    start: month_start(a),
                    end: month_start(b + 1),
                });
                Some((m, m))
            }
            None => Some((m, m)),
        };
    }
    if let Some((a, b)) = run {
        out.push(Window {
            start: month_start(a),
            end: month_start(b + 1),
        });
    }
    out
}

/// Rows per multi-row occurrence insert: 6 values each, far below SQLite's 32,766 bound parameters.
const INSERT_BATCH: usize = 64;

/// The compact original start that keys an instance within its series.
fn rid_of(rid: &When, zone: Zone) -> String {
    match rid {
        When::Date { date } => wire::compact_date(*date),
        _ => wire::compact_utc(rid.to_utc(zone)),
    }
}

/// The occurrence id of a series instance: the master's id and the instance's original start, as Google
/// names instances.
pub fn instance_id(series_id: &str, rid: &When, zone: Zone) -> String {
    format!("{series_id}_{}", rid_of(rid, zone))
}

/// Splits an occurrence id into (owner, rid). Owners are UUIDs, which contain no underscore.
fn split_id(id: &str) -> (&str, &str) {
    id.split_once('_').unwrap_or((id, ""))
}

/// The RFC 3339 (or date) form of a compact rid, for `original_start`.
fn original_start_of(rid: &str) -> Option<String> {
    if let Ok(d) = NaiveDate::parse_from_str(rid, "%Y%m%d") {
        return Some(d.to_string());
    }
    chrono::NaiveDateTime::parse_from_str(rid, "%Y%m%dT%H%M%SZ")
        .ok()
        .map(|t| {
            t.and_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        })
}

pub(super) fn single_occurrence(e: &Event, zone: Zone) -> NewOccurrence {
    let start = e.start.to_utc(zone).timestamp();
    let end = e.end.to_utc(zone).timestamp().max(start);
    NewOccurrence {
        owner_id: e.id.clone(),
        rid: String::new(),
        event_id: None,
        start,
        end,
        has_meeting: e.meeting.is_some(),
    }
}

/// The occurrences of one uid group inside `ranges`. Singles and overrides without a master are one
/// occurrence each wherever they fall; a master is expanded with its overrides.
pub(super) fn group_occurrences(
    group: &[&Event],
    ranges: &[Window],
    zone: Zone,
    warnings: &mut Vec<String>,
) -> Vec<NewOccurrence> {
    let live = |e: &&&Event| e.status != EventStatus::Cancelled;
    let Some(master) = group
        .iter()
        .copied()
        .find(|e| e.is_series() && e.recurrence_id.is_none())
    else {
        return group
            .iter()
            .filter(live)
            .map(|e| single_occurrence(e, zone))
            .collect();
    };
    let Some(rec) = master.recurrence.as_ref() else {
        return Vec::new();
    };
    let overrides: Vec<&Event> = group
        .iter()
        .copied()
        .filter(|e| e.recurrence_id.is_some())
        .collect();
    let specs: Vec<Override> = overrides
        .iter()
        .filter_map(|o| {
            Some(Override {
                recurrence_id: o.recurrence_id?,
                this_and_future: o.this_and_future,
                start: o.start,
                end: o.end,
                cancelled: o.status == EventStatus::Cancelled,
            })
        })
        .collect();
    let series = Series {
        start: master.start,
        end: master.end,
        recurrence: rec,
    };
    let mut out = Vec::new();
    for w in ranges {
        match recurrence::expand(&series, &specs, *w, zone, MAX_INSTANCES_PER_RANGE) {
            Ok(x) => {
                if x.capped {
                    warnings.push(format!(
                        "the series {} repeats more than {MAX_INSTANCES_PER_RANGE} times between {} and {}; \
                         only the first {MAX_INSTANCES_PER_RANGE} are shown",
                        master.uid, w.start.date_naive(), w.end.date_naive()
                    ));
                }
                warnings.extend(
                    x.warnings
                        .into_iter()
                        // By UID, never by title: these warnings reach stderr and the log.
                        .map(|m| format!("the series {}: {m}", master.uid)),
                );
                for inst in x.instances {
                    let data = inst
                        .override_index
                        .and_then(|i| overrides.get(i).copied())
                        .unwrap_or(master);
                    if data.status == EventStatus::Cancelled {
                        continue;
                    }
                    out.push(NewOccurrence {
                        owner_id: master.id.clone(),
                        rid: rid_of(&inst.recurrence_id, zone),
                        event_id: (data.id != master.id).then(|| data.id.clone()),
                        start: inst.start.timestamp(),
                        end: inst.end.timestamp().max(inst.start.timestamp()),
                        has_meeting: data.meeting.is_some(),
                    });
                }
            }
            // One bad series never stops the others: it gets no instances and a warning.
            Err(e) => warnings.push(format!(
                "{:?} ({}) cannot repeat: {e}",
                master.title, master.uid
            )),
        }
    }
    out
}

impl Writer<'_> {
    fn horizon_months(&self) -> Result<Vec<i64>> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT month FROM horizon ORDER BY month")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The materialized months as contiguous windows.
    pub(super) fn horizon_ranges(&self) -> Result<Vec<Window>> {
        Ok(month_ranges(&self.horizon_months()?))
    }

    pub(super) fn insert_occurrences(&self, occs: &[NewOccurrence]) -> Result<()> {
        const INSERT: &str = "INSERT OR IGNORE INTO occurrences
             (owner_id, rid, event_id, start_utc, end_utc, has_meeting) VALUES ";
        // Full batches go through one multi-row statement: a series' year is hundreds of rows, and
        // per-statement overhead (bind, step, reset) was a fifth of materializing it.
        let batches = occs.chunks_exact(INSERT_BATCH);
        let rest = batches.remainder();
        if occs.len() >= INSERT_BATCH {
            let mut stmt = self.conn().prepare_cached(&format!(
                "{INSERT}{}",
                vec!["(?, ?, ?, ?, ?, ?)"; INSERT_BATCH].join(", ")
            ))?;
            for batch in batches {
                let mut values: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(6 * INSERT_BATCH);
                for o in batch {
                    values.extend([
                        &o.owner_id as &dyn rusqlite::ToSql,
                        &o.rid,
                        &o.event_id,
                        &o.start,
                        &o.end,
                        &o.has_meeting,
                    ]);
                }
                stmt.execute(values.as_slice())?;
            }
        }
        let mut stmt = self
            .conn()
            .prepare_cached(&format!("{INSERT}(?1, ?2, ?3, ?4, ?5, ?6)"))?;
        for o in rest {
            stmt.execute(params![
                o.owner_id,
                o.rid,
                o.event_id,
                o.start,
                o.end,
                o.has_meeting
            ])?;
        }
        let span = occs.iter().map(|o| o.end - o.start).max().unwrap_or(0);
        self.max_span.set(self.max_span.get().max(span));
        Ok(())
    }

    /// Records the longest occurrence written by this transaction, which bounds window scans.
    pub(super) fn flush_max_span(&self) -> Result<()> {
        let span = self.max_span.get();
        if span > 0 {
            self.conn().execute(
                "INSERT INTO meta (key, value) VALUES ('max_span', ?1)
                 ON CONFLICT (key) DO UPDATE
                 SET value = MAX(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
                [span],
            )?;
        }
        Ok(())
    }

    /// Re-materializes a uid group after any of its events changed. Returns expansion warnings.
    pub fn materialize_group(&self, calendar_id: &str, uid: &str) -> Result<Vec<String>> {
        self.materialize_group_in(calendar_id, uid, &self.horizon_ranges()?)
    }

    /// [`Writer::materialize_group`] with the horizon already read, for a batch of groups.
    pub(super) fn materialize_group_in(
        &self,
        calendar_id: &str,
        uid: &str,
        ranges: &[Window],
    ) -> Result<Vec<String>> {
        self.conn()
            .prepare_cached(
                "DELETE FROM occurrences WHERE owner_id IN
                     (SELECT id FROM events WHERE calendar_id = ?1 AND uid = ?2)",
            )?
            .execute([calendar_id, uid])?;
        let group = self.reader().group(calendar_id, uid)?;
        let group: Vec<&Event> = group.iter().collect();
        let mut warnings = Vec::new();
        let occs = group_occurrences(&group, ranges, self.zone, &mut warnings);
        self.insert_occurrences(&occs)?;
        Ok(warnings)
    }

    /// Fast path for a single event that was just inserted and has no group: its one occurrence.
    pub fn materialize_new_single(&self, e: &Event) -> Result<()> {
        if e.status == EventStatus::Cancelled {
            return Ok(());
        }
        self.insert_occurrences(&[single_occurrence(e, self.zone)])
    }

    /// Makes sure every month that `[from, to)` touches is materialized. Returns expansion warnings.
    pub fn ensure_months(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<String>> {
        let (first, last) = month_span(from, to);
        let have = self.horizon_months()?;
        let missing: Vec<i64> = (first..=last)
            .filter(|m| have.binary_search(m).is_err())
            .collect();
        if missing.is_empty() {
            return Ok(Vec::new());
        }
        let ranges = month_ranges(&missing);
        let mut warnings = Vec::new();
        for group in self.series_groups()? {
            let group: Vec<&Event> = group.iter().collect();
            let occs = group_occurrences(&group, &ranges, self.zone, &mut warnings);
            self.insert_occurrences(&occs)?;
        }
        let mut stmt = self
            .conn()
            .prepare_cached("INSERT OR IGNORE INTO horizon (month) VALUES (?1)")?;
        for m in missing {
            stmt.execute([m])?;
        }
        Ok(warnings)
    }

    /// Every live series master with its overrides.
    fn series_groups(&self) -> Result<Vec<Vec<Event>>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT e.body FROM events e
              WHERE e.deleted = 0 AND (e.kind = 'series' OR (e.kind = 'override' AND EXISTS
                    (SELECT 1 FROM events m WHERE m.calendar_id = e.calendar_id AND m.uid = e.uid
                        AND m.kind = 'series' AND m.deleted = 0)))
              ORDER BY e.calendar_id, e.uid, e.recurrence_key",
        )?;
        let mut groups: HashMap<(String, String), Vec<Event>> = HashMap::new();
        // Materialization needs no raw source text.
        for e in stmt.query_map([], |r| Ok(decode(r.get_ref(0)?, None)))? {
            let e = e??;
            groups
                .entry((e.calendar_id.clone(), e.uid.clone()))
                .or_default()
                .push(e);
        }
        Ok(groups.into_values().collect())
    }

    /// Drops and rebuilds every occurrence (after a zone change).
    pub(super) fn rebuild_all_occurrences(&self) -> Result<()> {
        self.conn().execute_batch("DELETE FROM occurrences; DELETE FROM horizon; DELETE FROM meta WHERE key = 'max_span';")?;
        let mut stmt = self
            .conn()
            .prepare("SELECT DISTINCT calendar_id, uid FROM events WHERE deleted = 0")?;
        let keys: Vec<(String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (cal, uid) in keys {
            self.materialize_group(&cal, &uid)?;
        }
        Ok(())
    }

    /// Drops the occurrences an event owns (as a single or a series master).
    pub(super) fn delete_occurrences_of(&self, owner_id: &str) -> Result<()> {
        self.conn()
            .prepare_cached("DELETE FROM occurrences WHERE owner_id = ?1")?
            .execute([owner_id])?;
        Ok(())
    }

    /// Marks an event deleted (a tombstone for sync) and drops its occurrences.
    pub fn mark_deleted(&self, id: &str) -> Result<()> {
        self.conn()
            .prepare_cached("UPDATE events SET deleted = 1 WHERE id = ?1")?
            .execute([id])?;
        self.delete_occurrences_of(id)
    }
}

/// Reads a row of `OCCURRENCE_COLUMNS`.
fn occurrence_row(r: &rusqlite::Row<'_>) -> Result<OccurrenceRow> {
    let at = |i: usize| -> Result<DateTime<Utc>> {
        Ok(Utc.timestamp_opt(r.get(i)?, 0).single().unwrap_or_default())
    };
    let (owner, rid): (String, String) = (r.get(0)?, r.get(1)?);
    let series = !rid.is_empty();
    Ok(OccurrenceRow {
        id: if series {
            format!("{owner}_{rid}")
        } else {
            owner.clone()
        },
        original_start: original_start_of(&rid),
        series_id: series.then_some(owner),
        start: at(2)?,
        end: at(3)?,
        // Decoded from SQLite's own buffer: copying each body out first was a measurable share of a listing.
        event: decode(r.get_ref(4)?, r.get(6)?)?,
        connection_id: r.get(5)?,
    })
}

/// The columns `occurrence_row` reads, and the joins that give them: the event whose data an occurrence
/// shows is its override where it has one, else its owner.
const OCCURRENCE_FROM: &str =
    "SELECT o.owner_id, o.rid, o.start_utc, o.end_utc, e.body, c.connection_id, e.raw
       FROM occurrences o
       JOIN events e ON e.id = COALESCE(o.event_id, o.owner_id)
       JOIN calendars c ON c.id = e.calendar_id";

/// The SQL and arguments of a window query.
fn window_sql(q: &WindowQuery, span: i64) -> (String, Vec<Value>) {
    let (from, to) = (q.from.timestamp(), q.to.timestamp());
    let mut sql = format!(
        "{OCCURRENCE_FROM}
         WHERE o.start_utc >= ? AND o.start_utc < ? AND (o.end_utc > ? OR o.start_utc >= ?)"
    );
    let mut args: Vec<Value> = vec![(from - span).into(), to.into(), from.into(), from.into()];
    if q.meeting_only {
        sql.push_str(" AND o.has_meeting = 1");
    }
    if q.calendars.is_empty() {
        sql.push_str(" AND c.selected = 1");
    } else {
        sql.push_str(" AND e.calendar_id IN (");
        for (i, c) in q.calendars.iter().enumerate() {
            sql.push_str(if i == 0 { "?" } else { ", ?" });
            args.push(c.clone().into());
        }
        sql.push(')');
    }
    let descending = matches!(&q.page, Some(p) if p.direction == PageDirection::Previous);
    if let Some(p) = &q.page {
        let (owner, rid) = split_id(&p.id);
        sql.push_str(if descending {
            " AND (o.start_utc, o.owner_id, o.rid) < (?, ?, ?)"
        } else {
            " AND (o.start_utc, o.owner_id, o.rid) > (?, ?, ?)"
        });
        args.extend([
            p.start.into(),
            owner.to_string().into(),
            rid.to_string().into(),
        ]);
    }
    // Owners are equal-length UUIDs, so (owner, rid) sorts exactly as the public id does.
    sql.push_str(if descending {
        " ORDER BY o.start_utc DESC, o.owner_id DESC, o.rid DESC LIMIT ?"
    } else {
        " ORDER BY o.start_utc, o.owner_id, o.rid LIMIT ?"
    });
    args.push((q.limit as i64).into());
    (sql, args)
}

impl Reader<'_> {
    /// True when every month `[from, to)` touches is materialized, so a window query needs no write.
    pub fn horizon_covers(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<bool> {
        let (first, last) = month_span(from, to);
        let n: i64 = self
            .conn
            .prepare_cached("SELECT COUNT(*) FROM horizon WHERE month BETWEEN ?1 AND ?2")?
            .query_row([first, last], |r| r.get(0))?;
        Ok(n == last - first + 1)
    }

    /// The occurrences overlapping `[from, to)`, ordered by (start, id), one page.
    pub fn query_window(&self, q: &WindowQuery) -> Result<Vec<OccurrenceRow>> {
        // No row yet means no occurrence yet, so no span to look back over.
        let span: i64 = self
            .conn
            .prepare_cached("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'max_span'")?
            .query_row([], |r| r.get(0))
            .optional()?
            .unwrap_or(0);
        let (sql, args) = window_sql(q, span);
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params_from_iter(args))?;
        let mut out = Vec::with_capacity(q.limit);
        while let Some(r) = rows.next()? {
            out.push(occurrence_row(r)?);
        }
        if matches!(&q.page, Some(p) if p.direction == PageDirection::Previous) {
            out.reverse();
        }
        Ok(out)
    }

    /// One occurrence by id.
    pub fn occurrence(&self, id: &str) -> Result<Option<OccurrenceRow>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{OCCURRENCE_FROM} WHERE o.owner_id = ?1 AND o.rid = ?2"
        ))?;
        let (owner, rid) = split_id(id);
        let mut rows = stmt.query([owner, rid])?;
        rows.next()?.map(occurrence_row).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    /// The window query must be an index range scan, in index order, not a scan of every occurrence.
    #[test]
    fn the_window_query_is_an_index_range_scan() {
        let store = Store::open_in_memory(Zone::UTC).expect("opens");
        let q = WindowQuery {
            from: Utc.timestamp_opt(1_000_000, 0).single().unwrap_or_default(),
            to: Utc.timestamp_opt(2_000_000, 0).single().unwrap_or_default(),
            calendars: Vec::new(),
            meeting_only: true,
            limit: 51,
            page: Some(PageKey {
                start: 1_500_000,
                id: "a_b".into(),
                direction: PageDirection::Next,
            }),
        };
        let (sql, args) = window_sql(&q, 3600);
        let plan: Vec<String> = store
            .read(|r| {
                let mut stmt = r.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
                let rows = stmt.query_map(params_from_iter(args), |r| r.get::<_, String>(3))?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .expect("plan");
        let first = plan.first().cloned().unwrap_or_default();
        assert!(
            first.starts_with("SEARCH o USING COVERING INDEX occurrences_start (start_utc>? AND start_utc<?)"),
            "occurrences are searched by a range on the covering start index, first in the plan: {plan:?}"
        );
        assert!(
            !plan.iter().any(|p| p.contains("TEMP B-TREE")),
            "the index order serves ORDER BY with no sort: {plan:?}"
        );
    }

    /// Writing an event must not build a temporary table per row (as a CHECK with `IN (...)` does).
    #[test]
    fn an_event_insert_builds_no_temporary_table() {
        let store = Store::open_in_memory(Zone::UTC).expect("opens");
        let ops: Vec<String> = store
            .read(|r| {
                let mut stmt = r.conn.prepare(
                    "EXPLAIN INSERT INTO events (id, calendar_id, uid, recurrence_key, kind, has_meeting,
                         deleted, body, created_at, updated_at, raw)
                     VALUES ('a', 'local', 'u', '', 'single', 0, 0, '{}', 'x', 'x', NULL)",
                )?;
                let rows = stmt.query_map([], |r| r.get::<_, String>(1))?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .expect("explains");
        assert!(
            !ops.iter().any(|op| op == "OpenEphemeral"),
            "an insert into events opens no ephemeral table: {ops:?}"
        );
    }

    #[test]
    fn month_ranges_merge_contiguous_months() {
        let r = month_ranges(&[24300, 24301, 24303]);
        assert_eq!(r.len(), 2, "a gap between months must split the ranges");
        assert_eq!(
            r[0].end,
            month_start(24302),
            "a run ends where the month after its last begins"
        );
        assert_eq!(
            month_of(month_start(24303)),
            24303,
            "month_start and month_of must be inverses"
        );
    }
}
