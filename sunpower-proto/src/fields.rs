//! Each record kind's typed fields, described once: name (the JSON key, the Rust field, the
//! Python attribute), type, unit and where a collector line carries it. The Arrow schema comes
//! from these tables; the field visitor ([`Record::visit_fields`]) and the builder from named
//! values ([`Record::from_fields`]) are checked against them by tests.

use chrono::{DateTime, Utc};

use crate::record::{
    FieldValue, Header, Inverter, InverterForm, InverterStatus, Meter, MeterKind, MeterLegs,
    Record, Source, SupervisorIdentity, SupervisorStatus, Trailer, Unknown,
};

/// The type of a typed field's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FieldType {
    /// A UTC time ([`FieldValue::Time`]).
    Time,
    /// Text ([`FieldValue::Text`]).
    Text,
    /// A decimal quantity ([`FieldValue::Decimal`]).
    Decimal,
    /// A signed integer ([`FieldValue::Integer`]).
    Integer,
    /// A counter ([`FieldValue::Unsigned`]).
    Unsigned,
}

/// One typed field of a record kind.
///
/// ```
/// use sunpower_proto::{FieldType, Record};
/// let energy = Record::fields(130).iter().find(|f| f.name == "lifetime_energy_kwh").unwrap();
/// assert_eq!((energy.field_type, energy.unit, energy.collector_field), (FieldType::Decimal, Some("kWh"), Some(5)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct FieldSpec {
    /// The name: JSON key, Rust field, Python attribute, Arrow column.
    pub name: &'static str,
    /// The type of its values.
    pub field_type: FieldType,
    /// Its unit, for quantities that have one.
    pub unit: Option<&'static str>,
    /// The field of a collector line that carries it (in the 130's full form), if any.
    pub collector_field: Option<u8>,
}

const fn f(
    name: &'static str,
    field_type: FieldType,
    unit: Option<&'static str>,
    collector_field: Option<u8>,
) -> FieldSpec {
    FieldSpec {
        name,
        field_type,
        unit,
        collector_field,
    }
}

use FieldType::{Decimal as D, Integer as I, Text as T, Time, Unsigned as U};

const KWH: Option<&str> = Some("kWh");
const KW: Option<&str> = Some("kW");
const V: Option<&str> = Some("V");
const A: Option<&str> = Some("A");
const HZ: Option<&str> = Some("Hz");

const HEADER: &[FieldSpec] = &[
    f("supervisor_serial", T, None, Some(3)),
    f("sent_at", Time, None, Some(4)),
    f("tag", T, None, Some(1)),
    f("version", T, None, Some(2)),
];

const TRAILER: &[FieldSpec] = &[f("token", T, None, Some(1))];

const SUPERVISOR_STATUS: &[FieldSpec] = &[
    f("timestamp", Time, None, Some(1)),
    f("serial", T, None, Some(2)),
    f("error_count", U, None, Some(3)),
    f("comm_errors", U, None, Some(4)),
    f("skipped_scans", U, None, Some(5)),
    f("scan_time_s", D, Some("s"), Some(6)),
    f("untransmitted", U, None, Some(7)),
    f("uptime_s", U, Some("s"), Some(8)),
    f("cpu_load", D, None, Some(9)),
    f("memory_used_kb", U, Some("kB"), Some(10)),
    f("flash_available_kb", U, Some("kB"), Some(11)),
];

const SUPERVISOR_IDENTITY: &[FieldSpec] = &[
    f("timestamp", Time, None, Some(1)),
    f("serial", T, None, Some(2)),
    f("model", T, None, Some(3)),
    f("version_a", T, None, Some(4)),
    f("version_b", T, None, Some(5)),
    f("description", T, None, Some(6)),
    f("family", T, None, Some(7)),
];

const INVERTER: &[FieldSpec] = &[
    f("timestamp", Time, None, Some(1)),
    f("serial", T, None, Some(2)),
    f("model", T, None, Some(3)),
    f("aux", I, None, Some(4)),
    f("lifetime_energy_kwh", D, KWH, Some(5)),
    f("ac_power_kw", D, KW, Some(6)),
    f("ac_voltage_v", D, V, Some(7)),
    f("ac_current_a", D, A, Some(8)),
    f("dc_power_kw", D, KW, Some(9)),
    f("dc_voltage_v", D, V, Some(10)),
    f("dc_current_a", D, A, Some(11)),
    f("heatsink_temp_c", D, Some("°C"), Some(12)),
    f("frequency_hz", D, HZ, Some(13)),
    f("status", I, None, Some(14)),
];

const INVERTER_STATUS: &[FieldSpec] = &[
    f("timestamp", Time, None, Some(1)),
    f("serial", T, None, Some(2)),
    f("model", T, None, Some(3)),
    f("value_1", I, None, Some(4)),
    f("value_2", I, None, Some(5)),
    f("value_3", I, None, Some(6)),
];

const METER: &[FieldSpec] = &[
    f("timestamp", Time, None, Some(1)),
    f("serial", T, None, Some(2)),
    f("model", T, None, Some(3)),
    f("meter_kind", T, None, None),
    f("ct_scale", D, None, Some(4)),
    f("lifetime_net_energy_kwh", D, KWH, Some(5)),
    f("real_power_kw", D, KW, Some(6)),
    f("reactive_power_kvar", D, Some("kvar"), Some(7)),
    f("apparent_power_kva", D, Some("kVA"), Some(8)),
    f("power_factor", D, None, Some(9)),
    f("frequency_hz", D, HZ, Some(10)),
    f("status", I, None, Some(11)),
    f("import_energy_kwh", D, KWH, None),
    f("export_energy_kwh", D, KWH, None),
    f("lifetime_net_energy_resolution_kwh", D, KWH, None),
];

const METER_LEGS: &[FieldSpec] = &[
    f("timestamp", Time, None, Some(1)),
    f("serial", T, None, Some(2)),
    f("model", T, None, Some(3)),
    f("flag", I, None, Some(4)),
    f("leg1_current_a", D, A, Some(5)),
    f("leg2_current_a", D, A, Some(6)),
    f("leg1_voltage_v", D, V, Some(7)),
    f("leg2_voltage_v", D, V, Some(8)),
    f("leg1_power_kw", D, KW, Some(9)),
    f("leg2_power_kw", D, KW, Some(10)),
    f("unknown_11", D, None, Some(11)),
];

const UNKNOWN: &[FieldSpec] = &[
    f("timestamp", Time, None, Some(1)),
    f("serial", T, None, Some(2)),
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
        mut value: impl FnMut(&'static str) -> Option<FieldValue<'a>>,
    ) -> Option<Record<'a>> {
        let mut time = |name| match value(name) {
            Some(FieldValue::Time(t)) => t,
            _ => None,
        };
        let timestamp = time("timestamp");
        let sent_at = time("sent_at");
        let mut text = |name| match value(name) {
            Some(FieldValue::Text(t)) => t,
            _ => None,
        };
        let serial = text("serial");
        let model = text("model");
        Some(match record_type {
            100 => Record::Header(Header {
                source,
                tag: text("tag"),
                version: text("version"),
                supervisor_serial: text("supervisor_serial"),
                sent_at,
            }),
            102 => Record::Trailer(Trailer {
                source,
                token: text("token"),
            }),
            122 => Record::SupervisorIdentity(SupervisorIdentity {
                source,
                timestamp: timestamp?,
                serial: serial?,
                model,
                version_a: text("version_a"),
                version_b: text("version_b"),
                description: text("description"),
                family: text("family"),
            }),
            120 | 130 | 131 | 140 | 141 => {
                let (timestamp, serial) = (timestamp?, serial?);
                numeric(record_type, source, timestamp, serial, model, value)
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

/// The kinds of [`Record::from_fields`] with numeric fields.
fn numeric<'a>(
    record_type: u16,
    source: Source<'a>,
    timestamp: DateTime<Utc>,
    serial: &'a str,
    model: Option<&'a str>,
    mut value: impl FnMut(&'static str) -> Option<FieldValue<'a>>,
) -> Record<'a> {
    let mut d = |name| match value(name) {
        Some(FieldValue::Decimal(v)) => v,
        _ => None,
    };
    let mut dec = [None; 15];
    for (slot, spec) in dec.iter_mut().zip(Record::fields(record_type)) {
        if spec.field_type == FieldType::Decimal {
            *slot = d(spec.name);
        }
    }
    let mut int = |name| match value(name) {
        Some(FieldValue::Integer(v)) => v,
        _ => None,
    };
    match record_type {
        120 => {
            let mut u = |name| match value(name) {
                Some(FieldValue::Unsigned(v)) => v,
                _ => None,
            };
            Record::SupervisorStatus(SupervisorStatus {
                source,
                timestamp,
                serial,
                error_count: u("error_count"),
                comm_errors: u("comm_errors"),
                skipped_scans: u("skipped_scans"),
                scan_time_s: dec[5],
                untransmitted: u("untransmitted"),
                uptime_s: u("uptime_s"),
                cpu_load: dec[8],
                memory_used_kb: u("memory_used_kb"),
                flash_available_kb: u("flash_available_kb"),
            })
        }
        130 => Record::Inverter(Inverter {
            source,
            form: InverterForm::Full,
            timestamp,
            serial,
            model,
            aux: int("aux"),
            lifetime_energy_kwh: dec[4],
            ac_power_kw: dec[5],
            ac_voltage_v: dec[6],
            ac_current_a: dec[7],
            dc_power_kw: dec[8],
            dc_voltage_v: dec[9],
            dc_current_a: dec[10],
            heatsink_temp_c: dec[11],
            frequency_hz: dec[12],
            status: int("status"),
        }),
        131 => Record::InverterStatus(InverterStatus {
            source,
            timestamp,
            serial,
            model,
            value_1: int("value_1"),
            value_2: int("value_2"),
            value_3: int("value_3"),
        }),
        140 => Record::Meter(Meter {
            source,
            timestamp,
            serial,
            model,
            meter_kind: MeterKind::from_serial(serial),
            ct_scale: dec[4],
            lifetime_net_energy_kwh: dec[5],
            real_power_kw: dec[6],
            reactive_power_kvar: dec[7],
            apparent_power_kva: dec[8],
            power_factor: dec[9],
            frequency_hz: dec[10],
            status: int("status"),
            import_energy_kwh: dec[12],
            export_energy_kwh: dec[13],
            lifetime_net_energy_resolution_kwh: dec[14],
        }),
        _ => Record::MeterLegs(MeterLegs {
            source,
            timestamp,
            serial,
            model,
            flag: int("flag"),
            leg1_current_a: dec[4],
            leg2_current_a: dec[5],
            leg1_voltage_v: dec[6],
            leg2_voltage_v: dec[7],
            leg1_power_kw: dec[8],
            leg2_power_kw: dec[9],
            unknown_11: dec[10],
        }),
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
        }
    }

    #[test]
    fn from_fields_gives_back_every_kind_from_its_visited_fields() {
        for line in FULL {
            let mut record = Record::parse(line).unwrap();
            if let Record::Meter(m) = &mut record {
                (m.import_energy_kwh, m.export_energy_kwh) = (Some(1.0), Some(2.0));
                m.lifetime_net_energy_resolution_kwh = Some(0.01);
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
}
