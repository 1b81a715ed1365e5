//! Parquet files of the library's Arrow batches: a Hive-style dataset of records
//! (`DIR/record_type=130/part-00000.parquet`) for `decode`, one file of intervals for
//! `intervals`. Streaming: row groups are flushed as they fill, so memory stays bounded whatever
//! the capture's length. Every file is written under a temporary name, synced and renamed.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use sunpower_pcap::records::RecordEvent;
use sunpower_proto::arrow::{
    interval_batch, interval_schema, record_schema, KindBatch, RecordBatcher, RecordContext,
    DEFAULT_BATCH_ROWS,
};
use sunpower_proto::intervals::{Interval, Tz};

use crate::capture::{drive, CaptureArgs};
use crate::Outcome;

/// A row group is flushed once its encoded size reaches this (or at `ROW_GROUP_ROWS` rows).
pub const ROW_GROUP_BYTES: usize = 4 << 20;
/// The memory of all a dataset's row groups in progress (the writers' own estimate, encoders and
/// dictionaries included): past it, the largest row group is flushed early.
pub const DATASET_MEMORY: usize = 8 << 20;
/// Rows in a row group at most.
pub const ROW_GROUP_ROWS: usize = 64 * 1024;
/// Partition files open at once; a record type past it closes the least recently written one
/// (its later records go to the partition's next part file).
pub const MAX_OPEN_PARTS: usize = 16;

fn properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_max_row_group_bytes(Some(ROW_GROUP_BYTES))
        .build()
}

fn parquet_error(e: parquet::errors::ParquetError) -> io::Error {
    io::Error::other(e)
}

/// One Parquet file being written under a temporary name beside its final one.
pub struct ParquetFile {
    writer: ArrowWriter<File>,
    temporary: PathBuf,
    path: PathBuf,
}

impl ParquetFile {
    pub fn create(path: PathBuf, schema: SchemaRef) -> io::Result<ParquetFile> {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let temporary = path.with_file_name(format!(".{name}.tmp"));
        let file = File::create(&temporary)?;
        let writer =
            ArrowWriter::try_new(file, schema, Some(properties())).map_err(parquet_error)?;
        Ok(ParquetFile {
            writer,
            temporary,
            path,
        })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> io::Result<()> {
        // Bounded memory: the writer flushes a row group once its encoded size reaches
        // ROW_GROUP_BYTES (or ROW_GROUP_ROWS rows).
        self.writer.write(batch).map_err(parquet_error)
    }

    /// Memory held by the row group in progress.
    pub fn memory_size(&self) -> usize {
        self.writer.memory_size()
    }

    /// Flushes the row group in progress.
    pub fn flush(&mut self) -> io::Result<()> {
        self.writer.flush().map_err(parquet_error)
    }

    /// Writes the footer, syncs, and gives the file its name.
    pub fn close(mut self) -> io::Result<()> {
        self.writer.finish().map_err(parquet_error)?;
        self.writer.inner().sync_all()?;
        fs::rename(&self.temporary, &self.path)?;
        sync_dir(self.path.parent())
    }
}

/// Makes a rename durable (the directory entry), where the platform can.
fn sync_dir(dir: Option<&Path>) -> io::Result<()> {
    #[cfg(unix)]
    if let Some(dir) = dir {
        File::open(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        })?
        .sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// A partition's open part file.
struct Part {
    file: ParquetFile,
    last_write: u64,
}

/// The records dataset: one partition directory per record type, `part-NNNNN.parquet` files in
/// it. The partition column (`record_type`) is in the path only, as Hive-style writers do, so
/// that DuckDB, polars, pyarrow and Spark read the directory as one dataset without a clash.
pub struct Dataset {
    dir: PathBuf,
    open: HashMap<u16, Part>,
    next_part: HashMap<u16, u32>,
    writes: u64,
    pub files: u64,
}

impl Dataset {
    /// Creates `dir` (which must not exist or be empty: parts of an earlier run would mix in).
    pub fn create(dir: &Path) -> io::Result<Dataset> {
        if fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some()) {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!(
                    "{}: the directory is not empty (a dataset is written into a new or empty \
                     directory)",
                    dir.display()
                ),
            ));
        }
        fs::create_dir_all(dir)?;
        Ok(Dataset {
            dir: dir.to_path_buf(),
            open: HashMap::new(),
            next_part: HashMap::new(),
            writes: 0,
            files: 0,
        })
    }

    pub fn write(&mut self, batch: &KindBatch) -> io::Result<()> {
        let record_type = batch.record_type;
        if !self.open.contains_key(&record_type) {
            if self.open.len() >= MAX_OPEN_PARTS {
                let oldest = self.open.iter().min_by_key(|(_, p)| p.last_write);
                if let Some(oldest) = oldest.map(|(t, _)| *t) {
                    self.close_part(oldest)?;
                }
            }
            let dir = self.dir.join(format!("record_type={record_type}"));
            fs::create_dir_all(&dir)?;
            let number = self.next_part.entry(record_type).or_default();
            let path = dir.join(format!("part-{number:05}.parquet"));
            *number += 1;
            let file = ParquetFile::create(path, file_schema(record_type))?;
            self.open.insert(
                record_type,
                Part {
                    file,
                    last_write: 0,
                },
            );
        }
        self.writes += 1;
        let part = self
            .open
            .get_mut(&record_type)
            .ok_or_else(|| io::Error::other("no open part"))?;
        part.last_write = self.writes;
        let mut columns = batch.batch.clone();
        columns.remove_column(0);
        part.file.write(&columns)?;
        // One budget for every open part: many record types cannot add up past it.
        loop {
            let sizes = self.open.values().map(|p| p.file.memory_size());
            if sizes.sum::<usize>() <= DATASET_MEMORY {
                return Ok(());
            }
            let largest = self.open.values_mut().max_by_key(|p| p.file.memory_size());
            match largest {
                Some(part) if part.file.memory_size() > 0 => part.file.flush()?,
                _ => return Ok(()),
            }
        }
    }

    fn close_part(&mut self, record_type: u16) -> io::Result<()> {
        if let Some(part) = self.open.remove(&record_type) {
            part.file.close()?;
            self.files += 1;
        }
        Ok(())
    }

    /// Closes every part file.
    pub fn close(mut self) -> io::Result<u64> {
        let mut types: Vec<u16> = self.open.keys().copied().collect();
        types.sort_unstable();
        for record_type in types {
            self.close_part(record_type)?;
        }
        sync_dir(Some(&self.dir))?;
        Ok(self.files)
    }
}

/// The schema of a partition's files: the kind's, without the partition column.
fn file_schema(record_type: u16) -> SchemaRef {
    let schema = record_schema(record_type);
    let fields = schema.fields().iter().skip(1).cloned().collect::<Vec<_>>();
    Arc::new(Schema::new(fields))
}

/// Every record into the library's Arrow batcher, its batches into the dataset's part files.
pub fn decode(args: &CaptureArgs, dir: &std::path::Path) -> io::Result<Outcome> {
    let mut dataset = match Dataset::create(dir) {
        Ok(dataset) => dataset,
        Err(e) => {
            eprintln!("sunpower: {e}");
            return Ok(Outcome::Unreadable);
        }
    };
    let mut decoder = args.decoder();
    let stderr = args.stderr(&decoder);
    let mut batcher = RecordBatcher::with_batch_rows(2048);
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

/// The intervals' Parquet file of `intervals --format parquet`: the columns of the jsonl rows.
pub struct IntervalsFile {
    file: ParquetFile,
    tz: Tz,
}

impl IntervalsFile {
    pub fn create(path: PathBuf, tz: Tz) -> io::Result<IntervalsFile> {
        let file = ParquetFile::create(path, interval_schema(Some(tz)))?;
        Ok(IntervalsFile { file, tz })
    }

    pub fn write(&mut self, rows: &[Interval]) -> io::Result<()> {
        for chunk in rows.chunks(DEFAULT_BATCH_ROWS) {
            let batch = interval_batch(chunk, Some(self.tz)).map_err(io::Error::other)?;
            self.file.write(&batch)?;
        }
        Ok(())
    }

    pub fn close(self) -> io::Result<()> {
        self.file.close()
    }
}
