//! `parse_device_list`: a DeviceList JSON document of the PVS local API as records.

use pyo3::prelude::*;
use sunpower_proto::parse_device_list as parse;

use crate::errors;
use crate::record::Record;
use crate::value::document_bytes;

/// Decodes a DeviceList document (`bytes` or `str`) into the same records as the plain-text
/// stream: 120 for the supervisor, 130 per inverter, 140 (and 141) per meter.
///
/// A document that is not a DeviceList, or says `"result": "failed"`, raises `DecodeError`.
/// A device that cannot be decoded, or is not working, is logged on the `sunpower` logger and
/// the others are returned; devices of unknown type are logged too.
#[pyfunction]
pub fn parse_device_list(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Vec<Record>> {
    let bytes = document_bytes(data)?;
    let list = py
        .detach(|| parse(&bytes))
        .map_err(|e| errors::decode_error_message(py, &e.to_string()))?;
    for problem in &list.errors {
        errors::log_warning(py, &problem.to_string())?;
    }
    for device in &list.unknown {
        errors::log_warning(
            py,
            &format!(
                "device {} of unknown type {:?} not decoded",
                device.index,
                device.device_type.as_deref().unwrap_or("")
            ),
        )?;
    }
    Ok(list
        .records
        .iter()
        .map(|r| Record::new(&r.record(), None))
        .collect())
}
