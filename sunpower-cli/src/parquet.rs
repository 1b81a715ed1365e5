//! `decode --format parquet`: every record into the library's Arrow batcher, its batches into
//! the library's Parquet dataset (`sunpower_store::parquet`): complete with its `_SUCCESS`
//! marker, or (killed) with no visible part, replaced by the next run; on an error, removed.
//! `vars --format parquet`: a `/vars` document's records and its batteries, transfer switches
//! and supervisor health into such a dataset.

use std::io;

use sunpower_pcap::records::RecordEvent;
use sunpower_proto::arrow::{
    battery_batch, supervisor_health_batch, transfer_switch_batch, RecordBatcher, RecordContext,
};
use sunpower_proto::{Battery, SupervisorHealth, TransferSwitch, Vars};
use sunpower_store::parquet::{Dataset, BATCH_ROWS};

pub use sunpower_store::parquet::{FindingsFile, IntervalsFile};

use crate::capture::{drive, CaptureArgs};
use crate::Outcome;

/// Every record into the library's Arrow batcher, its batches into the dataset's part files.
pub fn decode(args: &CaptureArgs, dir: &std::path::Path) -> io::Result<Outcome> {
    let Some(mut dataset) = create(dir) else {
        return Ok(Outcome::Unreadable);
    };
    let mut decoder = args.decoder();
    let stderr = args.stderr(&decoder);
    let mut batcher = RecordBatcher::with_batch_rows(BATCH_ROWS);
    let mut written = Ok(());
    let outcome = drive(&mut decoder, &stderr, |event| {
        if let RecordEvent::Record { post, record } = event {
            let context = RecordContext {
                channel: post.channel,
                captured_at: Some(post.captured_at),
                input: Some(post.input),
            };
            batcher
                .push(record, &context, |batch| {
                    if written.is_ok() {
                        written = dataset.write(&batch);
                    }
                })
                .map_err(io::Error::other)?;
        }
        std::mem::replace(&mut written, Ok(()))
    })?;
    batcher
        .finish(|batch| {
            if written.is_ok() {
                written = dataset.write(&batch);
            }
        })
        .map_err(io::Error::other)?;
    written?;
    dataset.close()?;
    Ok(outcome)
}

/// Creates the dataset at `dir`, telling the user when it replaces an interrupted run's.
fn create(dir: &std::path::Path) -> Option<Dataset> {
    match Dataset::create(dir) {
        Ok(dataset) => {
            if dataset.replaced() {
                eprintln!(
                    "sunpower: {}: replacing the incomplete dataset an interrupted run left",
                    dir.display()
                );
            }
            Some(dataset)
        }
        Err(e) => {
            eprintln!("sunpower: {e}");
            None
        }
    }
}

/// A `/vars` document into a dataset: its inverter and meter records by record type (as
/// `decode` writes them), its batteries, transfer switches and health by kind.
pub fn vars(vars: &Vars, dir: &std::path::Path) -> io::Result<Outcome> {
    let Some(mut dataset) = create(dir) else {
        return Ok(Outcome::Unreadable);
    };
    let mut batcher = RecordBatcher::with_batch_rows(BATCH_ROWS);
    let context = RecordContext::default();
    let mut written = Ok(());
    let mut write = |batch| {
        if written.is_ok() {
            written = dataset.write(&batch);
        }
    };
    for record in vars.records() {
        (batcher.push(&record.record(), &context, &mut write)).map_err(io::Error::other)?;
    }
    batcher.finish(&mut write).map_err(io::Error::other)?;
    written?;
    let health: Vec<SupervisorHealth> = vars.health.iter().cloned().collect();
    for (kind, batch) in [
        (Battery::KIND, battery_batch(&vars.batteries)),
        (
            TransferSwitch::KIND,
            transfer_switch_batch(&vars.transfer_switches),
        ),
        (SupervisorHealth::KIND, supervisor_health_batch(&health)),
    ] {
        dataset.write_kind(kind, &batch.map_err(io::Error::other)?)?;
    }
    dataset.close()?;
    Ok(Outcome::Read)
}
