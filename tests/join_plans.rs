//! Join plans: the pure planner and due state machine (property tests with a fake clock), and the app's due
//! loop with fake Notifier and Opener — catch-up after a suspend, no repeats after a restart, auto-join
//! limits, and the errors of joining.

use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use punctual::app::{App, EventInput, JoinHost, ListQuery};
use punctual::error::ErrorCode;
use punctual::join::{
    self, Candidate, Change, JoinPlan, JoinRules, JoinStatus, Notification, NotificationKind,
    Notifier, Opener, ScreenLock, Step,
};
use punctual::time::{FixedClock, Zone};
use std::sync::{Arc, Mutex};

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-21T12:00:00Z")
        .expect("valid")
        .with_timezone(&Utc)
}

fn cand(occ: &str, cal: &str, uid: &str, start_min: i64, url: Option<&str>) -> Candidate {
    Candidate {
        occurrence_id: occ.into(),
        event_id: occ.into(),
        series_id: None,
        calendar_id: cal.into(),
        uid: uid.into(),
        title: format!("meeting {occ}"),
        start: t0() + Duration::minutes(start_min),
        end: t0() + Duration::minutes(start_min + 30),
        all_day: false,
        free: false,
        declined: false,
        not_joinable: false,
        platform: url.map(|_| "zoom".into()),
        meeting_url: url.map(str::to_string),
    }
}

fn ids() -> impl FnMut() -> String {
    let mut n = 0;
    move || {
        n += 1;
        format!("plan-{n}")
    }
}

fn inserted(changes: &[Change]) -> Vec<JoinPlan> {
    changes
        .iter()
        .filter_map(|c| match c {
            Change::Insert(p) => Some(p.clone()),
            _ => None,
        })
        .collect()
}

/// The dedup rule written independently: two candidates are one meeting when they share (uid, start) or
/// (normalized url, start), closed transitively.
fn classes(c: &[Candidate]) -> Vec<usize> {
    let mut class: Vec<usize> = (0..c.len()).collect();
    let same = |a: &Candidate, b: &Candidate| {
        a.start == b.start
            && (a.uid == b.uid
                || matches!((&a.meeting_url, &b.meeting_url), (Some(x), Some(y)) if join::normalize_url(x) == join::normalize_url(y)))
    };
    loop {
        let mut changed = false;
        for i in 0..c.len() {
            for j in 0..c.len() {
                if same(&c[i], &c[j]) && class[i] != class[j] {
                    let m = class[i].min(class[j]);
                    let (a, b) = (class[i], class[j]);
                    for k in class.iter_mut() {
                        if *k == a || *k == b {
                            *k = m;
                        }
                    }
                    changed = true;
                }
            }
        }
        if !changed {
            return class;
        }
    }
}

fn arb_candidates() -> impl Strategy<Value = Vec<Candidate>> {
    let one = (
        0..6u8,
        0..2u8,
        0..5u8,
        0..20i64,
        prop::option::weighted(0.8, 0..4u8),
    );
    prop::collection::vec(one, 1..25).prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (uid, cal, _, slot, url))| {
                let url = url.map(|u| format!("https://zoom.us/j/10{u}?pwd=x"));
                cand(
                    &format!("occ-{i:02}"),
                    &format!("cal-{cal}"),
                    &format!("uid-{uid}"),
                    5 + slot * 30,
                    url.as_deref(),
                )
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Every meeting with a link in the window gets exactly one plan, and the dedup rule holds both ways:
    /// one meeting (by uid+start or url+start) → one plan; different meetings → different plans.
    #[test]
    fn one_plan_per_meeting_both_ways(c in arb_candidates()) {
        let rules = JoinRules::default();
        let changes = join::plan(&mut c.clone(), &[], &rules, t0(), &mut ids());
        let plans = inserted(&changes);
        let with_link: Vec<Candidate> = c.iter().filter(|x| x.meeting_url.is_some()).cloned().collect();
        let class = classes(&with_link);
        let mut distinct = class.clone();
        distinct.sort_unstable();
        distinct.dedup();
        prop_assert_eq!(plans.len(), distinct.len(), "one plan per meeting (class of duplicates)");
        // Both ways: each plan stands for a different meeting, and (with the count above) every meeting has one.
        let mut covered: Vec<usize> = plans
            .iter()
            .map(|p| {
                let i = with_link.iter().position(|x| x.occurrence_id == p.occurrence_id);
                i.map(|i| class[i]).unwrap_or(usize::MAX)
            })
            .collect();
        prop_assert!(!covered.contains(&usize::MAX), "every plan follows a candidate with a link");
        covered.sort_unstable();
        covered.dedup();
        prop_assert_eq!(covered.len(), plans.len(), "no two plans for the same meeting");
        prop_assert!(c.iter().filter(|x| x.meeting_url.is_none()).all(|x| !plans.iter().any(|p| p.occurrence_id == x.occurrence_id)),
            "meetings without a link get no plan by default");
    }

    /// Planning again with nothing changed changes nothing; a moved meeting keeps its plan (an update, not
    /// a cancel and an insert) at the new time.
    #[test]
    fn a_moved_event_moves_its_plan(c in arb_candidates(), which in 0..25usize, by in 1..120i64) {
        let rules = JoinRules::default();
        let first = inserted(&join::plan(&mut c.clone(), &[], &rules, t0(), &mut ids()));
        prop_assert!(join::plan(&mut c.clone(), &first, &rules, t0(), &mut ids()).is_empty(), "re-planning an unchanged calendar is a no-op");
        let i = which % c.len();
        let Some(p) = first.iter().find(|p| p.occurrence_id == c[i].occurrence_id) else { return Ok(()) };
        let mut moved = c.clone();
        // Move every copy of that meeting, as a provider change would reach every calendar it is on.
        for x in moved.iter_mut().filter(|x| first.iter().any(|q| q.id == p.id && q.occurrence_id == x.occurrence_id) || (x.uid == c[i].uid && x.start == c[i].start)) {
            x.start += Duration::minutes(by);
            x.end += Duration::minutes(by);
        }
        // A move onto the very time of another copy of the same meeting (same uid or room) merges the two by
        // the dedup rule; that is a merge, not a move, and `one_plan_per_meeting_both_ways` covers it.
        let collides = moved.iter().zip(&c).any(|(x, orig)| {
            x.start != orig.start
                && moved.iter().zip(&c).any(|(y, y0)| {
                    y.start == y0.start
                        && y.start == x.start
                        && (y.uid == x.uid || (y.meeting_url.is_some() && y.meeting_url == x.meeting_url))
                })
        });
        prop_assume!(!collides);
        let changes = join::plan(&mut moved.clone(), &first, &rules, t0(), &mut ids());
        let updated = changes.iter().find_map(|ch| match ch { Change::Update(q) if q.id == p.id => Some(q.clone()), _ => None });
        let updated = updated.expect("the moved meeting's plan is updated in place");
        prop_assert_eq!(updated.start, p.start + Duration::minutes(by), "the plan moved with its meeting");
        prop_assert_eq!(updated.scheduled_join_time, updated.start - Duration::minutes(1), "the default lead time is one minute");
        prop_assert!(!changes.iter().any(|ch| ch == &Change::Cancel(p.id.clone())), "a moved plan is not cancelled");
    }

    /// Whatever the clock does (small steps, or jumps as after a suspend), a plan notifies at most once
    /// without nag, and ends missed only if it never notified.
    #[test]
    fn each_plan_notifies_at_most_once(steps in prop::collection::vec(1..40i64, 1..30), lead in 0..15i64) {
        let rules = JoinRules { lead_minutes: lead, ..JoinRules::default() };
        let c = [cand("a", "cal", "u", 20, Some("https://zoom.us/j/123"))];
        let mut p = inserted(&join::plan(&mut c.to_vec(), &[], &rules, t0(), &mut ids())).remove(0);
        let (mut now, mut notified, mut missed) = (t0(), 0, false);
        for s in steps {
            now += Duration::minutes(s);
            if let Some(step) = join::due(&p, now, false, false) {
                match step {
                    Step::Notify { .. } => notified += 1,
                    Step::Miss => missed = true,
                    other => prop_assert!(false, "no other step without nag or early reminder: {:?}", other),
                }
                p = join::after(&p, step, now, false);
            }
        }
        prop_assert!(notified <= 1, "at most one notification ({notified})");
        if missed && notified == 0 {
            prop_assert_eq!(p.status, JoinStatus::Missed, "a plan never acted on while its meeting ran is missed");
        }
    }
}

#[test]
fn a_standing_room_at_two_times_is_two_plans() {
    let url = Some("https://zoom.us/j/5551234");
    let c = [
        cand("a", "cal", "u1", 30, url),
        cand("b", "cal", "u2", 180, url),
    ];
    let plans = inserted(&join::plan(
        &mut c.to_vec(),
        &[],
        &JoinRules::default(),
        t0(),
        &mut ids(),
    ));
    assert_eq!(
        plans.len(),
        2,
        "the same room URL at different times is two meetings"
    );
}

#[test]
fn rules_skip_declined_all_day_free_and_off_calendars() {
    let url = Some("https://meet.google.com/abc-defg-hij");
    let mut declined = cand("d", "cal", "d", 30, url);
    declined.declined = true;
    let mut all_day = cand("a", "cal", "a", 40, url);
    all_day.all_day = true;
    let mut free = cand("f", "cal", "f", 50, url);
    free.free = true;
    let off = cand("o", "off", "o", 60, url);
    let mut focus = cand("x", "cal", "x", 70, url);
    focus.not_joinable = true;
    let ok = cand("k", "cal", "k", 80, url);
    let mut rules = JoinRules::default();
    rules.calendars.insert(
        "off".into(),
        join::CalendarRule {
            enabled: false,
            lead_minutes: None,
            auto_join: None,
        },
    );
    let plans = inserted(&join::plan(
        &mut [declined, all_day, free, off, focus, ok],
        &[],
        &rules,
        t0(),
        &mut ids(),
    ));
    let planned: Vec<_> = plans.iter().map(|p| p.occurrence_id.as_str()).collect();
    assert_eq!(
        planned,
        ["k"],
        "declined, all-day, free, disabled-calendar and focus-time events get no plan"
    );
}

#[derive(Default)]
struct Recorder {
    sent: Mutex<Vec<Notification>>,
    opened: Mutex<Vec<String>>,
    locked: bool,
}
impl Notifier for Recorder {
    fn notify(&self, n: &Notification) -> Result<(), String> {
        self.sent.lock().map_err(|e| e.to_string())?.push(n.clone());
        Ok(())
    }
}
impl Opener for Recorder {
    fn open(&self, url: &str) -> Result<(), String> {
        self.opened
            .lock()
            .map_err(|e| e.to_string())?
            .push(url.to_string());
        Ok(())
    }
}
impl ScreenLock for Recorder {
    fn is_locked(&self) -> bool {
        self.locked
    }
}
impl Recorder {
    fn host(&self) -> JoinHost<'_> {
        JoinHost {
            notifier: self,
            opener: self,
            screen: self,
        }
    }
    fn sent(&self) -> Vec<Notification> {
        self.sent.lock().map(|v| v.clone()).unwrap_or_default()
    }
    fn opened(&self) -> Vec<String> {
        self.opened.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

fn meeting(app: &App, title: &str, start_min: i64, location: &str) -> String {
    let s = t0() + Duration::minutes(start_min);
    let e = s + Duration::minutes(30);
    let v = app
        .create_event(&EventInput {
            title: Some(title.into()),
            start: Some(s.to_rfc3339()),
            end: Some(e.to_rfc3339()),
            location: Some(location.into()),
            ..Default::default()
        })
        .expect("a valid meeting");
    v.id
}

#[test]
fn a_suspend_over_the_due_time_catches_up_once_and_a_restart_repeats_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = Arc::new(FixedClock::new(t0()));
    let app = App::open_with(dir.path(), clock.clone(), Zone::UTC).expect("opens");
    meeting(
        &app,
        "Design sync",
        10,
        "https://zoom.us/j/987654321?pwd=abc",
    );
    let rec = Recorder::default();
    app.tick(&rec.host()).expect("tick");
    assert!(rec.sent().is_empty(), "nothing is due ten minutes ahead");

    // The lid closes at 12:00 and opens at 12:13: three minutes into the meeting.
    clock.set(t0() + Duration::minutes(13));
    app.tick(&rec.host()).expect("tick after the suspend");
    let sent = rec.sent();
    assert_eq!(
        sent.len(),
        1,
        "one catch-up notification in the first tick after waking"
    );
    assert_eq!(sent[0].kind, NotificationKind::CatchUp, "it is a catch-up");
    assert!(
        sent[0].body.contains("started 3 min ago"),
        "it says how late it is: {}",
        sent[0].body
    );
    assert_eq!(sent[0].title, "Design sync", "it names the meeting");
    app.tick(&rec.host()).expect("tick again");
    assert_eq!(rec.sent().len(), 1, "a second tick sends nothing more");
    drop(app);

    let again =
        App::open_with(dir.path(), clock.clone(), Zone::UTC).expect("restart on the same database");
    again.tick(&rec.host()).expect("tick after restart");
    assert_eq!(rec.sent().len(), 1, "a restart repeats no notification");
    let page = again.list_events(&ListQuery::default()).expect("list");
    let joins = &page.events[0].joins;
    assert_eq!(joins.len(), 1, "the meeting carries its plan in `joins`");
    assert_eq!(joins[0].status, "notified", "the plan's status is stored");
    assert_eq!(joins[0].action, "notify", "notify is the default action");
    assert!(
        !joins[0].is_scheduled,
        "a notified plan is no longer scheduled"
    );
    let history = again.plan_history(&joins[0].id).expect("history");
    let statuses: Vec<_> = history.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(
        statuses,
        ["scheduled", "notified"],
        "every status change is stored with its time"
    );
}

#[test]
fn a_meeting_that_ended_while_asleep_is_missed_without_a_notification() {
    let clock = Arc::new(FixedClock::new(t0()));
    let app = App::in_memory(clock.clone(), Zone::UTC).expect("opens");
    meeting(&app, "Gone", 10, "https://meet.google.com/abc-defg-hij");
    let rec = Recorder::default();
    app.tick(&rec.host()).expect("tick");
    clock.set(t0() + Duration::minutes(50));
    app.tick(&rec.host()).expect("tick after a long sleep");
    assert!(
        rec.sent().is_empty(),
        "no notification for a meeting that is over"
    );
    let v = app
        .list_events(&ListQuery {
            from: Some(t0().to_rfc3339()),
            ..Default::default()
        })
        .expect("list");
    assert_eq!(
        v.events[0].joins[0].status, "missed",
        "its plan is marked missed"
    );
}

#[test]
fn auto_join_opens_the_native_app_only_in_time_and_unlocked() {
    let clock = Arc::new(FixedClock::new(t0()));
    let app = App::in_memory(clock.clone(), Zone::UTC).expect("opens");
    app.set_join_rules(&JoinRules {
        auto_join: true,
        ..JoinRules::default()
    })
    .expect("rules");
    meeting(&app, "On time", 10, "https://zoom.us/j/111222333?pwd=xyz");
    meeting(&app, "Late", 60, "https://zoom.us/j/444555666");
    meeting(&app, "Locked", 120, "https://zoom.us/j/777888999");
    let rec = Recorder::default();
    clock.set(t0() + Duration::minutes(9));
    app.tick(&rec.host()).expect("tick at the lead time");
    assert_eq!(
        rec.opened(),
        ["zoommtg://zoom.us/join?action=join&confno=111222333&pwd=xyz"],
        "auto-join opens the native Zoom link"
    );
    assert!(rec.sent().is_empty(), "an auto-join needs no notification");

    clock.set(t0() + Duration::minutes(65));
    app.tick(&rec.host())
        .expect("tick five minutes after the start");
    assert_eq!(
        rec.opened().len(),
        1,
        "no auto-join more than two minutes after the start"
    );
    assert_eq!(rec.sent().len(), 1, "it notifies instead");

    let locked = Recorder {
        locked: true,
        ..Recorder::default()
    };
    clock.set(t0() + Duration::minutes(119));
    app.tick(&locked.host())
        .expect("tick with the screen locked");
    assert!(
        locked.opened().is_empty(),
        "no auto-join while the screen is locked"
    );
    assert_eq!(locked.sent().len(), 1, "it notifies instead");
}

#[test]
fn join_errors_are_clear_and_nothing_is_opened() {
    let app = App::in_memory(Arc::new(FixedClock::new(t0())), Zone::UTC).expect("opens");
    let no_link = meeting(&app, "Lunch", 30, "Cafeteria");
    let evil = meeting(&app, "Phish", 40, "https://zoom.us.evil.com/j/123");
    let rec = Recorder::default();
    let e = app.join("no-such-id", &rec).expect_err("unknown id");
    assert_eq!(e.code, ErrorCode::NotFound, "an unknown id is not_found");
    let e = app.join(&no_link, &rec).expect_err("no link");
    assert_eq!(
        e.code,
        ErrorCode::NoMeetingLink,
        "an event without a link cannot be joined"
    );
    let e = app
        .join(&evil, &rec)
        .expect_err("a lookalike host is never a meeting link");
    assert_eq!(
        e.code,
        ErrorCode::NoMeetingLink,
        "detection rejected the lookalike, so there is nothing to join"
    );
    let e = app
        .join("next", &rec)
        .expect_err("no upcoming meeting with a link");
    assert_eq!(
        e.code,
        ErrorCode::NotFound,
        "join next with no meeting is not_found"
    );
    assert!(
        rec.opened().is_empty(),
        "nothing was opened by any failed join"
    );
    let e = app.snooze("nope", 5).expect_err("unknown plan");
    assert_eq!(
        e.code,
        ErrorCode::NotFound,
        "snoozing an unknown plan is not_found"
    );
}

#[test]
fn join_next_opens_the_browser_link_when_native_is_off_and_marks_the_plan_joined() {
    let app = App::in_memory(Arc::new(FixedClock::new(t0())), Zone::UTC).expect("opens");
    app.set_join_rules(&JoinRules {
        open_native: false,
        ..JoinRules::default()
    })
    .expect("rules");
    meeting(&app, "Standup", 5, "Join: https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0?context=%7b%7d");
    let rec = Recorder::default();
    let out = app.join("next", &rec).expect("join next");
    assert_eq!(out.title, "Standup", "the next meeting is joined");
    assert!(
        !out.native,
        "the browser link is used when native apps are off"
    );
    assert_eq!(
        rec.opened(),
        std::slice::from_ref(&out.opened),
        "exactly the reported link was opened"
    );
    assert!(
        out.opened
            .starts_with("https://teams.microsoft.com/l/meetup-join/"),
        "the Teams web link: {}",
        out.opened
    );
    let v = app.list_events(&ListQuery::default()).expect("list");
    assert_eq!(
        v.events[0].joins[0].status, "joined",
        "joining marks the plan joined"
    );
}

#[test]
fn the_same_meeting_on_two_calendars_notifies_once() {
    let clock = Arc::new(FixedClock::new(t0()));
    let app = App::in_memory(clock.clone(), Zone::UTC).expect("opens");
    let ics = |cal: &str| {
        format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:shared@x\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261121T121000Z\r\nDTEND:20261121T124000Z\r\nSUMMARY:Board ({cal})\r\nLOCATION:https://meet.google.com/abc-defg-hij\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    };
    app.import_ics(&ics("work"), Some("Work"))
        .expect("work copy");
    app.import_ics(&ics("personal"), Some("Personal"))
        .expect("personal copy");
    let rec = Recorder::default();
    clock.set(t0() + Duration::minutes(9));
    app.tick(&rec.host()).expect("tick");
    assert_eq!(
        rec.sent().len(),
        1,
        "one notification for one meeting on two calendars"
    );
    let v = app.list_events(&ListQuery::default()).expect("list");
    assert_eq!(v.events.len(), 2, "both copies are listed");
    assert_eq!(
        v.events[0].joins[0].id, v.events[1].joins[0].id,
        "both copies show the same plan"
    );
}

#[test]
fn upcoming_meetings_lists_the_one_in_progress_then_the_next_ones_with_links_only() {
    let clock = Arc::new(FixedClock::new(t0() - Duration::hours(1)));
    let app = App::in_memory(clock.clone(), Zone::UTC).expect("an in-memory app opens");
    meeting(&app, "Running", 10, "https://zoom.us/j/111");
    meeting(&app, "Later", 120, "https://meet.google.com/abc-defg-hij");
    meeting(&app, "Desk time", 60, "Room 4");
    meeting(&app, "Tomorrow", 24 * 60, "https://zoom.us/j/222");
    clock.set(t0() + Duration::minutes(20));
    let until = t0() + Duration::hours(12);
    let up = app.upcoming_meetings(until, 10).expect("a valid request");
    let titles: Vec<(&str, bool)> = up
        .iter()
        .map(|m| (m.event.title.as_str(), m.in_progress))
        .collect();
    assert_eq!(
        titles,
        vec![("Running", true), ("Later", false)],
        "the meeting under way comes first, then later ones before `until`; no link or past `until` is left out"
    );
    assert_eq!(
        up[1].starts_in_seconds,
        100 * 60,
        "the countdown is measured from the clock's now"
    );
    assert_eq!(
        app.upcoming_meetings(until, 1).map(|v| v.len()).ok(),
        Some(1),
        "the limit caps the list"
    );
    let err = app.upcoming_meetings(until, 0).err();
    assert_eq!(
        err.map(|e| e.code),
        Some(ErrorCode::InvalidLimit),
        "a zero limit is an error, not an empty answer"
    );
    assert_eq!(
        app.next_meeting()
            .ok()
            .flatten()
            .map(|m| m.event.title.clone()),
        Some("Running".to_string()),
        "next_meeting is the first upcoming meeting"
    );
}
