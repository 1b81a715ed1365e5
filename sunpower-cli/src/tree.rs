//! The `--tree DIR` layout: `YYYY/MM/DD.csv` (intervals), `YYYY/MM/daily.csv`,
//! `YYYY/monthly.csv` and `yearly.csv` (totals), merged with what is already there.
//!
//! It lives in the command, not in `sunpower-proto`, whose core does no I/O. Merging is idempotent: existing interval rows are keyed by `interval_start`; a new row
//! replaces the old one unless it knows less (see [`prefer_new`]); totals are recomputed from the
//! merged rows of the touched days, months and years; every file is rewritten whole (through a
//! temporary file and a rename) in a fixed order. Running again over the same or overlapping data
//! gives identical files.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sunpower_proto::intervals::Tz;

use sunpower_proto::export::{
    csv, parse_csv_row, parse_period_csv_row, period_csv, RowError, CSV_HEADER, CSV_HEADER_V1,
    PERIOD_CSV_HEADER,
};
use sunpower_proto::intervals::{local_date, totals, Flag, Interval, Period, PeriodTotal};

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
        // Files written before the battery columns start with the old header.
        .filter(|(_, l)| {
            !l.trim().is_empty() && l.trim_end() != header && l.trim_end() != CSV_HEADER_V1
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeDelta, TimeZone};
    use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
    use sunpower_proto::Body;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sunpower-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    fn read_tree(dir: &Path) -> Vec<(String, String)> {
        let mut files = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let rel = path.strip_prefix(dir).unwrap().display().to_string();
                    files.push((rel, fs::read_to_string(&path).unwrap()));
                }
            }
        }
        files.sort();
        files
    }

    fn offline(lines: &[String]) -> Vec<Interval> {
        let body = lines.join("\n");
        let mut acc = IntervalAccumulator::new(IntervalConfig::offline());
        for record in Body::new(body.as_bytes()).records() {
            acc.add(&record.unwrap());
        }
        acc.finish()
    }

    #[test]
    fn tree_is_idempotent_and_overlapping_runs_lose_nothing() {
        // One inverter, 10 Wh every 5 minutes across local midnight (06:00 UTC = 23:00 PDT).
        let start = Utc.with_ymd_and_hms(2026, 6, 2, 6, 0, 0).unwrap();
        let lines: Vec<String> = (0..24)
            .map(|i| {
                let t = (start + TimeDelta::minutes(5 * i)).format("%Y%m%d%H%M%S");
                let kwh = 5.0 + 0.01 * i as f64;
                format!("130\t{t}\tA\tAC_Module_Type_C\t\t{kwh:.3}\t0.25\t245.1\t1.0\t0.26\t59.1\t4.4\t30\t60\t0")
            })
            .collect();
        let whole = offline(&lines);
        let tz: Tz = "America/Los_Angeles".parse().unwrap();

        let once = temp_dir("tree-once");
        write_tree(&once, &whole, tz).unwrap();
        let first = read_tree(&once);
        let names: Vec<&str> = first.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "2026/06/01.csv",
                "2026/06/02.csv",
                "2026/06/daily.csv",
                "2026/monthly.csv",
                "yearly.csv"
            ]
        );
        let report = write_tree(&once, &whole, tz).unwrap();
        assert_eq!((report.inserted, report.replaced), (0, 0));
        assert_eq!(read_tree(&once), first);
        let yearly = &first[4].1;
        assert!(yearly.contains("\n2026,"), "{yearly}");
        assert!(yearly.contains(",230,,,24,"), "{yearly}"); // 23 steps of 10 Wh

        let pieces = temp_dir("tree-pieces");
        write_tree(&pieces, &offline(&lines[..14]), tz).unwrap();
        write_tree(&pieces, &offline(&lines[10..]), tz).unwrap();
        assert_eq!(read_tree(&pieces), first);
        fs::remove_dir_all(&once).unwrap();
        fs::remove_dir_all(&pieces).unwrap();
    }
}
