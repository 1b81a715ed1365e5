//! The checks of every fuzz target, as plain functions on bytes.
//!
//! Written once and used twice: by the cargo-fuzz targets in `fuzz_targets/` (through
//! `#[path]`) and by `sunpower-pcap/tests/fuzz_corpus_replay.rs`, which replays the saved corpora
//! on stable. It only uses what `sunpower-pcap` and `sunpower-proto` (default features) offer, so
//! that the replay test needs no dependency of its own. Structured inputs (chunking plans, TCP
//! segment lists) are decoded from the bytes by the small decoders below rather than by the
//! `arbitrary` crate, so that a corpus file means the same thing in both places.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Cursor;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use chrono::{DateTime, TimeDelta, Utc};
use sunpower_pcap::capture::Input;
use sunpower_pcap::decoder::{CaptureDecoder, DecoderConfig, Event};
use sunpower_pcap::flow::{Direction, FlowEvent, FlowTable};
use sunpower_pcap::http::{BodyFilter, FramerConfig, HttpEvent, RequestFramer};
use sunpower_pcap::ip::{TcpSegment, TCP_SYN};
use sunpower_pcap::tcp::{Reassembler, StreamEvent, TcpConfig};
use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
use sunpower_proto::{parse_line, Body, Record, RecordBuf};

/// Reads structure from the front of a fuzz input; exhausted input reads as zeros.
pub struct ByteReader<'a> {
    data: &'a [u8],
}

impl<'a> ByteReader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        ByteReader { data }
    }

    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.data.len());
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        head
    }

    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.data)
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

// ---------------------------------------------------------------------------------------------
// record_line, body

/// `record_line`: one line (no line ending) through `parse_line` and the owned form.
pub fn check_record_line(data: &[u8]) {
    let Ok(line) = std::str::from_utf8(data) else {
        // A non-UTF-8 line must be an error when it comes through a body.
        if !data.contains(&b'\n') {
            let mut records = Body::new(data).records();
            assert!(
                matches!(records.next(), Some(Err(_))),
                "a non-UTF-8 line decoded"
            );
        }
        return;
    };
    let parsed = parse_line(line);
    let owned = RecordBuf::parse(line);
    assert_eq!(
        parsed.is_ok(),
        owned.is_ok(),
        "parse_line and RecordBuf::parse disagree"
    );
    if let Ok(record) = parsed {
        check_record(line, &record);
        let buf = owned.unwrap();
        assert_eq!(buf.line(), Some(line));
        assert_eq!(buf.record(), record);
    }
}

/// What every decoded record must satisfy, against the line it came from.
pub fn check_record(line: &str, record: &Record<'_>) {
    let raw = record
        .raw()
        .expect("a collector line's record has its raw fields");
    assert_eq!(raw.as_str(), line, "raw() is not the line");
    assert!(
        raw.iter().eq(line.split('\t')),
        "raw fields differ from split('\\t')"
    );
    assert_eq!(raw.len(), line.split('\t').count());
    let field0: u16 = line
        .split('\t')
        .next()
        .unwrap_or("")
        .parse()
        .expect("a decoded record's field 0 must be an integer");
    assert_eq!(record.record_type(), field0);
    let extra: Vec<&str> = record.extra_fields().collect();
    assert!(extra.len() <= raw.len());
    let mut n = 0;
    record.visit_fields(|_, _| n += 1);
    let _ = (record.timestamp(), record.serial(), n);
}

/// `body`: a whole body through `Body::records`, against a reference split.
pub fn check_body(data: &[u8]) {
    // (number, offset, bytes) of each non-empty line.
    let mut reference = Vec::new();
    let mut offset = 0;
    for (i, line) in data.split(|&b| b == b'\n').enumerate() {
        let bytes = line.strip_suffix(b"\r").unwrap_or(line);
        if !bytes.is_empty() {
            reference.push((i + 1, offset, bytes));
        }
        offset += line.len() + 1;
    }
    // A body ending in LF has no line after it.
    let records: Vec<_> = Body::new(data).records().collect();
    // Each line gives its error, or its record then one error per unreadable value.
    let mut items = records.iter().peekable();
    for &(number, offset, bytes) in &reference {
        let item = items
            .next()
            .expect("line count differs from the reference split");
        match (std::str::from_utf8(bytes), item) {
            (Err(_), Ok(_)) => panic!("a non-UTF-8 line decoded: {bytes:?}"),
            (Err(_), Err(e)) | (Ok(_), Err(e)) => {
                assert_eq!(e.line, number, "error line number");
                assert_eq!(e.offset, offset, "error offset");
            }
            (Ok(text), Ok(record)) => {
                check_record(text, record);
                if let Some(raw) = record.raw() {
                    assert_eq!(raw.as_str(), text, "a record's raw is its line");
                }
                let mut fields = Vec::new();
                while let Some(Err(e)) = items.next_if(|i| matches!(i, Err(e) if e.line == number))
                {
                    assert_eq!(e.offset, offset, "field error offset");
                    assert!(
                        matches!(e.kind, sunpower_proto::ErrorKind::InvalidField { .. }),
                        "a decoded line's error is not a field's: {e}"
                    );
                    fields.push(e.kind.field_index());
                }
                assert!(fields.is_sorted(), "field errors out of order: {fields:?}");
                // Strictly, alone, the line is its first field error.
                match (parse_line(text), fields.first()) {
                    (Ok(alone), None) => assert_eq!(&alone, record),
                    (Err(e), Some(&first)) => assert_eq!(e.kind.field_index(), first),
                    (alone, first) => panic!("strict {alone:?} against field errors {first:?}"),
                }
            }
        }
    }
    assert!(
        items.next().is_none(),
        "line count differs from the reference split"
    );
    // The records written as JSON Lines (fields taken from the line where the record's field
    // bounds say): serde_json's bytes, record by record.
    let mut lines = sunpower_proto::JsonLines::new(Vec::new());
    let mut want = Vec::new();
    for record in records.iter().flatten() {
        lines
            .write_record(record, None)
            .expect("a Vec takes every write");
        serde_json::to_writer(&mut want, &sunpower_proto::JsonRecord::new(record, None))
            .expect("a record serializes");
        want.push(b'\n');
    }
    let got = lines.into_inner().expect("a Vec takes every write");
    assert_eq!(got, want, "JsonLines differs from serde_json");
}

// ---------------------------------------------------------------------------------------------
// http_framer

/// An owned copy of an [`HttpEvent`], to compare runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpEv {
    Request(u64, String, String, Vec<u8>),
    Unselected(u64, String, String, u64),
    Incomplete(u64, String, String, Vec<u8>, Option<u64>),
    Error(u64, String),
    Skipped(u64, u64),
    Response(u64),
    NotHttp(u8),
    Other(String),
}

fn own_http(e: HttpEvent<'_>) -> HttpEv {
    match e {
        HttpEvent::Request {
            at,
            method,
            target,
            body,
        } => HttpEv::Request(at, method.into(), target.into(), body.to_vec()),
        HttpEvent::Unselected {
            at,
            method,
            target,
            body_len,
        } => HttpEv::Unselected(at, method.into(), target.into(), body_len),
        HttpEvent::IncompleteBody {
            at,
            method,
            target,
            received,
            missing,
        } => HttpEv::Incomplete(at, method.into(), target.into(), received.to_vec(), missing),
        HttpEvent::Error { at, error } => HttpEv::Error(at, format!("{error:?}")),
        HttpEvent::Skipped { at, len } => HttpEv::Skipped(at, len),
        HttpEvent::Response { at } => HttpEv::Response(at),
        HttpEvent::NotHttp { first_byte } => HttpEv::NotHttp(first_byte),
        other => HttpEv::Other(format!("{other:?}")),
    }
}

/// One step of a chunking plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Feed the next `n` bytes.
    Feed(usize),
    /// The next `n` bytes are lost: `gap(n)`, and they are not fed.
    Gap(usize),
}

/// A stream and how to cut it.
#[derive(Debug, Clone)]
pub struct HttpPlan<'a> {
    pub config: FramerConfig,
    pub mid_stream: bool,
    pub plan: Vec<Step>,
    pub stream: &'a [u8],
}

impl<'a> HttpPlan<'a> {
    /// Byte 0: options; byte 1: plan length; then the plan (one byte a step: `0xE0 | n` is a
    /// gap of `n + 1` bytes, anything else a chunk of that many bytes, 0 meaning 1); then the
    /// stream.
    pub fn decode(data: &'a [u8]) -> Self {
        let mut r = ByteReader::new(data);
        let opts = r.u8();
        let bodies = match opts & 3 {
            0 => BodyFilter::CollectorPath,
            1 => BodyFilter::AllPost,
            _ => BodyFilter::All,
        };
        let config = FramerConfig {
            max_header_bytes: if opts & 8 != 0 { 48 } else { 64 << 10 },
            max_body_bytes: if opts & 16 != 0 { 16 } else { 64 << 20 },
            bodies,
        };
        let steps = usize::from(r.u8() % 64);
        let plan = r
            .bytes(steps)
            .iter()
            .map(|&p| {
                if p & 0xE0 == 0xE0 {
                    Step::Gap(usize::from(p & 0x1F) + 1)
                } else {
                    Step::Feed(usize::from(p).max(1))
                }
            })
            .collect();
        HttpPlan {
            config,
            mid_stream: opts & 4 != 0,
            plan,
            stream: r.rest(),
        }
    }

    /// The inverse of [`HttpPlan::decode`], for seeds.
    pub fn encode(opts: u8, plan: &[u8], stream: &[u8]) -> Vec<u8> {
        let mut out = vec![opts, plan.len() as u8];
        out.extend_from_slice(plan);
        out.extend_from_slice(stream);
        out
    }

    fn framer(&self) -> RequestFramer {
        let f = RequestFramer::new(self.config);
        if self.mid_stream {
            f.mid_stream()
        } else {
            f
        }
    }
}

/// Feeds the stream by the plan (cycled); returns the events, the framer and whether a gap
/// was used.
/// The events, the framer, whether a gap was fed, and the bytes in the gaps.
fn run_framer(p: &HttpPlan<'_>, plan: &[Step]) -> (Vec<HttpEv>, RequestFramer, bool, u64) {
    let mut f = p.framer();
    let mut ev = Vec::new();
    let mut rest = p.stream;
    let (mut gapped, mut gap_bytes) = (false, 0u64);
    let mut i = 0;
    while !rest.is_empty() {
        let step = if plan.is_empty() {
            Step::Feed(rest.len())
        } else {
            plan[i % plan.len()]
        };
        i += 1;
        match step {
            Step::Feed(n) => {
                let (chunk, tail) = rest.split_at(n.min(rest.len()));
                f.feed(chunk, |e| ev.push(own_http(e)));
                rest = tail;
            }
            Step::Gap(n) => {
                let n = n.min(rest.len());
                f.gap(n as u64, |e| ev.push(own_http(e)));
                gapped = true;
                gap_bytes += n as u64;
                rest = &rest[n..];
            }
        }
    }
    f.finish(|e| ev.push(own_http(e)));
    (ev, f, gapped, gap_bytes)
}

/// The events of the stream fed whole, then a byte at a time (gaps ignored), for diagnosis.
pub fn http_events_whole_and_bytewise(data: &[u8]) -> [(&'static str, Vec<HttpEv>); 2] {
    let p = HttpPlan::decode(data);
    [
        ("whole", run_framer(&p, &[]).0),
        ("bytewise", run_framer(&p, &[Step::Feed(1)]).0),
    ]
}

/// `http_framer`: the stream fed by the plan; events and counters account for no more than the
/// stream, and without gaps the events do not depend on how the stream was cut.
pub fn check_http_framer(data: &[u8]) {
    let p = HttpPlan::decode(data);
    let (events, framer, gapped, gap_bytes) = run_framer(&p, &p.plan);
    let s = *framer.stats();
    let total = p.stream.len() as u64;
    assert_eq!(
        framer.position(),
        total,
        "position() is not the stream length"
    );
    let (mut req, mut inc, mut skipped, mut responses) = (0u64, 0u64, 0u64, 0u64);
    let mut last_skip_end = 0u64;
    for e in &events {
        match e {
            HttpEv::Request(at, _, _, body) => {
                assert!(*at < total);
                req += 1;
                assert!(body.len() as u64 <= p.config.max_body_bytes);
            }
            HttpEv::Incomplete(at, _, _, received, _) => {
                assert!(*at < total);
                inc += 1;
                assert!(received.len() as u64 <= p.config.max_body_bytes);
            }
            HttpEv::Unselected(at, ..) => assert!(*at < total),
            HttpEv::Error(at, _) => assert!(*at <= total),
            HttpEv::Skipped(at, len) => {
                assert!(*len > 0, "empty Skipped event");
                assert!(at + len <= total, "Skipped past the end of the stream");
                assert!(
                    *at >= last_skip_end,
                    "Skipped ranges overlap or go backwards"
                );
                last_skip_end = at + len;
                skipped += len;
            }
            HttpEv::Response(at) => {
                assert!(*at < total);
                responses += 1;
            }
            HttpEv::NotHttp(first) => {
                // Judged on the first byte only, so it is the only event and ignores the rest.
                assert_eq!(Some(first), p.stream.first(), "NotHttp names another byte");
                assert_eq!(events.len(), 1, "events besides NotHttp");
                assert_eq!(
                    s.non_http_bytes + gap_bytes,
                    total,
                    "NotHttp stream not counted whole"
                );
            }
            HttpEv::Other(_) => {}
        }
    }
    assert!(responses <= 1, "more than one Response event");
    assert!(s.requests >= req + inc);
    let accounted = skipped + s.blank_line_bytes + gap_bytes + s.response_bytes + s.non_http_bytes;
    assert!(
        accounted <= total,
        "more bytes accounted than the stream holds"
    );
    if !gapped {
        let (whole, whole_framer, _, _) = run_framer(&p, &[]);
        assert_eq!(events, whole, "events depend on how the stream was cut");
        assert_eq!(
            s,
            *whole_framer.stats(),
            "stats depend on how the stream was cut"
        );
        let (bytewise, _, _, _) = run_framer(&p, &[Step::Feed(1)]);
        assert_eq!(bytewise, whole, "byte-at-a-time events differ");
    }
}

// ---------------------------------------------------------------------------------------------
// tcp_reassembler

/// The byte every copy of sequence number `seq` carries, so overlaps are consistent.
pub fn source_byte(seq: u32) -> u8 {
    (seq.wrapping_mul(2_654_435_761) >> 24) as u8
}

fn source_payload(seq: u32, len: usize) -> Vec<u8> {
    (0..len as u32)
        .map(|i| source_byte(seq.wrapping_add(i)))
        .collect()
}

/// One fuzzed segment.
#[derive(Debug, Clone, Copy)]
pub struct Seg {
    pub seq: u32,
    pub flags: u8,
    pub len: usize,
    /// Endpoint choices for the flow table.
    pub tuple: u8,
    pub ts_step: u32,
}

/// A list of segments around an ISN.
#[derive(Debug, Clone)]
pub struct TcpPlan {
    pub small_buffers: bool,
    pub small_window: bool,
    pub short_idle: bool,
    pub segments: Vec<Seg>,
}

impl TcpPlan {
    /// Byte 0: options; bytes 1-4: ISN; then 5 bytes a segment: flags (bit 0 SYN, 1 FIN, 2 RST,
    /// 3 ACK, 4 a far offset: 4 more bytes), payload length, offset from the ISN (i16, or i32
    /// when far), endpoints.
    pub fn decode(data: &[u8]) -> Self {
        let mut r = ByteReader::new(data);
        let opts = r.u8();
        let isn = r.u32();
        let mut segments = Vec::new();
        while !r.is_empty() && segments.len() < 512 {
            let f = r.u8();
            let len = usize::from(r.u8());
            let off = if f & 16 != 0 {
                r.u32() as i32
            } else {
                i32::from(r.u16() as i16)
            };
            let tuple = r.u8();
            segments.push(Seg {
                seq: isn.wrapping_add(off as u32),
                // Bit 0 SYN, 1 FIN, 2 RST, 3 ACK, as the plan format has always said.
                flags: ((f & 1) << 1) | ((f >> 1) & 1) | (f & 4) | ((f & 8) << 1),
                len,
                tuple,
                ts_step: u32::from(f >> 5) * 400,
            });
        }
        TcpPlan {
            small_buffers: opts & 1 != 0,
            small_window: opts & 2 != 0,
            short_idle: opts & 4 != 0,
            segments,
        }
    }

    /// The inverse of [`TcpPlan::decode`] for near offsets, for seeds.
    pub fn encode(opts: u8, isn: u32, segs: &[(u8, u8, i16, u8)]) -> Vec<u8> {
        let mut out = vec![opts];
        out.extend_from_slice(&isn.to_le_bytes());
        for &(f, len, off, tuple) in segs {
            out.extend_from_slice(&[f & !16, len]);
            out.extend_from_slice(&off.to_le_bytes());
            out.push(tuple);
        }
        out
    }

    fn reassembler_config(&self) -> TcpConfig {
        TcpConfig {
            max_buffered_bytes: if self.small_buffers { 300 } else { 4 << 20 },
            max_buffered_segments: if self.small_buffers { 3 } else { 16_384 },
            max_window_bytes: if self.small_window { 1000 } else { 1 << 30 },
            max_overlap_check_bytes: if self.small_buffers { 4 } else { 256 },
            ..TcpConfig::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum TcpEv {
    Data(Vec<u8>),
    Gap(u64, u64),
    Fin,
    Reset,
    Conflict(u64, u64),
    AfterClose(u64),
}

fn own_tcp(e: StreamEvent<'_>) -> TcpEv {
    match e {
        StreamEvent::Data(d) => TcpEv::Data(d.to_vec()),
        StreamEvent::Gap { at, len } => TcpEv::Gap(at, len),
        StreamEvent::Fin => TcpEv::Fin,
        StreamEvent::Reset => TcpEv::Reset,
        StreamEvent::Conflict { at, len } => TcpEv::Conflict(at, len),
        StreamEvent::AfterClose { len } => TcpEv::AfterClose(len),
    }
}

/// Checks a stream's events as they come: contiguous offsets, data equal to the source.
#[derive(Default)]
struct StreamCheck {
    offset: u64,
    after_close: u64,
    delivered: u64,
    gap_bytes: u64,
    gaps: u64,
    ended: bool,
}

impl StreamCheck {
    fn event(&mut self, e: &TcpEv, base: Option<u32>) {
        match e {
            // Notices, not stream data: they may come at any time, after the end too.
            // The source gives every copy of a sequence number the same byte.
            TcpEv::Conflict(at, len) => {
                panic!("conflict reported between equal copies: {at}+{len}")
            }
            TcpEv::AfterClose(len) => {
                assert!(*len > 0, "empty AfterClose");
                self.after_close += len;
                return;
            }
            _ => {}
        }
        assert!(!self.ended, "stream event after Fin/Reset: {e:?}");
        match e {
            TcpEv::Data(d) => {
                assert!(!d.is_empty(), "empty Data event");
                if let Some(base) = base {
                    let expected = source_payload(base.wrapping_add(self.offset as u32), d.len());
                    assert_eq!(
                        d, &expected,
                        "delivered data differs from the source stream at offset {}",
                        self.offset
                    );
                }
                self.offset += d.len() as u64;
                self.delivered += d.len() as u64;
            }
            TcpEv::Gap(at, len) => {
                assert_eq!(*at, self.offset, "gap does not start at the next offset");
                assert!(*len > 0, "empty gap");
                self.offset += len;
                self.gap_bytes += len;
                self.gaps += 1;
            }
            TcpEv::Fin | TcpEv::Reset => self.ended = true,
            TcpEv::Conflict(..) | TcpEv::AfterClose(_) => {}
        }
    }
}

/// `tcp_reassembler`, part one: one direction through a [`Reassembler`].
pub fn check_reassembler(plan: &TcpPlan) {
    let mut r = Reassembler::new(plan.reassembler_config());
    let mut check = StreamCheck::default();
    let mut received = 0u64;
    let mut base_once: Option<u32> = None;
    let mut ev = Vec::new();
    for s in &plan.segments {
        let data_seq = if s.flags & TCP_SYN != 0 {
            s.seq.wrapping_add(1)
        } else {
            s.seq
        };
        let payload = source_payload(data_seq, s.len);
        received += payload.len() as u64;
        r.segment(s.seq, s.flags, &payload, |e| ev.push(own_tcp(e)));
        if let Some(b) = base_once {
            assert_eq!(r.base_seq(), Some(b), "offset 0 moved");
        }
        base_once = r.base_seq();
        for e in ev.drain(..) {
            check.event(&e, r.base_seq());
        }
        assert_eq!(
            r.next_offset(),
            check.offset,
            "next_offset() != delivered + gaps"
        );
        assert!(r.buffered_bytes() <= plan.reassembler_config().max_buffered_bytes);
    }
    r.finish(|e| ev.push(own_tcp(e)));
    for e in ev.drain(..) {
        check.event(&e, r.base_seq());
    }
    let st = *r.stats();
    assert!(r.is_closed());
    assert_eq!(
        r.next_offset(),
        check.offset,
        "next_offset() != delivered + gaps"
    );
    assert_eq!(st.segments, plan.segments.len() as u64);
    assert_eq!(
        st.bytes_delivered, check.delivered,
        "stats().bytes_delivered"
    );
    assert_eq!(st.bytes_in_gaps, check.gap_bytes, "stats().bytes_in_gaps");
    assert_eq!(st.gaps, check.gaps, "stats().gaps");
    assert_eq!(
        st.bytes_after_close, check.after_close,
        "stats().bytes_after_close != AfterClose events"
    );
    assert_eq!(st.conflicts, 0, "conflicts between equal copies");
    assert!(st.cap_gaps <= st.gaps && st.bytes_in_cap_gaps <= st.bytes_in_gaps);
    assert_eq!(
        received,
        st.bytes_delivered
            + st.duplicate_bytes
            + st.bytes_out_of_window
            + st.bytes_after_close
            + r.buffered_bytes() as u64,
        "received bytes are not accounted for: {st:?}, buffered {}",
        r.buffered_bytes()
    );
}

const IPS: [IpAddr; 4] = [
    IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
    IpAddr::V4(Ipv4Addr::new(204, 194, 111, 66)),
    IpAddr::V6(Ipv6Addr::LOCALHOST),
    IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
];
const PORTS: [u16; 4] = [80, 40000, 80, 40001];

/// `tcp_reassembler`, part two: the same segments through a [`FlowTable`] with 4-tuples drawn
/// from a few endpoints, so connections collide, reverse and get reused.
pub fn check_flow_table(plan: &TcpPlan) {
    let cfg = TcpConfig {
        max_flows: if plan.small_buffers { 2 } else { 65_536 },
        max_idle_us: if plan.short_idle { 1_000 } else { 600_000_000 },
        ..plan.reassembler_config()
    };
    let mut table = FlowTable::new(cfg);
    // Per flow: closed?, and per direction the offset checker.
    let mut flows: HashMap<u64, (bool, [StreamCheck; 2])> = HashMap::new();
    let mut opened = 0u64;
    let mut ts = 0u64;
    let mut handle = |e: FlowEvent<'_>, flows: &mut HashMap<u64, (bool, [StreamCheck; 2])>| match e
    {
        FlowEvent::Opened { flow, .. } => {
            assert!(!flows.contains_key(&flow), "flow id {flow} opened twice");
            flows.insert(flow, (false, Default::default()));
            opened += 1;
        }
        FlowEvent::Stream {
            flow,
            direction,
            event,
        } => {
            let entry = flows
                .get_mut(&flow)
                .expect("stream event of an unknown flow");
            let notice = matches!(
                event,
                StreamEvent::AfterClose { .. } | StreamEvent::Conflict { .. }
            );
            assert!(!entry.0 || notice, "stream event after Closed");
            let i = usize::from(direction == Direction::FromResponder);
            entry.1[i].event(&own_tcp(event), None);
        }
        FlowEvent::Closed {
            flow,
            reason,
            stats,
        } => {
            let entry = flows.get_mut(&flow).expect("Closed of an unknown flow");
            assert!(!entry.0, "flow {flow} closed twice");
            entry.0 = true;
            for (i, st) in stats.iter().enumerate() {
                assert_eq!(
                    st.bytes_delivered, entry.1[i].delivered,
                    "{reason:?}: delivered"
                );
                assert_eq!(
                    st.bytes_in_gaps, entry.1[i].gap_bytes,
                    "{reason:?}: gap bytes"
                );
            }
        }
    };
    for s in &plan.segments {
        ts += u64::from(s.ts_step);
        let t = s.tuple;
        let data_seq = if s.flags & TCP_SYN != 0 {
            s.seq.wrapping_add(1)
        } else {
            s.seq
        };
        let payload = source_payload(data_seq, s.len);
        let seg = TcpSegment::new(
            SocketAddr::new(IPS[usize::from(t & 3)], PORTS[usize::from((t >> 4) & 3)]),
            SocketAddr::new(IPS[usize::from((t >> 2) & 3)], PORTS[usize::from(t >> 6)]),
            s.seq,
            s.flags,
            &payload,
        );
        table.segment(&seg, ts, |e| handle(e, &mut flows));
        assert!(table.len() <= cfg.max_flows, "more flows than max_flows");
    }
    table.finish(|e| handle(e, &mut flows));
    assert!(table.is_empty(), "flows left after finish");
    assert!(flows.values().all(|f| f.0), "a flow was never closed");
    assert_eq!(table.stats().flows_opened, opened, "stats().flows_opened");
}

/// `tcp_reassembler`: both parts.
pub fn check_tcp(data: &[u8]) {
    let plan = TcpPlan::decode(data);
    check_reassembler(&plan);
    check_flow_table(&plan);
}

// ---------------------------------------------------------------------------------------------
// capture_reader

/// What a decoding produced, to compare a file with its gzip-compressed copy.
#[derive(Debug, PartialEq)]
struct Decoded {
    events: Vec<String>,
    stats: String,
}

fn decode_capture(bytes: Vec<u8>) -> Decoded {
    let mut d = CaptureDecoder::new(
        vec![Input::from_reader("fuzz", Cursor::new(bytes))],
        DecoderConfig::default(),
    );
    let mut events = Vec::new();
    d.run(|e| match e {
        Event::Post(post) => {
            let body = post.decodable_body();
            assert!(body.len() <= post.body.len());
            if post.complete() {
                assert_eq!(post.missing, sunpower_pcap::decoder::Missing::Nothing);
            }
            for _ in Body::new(body).records() {}
            events.push(format!(
                "post {} {} {} {:?} {:?} {:?}",
                post.flow, post.method, post.target, post.channel, post.missing, post.body
            ));
        }
        Event::Problem(p) => events.push(format!("problem {p}")),
    });
    let stats = format!("{:?}", d.stats());
    Decoded { events, stats }
}

/// `capture_reader`: a whole file through the decoder; when the last byte is a multiple of 4
/// (about one input in four), also its gzip-compressed copy, which must decode the same.
pub fn check_capture(data: &[u8]) {
    let plain = decode_capture(data.to_vec());
    let also_gzip = data.last().is_some_and(|b| b % 4 == 0) && !data.starts_with(&[0x1f, 0x8b]);
    if also_gzip {
        let gz = decode_capture(sunpower_testkit::gzip(data));
        assert_eq!(plain, gz, "a gzip-compressed capture decodes differently");
    }
}

// ---------------------------------------------------------------------------------------------
// intervals

fn check_interval(i: &sunpower_proto::intervals::Interval) {
    assert!(i.interval_end > i.interval_start, "empty interval {i:?}");
    for v in [
        Some(i.production_wh),
        Some(i.production_w),
        i.consumption_wh,
        i.net_wh,
        i.consumption_w,
    ]
    .into_iter()
    .flatten()
    {
        assert!(v.is_finite(), "non-finite value in {i:?}");
    }
    assert!(i.production_wh >= 0.0, "negative production in {i:?}");
    if let Some(c) = i.consumption_wh {
        assert!(c >= 0.0, "negative consumption in {i:?}");
    }
    if let Some(c) = i.consumption_w {
        assert!(c >= 0.0, "negative consumption power in {i:?}");
    }
}

/// `intervals`: the records of a body through the accumulator, offline and streaming.
/// Byte 0 chooses the cadence (inferred or fixed) and the streaming clock's lag.
/// The health stage over the same records and the intervals' events: findings well formed,
/// each recovery after its fault.
fn check_health(records: &[Record<'_>], events: &[sunpower_proto::intervals::Event]) {
    use sunpower_proto::health::{Health, HealthConfig, Status};
    let mut health = Health::new(
        HealthConfig::default(),
        sunpower_proto::intervals::Tz::America__Los_Angeles,
    );
    let mut findings = Vec::new();
    for r in records {
        health.add(r);
        findings.extend(health.take_findings());
    }
    for e in events {
        health.add_event(e);
    }
    findings.extend(health.finish());
    for (i, f) in findings.iter().enumerate() {
        assert!(f.start <= f.end, "finding ends before it starts: {f}");
        let e = &f.evidence;
        assert!(e.bad_samples <= e.samples, "{f}");
        for v in [e.produced_kw, e.peers_median_kw].into_iter().flatten() {
            assert!(v.is_finite(), "{f}");
        }
        if f.status == Status::Recovered {
            assert!(
                findings[..i].iter().any(|g| g.status == Status::Fault
                    && g.kind == f.kind
                    && g.device == f.device
                    && g.start == f.start),
                "recovery without its fault: {f}"
            );
        }
    }
}

pub fn check_intervals(data: &[u8]) {
    let (opts, body) = match data.split_first() {
        Some((&o, rest)) => (o, rest),
        None => return,
    };
    let records: Vec<Record<'_>> = Body::new(body).records().filter_map(Result::ok).collect();
    let cadence = match opts & 3 {
        0 => None,
        1 => Some(TimeDelta::seconds(60)),
        2 => Some(TimeDelta::seconds(300)),
        _ => Some(TimeDelta::seconds(i64::from(opts >> 2) * 7 + 1)),
    };
    let with = |c: IntervalConfig| match cadence {
        Some(d) => c.with_cadence(d),
        None => c,
    };

    let mut offline = IntervalAccumulator::new(with(IntervalConfig::default()));
    for r in &records {
        offline.add(r);
    }
    let mut rows = offline.drain_ready();
    rows.extend(offline.finish());
    rows.iter().for_each(check_interval);
    let st = *offline.stats();
    assert_eq!(st.records, records.len() as u64);
    assert_eq!(
        st.records,
        st.stored
            + st.duplicates
            + st.conflicts
            + st.beyond_horizon
            + st.ignored
            + st.implausible_times,
        "offline stats do not add up: {st:?}"
    );
    check_health(&records, &offline.take_events());

    let mut streaming = IntervalAccumulator::new(with(IntervalConfig::streaming()));
    let lag = TimeDelta::minutes(i64::from(opts >> 4));
    let mut clock: Option<DateTime<Utc>> = None;
    for r in &records {
        streaming.add(r);
        if let Some(t) = r.timestamp() {
            let now = t.checked_add_signed(lag).unwrap_or(t);
            clock = Some(clock.map_or(now, |c| c.max(now)));
        }
        if let Some(c) = clock {
            streaming.advance_to(c).iter().for_each(check_interval);
        }
    }
    streaming.finish().iter().for_each(check_interval);
    let _ = streaming.take_events();
}
