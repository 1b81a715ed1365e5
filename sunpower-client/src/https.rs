//! The HTTPS side: ureq's HTTP/1.1 over rustls with the pinning verifier.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};
use sunpower_proto::session::{Failure, Request, Secret};
use sunpower_proto::DocumentLimits;
use ureq::unversioned::resolver::DefaultResolver;
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, TcpConnector,
    Transport, TransportAdapter,
};
use ureq::Agent;

use crate::pin::{Fingerprint, PinningVerifier};
use crate::{ClientError, Host};

/// What the supervisor answered.
#[derive(Debug)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The `Set-Cookie` header (a secret: it is the session).
    pub set_cookie: Option<Secret>,
    /// The body, whole (at most [`DocumentLimits::max_bytes`] and one byte: a longer body is
    /// cut there, and its decoder refuses it as too large).
    pub body: Vec<u8>,
}

/// HTTPS to one supervisor: each request with a deadline, its certificate pinned.
///
/// ```no_run
/// use std::time::Duration;
/// use sunpower_client::{Host, Supervisor};
/// let host: Host = "172.27.153.1".parse().unwrap();
/// let supervisor = Supervisor::new(&host, None, Duration::from_secs(20));
/// ```
pub struct Supervisor {
    agent: Agent,
    base: String,
    verifier: Arc<PinningVerifier>,
    max_body: u64,
}

impl fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Supervisor")
            .field("base", &self.base)
            .field("pinned", &self.pinned())
            .finish_non_exhaustive()
    }
}

impl Supervisor {
    /// A client of the supervisor at `host` (port 443 unless it says another). `pin`: the
    /// certificate's SHA-256 to accept, else the first one seen is pinned. `timeout`: the
    /// longest a request may take, connection, handshake and whole body included.
    pub fn new(host: &Host, pin: Option<Fingerprint>, timeout: Duration) -> Supervisor {
        // ring, not aws-lc-rs (rustls' default, whose C build needs cmake): no post-quantum key
        // exchange, which a supervisor's TLS stack does not offer anyway.
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = Arc::new(PinningVerifier::new(pin, provider.clone()));
        let mut tls = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            // The ring provider has both versions: cannot fail.
            .expect("the ring provider supports TLS 1.2 and 1.3")
            .dangerous()
            .with_custom_certificate_verifier(verifier.clone())
            .with_no_client_auth();
        // The certificate is pinned, not matched to a name; the supervisor is reached by its
        // address.
        tls.enable_sni = false;
        let config = Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .max_idle_connections(1)
            .max_idle_connections_per_host(1)
            .user_agent(concat!("sunpower-rs/", env!("CARGO_PKG_VERSION")))
            .build();
        let connector = TcpConnector::default().chain(PinnedTls {
            config: Arc::new(tls),
        });
        Supervisor {
            agent: Agent::with_parts(config, connector, DefaultResolver::default()),
            base: format!("https://{}", host.authority()),
            verifier,
            max_body: DocumentLimits::default().max_bytes as u64 + 1,
        }
    }

    /// The pinned certificate's fingerprint, and whether it was taken from the first
    /// connection (`false`: given).
    pub fn pinned(&self) -> Option<(Fingerprint, bool)> {
        self.verifier.pinned()
    }

    /// Sends one request of the session and reads its whole answer.
    pub fn send(&self, request: &Request) -> Result<Answer, ClientError> {
        let mut call = self.agent.get(format!("{}{}", self.base, request.path));
        if let Some(auth) = &request.authorization {
            call = call.header("Authorization", auth.expose());
        }
        if let Some(cookie) = &request.cookie {
            call = call.header("Cookie", cookie.expose());
        }
        let mut response = call.call().map_err(|e| self.error(e))?;
        let status = response.status().as_u16();
        let set_cookie = response
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .map(|v| Secret::new(v.to_owned()));
        let body = response
            .body_mut()
            .with_config()
            .limit(self.max_body)
            .read_to_vec();
        let body = match body {
            Ok(body) => body,
            Err(ureq::Error::BodyExceedsLimit(_)) => {
                return Err(ClientError::TooLarge {
                    max: self.max_body - 1,
                })
            }
            Err(e) => return Err(self.error(e)),
        };
        Ok(Answer {
            status,
            set_cookie,
            body,
        })
    }

    /// The error of a failed request, in words that carry no header (so no secret).
    fn error(&self, e: ureq::Error) -> ClientError {
        if let Some(seen) = self.verifier.take_refused() {
            let pinned = self.verifier.pinned().map(|(pin, _)| pin);
            return ClientError::PinMismatch { seen, pinned };
        }
        match e {
            ureq::Error::Timeout(_) => ClientError::Timeout,
            ureq::Error::HostNotFound => ClientError::Connect("host not found".into()),
            ureq::Error::ConnectionFailed => ClientError::Connect("connection failed".into()),
            ureq::Error::Io(e) => io_error(e),
            other => ClientError::Cut(other.to_string()),
        }
    }
}

fn io_error(e: io::Error) -> ClientError {
    use io::ErrorKind as K;
    if let Some(tls) = e.get_ref().and_then(|e| e.downcast_ref::<TlsFailed>()) {
        return ClientError::Tls(tls.0.clone());
    }
    match e.kind() {
        K::TimedOut | K::WouldBlock => ClientError::Timeout,
        K::ConnectionRefused
        | K::HostUnreachable
        | K::NetworkUnreachable
        | K::AddrNotAvailable
        | K::NotFound => ClientError::Connect(e.to_string()),
        _ => ClientError::Cut(e.to_string()),
    }
}

impl ClientError {
    /// What the session is told of this error.
    pub fn failure(&self) -> Failure {
        match self {
            ClientError::Connect(_) => Failure::Connect,
            ClientError::Tls(_) | ClientError::PinMismatch { .. } => Failure::Tls,
            ClientError::Timeout => Failure::Timeout,
            ClientError::Cut(_) | ClientError::TooLarge { .. } | ClientError::Closed => {
                Failure::Cut
            }
        }
    }
}

/// A TLS failure carried through ureq's `io::Error` (its own TLS error takes only a static
/// text).
#[derive(Debug)]
struct TlsFailed(String);

impl fmt::Display for TlsFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TlsFailed {}

fn tls_failed(e: impl fmt::Display) -> ureq::Error {
    ureq::Error::Io(io::Error::other(TlsFailed(e.to_string())))
}

/// The TLS step of ureq's connector chain: rustls with our configuration (ureq's own takes
/// root certificates, not a verifier).
#[derive(Debug)]
struct PinnedTls {
    config: Arc<ClientConfig>,
}

impl<In: Transport> Connector<In> for PinnedTls {
    type Out = Either<In, TlsTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else {
            return Ok(None);
        };
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        let host = details
            .uri
            .host()
            .unwrap_or_default()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let name = ServerName::try_from(host.to_owned()).map_err(tls_failed)?;
        let mut conn = ClientConnection::new(self.config.clone(), name).map_err(tls_failed)?;
        let mut sock = TransportAdapter::new(transport.boxed(), details.current_time.clone());
        sock.set_timeout(details.timeout);
        while conn.is_handshaking() {
            conn.complete_io(&mut sock).map_err(|e| {
                // rustls reports its own errors (the pin refused) as InvalidData.
                if e.kind() == io::ErrorKind::InvalidData {
                    tls_failed(e)
                } else {
                    ureq::Error::Io(e)
                }
            })?;
        }
        let buffers = LazyBuffers::new(
            details.config.input_buffer_size(),
            details.config.output_buffer_size(),
        );
        Ok(Some(Either::B(TlsTransport {
            buffers,
            stream: StreamOwned::new(conn, sock),
        })))
    }
}

struct TlsTransport {
    buffers: LazyBuffers,
    stream: StreamOwned<ClientConnection, TransportAdapter>,
}

impl fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TlsTransport")
    }
}

impl Transport for TlsTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        use io::Write;
        self.stream.get_mut().set_timeout(timeout);
        let output = &self.buffers.output()[..amount];
        self.stream.write_all(output)?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        use io::Read;
        self.stream.get_mut().set_timeout(timeout);
        let input = self.buffers.input_append_buf();
        let amount = self.stream.read(input)?;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.get_mut().get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}
