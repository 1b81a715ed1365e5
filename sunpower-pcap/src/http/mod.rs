//! HTTP/1.x request framing for the client-to-server bytes of one connection, sans I/O.
//!
//! A [`RequestFramer`] is fed the stream in chunks of any size ([`feed`](RequestFramer::feed)),
//! told about holes ([`gap`](RequestFramer::gap)) and about the end
//! ([`finish`](RequestFramer::finish)). It reports [`HttpEvent`]s through a callback: complete
//! requests with their bodies, requests whose body was not kept, bodies cut by a hole, framing
//! errors, skipped bytes, and whether the bytes look like the server's side instead.
//!
//! # Policies
//!
//! - **Which bodies are kept.** By default ([`BodyFilter::CollectorPath`]) only requests whose
//!   path (query string removed; absolute-form targets too) ends with `SMS2DataCollector.aspx`,
//!   compared ASCII case-insensitively as IIS does. Other requests are framed, so keep-alive
//!   works, and their bodies are counted in [`HttpStats::discarded_body_bytes`].
//! - **Framing** follows RFC 9112 §6.3 for requests: `Transfer-Encoding` with `chunked` as the
//!   final coding, else `Content-Length`, else no body. When both are present, chunked wins, as
//!   the RFC tells servers to do (counted in [`HttpStats::content_length_with_chunked`]).
//!   Several `Content-Length` values must agree; a transfer coding list not ending in `chunked`
//!   is an error.
//! - **Errors and resynchronisation.** A malformed request line or header, an oversized header
//!   section, conflicting or invalid lengths, a bad chunk or an oversized chunk size produce an
//!   [`HttpEvent::Error`]; the framer then scans line by line for the next plausible request line
//!   (`METHOD SP target SP HTTP/1.x`, CRLF or LF). Every byte passed over is reported in exactly
//!   one [`HttpEvent::Skipped`].
//! - **Bodies over the limit.** A request (kept or not) whose body is declared longer than
//!   [`FramerConfig::max_body_bytes`] (a `Content-Length`, or a chunk that would take the body
//!   past it) is reported once as [`HttpEvent::OversizedBody`]. Its body is then skipped by
//!   count, each byte counted in [`HttpStats::oversized_body_bytes`], but a declared length
//!   cannot be trusted that far (`Content-Length: 1000000000` on `GET /`): a request line at the
//!   start of a line within the skipped body ends the skip, and framing resumes there, so that
//!   one lying request cannot swallow the rest of the connection.
//! - **Holes.** After a [`gap`](RequestFramer::gap) the framer scans for the next request line.
//!   A kept body cut by a gap (or by [`finish`](RequestFramer::finish)) is delivered as
//!   [`HttpEvent::IncompleteBody`] with the bytes received before the hole.
//! - **Responses.** If a message starts with a status line (`HTTP/1.x NNN`), the framer reports
//!   [`HttpEvent::Response`] once and ignores the rest of the stream (counted).
//! - **Other protocols.** A stream fed from its first byte (a framer not made
//!   [`mid_stream`](RequestFramer::mid_stream), before any gap) whose first byte cannot begin an
//!   HTTP/1 message (a method token character, or the CR/LF that may precede a request line) is
//!   not HTTP: TLS (`0x16`), SMB, MQTT and other binary protocols. The framer reports
//!   [`HttpEvent::NotHttp`] once and counts the rest of the stream in
//!   [`HttpStats::non_http_bytes`] without looking at it, as Wireshark leaves such a stream to
//!   another dissector: no framing error, no scan. Picked up mid-way or after a hole, a stream
//!   cannot be judged by its first byte and is scanned for request lines as above.
//! - **Memory** is bounded by [`FramerConfig::max_header_bytes`] (the head of one request) plus
//!   [`FramerConfig::max_body_bytes`] (one kept body). A body that arrives whole inside one fed
//!   chunk is passed through without copying.
//!
//! # Example
//!
//! ```
//! use sunpower_pcap::http::{HttpEvent, RequestFramer};
//!
//! let mut framer = RequestFramer::new();
//! let mut bodies = Vec::new();
//! let stream = b"POST /Data/SMS2DataCollector.aspx HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n100\n";
//! for chunk in stream.chunks(7) {
//!     framer.feed(chunk, |e| {
//!         if let HttpEvent::Request { target, body, .. } = e {
//!             bodies.push((target.to_string(), body.to_vec()));
//!         }
//!     });
//! }
//! assert_eq!(bodies, [("/Data/SMS2DataCollector.aspx".to_string(), b"100\n".to_vec())]);
//! ```

use thiserror::Error;

/// Which request bodies a [`RequestFramer`] buffers and delivers.
///
/// ```
/// use sunpower_pcap::http::{BodyFilter, FramerConfig};
/// let cfg = FramerConfig { bodies: BodyFilter::AllPost, ..FramerConfig::default() };
/// assert_eq!(cfg.bodies, BodyFilter::AllPost);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum BodyFilter {
    /// Requests whose path ends with `SMS2DataCollector.aspx` (the default).
    #[default]
    CollectorPath,
    /// Every `POST` request, plus collector-path requests of any method.
    AllPost,
    /// Every request.
    All,
}

/// Limits and options of a [`RequestFramer`].
///
/// ```
/// use sunpower_pcap::http::FramerConfig;
/// let cfg = FramerConfig::default();
/// assert_eq!((cfg.max_header_bytes, cfg.max_body_bytes), (64 << 10, 16 << 20));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FramerConfig {
    /// Longest request head (request line and headers, line ends included); also the limit on a
    /// chunked body's trailer section. Default 64 KiB.
    pub max_header_bytes: usize,
    /// Longest body: a longer one (kept or not) is skipped, see the [module docs](self).
    /// Default 16 MiB (a collector post is a few kB; a backlog after days offline a few MB), so
    /// that a kept body fits in the decoder's default memory budget.
    pub max_body_bytes: u64,
    /// Which bodies are kept.
    pub bodies: BodyFilter,
}

impl Default for FramerConfig {
    fn default() -> Self {
        FramerConfig {
            max_header_bytes: 64 << 10,
            max_body_bytes: 16 << 20,
            bodies: BodyFilter::CollectorPath,
        }
    }
}

/// Why framing failed; see the [module docs](self) for what follows each error.
///
/// ```
/// use sunpower_pcap::http::FramingError;
/// assert_eq!(FramingError::BodyTooLarge { limit: 10 }.to_string(), "body longer than the limit of 10 bytes");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FramingError {
    /// The first line of a message is neither a request line nor a status line.
    #[error("malformed request line")]
    MalformedRequestLine,
    /// A header (or trailer) line is not `name: value`, or is an obsolete line folding.
    #[error("malformed header line")]
    MalformedHeader,
    /// The head (or trailer section) exceeds [`FramerConfig::max_header_bytes`].
    #[error("header section longer than {limit} bytes")]
    HeaderTooLarge {
        /// The configured limit.
        limit: usize,
    },
    /// Several `Content-Length` values that differ.
    #[error("conflicting Content-Length values")]
    ConflictingContentLength,
    /// A `Content-Length` value that is not a decimal number that fits in 64 bits.
    #[error("invalid Content-Length value")]
    InvalidContentLength,
    /// A `Transfer-Encoding` whose final coding is not `chunked`.
    #[error("unsupported Transfer-Encoding (chunked must be the final coding)")]
    UnsupportedTransferEncoding,
    /// A chunk size that does not fit in 64 bits.
    #[error("chunk size overflow")]
    ChunkSizeOverflow,
    /// A chunk-size line or the line end after chunk data is malformed.
    #[error("malformed chunk")]
    MalformedChunk,
    /// A body that would be kept exceeds [`FramerConfig::max_body_bytes`]; it is skipped (see
    /// [`HttpEvent::OversizedBody`]).
    #[error("body longer than the limit of {limit} bytes")]
    BodyTooLarge {
        /// The configured limit.
        limit: u64,
    },
}

/// What a [`RequestFramer`] reports. Offsets (`at`) count stream bytes, gaps included, from the
/// start of what the framer was fed.
///
/// ```
/// use sunpower_pcap::http::HttpEvent;
/// let e = HttpEvent::Skipped { at: 0, len: 3 };
/// assert!(matches!(e, HttpEvent::Skipped { len: 3, .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HttpEvent<'a> {
    /// A complete request whose body was kept (the body may be empty).
    Request {
        /// Offset of the request line.
        at: u64,
        /// The method, e.g. `POST`.
        method: &'a str,
        /// The request target as sent (origin-form or absolute-form).
        target: &'a str,
        /// The whole body, de-chunked.
        body: &'a [u8],
    },
    /// A complete request whose body was not kept by the [`BodyFilter`].
    Unselected {
        /// Offset of the request line.
        at: u64,
        /// The method.
        method: &'a str,
        /// The request target as sent.
        target: &'a str,
        /// Body length (de-chunked), counted but not kept.
        body_len: u64,
    },
    /// A kept body cut short by a gap, the end of the stream, or a chunk framing error.
    IncompleteBody {
        /// Offset of the request line.
        at: u64,
        /// The method.
        method: &'a str,
        /// The request target as sent.
        target: &'a str,
        /// The body bytes received before the interruption.
        received: &'a [u8],
        /// How many body bytes are missing, when the length was declared.
        missing: Option<u64>,
    },
    /// A request whose body is longer than [`FramerConfig::max_body_bytes`]: counted as a
    /// request, its body skipped by count and scanned for the next request line (see the
    /// [module docs](self)). No other event follows for this request.
    OversizedBody {
        /// Offset of the request line.
        at: u64,
        /// The method.
        method: &'a str,
        /// The request target as sent.
        target: &'a str,
        /// Whether the [`BodyFilter`] selected the request (its body would have been kept).
        selected: bool,
        /// The declared `Content-Length`; `None` for a chunked body.
        declared: Option<u64>,
    },
    /// A framing error at offset `at` (the start of the request concerned, or of the bad line).
    Error {
        /// Offset of the request (or chunk line) in error.
        at: u64,
        /// What was wrong.
        error: FramingError,
    },
    /// `len` bytes from offset `at` were passed over while looking for a request line.
    Skipped {
        /// Offset of the first skipped byte.
        at: u64,
        /// Number of bytes skipped.
        len: u64,
    },
    /// The stream carries responses (a status line at `at`): the rest of it is ignored.
    Response {
        /// Offset of the status line.
        at: u64,
    },
    /// The stream, fed from its start, does not begin like HTTP/1 (`first_byte`, e.g. `0x16`
    /// for TLS): it is counted in [`HttpStats::non_http_bytes`] and otherwise ignored.
    NotHttp {
        /// The stream's first byte.
        first_byte: u8,
    },
}

/// Counters of a [`RequestFramer`].
///
/// ```
/// use sunpower_pcap::http::RequestFramer;
/// let mut f = RequestFramer::new();
/// f.feed(b"GET / HTTP/1.1\r\n\r\n", |_| {});
/// assert_eq!(f.stats().requests, 1);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HttpStats {
    /// Request heads framed.
    pub requests: u64,
    /// [`HttpEvent::Request`]s delivered.
    pub bodies_delivered: u64,
    /// Bytes of the bodies delivered.
    pub body_bytes_delivered: u64,
    /// [`HttpEvent::IncompleteBody`]s delivered.
    pub incomplete_bodies: u64,
    /// Body bytes framed but not kept (filter, or cut by a hole, or the chunks of a body
    /// received before it went over the limit).
    pub discarded_body_bytes: u64,
    /// [`HttpEvent::OversizedBody`]s.
    pub oversized_bodies: u64,
    /// Bytes of bodies over the limit, skipped by count.
    pub oversized_body_bytes: u64,
    /// Bytes reported in [`HttpEvent::Skipped`].
    pub skipped_bytes: u64,
    /// Empty lines before a request line, which RFC 9112 tells servers to ignore.
    pub blank_line_bytes: u64,
    /// Bytes reported missing through [`RequestFramer::gap`].
    pub gap_bytes: u64,
    /// [`HttpEvent::Error`]s.
    pub errors: u64,
    /// Bytes ignored after a [`HttpEvent::Response`].
    pub response_bytes: u64,
    /// Bytes of a stream found not to be HTTP ([`HttpEvent::NotHttp`]).
    pub non_http_bytes: u64,
    /// Requests with both `Content-Length` and chunked `Transfer-Encoding` (framed as chunked).
    pub content_length_with_chunked: u64,
}

pub use sunpower_proto::Channel;

/// A request target on the collector's endpoint, as [`collector_target`] finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CollectorTarget {
    /// Data or command channel: the nearest directory of the path named `Data` or `Command`
    /// (ASCII case-insensitive); `None` when neither appears.
    pub channel: Option<Channel>,
}

/// The collector-path rule, in one place: whether a request target (origin-form or
/// absolute-form, query and fragment ignored) is the collector's endpoint, a path ending with
/// `SMS2DataCollector.aspx` compared ASCII case-insensitively as the collector's IIS server does,
/// and on which channel.
///
/// ```
/// use sunpower_pcap::http::{collector_target, Channel, CollectorTarget};
/// let data = Some(CollectorTarget { channel: Some(Channel::Data) });
/// assert_eq!(collector_target("/Data/SMS2DataCollector.aspx"), data);
/// assert_eq!(collector_target("http://host:80/Data/SMS2DataCollector.aspx?x=1"), data);
/// assert_eq!(
///     collector_target("/command/sms2datacollector.ASPX").and_then(|c| c.channel),
///     Some(Channel::Command)
/// );
/// assert_eq!(collector_target("/SMS2DataCollector.aspx"), Some(CollectorTarget { channel: None }));
/// assert_eq!(collector_target("/Data/other.aspx"), None);
/// assert_eq!(collector_target("/index.html"), None);
/// ```
pub fn collector_target(target: &str) -> Option<CollectorTarget> {
    let path = request_path(target);
    is_collector_path(path).then(|| CollectorTarget {
        channel: path_channel(path),
    })
}

/// The request target's path: scheme and authority of an absolute-form target removed, query
/// and fragment removed.
fn request_path(target: &str) -> &str {
    // Byte searches: a substring search sets up a two-way matcher, which costs more than the
    // whole of a short target (every collector post goes through here).
    let rest = match target.as_bytes() {
        [b'/', ..] => target,
        bytes => match bytes.windows(3).position(|w| w == b"://") {
            Some(i) => {
                let after = &target[i + 3..];
                match after.bytes().position(|b| matches!(b, b'/' | b'?' | b'#')) {
                    Some(j) if after.as_bytes()[j] == b'/' => &after[j..],
                    _ => return "/",
                }
            }
            None => target,
        },
    };
    match rest.bytes().position(|b| matches!(b, b'?' | b'#')) {
        Some(i) => &rest[..i],
        None => rest,
    }
}

/// Whether a path (see [`request_path`]) ends with `SMS2DataCollector.aspx`, ASCII
/// case-insensitively.
fn is_collector_path(path: &str) -> bool {
    const SUFFIX: &[u8] = b"SMS2DataCollector.aspx";
    let p = path.as_bytes();
    p.len() >= SUFFIX.len() && p[p.len() - SUFFIX.len()..].eq_ignore_ascii_case(SUFFIX)
}

/// The nearest directory of a path named `Data` or `Command`; a query string is ignored.
fn path_channel(path: &str) -> Option<Channel> {
    // On bytes: char-pattern splitting costs about a thousand instructions per post.
    let path = path.as_bytes();
    let end = (path.iter())
        .position(|&b| b == b'?' || b == b'#')
        .unwrap_or(path.len());
    let path = &path[..end];
    let dirs = &path[..path.iter().rposition(|&b| b == b'/')?];
    dirs.rsplit(|&b| b == b'/').find_map(|dir| {
        if dir.eq_ignore_ascii_case(b"data") {
            Some(Channel::Data)
        } else if dir.eq_ignore_ascii_case(b"command") {
            Some(Channel::Command)
        } else {
            None
        }
    })
}

/// Longest method accepted; keeps the scan for a request line from buffering long lines.
const MAX_METHOD: usize = 32;
/// Longest chunk-size line (size and extensions).
const MAX_CHUNK_LINE: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading a request line into `head`; `synced` is false while scanning after a loss.
    Line {
        synced: bool,
    },
    /// Scanning: passing over the rest of a line that cannot be a request line.
    DeadLine,
    /// Reading header lines into `head`.
    Headers,
    /// Content-Length body.
    Body {
        remaining: u64,
    },
    ChunkSize,
    ChunkData {
        remaining: u64,
    },
    ChunkDataEnd,
    Trailers,
    /// Skipping `remaining` bytes of a body over the limit (of a chunk when `chunked`), on the
    /// lookout for a request line at the start of a line.
    Oversized {
        remaining: u64,
        chunked: bool,
    },
    /// The stream carries responses; everything is ignored.
    Response,
    /// The stream is not HTTP (judged by its first byte); everything is counted and ignored.
    NotHttp,
}

/// Frames HTTP/1.x requests from one direction of a connection; see the
/// [module docs](self) for the policies.
///
/// ```
/// use sunpower_pcap::http::{HttpEvent, RequestFramer};
/// let mut f = RequestFramer::new();
/// let mut seen = Vec::new();
/// f.feed(b"POST /Data/SMS2DataCollector.aspx HTTP/1.1\r\nContent-Length: 10\r\n\r\n130\t20", |_| {});
/// f.gap(100, |e| seen.push(format!("{e:?}")));
/// assert_eq!(seen, [r#"IncompleteBody { at: 0, method: "POST", target: "/Data/SMS2DataCollector.aspx", received: [49, 51, 48, 9, 50, 48], missing: Some(4) }"#]);
/// ```
#[derive(Debug, Clone)]
pub struct RequestFramer {
    cfg: FramerConfig,
    state: State,
    /// Stream offset of the next byte fed.
    pos: u64,
    /// The current request's head (request line first), or the candidate line while scanning.
    head: Vec<u8>,
    /// Start of the header line being read, within `head`.
    line_start: usize,
    method_end: usize,
    target: (usize, usize),
    req_at: u64,
    /// Chunk-size line or trailer line being read.
    line: Vec<u8>,
    trailer_bytes: usize,
    content_length: Option<u64>,
    te_seen: bool,
    te_chunked: bool,
    keep: bool,
    body: Vec<u8>,
    body_len: u64,
    /// The current request's body went over the limit: it is being skipped.
    oversized: bool,
    /// While skipping an oversized body: whether the next byte starts a line.
    skip_line_start: bool,
    skip: Option<(u64, u64)>,
    stats: HttpStats,
}

impl Default for RequestFramer {
    fn default() -> Self {
        RequestFramer::new()
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// `METHOD SP target SP HTTP/1.d` → (method end, target range).
fn parse_request_line(line: &[u8]) -> Option<(usize, (usize, usize))> {
    let sp1 = line.iter().position(|&b| b == b' ')?;
    if sp1 == 0 || sp1 > MAX_METHOD || !line[..sp1].iter().all(|&b| is_tchar(b)) {
        return None;
    }
    let t0 = sp1 + 1;
    let sp2 = t0 + line[t0..].iter().position(|&b| b == b' ')?;
    if sp2 == t0 || !line[t0..sp2].iter().all(|&b| (0x21..=0x7e).contains(&b)) {
        return None;
    }
    match &line[sp2 + 1..] {
        [b'H', b'T', b'T', b'P', b'/', b'1', b'.', d] if d.is_ascii_digit() => {
            Some((sp1, (t0, sp2)))
        }
        _ => None,
    }
}

/// `HTTP/1.d SP NNN` followed by the end or a space.
fn is_status_line(line: &[u8]) -> bool {
    match line {
        [b'H', b'T', b'T', b'P', b'/', b'1', b'.', d, b' ', a, b, c, rest @ ..] => {
            d.is_ascii_digit()
                && [a, b, c].iter().all(|x| x.is_ascii_digit())
                && matches!(rest, [] | [b' ', ..])
        }
        _ => false,
    }
}

/// Whether a partial line could still become a request or status line.
fn plausible_start(line: &[u8]) -> bool {
    let head = &line[..line.len().min(MAX_METHOD + 1)];
    let n = head.len().min(5);
    if head[..n] == b"HTTP/"[..n] {
        return true;
    }
    match head.iter().position(|&b| b == b' ') {
        Some(i) => i > 0 && head[..i].iter().all(|&b| is_tchar(b)),
        None => head.len() <= MAX_METHOD && head.iter().all(|&b| is_tchar(b)),
    }
}

/// Whether the line that starts `input` could be a request or status line, judging by what of
/// its first bytes is at hand (as [`plausible_start`] would once the line were collected).
fn plausible_prefix(input: &[u8]) -> bool {
    let probe = &input[..input.len().min(MAX_METHOD + 1)];
    let probe = match memchr::memchr(b'\n', probe) {
        Some(i) => &probe[..=i],
        None => probe,
    };
    plausible_start(probe)
}

/// Appends input up to and including the first LF to `buf`, unless `buf` would exceed `cap`.
/// Returns the bytes consumed and whether the line is complete, or `None` when too long.
fn take_line(buf: &mut Vec<u8>, input: &[u8], cap: usize) -> Option<(usize, bool)> {
    let (n, complete) = match memchr::memchr(b'\n', input) {
        Some(i) => (i + 1, true),
        None => (input.len(), false),
    };
    if buf.len() + n > cap {
        return None;
    }
    buf.extend_from_slice(&input[..n]);
    Some((n, complete))
}

fn parse_decimal(s: &[u8]) -> Option<u64> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    s.iter().try_fold(0u64, |acc, &d| {
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

impl RequestFramer {
    /// A framer with the default [`FramerConfig`], at the start of a stream.
    ///
    /// ```
    /// # use sunpower_pcap::http::RequestFramer;
    /// let f = RequestFramer::new();
    /// assert_eq!(f.position(), 0);
    /// ```
    pub fn new() -> RequestFramer {
        RequestFramer::with_config(FramerConfig::default())
    }

    /// A framer with the given configuration, at the start of a stream.
    ///
    /// ```
    /// # use sunpower_pcap::http::{BodyFilter, FramerConfig, RequestFramer};
    /// let f = RequestFramer::with_config(FramerConfig { bodies: BodyFilter::All, ..Default::default() });
    /// assert!(!f.is_response());
    /// ```
    pub fn with_config(cfg: FramerConfig) -> RequestFramer {
        RequestFramer {
            cfg,
            state: State::Line { synced: true },
            pos: 0,
            head: Vec::new(),
            line_start: 0,
            method_end: 0,
            target: (0, 0),
            req_at: 0,
            line: Vec::new(),
            trailer_bytes: 0,
            content_length: None,
            te_seen: false,
            te_chunked: false,
            keep: false,
            body: Vec::new(),
            body_len: 0,
            oversized: false,
            skip_line_start: true,
            skip: None,
            stats: HttpStats::default(),
        }
    }

    /// Makes the framer start by scanning for a request line, for a stream picked up mid-way
    /// (no SYN seen): what precedes the first request line is reported as skipped, not as an
    /// error.
    ///
    /// ```
    /// use sunpower_pcap::http::{HttpEvent, RequestFramer};
    /// let mut f = RequestFramer::new().mid_stream();
    /// let mut ev = Vec::new();
    /// f.feed(b"tail of a body\nGET / HTTP/1.1\r\n\r\n", |e| ev.push(format!("{e:?}")));
    /// assert_eq!(ev[0], "Skipped { at: 0, len: 15 }");
    /// ```
    pub fn mid_stream(mut self) -> RequestFramer {
        if self.state == (State::Line { synced: true }) && self.head.is_empty() {
            self.state = State::Line { synced: false };
        }
        self
    }

    /// The counters so far.
    ///
    /// ```
    /// # use sunpower_pcap::http::RequestFramer;
    /// assert_eq!(RequestFramer::new().stats().errors, 0);
    /// ```
    pub fn stats(&self) -> &HttpStats {
        &self.stats
    }

    /// Stream offset of the next byte to be fed (bytes fed plus gap lengths).
    ///
    /// ```
    /// # use sunpower_pcap::http::RequestFramer;
    /// let mut f = RequestFramer::new();
    /// f.feed(b"GET", |_| {});
    /// f.gap(10, |_| {});
    /// assert_eq!(f.position(), 13);
    /// ```
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Bytes this framer takes, its own size and what its buffers hold (a request head, a kept
    /// body in progress), as counted against a memory budget.
    ///
    /// ```
    /// # use sunpower_pcap::http::RequestFramer;
    /// let mut f = RequestFramer::new();
    /// let idle = f.memory_used();
    /// f.feed(b"POST /SMS2DataCollector.aspx HTTP/1.1\r\nContent-Length: 9\r\n\r\nabc", |_| {});
    /// assert!(f.memory_used() > idle);
    /// ```
    pub fn memory_used(&self) -> usize {
        std::mem::size_of::<RequestFramer>()
            + self.head.capacity()
            + self.line.capacity()
            + self.body.capacity()
    }

    /// Whether the stream was recognised as the server's side (responses).
    ///
    /// ```
    /// # use sunpower_pcap::http::RequestFramer;
    /// let mut f = RequestFramer::new();
    /// f.feed(b"HTTP/1.1 200 OK\r\n", |_| {});
    /// assert!(f.is_response());
    /// ```
    pub fn is_response(&self) -> bool {
        self.state == State::Response
    }

    /// Whether the stream was found not to be HTTP ([`HttpEvent::NotHttp`]).
    ///
    /// ```
    /// # use sunpower_pcap::http::RequestFramer;
    /// let mut f = RequestFramer::new();
    /// f.feed(&[0x16, 0x03, 0x01, 0x02, 0x00], |_| {});
    /// assert!(f.is_not_http());
    /// assert_eq!(f.stats().non_http_bytes, 5);
    /// ```
    pub fn is_not_http(&self) -> bool {
        self.state == State::NotHttp
    }

    /// Feeds the next bytes of the stream; events are passed to `sink` as they complete.
    ///
    /// ```
    /// use sunpower_pcap::http::{HttpEvent, RequestFramer};
    /// let mut f = RequestFramer::new();
    /// let mut n = 0;
    /// f.feed(b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n", |e| {
    ///     if let HttpEvent::Unselected { .. } = e { n += 1 }
    /// });
    /// assert_eq!(n, 2);
    /// ```
    pub fn feed<F>(&mut self, mut input: &[u8], mut sink: F)
    where
        F: FnMut(HttpEvent<'_>),
    {
        while !input.is_empty() {
            let n = self.step(input, &mut sink);
            input = &input[n..];
        }
    }

    /// Tells the framer that `len` bytes of the stream are missing here. A kept body in
    /// progress is delivered as [`HttpEvent::IncompleteBody`]; the framer then scans for the next
    /// request line.
    ///
    /// ```
    /// use sunpower_pcap::http::{HttpEvent, RequestFramer};
    /// let mut f = RequestFramer::new();
    /// let mut ev = Vec::new();
    /// f.feed(b"GET /a HT", |_| {});
    /// f.gap(5, |e| ev.push(format!("{e:?}")));
    /// f.feed(b"xx\nGET /b HTTP/1.1\r\n\r\n", |e| ev.push(format!("{e:?}")));
    /// assert_eq!(ev[0], "Skipped { at: 0, len: 9 }");
    /// assert_eq!(ev[1], "Skipped { at: 14, len: 3 }");
    /// ```
    pub fn gap<F>(&mut self, len: u64, mut sink: F)
    where
        F: FnMut(HttpEvent<'_>),
    {
        self.interrupt(&mut sink);
        self.pos += len;
        self.stats.gap_bytes += len;
    }

    /// Ends the stream: a kept body in progress is delivered as [`HttpEvent::IncompleteBody`],
    /// a partial head is reported as skipped. The framer can be fed again afterwards, as a
    /// stream picked up mid-way.
    ///
    /// ```
    /// use sunpower_pcap::http::{HttpEvent, RequestFramer};
    /// let mut f = RequestFramer::new();
    /// let mut ev = Vec::new();
    /// f.feed(b"POST /SMS2DataCollector.aspx HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", |_| {});
    /// f.finish(|e| ev.push(format!("{e:?}")));
    /// assert_eq!(ev, [r#"IncompleteBody { at: 0, method: "POST", target: "/SMS2DataCollector.aspx", received: [97, 98, 99], missing: None }"#]);
    /// ```
    pub fn finish<F>(&mut self, mut sink: F)
    where
        F: FnMut(HttpEvent<'_>),
    {
        self.interrupt(&mut sink);
    }

    fn interrupt<F: FnMut(HttpEvent<'_>)>(&mut self, sink: &mut F) {
        match self.state {
            State::Response | State::NotHttp => return,
            State::Line { .. } | State::DeadLine | State::Headers => {
                let n = self.head.len() as u64;
                self.skip_bytes(self.pos - n, n);
            }
            State::Body { remaining } => self.incomplete(Some(remaining), sink),
            State::ChunkSize | State::ChunkData { .. } | State::ChunkDataEnd => {
                self.incomplete(None, sink)
            }
            // Every chunk arrived: only the trailer section is cut, the body is whole.
            State::Trailers => self.complete(None, sink),
            State::Oversized { .. } => {
                self.stats.oversized_body_bytes += self.line.len() as u64;
                self.end_request();
            }
        }
        self.head.clear();
        self.line.clear();
        self.flush_skip(sink);
        self.state = State::Line { synced: false };
    }

    fn skip_bytes(&mut self, at: u64, len: u64) {
        if len == 0 {
            return;
        }
        self.stats.skipped_bytes += len;
        self.skip = Some(match self.skip {
            Some((a, l)) if a + l == at => (a, l + len),
            Some((a, l)) => (a, l + len), // not reached: runs are flushed at every hole
            None => (at, len),
        });
    }

    fn flush_skip<F: FnMut(HttpEvent<'_>)>(&mut self, sink: &mut F) {
        if let Some((at, len)) = self.skip.take() {
            sink(HttpEvent::Skipped { at, len });
        }
    }

    fn error<F: FnMut(HttpEvent<'_>)>(&mut self, at: u64, error: FramingError, sink: &mut F) {
        self.stats.errors += 1;
        sink(HttpEvent::Error { at, error });
    }

    /// Gives up on the current request head after an error: its bytes are skipped and the
    /// framer scans on from here.
    fn abandon_head<F: FnMut(HttpEvent<'_>)>(
        &mut self,
        error: FramingError,
        mid_line: bool,
        sink: &mut F,
    ) {
        self.error(self.req_at, error, sink);
        let n = self.head.len() as u64;
        self.skip_bytes(self.pos - n, n);
        self.head.clear();
        self.state = if mid_line {
            State::DeadLine
        } else {
            State::Line { synced: false }
        };
    }

    fn method(&self) -> &str {
        std::str::from_utf8(&self.head[..self.method_end]).unwrap_or("")
    }

    fn target(&self) -> &str {
        std::str::from_utf8(&self.head[self.target.0..self.target.1]).unwrap_or("")
    }

    /// Delivers the current request; `direct` is the whole body when it was never copied.
    fn complete<F: FnMut(HttpEvent<'_>)>(&mut self, direct: Option<&[u8]>, sink: &mut F) {
        if self.keep {
            let body = direct.unwrap_or(&self.body);
            self.stats.bodies_delivered += 1;
            self.stats.body_bytes_delivered += body.len() as u64;
            let (method, target) = (self.method(), self.target());
            sink(HttpEvent::Request {
                at: self.req_at,
                method,
                target,
                body,
            });
        } else if !self.oversized {
            let (method, target) = (self.method(), self.target());
            sink(HttpEvent::Unselected {
                at: self.req_at,
                method,
                target,
                body_len: self.body_len,
            });
        }
        self.end_request();
        self.state = State::Line { synced: true };
    }

    fn incomplete<F: FnMut(HttpEvent<'_>)>(&mut self, missing: Option<u64>, sink: &mut F) {
        if self.keep {
            self.stats.incomplete_bodies += 1;
            let (method, target) = (self.method(), self.target());
            let received = &self.body[..];
            sink(HttpEvent::IncompleteBody {
                at: self.req_at,
                method,
                target,
                received,
                missing,
            });
        }
        self.end_request();
    }

    fn end_request(&mut self) {
        self.head.clear();
        // Don't let one large body pin its buffer for the life of the connection.
        if self.body.capacity() > 1 << 20 {
            self.body = Vec::new();
        } else {
            self.body.clear();
        }
        self.keep = false;
        self.oversized = false;
    }

    fn selected(&self) -> bool {
        let collector = || collector_target(self.target()).is_some();
        match self.cfg.bodies {
            BodyFilter::CollectorPath => collector(),
            BodyFilter::AllPost => self.method() == "POST" || collector(),
            BodyFilter::All => true,
        }
    }

    /// Body bytes of the current request: kept (copied) or counted.
    fn body_bytes(&mut self, data: &[u8]) {
        self.body_len += data.len() as u64;
        if self.keep {
            self.body.extend_from_slice(data);
        } else {
            self.stats.discarded_body_bytes += data.len() as u64;
        }
    }

    /// Starts skipping `len` bytes of a body over the size limit (the whole body, or one chunk);
    /// the request is reported the first time.
    fn oversized<F: FnMut(HttpEvent<'_>)>(&mut self, len: u64, chunked: bool, sink: &mut F) {
        if !self.oversized {
            self.oversized = true;
            self.stats.oversized_bodies += 1;
            self.stats.discarded_body_bytes += self.body.len() as u64;
            self.body.clear();
            let selected = self.selected();
            self.keep = false;
            let (method, target) = (self.method(), self.target());
            sink(HttpEvent::OversizedBody {
                at: self.req_at,
                method,
                target,
                selected,
                declared: (!chunked).then_some(len),
            });
        }
        self.line.clear();
        self.skip_line_start = true;
        self.state = State::Oversized {
            remaining: len,
            chunked,
        };
    }

    /// Skips a prefix of an oversized body in `input` (at most `remaining` bytes); a complete
    /// request line at the start of a line ends the skip. Returns the bytes consumed.
    fn skip_oversized<F: FnMut(HttpEvent<'_>)>(
        &mut self,
        input: &[u8],
        remaining: u64,
        chunked: bool,
        sink: &mut F,
    ) -> usize {
        let input = &input[..remaining.min(input.len() as u64) as usize];
        let to_line_end = |input: &[u8]| match memchr::memchr(b'\n', input) {
            Some(i) => (i + 1, true),
            None => (input.len(), false),
        };
        let n = if !self.skip_line_start || (self.line.is_empty() && !plausible_prefix(input)) {
            let (n, ended) = to_line_end(input);
            self.skip_line_start = ended;
            self.stats.oversized_body_bytes += n as u64;
            n
        } else {
            match take_line(&mut self.line, input, self.cfg.max_header_bytes) {
                None => {
                    // Too long for a request line: the rest of this line is body.
                    self.stats.oversized_body_bytes += self.line.len() as u64;
                    self.line.clear();
                    self.skip_line_start = false;
                    0
                }
                Some((n, complete)) if !plausible_start(&self.line) => {
                    self.stats.oversized_body_bytes += self.line.len() as u64;
                    self.line.clear();
                    self.skip_line_start = complete;
                    n
                }
                Some((n, complete)) => {
                    if complete && parse_request_line(trim_eol(&self.line)).is_some() {
                        // The body was shorter than declared: frame the request found.
                        self.pos += n as u64;
                        self.end_request();
                        std::mem::swap(&mut self.head, &mut self.line);
                        self.line.clear();
                        self.first_line(true, sink);
                        return n;
                    }
                    if complete {
                        self.stats.oversized_body_bytes += self.line.len() as u64;
                        self.line.clear();
                    }
                    n
                }
            }
        };
        self.pos += n as u64;
        let remaining = remaining - n as u64;
        if remaining > 0 {
            self.state = State::Oversized { remaining, chunked };
            return n;
        }
        // The declared length is used up: a partial line still held is body too.
        self.stats.oversized_body_bytes += self.line.len() as u64;
        self.line.clear();
        if chunked {
            self.state = State::ChunkDataEnd;
        } else {
            self.complete(None, sink);
        }
        n
    }

    /// Handles the first line of a message (`head` holds it, LF included).
    fn first_line<F: FnMut(HttpEvent<'_>)>(&mut self, synced: bool, sink: &mut F) {
        let at = self.pos - self.head.len() as u64;
        let line = trim_eol(&self.head);
        if synced && line.is_empty() {
            self.stats.blank_line_bytes += self.head.len() as u64;
            self.head.clear();
        } else if let Some((method_end, target)) = parse_request_line(line) {
            self.flush_skip(sink);
            self.req_at = at;
            self.method_end = method_end;
            self.target = target;
            self.line_start = self.head.len();
            self.content_length = None;
            self.te_seen = false;
            self.te_chunked = false;
            self.body_len = 0;
            self.state = State::Headers;
        } else if is_status_line(line) {
            self.flush_skip(sink);
            self.stats.response_bytes += self.head.len() as u64;
            self.head.clear();
            self.state = State::Response;
            sink(HttpEvent::Response { at });
        } else {
            if synced {
                self.error(at, FramingError::MalformedRequestLine, sink);
            }
            let n = self.head.len() as u64;
            self.skip_bytes(at, n);
            self.head.clear();
            self.state = State::Line { synced: false };
        }
    }

    /// Handles one complete header line (`head[line_start..]`).
    fn header_line<F: FnMut(HttpEvent<'_>)>(&mut self, sink: &mut F) {
        let line = trim_eol(&self.head[self.line_start..]);
        if line.is_empty() {
            self.end_of_head(sink);
            return;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return self.abandon_head(FramingError::MalformedHeader, false, sink);
        };
        let name = &line[..colon];
        // Empty names, whitespace before the colon and obs-fold lines are rejected (RFC 9112 §5).
        if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
            return self.abandon_head(FramingError::MalformedHeader, false, sink);
        }
        let value = trim_ows(&line[colon + 1..]);
        if name.eq_ignore_ascii_case(b"content-length") {
            for v in value.split(|&b| b == b',') {
                let Some(n) = parse_decimal(trim_ows(v)) else {
                    return self.abandon_head(FramingError::InvalidContentLength, false, sink);
                };
                if self.content_length.is_some_and(|c| c != n) {
                    return self.abandon_head(FramingError::ConflictingContentLength, false, sink);
                }
                self.content_length = Some(n);
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            self.te_seen = true;
            if let Some(last) = value
                .split(|&b| b == b',')
                .map(trim_ows)
                .rfind(|c| !c.is_empty())
            {
                self.te_chunked = last.eq_ignore_ascii_case(b"chunked");
            }
        }
        self.line_start = self.head.len();
    }

    fn end_of_head<F: FnMut(HttpEvent<'_>)>(&mut self, sink: &mut F) {
        if self.te_seen && !self.te_chunked {
            return self.abandon_head(FramingError::UnsupportedTransferEncoding, false, sink);
        }
        self.stats.requests += 1;
        self.keep = self.selected();
        if self.te_seen {
            if self.content_length.is_some() {
                self.stats.content_length_with_chunked += 1;
            }
            self.line.clear();
            self.state = State::ChunkSize;
            return;
        }
        let len = self.content_length.unwrap_or(0);
        if len > self.cfg.max_body_bytes {
            return self.oversized(len, false, sink);
        }
        if len == 0 {
            self.complete(None, sink);
        } else {
            self.state = State::Body { remaining: len };
        }
    }

    fn chunk_size_line<F: FnMut(HttpEvent<'_>)>(&mut self, sink: &mut F) {
        let line = trim_eol(&self.line);
        let size = match line.iter().position(|&b| b == b';') {
            Some(i) => &line[..i],
            None => line,
        };
        let size = trim_ows(size);
        let digits = {
            let z = size.iter().take_while(|&&b| b == b'0').count();
            &size[z.min(size.len().saturating_sub(1))..]
        };
        if size.is_empty() || !size.iter().all(u8::is_ascii_hexdigit) {
            return self.chunk_error(FramingError::MalformedChunk, sink);
        }
        if digits.len() > 16 {
            return self.chunk_error(FramingError::ChunkSizeOverflow, sink);
        }
        let n = digits.iter().fold(0u64, |acc, &d| {
            (acc << 4) | u64::from((d as char).to_digit(16).unwrap_or(0))
        });
        self.line.clear();
        if n == 0 {
            self.trailer_bytes = 0;
            self.state = State::Trailers;
            return;
        }
        if self.oversized || self.body_len.saturating_add(n) > self.cfg.max_body_bytes {
            return self.oversized(n, true, sink);
        }
        self.state = State::ChunkData { remaining: n };
    }

    /// A chunked body whose framing broke: report, deliver what was kept, scan on.
    fn chunk_error<F: FnMut(HttpEvent<'_>)>(&mut self, error: FramingError, sink: &mut F) {
        let n = self.line.len() as u64;
        let at = self.pos - n;
        self.error(at, error, sink);
        self.incomplete(None, sink);
        self.skip_bytes(at, n);
        self.line.clear();
        self.state = State::Line { synced: false };
    }

    /// Consumes a prefix of `input` (at least one byte, or a state change that will) and returns
    /// its length.
    fn step<F: FnMut(HttpEvent<'_>)>(&mut self, input: &[u8], sink: &mut F) -> usize {
        match self.state {
            // The very first byte of a stream fed from its start: HTTP/1 begins with a method
            // token (or a status line's `H`), possibly after empty lines.
            State::Line { synced: true }
                if self.pos == 0
                    && self.head.is_empty()
                    && !matches!(input.first(), Some(&b) if is_tchar(b) || b == b'\r' || b == b'\n') =>
            {
                self.state = State::NotHttp;
                sink(HttpEvent::NotHttp {
                    first_byte: input.first().copied().unwrap_or(0),
                });
                0
            }
            // Scanning for a request line (TLS and other non-HTTP streams land here): a line whose
            // first bytes already rule out a request is passed over without being copied.
            State::Line { synced: false } if self.head.is_empty() && !plausible_prefix(input) => {
                let n = match memchr::memchr(b'\n', input) {
                    Some(i) => i + 1,
                    None => {
                        self.state = State::DeadLine;
                        input.len()
                    }
                };
                self.skip_bytes(self.pos, n as u64);
                self.pos += n as u64;
                n
            }
            State::Line { synced } => {
                let Some((n, complete)) =
                    take_line(&mut self.head, input, self.cfg.max_header_bytes)
                else {
                    // A line this long is no request line: pass over the rest of it.
                    if synced {
                        let at = self.pos - self.head.len() as u64;
                        let limit = self.cfg.max_header_bytes;
                        self.error(at, FramingError::HeaderTooLarge { limit }, sink);
                    }
                    let n = self.head.len() as u64;
                    self.skip_bytes(self.pos - n, n);
                    self.head.clear();
                    self.state = State::DeadLine;
                    return 0;
                };
                self.pos += n as u64;
                if !synced && !plausible_start(&self.head) {
                    let len = self.head.len() as u64;
                    self.skip_bytes(self.pos - len, len);
                    self.head.clear();
                    if !complete {
                        self.state = State::DeadLine;
                    }
                } else if complete {
                    self.first_line(synced, sink);
                }
                n
            }
            State::DeadLine => {
                let n = match memchr::memchr(b'\n', input) {
                    Some(i) => {
                        self.state = State::Line { synced: false };
                        i + 1
                    }
                    None => input.len(),
                };
                self.skip_bytes(self.pos, n as u64);
                self.pos += n as u64;
                n
            }
            State::Headers => {
                let Some((n, complete)) =
                    take_line(&mut self.head, input, self.cfg.max_header_bytes)
                else {
                    let limit = self.cfg.max_header_bytes;
                    self.abandon_head(FramingError::HeaderTooLarge { limit }, true, sink);
                    return 0;
                };
                self.pos += n as u64;
                if complete {
                    self.header_line(sink);
                }
                n
            }
            State::Body { remaining } => {
                let n = remaining.min(input.len() as u64) as usize;
                self.pos += n as u64;
                if self.keep && self.body.is_empty() && n as u64 == remaining {
                    // The whole body is in this chunk: hand it over without copying.
                    self.body_len = remaining;
                    self.complete(Some(&input[..n]), sink);
                    return n;
                }
                self.body_bytes(&input[..n]);
                if n as u64 == remaining {
                    self.complete(None, sink);
                } else {
                    self.state = State::Body {
                        remaining: remaining - n as u64,
                    };
                }
                n
            }
            State::Oversized { remaining, chunked } => {
                self.skip_oversized(input, remaining, chunked, sink)
            }
            State::ChunkSize => {
                let Some((n, complete)) = take_line(&mut self.line, input, MAX_CHUNK_LINE) else {
                    self.chunk_error(FramingError::MalformedChunk, sink);
                    self.state = State::DeadLine;
                    return 0;
                };
                self.pos += n as u64;
                if complete {
                    self.chunk_size_line(sink);
                }
                n
            }
            State::ChunkData { remaining } => {
                let n = remaining.min(input.len() as u64) as usize;
                self.pos += n as u64;
                self.body_bytes(&input[..n]);
                self.state = if n as u64 == remaining {
                    State::ChunkDataEnd
                } else {
                    State::ChunkData {
                        remaining: remaining - n as u64,
                    }
                };
                n
            }
            State::ChunkDataEnd => {
                // Exactly CRLF (or a bare LF) follows chunk data. Judged byte by byte, so that
                // where the stream happens to be cut never moves the point of resynchronisation.
                match input.first() {
                    Some(b'\n') => {
                        self.pos += 1;
                        self.line.clear();
                        self.state = State::ChunkSize;
                        1
                    }
                    Some(b'\r') if self.line.is_empty() => {
                        self.pos += 1;
                        self.line.push(b'\r');
                        1
                    }
                    Some(_) => {
                        self.chunk_error(FramingError::MalformedChunk, sink);
                        0
                    }
                    None => 0,
                }
            }
            State::Trailers => {
                let cap = self.cfg.max_header_bytes.saturating_sub(self.trailer_bytes);
                let Some((n, complete)) = take_line(&mut self.line, input, cap) else {
                    let limit = self.cfg.max_header_bytes;
                    self.chunk_error(FramingError::HeaderTooLarge { limit }, sink);
                    self.state = State::DeadLine;
                    return 0;
                };
                self.pos += n as u64;
                if complete {
                    self.trailer_bytes += self.line.len();
                    let line = trim_eol(&self.line);
                    let valid = line
                        .iter()
                        .position(|&b| b == b':')
                        .is_some_and(|c| c > 0 && line[..c].iter().all(|&b| is_tchar(b)));
                    if line.is_empty() {
                        self.line.clear();
                        self.complete(None, sink);
                    } else if valid {
                        self.line.clear();
                    } else {
                        self.chunk_error(FramingError::MalformedHeader, sink);
                    }
                }
                n
            }
            State::Response => {
                self.pos += input.len() as u64;
                self.stats.response_bytes += input.len() as u64;
                input.len()
            }
            State::NotHttp => {
                self.pos += input.len() as u64;
                self.stats.non_http_bytes += input.len() as u64;
                input.len()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Ev {
        Req(u64, String, String, Vec<u8>),
        Unsel(u64, String, String, u64),
        Incomplete(u64, String, Vec<u8>, Option<u64>),
        Err(u64, FramingError),
        Skip(u64, u64),
        Resp(u64),
        NotHttp(u8),
        Over(u64, String, bool, Option<u64>),
    }

    fn own(e: HttpEvent<'_>) -> Ev {
        match e {
            HttpEvent::Request {
                at,
                method,
                target,
                body,
            } => Ev::Req(at, method.into(), target.into(), body.to_vec()),
            HttpEvent::Unselected {
                at,
                method,
                target,
                body_len,
            } => Ev::Unsel(at, method.into(), target.into(), body_len),
            HttpEvent::IncompleteBody {
                at,
                target,
                received,
                missing,
                ..
            } => Ev::Incomplete(at, target.into(), received.to_vec(), missing),
            HttpEvent::Error { at, error } => Ev::Err(at, error),
            HttpEvent::Skipped { at, len } => Ev::Skip(at, len),
            HttpEvent::Response { at } => Ev::Resp(at),
            HttpEvent::NotHttp { first_byte } => Ev::NotHttp(first_byte),
            HttpEvent::OversizedBody {
                at,
                target,
                selected,
                declared,
                ..
            } => Ev::Over(at, target.into(), selected, declared),
        }
    }

    fn run_with(f: &mut RequestFramer, chunks: &[&[u8]]) -> Vec<Ev> {
        let mut out = Vec::new();
        for c in chunks {
            f.feed(c, |e| out.push(own(e)));
        }
        f.finish(|e| out.push(own(e)));
        out
    }

    fn run(input: &[u8]) -> Vec<Ev> {
        run_with(&mut RequestFramer::new(), &[input])
    }

    const COLLECTOR: &str = "/Data/SMS2DataCollector.aspx";
    const POST: &[u8] = b"POST /Data/SMS2DataCollector.aspx HTTP/1.1\r\nHost: collector\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\n100\tSPMS\t10\n";
    const CHUNKED: &[u8] = b"POST /Command/SMS2DataCollector.aspx HTTP/1.1\r\ntransfer-encoding: gzip, Chunked\r\n\r\n5;ext=\"a b\"\r\n100\tS\r\n0007 \r\nPMS\t10\n\r\n0\r\nX-Trailer: 1\r\n\r\n";

    fn req(at: u64, target: &str, body: &[u8]) -> Ev {
        Ev::Req(at, "POST".into(), target.into(), body.to_vec())
    }

    #[test]
    fn content_length_body_is_delivered_without_copy() {
        let mut f = RequestFramer::new();
        let mut ok = false;
        let post = POST.to_vec();
        f.feed(&post, |e| {
            if let HttpEvent::Request { body, .. } = e {
                ok =
                    body.as_ptr() == post[post.len() - 12..].as_ptr() && body == b"100\tSPMS\t10\n";
            }
        });
        assert!(ok);
        assert_eq!(f.stats().bodies_delivered, 1);
    }

    #[test]
    fn request_split_at_every_byte_yields_same_event() {
        for i in 0..=POST.len() {
            for j in i..=POST.len() {
                let ev = run_with(
                    &mut RequestFramer::new(),
                    &[&POST[..i], &POST[i..j], &POST[j..]],
                );
                assert_eq!(
                    ev,
                    vec![req(0, COLLECTOR, b"100\tSPMS\t10\n")],
                    "split {i} {j}"
                );
            }
        }
    }

    #[test]
    fn garbage_after_chunk_data_resyncs_at_the_same_byte_however_the_stream_is_cut() {
        let stream: &[u8] = b"POST /Data/SMS2DataCollector.aspx HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\naXYPOST / HTTP/1.1\r\n\r\n";
        let whole = run(stream);
        for cut in 1..stream.len() {
            let (a, b) = stream.split_at(cut);
            assert_eq!(
                run_with(&mut RequestFramer::new(), &[a, b]),
                whole,
                "cut at {cut}"
            );
        }
        // The bad byte right after the chunk is where scanning starts: nothing is skipped.
        assert!(
            whole
                .iter()
                .any(|e| matches!(e, Ev::Unsel(_, m, _, _) if m == "XYPOST")),
            "{whole:?}"
        );
        assert!(
            !whole.iter().any(|e| matches!(e, Ev::Skip(..))),
            "{whole:?}"
        );
    }

    #[test]
    fn chunked_body_split_at_every_byte() {
        let want = vec![req(
            0,
            "/Command/SMS2DataCollector.aspx",
            b"100\tSPMS\t10\n",
        )];
        let mut f = RequestFramer::new();
        let one: Vec<&[u8]> = CHUNKED.chunks(1).collect();
        assert_eq!(run_with(&mut f, &one), want);
        for i in 0..=CHUNKED.len() {
            assert_eq!(
                run_with(&mut RequestFramer::new(), &[&CHUNKED[..i], &CHUNKED[i..]]),
                want
            );
        }
    }

    #[test]
    fn keep_alive_two_requests() {
        let mut s = b"GET /status?x=1 HTTP/1.1\r\nHost: a\r\n\r\n".to_vec();
        s.extend_from_slice(POST);
        s.extend_from_slice(b"POST /other HTTP/1.1\r\ncontent-length: 3\r\n\r\nabc");
        s.extend_from_slice(CHUNKED);
        let first = 37u64;
        let third = first + POST.len() as u64;
        let fourth = third + 46;
        assert_eq!(
            run(&s),
            vec![
                Ev::Unsel(0, "GET".into(), "/status?x=1".into(), 0),
                req(first, COLLECTOR, b"100\tSPMS\t10\n"),
                Ev::Unsel(third, "POST".into(), "/other".into(), 3),
                req(
                    fourth,
                    "/Command/SMS2DataCollector.aspx",
                    b"100\tSPMS\t10\n"
                ),
            ]
        );
    }

    #[test]
    fn header_names_in_any_case_and_lf_line_ends() {
        let s = b"POST http://collector.example/Data/SMS2DataCollector.aspx?a=b HTTP/1.0\nCONTENT-LENGTH:  2\n\nab";
        assert_eq!(
            run(s),
            vec![req(
                0,
                "http://collector.example/Data/SMS2DataCollector.aspx?a=b",
                b"ab"
            )]
        );
    }

    #[test]
    fn unselected_bodies_are_counted_not_kept() {
        let mut f = RequestFramer::new();
        let ev = run_with(
            &mut f,
            &[
                b"PUT /x HTTP/1.1\r\nContent-Length: 5\r\n\r\n",
                b"hel",
                b"lo",
            ],
        );
        assert_eq!(ev, vec![Ev::Unsel(0, "PUT".into(), "/x".into(), 5)]);
        assert_eq!(f.stats().discarded_body_bytes, 5);
        assert_eq!(f.stats().requests, 1);
    }

    #[test]
    fn all_post_filter_keeps_other_post_bodies() {
        let cfg = FramerConfig {
            bodies: BodyFilter::AllPost,
            ..Default::default()
        };
        let mut f = RequestFramer::with_config(cfg);
        let ev = run_with(&mut f, &[b"POST /x HTTP/1.1\r\nContent-Length: 1\r\n\r\nz"]);
        assert_eq!(ev, vec![req(0, "/x", b"z")]);
    }

    #[test]
    fn mid_stream_start_syncs_on_next_request_line() {
        let mut s = b"130\t20170107171000\tserial\n140\tx\n".to_vec();
        let skipped = s.len() as u64;
        s.extend_from_slice(POST);
        let mut f = RequestFramer::new().mid_stream();
        assert_eq!(
            run_with(&mut f, &[&s]),
            vec![
                Ev::Skip(0, skipped),
                req(skipped, COLLECTOR, b"100\tSPMS\t10\n")
            ]
        );
        assert_eq!(f.stats().skipped_bytes, skipped);
        assert_eq!(f.stats().errors, 0);
    }

    #[test]
    fn malformed_request_line_is_error_then_resyncs() {
        let mut s = b"garbage line\r\nmore\r\n".to_vec();
        s.extend_from_slice(POST);
        assert_eq!(
            run(&s),
            vec![
                Ev::Err(0, FramingError::MalformedRequestLine),
                Ev::Skip(0, 20),
                req(20, COLLECTOR, b"100\tSPMS\t10\n")
            ]
        );
    }

    #[test]
    fn a_stream_starting_with_a_non_token_byte_is_not_http_and_is_not_scanned() {
        // A TLS ClientHello whose payload happens to hold a request line.
        let mut stream = vec![0x16, 0x03, 0x01, 0x00, 0x40];
        stream.extend_from_slice(b"x\nPOST /Data/SMS2DataCollector.aspx HTTP/1.1\r\n\r\n");
        for cut in 0..stream.len() {
            let mut f = RequestFramer::new();
            let ev = run_with(&mut f, &[&stream[..cut], &stream[cut..]]);
            assert_eq!(ev, [Ev::NotHttp(0x16)], "cut at {cut}");
            assert!(f.is_not_http() && !f.is_response());
            let s = *f.stats();
            assert_eq!(
                (s.non_http_bytes, s.errors, s.skipped_bytes, s.requests),
                (stream.len() as u64, 0, 0, 0)
            );
            // A hole and the end change nothing: the stream stays classified.
            f.gap(10, |_| panic!("event after a gap"));
            f.feed(b"GET / HTTP/1.1\r\n\r\n", |_| panic!("event after NotHttp"));
            f.finish(|_| panic!("event at the end"));
            assert_eq!(f.stats().non_http_bytes, stream.len() as u64 + 18);
        }
    }

    #[test]
    fn only_the_first_byte_of_a_stream_fed_from_its_start_decides() {
        // Empty lines may precede a request; a binary byte later is ordinary garbage.
        assert_eq!(
            run(b"\r\nGET / HTTP/1.1\r\n\r\n"),
            [Ev::Unsel(2, "GET".into(), "/".into(), 0)]
        );
        let ev = run(b"\x16\x03 junk\n");
        assert_eq!(ev, [Ev::NotHttp(0x16)]);
        let ev = run(b"GET / HTTP/1.1\r\n\r\n\x16\x03 junk\n");
        // Later in the stream it is a malformed request line, as any garbage would be.
        assert_eq!(
            ev,
            [
                Ev::Unsel(0, "GET".into(), "/".into(), 0),
                Ev::Err(18, FramingError::MalformedRequestLine),
                Ev::Skip(18, 8)
            ]
        );
        // Mid-stream, or after a hole at the start, the first byte proves nothing: scan.
        let mut f = RequestFramer::new().mid_stream();
        let ev = run_with(&mut f, &[b"\x16\x03 junk\nGET / HTTP/1.1\r\n\r\n"]);
        assert_eq!(
            ev,
            [Ev::Skip(0, 8), Ev::Unsel(8, "GET".into(), "/".into(), 0)]
        );
        assert!(!f.is_not_http());
        let mut f = RequestFramer::new();
        f.gap(3, |_| {});
        let mut ev = Vec::new();
        f.feed(b"\x16\x03 junk\n", |e| ev.push(own(e)));
        f.finish(|e| ev.push(own(e)));
        assert_eq!(ev, [Ev::Skip(3, 8)]);
        assert!(!f.is_not_http());
    }

    #[test]
    fn blank_lines_before_request_are_ignored() {
        let mut s = b"\r\n\n".to_vec();
        s.extend_from_slice(POST);
        let mut f = RequestFramer::new();
        assert_eq!(
            run_with(&mut f, &[&s]),
            vec![req(3, COLLECTOR, b"100\tSPMS\t10\n")]
        );
        assert_eq!(f.stats().blank_line_bytes, 3);
    }

    #[test]
    fn conflicting_content_length_is_error_and_resyncs() {
        let bad = b"POST /Data/SMS2DataCollector.aspx HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd\n";
        let mut s = bad.to_vec();
        s.extend_from_slice(POST);
        let n = bad.len() as u64;
        let mut f = RequestFramer::new();
        assert_eq!(
            run_with(&mut f, &[&s]),
            vec![
                Ev::Err(0, FramingError::ConflictingContentLength),
                Ev::Skip(0, n),
                req(n, COLLECTOR, b"100\tSPMS\t10\n")
            ]
        );
        assert_eq!(f.stats().errors, 1);
        assert_eq!(f.stats().skipped_bytes, n);
    }

    #[test]
    fn repeated_equal_content_lengths_are_accepted() {
        let s = b"POST /SMS2DataCollector.aspx HTTP/1.1\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok";
        assert_eq!(run(s), vec![req(0, "/SMS2DataCollector.aspx", b"ok")]);
    }

    #[test]
    fn invalid_content_length_is_error() {
        let s = b"POST /a HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n";
        assert_eq!(
            run(s),
            vec![
                Ev::Err(0, FramingError::InvalidContentLength),
                Ev::Skip(0, s.len() as u64)
            ]
        );
    }

    #[test]
    fn content_length_with_chunked_frames_as_chunked() {
        let s = b"POST /SMS2DataCollector.aspx HTTP/1.1\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n";
        let mut f = RequestFramer::new();
        assert_eq!(
            run_with(&mut f, &[s]),
            vec![req(0, "/SMS2DataCollector.aspx", b"ab")]
        );
        assert_eq!(f.stats().content_length_with_chunked, 1);
    }

    #[test]
    fn transfer_coding_not_ending_in_chunked_is_error() {
        let s = b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n";
        assert_eq!(
            run(s),
            vec![
                Ev::Err(0, FramingError::UnsupportedTransferEncoding),
                Ev::Skip(0, s.len() as u64)
            ]
        );
    }

    #[test]
    fn chunk_size_overflow_is_error_and_partial_body_delivered() {
        let head = b"POST /SMS2DataCollector.aspx HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n";
        let mut s = head.to_vec();
        s.extend_from_slice(b"10000000000000000\r\n");
        s.extend_from_slice(POST);
        let h = head.len() as u64;
        assert_eq!(
            run(&s),
            vec![
                Ev::Err(h, FramingError::ChunkSizeOverflow),
                Ev::Incomplete(0, "/SMS2DataCollector.aspx".into(), b"a".to_vec(), None),
                Ev::Skip(h, 19),
                req(h + 19, COLLECTOR, b"100\tSPMS\t10\n"),
            ]
        );
    }

    #[test]
    fn missing_crlf_after_chunk_data_is_error() {
        let s = b"POST /SMS2DataCollector.aspx HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc\r\n";
        let ev = run(s);
        assert_eq!(ev[0], Ev::Err(73, FramingError::MalformedChunk));
        assert_eq!(
            ev[1],
            Ev::Incomplete(0, "/SMS2DataCollector.aspx".into(), b"a".to_vec(), None)
        );
    }

    #[test]
    fn body_larger_than_max_is_skipped_and_next_request_follows() {
        let cfg = FramerConfig {
            max_body_bytes: 4,
            ..Default::default()
        };
        let mut f = RequestFramer::with_config(cfg);
        let mut s = POST.to_vec();
        s.extend_from_slice(
            b"POST /SMS2DataCollector.aspx HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd",
        );
        let second = POST.len() as u64;
        assert_eq!(
            run_with(&mut f, &[&s]),
            vec![
                Ev::Over(0, COLLECTOR.into(), true, Some(12)),
                req(second, "/SMS2DataCollector.aspx", b"abcd")
            ]
        );
        let st = f.stats();
        assert_eq!((st.oversized_bodies, st.oversized_body_bytes), (1, 12));
        assert_eq!((st.requests, st.discarded_body_bytes, st.errors), (2, 0, 0));
    }

    /// Issue 12: a declared length over the limit, kept or not, must not swallow the requests
    /// that follow on the connection; every byte passed over is counted.
    #[test]
    fn a_huge_declared_body_is_skipped_up_to_the_next_request_line() {
        let huge: [(&[u8], &str, bool, u64); 3] = [
            (b"GET / HTTP/1.1\r\nContent-Length: 1000000000\r\n\r\n", "/", false, 1_000_000_000),
            (b"POST /favicon.ico HTTP/1.1\r\nContent-Length: 9223372036854775808\r\n\r\n", "/favicon.ico", false, 1 << 63),
            (b"POST /Data/SMS2DataCollector.aspx HTTP/1.1\r\nContent-Length: 9223372036854775808\r\n\r\n", COLLECTOR, true, 1 << 63),
        ];
        for (head, target, selected, declared) in huge {
            // The "body": a line of junk, a line that only starts like a request, then two posts.
            let junk: &[u8] = b"100\tSPMS\t1\nPOST /x HTTP/9.9 no\n";
            let mut s = [head, junk, POST].concat();
            s.extend_from_slice(POST);
            let first = (head.len() + junk.len()) as u64;
            let second = first + POST.len() as u64;
            for chunk in [1, 7, s.len()] {
                let mut f = RequestFramer::new();
                let chunks: Vec<&[u8]> = s.chunks(chunk).collect();
                assert_eq!(
                    run_with(&mut f, &chunks),
                    vec![
                        Ev::Over(0, target.into(), selected, Some(declared)),
                        req(first, COLLECTOR, b"100\tSPMS\t10\n"),
                        req(second, COLLECTOR, b"100\tSPMS\t10\n"),
                    ],
                    "{target}, chunks of {chunk}"
                );
                let st = f.stats();
                assert_eq!(st.requests, 3);
                assert_eq!(st.oversized_bodies, 1);
                assert_eq!(st.oversized_body_bytes, junk.len() as u64);
                assert_eq!((st.skipped_bytes, st.errors), (0, 0));
            }
        }
    }

    #[test]
    fn an_oversized_body_cut_by_a_gap_or_the_end_counts_what_was_skipped() {
        let head = b"GET / HTTP/1.1\r\nContent-Length: 1000000000\r\n\r\n";
        let mut f = RequestFramer::new();
        let mut ev = Vec::new();
        f.feed(head, |e| ev.push(own(e)));
        f.feed(b"abc\nPOS", |e| ev.push(own(e)));
        f.gap(10, |e| ev.push(own(e)));
        f.feed(POST, |e| ev.push(own(e)));
        let at = head.len() as u64 + 7 + 10;
        assert_eq!(
            ev,
            [
                Ev::Over(0, "/".into(), false, Some(1_000_000_000)),
                req(at, COLLECTOR, b"100\tSPMS\t10\n")
            ]
        );
        assert_eq!(f.stats().oversized_body_bytes, 7);
        // A body that really is as long as declared ends by count.
        let cfg = FramerConfig {
            max_body_bytes: 2,
            ..Default::default()
        };
        let mut f = RequestFramer::with_config(cfg);
        let s = [
            &b"GET / HTTP/1.1\r\nContent-Length: 6\r\n\r\nGET / "[..],
            POST,
        ]
        .concat();
        assert_eq!(
            run_with(&mut f, &[&s]),
            [
                Ev::Over(0, "/".into(), false, Some(6)),
                Ev::Over(43, COLLECTOR.into(), true, Some(12)),
            ]
        );
        assert_eq!(f.stats().oversized_body_bytes, 6 + 12);
    }

    #[test]
    fn chunked_body_over_max_is_skipped() {
        let cfg = FramerConfig {
            max_body_bytes: 3,
            ..Default::default()
        };
        let mut f = RequestFramer::with_config(cfg);
        let s = b"POST /SMS2DataCollector.aspx HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n2\r\ncd\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n";
        assert_eq!(
            run_with(&mut f, &[s]),
            vec![
                Ev::Over(0, "/SMS2DataCollector.aspx".into(), true, None),
                Ev::Unsel(88, "GET".into(), "/".into(), 0)
            ]
        );
        let st = f.stats();
        assert_eq!((st.discarded_body_bytes, st.oversized_body_bytes), (2, 2));
    }

    #[test]
    fn gap_in_body_delivers_incomplete_then_resyncs() {
        let mut f = RequestFramer::new();
        let mut out = Vec::new();
        f.feed(&POST[..POST.len() - 8], |e| out.push(own(e)));
        f.gap(6, |e| out.push(own(e)));
        f.feed(b"\n", |e| out.push(own(e)));
        f.feed(POST, |e| out.push(own(e)));
        let at = POST.len() as u64 - 8 + 6;
        assert_eq!(
            out,
            vec![
                Ev::Incomplete(0, COLLECTOR.into(), b"100\t".to_vec(), Some(8)),
                Ev::Skip(at, 1),
                req(at + 1, COLLECTOR, b"100\tSPMS\t10\n"),
            ]
        );
        assert_eq!(f.stats().gap_bytes, 6);
        assert_eq!(f.stats().incomplete_bodies, 1);
    }

    #[test]
    fn finish_mid_body_reports_missing() {
        assert_eq!(
            run(&POST[..POST.len() - 2]),
            vec![Ev::Incomplete(
                0,
                COLLECTOR.into(),
                b"100\tSPMS\t1".to_vec(),
                Some(2)
            )]
        );
    }

    #[test]
    fn finish_mid_head_reports_skipped() {
        assert_eq!(run(&POST[..30]), vec![Ev::Skip(0, 30)]);
    }

    #[test]
    fn response_stream_is_detected_and_ignored() {
        let mut f = RequestFramer::new();
        let s = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n1002\tPOST /x HTTP/1.1\r\n";
        assert_eq!(run_with(&mut f, &[s]), vec![Ev::Resp(0)]);
        assert!(f.is_response());
        assert_eq!(f.stats().response_bytes, s.len() as u64);
    }

    #[test]
    fn response_found_while_scanning() {
        let mut f = RequestFramer::new().mid_stream();
        assert_eq!(
            run_with(&mut f, &[b"ab\nHTTP/1.1 200\r\n"]),
            vec![Ev::Skip(0, 3), Ev::Resp(3)]
        );
    }

    #[test]
    fn header_section_over_cap_is_error() {
        let cfg = FramerConfig {
            max_header_bytes: 64,
            ..Default::default()
        };
        let mut f = RequestFramer::with_config(cfg);
        let mut s = b"GET / HTTP/1.1\r\nX: ".to_vec();
        s.extend_from_slice(&[b'a'; 100]);
        s.extend_from_slice(b"\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
        let n = s.len() as u64 - 19;
        assert_eq!(
            run_with(&mut f, &[&s]),
            vec![
                Ev::Err(0, FramingError::HeaderTooLarge { limit: 64 }),
                Ev::Skip(0, n),
                Ev::Unsel(n, "GET".into(), "/b".into(), 0)
            ]
        );
    }

    #[test]
    fn obs_fold_and_space_before_colon_are_rejected() {
        let s = b"GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n";
        assert_eq!(run(s)[0], Ev::Err(0, FramingError::MalformedHeader));
        let s = b"GET / HTTP/1.1\r\nA : b\r\n\r\n";
        assert_eq!(run(s)[0], Ev::Err(0, FramingError::MalformedHeader));
    }

    #[test]
    fn paths_and_channels() {
        assert_eq!(request_path("/a/b?c#d"), "/a/b");
        assert_eq!(request_path("https://h?x"), "/");
        assert_eq!(request_path("*"), "*");
        assert!(is_collector_path(request_path(
            "http://h/Data/SMS2DataCollector.aspx?x"
        )));
        let channel = |t| collector_target(t).and_then(|c| c.channel);
        assert_eq!(
            channel("/x/Data/SMS2DataCollector.aspx"),
            Some(Channel::Data)
        );
        assert_eq!(
            channel("/DATA/COMMAND/SMS2DataCollector.aspx"),
            Some(Channel::Command)
        );
        assert_eq!(channel("SMS2DataCollector.aspx"), None);
        assert_eq!(collector_target("/Data/SMS2DataCollector.aspx.bak"), None);
        // Moved from sunpower-proto's `Channel::from_path`.
        assert_eq!(
            path_channel("/command/sms2datacollector.aspx?x=1"),
            Some(Channel::Command)
        );
        assert_eq!(path_channel("/index.html"), None);
    }

    /// The first versions of `request_path` and `path_channel`, on `str` searches: the
    /// byte versions must agree with them on everything.
    fn request_path_by_str(target: &str) -> &str {
        let rest = match target.find("://") {
            Some(i) if !target.starts_with('/') => {
                let after = &target[i + 3..];
                match after.find(['/', '?', '#']) {
                    Some(j) if after.as_bytes()[j] == b'/' => &after[j..],
                    _ => return "/",
                }
            }
            _ => target,
        };
        match rest.find(['?', '#']) {
            Some(i) => &rest[..i],
            None => rest,
        }
    }

    fn channel_by_str(path: &str) -> Option<Channel> {
        let path = path.split(['?', '#']).next().unwrap_or(path);
        let dirs = &path[..path.rfind('/')?];
        dirs.rsplit('/').find_map(|dir| {
            if dir.eq_ignore_ascii_case("data") {
                Some(Channel::Data)
            } else if dir.eq_ignore_ascii_case("command") {
                Some(Channel::Command)
            } else {
                None
            }
        })
    }

    proptest! {
        #[test]
        fn paths_and_channels_agree_with_the_str_versions(
            target in "(http://|https://|/|\\*|h:/)?([/:?#.é]|Data|data|COMMAND|Command|x|aspx){0,12}",
        ) {
            prop_assert_eq!(request_path(&target), request_path_by_str(&target));
            prop_assert_eq!(path_channel(&target), channel_by_str(&target));
            let path = request_path_by_str(&target);
            let expected = path
                .to_ascii_lowercase()
                .ends_with("sms2datacollector.aspx")
                .then(|| CollectorTarget { channel: channel_by_str(path) });
            prop_assert_eq!(collector_target(&target), expected);
        }
    }

    fn message() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            Just(POST.to_vec()),
            Just(CHUNKED.to_vec()),
            Just(b"GET /x HTTP/1.1\r\nHost: y\r\n\r\n".to_vec()),
            Just(b"POST /other HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi".to_vec()),
            Just(b"junk line\n".to_vec()),
            Just(b"GET /big HTTP/1.1\r\nContent-Length: 999999999999\r\n\r\nbody\n".to_vec()),
            Just(b"POST /SMS2DataCollector.aspx HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n".to_vec()),
        ]
    }

    proptest! {
        #[test]
        fn any_split_yields_same_events(
            msgs in proptest::collection::vec(message(), 1..6),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
        ) {
            let stream: Vec<u8> = msgs.concat();
            let whole = run(&stream);
            let mut points: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
            points.push(0);
            points.push(stream.len());
            points.sort_unstable();
            let chunks: Vec<&[u8]> = points.windows(2).map(|w| &stream[w[0]..w[1]]).collect();
            prop_assert_eq!(run_with(&mut RequestFramer::new(), &chunks), whole);
        }

        #[test]
        fn arbitrary_input_never_panics(
            parts in proptest::collection::vec(
                (proptest::collection::vec(prop_oneof![Just(b'\n'), Just(b' '), Just(b'0'), any::<u8>()], 0..80), 0u64..3),
                0..20),
            prefix in message(),
            cap in 8usize..100,
        ) {
            let cfg = FramerConfig { max_header_bytes: cap, max_body_bytes: 50, bodies: BodyFilter::All };
            let mut f = RequestFramer::with_config(cfg);
            let mut skipped = 0;
            f.feed(&prefix, |_| {});
            for (bytes, gap) in &parts {
                f.feed(bytes, |e| if let HttpEvent::Skipped { len, .. } = e { skipped += len });
                if *gap > 0 {
                    f.gap(*gap, |e| if let HttpEvent::Skipped { len, .. } = e { skipped += len });
                }
                prop_assert!(f.head.len() <= cap && f.body.len() <= 50);
            }
            f.finish(|e| if let HttpEvent::Skipped { len, .. } = e { skipped += len });
            prop_assert_eq!(skipped, f.stats().skipped_bytes);
        }
    }
}
