//! Output formats for intervals, as pure functions: CSV rows, period-total CSV rows, PVOutput
//! `addbatchstatus` payloads, and the jsonl row with its local start (`serde` feature).
//!
//! Numbers are written with at most three decimals and no trailing zeros, so the text of a row
//! depends only on its values (the `--tree` files rely on that to be idempotent).

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, Timelike, Utc};
use chrono_tz::Tz;

use crate::intervals::{local_date, Flags, Interval, NetSource, Period, PeriodTotal};
use crate::{parse_timestamp, Rfc3339};

/// The header of the interval CSV.
pub const CSV_HEADER: &str = "interval_start,interval_start_local,interval_end,production_wh,\
consumption_wh,net_wh,production_w,consumption_w,net_source,inverters_reporting,revised,flags,\
battery_wh,battery_soc";

/// The header files written before the battery columns had: [`parse_csv_row`] still reads
/// their rows (the battery values are `None`).
pub const CSV_HEADER_V1: &str = "interval_start,interval_start_local,interval_end,production_wh,\
consumption_wh,net_wh,production_w,consumption_w,net_source,inverters_reporting,revised,flags";

/// The header of the period-total CSV (`daily.csv`, `monthly.csv`, `yearly.csv`).
pub const PERIOD_CSV_HEADER: &str =
    "period,start,end,hours,production_wh,consumption_wh,net_wh,intervals,flags";

/// PVOutput accepts at most this many statuses in one `addbatchstatus` request.
pub const PVOUTPUT_BATCH_MAX: usize = 30;

/// A CSV row that could not be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column} ({name}): {problem}")]
pub struct RowError {
    /// Column index, from 0.
    pub column: usize,
    /// Column name.
    pub name: &'static str,
    /// What was wrong.
    pub problem: &'static str,
}

/// The columns of one CSV row of ours, read with errors that name the column.
struct Row<'l> {
    cols: Vec<&'l str>,
    names: &'static [&'static str],
}

impl<'l> Row<'l> {
    /// Splits `line`, which must have as many columns as `names`.
    fn new(line: &'l str, names: &'static [&'static str]) -> Result<Row<'l>, RowError> {
        let row = Row {
            cols: line.trim_end_matches(['\r', '\n']).split(',').collect(),
            names,
        };
        if row.cols.len() != names.len() {
            let last = names.len().saturating_sub(1);
            return Err(row.err(row.cols.len().min(last), "wrong number of columns"));
        }
        Ok(row)
    }

    fn err(&self, column: usize, problem: &'static str) -> RowError {
        RowError {
            column,
            name: self.names.get(column).copied().unwrap_or("?"),
            problem,
        }
    }

    fn text(&self, i: usize) -> &'l str {
        self.cols[i]
    }

    fn time(&self, i: usize) -> Result<DateTime<Utc>, RowError> {
        rfc3339_utc(self.cols[i]).ok_or_else(|| self.err(i, "not a UTC timestamp"))
    }

    fn num(&self, i: usize) -> Result<f64, RowError> {
        self.cols[i]
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| self.err(i, "not a number"))
    }

    /// A number, or `None` for an empty column.
    fn opt(&self, i: usize) -> Result<Option<f64>, RowError> {
        if self.cols[i].is_empty() {
            Ok(None)
        } else {
            self.num(i).map(Some)
        }
    }

    fn count(&self, i: usize) -> Result<u32, RowError> {
        self.cols[i].parse().map_err(|_| self.err(i, "not a count"))
    }

    fn flags(&self, i: usize) -> Result<Flags, RowError> {
        Flags::parse(self.cols[i]).ok_or_else(|| self.err(i, "unknown flag"))
    }
}

/// Formats a number with at most three decimals, without trailing zeros: `12.5`, `-3`, `0.001`.
///
/// ```
/// use sunpower_proto::export::number;
/// assert_eq!(number(12.5), "12.5");
/// assert_eq!(number(25.0), "25");
/// assert_eq!(number(-0.0004), "0");
/// ```
pub fn number(x: f64) -> String {
    let mut s = format!("{x:.3}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    if s == "-0" {
        s = "0".to_owned();
    }
    s
}

fn opt_number(x: Option<f64>) -> String {
    x.map(number).unwrap_or_default()
}

/// A UTC instant in zone `tz` as RFC 3339 with its offset: `2026-03-08T01:55:00-08:00`.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use sunpower_proto::export::local_rfc3339;
/// let t = Utc.with_ymd_and_hms(2026, 3, 8, 10, 0, 0).unwrap();
/// assert_eq!(local_rfc3339(t, chrono_tz::America::Los_Angeles), "2026-03-08T03:00:00-07:00");
/// ```
pub fn local_rfc3339(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz)
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// One interval as a CSV row (no line ending), columns as in [`CSV_HEADER`].
///
/// ```
/// use sunpower_proto::{export, parse_line, IntervalAccumulator, IntervalConfig};
/// let mut acc = IntervalAccumulator::new(IntervalConfig::offline());
/// for line in ["130\t20260601170000\tINV1\tM\t\t100.000\t0.3",
///              "130\t20260601170500\tINV1\tM\t\t100.025\t0.3"] {
///     acc.add(&parse_line(line).unwrap());
/// }
/// let rows = acc.finish();
/// assert_eq!(
///     export::csv_row(&rows[1], chrono_tz::UTC),
///     "2026-06-01T17:05:00Z,2026-06-01T17:05:00+00:00,2026-06-01T17:10:00Z,25,,,300,,none,1,false,no_meter,,"
/// );
/// ```
pub fn csv_row(interval: &Interval, tz: Tz) -> String {
    format!(
        "{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
        Rfc3339(interval.interval_start),
        local_rfc3339(interval.interval_start, tz),
        Rfc3339(interval.interval_end),
        number(interval.production_wh),
        opt_number(interval.consumption_wh),
        opt_number(interval.net_wh),
        number(interval.production_w),
        opt_number(interval.consumption_w),
        interval.net_source.as_str(),
        interval.inverters_reporting,
        interval.revised,
        interval.flags,
        opt_number(interval.battery_wh),
        interval.battery_soc.map(soc_number).unwrap_or_default(),
    )
}

/// A state of charge with four decimals (0.8600 is 86.00 %), trailing zeros dropped.
fn soc_number(x: f64) -> String {
    let mut s = format!("{x:.4}");
    while s.ends_with('0') {
        s.pop();
    }
    if s.ends_with('.') {
        s.pop();
    }
    if s == "-0" {
        s = "0".to_owned();
    }
    s
}

/// The whole interval CSV: header, then one row per interval, each line ending in LF.
pub fn csv(intervals: &[Interval], tz: Tz) -> String {
    let mut out = String::with_capacity(64 + intervals.len() * 160);
    out.push_str(CSV_HEADER);
    out.push('\n');
    for interval in intervals {
        out.push_str(&csv_row(interval, tz));
        out.push('\n');
    }
    out
}

fn rfc3339_utc(text: &str) -> Option<DateTime<Utc>> {
    // Only the `YYYY-MM-DDThh:mm:ssZ` form this module writes.
    let digits: String = text
        .strip_suffix('Z')?
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    (text.len() == 20).then_some(())?;
    parse_timestamp(&digits)
}

/// Reads back a row written by [`csv_row`] (the local-time column is not needed), or a row of
/// a file written before the battery columns ([`CSV_HEADER_V1`], 12 columns).
///
/// ```
/// use sunpower_proto::export::{csv_row, parse_csv_row};
/// use sunpower_proto::{parse_line, IntervalAccumulator, IntervalConfig};
/// let mut acc = IntervalAccumulator::new(IntervalConfig::offline());
/// acc.add(&parse_line("130\t20260601170000\tINV1\tM\t\t100.000\t0.3").unwrap());
/// let row = acc.finish().remove(0);
/// assert_eq!(parse_csv_row(&csv_row(&row, chrono_tz::UTC)).unwrap(), row);
/// let old = "2026-06-01T17:00:00Z,2026-06-01T17:00:00+00:00,2026-06-01T17:05:00Z,0,,,0,,none,1,false,first_report|no_meter";
/// assert_eq!(parse_csv_row(old).unwrap(), row);
/// ```
pub fn parse_csv_row(line: &str) -> Result<Interval, RowError> {
    const NAMES: [&str; 14] = [
        "interval_start",
        "interval_start_local",
        "interval_end",
        "production_wh",
        "consumption_wh",
        "net_wh",
        "production_w",
        "consumption_w",
        "net_source",
        "inverters_reporting",
        "revised",
        "flags",
        "battery_wh",
        "battery_soc",
    ];
    let columns = line.trim_end_matches(['\r', '\n']).split(',').count();
    let names: &'static [&'static str] = if columns == 12 { &NAMES[..12] } else { &NAMES };
    let row = Row::new(line, names)?;
    let battery = |i: usize| if columns == 12 { Ok(None) } else { row.opt(i) };
    Ok(Interval {
        interval_start: row.time(0)?,
        interval_end: row.time(2)?,
        production_wh: row.num(3)?,
        consumption_wh: row.opt(4)?,
        net_wh: row.opt(5)?,
        production_w: row.num(6)?,
        consumption_w: row.opt(7)?,
        battery_wh: battery(12)?,
        battery_soc: battery(13)?,
        net_source: NetSource::from_name(row.text(8))
            .ok_or_else(|| row.err(8, "unknown net source"))?,
        inverters_reporting: row.count(9)?,
        revised: row
            .text(10)
            .parse()
            .map_err(|_| row.err(10, "not true or false"))?,
        flags: row.flags(11)?,
    })
}

/// One period total as a CSV row (no line ending), columns as in [`PERIOD_CSV_HEADER`].
///
/// ```
/// use chrono::NaiveDate;
/// use sunpower_proto::{export, Period, PeriodTotal};
/// let day = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
/// let total = PeriodTotal::empty(Period::Day, day, chrono_tz::America::Los_Angeles);
/// assert_eq!(
///     export::period_csv_row(&total),
///     "2026-11-01,2026-11-01T07:00:00Z,2026-11-02T08:00:00Z,25,0,,,0,"
/// );
/// ```
pub fn period_csv_row(total: &PeriodTotal) -> String {
    format!(
        "{},{},{},{},{},{},{},{},{}",
        total.label,
        Rfc3339(total.start),
        Rfc3339(total.end),
        number(total.hours()),
        number(total.production_wh),
        opt_number(total.consumption_wh),
        opt_number(total.net_wh),
        total.intervals,
        total.flags,
    )
}

/// The whole period CSV: header, then one row per total.
pub fn period_csv(totals: &[PeriodTotal]) -> String {
    let mut out = String::new();
    out.push_str(PERIOD_CSV_HEADER);
    out.push('\n');
    for total in totals {
        out.push_str(&period_csv_row(total));
        out.push('\n');
    }
    out
}

/// Reads back a row written by [`period_csv_row`].
pub fn parse_period_csv_row(line: &str, period: Period) -> Result<PeriodTotal, RowError> {
    const NAMES: [&str; 9] = [
        "period",
        "start",
        "end",
        "hours",
        "production_wh",
        "consumption_wh",
        "net_wh",
        "intervals",
        "flags",
    ];
    let row = Row::new(line, &NAMES)?;
    Ok(PeriodTotal {
        period,
        label: row.text(0).to_owned(),
        start: row.time(1)?,
        end: row.time(2)?,
        production_wh: row.num(4)?,
        consumption_wh: row.opt(5)?,
        net_wh: row.opt(6)?,
        intervals: row.count(7)?,
        flags: row.flags(8)?,
    })
}

/// PVOutput `addbatchstatus` payloads, one per batch of at most 30 statuses:
/// `data=d,t,v1,v2,v3,v4;...` ready to POST as the form body (with the API key and system id
/// headers).
///
/// - `d`: local date `YYYYMMDD` of the interval's start; `t`: local time `HH:MM` of its end
///   (the moment the energy so far is known), `23:59` for the interval that ends at midnight.
/// - `v1`: energy generated since local midnight, Wh (cumulative for the day, as PVOutput reads
///   `v1` without `c1`); `v2`: mean power generated, W.
/// - `v3`, `v4`: the same for consumption, left out when no meter reported for the interval.
///
/// A day that the rows do not cover from its local midnight (the input starts in the middle of
/// it) has no known running totals: its statuses carry the powers only (`d,t,,v2,,v4`), so they
/// never overwrite a whole day's total on PVOutput with a partial one.
///
/// Values are rounded to whole Wh and W. Of several rows with the same `interval_start` (an
/// interval and its revisions) the last counts. A local time already used that day (the repeated hour
/// when daylight saving ends) is skipped; its energy is carried by the next status of the day.
///
/// ```
/// use sunpower_proto::{export, parse_line, IntervalAccumulator, IntervalConfig};
/// let mut acc = IntervalAccumulator::new(IntervalConfig::offline());
/// // From local midnight (07:00 UTC in Los Angeles in June).
/// for line in ["130\t20260601070000\tINV1\tM\t\t100.000\t0.3",
///              "140\t20260601070000\tPVS5M1c\tM\t125\t607\t0.2",
///              "130\t20260601070500\tINV1\tM\t\t100.025\t0.3",
///              "140\t20260601070500\tPVS5M1c\tM\t125\t607\t0.1"] {
///     acc.add(&parse_line(line).unwrap());
/// }
/// let rows = acc.finish();
/// let batches = export::pvoutput_batches(&rows, chrono_tz::America::Los_Angeles);
/// assert_eq!(batches, ["data=20260601,00:05,0,0,17,200;20260601,00:10,25,300,50,400"]);
/// ```
pub fn pvoutput_batches(intervals: &[Interval], tz: Tz) -> Vec<String> {
    let mut statuses = Vec::new();
    let mut day = None;
    let (mut generated, mut consumed) = (0.0, 0.0);
    let mut used_times = std::collections::HashSet::new();
    let mut whole_day = false;
    for interval in crate::intervals::latest(intervals) {
        let date = local_date(interval.interval_start, tz);
        if day != Some(date) {
            day = Some(date);
            generated = 0.0;
            consumed = 0.0;
            used_times.clear();
            // Seen from midnight when the interval before this first one is on the day before.
            let before =
                interval.interval_start - (interval.interval_end - interval.interval_start);
            whole_day = local_date(before, tz) != date;
        }
        generated += interval.production_wh;
        consumed += interval.consumption_wh.unwrap_or(0.0);
        let end = interval.interval_end.with_timezone(&tz);
        let (hour, minute) = if end.date_naive() == date {
            (end.hour(), end.minute())
        } else {
            (23, 59)
        };
        if !used_times.insert((hour, minute)) {
            continue;
        }
        let total = |wh: f64| {
            if whole_day {
                wh.round().to_string()
            } else {
                String::new()
            }
        };
        let mut status = format!(
            "{:04}{:02}{:02},{hour:02}:{minute:02},{},{}",
            date.year(),
            date.month(),
            date.day(),
            total(generated),
            interval.production_w.round(),
        );
        if let Some(power) = interval.consumption_w {
            let _ = write!(status, ",{},{}", total(consumed), power.round());
        }
        statuses.push(status);
    }
    statuses
        .chunks(PVOUTPUT_BATCH_MAX)
        .map(|chunk| format!("data={}", chunk.join(";")))
        .collect()
}

/// An interval paired with a zone, serializing to the jsonl row with `interval_start_local`
/// after `interval_start` (`serde` feature).
///
/// ```
/// use sunpower_proto::{export::LocalInterval, parse_line, IntervalAccumulator, IntervalConfig};
/// let mut acc = IntervalAccumulator::new(IntervalConfig::offline());
/// acc.add(&parse_line("130\t20260601170000\tINV1\tM\t\t100.000\t0.3").unwrap());
/// let row = acc.finish().remove(0);
/// let json = serde_json::to_string(&LocalInterval::new(&row, chrono_tz::UTC)).unwrap();
/// assert!(json.starts_with(
///     r#"{"interval_start":"2026-06-01T17:00:00Z","interval_start_local":"2026-06-01T17:00:00+00:00","#
/// ));
/// assert!(json.ends_with(r#""revised":false,"flags":["first_report","no_meter"]}"#));
/// ```
#[cfg(feature = "serde")]
#[derive(Debug, Clone, Copy)]
pub struct LocalInterval<'a> {
    interval: &'a Interval,
    tz: Tz,
}

#[cfg(feature = "serde")]
impl<'a> LocalInterval<'a> {
    /// Pairs a row with the zone of its `interval_start_local`.
    pub fn new(interval: &'a Interval, tz: Tz) -> Self {
        LocalInterval { interval, tz }
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for LocalInterval<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let local = local_rfc3339(self.interval.interval_start, self.tz);
        crate::intervals::serialize_interval(self.interval, Some(&local), serializer)
    }
}
