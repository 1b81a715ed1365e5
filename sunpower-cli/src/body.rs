//! `sunpower parse` and `sunpower stats --body`: raw POST bodies, no capture.

use std::collections::BTreeMap;
use std::io;

use serde::Serialize;
use sunpower_proto::Body;

use crate::output::{display_name, read_input, JsonLines};
use crate::Outcome;

/// Counts of decoding raw bodies, as `stats --body` prints them.
#[derive(Debug, Default, Serialize)]
pub struct BodyCounts {
    pub records: u64,
    /// Record type (as a string key in JSON) to count.
    pub records_by_type: BTreeMap<String, u64>,
    pub line_errors: u64,
    /// 130 lines in the 14-field form with field 4 collapsed.
    pub inverter_lines_collapsed: u64,
}

impl BodyCounts {
    pub fn count(&mut self, record: &sunpower_proto::Record<'_>) {
        self.records += 1;
        // Types are at most five digits; a small map keyed by the text keeps JSON order numeric
        // for the three-digit types the protocol uses.
        *self
            .records_by_type
            .entry(record.record_type().to_string())
            .or_default() += 1;
        if let sunpower_proto::Record::Inverter(inv) = record {
            if inv.form == sunpower_proto::InverterForm::Collapsed {
                self.inverter_lines_collapsed += 1;
            }
        }
    }
}

pub fn parse(input: &str) -> io::Result<Outcome> {
    let data = match read_input(input) {
        Ok(data) => data,
        Err(e) => {
            eprintln!("sunpower: {}: {e}", display_name(input));
            return Ok(Outcome::Unreadable);
        }
    };
    let mut out = JsonLines::stdout();
    for item in Body::new(&data).records() {
        match item {
            Ok(record) => out.record(&record, None)?,
            Err(e) => eprintln!("{}: {e}", display_name(input)),
        }
    }
    out.flush()?;
    Ok(Outcome::Read)
}

pub fn stats(inputs: &[String]) -> io::Result<Outcome> {
    let mut counts = BodyCounts::default();
    let mut outcome = Outcome::Read;
    for input in inputs {
        let data = match read_input(input) {
            Ok(data) => data,
            Err(e) => {
                eprintln!("sunpower: {}: {e}", display_name(input));
                outcome = Outcome::Unreadable;
                continue;
            }
        };
        for item in Body::new(&data).records() {
            match item {
                Ok(record) => counts.count(&record),
                Err(e) => {
                    counts.line_errors += 1;
                    eprintln!("{}: {e}", display_name(input));
                }
            }
        }
    }
    let mut stdout = io::stdout().lock();
    serde_json::to_writer(&mut stdout, &counts)?;
    io::Write::write_all(&mut stdout, b"\n")?;
    Ok(outcome)
}
