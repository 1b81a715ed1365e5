//! JSON Lines output: `sunpower parse`'s work (decode a body, write every record as a JSON line)
//! relative to `sunpower stats --body`'s (decode and count), with serde_json's serializer
//! (`serde_json::to_writer(JsonRecord)`, the command's writer before `JsonRecord::write_to`),
//! with the direct writer on records (`JsonRecord::new(..).write_to`), and with it on records
//! as decoded (`BodyStream::feed_decoded`, `DecodedRecord::json`: the command's writer now, which
//! takes the fields and decimals' text from the decoder). Bodies: the 2 MB backlog replay, and
//! the forum sample body
//! (`examples/bodies/forum-2017-body.txt`) repeated to about 2 MB.
//!
//! `cargo bench -p sunpower-benches --bench json`; `-- zzz` prints only the ratios.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput};
use sunpower_benches::{criterion_quick_mode, interleaved_medians_of, large_body};
use sunpower_proto::{BodyStream, DecodedRecord, JsonRecord, LineError, Record, RecordCounts};

/// The chunk size `sunpower`'s body reader reads with.
const CHUNK: usize = 1 << 16;

/// Output is handed on (here: dropped) at this size, as the command's 64 KiB buffer does.
const FLUSH_AT: usize = 1 << 16;

fn bodies() -> Vec<(&'static str, Vec<u8>)> {
    let forum = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/bodies/forum-2017-body.txt"
    ))
    .expect("the forum sample body");
    let mut repeated = Vec::new();
    while repeated.len() < 2_000_000 {
        repeated.extend_from_slice(&forum);
    }
    vec![
        ("backlog_2MB", large_body().into_bytes()),
        ("forum_body_x700", repeated),
    ]
}

/// Streams `body` through a `BodyStream` in 64 KiB chunks, as `sunpower parse` and `stats --body`
/// read a file, handing every item to `on_item`.
fn stream(body: &[u8], mut on_item: impl FnMut(Result<Record<'_>, LineError>)) {
    let mut stream = BodyStream::new();
    for chunk in body.chunks(CHUNK) {
        stream.feed(chunk, &mut on_item);
    }
    stream.finish(&mut on_item);
}

/// (a) `sunpower stats --body`: decode and count.
fn stats(body: &[u8]) -> u64 {
    let mut counts = RecordCounts::default();
    stream(body, |item| counts.count(&item));
    counts.records
}

/// The command's output buffer: whole lines, handed on (here: dropped) once it holds
/// [`FLUSH_AT`] bytes, as the command's 64 KiB buffer is.
struct Output<'o> {
    buf: &'o mut Vec<u8>,
    written: usize,
}

impl<'o> Output<'o> {
    fn new(buf: &'o mut Vec<u8>) -> Self {
        buf.clear();
        Output { buf, written: 0 }
    }

    /// Ends the line just written.
    fn end_line(&mut self) {
        self.buf.push(b'\n');
        if self.buf.len() >= FLUSH_AT {
            self.written += black_box(&*self.buf).len();
            self.buf.clear();
        }
    }

    /// Bytes written in all.
    fn total(self) -> usize {
        self.written + self.buf.len()
    }
}

/// (b) `sunpower parse` before: serde_json's serializer for every record.
fn parse_serde(body: &[u8], buf: &mut Vec<u8>) -> usize {
    let mut out = Output::new(buf);
    stream(body, |item| {
        if let Ok(record) = item {
            serde_json::to_writer(&mut *out.buf, &JsonRecord::new(&record, None)).expect("a Vec");
            out.end_line();
        }
    });
    out.total()
}

/// (c) the record path: `JsonRecord::new(..).write_to` (the command's writer in the second
/// pass).
fn parse_direct(body: &[u8], buf: &mut Vec<u8>) -> usize {
    let mut out = Output::new(buf);
    stream(body, |item| {
        if let Ok(record) = item {
            JsonRecord::new(&record, None).write_to(out.buf);
            out.end_line();
        }
    });
    out.total()
}

/// (d) `sunpower parse` now: records as decoded, `DecodedRecord::json`.
fn parse_decoded(body: &[u8], buf: &mut Vec<u8>) -> usize {
    let mut out = Output::new(buf);
    let mut on_item = |item: Result<DecodedRecord<'_>, LineError>| {
        if let Ok(decoded) = item {
            decoded.json(None).write_to(out.buf);
            out.end_line();
        }
    };
    let mut stream = BodyStream::new();
    for chunk in body.chunks(CHUNK) {
        stream.feed_decoded(chunk, &mut on_item);
    }
    stream.finish_decoded(&mut on_item);
    out.total()
}

fn bench_json(c: &mut Criterion) {
    let mut group = c.benchmark_group("json_lines");
    for (name, body) in bodies() {
        group.throughput(Throughput::Bytes(body.len() as u64));
        let mut out = Vec::with_capacity(2 * FLUSH_AT);
        group.bench_with_input(BenchmarkId::new("stats_body", name), &body, |b, body| {
            b.iter(|| stats(black_box(body)))
        });
        group.bench_with_input(
            BenchmarkId::new("parse_serde_json", name),
            &body,
            |b, body| b.iter(|| parse_serde(black_box(body), &mut out)),
        );
        group.bench_with_input(
            BenchmarkId::new("parse_write_to", name),
            &body,
            |b, body| b.iter(|| parse_direct(black_box(body), &mut out)),
        );
        group.bench_with_input(BenchmarkId::new("parse_decoded", name), &body, |b, body| {
            b.iter(|| parse_decoded(black_box(body), &mut out))
        });
    }
    group.finish();
}

/// The figures the README quotes: the three sides alternately, median of 21 rounds.
fn report_ratios() {
    for (name, body) in bodies() {
        let mut out = Vec::with_capacity(2 * FLUSH_AT);
        let mut check = Vec::new();
        // Same output, so the two writers are timed on the same work.
        let serde_len = parse_serde(&body, &mut check);
        assert_eq!(parse_direct(&body, &mut check), serde_len);
        assert_eq!(parse_decoded(&body, &mut check), serde_len);
        let reps = 2;
        let mut serde_out = Vec::with_capacity(2 * FLUSH_AT);
        let mut a = || {
            for _ in 0..reps {
                black_box(stats(black_box(&body)));
            }
        };
        let mut b = || {
            for _ in 0..reps {
                black_box(parse_serde(black_box(&body), &mut serde_out));
            }
        };
        let mut c = || {
            for _ in 0..reps {
                black_box(parse_direct(black_box(&body), &mut out));
            }
        };
        let mut decoded_out = Vec::with_capacity(2 * FLUSH_AT);
        let mut d = || {
            for _ in 0..reps {
                black_box(parse_decoded(black_box(&body), &mut decoded_out));
            }
        };
        let t = interleaved_medians_of(21, &mut [&mut a, &mut b, &mut c, &mut d]);
        let mb = (body.len() * reps) as f64 / 1e6;
        let (stats_s, serde_s, direct_s, decoded_s) = (t[0], t[1], t[2], t[3]);
        println!(
            "ratio {name}: stats --body {:.1} MB/s; parse with serde_json {:.1} MB/s = {:.3} of stats; \
             parse with write_to {:.1} MB/s = {:.3} of stats, x{:.2}; \
             parse as decoded {:.1} MB/s = {:.3} of stats, x{:.2} ({} bytes of JSON)",
            mb / stats_s,
            mb / serde_s,
            stats_s / serde_s,
            mb / direct_s,
            stats_s / direct_s,
            serde_s / direct_s,
            mb / decoded_s,
            stats_s / decoded_s,
            serde_s / decoded_s,
            serde_len,
        );
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench_json(&mut c);
    c.final_summary();
    if !criterion_quick_mode() {
        report_ratios();
    }
}
