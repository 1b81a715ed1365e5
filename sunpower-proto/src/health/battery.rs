//! Batteries: a state of health falling, and a battery that stops reporting while the
//! supervisor's other data goes on.

use std::collections::VecDeque;

use chrono::{DateTime, TimeDelta, Utc};

use super::monitor::{usable, Health};
use super::{Device, Evidence, Finding, Kind, Status};
use crate::Battery;

/// Batteries followed at most (a site has a few; a damaged input cannot grow the state).
const MAX_BATTERIES: usize = 64;

/// The best state of health of the window is kept per bucket of the window's 1/1024th (at least
/// an hour): at most about 1,024 candidates per battery, whatever the polling rate.
const WINDOW_BUCKETS: i32 = 1024;

/// Documents in a row without a battery's reading before it can be "not reporting": one
/// document without it (a snapshot days after the last) says little.
const MIN_SILENT_DOCUMENTS: u32 = 2;

/// What is kept of one battery.
#[derive(Debug, Clone)]
pub(super) struct BatteryState {
    serial: String,
    /// Its latest measurement time: a reading not newer is no report.
    last: DateTime<Utc>,
    /// A newer reading came since the last document was judged.
    fresh: bool,
    /// Documents judged in a row without a newer reading.
    silent_documents: u32,
    /// The open `battery_not_reporting` fault.
    silent_reported: bool,
    /// The best state of health per bucket, best first and strictly falling (a later bucket
    /// with a better value replaces the earlier ones): the front is the window's best.
    best: VecDeque<(DateTime<Utc>, f64)>,
    /// The readings in a row that fell (their first time, count, the reference, the lowest).
    falling: Option<SohRun>,
}

/// A run of falling state of health readings.
#[derive(Debug, Clone, Copy)]
struct SohRun {
    start: DateTime<Utc>,
    last: DateTime<Utc>,
    readings: u32,
    /// The best reading it is compared with (fixed while the run lasts, so that the window's
    /// forgetting the good days is not a recovery).
    reference: f64,
    lowest: f64,
    reported: bool,
}

impl Health {
    /// The batteries of one document (one poll of the supervisor, empty when it had none): each
    /// reading's state of health, then the batteries it lacked.
    ///
    /// **State of health falling.** A reading more than
    /// [`HealthConfig::battery_soh_drop`](super::HealthConfig::battery_soh_drop) points under
    /// the battery's best reading of the last
    /// [`HealthConfig::battery_soh_window`](super::HealthConfig::battery_soh_window), or under
    /// [`HealthConfig::battery_soh_floor`](super::HealthConfig::battery_soh_floor), falls;
    /// [`HealthConfig::battery_soh_readings`](super::HealthConfig::battery_soh_readings) in a
    /// row are a `battery_soh_falling` fault (from the first), its evidence's `value` the
    /// lowest percent; the first reading back within the drop of that best and over the floor is
    /// the recovery.
    ///
    /// **Not reporting.** A battery seen before, with no newer reading in
    /// [`HealthConfig::battery_silence`](super::HealthConfig::battery_silence) of the data's
    /// time and in at least two documents in a row (the supervisor's other data went on), is a
    /// `battery_not_reporting` fault from its last reading, `samples` counting the documents
    /// without it; its next newer reading is the recovery. A silent supervisor (a gap) moves no
    /// time and makes no such fault.
    ///
    /// ```
    /// use sunpower_proto::health::{Health, HealthConfig, Kind, Status};
    /// use sunpower_proto::parse_vars;
    /// let mut health = Health::new(HealthConfig::default(), chrono_tz::UTC);
    /// for (hour, soh) in [(10, "0.95"), (11, "0.94"), (12, "0.88"), (13, "0.87"), (14, "0.87")] {
    ///     let vars = parse_vars(format!(r#"{{"/sys/devices/ess/0/sn": "BC1",
    ///         "/sys/devices/ess/0/msmtEps": "2026-06-01T{hour}:00:00Z",
    ///         "/sys/devices/ess/0/sohVal": "{soh}"}}"#)).unwrap();
    ///     health.add_batteries(&vars.batteries);
    /// }
    /// let found = health.finish();
    /// assert_eq!((found[0].kind, found[0].status), (Kind::BatterySohFalling, Status::Fault));
    /// assert_eq!((found[0].device_name(), found[0].evidence.value), ("BC1", Some(87.0)));
    /// ```
    pub fn add_batteries(&mut self, batteries: &[Battery]) {
        for battery in batteries {
            self.add_battery(battery);
        }
        self.judge_battery_silence();
    }

    fn add_battery(&mut self, battery: &Battery) {
        let t = battery.timestamp;
        if !usable(t) {
            self.late += 1;
            return;
        }
        self.add_activity(t);
        let index = match self
            .batteries
            .iter()
            .position(|b| b.serial == battery.serial)
        {
            Some(i) => i,
            None if self.batteries.len() >= MAX_BATTERIES => {
                self.late += 1;
                return;
            }
            None => {
                self.batteries.push(BatteryState {
                    serial: battery.serial.clone(),
                    // Before any time, so that the first reading is new.
                    last: DateTime::<Utc>::MIN_UTC,
                    fresh: false,
                    silent_documents: 0,
                    silent_reported: false,
                    best: VecDeque::new(),
                    falling: None,
                });
                self.batteries.len() - 1
            }
        };
        let state = &mut self.batteries[index];
        // A repeated or older reading (a replayed document, a frozen battery) is no report.
        if t <= state.last {
            return;
        }
        if state.silent_reported {
            let evidence = Evidence {
                samples: state.silent_documents,
                bad_samples: state.silent_documents,
                ..Evidence::default()
            };
            self.pending.push(Finding::new(
                Kind::BatteryNotReporting,
                Status::Recovered,
                Some(Device::battery(&state.serial)),
                state.last,
                t,
                evidence,
            ));
        }
        state.last = t;
        state.fresh = true;
        state.silent_documents = 0;
        state.silent_reported = false;
        if let Some(soh) = battery.soh_pct.filter(|p| p.is_finite()) {
            self.soh_reading(index, t, soh);
        }
    }

    fn soh_reading(&mut self, index: usize, t: DateTime<Utc>, soh: f64) {
        let config = self.config;
        let state = &mut self.batteries[index];
        // The window's best, this reading included.
        let bucket_secs = (config.battery_soh_window / WINDOW_BUCKETS)
            .max(TimeDelta::hours(1))
            .num_seconds();
        let secs = t.timestamp();
        let bucket = DateTime::from_timestamp(secs - secs.rem_euclid(bucket_secs), 0).unwrap_or(t);
        if let Some(oldest) = t.checked_sub_signed(config.battery_soh_window) {
            while state.best.front().is_some_and(|&(at, _)| at < oldest) {
                state.best.pop_front();
            }
        }
        while state.best.back().is_some_and(|&(_, v)| v <= soh) {
            state.best.pop_back();
        }
        if state.best.back().is_none_or(|&(at, _)| at != bucket) {
            state.best.push_back((bucket, soh));
        }
        let best = state.best.front().map_or(soh, |&(_, v)| v);
        let device = Some(Device::battery(&state.serial));
        let falls = |reference: f64| {
            reference - soh > config.battery_soh_drop || soh < config.battery_soh_floor
        };
        match &mut state.falling {
            Some(run) if falls(run.reference) => {
                run.last = t;
                run.readings = run.readings.saturating_add(1);
                run.lowest = run.lowest.min(soh);
                if !run.reported && run.readings >= config.battery_soh_readings {
                    run.reported = true;
                    let finding = soh_finding(run, Status::Fault, device, t);
                    self.pending.push(finding);
                }
            }
            Some(_) => {
                if let Some(run) = state.falling.take()
                    && run.reported
                {
                    let finding = soh_finding(&run, Status::Recovered, device, t);
                    self.pending.push(finding);
                }
            }
            None if falls(best) => {
                let run = SohRun {
                    start: t,
                    last: t,
                    readings: 1,
                    reference: best,
                    lowest: soh,
                    reported: config.battery_soh_readings <= 1,
                };
                if run.reported {
                    self.pending
                        .push(soh_finding(&run, Status::Fault, device, t));
                }
                state.falling = Some(run);
            }
            None => {}
        }
    }

    /// After a document: each battery it had no newer reading of is silent one more document.
    fn judge_battery_silence(&mut self) {
        let Some(clock) = self.clock else { return };
        let silence = self.config.battery_silence;
        for state in &mut self.batteries {
            if std::mem::take(&mut state.fresh) {
                continue;
            }
            state.silent_documents = state.silent_documents.saturating_add(1);
            let long = clock
                .checked_sub_signed(silence)
                .is_some_and(|t| t >= state.last);
            if !state.silent_reported && state.silent_documents >= MIN_SILENT_DOCUMENTS && long {
                state.silent_reported = true;
                let evidence = Evidence {
                    samples: state.silent_documents,
                    bad_samples: state.silent_documents,
                    ..Evidence::default()
                };
                self.pending.push(Finding::new(
                    Kind::BatteryNotReporting,
                    Status::Fault,
                    Some(Device::battery(&state.serial)),
                    state.last,
                    clock,
                    evidence,
                ));
            }
        }
    }
}

/// A `battery_soh_falling` finding: the readings that fell, the lowest percent.
fn soh_finding(run: &SohRun, status: Status, device: Option<Device>, t: DateTime<Utc>) -> Finding {
    let evidence = Evidence {
        samples: run.readings,
        bad_samples: run.readings,
        value: Some(run.lowest),
        ..Evidence::default()
    };
    let end = if status == Status::Fault { run.last } else { t };
    Finding::new(
        Kind::BatterySohFalling,
        status,
        device,
        run.start,
        end,
        evidence,
    )
}
