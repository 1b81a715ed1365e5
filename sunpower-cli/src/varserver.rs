//! `sunpower vars` and `sunpower telemetry`: the local API of current supervisors (varserver
//! `/vars` documents, the WebSocket telemetry stream) as the same JSON Lines records.

use std::io::{self, Read, Write};

use sunpower_proto::{parse_vars, DocumentLimits, ProblemLog, TelemetryDecoder, Vars};

use crate::output::{display_name, json_line, open_input, read_document, stdout_lines};
use crate::Outcome;

/// Reads and decodes a `/vars` document, reporting a failure as the other commands do.
pub fn read_vars(name: &str) -> Result<Vars, String> {
    read_document(name, DocumentLimits::default().max_bytes)
        .and_then(|data| parse_vars(&data).map_err(|e| e.to_string()))
}

/// What a `/vars` document held besides its records: its problems and what was not kept.
pub fn report_vars(name: &str, vars: &Vars) {
    let name = display_name(name);
    for problem in &vars.problems {
        eprintln!("{name}: {problem}");
    }
    if vars.withheld > 0 {
        eprintln!(
            "{name}: {} secret values (Wi-Fi, MAC addresses) withheld",
            vars.withheld
        );
    }
    if vars.dropped > 0 {
        eprintln!("{name}: {} entries over a limit, not decoded", vars.dropped);
    }
    if vars.other_count > 0 {
        eprintln!("{name}: {} paths not decoded, kept raw", vars.other_count);
    }
}

/// Output formats of `sunpower vars`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VarsFormat {
    /// One JSON object per record, on standard output.
    Jsonl,
    /// A Parquet dataset under --output DIR: `DIR/record_type=130/`, `DIR/record_type=battery/`
    /// and so on (the supervisor's info and the site totals are in the JSON Lines only).
    Parquet,
}

/// Arguments of `sunpower vars`.
#[derive(Debug, Clone, clap::Args)]
pub struct VarsArgs {
    /// The document, or `-` for standard input.
    #[arg(default_value = "-")]
    pub input: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = VarsFormat::Jsonl)]
    pub format: VarsFormat,
    /// The dataset's directory (new or empty, or left incomplete by a killed run: replaced),
    /// for --format parquet; `DIR/_SUCCESS`, written last, marks it complete.
    #[arg(long, value_name = "DIR", required_if_eq("format", "parquet"))]
    pub output: Option<std::path::PathBuf>,
}

pub fn vars(args: &VarsArgs) -> io::Result<Outcome> {
    let input = args.input.as_str();
    let vars = match read_vars(input) {
        Ok(vars) => vars,
        Err(e) => {
            eprintln!("sunpower: {}: {e}", display_name(input));
            return Ok(Outcome::Unreadable);
        }
    };
    if let (VarsFormat::Parquet, Some(dir)) = (args.format, &args.output) {
        let outcome = crate::parquet::vars(&vars, dir)?;
        if outcome == Outcome::Read {
            report_vars(input, &vars);
        }
        return Ok(outcome);
    }
    let mut out = stdout_lines();
    for record in vars.records() {
        out.write_record(&record.record(), None)?;
    }
    for battery in &vars.batteries {
        json_line(&mut out, battery)?;
    }
    for switch in &vars.transfer_switches {
        json_line(&mut out, switch)?;
    }
    if let Some(info) = &vars.supervisor {
        json_line(&mut out, info)?;
    }
    if let Some(health) = &vars.health {
        json_line(&mut out, health)?;
    }
    if let Some(site) = &vars.site {
        json_line(&mut out, site)?;
    }
    out.flush()?;
    report_vars(input, &vars);
    Ok(Outcome::Read)
}

/// Feeds a telemetry stream (one frame a line) to `on_totals`, reporting bad frames (at most so
/// many, as for every problem) and, at the end, what was skipped.
pub fn read_telemetry(
    input: &str,
    mut on_totals: impl FnMut(&sunpower_proto::SiteTotals) -> io::Result<()>,
) -> io::Result<Outcome> {
    let mut reader = match open_input(input) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sunpower: {}: {e}", display_name(input));
            return Ok(Outcome::Unreadable);
        }
    };
    let name = display_name(input);
    let mut decoder = TelemetryDecoder::new();
    let mut log = ProblemLog::default();
    let mut result = Ok(());
    let mut on_frame = |frame: Result<sunpower_proto::SiteTotals, _>,
                        result: &mut io::Result<()>| match frame {
        Ok(site) if result.is_ok() => *result = on_totals(&site),
        Ok(_) => {}
        Err(e) => {
            if log.admit("telemetry") {
                eprintln!("{name}: {e}");
            }
        }
    };
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                eprintln!("sunpower: {name}: {e}");
                return Ok(Outcome::Unreadable);
            }
        };
        decoder.feed(&buf[..n], |f| on_frame(f, &mut result));
        result
            .as_ref()
            .map_err(|e| io::Error::new(e.kind(), e.to_string()))?;
    }
    decoder.finish(|f| on_frame(f, &mut result));
    result?;
    for line in log.summary() {
        eprintln!("sunpower: {line}");
    }
    let s = decoder.stats();
    if s.other_notifications + s.unknown_params + s.without_time > 0 {
        eprintln!(
            "sunpower: {name}: {} power frames; skipped {} other notifications, {} unknown \
             parameters; {} power frames without a time",
            s.power, s.other_notifications, s.unknown_params, s.without_time
        );
    }
    Ok(Outcome::Read)
}

pub fn telemetry(input: &str) -> io::Result<Outcome> {
    let mut out = stdout_lines();
    let outcome = read_telemetry(input, |site| {
        json_line(&mut out, site)?;
        // A stream: each frame's record leaves at once.
        out.flush()
    })?;
    out.flush()?;
    Ok(outcome)
}
