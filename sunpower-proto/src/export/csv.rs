//! The interval and period-total CSV files, written and read with the `csv` crate from the one
//! column list of each row kind ([`Interval::COLUMNS`], [`PeriodTotal::COLUMNS`]).
//!
//! The writer writes the list's header and order. The reader finds each column by its name in
//! the file's header, so it reads every header written so far: the current one and the one of
//! files written before the battery columns (a missing column that may be empty reads as empty).
//! Both work on in-memory buffers or any `io::Write`; nothing here opens a file.

use std::fmt::Write as _;
use std::io;
use std::marker::PhantomData;

use ::csv::{ByteRecord, ReaderBuilder, Terminator, WriterBuilder};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::local_rfc3339;
use crate::error::excerpt;
use crate::intervals::{Flags, Interval, NetSource, Period, PeriodTotal};
use crate::time::Rfc3339;
use crate::{parse_timestamp, FieldSpec, FieldType, FieldValue};

/// A row of our CSV files that could not be read: its line, the column (position in the row and
/// name from the header) and what was wrong.
///
/// ```
/// use sunpower_proto::export::CsvReader;
/// let text = "interval_start,interval_end,production_wh,production_w,net_source,inverters_reporting,revised,flags\n\
///             2026-06-01T17:00:00Z,2026-06-01T17:05:00Z,lots,0,none,1,false,\n";
/// let error = CsvReader::intervals(text.as_bytes()).unwrap().next().unwrap().unwrap_err();
/// assert_eq!((error.line, error.column, error.name.as_str()), (2, 2, "production_wh"));
/// assert_eq!(error.to_string(), r#"line 2: column 2 (production_wh): expected a number, found "lots""#);
/// ```
///
/// A row read from a file of a tree ([`crate::tree::merge`]) names the file too, before the
/// line: `2026/06/01.csv: line 2: ...`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}line {line}: {}{problem}", file.as_deref().map(|f| format!("{f}: ")).unwrap_or_default(),
    if name.is_empty() { String::new() } else { format!("column {column} ({name}): ") })]
#[non_exhaustive]
pub struct RowError {
    /// The file, relative to the tree's folder, when the row was read from a tree's file.
    pub file: Option<String>,
    /// Line number, from 1 (the header is line 1).
    pub line: u64,
    /// Position of the column in the row, from 0.
    pub column: usize,
    /// The column's name, as the file's header has it; empty when the problem is the whole line
    /// (a file too long to read), and the message then names no column.
    pub name: String,
    /// What was wrong, with the value found (at most 48 bytes of it).
    pub problem: String,
}

impl RowError {
    /// A problem with a whole line rather than one of its cells.
    pub(crate) fn whole_line(line: u64, problem: String) -> RowError {
        RowError {
            file: None,
            line,
            column: 0,
            name: String::new(),
            problem,
        }
    }
}

mod sealed {
    use super::{FieldValue, Row, RowError};
    use chrono_tz::Tz;

    /// What a row kind does for the CSV writer and reader.
    pub trait Sealed: Sized {
        /// The kind's columns, in file order.
        fn columns() -> &'static [crate::FieldSpec];
        /// Hands over the row's cells in the order of its columns.
        fn cells(&self, tz: Tz, put: &mut dyn FnMut(FieldValue<'_>));
        /// The row from the cells of one line, found by column name.
        fn read(row: &Row<'_>) -> Result<Self, RowError>;
    }
}

/// A row kind with a CSV file of its own: [`Interval`] (`YYYY/MM/DD.csv`, `sunpower intervals
/// --format csv`) and [`PeriodTotal`] (`daily.csv`, `monthly.csv`, `yearly.csv`). Their columns
/// are [`Interval::COLUMNS`] and [`PeriodTotal::COLUMNS`].
pub trait CsvRow: sealed::Sealed {}

impl CsvRow for Interval {}
impl CsvRow for PeriodTotal {}

impl sealed::Sealed for Interval {
    fn columns() -> &'static [FieldSpec] {
        Interval::COLUMNS
    }

    fn cells(&self, tz: Tz, put: &mut dyn FnMut(FieldValue<'_>)) {
        self.visit_output(Some(tz), |_, value| put(value));
    }

    fn read(row: &Row<'_>) -> Result<Self, RowError> {
        // `interval_start_local` is not read: it follows from the start and the zone.
        Ok(Interval {
            interval_start: row.time("interval_start")?,
            interval_end: row.time("interval_end")?,
            production_wh: row.number("production_wh")?,
            consumption_wh: row.maybe_number("consumption_wh")?,
            net_wh: row.maybe_number("net_wh")?,
            production_w: row.number("production_w")?,
            consumption_w: row.maybe_number("consumption_w")?,
            net_source: row.parse("net_source", "counter, power or none", NetSource::from_name)?,
            inverters_reporting: row.parse("inverters_reporting", "a count", |s| s.parse().ok())?,
            revised: row.parse("revised", "true or false", |s| s.parse().ok())?,
            flags: row.flags("flags")?,
            battery_wh: row.maybe_number("battery_wh")?,
            battery_soc_pct: row.maybe_number("battery_soc_pct")?,
        })
    }
}

impl sealed::Sealed for PeriodTotal {
    fn columns() -> &'static [FieldSpec] {
        PeriodTotal::COLUMNS
    }

    fn cells(&self, _: Tz, put: &mut dyn FnMut(FieldValue<'_>)) {
        use FieldValue::{Decimal, Flags, Text, Time, Unsigned};
        put(Text(Some(&self.label)));
        put(Time(Some(self.start)));
        put(Time(Some(self.end)));
        put(Decimal(Some(self.hours())));
        put(Decimal(Some(self.production_wh)));
        put(Decimal(self.consumption_wh));
        put(Decimal(self.net_wh));
        put(Unsigned(Some(self.intervals.into())));
        put(Flags(self.flags));
    }

    fn read(row: &Row<'_>) -> Result<Self, RowError> {
        // `hours` is not read: it follows from the start and the end.
        let (period, label) = row.parse("period", "YYYY-MM-DD, YYYY-MM or YYYY", |s| {
            Some((period_of(s)?, s.to_owned()))
        })?;
        Ok(PeriodTotal {
            period,
            label,
            start: row.time("start")?,
            end: row.time("end")?,
            production_wh: row.number("production_wh")?,
            consumption_wh: row.maybe_number("consumption_wh")?,
            net_wh: row.maybe_number("net_wh")?,
            intervals: row.parse("intervals", "a count", |s| s.parse().ok())?,
            flags: row.flags("flags")?,
        })
    }
}

/// The kind of period a label names (`2026-06-01`, `2026-06`, `2026`).
fn period_of(label: &str) -> Option<Period> {
    let b = label.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    match b.len() {
        4 if digits(0..4) => Some(Period::Year),
        7 if digits(0..4) && b[4] == b'-' && digits(5..7) => Some(Period::Month),
        10 if digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10) => {
            Some(Period::Day)
        }
        _ => None,
    }
}

/// Writes rows of one kind as CSV: the header of the kind's column list (before the first row,
/// or alone when there is none), then one line per row, each ending in LF. Numbers have at most
/// three decimals and no trailing zeros, so a row's text depends
/// only on its values (the `--tree` files rely on that to be idempotent).
///
/// Rows are buffered: [`CsvWriter::flush`] hands them to the inner writer (a live run does after
/// each batch), [`CsvWriter::into_inner`] returns it when done.
///
/// ```
/// # use sunpower_proto::parse_line;
/// # use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
/// # let mut acc = IntervalAccumulator::new(IntervalConfig::default());
/// # for line in ["130\t20260601170000\tINV1\tM\t\t100.000\t0.3",
/// #              "130\t20260601170500\tINV1\tM\t\t100.025\t0.3"] {
/// #     acc.add(&parse_line(line).unwrap());
/// # }
/// # let rows = acc.finish();
/// // `rows`: the intervals of 17:00 (an inverter's first report) and 17:05 (25 Wh), UTC.
/// use sunpower_proto::export::CsvWriter;
/// let mut writer = CsvWriter::intervals(Vec::new(), chrono_tz::UTC);
/// for row in &rows {
///     writer.write(row).unwrap();
/// }
/// let text = String::from_utf8(writer.into_inner().unwrap()).unwrap();
/// let lines: Vec<&str> = text.lines().collect();
/// assert_eq!(lines[0], "interval_start,interval_start_local,interval_end,production_wh,\
///     consumption_wh,net_wh,production_w,consumption_w,net_source,inverters_reporting,revised,\
///     flags,battery_wh,battery_soc_pct");
/// assert_eq!(lines[2], "2026-06-01T17:05:00Z,2026-06-01T17:05:00+00:00,2026-06-01T17:10:00Z,\
///     25,,,300,,none,1,false,no_meter,,");
/// ```
#[derive(Debug)]
pub struct CsvWriter<W: io::Write, T: CsvRow> {
    csv: ::csv::Writer<W>,
    tz: Tz,
    header_written: bool,
    record: ByteRecord,
    cell: String,
    row: PhantomData<fn(&T)>,
}

impl<W: io::Write> CsvWriter<W, Interval> {
    /// A writer of interval rows, their `interval_start_local` in zone `tz`.
    ///
    /// ```
    /// use sunpower_proto::export::CsvWriter;
    /// let writer = CsvWriter::intervals(Vec::new(), chrono_tz::UTC);
    /// let text = writer.into_inner().unwrap();
    /// assert!(text.starts_with(b"interval_start,interval_start_local,"));
    /// ```
    pub fn intervals(out: W, tz: Tz) -> Self {
        CsvWriter::new(out, tz)
    }
}

impl<W: io::Write> CsvWriter<W, PeriodTotal> {
    /// A writer of period totals.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use sunpower_proto::export::CsvWriter;
    /// use sunpower_proto::intervals::{Period, PeriodTotal};
    /// let day = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    /// let mut writer = CsvWriter::totals(Vec::new());
    /// writer.write(&PeriodTotal::empty(Period::Day, day, chrono_tz::America::Los_Angeles)).unwrap();
    /// assert_eq!(
    ///     String::from_utf8(writer.into_inner().unwrap()).unwrap(),
    ///     "period,start,end,hours,production_wh,consumption_wh,net_wh,intervals,flags\n\
    ///      2026-11-01,2026-11-01T07:00:00Z,2026-11-02T08:00:00Z,25,0,,,0,\n"
    /// );
    /// ```
    pub fn totals(out: W) -> Self {
        CsvWriter::new(out, Tz::UTC)
    }
}

impl<W: io::Write, T: CsvRow> CsvWriter<W, T> {
    fn new(out: W, tz: Tz) -> Self {
        CsvWriter {
            csv: WriterBuilder::new()
                .has_headers(false)
                .terminator(Terminator::Any(b'\n'))
                .from_writer(out),
            tz,
            header_written: false,
            record: ByteRecord::new(),
            cell: String::new(),
            row: PhantomData,
        }
    }

    fn header(&mut self) -> io::Result<()> {
        if !self.header_written {
            self.csv.write_record(T::columns().iter().map(|c| c.name))?;
            self.header_written = true;
        }
        Ok(())
    }

    /// Writes one row (the header first, before the first row).
    ///
    /// ```
    /// # use sunpower_proto::parse_line;
    /// # use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
    /// # let mut acc = IntervalAccumulator::new(IntervalConfig::default());
    /// # acc.add(&parse_line("130\t20260601170000\tINV1\tM\t\t100.000\t0.3").unwrap());
    /// # let rows = acc.finish();
    /// use sunpower_proto::export::CsvWriter;
    /// let mut writer = CsvWriter::intervals(Vec::new(), chrono_tz::America::Los_Angeles);
    /// writer.write(&rows[0]).unwrap();
    /// let text = String::from_utf8(writer.into_inner().unwrap()).unwrap();
    /// assert!(text.ends_with("\n2026-06-01T17:00:00Z,2026-06-01T10:00:00-07:00,2026-06-01T17:05:00Z,0,,,0,,none,1,false,first_report|no_meter,,\n"));
    /// ```
    pub fn write(&mut self, row: &T) -> io::Result<()> {
        self.header()?;
        let (record, cell) = (&mut self.record, &mut self.cell);
        record.clear();
        let mut columns = T::columns().iter();
        row.cells(self.tz, &mut |value| {
            let decimals = columns.next().map_or(3, |c| c.decimals);
            cell.clear();
            write_cell(cell, value, decimals);
            record.push_field(cell.as_bytes());
        });
        debug_assert_eq!(record.len(), T::columns().len());
        self.csv.write_byte_record(record)?;
        Ok(())
    }

    /// Hands what was written to the inner writer (the header too, if no row came yet) and
    /// flushes it.
    ///
    /// ```
    /// use sunpower_proto::export::CsvWriter;
    /// let mut out = Vec::new();
    /// CsvWriter::totals(&mut out).flush().unwrap();
    /// assert_eq!(out, b"period,start,end,hours,production_wh,consumption_wh,net_wh,intervals,flags\n");
    /// ```
    pub fn flush(&mut self) -> io::Result<()> {
        self.header()?;
        self.csv.flush()
    }

    /// Flushes and returns the inner writer.
    ///
    /// ```
    /// use sunpower_proto::export::CsvWriter;
    /// let out = CsvWriter::totals(Vec::new()).into_inner().unwrap();
    /// assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1); // the header
    /// ```
    pub fn into_inner(mut self) -> io::Result<W> {
        self.header()?;
        self.csv.into_inner().map_err(|e| e.into_error())
    }
}

fn write_cell(out: &mut String, cell: FieldValue<'_>, decimals: u8) {
    // Writing into a String cannot fail.
    let _ = match cell {
        FieldValue::Time(Some(t)) => write!(out, "{}", Rfc3339(t)),
        FieldValue::LocalTime(t, tz) => {
            out.push_str(&local_rfc3339(t, tz));
            Ok(())
        }
        FieldValue::Decimal(Some(x)) => {
            push_fixed(out, x, decimals);
            Ok(())
        }
        FieldValue::Text(Some(s)) => {
            out.push_str(s);
            Ok(())
        }
        FieldValue::Unsigned(Some(n)) => write!(out, "{n}"),
        FieldValue::Integer(Some(n)) => write!(out, "{n}"),
        FieldValue::Bool(b) => write!(out, "{b}"),
        FieldValue::Flags(flags) => write!(out, "{flags}"),
        // None: an empty cell. (A record's `raw` is not a cell of these files.)
        _ => Ok(()),
    };
}

/// `x` with `decimals` decimals, trailing zeros (and a trailing point) dropped, `-0` as `0`.
fn push_fixed(out: &mut String, x: f64, decimals: u8) {
    let start = out.len();
    let _ = write!(out, "{x:.*}", usize::from(decimals));
    if out[start..].contains('.') {
        while out.ends_with('0') {
            out.pop();
        }
        if out.ends_with('.') {
            out.pop();
        }
    }
    if &out[start..] == "-0" {
        out.truncate(start);
        out.push('0');
    }
}

/// Reads rows of one kind back from CSV text, each column found by its name in the file's header
/// (the first line that is not blank): every header written so far reads, the current one and
/// the one before the battery columns (whose battery values read as empty). A column the kind
/// does not know, or a column missing that cannot be empty, is an error of the header; blank
/// lines are skipped, and a header line further on (files joined) gives the columns of the rows
/// after it.
///
/// An iterator of rows, each a row or the error of its line; the lines after a bad one are read
/// as usual. One record buffer serves every line.
///
/// ```
/// use sunpower_proto::export::CsvReader;
/// use sunpower_proto::intervals::Flag;
/// // A file written before the battery columns.
/// let text = "interval_start,interval_start_local,interval_end,production_wh,consumption_wh,\
///     net_wh,production_w,consumption_w,net_source,inverters_reporting,revised,flags\n\
///     2026-06-01T17:00:00Z,2026-06-01T10:00:00-07:00,2026-06-01T17:05:00Z,0,,,0,,none,1,false,first_report|no_meter\n";
/// let rows: Vec<_> = CsvReader::intervals(text.as_bytes()).unwrap().collect::<Result<_, _>>().unwrap();
/// assert_eq!(rows.len(), 1);
/// assert!(rows[0].flags.contains(Flag::FirstReport));
/// assert_eq!((rows[0].battery_wh, rows[0].battery_soc_pct), (None, None));
/// ```
#[derive(Debug)]
pub struct CsvReader<'a, T: CsvRow> {
    csv: ::csv::Reader<&'a [u8]>,
    text: &'a [u8],
    /// A byte offset of `text` and the number of its line, for counting lines on from there.
    counted: (usize, u64),
    header: ByteRecord,
    /// For each of the kind's columns, its position in the file's rows.
    positions: Vec<Option<usize>>,
    record: ByteRecord,
    row: PhantomData<fn() -> T>,
}

impl<'a> CsvReader<'a, Interval> {
    /// A reader of interval rows (`YYYY/MM/DD.csv`, `sunpower intervals --format csv`); an
    /// error when the header has a column an interval row does not have, or lacks one it needs.
    ///
    /// ```
    /// use sunpower_proto::export::CsvReader;
    /// let error = CsvReader::intervals(b"interval_start,colour\n".as_slice()).unwrap_err();
    /// assert_eq!(error.to_string(), "line 1: column 1 (colour): unknown column");
    /// assert!(CsvReader::intervals(b"".as_slice()).unwrap().next().is_none());
    /// ```
    pub fn intervals(text: &'a [u8]) -> Result<Self, RowError> {
        CsvReader::new(text)
    }
}

impl<'a> CsvReader<'a, PeriodTotal> {
    /// A reader of period totals (`daily.csv`, `monthly.csv`, `yearly.csv`); the kind of period
    /// of each row follows from its label.
    ///
    /// ```
    /// use sunpower_proto::export::CsvReader;
    /// use sunpower_proto::intervals::Period;
    /// let text = "period,start,end,hours,production_wh,consumption_wh,net_wh,intervals,flags\n\
    ///             2026-03,2026-03-01T08:00:00Z,2026-04-01T07:00:00Z,743,1200.5,,,8916,\n\
    ///             2026-04,yesterday,2026-05-01T07:00:00Z,720,0,,,0,\n";
    /// let mut rows = CsvReader::totals(text.as_bytes()).unwrap();
    /// let march = rows.next().unwrap().unwrap();
    /// assert_eq!((march.period, march.label.as_str(), march.production_wh), (Period::Month, "2026-03", 1200.5));
    /// let error = rows.next().unwrap().unwrap_err();
    /// assert_eq!((error.line, error.name.as_str()), (3, "start"));
    /// ```
    pub fn totals(text: &'a [u8]) -> Result<Self, RowError> {
        CsvReader::new(text)
    }
}

impl<'a, T: CsvRow> CsvReader<'a, T> {
    fn new(text: &'a [u8]) -> Result<Self, RowError> {
        let mut reader = CsvReader {
            csv: ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(text),
            text,
            counted: (0, 1),
            header: ByteRecord::new(),
            positions: vec![None; T::columns().len()],
            record: ByteRecord::new(),
            row: PhantomData,
        };
        loop {
            match reader.csv.read_byte_record(&mut reader.header) {
                Ok(false) => return Ok(reader), // an empty file: no rows
                Ok(true) if is_blank(&reader.header) => continue,
                Ok(true) => break,
                Err(e) => return Err(csv_error(&e)),
            }
        }
        reader.map_header()?;
        Ok(reader)
    }

    /// Finds each of the kind's columns in `self.header`, the header just read.
    fn map_header(&mut self) -> Result<(), RowError> {
        let line = line_of(self.text, &mut self.counted, &self.header);
        let error = |column: usize, name: &[u8], problem: &str| RowError {
            file: None,
            line,
            column,
            name: excerpt(&String::from_utf8_lossy(name)),
            problem: problem.to_owned(),
        };
        self.positions.iter_mut().for_each(|p| *p = None);
        for (position, name) in self.header.iter().enumerate() {
            let Some(k) = T::columns().iter().position(|c| c.name.as_bytes() == name) else {
                return Err(error(position, name, "unknown column"));
            };
            if self.positions[k].replace(position).is_some() {
                return Err(error(position, name, "repeated column"));
            }
        }
        for (column, position) in T::columns().iter().zip(&self.positions) {
            let needed = !column.nullable && column.field_type != FieldType::LocalTime;
            if position.is_none() && needed {
                let name = column.name.as_bytes();
                return Err(error(self.header.len(), name, "missing from the header"));
            }
        }
        Ok(())
    }

    /// Whether the line just read is a header: its first cell is a column's name, which no
    /// value is.
    fn is_header(&self) -> bool {
        let first = self.record.get(0).unwrap_or_default();
        T::columns().iter().any(|c| c.name.as_bytes() == first)
    }
}

impl<T: CsvRow> Iterator for CsvReader<'_, T> {
    type Item = Result<T, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.csv.read_byte_record(&mut self.record) {
                Ok(false) => return None,
                Ok(true) if is_blank(&self.record) => continue,
                // A header again (files joined): the rows after it have its columns.
                Ok(true) if self.is_header() => {
                    std::mem::swap(&mut self.header, &mut self.record);
                    if let Err(e) = self.map_header() {
                        return Some(Err(e));
                    }
                }
                Ok(true) => break,
                Err(e) => return Some(Err(csv_error(&e))),
            }
        }
        let line = line_of(self.text, &mut self.counted, &self.record);
        let row = Row {
            record: &self.record,
            header: &self.header,
            positions: &self.positions,
            columns: T::columns(),
            line,
        };
        if self.record.len() != self.header.len() {
            let column = self.record.len().min(self.header.len().saturating_sub(1));
            let problem = format!(
                "expected {} columns, found {}",
                self.header.len(),
                self.record.len()
            );
            return Some(Err(row.error(column, problem)));
        }
        Some(T::read(&row))
    }
}

fn is_blank(record: &ByteRecord) -> bool {
    record.len() <= 1 && record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace))
}

/// The line `record` (the last one read from `text`) starts on, counted on from `counted` (a
/// byte offset and its line). The csv crate's own line numbers leave out blank lines before the
/// first record, and its byte offset is the end of the record before (blank lines after it
/// included): the record starts after those line ends.
fn line_of(text: &[u8], counted: &mut (usize, u64), record: &ByteRecord) -> u64 {
    let mut start = record.position().map_or(0, |p| p.byte()) as usize;
    while matches!(text.get(start), Some(b'\r' | b'\n')) {
        start += 1;
    }
    let start = start.min(text.len());
    if start < counted.0 {
        *counted = (0, 1);
    }
    let (from, line) = *counted;
    let line = line + memchr::memchr_iter(b'\n', &text[from..start]).count() as u64;
    *counted = (start, line);
    line
}

fn csv_error(e: &::csv::Error) -> RowError {
    RowError {
        file: None,
        line: e.position().map_or(0, |p| p.line()),
        column: 0,
        name: String::new(),
        problem: e.to_string(),
    }
}

/// One line's cells, found by column name.
#[derive(Debug)]
pub struct Row<'r> {
    record: &'r ByteRecord,
    header: &'r ByteRecord,
    positions: &'r [Option<usize>],
    columns: &'static [FieldSpec],
    line: u64,
}

impl Row<'_> {
    fn error(&self, column: usize, problem: String) -> RowError {
        let name = self.header.get(column).unwrap_or_default();
        RowError {
            file: None,
            line: self.line,
            column,
            name: String::from_utf8_lossy(name).into_owned(),
            problem,
        }
    }

    /// The named column's position and text; `None` when the file has no such column.
    fn cell(&self, name: &str) -> Option<(usize, &[u8])> {
        let k = self.columns.iter().position(|c| c.name == name)?;
        let position = self.positions[k]?;
        Some((position, self.record.get(position).unwrap_or_default()))
    }

    /// The named column's value through `read`, an error naming `expected` when it has none.
    fn parse<V>(
        &self,
        name: &str,
        expected: &str,
        read: impl FnOnce(&str) -> Option<V>,
    ) -> Result<V, RowError> {
        let Some((position, bytes)) = self.cell(name) else {
            // Only columns that may be empty can be missing (the header was checked).
            let problem = "missing from the header".to_owned();
            return Err(self.error(self.header.len(), problem));
        };
        let text = std::str::from_utf8(bytes).ok();
        text.and_then(read).ok_or_else(|| {
            let found = excerpt(&String::from_utf8_lossy(bytes));
            self.error(position, format!("expected {expected}, found {found:?}"))
        })
    }

    fn time(&self, name: &str) -> Result<DateTime<Utc>, RowError> {
        self.parse(name, "a UTC time (YYYY-MM-DDThh:mm:ssZ)", rfc3339_utc)
    }

    fn number(&self, name: &str) -> Result<f64, RowError> {
        self.parse(name, "a number", |s| {
            s.parse().ok().filter(|x: &f64| x.is_finite())
        })
    }

    /// A number, `None` for an empty cell or a column the file does not have.
    fn maybe_number(&self, name: &str) -> Result<Option<f64>, RowError> {
        match self.cell(name) {
            None | Some((_, b"")) => Ok(None),
            Some(_) => self.number(name).map(Some),
        }
    }

    fn flags(&self, name: &str) -> Result<Flags, RowError> {
        self.parse(name, "flag names joined by |", Flags::parse)
    }
}

fn rfc3339_utc(text: &str) -> Option<DateTime<Utc>> {
    // Only the `YYYY-MM-DDThh:mm:ssZ` form the writer writes.
    let digits: String = text
        .strip_suffix('Z')?
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    (text.len() == 20).then_some(())?;
    parse_timestamp(&digits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intervals::Flag;
    use chrono::TimeZone;

    const V1_HEADER: &str = "interval_start,interval_start_local,interval_end,production_wh,\
        consumption_wh,net_wh,production_w,consumption_w,net_source,inverters_reporting,revised,flags";

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 8, h, m, 0).unwrap()
    }

    fn interval(h: u32, m: u32) -> Interval {
        Interval {
            interval_start: at(h, m),
            interval_end: at(h, m) + chrono::TimeDelta::minutes(5),
            production_wh: 12.345,
            consumption_wh: None,
            net_wh: None,
            production_w: 148.14,
            consumption_w: None,
            battery_wh: None,
            battery_soc_pct: None,
            net_source: NetSource::None,
            inverters_reporting: 3,
            flags: Flags::empty(),
            revised: false,
        }
    }

    fn write_all<T: CsvRow>(mut writer: CsvWriter<Vec<u8>, T>, rows: &[T]) -> String {
        for row in rows {
            writer.write(row).unwrap();
        }
        String::from_utf8(writer.into_inner().unwrap()).unwrap()
    }

    fn read_all<T: CsvRow>(reader: Result<CsvReader<'_, T>, RowError>) -> Vec<T> {
        reader.unwrap().collect::<Result<_, _>>().unwrap()
    }

    #[test]
    fn rows_with_empty_values_flags_and_local_times_read_back_equal() {
        let mut full = interval(9, 55); // 01:55 in Los Angeles, before the clocks go forward
        full.consumption_wh = Some(40.0);
        full.net_wh = Some(-0.001);
        full.consumption_w = Some(480.0);
        full.battery_wh = Some(-250.5);
        full.battery_soc_pct = Some(86.13);
        full.net_source = NetSource::Counter;
        full.revised = true;
        full.flags.insert(Flag::Revised);
        full.flags.insert(Flag::MissedReport);
        let mut after = interval(10, 0); // 03:00, after
        after.flags.insert(Flag::NoMeter);
        let rows = [full, after];
        let text = write_all(
            CsvWriter::intervals(Vec::new(), chrono_tz::America::Los_Angeles),
            &rows,
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[1],
            "2026-03-08T09:55:00Z,2026-03-08T01:55:00-08:00,2026-03-08T10:00:00Z,12.345,40,\
             -0.001,148.14,480,counter,3,true,missed_report|revised,-250.5,86.13"
        );
        assert_eq!(
            lines[2],
            "2026-03-08T10:00:00Z,2026-03-08T03:00:00-07:00,2026-03-08T10:05:00Z,12.345,,,\
             148.14,,none,3,false,no_meter,,"
        );
        assert_eq!(read_all(CsvReader::intervals(text.as_bytes())), rows);
    }

    #[test]
    fn a_v1_file_and_a_current_file_read_the_same_rows() {
        let mut row = interval(17, 0);
        row.flags.insert(Flag::FirstReport);
        let current = write_all(CsvWriter::intervals(Vec::new(), Tz::UTC), &[row.clone()]);
        let v1 = format!(
            "{V1_HEADER}\r\n2026-03-08T17:00:00Z,2026-03-08T17:00:00+00:00,2026-03-08T17:05:00Z,\
             12.345,,,148.14,,none,3,false,first_report\r\n\r\n"
        );
        assert_eq!(
            read_all(CsvReader::intervals(current.as_bytes())),
            [row.clone()]
        );
        assert_eq!(read_all(CsvReader::intervals(v1.as_bytes())), [row.clone()]);
        let joined = format!("{current}{v1}");
        let two = [row.clone(), row.clone()];
        assert_eq!(read_all(CsvReader::intervals(joined.as_bytes())), two);
        // Columns are found by name, in any order; a repeated header is skipped.
        let moved = "flags,revised,inverters_reporting,net_source,production_w,production_wh,\
                     interval_end,interval_start\n\
                     first_report,false,3,none,148.14,12.345,2026-03-08T17:05:00Z,2026-03-08T17:00:00Z\n\
                     flags,revised,inverters_reporting,net_source,production_w,production_wh,\
                     interval_end,interval_start\n";
        assert_eq!(read_all(CsvReader::intervals(moved.as_bytes())), [row]);
    }

    #[test]
    fn a_bad_value_names_its_line_and_column() {
        let text = format!(
            "\n{V1_HEADER}\r\n\r\n2026-03-08T17:00:00Z,x,2026-03-08T17:05:00Z,1.5,,,18,,none,3,false,\n\
             2026-03-08T17:05:00Z,x,2026-03-08T17:10:00Z,1.5,,NaN,18,,none,3,false,\n\
             2026-03-08T17:10:00Z,x,2026-03-08T17:15:00Z,1.5,,,18,,none,3,maybe,\n\
             2026-03-08T17:15:00Z,x,2026-03-08T17:20:00Z,1.5,,,18,,none,3,false,bogus\n\
             2026-03-08T17:20:00Z,x,2026-03-08T17:25:00Z\n"
        );
        let errors: Vec<String> = CsvReader::intervals(text.as_bytes())
            .unwrap()
            .filter_map(Result::err)
            .map(|e| e.to_string())
            .collect();
        assert_eq!(
            errors,
            [
                r#"line 5: column 5 (net_wh): expected a number, found "NaN""#,
                r#"line 6: column 10 (revised): expected true or false, found "maybe""#,
                r#"line 7: column 11 (flags): expected flag names joined by |, found "bogus""#,
                "line 8: column 3 (production_wh): expected 12 columns, found 3",
            ]
        );
    }

    #[test]
    fn a_header_without_a_needed_column_or_with_an_unknown_one_is_refused() {
        let error = CsvReader::intervals(b"interval_start,interval_end\n".as_slice()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "line 1: column 2 (production_wh): missing from the header"
        );
        let error = CsvReader::totals(b"\nperiod,period\n".as_slice()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "line 2: column 1 (period): repeated column"
        );
    }

    #[test]
    fn period_totals_read_back_with_the_period_of_their_label() {
        let tz = chrono_tz::America::Los_Angeles;
        let date = chrono::NaiveDate::from_ymd_opt(2026, 3, 8).unwrap();
        let mut rows: Vec<PeriodTotal> = [Period::Day, Period::Month, Period::Year]
            .into_iter()
            .map(|p| PeriodTotal::empty(p, date, tz))
            .collect();
        rows[0].consumption_wh = Some(1.0004);
        rows[0].flags.insert(Flag::NoMeter);
        let text = write_all(CsvWriter::totals(Vec::new()), &rows);
        assert_eq!(
            text.lines().nth(1),
            Some("2026-03-08,2026-03-08T08:00:00Z,2026-03-09T07:00:00Z,23,0,1,,0,no_meter")
        );
        rows[0].consumption_wh = Some(1.0); // as written
        assert_eq!(read_all(CsvReader::totals(text.as_bytes())), rows);
        let bad = "period,start,end,hours,production_wh,consumption_wh,net_wh,intervals,flags\n\
                   March,2026-03-01T08:00:00Z,2026-04-01T07:00:00Z,743,0,,,0,\n";
        let error = CsvReader::totals(bad.as_bytes())
            .unwrap()
            .next()
            .unwrap()
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            r#"line 2: column 0 (period): expected YYYY-MM-DD, YYYY-MM or YYYY, found "March""#
        );
    }

    #[test]
    fn numbers_keep_three_decimals_or_the_columns_own() {
        let fixed = |x: f64, d: u8| {
            let mut s = String::new();
            push_fixed(&mut s, x, d);
            s
        };
        assert_eq!(fixed(12.5, 3), "12.5");
        assert_eq!(fixed(25.0, 3), "25");
        assert_eq!(fixed(-0.0004, 3), "0");
        assert_eq!(fixed(86.13, 3), "86.13"); // a state of charge, percent
        assert_eq!(fixed(0.86, 4), "0.86");
        assert_eq!(fixed(0.123456, 4), "0.1235");
        assert_eq!(fixed(-0.00001, 4), "0");
    }

    #[test]
    fn the_header_is_the_column_list() {
        let header = |text: String| text.lines().next().unwrap().to_owned();
        let names =
            |columns: &[FieldSpec]| columns.iter().map(|c| c.name).collect::<Vec<_>>().join(",");
        let intervals = header(write_all(CsvWriter::intervals(Vec::new(), Tz::UTC), &[]));
        assert_eq!(intervals, names(Interval::COLUMNS));
        assert_eq!(
            header(write_all(CsvWriter::totals(Vec::new()), &[])),
            names(PeriodTotal::COLUMNS)
        );
        // The V1 header is the list up to the battery columns, which came after it.
        assert!(intervals.starts_with(V1_HEADER));
    }
}
