//! `sunpower decode`, `stats`, `intervals` and `devicelist` end to end on files in the repository.

mod common;

use common::{json_lines, last_status_by_time, sunpower, sunpower_ok};

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sample.pcap");
const FORUM_BODY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../examples/bodies/forum-2017-body.txt"
);
const DEVICELIST: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../sunpower-proto/tests/data/devicelist/pvs6_2019.json"
);

#[test]
fn decode_sample_capture_writes_every_record_with_its_channel() {
    let out = sunpower_ok(&["decode", SAMPLE], None);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = json_lines(&out);
    assert_eq!(rows.len(), 5304);
    let count = |f: &dyn Fn(&serde_json::Value) -> bool| rows.iter().filter(|r| f(r)).count();
    assert_eq!(count(&|r| r["record_type"] == 130), 3480);
    assert_eq!(count(&|r| r["channel"] == "command"), 96); // 48 posts x (100 + 102)
    assert_eq!(count(&|r| r["channel"] == "data"), 5304 - 96);
    // Capture order: the first record is the first post's header.
    assert_eq!(rows[0]["record_type"], 100);
    let first_inverter = rows.iter().find(|r| r["record_type"] == 130).unwrap();
    assert_eq!(first_inverter["raw"].as_array().unwrap().len(), 15);
    assert!(first_inverter["lifetime_energy_kwh"].as_f64().unwrap() > 0.0);
}

#[test]
fn decode_as_influx_lines_gives_a_line_per_record_with_values() {
    let out = sunpower_ok(&["decode", SAMPLE, "--format", "influx"], None);
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // Every record but the 336 posts' headers and trailers (no value with a time).
    assert_eq!(lines.len(), 5304 - 2 * 336);
    let inverters = lines
        .iter()
        .filter(|l| l.starts_with("sunpower_inverter,"))
        .count();
    assert_eq!(inverters, 3480);
    for line in &lines {
        // Measurement and tags, fields, a time in nanoseconds.
        let parts: Vec<&str> = line.split(' ').collect();
        assert_eq!(parts.len(), 3, "{line}");
        assert!(
            parts[0].starts_with("sunpower_") && parts[1].contains('='),
            "{line}"
        );
        assert_eq!(parts[2].len(), 19, "{line}");
    }
    assert!(lines[0].starts_with("sunpower_supervisor,serial=ZT163785000441C0593 error_count=0i,"));
}

#[test]
fn decode_from_stdin_gives_the_same_records_as_from_the_file() {
    let data = std::fs::read(SAMPLE).unwrap();
    let piped = sunpower_ok(&["decode", "-"], Some(&data));
    let file = sunpower_ok(&["decode", SAMPLE], None);
    assert_eq!(piped.stdout, file.stdout);
}

#[test]
fn stats_on_the_sample_counts_what_the_generator_wrote() {
    let out = sunpower_ok(&["stats", SAMPLE], None);
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["packets"], 12324);
    assert_eq!(s["posts"], 336);
    assert_eq!(s["records"], 5304);
    assert_eq!(s["records_by_type"]["140"], 576);
    assert_eq!(s["gaps"], 0);
    assert_eq!(s["bytes_missing"], 0);
    assert_eq!(s["damaged_posts"], 0);
    assert_eq!(s["line_errors"], 0);
}

/// The whole output, byte for byte: every key of `details` and its value on the sample (a key
/// renamed or moved, or a counter computed differently, shows here).
#[test]
fn stats_on_the_sample_prints_every_counter() {
    let out = sunpower_ok(&["stats", SAMPLE], None);
    let expected = concat!(
        r#"{"packets":12324,"connections":480,"posts":336,"records":5304,"#,
        r#""records_by_type":{"100":336,"102":336,"120":288,"130":3480,"140":576,"141":288},"#,
        r#""gaps":0,"bytes_missing":0,"damaged_posts":0,"line_errors":0,"#,
        r#""inverter_lines_collapsed":0,"details":{"non_ip_frames":288,"#,
        r#""non_tcp_packets":6480,"ip_fragments":0,"link_errors":0,"ip_errors":0,"#,
        r#""truncated_segments":0,"truncated_bytes":0,"capture_errors":0,"requests":624,"#,
        r#""other_requests":288,"oversized_bodies":0,"oversized_body_bytes":0,"#,
        r#""http_errors":0,"skipped_bytes":0,"response_bytes":470152,"non_http_streams":0,"#,
        r#""non_http_bytes":0,"duplicate_bytes":1448,"out_of_window_segments":0,"#,
        r#""connections_evicted":0,"connections_over_budget":0,"connections_restarted":0,"#,
        r#""connections_continued_after_fin":0,"bytes_after_close":0,"#,
        r#""conflicting_overlaps":0,"orphan_segments":0,"bytes_read":2176359,"#,
        r#""capture_bytes":2176359,"blocks_skipped":0,"inputs_started":1,"#,
        r#""inputs_unreadable":0,"inputs_out_of_order":0,"timestamps_out_of_range":0}}"#,
        "\n"
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
}

#[test]
fn a_cut_capture_decodes_what_precedes_the_cut_and_reports_it() {
    let data = std::fs::read(SAMPLE).unwrap();
    let cut = &data[..data.len() / 2];
    let out = sunpower(&["stats", "-"], Some(cut));
    assert_eq!(out.status.code(), Some(0));
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let posts = s["posts"].as_u64().unwrap();
    assert!((100..336).contains(&posts), "{posts}");
    assert_eq!(s["details"]["capture_errors"], 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("capture cut"), "{stderr}");

    // What precedes the cut decodes exactly as in the whole file: the cut file's records are
    // the whole file's first records, none changed, none invented.
    let whole = json_lines(&sunpower(&["decode", SAMPLE], None));
    let part = json_lines(&sunpower(&["decode", "-"], Some(cut)));
    assert_eq!(part.len() as u64, s["records"].as_u64().unwrap());
    assert!(
        part.len() > 1000 && part.len() < whole.len(),
        "{}",
        part.len()
    );
    assert_eq!(part[..], whole[..part.len()]);
}

#[test]
fn a_file_that_is_not_a_capture_exits_1_with_its_name() {
    let out = sunpower(&["decode", FORUM_BODY], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("forum-2017-body.txt"));
}

#[test]
fn intervals_of_the_sample_day_add_up_and_respect_local_time() {
    let out = sunpower_ok(
        &[
            "intervals",
            "--tz",
            "America/Los_Angeles",
            "--format",
            "jsonl",
            SAMPLE,
        ],
        None,
    );
    let rows = json_lines(&out);
    // One row per 5-minute interval of the day's 288 posts (each carries the interval before).
    assert_eq!(rows.len(), 288);
    for r in &rows {
        let p = r["production_wh"].as_f64().unwrap();
        let first = r["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "first_report");
        // An inverter's first report measured nothing: that interval has no consumption.
        if first {
            assert!(r["consumption_wh"].is_null(), "{r}");
            continue;
        }
        let c = r["consumption_wh"].as_f64().unwrap();
        let n = r["net_wh"].as_f64().unwrap();
        assert!(c >= 0.0);
        if !r["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "consumption_clamped")
        {
            assert!((p + n - c).abs() < 1e-6, "{r}");
        }
    }
    let produced: f64 = rows
        .iter()
        .map(|r| r["production_wh"].as_f64().unwrap())
        .sum();
    // The day's production is the inverters' counter increase, read independently from decode.
    let records = json_lines(&sunpower(&["decode", SAMPLE], None));
    let mut counters: std::collections::BTreeMap<String, (f64, f64)> = Default::default();
    for r in records.iter().filter(|r| r["record_type"] == 130) {
        let kwh = r["lifetime_energy_kwh"].as_f64().unwrap();
        let span = counters
            .entry(r["serial"].as_str().unwrap().to_owned())
            .or_insert((kwh, kwh));
        *span = (span.0.min(kwh), span.1.max(kwh));
    }
    assert_eq!(counters.len(), 20);
    let increase_wh: f64 = counters.values().map(|(lo, hi)| (hi - lo) * 1000.0).sum();
    assert!(
        (produced - increase_wh).abs() < 0.01,
        "{produced} vs {increase_wh}"
    );
    let local_midnight = rows
        .iter()
        .find(|r| r["interval_start"] == "2026-06-21T07:00:00Z")
        .unwrap();
    assert_eq!(
        local_midnight["interval_start_local"],
        "2026-06-21T00:00:00-07:00"
    );
}

#[test]
fn intervals_pvoutput_lines_hold_at_most_30_statuses() {
    let out = sunpower_ok(
        &[
            "intervals",
            "--tz",
            "America/Los_Angeles",
            "--format",
            "pvoutput",
            SAMPLE,
        ],
        None,
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(!lines.is_empty());
    for line in &lines {
        let statuses = line.strip_prefix("data=").unwrap().split(';').count();
        assert!((1..=30).contains(&statuses), "{line}");
    }
    // The first post (07:00Z, local midnight) carries the 06:55Z interval: 23:55 the day before,
    // which PVOutput gets as its end time 23:59, powers only (that day's totals are unknown);
    // the new local day starts again from zero.
    assert!(
        lines[0].starts_with("data=20260620,23:59,,0,,"),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains(";20260621,00:05,0,0,"), "{}", lines[0]);
}

#[test]
fn intervals_tree_is_idempotent() {
    let dir = std::env::temp_dir().join(format!("sunpower-cli-tree-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let tree = dir.to_str().unwrap();
    let args = [
        "intervals",
        "--tz",
        "America/Los_Angeles",
        "--tree",
        tree,
        SAMPLE,
    ];
    sunpower_ok(&args, None);
    let daily = std::fs::read_to_string(dir.join("2026/06/daily.csv")).unwrap();
    let day = std::fs::read_to_string(dir.join("2026/06/21.csv")).unwrap();
    sunpower_ok(&args, None);
    assert_eq!(
        std::fs::read_to_string(dir.join("2026/06/daily.csv")).unwrap(),
        daily
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("2026/06/21.csv")).unwrap(),
        day
    );
    assert!(day.lines().count() > 250, "{}", day.lines().count());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unknown_time_zone_is_a_usage_error() {
    let out = sunpower(
        &["intervals", "--tz", "Mars/Olympus", "--body", FORUM_BODY],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn devicelist_prints_the_same_json_lines_as_parse() {
    let out = sunpower_ok(&["devicelist", DEVICELIST], None);
    let rows = json_lines(&out);
    assert!(rows.iter().any(|r| r["record_type"] == 130));
    assert!(rows
        .iter()
        .any(|r| r["record_type"] == 140 && r["meter_kind"] == "consumption"));
    // Built from the document's values, not from a line: `source` says so, and there is no
    // `raw`.
    assert!(rows
        .iter()
        .all(|r| r["source"] == "devicelist" && r.get("raw").is_none()));
    // The line the supervisor would have sent, made from each row's fields in order (a meter's
    // kind comes from its serial; the counters no line has are left out), given to `parse`,
    // decodes to the same fields.
    let extras = [
        "meter_kind",
        "import_energy_kwh",
        "export_energy_kwh",
        "lifetime_net_energy_resolution_kwh",
        "meter_role",
    ];
    let lines: Vec<String> = rows
        .iter()
        .map(|r| {
            let record_type = r["record_type"].as_u64().unwrap() as u16;
            let mut fields = vec![record_type.to_string()];
            for spec in sunpower_proto::Record::fields(record_type) {
                let (key, value) = (spec.name, &r[spec.name]);
                if extras.contains(&key) {
                    continue;
                }
                fields.push(match value {
                    serde_json::Value::Null => String::new(),
                    serde_json::Value::String(text) if key == "timestamp" => {
                        text.replace(['-', ':', 'T', 'Z'], "")
                    }
                    serde_json::Value::String(text) => text.clone(),
                    number => number.to_string(),
                });
            }
            fields.join("\t")
        })
        .collect();
    let reparsed = sunpower(&["parse", "-"], Some(lines.join("\n").as_bytes()));
    let mut rows = rows;
    for row in &mut rows {
        let row = row.as_object_mut().unwrap();
        row.remove("source");
        for extra in &extras[1..] {
            row.remove(*extra);
        }
    }
    let mut reparsed = json_lines(&reparsed);
    for row in &mut reparsed {
        row.as_object_mut().unwrap().remove("raw");
    }
    assert_eq!(reparsed, rows);
}

#[test]
fn intervals_from_two_devicelist_polls_give_the_counter_difference() {
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(DEVICELIST).unwrap()).unwrap();
    let dir = std::env::temp_dir().join(format!("sunpower-cli-dl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // The second poll: five minutes later, every inverter 12.5 Wh further.
    let mut later = doc.clone();
    let mut inverters = 0;
    for device in later["devices"].as_array_mut().unwrap() {
        let Some(datatime) = device.get("DATATIME").and_then(|d| d.as_str()) else {
            continue;
        };
        let mut parts: Vec<u32> = datatime.split(',').map(|p| p.parse().unwrap()).collect();
        parts[4] += 5;
        let bumped = parts
            .iter()
            .map(|p| format!("{p:02}"))
            .collect::<Vec<_>>()
            .join(",");
        device["DATATIME"] = bumped.into();
        if device["DEVICE_TYPE"] == "Inverter" {
            let kwh: f64 = device["ltea_3phsum_kwh"].as_str().unwrap().parse().unwrap();
            device["ltea_3phsum_kwh"] = format!("{:.4}", kwh + 0.0125).into();
            inverters += 1;
        }
    }
    assert!(inverters > 0);
    let (first, second) = (dir.join("poll1.json"), dir.join("poll2.json"));
    std::fs::write(&first, doc.to_string()).unwrap();
    std::fs::write(&second, later.to_string()).unwrap();
    let out = sunpower_ok(
        &[
            "intervals",
            "--tz",
            "UTC",
            "--format",
            "jsonl",
            "--devicelist",
            first.to_str().unwrap(),
            "--devicelist",
            second.to_str().unwrap(),
        ],
        None,
    );
    let rows = json_lines(&out);
    let produced: f64 = rows
        .iter()
        .map(|r| r["production_wh"].as_f64().unwrap())
        .sum();
    assert!(
        (produced - 12.5 * inverters as f64).abs() < 1e-6,
        "{produced} {rows:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn live_pvoutput_from_stdin_ends_with_the_statuses_of_the_file() {
    // `cat capture | sunpower intervals - --format pvoutput` used to lose v1/v3 after the first
    // batch (`20260621,00:10,,0,,451`): the day's running totals restarted with each batch.
    let args = |input| {
        [
            "intervals",
            "--tz",
            "America/Los_Angeles",
            "--format",
            "pvoutput",
            input,
        ]
    };
    let offline = sunpower_ok(&args(SAMPLE), None);
    let data = std::fs::read(SAMPLE).unwrap();
    let live = sunpower_ok(&args("-"), Some(&data));
    let offline = last_status_by_time(&offline.stdout);
    let live = last_status_by_time(&live.stdout);
    assert!(offline.len() > 250, "{}", offline.len());
    assert_eq!(live, offline);
    assert!(
        offline["20260621,00:10"].starts_with("20260621,00:10,0,0,"),
        "{}",
        offline["20260621,00:10"]
    );
}

#[test]
fn a_body_stream_without_line_ends_is_one_error_and_decoding_goes_on() {
    // `sunpower parse /dev/zero` used to read its whole input first (8 GiB, out of memory);
    // now 24 MiB of NUL bytes are one over-long line, then the next line decodes.
    let mut data = vec![0u8; 24 << 20];
    data.extend_from_slice(b"\n102\tafter\n");
    let out = sunpower_ok(&["parse", "-"], Some(&data));
    let rows = json_lines(&out);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["token"], "after");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.trim(),
        "<stdin>: line 1: line longer than the limit of 1048576 bytes"
    );
}

#[test]
fn damaged_lines_past_the_limit_are_counted_not_printed() {
    let body: String = (0..250).map(|i| format!("130\tbad{i}\n")).collect();
    let out = sunpower_ok(&["parse", "-"], Some(body.as_bytes()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 101, "{stderr}");
    assert_eq!(lines[100], "sunpower: 150 more line problems not shown");
    let out = sunpower_ok(&["stats", "--body", "-"], Some(body.as_bytes()));
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["line_errors"], 250);
}

#[test]
fn tree_and_format_together_are_a_usage_error() {
    let out = sunpower(
        &["intervals", "--tree", "/tmp/x", "--format", "jsonl", SAMPLE],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn inputs_that_are_not_captures_say_what_they_are_and_which_command_reads_them() {
    let out = sunpower(&["decode", FORUM_BODY], None);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("sunpower: ")
            && stderr.contains("it looks like a raw collector POST body (use `sunpower parse`"),
        "{stderr}"
    );
    let out = sunpower(&["stats", DEVICELIST], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("`sunpower devicelist` or `sunpower vars`"),
        "{stderr}"
    );
    // A missing file: its name and why, not a packet position.
    let out = sunpower(&["decode", "/nonexistent/x.pcap"], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("sunpower: /nonexistent/x.pcap: cannot open: "),
        "{stderr}"
    );
    assert!(!stderr.contains("packet"), "{stderr}");
}

/// Built without the `parquet` feature (the default): a clear usage error, nothing written.
#[cfg(not(feature = "parquet"))]
#[test]
fn parquet_without_the_feature_is_a_usage_error_that_says_how_to_get_it() {
    let dir = std::env::temp_dir().join(format!("sunpower-noparquet-{}", std::process::id()));
    let out = sunpower(
        &[
            "decode",
            "--format",
            "parquet",
            "--output",
            dir.to_str().unwrap(),
            SAMPLE,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--features parquet"));
    assert!(!dir.exists());
}
