//! `sunpower intervals`: energy per interval, and per local day, month and year.

use std::io::{self, Write};
use std::path::PathBuf;

use chrono::TimeDelta;
use clap::ValueEnum;
use sunpower_pcap::records::RecordEvent;
use sunpower_proto::export::{self, CsvWriter, PvOutputEncoder};
use sunpower_proto::intervals::{Interval, IntervalAccumulator, IntervalConfig, Tz};
use sunpower_proto::{JsonLines, ProblemLog};
use sunpower_store::tree;

use crate::capture::{drive, CaptureArgs};
use crate::documents::{Documents, Item};
use crate::output::Stderr;
use crate::parquet::IntervalsFile;
use crate::Outcome;

/// Output formats of `sunpower intervals`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One CSV row per interval, with a header.
    Csv,
    /// One JSON object per interval.
    Jsonl,
    /// PVOutput `addbatchstatus` lines (`data=...`, at most 30 statuses each).
    Pvoutput,
    /// One Parquet file (--output FILE), the columns of the jsonl rows.
    Parquet,
}

/// Arguments of `sunpower intervals`.
#[derive(Debug, Clone, clap::Args)]
#[command(group(clap::ArgGroup::new("sources").required(true).multiple(true)
    .args(["inputs", "bodies", "devicelists", "vars", "telemetry"])))]
pub struct IntervalsArgs {
    /// Capture files (as for `decode`), or `-` for a live capture on standard input.
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<String>,
    #[command(flatten)]
    pub documents: Documents,
    /// IANA time zone for local days, months and years (default: the system's).
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Output format (not with --tree, which writes CSV files).
    #[arg(long, value_enum, default_value_t = Format::Csv, conflicts_with = "tree")]
    pub format: Format,
    /// Merge into the `YYYY/MM/DD.csv`, `YYYY/MM/daily.csv`, `YYYY/monthly.csv`, `yearly.csv`
    /// tree under DIR instead of printing.
    #[arg(long, value_name = "DIR")]
    pub tree: Option<PathBuf>,
    /// The file to write, for --format parquet.
    #[arg(
        long,
        value_name = "FILE",
        required_if_eq("format", "parquet"),
        conflicts_with = "tree"
    )]
    pub output: Option<PathBuf>,
    /// Live input: minutes of capture time after an interval's end before it is emitted even if
    /// some device has not reported.
    #[arg(long, value_name = "MINUTES", default_value_t = 15)]
    pub lateness: u32,
    /// Decode the body of every POST request, not only those to `.../SMS2DataCollector.aspx`.
    #[arg(long)]
    pub all_posts: bool,
}

/// `--tz ZONE`, else the system's zone; `None` (said on stderr) for a name that is not an IANA
/// zone, a usage error of every command that takes it.
pub fn zone(name: Option<&str>) -> Option<Tz> {
    match name {
        Some(name) => name.parse::<Tz>().ok().or_else(|| {
            eprintln!("sunpower: --tz {name}: not an IANA time zone name");
            None
        }),
        None => Some(system_zone()),
    }
}

/// The system's IANA zone: `TZ`, else what the platform reports; UTC when neither is known.
fn system_zone() -> Tz {
    let name = std::env::var("TZ")
        .ok()
        .map(|tz| tz.trim_start_matches(':').to_string())
        .filter(|tz| !tz.is_empty())
        .or_else(|| iana_time_zone::get_timezone().ok());
    match name.as_deref().map(str::parse::<Tz>) {
        Some(Ok(tz)) => tz,
        _ => {
            eprintln!("sunpower: system time zone unknown; using UTC (set --tz)");
            Tz::UTC
        }
    }
}

type Stdout = io::StdoutLock<'static>;

/// Standard output: through the CSV writer (its header before the first row, or alone), or the
/// JSON Lines writer (also a buffered writer, for PVOutput's lines).
enum Out {
    Csv(Box<CsvWriter<Stdout, Interval>>),
    Plain(JsonLines<Stdout>),
}

/// Writes intervals as they are emitted, in the chosen format.
struct RowWriter {
    format: Format,
    tz: Tz,
    out: Out,
    /// PVOutput: each local day's running totals, across the batches of a live run.
    pvoutput: PvOutputEncoder,
    /// Parquet: the file being written.
    parquet: Option<IntervalsFile>,
}

impl RowWriter {
    fn write(&mut self, rows: &[Interval]) -> io::Result<()> {
        match (&mut self.out, self.format) {
            (Out::Csv(csv), _) => {
                for row in rows {
                    csv.write(row)?;
                }
            }
            (Out::Plain(out), Format::Jsonl) => {
                for row in rows {
                    out.write_interval(row, Some(self.tz))?;
                }
            }
            (Out::Plain(out), Format::Pvoutput) => {
                let statuses = self.pvoutput.push(rows);
                for line in export::pvoutput_payloads(&statuses) {
                    writeln!(out, "{line}")?;
                }
            }
            (Out::Plain(_), Format::Parquet) => {
                if let Some(file) = &mut self.parquet {
                    file.write(rows)?;
                }
            }
            // --tree: the rows go to the tree's files.
            (Out::Plain(_), Format::Csv) => {}
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.out {
            Out::Csv(csv) => csv.flush(),
            Out::Plain(out) => out.flush(),
        }
    }
}

/// Prints the accumulator's pending events, at most [`sunpower_proto::SHOWN_PER_KIND`] of each
/// kind over the run (the rest counted in `log`'s summary), so 4 Hz telemetry full of
/// duplicates cannot flood the terminal.
fn report_events(acc: &mut IntervalAccumulator, log: &mut ProblemLog) {
    for event in acc.take_events() {
        if log.admit(event.kind()) {
            eprintln!("sunpower: {event}");
        }
    }
}

/// The library's preset for inputs read offline, as `intervals`, `health` and `report` read
/// them: a capture's (with its clock), a telemetry stream's (both keep 35 days, so that a long
/// input is held in constant memory), else the documents' (every interval kept to the end).
pub fn preset(inputs: &[String], documents: &Documents) -> IntervalConfig {
    if !inputs.is_empty() {
        IntervalConfig::captures()
    } else if documents.telemetry.is_some() {
        IntervalConfig::telemetry()
    } else {
        IntervalConfig::documents()
    }
}

/// Offline, moves the intervals that became final (out of the horizon) to `final_rows`, and
/// writes them out by whole chunks (all at the end with --tree).
fn write_final(
    acc: &mut IntervalAccumulator,
    final_rows: &mut Vec<Interval>,
    writer: &mut RowWriter,
    tree: bool,
) -> io::Result<()> {
    final_rows.extend(acc.drain_ready());
    if !tree && final_rows.len() >= OFFLINE_CHUNK_ROWS {
        // Whole chunks only, so that no PVOutput line but the last is short.
        let whole = final_rows.len() / OFFLINE_CHUNK_ROWS * OFFLINE_CHUNK_ROWS;
        let rest = final_rows.split_off(whole);
        writer.write(final_rows)?;
        *final_rows = rest;
    }
    Ok(())
}

/// Offline, final intervals are written out by this many: a multiple of PVOutput's 30 statuses
/// a request, so that the lines stay full (as many requests as from one batch at the end).
const OFFLINE_CHUNK_ROWS: usize = 32 * 30;

pub fn run(args: &IntervalsArgs) -> io::Result<Outcome> {
    let Some(tz) = zone(args.tz.as_deref()) else {
        return Ok(Outcome::Usage);
    };
    let live =
        (args.inputs.iter().any(|i| i == "-") || args.documents.live()) && args.tree.is_none();
    // The library's presets, as Python's `Intervals` uses them.
    let config = if live {
        IntervalConfig::live(TimeDelta::minutes(i64::from(args.lateness)))
    } else {
        preset(&args.inputs, &args.documents)
    };
    let parquet = match (args.format, &args.output) {
        (Format::Parquet, Some(path)) => match IntervalsFile::create(path.clone(), tz) {
            Ok(file) => Some(file),
            Err(e) if e.kind() == io::ErrorKind::Unsupported => {
                eprintln!("sunpower: {e}");
                return Ok(Outcome::Usage);
            }
            // The error names the file itself.
            Err(e) => {
                eprintln!("sunpower: {e}");
                return Ok(Outcome::Unreadable);
            }
        },
        (_, Some(_)) => {
            eprintln!(
                "sunpower: --output is for --format parquet (the others go to standard output)"
            );
            return Ok(Outcome::Usage);
        }
        (_, None) => None,
    };
    let mut acc = IntervalAccumulator::new(config);
    let stdout = io::stdout().lock();
    let mut writer = RowWriter {
        format: args.format,
        tz,
        out: match (args.format, &args.tree) {
            (Format::Csv, None) => Out::Csv(Box::new(CsvWriter::intervals(stdout, tz))),
            _ => Out::Plain(JsonLines::new(stdout)),
        },
        pvoutput: PvOutputEncoder::new(tz),
        parquet,
    };
    let mut outcome = Outcome::Read;
    let mut log = ProblemLog::default();
    let mut line_errors = 0u64;
    // Offline from captures or telemetry, the intervals that became final, written out in
    // chunks (all at the end with --tree).
    let mut final_rows = Vec::new();

    let read = args.documents.read(&mut log, |item| match item {
        Item::Record(record) => {
            acc.add(record);
        }
        Item::Battery(battery) => {
            acc.add_battery(battery);
        }
        Item::Vars(vars) => {
            acc.add_vars(vars);
        }
    });
    line_errors += read.line_errors;
    if read.outcome == Outcome::Unreadable {
        outcome = Outcome::Unreadable;
    }
    {
        let read = args.documents.read_telemetry(|site| {
            acc.add_site_totals(site);
            match site.timestamp {
                Some(now) if live => {
                    let ready = acc.advance_to(now);
                    report_events(&mut acc, &mut log);
                    writer.write(&ready).and_then(|()| writer.flush())
                }
                // Offline: the intervals that fell out of the horizon are final.
                _ => write_final(&mut acc, &mut final_rows, &mut writer, args.tree.is_some()),
            }
        })?;
        if read == Outcome::Unreadable {
            outcome = Outcome::Unreadable;
        }
    }
    if !args.inputs.is_empty() {
        let capture = CaptureArgs {
            inputs: args.inputs.clone(),
            all_posts: args.all_posts,
            no_progress: true,
        };
        let mut decoder = capture.decoder();
        let read = drive(&mut decoder, &Stderr::default(), |event| match event {
            RecordEvent::Record { record, .. } => {
                acc.add(record);
                Ok(())
            }
            RecordEvent::PostEnd(post) if live => {
                let ready = acc.advance_to(post.captured_at);
                report_events(&mut acc, &mut log);
                writer.write(&ready).and_then(|()| writer.flush())
            }
            RecordEvent::PostEnd(post) => {
                // Offline: the clock, and the intervals that became final (out of the horizon).
                acc.advance_to(post.captured_at);
                write_final(&mut acc, &mut final_rows, &mut writer, args.tree.is_some())
            }
            _ => Ok(()),
        })?;
        line_errors += decoder.report().records.line_errors;
        if read == Outcome::Unreadable {
            outcome = Outcome::Unreadable;
        }
    }

    final_rows.extend(acc.finish());
    let rows = final_rows;
    report_events(&mut acc, &mut log);
    let dropped = acc.stats().events_dropped;
    if dropped > 0 {
        eprintln!("sunpower: {dropped} more interval events not kept");
    }
    match &args.tree {
        Some(dir) => match tree::write_dir(dir, &rows, tz) {
            Ok(report) => {
                eprintln!(
                    "sunpower: {}: {} intervals inserted, {} replaced, {} files written",
                    dir.display(),
                    report.inserted,
                    report.replaced,
                    report.files
                );
                if report.misplaced > 0 {
                    eprintln!(
                        "sunpower: {}: {} rows of another day in a day's file, in no total",
                        dir.display(),
                        report.misplaced
                    );
                }
            }
            Err(e) => {
                eprintln!("sunpower: {e}");
                outcome = Outcome::Unreadable;
            }
        },
        None => writer.write(&rows)?,
    }
    writer.flush()?;
    if let Some(file) = writer.parquet.take() {
        file.close()?;
    }
    Stderr::default().finish(log.summary());
    if line_errors > 0 {
        eprintln!("sunpower: {line_errors} damaged lines skipped");
    }
    Ok(outcome)
}
