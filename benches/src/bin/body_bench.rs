//! Writes the benchmark bodies to files, or times `Body::records()` on a body file; the Rust side
//! of `scripts/body_ratio.sh` and the body input of the other scripts.
//!
//! ```sh
//! body_bench write-large BODY      # the 2 MB backlog replay of the criterion benchmark
//! body_bench write-normal BODY     # the ~3 kB normal post
//! body_bench time BODY [SECONDS]   # parses BODY repeatedly for about SECONDS (default 3)
//! ```
//!
//! `time` prints one line: `rust_body_records bytes=.. records=.. iterations=.. seconds=..
//! mb_per_s=.. records_per_s=..` (MB = 10^6 bytes).

use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use sunpower_benches::parse_all;

fn time(path: &str, seconds: f64) -> std::io::Result<()> {
    let body = std::fs::read(path)?;
    let budget = Duration::from_secs_f64(seconds);
    let (records, _) = parse_all(&body);
    let start = Instant::now();
    let mut iterations = 0u64;
    while start.elapsed() < budget || iterations == 0 {
        black_box(parse_all(black_box(&body)));
        iterations += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    let bytes = body.len() as f64 * iterations as f64;
    println!(
        "rust_body_records bytes={} records={records} iterations={iterations} seconds={secs:.3} mb_per_s={:.2} records_per_s={:.0}",
        body.len(),
        bytes / secs / 1e6,
        records as f64 * iterations as f64 / secs,
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["write-large", path] => std::fs::write(path, sunpower_benches::large_body()),
        ["write-normal", path] => std::fs::write(path, sunpower_benches::normal_post()),
        ["time", path] => time(path, 3.0),
        ["time", path, secs] => match secs.parse() {
            Ok(secs) => time(path, secs),
            Err(_) => {
                eprintln!("body_bench: SECONDS must be a number");
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("usage: body_bench write-large|write-normal BODY | time BODY [SECONDS]");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("body_bench: {e}");
            ExitCode::FAILURE
        }
    }
}
