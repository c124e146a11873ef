//! Edits and deletes with a scope: this occurrence, this and following, or the whole series.
//!
//! - *This* writes an override (an event with the master's UID and a RECURRENCE-ID), or an EXDATE on delete.
//! - *Following* splits the series: the old master gets an UNTIL just before the chosen instance (a COUNT is
//!   turned into the same UNTIL), and a new series with its own UID starts at that instance, carrying the rest
//!   of the COUNT, the later RDATEs and EXDATEs, and the later overrides. This is what RFC 5545 clients and
//!   Google do, since RANGE=THISANDFUTURE overrides are poorly supported by other clients.
//! - *All* edits the master. The times a user types are those of the occurrence they clicked, so a move of
//!   one hour moves every instance by one hour; EXDATEs and overrides move with them.

use super::validate::{validate, Draft};
use super::{recurrence_of, with_link, EventInput, Scope};
use crate::error::{Error, ErrorCode, Result};
use crate::model::Event;
use crate::recurrence::{self, Series, Window};
use crate::store::{instance_id, Store, MAX_INSTANCES_PER_RANGE};
use crate::time::{When, Zone};
use chrono::{DateTime, Duration, Utc};

/// The event or occurrence an edit or delete is aimed at.
pub struct Target {
    /// The event whose data the occurrence shows: a single, the master, or an override.
    pub event: Event,
    /// The series master, for instances of a series.
    pub master: Option<Event>,
    /// The instance's original start (RECURRENCE-ID), in the master's kind of time.
    pub rid: Option<When>,
    pub start: When,
    pub end: When,
}

/// What an edit wrote, to show afterwards.
pub struct Edited {
    pub event: Event,
    pub occurrence_id: String,
}

/// An instant as the same kind of time as `like` (a date, a floating or zoned wall-clock time, or UTC).
fn as_kind(t: DateTime<Utc>, like: &When, zone: Zone) -> When {
    match like {
        When::Date { .. } => When::Date {
            date: zone.local(t).date(),
        },
        When::Floating { .. } => When::Floating {
            local: zone.local(t),
        },
        When::Zoned { zone: z, .. } => When::Zoned {
            local: z.local(t),
            zone: *z,
        },
        When::Utc { .. } => When::Utc { at: t },
    }
}

/// Finds what `id` names: an occurrence id, or an event id.
pub fn resolve(store: &Store, id: &str, zone: Zone) -> Result<Target> {
    store.read(|r| {
        if let Some(row) = r.occurrence(id)? {
            let Some(sid) = row.series_id.as_deref() else {
                return Ok(Target {
                    start: row.event.start,
                    end: row.event.end,
                    event: row.event,
                    master: None,
                    rid: None,
                });
            };
            let (master, _) = r
                .event(sid)?
                .ok_or_else(|| Error::not_found("series", sid))?;
            let rid = match row.original_start.as_deref() {
                Some(s) if s.len() == 10 => s.parse().ok().map(|date| When::Date { date }),
                Some(s) => DateTime::parse_from_rfc3339(s)
                    .ok()
                    .map(|t| as_kind(t.with_timezone(&Utc), &master.start, zone)),
                None => None,
            }
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::Storage,
                    format!("occurrence {id:?} has no readable original start"),
                )
            })?;
            let (start, end) = if row.event.recurrence_id.is_some() {
                (row.event.start, row.event.end)
            } else {
                (
                    as_kind(row.start, &master.start, zone),
                    as_kind(row.end, &master.end, zone),
                )
            };
            return Ok(Target {
                event: row.event,
                master: Some(master),
                rid: Some(rid),
                start,
                end,
            });
        }
        match r.event(id)? {
            Some((e, false)) if e.recurrence_id.is_some() => {
                let master = r
                    .group(&e.calendar_id, &e.uid)?
                    .into_iter()
                    .find(|m| m.is_series());
                Ok(Target {
                    rid: e.recurrence_id,
                    start: e.start,
                    end: e.end,
                    event: e,
                    master,
                })
            }
            Some((e, false)) if e.is_series() => Ok(Target {
                rid: Some(e.start),
                start: e.start,
                end: e.end,
                master: Some(e.clone()),
                event: e,
            }),
            Some((e, false)) => Ok(Target {
                start: e.start,
                end: e.end,
                event: e,
                master: None,
                rid: None,
            }),
            _ => Err(Error::not_found("event", id)),
        }
    })
}

/// The current values of an event as a draft, with the times of the occurrence being edited.
pub(super) fn draft_of(e: &Event, start: When, end: When) -> Draft {
    Draft {
        title: e.title.clone(),
        start,
        end,
        time_zone: e.time_zone,
        description: e.description.clone(),
        location: e.location.clone(),
        url: e.url.clone(),
        color: e.color.clone(),
        availability: e.availability,
        repeat: None,
        rdates: None,
        exdates: None,
    }
}

/// Copies a validated draft onto an event. `times` says whether start and end are taken too.
pub fn apply_draft(e: &mut Event, d: &Draft, times: bool) {
    e.title = d.title.clone();
    if times {
        e.start = d.start;
        e.end = d.end;
    }
    e.time_zone = d.time_zone;
    e.description = d.description.clone();
    e.location = d.location.clone();
    e.url = d.url.clone();
    e.color = d.color.clone();
    e.availability = d.availability;
    if d.repeat.is_some() || d.rdates.is_some() || d.exdates.is_some() {
        let old = e.recurrence.clone().unwrap_or_default();
        e.recurrence = recurrence_of(
            d.repeat.clone().unwrap_or(old.rrules),
            d.rdates.clone().unwrap_or(old.rdates),
            d.exdates.clone().unwrap_or(old.exdates),
        );
    }
}

fn shift(w: When, delta: Duration) -> When {
    w.with_naive(w.naive() + delta)
}

/// Whether `rid` is the series' first instance, where "this and following" is the whole series.
pub(super) fn is_first(master: &Event, rid: &When, zone: Zone) -> bool {
    rid.to_utc(zone) == master.start.to_utc(zone)
}

pub fn edit(
    store: &Store,
    t: &Target,
    input: &EventInput,
    scope: Scope,
    zone: Zone,
    now: DateTime<Utc>,
) -> Result<Edited> {
    let (Some(master), Some(rid)) = (&t.master, t.rid) else {
        let base = draft_of(&t.event, t.start, t.end);
        let draft = validate(input, Some(&base), zone, now)?;
        let mut e = t.event.clone();
        apply_draft(&mut e, &draft, true);
        e.updated_at = now;
        let e = with_link(e);
        store.write(|w| {
            w.save_event(&e)?;
            w.materialize_group(&e.calendar_id, &e.uid)
        })?;
        return Ok(Edited {
            occurrence_id: e.id.clone(),
            event: e,
        });
    };
    match scope {
        Scope::This => edit_this(store, t, master, rid, input, zone, now),
        Scope::All => edit_all(store, t, master, input, zone, now),
        Scope::Following if is_first(master, &rid, zone) => {
            edit_all(store, t, master, input, zone, now)
        }
        Scope::Following => edit_following(store, t, master, rid, input, zone, now),
    }
}

/// The override that an edit of one occurrence writes: the occurrence's current override, else a copy of
/// the master keyed by `rid`, with the draft applied. Its id is new; an account's calendar replaces it.
pub(super) fn override_for(
    t: &Target,
    master: &Event,
    rid: When,
    input: &EventInput,
    zone: Zone,
    now: DateTime<Utc>,
) -> Result<Event> {
    if input.repeat.is_some() || !input.rdates.is_empty() || !input.exdates.is_empty() {
        return Err(Error::field(
            ErrorCode::InvalidInput,
            "repeat",
            "one occurrence cannot have its own repeat rule; edit with scope \"following\" or \"all\"",
        ));
    }
    let base = draft_of(&t.event, t.start, t.end);
    let draft = validate(input, Some(&base), zone, now)?;
    let mut ov = if t.event.recurrence_id.is_some() {
        t.event.clone()
    } else {
        let mut o = master.clone();
        o.id = uuid::Uuid::new_v4().to_string();
        o.recurrence = None;
        o.recurrence_id = Some(rid);
        o.this_and_future = false;
        o.created_at = now;
        o
    };
    apply_draft(&mut ov, &draft, true);
    ov.recurrence = None;
    ov.updated_at = now;
    Ok(with_link(ov))
}

fn edit_this(
    store: &Store,
    t: &Target,
    master: &Event,
    rid: When,
    input: &EventInput,
    zone: Zone,
    now: DateTime<Utc>,
) -> Result<Edited> {
    let ov = override_for(t, master, rid, input, zone, now)?;
    store.write(|w| {
        w.save_event(&ov)?;
        w.materialize_group(&master.calendar_id, &master.uid)
    })?;
    Ok(Edited {
        occurrence_id: instance_id(&master.id, &rid, zone),
        event: ov,
    })
}

/// The master after an edit of the whole series, and how far its instances moved: the times typed are
/// those of the occurrence clicked, so the master, its RDATEs and its EXDATEs move by the same amount.
pub(super) fn moved_master(
    t: &Target,
    master: &Event,
    input: &EventInput,
    zone: Zone,
    now: DateTime<Utc>,
) -> Result<(Event, Duration)> {
    let mut base = draft_of(master, t.start, t.end);
    base.repeat = master.recurrence.as_ref().map(|r| r.rrules.clone());
    let draft = validate(input, Some(&base), zone, now)?;
    let delta = draft.start.naive() - t.start.naive();
    let mut m = master.clone();
    apply_draft(&mut m, &draft, false);
    m.start = draft.start.with_naive(master.start.naive() + delta);
    m.end = m
        .start
        .with_naive(m.start.naive() + (draft.end.naive() - draft.start.naive()));
    if let Some(r) = m.recurrence.as_mut() {
        r.rdates = r.rdates.iter().map(|d| shift(*d, delta)).collect();
        r.exdates = r.exdates.iter().map(|d| shift(*d, delta)).collect();
    }
    m.updated_at = now;
    Ok((with_link(m), delta))
}

fn edit_all(
    store: &Store,
    t: &Target,
    master: &Event,
    input: &EventInput,
    zone: Zone,
    now: DateTime<Utc>,
) -> Result<Edited> {
    let (m, delta) = moved_master(t, master, input, zone, now)?;
    let moved = delta != Duration::zero();
    store.write(|w| {
        w.save_event(&m)?;
        if moved {
            // Overrides are keyed by the instance they replace; those instances moved, so their keys move too.
            for mut o in w
                .reader()
                .group(&m.calendar_id, &m.uid)?
                .into_iter()
                .filter(|o| o.recurrence_id.is_some())
            {
                o.recurrence_id = o.recurrence_id.map(|r| shift(r, delta));
                o.updated_at = now;
                w.save_event(&o)?;
            }
        }
        w.materialize_group(&m.calendar_id, &m.uid)
    })?;
    let first = t.rid.map(|r| shift(r, delta)).unwrap_or(m.start);
    Ok(Edited {
        occurrence_id: instance_id(&m.id, &first, zone),
        event: m,
    })
}

/// The UNTIL value that ends a series just before `rid` (RFC 5545 §3.3.10: a date for all-day series, UTC
/// for zoned ones, local for floating ones).
fn until_before(rid: &When, zone: Zone) -> String {
    match rid {
        When::Date { date } => (*date - Duration::days(1)).format("%Y%m%d").to_string(),
        When::Floating { local } => (*local - Duration::seconds(1))
            .format("%Y%m%dT%H%M%S")
            .to_string(),
        _ => (rid.to_utc(zone) - Duration::seconds(1))
            .format("%Y%m%dT%H%M%SZ")
            .to_string(),
    }
}

/// A rule's parts other than COUNT and UNTIL.
fn without_end(rule: &str) -> Vec<&str> {
    rule.split(';')
        .filter(|p| {
            let k = p.split('=').next().unwrap_or("").trim();
            !k.eq_ignore_ascii_case("COUNT")
                && !k.eq_ignore_ascii_case("UNTIL")
                && !p.trim().is_empty()
        })
        .collect()
}

fn rule_count(rule: &str) -> Option<i64> {
    rule.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("COUNT")
            .then(|| v.trim().parse().ok())
            .flatten()
    })
}

/// Ends a master's rules, RDATEs and EXDATEs just before `rid`.
pub(super) fn truncate_before(m: &mut Event, rid: &When, zone: Zone) {
    let cut = rid.to_utc(zone);
    let until = until_before(rid, zone);
    if let Some(r) = m.recurrence.as_mut() {
        r.rrules = r
            .rrules
            .iter()
            .map(|rule| {
                let mut parts = without_end(rule);
                let u = format!("UNTIL={until}");
                parts.push(&u);
                parts.join(";")
            })
            .collect();
        r.rdates.retain(|d| d.to_utc(zone) < cut);
        r.exdates.retain(|d| d.to_utc(zone) < cut);
    }
}

/// How many instances the rules alone produce before `rid` (COUNT counts them before EXDATEs apply,
/// RFC 5545 §3.8.5.3).
fn instances_before(master: &Event, rid: &When, zone: Zone) -> i64 {
    let Some(rec) = master.recurrence.as_ref() else {
        return 0;
    };
    let rules_only = crate::model::Recurrence {
        rrules: rec.rrules.clone(),
        rdates: Vec::new(),
        exdates: Vec::new(),
    };
    let series = Series {
        start: master.start,
        end: master.end,
        recurrence: &rules_only,
    };
    let window = Window {
        start: master.start.to_utc(zone),
        end: rid.to_utc(zone),
    };
    recurrence::expand(&series, &[], window, zone, MAX_INSTANCES_PER_RANGE * 20)
        .map(|x| x.instances.len() as i64)
        .unwrap_or(0)
}

/// A split for "this and following": the old master ended just before `rid`, the new series (new id and
/// UID) starting at the edited occurrence with the rest of a COUNT and the later RDATEs and EXDATEs, and how
/// far the instances moved.
pub(super) fn split(
    t: &Target,
    master: &Event,
    rid: When,
    input: &EventInput,
    zone: Zone,
    now: DateTime<Utc>,
) -> Result<(Event, Event, Duration)> {
    let mut base = draft_of(master, t.start, t.end);
    base.repeat = master.recurrence.as_ref().map(|r| r.rrules.clone());
    let draft = validate(input, Some(&base), zone, now)?;
    let delta = draft.start.naive() - t.start.naive();
    let before = instances_before(master, &rid, zone);

    let mut old = master.clone();
    truncate_before(&mut old, &rid, zone);
    old.updated_at = now;

    let mut new = master.clone();
    new.id = uuid::Uuid::new_v4().to_string();
    new.uid = format!("{}-{}", master.uid, until_before(&rid, zone));
    new.created_at = now;
    new.updated_at = now;
    apply_draft(&mut new, &draft, true);
    let cut = rid.to_utc(zone);
    if let Some(r) = new.recurrence.as_mut() {
        if input.repeat.is_none() {
            r.rrules = r
                .rrules
                .iter()
                .map(|rule| match rule_count(rule) {
                    Some(n) => {
                        let mut parts = without_end(rule);
                        let c = format!("COUNT={}", (n - before).max(1));
                        parts.push(&c);
                        parts.join(";")
                    }
                    None => rule.clone(),
                })
                .collect();
        }
        r.rdates = r
            .rdates
            .iter()
            .filter(|d| d.to_utc(zone) >= cut)
            .map(|d| shift(*d, delta))
            .collect();
        r.exdates = r
            .exdates
            .iter()
            .filter(|d| d.to_utc(zone) >= cut)
            .map(|d| shift(*d, delta))
            .collect();
    }
    Ok((old, with_link(new), delta))
}

fn edit_following(
    store: &Store,
    t: &Target,
    master: &Event,
    rid: When,
    input: &EventInput,
    zone: Zone,
    now: DateTime<Utc>,
) -> Result<Edited> {
    let (old, new, delta) = split(t, master, rid, input, zone, now)?;
    let cut = rid.to_utc(zone);
    store.write(|w| {
        let overrides: Vec<Event> = w
            .reader()
            .group(&master.calendar_id, &master.uid)?
            .into_iter()
            .filter(|o| o.recurrence_id.is_some())
            .collect();
        w.save_event(&old)?;
        w.save_event(&new)?;
        for mut o in overrides {
            let Some(orid) = o.recurrence_id else {
                continue;
            };
            if orid.to_utc(zone) >= cut {
                o.uid = new.uid.clone();
                o.recurrence_id = Some(shift(orid, delta));
                o.updated_at = now;
                w.save_event(&o)?;
            }
        }
        w.materialize_group(&old.calendar_id, &old.uid)?;
        w.materialize_group(&new.calendar_id, &new.uid)
    })?;
    Ok(Edited {
        occurrence_id: instance_id(&new.id, &new.start, zone),
        event: new,
    })
}

pub fn delete(
    store: &Store,
    t: &Target,
    scope: Scope,
    zone: Zone,
    now: DateTime<Utc>,
) -> Result<()> {
    let (Some(master), Some(rid)) = (&t.master, t.rid) else {
        return store.write(|w| w.mark_deleted(&t.event.id));
    };
    let first = is_first(master, &rid, zone);
    store.write(|w| {
        let group = w.reader().group(&master.calendar_id, &master.uid)?;
        match scope {
            Scope::All | Scope::Following if scope == Scope::All || first => {
                for e in &group {
                    w.mark_deleted(&e.id)?;
                }
                w.mark_deleted(&master.id)?;
                return Ok(());
            }
            Scope::This => {
                let mut m = master.clone();
                m.recurrence
                    .get_or_insert_with(Default::default)
                    .exdates
                    .push(rid);
                m.updated_at = now;
                w.save_event(&m)?;
                let key = rid.to_utc(zone);
                for o in group
                    .iter()
                    .filter(|o| o.recurrence_id.is_some_and(|r| r.to_utc(zone) == key))
                {
                    w.remove_event(&o.id)?;
                }
            }
            _ => {
                let mut m = master.clone();
                truncate_before(&mut m, &rid, zone);
                m.updated_at = now;
                w.save_event(&m)?;
                let cut = rid.to_utc(zone);
                for o in group
                    .iter()
                    .filter(|o| o.recurrence_id.is_some_and(|r| r.to_utc(zone) >= cut))
                {
                    w.remove_event(&o.id)?;
                }
            }
        }
        w.materialize_group(&master.calendar_id, &master.uid)
            .map(|_| ())
    })
}
