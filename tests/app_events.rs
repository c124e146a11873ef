//! The local calendar through `punctual::app`: create, validate, list, page, edit and delete with scopes.

use chrono::{DateTime, TimeZone, Utc};
use punctual::app::{App, EventInput, EventView, ListQuery, Scope};
use punctual::error::ErrorCode;
use punctual::time::{FixedClock, Zone};
use std::sync::Arc;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("test instants are valid RFC 3339")
        .with_timezone(&Utc)
}

fn app_at(now: &str, zone: &str) -> App {
    let zone = Zone::parse(zone).expect("test zones exist");
    App::in_memory(Arc::new(FixedClock::new(at(now))), zone).expect("an in-memory app opens")
}

fn input(title: &str, start: &str, end: &str) -> EventInput {
    EventInput {
        title: Some(title.into()),
        start: Some(start.into()),
        end: Some(end.into()),
        ..Default::default()
    }
}

fn everything(app: &App) -> Vec<EventView> {
    let mut out = Vec::new();
    let mut q = ListQuery {
        from: Some("1990-01-01".into()),
        to: Some("2031-01-01".into()),
        all: true,
        limit: Some(100),
        ..Default::default()
    };
    loop {
        let page = app.list_events(&q).expect("listing everything works");
        out.extend(page.events);
        match page.next_cursor {
            Some(c) => {
                q = ListQuery {
                    cursor: Some(c),
                    limit: Some(100),
                    ..Default::default()
                }
            }
            None => return out,
        }
    }
}

#[test]
fn a_created_event_is_listed_with_every_field() {
    let app = app_at("2026-11-21T12:00:00Z", "Europe/Berlin");
    let mut i = input("Design review", "2026-11-23T10:00", "2026-11-23T11:00");
    i.location = Some("Room 4".into());
    i.description = Some("Bring the mockups".into());
    let v = app.create_event(&i).expect("a valid event is created");
    assert_eq!(
        v.start_time, "2026-11-23T09:00:00Z",
        "10:00 in Berlin in November is 09:00 UTC"
    );
    assert_eq!(
        v.end_time, "2026-11-23T10:00:00Z",
        "the end is read in the same zone as the start"
    );
    assert_eq!(
        v.time_zone, "Europe/Berlin",
        "an event without --tz takes the user's zone"
    );
    assert_eq!(v.color, "#6CD9FF", "the default colour is #6CD9FF");
    assert_eq!(
        v.calendar_id, "local",
        "the default calendar is the local one"
    );
    assert_eq!(
        v.connection_id, "local",
        "the local calendar belongs to the local connection"
    );
    assert!(
        v.joins.is_empty(),
        "joins stay empty until join plans exist"
    );
    let listed = everything(&app);
    assert_eq!(
        listed.len(),
        1,
        "exactly the created event is listed with --all"
    );
    assert_eq!(listed[0], v, "the listing shows what create returned");
    let json = serde_json::to_value(&listed[0]).expect("views serialize");
    for key in [
        "id",
        "title",
        "start_time",
        "end_time",
        "all_day",
        "time_zone",
        "calendar_id",
        "connection_id",
        "platform",
        "platform_id",
        "ical_uid",
        "series_id",
        "original_start",
        "meeting_platform",
        "meeting_url",
        "location",
        "description",
        "created_at",
        "updated_at",
        "is_deleted",
        "joins",
        "raw",
    ] {
        assert!(
            json.get(key).is_some(),
            "the list contract promises the field {key}"
        );
    }
}

/// Each bad input: its stable code, the field named, and nothing written.
#[test]
fn bad_input_gets_its_code_and_writes_nothing() {
    let app = app_at("2026-11-21T12:00:00Z", "Europe/Berlin");
    app.create_event(&input("Existing", "2026-11-25T10:00", "2026-11-25T11:00"))
        .expect("setup event is valid");
    let before = everything(&app);
    let changes = app.total_changes();
    let long = "x".repeat(1001);
    let cases: Vec<(&str, EventInput, ErrorCode, &str)> = vec![
        (
            "missing title",
            EventInput {
                title: None,
                ..input("", "2026-11-25T10:00", "2026-11-25T11:00")
            },
            ErrorCode::TitleRequired,
            "title",
        ),
        (
            "blank title",
            input("   ", "2026-11-25T10:00", "2026-11-25T11:00"),
            ErrorCode::TitleRequired,
            "title",
        ),
        (
            "title too long",
            input(&long, "2026-11-25T10:00", "2026-11-25T11:00"),
            ErrorCode::TitleTooLong,
            "title",
        ),
        (
            "unparseable start",
            input("T", "next tuesday", "2026-11-25T11:00"),
            ErrorCode::InvalidStart,
            "start",
        ),
        (
            "unparseable end",
            input("T", "2026-11-25T10:00", "25/11/2026 11:00"),
            ErrorCode::InvalidEnd,
            "end",
        ),
        (
            "end before start",
            input("T", "2026-11-25T10:00", "2026-11-25T09:00"),
            ErrorCode::EndBeforeStart,
            "end",
        ),
        (
            "start in the past",
            input("T", "2026-11-20T10:00", "2026-11-20T11:00"),
            ErrorCode::StartInPast,
            "start",
        ),
        (
            "all-day yesterday",
            input("T", "2026-11-20", "2026-11-20"),
            ErrorCode::StartInPast,
            "start",
        ),
        (
            "bad colour",
            EventInput {
                color: Some("red".into()),
                ..input("T", "2026-11-25T10:00", "2026-11-25T11:00")
            },
            ErrorCode::InvalidColor,
            "color",
        ),
        (
            "short colour",
            EventInput {
                color: Some("#FFF".into()),
                ..input("T", "2026-11-25T10:00", "2026-11-25T11:00")
            },
            ErrorCode::InvalidColor,
            "color",
        ),
        (
            "unknown zone",
            EventInput {
                time_zone: Some("Mars/Olympus".into()),
                ..input("T", "2026-11-25T10:00", "2026-11-25T11:00")
            },
            ErrorCode::UnknownTimeZone,
            "time_zone",
        ),
        (
            "bad rrule freq",
            EventInput {
                repeat: Some("FREQ=FORTNIGHTLY".into()),
                ..input("T", "2026-11-25T10:00", "2026-11-25T11:00")
            },
            ErrorCode::InvalidRrule,
            "repeat",
        ),
        (
            "bad rrule byday",
            EventInput {
                repeat: Some("FREQ=WEEKLY;BYDAY=XX".into()),
                ..input("T", "2026-11-25T10:00", "2026-11-25T11:00")
            },
            ErrorCode::InvalidRrule,
            "repeat",
        ),
        (
            "unknown calendar",
            EventInput {
                calendar: Some("nope".into()),
                ..input("T", "2026-11-25T10:00", "2026-11-25T11:00")
            },
            ErrorCode::NotFound,
            "calendar",
        ),
        (
            "javascript url",
            EventInput {
                url: Some("javascript:alert(1)".into()),
                ..input("T", "2026-11-25T10:00", "2026-11-25T11:00")
            },
            ErrorCode::InvalidInput,
            "url",
        ),
    ];
    for (name, i, code, field) in cases {
        let err = app.create_event(&i).expect_err(name);
        assert_eq!(
            err.code, code,
            "{name}: the error code is stable ({})",
            err.message
        );
        assert_eq!(
            err.field.as_deref(),
            Some(field),
            "{name}: the error names the field"
        );
        assert!(
            !err.message.is_empty(),
            "{name}: the message explains the problem"
        );
        assert_eq!(
            app.total_changes(),
            changes,
            "{name}: a rejected create must not write anything"
        );
        assert_eq!(
            everything(&app),
            before,
            "{name}: the listing is unchanged after a rejected create"
        );
    }
}

#[test]
fn error_messages_say_what_was_expected() {
    let app = app_at("2026-11-21T12:00:00Z", "Europe/Berlin");
    let e = app
        .create_event(&input("T", "soon", "2026-11-25T11:00"))
        .expect_err("'soon' is not a time");
    assert!(
        e.message.contains("ISO 8601"),
        "an unparseable start names the expected format: {}",
        e.message
    );
    let e = app
        .create_event(&EventInput {
            repeat: Some("FREQ=WEEKLY;BYDAY=XX".into()),
            ..input("T", "2026-11-25T10:00", "2026-11-25T11:00")
        })
        .expect_err("BYDAY=XX is not a weekday");
    assert!(
        e.message.contains("BYDAY"),
        "an invalid rule names the part at fault: {}",
        e.message
    );
}

/// Sweeppea judged "the past" in UTC and so rejected evening events in the Americas.
#[test]
fn the_past_is_judged_in_the_events_own_zone() {
    // 02:00 UTC on the 22nd is 21:00 on the 21st in New York.
    let app = app_at("2026-11-22T02:00:00Z", "Europe/Berlin");
    let evening = EventInput {
        time_zone: Some("America/New_York".into()),
        ..input("Evening call", "2026-11-21T22:00", "2026-11-21T23:00")
    };
    let v = app
        .create_event(&evening)
        .expect("22:00 in New York is still ahead at 21:00 there");
    assert_eq!(
        v.start_time, "2026-11-22T03:00:00Z",
        "22:00 EST is 03:00 UTC the next day"
    );
    let today_ny = EventInput {
        all_day: true,
        time_zone: Some("America/New_York".into()),
        ..input("Today there", "2026-11-21", "2026-11-21")
    };
    app.create_event(&today_ny)
        .expect("an all-day event for today in its own zone is allowed");
    let yesterday_ny = EventInput {
        time_zone: Some("America/New_York".into()),
        ..input("Gone", "2026-11-21T20:00", "2026-11-21T20:30")
    };
    let e = app
        .create_event(&yesterday_ny)
        .expect_err("20:00 in New York has passed at 21:00 there");
    assert_eq!(
        e.code,
        ErrorCode::StartInPast,
        "a start an hour ago in its own zone is in the past"
    );
}

#[test]
fn all_day_events_have_exclusive_date_ends() {
    let app = app_at("2026-11-21T12:00:00Z", "Europe/Berlin");
    let v = app
        .create_event(&EventInput {
            all_day: true,
            ..input("Offsite", "2026-11-24", "2026-11-24")
        })
        .expect("one-day all-day event");
    assert!(v.all_day, "a date start makes an all-day event");
    assert_eq!(
        (v.start_time.as_str(), v.end_time.as_str()),
        ("2026-11-24", "2026-11-25"),
        "an all-day end is the day after (RFC 5545 §3.6.1)"
    );
}

#[test]
fn listing_defaults_to_a_day_back_and_four_weeks_ahead() {
    let app = app_at("2026-11-21T12:00:00Z", "UTC");
    app.create_event(&input("in window", "2026-12-18T10:00", "2026-12-18T11:00"))
        .expect("valid");
    app.create_event(&input("too far", "2026-12-20T10:00", "2026-12-20T11:00"))
        .expect("valid");
    let page = app
        .list_events(&ListQuery {
            all: true,
            ..Default::default()
        })
        .expect("default listing");
    let titles: Vec<_> = page.events.iter().map(|e| e.title.as_str()).collect();
    assert_eq!(
        titles,
        ["in window"],
        "the default window ends 28 days from now"
    );
    assert!(!page.has_more, "one page holds everything here");
}

#[test]
fn limit_out_of_range_is_an_error_not_a_clamp() {
    let app = app_at("2026-11-21T12:00:00Z", "UTC");
    for limit in [0, 101, -5] {
        let e = app
            .list_events(&ListQuery {
                limit: Some(limit),
                ..Default::default()
            })
            .expect_err("limit outside 1..=100");
        assert_eq!(
            e.code,
            ErrorCode::InvalidLimit,
            "limit {limit} is rejected, not clamped"
        );
        assert_eq!(
            e.field.as_deref(),
            Some("limit"),
            "the error names the limit field"
        );
    }
    let e = app
        .list_events(&ListQuery {
            cursor: Some("not-a-cursor!".into()),
            ..Default::default()
        })
        .expect_err("garbage cursor");
    assert_eq!(
        e.code,
        ErrorCode::InvalidCursor,
        "a cursor we did not give out is rejected"
    );
}

#[test]
fn paging_is_stable_in_start_then_id_order_both_ways() {
    let app = app_at("2026-11-21T12:00:00Z", "UTC");
    for i in 0..7 {
        // Pairs share a start so the id breaks ties.
        let day = 22 + i / 2;
        app.create_event(&input(
            &format!("e{i}"),
            &format!("2026-11-{day}T10:00"),
            &format!("2026-11-{day}T11:00"),
        ))
        .expect("valid");
    }
    let all = everything(&app);
    let mut sorted = all.clone();
    sorted.sort_by(|a, b| (&a.start_time, &a.id).cmp(&(&b.start_time, &b.id)));
    assert_eq!(all, sorted, "the listing is ordered by (start, id)");

    let mut pages = Vec::new();
    let mut q = ListQuery {
        all: true,
        limit: Some(3),
        ..Default::default()
    };
    loop {
        let p = app.list_events(&q).expect("a page");
        pages.push(p.clone());
        match p.next_cursor {
            Some(c) => {
                q = ListQuery {
                    cursor: Some(c),
                    limit: Some(3),
                    ..Default::default()
                }
            }
            None => break,
        }
    }
    assert_eq!(
        pages.iter().map(|p| p.events.len()).collect::<Vec<_>>(),
        [3, 3, 1],
        "7 events in pages of 3"
    );
    assert!(
        pages[0].has_more && pages[1].has_more && !pages[2].has_more,
        "has_more is true until the last page"
    );
    assert!(
        pages[0].previous_cursor.is_none(),
        "the first page has nothing before it"
    );
    let joined: Vec<_> = pages.iter().flat_map(|p| p.events.clone()).collect();
    assert_eq!(joined, all, "paging visits every event once, in order");

    let back = app
        .list_events(&ListQuery {
            cursor: pages[2].previous_cursor.clone(),
            limit: Some(3),
            ..Default::default()
        })
        .expect("the previous page");
    assert_eq!(
        back.events, pages[1].events,
        "previous from page 3 gives page 2 again"
    );
    assert!(
        back.previous_cursor.is_some(),
        "page 2 still has a page before it"
    );
}

fn occurrence_titles(app: &App) -> Vec<(String, String)> {
    everything(app)
        .into_iter()
        .map(|v| (v.start_time, v.title))
        .collect()
}

fn weekly(app: &App) -> Vec<EventView> {
    let i = EventInput {
        repeat: Some("FREQ=WEEKLY;COUNT=5".into()),
        ..input("Weekly", "2026-11-23T10:00", "2026-11-23T10:30")
    };
    app.create_event(&i).expect("a weekly series is created");
    everything(app)
}

#[test]
fn a_series_lists_each_occurrence() {
    let app = app_at("2026-11-21T12:00:00Z", "UTC");
    let occ = weekly(&app);
    assert_eq!(occ.len(), 5, "COUNT=5 gives five occurrences");
    assert!(
        occ.iter()
            .all(|o| o.series_id.is_some() && o.original_start.is_some()),
        "instances name their series and original start"
    );
    assert_eq!(
        occ[4].start_time, "2026-12-21T10:00:00Z",
        "the fifth is four weeks after the first"
    );
}

#[test]
fn edit_this_changes_one_occurrence() {
    let app = app_at("2026-11-21T12:00:00Z", "UTC");
    let occ = weekly(&app);
    let edit = EventInput {
        title: Some("Moved".into()),
        start: Some("2026-12-01T15:00".into()),
        ..Default::default()
    };
    app.edit_event(&occ[1].id, &edit, Scope::This)
        .expect("one occurrence is edited");
    let after = occurrence_titles(&app);
    assert_eq!(
        after.len(),
        5,
        "an override replaces its instance, it does not add one"
    );
    assert!(
        after.contains(&("2026-12-01T15:00:00Z".into(), "Moved".into())),
        "the edited instance moved: {after:?}"
    );
    assert_eq!(
        after.iter().filter(|(_, t)| t == "Weekly").count(),
        4,
        "the other four are untouched"
    );
    let again = everything(&app);
    app.edit_event(
        &again
            .iter()
            .find(|v| v.title == "Moved")
            .map(|v| v.id.clone())
            .unwrap_or_default(),
        &EventInput {
            title: Some("Moved twice".into()),
            ..Default::default()
        },
        Scope::This,
    )
    .expect("an override can be edited again");
    assert_eq!(
        everything(&app).len(),
        5,
        "editing an override again adds nothing"
    );
}

#[test]
fn edit_following_splits_the_series() {
    let app = app_at("2026-11-21T12:00:00Z", "UTC");
    let occ = weekly(&app);
    let edit = EventInput {
        title: Some("Later".into()),
        ..Default::default()
    };
    app.edit_event(&occ[2].id, &edit, Scope::Following)
        .expect("this and following");
    let after = occurrence_titles(&app);
    let titles: Vec<_> = after.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(
        titles,
        ["Weekly", "Weekly", "Later", "Later", "Later"],
        "the split keeps COUNT=5 in total"
    );
    let starts: Vec<_> = after.iter().map(|(s, _)| s.clone()).collect();
    let before: Vec<_> = occ.iter().map(|o| o.start_time.clone()).collect();
    assert_eq!(starts, before, "a title-only split moves no instance");
}

#[test]
fn edit_all_moves_every_occurrence() {
    let app = app_at("2026-11-21T12:00:00Z", "UTC");
    let occ = weekly(&app);
    let edit = EventInput {
        start: Some("2026-11-30T11:00".into()),
        ..Default::default()
    };
    app.edit_event(&occ[1].id, &edit, Scope::All)
        .expect("the whole series");
    let after = everything(&app);
    assert_eq!(after.len(), 5, "the series keeps its five instances");
    assert!(
        after.iter().all(|v| v.start_time.ends_with("T11:00:00Z")),
        "every instance moved an hour later"
    );
    assert!(
        after.iter().all(|v| v.end_time.ends_with("T11:30:00Z")),
        "and kept its 30-minute length"
    );
}

#[test]
fn delete_scopes_remove_the_right_instances() {
    let app = app_at("2026-11-21T12:00:00Z", "UTC");
    let occ = weekly(&app);
    app.delete_event(&occ[1].id, Scope::This)
        .expect("delete one");
    assert_eq!(
        everything(&app).len(),
        4,
        "deleting one occurrence leaves four"
    );
    app.delete_event(&occ[3].id, Scope::Following)
        .expect("delete following");
    let left: Vec<_> = everything(&app).into_iter().map(|v| v.start_time).collect();
    assert_eq!(
        left,
        [occ[0].start_time.clone(), occ[2].start_time.clone()],
        "instances 4 and 5 are gone"
    );
    app.delete_event(&occ[0].id, Scope::All)
        .expect("delete all");
    assert!(
        everything(&app).is_empty(),
        "deleting the series removes every instance"
    );
    let e = app
        .delete_event("no-such-id", Scope::All)
        .expect_err("unknown id");
    assert_eq!(e.code, ErrorCode::NotFound, "an unknown id is not_found");
}

#[test]
fn windows_far_outside_the_horizon_still_list_every_occurrence() {
    let app = app_at("2026-11-21T12:00:00Z", "UTC");
    app.create_event(&EventInput {
        repeat: Some("FREQ=DAILY".into()),
        ..input("Daily", "2026-11-22T09:00", "2026-11-22T09:15")
    })
    .expect("valid");
    let q = ListQuery {
        from: Some("2040-02-01".into()),
        to: Some("2040-03-01".into()),
        all: true,
        limit: Some(100),
        ..Default::default()
    };
    let page = app.list_events(&q).expect("a window in 2040");
    assert_eq!(
        page.events.len(),
        29,
        "February 2040 has 29 days, each with one instance"
    );
    let q = ListQuery {
        from: Some("1997-01-01".into()),
        to: Some("1997-02-01".into()),
        all: true,
        ..Default::default()
    };
    assert!(
        app.list_events(&q)
            .expect("a window in 1997")
            .events
            .is_empty(),
        "a series does not reach before its start"
    );
}

#[test]
fn an_edit_that_leaves_a_past_start_alone_is_allowed() {
    let clock = Arc::new(FixedClock::new(at("2026-11-21T12:00:00Z")));
    let app = App::in_memory(clock.clone(), Zone::UTC).expect("opens");
    let v = app
        .create_event(&input("Retro", "2026-11-22T10:00", "2026-11-22T11:00"))
        .expect("valid");
    clock.set(
        Utc.with_ymd_and_hms(2026, 11, 25, 0, 0, 0)
            .single()
            .expect("valid date"),
    );
    app.edit_event(
        &v.id,
        &EventInput {
            description: Some("notes".into()),
            ..Default::default()
        },
        Scope::All,
    )
    .expect("fixing the notes of a past meeting is fine");
    let e = app
        .edit_event(
            &v.id,
            &EventInput {
                start: Some("2026-11-23T10:00".into()),
                ..Default::default()
            },
            Scope::All,
        )
        .expect_err("moving it into the past");
    assert_eq!(
        e.code,
        ErrorCode::StartInPast,
        "moving a start into the past is still refused"
    );
}

#[test]
fn a_runaway_rule_is_capped_and_other_series_still_expand() {
    let app = app_at("2026-11-21T12:00:00Z", "UTC");
    let runaway = EventInput {
        repeat: Some("FREQ=MINUTELY".into()),
        ..input("Every minute", "2026-11-22T00:00", "2026-11-22T00:01")
    };
    app.create_event(&runaway)
        .expect("a minutely rule is valid; it is capped, not refused");
    let daily = EventInput {
        repeat: Some("FREQ=DAILY".into()),
        ..input("Daily", "2026-11-22T09:00", "2026-11-22T09:15")
    };
    app.create_event(&daily).expect("valid");
    let mut count = 0;
    let mut daily_seen = 0;
    let mut q = ListQuery {
        from: Some("2027-03-01".into()),
        to: Some("2027-04-01".into()),
        all: true,
        limit: Some(100),
        ..Default::default()
    };
    loop {
        let p = app.list_events(&q).expect("page");
        count += p.events.len();
        daily_seen += p.events.iter().filter(|e| e.title == "Daily").count();
        match p.next_cursor {
            Some(c) => {
                q = ListQuery {
                    cursor: Some(c),
                    limit: Some(100),
                    ..Default::default()
                }
            }
            None => break,
        }
    }
    assert_eq!(
        daily_seen, 31,
        "the runaway series does not stop the daily one from expanding"
    );
    assert!(
        count <= punctual::store::MAX_INSTANCES_PER_RANGE + 31,
        "the minutely series is capped ({count} listed)"
    );
}
