//! The varserver `/vars` documents, supervisor info and the path-style device list, on the
//! public samples (tests/data/local-api, sources in its README.txt) and generated documents.
#![cfg(all(feature = "varserver", feature = "devicelist", feature = "serde"))]

use sunpower_proto::{
    parse_device_list, parse_supervisor_info, parse_vars, parse_vars_with, DocumentLimits,
    DocumentPosition, DocumentProblem, DocumentProblemKind as Kind, Expected, PathShape, Record,
    RecordBuf, Source, VarsDeviceKind, VarsForm,
};

/// The kind of the problem that refuses a whole document.
fn refused(problem: DocumentProblem) -> Kind {
    assert_eq!(problem.at, DocumentPosition::Document, "{problem}");
    problem.kind
}

fn sample(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/local-api/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(path).unwrap()
}

fn time(r: &RecordBuf) -> String {
    r.record().timestamp().unwrap().to_rfc3339()
}

/// steveturbek/SunPower-PVS-Supervisor, PVS6 build 61845, flat object form.
#[test]
fn flat_dump_of_build_61845_decodes_every_device_and_total() {
    let vars = parse_vars(sample("pvs6-61845-varserver-dump.json")).unwrap();
    assert_eq!(vars.form, VarsForm::Object);
    assert_eq!(vars.entries, 223);
    assert_eq!(vars.problems, []);
    let inverters: Vec<_> = (vars.devices.iter())
        .filter(|d| d.kind == VarsDeviceKind::Inverter)
        .collect();
    let meters: Vec<_> = (vars.devices.iter())
        .filter(|d| d.kind == VarsDeviceKind::Meter)
        .collect();
    assert_eq!(inverters.len(), 12);
    assert_eq!(meters.len(), 2);
    assert!(vars
        .records()
        .all(|r| time(r) == "2025-09-30T15:50:00+00:00"));
    // Every inverter index is its own device, even with the serials redacted to one value.
    let indices: Vec<u32> = inverters.iter().map(|d| d.index).collect();
    assert_eq!(indices, (0..12).collect::<Vec<_>>());
    let shared: Vec<u32> = (inverters.iter())
        .filter(|d| d.shared_serial)
        .map(|d| d.index)
        .collect();
    assert_eq!(shared, [0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11]);
    assert!(inverters.iter().all(|d| d.shape == PathShape::Flat));

    let Record::Inverter(inv) = inverters[0].records[0].record() else {
        panic!()
    };
    assert_eq!(inv.serial, "E00123456789");
    assert_eq!(inv.model, Some("AC_Module_Type_E"));
    assert_eq!(inv.lifetime_energy_kwh, Some(1915.253174));
    assert_eq!(inv.ac_power_kw, Some(0.154040));
    assert_eq!(inv.ac_voltage_v, Some(208.770004));
    assert_eq!(inv.ac_current_a, Some(0.73));
    assert_eq!(inv.dc_power_kw, Some(0.165160));
    assert_eq!(inv.dc_voltage_v, Some(54.779999));
    assert_eq!(inv.dc_current_a, Some(3.01));
    assert_eq!(inv.heatsink_temp_c, Some(38.0));
    assert_eq!(inv.frequency_hz, Some(60.009998));
    assert_eq!((inv.aux, inv.status), (None, None));
    let Record::Inverter(inv) = inverters[3].records[0].record() else {
        panic!()
    };
    assert_eq!(
        (inv.serial, inv.lifetime_energy_kwh),
        ("E00121950014152", Some(2244.361816))
    );
    let lifetimes: Vec<f64> = (inverters.iter())
        .map(|d| match d.records[0].record() {
            Record::Inverter(i) => i.lifetime_energy_kwh.unwrap(),
            _ => panic!(),
        })
        .collect();
    assert_eq!(
        lifetimes,
        [
            1915.253174,
            2732.301025,
            2720.510254,
            2244.361816,
            2241.922852,
            2234.004883,
            2836.639404,
            4.3547,
            4.5421,
            4.7014,
            4.7946,
            4.7733
        ]
    );

    // The consumption meter: 140 with import/export, 141 with the legs.
    let c = meters[1];
    assert_eq!(c.records.len(), 2);
    let Record::Meter(m) = c.records[0].record() else {
        panic!()
    };
    assert_eq!(m.serial, "PVS6M123456c");
    assert_eq!(m.ct_scale, Some(100.0));
    assert_eq!(m.lifetime_net_energy_kwh, Some(14116.269531));
    assert_eq!(m.real_power_kw, Some(-1.835679));
    assert_eq!(m.reactive_power_kvar, Some(-0.509961));
    assert_eq!(m.apparent_power_kva, Some(2.225091));
    assert_eq!(m.power_factor, Some(-0.819772));
    assert_eq!(m.frequency_hz, Some(60.022362));
    assert_eq!(m.import_energy_kwh, Some(33277.058594));
    assert_eq!(m.export_energy_kwh, Some(19160.759766));
    let Record::MeterLegs(l) = c.records[1].record() else {
        panic!()
    };
    assert_eq!(
        (l.leg1_current_a, l.leg2_current_a),
        (Some(8.877744), Some(9.78898))
    );
    assert_eq!(
        (l.leg1_voltage_v, l.leg2_voltage_v),
        (Some(120.727631), Some(117.815918))
    );
    assert_eq!(
        (l.leg1_power_kw, l.leg2_power_kw),
        (Some(-1.023084), Some(-0.812595))
    );
    let Record::Meter(p) = meters[0].records[0].record() else {
        panic!()
    };
    assert_eq!(
        (p.serial, p.lifetime_net_energy_kwh, p.import_energy_kwh),
        ("PVS6M123456p", Some(27867.380859), Some(0.0))
    );

    let site = vars.site.as_ref().unwrap();
    assert_eq!(
        site.timestamp.unwrap().to_rfc3339(),
        "2025-09-30T15:58:22+00:00"
    );
    assert_eq!(site.pv_power_kw, Some(1.747903));
    assert_eq!(site.pv_energy_kwh, Some(27867.650391));
    assert_eq!(site.net_power_kw, Some(-1.620737));
    assert_eq!(site.net_energy_kwh, Some(14116.009766));
    assert_eq!(site.site_load_power_kw, Some(0.127166));
    assert_eq!(site.site_load_energy_kwh, Some(41983.660156));
    assert_eq!(
        (
            site.battery_energy_kwh,
            site.battery_power_kw,
            site.battery_soc_pct
        ),
        (None, None, None)
    );
    assert_eq!(
        (site.backup_time_remaining_min, site.midstate),
        (Some(0.0), Some(0))
    );

    let info = vars.supervisor.as_ref().unwrap();
    assert_eq!(info.serial.as_deref(), Some("ZT0123456789A1234"));
    assert_eq!(info.model.as_deref(), Some("PVS6"));
    assert_eq!(info.hardware_version.as_deref(), Some("6.02"));
    assert_eq!(info.software_version.as_deref(), Some("2025.09.04.61845"));
    assert_eq!(info.build, Some(61845));
    assert_eq!(
        info.firmware_version.as_deref(),
        Some("Major 2, Revision 0x6131c9f8, Build 1188")
    );
    assert_eq!(info.system_type.as_deref(), Some("PV-only"));
    assert_eq!(info.active_interface.as_deref(), Some("sta0"));
    assert_eq!(
        (
            info.uptime_s,
            info.ram_usage_pct,
            info.flash_usage_pct,
            info.cpu_usage_pct
        ),
        (Some(31371.7), Some(7.0), Some(73.0), Some(7.0))
    );
    // ssid, wpa_key, lmac, active_interface_mac.
    assert_eq!(vars.withheld, 4);
    let other: Vec<&str> = vars.other.iter().map(|o| o.path.as_str()).collect();
    // The meters' `v12V` and the flash wear are decoded now: no longer kept raw.
    assert_eq!(vars.other_count, 11);
    assert!(!other
        .iter()
        .any(|p| p.ends_with("v12V") || p.contains("flashwear")));
    assert!(other.contains(&"/sys/pvs/usb_erase_count"));
    assert!(other.contains(&"/sys/telemetryws/enable"));
    for meter in &meters {
        let Record::Meter(m) = meter.records[0].record() else {
            panic!()
        };
        assert_eq!(m.line_voltage_v, Some(207.579468));
    }
    // `0x0b`: past the eMMC's rated life, capped at 100 %; the rest of the health is the info's.
    let health = vars.health.as_ref().unwrap();
    assert_eq!(health.flash_wear_pct, Some(100.0));
    assert_eq!(
        (health.build, health.ram_usage_pct),
        (info.build, Some(7.0))
    );
    assert_eq!((vars.batteries.len(), vars.transfer_switches.len()), (0, 0));
}

/// pypvs doc/LocalAPI.md, build 61840: the nested shape, numbers as JSON numbers.
#[test]
fn nested_device_objects_of_the_2025_docs_decode() {
    let vars = parse_vars(sample("pypvs-doc-61840-nested-inverter-data.json")).unwrap();
    assert_eq!(vars.problems, []);
    assert_eq!(vars.devices.len(), 2);
    assert_eq!(
        (vars.devices[0].index, vars.devices[0].shape),
        (21, PathShape::Nested)
    );
    let Record::Inverter(inv) = vars.devices[0].records[0].record() else {
        panic!()
    };
    assert_eq!(inv.serial, "E00122307107854");
    assert_eq!(inv.lifetime_energy_kwh, Some(686.5164000000001));
    assert_eq!(inv.dc_power_kw, Some(0.00068));
    assert_eq!(inv.heatsink_temp_c, Some(24.0));
    assert_eq!(inv.ac_power_kw, None); // absent: not reported
    assert_eq!(
        time(&vars.devices[0].records[0]),
        "2025-06-28T03:35:00+00:00"
    );
    // The validity masks are kept raw.
    assert_eq!(vars.other_count, 4);
    assert_eq!(
        vars.other[0].path,
        "/sys/devices/21/inverter/data/vldFld2Msk"
    );

    let vars = parse_vars(sample("pypvs-doc-61840-nested-meter-data.json")).unwrap();
    let [p, c] = &vars.devices[..] else { panic!() };
    assert_eq!(p.records.len(), 1); // no leg fields: no 141
    assert_eq!(c.records.len(), 2);
    let Record::Meter(m) = c.records[0].record() else {
        panic!()
    };
    assert_eq!(m.lifetime_net_energy_kwh, Some(6121.360000000001));
    assert_eq!(m.import_energy_kwh, Some(19721.78));
    assert_eq!(m.export_energy_kwh, Some(13600.36));
    assert_eq!(m.ct_scale, Some(300.0));
    let Record::MeterLegs(l) = c.records[1].record() else {
        panic!()
    };
    assert_eq!(
        (l.leg1_power_kw, l.leg2_power_kw),
        (Some(0.316900551), Some(0.16260837))
    );
}

#[test]
fn array_form_and_battery_livedata_of_the_2025_docs_decode() {
    let vars = parse_vars(sample("pypvs-doc-61840-array-form.json")).unwrap();
    assert_eq!(vars.form, VarsForm::Array);
    assert_eq!((vars.entries, vars.problems.len()), (3, 0));
    let info = vars.supervisor.unwrap();
    assert_eq!(info.hardware_version.as_deref(), Some("6.03"));
    assert_eq!(info.build, Some(61840));

    let vars = parse_vars(sample("pypvs-doc-61840-livedata-with-battery.json")).unwrap();
    let site = vars.site.unwrap();
    assert_eq!(site.battery_energy_kwh, Some(-490.463989));
    assert_eq!(site.battery_power_kw, Some(1.862));
    assert_eq!(site.battery_soc_pct, Some(86.0)); // `0.860000` on the wire
    assert_eq!(site.backup_time_remaining_min, Some(555.0));
    assert_eq!(site.midstate, Some(2));
    // The supervisor's own sum: site load = production + net + battery.
    let sum = site.pv_energy_kwh.unwrap()
        + site.net_energy_kwh.unwrap()
        + site.battery_energy_kwh.unwrap();
    // Within the resolution of the 32-bit floats the supervisor keeps (4 Wh at 46 MWh).
    assert!(
        (sum - site.site_load_energy_kwh.unwrap()).abs() < 0.005,
        "{sum}"
    );
}

/// A device of a generated document: kind, index, fields.
type Device = (&'static str, usize, Vec<(&'static str, String)>);

/// 44 inverters and two meters, as build 61846 answers `match=inverter` and `match=meter`.
fn generated(shape: &str) -> String {
    let inverter = |i: usize| {
        [
            ("sn", format!("\"E0012{i:010}\"")),
            ("prodMdlNm", "\"AC_Module_Type_H\"".to_owned()),
            ("msmtEps", "\"2025-10-02T18:05:00Z\"".to_owned()),
            ("ltea3phsumKwh", format!("{}", 1000.0 + i as f64 * 10.5)),
            ("p3phsumKw", format!("0.{:03}", 200 + i)),
            ("tHtsnkDegc", format!("{}", 30 + i)),
        ]
    };
    let meter = |i: usize| {
        let suffix = if i == 0 { 'p' } else { 'c' };
        [
            ("sn", format!("\"PVS6M2308435{i}{suffix}\"")),
            ("msmtEps", "\"2025-10-02T18:05:00Z\"".to_owned()),
            ("netLtea3phsumKwh", format!("{}", 5000.25 + i as f64)),
            ("p3phsumKw", format!("{}", -1.5 + i as f64)),
            ("posLtea3phsumKwh", format!("{}", 700.5 * i as f64)),
            ("p1Kw", format!("{}", 0.25 * i as f64)),
        ]
    };
    let mut devices: Vec<Device> = Vec::new();
    for i in 0..44 {
        devices.push(("inverter", i, inverter(i).to_vec()));
    }
    for i in 0..2 {
        devices.push(("meter", i, meter(i).to_vec()));
    }
    let flat_value = |v: &str| {
        if v.starts_with('"') {
            v.to_owned()
        } else {
            format!("\"{v}\"")
        }
    };
    let mut entries = Vec::new();
    for (kind, i, fields) in &devices {
        match shape {
            "flat" | "array" => {
                for (name, value) in fields {
                    let path = format!("/sys/devices/{kind}/{i}/{name}");
                    entries.push(if shape == "flat" {
                        format!("\"{path}\": {}", flat_value(value))
                    } else {
                        format!("{{\"name\": \"{path}\", \"value\": {}}}", flat_value(value))
                    });
                }
            }
            _ => {
                let body: Vec<String> = fields
                    .iter()
                    .map(|(n, v)| format!("\"{n}\": {v}"))
                    .collect();
                entries.push(format!(
                    "\"/sys/devices/{i}/{kind}/data\": {{{}}}",
                    body.join(", ")
                ));
            }
        }
    }
    match shape {
        "array" => format!(
            "{{\"values\": [{}], \"count\": {}}}",
            entries.join(",\n"),
            entries.len()
        ),
        _ => format!("{{{}}}", entries.join(",\n")),
    }
}

#[test]
fn forty_four_inverters_and_two_meters_decode_alike_in_every_shape() {
    let flat = parse_vars(generated("flat")).unwrap();
    assert_eq!(flat.problems, []);
    let kinds = |v: &sunpower_proto::Vars, k| v.devices.iter().filter(|d| d.kind == k).count();
    assert_eq!(kinds(&flat, VarsDeviceKind::Inverter), 44);
    assert_eq!(kinds(&flat, VarsDeviceKind::Meter), 2);
    let types: Vec<u16> = flat.records().map(|r| r.record().record_type()).collect();
    assert_eq!(types.iter().filter(|&&t| t == 130).count(), 44);
    assert_eq!(types.iter().filter(|&&t| t == 140).count(), 2);
    for (i, device) in flat.devices.iter().take(44).enumerate() {
        let Record::Inverter(inv) = device.records[0].record() else {
            panic!()
        };
        assert_eq!(inv.serial, format!("E0012{i:010}"));
        assert_eq!(inv.lifetime_energy_kwh, Some(1000.0 + i as f64 * 10.5));
        assert_eq!(inv.ac_power_kw, Some((200 + i) as f64 / 1000.0));
        assert_eq!(inv.heatsink_temp_c, Some(30.0 + i as f64));
        assert_eq!(time(&device.records[0]), "2025-10-02T18:05:00+00:00");
        assert!(!device.shared_serial);
    }
    let Record::Meter(m) = flat.devices[45].records[0].record() else {
        panic!()
    };
    assert_eq!(
        (
            m.lifetime_net_energy_kwh,
            m.real_power_kw,
            m.import_energy_kwh
        ),
        (Some(5001.25), Some(-0.5), Some(700.5))
    );
    // The typed values, not the line text: a JSON number `0.200` is the value 0.2.
    let records = |v: &sunpower_proto::Vars| {
        v.records()
            .map(|r| {
                let mut json = serde_json::to_value(r.record()).unwrap();
                json.as_object_mut().unwrap().remove("raw");
                json
            })
            .collect::<Vec<_>>()
    };
    let nested = parse_vars(generated("nested")).unwrap();
    let array = parse_vars(generated("array")).unwrap();
    assert_eq!(array.form, VarsForm::Array);
    assert_eq!((nested.problems.len(), array.problems.len()), (0, 0));
    for (other, name) in [(&nested, "nested"), (&array, "array")] {
        let (a, b) = (records(other), records(&flat));
        assert_eq!(a.len(), b.len(), "{name}");
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x, y, "{name}");
        }
    }
}

#[test]
fn unknown_paths_bad_values_and_a_wrong_count_are_reported_not_fatal() {
    let doc = r#"{"values": [
        {"name": "/sys/devices/inverter/0/sn", "value": "E1"},
        {"name": "/sys/devices/inverter/0/msmtEps", "value": "2025-10-02T18:05:00Z"},
        {"name": "/sys/devices/inverter/0/ltea3phsumKwh", "value": "12.5kWh"},
        {"name": "/sys/devices/inverter/1/sn", "value": "E2"},
        {"name": "/sys/devices/inverter/1/msmtEps", "value": "2025-10-02T18:05:00Z"},
        {"name": "/sys/devices/inverter/1/ltea3phsumKwh", "value": "nan"},
        {"name": "/sys/devices/inverter/2/ltea3phsumKwh", "value": "3"},
        {"name": "/sys/devices/evcharger/0/socVal", "value": "0.5"},
        {"value": "orphan"},
        {"name": "/sys/livedata/pv_p", "value": "-x-"}
    ], "count": 12}"#;
    let vars = parse_vars(doc).unwrap();
    assert_eq!(vars.entries, 10);
    let problems: Vec<String> = vars.problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(
        problems,
        [
            "values[8]: \"name\" is missing or of the wrong form",
            "/sys/livedata/pv_p: pv_p: expected a decimal number, found \"-x-\"",
            "count: \"count\" says 12 values, the document holds 10",
            "/sys/devices/inverter/0: ltea3phsumKwh: expected a decimal number, found \"12.5kWh\"",
            "/sys/devices/inverter/2: no sn: a record needs the device's serial",
        ]
    );
    // The bad value costs its field, not the device's record.
    let Record::Inverter(inv) = vars.devices[0].records[0].record() else {
        panic!()
    };
    assert_eq!((inv.serial, inv.lifetime_energy_kwh), ("E1", None));
    let Record::Inverter(inv) = vars.devices[1].records[0].record() else {
        panic!()
    };
    assert_eq!((inv.serial, inv.lifetime_energy_kwh), ("E2", None));
    assert_eq!(vars.other_count, 1);
    assert_eq!(
        (vars.other[0].path.as_str(), vars.other[0].value.as_str()),
        ("/sys/devices/evcharger/0/socVal", "0.5")
    );
    // Each problem has its position and the kind every JSON source shares.
    let problem = &vars.problems[3];
    assert_eq!(
        problem.at,
        DocumentPosition::Path("/sys/devices/inverter/0".into())
    );
    assert_eq!(
        problem.kind,
        Kind::InvalidValue {
            field: "ltea3phsumKwh",
            expected: Expected::Decimal,
            found: "12.5kWh".into()
        }
    );
    let kinds: Vec<&str> = vars.problems.iter().map(|p| p.kind.name()).collect();
    assert_eq!(
        kinds,
        [
            "missing_key",
            "invalid_value",
            "count_mismatch",
            "invalid_value",
            "missing_serial"
        ]
    );
}

#[test]
fn a_bad_value_is_the_same_problem_kind_in_the_devicelist_and_in_vars() {
    let vars = parse_vars(
        r#"{"/sys/devices/inverter/0/sn": "E1",
        "/sys/devices/inverter/0/msmtEps": "2025-09-30T15:50:00Z",
        "/sys/devices/inverter/0/ltea3phsumKwh": "12,5"}"#,
    )
    .unwrap();
    let list = parse_device_list(
        r#"{"devices": [{"DEVICE_TYPE": "Inverter", "SERIAL": "E1",
        "DATATIME": "2025,09,30,15,50,00", "ltea_3phsum_kwh": "12,5"}]}"#,
    )
    .unwrap();
    let (from_vars, from_list) = (&vars.problems[..], &list.problems[..]);
    assert_eq!((from_vars.len(), from_list.len()), (1, 1));
    let invalid = |field| Kind::InvalidValue {
        field,
        expected: Expected::Decimal,
        found: "12,5".into(),
    };
    assert_eq!(
        (&from_vars[0].at, &from_vars[0].kind),
        (
            &DocumentPosition::Path("/sys/devices/inverter/0".into()),
            &invalid("ltea3phsumKwh")
        )
    );
    assert_eq!(
        (&from_list[0].at, &from_list[0].kind),
        (
            &DocumentPosition::Device {
                index: 0,
                serial: Some("E1".into())
            },
            &invalid("ltea_3phsum_kwh")
        )
    );
    // A device without a time: the same kind, with each source's name of the time.
    let vars = parse_vars(r#"{"/sys/devices/inverter/0/sn": "E1"}"#).unwrap();
    let list =
        parse_device_list(r#"{"devices": [{"DEVICE_TYPE": "Inverter", "SERIAL": "E1"}]}"#).unwrap();
    assert_eq!(
        vars.problems[0].kind,
        Kind::MissingTime { field: "msmtEps" }
    );
    assert_eq!(
        list.problems[0].kind,
        Kind::MissingTime { field: "DATATIME" }
    );
}

#[test]
fn vars_limits_other_than_the_default_are_kept() {
    let limits = DocumentLimits::default();
    assert_eq!(
        (
            limits.max_bytes,
            limits.max_devices,
            limits.max_other_kept,
            limits.max_problems_kept,
            limits.max_raw_value_bytes
        ),
        (32 * 1024 * 1024, 10_000, 1_000, 1_000, 1_024)
    );
    let doc = r#"{"/a": "12345", "/b": "2", "/sys/devices/inverter/0/sn": "E1",
        "/sys/devices/inverter/1/sn": "E2", "/sys/devices/inverter/2/sn": "E3"}"#;
    let mut small = limits;
    small.max_other_kept = 1;
    small.max_raw_value_bytes = 3;
    small.max_problems_kept = 2;
    let vars = parse_vars_with(doc, &small).unwrap();
    assert_eq!((vars.other.len(), vars.other_count), (1, 2));
    assert_eq!(
        (vars.other[0].value.as_str(), vars.other[0].truncated),
        ("123", true)
    );
    // Three devices without a time: two problems kept, one counted.
    assert_eq!((vars.problems.len(), vars.dropped), (2, 1));
    small.max_bytes = 10;
    let err = parse_vars_with(doc, &small).unwrap_err();
    assert!(matches!(refused(err), Kind::TooLarge { max: 10, .. }));
}

#[test]
fn one_unreadable_quantity_costs_its_field_and_the_device_keeps_its_lifetime_energy() {
    let doc = r#"{"/sys/devices/inverter/0/sn": "E00122",
        "/sys/devices/inverter/0/msmtEps": "2025-09-30T15:50:00Z",
        "/sys/devices/inverter/0/ltea3phsumKwh": "1915.253174",
        "/sys/devices/inverter/0/p3phsumKw": "0.2x1",
        "/sys/devices/inverter/0/vln3phavgV": "243.9"}"#;
    let vars = parse_vars(doc).unwrap();
    assert_eq!(vars.devices.len(), 1);
    let Record::Inverter(inv) = vars.devices[0].records[0].record() else {
        panic!("{:?}", vars.devices)
    };
    assert_eq!(inv.serial, "E00122");
    assert_eq!(inv.lifetime_energy_kwh, Some(1915.253174));
    assert_eq!(inv.ac_power_kw, None);
    assert_eq!(inv.ac_voltage_v, Some(243.9));
    // Built from the document's values, not from a line.
    assert_eq!(inv.source, Source::Vars);
    assert_eq!(vars.devices[0].records[0].line(), None);
    let problems: Vec<String> = vars.problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(
        problems,
        ["/sys/devices/inverter/0: p3phsumKw: expected a decimal number, found \"0.2x1\""]
    );
}

#[test]
fn documents_that_are_not_vars_objects_are_errors_with_position() {
    assert_eq!(refused(parse_vars("[1]").unwrap_err()), Kind::NotAnObject);
    let err = refused(parse_vars("{\"/sys/info/model\": \n  nope}").unwrap_err());
    assert!(
        matches!(
            err,
            Kind::InvalidJson {
                line: 2,
                column: 4,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(matches!(
        refused(parse_vars(b"").unwrap_err()),
        Kind::InvalidJson { .. }
    ));
    let empty = parse_vars("{}").unwrap();
    assert_eq!((empty.entries, empty.devices.len()), (0, 0));
}

#[test]
fn a_secret_where_a_value_was_expected_is_withheld_from_its_problem() {
    let doc = format!(
        r#"{{"/sys/devices/inverter/0/sn": "E1",
        "/sys/devices/inverter/0/msmtEps": "2025-10-02T18:05:00Z",
        "/sys/devices/inverter/0/ltea3phsumKwh": "{MAC1}",
        "/sys/livedata/pv_p": "{MAC2}"}}"#
    );
    let vars = parse_vars(&doc).unwrap();
    assert_eq!((vars.problems.len(), vars.withheld), (2, 2));
    for problem in &vars.problems {
        let message = problem.to_string();
        assert!(
            message.ends_with("found \"a MAC address (withheld)\""),
            "{message}"
        );
        assert!(!format!("{problem:?}").contains("3C:22") && !message.contains("3c-22"));
    }
}

/// Known secrets, in every place a dump can hold them.
const SSID: &str = "MyHomeNet-7391";
const KEY: &str = "correct horse battery staple";
const MAC1: &str = "3C:22:FB:8A:19:07";
const MAC2: &str = "3c-22-fb-8a-19-08";
const MAC3: &str = "A4:5E:60:C1:22:9B";

#[test]
fn secrets_appear_in_no_output() {
    let doc = format!(
        r#"{{
        "/sys/info/ssid": "{SSID}",
        "/sys/info/wpa_key": "{KEY}",
        "/sys/info/lmac": "{MAC1}",
        "/sys/info/active_interface_mac": "{MAC2}",
        "/sys/info/model": "PVS6",
        "/net/wlan0/hwaddr": "{MAC3}",
        "/net/wlan0/{MAC3}/state": "up",
        "/sys/wifi/psk": "{KEY}",
        "/sys/devices/inverter/0/sn": "E1",
        "/sys/devices/inverter/0/msmtEps": "2025-10-02T18:05:00Z",
        "/sys/devices/inverter/0/ltea3phsumKwh": "bad",
        "/sys/devices/3/meter/data": {{"sn": "M1c", "msmtEps": "2025-10-02T18:05:00Z",
                                       "macAddr": "{MAC1}", "note": "{MAC3}"}},
        "/sys/devices/4/inverter/data": "{MAC2}",
        "values": [{{"name": "/sys/info/ssid", "value": "{SSID}"}}]
    }}"#
    );
    let vars = parse_vars(&doc).unwrap();
    assert_eq!(vars.withheld, 11);
    let mut outputs = vec![format!("{vars:?}")];
    for p in &vars.problems {
        outputs.push(p.to_string());
    }
    for r in vars.records() {
        outputs.push(serde_json::to_string(&r.record()).unwrap());
        outputs.push(format!("{:?}", r.record()));
    }
    outputs.push(serde_json::to_string(&vars.supervisor).unwrap());
    outputs.push(serde_json::to_string(&vars.other).unwrap());
    for o in &vars.other {
        outputs.push(format!("{o:?}"));
    }
    // The same secrets in a supervisor-info document and in malformed documents.
    let info = parse_supervisor_info(format!(
        r#"{{"supervisor": {{"MODEL": "PVS6", "WIFI_SSID": "{SSID}", "NOTE": "{MAC1}"}}}}"#
    ))
    .unwrap();
    assert_eq!(info.withheld, 2);
    outputs.push(format!("{info:?}"));
    outputs.push(serde_json::to_string(&info).unwrap());
    for bad in [
        format!(r#"{{"/sys/info/wpa_key": "{KEY}" "#),
        format!(r#"{{"/sys/info/wpa_key": "{KEY}", }}"#),
        format!(r#"["{KEY}"]"#),
    ] {
        let err = parse_vars(&bad).unwrap_err();
        outputs.push(err.to_string());
        outputs.push(format!("{err:?}"));
    }
    for out in &outputs {
        for secret in [SSID, KEY, MAC1, MAC2, MAC3, "3C:22", "3c-22", "A4:5E"] {
            assert!(!out.contains(secret), "{secret} in {out}");
        }
    }
    // What is not secret is kept.
    assert_eq!(vars.supervisor.unwrap().model.as_deref(), Some("PVS6"));
    assert_eq!(vars.devices.len(), 2);
}

/// steveturbek/SunPower-PVS-Supervisor, build 61839: the DeviceList document shape.
#[test]
fn device_list_of_build_61839_decodes_with_import_export_counters() {
    let list = parse_device_list(sample("pvs6-61839-dl_cgi-devicelist.json")).unwrap();
    let types: Vec<u16> = (list.records.iter())
        .map(|r| r.record().record_type())
        .collect();
    assert_eq!(types, [120, 140, 140, 141, 130]);
    let Record::Meter(c) = list.records[2].record() else {
        panic!()
    };
    assert_eq!(c.import_energy_kwh, Some(32951.2099));
    assert_eq!(c.export_energy_kwh, Some(19044.29));
    assert_eq!(c.lifetime_net_energy_kwh, Some(13906.91));
    let Record::Meter(p) = list.records[1].record() else {
        panic!()
    };
    assert_eq!((p.import_energy_kwh, p.export_energy_kwh), (None, None));
    let json = serde_json::to_string(&list.records[1].record()).unwrap();
    assert!(!json.contains("import_energy_kwh"), "{json}");
    let json = serde_json::to_string(&list.records[2].record()).unwrap();
    assert!(json.contains("\"import_energy_kwh\":32951.2099"), "{json}");
    // RecordBuf round trip keeps the counters.
    assert_eq!(RecordBuf::from(&list.records[2].record()), list.records[2]);
    let Record::Inverter(inv) = list.records[4].record() else {
        panic!()
    };
    assert_eq!(inv.lifetime_energy_kwh, Some(2696.2471));
    assert_eq!(inv.dc_power_kw, Some(0.0012));
    assert_eq!(time(&list.records[4]), "2025-09-12T21:12:42+00:00");
    assert!(matches!(
        &list.problems[..],
        [e] if matches!(e.at, DocumentPosition::Device { index: 3, .. })
            && matches!(e.kind, Kind::NotWorking { decoded: true, .. })
    ));
}

#[test]
fn supervisor_info_document_decodes_and_its_errors_are_documents_errors() {
    let info = parse_supervisor_info(
        r#"{"result": "succeed", "supervisor": {"MODEL": "PVS6", "SERIAL": "ZT01234567890ABCDEF",
        "SWVER": "2021.9, Build 41001", "FWVER": "1.0.0", "BUILD": 41001, "EASICVER": 131329,
        "SCVER": 16504, "SCBUILD": 1185, "WNMODEL": 400, "WNVER": 3000, "WNSERIAL": 16}}"#,
    )
    .unwrap();
    assert_eq!(info.serial.as_deref(), Some("ZT01234567890ABCDEF"));
    assert_eq!(
        info.software_version.as_deref(),
        Some("2021.9, Build 41001")
    );
    assert_eq!(info.firmware_version.as_deref(), Some("1.0.0"));
    assert_eq!(info.build, Some(41001));
    let other: Vec<(&str, &str)> = (info.other.iter())
        .map(|o| (o.path.as_str(), o.value.as_str()))
        .collect();
    assert_eq!(
        other,
        [
            ("EASICVER", "131329"),
            ("SCVER", "16504"),
            ("SCBUILD", "1185"),
            ("WNMODEL", "400"),
            ("WNVER", "3000"),
            ("WNSERIAL", "16")
        ]
    );
    assert_eq!(
        refused(parse_supervisor_info(r#"{"result": "failed"}"#).unwrap_err()),
        Kind::Failed {
            result: "failed".into()
        }
    );
    assert_eq!(
        refused(parse_supervisor_info(r#"{"result": "succeed"}"#).unwrap_err()),
        Kind::MissingKey { key: "supervisor" }
    );
}

#[test]
fn arbitrary_bytes_never_panic() {
    let seeds = [
        sample("pvs6-61845-varserver-dump.json"),
        sample("pypvs-doc-61840-nested-meter-data.json"),
        sample("pypvs-doc-61840-array-form.json"),
    ];
    for seed in &seeds {
        for cut in (0..seed.len()).step_by(7) {
            let _ = parse_vars(&seed[..cut]);
            let mut flipped = seed.clone();
            flipped[cut] ^= 0x20;
            let _ = parse_vars(&flipped);
            let _ = parse_supervisor_info(&flipped);
        }
    }
}

/// Everything a `/vars` document can show: its Debug form, every problem, every record's JSON.
fn every_output(vars: &sunpower_proto::Vars) -> Vec<String> {
    let mut outputs = vec![format!("{vars:?}")];
    outputs.extend(vars.problems.iter().map(|p| p.to_string()));
    for r in vars.records() {
        outputs.push(serde_json::to_string(&r.record()).unwrap());
    }
    outputs.push(serde_json::to_string(&vars.supervisor).unwrap());
    outputs.push(serde_json::to_string(&vars.other).unwrap());
    outputs
}

/// Whether `text` holds a hex pair of the test MACs below, whatever the case or separator.
fn shows_mac(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    ["de:ad", "de-ad", "ad:be", "ad-be", "00:4", "00-4"]
        .iter()
        .any(|s| lower.contains(s))
}

#[test]
fn mac_shaped_values_are_withheld_in_every_field_key_and_problem() {
    let padding = "x".repeat(40);
    let doc = format!(
        r#"{{"/sys/devices/inverter/0/sn": "DE:AD:BE:EF:00:42",
        "/sys/devices/inverter/0/prodMdlNm": "AC_Module de:ad:be:ef:00:44",
        "/sys/devices/inverter/0/msmtEps": "2025-10-02T18:05:00Z",
        "/sys/devices/inverter/0/ltea3phsumKwh": "{padding}DE:AD:BE:EF:00:45",
        "/sys/devices/meter/0/sn": "DE-AD-BE-EF-00-43c",
        "/sys/devices/meter/0/msmtEps": "de-ad-be-ef-00-46",
        "/sys/devices/2/inverter/data": {{"sn": "de:ad:be:ef:00:47", "msmtEps": "2025-10-02T18:05:00Z"}},
        "/sys/info/DE:AD:BE:EF:00:48": "up",
        "/sys/livedata/pv_en": "DE:AD:BE:EF:00:49",
        "/sys/other/long": "{long}DE:AD:BE:EF:00:4A"}}"#,
        long = "y".repeat(3000)
    );
    let vars = parse_vars(&doc).unwrap();
    for out in every_output(&vars) {
        assert!(!shows_mac(&out), "a MAC in {out}");
    }
    // The devices are kept, their MAC-shaped serials replaced by their paths' placeholders.
    let serials: Vec<_> = vars.devices.iter().map(|d| d.serial.as_deref()).collect();
    assert_eq!(
        serials,
        [
            Some("withheld-inverter-0"),
            Some("withheld-inverter-n2"),
            Some("withheld-meter-0")
        ]
    );
    let Record::Inverter(inv) = vars.devices[0].records[0].record() else {
        panic!()
    };
    assert_eq!((inv.serial, inv.model), ("withheld-inverter-0", None));
    assert_eq!(vars.devices[1].records.len(), 1);
    // The meter's time cannot be read: said once, without the value.
    let meter: Vec<_> = vars
        .problems
        .iter()
        .filter(|p| p.at == DocumentPosition::Path("/sys/devices/meter/0".into()))
        .map(|p| p.to_string())
        .collect();
    assert_eq!(
        meter,
        [
            r#"/sys/devices/meter/0: msmtEps: expected an RFC 3339 time such as 2025-09-30T15:50:00Z, found "a MAC address (withheld)""#
        ]
    );
    assert_eq!(vars.withheld, 9);
    assert!(vars.other.is_empty());

    // The array form's `count`.
    let array = r#"{"values": [{"name": "/sys/livedata/pv_p", "value": "1"}],
        "count": "DE:AD:BE:EF:00:42"}"#;
    let vars = parse_vars(array).unwrap();
    for out in every_output(&vars) {
        assert!(!shows_mac(&out), "a MAC in {out}");
    }
    assert_eq!(vars.withheld, 1);
    assert_eq!(vars.problems[0].kind.name(), "count_mismatch");
}

#[test]
fn a_secret_named_anywhere_in_a_path_is_withheld() {
    let doc = format!(
        r#"{{"/sys/info/ssid": {{"value": "{SSID}"}},
        "/net/sta0/ssid/0": "{SSID}",
        "/net/sta0/wpa_key/current": {{"text": "{KEY}"}},
        "/net/sta0/state": "up",
        "values": [{{"name": "/sys/info/ssid", "value": {{"value": "{SSID}"}}}}]}}"#
    );
    let vars = parse_vars(&doc).unwrap();
    for out in every_output(&vars) {
        assert!(!out.contains(SSID) && !out.contains(KEY), "{out}");
    }
    assert_eq!(vars.withheld, 4);
    assert_eq!(
        (vars.other_count, vars.other[0].path.as_str()),
        (1, "/net/sta0/state")
    );
}

#[test]
fn one_bad_entry_costs_its_field_not_the_document() {
    let doc = r#"{"/sys/livedata/pv_en": 1e400, "/sys/livedata/pv_p": "2.5",
        "/sys/devices/3/meter/data": {"sn": "M1c", "msmtEps": "2025-10-02T18:05:00Z",
                                      "netLtea3phsumKwh": -1e999, "p3phsumKw": 1.5},
        "/sys/other": [1e400, 2]}"#;
    let vars = parse_vars(doc).unwrap();
    let site = vars.site.as_ref().unwrap();
    assert_eq!((site.pv_energy_kwh, site.pv_power_kw), (None, Some(2.5)));
    let Record::Meter(m) = vars.devices[0].records[0].record() else {
        panic!()
    };
    assert_eq!(
        (m.lifetime_net_energy_kwh, m.real_power_kw),
        (None, Some(1.5))
    );
    let problems: Vec<_> = vars.problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(
        problems,
        [
            r#"/sys/livedata/pv_en: pv_en: expected a decimal number, found "1e400""#,
            r#"/sys/devices/3/meter/data: netLtea3phsumKwh: expected a decimal number, found "-1e999""#,
        ]
    );
    assert_eq!(vars.other[0].value, "<object or array of 2 members>");

    // An entry of `values` that is not a {"name", "value"} object costs that entry.
    let array = r#"{"values": [1, {"name": "/sys/livedata/pv_p", "value": "3"}, "x",
        {"name": "/sys/livedata/pv_en", "value": 1e400}], "count": 4}"#;
    let vars = parse_vars(array).unwrap();
    assert_eq!(vars.site.as_ref().unwrap().pv_power_kw, Some(3.0));
    let problems: Vec<_> = vars.problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(
        problems,
        [
            "values[0]: not a JSON object",
            "values[2]: not a JSON object",
            r#"/sys/livedata/pv_en: pv_en: expected a decimal number, found "1e400""#,
        ]
    );
    assert_eq!(vars.entries, 4);

    // A leading byte-order mark is skipped.
    let vars = parse_vars(b"\xef\xbb\xbf {\"/sys/livedata/pv_p\": \"4\"}").unwrap();
    assert_eq!(vars.site.unwrap().pv_power_kw, Some(4.0));
    let info =
        parse_supervisor_info(b"\xef\xbb\xbf{\"supervisor\": {\"MODEL\": \"PVS6\"}}").unwrap();
    assert_eq!(info.model.as_deref(), Some("PVS6"));
}

#[test]
fn fields_past_the_limit_under_an_unknown_path_are_counted() {
    let fields: Vec<String> = (0..1000).map(|i| format!(r#""k{i}": {i}"#)).collect();
    let doc = format!(r#"{{"/sys/unknown/thing": {{{}}}}}"#, fields.join(","));
    let vars = parse_vars(&doc).unwrap();
    assert_eq!((vars.other_count, vars.dropped), (256, 744));
    assert_eq!(
        vars.problems[0].to_string(),
        "/sys/unknown/thing: more than 256 values, over the limit"
    );
}

#[test]
fn a_repeated_livedata_path_keeps_its_first_value_and_is_reported() {
    let doc = r#"{"/sys/livedata/pv_en": "1.5", "/sys/livedata/pv_en": "2.5",
        "values": [{"name": "/sys/livedata/pv_en", "value": "3.5"}]}"#;
    let vars = parse_vars(doc).unwrap();
    assert_eq!(vars.site.unwrap().pv_energy_kwh, Some(1.5));
    let problems: Vec<_> = vars.problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(
        problems,
        [
            "/sys/livedata/pv_en: pv_en given again: the first value is kept",
            "/sys/livedata/pv_en: pv_en given again: the first value is kept",
        ]
    );
}

#[test]
fn a_livedata_time_out_of_range_says_epoch_seconds_were_expected() {
    for time in [r#""1e20""#, "1e20", "1e400"] {
        let vars = parse_vars(format!(r#"{{"/sys/livedata/time": {time}}}"#)).unwrap();
        let message = vars.problems[0].to_string();
        assert!(
            message.contains("expected seconds or milliseconds since 1970"),
            "{message}"
        );
    }
}

#[test]
fn a_value_over_its_length_limit_is_not_copied_and_costs_its_field() {
    let mut limits = DocumentLimits::default();
    limits.max_raw_value_bytes = 64;
    let digits = "1".repeat(100);
    let doc = format!(
        r#"{{"/sys/devices/inverter/0/sn": "{serial}",
        "/sys/devices/inverter/1/sn": "E1",
        "/sys/devices/inverter/1/msmtEps": "2025-10-02T18:05:00Z",
        "/sys/devices/inverter/1/ltea3phsumKwh": {digits},
        "/sys/livedata/pv_en": "{digits}",
        "/sys/info/uptime": {digits},
        "/sys/other": "{digits}"}}"#,
        serial = "S".repeat(100)
    );
    let vars = parse_vars_with(&doc, &limits).unwrap();
    let Record::Inverter(inv) = vars.devices[1].records[0].record() else {
        panic!()
    };
    assert_eq!(inv.lifetime_energy_kwh, None);
    assert!(vars.devices[0].records.is_empty());
    let found: Vec<_> = vars
        .problems
        .iter()
        .filter_map(|p| match &p.kind {
            Kind::InvalidValue { field, found, .. } => Some((*field, found.as_str())),
            _ => None,
        })
        .collect();
    let head = format!("{}... (100 bytes)", &digits[..48]);
    let serial = format!("{}... (100 bytes)", "S".repeat(48));
    assert_eq!(
        found,
        [
            ("pv_en", head.as_str()),
            ("uptime", head.as_str()),
            ("sn", serial.as_str()),
            ("ltea3phsumKwh", head.as_str()),
        ]
    );
    assert_eq!(vars.other[0].value, digits[..64]);
    assert!(vars.other[0].truncated);
}

/// Issue 22: the livedata `soc` is a fraction on the wire and percent in the site totals, at
/// both ends; over 1 is a problem of the field (never 100 times too high), the rest is kept.
#[test]
fn livedata_state_of_charge_is_percent_and_over_one_is_a_problem() {
    let soc = |text: &str| {
        let doc = format!(
            r#"{{"/sys/livedata/time": "1759247902", "/sys/livedata/pv_en": "7.5",
                 "/sys/livedata/soc": "{text}"}}"#
        );
        parse_vars(doc).unwrap()
    };
    for (text, pct) in [("0", 0.0), ("0.000000", 0.0), ("1", 100.0), ("0.29", 29.0)] {
        let vars = soc(text);
        assert_eq!(vars.problems, [], "{text}");
        assert_eq!(vars.site.unwrap().battery_soc_pct, Some(pct), "{text}");
    }
    for text in ["1.5", "86", "-0.01"] {
        let vars = soc(text);
        let site = vars.site.as_ref().unwrap();
        assert_eq!(site.battery_soc_pct, None, "{text}");
        assert_eq!(site.pv_energy_kwh, Some(7.5)); // the rest of the totals kept
        assert_eq!(vars.problems.len(), 1, "{text}");
        assert_eq!(
            vars.problems[0].at,
            DocumentPosition::Path("/sys/livedata/soc".into())
        );
        assert_eq!(
            vars.problems[0].kind,
            Kind::InvalidValue {
                field: "soc",
                expected: Expected::Fraction,
                found: text.into()
            }
        );
    }
}
