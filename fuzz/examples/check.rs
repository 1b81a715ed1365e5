//! Runs one target's checks on stable over the given files and prints which fail and why:
//! `cargo run --example check -- <target> <file>...`. (`devicelist` and the JSON half of
//! `record_line` are checked only by the fuzz targets.)

use std::panic::{catch_unwind, AssertUnwindSafe};

#[path = "../harness.rs"]
#[allow(dead_code)]
mod harness;

fn main() {
    let mut args = std::env::args().skip(1);
    let target = args.next().expect("usage: check <target> <file>...");
    let check: fn(&[u8]) = match target.as_str() {
        "record_line" => harness::check_record_line,
        "body" => harness::check_body,
        "http_framer" => harness::check_http_framer,
        "tcp_reassembler" => harness::check_tcp,
        "capture_reader" => harness::check_capture,
        "intervals" => harness::check_intervals,
        other => panic!("no stable check for {other}"),
    };
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        let first = msg.lines().next().unwrap_or("");
        let loc = info.location().map(|l| l.to_string()).unwrap_or_default();
        eprintln!("  panic at {loc}: {first}");
    }));
    let mut failed = 0;
    for path in args {
        let data = std::fs::read(&path).unwrap();
        eprintln!("{path}");
        if catch_unwind(AssertUnwindSafe(|| check(&data))).is_err() {
            failed += 1;
        }
    }
    std::process::exit(i32::from(failed > 0));
}
