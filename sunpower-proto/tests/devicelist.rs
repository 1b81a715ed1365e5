//! DeviceList JSON documents decode to the same typed records as the plain-text stream.
#![cfg(feature = "devicelist")]

use sunpower_proto::{
    parse_device_list, parse_device_list_with, parse_line, DeviceList, DocumentLimits,
    DocumentPosition, DocumentProblem, DocumentProblemKind as Kind, Expected, InverterForm,
    MeterKind, Record, RecordBuf, Source,
};

/// The default limits, as the former constants were.
const MAX_DEVICES: usize = 10_000;
const MAX_DEVICE_VALUES: usize = 4_096;
const MAX_DOCUMENT_BYTES: usize = 32 * 1024 * 1024;
const UNKNOWN_DEVICE_JSON_MAX: usize = 16 * 1024;

/// The kind of the problem that refuses a whole document.
fn refused(json: impl AsRef<[u8]>) -> Kind {
    let problem = parse_device_list(json).unwrap_err();
    assert_eq!(problem.at, DocumentPosition::Document, "{problem}");
    problem.kind
}

/// Each problem's device index and kind.
fn problems(list: &DeviceList) -> Vec<(usize, Kind)> {
    let index = |p: &DocumentProblem| match &p.at {
        DocumentPosition::Device { index, .. } => *index,
        other => panic!("{other:?}"),
    };
    list.problems
        .iter()
        .map(|p| (index(p), p.kind.clone()))
        .collect()
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/data/devicelist/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn decode(name: &str) -> DeviceList {
    parse_device_list(fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn types(list: &DeviceList) -> Vec<u16> {
    list.records
        .iter()
        .map(|r| r.record().record_type())
        .collect()
}

fn rfc3339(record: &RecordBuf) -> String {
    record.record().timestamp().unwrap().to_rfc3339()
}

#[test]
fn pvs6_2019_document_gives_status_meters_legs_and_inverters() {
    let list = decode("pvs6_2019.json");
    assert!(list.problems.is_empty(), "{:?}", list.problems);
    assert!(list.unknown.is_empty());
    assert_eq!(types(&list), [120, 140, 140, 141, 130, 130, 130, 130]);

    let Record::SupervisorStatus(s) = list.records[0].record() else {
        panic!()
    };
    assert_eq!(s.serial, "ZT183085000441C0912");
    assert_eq!(s.timestamp.to_rfc3339(), "2019-09-26T16:30:00+00:00");
    assert_eq!(s.error_count, Some(0));
    assert_eq!(s.comm_errors, Some(312));
    assert_eq!(s.skipped_scans, Some(0));
    assert_eq!(s.scan_time_s, Some(2.0));
    assert_eq!(s.untransmitted, Some(1184));
    assert_eq!(s.uptime_s, Some(518402));
    assert_eq!(s.cpu_load, Some(0.42));
    assert_eq!(s.memory_used_kb, Some(44120));
    assert_eq!(s.flash_available_kb, Some(81236));

    let Record::Meter(p) = list.records[1].record() else {
        panic!()
    };
    assert_eq!(p.serial, "PVS6M18300912p");
    assert_eq!(p.model, Some("PVS6M0400p"));
    assert_eq!(p.meter_kind, MeterKind::Production);
    assert_eq!(p.timestamp.to_rfc3339(), "2019-09-26T16:33:00+00:00");
    assert_eq!(p.ct_scale, Some(50.0));
    assert_eq!(p.lifetime_net_energy_kwh, Some(3521.4));
    assert_eq!(p.real_power_kw, Some(3.9127));
    assert_eq!(p.reactive_power_kvar, Some(0.2214));
    assert_eq!(p.apparent_power_kva, Some(3.9366));
    assert_eq!(p.power_factor, Some(0.9939));
    assert_eq!(p.frequency_hz, Some(59.9912));
    assert_eq!(p.status, None);

    let Record::Meter(c) = list.records[2].record() else {
        panic!()
    };
    assert_eq!(c.serial, "PVS6M18300912c");
    assert_eq!(c.meter_kind, MeterKind::Consumption);
    assert_eq!(c.lifetime_net_energy_kwh, Some(-812.33));
    assert_eq!(c.real_power_kw, Some(-2.1046));
    assert_eq!(c.power_factor, Some(-0.8622));

    let Record::MeterLegs(legs) = list.records[3].record() else {
        panic!()
    };
    assert_eq!(legs.serial, "PVS6M18300912c");
    assert_eq!(legs.timestamp.to_rfc3339(), "2019-09-26T16:33:00+00:00");
    assert_eq!(legs.flag, None);
    assert_eq!(legs.leg1_current_a, Some(9.8121));
    assert_eq!(legs.leg2_current_a, Some(8.1377));
    assert_eq!(legs.leg1_voltage_v, Some(121.8034));
    assert_eq!(legs.leg2_voltage_v, Some(122.1109));
    assert_eq!(legs.leg1_power_kw, Some(-1.1432));
    assert_eq!(legs.leg2_power_kw, Some(-0.9614));
    assert_eq!(legs.unknown_11, None);

    let Record::Inverter(inv) = list.records[4].record() else {
        panic!()
    };
    assert_eq!(inv.form, InverterForm::Full);
    assert_eq!(inv.serial, "E00121838012345");
    assert_eq!(inv.model, Some("AC_Module_Type_E"));
    assert_eq!(inv.timestamp.to_rfc3339(), "2019-09-26T16:30:00+00:00");
    assert_eq!(inv.aux, None);
    assert_eq!(inv.lifetime_energy_kwh, Some(412.7734));
    assert_eq!(inv.ac_power_kw, Some(0.2431));
    assert_eq!(inv.ac_voltage_v, Some(244.81));
    assert_eq!(inv.ac_current_a, Some(0.99));
    assert_eq!(inv.dc_power_kw, Some(0.2497));
    assert_eq!(inv.dc_voltage_v, Some(55.02));
    assert_eq!(inv.dc_current_a, Some(4.54));
    assert_eq!(inv.heatsink_temp_c, Some(41.0));
    assert_eq!(inv.frequency_hz, Some(59.99));
    assert_eq!(inv.status, Some(0));

    let lifetime: Vec<f64> = list.records[4..]
        .iter()
        .map(|r| match r.record() {
            Record::Inverter(i) => i.lifetime_energy_kwh.unwrap(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(lifetime, [412.7734, 409.0151, 415.2209, 398.6642]);
}

/// A record's typed fields, as the visitor gives them (owned, to compare across sources).
fn typed(record: &Record<'_>) -> Vec<(&'static str, String)> {
    let mut fields = Vec::new();
    record.visit_fields(|name, value| fields.push((name, format!("{value:?}"))));
    fields
}

#[test]
fn records_are_built_with_the_values_of_the_protocol_lines_and_no_line() {
    let list = decode("pvs6_2019.json");
    let lines = [
        (0, "120\t20190926163000\tZT183085000441C0912\t0\t312\t0\t2\t1184\t518402\t0.42\t44120\t81236"),
        (2, "140\t20190926163300\tPVS6M18300912c\tPVS6M0400c\t100\t-812.33\t-2.1046\t-0.7713\t2.4411\t-0.8622\t59.9912\t"),
        (3, "141\t20190926163300\tPVS6M18300912c\tPVS6M0400c\t\t9.8121\t8.1377\t121.8034\t122.1109\t-1.1432\t-0.9614\t"),
        (4, "130\t20190926163000\tE00121838012345\tAC_Module_Type_E\t\t412.7734\t0.2431\t244.81\t0.99\t0.2497\t55.02\t4.54\t41\t59.99\t0"),
    ];
    for (i, line) in lines {
        let record = list.records[i].record();
        // A meter has what no line has room for: the import and export counters, how
        // finely its net counter was written, and what it measures.
        let extras = [
            "import_energy_kwh",
            "export_energy_kwh",
            "lifetime_net_energy_resolution_kwh",
            "meter_role",
        ];
        let mut fields = typed(&record);
        fields.retain(|(name, _)| !extras.contains(name));
        assert_eq!(fields, typed(&parse_line(line).unwrap()), "{line}");
        // Built from the document's values: no invented line.
        assert_eq!(record.source(), Source::DeviceList);
        assert_eq!((record.raw(), list.records[i].line()), (None, None));
        assert_eq!(record.extra_fields().count(), 0);
    }
}

#[test]
fn records_equal_those_of_the_same_plain_text_line() {
    let list = decode("pvs5_2017.json");
    let from_text = parse_line(
        "130\t20170107171000\t414051637009125\tAC_Module_Type_C\t\t18.5466\t0.0417\t245.1503\t\
         0.3643\t0.044\t59.0692\t0.7733\t1.25\t59.9772\t0",
    )
    .unwrap();
    assert_eq!(typed(&list.records[3].record()), typed(&from_text));
}

#[test]
fn pvs5_2017_document_maps_old_meter_names_and_derives_the_meter_kind() {
    let list = decode("pvs5_2017.json");
    assert!(list.problems.is_empty(), "{:?}", list.problems);
    assert_eq!(types(&list), [120, 140, 140, 130, 130]);
    assert_eq!(rfc3339(&list.records[0]), "2017-01-07T17:15:00+00:00");

    let Record::Meter(p) = list.records[1].record() else {
        panic!()
    };
    assert_eq!(p.meter_kind, MeterKind::Production);
    assert_eq!(p.lifetime_net_energy_kwh, Some(1204.11));
    // power_w is in W; the field is kW, converted by moving the point (no float noise).
    assert_eq!(p.real_power_kw, Some(0.1186));
    assert_eq!(p.reactive_power_kvar, None);
    assert_eq!(p.frequency_hz, Some(59.978));

    // The serial lacks the suffix; TYPE PVS5-METER-C says consumption, so `c` is appended.
    let Record::Meter(c) = list.records[2].record() else {
        panic!()
    };
    assert_eq!(c.serial, "PVS5M508095c");
    assert_eq!(c.meter_kind, MeterKind::Consumption);
    assert_eq!(c.ct_scale, Some(125.0));
    assert_eq!(c.lifetime_net_energy_kwh, Some(607.0));
    assert_eq!(c.real_power_kw, Some(0.7075));
    assert_eq!(c.power_factor, Some(0.5104));

    let Record::Inverter(inv) = list.records[4].record() else {
        panic!()
    };
    assert_eq!(inv.serial, "414051636008165");
    assert_eq!(inv.lifetime_energy_kwh, Some(17.8875));
    assert_eq!(inv.dc_power_kw, Some(0.0425));
    assert_eq!(inv.heatsink_temp_c, Some(1.0));
}

#[test]
fn document_without_meters_gives_status_and_inverters_and_reads_p_mppt1() {
    let list = decode("no_meters.json");
    assert!(list.problems.is_empty(), "{:?}", list.problems);
    assert_eq!(types(&list), [120, 130, 130]);
    let Record::Inverter(inv) = list.records[1].record() else {
        panic!()
    };
    assert_eq!(inv.timestamp.to_rfc3339(), "2024-06-09T21:29:44+00:00");
    assert_eq!(inv.lifetime_energy_kwh, Some(1722.0815));
    assert_eq!(inv.dc_power_kw, Some(0.3211));
    let Record::Inverter(inv) = list.records[2].record() else {
        panic!()
    };
    assert_eq!(inv.lifetime_energy_kwh, Some(1698.4402));
    assert_eq!(inv.dc_power_kw, Some(0.3187));
}

#[test]
fn inverter_in_error_is_reported_and_decoded_only_when_it_has_data() {
    let list = decode("inverter_error.json");
    assert_eq!(types(&list), [120, 130, 130]);
    assert_eq!(list.problems.len(), 2, "{:?}", list.problems);

    // No DATATIME, no values: one problem, no record.
    let first = &list.problems[0];
    assert_eq!(
        first.at,
        DocumentPosition::Device {
            index: 1,
            serial: Some("E00121838012345".into())
        }
    );
    assert_eq!(
        first.kind,
        Kind::NotWorking {
            state: "error".into(),
            decoded: false
        }
    );
    assert_eq!(
        first.to_string(),
        "device 1 (E00121838012345): STATE is \"error\", not \"working\"; no data to decode"
    );

    // Last reading present: decoded, and said.
    assert_eq!(
        problems(&list)[1],
        (
            2,
            Kind::NotWorking {
                state: "error".into(),
                decoded: true
            }
        )
    );
    let Record::Inverter(inv) = list.records[1].record() else {
        panic!()
    };
    assert_eq!(inv.serial, "E00121838012346");
    assert_eq!(inv.timestamp.to_rfc3339(), "2019-09-27T01:40:00+00:00");
    assert_eq!(inv.lifetime_energy_kwh, Some(410.0087));
    assert_eq!(inv.ac_power_kw, Some(0.0));

    // A working inverter with few registers: the rest are "not reported", not zero.
    let Record::Inverter(inv) = list.records[2].record() else {
        panic!()
    };
    assert_eq!(inv.lifetime_energy_kwh, Some(416.0032));
    assert_eq!(inv.ac_voltage_v, None);
    assert_eq!(inv.dc_power_kw, None);
    assert_eq!(inv.heatsink_temp_c, None);
    assert_eq!(inv.status, Some(0));
}

#[test]
fn result_failed_is_a_document_error() {
    let err = parse_device_list(fixture("result_failed.json")).unwrap_err();
    assert_eq!(err.at, DocumentPosition::Document);
    assert_eq!(
        err.kind,
        Kind::Failed {
            result: "failed".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "the supervisor reported \"result\": \"failed\": the request failed"
    );
    // Without a devices array too.
    assert!(matches!(
        refused(br#"{"result":"failed"}"#),
        Kind::Failed { .. }
    ));
}

#[test]
fn invalid_datatime_fails_that_device_only() {
    let list = decode("invalid_datatime.json");
    assert_eq!(types(&list), [120, 130]);
    assert_eq!(list.records[1].record().serial(), Some("E00121838012347"));
    assert_eq!(rfc3339(&list.records[1]), "2019-09-26T16:30:00+00:00");
    let invalid = |found: &str| Kind::InvalidValue {
        field: "DATATIME",
        expected: Expected::DataTime,
        found: found.into(),
    };
    assert_eq!(
        problems(&list),
        [
            (1, invalid("2019,09,31,16,30,00")),
            (2, invalid("2019-09-26T16:30:00Z")),
        ]
    );
    assert_eq!(
        list.problems[0].to_string(),
        "device 1 (E00121838012345): DATATIME: expected \"YYYY,MM,DD,hh,mm,ss\" (UTC), found \"2019,09,31,16,30,00\""
    );
}

#[test]
fn unknown_device_types_are_kept_raw() {
    let list = decode("unknown_device.json");
    assert_eq!(types(&list), [120, 130]);
    assert!(list.problems.is_empty(), "{:?}", list.problems);
    let kept: Vec<_> = list
        .unknown
        .iter()
        .map(|u| (u.index, u.device_type.as_deref(), u.serial.as_deref()))
        .collect();
    assert_eq!(
        kept,
        [
            (1, Some("HUB+"), Some("SY2108850-005505.00101")),
            (3, None, Some("GW000101")),
        ]
    );
    let hub = &list.unknown[0];
    assert!(!hub.truncated);
    let json: serde_json::Value = serde_json::from_str(&hub.json).unwrap();
    assert_eq!(json["MODEL"], "SunPower MIDC");
    // A battery is not unknown: it is decoded into the batteries.
    let battery = &list.batteries[0];
    assert_eq!(list.batteries.len(), 1);
    assert_eq!(
        (battery.serial.as_str(), battery.model.as_deref()),
        ("M000000000101", Some("POWERAMP-Komodo 1.2"))
    );
    assert_eq!(battery.soc_pct, Some(87.0));
}

/// A SunVault's `Energy Storage System` device with the varserver's `/sys/devices/ess/<i>/`
/// quantities under the DeviceList's names, and battery modules listed with their identity only
/// (in `error`, no `DATATIME`), as the DeviceLists published by hass-sunpower's users list them.
const SUNVAULT: &str = r#"{"devices": [
  {"DEVICE_TYPE": "PVS", "SERIAL": "ZT1", "MODEL": "PV Supervisor PVS6", "STATE": "working",
   "DATATIME": "2024,04,17,18,00,00", "dl_uptime": "36226"},
  {"DEVICE_TYPE": "Energy Storage System", "SERIAL": "ESS0001", "MODEL": "SPWR-Equinox-model",
   "STATE": "working", "DATATIME": "2024,04,17,18,02,13", "op_mode": "SELF_CONSUMPTION",
   "p_3phsum_kw": "-1.25", "pos_ltea_3phsum_kwh": "5672.499", "neg_ltea_3phsum_kwh": "7492.966",
   "v1n_v": "122.49", "v2n_v": "122.51", "soc_val": "0.65", "customer_soc_val": "0.59",
   "soh_val": "1", "t_invtr_degc": "36.62", "v_batt_v": "52.445",
   "chrg_limit_pmax_kw": "10.762", "dischrg_lim_pmax_kw": "10.004",
   "max_t_batt_cell_degc": "30.06", "min_t_batt_cell_degc": "2.33",
   "max_v_batt_cell_v": "3.28275", "min_v_batt_cell_v": "3.27965"},
  {"DEVICE_TYPE": "Energy Storage System", "SERIAL": "ESS0002", "STATE": "working",
   "DATATIME": "2024,04,17,18,02,14", "soc_val": "65", "soh_val": "0.97",
   "p_3phsum_kw": "lots", "mac_address": "40:2e:71:da:c6:47", "op_mode": "DE:AD:BE:EF:00:42"},
  {"DEVICE_TYPE": "Battery", "SERIAL": "M111111111111", "MODEL": "POWERAMP-Komodo 1.2",
   "STATE": "error", "STATEDESCR": "Error", "CURTIME": "2024,04,17,18,02,22"},
  {"DEVICE_TYPE": "ESS BMS", "SERIAL": "BC111", "STATE": "error", "MODEL": "SchneiderElectric-SP1"}
], "result": "succeed"}"#;

#[test]
fn batteries_decode_to_the_battery_record_with_percent_and_their_problems() {
    let list = parse_device_list(SUNVAULT).unwrap();
    assert_eq!(types(&list), [120]);
    let serials: Vec<_> = list.batteries.iter().map(|b| b.serial.as_str()).collect();
    assert_eq!(serials, ["ESS0001", "ESS0002", "M111111111111"]);

    let ess = &list.batteries[0];
    assert_eq!(ess.source, Source::DeviceList);
    assert_eq!(ess.timestamp.to_rfc3339(), "2024-04-17T18:02:13+00:00");
    assert_eq!(ess.model.as_deref(), Some("SPWR-Equinox-model"));
    assert_eq!(ess.operating_mode.as_deref(), Some("SELF_CONSUMPTION"));
    assert_eq!(
        (
            ess.power_kw,
            ess.discharge_energy_kwh,
            ess.charge_energy_kwh
        ),
        (Some(-1.25), Some(5672.499), Some(7492.966))
    );
    assert_eq!(
        (ess.leg1_voltage_v, ess.leg2_voltage_v),
        (Some(122.49), Some(122.51))
    );
    // Fractions on the wire, percent in the record: never 100 times too high.
    assert_eq!(
        (ess.soc_pct, ess.customer_soc_pct, ess.soh_pct),
        (Some(65.0), Some(59.0), Some(100.0))
    );
    assert_eq!(
        (ess.inverter_temp_c, ess.battery_voltage_v),
        (Some(36.62), Some(52.445))
    );
    assert_eq!(
        (ess.charge_limit_kw, ess.discharge_limit_kw),
        (Some(10.762), Some(10.004))
    );
    assert_eq!(
        (ess.max_cell_temp_c, ess.min_cell_temp_c),
        (Some(30.06), Some(2.33))
    );
    assert_eq!(
        (ess.max_cell_voltage_v, ess.min_cell_voltage_v),
        (Some(3.28275), Some(3.27965))
    );

    // A value in percent, a power that is not a number: each costs its field, with a problem;
    // the MAC-shaped values are withheld, never echoed.
    let bad = &list.batteries[1];
    assert_eq!(
        (bad.soc_pct, bad.soh_pct, bad.power_kw),
        (None, Some(97.0), None)
    );
    assert_eq!(bad.operating_mode, None);
    assert_eq!(list.withheld, 2);
    let text: Vec<String> = list.problems.iter().map(|p| p.to_string()).collect();
    assert!(!text.join("\n").contains("DE:AD") && !text.join("\n").contains("40:2e"));
    let invalid: Vec<_> = list
        .problems
        .iter()
        .filter_map(|p| match &p.kind {
            Kind::InvalidValue {
                field, expected, ..
            } => Some((*field, *expected)),
            _ => None,
        })
        .collect();
    assert_eq!(
        invalid,
        [
            ("p_3phsum_kw", Expected::Decimal),
            ("soc_val", Expected::Fraction)
        ]
    );

    // A module listed with its identity alone: a battery at the supervisor's clock, in error.
    let module = &list.batteries[2];
    assert_eq!(module.timestamp.to_rfc3339(), "2024-04-17T18:02:22+00:00");
    assert_eq!((module.soc_pct, module.power_kw), (None, None));
    let module_problems: Vec<_> = problems(&list)
        .into_iter()
        .filter(|(i, _)| *i == 3)
        .map(|(_, k)| k)
        .collect();
    assert_eq!(
        module_problems,
        [
            Kind::NotWorking {
                state: "error".into(),
                decoded: true
            },
            Kind::TimeFromCurTime
        ]
    );
    // Other storage devices stay unknown, kept whole.
    let unknown: Vec<_> = list
        .unknown
        .iter()
        .map(|u| u.device_type.as_deref())
        .collect();
    assert_eq!(unknown, [Some("ESS BMS")]);
}

#[test]
fn numbers_as_json_numbers_decode_like_strings() {
    let list = decode("json_numbers.json");
    assert!(list.problems.is_empty(), "{:?}", list.problems);
    assert_eq!(types(&list), [120, 140, 141, 130]);
    let Record::SupervisorStatus(s) = list.records[0].record() else {
        panic!()
    };
    assert_eq!(s.comm_errors, Some(198));
    assert_eq!(s.untransmitted, Some(20117));
    assert_eq!(s.scan_time_s, Some(1.0));
    assert_eq!(s.cpu_load, Some(0.58));
    let Record::Meter(m) = list.records[1].record() else {
        panic!()
    };
    assert_eq!(m.meter_kind, MeterKind::Consumption);
    assert_eq!(m.ct_scale, Some(100.0));
    assert_eq!(m.lifetime_net_energy_kwh, Some(18040.75));
    assert_eq!(m.real_power_kw, Some(-0.5321));
    assert_eq!(m.power_factor, Some(-0.759));
    assert_eq!(m.frequency_hz, Some(60.0));
    let Record::MeterLegs(l) = list.records[2].record() else {
        panic!()
    };
    assert_eq!(l.leg1_power_kw, Some(-0.3321));
    assert_eq!(l.leg2_power_kw, Some(-0.2));
    assert_eq!(l.leg2_voltage_v, Some(122.419));
    let Record::Inverter(inv) = list.records[3].record() else {
        panic!()
    };
    assert_eq!(inv.lifetime_energy_kwh, Some(1722.0815));
    assert_eq!(inv.heatsink_temp_c, Some(52.0));
    assert_eq!(inv.status, Some(0));

    // The same document with every number quoted decodes to identical records.
    let quoted = decode("json_numbers.json")
        .records
        .iter()
        .map(|r| typed(&r.record()))
        .collect::<Vec<_>>();
    let text = String::from_utf8(fixture("json_numbers.json")).unwrap();
    let requoted = requote_numbers(&text);
    let again = parse_device_list(&requoted).unwrap();
    assert_eq!(
        again
            .records
            .iter()
            .map(|r| typed(&r.record()))
            .collect::<Vec<_>>(),
        quoted
    );
}

/// Turns every JSON number value of a document into a string holding the same text.
fn requote_numbers(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        match line.split_once(": ") {
            Some((key, value))
                if value
                    .trim_end_matches(',')
                    .starts_with(|c: char| c == '-' || c.is_ascii_digit()) =>
            {
                let comma = if value.ends_with(',') { "," } else { "" };
                out.push_str(&format!(
                    "{key}: \"{}\"{comma}\n",
                    value.trim_end_matches(',')
                ));
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

#[test]
fn invalid_json_is_a_document_error_with_its_position() {
    let err = parse_device_list("{\"devices\": [\n  {\"SERIAL\": }\n]}").unwrap_err();
    assert_eq!(err.at, DocumentPosition::Document);
    assert_eq!(err.kind.name(), "invalid_json");
    let Kind::InvalidJson { line, column, .. } = &err.kind else {
        panic!("{err:?}")
    };
    assert_eq!((*line, *column), (2, 14));
    assert_eq!(
        err.to_string(),
        "invalid JSON at line 2 column 14: expected value"
    );
    assert!(matches!(refused(b"\xff\xfe"), Kind::InvalidJson { .. }));
    assert!(matches!(refused(b""), Kind::InvalidJson { .. }));
}

#[test]
fn documents_that_are_not_device_lists_are_errors() {
    assert_eq!(refused("[1, 2]"), Kind::NotAnObject);
    let missing = Kind::MissingKey { key: "devices" };
    assert_eq!(refused(r#"{"result": "succeed"}"#), missing);
    assert_eq!(refused(r#"{"devices": {}}"#), missing);
    // No result key (path-style API) and an empty list are fine.
    assert_eq!(
        parse_device_list(r#"{"devices": []}"#).unwrap(),
        DeviceList::default()
    );
}

#[test]
fn oversized_documents_and_device_counts_are_refused() {
    let big = vec![b' '; MAX_DOCUMENT_BYTES + 1];
    assert_eq!(
        refused(&big),
        Kind::TooLarge {
            len: MAX_DOCUMENT_BYTES + 1,
            max: MAX_DOCUMENT_BYTES
        }
    );
    let many = format!(
        "{{\"devices\": [{}]}}",
        vec!["{}"; MAX_DEVICES + 1].join(",")
    );
    assert_eq!(refused(&many), Kind::TooManyDevices { max: MAX_DEVICES });
    // Exactly the limit is accepted; each `{}` is an unknown device kept raw.
    let limit = format!("{{\"devices\": [{}]}}", vec!["{}"; MAX_DEVICES].join(","));
    assert_eq!(
        parse_device_list(&limit).unwrap().unknown.len(),
        MAX_DEVICES
    );
}

#[test]
fn a_bad_value_costs_its_field_with_the_key_named_and_the_device_is_kept() {
    let json = r#"{"devices": [
        {"DEVICE_TYPE": "Inverter", "SERIAL": "E1", "DATATIME": "2020,01,01,12,00,00", "ltea_3phsum_kwh": "12,5"},
        {"DEVICE_TYPE": "Inverter", "SERIAL": "E2", "DATATIME": "2020,01,01,12,00,00", "ltea_3phsum_kwh": "NaN"},
        {"DEVICE_TYPE": "PVS", "SERIAL": "ZT1", "DATATIME": "2020,01,01,12,00,00", "dl_uptime": "-5"},
        {"DEVICE_TYPE": "Inverter", "SERIAL": "E3", "DATATIME": "2020,01,01,12,00,00", "stat_ind": "0.5"},
        {"DEVICE_TYPE": "Inverter", "SERIAL": "E4", "DATATIME": "2020,01,01,12,00,00", "p_3phsum_kw": [1]},
        {"DEVICE_TYPE": "Inverter", "SERIAL": "E5", "DATATIME": "2020,01,01,12,00,00", "p_3phsum_kw": true},
        {"DEVICE_TYPE": "Inverter", "SERIAL": "E6", "DATATIME": "2020,01,01,12,00,00", "ltea_3phsum_kwh": " 7.25 "}
    ]}"#;
    let list = parse_device_list(json).unwrap();
    // Every device keeps its record, each bad value null.
    assert_eq!(list.records.len(), 7);
    let serials: Vec<_> = list
        .records
        .iter()
        .map(|r| r.record().serial().unwrap().to_owned())
        .collect();
    assert_eq!(serials, ["E1", "E2", "ZT1", "E3", "E4", "E5", "E6"]);
    let Record::Inverter(inv) = list.records[6].record() else {
        panic!()
    };
    assert_eq!((inv.serial, inv.lifetime_energy_kwh), ("E6", Some(7.25)));
    let Record::Inverter(inv) = list.records[0].record() else {
        panic!()
    };
    assert_eq!(inv.lifetime_energy_kwh, None);
    let Record::SupervisorStatus(status) = list.records[2].record() else {
        panic!()
    };
    assert_eq!(status.uptime_s, None);
    let invalid = |field, expected, found: &str| Kind::InvalidValue {
        field,
        expected,
        found: found.into(),
    };
    assert_eq!(
        problems(&list),
        [
            (0, invalid("ltea_3phsum_kwh", Expected::Decimal, "12,5")),
            (1, invalid("ltea_3phsum_kwh", Expected::Decimal, "NaN")),
            (2, invalid("dl_uptime", Expected::UnsignedInteger, "-5")),
            (3, invalid("stat_ind", Expected::Integer, "0.5")),
            (4, invalid("p_3phsum_kw", Expected::Decimal, "an array")),
            (5, invalid("p_3phsum_kw", Expected::Decimal, "true")),
        ]
    );
    assert_eq!(
        list.problems[0].to_string(),
        "device 0 (E1): ltea_3phsum_kwh: expected a decimal number, found \"12,5\""
    );
}

#[test]
fn devices_without_a_serial_or_time_are_errors_and_a_bad_model_costs_its_field() {
    let json = r#"{"devices": [
        "not an object",
        {"DEVICE_TYPE": "Inverter", "DATATIME": "2020,01,01,12,00,00"},
        {"DEVICE_TYPE": "Inverter", "SERIAL": "E1"},
        {"DEVICE_TYPE": "Inverter", "SERIAL": "E\t2", "DATATIME": "2020,01,01,12,00,00"},
        {"DEVICE_TYPE": "Inverter", "SERIAL": "E3", "MODEL": "A\nB", "DATATIME": "2020,01,01,12,00,00"},
        {"DEVICE_TYPE": "Inverter", "SERIAL": "E4", "DATATIME": 20200101120000}
    ]}"#;
    let list = parse_device_list(json).unwrap();
    // Only the device with the unreadable model gives a record, without its model.
    assert_eq!(list.records.len(), 1);
    let Record::Inverter(inv) = list.records[0].record() else {
        panic!()
    };
    assert_eq!((inv.serial, inv.model), ("E3", None));
    let invalid = |field, expected, found: &str| Kind::InvalidValue {
        field,
        expected,
        found: found.into(),
    };
    assert_eq!(
        problems(&list),
        [
            (0, Kind::NotAnObject),
            (1, Kind::MissingSerial { field: "SERIAL" }),
            (2, Kind::MissingTime { field: "DATATIME" }),
            (3, invalid("SERIAL", Expected::Text, "E\t2")),
            (4, invalid("MODEL", Expected::Text, "A\nB")),
            (5, invalid("DATATIME", Expected::DataTime, "20200101120000")),
        ]
    );
    assert_eq!(list.problems[0].to_string(), "device 0: not a JSON object");
}

#[test]
fn meter_kind_comes_from_serial_then_type_then_warns() {
    let json = r#"{"devices": [
        {"DEVICE_TYPE": "Power Meter", "SERIAL": "M1p", "TYPE": "PVS5-METER-C", "DATATIME": "2020,01,01,12,00,00"},
        {"DEVICE_TYPE": "Power Meter", "SERIAL": "M2", "subtype": "GROSS_PRODUCTION_SITE", "DATATIME": "2020,01,01,12,00,00"},
        {"DEVICE_TYPE": "Power Meter", "SERIAL": "M3", "MODEL": "Consumption meter", "DATATIME": "2020,01,01,12,00,00"},
        {"DEVICE_TYPE": "Power Meter", "SERIAL": "M4", "TYPE": "PVS5-METER", "DATATIME": "2020,01,01,12,00,00"}
    ]}"#;
    let list = parse_device_list(json).unwrap();
    let meters: Vec<_> = list
        .records
        .iter()
        .map(|r| match r.record() {
            Record::Meter(m) => (m.serial.to_owned(), m.meter_kind),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        meters,
        [
            ("M1p".to_owned(), MeterKind::Production),
            ("M2p".to_owned(), MeterKind::Production),
            ("M3c".to_owned(), MeterKind::Consumption),
            ("M4".to_owned(), MeterKind::Unknown),
        ]
    );
    assert_eq!(problems(&list), [(3, Kind::UnknownMeterKind)]);
}

#[test]
fn meter_without_leg_registers_gives_no_141() {
    let json = r#"{"devices": [
        {"DEVICE_TYPE": "Power Meter", "SERIAL": "M1c", "DATATIME": "2020,01,01,12,00,00",
         "p_3phsum_kw": "1", "i1_a": null, "p1_kw": ""},
        {"DEVICE_TYPE": "Power Meter", "SERIAL": "M2c", "DATATIME": "2020,01,01,12,00,00",
         "p2_kw": "0.25"}
    ]}"#;
    let list = parse_device_list(json).unwrap();
    assert_eq!(types(&list), [140, 140, 141]);
    let Record::MeterLegs(l) = list.records[2].record() else {
        panic!()
    };
    assert_eq!((l.leg1_power_kw, l.leg2_power_kw), (None, Some(0.25)));
}

#[test]
fn unknown_device_json_is_bounded() {
    let blob = "x".repeat(UNKNOWN_DEVICE_JSON_MAX * 2);
    let json = format!(r#"{{"devices": [{{"DEVICE_TYPE": "ESS Hub", "blob": "{blob}"}}]}}"#);
    let list = parse_device_list(&json).unwrap();
    let u = &list.unknown[0];
    assert!(u.truncated);
    assert_eq!(u.json.len(), UNKNOWN_DEVICE_JSON_MAX);
    assert_eq!(u.serial, None);
}

#[test]
fn arbitrary_bytes_never_panic() {
    let seeds: [&[u8]; 8] = [
        b"{",
        b"{\"devices\":[{\"DEVICE_TYPE\":\"Inverter\",\"SERIAL\":\"E\",\"DATATIME\":\"9999,99,99,99,99,99\"}]}",
        b"{\"devices\":[{\"DEVICE_TYPE\":\"Power Meter\",\"SERIAL\":\"\",\"DATATIME\":\"2020,01,01,00,00,00\"}]}",
        b"{\"devices\":[{\"DEVICE_TYPE\":\"Power Meter\",\"SERIAL\":\"M\",\"DATATIME\":\"2020,01,01,00,00,00\",\"power_w\":\"1e308\"}]}",
        b"{\"devices\":[{\"DEVICE_TYPE\":\"PVS\",\"SERIAL\":\"Z\",\"DATATIME\":\"2020,1,1,0,0,0\",\"dl_uptime\":18446744073709551616}]}",
        b"{\"devices\":[null, 1, [], {\"DEVICE_TYPE\": 5}]}",
        b"{\"result\": 0}",
        b"{\"devices\":[{\"DEVICE_TYPE\":\"Inverter\",\"SERIAL\":\"\xc3\xa9\",\"DATATIME\":\"2020,01,01,00,00,00,\"}]}",
    ];
    for seed in seeds {
        let _ = parse_device_list(seed);
        for cut in 0..seed.len() {
            let _ = parse_device_list(&seed[..cut]);
        }
    }
}

#[cfg(feature = "serde")]
#[test]
fn devicelist_records_serialize_like_text_records() {
    use sunpower_proto::JsonRecord;
    let list = decode("pvs6_2019.json");
    let from_text = parse_line(
        "130\t20190926163000\tE00121838012345\tAC_Module_Type_E\t\t412.7734\t0.2431\t244.81\t0.99\t0.2497\t55.02\t4.54\t41\t59.99\t0",
    )
    .unwrap();
    let a = serde_json::to_string(&JsonRecord::new(&list.records[4].record(), None)).unwrap();
    let b = serde_json::to_string(&JsonRecord::new(&from_text, None)).unwrap();
    // The same keys and values but `source` in place of `raw`.
    let (a, b): (serde_json::Value, serde_json::Value) = (
        serde_json::from_str(&a).unwrap(),
        serde_json::from_str(&b).unwrap(),
    );
    let (mut a, mut b) = (
        a.as_object().unwrap().clone(),
        b.as_object().unwrap().clone(),
    );
    assert_eq!(a.remove("source"), Some(serde_json::json!("devicelist")));
    assert!(b.remove("raw").is_some());
    assert_eq!(a, b);
    let a = serde_json::Value::Object(a).to_string();
    assert!(a.contains("\"lifetime_energy_kwh\":412.7734"));
    assert!(a.contains("\"timestamp\":\"2019-09-26T16:30:00Z\""));
}

#[test]
fn a_second_devices_list_is_an_error_with_its_position() {
    let json =
        "{\"devices\": [],\n \"result\": \"succeed\",\n \"devices\": [{\"DEVICE_TYPE\": \"PVS\"}]}";
    let err = parse_device_list(json).unwrap_err();
    assert_eq!(err.at, DocumentPosition::Document);
    assert_eq!(
        err.kind,
        Kind::DuplicateKey {
            key: "devices".into(),
            line: 3,
            column: 10
        }
    );
    assert!(err
        .to_string()
        .starts_with("duplicate key \"devices\" at line 3 column 10"));
    // Within a device too: which SERIAL is meant cannot be known.
    let json = r#"{"devices": [{"SERIAL": "A", "DEVICE_TYPE": "Inverter", "SERIAL": "B"}]}"#;
    assert!(matches!(
        refused(json),
        Kind::DuplicateKey { key, line: 1, .. } if key == "SERIAL"
    ));
}

#[test]
fn inverter_in_error_with_readings_but_no_datatime_is_decoded_at_curtime() {
    // As in a public 2019 PVS6 fixture: STATE error, a lifetime counter, no DATATIME.
    let json = r#"{"devices": [{"DEVICE_TYPE": "Inverter", "SERIAL": "E00121838012345",
        "MODEL": "AC_Module_Type_E", "STATE": "error", "ltea_3phsum_kwh": "19.3057",
        "CURTIME": "2019,09,27,03,06,41"}]}"#;
    let list = parse_device_list(json).unwrap();
    let Record::Inverter(inv) = list.records[0].record() else {
        panic!()
    };
    assert_eq!(inv.lifetime_energy_kwh, Some(19.3057));
    assert_eq!(inv.timestamp.to_rfc3339(), "2019-09-27T03:06:41+00:00");
    assert_eq!(
        problems(&list),
        [
            (
                0,
                Kind::NotWorking {
                    state: "error".into(),
                    decoded: true
                }
            ),
            (0, Kind::TimeFromCurTime)
        ]
    );
}

#[test]
fn a_device_of_very_many_values_is_refused_without_building_the_document() {
    // 64 MiB-style documents of tiny values: counted per device while parsing.
    let values = vec!["0"; MAX_DEVICE_VALUES].join(",");
    let json = format!("{{\"devices\": [{{}}, {{\"DEVICE_TYPE\": \"PVS\", \"x\": [{values}]}}]}}");
    let err = parse_device_list(&json).unwrap_err();
    let at = DocumentPosition::Device {
        index: 1,
        serial: None,
    };
    let kind = Kind::TooManyValues {
        max: MAX_DEVICE_VALUES,
    };
    assert_eq!((err.at, err.kind), (at, kind));
    // Over the device limit, decoding stops at the first device too many, whatever follows.
    let many = format!(
        "{{\"devices\": [{}, not even json",
        vec!["{}"; MAX_DEVICES + 1].join(",")
    );
    assert_eq!(refused(&many), Kind::TooManyDevices { max: MAX_DEVICES });
}

#[test]
fn limits_other_than_the_default_are_kept() {
    let limits = DocumentLimits::default();
    assert_eq!(
        (
            limits.max_bytes,
            limits.max_devices,
            limits.max_values_per_device,
            limits.max_unknown_device_bytes
        ),
        (
            MAX_DOCUMENT_BYTES,
            MAX_DEVICES,
            MAX_DEVICE_VALUES,
            UNKNOWN_DEVICE_JSON_MAX
        )
    );
    let mut small = limits;
    small.max_values_per_device = 3;
    small.max_unknown_device_bytes = 10;
    let json = r#"{"devices": [{"DEVICE_TYPE": "ESS Hub"}, {"DEVICE_TYPE": "PVS", "a": 1}]}"#;
    let list = parse_device_list_with(json, &limits).unwrap();
    assert_eq!(list.unknown[0].json, r#"{"DEVICE_TYPE":"ESS Hub"}"#);
    let err = parse_device_list_with(json, &small).unwrap_err();
    assert_eq!(err.kind, Kind::TooManyValues { max: 3 });
    assert_eq!(
        err.to_string(),
        "device 1: more than 3 values, over the limit"
    );
    small.max_values_per_device = 5;
    let list = parse_device_list_with(json, &small).unwrap();
    assert_eq!(list.unknown[0].json, r#"{"DEVICE_T"#);
}

#[test]
fn a_leading_byte_order_mark_is_skipped() {
    let list = parse_device_list(
        b"\xef\xbb\xbf{\"devices\": [{\"DEVICE_TYPE\": \"Inverter\", \"SERIAL\": \"E1\",
        \"DATATIME\": \"2021,07,04,19,45,00\", \"ltea_3phsum_kwh\": \"1.5\"}]}",
    )
    .unwrap();
    assert_eq!(list.records.len(), 1);
}

/// No MAC-shaped key or value reaches a record, an unknown device or a problem: a device whose
/// serial is one keeps its records under a placeholder, and each is counted.
#[cfg(feature = "serde")]
#[test]
fn mac_shaped_serials_values_and_keys_are_withheld_everywhere() {
    let doc = br#"{"result": "succeed", "devices": [
        {"DEVICE_TYPE": "Inverter", "SERIAL": "de:ad:be:ef:00:42", "MODEL": "AC_Module_Type_E",
         "DATATIME": "2019,10,11,17,05,00", "ltea_3phsum_kwh": "1.5", "STATE": "working"},
        {"DEVICE_TYPE": "Inverter", "SERIAL": "E001", "MODEL": "model DE-AD-BE-EF-00-43",
         "DATATIME": "2019,10,11,17,05,00", "ltea_3phsum_kwh": "DE:AD:BE:EF:00:44"},
        {"DEVICE_TYPE": "Gateway", "SERIAL": "G1", "MAC": "00:11:22:33:44:55",
         "nested": {"00:11:22:33:44:66": 1, "list": ["aa-bb-cc-dd-ee-ff"]}}
    ]}"#;
    let list = parse_device_list(doc).unwrap();
    let mut shown = Vec::new();
    for record in &list.records {
        shown.push(serde_json::to_string(&record.record()).unwrap());
    }
    shown.extend(list.problems.iter().map(|p| p.to_string()));
    shown.extend(
        list.unknown
            .iter()
            .map(|u| format!("{} {:?}", u.json, u.serial)),
    );
    let all = shown.join("\n").to_ascii_lowercase();
    for mac in ["de:ad:be:ef", "de-ad-be-ef", "00:11:22:33", "aa-bb-cc"] {
        assert!(!all.contains(mac), "{mac} in:\n{all}");
    }
    // The first inverter keeps its records under the placeholder.
    let serials: Vec<String> = list
        .records
        .iter()
        .filter_map(|r| r.record().serial().map(str::to_owned))
        .collect();
    assert!(
        serials.contains(&"withheld-device-0".to_owned()),
        "{serials:?}"
    );
    assert!(serials.contains(&"E001".to_owned()));
    // Serial, model, counter, key, value, list item.
    assert_eq!(list.withheld, 6);
    assert_eq!(list.unknown.len(), 1);
}
