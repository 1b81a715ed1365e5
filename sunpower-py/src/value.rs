//! Typed field values to Python objects.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyList, PyString};
use sunpower_proto::export::local_rfc3339;
use sunpower_proto::{rfc3339, DocumentProblem, FieldValue};

use crate::errors::document_error;

/// How a timestamp becomes a Python value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeAs {
    /// An aware `datetime.datetime` in UTC (attributes).
    Datetime,
    /// An RFC 3339 string such as `2017-01-07T17:10:00Z`, as in the JSON Lines (`to_dict`).
    Rfc3339,
}

/// The Python value of a field of a record or an interval row: `None` when not reported, else
/// `datetime`/`str`, `str`, `float`, `int`, `bool`, or a list (a line's fields, an interval's
/// flag names).
pub fn to_py<'py>(
    py: Python<'py>,
    value: FieldValue<'_>,
    time_as: TimeAs,
) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        FieldValue::Time(Some(t)) => match time_as {
            TimeAs::Datetime => t.into_pyobject(py)?.into_any(),
            TimeAs::Rfc3339 => PyString::new(py, &rfc3339(t).to_string()).into_any(),
        },
        FieldValue::Text(Some(s)) => PyString::new(py, s).into_any(),
        FieldValue::Decimal(Some(v)) => v.into_pyobject(py)?.into_any(),
        FieldValue::Integer(Some(v)) => v.into_pyobject(py)?.into_any(),
        FieldValue::Unsigned(Some(v)) => v.into_pyobject(py)?.into_any(),
        FieldValue::Fields(raw) => PyList::new(py, raw.split('\t'))?.into_any(),
        FieldValue::LocalTime(t, tz) => PyString::new(py, &local_rfc3339(t, tz)).into_any(),
        FieldValue::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        FieldValue::Flags(flags) => PyList::new(py, flags.iter().map(|f| f.as_str()))?.into_any(),
        // Not reported; also any kind of value a later version of the core adds.
        _ => py.None().into_bound(py),
    })
}

/// The bytes of a document given as `bytes`, `bytearray` or `str` (its UTF-8), measured
/// before anything is copied: one over `max` bytes raises `DecodeError` (`too_large`) at once.
/// A `bytes` is borrowed; a `str` is encoded once (the stable ABI has no view of its UTF-8
/// before Python 3.10) and borrowed from that; a `bytearray` (mutable) is copied.
pub enum Document<'a, 'py> {
    Borrowed(&'a [u8]),
    Encoded(Bound<'py, PyBytes>),
    Owned(Vec<u8>),
}

impl Document<'_, '_> {
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Document::Borrowed(b) => b,
            Document::Encoded(b) => b.as_bytes(),
            Document::Owned(v) => v,
        }
    }
}

pub fn document_bytes<'a, 'py>(
    data: &'a Bound<'py, PyAny>,
    max: usize,
) -> PyResult<Document<'a, 'py>> {
    let too_large = |len| {
        Err(document_error(
            data.py(),
            &DocumentProblem::too_large(len, max),
        ))
    };
    if let Ok(b) = data.cast::<PyBytes>() {
        Ok(Document::Borrowed(b.as_bytes()))
    } else if let Ok(s) = data.cast::<PyString>() {
        // Characters, not bytes: a lower bound of its UTF-8 length (the same for ASCII JSON),
        // known without encoding it.
        let chars = s.len()?;
        if chars > max {
            return too_large(chars);
        }
        Ok(Document::Encoded(s.encode_utf8()?))
    } else if let Ok(a) = data.cast::<PyByteArray>() {
        if a.len() > max {
            return too_large(a.len());
        }
        Ok(Document::Owned(a.to_vec()))
    } else {
        Err(PyTypeError::new_err(format!(
            "expected bytes or str, not {}",
            data.get_type().name()?
        )))
    }
}

/// What the core serialises (`SupervisorInfo`, `SiteTotals`) as the Python value `json.loads`
/// gives for the command's line: the same keys, in the same order.
pub fn serialized_to_py<'py>(
    py: Python<'py>,
    value: &impl serde::Serialize,
) -> PyResult<Bound<'py, PyAny>> {
    let json = serde_json::to_string(value)
        .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
    py.import("json")?.call_method1("loads", (json,))
}
