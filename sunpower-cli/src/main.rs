//! `sunpower`: decode SunPower PV Supervisor collector traffic from captures and raw bodies.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod body;
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
    /// Decode fully and print only the counts, as one JSON object.
    Stats {
        /// Raw POST bodies (no HTTP) instead of captures; `-` for standard input.
        #[arg(long = "body", value_name = "FILE", required = true)]
        bodies: Vec<String>,
    },
}

/// How a command ended, as the exit status DESIGN.md gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every input was read to its end (damaged parts included).
    Read,
    /// Some input could not be read at all.
    Unreadable,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Parse { input } => body::parse(&input),
        Command::Stats { bodies } => body::stats(&bodies),
    };
    match result {
        Ok(Outcome::Read) => ExitCode::SUCCESS,
        Ok(Outcome::Unreadable) => ExitCode::from(1),
        // A closed pipe (`sunpower parse x | head`) is the reader's choice, not a failure.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sunpower: {e}");
            ExitCode::from(1)
        }
    }
}
