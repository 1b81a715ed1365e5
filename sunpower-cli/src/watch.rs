//! `sunpower watch`: a supervisor read live (`--host`, through sunpower-client) or a capture
//! read as it comes (`--capture -`), every record, site total and interval written as it comes
//! to the sinks: standard output (JSON Lines or InfluxDB lines), the CSV tree, and with the
//! `publish` feature an MQTT broker for Home Assistant ([`mqtt`]) and a Prometheus `/metrics`
//! endpoint ([`prometheus`]). Runs until stopped (SIGINT, SIGTERM) or for a given time; memory
//! bounded whatever the run's length.

#[cfg(feature = "publish")]
mod mqtt;
#[cfg(feature = "publish")]
mod prometheus;

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use clap::ValueEnum;
use sunpower_client::{Fingerprint, Host, Live, LiveConfig, LiveEvent};
use sunpower_pcap::records::RecordEvent;
use sunpower_proto::intervals::{Interval, IntervalAccumulator, IntervalConfig, Tz};
use sunpower_proto::session::Event;
use sunpower_proto::{JsonLines, ProblemLog, Record, SiteTotals, SupervisorInfo};
use sunpower_store::tree;

use crate::capture::{drive, CaptureArgs};
use crate::output::Stderr;
use crate::varserver::report_vars;
use crate::Outcome;

/// Output formats of `sunpower watch` on standard output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WatchFormat {
    /// One JSON object per record, site total and interval.
    Jsonl,
    /// InfluxDB line protocol: records, site totals, intervals.
    Influx,
}

/// Arguments of `sunpower watch`.
#[derive(Debug, Clone, clap::Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["host", "capture"])))]
pub struct WatchArgs {
    /// The supervisor, HOST[:PORT] (HTTPS, port 443 unless given).
    #[arg(long, value_name = "HOST[:PORT]")]
    pub host: Option<Host>,
    /// A capture instead of a supervisor: `-` for one on standard input (`tcpdump -w -`), as
    /// PVS2 and PVS5 owners who mirror their traffic have.
    #[arg(long, value_name = "FILE|-")]
    pub capture: Option<String>,
    /// The supervisor certificate's SHA-256 to require (else the first one seen is pinned and
    /// printed).
    #[arg(long, value_name = "SHA256", requires = "host")]
    pub pin: Option<Fingerprint>,
    /// Also read the telemetry WebSocket (site totals every few seconds).
    #[arg(long, requires = "host")]
    pub telemetry: bool,
    /// Enable the telemetry WebSocket first (`/vars?set=/sys/telemetryws/enable=1`, a write to
    /// the supervisor); implies --telemetry.
    #[arg(long, requires = "host")]
    pub enable_telemetry: bool,
    /// The telemetry WebSocket's port (proxies, tests).
    #[arg(long, value_name = "PORT", default_value_t = sunpower_client::TELEMETRY_PORT)]
    pub ws_port: u16,
    /// Seconds between two polls; not under 300 unless the risk is named (below).
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub poll_every: u32,
    /// Allow --poll-every under 300 s: supervisors polled that often have been reported to
    /// crash or wear their flash.
    #[arg(long)]
    pub poll_faster_than_five_minutes_at_the_risk_of_the_supervisor: bool,
    /// The longest one request may take, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 20)]
    pub timeout: u64,
    /// Output format on standard output.
    #[arg(long, value_enum, default_value_t = WatchFormat::Jsonl)]
    pub format: WatchFormat,
    /// Also merge the intervals into the `YYYY/MM/DD.csv` tree under DIR as they come.
    #[arg(long, value_name = "DIR")]
    pub tree: Option<PathBuf>,
    /// IANA time zone for the tree's days (default: the system's).
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Also publish every record and site total to this MQTT broker for Home Assistant
    /// (`mqtt://[USER[:PASSWORD]@]HOST[:PORT]`): discovery, states, availability with a last
    /// will; a bounded queue while the broker is away, its counters said at the stop.
    #[cfg(feature = "publish")]
    #[arg(long, value_name = "URL")]
    pub mqtt: Option<String>,
    /// Also serve `/metrics` (Prometheus' text format) on ADDR (`0.0.0.0:9100`; port 0 for any
    /// free one, said on standard error).
    #[cfg(feature = "publish")]
    #[arg(long, value_name = "ADDR")]
    pub prometheus: Option<String>,
    /// Stop after this long (`90s`, `10m`, `2h`, `1d`; a bare number is seconds).
    #[arg(long = "for", value_name = "DURATION", value_parser = parse_duration)]
    pub run_for: Option<Duration>,
    /// Minutes after an interval's end before it is written even if a device has not reported.
    #[arg(long, value_name = "MINUTES", default_value_t = 15)]
    pub lateness: u32,
    /// Tests: the first wait after a failure, in seconds (then doubling).
    #[arg(long, hide = true, default_value_t = 30)]
    pub first_backoff: u32,
    /// Tests: the longest wait after failures, in seconds.
    #[arg(long, hide = true, default_value_t = 1800)]
    pub max_backoff: u32,
    /// Tests: seconds of WebSocket silence before it is reopened.
    #[arg(long, hide = true, default_value_t = 90)]
    pub telemetry_silence: u32,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit())
        .map_or((text, ""), |i| text.split_at(i));
    let n: u64 = number
        .parse()
        .map_err(|_| format!("not a duration: {text} (say 90s, 10m, 2h or 1d)"))?;
    let seconds = match unit {
        "" | "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        "d" => n.saturating_mul(86_400),
        _ => return Err(format!("not a duration: {text} (say 90s, 10m, 2h or 1d)")),
    };
    Ok(Duration::from_secs(seconds))
}

/// Where `watch` writes what comes: standard output, the tree, MQTT, a Prometheus endpoint. Each is told every record, site total and interval as it comes, then
/// `flush`ed once the batch of one step is through; `finish` at the stop.
pub trait Sink {
    /// A decoded record (inverter, meter, supervisor).
    fn record(&mut self, record: &Record<'_>) -> io::Result<()>;
    /// The supervisor's info, when identified.
    fn supervisor(&mut self, _info: &SupervisorInfo) -> io::Result<()> {
        Ok(())
    }
    /// Site totals (a poll's `/sys/livedata` or a telemetry frame) of the supervisor `serial`
    /// (empty when not known).
    fn site_totals(&mut self, site: &SiteTotals, serial: &str) -> io::Result<()>;
    /// Intervals that became final.
    fn intervals(&mut self, rows: &[Interval]) -> io::Result<()>;
    /// The end of a batch: what was written leaves now.
    fn flush(&mut self) -> io::Result<()>;
    /// The run ends.
    fn finish(&mut self) -> io::Result<()> {
        self.flush()
    }
}

/// Standard output, JSON Lines or InfluxDB lines.
struct StdoutSink {
    format: WatchFormat,
    tz: Tz,
    out: JsonLines<io::StdoutLock<'static>>,
    line: String,
}

impl StdoutSink {
    fn json(&mut self, value: &impl serde::Serialize) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, value)?;
        self.out.write_all(b"\n")
    }

    fn influx(&mut self, write: impl FnOnce(&mut String) -> bool) -> io::Result<()> {
        self.line.clear();
        write(&mut self.line);
        self.out.write_all(self.line.as_bytes())
    }
}

impl Sink for StdoutSink {
    fn record(&mut self, record: &Record<'_>) -> io::Result<()> {
        match self.format {
            WatchFormat::Jsonl => self.out.write_record(record, None),
            WatchFormat::Influx => {
                self.influx(|line| sunpower_proto::influx::write_record(line, record))
            }
        }
    }

    fn supervisor(&mut self, info: &SupervisorInfo) -> io::Result<()> {
        match self.format {
            WatchFormat::Jsonl => self.json(info),
            // Its values are in the supervisor's records.
            WatchFormat::Influx => Ok(()),
        }
    }

    fn site_totals(&mut self, site: &SiteTotals, serial: &str) -> io::Result<()> {
        match self.format {
            WatchFormat::Jsonl => self.json(site),
            WatchFormat::Influx => {
                self.influx(|line| sunpower_proto::influx::write_site_totals(line, site, serial))
            }
        }
    }

    fn intervals(&mut self, rows: &[Interval]) -> io::Result<()> {
        for row in rows {
            match self.format {
                WatchFormat::Jsonl => self.out.write_interval(row, Some(self.tz))?,
                WatchFormat::Influx => {
                    self.influx(|line| sunpower_proto::influx::write_interval(line, row))?
                }
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// The CSV tree: each batch of final intervals merged in (locked, crash-safe) at its flush.
struct TreeSink {
    dir: PathBuf,
    tz: Tz,
    pending: Vec<Interval>,
}

impl Sink for TreeSink {
    fn record(&mut self, _: &Record<'_>) -> io::Result<()> {
        Ok(())
    }

    fn site_totals(&mut self, _: &SiteTotals, _: &str) -> io::Result<()> {
        Ok(())
    }

    fn intervals(&mut self, rows: &[Interval]) -> io::Result<()> {
        self.pending.extend_from_slice(rows);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let report = tree::write_dir(&self.dir, &self.pending, self.tz)
            .map_err(|e| io::Error::other(e.to_string()))?;
        self.pending.clear();
        eprintln!(
            "sunpower: {}: {} intervals inserted, {} replaced, {} files written",
            self.dir.display(),
            report.inserted,
            report.replaced,
            report.files
        );
        Ok(())
    }
}

/// The sinks, and the intervals computed from what comes.
struct Outputs {
    sinks: Vec<Box<dyn Sink>>,
    acc: IntervalAccumulator,
    log: ProblemLog,
    serial: String,
}

impl Outputs {
    fn each(&mut self, mut f: impl FnMut(&mut dyn Sink) -> io::Result<()>) -> io::Result<()> {
        self.sinks.iter_mut().try_for_each(|s| f(s.as_mut()))
    }

    fn record(&mut self, record: &Record<'_>) -> io::Result<()> {
        self.acc.add(record);
        self.each(|s| s.record(record))
    }

    fn site_totals(&mut self, site: &SiteTotals) -> io::Result<()> {
        self.acc.add_site_totals(site);
        let serial = self.serial.clone();
        self.each(|s| s.site_totals(site, &serial))
    }

    /// The intervals final at `now` to every sink, then the flush.
    fn advance(&mut self, now: chrono::DateTime<Utc>) -> io::Result<()> {
        let rows = self.acc.advance_to(now);
        self.report_events();
        self.each(|s| s.intervals(&rows))?;
        self.each(|s| s.flush())
    }

    fn finish(&mut self) -> io::Result<()> {
        let rows = self.acc.finish();
        self.report_events();
        self.each(|s| s.intervals(&rows))?;
        self.each(|s| s.finish())
    }

    /// A message on standard error, at most so many of its kind over the run (the rest
    /// counted in the summary), so a flapping socket cannot flood the terminal.
    fn say(&mut self, kind: &'static str, message: String) {
        if self.log.admit(kind) {
            eprintln!("{message}");
        }
    }

    fn report_events(&mut self) {
        for event in self.acc.take_events() {
            if self.log.admit(event.kind()) {
                eprintln!("sunpower: {event}");
            }
        }
    }

    fn live_event(&mut self, event: LiveEvent, host: &Host) -> io::Result<()> {
        match event {
            LiveEvent::Pinned {
                fingerprint,
                first_seen: true,
            } => eprintln!(
                "sunpower: {host}: certificate SHA-256 {fingerprint} pinned (give --pin \
                 {fingerprint} to require it)"
            ),
            LiveEvent::Pinned { .. } => {}
            LiveEvent::Session(event) => self.session_event(event, host)?,
            LiveEvent::RequestFailed { purpose, error } => {
                self.say(
                    "request failed",
                    format!("sunpower: {host}: {purpose:?}: {error}"),
                );
            }
            LiveEvent::Telemetry(site) => self.site_totals(&site)?,
            LiveEvent::TelemetryProblem(problem) => {
                self.say(
                    "telemetry",
                    format!("sunpower: {host}: telemetry: {problem}"),
                );
            }
            LiveEvent::TelemetryConnected => {
                self.say(
                    "telemetry connected",
                    format!("sunpower: {host}: telemetry socket open"),
                );
            }
            LiveEvent::TelemetryClosed { reason } => {
                self.say(
                    "telemetry closed",
                    format!("sunpower: {host}: telemetry socket closed: {reason}"),
                );
            }
            _ => {}
        }
        Ok(())
    }

    fn session_event(&mut self, event: Event, host: &Host) -> io::Result<()> {
        match event {
            Event::Identified { info, source } => {
                eprintln!(
                    "sunpower: {host}: {} build {}, read through the {source:?}",
                    info.model.as_deref().unwrap_or("supervisor"),
                    info.build.map_or("?".to_owned(), |b| b.to_string()),
                );
                if let Some(serial) = &info.serial {
                    self.serial = serial.clone();
                }
                self.each(|s| s.supervisor(&info))?;
            }
            Event::SourceChanged { source, status } => {
                eprintln!("sunpower: {host}: answered {status}; now read through the {source:?}")
            }
            Event::LoggedIn => {
                self.say("logged in", format!("sunpower: {host}: logged in"));
            }
            Event::Vars { vars, .. } => {
                for record in vars.records() {
                    self.record(&record.record())?;
                }
                if let Some(site) = &vars.site {
                    self.site_totals(site)?;
                }
                if !vars.problems.is_empty() || vars.dropped > 0 {
                    report_vars(&host.to_string(), &vars);
                }
            }
            Event::DeviceList(list) => {
                for record in &list.records {
                    self.record(&record.record())?;
                }
            }
            Event::InvertersMissing { answered, expected } => eprintln!(
                "sunpower: {host}: {answered} inverters answered of {expected} seen; asking again"
            ),
            Event::TelemetryEnabled => eprintln!("sunpower: {host}: telemetry enabled"),
            Event::TelemetryUnavailable { status } => eprintln!(
                "sunpower: {host}: no telemetry WebSocket (answered {status}); polls only"
            ),
            Event::Failed {
                purpose,
                problem,
                retry_at,
            } => {
                let message = format!(
                    "sunpower: {host}: {purpose:?}: {problem}; again at {}",
                    retry_at.format("%H:%M:%S UTC")
                );
                self.say("failed", message);
            }
            _ => {}
        }
        Ok(())
    }
}

/// SIGINT and SIGTERM set the flag: the run ends at its next step, the tree flushed.
fn stop_flag() -> io::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, stop.clone())?;
    }
    Ok(stop)
}

pub fn run(args: &WatchArgs) -> io::Result<Outcome> {
    let Some(tz) = crate::intervals::zone(args.tz.as_deref()) else {
        return Ok(Outcome::Usage);
    };
    #[cfg(feature = "publish")]
    let mut pushed: Vec<Box<dyn Sink>> = Vec::new();
    #[cfg(feature = "publish")]
    {
        // Bound and started before the run: a port in use or a URL that cannot be used is
        // said at once, not after the first poll.
        if let Some(addr) = &args.prometheus {
            match prometheus::PrometheusSink::bind(addr) {
                Ok(sink) => pushed.push(Box::new(sink)),
                Err(e) => {
                    eprintln!("sunpower: --prometheus {addr}: {e}");
                    return Ok(Outcome::Usage);
                }
            }
        }
        if let Some(url) = &args.mqtt {
            match mqtt::MqttSink::start(url) {
                Ok(sink) => pushed.push(Box::new(sink)),
                Err(e) => {
                    // The error never repeats the URL (it may hold a password).
                    eprintln!("sunpower: --mqtt: {e}");
                    return Ok(Outcome::Usage);
                }
            }
        }
    }
    let stop = stop_flag()?;
    let deadline = args.run_for.map(|d| Instant::now() + d);
    let ended = || stop.load(Ordering::SeqCst) || deadline.is_some_and(|d| Instant::now() >= d);
    let mut sinks: Vec<Box<dyn Sink>> = vec![Box::new(StdoutSink {
        format: args.format,
        tz,
        out: JsonLines::new(io::stdout().lock()),
        line: String::new(),
    })];
    if let Some(dir) = &args.tree {
        sinks.push(Box::new(TreeSink {
            dir: dir.clone(),
            tz,
            pending: Vec::new(),
        }));
    }
    #[cfg(feature = "publish")]
    sinks.append(&mut pushed);
    let config = IntervalConfig::live(TimeDelta::minutes(i64::from(args.lateness)));
    // Read live, the intervals are five minutes whatever the polls' rate (a faster poll, or
    // the telemetry's seconds, would otherwise vote for a shorter cadence after the first rows
    // went out with the provisional one). A capture keeps its records' own cadence, as
    // `sunpower intervals -` does.
    let config = match args.host {
        Some(_) => config.with_cadence(TimeDelta::minutes(5)),
        None => config,
    };
    let mut outputs = Outputs {
        sinks,
        acc: IntervalAccumulator::new(config),
        log: ProblemLog::default(),
        serial: String::new(),
    };
    let mut outcome = Outcome::Read;
    if let Some(host) = &args.host {
        let mut config = LiveConfig::new(host.clone());
        config.pin = args.pin;
        config.timeout = Duration::from_secs(args.timeout.max(1));
        config.telemetry = args.telemetry || args.enable_telemetry;
        config.telemetry_port = args.ws_port;
        config.telemetry_silence = TimeDelta::seconds(i64::from(args.telemetry_silence));
        config.session.enable_telemetry = args.enable_telemetry;
        config.session.poll_every = TimeDelta::seconds(i64::from(args.poll_every));
        config
            .session
            .poll_faster_than_five_minutes_at_the_risk_of_the_supervisor =
            args.poll_faster_than_five_minutes_at_the_risk_of_the_supervisor;
        config.session.first_backoff = TimeDelta::seconds(i64::from(args.first_backoff));
        config.session.max_backoff = TimeDelta::seconds(i64::from(args.max_backoff));
        let mut live = Live::new(config);
        while !ended() {
            let wait = deadline.map_or(Duration::from_millis(250), |d| {
                d.saturating_duration_since(Instant::now())
                    .min(Duration::from_millis(250))
            });
            for event in live.step(wait) {
                outputs.live_event(event, host)?;
            }
            outputs.advance(Utc::now())?;
        }
    } else if let Some(name) = &args.capture {
        let capture = CaptureArgs {
            inputs: vec![name.clone()],
            all_posts: false,
            no_progress: true,
        };
        let mut decoder = capture.decoder();
        let result = drive(&mut decoder, &Stderr::default(), |event| {
            if ended() {
                return Err(io::Error::new(io::ErrorKind::Interrupted, "stopped"));
            }
            match event {
                RecordEvent::Record { record, .. } => outputs.record(record),
                RecordEvent::PostEnd(post) => outputs.advance(post.captured_at),
                _ => Ok(()),
            }
        });
        match result {
            Ok(read) => outcome = read,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    outputs.finish()?;
    for line in outputs.log.summary() {
        eprintln!("sunpower: {line}");
    }
    Ok(outcome)
}
