#![no_main]

use libfuzzer_sys::fuzz_target;
use sunpower_proto::{parse_device_list, Record, RecordBuf, UNKNOWN_DEVICE_JSON_MAX};

#[path = "../harness.rs"]
mod harness;

fuzz_target!(|data: &[u8]| {
    if let Ok(list) = parse_device_list(data) {
        // Every record is a protocol line that decodes again to the same record.
        for buf in &list.records {
            harness::check_record(buf.line(), &buf.record());
            let again = RecordBuf::parse(buf.line()).expect("a DeviceList record line re-parses");
            // A meter's import and export counters come from the document, not from a field of
            // the line: the rest of the record is the line's.
            let mut from_document = buf.record();
            if let Record::Meter(m) = &mut from_document {
                m.import_energy_kwh = None;
                m.export_energy_kwh = None;
            }
            assert_eq!(again.record(), from_document);
        }
        for u in &list.unknown {
            assert!(u.json.len() <= UNKNOWN_DEVICE_JSON_MAX);
        }
    }
});
