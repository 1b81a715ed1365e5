//! The whole pipeline, sans I/O: captured packets in, collector POSTs and positioned problems out.
//!
//! [`Decoder::packet`] takes one captured [`Packet`] and runs it down the stages: link layer
//! ([`crate::link`]), IP and TCP headers ([`crate::ip`]), the connection table and reassembly
//! ([`crate::flow`]), and one HTTP request framer per direction ([`crate::http`]). What comes out
//! is [`Event::Post`] for each collector request whose body is complete, or cut by a hole (then
//! marked incomplete, with the number of bytes missing), and [`Event::Problem`] for everything that
//! went wrong, with its position. [`Decoder::finish`] flushes the connections at the end of the
//! input. [`CaptureDecoder`] glues a [`CaptureReader`] in front of it.
//!
//! Nothing is dropped silently: every packet is either decoded or counted in [`DecodeStats`]
//! (not IP, not TCP, fragment, truncated, damaged), and every stream byte is either delivered,
//! counted as a gap, a duplicate, out of window, after the close (reported), or skipped by the
//! HTTP layer. A copy of stream bytes with another content than the kept one is reported too.
//!
//! Both directions of a connection get a framer: the one that sees a status line (the server's)
//! ignores the rest of its stream. This handles connections picked up without their SYN, where
//! who is the client is not known.
//!
//! ```
//! use sunpower_pcap::decoder::{CaptureDecoder, DecoderConfig, Event};
//! use sunpower_pcap::capture::Input;
//!
//! // The repository's sample capture: a day of a home's network, 336 collector posts among
//! // 12,324 packets, daylight bodies split over two or three TCP segments.
//! let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sample.pcap");
//! let mut decoder = CaptureDecoder::new(vec![Input::from_path(sample)], DecoderConfig::default());
//! let mut bodies = Vec::new();
//! decoder.run(|event| {
//!     if let Event::Post(post) = event {
//!         assert!(post.complete());
//!         bodies.push(post.body.to_vec());
//!     }
//! });
//! assert_eq!(bodies.len(), 336);
//! assert!(bodies[0].starts_with(b"100\tSPMS\t10\tZT163785000441C0593\t20260621070425\n120\t"));
//! assert_eq!(bodies[80].len(), 2906); // the first daylight post, over three segments
//! assert_eq!(decoder.stats().posts, 336);
//! ```

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sunpower_proto::{Body, Channel, DecodedRecord, LineError, Record, Records};

use crate::capture::{CaptureError, CaptureReader, Input, Packet};
use crate::flow::{Direction, Endpoint, FlowConfig, FlowEvent, FlowId, FlowTable};
use crate::http::{collector_target, FramerConfig, FramingError, HttpEvent, RequestFramer};
use crate::ip::{decode_ip, IpError, Transport, PROTO_TCP};
use crate::link::{decode_link, LinkError};
use crate::tcp::{StreamEvent, TcpStats};

/// Options of a [`Decoder`].
///
/// ```
/// use sunpower_pcap::decoder::DecoderConfig;
/// use sunpower_pcap::http::BodyFilter;
/// let mut cfg = DecoderConfig::default();
/// cfg.http.bodies = BodyFilter::AllPost; // every POST body, not only the collector's
/// assert_eq!(cfg.flow.max_flows, 65_536);
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct DecoderConfig {
    /// Connection table and reassembly limits.
    pub flow: FlowConfig,
    /// HTTP framing limits and which bodies are kept.
    pub http: FramerConfig,
    /// Bytes all connections together may take (default 32 MiB), as Suricata's stream memcap:
    /// each connection's state (a few hundred bytes), the out-of-order data its reassemblers
    /// buffer, its request heads and kept bodies in progress. Past it, the least recently
    /// active connections are flushed early, each counted in
    /// [`DecodeStats::connections_over_budget`] and reported: their holes become gaps, a body in
    /// progress an incomplete post. The default keeps `sunpower stats` within 64 MiB of memory
    /// on any capture.
    pub memory_budget: usize,
}

impl Default for DecoderConfig {
    fn default() -> Self {
        DecoderConfig {
            flow: FlowConfig::default(),
            http: FramerConfig::default(),
            memory_budget: 32 << 20,
        }
    }
}

/// Where something happened: the input, the packet, the connection.
///
/// ```
/// use sunpower_pcap::decoder::Position;
/// let at = Position { input: "day.pcap".into(), packet: 12, flow: Some(3) };
/// assert_eq!(at.to_string(), "day.pcap: packet 12, flow 3");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// Name of the capture input (file name, or `<stdin>`).
    pub input: Arc<str>,
    /// Packet number within that input, from 1 (the packet being decoded when it happened; at
    /// the end of the input, the last one).
    pub packet: u64,
    /// The connection, when the problem belongs to one.
    pub flow: Option<FlowId>,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: packet {}", self.input, self.packet)?;
        if let Some(flow) = self.flow {
            write!(f, ", flow {flow}")?;
        }
        Ok(())
    }
}

/// Something that went wrong, with where.
///
/// ```
/// use sunpower_pcap::decoder::{Position, Problem, ProblemKind};
/// let problem = Problem {
///     position: Position { input: "day.pcap".into(), packet: 40, flow: Some(2) },
///     kind: ProblemKind::Gap { at: 1460, len: 1448, direction: "client to server" },
/// };
/// assert_eq!(
///     problem.to_string(),
///     "day.pcap: packet 40, flow 2: 1448 bytes missing at stream offset 1460 (client to server)"
/// );
/// ```
#[derive(Debug)]
pub struct Problem {
    /// Where.
    pub position: Position,
    /// What.
    pub kind: ProblemKind,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            // A capture error states its own, more precise, position (with the byte offset).
            ProblemKind::Capture(e) => write!(f, "{e}"),
            kind => write!(f, "{}: {kind}", self.position),
        }
    }
}

/// The kinds of [`Problem`].
///
/// ```
/// use sunpower_pcap::decoder::ProblemKind;
/// let kind = ProblemKind::IncompletePost { target: "/Data/SMS2DataCollector.aspx".into(), received: 31, missing: Some(8) };
/// assert_eq!(kind.to_string(), "incomplete POST /Data/SMS2DataCollector.aspx: 31 body bytes received, 8 missing");
/// assert_eq!(kind.name(), "incomplete-post");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProblemKind {
    /// The capture file itself (its own position is in the error).
    #[error("{0}")]
    Capture(CaptureError),
    /// A frame whose link header is damaged or truncated.
    #[error("link layer: {0}")]
    Link(LinkError),
    /// A packet whose IP or TCP header is damaged or truncated.
    #[error("IP/TCP: {0}")]
    Ip(IpError),
    /// A fragment of a TCP datagram: IP reassembly is not done, its bytes become a gap.
    #[error("IP fragment of a TCP datagram (offset {offset}): not reassembled")]
    TcpFragment {
        /// Fragment offset in bytes.
        offset: u32,
    },
    /// A TCP segment captured short of its length (snaplen): its missing bytes become a gap.
    #[error("TCP segment truncated by the capture: {missing} payload bytes not captured")]
    Truncated {
        /// Payload bytes not captured.
        missing: u32,
    },
    /// A hole in a TCP stream that was never filled.
    #[error("{len} bytes missing at stream offset {at} ({direction})")]
    Gap {
        /// Stream offset of the hole.
        at: u64,
        /// Its length.
        len: u64,
        /// `"client to server"` or `"server to client"`.
        direction: &'static str,
    },
    /// Bytes received again with a content that differs from the copy already kept.
    #[error("{len} bytes at stream offset {at} ({direction}) received again with another content: the first copy was kept")]
    ConflictingOverlap {
        /// Stream offset of the overlap.
        at: u64,
        /// Its length.
        len: u64,
        /// `"client to server"` or `"server to client"`.
        direction: &'static str,
    },
    /// Payload bytes after the end of a TCP stream (beyond its FIN, or after it ended), not decoded.
    #[error("{len} bytes after the end of the stream ({direction}) not decoded")]
    AfterClose {
        /// Number of bytes.
        len: u64,
        /// `"client to server"` or `"server to client"`.
        direction: &'static str,
    },
    /// The memory budget was reached: this connection, the least recently active, was flushed
    /// early (its holes became gaps, a body in progress an incomplete post).
    #[error("memory budget of {budget} bytes reached: connection flushed early, the least recently active")]
    OverBudget {
        /// [`DecoderConfig::memory_budget`].
        budget: usize,
    },
    /// HTTP framing that cannot be right; the framer resynchronises on the next request line.
    #[error("HTTP at stream offset {at}: {error}")]
    Http {
        /// Stream offset of the request or line in error.
        at: u64,
        /// What was wrong.
        error: FramingError,
    },
    /// Bytes passed over while looking for a request line (after a gap, an error, or a
    /// connection picked up mid-stream).
    #[error("{len} bytes at stream offset {at} skipped: not part of a request")]
    Skipped {
        /// Stream offset.
        at: u64,
        /// Bytes skipped.
        len: u64,
    },
    /// A collector POST whose body was cut by a hole or by the end of the capture.
    #[error("incomplete POST {target}: {received} body bytes received, {}", missing_text(*.missing))]
    IncompletePost {
        /// The request target.
        target: String,
        /// Body bytes received.
        received: usize,
        /// Body bytes missing, when the length was declared.
        missing: Option<u64>,
    },
}

impl ProblemKind {
    /// The kind's name in the problem log (`"gap"`, `"HTTP"`...), by which at most
    /// [`sunpower_proto::SHOWN_PER_KIND`] problems of a kind are shown.
    ///
    /// ```
    /// use sunpower_pcap::decoder::ProblemKind;
    /// assert_eq!(ProblemKind::Skipped { at: 0, len: 5 }.name(), "skipped-bytes");
    /// assert_eq!(ProblemKind::Truncated { missing: 40 }.name(), "truncated-segment");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            ProblemKind::Capture(_) => "capture",
            ProblemKind::Link(_) => "link-layer",
            ProblemKind::Ip(_) => "IP",
            ProblemKind::TcpFragment { .. } => "fragment",
            ProblemKind::Truncated { .. } => "truncated-segment",
            ProblemKind::Gap { .. } => "gap",
            ProblemKind::Http { .. } => "HTTP",
            ProblemKind::Skipped { .. } => "skipped-bytes",
            ProblemKind::IncompletePost { .. } => "incomplete-post",
            ProblemKind::ConflictingOverlap { .. } => "conflicting-overlap",
            ProblemKind::AfterClose { .. } => "after-close",
            ProblemKind::OverBudget { .. } => "over-budget",
        }
    }

    /// True for a capture input that could not be read at all (a missing file, not a capture).
    ///
    /// ```
    /// use sunpower_pcap::capture::ContainerDecoder;
    /// use sunpower_pcap::decoder::ProblemKind;
    /// let empty = ContainerDecoder::new("empty.pcap").finish(&[]).unwrap();
    /// assert!(ProblemKind::Capture(empty).input_unreadable());
    /// assert!(!ProblemKind::TcpFragment { offset: 1480 }.input_unreadable());
    /// ```
    pub fn input_unreadable(&self) -> bool {
        matches!(self, ProblemKind::Capture(e) if e.input_unreadable())
    }
}

fn missing_text(missing: Option<u64>) -> String {
    match missing {
        Some(n) => format!("{n} missing"),
        None => "length unknown".into(),
    }
}

/// A collector POST (or any kept request, see [`crate::http::BodyFilter`]).
///
/// [`Decoder`] hands them out; one can also be built, to test a consumer:
///
/// ```
/// use sunpower_pcap::decoder::{Missing, Post};
/// use sunpower_pcap::flow::Endpoint;
/// use sunpower_proto::Channel;
/// let supervisor = Endpoint { ip: "10.0.0.2".parse().unwrap(), port: 40000 };
/// let collector = Endpoint { ip: "204.194.111.66".parse().unwrap(), port: 80 };
/// let post = Post { flow: 0, client: supervisor, server: collector, method: "POST",
///     target: "/Command/SMS2DataCollector.aspx", channel: Some(Channel::Command),
///     captured_at: Default::default(), input: "day.pcap", packet: 4,
///     body: b"102\tabc\n", missing: Missing::Nothing };
/// assert!(post.complete());
/// assert_eq!(post.records().count(), 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Post<'a> {
    /// The connection it came on.
    pub flow: FlowId,
    /// The client (the supervisor).
    pub client: Endpoint,
    /// The server (the collector).
    pub server: Endpoint,
    /// The method, normally `POST`.
    pub method: &'a str,
    /// The request target as sent.
    pub target: &'a str,
    /// Data or command channel, from the path.
    pub channel: Option<Channel>,
    /// Capture time of the packet that completed the request (or revealed it incomplete).
    pub captured_at: DateTime<Utc>,
    /// Where: input and packet number of that packet.
    pub input: &'a str,
    /// Packet number within the input.
    pub packet: u64,
    /// The body (de-chunked); when incomplete, the bytes received before the hole.
    pub body: &'a [u8],
    /// What the body lacks: nothing, an unknown part, or a known number of bytes.
    pub missing: Missing,
}

/// What a post's body lacks.
///
/// ```
/// use sunpower_pcap::decoder::Missing;
/// assert_eq!(Missing::Bytes(8).bytes(), Some(8));
/// assert_eq!(Missing::Unknown.bytes(), None); // cut, length not declared (chunked)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Missing {
    /// The whole body arrived.
    Nothing,
    /// The body was cut and its length was not declared (chunked, or cut before its end).
    Unknown,
    /// The body was cut; this many declared bytes did not arrive.
    Bytes(u64),
}

impl Missing {
    /// A cut body's missing bytes, when known.
    fn cut(missing: Option<u64>) -> Missing {
        missing.map_or(Missing::Unknown, Missing::Bytes)
    }

    /// The missing byte count, when the body was cut and its length declared.
    ///
    /// ```
    /// use sunpower_pcap::decoder::Missing;
    /// assert_eq!((Missing::Bytes(92).bytes(), Missing::Nothing.bytes()), (Some(92), None));
    /// ```
    pub fn bytes(self) -> Option<u64> {
        match self {
            Missing::Bytes(n) => Some(n),
            Missing::Nothing | Missing::Unknown => None,
        }
    }
}

impl<'a> Post<'a> {
    /// Whether the whole body arrived.
    ///
    /// ```
    /// # use sunpower_pcap::decoder::{Missing, Post};
    /// # use sunpower_pcap::flow::Endpoint;
    /// # let e = Endpoint { ip: std::net::Ipv4Addr::LOCALHOST.into(), port: 80 };
    /// let mut post = Post { flow: 0, client: e, server: e, method: "POST", target: "/", channel: None,
    ///     captured_at: Default::default(), input: "x", packet: 1,
    ///     body: b"102\ta\n", missing: Missing::Nothing };
    /// assert!(post.complete());
    /// post.missing = Missing::Unknown;
    /// assert!(!post.complete());
    /// ```
    pub fn complete(&self) -> bool {
        self.missing == Missing::Nothing
    }

    /// The part of the body that can be decoded: all of it when complete; when incomplete, the
    /// whole lines before the hole (a line that touches the hole is never decoded).
    ///
    /// ```
    /// # use sunpower_pcap::decoder::{Missing, Post};
    /// # use sunpower_pcap::flow::Endpoint;
    /// # let e = Endpoint { ip: std::net::Ipv4Addr::LOCALHOST.into(), port: 80 };
    /// let post = Post { flow: 0, client: e, server: e, method: "POST", target: "/", channel: None,
    ///     captured_at: Default::default(), input: "x", packet: 1,
    ///     body: b"102\ta\n130\t2017", missing: Missing::Bytes(40) };
    /// assert_eq!(post.decodable_body(), b"102\ta\n");
    /// ```
    pub fn decodable_body(&self) -> &'a [u8] {
        if self.complete() {
            return self.body;
        }
        match self.body.iter().rposition(|&b| b == b'\n') {
            Some(end) => &self.body[..=end],
            None => &[],
        }
    }

    /// The records of the body's [decodable part](Self::decodable_body), in order, each damaged
    /// line a [`PostLineError`] that says where the post came from.
    ///
    /// ```
    /// # use sunpower_pcap::decoder::{Missing, Post};
    /// # use sunpower_pcap::flow::Endpoint;
    /// # let e = Endpoint { ip: std::net::Ipv4Addr::LOCALHOST.into(), port: 80 };
    /// let post = Post { flow: 7, client: e, server: e, method: "POST", target: "/", channel: None,
    ///     captured_at: Default::default(), input: "day.pcap", packet: 12,
    ///     body: b"102\ta\n130\tbad\n", missing: Missing::Nothing };
    /// let items: Vec<_> = post.records().collect();
    /// assert_eq!(items[0].as_ref().unwrap().record_type(), 102);
    /// assert_eq!(
    ///     items[1].as_ref().unwrap_err().to_string(),
    ///     "day.pcap: packet 12, flow 7: line 2: field 1 (timestamp): expected a YYYYMMDDhhmmss UTC timestamp, found \"bad\""
    /// );
    /// ```
    pub fn records(&self) -> PostRecords<'a> {
        PostRecords {
            records: Body::new(self.decodable_body()).records(),
            input: self.input,
            packet: self.packet,
            flow: self.flow,
        }
    }

    /// [`Post::records`], each record handed over as [`DecodedRecord`], for writing it as JSON.
    ///
    /// ```
    /// # use sunpower_pcap::decoder::{Missing, Post};
    /// # use sunpower_pcap::flow::Endpoint;
    /// # let e = Endpoint { ip: std::net::Ipv4Addr::LOCALHOST.into(), port: 80 };
    /// let post = Post { flow: 7, client: e, server: e, method: "POST", target: "/", channel: None,
    ///     captured_at: Default::default(), input: "day.pcap", packet: 12,
    ///     body: b"102\ta\n130\tbad\n", missing: Missing::Nothing };
    /// let (mut json, mut errors) = (Vec::new(), Vec::new());
    /// post.for_each_decoded(|item| match item {
    ///     Ok(decoded) => decoded.json(post.channel).write_to(&mut json),
    ///     Err(e) => errors.push((e.packet, e.error.line)),
    /// });
    /// assert_eq!(json, br#"{"record_type":102,"raw":["102","a"],"token":"a"}"#);
    /// assert_eq!(errors, [(12, 2)]);
    /// ```
    pub fn for_each_decoded(
        &self,
        mut on_item: impl FnMut(Result<DecodedRecord<'_>, PostLineError<'a>>),
    ) {
        let (input, packet, flow) = (self.input, self.packet, self.flow);
        Body::new(self.decodable_body())
            .records()
            .for_each_decoded(|item| {
                on_item(item.map_err(|error| PostLineError {
                    input,
                    packet,
                    flow,
                    error,
                }))
            });
    }
}

/// The records of a [`Post`], from [`Post::records`].
///
/// ```
/// # use sunpower_pcap::decoder::{Missing, Post};
/// # use sunpower_pcap::flow::Endpoint;
/// # let e = Endpoint { ip: std::net::Ipv4Addr::LOCALHOST.into(), port: 80 };
/// # let post = Post { flow: 0, client: e, server: e, method: "POST", target: "/", channel: None,
/// #     captured_at: Default::default(), input: "x", packet: 1,
/// #     body: b"102\ta\n102\tb\n", missing: Missing::Nothing };
/// let types: Vec<u16> = post.records().map(|r| r.unwrap().record_type()).collect();
/// assert_eq!(types, [102, 102]);
/// ```
#[derive(Debug, Clone)]
pub struct PostRecords<'a> {
    records: Records<'a>,
    input: &'a str,
    packet: u64,
    flow: FlowId,
}

impl<'a> Iterator for PostRecords<'a> {
    type Item = Result<Record<'a>, PostLineError<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.records.next()?;
        Some(item.map_err(|error| PostLineError {
            input: self.input,
            packet: self.packet,
            flow: self.flow,
            error,
        }))
    }
}

/// A damaged line of a post's body, with the post's position: its input, the packet that
/// completed it, its connection.
///
/// ```
/// # use sunpower_pcap::decoder::{Missing, Post};
/// # use sunpower_pcap::flow::Endpoint;
/// # let e = Endpoint { ip: std::net::Ipv4Addr::LOCALHOST.into(), port: 80 };
/// # let post = Post { flow: 5, client: e, server: e, method: "POST", target: "/", channel: None,
/// #     captured_at: Default::default(), input: "day.pcap", packet: 9,
/// #     body: b"130\tbad\n", missing: Missing::Nothing };
/// let error = post.records().next().unwrap().unwrap_err();
/// assert_eq!((error.input, error.packet, error.flow, error.error.line), ("day.pcap", 9, 5, 1));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input}: packet {packet}, flow {flow}: {error}")]
pub struct PostLineError<'a> {
    /// The capture input's name.
    pub input: &'a str,
    /// Packet number within the input.
    pub packet: u64,
    /// The connection.
    pub flow: FlowId,
    /// The line and what was wrong with it.
    pub error: LineError,
}

/// What a [`Decoder`] reports.
///
/// ```
/// use sunpower_pcap::decoder::{Decoder, Event};
/// use sunpower_pcap::capture::ContainerDecoder;
/// let mut decoder = Decoder::new(Default::default());
/// let error = ContainerDecoder::new("x").finish(&[]).unwrap();
/// let mut events = Vec::new();
/// decoder.capture_error(error, |event| events.push(match event {
///     Event::Post(post) => format!("post {}", post.target),
///     Event::Problem(problem) => format!("problem: {}", problem.kind.name()),
/// }));
/// assert_eq!(events, ["problem: capture"]);
/// ```
#[derive(Debug)]
pub enum Event<'a> {
    /// A kept request (complete or cut).
    Post(Post<'a>),
    /// Something went wrong.
    Problem(Problem),
}

/// Counters over the whole decoding, for `sunpower stats`.
///
/// With the `serde` feature it serializes to the `details` object of `sunpower stats`: every
/// counter but those the report shows at its top level (packets, connections, posts, gaps,
/// bytes missing, damaged posts), some under names that say what they count.
///
/// ```
/// use sunpower_pcap::decoder::DecodeStats;
/// let stats = DecodeStats::default();
/// assert_eq!((stats.packets, stats.posts, stats.gaps), (0, 0, 0));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct DecodeStats {
    /// Packets read from the capture.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub packets: u64,
    /// Frames that carry something other than IP (ARP, LLDP, ...).
    #[cfg_attr(feature = "serde", serde(rename = "non_ip_frames"))]
    pub non_ip: u64,
    /// IP packets that carry something other than TCP.
    #[cfg_attr(feature = "serde", serde(rename = "non_tcp_packets"))]
    pub non_tcp: u64,
    /// IP fragments (not reassembled); those of TCP datagrams are also reported as problems.
    #[cfg_attr(feature = "serde", serde(rename = "ip_fragments"))]
    pub fragments: u64,
    /// Frames with a damaged or unsupported link header.
    pub link_errors: u64,
    /// Packets with a damaged or truncated IP or TCP header.
    pub ip_errors: u64,
    /// TCP segments captured short of their length (snaplen).
    pub truncated_segments: u64,
    /// Payload bytes not captured because of the snaplen.
    pub truncated_bytes: u64,
    /// Errors reading the capture (damaged blocks, cut files, unreadable inputs).
    pub capture_errors: u64,
    /// TCP connections seen.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub connections: u64,
    /// Holes in TCP streams that were never filled.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub gaps: u64,
    /// Bytes in those holes.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub bytes_missing: u64,
    /// Requests seen (all paths, both channels).
    pub requests: u64,
    /// Kept requests delivered as posts, complete or not.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub posts: u64,
    /// Posts whose body was cut.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub damaged_posts: u64,
    /// Requests framed but not kept (other paths), including those with a body over the limit.
    pub other_requests: u64,
    /// Requests whose body was longer than [`FramerConfig::max_body_bytes`]: counted in
    /// `requests`, their body skipped; a kept (collector) one is also an HTTP error and a problem.
    pub oversized_bodies: u64,
    /// Bytes of those bodies, skipped by count (up to the next request line found in them).
    pub oversized_body_bytes: u64,
    /// HTTP framing errors.
    pub http_errors: u64,
    /// Stream bytes skipped while looking for a request line.
    pub skipped_bytes: u64,
    /// Stream bytes of the server direction (responses), not decoded.
    pub response_bytes: u64,
    /// Stream directions that do not begin like HTTP/1 (TLS and other protocols), not decoded.
    pub non_http_streams: u64,
    /// Their bytes.
    pub non_http_bytes: u64,
    /// Retransmitted or overlapping bytes already received (first copy kept).
    pub duplicate_bytes: u64,
    /// Segments far outside the expected window, not used.
    pub out_of_window_segments: u64,
    /// Connections evicted because the table was full.
    pub connections_evicted: u64,
    /// Connections flushed early because the memory budget was reached
    /// ([`DecoderConfig::memory_budget`]); each is also a problem.
    pub connections_over_budget: u64,
    /// Connections replaced by a new stream on the same addresses and ports: data far from
    /// where the old one stood after it closed or idled (a reused pair whose SYN was missed).
    pub connections_restarted: u64,
    /// Connections whose client (or server) went on sending right after its FIN: decoded as a
    /// new connection.
    pub connections_continued_after_fin: u64,
    /// Payload bytes after the end of a TCP stream (beyond a FIN, after a reset), not decoded.
    pub bytes_after_close: u64,
    /// Overlapping copies of stream bytes whose content differs from the kept (first) copy.
    pub conflicting_overlaps: u64,
    /// Segments of unknown connections carrying no data (a bare ACK, FIN or RST).
    pub orphan_segments: u64,
}

impl DecodeStats {
    fn add_tcp(&mut self, tcp: &TcpStats) {
        self.duplicate_bytes += tcp.duplicate_bytes;
        self.out_of_window_segments += tcp.segments_out_of_window;
    }
}

/// One connection's HTTP state: a framer per direction.
/// Hashes [`FlowId`]s, which the flow table hands out in sequence (the traffic cannot choose
/// them, so no seeded hash is needed): one multiplication by 2^64 / φ (Fibonacci hashing)
/// spreads consecutive ids over both the low bits (the bucket) and the high bits (hashbrown's tag).
#[derive(Debug, Default, Clone, Copy)]
struct FlowIdHasher(u64);

impl Hasher for FlowIdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(self.0.rotate_left(8) ^ u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type Connections = HashMap<FlowId, Connection, BuildHasherDefault<FlowIdHasher>>;

struct Connection {
    initiator: Endpoint,
    responder: Endpoint,
    /// Picked up without its SYN: the framers start by scanning for a request line.
    mid_stream: bool,
    /// A framer per direction, made when the direction's first bytes (or hole) arrive, so that
    /// a connection that carried nothing costs a few words.
    framers: [Option<Box<RequestFramer>>; 2],
}

/// What one connection costs the decoder besides its framers: its entry in the table, with the
/// hash table's slack.
const CONNECTION_COST: usize = 2 * std::mem::size_of::<(FlowId, Connection)>();

/// The pipeline from captured packets to posts; see the [module docs](self).
///
/// ```
/// use sunpower_pcap::decoder::Decoder;
/// let mut decoder = Decoder::new(Default::default());
/// decoder.finish(|_| unreachable!("no connection, nothing to flush"));
/// assert_eq!(decoder.stats().connections, 0);
/// ```
pub struct Decoder {
    config: DecoderConfig,
    flows: FlowTable,
    connections: Connections,
    /// What the connections and their framers take (see [`DecoderConfig::memory_budget`]).
    http_memory: usize,
    stats: DecodeStats,
    /// Position of the packet being decoded, for events.
    input: Arc<str>,
    packet: u64,
    captured_at: DateTime<Utc>,
}

impl Decoder {
    /// A decoder with the given limits.
    ///
    /// ```
    /// use sunpower_pcap::decoder::{Decoder, DecoderConfig};
    /// let mut config = DecoderConfig::default();
    /// config.memory_budget = 1 << 20; // 1 MiB for all connections together
    /// let decoder = Decoder::new(config);
    /// assert_eq!((decoder.stats().packets, decoder.memory_used()), (0, 0));
    /// ```
    pub fn new(config: DecoderConfig) -> Decoder {
        Decoder {
            config,
            flows: FlowTable::with_config(config.flow),
            connections: HashMap::default(),
            http_memory: 0,
            stats: DecodeStats::default(),
            input: Arc::from(""),
            packet: 0,
            captured_at: DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    /// The counters so far.
    ///
    /// ```
    /// use sunpower_pcap::capture::{CaptureReader, Input};
    /// use sunpower_pcap::decoder::{Decoder, DecoderConfig};
    ///
    /// let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sample.pcap");
    /// let mut reader = CaptureReader::new(vec![Input::from_path(sample)]);
    /// let mut decoder = Decoder::new(DecoderConfig::default());
    /// while let Some(Ok(packet)) = reader.next_packet() {
    ///     decoder.packet(&packet, |_| {});
    /// }
    /// let stats = decoder.stats();
    /// // The ARP frames are read and counted, not IP; DNS and mDNS are IP but not TCP.
    /// assert_eq!((stats.packets, stats.non_ip, stats.non_tcp), (12_324, 288, 6_480));
    /// assert_eq!((stats.connections, stats.posts), (480, 336));
    /// ```
    pub fn stats(&self) -> DecodeStats {
        let mut stats = self.stats;
        let flow = self.flows.stats();
        stats.connections_evicted = flow.flows_evicted;
        stats.orphan_segments = flow.orphan_segments;
        stats.connections_restarted = flow.flows_restarted;
        stats.connections_over_budget = flow.flows_over_budget;
        stats.connections_continued_after_fin = flow.flows_continued_after_fin;
        stats
    }

    /// Counts a capture error and reports it.
    ///
    /// ```
    /// use sunpower_pcap::capture::ContainerDecoder;
    /// use sunpower_pcap::decoder::{Decoder, DecoderConfig, Event};
    ///
    /// // The error an empty input gives, as a reader would hand it over.
    /// let error = ContainerDecoder::new("empty.pcap").finish(&[]).unwrap();
    /// let mut decoder = Decoder::new(DecoderConfig::default());
    /// let mut problems = Vec::new();
    /// decoder.capture_error(error, |event| {
    ///     if let Event::Problem(problem) = event {
    ///         problems.push((problem.kind.name(), problem.position.to_string()));
    ///     }
    /// });
    /// assert_eq!(problems, [("capture", "empty.pcap: packet 1".to_string())]);
    /// assert_eq!(decoder.stats().capture_errors, 1);
    /// ```
    pub fn capture_error(&mut self, error: CaptureError, mut sink: impl FnMut(Event<'_>)) {
        self.stats.capture_errors += 1;
        let position = Position {
            input: error.input_name.clone(),
            packet: error.packet,
            flow: None,
        };
        sink(Event::Problem(Problem {
            position,
            kind: ProblemKind::Capture(error),
        }));
    }

    /// Decodes one captured packet.
    ///
    /// ```
    /// use sunpower_pcap::capture::{CaptureReader, Input};
    /// use sunpower_pcap::decoder::{Decoder, DecoderConfig, Event};
    /// use sunpower_proto::Channel;
    ///
    /// // Packets from any source; here the crate's own reader, on the repository's sample.
    /// let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sample.pcap");
    /// let mut reader = CaptureReader::new(vec![Input::from_path(sample)]);
    /// let mut decoder = Decoder::new(DecoderConfig::default());
    /// let mut commands = Vec::new();
    /// while let Some(Ok(packet)) = reader.next_packet() {
    ///     decoder.packet(&packet, |event| {
    ///         if let Event::Post(post) = event {
    ///             if post.channel == Some(Channel::Command) {
    ///                 commands.push((post.packet, post.body.to_vec()));
    ///             }
    ///         }
    ///     });
    /// }
    /// decoder.finish(|_| {});
    /// assert_eq!(commands.len(), 48); // one every 1800 s
    /// assert_eq!(
    ///     commands[0],
    ///     (178, b"100\tSPMS\t10\tZT163785000441C0593\t20260621072311\n102\t+hZkcatbkafQsgUppyne\n".to_vec())
    /// );
    /// assert_eq!((decoder.stats().connections, decoder.stats().posts), (480, 336));
    /// ```
    pub fn packet(&mut self, packet: &Packet<'_>, mut sink: impl FnMut(Event<'_>)) {
        self.stats.packets += 1;
        // The reader shares one name per input: compare allocations, not bytes, per packet.
        if !Arc::ptr_eq(&self.input, packet.input_name) {
            self.input = Arc::clone(packet.input_name);
        }
        self.packet = packet.packet;
        self.captured_at = packet.timestamp;
        let problem = |this: &Self, kind| {
            Event::Problem(Problem {
                position: this.position(None),
                kind,
            })
        };

        let network = match decode_link(packet.link_type, packet.data) {
            Ok(network) => network,
            Err(LinkError::NotIp(_) | LinkError::NotIpFamily(_)) => {
                self.stats.non_ip += 1;
                return;
            }
            Err(e) => {
                self.stats.link_errors += 1;
                sink(problem(self, ProblemKind::Link(e)));
                return;
            }
        };
        let segment = match decode_ip(network.protocol, network.payload) {
            Ok(Transport::Tcp(segment)) => segment,
            Ok(Transport::Fragment {
                protocol, offset, ..
            }) => {
                self.stats.fragments += 1;
                if protocol == PROTO_TCP {
                    sink(problem(self, ProblemKind::TcpFragment { offset }));
                }
                return;
            }
            Ok(Transport::Other { .. }) => {
                self.stats.non_tcp += 1;
                return;
            }
            Err(e) => {
                self.stats.ip_errors += 1;
                sink(problem(self, ProblemKind::Ip(e)));
                return;
            }
        };
        if segment.payload_missing > 0 {
            // The reassembler gets the bytes that were captured, then is told the rest is lost:
            // at the delivery point that is a gap at once (see `FlowTable::lost`).
            self.stats.truncated_segments += 1;
            self.stats.truncated_bytes += u64::from(segment.payload_missing);
            sink(problem(
                self,
                ProblemKind::Truncated {
                    missing: segment.payload_missing,
                },
            ));
        }
        let ts_us = u64::try_from(packet.timestamp.timestamp_micros()).unwrap_or(0);
        self.drive_flows(&mut sink, |flows, on_event| {
            flows.segment(&segment, ts_us, &mut *on_event);
            flows.lost(&segment, on_event);
        });
        self.keep_to_budget(&mut sink);
    }

    /// Bytes the connections take, counted against [`DecoderConfig::memory_budget`].
    ///
    /// ```
    /// use sunpower_pcap::decoder::Decoder;
    /// assert_eq!(Decoder::new(Default::default()).memory_used(), 0);
    /// ```
    pub fn memory_used(&self) -> usize {
        self.flows.memory_used() + self.http_memory
    }

    /// Flushes the least recently active connections until the memory used is within budget.
    fn keep_to_budget(&mut self, sink: &mut impl FnMut(Event<'_>)) {
        let budget = self.config.memory_budget;
        while self.memory_used() > budget {
            let mut evicted = None;
            self.drive_flows(sink, |flows, on_event| {
                evicted = flows.evict_oldest(on_event);
            });
            let Some(flow) = evicted else { break };
            sink(Event::Problem(Problem {
                position: self.position(Some(flow)),
                kind: ProblemKind::OverBudget { budget },
            }));
        }
    }

    /// Flushes every connection at the end of the input: holes become gaps, cut bodies are
    /// delivered as incomplete posts.
    ///
    /// ```
    /// use sunpower_pcap::capture::{CaptureReader, Input};
    /// use sunpower_pcap::decoder::{Decoder, DecoderConfig, Event, Missing};
    ///
    /// // The repository's sample, read up to packet 2898: the capture ends after two of the
    /// // three segments of a post (its body is 2,906 bytes), and only `finish` can tell.
    /// let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sample.pcap");
    /// let mut reader = CaptureReader::new(vec![Input::from_path(sample)]);
    /// let mut decoder = Decoder::new(DecoderConfig::default());
    /// let mut posts = 0;
    /// while let Some(Ok(packet)) = reader.next_packet() {
    ///     let last = packet.packet == 2898;
    ///     decoder.packet(&packet, |event| posts += matches!(event, Event::Post(_)) as u32);
    ///     if last {
    ///         break;
    ///     }
    /// }
    /// assert_eq!(posts, 80);
    /// let mut cut = Vec::new();
    /// decoder.finish(|event| match event {
    ///     Event::Post(post) => cut.push((post.missing, post.body.len(), post.decodable_body().len())),
    ///     Event::Problem(problem) => assert_eq!(problem.kind.name(), "incomplete-post"),
    /// });
    /// // 2,765 bytes received, 141 missing; the whole lines before the hole are 2,701 bytes.
    /// assert_eq!(cut, [(Missing::Bytes(141), 2765, 2701)]);
    /// assert_eq!(decoder.stats().damaged_posts, 1);
    /// ```
    pub fn finish(&mut self, mut sink: impl FnMut(Event<'_>)) {
        self.drive_flows(&mut sink, |flows, on_event| flows.finish(on_event));
    }

    /// Runs `drive` on the flow table with a sink that takes its events through the HTTP layer
    /// to `sink`.
    fn drive_flows(
        &mut self,
        sink: &mut impl FnMut(Event<'_>),
        drive: impl FnOnce(&mut FlowTable, &mut dyn FnMut(FlowEvent<'_>)),
    ) {
        let Decoder {
            flows,
            connections,
            http_memory,
            stats,
            config,
            input,
            packet,
            captured_at,
        } = self;
        let at = Context {
            max_body_bytes: config.http.max_body_bytes,
            input,
            packet: *packet,
            captured_at: *captured_at,
        };
        drive(flows, &mut |event| {
            on_flow_event(event, connections, http_memory, stats, config, &at, sink)
        });
    }

    fn position(&self, flow: Option<FlowId>) -> Position {
        Position {
            input: self.input.clone(),
            packet: self.packet,
            flow,
        }
    }
}

/// Where the decoder is, lent to the flow-event handler.
struct Context<'c> {
    max_body_bytes: u64,
    input: &'c Arc<str>,
    packet: u64,
    captured_at: DateTime<Utc>,
}

impl Context<'_> {
    fn problem(&self, flow: FlowId, kind: ProblemKind) -> Event<'static> {
        Event::Problem(Problem {
            position: Position {
                input: self.input.clone(),
                packet: self.packet,
                flow: Some(flow),
            },
            kind,
        })
    }
}

fn on_flow_event(
    event: FlowEvent<'_>,
    connections: &mut Connections,
    memory: &mut usize,
    stats: &mut DecodeStats,
    config: &DecoderConfig,
    at: &Context<'_>,
    sink: &mut impl FnMut(Event<'_>),
) {
    match event {
        FlowEvent::Opened {
            flow,
            initiator,
            responder,
            syn_seen,
        } => {
            stats.connections += 1;
            *memory += CONNECTION_COST;
            connections.insert(
                flow,
                Connection {
                    initiator,
                    responder,
                    mid_stream: !syn_seen,
                    framers: [None, None],
                },
            );
        }
        FlowEvent::Stream {
            flow,
            direction,
            event: StreamEvent::Conflict { at: offset, len },
        } => {
            stats.conflicting_overlaps += 1;
            let direction = direction_name(connections, flow, direction);
            sink(at.problem(
                flow,
                ProblemKind::ConflictingOverlap {
                    at: offset,
                    len,
                    direction,
                },
            ));
        }
        FlowEvent::Stream {
            flow,
            direction,
            event: StreamEvent::AfterClose { len },
        } => {
            stats.bytes_after_close += len;
            let direction = direction_name(connections, flow, direction);
            sink(at.problem(flow, ProblemKind::AfterClose { len, direction }));
        }
        FlowEvent::Stream {
            flow,
            direction,
            event,
        } => {
            let Some(conn) = connections.get_mut(&flow) else {
                return;
            };
            let (client, server) = match direction {
                Direction::FromInitiator => (conn.initiator, conn.responder),
                Direction::FromResponder => (conn.responder, conn.initiator),
            };
            let mid_stream = conn.mid_stream;
            let framer = match (&mut conn.framers[direction as usize], event) {
                (Some(framer), _) => framer,
                (slot @ None, StreamEvent::Data(_) | StreamEvent::Gap { .. }) => {
                    let f = RequestFramer::with_config(config.http);
                    let f = if mid_stream { f.mid_stream() } else { f };
                    *memory += f.memory_used();
                    slot.insert(Box::new(f))
                }
                // The end of a direction that carried nothing: nothing to frame.
                (None, _) => return,
            };
            let before = framer.memory_used();
            if let StreamEvent::Gap { at: offset, len } = event {
                stats.gaps += 1;
                stats.bytes_missing += len;
                let direction = if framer.is_response() {
                    "server to client"
                } else {
                    "client to server"
                };
                sink(at.problem(
                    flow,
                    ProblemKind::Gap {
                        at: offset,
                        len,
                        direction,
                    },
                ));
            }
            let mut on_http = |e: HttpEvent<'_>| {
                on_http_event(e, flow, client, server, stats, at, sink);
            };
            match event {
                StreamEvent::Data(data) => framer.feed(data, &mut on_http),
                StreamEvent::Gap { len, .. } => framer.gap(len, &mut on_http),
                StreamEvent::Fin | StreamEvent::Reset => framer.finish(&mut on_http),
                // Handled above: not stream data.
                StreamEvent::Conflict { .. } | StreamEvent::AfterClose { .. } => {}
            }
            *memory = *memory + framer.memory_used() - before;
        }
        FlowEvent::Closed {
            flow,
            stats: tcp_stats,
            ..
        } => {
            if let Some(conn) = connections.remove(&flow) {
                *memory -= CONNECTION_COST;
                for (i, framer) in conn.framers.into_iter().enumerate() {
                    let Some(mut framer) = framer else { continue };
                    *memory -= framer.memory_used();
                    let (client, server) = if i == 0 {
                        (conn.initiator, conn.responder)
                    } else {
                        (conn.responder, conn.initiator)
                    };
                    framer.finish(|e| on_http_event(e, flow, client, server, stats, at, sink));
                    stats.response_bytes += framer.stats().response_bytes;
                    stats.oversized_body_bytes += framer.stats().oversized_body_bytes;
                    stats.non_http_bytes += framer.stats().non_http_bytes;
                }
            }
            for tcp in &tcp_stats {
                stats.add_tcp(tcp);
            }
        }
    }
}

/// Which way a direction's bytes go, for messages: a stream that carries responses is the
/// server's, whatever its role in the connection.
fn direction_name(connections: &Connections, flow: FlowId, direction: Direction) -> &'static str {
    let server = match connections.get(&flow) {
        Some(conn) => conn.framers[direction as usize]
            .as_ref()
            .is_some_and(|f| f.is_response()),
        None => direction == Direction::FromResponder,
    };
    if server {
        "server to client"
    } else {
        "client to server"
    }
}

fn on_http_event(
    event: HttpEvent<'_>,
    flow: FlowId,
    client: Endpoint,
    server: Endpoint,
    stats: &mut DecodeStats,
    at: &Context<'_>,
    sink: &mut impl FnMut(Event<'_>),
) {
    let post = |method, target, body, missing| Post {
        flow,
        client,
        server,
        method,
        target,
        channel: collector_target(target).and_then(|c| c.channel),
        captured_at: at.captured_at,
        input: at.input,
        packet: at.packet,
        body,
        missing,
    };
    match event {
        HttpEvent::Request {
            method,
            target,
            body,
            ..
        } => {
            stats.requests += 1;
            stats.posts += 1;
            sink(Event::Post(post(method, target, body, Missing::Nothing)));
        }
        HttpEvent::IncompleteBody {
            method,
            target,
            received,
            missing,
            ..
        } => {
            stats.requests += 1;
            stats.posts += 1;
            stats.damaged_posts += 1;
            sink(at.problem(
                flow,
                ProblemKind::IncompletePost {
                    target: target.chars().take(200).collect(),
                    received: received.len(),
                    missing,
                },
            ));
            sink(Event::Post(post(
                method,
                target,
                received,
                Missing::cut(missing),
            )));
        }
        HttpEvent::Unselected { .. } => {
            stats.requests += 1;
            stats.other_requests += 1;
        }
        HttpEvent::OversizedBody {
            at: offset,
            selected,
            ..
        } => {
            stats.requests += 1;
            stats.oversized_bodies += 1;
            if selected {
                stats.http_errors += 1;
                let error = FramingError::BodyTooLarge {
                    limit: at.max_body_bytes,
                };
                sink(at.problem(flow, ProblemKind::Http { at: offset, error }));
            } else {
                stats.other_requests += 1;
            }
        }
        HttpEvent::Error { at: offset, error } => {
            stats.http_errors += 1;
            sink(at.problem(flow, ProblemKind::Http { at: offset, error }));
        }
        HttpEvent::Skipped { at: offset, len } => {
            stats.skipped_bytes += len;
            sink(at.problem(flow, ProblemKind::Skipped { at: offset, len }));
        }
        HttpEvent::NotHttp { .. } => stats.non_http_streams += 1,
        // Counted from the framer's own statistics when the connection closes.
        HttpEvent::Response { .. } => {}
    }
}

/// A [`CaptureReader`] and a [`Decoder`] together: capture inputs in, events out (see the
/// [module docs](self) for a whole run).
///
/// ```
/// use sunpower_pcap::decoder::CaptureDecoder;
/// let mut decoder = CaptureDecoder::new(Vec::new(), Default::default());
/// assert!(decoder.step(|_| {})); // flushes at the end of no input
/// assert!(!decoder.step(|_| {})); // done
/// ```
pub struct CaptureDecoder {
    reader: CaptureReader,
    decoder: Decoder,
    finished: bool,
    /// True when some input could not be read at all.
    unreadable_input: bool,
}

impl CaptureDecoder {
    /// Reads `inputs` in order as one capture (a rotated set).
    ///
    /// ```
    /// use sunpower_pcap::capture::Input;
    /// use sunpower_pcap::decoder::{CaptureDecoder, DecoderConfig};
    /// let inputs = vec![Input::from_path("day-1.pcap"), Input::from_path("day-2.pcap.gz")];
    /// let decoder = CaptureDecoder::new(inputs, DecoderConfig::default());
    /// // Nothing is opened before the first step.
    /// assert_eq!((decoder.reader().input_count(), decoder.stats().packets), (2, 0));
    /// ```
    pub fn new(inputs: Vec<Input>, config: DecoderConfig) -> CaptureDecoder {
        CaptureDecoder {
            reader: CaptureReader::new(inputs),
            decoder: Decoder::new(config),
            finished: false,
            unreadable_input: false,
        }
    }

    /// Decodes one more packet (or, at the end, flushes); returns false once everything was
    /// decoded. Lets a caller pull events a packet at a time (a lazy iterator in Python).
    ///
    /// ```
    /// use sunpower_pcap::capture::Input;
    /// use sunpower_pcap::decoder::{CaptureDecoder, DecoderConfig, Event};
    /// let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sample.pcap");
    /// let mut decoder = CaptureDecoder::new(vec![Input::from_path(sample)], DecoderConfig::default());
    /// // Stop at the first post: the rest of the capture (12,324 packets) is not read.
    /// let mut first = None;
    /// while first.is_none() && decoder.step(|event| {
    ///     if let Event::Post(post) = event {
    ///         first = Some((post.packet, post.body.len()));
    ///     }
    /// }) {}
    /// assert_eq!(first, Some((25, 426)));
    /// assert_eq!(decoder.stats().packets, 25);
    /// ```
    pub fn step(&mut self, mut sink: impl FnMut(Event<'_>)) -> bool {
        if self.finished {
            return false;
        }
        match self.reader.next_packet() {
            Some(Ok(packet)) => self.decoder.packet(&packet, &mut sink),
            Some(Err(error)) => {
                self.unreadable_input |= error.input_unreadable();
                self.decoder.capture_error(error, &mut sink);
            }
            None => {
                self.decoder.finish(&mut sink);
                self.finished = true;
            }
        }
        true
    }

    /// Decodes everything.
    ///
    /// ```
    /// use sunpower_pcap::capture::Input;
    /// use sunpower_pcap::decoder::{CaptureDecoder, DecoderConfig, Event};
    /// let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sample.pcap");
    /// let inputs = vec![Input::from_path(sample), Input::from_path("/nonexistent.pcap")];
    /// let mut decoder = CaptureDecoder::new(inputs, DecoderConfig::default());
    /// let (mut bodies, mut problems) = (Vec::new(), Vec::new());
    /// decoder.run(|event| match event {
    ///     Event::Post(post) => bodies.push(post.body.to_vec()),
    ///     Event::Problem(problem) => problems.push(problem.kind.input_unreadable()),
    /// });
    /// assert_eq!(bodies.len(), 336);
    /// assert_eq!(bodies[4], b"100\tSPMS\t10\tZT163785000441C0593\t20260621072311\n102\t+hZkcatbkafQsgUppyne\n");
    /// assert_eq!(problems, [true]); // the missing file, reported and counted
    /// assert!(decoder.had_unreadable_input());
    /// ```
    pub fn run(&mut self, mut sink: impl FnMut(Event<'_>)) {
        while self.step(&mut sink) {}
    }

    /// The counters so far.
    ///
    /// ```
    /// use sunpower_pcap::capture::Input;
    /// use sunpower_pcap::decoder::{CaptureDecoder, DecoderConfig};
    /// let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sample.pcap");
    /// let mut decoder = CaptureDecoder::new(vec![Input::from_path(sample)], DecoderConfig::default());
    /// decoder.run(|_| {});
    /// let stats = decoder.stats();
    /// // 336 collector posts, and 288 requests to another web server (not posts).
    /// assert_eq!((stats.packets, stats.connections, stats.requests, stats.posts), (12_324, 480, 624, 336));
    /// assert_eq!((stats.gaps, stats.capture_errors), (0, 0));
    /// assert_eq!(stats.duplicate_bytes, 1448); // one retransmitted segment
    /// ```
    pub fn stats(&self) -> DecodeStats {
        self.decoder.stats()
    }

    /// The capture reader, for progress reporting.
    ///
    /// ```
    /// use sunpower_pcap::capture::Input;
    /// use sunpower_pcap::decoder::{CaptureDecoder, DecoderConfig};
    /// let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sample.pcap");
    /// let pcap = std::fs::read(sample).unwrap();
    /// let len = pcap.len() as u64;
    /// let input = Input::from_reader("sample.pcap", std::io::Cursor::new(pcap)).with_len(len);
    /// let mut decoder = CaptureDecoder::new(vec![input], DecoderConfig::default());
    /// decoder.step(|_| {});
    /// let progress = decoder.reader().progress().unwrap();
    /// assert_eq!((progress.input_name, progress.input_len), ("sample.pcap", Some(2_176_359)));
    /// assert!(progress.input_bytes_read > 0 && progress.input_bytes_read <= len);
    /// decoder.run(|_| {});
    /// assert_eq!(decoder.reader().counters().packets, decoder.stats().packets);
    /// assert_eq!(decoder.stats().packets, 12_324);
    /// ```
    pub fn reader(&self) -> &CaptureReader {
        &self.reader
    }

    /// True when some input could not be read at all (missing file, not a capture).
    ///
    /// ```
    /// use sunpower_pcap::capture::Input;
    /// use sunpower_pcap::decoder::{CaptureDecoder, DecoderConfig};
    /// let junk = Input::from_reader("notes.txt", std::io::Cursor::new(b"not a capture".to_vec()));
    /// let mut decoder = CaptureDecoder::new(vec![junk], DecoderConfig::default());
    /// assert!(!decoder.had_unreadable_input());
    /// decoder.run(|_| {});
    /// assert!(decoder.had_unreadable_input());
    /// assert_eq!(decoder.stats().capture_errors, 1);
    /// ```
    pub fn had_unreadable_input(&self) -> bool {
        self.unreadable_input
    }
}
