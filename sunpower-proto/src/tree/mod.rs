//! The `--tree DIR` layout as a sans-I/O step: `YYYY/MM/DD.csv` (intervals), `YYYY/MM/daily.csv`,
//! `YYYY/monthly.csv` and `yearly.csv` (totals), merged with what is already there.
//!
//! [`files_to_read`] names the files a merge of some rows touches; the caller reads them (those
//! that exist) and hands their contents to [`merge`], which returns every file's new contents.
//! Merging is idempotent: existing interval rows are keyed by `interval_start`; a new row
//! replaces the old one unless it knows less (see [`prefer_new`]); totals are recomputed from the
//! merged rows of the touched days, months and years. Running again over the same or overlapping
//! data gives identical files. Reading and writing the files is the caller's: the
//! `sunpower-store` crate's `sunpower_store::tree::write_dir` does it, locked and crash-safe.
//!
//! ```
//! use std::collections::BTreeMap;
//! use sunpower_proto::{parse_line, tree};
//! use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
//! let mut acc = IntervalAccumulator::new(IntervalConfig::default());
//! for line in ["130\t20260601170000\tINV1\tM\t\t100.000\t0.3",
//!              "130\t20260601170500\tINV1\tM\t\t100.025\t0.3"] {
//!     acc.add(&parse_line(line).unwrap());
//! }
//! let rows = acc.finish();
//! let tz = chrono_tz::America::Los_Angeles;
//! assert_eq!(
//!     tree::files_to_read(&rows, tz),
//!     ["2026/06/01.csv", "2026/06/daily.csv", "2026/monthly.csv", "yearly.csv"]
//! );
//! let first = tree::merge(&rows, tz, &BTreeMap::<String, String>::new()).unwrap();
//! assert_eq!(first.report.inserted, 2);
//! // Merging the same rows into what was written changes nothing.
//! let written: BTreeMap<String, String> =
//!     first.files.iter().map(|f| (f.path.clone(), f.contents.clone())).collect();
//! let again = tree::merge(&rows, tz, &written).unwrap();
//! assert_eq!((again.report.inserted, again.report.replaced), (0, 0));
//! assert!(again.files.iter().all(|f| !f.changed));
//! assert!(written["yearly.csv"].contains("\n2026,"));
//! ```

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::export::{CsvReader, CsvRow, CsvWriter, RowError};
use crate::intervals::{local_date, totals, Flag, Interval, Period, PeriodTotal};

/// What a merge did.
///
/// ```
/// use std::collections::BTreeMap;
/// use sunpower_proto::tree;
/// # use sunpower_proto::parse_line;
/// # use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
/// # let mut acc = IntervalAccumulator::new(IntervalConfig::default());
/// # for line in ["130\t20260601170000\tINV1\tM\t\t100.000\t0.3",
/// #              "130\t20260601170500\tINV1\tM\t\t100.025\t0.3"] {
/// #     acc.add(&parse_line(line).unwrap());
/// # }
/// # let rows = acc.finish();
/// // `rows`: the intervals of 17:00 (an inverter's first report) and 17:05 (25 Wh), UTC.
/// let report = tree::merge(&rows, chrono_tz::UTC, &BTreeMap::<String, String>::new()).unwrap().report;
/// assert_eq!((report.inserted, report.replaced, report.kept, report.files), (2, 0, 0, 4));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub struct TreeReport {
    /// Interval rows that were not in the tree.
    pub inserted: usize,
    /// Interval rows that replaced a different row.
    pub replaced: usize,
    /// New rows not used because the tree's row knew more, or was identical.
    pub kept: usize,
    /// Files whose contents changed.
    pub files: usize,
    /// Existing files with a row (or a header) that cannot be read back: left as they are,
    /// named in [`TreeUpdate::damaged`]; the other files are merged all the same.
    pub damaged: usize,
    /// New interval rows not written because their day's file is damaged.
    pub not_written: usize,
    /// Rows of a day's file dated another day: kept as they are, counted in no total, named in
    /// [`TreeUpdate::misplaced`].
    pub misplaced: usize,
}

/// One file of the tree after a merge.
///
/// ```
/// use std::collections::BTreeMap;
/// use sunpower_proto::tree;
/// # use sunpower_proto::parse_line;
/// # use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
/// # let mut acc = IntervalAccumulator::new(IntervalConfig::default());
/// # for line in ["130\t20260601170000\tINV1\tM\t\t100.000\t0.3",
/// #              "130\t20260601170500\tINV1\tM\t\t100.025\t0.3"] {
/// #     acc.add(&parse_line(line).unwrap());
/// # }
/// # let rows = acc.finish();
/// // `rows`: the intervals of 17:00 (an inverter's first report) and 17:05 (25 Wh), UTC.
/// let update = tree::merge(&rows, chrono_tz::UTC, &BTreeMap::<String, String>::new()).unwrap();
/// let day = &update.files[0];
/// assert_eq!((day.path.as_str(), day.changed), ("2026/06/01.csv", true));
/// assert_eq!(day.contents.lines().count(), 3); // header and two rows
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TreeFile {
    /// Path relative to the tree's folder, `/`-separated (`2026/06/01.csv`).
    pub path: String,
    /// The whole new contents.
    pub contents: String,
    /// False when the contents are what the file held already (it need not be written).
    pub changed: bool,
}

/// What [`merge`] returns: the files in the order they are to be written (days, then months,
/// years, and `yearly.csv` last, so an interrupted write leaves totals that a new run mends).
///
/// ```
/// use std::collections::BTreeMap;
/// use sunpower_proto::tree;
/// # use sunpower_proto::parse_line;
/// # use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
/// # let mut acc = IntervalAccumulator::new(IntervalConfig::default());
/// # for line in ["130\t20260601170000\tINV1\tM\t\t100.000\t0.3",
/// #              "130\t20260601170500\tINV1\tM\t\t100.025\t0.3"] {
/// #     acc.add(&parse_line(line).unwrap());
/// # }
/// # let rows = acc.finish();
/// // `rows`: the intervals of 17:00 (an inverter's first report) and 17:05 (25 Wh), UTC.
/// let update = tree::merge(&rows, chrono_tz::UTC, &BTreeMap::<String, String>::new()).unwrap();
/// let paths: Vec<&str> = update.files.iter().map(|f| f.path.as_str()).collect();
/// assert_eq!(paths, ["2026/06/01.csv", "2026/06/daily.csv", "2026/monthly.csv", "yearly.csv"]);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TreeUpdate {
    /// Every touched file.
    pub files: Vec<TreeFile>,
    /// What changed.
    pub report: TreeReport,
    /// Why each damaged file was left as it is (its first row that cannot be read back, with
    /// the file and line): one damaged day does not keep the others from being written.
    pub damaged: Vec<RowError>,
    /// Rows found in the file of another day (the file, the row's `interval_start`).
    pub misplaced: Vec<(String, DateTime<Utc>)>,
}

/// Whether `new` should replace `existing` (same `interval_start`) in the tree.
///
/// The row from a capture that starts mid-day lacks the energy of each inverter's first report
/// ([`Flag::FirstReport`]) and may lack the meter; a row that had them is kept rather than
/// overwritten with less.
///
/// ```
/// use sunpower_proto::tree::prefer_new;
/// use sunpower_proto::intervals::Flag;
/// # use sunpower_proto::parse_line;
/// # use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
/// # let mut acc = IntervalAccumulator::new(IntervalConfig::default());
/// # for line in ["130\t20260601170000\tINV1\tM\t\t100.000\t0.3",
/// #              "130\t20260601170500\tINV1\tM\t\t100.025\t0.3"] {
/// #     acc.add(&parse_line(line).unwrap());
/// # }
/// # let rows = acc.finish();
/// // `rows`: the intervals of 17:00 (an inverter's first report) and 17:05 (25 Wh), UTC.
/// let full = rows[1].clone();
/// let mut partial = full.clone(); // the same interval seen by a capture that started at 17:05
/// partial.flags.insert(Flag::FirstReport);
/// partial.production_wh = 0.0;
/// assert!(!prefer_new(&full, &partial));
/// assert!(prefer_new(&partial, &full));
/// ```
pub fn prefer_new(existing: &Interval, new: &Interval) -> bool {
    let loses_baseline =
        new.flags.contains(Flag::FirstReport) && !existing.flags.contains(Flag::FirstReport);
    let loses_meter = new.net_wh.is_none() && existing.net_wh.is_some();
    !(loses_baseline || loses_meter)
}

fn day_path(date: NaiveDate) -> String {
    format!(
        "{:04}/{:02}/{:02}.csv",
        date.year(),
        date.month(),
        date.day()
    )
}

fn month_path(year: i32, month: u32) -> String {
    format!("{year:04}/{month:02}/daily.csv")
}

fn year_path(year: i32) -> String {
    format!("{year:04}/monthly.csv")
}

const YEARLY: &str = "yearly.csv";

/// The longest file of a tree that is read, in bytes (16 MiB). A day's file at a one-minute
/// cadence is about half a megabyte; a longer one was not written by this program and is left as
/// it is (damaged), so that a caller reads at most this many bytes and one more of any file.
///
/// ```
/// use std::collections::BTreeMap;
/// use sunpower_proto::tree::{self, MAX_FILE_BYTES};
/// # use sunpower_proto::parse_line;
/// # use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
/// # let mut acc = IntervalAccumulator::new(IntervalConfig::default());
/// # for line in ["130\t20260601170000\tINV1\tM\t\t100.000\t0.3",
/// #              "130\t20260601170500\tINV1\tM\t\t100.025\t0.3"] {
/// #     acc.add(&parse_line(line).unwrap());
/// # }
/// # let rows = acc.finish();
/// // A day's file that is one line longer than the limit (its first bytes and one more, as a
/// // caller reads them).
/// let long = vec![b'x'; MAX_FILE_BYTES + 1];
/// let existing = BTreeMap::from([("2026/06/01.csv".to_string(), long)]);
/// let update = tree::merge(&rows, chrono_tz::UTC, &existing).unwrap();
/// assert_eq!(
///     update.damaged[0].to_string(),
///     "2026/06/01.csv: line 1: longer than 16777216 bytes, not a file of this program's"
/// );
/// assert_eq!((update.report.damaged, update.report.not_written), (1, 2));
/// ```
pub const MAX_FILE_BYTES: usize = 16 << 20;

fn days(intervals: &[Interval], tz: Tz) -> BTreeMap<NaiveDate, Vec<&Interval>> {
    let mut by_day: BTreeMap<NaiveDate, Vec<&Interval>> = BTreeMap::new();
    for interval in intervals {
        by_day
            .entry(local_date(interval.interval_start, tz))
            .or_default()
            .push(interval);
    }
    by_day
}

/// The files a merge of `intervals` reads and writes, relative to the tree's folder, in the order
/// [`merge`] returns them.
///
/// ```
/// use sunpower_proto::tree::files_to_read;
/// # use sunpower_proto::parse_line;
/// # use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
/// # let mut acc = IntervalAccumulator::new(IntervalConfig::default());
/// # for line in ["130\t20260601170000\tINV1\tM\t\t100.000\t0.3",
/// #              "130\t20260601170500\tINV1\tM\t\t100.025\t0.3"] {
/// #     acc.add(&parse_line(line).unwrap());
/// # }
/// # let rows = acc.finish();
/// // `rows`: the intervals of 17:00 (an inverter's first report) and 17:05 (25 Wh), UTC.
/// // 17:00 UTC on 1 June is already 2 June in Tokyo.
/// assert_eq!(
///     files_to_read(&rows, chrono_tz::Asia::Tokyo),
///     ["2026/06/02.csv", "2026/06/daily.csv", "2026/monthly.csv", "yearly.csv"]
/// );
/// assert!(files_to_read(&[], chrono_tz::UTC).is_empty());
/// ```
pub fn files_to_read(intervals: &[Interval], tz: Tz) -> Vec<String> {
    let by_day = days(intervals, tz);
    let months: BTreeSet<(i32, u32)> = by_day.keys().map(|d| (d.year(), d.month())).collect();
    let years: BTreeSet<i32> = months.iter().map(|&(y, _)| y).collect();
    let mut paths: Vec<String> = by_day.keys().map(|d| day_path(*d)).collect();
    paths.extend(months.iter().map(|&(y, m)| month_path(y, m)));
    paths.extend(years.iter().map(|&y| year_path(y)));
    if !years.is_empty() {
        paths.push(YEARLY.to_owned());
    }
    paths
}

/// The rows of one of the tree's files (none when it does not exist), keyed by `key`; read by
/// column name, so that files written before the battery columns read too.
fn read_file<'t, T: CsvRow, K: Ord>(
    path: &str,
    text: Option<&'t [u8]>,
    reader: fn(&'t [u8]) -> Result<CsvReader<'t, T>, RowError>,
    key: impl Fn(&T) -> K,
) -> Result<BTreeMap<K, T>, RowError> {
    let error = |e: RowError| RowError {
        file: Some(path.to_owned()),
        ..e
    };
    let text = text.unwrap_or_default();
    if text.len() > MAX_FILE_BYTES {
        // The line that crosses the limit: where a reader would have had to go on.
        let line = 1 + memchr::memchr_iter(b'\n', &text[..MAX_FILE_BYTES]).count() as u64;
        return Err(error(RowError::whole_line(
            line,
            format!("longer than {MAX_FILE_BYTES} bytes, not a file of this program's"),
        )));
    }
    let mut out = BTreeMap::new();
    for row in reader(text).map_err(error)? {
        let row = row.map_err(error)?;
        out.insert(key(&row), row);
    }
    Ok(out)
}

fn read_intervals(
    path: &str,
    text: Option<&[u8]>,
) -> Result<BTreeMap<DateTime<Utc>, Interval>, RowError> {
    read_file(path, text, CsvReader::intervals, |row| row.interval_start)
}

fn read_totals(path: &str, text: Option<&[u8]>) -> Result<BTreeMap<String, PeriodTotal>, RowError> {
    read_file(path, text, CsvReader::totals, |row| row.label.clone())
}

/// A file's text: the header, then the rows.
fn write_file<'r, T: CsvRow + 'r>(
    mut writer: CsvWriter<Vec<u8>, T>,
    rows: impl IntoIterator<Item = &'r T>,
) -> String {
    // Writing into memory cannot fail, and every cell is UTF-8.
    for row in rows {
        let _ = writer.write(row);
    }
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// Merges `intervals` (local dates in zone `tz`) into the tree whose files hold `existing`
/// (contents by relative path, as bytes or text; a file not in the map does not exist), and
/// returns every touched file's new contents.
///
/// A damaged file (a row or a header that cannot be read back, invalid UTF-8 included) is left
/// as it is and named in [`TreeUpdate::damaged`]: a damaged day's new rows are not written
/// (counted in [`TreeReport::not_written`]) and its daily total stays as it was; a damaged
/// totals file keeps the totals above it as they were. The other files are merged all the
/// same.
///
/// ```
/// use std::collections::BTreeMap;
/// use sunpower_proto::tree;
/// # use sunpower_proto::parse_line;
/// # use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
/// # let mut acc = IntervalAccumulator::new(IntervalConfig::default());
/// # for line in ["130\t20260601170000\tINV1\tM\t\t100.000\t0.3",
/// #              "130\t20260601170500\tINV1\tM\t\t100.025\t0.3"] {
/// #     acc.add(&parse_line(line).unwrap());
/// # }
/// # let rows = acc.finish();
/// // `rows`: the intervals of 17:00 (an inverter's first report) and 17:05 (25 Wh), UTC.
/// let tz = chrono_tz::UTC;
/// // First the 17:00 row alone, then both: 17:00 is kept as it was, 17:05 inserted.
/// let first = tree::merge(&rows[..1], tz, &BTreeMap::<String, String>::new()).unwrap();
/// let on_disk: BTreeMap<String, String> =
///     first.files.into_iter().map(|f| (f.path, f.contents)).collect();
/// let second = tree::merge(&rows, tz, &on_disk).unwrap();
/// assert_eq!((second.report.inserted, second.report.kept), (1, 1));
/// let daily = &second.files[1];
/// assert_eq!(daily.contents.lines().nth(1), Some("2026-06-01,2026-06-01T00:00:00Z,2026-06-02T00:00:00Z,24,25,,,2,first_report|no_meter"));
/// ```
///
/// An existing file with a row (or a header) that cannot be read back is left as it is, and its
/// error names the file, relative to the tree's folder, and the line:
///
/// ```
/// # use std::collections::BTreeMap;
/// # use sunpower_proto::tree;
/// # use sunpower_proto::parse_line;
/// # use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
/// # let mut acc = IntervalAccumulator::new(IntervalConfig::default());
/// # for line in ["130\t20260601170000\tINV1\tM\t\t100.000\t0.3",
/// #              "130\t20260601170500\tINV1\tM\t\t100.025\t0.3"] {
/// #     acc.add(&parse_line(line).unwrap());
/// # }
/// # let rows = acc.finish();
/// let header = "interval_start,interval_end,production_wh,production_w,net_source,inverters_reporting,revised,flags";
/// let existing = BTreeMap::from([("2026/06/01.csv".to_string(), format!("{header}\nnot,a,row\n"))]);
/// let update = tree::merge(&rows, chrono_tz::UTC, &existing).unwrap();
/// let error = &update.damaged[0];
/// assert_eq!((error.file.as_deref(), error.line), (Some("2026/06/01.csv"), 2));
/// assert_eq!((update.report.damaged, update.report.not_written), (1, 2));
/// assert!(update.files.iter().all(|f| f.path != "2026/06/01.csv"));
/// assert_eq!(error.to_string(), "2026/06/01.csv: line 2: column 3 (production_w): expected 8 columns, found 3");
/// ```
pub fn merge<C: AsRef<[u8]>>(
    intervals: &[Interval],
    tz: Tz,
    existing: &BTreeMap<String, C>,
) -> Result<TreeUpdate, RowError> {
    let mut update = TreeUpdate::default();
    let file = |path: &str| existing.get(path).map(AsRef::as_ref);
    let damaged = |update: &mut TreeUpdate, error: RowError, not_written: usize| {
        update.report.damaged += 1;
        update.report.not_written += not_written;
        update.damaged.push(error);
    };
    let emit = |update: &mut TreeUpdate, path: String, contents: String| {
        let changed = file(&path) != Some(contents.as_bytes());
        update.report.files += usize::from(changed);
        update.files.push(TreeFile {
            path,
            contents,
            changed,
        });
    };

    // Days: merge rows, and keep each day's total for daily.csv.
    let by_day = days(intervals, tz);
    let mut day_totals: BTreeMap<NaiveDate, Option<PeriodTotal>> = BTreeMap::new();
    for (date, new_rows) in &by_day {
        let path = day_path(*date);
        let mut rows = match read_intervals(&path, file(&path)) {
            Ok(rows) => rows,
            Err(error) => {
                damaged(&mut update, error, new_rows.len());
                continue;
            }
        };
        for start in rows.keys().filter(|t| local_date(**t, tz) != *date) {
            update.report.misplaced += 1;
            update.misplaced.push((path.clone(), *start));
        }
        for new in new_rows {
            match rows.get(&new.interval_start) {
                None => update.report.inserted += 1,
                Some(old) if old == *new || !prefer_new(old, new) => {
                    update.report.kept += 1;
                    continue;
                }
                Some(_) => update.report.replaced += 1,
            }
            rows.insert(new.interval_start, (*new).clone());
        }
        let rows: Vec<Interval> = rows.into_values().collect();
        // The day's own rows only: a misplaced row must not become the day's total.
        let own: Vec<Interval> = (rows.iter())
            .filter(|r| local_date(r.interval_start, tz) == *date)
            .cloned()
            .collect();
        day_totals.insert(*date, totals(&own, tz, Period::Day).into_iter().next());
        emit(
            &mut update,
            path,
            write_file(CsvWriter::intervals(Vec::new(), tz), &rows),
        );
    }

    // Months: daily.csv rows of touched days replaced, then the month's total from them.
    let months: BTreeSet<(i32, u32)> = by_day.keys().map(|d| (d.year(), d.month())).collect();
    let mut month_totals: BTreeMap<(i32, u32), PeriodTotal> = BTreeMap::new();
    for &(year, month) in &months {
        let Some(first) = NaiveDate::from_ymd_opt(year, month, 1) else {
            continue;
        };
        let path = month_path(year, month);
        let mut rows = match read_totals(&path, file(&path)) {
            Ok(rows) => rows,
            Err(error) => {
                damaged(&mut update, error, 0);
                continue;
            }
        };
        for (date, total) in day_totals.range(first..) {
            if (date.year(), date.month()) != (year, month) {
                break;
            }
            if let Some(total) = total {
                rows.insert(total.label.clone(), total.clone());
            }
        }
        let rows: Vec<PeriodTotal> = rows.into_values().collect();
        let mut total = PeriodTotal::empty(Period::Month, first, tz);
        rows.iter().for_each(|r| total.absorb(r));
        month_totals.insert((year, month), total);
        emit(
            &mut update,
            path,
            write_file(CsvWriter::totals(Vec::new()), &rows),
        );
    }

    // Years: monthly.csv rows of touched months replaced, then the year's total from them.
    // Of the months merged: a damaged month's file leaves its year's totals as they were.
    let years: BTreeSet<i32> = month_totals.keys().map(|&(y, _)| y).collect();
    let mut year_totals = Vec::new();
    for &year in &years {
        let Some(first) = NaiveDate::from_ymd_opt(year, 1, 1) else {
            continue;
        };
        let path = year_path(year);
        let mut rows = match read_totals(&path, file(&path)) {
            Ok(rows) => rows,
            Err(error) => {
                damaged(&mut update, error, 0);
                continue;
            }
        };
        for (_, total) in month_totals.range((year, 1)..=(year, 12)) {
            rows.insert(total.label.clone(), total.clone());
        }
        let rows: Vec<PeriodTotal> = rows.into_values().collect();
        let mut total = PeriodTotal::empty(Period::Year, first, tz);
        rows.iter().for_each(|r| total.absorb(r));
        year_totals.push(total);
        emit(
            &mut update,
            path,
            write_file(CsvWriter::totals(Vec::new()), &rows),
        );
    }

    if !year_totals.is_empty() {
        let mut rows = match read_totals(YEARLY, file(YEARLY)) {
            Ok(rows) => rows,
            Err(error) => {
                damaged(&mut update, error, 0);
                return Ok(update);
            }
        };
        for total in year_totals {
            rows.insert(total.label.clone(), total);
        }
        let rows: Vec<PeriodTotal> = rows.into_values().collect();
        emit(
            &mut update,
            YEARLY.to_owned(),
            write_file(CsvWriter::totals(Vec::new()), &rows),
        );
    }
    Ok(update)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intervals::{IntervalAccumulator, IntervalConfig};
    use crate::parse_line;

    fn rows() -> Vec<Interval> {
        let mut acc = IntervalAccumulator::new(IntervalConfig::default());
        for line in [
            "130\t20260601170000\tINV1\tM\t\t100.000\t0.3",
            "130\t20260601170500\tINV1\tM\t\t100.025\t0.3",
        ] {
            acc.add(&parse_line(line).unwrap());
        }
        acc.finish()
    }

    #[test]
    fn a_day_file_written_before_the_battery_columns_merges_and_gets_the_current_header() {
        // The 17:00 row as a file of the first layout has it, and an earlier row of that day.
        let v1 = "interval_start,interval_start_local,interval_end,production_wh,consumption_wh,\
                  net_wh,production_w,consumption_w,net_source,inverters_reporting,revised,flags\n\
                  2026-06-01T16:55:00Z,2026-06-01T16:55:00+00:00,2026-06-01T17:00:00Z,7,,,84,,none,1,false,no_meter\n\
                  2026-06-01T17:00:00Z,2026-06-01T17:00:00+00:00,2026-06-01T17:05:00Z,0,,,0,,none,1,false,first_report|no_meter\n";
        let existing = BTreeMap::from([("2026/06/01.csv".to_owned(), v1.to_owned())]);
        let update = merge(&rows(), Tz::UTC, &existing).unwrap();
        assert_eq!(
            (update.report.inserted, update.report.kept),
            (1, 1),
            "the 17:00 row reads equal to the new one"
        );
        let day = &update.files[0].contents;
        let lines: Vec<&str> = day.lines().collect();
        let header: Vec<&str> = Interval::COLUMNS.iter().map(|c| c.name).collect();
        assert_eq!(lines[0], header.join(","));
        assert_eq!(
            lines[1],
            "2026-06-01T16:55:00Z,2026-06-01T16:55:00+00:00,2026-06-01T17:00:00Z,7,,,84,,none,1,false,no_meter,,"
        );
        assert_eq!(lines.len(), 4);
        // Once rewritten, merging again changes nothing.
        let written: BTreeMap<String, String> = update
            .files
            .iter()
            .map(|f| (f.path.clone(), f.contents.clone()))
            .collect();
        let again = merge(&rows(), Tz::UTC, &written).unwrap();
        assert!(again.files.iter().all(|f| !f.changed));
    }

    #[test]
    fn a_bad_value_in_a_totals_file_names_the_file_line_and_column() {
        let daily = "period,start,end,hours,production_wh,consumption_wh,net_wh,intervals,flags\n\
                     2026-06-02,2026-06-02T00:00:00Z,2026-06-03T00:00:00Z,24,12,,,two,\n";
        let existing = BTreeMap::from([("2026/06/daily.csv".to_owned(), daily.to_owned())]);
        let update = merge(&rows(), Tz::UTC, &existing).unwrap();
        assert_eq!(
            update.damaged[0].to_string(),
            r#"2026/06/daily.csv: line 2: column 7 (intervals): expected a count, found "two""#
        );
        // Left as it is; the day is written all the same, the totals above stay as they were.
        let paths: Vec<&str> = update.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["2026/06/01.csv"]);
    }

    /// A row of 2031 inside `2026/06/01.csv` stays where it is but is counted and named, and
    /// it is not taken for the day's total.
    #[test]
    fn a_row_of_another_day_in_a_day_file_is_counted_and_in_no_day_total() {
        let header: Vec<&str> = Interval::COLUMNS.iter().map(|c| c.name).collect();
        let day = format!(
            "{}\n2020-01-01T00:00:00Z,2020-01-01T00:00:00+00:00,2020-01-01T00:05:00Z,999,,,0,,none,1,false,,,\n",
            header.join(",")
        );
        let existing = BTreeMap::from([("2026/06/01.csv".to_owned(), day)]);
        let update = merge(&rows(), Tz::UTC, &existing).unwrap();
        assert_eq!(update.report.misplaced, 1);
        assert_eq!(update.misplaced[0].0, "2026/06/01.csv");
        let daily = &update.files[1].contents;
        assert!(daily.contains("\n2026-06-01,"), "{daily}");
        assert!(!daily.contains("2020-01-01"), "{daily}");
        assert!(!daily.contains(",999,"), "{daily}");
    }
}
