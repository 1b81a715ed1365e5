//! `sunpower parse` and `sunpower stats --body`: raw POST bodies, no capture, read as streams.

use std::io::{self, Write};

use sunpower_proto::{ProblemLog, RecordCounts};

use crate::output::{display_name, read_body, stdout_lines, BodyError, Stderr};
use crate::Outcome;

/// Reports an input that could not be read; passes output errors on.
fn input_failed(name: &str, error: BodyError) -> io::Result<Outcome> {
    match error {
        BodyError::Input(e) => {
            eprintln!("sunpower: {}: {e}", display_name(name));
            Ok(Outcome::Unreadable)
        }
        BodyError::Output(e) => Err(e),
    }
}

pub fn parse(input: &str) -> io::Result<Outcome> {
    let mut out = stdout_lines();
    let mut log = ProblemLog::default();
    let stderr = Stderr::default();
    let read = read_body(input, &mut log, &stderr, |item| match item {
        Ok(record) => out.write_record(record, None),
        Err(_) => Ok(()),
    });
    let outcome = match read {
        Ok(()) => Outcome::Read,
        Err(e) => input_failed(input, e)?,
    };
    out.flush()?;
    stderr.finish(log.summary());
    Ok(outcome)
}

pub fn stats(inputs: &[String]) -> io::Result<Outcome> {
    let mut counts = RecordCounts::default();
    let mut log = ProblemLog::default();
    let stderr = Stderr::default();
    let mut outcome = Outcome::Read;
    let mut read_any = false;
    for input in inputs {
        let read = read_body(input, &mut log, &stderr, |item| {
            counts.count(item);
            Ok(())
        });
        match read {
            Ok(()) => read_any = true,
            Err(e) => outcome = input_failed(input, e)?,
        }
    }
    stderr.finish(log.summary());
    if !read_any {
        // Nothing was read: counts of zero would look like an empty body.
        return Ok(outcome);
    }
    let mut stdout = io::stdout().lock();
    serde_json::to_writer(&mut stdout, &counts)?;
    io::Write::write_all(&mut stdout, b"\n")?;
    Ok(outcome)
}
