//! What the health stage reports: a [`Finding`] with its kind, device, period and evidence.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::time::Rfc3339;
use crate::{FieldSpec, FieldType, FieldValue};

/// What is wrong.
///
/// ```
/// use sunpower_proto::health::Kind;
/// assert_eq!(Kind::from_name(Kind::NotReporting.as_str()), Some(Kind::NotReporting));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// An inverter reporting zero power while its peers produce.
    ReportingZero,
    /// An inverter sending no reading while its peers produce.
    NotReporting,
    /// A panel under a fraction of the array's median for several days in a row.
    Underperforming,
    /// A device whose own measurement time stopped advancing while the supervisor reported.
    Stale,
    /// No data from the supervisor at all for a while.
    Gap,
    /// A lifetime counter that went down or jumped and stayed there (the intervals' reset).
    CounterReset,
    /// A lifetime counter read out of line once and then resumed (the intervals' glitch).
    CounterGlitch,
    /// The supervisor's communication errors rising much faster than on its usual days.
    CommErrors,
    /// The supervisor's memory (RAM) usage at or over the threshold.
    MemoryHigh,
    /// The supervisor's flash storage usage at or over the threshold.
    FlashFull,
}

const ALL_KINDS: [Kind; 10] = [
    Kind::ReportingZero,
    Kind::NotReporting,
    Kind::Underperforming,
    Kind::Stale,
    Kind::Gap,
    Kind::CounterReset,
    Kind::CounterGlitch,
    Kind::CommErrors,
    Kind::MemoryHigh,
    Kind::FlashFull,
];

impl Kind {
    /// The kind's name in the outputs: `reporting_zero`, `not_reporting`, `underperforming`,
    /// `stale`, `gap`, `counter_reset`, `counter_glitch`, `comm_errors`, `memory_high`, `flash_full`.
    ///
    /// ```
    /// assert_eq!(sunpower_proto::health::Kind::Gap.as_str(), "gap");
    /// ```
    pub fn as_str(&self) -> &'static str {
        match self {
            Kind::ReportingZero => "reporting_zero",
            Kind::NotReporting => "not_reporting",
            Kind::Underperforming => "underperforming",
            Kind::Stale => "stale",
            Kind::Gap => "gap",
            Kind::CounterReset => "counter_reset",
            Kind::CounterGlitch => "counter_glitch",
            Kind::CommErrors => "comm_errors",
            Kind::MemoryHigh => "memory_high",
            Kind::FlashFull => "flash_full",
        }
    }

    /// The kind named by [`Kind::as_str`].
    ///
    /// ```
    /// use sunpower_proto::health::Kind;
    /// assert_eq!(Kind::from_name("stale"), Some(Kind::Stale));
    /// assert_eq!(Kind::from_name("Stale"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Kind> {
        ALL_KINDS.into_iter().find(|k| k.as_str() == name)
    }

    /// How bad a fault of this kind is: a dead inverter is critical, a counter glitch (already
    /// worked around by the intervals) only information.
    ///
    /// ```
    /// use sunpower_proto::health::{Kind, Severity};
    /// assert_eq!(Kind::NotReporting.severity(), Severity::Critical);
    /// assert_eq!(Kind::CounterGlitch.severity(), Severity::Info);
    /// ```
    pub fn severity(&self) -> Severity {
        match self {
            Kind::ReportingZero | Kind::NotReporting => Severity::Critical,
            Kind::Underperforming
            | Kind::Stale
            | Kind::Gap
            | Kind::CounterReset
            | Kind::CommErrors
            | Kind::MemoryHigh
            | Kind::FlashFull => Severity::Warning,
            Kind::CounterGlitch => Severity::Info,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad a finding is; ordered, `Critical` the greatest.
///
/// ```
/// use sunpower_proto::health::Severity;
/// assert!(Severity::Critical > Severity::Warning && Severity::Warning > Severity::Info);
/// assert_eq!(Severity::Warning.as_str(), "warning");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth knowing; nothing to do (and every recovery).
    Info,
    /// Worth a look.
    Warning,
    /// Energy is being lost.
    Critical,
}

impl Severity {
    /// `"info"`, `"warning"` or `"critical"`.
    ///
    /// ```
    /// assert_eq!(sunpower_proto::health::Severity::Critical.as_str(), "critical");
    /// ```
    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// Whether a finding opens a fault or says it ended.
///
/// ```
/// use sunpower_proto::health::Status;
/// assert_eq!(Status::Recovered.as_str(), "recovered");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// The fault, as soon as it is established.
    Fault,
    /// The fault ended: the finding covers the whole fault, `end` being when it was last seen.
    Recovered,
}

impl Status {
    /// `"fault"` or `"recovered"`.
    ///
    /// ```
    /// assert_eq!(sunpower_proto::health::Status::Fault.as_str(), "fault");
    /// ```
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Fault => "fault",
            Status::Recovered => "recovered",
        }
    }
}

/// The device a finding is about.
///
/// ```
/// use sunpower_proto::health::Device;
/// let device = Device::inverter("INV1");
/// assert_eq!((device.serial.as_str(), device.record_type), ("INV1", 130));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Device {
    /// Its serial.
    pub serial: String,
    /// The record type it reports in (130 for inverters, 140 for meters).
    pub record_type: u16,
}

impl Device {
    /// An inverter (record type 130).
    ///
    /// ```
    /// assert_eq!(sunpower_proto::health::Device::inverter("X").record_type, 130);
    /// ```
    pub fn inverter(serial: &str) -> Device {
        Device {
            serial: serial.to_string(),
            record_type: 130,
        }
    }
}

/// The numbers behind a finding. Which are set depends on the kind: powers for the kinds that
/// compare a device with its peers, counts for all.
///
/// ```
/// use sunpower_proto::health::Evidence;
/// let e = Evidence::default();
/// assert_eq!((e.samples, e.bad_samples, e.days), (0, 0, 0));
/// assert_eq!(e.produced_kw, None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub struct Evidence {
    /// The device's mean AC power over the samples counted, kW (for a stale device, the value
    /// it is stuck at).
    pub produced_kw: Option<f64>,
    /// The array's median AC power at the same times, averaged over the samples counted, kW.
    pub peers_median_kw: Option<f64>,
    /// Samples counted: daylight samples (the array's median above the floor), the stale
    /// device's repeated readings, the counter events; for `comm_errors`, the supervisor's
    /// communication errors over the days covered.
    pub samples: u32,
    /// Of those, the samples that showed the fault (under the ratio; missing or zero); for
    /// `comm_errors`, the errors beyond the usual rate.
    pub bad_samples: u32,
    /// Local days covered (underperforming: the bad days).
    pub days: u32,
    /// The kind's own measure: for `memory_high` and `flash_full`, the percent used (the
    /// highest seen).
    pub value: Option<f64>,
}

/// One health finding: a fault established, or its recovery.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use sunpower_proto::health::{Device, Evidence, Finding, Kind, Status};
/// let finding = Finding::new(
///     Kind::Stale,
///     Status::Fault,
///     Some(Device::inverter("INV1")),
///     Utc.with_ymd_and_hms(2026, 6, 1, 17, 0, 0).unwrap(),
///     Utc.with_ymd_and_hms(2026, 6, 1, 17, 30, 0).unwrap(),
///     Evidence::default(),
/// );
/// assert_eq!(finding.to_string(), "stale fault on 130 INV1 from 2026-06-01T17:00:00Z to 2026-06-01T17:30:00Z (0 samples)");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Finding {
    /// What is wrong.
    pub kind: Kind,
    /// Fault or recovery.
    pub status: Status,
    /// The device; `None` for the supervisor as a whole (gaps).
    pub device: Option<Device>,
    /// When the fault began (the first bad sample, the first bad day's local midnight, the last
    /// data before a gap).
    pub start: DateTime<Utc>,
    /// A fault: the last time it was seen when it was established. A recovery: when the device
    /// was seen healthy again (the sample, the good day's local midnight, the data after a gap).
    pub end: DateTime<Utc>,
    /// The kind's severity for a fault; [`Severity::Info`] for a recovery.
    pub severity: Severity,
    /// The numbers.
    pub evidence: Evidence,
}

impl Finding {
    /// A finding, its severity from the kind and status.
    ///
    /// ```
    /// use chrono::{DateTime, Utc};
    /// use sunpower_proto::health::{Evidence, Finding, Kind, Severity, Status};
    /// let now: DateTime<Utc> = DateTime::UNIX_EPOCH;
    /// let f = Finding::new(Kind::Gap, Status::Recovered, None, now, now, Evidence::default());
    /// assert_eq!(f.severity, Severity::Info);
    /// ```
    pub fn new(
        kind: Kind,
        status: Status,
        device: Option<Device>,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        evidence: Evidence,
    ) -> Finding {
        let severity = match status {
            Status::Fault => kind.severity(),
            Status::Recovered => Severity::Info,
        };
        Finding {
            kind,
            status,
            device,
            start,
            end,
            severity,
            evidence,
        }
    }

    /// The device's serial, or `"supervisor"` for findings about the supervisor as a whole.
    ///
    /// ```
    /// use chrono::{DateTime, Utc};
    /// use sunpower_proto::health::{Evidence, Finding, Kind, Status};
    /// let now: DateTime<Utc> = DateTime::UNIX_EPOCH;
    /// let f = Finding::new(Kind::Gap, Status::Fault, None, now, now, Evidence::default());
    /// assert_eq!(f.device_name(), "supervisor");
    /// ```
    pub fn device_name(&self) -> &str {
        self.device.as_ref().map_or("supervisor", |d| &d.serial)
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} on ", self.kind, self.status.as_str())?;
        match &self.device {
            Some(d) => write!(f, "{} {}", d.record_type, d.serial)?,
            None => f.write_str("supervisor")?,
        }
        write!(
            f,
            " from {} to {} (",
            Rfc3339(self.start),
            Rfc3339(self.end)
        )?;
        let e = &self.evidence;
        if let (Some(p), Some(m)) = (e.produced_kw, e.peers_median_kw) {
            write!(f, "{p:.3} kW against a median of {m:.3} kW, ")?;
        }
        if e.bad_samples > 0 {
            write!(f, "{} of ", e.bad_samples)?;
        }
        write!(f, "{} samples", e.samples)?;
        if e.days > 0 {
            write!(f, ", {} days", e.days)?;
        }
        f.write_str(")")
    }
}

/// A column that is always there.
const fn col(name: &'static str, field_type: FieldType, doc: &'static str) -> FieldSpec {
    FieldSpec::new(name, field_type, false, None, doc)
}

impl Finding {
    /// The columns of a finding row, in the order of every output (the jsonl keys of `sunpower
    /// health --format jsonl`, the Arrow schema and the Parquet file's columns).
    ///
    /// ```
    /// use sunpower_proto::health::Finding;
    /// let names: Vec<&str> = Finding::COLUMNS.iter().map(|c| c.name).collect();
    /// assert_eq!(names[..4], ["kind", "status", "severity", "serial"]);
    /// assert_eq!(names.len(), 13);
    /// ```
    pub const COLUMNS: &'static [FieldSpec] = &[
        col(
            "kind",
            FieldType::Text,
            "What is wrong: reporting_zero, not_reporting, underperforming, stale, gap, \
             counter_reset, counter_glitch, comm_errors, memory_high, flash_full.",
        ),
        col("status", FieldType::Text, "fault, or recovered (the fault ended)."),
        col("severity", FieldType::Text, "critical, warning or info (every recovery)."),
        FieldSpec::new(
            "serial",
            FieldType::Text,
            true,
            None,
            "The device's serial; none for the supervisor's data as a whole (gaps).",
        ),
        FieldSpec::new(
            "record_type",
            FieldType::Unsigned,
            true,
            None,
            "The record type the device reports in (130 inverters); none with the serial.",
        ),
        col("start", FieldType::Time, "When the fault began."),
        col(
            "end",
            FieldType::Time,
            "A fault: when last seen as it was established; a recovery: when seen healthy again.",
        ),
        FieldSpec::new(
            "produced_kw",
            FieldType::Decimal,
            true,
            Some("kW"),
            "The device's mean AC power over the samples counted (a stale device: its stuck value).",
        ),
        FieldSpec::new(
            "peers_median_kw",
            FieldType::Decimal,
            true,
            Some("kW"),
            "The array's median AC power at the same times, averaged.",
        ),
        col(
            "samples",
            FieldType::Unsigned,
            "Samples counted (comm_errors: the supervisor's communication errors).",
        ),
        col(
            "bad_samples",
            FieldType::Unsigned,
            "Of those, the samples that showed the fault (comm_errors: the errors beyond the \
             usual rate).",
        ),
        col("days", FieldType::Unsigned, "Local days covered."),
        FieldSpec::new(
            "value",
            FieldType::Decimal,
            true,
            None,
            "The kind's own measure: memory_high and flash_full, the percent used (the highest).",
        ),
    ];

    /// Visits the finding's values in [`Finding::COLUMNS`] order: what the jsonl row (`serde`
    /// feature) and the Arrow batch are made of.
    ///
    /// ```
    /// use chrono::DateTime;
    /// use sunpower_proto::health::{Evidence, Finding, Kind, Status};
    /// use sunpower_proto::FieldValue;
    /// let t = DateTime::UNIX_EPOCH;
    /// let f = Finding::new(Kind::Gap, Status::Fault, None, t, t, Evidence::default());
    /// let mut names = Vec::new();
    /// f.visit(|name, value| {
    ///     if name == "serial" {
    ///         assert_eq!(value, FieldValue::Text(None));
    ///     }
    ///     names.push(name);
    /// });
    /// assert_eq!(names, Finding::COLUMNS.iter().map(|c| c.name).collect::<Vec<_>>());
    /// ```
    pub fn visit<'a>(&'a self, mut visit: impl FnMut(&'static str, FieldValue<'a>)) {
        use FieldValue::{Decimal, Text, Time, Unsigned};
        visit("kind", Text(Some(self.kind.as_str())));
        visit("status", Text(Some(self.status.as_str())));
        visit("severity", Text(Some(self.severity.as_str())));
        visit(
            "serial",
            Text(self.device.as_ref().map(|d| d.serial.as_str())),
        );
        visit(
            "record_type",
            Unsigned(self.device.as_ref().map(|d| u64::from(d.record_type))),
        );
        visit("start", Time(Some(self.start)));
        visit("end", Time(Some(self.end)));
        let e = &self.evidence;
        visit("produced_kw", Decimal(e.produced_kw));
        visit("peers_median_kw", Decimal(e.peers_median_kw));
        visit("samples", Unsigned(Some(e.samples.into())));
        visit("bad_samples", Unsigned(Some(e.bad_samples.into())));
        visit("days", Unsigned(Some(e.days.into())));
        visit("value", Decimal(e.value));
    }
}

/// The jsonl row: the columns of [`Finding::COLUMNS`] (`kind`, `status`, `severity`, `serial`
/// and `record_type` (null for the supervisor), `start`, `end` (RFC 3339 UTC), then the
/// evidence's fields).
#[cfg(feature = "serde")]
impl serde::Serialize for Finding {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(Finding::COLUMNS.len()))?;
        let mut result = Ok(());
        self.visit(|name, value| {
            if result.is_err() {
                return;
            }
            result = match value {
                FieldValue::Text(v) => map.serialize_entry(name, &v),
                FieldValue::Time(v) => {
                    map.serialize_entry(name, &v.map(|t| Rfc3339(t).to_string()))
                }
                FieldValue::Decimal(v) => map.serialize_entry(name, &v),
                FieldValue::Unsigned(v) => map.serialize_entry(name, &v),
                // No other type in the column list.
                _ => map.serialize_entry(name, &()),
            };
        });
        result?;
        map.end()
    }
}
