//! A report people look at: one self-contained HTML page (inline SVG and CSS, nothing fetched,
//! no script) with the daily production, consumption and net, a heat map of every panel's daily
//! energy against the array's median, the health findings with their evidence, and the data's
//! gaps.
//!
//! Pure like the other stages: [`ReportStages`] takes the records (the interval stage, the
//! health stage and each panel's daily energy fed at once), [`Report`] holds what the page
//! shows, and [`Report::write_html`] writes it onto any [`fmt::Write`](std::fmt::Write); the
//! file is the front end's (the `sunpower report` command writes it crash-safe).
//!
//! ```
//! use sunpower_proto::health::HealthConfig;
//! use sunpower_proto::intervals::IntervalConfig;
//! use sunpower_proto::parse_line;
//! use sunpower_proto::report::ReportStages;
//!
//! let mut stages = ReportStages::new(IntervalConfig::documents(), HealthConfig::default(), chrono_tz::UTC);
//! for (time, kwh) in [("120000", "100.0"), ("120500", "100.025"), ("121000", "100.05")] {
//!     stages.add(&parse_line(&format!("130\t20260601{time}\tINV<1>\tM\t\t{kwh}\t0.3")).unwrap());
//! }
//! let report = stages.finish();
//! assert_eq!(report.panels.daily("INV<1>").unwrap().len(), 1);
//! let html = report.html();
//! assert!(html.starts_with("<!DOCTYPE html>"));
//! assert!(html.contains("INV&lt;1&gt;") && !html.contains("INV<1>"));
//! ```

mod render;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};

use crate::health::{Finding, Health, HealthConfig, InverterReading};
use crate::intervals::{local_date, Interval, IntervalAccumulator, IntervalConfig, Tz};
use crate::Record;

pub use render::{HEAT_COLOURS, MAX_FINDINGS_SHOWN, MAX_HEAT_DAYS};

/// Panels followed at most (as the health stage): readings of further serials are counted.
const MAX_PANELS: usize = 4096;

/// Days kept per panel at most (ten years); readings of further days are counted.
const MAX_DAYS: usize = 3660;

/// A counter's rise is a day's energy only when it is over this much time at most: the energy
/// of a longer silence cannot be told to a day (a panel back after three days reports them all).
const MAX_STEP_HOURS: f64 = 2.0;

/// A rise faster than this is a counter fault, not energy (kW; above any residential inverter).
const MAX_KW: f64 = 100.0;

/// One local day's energy, from the interval rows.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub struct DayTotals {
    /// Energy produced, Wh.
    pub production_wh: f64,
    /// Energy the house consumed, Wh; `None` when no interval of the day had it.
    pub consumption_wh: Option<f64>,
    /// Energy from the grid, Wh (negative: exported); `None` when no interval had it.
    pub net_wh: Option<f64>,
    /// Intervals summed.
    pub intervals: u32,
}

/// The interval rows summed per local day.
///
/// ```
/// use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
/// use sunpower_proto::parse_line;
/// use sunpower_proto::report::DailyTotals;
/// let mut acc = IntervalAccumulator::new(IntervalConfig::default());
/// acc.add(&parse_line("130\t20260601170000\tINV1\tM\t\t100.000\t0.3").unwrap());
/// acc.add(&parse_line("130\t20260601170500\tINV1\tM\t\t100.025\t0.3").unwrap());
/// let mut daily = DailyTotals::new(chrono_tz::UTC);
/// for row in acc.finish() {
///     daily.add(&row);
/// }
/// let (date, day) = daily.days().next().unwrap();
/// assert_eq!((date.to_string(), day.production_wh), ("2026-06-01".to_string(), 25.0));
/// ```
#[derive(Debug, Clone)]
pub struct DailyTotals {
    tz: Tz,
    days: BTreeMap<NaiveDate, DayTotals>,
}

impl DailyTotals {
    /// Empty, local days in `tz`.
    pub fn new(tz: Tz) -> DailyTotals {
        DailyTotals {
            tz,
            days: BTreeMap::new(),
        }
    }

    /// Adds a final interval row (a row is added once: offline rows are final).
    pub fn add(&mut self, row: &Interval) {
        let day = self
            .days
            .entry(local_date(row.interval_start, self.tz))
            .or_default();
        day.production_wh += finite(row.production_wh);
        if let Some(c) = row.consumption_wh.filter(|v| v.is_finite()) {
            *day.consumption_wh.get_or_insert(0.0) += c;
        }
        if let Some(n) = row.net_wh.filter(|v| v.is_finite()) {
            *day.net_wh.get_or_insert(0.0) += n;
        }
        day.intervals += 1;
    }

    /// The days, in order.
    pub fn days(&self) -> impl Iterator<Item = (NaiveDate, &DayTotals)> {
        self.days.iter().map(|(d, t)| (*d, t))
    }

    /// The zone of the days.
    pub fn tz(&self) -> Tz {
        self.tz
    }
}

fn finite(v: f64) -> f64 {
    if v.is_finite() {
        v
    } else {
        0.0
    }
}

#[derive(Debug, Clone)]
struct Panel {
    serial: String,
    last: Option<(DateTime<Utc>, f64)>,
    days: BTreeMap<NaiveDate, f64>,
}

/// Each panel's (micro-inverter's) energy per local day, from the rises of its lifetime counter.
///
/// A day a panel reported on has an entry (0 when its counter did not rise); a day it did not
/// report on has none. A rise counts when the counter went up by at most 100 kW's worth over at
/// most two hours: a counter that went down or jumped, or the energy of a longer silence (which
/// cannot be told to a day), is not counted, and its kWh are in [`PanelEnergy::unattributed_kwh`].
///
/// ```
/// use sunpower_proto::parse_line;
/// use sunpower_proto::report::PanelEnergy;
/// let mut panels = PanelEnergy::new(chrono_tz::UTC);
/// for (time, kwh) in [("120000", "100.0"), ("120500", "100.025"), ("121000", "0"), ("121500", "100.075")] {
///     panels.add(&parse_line(&format!("130\t20260601{time}\tINV1\tM\t\t{kwh}")).unwrap());
/// }
/// let days = panels.daily("INV1").unwrap();
/// // The zero and the jump back are not energy.
/// assert!((days.values().next().unwrap() - 0.025).abs() < 1e-9);
/// ```
#[derive(Debug, Clone)]
pub struct PanelEnergy {
    tz: Tz,
    panels: Vec<Panel>,
    index: HashMap<String, usize>,
    ignored: u64,
    unattributed_kwh: f64,
}

impl PanelEnergy {
    /// Empty, local days in `tz`.
    pub fn new(tz: Tz) -> PanelEnergy {
        PanelEnergy {
            tz,
            panels: Vec::new(),
            index: HashMap::new(),
            ignored: 0,
            unattributed_kwh: 0.0,
        }
    }

    /// Feeds a record: a 130 line's lifetime counter; other records are ignored.
    pub fn add(&mut self, record: &Record<'_>) {
        if let Some(reading) = InverterReading::from_record(record) {
            self.add_reading(&reading);
        }
    }

    /// Feeds one reading (its lifetime counter; the power is not used).
    pub fn add_reading(&mut self, reading: &InverterReading<'_>) {
        let Some(kwh) = reading.lifetime_energy_kwh.filter(|v| v.is_finite()) else {
            return;
        };
        let t = reading.measured_at;
        if !crate::health::usable_time(t) {
            self.ignored += 1;
            return;
        }
        let index = match self.index.get(reading.serial) {
            Some(&i) => i,
            None if self.panels.len() >= MAX_PANELS => {
                self.ignored += 1;
                return;
            }
            None => {
                self.index
                    .insert(reading.serial.to_string(), self.panels.len());
                self.panels.push(Panel {
                    serial: reading.serial.to_string(),
                    last: None,
                    days: BTreeMap::new(),
                });
                self.panels.len() - 1
            }
        };
        let date = local_date(t, self.tz);
        let panel = &mut self.panels[index];
        // A repeated or older reading (a replayed post) says nothing new.
        if panel.last.is_some_and(|(at, _)| t <= at) {
            return;
        }
        if !panel.days.contains_key(&date) && panel.days.len() >= MAX_DAYS {
            self.ignored += 1;
            return;
        }
        let energy = panel.days.entry(date).or_insert(0.0);
        if let Some((at, before)) = panel.last {
            let hours = (t - at).num_seconds() as f64 / 3600.0;
            let rise = kwh - before;
            if rise >= 0.0 && hours <= MAX_STEP_HOURS && rise <= MAX_KW * hours {
                *energy += rise;
            } else if rise > 0.0 && rise <= MAX_KW * hours {
                self.unattributed_kwh += rise;
            }
        }
        panel.last = Some((t, kwh));
    }

    /// The serials followed, in the order first seen.
    pub fn serials(&self) -> impl Iterator<Item = &str> {
        self.panels.iter().map(|p| p.serial.as_str())
    }

    /// A panel's energy per local day, kWh.
    pub fn daily(&self, serial: &str) -> Option<&BTreeMap<NaiveDate, f64>> {
        self.index.get(serial).map(|&i| &self.panels[i].days)
    }

    /// Readings not followed: dated outside the years 1000 to 9998, of serials beyond the 4,096
    /// followed, or of days beyond the 3,660 kept per panel.
    pub fn ignored_readings(&self) -> u64 {
        self.ignored
    }

    /// Energy that rose over a silence longer than two hours, so told to no day, kWh.
    pub fn unattributed_kwh(&self) -> f64 {
        self.unattributed_kwh
    }

    /// The zone of the days.
    pub fn tz(&self) -> Tz {
        self.tz
    }
}

/// What the page shows: the daily totals, each panel's daily energy and the findings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Report {
    /// The interval rows per local day.
    pub daily: DailyTotals,
    /// Each panel's energy per local day.
    pub panels: PanelEnergy,
    /// The health findings, in the order found (the page shows them worst first).
    pub findings: Vec<Finding>,
}

impl Report {
    /// A report of these parts (their zones should be the same: the daily totals' is used).
    pub fn new(daily: DailyTotals, panels: PanelEnergy, findings: Vec<Finding>) -> Report {
        Report {
            daily,
            panels,
            findings,
        }
    }

    /// The page as a string.
    pub fn html(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = self.write_html(&mut out);
        out
    }

    /// Writes the page onto `out`.
    pub fn write_html<W: std::fmt::Write>(&self, out: &mut W) -> std::fmt::Result {
        render::write(self, out)
    }
}

/// Records in, a [`Report`] out: the interval stage (its rows summed per day, its counter events
/// passed on), the health stage and each panel's daily energy, all fed the same records, as
/// every front end runs them.
#[derive(Debug)]
pub struct ReportStages {
    intervals: IntervalAccumulator,
    health: Health,
    daily: DailyTotals,
    panels: PanelEnergy,
    findings: Vec<Finding>,
}

impl ReportStages {
    /// The stages, the intervals with `intervals` (the preset of the input, as for
    /// [`HealthStages`](crate::health::HealthStages)), local days in `tz`.
    pub fn new(intervals: IntervalConfig, health: HealthConfig, tz: Tz) -> ReportStages {
        ReportStages {
            intervals: IntervalAccumulator::new(intervals),
            health: Health::new(health, tz),
            daily: DailyTotals::new(tz),
            panels: PanelEnergy::new(tz),
            findings: Vec::new(),
        }
    }

    /// Feeds a record to every stage.
    pub fn add(&mut self, record: &Record<'_>) {
        self.intervals.add(record);
        self.health.add(record);
        self.panels.add(record);
        self.drain();
    }

    /// Feeds a `/vars` document: whole to the intervals, its records to the others.
    #[cfg(feature = "varserver")]
    pub fn add_vars(&mut self, vars: &crate::Vars) {
        self.intervals.add_vars(vars);
        self.health.add_vars(vars);
        for record in vars.records() {
            self.panels.add(&record.record());
        }
        self.drain();
    }

    /// Feeds a battery (a DeviceList's), as [`HealthStages::add_battery`](crate::health::HealthStages::add_battery).
    #[cfg(feature = "varserver")]
    pub fn add_battery(&mut self, battery: &crate::Battery) {
        self.intervals.add_battery(battery);
        self.health.add_batteries(std::slice::from_ref(battery));
        self.drain();
    }

    /// Feeds the site's totals (a telemetry frame) to the intervals, and their time to the health
    /// stage, as [`HealthStages::add_site_totals`](crate::health::HealthStages::add_site_totals).
    pub fn add_site_totals(&mut self, site: &crate::SiteTotals) {
        self.intervals.add_site_totals(site);
        if let Some(t) = site.timestamp {
            self.health.add_activity(t);
        }
        self.drain();
    }

    /// The capture clock (a post's capture time), as [`IntervalAccumulator::advance_to`].
    pub fn advance_to(&mut self, now: DateTime<Utc>) {
        for row in self.intervals.advance_to(now) {
            self.daily.add(&row);
        }
        self.drain();
    }

    /// Readings the health stage ignored (late for their day, or unusable).
    pub fn late_readings(&self) -> u64 {
        self.health.late_readings()
    }

    /// The end of the input: the report.
    pub fn finish(mut self) -> Report {
        for row in self.intervals.finish() {
            self.daily.add(&row);
        }
        self.pass_events();
        self.findings.extend(self.health.finish());
        Report::new(self.daily, self.panels, self.findings)
    }

    /// The final rows so far summed (so a long input is held as days, not rows), the findings
    /// of the days judged kept.
    fn drain(&mut self) {
        for row in self.intervals.drain_ready() {
            self.daily.add(&row);
        }
        self.pass_events();
        self.findings.extend(self.health.take_findings());
    }

    fn pass_events(&mut self) {
        for event in self.intervals.take_events() {
            self.health.add_event(&event);
        }
    }
}
