//! `Session`: the library's sans-I/O session with a supervisor's local API, for an integration
//! that sends the requests with its own HTTP client (aiohttp in Home Assistant, requests,
//! httpx). Thin: every decision is the core's.

use std::sync::{Mutex, TryLockError};

use chrono::{DateTime, TimeDelta, Utc};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use sunpower_proto::session::{self, Failure, Purpose, Source, VarsQuery};

use crate::devicelist::DeviceList;
use crate::varserver::{SupervisorInfo, Vars};

fn purpose_name(purpose: Purpose) -> &'static str {
    match purpose {
        Purpose::Identify => "identify",
        Purpose::Login => "login",
        Purpose::EnableTelemetry => "enable_telemetry",
        Purpose::Poll(_) => "poll",
        Purpose::DeviceList => "devicelist",
        _ => "other",
    }
}

fn query_name(query: VarsQuery) -> &'static str {
    match query {
        VarsQuery::Inverters => "inverters",
        VarsQuery::Meters => "meters",
        VarsQuery::SiteTotals => "site_totals",
        VarsQuery::Batteries => "batteries",
        VarsQuery::TransferSwitches => "transfer_switches",
        _ => "other",
    }
}

fn source_name(source: Source) -> &'static str {
    match source {
        Source::Varserver => "varserver",
        Source::DeviceList => "devicelist",
        _ => "other",
    }
}

/// One HTTPS GET to send to the supervisor (self-signed certificate). `headers` carries the
/// login's `Authorization` or the session `Cookie` when there is one: send them, never log
/// them; `repr()` withholds them.
#[pyclass(module = "sunpower", name = "SessionRequest", frozen)]
pub struct SessionRequest {
    core: session::Request,
}

#[pymethods]
impl SessionRequest {
    /// `"identify"`, `"login"`, `"enable_telemetry"`, `"poll"` or `"devicelist"`.
    #[getter]
    fn purpose(&self) -> &'static str {
        purpose_name(self.core.purpose)
    }

    /// For a poll, what it asks for: `"inverters"`, `"meters"`, `"site_totals"`,
    /// `"batteries"`, `"transfer_switches"`; else `None`.
    #[getter]
    fn query(&self) -> Option<&'static str> {
        match self.core.purpose {
            Purpose::Poll(query) => Some(query_name(query)),
            _ => None,
        }
    }

    /// Path and query, such as `/vars?match=inverter&fmt=obj`.
    #[getter]
    fn path(&self) -> &str {
        &self.core.path
    }

    /// The headers to send: `Authorization` (the login) or `Cookie` (after it), or none.
    #[getter]
    fn headers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        if let Some(auth) = &self.core.authorization {
            dict.set_item("Authorization", auth.expose())?;
        }
        if let Some(cookie) = &self.core.cookie {
            dict.set_item("Cookie", cookie.expose())?;
        }
        Ok(dict)
    }

    fn __repr__(&self) -> String {
        // The secrets stay out: only whether there are any.
        let secret = match (&self.core.authorization, &self.core.cookie) {
            (Some(_), _) => ", Authorization withheld",
            (None, Some(_)) => ", Cookie withheld",
            (None, None) => "",
        };
        format!(
            "SessionRequest({}, {:?}{secret})",
            self.purpose(),
            self.core.path
        )
    }
}

/// What the session found: `kind` says which, and the attributes of that kind are set, the
/// others `None`.
#[pyclass(module = "sunpower", name = "SessionEvent", frozen, get_all)]
pub struct SessionEvent {
    /// `"identified"`, `"source_changed"`, `"logged_in"`, `"vars"`, `"devicelist"`,
    /// `"inverters_missing"`, `"telemetry_enabled"`, `"telemetry_unavailable"`, `"failed"`.
    kind: &'static str,
    /// identified, source_changed: `"varserver"` or `"devicelist"`.
    source: Option<&'static str>,
    /// identified: the supervisor's info (no secret in it).
    info: Option<Py<SupervisorInfo>>,
    /// vars: what was asked (`"inverters"`...) and the document.
    query: Option<&'static str>,
    vars: Option<Py<Vars>>,
    /// devicelist: the document.
    devicelist: Option<Py<DeviceList>>,
    /// source_changed, telemetry_unavailable: the status answered.
    status: Option<u16>,
    /// inverters_missing: inverters in this answer, and the most seen in one.
    answered: Option<usize>,
    expected: Option<usize>,
    /// failed: what the request was for, what went wrong, when the session tries again.
    purpose: Option<&'static str>,
    problem: Option<String>,
    retry_at: Option<DateTime<Utc>>,
}

impl SessionEvent {
    fn of_kind(kind: &'static str) -> SessionEvent {
        SessionEvent {
            kind,
            source: None,
            info: None,
            query: None,
            vars: None,
            devicelist: None,
            status: None,
            answered: None,
            expected: None,
            purpose: None,
            problem: None,
            retry_at: None,
        }
    }

    fn new(py: Python<'_>, event: session::Event) -> PyResult<SessionEvent> {
        use session::Event as E;
        Ok(match event {
            E::Identified { info, source } => SessionEvent {
                source: Some(source_name(source)),
                info: Some(Py::new(py, SupervisorInfo::from_core(*info))?),
                ..SessionEvent::of_kind("identified")
            },
            E::SourceChanged { source, status } => SessionEvent {
                source: Some(source_name(source)),
                status: Some(status),
                ..SessionEvent::of_kind("source_changed")
            },
            E::LoggedIn => SessionEvent::of_kind("logged_in"),
            E::Vars { query, vars } => SessionEvent {
                query: Some(query_name(query)),
                vars: Some(Py::new(py, Vars::new(py, *vars)?)?),
                ..SessionEvent::of_kind("vars")
            },
            E::DeviceList(list) => SessionEvent {
                devicelist: Some(Py::new(py, DeviceList::from_core(py, &list)?)?),
                ..SessionEvent::of_kind("devicelist")
            },
            E::InvertersMissing { answered, expected } => SessionEvent {
                answered: Some(answered),
                expected: Some(expected),
                ..SessionEvent::of_kind("inverters_missing")
            },
            E::TelemetryEnabled => SessionEvent::of_kind("telemetry_enabled"),
            E::TelemetryUnavailable { status } => SessionEvent {
                status: Some(status),
                ..SessionEvent::of_kind("telemetry_unavailable")
            },
            E::Failed {
                purpose,
                problem,
                retry_at,
            } => SessionEvent {
                purpose: Some(purpose_name(purpose)),
                problem: Some(problem),
                retry_at: Some(retry_at),
                ..SessionEvent::of_kind("failed")
            },
            _ => SessionEvent::of_kind("other"),
        })
    }
}

#[pymethods]
impl SessionEvent {
    fn __repr__(&self) -> String {
        match (&self.problem, self.query) {
            (Some(problem), _) => format!("SessionEvent(failed, {problem:?})"),
            (None, Some(query)) => format!("SessionEvent({}, {query})", self.kind),
            (None, None) => format!("SessionEvent({})", self.kind),
        }
    }
}

/// A session with a supervisor's local API, without I/O: ask it for the next request
/// (`next_request(now)`), send it with any HTTP client, hand the answer back
/// (`handle_response`, or `handle_failure` when none came), and sleep until `next_wakeup()`.
/// It identifies the supervisor, picks the varserver or the DeviceList, logs in, polls no
/// faster than every 300 s, logs in again when the cookie expires and backs off while the
/// supervisor is down. One thread at a time.
#[pyclass(module = "sunpower", name = "Session", frozen)]
pub struct Session {
    core: Mutex<session::Session>,
}

impl Session {
    fn with_core<T>(&self, f: impl FnOnce(&mut session::Session) -> T) -> PyResult<T> {
        match self.core.try_lock() {
            Ok(mut guard) => Ok(f(&mut guard)),
            Err(TryLockError::Poisoned(p)) => Ok(f(&mut p.into_inner())),
            Err(TryLockError::WouldBlock) => Err(PyRuntimeError::new_err(
                "this Session is being used by another thread",
            )),
        }
    }

    fn events(&self, py: Python<'_>) -> PyResult<Vec<SessionEvent>> {
        let events: Vec<session::Event> = self.with_core(|s| {
            let mut events = Vec::new();
            while let Some(event) = s.poll_event() {
                events.push(event);
            }
            events
        })?;
        events
            .into_iter()
            .map(|event| SessionEvent::new(py, event))
            .collect()
    }
}

#[pymethods]
impl Session {
    #[new]
    #[pyo3(signature = (
        *,
        serial = None,
        poll_every = 300.0,
        poll_faster_than_five_minutes_at_the_risk_of_the_supervisor = false,
        enable_telemetry = false,
    ))]
    fn new(
        serial: Option<String>,
        poll_every: f64,
        poll_faster_than_five_minutes_at_the_risk_of_the_supervisor: bool,
        enable_telemetry: bool,
    ) -> PyResult<Self> {
        if !(poll_every.is_finite() && poll_every >= 1.0) {
            return Err(PyValueError::new_err(format!(
                "poll_every must be at least 1 second, not {poll_every}"
            )));
        }
        let mut config = session::SessionConfig::default();
        config.serial = serial;
        config.poll_every = TimeDelta::milliseconds((poll_every * 1000.0) as i64);
        config.poll_faster_than_five_minutes_at_the_risk_of_the_supervisor =
            poll_faster_than_five_minutes_at_the_risk_of_the_supervisor;
        config.enable_telemetry = enable_telemetry;
        Ok(Session {
            core: Mutex::new(session::Session::new(config)),
        })
    }

    /// The request to send at `now` (an aware datetime), or `None` if none is due or one is
    /// waiting for its answer.
    fn next_request(&self, now: DateTime<Utc>) -> PyResult<Option<SessionRequest>> {
        Ok(self
            .with_core(|s| s.next_request(now))?
            .map(|core| SessionRequest { core }))
    }

    /// When a request will next be due; `None` while one waits for its answer.
    fn next_wakeup(&self) -> PyResult<Option<DateTime<Utc>>> {
        self.with_core(|s| s.next_wakeup().map(|t| t.max(DateTime::<Utc>::UNIX_EPOCH)))
    }

    /// The answer to the request sent: its status, body and `Set-Cookie` header. Returns what
    /// the session found.
    #[pyo3(signature = (now, status, body, set_cookie = None))]
    fn handle_response(
        &self,
        py: Python<'_>,
        now: DateTime<Utc>,
        status: u16,
        body: &Bound<'_, PyBytes>,
        set_cookie: Option<String>,
    ) -> PyResult<Vec<SessionEvent>> {
        let body = body.as_bytes();
        self.with_core(|s| {
            s.handle_response(
                now,
                session::Response {
                    status,
                    set_cookie: set_cookie.as_deref(),
                    body,
                },
            )
        })?;
        self.events(py)
    }

    /// No answer came: `"connect"`, `"tls"`, `"timeout"` or `"cut"`. Returns the events (a
    /// `failed` one, with `retry_at`).
    fn handle_failure(
        &self,
        py: Python<'_>,
        now: DateTime<Utc>,
        failure: &str,
    ) -> PyResult<Vec<SessionEvent>> {
        let failure = match failure {
            "connect" => Failure::Connect,
            "tls" => Failure::Tls,
            "timeout" => Failure::Timeout,
            "cut" => Failure::Cut,
            other => {
                return Err(PyValueError::new_err(format!(
                    "failure must be \"connect\", \"tls\", \"timeout\" or \"cut\", not {other:?}"
                )))
            }
        };
        self.with_core(|s| s.handle_failure(now, failure))?;
        self.events(py)
    }

    /// `"varserver"` or `"devicelist"`.
    #[getter]
    fn source(&self) -> PyResult<&'static str> {
        self.with_core(|s| source_name(s.source()))
    }

    fn __repr__(&self) -> PyResult<String> {
        Ok(format!("Session({})", self.source()?))
    }
}
