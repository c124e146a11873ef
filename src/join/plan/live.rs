//! The first pass of planning: the candidates the rules want, each with the hashes of its dedup keys and
//! the plan that already follows its occurrence, compared with it.
//!
//! It goes through the candidates in blocks and in steps, each step a loop over the block: the rules (the
//! candidates' own fields), warming the strings the next steps read, hashing, looking up plans, warming
//! those plans, comparing. A step's loads depend only on earlier steps, so its misses overlap (see
//! [`super::warm`]); done candidate by candidate, every string and every plan was a miss of its own.

use super::warm::{Sink, BLOCK};
use super::{id_hash, keys, times, unchanged, wanted, ByOccurrence, Live};
use super::{Candidate, JoinPlan, JoinRules};
use chrono::{DateTime, Utc};

/// The candidates in `[now, horizon_end)` that the rules want, in candidate order.
pub(super) fn live<'a>(
    candidates: &'a [Candidate],
    existing: &[JoinPlan],
    by_occurrence: &ByOccurrence<'_>,
    rules: &JoinRules,
    (now, horizon_end): (DateTime<Utc>, DateTime<Utc>),
) -> Vec<Live<'a>> {
    // Sized for every candidate: growing it step by step copied it several times over.
    let mut live: Vec<Live<'a>> = Vec::with_capacity(candidates.len());
    // From scratch there is no plan to find, and only the dedup keys are read.
    let following = !by_occurrence.is_empty();
    let mut sink = Sink::default();
    let mut occurrence = [0u64; BLOCK];
    for (b, block) in candidates.chunks(BLOCK).enumerate() {
        let first = live.len();
        for (j, c) in block.iter().enumerate() {
            if !(c.end > now && c.start < horizon_end) {
                continue;
            }
            let Some((action, lead)) = wanted(c, rules) else {
                continue;
            };
            live.push(Live {
                c,
                index: (b * BLOCK + j) as u32,
                action,
                lead,
                start: c.start,
                uid: 0,
                url: None,
                url_plain: false,
                plan: None,
                unchanged: false,
            });
        }
        let block = &mut live[first..];
        for l in block.iter() {
            sink.candidate(l.c, following);
        }
        for (l, occ) in block.iter_mut().zip(&mut occurrence) {
            (l.uid, l.url, l.url_plain) = keys(l.c, l.start.timestamp());
            if following {
                *occ = id_hash(&l.c.occurrence_id);
            }
        }
        if !following {
            continue;
        }
        for (l, &occ) in block.iter_mut().zip(&occurrence) {
            l.plan = by_occurrence.probe(occ);
        }
        for l in block.iter() {
            if let Some(e) = l.plan {
                sink.plan(&existing[e]);
            }
        }
        for l in block.iter_mut() {
            l.plan = l
                .plan
                .and_then(|e| by_occurrence.confirmed(e, &l.c.occurrence_id));
            l.unchanged = l.plan.is_some_and(|e| {
                let (scheduled, early) = times(l.start, l.lead, rules);
                unchanged(&existing[e], l.c, l.action, scheduled, early)
            });
        }
    }
    sink.finish();
    live
}
