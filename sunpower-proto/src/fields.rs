//! Each record kind's typed fields, described once: name (the JSON key, the Rust field, the
//! Python attribute), type, unit and where a collector line carries it. The Arrow schema comes
//! from these tables; the field visitor ([`Record::visit_fields`]) and the builder from named
//! values ([`Record::from_fields`]) are checked against them by tests.

use chrono::{DateTime, Utc};

use crate::record::{
    FieldValue, Header, Inverter, InverterForm, InverterStatus, Meter, MeterKind, MeterLegs,
    MeterRole, Record, Source, SupervisorIdentity, SupervisorStatus, Trailer, Unknown,
};

/// The type of a field's values, in every output shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldType {
    /// An instant, RFC 3339 UTC (`2026-06-01T17:00:00Z`); [`FieldValue::Time`]; Arrow
    /// `Timestamp(µs, UTC)`.
    Time,
    /// An instant in the output's zone, RFC 3339 with the offset at the time
    /// (`2026-06-01T10:00:00-07:00`); [`FieldValue::LocalTime`]; Arrow `Timestamp(µs, zone)`.
    /// Interval rows only, present when a zone is given.
    LocalTime,
    /// Text ([`FieldValue::Text`]); Arrow `Utf8`.
    Text,
    /// A decimal quantity ([`FieldValue::Decimal`]); Arrow `Float64`.
    Decimal,
    /// A signed integer ([`FieldValue::Integer`]); Arrow `Int64`.
    Integer,
    /// A count ([`FieldValue::Unsigned`]); Arrow `UInt64` (`UInt32` in interval rows).
    Unsigned,
    /// Yes or no ([`FieldValue::Bool`]); Arrow `Boolean`.
    Bool,
    /// Flag names ([`FieldValue::Flags`]): `|`-joined in CSV, a list in JSON and Arrow
    /// (`List(Utf8)`).
    Flags,
}

/// One field of a record kind, or one column of an interval row or a period total: the name
/// every output uses, its type, unit and meaning, and where a collector line carries it.
///
/// ```
/// use sunpower_proto::{FieldType, Record};
/// let energy = Record::fields(130).iter().find(|f| f.name == "lifetime_energy_kwh").unwrap();
/// assert_eq!((energy.field_type, energy.unit, energy.collector_field), (FieldType::Decimal, Some("kWh"), Some(5)));
/// assert!(energy.nullable && energy.doc.starts_with("Lifetime AC energy"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct FieldSpec {
    /// The name: JSON key, Rust field, Python attribute, Arrow column, CSV header.
    pub name: &'static str,
    /// The type of its values.
    pub field_type: FieldType,
    /// Whether a value may be missing (JSON `null`, Python `None`, an empty CSV cell).
    pub nullable: bool,
    /// Its unit, for quantities that have one.
    pub unit: Option<&'static str>,
    /// What it holds, in a sentence.
    pub doc: &'static str,
    /// The field of a collector line that carries it (in the 130's full form), if any.
    pub collector_field: Option<u8>,
    /// Most decimals a CSV cell of a decimal has (trailing zeros dropped).
    pub(crate) decimals: u8,
}

impl FieldSpec {
    /// A field or column with no collector field, written with three decimals in CSV.
    pub(crate) const fn new(
        name: &'static str,
        field_type: FieldType,
        nullable: bool,
        unit: Option<&'static str>,
        doc: &'static str,
    ) -> FieldSpec {
        FieldSpec {
            name,
            field_type,
            nullable,
            unit,
            doc,
            collector_field: None,
            decimals: 3,
        }
    }
}

/// A record field that may be missing.
const fn f(
    name: &'static str,
    field_type: FieldType,
    unit: Option<&'static str>,
    collector_field: Option<u8>,
    doc: &'static str,
) -> FieldSpec {
    FieldSpec {
        collector_field,
        ..FieldSpec::new(name, field_type, true, unit, doc)
    }
}

/// A record field every record of its kind has.
const fn req(
    name: &'static str,
    field_type: FieldType,
    unit: Option<&'static str>,
    collector_field: Option<u8>,
    doc: &'static str,
) -> FieldSpec {
    FieldSpec {
        nullable: false,
        ..f(name, field_type, unit, collector_field, doc)
    }
}

use FieldType::{Decimal as D, Integer as I, Text as T, Time, Unsigned as U};

const KWH: Option<&str> = Some("kWh");
const KW: Option<&str> = Some("kW");
const V: Option<&str> = Some("V");
const A: Option<&str> = Some("A");
const HZ: Option<&str> = Some("Hz");

// The head every data record has.
const TIMESTAMP: FieldSpec = req(
    "timestamp",
    Time,
    None,
    Some(1),
    "When the reading was taken (UTC).",
);
const SERIAL: FieldSpec = req("serial", T, None, Some(2), "The device's serial.");
const MODEL: FieldSpec = f("model", T, None, Some(3), "The device's model.");

const HEADER: &[FieldSpec] = &[
    f(
        "supervisor_serial",
        T,
        None,
        Some(3),
        "The supervisor's serial.",
    ),
    f(
        "sent_at",
        Time,
        None,
        Some(4),
        "When the supervisor sent the post.",
    ),
    f("tag", T, None, Some(1), "Constant `SPMS`."),
    f(
        "version",
        T,
        None,
        Some(2),
        "Constant `10` (probably the protocol version).",
    ),
];

const TRAILER: &[FieldSpec] = &[f(
    "token",
    T,
    None,
    Some(1),
    "An opaque 20-character token.",
)];

const SUPERVISOR_STATUS: &[FieldSpec] = &[
    TIMESTAMP,
    req("serial", T, None, Some(2), "The supervisor's serial."),
    f(
        "error_count",
        U,
        None,
        Some(3),
        "Errors counted (`dl_err_count`).",
    ),
    f(
        "comm_errors",
        U,
        None,
        Some(4),
        "Communication errors counted (`dl_comm_err`).",
    ),
    f(
        "skipped_scans",
        U,
        None,
        Some(5),
        "Device scans skipped (`dl_skipped_scans`).",
    ),
    f(
        "scan_time_s",
        D,
        Some("s"),
        Some(6),
        "How long a scan of the devices took (`dl_scan_time`).",
    ),
    f(
        "untransmitted",
        U,
        None,
        Some(7),
        "Data points not yet sent, the backlog (`dl_untransmitted`).",
    ),
    f(
        "uptime_s",
        U,
        Some("s"),
        Some(8),
        "Time since the supervisor started (`dl_uptime`).",
    ),
    f("cpu_load", D, None, Some(9), "CPU load (`dl_cpu_load`)."),
    f(
        "memory_used_kb",
        U,
        Some("kB"),
        Some(10),
        "Memory in use (`dl_mem_used`).",
    ),
    f(
        "flash_available_kb",
        U,
        Some("kB"),
        Some(11),
        "Flash storage free (`dl_flash_avail`).",
    ),
];

const SUPERVISOR_IDENTITY: &[FieldSpec] = &[
    TIMESTAMP,
    SERIAL,
    f(
        "model",
        T,
        None,
        Some(3),
        "The device's model (`SMSPVS20R1`).",
    ),
    f("version_a", T, None, Some(4), "A version string."),
    f(
        "version_b",
        T,
        None,
        Some(5),
        "A second version string (probably the supervisor software).",
    ),
    f(
        "description",
        T,
        None,
        Some(6),
        "A description (`PV Supervisor`).",
    ),
    f("family", T, None, Some(7), "The product family (`SMS2.0`)."),
];

const INVERTER: &[FieldSpec] = &[
    req(
        "timestamp",
        Time,
        None,
        Some(1),
        "Start of the interval (UTC).",
    ),
    SERIAL,
    f(
        "model",
        T,
        None,
        Some(3),
        "The device's model (`AC_Module_Type_C`, `FRONIUS IG ...`).",
    ),
    f(
        "aux",
        I,
        None,
        Some(4),
        "Unknown; empty on micro-inverters, a small integer on Fronius.",
    ),
    f(
        "lifetime_energy_kwh",
        D,
        KWH,
        Some(5),
        "Lifetime AC energy produced (`ltea_3phsum_kwh`).",
    ),
    f("ac_power_kw", D, KW, Some(6), "AC power (`p_3phsum_kw`)."),
    f(
        "ac_voltage_v",
        D,
        V,
        Some(7),
        "AC voltage (`vln_3phavg_v`).",
    ),
    f("ac_current_a", D, A, Some(8), "AC current (`i_3phsum_a`)."),
    f(
        "dc_power_kw",
        D,
        KW,
        Some(9),
        "DC power from the panel (`p_mpptsum_kw`).",
    ),
    f("dc_voltage_v", D, V, Some(10), "DC voltage (`v_mppt1_v`)."),
    f("dc_current_a", D, A, Some(11), "DC current (`i_mppt1_a`)."),
    f(
        "heatsink_temp_c",
        D,
        Some("°C"),
        Some(12),
        "Heatsink temperature (`t_htsnk_degc`).",
    ),
    f(
        "frequency_hz",
        D,
        HZ,
        Some(13),
        "Grid frequency (`freq_hz`).",
    ),
    f(
        "status",
        I,
        None,
        Some(14),
        "Status (`stat_ind`), 0 = normal.",
    ),
];

const INVERTER_STATUS: &[FieldSpec] = &[
    TIMESTAMP,
    SERIAL,
    MODEL,
    f("value_1", I, None, Some(4), "A small integer."),
    f("value_2", I, None, Some(5), "An integer (1511)."),
    f(
        "value_3",
        I,
        None,
        Some(6),
        "An integer (502, 546; perhaps W).",
    ),
];

const METER: &[FieldSpec] = &[
    TIMESTAMP,
    SERIAL,
    MODEL,
    req(
        "meter_kind",
        T,
        None,
        None,
        "Production or consumption meter, from the serial's last letter.",
    ),
    f(
        "ct_scale",
        D,
        None,
        Some(4),
        "Current transformer scale factor (`ct_scl_fctr`).",
    ),
    f(
        "lifetime_net_energy_kwh",
        D,
        KWH,
        Some(5),
        "Lifetime net energy (`net_ltea_3phsum_kwh`).",
    ),
    f(
        "real_power_kw",
        D,
        KW,
        Some(6),
        "Real power (`p_3phsum_kw`); on a net consumption meter, positive is import.",
    ),
    f(
        "reactive_power_kvar",
        D,
        Some("kvar"),
        Some(7),
        "Reactive power (`q_3phsum_kvar`).",
    ),
    f(
        "apparent_power_kva",
        D,
        Some("kVA"),
        Some(8),
        "Apparent power (`s_3phsum_kva`).",
    ),
    f(
        "power_factor",
        D,
        None,
        Some(9),
        "Power factor (`tot_pf_rto`).",
    ),
    f(
        "frequency_hz",
        D,
        HZ,
        Some(10),
        "Grid frequency (`freq_hz`).",
    ),
    f("status", I, None, Some(11), "Unknown, always 0 so far."),
    f(
        "import_energy_kwh",
        D,
        KWH,
        None,
        "Lifetime energy imported from the grid (JSON sources only).",
    ),
    f(
        "export_energy_kwh",
        D,
        KWH,
        None,
        "Lifetime energy exported to the grid (JSON sources only).",
    ),
    f(
        "lifetime_net_energy_resolution_kwh",
        D,
        KWH,
        None,
        "How finely a JSON source wrote the net energy counter (1 for whole kWh).",
    ),
    f(
        "line_voltage_v",
        D,
        V,
        None,
        "Leg 1 to leg 2 voltage (`v12V`; the varserver only).",
    ),
    f(
        "meter_role",
        T,
        None,
        None,
        "What a consumption meter measures: `net`, `load` or `unknown` (JSON sources only).",
    ),
];

const METER_LEGS: &[FieldSpec] = &[
    TIMESTAMP,
    SERIAL,
    MODEL,
    f("flag", I, None, Some(4), "Unknown, always 1 so far."),
    f("leg1_current_a", D, A, Some(5), "Leg 1 current (`i1_a`)."),
    f("leg2_current_a", D, A, Some(6), "Leg 2 current (`i2_a`)."),
    f(
        "leg1_voltage_v",
        D,
        V,
        Some(7),
        "Leg 1 voltage to neutral (`v1n_v`).",
    ),
    f(
        "leg2_voltage_v",
        D,
        V,
        Some(8),
        "Leg 2 voltage to neutral (`v2n_v`).",
    ),
    f("leg1_power_kw", D, KW, Some(9), "Leg 1 power (`p1_kw`)."),
    f("leg2_power_kw", D, KW, Some(10), "Leg 2 power (`p2_kw`)."),
    f(
        "unknown_11",
        D,
        None,
        Some(11),
        "Unknown (perhaps lifetime exported energy, kWh).",
    ),
];

const PCT: Option<&str> = Some("%");
const DEG_C: Option<&str> = Some("°C");

/// A field of a JSON-only kind (no collector field).
const fn j(
    name: &'static str,
    field_type: FieldType,
    unit: Option<&'static str>,
    doc: &'static str,
) -> FieldSpec {
    f(name, field_type, unit, None, doc)
}

/// [`crate::Battery`]: `/sys/devices/ess/<i>/` of the varserver, a DeviceList's batteries.
pub(crate) const BATTERY: &[FieldSpec] = &[
    req(
        "timestamp",
        Time,
        None,
        None,
        "When the values were measured, UTC (`msmtEps`).",
    ),
    req("serial", T, None, None, "The battery's serial (`sn`)."),
    j("model", T, None, "The battery's model (`prodMdlNm`)."),
    j(
        "operating_mode",
        T,
        None,
        "The operating mode, as sent (`opMode`).",
    ),
    j(
        "power_kw",
        D,
        KW,
        "AC power (`p3phsumKw`); positive when discharging, as the site totals' `ess_p`.",
    ),
    j(
        "discharge_energy_kwh",
        D,
        KWH,
        "Lifetime energy discharged, the positive-power direction (`posLtea3phsumKwh`).",
    ),
    j(
        "charge_energy_kwh",
        D,
        KWH,
        "Lifetime energy charged, the negative-power direction (`negLtea3phsumKwh`).",
    ),
    j("leg1_voltage_v", D, V, "Leg 1 to neutral voltage (`v1nV`)."),
    j("leg2_voltage_v", D, V, "Leg 2 to neutral voltage (`v2nV`)."),
    j(
        "soc_pct",
        D,
        PCT,
        "State of charge, 0 to 100 (`socVal`, a fraction on the wire, times 100).",
    ),
    j(
        "customer_soc_pct",
        D,
        PCT,
        "State of charge shown to the customer, 0 to 100 (`customerSocVal` times 100).",
    ),
    j(
        "soh_pct",
        D,
        PCT,
        "State of health, 0 to 100 (`sohVal`, a fraction on the wire, times 100).",
    ),
    j(
        "inverter_temp_c",
        D,
        DEG_C,
        "The battery inverter's temperature (`tInvtrDegc`).",
    ),
    j(
        "battery_voltage_v",
        D,
        V,
        "Battery (DC) voltage (`vBattV`).",
    ),
    j(
        "charge_limit_kw",
        D,
        KW,
        "Most charge power allowed (`chrgLimitPmaxKw`).",
    ),
    j(
        "discharge_limit_kw",
        D,
        KW,
        "Most discharge power allowed (`dischrgLimPmaxKw`).",
    ),
    j(
        "max_cell_temp_c",
        D,
        DEG_C,
        "Warmest cell's temperature (`maxTBattCellDegc`).",
    ),
    j(
        "min_cell_temp_c",
        D,
        DEG_C,
        "Coolest cell's temperature (`minTBattCellDegc`).",
    ),
    j(
        "max_cell_voltage_v",
        D,
        V,
        "Highest cell voltage (`maxVBattCellV`).",
    ),
    j(
        "min_cell_voltage_v",
        D,
        V,
        "Lowest cell voltage (`minVBattCellV`).",
    ),
];

/// [`crate::TransferSwitch`]: `/sys/devices/transfer_switch/<i>/`.
pub(crate) const TRANSFER_SWITCH: &[FieldSpec] = &[
    req(
        "timestamp",
        Time,
        None,
        None,
        "When the values were measured, UTC (`msmtEps`).",
    ),
    req("serial", T, None, None, "The switch's serial (`sn`)."),
    j("model", T, None, "The switch's model (`prodMdlNm`)."),
    j(
        "mid_state",
        T,
        None,
        "The microgrid interconnect device's state as sent (`midStEnum`: `MID_STATE_CLOSED` on grid, `MID_STATE_OPEN` islanded).",
    ),
    j(
        "pv_disconnect_state",
        T,
        None,
        "The PV disconnect relay's state as sent (`pvd1StEnum`: `PVD_STATE_CLOSED`, `PVD_STATE_OPEN`).",
    ),
    j("temperature_c", D, DEG_C, "Temperature (`tDegc`)."),
    j(
        "grid_leg1_voltage_v",
        D,
        V,
        "Grid side, leg 1 to neutral voltage (`v1nGridV`).",
    ),
    j(
        "grid_leg2_voltage_v",
        D,
        V,
        "Grid side, leg 2 to neutral voltage (`v2nGridV`).",
    ),
    j(
        "leg1_voltage_v",
        D,
        V,
        "Home side, leg 1 to neutral voltage (`v1nV`).",
    ),
    j(
        "leg2_voltage_v",
        D,
        V,
        "Home side, leg 2 to neutral voltage (`v2nV`).",
    ),
    j(
        "supply_voltage_v",
        D,
        V,
        "The switch's supply voltage (`vSpplyV`).",
    ),
];

/// [`crate::SupervisorHealth`]: `/sys/info/*` and `/sys/pvs/flashwear_type_b`, or a 120.
pub(crate) const SUPERVISOR_HEALTH: &[FieldSpec] = &[
    j(
        "timestamp",
        Time,
        None,
        "When it was read: a 120's time, the `/vars` site totals' `time`.",
    ),
    j("serial", T, None, "The supervisor's serial."),
    j("model", T, None, "The supervisor's model (`PVS6`)."),
    j(
        "software_version",
        T,
        None,
        "The software version (`sw_rev`).",
    ),
    j(
        "build",
        U,
        None,
        "The build number (the number ending the software version).",
    ),
    j(
        "uptime_s",
        D,
        Some("s"),
        "Time since the supervisor started (`uptime`, a 120's `dl_uptime`).",
    ),
    j("ram_usage_pct", D, PCT, "Memory in use (`ram_usage`)."),
    j(
        "memory_used_kb",
        U,
        Some("kB"),
        "Memory in use (a 120's `dl_mem_used`).",
    ),
    j("cpu_usage_pct", D, PCT, "CPU in use (`cpu_usage`)."),
    j("cpu_load", D, None, "CPU load (a 120's `dl_cpu_load`)."),
    j(
        "flash_usage_pct",
        D,
        PCT,
        "Flash storage in use (`flash_usage`).",
    ),
    j(
        "flash_available_kb",
        U,
        Some("kB"),
        "Flash storage free (a 120's `dl_flash_avail`).",
    ),
    j(
        "flash_wear_pct",
        D,
        PCT,
        "The eMMC's estimated life used, in 10 % steps, 100 past its rated life (`/sys/pvs/flashwear_type_b`, hex tenths).",
    ),
];

const UNKNOWN: &[FieldSpec] = &[
    f(
        "timestamp",
        Time,
        None,
        Some(1),
        "Field 1, when it is a valid timestamp.",
    ),
    f(
        "serial",
        T,
        None,
        Some(2),
        "Field 2, when field 1 is a valid timestamp and field 2 is not empty.",
    ),
];

impl<'a> Record<'a> {
    /// The typed fields of records of `record_type`, in output order (every unknown type has
    /// the same: `timestamp` and `serial`, when field 1 is a timestamp). A meter's
    /// `import_energy_kwh`, `export_energy_kwh` and `lifetime_net_energy_resolution_kwh` come
    /// only from the JSON sources.
    ///
    /// ```
    /// use sunpower_proto::Record;
    /// let names: Vec<_> = Record::fields(102).iter().map(|f| f.name).collect();
    /// assert_eq!(names, ["token"]);
    /// assert_eq!(Record::fields(131).len(), 6);
    /// ```
    pub fn fields(record_type: u16) -> &'static [FieldSpec] {
        match record_type {
            100 => HEADER,
            102 => TRAILER,
            120 => SUPERVISOR_STATUS,
            122 => SUPERVISOR_IDENTITY,
            130 => INVERTER,
            131 => INVERTER_STATUS,
            140 => METER,
            141 => METER_LEGS,
            _ => UNKNOWN,
        }
    }

    /// Builds a record of `record_type` from its typed fields by name (`value` answers `None`
    /// for a field not given, and a value of another type counts as not given): what a JSON
    /// source does with the values it read. `None` when a field the record cannot do without
    /// (a data record's `timestamp` and `serial`) is missing. A meter's kind comes from its
    /// serial; a 130 built this way has the full form.
    ///
    /// ```
    /// use sunpower_proto::{FieldValue, Record, Source};
    /// let time = sunpower_proto::parse_timestamp("20250930155000");
    /// let record = Record::from_fields(130, Source::Vars, |name| match name {
    ///     "timestamp" => Some(FieldValue::Time(time)),
    ///     "serial" => Some(FieldValue::Text(Some("E00122"))),
    ///     "lifetime_energy_kwh" => Some(FieldValue::Decimal(Some(1915.25))),
    ///     _ => None,
    /// })
    /// .unwrap();
    /// let Record::Inverter(inverter) = &record else { unreachable!() };
    /// assert_eq!((inverter.serial, inverter.lifetime_energy_kwh, inverter.ac_power_kw), ("E00122", Some(1915.25), None));
    /// assert_eq!(record.raw(), None);
    /// ```
    pub fn from_fields(
        record_type: u16,
        source: Source<'a>,
        value: impl FnMut(&'static str) -> Option<FieldValue<'a>>,
    ) -> Option<Record<'a>> {
        let mut v = Named(value);
        let timestamp = v.time("timestamp");
        let serial = v.text("serial");
        // A data record's time and serial, without which it is no record.
        let mut required = || Some((timestamp?, serial?, v.text("model")));
        Some(match record_type {
            100 => Record::Header(Header {
                source,
                tag: v.text("tag"),
                version: v.text("version"),
                supervisor_serial: v.text("supervisor_serial"),
                sent_at: v.time("sent_at"),
            }),
            102 => Record::Trailer(Trailer {
                source,
                token: v.text("token"),
            }),
            120 => {
                let (timestamp, serial, _) = required()?;
                Record::SupervisorStatus(SupervisorStatus {
                    source,
                    timestamp,
                    serial,
                    error_count: v.unsigned("error_count"),
                    comm_errors: v.unsigned("comm_errors"),
                    skipped_scans: v.unsigned("skipped_scans"),
                    scan_time_s: v.decimal("scan_time_s"),
                    untransmitted: v.unsigned("untransmitted"),
                    uptime_s: v.unsigned("uptime_s"),
                    cpu_load: v.decimal("cpu_load"),
                    memory_used_kb: v.unsigned("memory_used_kb"),
                    flash_available_kb: v.unsigned("flash_available_kb"),
                })
            }
            122 => {
                let (timestamp, serial, model) = required()?;
                Record::SupervisorIdentity(SupervisorIdentity {
                    source,
                    timestamp,
                    serial,
                    model,
                    version_a: v.text("version_a"),
                    version_b: v.text("version_b"),
                    description: v.text("description"),
                    family: v.text("family"),
                })
            }
            130 => {
                let (timestamp, serial, model) = required()?;
                Record::Inverter(Inverter {
                    source,
                    form: InverterForm::Full,
                    timestamp,
                    serial,
                    model,
                    aux: v.integer("aux"),
                    lifetime_energy_kwh: v.decimal("lifetime_energy_kwh"),
                    ac_power_kw: v.decimal("ac_power_kw"),
                    ac_voltage_v: v.decimal("ac_voltage_v"),
                    ac_current_a: v.decimal("ac_current_a"),
                    dc_power_kw: v.decimal("dc_power_kw"),
                    dc_voltage_v: v.decimal("dc_voltage_v"),
                    dc_current_a: v.decimal("dc_current_a"),
                    heatsink_temp_c: v.decimal("heatsink_temp_c"),
                    frequency_hz: v.decimal("frequency_hz"),
                    status: v.integer("status"),
                })
            }
            131 => {
                let (timestamp, serial, model) = required()?;
                Record::InverterStatus(InverterStatus {
                    source,
                    timestamp,
                    serial,
                    model,
                    value_1: v.integer("value_1"),
                    value_2: v.integer("value_2"),
                    value_3: v.integer("value_3"),
                })
            }
            140 => {
                let (timestamp, serial, model) = required()?;
                Record::Meter(Meter {
                    source,
                    timestamp,
                    serial,
                    model,
                    meter_kind: MeterKind::from_serial(serial),
                    role: v
                        .text("meter_role")
                        .and_then(MeterRole::from_name)
                        .unwrap_or_default(),
                    ct_scale: v.decimal("ct_scale"),
                    lifetime_net_energy_kwh: v.decimal("lifetime_net_energy_kwh"),
                    real_power_kw: v.decimal("real_power_kw"),
                    reactive_power_kvar: v.decimal("reactive_power_kvar"),
                    apparent_power_kva: v.decimal("apparent_power_kva"),
                    power_factor: v.decimal("power_factor"),
                    frequency_hz: v.decimal("frequency_hz"),
                    status: v.integer("status"),
                    import_energy_kwh: v.decimal("import_energy_kwh"),
                    export_energy_kwh: v.decimal("export_energy_kwh"),
                    lifetime_net_energy_resolution_kwh: v
                        .decimal("lifetime_net_energy_resolution_kwh"),
                    line_voltage_v: v.decimal("line_voltage_v"),
                })
            }
            141 => {
                let (timestamp, serial, model) = required()?;
                Record::MeterLegs(MeterLegs {
                    source,
                    timestamp,
                    serial,
                    model,
                    flag: v.integer("flag"),
                    leg1_current_a: v.decimal("leg1_current_a"),
                    leg2_current_a: v.decimal("leg2_current_a"),
                    leg1_voltage_v: v.decimal("leg1_voltage_v"),
                    leg2_voltage_v: v.decimal("leg2_voltage_v"),
                    leg1_power_kw: v.decimal("leg1_power_kw"),
                    leg2_power_kw: v.decimal("leg2_power_kw"),
                    unknown_11: v.decimal("unknown_11"),
                })
            }
            other => Record::Unknown(Unknown {
                source,
                record_type: other,
                timestamp,
                serial: timestamp.and(serial),
            }),
        })
    }
}

/// Named values, each read as the type its field has (another type counts as not given).
struct Named<F>(F);

impl<'a, F: FnMut(&'static str) -> Option<FieldValue<'a>>> Named<F> {
    fn time(&mut self, name: &'static str) -> Option<DateTime<Utc>> {
        match (self.0)(name) {
            Some(FieldValue::Time(t)) => t,
            _ => None,
        }
    }

    fn text(&mut self, name: &'static str) -> Option<&'a str> {
        match (self.0)(name) {
            Some(FieldValue::Text(t)) => t,
            _ => None,
        }
    }

    fn decimal(&mut self, name: &'static str) -> Option<f64> {
        match (self.0)(name) {
            Some(FieldValue::Decimal(v)) => v,
            _ => None,
        }
    }

    fn integer(&mut self, name: &'static str) -> Option<i64> {
        match (self.0)(name) {
            Some(FieldValue::Integer(v)) => v,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RawFields;

    /// A line of every kind with every field of its table present.
    const FULL: [&str; 9] = [
        "100\tSPMS\t10\tZT1\t20170107171925",
        "102\ttoken",
        "120\t20170107171500\tZT1\t0\t445\t0\t1.5\t7\t81666\t0.21\t24876\t12408",
        "122\t20170107171500\tZT1\tM\t1.0\t2.1\tPV Supervisor\tSMS2.0",
        "130\t20170107171000\tS\tM\t3\t18.5466\t0.0417\t245.1503\t0.3643\t0.044\t59.0692\t0.7733\t1.25\t59.9772\t0",
        "131\t20170107171000\tS\tM\t1\t1511\t502",
        "140\t20170107171000\tPVS5M508095c\tM\t125\t607\t0.7075\t0.753\t1.3836\t0.5104\t59.978\t0",
        "141\t20170107171000\tPVS5M508095c\tM\t1\t5.6946\t5.5807\t122.7802\t122.6486\t0.1709\t0.5366\t120.27",
        "777\t20170107171000\tS\tx",
    ];

    fn type_of(value: &FieldValue<'_>) -> Option<FieldType> {
        Some(match value {
            FieldValue::Time(_) => FieldType::Time,
            FieldValue::Text(_) => FieldType::Text,
            FieldValue::Decimal(_) => FieldType::Decimal,
            FieldValue::Integer(_) => FieldType::Integer,
            FieldValue::Unsigned(_) => FieldType::Unsigned,
            #[cfg(feature = "intervals")]
            FieldValue::LocalTime(..) => FieldType::LocalTime,
            FieldValue::Bool(_) => FieldType::Bool,
            #[cfg(feature = "intervals")]
            FieldValue::Flags(_) => FieldType::Flags,
            FieldValue::Fields(_) => return None,
        })
    }

    #[test]
    fn the_visitor_visits_each_kind_s_table_in_order_with_its_types() {
        for line in FULL {
            let mut record = Record::parse(line).unwrap();
            if let Record::Meter(m) = &mut record {
                (m.import_energy_kwh, m.export_energy_kwh) = (Some(1.0), Some(2.0));
                m.lifetime_net_energy_resolution_kwh = Some(0.01);
                m.line_voltage_v = Some(240.5);
                m.role = MeterRole::Net;
            }
            let mut visited = Vec::new();
            record.visit_fields_at(|name, value, index| {
                visited.push((name, type_of(&value), index.map(|i| i as u8)))
            });
            let table: Vec<_> = Record::fields(record.record_type())
                .iter()
                .map(|f| (f.name, Some(f.field_type), f.collector_field))
                .collect();
            // The visitor names no collector field for the texts and times it reads
            // (it copies only numbers).
            let visited: Vec<_> = visited
                .into_iter()
                .zip(&table)
                .map(|(v, t)| (v.0, v.1, v.2.or(t.2)))
                .collect();
            assert_eq!(visited, table, "{line}");
            // A text or time is the collector field the table names, as sent.
            let raw = record.raw().unwrap();
            record.visit_fields(|name, value| {
                let spec = Record::fields(record.record_type())
                    .iter()
                    .find(|f| f.name == name)
                    .unwrap();
                let field = spec.collector_field.and_then(|i| raw.get(usize::from(i)));
                match value {
                    FieldValue::Text(Some(text))
                        if name != "meter_kind" && name != "meter_role" =>
                    {
                        assert_eq!(field, Some(text), "{name} of {line}")
                    }
                    FieldValue::Time(Some(time)) => {
                        assert_eq!(
                            field.and_then(crate::parse_timestamp),
                            Some(time),
                            "{name} of {line}"
                        )
                    }
                    _ => {}
                }
            });
        }
    }

    #[test]
    fn from_fields_gives_back_every_kind_from_its_visited_fields() {
        for line in FULL {
            let mut record = Record::parse(line).unwrap();
            if let Record::Meter(m) = &mut record {
                (m.import_energy_kwh, m.export_energy_kwh) = (Some(1.0), Some(2.0));
                m.lifetime_net_energy_resolution_kwh = Some(0.01);
                m.line_voltage_v = Some(240.5);
                m.role = MeterRole::Net;
            }
            let mut fields = Vec::new();
            record.visit_fields(|name, value| fields.push((name, value)));
            let source = Source::Collector(RawFields::new(line));
            let rebuilt = Record::from_fields(record.record_type(), source, |name| {
                fields.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
            });
            assert_eq!(rebuilt.as_ref(), Some(&record), "{line}");
        }
    }

    #[test]
    fn from_fields_needs_a_data_record_s_time_and_serial() {
        let time = crate::parse_timestamp("20170107171000");
        for record_type in [120, 122, 130, 131, 140, 141] {
            let serial_only = Record::from_fields(record_type, Source::Vars, |name| {
                (name == "serial").then_some(FieldValue::Text(Some("S")))
            });
            assert_eq!(serial_only, None);
            let time_only = Record::from_fields(record_type, Source::Vars, |name| {
                (name == "timestamp").then_some(FieldValue::Time(time))
            });
            assert_eq!(time_only, None);
        }
        // A value of the wrong type counts as not given.
        let record = Record::from_fields(130, Source::Vars, |name| match name {
            "timestamp" => Some(FieldValue::Time(time)),
            "serial" => Some(FieldValue::Text(Some("S"))),
            "lifetime_energy_kwh" => Some(FieldValue::Integer(Some(5))),
            _ => None,
        });
        let Some(Record::Inverter(inverter)) = record else {
            panic!("{record:?}")
        };
        assert_eq!(inverter.lifetime_energy_kwh, None);
    }

    /// `nullable` says which fields a record can be without: a record built from nothing but
    /// its time and serial has every nullable field `None` and every other one set.
    #[test]
    fn the_fields_a_bare_record_lacks_are_the_nullable_ones() {
        let time = crate::parse_timestamp("20170107171000");
        for record_type in [100, 102, 120, 122, 130, 131, 140, 141] {
            let record = Record::from_fields(record_type, Source::Vars, |name| match name {
                "timestamp" => Some(FieldValue::Time(time)),
                "serial" => Some(FieldValue::Text(Some("S"))),
                _ => None,
            })
            .unwrap();
            let mut missing = Vec::new();
            record.visit_fields(|name, value| {
                let none = matches!(
                    value,
                    FieldValue::Time(None)
                        | FieldValue::Text(None)
                        | FieldValue::Decimal(None)
                        | FieldValue::Integer(None)
                        | FieldValue::Unsigned(None)
                );
                missing.push((name, none));
            });
            // (A meter's JSON-only fields are not visited when `None`.)
            let nullable: Vec<_> = Record::fields(record_type)
                .iter()
                .take(missing.len())
                .map(|f| (f.name, f.nullable))
                .collect();
            assert_eq!(missing, nullable, "{record_type}");
            assert!(Record::fields(record_type)
                .iter()
                .all(|f| f.doc.ends_with('.')));
        }
    }
}
