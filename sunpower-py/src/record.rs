//! `sunpower.Record`: one record (of a collector line or a JSON source), immutable, with its
//! typed fields as attributes.

use std::hash::{Hash, Hasher};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use sunpower_proto::{rfc3339, Channel, FieldType, FieldValue, RecordBuf, Source};

use crate::errors;
use crate::value::{to_py, TimeAs};

/// One record, immutable.
///
/// A collector record stores only its line's text; typed attributes decode it again when read,
/// which costs no allocation and keeps building a list of many records cheap. A JSON source's
/// record stores its values.
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

    /// The typed record (decoded again from the line, no allocation; or built from the values).
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

// Equality and hashing are by the line as sent (a collector record), or by the source and typed
// values (a JSON source's record), as documented for Python users.
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

            /// The line's fields exactly as sent, field 0 included; `None` for a JSON source's
            /// record, which has no line.
            #[getter]
            fn raw<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
                self.buf
                    .line()
                    .map(|line| PyTuple::new(py, line.split('\t').collect::<Vec<_>>()))
                    .transpose()
            }

            /// `"collector"`, `"devicelist"` or `"vars"`: where the record came from.
            #[getter]
            fn source(&self) -> &'static str {
                self.buf.record().source().as_str()
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
                            out.push_str(&format!(", {name}={}", rfc3339(t)));
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

            fn __reduce__<'py>(
                &self,
                py: Python<'py>,
            ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
                let module = py.import("sunpower._sunpower")?;
                if let Some(line) = self.buf.line() {
                    let restore = module.getattr("_record_from_line")?;
                    return Ok((restore, (line, self.channel()).into_pyobject(py)?));
                }
                let record = self.buf.record();
                let fields = PyList::empty(py);
                let mut result = Ok(());
                record.visit_fields(|name, value| {
                    if result.is_ok() {
                        result = to_py(py, value, TimeAs::Datetime)
                            .and_then(|v| fields.append((name, v)));
                    }
                });
                result?;
                let restore = module.getattr("_record_from_fields")?;
                let args = (record.record_type(), record.source().as_str(), fields, self.channel());
                Ok((restore, args.into_pyobject(py)?))
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
    lifetime_net_energy_resolution_kwh,
    line_voltage_v,
    meter_role,
);

/// The channel of a pickled record.
fn channel(channel: Option<&str>) -> PyResult<Option<Channel>> {
    match channel {
        None => Ok(None),
        Some("data") => Ok(Some(Channel::Data)),
        Some("command") => Ok(Some(Channel::Command)),
        Some(other) => Err(PyValueError::new_err(format!("unknown channel {other:?}"))),
    }
}

/// Rebuilds a pickled collector `Record` from its line and channel.
#[pyfunction]
#[pyo3(name = "_record_from_line")]
#[pyo3(signature = (line, channel))]
pub fn record_from_line(py: Python<'_>, line: String, channel: Option<String>) -> PyResult<Record> {
    let channel = self::channel(channel.as_deref())?;
    let record =
        sunpower_proto::parse_line(&line).map_err(|e| match errors::decode_error(py, &e) {
            Ok(instance) => PyErr::from_value(instance),
            Err(err) => err,
        })?;
    Ok(Record::new(&record, channel))
}

/// A pickled field's value, as its kind's table types it.
enum Owned {
    Time(Option<chrono::DateTime<chrono::Utc>>),
    Text(Option<String>),
    Decimal(Option<f64>),
    Integer(Option<i64>),
    Unsigned(Option<u64>),
}

/// Rebuilds a pickled JSON source's `Record` from its type, source and typed fields.
#[pyfunction]
#[pyo3(name = "_record_from_fields")]
#[pyo3(signature = (record_type, source, fields, channel))]
pub fn record_from_fields(
    record_type: u16,
    source: &str,
    fields: Vec<(String, Bound<'_, PyAny>)>,
    channel: Option<String>,
) -> PyResult<Record> {
    let channel = self::channel(channel.as_deref())?;
    let source = match source {
        "devicelist" => Source::DeviceList,
        "vars" => Source::Vars,
        other => return Err(PyValueError::new_err(format!("unknown source {other:?}"))),
    };
    let mut values = Vec::new();
    for spec in sunpower_proto::Record::fields(record_type) {
        let Some((_, value)) = fields.iter().find(|(name, _)| name == spec.name) else {
            continue;
        };
        let owned = match spec.field_type {
            FieldType::Time => Owned::Time(
                value
                    .extract::<Option<chrono::DateTime<chrono::FixedOffset>>>()?
                    .map(|t| t.to_utc()),
            ),
            FieldType::Decimal => Owned::Decimal(value.extract()?),
            FieldType::Integer => Owned::Integer(value.extract()?),
            FieldType::Unsigned => Owned::Unsigned(value.extract()?),
            _ => Owned::Text(value.extract()?),
        };
        values.push((spec.name, owned));
    }
    let record = sunpower_proto::Record::from_fields(record_type, source, |name| {
        let (_, value) = values.iter().find(|(n, _)| *n == name)?;
        Some(match value {
            Owned::Time(t) => FieldValue::Time(*t),
            Owned::Text(t) => FieldValue::Text(t.as_deref()),
            Owned::Decimal(v) => FieldValue::Decimal(*v),
            Owned::Integer(v) => FieldValue::Integer(*v),
            Owned::Unsigned(v) => FieldValue::Unsigned(*v),
        })
    })
    .ok_or_else(|| PyValueError::new_err("a record needs its timestamp and serial"))?;
    Ok(Record::new(&record, channel))
}

/// A record type (`130`) or the name of a kind no collector line has (`"battery"`).
#[derive(FromPyObject)]
pub enum KindOf {
    Type(u16),
    Name(String),
}

/// The typed fields of records of `record_type`, in output order, as the core library describes
/// them: `(name, type, unit)`, the type one of `"time"`, `"text"`, `"decimal"`, `"integer"`,
/// `"unsigned"`; every unknown type has `timestamp` and `serial`. `record_type` is a number, or
/// the `record_type` of a kind with its own class: `"battery"`, `"transfer_switch"`,
/// `"supervisor_health"` (another name is a `ValueError`).
#[pyfunction]
pub fn record_fields(
    record_type: KindOf,
) -> PyResult<Vec<(&'static str, &'static str, Option<&'static str>)>> {
    use sunpower_proto::{Battery, SupervisorHealth, TransferSwitch};
    let table = match record_type {
        KindOf::Type(t) => sunpower_proto::Record::fields(t),
        KindOf::Name(name) => match name.as_str() {
            Battery::KIND => Battery::FIELDS,
            TransferSwitch::KIND => TransferSwitch::FIELDS,
            SupervisorHealth::KIND => SupervisorHealth::FIELDS,
            _ => {
                return Err(PyValueError::new_err(format!(
                    "{name:?}: not a kind with a field table (a record type number, \
                     {:?}, {:?} or {:?})",
                    Battery::KIND,
                    TransferSwitch::KIND,
                    SupervisorHealth::KIND
                )))
            }
        },
    };
    Ok(table
        .iter()
        .map(|spec| {
            let field_type = match spec.field_type {
                FieldType::Time => "time",
                FieldType::Decimal => "decimal",
                FieldType::Integer => "integer",
                FieldType::Unsigned => "unsigned",
                _ => "text",
            };
            (spec.name, field_type, spec.unit)
        })
        .collect())
}
