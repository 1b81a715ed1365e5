//! `sunpower parse` and `sunpower stats --body` end to end, through the built binary.

mod common;

use common::{json_lines, sunpower, sunpower_ok};

const FORUM_BODY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../examples/bodies/forum-2017-body.txt"
);

#[test]
fn parse_prints_one_json_object_per_record_with_typed_values() {
    let out = sunpower_ok(&["parse", FORUM_BODY], None);
    let rows = json_lines(&out);
    assert_eq!(rows.len(), 30);
    let inv = rows
        .iter()
        .find(|r| r["serial"] == "414051637009125")
        .unwrap();
    assert_eq!(inv["record_type"], 130);
    assert_eq!(inv["lifetime_energy_kwh"], 18.5466);
    assert_eq!(inv["ac_power_kw"], 0.0417);
    assert_eq!(inv["timestamp"], "2017-01-07T17:10:00Z");
    assert_eq!(inv["raw"].as_array().unwrap().len(), 14);
    let legs = rows.iter().find(|r| r["record_type"] == 141).unwrap();
    let meter = rows
        .iter()
        .find(|r| r["record_type"] == 140 && r["meter_kind"] == "consumption")
        .unwrap();
    let sum = legs["leg1_power_kw"].as_f64().unwrap() + legs["leg2_power_kw"].as_f64().unwrap();
    assert!((sum - meter["real_power_kw"].as_f64().unwrap()).abs() < 1e-9);
}

#[test]
fn parse_reads_stdin_and_reports_a_damaged_value_with_its_line_and_keeps_the_record() {
    let body = std::fs::read_to_string(FORUM_BODY).unwrap();
    let damaged = body.replacen("\t445\t", "\tfour\t", 1);
    let out = sunpower_ok(&["parse", "-"], Some(damaged.as_bytes()));
    let rows = json_lines(&out);
    // The damaged value costs its field, not the line's record.
    assert_eq!(rows.len(), 30);
    let status = rows.iter().find(|r| r["record_type"] == 120).unwrap();
    assert_eq!(status["comm_errors"], serde_json::Value::Null);
    assert_eq!(status["uptime_s"], 81666);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("<stdin>: line 2: field 4 (comm_errors)"),
        "{stderr}"
    );
}

#[test]
fn stats_body_counts_records_by_type_and_errors() {
    let out = sunpower_ok(
        &["stats", "--body", FORUM_BODY, "--body", "-"],
        Some(b"102\tx\n1x\n"),
    );
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stats["records"], 31);
    assert_eq!(stats["records_by_type"]["130"], 24);
    assert_eq!(stats["records_by_type"]["102"], 2);
    assert_eq!(stats["line_errors"], 1);
}

#[test]
fn unreadable_input_exits_1_and_usage_errors_exit_2() {
    let out = sunpower(&["parse", "/nonexistent/body.txt"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/body.txt"));
    let out = sunpower(&["parse", "--no-such-flag"], None);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn every_usage_line_of_the_help_is_the_readmes() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let documented: Vec<&str> = readme
        .lines()
        .filter(|l| l.starts_with("sunpower "))
        .collect();
    let mut seen = 0;
    for command in [
        "decode",
        "stats",
        "intervals",
        "health",
        "report",
        "devicelist",
        "vars",
        "telemetry",
        "parse",
        "completions",
        "man",
    ] {
        let out = sunpower_ok(&[command, "--help"], None);
        let help = String::from_utf8(out.stdout).unwrap();
        assert!(help.contains("Exit status: 0 when"), "{command}: {help}");
        let usage = help.split("Usage: ").nth(1).unwrap();
        for line in usage.lines().take_while(|l| !l.trim().is_empty()) {
            let line = line.trim();
            assert!(documented.contains(&line), "{line:?} is not in the README");
            seen += 1;
        }
    }
    assert_eq!(seen, documented.len());
}

#[test]
fn a_capture_given_as_a_body_is_refused_with_a_hint() {
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sample.pcap");
    for args in [&["parse", sample][..], &["stats", "--body", sample]] {
        let out = sunpower(args, None);
        assert_eq!(out.status.code(), Some(1));
        assert!(out.stdout.is_empty());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("is a pcap capture") && stderr.contains("sunpower decode"),
            "{stderr}"
        );
    }
}

#[test]
fn stats_of_nothing_readable_prints_no_counts() {
    for args in [
        &["stats", "/nonexistent.pcap"][..],
        &["stats", "--body", "/nonexistent"],
    ] {
        let out = sunpower(args, None);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            out.stdout.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(String::from_utf8_lossy(&out.stderr).starts_with("sunpower: /nonexistent"));
    }
}

#[test]
fn completions_and_the_manual_page_come_from_the_command_line_definition() {
    let bash = String::from_utf8(sunpower_ok(&["completions", "bash"], None).stdout).unwrap();
    assert!(
        bash.contains("intervals") && bash.contains("health") && bash.contains("--devicelist"),
        "{bash}"
    );
    let man = String::from_utf8(sunpower_ok(&["man"], None).stdout).unwrap();
    assert!(
        man.contains(".TH sunpower 1") && man.contains("intervals") && man.contains("health"),
        "{man}"
    );
}
