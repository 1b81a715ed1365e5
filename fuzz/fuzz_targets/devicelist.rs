#![no_main]

use libfuzzer_sys::fuzz_target;
use sunpower_proto::{parse_device_list, RecordBuf, UNKNOWN_DEVICE_JSON_MAX};

#[path = "../harness.rs"]
mod harness;

fuzz_target!(|data: &[u8]| {
    if let Ok(list) = parse_device_list(data) {
        // Every record is a protocol line that decodes again to the same record.
        for buf in &list.records {
            harness::check_record(buf.line(), &buf.record());
            let again = RecordBuf::parse(buf.line()).expect("a DeviceList record line re-parses");
            assert_eq!(again.record(), buf.record());
        }
        for u in &list.unknown {
            assert!(u.json.len() <= UNKNOWN_DEVICE_JSON_MAX);
        }
    }
});
