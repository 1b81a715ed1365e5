//! `sunpower._sunpower`: the compiled half of the Python package `sunpower`.
//!
//! The Python package (`python/sunpower/`) re-exports what this module defines and holds the
//! exception classes, the stubs and `py.typed`. Each module here (private: the crate's API is
//! the Python one) binds one idea of the Rust library: `record` the immutable `Record`, `body`
//! raw POST bodies, `capture` captures to posts, `intervals` interval energy, `export` its output
//! shapes, `health` the health findings, `errors` the bridge from Rust errors to the Python exception classes, `value` field
//! conversion, `devicelist` and `varserver` the local API's documents, `session` the sans-I/O
//! session with a supervisor, `arrow` Arrow batches through the PyCapsule interface.

use pyo3::prelude::*;

mod arrow;
mod body;
mod capped;
mod capture;
mod devicelist;
mod devices;
mod errors;
mod export;
mod health;
mod intervals;
mod problem;
mod record;
mod session;
mod value;
mod varserver;

/// The compiled module; `sunpower/__init__.py` re-exports its public names.
#[pymodule]
#[pyo3(name = "_sunpower")]
fn sunpower_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<record::Record>()?;
    m.add_class::<capture::Post>()?;
    m.add_class::<capture::CaptureReader>()?;
    m.add_class::<capture::ArrowStream>()?;
    m.add_class::<intervals::Intervals>()?;
    m.add_class::<intervals::Interval>()?;
    m.add_class::<arrow::RecordBatches>()?;
    m.add_function(wrap_pyfunction!(arrow::records_to_arrow, m)?)?;
    m.add_class::<export::PvOutputEncoder>()?;
    m.add_function(wrap_pyfunction!(export::pvoutput_payloads, m)?)?;
    m.add_function(wrap_pyfunction!(export::write_tree, m)?)?;
    m.add_function(wrap_pyfunction!(export::hourly_energy, m)?)?;
    m.add_function(wrap_pyfunction!(body::parse_body, m)?)?;
    m.add_function(wrap_pyfunction!(body::parse_line, m)?)?;
    m.add_function(wrap_pyfunction!(capture::read_capture, m)?)?;
    m.add_function(wrap_pyfunction!(devicelist::parse_device_list, m)?)?;
    m.add_function(wrap_pyfunction!(record::record_from_line, m)?)?;
    m.add_function(wrap_pyfunction!(record::record_from_fields, m)?)?;
    m.add_function(wrap_pyfunction!(record::record_fields, m)?)?;
    m.add_function(wrap_pyfunction!(intervals::interval_fields, m)?)?;
    m.add_class::<varserver::Vars>()?;
    m.add_class::<devices::Battery>()?;
    m.add_class::<devices::TransferSwitch>()?;
    m.add_class::<devices::SupervisorHealth>()?;
    m.add_class::<problem::DocumentProblem>()?;
    m.add_class::<devicelist::DeviceList>()?;
    m.add_class::<varserver::SupervisorInfo>()?;
    m.add_class::<varserver::SiteTotals>()?;
    m.add_class::<varserver::TelemetryDecoder>()?;
    m.add_function(wrap_pyfunction!(varserver::parse_vars, m)?)?;
    m.add_function(wrap_pyfunction!(varserver::parse_supervisor_info, m)?)?;
    m.add_function(wrap_pyfunction!(varserver::parse_telemetry, m)?)?;
    m.add_class::<session::Session>()?;
    m.add_class::<session::SessionRequest>()?;
    m.add_class::<session::SessionEvent>()?;
    m.add_class::<health::Health>()?;
    m.add_class::<health::Finding>()?;
    Ok(())
}
