//! The stages of capture decoding that the capture benchmark times and `capture_bench` runs
//! under a profiler: the raw pcap-parser ceiling, the project's reader alone, the pipeline to
//! posts, and the pipeline with every record decoded. Each returns a count, so that the work
//! cannot be optimised away.

use std::io::Cursor;
use std::sync::Arc;

use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{LegacyPcapReader, PcapBlockOwned, PcapError};
use sunpower_pcap::capture::{CaptureReader, Input};
use sunpower_pcap::decoder::{CaptureDecoder, DecoderConfig, Event, Post};
use sunpower_pcap::records::{RecordDecoder, RecordEvent};
use sunpower_proto::arrow::{RecordBatcher, RecordContext};
use sunpower_proto::Body;

/// The ceiling: pcap-parser's streaming reader with the buffer size `CaptureReader` uses, doing
/// next / consume / refill and touching every packet's bytes (length and first byte).
pub fn raw_blocks(bytes: &Arc<[u8]>) -> (u64, u64) {
    raw_iteration(bytes, false)
}

/// The ceiling tuned as `CaptureReader` is: `consume_noshift` (pcap-parser's `consume` moves
/// the unread half of the buffer to its front whenever the read position passes the middle, a
/// second copy of about every byte; `refill` shifts anyway). For the fairness of the ratio: the
/// reader does less copying than the documented loop.
pub fn raw_blocks_noshift(bytes: &Arc<[u8]>) -> (u64, u64) {
    raw_iteration(bytes, true)
}

/// The buffer `CaptureReader` starts with (1 MiB).
const INITIAL_BUFFER_SIZE: usize = 1 << 20;

fn raw_iteration(bytes: &Arc<[u8]>, noshift: bool) -> (u64, u64) {
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
                if noshift {
                    reader.consume_noshift(offset);
                } else {
                    reader.consume(offset);
                }
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => reader.refill().expect("refill"),
            Err(e) => panic!("raw iteration: {e:?}"),
        }
    }
    (packets, touched)
}

/// The project's reader alone: packets with decoded timestamps, no protocol work.
pub fn capture_reader(bytes: &Arc<[u8]>) -> u64 {
    let mut reader = CaptureReader::new(vec![Input::from_reader(
        "bench",
        Cursor::new(bytes.clone()),
    )]);
    let mut touched = 0;
    while let Some(item) = reader.next_packet() {
        let packet = item.expect("packet");
        touched += packet.data.len() as u64;
    }
    touched
}

/// Runs the whole capture through the decoder, handing each post to `on_post`.
fn each_post(bytes: &Arc<[u8]>, mut on_post: impl FnMut(&Post<'_>)) {
    let mut decoder = CaptureDecoder::new(
        vec![Input::from_reader("bench", Cursor::new(bytes.clone()))],
        DecoderConfig::default(),
    );
    decoder.run(|event| {
        if let Event::Post(post) = event {
            on_post(&post);
        }
    });
}

/// The pipeline to collector posts (no record parsing).
pub fn decode_posts(bytes: &Arc<[u8]>) -> u64 {
    let mut body_bytes = 0;
    each_post(bytes, |post| body_bytes += post.body.len() as u64);
    body_bytes
}

/// Full decoding, what `sunpower stats` does: posts and every record of every post.
pub fn decode_records(bytes: &Arc<[u8]>) -> u64 {
    let mut records = 0;
    each_post(bytes, |post| {
        records += Body::new(post.decodable_body())
            .records()
            .filter(Result::is_ok)
            .count() as u64;
    });
    records
}

/// What Python's `read_capture` iterates: the library's record decoder (posts, records,
/// counts, problem log), every record counted.
pub fn decoder_records(bytes: &Arc<[u8]>) -> u64 {
    each_record(bytes, |_, _| {})
}

/// What Python's `read_capture(...).to_arrow()` does: the record decoder with every record
/// into Arrow batches; the rows of the batches made.
pub fn arrow_batches(bytes: &Arc<[u8]>) -> u64 {
    let mut batcher = RecordBatcher::new();
    let mut rows = 0u64;
    each_record(bytes, |record, context| {
        batcher
            .push(record, context, |b| rows += b.batch.num_rows() as u64)
            .expect("batch");
    });
    batcher
        .finish(|b| rows += b.batch.num_rows() as u64)
        .expect("batch");
    rows
}

fn each_record(
    bytes: &Arc<[u8]>,
    mut on_record: impl FnMut(&sunpower_proto::Record<'_>, &RecordContext<'_>),
) -> u64 {
    let mut decoder = RecordDecoder::new(
        vec![Input::from_reader("bench", Cursor::new(bytes.clone()))],
        DecoderConfig::default(),
    );
    let mut records = 0;
    while decoder.step(|event| {
        if let RecordEvent::Record { post, record } = event {
            records += 1;
            let context = RecordContext {
                channel: post.channel,
                captured_at: Some(post.captured_at),
                input: Some(post.input),
            };
            on_record(&record, &context);
        }
    }) {}
    records
}
