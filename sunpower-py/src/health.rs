//! `Health` and `Finding`: the library's health stages (`sunpower_proto::health::HealthStages`),
//! fed like `Intervals`. Thin: the rules, the order and the evidence text are the core's.

use std::sync::{Mutex, TryLockError};

use chrono::{DateTime, FixedOffset, Utc};
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use sunpower_proto::arrow::{finding_batch, finding_schema, DEFAULT_BATCH_ROWS};
use sunpower_proto::health::{self, HealthConfig, HealthStages};
use sunpower_proto::intervals::{IntervalConfig, Tz};

use crate::arrow::{arrow_error, RecordBatches};
use crate::devicelist::{DeviceList, ListItem};
use crate::devices::Battery;
use crate::record::Record;
use crate::varserver::{SiteTotals, Vars};

/// One finding: a fault of a device (or of the supervisor's data) over a period, or its
/// recovery. Immutable.
#[pyclass(module = "sunpower", name = "Finding", frozen)]
pub struct Finding {
    core: health::Finding,
}

#[pymethods]
impl Finding {
    /// `"not_reporting"`, `"reporting_zero"`, `"underperforming"`, `"stale"`, `"gap"`,
    /// `"counter_reset"`, `"counter_glitch"`, `"comm_errors"`, `"memory_high"`, `"flash_full"`,
    /// `"flash_wear"`, `"battery_soh_falling"`, `"battery_not_reporting"`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.core.kind.as_str()
    }

    /// `"fault"` or `"recovered"`.
    #[getter]
    fn status(&self) -> &'static str {
        self.core.status.as_str()
    }

    /// `"critical"`, `"warning"` or `"info"`.
    #[getter]
    fn severity(&self) -> &'static str {
        self.core.severity.as_str()
    }

    /// The device's serial; `None` for the supervisor's data (a gap).
    #[getter]
    fn serial(&self) -> Option<&str> {
        self.core.device.as_ref().map(|d| d.serial.as_str())
    }

    /// The device's record type (130 for an inverter, 120 the supervisor, 0 a battery); `None`
    /// for the supervisor's data.
    #[getter]
    fn record_type(&self) -> Option<u16> {
        self.core.device.as_ref().map(|d| d.record_type)
    }

    /// The period covered, aware datetimes in UTC.
    #[getter]
    fn start(&self) -> DateTime<Utc> {
        self.core.start
    }

    #[getter]
    fn end(&self) -> DateTime<Utc> {
        self.core.end
    }

    /// The evidence: what the device produced and its peers' median (kW), the samples counted,
    /// those that were bad, the days.
    #[getter]
    fn produced_kw(&self) -> Option<f64> {
        self.core.evidence.produced_kw
    }

    #[getter]
    fn peers_median_kw(&self) -> Option<f64> {
        self.core.evidence.peers_median_kw
    }

    #[getter]
    fn samples(&self) -> u32 {
        self.core.evidence.samples
    }

    #[getter]
    fn bad_samples(&self) -> u32 {
        self.core.evidence.bad_samples
    }

    #[getter]
    fn days(&self) -> u32 {
        self.core.evidence.days
    }

    /// The kind's own measure: `memory_high` and `flash_full`, the percent used;
    /// `flash_wear`, the percent of the flash's life used; `battery_soh_falling`, the state of
    /// health in percent (the lowest).
    #[getter]
    fn value(&self) -> Option<f64> {
        self.core.evidence.value
    }

    /// The evidence in a few words, as `sunpower health` shows it.
    #[getter]
    fn evidence_text(&self) -> String {
        self.core.evidence_text()
    }

    /// The keys and values of `sunpower health --format jsonl`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        dict.set_item("kind", self.kind())?;
        dict.set_item("status", self.status())?;
        dict.set_item("severity", self.severity())?;
        dict.set_item("serial", self.serial())?;
        dict.set_item("record_type", self.record_type())?;
        dict.set_item(
            "start",
            sunpower_proto::rfc3339(self.core.start).to_string(),
        )?;
        dict.set_item("end", sunpower_proto::rfc3339(self.core.end).to_string())?;
        dict.set_item("produced_kw", self.produced_kw())?;
        dict.set_item("peers_median_kw", self.peers_median_kw())?;
        dict.set_item("samples", self.samples())?;
        dict.set_item("bad_samples", self.bad_samples())?;
        dict.set_item("days", self.days())?;
        dict.set_item("value", self.value())?;
        Ok(dict)
    }

    fn __str__(&self) -> String {
        self.core.to_string()
    }

    fn __repr__(&self) -> String {
        format!(
            "Finding({} {} {} {})",
            self.severity(),
            self.status(),
            self.kind(),
            self.core.device_name()
        )
    }
}

fn findings(py: Python<'_>, mut found: Vec<health::Finding>) -> PyResult<Vec<Py<Finding>>> {
    // Worst first, as the command's table: the order is the core's.
    health::worst_first(&mut found);
    found
        .into_iter()
        .map(|core| Py::new(py, Finding { core }))
        .collect()
}

/// Health findings of records, fed like `Intervals`: `add(record)`, `extend(records)`, a `Vars`
/// document whole; `take_findings()` as days complete, `finish()` at the end, each worst first.
/// The rules, thresholds and texts are the core library's, the same as `sunpower health`'s.
/// One thread at a time.
#[pyclass(module = "sunpower", name = "Health", frozen)]
pub struct Health {
    stages: Mutex<HealthStages>,
}

impl Health {
    fn with_stages<T>(&self, f: impl FnOnce(&mut HealthStages) -> T) -> PyResult<T> {
        match self.stages.try_lock() {
            Ok(mut guard) => Ok(f(&mut guard)),
            Err(TryLockError::Poisoned(p)) => Ok(f(&mut p.into_inner())),
            Err(TryLockError::WouldBlock) => Err(PyRuntimeError::new_err(
                "this Health is being used by another thread",
            )),
        }
    }
}

#[pymethods]
impl Health {
    /// Local days in the IANA zone `tz`; `captures=True` for records of a capture fed with
    /// `advance_to(post.captured_at)` at each post (the library's capture preset, as `sunpower
    /// health capture.pcap`), else the documents' preset.
    #[new]
    #[pyo3(
        signature = (tz = "UTC".to_owned(), *, captures = false),
        text_signature = "(tz='UTC', *, captures=False)"
    )]
    fn new(tz: String, captures: bool) -> PyResult<Self> {
        let zone: Tz = tz
            .parse()
            .map_err(|_| PyValueError::new_err(format!("unknown time zone {tz:?}")))?;
        let intervals = if captures {
            IntervalConfig::captures()
        } else {
            IntervalConfig::documents()
        };
        Ok(Health {
            stages: Mutex::new(HealthStages::new(intervals, HealthConfig::default(), zone)),
        })
    }

    /// Feeds a `Record`, a `Vars` or `DeviceList` document (its records, then its batteries), a
    /// telemetry frame's `SiteTotals` or a `Battery`.
    fn add(&self, item: &Bound<'_, PyAny>) -> PyResult<()> {
        if let Ok(record) = item.cast::<Record>() {
            let record = record.get();
            return self.with_stages(|s| s.add(&record.core()));
        }
        if let Ok(site) = item.cast::<SiteTotals>() {
            let site = site.get();
            return self.with_stages(|s| s.add_site_totals(site.core()));
        }
        if let Ok(battery) = item.cast::<Battery>() {
            let battery = battery.get();
            return self.with_stages(|s| s.add_battery(battery.core()));
        }
        if let Ok(list) = item.cast::<DeviceList>() {
            return list.get().feed(item.py(), |item| {
                self.with_stages(|s| match item {
                    ListItem::Record(record) => s.add(&record.core()),
                    ListItem::Battery(battery) => s.add_battery(battery.core()),
                })
            });
        }
        if let Ok(vars) = item.cast::<Vars>() {
            let vars = vars.get();
            return self.with_stages(|s| s.add_vars(vars.core()));
        }
        Err(PyTypeError::new_err(format!(
            "Health.add() takes a sunpower.Record, Vars, DeviceList, SiteTotals or Battery, not {}",
            item.get_type().name()?
        )))
    }

    /// Feeds every item of an iterable (a list from `parse_body`, a post's `records`...).
    fn extend(&self, items: &Bound<'_, PyAny>) -> PyResult<()> {
        for item in items.try_iter()? {
            self.add(&item?)?;
        }
        Ok(())
    }

    /// The capture clock (a post's `captured_at`, aware).
    fn advance_to(&self, now: DateTime<FixedOffset>) -> PyResult<()> {
        self.with_stages(|s| s.advance_to(now.with_timezone(&Utc)))
    }

    /// The findings of the days judged so far, worst first.
    fn take_findings(&self, py: Python<'_>) -> PyResult<Vec<Py<Finding>>> {
        let found = self.with_stages(|s| s.take_findings())?;
        findings(py, found)
    }

    /// Every finding left, worst first.
    fn finish(&self, py: Python<'_>) -> PyResult<Vec<Py<Finding>>> {
        let found = self.with_stages(|s| s.finish())?;
        findings(py, found)
    }

    /// Every finding left (as `finish` returns them, worst first) as Arrow batches, the
    /// columns of `sunpower health --format jsonl` and `Finding.to_dict()`; built without
    /// the GIL.
    fn finish_arrow(&self, py: Python<'_>) -> PyResult<RecordBatches> {
        let mut found = self.with_stages(|s| s.finish())?;
        health::worst_first(&mut found);
        let batches = py.detach(|| {
            (found.chunks(DEFAULT_BATCH_ROWS))
                .map(finding_batch)
                .collect::<Result<Vec<_>, _>>()
        });
        let batches = batches.map_err(arrow_error)?;
        Ok(RecordBatches::new(None, finding_schema(), batches))
    }

    /// Readings that came after their day was judged, ignored.
    #[getter]
    fn late_readings(&self) -> PyResult<u64> {
        self.with_stages(|s| s.late_readings())
    }
}
