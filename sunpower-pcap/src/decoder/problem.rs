//! What went wrong and where: [`Problem`]s and their [`ProblemKind`]s.

use std::fmt;
use std::sync::Arc;

use crate::capture::CaptureError;
use crate::flow::FlowId;
use crate::http::FramingError;
use crate::ip::HeaderError;

#[cfg(doc)]
use super::DecoderConfig;

/// Something that went wrong, with where: the input, the packet, the connection.
///
/// ```
/// use sunpower_pcap::decoder::{Problem, ProblemKind};
/// let problem = Problem {
///     input: "day.pcap".into(),
///     packet: 40,
///     flow: Some(2),
///     kind: ProblemKind::Gap { at: 1460, len: 1448, direction: "client to server" },
/// };
/// assert_eq!(
///     problem.to_string(),
///     "day.pcap: packet 40, flow 2: 1448 bytes missing at stream offset 1460 (client to server)"
/// );
/// ```
#[derive(Debug)]
pub struct Problem {
    /// Name of the capture input (file name, or `<stdin>`).
    pub input: Arc<str>,
    /// Packet number within that input, from 1 (the packet being decoded when it happened; at
    /// the end of the input, the last one).
    pub packet: u64,
    /// The connection, when the problem belongs to one.
    pub flow: Option<FlowId>,
    /// What.
    pub kind: ProblemKind,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let ProblemKind::Capture(e) = &self.kind {
            // A capture error states its own, more precise, position (with the byte offset).
            return write!(f, "{e}");
        }
        write!(f, "{}: packet {}", self.input, self.packet)?;
        if let Some(flow) = self.flow {
            write!(f, ", flow {flow}")?;
        }
        write!(f, ": {}", self.kind)
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
    Link(HeaderError),
    /// A packet whose IP or TCP header is damaged or truncated.
    #[error("IP/TCP: {0}")]
    Ip(HeaderError),
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
        /// [`DecoderConfig::max_memory_bytes`].
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
}

fn missing_text(missing: Option<u64>) -> String {
    match missing {
        Some(n) => format!("{n} missing"),
        None => "length unknown".into(),
    }
}
