#![no_main]

use libfuzzer_sys::fuzz_target;
use sunpower_proto::{parse_device_list, DocumentLimits, JsonRecord, RecordBuf, Source};

fuzz_target!(|data: &[u8]| {
    if let Ok(list) = parse_device_list(data) {
        // Every record is built from the document's values: no line, its source said, the
        // time and serial a data record needs, and it is kept whole by its owned form.
        for buf in &list.records {
            let record = buf.record();
            assert_eq!(buf.line(), None);
            assert_eq!(record.source(), Source::DeviceList);
            assert!(record.raw().is_none() && record.extra_fields().next().is_none());
            assert!(record.timestamp().is_some() && record.serial().is_some());
            assert!(
                matches!(record.record_type(), 120 | 130 | 140 | 141),
                "{record:?}"
            );
            assert_eq!(RecordBuf::from(&record), *buf);
            let json = serde_json::to_vec(&JsonRecord::new(&record, None)).expect("serializes");
            assert!(json.windows(22).any(|w| w == br#""source":"devicelist","#));
        }
        let json_max = DocumentLimits::default().max_unknown_device_bytes;
        for u in &list.unknown {
            assert!(u.json.len() <= json_max);
        }
    }
});
