//! The accumulator: readings per device within the horizon, intervals computed from them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, TimeDelta, Utc};

use super::{Event, Flag, Flags, Interval, IntervalConfig, Mode, NetSource};
use crate::record::{FieldValue, MeterKind, MeterRole, Record};
use crate::site::SiteTotals;
use crate::value::resolution;

const DAY: i64 = 86_400;
const DEFAULT_CADENCE: i64 = 300;
/// A counter rising faster than this on average is treated as a reset (it cannot be energy).
const MAX_PLAUSIBLE_KW: f64 = 1000.0;
/// Once a series has shown its power, its counter may rise at most this many times its highest
/// power (a step is an average, so a margin for readings between the powers seen)...
const POWER_MARGIN: f64 = 4.0;
/// ...and never less than this, so a small system's morning does not read as resets.
const MIN_PLAUSIBLE_KW: f64 = 20.0;
/// Times before 2000 are an unset clock (`time` 0), not a time: no supervisor is that old.
const MIN_TIME: i64 = 946_684_800;
/// Records ahead of the others by more than a day, not yet confirmed by another near them, kept
/// aside (offline without a clock) so they do not move the horizon; at most this many.
const MAX_LONE: usize = 16;
/// A lifetime counter that goes down by at most this much (or [`JITTER_RELATIVE`] of its value,
/// whichever is more) is jitter, not a reset: the last value is held and nothing is counted.
/// Counters sent as 32-bit floats (`27867.650391`) cannot resolve better than a few Wh.
pub const JITTER_KWH: f64 = 0.001;
/// The relative part of the jitter tolerance: 1e-6 of the counter (27 Wh at 27 MWh).
pub const JITTER_RELATIVE: f64 = 1e-6;
/// How many earlier readings the held value of a jittering counter is looked for in.
const JITTER_LOOKBACK: usize = 8;
/// Pending events beyond this are counted in [`Stats::events_dropped`] instead of kept.
const MAX_EVENTS: usize = 65_536;
/// A device silent this long past the horizon is forgotten (a return counts as new).
const DEVICE_EXPIRY: i64 = 30 * DAY;
/// Offline pruning runs when the cutoff has moved this far, so it is not paid per record.
const PRUNE_STEP: i64 = 3_600;
/// Offline, how far ahead of the capture clock a record may move the horizon.
const CLOCK_LEAD: i64 = DAY;

/// What [`IntervalAccumulator::add`] did with a record.
///
/// ```
/// use sunpower_proto::parse_line;
/// use sunpower_proto::intervals::{Added, IntervalAccumulator, IntervalConfig};
/// let mut acc = IntervalAccumulator::new(IntervalConfig::default());
/// assert_eq!(acc.add(&parse_line("130\t20260601170000\tINV1\tAC_Module_Type_C\t\t100.000\t0.3").unwrap()), Added::Stored);
/// // The same key (serial and time) with another line: the first one is kept.
/// let other = "130\t20260601170000\tINV1\tAC_Module_Type_C\t\t100.001\t0.3";
/// assert_eq!(acc.add(&parse_line(other).unwrap()), Added::Conflict);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Added {
    /// Kept as a reading.
    Stored,
    /// Same key and same line as a record already kept: ignored.
    Duplicate,
    /// Same key, different line: ignored, [`Event::DuplicateConflict`] reported.
    Conflict,
    /// Older than the horizon: refused, [`Event::BeyondHorizon`] reported.
    BeyondHorizon,
    /// A record that carries no interval energy (not 130, not a consumption 140).
    Ignored,
    /// Dated before 2000 (an unset clock): refused, [`Event::ImplausibleTime`] reported.
    ImplausibleTime,
}

/// Counts of what the accumulator saw.
///
/// ```
/// use sunpower_proto::parse_line;
/// use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
/// let mut acc = IntervalAccumulator::new(IntervalConfig::default());
/// for line in ["130\t20260601170000\tINV1\tAC_Module_Type_C\t\t100.000\t0.3", "130\t20260601170000\tINV1\tAC_Module_Type_C\t\t100.000\t0.3", "130\t20260601170500\tINV1\tAC_Module_Type_C\t\t100.025\t0.3", "102\tabc"] {
///     acc.add(&parse_line(line).unwrap());
/// }
/// let stats = acc.stats();
/// assert_eq!((stats.records, stats.stored, stats.duplicates, stats.ignored), (4, 2, 1, 1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub struct Stats {
    /// Records passed to `add`.
    pub records: u64,
    /// Records kept as readings.
    pub stored: u64,
    /// Exact duplicates ignored.
    pub duplicates: u64,
    /// Conflicting duplicates ignored.
    pub conflicts: u64,
    /// Records older than the horizon.
    pub beyond_horizon: u64,
    /// Records without interval energy.
    pub ignored: u64,
    /// Events not kept because too many were pending.
    pub events_dropped: u64,
    /// Site-totals readings kept (varserver `/sys/livedata`, telemetry frames).
    pub site_totals: u64,
    /// Device records not used for energy because their serial is shared with another device
    /// of the same document (redacted dumps).
    pub serial_collisions: u64,
    /// Records not used because their time was implausible: before 2000, or far from every
    /// other record's and confirmed by none ([`Event::ImplausibleTime`]).
    pub implausible_times: u64,
}

#[derive(Debug, Clone, Copy)]
struct Reading {
    energy_kwh: Option<f64>,
    power_kw: Option<f64>,
    /// Smallest step the counter field can show (meters), from its decimals.
    resolution_kwh: Option<f64>,
    /// FNV-1a of the line, to tell exact duplicates from conflicts without keeping the line.
    hash: u64,
}

/// Where a reading kept aside for its time is, to take it out if nothing confirms it.
#[derive(Debug)]
enum Origin {
    Device(DeviceKind, Box<str>),
    Site,
    #[cfg(feature = "varserver")]
    Collided(DeviceKind, Box<str>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum DeviceKind {
    Inverter,
    Meter,
}

impl DeviceKind {
    fn record_type(self) -> u16 {
        match self {
            DeviceKind::Inverter => 130,
            DeviceKind::Meter => 140,
        }
    }
}

/// A battery's own lifetime counters (`posLtea3phsumKwh` discharged, `negLtea3phsumKwh`
/// charged) and state of charge (percent), keyed as end-labelled readings.
#[derive(Debug, Default)]
struct BatterySeries {
    discharge: Series,
    charge: Series,
    soc: BTreeMap<i64, f64>,
}

/// The site totals' three counters, read at the same times, and the state of charge (percent).
#[derive(Debug, Default)]
struct SiteSeries {
    pv: Series,
    net: Series,
    battery: Series,
    soc: BTreeMap<i64, f64>,
}

#[derive(Debug, Default)]
struct Series {
    readings: BTreeMap<i64, Reading>,
    /// The last counter folded out of the window: where the next step starts from.
    base: Option<(i64, f64)>,
    last_seen: i64,
    /// Meter orientation evidence (sum of counter step × power) from folded readings.
    folded_correlation: f64,
    /// The highest power read, kW: what bounds a plausible counter step.
    peak_kw: f64,
    /// What a consumption meter measures, from the strongest evidence its records gave.
    role: MeterRole,
    /// Whether `role` was declared by a record (not only read from a negative value).
    role_declared: bool,
    /// Whether this series' readings are keyed one second before their time, because their
    /// time is when the counter was read, the end of what it measured (`/vars`, DeviceList):
    /// so a step lands in the interval it measured. Event times add the second back.
    end_labelled: bool,
}

enum Step {
    NoCounter,
    First,
    /// `over_glitch`: the step skipped a glitched reading before it.
    Increase {
        kwh: f64,
        gap: i64,
        over_glitch: bool,
    },
    /// A decrease within the jitter tolerance: the last value is held.
    Jitter,
    /// A reading out of line with the one before whose next reading is back in line.
    Glitch {
        value: f64,
        held: f64,
    },
    Reset {
        from: f64,
        to: f64,
    },
}

/// The jitter tolerance for a counter near `value`, kWh.
fn tolerance(value: f64) -> f64 {
    JITTER_KWH.max(JITTER_RELATIVE * value.abs())
}

/// Whether `now` follows `prev` as a counter can (an increase, or jitter).
fn fits(prev: f64, now: f64, gap: i64, signed: bool, max_kw: f64) -> bool {
    match classify(prev, now, gap, signed, max_kw) {
        Plain::Increase { .. } => true,
        Plain::Reset => !signed && now < prev && prev - now <= tolerance(prev),
    }
}

impl Series {
    /// The record time of the reading keyed at `t`.
    fn record_time(&self, t: i64) -> DateTime<Utc> {
        utc(t + i64::from(self.end_labelled))
    }

    /// The fastest a counter of this series can plausibly rise, kW: from the system's size
    /// (its highest power) once known, else [`MAX_PLAUSIBLE_KW`].
    fn max_kw(&self) -> f64 {
        if self.peak_kw > 0.0 {
            (POWER_MARGIN * self.peak_kw).clamp(MIN_PLAUSIBLE_KW, MAX_PLAUSIBLE_KW)
        } else {
            MAX_PLAUSIBLE_KW
        }
    }

    /// Counter readings before `t`, newest first, then the folded base.
    fn counters_before(&self, t: i64) -> impl Iterator<Item = (i64, f64)> + '_ {
        self.readings
            .range(..t)
            .rev()
            .filter_map(|(&pt, r)| r.energy_kwh.map(|e| (pt, e)))
            .chain(self.base.filter(|b| b.0 < t))
    }

    fn counter_after(&self, t: i64) -> Option<(i64, f64)> {
        self.readings
            .range(t + 1..)
            .find_map(|(&nt, r)| r.energy_kwh.map(|e| (nt, e)))
    }

    /// Where the step ending at `t` (reading `now`) starts: the previous counter, skipped when
    /// it was a glitch (out of line with its own predecessor, which `now` is in line with), and
    /// for counters that only rise, held at the highest of the recent values it jittered
    /// below. Returns (time, value, whether a glitch was skipped).
    fn reference(&self, t: i64, now: f64, signed: bool) -> Option<(i64, f64, bool)> {
        let max_kw = self.max_kw();
        let fits = |prev, now, gap| fits(prev, now, gap, signed, max_kw);
        let mut before = self.counters_before(t);
        let (mut pt, mut pv) = before.next()?;
        let older: Vec<(i64, f64)> = before.take(JITTER_LOOKBACK + 1).collect();
        let mut rest = &older[..];
        let mut skipped = false;
        match older.first() {
            // A glitch: a reading out of line with the one before (a drop, or for counters that
            // only rise a step up the counter falls back from), `now` in line with that one.
            Some(&(qt, qv))
                if fits(qv, now, t - qt)
                    && (!fits(qv, pv, pt - qt) || (!signed && pv - now > tolerance(pv))) =>
            {
                (pt, pv) = (qt, qv);
                rest = &older[1..];
                skipped = true;
            }
            // A first reading of 0 the counter cannot have risen from: an unread counter.
            None if !signed && pv == 0.0 && !fits(pv, now, t - pt) => return None,
            _ => {}
        }
        let mut held = pv;
        if !signed {
            for &(_, v) in rest.iter().take(JITTER_LOOKBACK) {
                if v > held && v - held <= tolerance(held) {
                    held = v;
                } else if v > held || held - v > tolerance(held) {
                    break;
                }
            }
        }
        Some((pt, held, skipped))
    }

    /// Whether the series has had a reading (kept, or folded into its base).
    fn any_reading(&self) -> bool {
        !self.readings.is_empty() || self.base.is_some()
    }

    fn any_in(&self, from: i64, to: i64) -> bool {
        from < to && self.readings.range(from..to).next().is_some()
    }

    /// The counter step ending at reading `t`; `signed` allows decreases (net meters).
    fn step(&self, t: i64, reading: &Reading, signed: bool) -> Step {
        let Some(now) = reading.energy_kwh else {
            return Step::NoCounter;
        };
        let Some((pt, held, over_glitch)) = self.reference(t, now, signed) else {
            return Step::First;
        };
        let max_kw = self.max_kw();
        let fits = |prev, now, gap| fits(prev, now, gap, signed, max_kw);
        match classify(held, now, t - pt, signed, max_kw) {
            // A step up the next reading falls back from (to in line with `held`): a spike.
            Plain::Increase { .. }
                if !signed
                    && self.counter_after(t).is_some_and(|(nt, next)| {
                        now - next > tolerance(now) && fits(held, next, nt - pt)
                    }) =>
            {
                Step::Glitch { value: now, held }
            }
            Plain::Increase { kwh, gap } => Step::Increase {
                kwh,
                gap,
                over_glitch,
            },
            Plain::Reset if fits(held, now, t - pt) => Step::Jitter,
            Plain::Reset => match self.counter_after(t) {
                Some((nt, next)) if fits(held, next, nt - pt) => Step::Glitch { value: now, held },
                _ => Step::Reset {
                    from: held,
                    to: now,
                },
            },
        }
    }

    /// Sum of counter step × power over the window: its sign orients a meter's counter.
    fn correlation(&self) -> f64 {
        let mut sum = self.folded_correlation;
        let mut prev = self.base;
        for (&t, r) in &self.readings {
            if let Some(now) = r.energy_kwh {
                if let (Some((pt, p)), Some(power)) = (prev, r.power_kw)
                    && let Plain::Increase { kwh, .. } =
                        classify(p, now, t - pt, true, self.max_kw())
                {
                    sum += kwh * power;
                }
                prev = Some((t, now));
            }
        }
        sum
    }
}

/// A step between two counter values alone, without the context of the series.
enum Plain {
    Increase { kwh: f64, gap: i64 },
    Reset,
}

fn classify(prev: f64, now: f64, gap: i64, signed: bool, max_kw: f64) -> Plain {
    let diff = now - prev;
    let bound = max_kw * gap.max(1) as f64 / 3600.0;
    let plausible = diff.is_finite() && diff.abs() <= bound && (signed || diff >= 0.0);
    if plausible {
        Plain::Increase { kwh: diff, gap }
    } else {
        Plain::Reset
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    fnv1a_step(0xcbf2_9ce4_8422_2325, bytes)
}

/// What tells a record's readings apart from another's of the same device and time: its line,
/// or for a record from a JSON source (no line) its typed values.
fn content_hash(record: &Record<'_>) -> u64 {
    if let Some(raw) = record.raw() {
        return fnv1a(raw.as_str().as_bytes());
    }
    // The values only: the same reading from the DeviceList and from `/vars` is a duplicate.
    let mut hash = fnv1a(b"");
    record.visit_fields(|name, value| {
        hash = fnv1a_step(hash, name.as_bytes());
        let bits = match value {
            FieldValue::Time(t) => t.map(|t| t.timestamp() as u64),
            FieldValue::Text(t) => t.map(|t| fnv1a(t.as_bytes())),
            FieldValue::Decimal(v) => v.map(f64::to_bits),
            FieldValue::Integer(v) => v.map(|v| v as u64),
            FieldValue::Unsigned(v) => v,
            _ => None,
        };
        hash = fnv1a_step(
            hash,
            &bits.map_or([0xff; 9], |b| {
                let mut bytes = [0; 9];
                bytes[1..].copy_from_slice(&b.to_le_bytes());
                bytes
            }),
        );
    });
    hash
}

fn fnv1a_step(hash: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(hash, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Puts a reading into its series, keeping the gap histogram equal to the gaps between
/// neighbours (for the cadence) and marking what may need recomputing.
fn place(
    series: &mut Series,
    gaps: &mut BTreeMap<i64, u64>,
    t: i64,
    reading: Reading,
    pending: &mut BTreeSet<i64>,
    dirty: &mut BTreeSet<i64>,
) -> Added {
    if let Some(existing) = series.readings.get(&t) {
        return if existing.hash == reading.hash {
            Added::Duplicate
        } else {
            Added::Conflict
        };
    }
    let prev = series.readings.range(..t).next_back().map(|(&k, _)| k);
    let next = series.readings.range(t + 1..).next().map(|(&k, _)| k);
    if let (Some(p), Some(n)) = (prev, next) {
        remove_gap(gaps, n - p);
    }
    if let Some(p) = prev {
        add_gap(gaps, t - p);
    }
    if let Some(n) = next {
        add_gap(gaps, n - t);
    }
    // The steps of the counter readings on either side change (the one before may turn out
    // a glitch): their intervals may need a revision.
    if reading.energy_kwh.is_some() {
        if let Some((n, _)) = series.counter_after(t) {
            dirty.insert(n);
        }
        if let Some((p, _)) = series.counters_before(t).next() {
            dirty.insert(p);
        }
    }
    if let Some(power) = reading.power_kw.filter(|p| p.is_finite()) {
        series.peak_kw = series.peak_kw.max(power.abs());
    }
    series.readings.insert(t, reading);
    series.last_seen = series.last_seen.max(t);
    pending.insert(t);
    Added::Stored
}

/// Takes the reading at `t` out of its series, the reverse of [`place`]; the steps of its
/// neighbours change.
fn unplace(series: &mut Series, gaps: &mut BTreeMap<i64, u64>, t: i64, dirty: &mut BTreeSet<i64>) {
    if series.readings.remove(&t).is_none() {
        return;
    }
    let prev = series.readings.range(..t).next_back().map(|(&k, _)| k);
    let next = series.readings.range(t + 1..).next().map(|(&k, _)| k);
    if let Some(p) = prev {
        remove_gap(gaps, t - p);
    }
    if let Some(n) = next {
        remove_gap(gaps, n - t);
    }
    if let (Some(p), Some(n)) = (prev, next) {
        add_gap(gaps, n - p);
    }
    dirty.extend(series.counter_after(t).map(|(n, _)| n));
    series.last_seen = (series.readings.keys().next_back().copied())
        .or(series.base.map(|b| b.0))
        .unwrap_or(series.last_seen.min(t));
}

fn round3(x: f64) -> f64 {
    let r = (x * 1000.0).round() / 1000.0;
    // Never hand out -0.0: it prints as "-0".
    if r == 0.0 {
        0.0
    } else {
        r
    }
}

fn utc(t: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(t, 0).unwrap_or_default()
}

/// Turns 130 and consumption-meter 140 records into [`Interval`]s; see the [module
/// docs](crate::intervals) for the policies.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use sunpower_proto::parse_line;
/// use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig, NetSource};
///
/// let mut acc = IntervalAccumulator::new(IntervalConfig::streaming());
/// for line in [
///     "130\t20260601170000\tINV1\tAC_Module_Type_C\t\t100.000\t0.3",
///     "140\t20260601170000\tPVS5M1c\tPVS5M0400c\t125\t607\t0.2",
///     "130\t20260601170500\tINV1\tAC_Module_Type_C\t\t100.025\t0.3",
///     "140\t20260601170500\tPVS5M1c\tPVS5M0400c\t125\t607\t-0.12",
/// ] {
///     acc.add(&parse_line(line).unwrap());
/// }
/// // Both devices reported for 17:05, so it is complete without waiting.
/// let ready = acc.advance_to(Utc.with_ymd_and_hms(2026, 6, 1, 17, 10, 30).unwrap());
/// let last = ready.last().unwrap();
/// assert_eq!(last.production_wh, 25.0);
/// assert_eq!(last.net_source, NetSource::Power); // a 1 kWh counter is too coarse
/// assert_eq!(last.net_wh, Some(-10.0));
/// assert_eq!(last.consumption_wh, Some(15.0));
/// ```
#[derive(Debug)]
pub struct IntervalAccumulator {
    config: IntervalConfig,
    inverters: HashMap<Box<str>, Series>,
    meters: HashMap<Box<str>, Series>,
    inverter_gaps: BTreeMap<i64, u64>,
    meter_gaps: BTreeMap<i64, u64>,
    site: SiteSeries,
    site_gaps: BTreeMap<i64, u64>,
    /// Site readings stored under 30 s after the one before (telemetry): finer than any
    /// cadence, they vote for the default one.
    site_fine_gaps: u64,
    /// The batteries' own counters, by serial (`/vars` `/sys/devices/ess/<i>/`).
    batteries: HashMap<Box<str>, BatterySeries>,
    /// Times of records whose serial was shared with another device of their document.
    collided: HashMap<(DeviceKind, Box<str>), BTreeSet<i64>>,
    /// Offline: the latest time confirmed (within a day of the one before, or of another
    /// record), which the horizon follows.
    reach: Option<i64>,
    /// Offline: readings more than a day away from the reach that no other record confirmed
    /// yet; one still alone and further than the horizon from the reach is taken out.
    lone: Vec<(i64, Origin)>,
    clock: Option<i64>,
    /// Readings before this were folded; records before it are beyond the horizon.
    pruned_to: Option<i64>,
    /// Intervals ready to hand out.
    ready: Vec<Interval>,
    /// What was emitted, by start, within the horizon: the reference for revisions.
    emitted: BTreeMap<i64, Interval>,
    /// Reading times not yet part of an emitted interval.
    pending: BTreeSet<i64>,
    /// Reading times whose interval may have changed since it was emitted.
    dirty: BTreeSet<i64>,
    events: Vec<Event>,
    stats: Stats,
}

impl IntervalAccumulator {
    /// An empty accumulator.
    ///
    /// ```
    /// use sunpower_proto::parse_line;
    /// use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
    /// use chrono::TimeDelta;
    /// let acc = IntervalAccumulator::new(IntervalConfig::default().with_cadence(TimeDelta::minutes(15)));
    /// assert_eq!(acc.cadence(), TimeDelta::minutes(15));
    /// assert_eq!(acc.stats().records, 0);
    /// ```
    pub fn new(config: IntervalConfig) -> Self {
        IntervalAccumulator {
            config,
            inverters: HashMap::new(),
            meters: HashMap::new(),
            inverter_gaps: BTreeMap::new(),
            meter_gaps: BTreeMap::new(),
            site: SiteSeries::default(),
            site_gaps: BTreeMap::new(),
            site_fine_gaps: 0,
            batteries: HashMap::new(),
            collided: HashMap::new(),
            reach: None,
            lone: Vec::new(),
            clock: None,
            pruned_to: None,
            ready: Vec::new(),
            emitted: BTreeMap::new(),
            pending: BTreeSet::new(),
            dirty: BTreeSet::new(),
            events: Vec::new(),
            stats: Stats::default(),
        }
    }

    /// The configuration.
    ///
    /// ```
    /// use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig, Mode};
    /// let acc = IntervalAccumulator::new(IntervalConfig::streaming());
    /// assert_eq!(acc.config().mode, Mode::Streaming);
    /// ```
    pub fn config(&self) -> &IntervalConfig {
        &self.config
    }

    /// Counts so far.
    ///
    /// ```
    /// use sunpower_proto::parse_line;
    /// use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
    /// let mut acc = IntervalAccumulator::new(IntervalConfig::default());
    /// acc.add(&parse_line("130\t20260601170000\tINV1\tAC_Module_Type_C\t\t100.000\t0.3").unwrap());
    /// assert_eq!((acc.stats().records, acc.stats().stored), (1, 1));
    /// ```
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The interval length in use: configured, or inferred from the records (300 s until known).
    ///
    /// ```
    /// use sunpower_proto::parse_line;
    /// use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
    /// let mut acc = IntervalAccumulator::new(IntervalConfig::default());
    /// assert_eq!(acc.cadence().num_seconds(), 300);
    /// for line in ["130\t20260105100000\tF1\tFRONIUS IG 4000\t1\t10.0",
    ///              "130\t20260105110000\tF1\tFRONIUS IG 4000\t1\t10.9"] {
    ///     acc.add(&parse_line(line).unwrap());
    /// }
    /// assert_eq!(acc.cadence().num_seconds(), 3600);
    /// ```
    pub fn cadence(&self) -> TimeDelta {
        TimeDelta::seconds(self.cadence_s())
    }

    fn cadence_s(&self) -> i64 {
        self.cadence_and_settled().0
    }

    /// The cadence, and whether it is settled: fixed, or the default that the site totals'
    /// readings finer than any cadence (telemetry) decided (no device voted, and the fine
    /// readings outnumber the votes of the site totals' own gaps). Only votes can change it.
    fn cadence_and_settled(&self) -> (i64, bool) {
        if let Some(fixed) = self.config.cadence {
            return (fixed.num_seconds().clamp(1, DAY), true);
        }
        let most_common = |gaps: &BTreeMap<i64, u64>| {
            // Ties go to the shorter gap.
            gaps.iter()
                .max_by_key(|&(&gap, &count)| (count, std::cmp::Reverse(gap)))
                .map(|(&gap, _)| gap)
        };
        if let Some(gap) =
            most_common(&self.inverter_gaps).or_else(|| most_common(&self.meter_gaps))
        {
            return (gap, false);
        }
        // Per-second telemetry is finer than any cadence: its readings vote for the default, so
        // that one long silence of the stream does not set the interval length.
        match most_common(&self.site_gaps) {
            Some(gap) if self.site_gaps[&gap] >= self.site_fine_gaps => (gap, false),
            _ if self.site_fine_gaps > 0 => (DEFAULT_CADENCE, true),
            Some(gap) => (gap, false),
            None => (DEFAULT_CADENCE, false),
        }
    }

    /// Drains the warnings reported so far.
    ///
    /// ```
    /// use sunpower_proto::parse_line;
    /// use sunpower_proto::intervals::{Event, IntervalAccumulator, IntervalConfig};
    /// let mut acc = IntervalAccumulator::new(IntervalConfig::default());
    /// acc.add(&parse_line("130\t20260601170000\tINV1\tAC_Module_Type_C\t\t100.000\t0.3").unwrap());
    /// acc.add(&parse_line("130\t20260601170000\tINV1\tAC_Module_Type_C\t\t100.001\t0.3").unwrap());
    /// let events = acc.take_events();
    /// assert!(matches!(&events[..], [Event::DuplicateConflict { record_type: 130, serial, .. }] if serial == "INV1"));
    /// assert!(acc.take_events().is_empty()); // drained
    /// ```
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    fn push_event(&mut self, event: Event) {
        push_capped(&mut self.events, &mut self.stats, event);
    }

    /// Feeds one record. Only what is needed is copied (serial, counter, power, a line hash).
    ///
    /// ```
    /// use sunpower_proto::parse_line;
    /// use sunpower_proto::intervals::{Added, IntervalAccumulator, IntervalConfig};
    /// let mut acc = IntervalAccumulator::new(IntervalConfig::default());
    /// let line = "130\t20260601170000\tINV1\tAC_Module_Type_C\t\t100.000\t0.3";
    /// assert_eq!(acc.add(&parse_line(line).unwrap()), Added::Stored);
    /// assert_eq!(acc.add(&parse_line(line).unwrap()), Added::Duplicate);
    /// assert_eq!(acc.add(&parse_line("102\tabc").unwrap()), Added::Ignored);
    /// ```
    pub fn add(&mut self, record: &Record<'_>) -> Added {
        self.stats.records += 1;
        let hash = content_hash(record);
        // A JSON source's time is when its counters were read: the end of what they measured.
        let end_labelled = record.source().raw().is_none();
        let added = match record {
            Record::Inverter(inv) => self.insert(
                DeviceKind::Inverter,
                inv.serial,
                inv.timestamp,
                end_labelled,
                Reading {
                    energy_kwh: inv.lifetime_energy_kwh,
                    power_kw: inv.ac_power_kw,
                    resolution_kwh: None,
                    hash,
                },
            ),
            Record::Meter(m) if m.meter_kind == MeterKind::Consumption => {
                let added = self.insert(
                    DeviceKind::Meter,
                    m.serial,
                    m.timestamp,
                    end_labelled,
                    Reading {
                        energy_kwh: m.lifetime_net_energy_kwh,
                        power_kw: m.real_power_kw,
                        resolution_kwh: match m.source.raw() {
                            Some(raw) => resolution(raw.get(5)),
                            None => m.lifetime_net_energy_resolution_kwh,
                        },
                        hash,
                    },
                );
                let read = MeterRole::from_reading(m.lifetime_net_energy_kwh, m.real_power_kw);
                self.note_role(m.serial, m.role, read);
                added
            }
            _ => Added::Ignored,
        };
        self.count(added);
        added
    }

    /// Takes what a meter's record says of its role: a role its source declared wins over one
    /// read from a negative value; a change makes the meter's intervals computed again.
    fn note_role(&mut self, serial: &str, declared: MeterRole, read: MeterRole) {
        let Some(series) = self.meters.get_mut(serial) else {
            return;
        };
        let role = if declared != MeterRole::Unknown {
            series.role_declared = true;
            declared
        } else if !series.role_declared && read != MeterRole::Unknown {
            read
        } else {
            return;
        };
        if role != series.role {
            series.role = role;
            self.dirty.extend(series.readings.keys().copied());
        }
    }

    /// Counts what `add` did and, offline, folds readings that fell out of the horizon.
    fn count(&mut self, added: Added) {
        match added {
            Added::Stored => self.stats.stored += 1,
            Added::Duplicate => self.stats.duplicates += 1,
            Added::Conflict => self.stats.conflicts += 1,
            Added::BeyondHorizon => self.stats.beyond_horizon += 1,
            Added::Ignored => self.stats.ignored += 1,
            Added::ImplausibleTime => self.stats.implausible_times += 1,
        }
        if added == Added::Stored
            && self.config.mode == Mode::Offline
            && let Some(max) = self.reach
        {
            // With a capture clock, a record dated far ahead of it (a supervisor's clock
            // gone wrong) cannot push the real records out of the horizon.
            let reach = match self.clock {
                Some(clock) => max.min(clock.saturating_add(CLOCK_LEAD)),
                None => max,
            };
            self.prune(
                reach.saturating_sub(self.config.horizon.num_seconds()),
                false,
            );
        }
    }

    fn insert(
        &mut self,
        kind: DeviceKind,
        serial: &str,
        timestamp: DateTime<Utc>,
        end_labelled: bool,
        reading: Reading,
    ) -> Added {
        let t = timestamp.timestamp() - i64::from(end_labelled);
        if t < MIN_TIME {
            self.push_event(Event::ImplausibleTime {
                record_type: kind.record_type(),
                serial: serial.to_owned(),
                timestamp,
            });
            return Added::ImplausibleTime;
        }
        if self.pruned_to.is_some_and(|p| t < p) {
            self.push_event(Event::BeyondHorizon {
                record_type: kind.record_type(),
                serial: serial.to_owned(),
                timestamp,
            });
            return Added::BeyondHorizon;
        }
        let (map, gaps) = match kind {
            DeviceKind::Inverter => (&mut self.inverters, &mut self.inverter_gaps),
            DeviceKind::Meter => (&mut self.meters, &mut self.meter_gaps),
        };
        if !map.contains_key(serial) {
            map.insert(serial.into(), Series::default());
        }
        let Some(series) = map.get_mut(serial) else {
            return Added::Ignored;
        };
        series.end_labelled = end_labelled;
        let added = place(series, gaps, t, reading, &mut self.pending, &mut self.dirty);
        match added {
            Added::Conflict => self.push_event(Event::DuplicateConflict {
                record_type: kind.record_type(),
                serial: serial.to_owned(),
                timestamp,
            }),
            Added::Stored => self.note_time(t, || Origin::Device(kind, serial.into())),
            _ => {}
        }
        added
    }

    /// Feeds one reading of the site totals (varserver `/sys/livedata`, or a telemetry
    /// frame): production from `pv_en` when no inverter is followed, net from `net_en` when no
    /// consumption meter is, battery energy from `ess_en` and the state of charge always.
    /// Readings are keyed by their time: a telemetry stream of one frame a second is rolled
    /// into the intervals by counter differences, each second counted once.
    ///
    /// ```
    /// use sunpower_proto::SiteTotals;
    /// use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
    /// let mut acc = IntervalAccumulator::new(IntervalConfig::default());
    /// for (time, pv, net, ess) in [(1751083200, 40747.5, 6121.0, -490.5),
    ///                              (1751083500, 40747.6, 6121.2, -490.4)] {
    ///     let mut site = SiteTotals::default();
    ///     site.timestamp = chrono::DateTime::from_timestamp(time, 0);
    ///     (site.pv_energy_kwh, site.net_energy_kwh, site.battery_energy_kwh) =
    ///         (Some(pv), Some(net), Some(ess));
    ///     acc.add_site_totals(&site);
    /// }
    /// let row = acc.finish().pop().unwrap();
    /// assert_eq!(row.production_wh, 100.0);
    /// assert_eq!(row.net_wh, Some(200.0));
    /// assert_eq!(row.battery_wh, Some(100.0));
    /// assert_eq!(row.consumption_wh, Some(400.0));
    /// ```
    pub fn add_site_totals(&mut self, site: &SiteTotals) -> Added {
        self.stats.records += 1;
        let added = self.insert_site(site);
        self.count(added);
        added
    }

    fn insert_site(&mut self, site: &SiteTotals) -> Added {
        let Some(timestamp) = site.timestamp else {
            return Added::Ignored;
        };
        // Counters read at that time: keyed as end-labelled readings (`Series::end_labelled`).
        let t = timestamp.timestamp() - 1;
        if t < MIN_TIME {
            self.push_event(Event::ImplausibleTime {
                record_type: 0,
                serial: "site_totals".to_owned(),
                timestamp,
            });
            return Added::ImplausibleTime;
        }
        if self.pruned_to.is_some_and(|p| t < p) {
            self.push_event(Event::BeyondHorizon {
                record_type: 0,
                serial: "site_totals".to_owned(),
                timestamp,
            });
            return Added::BeyondHorizon;
        }
        let mut hash = 0xcbf2_9ce4_8422_2325u64;
        let values = [
            site.pv_energy_kwh,
            site.pv_power_kw,
            site.net_energy_kwh,
            site.net_power_kw,
            site.battery_energy_kwh,
            site.battery_power_kw,
            site.battery_soc_pct,
        ];
        for v in values {
            hash = fnv1a_step(hash, &v.map_or(u64::MAX, f64::to_bits).to_le_bytes());
        }
        let reading = |energy_kwh, power_kw| Reading {
            energy_kwh,
            power_kw,
            resolution_kwh: None,
            hash,
        };
        let before = self
            .site
            .pv
            .readings
            .range(..t)
            .next_back()
            .map(|(&k, _)| k);
        let site_series = &mut self.site;
        let added = place(
            &mut site_series.pv,
            &mut self.site_gaps,
            t,
            reading(site.pv_energy_kwh, site.pv_power_kw),
            &mut self.pending,
            &mut self.dirty,
        );
        if added == Added::Stored && before.is_some_and(|b| t - b < 30) {
            self.site_fine_gaps += 1;
        }
        let site_series = &mut self.site;
        match added {
            Added::Stored => {
                // The same times in all three: one gap histogram is enough.
                let mut unused = BTreeMap::new();
                for (series, energy, power) in [
                    (&mut site_series.net, site.net_energy_kwh, site.net_power_kw),
                    (
                        &mut site_series.battery,
                        site.battery_energy_kwh,
                        site.battery_power_kw,
                    ),
                ] {
                    let r = reading(energy, power);
                    place(
                        series,
                        &mut unused,
                        t,
                        r,
                        &mut self.pending,
                        &mut self.dirty,
                    );
                }
                if let Some(soc) = site.battery_soc_pct {
                    site_series.soc.insert(t, soc);
                }
                self.stats.site_totals += 1;
                self.fold_site_before(t);
                self.note_time(t, || Origin::Site);
            }
            Added::Conflict => self.push_event(Event::DuplicateConflict {
                record_type: 0,
                serial: "site_totals".to_owned(),
                timestamp,
            }),
            _ => {}
        }
        added
    }

    /// Feeds a decoded `/vars` document: its site totals, then its records. Devices whose
    /// serial another device of the same document shares (redacted dumps) are not used: their
    /// counters could not be told apart from one document to the next, so rather than mix
    /// them the intervals they report in are flagged [`Flag::SerialCollision`] (production
    /// then comes from the site totals when the document has them), and
    /// [`Event::SerialCollision`] names the serial once.
    ///
    /// ```
    /// use sunpower_proto::parse_vars;
    /// use sunpower_proto::intervals::{Flag, IntervalAccumulator, IntervalConfig};
    /// let poll = |time: &str, a: &str, b: &str, pv: &str| format!(r#"{{
    ///     "/sys/livedata/time": "{time}", "/sys/livedata/pv_en": "{pv}",
    ///     "/sys/devices/inverter/0/sn": "E001", "/sys/devices/inverter/0/msmtEps": "{}",
    ///     "/sys/devices/inverter/0/ltea3phsumKwh": "{a}",
    ///     "/sys/devices/inverter/1/sn": "E001", "/sys/devices/inverter/1/msmtEps": "{}",
    ///     "/sys/devices/inverter/1/ltea3phsumKwh": "{b}"}}"#,
    ///     if time == "1759247400" { "2025-09-30T15:50:00Z" } else { "2025-09-30T15:55:00Z" },
    ///     if time == "1759247400" { "2025-09-30T15:50:00Z" } else { "2025-09-30T15:55:00Z" });
    /// let mut acc = IntervalAccumulator::new(IntervalConfig::default());
    /// acc.add_vars(&parse_vars(poll("1759247400", "10.0", "20.0", "500.0")).unwrap());
    /// acc.add_vars(&parse_vars(poll("1759247700", "10.1", "20.1", "500.2")).unwrap());
    /// let rows = acc.finish();
    /// let last = rows.last().unwrap();
    /// assert!(last.flags.contains(Flag::SerialCollision));
    /// assert!(last.flags.contains(Flag::ProductionFromSiteTotals));
    /// assert_eq!(last.production_wh, 200.0);
    /// assert_eq!(acc.stats().serial_collisions, 4);
    /// ```
    #[cfg(feature = "varserver")]
    pub fn add_vars(&mut self, vars: &crate::varserver::Vars) -> Vec<Added> {
        let mut added = Vec::new();
        if let Some(site) = &vars.site {
            added.push(self.add_site_totals(site));
        }
        for battery in &vars.batteries {
            added.push(self.add_battery(battery));
        }
        for device in &vars.devices {
            for buf in &device.records {
                let record = buf.record();
                if device.shared_serial && matches!(record, Record::Inverter(_) | Record::Meter(_))
                {
                    let shared = vars
                        .devices
                        .iter()
                        .filter(|d| d.kind == device.kind && d.serial == device.serial)
                        .count();
                    self.collide(&record, shared);
                    continue;
                }
                added.push(self.add(&record));
            }
        }
        added
    }

    /// Feeds one battery's reading (a SunVault of `/vars`): its discharge and charge counters
    /// give the interval's battery energy (discharged minus charged, the sign of `ess_en`), in
    /// place of the site totals' `ess_en`, and its state of charge the interval's. Its time
    /// (`msmtEps`) ends what it measured, as a device's.
    ///
    /// ```
    /// use sunpower_proto::parse_vars;
    /// use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
    /// let poll = |time: &str, discharged: f64, charged: f64| format!(r#"{{
    ///     "/sys/devices/ess/0/sn": "BAT1", "/sys/devices/ess/0/msmtEps": "{time}",
    ///     "/sys/devices/ess/0/posLtea3phsumKwh": "{discharged}",
    ///     "/sys/devices/ess/0/negLtea3phsumKwh": "{charged}",
    ///     "/sys/devices/ess/0/socVal": "0.5"}}"#);
    /// let mut acc = IntervalAccumulator::new(IntervalConfig::documents());
    /// acc.add_vars(&parse_vars(poll("2025-07-15T15:10:00Z", 100.0, 200.0)).unwrap());
    /// acc.add_vars(&parse_vars(poll("2025-07-15T15:15:00Z", 100.25, 200.0)).unwrap());
    /// let row = acc.finish().pop().unwrap();
    /// assert_eq!((row.battery_wh, row.battery_soc_pct), (Some(250.0), Some(50.0)));
    /// ```
    #[cfg(feature = "varserver")]
    pub fn add_battery(&mut self, battery: &crate::Battery) -> Added {
        self.stats.records += 1;
        let added = self.insert_battery(battery);
        self.count(added);
        added
    }

    #[cfg(feature = "varserver")]
    fn insert_battery(&mut self, battery: &crate::Battery) -> Added {
        let timestamp = battery.timestamp;
        let (record_type, serial) = (0, battery.serial.as_str());
        if timestamp.timestamp() < MIN_TIME {
            self.push_event(Event::ImplausibleTime {
                record_type,
                serial: serial.to_owned(),
                timestamp,
            });
            return Added::ImplausibleTime;
        }
        // Keyed as the end-labelled readings of `/vars` are (see `Series::end_labelled`).
        let t = timestamp.timestamp() - 1;
        if self.pruned_to.is_some_and(|p| t < p) {
            self.push_event(Event::BeyondHorizon {
                record_type,
                serial: serial.to_owned(),
                timestamp,
            });
            return Added::BeyondHorizon;
        }
        let mut hash = 0xcbf2_9ce4_8422_2325u64;
        for v in [
            battery.discharge_energy_kwh,
            battery.charge_energy_kwh,
            battery.power_kw,
            battery.soc_pct,
        ] {
            hash = fnv1a_step(hash, &v.map_or(u64::MAX, f64::to_bits).to_le_bytes());
        }
        let series = self.batteries.entry(serial.into()).or_default();
        let reading = |energy_kwh| Reading {
            energy_kwh,
            power_kw: battery.power_kw.map(f64::abs),
            resolution_kwh: None,
            hash,
        };
        let mut unused = BTreeMap::new();
        let added = place(
            &mut series.discharge,
            &mut unused,
            t,
            reading(battery.discharge_energy_kwh),
            &mut self.pending,
            &mut self.dirty,
        );
        match added {
            Added::Stored => {
                place(
                    &mut series.charge,
                    &mut unused,
                    t,
                    reading(battery.charge_energy_kwh),
                    &mut self.pending,
                    &mut self.dirty,
                );
                series.discharge.end_labelled = true;
                series.charge.end_labelled = true;
                if let Some(soc) = battery.soc_pct {
                    series.soc.insert(t, soc);
                }
            }
            Added::Conflict => self.push_event(Event::DuplicateConflict {
                record_type,
                serial: serial.to_owned(),
                timestamp,
            }),
            _ => {}
        }
        added
    }

    /// Notes a record whose serial is shared: its time marks the interval, nothing is stored.
    #[cfg(feature = "varserver")]
    fn collide(&mut self, record: &Record<'_>, devices: usize) {
        let (kind, serial, timestamp) = match record {
            Record::Inverter(r) => (DeviceKind::Inverter, r.serial, r.timestamp),
            Record::Meter(r) => (DeviceKind::Meter, r.serial, r.timestamp),
            _ => return,
        };
        self.stats.records += 1;
        // Keyed as the end-labelled readings of `/vars` are (see `Series::end_labelled`).
        let t = timestamp.timestamp() - 1;
        if t < MIN_TIME {
            self.count(Added::ImplausibleTime);
            self.push_event(Event::ImplausibleTime {
                record_type: kind.record_type(),
                serial: serial.to_owned(),
                timestamp,
            });
            return;
        }
        self.stats.serial_collisions += 1;
        if self.pruned_to.is_some_and(|p| t < p) {
            return;
        }
        let key = (kind, Box::<str>::from(serial));
        let first = !self.collided.contains_key(&key);
        self.collided.entry(key).or_default().insert(t);
        self.pending.insert(t);
        self.note_time(t, || Origin::Collided(kind, serial.into()));
        if first {
            self.push_event(Event::SerialCollision {
                record_type: kind.record_type(),
                serial: serial.to_owned(),
                timestamp,
                devices,
            });
        }
    }

    /// Streaming: sets the capture clock to `now` and returns the intervals that became ready
    /// (complete, or late by the configured lateness) and revisions of emitted intervals that
    /// late records changed, in start order. Offline: only moves the clock, which keeps a
    /// record dated more than a day ahead of it from moving the horizon; returns nothing
    /// ([`drain_ready`](Self::drain_ready) hands out the intervals that became final).
    ///
    /// ```
    /// use sunpower_proto::parse_line;
    /// use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
    /// use chrono::{TimeZone, Utc};
    /// let mut acc = IntervalAccumulator::new(IntervalConfig::streaming());
    /// acc.add(&parse_line("130\t20260601170000\tINV1\tAC_Module_Type_C\t\t100.000\t0.3").unwrap());
    /// acc.add(&parse_line("130\t20260601170500\tINV1\tAC_Module_Type_C\t\t100.025\t0.3").unwrap());
    /// // The only device reported for 17:05: that interval is complete.
    /// let ready = acc.advance_to(Utc.with_ymd_and_hms(2026, 6, 1, 17, 6, 0).unwrap());
    /// let starts: Vec<String> = ready.iter().map(|i| i.interval_start.format("%H:%M").to_string()).collect();
    /// assert_eq!(starts, ["17:00", "17:05"]);
    /// assert_eq!(ready[1].production_wh, 25.0);
    /// assert!(acc.advance_to(Utc.with_ymd_and_hms(2026, 6, 1, 17, 7, 0).unwrap()).is_empty());
    /// ```
    pub fn advance_to(&mut self, now: DateTime<Utc>) -> Vec<Interval> {
        let now = now.timestamp();
        self.clock = Some(self.clock.map_or(now, |c| c.max(now)));
        if self.config.mode == Mode::Offline {
            return Vec::new();
        }
        self.process(None, false);
        let cutoff = now.saturating_sub(self.config.horizon.num_seconds());
        self.prune(cutoff, true);
        self.take_ready()
    }

    /// Emits every interval not emitted yet (complete or not) and pending revisions, in start
    /// order. The accumulator stays usable: later records produce revisions.
    ///
    /// ```
    /// use sunpower_proto::parse_line;
    /// use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
    /// let mut acc = IntervalAccumulator::new(IntervalConfig::default());
    /// acc.add(&parse_line("130\t20260601170000\tINV1\tAC_Module_Type_C\t\t100.000\t0.3").unwrap());
    /// acc.add(&parse_line("130\t20260601170500\tINV1\tAC_Module_Type_C\t\t100.025\t0.3").unwrap());
    /// let rows = acc.finish();
    /// assert_eq!(rows.len(), 2);
    /// assert_eq!((rows[1].production_wh, rows[1].inverters_reporting), (25.0, 1));
    /// assert_eq!(rows[1].consumption_wh, None); // no consumption meter
    /// assert!(acc.finish().is_empty()); // each interval once
    /// ```
    pub fn finish(&mut self) -> Vec<Interval> {
        for (t, origin) in std::mem::take(&mut self.lone) {
            self.settle_lone(t, origin);
        }
        self.process(None, true);
        self.take_ready()
    }

    /// Hands out the intervals already emitted but not yet returned, without waiting for
    /// [`advance_to`](Self::advance_to) or [`finish`](Self::finish): in offline mode, those
    /// older than the horizon (final), so a long input can be written out in constant memory.
    ///
    /// ```
    /// use sunpower_proto::parse_line;
    /// use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
    /// use chrono::TimeDelta;
    /// // Offline, with a one-hour horizon: intervals that fell out of it are final at once.
    /// let mut acc = IntervalAccumulator::new(IntervalConfig::default().with_horizon(TimeDelta::hours(1)));
    /// acc.add(&parse_line("130\t20260601170000\tINV1\tAC_Module_Type_C\t\t100.000\t0.3").unwrap());
    /// acc.add(&parse_line("130\t20260601170500\tINV1\tAC_Module_Type_C\t\t100.025\t0.3").unwrap());
    /// assert!(acc.drain_ready().is_empty());
    /// acc.add(&parse_line("130\t20260601190000\tINV1\tAC_Module_Type_C\t\t100.500\t0.3").unwrap());
    /// let final_rows = acc.drain_ready();
    /// assert!(!final_rows.is_empty());
    /// assert!(final_rows.iter().all(|i| i.interval_start.format("%H").to_string() == "17"));
    /// ```
    pub fn drain_ready(&mut self) -> Vec<Interval> {
        self.take_ready()
    }

    /// Offline: a stored reading's time moves the reach when within a day of it or when another
    /// record confirms it (a real gap in the data); alone, it is kept aside, so one clock gone
    /// wrong cannot push every other record out of the horizon.
    fn note_time(&mut self, t: i64, origin: impl FnOnce() -> Origin) {
        if self.config.mode != Mode::Offline {
            return;
        }
        // The capture clock confirms a time up to a day ahead of it.
        let confirmed = |base: Option<i64>| base.is_some_and(|b| t <= b.saturating_add(CLOCK_LEAD));
        if confirmed(self.reach) || confirmed(self.clock) {
            self.reach = Some(self.reach.map_or(t, |r| r.max(t)));
            return;
        }
        let near = |&(lt, _): &(i64, Origin)| lt.abs_diff(t) <= CLOCK_LEAD.unsigned_abs();
        if let Some(i) = self.lone.iter().position(near) {
            let (lt, _) = self.lone.swap_remove(i);
            let reach = self.reach.map_or(t, |r| r.max(t)).max(lt);
            self.reach = Some(reach);
            let limit = reach.saturating_add(CLOCK_LEAD);
            self.lone.retain(|&(lt, _)| lt > limit);
            return;
        }
        self.lone.push((t, origin()));
        if self.lone.len() > MAX_LONE {
            let (lt, origin) = self.lone.remove(0);
            self.settle_lone(lt, origin);
        }
    }

    /// A reading no other record confirmed: taken out and reported when further than the
    /// horizon from the reach (it would have moved the horizon past every other record),
    /// otherwise an ordinary reading.
    fn settle_lone(&mut self, t: i64, origin: Origin) {
        let horizon = self.config.horizon.num_seconds().max(0).unsigned_abs();
        let Some(reach) = self.reach else {
            self.reach = Some(t);
            return;
        };
        if t.abs_diff(reach) <= horizon {
            self.reach = Some(reach.max(t));
            return;
        }
        let mut timestamp = utc(t);
        let (record_type, serial) = match origin {
            Origin::Device(kind, serial) => {
                let (map, gaps) = match kind {
                    DeviceKind::Inverter => (&mut self.inverters, &mut self.inverter_gaps),
                    DeviceKind::Meter => (&mut self.meters, &mut self.meter_gaps),
                };
                if let Some(series) = map.get_mut(&serial) {
                    timestamp = series.record_time(t);
                    unplace(series, gaps, t, &mut self.dirty);
                }
                self.stats.stored -= 1;
                (kind.record_type(), String::from(serial))
            }
            Origin::Site => {
                let site = &mut self.site;
                unplace(&mut site.pv, &mut self.site_gaps, t, &mut self.dirty);
                for series in [&mut site.net, &mut site.battery] {
                    unplace(series, &mut BTreeMap::new(), t, &mut self.dirty);
                }
                site.soc.remove(&t);
                self.stats.stored -= 1;
                self.stats.site_totals -= 1;
                timestamp = utc(t + 1);
                (0, "site_totals".to_owned())
            }
            #[cfg(feature = "varserver")]
            Origin::Collided(kind, serial) => {
                let key = (kind, serial);
                if let Some(times) = self.collided.get_mut(&key) {
                    times.remove(&t);
                    if times.is_empty() {
                        self.collided.remove(&key);
                    }
                }
                self.stats.serial_collisions -= 1;
                timestamp = utc(t + 1);
                (kind.record_type(), String::from(key.1))
            }
        };
        self.stats.implausible_times += 1;
        if !self.held_at(t) {
            self.pending.remove(&t);
            self.dirty.remove(&t);
        }
        self.push_event(Event::ImplausibleTime {
            record_type,
            serial,
            timestamp,
        });
    }

    /// Site totals may come every second (telemetry) for weeks: the reading before `t` is
    /// folded away when it lies in one fold bucket with its neighbours and every counter steps
    /// plainly across it (an increase, or for net and battery any plausible step), so the
    /// step from the reading before it to `t` is the sum of the two, in the same interval.
    /// Memory is then two readings a bucket, whatever the rate; energy stays exact.
    fn fold_site_before(&mut self, t: i64) {
        let bucket = match self.cadence_and_settled() {
            // Fixed, or the default the fine readings decided: the interval is the bucket, two
            // readings an interval.
            (cadence, true) => cadence,
            // Votes may still change it: a minute, which divides every inferred cadence.
            (_, false) => 60,
        };
        let site = &self.site;
        let mut before = site.pv.readings.range(..t).rev().map(|(&k, _)| k);
        let (Some(m), Some(p)) = (before.next(), before.next()) else {
            return;
        };
        // The step into `p` must be plain too: the reading after a reset, glitch or jump is
        // kept, so that what tells them apart (the next reading) stays a second away.
        let pp = before.next();
        if p.div_euclid(bucket) != t.div_euclid(bucket) {
            return;
        }
        let plain = |series: &Series, signed: bool| {
            let energy = |at| series.readings.get(&at).map(|r| r.energy_kwh);
            // A bound every later one is at least (the floor of the system-size bound).
            let max_kw = series.max_kw().min(MIN_PLAUSIBLE_KW);
            let step =
                |x, y, gap| matches!(classify(x, y, gap, signed, max_kw), Plain::Increase { .. });
            let into_p = match pp.map(|q| (q, energy(q).flatten(), energy(p).flatten())) {
                Some((q, Some(z), Some(a))) => step(z, a, p - q),
                _ => true,
            };
            into_p
                && match (energy(p), energy(m), energy(t)) {
                    (Some(_), Some(None), Some(_)) => true,
                    (Some(Some(a)), Some(Some(b)), Some(Some(c))) => {
                        step(a, b, m - p) && step(b, c, t - m)
                    }
                    _ => false,
                }
        };
        if !(plain(&site.pv, false) && plain(&site.net, true) && plain(&site.battery, true)) {
            return;
        }
        let site = &mut self.site;
        for series in [&mut site.pv, &mut site.net, &mut site.battery] {
            series.readings.remove(&m);
        }
        if site.soc.contains_key(&t) {
            site.soc.remove(&m);
        }
        if !self.held_at(m) {
            self.pending.remove(&m);
            self.dirty.remove(&m);
        }
    }

    /// Whether any reading is kept at `t`.
    fn held_at(&self, t: i64) -> bool {
        (self.inverters.values())
            .chain(self.meters.values())
            .chain([&self.site.pv])
            .chain(self.batteries.values().map(|b| &b.discharge))
            .any(|s| s.readings.contains_key(&t))
            || self.collided.values().any(|times| times.contains(&t))
    }

    fn take_ready(&mut self) -> Vec<Interval> {
        let mut ready = std::mem::take(&mut self.ready);
        ready.sort_by_key(|i| i.interval_start);
        ready
    }

    /// Emits new intervals and revisions among the pending and dirty reading times (only those
    /// before `below` when given). `force` emits intervals even if incomplete and not late.
    fn process(&mut self, below: Option<i64>, force: bool) {
        let cad = self.cadence_s();
        let floor = |t: i64| t.div_euclid(cad) * cad;
        let limit = below.unwrap_or(i64::MAX);
        let starts: BTreeSet<i64> = self
            .pending
            .range(..limit)
            .chain(self.dirty.range(..limit))
            .map(|&t| floor(t))
            .collect();
        if starts.is_empty() {
            return;
        }
        let orientation = self.orientations();
        let lateness = self.config.lateness.num_seconds().max(0);
        let streaming = self.config.mode == Mode::Streaming;
        for s in starts {
            let e = s + cad;
            let mut events = Vec::new();
            if let Some(previous) = self.emitted.get(&s) {
                let mut fresh = self.compute(s, e, &orientation, &mut events);
                if !fresh.same_values(previous) {
                    // Report only what the revision adds, not what was reported before.
                    let before = previous.flags;
                    events.retain(|ev| match ev {
                        Event::CounterReset { .. } | Event::SiteCounterReset { .. } => {
                            !before.contains(Flag::CounterReset)
                        }
                        Event::CounterGlitch { .. } => !before.contains(Flag::CounterGlitch),
                        Event::ConsumptionClamped { .. } => {
                            !before.contains(Flag::ConsumptionClamped)
                        }
                        _ => true,
                    });
                    fresh.revised = true;
                    fresh.flags.insert(Flag::Revised);
                    self.emit(s, fresh, events);
                }
            } else {
                let late = self
                    .clock
                    .is_some_and(|now| now >= e.saturating_add(lateness));
                let ready = force || (streaming && (late || self.complete(s, e)));
                if !ready {
                    continue;
                }
                let fresh = self.compute(s, e, &orientation, &mut events);
                self.emit(s, fresh, events);
            }
            let done: Vec<i64> = self.pending.range(s..e).copied().collect();
            for t in done {
                self.pending.remove(&t);
            }
        }
        let clean: Vec<i64> = self.dirty.range(..limit).copied().collect();
        for t in clean {
            self.dirty.remove(&t);
        }
    }

    fn emit(&mut self, start: i64, interval: Interval, events: Vec<Event>) {
        for event in events {
            self.push_event(event);
        }
        self.emitted.insert(start, interval.clone());
        self.ready.push(interval);
    }

    /// Complete: every device that reported in the day before the interval reported for it;
    /// the site totals, which may come every second (telemetry), once they reported past its end
    /// (an interval is not known whole at its first reading).
    fn complete(&self, s: i64, e: i64) -> bool {
        let from = s - DAY;
        let site = &self.site.pv;
        (!site.any_in(from, e) || site.any_in(e, i64::MAX))
            && self
                .inverters
                .values()
                .chain(self.meters.values())
                .all(|series| !series.any_in(from, s) || series.any_in(s, e))
    }

    fn orientations(&self) -> HashMap<String, f64> {
        self.meters
            .iter()
            .map(|(serial, series)| {
                let sign = if series.correlation() < 0.0 {
                    -1.0
                } else {
                    1.0
                };
                (serial.to_string(), sign)
            })
            .collect()
    }

    fn compute(
        &self,
        s: i64,
        e: i64,
        orientation: &HashMap<String, f64>,
        events: &mut Vec<Event>,
    ) -> Interval {
        let cad = e - s;
        let hours = cad as f64 / 3600.0;
        let mut flags = Flags::empty();
        let collided = |kind: DeviceKind, from: i64| {
            self.collided
                .iter()
                .any(|((k, _), times)| *k == kind && times.range(from..e).next().is_some())
        };
        if collided(DeviceKind::Inverter, s) || collided(DeviceKind::Meter, s) {
            flags.insert(Flag::SerialCollision);
        }
        // Devices that cannot be followed in the last day make the site totals the source of every
        // interval, not only of those where both are read: the supervisor reads its totals at
        // another time than its devices (8 min 22 s later in a real dump), and taking one source
        // here and the other there would lose or double the energy between the two.
        let (inverters_collided, meters_collided) = (
            collided(DeviceKind::Inverter, s - DAY),
            collided(DeviceKind::Meter, s - DAY),
        );

        let mut production_kwh = 0.0;
        // A term of the consumption neither measured nor estimated: no consumption.
        let mut production_missing = false;
        // A site counter's first reading in this interval: what it measured before is unknown,
        // which only the other site counters (read at the same times) share.
        let mut site_first = false;
        // A battery counter step not known (first report, reset): the battery term is missing.
        let mut battery_missing = false;
        let mut reporting = 0u32;
        for series in self.inverters.values() {
            reporting += u32::from(series.any_in(s, e));
        }
        let site_pv =
            self.site.pv.any_in(s, e) || (inverters_collided && self.site.pv.any_reading());
        if site_pv && (self.inverters.is_empty() || inverters_collided) {
            flags.insert(Flag::ProductionFromSiteTotals);
            let first;
            (production_kwh, first) =
                self.site_steps(&self.site.pv, "pv_en", s, e, false, &mut flags, events);
            site_first |= first;
            // Before the site totals' first reading their production is not known.
            production_missing |= self.site.pv.counters_before(e).next().is_none();
        } else {
            for (serial, series) in &self.inverters {
                for (&t, reading) in series.readings.range(s..e) {
                    let step = series.step(t, reading, false);
                    // A step whose energy the counter does not give (counted as 0): the
                    // production is incomplete, so the interval has no consumption.
                    production_missing |=
                        matches!(step, Step::First | Step::Reset { .. } | Step::NoCounter);
                    production_kwh += counted(
                        step,
                        cad,
                        &mut flags,
                        || (130, serial.to_string(), series.record_time(t)),
                        events,
                    );
                }
            }
        }

        let mut net_kwh = 0.0;
        // What the meters that measure the house's load counted, when one reported.
        let mut load_kwh: Option<f64> = None;
        let (mut any_meter, mut by_counter, mut by_power) = (false, false, false);
        let site_net = self
            .site
            .net
            .readings
            .range(s..e)
            .any(|(_, r)| r.energy_kwh.is_some())
            || (meters_collided && self.site.net.any_reading());
        if site_net && (self.meters.is_empty() || meters_collided) {
            flags.insert(Flag::NetFromSiteTotals);
            let first;
            (net_kwh, first) =
                self.site_steps(&self.site.net, "net_en", s, e, true, &mut flags, events);
            site_first |= first;
            (any_meter, by_counter) = (true, true);
        } else {
            // Counter steps finer than 1 Wh per minute of interval are precise enough.
            let fine_enough = cad as f64 / 60.0 / 1000.0;
            for (serial, series) in &self.meters {
                let sign = orientation.get(&**serial).copied().unwrap_or(1.0);
                for (&t, reading) in series.readings.range(s..e) {
                    any_meter = true;
                    let energy = if series.role == MeterRole::Load {
                        load_kwh.get_or_insert(0.0)
                    } else {
                        if series.role == MeterRole::Unknown {
                            flags.insert(Flag::MeterRoleUnknown);
                        }
                        &mut net_kwh
                    };
                    let mut counted_here = false;
                    if reading.resolution_kwh.is_some_and(|r| r <= fine_enough) {
                        let step = series.step(t, reading, true);
                        if let Step::Increase { kwh, gap, .. } = step {
                            *energy += sign * kwh;
                            by_counter = true;
                            counted_here = true;
                            if gap > cad && kwh != 0.0 {
                                flags.insert(Flag::MissedReport);
                            }
                        } else {
                            counted(
                                step,
                                cad,
                                &mut flags,
                                || (140, serial.to_string(), series.record_time(t)),
                                events,
                            );
                        }
                    }
                    if !counted_here && let Some(power) = reading.power_kw {
                        *energy += power * hours;
                        by_power = true;
                    }
                }
            }
        }
        let net_source = if by_power {
            flags.insert(Flag::NetFromPower);
            NetSource::Power
        } else if by_counter {
            NetSource::Counter
        } else {
            NetSource::None
        };
        if !any_meter {
            flags.insert(if self.meters.is_empty() {
                Flag::NoMeter
            } else {
                Flag::MeterMissing
            });
        }

        // The batteries' own counters where they reported, else the site totals' `ess_en`.
        let mut own_battery: Option<f64> = None;
        let mut own_socs = Vec::new();
        for (serial, battery) in &self.batteries {
            if battery.discharge.readings.range(s..e).next().is_none() {
                continue;
            }
            let mut kwh = 0.0;
            for (series, sign) in [(&battery.discharge, 1.0), (&battery.charge, -1.0)] {
                for (&t, reading) in series.readings.range(s..e) {
                    let step = series.step(t, reading, false);
                    battery_missing |=
                        matches!(step, Step::First | Step::Reset { .. } | Step::NoCounter);
                    kwh += sign
                        * counted(
                            step,
                            cad,
                            &mut flags,
                            || (0, serial.to_string(), series.record_time(t)),
                            events,
                        );
                }
            }
            *own_battery.get_or_insert(0.0) += kwh;
            own_socs.extend(battery.soc.range(s..e).next_back().map(|(_, &v)| v));
        }
        let battery_kwh = if own_battery.is_some() {
            own_battery
        } else {
            (self.site.battery.readings.range(s..e))
                .any(|(_, r)| r.energy_kwh.is_some())
                .then(|| {
                    let (kwh, first) = self.site_steps(
                        &self.site.battery,
                        "ess_en",
                        s,
                        e,
                        true,
                        &mut flags,
                        events,
                    );
                    site_first |= first;
                    kwh
                })
        };
        let all_site = flags.contains(Flag::ProductionFromSiteTotals)
            && flags.contains(Flag::NetFromSiteTotals);
        let terms_missing = production_missing || battery_missing || (site_first && !all_site);
        // Several batteries: the mean of their states of charge (SunVaults of one size).
        let battery_soc_pct = if own_socs.is_empty() {
            self.site.soc.range(s..e).next_back().map(|(_, &v)| v)
        } else {
            Some(own_socs.iter().sum::<f64>() / own_socs.len() as f64)
        };

        // Powers from the unrounded energies, so 46.6666 Wh in 5 minutes gives 560 W, not 560.004.
        let production_wh = production_kwh * 1000.0;
        let battery_wh = battery_kwh.map(|kwh| kwh * 1000.0);
        let battery_term = battery_wh.unwrap_or(0.0);
        let (net_wh, consumption_wh) = match load_kwh.filter(|_| net_source != NetSource::None) {
            // A meter around the house's load: consumption is what it counted, and the net
            // what production and the battery leave of it (when they were measured).
            Some(load) => {
                let load = load * 1000.0;
                let net = (!terms_missing).then_some(load - production_wh - battery_term);
                (net, Some(load))
            }
            None => {
                let net = (net_source != NetSource::None).then_some(net_kwh * 1000.0);
                let consumption = net
                    .filter(|_| !terms_missing)
                    .map(|net| production_wh + net + battery_term);
                (net, consumption)
            }
        };
        let consumption_wh = consumption_wh.map(|computed| {
            if round3(computed) < 0.0 {
                flags.insert(Flag::ConsumptionClamped);
                events.push(Event::ConsumptionClamped {
                    interval_start: utc(s),
                    computed_wh: round3(computed),
                });
                0.0
            } else {
                computed
            }
        });
        let to_w = |wh: f64| round3(wh / hours);
        Interval {
            interval_start: utc(s),
            interval_end: utc(e),
            production_wh: round3(production_wh),
            consumption_wh: consumption_wh.map(round3),
            net_wh: net_wh.map(round3),
            production_w: to_w(production_wh),
            consumption_w: consumption_wh.map(to_w),
            battery_wh: battery_wh.map(round3),
            battery_soc_pct,
            net_source,
            inverters_reporting: reporting,
            flags,
            revised: false,
        }
    }

    /// The sum of a site counter's steps over [s, e), and whether it had its first reading
    /// there; resets reported by the counter's name.
    #[allow(clippy::too_many_arguments)]
    fn site_steps(
        &self,
        series: &Series,
        counter: &'static str,
        s: i64,
        e: i64,
        signed: bool,
        flags: &mut Flags,
        events: &mut Vec<Event>,
    ) -> (f64, bool) {
        let mut kwh = 0.0;
        let mut first = false;
        for (&t, reading) in series.readings.range(s..e) {
            match series.step(t, reading, signed) {
                Step::Increase { kwh: k, .. } => kwh += k,
                Step::Reset { from, to } => {
                    flags.insert(Flag::CounterReset);
                    events.push(Event::SiteCounterReset {
                        counter,
                        timestamp: utc(t + 1),
                        from_kwh: from,
                        to_kwh: to,
                    });
                }
                Step::Jitter => flags.insert(Flag::CounterJitter),
                Step::Glitch { .. } => flags.insert(Flag::CounterGlitch),
                Step::First => first = true,
                Step::NoCounter => {}
            }
        }
        (kwh, first)
    }

    /// Folds readings older than `cutoff` (floored to the cadence) into each device's last
    /// counter, after emitting the intervals they belong to.
    fn prune(&mut self, cutoff: i64, always: bool) {
        let cad = self.cadence_s();
        let cutoff = cutoff.div_euclid(cad) * cad;
        if let Some(p) = self.pruned_to {
            let step = if always { 1 } else { PRUNE_STEP };
            if cutoff < p.saturating_add(step) {
                return;
            }
        }
        self.process(Some(cutoff), true);
        let site = &mut self.site;
        for series in (self.inverters.values_mut())
            .chain(self.meters.values_mut())
            .chain([&mut site.pv, &mut site.net, &mut site.battery])
            .chain((self.batteries.values_mut()).flat_map(|b| [&mut b.discharge, &mut b.charge]))
        {
            series.folded_correlation = 0.0;
            let keep = series.readings.split_off(&cutoff);
            let old = std::mem::replace(&mut series.readings, keep);
            let mut prev = series.base;
            let mut correlation = 0.0;
            let max_kw = series.max_kw();
            for (t, r) in old {
                if let Some(now) = r.energy_kwh {
                    if let (Some((pt, p)), Some(power)) = (prev, r.power_kw)
                        && let Plain::Increase { kwh, .. } = classify(p, now, t - pt, true, max_kw)
                    {
                        correlation += kwh * power;
                    }
                    prev = Some((t, now));
                }
            }
            series.base = prev;
            series.folded_correlation += correlation;
        }
        let expired = cutoff.saturating_sub(DEVICE_EXPIRY);
        self.inverters
            .retain(|_, s| !s.readings.is_empty() || s.last_seen >= expired);
        self.meters
            .retain(|_, s| !s.readings.is_empty() || s.last_seen >= expired);
        site.soc = site.soc.split_off(&cutoff);
        for battery in self.batteries.values_mut() {
            battery.soc = battery.soc.split_off(&cutoff);
        }
        for times in self.collided.values_mut() {
            *times = times.split_off(&cutoff);
        }
        self.collided.retain(|_, times| !times.is_empty());
        self.emitted = self.emitted.split_off(&cutoff);
        self.pending = self.pending.split_off(&cutoff);
        self.dirty = self.dirty.split_off(&cutoff);
        self.pruned_to = Some(cutoff);
    }
}

/// The energy a device's step counts, kWh, with its flags and events.
fn counted(
    step: Step,
    cad: i64,
    flags: &mut Flags,
    key: impl Fn() -> (u16, String, DateTime<Utc>),
    events: &mut Vec<Event>,
) -> f64 {
    match step {
        Step::NoCounter => 0.0,
        Step::First => {
            flags.insert(Flag::FirstReport);
            0.0
        }
        Step::Increase {
            kwh,
            gap,
            over_glitch,
        } => {
            if gap > cad && kwh > 0.0 && !over_glitch {
                flags.insert(Flag::MissedReport);
            }
            kwh
        }
        Step::Jitter => {
            flags.insert(Flag::CounterJitter);
            0.0
        }
        Step::Glitch { value, held } => {
            flags.insert(Flag::CounterGlitch);
            let (record_type, serial, timestamp) = key();
            events.push(Event::CounterGlitch {
                record_type,
                serial,
                timestamp,
                value_kwh: value,
                held_kwh: held,
            });
            0.0
        }
        Step::Reset { from, to } => {
            flags.insert(Flag::CounterReset);
            let (record_type, serial, timestamp) = key();
            events.push(Event::CounterReset {
                record_type,
                serial,
                timestamp,
                from_kwh: from,
                to_kwh: to,
            });
            0.0
        }
    }
}

fn push_capped(events: &mut Vec<Event>, stats: &mut Stats, event: Event) {
    if events.len() < MAX_EVENTS {
        events.push(event);
    } else {
        stats.events_dropped += 1;
    }
}

/// Interval lengths that divide a day, longest first: what a gap can vote for.
const STANDARD_CADENCES: [i64; 18] = [
    86_400, 43_200, 21_600, 14_400, 10_800, 7_200, 3_600, 1_800, 1_200, 900, 720, 600, 360, 300,
    240, 180, 120, 60,
];

/// The cadence a gap votes for: rounded to whole minutes, then the longest standard cadence
/// dividing it (a 35-minute gap votes for 5 minutes). `None` for gaps under 30 s or over a day.
fn snap(gap: i64) -> Option<i64> {
    if !(30..=DAY).contains(&gap) {
        return None;
    }
    let rounded = (gap + 30) / 60 * 60;
    STANDARD_CADENCES.into_iter().find(|&d| rounded % d == 0)
}

fn add_gap(gaps: &mut BTreeMap<i64, u64>, gap: i64) {
    if let Some(gap) = snap(gap) {
        *gaps.entry(gap).or_insert(0) += 1;
    }
}

fn remove_gap(gaps: &mut BTreeMap<i64, u64>, gap: i64) {
    let Some(gap) = snap(gap) else {
        return;
    };
    if let Some(count) = gaps.get_mut(&gap) {
        *count -= 1;
        if *count == 0 {
            gaps.remove(&gap);
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn offline_a_record_far_ahead_of_the_clock_does_not_move_the_horizon() {
        use chrono::TimeZone;
        let config = IntervalConfig::default().with_horizon(TimeDelta::days(2));
        let line = |t: &str, kwh: &str| format!("130\t{t}\tINV1\tAC_Module_Type_C\t\t{kwh}\t0.3");
        let mut acc = IntervalAccumulator::new(config);
        acc.advance_to(Utc.with_ymd_and_hms(2026, 6, 1, 17, 10, 0).unwrap());
        acc.add(&crate::parse_line(&line("20260601170000", "100.000")).unwrap());
        // A supervisor clock ten years ahead: without the capture clock it would fold every
        // reading before it and refuse the next ones as beyond the horizon.
        acc.add(&crate::parse_line(&line("20360601170000", "100.010")).unwrap());
        assert_eq!(
            acc.add(&crate::parse_line(&line("20260601170500", "100.025")).unwrap()),
            Added::Stored
        );
        assert!(acc.drain_ready().is_empty());
        // Once the clock moves past the horizon, the early intervals are final at once.
        acc.advance_to(Utc.with_ymd_and_hms(2026, 6, 4, 19, 0, 0).unwrap());
        acc.add(&crate::parse_line(&line("20260604185500", "100.500")).unwrap());
        let ready = acc.drain_ready();
        let starts: Vec<String> = ready
            .iter()
            .map(|i| i.interval_start.format("%H:%M").to_string())
            .collect();
        assert_eq!(starts, ["17:00", "17:05"]);
        assert_eq!(ready[1].production_wh, 25.0);
        // Without a clock, a far-ahead record that no other confirms moves no horizon either
        // (issue 25), and is taken out at the end.
        let mut unclocked = IntervalAccumulator::new(config);
        unclocked.add(&crate::parse_line(&line("20260601170000", "100.000")).unwrap());
        unclocked.add(&crate::parse_line(&line("20360601170000", "100.010")).unwrap());
        let late = line("20260601170500", "100.025");
        assert_eq!(
            unclocked.add(&crate::parse_line(&late).unwrap()),
            Added::Stored
        );
        let rows = unclocked.finish();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].production_wh, 25.0);
        assert_eq!(unclocked.stats().implausible_times, 1);
    }
    use super::*;

    #[test]
    fn a_json_source_s_readings_are_duplicates_by_value_whatever_the_source() {
        use crate::record::Source;
        let time = crate::parse_timestamp("20250930155000");
        let inverter = |source, kwh| {
            Record::from_fields(130, source, |name| match name {
                "timestamp" => Some(FieldValue::Time(time)),
                "serial" => Some(FieldValue::Text(Some("E1"))),
                "lifetime_energy_kwh" => Some(FieldValue::Decimal(Some(kwh))),
                _ => None,
            })
            .unwrap()
        };
        let mut acc = IntervalAccumulator::new(IntervalConfig::documents());
        assert_eq!(acc.add(&inverter(Source::Vars, 100.0)), Added::Stored);
        assert_eq!(
            acc.add(&inverter(Source::DeviceList, 100.0)),
            Added::Duplicate
        );
        assert_eq!(acc.add(&inverter(Source::Vars, 100.5)), Added::Conflict);
    }

    #[test]
    fn per_second_site_totals_are_folded_to_two_readings_an_interval_and_energy_stays_exact() {
        // Issue 25: every 1 Hz reading was kept for the horizon (1.37 GiB for 3 million frames),
        // then two a minute (item 8: 55 MiB for 3 million); now two an interval.
        let start = 1_759_428_000;
        let mut acc = IntervalAccumulator::new(IntervalConfig::documents());
        for s in 0..=3600 {
            let site = SiteTotals {
                timestamp: DateTime::from_timestamp(start + s, 0),
                pv_energy_kwh: Some(1000.0 + s as f64 * 0.0005),
                net_energy_kwh: Some(2000.0 - s as f64 * 0.00025),
                battery_energy_kwh: Some(-50.0 + (s % 7) as f64 * 0.0001),
                battery_soc_pct: Some(50.0),
                ..SiteTotals::default()
            };
            acc.add_site_totals(&site);
        }
        assert_eq!(acc.stats().site_totals, 3601);
        assert_eq!(acc.cadence_and_settled(), (300, true));
        // 13 intervals (the first reading ends the one before the hour): two readings each.
        assert!(
            acc.site.pv.readings.len() <= 2 * 13,
            "{}",
            acc.site.pv.readings.len()
        );
        assert!(acc.pending.len() <= 2 * 13);
        assert!(acc.site.soc.len() <= 2 * 13);
        let rows = acc.finish();
        let sum = |f: fn(&Interval) -> f64| (rows.iter().map(f).sum::<f64>() * 1e6).round() / 1e6;
        assert_eq!(sum(|r| r.production_wh), 1800.0);
        assert_eq!(sum(|r| r.net_wh.unwrap_or(0.0)), -900.0);
        // The first reading ends the interval before it (issue 22): 12 intervals of 300 steps.
        assert_eq!(rows.len(), 13);
        assert_eq!((rows[0].production_wh, rows[1].production_wh), (0.0, 150.0));
        assert!(rows.iter().all(|r| r.battery_soc_pct == Some(50.0)));
    }

    /// One reading of a 1 Hz stream: 0.5 Wh of production and -0.25 Wh of net a second, the
    /// battery's counter wandering (as benches/scripts/telemetry_memory.sh).
    fn one_hertz(t: i64, s: i64) -> SiteTotals {
        SiteTotals {
            timestamp: DateTime::from_timestamp(t, 0),
            pv_energy_kwh: Some(1000.0 + s as f64 * 0.0005),
            net_energy_kwh: Some(2000.0 - s as f64 * 0.00025),
            battery_energy_kwh: Some(-50.0 + (s % 7) as f64 * 0.0001),
            battery_soc_pct: Some(50.0),
            ..SiteTotals::default()
        }
    }

    #[test]
    fn a_telemetry_stream_read_offline_holds_its_horizon_whatever_its_length() {
        // Issue 25 item 8: a saved stream kept every interval to the end (documents' 200-year
        // horizon), two readings a minute: memory grew with the stream. The telemetry preset
        // (here with a one-day horizon, so that the test is short) keeps what its horizon
        // holds, and the rows that fall out of it are final at once.
        let start = 1_759_428_000;
        let config = IntervalConfig::telemetry().with_horizon(TimeDelta::days(1));
        let mut acc = IntervalAccumulator::new(config);
        let days = 4;
        let frames = days * DAY;
        let mut rows = Vec::new();
        // What is held, at its most: after the second day, and over the whole stream.
        let (mut held_day_two, mut held) = (0, 0);
        for s in 0..frames {
            acc.add_site_totals(&one_hertz(start + s, s));
            if s % 600 == 0 {
                rows.extend(acc.drain_ready());
                let now = (acc.site.pv.readings.len())
                    .max(acc.pending.len())
                    .max(acc.emitted.len())
                    .max(acc.site.soc.len());
                held = held.max(now);
                if s < 2 * DAY {
                    held_day_two = held;
                }
            }
        }
        // The horizon (a day) and one pruning step of 5-minute intervals, two readings each.
        let bound = 2 * ((DAY + PRUNE_STEP) / 300 + 2) as usize;
        assert!(held <= bound, "{held} held, at most {bound}");
        assert_eq!(held, held_day_two, "what is held grows with the stream");
        let drained = rows.len();
        assert!(drained > 2 * 288, "{drained} rows final before the end");
        rows.extend(acc.finish());
        // Every interval once, in order, each the counters' exact difference over it.
        assert_eq!(rows.len(), (frames / 300 + 1) as usize);
        assert!(rows
            .windows(2)
            .all(|w| w[0].interval_end == w[1].interval_start));
        assert_eq!((rows[0].production_wh, rows[1].production_wh), (0.0, 150.0));
        assert!(rows[1..rows.len() - 1]
            .iter()
            .all(|r| (r.production_wh, r.net_wh) == (150.0, Some(-75.0))));
        let production = rows.iter().map(|r| r.production_wh).sum::<f64>();
        assert_eq!((production * 1e3).round() / 1e3, (frames - 1) as f64 * 0.5);
        assert_eq!(acc.stats().site_totals, frames as u64);
        assert_eq!(acc.stats().beyond_horizon, 0);
    }

    #[test]
    fn a_far_future_frame_moves_no_telemetry_horizon() {
        // Issue 25 item 1 with the telemetry preset: one frame of a clock gone wrong, ten years
        // ahead, folds nothing and refuses nothing; it is taken out at the end.
        let start = 1_759_428_000;
        let mut acc = IntervalAccumulator::new(IntervalConfig::telemetry());
        for s in 0..7200 {
            if s == 3600 {
                acc.add_site_totals(&one_hertz(start + 10 * 365 * DAY, s));
            }
            assert_eq!(acc.add_site_totals(&one_hertz(start + s, s)), Added::Stored);
        }
        assert!(acc.drain_ready().is_empty());
        let rows = acc.finish();
        assert_eq!(rows.len(), 7200 / 300 + 1);
        let production = rows.iter().map(|r| r.production_wh).sum::<f64>();
        assert_eq!((production * 1e3).round() / 1e3, 7199.0 * 0.5);
        assert_eq!(acc.stats().implausible_times, 1);
    }

    #[test]
    fn resolution_counts_decimals() {
        assert_eq!(resolution(Some("607")), Some(1.0));
        assert_eq!(resolution(Some("607.123")), Some(0.001));
        assert_eq!(resolution(Some("")), None);
        assert_eq!(resolution(None), None);
    }

    #[test]
    fn huge_counter_jump_is_a_reset_not_infinity() {
        let max = MAX_PLAUSIBLE_KW;
        assert!(matches!(
            classify(-1e308, 1e308, 300, false, max),
            Plain::Reset
        ));
        assert!(matches!(classify(5.0, 4.0, 300, false, max), Plain::Reset));
        assert!(matches!(
            classify(5.0, 4.0, 300, true, max),
            Plain::Increase { .. }
        ));
    }

    #[test]
    fn gaps_vote_for_standard_cadences() {
        assert_eq!(snap(300), Some(300));
        assert_eq!(snap(298), Some(300));
        assert_eq!(snap(600), Some(600));
        assert_eq!(snap(35 * 60), Some(300));
        assert_eq!(snap(3600), Some(3600));
        assert_eq!(snap(7 * 60), Some(60));
        assert_eq!(snap(10), None);
        assert_eq!(snap(2 * DAY), None);
    }

    #[test]
    fn round3_never_gives_negative_zero() {
        assert!(round3(-0.0001).is_sign_positive());
    }
}
