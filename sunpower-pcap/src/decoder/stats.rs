//! The counters over a whole decoding ([`DecodeStats`]), the figures of `sunpower stats`.

use crate::flow::FlowStats;
use crate::http::HttpStats;

#[cfg(doc)]
use super::DecoderConfig;
#[cfg(doc)]
use crate::http::{FramerConfig, RequestFramer};
#[cfg(doc)]
use crate::tcp::TcpStats;

/// Counters over the whole decoding, for `sunpower stats`: the decoder's own (packets it did
/// not decode, what it reported), the connection table's ([`flows`](Self::flows)) and the HTTP
/// framers' ([`http`](Self::http)).
///
/// ```
/// use sunpower_pcap::decoder::DecodeStats;
/// let stats = DecodeStats::default();
/// assert_eq!((stats.packets, stats.posts, stats.gaps, stats.flows.flows_opened), (0, 0, 0, 0));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[non_exhaustive]
pub struct DecodeStats {
    /// Packets read from the capture.
    pub packets: u64,
    /// Frames that carry something other than IP (ARP, LLDP, ...).
    pub non_ip: u64,
    /// IP packets that carry something other than TCP.
    pub non_tcp: u64,
    /// IP fragments (not reassembled); those of TCP datagrams are also reported as problems.
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
    /// Holes in TCP streams that were never filled.
    pub gaps: u64,
    /// Bytes in those holes.
    pub bytes_missing: u64,
    /// Requests the framers reported (all paths, both channels): posts, requests of other paths,
    /// bodies over the limit; counted as they come. [`HttpStats::requests`] in
    /// [`http`](Self::http) counts every head framed, when its connection closes: also a
    /// request whose body then failed to frame, or one of another path cut by a hole.
    pub requests: u64,
    /// Kept requests delivered as posts, complete or not.
    pub posts: u64,
    /// Posts whose body was cut.
    pub damaged_posts: u64,
    /// Requests framed but not kept (other paths), including those with a body over the limit.
    pub other_requests: u64,
    /// Requests whose body was longer than [`FramerConfig::max_body_bytes`]: counted in
    /// `requests`, their body skipped; a kept (collector) one is also an HTTP error and a problem.
    pub oversized_bodies: u64,
    /// HTTP framing errors.
    pub http_errors: u64,
    /// Stream bytes skipped while looking for a request line.
    pub skipped_bytes: u64,
    /// Stream directions that do not begin like HTTP/1 (TLS and other protocols), not decoded.
    pub non_http_streams: u64,
    /// Payload bytes after the end of a TCP stream (beyond a FIN, after a reset), not decoded;
    /// counted as each is reported (the connection table's
    /// [`TcpStats::bytes_after_close`] in [`flows`](Self::flows) counts them when the
    /// connection leaves the table).
    pub bytes_after_close: u64,
    /// Overlapping copies of stream bytes whose content differs from the kept (first) copy;
    /// counted as each is reported (as `bytes_after_close`).
    pub conflicting_overlaps: u64,
    /// The connection table's counters: connections opened (`sunpower stats`' `connections`),
    /// evicted, flushed over the memory budget ([`DecoderConfig::max_memory_bytes`]),
    /// restarted, continued after a FIN; segments of no connection; and the reassembly counters
    /// of the connections that left the table ([`TcpStats`]: duplicate bytes, segments out of
    /// window, ...).
    pub flows: FlowStats,
    /// The HTTP framers' counters, summed over the directions of the connections closed so far
    /// (each direction's [`RequestFramer::stats`] when its connection closes).
    pub http: HttpStats,
}
