//! `sunpower.Intervals`: the interval energy accumulator, and its `Interval` rows.

use std::sync::{Mutex, TryLockError};

use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use pyo3::IntoPyObjectExt;
use sunpower_proto::arrow::{interval_batch, interval_schema, DEFAULT_BATCH_ROWS};
use sunpower_proto::intervals::{Added, Interval as CoreInterval, Tz};
use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
use sunpower_proto::rfc3339;
use sunpower_proto::{FieldType, ProblemLog};

use crate::arrow::{arrow_error, RecordBatches};
use crate::devicelist::{DeviceList, ListItem};
use crate::devices::Battery;
use crate::errors;
use crate::record::Record;
use crate::value::{to_py, TimeAs};
use crate::varserver::{SiteTotals, Vars};

/// One interval's energy: a row of `sunpower intervals`. Immutable.
#[pyclass(module = "sunpower", name = "Interval", frozen, eq)]
#[derive(PartialEq)]
pub struct Interval {
    row: CoreInterval,
    tz: Tz,
}

impl Interval {
    /// The core row and its zone.
    pub fn parts(&self) -> (&CoreInterval, Tz) {
        (&self.row, self.tz)
    }

    fn local_start(&self) -> DateTime<FixedOffset> {
        self.row
            .interval_start
            .with_timezone(&self.tz)
            .fixed_offset()
    }
}

#[pymethods]
impl Interval {
    /// Start (aware, UTC), included.
    #[getter]
    fn interval_start(&self) -> DateTime<Utc> {
        self.row.interval_start
    }

    /// The start in the accumulator's zone (aware, with that zone's offset at the time).
    #[getter]
    fn interval_start_local(&self) -> DateTime<FixedOffset> {
        self.local_start()
    }

    /// End (aware, UTC), excluded.
    #[getter]
    fn interval_end(&self) -> DateTime<Utc> {
        self.row.interval_end
    }

    /// Energy produced, Wh.
    #[getter]
    fn production_wh(&self) -> f64 {
        self.row.production_wh
    }

    /// Energy consumed by the house, Wh; `None` without a consumption meter report.
    #[getter]
    fn consumption_wh(&self) -> Option<f64> {
        self.row.consumption_wh
    }

    /// Energy from the grid, Wh (negative for export); `None` without a meter report.
    #[getter]
    fn net_wh(&self) -> Option<f64> {
        self.row.net_wh
    }

    /// Mean production power, W.
    #[getter]
    fn production_w(&self) -> f64 {
        self.row.production_w
    }

    /// Mean consumption power, W; `None` without a meter report.
    #[getter]
    fn consumption_w(&self) -> Option<f64> {
        self.row.consumption_w
    }

    /// Where `net_wh` came from: `"counter"`, `"power"` or `"none"`.
    #[getter]
    fn net_source(&self) -> &'static str {
        self.row.net_source.as_str()
    }

    /// How many inverters reported for this interval.
    #[getter]
    fn inverters_reporting(&self) -> u32 {
        self.row.inverters_reporting
    }

    /// Whether this row replaces one emitted before (streaming).
    #[getter]
    fn revised(&self) -> bool {
        self.row.revised
    }

    /// The names of what was noteworthy (`"missed_report"`, `"no_meter"`, ...).
    #[getter]
    fn flags<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(
            py,
            self.row
                .flags
                .iter()
                .map(|f| f.as_str())
                .collect::<Vec<_>>(),
        )
    }

    /// Energy from the battery into the house, Wh (negative while it charges); `None` without
    /// a battery report.
    #[getter]
    fn battery_wh(&self) -> Option<f64> {
        self.row.battery_wh
    }

    /// The battery's state of charge at the interval's end, percent from 0 to 100; `None`
    /// without a battery report.
    #[getter]
    fn battery_soc_pct(&self) -> Option<f64> {
        self.row.battery_soc_pct
    }

    /// The row as `sunpower intervals --format jsonl` prints it (times as RFC 3339 strings), keys
    /// in the order of `interval_fields()`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        let mut result = Ok(());
        self.row.visit_output(Some(self.tz), |name, value| {
            if result.is_err() {
                return;
            }
            result = to_py(py, value, TimeAs::Rfc3339).and_then(|v| dict.set_item(name, v));
        });
        result.map(|()| dict)
    }

    fn __repr__(&self) -> String {
        let opt = |v: Option<f64>| v.map_or("None".to_owned(), |v| format!("{v:?}"));
        format!(
            "Interval({}, production_wh={:?}, consumption_wh={}, net_wh={}{})",
            rfc3339(self.row.interval_start),
            self.row.production_wh,
            opt(self.row.consumption_wh),
            opt(self.row.net_wh),
            if self.row.revised { ", revised" } else { "" },
        )
    }
}

/// The columns of an interval row, in the order of every output (CSV, jsonl, Arrow,
/// `to_dict()`), as the core library describes them once: `(name, type, unit)`, the type one of
/// `"time"`, `"local_time"`, `"decimal"`, `"text"`, `"unsigned"`, `"bool"`, `"flags"`.
#[pyfunction]
pub fn interval_fields() -> Vec<(&'static str, &'static str, Option<&'static str>)> {
    CoreInterval::COLUMNS
        .iter()
        .map(|column| {
            let column_type = match column.field_type {
                FieldType::Time => "time",
                FieldType::LocalTime => "local_time",
                FieldType::Decimal => "decimal",
                FieldType::Unsigned => "unsigned",
                FieldType::Bool => "bool",
                FieldType::Flags => "flags",
                _ => "text",
            };
            (column.name, column_type, column.unit)
        })
        .collect()
}

/// The accumulator and its zone.
struct State {
    acc: IntervalAccumulator,
    /// Intervals handed out by `finish`, `finish_arrow` or `advance_to` since the last
    /// `write_tree`: that many rows a `write_tree` now would not write.
    handed_out: usize,
    /// Which interval events are logged: at most 100 of a kind, the rest counted (as the
    /// command shows them).
    log: ProblemLog,
}

/// Energy per interval from records fed in any order (replays and duplicates included).
#[pyclass(module = "sunpower", name = "Intervals", frozen)]
pub struct Intervals {
    state: Mutex<State>,
    tz: Tz,
}

impl State {
    /// `rows`, counted as handed out (not to be written by a later `write_tree`).
    fn handed(&mut self, rows: Vec<CoreInterval>) -> Vec<CoreInterval> {
        self.handed_out += rows.len();
        rows
    }
}

impl Intervals {
    fn with_state<T>(&self, f: impl FnOnce(&mut State) -> T) -> PyResult<T> {
        match self.state.try_lock() {
            Ok(mut guard) => Ok(f(&mut guard)),
            Err(TryLockError::Poisoned(p)) => Ok(f(&mut p.into_inner())),
            Err(TryLockError::WouldBlock) => Err(PyRuntimeError::new_err(
                "these Intervals are being used by another thread",
            )),
        }
    }

    /// Rows to Python, after logging what the accumulator reported.
    fn rows(
        &self,
        py: Python<'_>,
        rows: Vec<CoreInterval>,
        summary: bool,
    ) -> PyResult<Vec<Interval>> {
        self.log_events(py, summary)?;
        Ok(rows
            .into_iter()
            .map(|row| Interval { row, tz: self.tz })
            .collect())
    }

    /// Logs the accumulator's events, at most 100 of a kind (the command's cap); with
    /// `summary`, then how many of each kind were not shown.
    fn log_events(&self, py: Python<'_>, summary: bool) -> PyResult<()> {
        let shown = self.with_state(|s| {
            let mut shown = Vec::new();
            for event in s.acc.take_events() {
                if s.log.admit(event.kind()) {
                    shown.push(event.to_string());
                }
            }
            if summary {
                shown.extend(s.log.summary());
            }
            shown
        })?;
        for message in shown {
            errors::log_warning(py, &message)?;
        }
        Ok(())
    }
}

fn added_name(added: Added) -> &'static str {
    match added {
        Added::Stored => "stored",
        Added::Duplicate => "duplicate",
        Added::Conflict => "conflict",
        Added::BeyondHorizon => "beyond_horizon",
        Added::Ignored => "ignored",
        Added::ImplausibleTime => "implausible_time",
        // A later kind of outcome of the core library.
        _ => "other",
    }
}

#[pymethods]
impl Intervals {
    #[new]
    #[pyo3(
        signature = (tz = "UTC".to_owned(), *, cadence = None, streaming = false, lateness = None),
        text_signature = "(tz='UTC', *, cadence=None, streaming=False, lateness=None)"
    )]
    fn new(
        tz: String,
        cadence: Option<TimeDelta>,
        streaming: bool,
        lateness: Option<TimeDelta>,
    ) -> PyResult<Self> {
        let zone: Tz = tz
            .parse()
            .map_err(|_| PyValueError::new_err(format!("unknown time zone {tz:?}")))?;
        // The library's presets, as the `sunpower` command uses them: records fed without a
        // capture clock are documents' (every interval kept to the end).
        let mut config = if streaming {
            IntervalConfig::live(lateness.unwrap_or(IntervalConfig::default().lateness))
        } else {
            IntervalConfig::documents()
        };
        if let Some(cadence) = cadence {
            if cadence <= TimeDelta::zero() {
                return Err(PyValueError::new_err("cadence must be positive"));
            }
            config = config.with_cadence(cadence);
        }
        if let (false, Some(lateness)) = (streaming, lateness) {
            config = config.with_lateness(lateness);
        }
        Ok(Intervals {
            state: Mutex::new(State {
                acc: IntervalAccumulator::new(config),
                handed_out: 0,
                log: ProblemLog::default(),
            }),
            tz: zone,
        })
    }

    /// The IANA zone of `interval_start_local` (`"America/Los_Angeles"`).
    #[getter]
    fn tz(&self) -> &'static str {
        self.tz.name()
    }

    /// The interval length: the one given, else inferred from the records (5 minutes until
    /// known).
    #[getter]
    fn cadence(&self) -> PyResult<TimeDelta> {
        self.with_state(|s| s.acc.cadence())
    }

    /// Feeds one record, one reading of the site totals, a battery, or a `/vars` or DeviceList
    /// document; says what became of it: `"stored"`, `"duplicate"`, `"conflict"`, `"beyond_horizon"`,
    /// `"implausible_time"` (dated before 2000) or `"ignored"` (no interval energy in it); for a document, a tuple of those, one for its site totals
    /// (first, when it has them) and one per record used (records whose serial another device
    /// of the document shares are not used, see `stats["serial_collisions"]`).
    fn add<'py>(&self, py: Python<'py>, item: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        if let Ok(record) = item.cast::<Record>() {
            let record = record.get();
            let added = self.with_state(|s| s.acc.add(&record.core()))?;
            return added_name(added).into_bound_py_any(py);
        }
        if let Ok(site) = item.cast::<SiteTotals>() {
            let site = site.get();
            let added = self.with_state(|s| s.acc.add_site_totals(site.core()))?;
            return added_name(added).into_bound_py_any(py);
        }
        if let Ok(battery) = item.cast::<Battery>() {
            let battery = battery.get();
            let added = self.with_state(|s| s.acc.add_battery(battery.core()))?;
            return added_name(added).into_bound_py_any(py);
        }
        if let Ok(vars) = item.cast::<Vars>() {
            let vars = vars.get();
            let added = self.with_state(|s| s.acc.add_vars(vars.core()))?;
            return PyTuple::new(py, added.into_iter().map(added_name)).map(Bound::into_any);
        }
        if let Ok(list) = item.cast::<DeviceList>() {
            let mut added = Vec::new();
            list.get().feed(py, |item| {
                added.push(self.with_state(|s| match item {
                    ListItem::Record(record) => s.acc.add(&record.core()),
                    ListItem::Battery(battery) => s.acc.add_battery(battery.core()),
                })?);
                Ok(())
            })?;
            return PyTuple::new(py, added.into_iter().map(added_name)).map(Bound::into_any);
        }
        Err(PyTypeError::new_err(format!(
            "Intervals.add() takes a sunpower.Record, SiteTotals, Battery, Vars or DeviceList, not {}",
            item.get_type().name()?
        )))
    }

    /// Feeds every item of an iterable (a list from `parse_body`, a post's `records`, a
    /// `Vars`'s `records`, site totals from telemetry, `Vars` documents).
    fn extend(&self, py: Python<'_>, items: &Bound<'_, PyAny>) -> PyResult<()> {
        for item in items.try_iter()? {
            self.add(py, &item?)?;
        }
        Ok(())
    }

    /// Streaming: the capture time is now `now` (aware); returns the intervals that became
    /// ready, revisions included.
    fn advance_to(&self, py: Python<'_>, now: DateTime<FixedOffset>) -> PyResult<Vec<Interval>> {
        let now = now.with_timezone(&Utc);
        let rows = self.with_state(|s| {
            let rows = s.acc.advance_to(now);
            s.handed(rows)
        })?;
        self.rows(py, rows, false)
    }

    /// Every interval still held, in start order (offline: all of them). Further records can
    /// be added after.
    fn finish(&self, py: Python<'_>) -> PyResult<Vec<Interval>> {
        let rows = self.with_state(|s| {
            let rows = s.acc.finish();
            s.handed(rows)
        })?;
        self.rows(py, rows, true)
    }

    /// Every interval still held (as `finish` returns them) as Arrow batches, the columns of
    /// `to_dict()`; built without the GIL.
    fn finish_arrow(&self, py: Python<'_>) -> PyResult<RecordBatches> {
        let rows = self.with_state(|s| {
            let rows = s.acc.finish();
            s.handed(rows)
        })?;
        self.log_events(py, true)?;
        let tz = self.tz;
        let batches = py.detach(|| {
            (rows.chunks(DEFAULT_BATCH_ROWS))
                .map(|chunk| interval_batch(chunk, Some(tz)))
                .collect::<Result<Vec<_>, _>>()
        });
        let batches = batches.map_err(arrow_error)?;
        Ok(RecordBatches::new(None, interval_schema(Some(tz)), batches))
    }

    /// Every interval still held (as `finish` returns them), merged into the tree under
    /// `directory` as `sunpower intervals --tree` writes it; returns what changed. Intervals
    /// handed out since by `finish`, `finish_arrow` or `advance_to` are not held any more:
    /// with none left to write that is a `ValueError` (not an empty write), with some a
    /// warning that says how many are not in it.
    fn write_tree<'py>(
        &self,
        py: Python<'py>,
        directory: std::path::PathBuf,
    ) -> PyResult<Bound<'py, PyDict>> {
        let (rows, handed_out) =
            self.with_state(|s| (s.acc.finish(), std::mem::take(&mut s.handed_out)))?;
        self.log_events(py, true)?;
        if handed_out > 0 {
            let message = format!(
                "{}: {handed_out} intervals were handed out by finish(), finish_arrow() or \
                 advance_to() before this write_tree() and are not in it (write them with \
                 sunpower.write_tree(directory, rows))",
                directory.display()
            );
            if rows.is_empty() {
                return Err(PyValueError::new_err(format!(
                    "nothing to write: {message}"
                )));
            }
            errors::log_warning(py, &message)?;
        }
        crate::export::write_rows(py, directory, &rows, self.tz)
    }

    /// What the accumulator saw: `records`, `stored`, `duplicates`, `conflicts`,
    /// `beyond_horizon`, `ignored`, `events_dropped`, `site_totals` (readings kept),
    /// `serial_collisions` (device records not used: their serial is shared),
    /// `implausible_times` (records not used: dated before 2000, or alone far from the others).
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.with_state(|s| *s.acc.stats())?;
        let dict = PyDict::new(py);
        for (key, value) in [
            ("records", s.records),
            ("stored", s.stored),
            ("duplicates", s.duplicates),
            ("conflicts", s.conflicts),
            ("beyond_horizon", s.beyond_horizon),
            ("ignored", s.ignored),
            ("events_dropped", s.events_dropped),
            ("site_totals", s.site_totals),
            ("serial_collisions", s.serial_collisions),
            ("implausible_times", s.implausible_times),
        ] {
            dict.set_item(key, value)?;
        }
        Ok(dict)
    }

    fn __repr__(&self) -> PyResult<String> {
        let (records, cadence) =
            self.with_state(|s| (s.acc.stats().records, s.acc.cadence().num_seconds()))?;
        Ok(format!(
            "Intervals(tz='{}', cadence={cadence} s, {records} records)",
            self.tz.name()
        ))
    }
}
