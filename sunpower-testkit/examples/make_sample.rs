//! Writes `examples/sample.pcap`: one day (2026-06-21, local midnight to midnight in
//! America/Los_Angeles, UTC-7) of a home's network as a mirror port would see it.
//!
//! ```sh
//! cargo run -p sunpower-testkit --example make_sample -- examples/sample.pcap
//! ```
//!
//! Everything is deterministic (no randomness, fixed timestamps): running it twice writes the same
//! bytes, and `tests/sample.rs` checks that the committed file is what this program writes.
//!
//! What is in it:
//! - a PVS5 supervisor at 192.168.1.50 posting to 204.194.111.66:80 every 300 s on the data
//!   channel: a 100 header, a 120 status line stamped one interval later than the rest, one 130
//!   line per micro-inverter (20 of them; silent at night, so no 130 lines then), a 141 line, a
//!   consumption meter 140 (`...c`, net counter, signed power) and a production meter 140
//!   (`...p`), and a 102 trailer; and on the command channel every 1800 s (100 + 102 only);
//! - the collector's `HTTP/1.1 200` answers with `1002<TAB><UTC time>` + CRLF;
//! - bodies cut into 1448-byte segments, so records are split across segments; one post with a
//!   retransmitted segment and one with two segments out of order;
//! - other traffic, most of the packets: a laptop's HTTP requests to another web server every
//!   10 minutes (GETs, and a `POST /api/upload` every hour), DNS queries and answers every 30 s,
//!   mDNS announcements every 2 minutes and ARP every 10 minutes.

use std::net::{Ipv4Addr, SocketAddr};

use chrono::{DateTime, TimeDelta, Utc};
use sunpower_testkit::{
    ethernet_frame, ip_packet, noise, pcap_bytes, Frame, Link, PcapFormat, Side, TcpConversation,
};

/// 2026-06-21T07:00:00Z, local midnight in Los Angeles (PDT, UTC-7).
const DAY_START: i64 = 1_782_025_200;
/// Seconds in the day.
const DAY: i64 = 86_400;
/// Data posts every 300 s, command polls every 1800 s.
const DATA_EVERY: i64 = 300;
const COMMAND_EVERY: i64 = 1800;
/// Number of micro-inverters.
const INVERTERS: u64 = 20;
/// Sunrise and sunset, seconds after local midnight (05:42 and 20:08 PDT).
const SUNRISE: f64 = 5.0 * 3600.0 + 42.0 * 60.0;
const SUNSET: f64 = 20.0 * 3600.0 + 8.0 * 60.0;
/// TCP maximum segment size of the supervisor.
const MSS: usize = 1448;

const SUPERVISOR: &str = "ZT163785000441C0593";
const METER_SERIAL: &str = "PVS5M540123";
const SUPERVISOR_IP: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 50);
const COLLECTOR: Ipv4Addr = Ipv4Addr::new(204, 194, 111, 66);
const LAPTOP: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 23);
const WEB_SERVER: Ipv4Addr = Ipv4Addr::new(93, 184, 215, 14);
const ROUTER: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 1);

/// The data post (index from 0) whose second segment is sent twice.
const RETRANSMITTED_POST: i64 = 150;
/// The data post whose first two segments arrive swapped.
const REORDERED_POST: i64 = 160;

#[allow(dead_code)]
fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "examples/sample.pcap".to_string());
    let bytes = generate();
    std::fs::write(&path, &bytes).unwrap_or_else(|e| panic!("cannot write {path}: {e}"));
    eprintln!("wrote {path}: {} bytes", bytes.len());
}

fn hash32(a: u64, b: u64) -> u32 {
    (noise(a, b) * f64::from(u32::MAX)) as u32
}

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).expect("valid time")
}

fn stamp(secs: i64) -> String {
    at(secs).format("%Y%m%d%H%M%S").to_string()
}

/// Fraction of an inverter's peak output at `secs` after local midnight (0 at night).
fn sun(local_secs: f64) -> f64 {
    if local_secs <= SUNRISE || local_secs >= SUNSET {
        return 0.0;
    }
    let x = (local_secs - SUNRISE) / (SUNSET - SUNRISE);
    (std::f64::consts::PI * x).sin().powf(1.3)
}

/// Household load in kW at `secs` after local midnight.
fn load_kw(local_secs: f64, k: u64) -> f64 {
    let h = local_secs / 3600.0;
    let morning = 0.9 * (-(h - 7.25) * (h - 7.25) / 0.5).exp();
    let evening = 1.6 * (-(h - 19.0) * (h - 19.0) / 3.0).exp();
    let ac = 1.2 * (-(h - 16.0) * (h - 16.0) / 4.0).exp();
    0.32 + morning + evening + ac + 0.25 * noise(7, k)
}

fn token(k: u64) -> String {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    (0..20)
        .map(|i| char::from(B64[(hash32(k, i) % 64) as usize]))
        .collect()
}

/// State that carries from one interval to the next: lifetime counters.
struct Home {
    inverter_kwh: Vec<f64>,
    production_kwh: f64,
    net_kwh: f64,
    uptime_s: i64,
}

impl Home {
    fn new() -> Home {
        Home {
            inverter_kwh: (0..INVERTERS)
                .map(|i| 2841.0 + 37.0 * noise(1, i))
                .collect(),
            production_kwh: 57_012.0,
            net_kwh: 18_344.0,
            uptime_s: 1_204_311,
        }
    }

    /// The body of data post `k`, sent at `sent`; its 130/140/141 lines are for the interval that
    /// starts at `interval`, its 120 line is stamped one interval later.
    fn data_body(&mut self, k: i64, sent: i64, interval: i64) -> String {
        let ku = k as u64;
        let local = (interval - DAY_START) as f64 + DATA_EVERY as f64 / 2.0;
        let s = sun(local);
        let mut body = format!("100\tSPMS\t10\t{SUPERVISOR}\t{}\n", stamp(sent));
        self.uptime_s += DATA_EVERY;
        body += &format!(
            "120\t{}\t{SUPERVISOR}\t0\t{}\t0\t0\t0\t{}\t{:.2}\t{}\t{}\n",
            stamp(interval + DATA_EVERY),
            431 + (ku / 12),
            self.uptime_s,
            0.15 + 0.1 * noise(2, ku),
            24_800 + hash32(3, ku) % 200,
            12_408 - (ku / 48) as u32,
        );
        let ts = stamp(interval);
        let mut production = 0.0;
        if s > 0.0 {
            for i in 0..INVERTERS {
                let shade = 0.86 + 0.12 * noise(4, i);
                let ac_kw = (0.305 * s * shade * (0.97 + 0.03 * noise(5, ku * 64 + i))).max(0.0005);
                let dc_kw = ac_kw / 0.955;
                self.inverter_kwh[i as usize] += ac_kw * DATA_EVERY as f64 / 3600.0;
                production += ac_kw;
                let ac_v = 243.4 + 2.5 * noise(6, ku);
                let dc_v = 26.0 + 34.0 * s.sqrt() + 1.5 * noise(8, ku * 64 + i);
                body += &format!(
                    "130\t{ts}\t41405163{:07}\tAC_Module_Type_C\t\t{:.4}\t{:.4}\t{:.4}\t{:.4}\t{:.4}\t{:.4}\t{:.4}\t{:.2}\t{:.4}\t0\n",
                    7_000_000 - i * 12_347,
                    self.inverter_kwh[i as usize],
                    ac_kw,
                    ac_v,
                    ac_kw * 1000.0 / ac_v,
                    dc_kw,
                    dc_v,
                    dc_kw * 1000.0 / dc_v,
                    14.0 + 38.0 * s + 2.0 * noise(9, i),
                    59.97 + 0.03 * noise(10, ku),
                );
            }
        }
        let load = load_kw(local, ku);
        let net = load - production;
        self.production_kwh += production * DATA_EVERY as f64 / 3600.0;
        self.net_kwh += net * DATA_EVERY as f64 / 3600.0;
        let leg1 = net * (0.48 + 0.06 * noise(11, ku));
        let leg2 = net - leg1;
        let (v1, v2) = (121.4 + 1.2 * noise(12, ku), 121.9 + 1.2 * noise(13, ku));
        let freq = 59.96 + 0.05 * noise(14, ku);
        // Rounded like the meter does, so that the two legs add up to the 140 power.
        let (leg1, leg2) = ((leg1 * 1e4).round() / 1e4, (leg2 * 1e4).round() / 1e4);
        let net_kw = leg1 + leg2;
        let pf = 0.62 + 0.35 * noise(15, ku);
        body += &format!(
            "141\t{ts}\t{METER_SERIAL}c\tPVS5M0400c\t1\t{:.4}\t{:.4}\t{v1:.4}\t{v2:.4}\t{leg1:.4}\t{leg2:.4}\t{:.2}\n",
            (leg1 * 1000.0 / v1).abs(),
            (leg2 * 1000.0 / v2).abs(),
            120.27 + ku as f64 * 0.01,
        );
        body += &format!(
            "140\t{ts}\t{METER_SERIAL}c\tPVS5M0400c\t125\t{:.2}\t{net_kw:.4}\t{:.4}\t{:.4}\t{pf:.4}\t{freq:.3}\t0\n",
            self.net_kwh,
            net_kw.abs() * 0.3,
            net_kw.abs() / pf,
        );
        body += &format!(
            "140\t{ts}\t{METER_SERIAL}p\tPVS5M0400p\t50\t{:.2}\t{production:.4}\t{:.4}\t{production:.4}\t1\t{freq:.3}\t0\n",
            self.production_kwh,
            production * 0.02,
        );
        body += &format!("102\t{}\n", token(ku));
        body
    }
}

fn command_body(k: u64, sent: i64) -> String {
    format!(
        "100\tSPMS\t10\t{SUPERVISOR}\t{}\n102\t{}\n",
        stamp(sent),
        token(1_000_000 + k)
    )
}

fn collector_request(channel: &str, body: &str) -> Vec<u8> {
    format!(
        "POST /{channel}/SMS2DataCollector.aspx HTTP/1.1\r\nHost: collector.sunpowermonitor.com\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn collector_response(answered: i64) -> Vec<u8> {
    let line = format!("1002\t{}\r\n", stamp(answered));
    format!(
        "HTTP/1.1 200 OK\r\nCache-Control: private\r\nContent-Type: text/plain\r\nServer: Microsoft-IIS/7.5\r\nContent-Length: {}\r\n\r\n{line}",
        line.len()
    )
    .into_bytes()
}

/// Re-stamps frames (after reordering or duplicating) so that capture time increases.
fn restamp(frames: &mut [Frame], start: DateTime<Utc>, step: TimeDelta) {
    for (i, f) in frames.iter_mut().enumerate() {
        f.timestamp = start + step * i as i32;
    }
}

/// One collector connection: handshake, request in MSS-sized segments, answer, close.
/// `twist`: 1 = second segment retransmitted, 2 = first two data segments swapped.
fn collector_connection(port: u16, sent: i64, request: &[u8], twist: u8) -> Vec<Frame> {
    let client = SocketAddr::from((SUPERVISOR_IP, port));
    let server = SocketAddr::from((COLLECTOR, 80));
    let start = at(sent) - TimeDelta::milliseconds(180);
    let step = TimeDelta::milliseconds(23);
    let mut conv = TcpConversation::new(client, server);
    conv.with_isn(hash32(20, u64::from(port)), hash32(21, u64::from(port)))
        .starting_at(start)
        .with_step(step);
    let cuts: Vec<usize> = (1..=request.len() / MSS).map(|n| n * MSS).collect();
    conv.handshake()
        .client_sends(request, &cuts)
        .ack(Side::Server);
    let data_segments = cuts.iter().filter(|&&c| c < request.len()).count() + 1;
    conv.server_sends(&collector_response(sent + 1), &[])
        .close();
    let mut frames = conv.into_frames();
    match twist {
        1 if data_segments >= 2 => {
            let copy = frames[4].clone();
            frames.insert(3 + data_segments, copy);
        }
        2 if data_segments >= 2 => frames.swap(3, 4),
        _ => {}
    }
    restamp(&mut frames, start, step);
    frames
}

/// A laptop's HTTP/1.1 exchange with another web server on one keep-alive connection.
fn web_connection(port: u16, time: i64, requests: &[(&str, &str, usize)]) -> Vec<Frame> {
    let client = SocketAddr::from((LAPTOP, port));
    let server = SocketAddr::from((WEB_SERVER, 80));
    let mut conv = TcpConversation::new(client, server);
    conv.with_isn(hash32(30, u64::from(port)), hash32(31, u64::from(port)))
        .starting_at(at(time))
        .with_step(TimeDelta::milliseconds(17));
    conv.handshake();
    for (n, &(method, path, response_len)) in requests.iter().enumerate() {
        let request = if method == "POST" {
            let body = format!(
                "{{\"device\":\"laptop\",\"seq\":{n},\"readings\":[{}]}}\n",
                (0..40)
                    .map(|i| (hash32(32, i + u64::from(port)) % 1000).to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            );
            format!(
                "POST {path} HTTP/1.1\r\nHost: example.net\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
        } else {
            format!("{method} {path} HTTP/1.1\r\nHost: example.net\r\nAccept: */*\r\nUser-Agent: curl/8.5.0\r\n\r\n")
        };
        conv.client_sends(request.as_bytes(), &[]).ack(Side::Server);
        let payload: String = (0..response_len)
            .map(|i| char::from(b'a' + (hash32(33, i as u64 + u64::from(port)) % 26) as u8))
            .collect();
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{payload}",
            payload.len()
        );
        let cuts: Vec<usize> = (1..=response.len() / MSS).map(|n| n * MSS).collect();
        conv.server_sends(response.as_bytes(), &cuts)
            .ack(Side::Client);
    }
    conv.close();
    conv.into_frames()
}

fn udp(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut u = Vec::with_capacity(8 + payload.len());
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]); // no checksum (allowed over IPv4)
    u.extend_from_slice(payload);
    Link::ethernet().frame(&ip_packet(src.into(), dst.into(), 17, &u))
}

fn dns_name(name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for label in name.split('.') {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out
}

/// A DNS query from `client` and the router's answer (an A record).
fn dns_exchange(n: u64, time: i64, client: Ipv4Addr, name: &str) -> Vec<Frame> {
    let id = (hash32(40, n) & 0xffff) as u16;
    let sport = 30_000 + (hash32(41, n) % 30_000) as u16;
    let mut query = Vec::new();
    query.extend_from_slice(&id.to_be_bytes());
    query.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    query.extend_from_slice(&dns_name(name));
    query.extend_from_slice(&[0, 1, 0, 1]);
    let mut answer = query.clone();
    answer[2..4].copy_from_slice(&[0x81, 0x80]);
    answer[6..8].copy_from_slice(&[0, 1]);
    answer.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4]);
    answer.extend_from_slice(&[93, 184, 215, (n % 200) as u8 + 1]);
    vec![
        Frame::new(at(time), udp(client, ROUTER, sport, 53, &query)),
        Frame::new(
            at(time) + TimeDelta::milliseconds(9),
            udp(ROUTER, client, 53, sport, &answer),
        ),
    ]
}

/// An mDNS announcement from a printer.
fn mdns(n: u64, time: i64) -> Frame {
    let mut p = vec![0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0];
    p.extend_from_slice(&dns_name("Office-Printer._ipp._tcp.local"));
    p.extend_from_slice(&[0, 16, 0x80, 1, 0, 0, 0x11, 0x94]);
    let txt = format!("txtvers=1 rp=ipp/print seq={n}");
    p.extend_from_slice(&((txt.len() + 1) as u16).to_be_bytes());
    p.push(txt.len() as u8);
    p.extend_from_slice(txt.as_bytes());
    Frame::new(
        at(time),
        udp(
            Ipv4Addr::new(192, 168, 1, 31),
            Ipv4Addr::new(224, 0, 0, 251),
            5353,
            5353,
            &p,
        ),
    )
}

/// ARP who-has from the router and the reply from `target`.
fn arp_exchange(time: i64, target: Ipv4Addr, target_mac: [u8; 6]) -> Vec<Frame> {
    let router_mac = [0x02, 0x11, 0x22, 0x33, 0x44, 0x01];
    let arp = |op: u8, sha: [u8; 6], spa: Ipv4Addr, tha: [u8; 6], tpa: Ipv4Addr| {
        let mut a = vec![0, 1, 8, 0, 6, 4, 0, op];
        a.extend_from_slice(&sha);
        a.extend_from_slice(&spa.octets());
        a.extend_from_slice(&tha);
        a.extend_from_slice(&tpa.octets());
        a
    };
    let request = arp(1, router_mac, ROUTER, [0; 6], target);
    let reply = arp(2, target_mac, target, router_mac, ROUTER);
    vec![
        Frame::new(
            at(time),
            ethernet_frame([0xff; 6], router_mac, &[], 0x0806, &request),
        ),
        Frame::new(
            at(time) + TimeDelta::milliseconds(2),
            ethernet_frame(router_mac, target_mac, &[], 0x0806, &reply),
        ),
    ]
}

/// The whole capture, as pcap bytes (Ethernet, little-endian, microseconds).
pub fn generate() -> Vec<u8> {
    let mut frames: Vec<Frame> = Vec::new();
    let mut home = Home::new();
    let mut port: u16 = 50_112;

    // Collector: data posts every 300 s, command polls every 1800 s.
    for k in 0..DAY / DATA_EVERY {
        let sent = DAY_START + k * DATA_EVERY + 265;
        let interval = DAY_START + (k - 1) * DATA_EVERY;
        let body = home.data_body(k, sent, interval);
        let twist = match k {
            RETRANSMITTED_POST => 1,
            REORDERED_POST => 2,
            _ => 0,
        };
        frames.extend(collector_connection(
            port,
            sent,
            &collector_request("Data", &body),
            twist,
        ));
        port += 1;
    }
    for k in 0..DAY / COMMAND_EVERY {
        let sent = DAY_START + k * COMMAND_EVERY + 1_391;
        let body = command_body(k as u64, sent);
        frames.extend(collector_connection(
            port,
            sent,
            &collector_request("Command", &body),
            0,
        ));
        port += 1;
    }

    // A laptop browsing another web server every 10 minutes, sometimes uploading.
    for n in 0..DAY / 600 {
        let time = DAY_START + n * 600 + 311;
        let lport = 40_000 + n as u16;
        let requests: Vec<(&str, &str, usize)> = if n % 6 == 3 {
            vec![("GET", "/status", 300), ("POST", "/api/upload", 120)]
        } else {
            vec![
                ("GET", "/index.html", 1800 + (n as usize % 5) * 400),
                ("GET", "/style.css", 700),
            ]
        };
        frames.extend(web_connection(lport, time, &requests));
    }

    // DNS every 30 s, mDNS every 2 minutes, ARP every 10 minutes.
    let names = [
        "example.net",
        "time.apple.com",
        "collector.sunpowermonitor.com",
    ];
    for n in 0..(DAY / 30) as u64 {
        let time = DAY_START + n as i64 * 30 + 13;
        let (client, name) = if n % 10 == 9 {
            (SUPERVISOR_IP, names[2])
        } else {
            (LAPTOP, names[(n % 2) as usize])
        };
        frames.extend(dns_exchange(n, time, client, name));
        if n % 4 == 0 {
            frames.push(mdns(n, time + 7));
        }
        if n % 20 == 10 {
            let (ip, mac) = if n % 40 == 10 {
                (SUPERVISOR_IP, [0x00, 0x22, 0xf2, 0x01, 0x05, 0x93])
            } else {
                (LAPTOP, [0x3c, 0x22, 0xfb, 0x10, 0x20, 0x30])
            };
            frames.extend(arp_exchange(time + 41, ip, mac));
        }
    }

    // Capture order: by time; equal times keep their generation order.
    frames.sort_by_key(|f| f.timestamp);
    pcap_bytes(Link::ethernet().link_type(), PcapFormat::LE_MICRO, &frames)
}
