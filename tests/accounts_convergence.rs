//! Convergence: random server-side changes (create, update, move, delete, recurring edits, cancelled
//! instances) interleaved with syncs, with faults injected by seed. After the last sync the store must
//! equal the server's truth, compared as occurrences in a window, against two oracles: a model of the
//! changes written independently here, and a fresh full sync of the same server.
//!
//! The same runs go to Microsoft Graph (module `graph`): the fake Graph's series, occurrences, exceptions
//! and deleted instances, its faults and its 410s, through the same app.
//!
//! 200 seeds by default for each provider; `PUNCTUAL_LONG=1` runs 1,000.

mod support;
#[allow(unused_imports)]
use support::GoogleApp as _;

use chrono::{Duration, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Europe::Berlin;
use punctual::app::App;
use punctual::secrets::{MemorySecrets, SecretString};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use support::fake_google::items;
use support::Harness;

const CAL: &str = "jane@acme.example";
const TZ: &str = "Europe/Berlin";

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

#[derive(Clone, Debug)]
struct Single {
    title: String,
    start: NaiveDateTime,
    minutes: i64,
}

#[derive(Clone, Debug)]
struct Series {
    title: String,
    start: NaiveDateTime,
    minutes: i64,
    step_days: i64,
    count: i64,
    exdates: BTreeSet<i64>,
    exceptions: BTreeMap<i64, Single>,
    cancelled: BTreeSet<i64>,
}

#[derive(Default)]
struct Model {
    singles: BTreeMap<String, Single>,
    series: BTreeMap<String, Series>,
    next: u64,
}

fn rfc(local: NaiveDateTime) -> String {
    Berlin
        .from_local_datetime(&local)
        .single()
        .expect("test times avoid DST gaps")
        .to_rfc3339()
}

fn utc(local: NaiveDateTime) -> String {
    Berlin
        .from_local_datetime(&local)
        .single()
        .expect("test times avoid DST gaps")
        .with_timezone(&chrono::Utc)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl Series {
    fn original(&self, k: i64) -> NaiveDateTime {
        self.start + Duration::days(self.step_days * k)
    }
    fn master_item(&self, id: &str) -> serde_json::Value {
        let mut lines = vec![format!(
            "RRULE:FREQ={};COUNT={}",
            if self.step_days == 1 {
                "DAILY"
            } else {
                "WEEKLY"
            },
            self.count
        )];
        for k in &self.exdates {
            lines.push(format!(
                "EXDATE;TZID={TZ}:{}",
                self.original(*k).format("%Y%m%dT%H%M%S")
            ));
        }
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        items::recurring(
            id,
            &self.title,
            &rfc(self.start),
            &rfc(self.start + Duration::minutes(self.minutes)),
            TZ,
            &refs,
        )
    }
    /// Instances that exist as the master's (not exdated, cancelled or excepted).
    fn free_instances(&self) -> Vec<i64> {
        (0..self.count)
            .filter(|k| !self.exdates.contains(k) && !self.cancelled.contains(k))
            .collect()
    }
}

impl Model {
    fn id(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}{}", self.next)
    }

    /// Every occurrence as (start UTC, end UTC, title), sorted.
    fn occurrences(&self) -> Vec<(String, String, String)> {
        let mut out = Vec::new();
        let mut push = |s: &Single| {
            out.push((
                utc(s.start),
                utc(s.start + Duration::minutes(s.minutes)),
                s.title.clone(),
            ))
        };
        for s in self.singles.values() {
            push(s);
        }
        for se in self.series.values() {
            for k in 0..se.count {
                if se.exdates.contains(&k) || se.cancelled.contains(&k) {
                    continue;
                }
                match se.exceptions.get(&k) {
                    Some(x) => push(x),
                    None => push(&Single {
                        title: se.title.clone(),
                        start: se.original(k),
                        minutes: se.minutes,
                    }),
                }
            }
        }
        out.sort();
        out
    }
}

fn random_time(rng: &mut Rng) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 3, 1 + rng.below(28) as u32)
        .and_then(|d| {
            d.and_hms_opt(
                8 + rng.below(9) as u32,
                [0, 15, 30, 45][rng.below(4) as usize],
                0,
            )
        })
        .expect("a valid March time")
}

/// One random change, applied to the fake and the model alike.
fn change(h: &Harness, m: &mut Model, rng: &mut Rng) {
    match rng.below(8) {
        0 | 1 => {
            let id = m.id("s");
            let s = Single {
                title: format!("Single {id}"),
                start: random_time(rng),
                minutes: [30, 45, 60][rng.below(3) as usize],
            };
            h.fake.put(
                CAL,
                items::timed(
                    &id,
                    &s.title,
                    &rfc(s.start),
                    &rfc(s.start + Duration::minutes(s.minutes)),
                    TZ,
                ),
            );
            m.singles.insert(id, s);
        }
        2 => {
            // Update and move a single.
            let Some(id) = pick(m.singles.keys(), rng) else {
                return;
            };
            let s = Single {
                title: format!("Moved {id} {}", rng.below(1000)),
                start: random_time(rng),
                minutes: 30,
            };
            h.fake.put(
                CAL,
                items::timed(
                    &id,
                    &s.title,
                    &rfc(s.start),
                    &rfc(s.start + Duration::minutes(s.minutes)),
                    TZ,
                ),
            );
            m.singles.insert(id, s);
        }
        3 => {
            // Delete a single or a whole series.
            if rng.below(2) == 0 {
                if let Some(id) = pick(m.singles.keys(), rng) {
                    h.fake.delete(CAL, &id);
                    m.singles.remove(&id);
                }
            } else if let Some(id) = pick(m.series.keys(), rng) {
                h.fake.delete(CAL, &id);
                m.series.remove(&id);
            }
        }
        4 => {
            let id = m.id("r");
            let count = 3 + rng.below(6) as i64;
            let mut se = Series {
                title: format!("Series {id}"),
                start: random_time(rng),
                minutes: 30,
                step_days: if rng.below(2) == 0 { 1 } else { 7 },
                count,
                exdates: BTreeSet::new(),
                exceptions: BTreeMap::new(),
                cancelled: BTreeSet::new(),
            };
            if rng.below(2) == 0 {
                se.exdates.insert(1 + rng.below(count as u64 - 1) as i64);
            }
            h.fake.put(CAL, se.master_item(&id));
            m.series.insert(id, se);
        }
        5 => {
            // Move (and rename) one instance: an exception.
            let Some(id) = pick(m.series.keys(), rng) else {
                return;
            };
            let se = m.series.get_mut(&id).expect("picked");
            let free = se.free_instances();
            let Some(&k) = free.get(rng.below(free.len() as u64) as usize) else {
                return;
            };
            let x = Single {
                title: format!("Exception {id}/{k} {}", rng.below(1000)),
                start: se.original(k) + Duration::hours(1 + rng.below(3) as i64),
                minutes: 45,
            };
            h.fake.put(
                CAL,
                items::exception(
                    &id,
                    &rfc(se.original(k)),
                    &x.title,
                    &rfc(x.start),
                    &rfc(x.start + Duration::minutes(x.minutes)),
                    TZ,
                ),
            );
            se.exceptions.insert(k, x);
        }
        6 => {
            // Cancel one instance (an excepted one too: the exception goes with it).
            let Some(id) = pick(m.series.keys(), rng) else {
                return;
            };
            let se = m.series.get_mut(&id).expect("picked");
            let free = se.free_instances();
            let Some(&k) = free.get(rng.below(free.len() as u64) as usize) else {
                return;
            };
            h.fake.put(
                CAL,
                items::cancelled_instance(&id, &rfc(se.original(k)), TZ),
            );
            se.exceptions.remove(&k);
            se.cancelled.insert(k);
        }
        _ => {
            // Rename a series: every instance but the exceptions follows.
            let Some(id) = pick(m.series.keys(), rng) else {
                return;
            };
            let se = m.series.get_mut(&id).expect("picked");
            se.title = format!("Renamed {id} {}", rng.below(1000));
            h.fake.put(CAL, se.master_item(&id));
        }
    }
}

fn pick<'a>(keys: impl Iterator<Item = &'a String>, rng: &mut Rng) -> Option<String> {
    let keys: Vec<&String> = keys.collect();
    if keys.is_empty() {
        None
    } else {
        Some(keys[rng.below(keys.len() as u64) as usize].clone())
    }
}

fn run_seed(seed: u64) {
    let h = Harness::new();
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    h.fake.state().page_size = 1 + rng.below(4) as usize;
    let id = h.connect();
    h.fake.set_chaos(seed ^ 0x5eed, 15);
    let mut model = Model::default();
    for _ in 0..12 {
        change(&h, &mut model, &mut rng);
        if rng.below(3) == 0 {
            // Faults may make a sync fail part-way; the next one must pick up from there.
            let _ = h.sync(&id);
        }
        if rng.below(12) == 0 {
            h.fake.expire_sync_tokens();
        }
    }
    h.fake.set_chaos(0, 0);
    h.sync(&id).unwrap_or_else(|e| {
        panic!("seed {seed}: the last sync, without faults, must succeed: {e:?}")
    });
    let got = support::window_occurrences(&h.app);
    let want = model.occurrences();
    assert_eq!(
        got, want,
        "seed {seed}: after the last sync the store holds exactly the server's occurrences"
    );
    // The second oracle: a fresh full sync of the same server into another app.
    let fresh = App::in_memory(h.clock.clone(), h.app.user_zone())
        .expect("a second app")
        .with_secrets(Arc::new(MemorySecrets::new()))
        .with_google(support::setup_for(&h.fake));
    let rt = h.fake.issue_refresh_token();
    let c = fresh
        .connect_google_refresh_token(SecretString::new(rt))
        .expect("the second app connects");
    fresh
        .sync(Some(&c.id), false, &mut |_, _| {})
        .expect("the full sync works");
    assert_eq!(
        support::window_occurrences(&fresh),
        got,
        "seed {seed}: incremental syncs with faults end where a clean full sync does"
    );
}

/// How many seeds a run tries: 200, or 1,000 with `PUNCTUAL_LONG=1`.
fn seeds() -> u64 {
    if std::env::var("PUNCTUAL_LONG").is_ok_and(|v| v == "1") {
        1000
    } else {
        200
    }
}

#[test]
fn incremental_sync_with_faults_converges_on_the_servers_truth() {
    let started = std::time::Instant::now();
    let seeds = seeds();
    for seed in 1..=seeds {
        run_seed(seed);
    }
    eprintln!("google: {seeds} seeds converged in {:?}", started.elapsed());
}

#[test]
fn microsoft_incremental_sync_with_faults_converges_on_the_servers_truth() {
    let started = std::time::Instant::now();
    let seeds = seeds();
    let (mut occurrences, mut failed) = (0, 0);
    for seed in 1..=seeds {
        let (o, f) = graph::run_seed(seed);
        occurrences += o;
        failed += f;
    }
    eprintln!(
        "microsoft: {seeds} seeds converged in {:?} ({occurrences} occurrences compared, {failed} syncs failed part-way)",
        started.elapsed()
    );
    assert!(
        occurrences > seeds as usize * 5 && failed > seeds as usize / 10,
        "the runs compared real calendars and the faults made syncs fail, or they proved nothing"
    );
}

/// The Microsoft runs: a model of Graph series (numbered daily or weekly ones whose instances can be moved,
/// renamed or deleted one by one) and singles, changed on the fake Graph as Outlook would.
mod graph {
    use super::{random_time, Rng, Single};
    use crate::support::fake_graph::{items, Fault, DEFAULT_CALENDAR};
    use crate::support::GraphHarness;
    use chrono::{Duration, NaiveDateTime, TimeZone};
    use chrono_tz::Europe::Berlin;
    use punctual::app::{App, ConnectRequest, SignIn};
    use punctual::model::Provider;
    use punctual::secrets::{MemorySecrets, SecretString};
    use serde_json::json;
    use std::collections::{BTreeMap, BTreeSet};
    use std::sync::Arc;

    /// Graph's name for Europe/Berlin: the fake reads wall clocks in it, the client maps it back.
    const TZ: &str = "W. Europe Standard Time";

    #[derive(Clone, Debug)]
    struct Series {
        title: String,
        start: NaiveDateTime,
        minutes: i64,
        step_days: i64,
        count: i64,
        deleted: BTreeSet<i64>,
        exceptions: BTreeMap<i64, Single>,
    }

    impl Series {
        fn original(&self, k: i64) -> NaiveDateTime {
            self.start + Duration::days(self.step_days * k)
        }
        /// The instances still there (moved ones included).
        fn live(&self) -> Vec<i64> {
            (0..self.count)
                .filter(|k| !self.deleted.contains(k))
                .collect()
        }
    }

    #[derive(Default)]
    struct Model {
        singles: BTreeMap<String, Single>,
        series: BTreeMap<String, Series>,
        next: u64,
    }

    fn instant(local: NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
        Berlin
            .from_local_datetime(&local)
            .single()
            .expect("test times avoid DST gaps")
            .with_timezone(&chrono::Utc)
    }

    fn utc(local: NaiveDateTime) -> String {
        instant(local).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }

    fn wall(local: NaiveDateTime) -> String {
        local.format("%Y-%m-%dT%H:%M:%S").to_string()
    }

    /// A time as Graph's `dateTimeTimeZone`, in the Windows zone.
    fn when(local: NaiveDateTime) -> serde_json::Value {
        json!({"dateTime": wall(local), "timeZone": TZ})
    }

    /// The Graph id of instance `k`: the fake's `{master}_occ{original start in UTC}`.
    fn occurrence_id(master: &str, se: &Series, k: i64) -> String {
        format!(
            "{master}_occ{}",
            instant(se.original(k)).format("%Y%m%dT%H%M%SZ")
        )
    }

    impl Model {
        fn occurrences(&self) -> Vec<(String, String, String)> {
            let mut out = Vec::new();
            let mut push = |s: &Single| {
                out.push((
                    utc(s.start),
                    utc(s.start + Duration::minutes(s.minutes)),
                    s.title.clone(),
                ))
            };
            for s in self.singles.values() {
                push(s);
            }
            for se in self.series.values() {
                for k in se.live() {
                    match se.exceptions.get(&k) {
                        Some(x) => push(x),
                        None => push(&Single {
                            title: se.title.clone(),
                            start: se.original(k),
                            minutes: se.minutes,
                        }),
                    }
                }
            }
            out.sort();
            out
        }
    }

    fn pick<'a>(keys: impl Iterator<Item = &'a String>, rng: &mut Rng) -> Option<String> {
        super::pick(keys, rng)
    }

    fn change(h: &GraphHarness, m: &mut Model, rng: &mut Rng) {
        match rng.below(8) {
            0 | 1 => {
                m.next += 1;
                let s = Single {
                    title: format!("Single {}", m.next),
                    start: random_time(rng),
                    minutes: [30, 45, 60][rng.below(3) as usize],
                };
                let item = items::single(
                    &s.title,
                    &wall(s.start),
                    &wall(s.start + Duration::minutes(s.minutes)),
                    TZ,
                );
                let id = h.fake.put(DEFAULT_CALENDAR, item)["id"]
                    .as_str()
                    .expect("an id")
                    .to_string();
                m.singles.insert(id, s);
            }
            2 => {
                let Some(id) = pick(m.singles.keys(), rng) else {
                    return;
                };
                let s = Single {
                    title: format!("Moved {id} {}", rng.below(1000)),
                    start: random_time(rng),
                    minutes: 30,
                };
                h.fake.edit(
                    &id,
                    json!({"subject": s.title, "start": when(s.start),
                           "end": when(s.start + Duration::minutes(s.minutes))}),
                );
                m.singles.insert(id, s);
            }
            3 => {
                if rng.below(2) == 0 {
                    if let Some(id) = pick(m.singles.keys(), rng) {
                        h.fake.delete(&id);
                        m.singles.remove(&id);
                    }
                } else if let Some(id) = pick(m.series.keys(), rng) {
                    h.fake.delete(&id);
                    m.series.remove(&id);
                }
            }
            4 => {
                m.next += 1;
                let count = 3 + rng.below(6) as i64;
                let se = Series {
                    title: format!("Series {}", m.next),
                    start: random_time(rng),
                    minutes: 30,
                    step_days: if rng.below(2) == 0 { 1 } else { 7 },
                    count,
                    deleted: BTreeSet::new(),
                    exceptions: BTreeMap::new(),
                };
                let (start, end) = (
                    wall(se.start),
                    wall(se.start + Duration::minutes(se.minutes)),
                );
                let item = if se.step_days == 1 {
                    items::daily(
                        &se.title,
                        &start,
                        &end,
                        TZ,
                        1,
                        items::numbered(count as u32),
                    )
                } else {
                    let day = se.start.format("%A").to_string().to_lowercase();
                    items::weekly(
                        &se.title,
                        &start,
                        &end,
                        TZ,
                        &[day.as_str()],
                        1,
                        items::numbered(count as u32),
                    )
                };
                let id = h.fake.put(DEFAULT_CALENDAR, item)["id"]
                    .as_str()
                    .expect("an id")
                    .to_string();
                m.series.insert(id, se);
            }
            5 => {
                // Move and rename one instance: it becomes an exception.
                let Some(id) = pick(m.series.keys(), rng) else {
                    return;
                };
                let se = m.series.get_mut(&id).expect("picked");
                let live = se.live();
                let Some(&k) = live.get(rng.below(live.len() as u64) as usize) else {
                    return;
                };
                let x = Single {
                    title: format!("Exception {id}/{k} {}", rng.below(1000)),
                    start: se.original(k) + Duration::hours(1 + rng.below(3) as i64),
                    minutes: 45,
                };
                h.fake.edit(
                    &occurrence_id(&id, se, k),
                    json!({"subject": x.title, "start": when(x.start),
                           "end": when(x.start + Duration::minutes(x.minutes))}),
                );
                se.exceptions.insert(k, x);
            }
            6 => {
                // Delete one instance (a moved one too).
                let Some(id) = pick(m.series.keys(), rng) else {
                    return;
                };
                let se = m.series.get_mut(&id).expect("picked");
                let live = se.live();
                let Some(&k) = live.get(rng.below(live.len() as u64) as usize) else {
                    return;
                };
                h.fake.delete(&occurrence_id(&id, se, k));
                se.exceptions.remove(&k);
                se.deleted.insert(k);
            }
            _ => {
                // Rename a series: every instance but the exceptions follows.
                let Some(id) = pick(m.series.keys(), rng) else {
                    return;
                };
                let se = m.series.get_mut(&id).expect("picked");
                se.title = format!("Renamed {id} {}", rng.below(1000));
                h.fake.edit(&id, json!({"subject": se.title}));
            }
        }
    }

    /// One seed's run; answers how many occurrences it compared and how many syncs failed on the way.
    pub(super) fn run_seed(seed: u64) -> (usize, usize) {
        let h = GraphHarness::new();
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        h.fake.state().page_limit = Some(1 + rng.below(4) as usize);
        let id = h.connect();
        h.fake.set_chaos(seed ^ 0x5eed, 15);
        let mut model = Model::default();
        let mut failed = 0;
        for _ in 0..12 {
            change(&h, &mut model, &mut rng);
            if rng.below(3) == 0 {
                if rng.below(3) == 0 {
                    // A request a few in fails every try: the sync stops part-way (on the calendar list,
                    // a page or a master), and the next one must pick up from there.
                    h.fake.clear_faults();
                    for _ in 0..rng.below(5) {
                        h.fake.push_fault(Fault::Pass);
                    }
                    for _ in 0..6 {
                        h.fake.push_fault(Fault::GatewayTimeout);
                    }
                }
                failed += usize::from(h.sync(&id).is_err());
            }
            if rng.below(12) == 0 {
                h.fake.expire_delta_tokens();
            }
        }
        h.fake.set_chaos(0, 0);
        h.fake.clear_faults();
        h.sync(&id).unwrap_or_else(|e| {
            panic!("seed {seed}: the last sync, without faults, must succeed: {e:?}")
        });
        let got = crate::support::window_occurrences(&h.app);
        let want = model.occurrences();
        assert_eq!(
            got, want,
            "seed {seed}: after the last sync the store holds exactly the server's occurrences"
        );
        let fresh = App::in_memory(h.clock.clone(), h.app.user_zone())
            .expect("a second app")
            .with_secrets(Arc::new(MemorySecrets::new()))
            .with_provider(
                Provider::OutlookCalendar,
                crate::support::graph_setup(&h.fake),
            );
        let c = fresh
            .connect(
                Provider::OutlookCalendar,
                ConnectRequest::new(SignIn::RefreshToken(SecretString::new(
                    h.fake.issue_refresh_token(),
                ))),
            )
            .expect("the second app connects");
        fresh
            .sync(Some(&c.id), false, &mut |_, _| {})
            .expect("the full sync works");
        assert_eq!(
            crate::support::window_occurrences(&fresh),
            got,
            "seed {seed}: incremental syncs with faults end where a clean full sync does"
        );
        (got.len(), failed)
    }
}
