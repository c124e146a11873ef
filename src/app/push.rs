//! Pushing the outbox: each queued change to the provider, oldest first, and the provider's answer into
//! the store.
//!
//! Invariants:
//! - A row is sent as the user made it, from the row itself: a full resync may have replaced the stored
//!   copy since (a 410 wipes the calendar), and the push must still send the user's version.
//! - A refused precondition (412, or a master whose etag moved on) makes the row a conflict, never a retry,
//!   and drops the calendar's sync token: the next sync is a full one, so every local trace of the refused
//!   change (an exception, a new series) gives way to the provider's version. So does any other refusal
//!   that asking again cannot change (the event was deleted there, a 4xx): the user sees it, with why,
//!   instead of the row being retried at every sync.
//! - A `split` row's steps run in order and each one's success is saved before the next, so a retry after a
//!   failure goes on where it stopped instead of repeating a patch whose etag is spent.
//! - A conflict stays until the user dismisses it; [`ConflictView`] names it from the row alone (the
//!   user's title is in the request body), because the full resync replaces the local copy.

use super::App;
use crate::error::{Error, Result};
use crate::model::{Connection, Event};
use crate::providers::{
    CalendarProvider, CalendarRef, Etag, EventCodec, ProviderError, SeriesEdit, SeriesOp, Window,
};
use crate::secrets::SecretString;
use crate::store::{Operation, OutboxRow, RemoteChange, SyncState};
use crate::sync::CallError;
use crate::time::wire;
use serde::{Deserialize, Serialize};
use serde_json::Value;

const CONFLICT_MESSAGE: &str = "the event changed at the provider since Punctual read it, so this change was not applied; the provider's version stands";

/// Why the provider will never take a row, when asking again cannot help: shown to the user as a conflict.
/// `None` for failures that may pass (offline, rate limits) or that reconnecting cures (a refused token).
fn refusal(e: &ProviderError) -> Option<String> {
    match e {
        ProviderError::Conflict => Some(CONFLICT_MESSAGE.to_string()),
        // Google answers a write to an event deleted there with 404, or 410 once it is gone for good.
        ProviderError::NotFound | ProviderError::SyncTokenGone => Some(
            "the event was deleted at the provider, so this change was not applied".to_string(),
        ),
        ProviderError::Other(why) => Some(format!(
            "the provider refused this change ({why}), so it was not applied; the provider's version stands"
        )),
        _ => None,
    }
}

/// Why one row did not go out: the provider's answer, or a failure here (the store, a row we cannot read).
/// Only the first can be a refusal; a local failure is retried at the next sync, never filed as a conflict,
/// because the provider may already have taken part of the change.
#[derive(Debug)]
enum PushError {
    Provider(ProviderError),
    Local(Error),
}

impl From<ProviderError> for PushError {
    fn from(e: ProviderError) -> PushError {
        PushError::Provider(e)
    }
}

impl From<Error> for PushError {
    fn from(e: Error) -> PushError {
        PushError::Local(e)
    }
}

/// A change a provider refused for good (see [`App::conflicts`]), as the desktop window shows it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictView {
    /// What [`App::dismiss_conflict`] takes.
    pub id: i64,
    pub connection_id: String,
    pub calendar_id: String,
    pub calendar_name: String,
    pub event_id: String,
    /// The event's title in the refused change (for a delete, the title it had); `None` when nothing
    /// names it.
    pub title: Option<String>,
    pub change: ConflictChange,
    /// Why the provider refused it.
    pub message: String,
    /// When the user made the change, RFC 3339 in UTC.
    pub changed_at: String,
}

/// What the refused change was.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictChange {
    Create,
    Update,
    Delete,
    /// An edit of one occurrence and the ones after it ("this and following").
    Split,
}

impl ConflictChange {
    fn of(operation: Option<Operation>) -> ConflictChange {
        match operation {
            Some(Operation::Create) => ConflictChange::Create,
            Some(Operation::Delete) => ConflictChange::Delete,
            Some(Operation::Split) => ConflictChange::Split,
            // The outbox's CHECK constraint admits only the four operations.
            Some(Operation::Update) | None => ConflictChange::Update,
        }
    }
}

/// Where a row of `operation` holds its event: under `event` (the user's [`Event`]), or, in rows queued
/// before rows held events, the provider's request body (the whole payload of a create, `body` of an
/// update).
fn body_of(operation: Operation, payload: &Value) -> Option<&Value> {
    match operation {
        Operation::Create => payload.get("event").or(Some(payload)),
        Operation::Update => payload.get("event").or_else(|| payload.get("body")),
        Operation::Delete | Operation::Split => None,
    }
}

/// The event a row holds: the user's [`Event`] as queued, or, from a row queued before rows held
/// events, the provider's request body read back by its codec (the read-time migration of old rows).
fn event_in(
    codec: Option<&dyn EventCodec>,
    body: &Value,
    calendar_id: &str,
    zone: crate::time::Zone,
) -> Option<Event> {
    serde_json::from_value::<Event>(body.clone())
        .ok()
        .or_else(|| codec?.decode(body, calendar_id, zone))
}

/// The title in a row: the user's version, which the refusal kept from the provider. A delete names its
/// event in `summary` (ours, not sent).
fn title_in(
    operation: Operation,
    payload: &Value,
    codec: Option<&dyn EventCodec>,
    calendar_id: &str,
    zone: crate::time::Zone,
) -> Option<String> {
    if operation == Operation::Delete {
        return payload
            .get("summary")
            .and_then(Value::as_str)
            .map(str::to_string);
    }
    let body = match operation {
        // The new series carries the edit; without one (the edit only ended the series), the old one.
        Operation::Split => payload
            .get("new")
            .filter(|n| !n.is_null())
            .or_else(|| payload.get("master")),
        other => body_of(other, payload),
    }?;
    event_in(codec, body, calendar_id, zone)
        .map(|e| e.title)
        .or_else(|| {
            body.get("summary")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
}

/// The provider's versions with their meeting links found, as the sync stores them: the join plan of a
/// pushed event must not wait for the next sync to see its link.
fn linked(changes: Vec<RemoteChange>) -> Vec<RemoteChange> {
    changes
        .into_iter()
        .map(|c| match c {
            RemoteChange::Upsert(e) => RemoteChange::Upsert(Box::new(super::with_link(*e))),
            other => other,
        })
        .collect()
}

fn text<'a>(payload: &'a Value, key: &str) -> &'a str {
    payload.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn etag_in(payload: &Value) -> Etag {
    Etag(text(payload, "etag").to_string())
}

/// The version a row's change was made on.
enum Precondition<'a> {
    /// The event's own: sent as If-Match.
    Own(Etag),
    /// Another event's, read and compared before the write, which then goes without If-Match: the
    /// master of an instance the provider holds no version of (Google), or the instance a change to a
    /// whole series was made from (a series stored instance by instance).
    Checked { id: &'a str, etag: Etag },
}

impl Precondition<'_> {
    fn of(payload: &Value) -> Precondition<'_> {
        let etag = etag_in(payload);
        match text(payload, "etag_of") {
            "master" => Precondition::Checked {
                id: text(payload, "master_id"),
                etag,
            },
            "checked" => Precondition::Checked {
                id: text(payload, "checked_id"),
                etag,
            },
            _ => Precondition::Own(etag),
        }
    }
}

impl App {
    /// Pushes a connection's queued changes, oldest first. Stops at the first transient failure (offline:
    /// the rest would fail too); a conflict marks its row and goes on. Returns how many were pushed.
    pub fn push_outbox(&self, conn: &Connection) -> Result<usize> {
        let rows = self.store.read(|r| r.outbox_pending(&conn.id))?;
        if rows.is_empty() {
            return Ok(0);
        }
        let provider = self.provider_for(conn)?;
        let codec = super::writes::codec_of(conn)?;
        let tokens = self.tokens_for(conn)?;
        // One try per row and no backoff sleeps: the outbox is the retry (the next sync sends the row
        // again), and a create in the window must not wait out a backoff. The hold and the token refresh
        // are the shared policy's.
        let mut calls = self.one_try_calls(&tokens, &conn.id);
        calls.check_hold()?;
        let mut pushed = 0;
        for mut row in rows {
            // The id a create proposes, in case the provider assigns its own (Graph does).
            let proposed = (row.op() == Some(Operation::Create))
                .then(|| serde_json::from_str::<Value>(&row.payload).ok())
                .flatten()
                .and_then(|p| {
                    event_in(
                        Some(codec),
                        body_of(Operation::Create, &p)?,
                        &row.calendar_id,
                        self.zone,
                    )
                })
                .and_then(|e| e.platform_id);
            // Our own failures ride inside Ok, so the policy retries only what the provider said.
            let outcome = calls.call(&mut |_| {}, |t| {
                match self.push_row(provider.as_ref(), codec, t, &mut row) {
                    Ok(changes) => Ok(Ok(changes)),
                    Err(PushError::Local(e)) => Ok(Err(e)),
                    Err(PushError::Provider(e)) => Err(e),
                }
            });
            let now = self.clock.now();
            tracing::info!(
                connection = %conn.id,
                row = row.id,
                operation = %row.operation,
                outcome = match &outcome {
                    Ok(Ok(_)) => "pushed",
                    Ok(Err(_)) => "local failure",
                    Err(CallError::Provider(e)) if refusal(e).is_some() => "refused",
                    Err(_) => "failed",
                },
                "outbox push"
            );
            match outcome {
                Ok(Ok(changes)) => {
                    let changes = linked(changes);
                    self.store.write(|w| {
                        // One event answered: the create's, under the id the provider gave it. (A series
                        // whose instances are stored one by one answers with those, and its stand-in is
                        // removed instead.)
                        if let (Some(proposed), [RemoteChange::Upsert(e)]) =
                            (&proposed, changes.as_slice())
                        {
                            if let Some(assigned) = &e.platform_id {
                                w.move_event(&row.event_id, &e.id, proposed, assigned)?;
                            }
                        }
                        w.apply_remote_page(&row.calendar_id, &changes)?;
                        w.outbox_done(row.id)
                    })?;
                    pushed += 1;
                }
                // Our own failure: the row waits for the next sync, and so do the rows after it, which
                // would meet the same store.
                Ok(Err(e)) => {
                    let _ = self
                        .store
                        .write(|w| w.outbox_failed(row.id, &e.message, now));
                    return Err(e);
                }
                Err(CallError::Provider(e)) => match refusal(&e) {
                    Some(why) => self.store.write(|w| {
                        w.outbox_conflict(row.id, &why)?;
                        w.save_sync_state(&row.calendar_id, &SyncState::default(), now)
                    })?,
                    None => {
                        self.store
                            .write(|w| w.outbox_failed(row.id, &e.to_string(), now))?;
                        if e.is_transient() {
                            break;
                        }
                    }
                },
                // A refused grant or a long hold the provider asked for: no later row would fare better.
                Err(other) => {
                    let e = calls.fail(other);
                    let _ = self
                        .store
                        .write(|w| w.outbox_failed(row.id, &e.message, now));
                    return Err(e);
                }
            }
        }
        if pushed > 0 {
            self.replan()?;
        }
        Ok(pushed)
    }

    /// One row to the provider. `Ok(changes)` are the provider's versions to store.
    fn push_row(
        &self,
        provider: &dyn CalendarProvider,
        codec: &dyn EventCodec,
        token: &SecretString,
        row: &mut OutboxRow,
    ) -> Result<Vec<RemoteChange>, PushError> {
        let Some((_, Some(remote))) = self.store.read(|r| r.calendar_origin(&row.calendar_id))?
        else {
            return Ok(Vec::new());
        };
        // Owned: a split updates the row's payload while the calendar is in use.
        let calendar_id = row.calendar_id.clone();
        let cal = CalendarRef {
            id: &calendar_id,
            remote_id: &remote,
            zone: self.zone,
        };
        let payload: Value = serde_json::from_str(&row.payload).unwrap_or(Value::Null);
        let series = payload
            .get("series")
            .and_then(Value::as_str)
            .map(str::to_string);
        let Some(op) = row.op() else {
            return Err(PushError::Local(Error::new(
                crate::error::ErrorCode::Internal,
                format!("unknown outbox operation {:?}", row.operation),
            )));
        };
        match op {
            Operation::Create => {
                let event = self.wanted(codec, row, body_of(Operation::Create, &payload))?;
                let answer = provider.insert(token, &cal, &event)?;
                if answer.is_none() && codec.assigns_ids() {
                    // Already made by an attempt whose answer was lost, under an id we were never told:
                    // the stand-in goes, and the sync brings the provider's copy, so there is one event.
                    return Ok(vec![RemoteChange::Remove {
                        uid: event.uid.clone(),
                        recurrence_id: None,
                    }]);
                }
                self.stored_form(
                    provider,
                    codec,
                    token,
                    &cal,
                    row,
                    answer.into_iter().collect(),
                )
            }
            Operation::Update if series.is_some() => {
                let edited = self.wanted(codec, row, body_of(Operation::Update, &payload))?;
                let was: crate::time::When = payload
                    .get("was")
                    .and_then(|w| serde_json::from_value(w.clone()).ok())
                    .ok_or_else(|| self.unreadable(row))?;
                self.precondition(provider, codec, token, &cal, &payload)?;
                let edit = SeriesEdit {
                    master_id: series.as_deref().unwrap_or_default(),
                    window: self.series_window(provider),
                    op: SeriesOp::All {
                        edited: &edited,
                        was: &was,
                    },
                };
                Ok(provider.change_series(token, &cal, &edit)?)
            }
            Operation::Update => {
                let mut event = self.wanted(codec, row, body_of(Operation::Update, &payload))?;
                if payload.get("keep_rule").and_then(Value::as_bool) == Some(true) {
                    // The rule did not change: the provider keeps its own, lines Punctual cannot read
                    // among them.
                    event.recurrence = None;
                }
                let etag = self.precondition(provider, codec, token, &cal, &payload)?;
                let answer = provider.patch(token, &cal, &event, etag.as_ref())?;
                self.stored_form(provider, codec, token, &cal, row, vec![answer])
            }
            Operation::Split if series.is_some() => {
                self.push_series_split(provider, codec, token, &cal, row, payload)
            }
            Operation::Delete => {
                let etag = self.precondition(provider, codec, token, &cal, &payload)?;
                provider.delete(token, &cal, text(&payload, "remote_id"), etag.as_ref())?;
                Ok(Vec::new())
            }
            Operation::Split => self.push_split(provider, codec, token, &cal, row, payload),
        }
    }

    /// A row whose payload cannot be read: ours to fix, never the provider's refusal.
    fn unreadable(&self, row: &OutboxRow) -> PushError {
        PushError::Local(Error::new(
            crate::error::ErrorCode::Internal,
            format!("outbox row {} cannot be read", row.id),
        ))
    }

    /// The window a series change returns instances for: the one the sync stores.
    fn series_window(&self, provider: &dyn CalendarProvider) -> Window {
        let now = self.clock.now();
        provider.full_window(now).unwrap_or(Window {
            start: now - chrono::Duration::days(30),
            end: now + chrono::Duration::days(365),
        })
    }

    /// What to store for a write's answer. A series master that the provider's sync never sends (its
    /// instances come one by one instead, [`EventCodec::is_unstored_master`]) is stored as its instances,
    /// in place of the row's own event, which stood for it until then.
    fn stored_form(
        &self,
        provider: &dyn CalendarProvider,
        codec: &dyn EventCodec,
        token: &SecretString,
        cal: &CalendarRef<'_>,
        row: &OutboxRow,
        answer: Vec<RemoteChange>,
    ) -> Result<Vec<RemoteChange>, PushError> {
        let master = match answer.as_slice() {
            [RemoteChange::Upsert(e)] if codec.is_unstored_master(e) => e.platform_id.clone(),
            _ => None,
        };
        let Some(master) = master else {
            return Ok(answer);
        };
        let mut out = Vec::new();
        if let Some((local, _)) = self.store.read(|r| r.event(&row.event_id))? {
            out.push(RemoteChange::Remove {
                uid: local.uid,
                recurrence_id: None,
            });
        }
        let edit = SeriesEdit {
            master_id: &master,
            window: self.series_window(provider),
            op: SeriesOp::Read,
        };
        out.extend(provider.change_series(token, cal, &edit)?);
        Ok(out)
    }

    /// "This and following" of a series stored instance by instance: continue the series from the
    /// occurrence as a new one (checked against the version the user edited; the client's id makes a
    /// retry safe), then end the old one before it (which looks first whether it ends there already),
    /// saving progress after each step. The row's own event, the new series' stand-in, goes with the
    /// first step, whose answer brings the new series' instances.
    fn push_series_split(
        &self,
        provider: &dyn CalendarProvider,
        codec: &dyn EventCodec,
        token: &SecretString,
        cal: &CalendarRef<'_>,
        row: &mut OutboxRow,
        mut payload: Value,
    ) -> Result<Vec<RemoteChange>, PushError> {
        let master = text(&payload, "series").to_string();
        let cut: crate::time::When = payload
            .get("cut")
            .and_then(|w| serde_json::from_value(w.clone()).ok())
            .ok_or_else(|| self.unreadable(row))?;
        let window = self.series_window(provider);
        let done = payload.get("done").and_then(Value::as_u64).unwrap_or(0) as usize;
        for step in done..2 {
            let (changes, stand_in) = match step {
                0 => match payload.get("new").filter(|n| !n.is_null()) {
                    Some(n) => {
                        let new = self.wanted(codec, row, Some(n))?;
                        self.precondition(provider, codec, token, cal, &payload)?;
                        let edit = SeriesEdit {
                            master_id: &master,
                            window,
                            op: SeriesOp::Continue {
                                edited: &new,
                                cut: &cut,
                            },
                        };
                        (provider.change_series(token, cal, &edit)?, true)
                    }
                    None => {
                        self.precondition(provider, codec, token, cal, &payload)?;
                        (Vec::new(), false)
                    }
                },
                _ => {
                    let edit = SeriesEdit {
                        master_id: &master,
                        window,
                        op: SeriesOp::EndBefore { cut: &cut },
                    };
                    (provider.change_series(token, cal, &edit)?, false)
                }
            };
            let changes = linked(changes);
            payload["done"] = Value::from(step + 1);
            row.payload = payload.to_string();
            // As for a split of a stored master: a failure to save is ours, and the step it took is
            // found done on the retry.
            self.store.write(|w| {
                if stand_in {
                    w.remove_event(&row.event_id)?;
                }
                w.apply_remote_page(&row.calendar_id, &changes)?;
                w.outbox_progress(row.id, &row.payload)
            })?;
        }
        Ok(Vec::new())
    }

    /// The event a row's body describes.
    fn wanted(
        &self,
        codec: &dyn EventCodec,
        row: &OutboxRow,
        body: Option<&Value>,
    ) -> Result<Event, PushError> {
        body.and_then(|b| event_in(Some(codec), b, &row.calendar_id, self.zone))
            .ok_or_else(|| {
                PushError::Local(Error::new(
                    crate::error::ErrorCode::Internal,
                    format!("outbox row {} holds no event to send", row.id),
                ))
            })
    }

    /// The If-Match of a row: its own version, or none once the version it was made on is checked here
    /// ([`Precondition::Checked`]).
    fn precondition(
        &self,
        provider: &dyn CalendarProvider,
        codec: &dyn EventCodec,
        token: &SecretString,
        cal: &CalendarRef<'_>,
        payload: &Value,
    ) -> Result<Option<Etag>, ProviderError> {
        let (id, etag) = match Precondition::of(payload) {
            Precondition::Own(etag) => return Ok(Some(etag)),
            Precondition::Checked { id, etag } => (id, etag),
        };
        let current = match provider.event(token, cal, id)? {
            Some(RemoteChange::Upsert(m)) => codec.version(&m),
            // The series is gone at the provider: the change has nothing left to apply to.
            _ => return Err(ProviderError::Conflict),
        };
        match current {
            Some(c) if c == etag => Ok(None),
            _ => Err(ProviderError::Conflict),
        }
    }

    /// "This and following": end the master (If-Match), insert the new series (its client id makes a
    /// retry safe), then delete the old series' exceptions after the cut, saving progress after each step.
    fn push_split(
        &self,
        provider: &dyn CalendarProvider,
        codec: &dyn EventCodec,
        token: &SecretString,
        cal: &CalendarRef<'_>,
        row: &mut OutboxRow,
        mut payload: Value,
    ) -> Result<Vec<RemoteChange>, PushError> {
        let drop: Vec<(String, Etag)> = payload
            .get("drop")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|d| (text(d, "remote_id").to_string(), etag_in(d)))
                    .collect()
            })
            .unwrap_or_default();
        let done = payload.get("done").and_then(Value::as_u64).unwrap_or(0) as usize;
        for step in done..2 + drop.len() {
            let change = match step {
                0 => {
                    let master = self.wanted(codec, row, payload.get("master"))?;
                    match provider.patch(token, cal, &master, Some(&etag_in(&payload))) {
                        // A retry after our own failure finds the etag spent by the first attempt:
                        // if the provider's master already ends where ours does, that attempt took.
                        Err(ProviderError::Conflict) => {
                            match self.already_split(provider, token, cal, &master)? {
                                Some(change) => Some(change),
                                None => return Err(ProviderError::Conflict.into()),
                            }
                        }
                        other => Some(other?),
                    }
                }
                1 => match payload.get("new").filter(|n| !n.is_null()) {
                    Some(n) => {
                        let new = self.wanted(codec, row, Some(n))?;
                        provider.insert(token, cal, &new)?
                    }
                    None => None,
                },
                i => {
                    let (id, etag) = &drop[i - 2];
                    provider.delete(token, cal, id, Some(etag))?;
                    None
                }
            };
            payload["done"] = Value::from(step + 1);
            row.payload = payload.to_string();
            // A failure to save is ours, never a refusal by the provider: the step it took is redone on
            // the retry, which is safe for each step (the patch checks whether it took, the insert
            // carries its client id, and a delete of a deleted event succeeds).
            let change = change.map(|c| linked(vec![c]));
            self.store.write(|w| {
                if let Some(c) = &change {
                    w.apply_remote_page(&row.calendar_id, c)?;
                }
                w.outbox_progress(row.id, &row.payload)
            })?;
        }
        Ok(Vec::new())
    }

    /// The provider's master, when it already carries the recurrence `master` asks for: the first step of
    /// a split was taken by an attempt whose answer we failed to save.
    fn already_split(
        &self,
        provider: &dyn CalendarProvider,
        token: &SecretString,
        cal: &CalendarRef<'_>,
        master: &Event,
    ) -> Result<Option<RemoteChange>, PushError> {
        let Some(remote_id) = master.platform_id.as_deref() else {
            return Ok(None);
        };
        Ok(match provider.event(token, cal, remote_id)? {
            Some(RemoteChange::Upsert(current)) if current.recurrence == master.recurrence => {
                Some(RemoteChange::Upsert(current))
            }
            _ => None,
        })
    }

    /// Changes the provider refused for good, for the user to see: the event had changed or was deleted
    /// there, or the provider refused the request itself. None of them is sent again.
    pub fn conflicts(&self) -> Result<Vec<OutboxRow>> {
        self.store.read(|r| r.outbox_conflicts())
    }

    /// The conflicts as the desktop window shows them, oldest first: which event, in which calendar of
    /// which connection, what change was refused, why, and when the user made it.
    pub fn conflict_views(&self) -> Result<Vec<ConflictView>> {
        let rows = self.conflicts()?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let calendars = self.calendars()?;
        rows.into_iter()
            .map(|row| {
                let calendar = calendars.iter().find(|c| c.id == row.calendar_id);
                let payload: Value = serde_json::from_str(&row.payload).unwrap_or(Value::Null);
                let codec = match calendar {
                    Some(c) => self
                        .store
                        .read(|r| r.connection(&c.connection_id))?
                        .and_then(|conn| crate::providers::codec(conn.provider)),
                    None => None,
                };
                let title = match row
                    .op()
                    .and_then(|op| title_in(op, &payload, codec, &row.calendar_id, self.zone))
                {
                    Some(t) => Some(t),
                    // A delete queued before deletes named their event: the copy stored here, if any.
                    None => self
                        .store
                        .read(|r| r.event(&row.event_id))?
                        .map(|(e, _)| e.title),
                };
                Ok(ConflictView {
                    id: row.id,
                    connection_id: calendar
                        .map(|c| c.connection_id.clone())
                        .unwrap_or_default(),
                    calendar_name: calendar.map(|c| c.name.clone()).unwrap_or_default(),
                    title: title.filter(|t| !t.trim().is_empty()),
                    change: ConflictChange::of(row.op()),
                    message: row.conflict_message().unwrap_or_default().to_string(),
                    // Stored by chrono's to_rfc3339; the UI reads the same `...Z` form as everywhere else.
                    changed_at: wire::parse_utc(&row.created_at)
                        .map(wire::utc_string)
                        .unwrap_or(row.created_at),
                    calendar_id: row.calendar_id,
                    event_id: row.event_id,
                })
            })
            .collect()
    }

    /// Forgets a conflict the user has seen.
    pub fn dismiss_conflict(&self, id: i64) -> Result<()> {
        match self.store.write(|w| w.outbox_dismiss(id))? {
            0 => Err(crate::error::Error::not_found("conflict", &id.to_string())),
            _ => Ok(()),
        }
    }
}
