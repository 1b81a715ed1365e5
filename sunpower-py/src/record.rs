//! `sunpower.Record`: one decoded line, immutable, with its typed fields as attributes.

use std::hash::{Hash, Hasher};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple};
use sunpower_proto::{Channel, FieldValue, RecordBuf, Rfc3339};

use crate::errors;
use crate::value::{to_py, TimeAs};

/// One record (one line of a POST body), immutable.
///
/// Only the line's text is stored; typed attributes decode it again when read, which costs no
/// allocation and keeps building a list of many records cheap.
#[pyclass(module = "sunpower", name = "Record", frozen, eq, hash)]
pub struct Record {
    buf: RecordBuf,
    record_type: u16,
    channel: Option<Channel>,
}

impl Record {
    /// A record kept from a decoded line, with the channel of its post when it came from one.
    pub fn new(record: &sunpower_proto::Record<'_>, channel: Option<Channel>) -> Self {
        Record {
            buf: RecordBuf::from(record),
            record_type: record.record_type(),
            channel,
        }
    }

    /// The channel of the post the record came in, if it came from one.
    pub fn post_channel(&self) -> Option<Channel> {
        self.channel
    }

    /// The typed record (decoded again from the line; no allocation).
    pub fn core(&self) -> sunpower_proto::Record<'_> {
        self.buf.record()
    }

    /// The value of the typed field `name`, or `None` when this record type has no such field.
    fn typed_field<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
        let mut found = None;
        self.buf.record().visit_fields(|field, value| {
            if field == name {
                found = Some(value);
            }
        });
        match found {
            Some(value) => to_py(py, value, TimeAs::Datetime),
            None => Ok(py.None().into_bound(py)),
        }
    }
}

// Equality and hashing are by the line as sent (and, for a meter from a JSON source, its
// import and export counters, which no line carries), as documented for Python users.
impl PartialEq for Record {
    fn eq(&self, other: &Self) -> bool {
        self.buf == other.buf
    }
}

impl Hash for Record {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.buf.hash(state);
    }
}

/// A meter's import and export counters (JSON sources only), for pickling.
fn meter_counters(record: &sunpower_proto::Record<'_>) -> (Option<f64>, Option<f64>) {
    match record {
        sunpower_proto::Record::Meter(m) => (m.import_energy_kwh, m.export_energy_kwh),
        _ => (None, None),
    }
}

/// What `__reduce__` hands to `_record_from_line`.
type Reduced = (String, Option<&'static str>, Option<f64>, Option<f64>);

/// The fields `repr` shows, in the order it shows them.
const REPR_FIELDS: [&str; 5] = [
    "serial",
    "supervisor_serial",
    "timestamp",
    "sent_at",
    "token",
];

/// Defines the `#[pymethods]` block with one getter per typed field name of docs/design.md. PyO3
/// allows one such block per class, so the fixed methods are in the same macro.
macro_rules! record_methods {
    ($($name:ident),* $(,)?) => {
        #[pymethods]
        impl Record {
            /// The record type, field 0 (`130`).
            #[getter]
            fn record_type(&self) -> u16 {
                self.record_type
            }

            /// The line's fields exactly as sent, field 0 included.
            #[getter]
            fn raw<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
                PyTuple::new(py, self.buf.line().split('\t').collect::<Vec<_>>())
            }

            /// `"data"` or `"command"` for a record from a capture's post; `None` otherwise.
            #[getter]
            fn channel(&self) -> Option<&'static str> {
                self.channel.map(|c| c.as_str())
            }

            $(
                #[getter]
                fn $name<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                    self.typed_field(py, stringify!($name))
                }
            )*

            /// The record as the `sunpower` command's JSON Lines print it: the same keys in the
            /// same order, timestamps as RFC 3339 strings, `raw` as a list.
            fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
                let dict = PyDict::new(py);
                let mut result = Ok(());
                self.buf.record().visit_output(self.channel, |name, value| {
                    if result.is_ok() {
                        result = to_py(py, value, TimeAs::Rfc3339)
                            .and_then(|v| dict.set_item(name, v));
                    }
                });
                result.map(|()| dict)
            }

            fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
                let mut shown: [Option<FieldValue<'_>>; REPR_FIELDS.len()] = [None; REPR_FIELDS.len()];
                let record = self.buf.record();
                record.visit_fields(|name, value| {
                    if let Some(i) = REPR_FIELDS.iter().position(|&n| n == name) {
                        shown[i] = Some(value);
                    }
                });
                let mut out = format!("Record({}", self.record_type);
                for (name, value) in REPR_FIELDS.iter().zip(shown) {
                    match value {
                        Some(FieldValue::Text(Some(text))) => {
                            let quoted = PyString::new(py, text).repr()?;
                            out.push_str(&format!(", {name}={quoted}"));
                        }
                        Some(FieldValue::Time(Some(t))) => {
                            out.push_str(&format!(", {name}={}", Rfc3339(t)));
                        }
                        _ => {}
                    }
                }
                if let Some(channel) = self.channel {
                    out.push_str(&format!(", channel='{}'", channel.as_str()));
                }
                out.push(')');
                Ok(out)
            }

            fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, Reduced)> {
                let restore = py.import("sunpower._sunpower")?.getattr("_record_from_line")?;
                let (import, export) = meter_counters(&self.buf.record());
                Ok((restore, (self.buf.line().to_owned(), self.channel(), import, export)))
            }
        }
    };
}

record_methods!(
    supervisor_serial,
    sent_at,
    tag,
    version,
    token,
    timestamp,
    serial,
    error_count,
    comm_errors,
    skipped_scans,
    scan_time_s,
    untransmitted,
    uptime_s,
    cpu_load,
    memory_used_kb,
    flash_available_kb,
    model,
    version_a,
    version_b,
    description,
    family,
    aux,
    lifetime_energy_kwh,
    ac_power_kw,
    ac_voltage_v,
    ac_current_a,
    dc_power_kw,
    dc_voltage_v,
    dc_current_a,
    heatsink_temp_c,
    frequency_hz,
    status,
    value_1,
    value_2,
    value_3,
    meter_kind,
    ct_scale,
    lifetime_net_energy_kwh,
    real_power_kw,
    reactive_power_kvar,
    apparent_power_kva,
    power_factor,
    flag,
    leg1_current_a,
    leg2_current_a,
    leg1_voltage_v,
    leg2_voltage_v,
    leg1_power_kw,
    leg2_power_kw,
    unknown_11,
    import_energy_kwh,
    export_energy_kwh,
);

/// Rebuilds a pickled `Record` from its line, channel and (a meter from a JSON source) its
/// import and export counters.
#[pyfunction]
#[pyo3(name = "_record_from_line")]
#[pyo3(signature = (line, channel, import_energy_kwh = None, export_energy_kwh = None))]
pub fn record_from_line(
    py: Python<'_>,
    line: String,
    channel: Option<String>,
    import_energy_kwh: Option<f64>,
    export_energy_kwh: Option<f64>,
) -> PyResult<Record> {
    let channel = match channel.as_deref() {
        None => None,
        Some("data") => Some(Channel::Data),
        Some("command") => Some(Channel::Command),
        Some(other) => return Err(PyValueError::new_err(format!("unknown channel {other:?}"))),
    };
    let mut record =
        sunpower_proto::parse_line(&line).map_err(|e| match errors::decode_error(py, &e) {
            Ok(instance) => PyErr::from_value(instance),
            Err(err) => err,
        })?;
    if let sunpower_proto::Record::Meter(m) = &mut record {
        m.import_energy_kwh = import_energy_kwh;
        m.export_energy_kwh = export_energy_kwh;
    }
    Ok(Record::new(&record, channel))
}
