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
//! Besides the collector's record types, a dataset takes the kinds named by their field tables
//! (a `/vars` document's batteries, transfer switches and supervisor health:
//! [`Dataset::write_kind`]), each in its own partition, `DIR/record_type=battery/`, so that one
//! dataset holds everything a `/vars` document decodes to.
//!
//! A dataset is complete or says it is not: its parts are written in a hidden staging folder
//! (`DIR/.sunpower-dataset.incomplete/`, which readers skip) and moved into place at
//! [`Dataset::close`], then `DIR/_SUCCESS` is written last, as Spark does. A run killed before
//! its end leaves no visible part; the next run into the folder replaces what it left. On an
//! error the dataset's files are removed, temporary ones included.
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
    finding_batch, finding_schema, interval_batch, interval_schema, record_schema, KindBatch,
    DEFAULT_BATCH_ROWS,
};
use sunpower_proto::health::Finding;
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

/// The parquet crate's error as an I/O error naming `path` and what failed (an I/O error
/// inside keeps its kind: a full disk stays `StorageFull`, not "External: ...").
fn parquet_error(
    path: &Path,
    what: &str,
) -> impl FnOnce(parquet::errors::ParquetError) -> io::Error + use<> {
    let path = path.to_owned();
    let what = what.to_owned();
    move |e| {
        let e = match e {
            parquet::errors::ParquetError::External(inner) => match inner.downcast::<io::Error>() {
                Ok(io) => *io,
                Err(other) => io::Error::other(other),
            },
            other => io::Error::other(other),
        };
        annotate(&path, &what)(e)
    }
}

/// An I/O error as one naming `path` and what was being done, its kind kept.
fn annotate<'a>(path: &'a Path, what: &'a str) -> impl FnOnce(io::Error) -> io::Error + 'a {
    move |e| io::Error::new(e.kind(), format!("{}: {what}: {e}", path.display()))
}

/// One Parquet file being written under a temporary name beside its final one; dropped
/// before [`close`](Self::close) (an error), it removes its temporary file.
pub struct ParquetFile {
    writer: ArrowWriter<File>,
    temporary: PathBuf,
    path: PathBuf,
    closed: bool,
}

impl ParquetFile {
    /// Starts `path` (as `.NAME.tmp` beside it until [`close`](Self::close)) with `schema`.
    pub fn create(path: PathBuf, schema: SchemaRef) -> io::Result<ParquetFile> {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let temporary = path.with_file_name(format!(".{name}.tmp"));
        let file = File::create(&temporary).map_err(annotate(&temporary, "cannot create"))?;
        let writer = match ArrowWriter::try_new(file, schema, Some(properties())) {
            Ok(writer) => writer,
            Err(e) => {
                let _ = fs::remove_file(&temporary);
                return Err(parquet_error(&temporary, "cannot write")(e));
            }
        };
        Ok(ParquetFile {
            writer,
            temporary,
            path,
            closed: false,
        })
    }

    /// Appends the rows of `batch` (of the file's schema).
    pub fn write(&mut self, batch: &RecordBatch) -> io::Result<()> {
        // Bounded memory: the writer flushes a row group once its encoded size reaches
        // ROW_GROUP_BYTES (or ROW_GROUP_ROWS rows).
        (self.writer.write(batch)).map_err(parquet_error(&self.temporary, "cannot write"))
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
        (self.writer.flush()).map_err(parquet_error(&self.temporary, "cannot write"))
    }

    /// Writes the footer, syncs, and gives the file its name.
    pub fn close(mut self) -> io::Result<()> {
        let temporary = &self.temporary;
        (self.writer.finish()).map_err(parquet_error(temporary, "cannot write"))?;
        (self.writer.inner().sync_all()).map_err(annotate(temporary, "cannot sync"))?;
        fs::rename(temporary, &self.path)
            .map_err(annotate(&self.path, "cannot rename into place"))?;
        self.closed = true;
        sync_dir(self.path.parent())
    }
}

impl Drop for ParquetFile {
    fn drop(&mut self) {
        // Not closed: an error (a full disk) or an abandoned file; its bytes must not stay.
        if !self.closed {
            let _ = fs::remove_file(&self.temporary);
        }
    }
}

/// Makes a rename durable (the directory entry), where the platform can.
fn sync_dir(dir: Option<&Path>) -> io::Result<()> {
    #[cfg(unix)]
    if let Some(dir) = dir {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        (File::open(dir).and_then(|d| d.sync_all())).map_err(annotate(dir, "cannot sync"))?;
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

/// A partition's name, the value after `record_type=`: a collector record type (`130`) or a
/// kind named by its field table (`battery`, from the batches of
/// [`battery_batch`](sunpower_proto::arrow::battery_batch) and the like).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Key {
    Type(u16),
    Kind(String),
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Key::Type(t) => write!(f, "{t}"),
            Key::Kind(k) => f.write_str(k),
        }
    }
}

/// A partition: its open part file (if any) and the batches it holds back.
#[derive(Default)]
struct Partition {
    /// The columns of a named kind's part files (its first batch's; a record type's come from
    /// [`record_schema`]).
    schema: Option<SchemaRef>,
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
    /// Where the parts are written until `close` moves them into `dir`.
    staging: PathBuf,
    /// Held (locked) from `create` to `close`.
    lock: File,
    limits: Limits,
    partitions: HashMap<Key, Partition>,
    writes: u64,
    files: u64,
    /// Whether `create` made `dir` (removed again if the dataset fails).
    created: bool,
    /// Whether `create` removed what a run killed before its end had left.
    replaced: bool,
    /// Partitions already moved into `dir` by `close` (removed if it fails after).
    moved: Vec<PathBuf>,
    closed: bool,
}

/// The staging folder of a dataset being written (hidden, so readers skip it): its presence
/// says that the dataset is incomplete.
pub const STAGING_DIR: &str = ".sunpower-dataset.incomplete";
/// The file written last, once every part is in place (Spark's marker of a complete dataset).
pub const SUCCESS_FILE: &str = "_SUCCESS";

/// What a dataset's folder holds before a run.
enum Contents {
    /// Missing, empty, or a lock file left by a crash.
    Empty,
    /// What a run killed before its end left (its staging folder, partitions it had moved, its
    /// lock file): replaced by the new run.
    Incomplete(Vec<PathBuf>),
    /// Anything else (a complete dataset, other files): named in the refusal.
    Other(PathBuf),
}

/// What `dir` holds. A folder that cannot be listed is an error, not an empty folder.
fn contents(dir: &Path) -> io::Result<Contents> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Contents::Empty),
        Err(e) => {
            return Err(annotate(
                dir,
                "cannot list the directory (so cannot tell it is empty)",
            )(e))
        }
    };
    let mut staging = false;
    let mut leftovers = Vec::new();
    let mut other = None;
    for entry in entries {
        let entry = entry.map_err(annotate(dir, "cannot list the directory"))?;
        let name = entry.file_name();
        if name == LOCK_FILE {
            continue;
        }
        staging |= name == STAGING_DIR;
        let partition = name.to_str().is_some_and(|n| n.starts_with("record_type="))
            && entry.file_type().is_ok_and(|t| t.is_dir());
        if name == STAGING_DIR || partition {
            leftovers.push(entry.path());
        } else if other.is_none() {
            other = Some(entry.path());
        }
    }
    Ok(match (other, leftovers.is_empty()) {
        (Some(path), _) => Contents::Other(path),
        (None, true) => Contents::Empty,
        // Partitions without a staging folder: a complete dataset of an earlier version, or
        // someone's: not ours to remove.
        (None, false) if !staging => Contents::Other(leftovers.swap_remove(0)),
        (None, false) => Contents::Incomplete(leftovers),
    })
}

/// What `follow` finds through the symbolic link `path`; a link to nothing, or one that cannot
/// be followed (a loop), is an error naming it, `advice` saying what to do instead.
fn through_link<T>(
    path: &Path,
    follow: impl FnOnce(&Path) -> io::Result<T>,
    advice: &str,
) -> io::Result<T> {
    match follow(path) {
        Ok(target) => Ok(target),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let to = fs::read_link(path).unwrap_or_default();
            Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "{}: a symbolic link to {}, which does not exist (not followed: {advice}, \
                     or give another output)",
                    path.display(),
                    to.display()
                ),
            ))
        }
        Err(e) => Err(annotate(path, "cannot follow the symbolic link")(e)),
    }
}

/// Checks that `dir` is a directory or can be made one: a file, a symbolic link to nothing and
/// a loop of links are refused by name (creating the folder would say "File exists").
fn check_directory(dir: &Path) -> io::Result<()> {
    let meta = match fs::symlink_metadata(dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(annotate(dir, "cannot inspect the output")(e)),
    };
    let target = if meta.file_type().is_symlink() {
        through_link(dir, |p| fs::metadata(p), "make the directory")?
    } else {
        meta
    };
    if !target.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!(
                "{}: not a directory (a dataset is written into a new or empty directory)",
                dir.display()
            ),
        ));
    }
    Ok(())
}

impl Dataset {
    /// Creates `dir` (which must not exist or be empty: parts of an earlier run would mix in),
    /// or replaces what a run into `dir` killed before its end left (see
    /// [`replaced`](Self::replaced)). A folder that cannot be listed, a file, a symbolic link
    /// to nothing are refused with an error naming them.
    pub fn create(dir: &Path) -> io::Result<Dataset> {
        let refuse = |path: PathBuf| {
            io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!(
                    "{}: the directory is not empty ({} is there; a dataset is written into a \
                     new or empty directory)",
                    dir.display(),
                    path.display()
                ),
            )
        };
        check_directory(dir)?;
        if let Contents::Other(path) = contents(dir)? {
            return Err(refuse(path));
        }
        let created = !dir.exists();
        fs::create_dir_all(dir).map_err(annotate(dir, "cannot create the directory"))?;
        // Two runs into one directory would write the same part files: the second is refused,
        // not made to wait. The lock file goes at `close` (a crash leaves it, unlocked; it
        // does not count as content, and readers skip hidden files).
        let lock_path = dir.join(LOCK_FILE);
        let lock = File::create(&lock_path).map_err(annotate(&lock_path, "cannot create"))?;
        if lock.try_lock().is_err() {
            return Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                format!("{}: another run is writing a dataset here", dir.display()),
            ));
        }
        // Checked again under the lock: a run that finished between the check and the lock;
        // what a killed run left is removed only under the lock (a live run holds it).
        let replaced = match contents(dir)? {
            Contents::Other(path) => return Err(refuse(path)),
            Contents::Empty => false,
            Contents::Incomplete(leftovers) => {
                for path in &leftovers {
                    fs::remove_dir_all(path).map_err(annotate(path, "cannot remove"))?;
                }
                true
            }
        };
        let staging = dir.join(STAGING_DIR);
        fs::create_dir(&staging).map_err(annotate(&staging, "cannot create"))?;
        sync_dir(Some(dir))?;
        Ok(Dataset {
            dir: dir.to_path_buf(),
            staging,
            lock,
            limits: Limits::default(),
            partitions: HashMap::new(),
            writes: 0,
            files: 0,
            created,
            replaced,
            moved: Vec::new(),
            closed: false,
        })
    }

    /// Whether [`create`](Self::create) removed the incomplete dataset of a run killed before
    /// its end (worth telling the user).
    pub fn replaced(&self) -> bool {
        self.replaced
    }

    /// Memory held by every partition.
    fn memory(&self) -> usize {
        self.partitions.values().map(Partition::memory).sum()
    }

    /// The record type with the most rows so far (the lower type on a tie).
    fn leader(&self) -> Option<&Key> {
        (self.partitions.iter())
            .max_by_key(|(t, p)| (p.rows, std::cmp::Reverse(*t)))
            .map(|(t, _)| t)
    }

    /// Adds a batch of the [`RecordBatcher`](sunpower_proto::arrow::RecordBatcher) to its record type's
    /// partition, writing out what the memory budget asks for.
    pub fn write(&mut self, batch: &KindBatch) -> io::Result<()> {
        let mut columns = batch.batch.clone();
        columns.remove_column(0);
        self.write_partition(Key::Type(batch.record_type), columns)
    }

    /// Adds a batch of a kind named by its field table (its first column `record_type`, the
    /// kind's name, as [`battery_batch`](sunpower_proto::arrow::battery_batch),
    /// [`transfer_switch_batch`](sunpower_proto::arrow::transfer_switch_batch) and
    /// [`supervisor_health_batch`](sunpower_proto::arrow::supervisor_health_batch) make them)
    /// to its partition, `record_type=battery/` beside the record types' ones. The partition
    /// column is in the path only, as for the record types. An empty batch writes nothing.
    ///
    /// A batch whose first column is not `record_type`, a name that is not lower-case ASCII
    /// letters, digits and `_` (it becomes a folder's name), or a batch whose columns differ
    /// from the kind's earlier ones is an `InvalidInput` error.
    pub fn write_kind(&mut self, kind: &str, batch: &RecordBatch) -> io::Result<()> {
        let invalid = |what: String| io::Error::new(io::ErrorKind::InvalidInput, what);
        if kind.is_empty()
            || !(kind.bytes()).all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(invalid(format!(
                "{kind:?}: not a kind's name (lower-case letters, digits, _)"
            )));
        }
        if batch.schema().fields().first().map(|f| f.name().as_str()) != Some("record_type") {
            return Err(invalid(format!(
                "{kind}: the batch's first column is not record_type"
            )));
        }
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let mut columns = batch.clone();
        columns.remove_column(0);
        let key = Key::Kind(kind.to_owned());
        let partition = self.partitions.entry(key.clone()).or_default();
        match &partition.schema {
            Some(schema) if *schema != columns.schema() => {
                return Err(invalid(format!(
                    "{kind}: the batch's columns differ from the kind's earlier batches"
                )))
            }
            Some(_) => {}
            None => partition.schema = Some(columns.schema()),
        }
        self.write_partition(key, columns)
    }

    fn write_partition(&mut self, record_type: Key, columns: RecordBatch) -> io::Result<()> {
        self.writes += 1;
        let partition = self.partitions.entry(record_type.clone()).or_default();
        partition.rows += columns.num_rows() as u64;
        partition.last_write = self.writes;
        if self.leader() == Some(&record_type) {
            // Held batches first (it led no longer before): rows stay in capture order.
            let partition = self.partition(&record_type)?;
            let held = std::mem::take(&mut partition.held);
            partition.held_bytes = 0;
            for rows in held.iter().chain([&columns]) {
                self.write_rows(&record_type, rows)?;
            }
        } else {
            let partition = self.partition(&record_type)?;
            partition.held_bytes += columns.get_array_memory_size();
            partition.held.push(columns);
            if partition.held_bytes >= self.limits.buffered {
                self.write_row_group(&record_type)?;
            }
        }
        // One budget for every partition: many record types cannot add up past it.
        while self.memory() > self.limits.memory {
            let leader = self.leader();
            let largest = (self.partitions.iter())
                .filter(|(_, p)| p.memory() > 0)
                .max_by_key(|(t, p)| (Some(*t) != leader, p.memory()))
                .map(|(t, _)| t.clone());
            match largest {
                Some(record_type) => self.write_row_group(&record_type)?,
                None => break,
            }
        }
        Ok(())
    }

    fn partition(&mut self, record_type: &Key) -> io::Result<&mut Partition> {
        self.partitions
            .get_mut(record_type)
            .ok_or_else(|| io::Error::other("no partition"))
    }

    /// Writes `rows` into the partition's row group in progress (opening a part file first if
    /// none is open), closing the part once it holds [`PART_COLUMN_CHUNKS`].
    fn write_rows(&mut self, record_type: &Key, rows: &RecordBatch) -> io::Result<()> {
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
    fn write_row_group(&mut self, record_type: &Key) -> io::Result<()> {
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

    fn open_part(&mut self, record_type: &Key) -> io::Result<()> {
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
                .map(|(t, _)| t.clone());
            if let Some(oldest) = oldest {
                self.close_part(&oldest)?;
            }
        }
        let dir = self.staging.join(format!("record_type={record_type}"));
        fs::create_dir_all(&dir).map_err(annotate(&dir, "cannot create"))?;
        let partition = self.partition(record_type)?;
        let path = dir.join(format!("part-{:05}.parquet", partition.next_part));
        partition.next_part += 1;
        let schema = match (record_type, &partition.schema) {
            (Key::Type(t), _) => file_schema(*t),
            (Key::Kind(_), Some(schema)) => schema.clone(),
            (Key::Kind(_), None) => return Err(io::Error::other("no schema")),
        };
        partition.part = Some(ParquetFile::create(path, schema)?);
        Ok(())
    }

    fn close_part(&mut self, record_type: &Key) -> io::Result<()> {
        if let Some(part) = self.partition(record_type)?.part.take() {
            part.close()?;
            self.files += 1;
        }
        Ok(())
    }

    /// Writes every held batch and closes every part file, moves the partitions into place
    /// and writes [`SUCCESS_FILE`] last; the number of part files. On an error, nothing of the
    /// dataset stays.
    pub fn close(mut self) -> io::Result<u64> {
        let mut types: Vec<Key> = self.partitions.keys().cloned().collect();
        types.sort_unstable();
        for record_type in &types {
            self.write_row_group(record_type)?;
            self.close_part(record_type)?;
        }
        for record_type in types {
            let name = format!("record_type={record_type}");
            let from = self.staging.join(&name);
            if !from.exists() {
                continue;
            }
            let to = self.dir.join(&name);
            fs::rename(&from, &to).map_err(annotate(&to, "cannot move into place"))?;
            self.moved.push(to);
        }
        sync_dir(Some(&self.dir))?;
        let success = self.dir.join(SUCCESS_FILE);
        (File::create(&success).and_then(|f| f.sync_all()))
            .map_err(annotate(&success, "cannot write"))?;
        self.closed = true;
        // The marker is down: the dataset is complete whatever happens to the rest.
        fs::remove_dir(&self.staging).map_err(annotate(&self.staging, "cannot remove"))?;
        let lock_path = self.dir.join(LOCK_FILE);
        fs::remove_file(&lock_path).map_err(annotate(&lock_path, "cannot remove"))?;
        self.lock
            .unlock()
            .map_err(annotate(&lock_path, "cannot unlock"))?;
        sync_dir(Some(&self.dir))?;
        Ok(self.files)
    }
}

impl Drop for Dataset {
    fn drop(&mut self) {
        if self.closed {
            return;
        }
        // An error (a full disk, a failed read): an incomplete dataset must not look complete
        // nor keep filling the disk. The parts' files close first.
        self.partitions.clear();
        let _ = fs::remove_dir_all(&self.staging);
        for path in &self.moved {
            let _ = fs::remove_dir_all(path);
        }
        let _ = fs::remove_file(self.dir.join(LOCK_FILE));
        if self.created {
            // Only if empty: never someone else's files.
            let _ = fs::remove_dir(&self.dir);
        }
    }
}

/// The lock file of a dataset being written (hidden, so readers skip it).
const LOCK_FILE: &str = ".sunpower-dataset.lock";

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
    ///
    /// A symbolic link is followed: the file it points to is replaced (under a temporary name
    /// beside it, renamed at [`close`](Self::close)) and the link stays, as a shell's `>`
    /// and `cp` leave it. A link to nothing, a loop of links and a directory are refused with
    /// an error naming them: the output would not be where the user thinks.
    pub fn create(path: PathBuf, tz: Tz) -> io::Result<IntervalsFile> {
        let path = output_file(&path)?;
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

/// The findings' Parquet file of `health --format parquet`: the columns of the jsonl rows
/// ([`Finding::COLUMNS`](sunpower_proto::health::Finding::COLUMNS)), written as
/// [`IntervalsFile`] is (a temporary name until [`close`](Self::close), a link followed).
///
/// ```
/// use chrono::DateTime;
/// use sunpower_proto::health::{Evidence, Finding, Kind, Status};
/// use sunpower_store::parquet::FindingsFile;
/// let t = DateTime::UNIX_EPOCH;
/// let gap = Finding::new(Kind::Gap, Status::Fault, None, t, t, Evidence::default());
/// let path = std::env::temp_dir().join(format!("sunpower-doc-findings-{}.parquet", std::process::id()));
/// let mut file = FindingsFile::create(path.clone())?;
/// file.write(&[gap])?;
/// file.close()?;
/// use parquet::file::reader::{FileReader, SerializedFileReader};
/// let reader = SerializedFileReader::new(std::fs::File::open(&path)?).unwrap();
/// assert_eq!(reader.metadata().file_metadata().num_rows(), 1);
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct FindingsFile {
    file: ParquetFile,
}

impl FindingsFile {
    /// Starts the file at `path`.
    pub fn create(path: PathBuf) -> io::Result<FindingsFile> {
        let path = output_file(&path)?;
        let file = ParquetFile::create(path, finding_schema())?;
        Ok(FindingsFile { file })
    }

    /// Appends `findings` (in batches of [`DEFAULT_BATCH_ROWS`]).
    pub fn write(&mut self, findings: &[Finding]) -> io::Result<()> {
        for chunk in findings.chunks(DEFAULT_BATCH_ROWS) {
            let batch = finding_batch(chunk).map_err(io::Error::other)?;
            self.file.write(&batch)?;
        }
        Ok(())
    }

    /// Writes the footer, syncs, and gives the file its name.
    pub fn close(self) -> io::Result<()> {
        self.file.close()
    }
}

/// Where an output file at `path` is written: `path`, or the file its symbolic link points to.
fn output_file(path: &Path) -> io::Result<PathBuf> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(path.to_owned()),
        Err(e) => return Err(annotate(path, "cannot inspect the output")(e)),
    };
    let target = if meta.file_type().is_symlink() {
        through_link(path, |p| fs::canonicalize(p), "create the file")?
    } else {
        path.to_owned()
    };
    if target.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{}: a directory, not a file", path.display()),
        ));
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use arrow_array::cast::AsArray;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    use super::*;
    use sunpower_proto::arrow::{RecordBatcher, RecordContext};
    use sunpower_proto::parse_line;

    /// Every row of a partition's part files, in part order: the serial column.
    fn serials(dir: &Path, record_type: impl std::fmt::Display) -> (usize, Vec<String>) {
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
        let dir = temp_dir("dataset-lock");
        let first = Dataset::create(&dir).unwrap();
        let second = Dataset::create(&dir).err().unwrap();
        assert_eq!(second.kind(), io::ErrorKind::WouldBlock, "{second}");
        assert_eq!(first.close().unwrap(), 0);
        // Nothing left behind but the marker of a complete (empty) dataset.
        assert_eq!(names(&dir), [SUCCESS_FILE]);
        // A lock file left by a crash does not count as content.
        fs::remove_file(dir.join(SUCCESS_FILE)).unwrap();
        File::create(dir.join(LOCK_FILE)).unwrap();
        Dataset::create(&dir).unwrap().close().unwrap();
        let refused = Dataset::create(&dir).err().unwrap();
        assert_eq!(refused.kind(), io::ErrorKind::AlreadyExists);
        fs::remove_file(dir.join(SUCCESS_FILE)).unwrap();
        fs::write(dir.join("other.txt"), "x").unwrap();
        let refused = Dataset::create(&dir).err().unwrap();
        assert_eq!(refused.kind(), io::ErrorKind::AlreadyExists);
        assert!(refused.to_string().contains("other.txt"), "{refused}");
        fs::remove_dir_all(&dir).unwrap();
    }

    /// The names in `dir`, sorted.
    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<_> = (fs::read_dir(dir).unwrap())
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sunpower-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    /// Writes `rows` inverter lines (serials `{tag}{i}`) into `dataset`, part files small.
    fn write_inverters(dataset: &mut Dataset, tag: &str, rows: usize) {
        dataset.limits = Limits {
            memory: 96 << 10,
            buffered: 16 << 10,
            part_column_chunks: 24,
        };
        let mut batcher = RecordBatcher::with_batch_rows(64);
        let context = RecordContext::default();
        for i in 0..rows {
            let line = format!("130\t20170107171000\t{tag}{i}\tM\t\t1.5");
            let record = parse_line(&line).unwrap();
            (batcher.push(&record, &context, |b| dataset.write(&b).unwrap())).unwrap();
        }
        batcher.finish(|b| dataset.write(&b).unwrap()).unwrap();
    }

    /// A run killed mid-write (no close, no drop: as SIGKILL) leaves no part a reader sees and
    /// no marker; the next run replaces what it left and completes the dataset.
    #[test]
    fn a_killed_run_leaves_nothing_that_looks_complete_and_a_rerun_replaces_it() {
        let dir = temp_dir("dataset-killed");
        let mut killed = Dataset::create(&dir).unwrap();
        write_inverters(&mut killed, "K", 3000);
        // Part files were closed (renamed to their names) before the kill.
        assert!(killed.files > 0);
        // As SIGKILL: open files stay as they are, no cleanup runs; the lock goes with the
        // process (here its file is closed).
        std::mem::forget(std::mem::take(&mut killed.partitions));
        killed.closed = true;
        drop(killed);
        let visible: Vec<_> = names(&dir)
            .into_iter()
            .filter(|n| !n.starts_with('.'))
            .collect();
        assert!(visible.is_empty(), "{visible:?}");

        let mut rerun = Dataset::create(&dir).unwrap();
        assert!(rerun.replaced());
        write_inverters(&mut rerun, "R", 2000);
        rerun.close().unwrap();
        assert_eq!(names(&dir), [SUCCESS_FILE, "record_type=130"]);
        let (_, got) = serials(&dir, 130);
        assert_eq!(got.len(), 2000);
        assert!(got.iter().all(|s| s.starts_with('R')));

        // Killed while moving partitions into place: some moved, the staging folder still
        // there, no marker. Replaced as well.
        fs::remove_file(dir.join(SUCCESS_FILE)).unwrap();
        fs::create_dir_all(dir.join(STAGING_DIR).join("record_type=120")).unwrap();
        let rerun = Dataset::create(&dir).unwrap();
        assert!(rerun.replaced());
        rerun.close().unwrap();
        assert_eq!(names(&dir), [SUCCESS_FILE]);
        fs::remove_dir_all(&dir).unwrap();
    }

    /// A failed run (here dropped without `close`, as on a write error) removes its files,
    /// temporary ones included, and the folder it made.
    #[test]
    fn a_failed_run_leaves_no_file_behind() {
        let dir = temp_dir("dataset-failed");
        let mut failed = Dataset::create(&dir).unwrap();
        write_inverters(&mut failed, "F", 3000);
        drop(failed);
        assert!(!dir.exists());
    }

    /// The output is a file, a link to nothing, a loop of links, or a folder that cannot be
    /// listed: refused, naming it, and nothing written (not "File exists (os error 17)").
    #[test]
    fn an_output_that_is_no_usable_directory_is_refused_by_name() {
        let dir = temp_dir("dataset-outputs");
        fs::create_dir_all(&dir).unwrap();
        let file = dir.join("file");
        fs::write(&file, "x").unwrap();
        let e = Dataset::create(&file).err().unwrap().to_string();
        assert!(e.contains("file: not a directory"), "{e}");
        #[cfg(unix)]
        {
            let dangling = dir.join("dangling");
            std::os::unix::fs::symlink(dir.join("missing"), &dangling).unwrap();
            let e = Dataset::create(&dangling).err().unwrap().to_string();
            assert!(e.contains("dangling: a symbolic link to"), "{e}");
            assert!(!dir.join("missing").exists());
            let looped = dir.join("loop");
            std::os::unix::fs::symlink(&looped, &looped).unwrap();
            let e = Dataset::create(&looped).err().unwrap().to_string();
            assert!(e.contains("loop: cannot follow the symbolic link"), "{e}");
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    /// A dataset folder that cannot be listed (mode 333) is not empty: refused, its part
    /// files untouched. Needs a user that permissions bind (not root).
    #[cfg(unix)]
    #[test]
    fn a_directory_that_cannot_be_listed_is_not_taken_as_empty() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("dataset-unlistable");
        let part = dir.join("record_type=130/part-00000.parquet");
        fs::create_dir_all(part.parent().unwrap()).unwrap();
        fs::write(&part, "earlier").unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o333)).unwrap();
        if fs::read_dir(&dir).is_ok() {
            fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
            fs::remove_dir_all(&dir).unwrap();
            eprintln!(
                "SKIPPED a_directory_that_cannot_be_listed_is_not_taken_as_empty: a mode 333 \
                 folder can be listed by this user (root?), so the check cannot be made"
            );
            return;
        }
        let result = Dataset::create(&dir).and_then(Dataset::close);
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        let e = result.expect_err("an unlistable folder must be refused");
        assert!(e.to_string().contains("cannot list the directory"), "{e}");
        assert_eq!(fs::read_to_string(&part).unwrap(), "earlier");
        fs::remove_dir_all(&dir).unwrap();
    }

    /// A file given up before `close` (an error on the way: a full disk) removes its temporary
    /// file instead of leaving it to fill the disk.
    #[test]
    fn an_intervals_file_not_closed_leaves_no_temporary_file() {
        let dir = temp_dir("intervals-unclosed");
        fs::create_dir_all(&dir).unwrap();
        let file = IntervalsFile::create(dir.join("out.parquet"), Tz::UTC).unwrap();
        assert_eq!(names(&dir), [".out.parquet.tmp"]);
        drop(file);
        assert!(names(&dir).is_empty());
        fs::remove_dir_all(&dir).unwrap();
    }

    /// `intervals --output LINK`: the link is followed (its file replaced, the link kept); a
    /// link to nothing is refused by name.
    #[cfg(unix)]
    #[test]
    fn an_intervals_file_through_a_link_replaces_the_target_and_keeps_the_link() {
        use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
        let dir = temp_dir("intervals-link");
        fs::create_dir_all(&dir).unwrap();
        let target = dir.join("target.parquet");
        fs::write(&target, "old").unwrap();
        let link = dir.join("link.parquet");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let mut acc = IntervalAccumulator::new(IntervalConfig::default());
        for line in [
            "130\t20260601170000\tINV1\tM\t\t100.000\t0.3",
            "130\t20260601170500\tINV1\tM\t\t100.025\t0.3",
        ] {
            acc.add(&parse_line(line).unwrap());
        }
        let mut file = IntervalsFile::create(link.clone(), Tz::UTC).unwrap();
        file.write(&acc.finish()).unwrap();
        file.close().unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&target).unwrap())
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(reader.map(|b| b.unwrap().num_rows()).sum::<usize>(), 2);
        assert_eq!(names(&dir), ["link.parquet", "target.parquet"]);

        let dangling = dir.join("dangling.parquet");
        std::os::unix::fs::symlink(dir.join("missing.parquet"), &dangling).unwrap();
        let e = IntervalsFile::create(dangling, Tz::UTC).err().unwrap();
        assert!(
            e.to_string()
                .contains("dangling.parquet: a symbolic link to"),
            "{e}"
        );
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

    /// The kinds named by their field tables (a `/vars` document's batteries, transfer
    /// switch and supervisor health) get their partitions beside the record types', every
    /// value as decoded, and the dataset its marker.
    #[test]
    fn named_kinds_get_their_own_partitions() {
        use sunpower_proto::arrow::{
            battery_batch, supervisor_health_batch, transfer_switch_batch,
        };
        let vars = sunpower_proto::parse_vars(
            r#"{"/sys/devices/ess/0/sn": "B0", "/sys/devices/ess/0/msmtEps": "2025-09-30T15:50:00Z",
                "/sys/devices/ess/0/socVal": "0.5", "/sys/devices/ess/0/sohVal": "1",
                "/sys/devices/ess/1/sn": "B1", "/sys/devices/ess/1/msmtEps": "2025-09-30T15:50:00Z",
                "/sys/devices/ess/1/socVal": "0",
                "/sys/devices/transfer_switch/0/sn": "T0",
                "/sys/devices/transfer_switch/0/msmtEps": "2025-09-30T15:50:00Z",
                "/sys/devices/transfer_switch/0/tDegc": "31.5",
                "/sys/pvs/flashwear_type_b": "0x05"}"#,
        )
        .unwrap();
        assert_eq!(vars.batteries.len(), 2);
        let health: Vec<_> = vars.health.iter().cloned().collect();
        let dir = temp_dir("dataset-kinds");
        let mut dataset = Dataset::create(&dir).unwrap();
        write_inverters(&mut dataset, "I", 10);
        // Twice: the second batch goes to the same partition after the first.
        for battery in &vars.batteries {
            let batch = battery_batch(std::slice::from_ref(battery)).unwrap();
            dataset.write_kind("battery", &batch).unwrap();
        }
        let switches = transfer_switch_batch(&vars.transfer_switches).unwrap();
        dataset.write_kind("transfer_switch", &switches).unwrap();
        let health = supervisor_health_batch(&health).unwrap();
        dataset.write_kind("supervisor_health", &health).unwrap();
        // Nothing to write: no partition.
        let none = transfer_switch_batch(&[]).unwrap();
        dataset.write_kind("no_rows", &none).unwrap();
        // A name that would leave the folder, a batch without its kind column, a batch of
        // other columns than the kind's first: refused.
        for (kind, batch) in [
            ("../x", &switches),
            ("Battery", &switches),
            ("battery", &switches),
        ] {
            let e = dataset.write_kind(kind, batch).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{kind}: {e}");
        }
        let mut headless = switches.clone();
        headless.remove_column(0);
        let e = dataset.write_kind("x", &headless).unwrap_err();
        assert!(e.to_string().contains("not record_type"), "{e}");
        assert_eq!(dataset.close().unwrap(), 4);
        assert_eq!(
            names(&dir),
            [
                SUCCESS_FILE,
                "record_type=130",
                "record_type=battery",
                "record_type=supervisor_health",
                "record_type=transfer_switch"
            ]
        );
        assert_eq!(
            serials(&dir, "battery"),
            (1, vec!["B0".into(), "B1".into()])
        );
        assert_eq!(serials(&dir, "transfer_switch"), (1, vec!["T0".into()]));
        assert_eq!(serials(&dir, 130).1.len(), 10);
        // The partition column is in the path only; the values are the decoded ones.
        let part = dir.join("record_type=battery/part-00000.parquet");
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&part).unwrap())
            .unwrap()
            .build()
            .unwrap();
        let batch = reader.map(|b| b.unwrap()).next().unwrap();
        assert!(batch.column_by_name("record_type").is_none());
        let soc = batch.column_by_name("soc_pct").unwrap();
        let soc = soc.as_primitive::<arrow_array::types::Float64Type>();
        assert_eq!(soc.iter().collect::<Vec<_>>(), [Some(50.0), Some(0.0)]);
        let soh = batch.column_by_name("soh_pct").unwrap();
        let soh = soh.as_primitive::<arrow_array::types::Float64Type>();
        assert_eq!(soh.iter().collect::<Vec<_>>(), [Some(100.0), None]);
        let part = dir.join("record_type=supervisor_health/part-00000.parquet");
        let rows = ParquetRecordBatchReaderBuilder::try_new(File::open(&part).unwrap())
            .unwrap()
            .build()
            .unwrap()
            .map(|b| b.unwrap().num_rows())
            .sum::<usize>();
        assert_eq!(rows, 1);
        fs::remove_dir_all(&dir).unwrap();
    }
}
