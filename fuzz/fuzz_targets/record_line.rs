#![no_main]

use libfuzzer_sys::fuzz_target;
use sunpower_proto::{
    parse_line, BodyStream, Channel, DecodedRecord, JsonRecord, LineError, Record,
};

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
            // The fast writer is serde_json's output byte for byte, whatever the line.
            let mut fast = Vec::new();
            JsonRecord::new(&record, Some(Channel::Data)).write_to(&mut fast);
            assert_eq!(fast, json.as_bytes(), "write_to differs from serde_json");
            serde_json::to_string(&record).expect("a record serializes");
        }
    }
    // The same bytes as a streamed body: every record as decoded writes what the record
    // writes.
    let (mut want, mut got) = (Vec::new(), Vec::new());
    let mut on_record = |item: Result<Record<'_>, LineError>| {
        if let Ok(record) = item {
            JsonRecord::new(&record, Some(Channel::Data)).write_to(&mut want);
        }
    };
    let mut stream = BodyStream::new();
    stream.feed(data, &mut on_record);
    stream.finish(&mut on_record);
    let mut on_decoded = |item: Result<DecodedRecord<'_>, LineError>| {
        if let Ok(decoded) = item {
            decoded.json(Some(Channel::Data)).write_to(&mut got);
        }
    };
    let mut stream = BodyStream::new();
    stream.feed_decoded(data, &mut on_decoded);
    stream.finish_decoded(&mut on_decoded);
    assert_eq!(
        got, want,
        "DecodedRecord::json differs from JsonRecord::new"
    );
});
