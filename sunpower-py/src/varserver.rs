//! The local API of current supervisors: `parse_vars` (varserver `/vars` documents) with its
//! `Vars`, `SupervisorInfo` and `SiteTotals`, `parse_supervisor_info`, and the telemetry
//! WebSocket's frames (`parse_telemetry`, `TelemetryDecoder`). Thin wrappers: the decoding,
//! counting and withholding of secrets are the core library's.

use std::sync::{Mutex, TryLockError};

use chrono::{DateTime, Utc};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString, PyTuple};
use sunpower_proto::{rfc3339, DocumentLimits, ProblemLog};

use crate::devices::{Battery, SupervisorHealth, TransferSwitch};
use crate::errors;
use crate::problem::DocumentProblem;
use crate::record::Record;
use crate::value::{document_bytes, serialized_to_py};

/// The supervisor's own running totals at one time: `/sys/livedata/*` of a `/vars` document, or
/// one `power` frame of the telemetry WebSocket. Immutable; equal by value.
#[pyclass(module = "sunpower", name = "SiteTotals", frozen, eq)]
#[derive(PartialEq)]
pub struct SiteTotals {
    core: sunpower_proto::SiteTotals,
}

impl SiteTotals {
    /// The core reading.
    pub fn core(&self) -> &sunpower_proto::SiteTotals {
        &self.core
    }
}

/// One getter per decimal field of the site totals.
macro_rules! site_methods {
    ($($name:ident),* $(,)?) => {
        #[pymethods]
        impl SiteTotals {
            /// `time`: when the totals were taken (aware, UTC); `None` when not reported.
            #[getter]
            fn timestamp(&self) -> Option<DateTime<Utc>> {
                self.core.timestamp
            }

            $(
                #[getter]
                fn $name(&self) -> Option<f64> {
                    self.core.$name
                }
            )*

            /// `midstate`: the microgrid interconnect device's state code.
            #[getter]
            fn midstate(&self) -> Option<i64> {
                self.core.midstate
            }

            /// The keys the reading's own frame (or document) carried, in the sources' order
            /// (`("time", "pv_en")`): a telemetry frame may carry only some, the others holding
            /// the values last seen.
            #[getter]
            fn carried(&self) -> Vec<&'static str> {
                self.core.carried.iter().collect()
            }

            /// `"site_totals"`: what the object is, as a record's `record_type` says its kind.
            #[getter]
            fn record_type(&self) -> &'static str {
                "site_totals"
            }

            /// The reading as `sunpower vars` / `sunpower telemetry` print it:
            /// `{"record_type": "site_totals", "timestamp": ..., ...}`, `None` where not
            /// reported.
            fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                serialized_to_py(py, &self.core)
            }

            fn __repr__(&self) -> String {
                let mut out = String::from("SiteTotals(");
                match self.core.timestamp {
                    Some(t) => out.push_str(&rfc3339(t).to_string()),
                    None => out.push_str("no time"),
                }
                for (name, value) in [
                    ("pv_energy_kwh", self.core.pv_energy_kwh),
                    ("net_energy_kwh", self.core.net_energy_kwh),
                    ("site_load_energy_kwh", self.core.site_load_energy_kwh),
                    ("battery_energy_kwh", self.core.battery_energy_kwh),
                    ("battery_soc_pct", self.core.battery_soc_pct),
                ] {
                    if let Some(value) = value {
                        out.push_str(&format!(", {name}={value:?}"));
                    }
                }
                out.push(')');
                out
            }
        }
    };
}

site_methods!(
    pv_power_kw,
    pv_energy_kwh,
    net_power_kw,
    net_energy_kwh,
    site_load_power_kw,
    site_load_energy_kwh,
    battery_power_kw,
    battery_energy_kwh,
    battery_soc_pct,
    backup_time_remaining_min,
);

/// The supervisor's identity and health (`/sys/info/*`, or `/cgi-bin/dl_cgi/supervisor/info`).
/// The Wi-Fi SSID and key and MAC addresses are not in it: the core never keeps them.
#[pyclass(module = "sunpower", name = "SupervisorInfo", frozen, eq)]
#[derive(PartialEq)]
pub struct SupervisorInfo {
    core: sunpower_proto::SupervisorInfo,
}

impl SupervisorInfo {
    /// Wraps the core's info.
    pub(crate) fn from_core(core: sunpower_proto::SupervisorInfo) -> Self {
        SupervisorInfo { core }
    }
}

/// One getter per text field, then per decimal field, of the supervisor info.
macro_rules! info_methods {
    (text: $($text:ident),*; decimal: $($decimal:ident),* $(,)?) => {
        #[pymethods]
        impl SupervisorInfo {
            $(
                #[getter]
                fn $text(&self) -> Option<&str> {
                    self.core.$text.as_deref()
                }
            )*

            $(
                #[getter]
                fn $decimal(&self) -> Option<f64> {
                    self.core.$decimal
                }
            )*

            /// The build number (`61845`).
            #[getter]
            fn build(&self) -> Option<u64> {
                self.core.build
            }

            /// Other supervisor values, kept raw: `(name, value)` pairs.
            #[getter]
            fn other<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
                raw_pairs(py, &self.core.other)
            }

            /// How many secret values (SSID, Wi-Fi key, MAC addresses) were seen and not kept.
            #[getter]
            fn withheld(&self) -> usize {
                self.core.withheld
            }

            /// `"supervisor_info"`: what the object is, as a record's `record_type` says its kind.
            #[getter]
            fn record_type(&self) -> &'static str {
                "supervisor_info"
            }

            /// The info as `sunpower vars` prints it: `{"record_type": "supervisor_info", ...}`.
            fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                serialized_to_py(py, &self.core)
            }

            fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
                // Not the serial: its last five characters are the owner's login password.
                let mut out = String::from("SupervisorInfo(");
                let mut first = true;
                for (name, value) in [
                    ("model", self.core.model.as_deref()),
                    ("software_version", self.core.software_version.as_deref()),
                ] {
                    if let Some(value) = value {
                        if !first {
                            out.push_str(", ");
                        }
                        first = false;
                        let quoted = PyString::new(py, value).repr()?;
                        out.push_str(&format!("{name}={quoted}"));
                    }
                }
                if let Some(build) = self.core.build {
                    if !first {
                        out.push_str(", ");
                    }
                    out.push_str(&format!("build={build}"));
                }
                out.push(')');
                Ok(out)
            }
        }
    };
}

info_methods!(
    text: serial, model, hardware_version, firmware_version, software_version, board_type,
        system_type, finance_type, active_interface;
    decimal: uptime_s, ram_usage_pct, flash_usage_pct, cpu_usage_pct,
);

/// Raw values as a tuple of `(path, value)` pairs.
fn raw_pairs<'py>(
    py: Python<'py>,
    raw: &[sunpower_proto::RawVar],
) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(py, raw.iter().map(|v| (v.path.as_str(), v.value.as_str())))
}

/// A decoded `/vars` document. Immutable.
#[pyclass(module = "sunpower", name = "Vars", frozen)]
pub struct Vars {
    core: sunpower_proto::Vars,
    records: Py<PyTuple>,
    supervisor: Option<Py<SupervisorInfo>>,
    site: Option<Py<SiteTotals>>,
    batteries: Py<PyTuple>,
    transfer_switches: Py<PyTuple>,
    health: Option<Py<SupervisorHealth>>,
}

impl Vars {
    /// The core document, for `Intervals.add`.
    pub fn core(&self) -> &sunpower_proto::Vars {
        &self.core
    }

    pub(crate) fn new(py: Python<'_>, core: sunpower_proto::Vars) -> PyResult<Self> {
        let records = core
            .records()
            .map(|buf| Bound::new(py, Record::new(&buf.record(), None)))
            .collect::<PyResult<Vec<_>>>()?;
        let records = PyTuple::new(py, records)?.unbind();
        let supervisor = core
            .supervisor
            .clone()
            .map(|core| Py::new(py, SupervisorInfo { core }))
            .transpose()?;
        let site = core
            .site
            .clone()
            .map(|core| Py::new(py, SiteTotals { core }))
            .transpose()?;
        let batteries = core
            .batteries
            .iter()
            .map(|b| Bound::new(py, Battery::new(b.clone())))
            .collect::<PyResult<Vec<_>>>()?;
        let batteries = PyTuple::new(py, batteries)?.unbind();
        let switches = core
            .transfer_switches
            .iter()
            .map(|s| Bound::new(py, TransferSwitch::new(s.clone())))
            .collect::<PyResult<Vec<_>>>()?;
        let transfer_switches = PyTuple::new(py, switches)?.unbind();
        let health = core
            .health
            .clone()
            .map(|h| Py::new(py, SupervisorHealth::new(h)))
            .transpose()?;
        Ok(Vars {
            core,
            records,
            supervisor,
            site,
            batteries,
            transfer_switches,
            health,
        })
    }
}

#[pymethods]
impl Vars {
    /// Every record, device by device: 130 per inverter, 140 (and 141) per meter.
    #[getter]
    fn records(&self, py: Python<'_>) -> Py<PyTuple> {
        self.records.clone_ref(py)
    }

    /// `/sys/info/*`, when the document had any.
    #[getter]
    fn supervisor(&self, py: Python<'_>) -> Option<Py<SupervisorInfo>> {
        self.supervisor.as_ref().map(|s| s.clone_ref(py))
    }

    /// `/sys/livedata/*`, when the document had any.
    #[getter]
    fn site(&self, py: Python<'_>) -> Option<Py<SiteTotals>> {
        self.site.as_ref().map(|s| s.clone_ref(py))
    }

    /// The batteries (`/sys/devices/ess/<i>/`), by index.
    #[getter]
    fn batteries(&self, py: Python<'_>) -> Py<PyTuple> {
        self.batteries.clone_ref(py)
    }

    /// The transfer switches (`/sys/devices/transfer_switch/<i>/`), by index.
    #[getter]
    fn transfer_switches(&self, py: Python<'_>) -> Py<PyTuple> {
        self.transfer_switches.clone_ref(py)
    }

    /// The supervisor's health (`/sys/info/*` usage, `/sys/pvs/flashwear_type_b`), when the
    /// document had any of it.
    #[getter]
    fn health(&self, py: Python<'_>) -> Option<Py<SupervisorHealth>> {
        self.health.as_ref().map(|h| h.clone_ref(py))
    }

    /// `"object"` (`{"<path>": value}`) or `"array"` (`{"values": [...], "count": N}`).
    #[getter]
    fn form(&self) -> &'static str {
        match self.core.form {
            sunpower_proto::VarsForm::Array => "array",
            _ => "object",
        }
    }

    /// How many path/value entries the document held.
    #[getter]
    fn entries(&self) -> usize {
        self.core.entries
    }

    /// Paths not decoded into a record, kept raw: `(path, value)` pairs (at most 1000).
    #[getter]
    fn other<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        raw_pairs(py, &self.core.other)
    }

    /// How many paths were not decoded, kept in `other` or not.
    #[getter]
    fn other_count(&self) -> usize {
        self.core.other_count
    }

    /// How many secret values (Wi-Fi SSID and key, MAC addresses) were seen and not kept.
    #[getter]
    fn withheld(&self) -> usize {
        self.core.withheld
    }

    /// Entries not decoded because of a limit.
    #[getter]
    fn dropped(&self) -> usize {
        self.core.dropped
    }

    /// How many devices share their serial with another device of the same kind (redacted
    /// dumps): their records are in `records`, but `Intervals` cannot follow their counters.
    #[getter]
    fn shared_serials(&self) -> usize {
        self.core.devices.iter().filter(|d| d.shared_serial).count()
    }

    /// Problems with devices and entries, as `DocumentProblem` objects at their `path`
    /// (`str()` is the message: `"/sys/devices/inverter/3: no sn: ..."`). A device without a
    /// serial or a readable time gave no record; any other bad value cost only its field.
    #[getter]
    fn problems<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.core.problems.iter().map(DocumentProblem::new))
    }

    fn __len__(&self, py: Python<'_>) -> usize {
        self.records.bind(py).len()
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let mut out = format!(
            "Vars({}, {} records",
            self.form(),
            self.records.bind(py).len()
        );
        if self.core.supervisor.is_some() {
            out.push_str(", supervisor");
        }
        if self.core.site.is_some() {
            out.push_str(", site");
        }
        for (name, count) in [
            ("other", self.core.other_count),
            ("withheld", self.core.withheld),
            ("dropped", self.core.dropped),
            ("problems", self.core.problems.len()),
        ] {
            if count > 0 {
                out.push_str(&format!(", {count} {name}"));
            }
        }
        out.push(')');
        out
    }
}

/// Decodes a `/vars` document (`bytes`, `bytearray` or `str`): either form, either path shape.
///
/// A document that is not JSON, not an object, or too large raises `DecodeError`; a device that
/// cannot be decoded is in `problems` (and logged on the `sunpower` logger), the rest decoded.
#[pyfunction]
pub fn parse_vars(py: Python<'_>, doc: &Bound<'_, PyAny>) -> PyResult<Vars> {
    let document = document_bytes(doc, DocumentLimits::default().max_bytes)?;
    let bytes = document.as_bytes();
    let vars = py
        .detach(|| sunpower_proto::parse_vars(bytes))
        .map_err(|e| errors::document_error(py, &e))?;
    for problem in &vars.problems {
        errors::log_warning(py, &problem.to_string())?;
    }
    Vars::new(py, vars)
}

/// Decodes the supervisor-info document (`/cgi-bin/dl_cgi/supervisor/info`, no login).
#[pyfunction]
pub fn parse_supervisor_info(py: Python<'_>, doc: &Bound<'_, PyAny>) -> PyResult<SupervisorInfo> {
    let document = document_bytes(doc, DocumentLimits::default().max_bytes)?;
    let bytes = document.as_bytes();
    let core = py
        .detach(|| sunpower_proto::parse_supervisor_info(bytes))
        .map_err(|e| errors::document_error(py, &e))?;
    Ok(SupervisorInfo { core })
}

/// Decodes one telemetry frame: the site totals of a `power` notification, `None` for any
/// other notification; a bad frame raises `DecodeError`.
#[pyfunction]
pub fn parse_telemetry(py: Python<'_>, frame: &Bound<'_, PyAny>) -> PyResult<Option<SiteTotals>> {
    let document = document_bytes(frame, DocumentLimits::default().max_frame_bytes)?;
    let bytes = document.as_bytes();
    sunpower_proto::parse_telemetry(bytes)
        .map(|site| site.map(|core| SiteTotals { core }))
        .map_err(|e| errors::document_error(py, &e))
}

/// The decoder and the log of its bad frames.
struct DecoderState {
    decoder: sunpower_proto::TelemetryDecoder,
    log: ProblemLog,
}

/// A live telemetry stream: frames one at a time (`decode`, for a WebSocket client's messages)
/// or lines in chunks (`feed`, for `websocat` output), with counts kept across calls.
#[pyclass(module = "sunpower", name = "TelemetryDecoder", frozen)]
pub struct TelemetryDecoder {
    state: Mutex<DecoderState>,
}

impl TelemetryDecoder {
    fn with_state<T>(&self, f: impl FnOnce(&mut DecoderState) -> T) -> PyResult<T> {
        match self.state.try_lock() {
            Ok(mut guard) => Ok(f(&mut guard)),
            Err(TryLockError::Poisoned(p)) => Ok(f(&mut p.into_inner())),
            Err(TryLockError::WouldBlock) => Err(PyRuntimeError::new_err(
                "this TelemetryDecoder is being used by another thread",
            )),
        }
    }

    /// Runs `f` (feed or finish) and returns the totals it gave, logging its bad frames.
    fn collect(
        &self,
        py: Python<'_>,
        f: impl FnOnce(
            &mut sunpower_proto::TelemetryDecoder,
            &mut dyn FnMut(Result<sunpower_proto::SiteTotals, sunpower_proto::DocumentProblem>),
        ),
    ) -> PyResult<Vec<SiteTotals>> {
        let (totals, shown) = self.with_state(|s| {
            let mut totals = Vec::new();
            let mut shown = Vec::new();
            let log = &mut s.log;
            f(&mut s.decoder, &mut |frame| match frame {
                Ok(core) => totals.push(SiteTotals { core }),
                Err(e) => {
                    if log.admit("telemetry") {
                        shown.push(e.to_string());
                    }
                }
            });
            (totals, shown)
        })?;
        for message in shown {
            errors::log_warning(py, &message)?;
        }
        Ok(totals)
    }
}

#[pymethods]
impl TelemetryDecoder {
    #[new]
    fn new() -> Self {
        TelemetryDecoder {
            state: Mutex::new(DecoderState {
                decoder: sunpower_proto::TelemetryDecoder::new(),
                log: ProblemLog::default(),
            }),
        }
    }

    /// Decodes the next frame (`str` or `bytes`): the site totals of a `power` frame, `None`
    /// for a blank frame or another notification (counted); a bad frame raises `DecodeError`
    /// with its `kind` and `frame`, its number in the stream.
    fn decode(&self, py: Python<'_>, frame: &Bound<'_, PyAny>) -> PyResult<Option<SiteTotals>> {
        // The decoder measures its frames itself, counting a long one as it counts every frame.
        let document = document_bytes(frame, usize::MAX)?;
        let bytes = document.as_bytes();
        match self.with_state(|s| s.decoder.decode(bytes))? {
            Ok(site) => Ok(site.map(|core| SiteTotals { core })),
            Err(e) => Err(errors::document_error(py, &e)),
        }
    }

    /// Feeds a chunk of a stream of one frame a line (any size, cut anywhere): the site totals
    /// of each `power` frame whose line ended. Bad frames are logged on the `sunpower` logger
    /// (at most 100, then counted) and counted in `stats`.
    fn feed(&self, py: Python<'_>, chunk: &Bound<'_, PyBytes>) -> PyResult<Vec<SiteTotals>> {
        let bytes = chunk.as_bytes();
        self.collect(py, |decoder, on_frame| decoder.feed(bytes, on_frame))
    }

    /// The end of a fed stream: the totals of a last frame without a line end.
    fn finish(&self, py: Python<'_>) -> PyResult<Vec<SiteTotals>> {
        let totals = self.collect(py, |decoder, on_frame| decoder.finish(on_frame))?;
        let summary: Vec<String> = self.with_state(|s| s.log.summary().collect())?;
        for line in summary {
            errors::log_warning(py, &line)?;
        }
        Ok(totals)
    }

    /// Counts so far: `frames`, `power`, `other_notifications`, `blank`, `errors`,
    /// `unknown_params`, `without_time`.
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.with_state(|s| *s.decoder.stats())?;
        let dict = PyDict::new(py);
        for (key, value) in [
            ("frames", s.frames),
            ("power", s.power),
            ("other_notifications", s.other_notifications),
            ("blank", s.blank),
            ("errors", s.errors),
            ("unknown_params", s.unknown_params),
            ("without_time", s.without_time),
        ] {
            dict.set_item(key, value)?;
        }
        Ok(dict)
    }

    fn __repr__(&self) -> PyResult<String> {
        let s = self.with_state(|s| *s.decoder.stats())?;
        Ok(format!(
            "TelemetryDecoder({} frames, {} power, {} errors)",
            s.frames, s.power, s.errors
        ))
    }
}
