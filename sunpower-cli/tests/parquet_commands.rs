//! `--format parquet`: the dataset of `decode` and the file of `intervals`, read back with the
//! parquet crate's reader, equal the JSON Lines of the same command, record for record and value
//! for value.
#![cfg(feature = "parquet")]

mod common;

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float64Type, Int64Type, TimestampMicrosecondType, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::DataType;
use chrono::DateTime;
use common::{json_lines, sunpower, sunpower_ok};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::{json, Map, Value};
use sunpower_testkit::{gzip, pcap_bytes, pcapng_bytes, PcapFormat, TcpConversation};

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sample.pcap");
const THIRD_PARTY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/captures/third_party"
);

/// One cell as the JSON Lines write it: timestamps as their instant (compared as instants).
fn cell(array: &ArrayRef, row: usize) -> Value {
    if array.is_null(row) {
        return Value::Null;
    }
    match array.data_type() {
        DataType::UInt64 => json!(array.as_primitive::<UInt64Type>().value(row)),
        DataType::UInt32 => json!(array.as_primitive::<UInt32Type>().value(row)),
        DataType::Int64 => json!(array.as_primitive::<Int64Type>().value(row)),
        DataType::Float64 => json!(array.as_primitive::<Float64Type>().value(row)),
        DataType::Boolean => json!(array.as_boolean().value(row)),
        DataType::Utf8 => json!(array.as_string::<i32>().value(row)),
        DataType::Timestamp(_, _) => {
            json!({"micros": array.as_primitive::<TimestampMicrosecondType>().value(row)})
        }
        DataType::List(_) => {
            let items = array.as_list::<i32>().value(row);
            let items = items.as_string::<i32>();
            Value::Array((0..items.len()).map(|i| json!(items.value(i))).collect())
        }
        other => panic!("unexpected column type {other:?}"),
    }
}

/// A JSON Lines value in the shape [`cell`] gives: RFC 3339 strings of timestamp keys as
/// instants.
fn comparable(key: &str, value: &Value, timestamp_keys: &[String]) -> Value {
    match value {
        Value::String(s) if timestamp_keys.iter().any(|k| k == key) => {
            let t = DateTime::parse_from_rfc3339(s).unwrap();
            json!({"micros": t.timestamp_micros()})
        }
        other => other.clone(),
    }
}

fn rows(batches: &[RecordBatch]) -> Vec<Map<String, Value>> {
    let mut out = Vec::new();
    for batch in batches {
        for row in 0..batch.num_rows() {
            let mut map = Map::new();
            for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
                map.insert(field.name().clone(), cell(column, row));
            }
            out.push(map);
        }
    }
    out
}

fn timestamp_keys(batches: &[RecordBatch]) -> Vec<String> {
    let Some(batch) = batches.first() else {
        return Vec::new();
    };
    (batch.schema().fields().iter())
        .filter(|f| matches!(f.data_type(), DataType::Timestamp(_, _)))
        .map(|f| f.name().clone())
        .collect()
}

fn read_file(path: &Path) -> Vec<RecordBatch> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap())
        .unwrap()
        .build()
        .unwrap();
    reader.map(Result::unwrap).collect()
}

/// Every partition's rows, parts in order, the record type from the partition's name.
fn read_dataset(dir: &Path) -> BTreeMap<u64, Vec<RecordBatch>> {
    let mut out = BTreeMap::new();
    // Complete: the marker written last.
    assert!(dir.join("_SUCCESS").is_file(), "{}", dir.display());
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if name == "_SUCCESS" {
            continue;
        }
        let record_type: u64 = name.strip_prefix("record_type=").unwrap().parse().unwrap();
        let mut parts: Vec<_> = (std::fs::read_dir(&path).unwrap())
            .map(|e| e.unwrap().path())
            .collect();
        parts.sort();
        for part in &parts {
            let file = part.file_name().unwrap().to_str().unwrap();
            assert!(
                file.starts_with("part-") && file.ends_with(".parquet"),
                "{file}"
            );
        }
        let batches = parts.iter().flat_map(|p| read_file(p)).collect();
        out.insert(record_type, batches);
    }
    out
}

/// `decode --format parquet` of `inputs` (file names, or `-` with `stdin`) equals `decode`'s
/// JSON Lines, and exits as it does; returns the record count. No records: the dataset is its
/// `_SUCCESS` marker alone.
fn parquet_equals_json_lines_of(inputs: &[&str], stdin: Option<&[u8]>) -> usize {
    let json = sunpower(&[&["decode"], inputs].concat(), stdin);
    let lines = json_lines(&json);
    let dir = tempdir("dataset");
    let out = sunpower(
        &[
            &["decode"],
            inputs,
            &["--format", "parquet", "--output", dir.to_str().unwrap()],
        ]
        .concat(),
        stdin,
    );
    assert_eq!(out.status.code(), json.status.code(), "{inputs:?}");
    assert!(out.stdout.is_empty());
    if lines.is_empty() {
        let entries: Vec<_> = (std::fs::read_dir(&dir).unwrap())
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(entries, ["_SUCCESS"], "{inputs:?}");
        std::fs::remove_dir_all(&dir).unwrap();
        return 0;
    }
    let dataset = read_dataset(&dir);
    // The JSON Lines grouped by type, in capture order within a type.
    let mut by_type: BTreeMap<u64, Vec<&Value>> = BTreeMap::new();
    for line in &lines {
        by_type
            .entry(line["record_type"].as_u64().unwrap())
            .or_default()
            .push(line);
    }
    assert_eq!(
        by_type.keys().collect::<Vec<_>>(),
        dataset.keys().collect::<Vec<_>>()
    );
    for (record_type, expected) in &by_type {
        let batches = &dataset[record_type];
        let keys = timestamp_keys(batches);
        let got = rows(batches);
        assert_eq!(got.len(), expected.len(), "type {record_type}");
        for (row, line) in got.iter().zip(expected) {
            let line = line.as_object().unwrap();
            for (key, value) in line {
                if key == "record_type" {
                    // In the partition's name only.
                    assert!(!row.contains_key(key));
                    continue;
                }
                assert_eq!(
                    row.get(key),
                    Some(&comparable(key, value, &keys)),
                    "type {record_type}, {key}: {row:?} vs {line:?}"
                );
            }
            for (key, value) in row {
                match key.as_str() {
                    "captured_at" => assert!(value.is_object(), "{row:?}"),
                    "input" => assert!(
                        inputs.iter().any(|i| value == &json!(i)),
                        "{value} not in {inputs:?}"
                    ),
                    // Columns the JSON does not have for this record are null.
                    _ if !line.contains_key(key) => assert_eq!(value, &Value::Null, "{key}"),
                    _ => {}
                }
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    lines.len()
}

/// [`parquet_equals_json_lines_of`] one file.
fn parquet_equals_json_lines(input: &Path) -> usize {
    parquet_equals_json_lines_of(&[input.to_str().unwrap()], None)
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "sunpower-parquet-{}-{name}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A capture with every record kind, damaged lines, unknown types (with and without a
/// timestamp), a command-channel post, and enough inverter lines for several batches.
fn every_kind_conversation() -> TcpConversation {
    let mut body = String::from(
        "100\tSPMS\t10\tZT162585000441C1402\t20170107171925\n\
         120\t20170107171500\tZT162585000441C1402\t0\t445\t0\t0\t0\t81666\t0.21\t24876\t12408\n\
         122\t20170107171500\tZT1\tPV Supervisor PVS5\t2017.1\t1.0\tdesc\tfam\n\
         130\t20170107171000\t414051637009125\tAC_Module_Type_C\t18.5466\t0.0417\t245.1503\t0.3643\t0.044\t59.0692\t0.7733\t1.25\t59.9772\t0\n\
         130\t20170107171000\tINV2\tM\t7\t18.5\t\t245.1\t0.36\t0.04\t59.06\t0.77\t1.25\t59.97\t1\n\
         131\t20170107171000\tINV2\tM\t1\t2\t3\n\
         140\t20170107171000\tPVS5M508095p\tPVS5M0400p\t1\t12.34\t0.5\t0.1\t0.6\t0.9\t60.0\t0\n\
         140\t20170107171000\tPVS5M508095c\tPVS5M0400c\t1\t-3.5\t-0.2\t\t0.3\t-0.8\t60.0\t0\n\
         141\t20170107171000\tPVS5M508095c\tPVS5M0400c\t0\t1.5\t1.6\t120.1\t120.2\t0.18\t0.19\t3\n\
         130\tbad-time\tINV3\tM\n\
         140\t20170107171000\tMETER\tM\t1\tnot-a-number\n\
         777\t20170107171000\tSOMETHING\tnew\n\
         778\tno timestamp here\n",
    );
    for i in 0..9000 {
        body.push_str(&format!(
            "130\t20170107{:02}{:02}00\tINV{i}\tM\t\t{}.{:03}\t0.5\t240\t1\t0.6\t50\t1\t30\t60\t0\n",
            10 + (i / 60) % 10,
            i % 60,
            i,
            i % 1000
        ));
    }
    body.push_str("102\tTOKEN\n");
    let command = "100\tSPMS\t10\tZT1\t20170107171925\n102\tabc\n";
    let mut conv = TcpConversation::new(
        "10.0.0.2:40000".parse().unwrap(),
        "204.194.111.66:80".parse().unwrap(),
    );
    conv.handshake();
    for (path, body) in [
        ("/Data/SMS2DataCollector.aspx", body.as_str()),
        ("/Command/SMS2DataCollector.aspx", command),
    ] {
        let request = format!(
            "POST {path} HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let cuts: Vec<usize> = (1..request.len() / 1400 + 1).map(|i| i * 1400).collect();
        conv.client_sends(request.as_bytes(), &cuts);
        conv.server_sends(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", &[]);
    }
    conv.close();
    conv
}

fn every_kind_capture() -> Vec<u8> {
    let conv = every_kind_conversation();
    pcap_bytes(conv.link_type(), PcapFormat::LE_MICRO, conv.frames())
}

#[test]
fn decode_parquet_of_the_sample_equals_its_json_lines() {
    assert!(parquet_equals_json_lines(Path::new(SAMPLE)) > 5000);
}

#[test]
fn decode_parquet_of_every_kind_equals_the_json_lines() {
    let dir = tempdir("capture");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("every-kind.pcap");
    std::fs::write(&path, every_kind_capture()).unwrap();
    let records = parquet_equals_json_lines(&path);
    // 11 good lines, the meter whose damaged value costs only that field, 9000 inverters, a
    // trailer, the command post's two; 2 errors (the damaged timestamp's line, the damaged
    // value).
    assert_eq!(records, 12 + 9000 + 1 + 2);
    let stats = json_lines(&sunpower_ok(&["stats", path.to_str().unwrap()], None));
    assert_eq!(stats[0]["line_errors"], 2);
}

#[test]
fn decode_parquet_of_other_inputs_equals_the_json_lines() {
    let dir = tempdir("inputs");
    std::fs::create_dir_all(&dir).unwrap();
    let every_kind = every_kind_capture();
    let path = dir.join("every-kind.pcap");
    std::fs::write(&path, &every_kind).unwrap();
    // The same posts as pcapng at nanosecond resolution, gzip-compressed.
    let conv = every_kind_conversation();
    let link_type = u16::try_from(conv.link_type()).unwrap();
    let pcapng = dir.join("every-kind.pcapng.gz");
    std::fs::write(
        &pcapng,
        gzip(&pcapng_bytes(link_type, Some(9), conv.frames())),
    )
    .unwrap();
    assert_eq!(parquet_equals_json_lines(&pcapng), 12 + 9000 + 1 + 2);
    // Two inputs, one after the other: every row names its own.
    let both = [path.to_str().unwrap(), SAMPLE];
    let records = parquet_equals_json_lines_of(&both, None);
    assert_eq!(records, 12 + 9000 + 1 + 2 + 5304);
    // Standard input, cut in the middle of the sample: the records before the cut.
    let sample = std::fs::read(SAMPLE).unwrap();
    let cut = &sample[..sample.len() / 2];
    let records = parquet_equals_json_lines_of(&["-"], Some(cut));
    assert!((1000..5304).contains(&records), "{records}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The third-party captures the capture crate's tests read (`shared/captures/third_party`):
/// none holds a collector post, so each dataset is an empty directory, and each run exits as
/// the JSON Lines run does (1 for the files that are not captures).
#[test]
fn decode_parquet_of_every_third_party_capture_equals_the_json_lines() {
    let root = Path::new(THIRD_PARTY);
    if !root.is_dir() {
        eprintln!("skipped: {} is missing", root.display());
        return;
    }
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path.file_name() != Some("LICENSES".as_ref()) {
                    dirs.push(path);
                }
            } else if path.extension() != Some("txt".as_ref()) {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(files.len() > 200, "{}", files.len());
    let records: usize = files.iter().map(|f| parquet_equals_json_lines(f)).sum();
    assert_eq!(records, 0);
}

#[test]
fn decode_parquet_needs_an_empty_output_directory() {
    let dir = tempdir("busy");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("other"), b"x").unwrap();
    let out = sunpower(
        &[
            "decode",
            SAMPLE,
            "--format",
            "parquet",
            "--output",
            dir.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not empty"));
    let out = sunpower(&["decode", SAMPLE, "--format", "parquet"], None);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn intervals_parquet_equals_the_jsonl_rows() {
    let args = ["intervals", SAMPLE, "--tz", "America/Los_Angeles"];
    let jsonl = json_lines(&sunpower_ok(
        &[&args[..], &["--format", "jsonl"]].concat(),
        None,
    ));
    let dir = tempdir("intervals");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("intervals.parquet");
    let file_arg = file.to_str().unwrap();
    sunpower_ok(
        &[&args[..], &["--format", "parquet", "--output", file_arg]].concat(),
        None,
    );
    let batches = read_file(&file);
    let keys = timestamp_keys(&batches);
    let got = rows(&batches);
    assert!(jsonl.len() > 100);
    assert_eq!(got.len(), jsonl.len());
    for (row, line) in got.iter().zip(&jsonl) {
        let line = line.as_object().unwrap();
        assert_eq!(
            row.keys().collect::<Vec<_>>(),
            line.keys().collect::<Vec<_>>()
        );
        for (key, value) in line {
            assert_eq!(row[key], comparable(key, value, &keys), "{key}");
        }
    }
    // The local start is a timestamp in the zone.
    let schema = batches[0].schema();
    let local = schema.field_with_name("interval_start_local").unwrap();
    assert_eq!(
        local.data_type(),
        &DataType::Timestamp(
            arrow_schema::TimeUnit::Microsecond,
            Some("America/Los_Angeles".into())
        )
    );
}

#[test]
fn health_parquet_equals_the_jsonl_rows() {
    // A generated home with every planted fault: findings of every kind, with and without a
    // device and evidence.
    let home = sunpower_testkit::home::Home {
        faults: sunpower_testkit::home::Faults::all(),
        ..sunpower_testkit::home::Home::new(chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(), 9)
    };
    let dir = tempdir("health");
    std::fs::create_dir_all(&dir).unwrap();
    let body = dir.join("body.txt");
    std::fs::write(&body, home.lines().join("\n")).unwrap();
    let args = [
        "health",
        "--body",
        body.to_str().unwrap(),
        "--tz",
        "America/Los_Angeles",
    ];
    let jsonl = json_lines(&sunpower_ok(
        &[&args[..], &["--format", "jsonl"]].concat(),
        None,
    ));
    let file = dir.join("findings.parquet");
    let out = sunpower_ok(
        &[
            &args[..],
            &["--format", "parquet", "--output", file.to_str().unwrap()],
        ]
        .concat(),
        None,
    );
    assert!(out.stdout.is_empty());
    let batches = read_file(&file);
    let keys = timestamp_keys(&batches);
    assert_eq!(keys, ["start", "end"]);
    let got = rows(&batches);
    assert_eq!(jsonl.len(), 11);
    assert_eq!(got.len(), jsonl.len());
    for (row, line) in got.iter().zip(&jsonl) {
        let line = line.as_object().unwrap();
        assert_eq!(
            row.keys().collect::<Vec<_>>(),
            line.keys().collect::<Vec<_>>()
        );
        for (key, value) in line {
            let want = comparable(key, value, &keys);
            match (row[key].as_f64(), want.as_f64()) {
                // serde_json reads decimals to within an ulp or two (no `float_roundtrip`).
                (Some(a), Some(b)) if !row[key].is_u64() => {
                    assert!((a - b).abs() <= 1e-12 * a.abs().max(1.0), "{key}: {a} {b}")
                }
                _ => assert_eq!(row[key], want, "{key}"),
            }
        }
    }
    // --output only with parquet.
    let out = sunpower(
        &[&args[..], &["--output", file.to_str().unwrap()]].concat(),
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A write that fails (the disk full; here the file size limit of `ulimit -f`, its signal
/// ignored, so that writes fail with EFBIG as they would with ENOSPC) names the file it was
/// writing and leaves nothing: no temporary part filling the disk, no dataset that looks whole.
#[cfg(unix)]
#[test]
fn decode_parquet_onto_a_full_disk_names_the_file_and_removes_its_files() {
    let dir = tempdir("full");
    let out = std::process::Command::new("sh")
        .args([
            "-c",
            "trap '' XFSZ; ulimit -f 16; exec \"$0\" \"$@\"",
            env!("CARGO_BIN_EXE_sunpower"),
            "decode",
            SAMPLE,
            "--format",
            "parquet",
            "--output",
            dir.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("{}/", dir.display())) && stderr.contains("cannot write"),
        "{stderr}"
    );
    assert!(!stderr.contains("External"), "{stderr}");
    assert!(
        !dir.exists(),
        "{:?}",
        std::fs::read_dir(&dir).map(|d| d.count())
    );
}

/// The output is a regular file: refused with its name, not "File exists (os error 17)".
#[test]
fn decode_parquet_onto_a_file_names_it() {
    let dir = tempdir("onto-file");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("dataset");
    std::fs::write(&file, b"x").unwrap();
    let out = sunpower(
        &[
            "decode",
            SAMPLE,
            "--format",
            "parquet",
            "--output",
            file.to_str().unwrap(),
        ],
        None,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("{}: not a directory", file.display())),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&file).unwrap(), b"x");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `vars --format parquet`: the inverters' and meters' records by record type, the batteries,
/// the transfer switch and the supervisor's health by kind, each row equal to `vars`'s JSON
/// line, SoC in percent; the dataset complete; a second run into it refused.
#[test]
fn vars_parquet_equals_the_json_lines_by_record_type_and_kind() {
    let dir = tempdir("vars-dataset");
    std::fs::create_dir_all(&dir).unwrap();
    let doc = dir.join("vars.json");
    let mut entries = vec![
        ("/sys/pvs/flashwear_type_b", "0x05".to_owned()),
        ("/sys/info/sw_rev", "2025.09.04.61845".to_owned()),
        ("/sys/devices/inverter/0/sn", "E00122000001".to_owned()),
        (
            "/sys/devices/inverter/0/msmtEps",
            "2025-09-30T15:50:00Z".to_owned(),
        ),
        ("/sys/devices/inverter/0/ltea3phsumKwh", "1234.5".to_owned()),
        ("/sys/devices/transfer_switch/0/sn", "MIDC01".to_owned()),
        (
            "/sys/devices/transfer_switch/0/msmtEps",
            "2025-09-30T15:50:00Z".to_owned(),
        ),
        (
            "/sys/devices/transfer_switch/0/midStEnum",
            "MID_STATE_CLOSED".to_owned(),
        ),
        ("/sys/devices/transfer_switch/0/tDegc", "31.5".to_owned()),
    ];
    let battery_paths: Vec<_> = (0..2)
        .flat_map(|i| {
            [
                (format!("/sys/devices/ess/{i}/sn"), format!("BC0{i}")),
                (
                    format!("/sys/devices/ess/{i}/msmtEps"),
                    "2025-09-30T15:50:00Z".to_owned(),
                ),
                (
                    format!("/sys/devices/ess/{i}/socVal"),
                    format!("0.{}5", 4 + i),
                ),
                (
                    format!("/sys/devices/ess/{i}/posLtea3phsumKwh"),
                    "120.5".into(),
                ),
            ]
        })
        .collect();
    entries.extend(battery_paths.iter().map(|(p, v)| (p.as_str(), v.clone())));
    let map: Map<String, Value> = (entries.iter())
        .map(|(p, v)| (p.to_string(), json!(v)))
        .collect();
    std::fs::write(&doc, serde_json::to_string(&map).unwrap()).unwrap();
    let doc = doc.to_str().unwrap();
    let lines = json_lines(&sunpower_ok(&["vars", doc], None));
    let out_dir = dir.join("dataset");
    let out = sunpower_ok(
        &[
            "vars",
            doc,
            "--format",
            "parquet",
            "--output",
            out_dir.to_str().unwrap(),
        ],
        None,
    );
    assert!(out.stdout.is_empty());
    assert!(out_dir.join("_SUCCESS").is_file());
    let mut partitions = BTreeMap::new();
    for entry in std::fs::read_dir(&out_dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if let Some(kind) = name.strip_prefix("record_type=") {
            partitions.insert(
                kind.to_string(),
                read_file(&path.join("part-00000.parquet")),
            );
        }
    }
    assert_eq!(
        partitions.keys().collect::<Vec<_>>(),
        ["130", "battery", "supervisor_health", "transfer_switch"]
    );
    // Every JSON line of a partitioned kind is its partition's row, in order, value for value.
    let mut by_kind: BTreeMap<String, Vec<&Map<String, Value>>> = BTreeMap::new();
    for line in &lines {
        let kind = match &line["record_type"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        by_kind
            .entry(kind)
            .or_default()
            .push(line.as_object().unwrap());
    }
    for (kind, batches) in &partitions {
        let keys = timestamp_keys(batches);
        let got = rows(batches);
        let expected = &by_kind[kind];
        assert_eq!(got.len(), expected.len(), "{kind}");
        for (row, line) in got.iter().zip(expected) {
            for (key, value) in *line {
                if key == "record_type" {
                    assert!(!row.contains_key(key));
                    continue;
                }
                assert_eq!(
                    row.get(key),
                    Some(&comparable(key, value, &keys)),
                    "{kind}, {key}: {row:?} vs {line:?}"
                );
            }
        }
    }
    let soc: Vec<_> = rows(&partitions["battery"])
        .iter()
        .map(|r| r["soc_pct"].clone())
        .collect();
    assert_eq!(soc, [json!(45.0), json!(55.0)]);
    assert_eq!(
        rows(&partitions["transfer_switch"])[0]["mid_state"],
        "MID_STATE_CLOSED"
    );
    // A complete dataset is not overwritten.
    let again = sunpower(
        &[
            "vars",
            doc,
            "--format",
            "parquet",
            "--output",
            out_dir.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(again.status.code(), Some(1));
    std::fs::remove_dir_all(&dir).unwrap();
}
