//! `sunpower health`: health findings (dead, missing, weak or stale inverters, gaps, counter
//! problems) from the same inputs as `sunpower intervals`.

use std::io::{self, Write};
use std::path::PathBuf;

use clap::ValueEnum;
use sunpower_pcap::records::RecordEvent;
use sunpower_proto::health::{worst_first, Finding, HealthConfig, HealthStages, Severity};
use sunpower_proto::intervals::Tz;
use sunpower_proto::ProblemLog;

use crate::capture::{drive, CaptureArgs};
use crate::documents::{Documents, Item};
use crate::intervals::{preset, zone};
use crate::output::Stderr;
use crate::parquet::FindingsFile;
use crate::Outcome;

/// Output formats of `sunpower health`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table, worst first, times local.
    Text,
    /// One JSON object per finding, in the order found (as each day is judged).
    Jsonl,
    /// One Parquet file (--output FILE), the columns of the jsonl rows, in the order found.
    Parquet,
}

/// Arguments of `sunpower health`.
#[derive(Debug, Clone, clap::Args)]
#[command(group(clap::ArgGroup::new("sources").required(true).multiple(true)
    .args(["inputs", "bodies", "devicelists", "vars", "telemetry"])))]
pub struct HealthArgs {
    /// Capture files (as for `decode`), or `-` for a capture on standard input.
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<String>,
    #[command(flatten)]
    pub documents: Documents,
    /// IANA time zone for local days (default: the system's).
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// The file to write, for --format parquet.
    #[arg(long, value_name = "FILE", required_if_eq("format", "parquet"))]
    pub output: Option<PathBuf>,
    /// Decode the body of every POST request, not only those to `.../SMS2DataCollector.aspx`.
    #[arg(long)]
    pub all_posts: bool,
}

pub fn run(args: &HealthArgs) -> io::Result<Outcome> {
    let Some(tz) = zone(args.tz.as_deref()) else {
        return Ok(Outcome::Usage);
    };
    // The intervals' presets, as `sunpower intervals` reads the same inputs offline.
    let config = preset(&args.inputs, &args.documents);
    let mut parquet = match (args.format, &args.output) {
        (Format::Parquet, Some(path)) => match FindingsFile::create(path.clone()) {
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
    let mut stages = HealthStages::new(config, HealthConfig::default(), tz);
    let mut out = io::BufWriter::new(io::stdout().lock());
    let mut found = Vec::new();
    let mut outcome = Outcome::Read;
    let mut log = ProblemLog::default();
    let mut line_errors = 0u64;

    let read = args.documents.read(&mut log, |item| match item {
        Item::Record(record) => stages.add(record),
        Item::Battery(battery) => stages.add_battery(battery),
        Item::Vars(vars) => stages.add_vars(vars),
    });
    line_errors += read.line_errors;
    if read.outcome == Outcome::Unreadable {
        outcome = Outcome::Unreadable;
    }
    // A live stream's findings go out as its days are judged, as a live capture's do.
    let read = args.documents.read_telemetry(|site| {
        stages.add_site_totals(site);
        emit(
            &mut out,
            args.format,
            stages.take_findings(),
            &mut found,
            &mut parquet,
        )
    })?;
    if read == Outcome::Unreadable {
        outcome = Outcome::Unreadable;
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
                stages.add(record);
                Ok(())
            }
            RecordEvent::PostEnd(post) => {
                stages.advance_to(post.captured_at);
                emit(
                    &mut out,
                    args.format,
                    stages.take_findings(),
                    &mut found,
                    &mut parquet,
                )
            }
            _ => Ok(()),
        })?;
        line_errors += decoder.report().records.line_errors;
        if read == Outcome::Unreadable {
            outcome = Outcome::Unreadable;
        }
    }

    emit(
        &mut out,
        args.format,
        stages.finish(),
        &mut found,
        &mut parquet,
    )?;
    if let Some(file) = parquet.take() {
        file.close()?;
    }
    if args.format == Format::Text {
        write_table(&mut out, &mut found, tz)?;
    }
    out.flush()?;
    Stderr::default().finish(log.summary());
    if line_errors > 0 {
        eprintln!("sunpower: {line_errors} damaged lines skipped");
    }
    if stages.late_readings() > 0 {
        eprintln!(
            "sunpower: {} readings came after their day was judged (or had no usable date): ignored",
            stages.late_readings()
        );
    }
    Ok(outcome)
}

/// JSON Lines: written (and flushed) as found. Text: kept for the table. Parquet: into the file.
fn emit(
    out: &mut impl Write,
    format: Format,
    findings: Vec<Finding>,
    kept: &mut Vec<Finding>,
    parquet: &mut Option<FindingsFile>,
) -> io::Result<()> {
    match format {
        Format::Parquet => match parquet {
            Some(file) => file.write(&findings),
            None => Ok(()),
        },
        Format::Jsonl => {
            for finding in &findings {
                serde_json::to_writer(&mut *out, finding)?;
                out.write_all(b"\n")?;
            }
            // A live capture's findings are seen as days are judged, not when the buffer fills.
            if !findings.is_empty() {
                out.flush()?;
            }
            Ok(())
        }
        Format::Text => {
            kept.extend(findings);
            Ok(())
        }
    }
}

/// The table: worst first (severity, then faults before recoveries, then time), local times.
fn write_table(out: &mut impl Write, findings: &mut [Finding], tz: Tz) -> io::Result<()> {
    if findings.is_empty() {
        return writeln!(out, "no findings");
    }
    worst_first(findings);
    let local = |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&tz).format("%Y-%m-%d %H:%M");
    let mut rows = vec![[
        "SEVERITY".to_string(),
        "STATUS".into(),
        "KIND".into(),
        "DEVICE".into(),
        "FROM".into(),
        "TO".into(),
        "EVIDENCE".into(),
    ]];
    for f in findings.iter() {
        rows.push([
            f.severity.as_str().into(),
            f.status.as_str().into(),
            f.kind.as_str().into(),
            f.device_name().into(),
            local(f.start).to_string(),
            local(f.end).to_string(),
            f.evidence_text(),
        ]);
    }
    let mut widths = [0usize; 7];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in &rows {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}  "));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    let count = |s| findings.iter().filter(|f| f.severity == s).count();
    writeln!(
        out,
        "{} findings: {} critical, {} warning, {} info (times in {})",
        findings.len(),
        count(Severity::Critical),
        count(Severity::Warning),
        count(Severity::Info),
        tz.name()
    )
}
