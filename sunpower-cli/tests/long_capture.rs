//! `sunpower intervals` offline on a capture longer than its horizon: intervals that fall out of
//! it are written as the capture goes, every reading still counts once, and a record dated ten
//! years ahead (a supervisor clock gone wrong) pushes nothing out and is reported, not used.

mod common;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use common::{json_lines, sunpower_ok};
use sunpower_testkit::{pcap_bytes, Frame, PcapFormat, TcpConversation};

const DAYS: i64 = 50;

/// One post an hour for `DAYS` days, each with the hour's twelve 5-minute readings of inverter
/// A (+10 Wh each); on day 10, one more post with a reading of inverter B dated 2036.
fn capture() -> Vec<u8> {
    let start = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
    let mut frames: Vec<Frame> = Vec::new();
    let mut reading = 0i64;
    let post = |body: String, at: DateTime<Utc>, port: u16, frames: &mut Vec<Frame>| {
        let head = format!(
            "POST /Data/SMS2DataCollector.aspx HTTP/1.1\r\nHost: collector\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let request = [head.as_bytes(), body.as_bytes()].concat();
        let mut conv = TcpConversation::new(
            format!("10.0.0.2:{port}").parse().unwrap(),
            "204.194.111.66:80".parse().unwrap(),
        );
        conv.starting_at(at)
            .handshake()
            .client_sends(&request, &[])
            .close();
        frames.extend(conv.into_frames());
    };
    for hour in 0..DAYS * 24 {
        let first = start + TimeDelta::hours(hour);
        let mut body = format!("100\tSPMS\t10\tZT01\t{}\n", first.format("%Y%m%d%H%M%S"));
        for _ in 0..12 {
            let t = start + TimeDelta::minutes(5 * reading);
            body += &format!(
                "130\t{}\tA\tAC_Module_Type_C\t\t{:.3}\t0.12\n",
                t.format("%Y%m%d%H%M%S"),
                100.0 + 0.01 * reading as f64
            );
            reading += 1;
        }
        body += "102\tabc\n";
        let sent = first + TimeDelta::minutes(61);
        post(body, sent, 40000 + (hour % 20000) as u16, &mut frames);
        if hour == 10 * 24 {
            let body = "130\t20360301000000\tB\tAC_Module_Type_C\t\t5.000\t0.1\n".to_owned();
            post(body, sent + TimeDelta::seconds(5), 39999, &mut frames);
        }
    }
    pcap_bytes(1, PcapFormat::LE_MICRO, &frames)
}

/// `sunpower intervals --tz UTC --format FORMAT` of the capture, read from a file.
fn intervals(format: &str) -> std::process::Output {
    let name = format!("sunpower-long-{format}-{}.pcap", std::process::id());
    let path = std::env::temp_dir().join(name);
    std::fs::write(&path, capture()).unwrap();
    let args = [
        "intervals",
        "--tz",
        "UTC",
        "--format",
        format,
        path.to_str().unwrap(),
    ];
    let out = sunpower_ok(&args, None);
    std::fs::remove_file(&path).unwrap();
    out
}

#[test]
fn a_capture_longer_than_the_horizon_counts_every_reading_once() {
    let out = intervals("jsonl");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("horizon"), "{stderr}");
    let rows = json_lines(&out);
    let starts: Vec<&str> = rows
        .iter()
        .map(|r| r["interval_start"].as_str().unwrap())
        .collect();
    // In order, each interval once: the early ones written as the capture went, the rest at
    // its end.
    assert!(
        starts.windows(2).all(|w| w[0] < w[1]),
        "out of order or repeated"
    );
    let readings = DAYS * 24 * 12;
    let a: f64 = rows
        .iter()
        .filter(|r| r["interval_start"].as_str().unwrap() < "2030")
        .map(|r| r["production_wh"].as_f64().unwrap())
        .sum();
    // Every 5-minute step of A, once: the readings after the 2036 one still counted.
    assert!((a - 10.0 * (readings - 1) as f64).abs() < 1e-6, "{a}");
    assert_eq!(
        starts.iter().filter(|s| **s < "2030").count() as i64,
        readings,
        "one interval per reading"
    );
    // The 2036 reading, confirmed by no other, is reported and not used (issue 25).
    assert!(starts.last().unwrap() < &"2030");
    assert!(
        stderr.contains("record 130 B dated 2036-03-01T00:00:00Z is implausibly far"),
        "{stderr}"
    );
}

#[test]
fn pvoutput_lines_of_a_long_capture_stay_full() {
    // Written out as they become final, the statuses still go 30 to a request.
    let out = intervals("pvoutput");
    let text = String::from_utf8(out.stdout).unwrap();
    let counts: Vec<usize> = text.lines().map(|l| l.split(';').count()).collect();
    let total: usize = counts.iter().sum();
    assert!(total as i64 >= DAYS * 24 * 12 - 1, "{total}");
    assert_eq!(counts.len(), total.div_ceil(30), "{counts:?}");
}
