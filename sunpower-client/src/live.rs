//! The session and the telemetry link driven by a clock: what `sunpower watch` runs.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use sunpower_proto::session::{
    Event, LinkAction, Purpose, Response, Session, SessionConfig, Source, TelemetryLink, SILENCE,
};
use sunpower_proto::{DocumentProblem, SiteTotals, TelemetryDecoder, TelemetryStats};

use crate::{ClientError, Fingerprint, Host, Supervisor, TelemetrySocket, TELEMETRY_PORT};

/// The time source: the wall clock ([`Utc::now`]) unless a test gives another.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// How a [`Live`] connection works.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LiveConfig {
    /// The supervisor.
    pub host: Host,
    /// The certificate's SHA-256 to accept; `None`: the first one seen is pinned.
    pub pin: Option<Fingerprint>,
    /// The longest one request may take (connection, handshake and whole answer), and one
    /// WebSocket connection.
    pub timeout: Duration,
    /// The session's settings (poll interval, back-off, enabling the telemetry).
    pub session: SessionConfig,
    /// Read the telemetry WebSocket (once logged in to the varserver).
    pub telemetry: bool,
    /// The WebSocket's port.
    pub telemetry_port: u16,
    /// A socket silent this long is closed and opened again.
    pub telemetry_silence: TimeDelta,
}

impl LiveConfig {
    /// The defaults for `host`: 20 s a request, the session's defaults, no telemetry, port
    /// 9002, 90 s of allowed silence.
    pub fn new(host: Host) -> LiveConfig {
        LiveConfig {
            host,
            pin: None,
            timeout: Duration::from_secs(20),
            session: SessionConfig::default(),
            telemetry: false,
            telemetry_port: TELEMETRY_PORT,
            telemetry_silence: SILENCE,
        }
    }
}

/// What happened.
#[derive(Debug)]
#[non_exhaustive]
pub enum LiveEvent {
    /// The supervisor's certificate was pinned (`first_seen`: taken from this connection, not
    /// given); reported once.
    Pinned {
        /// Its SHA-256.
        fingerprint: Fingerprint,
        /// Whether it was taken on first use.
        first_seen: bool,
    },
    /// What the session found (its `Failed` events follow a [`LiveEvent::RequestFailed`]).
    Session(Event),
    /// A request got no answer.
    RequestFailed {
        /// What it was for.
        purpose: Purpose,
        /// Why.
        error: ClientError,
    },
    /// A telemetry frame's site totals.
    Telemetry(SiteTotals),
    /// A telemetry frame that could not be decoded.
    TelemetryProblem(DocumentProblem),
    /// The telemetry socket opened.
    TelemetryConnected,
    /// The telemetry socket closed, or could not be opened.
    TelemetryClosed {
        /// Why.
        reason: String,
    },
}

/// A supervisor read live: see the [crate docs](crate).
///
/// ```no_run
/// use std::time::Duration;
/// use sunpower_client::{Live, LiveConfig, LiveEvent};
/// let mut live = Live::new(LiveConfig::new("172.27.153.1".parse().unwrap()));
/// loop {
///     for event in live.step(Duration::from_millis(500)) {
///         if let LiveEvent::Telemetry(site) = event {
///             println!("{:?} kW", site.pv_power_kw);
///         }
///     }
/// }
/// ```
pub struct Live {
    config: LiveConfig,
    clock: Clock,
    supervisor: Supervisor,
    session: Session,
    link: Option<TelemetryLink>,
    socket: Option<TelemetrySocket>,
    decoder: TelemetryDecoder,
    logged_in: bool,
    /// The supervisor refused to enable the telemetry (a PVS5): polls only.
    telemetry_unavailable: bool,
    pin_reported: bool,
}

impl fmt::Debug for Live {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Live")
            .field("config", &self.config)
            .field("supervisor", &self.supervisor)
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

impl Live {
    /// A connection on the wall clock.
    pub fn new(config: LiveConfig) -> Live {
        Live::with_clock(config, Arc::new(Utc::now))
    }

    /// A connection on another clock.
    pub fn with_clock(config: LiveConfig, clock: Clock) -> Live {
        Live {
            supervisor: Supervisor::new(&config.host, config.pin, config.timeout),
            session: Session::new(config.session.clone()),
            link: None,
            socket: None,
            decoder: TelemetryDecoder::new(),
            logged_in: false,
            telemetry_unavailable: false,
            pin_reported: false,
            config,
            clock,
        }
    }

    /// The session (its source).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The HTTPS client (its pin).
    pub fn supervisor(&self) -> &Supervisor {
        &self.supervisor
    }

    /// The telemetry frames' counts.
    pub fn telemetry_stats(&self) -> &TelemetryStats {
        self.decoder.stats()
    }

    /// Does what is due: one request, or opening or closing the socket, or reading a frame;
    /// else waits, at most `max_wait` (a request takes at most [`LiveConfig::timeout`]). Gives
    /// what happened; the memory kept does not grow with the run's length.
    pub fn step(&mut self, max_wait: Duration) -> Vec<LiveEvent> {
        let mut events = Vec::new();
        let now = (self.clock)();
        if let Some(request) = self.session.next_request(now) {
            match self.supervisor.send(&request) {
                Ok(answer) => {
                    let response = Response {
                        status: answer.status,
                        set_cookie: answer.set_cookie.as_ref().map(|c| c.expose()),
                        body: &answer.body,
                    };
                    self.session.handle_response((self.clock)(), response);
                }
                Err(error) => {
                    let failure = error.failure();
                    events.push(LiveEvent::RequestFailed {
                        purpose: request.purpose,
                        error,
                    });
                    self.session.handle_failure((self.clock)(), failure);
                }
            }
            if let (false, Some((fingerprint, first_seen))) =
                (self.pin_reported, self.supervisor.pinned())
            {
                self.pin_reported = true;
                events.insert(
                    0,
                    LiveEvent::Pinned {
                        fingerprint,
                        first_seen,
                    },
                );
            }
            self.session_events(&mut events);
            return events;
        }
        if self.telemetry_active() {
            let link = self
                .link
                .get_or_insert_with(|| TelemetryLink::with_silence(self.config.telemetry_silence));
            match link.next_action(now) {
                Some(LinkAction::Connect) => {
                    let addr = self.config.host.with_port(self.config.telemetry_port);
                    match TelemetrySocket::connect(&addr, self.config.timeout) {
                        Ok(socket) => {
                            link.connected((self.clock)());
                            self.socket = Some(socket);
                            events.push(LiveEvent::TelemetryConnected);
                        }
                        Err(e) => {
                            link.closed((self.clock)());
                            events.push(LiveEvent::TelemetryClosed {
                                reason: format!("could not connect: {e}"),
                            });
                        }
                    }
                    return events;
                }
                Some(LinkAction::Close) => {
                    if let Some(socket) = self.socket.take() {
                        socket.close();
                    }
                    link.closed(now);
                    events.push(LiveEvent::TelemetryClosed {
                        reason: format!(
                            "silent for {} s",
                            self.config.telemetry_silence.num_seconds()
                        ),
                    });
                    return events;
                }
                _ => {}
            }
        }
        let wakeups = [
            self.session.next_wakeup(),
            self.link.as_ref().and_then(TelemetryLink::next_wakeup),
        ];
        let mut wait = max_wait;
        for at in wakeups.into_iter().flatten() {
            wait = wait.min((at - now).to_std().unwrap_or(Duration::ZERO));
        }
        match &mut self.socket {
            Some(socket) => match socket.read_frame(wait) {
                Ok(Some(frame)) => {
                    if let Some(link) = &mut self.link {
                        link.frame((self.clock)());
                    }
                    match self.decoder.decode(&frame) {
                        Ok(Some(site)) => events.push(LiveEvent::Telemetry(site)),
                        Ok(None) => {}
                        Err(problem) => events.push(LiveEvent::TelemetryProblem(problem)),
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    self.socket = None;
                    if let Some(link) = &mut self.link {
                        link.closed((self.clock)());
                    }
                    events.push(LiveEvent::TelemetryClosed {
                        reason: e.to_string(),
                    });
                }
            },
            None => std::thread::sleep(wait),
        }
        events
    }

    fn telemetry_active(&self) -> bool {
        self.config.telemetry
            && self.logged_in
            && !self.telemetry_unavailable
            && self.session.source() == Source::Varserver
    }

    fn session_events(&mut self, events: &mut Vec<LiveEvent>) {
        while let Some(event) = self.session.poll_event() {
            match &event {
                Event::LoggedIn => self.logged_in = true,
                Event::TelemetryUnavailable { .. } => {
                    self.telemetry_unavailable = true;
                    self.socket = None;
                    self.link = None;
                }
                Event::SourceChanged {
                    source: Source::DeviceList,
                    ..
                } => {
                    self.socket = None;
                    self.link = None;
                }
                _ => {}
            }
            events.push(LiveEvent::Session(event));
        }
    }
}
