//! Creating, editing and deleting events in an account's calendar: the change is stored locally with an
//! outbox row in one transaction, then pushed (at once when online, else at the next sync).
//!
//! Invariants:
//! - Creates carry an id the client made up ([`google::new_event_id`]), so a retried insert whose first
//!   answer was lost gets a 409 and is done, never a second event.
//! - Edits and deletes carry the etag of the version they were made on (If-Match). When the event changed
//!   at the provider meanwhile, the push is refused (412), the row becomes a conflict the user sees
//!   ([`App::conflicts`]), and the provider's version stands: nothing is overwritten.
//! - Scope: single events, and deleting a whole series. Creating or editing recurring events in an
//!   account's calendar is refused with a clear error until the provider mapping writes recurrence.

use super::edit::Target;
use super::validate::Draft;
use super::{with_link, App, Scope};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{Connection, Event};
use crate::providers::google::{self, etag_of, event_body};
use crate::providers::{CalendarRef, Etag, ProviderError};
use crate::secrets::SecretString;
use crate::store::{OutboxRow, RemoteChange};
use crate::sync::TokenSource;

fn not_yet(field: &str, what: &str) -> Error {
    Error::field(
        ErrorCode::InvalidInput,
        field,
        format!(
            "{what} in an account's calendar is not supported yet; do it in the provider's own app"
        ),
    )
}

fn not_pushed() -> Error {
    Error::new(
        ErrorCode::InvalidInput,
        "this event has not reached the provider yet; try again after the next sync",
    )
}

impl App {
    /// The connection of an account's calendar; `None` for local calendars.
    pub(super) fn account_of(&self, calendar_id: &str) -> Result<Option<Connection>> {
        let Some((conn, Some(_))) = self.store.read(|r| r.calendar_origin(calendar_id))? else {
            return Ok(None);
        };
        self.store.read(|r| r.connection(&conn))
    }

    /// Stores a new event in an account's calendar and queues its insert.
    pub(super) fn create_in_account(&self, mut event: Event, conn: &Connection) -> Result<Event> {
        if event.is_series() {
            return Err(not_yet("repeat", "creating a recurring event"));
        }
        let gid = google::new_event_id();
        event.id = google::local_id(&event.calendar_id, &gid);
        event.uid = gid.clone();
        event.platform = google::PLATFORM.to_string();
        event.platform_id = Some(gid);
        let body = event_body(&event, self.zone);
        let now = self.clock.now();
        self.store.write(|w| {
            w.save_event(&event)?;
            w.materialize_group(&event.calendar_id, &event.uid)?;
            w.outbox_add(
                &event.calendar_id,
                &event.id,
                "create",
                &body.to_string(),
                now,
            )
        })?;
        self.push_best_effort(conn);
        Ok(event)
    }

    /// Edits a single event of an account's calendar and queues the patch with its etag.
    pub(super) fn edit_in_account(
        &self,
        target: &Target,
        input: &super::EventInput,
        conn: &Connection,
    ) -> Result<Event> {
        if target.master.is_some() {
            return Err(not_yet("scope", "editing a recurring event"));
        }
        if input.repeat.is_some() || !input.rdates.is_empty() || !input.exdates.is_empty() {
            return Err(not_yet("repeat", "making an event recurring"));
        }
        let etag = etag_of(&target.event).ok_or_else(not_pushed)?;
        let now = self.clock.now();
        let base: Draft = super::edit::draft_of(&target.event, target.start, target.end);
        let draft = super::validate::validate(input, Some(&base), self.zone, now)?;
        let mut e = target.event.clone();
        super::edit::apply_draft(&mut e, &draft, true);
        e.updated_at = now;
        let e = with_link(e);
        let payload = serde_json::json!({ "etag": etag.0, "body": event_body(&e, self.zone) });
        self.store.write(|w| {
            w.save_event(&e)?;
            w.materialize_group(&e.calendar_id, &e.uid)?;
            w.outbox_add(&e.calendar_id, &e.id, "update", &payload.to_string(), now)
        })?;
        self.push_best_effort(conn);
        Ok(e)
    }

    /// Deletes an event (or a whole series) of an account's calendar and queues the delete with its etag.
    pub(super) fn delete_in_account(
        &self,
        target: &Target,
        scope: Scope,
        conn: &Connection,
    ) -> Result<()> {
        let event = match (&target.master, scope) {
            (Some(m), Scope::All) => m,
            (Some(_), _) => return Err(not_yet("scope", "deleting some occurrences of a series")),
            (None, _) if target.event.recurrence_id.is_some() => {
                return Err(not_yet("scope", "deleting one occurrence of a series"))
            }
            (None, _) => &target.event,
        };
        let etag = etag_of(event).ok_or_else(not_pushed)?;
        let remote_id = event.platform_id.clone().ok_or_else(not_pushed)?;
        let payload = serde_json::json!({ "etag": etag.0, "remote_id": remote_id });
        let now = self.clock.now();
        self.store.write(|w| {
            w.apply_remote_page(
                &event.calendar_id,
                &[RemoteChange::Remove {
                    uid: event.uid.clone(),
                    recurrence_id: None,
                }],
            )?;
            w.outbox_add(
                &event.calendar_id,
                &event.id,
                "delete",
                &payload.to_string(),
                now,
            )
        })?;
        self.push_best_effort(conn);
        Ok(())
    }

    /// Pushes now if the provider answers; otherwise the rows wait for the next sync.
    fn push_best_effort(&self, conn: &Connection) {
        let _ = self.push_outbox(conn);
    }

    /// Pushes a connection's queued changes, oldest first. Stops at the first transient failure (offline:
    /// the rest would fail too); a conflict marks its row and goes on. Returns how many were pushed.
    pub fn push_outbox(&self, conn: &Connection) -> Result<usize> {
        let rows = self.store.read(|r| r.outbox_pending(&conn.id))?;
        if rows.is_empty() {
            return Ok(0);
        }
        let provider = self.provider_for(conn)?;
        let tokens = self.tokens_for(conn)?;
        let mut token = tokens.access()?;
        let mut pushed = 0;
        for row in rows {
            let mut outcome = self.push_row(provider.as_ref(), &token, &row);
            if matches!(outcome, Err(ProviderError::Unauthorized)) {
                token = tokens.refresh()?;
                outcome = self.push_row(provider.as_ref(), &token, &row);
            }
            let now = self.clock.now();
            match outcome {
                Ok(change) => {
                    self.store.write(|w| {
                        if let Some(c) = &change {
                            w.apply_remote_page(&row.calendar_id, std::slice::from_ref(c))?;
                        }
                        w.outbox_done(row.id)
                    })?;
                    pushed += 1;
                }
                Err(ProviderError::Conflict) => self.store.write(|w| {
                    w.outbox_conflict(
                        row.id,
                        "the event changed at the provider since Punctual read it, so this change was not applied; the provider's version is shown",
                    )
                })?,
                Err(e) if e.is_transient() => {
                    self.store
                        .write(|w| w.outbox_failed(row.id, &e.to_string(), now))?;
                    break;
                }
                Err(e) => self
                    .store
                    .write(|w| w.outbox_failed(row.id, &e.to_string(), now))?,
            }
        }
        if pushed > 0 {
            self.replan()?;
        }
        Ok(pushed)
    }

    /// One row to the provider. `Ok(Some(change))` is the provider's version to store.
    fn push_row(
        &self,
        provider: &dyn crate::providers::CalendarProvider,
        token: &SecretString,
        row: &OutboxRow,
    ) -> Result<Option<RemoteChange>, ProviderError> {
        let Ok(Some((_, Some(remote)))) = self.store.read(|r| r.calendar_origin(&row.calendar_id))
        else {
            return Ok(None);
        };
        let cal = CalendarRef {
            id: &row.calendar_id,
            remote_id: &remote,
            zone: self.zone,
        };
        let payload: serde_json::Value =
            serde_json::from_str(&row.payload).unwrap_or(serde_json::Value::Null);
        let etag = || {
            Etag(
                payload
                    .get("etag")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string(),
            )
        };
        // The change as the user made it, from the row itself: a full resync may have replaced the stored
        // copy since (a 410 wipes the calendar), and the push must still send the user's version.
        let wanted = |body: Option<&serde_json::Value>| -> Result<Event, ProviderError> {
            let text = body.map(|b| b.to_string()).unwrap_or_default();
            match google::map_item(&text, &row.calendar_id, self.zone) {
                Ok(Some(RemoteChange::Upsert(e))) => Ok(*e),
                _ => Err(ProviderError::Other(format!(
                    "outbox row {} holds no event to send",
                    row.id
                ))),
            }
        };
        match row.operation.as_str() {
            "create" => provider.insert(token, &cal, &wanted(Some(&payload))?),
            "update" => provider
                .patch(token, &cal, &wanted(payload.get("body"))?, &etag())
                .map(Some),
            "delete" => {
                let id = payload
                    .get("remote_id")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default();
                provider.delete(token, &cal, id, &etag()).map(|()| None)
            }
            other => Err(ProviderError::Other(format!(
                "unknown outbox operation {other:?}"
            ))),
        }
    }

    /// Changes the provider refused because the event had changed there, for the user to see.
    pub fn conflicts(&self) -> Result<Vec<OutboxRow>> {
        self.store.read(|r| r.outbox_conflicts())
    }

    /// Forgets a conflict the user has seen.
    pub fn dismiss_conflict(&self, id: i64) -> Result<()> {
        match self.store.write(|w| w.outbox_dismiss(id))? {
            0 => Err(Error::not_found("conflict", &id.to_string())),
            _ => Ok(()),
        }
    }
}
