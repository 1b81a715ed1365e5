//! `sunpower intervals --format pvoutput` on a capture across the end of daylight saving, from a
//! file and live from standard input: the same statuses, no local time sent twice.

mod common;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use common::{last_status_by_time, sunpower_ok};
use sunpower_testkit::{pcap_bytes, Frame, PcapFormat, TcpConversation};

/// One collector post every 5 minutes from 2026-11-01 07:00 UTC (local midnight in Los Angeles,
/// PDT) for 25 hours of local time and 2 more: an inverter (+10 Wh each time) and the
/// consumption meter.
fn capture() -> Vec<u8> {
    let start = Utc.with_ymd_and_hms(2026, 11, 1, 7, 0, 0).unwrap();
    let mut frames: Vec<Frame> = Vec::new();
    for i in 0..=(27 * 12) {
        let t: DateTime<Utc> = start + TimeDelta::minutes(5 * i);
        let ts = t.format("%Y%m%d%H%M%S");
        let body = format!(
            "100\tSPMS\t10\tZT01\t{ts}\n\
             130\t{ts}\tA\tAC_Module_Type_C\t\t{:.3}\t0.12\t245.1\t1.0\t0.13\t59.1\t4.4\t30\t60\t0\n\
             140\t{ts}\tPVS5M508095c\tPVS5M0400c\t125\t{:.2}\t0.6\t0.7\t1.3\t0.5\t60\t0\n\
             102\tabc\n",
            100.0 + 0.01 * i as f64,
            500.0 + 0.05 * i as f64,
        );
        let head = format!(
            "POST /Data/SMS2DataCollector.aspx HTTP/1.1\r\nHost: collector\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let request = [head.as_bytes(), body.as_bytes()].concat();
        let mut conv = TcpConversation::new(
            format!("10.0.0.2:{}", 40000 + i % 20000).parse().unwrap(),
            "204.194.111.66:80".parse().unwrap(),
        );
        conv.starting_at(t + TimeDelta::seconds(40))
            .handshake()
            .client_sends(&request, &[])
            .close();
        frames.extend(conv.into_frames());
    }
    pcap_bytes(1, PcapFormat::LE_MICRO, &frames)
}

#[test]
fn pvoutput_statuses_across_the_end_of_daylight_saving_are_the_same_live_and_offline() {
    let data = capture();
    let path = std::env::temp_dir().join(format!("sunpower-dst-{}.pcap", std::process::id()));
    std::fs::write(&path, &data).unwrap();
    let args = |input: &str| {
        [
            "intervals",
            "--tz",
            "America/Los_Angeles",
            "--format",
            "pvoutput",
            input,
        ]
        .map(str::to_owned)
    };
    let file_args = args(path.to_str().unwrap());
    let offline = sunpower_ok(&file_args.each_ref().map(String::as_str), None);
    let live = sunpower_ok(&args("-").each_ref().map(String::as_str), Some(&data));
    std::fs::remove_file(&path).unwrap();

    let offline_statuses: Vec<String> = String::from_utf8(offline.stdout.clone())
        .unwrap()
        .lines()
        .flat_map(|l| {
            l["data=".len()..]
                .split(';')
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    let offline = last_status_by_time(&offline.stdout);
    // No local time is sent twice offline: the repeated hour's statuses are skipped.
    assert_eq!(offline.len(), offline_statuses.len());
    assert_eq!(last_status_by_time(&live.stdout), offline);
    // The day of 25 hours: 300 intervals, 12 of them ending at a time already used.
    let day: Vec<&String> = offline
        .values()
        .filter(|s| s.starts_with("20261101,"))
        .collect();
    assert_eq!(day.len(), 300 - 12);
    // Its last status carries the whole day: 299 steps of 10 Wh after the first report.
    let end = &offline["20261101,23:59"];
    assert!(end.starts_with("20261101,23:59,2990,120,"), "{end}");
}
