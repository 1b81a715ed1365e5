//! The MQTT publisher: [`sunpower_proto::homeassistant::Discovery`]'s messages sent to a broker
//! by `rumqttc`, with the [`Outbox`]'s policy, on a thread of its own.
//!
//! The thread drives the client's connection (connect, read acknowledgements, reconnect with
//! back-off); the caller's thread hands messages to the client directly when the broker is
//! connected and the window of messages in flight has room. Neither waits on the other except
//! for the short lock of the outbox.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rumqttc::{Client, Connection, Event, LastWill, Outgoing, Packet, QoS};
use sunpower_proto::homeassistant::{Discovery, AVAILABILITY_TOPIC};
use sunpower_proto::{Record, SiteTotals};

use crate::{Error, MqttUrl, Outbox, Stats};

/// The most messages handed to the client and not yet acknowledged (the client's own request
/// channel is sized for it, so handing one never blocks).
const WINDOW: usize = 64;

/// How a [`MqttPublisher`] connects and queues.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MqttOptions {
    /// The MQTT client id (`sunpower-rs-<process id>` by default); a broker disconnects an
    /// older client with the same id.
    pub client_id: String,
    /// Home Assistant's discovery prefix (`homeassistant`); its birth topic is
    /// `<prefix>/status`.
    pub discovery_prefix: String,
    /// The most states queued while the broker is away (10,000, a few MB); past it the oldest
    /// are dropped and counted.
    pub queue_capacity: usize,
    /// The MQTT keep-alive: a dead broker is noticed within about 1.5 times this, and the last
    /// will is published as long after the process dies.
    pub keep_alive: Duration,
    /// The first wait before reconnecting; it doubles after each failure up to
    /// `reconnect_max`.
    pub reconnect_min: Duration,
    /// The longest wait between reconnection attempts.
    pub reconnect_max: Duration,
}

impl Default for MqttOptions {
    fn default() -> MqttOptions {
        MqttOptions {
            client_id: format!("sunpower-rs-{}", std::process::id()),
            discovery_prefix: "homeassistant".to_owned(),
            queue_capacity: 10_000,
            keep_alive: Duration::from_secs(30),
            reconnect_min: Duration::from_millis(500),
            reconnect_max: Duration::from_secs(30),
        }
    }
}

struct Inner {
    outbox: Outbox,
    discovery: Discovery,
    /// `None` once stopping (see [`stop`]).
    client: Option<Client>,
    last_error: Option<String>,
    /// The connection's thread ended.
    stopped: bool,
}

struct Shared {
    inner: Mutex<Inner>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves counters, never broken invariants worth a
        // second panic.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Publishes records and site totals to an MQTT broker for Home Assistant (discovery configs,
/// states, availability), in the background.
///
/// `online` is published (retained) on `sunpower/status` at each connect, with `offline` as the
/// last will, so Home Assistant shows the sensors unavailable when the process dies or loses the
/// network. [`MqttPublisher::shutdown`] flushes the queue and says `offline` itself; dropping
/// the publisher without it closes the connection abruptly, and the broker publishes the will.
///
/// ```no_run
/// use std::time::Duration;
/// use sunpower_publish::{MqttOptions, MqttPublisher};
///
/// let publisher = MqttPublisher::start("mqtt://user:password@broker.lan", MqttOptions::default())?;
/// let line = "130\t20260601170000\t414051637009125\tAC_Module_Type_C\t\t18.5466\t0.0417";
/// publisher.publish_record(&sunpower_proto::parse_line(line).unwrap());
/// let stats = publisher.shutdown(Duration::from_secs(5));
/// println!("published {}, dropped {}", stats.published, stats.dropped);
/// # Ok::<(), sunpower_publish::Error>(())
/// ```
pub struct MqttPublisher {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for MqttPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MqttPublisher")
            .field("stats", &self.stats())
            .finish()
    }
}

impl MqttPublisher {
    /// Starts publishing to the broker of `url` (`mqtt://[USER[:PASSWORD]@]HOST[:PORT]`). It
    /// returns at once; the connection is made, and made again, in the background (see
    /// [`MqttPublisher::stats`]). An error only for a URL that cannot be used.
    pub fn start(url: &str, options: MqttOptions) -> Result<MqttPublisher, Error> {
        let url: MqttUrl = url.parse()?;
        let mut mqtt = rumqttc::MqttOptions::new(&options.client_id, url.host(), url.port());
        mqtt.set_keep_alive(options.keep_alive.max(Duration::from_secs(1)));
        mqtt.set_clean_session(true);
        mqtt.set_inflight(WINDOW as u16 + 8);
        mqtt.set_last_will(LastWill::new(
            AVAILABILITY_TOPIC,
            "offline",
            QoS::AtLeastOnce,
            true,
        ));
        if let Some(user) = url.user() {
            mqtt.set_credentials(user, url.password().unwrap_or(""));
        }
        let (client, mut connection) = Client::new(mqtt, WINDOW + 16);
        // A broker that accepts the TCP connection but never answers is given up after this.
        let mut network = connection.eventloop.network_options();
        network.set_connection_timeout(10);
        connection.eventloop.set_network_options(network);

        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                outbox: Outbox::new(options.queue_capacity),
                discovery: Discovery::with_prefix(&options.discovery_prefix),
                client: Some(client),
                last_error: None,
                stopped: false,
            }),
            changed: Condvar::new(),
        });
        let thread = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("sunpower-mqtt".to_owned())
                .spawn(move || run(&shared, &mut connection, &options))
                .map_err(Error::Thread)?
        };
        Ok(MqttPublisher {
            shared,
            thread: Some(thread),
        })
    }

    /// Queues a record's messages: its device's discovery configs the first time, then its
    /// state. Records that are no device's (a post's header and trailer) give none. Never
    /// blocks on the network.
    pub fn publish_record(&self, record: &Record<'_>) {
        let mut inner = self.shared.lock();
        let messages = inner.discovery.record(record);
        for message in messages {
            inner.outbox.push(message);
        }
        pump(&mut inner);
    }

    /// Queues the site totals' messages, as the device of the supervisor `supervisor_serial`.
    pub fn publish_site_totals(&self, site: &SiteTotals, supervisor_serial: &str) {
        let mut inner = self.shared.lock();
        let messages = inner.discovery.site_totals(site, supervisor_serial);
        for message in messages {
            inner.outbox.push(message);
        }
        pump(&mut inner);
    }

    /// The counters: queued, in flight, published and dropped states, connections.
    pub fn stats(&self) -> Stats {
        stats(&self.shared.lock())
    }

    /// Waits up to `timeout` for the queue to be sent and acknowledged, then publishes
    /// `offline` and disconnects cleanly; the counters at the end (`queued` is what could not be
    /// sent in time). Returns within about `timeout` whether the broker answers or not.
    pub fn shutdown(mut self, timeout: Duration) -> Stats {
        let deadline = Instant::now() + timeout;
        let shared = Arc::clone(&self.shared);
        let mut inner = shared.lock();
        while !inner.outbox.is_flushed() && !inner.stopped {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            inner = shared
                .changed
                .wait_timeout(inner, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        let final_stats = stats(&inner);
        if inner.outbox.stats().connected {
            if let Some(client) = &inner.client {
                // The will is for deaths; a clean stop says it itself, then disconnects.
                let _ = client.try_publish(AVAILABILITY_TOPIC, QoS::AtLeastOnce, true, "offline");
                let _ = client.try_disconnect();
            }
            while !inner.stopped {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                inner = shared
                    .changed
                    .wait_timeout(inner, left)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
        }
        let stopped = inner.stopped;
        stop(&shared, &mut inner);
        drop(inner);
        if let Some(thread) = self.thread.take()
            && stopped
        {
            let _ = thread.join();
        }
        final_stats
    }
}

impl Drop for MqttPublisher {
    /// Without [`MqttPublisher::shutdown`]: the connection is closed without a word, so the
    /// broker publishes the last will (`offline`); the thread ends on its own.
    fn drop(&mut self) {
        let mut inner = self.shared.lock();
        stop(&self.shared, &mut inner);
    }
}

/// Ends the connection's thread: without a client it stops at its next event, which a last
/// request brings at once (the connection keeps a sender of its own, so dropping ours does not
/// wake it); one waiting to reconnect is woken.
fn stop(shared: &Shared, inner: &mut Inner) {
    if let Some(client) = inner.client.take() {
        let _ = client.try_unsubscribe(AVAILABILITY_TOPIC);
    }
    shared.changed.notify_all();
}

fn stats(inner: &Inner) -> Stats {
    Stats {
        last_error: inner.last_error.clone(),
        ..inner.outbox.stats()
    }
}

/// Hands the client every message due, as long as the window has room.
fn pump(inner: &mut Inner) {
    let Inner { outbox, client, .. } = inner;
    let Some(client) = client else { return };
    while let Some(message) = outbox.next(WINDOW) {
        if client
            .try_publish(
                message.topic,
                QoS::AtLeastOnce,
                message.retain,
                message.payload,
            )
            .is_err()
        {
            outbox.unsend();
            break;
        }
    }
}

/// The connection's thread: connect, read, reconnect with back-off, until the client is gone.
fn run(shared: &Shared, connection: &mut Connection, options: &MqttOptions) {
    let birth_topic = format!("{}/status", options.discovery_prefix.trim_end_matches('/'));
    let mut backoff = options.reconnect_min;
    loop {
        // Blocking without a timeout: cancelling the client's poll midway could lose a request.
        let Ok(event) = connection.recv() else {
            break;
        };
        let mut inner = shared.lock();
        if inner.client.is_none() {
            break;
        }
        match event {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                backoff = options.reconnect_min;
                inner.outbox.connected();
                if let Some(client) = &inner.client {
                    let _ = client.try_subscribe(birth_topic.as_str(), QoS::AtLeastOnce);
                }
                pump(&mut inner);
            }
            Ok(Event::Incoming(Packet::PubAck(_))) => {
                inner.outbox.acked();
                pump(&mut inner);
            }
            Ok(Event::Incoming(Packet::Publish(publish)))
                if publish.topic == birth_topic && publish.payload.as_ref() == b"online" =>
            {
                inner.outbox.birth();
                pump(&mut inner);
            }
            Ok(Event::Outgoing(Outgoing::Disconnect)) => break,
            Ok(_) => {}
            Err(error) => {
                inner.outbox.disconnected();
                inner.last_error = Some(error.to_string());
                shared.changed.notify_all();
                // Wait before the next attempt, woken early if stopping.
                let until = Instant::now() + backoff;
                while inner.client.is_some() {
                    let left = until.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    inner = shared
                        .changed
                        .wait_timeout(inner, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
                backoff = (backoff * 2).min(options.reconnect_max);
                if inner.client.is_none() {
                    break;
                }
            }
        }
        shared.changed.notify_all();
    }
    let mut inner = shared.lock();
    inner.stopped = true;
    if inner.outbox.stats().connected {
        inner.outbox.disconnected();
    }
    shared.changed.notify_all();
}
