//! `sunpower watch` against the mock supervisor on 127.0.0.1 (real TLS, real WebSocket), and on
//! a capture on standard input.
#![cfg(feature = "live")]

mod common;

use std::io::Read;
use std::process::{Child, Command, Output, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::{json_lines, sunpower_ok};
use sunpower_testkit::mock::{fingerprint, Firmware, MockSupervisor, PASSWORD};

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sample.pcap");

/// `watch` on the mock with the test timings: polls every second (the risk named), back-off
/// from 1 s to 2 s, a 1 s allowed silence, 2 s a request.
fn watch(mock: &MockSupervisor, extra: &[&str]) -> Child {
    let host = format!("127.0.0.1:{}", mock.port());
    let ws = mock.ws_port().to_string();
    Command::new(env!("CARGO_BIN_EXE_sunpower"))
        .args(["watch", "--host", &host, "--ws-port", &ws, "--tz", "UTC"])
        .args(["--poll-every", "1"])
        .arg("--poll-faster-than-five-minutes-at-the-risk-of-the-supervisor")
        .args([
            "--timeout",
            "2",
            "--first-backoff",
            "1",
            "--max-backoff",
            "2",
        ])
        .args(["--telemetry-silence", "1"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for `child` at most `limit` (then kills it and fails).
fn wait(mut child: Child, limit: Duration) -> Output {
    let end = Instant::now() + limit;
    // Drain the pipes on threads: the child must never block on a full pipe.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > end {
            child.kill().unwrap();
            panic!("watch still running after {limit:?}");
        }
        sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

fn no_secret(mock: &MockSupervisor, output: &Output) {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!mock.cookies().is_empty());
    for cookie in mock.cookies() {
        let value = cookie.split_once('=').unwrap().1;
        assert!(!text.contains(value), "the cookie {value} was shown");
    }
    assert!(!text.contains(&format!("ssm_owner:{PASSWORD}")));
    assert!(!text.contains("c3NtX293bmVyOkJDREVG"));
}

fn kinds(rows: &[serde_json::Value]) -> (usize, usize, usize) {
    let records = rows.iter().filter(|r| r["record_type"].is_number()).count();
    let sites = rows
        .iter()
        .filter(|r| r["record_type"] == "site_totals")
        .count();
    let intervals = rows
        .iter()
        .filter(|r| r.get("record_type").is_none())
        .count();
    (records, sites, intervals)
}

#[test]
fn watch_polls_logs_in_again_rides_the_websocket_and_loses_no_energy() {
    // Sessions of 2 s: the polls every second log in again after each expiry.
    let mock = MockSupervisor::start(Firmware::Pvs6, Duration::from_secs(2));
    // Two minutes a second: the 7 s run covers 14 minutes, three intervals or more.
    mock.set_time_scale(120.0);
    let tree = std::env::temp_dir().join(format!("sunpower-watch-tree-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tree);
    let child = watch(
        &mock,
        &[
            "--enable-telemetry",
            "--for",
            "7s",
            "--tree",
            tree.to_str().unwrap(),
        ],
    );
    // The socket dropped, then silent past the allowed second, then back.
    sleep(Duration::from_secs(2));
    mock.drop_websockets();
    sleep(Duration::from_secs(1));
    mock.set_websocket_silent(true);
    sleep(Duration::from_millis(2500));
    mock.set_websocket_silent(false);
    let output = wait(child, Duration::from_secs(20));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    // The certificate's fingerprint, printed once.
    let pin = fingerprint(&mock.certificate());
    assert_eq!(stderr.matches(&pin).count(), 2, "{stderr}");
    assert!(mock.telemetry_enabled());
    assert!(
        stderr.contains("telemetry socket closed: silent for 1 s"),
        "{stderr}"
    );
    // Logged in again after expiry.
    assert!(mock.cookies().len() >= 2, "{stderr}");
    // The polls' cadence: cycles of the site totals at least a second apart.
    let polls: Vec<Duration> = mock
        .log()
        .iter()
        .filter(|l| l.path.starts_with("/vars?match=livedata") && l.status == 200)
        .map(|l| l.at)
        .collect();
    // A cycle starts a second after the last one started (a login again within a cycle
    // delays its end, not the next start): at most one cycle a second over the 7 s.
    assert!(polls.len() >= 3 && polls.len() <= 8, "{polls:?}");
    let spread = *polls.last().unwrap() - polls[0];
    assert!(
        spread >= Duration::from_millis(900) * (polls.len() as u32 - 1),
        "{polls:?}"
    );
    let rows = json_lines(&output);
    let (records, sites, intervals) = kinds(&rows);
    assert!(
        records >= 6 && sites >= 10 && intervals >= 1,
        "{records} {sites} {intervals}: {:?}",
        &rows[..rows.len().min(12)]
    );
    no_secret(&mock, &output);
    // The intervals' energy is the counters' rise, once: nothing lost across the drop and the
    // silence, nothing doubled by the polls' and the socket's totals. Production from the
    // inverters' counters (a first report gives none), net from the telemetry's `net_en` (no
    // consumption meter); a row written again (revised) replaces the first.
    let mut by_interval = std::collections::BTreeMap::new();
    for row in rows.iter().filter(|r| r.get("record_type").is_none()) {
        by_interval.insert(
            row["interval_start"].as_str().unwrap().to_owned(),
            row.clone(),
        );
    }
    let sum = |key: &str| -> f64 {
        by_interval
            .values()
            .filter_map(|r| r[key].as_f64())
            .sum::<f64>()
            / 1000.0
    };
    let rise = |values: Vec<f64>| -> f64 {
        values.iter().cloned().fold(f64::MIN, f64::max)
            - values.iter().cloned().fold(f64::MAX, f64::min)
    };
    let mut inverter_rise = 0.0;
    for serial in ["E00121000000000", "E00121000000001"] {
        inverter_rise += rise(
            rows.iter()
                .filter(|r| r["record_type"] == 130 && r["serial"] == serial)
                .filter_map(|r| r["lifetime_energy_kwh"].as_f64())
                .collect(),
        );
    }
    let net_rise = rise(
        rows.iter()
            .filter(|r| r["record_type"] == "site_totals")
            .filter_map(|r| r["net_energy_kwh"].as_f64())
            .collect(),
    );
    assert!(by_interval.len() >= 3, "{by_interval:#?}");
    assert!(
        inverter_rise > 0.1 && net_rise > 0.05,
        "{inverter_rise} {net_rise}"
    );
    assert!(
        (sum("production_wh") - inverter_rise).abs() < 1e-6,
        "intervals {} kWh, inverters rose {inverter_rise} kWh\n{by_interval:#?}",
        sum("production_wh")
    );
    assert!(
        (sum("net_wh") - net_rise).abs() < 1e-6,
        "intervals {} kWh net, net_en rose {net_rise} kWh\n{by_interval:#?}",
        sum("net_wh")
    );
    assert!(tree.join("yearly.csv").exists());
    let _ = std::fs::remove_dir_all(&tree);
}

#[test]
fn watch_stops_on_sigterm_with_the_tree_flushed() {
    let mock = MockSupervisor::start(Firmware::Pvs6, Duration::from_secs(60));
    let tree = std::env::temp_dir().join(format!("sunpower-watch-term-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tree);
    let child = watch(
        &mock,
        &["--tree", tree.to_str().unwrap(), "--format", "influx"],
    );
    let pid = child.id().to_string();
    // Until two poll cycles were answered.
    let end = Instant::now() + Duration::from_secs(10);
    while Instant::now() < end
        && mock
            .log()
            .iter()
            .filter(|l| l.path.starts_with("/vars?match=livedata"))
            .count()
            < 2
    {
        sleep(Duration::from_millis(50));
    }
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let output = wait(child, Duration::from_secs(10));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let text = String::from_utf8(output.stdout.clone()).unwrap();
    assert!(
        text.lines().any(|l| l.starts_with("sunpower_inverter,")),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("sunpower_site,")),
        "{text}"
    );
    assert!(tree.join("yearly.csv").exists(), "{stderr}");
    no_secret(&mock, &output);
    let _ = std::fs::remove_dir_all(&tree);
}

#[test]
fn watch_backs_off_while_down_and_falls_back_to_the_devicelist() {
    let mock = MockSupervisor::start(Firmware::OldPvs6, Duration::from_secs(60));
    mock.set_down(true);
    let child = watch(&mock, &["--for", "5s"]);
    sleep(Duration::from_secs(3));
    mock.set_down(false);
    let output = wait(child, Duration::from_secs(20));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("Identify"), "{stderr}");
    assert!(
        stderr.contains("now read through the DeviceList"),
        "{stderr}"
    );
    // Down for 3 s with back-off from 1 s to 2 s: a few attempts, not one per step.
    let log = mock.log();
    let first_answer = log.iter().position(|l| l.status != 0).unwrap_or(log.len());
    assert!(first_answer == 0, "a down supervisor logs nothing: {log:?}");
    let rows = json_lines(&output);
    let inverters = rows.iter().filter(|r| r["record_type"] == 130).count();
    assert!(inverters >= 2, "{stderr}");
}

#[test]
fn watch_of_a_capture_on_stdin_gives_the_records_and_intervals_of_the_other_commands() {
    let capture = std::fs::read(SAMPLE).unwrap();
    let watched = sunpower_ok(&["watch", "--capture", "-", "--tz", "UTC"], Some(&capture));
    let rows = json_lines(&watched);
    let decoded = json_lines(&sunpower_ok(&["decode", "-"], Some(&capture)));
    let records: Vec<_> = rows
        .iter()
        .filter(|r| r.get("record_type").is_some())
        .collect();
    assert_eq!(records.len(), decoded.len());
    for (w, d) in records.iter().zip(&decoded) {
        let mut d = d.clone();
        d.as_object_mut().unwrap().remove("channel");
        assert_eq!(**w, d);
    }
    let intervals = json_lines(&sunpower_ok(
        &["intervals", "-", "--format", "jsonl", "--tz", "UTC"],
        Some(&capture),
    ));
    let watched_intervals: Vec<_> = rows
        .iter()
        .filter(|r| r.get("record_type").is_none())
        .collect();
    assert!(!intervals.is_empty());
    assert_eq!(watched_intervals.len(), intervals.len());
    for (w, i) in watched_intervals.iter().zip(&intervals) {
        assert_eq!(**w, *i);
    }
}
