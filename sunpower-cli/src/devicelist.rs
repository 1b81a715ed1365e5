//! `sunpower devicelist`: a saved DeviceList document of the PVS local API as JSON Lines records
//! (and its batteries).

use std::io::{self, Write};

use sunpower_proto::{parse_device_list, DeviceList, DocumentLimits};

use crate::output::{display_name, json_line, read_document, stdout_lines};
use crate::Outcome;

/// A saved DeviceList document, read in bounded memory and decoded.
pub fn read_device_list(name: &str) -> Result<DeviceList, String> {
    read_document(name, DocumentLimits::default().max_bytes)
        .and_then(|data| parse_device_list(&data).map_err(|e| e.to_string()))
}

pub fn run(input: &str) -> io::Result<Outcome> {
    let list = match read_device_list(input) {
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
    for battery in &list.batteries {
        json_line(&mut out, battery)?;
    }
    out.flush()?;
    report_device_list(input, &list);
    Ok(Outcome::Read)
}

/// What a DeviceList held besides its records: its problems, what was withheld, the devices
/// kept raw. Every command that reads one says it the same way.
pub fn report_device_list(name: &str, list: &DeviceList) {
    let name = display_name(name);
    for problem in &list.problems {
        eprintln!("{name}: {problem}");
    }
    if list.withheld > 0 {
        eprintln!(
            "{name}: {} values shaped like MAC addresses withheld",
            list.withheld
        );
    }
    for device in &list.unknown {
        eprintln!(
            "{name}: device {} of unknown type {:?} (serial {:?}) kept raw, not decoded",
            device.index,
            device.device_type.as_deref().unwrap_or(""),
            device.serial.as_deref().unwrap_or("")
        );
    }
}
