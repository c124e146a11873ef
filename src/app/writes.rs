//! Creating, editing and deleting events in an account's calendar: the change is stored locally with an
//! outbox row in one transaction, then pushed (at once when online, else at the next sync; see
//! [`super::push`]).
//!
//! Invariants:
//! - Creates carry an id the client made up ([`EventCodec::new_event_id`]), so a retried insert whose first
//!   answer was lost gets a 409 and is done, never a second event. A series split by "this and following"
//!   inserts its new series the same way.
//! - Edits and deletes carry the etag of the version they were made on (If-Match). An instance Google holds
//!   no exception for has no version of its own: its change carries the master's etag, which the push checks
//!   first. When the event changed at the provider meanwhile, the push is refused, the row becomes a conflict
//!   the user sees ([`App::conflicts`]), and the provider's version stands: nothing is overwritten.
//! - A row holds the user's [`Event`] as our model has it, never a provider's request body: the provider
//!   encodes it when the row is pushed. What the provider calls things (ids, versions) comes from its
//!   [`EventCodec`]; a connection whose provider has none is read-only, and a change to it is refused
//!   before anything is written.
//! - Scope: what the local calendar does ([`super::edit`]) is computed by the same functions, then mapped
//!   onto Google's model: *all* patches the master; *this* patches (or deletes) the instance id, which
//!   Google turns into an exception (or a cancelled instance), stored locally the way the sync will bring
//!   it back; *following* ends the master with an UNTIL, inserts the new series, and deletes the old
//!   series' exceptions from that occurrence on (they would otherwise be left over, since Google keys them
//!   to the old master), as one `split` row whose steps never run without the ones before them.
//! - A provider whose series Punctual stores instance by instance, without the master
//!   ([`EventCodec::series_of`]: Graph), gets the scopes as series changes the provider makes from its own
//!   master ([`crate::providers::SeriesEdit`]): *this* patches (or deletes) the instance's own id; *all*
//!   changes (or deletes) the master, checked against the version of the instance the user edited;
//!   *following* continues the series from the instance as a new one, then ends the old one before it, as
//!   one `split` row whose steps each look whether the provider already has them. An id the provider
//!   assigns on create is reconciled by the push; a series it answers with is stored as its instances.
//! - Bad input (an invalid rule, a scope that names instances of a single event, a rule the provider
//!   cannot hold: [`EventCodec::unsupported`]) is refused before anything is written: not the store, not
//!   the outbox, not the provider.

use super::edit::{self, Edited, Target};
use super::validate::Draft;
use super::{with_link, App, EventInput, Scope};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{Connection, Event, EventStatus};
use crate::providers::{codec, EventCodec};
use crate::store::{instance_id, Operation, RemoteChange};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

fn not_pushed() -> Error {
    Error::new(
        ErrorCode::InvalidInput,
        "this event has not reached the provider yet; try again after the next sync",
    )
}

/// The codec of an account's provider, or why its calendars cannot be changed here.
pub(super) fn codec_of(conn: &Connection) -> Result<&'static dyn EventCodec> {
    codec(conn.provider).ok_or_else(|| {
        Error::field(
            ErrorCode::InvalidInput,
            "calendar_id",
            format!(
                "{} calendars are read-only in Punctual",
                conn.provider.as_str()
            ),
        )
    })
}

/// An event as an outbox row holds it: the user's version in our model, which the provider's codec
/// encodes when the row is pushed. The provider's last JSON is not kept: it is not what is sent.
fn row_event(e: &Event) -> Result<Value> {
    let mut e = e.clone();
    e.raw = None;
    serde_json::to_value(&e).map_err(|err| {
        Error::new(
            ErrorCode::Internal,
            format!("an outbox row cannot hold the event: {err}"),
        )
    })
}

/// Refuses an event the provider has no way to hold (a repeat rule it cannot express), before anything is
/// written.
fn holdable(codec: &dyn EventCodec, event: &Event, zone: crate::time::Zone) -> Result<()> {
    match codec.unsupported(event, zone) {
        Some(why) => Err(Error::field(ErrorCode::InvalidInput, "repeat", why)),
        None => Ok(()),
    }
}

fn single_scope(scope: Scope) -> Result<()> {
    match scope {
        Scope::All => Ok(()),
        _ => Err(Error::field(
            ErrorCode::InvalidInput,
            "scope",
            "this event does not repeat, so it has no other occurrences; use scope \"all\"",
        )),
    }
}

/// Which version an instance's change was made on: its exception's own etag, or, for an instance Google
/// holds no exception for, its master's (checked by the push before it writes without a precondition).
fn instance_precondition(codec: &dyn EventCodec, target: &Target, master: &Event) -> Result<Value> {
    if target.event.recurrence_id.is_some() {
        let etag = codec.version(&target.event).ok_or_else(not_pushed)?;
        return Ok(json!({ "etag": etag.0, "etag_of": "instance" }));
    }
    let etag = codec.version(master).ok_or_else(not_pushed)?;
    let master_id = master.platform_id.clone().ok_or_else(not_pushed)?;
    Ok(json!({ "etag": etag.0, "etag_of": "master", "master_id": master_id }))
}

/// Gives an override the ids Google will know it by: its instance id, and our id derived from it, so the
/// sync's copy of the exception replaces it instead of sitting beside it.
fn as_instance(
    codec: &dyn EventCodec,
    mut ov: Event,
    master: &Event,
    rid: &crate::time::When,
    zone: crate::time::Zone,
) -> Result<Event> {
    let master_gid = master.platform_id.as_deref().ok_or_else(not_pushed)?;
    // An exception keeps its own id; a copy of the master gets the instance's.
    let gid = match ov.platform_id.clone() {
        Some(existing) if existing != master_gid => existing,
        _ => codec.instance_id(master_gid, rid, zone),
    };
    ov.id = codec.local_id(&ov.calendar_id, &gid);
    ov.uid = master.uid.clone();
    ov.platform = codec.platform().to_string();
    ov.platform_id = Some(gid);
    // The copied raw JSON is the master's (its etag among it), which this instance must never be sent with.
    ov.raw = None;
    Ok(ov)
}

impl App {
    /// The connection of an account's calendar; `None` for local calendars.
    pub(super) fn account_of(&self, calendar_id: &str) -> Result<Option<Connection>> {
        let Some((conn, Some(_))) = self.store.read(|r| r.calendar_origin(calendar_id))? else {
            return Ok(None);
        };
        self.store.read(|r| r.connection(&conn))
    }

    /// Stores a new event (or series) in an account's calendar and queues its insert.
    pub(super) fn create_in_account(&self, mut event: Event, conn: &Connection) -> Result<Event> {
        let codec = codec_of(conn)?;
        holdable(codec, &event, self.zone)?;
        let gid = codec.new_event_id();
        event.id = codec.local_id(&event.calendar_id, &gid);
        event.uid = gid.clone();
        event.platform = codec.platform().to_string();
        event.platform_id = Some(gid);
        let payload = json!({ "event": row_event(&event)? });
        let now = self.clock.now();
        self.store.write(|w| {
            w.save_event(&event)?;
            w.materialize_group(&event.calendar_id, &event.uid)?;
            w.outbox_add(
                &event.calendar_id,
                &event.id,
                Operation::Create,
                &payload.to_string(),
                now,
            )
        })?;
        self.push_best_effort(conn);
        Ok(event)
    }

    /// Edits an event, a whole series, one occurrence, or an occurrence and the ones after it, in an
    /// account's calendar, and queues the change with its precondition.
    pub(super) fn edit_in_account(
        &self,
        target: &Target,
        input: &EventInput,
        scope: Scope,
        conn: &Connection,
    ) -> Result<Edited> {
        let codec = codec_of(conn)?;
        let now = self.clock.now();
        let zone = self.zone;
        let (Some(master), Some(rid)) = (&target.master, target.rid) else {
            return self.edit_single(target, input, scope, conn, now);
        };
        let edited = match scope {
            Scope::This => {
                let ov = edit::override_for(target, master, rid, input, zone, now)?;
                let ov = as_instance(codec, ov, master, &rid, zone)?;
                let mut payload = instance_precondition(codec, target, master)?;
                payload["event"] = row_event(&ov)?;
                self.store.write(|w| {
                    w.save_event(&ov)?;
                    w.materialize_group(&master.calendar_id, &master.uid)?;
                    w.outbox_add(
                        &ov.calendar_id,
                        &ov.id,
                        Operation::Update,
                        &payload.to_string(),
                        now,
                    )
                })?;
                Edited {
                    occurrence_id: instance_id(&master.id, &rid, zone),
                    event: ov,
                }
            }
            Scope::Following if !edit::is_first(master, &rid, zone) => {
                let (old, new, _) = edit::split(target, master, rid, input, zone, now)?;
                let gid = codec.new_event_id();
                let mut new = new;
                new.id = codec.local_id(&new.calendar_id, &gid);
                new.uid = gid.clone();
                new.platform_id = Some(gid);
                new.raw = None;
                self.queue_split(codec, master, &old, Some(&new), &rid, now)?;
                Edited {
                    occurrence_id: instance_id(&new.id, &new.start, zone),
                    event: new,
                }
            }
            Scope::All | Scope::Following => {
                let etag = codec.version(master).ok_or_else(not_pushed)?;
                let (m, _) = edit::moved_master(target, master, input, zone, now)?;
                // Unchanged rules are not sent back: lines Punctual cannot read (an EXRULE) stay as
                // Google has them.
                let payload = json!({ "etag": etag.0, "event": row_event(&m)?,
                                      "keep_rule": m.recurrence == master.recurrence });
                // Exceptions stay keyed where Google keeps them; the next sync brings Google's word on them.
                self.store.write(|w| {
                    w.save_event(&m)?;
                    w.materialize_group(&m.calendar_id, &m.uid)?;
                    w.outbox_add(
                        &m.calendar_id,
                        &m.id,
                        Operation::Update,
                        &payload.to_string(),
                        now,
                    )
                })?;
                Edited {
                    occurrence_id: instance_id(&m.id, &m.start, zone),
                    event: m,
                }
            }
        };
        self.push_best_effort(conn);
        Ok(edited)
    }

    /// Edits a single event (possibly making it a series) and queues the patch with its etag.
    fn edit_single(
        &self,
        target: &Target,
        input: &EventInput,
        scope: Scope,
        conn: &Connection,
        now: DateTime<Utc>,
    ) -> Result<Edited> {
        let codec = codec_of(conn)?;
        let series = codec.series_of(&target.event);
        if series.is_none() {
            single_scope(scope)?;
        }
        let etag = codec.version(&target.event).ok_or_else(not_pushed)?;
        let base: Draft = edit::draft_of(&target.event, target.start, target.end);
        let draft = super::validate::validate(input, Some(&base), self.zone, now)?;
        let mut e = target.event.clone();
        edit::apply_draft(&mut e, &draft, true);
        e.updated_at = now;
        let e = with_link(e);
        if let Some(series) = series {
            if e.recurrence.is_some() {
                return Err(Error::field(
                    ErrorCode::InvalidInput,
                    "repeat",
                    "an occurrence of a series cannot repeat on its own; change the series' rule in Outlook",
                ));
            }
            let edited = self.edit_instance_of(target, e, &series, &etag, scope, codec, now)?;
            self.push_best_effort(conn);
            return Ok(edited);
        }
        holdable(codec, &e, self.zone)?;
        let payload = json!({ "etag": etag.0, "event": row_event(&e)? });
        self.store.write(|w| {
            w.save_event(&e)?;
            w.materialize_group(&e.calendar_id, &e.uid)?;
            w.outbox_add(
                &e.calendar_id,
                &e.id,
                Operation::Update,
                &payload.to_string(),
                now,
            )
        })?;
        self.push_best_effort(conn);
        Ok(Edited {
            occurrence_id: if e.is_series() {
                instance_id(&e.id, &e.start, self.zone)
            } else {
                e.id.clone()
            },
            event: e,
        })
    }

    /// Stores a split of `master` before `rid` (the old master ended, the new series if any, the old
    /// exceptions from `rid` on removed) and queues it as one `split` row.
    fn queue_split(
        &self,
        codec: &dyn EventCodec,
        master: &Event,
        old: &Event,
        new: Option<&Event>,
        rid: &crate::time::When,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let zone = self.zone;
        let etag = codec.version(master).ok_or_else(not_pushed)?;
        let cut = rid.to_utc(zone);
        self.store.write(|w| {
            // Read in the write's transaction, so a sync cannot slip an exception in between.
            let later: Vec<Event> = w
                .reader()
                .group(&master.calendar_id, &master.uid)?
                .into_iter()
                .filter(|o| o.recurrence_id.is_some_and(|r| r.to_utc(zone) >= cut))
                .collect();
            // Exceptions that never reached Google have nothing to delete there.
            let drop: Vec<Value> = later
                .iter()
                .filter_map(|o| {
                    Some(
                        json!({ "remote_id": o.platform_id.clone()?, "etag": codec.version(o)?.0 }),
                    )
                })
                .collect();
            let payload = json!({
                "etag": etag.0,
                "master": row_event(old)?,
                "new": new.map(row_event).transpose()?,
                "drop": drop,
                "done": 0,
            });
            for o in &later {
                w.remove_event(&o.id)?;
            }
            w.save_event(old)?;
            w.materialize_group(&old.calendar_id, &old.uid)?;
            if let Some(n) = new {
                w.save_event(n)?;
                w.materialize_group(&n.calendar_id, &n.uid)?;
            }
            w.outbox_add(
                &old.calendar_id,
                &old.id,
                Operation::Split,
                &payload.to_string(),
                now,
            )
        })
    }

    /// Deletes an event, a whole series, one occurrence, or an occurrence and the ones after it, in an
    /// account's calendar, and queues the delete with its precondition.
    pub(super) fn delete_in_account(
        &self,
        target: &Target,
        scope: Scope,
        conn: &Connection,
    ) -> Result<()> {
        let codec = codec_of(conn)?;
        let zone = self.zone;
        let now = self.clock.now();
        match (&target.master, target.rid) {
            (Some(master), Some(rid)) if scope == Scope::This => {
                let mut gone = if target.event.recurrence_id.is_some() {
                    target.event.clone()
                } else {
                    let mut o = master.clone();
                    o.recurrence = None;
                    o.recurrence_id = Some(rid);
                    o.this_and_future = false;
                    o.created_at = now;
                    o
                };
                // Stored as Google will send it back: a cancelled instance, which hides the occurrence.
                gone.status = EventStatus::Cancelled;
                gone.updated_at = now;
                let gone = as_instance(codec, gone, master, &rid, zone)?;
                let mut payload = instance_precondition(codec, target, master)?;
                payload["remote_id"] = json!(gone.platform_id);
                // Not sent: it names the event if the delete becomes a conflict ([`App::conflict_views`]).
                payload["summary"] = json!(gone.title);
                self.store.write(|w| {
                    w.save_event(&gone)?;
                    w.materialize_group(&master.calendar_id, &master.uid)?;
                    w.outbox_add(
                        &gone.calendar_id,
                        &gone.id,
                        Operation::Delete,
                        &payload.to_string(),
                        now,
                    )
                })?;
            }
            (Some(master), Some(rid))
                if scope == Scope::Following && !edit::is_first(master, &rid, zone) =>
            {
                let mut old = master.clone();
                edit::truncate_before(&mut old, &rid, zone);
                old.updated_at = now;
                self.queue_split(codec, master, &old, None, &rid, now)?;
            }
            (Some(master), _) => self.queue_delete(codec, master)?,
            (None, _) if codec.series_of(&target.event).is_some() => {
                let series = codec.series_of(&target.event).unwrap_or_default();
                self.delete_instance_of(target, &series, scope, codec, now)?
            }
            (None, _) if target.event.recurrence_id.is_some() => {
                // An exception whose master is not stored: it can only go by itself.
                self.queue_delete(codec, &target.event)?
            }
            (None, _) => {
                single_scope(scope)?;
                self.queue_delete(codec, &target.event)?
            }
        }
        self.push_best_effort(conn);
        Ok(())
    }

    /// Removes an event (a master with its exceptions) locally and queues its delete with its etag.
    fn queue_delete(&self, codec: &dyn EventCodec, event: &Event) -> Result<()> {
        let etag = codec.version(event).ok_or_else(not_pushed)?;
        let remote_id = event.platform_id.clone().ok_or_else(not_pushed)?;
        // `summary` is not sent: the local copy goes now, and it names the event if the delete becomes a
        // conflict ([`App::conflict_views`]).
        let payload = json!({ "etag": etag.0, "remote_id": remote_id, "summary": event.title });
        let now = self.clock.now();
        self.store.write(|w| {
            w.apply_remote_page(
                &event.calendar_id,
                &[RemoteChange::Remove {
                    uid: event.uid.clone(),
                    recurrence_id: event.recurrence_id,
                }],
            )?;
            w.outbox_add(
                &event.calendar_id,
                &event.id,
                Operation::Delete,
                &payload.to_string(),
                now,
            )
        })
    }

    /// The stored instances of the provider's series `series` in `calendar_id` (see
    /// [`EventCodec::series_of`]) that start at `from` or later (`None`: all of them).
    fn instances_of(
        &self,
        codec: &dyn EventCodec,
        calendar_id: &str,
        series: &str,
        from: Option<&crate::time::When>,
    ) -> Result<Vec<Event>> {
        let zone = self.zone;
        let cut = from.map(|w| w.to_utc(zone));
        Ok(self
            .store
            .read(|r| r.calendar_events(calendar_id))?
            .into_iter()
            .filter(|e| codec.series_of(e).as_deref() == Some(series))
            .filter(|e| cut.is_none_or(|c| e.start.to_utc(zone) >= c))
            .collect())
    }

    /// An edit of one instance of a series stored instance by instance ([`EventCodec::series_of`]):
    /// *this* patches the instance's own id with its etag; *all* has the provider change the series from
    /// this instance's edit; *following* has it continue the series from here as a new one and then end
    /// the old one before it, as one `split` row. The series changes are checked against the version of
    /// the instance the user edited.
    #[allow(clippy::too_many_arguments)]
    fn edit_instance_of(
        &self,
        target: &Target,
        e: Event,
        series: &str,
        etag: &crate::providers::Etag,
        scope: Scope,
        codec: &dyn EventCodec,
        now: DateTime<Utc>,
    ) -> Result<Edited> {
        let remote = target.event.platform_id.clone().ok_or_else(not_pushed)?;
        let checked =
            json!({ "etag": etag.0, "etag_of": "checked", "checked_id": remote, "series": series });
        let (stored, operation, payload) = match scope {
            Scope::This => {
                let p = json!({ "etag": etag.0, "event": row_event(&e)? });
                (e, Operation::Update, p)
            }
            Scope::All => {
                let mut p = checked;
                p["event"] = row_event(&e)?;
                p["was"] = json!(target.event.start);
                (e, Operation::Update, p)
            }
            Scope::Following => {
                let gid = codec.new_event_id();
                let mut new = e;
                new.id = codec.local_id(&new.calendar_id, &gid);
                new.uid = gid.clone();
                new.platform_id = Some(gid);
                new.raw = None;
                let mut p = checked;
                p["cut"] = json!(target.event.start);
                p["new"] = row_event(&new)?;
                p["done"] = json!(0);
                let later = self.instances_of(
                    codec,
                    &target.event.calendar_id,
                    series,
                    Some(&target.event.start),
                )?;
                // Until the provider sends the new series' instances, its first one stands for it.
                self.store.write(|w| {
                    for o in &later {
                        w.remove_event(&o.id)?;
                    }
                    Ok(())
                })?;
                (new, Operation::Split, p)
            }
        };
        self.store.write(|w| {
            w.save_event(&stored)?;
            w.materialize_group(&stored.calendar_id, &stored.uid)?;
            w.outbox_add(
                &stored.calendar_id,
                &stored.id,
                operation,
                &payload.to_string(),
                now,
            )
        })?;
        Ok(Edited {
            occurrence_id: stored.id.clone(),
            event: stored,
        })
    }

    /// A delete of one instance of a series stored instance by instance: *this* deletes the instance;
    /// *all* the series' master; *following* ends the series before it.
    fn delete_instance_of(
        &self,
        target: &Target,
        series: &str,
        scope: Scope,
        codec: &dyn EventCodec,
        now: DateTime<Utc>,
    ) -> Result<()> {
        if scope == Scope::This {
            return self.queue_delete(codec, &target.event);
        }
        let etag = codec.version(&target.event).ok_or_else(not_pushed)?;
        let remote = target.event.platform_id.clone().ok_or_else(not_pushed)?;
        let mut payload = json!({ "etag": etag.0, "etag_of": "checked", "checked_id": remote,
                                  "series": series, "summary": target.event.title });
        let (from, operation) = if scope == Scope::Following {
            payload["cut"] = json!(target.event.start);
            payload["new"] = Value::Null;
            payload["done"] = json!(0);
            (Some(&target.event.start), Operation::Split)
        } else {
            payload["remote_id"] = json!(series);
            (None, Operation::Delete)
        };
        let gone = self.instances_of(codec, &target.event.calendar_id, series, from)?;
        self.store.write(|w| {
            for o in &gone {
                w.remove_event(&o.id)?;
            }
            w.outbox_add(
                &target.event.calendar_id,
                &target.event.id,
                operation,
                &payload.to_string(),
                now,
            )
        })
    }

    /// Pushes now if the provider answers; otherwise the rows wait for the next sync.
    fn push_best_effort(&self, conn: &Connection) {
        let _ = self.push_outbox(conn);
    }
}
