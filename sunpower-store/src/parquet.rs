//! Parquet files of `sunpower_proto`'s [Arrow batches](sunpower_proto::arrow) (`parquet` feature,
//! on the Apache Arrow project's `parquet` crate): a Hive-style [`Dataset`] of records
//! (`DIR/record_type=130/part-00000.parquet`, what `sunpower decode --format parquet` writes)
//! and an [`IntervalsFile`] (`sunpower intervals --format parquet`). One of the crate's two
//! writers (with [`tree`](crate::tree)): the batches come from the sans-I/O
//! [`RecordBatcher`](sunpower_proto::arrow::RecordBatcher). Streaming: memory stays within
//! [`DATASET_MEMORY`] plus a row group whatever the input's length. Every file is written under
//! a temporary name, synced and renamed, so a power cut leaves whole files or none; a lock
//! keeps a second run out of a dataset being written.
//!
//! ```
//! use sunpower_proto::arrow::{RecordBatcher, RecordContext};
//! use sunpower_proto::parse_line;
//! use sunpower_store::parquet::Dataset;
//!
//! let dir = std::env::temp_dir().join(format!("sunpower-doc-dataset-{}", std::process::id()));
//! # let _ = std::fs::remove_dir_all(&dir);
//! let mut dataset = Dataset::create(&dir)?;
//! let mut batcher = RecordBatcher::new();
//! let context = RecordContext::default();
//! for line in ["102\tabc", "130\t20170107171000\tS1\tM\t\t1.5", "102\tdef"] {
//!     batcher.push(&parse_line(line).unwrap(), &context, |b| dataset.write(&b).unwrap()).unwrap();
//! }
//! batcher.finish(|b| dataset.write(&b).unwrap()).unwrap();
//! assert_eq!(dataset.close()?, 2); // one part file per record type
//! assert!(dir.join("record_type=102/part-00000.parquet").is_file());
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), std::io::Error>(())
//! ```

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
use sunpower_proto::arrow::{
    interval_batch, interval_schema, record_schema, KindBatch, DEFAULT_BATCH_ROWS,
};
use sunpower_proto::intervals::{Interval, Tz};

/// A row group is flushed once its encoded size reaches this (or at `ROW_GROUP_ROWS` rows).
pub const ROW_GROUP_BYTES: usize = 4 << 20;
/// Rows in a row group at most.
pub const ROW_GROUP_ROWS: usize = 64 * 1024;
/// The memory of a dataset in progress: the leading partition's row group (the writer's own
/// estimate: encoders, dictionaries, pages), the other partitions' buffered batches and any
/// other row group still open. Past it, the largest of the others is written out, the leading
/// row group last. 6 MiB, not 7: with 7, a year of the sample home peaked at 19.8 to 20.2 MiB of
/// the 20 (the 16 MiB budget plus a 4 MiB row group); with 6, 18.9 to 19.2 MiB, for 3 % more
/// row groups' bytes (68.2 MB against 66.0).
pub const DATASET_MEMORY: usize = 6 << 20;
/// A partition other than the leading one (the record type with the most rows so far) keeps its
/// rows as Arrow batches up to this many bytes, then writes them as one row group. An encoder
/// holds about 75 KiB per dictionary column from its first row (hash tables sized for 4,096
/// values), so five open row groups of one-row-a-post kinds would hold 4.5 MiB for a few
/// thousand rows; buffered, they cost their bytes only, and their row groups hold weeks.
pub const BUFFERED_ROW_GROUP_BYTES: usize = 768 << 10;
/// Rows in a data page at most (the default is 20,000): a dictionary-encoded page keeps an
/// 8-byte index per value until it is cut, and a 130 line has about 30 values (1 MiB a page at
/// 4,096 rows). Smaller pages cost more in page indexes than they save.
pub const PAGE_ROWS: usize = 4096;
/// A column's dictionary falls back to plain encoding past this (the default, 1 MiB, would let
/// each high-cardinality column of each open row group hold 1 MiB of values and 2 MiB of hash
/// table).
pub const DICTIONARY_PAGE_BYTES: usize = 256 << 10;
/// Rows of a batch out of the record batcher (each kind's builders hold that many rows).
pub const BATCH_ROWS: usize = 512;
/// A part file is closed once its row groups times its columns reach this (the next rows go
/// to the partition's next part): a writer keeps every row group's column metadata and page
/// indexes (about 1 KiB a column chunk) until the footer, which would grow with the capture.
/// 128 is 7 row groups of 130 lines (about 450,000 rows, four months of a 24-panel home).
pub const PART_COLUMN_CHUNKS: usize = 128;
/// Partition files open at once; a record type past it closes the least recently written one
/// (its later records go to the partition's next part file).
pub const MAX_OPEN_PARTS: usize = 16;

fn properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_max_row_group_bytes(Some(ROW_GROUP_BYTES))
        .set_data_page_row_count_limit(PAGE_ROWS)
        .set_dictionary_page_size_limit(DICTIONARY_PAGE_BYTES)
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
    /// Starts `path` (as `.NAME.tmp` beside it until [`close`](Self::close)) with `schema`.
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

    /// Appends the rows of `batch` (of the file's schema).
    pub fn write(&mut self, batch: &RecordBatch) -> io::Result<()> {
        // Bounded memory: the writer flushes a row group once its encoded size reaches
        // ROW_GROUP_BYTES (or ROW_GROUP_ROWS rows).
        self.writer.write(batch).map_err(parquet_error)
    }

    /// Memory held by the row group in progress.
    pub fn memory_size(&self) -> usize {
        self.writer.memory_size()
    }

    /// Row groups written so far (the one in progress not counted).
    pub fn row_groups(&self) -> usize {
        self.writer.flushed_row_groups().len()
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

/// The limits a [`Dataset`] keeps to (the constants; smaller in the tests).
#[derive(Debug, Clone, Copy)]
struct Limits {
    memory: usize,
    buffered: usize,
    part_column_chunks: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory: DATASET_MEMORY,
            buffered: BUFFERED_ROW_GROUP_BYTES,
            part_column_chunks: PART_COLUMN_CHUNKS,
        }
    }
}

/// A partition: its open part file (if any) and the batches it holds back.
#[derive(Default)]
struct Partition {
    part: Option<ParquetFile>,
    next_part: u32,
    last_write: u64,
    rows: u64,
    /// Batches not yet written (a partition other than the leading one), and their bytes.
    held: Vec<RecordBatch>,
    held_bytes: usize,
}

impl Partition {
    /// Memory it holds: held batches and the open row group.
    fn memory(&self) -> usize {
        self.held_bytes + self.part.as_ref().map_or(0, ParquetFile::memory_size)
    }
}

/// The records dataset: one partition directory per record type, `part-NNNNN.parquet` files in
/// it. The partition column (`record_type`) is in the path only, as Hive-style writers do, so
/// that DuckDB, polars, pyarrow and Spark read the directory as one dataset without a clash.
///
/// Memory: the leading partition (most rows so far; a 24-panel home's inverters are 66 % of
/// its records) streams into its row group; the others hold their rows as Arrow batches and
/// write them as one row group at [`BUFFERED_ROW_GROUP_BYTES`]; all of it is counted against
/// [`DATASET_MEMORY`].
pub struct Dataset {
    dir: PathBuf,
    /// Held (locked) from `create` to `close`.
    lock: File,
    limits: Limits,
    partitions: HashMap<u16, Partition>,
    writes: u64,
    files: u64,
}

impl Dataset {
    /// Creates `dir` (which must not exist or be empty: parts of an earlier run would mix in).
    pub fn create(dir: &Path) -> io::Result<Dataset> {
        let not_empty = || {
            io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!(
                    "{}: the directory is not empty (a dataset is written into a new or empty \
                     directory)",
                    dir.display()
                ),
            )
        };
        if !is_empty(dir) {
            return Err(not_empty());
        }
        fs::create_dir_all(dir)?;
        // Two runs into one directory would write the same part files: the second is refused,
        // not made to wait. The lock file goes at `close` (a crash leaves it, unlocked; it
        // does not count as content, and readers skip hidden files).
        let lock = File::create(dir.join(LOCK_FILE))?;
        if lock.try_lock().is_err() {
            return Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                format!("{}: another run is writing a dataset here", dir.display()),
            ));
        }
        // Checked again under the lock: a run that finished between the check and the lock.
        if !is_empty(dir) {
            return Err(not_empty());
        }
        Ok(Dataset {
            dir: dir.to_path_buf(),
            lock,
            limits: Limits::default(),
            partitions: HashMap::new(),
            writes: 0,
            files: 0,
        })
    }

    /// Memory held by every partition.
    fn memory(&self) -> usize {
        self.partitions.values().map(Partition::memory).sum()
    }

    /// The record type with the most rows so far (the lower type on a tie).
    fn leader(&self) -> Option<u16> {
        (self.partitions.iter())
            .max_by_key(|(t, p)| (p.rows, std::cmp::Reverse(**t)))
            .map(|(t, _)| *t)
    }

    /// Adds a batch of the [`RecordBatcher`](sunpower_proto::arrow::RecordBatcher) to its record type's
    /// partition, writing out what the memory budget asks for.
    pub fn write(&mut self, batch: &KindBatch) -> io::Result<()> {
        let record_type = batch.record_type;
        let mut columns = batch.batch.clone();
        columns.remove_column(0);
        self.writes += 1;
        let partition = self.partitions.entry(record_type).or_default();
        partition.rows += columns.num_rows() as u64;
        partition.last_write = self.writes;
        if self.leader() == Some(record_type) {
            // Held batches first (it led no longer before): rows stay in capture order.
            let partition = self.partition(record_type)?;
            let held = std::mem::take(&mut partition.held);
            partition.held_bytes = 0;
            for rows in held.iter().chain([&columns]) {
                self.write_rows(record_type, rows)?;
            }
        } else {
            let partition = self.partition(record_type)?;
            partition.held_bytes += columns.get_array_memory_size();
            partition.held.push(columns);
            if partition.held_bytes >= self.limits.buffered {
                self.write_row_group(record_type)?;
            }
        }
        // One budget for every partition: many record types cannot add up past it.
        while self.memory() > self.limits.memory {
            let leader = self.leader();
            let largest = (self.partitions.iter())
                .filter(|(_, p)| p.memory() > 0)
                .max_by_key(|(t, p)| (Some(**t) != leader, p.memory()))
                .map(|(t, _)| *t);
            match largest {
                Some(record_type) => self.write_row_group(record_type)?,
                None => break,
            }
        }
        Ok(())
    }

    fn partition(&mut self, record_type: u16) -> io::Result<&mut Partition> {
        self.partitions
            .get_mut(&record_type)
            .ok_or_else(|| io::Error::other("no partition"))
    }

    /// Writes `rows` into the partition's row group in progress (opening a part file first if
    /// none is open), closing the part once it holds [`PART_COLUMN_CHUNKS`].
    fn write_rows(&mut self, record_type: u16, rows: &RecordBatch) -> io::Result<()> {
        self.open_part(record_type)?;
        let max_chunks = self.limits.part_column_chunks;
        let partition = self.partition(record_type)?;
        let Some(part) = &mut partition.part else {
            return Err(io::Error::other("no open part"));
        };
        part.write(rows)?;
        if part.row_groups() * rows.num_columns() >= max_chunks {
            self.close_part(record_type)?;
        }
        Ok(())
    }

    /// Writes the partition's held batches and ends its row group.
    fn write_row_group(&mut self, record_type: u16) -> io::Result<()> {
        let partition = self.partition(record_type)?;
        let held = std::mem::take(&mut partition.held);
        partition.held_bytes = 0;
        for rows in &held {
            self.write_rows(record_type, rows)?;
        }
        drop(held);
        if let Some(part) = &mut self.partition(record_type)?.part {
            part.flush()?;
        }
        Ok(())
    }

    fn open_part(&mut self, record_type: u16) -> io::Result<()> {
        if self.partition(record_type)?.part.is_some() {
            return Ok(());
        }
        let open = self
            .partitions
            .values()
            .filter(|p| p.part.is_some())
            .count();
        if open >= MAX_OPEN_PARTS {
            let oldest = (self.partitions.iter())
                .filter(|(_, p)| p.part.is_some())
                .min_by_key(|(_, p)| p.last_write)
                .map(|(t, _)| *t);
            if let Some(oldest) = oldest {
                self.close_part(oldest)?;
            }
        }
        let dir = self.dir.join(format!("record_type={record_type}"));
        fs::create_dir_all(&dir)?;
        let partition = self.partition(record_type)?;
        let path = dir.join(format!("part-{:05}.parquet", partition.next_part));
        partition.next_part += 1;
        partition.part = Some(ParquetFile::create(path, file_schema(record_type))?);
        Ok(())
    }

    fn close_part(&mut self, record_type: u16) -> io::Result<()> {
        if let Some(part) = self.partition(record_type)?.part.take() {
            part.close()?;
            self.files += 1;
        }
        Ok(())
    }

    /// Writes every held batch and closes every part file.
    pub fn close(mut self) -> io::Result<u64> {
        let mut types: Vec<u16> = self.partitions.keys().copied().collect();
        types.sort_unstable();
        for record_type in types {
            self.write_row_group(record_type)?;
            self.close_part(record_type)?;
        }
        fs::remove_file(self.dir.join(LOCK_FILE))?;
        self.lock.unlock()?;
        sync_dir(Some(&self.dir))?;
        Ok(self.files)
    }
}

/// The lock file of a dataset being written (hidden, so readers skip it).
const LOCK_FILE: &str = ".sunpower-dataset.lock";

/// Whether `dir` is missing or holds nothing but a lock file left by a crashed run.
fn is_empty(dir: &Path) -> bool {
    match fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .all(|entry| entry.file_name() == LOCK_FILE),
        Err(_) => true,
    }
}

/// The schema of a partition's files: the kind's, without the partition column.
fn file_schema(record_type: u16) -> SchemaRef {
    let schema = record_schema(record_type);
    let fields = schema.fields().iter().skip(1).cloned().collect::<Vec<_>>();
    Arc::new(Schema::new(fields))
}

/// The intervals' Parquet file of `intervals --format parquet`: the columns of the jsonl rows.
pub struct IntervalsFile {
    file: ParquetFile,
    tz: Tz,
}

impl IntervalsFile {
    /// Starts the file at `path`, local times in `tz`.
    ///
    /// ```
    /// use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig, Tz};
    /// use sunpower_proto::parse_line;
    /// use sunpower_store::parquet::IntervalsFile;
    /// let mut acc = IntervalAccumulator::new(IntervalConfig::default());
    /// acc.add(&parse_line("130\t20260601170000\tINV1\tAC_Module_Type_C\t\t100.000\t0.3").unwrap());
    /// acc.add(&parse_line("130\t20260601170500\tINV1\tAC_Module_Type_C\t\t100.025\t0.3").unwrap());
    /// let path = std::env::temp_dir().join(format!("sunpower-doc-{}.parquet", std::process::id()));
    /// let mut file = IntervalsFile::create(path.clone(), Tz::UTC)?;
    /// file.write(&acc.finish())?;
    /// file.close()?;
    /// // Read back: the two intervals (17:00 and 17:05), one row each.
    /// use parquet::file::reader::{FileReader, SerializedFileReader};
    /// let reader = SerializedFileReader::new(std::fs::File::open(&path)?).unwrap();
    /// assert_eq!(reader.metadata().file_metadata().num_rows(), 2);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn create(path: PathBuf, tz: Tz) -> io::Result<IntervalsFile> {
        let file = ParquetFile::create(path, interval_schema(Some(tz)))?;
        Ok(IntervalsFile { file, tz })
    }

    /// Appends `rows` (in batches of [`DEFAULT_BATCH_ROWS`]).
    pub fn write(&mut self, rows: &[Interval]) -> io::Result<()> {
        for chunk in rows.chunks(DEFAULT_BATCH_ROWS) {
            let batch = interval_batch(chunk, Some(self.tz)).map_err(io::Error::other)?;
            self.file.write(&batch)?;
        }
        Ok(())
    }

    /// Writes the footer, syncs, and gives the file its name.
    pub fn close(self) -> io::Result<()> {
        self.file.close()
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::cast::AsArray;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    use super::*;
    use sunpower_proto::arrow::{RecordBatcher, RecordContext};
    use sunpower_proto::parse_line;

    /// Every row of a partition's part files, in part order: the serial column.
    fn serials(dir: &Path, record_type: u16) -> (usize, Vec<String>) {
        let dir = dir.join(format!("record_type={record_type}"));
        let mut parts: Vec<_> = (fs::read_dir(&dir).unwrap())
            .map(|e| e.unwrap().path())
            .collect();
        parts.sort();
        let mut out = Vec::new();
        for part in &parts {
            let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(part).unwrap())
                .unwrap()
                .build()
                .unwrap();
            for batch in reader {
                let batch = batch.unwrap();
                let column = batch.column_by_name("serial").unwrap().as_string::<i32>();
                out.extend(column.iter().map(|s| s.unwrap().to_string()));
            }
        }
        (parts.len(), out)
    }

    #[test]
    fn a_second_run_into_the_same_directory_is_refused() {
        let dir =
            std::env::temp_dir().join(format!("sunpower-dataset-lock-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let first = Dataset::create(&dir).unwrap();
        let second = Dataset::create(&dir).err().unwrap();
        assert_eq!(second.kind(), io::ErrorKind::WouldBlock, "{second}");
        assert_eq!(first.close().unwrap(), 0);
        // Nothing left behind: the directory is empty again, and a new run may use it.
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);
        // A lock file left by a crash does not count as content.
        File::create(dir.join(LOCK_FILE)).unwrap();
        Dataset::create(&dir).unwrap().close().unwrap();
        fs::write(dir.join("other.txt"), "x").unwrap();
        let refused = Dataset::create(&dir).err().unwrap();
        assert_eq!(refused.kind(), io::ErrorKind::AlreadyExists);
        fs::remove_dir_all(&dir).unwrap();
    }

    /// Small limits: held partitions written as row groups, the leader changing, the budget
    /// flushing, part files rolled over; every row lands once, in order, in its partition.
    #[test]
    fn every_row_lands_once_in_order_whatever_the_limits() {
        let dir = std::env::temp_dir().join(format!("sunpower-dataset-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let mut dataset = Dataset::create(&dir).unwrap();
        dataset.limits = Limits {
            memory: 96 << 10,
            buffered: 16 << 10,
            part_column_chunks: 24,
        };
        let mut batcher = RecordBatcher::with_batch_rows(64);
        let context = RecordContext::default();
        let mut expected: HashMap<u16, Vec<String>> = HashMap::new();
        let mut peak = 0;
        // 120 leads first, then 130 (three lines a round) overtakes it; 999 is rare.
        for i in 0..6000 {
            let mut lines = Vec::new();
            if i < 1000 || i % 4 == 0 {
                lines.push((120, format!("120\t20170107171500\tS{i}\t0\t445")));
            }
            if i >= 300 {
                for k in 0..3 {
                    let serial = format!("I{i}-{k}");
                    lines.push((130, format!("130\t20170107171000\t{serial}\tM\t\t1.5")));
                }
            }
            if i % 50 == 0 {
                lines.push((999, format!("999\t20170107171000\tU{i}")));
            }
            for (record_type, line) in &lines {
                let record = parse_line(line).unwrap();
                let serial = line.split('\t').nth(2).unwrap().to_string();
                expected.entry(*record_type).or_default().push(serial);
                batcher
                    .push(&record, &context, |b| dataset.write(&b).unwrap())
                    .unwrap();
                peak = peak.max(dataset.memory());
            }
        }
        batcher.finish(|b| dataset.write(&b).unwrap()).unwrap();
        let files = dataset.close().unwrap();
        // Each write ends within the budget.
        assert!(peak > 0 && peak <= 96 << 10, "{peak}");
        let mut counted = 0;
        for (record_type, serials_in) in &expected {
            let (parts, got) = serials(&dir, *record_type);
            assert_eq!(&got, serials_in, "type {record_type}");
            counted += parts as u64;
        }
        assert_eq!(counted, files);
        // The inverters' partition was rolled over into several part files.
        assert!(serials(&dir, 130).0 > 2);
        fs::remove_dir_all(&dir).unwrap();
    }
}
