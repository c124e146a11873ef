//! The apply path on two threads: while a writer thread stores one page of changes, the caller fetches,
//! parses and runs link detection on the next.
//!
//! Why: on a first sync, reading a page (parse and detection) costs about a third of storing it, and the
//! two used to run one after the other on one core. Overlapping them takes the reading off the critical
//! path, and the freeing of a stored page's events goes back to the caller's thread, which allocated them.
//!
//! Group commit: pages that queued up while the writer was busy go into its next transaction together,
//! up to [`GROUP_CHANGES`] changes. A page's inserts rewrite leaves of random-key indexes all over the
//! file, so each commit wrote nearly every index page to the log again; fewer, larger commits write (and
//! later checkpoint) those pages fewer times. The bound is in changes, not pages, because providers page
//! differently: Google sends 2,500 events a page, Graph 200, and four of Graph's pages to a transaction
//! made its store stage three times as slow per event (benches/sync.rs).
//!
//! What does not change: pages are stored in the order they were pushed, each followed in its transaction
//! by the cursor after it, so a crash still leaves the store at the end of some page. At most
//! [`MAX_QUEUED_CHANGES`] changes are pushed and not yet stored, which bounds the memory a fast fetch can
//! pile up.

use super::{FetchPhase, ReadyPage, SyncState};
use crate::error::{Error, ErrorCode, Result};
use crate::store::{RemoteChange, Store};
use chrono::{DateTime, Utc};
use std::sync::mpsc;

/// One page handed to the writer.
struct Job {
    page: ReadyPage,
    next: SyncState,
    phase: FetchPhase,
    now: DateTime<Utc>,
}

/// A page the writer has stored.
#[derive(Debug)]
pub struct Stored {
    /// How many changes the page held.
    pub changes: usize,
    /// Recurrence expansion warnings.
    pub warnings: Vec<String>,
}

/// What the writer sends back: the outcome, and the page for the caller to free.
type Done = (Result<Stored>, Option<ReadyPage>);

/// The caller's end of the pipeline. See [`with_pipeline`].
pub struct Pipeline {
    /// The store's zone, in which rows are encoded.
    zone: crate::time::Zone,
    jobs: Option<mpsc::SyncSender<Job>>,
    done: mpsc::Receiver<Done>,
    /// Pages pushed whose outcome has not been received.
    in_flight: usize,
    /// The changes those pages hold.
    queued_changes: usize,
}

impl Pipeline {
    /// Runs link detection and encodes the rows here, then queues the page for the writer. Waits while the
    /// pages not yet stored hold too many changes to add this one ([`MAX_QUEUED_CHANGES`]). Returns the
    /// pages stored since the last call, in order.
    pub fn push(
        &mut self,
        changes: Vec<RemoteChange>,
        next: SyncState,
        phase: FetchPhase,
        now: DateTime<Utc>,
    ) -> Result<Vec<Stored>> {
        let job = Job {
            page: super::prepare(changes, self.zone)?,
            next,
            phase,
            now,
        };
        let mut stored = self.ready()?;
        let size = job.page.changes.len();
        while self.in_flight > 0 && self.queued_changes + size > MAX_QUEUED_CHANGES {
            let Ok(done) = self.done.recv() else {
                self.in_flight = 0;
                return Err(writer_gone());
            };
            stored.push(self.receive(done)?);
        }
        let sent = self.jobs.as_ref().map(|jobs| jobs.send(job).is_ok());
        if sent == Some(true) {
            self.in_flight += 1;
            self.queued_changes += size;
            return Ok(stored);
        }
        // The writer stopped: the outcome it sent last says why.
        stored.extend(self.drain()?);
        Err(Error::new(
            ErrorCode::Internal,
            "the sync writer stopped before the page was stored",
        ))
    }

    /// Waits until every pushed page is stored. Returns them in order, or the first failure.
    pub fn drain(&mut self) -> Result<Vec<Stored>> {
        let mut stored = Vec::with_capacity(self.in_flight);
        while self.in_flight > 0 {
            let Ok(done) = self.done.recv() else {
                self.in_flight = 0;
                return Err(writer_gone());
            };
            stored.push(self.receive(done)?);
        }
        Ok(stored)
    }

    /// The outcomes that have arrived, without waiting.
    fn ready(&mut self) -> Result<Vec<Stored>> {
        let mut stored = Vec::new();
        while self.in_flight > 0 {
            match self.done.try_recv() {
                Ok(done) => stored.push(self.receive(done)?),
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => {
                    self.in_flight = 0;
                    return Err(writer_gone());
                }
            }
        }
        Ok(stored)
    }

    fn receive(&mut self, (outcome, page): Done) -> Result<Stored> {
        self.in_flight -= 1;
        let size = page
            .as_ref()
            .map_or(self.queued_changes, |p| p.changes.len());
        self.queued_changes = self.queued_changes.saturating_sub(size);
        drop(page);
        outcome
    }
}

/// The most changes one transaction takes from the queue (four of Google's pages): once a group holds
/// this many, the pages after it wait for the next transaction.
pub const GROUP_CHANGES: usize = 10_000;

/// The most changes pushed and not yet stored: a transaction's worth being written and as much waiting.
pub const MAX_QUEUED_CHANGES: usize = 2 * GROUP_CHANGES;

/// The queue's length in pages; the real bound is [`MAX_QUEUED_CHANGES`], kept by [`Pipeline::push`]. A
/// page is at least one change, but the pages of a sync are rarely that small.
const QUEUE_PAGES: usize = 256;

/// Stores queued pages in one transaction, each page's changes followed by its cursor, in push order.
/// Returns each page's expansion warnings.
fn store_group(store: &Store, calendar_id: &str, group: &[Job]) -> Result<Vec<Vec<String>>> {
    store.write(|w| {
        group
            .iter()
            .map(|job| super::store_page(w, calendar_id, &job.page, &job.next, job.phase, job.now))
            .collect()
    })
}

fn writer_gone() -> Error {
    Error::new(
        ErrorCode::Internal,
        "the sync writer ended without storing every page",
    )
}

/// Runs `fetch` with a pipeline whose writer stores pages into `calendar_id`. Every page pushed is stored
/// (or has failed) before this returns, whatever `fetch` returns: nothing is written after the caller
/// believes the sync is over. The first failure wins: `fetch`'s own, or else the writer's.
pub fn with_pipeline<R>(
    store: &Store,
    calendar_id: &str,
    fetch: impl FnOnce(&mut Pipeline) -> Result<R>,
) -> Result<R> {
    std::thread::scope(|scope| {
        let (jobs, queue) = mpsc::sync_channel::<Job>(QUEUE_PAGES);
        let (report, done) = mpsc::channel::<Done>();
        let writer = std::thread::Builder::new()
            .name("punctual-sync-writer".into())
            .spawn_scoped(scope, move || {
                while let Ok(first) = queue.recv() {
                    // Whatever else is already queued joins this transaction (group commit), up to
                    // GROUP_CHANGES: a page is never split, so a group may end a page past it.
                    let mut size = first.page.changes.len();
                    let mut group = vec![first];
                    while size < GROUP_CHANGES {
                        match queue.try_recv() {
                            Ok(job) => {
                                size += job.page.changes.len();
                                group.push(job);
                            }
                            Err(_) => break,
                        }
                    }
                    match store_group(store, calendar_id, &group) {
                        Ok(warnings) => {
                            for (job, warnings) in group.into_iter().zip(warnings) {
                                let stored = Stored {
                                    changes: job.page.changes.len(),
                                    warnings,
                                };
                                if report.send((Ok(stored), Some(job.page))).is_err() {
                                    return;
                                }
                            }
                        }
                        Err(e) => {
                            // The rest of the queue is dropped unstored: a later page's cursor must
                            // never be saved over a gap.
                            let _ = report.send((Err(e), None));
                            return;
                        }
                    }
                }
            })
            .map_err(|e| {
                Error::new(
                    ErrorCode::Internal,
                    format!("cannot start the sync writer: {e}"),
                )
            })?;
        let mut pipeline = Pipeline {
            zone: store.zone(),
            jobs: Some(jobs),
            done,
            in_flight: 0,
            queued_changes: 0,
        };
        let result = fetch(&mut pipeline);
        pipeline.jobs = None;
        let drained = pipeline.drain();
        let joined = writer
            .join()
            .map_err(|_| Error::new(ErrorCode::Internal, "the sync writer panicked"));
        let value = result?;
        drained?;
        joined?;
        Ok(value)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use crate::time::Zone;

    fn store() -> Store {
        Store::with_local_calendar()
    }

    fn page(ids: std::ops::Range<u32>) -> Vec<RemoteChange> {
        ids.map(|i| {
            let item = serde_json::json!({
                "id": format!("e{i}"), "status": "confirmed", "summary": format!("Meeting {i}"),
                "start": {"dateTime": "2026-03-02T09:00:00Z"}, "end": {"dateTime": "2026-03-02T09:30:00Z"},
                "hangoutLink": "https://meet.google.com/abc-defg-hij"
            });
            crate::providers::google::map_item(
                &item.to_string(),
                crate::model::LOCAL_CALENDAR_ID,
                Zone::UTC,
            )
            .expect("the item maps")
            .expect("to an upsert")
        })
        .collect()
    }

    fn cursor(n: u32) -> SyncState {
        SyncState {
            sync_token: None,
            page_token: Some(format!("page-{n}")),
            last_sync_at: None,
        }
    }

    /// Pages pushed in a row are all stored, in order, each with its cursor, and with links detected.
    #[test]
    fn every_pushed_page_is_stored_in_order_with_its_cursor() {
        let store = store();
        let cal = crate::model::LOCAL_CALENDAR_ID;
        let now = chrono::Utc::now();
        let mut stored = Vec::new();
        with_pipeline(&store, cal, |p| {
            for n in 0..5 {
                let phase = FetchPhase::Full {
                    first: n == 0,
                    last: n == 4,
                };
                stored.extend(p.push(page(n * 10..n * 10 + 10), cursor(n), phase, now)?);
            }
            stored.extend(p.drain()?);
            Ok(())
        })
        .expect("the pages store");
        assert_eq!(
            stored.iter().map(|s| s.changes).collect::<Vec<_>>(),
            vec![10; 5],
            "each page is reported once, after it is stored"
        );
        let state = store.read(|r| r.sync_state(cal)).expect("state");
        assert_eq!(
            state.page_token.as_deref(),
            Some("page-4"),
            "the last page's cursor is the one saved"
        );
        let events = store
            .read(|r| r.calendar_events(cal))
            .expect("the calendar's events");
        assert_eq!(events.len(), 50, "every event of every page is stored");
        assert!(
            events.iter().all(|e| e.meeting.is_some()),
            "link detection ran on the caller's side before the pages were stored"
        );
    }

    /// When `fetch` fails after pushing pages, those pages are still stored before the error comes back.
    #[test]
    fn pages_pushed_before_a_failure_are_stored_before_it_returns() {
        let store = store();
        let cal = crate::model::LOCAL_CALENDAR_ID;
        let now = chrono::Utc::now();
        let err = with_pipeline(&store, cal, |p| -> Result<()> {
            p.push(
                page(0..10),
                cursor(0),
                FetchPhase::Full {
                    first: true,
                    last: false,
                },
                now,
            )?;
            p.push(
                page(10..20),
                cursor(1),
                FetchPhase::Full {
                    first: false,
                    last: true,
                },
                now,
            )?;
            Err(Error::new(ErrorCode::Network, "the next page did not come"))
        })
        .expect_err("fetch's failure is returned");
        assert_eq!(err.code, ErrorCode::Network, "fetch's own error wins");
        let state = store.read(|r| r.sync_state(cal)).expect("state");
        assert_eq!(
            state.page_token.as_deref(),
            Some("page-1"),
            "both pushed pages were stored: a resumed sync starts after the second"
        );
    }

    /// A page the writer cannot store fails the pipeline, and no later page is stored over the gap.
    #[test]
    fn a_page_that_cannot_be_stored_stops_the_pages_after_it() {
        let store = store();
        let now = chrono::Utc::now();
        // No such calendar: the sync state's foreign key refuses the first page.
        let err = with_pipeline(&store, "no-such-calendar", |p| {
            for n in 0..4 {
                p.push(Vec::new(), cursor(n), FetchPhase::Changes, now)?;
            }
            p.drain().map(|_| ())
        })
        .expect_err("the writer's failure is returned");
        assert_eq!(err.code, ErrorCode::Storage, "the store's error comes back");
        let saved = store
            .read(|r| r.sync_state("no-such-calendar"))
            .expect("state");
        assert_eq!(
            saved.page_token, None,
            "no cursor was saved after the failed page"
        );
    }
}
