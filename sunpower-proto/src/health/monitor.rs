//! [`Health`]: the state machine that turns readings, record times and interval events into
//! findings, one local day at a time.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use super::battery::BatteryState;
use super::counters::CounterTally;
use super::day::{median, Day};
use super::dead::DeadRun;
use super::stale::StaleRun;
use super::supervisor::{CommState, UsageRun};
use super::underperforming::{BadRun, DayTally};
use super::{Device, Finding, HealthConfig, InverterReading, Kind};
use crate::intervals::{local_date, local_day_start, Tz};
use crate::Record;

/// Devices followed at most: readings of further serials (a damaged or hostile input) are
/// ignored and counted, so that the state stays bounded.
const MAX_DEVICES: usize = 4096;

/// Days held open at most: a record far ahead of the others closes the older ones.
const MAX_OPEN_DAYS: usize = 8;

/// What is kept of one inverter.
#[derive(Debug, Clone)]
pub(super) struct DeviceState {
    pub(super) device: Device,
    pub(super) first_date: NaiveDate,
    pub(super) latest_measured: DateTime<Utc>,
    pub(super) last_lifetime: Option<(DateTime<Utc>, f64)>,
    pub(super) bad: BadRun,
    pub(super) dead: Option<DeadRun>,
    pub(super) stale: Option<StaleRun>,
}

/// The health stage: fed readings, record times and interval events, it yields [`Finding`]s.
///
/// ```
/// use sunpower_proto::parse_line;
/// use sunpower_proto::health::{Health, HealthConfig, Kind};
/// use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
///
/// let lines = [
///     "130\t20260601170000\tINV1\tAC_Module_Type_C\t\t100.000\t0.3",
///     "130\t20260601170500\tINV1\tAC_Module_Type_C\t\t0\t0.3",
///     "130\t20260601171000\tINV1\tAC_Module_Type_C\t\t100.050\t0.3",
/// ];
/// let mut acc = IntervalAccumulator::new(IntervalConfig::default());
/// let mut health = Health::new(HealthConfig::default(), chrono_tz::UTC);
/// for line in lines {
///     let record = parse_line(line).unwrap();
///     acc.add(&record);
///     health.add(&record);
/// }
/// acc.finish();
/// for event in acc.take_events() {
///     health.add_event(&event);
/// }
/// let findings = health.finish();
/// assert_eq!(findings.len(), 1);
/// assert_eq!(findings[0].kind, Kind::CounterGlitch);
/// assert_eq!(findings[0].device_name(), "INV1");
/// ```
#[derive(Debug, Clone)]
pub struct Health {
    pub(super) config: HealthConfig,
    pub(super) tz: Tz,
    pub(super) devices: Vec<DeviceState>,
    pub(super) index: HashMap<String, usize>,
    pub(super) days: BTreeMap<NaiveDate, Day>,
    /// The last day judged: data for it or earlier is late.
    pub(super) closed: Option<NaiveDate>,
    /// The latest time in the data: the supervisor's "now".
    pub(super) clock: Option<DateTime<Utc>>,
    /// The last minute with data of the days judged (gaps run across midnight).
    pub(super) last_active: Option<DateTime<Utc>>,
    /// The first minute of the data's current run without a gap.
    pub(super) run_start: Option<DateTime<Utc>>,
    /// Votes for the data's usual spacing, minutes -> count (at most 720 keys).
    pub(super) spacings: BTreeMap<i64, u32>,
    pub(super) counters: BTreeMap<(NaiveDate, Kind, u16, String), CounterTally>,
    pub(super) pending: Vec<Finding>,
    pub(super) late: u64,
    /// The supervisors' communication error counters.
    pub(super) supervisors: Vec<CommState>,
    /// The open memory and flash usage faults.
    pub(super) memory_run: Option<UsageRun>,
    pub(super) flash_run: Option<UsageRun>,
    pub(super) wear_run: Option<UsageRun>,
    /// The batteries followed.
    pub(super) batteries: Vec<BatteryState>,
}

impl Health {
    /// A health stage with these thresholds, local days in `tz`.
    ///
    /// ```
    /// use sunpower_proto::health::{Health, HealthConfig};
    /// let mut health = Health::new(HealthConfig::default(), chrono_tz::Europe::Paris);
    /// assert!(health.finish().is_empty());
    /// ```
    pub fn new(config: HealthConfig, tz: Tz) -> Health {
        Health {
            config,
            tz,
            devices: Vec::new(),
            index: HashMap::new(),
            days: BTreeMap::new(),
            closed: None,
            clock: None,
            last_active: None,
            run_start: None,
            spacings: BTreeMap::new(),
            counters: BTreeMap::new(),
            pending: Vec::new(),
            late: 0,
            supervisors: Vec::new(),
            memory_run: None,
            flash_run: None,
            wear_run: None,
            batteries: Vec::new(),
        }
    }

    /// Feeds a record: a 130 line is an inverter reading ([`Health::add_reading`]); every
    /// record's time (and a 100 header's sending time) says the supervisor reported then
    /// ([`Health::add_activity`]).
    ///
    /// ```
    /// use sunpower_proto::parse_line;
    /// use sunpower_proto::health::{Health, HealthConfig, Kind};
    /// let mut health = Health::new(HealthConfig::default(), chrono_tz::UTC);
    /// // Every five minutes for an hour, then two hours of silence.
    /// for minute in (0..=60).step_by(5).chain([180]) {
    ///     let time = format!("{:02}{:02}00", 10 + minute / 60, minute % 60);
    ///     health.add(&parse_line(&format!("120\t20260601{time}\tZT1\t0")).unwrap());
    /// }
    /// let findings = health.finish();
    /// assert_eq!(findings[0].kind, Kind::Gap);
    /// assert_eq!(findings[0].end - findings[0].start, chrono::TimeDelta::hours(2));
    /// ```
    pub fn add(&mut self, record: &Record<'_>) {
        if let Some(reading) = InverterReading::from_record(record) {
            self.add_reading(&reading);
            return;
        }
        if let Some(t) = record.timestamp() {
            self.add_activity(t);
        }
        if let Record::Header(header) = record
            && let Some(t) = header.sent_at
        {
            self.add_activity(t);
        }
        if let Record::SupervisorStatus(status) = record
            && let Some(count) = status.comm_errors
        {
            self.add_comm_errors(status.serial, status.timestamp, count);
        }
    }

    /// Feeds a `/vars` document: its records ([`Health::add`]), then the supervisor's health
    /// ([`Health::add_supervisor_health`]: memory, flash usage and wear) and the batteries
    /// ([`Health::add_batteries`]: a document is one poll, what it lacks is not reported).
    ///
    /// ```
    /// use sunpower_proto::health::{Health, HealthConfig, Kind};
    /// use sunpower_proto::parse_vars;
    /// let mut health = Health::new(HealthConfig::default(), chrono_tz::UTC);
    /// let vars = parse_vars(r#"{"/sys/info/serialnum": "ZT1", "/sys/pvs/flashwear_type_b": "0x09",
    ///     "/sys/livedata/time": "1780315200"}"#).unwrap();
    /// health.add_vars(&vars);
    /// let found = health.finish();
    /// assert_eq!((found[0].kind, found[0].evidence.value), (Kind::FlashWear, Some(90.0)));
    /// ```
    #[cfg(feature = "varserver")]
    pub fn add_vars(&mut self, vars: &crate::Vars) {
        for record in vars.records() {
            self.add(&record.record());
        }
        if let Some(health) = &vars.health {
            self.add_supervisor_health(health);
        }
        self.add_batteries(&vars.batteries);
    }

    /// Notes that the supervisor sent data stamped `t` (for gaps, and as the data's clock).
    ///
    /// ```
    /// use chrono::{TimeDelta, TimeZone, Utc};
    /// use sunpower_proto::health::{Health, HealthConfig};
    /// let mut health = Health::new(HealthConfig::default(), chrono_tz::UTC);
    /// let t = Utc.with_ymd_and_hms(2026, 6, 1, 10, 0, 0).unwrap();
    /// health.add_activity(t);
    /// health.add_activity(t + TimeDelta::minutes(20));
    /// assert!(health.finish().is_empty());
    /// ```
    pub fn add_activity(&mut self, t: DateTime<Utc>) {
        if !usable(t) {
            return;
        }
        self.advance_clock(t);
        if let Some(day) = self.day_for(t) {
            day.mark_active(t);
        }
        self.close_days();
    }

    /// Feeds one inverter reading.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use sunpower_proto::health::{Health, HealthConfig, InverterReading};
    /// let mut health = Health::new(HealthConfig::default(), chrono_tz::UTC);
    /// let t = Utc.with_ymd_and_hms(2026, 6, 1, 10, 0, 0).unwrap();
    /// health.add_reading(&InverterReading::new("INV1", t, Some(0.2), Some(10.0)));
    /// assert!(health.finish().is_empty());
    /// ```
    pub fn add_reading(&mut self, reading: &InverterReading<'_>) {
        let t = reading.measured_at;
        if !usable(t) {
            self.late += 1;
            return;
        }
        self.advance_clock(t);
        let date = local_date(t, self.tz);
        let index = match self.index.get(reading.serial) {
            Some(&i) => i,
            None if self.devices.len() >= MAX_DEVICES => {
                self.late += 1;
                return;
            }
            None => {
                let i = self.devices.len();
                self.index.insert(reading.serial.to_string(), i);
                self.devices.push(DeviceState {
                    device: Device::inverter(reading.serial),
                    first_date: date,
                    // Before any time, so that the first reading is not a repeat.
                    latest_measured: DateTime::<Utc>::MIN_UTC,
                    last_lifetime: None,
                    bad: BadRun::default(),
                    dead: None,
                    stale: None,
                });
                i
            }
        };
        let repeat = self.check_stale(index, reading);
        let power = self.power_of(index, reading);
        let slot = self.slot_of(t);
        match self.day_for(t) {
            Some(day) => {
                day.mark_active(t);
                day.add(slot, index, power);
            }
            None => self.late += 1,
        }
        // A repeated reading still says the device is there, in the slot of the data's time:
        // present without a power, so a frozen device is stale, not also "not reporting".
        if let (true, Some(clock)) = (repeat, self.clock) {
            let now = self.slot_of(clock);
            if let Some(day) = self.day_for(clock) {
                day.add(now, index, None);
            }
        }
        self.close_days();
    }

    /// The findings established so far (as days were judged), in the order found.
    ///
    /// ```
    /// use sunpower_proto::health::{Health, HealthConfig};
    /// let mut health = Health::new(HealthConfig::default(), chrono_tz::UTC);
    /// assert!(health.take_findings().is_empty());
    /// ```
    pub fn take_findings(&mut self) -> Vec<Finding> {
        std::mem::take(&mut self.pending)
    }

    /// Judges every day still open and returns every finding not taken yet. The stage can be fed
    /// again afterwards (days judged stay judged).
    ///
    /// ```
    /// use sunpower_proto::health::{Health, HealthConfig};
    /// let mut health = Health::new(HealthConfig::default(), chrono_tz::UTC);
    /// assert!(health.finish().is_empty());
    /// ```
    pub fn finish(&mut self) -> Vec<Finding> {
        while let Some((_, day)) = self.days.pop_first() {
            self.judge(day);
        }
        self.finish_comm_days();
        self.flush_counters(None);
        self.take_findings()
    }

    /// Readings ignored: those that came after their day was judged, those dated outside the
    /// years 1000 to 9998 (no local day can be told for the ends of time), and those of serials
    /// beyond the 4,096 devices followed.
    ///
    /// ```
    /// use sunpower_proto::health::{Health, HealthConfig};
    /// assert_eq!(Health::new(HealthConfig::default(), chrono_tz::UTC).late_readings(), 0);
    /// ```
    pub fn late_readings(&self) -> u64 {
        self.late
    }

    fn advance_clock(&mut self, t: DateTime<Utc>) {
        self.clock = Some(self.clock.map_or(t, |c| c.max(t)));
    }

    fn slot_of(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        let slot = self.config.slot.num_seconds().max(1);
        let secs = t.timestamp();
        DateTime::from_timestamp(secs - secs.rem_euclid(slot), 0).unwrap_or(t)
    }

    /// The open day of `t`, created if needed; `None` when that day was judged already.
    fn day_for(&mut self, t: DateTime<Utc>) -> Option<&mut Day> {
        let date = local_date(t, self.tz);
        if self.closed.is_some_and(|closed| date <= closed) {
            return None;
        }
        let tz = self.tz;
        Some(self.days.entry(date).or_insert_with(|| {
            let start = local_day_start(date, tz);
            let end = date
                .succ_opt()
                .map_or(start, |next| local_day_start(next, tz));
            Day::new(date, start, end)
        }))
    }

    /// Judges the days the clock has left `day_lateness` behind (and the oldest beyond the cap).
    fn close_days(&mut self) {
        let Some(clock) = self.clock else { return };
        let lateness = self.config.day_lateness;
        while let Some((_, day)) = self.days.first_key_value() {
            let due = clock
                .checked_sub_signed(lateness)
                .is_some_and(|t| t >= day.end);
            if !due && self.days.len() <= MAX_OPEN_DAYS {
                break;
            }
            if let Some((_, day)) = self.days.pop_first() {
                self.judge(day);
            }
        }
    }

    /// The reading's power, or the lifetime counter's rise since the last reading divided by
    /// the time (within an hour) when the source sent no power.
    fn power_of(&mut self, index: usize, reading: &InverterReading<'_>) -> Option<f64> {
        let state = &mut self.devices[index];
        let t = reading.measured_at;
        let mut derived = None;
        if let Some(kwh) = reading.lifetime_energy_kwh.filter(|v| v.is_finite()) {
            if let Some((at, before)) = state.last_lifetime {
                let hours = (t - at).num_seconds() as f64 / 3600.0;
                if hours > 0.0 && hours <= 1.0 && kwh >= before {
                    derived = Some((kwh - before) / hours);
                }
            }
            if state.last_lifetime.is_none_or(|(at, _)| t > at) {
                state.last_lifetime = Some((t, kwh));
            }
        }
        reading.ac_power_kw.filter(|p| p.is_finite()).or(derived)
    }

    /// Judges one local day: its gaps, then each inverter's dead samples and its comparison
    /// with the array.
    fn judge(&mut self, day: Day) {
        self.closed = Some(self.closed.map_or(day.date, |c| c.max(day.date)));
        self.judge_gaps(&day);

        let n = self.devices.len();
        let mut tallies = vec![DayTally::default(); n];
        let mut first_daylight: Option<DateTime<Utc>> = None;
        let mut daylight = 0u32;
        let mut slot_values: Vec<Option<Option<f64>>> = vec![None; n];
        let mut powers = Vec::with_capacity(n);
        for (&slot, readings) in &day.slots {
            powers.clear();
            powers.extend(readings.iter().filter_map(|(_, p)| *p));
            if powers.len() < self.config.min_peers as usize {
                continue;
            }
            let Some(med) = median(&mut powers) else {
                continue;
            };
            if med <= self.config.floor_kw {
                continue;
            }
            daylight += 1;
            first_daylight.get_or_insert(slot);
            slot_values.iter_mut().for_each(|v| *v = None);
            for &(d, p) in readings {
                slot_values[d] = Some(p);
            }
            for (d, value) in slot_values.iter().enumerate() {
                if self.devices[d].first_date > day.date {
                    continue;
                }
                match value {
                    // Reported, but without a power: no evidence either way.
                    Some(None) => {}
                    Some(Some(p)) if *p > self.config.zero_kw => {
                        let tally = &mut tallies[d];
                        tally.samples += 1;
                        tally.sum_kw += p;
                        tally.sum_median_kw += med;
                        if *p < self.config.ratio * med {
                            tally.bad += 1;
                        }
                        self.alive(d, slot);
                    }
                    Some(Some(_)) => self.dead_sample(d, slot, med, false),
                    None => self.dead_sample(d, slot, med, true),
                }
            }
        }
        for (d, tally) in tallies.iter().enumerate() {
            if self.devices[d].first_date > day.date {
                continue;
            }
            self.judge_dead(d, first_daylight, daylight);
            self.judge_underperforming(d, &day, tally);
        }
        self.flush_counters(Some(day.date));
    }
}

/// Whether a time is far enough from chrono's limits for local dates and days around it.
pub(crate) fn usable(t: DateTime<Utc>) -> bool {
    (1000..=9998).contains(&t.year())
}
