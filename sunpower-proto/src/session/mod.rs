//! The local API as a sans-I/O session (feature `varserver`): it is told the time and handed
//! each response, and says which request to make next and when. No socket, no clock, no TLS:
//! an adapter (an HTTP client of the user's choice, an asyncio loop) sends the requests and
//! feeds back what came, and the session decides everything else: which source the supervisor
//! offers, logging in, polling no faster than the supervisor stands, logging in again when the
//! session cookie expires, backing off while the supervisor is down or answers nonsense.
//!
//! ```text
//!   identify   GET /cgi-bin/dl_cgi/supervisor/info          (no login: model, build, serial)
//!   varserver  GET /auth?login (basic auth) -> cookie, then each cycle
//!              GET /vars?match=inverter&fmt=obj, match=meter, match=livedata (+ ess,
//!              transfer_switch where the supervisor has them)
//!   devicelist GET /cgi-bin/dl_cgi?Command=DeviceList        (firmware before the varserver)
//! ```
//!
//! The source is the one the supervisor's model and build say (PVS6 from build 61840 and PVS5
//! from build 5408 have the varserver), and then the one it actually answers: a varserver
//! login that answers 404 falls back to the DeviceList, a DeviceList that answers 403 or 404
//! moves to the varserver.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use sunpower_proto::session::{Event, Purpose, Response, Session, SessionConfig};
//!
//! let mut session = Session::new(SessionConfig::default());
//! let now = Utc.with_ymd_and_hms(2026, 7, 1, 12, 0, 0).unwrap();
//! let request = session.next_request(now).unwrap();
//! assert_eq!((request.purpose, request.path.as_str()), (Purpose::Identify, "/cgi-bin/dl_cgi/supervisor/info"));
//! let info = br#"{"result":"succeed","supervisor":{"MODEL":"PVS6","SERIAL":"ZT01234567890ABCDEF","BUILD":61846}}"#;
//! session.handle_response(now, Response { status: 200, set_cookie: None, body: info });
//! assert!(matches!(session.poll_event(), Some(Event::Identified { .. })));
//! // Then the login, with the serial's last five characters as the password.
//! let login = session.next_request(now).unwrap();
//! assert_eq!((login.purpose, login.path.as_str()), (Purpose::Login, "/auth?login"));
//! // base64("ssm_owner:BCDEF")
//! assert_eq!(login.authorization.unwrap().expose(), "Basic c3NtX293bmVyOkJDREVG");
//! ```

mod secret;
mod telemetry_link;

use std::collections::VecDeque;

use chrono::{DateTime, TimeDelta, Utc};

use crate::document::DocumentLimits;
use crate::{
    parse_device_list_with, parse_supervisor_info, parse_vars_with, DeviceList, SupervisorInfo,
    Vars,
};

pub use secret::Secret;
pub use telemetry_link::{LinkAction, TelemetryLink, SILENCE};

/// The user of the varserver's login (`spwr_owner` before July 2025).
const LOGIN_USER: &str = "ssm_owner";

/// The floor under the poll interval: faster polling is reported to crash supervisors or wear
/// their flash (pypvs, ha-esunpower).
const POLL_FLOOR: TimeDelta = TimeDelta::seconds(300);

/// How a [`Session`] works. `Default`: poll every 300 s, back off from 30 s to 30 minutes, no
/// telemetry enabling, the serial from the supervisor's info.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SessionConfig {
    /// The supervisor's serial, whose last five characters are the login's password; taken
    /// from `/cgi-bin/dl_cgi/supervisor/info` when `None`.
    pub serial: Option<String>,
    /// Time between the starts of two poll cycles. Under 300 s it is raised to 300 s unless
    /// [`SessionConfig::poll_faster_than_five_minutes_at_the_risk_of_the_supervisor`] is set.
    pub poll_every: TimeDelta,
    /// Allows a `poll_every` under 300 s: supervisors polled that often have been reported to
    /// crash or wear their flash.
    pub poll_faster_than_five_minutes_at_the_risk_of_the_supervisor: bool,
    /// The first wait after a failure; each failure in a row doubles it.
    pub first_backoff: TimeDelta,
    /// The longest wait after failures.
    pub max_backoff: TimeDelta,
    /// Enables the telemetry WebSocket (`/vars?set=/sys/telemetryws/enable=1`, a write to the
    /// supervisor) after the login. Off unless asked for.
    pub enable_telemetry: bool,
    /// Limits of the documents decoded.
    pub limits: DocumentLimits,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            serial: None,
            poll_every: POLL_FLOOR,
            poll_faster_than_five_minutes_at_the_risk_of_the_supervisor: false,
            first_backoff: TimeDelta::seconds(30),
            max_backoff: TimeDelta::minutes(30),
            enable_telemetry: false,
            limits: DocumentLimits::default(),
        }
    }
}

impl SessionConfig {
    /// The poll interval in force: `poll_every`, not under 300 s unless the risk is accepted.
    ///
    /// ```
    /// use chrono::TimeDelta;
    /// use sunpower_proto::session::SessionConfig;
    /// let mut config = SessionConfig::default();
    /// config.poll_every = TimeDelta::seconds(60);
    /// assert_eq!(config.poll_interval(), TimeDelta::seconds(300));
    /// config.poll_faster_than_five_minutes_at_the_risk_of_the_supervisor = true;
    /// assert_eq!(config.poll_interval(), TimeDelta::seconds(60));
    /// ```
    pub fn poll_interval(&self) -> TimeDelta {
        let every = self.poll_every.max(TimeDelta::seconds(1));
        if self.poll_faster_than_five_minutes_at_the_risk_of_the_supervisor {
            every
        } else {
            every.max(POLL_FLOOR)
        }
    }
}

/// Which source the session reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// `/vars` after a login (PVS6 from build 61840, PVS5 from build 5408).
    Varserver,
    /// The DeviceList (firmware before the varserver), no login.
    DeviceList,
}

/// What a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Purpose {
    /// `/cgi-bin/dl_cgi/supervisor/info`: model, build, serial.
    Identify,
    /// `/auth?login`.
    Login,
    /// `/vars?set=/sys/telemetryws/enable=1`.
    EnableTelemetry,
    /// `/vars?match=...` of one device kind or the site totals.
    Poll(VarsQuery),
    /// The DeviceList.
    DeviceList,
}

/// The `/vars` queries of a poll cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum VarsQuery {
    /// `match=inverter`.
    Inverters,
    /// `match=meter`.
    Meters,
    /// `match=livedata`: the site totals.
    SiteTotals,
    /// `match=ess`: batteries, asked for while the supervisor has them.
    Batteries,
    /// `match=transfer_switch`, asked for while the supervisor has one.
    TransferSwitches,
}

impl VarsQuery {
    fn path(self) -> &'static str {
        match self {
            VarsQuery::Inverters => "/vars?match=inverter&fmt=obj",
            VarsQuery::Meters => "/vars?match=meter&fmt=obj",
            VarsQuery::SiteTotals => "/vars?match=livedata&fmt=obj",
            VarsQuery::Batteries => "/vars?match=/sys/devices/ess/&fmt=obj",
            VarsQuery::TransferSwitches => "/vars?match=/sys/devices/transfer_switch/&fmt=obj",
        }
    }
}

/// One HTTP GET to make, over HTTPS to the supervisor (its certificate is self-signed).
///
/// Its `Debug` shows no secret: the authorization and the cookie print as `<withheld>`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Request {
    /// What it is for; hand it back with the response (see [`Session::handle_response`]).
    pub purpose: Purpose,
    /// Path and query.
    pub path: String,
    /// The `Authorization` header's value, for the login.
    pub authorization: Option<Secret>,
    /// The `Cookie` header's value, for requests after the login.
    pub cookie: Option<Secret>,
}

/// What came back for the request in flight.
#[derive(Debug, Clone, Copy)]
pub struct Response<'a> {
    /// The HTTP status.
    pub status: u16,
    /// The `Set-Cookie` header, if there was one.
    pub set_cookie: Option<&'a str>,
    /// The body, whole.
    pub body: &'a [u8],
}

/// Why no response came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// No connection (refused, unreachable, DNS).
    Connect,
    /// The TLS handshake failed (or the certificate did not match its pin).
    Tls,
    /// No complete answer in time.
    Timeout,
    /// The connection closed before the answer was whole.
    Cut,
}

/// What the session found.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The supervisor's info was read, and the source chosen from it.
    Identified {
        /// The info (secrets withheld).
        info: Box<SupervisorInfo>,
        /// The source the session reads.
        source: Source,
    },
    /// The source changed because the supervisor did not answer the chosen one.
    SourceChanged {
        /// The source now read.
        source: Source,
        /// The status the other one answered.
        status: u16,
    },
    /// Logged in: a session cookie was received.
    LoggedIn,
    /// A `/vars` answer, decoded.
    Vars {
        /// Which query it answered.
        query: VarsQuery,
        /// The document.
        vars: Box<Vars>,
    },
    /// A DeviceList, decoded.
    DeviceList(Box<DeviceList>),
    /// Fewer inverters answered than the most seen (after a night restart the supervisor can
    /// list fewer until it has found them all): the next cycle asks for the device kinds
    /// again.
    InvertersMissing {
        /// Inverters in this answer.
        answered: usize,
        /// The most seen in one answer.
        expected: usize,
    },
    /// The telemetry WebSocket was enabled.
    TelemetryEnabled,
    /// The supervisor has no telemetry WebSocket (a PVS5 answers 400), or refused to enable it.
    TelemetryUnavailable {
        /// The status answered.
        status: u16,
    },
    /// A request failed; the session waits before trying again.
    Failed {
        /// What the request was for.
        purpose: Purpose,
        /// What went wrong: a status, an unreadable answer, a failure to connect.
        problem: String,
        /// When the session will try again.
        retry_at: DateTime<Utc>,
    },
}

/// Where the session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Identify,
    Login,
    EnableTelemetry,
    Poll,
}

/// The session: see the [module docs](self).
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    phase: Phase,
    source: Source,
    serial: Option<String>,
    cookie: Option<Secret>,
    /// The request sent and not yet answered.
    in_flight: Option<Purpose>,
    /// When the next request is due.
    due: Option<DateTime<Utc>>,
    /// The queries left in this cycle, in order, and when the cycle started.
    cycle: VecDeque<VarsQuery>,
    cycle_start: Option<DateTime<Utc>>,
    /// Failures in a row, for the back-off.
    failures: u32,
    /// The login was retried once after a 401/403 on a poll.
    relogged: bool,
    /// The optional kinds the supervisor has (`None`: ask).
    has_batteries: Option<bool>,
    has_transfer_switches: Option<bool>,
    most_inverters: usize,
    telemetry_asked: bool,
    /// Events not yet taken; at most a few per response.
    events: VecDeque<Event>,
}

impl Session {
    /// A session that starts by identifying the supervisor.
    pub fn new(config: SessionConfig) -> Session {
        Session {
            serial: config.serial.clone(),
            config,
            phase: Phase::Identify,
            source: Source::Varserver,
            cookie: None,
            in_flight: None,
            due: None,
            cycle: VecDeque::new(),
            cycle_start: None,
            failures: 0,
            relogged: false,
            has_batteries: None,
            has_transfer_switches: None,
            most_inverters: 0,
            telemetry_asked: false,
            events: VecDeque::new(),
        }
    }

    /// The source being read.
    pub fn source(&self) -> Source {
        self.source
    }

    /// When [`Session::next_request`] will next give a request: `None` while one is in flight.
    pub fn next_wakeup(&self) -> Option<DateTime<Utc>> {
        match self.in_flight {
            Some(_) => None,
            None => Some(self.due.unwrap_or(DateTime::<Utc>::MIN_UTC)),
        }
    }

    /// The request to make at `now`, if one is due and none is in flight. Its answer goes to
    /// [`Session::handle_response`] or [`Session::handle_failure`].
    pub fn next_request(&mut self, now: DateTime<Utc>) -> Option<Request> {
        if self.in_flight.is_some() || self.due.is_some_and(|due| now < due) {
            return None;
        }
        if self.phase == Phase::Login && self.serial.is_none() {
            let problem = "no serial to log in with (the supervisor's info has none: give \
                           SessionConfig::serial)";
            self.fail(now, Purpose::Login, problem.to_owned());
            return None;
        }
        let (purpose, path) = match self.phase {
            Phase::Identify => (
                Purpose::Identify,
                "/cgi-bin/dl_cgi/supervisor/info".to_owned(),
            ),
            Phase::Login => (Purpose::Login, "/auth?login".to_owned()),
            Phase::EnableTelemetry => (
                Purpose::EnableTelemetry,
                "/vars?set=/sys/telemetryws/enable=1".to_owned(),
            ),
            Phase::Poll => match self.source {
                Source::DeviceList => (
                    Purpose::DeviceList,
                    "/cgi-bin/dl_cgi?Command=DeviceList".to_owned(),
                ),
                Source::Varserver => {
                    if self.cycle.is_empty() {
                        self.start_cycle(now);
                    }
                    let query = *self.cycle.front()?;
                    (Purpose::Poll(query), query.path().to_owned())
                }
            },
        };
        if self.phase == Phase::Poll && self.cycle_start.is_none() {
            self.cycle_start = Some(now);
        }
        self.in_flight = Some(purpose);
        let authorization = (purpose == Purpose::Login)
            .then(|| self.serial.as_deref().map(basic_auth))
            .flatten();
        let cookie = match purpose {
            Purpose::Identify | Purpose::Login | Purpose::DeviceList => None,
            _ => self.cookie.clone(),
        };
        Some(Request {
            purpose,
            path,
            authorization,
            cookie,
        })
    }

    /// The next event, oldest first.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Hands over the answer to the request in flight.
    pub fn handle_response(&mut self, now: DateTime<Utc>, response: Response<'_>) {
        let Some(purpose) = self.in_flight.take() else {
            return;
        };
        match (purpose, response.status) {
            (Purpose::Identify, 200) => match parse_supervisor_info(response.body) {
                Ok(info) => {
                    if self.serial.is_none() {
                        self.serial = info.serial.clone();
                    }
                    self.source = source_of(&info);
                    self.events.push_back(Event::Identified {
                        info: Box::new(info),
                        source: self.source,
                    });
                    self.succeeded(now);
                    self.after_identify();
                }
                Err(problem) => self.fail(now, purpose, format!("unreadable: {problem}")),
            },
            // No info page (some builds): the varserver is tried, then the DeviceList.
            (Purpose::Identify, 403 | 404) => {
                self.source = Source::Varserver;
                self.succeeded(now);
                self.after_identify();
            }
            (Purpose::Login, 200) => match response.set_cookie.and_then(session_cookie) {
                Some(cookie) => {
                    self.cookie = Some(cookie);
                    self.events.push_back(Event::LoggedIn);
                    self.succeeded(now);
                    self.phase = if self.config.enable_telemetry && !self.telemetry_asked {
                        Phase::EnableTelemetry
                    } else {
                        Phase::Poll
                    };
                }
                None => self.fail(
                    now,
                    purpose,
                    "a login answer without a session cookie".into(),
                ),
            },
            (Purpose::Login, 404) => self.switch_source(now, Source::DeviceList, 404),
            (Purpose::Login, status) => {
                self.fail(now, purpose, format!("the login was refused ({status})"))
            }
            (Purpose::EnableTelemetry, 200) => {
                self.telemetry_asked = true;
                self.events.push_back(Event::TelemetryEnabled);
                self.succeeded(now);
                self.phase = Phase::Poll;
            }
            (Purpose::EnableTelemetry, 401 | 403) => self.login_again(now, purpose, 401),
            (Purpose::EnableTelemetry, status) => {
                // A PVS5 answers 400: it has no WebSocket; polling goes on.
                self.telemetry_asked = true;
                self.events
                    .push_back(Event::TelemetryUnavailable { status });
                self.succeeded(now);
                self.phase = Phase::Poll;
            }
            (Purpose::Poll(query), 200) => {
                match parse_vars_with(response.body, &self.config.limits) {
                    Ok(vars) => {
                        self.vars_answered(query, &vars);
                        self.events.push_back(Event::Vars {
                            query,
                            vars: Box::new(vars),
                        });
                        self.cycle.pop_front();
                        self.succeeded(now);
                        self.relogged = false;
                        if self.cycle.is_empty() {
                            self.end_cycle();
                        }
                    }
                    Err(problem) => self.fail(now, purpose, format!("unreadable: {problem}")),
                }
            }
            (Purpose::Poll(_), status @ (401 | 403)) => self.login_again(now, purpose, status),
            (Purpose::DeviceList, 200) => {
                match parse_device_list_with(response.body, &self.config.limits) {
                    Ok(list) => {
                        self.events.push_back(Event::DeviceList(Box::new(list)));
                        self.succeeded(now);
                        self.cycle_start.get_or_insert(now);
                        self.end_cycle();
                    }
                    Err(problem) => self.fail(now, purpose, format!("unreadable: {problem}")),
                }
            }
            (Purpose::DeviceList, status @ (403 | 404)) => {
                self.switch_source(now, Source::Varserver, status)
            }
            (purpose, status) => self.fail(now, purpose, format!("answered {status}")),
        }
    }

    /// Says the request in flight got no answer.
    pub fn handle_failure(&mut self, now: DateTime<Utc>, failure: Failure) {
        if let Some(purpose) = self.in_flight.take() {
            let what = match failure {
                Failure::Connect => "no connection",
                Failure::Tls => "the TLS handshake failed",
                Failure::Timeout => "no answer in time",
                Failure::Cut => "the answer was cut",
            };
            self.fail(now, purpose, what.to_owned());
        }
    }

    fn after_identify(&mut self) {
        self.phase = match self.source {
            Source::Varserver => Phase::Login,
            Source::DeviceList => Phase::Poll,
        };
    }

    fn switch_source(&mut self, now: DateTime<Utc>, source: Source, status: u16) {
        if self.source == source {
            return self.fail(now, Purpose::Identify, format!("answered {status}"));
        }
        self.source = source;
        self.events
            .push_back(Event::SourceChanged { source, status });
        self.after_identify();
        self.due = Some(now);
    }

    /// A 401/403 after the login: the cookie expired. One login again, then back-off.
    fn login_again(&mut self, now: DateTime<Utc>, purpose: Purpose, status: u16) {
        self.cookie = None;
        if self.relogged {
            return self.fail(
                now,
                purpose,
                format!("refused after a new login ({status})"),
            );
        }
        self.relogged = true;
        self.phase = Phase::Login;
        self.due = Some(now);
    }

    fn start_cycle(&mut self, now: DateTime<Utc>) {
        self.cycle_start = Some(now);
        self.cycle.extend([
            VarsQuery::Inverters,
            VarsQuery::Meters,
            VarsQuery::SiteTotals,
        ]);
        if self.has_batteries != Some(false) {
            self.cycle.push_back(VarsQuery::Batteries);
        }
        if self.has_transfer_switches != Some(false) {
            self.cycle.push_back(VarsQuery::TransferSwitches);
        }
    }

    fn end_cycle(&mut self) {
        let start = self.cycle_start.take().unwrap_or(DateTime::<Utc>::MIN_UTC);
        self.due = Some(start + self.config.poll_interval());
    }

    fn vars_answered(&mut self, query: VarsQuery, vars: &Vars) {
        match query {
            VarsQuery::Inverters => {
                let answered = vars.devices.len();
                if answered < self.most_inverters {
                    self.events.push_back(Event::InvertersMissing {
                        answered,
                        expected: self.most_inverters,
                    });
                    // Ask again which optional kinds there are, as after a restart.
                    self.has_batteries = None;
                    self.has_transfer_switches = None;
                }
                self.most_inverters = self.most_inverters.max(answered);
            }
            VarsQuery::Batteries => self.has_batteries = Some(vars.entries > 0),
            VarsQuery::TransferSwitches => self.has_transfer_switches = Some(vars.entries > 0),
            VarsQuery::Meters | VarsQuery::SiteTotals => {}
        }
    }

    fn succeeded(&mut self, now: DateTime<Utc>) {
        self.failures = 0;
        self.due = Some(now);
    }

    fn fail(&mut self, now: DateTime<Utc>, purpose: Purpose, problem: String) {
        self.failures = self.failures.saturating_add(1);
        let doublings = self.failures.saturating_sub(1).min(20);
        let wait = (self.config.first_backoff * 2i32.pow(doublings.min(30)))
            .min(self.config.max_backoff)
            .max(TimeDelta::seconds(1));
        let retry_at = now + wait;
        self.due = Some(retry_at);
        // A failed poll starts its cycle again; a failed login or identify is retried as is.
        if let Purpose::Poll(_) = purpose {
            self.cycle.clear();
            self.cycle_start = None;
        }
        // Several failures in a row: identify again (the supervisor may have been replaced
        // or updated).
        if self.failures >= 4 && purpose != Purpose::Identify {
            self.phase = Phase::Identify;
            self.cookie = None;
        }
        self.events.push_back(Event::Failed {
            purpose,
            problem,
            retry_at,
        });
    }
}

/// The source a supervisor offers by its model and build.
fn source_of(info: &SupervisorInfo) -> Source {
    let model = info.model.as_deref().unwrap_or("").to_ascii_uppercase();
    match info.build {
        Some(build) if model.contains("PVS5") && build < 5408 => Source::DeviceList,
        Some(build) if model.contains("PVS6") && build < 61840 => Source::DeviceList,
        _ => Source::Varserver,
    }
}

/// `Basic base64(ssm_owner:<last five characters of the serial>)`.
fn basic_auth(serial: &str) -> Secret {
    let chars: Vec<char> = serial.trim().chars().collect();
    let password: String = chars[chars.len().saturating_sub(5)..].iter().collect();
    Secret::new(format!(
        "Basic {}",
        secret::base64(format!("{LOGIN_USER}:{password}").as_bytes())
    ))
}

/// The `name=value` of a `session` cookie in a `Set-Cookie` header.
fn session_cookie(header: &str) -> Option<Secret> {
    let pair = header.split(';').next()?.trim();
    let (name, value) = pair.split_once('=')?;
    (name.trim().eq_ignore_ascii_case("session") && !value.is_empty())
        .then(|| Secret::new(pair.to_owned()))
}
