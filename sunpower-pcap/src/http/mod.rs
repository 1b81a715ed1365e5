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
//! let mut framer = RequestFramer::new(Default::default());
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

mod chunked;
mod events;
mod filter;
mod framer;
mod head;
mod resync;
#[cfg(test)]
mod test_support;

pub use events::{FramingError, HttpEvent, HttpStats};
pub use filter::{collector_target, BodyFilter};
pub use framer::{FramerConfig, RequestFramer};
