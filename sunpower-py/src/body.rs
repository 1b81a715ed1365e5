//! `parse_body` and `parse_line`: raw POST bodies (no HTTP) to records.

use std::borrow::Cow;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyList, PyString};
use sunpower_proto::{Body, LineError, ProblemLog, LINE_ERROR_KIND};

use crate::capped::Capped;
use crate::errors;
use crate::record::Record;

/// The bytes of a `bytes`, `bytearray` or `str` argument: borrowed from an immutable `bytes`
/// (so decoding can run without the GIL), copied otherwise.
fn input_bytes<'a>(data: &'a Bound<'_, PyAny>) -> PyResult<Cow<'a, [u8]>> {
    if let Ok(bytes) = data.cast::<PyBytes>() {
        Ok(Cow::Borrowed(bytes.as_bytes()))
    } else if let Ok(text) = data.cast::<PyString>() {
        Ok(Cow::Owned(text.to_cow()?.into_owned().into_bytes()))
    } else if let Ok(array) = data.cast::<PyByteArray>() {
        Ok(Cow::Owned(array.to_vec()))
    } else {
        Err(PyTypeError::new_err(format!(
            "expected bytes or str, not {}",
            data.get_type().name()?
        )))
    }
}

/// What `parse_body` does with a line that cannot be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnError {
    Raise,
    Warn,
    Skip,
}

impl OnError {
    fn from_name(name: &str) -> PyResult<Self> {
        match name {
            "raise" => Ok(OnError::Raise),
            "warn" => Ok(OnError::Warn),
            "skip" => Ok(OnError::Skip),
            other => Err(PyValueError::new_err(format!(
                "errors must be \"raise\", \"warn\" or \"skip\", not {other:?}"
            ))),
        }
    }
}

/// Decodes every line of a body; runs without the GIL. Damaged lines are kept in bounded memory:
/// the first ones, and the count of all, also in the problem log that says how many a warning
/// leaves out.
fn decode(bytes: &[u8]) -> (Vec<Record>, Capped<LineError>, ProblemLog) {
    let mut records = Vec::new();
    let mut errors = Capped::default();
    let mut log = ProblemLog::default();
    for item in Body::new(bytes).records() {
        match item {
            Ok(record) => records.push(Record::new(&record, None)),
            Err(e) => {
                log.admit(LINE_ERROR_KIND);
                errors.push(e);
            }
        }
    }
    (records, errors, log)
}

/// Decodes a raw POST body into its records, in order.
#[pyfunction]
#[pyo3(
    signature = (data, *, errors = String::from("raise")),
    text_signature = "(data, *, errors='raise')"
)]
pub fn parse_body<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    errors: String,
) -> PyResult<Bound<'py, PyList>> {
    let on_error = OnError::from_name(&errors)?;
    let bytes = input_bytes(data)?;
    let (records, line_errors, log) = py.detach(|| decode(&bytes));
    let records = PyList::new(
        py,
        records
            .into_iter()
            .map(|r| Bound::new(py, r))
            .collect::<PyResult<Vec<_>>>()?,
    )?;
    if line_errors.is_empty() {
        return Ok(records);
    }
    match on_error {
        OnError::Raise => Err(errors::body_decode_error(py, &line_errors, records)?),
        OnError::Warn => {
            for e in line_errors.kept() {
                errors::warn_line(py, e)?;
            }
            for more in log.summary() {
                errors::warn_message(py, &more)?;
            }
            Ok(records)
        }
        OnError::Skip => Ok(records),
    }
}

/// Decodes one line; a trailing LF or CRLF is allowed.
#[pyfunction]
pub fn parse_line(py: Python<'_>, line: &Bound<'_, PyAny>) -> PyResult<Record> {
    let bytes = input_bytes(line)?;
    let mut text: &[u8] = &bytes;
    text = text.strip_suffix(b"\n").unwrap_or(text);
    text = text.strip_suffix(b"\r").unwrap_or(text);
    if text.contains(&b'\n') {
        return Err(errors::decode_error_message(
            py,
            "parse_line takes one line, and this text holds several: use parse_body",
        ));
    }
    // Decoded as a one-line body, strictly: its first error (a field's, after its record) is
    // the error. An empty line has no record: it is decoded as text for its error.
    let mut items = Body::new(text).records();
    match (items.next(), items.next()) {
        (Some(Ok(record)), None) => Ok(Record::new(&record, None)),
        (Some(Err(e)), _) | (Some(Ok(_)), Some(Err(e))) => {
            Err(PyErr::from_value(errors::decode_error(py, &e)?))
        }
        _ => match sunpower_proto::parse_line("") {
            Ok(record) => Ok(Record::new(&record, None)),
            Err(e) => Err(PyErr::from_value(errors::decode_error(py, &e)?)),
        },
    }
}
