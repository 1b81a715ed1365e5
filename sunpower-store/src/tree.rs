//! Writing the `YYYY/MM/DD.csv` tree to a folder: the I/O adapter, thin over the sans-I/O
//! [`merge`] of `sunpower_proto::tree` (which names the files to read, and gives every touched
//! file's new contents).
//!
//! - A lock (`.sunpower-tree.lock` in the folder, an OS file lock) is held from reading to the
//!   last rename, so two runs on one tree take turns and neither loses the other's rows.
//! - Each changed file is written to a temporary file of a name no other run uses, flushed to
//!   disk (`fsync`), renamed over the old one, and the folder flushed too: after a power cut a
//!   file holds its old or its new contents, never nothing.
//! - Errors name the file they are about.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sunpower_proto::export::RowError;
use sunpower_proto::intervals::{Interval, Tz};
use sunpower_proto::tree::{files_to_read, merge, TreeReport, MAX_FILE_BYTES};

/// The lock file's name, in the tree's folder.
pub const LOCK_FILE: &str = ".sunpower-tree.lock";

/// Why the tree could not be written.
///
/// ```
/// use sunpower_store::tree::{write_dir, WriteError};
/// # use sunpower_proto::parse_line;
/// # use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
/// # let mut acc = IntervalAccumulator::new(IntervalConfig::default());
/// # for line in ["130\t20260601170000\tINV1\tM\t\t100.000\t0.3",
/// #              "130\t20260601170500\tINV1\tM\t\t100.025\t0.3"] {
/// #     acc.add(&parse_line(line).unwrap());
/// # }
/// # let rows = acc.finish();
/// // `rows`: the intervals of 17:00 (an inverter's first report) and 17:05 (25 Wh), UTC.
/// // A folder inside a regular file cannot be made.
/// let file = std::env::temp_dir().join(format!("sunpower-write-error-doc-{}", std::process::id()));
/// std::fs::write(&file, "not a folder").unwrap();
/// let error = write_dir(&file.join("tree"), &rows, chrono_tz::UTC).unwrap_err();
/// assert!(matches!(&error, WriteError::Io { path, .. } if path.starts_with(&file)));
/// std::fs::remove_file(&file).unwrap();
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// Reading, writing, renaming or locking a file failed.
    #[error("{}: {what}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What was being done (`"cannot read"`, `"cannot rename into place"`...).
        what: &'static str,
        /// The cause.
        source: io::Error,
    },
    /// Existing files have a row (or a header, or bytes that are not UTF-8) that cannot be
    /// read back: they were left as they are, and every other file was merged and written.
    #[error("{}: {} damaged file(s) left as they are ({} new intervals not written; the other \
             files were merged: {} intervals inserted, {} replaced, {} files written): {}",
            dir.display(), errors.len(), report.not_written, report.inserted, report.replaced,
            report.files, list(errors))]
    Damaged {
        /// The tree's folder (each error names its file in it, and the line).
        dir: PathBuf,
        /// What is wrong in each damaged file, and where.
        errors: Vec<RowError>,
        /// What the merge of the other files did.
        report: TreeReport,
    },
}

fn list(errors: &[RowError]) -> String {
    let shown: Vec<String> = errors.iter().take(10).map(ToString::to_string).collect();
    match errors.len() {
        n if n > 10 => format!("{}; and {} more", shown.join("; "), n - 10),
        _ => shown.join("; "),
    }
}

fn io_error<'p>(path: &'p Path, what: &'static str) -> impl FnOnce(io::Error) -> WriteError + 'p {
    move |source| WriteError::Io {
        path: path.to_owned(),
        what,
        source,
    }
}

/// Merges `intervals` into the tree under `dir` (created if needed), local dates in zone `tz`.
///
/// A damaged file does not block the others: it is left as it is (a day's new rows not
/// written), every other file is written, then [`WriteError::Damaged`] names each damaged file
/// and line and says what was written.
///
/// ```
/// use sunpower_proto::parse_line;
/// use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
/// use sunpower_store::tree;
/// let dir = std::env::temp_dir().join(format!("sunpower-tree-doc-{}", std::process::id()));
/// let mut acc = IntervalAccumulator::new(IntervalConfig::default());
/// for line in ["130\t20260601170000\tINV1\tM\t\t100.000\t0.3",
///              "130\t20260601170500\tINV1\tM\t\t100.025\t0.3"] {
///     acc.add(&parse_line(line).unwrap());
/// }
/// let rows = acc.finish();
/// let tz = chrono_tz::America::Los_Angeles;
/// assert_eq!(tree::write_dir(&dir, &rows, tz).unwrap().files, 4);
/// let first = std::fs::read_to_string(dir.join("2026/06/01.csv")).unwrap();
/// let again = tree::write_dir(&dir, &rows, tz).unwrap();
/// assert_eq!((again.inserted, again.replaced, again.files), (0, 0, 0));
/// assert_eq!(std::fs::read_to_string(dir.join("2026/06/01.csv")).unwrap(), first);
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn write_dir(dir: &Path, intervals: &[Interval], tz: Tz) -> Result<TreeReport, WriteError> {
    if intervals.is_empty() {
        return Ok(TreeReport::default());
    }
    create_dirs(dir)?;
    let lock_path = dir.join(LOCK_FILE);
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(io_error(&lock_path, "cannot open the lock file"))?;
    lock.lock()
        .map_err(io_error(&lock_path, "cannot lock the tree"))?;

    let mut existing = BTreeMap::new();
    for rel in files_to_read(intervals, tz) {
        let path = dir.join(&rel);
        // Bytes: text that is not UTF-8 is a damaged row, with its line, not a read error. No
        // further than one byte past the limit: a longer file is damaged, not read into memory.
        match read_at_most(&path, MAX_FILE_BYTES as u64 + 1) {
            Ok(text) => {
                existing.insert(rel, text);
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(&path, "cannot read")(e)),
        }
    }
    // Never an error since damaged files are skipped; kept in the signature of `merge`.
    let update = merge(intervals, tz, &existing).map_err(|error| WriteError::Damaged {
        dir: dir.to_owned(),
        errors: vec![error],
        report: TreeReport::default(),
    })?;
    for file in update.files.iter().filter(|f| f.changed) {
        write_atomically(&dir.join(&file.path), file.contents.as_bytes())?;
    }
    // Dropping the file releases the lock.
    drop(lock);
    if !update.damaged.is_empty() {
        return Err(WriteError::Damaged {
            dir: dir.to_owned(),
            errors: update.damaged,
            report: update.report,
        });
    }
    Ok(update.report)
}

/// The first `limit` bytes of a file (all of it when shorter).
fn read_at_most(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    File::open(path)?.take(limit).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Creates `dir` and its missing parents, flushing each parent that gained an entry.
fn create_dirs(dir: &Path) -> Result<(), WriteError> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dirs(parent)?;
    }
    match fs::create_dir(dir) {
        Ok(()) => sync_parent(dir),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io_error(dir, "cannot create the folder")(e)),
    }
}

fn sync_parent(path: &Path) -> Result<(), WriteError> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(parent)
        .and_then(|d| d.sync_all())
        .map_err(io_error(parent, "cannot flush the folder"))
}

/// A name no other writer uses at the same time: the process id and a counter.
fn temporary_path(path: &Path) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let name = path
        .file_name()
        .map_or_else(Default::default, |n| n.to_string_lossy());
    path.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()))
}

/// Replaces `path` with `contents`: a temporary file, flushed, renamed over it, the folder
/// flushed.
pub(crate) fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), WriteError> {
    // A bare file name's parent is "", the current folder: nothing to create.
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dirs(parent)?;
    }
    let tmp = temporary_path(path);
    let written = File::create(&tmp)
        .and_then(|mut f| {
            f.write_all(contents)?;
            f.sync_all()
        })
        .map_err(io_error(&tmp, "cannot write the temporary file"));
    let renamed = written.and_then(|()| {
        fs::rename(&tmp, path).map_err(io_error(
            path,
            "cannot rename the temporary file into place",
        ))
    });
    if renamed.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    renamed?;
    sync_parent(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeDelta, TimeZone, Utc};
    use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
    use sunpower_proto::Body;

    fn rows(from: i64, to: i64) -> Vec<Interval> {
        // One inverter, +10 Wh every 5 minutes from 2026-06-02 06:00 UTC.
        let start = Utc.with_ymd_and_hms(2026, 6, 2, 6, 0, 0).unwrap();
        let body: String = (from..to)
            .map(|i| {
                let t = (start + TimeDelta::minutes(5 * i)).format("%Y%m%d%H%M%S");
                format!("130\t{t}\tA\tM\t\t{:.3}\t0.25\n", 5.0 + 0.01 * i as f64)
            })
            .collect();
        let mut acc = IntervalAccumulator::new(IntervalConfig::default());
        for record in Body::new(body.as_bytes()).records() {
            acc.add(&record.unwrap());
        }
        acc.finish()
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sunpower-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn concurrent_writers_take_turns_and_lose_no_interval() {
        // Eight writers at once, each with its own stretch of the same day; the lock makes each
        // merge see the others' rows. Without it, a writer's read-merge-write overwrites rows
        // another writer added in between.
        let dir = temp_dir("tree-concurrent");
        let tz: Tz = "America/Los_Angeles".parse().unwrap();
        std::thread::scope(|s| {
            for w in 0..8 {
                let dir = &dir;
                s.spawn(move || write_dir(dir, &rows(w * 10, w * 10 + 10), tz).unwrap());
            }
        });
        let day = fs::read_to_string(dir.join("2026/06/01.csv")).unwrap();
        let next = fs::read_to_string(dir.join("2026/06/02.csv")).unwrap();
        assert_eq!(day.lines().count() - 1 + next.lines().count() - 1, 80);
        // Nothing temporary is left behind.
        let leftovers: Vec<_> = fs::read_dir(dir.join("2026/06"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_damaged_existing_row_names_its_file_and_line() {
        let dir = temp_dir("tree-damaged");
        let tz: Tz = "America/Los_Angeles".parse().unwrap();
        write_dir(&dir, &rows(0, 4), tz).unwrap();
        let path = dir.join("2026/06/01.csv");
        let mut text = fs::read_to_string(&path).unwrap();
        text.push_str("not,a,row\n");
        fs::write(&path, text).unwrap();
        let err = write_dir(&dir, &rows(0, 4), tz).unwrap_err().to_string();
        assert!(err.contains("2026/06/01.csv: line 6: column"), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }

    /// A day's file longer than the tree's limit (here one line of 20 MiB) is left as it is,
    /// named with the line that crosses the limit, and read no further than the limit: the
    /// other day is written all the same (issue 25: a 100 MB line was read whole, 106 MiB).
    #[test]
    fn a_day_file_over_the_limit_is_left_named_and_not_read_whole() {
        let dir = temp_dir("tree-over-limit");
        let tz: Tz = "America/Los_Angeles".parse().unwrap();
        write_dir(&dir, &rows(0, 4), tz).unwrap();
        let path = dir.join("2026/06/01.csv");
        let mut long = fs::read(&path).unwrap();
        long.extend(std::iter::repeat_n(b'x', 20 << 20));
        fs::write(&path, &long).unwrap();
        let err = write_dir(&dir, &rows(0, 300), tz).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains(&format!(
                "2026/06/01.csv: line 6: longer than {MAX_FILE_BYTES} bytes"
            )),
            "{message}"
        );
        let WriteError::Damaged { report, .. } = err else {
            panic!("{message}")
        };
        assert_eq!(report.damaged, 1);
        assert!(report.not_written > 0 && report.inserted > 0, "{report:?}");
        assert_eq!(fs::read(&path).unwrap(), long);
        let next = fs::read_to_string(dir.join("2026/06/02.csv")).unwrap();
        assert!(next.lines().count() > 200);
        fs::remove_dir_all(&dir).unwrap();
    }

    /// One day's file damaged (here bytes that are not UTF-8, on line 3): it is left as it is,
    /// named with its line, and the other day is written all the same.
    #[test]
    fn a_damaged_day_file_is_left_named_and_the_other_days_are_written() {
        let dir = temp_dir("tree-damaged-day");
        let tz: Tz = "America/Los_Angeles".parse().unwrap();
        write_dir(&dir, &rows(0, 4), tz).unwrap();
        // 23:00 to 23:15 on 1 June, local.
        let path = dir.join("2026/06/01.csv");
        let mut bytes = fs::read(&path).unwrap();
        let second = bytes.iter().position(|b| *b == b'\n').unwrap() + 1;
        let third = second + (bytes[second..].iter().position(|b| *b == b'\n')).unwrap() + 1;
        bytes[third] = 0xff;
        fs::write(&path, &bytes).unwrap();
        // Into the next day too.
        let err = write_dir(&dir, &rows(0, 300), tz).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("2026/06/01.csv: line 3: column 0 (interval_start)"),
            "{message}"
        );
        let WriteError::Damaged { report, .. } = err else {
            panic!("{message}")
        };
        assert_eq!(report.damaged, 1);
        assert!(report.not_written > 0 && report.inserted > 0, "{report:?}");
        assert_eq!(fs::read(&path).unwrap(), bytes);
        let next = fs::read_to_string(dir.join("2026/06/02.csv")).unwrap();
        assert!(next.lines().count() > 200);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_that_cannot_be_replaced_is_named_and_nothing_temporary_stays() {
        // A folder where the day file should be: the rename fails, and the error says so.
        let dir = temp_dir("tree-blocked");
        let tz: Tz = "America/Los_Angeles".parse().unwrap();
        fs::create_dir_all(dir.join("2026/06/01.csv/x")).unwrap();
        let err = write_dir(&dir, &rows(0, 4), tz).unwrap_err().to_string();
        assert!(err.contains("2026/06/01.csv: cannot"), "{err}");
        let names: Vec<_> = fs::read_dir(dir.join("2026/06"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
