//! The inputs other than captures that `intervals`, `health` and `report` share: raw bodies,
//! DeviceList and `/vars` documents, read in that order, and a telemetry stream, their problems
//! reported, their records and site totals handed on.

use std::io;

use sunpower_proto::{Battery, ProblemLog, Record, SiteTotals, Vars};

use crate::devicelist::{read_device_list, report_device_list};
use crate::output::{display_name, read_body, BodyError, Stderr};
use crate::varserver::{read_telemetry, read_vars, report_vars};
use crate::Outcome;

/// What a saved input gives: a record, a DeviceList's battery, or a `/vars` document whole (the
/// interval stage sets its shared serials aside, so it takes the document, not its records one
/// by one).
pub enum Item<'a> {
    Record(&'a Record<'a>),
    Battery(&'a Battery),
    Vars(&'a Vars),
}

/// The inputs of a command other than captures (`--body`, `--devicelist`, `--vars`,
/// `--telemetry`), the same options in every command that reads them.
#[derive(Debug, Clone, clap::Args)]
pub struct Documents {
    /// A raw POST body (one post per file, read in the order given).
    #[arg(long = "body", value_name = "FILE")]
    pub bodies: Vec<String>,
    /// A saved DeviceList JSON document of the supervisor's local API (one per poll, in order).
    #[arg(long = "devicelist", value_name = "FILE")]
    pub devicelists: Vec<String>,
    /// A saved `/vars` document of the supervisor's varserver (one per poll, in order).
    #[arg(long = "vars", value_name = "FILE")]
    pub vars: Vec<String>,
    /// The supervisor's WebSocket telemetry, one JSON frame a line; `-` for a live stream on
    /// standard input.
    #[arg(long, value_name = "FILE")]
    pub telemetry: Option<String>,
}

/// What reading them came to: `Unreadable` if one could not be read, and the damaged lines of
/// the bodies (each reported through `log`).
pub struct Read {
    pub outcome: Outcome,
    pub line_errors: u64,
}

impl Documents {
    /// Reads every input and hands each record (or `/vars` document) to `on_item`.
    pub fn read(&self, log: &mut ProblemLog, mut on_item: impl FnMut(Item<'_>)) -> Read {
        let mut read = Read {
            outcome: Outcome::Read,
            line_errors: 0,
        };
        for name in &self.bodies {
            let stderr = Stderr::default();
            let result = read_body(name, log, &stderr, |item| {
                match item {
                    Ok(record) => on_item(Item::Record(record)),
                    Err(_) => read.line_errors += 1,
                }
                Ok(())
            });
            if let Err(BodyError::Input(e) | BodyError::Output(e)) = result {
                eprintln!("sunpower: {}: {e}", display_name(name));
                read.outcome = Outcome::Unreadable;
            }
        }
        for name in &self.devicelists {
            match read_device_list(name) {
                Ok(list) => {
                    for record in &list.records {
                        on_item(Item::Record(&record.record()));
                    }
                    for battery in &list.batteries {
                        on_item(Item::Battery(battery));
                    }
                    report_device_list(name, &list);
                }
                Err(e) => {
                    eprintln!("sunpower: {}: {e}", display_name(name));
                    read.outcome = Outcome::Unreadable;
                }
            }
        }
        for name in &self.vars {
            match read_vars(name) {
                Ok(vars) => {
                    on_item(Item::Vars(&vars));
                    report_vars(name, &vars);
                }
                Err(e) => {
                    eprintln!("sunpower: {}: {e}", display_name(name));
                    read.outcome = Outcome::Unreadable;
                }
            }
        }
        read
    }

    /// Reads the telemetry stream, if one was given (after [`Documents::read`]), handing each
    /// frame's site totals to `on_totals`; an error of `on_totals` (its output failing) stops it.
    pub fn read_telemetry(
        &self,
        on_totals: impl FnMut(&SiteTotals) -> io::Result<()>,
    ) -> io::Result<Outcome> {
        match &self.telemetry {
            Some(name) => read_telemetry(name, on_totals),
            None => Ok(Outcome::Read),
        }
    }

    /// Whether an input is standard input read live (`--telemetry -`).
    pub fn live(&self) -> bool {
        self.telemetry.as_deref() == Some("-")
    }
}
