//! `/metrics` over real HTTP on 127.0.0.1, parsed by a Prometheus text-format parser, against
//! the records of the repository's sample capture.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use prometheus_parse::{Scrape, Value};
use sunpower_pcap::capture::Input;
use sunpower_pcap::records::{RecordDecoder, RecordEvent};
use sunpower_proto::Record;
use sunpower_publish::{MetricsOptions, MetricsServer};

/// Every wait of these tests ends by this.
const WAIT: Duration = Duration::from_secs(10);

/// One request, the whole answer (the server closes after it).
fn request(addr: SocketAddr, bytes: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.write_all(bytes).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    String::from_utf8(answer).unwrap()
}

fn body(answer: &str) -> &str {
    answer.split_once("\r\n\r\n").unwrap().1
}

fn scrape(addr: SocketAddr) -> (String, Scrape) {
    let answer = request(
        addr,
        b"GET /metrics HTTP/1.1\r\nHost: test\r\nAccept: */*\r\n\r\n",
    );
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
    let text = body(&answer).to_owned();
    let parsed = Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap();
    // The parser skips lines it cannot read: every sample line must have been read.
    let sample_lines = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .count();
    assert_eq!(parsed.samples.len(), sample_lines, "{text}");
    (text, parsed)
}

fn value(scrape: &Scrape, metric: &str, label: &str, serial: &str) -> Option<Value> {
    scrape
        .samples
        .iter()
        .find(|s| s.metric == metric && s.labels.get(label) == Some(serial))
        .map(|s| s.value.clone())
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn metrics_of_the_sample_capture_parse_and_match_its_last_records() {
    let server = MetricsServer::bind("127.0.0.1:0", MetricsOptions::default()).unwrap();
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sample.pcap");
    let mut decoder = RecordDecoder::new(vec![Input::from_path(sample)], Default::default());
    // The last values of each inverter and meter, as the records say.
    let mut energy: HashMap<String, f64> = HashMap::new();
    let mut power: HashMap<String, f64> = HashMap::new();
    let mut net: HashMap<String, f64> = HashMap::new();
    decoder.run(|event| {
        if let RecordEvent::Record { record, .. } = event {
            server.update_record(&record);
            match &record {
                Record::Inverter(r) => {
                    if let Some(v) = r.lifetime_energy_kwh {
                        energy.insert(r.serial.to_owned(), v);
                    }
                    if let Some(v) = r.ac_power_kw {
                        power.insert(r.serial.to_owned(), v);
                    }
                }
                Record::Meter(m) => {
                    if let Some(v) = m.lifetime_net_energy_kwh {
                        net.insert(m.serial.to_owned(), v);
                    }
                }
                _ => {}
            }
        }
    });
    assert!(
        energy.len() >= 10 && !net.is_empty(),
        "{} inverters, {} meters",
        energy.len(),
        net.len()
    );
    let mut site = sunpower_proto::SiteTotals::default();
    site.pv_power_kw = Some(3.25);
    site.net_energy_kwh = Some(-120.5);
    site.battery_soc_pct = Some(86.0);
    server.update_site_totals(&site, "ZT01234567890");

    let (text, scrape) = scrape(server.local_addr());
    for (serial, kwh) in &energy {
        let Some(Value::Counter(joules)) = value(
            &scrape,
            "sunpower_inverter_lifetime_energy_joules_total",
            "serial",
            serial,
        ) else {
            panic!("no energy counter of {serial}");
        };
        assert!(
            close(joules, kwh * 3.6e6),
            "{serial}: {joules} J for {kwh} kWh"
        );
    }
    for (serial, kw) in &power {
        let Some(Value::Gauge(watts)) = value(
            &scrape,
            "sunpower_inverter_ac_power_watts",
            "serial",
            serial,
        ) else {
            panic!("no power gauge of {serial}");
        };
        assert!(close(watts, kw * 1e3), "{serial}: {watts} W for {kw} kW");
    }
    for (serial, kwh) in &net {
        let Some(Value::Gauge(joules)) = value(
            &scrape,
            "sunpower_meter_lifetime_net_energy_joules",
            "serial",
            serial,
        ) else {
            panic!("no net energy gauge of {serial}");
        };
        assert!(close(joules, kwh * 3.6e6));
    }
    assert_eq!(
        value(
            &scrape,
            "sunpower_site_pv_power_watts",
            "supervisor",
            "ZT01234567890"
        ),
        Some(Value::Gauge(3250.0))
    );
    assert_eq!(
        value(
            &scrape,
            "sunpower_site_net_energy_joules",
            "supervisor",
            "ZT01234567890"
        ),
        Some(Value::Gauge(-433_800_000.0))
    );
    assert_eq!(
        value(
            &scrape,
            "sunpower_site_battery_soc_ratio",
            "supervisor",
            "ZT01234567890"
        ),
        Some(Value::Gauge(0.86))
    );
    assert!(
        scrape.docs["sunpower_inverter_lifetime_energy_joules_total"]
            .ends_with("In joules: the field `lifetime_energy_kwh` × 3600000."),
        "{:?}",
        scrape.docs
    );
    // Every metric name follows the naming rules, once described.
    for line in text.lines().filter(|l| l.starts_with("# TYPE ")) {
        let name = line.split(' ').nth(2).unwrap();
        assert!(
            name.starts_with("sunpower_")
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "{name}"
        );
        assert_eq!(
            text.matches(&format!("# TYPE {name} ")).count(),
            1,
            "{name}"
        );
    }
    server.shutdown();
}

#[test]
fn other_paths_methods_and_oversized_requests_are_refused() {
    let server = MetricsServer::bind("127.0.0.1:0", MetricsOptions::default()).unwrap();
    let addr = server.local_addr();
    assert!(request(addr, b"GET / HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404 "));
    assert!(
        request(addr, b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
            .starts_with("HTTP/1.1 405 ")
    );
    let head = request(addr, b"HEAD /metrics HTTP/1.1\r\n\r\n");
    assert!(
        head.starts_with("HTTP/1.1 200 ") && body(&head).is_empty(),
        "{head}"
    );
    let mut huge = b"GET /metrics HTTP/1.1\r\n".to_vec();
    while huge.len() < 20_000 {
        huge.extend_from_slice(
            b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
        );
    }
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    // The server may close before taking it all: what it answered first counts.
    let _ = stream.write_all(&huge);
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 431 "), "{answer}");
}

#[test]
fn silent_clients_time_out_and_connections_past_the_bound_are_closed() {
    let mut options = MetricsOptions::default();
    options.max_connections = 2;
    options.timeout = Duration::from_millis(500);
    let server = MetricsServer::bind("127.0.0.1:0", options).unwrap();
    let addr = server.local_addr();
    // Two clients that say nothing hold both places.
    let silent: Vec<TcpStream> = (0..2).map(|_| TcpStream::connect(addr).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(100));
    // A third is closed unanswered.
    let mut third = TcpStream::connect(addr).unwrap();
    third.set_read_timeout(Some(WAIT)).unwrap();
    let _ = third.write_all(b"GET /metrics HTTP/1.1\r\n\r\n");
    let mut answer = Vec::new();
    let _ = third.read_to_end(&mut answer);
    assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));
    // The silent ones are answered 408 after the timeout, and the places free again.
    for mut stream in silent {
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
    }
    let until = Instant::now() + WAIT;
    loop {
        let answer = request(addr, b"GET /metrics HTTP/1.1\r\n\r\n");
        if answer.starts_with("HTTP/1.1 200 ") {
            break;
        }
        assert!(Instant::now() < until, "no place freed: {answer}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
