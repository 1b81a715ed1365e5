//! `sunpower decode` and `sunpower stats` on captures.

use std::collections::BTreeMap;
use std::io::{self, IsTerminal};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use sunpower_pcap::capture::Input;
use sunpower_pcap::decoder::{
    CaptureDecoder, DecodeStats, DecoderConfig, Event, Post, ProblemKind,
};
use sunpower_pcap::http::BodyFilter;
use sunpower_proto::Body;

use crate::body::BodyCounts;
use crate::output::JsonLines;
use crate::Outcome;

/// Options shared by the capture commands.
#[derive(Debug, Clone, clap::Args)]
pub struct CaptureArgs {
    /// Capture files (pcap or pcapng, optionally gzip-compressed), or `-` for standard input.
    /// Several files are read in order as one capture (a rotated set).
    #[arg(value_name = "INPUT", required = true)]
    pub inputs: Vec<String>,
    /// Decode the body of every POST request, not only those to `.../SMS2DataCollector.aspx`.
    #[arg(long)]
    pub all_posts: bool,
    /// Never draw a progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

impl CaptureArgs {
    fn decoder(&self) -> CaptureDecoder {
        let inputs = self.inputs.iter().map(Input::from_arg).collect();
        let mut config = DecoderConfig::default();
        if self.all_posts {
            config.http.bodies = BodyFilter::AllPost;
        }
        CaptureDecoder::new(inputs, config)
    }

    fn live(&self) -> bool {
        self.inputs.iter().any(|i| i == "-")
    }

    fn progress_bar(&self, decoder: &CaptureDecoder) -> Option<ProgressBar> {
        if self.no_progress || self.live() || !io::stderr().is_terminal() {
            return None;
        }
        let total: u64 = decoder.reader().input_lens().iter().flatten().sum();
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {msg}")
                .ok()?,
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        Some(bar)
    }
}

/// Writes problems to standard error, at most `PER_KIND` of each kind so a capture full of
/// unrelated damaged traffic cannot flood the terminal; the rest are counted and summarised.
struct ProblemLog {
    printed: BTreeMap<&'static str, u64>,
    progress: Option<ProgressBar>,
}

const PER_KIND: u64 = 100;

impl ProblemLog {
    fn report(&mut self, kind: &'static str, message: impl std::fmt::Display) {
        let n = self.printed.entry(kind).or_default();
        *n += 1;
        if *n <= PER_KIND {
            match &self.progress {
                Some(bar) => bar.suspend(|| eprintln!("{message}")),
                None => eprintln!("{message}"),
            }
        }
    }

    fn summary(&self) {
        for (kind, n) in &self.printed {
            if *n > PER_KIND {
                eprintln!("sunpower: {} more {kind} problems not shown", n - PER_KIND);
            }
        }
    }
}

fn problem_kind_name(kind: &ProblemKind) -> &'static str {
    match kind {
        ProblemKind::Capture(_) => "capture",
        ProblemKind::Link(_) => "link-layer",
        ProblemKind::Ip(_) => "IP",
        ProblemKind::TcpFragment { .. } => "fragment",
        ProblemKind::Truncated { .. } => "truncated-segment",
        ProblemKind::Gap { .. } => "gap",
        ProblemKind::Http { .. } => "HTTP",
        ProblemKind::Skipped { .. } => "skipped-bytes",
        ProblemKind::IncompletePost { .. } => "incomplete-post",
        _ => "other",
    }
}

/// Decodes the records of one post, reporting its damaged lines.
fn each_record(
    post: &Post<'_>,
    log: &mut ProblemLog,
    counts: &mut BodyCounts,
    mut on_record: impl FnMut(&sunpower_proto::Record<'_>) -> io::Result<()>,
) -> io::Result<()> {
    for item in Body::new(post.decodable_body()).records() {
        match item {
            Ok(record) => {
                counts.count(&record);
                on_record(&record)?;
            }
            Err(e) => {
                counts.line_errors += 1;
                log.report(
                    "line",
                    format_args!(
                        "{}: packet {}, flow {}: {e}",
                        post.input, post.packet, post.flow
                    ),
                );
            }
        }
    }
    Ok(())
}

fn finish(decoder: &CaptureDecoder, log: &ProblemLog) -> Outcome {
    if let Some(bar) = &log.progress {
        bar.finish_and_clear();
    }
    log.summary();
    if decoder.had_unreadable_input() {
        Outcome::Unreadable
    } else {
        Outcome::Read
    }
}

pub fn decode(args: &CaptureArgs) -> io::Result<Outcome> {
    let mut decoder = args.decoder();
    let mut log = ProblemLog {
        printed: BTreeMap::new(),
        progress: args.progress_bar(&decoder),
    };
    let live = args.live();
    let mut out = JsonLines::stdout();
    let mut counts = BodyCounts::default();
    let mut result = Ok(());
    let mut steps = 0u64;
    while result.is_ok()
        && decoder.step(|event| match event {
            Event::Post(post) => {
                if result.is_ok() {
                    result = each_record(&post, &mut log, &mut counts, |r| {
                        out.record(r, post.channel)
                    });
                    // Live mode: a post's records leave as soon as the post is complete.
                    if live && result.is_ok() {
                        result = out.flush();
                    }
                }
            }
            Event::Problem(p) => log.report(problem_kind_name(&p.kind), p),
        })
    {
        steps += 1;
        if steps % 4096 == 0 {
            if let (Some(bar), Some(progress)) = (&log.progress, decoder.reader().progress()) {
                bar.set_position(progress_total(decoder.reader().input_lens(), progress));
            }
        }
    }
    result?;
    out.flush()?;
    Ok(finish(&decoder, &log))
}

fn progress_total(lens: &[Option<u64>], p: sunpower_pcap::capture::Progress<'_>) -> u64 {
    let before: u64 = lens.iter().take(p.input_index).flatten().sum();
    before + p.input_bytes_read
}

/// What `sunpower stats` prints for captures: DESIGN.md's keys first, then the details.
#[derive(Debug, Serialize)]
struct CaptureStats {
    packets: u64,
    connections: u64,
    posts: u64,
    records: u64,
    records_by_type: BTreeMap<String, u64>,
    gaps: u64,
    bytes_missing: u64,
    damaged_posts: u64,
    line_errors: u64,
    inverter_lines_collapsed: u64,
    details: Details,
}

/// Every other counter of the decoder, so nothing is silently dropped.
#[derive(Debug, Serialize)]
struct Details {
    non_ip_frames: u64,
    non_tcp_packets: u64,
    ip_fragments: u64,
    link_errors: u64,
    ip_errors: u64,
    truncated_segments: u64,
    truncated_bytes: u64,
    capture_errors: u64,
    requests: u64,
    other_requests: u64,
    http_errors: u64,
    skipped_bytes: u64,
    response_bytes: u64,
    non_http_streams: u64,
    non_http_bytes: u64,
    duplicate_bytes: u64,
    out_of_window_segments: u64,
    connections_evicted: u64,
    orphan_segments: u64,
    oversized_bodies: u64,
    oversized_body_bytes: u64,
    connections_restarted: u64,
    connections_continued_after_fin: u64,
    bytes_after_close: u64,
    conflicting_overlaps: u64,
    connections_over_budget: u64,
}

pub fn stats(args: &CaptureArgs) -> io::Result<Outcome> {
    let mut decoder = args.decoder();
    let mut log = ProblemLog {
        printed: BTreeMap::new(),
        progress: args.progress_bar(&decoder),
    };
    let mut counts = BodyCounts::default();
    decoder.run(|event| match event {
        Event::Post(post) => {
            // Counting cannot fail: the closure never returns an error.
            let _ = each_record(&post, &mut log, &mut counts, |_| Ok(()));
        }
        Event::Problem(p) => log.report(problem_kind_name(&p.kind), p),
    });
    let s: DecodeStats = decoder.stats();
    let report = CaptureStats {
        packets: s.packets,
        connections: s.connections,
        posts: s.posts,
        records: counts.records,
        records_by_type: counts.records_by_type,
        gaps: s.gaps,
        bytes_missing: s.bytes_missing,
        damaged_posts: s.damaged_posts,
        line_errors: counts.line_errors,
        inverter_lines_collapsed: counts.inverter_lines_collapsed,
        details: Details {
            non_ip_frames: s.non_ip,
            non_tcp_packets: s.non_tcp,
            ip_fragments: s.fragments,
            link_errors: s.link_errors,
            ip_errors: s.ip_errors,
            truncated_segments: s.truncated_segments,
            truncated_bytes: s.truncated_bytes,
            capture_errors: s.capture_errors,
            requests: s.requests,
            other_requests: s.other_requests,
            http_errors: s.http_errors,
            skipped_bytes: s.skipped_bytes,
            response_bytes: s.response_bytes,
            non_http_streams: s.non_http_streams,
            non_http_bytes: s.non_http_bytes,
            duplicate_bytes: s.duplicate_bytes,
            out_of_window_segments: s.out_of_window_segments,
            connections_evicted: s.connections_evicted,
            orphan_segments: s.orphan_segments,
            oversized_bodies: s.oversized_bodies,
            oversized_body_bytes: s.oversized_body_bytes,
            connections_restarted: s.connections_restarted,
            connections_continued_after_fin: s.connections_continued_after_fin,
            bytes_after_close: s.bytes_after_close,
            conflicting_overlaps: s.conflicting_overlaps,
            connections_over_budget: s.connections_over_budget,
        },
    };
    let outcome = finish(&decoder, &log);
    let mut stdout = io::stdout().lock();
    serde_json::to_writer(&mut stdout, &report)?;
    io::Write::write_all(&mut stdout, b"\n")?;
    Ok(outcome)
}
