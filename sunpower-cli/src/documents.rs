//! The saved inputs `intervals` and `health` share: raw bodies, DeviceList and `/vars`
//! documents, read in that order, their problems reported, their records handed on.

use sunpower_proto::{ProblemLog, Record, Vars};

use crate::devicelist::{read_device_list, report_device_list};
use crate::output::{display_name, read_body, BodyError, Stderr};
use crate::varserver::{read_vars, report_vars};
use crate::Outcome;

/// What a saved input gives: a record, or a `/vars` document whole (the interval stage sets
/// its shared serials aside, so it takes the document, not its records one by one).
pub enum Item<'a> {
    Record(&'a Record<'a>),
    Vars(&'a Vars),
}

/// The saved inputs of a command (`--body`, `--devicelist`, `--vars`), the same options in every
/// command that reads them.
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
}
