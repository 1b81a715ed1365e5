//! The counters over a whole decoding ([`DecodeStats`]), the figures of `sunpower stats`.

use crate::tcp::TcpStats;

#[cfg(doc)]
use super::DecoderConfig;
#[cfg(doc)]
use crate::http::FramerConfig;

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
#[derive(Debug, Clone, Copy, Default, PartialEq)]
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
    /// ([`DecoderConfig::max_memory_bytes`]); each is also a problem.
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
    pub(super) fn add_tcp(&mut self, tcp: &TcpStats) {
        self.duplicate_bytes += tcp.duplicate_bytes;
        self.out_of_window_segments += tcp.segments_out_of_window;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_tcp_adds_the_duplicates_and_the_segments_out_of_window() {
        let mut stats = DecodeStats {
            duplicate_bytes: 10,
            ..DecodeStats::default()
        };
        let one = TcpStats {
            duplicate_bytes: 1448,
            segments_out_of_window: 2,
            bytes_delivered: 9000,
            ..TcpStats::default()
        };
        stats.add_tcp(&one);
        stats.add_tcp(&one);
        assert_eq!(
            (stats.duplicate_bytes, stats.out_of_window_segments),
            (2906, 4)
        );
        // Nothing else of the reassembler's counters is the decoder's.
        let expected = DecodeStats {
            duplicate_bytes: 2906,
            out_of_window_segments: 4,
            ..DecodeStats::default()
        };
        assert_eq!(stats, expected);
    }
}
