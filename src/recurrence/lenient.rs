//! Lenient expansion of the rules RFC 5545 §3.3.10 forbids but real calendars hold ([`Rule::needs_filter`]):
//! a BYxxx part its FREQ does not allow, or an INTERVAL beyond the rrule crate's u16.
//!
//! The widely used libraries (python-dateutil, and the iCalendar code built on it) expand such a rule by
//! taking, for each FREQ period, every candidate the other parts allow and keeping those that the
//! forbidden part also allows. This module does the same:
//! - A *period* is one unit of FREQ (a year, a month, a week starting on WKST, a day, an hour, ...);
//!   period 0 holds DTSTART, and only periods whose index is a multiple of INTERVAL produce instances.
//! - The *base rule* is the rule with the forbidden parts, BYSETPOS, COUNT and INTERVAL taken out, run
//!   by the rrule crate at INTERVAL=1. A forbidden day part means DTSTART supplies no default day (as in
//!   §3.3.10's own defaults, which apply only when no day part is given), so the base rule of a WEEKLY rule
//!   takes every weekday and that of a MONTHLY rule every month day.
//! - Each period's candidates are filtered by the forbidden parts (week numbers per WKST, as §3.3.10
//!   defines them: week 1 is the first with at least four days of the year), then BYSETPOS picks among
//!   what is left, then values before DTSTART are dropped and COUNT is counted.
//! - When the base rule steps into a period off the INTERVAL grid, it is restarted at the next period on
//!   the grid, so an INTERVAL of a million costs one restart per instance, not a million steps.
//!
//! The bounds are those of `run_rule`: the shared step budget, `limit` values that can reach the window,
//! and the rrule crate's own guard against a base rule that stops matching.

use super::rule::{carrier, Rule};
use super::{Plan, RuleValues, STEP_BUDGET};
use chrono::{
    DateTime, Datelike, Duration, Months, NaiveDate, NaiveDateTime, NaiveTime, Utc, Weekday,
};
use rrule::{Frequency, NWeekday};

/// The first day of week 1 of `year` for weeks starting on `wkst`: the week that holds 4 January holds at
/// least four days of the year (RFC 5545 §3.3.10, BYWEEKNO).
fn week_one(year: i32, wkst: Weekday) -> Option<NaiveDate> {
    let jan4 = NaiveDate::from_ymd_opt(year, 1, 4)?;
    let back = (7 + jan4.weekday().num_days_from_monday() - wkst.num_days_from_monday()) % 7;
    Some(jan4 - Duration::days(i64::from(back)))
}

/// Whether `d` is in one of the weeks listed (positive from the start of its week-numbering year,
/// negative from its end).
fn in_weeks(d: NaiveDate, wkst: Weekday, weeks: &[i8]) -> bool {
    let Some(this) = week_one(d.year(), wkst) else {
        return false;
    };
    let year = if d < this {
        d.year() - 1
    } else if week_one(d.year() + 1, wkst).is_some_and(|next| d >= next) {
        d.year() + 1
    } else {
        d.year()
    };
    let (Some(first), Some(next)) = (week_one(year, wkst), week_one(year + 1, wkst)) else {
        return false;
    };
    let n = (d - first).num_days() / 7 + 1;
    let total = (next - first).num_days() / 7;
    weeks
        .iter()
        .any(|&w| i64::from(w) == n || i64::from(w) == n - total - 1)
}

fn in_year_days(d: NaiveDate, days: &[i16]) -> bool {
    let len = if d.leap_year() { 366 } else { 365 };
    let n = i64::from(d.ordinal());
    days.iter()
        .any(|&y| i64::from(y) == n || i64::from(y) == n - len - 1)
}

fn in_month_days(d: NaiveDate, days: &[i8]) -> bool {
    let len = NaiveDate::from_ymd_opt(d.year(), d.month(), 1)
        .and_then(|f| f.checked_add_months(Months::new(1)))
        .map_or(31, |next| next.pred_opt().map_or(31, |l| l.day()));
    let n = i64::from(d.day());
    days.iter()
        .any(|&m| i64::from(m) == n || i64::from(m) == n - i64::from(len) - 1)
}

/// The FREQ period grid of a rule, counted from DTSTART's period.
struct Grid {
    freq: Frequency,
    /// The start of DTSTART's period.
    origin: NaiveDateTime,
}

impl Grid {
    fn new(freq: Frequency, anchor: NaiveDateTime, wkst: Weekday) -> Option<Grid> {
        use chrono::Timelike;
        let midnight = |d: NaiveDate| d.and_time(NaiveTime::MIN);
        let origin = match freq {
            Frequency::Yearly => midnight(NaiveDate::from_ymd_opt(anchor.year(), 1, 1)?),
            Frequency::Monthly => midnight(anchor.date().with_day(1)?),
            Frequency::Weekly => {
                let back =
                    (7 + anchor.weekday().num_days_from_monday() - wkst.num_days_from_monday()) % 7;
                midnight(anchor.date() - Duration::days(i64::from(back)))
            }
            Frequency::Daily => midnight(anchor.date()),
            Frequency::Hourly => anchor.with_minute(0)?.with_second(0)?.with_nanosecond(0)?,
            Frequency::Minutely => anchor.with_second(0)?.with_nanosecond(0)?,
            Frequency::Secondly => anchor.with_nanosecond(0)?,
        };
        Some(Grid { freq, origin })
    }

    /// The index of the period holding `n` (negative before DTSTART's).
    fn index(&self, n: NaiveDateTime) -> i64 {
        let o = self.origin;
        match self.freq {
            Frequency::Yearly => i64::from(n.year() - o.year()),
            Frequency::Monthly => {
                (i64::from(n.year()) * 12 + i64::from(n.month0()))
                    - (i64::from(o.year()) * 12 + i64::from(o.month0()))
            }
            Frequency::Weekly => (n.date() - o.date()).num_days().div_euclid(7),
            Frequency::Daily => (n.date() - o.date()).num_days(),
            Frequency::Hourly => (n - o).num_seconds().div_euclid(3600),
            Frequency::Minutely => (n - o).num_seconds().div_euclid(60),
            Frequency::Secondly => (n - o).num_seconds(),
        }
    }

    /// The start of period `k`; None past what chrono can hold.
    fn start(&self, k: i64) -> Option<NaiveDateTime> {
        let o = self.origin;
        let months = |m: i64| -> Option<NaiveDateTime> {
            let m = u32::try_from(m).ok()?;
            o.checked_add_months(Months::new(m))
        };
        match self.freq {
            Frequency::Yearly => months(k.checked_mul(12)?),
            Frequency::Monthly => months(k),
            Frequency::Weekly => o.checked_add_signed(Duration::try_days(k.checked_mul(7)?)?),
            Frequency::Daily => o.checked_add_signed(Duration::try_days(k)?),
            Frequency::Hourly => o.checked_add_signed(Duration::try_hours(k)?),
            Frequency::Minutely => o.checked_add_signed(Duration::try_minutes(k)?),
            Frequency::Secondly => o.checked_add_signed(Duration::try_seconds(k)?),
        }
    }
}

/// The rule the rrule crate runs for each period: see the module doc.
fn base_rule(r: &Rule) -> Rule {
    let mut b = r.clone();
    b.interval = 1;
    b.count = None;
    b.by_set_pos.clear();
    let day_part_forbidden =
        r.off_spec_week_no() || r.off_spec_year_day() || r.off_spec_month_day();
    if r.off_spec_week_no() {
        b.by_week_no.clear();
    }
    if r.off_spec_year_day() {
        b.by_year_day.clear();
    }
    if r.off_spec_month_day() {
        b.by_month_day.clear();
    }
    if day_part_forbidden {
        match r.freq {
            Frequency::Weekly if b.by_day.is_empty() => {
                b.by_day = [
                    Weekday::Mon,
                    Weekday::Tue,
                    Weekday::Wed,
                    Weekday::Thu,
                    Weekday::Fri,
                    Weekday::Sat,
                    Weekday::Sun,
                ]
                .into_iter()
                .map(NWeekday::Every)
                .collect();
            }
            Frequency::Monthly if b.by_day.is_empty() && b.by_month_day.is_empty() => {
                b.by_month_day = (1..=31).collect();
            }
            _ => {}
        }
    }
    b
}

/// BYSETPOS over one period's sorted candidates (RFC 5545 §3.3.10: 1 is the first, -1 the last).
fn set_positions(values: &[NaiveDateTime], positions: &[i32]) -> Vec<NaiveDateTime> {
    if positions.is_empty() {
        return values.to_vec();
    }
    let len = values.len() as i64;
    let mut out: Vec<NaiveDateTime> = positions
        .iter()
        .filter_map(|&p| {
            let p = i64::from(p);
            let i = if p > 0 { p - 1 } else { len + p };
            usize::try_from(i).ok().and_then(|i| values.get(i).copied())
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

impl Plan {
    /// `run_rule` for a rule that [`Rule::needs_filter`]: the same contract (values in [lo, hi] with the
    /// UTC UNTIL to re-check, and the last value produced when a limit stopped it).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn run_lenient(
        &self,
        r: &Rule,
        first: bool,
        lo: NaiveDateTime,
        hi: NaiveDateTime,
        count_from: DateTime<Utc>,
        limit: usize,
        budget: &mut u64,
        warnings: &mut Vec<String>,
    ) -> (RuleValues, Option<NaiveDateTime>) {
        let mut out: RuleValues = Vec::new();
        let (until, until_utc) = match r.until {
            Some(u) => {
                let (n, t) = self.until_in_frame(u);
                (Some(n), t)
            }
            None => (None, None),
        };
        if until.is_some_and(|u| u < lo || u < self.anchor) {
            return (out, None);
        }
        let Some(grid) = Grid::new(r.freq, self.anchor, r.wkst) else {
            return (out, None);
        };
        let step = i64::try_from(r.interval.max(1)).unwrap_or(i64::MAX);
        let base = base_rule(r);
        let keeps = |n: NaiveDateTime| {
            let d = n.date();
            (!r.off_spec_week_no() || in_weeks(d, r.wkst, &r.by_week_no))
                && (!r.off_spec_year_day() || in_year_days(d, &r.by_year_day))
                && (!r.off_spec_month_day() || in_month_days(d, &r.by_month_day))
        };
        // A COUNT rule is counted from DTSTART's period; any other starts at the grid period at or before lo.
        let mut k = if r.count.is_some() {
            0
        } else {
            grid.index(lo).max(0) / step * step
        };
        // DTSTART is the first of COUNT instances even when the rule does not produce it (RFC 5545 §3.8.5.3).
        let mut remaining = r.count.map(u64::from);
        let mut emitted_any = false;
        let mut produced_in_range = 0usize;
        let mut period: Vec<NaiveDateTime> = Vec::new();
        // Emits one period's values; false when COUNT or the limit ends the rule.
        let mut flush = |period: &mut Vec<NaiveDateTime>,
                         out: &mut RuleValues,
                         cut: &mut Option<NaiveDateTime>|
         -> bool {
            for n in set_positions(period, &r.by_set_pos) {
                if n < self.anchor {
                    continue;
                }
                if !emitted_any {
                    emitted_any = true;
                    if first && n != self.anchor {
                        remaining = remaining.map(|c| c.saturating_sub(1));
                    }
                }
                if remaining == Some(0) {
                    period.clear();
                    return false;
                }
                remaining = remaining.map(|c| c - 1);
                if n >= lo && n <= hi {
                    let t = self.instant(n);
                    out.push((n, t, until_utc));
                    if t >= count_from {
                        produced_in_range += 1;
                        if produced_in_range > limit {
                            *cut = Some(n);
                            period.clear();
                            return false;
                        }
                    }
                }
            }
            period.clear();
            true
        };
        let mut cut = None;
        'periods: while let Some(start) = grid.start(k) {
            if start > hi || until.is_some_and(|u| start > u) {
                break;
            }
            let built = match base.to_rrule(self.anchor, start, None, until) {
                Ok(b) => b,
                Err(e) => {
                    warnings.push(format!("RRULE skipped: {}", e.message));
                    return (out, None);
                }
            };
            let set = rrule::RRuleSet::new(carrier(start)).rrule(built).limit();
            let mut period_index = k;
            for dt in &set {
                if *budget == 0 {
                    warnings.push(format!(
                        "RRULE stopped after {STEP_BUDGET} steps before reaching the window end; later \
                         instances are not shown"
                    ));
                    // The period under way was not emitted (BYSETPOS needs all of it): nothing from its
                    // start on is known.
                    let known = grid.start(period_index).unwrap_or(lo) - Duration::seconds(1);
                    return (out, Some(known));
                }
                *budget -= 1;
                let n = dt.naive_utc();
                let i = grid.index(n);
                if i != period_index {
                    if !flush(&mut period, &mut out, &mut cut) {
                        return (out, cut);
                    }
                    if i % step != 0 || n > hi {
                        // Off the INTERVAL grid (or past the range): restart at the next period on it.
                        k = match (i / step + 1).checked_mul(step) {
                            Some(next) if i % step != 0 => next,
                            _ => break 'periods,
                        };
                        continue 'periods;
                    }
                    period_index = i;
                }
                if keeps(n) {
                    period.push(n);
                }
            }
            // The base rule ended (UNTIL, or the rrule crate's guard): nothing later.
            break;
        }
        flush(&mut period, &mut out, &mut cut);
        (out, cut)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test dates are YYYY-MM-DD")
    }

    #[test]
    fn week_numbers_follow_wkst_and_cross_year_ends() {
        // 2026-12-28 is in ISO week 53 of 2026; 2027-01-03 (a Sunday) still is; 2027-01-04 starts week 1.
        assert!(
            in_weeks(d("2026-12-28"), Weekday::Mon, &[53]),
            "ISO week 53 of 2026"
        );
        assert!(
            in_weeks(d("2027-01-03"), Weekday::Mon, &[-1]),
            "the last week of 2026 reaches into 2027"
        );
        assert!(
            in_weeks(d("2027-01-04"), Weekday::Mon, &[1]),
            "week 1 of 2027 holds 4 January"
        );
        // With weeks starting on Sunday, 2027-01-03 opens the week that holds 4 January: week 1.
        assert!(
            in_weeks(d("2027-01-03"), Weekday::Sun, &[1]),
            "WKST=SU moves the week boundary"
        );
    }

    #[test]
    fn negative_days_count_from_the_end() {
        assert!(
            in_year_days(d("2028-12-31"), &[-1]),
            "-1 is the last day of a leap year too"
        );
        assert!(
            in_year_days(d("2028-04-09"), &[100]),
            "day 100 of a leap year is 9 April"
        );
        assert!(
            in_month_days(d("2026-02-28"), &[-1]),
            "-1 is the last day of February"
        );
        assert!(
            !in_month_days(d("2026-02-28"), &[31]),
            "February has no 31st"
        );
    }
}
