//! What the command tests share: running the built `sunpower` binary.
// Each test binary uses some of these helpers, not all.
#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs `sunpower` with `args`, feeding `stdin` if given.
pub fn sunpower(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sunpower"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Feed stdin from another thread: the child writes stdout while it reads, and both pipes
    // filling up at once would deadlock.
    let pipe = child.stdin.take().unwrap();
    let data = stdin.map(<[u8]>::to_vec);
    let feeder = std::thread::spawn(move || {
        let mut pipe = pipe;
        if let Some(data) = data {
            // The child may stop reading early; a broken pipe is not the test's concern.
            let _ = pipe.write_all(&data);
        }
    });
    let output = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    output
}

/// Runs `sunpower` as [`sunpower`] does and checks that it succeeded, showing its stderr if not.
pub fn sunpower_ok(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let out = sunpower(args, stdin);
    assert!(
        out.status.success(),
        "sunpower {args:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The last PVOutput status sent for each date and time (`d,t`), from `intervals --format
/// pvoutput` output: what PVOutput holds once every request went through.
pub fn last_status_by_time(stdout: &[u8]) -> std::collections::BTreeMap<String, String> {
    let mut last = std::collections::BTreeMap::new();
    for line in String::from_utf8(stdout.to_vec()).unwrap().lines() {
        for status in line.strip_prefix("data=").unwrap().split(';') {
            let key: Vec<&str> = status.split(',').take(2).collect();
            last.insert(key.join(","), status.to_owned());
        }
    }
    last
}

/// Telemetry frames one a second from 08:00 to 10:00 UTC and from 14:00 to 15:00, the counter
/// at 0.5 Wh a second.
pub fn telemetry_with_a_silence() -> String {
    let start = 1_780_300_800; // 2026-06-01 08:00 UTC
    let mut frames = String::new();
    for s in (0..2 * 3600).chain(6 * 3600..7 * 3600) {
        let pv_en = 1000.0 + f64::from(s) * 0.0005;
        frames.push_str(&format!(
            "{{\"notification\":\"power\",\"params\":{{\"time\":{},\"pv_p\":\"1.8\",\"pv_en\":\"{pv_en:.4}\"}}}}\n",
            start + s
        ));
    }
    frames
}
