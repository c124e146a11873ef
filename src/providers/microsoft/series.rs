//! Changes to a whole Graph series ([`SeriesEdit`]). Punctual stores a Graph series as its instances, each
//! under its own id, as calendarView delta sends them (see the module above); the master itself is read
//! from Graph when a change needs it (`GET /me/events/{id}`), and what to store afterwards is the series'
//! instances in the window (`GET /me/events/{id}/instances`,
//! https://learn.microsoft.com/graph/api/event-list-instances), with a removal for each one gone.
//!
//! Every operation can be repeated after an attempt whose answer was lost: *all* patches the master to
//! values computed from the master as it is read, under If-Match; *continue* posts with the client's
//! `transactionId`, which Graph deduplicates; *end before* looks first whether the master already ends
//! there; the deletes that follow take a 404 as done.

use super::{event_body, graph_time, iso_utc, map_item, on_base, Graph};
use crate::model::Event;
use crate::providers::{CalendarRef, ProviderError, SeriesEdit, SeriesOp};
use crate::secrets::SecretString;
use crate::store::RemoteChange;
use crate::time::{When, Zone};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::{json, Value};
use std::collections::HashSet;

fn not_json(e: serde_json::Error) -> ProviderError {
    ProviderError::Other(format!("Graph's answer is not the expected JSON: {e}"))
}

/// A `dateTimeTimeZone` as an instant (Graph answers in UTC here: `Prefer: outlook.timezone="UTC"`).
fn instant(v: &Value) -> Option<DateTime<Utc>> {
    let text = v["dateTime"].as_str()?;
    let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
    let zone = v["timeZone"]
        .as_str()
        .and_then(Zone::parse)
        .unwrap_or(Zone::UTC);
    Some(zone.resolve(local))
}

/// When an instance was meant to start: its `originalStart` (an exception may have moved), else its start.
fn original_start(i: &Value) -> Option<DateTime<Utc>> {
    i["originalStart"]
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .or_else(|| instant(&i["start"]))
}

/// The zone the master's wall clock is in: its `originalStartTimeZone`, else `fallback`.
fn zone_of(master: &Value, fallback: Zone) -> Zone {
    master["originalStartTimeZone"]
        .as_str()
        .and_then(Zone::parse)
        .unwrap_or(fallback)
}

/// The zone its recurrence counts dates in.
fn rule_zone(master: &Value, fallback: Zone) -> Zone {
    master["recurrence"]["range"]["recurrenceTimeZone"]
        .as_str()
        .and_then(Zone::parse)
        .unwrap_or_else(|| zone_of(master, fallback))
}

fn id_of(i: &Value) -> Option<&str> {
    i["id"].as_str().filter(|s| !s.is_empty())
}

impl Graph {
    /// An event's JSON by its Graph id; `None` when it is gone.
    fn event_json(&self, token: &SecretString, id: &str) -> Result<Option<Value>, ProviderError> {
        match self.get(token, self.url(&["me", "events", id])) {
            Ok(b) => serde_json::from_slice(&b).map(Some).map_err(not_json),
            Err(ProviderError::NotFound | ProviderError::SyncTokenGone) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A series' occurrences and exceptions overlapping [from, to); none for a series that is gone.
    fn instances(
        &self,
        token: &SecretString,
        master_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Value>, ProviderError> {
        let mut url = self.url(&["me", "events", master_id, "instances"]);
        url.query_pairs_mut()
            .append_pair("startDateTime", &iso_utc(from))
            .append_pair("endDateTime", &iso_utc(to));
        let mut out = Vec::new();
        loop {
            let body = match self.get(token, url) {
                Ok(b) => b,
                Err(ProviderError::NotFound) => return Ok(out),
                Err(e) => return Err(e),
            };
            let page: Value = serde_json::from_slice(&body).map_err(not_json)?;
            out.extend(page["value"].as_array().into_iter().flatten().cloned());
            match page["@odata.nextLink"].as_str() {
                Some(next) => url = on_base(&self.api, next)?,
                None => return Ok(out),
            }
        }
    }

    fn delete_if_there(&self, token: &SecretString, id: &str) -> Result<(), ProviderError> {
        match self.send(self.http.delete(self.url(&["me", "events", id])), token) {
            Ok(_) | Err(ProviderError::NotFound) => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn patch_master(
        &self,
        token: &SecretString,
        calendar: &CalendarRef<'_>,
        master: &Value,
        body: &Value,
    ) -> Result<(), ProviderError> {
        let id =
            id_of(master).ok_or_else(|| ProviderError::Other("a master without an id".into()))?;
        let mut req = self.http.patch(self.url(&["me", "events", id]));
        if let Some(etag) = master["@odata.etag"].as_str() {
            req = req.header(reqwest::header::IF_MATCH, etag);
        }
        self.write(req, token, calendar, body).map(|_| ())
    }

    pub(super) fn series(
        &self,
        token: &SecretString,
        calendar: &CalendarRef<'_>,
        edit: &SeriesEdit<'_>,
    ) -> Result<Vec<RemoteChange>, ProviderError> {
        let (w, mid, zone) = (edit.window, edit.master_id, calendar.zone);
        let stored = |list: &[Value]| -> Vec<RemoteChange> {
            list.iter()
                .filter_map(|i| {
                    map_item(&i.to_string(), None, calendar.id, zone)
                        .ok()
                        .flatten()
                })
                .collect()
        };
        let removed = |list: &[Value], keep: &HashSet<&str>| -> Vec<RemoteChange> {
            list.iter()
                .filter_map(id_of)
                .filter(|id| !keep.contains(id))
                .map(|id| RemoteChange::Remove {
                    uid: id.to_string(),
                    recurrence_id: None,
                })
                .collect()
        };
        match edit.op {
            SeriesOp::Read => Ok(stored(&self.instances(token, mid, w.start, w.end)?)),
            SeriesOp::All { edited, was } => {
                // The series is gone at Graph: the change has nothing left to apply to.
                let master = self
                    .event_json(token, mid)?
                    .ok_or(ProviderError::Conflict)?;
                let before = self.instances(token, mid, w.start, w.end)?;
                let body = moved_master(&master, edited, was, zone)?;
                self.patch_master(token, calendar, &master, &body)?;
                let after = self.instances(token, mid, w.start, w.end)?;
                let keep: HashSet<&str> = after.iter().filter_map(id_of).collect();
                let mut out = removed(&before, &keep);
                out.extend(stored(&after));
                Ok(out)
            }
            SeriesOp::Continue { edited, cut } => {
                let master = self
                    .event_json(token, mid)?
                    .ok_or(ProviderError::Conflict)?;
                let Some(rec) = self.continued_rule(token, &master, edited, cut, zone)? else {
                    return Ok(Vec::new());
                };
                let mut body = event_body(edited, zone);
                body["recurrence"] = rec;
                let url = self.url(&["me", "calendars", calendar.remote_id, "events"]);
                let created = self.write(self.http.post(url), token, calendar, &body)?;
                let RemoteChange::Upsert(new) = created else {
                    return Ok(Vec::new());
                };
                let Some(new_id) = new.platform_id.as_deref() else {
                    return Ok(Vec::new());
                };
                Ok(stored(&self.instances(token, new_id, w.start, w.end)?))
            }
            SeriesOp::EndBefore { cut } => {
                let Some(master) = self.event_json(token, mid)? else {
                    // Gone at Graph: nothing of it is left after the cut either.
                    return Ok(Vec::new());
                };
                let cut_at = cut.to_utc(zone);
                let later: Vec<Value> = self
                    .instances(token, mid, w.start.min(cut_at), w.end)?
                    .into_iter()
                    .filter(|i| original_start(i).is_some_and(|t| t >= cut_at))
                    .collect();
                let rz = rule_zone(&master, zone);
                let cut_date = rz.local(cut_at).date();
                let range = &master["recurrence"]["range"];
                let first: Option<NaiveDate> =
                    range["startDate"].as_str().and_then(|d| d.parse().ok());
                let ends: Option<NaiveDate> = (range["type"].as_str() == Some("endDate"))
                    .then(|| range["endDate"].as_str().and_then(|d| d.parse().ok()))
                    .flatten();
                if first.is_some_and(|f| cut_date <= f) {
                    // From its first occurrence on is the whole series.
                    self.delete_if_there(token, mid)?;
                } else if ends.is_some_and(|e| e < cut_date) {
                    // An earlier attempt ended it here already.
                } else {
                    let mut rec = master["recurrence"].clone();
                    rec["range"] = json!({
                        "type": "endDate",
                        "startDate": range["startDate"],
                        "endDate": (cut_date - chrono::Duration::days(1)).to_string(),
                        "recurrenceTimeZone": range["recurrenceTimeZone"],
                    });
                    self.patch_master(token, calendar, &master, &json!({ "recurrence": rec }))?;
                }
                // Exceptions are kept by their series, and Graph may keep them past a new end.
                for i in later
                    .iter()
                    .filter(|i| i["type"].as_str() == Some("exception"))
                {
                    if let Some(id) = id_of(i) {
                        self.delete_if_there(token, id)?;
                    }
                }
                Ok(removed(&later, &HashSet::new()))
            }
        }
    }

    /// The master's rule as the series continued from `cut` (at `edited`'s start): the same pattern, the
    /// range from that date, and for a counted range what is left of the count (`None`: nothing is).
    fn continued_rule(
        &self,
        token: &SecretString,
        master: &Value,
        edited: &Event,
        cut: &When,
        zone: Zone,
    ) -> Result<Option<Value>, ProviderError> {
        let mut rec = master["recurrence"].clone();
        if rec.is_null() {
            return Err(ProviderError::Other(
                "the event is no longer a series at Graph".into(),
            ));
        }
        let rz = rule_zone(master, zone);
        rec["range"]["startDate"] = json!(rz.local(edited.start.to_utc(zone)).date().to_string());
        if rec["range"]["type"].as_str() == Some("numbered") {
            let total = rec["range"]["numberOfOccurrences"].as_u64().unwrap_or(0);
            let (Some(mid), Some(first)) = (id_of(master), instant(&master["start"])) else {
                return Ok(None);
            };
            let cut_at = cut.to_utc(zone);
            let before = self
                .instances(token, mid, first, cut_at)?
                .iter()
                .filter(|i| original_start(i).is_some_and(|t| t < cut_at))
                .count() as u64;
            if before >= total {
                return Ok(None);
            }
            rec["range"]["numberOfOccurrences"] = json!(total - before);
        }
        Ok(Some(rec))
    }
}

/// The PATCH that moves a series' master as one occurrence was moved: `edited`'s fields, its start shifted
/// from `was` applied to the master's start, its length kept, and the range's first date moved with it.
fn moved_master(
    master: &Value,
    edited: &Event,
    was: &When,
    zone: Zone,
) -> Result<Value, ProviderError> {
    let start = instant(&master["start"])
        .ok_or_else(|| ProviderError::Other("Graph's series master has no start".into()))?;
    let z = zone_of(master, edited.time_zone);
    let shift = edited.start.to_utc(zone) - was.to_utc(zone);
    let length = edited.end.to_utc(zone) - edited.start.to_utc(zone);
    let mut body = event_body(edited, zone);
    if let Some(o) = body.as_object_mut() {
        o.remove("transactionId");
        o.remove("recurrence");
    }
    let new_start = start + shift;
    let (first, moved_first) = if edited.all_day() {
        let d = z.local(start).date() + chrono::Duration::days(shift.num_days());
        let days = (length.num_days()).max(1);
        body["start"] = graph_time(&When::Date { date: d }, zone);
        body["end"] = graph_time(
            &When::Date {
                date: d + chrono::Duration::days(days),
            },
            zone,
        );
        (z.local(start).date(), d)
    } else {
        let at = |t: DateTime<Utc>| When::Zoned {
            local: z.local(t),
            zone: z,
        };
        body["start"] = graph_time(&at(new_start), z);
        body["end"] = graph_time(&at(new_start + length), z);
        (z.local(start).date(), z.local(new_start).date())
    };
    if moved_first != first {
        let mut rec = master["recurrence"].clone();
        if !rec.is_null() {
            rec["range"]["startDate"] = json!(moved_first.to_string());
            body["recurrence"] = rec;
        }
    }
    Ok(body)
}
