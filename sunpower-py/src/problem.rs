//! `DocumentProblem`: a problem of a JSON source (DeviceList, `/vars`, telemetry) as a Python
//! object with its kind and position, as the core library's `DocumentProblem` has them.

use pyo3::prelude::*;
use sunpower_proto::{DocumentPosition, DocumentProblemKind};

/// One problem of a JSON document: what (`kind`, with the source's `field` and the text `found`
/// where they apply) and where (`device` and `serial` for a DeviceList device, `path` for a
/// `/vars` path, `frame` for a telemetry frame); `str()` is the message.
#[pyclass(module = "sunpower", name = "DocumentProblem", frozen, eq)]
#[derive(PartialEq)]
pub struct DocumentProblem {
    kind: &'static str,
    device: Option<usize>,
    serial: Option<String>,
    path: Option<String>,
    frame: Option<u64>,
    field: Option<String>,
    found: Option<String>,
    message: String,
}

impl DocumentProblem {
    pub fn new(problem: &sunpower_proto::DocumentProblem) -> Self {
        use DocumentProblemKind as K;
        let (field, found) = match &problem.kind {
            K::InvalidValue { field, found, .. } => (Some(*field), Some(found)),
            K::MissingSerial { field } | K::MissingTime { field } | K::RepeatedField { field } => {
                (Some(*field), None)
            }
            K::MissingKey { key } => (Some(*key), None),
            K::CountMismatch { declared, .. } => (None, Some(declared)),
            K::NotWorking { state, .. } => (Some("STATE"), Some(state)),
            _ => (None, None),
        };
        let mut out = DocumentProblem {
            kind: problem.kind.name(),
            device: None,
            serial: None,
            path: None,
            frame: None,
            field: field.map(str::to_owned),
            found: found.cloned(),
            message: problem.to_string(),
        };
        match &problem.at {
            DocumentPosition::Device { index, serial } => {
                out.device = Some(*index);
                out.serial = serial.clone();
            }
            DocumentPosition::Path(path) => out.path = Some(path.clone()),
            DocumentPosition::Frame(frame) => out.frame = Some(*frame),
            _ => {}
        }
        out
    }
}

#[pymethods]
impl DocumentProblem {
    /// What was wrong, the core library's kind in snake case: `"invalid_value"`,
    /// `"missing_serial"`, `"missing_time"`, `"not_working"`, ...
    #[getter]
    fn kind(&self) -> &'static str {
        self.kind
    }

    /// A DeviceList device's position in its `devices` array, from 0.
    #[getter]
    fn device(&self) -> Option<usize> {
        self.device
    }

    /// A DeviceList device's `SERIAL`, when it has one.
    #[getter]
    fn serial(&self) -> Option<&str> {
        self.serial.as_deref()
    }

    /// A `/vars` device's path (`/sys/devices/inverter/3`) or the entry's.
    #[getter]
    fn path(&self) -> Option<&str> {
        self.path.as_deref()
    }

    /// A telemetry frame's number in its stream, from 1.
    #[getter]
    fn frame(&self) -> Option<u64> {
        self.frame
    }

    /// The source's name of the value it is about (`"ltea3phsumKwh"`, `"DATATIME"`), where it
    /// is about one.
    #[getter]
    fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    /// The text found (at most 48 bytes of it), where a value was wrong.
    #[getter]
    fn found(&self) -> Option<&str> {
        self.found.as_deref()
    }

    fn __str__(&self) -> &str {
        &self.message
    }

    fn __repr__(&self) -> String {
        let at = match (&self.device, &self.path, &self.frame) {
            (Some(device), _, _) => format!("device={device}"),
            (_, Some(path), _) => format!("path={path:?}"),
            (_, _, Some(frame)) => format!("frame={frame}"),
            _ => "document".to_owned(),
        };
        format!("DocumentProblem({:?}, {at})", self.kind)
    }
}
