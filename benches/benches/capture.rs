//! Capture decoding: MB/s of the whole pipeline (capture reader, link/IP/TCP, reassembly, HTTP
//! framing, and the records of every collector post) next to the ceiling, raw `pcap-parser` block
//! iteration over the same bytes, in the same group and the same run. Two captures:
//! - `mixed_4_days` (~72 MB): the sample day plus TLS video streaming and an HTTP download, so
//!   collector posts are a small share (about 5 % of the bytes, as in a real home);
//! - `sample_30_days` (~65 MB): `examples/sample.pcap` replayed, collector posts 41 % of the bytes.
//!
//! `cargo bench -p sunpower-benches --bench capture`; prints the ratios to the ceiling last.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput};
use sunpower_benches::stages::{
    capture_reader, decode_posts, decode_records, raw_blocks, raw_blocks_noshift,
};
use sunpower_benches::{criterion_quick_mode, interleaved_medians, mixed_days, sample_days};

/// Days of each capture.
const MIXED_DAYS: u64 = 4;
const SAMPLE_DAYS: u64 = 30;

/// Checks that a replayed capture decodes as cleanly as the one-day sample does (5,304 records
/// a day), so that the benchmark measures the real path, not an error path.
fn checked(bytes: Vec<u8>, days: u64) -> Arc<[u8]> {
    let bytes: Arc<[u8]> = bytes.into();
    assert_eq!(
        decode_records(&bytes),
        5_304 * days,
        "replayed capture decodes"
    );
    bytes
}

fn bench_capture(c: &mut Criterion, name: &str, bytes: &Arc<[u8]>) {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.sample_size(10);
    group.bench_function("raw_pcap_parser_ceiling", |b| {
        b.iter(|| raw_blocks(black_box(bytes)))
    });
    group.bench_function("capture_reader", |b| {
        b.iter(|| capture_reader(black_box(bytes)))
    });
    group.bench_function("decode_posts", |b| {
        b.iter(|| decode_posts(black_box(bytes)))
    });
    group.bench_function("decode_records", |b| {
        b.iter(|| decode_records(black_box(bytes)))
    });
    group.finish();
}

/// One decoding stage over the whole capture.
type Stage = fn(&Arc<[u8]>) -> u64;
/// One raw iteration over the whole capture (packets, bytes touched).
type Ceiling = fn(&Arc<[u8]>) -> (u64, u64);

/// The ratios the README quotes, each measured interleaved with its ceiling in this run: the
/// documented pcap-parser loop, then one that avoids its second copy as the reader does (so
/// that the ratio is not flattered by the ceiling's extra work).
fn report_ratios(capture: &str, bytes: &Arc<[u8]>) {
    let mb = bytes.len() as f64 / 1e6;
    let stages: [(&str, Stage); 3] = [
        ("capture_reader", capture_reader),
        ("decode_posts", decode_posts),
        ("decode_records", decode_records),
    ];
    let ceilings: [(&str, Ceiling); 2] = [
        ("raw pcap-parser", raw_blocks),
        ("raw pcap-parser with consume_noshift", raw_blocks_noshift),
    ];
    for (ceiling_name, ceiling) in ceilings {
        for (name, stage) in stages {
            // 31 rounds: one pass of the ceiling takes about 10 ms, short enough for a
            // scheduler hiccup to move a median of 9.
            let (ceiling_s, decode_s) = interleaved_medians(
                31,
                || {
                    black_box(ceiling(bytes));
                },
                || {
                    black_box(stage(bytes));
                },
            );
            println!(
                "ratio {capture} {name}: {:.0} MB/s vs {ceiling_name} {:.0} MB/s = {:.0}% of that ceiling",
                mb / decode_s,
                mb / ceiling_s,
                100.0 * ceiling_s / decode_s
            );
        }
    }
}

fn main() {
    let captures = [
        (
            "capture_mixed_4_days",
            checked(
                mixed_days(MIXED_DAYS).expect("examples/sample.pcap"),
                MIXED_DAYS,
            ),
        ),
        (
            "capture_sample_30_days",
            checked(
                sample_days(SAMPLE_DAYS).expect("examples/sample.pcap"),
                SAMPLE_DAYS,
            ),
        ),
    ];
    for (name, bytes) in &captures {
        eprintln!("{name}: {} bytes", bytes.len());
    }
    let mut c = Criterion::default().configure_from_args();
    for (name, bytes) in &captures {
        bench_capture(&mut c, name, bytes);
    }
    c.final_summary();
    if !criterion_quick_mode() {
        for (name, bytes) in &captures {
            report_ratios(name, bytes);
        }
    }
}
