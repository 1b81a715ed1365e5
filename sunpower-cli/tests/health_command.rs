//! `sunpower health`: the shipped sample (a healthy day) and a generated body with a dead
//! inverter, in both formats.

mod common;

use common::{json_lines, sunpower_ok};

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sample.pcap");

#[test]
fn sample_capture_is_healthy() {
    // Twenty inverters within a few percent of each other, each reporting every daylight
    // interval, the supervisor posting every five minutes: nothing a person would flag.
    let out = sunpower_ok(&["health", SAMPLE, "--tz", "America/Los_Angeles"], None);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "no findings\n");
    let out = sunpower_ok(
        &[
            "health",
            SAMPLE,
            "--tz",
            "America/Los_Angeles",
            "--format",
            "jsonl",
        ],
        None,
    );
    assert!(out.stdout.is_empty());
}

/// One UTC day of four inverters under a sun-shaped curve; INV3 reports 0 kW all day, and the
/// supervisor is silent from 13:00 to 14:00.
fn body_with_a_dead_inverter() -> String {
    let mut body = String::new();
    let mut lifetime = [100.0f64; 4];
    for step in 0..288 {
        let minutes = step * 5;
        let hour = f64::from(minutes) / 60.0;
        let (h, m) = (minutes / 60, minutes % 60);
        if (13.0..14.0).contains(&hour) {
            continue;
        }
        body.push_str(&format!("120\t20260601{h:02}{m:02}00\tZT1\t0\n"));
        if !(6.0..20.0).contains(&hour) {
            continue;
        }
        let sun = (std::f64::consts::PI * (hour - 6.0) / 14.0).sin();
        for (i, kwh) in lifetime.iter_mut().enumerate() {
            let kw = if i == 3 { 0.0 } else { 0.25 * sun };
            *kwh += kw * 5.0 / 60.0;
            body.push_str(&format!(
                "130\t20260601{h:02}{m:02}00\tINV{i}\tAC_Module_Type_C\t\t{kwh:.4}\t{kw:.4}\n"
            ));
        }
    }
    body
}

#[test]
fn dead_inverter_and_gap_in_jsonl_and_text() {
    let body = body_with_a_dead_inverter();
    let args = ["health", "--body", "-", "--tz", "UTC", "--format", "jsonl"];
    let rows = json_lines(&sunpower_ok(&args, Some(body.as_bytes())));
    let brief: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| {
            let text = |k: &str| r[k].as_str().unwrap_or("supervisor").to_string();
            (text("kind"), text("status"), text("serial"))
        })
        .collect();
    assert_eq!(
        brief,
        [
            ("gap".into(), "fault".into(), "supervisor".into()),
            ("gap".into(), "recovered".into(), "supervisor".into()),
            ("reporting_zero".into(), "fault".into(), "INV3".into()),
        ]
    );
    assert_eq!(rows[0]["start"], "2026-06-01T12:55:00Z");
    assert_eq!(rows[0]["end"], "2026-06-01T14:00:00Z");
    let dead = &rows[2];
    assert_eq!(dead["severity"], "critical");
    assert_eq!(dead["record_type"], 130);
    assert_eq!(dead["produced_kw"], 0.0);
    // Daylight: the array's median above 0.03 kW from 06:35 to 19:25, less the silent hour.
    assert_eq!(dead["samples"], 155 - 12);
    assert_eq!(dead["start"], "2026-06-01T06:35:00Z");
    assert_eq!(dead["end"], "2026-06-01T19:25:00Z");

    let out = sunpower_ok(
        &["health", "--body", "-", "--tz", "UTC"],
        Some(body.as_bytes()),
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("SEVERITY  STATUS"), "{text}");
    // Worst first: the dead inverter, then the gap, then the gap's recovery.
    assert!(lines[1].starts_with("critical  fault"), "{text}");
    assert!(lines[1].contains("reporting_zero") && lines[1].contains("INV3"));
    assert!(lines[1].contains("0 kW in 143 daylight samples"), "{text}");
    assert!(lines[2].contains("gap") && lines[2].contains("no data for 1h05"));
    assert!(lines[3].starts_with("info      recovered"), "{text}");
    assert_eq!(
        lines[4],
        "3 findings: 1 critical, 1 warning, 1 info (times in UTC)"
    );
}

#[test]
fn unknown_zone_is_a_usage_error_and_a_missing_file_exit_1() {
    let out = common::sunpower(&["health", SAMPLE, "--tz", "Mars/Olympus"], None);
    assert_eq!(out.status.code(), Some(2));
    let out = common::sunpower(&["health", "--body", "/nonexistent", "--tz", "UTC"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent"));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "no findings\n");
}

/// A `/vars` document of poll `poll` (every five minutes from 08:00 UTC): the supervisor worn to
/// 90 % of its flash's life, an inverter, and the battery when it answers.
fn vars_poll(poll: i64, battery: bool) -> String {
    let t = chrono::DateTime::from_timestamp(1_780_300_800 + 300 * poll, 0).unwrap();
    let eps = t.format("%Y-%m-%dT%H:%M:%SZ");
    let mut doc = format!(
        r#"{{"/sys/info/serialnum": "ZT01", "/sys/pvs/flashwear_type_b": "0x09",
        "/sys/livedata/time": "{}",
        "/sys/devices/inverter/0/sn": "E001", "/sys/devices/inverter/0/msmtEps": "{eps}",
        "/sys/devices/inverter/0/p3phsumKw": "0.2""#,
        t.timestamp()
    );
    if battery {
        doc.push_str(&format!(
            r#", "/sys/devices/ess/0/sn": "BC1", "/sys/devices/ess/0/msmtEps": "{eps}",
            "/sys/devices/ess/0/sohVal": "0.97""#
        ));
    }
    doc + "}"
}

#[test]
fn vars_documents_give_flash_wear_and_a_silent_battery_with_its_recovery() {
    let dir = std::env::temp_dir().join(format!("sunpower-health-vars-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // The battery answers polls 0 to 9 and from 36 on: silent for 26 polls (over two hours).
    let mut args: Vec<String> = ["health", "--tz", "UTC", "--format", "jsonl"]
        .map(String::from)
        .to_vec();
    for poll in 0..40 {
        let path = dir.join(format!("{poll:02}.json"));
        std::fs::write(&path, vars_poll(poll, !(10..36).contains(&poll))).unwrap();
        args.push("--vars".into());
        args.push(path.to_string_lossy().into_owned());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let rows = json_lines(&sunpower_ok(&args, None));
    std::fs::remove_dir_all(&dir).unwrap();
    let brief: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| {
            let text = |k: &str| r[k].as_str().unwrap_or("-");
            (text("kind"), text("status"), text("serial"))
        })
        .collect();
    assert_eq!(
        brief,
        [
            ("flash_wear", "fault", "ZT01"),
            ("battery_not_reporting", "fault", "BC1"),
            ("battery_not_reporting", "recovered", "BC1"),
        ],
        "{rows:#?}"
    );
    assert_eq!(
        (rows[0]["value"].as_f64(), rows[0]["record_type"].as_u64()),
        (Some(90.0), Some(120))
    );
    assert_eq!(rows[0]["start"], "2026-06-01T08:00:00Z");
    let silent = &rows[1];
    assert_eq!(
        (silent["record_type"].as_u64(), silent["severity"].as_str()),
        (Some(0), Some("warning"))
    );
    // From the last reading (poll 9), established at poll 33: two hours later.
    assert_eq!(silent["start"], "2026-06-01T08:45:00Z");
    assert_eq!(silent["end"], "2026-06-01T10:45:00Z");
    assert_eq!(rows[2]["end"], "2026-06-01T11:00:00Z");
    assert_eq!(rows[2]["samples"], 26);
}

#[test]
fn telemetry_gives_its_silence_as_a_gap_and_its_recovery() {
    let frames = common::telemetry_with_a_silence();
    let args = [
        "health",
        "--telemetry",
        "-",
        "--tz",
        "UTC",
        "--format",
        "jsonl",
    ];
    let rows = json_lines(&sunpower_ok(&args, Some(frames.as_bytes())));
    let brief: Vec<(&str, &str, &str, &str)> = rows
        .iter()
        .map(|r| {
            let text = |k: &str| r[k].as_str().unwrap_or("-");
            (text("kind"), text("status"), text("start"), text("end"))
        })
        .collect();
    // The last frame before the silence is at 09:59:59 (minute marks round down).
    assert_eq!(
        brief,
        [
            (
                "gap",
                "fault",
                "2026-06-01T09:59:00Z",
                "2026-06-01T14:00:00Z"
            ),
            (
                "gap",
                "recovered",
                "2026-06-01T09:59:00Z",
                "2026-06-01T14:00:00Z"
            ),
        ],
        "{rows:#?}"
    );
    assert_eq!(rows[0]["serial"], serde_json::Value::Null);
}
