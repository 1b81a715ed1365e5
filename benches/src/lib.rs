//! Inputs and baselines shared by the benchmarks, the measurement binaries and the scripts of
//! issue 6: realistic collector bodies, a naive decoder to compare against, and captures made of
//! the one-day sample replayed over many days.
//!
//! Everything is deterministic, so that two runs (or two machines) measure the same bytes.
//!
//! ```
//! let post = sunpower_benches::normal_post();
//! assert!(post.len() > 2_500 && post.len() < 3_500);
//! let naive = sunpower_benches::naive_decode(&post);
//! let real = sunpower_proto::Body::new(post.as_bytes()).records().count();
//! assert_eq!(naive.len(), real);
//! ```

pub mod stages;

use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;

use chrono::{DateTime, TimeDelta, Utc};
use sunpower_pcap::capture::{CaptureReader, Input};
use sunpower_testkit::{noise, Frame, PcapFormat, PcapWriter, Side, TcpConversation};

/// Micro-inverters in a post, as in the sample home.
pub const INVERTERS: u64 = 20;

/// Seconds between two intervals.
const INTERVAL: i64 = 300;

/// 2017-01-07T17:10:00Z, the forum body's interval.
const FORUM_INTERVAL: i64 = 1_483_809_000;

fn stamp(secs: i64) -> String {
    DateTime::from_timestamp(secs, 0)
        .expect("valid time")
        .format("%Y%m%d%H%M%S")
        .to_string()
}

/// Appends one interval's 130 lines (full 15-field form: field 4 present and empty), its 141
/// line and its two 140 lines, with numbers shaped like the forum body's.
fn push_interval(body: &mut String, k: u64, interval: i64) {
    let ts = stamp(interval);
    let mut production = 0.0;
    for i in 0..INVERTERS {
        let n = k * 64 + i;
        let ac_kw = 0.004 + 0.045 * noise(1, n);
        let ac_v = 244.5 + 1.5 * noise(2, n);
        let dc_kw = ac_kw * 1.08;
        let dc_v = 26.0 + 36.0 * noise(3, n);
        production += ac_kw;
        writeln!(
            body,
            "130\t{ts}\t41405163{:07}\tAC_Module_Type_C\t\t{:.4}\t{:.4}\t{:.4}\t{:.4}\t{:.4}\t{:.4}\t{:.4}\t{:.2}\t{:.4}\t0",
            7_000_000 - i * 12_347,
            16.8 + 3.0 * noise(4, i) + k as f64 * 0.01,
            ac_kw,
            ac_v,
            ac_kw * 1000.0 / ac_v,
            dc_kw,
            dc_v,
            dc_kw * 1000.0 / dc_v,
            -5.5 + 10.0 * noise(5, n),
            59.97 + 0.02 * noise(6, n),
        )
        .expect("writing to a String");
    }
    let net = 0.5 + 2.0 * noise(7, k) - production;
    let leg1 = net * 0.52;
    writeln!(
        body,
        "141\t{ts}\tPVS5M508095c\tPVS5M0400c\t1\t{:.4}\t{:.4}\t{:.4}\t{:.4}\t{leg1:.4}\t{:.4}\t{:.2}",
        (leg1 * 1000.0 / 122.78).abs(),
        ((net - leg1) * 1000.0 / 122.65).abs(),
        122.2 + noise(8, k),
        122.1 + noise(9, k),
        net - leg1,
        120.27 + k as f64 * 0.01,
    )
    .expect("writing to a String");
    writeln!(
        body,
        "140\t{ts}\tPVS5M508095c\tPVS5M0400c\t125\t{:.2}\t{net:.4}\t{:.4}\t{:.4}\t{:.4}\t{:.3}\t0",
        607.0 + k as f64 * 0.05,
        net.abs() * 0.3,
        net.abs() * 1.4,
        0.5 + 0.4 * noise(10, k),
        59.96 + 0.04 * noise(11, k),
    )
    .expect("writing to a String");
    writeln!(
        body,
        "140\t{ts}\tPVS5M508095p\tPVS5M0400p\t50\t{:.2}\t{production:.4}\t{:.4}\t{production:.4}\t1\t{:.3}\t0",
        3_015.0 + k as f64 * 0.08,
        production * 0.02,
        59.96 + 0.04 * noise(12, k),
    )
    .expect("writing to a String");
}

/// A normal data post (about 3 kB): the forum body of `examples/bodies/forum-2017-body.txt`
/// (100, 120, 130 per inverter, 141, two 140, 102) with 20 inverters in the full 15-field form.
/// Walks every record of a body and touches one value of each, as a consumer would: what the
/// parsing benchmarks time. Returns the record count and the sum of the inverters' counters.
pub fn parse_all(body: &[u8]) -> (u64, f64) {
    let mut n = 0;
    let mut sum = 0.0;
    for item in sunpower_proto::Body::new(body).records() {
        n += 1;
        if let Ok(sunpower_proto::Record::Inverter(inv)) = item {
            sum += inv.lifetime_energy_kwh.unwrap_or(0.0);
        }
    }
    (n, sum)
}

pub fn normal_post() -> String {
    let mut body = format!(
        "100\tSPMS\t10\tZT162585000441C1402\t{}\n120\t{}\tZT162585000441C1402\t0\t445\t0\t0\t0\t81666\t0.21\t24876\t12408\n",
        stamp(FORUM_INTERVAL + 565),
        stamp(FORUM_INTERVAL + INTERVAL),
    );
    push_interval(&mut body, 0, FORUM_INTERVAL);
    body.push_str("102\t51oeIKDhOUeah8+9ZCME\n");
    body
}

/// A backlog replay of about `target_bytes`: what a supervisor sends after days offline, one 100
/// header, then interval after interval of 130/141/140 lines, then the 102 trailer.
pub fn backlog_post(target_bytes: usize) -> String {
    let mut body = format!(
        "100\tSPMS\t10\tZT162585000441C1402\t{}\n",
        stamp(FORUM_INTERVAL + 565)
    );
    let mut k = 0;
    while body.len() < target_bytes {
        push_interval(
            &mut body,
            k,
            FORUM_INTERVAL - INTERVAL * 10_000 + INTERVAL * k as i64,
        );
        k += 1;
    }
    body.push_str("102\t51oeIKDhOUeah8+9ZCME\n");
    body
}

/// The large body of the benchmarks and scripts: a 2 MB backlog replay.
pub fn large_body() -> String {
    backlog_post(2_000_000)
}

/// One record as a naive decoder keeps it: every field copied into a `String`, and the numeric
/// fields parsed to `f64` (an empty field is `None`).
#[derive(Debug, Clone, PartialEq)]
pub struct NaiveRecord {
    /// All fields, record type first.
    pub fields: Vec<String>,
    /// The measurement fields parsed as floats.
    pub values: Vec<Option<f64>>,
}

/// The first numeric field of each record type, as a naive script hard-codes it: after the
/// timestamp, serial and model (130, 140, 141) or after the timestamp and serial (120).
fn first_numeric_field(record_type: &str) -> usize {
    match record_type {
        "130" | "140" | "141" => 4,
        "120" => 3,
        _ => usize::MAX,
    }
}

/// The baseline: what a naive script does, in Rust. `split('\n')`, `split('\t')` into a
/// `Vec<String>`, `str::parse::<f64>` on every numeric field. Lines whose numbers do not parse
/// are dropped (a script would raise).
///
/// ```
/// let recs = sunpower_benches::naive_decode("130\tt\ts\tm\t\t1.5\t2\n102\tx\n");
/// assert_eq!(recs[0].values, [None, Some(1.5), Some(2.0)]);
/// assert_eq!(recs[1].fields, ["102", "x"]);
/// ```
pub fn naive_decode(body: &str) -> Vec<NaiveRecord> {
    let mut out = Vec::new();
    for line in body.split('\n') {
        if line.is_empty() {
            continue;
        }
        let fields: Vec<String> = line.split('\t').map(str::to_string).collect();
        let first = first_numeric_field(&fields[0]);
        let values: Result<Vec<Option<f64>>, _> = fields
            .iter()
            .skip(first)
            .map(|f| {
                if f.is_empty() {
                    Ok(None)
                } else {
                    f.parse::<f64>().map(Some)
                }
            })
            .collect();
        if let Ok(values) = values {
            out.push(NaiveRecord { fields, values });
        }
    }
    out
}

/// The packets of a capture file, in memory.
#[derive(Debug, Clone)]
pub struct Packets {
    /// Link type of the capture (`LINKTYPE_*`).
    pub link_type: u32,
    /// Capture time and frame of each packet.
    pub packets: Vec<(DateTime<Utc>, Vec<u8>)>,
}

impl Packets {
    /// Bytes of one copy of these packets in a pcap file, record headers included.
    pub fn pcap_len(&self) -> u64 {
        self.packets.iter().map(|(_, f)| 16 + f.len() as u64).sum()
    }
}

/// Reads every packet of a capture file into memory.
pub fn load_packets(path: &Path) -> io::Result<Packets> {
    let mut reader = CaptureReader::new(vec![Input::from_path(path)]);
    let mut link_type = 1;
    let mut packets = Vec::new();
    while let Some(item) = reader.next_packet() {
        let packet = item.map_err(|e| io::Error::other(e.to_string()))?;
        link_type = packet.link_type;
        packets.push((packet.timestamp, packet.data.to_vec()));
    }
    Ok(Packets { link_type, packets })
}

/// `examples/sample.pcap` of the workspace.
pub fn sample_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/sample.pcap")
}

/// Writes `days` consecutive days of `packets` (one day of traffic) to `out`, each day shifted by
/// 24 h, the record times inside the posts too ([`shift_record_times`]), with the project's
/// capture writer; streams, so `out` may be a file of any size. Returns the bytes written.
pub fn write_days(out: impl Write, day: &Packets, days: u64) -> io::Result<u64> {
    let mut written = 24;
    let mut w = PcapWriter::new(out, day.link_type, PcapFormat::LE_MICRO)?;
    let mut shifted = Vec::new();
    for n in 0..days {
        let shift = TimeDelta::days(n as i64);
        for (ts, frame) in &day.packets {
            shifted.clear();
            shifted.extend_from_slice(frame);
            shift_record_times(&mut shifted, shift);
            w.write_packet(*ts + shift, &shifted)?;
            written += 16 + frame.len() as u64;
        }
    }
    w.into_inner().flush()?;
    Ok(written)
}

/// Moves every record time in `frame` on by `shift`, in place: each run of exactly 14 digits
/// (bounded by other bytes within the frame) that reads as a time `YYYYMMDDhhmmss` of this
/// century. A replayed day then carries its own dates, as a real capture's days do, so that
/// intervals and compression see a year, not one day 365 times. The length stays, so do the
/// TCP sequence numbers and HTTP lengths; the TCP checksum does not, which the decoder (like
/// Wireshark by default) does not check. A time cut by a segment boundary stays as it was.
pub fn shift_record_times(frame: &mut [u8], shift: TimeDelta) {
    const LEN: usize = 14;
    let mut i = 0;
    while i + LEN <= frame.len() {
        if !frame[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let run = frame[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        let bounded = i > 0 && i + run < frame.len();
        if run == LEN && bounded && frame[i..i + 2] == *b"20" {
            let text = std::str::from_utf8(&frame[i..i + LEN]).unwrap_or("");
            if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, "%Y%m%d%H%M%S") {
                let moved = (t + shift).format("%Y%m%d%H%M%S").to_string();
                if moved.len() == LEN {
                    frame[i..i + LEN].copy_from_slice(moved.as_bytes());
                }
            }
        }
        i += run;
    }
}

/// A capture of `days` days of the sample home's traffic (collector posts are about 1 packet in
/// 4 and 40 % of the bytes; the rest is web, DNS, mDNS and ARP), built in memory.
pub fn sample_days(days: u64) -> io::Result<Vec<u8>> {
    let day = load_packets(&sample_path())?;
    let mut out = Vec::new();
    write_days(&mut out, &day, days)?;
    Ok(out)
}

/// Times `a` and `b` alternately, `rounds` times each, and returns their median durations in
/// seconds: on a shared machine, interleaving puts both under the same load, so their ratio
/// holds even when the absolute times drift.
pub fn interleaved_medians(rounds: usize, mut a: impl FnMut(), mut b: impl FnMut()) -> (f64, f64) {
    let mut ta = Vec::with_capacity(rounds);
    let mut tb = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t = std::time::Instant::now();
        a();
        ta.push(t.elapsed().as_secs_f64());
        let t = std::time::Instant::now();
        b();
        tb.push(t.elapsed().as_secs_f64());
    }
    (median(&mut ta), median(&mut tb))
}

/// [`interleaved_medians`] for any number of sides: each round times every side once, in
/// turn; returns each side's median duration in seconds.
pub fn interleaved_medians_of(rounds: usize, sides: &mut [&mut dyn FnMut()]) -> Vec<f64> {
    let mut times = vec![Vec::with_capacity(rounds); sides.len()];
    for _ in 0..rounds {
        for (side, t) in sides.iter_mut().zip(&mut times) {
            let start = std::time::Instant::now();
            side();
            t.push(start.elapsed().as_secs_f64());
        }
    }
    times.iter_mut().map(|t| median(t)).collect()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// True when criterion was asked only to check that the benchmarks run (`cargo test --benches`,
/// `cargo bench -- --test`) or to list them: then the extra ratio measurement is skipped.
pub fn criterion_quick_mode() -> bool {
    std::env::args().any(|a| a == "--test" || a == "--list")
}

/// TCP maximum segment size of the bulk transfers.
const MSS: usize = 1448;

/// `len` bytes that look like ciphertext (xorshift), deterministic from `seed`.
fn opaque_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// TLS 1.2/1.3 records as they appear on the wire, `len` bytes in all: a handshake record
/// (content type 0x16) of `handshake` bytes, then application data records (0x17) of at most
/// 16,401 bytes (16 KiB of plaintext and the AEAD tag), each with its 5-byte header; the
/// contents are [`opaque_bytes`].
fn tls_stream(seed: u64, handshake: usize, len: usize) -> Vec<u8> {
    const MAX_RECORD: usize = 16_384 + 17;
    let body = opaque_bytes(seed, len);
    let mut out = Vec::with_capacity(len);
    let mut rest = &body[..];
    let mut first = true;
    while out.len() + 5 < len {
        let room = len - out.len() - 5;
        let (kind, n) = if first {
            (0x16, handshake.min(room))
        } else {
            (0x17, MAX_RECORD.min(room))
        };
        first = false;
        out.extend_from_slice(&[kind, 0x03, 0x03, (n >> 8) as u8, n as u8]);
        out.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
    }
    out.resize(len, 0);
    out
}

/// One bulk download: the client's request, then `len` bytes from the server in MSS-sized
/// segments, one ACK per 2 segments as delayed ACKs do, and a close.
fn bulk_download(
    client: SocketAddr,
    server: SocketAddr,
    start: DateTime<Utc>,
    request: &[u8],
    response: &[u8],
) -> Vec<Frame> {
    let mut conv = TcpConversation::new(client, server);
    conv.with_isn(
        u32::from(client.port()) * 7919,
        u32::from(client.port()) * 104_729,
    )
    .starting_at(start)
    .with_step(TimeDelta::microseconds(400));
    conv.handshake()
        .client_sends(request, &[])
        .ack(Side::Server);
    for pair in response.chunks(2 * MSS) {
        let cuts: Vec<usize> = (1..=pair.len() / MSS).map(|n| n * MSS).collect();
        conv.server_sends(pair, &cuts).ack(Side::Client);
    }
    conv.close();
    conv.into_frames()
}

/// One day of a home where the collector is a small share: the sample day (collector posts,
/// web, DNS, mDNS, ARP) plus a TV streaming two 6 MB TLS sessions and a laptop downloading a
/// 4 MB update over plain HTTP. Collector traffic is then about 5 % of the bytes and 10 % of the
/// packets.
pub fn mixed_day(sample: &Packets) -> Packets {
    let day_start = sample.packets.first().map(|p| p.0).unwrap_or_default();
    let tv = Ipv4Addr::new(192, 168, 1, 40);
    let laptop = Ipv4Addr::new(192, 168, 1, 23);
    let cdn = Ipv4Addr::new(151, 101, 41, 57);
    let mirror = Ipv4Addr::new(199, 232, 150, 132);
    let mut frames = Vec::new();
    for (n, hour) in [(0u16, 13), (1, 20)] {
        // ClientHello (a 512-byte handshake record), then the server's handshake and the video.
        let client_hello = tls_stream(u64::from(n) + 1, 512, 517);
        frames.extend(bulk_download(
            SocketAddr::from((tv, 51_000 + n)),
            SocketAddr::from((cdn, 443)),
            day_start + TimeDelta::minutes(hour * 60 + 7),
            &client_hello,
            &tls_stream(u64::from(n) + 100, 4_000, 6_000_000),
        ));
    }
    let update = opaque_bytes(7, 4_000_000);
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
        update.len()
    );
    frames.extend(bulk_download(
        SocketAddr::from((laptop, 47_001)),
        SocketAddr::from((mirror, 80)),
        day_start + TimeDelta::minutes(10 * 60 + 33),
        b"GET /pub/os/update-2026.06.img HTTP/1.1\r\nHost: mirror.example.org\r\nUser-Agent: apt\r\n\r\n",
        &[head.as_bytes(), &update].concat(),
    ));
    let mut packets = sample.packets.clone();
    packets.extend(frames.into_iter().map(|f| (f.timestamp, f.data)));
    // Capture order: by time; equal times keep their order.
    packets.sort_by_key(|p| p.0);
    Packets {
        link_type: sample.link_type,
        packets,
    }
}

/// A capture of `days` days of [`mixed_day`] traffic, built in memory.
pub fn mixed_days(days: u64) -> io::Result<Vec<u8>> {
    let day = mixed_day(&load_packets(&sample_path())?);
    let mut out = Vec::new();
    write_days(&mut out, &day, days)?;
    Ok(out)
}
