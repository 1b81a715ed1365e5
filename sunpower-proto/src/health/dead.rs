//! Dead or missing inverters: no report, or zero power, in daylight samples while the peers
//! produce.

use chrono::{DateTime, Utc};

use super::monitor::Health;
use super::{Evidence, Finding, Kind, Status};

/// A run of dead daylight samples.
#[derive(Debug, Clone)]
pub(super) struct DeadRun {
    pub(super) start: DateTime<Utc>,
    pub(super) last: DateTime<Utc>,
    pub(super) missing: u32,
    pub(super) zero: u32,
    pub(super) sum_median_kw: f64,
    /// The kind reported, once it was.
    pub(super) reported: Option<Kind>,
}

pub(super) fn dead_evidence(run: &DeadRun) -> Evidence {
    let samples = run.missing.saturating_add(run.zero);
    Evidence {
        // What it produced: nothing; unknown when it sent nothing at all.
        produced_kw: (run.zero > 0).then_some(0.0),
        peers_median_kw: (samples > 0).then(|| run.sum_median_kw / f64::from(samples)),
        samples,
        bad_samples: samples,
        days: 0,
        value: None,
    }
}

impl Health {
    pub(super) fn dead_sample(
        &mut self,
        d: usize,
        slot: DateTime<Utc>,
        median_kw: f64,
        missing: bool,
    ) {
        let run = self.devices[d].dead.get_or_insert(DeadRun {
            start: slot,
            last: slot,
            missing: 0,
            zero: 0,
            sum_median_kw: 0.0,
            reported: None,
        });
        run.last = slot;
        if missing {
            run.missing = run.missing.saturating_add(1);
        } else {
            run.zero = run.zero.saturating_add(1);
        }
        run.sum_median_kw += median_kw;
        if let (Some(limit), None) = (self.config.dead_samples, run.reported)
            && run.missing.saturating_add(run.zero) >= limit
        {
            self.report_dead(d);
        }
    }

    /// A daylight sample with production: a dead run ends (and recovers if it was reported).
    pub(super) fn alive(&mut self, d: usize, slot: DateTime<Utc>) {
        let state = &mut self.devices[d];
        if let Some(run) = state.dead.take()
            && let Some(kind) = run.reported
        {
            self.pending.push(Finding::new(
                kind,
                Status::Recovered,
                Some(state.device.clone()),
                run.start,
                slot,
                dead_evidence(&run),
            ));
        }
    }

    /// At a day's end: a dead run that covers the whole day's daylight is a fault.
    pub(super) fn judge_dead(
        &mut self,
        d: usize,
        first_daylight: Option<DateTime<Utc>>,
        daylight: u32,
    ) {
        if self.config.dead_samples.is_some() || daylight < self.config.min_day_samples {
            return;
        }
        let Some(first) = first_daylight else { return };
        if let Some(run) = &self.devices[d].dead
            && run.reported.is_none()
            && run.start <= first
        {
            self.report_dead(d);
        }
    }

    pub(super) fn report_dead(&mut self, d: usize) {
        let state = &mut self.devices[d];
        let Some(run) = state.dead.as_mut() else {
            return;
        };
        let kind = if run.missing >= run.zero {
            Kind::NotReporting
        } else {
            Kind::ReportingZero
        };
        run.reported = Some(kind);
        let finding = Finding::new(
            kind,
            Status::Fault,
            Some(state.device.clone()),
            run.start,
            run.last,
            dead_evidence(run),
        );
        self.pending.push(finding);
    }
}
