//! Recurrence expansion (being written by the recurrence owner; the signatures below are the contract).

use crate::model::Recurrence;
use crate::time::{When, Zone};
use chrono::{DateTime, Utc};

/// A series master, as far as expansion cares.
#[derive(Clone, Copy, Debug)]
pub struct Series<'a> {
    pub start: When,
    pub end: When,
    pub recurrence: &'a Recurrence,
}

/// An override of one instance (RECURRENCE-ID), or of it and every later one (RANGE=THISANDFUTURE).
#[derive(Clone, Debug)]
pub struct Override {
    pub recurrence_id: When,
    pub this_and_future: bool,
    pub start: When,
    pub end: When,
    /// A cancelled override (STATUS:CANCELLED, a provider's cancelled instance) removes the instance.
    pub cancelled: bool,
}

/// The half-open span [start, end) whose overlapping instances are wanted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// One instance of a series in absolute time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    /// The instance's original start as the rule produced it: its RECURRENCE-ID.
    pub recurrence_id: When,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The index into the overrides slice of the override that shapes this instance, if any.
    pub override_index: Option<usize>,
}

/// The instances of a series inside a window.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expansion {
    /// Sorted by (start, recurrence_id), each recurrence_id once.
    pub instances: Vec<Instance>,
    /// True when `max_instances` cut the expansion short.
    pub capped: bool,
    pub warnings: Vec<String>,
}

/// Why a rule could not be expanded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RecurrenceError {
    /// The rule part at fault ("FREQ", "BYDAY", "UNTIL", ...), when one is.
    pub part: Option<String>,
    pub message: String,
}

/// Expands a series into the instances overlapping `window`, in absolute time. Dates and floating times are
/// read in `floating_zone`. At most `max_instances` are produced.
pub fn expand(
    _series: &Series<'_>,
    _overrides: &[Override],
    _window: Window,
    _floating_zone: Zone,
    _max_instances: usize,
) -> Result<Expansion, RecurrenceError> {
    Ok(Expansion::default())
}

/// Checks one RRULE value (without the `RRULE:` prefix) and names the part at fault.
pub fn validate_rrule(_rule: &str, _start: &When) -> Result<(), RecurrenceError> {
    Ok(())
}
