//! Health findings: is every panel working? Faults found in the records and the intervals'
//! events, each with its device, period, severity and evidence, and a recovery when it ends.
//!
//! [`Health`] is a sans-I/O state machine like the interval accumulator: feed it records
//! ([`Health::add`]; inverter readings, and every record's time as a sign that the supervisor
//! reported), the interval stage's events ([`Health::add_event`]) and a local time zone for
//! days; collect [`Finding`]s as days complete ([`Health::take_findings`]) and at the end
//! ([`Health::finish`]). It reads no clock: "now" is the latest time in the data.
//!
//! ```
//! use chrono::{TimeDelta, TimeZone, Utc};
//! use sunpower_proto::health::{Health, HealthConfig, InverterReading, Kind, Status};
//!
//! let mut health = Health::new(HealthConfig::default(), chrono_tz::UTC);
//! let noon = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
//! // Four inverters, a sunny day; INV3 reports zero all day while the others produce.
//! for step in 0..48 {
//!     let t = noon - TimeDelta::hours(2) + TimeDelta::minutes(5 * step);
//!     for (serial, kw) in [("INV0", 0.3), ("INV1", 0.3), ("INV2", 0.29), ("INV3", 0.0)] {
//!         health.add_reading(&InverterReading::new(serial, t, Some(kw), None));
//!     }
//! }
//! let findings = health.finish();
//! assert_eq!(findings.len(), 1);
//! assert_eq!((findings[0].kind, findings[0].status), (Kind::ReportingZero, Status::Fault));
//! assert_eq!(findings[0].device_name(), "INV3");
//! assert_eq!(findings[0].evidence.samples, 48);
//! ```
//!
//! # Rules
//!
//! **Samples.** Readings are grouped in slots ([`HealthConfig::slot`], 5 minutes): a slot is a
//! *daylight sample* when at least [`HealthConfig::min_peers`] inverters reported a power there
//! and their median is above [`HealthConfig::floor_kw`]. Night, cloud and season lower every
//! panel together, so only the comparison with the median at the same time matters.
//!
//! **Underperforming.** A panel's daylight sample counts when it produced (above
//! [`HealthConfig::zero_kw`]; a panel at zero is dead, not weak). A local day is bad when at least
//! [`HealthConfig::min_day_samples`] counted and more than [`HealthConfig::bad_fraction`] of them
//! were under [`HealthConfig::ratio`] × the median; [`HealthConfig::bad_days`] bad days in a row
//! are a fault (from the first bad day's local midnight); a good day is the recovery. Days with
//! too few samples neither count nor break the run.
//!
//! **Not reporting, reporting zero.** A daylight sample in which an inverter sent nothing, or a
//! power at or under [`HealthConfig::zero_kw`], is dead; a run of dead daylight samples (nights in
//! between count neither way) is a fault once it covers a whole local day's daylight (at least
//! [`HealthConfig::min_day_samples`] samples), or [`HealthConfig::dead_samples`] samples when set.
//! The fault is `not_reporting` when most of its samples were missing, `reporting_zero`
//! otherwise; the first daylight sample with production is the recovery.
//!
//! **Stale.** An inverter whose reading repeats a measurement time not newer than its last one,
//! while the data's latest time is [`HealthConfig::stale_after`] past it, for at least
//! [`HealthConfig::stale_repeats`] readings, is stale (a replayed post repeats once and is not);
//! a newer measurement time is the recovery.
//!
//! **Gaps.** Minutes in which some record was stamped are kept per day; a silence longer than
//! [`HealthConfig::gap_min`] between two of them, and longer than twice the data's usual spacing
//! (a source polled hourly is not silent between polls), is a gap (never zero production),
//! reported with its recovery when the data resumes, once the data had run without a gap for at
//! least as long before it (two snapshots days apart are not a silent supervisor). Silence after
//! the last data is not known to be a gap.
//!
//! **Counter problems.** The interval stage's [`Event::CounterReset`] and [`Event::CounterGlitch`]
//! are gathered per device and local day into one finding each (no recovery: the counter was
//! followed again at once).
//!
//! **Communication errors.** The 120 record's `dl_comm_err` counter climbs steadily on a healthy
//! system. Its rises per local day (between readings at most two hours apart; a counter that
//! went down restarted, its value the errors since) are compared, as errors per hour, with the
//! median of the supervisor's last 14 usual days: a day covering at least 12 hours, with at
//! least [`HealthConfig::comm_error_baseline_days`] usual days before it, more than
//! [`HealthConfig::comm_error_factor`] times their rate and at least
//! [`HealthConfig::comm_error_min_excess`] errors a day above it, is a `comm_errors` fault
//! (from its local midnight); high days do not enter the baseline; the first usual day after
//! them is the recovery.
//!
//! **Memory and flash usage.** A `/vars` document's `/sys/info/ram_usage` or `flash_usage` at or
//! over [`HealthConfig::usage_high_pct`] is a `memory_high` or `flash_full` fault (at the data's
//! latest time: the document has no time of its own), the first reading under it the recovery.
//!
//! **Memory.** Readings are held per local day until the data's latest time is
//! [`HealthConfig::day_lateness`] past the day's end; then the day is judged and dropped, and
//! later readings for it are counted ([`Health::late_readings`]) and ignored. Each device keeps
//! only its running state.
//!
//! [`Event::CounterReset`]: crate::intervals::Event::CounterReset
//! [`Event::CounterGlitch`]: crate::intervals::Event::CounterGlitch

mod counters;
mod day;
mod dead;
mod finding;
mod gaps;
mod monitor;
mod stages;
mod stale;
mod supervisor;
mod underperforming;

use chrono::{DateTime, TimeDelta, Utc};

// The report's heat map and panel energy use the same median and date limits.
#[cfg(feature = "report")]
pub(crate) use day::median as median_of;
pub use finding::{Device, Evidence, Finding, Kind, Severity, Status};
#[cfg(feature = "report")]
pub(crate) use monitor::usable as usable_time;
pub use monitor::Health;
pub use stages::{worst_first, HealthStages};

use crate::Record;

/// The thresholds of the health rules, each with its published default.
///
/// ```
/// use chrono::TimeDelta;
/// use sunpower_proto::health::HealthConfig;
/// let config = HealthConfig::default();
/// assert_eq!((config.floor_kw, config.ratio, config.bad_fraction), (0.03, 0.4, 0.7));
/// assert_eq!((config.min_day_samples, config.bad_days), (8, 3));
/// assert_eq!(config.gap_min, TimeDelta::minutes(30));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct HealthConfig {
    /// A slot counts only when the array's median power is above this, kW. Default 0.03.
    pub floor_kw: f64,
    /// A panel under this fraction of the median is low in that sample. Default 0.4.
    pub ratio: f64,
    /// A day is bad when more than this fraction of its counted samples were low. Default 0.7.
    pub bad_fraction: f64,
    /// Samples a day needs to be judged. Default 8.
    pub min_day_samples: u32,
    /// Bad days in a row that make an underperforming panel. Default 3.
    pub bad_days: u32,
    /// Inverters that must report a power in a slot for it to be compared. Default 3.
    pub min_peers: u32,
    /// A power at or under this is "zero", kW. Default 0.001.
    pub zero_kw: f64,
    /// Dead daylight samples in a row that make a dead inverter; `None` (the default): a whole
    /// local day's daylight.
    pub dead_samples: Option<u32>,
    /// How far the data's time must be past a device's frozen measurement time. Default 30 min.
    pub stale_after: TimeDelta,
    /// Repeated readings that make a stale device. Default 3.
    pub stale_repeats: u32,
    /// The shortest silence reported as a gap (and at least twice the data's usual spacing).
    /// Default 30 minutes.
    pub gap_min: TimeDelta,
    /// The slot readings are grouped in. Default 5 minutes.
    pub slot: TimeDelta,
    /// How long after a local day's end (in the data's time) it is judged. Default 1 day.
    pub day_lateness: TimeDelta,
    /// A supervisor's day of communication errors is high when its rate is more than this
    /// many times the median of its usual days. Default 3.
    pub comm_error_factor: f64,
    /// ... and at least this many errors a day above it. Default 48.
    pub comm_error_min_excess: f64,
    /// Usual days a supervisor needs before its rate is judged. Default 3.
    pub comm_error_baseline_days: u32,
    /// The supervisor's memory or flash usage at or over this percent is high. Default 90.
    pub usage_high_pct: f64,
}

impl Default for HealthConfig {
    fn default() -> Self {
        HealthConfig {
            floor_kw: 0.03,
            ratio: 0.4,
            bad_fraction: 0.7,
            min_day_samples: 8,
            bad_days: 3,
            min_peers: 3,
            zero_kw: 0.001,
            dead_samples: None,
            stale_after: TimeDelta::minutes(30),
            stale_repeats: 3,
            gap_min: TimeDelta::minutes(30),
            slot: TimeDelta::minutes(5),
            day_lateness: TimeDelta::days(1),
            comm_error_factor: 3.0,
            comm_error_min_excess: 48.0,
            comm_error_baseline_days: 3,
            usage_high_pct: 90.0,
        }
    }
}

impl HealthConfig {
    /// Sets how many dead daylight samples in a row make a dead inverter (instead of a day's
    /// daylight): with 5-minute reports, 36 samples are three hours of daylight.
    ///
    /// ```
    /// use sunpower_proto::health::HealthConfig;
    /// assert_eq!(HealthConfig::default().with_dead_samples(36).dead_samples, Some(36));
    /// ```
    pub fn with_dead_samples(mut self, samples: u32) -> Self {
        self.dead_samples = Some(samples);
        self
    }
}

/// One inverter reading as the health stage needs it.
///
/// ```
/// use sunpower_proto::parse_line;
/// use sunpower_proto::health::InverterReading;
/// let record = parse_line("130\t20260601170000\tINV1\tAC_Module_Type_C\t\t100.000\t0.3").unwrap();
/// let reading = InverterReading::from_record(&record).unwrap();
/// assert_eq!((reading.serial, reading.ac_power_kw), ("INV1", Some(0.3)));
/// assert_eq!(reading.lifetime_energy_kwh, Some(100.0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InverterReading<'a> {
    /// The inverter's serial.
    pub serial: &'a str,
    /// Its own measurement time (the 130 line's timestamp).
    pub measured_at: DateTime<Utc>,
    /// AC power, kW.
    pub ac_power_kw: Option<f64>,
    /// Lifetime AC energy, kWh: gives the power when a source has none.
    pub lifetime_energy_kwh: Option<f64>,
}

impl<'a> InverterReading<'a> {
    /// A reading from its parts.
    ///
    /// ```
    /// use chrono::{DateTime, Utc};
    /// use sunpower_proto::health::InverterReading;
    /// let r = InverterReading::new("INV1", DateTime::<Utc>::UNIX_EPOCH, Some(0.2), None);
    /// assert_eq!(r.ac_power_kw, Some(0.2));
    /// ```
    pub fn new(
        serial: &'a str,
        measured_at: DateTime<Utc>,
        ac_power_kw: Option<f64>,
        lifetime_energy_kwh: Option<f64>,
    ) -> Self {
        InverterReading {
            serial,
            measured_at,
            ac_power_kw,
            lifetime_energy_kwh,
        }
    }

    /// The reading of a 130 record; `None` for other records.
    ///
    /// ```
    /// use sunpower_proto::parse_line;
    /// use sunpower_proto::health::InverterReading;
    /// assert!(InverterReading::from_record(&parse_line("102\tx").unwrap()).is_none());
    /// ```
    pub fn from_record(record: &Record<'a>) -> Option<Self> {
        match record {
            Record::Inverter(inv) => Some(InverterReading::new(
                inv.serial,
                inv.timestamp,
                inv.ac_power_kw,
                inv.lifetime_energy_kwh,
            )),
            _ => None,
        }
    }
}
