//! `sunpower`: decode SunPower PV Supervisor collector traffic from captures and raw bodies.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod body;
mod capture;
mod devicelist;
mod intervals;
mod output;

/// Decode SunPower PV Supervisor collector traffic.
#[derive(Debug, Parser)]
#[command(name = "sunpower", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Decode a raw POST body (no HTTP) into JSON Lines, one record per line.
    Parse {
        /// The body file, or `-` for standard input.
        #[arg(default_value = "-")]
        input: String,
    },
    /// Decode captures into JSON Lines: every record of every collector POST, in capture order.
    Decode(capture::CaptureArgs),
    /// Energy per interval (production, consumption, net), as CSV, JSON Lines, PVOutput batches
    /// or a tree of daily, monthly and yearly CSV files.
    Intervals(intervals::IntervalsArgs),
    /// Decode a saved DeviceList JSON document (PVS local API) into JSON Lines records.
    Devicelist {
        /// The document, or `-` for standard input.
        #[arg(default_value = "-")]
        input: String,
    },
    /// Decode fully and print only the counts, as one JSON object.
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
}

/// How a command ended, as the exit status DESIGN.md gives.
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
        Command::Devicelist { input } => devicelist::run(&input),
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
