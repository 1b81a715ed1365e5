//! The interval and health stages together, as every front end runs them: records go to both,
//! the intervals' counter events to the health stage; and the findings' order and evidence
//! text, so that the command's table and Python's objects say the same.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::{Finding, Health, HealthConfig, Kind};
use crate::intervals::{IntervalAccumulator, IntervalConfig};
use crate::{Record, SiteTotals};

/// Records in, findings out: an [`IntervalAccumulator`] (for its counter events) and a
/// [`Health`] stage fed the same records.
///
/// ```
/// use sunpower_proto::health::{HealthConfig, HealthStages, Kind};
/// use sunpower_proto::intervals::IntervalConfig;
/// use sunpower_proto::parse_line;
///
/// let mut stages = HealthStages::new(IntervalConfig::documents(), HealthConfig::default(), chrono_tz::UTC);
/// // An inverter's lifetime counter that reads 0 once: a glitch of the intervals, a finding here.
/// for (time, kwh) in [("100000", "100.0"), ("100500", "100.1"), ("101000", "0"), ("101500", "100.3")] {
///     stages.add(&parse_line(&format!("130\t20260601{time}\tINV1\tM\t\t{kwh}\t0.3")).unwrap());
/// }
/// let findings = stages.finish();
/// assert_eq!(findings[0].kind, Kind::CounterGlitch);
/// ```
#[derive(Debug)]
pub struct HealthStages {
    intervals: IntervalAccumulator,
    health: Health,
}

impl HealthStages {
    /// The stages, the intervals with `intervals` (the preset of the input: `captures()` for a
    /// capture, with [`HealthStages::advance_to`] at each post; `telemetry()` for a telemetry
    /// stream read offline; `documents()` otherwise).
    pub fn new(intervals: IntervalConfig, health: HealthConfig, tz: Tz) -> HealthStages {
        HealthStages {
            intervals: IntervalAccumulator::new(intervals),
            health: Health::new(health, tz),
        }
    }

    /// Feeds a record to both stages.
    pub fn add(&mut self, record: &Record<'_>) {
        self.intervals.add(record);
        self.health.add(record);
    }

    /// Feeds a `/vars` document: whole to the intervals (they set shared serials aside) and to
    /// the health stage ([`Health::add_vars`]).
    #[cfg(feature = "varserver")]
    pub fn add_vars(&mut self, vars: &crate::Vars) {
        self.intervals.add_vars(vars);
        self.health.add_vars(vars);
    }

    /// Feeds a battery (a DeviceList's; a `/vars` document's come with [`HealthStages::add_vars`]):
    /// its counters to the intervals, its state of health and reporting to the health stage.
    #[cfg(feature = "varserver")]
    pub fn add_battery(&mut self, battery: &crate::Battery) {
        self.intervals.add_battery(battery);
        self.health.add_batteries(std::slice::from_ref(battery));
    }

    /// Feeds the site's totals (a telemetry frame): to the intervals, and to the health stage as
    /// the supervisor reporting at their time, so that a silence of the stream is a gap.
    ///
    /// ```
    /// use sunpower_proto::health::{HealthConfig, HealthStages, Kind};
    /// use sunpower_proto::intervals::IntervalConfig;
    /// use sunpower_proto::TelemetryDecoder;
    ///
    /// let mut stages = HealthStages::new(IntervalConfig::documents(), HealthConfig::default(), chrono_tz::UTC);
    /// let mut decoder = TelemetryDecoder::new();
    /// // A frame a minute from 08:00 to 10:00 and from 14:00: silent for four hours between.
    /// let start = 1_780_300_800; // 2026-06-01 08:00 UTC
    /// for minute in (0..120).chain(360..400) {
    ///     let frame = format!(r#"{{"notification":"power","params":{{"time":{},"pv_en":"{}"}}}}"#,
    ///         start + minute * 60, 1000.0 + minute as f64 * 0.05);
    ///     decoder.feed(format!("{frame}\n").as_bytes(), |site| stages.add_site_totals(&site.unwrap()));
    /// }
    /// let gaps: Vec<_> = stages.finish().into_iter().filter(|f| f.kind == Kind::Gap).collect();
    /// assert_eq!(gaps.len(), 2); // the fault and its recovery
    /// assert_eq!((gaps[0].end - gaps[0].start).num_minutes(), 241);
    /// ```
    pub fn add_site_totals(&mut self, site: &SiteTotals) {
        self.intervals.add_site_totals(site);
        // The rows that became final (a long stream's, out of the telemetry preset's horizon)
        // are not needed here: not held either.
        self.intervals.drain_ready();
        if let Some(t) = site.timestamp {
            self.health.add_activity(t);
        }
    }

    /// The capture clock (a post's capture time): the intervals keep readings to their horizon
    /// behind it.
    pub fn advance_to(&mut self, now: DateTime<Utc>) {
        self.intervals.advance_to(now);
        // The rows are not needed here, the events are.
        self.intervals.drain_ready();
    }

    /// The findings of the days judged so far.
    pub fn take_findings(&mut self) -> Vec<Finding> {
        self.pass_events();
        self.health.take_findings()
    }

    /// The end of the input: every finding left.
    pub fn finish(&mut self) -> Vec<Finding> {
        self.intervals.finish();
        self.pass_events();
        self.health.finish()
    }

    /// Readings that came after their day was judged, ignored.
    pub fn late_readings(&self) -> u64 {
        self.health.late_readings()
    }

    fn pass_events(&mut self) {
        for event in self.intervals.take_events() {
            self.health.add_event(&event);
        }
    }
}

/// Sorts findings worst first: by severity, faults before recoveries, then by start and device.
///
/// ```
/// use chrono::DateTime;
/// use sunpower_proto::health::{worst_first, Evidence, Finding, Kind, Status};
/// let t = DateTime::UNIX_EPOCH;
/// let mut findings = vec![
///     Finding::new(Kind::Gap, Status::Fault, None, t, t, Evidence::default()),
///     Finding::new(Kind::NotReporting, Status::Fault, None, t, t, Evidence::default()),
/// ];
/// worst_first(&mut findings);
/// assert_eq!(findings[0].kind, Kind::NotReporting);
/// ```
pub fn worst_first(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.status.cmp(&b.status))
            .then(a.start.cmp(&b.start))
            .then(a.device_name().cmp(b.device_name()))
    });
}

impl Finding {
    /// The evidence in a few words, as the command's table shows it:
    /// `30% of the array median over 3 days, 465/465 samples low`.
    ///
    /// ```
    /// use chrono::{DateTime, TimeDelta};
    /// use sunpower_proto::health::{Evidence, Finding, Kind, Status};
    /// let t = DateTime::UNIX_EPOCH;
    /// let f = Finding::new(Kind::Gap, Status::Fault, None, t, t + TimeDelta::minutes(370), Evidence::default());
    /// assert_eq!(f.evidence_text(), "no data for 6h10");
    /// ```
    pub fn evidence_text(&self) -> String {
        let e = &self.evidence;
        let median = e
            .peers_median_kw
            .map(|m| format!(" (array median {m:.3} kW)"))
            .unwrap_or_default();
        match self.kind {
            Kind::Underperforming => {
                let pct = match (e.produced_kw, e.peers_median_kw) {
                    (Some(p), Some(m)) if m > 0.0 => format!("{:.0}%", 100.0 * p / m),
                    _ => "?".into(),
                };
                format!(
                    "{pct} of the array median over {} days, {}/{} samples low",
                    e.days, e.bad_samples, e.samples
                )
            }
            Kind::NotReporting => format!("no report in {} daylight samples{median}", e.samples),
            Kind::ReportingZero => format!("0 kW in {} daylight samples{median}", e.samples),
            Kind::Stale => {
                let stuck = e
                    .produced_kw
                    .map(|p| format!(", stuck at {p:.3} kW"))
                    .unwrap_or_default();
                format!(
                    "measurement time frozen, {} repeated readings{stuck}",
                    e.samples
                )
            }
            Kind::Gap => {
                let minutes = (self.end - self.start).num_minutes();
                format!("no data for {}h{:02}", minutes / 60, minutes % 60)
            }
            Kind::CounterReset | Kind::CounterGlitch => {
                let what = match (self.kind == Kind::CounterReset, e.samples == 1) {
                    (true, true) => "reset",
                    (true, false) => "resets",
                    (false, true) => "glitch",
                    (false, false) => "glitches",
                };
                format!("{} lifetime counter {what} that day", e.samples)
            }
            Kind::MemoryHigh | Kind::FlashFull => {
                let what = if self.kind == Kind::MemoryHigh {
                    "memory"
                } else {
                    "flash"
                };
                match e.value {
                    Some(v) => format!("{what} {v:.0}% used, in {}", readings(e.samples)),
                    None => format!("{what} usage high, in {}", readings(e.samples)),
                }
            }
            Kind::FlashWear => match e.value {
                Some(v) => format!("flash {v:.0}% worn, in {}", readings(e.samples)),
                None => format!("flash worn, in {}", readings(e.samples)),
            },
            Kind::BatterySohFalling => match e.value {
                Some(v) => format!(
                    "state of health down to {v:.0}%, in {}",
                    readings(e.samples)
                ),
                None => format!("state of health falling, in {}", readings(e.samples)),
            },
            Kind::BatteryNotReporting => {
                format!("no reading in {} documents in a row", e.samples)
            }
            Kind::CommErrors => {
                let days = e.days.max(1);
                let usual = e.samples.saturating_sub(e.bad_samples) / days;
                format!(
                    "{} communication errors a day where {usual} are usual, over {days} day{}",
                    e.samples / days,
                    if days == 1 { "" } else { "s" }
                )
            }
        }
    }
}

/// `1 reading`, `3 readings`.
fn readings(n: u32) -> String {
    format!("{n} reading{}", if n == 1 { "" } else { "s" })
}
