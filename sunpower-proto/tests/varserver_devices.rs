//! Batteries, transfer switches, the supervisor's health and the meters' line voltage of
//! `/vars`, on documents built from the public variable tables (tests/data/local-api,
//! `varserver-variables-pvs6.csv` and `-pvs5.csv` of SunStrong-Management/pypvs, sources in its
//! README.txt): every name the tables list for these devices, in the flat, nested and array
//! shapes.
#![cfg(all(feature = "varserver", feature = "devicelist", feature = "serde"))]

use std::collections::BTreeMap;

use sunpower_proto::{
    parse_vars, Battery, DocumentPosition, DocumentProblemKind as Kind, Expected, FieldValue,
    MidState, PvDisconnectState, Record, TransferSwitch,
};

fn table(name: &str) -> String {
    let path = format!("{}/tests/data/local-api/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).unwrap()
}

/// The `(name, type)` of every `/sys/devices/<kind>/{index}/<name>` row of a variable table.
fn device_rows(table: &str, kind: &str) -> Vec<(String, String)> {
    let prefix = format!("/sys/devices/{kind}/{{index}}/");
    let mut rows: Vec<(String, String)> = table
        .lines()
        .filter_map(|line| {
            // The path and type are the first two columns, never quoted.
            let mut columns = line.splitn(3, ',');
            let name = columns.next()?.strip_prefix(&prefix)?;
            Some((name.to_owned(), columns.next()?.to_owned()))
        })
        .collect();
    rows.sort();
    rows.dedup();
    rows
}

/// Each battery name of the table, with the field it fills: the specification this test holds
/// the decoder to. Fractions (`socVal`, `customerSocVal`, `sohVal`) are percent in the record.
const BATTERY: [(&str, &str); 20] = [
    ("sn", "serial"),
    ("prodMdlNm", "model"),
    ("msmtEps", "timestamp"),
    ("opMode", "operating_mode"),
    ("p3phsumKw", "power_kw"),
    ("posLtea3phsumKwh", "discharge_energy_kwh"),
    ("negLtea3phsumKwh", "charge_energy_kwh"),
    ("v1nV", "leg1_voltage_v"),
    ("v2nV", "leg2_voltage_v"),
    ("socVal", "soc_pct"),
    ("customerSocVal", "customer_soc_pct"),
    ("sohVal", "soh_pct"),
    ("tInvtrDegc", "inverter_temp_c"),
    ("vBattV", "battery_voltage_v"),
    ("chrgLimitPmaxKw", "charge_limit_kw"),
    ("dischrgLimPmaxKw", "discharge_limit_kw"),
    ("maxTBattCellDegc", "max_cell_temp_c"),
    ("minTBattCellDegc", "min_cell_temp_c"),
    ("maxVBattCellV", "max_cell_voltage_v"),
    ("minVBattCellV", "min_cell_voltage_v"),
];

const TRANSFER_SWITCH: [(&str, &str); 11] = [
    ("sn", "serial"),
    ("prodMdlNm", "model"),
    ("msmtEps", "timestamp"),
    ("midStEnum", "mid_state"),
    ("pvd1StEnum", "pv_disconnect_state"),
    ("tDegc", "temperature_c"),
    ("v1nGridV", "grid_leg1_voltage_v"),
    ("v2nGridV", "grid_leg2_voltage_v"),
    ("v1nV", "leg1_voltage_v"),
    ("v2nV", "leg2_voltage_v"),
    ("vSpplyV", "supply_voltage_v"),
];

const FRACTIONS: [&str; 3] = ["socVal", "customerSocVal", "sohVal"];

/// A value for `name` of device `i`, as the varserver writes it (a string), and what the record
/// holds: texts as sent, numbers as read, fractions times 100.
fn value(kind: &str, name: &str, type_: &str, i: usize, n: usize) -> (String, Expect) {
    match (name, type_) {
        ("sn", _) => (
            format!("{kind}-SN-{i}"),
            Expect::Text(format!("{kind}-SN-{i}")),
        ),
        ("msmtEps", _) => {
            let text = format!("2025-09-30T15:5{i}:00Z");
            (text.clone(), Expect::Time(text))
        }
        ("midStEnum", _) => (
            "MID_STATE_CLOSED".into(),
            Expect::Text("MID_STATE_CLOSED".into()),
        ),
        ("pvd1StEnum", _) => (
            "PVD_STATE_OPEN".into(),
            Expect::Text("PVD_STATE_OPEN".into()),
        ),
        (_, "str") => {
            let text = format!("{name} {i}");
            (text.clone(), Expect::Text(text))
        }
        _ if FRACTIONS.contains(&name) => {
            // Hundredths, so that the percentage is the exact decimal one expects: 0.29 is 29.
            let hundredths = (n * 7 + i * 13) % 100;
            (
                format!("0.{hundredths:02}"),
                Expect::Number(hundredths as f64),
            )
        }
        _ => {
            let number = -12.5 + (n * 31 + i * 7) as f64 * 1.25;
            (format!("{number:.6}"), Expect::Number(number))
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Expect {
    Text(String),
    Time(String),
    Number(f64),
}

fn seen(value: FieldValue<'_>) -> Option<Expect> {
    match value {
        FieldValue::Text(t) => t.map(|t| Expect::Text(t.to_owned())),
        FieldValue::Time(t) => t.map(|t| Expect::Time(t.format("%Y-%m-%dT%H:%M:%SZ").to_string())),
        FieldValue::Decimal(v) => v.map(Expect::Number),
        other => panic!("{other:?}"),
    }
}

/// A device of the site: its kind's path name, its index, its fields' names and wire values.
type Device = (&'static str, usize, Vec<(String, String)>);

/// The site: two batteries, one transfer switch, flash wear `0x05`, a meter with `v12V`; each
/// device as `(kind, index, [(name, wire value)])`, and what each record field must hold.
struct Site {
    devices: Vec<Device>,
    expected: BTreeMap<(&'static str, usize), BTreeMap<&'static str, Expect>>,
}

fn site() -> Site {
    let pvs6 = table("varserver-variables-pvs6.csv");
    let mut site = Site {
        devices: Vec::new(),
        expected: BTreeMap::new(),
    };
    for (kind, mapping, count) in [
        ("ess", &BATTERY[..], 2),
        ("transfer_switch", &TRANSFER_SWITCH[..], 1),
    ] {
        let rows = device_rows(&pvs6, kind);
        // The table names exactly the fields this test maps: none left out.
        let mut names: Vec<&str> = mapping.iter().map(|(n, _)| *n).collect();
        names.sort();
        assert_eq!(
            rows.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
            names
        );
        for i in 0..count {
            let mut values = Vec::new();
            let expected = site.expected.entry((kind, i)).or_default();
            for (n, (name, type_)) in rows.iter().enumerate() {
                let (wire, expect) = value(kind, name, type_, i, n);
                let field = mapping.iter().find(|(m, _)| m == name).unwrap().1;
                expected.insert(field, expect);
                values.push((name.clone(), wire));
            }
            site.devices.push((kind, i, values));
        }
    }
    site.devices.push((
        "meter",
        0,
        vec![
            ("sn".into(), "PVS6M0c".into()),
            ("msmtEps".into(), "2025-09-30T15:50:00Z".into()),
            ("v12V".into(), "241.875".into()),
        ],
    ));
    site
}

fn json(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}

/// A JSON number where the varserver's nested shape writes one; text otherwise.
fn nested_value(text: &str) -> String {
    match text.parse::<f64>() {
        Ok(_) => text.to_owned(),
        Err(_) => json(text),
    }
}

fn flat(site: &Site) -> String {
    let mut entries = vec![format!(
        "{}: {}",
        json("/sys/pvs/flashwear_type_b"),
        json("0x05")
    )];
    for (kind, i, values) in &site.devices {
        for (name, value) in values {
            entries.push(format!(
                "{}: {}",
                json(&format!("/sys/devices/{kind}/{i}/{name}")),
                json(value)
            ));
        }
    }
    format!("{{{}}}", entries.join(",\n"))
}

fn nested(site: &Site) -> String {
    let mut entries = vec![format!(
        "{}: {}",
        json("/sys/pvs/flashwear_type_b"),
        json("0x05")
    )];
    for (n, (kind, _, values)) in site.devices.iter().enumerate() {
        let fields: Vec<String> = values
            .iter()
            .map(|(name, value)| format!("{}: {}", json(name), nested_value(value)))
            .collect();
        entries.push(format!(
            "{}: {{{}}}",
            json(&format!("/sys/devices/{}/{kind}/data", n + 3)),
            fields.join(", ")
        ));
    }
    format!("{{{}}}", entries.join(",\n"))
}

fn array(site: &Site) -> String {
    let mut values = vec![format!(
        "{{\"name\": {}, \"value\": {}}}",
        json("/sys/pvs/flashwear_type_b"),
        json("0x05")
    )];
    for (kind, i, fields) in &site.devices {
        for (name, value) in fields {
            values.push(format!(
                "{{\"name\": {}, \"value\": {}}}",
                json(&format!("/sys/devices/{kind}/{i}/{name}")),
                json(value)
            ));
        }
    }
    format!(
        "{{\"values\": [{}], \"count\": {}}}",
        values.join(",\n"),
        values.len()
    )
}

fn fields_of(
    visit: impl FnOnce(&mut dyn FnMut(&'static str, FieldValue<'_>)),
) -> BTreeMap<&'static str, Expect> {
    let mut got = BTreeMap::new();
    visit(&mut |name, value| {
        if let Some(v) = seen(value) {
            got.insert(name, v);
        }
    });
    got
}

#[test]
fn two_batteries_a_transfer_switch_and_flash_wear_decode_to_the_table_s_values_in_every_shape() {
    let site = site();
    let mut decoded = Vec::new();
    for (shape, doc) in [
        ("flat", flat(&site)),
        ("nested", nested(&site)),
        ("array", array(&site)),
    ] {
        let vars = parse_vars(&doc).unwrap();
        assert_eq!(vars.problems, [], "{shape}");
        // Every entry of these devices decoded: nothing kept raw, nothing withheld.
        assert_eq!(
            (vars.other_count, vars.withheld, vars.dropped),
            (0, 0, 0),
            "{shape}"
        );
        assert_eq!(vars.batteries.len(), 2, "{shape}");
        assert_eq!(vars.transfer_switches.len(), 1, "{shape}");
        for (i, battery) in vars.batteries.iter().enumerate() {
            let got = fields_of(|v| battery.visit_fields(v));
            assert_eq!(got, site.expected[&("ess", i)], "{shape} battery {i}");
            // Every field of the record's table was filled.
            assert_eq!(got.len(), Battery::FIELDS.len(), "{shape}");
        }
        let switch = &vars.transfer_switches[0];
        let got = fields_of(|v| switch.visit_fields(v));
        assert_eq!(got, site.expected[&("transfer_switch", 0)], "{shape}");
        assert_eq!(got.len(), TransferSwitch::FIELDS.len(), "{shape}");
        assert_eq!(switch.mid_state, Some(MidState::Closed));
        assert_eq!(switch.pv_disconnect_state, Some(PvDisconnectState::Open));
        let health = vars.health.as_ref().unwrap();
        assert_eq!(health.flash_wear_pct, Some(50.0), "{shape}");
        let Record::Meter(meter) = vars.devices[0].records[0].record() else {
            panic!("{shape}")
        };
        assert_eq!(meter.line_voltage_v, Some(241.875), "{shape}");
        decoded.push((vars.batteries.clone(), vars.transfer_switches.clone()));
    }
    // The three shapes give the same records.
    assert_eq!(decoded[0], decoded[1]);
    assert_eq!(decoded[0], decoded[2]);
}

fn one_battery(soc: &str, soh: &str) -> sunpower_proto::Vars {
    parse_vars(format!(
        r#"{{"/sys/devices/ess/0/sn": "B0", "/sys/devices/ess/0/msmtEps": "2025-09-30T15:50:00Z",
            "/sys/devices/ess/0/socVal": {soc}, "/sys/devices/ess/0/sohVal": {soh},
            "/sys/devices/ess/0/customerSocVal": "1"}}"#
    ))
    .unwrap()
}

#[test]
fn charge_and_health_read_0_to_100_and_a_value_over_1_is_a_problem_never_100_times_too_high() {
    let vars = one_battery(r#""0""#, "1");
    let battery = &vars.batteries[0];
    assert_eq!(
        (battery.soc_pct, battery.soh_pct, battery.customer_soc_pct),
        (Some(0.0), Some(100.0), Some(100.0))
    );
    assert_eq!(vars.problems, []);
    let vars = one_battery(r#""0.86""#, "0.98");
    assert_eq!(
        (vars.batteries[0].soc_pct, vars.batteries[0].soh_pct),
        (Some(86.0), Some(98.0))
    );
    // Already percent on the wire (or garbage): the field is lost, with a problem naming it;
    // the battery keeps its other fields.
    let vars = one_battery(r#""86""#, "98");
    let battery = &vars.batteries[0];
    assert_eq!((battery.soc_pct, battery.soh_pct), (None, None));
    assert_eq!(battery.customer_soc_pct, Some(100.0));
    let problems: Vec<_> = vars
        .problems
        .iter()
        .map(|p| (p.at.clone(), p.kind.clone()))
        .collect();
    let at = DocumentPosition::Path("/sys/devices/ess/0".into());
    assert_eq!(
        problems,
        [
            (
                at.clone(),
                Kind::InvalidValue {
                    field: "socVal",
                    expected: Expected::Fraction,
                    found: "86".into()
                }
            ),
            (
                at,
                Kind::InvalidValue {
                    field: "sohVal",
                    expected: Expected::Fraction,
                    found: "98".into()
                }
            ),
        ]
    );
    assert!(vars.problems[0]
        .to_string()
        .contains("a fraction from 0 to 1"));
    let vars = one_battery(r#""-0.01""#, "1.0001");
    assert_eq!(vars.batteries[0].soc_pct, None);
    assert_eq!(vars.batteries[0].soh_pct, None);
    assert_eq!(vars.problems.len(), 2);
}

#[test]
fn flash_wear_is_tenths_of_life_capped_and_anything_else_a_problem() {
    let wear = |value: &str| {
        let vars = parse_vars(format!(r#"{{"/sys/pvs/flashwear_type_b": {value}}}"#)).unwrap();
        let problems: Vec<Kind> = vars.problems.iter().map(|p| p.kind.clone()).collect();
        (vars.health.and_then(|h| h.flash_wear_pct), problems)
    };
    assert_eq!(wear(r#""0x05""#), (Some(50.0), vec![]));
    assert_eq!(wear(r#""0x0B""#), (Some(100.0), vec![]));
    assert_eq!(wear(r#""0x00""#), (Some(0.0), vec![]));
    assert_eq!(wear("5"), (Some(50.0), vec![]));
    assert_eq!(wear(r#""nan""#), (None, vec![]));
    for bad in [r#""0x0C""#, r#""0xFF""#, r#""worn""#, "true"] {
        let (pct, problems) = wear(bad);
        assert_eq!(pct, None, "{bad}");
        assert!(
            matches!(
                problems.as_slice(),
                [Kind::InvalidValue {
                    field: "flashwear_type_b",
                    expected: Expected::FlashWear,
                    ..
                }]
            ),
            "{bad}: {problems:?}"
        );
    }
    // Other /sys/pvs statistics are kept raw, counted.
    let vars = parse_vars(r#"{"/sys/pvs/usb_erase_count": "3"}"#).unwrap();
    assert_eq!(
        (vars.other_count, vars.other[0].path.as_str()),
        (1, "/sys/pvs/usb_erase_count")
    );
    assert_eq!(vars.health, None);
}

#[test]
fn the_health_holds_the_supervisor_s_usage_and_never_a_secret() {
    let vars = parse_vars(
        r#"{"/sys/info/sw_rev": "2025.09.04.61845", "/sys/info/serialnum": "ZT01",
            "/sys/info/model": "PVS6", "/sys/info/uptime": "81666.5",
            "/sys/info/ram_usage": "47", "/sys/info/cpu_usage": "12", "/sys/info/flash_usage": "58",
            "/sys/info/ssid": "HomeWiFi", "/sys/info/wpa_key": "hunter2hunter2",
            "/sys/info/lmac": "00:22:f2:aa:bb:cc", "/sys/pvs/flashwear_type_b": "0x03",
            "/sys/livedata/time": "1759247902"}"#,
    )
    .unwrap();
    let health = vars.health.as_ref().unwrap();
    assert_eq!(health.build, Some(61845));
    assert_eq!(health.software_version.as_deref(), Some("2025.09.04.61845"));
    assert_eq!(
        (health.serial.as_deref(), health.model.as_deref()),
        (Some("ZT01"), Some("PVS6"))
    );
    assert_eq!(
        (
            health.uptime_s,
            health.ram_usage_pct,
            health.cpu_usage_pct,
            health.flash_usage_pct,
            health.flash_wear_pct
        ),
        (
            Some(81666.5),
            Some(47.0),
            Some(12.0),
            Some(58.0),
            Some(30.0)
        )
    );
    assert_eq!(health.timestamp.unwrap().timestamp(), 1759247902);
    assert_eq!(vars.withheld, 3);
    let out = serde_json::to_string(health).unwrap();
    assert!(
        out.starts_with(r#"{"record_type":"supervisor_health","timestamp":"2025-09-30T15:58:22Z""#),
        "{out}"
    );
    for secret in ["HomeWiFi", "hunter2", "00:22", "aa:bb"] {
        assert!(
            !out.contains(secret) && !format!("{vars:?}").contains(secret),
            "{secret}"
        );
    }
}

#[test]
fn unknown_states_are_kept_as_sent() {
    let vars = parse_vars(
        r#"{"/sys/devices/7/transfer_switch/data": {"sn": "MIDC1", "msmtEps": "2025-09-30T15:50:00Z",
            "midStEnum": "MID_STATE_SOMETHING_NEW", "pvd1StEnum": "PVD_STATE_CLOSED", "tDegc": 31.5}}"#,
    )
    .unwrap();
    let switch = &vars.transfer_switches[0];
    assert_eq!(
        switch.mid_state,
        Some(MidState::Other("MID_STATE_SOMETHING_NEW".into()))
    );
    assert_eq!(switch.pv_disconnect_state, Some(PvDisconnectState::Closed));
    assert_eq!(switch.temperature_c, Some(31.5));
    let out = serde_json::to_string(switch).unwrap();
    assert!(
        out.contains(
            r#""mid_state":"MID_STATE_SOMETHING_NEW","pv_disconnect_state":"PVD_STATE_CLOSED""#
        ),
        "{out}"
    );
}

#[test]
fn a_battery_without_serial_or_time_is_a_problem_not_a_record() {
    let vars = parse_vars(
        r#"{"/sys/devices/ess/0/socVal": "0.5", "/sys/devices/ess/1/sn": "B1",
            "/sys/devices/ess/2/sn": "B2", "/sys/devices/ess/2/msmtEps": "yesterday"}"#,
    )
    .unwrap();
    assert_eq!(vars.batteries, []);
    let kinds: Vec<_> = vars
        .problems
        .iter()
        .map(|p| (p.at.clone(), p.kind.name()))
        .collect();
    let at = |i: u32| DocumentPosition::Path(format!("/sys/devices/ess/{i}"));
    assert_eq!(
        kinds,
        [
            (at(0), "missing_serial"),
            (at(1), "missing_time"),
            (at(2), "invalid_value")
        ]
    );
}

/// The PVS5's table names no battery, transfer switch or flash wear, and its meter and inverter
/// names are the PVS6's (`v12V` included): one mapping serves both.
#[test]
fn the_pvs5_table_s_device_names_are_the_pvs6_s() {
    let (pvs5, pvs6) = (
        table("varserver-variables-pvs5.csv"),
        table("varserver-variables-pvs6.csv"),
    );
    for kind in ["inverter", "meter"] {
        let five = device_rows(&pvs5, kind);
        assert!(!five.is_empty(), "{kind}");
        assert_eq!(five, device_rows(&pvs6, kind), "{kind}");
    }
    for kind in ["ess", "transfer_switch"] {
        assert_eq!(device_rows(&pvs5, kind), [], "{kind}");
    }
    assert!(!pvs5.contains("flashwear"));
    assert!(device_rows(&pvs5, "meter").iter().any(|(n, _)| n == "v12V"));
}
