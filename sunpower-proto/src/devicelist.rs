//! The PVS local API's DeviceList JSON (`/cgi-bin/dl_cgi?Command=DeviceList`), decoded into the
//! same typed records as the plain-text collector stream (feature `devicelist`).
//!
//! Each device's values are read into the record kind its collector line would have been
//! ([`Record::from_fields`], by the fields' names), kept as a [`RecordBuf`] whose source is
//! [`Source::DeviceList`]: everything downstream sees the typed records a sniffer would give, and
//! no line is invented. A value that cannot be read costs its field (a [`DocumentProblem`] names
//! it), not the device's record. The register → field mapping is listed on [`parse_device_list`].

use std::cell::Cell;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::devices::{percent_from_fraction, Battery};
use crate::document::{DocumentLimits, DocumentPosition, DocumentProblem, DocumentProblemKind};
use crate::error::{excerpt, Expected};
use crate::jsonvalue::{
    looks_like_mac, position, Bounded, Key, Scalar, BUDGET_MESSAGE, DUPLICATE_PREFIX,
};
use crate::owned::RecordBuf;
use crate::record::{FieldValue, MeterKind, MeterRole, Record, Source};
use crate::value::{decimal, integer, parse_timestamp, resolution, unsigned};

/// How many bytes of a device type or serial are kept in errors and unknown devices.
const NAME_MAX: usize = 256;

/// A decoded DeviceList document: records, devices of unknown type, and per-device problems.
///
/// Nothing is dropped silently: every device in the document gives records, a [`Battery`], an
/// [`UnknownDevice`], or a [`DocumentProblem`] (a device can give records and a problem).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct DeviceList {
    /// The records, in device order (a meter's 140 before its 141).
    pub records: Vec<RecordBuf>,
    /// The batteries (`DEVICE_TYPE` `Energy Storage System`, the SunVault the varserver lists
    /// under `/sys/devices/ess/`, and `Battery`, its modules), in device order.
    pub batteries: Vec<Battery>,
    /// Devices of another `DEVICE_TYPE` than `PVS`, `Power Meter`, `Inverter`, `Energy
    /// Storage System` or `Battery` (hubs, gateways, storage inverters...).
    pub unknown: Vec<UnknownDevice>,
    /// Problems with single devices, each at its [`DocumentPosition::Device`]: some cost the
    /// device's records (no serial, no readable time, not working and nothing to decode),
    /// others a field or nothing (see [`DocumentProblemKind`]).
    pub problems: Vec<DocumentProblem>,
    /// Keys and values shaped like a MAC address, withheld from every record, unknown device
    /// and problem (a device whose `SERIAL` is one keeps its records under
    /// `withheld-device-<index>`).
    pub withheld: usize,
}

/// A device of a type this crate does not decode, kept as its JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnknownDevice {
    /// Position of the device in the `devices` array, from 0.
    pub index: usize,
    /// Its `DEVICE_TYPE`, if it has one (at most 256 bytes of it).
    pub device_type: Option<String>,
    /// Its `SERIAL`, if it has one (at most 256 bytes of it).
    pub serial: Option<String>,
    /// The device's JSON object, re-serialized (keys sorted), at most
    /// [`DocumentLimits::max_unknown_device_bytes`] bytes of it.
    pub json: String,
    /// Whether `json` was cut to the bound.
    pub truncated: bool,
}

/// The kind of number a record field holds, as the line decoder checks it.
#[derive(Clone, Copy)]
enum Num {
    Decimal,
    Integer,
    Unsigned,
}

/// A unit conversion from a register's unit to the field's.
#[derive(Clone, Copy)]
enum Scale {
    One,
    /// W → kW.
    Milli,
    /// A fraction (0 to 1) → percent ([`percent_from_fraction`]); outside 0..=1 a problem.
    Percent,
}

/// One numeric field of a line: its record name and the registers that may hold it, in order of
/// preference (the first present wins).
struct Spec {
    name: &'static str,
    num: Num,
    sources: &'static [(&'static str, Scale)],
}

const fn one(name: &'static str, num: Num, key: &'static [(&'static str, Scale)]) -> Spec {
    Spec {
        name,
        num,
        sources: key,
    }
}

use Num::{Decimal as D, Integer as I, Unsigned as U};
use Scale::{Milli, One, Percent};

/// 120 fields 3 to 11.
const SUPERVISOR: &[Spec] = &[
    one("error_count", U, &[("dl_err_count", One)]),
    one("comm_errors", U, &[("dl_comm_err", One)]),
    one("skipped_scans", U, &[("dl_skipped_scans", One)]),
    one("scan_time_s", D, &[("dl_scan_time", One)]),
    one("untransmitted", U, &[("dl_untransmitted", One)]),
    one("uptime_s", U, &[("dl_uptime", One)]),
    one("cpu_load", D, &[("dl_cpu_load", One)]),
    one("memory_used_kb", U, &[("dl_mem_used", One)]),
    one("flash_available_kb", U, &[("dl_flash_avail", One)]),
];

/// 130 fields 5 to 14.
const INVERTER: &[Spec] = &[
    one("lifetime_energy_kwh", D, &[("ltea_3phsum_kwh", One)]),
    one("ac_power_kw", D, &[("p_3phsum_kw", One)]),
    one("ac_voltage_v", D, &[("vln_3phavg_v", One)]),
    one("ac_current_a", D, &[("i_3phsum_a", One)]),
    // Later firmware reports the single tracker's power instead of the sum; on a one-tracker
    // micro-inverter they are the same quantity.
    one(
        "dc_power_kw",
        D,
        &[("p_mpptsum_kw", One), ("p_mppt1_kw", One)],
    ),
    one("dc_voltage_v", D, &[("v_mppt1_v", One)]),
    one("dc_current_a", D, &[("i_mppt1_a", One)]),
    one("heatsink_temp_c", D, &[("t_htsnk_degc", One)]),
    one("frequency_hz", D, &[("freq_hz", One)]),
    one("status", I, &[("stat_ind", One)]),
];

/// 140 fields 4 to 10.
const METER: &[Spec] = &[
    one("ct_scale", D, &[("ct_scl_fctr", One)]),
    one(
        "lifetime_net_energy_kwh",
        D,
        &[("net_ltea_3phsum_kwh", One), ("energy_total", One)],
    ),
    one(
        "real_power_kw",
        D,
        &[("p_3phsum_kw", One), ("power_w", Milli)],
    ),
    one("reactive_power_kvar", D, &[("q_3phsum_kvar", One)]),
    one("apparent_power_kva", D, &[("s_3phsum_kva", One)]),
    one("power_factor", D, &[("tot_pf_rto", One)]),
    one("frequency_hz", D, &[("freq_hz", One)]),
];

/// 141 fields 5 to 10.
const METER_LEGS: &[Spec] = &[
    one("leg1_current_a", D, &[("i1_a", One)]),
    one("leg2_current_a", D, &[("i2_a", One)]),
    one("leg1_voltage_v", D, &[("v1n_v", One)]),
    one("leg2_voltage_v", D, &[("v2n_v", One)]),
    one("leg1_power_kw", D, &[("p1_kw", One)]),
    one("leg2_power_kw", D, &[("p2_kw", One)]),
];

/// Decodes a DeviceList document (`/cgi-bin/dl_cgi?Command=DeviceList`) into records.
///
/// Accepts bytes or text. Per device:
///
/// | `DEVICE_TYPE` | records |
/// |---|---|
/// | `PVS` | 120 |
/// | `Inverter` | 130, the full 15-field form, field 4 (`aux`) empty |
/// | `Power Meter` | 140, and 141 when any per-leg register is present |
/// | `Energy Storage System`, `Battery` | a [`Battery`] in [`DeviceList::batteries`] |
/// | anything else | none: kept whole in [`DeviceList::unknown`] |
///
/// A battery's registers are the varserver's names written as the DeviceList writes its own (no
/// public DeviceList with a SunVault's readings is known; the ones published list the batteries
/// with their serial, model and state only, and those give a battery with its identity alone).
///
/// Every record takes field 1 from `DATATIME` (`YYYY,MM,DD,hh,mm,ss`, UTC, becomes
/// `YYYYMMDDhhmmss`), field 2 from `SERIAL` and, except 120, field 3 from `MODEL`. Registers:
///
/// | record | field | register (first present wins) |
/// |---|---|---|
/// | 120 | 3 `error_count` .. 11 `flash_available_kb` | `dl_err_count`, `dl_comm_err`, `dl_skipped_scans`, `dl_scan_time`, `dl_untransmitted`, `dl_uptime`, `dl_cpu_load`, `dl_mem_used`, `dl_flash_avail` |
/// | 130 | 5 `lifetime_energy_kwh` | `ltea_3phsum_kwh` |
/// | 130 | 6 `ac_power_kw` | `p_3phsum_kw` |
/// | 130 | 7 `ac_voltage_v` | `vln_3phavg_v` |
/// | 130 | 8 `ac_current_a` | `i_3phsum_a` |
/// | 130 | 9 `dc_power_kw` | `p_mpptsum_kw`, else `p_mppt1_kw` |
/// | 130 | 10 `dc_voltage_v`, 11 `dc_current_a` | `v_mppt1_v`, `i_mppt1_a` |
/// | 130 | 12 `heatsink_temp_c`, 13 `frequency_hz`, 14 `status` | `t_htsnk_degc`, `freq_hz`, `stat_ind` |
/// | 140 | 4 `ct_scale` | `ct_scl_fctr` |
/// | 140 | 5 `lifetime_net_energy_kwh` | `net_ltea_3phsum_kwh`, else `energy_total` (2017 name, assumed kWh) |
/// | 140 | 6 `real_power_kw` | `p_3phsum_kw`, else `power_w` (2017 name, W, divided by 1000) |
/// | 140 | 7 `reactive_power_kvar`, 8 `apparent_power_kva` | `q_3phsum_kvar`, `s_3phsum_kva` |
/// | 140 | 9 `power_factor`, 10 `frequency_hz` | `tot_pf_rto`, `freq_hz` |
/// | 140 | 11 `status` | none: empty |
/// | 141 | 4 `flag`, 11 `unknown_11` | none: empty |
/// | 141 | 5 .. 10 `leg1_current_a` .. `leg2_power_kw` | `i1_a`, `i2_a`, `v1n_v`, `v2n_v`, `p1_kw`, `p2_kw` |
/// | battery | `operating_mode`, `power_kw`, `discharge_energy_kwh`, `charge_energy_kwh` | `op_mode`, `p_3phsum_kw`, `pos_ltea_3phsum_kwh`, `neg_ltea_3phsum_kwh` |
/// | battery | `leg1_voltage_v`, `leg2_voltage_v`, `inverter_temp_c`, `battery_voltage_v` | `v1n_v`, `v2n_v`, `t_invtr_degc`, `v_batt_v` |
/// | battery | `soc_pct`, `customer_soc_pct`, `soh_pct` (fractions on the wire, times 100; outside 0..1 a problem) | `soc_val`, `customer_soc_val`, `soh_val` |
/// | battery | `charge_limit_kw`, `discharge_limit_kw` | `chrg_limit_pmax_kw`, `dischrg_lim_pmax_kw` |
/// | battery | `max_cell_temp_c`, `min_cell_temp_c`, `max_cell_voltage_v`, `min_cell_voltage_v` | `max_t_batt_cell_degc`, `min_t_batt_cell_degc`, `max_v_batt_cell_v`, `min_v_batt_cell_v` |
///
/// Values may be JSON strings or numbers; they must be plain decimals (integers for the
/// integer fields) and are copied as written, except where a unit is converted. A missing,
/// `null` or empty register is "not reported" (an empty field). A bad value costs its field (the
/// record is made without it) and is a [`DocumentProblemKind::InvalidValue`]; a device without
/// a readable `SERIAL` or `DATATIME` gives no record.
///
/// The meter kind comes from the serial's `p`/`c` suffix as in the plain-text stream. When the
/// DeviceList serial has none, the kind is derived from `TYPE`, `MODEL` or `subtype`
/// (`PVS5-METER-P`, `...-C`, or containing `production` / `consumption`) and the letter is
/// appended to the serial, so [`MeterKind::from_serial`] gives it; when nothing says, the serial
/// is kept and a [`DocumentProblemKind::UnknownMeterKind`] problem is reported.
///
/// A device whose `STATE` is not `working` still gives its records when it has a `DATATIME`
/// (its values are its last reading at that time, so replays of it are the same record), with a
/// [`DocumentProblemKind::NotWorking`] problem; without a `DATATIME` it gives only that problem.
///
/// The document-level error form (`"result"` other than `succeed`), invalid JSON, no `devices`
/// array, documents over [`DocumentLimits::max_bytes`] or listing more than
/// [`DocumentLimits::max_devices`] devices are an `Err` (the default limits;
/// [`parse_device_list_with`] takes others).
///
/// ```
/// use sunpower_proto::{parse_device_list, MeterKind, Record};
///
/// let json = r#"{"devices": [
///     {"DEVICE_TYPE": "Inverter", "SERIAL": "E00122233344455", "MODEL": "AC_Module_Type_E",
///      "STATE": "working", "DATATIME": "2021,07,04,19,45,00",
///      "ltea_3phsum_kwh": "842.1207", "p_3phsum_kw": 0.2412, "stat_ind": "0"},
///     {"DEVICE_TYPE": "Power Meter", "SERIAL": "PVS6M20000001", "TYPE": "PVS5-METER-C",
///      "MODEL": "PVS6M0400c", "DATATIME": "2021,07,04,19,46,10", "power_w": "-1520.5"}
/// ], "result": "succeed"}"#;
///
/// let list = parse_device_list(json).unwrap();
/// assert!(list.problems.is_empty());
/// let Record::Inverter(inv) = list.records[0].record() else { panic!() };
/// assert_eq!(inv.lifetime_energy_kwh, Some(842.1207));
/// assert_eq!(inv.ac_power_kw, Some(0.2412));
/// assert_eq!(inv.timestamp.to_rfc3339(), "2021-07-04T19:45:00+00:00");
/// let Record::Meter(m) = list.records[1].record() else { panic!() };
/// assert_eq!(m.serial, "PVS6M20000001c");
/// assert_eq!(m.meter_kind, MeterKind::Consumption);
/// assert_eq!(m.real_power_kw, Some(-1.5205));
/// ```
pub fn parse_device_list(json: impl AsRef<[u8]>) -> Result<DeviceList, DocumentProblem> {
    parse_device_list_with(json, &DocumentLimits::default())
}

/// [`parse_device_list`] with other limits than the default.
///
/// ```
/// use sunpower_proto::{parse_device_list_with, DocumentLimits, DocumentProblemKind};
/// let mut limits = DocumentLimits::default();
/// limits.max_bytes = 16;
/// let err = parse_device_list_with(r#"{"devices": [], "result": "succeed"}"#, &limits).unwrap_err();
/// assert_eq!(err.kind, DocumentProblemKind::TooLarge { len: 36, max: 16 });
/// assert_eq!(err.to_string(), "36 bytes, over the limit of 16 bytes");
/// ```
pub fn parse_device_list_with(
    json: impl AsRef<[u8]>,
    limits: &DocumentLimits,
) -> Result<DeviceList, DocumentProblem> {
    use DocumentProblemKind as K;
    // A leading UTF-8 byte-order mark (some editors and Windows tools write one) is skipped.
    let bytes = json.as_ref();
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    if bytes.len() > limits.max_bytes {
        return Err(DocumentProblem::document(K::TooLarge {
            len: bytes.len(),
            max: limits.max_bytes,
        }));
    }
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        // Not an object: tell invalid JSON from other JSON without building any of it.
        return Err(DocumentProblem::document(
            match serde_json::from_slice::<IgnoredAny>(bytes) {
                Ok(_) => K::NotAnObject,
                Err(e) => K::invalid_json(&e),
            },
        ));
    }
    let mut top = Top::new(*limits);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = (&mut top).deserialize(&mut de).and_then(|()| de.end());
    if let Err(e) = parsed {
        if let Some(problem) = top.problem.take() {
            return Err(problem);
        }
        let (line, column, message) = position(&e);
        if let Some(key) = message.strip_prefix(DUPLICATE_PREFIX) {
            return Err(DocumentProblem::document(K::DuplicateKey {
                key: key.trim_matches('"').to_owned(),
                line,
                column,
            }));
        }
        if message == BUDGET_MESSAGE {
            let at = DocumentPosition::Device {
                index: top.count,
                serial: None,
            };
            let max = limits.max_values_per_device;
            return Err(DocumentProblem::new(at, K::TooManyValues { max }));
        }
        return Err(DocumentProblem::document(K::invalid_json(&e)));
    }
    // The error form wins over any devices: a failed request may carry no list.
    if let Some(result) = top.result {
        return Err(DocumentProblem::document(K::Failed { result }));
    }
    if !top.devices_seen {
        return Err(DocumentProblem::document(K::MissingKey { key: "devices" }));
    }
    Ok(top.list)
}

/// The state of one streaming pass over a DeviceList document.
struct Top {
    limits: DocumentLimits,
    list: DeviceList,
    /// A `result` other than `succeed`, bounded.
    result: Option<String>,
    devices_seen: bool,
    result_seen: bool,
    /// How many entries the `devices` array had so far.
    count: usize,
    /// A document error found inside a visitor, reported instead of the JSON error it raised.
    problem: Option<DocumentProblem>,
}

impl Top {
    fn new(limits: DocumentLimits) -> Self {
        Top {
            limits,
            list: DeviceList::default(),
            result: None,
            devices_seen: false,
            result_seen: false,
            count: 0,
            problem: None,
        }
    }
}

impl<'de> DeserializeSeed<'de> for &mut Top {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for &mut Top {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a DeviceList object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            let seen = match key.as_ref() {
                "devices" => std::mem::replace(&mut self.devices_seen, true),
                "result" => std::mem::replace(&mut self.result_seen, true),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            // A second list would otherwise silently replace (or extend) the first.
            if seen {
                return Err(de::Error::custom(format_args!("{DUPLICATE_PREFIX}{key:?}")));
            }
            if key == "devices" {
                if !map.next_value_seed(Devices { top: &mut *self })? {
                    self.devices_seen = false;
                }
            } else {
                self.result = match map.next_value::<Scalar<'de>>()? {
                    Scalar::Null => None,
                    Scalar::Text(s) if s.trim().eq_ignore_ascii_case("succeed") => None,
                    other => Some(bounded(&other.describe(), NAME_MAX)),
                };
            }
        }
        Ok(())
    }
}

/// The `devices` value: decoded device by device, counted as it goes; `false` when it is not an
/// array.
struct Devices<'t> {
    top: &'t mut Top,
}

impl<'de> DeserializeSeed<'de> for Devices<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Devices<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of devices")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        loop {
            let limits = self.top.limits;
            let budget = Cell::new(limits.max_values_per_device);
            let Some(device) = seq.next_element_seed(Bounded { budget: &budget })? else {
                return Ok(true);
            };
            let index = self.top.count;
            self.top.count += 1;
            if self.top.count > limits.max_devices {
                // Stop here: reading on would cost time and memory for a document refused anyway.
                let max = limits.max_devices;
                let kind = DocumentProblemKind::TooManyDevices { max };
                self.top.problem = Some(DocumentProblem::document(kind));
                return Err(de::Error::custom("too many devices"));
            }
            decode_device(index, &device, &mut self.top.list, &limits);
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(false)
    }
    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_str<E>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum DeviceKind {
    Supervisor,
    Inverter,
    Meter,
    Battery,
}

/// `device` without what is shaped like a MAC address (keys and values, at any depth): a
/// `SERIAL` that is one becomes `withheld-device-<index>`, any other such value or key goes.
/// Each one withheld is counted.
fn withhold_macs(index: usize, device: &Value, withheld: &mut usize) -> Value {
    fn walk(value: &Value, withheld: &mut usize, serial: Option<&str>) -> Option<Value> {
        match value {
            Value::String(s) if looks_like_mac(s) => {
                *withheld += 1;
                serial.map(|placeholder| Value::String(placeholder.to_owned()))
            }
            Value::Object(map) => {
                let mut out = Map::new();
                for (key, value) in map {
                    if looks_like_mac(key) {
                        *withheld += 1;
                        continue;
                    }
                    let serial = (key == "SERIAL").then_some(serial).flatten();
                    if let Some(value) = walk(value, withheld, serial) {
                        out.insert(key.clone(), value);
                    }
                }
                Some(Value::Object(out))
            }
            Value::Array(items) => Some(Value::Array(
                items
                    .iter()
                    .filter_map(|v| walk(v, withheld, None))
                    .collect(),
            )),
            other => Some(other.clone()),
        }
    }
    let placeholder = format!("withheld-device-{index}");
    walk(device, withheld, Some(&placeholder)).unwrap_or(Value::Null)
}

fn decode_device(index: usize, device: &Value, out: &mut DeviceList, limits: &DocumentLimits) {
    use DocumentProblemKind as K;
    let scrubbed = withhold_macs(index, device, &mut out.withheld);
    let device = &scrubbed;
    let Value::Object(obj) = device else {
        let at = DocumentPosition::Device {
            index,
            serial: None,
        };
        out.problems.push(DocumentProblem::new(at, K::NotAnObject));
        return;
    };
    let serial = name(obj, "SERIAL");
    let device_type = obj
        .get("DEVICE_TYPE")
        .and_then(Value::as_str)
        .map(str::trim);
    let kind = match device_type {
        Some(t) if t.eq_ignore_ascii_case("PVS") => DeviceKind::Supervisor,
        Some(t) if t.eq_ignore_ascii_case("Inverter") => DeviceKind::Inverter,
        Some(t) if t.eq_ignore_ascii_case("Power Meter") => DeviceKind::Meter,
        Some(t)
            if t.eq_ignore_ascii_case("Energy Storage System")
                || t.eq_ignore_ascii_case("Battery") =>
        {
            DeviceKind::Battery
        }
        _ => {
            let json_max = limits.max_unknown_device_bytes;
            out.unknown
                .push(unknown_device(index, obj, device, serial, json_max));
            return;
        }
    };
    let error = |kind| {
        let at = DocumentPosition::Device {
            index,
            serial: serial.clone(),
        };
        DocumentProblem::new(at, kind)
    };
    let state = match obj.get("STATE") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("working") => None,
        Some(other) => Some(bounded(&describe(other), NAME_MAX)),
    };
    let mut time_key = "DATATIME";
    if kind == DeviceKind::Battery && is_absent(obj.get("DATATIME")) {
        // Published DeviceLists list batteries with their identity and the supervisor's clock
        // alone: still a battery, at that clock.
        time_key = "CURTIME";
    }
    if let Some(state) = &state
        && time_key == "DATATIME"
        && is_absent(obj.get("DATATIME"))
    {
        // A device in error that still carries readings (a 2019 PVS6 inverter: lifetime
        // counter, no DATATIME) is decoded at the supervisor's clock; one with nothing to
        // decode (an inverter in error at night) gives one problem that says it all.
        if !has_readings(kind, obj) || datatime(obj, "CURTIME").is_err() {
            out.problems.push(error(K::NotWorking {
                state: state.clone(),
                decoded: false,
            }));
            return;
        }
        time_key = "CURTIME";
    }
    let built = build(kind, obj, time_key);
    if let Some(state) = state {
        out.problems.push(error(K::NotWorking {
            state,
            decoded: built.is_ok(),
        }));
    }
    if built.is_ok() && time_key == "CURTIME" {
        out.problems.push(error(K::TimeFromCurTime));
    }
    match built {
        Ok(Built {
            records,
            battery,
            warnings,
        }) => {
            out.problems.extend(warnings.into_iter().map(error));
            out.records.extend(records);
            out.batteries.extend(battery);
        }
        Err(kind) => out.problems.push(error(kind)),
    }
}

/// The records (or the battery) of one device, and the problems that did not stop them (a bad
/// value costs its field; a meter of unknown kind).
struct Built {
    records: Vec<RecordBuf>,
    battery: Option<Battery>,
    warnings: Vec<DocumentProblemKind>,
}

/// Whether a device carries any reading its records would show.
fn has_readings(kind: DeviceKind, obj: &Map<String, Value>) -> bool {
    let specs: &[&[Spec]] = match kind {
        DeviceKind::Supervisor => &[SUPERVISOR],
        DeviceKind::Inverter => &[INVERTER],
        DeviceKind::Meter => &[METER, METER_LEGS],
        DeviceKind::Battery => &[BATTERY],
    };
    (specs.iter().flat_map(|s| s.iter()))
        .flat_map(|spec| spec.sources)
        .any(|(key, _)| !is_absent(obj.get(*key)))
}

/// A battery's registers: the varserver's `/sys/devices/ess/<i>/` names as the DeviceList writes
/// names (its meters' `net_ltea_3phsum_kwh` and `v1n_v` are the varserver's `netLtea3phsumKwh`
/// and `v1nV`, its ESS hub's `t_degc` and `v_spply_v` the transfer switch's `tDegc` and
/// `vSpplyV`). The state of charge and health are fractions, as the varserver's.
const BATTERY: &[Spec] = &[
    one("power_kw", D, &[("p_3phsum_kw", One)]),
    one("discharge_energy_kwh", D, &[("pos_ltea_3phsum_kwh", One)]),
    one("charge_energy_kwh", D, &[("neg_ltea_3phsum_kwh", One)]),
    one("leg1_voltage_v", D, &[("v1n_v", One)]),
    one("leg2_voltage_v", D, &[("v2n_v", One)]),
    one("soc_pct", D, &[("soc_val", Percent)]),
    one("customer_soc_pct", D, &[("customer_soc_val", Percent)]),
    one("soh_pct", D, &[("soh_val", Percent)]),
    one("inverter_temp_c", D, &[("t_invtr_degc", One)]),
    one("battery_voltage_v", D, &[("v_batt_v", One)]),
    one("charge_limit_kw", D, &[("chrg_limit_pmax_kw", One)]),
    one("discharge_limit_kw", D, &[("dischrg_lim_pmax_kw", One)]),
    one("max_cell_temp_c", D, &[("max_t_batt_cell_degc", One)]),
    one("min_cell_temp_c", D, &[("min_t_batt_cell_degc", One)]),
    one("max_cell_voltage_v", D, &[("max_v_batt_cell_v", One)]),
    one("min_cell_voltage_v", D, &[("min_v_batt_cell_v", One)]),
];

/// The meter's lifetime import (`pos_ltea_3phsum_kwh`) and export (`neg_ltea_3phsum_kwh`).
const METER_COUNTERS: &[Spec] = &[
    one("import_energy_kwh", D, &[("pos_ltea_3phsum_kwh", One)]),
    one("export_energy_kwh", D, &[("neg_ltea_3phsum_kwh", One)]),
];

fn build(
    kind: DeviceKind,
    obj: &Map<String, Value>,
    time_key: &'static str,
) -> Result<Built, DocumentProblemKind> {
    let serial =
        text(obj, "SERIAL")?.ok_or(DocumentProblemKind::MissingSerial { field: "SERIAL" })?;
    let timestamp = datatime(obj, time_key)?;
    let mut warnings = Vec::new();
    // A model that cannot be read costs that field.
    let model = text(obj, "MODEL").unwrap_or_else(|problem| {
        warnings.push(problem);
        None
    });
    let (record_types, specs): (&[u16], &[&[Spec]]) = match kind {
        DeviceKind::Supervisor => (&[120], &[SUPERVISOR]),
        DeviceKind::Inverter => (&[130], &[INVERTER]),
        DeviceKind::Meter => (&[140, 141], &[METER, METER_COUNTERS, METER_LEGS]),
        DeviceKind::Battery => (&[], &[BATTERY]),
    };
    let mut values = Vec::new();
    for spec in specs.iter().flat_map(|s| s.iter()) {
        match quantity(obj, spec) {
            Ok(Some((value, text))) => {
                values.push((spec.name, value));
                if spec.name == "lifetime_net_energy_kwh" {
                    let resolution = FieldValue::Decimal(resolution(Some(&text)));
                    values.push(("lifetime_net_energy_resolution_kwh", resolution));
                }
            }
            Ok(None) => {}
            Err(problem) => warnings.push(problem),
        }
    }
    if kind == DeviceKind::Meter {
        values.push((
            "meter_role",
            FieldValue::Text(Some(meter_role(obj, &values).as_str())),
        ));
    }
    let serial = match kind {
        DeviceKind::Meter => match (MeterKind::from_serial(&serial), meter_kind_hint(obj)) {
            (MeterKind::Unknown, MeterKind::Production) => format!("{serial}p"),
            (MeterKind::Unknown, MeterKind::Consumption) => format!("{serial}c"),
            (MeterKind::Unknown, MeterKind::Unknown) => {
                warnings.push(DocumentProblemKind::UnknownMeterKind);
                serial
            }
            _ => serial,
        },
        _ => serial,
    };
    if kind == DeviceKind::Battery {
        let operating_mode = text(obj, "op_mode").unwrap_or_else(|problem| {
            warnings.push(problem);
            None
        });
        let battery = Battery::from_fields(Source::DeviceList, |name| {
            Some(match name {
                "timestamp" => FieldValue::Time(Some(timestamp)),
                "serial" => FieldValue::Text(Some(&serial)),
                "model" => FieldValue::Text(model.as_deref()),
                "operating_mode" => FieldValue::Text(operating_mode.as_deref()),
                _ => values.iter().find(|(n, _)| *n == name)?.1,
            })
        });
        return Ok(Built {
            records: Vec::new(),
            battery,
            warnings,
        });
    }
    let has_legs = METER_LEGS
        .iter()
        .flat_map(|spec| spec.sources)
        .any(|(key, _)| !is_absent(obj.get(*key)));
    let records = record_types
        .iter()
        .filter(|&&t| t != 141 || has_legs)
        .filter_map(|&record_type| {
            let record = Record::from_fields(record_type, Source::DeviceList, |name| {
                Some(match name {
                    "timestamp" => FieldValue::Time(Some(timestamp)),
                    "serial" => FieldValue::Text(Some(&serial)),
                    "model" => FieldValue::Text(model.as_deref().filter(|m| !m.is_empty())),
                    _ => values.iter().find(|(n, _)| *n == name)?.1,
                })
            });
            record.as_ref().map(RecordBuf::from)
        })
        .collect();
    Ok(Built {
        records,
        battery: None,
        warnings,
    })
}

/// The value of one spec, its text read as the line decoder reads a field's, and that text.
fn quantity(
    obj: &Map<String, Value>,
    spec: &Spec,
) -> Result<Option<(FieldValue<'static>, String)>, DocumentProblemKind> {
    let expected = match spec.num {
        Num::Decimal => Expected::Decimal,
        Num::Integer => Expected::Integer,
        Num::Unsigned => Expected::UnsignedInteger,
    };
    for &(key, scale) in spec.sources {
        let text = match obj.get(key) {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) if s.trim().is_empty() => continue,
            Some(Value::String(s)) => s.trim().to_owned(),
            Some(Value::Number(n)) => n.to_string(),
            Some(other) => {
                return Err(DocumentProblemKind::InvalidValue {
                    field: key,
                    expected,
                    found: describe(other),
                })
            }
        };
        // The position in the error is irrelevant here: the key is reported instead.
        let valid = match spec.num {
            Num::Decimal => decimal(Some(&text), 0, spec.name).is_ok(),
            Num::Integer => integer(Some(&text), 0, spec.name).is_ok(),
            Num::Unsigned => unsigned(Some(&text), 0, spec.name).is_ok(),
        };
        if !valid {
            return Err(DocumentProblemKind::InvalidValue {
                field: key,
                expected,
                found: excerpt(&text),
            });
        }
        let text = match scale {
            Scale::One | Scale::Percent => text,
            Scale::Milli => milli(&text),
        };
        // Checked above; the scaled text is a plain decimal.
        let value = match spec.num {
            Num::Decimal => FieldValue::Decimal(decimal(Some(&text), 0, spec.name).ok().flatten()),
            Num::Integer => FieldValue::Integer(integer(Some(&text), 0, spec.name).ok().flatten()),
            Num::Unsigned => {
                FieldValue::Unsigned(unsigned(Some(&text), 0, spec.name).ok().flatten())
            }
        };
        if let (Scale::Percent, FieldValue::Decimal(Some(fraction))) = (scale, value) {
            let Some(percent) = percent_from_fraction(fraction) else {
                return Err(DocumentProblemKind::InvalidValue {
                    field: key,
                    expected: Expected::Fraction,
                    found: excerpt(&text),
                });
            };
            return Ok(Some((FieldValue::Decimal(Some(percent)), text)));
        }
        return Ok(Some((value, text)));
    }
    Ok(None)
}

/// Divides a checked plain decimal by 1000 by moving its point, so no binary rounding creeps in.
fn milli(text: &str) -> String {
    if text.contains(['e', 'E']) {
        // Rare; the float path is exact enough and Display never writes an exponent.
        let value = text.parse::<f64>().unwrap_or(0.0) / 1000.0;
        return format!("{value}");
    }
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = format!("{int}{frac}");
    let point = int.len() as isize - 3;
    let shifted = if point <= 0 {
        format!("0.{}{digits}", "0".repeat(point.unsigned_abs()))
    } else {
        let point = point.unsigned_abs();
        format!("{}.{}", &digits[..point], &digits[point..])
    };
    let shifted = shifted.trim_end_matches('0').trim_end_matches('.');
    let shifted = shifted.trim_start_matches('0');
    let shifted = if shifted.is_empty() || shifted.starts_with('.') {
        format!("0{shifted}")
    } else {
        shifted.to_owned()
    };
    if negative && shifted.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
        format!("-{shifted}")
    } else {
        shifted
    }
}

/// `DATATIME` (or `CURTIME`), UTC.
fn datatime(
    obj: &Map<String, Value>,
    key: &'static str,
) -> Result<DateTime<Utc>, DocumentProblemKind> {
    let invalid = |found| DocumentProblemKind::InvalidValue {
        field: key,
        expected: Expected::DataTime,
        found,
    };
    match obj.get(key) {
        value if is_absent(value) => Err(DocumentProblemKind::MissingTime { field: key }),
        Some(Value::String(s)) => convert_datatime(s.trim())
            .as_deref()
            .and_then(parse_timestamp)
            .ok_or_else(|| invalid(excerpt(s))),
        Some(other) => Err(invalid(describe(other))),
        None => Err(DocumentProblemKind::MissingTime { field: key }),
    }
}

/// `2019,09,26,16,33,00` → `20190926163300`, checking that the date and time exist.
fn convert_datatime(value: &str) -> Option<String> {
    let mut parts = value.split(',');
    let mut out = String::with_capacity(14);
    for (i, width) in [4, 2, 2, 2, 2, 2].into_iter().enumerate() {
        let part = parts.next()?.trim();
        // The year is always four digits; other parts may have lost their leading zero.
        let ok_len = if i == 0 {
            part.len() == 4
        } else {
            (1..=2).contains(&part.len())
        };
        if !ok_len || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        out.push_str(&"0".repeat(width - part.len()));
        out.push_str(part);
    }
    if parts.next().is_some() {
        return None;
    }
    parse_timestamp(&out).map(|_| out)
}

/// A text key as a field: trimmed, `None` when absent or empty, refused when it would break the
/// line.
fn text(
    obj: &Map<String, Value>,
    key: &'static str,
) -> Result<Option<String>, DocumentProblemKind> {
    let invalid = |found| DocumentProblemKind::InvalidValue {
        field: key,
        expected: Expected::Text,
        found,
    };
    let text = match obj.get(key) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => return Err(invalid(describe(other))),
    };
    if text.contains(['\t', '\n', '\r']) {
        return Err(invalid(excerpt(&text)));
    }
    Ok((!text.is_empty()).then_some(text))
}

/// What a consumption meter measures: its `subtype` (or `consumption_subtype_enum`) says, or
/// else a negative counter or power.
fn meter_role(obj: &Map<String, Value>, values: &[(&str, FieldValue<'_>)]) -> MeterRole {
    let declared = ["subtype", "consumption_subtype_enum"]
        .iter()
        .filter_map(|key| obj.get(*key).and_then(Value::as_str))
        .map(MeterRole::from_subtype)
        .find(|role| *role != MeterRole::Unknown);
    let decimal = |name| match values.iter().find(|(n, _)| *n == name) {
        Some((_, FieldValue::Decimal(v))) => *v,
        _ => None,
    };
    declared.unwrap_or_else(|| {
        MeterRole::from_reading(decimal("lifetime_net_energy_kwh"), decimal("real_power_kw"))
    })
}

/// Production or consumption, from the words a meter's descriptive keys use.
fn meter_kind_hint(obj: &Map<String, Value>) -> MeterKind {
    let (mut production, mut consumption) = (false, false);
    for key in ["TYPE", "MODEL", "subtype"] {
        let Some(value) = obj.get(key).and_then(Value::as_str) else {
            continue;
        };
        let lower = value.to_ascii_lowercase();
        // `PVS5-METER-P`: a lone `p` or `c` word.
        for word in lower.split(|c: char| !c.is_ascii_alphanumeric()) {
            production |= word == "p";
            consumption |= word == "c";
        }
        production |= lower.contains("production");
        consumption |= lower.contains("consumption");
    }
    match (production, consumption) {
        (true, false) => MeterKind::Production,
        (false, true) => MeterKind::Consumption,
        _ => MeterKind::Unknown,
    }
}

fn unknown_device(
    index: usize,
    obj: &Map<String, Value>,
    device: &Value,
    serial: Option<String>,
    json_max: usize,
) -> UnknownDevice {
    let full = device.to_string();
    let json = bounded_plain(&full, json_max);
    UnknownDevice {
        index,
        device_type: name(obj, "DEVICE_TYPE"),
        serial,
        truncated: json.len() < full.len(),
        json: json.to_owned(),
    }
}

/// A short identifying value (serial, type) for reports, bounded.
fn name(obj: &Map<String, Value>, key: &str) -> Option<String> {
    match obj.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(bounded(s.trim(), NAME_MAX)),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn is_absent(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(_) => false,
    }
}

/// A value for an error message, never a copy of a large array or object.
fn describe(value: &Value) -> String {
    match value {
        Value::String(s) => excerpt(s),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
        other => excerpt(&other.to_string()),
    }
}

fn bounded_plain(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn bounded(text: &str, max: usize) -> String {
    bounded_plain(text, max).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milli_moves_the_point_exactly() {
        for (watts, kw) in [
            ("1234.5", "1.2345"),
            ("5", "0.005"),
            ("-250", "-0.25"),
            ("0", "0"),
            ("-0.0", "0"),
            ("1000", "1"),
            ("12000.00", "12"),
            (".5", "0.0005"),
            ("+75.", "0.075"),
            ("1e3", "1"),
            ("007", "0.007"),
        ] {
            assert_eq!(milli(watts), kw, "{watts}");
        }
    }

    #[test]
    fn datatime_pads_and_checks_the_date() {
        assert_eq!(
            convert_datatime("2019,09,26,16,33,00").as_deref(),
            Some("20190926163300")
        );
        assert_eq!(
            convert_datatime("2019,9,6,6,3,0").as_deref(),
            Some("20190906060300")
        );
        for bad in [
            "",
            "2019,09,26,16,33",
            "2019,09,26,16,33,00,00",
            "2019,02,30,00,00,00",
            "2019,09,26,24,00,00",
            "19,09,26,16,33,00",
            "2019,-9,26,16,33,00",
            "2019-09-26 16:33:00",
            "2019,009,26,16,33,00",
        ] {
            assert_eq!(convert_datatime(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn meter_kind_hint_needs_one_clear_word() {
        let hint = |json: &str| {
            let Value::Object(obj) = serde_json::from_str(json).unwrap() else {
                unreachable!()
            };
            meter_kind_hint(&obj)
        };
        assert_eq!(hint(r#"{"TYPE":"PVS5-METER-P"}"#), MeterKind::Production);
        assert_eq!(hint(r#"{"TYPE":"PVS5-METER-C"}"#), MeterKind::Consumption);
        assert_eq!(
            hint(r#"{"subtype":"NET_CONSUMPTION_LOADSIDE"}"#),
            MeterKind::Consumption
        );
        assert_eq!(
            hint(r#"{"MODEL":"Production meter"}"#),
            MeterKind::Production
        );
        assert_eq!(hint(r#"{"TYPE":"PVS5-METER"}"#), MeterKind::Unknown);
        assert_eq!(
            hint(r#"{"TYPE":"PVS5-METER-P","subtype":"consumption"}"#),
            MeterKind::Unknown
        );
    }
}
