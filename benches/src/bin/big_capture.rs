//! Streams a large capture to a file: `examples/sample.pcap` (one day of a home's traffic)
//! replayed day after day, each day 24 h later, with the project's capture writer, until the
//! file holds at least the requested size. Memory stays at one day of packets (~2 MB).
//!
//! ```sh
//! big_capture [--mixed] OUT.pcap MEGABYTES [SAMPLE.pcap]
//! ```
//!
//! `--mixed` adds each day the bulk traffic of `sunpower_benches::mixed_day` (TLS streaming and
//! an HTTP download), so that collector posts are about 5 % of the bytes instead of 41 %.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::process::ExitCode;

fn run(out: &str, megabytes: u64, sample: PathBuf, mixed: bool) -> std::io::Result<()> {
    let mut day = sunpower_benches::load_packets(&sample)?;
    if mixed {
        day = sunpower_benches::mixed_day(&day);
    }
    let days = (megabytes * 1_000_000).div_ceil(day.pcap_len()).max(1);
    let file = BufWriter::with_capacity(1 << 20, File::create(out)?);
    let written = sunpower_benches::write_days(file, &day, days)?;
    eprintln!(
        "wrote {out}: {written} bytes, {days} days, {} packets",
        days * day.packets.len() as u64
    );
    Ok(())
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mixed = args.first().is_some_and(|a| a == "--mixed");
    if mixed {
        args.remove(0);
    }
    let (out, mb) = match (args.first(), args.get(1).and_then(|s| s.parse().ok())) {
        (Some(out), Some(mb)) => (out, mb),
        _ => {
            eprintln!("usage: big_capture [--mixed] OUT.pcap MEGABYTES [SAMPLE.pcap]");
            return ExitCode::from(2);
        }
    };
    let sample = args
        .get(2)
        .map(PathBuf::from)
        .unwrap_or_else(sunpower_benches::sample_path);
    match run(out, mb, sample, mixed) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("big_capture: {e}");
            ExitCode::FAILURE
        }
    }
}
