//! The telemetry WebSocket's connection, sans-I/O: when to open it, when a silent one is dead.
//!
//! The firmware drops the socket about every ten minutes and sends only when values change (a
//! minute of silence at a steady midday is normal), so a drop is reconnected at once, a socket
//! silent for [`SILENCE`] is closed and reconnected, and only failures in a row back off. The
//! counters the frames carry are lifetime totals, so a reconnect loses no energy: the next
//! frame's counters cover the time without frames.

use chrono::{DateTime, TimeDelta, Utc};

/// A socket without a frame this long is taken as dead.
pub const SILENCE: TimeDelta = TimeDelta::seconds(90);

/// The first wait after a failed connection; each failure in a row doubles it.
const FIRST_RETRY: TimeDelta = TimeDelta::seconds(1);

/// The longest wait between connection attempts.
const MAX_RETRY: TimeDelta = TimeDelta::minutes(5);

/// What the adapter should do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkAction {
    /// Open the WebSocket (`ws://<pvs>:9002`); report [`TelemetryLink::connected`] or
    /// [`TelemetryLink::closed`].
    Connect,
    /// Close the socket: it has been silent for [`SILENCE`]; a reconnect follows.
    Close,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Down,
    Connecting,
    Up,
}

/// The telemetry socket's state: see the [module docs](self).
///
/// ```
/// use chrono::{TimeDelta, TimeZone, Utc};
/// use sunpower_proto::session::{LinkAction, TelemetryLink};
/// let mut link = TelemetryLink::new();
/// let t = Utc.with_ymd_and_hms(2026, 7, 1, 12, 0, 0).unwrap();
/// assert_eq!(link.next_action(t), Some(LinkAction::Connect));
/// link.connected(t);
/// link.frame(t + TimeDelta::seconds(5));
/// // Quiet for a minute: normal.
/// assert_eq!(link.next_action(t + TimeDelta::seconds(65)), None);
/// // Silent for 90 seconds after the last frame: closed, then reconnected.
/// assert_eq!(link.next_action(t + TimeDelta::seconds(95)), Some(LinkAction::Close));
/// link.closed(t + TimeDelta::seconds(95));
/// assert_eq!(link.next_action(t + TimeDelta::seconds(95)), Some(LinkAction::Connect));
/// ```
#[derive(Debug, Clone)]
pub struct TelemetryLink {
    state: State,
    /// When the socket was opened or last sent a frame.
    last_heard: Option<DateTime<Utc>>,
    /// When the next connection may be attempted.
    retry_at: Option<DateTime<Utc>>,
    /// Connections in a row that failed or gave no frame.
    failures: u32,
    /// Whether the socket in use has sent a frame.
    heard_since_connect: bool,
    /// How long a silent socket is kept.
    silence: TimeDelta,
}

impl Default for TelemetryLink {
    fn default() -> Self {
        TelemetryLink::new()
    }
}

impl TelemetryLink {
    /// A link not yet connected.
    pub fn new() -> TelemetryLink {
        TelemetryLink {
            state: State::Down,
            last_heard: None,
            retry_at: None,
            failures: 0,
            heard_since_connect: false,
            silence: SILENCE,
        }
    }

    /// A link that takes a socket silent for `silence` (at least a second) as dead instead of
    /// [`SILENCE`]: for tests that cannot wait 90 s, or a firmware known to be quieter.
    ///
    /// ```
    /// use chrono::{TimeDelta, TimeZone, Utc};
    /// use sunpower_proto::session::{LinkAction, TelemetryLink};
    /// let mut link = TelemetryLink::with_silence(TimeDelta::seconds(2));
    /// let t = Utc.with_ymd_and_hms(2026, 7, 1, 12, 0, 0).unwrap();
    /// assert_eq!(link.next_action(t), Some(LinkAction::Connect));
    /// link.connected(t);
    /// assert_eq!(link.next_action(t + TimeDelta::seconds(2)), Some(LinkAction::Close));
    /// ```
    pub fn with_silence(silence: TimeDelta) -> TelemetryLink {
        TelemetryLink {
            silence: silence.max(TimeDelta::seconds(1)),
            ..TelemetryLink::new()
        }
    }

    /// What to do at `now`, if anything.
    pub fn next_action(&mut self, now: DateTime<Utc>) -> Option<LinkAction> {
        match self.state {
            State::Down if self.retry_at.is_none_or(|at| now >= at) => {
                self.state = State::Connecting;
                Some(LinkAction::Connect)
            }
            State::Up if self.last_heard.is_some_and(|t| now - t >= self.silence) => {
                Some(LinkAction::Close)
            }
            _ => None,
        }
    }

    /// When to call [`TelemetryLink::next_action`] next: the retry time while down, the end of
    /// the allowed silence while up; `None` while a connection is being made.
    pub fn next_wakeup(&self) -> Option<DateTime<Utc>> {
        match self.state {
            State::Down => Some(self.retry_at.unwrap_or(DateTime::<Utc>::UNIX_EPOCH)),
            State::Up => self.last_heard.map(|t| t + self.silence),
            State::Connecting => None,
        }
    }

    /// The socket opened.
    pub fn connected(&mut self, now: DateTime<Utc>) {
        self.state = State::Up;
        self.last_heard = Some(now);
        self.heard_since_connect = false;
    }

    /// A frame came.
    pub fn frame(&mut self, now: DateTime<Utc>) {
        if self.state == State::Up {
            self.last_heard = Some(self.last_heard.map_or(now, |t| t.max(now)));
            self.heard_since_connect = true;
            self.failures = 0;
        }
    }

    /// The socket closed (dropped by the supervisor, closed after silence) or could not be
    /// opened. A socket that had sent frames is reconnected at once (the firmware's drop every
    /// ten minutes); one that never did counts as a failure, and failures in a row back off
    /// from 1 s, doubling, to 5 minutes.
    pub fn closed(&mut self, now: DateTime<Utc>) {
        let was_useful = self.state == State::Up && self.heard_since_connect;
        self.state = State::Down;
        self.heard_since_connect = false;
        if was_useful {
            self.failures = 0;
            self.retry_at = Some(now);
        } else {
            self.failures = self.failures.saturating_add(1);
            let doublings = self.failures.saturating_sub(1).min(16);
            let wait = (FIRST_RETRY * 2i32.pow(doublings)).min(MAX_RETRY);
            self.retry_at = Some(now + wait);
        }
    }
}
