//! Capture decoding: MB/s of the whole pipeline (capture reader, link/IP/TCP, reassembly, HTTP
//! framing, and the records of every collector post) next to the ceiling, raw `pcap-parser` block
//! iteration over the same bytes, in the same group and the same run. Two captures:
//! - `mixed_4_days` (~72 MB): the sample day plus TLS video streaming and an HTTP download, so
//!   collector posts are a small share (about 5 % of the bytes, as in a real home);
//! - `sample_30_days` (~65 MB): `examples/sample.pcap` replayed, collector posts 41 % of the bytes.
//!
//! `cargo bench -p sunpower-benches --bench capture`; prints the ratios to the ceiling last.

use std::hint::black_box;
use std::io::Cursor;
use std::sync::Arc;

use criterion::{Criterion, Throughput};
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{LegacyPcapReader, PcapBlockOwned, PcapError};
use sunpower_benches::{criterion_quick_mode, interleaved_medians, mixed_days, sample_days};
use sunpower_pcap::capture::{CaptureReader, Input, INITIAL_BUFFER_SIZE};
use sunpower_pcap::decoder::{CaptureDecoder, DecoderConfig, Event};
use sunpower_proto::Body;

/// Days of each capture.
const MIXED_DAYS: u64 = 4;
const SAMPLE_DAYS: u64 = 30;

/// The ceiling: pcap-parser's streaming reader with the buffer size `CaptureReader` uses, doing
/// next / consume / refill and touching every packet's bytes (length and first byte).
fn raw_blocks(bytes: &Arc<[u8]>) -> (u64, u64) {
    let mut reader = LegacyPcapReader::new(INITIAL_BUFFER_SIZE, Cursor::new(bytes.clone()))
        .expect("pcap header");
    let (mut packets, mut touched) = (0u64, 0u64);
    loop {
        match reader.next() {
            Ok((offset, block)) => {
                if let PcapBlockOwned::Legacy(b) = block {
                    packets += 1;
                    touched +=
                        u64::from(b.caplen) + u64::from(b.data.first().copied().unwrap_or(0));
                }
                reader.consume(offset);
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => reader.refill().expect("refill"),
            Err(e) => panic!("raw iteration: {e:?}"),
        }
    }
    (packets, touched)
}

/// The project's reader alone: packets with decoded timestamps, no protocol work.
fn capture_reader(bytes: &Arc<[u8]>) -> u64 {
    let mut reader = CaptureReader::new(vec![Input::from_reader(
        "bench",
        Cursor::new(bytes.clone()),
    )]);
    let mut touched = 0;
    while let Some(item) = reader.next_packet() {
        let packet = item.expect("packet");
        touched += u64::from(packet.caplen);
    }
    touched
}

/// The pipeline to collector posts (no record parsing).
fn decode_posts(bytes: &Arc<[u8]>) -> u64 {
    let mut decoder = CaptureDecoder::new(
        vec![Input::from_reader("bench", Cursor::new(bytes.clone()))],
        DecoderConfig::default(),
    );
    let mut body_bytes = 0;
    decoder.run(|event| {
        if let Event::Post(post) = event {
            body_bytes += post.body.len() as u64;
        }
    });
    body_bytes
}

/// Full decoding, what `sunpower stats` does: posts and every record of every post.
fn decode_records(bytes: &Arc<[u8]>) -> u64 {
    let mut decoder = CaptureDecoder::new(
        vec![Input::from_reader("bench", Cursor::new(bytes.clone()))],
        DecoderConfig::default(),
    );
    let mut records = 0;
    decoder.run(|event| {
        if let Event::Post(post) = event {
            records += Body::new(post.decodable_body())
                .records()
                .filter(Result::is_ok)
                .count() as u64;
        }
    });
    records
}

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

/// The ratios the README quotes, each measured interleaved with the ceiling in this run.
fn report_ratios(capture: &str, bytes: &Arc<[u8]>) {
    let mb = bytes.len() as f64 / 1e6;
    let stages: [(&str, Stage); 3] = [
        ("capture_reader", capture_reader),
        ("decode_posts", decode_posts),
        ("decode_records", decode_records),
    ];
    for (name, stage) in stages {
        let (ceiling, decode) = interleaved_medians(
            9,
            || {
                black_box(raw_blocks(bytes));
            },
            || {
                black_box(stage(bytes));
            },
        );
        println!(
            "ratio {capture} {name}: {:.0} MB/s vs raw pcap-parser {:.0} MB/s = {:.0}% of the ceiling",
            mb / decode,
            mb / ceiling,
            100.0 * ceiling / decode
        );
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
