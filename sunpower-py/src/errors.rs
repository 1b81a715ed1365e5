//! Rust errors as the Python exception and warning classes of `sunpower._errors`.
//!
//! The classes are defined in Python (each of `DecodeError` and `CaptureError` has two built-in
//! bases, which `create_exception!` cannot express); they are imported once and cached.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyType};
use sunpower_proto::{DocumentPosition, DocumentProblem, ErrorKind, LineError};

use crate::capped::Capped;

static DECODE_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static DECODE_WARNING: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static WARN: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static LOGGER: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// How many bad lines the message of a whole-body `DecodeError` lists before "and N more".
const LISTED_MAX: usize = 3;

fn decode_error_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    DECODE_ERROR.import(py, "sunpower._errors", "DecodeError")
}

/// The keyword arguments that say what a line error is and where: `kind`, `line`, `offset`,
/// `field`, `field_index`.
fn position_kwargs<'py>(py: Python<'py>, error: &LineError) -> PyResult<Bound<'py, PyDict>> {
    let kwargs = PyDict::new(py);
    kwargs.set_item("kind", error.kind.name())?;
    kwargs.set_item("line", error.line)?;
    kwargs.set_item("offset", error.offset)?;
    let field = match &error.kind {
        ErrorKind::InvalidField { name, .. } | ErrorKind::MissingField { name, .. } => Some(*name),
        _ => None,
    };
    kwargs.set_item("field", field)?;
    kwargs.set_item("field_index", error.kind.field_index())?;
    Ok(kwargs)
}

/// A `DecodeError` instance for one bad line.
pub fn decode_error<'py>(py: Python<'py>, error: &LineError) -> PyResult<Bound<'py, PyAny>> {
    decode_error_type(py)?.call((error.to_string(),), Some(&position_kwargs(py, error)?))
}

/// A `DecodeError` with a message of its own and no position (a misuse such as several lines
/// given to `parse_line`).
pub fn decode_error_message(py: Python<'_>, message: &str) -> PyErr {
    match decode_error_type(py).and_then(|t| t.call1((message,))) {
        Ok(instance) => PyErr::from_value(instance),
        Err(e) => e,
    }
}

/// The `DecodeError` of a JSON document or telemetry frame that could not be decoded: its
/// message, its `kind` and, for a frame of a stream, its `frame`.
pub fn document_error(py: Python<'_>, problem: &DocumentProblem) -> PyErr {
    let made = decode_error_type(py).and_then(|t| {
        let kwargs = PyDict::new(py);
        kwargs.set_item("kind", problem.kind.name())?;
        if let DocumentPosition::Frame(frame) = problem.at {
            kwargs.set_item("frame", frame)?;
        }
        t.call((problem.to_string(),), Some(&kwargs))
    });
    match made {
        Ok(instance) => PyErr::from_value(instance),
        Err(e) => e,
    }
}

/// The `DecodeError` for a whole body: positioned at its first bad line, listing a few, and
/// carrying the first line errors (at most [`sunpower_proto::SHOWN_PER_KIND`]; the message gives
/// the count of all) and every record that did decode.
pub fn body_decode_error<'py>(
    py: Python<'py>,
    errors: &Capped<LineError>,
    records: Bound<'py, PyList>,
) -> PyResult<PyErr> {
    let kept = errors.kept();
    let first = &kept[0];
    let message = if errors.total() == 1 {
        first.to_string()
    } else {
        let listed: Vec<String> = kept
            .iter()
            .take(LISTED_MAX)
            .map(ToString::to_string)
            .collect();
        let more = errors.total().saturating_sub(LISTED_MAX as u64);
        let tail = if more > 0 {
            format!("; and {more} more")
        } else {
            String::new()
        };
        format!(
            "{} lines or values could not be decoded: {}{tail}",
            errors.total(),
            listed.join("; ")
        )
    };
    let each = kept
        .iter()
        .map(|e| decode_error(py, e))
        .collect::<PyResult<Vec<_>>>()?;
    let kwargs = position_kwargs(py, first)?;
    kwargs.set_item("records", records)?;
    kwargs.set_item("errors", each)?;
    let instance = decode_error_type(py)?.call((message,), Some(&kwargs))?;
    Ok(PyErr::from_value(instance))
}

/// Issues one `DecodeWarning` with a message and no position (the count of those not shown).
pub fn warn_message(py: Python<'_>, message: &str) -> PyResult<()> {
    let category = DECODE_WARNING.import(py, "sunpower._errors", "DecodeWarning")?;
    WARN.import(py, "warnings", "warn")?
        .call1((message, category))?;
    Ok(())
}

/// Issues one `DecodeWarning` for a bad line, attributed to the caller's line of Python.
pub fn warn_line(py: Python<'_>, error: &LineError) -> PyResult<()> {
    let category = DECODE_WARNING.import(py, "sunpower._errors", "DecodeWarning")?;
    let warning = category.call((error.to_string(),), Some(&position_kwargs(py, error)?))?;
    WARN.import(py, "warnings", "warn")?.call1((warning,))?;
    Ok(())
}

/// Logs a problem that does not stop decoding (a gap in a capture, a counter reset) on the
/// `sunpower` logger, as the command writes it to standard error.
pub fn log_warning(py: Python<'_>, message: &str) -> PyResult<()> {
    let logger = LOGGER.get_or_try_init(py, || {
        py.import("logging")?
            .call_method1("getLogger", ("sunpower",))
            .map(Bound::unbind)
    })?;
    logger.bind(py).call_method1("warning", ("%s", message))?;
    Ok(())
}
