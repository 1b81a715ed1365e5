//! The decoder's options: the limits of the stages it drives and its memory budget.

use crate::http::FramerConfig;
use crate::tcp::TcpConfig;

#[cfg(doc)]
use super::{DecodeStats, Decoder};
#[cfg(doc)]
use crate::flow::FlowStats;

/// Options of a [`Decoder`].
///
/// ```
/// use sunpower_pcap::decoder::DecoderConfig;
/// use sunpower_pcap::http::BodyFilter;
/// let mut cfg = DecoderConfig::default();
/// cfg.http.bodies = BodyFilter::AllPost; // every POST body, not only the collector's
/// assert_eq!(cfg.tcp.max_flows, 65_536);
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct DecoderConfig {
    /// Connection table and reassembly limits.
    pub tcp: TcpConfig,
    /// HTTP framing limits and which bodies are kept.
    pub http: FramerConfig,
    /// Bytes all connections together may take (default 32 MiB), as Suricata's stream memcap:
    /// each connection's state (a few hundred bytes), the out-of-order data its reassemblers
    /// buffer, its request heads and kept bodies in progress. Past it, the least recently
    /// active connections are flushed early, each counted in [`DecodeStats::flows`]
    /// ([`FlowStats::flows_over_budget`]) and reported: their holes become gaps, a body in
    /// progress an incomplete post. The default keeps `sunpower stats` within 64 MiB of memory
    /// on any capture.
    pub max_memory_bytes: usize,
}

impl Default for DecoderConfig {
    fn default() -> Self {
        DecoderConfig {
            tcp: TcpConfig::default(),
            http: FramerConfig::default(),
            max_memory_bytes: 32 << 20,
        }
    }
}
