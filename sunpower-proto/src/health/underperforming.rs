//! Underperforming panels: under a fraction of the array's median, day after day.

use chrono::{DateTime, Utc};

use super::day::Day;
use super::monitor::Health;
use super::{Evidence, Finding, Kind, Status};

/// A run of bad days (underperforming).
#[derive(Debug, Clone, Default)]
pub(super) struct BadRun {
    pub(super) start: Option<DateTime<Utc>>,
    pub(super) last_end: Option<DateTime<Utc>>,
    pub(super) days: u32,
    pub(super) samples: u32,
    pub(super) bad: u32,
    pub(super) sum_kw: f64,
    pub(super) sum_median_kw: f64,
    pub(super) reported: bool,
}

/// A device's counted samples in one day (underperforming).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct DayTally {
    pub(super) samples: u32,
    pub(super) bad: u32,
    pub(super) sum_kw: f64,
    pub(super) sum_median_kw: f64,
}

pub(super) fn bad_evidence(run: &BadRun) -> Evidence {
    let n = f64::from(run.samples.max(1));
    Evidence {
        produced_kw: Some(run.sum_kw / n),
        peers_median_kw: Some(run.sum_median_kw / n),
        samples: run.samples,
        bad_samples: run.bad,
        days: run.days,
        value: None,
    }
}

impl Health {
    pub(super) fn judge_underperforming(&mut self, d: usize, day: &Day, tally: &DayTally) {
        let config = self.config;
        if tally.samples < config.min_day_samples {
            return;
        }
        let state = &mut self.devices[d];
        let bad_day = f64::from(tally.bad) > config.bad_fraction * f64::from(tally.samples);
        if !bad_day {
            let run = std::mem::take(&mut state.bad);
            if let (true, Some(start)) = (run.reported, run.start) {
                self.pending.push(Finding::new(
                    Kind::Underperforming,
                    Status::Recovered,
                    Some(state.device.clone()),
                    start,
                    day.start,
                    bad_evidence(&run),
                ));
            }
            return;
        }
        let run = &mut state.bad;
        run.start.get_or_insert(day.start);
        run.last_end = Some(day.end);
        // Saturating: a panel weak for ages must not overflow its counts.
        run.days = run.days.saturating_add(1);
        run.samples = run.samples.saturating_add(tally.samples);
        run.bad = run.bad.saturating_add(tally.bad);
        run.sum_kw += tally.sum_kw;
        run.sum_median_kw += tally.sum_median_kw;
        if !run.reported && run.days >= config.bad_days {
            run.reported = true;
            if let Some(start) = run.start {
                self.pending.push(Finding::new(
                    Kind::Underperforming,
                    Status::Fault,
                    Some(state.device.clone()),
                    start,
                    day.end,
                    bad_evidence(run),
                ));
            }
        }
    }
}
