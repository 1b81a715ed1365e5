//! A mock PV Supervisor (feature `mock`): its local API over HTTPS on 127.0.0.1 with a
//! self-signed certificate, basic auth and expiring cookie sessions, and its telemetry
//! WebSocket, for the live tests of `sunpower-client` and `sunpower watch`.
//!
//! What it answers follows the firmware: `/cgi-bin/dl_cgi/supervisor/info` without login;
//! `/auth?login` with `ssm_owner` and the serial's last five characters, a `session` cookie
//! that expires; `/vars?match=inverter|meter|livedata` with that cookie; the DeviceList on old
//! firmware (then `/auth` answers 404); on a PVS5 the telemetry enable answers 400 and there
//! is no WebSocket. Faults can be queued (a status, a slow or cut answer, a dropped
//! connection), the supervisor taken down, the sessions expired, the certificate changed, the
//! WebSocket dropped or silenced. Counters rise with the wall clock since the start, so that
//! the energy of any run is known.
//!
//! Every thread stops when the mock is dropped; every socket has a timeout.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

/// The serial every mock has; the login's password is its last five characters.
pub const SERIAL: &str = "ZT01234567890ABCDEF";

/// The login's password (the serial's last five characters).
pub const PASSWORD: &str = "BCDEF";

/// What the mock is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Firmware {
    /// A PVS6 on current firmware (build 61846): login, `/vars`, the WebSocket.
    Pvs6,
    /// A PVS6 whose info says a current build but which has no varserver (`/auth` answers
    /// 404): the DeviceList only.
    OldPvs6,
    /// A PVS5 (build 5408): login and `/vars`, but the telemetry enable answers 400 and there
    /// is no WebSocket.
    Pvs5,
}

/// A fault for the next request(s) whose path contains a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer this status (an empty body).
    Status(u16),
    /// Wait this long before answering (at most 30 s).
    Slow(Duration),
    /// Send the head and part of the body, then close.
    Cut,
    /// Close the connection after the TLS handshake, without an answer.
    Drop,
    /// Answer 200 with a body that is not JSON.
    Nonsense,
}

/// One request the mock answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    /// When, from the mock's start.
    pub at: Duration,
    /// Path and query.
    pub path: String,
    /// The status answered (0: none, the connection was dropped or cut).
    pub status: u16,
}

#[derive(Debug)]
struct State {
    firmware: Firmware,
    cookie_life: Duration,
    /// Live sessions: cookie value and when it ends.
    sessions: Vec<(String, Instant)>,
    /// Every cookie issued (to look for them in outputs).
    issued: Vec<String>,
    faults: VecDeque<(String, Fault)>,
    down: bool,
    log: Vec<Logged>,
    tls: Arc<ServerConfig>,
    cert: Vec<u8>,
    telemetry_enabled: bool,
    inverters: usize,
}

/// Most requests kept in the log.
const MAX_LOG: usize = 10_000;

struct Shared {
    state: Mutex<State>,
    stop: AtomicBool,
    start: Instant,
    /// Bumped to drop every open WebSocket.
    ws_generation: AtomicU64,
    ws_silent: AtomicBool,
    ws_every_ms: AtomicU64,
    /// Simulated seconds per real second (its times and counters), in thousandths.
    scale_milli: AtomicU64,
    /// The wall clock at the start (the simulated clock starts there too).
    start_wall: SystemTime,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Simulated seconds since the start: what the counters rise with.
    fn elapsed(&self) -> f64 {
        self.start.elapsed().as_secs_f64() * self.scale_milli.load(Ordering::SeqCst) as f64 / 1000.0
    }

    /// The simulated time now, in milliseconds since 1970.
    fn now_ms(&self) -> u64 {
        let start = self
            .start_wall
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        start + (self.elapsed() * 1000.0) as u64
    }
}

/// The mock: see the [module docs](self).
pub struct MockSupervisor {
    shared: Arc<Shared>,
    https: SocketAddr,
    ws: SocketAddr,
    threads: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for MockSupervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockSupervisor")
            .field("https", &self.https)
            .field("ws", &self.ws)
            .finish_non_exhaustive()
    }
}

/// A fresh self-signed certificate for 127.0.0.1 and its server configuration.
fn tls_config() -> (Arc<ServerConfig>, Vec<u8>) {
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "pvs6".into()])
        .expect("rcgen makes a certificate");
    let cert = certified.cert.der().to_vec();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring has TLS 1.2 and 1.3")
        .with_no_client_auth()
        .with_single_cert(vec![CertificateDer::from(cert.clone())], key)
        .expect("the certificate matches its key");
    (Arc::new(config), cert)
}

impl MockSupervisor {
    /// Starts a mock of `firmware` on two free ports of 127.0.0.1 (HTTPS and WebSocket), its
    /// sessions living `cookie_life`.
    pub fn start(firmware: Firmware, cookie_life: Duration) -> MockSupervisor {
        let (tls, cert) = tls_config();
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                firmware,
                cookie_life,
                sessions: Vec::new(),
                issued: Vec::new(),
                faults: VecDeque::new(),
                down: false,
                log: Vec::new(),
                tls,
                cert,
                telemetry_enabled: false,
                inverters: 2,
            }),
            stop: AtomicBool::new(false),
            start: Instant::now(),
            ws_generation: AtomicU64::new(0),
            ws_silent: AtomicBool::new(false),
            ws_every_ms: AtomicU64::new(100),
            scale_milli: AtomicU64::new(1000),
            start_wall: SystemTime::now(),
        });
        let https = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let ws = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let (https_addr, ws_addr) = (https.local_addr().unwrap(), ws.local_addr().unwrap());
        let threads = vec![
            spawn_acceptor(https, shared.clone(), serve_https),
            spawn_acceptor(ws, shared.clone(), serve_ws),
        ];
        MockSupervisor {
            shared,
            https: https_addr,
            ws: ws_addr,
            threads,
        }
    }

    /// The HTTPS port.
    pub fn port(&self) -> u16 {
        self.https.port()
    }

    /// The WebSocket port.
    pub fn ws_port(&self) -> u16 {
        self.ws.port()
    }

    /// The certificate served now (DER).
    pub fn certificate(&self) -> Vec<u8> {
        self.shared.state().cert.clone()
    }

    /// Serves a new self-signed certificate from now on.
    pub fn change_certificate(&self) {
        let (tls, cert) = tls_config();
        let mut state = self.shared.state();
        state.tls = tls;
        state.cert = cert;
    }

    /// Queues a fault for the next request whose path contains `path`.
    pub fn fault(&self, path: &str, fault: Fault) {
        self.shared
            .state()
            .faults
            .push_back((path.to_owned(), fault));
    }

    /// Takes the supervisor down (every connection closed at once) or brings it back.
    pub fn set_down(&self, down: bool) {
        self.shared.state().down = down;
    }

    /// Ends every session: the next request with a cookie is answered 401.
    pub fn expire_sessions(&self) {
        self.shared.state().sessions.clear();
    }

    /// How many inverters `/vars?match=inverter` lists (2 at the start).
    pub fn set_inverters(&self, n: usize) {
        self.shared.state().inverters = n;
    }

    /// Every cookie issued so far (`session=...`).
    pub fn cookies(&self) -> Vec<String> {
        self.shared.state().issued.clone()
    }

    /// Whether `/vars?set=/sys/telemetryws/enable=1` was received.
    pub fn telemetry_enabled(&self) -> bool {
        self.shared.state().telemetry_enabled
    }

    /// The requests answered so far (the last 10 000).
    pub fn log(&self) -> Vec<Logged> {
        self.shared.state().log.clone()
    }

    /// Drops every open WebSocket at once (no close frame), as the firmware does.
    pub fn drop_websockets(&self) {
        self.shared.ws_generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Stops or resumes the WebSocket's frames (the sockets stay open).
    pub fn set_websocket_silent(&self, silent: bool) {
        self.shared.ws_silent.store(silent, Ordering::SeqCst);
    }

    /// The time between two telemetry frames (100 ms at the start).
    pub fn set_websocket_every(&self, every: Duration) {
        let ms = every.as_millis().clamp(1, 60_000) as u64;
        self.shared.ws_every_ms.store(ms, Ordering::SeqCst);
    }

    /// Runs the mock's clock (the times it reports, and so its counters) `scale` times faster
    /// than the wall clock from its start: a run of seconds covers several intervals. Set it
    /// before the first request.
    pub fn set_time_scale(&self, scale: f64) {
        let milli = (scale * 1000.0).clamp(1.0, 1e9) as u64;
        self.shared.scale_milli.store(milli, Ordering::SeqCst);
    }

    /// The production counter (kWh) at `elapsed` simulated seconds after the start (3 kW):
    /// what `pv_en` and the inverters' sum say.
    pub fn production_kwh(elapsed: f64) -> f64 {
        5000.0 + elapsed * 3.0 / 3600.0
    }

    /// The site's net counter (kWh) at `elapsed` simulated seconds (1 kW imported): what
    /// `net_en` and the meter say.
    pub fn net_kwh(elapsed: f64) -> f64 {
        3000.0 + elapsed / 3600.0
    }
}

impl Drop for MockSupervisor {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// Accepts connections until the stop, each served on its own thread (which ends within its
/// socket's timeouts or at the stop).
fn spawn_acceptor(
    listener: TcpListener,
    shared: Arc<Shared>,
    serve: fn(TcpStream, &Shared),
) -> JoinHandle<()> {
    listener
        .set_nonblocking(true)
        .expect("a non-blocking listener");
    thread::spawn(move || {
        let mut workers: Vec<JoinHandle<()>> = Vec::new();
        while !shared.stop.load(Ordering::SeqCst) {
            match listener.accept() {
                Ok((stream, _)) => {
                    let _ = stream.set_nonblocking(false);
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                    let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
                    let shared = shared.clone();
                    workers.retain(|w| !w.is_finished());
                    workers.push(thread::spawn(move || serve(stream, &shared)));
                }
                Err(_) => thread::sleep(Duration::from_millis(10)),
            }
        }
        for worker in workers {
            let _ = worker.join();
        }
    })
}

/// Reads a request's head (at most 16 KiB): the path and the headers asked for.
fn read_head(stream: &mut impl Read) -> Option<(String, Vec<(String, String)>)> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 || stream.read(&mut byte).ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8(head).ok()?;
    let mut lines = text.split("\r\n");
    let path = lines.next()?.split(' ').nth(1)?.to_owned();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Some((path, headers))
}

fn serve_https(stream: TcpStream, shared: &Shared) {
    let tls = {
        let state = shared.state();
        if state.down {
            // Down: the connection closes before the handshake.
            return;
        }
        state.tls.clone()
    };
    let Ok(conn) = ServerConnection::new(tls) else {
        return;
    };
    let mut tls = StreamOwned::new(conn, stream);
    let Some((path, headers)) = read_head(&mut tls) else {
        return;
    };
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let fault = {
        let mut state = shared.state();
        let at = state
            .faults
            .iter()
            .position(|(p, _)| path.contains(p.as_str()));
        at.and_then(|i| state.faults.remove(i)).map(|(_, f)| f)
    };
    let (status, set_cookie, body) = match fault {
        Some(Fault::Status(status)) => (status, None, String::new()),
        Some(Fault::Nonsense) => (200, None, "<html>busy</html>".to_owned()),
        Some(Fault::Drop) => {
            log(shared, &path, 0);
            return;
        }
        Some(Fault::Cut) => {
            let _ = tls.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"/sys/");
            let _ = tls.flush();
            log(shared, &path, 0);
            return;
        }
        Some(Fault::Slow(wait)) => {
            let until = Instant::now() + wait.min(Duration::from_secs(30));
            while Instant::now() < until && !shared.stop.load(Ordering::SeqCst) {
                thread::sleep(Duration::from_millis(10));
            }
            answer(shared, &path, header("authorization"), header("cookie"))
        }
        None => answer(shared, &path, header("authorization"), header("cookie")),
    };
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        _ => "Error",
    };
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(cookie) = set_cookie {
        out.push_str(&format!("Set-Cookie: {cookie}; Path=/; HttpOnly\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&body);
    log(shared, &path, status);
    let _ = tls.write_all(out.as_bytes());
    let _ = tls.flush();
    tls.conn.send_close_notify();
    let _ = tls.flush();
}

fn log(shared: &Shared, path: &str, status: u16) {
    let at = shared.start.elapsed();
    let mut state = shared.state();
    if state.log.len() >= MAX_LOG {
        state.log.remove(0);
    }
    state.log.push(Logged {
        at,
        path: path.to_owned(),
        status,
    });
}

/// The answer of a healthy supervisor: status, a cookie to set, the body.
fn answer(
    shared: &Shared,
    path: &str,
    authorization: Option<&str>,
    cookie: Option<&str>,
) -> (u16, Option<String>, String) {
    let elapsed = shared.elapsed();
    let now_ms = shared.now_ms();
    let mut state = shared.state();
    let now = Instant::now();
    state.sessions.retain(|(_, end)| *end > now);
    let logged_in = cookie.is_some_and(|c| {
        c.split(';')
            .any(|pair| state.sessions.iter().any(|(s, _)| s == pair.trim()))
    });
    let (model, build) = match state.firmware {
        Firmware::Pvs6 | Firmware::OldPvs6 => ("PVS6", 61846),
        Firmware::Pvs5 => ("PVS5", 5408),
    };
    let varserver = state.firmware != Firmware::OldPvs6;
    let route = path.split('?').next().unwrap_or("");
    let query = path.split_once('?').map_or("", |(_, q)| q);
    match route {
        "/cgi-bin/dl_cgi/supervisor/info" => (
            200,
            None,
            format!(
                r#"{{"result":"succeed","supervisor":{{"MODEL":"{model}","SERIAL":"{SERIAL}","BUILD":{build},"SWVER":"2025.06, Build {build}"}}}}"#
            ),
        ),
        "/auth" if !varserver => (404, None, String::new()),
        "/auth" => {
            let expected = format!("Basic {}", base64(&format!("ssm_owner:{PASSWORD}")));
            if authorization == Some(expected.as_str()) {
                let n = state.issued.len() + 1;
                let value = format!(
                    "session=s{n}x{:x}",
                    SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .map_or(0, |d| d.as_nanos())
                );
                let end = now + state.cookie_life;
                state.sessions.push((value.clone(), end));
                state.issued.push(value.clone());
                (200, Some(value), r#"{"session":"ok"}"#.to_owned())
            } else {
                (401, None, String::new())
            }
        }
        "/vars" if !varserver => (404, None, String::new()),
        "/vars" if !logged_in => (401, None, String::new()),
        "/vars" if query.starts_with("set=/sys/telemetryws/enable=1") => {
            if state.firmware == Firmware::Pvs5 {
                (400, None, String::new())
            } else {
                state.telemetry_enabled = true;
                (200, None, "{}".to_owned())
            }
        }
        "/vars" => (200, None, vars(query, elapsed, now_ms, state.inverters)),
        "/cgi-bin/dl_cgi" if query == "Command=DeviceList" && varserver => {
            (403, None, String::new())
        }
        "/cgi-bin/dl_cgi" if query == "Command=DeviceList" => {
            (200, None, device_list(elapsed, now_ms, state.inverters))
        }
        _ => (404, None, String::new()),
    }
}

fn time_text(ms: u64) -> (String, u64) {
    let secs = ms / 1000;
    let time = chrono::DateTime::from_timestamp(secs as i64, 0).unwrap_or_default();
    (time.format("%Y-%m-%dT%H:%M:%SZ").to_string(), secs)
}

/// A `/vars` answer (object form): the inverters, the meter or the site totals.
fn vars(query: &str, elapsed: f64, now_ms: u64, inverters: usize) -> String {
    let (t, secs) = time_text(now_ms);
    let production = MockSupervisor::production_kwh(elapsed);
    let mut entries = Vec::new();
    if query.starts_with("match=inverter") {
        for i in 0..inverters {
            let p = format!("/sys/devices/inverter/{i}");
            entries.push(format!(r#""{p}/sn": "E00121{i:09}""#));
            entries.push(format!(r#""{p}/msmtEps": "{t}""#));
            entries.push(format!(
                r#""{p}/ltea3phsumKwh": "{:.4}""#,
                production / inverters.max(1) as f64
            ));
            entries.push(format!(
                r#""{p}/p3phsumKw": "{:.2}""#,
                3.0 / inverters.max(1) as f64
            ));
        }
    } else if query.starts_with("match=meter") {
        entries.push(r#""/sys/devices/meter/0/sn": "PVS6M0123p""#.to_owned());
        entries.push(format!(r#""/sys/devices/meter/0/msmtEps": "{t}""#));
        entries.push(format!(
            r#""/sys/devices/meter/0/netLtea3phsumKwh": "{:.4}""#,
            MockSupervisor::net_kwh(elapsed)
        ));
    } else if query.starts_with("match=livedata") {
        entries.push(format!(r#""/sys/livedata/time": "{secs}""#));
        entries.push(format!(r#""/sys/livedata/pv_en": "{production:.4}""#));
        entries.push(r#""/sys/livedata/pv_p": "3.0""#.to_owned());
    }
    format!("{{{}}}", entries.join(","))
}

/// A DeviceList of old firmware: the supervisor and the inverters.
fn device_list(elapsed: f64, now_ms: u64, inverters: usize) -> String {
    let time = chrono::DateTime::from_timestamp((now_ms / 1000) as i64, 0).unwrap_or_default();
    let t = time.format("%Y,%m,%d,%H,%M,%S");
    let production = MockSupervisor::production_kwh(elapsed);
    let mut devices = vec![format!(
        r#"{{"DEVICE_TYPE":"PVS","SERIAL":"{SERIAL}","MODEL":"PV Supervisor PVS6","DATATIME":"{t}","STATEDESCR":"Working"}}"#
    )];
    for i in 0..inverters {
        devices.push(format!(
            r#"{{"DEVICE_TYPE":"Inverter","SERIAL":"E00121{i:09}","DATATIME":"{t}","ltea_3phsum_kwh":"{:.4}","p_3phsum_kw":"0.24","STATE":"working"}}"#,
            production / inverters.max(1) as f64
        ));
    }
    format!(
        r#"{{"result":"succeed","devices":[{}]}}"#,
        devices.join(",")
    )
}

/// The telemetry WebSocket: a `power` frame every so often, until dropped or stopped.
fn serve_ws(stream: TcpStream, shared: &Shared) {
    if shared.state().firmware == Firmware::Pvs5 || shared.state().down {
        return;
    }
    let generation = shared.ws_generation.load(Ordering::SeqCst);
    let Ok(mut ws) = tungstenite::accept(stream) else {
        return;
    };
    let mut next = Instant::now();
    loop {
        if shared.stop.load(Ordering::SeqCst)
            || shared.ws_generation.load(Ordering::SeqCst) != generation
        {
            // Dropped: the TCP connection closes without a close frame.
            return;
        }
        if Instant::now() >= next {
            next =
                Instant::now() + Duration::from_millis(shared.ws_every_ms.load(Ordering::SeqCst));
            if !shared.ws_silent.load(Ordering::SeqCst) {
                let elapsed = shared.elapsed();
                let ms = shared.now_ms();
                let frame = format!(
                    r#"{{"notification":"power","params":{{"time":{ms},"pv_p":3.0,"pv_en":{:.4},"net_en":{:.4}}}}}"#,
                    MockSupervisor::production_kwh(elapsed),
                    MockSupervisor::net_kwh(elapsed)
                );
                if ws.send(tungstenite::Message::text(frame)).is_err() {
                    return;
                }
            }
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// Standard base64 (RFC 4648), for the expected basic authorization.
fn base64(text: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The SHA-256 of a certificate, as 64 hex digits (what the client prints when it pins).
pub fn fingerprint(der: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_of_the_login() {
        assert_eq!(base64("ssm_owner:BCDEF"), "c3NtX293bmVyOkJDREVG");
    }
}
