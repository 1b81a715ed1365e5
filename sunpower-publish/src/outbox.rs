//! What the MQTT publisher sends, in which order, and what it keeps while the broker is away:
//! the publisher's policy, sans-I/O (no socket, no clock), so that it is tested without a broker.
//!
//! - Discovery configs are kept (one per topic, the latest) and sent again after every connect
//!   and on Home Assistant's birth message, as Home Assistant may have restarted and a broker
//!   without persistence forgets retained messages when it restarts.
//! - States wait in a bounded queue; past its capacity the oldest is dropped and counted (the
//!   newest values are the ones worth showing).
//! - A message handed to the client stays "in flight" until the broker acknowledges it; when
//!   the connection drops, the states in flight go back to the front of the queue in their
//!   order, so a message that fits the queue is delivered (at least once), never lost.
//! - After a connect, `online` goes first, then the configs, then the states.
//!
//! ```
//! use sunpower_proto::homeassistant::Message;
//! use sunpower_publish::Outbox;
//!
//! let state = |n: u32| Message { topic: format!("sunpower/{n}/130/state"), payload: "{}".into(), retain: true };
//! let mut outbox = Outbox::new(2);
//! for n in 0..3 {
//!     outbox.push(state(n)); // the broker is away: 0 is dropped for 2
//! }
//! assert_eq!((outbox.stats().queued, outbox.stats().dropped), (2, 1));
//! outbox.connected();
//! assert_eq!(outbox.next(10).unwrap().payload, "online");
//! assert_eq!(outbox.next(10).unwrap().topic, "sunpower/1/130/state");
//! outbox.disconnected(); // unacknowledged: 1 goes back to the queue
//! outbox.connected();
//! let sent: Vec<_> = std::iter::from_fn(|| outbox.next(10)).map(|m| m.topic).collect();
//! assert_eq!(sent, ["sunpower/status", "sunpower/1/130/state", "sunpower/2/130/state"]);
//! ```

use std::collections::{HashMap, VecDeque};

use sunpower_proto::homeassistant::{Message, AVAILABILITY_TOPIC};

/// The most discovery configs kept for sending again (a home's few dozen devices have a few
/// hundred); past it a new config is still sent while connected, counted, not kept.
pub const MAX_CONFIGS: usize = 16_384;

/// The publisher's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// States waiting for the broker.
    pub queued: usize,
    /// Messages handed to the broker and not yet acknowledged.
    pub in_flight: usize,
    /// States the broker acknowledged.
    pub published: u64,
    /// States dropped because the queue was full (the oldest first).
    pub dropped: u64,
    /// Discovery configs kept for sending again.
    pub configs: usize,
    /// Discovery configs not kept (past [`MAX_CONFIGS`]): sent once, not again after a
    /// reconnect.
    pub configs_not_kept: u64,
    /// Successful connections to the broker (1 after the first; more after reconnects).
    pub connections: u64,
    /// Whether the broker is connected now.
    pub connected: bool,
    /// The last connection error (never a credential: it names the failure, not the URL).
    pub last_error: Option<String>,
}

/// What a message in flight was, to know what to do when it is acknowledged or lost.
#[derive(Debug)]
enum Sent {
    Online,
    Config(Message),
    State(Message),
}

/// The publisher's queues and counters (see the [module documentation](self)).
#[derive(Debug)]
pub struct Outbox {
    capacity: usize,
    /// The configs in the order first seen, and each topic's index in it.
    configs: Vec<Message>,
    config_index: HashMap<String, usize>,
    due_configs: VecDeque<Message>,
    states: VecDeque<Message>,
    in_flight: VecDeque<Sent>,
    online_due: bool,
    stats: Stats,
}

impl Outbox {
    /// An outbox whose queue holds at most `capacity` states (at least 1).
    pub fn new(capacity: usize) -> Outbox {
        Outbox {
            capacity: capacity.max(1),
            configs: Vec::new(),
            config_index: HashMap::new(),
            due_configs: VecDeque::new(),
            states: VecDeque::new(),
            in_flight: VecDeque::new(),
            online_due: false,
            stats: Stats::default(),
        }
    }

    /// Takes one message of [`sunpower_proto::homeassistant::Discovery`]: a discovery config
    /// (its topic ends in `/config`) is kept and sent while connected; any other message is a
    /// state, queued.
    pub fn push(&mut self, message: Message) {
        if message.topic.ends_with("/config") {
            match self.config_index.get(&message.topic) {
                Some(&i) => self.configs[i] = message.clone(),
                None if self.configs.len() < MAX_CONFIGS => {
                    self.config_index
                        .insert(message.topic.clone(), self.configs.len());
                    self.configs.push(message.clone());
                }
                None => self.stats.configs_not_kept += 1,
            }
            if self.stats.connected {
                self.due_configs.push_back(message);
            }
        } else {
            self.states.push_back(message);
            self.trim();
        }
    }

    /// The broker accepted the connection: `online`, every config, then the queue are due.
    pub fn connected(&mut self) {
        self.stats.connected = true;
        self.stats.connections += 1;
        self.online_due = true;
        self.due_configs = self.configs.iter().cloned().collect();
    }

    /// Home Assistant said `online` on its status topic (it started): every config is due again.
    pub fn birth(&mut self) {
        if self.stats.connected {
            self.due_configs = self.configs.iter().cloned().collect();
        }
    }

    /// The connection dropped: the states in flight go back to the front of the queue, in their
    /// order (the queue's oldest are dropped if it overflows); configs are sent again on the
    /// next connect.
    pub fn disconnected(&mut self) {
        self.stats.connected = false;
        self.online_due = false;
        self.due_configs.clear();
        for sent in self.in_flight.drain(..).rev() {
            if let Sent::State(message) = sent {
                self.states.push_front(message);
            }
        }
        self.trim();
    }

    /// The next message to hand to the client, now counted in flight; `None` while not
    /// connected, when nothing is due, or when `window` messages are in flight already.
    pub fn next(&mut self, window: usize) -> Option<Message> {
        if !self.stats.connected || self.in_flight.len() >= window {
            return None;
        }
        let (sent, message) = if self.online_due {
            self.online_due = false;
            let online = Message {
                topic: AVAILABILITY_TOPIC.to_owned(),
                payload: "online".to_owned(),
                retain: true,
            };
            (Sent::Online, online)
        } else if let Some(config) = self.due_configs.pop_front() {
            (Sent::Config(config.clone()), config)
        } else {
            let state = self.states.pop_front()?;
            (Sent::State(state.clone()), state)
        };
        self.in_flight.push_back(sent);
        Some(message)
    }

    /// The client could not take the message [`Outbox::next`] gave last: it is due again, first.
    pub fn unsend(&mut self) {
        match self.in_flight.pop_back() {
            Some(Sent::Online) => self.online_due = true,
            Some(Sent::Config(m)) => self.due_configs.push_front(m),
            Some(Sent::State(m)) => self.states.push_front(m),
            None => {}
        }
    }

    /// The broker acknowledged the oldest message in flight (QoS 1 acknowledgements come in
    /// order).
    pub fn acked(&mut self) {
        if let Some(Sent::State(_)) = self.in_flight.pop_front() {
            self.stats.published += 1;
        }
    }

    /// Whether everything due was sent and acknowledged.
    pub fn is_flushed(&self) -> bool {
        !self.online_due
            && self.due_configs.is_empty()
            && self.states.is_empty()
            && self.in_flight.is_empty()
    }

    /// The counters (`last_error` is the publisher's to fill).
    pub fn stats(&self) -> Stats {
        Stats {
            queued: self.states.len(),
            in_flight: self.in_flight.len(),
            configs: self.configs.len(),
            ..self.stats.clone()
        }
    }

    fn trim(&mut self) {
        while self.states.len() > self.capacity {
            self.states.pop_front();
            self.stats.dropped += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(n: u32) -> Message {
        Message {
            topic: format!("sunpower/{n}/130/state"),
            payload: format!("{{\"n\":{n}}}"),
            retain: true,
        }
    }

    fn config(n: u32, payload: &str) -> Message {
        Message {
            topic: format!("homeassistant/sensor/sunpower_{n}/ac_power_kw/config"),
            payload: payload.to_owned(),
            retain: true,
        }
    }

    fn drain(outbox: &mut Outbox) -> Vec<String> {
        std::iter::from_fn(|| outbox.next(usize::MAX))
            .map(|m| format!("{} {}", m.topic, m.payload))
            .collect()
    }

    #[test]
    fn nothing_is_sent_while_disconnected_and_overflow_drops_the_oldest() {
        let mut outbox = Outbox::new(3);
        for n in 0..5 {
            outbox.push(state(n));
        }
        assert_eq!(outbox.next(10), None);
        let stats = outbox.stats();
        assert_eq!((stats.queued, stats.dropped, stats.published), (3, 2, 0));
        outbox.connected();
        let sent = drain(&mut outbox);
        assert_eq!(
            sent,
            [
                "sunpower/status online",
                "sunpower/2/130/state {\"n\":2}",
                "sunpower/3/130/state {\"n\":3}",
                "sunpower/4/130/state {\"n\":4}",
            ]
        );
        for _ in 0..4 {
            outbox.acked();
        }
        assert!(outbox.is_flushed());
        assert_eq!(outbox.stats().published, 3);
    }

    #[test]
    fn configs_are_kept_latest_and_sent_again_after_each_connect_and_birth() {
        let mut outbox = Outbox::new(10);
        outbox.push(config(1, "a"));
        outbox.push(config(2, "b"));
        outbox.push(config(1, "a2"));
        outbox.push(state(1));
        outbox.connected();
        let first = drain(&mut outbox);
        assert_eq!(
            first,
            [
                "sunpower/status online",
                "homeassistant/sensor/sunpower_1/ac_power_kw/config a2",
                "homeassistant/sensor/sunpower_2/ac_power_kw/config b",
                "sunpower/1/130/state {\"n\":1}",
            ]
        );
        for _ in 0..4 {
            outbox.acked();
        }
        // A config seen while connected goes out at once.
        outbox.push(config(3, "c"));
        assert_eq!(
            drain(&mut outbox),
            ["homeassistant/sensor/sunpower_3/ac_power_kw/config c"]
        );
        outbox.acked();
        // Home Assistant restarted: every config again, no state.
        outbox.birth();
        assert_eq!(drain(&mut outbox).len(), 3);
        for _ in 0..3 {
            outbox.acked();
        }
        outbox.disconnected();
        outbox.connected();
        let again = drain(&mut outbox);
        assert_eq!(again.len(), 4, "{again:?}");
        assert_eq!(outbox.stats().connections, 2);
        assert_eq!(outbox.stats().configs, 3);
        // Configs are not states: none was published or dropped.
        assert_eq!((outbox.stats().published, outbox.stats().dropped), (1, 0));
    }

    #[test]
    fn states_in_flight_when_the_connection_drops_are_sent_again_in_order() {
        let mut outbox = Outbox::new(4);
        outbox.connected();
        for n in 0..3 {
            outbox.push(state(n));
        }
        assert_eq!(drain(&mut outbox).len(), 4);
        outbox.acked(); // online
        outbox.acked(); // state 0
        outbox.disconnected();
        assert_eq!(outbox.stats().queued, 2);
        outbox.push(state(3));
        outbox.push(state(4));
        outbox.push(state(5)); // capacity 4: the oldest (1) goes
        assert_eq!(outbox.stats().dropped, 1);
        outbox.connected();
        let sent = drain(&mut outbox);
        let states: Vec<_> = sent
            .iter()
            .skip(1)
            .map(|s| s.split(' ').next().unwrap())
            .collect();
        assert_eq!(
            states,
            [
                "sunpower/2/130/state",
                "sunpower/3/130/state",
                "sunpower/4/130/state",
                "sunpower/5/130/state"
            ]
        );
        for _ in 0..5 {
            outbox.acked();
        }
        assert_eq!(outbox.stats().published, 5);
        assert!(outbox.is_flushed());
    }

    #[test]
    fn the_window_bounds_the_messages_in_flight_and_unsend_puts_one_back_first() {
        let mut outbox = Outbox::new(10);
        outbox.connected();
        for n in 0..5 {
            outbox.push(state(n));
        }
        assert!(outbox.next(2).is_some());
        assert_eq!(outbox.next(2).unwrap().topic, "sunpower/0/130/state");
        assert_eq!(outbox.next(2), None);
        outbox.acked();
        outbox.unsend();
        assert_eq!(outbox.stats().in_flight, 0);
        assert_eq!(outbox.next(2).unwrap().topic, "sunpower/0/130/state");
    }

    #[test]
    fn configs_past_the_bound_are_counted_not_kept() {
        let mut outbox = Outbox::new(1);
        for n in 0..MAX_CONFIGS as u32 + 3 {
            outbox.push(config(n, "x"));
        }
        let stats = outbox.stats();
        assert_eq!((stats.configs, stats.configs_not_kept), (MAX_CONFIGS, 3));
    }
}
