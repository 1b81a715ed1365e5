//! The file writers of sunpower-rs, at the edge of the sans-I/O core (`sunpower-proto`): what
//! that crate computes, written to disk locked and crash-safe.
//!
//! | what | entry point | feature |
//! |---|---|---|
//! | the `YYYY/MM/DD.csv` tree (intervals, daily, monthly and yearly totals) merged into a folder | [`tree::write_dir`] | |
//! | one file replaced whole (the HTML report) | [`write_file`] | |
//! | Parquet: a Hive-style dataset of records, an intervals file, in bounded memory | `parquet::Dataset`, `parquet::IntervalsFile`, `parquet::FindingsFile` | `parquet` |
//!
//! Every file is written under a temporary name, flushed to disk, renamed into place and its
//! folder flushed, so a power cut leaves a file's old or new contents, never a part of it; a
//! lock file keeps two runs from writing one tree (they take turns) or one dataset (the second
//! is refused).
//!
//! ```
//! use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig, Tz};
//! use sunpower_proto::parse_line;
//!
//! let mut acc = IntervalAccumulator::new(IntervalConfig::default());
//! for line in ["130\t20260601170000\tINV1\tM\t\t100.000\t0.3",
//!              "130\t20260601170500\tINV1\tM\t\t100.025\t0.3"] {
//!     acc.add(&parse_line(line).unwrap());
//! }
//! let dir = std::env::temp_dir().join(format!("sunpower-store-doc-{}", std::process::id()));
//! let report = sunpower_store::tree::write_dir(&dir, &acc.finish(), Tz::UTC)?;
//! assert_eq!((report.inserted, report.files), (2, 4));
//! let day = std::fs::read_to_string(dir.join("2026/06/01.csv"))?;
//! assert_eq!(day.lines().count(), 3); // the header and the 17:00 and 17:05 rows
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "parquet")]
pub mod parquet;
pub mod tree;

/// Writes `contents` to `path` crash-safe: a temporary file beside it, flushed to disk, renamed
/// over `path`, the folder flushed (missing folders are created). After a power cut `path` holds
/// its old contents or the new, never a part.
///
/// ```
/// let path = std::env::temp_dir().join(format!("sunpower-store-write-file-{}", std::process::id()));
/// sunpower_store::write_file(&path, b"<!DOCTYPE html>")?;
/// assert_eq!(std::fs::read(&path)?, b"<!DOCTYPE html>");
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_file(path: &std::path::Path, contents: &[u8]) -> Result<(), tree::WriteError> {
    tree::write_atomically(path, contents)
}

/// The README's examples, run as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
