//! `sunpower`: decode SunPower PV Supervisor collector traffic from captures and raw bodies.

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

mod body;
mod capture;
mod devicelist;
mod documents;
mod health;
mod intervals;
mod output;
#[cfg(not(feature = "parquet"))]
#[path = "no_parquet.rs"]
mod parquet;
#[cfg(feature = "parquet")]
mod parquet;
mod report;
mod varserver;
#[cfg(feature = "live")]
mod watch;

/// Decode SunPower PV Supervisor collector traffic.
#[derive(Debug, Parser)]
#[command(name = "sunpower", version, about, long_about = None, after_help = EXIT_STATUS)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The exit statuses, as docs/design.md gives them; shown by every `--help`.
const EXIT_STATUS: &str = "Exit status: 0 when every input was read to its end (damaged parts \
included, each reported on standard error with its position); 1 when an input could not be read \
at all; 2 for usage errors.";

#[derive(Debug, Subcommand)]
enum Command {
    /// Decode a raw POST body (no HTTP) into JSON Lines, one record per line.
    #[command(override_usage = "sunpower parse [FILE|-]", after_help = EXIT_STATUS)]
    Parse {
        /// The body file, or `-` for standard input.
        #[arg(default_value = "-")]
        input: String,
    },
    /// Decode captures into JSON Lines: every record of every collector POST, in capture order;
    /// or into InfluxDB line protocol, or a Parquet dataset, one partition per record type.
    #[command(
        override_usage = "sunpower decode INPUT... [--all-posts] [--no-progress] \
                          [--format jsonl|influx|parquet --output DIR]",
        after_help = EXIT_STATUS
    )]
    Decode(capture::DecodeArgs),
    /// Energy per interval (production, consumption, net), as CSV, JSON Lines, PVOutput batches
    /// or a tree of daily, monthly and yearly CSV files.
    #[command(
        override_usage = "sunpower intervals INPUT... [--body FILE]... [--devicelist FILE]... \
                          [--vars FILE]... [--telemetry FILE|-] [--tz ZONE] \
                          [--format csv|jsonl|pvoutput|parquet] [--output FILE] [--tree DIR]",
        after_help = EXIT_STATUS
    )]
    Intervals(intervals::IntervalsArgs),
    /// Health findings: inverters not reporting, reporting zero, underperforming their array or
    /// with frozen measurement times; gaps in the data; lifetime counter problems; the
    /// supervisor's communication errors rising faster than usual, its memory or flash nearly
    /// full or its flash worn; a battery's health falling or a battery gone silent. Each fault
    /// with its device, period and evidence, and its recovery when it ends.
    #[command(
        override_usage = "sunpower health INPUT... [--body FILE]... [--devicelist FILE]... \
                          [--vars FILE]... [--telemetry FILE|-] [--tz ZONE] \
                          [--format text|jsonl|parquet] [--output FILE]",
        after_help = EXIT_STATUS
    )]
    Health(health::HealthArgs),
    /// One self-contained HTML page (no network, no script, readable on a phone): daily
    /// production, consumption and net, a heat map of each panel's daily energy against the
    /// array's median, the health findings with their evidence, and the data's gaps.
    #[command(
        override_usage = "sunpower report INPUT... [--body FILE]... [--devicelist FILE]... \
                          [--vars FILE]... [--telemetry FILE|-] [--tz ZONE] --output FILE",
        after_help = EXIT_STATUS
    )]
    Report(report::ReportArgs),
    /// Decode a saved DeviceList JSON document (PVS local API) into JSON Lines records.
    #[command(override_usage = "sunpower devicelist FILE|-", after_help = EXIT_STATUS)]
    Devicelist {
        /// The document, or `-` for standard input.
        #[arg(default_value = "-")]
        input: String,
    },
    /// Decode a `/vars` document of a supervisor's varserver (any form and path shape) into
    /// JSON Lines records: inverters 130, meters 140 and 141, the supervisor's info, the site
    /// totals, batteries, transfer switches, the supervisor's health; or into a Parquet
    /// dataset, one partition per record type or kind. Wi-Fi keys and MAC addresses are never
    /// printed.
    #[command(
        override_usage = "sunpower vars FILE|- [--format jsonl|parquet --output DIR]",
        after_help = EXIT_STATUS
    )]
    Vars(varserver::VarsArgs),
    /// Decode the supervisor's WebSocket telemetry (one JSON frame a line, as `websocat
    /// ws://PVS:9002` prints them) into JSON Lines site totals, each written as it comes.
    #[command(override_usage = "sunpower telemetry FILE|-", after_help = EXIT_STATUS)]
    Telemetry {
        /// The stream, or `-` for standard input.
        #[arg(default_value = "-")]
        input: String,
    },
    /// Read a supervisor live (its local API over HTTPS, and its telemetry WebSocket), or a
    /// capture as it comes, until stopped: every record, site total and interval as JSON Lines
    /// or InfluxDB lines as it comes, the intervals into the CSV tree, and the values to Home
    /// Assistant over MQTT and to a Prometheus /metrics endpoint.
    #[cfg(feature = "live")]
    #[cfg_attr(
        feature = "publish",
        command(
            override_usage = "sunpower watch --host HOST[:PORT] [--pin SHA256] [--telemetry] \
                              [--enable-telemetry] [--ws-port PORT] [--format jsonl|influx] \
                              [--tree DIR] [--mqtt URL] [--prometheus ADDR] [--for DURATION]\n       \
                              sunpower watch --capture FILE|- [--format jsonl|influx] [--tree DIR] \
                              [--mqtt URL] [--prometheus ADDR] [--for DURATION]"
        )
    )]
    #[cfg_attr(
        not(feature = "publish"),
        command(
            override_usage = "sunpower watch --host HOST[:PORT] [--pin SHA256] [--telemetry] \
                              [--enable-telemetry] [--ws-port PORT] [--format jsonl|influx] \
                              [--tree DIR] [--for DURATION]\n       sunpower watch --capture \
                              FILE|- [--format jsonl|influx] [--tree DIR] [--for DURATION]"
        )
    )]
    #[command(after_help = EXIT_STATUS)]
    Watch(Box<watch::WatchArgs>),
    /// Decode fully and print only the counts, as one JSON object.
    #[command(
        override_usage = "sunpower stats INPUT... [--all-posts]\n       sunpower stats --body FILE...",
        after_help = EXIT_STATUS
    )]
    Stats {
        /// Capture files (pcap or pcapng, optionally gzip-compressed), or `-`; several = a
        /// rotated set read as one capture.
        #[arg(
            value_name = "INPUT",
            required_unless_present = "bodies",
            conflicts_with = "bodies"
        )]
        inputs: Vec<String>,
        /// Raw POST bodies (no HTTP) instead of captures; `-` for standard input.
        #[arg(long = "body", value_name = "FILE")]
        bodies: Vec<String>,
        /// Count the body of every POST request, not only those to `.../SMS2DataCollector.aspx`.
        #[arg(long)]
        all_posts: bool,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to standard output.
    #[command(override_usage = "sunpower completions SHELL", after_help = EXIT_STATUS)]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) to standard output: `sunpower man > sunpower.1`.
    #[command(override_usage = "sunpower man", after_help = EXIT_STATUS)]
    Man,
}

/// How a command ended, as the exit status docs/design.md gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every input was read to its end (damaged parts included).
    Read,
    /// Some input could not be read at all.
    Unreadable,
    /// The command line was wrong in a way clap cannot see (an unknown time zone).
    Usage,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Parse { input } => body::parse(&input),
        Command::Decode(args) => capture::decode(&args),
        Command::Intervals(args) => intervals::run(&args),
        Command::Health(args) => health::run(&args),
        #[cfg(feature = "live")]
        Command::Watch(args) => watch::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Devicelist { input } => devicelist::run(&input),
        Command::Vars(args) => varserver::vars(&args),
        Command::Telemetry { input } => varserver::telemetry(&input),
        Command::Completions { shell } => {
            let mut command = Cli::command();
            clap_complete::generate(shell, &mut command, "sunpower", &mut std::io::stdout());
            Ok(Outcome::Read)
        }
        Command::Man => clap_mangen::Man::new(Cli::command())
            .render(&mut std::io::stdout())
            .map(|()| Outcome::Read),
        Command::Stats {
            inputs,
            bodies,
            all_posts,
        } => {
            if bodies.is_empty() {
                capture::stats(&capture::CaptureArgs {
                    inputs,
                    all_posts,
                    no_progress: false,
                })
            } else {
                body::stats(&bodies)
            }
        }
    };
    match result {
        Ok(Outcome::Read) => ExitCode::SUCCESS,
        Ok(Outcome::Unreadable) => ExitCode::from(1),
        Ok(Outcome::Usage) => ExitCode::from(2),
        // A closed pipe (`sunpower parse x | head`) is the reader's choice, not a failure.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sunpower: {e}");
            ExitCode::from(1)
        }
    }
}
