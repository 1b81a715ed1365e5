//! Record parsing: MB/s and records/s of `Body::records()` on a normal post (~3 kB) and a backlog
//! replay (~2 MB), next to a naive split-and-parse decoder (the baseline) in the same groups.
//!
//! `cargo bench -p sunpower-benches --bench parse`; prints the ratio to the naive decoder last.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput};
use sunpower_benches::{
    backlog_post, criterion_quick_mode, interleaved_medians, naive_decode, normal_post, parse_all,
};

fn naive_all(body: &str) -> usize {
    naive_decode(body).len()
}

fn bodies() -> [(&'static str, String); 2] {
    [
        ("normal_post_3kB", normal_post()),
        ("backlog_2MB", backlog_post(2_000_000)),
    ]
}

/// Both decoders on each body, counted in bytes (`parse_bytes`) or in records (`parse_records`).
fn bench_parsers(c: &mut Criterion, group_name: &str, in_records: bool) {
    let mut group = c.benchmark_group(group_name);
    for (name, body) in bodies() {
        group.throughput(if in_records {
            Throughput::Elements(sunpower_proto::Body::new(body.as_bytes()).records().count() as u64)
        } else {
            Throughput::Bytes(body.len() as u64)
        });
        group.bench_with_input(BenchmarkId::new("records", name), &body, |b, body| {
            b.iter(|| parse_all(black_box(body.as_bytes())))
        });
        group.bench_with_input(
            BenchmarkId::new("naive_baseline", name),
            &body,
            |b, body| b.iter(|| naive_all(black_box(body))),
        );
    }
    group.finish();
}

/// The ratio the README quotes, measured interleaved in this run.
fn report_ratios() {
    for (name, body) in bodies() {
        let reps = (4_000_000 / body.len()).max(1);
        let (fast, naive) = interleaved_medians(
            15,
            || {
                for _ in 0..reps {
                    black_box(parse_all(black_box(body.as_bytes())));
                }
            },
            || {
                for _ in 0..reps {
                    black_box(naive_all(black_box(&body)));
                }
            },
        );
        let mb = (body.len() * reps) as f64 / 1e6;
        println!(
            "ratio {name}: Body::records {:.1} MB/s, naive Rust split+parse {:.1} MB/s, speed-up x{:.2}",
            mb / fast,
            mb / naive,
            naive / fast
        );
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench_parsers(&mut c, "parse_bytes", false);
    bench_parsers(&mut c, "parse_records", true);
    c.final_summary();
    if !criterion_quick_mode() {
        report_ratios();
    }
}
