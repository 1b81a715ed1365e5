//! What a [`RequestFramer`] reports: its events, its framing errors and its counters.

use thiserror::Error;

#[cfg(doc)]
use super::{BodyFilter, FramerConfig, RequestFramer};

/// Why framing failed; see the [module docs](super) for what follows each error.
///
/// ```
/// use sunpower_pcap::http::FramingError;
/// assert_eq!(FramingError::BodyTooLarge { limit: 10 }.to_string(), "body longer than the limit of 10 bytes");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Error)]
#[non_exhaustive]
pub enum FramingError {
    /// A request line, header (or trailer) line, length or chunk that cannot be framed, as
    /// text: a first line that is neither a request line nor a status line, a header line that is
    /// not `name: value` (or an obsolete line folding), `Content-Length` values that differ or
    /// are not a decimal number that fits in 64 bits, a `Transfer-Encoding` whose final coding
    /// is not `chunked`, a chunk size over 64 bits, a malformed chunk-size line or line end.
    #[error("{0}")]
    Malformed(&'static str),
    /// The head (or trailer section) exceeds [`FramerConfig::max_header_bytes`].
    #[error("header section longer than {limit} bytes")]
    HeaderTooLarge {
        /// The configured limit.
        limit: usize,
    },
    /// A body that would be kept exceeds [`FramerConfig::max_body_bytes`]; it is skipped (see
    /// [`HttpEvent::OversizedBody`]).
    #[error("body longer than the limit of {limit} bytes")]
    BodyTooLarge {
        /// The configured limit.
        limit: u64,
    },
}

pub(super) const MALFORMED_REQUEST_LINE: FramingError =
    FramingError::Malformed("malformed request line");
pub(super) const MALFORMED_HEADER: FramingError = FramingError::Malformed("malformed header line");
pub(super) const CONFLICTING_CONTENT_LENGTH: FramingError =
    FramingError::Malformed("conflicting Content-Length values");
pub(super) const INVALID_CONTENT_LENGTH: FramingError =
    FramingError::Malformed("invalid Content-Length value");
pub(super) const UNSUPPORTED_TRANSFER_ENCODING: FramingError =
    FramingError::Malformed("unsupported Transfer-Encoding (chunked must be the final coding)");
pub(super) const CHUNK_SIZE_OVERFLOW: FramingError = FramingError::Malformed("chunk size overflow");
pub(super) const MALFORMED_CHUNK: FramingError = FramingError::Malformed("malformed chunk");

/// What a [`RequestFramer`] reports. Offsets (`at`) count stream bytes, gaps included, from the
/// start of what the framer was fed.
///
/// ```
/// use sunpower_pcap::http::HttpEvent;
/// let e = HttpEvent::Skipped { at: 0, len: 3 };
/// assert!(matches!(e, HttpEvent::Skipped { len: 3, .. }));
/// ```
#[derive(Debug, Clone, PartialEq)]
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
    /// [module docs](super)). No other event follows for this request.
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

/// Counters of a [`RequestFramer`]: of what it framed, and of the bytes it passed over without
/// an event of their own (what events report, their number and lengths, is not counted again).
///
/// ```
/// use sunpower_pcap::http::RequestFramer;
/// let mut f = RequestFramer::new(Default::default());
/// f.feed(b"GET / HTTP/1.1\r\n\r\n", |_| {});
/// assert_eq!(f.stats().requests, 1);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HttpStats {
    /// Request heads framed.
    pub requests: u64,
    /// Body bytes framed but not kept (filter, or cut by a hole, or the chunks of a body
    /// received before it went over the limit).
    pub discarded_body_bytes: u64,
    /// Bytes of bodies over the limit, skipped by count.
    pub oversized_body_bytes: u64,
    /// Empty lines before a request line, which RFC 9112 tells servers to ignore.
    pub blank_line_bytes: u64,
    /// Bytes ignored after a [`HttpEvent::Response`].
    pub response_bytes: u64,
    /// Bytes of a stream found not to be HTTP ([`HttpEvent::NotHttp`]).
    pub non_http_bytes: u64,
    /// Requests with both `Content-Length` and chunked `Transfer-Encoding` (framed as chunked).
    pub content_length_with_chunked: u64,
}

impl HttpStats {
    /// Adds another framer's counters to these (totals over several streams).
    pub(crate) fn add(&mut self, other: &HttpStats) {
        self.requests += other.requests;
        self.discarded_body_bytes += other.discarded_body_bytes;
        self.oversized_body_bytes += other.oversized_body_bytes;
        self.blank_line_bytes += other.blank_line_bytes;
        self.response_bytes += other.response_bytes;
        self.non_http_bytes += other.non_http_bytes;
        self.content_length_with_chunked += other.content_length_with_chunked;
    }
}
