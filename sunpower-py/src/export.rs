//! The output shapes of interval rows, as the library makes them: PVOutput statuses with each
//! day's running totals (`PvOutputEncoder`), and the `YYYY/MM/DD.csv` tree (`write_tree`).

use std::path::PathBuf;
use std::sync::Mutex;

use pyo3::exceptions::{PyOSError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use sunpower_proto::export::{self, PvOutputEncoder as CoreEncoder};
use sunpower_proto::intervals::{Interval as CoreInterval, Tz};
use sunpower_store::tree;

use crate::intervals::Interval;

/// The core rows of an iterable of `Interval`s, and the zone they share.
fn core_rows(rows: &Bound<'_, PyAny>) -> PyResult<(Vec<CoreInterval>, Option<Tz>)> {
    let mut out = Vec::new();
    let mut zone = None;
    for item in rows.try_iter()? {
        let item = item?;
        let row = item
            .cast::<Interval>()
            .map_err(|_| PyTypeError::new_err("expected sunpower.Interval rows"))?;
        let (core, tz) = row.get().parts();
        match zone {
            Some(z) if z != tz => {
                return Err(PyValueError::new_err(
                    "rows of different time zones cannot be merged into one tree",
                ))
            }
            _ => zone = Some(tz),
        }
        out.push(core.clone());
    }
    Ok((out, zone))
}

/// Turns interval rows into PVOutput statuses, keeping each local day's running totals across
/// calls: a live uploader that pushes rows as they become ready (and revised) ends with the same
/// status for every time of day as one run over the whole capture.
#[pyclass(module = "sunpower", name = "PvOutputEncoder", frozen)]
pub struct PvOutputEncoder {
    encoder: Mutex<CoreEncoder>,
    tz: Tz,
}

#[pymethods]
impl PvOutputEncoder {
    #[new]
    #[pyo3(signature = (tz = "UTC".to_owned()), text_signature = "(tz='UTC')")]
    fn new(tz: String) -> PyResult<Self> {
        let zone: Tz = tz
            .parse()
            .map_err(|_| PyValueError::new_err(format!("unknown time zone {tz:?}")))?;
        Ok(PvOutputEncoder {
            encoder: Mutex::new(CoreEncoder::new(zone)),
            tz: zone,
        })
    }

    /// The IANA zone of the statuses' local dates and times.
    #[getter]
    fn tz(&self) -> &'static str {
        self.tz.name()
    }

    /// Takes new or revised rows; returns the statuses to send, `"d,t,v1,v2[,v3,v4]"` each: for
    /// every day touched, from its earliest changed row on, with the running totals.
    fn push(&self, rows: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
        let (rows, _) = core_rows(rows)?;
        let mut encoder = self
            .encoder
            .try_lock()
            .map_err(|_| PyRuntimeError::new_err("this encoder is being used by another thread"))?;
        Ok(encoder
            .push(&rows)
            .iter()
            .map(ToString::to_string)
            .collect())
    }

    /// Rows for days older than the ones kept for revisions, not used.
    #[getter]
    fn stale_rows(&self) -> PyResult<u64> {
        let encoder = self
            .encoder
            .try_lock()
            .map_err(|_| PyRuntimeError::new_err("this encoder is being used by another thread"))?;
        Ok(encoder.stale_rows())
    }
}

/// Statuses as `addbatchstatus` form bodies, `data=...;...`, at most 30 statuses each.
#[pyfunction]
pub fn pvoutput_payloads(statuses: Vec<String>) -> Vec<String> {
    export::pvoutput_payloads(&statuses)
}

/// Merges rows into the `YYYY/MM/DD.csv`, `daily.csv`, `monthly.csv`, `yearly.csv` tree under
/// `directory`, as `sunpower intervals --tree` does (locked, crash-safe, idempotent).
pub fn write_rows<'py>(
    py: Python<'py>,
    directory: PathBuf,
    rows: &[CoreInterval],
    tz: Tz,
) -> PyResult<Bound<'py, PyDict>> {
    let report = py
        .detach(|| tree::write_dir(&directory, rows, tz))
        .map_err(|e| PyOSError::new_err(e.to_string()))?;
    let dict = PyDict::new(py);
    dict.set_item("inserted", report.inserted)?;
    dict.set_item("replaced", report.replaced)?;
    dict.set_item("kept", report.kept)?;
    dict.set_item("files", report.files)?;
    // Rows of another day found inside a day's file: in no total (counted, not lost silently).
    dict.set_item("misplaced", report.misplaced)?;
    Ok(dict)
}

/// Merges `Interval` rows (of one time zone) into the tree under `directory`; returns what
/// changed: `inserted`, `replaced`, `kept`, `files` (files written), `misplaced` (rows of
/// another day found in a day's file, in no total).
#[pyfunction]
pub fn write_tree<'py>(
    py: Python<'py>,
    directory: PathBuf,
    rows: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyDict>> {
    let (rows, tz) = core_rows(rows)?;
    write_rows(py, directory, &rows, tz.unwrap_or(Tz::UTC))
}

/// Energy per hour of `Interval` rows (of one time zone), as Home Assistant's long-term
/// statistics keep it: a dict per hour with `start` (aware, UTC, the top of the local hour),
/// `production_wh`, `consumption_wh`, `grid_import_wh`, `grid_export_wh`.
#[pyfunction]
pub fn hourly_energy<'py>(
    py: Python<'py>,
    rows: &Bound<'py, PyAny>,
) -> PyResult<Vec<Bound<'py, PyDict>>> {
    let (rows, tz) = core_rows(rows)?;
    export::hourly_energy(&rows, tz.unwrap_or(Tz::UTC))
        .into_iter()
        .map(|hour| {
            let dict = PyDict::new(py);
            dict.set_item("start", hour.start)?;
            dict.set_item("production_wh", hour.production_wh)?;
            dict.set_item("consumption_wh", hour.consumption_wh)?;
            dict.set_item("grid_import_wh", hour.grid_import_wh)?;
            dict.set_item("grid_export_wh", hour.grid_export_wh)?;
            Ok(dict)
        })
        .collect()
}
