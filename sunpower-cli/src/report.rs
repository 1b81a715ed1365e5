//! `sunpower report`: the library's HTML report (`sunpower_proto::report`) of the same inputs as
//! `sunpower health`, written crash-safe to one file.

use std::io;
use std::path::PathBuf;

use sunpower_pcap::records::RecordEvent;
use sunpower_proto::health::HealthConfig;
use sunpower_proto::report::ReportStages;
use sunpower_proto::ProblemLog;

use crate::capture::{drive, CaptureArgs};
use crate::documents::{Documents, Item};
use crate::intervals::{preset, zone};
use crate::output::Stderr;
use crate::Outcome;

/// Arguments of `sunpower report`.
#[derive(Debug, Clone, clap::Args)]
#[command(group(clap::ArgGroup::new("sources").required(true).multiple(true)
    .args(["inputs", "bodies", "devicelists", "vars", "telemetry"])))]
pub struct ReportArgs {
    /// Capture files (as for `decode`), or `-` for a capture on standard input.
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<String>,
    #[command(flatten)]
    pub documents: Documents,
    /// IANA time zone for local days (default: the system's).
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// The HTML file to write (replaced whole, crash-safe).
    #[arg(long, value_name = "FILE")]
    pub output: PathBuf,
    /// Decode the body of every POST request, not only those to `.../SMS2DataCollector.aspx`.
    #[arg(long)]
    pub all_posts: bool,
}

pub fn run(args: &ReportArgs) -> io::Result<Outcome> {
    let Some(tz) = zone(args.tz.as_deref()) else {
        return Ok(Outcome::Usage);
    };
    // The intervals' presets, as `sunpower intervals` reads the same inputs offline.
    let config = preset(&args.inputs, &args.documents);
    let mut stages = ReportStages::new(config, HealthConfig::default(), tz);
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
    let read = args.documents.read_telemetry(|site| {
        stages.add_site_totals(site);
        Ok(())
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
        let read = drive(&mut decoder, &Stderr::default(), |event| {
            match event {
                RecordEvent::Record { record, .. } => stages.add(record),
                RecordEvent::PostEnd(post) => stages.advance_to(post.captured_at),
                _ => {}
            }
            Ok(())
        })?;
        line_errors += decoder.report().records.line_errors;
        if read == Outcome::Unreadable {
            outcome = Outcome::Unreadable;
        }
    }

    let late = stages.late_readings();
    let report = stages.finish();
    let html = report.html();
    if let Err(e) = sunpower_store::write_file(&args.output, html.as_bytes()) {
        eprintln!("sunpower: {e}");
        return Ok(Outcome::Unreadable);
    }
    eprintln!(
        "sunpower: {}: {} bytes, {} days, {} panels, {} findings",
        args.output.display(),
        html.len(),
        report.daily.days().count(),
        report.panels.serials().count(),
        report.findings.len()
    );
    Stderr::default().finish(log.summary());
    if line_errors > 0 {
        eprintln!("sunpower: {line_errors} damaged lines skipped");
    }
    if late > 0 {
        eprintln!(
            "sunpower: {late} readings came after their day was judged (or had no usable date): ignored"
        );
    }
    Ok(outcome)
}
