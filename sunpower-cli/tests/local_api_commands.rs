//! `sunpower vars`, `sunpower telemetry` and `intervals --vars/--telemetry` end to end, on the
//! shared samples (copied under sunpower-proto/tests/data/local-api) and generated documents.

mod common;

use common::{json_lines, sunpower, sunpower_ok};

const DUMP: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../sunpower-proto/tests/data/local-api/pvs6-61845-varserver-dump.json"
);

/// A flat `/vars` document: `n` inverters with lifetime counters at `kwh`, the site totals, and
/// the Wi-Fi secrets and MAC addresses of a real dump.
fn vars_doc(time: i64, kwh: f64) -> String {
    let mut entries = vec![
        ("/sys/info/ssid".to_owned(), "CorrectHorseNet".to_owned()),
        (
            "/sys/info/wpa_key".to_owned(),
            "battery-staple-9431".to_owned(),
        ),
        ("/sys/info/lmac".to_owned(), "a4:83:e7:12:34:56".to_owned()),
        (
            "/sys/info/serialnum".to_owned(),
            "ZT0123456789A1234".to_owned(),
        ),
        ("/sys/livedata/time".to_owned(), time.to_string()),
        (
            "/sys/livedata/pv_en".to_owned(),
            format!("{:.6}", 1000.0 + 2.0 * kwh),
        ),
    ];
    for i in 0..2 {
        let field = |f: &str| format!("/sys/devices/inverter/{i}/{f}");
        entries.push((field("sn"), format!("E00122{i:06}")));
        entries.push((field("prodMdlNm"), "AC_Module_Type_H".to_owned()));
        let at = chrono::DateTime::from_timestamp(time, 0).unwrap();
        entries.push((
            field("msmtEps"),
            at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        ));
        entries.push((field("ltea3phsumKwh"), format!("{kwh:.4}")));
        entries.push((field("p3phsumKw"), "0.2".to_owned()));
    }
    let body: Vec<String> = entries
        .iter()
        .map(|(k, v)| format!("{k:?}: {v:?}"))
        .collect();
    format!("{{{}}}", body.join(", "))
}

/// Every line is an object that says what it is first, the same way: `record_type`, a collector
/// kind's number (records) or the name of a kind no collector line has (`site_totals`,
/// `supervisor_info`); no other discriminator.
fn every_object_says_what_it_is(out: &std::process::Output) {
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(!text.is_empty());
    for line in text.lines() {
        let rest = line.strip_prefix(r#"{"record_type":"#).expect(line);
        let numeric = rest.starts_with(|c: char| c.is_ascii_digit());
        let named = [
            "\"site_totals\",",
            "\"supervisor_info\",",
            "\"supervisor_health\",",
            "\"battery\",",
            "\"transfer_switch\",",
        ]
        .iter()
        .any(|name| rest.starts_with(name));
        assert!(numeric || named, "{line}");
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(row.get("kind").is_none(), "{line}");
    }
}

fn no_secret(out: &std::process::Output) {
    let all = [&out.stdout[..], &out.stderr[..]].concat();
    let text = String::from_utf8_lossy(&all);
    for secret in [
        "CorrectHorseNet",
        "battery-staple-9431",
        "a4:83:e7:12:34:56",
        "A4:83:E7",
    ] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
}

#[test]
fn vars_prints_each_device_the_supervisor_and_the_site_and_no_secret() {
    let out = sunpower_ok(&["vars", DUMP], None);
    no_secret(&out);
    let rows = json_lines(&out);
    let inverters = rows.iter().filter(|r| r["record_type"] == 130).count();
    assert!(inverters > 0);
    let site = rows
        .iter()
        .find(|r| r["record_type"] == "site_totals")
        .unwrap();
    assert_eq!(site["pv_energy_kwh"], 27867.650391);
    assert!(rows.iter().any(|r| r["record_type"] == "supervisor_info"));
    // The dump's flash wear, 0x0b: past its rated life, 100 %.
    let health = rows
        .iter()
        .find(|r| r["record_type"] == "supervisor_health")
        .unwrap();
    assert_eq!(
        (&health["flash_wear_pct"], &health["build"]),
        (&100.0.into(), &61845.into())
    );
    every_object_says_what_it_is(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("secret values (Wi-Fi, MAC addresses) withheld"),
        "{stderr}"
    );

    let dir = std::env::temp_dir().join(format!("sunpower-vars-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let doc = dir.join("poll.json");
    std::fs::write(&doc, vars_doc(1_751_083_200, 10.0)).unwrap();
    let out = sunpower_ok(&["vars", doc.to_str().unwrap()], None);
    no_secret(&out);
    let rows = json_lines(&out);
    assert_eq!(rows.iter().filter(|r| r["record_type"] == 130).count(), 2);
    every_object_says_what_it_is(&out);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn two_polls_five_minutes_apart_give_the_counter_differences() {
    let dir = std::env::temp_dir().join(format!("sunpower-polls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let t0 = 1_751_083_200; // 2025-06-28T04:00:00Z
    let (a, b) = (dir.join("a.json"), dir.join("b.json"));
    std::fs::write(&a, vars_doc(t0, 10.0)).unwrap();
    std::fs::write(&b, vars_doc(t0 + 300, 10.05)).unwrap();
    let out = sunpower_ok(
        &[
            "intervals",
            "--tz",
            "UTC",
            "--format",
            "jsonl",
            "--vars",
            a.to_str().unwrap(),
            "--vars",
            b.to_str().unwrap(),
        ],
        None,
    );
    no_secret(&out);
    let rows = json_lines(&out);
    let total: f64 = rows
        .iter()
        .map(|r| r["production_wh"].as_f64().unwrap())
        .sum();
    // Two inverters, +0.05 kWh each.
    assert!(
        (total - 100.0).abs() < 1e-6,
        "{total} Wh in {} rows",
        rows.len()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

fn frame(time: i64, pv_en: f64, net_en: f64) -> String {
    format!(
        r#"{{"notification":"power","params":{{"time":{time},"pv_p":"1.2","pv_en":"{pv_en:.6}","net_p":"-0.4","net_en":"{net_en:.6}","site_load_p":"0.8","site_load_en":"100.0","soc":"nan"}}}}"#
    )
}

#[test]
fn telemetry_streams_records_and_per_second_frames_roll_into_intervals() {
    // 20 minutes of a frame every second, +1 Wh of production and -0.25 Wh of net a second,
    // with a status notification and a damaged frame among them.
    let t0 = 1_751_083_200;
    let mut stream = String::new();
    for s in 0..=1200 {
        stream.push_str(&frame(
            t0 + s,
            500.0 + s as f64 / 1000.0,
            80.0 - s as f64 / 4000.0,
        ));
        stream.push('\n');
        if s == 30 {
            stream.push_str("{\"notification\":\"status\",\"params\":{}}\nnot json\n");
        }
    }
    let out = sunpower_ok(&["telemetry", "-"], Some(stream.as_bytes()));
    let rows = json_lines(&out);
    assert_eq!(rows.len(), 1201);
    assert_eq!(rows[0]["record_type"], "site_totals");
    every_object_says_what_it_is(&out);
    assert_eq!(rows[0]["battery_soc_pct"], serde_json::Value::Null); // "nan" is not a reading
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("<stdin>: frame 33: invalid JSON"),
        "{stderr}"
    );
    assert!(stderr.contains("1 other notifications"), "{stderr}");

    let out = sunpower_ok(
        &[
            "intervals",
            "--tz",
            "UTC",
            "--format",
            "jsonl",
            "--telemetry",
            "-",
        ],
        Some(stream.as_bytes()),
    );
    let rows = json_lines(&out);
    // Live: an interval is written once its end has passed (frames come every second, not once
    // an interval), then only revised when something changes it.
    assert!(rows.len() <= 6, "{} rows", rows.len());
    let mut latest = std::collections::BTreeMap::new();
    for row in &rows {
        latest.insert(
            row["interval_start"].as_str().unwrap().to_owned(),
            row.clone(),
        );
    }
    let sum = |key: &str| -> f64 {
        latest
            .values()
            .map(|r| r[key].as_f64().unwrap_or(0.0))
            .sum()
    };
    // The counters at the ends: 1.2 kWh produced, 0.3 kWh exported over the 20 minutes.
    assert!(
        (sum("production_wh") - 1200.0).abs() < 1e-6,
        "{}",
        sum("production_wh")
    );
    assert!((sum("net_wh") + 300.0).abs() < 1e-6, "{}", sum("net_wh"));
}

#[test]
fn an_unreadable_vars_document_exits_1() {
    let out = sunpower(&["vars", "/nonexistent.json"], None);
    assert_eq!(out.status.code(), Some(1));
    let out = sunpower(&["vars", "-"], Some(b"{\"values\": 3}"));
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
}

#[test]
fn a_bad_value_is_reported_alike_by_vars_and_devicelist_and_costs_its_field() {
    let vars = r#"{"/sys/devices/inverter/0/sn": "E1",
        "/sys/devices/inverter/0/msmtEps": "2025-09-30T15:50:00Z",
        "/sys/devices/inverter/0/ltea3phsumKwh": "12,5"}"#;
    let out = sunpower_ok(&["vars", "-"], Some(vars.as_bytes()));
    every_object_says_what_it_is(&out);
    let rows = json_lines(&out);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["lifetime_energy_kwh"], serde_json::Value::Null);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            r#"<stdin>: /sys/devices/inverter/0: ltea3phsumKwh: expected a decimal number, found "12,5""#
        ),
        "{stderr}"
    );

    let list = r#"{"devices": [{"DEVICE_TYPE": "Inverter", "SERIAL": "E1",
        "DATATIME": "2025,09,30,15,50,00", "ltea_3phsum_kwh": "12,5"}]}"#;
    let out = sunpower_ok(&["devicelist", "-"], Some(list.as_bytes()));
    every_object_says_what_it_is(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            r#"<stdin>: device 0 (E1): ltea_3phsum_kwh: expected a decimal number, found "12,5""#
        ),
        "{stderr}"
    );
}

#[test]
fn vars_prints_no_mac_shaped_value_in_any_field_key_or_problem() {
    let doc = r#"{"/sys/devices/inverter/0/sn": "DE:AD:BE:EF:00:42",
        "/sys/devices/inverter/0/prodMdlNm": "AC_Module de:ad:be:ef:00:44",
        "/sys/devices/inverter/0/msmtEps": "2025-09-30T15:50:00Z",
        "/sys/devices/inverter/0/ltea3phsumKwh": "12.5",
        "/sys/devices/inverter/1/sn": "E1",
        "/sys/devices/inverter/1/msmtEps": "DE:AD:BE:EF:00:45",
        "/sys/devices/inverter/1/ltea3phsumKwh": "x DE:AD:BE:EF:00:46",
        "/sys/devices/meter/0/sn": "DE-AD-BE-EF-00-43c",
        "/sys/devices/meter/0/msmtEps": "2025-09-30T15:50:00Z",
        "/sys/info/DE:AD:BE:EF:00:47": "up",
        "/sys/info/ssid": {"value": "CorrectHorseNet"},
        "/sys/livedata/pv_en": "DE:AD:BE:EF:00:48",
        "values": [{"name": "/net/sta0/ssid/0", "value": "CorrectHorseNet"}],
        "count": "DE:AD:BE:EF:00:49"}"#;
    for args in [
        &["vars", "-"][..],
        &["intervals", "--tz", "UTC", "--vars", "-"],
    ] {
        let out = sunpower_ok(args, Some(doc.as_bytes()));
        no_secret(&out);
        let all =
            String::from_utf8_lossy(&[&out.stdout[..], &out.stderr[..]].concat()).to_lowercase();
        for pair in ["de:ad", "de-ad", "ef:00", "ef-00"] {
            assert!(!all.contains(pair), "{pair} in {all}");
        }
    }
    let out = sunpower_ok(&["vars", "-"], Some(doc.as_bytes()));
    let rows = json_lines(&out);
    let serials: Vec<_> = rows
        .iter()
        .filter(|r| r["record_type"] == 130 || r["record_type"] == 140)
        .map(|r| r["serial"].as_str().unwrap())
        .collect();
    assert_eq!(serials, ["withheld-inverter-0", "withheld-meter-0"]);
}

#[test]
fn a_vars_document_with_a_bom_or_a_number_out_of_range_is_read() {
    let doc = b"\xef\xbb\xbf{\"/sys/livedata/pv_en\": 1e400, \"/sys/livedata/pv_p\": \"2.5\"}";
    let out = sunpower_ok(&["vars", "-"], Some(doc));
    let rows = json_lines(&out);
    assert_eq!(rows[0]["pv_power_kw"], 2.5);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            r#"<stdin>: /sys/livedata/pv_en: pv_en: expected a decimal number, found "1e400""#
        ),
        "{stderr}"
    );
}

#[test]
fn interval_events_are_capped_per_kind_with_a_count_of_the_rest() {
    // Issue 25: 4 Hz telemetry gave one "conflicting duplicate" line per extra frame of a
    // second. 250 seconds of two different frames each: 100 shown, 150 counted.
    let t0 = 1_751_083_200;
    let mut stream = String::new();
    for s in 0..250 {
        for extra in [0.0, 0.0001] {
            stream.push_str(&frame(t0 + s, 500.0 + s as f64 / 1000.0 + extra, 80.0));
            stream.push('\n');
        }
    }
    let out = sunpower_ok(
        &["intervals", "--tz", "UTC", "--telemetry", "-"],
        Some(stream.as_bytes()),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let shown = stderr
        .lines()
        .filter(|l| l.contains("conflicting duplicate of 0 site_totals"))
        .count();
    assert_eq!(shown, 100, "{stderr}");
    assert!(
        stderr.contains("sunpower: 150 more conflicting duplicate problems not shown"),
        "{stderr}"
    );
}

#[test]
fn vars_prints_batteries_and_transfer_switches_in_percent_and_by_name() {
    let dir = std::env::temp_dir().join(format!("sunpower-vars-ess-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let doc = dir.join("ess.json");
    std::fs::write(
        &doc,
        r#"{"/sys/devices/5/ess/data": {"sn": "BC01", "msmtEps": "2025-09-30T15:50:00Z",
              "socVal": 0.86, "sohVal": 1, "posLtea3phsumKwh": 120.5, "negLtea3phsumKwh": 140.25},
            "/sys/devices/transfer_switch/0/sn": "MIDC01",
            "/sys/devices/transfer_switch/0/msmtEps": "2025-09-30T15:50:00Z",
            "/sys/devices/transfer_switch/0/midStEnum": "MID_STATE_OPEN"}"#,
    )
    .unwrap();
    let out = sunpower_ok(&["vars", doc.to_str().unwrap()], None);
    let rows = json_lines(&out);
    let kinds: Vec<_> = rows.iter().map(|r| r["record_type"].clone()).collect();
    assert_eq!(kinds, ["battery", "transfer_switch"]);
    let battery = &rows[0];
    assert_eq!(
        (&battery["soc_pct"], &battery["soh_pct"]),
        (&86.0.into(), &100.0.into())
    );
    assert_eq!(
        (
            &battery["discharge_energy_kwh"],
            &battery["charge_energy_kwh"]
        ),
        (&120.5.into(), &140.25.into())
    );
    assert_eq!(rows[1]["mid_state"], "MID_STATE_OPEN");
    every_object_says_what_it_is(&out);
    // `intervals --vars` takes the document (its batteries give no inverter energy).
    let out = sunpower_ok(
        &[
            "intervals",
            "--vars",
            doc.to_str().unwrap(),
            "--format",
            "jsonl",
        ],
        None,
    );
    assert!(out.status.success());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A DeviceList poll of a SunVault site at `time`: the supervisor, one inverter (lifetime
/// `inverter_kwh`) and the Energy Storage System with its discharge and charge counters.
fn sunvault_device_list(time: &str, inverter_kwh: f64, discharged: f64, charged: f64) -> String {
    format!(
        r#"{{"devices": [
  {{"DEVICE_TYPE": "PVS", "SERIAL": "ZT1", "STATE": "working", "DATATIME": "{time}"}},
  {{"DEVICE_TYPE": "Inverter", "SERIAL": "E001", "MODEL": "AC_Module_Type_E", "STATE": "working",
    "DATATIME": "{time}", "ltea_3phsum_kwh": "{inverter_kwh}", "p_3phsum_kw": "0.3"}},
  {{"DEVICE_TYPE": "Energy Storage System", "SERIAL": "ESS1", "MODEL": "SPWR-Equinox-model",
    "STATE": "working", "DATATIME": "{time}", "soc_val": "0.5",
    "pos_ltea_3phsum_kwh": "{discharged}", "neg_ltea_3phsum_kwh": "{charged}"}}
], "result": "succeed"}}"#
    )
}

#[test]
fn a_device_list_s_battery_is_printed_and_its_counters_give_the_interval_s_battery_energy() {
    let dir = std::env::temp_dir().join(format!("sunpower-dl-ess-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (a, b) = (dir.join("a.json"), dir.join("b.json"));
    std::fs::write(
        &a,
        sunvault_device_list("2024,04,17,18,00,00", 100.0, 500.0, 600.0),
    )
    .unwrap();
    // Five minutes later: the inverter made 0.025 kWh, the battery discharged 0.2 and charged
    // 0.05 kWh.
    std::fs::write(
        &b,
        sunvault_device_list("2024,04,17,18,05,00", 100.025, 500.2, 600.05),
    )
    .unwrap();

    let out = sunpower_ok(&["devicelist", a.to_str().unwrap()], None);
    let rows = json_lines(&out);
    let battery = rows.iter().find(|r| r["record_type"] == "battery").unwrap();
    assert_eq!(battery["serial"], "ESS1");
    assert_eq!(battery["soc_pct"], 50.0);
    assert_eq!(battery["discharge_energy_kwh"], 500.0);

    let out = sunpower_ok(
        &[
            "intervals",
            "--tz",
            "UTC",
            "--format",
            "jsonl",
            "--devicelist",
            a.to_str().unwrap(),
            "--devicelist",
            b.to_str().unwrap(),
        ],
        None,
    );
    let rows = json_lines(&out);
    let row = rows
        .iter()
        .find(|r| r["interval_start"] == "2024-04-17T18:00:00Z")
        .unwrap_or_else(|| panic!("{rows:#?}"));
    // Discharged minus charged, positive into the house.
    assert!(
        (row["battery_wh"].as_f64().unwrap() - 150.0).abs() < 1e-6,
        "{row}"
    );
    assert_eq!(row["battery_soc_pct"], 50.0);
    assert!(
        (row["production_wh"].as_f64().unwrap() - 25.0).abs() < 1e-6,
        "{row}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_telemetry_file_longer_than_the_horizon_gives_every_interval_once_in_order() {
    // Issue 25 item 8: a saved stream is held 35 days (the telemetry preset), the intervals
    // that fall out of that horizon written out as they become final. 40 days of a frame
    // every 20 s (finer than any cadence: folded to two readings an interval), +1 Wh each,
    // and one frame of a clock gone wrong ten years ahead, which must move no horizon.
    let t0: i64 = 1_751_083_200;
    let frames: i64 = 40 * 86_400 / 20;
    let mut stream = String::new();
    for i in 0..frames {
        if i == frames / 2 {
            let t = t0 + 10 * 365 * 86_400;
            stream.push_str(&format!(
                "{{\"notification\":\"power\",\"params\":{{\"time\":{t},\"pv_en\":\"9.000000\"}}}}\n"
            ));
        }
        let (t, kwh) = (t0 + 20 * i, 500.0 + i as f64 / 1000.0);
        stream.push_str(&format!(
            "{{\"notification\":\"power\",\"params\":{{\"time\":{t},\"pv_en\":\"{kwh:.6}\"}}}}\n"
        ));
    }
    let dir = std::env::temp_dir().join(format!("sunpower-long-telemetry-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("telemetry.jsonl");
    std::fs::write(&file, stream).unwrap();
    let out = sunpower_ok(
        &[
            "intervals",
            "--tz",
            "UTC",
            "--format",
            "jsonl",
            "--telemetry",
            file.to_str().unwrap(),
        ],
        None,
    );
    std::fs::remove_dir_all(&dir).unwrap();
    let rows = json_lines(&out);
    // 288 intervals a day, and the one the first frame ends.
    assert_eq!(rows.len(), 40 * 288 + 1);
    let starts: Vec<&str> = rows
        .iter()
        .map(|r| r["interval_start"].as_str().unwrap())
        .collect();
    assert!(starts.windows(2).all(|w| w[0] < w[1]), "not in order");
    assert!(rows
        .windows(2)
        .all(|w| w[0]["interval_end"] == w[1]["interval_start"]));
    assert!(rows[1..rows.len() - 1]
        .iter()
        .all(|r| r["production_wh"].as_f64() == Some(15.0)));
    let production: f64 = rows
        .iter()
        .map(|r| r["production_wh"].as_f64().unwrap())
        .sum();
    assert!(
        (production - (frames - 1) as f64).abs() < 1e-6,
        "{production}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("older than the horizon"), "{stderr}");
    assert!(stderr.contains("implausibly far"), "{stderr}");
}
