//! `sunpower watch --mqtt` against a real Mosquitto on 127.0.0.1 (a free port per test, watched
//! by a second client; skipped, saying so, where Mosquitto is not installed: scripts/test
//! installs it), and `watch --prometheus` against the mock supervisor, its `/metrics` scraped
//! during the run and parsed by a Prometheus text parser.
#![cfg(feature = "publish")]

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rumqttc::{Client, Event, MqttOptions, Packet, QoS};
use serde_json::Value;
use sunpower_testkit::mock::{Firmware, MockSupervisor};

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sample.pcap");

/// Every wait of these tests ends by this.
const WAIT: Duration = Duration::from_secs(30);

const USER: &str = "owner";
const PASSWORD: &str = "Pa55-w0rd-never-shown";

fn mosquitto() -> Option<PathBuf> {
    // Debian's is in /usr/sbin, often not on PATH.
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|dir| dir.join("mosquitto"))
        .find(|p| p.is_file());
    if found.is_none() {
        println!("SKIPPED: mosquitto is not installed (apt-get install mosquitto)");
    }
    found
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A Mosquitto that requires [`USER`] and [`PASSWORD`] (its password file written by
/// `mosquitto_passwd`), without persistence.
struct Broker {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Broker {
    fn start(binary: &Path) -> Broker {
        let port = free_port();
        let dir =
            std::env::temp_dir().join(format!("sunpower-cli-mqtt-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let passwd = binary.with_file_name("mosquitto_passwd");
        let passwd = if passwd.is_file() {
            passwd
        } else {
            PathBuf::from("/usr/bin/mosquitto_passwd")
        };
        let status = Command::new(passwd)
            .args(["-b", "-c"])
            .arg(dir.join("passwords"))
            .args([USER, PASSWORD])
            .status()
            .unwrap();
        assert!(status.success());
        let config = dir.join("mosquitto.conf");
        let mut file = std::fs::File::create(&config).unwrap();
        writeln!(
            file,
            "listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {}\npersistence false",
            dir.join("passwords").display()
        )
        .unwrap();
        drop(file);
        let child = Command::new(binary)
            .arg("-c")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let broker = Broker { child, port, dir };
        let until = Instant::now() + WAIT;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < until, "mosquitto did not listen on {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
        broker
    }

    fn url(&self) -> String {
        format!("mqtt://{USER}:{PASSWORD}@127.0.0.1:{}", self.port)
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A second client: every message on its subscription, with its retain flag.
struct Watcher {
    _client: Client,
    messages: mpsc::Receiver<(String, String, bool)>,
}

impl Watcher {
    /// Subscribed (acknowledged) to `filter` when it returns.
    fn subscribe(port: u16, filter: &str) -> Watcher {
        let id = format!("watcher-{}-{}", std::process::id(), free_port());
        let mut options = MqttOptions::new(id, "127.0.0.1", port);
        options.set_credentials(USER, PASSWORD);
        let (client, mut connection) = Client::new(options, 64);
        client.subscribe(filter, QoS::AtLeastOnce).unwrap();
        let (tx, rx) = mpsc::channel();
        let (subscribed_tx, subscribed) = mpsc::channel();
        std::thread::spawn(move || {
            for event in connection.iter() {
                match event {
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        let _ = subscribed_tx.send(());
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let payload = String::from_utf8_lossy(&p.payload).into_owned();
                        if tx.send((p.topic, payload, p.retain)).is_err() {
                            break;
                        }
                    }
                    Ok(_) => {}
                    // One connection per watcher: no reconnecting loop.
                    Err(_) => break,
                }
            }
        });
        subscribed
            .recv_timeout(WAIT)
            .expect("subscription acknowledged");
        Watcher {
            _client: client,
            messages: rx,
        }
    }

    /// Messages until `done` says the collected ones are enough (panics past [`WAIT`]).
    fn until(
        &self,
        mut done: impl FnMut(&[(String, String, bool)]) -> bool,
    ) -> Vec<(String, String, bool)> {
        let until = Instant::now() + WAIT;
        let mut seen = Vec::new();
        while !done(&seen) {
            let left = until.saturating_duration_since(Instant::now());
            match self.messages.recv_timeout(left) {
                Ok(message) => seen.push(message),
                Err(_) => panic!("not seen in {WAIT:?}; seen: {seen:#?}"),
            }
        }
        seen
    }

    /// What arrives until a quiet half second (the broker sends the retained ones at once).
    fn drain(&self) -> Vec<(String, String, bool)> {
        let until = Instant::now() + WAIT;
        let mut seen = Vec::new();
        while Instant::now() < until {
            match self.messages.recv_timeout(Duration::from_millis(500)) {
                Ok(message) => seen.push(message),
                Err(_) => break,
            }
        }
        seen
    }
}

/// A child's standard error, line by line as it comes, kept whole for the end.
struct Lines {
    lines: mpsc::Receiver<String>,
    all: Vec<String>,
}

impl Lines {
    fn of(pipe: impl Read + Send + 'static) -> Lines {
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Lines {
            lines,
            all: Vec::new(),
        }
    }

    /// The first line (from now) that `f` takes, bounded by [`WAIT`].
    fn find<T>(&mut self, mut f: impl FnMut(&str) -> Option<T>) -> T {
        let until = Instant::now() + WAIT;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("not said in {WAIT:?}: {:#?}", self.all));
            self.all.push(line.clone());
            if let Some(found) = f(&line) {
                return found;
            }
        }
    }

    /// Everything said, once the child ended (its pipe closed).
    fn rest(mut self) -> String {
        while let Ok(line) = self.lines.recv_timeout(WAIT) {
            self.all.push(line);
        }
        self.all.join("\n")
    }
}

/// Reads a pipe to its end on a thread (the child must never block on a full pipe).
fn drain(pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut pipe = pipe;
        let mut all = Vec::new();
        let _ = pipe.read_to_end(&mut all);
        all
    })
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn watch_of_a_capture_publishes_discovery_and_states_and_its_death_is_marked_offline() {
    let Some(binary) = mosquitto() else { return };
    let broker = Broker::start(&binary);
    let status = Watcher::subscribe(broker.port, "sunpower/status");
    let states = Watcher::subscribe(broker.port, "sunpower/+/+/state");
    let mut child = Command::new(env!("CARGO_BIN_EXE_sunpower"))
        .args([
            "watch",
            "--capture",
            "-",
            "--tz",
            "UTC",
            "--mqtt",
            &broker.url(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = Lines::of(child.stderr.take().unwrap());
    // The whole capture, its standard input left open: the run goes on until killed.
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&std::fs::read(SAMPLE).unwrap()).unwrap();
    stdin.flush().unwrap();

    status.until(|seen| seen.iter().any(|(_, p, _)| p == "online"));
    // States of an inverter, both meters' two parts and the supervisor.
    let topics = [
        "sunpower/414051637000000/130/state",
        "sunpower/PVS5M540123c/140/state",
        "sunpower/PVS5M540123c/141/state",
        "sunpower/PVS5M540123p/140/state",
        "sunpower/ZT163785000441C0593/120/state",
    ];
    let seen = states.until(|seen| {
        topics
            .iter()
            .all(|t| seen.iter().any(|(topic, _, _)| topic == t))
    });
    let inverter = seen
        .iter()
        .find(|(topic, _, _)| topic == topics[0])
        .map(|(_, payload, _)| json(payload))
        .unwrap();
    assert_eq!(inverter["serial"], "414051637000000");
    assert!(
        inverter["lifetime_energy_kwh"].as_f64().unwrap() > 2800.0,
        "{inverter}"
    );

    // Home Assistant starting now: the discovery configs are retained.
    let later = Watcher::subscribe(broker.port, "homeassistant/sensor/#");
    let configs: BTreeMap<String, Value> = later
        .drain()
        .into_iter()
        .map(|(topic, payload, retain)| {
            assert!(retain, "{topic} not retained");
            let config = json(&payload);
            (config["unique_id"].as_str().unwrap().to_owned(), config)
        })
        .collect();
    assert!(configs.len() > 100, "{}", configs.len());
    for config in configs.values() {
        for key in [
            "unique_id",
            "name",
            "state_topic",
            "state_class",
            "availability_topic",
        ] {
            assert!(config[key].is_string(), "{key} missing in {config}");
        }
        assert_eq!(config["availability_topic"], "sunpower/status");
        assert!(config["device"]["identifiers"][0].is_string(), "{config}");
    }
    let sensor = |unique_id: &str| -> (&Value, &Value, &Value, &Value) {
        let c = configs
            .get(unique_id)
            .unwrap_or_else(|| panic!("no sensor {unique_id}: {:?}", configs.keys()));
        (
            &c["device_class"],
            &c["state_class"],
            &c["unit_of_measurement"],
            &c["device"]["model"],
        )
    };
    let v = |s: &str| Value::from(s);
    assert_eq!(
        sensor("sunpower_414051637000000_lifetime_energy_kwh"),
        (
            &v("energy"),
            &v("total_increasing"),
            &v("kWh"),
            &v("AC_Module_Type_C")
        )
    );
    assert_eq!(
        sensor("sunpower_414051637000000_ac_power_kw"),
        (
            &v("power"),
            &v("measurement"),
            &v("kW"),
            &v("AC_Module_Type_C")
        )
    );
    // The consumption meter's net counter falls while exporting; the production one rises.
    assert_eq!(
        sensor("sunpower_PVS5M540123c_lifetime_net_energy_kwh"),
        (&v("energy"), &v("total"), &v("kWh"), &v("PVS5M0400c"))
    );
    assert_eq!(
        sensor("sunpower_PVS5M540123p_lifetime_net_energy_kwh"),
        (
            &v("energy"),
            &v("total_increasing"),
            &v("kWh"),
            &v("PVS5M0400p")
        )
    );
    assert_eq!(
        sensor("sunpower_PVS5M540123c_leg1_voltage_v"),
        (&v("voltage"), &v("measurement"), &v("V"), &v("PVS5M0400c"))
    );
    // The supervisor's uptime: a counter that restarts from zero at a reboot.
    assert_eq!(
        sensor("sunpower_ZT163785000441C0593_uptime_s"),
        (
            &v("duration"),
            &v("total_increasing"),
            &v("s"),
            &Value::Null
        )
    );

    // Killed: the broker publishes the last will.
    child.kill().unwrap();
    child.wait().unwrap();
    let seen = status.until(|seen| seen.iter().any(|(_, p, _)| p == "offline"));
    assert_eq!(seen.last().unwrap().0, "sunpower/status");
    drop(stdin);
    let out = String::from_utf8(stdout.join().unwrap()).unwrap();
    let err = stderr.rest();
    assert!(out.lines().count() > 5000, "{err}");
    assert!(
        err.contains(&format!("mqtt://{USER}:***@127.0.0.1:")),
        "{err}"
    );
    assert!(!out.contains(PASSWORD) && !err.contains(PASSWORD), "{err}");
}

#[test]
fn watch_of_a_capture_file_sends_every_state_before_it_exits_and_says_offline() {
    let Some(binary) = mosquitto() else { return };
    let broker = Broker::start(&binary);
    let status = Watcher::subscribe(broker.port, "sunpower/status");
    let output = common::sunpower_ok(
        &[
            "watch",
            "--capture",
            SAMPLE,
            "--tz",
            "UTC",
            "--mqtt",
            &broker.url(),
        ],
        None,
    );
    let rows = common::json_lines(&output);
    let err = String::from_utf8_lossy(&output.stderr);
    // A state per device record (inverters, meters, supervisor), every one acknowledged.
    let states = rows.iter().filter(|r| r.get("serial").is_some()).count();
    assert!(states > 4000, "{states}");
    assert!(
        err.contains(&format!(": {states} states published, ")),
        "{err}"
    );
    assert!(
        !err.contains("DROPPED") && !err.contains("NOT SENT"),
        "{err}"
    );
    assert!(!err.contains(PASSWORD), "{err}");
    // The clean stop says offline itself.
    let seen = status.until(|seen| seen.iter().any(|(_, p, _)| p == "offline"));
    assert!(seen.iter().any(|(_, p, _)| p == "online"), "{seen:?}");
}

#[test]
fn watch_goes_on_while_the_broker_is_down_and_says_what_was_not_sent() {
    // Nothing listens on this port.
    let url = format!("mqtt://{USER}:{PASSWORD}@127.0.0.1:{}", free_port());
    let output = common::sunpower_ok(
        &["watch", "--capture", SAMPLE, "--tz", "UTC", "--mqtt", &url],
        None,
    );
    let rows = common::json_lines(&output);
    let err = String::from_utf8_lossy(&output.stderr);
    // Every record written all the same.
    assert!(rows.len() > 5000, "{err}");
    // A state per device record (inverters, meters, supervisor), all still queued (the queue
    // holds 10,000), none published, none dropped.
    let states = rows.iter().filter(|r| r.get("serial").is_some()).count();
    assert!(states > 4000, "{states}");
    assert!(
        err.contains(": never connected, 0 states published, "),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            ", {states} NOT SENT (still queued at the stop); last error: "
        )),
        "{err}"
    );
    assert!(!err.contains("DROPPED"), "{err}");
    assert!(!err.contains(PASSWORD), "{err}");
}

#[test]
fn watch_serves_metrics_while_it_runs() {
    let mock = MockSupervisor::start(Firmware::Pvs6, Duration::from_secs(60));
    let host = format!("127.0.0.1:{}", mock.port());
    let mut child = Command::new(env!("CARGO_BIN_EXE_sunpower"))
        .args(["watch", "--host", &host, "--tz", "UTC", "--poll-every", "1"])
        .arg("--poll-faster-than-five-minutes-at-the-risk-of-the-supervisor")
        .args(["--timeout", "2", "--prometheus", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = drain(child.stdout.take().unwrap());
    let mut stderr = Lines::of(child.stderr.take().unwrap());
    let addr = stderr.find(|line| {
        line.strip_prefix("sunpower: Prometheus metrics on http://")
            .and_then(|rest| rest.strip_suffix("/metrics"))
            .map(str::to_owned)
    });
    assert!(!addr.ends_with(":0"), "{addr}");
    // Scraped until both inverters are there (bounded).
    let until = Instant::now() + WAIT;
    let scrape = loop {
        let mut stream = TcpStream::connect(&addr).unwrap();
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        let lines = body.lines().map(|l| Ok(l.to_owned()));
        let scrape = prometheus_parse::Scrape::parse(lines).unwrap();
        let inverters = scrape
            .samples
            .iter()
            .filter(|s| s.metric == "sunpower_inverter_lifetime_energy_joules_total")
            .count();
        if inverters == 2 {
            break scrape;
        }
        assert!(Instant::now() < until, "no inverters in {body}");
        std::thread::sleep(Duration::from_millis(100));
    };
    // Stopped as a service manager does; bounded.
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let until = Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > until {
            let _ = child.kill();
            panic!("watch still running {WAIT:?} after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let err = stderr.rest();
    assert!(status.success(), "{err}");
    let rows: Vec<Value> = String::from_utf8(stdout.join().unwrap())
        .unwrap()
        .lines()
        .map(json)
        .collect();
    // Each scraped inverter value is one of the values `watch` wrote for that inverter, in
    // joules.
    for sample in scrape
        .samples
        .iter()
        .filter(|s| s.metric == "sunpower_inverter_lifetime_energy_joules_total")
    {
        let serial = sample.labels.get("serial").unwrap();
        let prometheus_parse::Value::Counter(joules) = sample.value else {
            panic!("{sample:?}");
        };
        let written: Vec<f64> = rows
            .iter()
            .filter(|r| r["record_type"] == 130 && r["serial"] == serial)
            .map(|r| r["lifetime_energy_kwh"].as_f64().unwrap() * 3.6e6)
            .collect();
        assert!(
            written
                .iter()
                .any(|w| (w - joules).abs() < 1e-3 * w.abs().max(1.0)),
            "{serial}: {joules} J not among {written:?}"
        );
    }
    // The listener is closed at the stop.
    assert!(TcpStream::connect(&addr).is_err(), "{addr} still listening");
}
