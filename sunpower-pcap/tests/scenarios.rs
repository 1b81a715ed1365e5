//! End-to-end scenarios of issue 3: each test builds a capture with the writer from known
//! collector bodies, decodes it with [`CaptureDecoder`], and checks that exactly the lines that
//! went in come out as records (raw text, in order), and that the counters are exactly what the
//! test wrote.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::net::{IpAddr, SocketAddr};

use chrono::{DateTime, TimeDelta, Utc};
use sunpower_pcap::capture::Input;
use sunpower_pcap::decoder::{
    CaptureDecoder, DecodeStats, DecoderConfig, Event, Missing, Problem, ProblemKind,
};
use sunpower_pcap::http::BodyFilter;
use sunpower_proto::{Body, Channel};
use sunpower_testkit::{
    gzip, ip_packet, ipv4_packet, pcap_bytes, pcapng_bytes, tcp_segment, Endian, Frame,
    InterfaceSpec, Ipv4Options, Link, PcapFormat, PcapNgWriter, Side, TcpConversation, TcpHeader,
    VlanTag, TCP_ACK, TCP_PSH, TCP_SYN,
};

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sample.pcap");
const DATA_PATH: &str = "/Data/SMS2DataCollector.aspx";
const COMMAND_PATH: &str = "/Command/SMS2DataCollector.aspx";

// ---------------------------------------------------------------------------------------------
// Known bodies and requests

/// A realistic data body: a 100 header, a 120 line stamped one interval later, `inverters` 130
/// lines with lifetime counters that increase with `seed`, a 141 line, the consumption and
/// production 140 lines and a 102 trailer; TAB-separated, LF line ends.
fn data_body(seed: u32, inverters: u32) -> String {
    let minute = 10 + seed % 40;
    let ts = format!("2017010717{minute:02}00");
    let mut b = format!("100\tSPMS\t10\tZT162585000441C1402\t2017010717{minute:02}25\n");
    b += &format!(
        "120\t2017010717{:02}00\tZT162585000441C1402\t0\t445\t0\t0\t0\t{}\t0.21\t24876\t12408\n",
        minute + 5,
        81_666 + seed * 300
    );
    for i in 0..inverters {
        let lifetime = 16.8 + f64::from(i) * 0.1375 + f64::from(seed) * 0.0125;
        b += &format!(
            "130\t{ts}\t4140516370{:05}\tAC_Module_Type_C\t\t{lifetime:.4}\t0.0{:03}\t245.1503\t0.3643\t0.044\t59.0692\t0.7733\t1.25\t59.9772\t0\n",
            9125 + i * 37,
            100 + (i * 7 + seed) % 300,
        );
    }
    b += &format!("141\t{ts}\tPVS5M508095c\tPVS5M0400c\t1\t5.6946\t5.5807\t122.7802\t122.6486\t0.1709\t0.5366\t120.27\n");
    b += &format!(
        "140\t{ts}\tPVS5M508095c\tPVS5M0400c\t125\t{}\t0.7075\t0.753\t1.3836\t0.5104\t59.978\t0\n",
        607 + seed
    );
    b += &format!("140\t{ts}\tPVS5M508095p\tPVS5M0400p\t50\t0\t0\t0\t0\t1\t59.978\t0\n");
    b += &format!("102\t51oeIKDhOUeah8+9{:04}\n", seed % 10_000);
    b
}

/// A command-channel body: a 100 and a 102 line.
fn command_body(seed: u32) -> String {
    format!(
        "100\tSPMS\t10\tZT162585000441C1402\t201701071{seed:03}00\n102\tq0v5t3YwZl1m+Cq{seed:05}\n"
    )
}

/// The non-empty lines of a body: what must come out as records.
fn lines(body: &str) -> Vec<String> {
    body.lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn request(path: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: collector.sunpowermonitor.com\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn head_len(request: &[u8]) -> usize {
    request.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4
}

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 21\r\n\r\n1002\t20170107171925\r\n";

fn client() -> SocketAddr {
    "192.168.1.50:49200".parse().unwrap()
}

fn collector() -> SocketAddr {
    "204.194.111.66:80".parse().unwrap()
}

/// A connection that sends `request` in segments cut at `cuts`, gets the answer and closes.
fn exchange(request: &[u8], cuts: &[usize]) -> TcpConversation {
    let mut c = TcpConversation::new(client(), collector());
    c.handshake()
        .client_sends(request, cuts)
        .server_sends(RESPONSE, &[])
        .close();
    c
}

/// Cuts every `size` bytes.
fn every(len: usize, size: usize) -> Vec<usize> {
    (1..=len / size).map(|n| n * size).collect()
}

/// Sets increasing capture times on frames (after reordering), 1 ms apart.
fn restamp(frames: &mut [Frame]) {
    let start = DateTime::from_timestamp(1_483_809_000, 0).unwrap();
    for (i, f) in frames.iter_mut().enumerate() {
        f.timestamp = start + TimeDelta::milliseconds(i as i64);
    }
}

/// One TCP segment from the client at stream offset `offset` (the client's ISN is 1000, so its
/// data starts at sequence number 1001), with the given link framing.
fn client_segment(link: &Link, offset: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let (c, s) = (client(), collector());
    let header = TcpHeader {
        seq: 1001 + offset,
        ack: 5001,
        flags,
        ..TcpHeader::new(c, s)
    };
    link.frame(&ip_packet(
        c.ip(),
        s.ip(),
        6,
        &tcp_segment(&header, payload),
    ))
}

// ---------------------------------------------------------------------------------------------
// Decoding

#[derive(Debug, Clone)]
struct Got {
    target: String,
    channel: Option<Channel>,
    missing: Missing,
    body: Vec<u8>,
    captured_at: DateTime<Utc>,
    /// Raw lines of the decodable body's records.
    records: Vec<String>,
    line_errors: usize,
}

impl Got {
    fn complete(&self) -> bool {
        self.missing == Missing::Nothing
    }
}

struct Decoded {
    posts: Vec<Got>,
    problems: Vec<Problem>,
    stats: DecodeStats,
}

impl Decoded {
    /// Every record of every post, in capture order.
    fn records(&self) -> Vec<String> {
        self.posts.iter().flat_map(|p| p.records.clone()).collect()
    }

    fn line_errors(&self) -> usize {
        self.posts.iter().map(|p| p.line_errors).sum()
    }

    fn count_problems(&self, pred: impl Fn(&ProblemKind) -> bool) -> usize {
        self.problems.iter().filter(|p| pred(&p.kind)).count()
    }
}

fn decode_with(inputs: Vec<Input>, config: DecoderConfig) -> Decoded {
    let mut decoder = CaptureDecoder::new(inputs, config);
    let mut posts = Vec::new();
    let mut problems = Vec::new();
    decoder.run(|event| match event {
        Event::Post(post) => {
            let mut records = Vec::new();
            let mut line_errors = 0;
            for r in Body::new(post.decodable_body()).records() {
                match r {
                    Ok(r) => records.push(r.raw().unwrap().as_str().to_string()),
                    Err(_) => line_errors += 1,
                }
            }
            posts.push(Got {
                target: post.target.to_string(),
                channel: post.channel,
                missing: post.missing,
                body: post.body.to_vec(),
                captured_at: post.captured_at,
                records,
                line_errors,
            });
        }
        Event::Problem(p) => problems.push(p),
    });
    Decoded {
        posts,
        problems,
        stats: decoder.stats(),
    }
}

fn decode_inputs(inputs: Vec<Input>) -> Decoded {
    decode_with(inputs, DecoderConfig::default())
}

fn decode(bytes: Vec<u8>) -> Decoded {
    decode_inputs(vec![Input::from_reader("mem", Cursor::new(bytes))])
}

fn pcap(link_type: u32, frames: &[Frame]) -> Vec<u8> {
    pcap_bytes(link_type, PcapFormat::LE_MICRO, frames)
}

/// What reached the HTTP layer whole or not: (posts, gaps, bytes missing, damaged posts,
/// connections).
fn delivery(s: &DecodeStats) -> (u64, u64, u64, u64, u64) {
    (
        s.posts,
        s.gaps,
        s.bytes_missing,
        s.damaged_posts,
        s.flows.flows_opened,
    )
}

/// Asserts a capture decoded to exactly `bodies` (complete, in order), with no gap, no
/// damaged post, no problem, and `connections` connections.
fn assert_clean(d: &Decoded, bodies: &[&str], connections: u64) {
    let want: Vec<String> = bodies.iter().flat_map(|b| lines(b)).collect();
    assert_eq!(d.records(), want);
    let got_bodies: Vec<&[u8]> = d.posts.iter().map(|p| &p.body[..]).collect();
    let want_bodies: Vec<&[u8]> = bodies.iter().map(|b| b.as_bytes()).collect();
    assert_eq!(got_bodies, want_bodies);
    assert!(d.posts.iter().all(Got::complete));
    assert_eq!(d.line_errors(), 0);
    let s = &d.stats;
    assert_eq!(delivery(s), (bodies.len() as u64, 0, 0, 0, connections));
    assert_eq!(
        (
            s.skipped_bytes,
            s.http_errors,
            s.capture_errors,
            s.truncated_segments
        ),
        (0, 0, 0, 0)
    );
    let problems: Vec<String> = d.problems.iter().map(ToString::to_string).collect();
    assert_eq!(problems, Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------------
// The shipped sample

#[test]
fn sample_capture_decodes_to_the_documented_counts() {
    let d = decode_inputs(vec![Input::from_path(SAMPLE)]);
    let mut by_type: BTreeMap<u16, usize> = BTreeMap::new();
    for r in d.records() {
        *by_type.entry(r[..3].parse().unwrap()).or_default() += 1;
    }
    let data = d
        .posts
        .iter()
        .filter(|p| p.channel == Some(Channel::Data))
        .count();
    let command = d
        .posts
        .iter()
        .filter(|p| p.channel == Some(Channel::Command))
        .count();
    let s = d.stats;
    assert_eq!((data, command), (288, 48));
    assert_eq!(
        by_type.into_iter().collect::<Vec<_>>(),
        [
            (100, 336),
            (102, 336),
            (120, 288),
            (130, 3480),
            (140, 576),
            (141, 288)
        ]
    );
    assert!(d.posts.iter().all(Got::complete));
    assert_eq!(d.line_errors(), 0);
    assert_eq!(
        (s.posts, s.gaps, s.bytes_missing, s.damaged_posts),
        (336, 0, 0, 0)
    );
    // Other traffic: 144 ARP exchanges, 2880 DNS exchanges, 720 mDNS announcements, 144 web
    // connections with two requests each; 480 connections in all (336 to the collector).
    assert_eq!(
        (s.packets, s.non_ip, s.non_tcp, s.flows.flows_opened),
        (12_324, 288, 6_480, 480)
    );
    assert_eq!((s.requests, s.other_requests), (624, 288));
    // The one retransmitted segment (1448 bytes); the swapped pair costs nothing.
    assert_eq!(s.flows.tcp.duplicate_bytes, 1448);
    assert!(d.problems.is_empty(), "{:?}", d.problems);
    // Micro-inverters are silent at night: 174 daylight posts carry all 20, the others none; the
    // 120 line is stamped one interval after the 130/140/141 lines of its post.
    let mut daylight = 0;
    for p in d.posts.iter().filter(|p| p.channel == Some(Channel::Data)) {
        let field1 = |t: &str| -> Vec<String> {
            p.records
                .iter()
                .filter(|r| r.starts_with(t))
                .map(|r| r.split('\t').nth(1).unwrap().to_string())
                .collect()
        };
        let inverters = field1("130\t").len();
        assert!(inverters == 0 || inverters == 20, "{inverters}");
        daylight += usize::from(inverters == 20);
        let status =
            DateTime::parse_from_str(&format!("{}+0000", field1("120\t")[0]), "%Y%m%d%H%M%S%z")
                .unwrap();
        for meter in field1("140\t") {
            let meter =
                DateTime::parse_from_str(&format!("{meter}+0000"), "%Y%m%d%H%M%S%z").unwrap();
            assert_eq!(status - meter, TimeDelta::seconds(300));
        }
    }
    assert_eq!(daylight, 174);
}

// ---------------------------------------------------------------------------------------------
// TCP: splits, reordering, duplicates, overlaps, wrap, mid-stream start, lost segment

#[test]
fn a_line_split_at_every_byte_position_decodes_whole() {
    let body = data_body(1, 30);
    assert!((3_000..10_000).contains(&body.len()), "{}", body.len());
    let req = request(DATA_PATH, &body);
    let head = head_len(&req);
    // The fifth line (a 130 line), from its first byte to its LF.
    let start = body.match_indices('\n').nth(3).unwrap().0 + 1;
    let end = body[start..].find('\n').unwrap() + start + 1;
    assert!(body[start..].starts_with("130\t"));
    for split in start..=end {
        let conv = exchange(&req, &[head + split, head + split + 1500]);
        let d = decode(pcap(conv.link_type(), conv.frames()));
        assert_clean(&d, &[&body], 1);
        assert_eq!(
            d.stats.packets as usize,
            conv.frames().len(),
            "split at {split}"
        );
    }
}

#[test]
fn segments_in_reverse_order_decode_whole() {
    let body = data_body(2, 40);
    let req = request(DATA_PATH, &body);
    let cuts = every(req.len(), 700);
    let conv = exchange(&req, &cuts);
    let mut frames = conv.into_frames();
    let n = cuts.len() + 1;
    frames[3..3 + n].reverse();
    restamp(&mut frames);
    let d = decode(pcap(1, &frames));
    assert_clean(&d, &[&body], 1);
    assert_eq!(d.stats.flows.tcp.duplicate_bytes, 0);
}

#[test]
fn every_segment_sent_twice_decodes_once_and_counts_the_duplicates() {
    let body = data_body(3, 30);
    let req = request(DATA_PATH, &body);
    let cuts = every(req.len(), 512);
    let conv = exchange(&req, &cuts);
    let frames = conv.into_frames();
    let n = cuts.len() + 1;
    let mut doubled: Vec<Frame> = frames[..3].to_vec();
    for f in &frames[3..3 + n] {
        doubled.push(f.clone());
        doubled.push(f.clone());
    }
    doubled.extend_from_slice(&frames[3 + n..]);
    restamp(&mut doubled);
    let d = decode(pcap(1, &doubled));
    assert_clean(&d, &[&body], 1);
    assert_eq!(d.stats.flows.tcp.duplicate_bytes, req.len() as u64);
}

/// A copy of the request that arrives after both sides closed: counted with the duplicates
/// (it was counted nowhere while `duplicate_bytes` summed the reassemblers' counters at the
/// close), not decoded again, not reported.
#[test]
fn a_retransmission_after_the_close_is_counted_as_duplicate() {
    let body = data_body(3, 30);
    let req = request(DATA_PATH, &body);
    let mut frames = exchange(&req, &[]).into_frames();
    // Handshake (3 frames), then the request in one segment.
    let copy = frames[3].clone();
    frames.push(copy);
    restamp(&mut frames);
    let d = decode(pcap(1, &frames));
    assert_clean(&d, &[&body], 1);
    let tcp = &d.stats.flows.tcp;
    assert_eq!(
        (tcp.duplicate_bytes, d.stats.bytes_after_close),
        (req.len() as u64, 0)
    );
}

#[test]
fn overlapping_retransmissions_decode_whole_and_count_the_overlap() {
    let body = data_body(4, 30);
    let req = request(DATA_PATH, &body);
    assert!(req.len() > 3_500);
    let link = Link::ethernet();
    let pa = TCP_PSH | TCP_ACK;
    let seg = |from: usize, to: usize| {
        Frame::new(
            DateTime::UNIX_EPOCH,
            client_segment(&link, from as u32, pa, &req[from..to]),
        )
    };
    let mut hs = TcpConversation::new(client(), collector());
    hs.handshake();
    let mut frames = hs.into_frames();
    // [0,1000), then [1400,2300) ahead of [600,1500), then [2000,3000) and the rest, then a
    // partial retransmission [200,300) of bytes long delivered.
    frames.push(seg(0, 1000));
    frames.push(seg(1400, 2300));
    frames.push(seg(600, 1500));
    frames.push(seg(2000, 3000));
    frames.push(seg(3000, req.len()));
    frames.push(seg(200, 300));
    restamp(&mut frames);
    let d = decode(pcap(1, &frames));
    let got_bodies: Vec<&[u8]> = d.posts.iter().map(|p| &p.body[..]).collect();
    assert_eq!(got_bodies, [body.as_bytes()]);
    assert_eq!(d.records(), lines(&body));
    let s = &d.stats;
    assert_eq!(
        (s.posts, s.gaps, s.damaged_posts, s.flows.flows_opened),
        (1, 0, 0, 1)
    );
    // 400 (600..1000) + 100 (1400..1500) + 300 (2000..2300) + 100 (200..300).
    assert_eq!(s.flows.tcp.duplicate_bytes, 900);
}

#[test]
fn sequence_numbers_wrapping_past_u32_max_decode_whole() {
    let body = data_body(5, 30);
    let req = request(DATA_PATH, &body);
    for isn in [u32::MAX - 700, u32::MAX - 1, u32::MAX] {
        let mut conv = TcpConversation::new(client(), collector());
        conv.with_isn(isn, u32::MAX - 10)
            .handshake()
            .client_sends(&req, &every(req.len(), 1000))
            .server_sends(RESPONSE, &[])
            .close();
        let d = decode(pcap(1, conv.frames()));
        assert_clean(&d, &[&body], 1);
    }
}

#[test]
fn capture_starting_mid_post_skips_that_post_and_decodes_the_next_whole() {
    let first = data_body(6, 30);
    let second = data_body(7, 30);
    let (r1, r2) = (request(DATA_PATH, &first), request(DATA_PATH, &second));
    let mut conv = TcpConversation::new(client(), collector());
    conv.handshake()
        .client_sends(&r1, &[1000, 2000])
        .server_sends(RESPONSE, &[])
        .client_sends(&r2, &[1000, 2000])
        .server_sends(RESPONSE, &[])
        .close();
    // The capture starts with the second segment of the first request.
    let frames = &conv.frames()[4..];
    let d = decode(pcap(1, frames));
    assert_eq!(d.posts.len(), 1);
    assert!(d.posts[0].complete());
    assert_eq!(d.posts[0].body, second.as_bytes());
    assert_eq!(d.records(), lines(&second));
    let s = &d.stats;
    assert_eq!(delivery(s), (1, 0, 0, 0, 1));
    // What was seen of the first request is skipped, and reported so.
    let skipped: Vec<u64> = d
        .problems
        .iter()
        .filter_map(|p| match p.kind {
            ProblemKind::Skipped { len, .. } => Some(len),
            _ => None,
        })
        .collect();
    assert_eq!(skipped, [r1.len() as u64 - 1000]);
}

/// A keep-alive connection carrying `first` and `second`, with the data segment number
/// `lost` (from 0) of the first request removed. Returns the frames and that segment's range.
fn lost_segment_capture(
    first: &[u8],
    second: &[u8],
    cuts: &[usize],
    lost: usize,
) -> (Vec<Frame>, std::ops::Range<usize>) {
    let mut conv = TcpConversation::new(client(), collector());
    conv.handshake()
        .client_sends(first, cuts)
        .server_sends(RESPONSE, &[])
        .client_sends(second, &[700])
        .server_sends(RESPONSE, &[])
        .close();
    let mut frames = conv.into_frames();
    frames.remove(3 + lost);
    let bounds: Vec<usize> = std::iter::once(0)
        .chain(cuts.iter().copied())
        .chain(std::iter::once(first.len()))
        .collect();
    (frames, bounds[lost]..bounds[lost + 1])
}

#[test]
fn lost_segment_damages_its_post_keeps_whole_lines_before_the_hole_and_the_next_post() {
    let first = data_body(8, 30);
    let second = data_body(9, 30);
    let (r1, r2) = (request(DATA_PATH, &first), request(DATA_PATH, &second));
    let head = head_len(&r1);
    let (frames, hole) = lost_segment_capture(&r1, &r2, &[1000, 2000, 3000], 1);
    let d = decode(pcap(1, &frames));

    // The hole in body coordinates; the lines that end before it.
    let (hole_start, hole_end) = (hole.start - head, hole.end - head);
    let before = &first[..hole_start];
    let whole = &before[..before.rfind('\n').unwrap() + 1];
    assert_eq!(d.posts.len(), 2);
    let damaged = &d.posts[0];
    assert_eq!(damaged.body, before.as_bytes());
    assert_eq!(
        damaged.missing,
        Missing::Bytes((first.len() - hole_start) as u64)
    );
    assert_eq!(damaged.records, lines(whole));
    assert!(damaged.records.len() < lines(&first).len());
    assert_eq!(d.posts[1].body, second.as_bytes());
    assert!(d.posts[1].complete());
    assert_eq!(d.posts[1].records, lines(&second));

    let s = &d.stats;
    assert_eq!(delivery(s), (2, 1, hole.len() as u64, 1, 1));
    // The rest of the cut body, after the hole, is passed over up to the next request line.
    assert_eq!(s.skipped_bytes, (first.len() - hole_end) as u64);
    assert_eq!(
        d.count_problems(
            |k| matches!(k, ProblemKind::Gap { len, .. } if *len == hole.len() as u64)
        ),
        1
    );
    assert_eq!(
        d.count_problems(|k| matches!(k, ProblemKind::IncompletePost { .. })),
        1
    );
}

#[test]
fn lost_segment_holding_the_start_of_a_body_leaves_nothing_decodable() {
    let first = data_body(10, 30);
    let second = command_body(11);
    let (r1, r2) = (request(DATA_PATH, &first), request(COMMAND_PATH, &second));
    let head = head_len(&r1);
    let (frames, hole) = lost_segment_capture(&r1, &r2, &[head + 40, 2000], 1);
    let d = decode(pcap(1, &frames));
    assert_eq!(d.posts.len(), 2);
    assert_eq!(d.posts[0].body, &first.as_bytes()[..40]);
    assert!(d.posts[0].records.is_empty());
    assert_eq!(d.posts[1].records, lines(&second));
    assert_eq!(
        (d.stats.gaps, d.stats.bytes_missing, d.stats.damaged_posts),
        (1, hole.len() as u64, 1)
    );
}

// ---------------------------------------------------------------------------------------------
// HTTP: keep-alive, chunked, channels, other requests, responses

#[test]
fn keep_alive_connection_with_several_posts_decodes_each_in_order() {
    let bodies = [data_body(12, 30), command_body(13), data_body(14, 25)];
    let mut conv = TcpConversation::new(client(), collector());
    conv.handshake();
    for (i, b) in bodies.iter().enumerate() {
        let path = if i == 1 { COMMAND_PATH } else { DATA_PATH };
        let req = request(path, b);
        conv.client_sends(&req, &every(req.len(), 1448))
            .server_sends(RESPONSE, &[]);
    }
    conv.close();
    let d = decode(pcap(1, conv.frames()));
    let refs: Vec<&str> = bodies.iter().map(String::as_str).collect();
    assert_clean(&d, &refs, 1);
    let channels: Vec<Option<Channel>> = d.posts.iter().map(|p| p.channel).collect();
    assert_eq!(
        channels,
        [
            Some(Channel::Data),
            Some(Channel::Command),
            Some(Channel::Data)
        ]
    );
    assert_eq!(d.stats.requests, 3);
}

#[test]
fn chunked_body_split_inside_chunk_sizes_decodes_whole() {
    let body = data_body(15, 30);
    let mut req = format!(
        "POST {DATA_PATH} HTTP/1.1\r\nhost: collector.sunpowermonitor.com\r\ncontent-type: text/plain\r\nTRANSFER-ENCODING: chunked\r\n\r\n"
    )
    .into_bytes();
    let mut rest = body.as_bytes();
    let mut size = 1;
    while !rest.is_empty() {
        let n = size.min(rest.len());
        req.extend_from_slice(format!("{n:x}\r\n").as_bytes());
        req.extend_from_slice(&rest[..n]);
        req.extend_from_slice(b"\r\n");
        rest = &rest[n..];
        size = size * 3 + 7;
    }
    req.extend_from_slice(b"0\r\n\r\n");
    // Cut every 97 bytes: inside chunk-size lines, CRLFs and data alike.
    let conv = exchange(&req, &every(req.len(), 97));
    let d = decode(pcap(1, conv.frames()));
    assert_clean(&d, &[&body], 1);
}

#[test]
fn command_and_data_channels_are_told_apart_by_path() {
    let data = data_body(16, 30);
    let command = command_body(17);
    let mut frames = Vec::new();
    for (port, path, body) in [(50_001, DATA_PATH, &data), (50_002, COMMAND_PATH, &command)] {
        let mut c = TcpConversation::new(SocketAddr::new(client().ip(), port), collector());
        c.starting_at(DateTime::from_timestamp(1_483_809_000 + i64::from(port), 0).unwrap());
        let req = request(path, body);
        c.handshake()
            .client_sends(&req, &[300])
            .server_sends(RESPONSE, &[])
            .close();
        frames.extend(c.into_frames());
    }
    let d = decode(pcap(1, &frames));
    assert_clean(&d, &[&data, &command], 2);
    let got: Vec<(&str, Option<Channel>)> = d
        .posts
        .iter()
        .map(|p| (p.target.as_str(), p.channel))
        .collect();
    assert_eq!(
        got,
        [
            (DATA_PATH, Some(Channel::Data)),
            (COMMAND_PATH, Some(Channel::Command))
        ]
    );
}

#[test]
fn other_posts_and_gets_are_not_decoded_on_the_same_or_other_connections() {
    let body = data_body(18, 30);
    // A body that would parse as records if it were decoded.
    let decoy = command_body(19);
    let upload = format!(
        "POST /api/upload HTTP/1.1\r\nHost: example.net\r\nContent-Length: {}\r\n\r\n{decoy}",
        decoy.len()
    );
    let get = "GET /SMS2DataCollector.aspx.html HTTP/1.1\r\nHost: example.net\r\n\r\n";
    let mut same = TcpConversation::new(client(), collector());
    same.handshake()
        .client_sends(upload.as_bytes(), &[50])
        .server_sends(RESPONSE, &[])
        .client_sends(get.as_bytes(), &[])
        .server_sends(RESPONSE, &[])
        .client_sends(&request(DATA_PATH, &body), &[1000, 2000])
        .server_sends(RESPONSE, &[])
        .close();
    let mut other = TcpConversation::new(
        "192.168.1.23:40000".parse().unwrap(),
        "93.184.215.14:80".parse().unwrap(),
    );
    other
        .starting_at(DateTime::from_timestamp(1_483_809_100, 0).unwrap())
        .handshake()
        .client_sends(upload.as_bytes(), &[])
        .server_sends(RESPONSE, &[])
        .close();
    let mut frames = same.into_frames();
    frames.extend(other.into_frames());
    let d = decode(pcap(1, &frames));
    assert_clean(&d, &[&body], 2);
    assert_eq!((d.stats.requests, d.stats.other_requests), (4, 3));
}

#[test]
fn collector_responses_never_become_records_even_when_every_request_is_kept() {
    let body = command_body(20);
    let req = request(COMMAND_PATH, &body);
    let conv = exchange(&req, &[]);
    let mut config = DecoderConfig::default();
    config.http.bodies = BodyFilter::All;
    let d = decode_with(
        vec![Input::from_reader(
            "mem",
            Cursor::new(pcap(1, conv.frames())),
        )],
        config,
    );
    assert_eq!(d.records(), lines(&body));
    assert!(d.records().iter().all(|r| !r.starts_with("1002")));
    assert_eq!((d.stats.posts, d.stats.requests), (1, 1));
    assert_eq!(d.stats.http.response_bytes, RESPONSE.len() as u64);
}

/// TLS records (handshake type 0x16, then application data 0x17) with `len` bytes of payload
/// that hold CR, LF and method-like text, so that only the first byte tells them from HTTP.
fn tls_record(kind: u8, len: usize) -> Vec<u8> {
    let mut r = vec![kind, 0x03, 0x03, (len >> 8) as u8, len as u8];
    let filler = b"\r\nPOST /Data/SMS2DataCollector.aspx HTTP/1.1\r\n\x00\x9f";
    r.extend(filler.iter().cycle().take(len));
    r
}

#[test]
fn tls_connections_beside_the_collector_are_counted_as_not_http_without_errors() {
    let body = data_body(21, 12);
    let hello = tls_record(0x16, 512);
    let server_hello = tls_record(0x16, 1_200);
    let mut data = tls_record(0x17, 3_000);
    data.extend(tls_record(0x17, 900));
    let mut tls = TcpConversation::new(
        "192.168.1.23:40001".parse().unwrap(),
        "142.250.72.14:443".parse().unwrap(),
    );
    tls.starting_at(DateTime::from_timestamp(1_483_809_100, 0).unwrap())
        .handshake()
        .client_sends(&hello, &[100])
        .server_sends(&server_hello, &[])
        .server_sends(&data, &[1_448, 2_896])
        .close();
    let mut frames = exchange(&request(DATA_PATH, &body), &[700]).into_frames();
    frames.extend(tls.into_frames());
    let d = decode(pcap(1, &frames));
    assert_clean(&d, &[&body], 2);
    assert_eq!(d.stats.non_http_streams, 2);
    assert_eq!(
        d.stats.http.non_http_bytes,
        (hello.len() + server_hello.len() + data.len()) as u64
    );
    assert_eq!(d.stats.http.response_bytes, RESPONSE.len() as u64);
}

#[test]
fn a_stream_picked_up_mid_way_is_scanned_even_if_it_starts_like_tls() {
    let body = data_body(22, 6);
    let req = request(DATA_PATH, &body);
    // No handshake: the first segment seen is a TLS record header and 300 bytes of ciphertext
    // without a line break, ended by one; then a post follows on the connection.
    let mut stream = vec![0x17, 0x03, 0x03, 0x01, 0x2c];
    stream.extend(std::iter::repeat_n(0x9f, 300));
    stream.push(b'\n');
    let binary = stream.len();
    stream.extend_from_slice(&req);
    let mut c = TcpConversation::new(client(), collector());
    c.client_sends(&stream, &[binary]).close();
    let d = decode(pcap(1, &c.into_frames()));
    assert_eq!(d.records(), lines(&body));
    assert_eq!(
        (
            d.stats.non_http_streams,
            d.stats.http.non_http_bytes,
            d.stats.skipped_bytes,
            d.stats.http_errors
        ),
        (0, 0, binary as u64, 0)
    );
}

// ---------------------------------------------------------------------------------------------
// Link types, IP versions, file formats

fn link_capture(link: Link, client: SocketAddr, server: SocketAddr, body: &str) -> Vec<u8> {
    let mut c = TcpConversation::new(client, server);
    c.with_link(link);
    let req = request(DATA_PATH, body);
    c.handshake()
        .client_sends(&req, &every(req.len(), 1200))
        .server_sends(RESPONSE, &[])
        .close();
    pcap(c.link_type(), c.frames())
}

#[test]
fn every_link_type_decodes_whole_over_ipv4_and_ipv6() {
    let v4 = (client(), collector());
    let v6: (SocketAddr, SocketAddr) = (
        "[fd00::50]:49200".parse().unwrap(),
        "[2001:db8::66]:80".parse().unwrap(),
    );
    let q = |vid| VlanTag { tpid: 0x8100, vid };
    let links = [
        Link::ethernet(),
        Link::Ethernet { vlans: vec![q(10)] },
        Link::Ethernet {
            vlans: vec![
                VlanTag {
                    tpid: 0x88a8,
                    vid: 100,
                },
                q(20),
            ],
        },
        Link::Ethernet {
            vlans: vec![q(100), q(20)],
        },
        Link::LinuxSll,
        Link::LinuxSll2,
        Link::Raw { link_type: 101 },
        Link::Null { big_endian: false },
        Link::Null { big_endian: true },
    ];
    let mut n = 0;
    for link in links {
        for (c, s) in [v4, v6] {
            let body = data_body(21 + n, 30);
            let d = decode(link_capture(link.clone(), c, s, &body));
            assert_clean(&d, &[&body], 1);
            n += 1;
        }
    }
    // Raw IP under the IPv4-only (228) and IPv6-only (229) link types.
    for (lt, (c, s)) in [(228, v4), (229, v6)] {
        let body = data_body(40 + lt, 30);
        let d = decode(link_capture(Link::Raw { link_type: lt }, c, s, &body));
        assert_clean(&d, &[&body], 1);
    }
}

#[test]
fn big_endian_and_nanosecond_pcaps_decode_whole_with_exact_times() {
    let body = data_body(22, 30);
    let req = request(DATA_PATH, &body);
    let start = DateTime::from_timestamp(1_750_000_000, 123_456_789).unwrap();
    let mut c = TcpConversation::new(client(), collector());
    c.starting_at(start)
        .with_step(TimeDelta::nanoseconds(1_001))
        .handshake()
        .client_sends(&req, &[1000, 2000])
        .server_sends(RESPONSE, &[])
        .close();
    // The post is complete at the last of its three data segments (frame 6, index 5).
    let done = c.frames()[5].timestamp;
    for format in [
        PcapFormat::LE_MICRO,
        PcapFormat::BE_MICRO,
        PcapFormat::LE_NANO,
        PcapFormat::BE_NANO,
    ] {
        let d = decode(pcap_bytes(1, format, c.frames()));
        assert_clean(&d, &[&body], 1);
        let want = if format.nanos {
            done
        } else {
            DateTime::from_timestamp_micros(done.timestamp_micros()).unwrap()
        };
        assert_eq!(d.posts[0].captured_at, want, "{format:?}");
    }
}

#[test]
fn pcapng_with_two_interfaces_of_different_link_types_decodes_both() {
    let (b1, b2) = (data_body(23, 30), data_body(24, 30));
    let mut c1 = TcpConversation::new(client(), collector());
    let mut c2 = TcpConversation::new(
        "[fd00::50]:49300".parse().unwrap(),
        "[2001:db8::66]:80".parse().unwrap(),
    );
    c2.with_link(Link::LinuxSll2)
        .starting_at(DateTime::from_timestamp(1_483_809_000, 500_000).unwrap());
    for (c, b) in [(&mut c1, &b1), (&mut c2, &b2)] {
        let req = request(DATA_PATH, b);
        c.handshake()
            .client_sends(&req, &every(req.len(), 1000))
            .server_sends(RESPONSE, &[])
            .close();
    }
    let mut w = PcapNgWriter::new(Vec::new(), Endian::Little).unwrap();
    let eth = w.add_interface(InterfaceSpec::new(1)).unwrap();
    let sll2 = w
        .add_interface(InterfaceSpec {
            tsresol: Some(9),
            ..InterfaceSpec::new(276)
        })
        .unwrap();
    // Interleaved by time: c2 is 0.5 ms behind c1.
    for (f1, f2) in c1.frames().iter().zip(c2.frames()) {
        w.write_frame(eth, f1).unwrap();
        w.write_frame(sll2, f2).unwrap();
    }
    let d = decode(w.into_inner());
    assert_clean(&d, &[&b1, &b2], 2);
    // Each post is complete at its last data segment, time-stamped in its interface's units.
    let segments = every(request(DATA_PATH, &b2).len(), 1000).len() + 1;
    assert_eq!(d.posts[0].captured_at, c1.frames()[2 + segments].timestamp);
    assert_eq!(d.posts[1].captured_at, c2.frames()[2 + segments].timestamp);
}

#[test]
fn gzip_file_and_two_member_gzip_decode_whole() {
    let body = data_body(25, 30);
    let conv = exchange(&request(DATA_PATH, &body), &[1000, 2000]);
    let file = pcapng_bytes(1, Some(9), conv.frames());
    let d = decode(gzip(&file));
    assert_clean(&d, &[&body], 1);
    // Two members cut inside a packet.
    let cut = file.len() / 2 + 3;
    let mut two = gzip(&file[..cut]);
    two.extend_from_slice(&gzip(&file[cut..]));
    let d = decode(two);
    assert_clean(&d, &[&body], 1);
}

#[test]
fn rotated_set_with_a_connection_across_two_files_decodes_whole() {
    let body = data_body(26, 30);
    let conv = exchange(&request(DATA_PATH, &body), &[1000, 2000]);
    let frames = conv.frames();
    // The first file ends after the first data segment.
    let (a, b) = frames.split_at(4);
    let inputs = vec![
        Input::from_reader("part1.pcap", Cursor::new(pcap(1, a))),
        Input::from_reader("part2.pcap.gz", Cursor::new(gzip(&pcap(1, b)))),
    ];
    let d = decode_inputs(inputs);
    assert_clean(&d, &[&body], 1);
    assert_eq!(d.stats.packets as usize, frames.len());
}

// ---------------------------------------------------------------------------------------------
// Damage: snaplen, cut file, IP fragments

#[test]
fn segment_truncated_by_snaplen_damages_its_post_and_counts_the_gap() {
    let body = data_body(27, 30);
    let next = command_body(28);
    let (r1, r2) = (request(DATA_PATH, &body), request(COMMAND_PATH, &next));
    let head = head_len(&r1);
    let mut conv = TcpConversation::new(client(), collector());
    conv.handshake()
        .client_sends(&r1, &[1000, 2000])
        .server_sends(RESPONSE, &[])
        .client_sends(&r2, &[])
        .close();
    let mut frames = conv.into_frames();
    // Second data segment [1000, 2000): Ethernet 14 + IPv4 20 + TCP 20 headers, keep 300 bytes.
    let snap = 54 + 300;
    frames[4] = frames[4].clone().truncated(snap);
    let truncated_at = frames[4].timestamp;
    let d = decode(pcap(1, &frames));
    assert_eq!(d.posts.len(), 2);
    // Reported by the truncated packet itself, not when later data or the end forces the hole.
    assert_eq!(d.posts[0].captured_at, truncated_at);
    let cut_at = 1000 + 300 - head;
    let received = &body[..cut_at];
    assert_eq!(d.posts[0].body, received.as_bytes());
    assert_eq!(
        d.posts[0].missing,
        Missing::Bytes((body.len() - cut_at) as u64)
    );
    assert_eq!(
        d.posts[0].records,
        lines(&received[..received.rfind('\n').unwrap() + 1])
    );
    assert_eq!(d.posts[1].records, lines(&next));
    let s = &d.stats;
    assert_eq!(
        (
            s.truncated_segments,
            s.truncated_bytes,
            s.gaps,
            s.bytes_missing,
            s.damaged_posts
        ),
        (1, 700, 1, 700, 1)
    );
    assert_eq!(
        d.count_problems(|k| matches!(k, ProblemKind::Truncated { missing: 700 })),
        1
    );
}

#[test]
fn file_cut_inside_a_packet_keeps_every_earlier_post_and_reports_the_cut() {
    let bodies = [data_body(29, 30), data_body(30, 30), data_body(31, 30)];
    let mut frames = Vec::new();
    for (i, b) in bodies.iter().enumerate() {
        let mut c = TcpConversation::new(
            SocketAddr::new(client().ip(), 50_000 + i as u16),
            collector(),
        );
        c.starting_at(DateTime::from_timestamp(1_483_809_000 + 300 * i as i64, 0).unwrap());
        let req = request(DATA_PATH, b);
        c.handshake()
            .client_sends(&req, &[1000, 2000])
            .server_sends(RESPONSE, &[])
            .close();
        frames.extend(c.into_frames());
    }
    let per_conn = frames.len() / 3;
    let file = pcap(1, &frames);
    // Cut in the middle of the third connection's second data segment (frame index 4 of it).
    let full_before = pcap(1, &frames[..2 * per_conn + 4]).len();
    let cut = full_before + 16 + 500;
    let d = decode(file[..cut].to_vec());
    assert_eq!(d.posts.len(), 3);
    assert_eq!(d.posts[0].records, lines(&bodies[0]));
    assert_eq!(d.posts[1].records, lines(&bodies[1]));
    assert!(d.posts[..2].iter().all(Got::complete));
    // The third post holds what came before the cut, and only its whole lines decode.
    let head = head_len(&request(DATA_PATH, &bodies[2]));
    let received = &bodies[2][..1000 - head];
    assert_eq!(d.posts[2].body, received.as_bytes());
    assert_eq!(
        d.posts[2].records,
        lines(&received[..received.rfind('\n').unwrap() + 1])
    );
    let s = &d.stats;
    assert_eq!(
        (
            s.packets as usize,
            s.capture_errors,
            s.posts,
            s.damaged_posts,
            s.flows.flows_opened
        ),
        (2 * per_conn + 4, 1, 3, 1, 3)
    );
    assert_eq!(
        d.count_problems(|k| matches!(k, ProblemKind::Capture(_))),
        1
    );
}

#[test]
fn ip_fragments_of_tcp_are_counted_reported_and_become_a_gap() {
    let body = data_body(32, 30);
    let next = command_body(33);
    let (r1, r2) = (request(DATA_PATH, &body), request(COMMAND_PATH, &next));
    let mut conv = TcpConversation::new(client(), collector());
    conv.handshake()
        .client_sends(&r1, &[1000, 2000])
        .server_sends(RESPONSE, &[])
        .client_sends(&r2, &[])
        .close();
    let mut frames = conv.into_frames();
    // The second data segment [1000, 2000) sent as two IPv4 fragments instead.
    let (c, s) = (client(), collector());
    let (IpAddr::V4(ci), IpAddr::V4(si)) = (c.ip(), s.ip()) else {
        unreachable!()
    };
    let header = TcpHeader {
        seq: 1001 + 1000,
        ack: 5001,
        flags: TCP_PSH | TCP_ACK,
        ..TcpHeader::new(c, s)
    };
    let tcp = tcp_segment(&header, &r1[1000..2000]);
    let frag = |offset: usize, data: &[u8], more: bool| {
        let opts = Ipv4Options {
            id: 777,
            dont_fragment: false,
            more_fragments: more,
            fragment_offset: offset as u16,
            ..Ipv4Options::default()
        };
        Frame::new(
            frames[4].timestamp,
            Link::ethernet().frame(&ipv4_packet(ci, si, 6, data, &opts)),
        )
    };
    let f1 = frag(0, &tcp[..520], true);
    let f2 = frag(520, &tcp[520..], false);
    frames.splice(4..5, [f1, f2]);
    let d = decode(pcap(1, &frames));
    let st = &d.stats;
    assert_eq!(
        (
            st.fragments,
            st.gaps,
            st.bytes_missing,
            st.damaged_posts,
            st.posts
        ),
        (2, 1, 1000, 1, 2)
    );
    assert_eq!(
        d.count_problems(|k| matches!(k, ProblemKind::TcpFragment { .. })),
        2
    );
    assert_eq!(d.posts[1].records, lines(&next));
    let head = head_len(&r1);
    assert_eq!(d.posts[0].body, &body.as_bytes()[..1000 - head]);
}

#[test]
fn ipv6_extension_headers_before_tcp_are_skipped() {
    use sunpower_testkit::{ipv6_packet, Ipv6Extension};
    let body = data_body(34, 30);
    let req = request(DATA_PATH, &body);
    let (c, s): (SocketAddr, SocketAddr) = (
        "[fd00::50]:49200".parse().unwrap(),
        "[2001:db8::66]:80".parse().unwrap(),
    );
    let (IpAddr::V6(ci), IpAddr::V6(si)) = (c.ip(), s.ip()) else {
        unreachable!()
    };
    let link = Link::Raw { link_type: 101 };
    let mut conv = TcpConversation::new(c, s);
    conv.with_link(link.clone()).handshake();
    let mut frames = conv.into_frames();
    let extensions = [
        Ipv6Extension::HopByHop { units: 1 },
        Ipv6Extension::DestinationOptions { units: 2 },
        Ipv6Extension::Routing { units: 1 },
    ];
    for (start, end) in [(0, 1500), (1500, req.len())] {
        let header = TcpHeader {
            seq: 1001 + start as u32,
            ack: 5001,
            flags: TCP_PSH | TCP_ACK,
            ..TcpHeader::new(c, s)
        };
        let tcp = tcp_segment(&header, &req[start..end]);
        let ip = ipv6_packet(ci, si, 6, &extensions, &tcp);
        frames.push(Frame::new(DateTime::UNIX_EPOCH, link.frame(&ip)));
    }
    restamp(&mut frames);
    let d = decode(pcap(101, &frames));
    assert_clean(&d, &[&body], 1);
}

#[test]
fn same_four_tuple_reused_by_a_new_connection_decodes_both_posts() {
    let (b1, b2) = (data_body(35, 30), data_body(36, 30));
    let mut frames = Vec::new();
    for (i, (b, isn)) in [(&b1, 1000u32), (&b2, 3_000_000_000u32)]
        .into_iter()
        .enumerate()
    {
        let mut c = TcpConversation::new(client(), collector());
        c.with_isn(isn, 7000)
            .starting_at(DateTime::from_timestamp(1_483_809_000 + 300 * i as i64, 0).unwrap());
        let req = request(DATA_PATH, b);
        c.handshake()
            .client_sends(&req, &every(req.len(), 1448))
            .server_sends(RESPONSE, &[])
            .close();
        frames.extend(c.into_frames());
    }
    let d = decode(pcap(1, &frames));
    assert_clean(&d, &[&b1, &b2], 2);
}

#[test]
fn reset_in_the_middle_of_a_body_delivers_it_incomplete() {
    let body = data_body(37, 30);
    let req = request(DATA_PATH, &body);
    let head = head_len(&req);
    let mut conv = TcpConversation::new(client(), collector());
    conv.handshake()
        .client_sends(&req[..2000], &[1000])
        .reset(Side::Client);
    let d = decode(pcap(1, conv.frames()));
    let received = &body[..2000 - head];
    assert_eq!(d.posts.len(), 1);
    assert_eq!(d.posts[0].body, received.as_bytes());
    assert_eq!(
        d.posts[0].missing,
        Missing::Bytes((body.len() - received.len()) as u64)
    );
    assert_eq!(
        d.posts[0].records,
        lines(&received[..received.rfind('\n').unwrap() + 1])
    );
    let s = &d.stats;
    assert_eq!(
        (
            s.posts,
            s.damaged_posts,
            s.gaps,
            s.bytes_missing,
            s.flows.flows_opened
        ),
        (1, 1, 0, 0, 1)
    );
}

// ---------------------------------------------------------------------------------------------
// Issue 12: hostile inputs that must lose nothing

/// A request declaring a huge body, collector or not, must not swallow the collector posts that
/// follow on its connection: the request is counted, its "body" skipped up to the next request
/// line and counted, and on the collector path reported once.
#[test]
fn a_huge_declared_body_does_not_swallow_the_later_posts_of_its_connection() {
    let (b1, b2) = (data_body(40, 3), data_body(41, 3));
    let heads: [(&str, bool); 4] = [
        ("GET / HTTP/1.1\r\nContent-Length: 1000000000\r\n\r\n", false),
        ("POST /favicon.ico HTTP/1.1\r\nContent-Length: 9223372036854775808\r\n\r\n", false),
        ("POST /Data/SMS2DataCollector.aspx HTTP/1.1\r\nContent-Length: 1000000000\r\n\r\n", true),
        ("POST /Data/SMS2DataCollector.aspx HTTP/1.1\r\nContent-Length: 9223372036854775808\r\n\r\n", true),
    ];
    for (head, collector_path) in heads {
        let junk = "100\tpart of the lying body\n";
        let stream = [
            head.as_bytes(),
            junk.as_bytes(),
            &request(DATA_PATH, &b1),
            &request(DATA_PATH, &b2),
        ]
        .concat();
        let mut conv = TcpConversation::new(client(), collector());
        conv.handshake()
            .client_sends(&stream, &every(stream.len(), 700))
            .server_sends(RESPONSE, &[])
            .close();
        let d = decode(pcap(1, conv.frames()));
        assert_eq!(d.records(), [lines(&b1), lines(&b2)].concat(), "{head}");
        let s = &d.stats;
        assert_eq!(
            (s.posts, s.requests, s.oversized_bodies),
            (2, 3, 1),
            "{head}"
        );
        assert_eq!(s.http.oversized_body_bytes, junk.len() as u64, "{head}");
        assert_eq!(s.skipped_bytes, 0);
        let problems: Vec<String> = d.problems.iter().map(ToString::to_string).collect();
        if collector_path {
            assert_eq!((s.http_errors, s.other_requests), (1, 0));
            assert_eq!(
                problems,
                ["mem: packet 4, flow 0: HTTP at stream offset 0: body longer than the limit of 16777216 bytes"]
            );
        } else {
            assert_eq!((s.http_errors, s.other_requests), (0, 1));
            assert_eq!(problems, Vec::<String>::new());
        }
    }
}

/// A complete POST sent after the client's FIN is decoded (a connection that went on after its
/// close), whether or not the server had closed too; bytes after a FIN that do not follow it are
/// counted and reported, not lost without trace.
#[test]
fn a_post_sent_after_the_clients_fin_is_decoded_and_other_late_bytes_are_counted() {
    let (b1, b2) = (data_body(42, 3), command_body(43));
    let (r1, r2) = (request(DATA_PATH, &b1), request(COMMAND_PATH, &b2));
    for server_closed in [false, true] {
        let mut conv = TcpConversation::new(client(), collector());
        conv.handshake()
            .client_sends(&r1, &[])
            .server_sends(RESPONSE, &[]);
        if server_closed {
            conv.close();
        } else {
            conv.fin(Side::Client);
        }
        conv.client_sends(&r2, &[100]).server_sends(RESPONSE, &[]);
        let d = decode(pcap(1, conv.frames()));
        assert_eq!(
            d.records(),
            [lines(&b1), lines(&b2)].concat(),
            "server closed: {server_closed}"
        );
        assert_eq!(d.posts[1].channel, Some(Channel::Command));
        let s = &d.stats;
        assert_eq!(
            (
                s.posts,
                s.flows.flows_opened,
                s.flows.flows_continued_after_fin
            ),
            (2, 2, 1)
        );
        assert_eq!((s.bytes_after_close, s.gaps, s.skipped_bytes), (0, 0, 0));
    }

    // 29 bytes sent after the FIN, but not where the FIN left off: counted and reported.
    let link = Link::ethernet();
    let mut conv = TcpConversation::new(client(), collector());
    conv.handshake().client_sends(&r1, &[]).fin(Side::Client);
    let mut frames = conv.into_frames();
    let fin_offset = r1.len() as u32 + 1;
    let late = &b1.as_bytes()[..29];
    let pa = TCP_PSH | TCP_ACK;
    frames.push(Frame::new(
        DateTime::UNIX_EPOCH,
        client_segment(&link, fin_offset + 10, pa, late),
    ));
    restamp(&mut frames);
    let d = decode(pcap(1, &frames));
    assert_eq!(d.records(), lines(&b1));
    assert_eq!(
        (d.stats.bytes_after_close, d.stats.flows.flows_opened),
        (29, 1)
    );
    let problems: Vec<String> = d.problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        problems,
        ["mem: packet 6, flow 0: 29 bytes after the end of the stream (client to server) not decoded"]
    );
}

/// An address and port pair reused by a connection whose SYN the capture missed resumes at an
/// unrelated sequence number: a new stream, not hundreds of megabytes "missing".
#[test]
fn a_reused_pair_resuming_far_away_after_idling_is_a_new_stream_not_a_gap() {
    let (b1, b2) = (data_body(44, 3), data_body(45, 3));
    let start = DateTime::from_timestamp(1_483_809_000, 0).unwrap();
    // 500 MB ahead is within the reassembler's window (a gap before), 3e9 is far outside it
    // (the post was dropped as out of window before).
    for jump in [500_000_000u32, 3_000_000_000] {
        let mut first = TcpConversation::new(client(), collector());
        first
            .starting_at(start)
            .handshake()
            .client_sends(&request(DATA_PATH, &b1), &[]);
        let mut second = TcpConversation::new(client(), collector());
        second
            .with_isn(1000u32.wrapping_add(jump), 9000)
            .starting_at(start + TimeDelta::seconds(120))
            .client_sends(&request(DATA_PATH, &b2), &[300]);
        let frames = [first.into_frames(), second.into_frames()].concat();
        let d = decode(pcap(1, &frames));
        assert_eq!(
            d.records(),
            [lines(&b1), lines(&b2)].concat(),
            "jump {jump}"
        );
        let s = &d.stats;
        assert_eq!(
            (s.posts, s.flows.flows_opened, s.flows.flows_restarted),
            (2, 2, 1)
        );
        assert_eq!(
            (s.gaps, s.bytes_missing, s.flows.tcp.segments_out_of_window),
            (0, 0, 0)
        );
    }
    // A 10 MB jump on a busy connection (no idle time) is no restart, and no hole either:
    // the wire could not have carried it in between (issue 25).
    let mut c = TcpConversation::new(client(), collector());
    c.starting_at(start)
        .handshake()
        .client_sends(&request(DATA_PATH, &b1), &[]);
    let mut frames = c.into_frames();
    let far = client_segment(&Link::ethernet(), 1_000_000 + 10_000_000, TCP_ACK, b"x");
    frames.push(Frame::new(start, far));
    let d = decode(pcap(1, &frames));
    let s = &d.stats;
    assert_eq!(
        (
            s.flows.flows_restarted,
            s.gaps,
            s.flows.tcp.segments_out_of_window
        ),
        (0, 0, 1)
    );
}

/// Issue 25: a segment far ahead on a busy connection (500 MB a millisecond after the last
/// data) is more than the wire could have carried in between: counted out of window, not a gap
/// of 500 MB; the connection goes on decoding. Given the time, the same jump is a gap.
#[test]
fn a_far_jump_on_a_busy_connection_is_not_more_missing_bytes_than_the_wire_could_carry() {
    let (b1, b2) = (data_body(47, 3), data_body(48, 3));
    let (r1, r2) = (request(DATA_PATH, &b1), request(DATA_PATH, &b2));
    let start = DateTime::from_timestamp(1_483_809_000, 0).unwrap();
    let mut head = TcpConversation::new(client(), collector());
    head.starting_at(start).handshake().client_sends(&r1, &[]);
    let before = head.into_frames().len();
    let mut c = TcpConversation::new(client(), collector());
    c.starting_at(start)
        .handshake()
        .client_sends(&r1, &[])
        .client_sends(&r2, &[]);
    let mut frames = c.into_frames();
    let at = frames[before - 1].timestamp + TimeDelta::microseconds(500);
    let far = 500_000_000 + r1.len() as u32;
    let segment = client_segment(&Link::ethernet(), far, TCP_ACK, b"x");
    frames.insert(before, Frame::new(at, segment.clone()));
    let d = decode(pcap(1, &frames));
    assert_eq!(d.records(), [lines(&b1), lines(&b2)].concat());
    let s = &d.stats;
    assert_eq!((s.gaps, s.bytes_missing), (0, 0));
    assert_eq!(
        (s.flows.tcp.segments_out_of_window, s.flows.flows_restarted),
        (1, 0)
    );
    // Ten seconds after the last data, 500 MB could have gone by at 1 Gbit/s: a hole.
    frames[before] = Frame::new(at + TimeDelta::seconds(10), segment);
    for f in &mut frames[before + 1..] {
        f.timestamp += TimeDelta::seconds(10);
    }
    let d = decode(pcap(1, &frames));
    assert_eq!(d.stats.flows.tcp.segments_out_of_window, 0);
    assert_eq!(d.stats.gaps, 1);
    assert!(d.stats.bytes_missing > 499_000_000); // less the second post, sent after it
}

/// A retransmission whose bytes differ from the copy already received is reported, saying
/// which copy was kept, and counted; the first copy is what is decoded.
#[test]
fn an_overlap_with_another_content_is_reported_and_the_first_copy_kept() {
    let body = data_body(46, 3);
    let req = request(DATA_PATH, &body);
    let link = Link::ethernet();
    let pa = TCP_PSH | TCP_ACK;
    let mut hs = TcpConversation::new(client(), collector());
    hs.handshake();
    let mut frames = hs.into_frames();
    let h = head_len(&req);
    let mut forged = req[h..h + 40].to_vec();
    forged[10..14].copy_from_slice(b"9999");
    frames.push(Frame::new(
        DateTime::UNIX_EPOCH,
        client_segment(&link, 0, pa, &req[..h + 60]),
    ));
    frames.push(Frame::new(
        DateTime::UNIX_EPOCH,
        client_segment(&link, h as u32, pa, &forged),
    ));
    frames.push(Frame::new(
        DateTime::UNIX_EPOCH,
        client_segment(&link, (h + 60) as u32, pa, &req[h + 60..]),
    ));
    restamp(&mut frames);
    let d = decode(pcap(1, &frames));
    assert_eq!(d.records(), lines(&body));
    let s = &d.stats;
    assert_eq!(
        (s.conflicting_overlaps, s.flows.tcp.duplicate_bytes, s.posts),
        (1, 40, 1)
    );
    let problems: Vec<String> = d.problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        problems,
        [format!("mem: packet 5, flow 0: 40 bytes at stream offset {h} (client to server) received again with another content: the first copy was kept")]
    );
}

/// Many connections that each leave a body pending: with a memory budget, the decoder's memory
/// stays within it after every packet, and every connection flushed early is counted, reported,
/// and its body delivered incomplete (nothing silent).
#[test]
fn connections_past_the_memory_budget_are_flushed_counted_and_reported() {
    use sunpower_pcap::capture::CaptureReader;
    use sunpower_pcap::decoder::Decoder;
    let n = 2_000u32;
    let head = "POST /Data/SMS2DataCollector.aspx HTTP/1.1\r\nContent-Length: 1000\r\n\r\n100\t";
    let mut frames = Vec::new();
    for i in 0..n {
        let client = SocketAddr::new(
            IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i)),
            40_000,
        );
        let mut c = TcpConversation::new(client, collector());
        c.segment(Side::Client, TCP_SYN, b"")
            .segment(Side::Client, TCP_ACK, head.as_bytes());
        frames.extend(c.into_frames());
    }
    restamp(&mut frames);
    let bytes = pcap(1, &frames);
    let run = |budget: usize| {
        let mut cfg = DecoderConfig::default();
        cfg.max_memory_bytes = budget;
        let mut decoder = Decoder::new(cfg);
        let mut reader =
            CaptureReader::new(vec![Input::from_reader("mem", Cursor::new(bytes.clone()))]);
        let (mut over_budget, mut incomplete, mut peak) = (0, 0, 0);
        let mut on_event = |e: Event<'_>| match e {
            Event::Problem(p) if matches!(p.kind, ProblemKind::OverBudget { .. }) => {
                over_budget += 1
            }
            Event::Post(post) if !post.complete() => incomplete += 1,
            _ => {}
        };
        while let Some(packet) = reader.next_packet() {
            decoder.packet(&packet.unwrap(), &mut on_event);
            peak = peak.max(decoder.memory_used());
            assert!(decoder.memory_used() <= budget);
        }
        decoder.finish(&mut on_event);
        assert_eq!(decoder.memory_used(), 0, "memory left after the end");
        (decoder.stats(), over_budget, incomplete, peak)
    };
    let (s, over_budget, incomplete, peak) = run(256 << 10);
    assert!(
        s.flows.flows_over_budget > 1_000,
        "{}",
        s.flows.flows_over_budget
    );
    assert_eq!(over_budget, s.flows.flows_over_budget);
    assert_eq!(
        (incomplete, s.damaged_posts, s.flows.flows_opened),
        (n, u64::from(n), u64::from(n))
    );
    assert!(peak > 200 << 10);
    // The default budget holds them all; a connection costs about 1.3 kB with its pending
    // request head and body.
    let (s, over_budget, _, peak) = run(DecoderConfig::default().max_memory_bytes);
    assert_eq!((s.flows.flows_over_budget, over_budget), (0, 0));
    assert!(
        peak < n as usize * 1_500,
        "{} bytes a connection",
        peak / n as usize
    );
}

/// A connection that has buffered nothing (a SYN) costs a few hundred bytes of the budget,
/// against about 2.7 KB before framers were made lazily.
#[test]
fn an_idle_connection_costs_a_few_hundred_bytes() {
    use sunpower_pcap::decoder::Decoder;
    let mut decoder = Decoder::new(DecoderConfig::default());
    let mut frames = Vec::new();
    for port in 0..100u16 {
        let client = SocketAddr::new(client().ip(), 20_000 + port);
        let mut c = TcpConversation::new(client, collector());
        c.segment(Side::Client, TCP_SYN, b"");
        frames.extend(c.into_frames());
    }
    let mut reader = sunpower_pcap::capture::CaptureReader::new(vec![Input::from_reader(
        "mem",
        Cursor::new(pcap(1, &frames)),
    )]);
    while let Some(packet) = reader.next_packet() {
        decoder.packet(&packet.unwrap(), |_| {});
    }
    assert_eq!(decoder.stats().flows.flows_opened, 100);
    let each = decoder.memory_used() / 100;
    assert!(
        (300..900).contains(&each),
        "{each} bytes an idle connection"
    );
}
