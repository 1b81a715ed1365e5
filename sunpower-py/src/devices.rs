//! `Battery`, `TransferSwitch` and `SupervisorHealth`: the kinds no collector line has, as
//! `parse_vars` gives them. Thin wrappers: the fields, their names and JSON are the core
//! library's tables (`Battery::FIELDS`, ...).

use chrono::{DateTime, Utc};
use pyo3::prelude::*;

use crate::value::serialized_to_py;

/// The methods of a wrapped kind: `$methods`, and one getter per decimal field.
macro_rules! methods {
    ($class:ident { $($methods:tt)* } decimals: $($name:ident),* $(,)?) => {
        #[pymethods]
        impl $class {
            $($methods)*

            $(
                #[getter]
                fn $name(&self) -> Option<f64> {
                    self.core.$name
                }
            )*
        }
    };
}

/// One SunVault battery reading (`/sys/devices/ess/<i>/`, or a DeviceList's battery device).
/// State of charge and health are percent, 0 to 100. Immutable; equal by value.
#[pyclass(module = "sunpower", name = "Battery", frozen, eq)]
#[derive(PartialEq)]
pub struct Battery {
    core: sunpower_proto::Battery,
}

impl Battery {
    pub(crate) fn new(core: sunpower_proto::Battery) -> Self {
        Battery { core }
    }

    /// The core battery, for `Intervals.add` and `Health.add`.
    pub(crate) fn core(&self) -> &sunpower_proto::Battery {
        &self.core
    }
}

methods!(Battery {
    /// `msmtEps` (aware, UTC).
    #[getter]
    fn timestamp(&self) -> DateTime<Utc> {
        self.core.timestamp
    }

    #[getter]
    fn serial(&self) -> &str {
        &self.core.serial
    }

    #[getter]
    fn model(&self) -> Option<&str> {
        self.core.model.as_deref()
    }

    #[getter]
    fn operating_mode(&self) -> Option<&str> {
        self.core.operating_mode.as_deref()
    }

    /// `"vars"` or `"devicelist"`.
    #[getter]
    fn source(&self) -> &'static str {
        self.core.source.as_str()
    }

    /// `"battery"`: what the object is, as a record's `record_type` says its kind.
    #[getter]
    fn record_type(&self) -> &'static str {
        sunpower_proto::Battery::KIND
    }

    /// As `sunpower vars` prints it: `{"record_type": "battery", "timestamp": ..., ...}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        serialized_to_py(py, &self.core)
    }

    fn __repr__(&self) -> String {
        format!(
            "Battery({:?}, {}, soc_pct={:?}, soh_pct={:?})",
            self.core.serial,
            sunpower_proto::rfc3339(self.core.timestamp),
            self.core.soc_pct,
            self.core.soh_pct
        )
    }
}
decimals: power_kw,
    discharge_energy_kwh,
    charge_energy_kwh,
    leg1_voltage_v,
    leg2_voltage_v,
    soc_pct,
    customer_soc_pct,
    soh_pct,
    inverter_temp_c,
    battery_voltage_v,
    charge_limit_kw,
    discharge_limit_kw,
    max_cell_temp_c,
    min_cell_temp_c,
    max_cell_voltage_v,
    min_cell_voltage_v,
);

/// One Hub+/MIDC transfer switch reading (`/sys/devices/transfer_switch/<i>/`). Immutable;
/// equal by value.
#[pyclass(module = "sunpower", name = "TransferSwitch", frozen, eq)]
#[derive(PartialEq)]
pub struct TransferSwitch {
    core: sunpower_proto::TransferSwitch,
}

impl TransferSwitch {
    pub(crate) fn new(core: sunpower_proto::TransferSwitch) -> Self {
        TransferSwitch { core }
    }
}

methods!(TransferSwitch {
    /// `msmtEps` (aware, UTC).
    #[getter]
    fn timestamp(&self) -> DateTime<Utc> {
        self.core.timestamp
    }

    #[getter]
    fn serial(&self) -> &str {
        &self.core.serial
    }

    #[getter]
    fn model(&self) -> Option<&str> {
        self.core.model.as_deref()
    }

    /// `midStEnum` as sent (`"MID_STATE_CLOSED"`: on grid; `"MID_STATE_OPEN"`: islanded).
    #[getter]
    fn mid_state(&self) -> Option<&str> {
        self.core.mid_state.as_ref().map(|s| s.as_str())
    }

    /// `pvd1StEnum` as sent (`"PVD_STATE_CLOSED"`, `"PVD_STATE_OPEN"`).
    #[getter]
    fn pv_disconnect_state(&self) -> Option<&str> {
        self.core.pv_disconnect_state.as_ref().map(|s| s.as_str())
    }

    /// `"transfer_switch"`.
    #[getter]
    fn record_type(&self) -> &'static str {
        sunpower_proto::TransferSwitch::KIND
    }

    /// As `sunpower vars` prints it: `{"record_type": "transfer_switch", ...}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        serialized_to_py(py, &self.core)
    }

    fn __repr__(&self) -> String {
        format!(
            "TransferSwitch({:?}, {}, mid_state={:?})",
            self.core.serial,
            sunpower_proto::rfc3339(self.core.timestamp),
            self.core.mid_state.as_ref().map(|s| s.as_str())
        )
    }
}
decimals: temperature_c,
    grid_leg1_voltage_v,
    grid_leg2_voltage_v,
    leg1_voltage_v,
    leg2_voltage_v,
    supply_voltage_v,
);

/// The supervisor's health (`/sys/info/*` usage and `/sys/pvs/flashwear_type_b`). No Wi-Fi
/// SSID or key and no MAC address is part of it. Immutable; equal by value.
#[pyclass(module = "sunpower", name = "SupervisorHealth", frozen, eq)]
#[derive(PartialEq)]
pub struct SupervisorHealth {
    core: sunpower_proto::SupervisorHealth,
}

impl SupervisorHealth {
    pub(crate) fn new(core: sunpower_proto::SupervisorHealth) -> Self {
        SupervisorHealth { core }
    }
}

methods!(SupervisorHealth {
    /// When it was read (aware, UTC), when known.
    #[getter]
    fn timestamp(&self) -> Option<DateTime<Utc>> {
        self.core.timestamp
    }

    #[getter]
    fn serial(&self) -> Option<&str> {
        self.core.serial.as_deref()
    }

    #[getter]
    fn model(&self) -> Option<&str> {
        self.core.model.as_deref()
    }

    #[getter]
    fn software_version(&self) -> Option<&str> {
        self.core.software_version.as_deref()
    }

    #[getter]
    fn build(&self) -> Option<u64> {
        self.core.build
    }

    #[getter]
    fn memory_used_kb(&self) -> Option<u64> {
        self.core.memory_used_kb
    }

    #[getter]
    fn flash_available_kb(&self) -> Option<u64> {
        self.core.flash_available_kb
    }

    /// `"supervisor_health"`.
    #[getter]
    fn record_type(&self) -> &'static str {
        sunpower_proto::SupervisorHealth::KIND
    }

    /// As `sunpower vars` prints it: `{"record_type": "supervisor_health", ...}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        serialized_to_py(py, &self.core)
    }

    fn __repr__(&self) -> String {
        // Not the serial: its last five characters are the owner's login password.
        format!(
            "SupervisorHealth(build={:?}, flash_wear_pct={:?})",
            self.core.build, self.core.flash_wear_pct
        )
    }
}
decimals: uptime_s,
    ram_usage_pct,
    cpu_usage_pct,
    cpu_load,
    flash_usage_pct,
    flash_wear_pct,
);
