//! `sunpower decode` and `sunpower stats` on captures: the library's record decoder, rendered.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use sunpower_pcap::capture::{CaptureErrorKind, Input, InputKind};
use sunpower_pcap::decoder::{DecoderConfig, Problem, ProblemKind};
use sunpower_pcap::http::BodyFilter;
use sunpower_pcap::records::{RecordDecoder, RecordEvent};

use crate::output::{stdout_lines, Stderr};
use crate::Outcome;

/// Output formats of `sunpower decode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DecodeFormat {
    /// One JSON object per record, on standard output.
    Jsonl,
    /// A Parquet dataset under --output DIR: `DIR/record_type=N/part-00000.parquet`.
    Parquet,
    /// InfluxDB line protocol, one line per record with values, on standard output.
    Influx,
}

/// Arguments of `sunpower decode`.
#[derive(Debug, Clone, clap::Args)]
pub struct DecodeArgs {
    #[command(flatten)]
    pub capture: CaptureArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DecodeFormat::Jsonl)]
    pub format: DecodeFormat,
    /// The dataset's directory (new or empty, or left incomplete by a killed run: replaced),
    /// for --format parquet; `DIR/_SUCCESS`, written last, marks it complete.
    #[arg(long, value_name = "DIR", required_if_eq("format", "parquet"))]
    pub output: Option<PathBuf>,
}

/// Options shared by the capture commands.
#[derive(Debug, Clone, clap::Args)]
pub struct CaptureArgs {
    /// Capture files (pcap or pcapng, optionally gzip-compressed), or `-` for standard input.
    /// Several files are read in order as one capture (a rotated set).
    #[arg(value_name = "INPUT", required = true)]
    pub inputs: Vec<String>,
    /// Decode the body of every POST request, not only those to `.../SMS2DataCollector.aspx`.
    #[arg(long)]
    pub all_posts: bool,
    /// Never draw a progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

impl CaptureArgs {
    pub fn decoder(&self) -> RecordDecoder {
        let inputs = self.inputs.iter().map(Input::from_arg).collect();
        let mut config = DecoderConfig::default();
        if self.all_posts {
            config.http.bodies = BodyFilter::AllPost;
        }
        RecordDecoder::new(inputs, config)
    }

    pub fn live(&self) -> bool {
        self.inputs.iter().any(|i| i == "-")
    }

    /// Standard error, with a progress bar when it is a terminal and the inputs are files.
    pub fn stderr(&self, decoder: &RecordDecoder) -> Stderr {
        Stderr {
            progress: self.progress_bar(decoder),
        }
    }

    fn progress_bar(&self, decoder: &RecordDecoder) -> Option<ProgressBar> {
        if self.no_progress || self.live() || !io::stderr().is_terminal() {
            return None;
        }
        let total: u64 = decoder.reader().input_lens().iter().flatten().sum();
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} ETA {eta} {msg}",
            )
            .ok()?,
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        Some(bar)
    }
}

/// Runs `decoder` to its end: problems the log shows go to standard error, the progress bar moves,
/// and every event goes to `on_event` (which stops the run at its first error).
pub fn drive(
    decoder: &mut RecordDecoder,
    stderr: &Stderr,
    mut on_event: impl FnMut(&RecordEvent<'_, '_>) -> io::Result<()>,
) -> io::Result<Outcome> {
    let mut result = Ok(());
    run_steps(decoder, stderr, |decoder| {
        result.is_ok()
            && decoder.step(|event| {
                show_problem(stderr, &event);
                if result.is_ok() {
                    result = on_event(&event);
                }
            })
    });
    result?;
    Ok(finish_run(decoder, stderr))
}

/// Steps `decoder` with `step` until it says there is no more, moving the progress bar.
fn run_steps(
    decoder: &mut RecordDecoder,
    stderr: &Stderr,
    mut step: impl FnMut(&mut RecordDecoder) -> bool,
) {
    let mut steps = 0u64;
    while step(decoder) {
        steps += 1;
        if steps.is_multiple_of(4096)
            && let (Some(bar), Some(progress)) = (&stderr.progress, decoder.reader().progress())
        {
            bar.set_position(progress_total(decoder.reader().input_lens(), progress));
        }
    }
}

/// Problems the log shows, on standard error.
fn show_problem(stderr: &Stderr, event: &RecordEvent<'_, '_>) {
    match event {
        RecordEvent::LineError {
            post,
            error,
            shown: true,
        } => stderr.problem(post.line_error_message(error)),
        // Errors of the inputs themselves read as the other commands' errors do.
        RecordEvent::Problem {
            problem,
            shown: true,
        } if matches!(problem.kind, ProblemKind::Capture(_)) => {
            stderr.problem(format_args!("sunpower: {problem}{}", command_hint(problem)))
        }
        RecordEvent::Problem {
            problem,
            shown: true,
        } => stderr.problem(problem),
        _ => {}
    }
}

/// The end of a run: the summary of problems not shown, and whether every input was read.
fn finish_run(decoder: &RecordDecoder, stderr: &Stderr) -> Outcome {
    stderr.finish(decoder.not_shown());
    if decoder.had_unreadable_input() {
        Outcome::Unreadable
    } else {
        Outcome::Read
    }
}

/// Which command reads an input that is not a capture.
fn command_hint(problem: &Problem) -> &'static str {
    match &problem.kind {
        ProblemKind::Capture(e) => match &e.kind {
            CaptureErrorKind::UnknownFormat {
                looks_like: Some(InputKind::PostBody),
                ..
            } => " (use `sunpower parse` for a body)",
            CaptureErrorKind::UnknownFormat {
                looks_like: Some(InputKind::Json),
                ..
            } => " (use `sunpower devicelist` or `sunpower vars` for a document)",
            _ => "",
        },
        _ => "",
    }
}

fn progress_total(lens: &[Option<u64>], p: sunpower_pcap::capture::Progress<'_>) -> u64 {
    let before: u64 = lens.iter().take(p.input_index).flatten().sum();
    before + p.input_bytes_read
}

pub fn decode(args: &DecodeArgs) -> io::Result<Outcome> {
    match (args.format, &args.output) {
        (DecodeFormat::Jsonl, None) => decode_jsonl(&args.capture),
        (DecodeFormat::Influx, None) => decode_influx(&args.capture),
        (DecodeFormat::Parquet, Some(dir)) => crate::parquet::decode(&args.capture, dir),
        (DecodeFormat::Jsonl | DecodeFormat::Influx, Some(_)) => {
            eprintln!(
                "sunpower: --output is for --format parquet (the lines go to standard output)"
            );
            Ok(Outcome::Usage)
        }
        // clap requires --output with parquet.
        (DecodeFormat::Parquet, None) => Ok(Outcome::Usage),
    }
}

fn decode_jsonl(args: &CaptureArgs) -> io::Result<Outcome> {
    let mut decoder = args.decoder();
    let stderr = args.stderr(&decoder);
    let live = args.live();
    let mut out = stdout_lines();
    let outcome = drive(&mut decoder, &stderr, |event| match event {
        RecordEvent::Record { post, record } => out.write_record(record, post.channel),
        // Live mode: a post's records leave as soon as the post is complete.
        RecordEvent::PostEnd(_) if live => out.flush(),
        _ => Ok(()),
    })?;
    out.flush()?;
    Ok(outcome)
}

fn decode_influx(args: &CaptureArgs) -> io::Result<Outcome> {
    let mut decoder = args.decoder();
    let stderr = args.stderr(&decoder);
    let live = args.live();
    // The JSON Lines writer is also a buffered writer of other lines.
    let mut out = stdout_lines();
    let mut line = String::new();
    let outcome = drive(&mut decoder, &stderr, |event| match event {
        RecordEvent::Record { record, .. } => {
            line.clear();
            sunpower_proto::influx::write_record(&mut line, record);
            out.write_all(line.as_bytes())
        }
        RecordEvent::PostEnd(_) if live => out.flush(),
        _ => Ok(()),
    })?;
    out.flush()?;
    Ok(outcome)
}

pub fn stats(args: &CaptureArgs) -> io::Result<Outcome> {
    let mut decoder = args.decoder();
    let stderr = args.stderr(&decoder);
    let outcome = drive(&mut decoder, &stderr, |_| Ok(()))?;
    let report = decoder.report();
    if outcome == Outcome::Unreadable && report.decode.packets == 0 {
        // Nothing was read: counts of zero would look like an empty capture.
        return Ok(outcome);
    }
    let mut stdout = io::stdout().lock();
    serde_json::to_writer(&mut stdout, &report)?;
    io::Write::write_all(&mut stdout, b"\n")?;
    Ok(outcome)
}
