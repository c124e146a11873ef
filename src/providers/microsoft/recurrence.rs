//! A series' rule as Graph writes it: RRULE text (the model's) to Graph's `patternedRecurrence`
//! (https://learn.microsoft.com/graph/api/resources/patternedrecurrence).
//!
//! Graph holds one pattern and one range, and nothing else: no second rule, no RDATE, no EXDATE (an
//! occurrence is removed by deleting it), no BYSETPOS, BYHOUR or finer frequencies. Punctual writes only
//! what Graph takes: `daily`, `weekly` (with `daysOfWeek` and `firstDayOfWeek`), `absoluteMonthly` and
//! `absoluteYearly`, over an `endDate`, `numbered` or `noEnd` range. A rule outside that is refused with a
//! sentence that says what Outlook can hold, before anything is stored or sent, so nothing of the user's
//! is lost on the way.

use crate::model::Event;
use crate::recurrence::rule::{Rule, Until};
use crate::time::Zone;
use chrono::{NaiveDate, Weekday};
use rrule::{Frequency, NWeekday};
use serde_json::{json, Value};

fn day_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "monday",
        Weekday::Tue => "tuesday",
        Weekday::Wed => "wednesday",
        Weekday::Thu => "thursday",
        Weekday::Fri => "friday",
        Weekday::Sat => "saturday",
        Weekday::Sun => "sunday",
    }
}

fn refused(what: &str) -> String {
    format!(
        "Outlook calendars cannot hold {what}: a series there repeats daily, weekly on some days, monthly \
         on one day of the month or yearly on one date, and ends on a date, after a number of times or never"
    )
}

/// The event's first date and the zone its rule counts in (its own, or `zone` for all-day events).
fn start_of(e: &Event, zone: Zone) -> (NaiveDate, Zone) {
    let z = if e.all_day() { zone } else { e.time_zone };
    (z.local(e.start.to_utc(zone)).date(), z)
}

/// `e`'s recurrence as Graph's `patternedRecurrence`: `Ok(None)` for an event that does not repeat, `Err`
/// (a sentence for the user) for a rule Graph cannot express.
pub fn patterned(e: &Event, zone: Zone) -> Result<Option<Value>, String> {
    let Some(rec) = e.recurrence.as_ref().filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    if !rec.rdates.is_empty() {
        return Err(refused("extra dates (RDATE)"));
    }
    if !rec.exdates.is_empty() {
        return Err(refused("skipped dates (EXDATE)"));
    }
    let [text] = rec.rrules.as_slice() else {
        return Err(refused("more than one rule"));
    };
    let rule = Rule::parse(text, true).map_err(|e| e.message)?;
    let (first, z) = start_of(e, zone);
    if !rule.by_set_pos.is_empty()
        || !rule.by_year_day.is_empty()
        || !rule.by_week_no.is_empty()
        || !rule.by_hour.is_empty()
        || !rule.by_minute.is_empty()
        || !rule.by_second.is_empty()
    {
        return Err(refused(
            "BYSETPOS, BYYEARDAY, BYWEEKNO, BYHOUR, BYMINUTE or BYSECOND",
        ));
    }
    let interval = rule.interval.max(1);
    let every_day = |days: &[NWeekday]| -> Result<Vec<&'static str>, String> {
        days.iter()
            .map(|d| match d {
                NWeekday::Every(w) => Ok(day_name(*w)),
                NWeekday::Nth(..) => {
                    Err(refused("a numbered weekday (such as the second Tuesday)"))
                }
            })
            .collect()
    };
    let one_day = |days: &[i8]| -> Result<u32, String> {
        match days {
            [] => Ok(chrono::Datelike::day(&first)),
            [d] if *d > 0 => Ok(*d as u32),
            _ => Err(refused(
                "several days of the month, or one counted from its end",
            )),
        }
    };
    let pattern = match rule.freq {
        Frequency::Daily
            if rule.by_day.is_empty()
                && rule.by_month.is_empty()
                && rule.by_month_day.is_empty() =>
        {
            json!({ "type": "daily", "interval": interval })
        }
        Frequency::Weekly if rule.by_month.is_empty() && rule.by_month_day.is_empty() => {
            let mut days = every_day(&rule.by_day)?;
            if days.is_empty() {
                days.push(day_name(chrono::Datelike::weekday(&first)));
            }
            json!({ "type": "weekly", "interval": interval, "daysOfWeek": days,
                    "firstDayOfWeek": day_name(rule.wkst) })
        }
        Frequency::Monthly if rule.by_day.is_empty() && rule.by_month.is_empty() => {
            json!({ "type": "absoluteMonthly", "interval": interval,
                    "dayOfMonth": one_day(&rule.by_month_day)? })
        }
        Frequency::Yearly if rule.by_day.is_empty() => {
            let month = match rule.by_month.as_slice() {
                [] => chrono::Datelike::month(&first),
                [m] => u32::from(*m),
                _ => return Err(refused("several months")),
            };
            json!({ "type": "absoluteYearly", "interval": interval, "month": month,
                    "dayOfMonth": one_day(&rule.by_month_day)? })
        }
        Frequency::Daily | Frequency::Weekly | Frequency::Monthly | Frequency::Yearly => {
            return Err(refused("this combination of rule parts"))
        }
        _ => return Err(refused("a rule that repeats more often than daily")),
    };
    let tz = z.windows_name().unwrap_or("UTC");
    let range = match (rule.count, rule.until) {
        (Some(n), _) => json!({ "type": "numbered", "numberOfOccurrences": n }),
        (None, Some(until)) => {
            let last = match until {
                Until::Date(d) => d,
                Until::Local(t) => t.date(),
                Until::Utc(t) => z.local(t).date(),
            };
            json!({ "type": "endDate", "endDate": last.to_string() })
        }
        (None, None) => json!({ "type": "noEnd" }),
    };
    let mut range = range;
    range["startDate"] = json!(first.to_string());
    range["recurrenceTimeZone"] = json!(tz);
    Ok(Some(json!({ "pattern": pattern, "range": range })))
}

fn weekday_of(name: &str) -> Option<&'static str> {
    Some(match name.to_ascii_lowercase().as_str() {
        "monday" => "MO",
        "tuesday" => "TU",
        "wednesday" => "WE",
        "thursday" => "TH",
        "friday" => "FR",
        "saturday" => "SA",
        "sunday" => "SU",
        _ => return None,
    })
}

/// A `patternedRecurrence` that [`patterned`] wrote, read back as the rule it came from (the outbox keeps
/// request bodies, and a row is decoded before it is sent). `None` for one of a shape this file never
/// writes.
pub fn rrule_of(r: &Value) -> Option<crate::model::Recurrence> {
    let p = &r["pattern"];
    let interval = p["interval"].as_u64().unwrap_or(1).max(1);
    let mut parts = match p["type"].as_str()? {
        "daily" => vec!["FREQ=DAILY".to_string()],
        "weekly" => {
            let days: Vec<&str> = p["daysOfWeek"]
                .as_array()?
                .iter()
                .map(|d| d.as_str().and_then(weekday_of))
                .collect::<Option<_>>()?;
            let mut v = vec![
                "FREQ=WEEKLY".to_string(),
                format!("BYDAY={}", days.join(",")),
            ];
            if let Some(w) = p["firstDayOfWeek"].as_str().and_then(weekday_of) {
                v.push(format!("WKST={w}"));
            }
            v
        }
        "absoluteMonthly" => vec![
            "FREQ=MONTHLY".to_string(),
            format!("BYMONTHDAY={}", p["dayOfMonth"].as_u64()?),
        ],
        "absoluteYearly" => vec![
            "FREQ=YEARLY".to_string(),
            format!("BYMONTH={}", p["month"].as_u64()?),
            format!("BYMONTHDAY={}", p["dayOfMonth"].as_u64()?),
        ],
        _ => return None,
    };
    if interval > 1 {
        parts.push(format!("INTERVAL={interval}"));
    }
    let range = &r["range"];
    match range["type"].as_str()? {
        "numbered" => parts.push(format!("COUNT={}", range["numberOfOccurrences"].as_u64()?)),
        "endDate" => {
            let d: NaiveDate = range["endDate"].as_str()?.parse().ok()?;
            parts.push(format!("UNTIL={}", d.format("%Y%m%d")));
        }
        _ => {}
    }
    Some(crate::model::Recurrence {
        rrules: vec![parts.join(";")],
        rdates: Vec::new(),
        exdates: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Recurrence;
    use crate::store::RemoteChange;

    /// A timed event on Tuesday 3 March 2026, 09:00 in Berlin, repeating by `rule`.
    fn repeating(rule: &str) -> Event {
        let berlin = Zone::parse("Europe/Berlin").expect("a zone");
        let item = json!({
            "id": "e1", "subject": "Standup", "originalStartTimeZone": "W. Europe Standard Time",
            "start": {"dateTime": "2026-03-03T08:00:00.0000000", "timeZone": "UTC"},
            "end": {"dateTime": "2026-03-03T08:30:00.0000000", "timeZone": "UTC"},
        });
        let Ok(Some(RemoteChange::Upsert(e))) =
            super::super::map_item(&item.to_string(), None, "cal", berlin)
        else {
            panic!("the test item maps");
        };
        let mut e = *e;
        e.recurrence = Some(Recurrence {
            rrules: vec![rule.to_string()],
            ..Recurrence::default()
        });
        e
    }

    #[test]
    fn rules_graph_can_hold_become_its_patterns_and_read_back_the_same() {
        let berlin = Zone::parse("Europe/Berlin").expect("a zone");
        for (rule, pattern, range) in [
            (
                "FREQ=DAILY;INTERVAL=2;COUNT=5",
                json!({"type": "daily", "interval": 2}),
                json!({"type": "numbered", "numberOfOccurrences": 5}),
            ),
            (
                "FREQ=WEEKLY;BYDAY=TU,TH;WKST=SU;UNTIL=20260331",
                json!({"type": "weekly", "interval": 1, "daysOfWeek": ["tuesday", "thursday"],
                       "firstDayOfWeek": "sunday"}),
                json!({"type": "endDate", "endDate": "2026-03-31"}),
            ),
            (
                "FREQ=MONTHLY;BYMONTHDAY=3",
                json!({"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 3}),
                json!({"type": "noEnd"}),
            ),
            (
                "FREQ=YEARLY",
                json!({"type": "absoluteYearly", "interval": 1, "month": 3, "dayOfMonth": 3}),
                json!({"type": "noEnd"}),
            ),
        ] {
            let e = repeating(rule);
            let r = patterned(&e, berlin)
                .expect("Graph can hold it")
                .expect("it repeats");
            assert_eq!(r["pattern"], pattern, "{rule}: the pattern");
            let mut want = range;
            want["startDate"] = json!("2026-03-03");
            want["recurrenceTimeZone"] = json!("W. Europe Standard Time");
            assert_eq!(r["range"], want, "{rule}: the range, from the first date");
            let back = rrule_of(&r).expect("a pattern written here reads back");
            let mut again = e.clone();
            again.recurrence = Some(back);
            assert_eq!(
                patterned(&again, berlin).expect("still holdable"),
                Some(r),
                "{rule}: an outbox row's body decodes to the same rule"
            );
        }
    }

    #[test]
    fn rules_graph_cannot_hold_are_refused_with_a_sentence() {
        let berlin = Zone::parse("Europe/Berlin").expect("a zone");
        for rule in [
            "FREQ=MONTHLY;BYDAY=2TU",
            "FREQ=HOURLY",
            "FREQ=WEEKLY;BYDAY=TU;BYSETPOS=1",
            "FREQ=MONTHLY;BYMONTHDAY=-1",
            "FREQ=YEARLY;BYMONTH=3,9",
        ] {
            let why = patterned(&repeating(rule), berlin).expect_err("refused");
            assert!(
                why.starts_with("Outlook calendars cannot hold"),
                "{rule}: says what Outlook cannot hold: {why}"
            );
        }
        let mut two = repeating("FREQ=DAILY");
        if let Some(r) = two.recurrence.as_mut() {
            r.rrules.push("FREQ=WEEKLY".into());
        }
        assert!(patterned(&two, berlin).is_err(), "two rules are refused");
        assert_eq!(
            patterned(&repeating("FREQ=DAILY"), berlin).map(|r| r.is_some()),
            Ok(true),
            "a plain daily rule is fine"
        );
    }
}
