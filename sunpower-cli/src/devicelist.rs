//! `sunpower devicelist`: a saved DeviceList document of the PVS local API as JSON Lines records.

use std::io::{self, Write};

use sunpower_proto::{parse_device_list, DocumentLimits};

use crate::output::{display_name, read_document, stdout_lines};
use crate::Outcome;

pub fn run(input: &str) -> io::Result<Outcome> {
    let list = match read_document(input, DocumentLimits::default().max_bytes)
        .and_then(|data| parse_device_list(&data).map_err(|e| e.to_string()))
    {
        Ok(list) => list,
        Err(e) => {
            eprintln!("sunpower: {}: {e}", display_name(input));
            return Ok(Outcome::Unreadable);
        }
    };
    let mut out = stdout_lines();
    for record in &list.records {
        out.write_record(&record.record(), None)?;
    }
    out.flush()?;
    for problem in &list.problems {
        eprintln!("{}: {problem}", display_name(input));
    }
    if list.withheld > 0 {
        eprintln!(
            "{}: {} values shaped like MAC addresses withheld",
            display_name(input),
            list.withheld
        );
    }
    for device in &list.unknown {
        eprintln!(
            "{}: device {} of unknown type {:?} (serial {:?}) kept raw, not decoded",
            display_name(input),
            device.index,
            device.device_type.as_deref().unwrap_or(""),
            device.serial.as_deref().unwrap_or("")
        );
    }
    Ok(Outcome::Read)
}
