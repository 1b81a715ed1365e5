//! [`Health`]: the state machine that turns readings, record times and interval events into
//! findings, one local day at a time.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};

use super::day::{median, Day};
use super::{Device, Evidence, Finding, HealthConfig, InverterReading, Kind, Status};
use crate::intervals::{local_date, local_day_start, Event, Tz};
use crate::Record;

/// Counter events kept per device at most before their day closes; more are only counted, so
/// that a counter gone mad cannot grow the state.
const MAX_COUNTER_KEYS: usize = 10_000;

/// Devices followed at most: readings of further serials (a damaged or hostile input) are
/// ignored and counted, so that the state stays bounded.
const MAX_DEVICES: usize = 4096;

/// Spacings between data (minutes) that vote for the usual one: up to half a day.
const MAX_SPACING_MINUTES: i64 = 12 * 60;

/// Days held open at most: a record far ahead of the others closes the older ones.
const MAX_OPEN_DAYS: usize = 8;

/// A run of bad days (underperforming).
#[derive(Debug, Clone, Default)]
struct BadRun {
    start: Option<DateTime<Utc>>,
    last_end: Option<DateTime<Utc>>,
    days: u32,
    samples: u32,
    bad: u32,
    sum_kw: f64,
    sum_median_kw: f64,
    reported: bool,
}

/// A run of dead daylight samples.
#[derive(Debug, Clone)]
struct DeadRun {
    start: DateTime<Utc>,
    last: DateTime<Utc>,
    missing: u32,
    zero: u32,
    sum_median_kw: f64,
    /// The kind reported, once it was.
    reported: Option<Kind>,
}

/// A frozen measurement time being repeated.
#[derive(Debug, Clone)]
struct StaleRun {
    since: DateTime<Utc>,
    last_clock: DateTime<Utc>,
    repeats: u32,
    power_kw: Option<f64>,
    reported: bool,
}

/// What is kept of one inverter.
#[derive(Debug, Clone)]
struct DeviceState {
    device: Device,
    first_date: NaiveDate,
    latest_measured: DateTime<Utc>,
    last_lifetime: Option<(DateTime<Utc>, f64)>,
    bad: BadRun,
    dead: Option<DeadRun>,
    stale: Option<StaleRun>,
}

/// A device's counted samples in one day (underperforming).
#[derive(Debug, Clone, Copy, Default)]
struct DayTally {
    samples: u32,
    bad: u32,
    sum_kw: f64,
    sum_median_kw: f64,
}

/// Counter events of one device and day.
#[derive(Debug, Clone, Copy)]
struct CounterTally {
    first: DateTime<Utc>,
    last: DateTime<Utc>,
    count: u32,
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
    config: HealthConfig,
    tz: Tz,
    devices: Vec<DeviceState>,
    index: HashMap<String, usize>,
    days: BTreeMap<NaiveDate, Day>,
    /// The last day judged: data for it or earlier is late.
    closed: Option<NaiveDate>,
    /// The latest time in the data: the supervisor's "now".
    clock: Option<DateTime<Utc>>,
    /// The last minute with data of the days judged (gaps run across midnight).
    last_active: Option<DateTime<Utc>>,
    /// Votes for the data's usual spacing, minutes -> count (at most 720 keys).
    spacings: BTreeMap<i64, u32>,
    counters: BTreeMap<(NaiveDate, Kind, u16, String), CounterTally>,
    pending: Vec<Finding>,
    late: u64,
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
            spacings: BTreeMap::new(),
            counters: BTreeMap::new(),
            pending: Vec::new(),
            late: 0,
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
    /// // Every five minutes, then two hours of silence.
    /// for time in ["100000", "100500", "101000", "121000"] {
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
        if let Record::Header(header) = record {
            if let Some(t) = header.sent_at {
                self.add_activity(t);
            }
        }
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

    /// Feeds an event of the interval stage: counter resets and glitches become findings of
    /// their device and local day; other events are not health findings.
    ///
    /// ```
    /// use sunpower_proto::parse_line;
    /// use sunpower_proto::health::{Health, HealthConfig, Kind, Severity};
    /// use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
    /// let mut acc = IntervalAccumulator::new(IntervalConfig::default());
    /// acc.add(&parse_line("130\t20260601170000\tINV1\tAC_Module_Type_C\t\t100.000\t0.3").unwrap());
    /// acc.add(&parse_line("130\t20260601170500\tINV1\tAC_Module_Type_C\t\t3.000\t0.3").unwrap());
    /// acc.finish();
    /// let mut health = Health::new(HealthConfig::default(), chrono_tz::UTC);
    /// for event in acc.take_events() {
    ///     health.add_event(&event);
    /// }
    /// let findings = health.finish();
    /// assert_eq!((findings[0].kind, findings[0].severity), (Kind::CounterReset, Severity::Warning));
    /// ```
    pub fn add_event(&mut self, event: &Event) {
        let (kind, record_type, serial, t) = match event {
            Event::CounterReset {
                record_type,
                serial,
                timestamp,
                ..
            } => (Kind::CounterReset, *record_type, serial, *timestamp),
            Event::CounterGlitch {
                record_type,
                serial,
                timestamp,
                ..
            } => (Kind::CounterGlitch, *record_type, serial, *timestamp),
            _ => return,
        };
        if !usable(t) {
            return;
        }
        let date = local_date(t, self.tz);
        let key = (date, kind, record_type, serial.clone());
        if let Some(tally) = self.counters.get_mut(&key) {
            tally.first = tally.first.min(t);
            tally.last = tally.last.max(t);
            tally.count = tally.count.saturating_add(1);
        } else if self.counters.len() < MAX_COUNTER_KEYS {
            self.counters.insert(
                key,
                CounterTally {
                    first: t,
                    last: t,
                    count: 1,
                },
            );
        }
        // A day already judged: its counter findings go out now.
        if self.closed.is_some_and(|closed| date <= closed) {
            self.flush_counters(Some(date));
        }
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

    /// Follows the device's measurement time; whether the reading repeats its latest one.
    fn check_stale(&mut self, index: usize, reading: &InverterReading<'_>) -> bool {
        let clock = self.clock.unwrap_or(reading.measured_at);
        let config = self.config;
        let state = &mut self.devices[index];
        let t = reading.measured_at;
        if t < state.latest_measured {
            // Older data (a backlog, documents out of order): not a frozen clock.
            return false;
        }
        if t > state.latest_measured {
            if let Some(run) = state.stale.take() {
                if run.reported {
                    self.pending.push(Finding::new(
                        Kind::Stale,
                        Status::Recovered,
                        Some(state.device.clone()),
                        run.since,
                        t,
                        stale_evidence(&run),
                    ));
                }
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

    fn judge_gaps(&mut self, day: &Day) {
        for t in day.active_minutes() {
            if let Some(last) = self.last_active {
                // The minute marks round down: a silence is measured between minute starts.
                let silence = t - last;
                let minutes = silence.num_minutes();
                if (1..=MAX_SPACING_MINUTES).contains(&minutes) {
                    *self.spacings.entry(minutes).or_default() += 1;
                }
                if silence > self.gap_threshold() {
                    let evidence = Evidence::default();
                    for status in [Status::Fault, Status::Recovered] {
                        self.pending
                            .push(Finding::new(Kind::Gap, status, None, last, t, evidence));
                    }
                }
            }
            self.last_active = Some(t);
        }
    }

    /// `gap_min`, or twice the data's usual spacing when that is longer: a source polled every
    /// hour is not silent between its polls.
    fn gap_threshold(&self) -> TimeDelta {
        let usual = self
            .spacings
            .iter()
            // The most common spacing; the shorter on a tie.
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map_or(0, |(minutes, _)| *minutes);
        self.config.gap_min.max(TimeDelta::minutes(2 * usual))
    }

    fn dead_sample(&mut self, d: usize, slot: DateTime<Utc>, median_kw: f64, missing: bool) {
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
        if let (Some(limit), None) = (self.config.dead_samples, run.reported) {
            if run.missing + run.zero >= limit {
                self.report_dead(d);
            }
        }
    }

    /// A daylight sample with production: a dead run ends (and recovers if it was reported).
    fn alive(&mut self, d: usize, slot: DateTime<Utc>) {
        let state = &mut self.devices[d];
        if let Some(run) = state.dead.take() {
            if let Some(kind) = run.reported {
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
    }

    /// At a day's end: a dead run that covers the whole day's daylight is a fault.
    fn judge_dead(&mut self, d: usize, first_daylight: Option<DateTime<Utc>>, daylight: u32) {
        if self.config.dead_samples.is_some() || daylight < self.config.min_day_samples {
            return;
        }
        let Some(first) = first_daylight else { return };
        if let Some(run) = &self.devices[d].dead {
            if run.reported.is_none() && run.start <= first {
                self.report_dead(d);
            }
        }
    }

    fn report_dead(&mut self, d: usize) {
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

    fn judge_underperforming(&mut self, d: usize, day: &Day, tally: &DayTally) {
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
        run.days += 1;
        run.samples += tally.samples;
        run.bad += tally.bad;
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

    /// Counter findings of the days up to `through` (all with `None`).
    fn flush_counters(&mut self, through: Option<NaiveDate>) {
        while let Some(entry) = self.counters.first_entry() {
            let (date, kind, record_type, serial) = entry.key().clone();
            if through.is_some_and(|through| date > through) {
                break;
            }
            let tally = entry.remove();
            let evidence = Evidence {
                samples: tally.count,
                bad_samples: tally.count,
                days: 1,
                ..Evidence::default()
            };
            self.pending.push(Finding::new(
                kind,
                Status::Fault,
                Some(Device {
                    serial,
                    record_type,
                }),
                tally.first,
                tally.last,
                evidence,
            ));
        }
    }
}

/// Whether a time is far enough from chrono's limits for local dates and days around it.
fn usable(t: DateTime<Utc>) -> bool {
    (1000..=9998).contains(&t.year())
}

fn stale_evidence(run: &StaleRun) -> Evidence {
    Evidence {
        produced_kw: run.power_kw,
        samples: run.repeats,
        bad_samples: run.repeats,
        ..Evidence::default()
    }
}

fn dead_evidence(run: &DeadRun) -> Evidence {
    let samples = run.missing.saturating_add(run.zero);
    Evidence {
        // What it produced: nothing; unknown when it sent nothing at all.
        produced_kw: (run.zero > 0).then_some(0.0),
        peers_median_kw: (samples > 0).then(|| run.sum_median_kw / f64::from(samples)),
        samples,
        bad_samples: samples,
        days: 0,
    }
}

fn bad_evidence(run: &BadRun) -> Evidence {
    let n = f64::from(run.samples.max(1));
    Evidence {
        produced_kw: Some(run.sum_kw / n),
        peers_median_kw: Some(run.sum_median_kw / n),
        samples: run.samples,
        bad_samples: run.bad,
        days: run.days,
    }
}
