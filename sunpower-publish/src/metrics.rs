//! Prometheus: the latest value of each device's quantities and of the site totals, in the
//! Prometheus text exposition format (0.0.4) written by the Prometheus project's own client
//! (`prometheus-client`), and a minimal `/metrics` server.
//!
//! [`Metrics`] is the sans-I/O part: it is handed records with the time they arrived and asked
//! for the exposition at a time, so that which series are stale is decided without a clock.
//! [`MetricsServer`] serves it over HTTP from a thread.
//!
//! Names and units follow Prometheus' conventions: base units in the name, converted from the
//! field tables' units (kW to `_watts`, kWh to `_joules`, kvar to `_volt_amperes_reactive`, kVA
//! to `_volt_amperes`, kB to `_bytes`, minutes to `_seconds`), counters that only rise with
//! `_total` (`rate(sunpower_inverter_lifetime_energy_joules_total[1h])` is watts), quantities
//! that also fall (a net meter's energy, the battery's) as gauges. Joules rather than kWh as
//! Prometheus asks for base units and `rate()` of joules is power in watts; Grafana shows them
//! in kWh by its unit setting (1 kWh = 3.6 MJ). Each device's series carry the label `serial`
//! (the site's, `supervisor`), and `sunpower_<kind>_timestamp_seconds` is the measurement time
//! of its last record, to see a device whose clock froze.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use sunpower_publish::Metrics;
//!
//! let mut metrics = Metrics::new(Duration::from_secs(1800));
//! let line = "130\t20260601170000\t414051637009125\tAC_Module_Type_C\t\t18.5466\t0.0417";
//! let start = Instant::now();
//! metrics.update_record(&sunpower_proto::parse_line(line).unwrap(), start);
//! let text = metrics.encode(start);
//! assert!(text.contains("# TYPE sunpower_inverter_lifetime_energy_joules_total counter\n"));
//! assert!(text.contains("sunpower_inverter_ac_power_watts{serial=\"414051637009125\"} 41.7\n"));
//! // Half an hour without a record from it: its series are gone.
//! assert!(!metrics.encode(start + Duration::from_secs(1801)).contains("414051637009125"));
//! ```

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};
use sunpower_proto::{FieldValue, Record, SiteTotals};

/// The most devices (and sites) kept: a home has a few dozen; past it a new device's records
/// are counted in `sunpower_exporter_devices_refused_total`, not kept.
pub const MAX_DEVICES: usize = 4096;

/// The `Content-Type` of the exposition: Prometheus' text format 0.0.4.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// A field name's unit suffix: the unit in the metric's name and the factor to it.
fn base_unit(field: &str) -> (&str, Option<(&'static str, f64)>) {
    // Prometheus' base units: a percent is exported as a ratio (86 % is 0.86).
    const SUFFIXES: [(&str, &str, f64); 12] = [
        ("_kwh", "joules", 3.6e6),
        ("_kw", "watts", 1e3),
        ("_kvar", "volt_amperes_reactive", 1e3),
        ("_kva", "volt_amperes", 1e3),
        ("_v", "volts", 1.0),
        ("_a", "amperes", 1.0),
        ("_hz", "hertz", 1.0),
        ("_c", "celsius", 1.0),
        ("_s", "seconds", 1.0),
        ("_kb", "bytes", 1e3),
        ("_min", "seconds", 60.0),
        ("_pct", "ratio", 0.01),
    ];
    for (suffix, unit, factor) in SUFFIXES {
        if let Some(base) = field.strip_suffix(suffix) {
            return (base, Some((unit, factor)));
        }
    }
    (field, None)
}

/// Whether a field is a counter that only rises (the rest are gauges): the lifetime production,
/// consumption, import and export, and the supervisor's error counts. Net energies fall while
/// the home exports; a counter's reset (a replaced device) is what `rate()` expects.
fn is_counter(field: &str) -> bool {
    matches!(
        field,
        "lifetime_energy_kwh"
            | "import_energy_kwh"
            | "export_energy_kwh"
            | "pv_energy_kwh"
            | "site_load_energy_kwh"
            | "error_count"
            | "comm_errors"
            | "skipped_scans"
    )
}

/// The metric name prefix of a record's device, and its record types' fields' docs.
fn device_kind(record: &Record<'_>) -> Option<&'static str> {
    Some(match record {
        Record::Inverter(_) => "inverter",
        Record::Meter(_) | Record::MeterLegs(_) => "meter",
        Record::SupervisorStatus(_) => "supervisor",
        _ => return None,
    })
}

/// The latest values of one device (or site).
#[derive(Debug, Clone)]
struct Series {
    updated: Instant,
    /// Field name to its value in the field's own unit, and its help text.
    values: BTreeMap<&'static str, (f64, &'static str)>,
    /// The measurement time of the last record, seconds since 1970.
    timestamp: Option<f64>,
}

/// The latest values of every device, kept until stale (see the [module documentation](self)).
#[derive(Debug, Clone)]
pub struct Metrics {
    stale_after: Duration,
    /// (kind, serial) to the device's values.
    devices: BTreeMap<(&'static str, String), Series>,
    refused: u64,
    records: u64,
}

impl Metrics {
    /// An empty set whose devices' series go when no record came for `stale_after`.
    pub fn new(stale_after: Duration) -> Metrics {
        Metrics {
            stale_after,
            devices: BTreeMap::new(),
            refused: 0,
            records: 0,
        }
    }

    /// Takes a record's numeric fields as its device's latest values, received at `now`.
    /// Records that are no device's (a post's header, trailer, an inverter's status) are
    /// ignored.
    pub fn update_record(&mut self, record: &Record<'_>, now: Instant) {
        let (Some(kind), Some(serial)) = (device_kind(record), record.serial()) else {
            return;
        };
        let specs = Record::fields(record.record_type());
        let mut values = Vec::new();
        let mut timestamp = None;
        record.visit_fields(|name, value| {
            if let FieldValue::Time(Some(t)) = value
                && name == "timestamp"
            {
                timestamp = Some(t.timestamp_millis() as f64 / 1e3);
            }
            if let Some(v) = number(value) {
                let help = specs.iter().find(|s| s.name == name).map_or("", |s| s.doc);
                values.push((name, v, help));
            }
        });
        self.update(kind, serial, values, timestamp, now);
    }

    /// Takes the site totals as the latest of the site of the supervisor `supervisor_serial`.
    pub fn update_site_totals(&mut self, site: &SiteTotals, supervisor_serial: &str, now: Instant) {
        let mut values = Vec::new();
        site.visit_fields(|name, value| {
            if let Some(v) = number(value) {
                values.push((name, v, ""));
            }
        });
        let timestamp = site.timestamp.map(|t| t.timestamp_millis() as f64 / 1e3);
        self.update("site", supervisor_serial, values, timestamp, now);
    }

    fn update(
        &mut self,
        kind: &'static str,
        serial: &str,
        values: Vec<(&'static str, f64, &'static str)>,
        timestamp: Option<f64>,
        now: Instant,
    ) {
        self.remove_stale(now);
        let key = (kind, serial.to_owned());
        if !self.devices.contains_key(&key) && self.devices.len() >= MAX_DEVICES {
            self.refused += 1;
            return;
        }
        self.records += 1;
        let series = self.devices.entry(key).or_insert_with(|| Series {
            updated: now,
            values: BTreeMap::new(),
            timestamp: None,
        });
        series.updated = now;
        if timestamp.is_some() {
            series.timestamp = timestamp;
        }
        // A meter's 140 and 141 add to one device; a value not reported this time keeps the
        // last one until the device goes stale.
        for (name, value, help) in values {
            series.values.insert(name, (value, help));
        }
    }

    /// Forgets the devices with no record for the stale time, so memory stays bounded.
    pub fn remove_stale(&mut self, now: Instant) {
        let stale_after = self.stale_after;
        self.devices
            .retain(|_, series| now.saturating_duration_since(series.updated) <= stale_after);
    }

    /// How many devices (and sites) have series now.
    pub fn devices(&self) -> usize {
        self.devices.len()
    }

    /// The exposition at `now` (stale devices removed first), Prometheus' text format.
    pub fn encode(&mut self, now: Instant) -> String {
        self.remove_stale(now);
        let mut registry = Registry::default();
        registry.register_collector(Box::new(Exposition(self.clone())));
        let mut text = String::new();
        // Writing to a String cannot fail, and the collector never returns an error.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut text, &registry);
        text
    }
}

/// A typed value as a number; `None` for text, times and values not reported.
fn number(value: FieldValue<'_>) -> Option<f64> {
    match value {
        FieldValue::Decimal(Some(v)) if v.is_finite() => Some(v),
        FieldValue::Integer(Some(v)) => Some(v as f64),
        FieldValue::Unsigned(Some(v)) => Some(v as f64),
        _ => None,
    }
}

/// `value × factor` rounded to 12 significant digits, so that 0.0417 kW is 41.7 W and not
/// 41.699999999999996 (the supervisor's values have fewer digits than that).
fn scaled(value: f64, factor: f64) -> f64 {
    if factor == 1.0 {
        return value;
    }
    let product = value * factor;
    format!("{product:.11e}").parse().unwrap_or(product)
}

/// A metric's help and its series: the label's value (a serial) and the value.
type Family<'a> = (&'a str, Vec<(&'a str, f64)>);

/// One scrape's view of the values, for the client's encoder.
#[derive(Debug)]
struct Exposition(Metrics);

impl Collector for Exposition {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let metrics = &self.0;
        // Each metric's series together: (kind, field) to its help and the (label, value)s.
        let mut families: BTreeMap<(&str, &str), Family<'_>> = BTreeMap::new();
        for ((kind, serial), series) in &metrics.devices {
            for (field, (value, help)) in &series.values {
                let family = families.entry((kind, field)).or_insert((help, Vec::new()));
                family.1.push((serial, *value));
            }
            if let Some(t) = series.timestamp {
                let help = "When the last record was measured, seconds since 1970 (UTC).";
                let family = families
                    .entry((kind, "timestamp_s"))
                    .or_insert((help, Vec::new()));
                family.1.push((serial, t));
            }
        }
        for ((kind, field), (help, series)) in families {
            let (base, unit) = base_unit(field);
            let name = format!("sunpower_{kind}_{base}");
            let help = if help.is_empty() {
                format!("The site's `{field}`.")
            } else {
                help.to_owned()
            };
            let (help, unit, factor) = match unit {
                Some((unit, factor)) if factor != 1.0 => (
                    format!("{help} In {unit}: the field `{field}` × {factor}."),
                    Some(Unit::Other(unit.to_owned())),
                    factor,
                ),
                Some((unit, _)) => (help, Some(Unit::Other(unit.to_owned())), 1.0),
                None => (help, None, 1.0),
            };
            let label = if kind == "site" {
                "supervisor"
            } else {
                "serial"
            };
            let counter = is_counter(field);
            let metric_type = if counter {
                MetricType::Counter
            } else {
                MetricType::Gauge
            };
            let mut family = encoder.encode_descriptor(&name, &help, unit.as_ref(), metric_type)?;
            for (serial, value) in series {
                let labels = [(label, serial)];
                let value = scaled(value, factor);
                let metric = family.encode_family(&labels)?;
                if counter {
                    ConstCounter::new(value).encode(metric)?;
                } else {
                    ConstGauge::new(value).encode(metric)?;
                }
            }
        }
        let refused = ConstCounter::new(metrics.refused);
        let metric = encoder.encode_descriptor(
            "sunpower_exporter_devices_refused",
            "Records of new devices not kept, as the most devices were kept already.",
            None,
            refused.metric_type(),
        )?;
        refused.encode(metric)?;
        let records = ConstCounter::new(metrics.records);
        let metric = encoder.encode_descriptor(
            "sunpower_exporter_records",
            "Records and site totals taken since the start.",
            None,
            records.metric_type(),
        )?;
        records.encode(metric)?;
        Ok(())
    }
}

/// How a [`MetricsServer`] serves.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MetricsOptions {
    /// A device's series go when no record of it came for this long (30 minutes: six of the
    /// supervisor's 5-minute intervals).
    pub stale_after: Duration,
    /// The most connections served at once; more are closed at once (8).
    pub max_connections: usize,
    /// The longest wait for a request's head, and for the client to take the answer (5 s).
    pub timeout: Duration,
}

impl Default for MetricsOptions {
    fn default() -> MetricsOptions {
        MetricsOptions {
            stale_after: Duration::from_secs(30 * 60),
            max_connections: 8,
            timeout: Duration::from_secs(5),
        }
    }
}

/// The most bytes of a request's head read: a scrape's is a few hundred.
const MAX_REQUEST: usize = 8 * 1024;

/// `/metrics` over HTTP/1.1 (one request per connection), from a thread, with the latest values
/// given to [`MetricsServer::update_record`] and [`MetricsServer::update_site_totals`].
///
/// ```
/// use std::io::{Read, Write};
/// use sunpower_publish::{MetricsOptions, MetricsServer};
///
/// let server = MetricsServer::bind("127.0.0.1:0", MetricsOptions::default())?;
/// let line = "130\t20260601170000\t414051637009125\tAC_Module_Type_C\t\t18.5466\t0.0417";
/// server.update_record(&sunpower_proto::parse_line(line).unwrap());
///
/// let mut scrape = std::net::TcpStream::connect(server.local_addr())?;
/// scrape.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")?;
/// let mut answer = String::new();
/// scrape.read_to_string(&mut answer)?;
/// assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"));
/// assert!(answer.contains("sunpower_inverter_lifetime_energy_joules_total{serial=\"414051637009125\"} 66767760.0\n"));
/// server.shutdown();
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct MetricsServer {
    metrics: Arc<Mutex<Metrics>>,
    addr: SocketAddr,
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for MetricsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsServer")
            .field("addr", &self.addr)
            .finish()
    }
}

fn lock(metrics: &Mutex<Metrics>) -> MutexGuard<'_, Metrics> {
    metrics.lock().unwrap_or_else(|e| e.into_inner())
}

impl MetricsServer {
    /// Listens on `addr` (`0.0.0.0:9100`, `127.0.0.1:0` for any free port) and serves from a
    /// thread until [`MetricsServer::shutdown`] or drop.
    pub fn bind(
        addr: impl ToSocketAddrs,
        options: MetricsOptions,
    ) -> std::io::Result<MetricsServer> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let metrics = Arc::new(Mutex::new(Metrics::new(options.stale_after)));
        let stopping = Arc::new(AtomicBool::new(false));
        let thread = {
            let metrics = Arc::clone(&metrics);
            let stopping = Arc::clone(&stopping);
            std::thread::Builder::new()
                .name("sunpower-metrics".to_owned())
                .spawn(move || serve(&listener, &metrics, &stopping, &options))?
        };
        Ok(MetricsServer {
            metrics,
            addr,
            stopping,
            thread: Some(thread),
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Takes a record's values as its device's latest.
    pub fn update_record(&self, record: &Record<'_>) {
        lock(&self.metrics).update_record(record, Instant::now());
    }

    /// Takes the site totals as the latest of the supervisor `supervisor_serial`'s site.
    pub fn update_site_totals(&self, site: &SiteTotals, supervisor_serial: &str) {
        lock(&self.metrics).update_site_totals(site, supervisor_serial, Instant::now());
    }

    /// The exposition as a scrape would get it now.
    pub fn encode(&self) -> String {
        lock(&self.metrics).encode(Instant::now())
    }

    /// Stops listening (connections being answered finish on their own threads).
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // The accepting thread is woken by a connection of our own.
        let wake = match self.addr {
            SocketAddr::V4(a) if a.ip().is_unspecified() => {
                SocketAddr::from(([127, 0, 0, 1], a.port()))
            }
            SocketAddr::V6(a) if a.ip().is_unspecified() => {
                SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, a.port()))
            }
            other => other,
        };
        let _ = TcpStream::connect_timeout(&wake, Duration::from_secs(1));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.stop();
        }
    }
}

fn serve(
    listener: &TcpListener,
    metrics: &Arc<Mutex<Metrics>>,
    stopping: &AtomicBool,
    options: &MetricsOptions,
) {
    let active = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        if stopping.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else {
            // Out of file descriptors, say: wait a little rather than spin.
            std::thread::sleep(Duration::from_millis(50));
            continue;
        };
        if active.load(Ordering::SeqCst) >= options.max_connections {
            // Too many at once: closed unanswered, costing no thread.
            let _ = stream.shutdown(Shutdown::Both);
            continue;
        }
        active.fetch_add(1, Ordering::SeqCst);
        let (metrics, active_for_thread, timeout) =
            (Arc::clone(metrics), Arc::clone(&active), options.timeout);
        let spawned = std::thread::Builder::new()
            .name("sunpower-metrics-conn".to_owned())
            .spawn(move || {
                let _ = answer(stream, &metrics, timeout);
                active_for_thread.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            active.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Reads one request's head (bounded in size and time) and answers it.
fn answer(
    mut stream: TcpStream,
    metrics: &Mutex<Metrics>,
    timeout: Duration,
) -> std::io::Result<()> {
    stream.set_write_timeout(Some(timeout))?;
    let deadline = Instant::now() + timeout;
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && !head.windows(2).any(|w| w == b"\n\n") {
        if head.len() >= MAX_REQUEST {
            return respond(
                &mut stream,
                "431 Request Header Fields Too Large",
                "text/plain",
                "request too large\n",
                true,
            );
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return respond(
                &mut stream,
                "408 Request Timeout",
                "text/plain",
                "timeout\n",
                true,
            );
        }
        stream.set_read_timeout(Some(left))?;
        match stream.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    match (method, path) {
        ("GET" | "HEAD", "/metrics") => {
            let body = lock(metrics).encode(Instant::now());
            respond(&mut stream, "200 OK", CONTENT_TYPE, &body, method == "GET")
        }
        ("GET" | "HEAD", _) => respond(
            &mut stream,
            "404 Not Found",
            "text/plain",
            "see /metrics\n",
            method == "GET",
        ),
        _ => respond(
            &mut stream,
            "405 Method Not Allowed",
            "text/plain",
            "GET /metrics\n",
            true,
        ),
    }
}

fn respond(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &str,
    with_body: bool,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    if with_body {
        stream.write_all(body.as_bytes())?;
    }
    stream.flush()?;
    let _ = stream.shutdown(Shutdown::Write);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each unit a field name's suffix gives is its field's unit in the field tables.
    #[test]
    fn unit_suffixes_are_the_field_tables_units() {
        let mut checked = 0;
        for record_type in [120, 130, 140, 141] {
            for spec in Record::fields(record_type) {
                let (_, unit) = base_unit(spec.name);
                let expected = match spec.unit {
                    None => None,
                    Some("kWh") => Some(("joules", 3.6e6)),
                    Some("kW") => Some(("watts", 1e3)),
                    Some("kvar") => Some(("volt_amperes_reactive", 1e3)),
                    Some("kVA") => Some(("volt_amperes", 1e3)),
                    Some("V") => Some(("volts", 1.0)),
                    Some("A") => Some(("amperes", 1.0)),
                    Some("Hz") => Some(("hertz", 1.0)),
                    Some("°C") => Some(("celsius", 1.0)),
                    Some("s") => Some(("seconds", 1.0)),
                    Some("kB") => Some(("bytes", 1e3)),
                    Some(other) => panic!("{}: unit {other} has no base unit here", spec.name),
                };
                assert_eq!(unit, expected, "{record_type} {}", spec.name);
                checked += 1;
            }
        }
        assert!(checked > 40, "{checked}");
    }

    fn inverter(serial: &str, energy: f64) -> String {
        format!("130\t20260601170000\t{serial}\tM\t\t{energy}\t0.5")
    }

    #[test]
    fn stale_devices_are_forgotten_and_the_bound_refuses_new_ones() {
        let start = Instant::now();
        let mut metrics = Metrics::new(Duration::from_secs(60));
        let a = inverter("A1", 1.0);
        let b = inverter("B2", 2.0);
        metrics.update_record(&sunpower_proto::parse_line(&a).unwrap(), start);
        metrics.update_record(
            &sunpower_proto::parse_line(&b).unwrap(),
            start + Duration::from_secs(50),
        );
        assert_eq!(metrics.devices(), 2);
        let text = metrics.encode(start + Duration::from_secs(100));
        assert!(!text.contains("\"A1\""), "{text}");
        assert!(
            text.contains("sunpower_inverter_ac_power_watts{serial=\"B2\"} 500.0\n"),
            "{text}"
        );
        assert_eq!(metrics.devices(), 1);

        let now = start + Duration::from_secs(100);
        for n in 0..MAX_DEVICES + 5 {
            let line = inverter(&format!("S{n}"), 1.0);
            metrics.update_record(&sunpower_proto::parse_line(&line).unwrap(), now);
        }
        assert_eq!(metrics.devices(), MAX_DEVICES);
        assert!(metrics
            .encode(now)
            .contains("sunpower_exporter_devices_refused_total 6\n"));
    }

    #[test]
    fn headers_and_trailers_give_no_series() {
        let mut metrics = Metrics::new(Duration::from_secs(60));
        let now = Instant::now();
        metrics.update_record(&sunpower_proto::parse_line("102\ttoken").unwrap(), now);
        assert_eq!(metrics.devices(), 0);
    }
}
