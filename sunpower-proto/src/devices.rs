//! The devices of today's supervisors that no collector line describes: SunVault batteries
//! ([`Battery`]), the Hub+/MIDC transfer switch ([`TransferSwitch`]), and the supervisor's own
//! health ([`SupervisorHealth`]). Each kind's fields are described once, in its table
//! ([`Battery::FIELDS`], ...); its visitor, its JSON and its columns follow that table, as a
//! collector record's follow [`Record::fields`](crate::Record::fields).
//!
//! Like [`SiteTotals`](crate::SiteTotals), these kinds say their name where a record says its
//! number: `{"record_type": "battery", ...}`.

use chrono::{DateTime, Utc};

use crate::fields::FieldSpec;
use crate::record::{FieldValue, Source};

/// A state of charge or health as the supervisor sends it, a fraction from 0 to 1, in percent
/// (`0.86` is 86 %). `None` for a value outside 0..=1 (not a fraction: a value already in
/// percent would otherwise read 100 times too high) or not finite.
///
/// The product is rounded to nine decimals, so that the decimal the supervisor wrote gives the
/// decimal one expects (`0.29` gives `29`, not `28.999999999999996`).
///
/// ```
/// use sunpower_proto::percent_from_fraction;
/// assert_eq!(percent_from_fraction(0.0), Some(0.0));
/// assert_eq!(percent_from_fraction(1.0), Some(100.0));
/// assert_eq!(percent_from_fraction(0.29), Some(29.0));
/// assert_eq!(percent_from_fraction(86.0), None); // a problem, never 8600 %
/// assert_eq!(percent_from_fraction(-0.1), None);
/// ```
pub fn percent_from_fraction(fraction: f64) -> Option<f64> {
    if !(0.0..=1.0).contains(&fraction) {
        return None;
    }
    Some((fraction * 100.0 * 1e9).round() / 1e9)
}

/// The flash wear `/sys/pvs/flashwear_type_b` reports, in percent of the eMMC's estimated life
/// used: a hex count of tenths (`0x05` is 50 %), `0x0B` meaning past its rated life (100 %,
/// capped). `None` for anything else: any other number, text that is not hex.
///
/// ```
/// use sunpower_proto::flash_wear_percent;
/// assert_eq!(flash_wear_percent("0x05"), Some(50.0));
/// assert_eq!(flash_wear_percent("0x0B"), Some(100.0));
/// assert_eq!(flash_wear_percent("0x0a"), Some(100.0));
/// assert_eq!(flash_wear_percent("0x00"), Some(0.0));
/// assert_eq!(flash_wear_percent("0x0C"), None);
/// assert_eq!(flash_wear_percent("fifty"), None);
/// ```
pub fn flash_wear_percent(text: &str) -> Option<f64> {
    let text = text.trim();
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    if digits.is_empty() || digits.len() > 4 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let tenths = u16::from_str_radix(digits, 16).ok()?;
    (tenths <= 0x0B).then(|| f64::from(tenths.min(10)) * 10.0)
}

/// One SunVault battery (ESS) reading: `/sys/devices/ess/<i>/` of the varserver, or a battery
/// device of a DeviceList.
///
/// Signs as the supervisor's site totals (`site_load = pv + net + battery`): power is positive
/// when the battery discharges into the house. State of charge and health are in percent, 0 to
/// 100, scaled once from the supervisor's fractions ([`percent_from_fraction`]).
///
/// ```
/// use sunpower_proto::{parse_vars, Battery};
/// let vars = parse_vars(r#"{"/sys/devices/ess/0/sn": "BC2303001234",
///     "/sys/devices/ess/0/msmtEps": "2025-09-30T15:50:00Z",
///     "/sys/devices/ess/0/socVal": "0.86", "/sys/devices/ess/0/sohVal": "1"}"#).unwrap();
/// let battery: &Battery = &vars.batteries[0];
/// assert_eq!((battery.soc_pct, battery.soh_pct), (Some(86.0), Some(100.0)));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Battery {
    /// Where it came from: [`Source::Vars`] or [`Source::DeviceList`].
    pub source: Source<'static>,
    /// `msmtEps`: when the values were measured (UTC).
    pub timestamp: DateTime<Utc>,
    /// `sn`.
    pub serial: String,
    /// `prodMdlNm`.
    pub model: Option<String>,
    /// `opMode`: the operating mode, as sent.
    pub operating_mode: Option<String>,
    /// `p3phsumKw`: AC power, kW; positive when discharging.
    pub power_kw: Option<f64>,
    /// `posLtea3phsumKwh`: lifetime energy discharged (the positive-power direction), kWh.
    pub discharge_energy_kwh: Option<f64>,
    /// `negLtea3phsumKwh`: lifetime energy charged (the negative-power direction), kWh.
    pub charge_energy_kwh: Option<f64>,
    /// `v1nV`: leg 1 to neutral voltage, V.
    pub leg1_voltage_v: Option<f64>,
    /// `v2nV`: leg 2 to neutral voltage, V.
    pub leg2_voltage_v: Option<f64>,
    /// `socVal`: state of charge, percent (0 to 100).
    pub soc_pct: Option<f64>,
    /// `customerSocVal`: the state of charge shown to the customer, percent (0 to 100).
    pub customer_soc_pct: Option<f64>,
    /// `sohVal`: state of health, percent (0 to 100).
    pub soh_pct: Option<f64>,
    /// `tInvtrDegc`: the battery inverter's temperature, °C.
    pub inverter_temp_c: Option<f64>,
    /// `vBattV`: battery (DC) voltage, V.
    pub battery_voltage_v: Option<f64>,
    /// `chrgLimitPmaxKw`: most charge power allowed, kW.
    pub charge_limit_kw: Option<f64>,
    /// `dischrgLimPmaxKw`: most discharge power allowed, kW.
    pub discharge_limit_kw: Option<f64>,
    /// `maxTBattCellDegc`: warmest cell, °C.
    pub max_cell_temp_c: Option<f64>,
    /// `minTBattCellDegc`: coolest cell, °C.
    pub min_cell_temp_c: Option<f64>,
    /// `maxVBattCellV`: highest cell voltage, V.
    pub max_cell_voltage_v: Option<f64>,
    /// `minVBattCellV`: lowest cell voltage, V.
    pub min_cell_voltage_v: Option<f64>,
}

/// Named values, each read as its field's type (another type counts as not given).
struct Named<F>(F);

impl<'v, F: FnMut(&'static str) -> Option<FieldValue<'v>>> Named<F> {
    fn time(&mut self, name: &'static str) -> Option<DateTime<Utc>> {
        match (self.0)(name) {
            Some(FieldValue::Time(t)) => t,
            _ => None,
        }
    }

    fn text(&mut self, name: &'static str) -> Option<String> {
        match (self.0)(name) {
            Some(FieldValue::Text(t)) => t.map(str::to_owned),
            _ => None,
        }
    }

    fn decimal(&mut self, name: &'static str) -> Option<f64> {
        match (self.0)(name) {
            Some(FieldValue::Decimal(v)) => v,
            _ => None,
        }
    }

    fn unsigned(&mut self, name: &'static str) -> Option<u64> {
        match (self.0)(name) {
            Some(FieldValue::Unsigned(v)) => v,
            _ => None,
        }
    }
}

impl Battery {
    /// The typed fields, in output order: what the visitor visits, the JSON keys, the columns.
    pub const FIELDS: &'static [FieldSpec] = crate::fields::BATTERY;

    /// The kind's name, its JSON objects' `record_type`.
    pub const KIND: &'static str = "battery";

    /// Walks the typed fields in the order of [`Battery::FIELDS`], with their names.
    ///
    /// ```
    /// use sunpower_proto::{Battery, FieldValue};
    /// let vars = sunpower_proto::parse_vars(r#"{"/sys/devices/ess/0/sn": "B1",
    ///     "/sys/devices/ess/0/msmtEps": "2025-09-30T15:50:00Z"}"#).unwrap();
    /// let mut names = Vec::new();
    /// vars.batteries[0].visit_fields(|name, _| names.push(name));
    /// assert_eq!(names, Battery::FIELDS.iter().map(|f| f.name).collect::<Vec<_>>());
    /// ```
    pub fn visit_fields<'s>(&'s self, mut visit: impl FnMut(&'static str, FieldValue<'s>)) {
        use FieldValue::{Decimal as D, Text as T, Time};
        visit("timestamp", Time(Some(self.timestamp)));
        visit("serial", T(Some(&self.serial)));
        visit("model", T(self.model.as_deref()));
        visit("operating_mode", T(self.operating_mode.as_deref()));
        visit("power_kw", D(self.power_kw));
        visit("discharge_energy_kwh", D(self.discharge_energy_kwh));
        visit("charge_energy_kwh", D(self.charge_energy_kwh));
        visit("leg1_voltage_v", D(self.leg1_voltage_v));
        visit("leg2_voltage_v", D(self.leg2_voltage_v));
        visit("soc_pct", D(self.soc_pct));
        visit("customer_soc_pct", D(self.customer_soc_pct));
        visit("soh_pct", D(self.soh_pct));
        visit("inverter_temp_c", D(self.inverter_temp_c));
        visit("battery_voltage_v", D(self.battery_voltage_v));
        visit("charge_limit_kw", D(self.charge_limit_kw));
        visit("discharge_limit_kw", D(self.discharge_limit_kw));
        visit("max_cell_temp_c", D(self.max_cell_temp_c));
        visit("min_cell_temp_c", D(self.min_cell_temp_c));
        visit("max_cell_voltage_v", D(self.max_cell_voltage_v));
        visit("min_cell_voltage_v", D(self.min_cell_voltage_v));
    }

    /// Builds a battery from its typed fields by name (as [`Record::from_fields`](crate::Record::from_fields)
    /// does a record); `None` without its `timestamp` and `serial`. Percentages are taken as
    /// given (already scaled).
    pub fn from_fields<'v>(
        source: Source<'static>,
        value: impl FnMut(&'static str) -> Option<FieldValue<'v>>,
    ) -> Option<Battery> {
        let mut v = Named(value);
        Some(Battery {
            source,
            timestamp: v.time("timestamp")?,
            serial: v.text("serial")?,
            model: v.text("model"),
            operating_mode: v.text("operating_mode"),
            power_kw: v.decimal("power_kw"),
            discharge_energy_kwh: v.decimal("discharge_energy_kwh"),
            charge_energy_kwh: v.decimal("charge_energy_kwh"),
            leg1_voltage_v: v.decimal("leg1_voltage_v"),
            leg2_voltage_v: v.decimal("leg2_voltage_v"),
            soc_pct: v.decimal("soc_pct"),
            customer_soc_pct: v.decimal("customer_soc_pct"),
            soh_pct: v.decimal("soh_pct"),
            inverter_temp_c: v.decimal("inverter_temp_c"),
            battery_voltage_v: v.decimal("battery_voltage_v"),
            charge_limit_kw: v.decimal("charge_limit_kw"),
            discharge_limit_kw: v.decimal("discharge_limit_kw"),
            max_cell_temp_c: v.decimal("max_cell_temp_c"),
            min_cell_temp_c: v.decimal("min_cell_temp_c"),
            max_cell_voltage_v: v.decimal("max_cell_voltage_v"),
            min_cell_voltage_v: v.decimal("min_cell_voltage_v"),
        })
    }
}

/// The state of the transfer switch's microgrid interconnect device (`midStEnum`): closed is
/// on grid, open is islanded (backup). A value not known here is kept as sent.
///
/// ```
/// use sunpower_proto::MidState;
/// assert_eq!(MidState::from_wire("MID_STATE_CLOSED"), MidState::Closed);
/// let odd = MidState::from_wire("MID_STATE_FAULT");
/// assert_eq!(odd, MidState::Other("MID_STATE_FAULT".into()));
/// assert_eq!(odd.as_str(), "MID_STATE_FAULT");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MidState {
    /// `MID_STATE_CLOSED`: connected to the grid.
    Closed,
    /// `MID_STATE_OPEN`: disconnected from the grid (the home on backup).
    Open,
    /// Any other value, as sent.
    Other(String),
}

impl MidState {
    /// The state a wire value names.
    pub fn from_wire(text: &str) -> MidState {
        match text {
            "MID_STATE_CLOSED" => MidState::Closed,
            "MID_STATE_OPEN" => MidState::Open,
            other => MidState::Other(other.to_owned()),
        }
    }

    /// The wire value (`MID_STATE_CLOSED`), as every output writes it.
    pub fn as_str(&self) -> &str {
        match self {
            MidState::Closed => "MID_STATE_CLOSED",
            MidState::Open => "MID_STATE_OPEN",
            MidState::Other(text) => text,
        }
    }
}

/// The state of the transfer switch's PV disconnect relay (`pvd1StEnum`). A value not known
/// here is kept as sent.
///
/// ```
/// use sunpower_proto::PvDisconnectState;
/// assert_eq!(PvDisconnectState::from_wire("PVD_STATE_CLOSED"), PvDisconnectState::Closed);
/// assert_eq!(PvDisconnectState::from_wire("x").as_str(), "x");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PvDisconnectState {
    /// `PVD_STATE_CLOSED`: the PV is connected.
    Closed,
    /// `PVD_STATE_OPEN`: the PV is disconnected.
    Open,
    /// Any other value, as sent.
    Other(String),
}

impl PvDisconnectState {
    /// The state a wire value names.
    pub fn from_wire(text: &str) -> PvDisconnectState {
        match text {
            "PVD_STATE_CLOSED" => PvDisconnectState::Closed,
            "PVD_STATE_OPEN" => PvDisconnectState::Open,
            other => PvDisconnectState::Other(other.to_owned()),
        }
    }

    /// The wire value (`PVD_STATE_CLOSED`), as every output writes it.
    pub fn as_str(&self) -> &str {
        match self {
            PvDisconnectState::Closed => "PVD_STATE_CLOSED",
            PvDisconnectState::Open => "PVD_STATE_OPEN",
            PvDisconnectState::Other(text) => text,
        }
    }
}

/// One reading of the Hub+/MIDC transfer switch: `/sys/devices/transfer_switch/<i>/`.
///
/// ```
/// use sunpower_proto::{parse_vars, MidState};
/// let vars = parse_vars(r#"{"/sys/devices/transfer_switch/0/sn": "MIDC1",
///     "/sys/devices/transfer_switch/0/msmtEps": "2025-09-30T15:50:00Z",
///     "/sys/devices/transfer_switch/0/midStEnum": "MID_STATE_CLOSED",
///     "/sys/devices/transfer_switch/0/v1nGridV": "121.4"}"#).unwrap();
/// let switch = &vars.transfer_switches[0];
/// assert_eq!((&switch.mid_state, switch.grid_leg1_voltage_v), (&Some(MidState::Closed), Some(121.4)));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TransferSwitch {
    /// Where it came from ([`Source::Vars`]).
    pub source: Source<'static>,
    /// `msmtEps`: when the values were measured (UTC).
    pub timestamp: DateTime<Utc>,
    /// `sn`.
    pub serial: String,
    /// `prodMdlNm`.
    pub model: Option<String>,
    /// `midStEnum`.
    pub mid_state: Option<MidState>,
    /// `pvd1StEnum`.
    pub pv_disconnect_state: Option<PvDisconnectState>,
    /// `tDegc`: temperature, °C.
    pub temperature_c: Option<f64>,
    /// `v1nGridV`: grid side, leg 1 to neutral, V.
    pub grid_leg1_voltage_v: Option<f64>,
    /// `v2nGridV`: grid side, leg 2 to neutral, V.
    pub grid_leg2_voltage_v: Option<f64>,
    /// `v1nV`: home side, leg 1 to neutral, V.
    pub leg1_voltage_v: Option<f64>,
    /// `v2nV`: home side, leg 2 to neutral, V.
    pub leg2_voltage_v: Option<f64>,
    /// `vSpplyV`: the switch's supply voltage, V.
    pub supply_voltage_v: Option<f64>,
}

impl TransferSwitch {
    /// The typed fields, in output order.
    pub const FIELDS: &'static [FieldSpec] = crate::fields::TRANSFER_SWITCH;

    /// The kind's name, its JSON objects' `record_type`.
    pub const KIND: &'static str = "transfer_switch";

    /// Walks the typed fields in the order of [`TransferSwitch::FIELDS`] (the states as their
    /// wire text).
    pub fn visit_fields<'s>(&'s self, mut visit: impl FnMut(&'static str, FieldValue<'s>)) {
        use FieldValue::{Decimal as D, Text as T, Time};
        visit("timestamp", Time(Some(self.timestamp)));
        visit("serial", T(Some(&self.serial)));
        visit("model", T(self.model.as_deref()));
        visit(
            "mid_state",
            T(self.mid_state.as_ref().map(MidState::as_str)),
        );
        visit(
            "pv_disconnect_state",
            T(self
                .pv_disconnect_state
                .as_ref()
                .map(PvDisconnectState::as_str)),
        );
        visit("temperature_c", D(self.temperature_c));
        visit("grid_leg1_voltage_v", D(self.grid_leg1_voltage_v));
        visit("grid_leg2_voltage_v", D(self.grid_leg2_voltage_v));
        visit("leg1_voltage_v", D(self.leg1_voltage_v));
        visit("leg2_voltage_v", D(self.leg2_voltage_v));
        visit("supply_voltage_v", D(self.supply_voltage_v));
    }

    /// Builds a transfer switch from its typed fields by name (the states from their wire
    /// text); `None` without its `timestamp` and `serial`.
    pub fn from_fields<'v>(
        source: Source<'static>,
        value: impl FnMut(&'static str) -> Option<FieldValue<'v>>,
    ) -> Option<TransferSwitch> {
        let mut v = Named(value);
        Some(TransferSwitch {
            source,
            timestamp: v.time("timestamp")?,
            serial: v.text("serial")?,
            model: v.text("model"),
            mid_state: v.text("mid_state").map(|t| MidState::from_wire(&t)),
            pv_disconnect_state: v
                .text("pv_disconnect_state")
                .map(|t| PvDisconnectState::from_wire(&t)),
            temperature_c: v.decimal("temperature_c"),
            grid_leg1_voltage_v: v.decimal("grid_leg1_voltage_v"),
            grid_leg2_voltage_v: v.decimal("grid_leg2_voltage_v"),
            leg1_voltage_v: v.decimal("leg1_voltage_v"),
            leg2_voltage_v: v.decimal("leg2_voltage_v"),
            supply_voltage_v: v.decimal("supply_voltage_v"),
        })
    }
}

/// The supervisor's health, from whichever source has it: the varserver's `/sys/info/*` and
/// `/sys/pvs/flashwear_type_b` ([`Vars::health`](crate::Vars::health)), or a collector 120 line
/// ([`SupervisorHealth::from_status`]). Each source fills what it has; the others are `None`.
/// No Wi-Fi SSID or key and no MAC address is ever part of it.
///
/// ```
/// use sunpower_proto::{parse_line, Record, SupervisorHealth};
/// let line = "120\t20170107171500\tZT01\t0\t445\t0\t0\t0\t81666\t0.21\t24876\t12408";
/// let Record::SupervisorStatus(status) = parse_line(line).unwrap() else { panic!() };
/// let health = SupervisorHealth::from_status(&status);
/// assert_eq!((health.uptime_s, health.memory_used_kb, health.flash_wear_pct), (Some(81666.0), Some(24876), None));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct SupervisorHealth {
    /// When it was read: a 120's time; for `/vars`, the site totals' `time` when the document
    /// had it.
    pub timestamp: Option<DateTime<Utc>>,
    /// The supervisor's serial.
    pub serial: Option<String>,
    /// `/sys/info/model`.
    pub model: Option<String>,
    /// `/sys/info/sw_rev`: the software version.
    pub software_version: Option<String>,
    /// The build number (the number that ends the software version).
    pub build: Option<u64>,
    /// Seconds since the supervisor started (`/sys/info/uptime`, a 120's `dl_uptime`).
    pub uptime_s: Option<f64>,
    /// `/sys/info/ram_usage`: memory in use, percent.
    pub ram_usage_pct: Option<f64>,
    /// A 120's `dl_mem_used`: memory in use, kB.
    pub memory_used_kb: Option<u64>,
    /// `/sys/info/cpu_usage`: CPU in use, percent.
    pub cpu_usage_pct: Option<f64>,
    /// A 120's `dl_cpu_load`: the CPU load average.
    pub cpu_load: Option<f64>,
    /// `/sys/info/flash_usage`: flash storage in use, percent.
    pub flash_usage_pct: Option<f64>,
    /// A 120's `dl_flash_avail`: flash storage free, kB.
    pub flash_available_kb: Option<u64>,
    /// `/sys/pvs/flashwear_type_b`: the eMMC's estimated life used, percent (10 % steps, 100
    /// past its rated life; see [`flash_wear_percent`]).
    pub flash_wear_pct: Option<f64>,
}

impl SupervisorHealth {
    /// The typed fields, in output order.
    pub const FIELDS: &'static [FieldSpec] = crate::fields::SUPERVISOR_HEALTH;

    /// The kind's name, its JSON objects' `record_type`.
    pub const KIND: &'static str = "supervisor_health";

    /// What a collector 120 line says of the supervisor's health.
    pub fn from_status(status: &crate::SupervisorStatus<'_>) -> SupervisorHealth {
        SupervisorHealth {
            timestamp: Some(status.timestamp),
            serial: Some(status.serial.to_owned()),
            // Exact: an uptime of seconds is far below 2^53.
            uptime_s: status.uptime_s.map(|s| s as f64),
            memory_used_kb: status.memory_used_kb,
            cpu_load: status.cpu_load,
            flash_available_kb: status.flash_available_kb,
            ..SupervisorHealth::default()
        }
    }

    /// Walks the typed fields in the order of [`SupervisorHealth::FIELDS`].
    pub fn visit_fields<'s>(&'s self, mut visit: impl FnMut(&'static str, FieldValue<'s>)) {
        use FieldValue::{Decimal as D, Text as T, Time, Unsigned as U};
        visit("timestamp", Time(self.timestamp));
        visit("serial", T(self.serial.as_deref()));
        visit("model", T(self.model.as_deref()));
        visit("software_version", T(self.software_version.as_deref()));
        visit("build", U(self.build));
        visit("uptime_s", D(self.uptime_s));
        visit("ram_usage_pct", D(self.ram_usage_pct));
        visit("memory_used_kb", U(self.memory_used_kb));
        visit("cpu_usage_pct", D(self.cpu_usage_pct));
        visit("cpu_load", D(self.cpu_load));
        visit("flash_usage_pct", D(self.flash_usage_pct));
        visit("flash_available_kb", U(self.flash_available_kb));
        visit("flash_wear_pct", D(self.flash_wear_pct));
    }

    /// Builds the health from its typed fields by name (every field may be missing).
    pub fn from_fields<'v>(
        value: impl FnMut(&'static str) -> Option<FieldValue<'v>>,
    ) -> SupervisorHealth {
        let mut v = Named(value);
        SupervisorHealth {
            timestamp: v.time("timestamp"),
            serial: v.text("serial"),
            model: v.text("model"),
            software_version: v.text("software_version"),
            build: v.unsigned("build"),
            uptime_s: v.decimal("uptime_s"),
            ram_usage_pct: v.decimal("ram_usage_pct"),
            memory_used_kb: v.unsigned("memory_used_kb"),
            cpu_usage_pct: v.decimal("cpu_usage_pct"),
            cpu_load: v.decimal("cpu_load"),
            flash_usage_pct: v.decimal("flash_usage_pct"),
            flash_available_kb: v.unsigned("flash_available_kb"),
            flash_wear_pct: v.decimal("flash_wear_pct"),
        }
    }
}

/// `{"record_type": "<kind>", <fields>...}`, `null` where not reported.
#[cfg(feature = "serde")]
fn serialize_kind<S: serde::Serializer>(
    serializer: S,
    kind: &str,
    visit_all: impl FnOnce(&mut dyn FnMut(&'static str, FieldValue<'_>)),
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = serializer.serialize_map(None)?;
    map.serialize_entry("record_type", kind)?;
    let mut result = Ok(());
    visit_all(&mut |name, value| {
        if result.is_ok() {
            result = crate::json::serialize_field(&mut map, name, value);
        }
    });
    result?;
    map.end()
}

#[cfg(feature = "serde")]
impl serde::Serialize for Battery {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_kind(serializer, Self::KIND, |v| self.visit_fields(v))
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for TransferSwitch {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_kind(serializer, Self::KIND, |v| self.visit_fields(v))
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for SupervisorHealth {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_kind(serializer, Self::KIND, |v| self.visit_fields(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::FieldType;

    fn type_of(value: &FieldValue<'_>) -> FieldType {
        match value {
            FieldValue::Time(_) => FieldType::Time,
            FieldValue::Text(_) => FieldType::Text,
            FieldValue::Decimal(_) => FieldType::Decimal,
            FieldValue::Integer(_) => FieldType::Integer,
            FieldValue::Unsigned(_) => FieldType::Unsigned,
            other => panic!("{other:?}"),
        }
    }

    fn battery() -> Battery {
        let time = DateTime::from_timestamp(1_759_247_400, 0);
        Battery::from_fields(Source::Vars, |name| {
            Some(match name {
                "timestamp" => FieldValue::Time(time),
                "serial" | "model" | "operating_mode" => FieldValue::Text(Some(name)),
                _ => FieldValue::Decimal(Some(name.len() as f64)),
            })
        })
        .unwrap()
    }

    #[test]
    fn each_kind_visits_its_table_in_order_with_its_types() {
        let switch = TransferSwitch::from_fields(Source::Vars, |name| {
            Some(match name {
                "timestamp" => FieldValue::Time(DateTime::from_timestamp(0, 0)),
                "mid_state" => FieldValue::Text(Some("MID_STATE_OPEN")),
                "serial" | "model" | "pv_disconnect_state" => FieldValue::Text(Some(name)),
                _ => FieldValue::Decimal(Some(1.5)),
            })
        })
        .unwrap();
        let health = SupervisorHealth::from_fields(|_| None);
        type Visited = Vec<(&'static str, FieldType)>;
        let mut kinds: Vec<(&[FieldSpec], Visited)> = Vec::new();
        let mut seen = Vec::new();
        battery().visit_fields(|n, v| seen.push((n, type_of(&v))));
        kinds.push((Battery::FIELDS, std::mem::take(&mut seen)));
        switch.visit_fields(|n, v| seen.push((n, type_of(&v))));
        kinds.push((TransferSwitch::FIELDS, std::mem::take(&mut seen)));
        health.visit_fields(|n, v| seen.push((n, type_of(&v))));
        kinds.push((SupervisorHealth::FIELDS, seen));
        for (table, seen) in kinds {
            let want: Vec<_> = table.iter().map(|f| (f.name, f.field_type)).collect();
            assert_eq!(seen, want);
            assert!(table.iter().all(|f| f.doc.ends_with('.')));
        }
        assert_eq!(switch.mid_state, Some(MidState::Open));
    }

    #[test]
    fn from_fields_gives_back_what_was_visited() {
        let battery = battery();
        let mut fields = Vec::new();
        battery.visit_fields(|n, v| fields.push((n, v)));
        let rebuilt = Battery::from_fields(Source::Vars, |name| {
            fields.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
        });
        assert_eq!(rebuilt.as_ref(), Some(&battery));
        // Without its time or serial, no battery.
        assert_eq!(Battery::from_fields(Source::Vars, |_| None), None);
        let health = SupervisorHealth {
            build: Some(61846),
            flash_wear_pct: Some(50.0),
            ..SupervisorHealth::default()
        };
        let mut fields = Vec::new();
        health.visit_fields(|n, v| fields.push((n, v)));
        let rebuilt = SupervisorHealth::from_fields(|name| {
            fields.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
        });
        assert_eq!(rebuilt, health);
    }

    #[test]
    fn fractions_scale_to_percent_at_both_ends_and_nothing_over_one() {
        assert_eq!(percent_from_fraction(0.0), Some(0.0));
        assert_eq!(percent_from_fraction(1.0), Some(100.0));
        for (fraction, percent) in [(0.86, 86.0), (0.29, 29.0), (0.07, 7.0), (0.123, 12.3)] {
            assert_eq!(percent_from_fraction(fraction), Some(percent), "{fraction}");
        }
        for bad in [1.000001, 86.0, 100.0, -0.01, f64::NAN, f64::INFINITY] {
            assert_eq!(percent_from_fraction(bad), None, "{bad}");
        }
    }

    #[test]
    fn flash_wear_is_tenths_in_hex_capped_at_a_hundred() {
        for (text, pct) in [
            ("0x00", 0.0),
            ("0x01", 10.0),
            ("0x05", 50.0),
            ("0x9", 90.0),
            ("0x0A", 100.0),
            ("0x0B", 100.0),
            ("0x0b", 100.0),
            (" 0X05 ", 50.0),
            ("5", 50.0),
        ] {
            assert_eq!(flash_wear_percent(text), Some(pct), "{text}");
        }
        for bad in ["0x0C", "0xFF", "0x", "", "50%", "0x-1", "0x00005"] {
            assert_eq!(flash_wear_percent(bad), None, "{bad}");
        }
    }

    #[cfg(feature = "serde")]
    #[test]
    fn json_says_the_kind_s_name_first() {
        let json = serde_json::to_string(&battery()).unwrap();
        assert!(
            json.starts_with(
                r#"{"record_type":"battery","timestamp":"2025-09-30T15:50:00Z","serial":"serial""#
            ),
            "{json}"
        );
    }
}
