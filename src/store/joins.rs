//! Join plans, their status history, and settings.

use super::{Reader, Writer};
use crate::error::{Error, ErrorCode, Result};
use crate::join::{Change, JoinAction, JoinPlan, JoinStatus};
use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{params, OptionalExtension, Row};

const PLAN_COLUMNS: &str = "id, occurrence_id, event_id, calendar_id, title, start_utc, end_utc, scheduled_join_time, \
     early_reminder_at, early_sent, status, action, platform, meeting_url, uid_key, url_key, next_fire_at";

fn ts(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(s, 0).single().unwrap_or_default()
}

fn plan_from_row(r: &Row<'_>) -> rusqlite::Result<JoinPlan> {
    let bad = |i: usize, what: &str| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            format!("unknown {what}").into(),
        )
    };
    Ok(JoinPlan {
        id: r.get(0)?,
        occurrence_id: r.get(1)?,
        event_id: r.get(2)?,
        calendar_id: r.get(3)?,
        title: r.get(4)?,
        start: ts(r.get(5)?),
        end: ts(r.get(6)?),
        scheduled_join_time: ts(r.get(7)?),
        early_reminder_at: r.get::<_, Option<i64>>(8)?.map(ts),
        early_sent: r.get(9)?,
        status: JoinStatus::parse(r.get_ref(10)?.as_str()?).ok_or_else(|| bad(10, "status"))?,
        action: JoinAction::parse(r.get_ref(11)?.as_str()?).ok_or_else(|| bad(11, "action"))?,
        platform: r.get(12)?,
        meeting_url: r.get(13)?,
        uid_key: r.get(14)?,
        url_key: r.get(15)?,
        next_fire_at: r.get::<_, Option<i64>>(16)?.map(ts),
    })
}

impl Reader<'_> {
    /// Plans whose meeting overlaps `[from, to)`.
    pub fn plans_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<JoinPlan>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {PLAN_COLUMNS} FROM join_plans WHERE end_utc > ?1 AND start_utc < ?2 ORDER BY start_utc, id"
        ))?;
        let rows = stmt.query_map([from.timestamp(), to.timestamp()], plan_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Whether any plan's meeting overlaps `[from, to)`.
    pub fn any_plan_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM join_plans WHERE end_utc > ?1 AND start_utc < ?2)",
            )?
            .query_row([from.timestamp(), to.timestamp()], |r| r.get(0))?)
    }

    /// Plans that need the due loop at or before `now`, and the earliest time any other plan will.
    pub fn plans_due(&self, now: DateTime<Utc>) -> Result<(Vec<JoinPlan>, Option<DateTime<Utc>>)> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {PLAN_COLUMNS} FROM join_plans WHERE next_fire_at IS NOT NULL AND next_fire_at <= ?1
              ORDER BY next_fire_at, id"
        ))?;
        let due = stmt
            .query_map([now.timestamp()], plan_from_row)?
            .collect::<rusqlite::Result<_>>()?;
        let next: Option<i64> = self
            .conn
            .prepare_cached("SELECT MIN(next_fire_at) FROM join_plans WHERE next_fire_at > ?1")?
            .query_row([now.timestamp()], |r| r.get(0))?;
        Ok((due, next.map(ts)))
    }

    /// The plans of a connection's calendars that are not final yet.
    pub fn open_plans_of_connection(&self, connection_id: &str) -> Result<Vec<JoinPlan>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {PLAN_COLUMNS} FROM join_plans
              WHERE calendar_id IN (SELECT id FROM calendars WHERE connection_id = ?1)
                AND status NOT IN ('joined', 'dismissed', 'missed', 'cancelled')
              ORDER BY start_utc, id"
        ))?;
        let rows = stmt.query_map([connection_id], plan_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn plan(&self, id: &str) -> Result<Option<JoinPlan>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {PLAN_COLUMNS} FROM join_plans WHERE id = ?1"
        ))?;
        Ok(stmt.query_row([id], plan_from_row).optional()?)
    }

    /// A plan's status history, oldest first.
    pub fn plan_history(&self, id: &str) -> Result<Vec<(String, String)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT status, at FROM join_plan_history WHERE plan_id = ?1 ORDER BY rowid",
        )?;
        let rows = stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM settings WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }
}

impl Writer<'_> {
    /// Writes a plan, and its status into the history when the status changed.
    pub fn save_plan(&self, p: &JoinPlan, now: DateTime<Utc>) -> Result<()> {
        let old: Option<String> = self
            .conn()
            .prepare_cached("SELECT status FROM join_plans WHERE id = ?1")?
            .query_row([&p.id], |r| r.get(0))
            .optional()?;
        let at = now.to_rfc3339();
        self.conn()
            .prepare_cached(&format!(
                // An upsert, not INSERT OR REPLACE: a replace deletes the row, and with it the history.
                "INSERT INTO join_plans ({PLAN_COLUMNS}, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
                 ON CONFLICT (id) DO UPDATE SET
                     occurrence_id = excluded.occurrence_id, event_id = excluded.event_id,
                     calendar_id = excluded.calendar_id, title = excluded.title,
                     start_utc = excluded.start_utc, end_utc = excluded.end_utc,
                     scheduled_join_time = excluded.scheduled_join_time,
                     early_reminder_at = excluded.early_reminder_at, early_sent = excluded.early_sent,
                     status = excluded.status, action = excluded.action, platform = excluded.platform,
                     meeting_url = excluded.meeting_url, uid_key = excluded.uid_key, url_key = excluded.url_key,
                     next_fire_at = excluded.next_fire_at, updated_at = excluded.updated_at"
            ))?
            .execute(params![
                p.id,
                p.occurrence_id,
                p.event_id,
                p.calendar_id,
                p.title,
                p.start.timestamp(),
                p.end.timestamp(),
                p.scheduled_join_time.timestamp(),
                p.early_reminder_at.map(|t| t.timestamp()),
                p.early_sent,
                p.status.as_str(),
                p.action.as_str(),
                p.platform,
                p.meeting_url,
                p.uid_key,
                p.url_key,
                p.next_fire_at.map(|t| t.timestamp()),
                at
            ])?;
        if old.as_deref() != Some(p.status.as_str()) {
            self.conn()
                .prepare_cached(
                    "INSERT INTO join_plan_history (plan_id, status, at) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![p.id, p.status.as_str(), at])?;
        }
        Ok(())
    }

    /// Applies planning's changes.
    pub fn apply_plan_changes(&self, changes: &[Change], now: DateTime<Utc>) -> Result<()> {
        for c in changes {
            match c {
                Change::Insert(p) | Change::Update(p) => self.save_plan(p, now)?,
                Change::Cancel(id) => {
                    if let Some(mut p) = self.reader().plan(id)? {
                        p.status = JoinStatus::Cancelled;
                        p.next_fire_at = None;
                        self.save_plan(&p, now)?;
                    }
                }
            }
        }
        Ok(())
    }

    pub fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        self.conn().execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )?;
        Ok(())
    }
}

/// A setting that does not decode is an error the user can act on, not a silent default.
pub fn bad_setting(key: &str, e: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorCode::Storage,
        format!("the stored setting {key:?} cannot be read: {e}"),
    )
}
