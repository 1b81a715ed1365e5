//! Typed field values to Python objects.

use pyo3::prelude::*;
use pyo3::types::{PyList, PyString};
use sunpower_proto::{FieldValue, Rfc3339};

/// How a timestamp becomes a Python value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeAs {
    /// An aware `datetime.datetime` in UTC (attributes).
    Datetime,
    /// An RFC 3339 string such as `2017-01-07T17:10:00Z`, as in the JSON Lines (`to_dict`).
    Rfc3339,
}

/// The Python value of a field: `None` when not reported, else `datetime`/`str`, `str`,
/// `float` or `int`.
pub fn to_py<'py>(
    py: Python<'py>,
    value: FieldValue<'_>,
    time_as: TimeAs,
) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        FieldValue::Time(Some(t)) => match time_as {
            TimeAs::Datetime => t.into_pyobject(py)?.into_any(),
            TimeAs::Rfc3339 => PyString::new(py, &Rfc3339(t).to_string()).into_any(),
        },
        FieldValue::Text(Some(s)) => PyString::new(py, s).into_any(),
        FieldValue::Decimal(Some(v)) => v.into_pyobject(py)?.into_any(),
        FieldValue::Integer(Some(v)) => v.into_pyobject(py)?.into_any(),
        FieldValue::Unsigned(Some(v)) => v.into_pyobject(py)?.into_any(),
        FieldValue::Fields(raw) => PyList::new(py, raw.iter())?.into_any(),
        // Not reported; also any kind of value a later version of the core adds.
        _ => py.None().into_bound(py),
    })
}
