//! `decode --format parquet`: every record into the library's Arrow batcher, its batches into
//! the library's Parquet dataset (`sunpower_store::parquet`): complete with its `_SUCCESS`
//! marker, or (killed) with no visible part, replaced by the next run; on an error, removed.

use std::io;

use sunpower_pcap::records::RecordEvent;
use sunpower_proto::arrow::{RecordBatcher, RecordContext};
use sunpower_store::parquet::{Dataset, BATCH_ROWS};

pub use sunpower_store::parquet::{FindingsFile, IntervalsFile};

use crate::capture::{drive, CaptureArgs};
use crate::Outcome;

/// Every record into the library's Arrow batcher, its batches into the dataset's part files.
pub fn decode(args: &CaptureArgs, dir: &std::path::Path) -> io::Result<Outcome> {
    let mut dataset = match Dataset::create(dir) {
        Ok(dataset) => dataset,
        Err(e) => {
            eprintln!("sunpower: {e}");
            return Ok(Outcome::Unreadable);
        }
    };
    if dataset.replaced() {
        eprintln!(
            "sunpower: {}: replacing the incomplete dataset an interrupted run left",
            dir.display()
        );
    }
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
