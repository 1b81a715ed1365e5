//! `sunpower health`: health findings (dead, missing, weak or stale inverters, gaps, counter
//! problems) from the same inputs as `sunpower intervals`.

use std::io::{self, Write};

use clap::ValueEnum;
use sunpower_pcap::records::RecordEvent;
use sunpower_proto::health::{Finding, Health, HealthConfig, Kind, Severity};
use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig, Tz};
use sunpower_proto::{parse_device_list, DocumentLimits, ProblemLog, Record};

use crate::capture::{drive, CaptureArgs};
use crate::intervals::system_zone;
use crate::output::{display_name, read_body, read_document, BodyError, Stderr};
use crate::varserver::{read_vars, report_vars};
use crate::Outcome;

/// Output formats of `sunpower health`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table, worst first, times local.
    Text,
    /// One JSON object per finding, in the order found (as each day is judged).
    Jsonl,
}

/// Arguments of `sunpower health`.
#[derive(Debug, Clone, clap::Args)]
#[command(group(clap::ArgGroup::new("sources").required(true).multiple(true)
    .args(["inputs", "bodies", "devicelists", "vars"])))]
pub struct HealthArgs {
    /// Capture files (as for `decode`), or `-` for a capture on standard input.
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// A raw POST body (one post per file, read in the order given).
    #[arg(long = "body", value_name = "FILE")]
    pub bodies: Vec<String>,
    /// A saved DeviceList JSON document of the supervisor's local API (one per poll, in order).
    #[arg(long = "devicelist", value_name = "FILE")]
    pub devicelists: Vec<String>,
    /// A saved `/vars` document of the supervisor's varserver (one per poll, in order).
    #[arg(long, value_name = "FILE")]
    pub vars: Vec<String>,
    /// IANA time zone for local days (default: the system's).
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Decode the body of every POST request, not only those to `.../SMS2DataCollector.aspx`.
    #[arg(long)]
    pub all_posts: bool,
}

/// The two stages: the intervals (for their counter events) and the health findings.
struct Stages {
    acc: IntervalAccumulator,
    health: Health,
}

impl Stages {
    fn add(&mut self, record: &Record<'_>) {
        self.acc.add(record);
        self.health.add(record);
    }

    /// Hands the intervals' events to the health stage, so that neither holds them long.
    fn pass_events(&mut self) {
        for event in self.acc.take_events() {
            self.health.add_event(&event);
        }
    }
}

pub fn run(args: &HealthArgs) -> io::Result<Outcome> {
    let tz = match &args.tz {
        Some(name) => match name.parse::<Tz>() {
            Ok(tz) => tz,
            Err(_) => {
                eprintln!("sunpower: --tz {name}: not an IANA time zone name");
                return Ok(Outcome::Usage);
            }
        },
        None => system_zone(),
    };
    // The intervals' presets, as `sunpower intervals` reads the same inputs offline.
    let config = if args.inputs.is_empty() {
        IntervalConfig::documents()
    } else {
        IntervalConfig::captures()
    };
    let mut stages = Stages {
        acc: IntervalAccumulator::new(config),
        health: Health::new(HealthConfig::default(), tz),
    };
    let mut out = io::BufWriter::new(io::stdout().lock());
    let mut found = Vec::new();
    let mut outcome = Outcome::Read;
    let mut log = ProblemLog::default();
    let mut line_errors = 0u64;

    for name in &args.bodies {
        let stderr = Stderr::default();
        let read = read_body(name, &mut log, &stderr, |item| {
            match item {
                Ok(record) => stages.add(record),
                Err(_) => line_errors += 1,
            }
            Ok(())
        });
        if let Err(BodyError::Input(e) | BodyError::Output(e)) = read {
            eprintln!("sunpower: {}: {e}", display_name(name));
            outcome = Outcome::Unreadable;
        }
    }
    for name in &args.devicelists {
        let parsed = read_document(name, DocumentLimits::default().max_bytes)
            .and_then(|data| parse_device_list(&data).map_err(|e| e.to_string()));
        match parsed {
            Ok(list) => {
                for record in &list.records {
                    stages.add(&record.record());
                }
                for problem in &list.problems {
                    eprintln!("{}: {problem}", display_name(name));
                }
            }
            Err(e) => {
                eprintln!("sunpower: {}: {e}", display_name(name));
                outcome = Outcome::Unreadable;
            }
        }
    }
    for name in &args.vars {
        match read_vars(name) {
            Ok(vars) => {
                // The accumulator takes the document whole (it sets shared serials aside);
                // the health stage its records.
                stages.acc.add_vars(&vars);
                for record in vars.records() {
                    stages.health.add(&record.record());
                }
                report_vars(name, &vars);
            }
            Err(e) => {
                eprintln!("sunpower: {}: {e}", display_name(name));
                outcome = Outcome::Unreadable;
            }
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
                stages.add(record);
                Ok(())
            }
            RecordEvent::PostEnd(post) => {
                // The clock keeps the intervals' memory to their horizon; their rows are not
                // needed here, their events are.
                stages.acc.advance_to(post.captured_at);
                stages.acc.drain_ready();
                stages.pass_events();
                emit(
                    &mut out,
                    args.format,
                    stages.health.take_findings(),
                    &mut found,
                )
            }
            _ => Ok(()),
        })?;
        line_errors += decoder.report().records.line_errors;
        if read == Outcome::Unreadable {
            outcome = Outcome::Unreadable;
        }
    }

    stages.acc.finish();
    stages.pass_events();
    emit(&mut out, args.format, stages.health.finish(), &mut found)?;
    if args.format == Format::Text {
        write_table(&mut out, &mut found, tz)?;
    }
    out.flush()?;
    Stderr::default().finish(log.summary());
    if line_errors > 0 {
        eprintln!("sunpower: {line_errors} damaged lines skipped");
    }
    if stages.health.late_readings() > 0 {
        eprintln!(
            "sunpower: {} readings came after their day was judged (or had no usable date): ignored",
            stages.health.late_readings()
        );
    }
    Ok(outcome)
}

/// JSON Lines: written (and flushed) as found. Text: kept for the table.
fn emit(
    out: &mut impl Write,
    format: Format,
    findings: Vec<Finding>,
    kept: &mut Vec<Finding>,
) -> io::Result<()> {
    match format {
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
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.status.cmp(&b.status))
            .then(a.start.cmp(&b.start))
            .then(a.device_name().cmp(b.device_name()))
    });
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
            evidence(f),
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

/// The evidence in a few words.
fn evidence(f: &Finding) -> String {
    let e = &f.evidence;
    let median = e
        .peers_median_kw
        .map(|m| format!(" (array median {m:.3} kW)"))
        .unwrap_or_default();
    match f.kind {
        Kind::Underperforming => {
            let pct = match (e.produced_kw, e.peers_median_kw) {
                (Some(p), Some(m)) if m > 0.0 => format!("{:.0}%", 100.0 * p / m),
                _ => "?".into(),
            };
            format!(
                "{pct} of the array median over {} days, {}/{} samples low",
                e.days, e.bad_samples, e.samples
            )
        }
        Kind::NotReporting => format!("no report in {} daylight samples{median}", e.samples),
        Kind::ReportingZero => format!("0 kW in {} daylight samples{median}", e.samples),
        Kind::Stale => {
            let stuck = e
                .produced_kw
                .map(|p| format!(", stuck at {p:.3} kW"))
                .unwrap_or_default();
            format!(
                "measurement time frozen, {} repeated readings{stuck}",
                e.samples
            )
        }
        Kind::Gap => {
            let minutes = (f.end - f.start).num_minutes();
            format!("no data for {}h{:02}", minutes / 60, minutes % 60)
        }
        Kind::CounterReset | Kind::CounterGlitch => {
            let what = match (f.kind == Kind::CounterReset, e.samples == 1) {
                (true, true) => "reset",
                (true, false) => "resets",
                (false, true) => "glitch",
                (false, false) => "glitches",
            };
            format!("{} lifetime counter {what} that day", e.samples)
        }
        _ => format!("{} samples", e.samples),
    }
}
