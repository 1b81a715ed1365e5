//! Writes a capture of many connections that each send a SYN and a few bytes and are never heard
//! from again: the worst case for the memory a decoder keeps per connection (issue 12, item 9).
//!
//! ```sh
//! cargo run --release -p sunpower-testkit --example many_connections -- OUT.pcap [COUNT] [--pending-bodies]
//! /usr/bin/time -v target/release/sunpower stats OUT.pcap
//! ```
//!
//! `COUNT` connections (default 1,000,000), from distinct client addresses and ports to one
//! collector, one millisecond apart. Each sends a SYN, then 5 bytes (`POST `); with
//! `--pending-bodies`, a collector request head declaring a 1,000-byte body and the first 5 bytes
//! of it instead, so that every connection holds a body in progress. The file is streamed, so
//! writing it takes no memory.

use std::fs::File;
use std::io::BufWriter;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use chrono::{DateTime, TimeDelta};
use sunpower_testkit::{
    ip_packet, tcp_segment, Link, PcapFormat, PcapWriter, TcpHeader, TCP_ACK, TCP_PSH, TCP_SYN,
};

fn run(out: &str, count: u32, pending_bodies: bool) -> std::io::Result<()> {
    let link = Link::ethernet();
    let file = BufWriter::with_capacity(1 << 20, File::create(out)?);
    let mut w = PcapWriter::new(file, link.link_type(), PcapFormat::LE_MICRO)?;
    let server = IpAddr::V4(Ipv4Addr::new(204, 194, 111, 66));
    let payload: Vec<u8> = if pending_bodies {
        b"POST /Data/SMS2DataCollector.aspx HTTP/1.1\r\nContent-Length: 1000\r\n\r\n100\t".to_vec()
    } else {
        b"POST ".to_vec()
    };
    let start = DateTime::from_timestamp(1_782_000_000, 0).unwrap_or_default();
    for i in 0..count {
        // 10.0.0.0/8 holds 2^24 clients; the port varies too, so every 4-tuple is distinct.
        let client = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 | (i & 0x00ff_ffff)));
        let port = 1024 + (i % 60_000) as u16;
        let ts = start + TimeDelta::milliseconds(i64::from(i));
        let isn = i.wrapping_mul(2_654_435_761);
        let header = TcpHeader::new(SocketAddr::new(client, port), SocketAddr::new(server, 80));
        let syn = TcpHeader {
            seq: isn,
            flags: TCP_SYN,
            ..header.clone()
        };
        let syn = tcp_segment(&syn, b"");
        w.write_packet(ts, &link.frame(&ip_packet(client, server, 6, &syn)))?;
        let data = TcpHeader {
            seq: isn.wrapping_add(1),
            ack: 1,
            flags: TCP_PSH | TCP_ACK,
            ..header
        };
        let data = tcp_segment(&data, &payload);
        w.write_packet(ts, &link.frame(&ip_packet(client, server, 6, &data)))?;
    }
    w.into_inner().into_inner().map_err(|e| e.into_error())?;
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let pending = args.iter().any(|a| a == "--pending-bodies");
    let rest: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let Some(out) = rest.first() else {
        eprintln!("usage: many_connections OUT.pcap [COUNT] [--pending-bodies]");
        return ExitCode::from(2);
    };
    let count = match rest.get(1).map(|c| c.parse::<u32>()) {
        None => 1_000_000,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            eprintln!("COUNT must be a number");
            return ExitCode::from(2);
        }
    };
    match run(out, count, pending) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{out}: {e}");
            ExitCode::FAILURE
        }
    }
}
