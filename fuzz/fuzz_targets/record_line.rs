#![no_main]

use libfuzzer_sys::fuzz_target;
use sunpower_proto::{parse_line, BodyStream, Channel, JsonLines, JsonRecord, LineError, Record};

#[path = "../harness.rs"]
mod harness;

fuzz_target!(|data: &[u8]| {
    harness::check_record_line(data);
    // With the serde feature, every record serializes to valid JSON.
    if let Ok(line) = std::str::from_utf8(data) {
        if let Ok(record) = parse_line(line) {
            let json = serde_json::to_string(&JsonRecord::new(&record, Some(Channel::Data)))
                .expect("a record serializes");
            serde_json::from_str::<serde_json::Value>(&json).expect("the JSON parses back");
            // The JSON Lines writer is serde_json's output byte for byte, whatever the line.
            let mut lines = JsonLines::new(Vec::new());
            lines.write_record(&record, Some(Channel::Data)).expect("a Vec takes it");
            let fast = lines.into_inner().expect("a Vec takes it");
            assert_eq!(fast, format!("{json}\n").as_bytes(), "JsonLines differs from serde_json");
            serde_json::to_string(&record).expect("a record serializes");
        }
    }
    // The same bytes as a streamed body: every record the stream hands over writes as serde_json
    // writes it.
    let (mut want, mut lines) = (Vec::new(), JsonLines::new(Vec::new()));
    let mut on_record = |item: Result<Record<'_>, LineError>| {
        if let Ok(record) = item {
            let json = JsonRecord::new(&record, Some(Channel::Data));
            serde_json::to_writer(&mut want, &json).expect("a record serializes");
            want.push(b'\n');
            lines.write_record(&record, Some(Channel::Data)).expect("a Vec takes it");
        }
    };
    let mut stream = BodyStream::new();
    stream.feed(data, &mut on_record);
    stream.finish(&mut on_record);
    let got = lines.into_inner().expect("a Vec takes it");
    assert_eq!(got, want, "JsonLines differs from serde_json");
});
