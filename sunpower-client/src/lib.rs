//! Talks to a SunPower PV Supervisor's local API: the thin I/O adapter around
//! `sunpower_proto::session`, whose sans-I/O [`Session`](sunpower_proto::session::Session)
//! decides which request to make and when, and whose
//! [`TelemetryLink`](sunpower_proto::session::TelemetryLink) when to (re)open the telemetry
//! WebSocket.
//!
//! - [`Supervisor`]: HTTPS (ureq over rustls with the `ring` provider), every request bounded
//!   by a deadline, the self-signed certificate pinned: a given SHA-256 ([`Fingerprint`]), else
//!   the first one seen; a different certificate fails the handshake.
//! - [`TelemetrySocket`]: the telemetry WebSocket (`ws://PVS:9002`, tungstenite).
//! - [`Live`]: both driven by the wall clock, giving [`LiveEvent`]s (the session's events, the
//!   telemetry's site totals, the socket's comings and goings) as they come.
//!
//! No credential or cookie appears in an error or a `Debug` output: they travel as
//! [`Secret`](sunpower_proto::session::Secret)s and are shown only to the socket.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod https;
mod live;
mod pin;
mod websocket;

use std::fmt;
use std::str::FromStr;

pub use https::{Answer, Supervisor};
pub use live::{Clock, Live, LiveConfig, LiveEvent};
pub use pin::{BadFingerprint, Fingerprint};
pub use websocket::TelemetrySocket;

/// The telemetry WebSocket's port on the supervisor.
pub const TELEMETRY_PORT: u16 = 9002;

/// Why a request or a socket failed. The texts carry no header, credential or cookie.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// No connection (refused, unreachable, no such host).
    #[error("no connection: {0}")]
    Connect(String),
    /// The TLS handshake failed.
    #[error("TLS handshake failed: {0}")]
    Tls(String),
    /// The certificate is not the pinned one.
    #[error(
        "the supervisor's certificate changed: SHA-256 {seen}, pinned {}",
        pinned.map_or("none".to_owned(), |p| p.to_string())
    )]
    PinMismatch {
        /// The certificate shown.
        seen: Fingerprint,
        /// The one pinned.
        pinned: Option<Fingerprint>,
    },
    /// No complete answer before the deadline.
    #[error("no answer in time")]
    Timeout,
    /// The connection closed or broke before the answer was whole.
    #[error("the answer was cut: {0}")]
    Cut(String),
    /// A body over the documents' size limit.
    #[error("an answer over {max} bytes")]
    TooLarge {
        /// The limit.
        max: u64,
    },
    /// The WebSocket was closed by the supervisor.
    #[error("the socket was closed")]
    Closed,
}

/// A supervisor's address: `HOST[:PORT]`, the host a name, an IPv4 address or a bracketed
/// IPv6 address; port 443 unless given.
///
/// ```
/// use sunpower_client::Host;
/// let host: Host = "172.27.153.1".parse().unwrap();
/// assert_eq!((host.name(), host.port()), ("172.27.153.1", 443));
/// let host: Host = "[::1]:8443".parse().unwrap();
/// assert_eq!((host.name(), host.port(), host.authority().as_str()), ("::1", 8443, "[::1]:8443"));
/// assert!("pvs:http".parse::<Host>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    name: String,
    port: u16,
}

/// A text that is not `HOST[:PORT]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not HOST[:PORT]: {0}")]
pub struct BadHost(String);

impl Host {
    /// A host and port.
    pub fn new(name: impl Into<String>, port: u16) -> Host {
        Host {
            name: name.into(),
            port,
        }
    }

    /// The name or address, without brackets.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The HTTPS port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `name:port` as a URL has it (IPv6 in brackets).
    pub fn authority(&self) -> String {
        self.with_port(self.port)
    }

    /// `name:port` with another port (the WebSocket's).
    pub fn with_port(&self, port: u16) -> String {
        if self.name.contains(':') {
            format!("[{}]:{port}", self.name)
        } else {
            format!("{}:{port}", self.name)
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.authority())
    }
}

impl FromStr for Host {
    type Err = BadHost;

    fn from_str(s: &str) -> Result<Host, BadHost> {
        let bad = || BadHost(s.to_owned());
        let (name, port) = if let Some(rest) = s.strip_prefix('[') {
            let (name, after) = rest.split_once(']').ok_or_else(bad)?;
            match after {
                "" => (name, None),
                _ => (name, Some(after.strip_prefix(':').ok_or_else(bad)?)),
            }
        } else {
            match s.split_once(':') {
                Some((name, port)) => (name, Some(port)),
                None => (s, None),
            }
        };
        let port = match port {
            Some(p) => p.parse::<u16>().ok().filter(|&p| p > 0).ok_or_else(bad)?,
            None => 443,
        };
        let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_');
        if name.is_empty() || !name.chars().all(valid) {
            return Err(bad());
        }
        Ok(Host::new(name, port))
    }
}
