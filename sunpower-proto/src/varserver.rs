//! The varserver API of current supervisor firmware (`/vars`, PVS6 from build 61840, PVS5 from
//! 5408) and the supervisor-info document (`/cgi-bin/dl_cgi/supervisor/info`), decoded into the
//! same records as the collector stream (feature `varserver`).
//!
//! A `/vars` document comes in two forms, object (`{"<path>": value}`) and array
//! (`{"values": [{"name": path, "value": value}], "count": N}`), and devices in two path
//! shapes, flat (`/sys/devices/inverter/<i>/<field>`, one path per field, values strings) and
//! nested (`/sys/devices/<n>/inverter/data`, one object per device, numbers as JSON numbers).
//! Every shape gives the same records, built from the values by the fields' names
//! ([`Record::from_fields`](crate::Record::from_fields), source [`Source::Vars`]; no line is
//! invented): inverters become 130 records, meters 140 (and 141 when they report per-leg values)
//! with the import and export counters in
//! [`Meter::import_energy_kwh`](crate::Meter::import_energy_kwh) and
//! [`Meter::export_energy_kwh`](crate::Meter::export_energy_kwh). A value that cannot be read
//! costs its field (a problem names it), not the device's record. The field mapping is listed on
//! [`parse_vars`].
//!
//! The document is read entry by entry, never held whole, and no value longer than
//! [`DocumentLimits::max_raw_value_bytes`] is copied. One withholding rule applies to every
//! path, field and value: a secret's name (`ssid`, `wpa`, `key`, `mac`...) in any segment of a
//! path, or anything shaped like a MAC address anywhere in a path or value (`:` or `-`, any
//! case), and the value is counted in [`Vars::withheld`] and never kept nor quoted.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::devices::{
    flash_wear_percent, percent_from_fraction, Battery, SupervisorHealth, TransferSwitch,
};
use crate::document::{DocumentLimits, DocumentPosition, DocumentProblem, DocumentProblemKind};
use crate::error::{excerpt, Expected};
use crate::jsonvalue::{looks_like_mac, Key, Scalar};
use crate::owned::RecordBuf;
use crate::record::{FieldValue, MeterKind, MeterRole, Record, Source};
use crate::site::{self, SiteTotals};
use crate::value::{decimal, parse_timestamp, resolution};

/// How many fields of one nested device object are read; the rest are counted as dropped.
const NESTED_FIELDS_MAX: usize = 256;

/// Path and field names are kept to this many bytes.
const NAME_MAX: usize = 256;

/// Which of the two `/vars` forms a document had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarsForm {
    /// `{"<path>": value, ...}` (`&fmt=obj`).
    Object,
    /// `{"values": [{"name": path, "value": value}, ...], "count": N}`.
    Array,
}

/// Which path shape a device came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathShape {
    /// `/sys/devices/<kind>/<index>/<field>`: one path per field (build 61846).
    Flat,
    /// `/sys/devices/<index>/<kind>/data`: one object per device (June 2025 documentation).
    Nested,
}

/// The kind of a varserver device this crate decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum VarsDeviceKind {
    /// A (micro-)inverter: a 130 record.
    Inverter,
    /// A power meter: a 140 record and, with per-leg values, a 141.
    Meter,
    /// A SunVault battery (`/sys/devices/ess/<i>/`): a [`Battery`] in [`Vars::batteries`].
    Battery,
    /// The Hub+/MIDC transfer switch (`/sys/devices/transfer_switch/<i>/`): a
    /// [`TransferSwitch`] in [`Vars::transfer_switches`].
    TransferSwitch,
}

impl VarsDeviceKind {
    /// `"inverter"`, `"meter"`, `"ess"` or `"transfer_switch"`, as in the paths.
    ///
    /// ```
    /// use sunpower_proto::VarsDeviceKind;
    /// assert_eq!(VarsDeviceKind::Meter.as_str(), "meter");
    /// assert_eq!(VarsDeviceKind::Battery.as_str(), "ess");
    /// ```
    pub fn as_str(&self) -> &'static str {
        match self {
            VarsDeviceKind::Inverter => "inverter",
            VarsDeviceKind::Meter => "meter",
            VarsDeviceKind::Battery => "ess",
            VarsDeviceKind::TransferSwitch => "transfer_switch",
        }
    }
}

/// One inverter or meter of a `/vars` document and the records it gave (batteries and transfer
/// switches are [`Vars::batteries`] and [`Vars::transfer_switches`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VarsDevice {
    /// Inverter or meter.
    pub kind: VarsDeviceKind,
    /// The index in its path: what tells devices apart when serials are redacted.
    pub index: u32,
    /// The path shape it came in.
    pub shape: PathShape,
    /// Its `sn`, if it had one (at most 256 bytes of it). An `sn` holding a MAC address is
    /// withheld (counted in [`Vars::withheld`]) and replaced by a placeholder made of the
    /// device's path, `withheld-<kind>-<index>` (`withheld-<kind>-n<index>` for the nested
    /// shape): the device keeps its records, under a name as stable as its index.
    pub serial: Option<String>,
    /// Whether another device of the same kind in the document has the same serial (dumps
    /// shared in public often redact every serial to one placeholder). Its records are still
    /// made; energy cannot be followed per device across documents, see
    /// [`IntervalAccumulator::add_vars`](crate::intervals::IntervalAccumulator::add_vars).
    pub shared_serial: bool,
    /// The records: one 130, or a 140 and perhaps a 141. Empty when the device has no serial or
    /// no readable time (see [`Vars::problems`]); any other unreadable value costs only its
    /// field.
    pub records: Vec<RecordBuf>,
}

/// A path (or a nested device field) this crate does not decode into a record, kept raw.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RawVar {
    /// The path; for a field of a nested device object, `<path>/<field>` (at most 256 bytes).
    pub path: String,
    /// The value as text (JSON numbers as written, objects re-described), at most
    /// [`DocumentLimits::max_raw_value_bytes`] bytes of it.
    pub value: String,
    /// Whether `value` was cut to the bound.
    pub truncated: bool,
}

/// The supervisor's identity and health: `/sys/info/*` of the varserver, or the
/// `supervisor` object of `/cgi-bin/dl_cgi/supervisor/info`.
///
/// The Wi-Fi SSID and key and MAC addresses are never kept (counted in `withheld`).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct SupervisorInfo {
    /// `serialnum` / `SERIAL`.
    pub serial: Option<String>,
    /// `model` / `MODEL` (`PVS6`).
    pub model: Option<String>,
    /// `hwrev` (`6.02`).
    pub hardware_version: Option<String>,
    /// `fwrev` / `FWVER`.
    pub firmware_version: Option<String>,
    /// `sw_rev` / `SWVER` (`2025.09.04.61845`, `2025.06, Build 61839`).
    pub software_version: Option<String>,
    /// `BUILD`, or the build number that ends the software version (`61845`).
    pub build: Option<u64>,
    /// `boardtype`.
    pub board_type: Option<String>,
    /// `sys_type` (`PV-only`, `storage`).
    pub system_type: Option<String>,
    /// `finance_type` (`UNKNOWN`, `CASH`, `LEASE`, `LOAN`).
    pub finance_type: Option<String>,
    /// `active_interface` (`sta0` is Wi-Fi).
    pub active_interface: Option<String>,
    /// `uptime`, seconds.
    pub uptime_s: Option<f64>,
    /// `ram_usage`, percent.
    pub ram_usage_pct: Option<f64>,
    /// `flash_usage`, percent.
    pub flash_usage_pct: Option<f64>,
    /// `cpu_usage`, percent.
    pub cpu_usage_pct: Option<f64>,
    /// Other supervisor values, kept raw (`EASICVER`, `/sys/info/...` names not listed here).
    pub other: Vec<RawVar>,
    /// Secret values (SSID, Wi-Fi key, MAC addresses) seen and not kept.
    pub withheld: usize,
}

/// A decoded `/vars` document.
///
/// Nothing is dropped silently: every entry becomes part of a record, of [`Vars::supervisor`]
/// or [`Vars::site`], a [`RawVar`] in [`Vars::other`], a [`DocumentProblem`], or is counted
/// ([`Vars::withheld`], [`Vars::dropped`], [`Vars::other_count`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Vars {
    /// Object or array form.
    pub form: VarsForm,
    /// How many path/value entries the document held.
    pub entries: usize,
    /// Inverters then meters, each by index (flat shape before nested).
    pub devices: Vec<VarsDevice>,
    /// The batteries (`/sys/devices/ess/<i>/`), by index (flat shape before nested); a battery
    /// without a serial or a readable time is a problem instead.
    pub batteries: Vec<Battery>,
    /// The transfer switches (`/sys/devices/transfer_switch/<i>/`), likewise.
    pub transfer_switches: Vec<TransferSwitch>,
    /// The supervisor's health: [`Vars::supervisor`]'s usage figures and the flash wear
    /// (`/sys/pvs/flashwear_type_b`), when the document had any of them.
    pub health: Option<SupervisorHealth>,
    /// `/sys/info/*`, when the document had any.
    pub supervisor: Option<SupervisorInfo>,
    /// `/sys/livedata/*`, when the document had any.
    pub site: Option<SiteTotals>,
    /// Undecoded paths kept raw (at most [`DocumentLimits::max_other_kept`]).
    pub other: Vec<RawVar>,
    /// How many undecoded paths there were, kept or not.
    pub other_count: usize,
    /// Secret values (Wi-Fi SSID and key, MAC addresses) seen and not kept.
    pub withheld: usize,
    /// Entries not decoded because of a limit (devices over [`DocumentLimits::max_devices`],
    /// fields of a nested object over 256, problems over
    /// [`DocumentLimits::max_problems_kept`]).
    pub dropped: usize,
    /// Problems with devices and entries, each at its [`DocumentPosition::Path`] (at most
    /// [`DocumentLimits::max_problems_kept`]).
    pub problems: Vec<DocumentProblem>,
}

impl Vars {
    /// Every record, device by device.
    ///
    /// ```
    /// use sunpower_proto::parse_vars;
    /// let vars = parse_vars(r#"{"/sys/devices/inverter/0/sn": "E1",
    ///     "/sys/devices/inverter/0/msmtEps": "2025-09-30T15:50:00Z",
    ///     "/sys/devices/inverter/0/ltea3phsumKwh": "1915.253174"}"#).unwrap();
    /// let types: Vec<u16> = vars.records().map(|r| r.record().record_type()).collect();
    /// assert_eq!(types, [130]);
    /// ```
    pub fn records(&self) -> impl Iterator<Item = &RecordBuf> {
        self.devices.iter().flat_map(|d| d.records.iter())
    }
}

/// A device field this crate maps, with the record field it fills.
#[derive(Clone, Copy)]
struct Field {
    /// The varserver's name (`ltea3phsumKwh`).
    name: &'static str,
    /// The record field it fills (`lifetime_energy_kwh`).
    record: &'static str,
    numeric: bool,
    /// A fraction 0..=1 on the wire, a percentage in the record.
    fraction: bool,
}

impl Field {
    /// What the field holds, for a problem.
    fn expected(&self) -> Expected {
        if self.fraction {
            Expected::Fraction
        } else if self.numeric {
            Expected::Decimal
        } else {
            Expected::Text
        }
    }
}

const fn num(name: &'static str, record: &'static str) -> Field {
    Field {
        name,
        record,
        numeric: true,
        fraction: false,
    }
}

/// A fraction on the wire (`0.86`), a percentage in the record (`86`).
const fn pct(name: &'static str, record: &'static str) -> Field {
    Field {
        fraction: true,
        ..num(name, record)
    }
}

const fn txt(name: &'static str, record: &'static str) -> Field {
    Field {
        name,
        record,
        numeric: false,
        fraction: false,
    }
}

/// The identity fields every device has.
const SN: usize = 0;
const TIME: usize = 2;

/// Inverter fields: identity, then the 130's quantities.
const INVERTER_FIELDS: &[Field] = &[
    txt("sn", "serial"),
    txt("prodMdlNm", "model"),
    txt("msmtEps", "timestamp"),
    num("ltea3phsumKwh", "lifetime_energy_kwh"),
    num("p3phsumKw", "ac_power_kw"),
    num("vln3phavgV", "ac_voltage_v"),
    num("i3phsumA", "ac_current_a"),
    num("pMppt1Kw", "dc_power_kw"),
    num("vMppt1V", "dc_voltage_v"),
    num("iMppt1A", "dc_current_a"),
    num("tHtsnkDegc", "heatsink_temp_c"),
    num("freqHz", "frequency_hz"),
];

/// Meter fields: identity, the 140's quantities, the 141's, import, export.
const METER_FIELDS: &[Field] = &[
    txt("sn", "serial"),
    txt("prodMdlNm", "model"),
    txt("msmtEps", "timestamp"),
    num("ctSclFctr", "ct_scale"),
    num("netLtea3phsumKwh", "lifetime_net_energy_kwh"),
    num("p3phsumKw", "real_power_kw"),
    num("q3phsumKvar", "reactive_power_kvar"),
    num("s3phsumKva", "apparent_power_kva"),
    num("totPfRto", "power_factor"),
    num("freqHz", "frequency_hz"),
    num("i1A", "leg1_current_a"),
    num("i2A", "leg2_current_a"),
    num("v1nV", "leg1_voltage_v"),
    num("v2nV", "leg2_voltage_v"),
    num("p1Kw", "leg1_power_kw"),
    num("p2Kw", "leg2_power_kw"),
    num("posLtea3phsumKwh", "import_energy_kwh"),
    num("negLtea3phsumKwh", "export_energy_kwh"),
    num("v12V", "line_voltage_v"),
];
/// The meter fields only a 141 has.
const METER_141: std::ops::Range<usize> = 10..16;

/// Battery fields: identity, then the [`Battery`]'s quantities (the varserver table's names).
const BATTERY_FIELDS: &[Field] = &[
    txt("sn", "serial"),
    txt("prodMdlNm", "model"),
    txt("msmtEps", "timestamp"),
    txt("opMode", "operating_mode"),
    num("p3phsumKw", "power_kw"),
    num("posLtea3phsumKwh", "discharge_energy_kwh"),
    num("negLtea3phsumKwh", "charge_energy_kwh"),
    num("v1nV", "leg1_voltage_v"),
    num("v2nV", "leg2_voltage_v"),
    pct("socVal", "soc_pct"),
    pct("customerSocVal", "customer_soc_pct"),
    pct("sohVal", "soh_pct"),
    num("tInvtrDegc", "inverter_temp_c"),
    num("vBattV", "battery_voltage_v"),
    num("chrgLimitPmaxKw", "charge_limit_kw"),
    num("dischrgLimPmaxKw", "discharge_limit_kw"),
    num("maxTBattCellDegc", "max_cell_temp_c"),
    num("minTBattCellDegc", "min_cell_temp_c"),
    num("maxVBattCellV", "max_cell_voltage_v"),
    num("minVBattCellV", "min_cell_voltage_v"),
];

/// Transfer switch fields: identity, then the [`TransferSwitch`]'s.
const TRANSFER_SWITCH_FIELDS: &[Field] = &[
    txt("sn", "serial"),
    txt("prodMdlNm", "model"),
    txt("msmtEps", "timestamp"),
    txt("midStEnum", "mid_state"),
    txt("pvd1StEnum", "pv_disconnect_state"),
    num("tDegc", "temperature_c"),
    num("v1nGridV", "grid_leg1_voltage_v"),
    num("v2nGridV", "grid_leg2_voltage_v"),
    num("v1nV", "leg1_voltage_v"),
    num("v2nV", "leg2_voltage_v"),
    num("vSpplyV", "supply_voltage_v"),
];

impl VarsDeviceKind {
    fn fields(self) -> &'static [Field] {
        match self {
            VarsDeviceKind::Inverter => INVERTER_FIELDS,
            VarsDeviceKind::Meter => METER_FIELDS,
            VarsDeviceKind::Battery => BATTERY_FIELDS,
            VarsDeviceKind::TransferSwitch => TRANSFER_SWITCH_FIELDS,
        }
    }
}

/// The one withholding rule for names: whether a path (or a field or key name) names a secret
/// in any of its segments (`/sys/info/ssid`, `/net/sta0/ssid/0`, `wpa_key`), or holds anything
/// shaped like a MAC address (`/sys/info/<MAC>`). Its value is then never kept. Values are
/// withheld by [`Scalar::has_mac`].
fn secret_path(path: &str) -> bool {
    path.split('/').any(secret_name) || looks_like_mac(path)
}

/// Whether one name names a secret whose value must never be echoed.
fn secret_name(name: &str) -> bool {
    // Compared in place: a name may be as long as the document.
    let name = name.as_bytes();
    [
        "ssid", "wpa", "psk", "passw", "secret", "mac", "key", "token",
    ]
    .iter()
    .any(|s| {
        name.windows(s.len())
            .any(|w| w.eq_ignore_ascii_case(s.as_bytes()))
    })
}

/// Decodes a `/vars` document (either form, either path shape, or a mix) into records.
///
/// Paths:
///
/// | path | becomes |
/// |---|---|
/// | `/sys/devices/inverter/<i>/<field>`, `/sys/devices/<n>/inverter/data` | a 130 record |
/// | `/sys/devices/meter/<i>/<field>`, `/sys/devices/<n>/meter/data` | a 140 record, and a 141 when any per-leg field is present |
/// | `/sys/livedata/<name>` | [`Vars::site`] ([`SiteTotals`]) |
/// | `/sys/info/<name>` | [`Vars::supervisor`] ([`SupervisorInfo`]) |
/// | `/sys/info/ssid`, `wpa_key`, `lmac`, `active_interface_mac`, any path with `mac`, `ssid`, `wpa`, `key`... in any segment, any MAC-shaped path or value | counted in [`Vars::withheld`], never kept (a serial is replaced, see [`VarsDevice::serial`]; a number or time is a problem that does not quote it) |
/// | anything else | kept raw in [`Vars::other`], counted |
///
/// Device fields, with the record field each fills (units as in the collector records):
///
/// | varserver field | record field |
/// |---|---|
/// | `sn`, `prodMdlNm`, `msmtEps` | `serial`, `model`, `timestamp` (RFC 3339, to the second) |
/// | inverter `ltea3phsumKwh`, `p3phsumKw`, `vln3phavgV`, `i3phsumA` | 130 `lifetime_energy_kwh`, `ac_power_kw`, `ac_voltage_v`, `ac_current_a` |
/// | inverter `pMppt1Kw`, `vMppt1V`, `iMppt1A` | 130 `dc_power_kw`, `dc_voltage_v`, `dc_current_a` (one tracker: as the DeviceList's `p_mppt1_kw`) |
/// | inverter `tHtsnkDegc`, `freqHz` | 130 `heatsink_temp_c`, `frequency_hz` (`aux`, `status` empty) |
/// | meter `ctSclFctr`, `netLtea3phsumKwh`, `p3phsumKw`, `q3phsumKvar`, `s3phsumKva`, `totPfRto`, `freqHz` | 140 `ct_scale` .. `frequency_hz` (`status` empty) |
/// | meter `posLtea3phsumKwh`, `negLtea3phsumKwh` | 140 `import_energy_kwh`, `export_energy_kwh` |
/// | meter `i1A`, `i2A`, `v1nV`, `v2nV`, `p1Kw`, `p2Kw` | 141 `leg1_current_a` .. `leg2_power_kw` (`flag`, `unknown_11` empty) |
/// | `v12V`, `vldFldMsk`, `vldFld2Msk`, others | kept raw in [`Vars::other`] as `<device path>/<field>` |
///
/// Values may be strings or JSON numbers; `"nan"` and `"n/a"` are "not reported". A bad value
/// (a number out of range such as `1e400`, one longer than
/// [`DocumentLimits::max_raw_value_bytes`], an array entry that is not a `{"name", "value"}`
/// object) costs its field or entry and is a [`DocumentProblem`]; a device without `sn` or a
/// readable `msmtEps` gives no record. A `/sys/livedata` path or device field given twice keeps
/// its first value and is reported. A leading UTF-8 byte-order mark is skipped. Invalid JSON, a document that is not an object, or one over [`DocumentLimits::max_bytes`] is an `Err` (the
/// default limits; [`parse_vars_with`] takes others).
///
/// ```
/// use sunpower_proto::{parse_vars, Record};
///
/// let doc = r#"{
///   "/sys/info/sw_rev": "2025.09.04.61845",
///   "/sys/info/wpa_key": "hunter2hunter2",
///   "/sys/livedata/time": "1759247902",
///   "/sys/livedata/pv_en": "27867.650391",
///   "/sys/livedata/soc": "nan",
///   "/sys/devices/inverter/0/sn": "E00123456789",
///   "/sys/devices/inverter/0/msmtEps": "2025-09-30T15:50:00Z",
///   "/sys/devices/inverter/0/ltea3phsumKwh": "1915.253174",
///   "/sys/devices/inverter/0/p3phsumKw": "0.154040",
///   "/sys/devices/5/meter/data": {"sn": "PVS6M1c", "msmtEps": "2025-09-30T15:50:00Z",
///                                 "netLtea3phsumKwh": 14116.27, "posLtea3phsumKwh": 33277.06}
/// }"#;
/// let vars = parse_vars(doc).unwrap();
/// let Record::Inverter(inv) = vars.devices[0].records[0].record() else { panic!() };
/// assert_eq!(inv.lifetime_energy_kwh, Some(1915.253174));
/// assert_eq!(inv.timestamp.to_rfc3339(), "2025-09-30T15:50:00+00:00");
/// let Record::Meter(m) = vars.devices[1].records[0].record() else { panic!() };
/// assert_eq!(m.import_energy_kwh, Some(33277.06));
/// let site = vars.site.as_ref().unwrap();
/// assert_eq!((site.pv_energy_kwh, site.battery_soc_pct), (Some(27867.650391), None));
/// assert_eq!(vars.supervisor.as_ref().unwrap().build, Some(61845));
/// assert_eq!(vars.withheld, 1);
/// assert!(!format!("{vars:?}").contains("hunter2"));
/// ```
pub fn parse_vars(doc: impl AsRef<[u8]>) -> Result<Vars, DocumentProblem> {
    parse_vars_with(doc, &DocumentLimits::default())
}

/// [`parse_vars`] with other limits than the default.
///
/// ```
/// use sunpower_proto::{parse_vars_with, DocumentLimits, DocumentPosition, DocumentProblemKind};
/// let mut limits = DocumentLimits::default();
/// limits.max_devices = 1;
/// let vars = parse_vars_with(r#"{"/sys/devices/inverter/0/sn": "E1",
///     "/sys/devices/inverter/1/sn": "E2"}"#, &limits).unwrap();
/// assert_eq!((vars.devices.len(), vars.dropped), (1, 1));
/// let problem = &vars.problems[0];
/// assert_eq!(problem.at, DocumentPosition::Path("/sys/devices/inverter/1".into()));
/// assert_eq!(problem.kind, DocumentProblemKind::TooManyDevices { max: 1 });
/// ```
pub fn parse_vars_with(
    doc: impl AsRef<[u8]>,
    limits: &DocumentLimits,
) -> Result<Vars, DocumentProblem> {
    let bytes = without_bom(doc.as_ref());
    document_or_error(bytes, limits)?;
    let mut builder = Builder::new(*limits);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    (&mut builder)
        .deserialize(&mut de)
        .and_then(|()| de.end())
        .map_err(|e| json_error(&e))?;
    Ok(builder.finish())
}

/// The document without a leading UTF-8 byte-order mark, which some editors and Windows tools
/// write and JSON parsers refuse.
fn without_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes)
}

fn json_error(e: &serde_json::Error) -> DocumentProblem {
    DocumentProblem::document(DocumentProblemKind::invalid_json(e))
}

/// `Ok` when the document is within the limit and starts an object; otherwise the right
/// problem, without building it.
fn document_or_error(bytes: &[u8], limits: &DocumentLimits) -> Result<(), DocumentProblem> {
    if bytes.len() > limits.max_bytes {
        return Err(DocumentProblem::document(DocumentProblemKind::TooLarge {
            len: bytes.len(),
            max: limits.max_bytes,
        }));
    }
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        return Ok(());
    }
    match serde_json::from_slice::<IgnoredAny>(bytes) {
        Ok(_) => Err(DocumentProblem::document(DocumentProblemKind::NotAnObject)),
        Err(e) => Err(json_error(&e)),
    }
}

/// What a path or array entry holds: a scalar, or (nested shape) an object of scalars.
enum Entry<'de> {
    Scalar(Scalar<'de>),
    Fields {
        fields: Vec<(Cow<'de, str>, Scalar<'de>)>,
        dropped: usize,
    },
}

impl<'de> Entry<'de> {
    /// The entry of a value as written: an object's fields (the first [`NESTED_FIELDS_MAX`],
    /// the rest counted), anything else a [`Scalar`]; strings and numbers over `max` bytes are
    /// not copied.
    fn from_raw(raw: &'de RawValue, max: usize) -> Entry<'de> {
        if !raw.get().starts_with('{') {
            return Entry::Scalar(Scalar::from_raw(raw, max));
        }
        struct Fields(usize);
        impl<'de> Visitor<'de> for Fields {
            type Value = Entry<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entry<'de>, A::Error> {
                let mut fields = Vec::new();
                let mut dropped = 0;
                while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                    let value = map.next_value::<&'de RawValue>()?;
                    if fields.len() < NESTED_FIELDS_MAX {
                        fields.push((key, Scalar::from_raw(value, self.0)));
                    } else {
                        dropped += 1;
                    }
                }
                Ok(Entry::Fields { fields, dropped })
            }
        }
        let mut de = serde_json::Deserializer::from_str(raw.get());
        // Already read once as JSON: this cannot fail.
        de.deserialize_map(Fields(max))
            .unwrap_or(Entry::Scalar(Scalar::Container(0)))
    }
}

/// One device's fields as they arrive, before its records are made.
struct DeviceAcc {
    kind: VarsDeviceKind,
    index: u32,
    shape: PathShape,
    /// Values of the kind's fields, in the order of its table; empty until one is set, so
    /// that a device of unknown fields only costs little.
    values: Vec<Option<String>>,
    problems: Vec<DocumentProblemKind>,
}

impl DeviceAcc {
    fn value(&self, slot: usize) -> Option<&str> {
        self.values.get(slot)?.as_deref()
    }

    fn set(&mut self, slot: usize, text: String) {
        if self.values.is_empty() {
            self.values.resize(self.kind.fields().len(), None);
        }
        self.values[slot] = Some(text);
    }

    fn path(&self) -> String {
        match self.shape {
            PathShape::Flat => format!("/sys/devices/{}/{}", self.kind.as_str(), self.index),
            PathShape::Nested => format!("/sys/devices/{}/{}/data", self.index, self.kind.as_str()),
        }
    }
}

/// The document being read.
struct Builder {
    limits: DocumentLimits,
    form: Option<VarsForm>,
    entries: usize,
    devices: Vec<DeviceAcc>,
    by_key: HashMap<(VarsDeviceKind, PathShape, u32), usize>,
    devices_capped: bool,
    supervisor: Option<SupervisorInfo>,
    site: Option<SiteTotals>,
    other: Vec<RawVar>,
    other_count: usize,
    withheld: usize,
    dropped: usize,
    problems: Vec<DocumentProblem>,
    /// The array form's `count`: its text, and its description for a problem.
    declared_count: Option<(Option<String>, String)>,
    array_values: usize,
    /// The `/sys/livedata` keys already set, one bit per [`site::KEYS`] entry.
    live_seen: u16,
    /// `/sys/pvs/flashwear_type_b`: whether it was given, and its value in percent.
    flash_wear: Option<Option<f64>>,
}

impl Builder {
    fn new(limits: DocumentLimits) -> Self {
        Builder {
            limits,
            form: None,
            entries: 0,
            devices: Vec::new(),
            by_key: HashMap::new(),
            devices_capped: false,
            supervisor: None,
            site: None,
            other: Vec::new(),
            other_count: 0,
            withheld: 0,
            dropped: 0,
            problems: Vec::new(),
            declared_count: None,
            array_values: 0,
            live_seen: 0,
            flash_wear: None,
        }
    }
}

/// A path split into what it names.
enum Target<'p> {
    /// A flat device field.
    Field(VarsDeviceKind, u32, &'p str),
    /// A nested device object.
    Data(VarsDeviceKind, u32),
    Info(&'p str),
    Live(&'p str),
    /// `/sys/pvs/flashwear_type_b`.
    FlashWear,
    Other,
}

fn index(text: &str) -> Option<u32> {
    (!text.is_empty() && text.len() <= 9 && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

fn device_kind(text: &str) -> Option<VarsDeviceKind> {
    match text {
        "inverter" => Some(VarsDeviceKind::Inverter),
        "meter" => Some(VarsDeviceKind::Meter),
        "ess" => Some(VarsDeviceKind::Battery),
        "transfer_switch" => Some(VarsDeviceKind::TransferSwitch),
        _ => None,
    }
}

fn target(path: &str) -> Target<'_> {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["", "sys", "devices", kind, i, field] if !field.is_empty() => {
            match (device_kind(kind), index(i)) {
                (Some(kind), Some(i)) => Target::Field(kind, i, field),
                _ => match (index(kind), device_kind(i), *field) {
                    (Some(n), Some(kind), "data") => Target::Data(kind, n),
                    _ => Target::Other,
                },
            }
        }
        ["", "sys", "info", name] if !name.is_empty() => Target::Info(name),
        ["", "sys", "livedata", name] if !name.is_empty() => Target::Live(name),
        ["", "sys", "pvs", "flashwear_type_b"] => Target::FlashWear,
        _ => Target::Other,
    }
}

fn bounded(text: &str, max: usize) -> (String, bool) {
    if text.len() <= max {
        return (text.to_owned(), false);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (text[..end].to_owned(), true)
}

/// The value as kept in a [`RawVar`]: at most `max` bytes of it, and whether it was cut.
fn raw_value(value: &Scalar<'_>, max: usize) -> (String, bool) {
    match value {
        Scalar::Null => ("null".to_owned(), false),
        Scalar::Bool(b) => (b.to_string(), false),
        Scalar::Number(n) => bounded(n, max),
        Scalar::Text(t) => bounded(t, max),
        Scalar::Container(n) => (format!("<object or array of {n} members>"), false),
        Scalar::Long { head, .. } => (bounded(head, max).0, true),
    }
}

impl Builder {
    fn problem(&mut self, path: &str, mut kind: DocumentProblemKind) {
        // Values holding a MAC address are withheld before any problem is made; this is the
        // last guard, for a value quoted by a check of its own.
        if let DocumentProblemKind::InvalidValue { found, .. } = &mut kind
            && looks_like_mac(found)
        {
            *found = WITHHELD.to_owned();
            self.withheld += 1;
        }
        if self.problems.len() < self.limits.max_problems_kept {
            let at = DocumentPosition::Path(bounded(path, NAME_MAX).0);
            self.problems.push(DocumentProblem::new(at, kind));
        } else {
            self.dropped += 1;
        }
    }

    /// Keeps an undecoded path (and `field` within it, for an object's) raw, unless it is
    /// (or may be) a secret: the withholding rule sees the whole path and the whole value.
    fn other(&mut self, path: &str, field: Option<&str>, value: &Scalar<'_>) {
        if secret_path(path) || field.is_some_and(secret_path) || value.has_mac() {
            self.withheld += 1;
            return;
        }
        self.other_count += 1;
        if self.other.len() < self.limits.max_other_kept {
            let (value, truncated) = raw_value(value, self.limits.max_raw_value_bytes);
            // Bounded before it is joined: a path may be as long as the document.
            let mut kept = bounded(path, NAME_MAX).0;
            if let Some(field) = field {
                kept.push('/');
                kept.push_str(&bounded(field, NAME_MAX).0);
                kept = bounded(&kept, NAME_MAX).0;
            }
            self.other.push(RawVar {
                path: kept,
                value,
                truncated,
            });
        }
    }

    fn device(&mut self, kind: VarsDeviceKind, index: u32, shape: PathShape) -> Option<usize> {
        if let Some(&at) = self.by_key.get(&(kind, shape, index)) {
            return Some(at);
        }
        if self.devices.len() >= self.limits.max_devices {
            if !std::mem::replace(&mut self.devices_capped, true) {
                let path = format!("/sys/devices/{}/{index}", kind.as_str());
                let max = self.limits.max_devices;
                self.problem(&path, DocumentProblemKind::TooManyDevices { max });
            }
            self.dropped += 1;
            return None;
        }
        self.devices.push(DeviceAcc {
            kind,
            index,
            shape,
            values: Vec::new(),
            problems: Vec::new(),
        });
        self.by_key
            .insert((kind, shape, index), self.devices.len() - 1);
        Some(self.devices.len() - 1)
    }

    /// One field of a device; `path` and `name` make the field's full path, for undecoded
    /// fields.
    fn device_field(&mut self, at: usize, name: &str, value: &Scalar<'_>, path: &str) {
        let kind = self.devices[at].kind;
        let Some(slot) = kind.fields().iter().position(|f| f.name == name) else {
            match self.devices[at].shape {
                PathShape::Flat => self.other(path, None, value),
                PathShape::Nested => self.other(path, Some(name), value),
            }
            return;
        };
        let field = kind.fields()[slot];
        if self.devices[at].value(slot).is_some() {
            self.devices[at]
                .problems
                .push(DocumentProblemKind::RepeatedField { field: field.name });
            return;
        }
        if value.has_mac() {
            // Withheld, never quoted. A MAC-shaped serial still identifies its device within
            // the document: the records keep a placeholder made of the device's path. Another
            // text (a model) is left out; a number or time holding one cannot be read.
            self.withheld += 1;
            let device = &mut self.devices[at];
            if slot == SN {
                let nested = if device.shape == PathShape::Nested {
                    "n"
                } else {
                    ""
                };
                device.set(
                    SN,
                    format!("withheld-{}-{nested}{}", device.kind.as_str(), device.index),
                );
            } else if field.numeric || slot == TIME {
                let expected = if slot == TIME {
                    Expected::Rfc3339
                } else {
                    Expected::Decimal
                };
                device.problems.push(DocumentProblemKind::InvalidValue {
                    field: field.name,
                    expected,
                    found: WITHHELD.to_owned(),
                });
            }
            return;
        }
        let device = &mut self.devices[at];
        let text = match value {
            Scalar::Null => return,
            Scalar::Bool(_) | Scalar::Container(_) | Scalar::Long { .. } => {
                device.problems.push(DocumentProblemKind::InvalidValue {
                    field: field.name,
                    expected: field.expected(),
                    found: value.describe(),
                });
                return;
            }
            Scalar::Number(n) => n.clone(),
            Scalar::Text(t) => t.trim().to_owned(),
        };
        let absent =
            text.is_empty() || text.eq_ignore_ascii_case("nan") || text.eq_ignore_ascii_case("n/a");
        if absent {
            return;
        }
        if field.numeric {
            let read = decimal(Some(&text), 0, field.name);
            // A fraction over 1 is not scaled (it would read 100 times too high): a problem.
            let bad = match read {
                Ok(Some(v)) if field.fraction => percent_from_fraction(v).is_none(),
                Ok(_) => false,
                Err(_) => true,
            };
            if bad {
                device.problems.push(DocumentProblemKind::InvalidValue {
                    field: field.name,
                    expected: field.expected(),
                    found: excerpt(&text),
                });
                return;
            }
        } else if text.contains(['\t', '\n', '\r']) || text.len() > NAME_MAX {
            device.problems.push(DocumentProblemKind::InvalidValue {
                field: field.name,
                expected: Expected::Text,
                found: excerpt(&text),
            });
            return;
        }
        device.set(slot, text);
    }

    fn entry(&mut self, path: &str, entry: Entry<'_>) {
        self.entries += 1;
        match (target(path), entry) {
            (Target::Field(kind, i, name), Entry::Scalar(value)) => {
                if let Some(at) = self.device(kind, i, PathShape::Flat) {
                    self.device_field(at, name, &value, path);
                }
            }
            (Target::Data(kind, n), Entry::Fields { fields, dropped }) => {
                let Some(at) = self.device(kind, n, PathShape::Nested) else {
                    return;
                };
                for (name, value) in &fields {
                    self.device_field(at, name, value, path);
                }
                if dropped > 0 {
                    self.dropped += dropped;
                    let device = &mut self.devices[at];
                    let max = NESTED_FIELDS_MAX;
                    device
                        .problems
                        .push(DocumentProblemKind::TooManyValues { max });
                }
            }
            (Target::Data(..), Entry::Scalar(value)) => {
                if !secret_path(path) && !value.has_mac() {
                    self.problem(path, DocumentProblemKind::NotAnObject);
                }
                self.other(path, None, &value);
            }
            (Target::Info(name), Entry::Scalar(value)) => self.info(path, name, &value),
            (Target::Live(name), Entry::Scalar(value)) => self.live(path, name, &value),
            (Target::FlashWear, Entry::Scalar(value)) => self.flash_wear(path, &value),
            (_, Entry::Scalar(value)) => self.other(path, None, &value),
            (_, Entry::Fields { fields, dropped }) => {
                for (name, value) in &fields {
                    self.other(path, Some(name), value);
                }
                if dropped > 0 {
                    // Fields past the limit are counted, as a device object's are.
                    self.dropped += dropped;
                    let max = NESTED_FIELDS_MAX;
                    self.problem(path, DocumentProblemKind::TooManyValues { max });
                }
            }
        }
    }

    /// One `/sys/livedata/<name>` value: as device fields, a repeated one keeps the first
    /// value and is reported.
    fn live(&mut self, path: &str, name: &str, value: &Scalar<'_>) {
        self.site.get_or_insert_with(SiteTotals::default);
        let Some(key) = site::key(name) else {
            self.other(path, None, value);
            return;
        };
        let bit = 1u16 << site::KEYS.iter().position(|k| *k == key).unwrap_or(0);
        if self.live_seen & bit != 0 {
            self.problem(path, DocumentProblemKind::RepeatedField { field: key });
            return;
        }
        let site = self.site.get_or_insert_with(SiteTotals::default);
        let expected = match key {
            "time" => Expected::EpochTime,
            "midstate" => Expected::Integer,
            "soc" => Expected::Fraction,
            _ => Expected::Decimal,
        };
        let result = match value {
            // Not read whole: a number cut short would be another number.
            Scalar::Long { .. } => Err(expected),
            _ if value.has_mac() => Err(expected),
            _ => site.set_key(key, value.text().as_deref()),
        };
        match result {
            Ok(()) => self.live_seen |= bit,
            Err(expected) => {
                let found = if value.has_mac() {
                    self.withheld += 1;
                    WITHHELD.to_owned()
                } else {
                    value.describe()
                };
                let kind = DocumentProblemKind::InvalidValue {
                    field: key,
                    expected,
                    found,
                };
                self.problem(path, kind);
            }
        }
    }

    /// `/sys/pvs/flashwear_type_b`: a hex count of tenths of the eMMC's life used.
    fn flash_wear(&mut self, path: &str, value: &Scalar<'_>) {
        if self.flash_wear.is_some() {
            let field = "flashwear_type_b";
            self.problem(path, DocumentProblemKind::RepeatedField { field });
            return;
        }
        let pct = match value {
            Scalar::Null => None,
            Scalar::Text(_) | Scalar::Number(_) if !value.has_mac() => {
                let text = value.text().unwrap_or_default();
                let t = text.trim();
                if t.is_empty() || t.eq_ignore_ascii_case("nan") || t.eq_ignore_ascii_case("n/a") {
                    None
                } else {
                    match flash_wear_percent(t) {
                        Some(pct) => Some(pct),
                        None => {
                            let kind = DocumentProblemKind::InvalidValue {
                                field: "flashwear_type_b",
                                expected: Expected::FlashWear,
                                found: excerpt(t),
                            };
                            self.problem(path, kind);
                            return;
                        }
                    }
                }
            }
            _ => {
                let found = if value.has_mac() {
                    self.withheld += 1;
                    WITHHELD.to_owned()
                } else {
                    value.describe()
                };
                let kind = DocumentProblemKind::InvalidValue {
                    field: "flashwear_type_b",
                    expected: Expected::FlashWear,
                    found,
                };
                self.problem(path, kind);
                return;
            }
        };
        self.flash_wear = Some(pct);
    }

    fn info(&mut self, path: &str, name: &str, value: &Scalar<'_>) {
        let info = self.supervisor.get_or_insert_with(SupervisorInfo::default);
        if let Err((field, expected)) = info.set(name, value, &self.limits) {
            let found = value.describe();
            let kind = DocumentProblemKind::InvalidValue {
                field,
                expected,
                found,
            };
            self.problem(path, kind);
        }
    }

    fn finish(mut self) -> Vars {
        if let Some((text, described)) = self.declared_count.take() {
            let found = self.array_values;
            if text.and_then(|t| t.parse::<usize>().ok()) != Some(found) {
                self.problem(
                    "count",
                    DocumentProblemKind::CountMismatch {
                        declared: described,
                        found,
                    },
                );
            }
        }
        let mut accs = std::mem::take(&mut self.devices);
        accs.sort_by_key(|d| (d.kind, d.shape, d.index));
        let mut serials: HashMap<(VarsDeviceKind, &str), usize> = HashMap::new();
        for d in &accs {
            if let Some(sn) = d.value(SN) {
                *serials.entry((d.kind, sn)).or_default() += 1;
            }
        }
        let shared: Vec<bool> = accs
            .iter()
            .map(|d| {
                d.value(SN)
                    .is_some_and(|sn| serials.get(&(d.kind, sn)).copied().unwrap_or(0) > 1)
            })
            .collect();
        let mut devices = Vec::with_capacity(accs.len());
        let (mut batteries, mut transfer_switches) = (Vec::new(), Vec::new());
        let site = self.site.clone();
        for (acc, shared_serial) in accs.into_iter().zip(shared) {
            let path = acc.path();
            let (built, problems) = build(&acc, site.as_ref());
            for kind in acc.problems.iter().cloned().chain(problems) {
                self.problem(&path, kind);
            }
            let records = match built {
                Built::Records(records) => records,
                Built::Battery(battery) => {
                    batteries.extend(battery);
                    continue;
                }
                Built::TransferSwitch(switch) => {
                    transfer_switches.extend(switch);
                    continue;
                }
            };
            devices.push(VarsDevice {
                kind: acc.kind,
                index: acc.index,
                shape: acc.shape,
                serial: acc.value(SN).map(str::to_owned),
                shared_serial,
                records,
            });
        }
        if let Some(info) = &mut self.supervisor {
            self.withheld += info.withheld;
        }
        let health = (self.supervisor.is_some() || self.flash_wear.is_some()).then(|| {
            let info = self.supervisor.clone().unwrap_or_default();
            SupervisorHealth {
                timestamp: self.site.as_ref().and_then(|s| s.timestamp),
                serial: info.serial,
                model: info.model,
                software_version: info.software_version,
                build: info.build,
                uptime_s: info.uptime_s,
                ram_usage_pct: info.ram_usage_pct,
                cpu_usage_pct: info.cpu_usage_pct,
                flash_usage_pct: info.flash_usage_pct,
                flash_wear_pct: self.flash_wear.flatten(),
                ..SupervisorHealth::default()
            }
        });
        Vars {
            form: self.form.unwrap_or(VarsForm::Object),
            entries: self.entries,
            devices,
            batteries,
            transfer_switches,
            health,
            supervisor: self.supervisor,
            site: self.site,
            other: self.other,
            other_count: self.other_count,
            withheld: self.withheld,
            dropped: self.dropped,
            problems: self.problems,
        }
    }
}

/// What a consumption meter measures: a negative counter or power can only be net; otherwise the
/// document's livedata tells, when the meter's counter is ten times nearer one of `net_en` and
/// `site_load_en` than the other (build 61846, karak2112: the `c` meter's 62,972.67 kWh against
/// `site_load_en` 62,972.78 and `net_en` -713.51 is a load meter; the 61845 dump's 14,116.27
/// against `net_en` 14,116.01 and `site_load_en` 41,983.66 a net one).
fn meter_role(counter: Option<f64>, power: Option<f64>, site: Option<&SiteTotals>) -> MeterRole {
    if MeterRole::from_reading(counter, power) == MeterRole::Net {
        return MeterRole::Net;
    }
    let (Some(counter), Some(site)) = (counter, site) else {
        return MeterRole::Unknown;
    };
    let (Some(net), Some(load)) = (site.net_energy_kwh, site.site_load_energy_kwh) else {
        return MeterRole::Unknown;
    };
    let (to_net, to_load) = ((counter - net).abs(), (counter - load).abs());
    if to_load * 10.0 < to_net {
        MeterRole::Load
    } else if to_net * 10.0 < to_load {
        MeterRole::Net
    } else {
        MeterRole::Unknown
    }
}

/// What one device gave.
enum Built {
    /// An inverter's or a meter's records.
    Records(Vec<RecordBuf>),
    Battery(Option<Battery>),
    TransferSwitch(Option<TransferSwitch>),
}

/// What one device gave, or the problem that stopped it: a record needs the device's serial and
/// time; any other value that could not be read (its problem already noted) costs only its
/// field.
fn build(acc: &DeviceAcc, site: Option<&SiteTotals>) -> (Built, Vec<DocumentProblemKind>) {
    let nothing = || match acc.kind {
        VarsDeviceKind::Battery => Built::Battery(None),
        VarsDeviceKind::TransferSwitch => Built::TransferSwitch(None),
        VarsDeviceKind::Inverter | VarsDeviceKind::Meter => Built::Records(Vec::new()),
    };
    let fields = acc.kind.fields();
    if acc.value(SN).is_none() {
        let field = fields[SN].name;
        return (
            nothing(),
            vec![DocumentProblemKind::MissingSerial { field }],
        );
    }
    let Some(time) = acc.value(TIME) else {
        let field = fields[TIME].name;
        // A time that could not be read was reported as such; "no time" would say it was absent.
        let unreadable = acc.problems.iter().any(
            |p| matches!(p, DocumentProblemKind::InvalidValue { field: f, .. } if *f == field),
        );
        let problems = if unreadable {
            Vec::new()
        } else {
            vec![DocumentProblemKind::MissingTime { field }]
        };
        return (nothing(), problems);
    };
    let Some(timestamp) = DateTime::parse_from_rfc3339(time)
        .ok()
        .map(|t| t.with_timezone(&Utc))
        // Times a collector line could carry, as every record's.
        .filter(|t| parse_timestamp(&t.format("%Y%m%d%H%M%S").to_string()) == Some(*t))
    else {
        let kind = DocumentProblemKind::InvalidValue {
            field: fields[TIME].name,
            expected: Expected::Rfc3339,
            found: excerpt(time),
        };
        return (nothing(), vec![kind]);
    };
    // A field's typed value by its record name: texts as read, decimals (checked when read),
    // fractions as percentages.
    let value = |name: &'static str| -> Option<FieldValue<'_>> {
        if name == "timestamp" {
            return Some(FieldValue::Time(Some(timestamp)));
        }
        let slot = fields.iter().position(|f| f.record == name)?;
        let text = acc.value(slot);
        let field = fields[slot];
        Some(if field.fraction {
            let read = decimal(text, 0, name).ok().flatten();
            FieldValue::Decimal(read.and_then(percent_from_fraction))
        } else if field.numeric {
            FieldValue::Decimal(decimal(text, 0, name).ok().flatten())
        } else {
            FieldValue::Text(text)
        })
    };
    let record_types: &[u16] = match acc.kind {
        VarsDeviceKind::Battery => {
            let battery = Battery::from_fields(Source::Vars, value);
            return (Built::Battery(battery), Vec::new());
        }
        VarsDeviceKind::TransferSwitch => {
            let switch = TransferSwitch::from_fields(Source::Vars, value);
            return (Built::TransferSwitch(switch), Vec::new());
        }
        VarsDeviceKind::Inverter => &[130],
        VarsDeviceKind::Meter if METER_141.into_iter().any(|i| acc.value(i).is_some()) => {
            &[140, 141]
        }
        VarsDeviceKind::Meter => &[140],
    };
    let records = record_types
        .iter()
        .filter_map(|&record_type| {
            let record = Record::from_fields(record_type, Source::Vars, |name| {
                match name {
                    "timestamp" => return Some(FieldValue::Time(Some(timestamp))),
                    "meter_role" => {
                        let number = |record: &str| {
                            let slot = fields.iter().position(|f| f.record == record)?;
                            decimal(acc.value(slot), 0, name).ok().flatten()
                        };
                        let serial = acc.value(SN).unwrap_or_default();
                        let role = if MeterKind::from_serial(serial) == MeterKind::Consumption {
                            meter_role(
                                number("lifetime_net_energy_kwh"),
                                number("real_power_kw"),
                                site,
                            )
                        } else {
                            MeterRole::Unknown
                        };
                        return Some(FieldValue::Text(Some(role.as_str())));
                    }
                    "lifetime_net_energy_resolution_kwh" => {
                        let net = fields
                            .iter()
                            .position(|f| f.record == "lifetime_net_energy_kwh")?;
                        let text = acc.value(net);
                        return Some(FieldValue::Decimal(text.and_then(|t| resolution(Some(t)))));
                    }
                    _ => {}
                }
                let slot = fields.iter().position(|f| f.record == name)?;
                let text = acc.value(slot);
                Some(if fields[slot].numeric {
                    // Checked when it was read.
                    FieldValue::Decimal(decimal(text, 0, name).ok().flatten())
                } else {
                    FieldValue::Text(text)
                })
            });
            record.as_ref().map(RecordBuf::from)
        })
        .collect();
    (Built::Records(records), Vec::new())
}

impl<'de> DeserializeSeed<'de> for &mut Builder {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for &mut Builder {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a /vars object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            match key.as_ref() {
                "values" => {
                    self.form = Some(VarsForm::Array);
                    map.next_value_seed(Values {
                        builder: &mut *self,
                    })?;
                }
                "count" => {
                    let raw = map.next_value::<&'de RawValue>()?;
                    let count = Scalar::from_raw(raw, self.limits.max_raw_value_bytes);
                    let described = if count.has_mac() {
                        self.withheld += 1;
                        WITHHELD.to_owned()
                    } else {
                        count.describe()
                    };
                    let text = count.text().map(|t| t.into_owned());
                    self.declared_count = Some((text, described));
                }
                path => {
                    self.form.get_or_insert(VarsForm::Object);
                    let raw = map.next_value::<&'de RawValue>()?;
                    let entry = Entry::from_raw(raw, self.limits.max_raw_value_bytes);
                    self.entry(path, entry);
                }
            }
        }
        Ok(())
    }
}

/// The array form's `values`.
struct Values<'b> {
    builder: &'b mut Builder,
}

impl<'de> DeserializeSeed<'de> for Values<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Values<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of {\"name\", \"value\"} objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(raw) = seq.next_element::<&'de RawValue>()? {
            let entry = self.builder.array_values;
            self.builder.array_values += 1;
            // One entry that is not a {"name", "value"} object costs that entry only.
            let kind = match serde_json::from_str::<NamedValue<'de>>(raw.get()) {
                Ok(NamedValue {
                    name: Some(name),
                    value,
                }) => {
                    let max = self.builder.limits.max_raw_value_bytes;
                    let value = match value {
                        Some(raw) => Entry::from_raw(raw, max),
                        None => Entry::Scalar(Scalar::Null),
                    };
                    self.builder.entry(&name, value);
                    continue;
                }
                Ok(NamedValue { name: None, .. }) => {
                    DocumentProblemKind::MissingKey { key: "name" }
                }
                Err(_) => DocumentProblemKind::NotAnObject,
            };
            self.builder.entries += 1;
            self.builder.problem(&format!("values[{entry}]"), kind);
        }
        Ok(())
    }
}

/// `{"name": path, "value": value}`; other keys are ignored.
struct NamedValue<'de> {
    name: Option<Cow<'de, str>>,
    value: Option<&'de RawValue>,
}

impl<'de> de::Deserialize<'de> for NamedValue<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NamedVisitor;
        impl<'de> Visitor<'de> for NamedVisitor {
            type Value = NamedValue<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a {\"name\", \"value\"} object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut item = NamedValue {
                    name: None,
                    value: None,
                };
                while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                    match key.as_ref() {
                        "name" => match map.next_value::<&'de RawValue>()? {
                            raw if raw.get().starts_with('"') => {
                                item.name = Some(map_key(raw)?);
                            }
                            _ => item.name = None,
                        },
                        "value" => item.value = Some(map.next_value::<&'de RawValue>()?),
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(item)
            }
        }
        deserializer.deserialize_map(NamedVisitor)
    }
}

/// A JSON string as written, read as a key (borrowed when it has no escapes).
fn map_key<'de, E: de::Error>(raw: &'de RawValue) -> Result<Cow<'de, str>, E> {
    serde_json::from_str::<Key<'de>>(raw.get())
        .map(|Key(k)| k)
        .map_err(E::custom)
}

/// What a problem says in place of a value that holds a MAC address.
const WITHHELD: &str = "a MAC address (withheld)";

/// The build number that ends a software version: `2025.09.04.61845`, `2025.06, Build 61839`.
fn build_number(version: &str) -> Option<u64> {
    let digits: String = version
        .trim()
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect();
    (digits.len() >= 4)
        .then(|| digits.chars().rev().collect::<String>().parse().ok())
        .flatten()
}

impl SupervisorInfo {
    /// Sets one value by its `/sys/info` name or its supervisor-info key; a value of the wrong
    /// form is an `Err` with the key and what it should hold.
    fn set(
        &mut self,
        name: &str,
        value: &Scalar<'_>,
        limits: &DocumentLimits,
    ) -> Result<(), (&'static str, Expected)> {
        if secret_path(name) || value.has_mac() {
            self.withheld += 1;
            return Ok(());
        }
        let text = value.text().map(|t| t.into_owned());
        // A number over the length limit was not read whole: not a number.
        let long = matches!(value, Scalar::Long { .. });
        let number = |key, text: &Option<String>| match text.as_deref() {
            None => Ok(None),
            Some(_) if long => Err((key, Expected::Decimal)),
            Some(t) => decimal(Some(t), 0, "").map_err(|_| (key, Expected::Decimal)),
        };
        let short = |text: Option<String>| text.map(|t| bounded(&t, NAME_MAX).0);
        match name {
            "serialnum" | "SERIAL" => self.serial = short(text),
            "model" | "MODEL" => self.model = short(text),
            "hwrev" | "HWVER" => self.hardware_version = short(text),
            "fwrev" | "FWVER" => self.firmware_version = short(text),
            "sw_rev" | "SWVER" => {
                if self.build.is_none() {
                    self.build = text.as_deref().and_then(build_number);
                }
                self.software_version = short(text);
            }
            "BUILD" => {
                self.build = match text.as_deref() {
                    None => None,
                    Some(t) => Some(
                        t.parse()
                            .ok()
                            .filter(|_| !long)
                            .ok_or(("BUILD", Expected::UnsignedInteger))?,
                    ),
                }
            }
            "boardtype" => self.board_type = short(text),
            "sys_type" => self.system_type = short(text),
            "finance_type" => self.finance_type = short(text),
            "active_interface" => self.active_interface = short(text),
            "uptime" => self.uptime_s = number("uptime", &text)?,
            "ram_usage" => self.ram_usage_pct = number("ram_usage", &text)?,
            "flash_usage" => self.flash_usage_pct = number("flash_usage", &text)?,
            "cpu_usage" => self.cpu_usage_pct = number("cpu_usage", &text)?,
            _ => {
                if self.other.len() < limits.max_other_kept {
                    let (value, truncated) = raw_value(value, limits.max_raw_value_bytes);
                    self.other.push(RawVar {
                        path: bounded(name, NAME_MAX).0,
                        value,
                        truncated,
                    });
                }
            }
        }
        Ok(())
    }
}

/// Decodes the supervisor-info document (`/cgi-bin/dl_cgi/supervisor/info`, no login):
/// `{"result": "succeed", "supervisor": {"SERIAL", "MODEL", "SWVER", "FWVER", "BUILD", ...}}`.
///
/// Keys other than those of [`SupervisorInfo`] are kept raw in [`SupervisorInfo::other`].
///
/// ```
/// use sunpower_proto::parse_supervisor_info;
/// let doc = r#"{"result": "succeed", "supervisor": {"MODEL": "PVS6",
///     "SERIAL": "ZT01234567890ABCDEF", "SWVER": "2021.9, Build 41001", "BUILD": 41001,
///     "SCVER": 16504}}"#;
/// let info = parse_supervisor_info(doc).unwrap();
/// assert_eq!(info.model.as_deref(), Some("PVS6"));
/// assert_eq!(info.build, Some(41001));
/// assert_eq!(info.other[0].path, "SCVER");
/// ```
pub fn parse_supervisor_info(doc: impl AsRef<[u8]>) -> Result<SupervisorInfo, DocumentProblem> {
    let bytes = without_bom(doc.as_ref());
    document_or_error(bytes, &DocumentLimits::default())?;
    let mut state = InfoDoc::default();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    (&mut state)
        .deserialize(&mut de)
        .and_then(|()| de.end())
        .map_err(|e| json_error(&e))?;
    if let Some(result) = state.failed {
        return Err(DocumentProblem::document(DocumentProblemKind::Failed {
            result,
        }));
    }
    let missing = DocumentProblemKind::MissingKey { key: "supervisor" };
    let mut info = state
        .info
        .ok_or_else(|| DocumentProblem::document(missing))?;
    if let Some((key, expected, found)) = state.invalid {
        // A bad value is kept raw rather than failing the whole document.
        info.other.push(RawVar {
            path: key,
            value: format!("invalid: expected {expected}, found {found:?}"),
            truncated: false,
        });
    }
    Ok(info)
}

#[derive(Default)]
struct InfoDoc {
    info: Option<SupervisorInfo>,
    failed: Option<String>,
    invalid: Option<(String, Expected, String)>,
}

impl<'de> DeserializeSeed<'de> for &mut InfoDoc {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for &mut InfoDoc {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a supervisor-info object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            match key.as_ref() {
                "result" => {
                    let raw = map.next_value::<&'de RawValue>()?;
                    let result = Scalar::from_raw(raw, NAME_MAX);
                    let ok = matches!(&result, Scalar::Text(t)
                        if ["succeed", "success"].iter().any(|s| t.trim().eq_ignore_ascii_case(s)));
                    if !ok && result != Scalar::Null {
                        self.failed = Some(bounded(&result.describe(), NAME_MAX).0);
                    }
                }
                "supervisor" => {
                    if self.info.is_some() {
                        return Err(de::Error::custom("duplicate key \"supervisor\""));
                    }
                    let raw = map.next_value::<&'de RawValue>()?;
                    let max = DocumentLimits::default().max_raw_value_bytes;
                    let Entry::Fields { fields, .. } = Entry::from_raw(raw, max) else {
                        continue;
                    };
                    let mut info = SupervisorInfo::default();
                    for (name, value) in &fields {
                        if let Err((_, expected)) =
                            info.set(name, value, &DocumentLimits::default())
                        {
                            self.invalid.get_or_insert((
                                bounded(name, NAME_MAX).0,
                                expected,
                                value.describe(),
                            ));
                        }
                    }
                    self.info = Some(info);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// `{"record_type": "supervisor_info", "serial": ..., ..., "other": [{"path", "value",
/// "truncated"}], "withheld": n}`: a kind no collector line has says its name where a record
/// says its number.
#[cfg(feature = "serde")]
impl serde::Serialize for SupervisorInfo {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("record_type", "supervisor_info")?;
        map.serialize_entry("serial", &self.serial)?;
        map.serialize_entry("model", &self.model)?;
        map.serialize_entry("hardware_version", &self.hardware_version)?;
        map.serialize_entry("firmware_version", &self.firmware_version)?;
        map.serialize_entry("software_version", &self.software_version)?;
        map.serialize_entry("build", &self.build)?;
        map.serialize_entry("board_type", &self.board_type)?;
        map.serialize_entry("system_type", &self.system_type)?;
        map.serialize_entry("finance_type", &self.finance_type)?;
        map.serialize_entry("active_interface", &self.active_interface)?;
        map.serialize_entry("uptime_s", &self.uptime_s)?;
        map.serialize_entry("ram_usage_pct", &self.ram_usage_pct)?;
        map.serialize_entry("flash_usage_pct", &self.flash_usage_pct)?;
        map.serialize_entry("cpu_usage_pct", &self.cpu_usage_pct)?;
        map.serialize_entry("other", &self.other)?;
        map.serialize_entry("withheld", &self.withheld)?;
        map.end()
    }
}

/// `{"path": ..., "value": ..., "truncated": bool}`.
#[cfg(feature = "serde")]
impl serde::Serialize for RawVar {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("path", &self.path)?;
        map.serialize_entry("value", &self.value)?;
        map.serialize_entry("truncated", &self.truncated)?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_their_targets() {
        assert!(matches!(
            target("/sys/devices/inverter/12/ltea3phsumKwh"),
            Target::Field(VarsDeviceKind::Inverter, 12, "ltea3phsumKwh")
        ));
        assert!(matches!(
            target("/sys/devices/21/inverter/data"),
            Target::Data(VarsDeviceKind::Inverter, 21)
        ));
        assert!(matches!(
            target("/sys/devices/12/meter/data"),
            Target::Data(VarsDeviceKind::Meter, 12)
        ));
        assert!(matches!(target("/sys/info/sw_rev"), Target::Info("sw_rev")));
        assert!(matches!(target("/sys/livedata/pv_p"), Target::Live("pv_p")));
        for other in [
            "/sys/devices/ess/x/socVal",
            "/sys/devices/battery/0/socVal",
            "/sys/pvs/usb_erase_count",
            "/sys/devices/inverter/x/sn",
            "/sys/devices/inverter/1",
            "/sys/devices/inverter/-1/sn",
            "/net/sta0/state",
            "",
        ] {
            assert!(matches!(target(other), Target::Other), "{other}");
        }
    }

    #[test]
    fn build_numbers_end_the_version() {
        assert_eq!(build_number("2025.09.04.61845"), Some(61845));
        assert_eq!(build_number("2025.06, Build 61839"), Some(61839));
        assert_eq!(build_number("6.02"), None);
    }

    #[test]
    fn secret_names_are_recognised() {
        for name in ["ssid", "wpa_key", "lmac", "active_interface_mac", "WPA_PSK"] {
            assert!(secret_name(name), "{name}");
        }
        for name in ["sw_rev", "serialnum", "model", "active_interface", "uptime"] {
            assert!(!secret_name(name), "{name}");
        }
    }
}
