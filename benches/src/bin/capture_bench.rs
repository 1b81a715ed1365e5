//! Runs one stage of capture decoding over a capture file held in memory, for profilers
//! (`valgrind --tool=callgrind`) and quick timings: the same functions the capture benchmark times.
//!
//! ```sh
//! capture_bench raw|raw-noshift|reader|posts|records|decoder|arrow CAPTURE [REPEAT]
//! ```
//!
//! Prints one line: `stage=.. bytes=.. repeat=.. result=.. seconds=.. mb_per_s=..` (MB = 10^6
//! bytes); `result` is the stage's count (packets touched, body bytes or records).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use sunpower_benches::stages::{
    arrow_batches, capture_reader, decode_posts, decode_records, decoder_records, raw_blocks,
    raw_blocks_noshift,
};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (stage, path, repeat) = match &args[..] {
        [stage, path] => (stage, path, 1),
        [stage, path, n] => match n.parse::<u32>() {
            Ok(n) if n > 0 => (stage, path, n),
            _ => {
                eprintln!("capture_bench: REPEAT must be a positive integer");
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("usage: capture_bench raw|raw-noshift|reader|posts|records|decoder|arrow CAPTURE [REPEAT]");
            return ExitCode::from(2);
        }
    };
    let run: fn(&Arc<[u8]>) -> u64 = match stage.as_str() {
        "raw" => |b| raw_blocks(b).1,
        "raw-noshift" => |b| raw_blocks_noshift(b).1,
        "reader" => capture_reader,
        "posts" => decode_posts,
        "records" => decode_records,
        "decoder" => decoder_records,
        "arrow" => arrow_batches,
        _ => {
            eprintln!("capture_bench: unknown stage {stage:?} (raw, raw-noshift, reader, posts, records, decoder or arrow)");
            return ExitCode::from(2);
        }
    };
    let bytes: Arc<[u8]> = match std::fs::read(path) {
        Ok(b) => b.into(),
        Err(e) => {
            eprintln!("capture_bench: {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let start = Instant::now();
    let mut result = 0;
    for _ in 0..repeat {
        result = std::hint::black_box(run(std::hint::black_box(&bytes)));
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "stage={stage} bytes={} repeat={repeat} result={result} seconds={secs:.3} mb_per_s={:.1}",
        bytes.len(),
        bytes.len() as f64 * f64::from(repeat) / secs / 1e6
    );
    ExitCode::SUCCESS
}
