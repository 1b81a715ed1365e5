//! The `--tree DIR` layout: `YYYY/MM/DD.csv` (intervals), `YYYY/MM/daily.csv`,
//! `YYYY/monthly.csv` and `yearly.csv` (totals), merged with what is already there.
//!
//! This is the crate's only file I/O, kept apart from the sans-I/O core (the CLI may take it
//! over). Merging is idempotent: existing interval rows are keyed by `interval_start`; a new row
//! replaces the old one unless it knows less (see [`prefer_new`]); totals are recomputed from the
//! merged rows of the touched days, months and years; every file is rewritten whole (through a
//! temporary file and a rename) in a fixed order. Running again over the same or overlapping data
//! gives identical files.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::export::{
    csv, parse_csv_row, parse_period_csv_row, period_csv, RowError, CSV_HEADER, PERIOD_CSV_HEADER,
};
use crate::intervals::{local_date, totals, Flag, Interval, Period, PeriodTotal};

/// Why the tree could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TreeError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// An existing file has a row this module cannot read back.
    #[error("{path}: line {line}: {source}")]
    Row {
        /// The file.
        path: PathBuf,
        /// Line number, from 1.
        line: usize,
        /// The cause.
        source: RowError,
    },
}

/// What [`write_tree`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct TreeReport {
    /// Interval rows that were not in the tree.
    pub inserted: usize,
    /// Interval rows that replaced a different row.
    pub replaced: usize,
    /// New rows not used because the tree's row knew more, or was identical.
    pub kept: usize,
    /// Files written.
    pub files: usize,
}

/// Whether `new` should replace `existing` (same `interval_start`) in the tree.
///
/// The row from a capture that starts mid-day lacks the energy of each inverter's first report
/// ([`Flag::FirstReport`]) and may lack the meter; a row that had them is kept rather than
/// overwritten with less.
pub fn prefer_new(existing: &Interval, new: &Interval) -> bool {
    let loses_baseline =
        new.flags.contains(Flag::FirstReport) && !existing.flags.contains(Flag::FirstReport);
    let loses_meter = new.net_wh.is_none() && existing.net_wh.is_some();
    !(loses_baseline || loses_meter)
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> TreeError + '_ {
    move |source| TreeError::Io {
        path: path.to_owned(),
        source,
    }
}

fn read_lines(path: &Path, header: &str) -> Result<Vec<(usize, String)>, TreeError> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err(path)(e)),
    };
    Ok(text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && l.trim_end() != header)
        .map(|(i, l)| (i + 1, l.to_owned()))
        .collect())
}

fn write_file(path: &Path, text: &str) -> Result<(), TreeError> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(io_err(parent))?;
    }
    // Same content: leave the file (and its modification time) alone.
    if fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    let tmp = path.with_extension("csv.tmp");
    fs::write(&tmp, text).map_err(io_err(&tmp))?;
    fs::rename(&tmp, path).map_err(io_err(path))
}

fn read_intervals(path: &Path) -> Result<BTreeMap<DateTime<Utc>, Interval>, TreeError> {
    let mut rows = BTreeMap::new();
    for (line, text) in read_lines(path, CSV_HEADER)? {
        let row = parse_csv_row(&text).map_err(|source| TreeError::Row {
            path: path.to_owned(),
            line,
            source,
        })?;
        rows.insert(row.interval_start, row);
    }
    Ok(rows)
}

fn read_totals(path: &Path, period: Period) -> Result<BTreeMap<String, PeriodTotal>, TreeError> {
    let mut rows = BTreeMap::new();
    for (line, text) in read_lines(path, PERIOD_CSV_HEADER)? {
        let row = parse_period_csv_row(&text, period).map_err(|source| TreeError::Row {
            path: path.to_owned(),
            line,
            source,
        })?;
        rows.insert(row.label.clone(), row);
    }
    Ok(rows)
}

/// Merges `intervals` into the tree under `dir`, local dates from zone `tz`.
///
/// ```
/// use sunpower_proto::{parse_line, tree, IntervalAccumulator, IntervalConfig};
/// let dir = std::env::temp_dir().join(format!("sunpower-tree-doc-{}", std::process::id()));
/// let mut acc = IntervalAccumulator::new(IntervalConfig::offline());
/// for line in ["130\t20260601170000\tINV1\tM\t\t100.000\t0.3",
///              "130\t20260601170500\tINV1\tM\t\t100.025\t0.3"] {
///     acc.add(&parse_line(line).unwrap());
/// }
/// let rows = acc.finish();
/// let tz = chrono_tz::America::Los_Angeles;
/// tree::write_tree(&dir, &rows, tz).unwrap();
/// let first = std::fs::read_to_string(dir.join("2026/06/01.csv")).unwrap();
/// let again = tree::write_tree(&dir, &rows, tz).unwrap();
/// assert_eq!(again.inserted + again.replaced, 0);
/// assert_eq!(std::fs::read_to_string(dir.join("2026/06/01.csv")).unwrap(), first);
/// assert!(std::fs::read_to_string(dir.join("yearly.csv")).unwrap().contains("\n2026,"));
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn write_tree(dir: &Path, intervals: &[Interval], tz: Tz) -> Result<TreeReport, TreeError> {
    let mut report = TreeReport::default();
    let mut by_day: BTreeMap<NaiveDate, Vec<&Interval>> = BTreeMap::new();
    for interval in intervals {
        by_day
            .entry(local_date(interval.interval_start, tz))
            .or_default()
            .push(interval);
    }

    // Days: merge rows, rewrite, and keep each day's total for daily.csv.
    let mut day_totals: BTreeMap<NaiveDate, Option<PeriodTotal>> = BTreeMap::new();
    for (date, new_rows) in &by_day {
        let path = day_path(dir, *date);
        let mut rows = read_intervals(&path)?;
        for new in new_rows {
            match rows.get(&new.interval_start) {
                None => report.inserted += 1,
                Some(old) if old == *new || !prefer_new(old, new) => {
                    report.kept += 1;
                    continue;
                }
                Some(_) => report.replaced += 1,
            }
            rows.insert(new.interval_start, (*new).clone());
        }
        let rows: Vec<Interval> = rows.into_values().collect();
        write_file(&path, &csv(&rows, tz))?;
        report.files += 1;
        day_totals.insert(*date, totals(&rows, tz, Period::Day).into_iter().next());
    }

    // Months: daily.csv rows of touched days replaced, then the month's total from them.
    let months: BTreeSet<(i32, u32)> = by_day.keys().map(|d| (d.year(), d.month())).collect();
    let mut month_totals: BTreeMap<(i32, u32), PeriodTotal> = BTreeMap::new();
    for &(year, month) in &months {
        let Some(first) = NaiveDate::from_ymd_opt(year, month, 1) else {
            continue;
        };
        let path = dir
            .join(format!("{year:04}"))
            .join(format!("{month:02}"))
            .join("daily.csv");
        let mut rows = read_totals(&path, Period::Day)?;
        for (date, total) in day_totals.range(first..) {
            if (date.year(), date.month()) != (year, month) {
                break;
            }
            if let Some(total) = total {
                rows.insert(total.label.clone(), total.clone());
            }
        }
        let rows: Vec<PeriodTotal> = rows.into_values().collect();
        write_file(&path, &period_csv(&rows))?;
        report.files += 1;
        let mut total = PeriodTotal::empty(Period::Month, first, tz);
        rows.iter().for_each(|r| total.absorb(r));
        month_totals.insert((year, month), total);
    }

    // Years: monthly.csv rows of touched months replaced, then the year's total from them.
    let years: BTreeSet<i32> = months.iter().map(|&(y, _)| y).collect();
    let mut year_totals = Vec::new();
    for &year in &years {
        let Some(first) = NaiveDate::from_ymd_opt(year, 1, 1) else {
            continue;
        };
        let path = dir.join(format!("{year:04}")).join("monthly.csv");
        let mut rows = read_totals(&path, Period::Month)?;
        for (_, total) in month_totals.range((year, 1)..=(year, 12)) {
            rows.insert(total.label.clone(), total.clone());
        }
        let rows: Vec<PeriodTotal> = rows.into_values().collect();
        write_file(&path, &period_csv(&rows))?;
        report.files += 1;
        let mut total = PeriodTotal::empty(Period::Year, first, tz);
        rows.iter().for_each(|r| total.absorb(r));
        year_totals.push(total);
    }

    if !year_totals.is_empty() {
        let path = dir.join("yearly.csv");
        let mut rows = read_totals(&path, Period::Year)?;
        for total in year_totals {
            rows.insert(total.label.clone(), total);
        }
        let rows: Vec<PeriodTotal> = rows.into_values().collect();
        write_file(&path, &period_csv(&rows))?;
        report.files += 1;
    }
    Ok(report)
}

fn day_path(dir: &Path, date: NaiveDate) -> PathBuf {
    dir.join(format!("{:04}", date.year()))
        .join(format!("{:02}", date.month()))
        .join(format!("{:02}.csv", date.day()))
}
