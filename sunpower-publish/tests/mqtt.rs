//! The MQTT publisher against a real broker: Mosquitto on 127.0.0.1, on a free port, one per
//! test, watched by a second client. Skipped, saying so, where Mosquitto is not installed
//! (scripts/test installs it).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rumqttc::{Client, Event, MqttOptions as ClientOptions, Packet, QoS};
use serde_json::Value;
use sunpower_publish::{MqttOptions, MqttPublisher, Stats};

/// Every wait of these tests ends by this.
const WAIT: Duration = Duration::from_secs(20);

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

/// A Mosquitto without persistence (a restart forgets retained messages, as the worst case).
struct Broker {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Broker {
    fn start(binary: &Path, port: u16) -> Broker {
        Broker::start_with(binary, port, "allow_anonymous true", None)
    }

    /// With `access` lines (`allow_anonymous`, `password_file`) and a user whose password file
    /// `mosquitto_passwd` writes.
    fn start_with(binary: &Path, port: u16, access: &str, user: Option<(&str, &str)>) -> Broker {
        let dir =
            std::env::temp_dir().join(format!("sunpower-publish-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("mosquitto.conf");
        let mut file = std::fs::File::create(&config).unwrap();
        writeln!(
            file,
            "listener {port} 127.0.0.1\n{access}\npersistence false"
        )
        .unwrap();
        drop(file);
        if let Some((user, password)) = user {
            let passwd = binary.with_file_name("mosquitto_passwd");
            let passwd = if passwd.is_file() {
                passwd
            } else {
                PathBuf::from("/usr/bin/mosquitto_passwd")
            };
            let status = Command::new(passwd)
                .args(["-b", "-c"])
                .arg(dir.join("passwords"))
                .args([user, password])
                .status()
                .unwrap();
            assert!(status.success());
        }
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
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A second client: every message on its subscriptions, with its retain flag.
struct Watcher {
    _client: Client,
    messages: mpsc::Receiver<(String, String, bool)>,
}

impl Watcher {
    /// Subscribed (acknowledged) to `filter` when it returns.
    fn subscribe(port: u16, filter: &str) -> Watcher {
        Watcher::subscribe_as(port, filter, None)
    }

    fn subscribe_as(port: u16, filter: &str, user: Option<(&str, &str)>) -> Watcher {
        let id = format!("watcher-{}-{}", std::process::id(), free_port());
        let mut options = ClientOptions::new(id, "127.0.0.1", port);
        if let Some((user, password)) = user {
            options.set_credentials(user, password);
        }
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

    /// The retained messages of its subscription, by topic: what arrives within a short quiet
    /// time after subscribing (the broker sends them all at once).
    fn retained(&self, expected: usize) -> BTreeMap<String, String> {
        let seen = self.until(|seen| seen.len() >= expected);
        let mut retained: BTreeMap<String, String> = BTreeMap::new();
        for (topic, payload, retain) in seen {
            assert!(retain, "{topic} was not retained");
            retained.insert(topic, payload);
        }
        // Anything beyond the expected count, briefly.
        while let Ok((topic, payload, _)) = self.messages.recv_timeout(Duration::from_millis(300)) {
            retained.insert(topic, payload);
        }
        retained
    }
}

fn options() -> MqttOptions {
    let mut options = MqttOptions::default();
    options.client_id = format!("publisher-{}-{}", std::process::id(), free_port());
    options.reconnect_min = Duration::from_millis(100);
    options.reconnect_max = Duration::from_millis(800);
    options
}

fn wait_for(publisher: &MqttPublisher, what: &str, done: impl Fn(&Stats) -> bool) -> Stats {
    let until = Instant::now() + WAIT;
    loop {
        let stats = publisher.stats();
        if done(&stats) {
            return stats;
        }
        assert!(Instant::now() < until, "{what}: {stats:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// An inverter's record (130) with its serial and energy.
fn inverter(serial: u32, energy: f64) -> String {
    format!("130\t20260601170000\tE00{serial:012}\tAC_Module_Type_C\t\t{energy}\t0.0417\t245.1\t0.36\t0.044\t59.1\t0.77\t1.25\t59.98\t0")
}

fn publish_inverter(publisher: &MqttPublisher, serial: u32, energy: f64) {
    let line = inverter(serial, energy);
    publisher.publish_record(&sunpower_proto::parse_line(&line).unwrap());
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn discovery_configs_states_and_availability_are_what_home_assistant_requires() {
    let Some(binary) = mosquitto() else { return };
    let broker = Broker::start(&binary, free_port());
    let publisher = MqttPublisher::start(&broker.url(), options()).unwrap();
    publish_inverter(&publisher, 1, 18.5466);
    let meter =
        "140\t20260601170000\tPVS5M508095p\tM\t125\t607\t0.7075\t0.753\t1.3836\t0.5104\t59.978\t0";
    publisher.publish_record(&sunpower_proto::parse_line(meter).unwrap());
    let mut site = sunpower_proto::SiteTotals::default();
    site.pv_energy_kwh = Some(40747.871094);
    site.net_energy_kwh = Some(-12.5);
    publisher.publish_site_totals(&site, "ZT01234567890");
    let stats = wait_for(&publisher, "3 states acknowledged", |s| s.published == 3);
    assert_eq!((stats.dropped, stats.queued, stats.connections), (0, 0, 1));
    assert!(stats.configs > 10, "{stats:?}");

    // A client that comes later (Home Assistant after a restart) finds it all retained.
    let watcher = Watcher::subscribe(broker.port, "#");
    let retained = watcher.retained(stats.configs + 3 + 1);
    assert_eq!(retained["sunpower/status"], "online");
    let configs: Vec<Value> = retained
        .iter()
        .filter(|(topic, _)| {
            topic.starts_with("homeassistant/sensor/") && topic.ends_with("/config")
        })
        .map(|(_, payload)| json(payload))
        .collect();
    assert_eq!(configs.len(), stats.configs);
    let mut unique_ids = std::collections::HashSet::new();
    for config in &configs {
        // What Home Assistant's MQTT sensor needs for the energy dashboard.
        for key in [
            "unique_id",
            "state_topic",
            "state_class",
            "availability_topic",
            "value_template",
            "name",
        ] {
            assert!(config[key].is_string(), "{key} missing in {config}");
        }
        assert!(unique_ids.insert(config["unique_id"].as_str().unwrap().to_owned()));
        assert_eq!(config["availability_topic"], "sunpower/status");
        let identifiers = config["device"]["identifiers"].as_array().unwrap();
        assert!(
            identifiers[0].as_str().unwrap().starts_with("sunpower_"),
            "{config}"
        );
        let state_topic = config["state_topic"].as_str().unwrap();
        assert!(
            retained.contains_key(state_topic),
            "no state on {state_topic}"
        );
    }
    let sensor = |unique_id: &str| {
        configs
            .iter()
            .find(|c| c["unique_id"] == unique_id)
            .unwrap_or_else(|| panic!("no sensor {unique_id}"))
    };
    let energy = sensor("sunpower_E00000000000001_lifetime_energy_kwh");
    assert_eq!(
        (
            &energy["device_class"],
            &energy["state_class"],
            &energy["unit_of_measurement"]
        ),
        (
            &Value::from("energy"),
            &Value::from("total_increasing"),
            &Value::from("kWh")
        )
    );
    assert_eq!(energy["device"]["model"], "AC_Module_Type_C");
    let power = sensor("sunpower_E00000000000001_ac_power_kw");
    assert_eq!(
        (
            &power["device_class"],
            &power["state_class"],
            &power["unit_of_measurement"]
        ),
        (
            &Value::from("power"),
            &Value::from("measurement"),
            &Value::from("kW")
        )
    );
    let net = sensor("sunpower_ZT01234567890_site_net_energy_kwh");
    assert_eq!(net["state_class"], "total");
    let state = json(&retained[energy["state_topic"].as_str().unwrap()]);
    assert_eq!(state["lifetime_energy_kwh"], 18.5466);
    assert_eq!(state["serial"], "E00000000000001");
    let site_state = json(&retained["sunpower/ZT01234567890_site/site/state"]);
    assert_eq!(site_state["pv_energy_kwh"], 40747.871094);

    // A new state of a known device: its state only, live.
    let live = Watcher::subscribe(broker.port, "sunpower/+/130/state");
    live.until(|seen| !seen.is_empty()); // the retained one
    publish_inverter(&publisher, 1, 18.75);
    let seen = live.until(|seen| seen.iter().any(|(_, p, _)| p.contains("18.75")));
    assert_eq!(seen.last().unwrap().0, "sunpower/E00000000000001/130/state");

    // A clean stop says offline itself.
    let status = Watcher::subscribe(broker.port, "sunpower/status");
    status.until(|seen| seen.iter().any(|(_, p, _)| p == "online"));
    let stats = publisher.shutdown(WAIT);
    assert_eq!((stats.published, stats.dropped, stats.queued), (4, 0, 0));
    status.until(|seen| seen.iter().any(|(_, p, _)| p == "offline"));
}

#[test]
fn a_publisher_dropped_without_disconnecting_is_marked_offline_by_its_last_will() {
    let Some(binary) = mosquitto() else { return };
    let broker = Broker::start(&binary, free_port());
    let publisher = MqttPublisher::start(&broker.url(), options()).unwrap();
    publish_inverter(&publisher, 2, 1.0);
    wait_for(&publisher, "published", |s| s.published == 1);
    let status = Watcher::subscribe(broker.port, "sunpower/status");
    status.until(|seen| seen.iter().any(|(_, p, _)| p == "online"));
    drop(publisher);
    let seen = status.until(|seen| seen.iter().any(|(_, p, _)| p == "offline"));
    assert_eq!(seen.last().unwrap().0, "sunpower/status");
    // Retained: Home Assistant starting now sees it offline too.
    let later = Watcher::subscribe(broker.port, "sunpower/status");
    assert_eq!(later.retained(1)["sunpower/status"], "offline");
}

/// Run by [`a_killed_process_is_marked_offline_by_its_last_will`] as a child process of this
/// test binary (the variable names its broker's port); on its own it does nothing.
#[test]
fn child_publisher_process() {
    let Ok(port) = std::env::var("SUNPOWER_PUBLISH_TEST_CHILD_PORT") else {
        return;
    };
    let publisher = MqttPublisher::start(&format!("mqtt://127.0.0.1:{port}"), options()).unwrap();
    publish_inverter(&publisher, 3, 1.0);
    // Until killed (bounded all the same).
    std::thread::sleep(WAIT);
    drop(publisher);
}

#[test]
fn a_killed_process_is_marked_offline_by_its_last_will() {
    let Some(binary) = mosquitto() else { return };
    let broker = Broker::start(&binary, free_port());
    let status = Watcher::subscribe(broker.port, "sunpower/status");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_publisher_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SUNPOWER_PUBLISH_TEST_CHILD_PORT", broker.port.to_string())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    status.until(|seen| seen.iter().any(|(_, p, _)| p == "online"));
    child.kill().unwrap();
    child.wait().unwrap();
    status.until(|seen| seen.iter().any(|(_, p, _)| p == "offline"));
}

#[test]
fn a_broker_restart_loses_nothing_that_fits_the_queue_and_counts_the_rest() {
    let Some(binary) = mosquitto() else { return };
    let port = free_port();
    let mut broker = Broker::start(&binary, port);
    let mut options = options();
    options.queue_capacity = 8;
    let publisher = MqttPublisher::start(&broker.url(), options).unwrap();
    publish_inverter(&publisher, 0, 10.0);
    wait_for(&publisher, "first state", |s| s.published == 1);

    broker.stop();
    wait_for(&publisher, "broker gone", |s| !s.connected);
    for serial in 1..=12 {
        publish_inverter(&publisher, serial, 100.0 + f64::from(serial));
    }
    let stats = publisher.stats();
    assert_eq!((stats.queued, stats.dropped, stats.published), (8, 4, 1));
    assert!(stats.last_error.is_some());
    // Away for a while: several reconnection attempts fail.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(!publisher.stats().connected);

    // The broker comes back without its retained messages.
    let broker = Broker::start(&binary, port);
    let stats = wait_for(&publisher, "queue sent after the restart", |s| {
        s.published == 9 && s.queued == 0
    });
    assert_eq!((stats.dropped, stats.connections), (4, 2));
    let watcher = Watcher::subscribe(broker.port, "#");
    let retained = watcher.retained(stats.configs + 8 + 1);
    assert_eq!(retained["sunpower/status"], "online");
    for serial in 0..=12 {
        let state = retained.get(&format!("sunpower/E00{serial:012}/130/state"));
        // The first went before the restart (and the broker forgot it), 1 to 4 were dropped.
        match serial {
            0..=4 => assert_eq!(state, None, "{serial}"),
            _ => assert_eq!(
                json(state.unwrap())["lifetime_energy_kwh"],
                100.0 + f64::from(serial)
            ),
        }
        // Every device's configs were sent again after the reconnect.
        let config =
            format!("homeassistant/sensor/sunpower_E00{serial:012}/lifetime_energy_kwh/config");
        assert!(retained.contains_key(&config), "{config}");
    }
    let stats = publisher.shutdown(WAIT);
    assert_eq!((stats.published, stats.dropped, stats.queued), (9, 4, 0));
}

/// The case: a minute without the broker while records go on coming (one a second, as a
/// busy telemetry stream gives them), then the broker back: every state that fit the queue is
/// delivered, none dropped, none twice.
#[test]
fn a_minute_without_the_broker_loses_nothing_that_fits_the_queue() {
    let Some(binary) = mosquitto() else { return };
    let port = free_port();
    let mut broker = Broker::start(&binary, port);
    let publisher = MqttPublisher::start(&broker.url(), options()).unwrap();
    publish_inverter(&publisher, 0, 1.0);
    wait_for(&publisher, "first state", |s| s.published == 1);

    broker.stop();
    wait_for(&publisher, "broker gone", |s| !s.connected);
    let away = Instant::now();
    let mut sent = 0;
    while away.elapsed() < Duration::from_secs(60) {
        sent += 1;
        publish_inverter(&publisher, 1 + sent % 30, f64::from(sent));
        std::thread::sleep(Duration::from_secs(1));
    }
    let stats = publisher.stats();
    assert!(!stats.connected);
    assert_eq!(
        (stats.queued, stats.dropped),
        (sent as usize, 0),
        "{stats:?}"
    );

    let broker = Broker::start(&binary, port);
    let stats = wait_for(&publisher, "queue sent after a minute away", |s| {
        s.queued == 0 && s.published == 1 + u64::from(sent)
    });
    assert_eq!((stats.dropped, stats.connections), (0, 2));
    // The last state of each of the 30 inverters, retained by the new broker.
    let watcher = Watcher::subscribe(broker.port, "sunpower/+/130/state");
    let retained = watcher.retained(30);
    for serial in 1..=30 {
        let last = (1..=sent).filter(|n| 1 + n % 30 == serial).max().unwrap();
        let state = &retained[&format!("sunpower/E00{serial:012}/130/state")];
        assert_eq!(
            json(state)["lifetime_energy_kwh"],
            f64::from(last),
            "{serial}"
        );
    }
    publisher.shutdown(WAIT);
}

#[test]
fn home_assistant_birth_message_gets_the_configs_sent_again() {
    let Some(binary) = mosquitto() else { return };
    let broker = Broker::start(&binary, free_port());
    let publisher = MqttPublisher::start(&broker.url(), options()).unwrap();
    publish_inverter(&publisher, 4, 1.0);
    wait_for(&publisher, "published", |s| s.published == 1);
    let topic = "homeassistant/sensor/sunpower_E00000000000004/lifetime_energy_kwh/config";
    let watcher = Watcher::subscribe(broker.port, topic);
    watcher.until(|seen| !seen.is_empty()); // the retained config
                                            // Another client clears the retained config, then Home Assistant says it started.
    let (client, mut connection) = Client::new(
        ClientOptions::new("home-assistant", "127.0.0.1", broker.port),
        16,
    );
    client.publish(topic, QoS::AtLeastOnce, true, "").unwrap();
    client
        .publish("homeassistant/status", QoS::AtLeastOnce, false, "online")
        .unwrap();
    std::thread::spawn(move || {
        let until = Instant::now() + WAIT;
        while Instant::now() < until && connection.recv_timeout(Duration::from_secs(1)).is_ok() {}
    });
    let seen = watcher.until(|seen| seen.len() >= 2);
    assert_eq!(seen[0].1, "", "the clearing");
    assert_eq!(
        json(&seen[1].1)["unique_id"],
        "sunpower_E00000000000004_lifetime_energy_kwh"
    );
    drop(client);
    drop(publisher);
}

#[test]
fn without_a_broker_shutdown_returns_within_its_bound_and_counts_what_was_not_sent() {
    // A port nobody listens on (no Mosquitto needed).
    let port = free_port();
    let url = format!("mqtt://owner:hunter2@127.0.0.1:{port}");
    let publisher = MqttPublisher::start(&url, options()).unwrap();
    publish_inverter(&publisher, 5, 1.0);
    let stats = wait_for(&publisher, "a failed attempt", |s| s.last_error.is_some());
    assert!(!stats.last_error.as_ref().unwrap().contains("hunter2"));
    assert!(!format!("{publisher:?}").contains("hunter2"));
    let started = Instant::now();
    let stats = publisher.shutdown(Duration::from_millis(300));
    assert!(started.elapsed() < WAIT, "{:?}", started.elapsed());
    assert_eq!(
        (
            stats.queued,
            stats.published,
            stats.connections,
            stats.connected
        ),
        (1, 0, 0, false)
    );
}

#[test]
fn credentials_of_the_url_log_in_and_a_refusal_never_shows_the_password() {
    let Some(binary) = mosquitto() else { return };
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("sunpower-publish-{}-{port}", std::process::id()));
    let access = format!(
        "allow_anonymous false\npassword_file {}",
        dir.join("passwords").display()
    );
    let broker = Broker::start_with(&binary, port, &access, Some(("owner", "s@cret:1")));
    // The password %-escaped in the URL.
    let url = format!("mqtt://owner:s%40cret%3A1@127.0.0.1:{port}");
    let publisher = MqttPublisher::start(&url, options()).unwrap();
    publish_inverter(&publisher, 6, 6.5);
    wait_for(&publisher, "published with credentials", |s| {
        s.published == 1
    });
    let watcher = Watcher::subscribe_as(
        broker.port,
        "sunpower/+/130/state",
        Some(("owner", "s@cret:1")),
    );
    let retained = watcher.retained(1);
    assert_eq!(
        json(&retained["sunpower/E00000000000006/130/state"])["lifetime_energy_kwh"],
        6.5
    );
    publisher.shutdown(WAIT);

    let wrong = format!("mqtt://owner:hunter2@127.0.0.1:{port}");
    let refused = MqttPublisher::start(&wrong, options()).unwrap();
    let stats = wait_for(&refused, "refused", |s| s.last_error.is_some());
    let error = stats.last_error.unwrap();
    // The broker's refusal (CONNACK's return code), not a closed port.
    assert!(error.contains("return code"), "{error}");
    assert!(!error.contains("hunter2"), "{error}");
    assert_eq!(stats.connections, 0);
}
