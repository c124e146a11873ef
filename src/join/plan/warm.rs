//! Warming: reading one byte of each string a block of candidates or plans is about to need, in a loop of
//! its own, so their cache misses overlap.
//!
//! Every string of a candidate and of a plan is its own allocation, and after the heap has been through a
//! few passes they lie all over it: reading them one candidate at a time waited out one miss after another
//! (the re-planning pass spent most of its time so). Loads that do not depend on each other are in flight
//! together, so a short loop that only touches the strings of a whole block brings them in for about the
//! price of one miss; the work that follows finds them in cache. Plain loads rather than prefetch
//! instructions, which would need `unsafe`.

use super::{Candidate, JoinPlan};

/// Candidates or plans per block: enough that one block's warming loads fill the memory pipeline, few
/// enough that what they bring in is still in cache when the block is read.
pub(super) const BLOCK: usize = 32;

/// Collects the touched bytes, so that the compiler has to make the loads; [`Sink::finish`] hands the
/// result to `black_box`.
#[derive(Default)]
pub(super) struct Sink(u8);

impl Sink {
    pub(super) fn str(&mut self, s: &str) {
        // The first byte is enough: the strings planning compares are short, nearly always one cache line.
        if let Some(&b) = s.as_bytes().first() {
            self.0 ^= b;
        }
    }

    fn opt(&mut self, s: &Option<String>) {
        if let Some(s) = s {
            self.str(s);
        }
    }

    /// The strings of a candidate that hashing its dedup keys reads and, when there are plans to compare
    /// with (`compared`), those that finding and comparing its plan reads.
    pub(super) fn candidate(&mut self, c: &Candidate, compared: bool) {
        self.str(&c.uid);
        self.opt(&c.meeting_url);
        if compared {
            self.str(&c.occurrence_id);
            self.str(&c.event_id);
            self.str(&c.calendar_id);
            self.str(&c.title);
            self.opt(&c.platform);
        }
    }

    /// The strings of a plan that comparing it with its candidate reads.
    pub(super) fn plan(&mut self, p: &JoinPlan) {
        self.str(&p.occurrence_id);
        self.str(&p.event_id);
        self.str(&p.calendar_id);
        self.str(&p.title);
        self.opt(&p.platform);
        self.opt(&p.meeting_url);
    }

    /// A table lookup's result: the lookup is the warming.
    pub(super) fn found(&mut self, v: Option<u32>) {
        self.0 ^= v.unwrap_or(0) as u8;
    }

    pub(super) fn finish(self) {
        std::hint::black_box(self.0);
    }
}
