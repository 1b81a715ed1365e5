//! Stale data: a device whose own measurement time stops advancing while the data's time
//! moves on.

use chrono::{DateTime, Utc};

use super::monitor::Health;
use super::{Evidence, Finding, InverterReading, Kind, Status};

/// A frozen measurement time being repeated.
#[derive(Debug, Clone)]
pub(super) struct StaleRun {
    pub(super) since: DateTime<Utc>,
    pub(super) last_clock: DateTime<Utc>,
    pub(super) repeats: u32,
    pub(super) power_kw: Option<f64>,
    pub(super) reported: bool,
}

pub(super) fn stale_evidence(run: &StaleRun) -> Evidence {
    Evidence {
        produced_kw: run.power_kw,
        samples: run.repeats,
        bad_samples: run.repeats,
        ..Evidence::default()
    }
}

impl Health {
    /// Follows the device's measurement time; whether the reading repeats its latest one.
    pub(super) fn check_stale(&mut self, index: usize, reading: &InverterReading<'_>) -> bool {
        let clock = self.clock.unwrap_or(reading.measured_at);
        let config = self.config;
        let state = &mut self.devices[index];
        let t = reading.measured_at;
        if t < state.latest_measured {
            // Older data (a backlog, documents out of order): not a frozen clock.
            return false;
        }
        if t > state.latest_measured {
            if let Some(run) = state.stale.take()
                && run.reported
            {
                self.pending.push(Finding::new(
                    Kind::Stale,
                    Status::Recovered,
                    Some(state.device.clone()),
                    run.since,
                    t,
                    stale_evidence(&run),
                ));
            }
            state.latest_measured = t;
            return false;
        }
        // A repeat: stale only once the data's time has moved on.
        let frozen = state.latest_measured;
        if clock - frozen < config.stale_after {
            return true;
        }
        let run = state.stale.get_or_insert(StaleRun {
            since: frozen,
            last_clock: clock,
            repeats: 0,
            power_kw: reading.ac_power_kw,
            reported: false,
        });
        if clock > run.last_clock || run.repeats == 0 {
            run.repeats = run.repeats.saturating_add(1);
        }
        run.last_clock = clock;
        if !run.reported && run.repeats >= config.stale_repeats {
            run.reported = true;
            self.pending.push(Finding::new(
                Kind::Stale,
                Status::Fault,
                Some(state.device.clone()),
                run.since,
                clock,
                stale_evidence(run),
            ));
        }
        true
    }
}
