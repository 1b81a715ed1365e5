//! JSON Lines output: `sunpower parse`'s work (decode a body, write every record as a JSON line)
//! relative to `sunpower stats --body`'s (decode and count), with serde_json's serializer
//! (`serde_json::to_writer(JsonRecord)`, the command's writer before its own), and with
//! `JsonLines` (the command's writer now, which takes fields' text from the line where each
//! record's field bounds say it is). Bodies: the 2 MB backlog replay, and the forum sample body
//! (`examples/bodies/forum-2017-body.txt`) repeated to about 2 MB.
//!
//! `cargo bench -p sunpower-benches --bench json`; `-- zzz` prints only the ratios.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput};
use sunpower_benches::{criterion_quick_mode, interleaved_medians_of, large_body};
use sunpower_proto::{BodyStream, JsonLines, JsonRecord, LineError, Record, RecordCounts};

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

/// Counts what it is given and drops it.
struct Sink<'c>(&'c mut usize);

impl std::io::Write for Sink<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        *self.0 += black_box(bytes).len();
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// (c) `sunpower parse` now: `JsonLines` (its own 64 KiB buffer, handed on when full).
fn parse_json_lines(body: &[u8]) -> usize {
    let mut written = 0;
    let mut lines = JsonLines::new(Sink(&mut written));
    stream(body, |item| {
        if let Ok(record) = item {
            lines.write_record(&record, None).expect("a sink");
        }
    });
    lines.into_inner().expect("a sink");
    written
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
            BenchmarkId::new("parse_json_lines", name),
            &body,
            |b, body| b.iter(|| parse_json_lines(black_box(body))),
        );
    }
    group.finish();
}

/// The figures the README quotes: the three sides alternately, median of 21 rounds.
fn report_ratios() {
    for (name, body) in bodies() {
        let mut check = Vec::new();
        // Same output, so the two writers are timed on the same work.
        let serde_len = parse_serde(&body, &mut check);
        assert_eq!(parse_json_lines(&body), serde_len);
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
                black_box(parse_json_lines(black_box(&body)));
            }
        };
        let t = interleaved_medians_of(21, &mut [&mut a, &mut b, &mut c]);
        let mb = (body.len() * reps) as f64 / 1e6;
        let (stats_s, serde_s, lines_s) = (t[0], t[1], t[2]);
        println!(
            "ratio {name}: stats --body {:.1} MB/s; parse with serde_json {:.1} MB/s = {:.3} of stats; \
             parse with JsonLines {:.1} MB/s = {:.3} of stats, x{:.2} ({} bytes of JSON)",
            mb / stats_s,
            mb / serde_s,
            stats_s / serde_s,
            mb / lines_s,
            stats_s / lines_s,
            serde_s / lines_s,
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
