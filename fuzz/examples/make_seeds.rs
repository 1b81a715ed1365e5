//! Writes the generated seed inputs of every fuzz target into `fuzz/corpus/<target>/`.
//!
//! Run from `fuzz/`: `cargo run --example make_seeds`. The third-party captures and the
//! DeviceList fixtures are copied by `fuzz/seed-corpus.sh`, which also runs this.

use std::fs;
use std::path::Path;

use chrono::{TimeZone, Utc};
use sunpower_testkit::{
    gzip, pcap_bytes, pcapng_bytes, Link, PcapFormat, Side, TcpConversation, TCP_SYN,
};

#[path = "../harness.rs"]
#[allow(dead_code)]
mod harness;

use harness::{HttpPlan, TcpPlan};

const FORUM: &str = include_str!("../../examples/bodies/forum-2017-body.txt");

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join(name), bytes).unwrap();
}

/// A day's worth of 5-minute reports of two inverters and a consumption meter.
fn interval_body() -> String {
    let mut s = String::from("100\tSPMS\t10\tZT1\t20260601180000\n");
    for i in 0..12u32 {
        let (h, m) = (17 + i / 12, (i % 12) * 5);
        let ts = format!("202606011{}{:02}00", h - 10, m);
        for (n, inv) in ["INV1", "INV2"].iter().enumerate() {
            s += &format!(
                "130\t{ts}\t{inv}\tAC_Module_Type_C\t{:.4}\t{:.4}\t245.1\t0.36\t0.044\t59.0\t0.77\t1.25\t59.97\t0\n",
                100.0 + f64::from(i) * 0.025 + n as f64,
                0.3
            );
        }
        s += &format!(
            "140\t{ts}\tPVS5M1c\tPVS5M0400c\t{:.3}\t{:.3}\t0.1\t0.2\t0.3\t0.4\t0.5\t0.6\n",
            -0.2,
            500.0 - f64::from(i) * 0.01
        );
    }
    s += "102\ttoken\n";
    s
}

fn request(path: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "POST {path} HTTP/1.1\r\nHost: collector.sunpower.com\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

fn chunked(path: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!("POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        .into_bytes();
    for c in body.chunks(40) {
        r.extend_from_slice(format!("{:x};ext=1\r\n", c.len()).as_bytes());
        r.extend_from_slice(c);
        r.extend_from_slice(b"\r\n");
    }
    r.extend_from_slice(b"0\r\nX-Trailer: y\r\n\r\n");
    r
}

fn main() {
    let forum = FORUM.as_bytes();
    let small = b"100\tSPMS\t10\tZT1\t20170107171925\r\n\r\n102\tabc\r\n";
    let command = b"100\tSPMS\t10\tZT1\t20170107171925\n102\t51oeIKDhOUeah8+9ZCME\n";

    // record_line: one line of each record type seen.
    let mut seen = std::collections::BTreeSet::new();
    for line in FORUM.lines() {
        let kind = line.split('\t').next().unwrap_or("");
        if seen.insert(kind.to_string()) {
            write("record_line", &format!("forum-{kind}"), line.as_bytes());
        }
    }
    for (name, line) in [
        (
            "131",
            "131\t20170107171000\t414051637009125\tAC_Module_Type_C\t1\t2\t3",
        ),
        (
            "141",
            "141\t20170107171000\tPVS5M508095p\tPVS5M0400p\t1\t2\t3\t4\t5\t6\t7\t8",
        ),
        ("122", "122\t20170107171000\tZT1\tPVS5\t1.0\t2.0\tdesc\tfam"),
        ("unknown", "999\t20170107171000\tSERIAL\tx"),
        ("extra", "102\ttoken\tnew-field"),
    ] {
        write("record_line", &format!("type-{name}"), line.as_bytes());
    }

    // body
    write("body", "forum-2017", forum);
    write("body", "crlf-blank", small);
    write("body", "command", command);
    write("body", "intervals", interval_body().as_bytes());

    // intervals: option byte, then a body.
    for (opts, name, body) in [
        (0u8, "forum-inferred", forum.to_vec()),
        (2, "forum-300s", forum.to_vec()),
        (0x10, "day-inferred", interval_body().into_bytes()),
        (0x31, "day-60s", interval_body().into_bytes()),
    ] {
        let mut d = vec![opts];
        d.extend_from_slice(&body);
        write("intervals", name, &d);
    }

    // http_framer: option byte, plan, stream.
    let post = request("/Data/SMS2DataCollector.aspx", small);
    let mut keep_alive = request("/Command/SMS2DataCollector.aspx", command);
    keep_alive.extend_from_slice(b"\r\nGET /index.html HTTP/1.1\r\nHost: x\r\n\r\n");
    keep_alive.extend_from_slice(&chunked("/Data/SMS2DataCollector.aspx", small));
    let response = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    let mut garbage = b"tail of a body\n".to_vec();
    garbage.extend_from_slice(&post);
    let bad = b"POST /Data/SMS2DataCollector.aspx HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\nGET / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n";
    write(
        "http_framer",
        "post-whole",
        &HttpPlan::encode(0, &[], &post),
    );
    write("http_framer", "post-7", &HttpPlan::encode(0, &[7], &post));
    write(
        "http_framer",
        "post-gap",
        &HttpPlan::encode(0, &[90, 0xE3, 200], &post),
    );
    write(
        "http_framer",
        "keepalive-mixed",
        &HttpPlan::encode(1, &[13, 1, 64], &keep_alive),
    );
    write(
        "http_framer",
        "keepalive-all-small",
        &HttpPlan::encode(2 | 16, &[5], &keep_alive),
    );
    write(
        "http_framer",
        "response",
        &HttpPlan::encode(0, &[3], response),
    );
    write(
        "http_framer",
        "midstream",
        &HttpPlan::encode(4, &[11], &garbage),
    );
    write("http_framer", "bad-lengths", &HttpPlan::encode(8, &[], bad));
    write(
        "http_framer",
        "forum-chunked",
        &HttpPlan::encode(
            0,
            &[100, 33],
            &chunked("/Data/SMS2DataCollector.aspx", forum),
        ),
    );

    // tcp_reassembler: options, ISN, segments (flags, len, offset, endpoints).
    let (syn, fin, rst, ack) = (1u8, 2u8, 4u8, 8u8);
    let fwd = 0b0100_0100; // 10.0.0.2:80 -> 10.0.0.2... endpoints vary per seed
    let rev = 0b0001_0001;
    write(
        "tcp_reassembler",
        "in-order",
        &TcpPlan::encode(
            0,
            1000,
            &[
                (syn, 0, 0, fwd),
                (syn | ack, 0, 0, rev),
                (ack, 50, 1, fwd),
                (ack, 50, 51, fwd),
                (fin | ack, 0, 101, fwd),
                (fin | ack, 0, 1, rev),
            ],
        ),
    );
    write(
        "tcp_reassembler",
        "reordered-overlap",
        &TcpPlan::encode(
            0,
            u32::MAX - 60,
            &[
                (syn, 0, 0, fwd),
                (ack, 40, 41, fwd),
                (ack, 60, 1, fwd),
                (ack, 30, 20, fwd),
                (ack, 20, 101, fwd),
                (fin | ack, 0, 121, fwd),
            ],
        ),
    );
    write(
        "tcp_reassembler",
        "holes-small-buffers",
        &TcpPlan::encode(
            1 | 2,
            7,
            &[
                (ack, 100, 0, fwd),
                (ack, 100, 300, fwd),
                (ack, 100, 500, fwd),
                (ack, 100, 700, fwd),
                (ack, 100, 900, fwd),
                (ack, 10, 100, fwd),
                (rst, 0, 1000, fwd),
            ],
        ),
    );
    write(
        "tcp_reassembler",
        "midstream-reuse",
        &TcpPlan::encode(
            4,
            500,
            &[
                (ack, 10, 0, fwd),
                (ack | 0x80, 10, 10, rev),
                (syn, 0, 5000, fwd),
                (ack, 20, 5001, fwd),
                (ack, 0, -3, fwd),
                (fin, 5, 5021, fwd),
            ],
        ),
    );

    // capture_reader: small captures written by the test writer.
    let t0 = Utc.with_ymd_and_hms(2017, 1, 7, 17, 19, 25).unwrap();
    let client = "10.0.0.2:40000".parse().unwrap();
    let server = "204.194.111.66:80".parse().unwrap();
    let mut conv = TcpConversation::new(client, server);
    conv.starting_at(t0)
        .handshake()
        .client_sends(&post, &[60, 100])
        .server_sends(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", &[])
        .close();
    let frames = conv.frames().to_vec();
    let pcap = pcap_bytes(conv.link_type(), PcapFormat::LE_MICRO, &frames);
    write("capture_reader", "post-ethernet.pcap", &pcap);
    write("capture_reader", "post-ethernet.pcap.gz", &gzip(&pcap));
    write(
        "capture_reader",
        "post-be-nanos.pcap",
        &pcap_bytes(
            conv.link_type(),
            PcapFormat {
                big_endian: true,
                nanos: true,
            },
            &frames,
        ),
    );
    write(
        "capture_reader",
        "post.pcapng",
        &pcapng_bytes(conv.link_type() as u16, Some(9), &frames),
    );

    for (name, link) in [
        ("sll", Link::LinuxSll),
        ("sll2", Link::LinuxSll2),
        ("raw", Link::Raw { link_type: 101 }),
        ("null", Link::Null { big_endian: false }),
        ("loop", Link::Loop),
    ] {
        let mut c = TcpConversation::new(
            "[2001:db8::2]:40001".parse().unwrap(),
            "[2001:db8::1]:80".parse().unwrap(),
        );
        c.with_link(link)
            .starting_at(t0)
            .with_isn(u32::MAX - 10, 7)
            .handshake()
            .client_sends(&keep_alive, &[30, 31, 200])
            .close();
        write(
            "capture_reader",
            &format!("ipv6-{name}.pcap"),
            &pcap_bytes(c.link_type(), PcapFormat::LE_MICRO, c.frames()),
        );
    }
    // Segments out of order and duplicated, cut short: holes and a reset.
    let mut c = TcpConversation::new(client, server);
    c.starting_at(t0).handshake().client_sends(
        &request("/Data/SMS2DataCollector.aspx", forum),
        &[500, 1000, 1500, 2500],
    );
    let mut frames = c.frames().to_vec();
    frames.swap(4, 6);
    let dup = frames[5].clone();
    frames.insert(3, dup);
    frames.remove(7);
    let mut tail = TcpConversation::new(client, server);
    tail.reset(Side::Client);
    frames.extend(tail.frames().iter().cloned());
    write(
        "capture_reader",
        "holes.pcap",
        &pcap_bytes(c.link_type(), PcapFormat::LE_MICRO, &frames),
    );
    let truncated: Vec<_> = c
        .frames()
        .iter()
        .cloned()
        .map(|f| f.truncated(80))
        .collect();
    write(
        "capture_reader",
        "snaplen-80.pcap",
        &pcap_bytes(c.link_type(), PcapFormat::LE_MICRO, &truncated),
    );
    let _ = TCP_SYN;
}
