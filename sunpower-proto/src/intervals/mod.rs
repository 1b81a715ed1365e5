//! Interval energy: production, consumption and net per interval, from records fed in any order.
//!
//! [`IntervalAccumulator`] is a sans-I/O state machine. Feed it records with
//! [`IntervalAccumulator::add`] (in any order, replays and duplicates included), tell it the
//! capture time with [`IntervalAccumulator::advance_to`] when streaming, and collect
//! [`Interval`] rows; [`IntervalAccumulator::finish`] hands out everything still held when the
//! input ends. [`totals`] groups rows into local days, months and years.
//!
//! ```
//! use sunpower_proto::parse_line;
//! use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
//!
//! let mut acc = IntervalAccumulator::new(IntervalConfig::default());
//! for line in [
//!     "130\t20260601170000\tINV1\tAC_Module_Type_C\t\t100.000\t0.3",
//!     "130\t20260601170500\tINV1\tAC_Module_Type_C\t\t100.025\t0.3",
//! ] {
//!     acc.add(&parse_line(line).unwrap());
//! }
//! let rows = acc.finish();
//! assert_eq!(rows.len(), 2);
//! assert_eq!(rows[1].production_wh, 25.0);
//! assert_eq!(rows[1].production_w, 300.0);
//! ```
//!
//! # Policies
//!
//! **Keys and duplicates.** Records are keyed by (type, serial, timestamp). A second record with
//! the same key and the same line is an exact duplicate: counted in [`Stats::duplicates`] and
//! ignored. One with a different line is a conflict: the first is kept and
//! [`Event::DuplicateConflict`] names the key. Only 130 lines and 140 lines of consumption meters
//! (serial ending in `c`) carry energy; every other record is counted as ignored.
//!
//! **Cadence.** The interval length is the records' own cadence. Each gap between consecutive
//! distinct timestamps of the same inverter votes for a cadence: the gap rounded to whole
//! minutes, then the longest length dividing a day (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 minutes;
//! 1, 2, 3, 4, 6, 12, 24 hours) that divides it, so a 10-minute gap (one missed report) votes for
//! 10 minutes and a 35-minute one for 5; gaps under 30 s or over a day do not vote. The most
//! voted cadence wins (ties: the shorter). Without two reports of any inverter, consumption
//! meters vote; without either, 300 s. [`IntervalConfig::with_cadence`] fixes it instead, which
//! a live pipeline should do when it knows the system: in streaming mode rows emitted before
//! the records showed their cadence keep the provisional one. An interval starts on a multiple
//! of the cadence since the Unix epoch, so a record stamped 17:10:00 (or 17:10:03) with a
//! 5-minute cadence belongs to [17:10, 17:15).
//!
//! **Production.** The 130 timestamp is the start of the interval the line summarizes, so the
//! increase of an inverter's lifetime counter since its previous report is attributed to the
//! interval of the later report. A missed report therefore puts the whole increase in the
//! interval of the next report (flagged [`Flag::MissedReport`] when energy was carried across the
//! gap): never lost, never counted twice. The time of a `/vars` device (`msmtEps`), of a DeviceList
//! device and of the site totals is when their counters were read, the end of what they measured
//! (evidence in docs/protocol-local-api.md): the step between readings at t1 and t2 is attributed
//! to the interval that ends at t2 (a reading at 15:10:00 ends the interval [15:05, 15:10)). An inverter's first report has no previous counter and
//! gives no energy ([`Flag::FirstReport`]). A counter that goes down, or rises faster than the
//! system can (four times the highest power its series has shown, at least 20 kW; 1 MW while
//! no power was seen), is a reset: nothing is counted for that step, counting resumes from the new
//! value, and [`Event::CounterReset`] reports it ([`Flag::CounterReset`]). Inverters that are
//! silent at night are not reset: their next morning report continues from the last counter.
//!
//! **Jitter and glitches.** A counter that only rises (inverters, `pv_en`) and goes down by
//! at most [`JITTER_KWH`] (or [`JITTER_RELATIVE`] of its value, whichever is more) is jitter:
//! its last value is held (the next step counts from the highest recent value, not the dip), so
//! nothing is counted twice ([`Flag::CounterJitter`], no event). A reading out of line with the
//! one before (a 0, a wild jump, a step up the counter then falls back from) whose next reading
//! is back in line with the one before is a glitch: it counts
//! nothing and the step after it counts from the reading before it ([`Flag::CounterGlitch`],
//! [`Event::CounterGlitch`]). Until that next reading arrives (streaming) it looks like a reset;
//! the row is revised when the counter resumes. Only a drop that the counter stays below is a
//! reset. A first reading of 0 that the next cannot follow is an unread counter, not a start.
//! Meters' net counters may go down: only implausible jumps are glitches or resets.
//!
//! **Times.** A record dated before 2000 (an unset clock, `time` 0) is not used
//! ([`Added::ImplausibleTime`]). Offline, a record more than a day ahead of the others (or of
//! the capture clock) moves the horizon only once another record near it confirms it; one that
//! stays alone and is further than the horizon from the others is taken out at
//! [`IntervalAccumulator::finish`]. Both are counted in [`Stats::implausible_times`] and
//! reported by [`Event::ImplausibleTime`].
//!
//! **Site totals.** [`IntervalAccumulator::add_site_totals`] takes the supervisor's running
//! totals (varserver `/sys/livedata`, telemetry frames, any rate: each reading's step is
//! counted once). Production comes from `pv_en` only when no inverter is followed (or the
//! inverters of the interval share serials, see below): [`Flag::ProductionFromSiteTotals`]; net
//! from `net_en` only without a consumption meter: [`Flag::NetFromSiteTotals`]. Battery energy
//! per interval (positive: discharged into the house) comes from the batteries' own counters
//! where a `/vars` document reports them ([`IntervalAccumulator::add_battery`]: discharged
//! `posLtea3phsumKwh` minus charged `negLtea3phsumKwh`, summed over the batteries), otherwise
//! from the change of `ess_en`; the state of charge is the batteries' last `socVal` of the
//! interval (their mean), otherwise the last `soc`, in percent (0 to 100). Consumption = production + net + battery.
//!
//! **Shared serials.** Redacted dumps give many devices one serial; their counters cannot be
//! followed from one document to the next. [`IntervalAccumulator::add_vars`] does not use them
//! ([`Flag::SerialCollision`], one [`Event::SerialCollision`] per serial).
//!
//! **Net.** Net energy (import positive) comes from consumption meters. The lifetime counter is
//! used when its resolution, read from the number of decimals sent, is at most 1 Wh per minute
//! of interval (3 decimals for 5 minutes, 2 for an hour): [`NetSource::Counter`]. Otherwise, or
//! for the first report, or after a meter reset, the interval uses the meter's mean real power
//! times the interval length: [`NetSource::Power`] and [`Flag::NetFromPower`]. The counter's sign
//! convention changed with a 2017 firmware, while the power sign is reliable (positive =
//! import); so each meter's counter is oriented by the sign of the correlation between its steps
//! and its power. Without a meter report the net is unknown ([`NetSource::None`], with
//! [`Flag::NoMeter`] when no consumption meter was ever seen, [`Flag::MeterMissing`] otherwise).
//!
//! **Consumption** = production + net (+ battery), and only when every term was measured or
//! estimated: an interval where an inverter's step is unknown (its first report, a reset, a
//! report without counter: counted as 0) has no consumption, nor has one where a site counter
//! had its first reading while another term came from a device. It is clamped at 0 ([`Flag::ConsumptionClamped`] and
//! [`Event::ConsumptionClamped`]). Mean powers are energies divided by the interval length.
//!
//! **Offline mode** ([`Mode::Offline`]): nothing is emitted before
//! [`IntervalAccumulator::finish`], which returns every interval in start order.
//!
//! **Streaming mode** ([`Mode::Streaming`]): [`IntervalAccumulator::advance_to`] takes the
//! capture time and returns the intervals that became ready. An interval is ready when it is
//! complete (every inverter and consumption meter that reported in the day before it has
//! reported for it) or when the capture time has passed its end by the configured lateness.
//! A record that arrives later and changes an interval already emitted (a replay filling a
//! missed report, a meter line in a later post) produces the interval again with
//! `revised: true` and [`Flag::Revised`].
//!
//! **Memory.** Readings are kept for a horizon (7 days by default) behind the latest record
//! (offline; no more than a day ahead of the capture clock when
//! [`advance_to`](IntervalAccumulator::advance_to) gives one) or the capture clock (streaming);
//! older readings are folded into each device's last
//! counter, intervals older than the horizon that were not emitted yet are emitted, and records
//! older than the horizon are refused with [`Event::BeyondHorizon`]. Pending events are capped.
//! Site totals finer than the interval (telemetry, one a second) are folded as they come: a
//! reading between two others of the same interval is dropped when every counter steps plainly
//! across it, so two readings an interval are kept and the energy stays the counters' exact
//! difference. The fold's bucket is the interval when nothing else sets the cadence: a fixed
//! cadence, or the default one that the fine readings themselves decide when no device votes
//! (telemetry alone); while devices vote, it is a minute (every inferred cadence is a multiple
//! of it), two readings a minute. Should devices fed later vote for a cadence that 5 minutes
//! does not divide, the energy folded in a 5-minute bucket counts in the interval of its last
//! reading (the total stays exact). A copy of a reading already folded is then counted
//! as stored, not as a duplicate (its step is in line: nothing is counted twice). A telemetry
//! stream read offline therefore holds two readings per interval of its horizon
//! ([`IntervalConfig::telemetry`]: 35 days, a few MiB), whatever its length.

mod accumulator;
mod local;
mod output;

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};

pub use accumulator::{Added, IntervalAccumulator, Stats, JITTER_KWH, JITTER_RELATIVE};
/// The IANA time zone type used for local days (re-exported from `chrono-tz`).
pub use chrono_tz::Tz;
pub use local::{latest, local_date, local_day_start, totals, Period, PeriodTotal};

/// Whether intervals are emitted only at the end or as soon as they are ready.
///
/// ```
/// use sunpower_proto::intervals::{IntervalConfig, Mode};
/// assert_eq!(IntervalConfig::default().mode, Mode::Offline);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every interval at [`IntervalAccumulator::finish`].
    Offline,
    /// Intervals from [`IntervalAccumulator::advance_to`] once complete or late; revisions after.
    Streaming,
}

/// How an [`IntervalAccumulator`] works: mode, lateness, horizon, cadence.
///
/// ```
/// use chrono::TimeDelta;
/// use sunpower_proto::intervals::{IntervalConfig, Mode};
/// let config = IntervalConfig::streaming().with_lateness(TimeDelta::minutes(30));
/// assert_eq!(config.mode, Mode::Streaming);
/// assert_eq!(config.horizon, TimeDelta::days(7));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct IntervalConfig {
    /// Offline or streaming.
    pub mode: Mode,
    /// Streaming: how long after an interval's end (in capture time) it is emitted even if
    /// incomplete. Default 15 minutes.
    pub lateness: TimeDelta,
    /// How far back readings are kept for late records and revisions. Default 7 days.
    pub horizon: TimeDelta,
    /// A fixed interval length instead of the inferred cadence.
    pub cadence: Option<TimeDelta>,
}

impl Default for IntervalConfig {
    fn default() -> Self {
        IntervalConfig {
            mode: Mode::Offline,
            lateness: TimeDelta::minutes(15),
            horizon: TimeDelta::days(7),
            cadence: None,
        }
    }
}

impl IntervalConfig {
    /// Streaming mode with the default lateness and horizon.
    ///
    /// ```
    /// use sunpower_proto::intervals::{IntervalConfig, Mode};
    /// assert_eq!(IntervalConfig::streaming().mode, Mode::Streaming);
    /// ```
    pub fn streaming() -> Self {
        IntervalConfig {
            mode: Mode::Streaming,
            ..IntervalConfig::default()
        }
    }

    /// The preset for captures read offline, which give the accumulator a clock
    /// ([`IntervalAccumulator::advance_to`] with each post's capture time): readings are kept
    /// 35 days behind that clock (a supervisor's backlog after weeks offline still counts), and
    /// intervals that fall out of it are final at once, so memory stays at 35 days of readings
    /// whatever the capture's length. A record dated far ahead of the clock cannot move the
    /// horizon.
    ///
    /// The presets are the one policy every front end uses (the `sunpower` command, the Python
    /// package), so that the same input gives the same intervals in each.
    ///
    /// ```
    /// use chrono::TimeDelta;
    /// use sunpower_proto::intervals::{IntervalConfig, Mode};
    /// let config = IntervalConfig::captures();
    /// assert_eq!((config.mode, config.horizon), (Mode::Offline, TimeDelta::days(35)));
    /// ```
    pub fn captures() -> Self {
        IntervalConfig::default().with_horizon(TimeDelta::days(35))
    }

    /// The preset for telemetry saved to a file (a stream read offline, in its order, without
    /// a capture clock): readings are kept 35 days behind the latest frame that another
    /// confirms, and intervals that fall out of that horizon are final at once
    /// ([`IntervalAccumulator::drain_ready`] hands them out), so that with the per-second
    /// readings folded to two an interval memory stays at 35 days of intervals whatever the
    /// stream's length. A frame dated far ahead of the others that no other confirms cannot
    /// move the horizon. The horizon of [`captures`](Self::captures): a stream that stalled
    /// for weeks still counts.
    ///
    /// `sunpower intervals`, `health` and `report` read a telemetry file with it. Python's
    /// `Intervals` cannot tell a stream's site totals from a `/vars` document's, so offline it
    /// keeps [`documents`](Self::documents): the same intervals, each held to the end.
    ///
    /// ```
    /// use chrono::TimeDelta;
    /// use sunpower_proto::intervals::{IntervalConfig, Mode};
    /// let config = IntervalConfig::telemetry();
    /// assert_eq!((config.mode, config.horizon), (Mode::Offline, TimeDelta::days(35)));
    /// ```
    pub fn telemetry() -> Self {
        IntervalConfig::default().with_horizon(TimeDelta::days(35))
    }

    /// The preset for bodies and documents (POST bodies, DeviceList, `/vars`), and for any
    /// records fed without a clock: every interval is kept to the end,
    /// with a horizon wide enough (200 years) that records given in any order all count and
    /// one far-future timestamp cannot push the real ones out.
    ///
    /// ```
    /// use chrono::TimeDelta;
    /// use sunpower_proto::intervals::{IntervalConfig, Mode};
    /// let config = IntervalConfig::documents();
    /// assert_eq!((config.mode, config.horizon), (Mode::Offline, TimeDelta::days(365 * 200)));
    /// ```
    pub fn documents() -> Self {
        IntervalConfig::default().with_horizon(TimeDelta::days(365 * 200))
    }

    /// The preset for live input (a capture or telemetry on standard input): streaming, each
    /// interval emitted once complete or `lateness` after its end, readings kept 7 days.
    ///
    /// ```
    /// use chrono::TimeDelta;
    /// use sunpower_proto::intervals::{IntervalConfig, Mode};
    /// let config = IntervalConfig::live(TimeDelta::minutes(15));
    /// assert_eq!((config.mode, config.lateness), (Mode::Streaming, TimeDelta::minutes(15)));
    /// ```
    pub fn live(lateness: TimeDelta) -> Self {
        IntervalConfig::streaming().with_lateness(lateness)
    }

    /// Sets the lateness after which an incomplete interval is emitted (streaming).
    ///
    /// ```
    /// use chrono::TimeDelta;
    /// use sunpower_proto::intervals::IntervalConfig;
    /// let config = IntervalConfig::streaming().with_lateness(TimeDelta::minutes(5));
    /// assert_eq!(config.lateness, TimeDelta::minutes(5));
    /// ```
    pub fn with_lateness(mut self, lateness: TimeDelta) -> Self {
        self.lateness = lateness;
        self
    }

    /// Sets how long readings are kept for late records and revisions.
    ///
    /// ```
    /// use chrono::TimeDelta;
    /// use sunpower_proto::intervals::IntervalConfig;
    /// assert_eq!(IntervalConfig::default().with_horizon(TimeDelta::days(2)).horizon, TimeDelta::days(2));
    /// ```
    pub fn with_horizon(mut self, horizon: TimeDelta) -> Self {
        self.horizon = horizon;
        self
    }

    /// Fixes the interval length instead of inferring it (at least one second).
    ///
    /// ```
    /// use chrono::TimeDelta;
    /// use sunpower_proto::intervals::IntervalConfig;
    /// let config = IntervalConfig::default().with_cadence(TimeDelta::minutes(15));
    /// assert_eq!(config.cadence, Some(TimeDelta::minutes(15)));
    /// ```
    pub fn with_cadence(mut self, cadence: TimeDelta) -> Self {
        self.cadence = Some(cadence);
        self
    }
}

/// Where an interval's net energy came from.
///
/// ```
/// use sunpower_proto::intervals::NetSource;
/// assert_eq!(NetSource::from_name(NetSource::Counter.as_str()), Some(NetSource::Counter));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetSource {
    /// Differences of the meter's lifetime counter.
    Counter,
    /// The meter's mean real power times the interval length (at least in part).
    Power,
    /// No consumption meter report for this interval: net and consumption unknown.
    None,
}

impl NetSource {
    /// `"counter"`, `"power"` or `"none"`.
    ///
    /// ```
    /// assert_eq!(sunpower_proto::intervals::NetSource::Power.as_str(), "power");
    /// ```
    pub fn as_str(&self) -> &'static str {
        match self {
            NetSource::Counter => "counter",
            NetSource::Power => "power",
            NetSource::None => "none",
        }
    }

    /// The source named by [`NetSource::as_str`].
    ///
    /// ```
    /// use sunpower_proto::intervals::NetSource;
    /// assert_eq!(NetSource::from_name("power"), Some(NetSource::Power));
    /// assert_eq!(NetSource::from_name("Power"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<NetSource> {
        match name {
            "counter" => Some(NetSource::Counter),
            "power" => Some(NetSource::Power),
            "none" => Some(NetSource::None),
            _ => None,
        }
    }
}

/// Something noteworthy about an interval.
///
/// ```
/// use sunpower_proto::intervals::Flag;
/// assert_eq!(Flag::from_name("meter_missing"), Some(Flag::MeterMissing));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Flag {
    /// Energy of a missed report was carried into this interval.
    MissedReport,
    /// A counter went down (or jumped implausibly): that step counted nothing.
    CounterReset,
    /// An inverter's first report: its energy for this interval is unknown and counted as 0, so
    /// the interval has no consumption.
    FirstReport,
    /// Production + net was negative and consumption was clamped to 0.
    ConsumptionClamped,
    /// No consumption meter was ever seen.
    NoMeter,
    /// A consumption meter exists but did not report for this interval.
    MeterMissing,
    /// Net energy came (at least in part) from mean power.
    NetFromPower,
    /// This row replaces one emitted before.
    Revised,
    /// A lifetime counter dipped by no more than the jitter tolerance: its last value was held
    /// and nothing counted for that step.
    CounterJitter,
    /// A counter read out of line (0, say) for one report and then resumed: that reading was
    /// skipped, and the step after it counted from the reading before it.
    CounterGlitch,
    /// Devices sharing one serial (redacted dumps) reported in this interval: their counters
    /// cannot be followed per device, so they were not used.
    SerialCollision,
    /// Production came from the site totals (`pv_en`), not from inverter counters.
    ProductionFromSiteTotals,
    /// Net energy came from the site totals (`net_en`), not from a consumption meter.
    NetFromSiteTotals,
    /// A consumption meter reported whose role (net or load) nothing its source said has told
    /// yet: it was taken as net.
    MeterRoleUnknown,
}

const ALL_FLAGS: [Flag; 14] = [
    Flag::MissedReport,
    Flag::CounterReset,
    Flag::FirstReport,
    Flag::ConsumptionClamped,
    Flag::NoMeter,
    Flag::MeterMissing,
    Flag::NetFromPower,
    Flag::Revised,
    Flag::CounterJitter,
    Flag::CounterGlitch,
    Flag::SerialCollision,
    Flag::ProductionFromSiteTotals,
    Flag::NetFromSiteTotals,
    Flag::MeterRoleUnknown,
];

impl Flag {
    /// The snake-case name used in CSV and JSON: `missed_report`, `counter_reset`, ...
    ///
    /// ```
    /// assert_eq!(sunpower_proto::intervals::Flag::ConsumptionClamped.as_str(), "consumption_clamped");
    /// ```
    pub fn as_str(&self) -> &'static str {
        match self {
            Flag::MissedReport => "missed_report",
            Flag::CounterReset => "counter_reset",
            Flag::FirstReport => "first_report",
            Flag::ConsumptionClamped => "consumption_clamped",
            Flag::NoMeter => "no_meter",
            Flag::MeterMissing => "meter_missing",
            Flag::NetFromPower => "net_from_power",
            Flag::Revised => "revised",
            Flag::CounterJitter => "counter_jitter",
            Flag::CounterGlitch => "counter_glitch",
            Flag::SerialCollision => "serial_collision",
            Flag::ProductionFromSiteTotals => "production_from_site_totals",
            Flag::NetFromSiteTotals => "net_from_site_totals",
            Flag::MeterRoleUnknown => "meter_role_unknown",
        }
    }

    /// The flag named by [`Flag::as_str`].
    ///
    /// ```
    /// use sunpower_proto::intervals::Flag;
    /// assert_eq!(Flag::from_name("counter_reset"), Some(Flag::CounterReset));
    /// assert_eq!(Flag::from_name("no such flag"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Flag> {
        ALL_FLAGS.into_iter().find(|f| f.as_str() == name)
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A set of [`Flag`]s; displays as names joined by `|` (empty when none).
///
/// ```
/// use sunpower_proto::intervals::{Flag, Flags};
/// let mut flags = Flags::empty();
/// flags.insert(Flag::NoMeter);
/// flags.insert(Flag::FirstReport);
/// assert!(flags.contains(Flag::NoMeter));
/// assert_eq!(flags.to_string(), "first_report|no_meter");
/// assert_eq!(Flags::parse("first_report|no_meter"), Some(flags));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags(u16);

impl Flags {
    /// No flag.
    ///
    /// ```
    /// use sunpower_proto::intervals::Flags;
    /// assert!(Flags::empty().is_empty());
    /// assert_eq!(Flags::empty().to_string(), "");
    /// ```
    pub fn empty() -> Flags {
        Flags(0)
    }

    /// Adds a flag.
    ///
    /// ```
    /// use sunpower_proto::intervals::{Flag, Flags};
    /// let mut flags = Flags::empty();
    /// flags.insert(Flag::Revised);
    /// flags.insert(Flag::Revised);
    /// assert_eq!(flags.iter().count(), 1);
    /// ```
    pub fn insert(&mut self, flag: Flag) {
        self.0 |= flag.bit();
    }

    /// Removes a flag.
    ///
    /// ```
    /// use sunpower_proto::intervals::{Flag, Flags};
    /// let mut flags = Flags::parse("revised|no_meter").unwrap();
    /// flags.remove(Flag::Revised);
    /// assert_eq!(flags.to_string(), "no_meter");
    /// ```
    pub fn remove(&mut self, flag: Flag) {
        self.0 &= !flag.bit();
    }

    /// Whether `flag` is set.
    ///
    /// ```
    /// use sunpower_proto::intervals::{Flag, Flags};
    /// let flags = Flags::parse("first_report").unwrap();
    /// assert!(flags.contains(Flag::FirstReport) && !flags.contains(Flag::NoMeter));
    /// ```
    pub fn contains(&self, flag: Flag) -> bool {
        self.0 & flag.bit() != 0
    }

    /// Whether no flag is set.
    ///
    /// ```
    /// use sunpower_proto::intervals::Flags;
    /// assert!(Flags::parse("").unwrap().is_empty());
    /// assert!(!Flags::parse("no_meter").unwrap().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    /// The flags of both sets.
    ///
    /// ```
    /// use sunpower_proto::intervals::Flags;
    /// let a = Flags::parse("no_meter").unwrap();
    /// let b = Flags::parse("first_report").unwrap();
    /// assert_eq!(a.union(b).to_string(), "first_report|no_meter");
    /// ```
    pub fn union(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }

    /// The flags set, in a fixed order.
    ///
    /// ```
    /// use sunpower_proto::intervals::{Flag, Flags};
    /// let flags = Flags::parse("no_meter|missed_report").unwrap();
    /// assert_eq!(flags.iter().collect::<Vec<_>>(), [Flag::MissedReport, Flag::NoMeter]);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = Flag> + '_ {
        ALL_FLAGS.into_iter().filter(|f| self.contains(*f))
    }

    /// Parses names joined by `|` (empty: no flag); `None` for an unknown name.
    ///
    /// ```
    /// use sunpower_proto::intervals::{Flag, Flags};
    /// assert!(Flags::parse("counter_reset|revised").unwrap().contains(Flag::Revised));
    /// assert_eq!(Flags::parse("counter_reset|bogus"), None);
    /// ```
    pub fn parse(text: &str) -> Option<Flags> {
        let mut flags = Flags::empty();
        for name in text.split('|').filter(|n| !n.is_empty()) {
            flags.insert(Flag::from_name(name)?);
        }
        Some(flags)
    }
}

impl fmt::Display for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, flag) in self.iter().enumerate() {
            if i > 0 {
                f.write_str("|")?;
            }
            f.write_str(flag.as_str())?;
        }
        Ok(())
    }
}

/// One interval's energy: a row of the `sunpower intervals` output.
///
/// Energies in Wh and mean powers in W, rounded to 1 mWh / 1 mW. `net_wh` is positive for import.
/// `consumption_wh`, `net_wh` and `consumption_w` are `None` when no consumption meter (nor site
/// totals) reported for the interval; `consumption_wh` and `consumption_w` also when a term of
/// it was not measured (an inverter's first report or counter reset). With a battery, consumption = production + net + battery.
///
/// ```
/// use sunpower_proto::parse_line;
/// use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
/// let mut acc = IntervalAccumulator::new(IntervalConfig::default());
/// acc.add(&parse_line("130\t20260601170000\tINV1\tAC_Module_Type_C\t\t100.000\t0.3").unwrap());
/// acc.add(&parse_line("130\t20260601170500\tINV1\tAC_Module_Type_C\t\t100.025\t0.3").unwrap());
/// let row = acc.finish().pop().unwrap();
/// assert_eq!(row.interval_start.to_rfc3339(), "2026-06-01T17:05:00+00:00");
/// assert_eq!((row.production_wh, row.production_w), (25.0, 300.0));
/// assert!(!row.revised);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Interval {
    /// Start (UTC), included.
    pub interval_start: DateTime<Utc>,
    /// End (UTC), excluded: start + cadence.
    pub interval_end: DateTime<Utc>,
    /// Energy produced, Wh.
    pub production_wh: f64,
    /// Energy consumed by the house, Wh (never negative).
    pub consumption_wh: Option<f64>,
    /// Energy from the grid, Wh; negative for export.
    pub net_wh: Option<f64>,
    /// Mean production power, W.
    pub production_w: f64,
    /// Mean consumption power, W.
    pub consumption_w: Option<f64>,
    /// Energy from the battery into the house, Wh; negative while it charges. `None` without
    /// battery readings (site totals `ess_en`) in the interval.
    pub battery_wh: Option<f64>,
    /// The battery's state of charge at its last reading in the interval, percent (0 to 100;
    /// the supervisor's fraction 0.86 is 86).
    pub battery_soc_pct: Option<f64>,
    /// Where `net_wh` came from.
    pub net_source: NetSource,
    /// How many inverters reported for this interval.
    pub inverters_reporting: u32,
    /// What was noteworthy.
    pub flags: Flags,
    /// Whether this row replaces one emitted before (streaming).
    pub revised: bool,
}

impl Interval {
    /// The interval's length in seconds.
    ///
    /// ```
    /// use sunpower_proto::parse_line;
    /// use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
    /// let mut acc = IntervalAccumulator::new(IntervalConfig::default());
    /// acc.add(&parse_line("130\t20260601170000\tINV1\tAC_Module_Type_C\t\t100.000\t0.3").unwrap());
    /// assert_eq!(acc.finish()[0].duration_s(), 300);
    /// ```
    pub fn duration_s(&self) -> i64 {
        (self.interval_end - self.interval_start).num_seconds()
    }

    /// The same values, ignoring whether the row is a revision.
    pub(crate) fn same_values(&self, other: &Interval) -> bool {
        let mut a = self.flags;
        let mut b = other.flags;
        a.remove(Flag::Revised);
        b.remove(Flag::Revised);
        a == b
            && self.interval_start == other.interval_start
            && self.interval_end == other.interval_end
            && self.production_wh == other.production_wh
            && self.consumption_wh == other.consumption_wh
            && self.net_wh == other.net_wh
            && self.battery_wh == other.battery_wh
            && self.battery_soc_pct == other.battery_soc_pct
            && self.net_source == other.net_source
            && self.inverters_reporting == other.inverters_reporting
    }
}

/// A warning from the accumulator; [`IntervalAccumulator::take_events`] drains them.
///
/// ```
/// use sunpower_proto::parse_line;
/// use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
/// let mut acc = IntervalAccumulator::new(IntervalConfig::default());
/// acc.add(&parse_line("130\t20260601170000\tINV1\tAC_Module_Type_C\t\t100.000\t0.3").unwrap());
/// acc.add(&parse_line("130\t20260601170500\tINV1\tAC_Module_Type_C\t\t3.000\t0.3").unwrap());
/// acc.finish();
/// let events: Vec<String> = acc.take_events().iter().map(|e| e.to_string()).collect();
/// assert_eq!(events, ["counter reset on 130 INV1 at 2026-06-01T17:05:00Z: 100 kWh -> 3 kWh"]);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// Two records with the same key and different lines: the first was kept.
    DuplicateConflict {
        /// Record type (130 or 140).
        record_type: u16,
        /// Device serial.
        serial: String,
        /// Record timestamp.
        timestamp: DateTime<Utc>,
    },
    /// A lifetime counter went down or jumped implausibly: nothing counted for that step.
    CounterReset {
        /// Record type (130 or 140).
        record_type: u16,
        /// Device serial.
        serial: String,
        /// Timestamp of the report after the reset.
        timestamp: DateTime<Utc>,
        /// Counter before, kWh.
        from_kwh: f64,
        /// Counter after, kWh.
        to_kwh: f64,
    },
    /// A counter read out of line for one report and then resumed: that reading was skipped.
    CounterGlitch {
        /// Record type (130 or 140).
        record_type: u16,
        /// Device serial.
        serial: String,
        /// Timestamp of the glitched report.
        timestamp: DateTime<Utc>,
        /// The glitched reading, kWh.
        value_kwh: f64,
        /// The counter before it (and held across it), kWh.
        held_kwh: f64,
    },
    /// Devices of one document share a serial (redacted dumps): their counters cannot be told
    /// apart across documents, so their records were not used for energy. Reported once per
    /// serial.
    SerialCollision {
        /// Record type (130 or 140).
        record_type: u16,
        /// The shared serial.
        serial: String,
        /// Timestamp of the first records seen with it.
        timestamp: DateTime<Utc>,
        /// How many devices shared it then.
        devices: usize,
    },
    /// A site-totals counter (`pv_en`, `net_en`, `ess_en`) went down or jumped implausibly:
    /// nothing counted for that step.
    SiteCounterReset {
        /// The counter's livedata name.
        counter: &'static str,
        /// Timestamp of the reading after the reset.
        timestamp: DateTime<Utc>,
        /// Counter before, kWh.
        from_kwh: f64,
        /// Counter after, kWh.
        to_kwh: f64,
    },
    /// Production + net was negative; consumption was set to 0.
    ConsumptionClamped {
        /// The interval.
        interval_start: DateTime<Utc>,
        /// The negative value computed, Wh.
        computed_wh: f64,
    },
    /// A record older than the horizon: refused.
    BeyondHorizon {
        /// Record type.
        record_type: u16,
        /// Device serial.
        serial: String,
        /// Record timestamp.
        timestamp: DateTime<Utc>,
    },
    /// A record whose time is not a plausible time (before 2000, or far from every other
    /// record's and never confirmed by another): not used, so it neither moves the horizon nor
    /// gives a row of its own. Counted in [`Stats::implausible_times`].
    ImplausibleTime {
        /// Record type (0 for the site totals).
        record_type: u16,
        /// Device serial (`site_totals` for the site totals).
        serial: String,
        /// Record timestamp.
        timestamp: DateTime<Utc>,
    },
}

impl Event {
    /// A short name of the event's kind, for logs that show a few of each kind
    /// ([`crate::ProblemLog`]).
    ///
    /// ```
    /// use sunpower_proto::parse_line;
    /// use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
    /// let mut acc = IntervalAccumulator::new(IntervalConfig::default());
    /// acc.add(&parse_line("130\t20260601170000\tINV1\tAC_Module_Type_C\t\t100.000\t0.3").unwrap());
    /// acc.add(&parse_line("130\t20260601170000\tINV1\tAC_Module_Type_C\t\t100.001\t0.3").unwrap());
    /// assert_eq!(acc.take_events()[0].kind(), "conflicting duplicate");
    /// ```
    pub fn kind(&self) -> &'static str {
        match self {
            Event::DuplicateConflict { .. } => "conflicting duplicate",
            Event::CounterReset { .. } | Event::SiteCounterReset { .. } => "counter reset",
            Event::CounterGlitch { .. } => "counter glitch",
            Event::SerialCollision { .. } => "serial collision",
            Event::ConsumptionClamped { .. } => "consumption clamped",
            Event::BeyondHorizon { .. } => "beyond horizon",
            Event::ImplausibleTime { .. } => "implausible time",
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::time::Rfc3339;
        match self {
            Event::DuplicateConflict {
                record_type,
                serial,
                timestamp,
            } => write!(
                f,
                "conflicting duplicate of {record_type} {serial} {}: first kept",
                Rfc3339(*timestamp)
            ),
            Event::CounterReset {
                record_type,
                serial,
                timestamp,
                from_kwh,
                to_kwh,
            } => write!(
                f,
                "counter reset on {record_type} {serial} at {}: {from_kwh} kWh -> {to_kwh} kWh",
                Rfc3339(*timestamp)
            ),
            Event::CounterGlitch {
                record_type,
                serial,
                timestamp,
                value_kwh,
                held_kwh,
            } => write!(
                f,
                "counter glitch on {record_type} {serial} at {}: read {value_kwh} kWh between \
                 readings of {held_kwh} kWh; skipped",
                Rfc3339(*timestamp)
            ),
            Event::SerialCollision {
                record_type,
                serial,
                timestamp,
                devices,
            } => write!(
                f,
                "{devices} devices of type {record_type} share serial {serial} at {}: their \
                 counters cannot be followed, not used for energy",
                Rfc3339(*timestamp)
            ),
            Event::SiteCounterReset {
                counter,
                timestamp,
                from_kwh,
                to_kwh,
            } => write!(
                f,
                "site counter {counter} reset at {}: {from_kwh} kWh -> {to_kwh} kWh",
                Rfc3339(*timestamp)
            ),
            Event::ConsumptionClamped {
                interval_start,
                computed_wh,
            } => write!(
                f,
                "consumption {computed_wh} Wh clamped to 0 at {}",
                Rfc3339(*interval_start)
            ),
            Event::BeyondHorizon {
                record_type,
                serial,
                timestamp,
            } => write!(
                f,
                "record {record_type} {serial} {} is older than the horizon: refused",
                Rfc3339(*timestamp)
            ),
            Event::ImplausibleTime {
                record_type,
                serial,
                timestamp,
            } => write!(
                f,
                "record {record_type} {serial} dated {} is implausibly far from the others: not used",
                Rfc3339(*timestamp)
            ),
        }
    }
}

/// The jsonl row: the keys of [`Interval::visit_output`] without a zone, as
/// [`crate::JsonLines::write_interval`] writes them.
#[cfg(feature = "serde")]
impl serde::Serialize for Interval {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        let mut result = Ok(());
        self.visit_output(None, |name, value| {
            if result.is_ok() {
                result = crate::json::serialize_field(&mut map, name, value);
            }
        });
        result?;
        map.end()
    }
}
