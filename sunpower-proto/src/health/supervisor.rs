//! The supervisor's communication errors (the 120 record's `dl_comm_err` counter): a day on
//! which they rose much faster than on the supervisor's usual days.

use std::collections::VecDeque;

use chrono::{DateTime, NaiveDate, Utc};

use super::day::median;
use super::monitor::{usable, Health};
use super::{Device, Evidence, Finding, Kind, Status};
use crate::intervals::{local_date, local_day_start};

/// Supervisors followed at most (a site has one; a damaged input cannot grow the state).
const MAX_SUPERVISORS: usize = 16;

/// Usual days remembered per supervisor: the baseline is their median rate.
const HISTORY_DAYS: usize = 14;

/// A rise between two readings counts when they are at most this far apart (hours): the errors
/// of a longer silence cannot be told to a day.
const MAX_STEP_HOURS: f64 = 2.0;

/// A day is judged when its readings span at least this much of it (hours).
const MIN_DAY_HOURS: f64 = 12.0;

/// What is kept of one supervisor's counter.
#[derive(Debug, Clone)]
pub(super) struct CommState {
    serial: String,
    last: Option<(DateTime<Utc>, u64)>,
    date: Option<NaiveDate>,
    /// The day's errors and the hours its readings span.
    errors: u64,
    hours: f64,
    first: Option<DateTime<Utc>>,
    /// Errors per hour on the usual days judged.
    usual: VecDeque<f64>,
    /// The open fault: its start, and the errors and days seen in it.
    fault: Option<(DateTime<Utc>, u64, u64, u32)>,
}

impl Health {
    /// A 120 record's communication error counter.
    pub(super) fn add_comm_errors(&mut self, serial: &str, t: DateTime<Utc>, count: u64) {
        if !usable(t) {
            return;
        }
        let index = match self.supervisors.iter().position(|s| s.serial == serial) {
            Some(i) => i,
            None if self.supervisors.len() >= MAX_SUPERVISORS => return,
            None => {
                self.supervisors.push(CommState {
                    serial: serial.to_string(),
                    last: None,
                    date: None,
                    errors: 0,
                    hours: 0.0,
                    first: None,
                    usual: VecDeque::new(),
                    fault: None,
                });
                self.supervisors.len() - 1
            }
        };
        let date = local_date(t, self.tz);
        let state = &self.supervisors[index];
        // A repeated or older reading (a replayed post) says nothing new.
        if state.last.is_some_and(|(at, _)| t <= at) {
            return;
        }
        if state.date.is_some_and(|d| d != date) {
            self.judge_comm_day(index);
        }
        let state = &mut self.supervisors[index];
        state.date = Some(date);
        state.first.get_or_insert(t);
        if let Some((at, before)) = state.last {
            let hours = (t - at).num_seconds() as f64 / 3600.0;
            if hours <= MAX_STEP_HOURS {
                // A counter that went down restarted (a reboot): its value is the errors since.
                let rise = if count >= before {
                    count - before
                } else {
                    count
                };
                // Saturating: a hostile counter cannot overflow the day's sum.
                state.errors = state.errors.saturating_add(rise);
                state.hours += hours;
            }
        }
        state.last = Some((t, count));
    }

    /// Judges every supervisor's open day (the end of the input).
    pub(super) fn finish_comm_days(&mut self) {
        for index in 0..self.supervisors.len() {
            self.judge_comm_day(index);
        }
    }

    /// Judges a supervisor's day: a fault when its errors per hour were more than
    /// `comm_error_factor` times the median of its usual days and at least
    /// `comm_error_min_excess` more a day; the first usual day after it is the recovery.
    fn judge_comm_day(&mut self, index: usize) {
        let config = self.config;
        let tz = self.tz;
        let state = &mut self.supervisors[index];
        let (Some(date), Some(first), Some((last, _))) = (state.date, state.first, state.last)
        else {
            return;
        };
        let (errors, hours) = (state.errors, state.hours);
        state.errors = 0;
        state.hours = 0.0;
        state.first = None;
        state.date = None;
        if hours < MIN_DAY_HOURS {
            return;
        }
        let rate = errors as f64 / hours;
        let mut usual: Vec<f64> = state.usual.iter().copied().collect();
        let baseline = if usual.len() >= config.comm_error_baseline_days as usize {
            median(&mut usual)
        } else {
            None
        };
        let high = baseline.is_some_and(|b| {
            rate > config.comm_error_factor * b && (rate - b) * 24.0 >= config.comm_error_min_excess
        });
        let device = Some(Device {
            serial: state.serial.clone(),
            record_type: 120,
        });
        let usual_per_day = baseline.unwrap_or(0.0) * 24.0;
        if high {
            let excess =
                ((errors as f64 - usual_per_day * hours / 24.0).max(0.0) as u64).min(errors);
            match &mut state.fault {
                Some((_, all, over, days)) => {
                    *all = all.saturating_add(errors);
                    *over = over.saturating_add(excess);
                    *days = days.saturating_add(1);
                }
                None => {
                    let start = local_day_start(date, tz);
                    state.fault = Some((start, errors, excess, 1));
                    let evidence = Evidence {
                        samples: clamp(errors),
                        bad_samples: clamp(excess),
                        days: 1,
                        ..Evidence::default()
                    };
                    self.pending.push(Finding::new(
                        Kind::CommErrors,
                        Status::Fault,
                        device,
                        start,
                        last,
                        evidence,
                    ));
                }
            }
            return;
        }
        if let Some((start, all, over, days)) = state.fault.take() {
            let evidence = Evidence {
                samples: clamp(all),
                bad_samples: clamp(over),
                days,
                ..Evidence::default()
            };
            self.pending.push(Finding::new(
                Kind::CommErrors,
                Status::Recovered,
                device,
                start,
                first,
                evidence,
            ));
        }
        let state = &mut self.supervisors[index];
        state.usual.push_back(rate);
        if state.usual.len() > HISTORY_DAYS {
            state.usual.pop_front();
        }
    }
}

fn clamp(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// An open memory or flash usage fault: its start, readings and highest percent.
#[derive(Debug, Clone, Copy)]
pub(super) struct UsageRun {
    start: DateTime<Utc>,
    readings: u32,
    highest: f64,
}

impl Health {
    /// A `/vars` document's supervisor values: its memory and flash usage, at the data's latest
    /// time (the document has none of its own; before any time, nothing can be placed).
    ///
    /// ```
    /// use sunpower_proto::health::{Health, HealthConfig, Kind, Status};
    /// use sunpower_proto::{parse_line, parse_vars};
    /// let mut health = Health::new(HealthConfig::default(), chrono_tz::UTC);
    /// for (time, flash) in [("120000", "95"), ("120500", "96"), ("121000", "73")] {
    ///     health.add(&parse_line(&format!("120\t20260601{time}\tZT1\t0")).unwrap());
    ///     let vars = parse_vars(format!(r#"{{"/sys/info/flash_usage": "{flash}"}}"#)).unwrap();
    ///     health.add_supervisor_info(vars.supervisor.as_ref().unwrap());
    /// }
    /// let found = health.finish();
    /// assert_eq!((found[0].kind, found[0].status), (Kind::FlashFull, Status::Fault));
    /// assert_eq!((found[1].status, found[1].evidence.value), (Status::Recovered, Some(96.0)));
    /// ```
    #[cfg(feature = "varserver")]
    pub fn add_supervisor_info(&mut self, info: &crate::SupervisorInfo) {
        let Some(t) = self.clock else { return };
        let device = info.serial.as_ref().map(|serial| Device {
            serial: serial.clone(),
            record_type: 120,
        });
        let threshold = self.config.usage_high_pct;
        for (kind, pct) in [
            (Kind::MemoryHigh, info.ram_usage_pct),
            (Kind::FlashFull, info.flash_usage_pct),
        ] {
            let Some(pct) = pct.filter(|p| p.is_finite()) else {
                continue;
            };
            let run = match kind {
                Kind::MemoryHigh => &mut self.memory_run,
                _ => &mut self.flash_run,
            };
            match (pct >= threshold, run.as_mut()) {
                (true, Some(open)) => {
                    open.readings = open.readings.saturating_add(1);
                    open.highest = open.highest.max(pct);
                }
                (true, None) => {
                    *run = Some(UsageRun {
                        start: t,
                        readings: 1,
                        highest: pct,
                    });
                    let evidence = Evidence {
                        samples: 1,
                        bad_samples: 1,
                        value: Some(pct),
                        ..Evidence::default()
                    };
                    let finding = Finding::new(kind, Status::Fault, device.clone(), t, t, evidence);
                    self.pending.push(finding);
                }
                (false, Some(_)) => {
                    if let Some(open) = run.take() {
                        let evidence = Evidence {
                            samples: open.readings,
                            bad_samples: open.readings,
                            value: Some(open.highest),
                            ..Evidence::default()
                        };
                        let finding = Finding::new(
                            kind,
                            Status::Recovered,
                            device.clone(),
                            open.start,
                            t,
                            evidence,
                        );
                        self.pending.push(finding);
                    }
                }
                (false, None) => {}
            }
        }
    }
}
