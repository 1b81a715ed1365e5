//! TCP stream reassembly for one direction of a connection, sans I/O.
//!
//! A [`Reassembler`] is fed the segments of one direction (sequence number, flags, payload) in
//! capture order and hands the stream back in order through a callback, as [`StreamEvent`]s:
//! contiguous [`Data`](StreamEvent::Data), [`Gap`](StreamEvent::Gap)s for bytes that never
//! arrived, then [`Fin`](StreamEvent::Fin) or [`Reset`](StreamEvent::Reset).
//!
//! # Policies
//!
//! - **Stream offsets.** Offset 0 is the first data byte: the byte after the SYN when a SYN was
//!   seen, otherwise the first byte of the first segment seen (a stream picked up mid-way). SYN
//!   and FIN each consume one sequence number. Offsets are 64-bit; sequence numbers are compared
//!   with wrapping arithmetic relative to the next expected byte, so wrap-around is seamless.
//! - **Overlaps: first received wins.** A byte is accepted once; a later copy of the same stream
//!   offset (exact or partial retransmission, overlapping segment) is discarded and counted in
//!   [`TcpStats::duplicate_bytes`], even when its content differs. This is what most IDS
//!   reassemblers do, and it keeps the in-order fast path copy-free. A copy whose content
//!   differs from the kept one is reported as a [`Conflict`](StreamEvent::Conflict) (and counted
//!   in [`TcpStats::conflicts`]) when the kept bytes are at hand: still buffered, or among the
//!   last [`TcpConfig::max_overlap_check_bytes`] delivered.
//! - **Window.** A segment more than [`TcpConfig::max_window_bytes`] bytes ahead of (or behind)
//!   the next expected byte is out of window: ignored and counted, never buffered. Bytes before
//!   offset 0 (seen when the first segment of a mid-stream pick-up was itself out of order) are
//!   counted the same way.
//! - **Holes.** Out-of-order data is buffered up to [`TcpConfig::max_buffered_bytes`] and
//!   [`TcpConfig::max_buffered_segments`]. Past either cap the reassembler gives up on the
//!   first hole: it emits a [`Gap`](StreamEvent::Gap) and releases the buffered data that follows.
//!   [`Reassembler::finish`] does the same for every remaining hole (and for a hole before a FIN).
//! - **After FIN or RST** nothing more is delivered; data beyond the FIN or after the close is
//!   counted in [`TcpStats::bytes_after_close`] and reported as
//!   [`AfterClose`](StreamEvent::AfterClose). A sender that goes on right after its FIN
//!   ([`continues_after_fin`](Reassembler::continues_after_fin)) is a new stream to the caller:
//!   [`crate::flow::FlowTable`] opens a new connection for it.
//!
//! # Example
//!
//! ```
//! use sunpower_pcap::ip::{TCP_ACK, TCP_FIN, TCP_SYN};
//! use sunpower_pcap::tcp::{Reassembler, StreamEvent};
//!
//! let mut r = Reassembler::new(Default::default());
//! let mut out = Vec::new();
//! let mut events = |e: StreamEvent<'_>| match e {
//!     StreamEvent::Data(d) => out.extend_from_slice(d),
//!     other => out.extend_from_slice(format!("<{other:?}>").as_bytes()),
//! };
//! r.segment(999, TCP_SYN, b"", &mut events);
//! r.segment(1007, TCP_ACK, b"world", &mut events); // early: buffered
//! r.segment(1000, TCP_ACK, b"hello, ", &mut events); // fills the hole
//! r.segment(1012, TCP_FIN, b"", &mut events);
//! assert_eq!(out, b"hello, world<Fin>");
//! ```

use std::collections::{BTreeMap, VecDeque};

use crate::ip::{TCP_FIN, TCP_RST, TCP_SYN};

#[cfg(doc)]
use crate::flow::{CloseReason, FlowTable};

/// What the reassembler hands back, in stream order.
///
/// ```
/// use sunpower_pcap::tcp::StreamEvent;
/// let e = StreamEvent::Gap { at: 10, len: 5 };
/// assert_ne!(e, StreamEvent::Fin);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StreamEvent<'a> {
    /// The next bytes of the stream, contiguous with what came before.
    Data(&'a [u8]),
    /// `len` bytes at stream offset `at` never arrived; the stream resumes at `at + len`.
    Gap {
        /// Stream offset of the first missing byte.
        at: u64,
        /// Number of missing bytes.
        len: u64,
    },
    /// The sender closed the stream; nothing follows.
    Fin,
    /// The connection was reset; nothing follows.
    Reset,
    /// `len` bytes at stream offset `at` arrived again with a content that differs from the copy
    /// already kept (delivered or buffered). The first copy stays; not stream data.
    Conflict {
        /// Stream offset of the overlap compared.
        at: u64,
        /// Its length.
        len: u64,
    },
    /// `len` payload bytes came after the end of the stream (beyond its FIN, or after it ended)
    /// and are not delivered; counted in [`TcpStats::bytes_after_close`]. Not stream data.
    AfterClose {
        /// Number of bytes.
        len: u64,
    },
}

/// Limits of the TCP stage: of the connection table ([`FlowTable`]) and of each direction's
/// [`Reassembler`], which reads only the `max_buffered_*`, `max_window_bytes` and
/// `max_overlap_check_bytes`.
///
/// ```
/// use sunpower_pcap::tcp::TcpConfig;
/// let cfg = TcpConfig { max_buffered_bytes: 1 << 20, ..TcpConfig::default() };
/// assert_eq!((cfg.max_window_bytes, cfg.max_flows, cfg.max_idle_us), (1 << 30, 65_536, 600_000_000));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct TcpConfig {
    /// Most live connections (default 65,536); more evict the least recently active.
    pub max_flows: usize,
    /// Capture time after which a silent connection is flushed and removed (default 10 min).
    pub max_idle_us: u64,
    /// A connection silent for this long (capture time; default 60 s), or closed, whose next
    /// data is more than [`restart_distance_bytes`](Self::restart_distance_bytes) from where
    /// its direction stands is replaced by a new one ([`CloseReason::Restarted`]).
    pub restart_idle_us: u64,
    /// See [`restart_idle_us`](Self::restart_idle_us); default 16 MiB, far beyond any receive
    /// window a home device advertises, far below a random sequence number's typical distance.
    pub restart_distance_bytes: u64,
    /// Most out-of-order payload bytes held while waiting for a hole to fill (default 4 MiB).
    pub max_buffered_bytes: usize,
    /// Most out-of-order segments held (default 16,384), which bounds per-segment overhead when
    /// the buffered segments are tiny.
    pub max_buffered_segments: usize,
    /// Segments further than this from the next expected byte are out of window (default 1 GiB;
    /// values above 2^31 - 1 are clamped, since sequence numbers only span ±2^31).
    pub max_window_bytes: u64,
    /// How many of the last delivered bytes are kept to compare with later copies of them
    /// (default 256), so that a retransmission with another content is reported as a
    /// [`StreamEvent::Conflict`]. 0 compares only with buffered data.
    pub max_overlap_check_bytes: usize,
    /// The fastest a sender is taken to send, bytes a second of capture time (default
    /// 125,000,000: 1 Gbit/s). A segment further ahead of where its direction stands than that
    /// rate allows since the direction's last segment (plus 1 MiB in flight) is counted out of
    /// window by the connection table rather than opening a hole no wire could have carried.
    pub max_line_rate_bytes_per_s: u64,
}

impl Default for TcpConfig {
    fn default() -> Self {
        TcpConfig {
            max_flows: 65_536,
            max_idle_us: 600_000_000,
            restart_idle_us: 60_000_000,
            restart_distance_bytes: 16 << 20,
            max_buffered_bytes: 4 << 20,
            max_buffered_segments: 16_384,
            max_window_bytes: 1 << 30,
            max_overlap_check_bytes: 256,
            max_line_rate_bytes_per_s: 125_000_000,
        }
    }
}

/// The limits a [`Reassembler`] keeps of its [`TcpConfig`].
#[derive(Debug, Clone, Copy)]
struct Limits {
    max_buffered_bytes: usize,
    max_buffered_segments: usize,
    max_window_bytes: u64,
    max_overlap_check_bytes: usize,
}

/// Counters of one [`Reassembler`]. Every payload byte received ends up in exactly one of
/// `bytes_delivered`, `duplicate_bytes`, `bytes_out_of_window` and `bytes_after_close`, once it
/// is no longer buffered.
///
/// ```
/// use sunpower_pcap::ip::TCP_ACK;
/// use sunpower_pcap::tcp::Reassembler;
/// let mut r = Reassembler::new(Default::default());
/// r.segment(1, TCP_ACK, b"abc", |_| {});
/// r.segment(1, TCP_ACK, b"abc", |_| {});
/// assert_eq!(r.stats().bytes_delivered, 3);
/// assert_eq!(r.stats().duplicate_bytes, 3);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TcpStats {
    /// Segments fed.
    pub segments: u64,
    /// Bytes handed out as [`StreamEvent::Data`].
    pub bytes_delivered: u64,
    /// Number of [`StreamEvent::Gap`]s.
    pub gaps: u64,
    /// Total length of the gaps.
    pub bytes_in_gaps: u64,
    /// Gaps forced by a buffer cap (also counted in `gaps`).
    pub cap_gaps: u64,
    /// Bytes of the gaps forced by a buffer cap (also counted in `bytes_in_gaps`).
    pub bytes_in_cap_gaps: u64,
    /// Bytes received again for an offset already delivered or buffered (first copy wins).
    pub duplicate_bytes: u64,
    /// Segments that fell out of window (too far from the next expected byte, or before offset 0).
    pub segments_out_of_window: u64,
    /// Payload bytes of those segments.
    pub bytes_out_of_window: u64,
    /// Payload bytes beyond the FIN, or received after the stream ended.
    pub bytes_after_close: u64,
    /// [`StreamEvent::Conflict`]s: overlapping copies whose content differs from the kept one.
    pub conflicts: u64,
}

impl TcpStats {
    /// Adds another set of counters to this one (for totals over several streams).
    ///
    /// ```
    /// use sunpower_pcap::tcp::TcpStats;
    /// let mut total = TcpStats { gaps: 1, ..Default::default() };
    /// total.merge(&TcpStats { gaps: 2, bytes_in_gaps: 5, ..Default::default() });
    /// assert_eq!((total.gaps, total.bytes_in_gaps), (3, 5));
    /// ```
    pub fn merge(&mut self, other: &TcpStats) {
        self.segments += other.segments;
        self.bytes_delivered += other.bytes_delivered;
        self.gaps += other.gaps;
        self.bytes_in_gaps += other.bytes_in_gaps;
        self.cap_gaps += other.cap_gaps;
        self.bytes_in_cap_gaps += other.bytes_in_cap_gaps;
        self.duplicate_bytes += other.duplicate_bytes;
        self.segments_out_of_window += other.segments_out_of_window;
        self.bytes_out_of_window += other.bytes_out_of_window;
        self.bytes_after_close += other.bytes_after_close;
        self.conflicts += other.conflicts;
    }
}

/// Reassembles one direction of a TCP connection. See the [module docs](self) for the policies.
///
/// ```
/// use sunpower_pcap::ip::TCP_ACK;
/// use sunpower_pcap::tcp::{Reassembler, StreamEvent};
/// let mut r = Reassembler::new(Default::default());
/// let mut events = Vec::new();
/// r.segment(100, TCP_ACK, b"ab", |e| events.push(format!("{e:?}")));
/// r.segment(104, TCP_ACK, b"ef", |e| events.push(format!("{e:?}")));
/// r.finish(|e| events.push(format!("{e:?}")));
/// assert_eq!(events, ["Data([97, 98])", "Gap { at: 2, len: 2 }", "Data([101, 102])"]);
/// ```
#[derive(Debug)]
pub struct Reassembler {
    cfg: Limits,
    /// Sequence number of stream offset 0, once known.
    base: Option<u32>,
    syn_seen: bool,
    /// Next stream offset to deliver.
    next: u64,
    /// Out-of-order data by stream offset; entries are non-overlapping and all start past `next`.
    ooo: BTreeMap<u64, Vec<u8>>,
    buffered: usize,
    fin_at: Option<u64>,
    closed: bool,
    /// The stream ended with its FIN (not a reset, not cut short).
    ended_by_fin: bool,
    /// The last delivered bytes (at most `max_overlap_check_bytes`), ending at `next`; allocated
    /// on the first delivery.
    recent: VecDeque<u8>,
    stats: TcpStats,
}

impl Reassembler {
    /// A reassembler with the given limits, at the start of a stream.
    ///
    /// ```
    /// # use sunpower_pcap::tcp::{Reassembler, TcpConfig};
    /// let r = Reassembler::new(TcpConfig { max_buffered_bytes: 0, ..Default::default() });
    /// assert_eq!((r.next_offset(), r.memory_used()), (0, 0));
    /// ```
    pub fn new(cfg: TcpConfig) -> Reassembler {
        Reassembler {
            cfg: Limits {
                max_buffered_bytes: cfg.max_buffered_bytes,
                max_buffered_segments: cfg.max_buffered_segments,
                max_window_bytes: cfg.max_window_bytes.min(i32::MAX as u64),
                max_overlap_check_bytes: cfg.max_overlap_check_bytes,
            },
            base: None,
            syn_seen: false,
            next: 0,
            ooo: BTreeMap::new(),
            buffered: 0,
            fin_at: None,
            closed: false,
            ended_by_fin: false,
            recent: VecDeque::new(),
            stats: TcpStats::default(),
        }
    }

    /// The counters so far.
    ///
    /// ```
    /// # use sunpower_pcap::tcp::Reassembler;
    /// assert_eq!(Reassembler::new(Default::default()).stats().segments, 0);
    /// ```
    pub fn stats(&self) -> &TcpStats {
        &self.stats
    }

    /// Stream offset of the next byte to be delivered (bytes delivered plus gap bytes so far).
    ///
    /// ```
    /// # use sunpower_pcap::ip::TCP_ACK;
    /// # use sunpower_pcap::tcp::Reassembler;
    /// let mut r = Reassembler::new(Default::default());
    /// r.segment(7, TCP_ACK, b"xyz", |_| {});
    /// assert_eq!(r.next_offset(), 3);
    /// ```
    pub fn next_offset(&self) -> u64 {
        self.next
    }

    /// The sequence number of stream offset 0, once a segment fixed it.
    ///
    /// ```
    /// # use sunpower_pcap::ip::TCP_SYN;
    /// # use sunpower_pcap::tcp::Reassembler;
    /// let mut r = Reassembler::new(Default::default());
    /// r.segment(41, TCP_SYN, b"", |_| {});
    /// assert_eq!(r.base_seq(), Some(42));
    /// ```
    pub fn base_seq(&self) -> Option<u32> {
        self.base
    }

    /// The initial sequence number, when a SYN was seen.
    pub(crate) fn isn(&self) -> Option<u32> {
        match (self.syn_seen, self.base) {
            (true, Some(b)) => Some(b.wrapping_sub(1)),
            _ => None,
        }
    }

    /// Payload bytes currently held out of order.
    ///
    /// ```
    /// # use sunpower_pcap::ip::TCP_ACK;
    /// # use sunpower_pcap::tcp::Reassembler;
    /// let mut r = Reassembler::new(Default::default());
    /// r.segment(0, TCP_ACK, b"a", |_| {});
    /// r.segment(5, TCP_ACK, b"bcd", |_| {});
    /// assert_eq!(r.buffered_bytes(), 3);
    /// ```
    pub fn buffered_bytes(&self) -> usize {
        self.buffered
    }

    /// Heap bytes this reassembler holds beyond its own size, as counted against a memory
    /// budget: buffered out-of-order data with a per-segment overhead, and the bytes kept to
    /// check overlaps. Nothing for a stream that buffered nothing.
    ///
    /// ```
    /// # use sunpower_pcap::ip::TCP_ACK;
    /// # use sunpower_pcap::tcp::{Reassembler, TcpConfig};
    /// let cfg = TcpConfig { max_overlap_check_bytes: 0, ..Default::default() };
    /// let mut r = Reassembler::new(cfg);
    /// assert_eq!(r.memory_used(), 0);
    /// r.segment(0, TCP_ACK, b"a", |_| {});
    /// r.segment(5, TCP_ACK, b"bcd", |_| {});
    /// assert!(r.memory_used() >= 3);
    /// ```
    pub fn memory_used(&self) -> usize {
        // A BTreeMap entry: its share of a node (key and Vec header) and the Vec's allocation.
        const PER_SEGMENT: usize = 64;
        self.buffered + self.ooo.len() * PER_SEGMENT + self.recent.capacity()
    }

    /// Whether the stream ended ([`StreamEvent::Fin`] or [`StreamEvent::Reset`] was emitted, or
    /// [`finish`](Self::finish) was called).
    ///
    /// ```
    /// # use sunpower_pcap::ip::TCP_RST;
    /// # use sunpower_pcap::tcp::Reassembler;
    /// let mut r = Reassembler::new(Default::default());
    /// r.segment(0, TCP_RST, b"", |_| {});
    /// assert!(r.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Signed distance, in sequence space, from the next expected byte to `seq`, as a stream
    /// offset (may be negative).
    fn offset_of(&self, base: u32, seq: u32) -> i64 {
        let next_seq = base.wrapping_add(self.next as u32);
        self.next as i64 + i64::from(seq.wrapping_sub(next_seq) as i32)
    }

    /// Whether `seq` lies within [`TcpConfig::max_window_bytes`] of the next expected byte
    /// (always true before the stream's offset 0 is known).
    pub(crate) fn in_window(&self, seq: u32) -> bool {
        self.distance(seq)
            .is_none_or(|d| d <= self.cfg.max_window_bytes)
    }

    /// How far `seq` is ahead of the next expected byte (negative: behind); `None` before the
    /// stream's offset 0 is known.
    pub(crate) fn ahead(&self, seq: u32) -> Option<i64> {
        let base = self.base?;
        Some(self.offset_of(base, seq) - self.next as i64)
    }

    /// Counts a segment refused before it reached the stream (implausibly far ahead) as out
    /// of window.
    pub(crate) fn refuse(&mut self, len: usize) {
        self.stats.segments += 1;
        self.stats.segments_out_of_window += 1;
        self.stats.bytes_out_of_window += len as u64;
    }

    /// How far `seq` is from the next expected byte, in either direction; `None` before the
    /// stream's offset 0 is known.
    pub(crate) fn distance(&self, seq: u32) -> Option<u64> {
        let base = self.base?;
        Some((self.offset_of(base, seq) - self.next as i64).unsigned_abs())
    }

    /// Whether a segment carries data that starts right after this stream's FIN (the sequence
    /// number the FIN consumed): a sender that went on after closing, whose bytes are a new
    /// stream rather than bytes after the close.
    ///
    /// ```
    /// use sunpower_pcap::ip::{TCP_ACK, TCP_FIN, TCP_SYN};
    /// use sunpower_pcap::tcp::Reassembler;
    /// let mut r = Reassembler::new(Default::default());
    /// r.segment(99, TCP_SYN, b"", |_| {});
    /// r.segment(100, TCP_FIN, b"ab", |_| {}); // FIN at 102
    /// assert!(r.continues_after_fin(103, TCP_ACK, b"POST"));
    /// assert!(!r.continues_after_fin(100, TCP_ACK, b"ab")); // a retransmission
    /// ```
    pub fn continues_after_fin(&self, seq: u32, flags: u8, payload: &[u8]) -> bool {
        match (self.ended_by_fin, self.base, self.fin_at) {
            (true, Some(base), Some(fin_at)) => {
                !payload.is_empty()
                    && flags & TCP_SYN == 0
                    && seq == base.wrapping_add(fin_at as u32).wrapping_add(1)
            }
            _ => false,
        }
    }

    /// Feeds one segment of this direction; in-order data is passed to `sink` without copying.
    ///
    /// ```
    /// use sunpower_pcap::ip::TCP_ACK;
    /// use sunpower_pcap::tcp::{Reassembler, StreamEvent};
    /// let mut r = Reassembler::new(Default::default());
    /// let mut got = Vec::new();
    /// // Sequence numbers wrap around seamlessly.
    /// r.segment(u32::MAX - 1, TCP_ACK, b"ab", |e| if let StreamEvent::Data(d) = e { got.extend_from_slice(d) });
    /// r.segment(0, TCP_ACK, b"cd", |e| if let StreamEvent::Data(d) = e { got.extend_from_slice(d) });
    /// assert_eq!(got, b"abcd");
    /// ```
    pub fn segment<F>(&mut self, seq: u32, flags: u8, payload: &[u8], mut sink: F)
    where
        F: FnMut(StreamEvent<'_>),
    {
        self.stats.segments += 1;
        let data_seq = if flags & TCP_SYN != 0 {
            seq.wrapping_add(1)
        } else {
            seq
        };
        if self.closed {
            // A late copy of bytes the stream had is a duplicate; the rest comes after the end.
            let len = payload.len() as i64;
            let dup = self.base.map_or(0, |base| {
                let off = self.offset_of(base, data_seq);
                ((off + len).min(self.next as i64) - off).clamp(0, len)
            }) as u64;
            self.stats.duplicate_bytes += dup;
            self.after_close(len as u64 - dup, &mut sink);
            return;
        }
        let base = match self.base {
            Some(b) => b,
            // A bare ACK could be a keep-alive probe one byte early: only a segment that carries
            // something fixes offset 0 of a stream picked up mid-way.
            None if flags & TCP_SYN != 0 || flags & TCP_FIN != 0 || !payload.is_empty() => {
                self.syn_seen = flags & TCP_SYN != 0;
                self.base = Some(data_seq);
                data_seq
            }
            None => {
                if flags & TCP_RST != 0 {
                    self.reset(&mut sink);
                }
                return;
            }
        };
        let off = self.offset_of(base, data_seq);
        let len = payload.len() as u64;
        let dist = off - self.next as i64;
        let window = self.cfg.max_window_bytes as i64;
        if dist > window || dist + (len as i64) < -window || off + (len as i64) <= 0 && len > 0 {
            self.stats.segments_out_of_window += 1;
            self.stats.bytes_out_of_window += len;
            return;
        }
        if off < 0 {
            // Partly before offset 0: drop the part that precedes the stream.
            let cut = (-off).min(len as i64) as usize;
            self.stats.segments_out_of_window += 1;
            self.stats.bytes_out_of_window += cut as u64;
            self.data(0, &payload[cut..], &mut sink);
        } else {
            self.data(off as u64, payload, &mut sink);
        }
        // A FIN behind what was already delivered cannot be genuine: ignore it.
        if flags & TCP_FIN != 0 && self.fin_at.is_none() && off + len as i64 >= self.next as i64 {
            self.fin_at = Some((off + len as i64) as u64);
            self.trim_beyond_fin(&mut sink);
        }
        self.check_fin(&mut sink);
        if flags & TCP_RST != 0 && !self.closed {
            // Release what the sender got out before aborting, so holes are reported as gaps.
            self.flush(&mut sink);
            self.reset(&mut sink);
        }
    }

    /// Declares the `len` bytes of this direction from `seq` lost for good: the capture cut them
    /// off their packet (snaplen). Where they start at the delivery point the hole is reported
    /// at once and what follows is released; elsewhere later data (a full retransmission)
    /// may still fill it, so it is left to become a gap as any other hole does.
    ///
    /// ```
    /// use sunpower_pcap::ip::TCP_ACK;
    /// use sunpower_pcap::tcp::{Reassembler, StreamEvent};
    /// let mut r = Reassembler::new(Default::default());
    /// let mut events = Vec::new();
    /// // A 6-byte segment of which the capture kept 2 bytes, then the next segment.
    /// r.segment(100, TCP_ACK, b"ab", |e| events.push(format!("{e:?}")));
    /// r.lost(102, 4, |e| events.push(format!("{e:?}")));
    /// r.segment(106, TCP_ACK, b"gh", |e| events.push(format!("{e:?}")));
    /// assert_eq!(events, ["Data([97, 98])", "Gap { at: 2, len: 4 }", "Data([103, 104])"]);
    /// ```
    pub fn lost<F>(&mut self, seq: u32, len: u32, mut sink: F)
    where
        F: FnMut(StreamEvent<'_>),
    {
        let Some(base) = self.base else { return };
        if self.closed || len == 0 {
            return;
        }
        let off = self.offset_of(base, seq);
        if off < 0 {
            return;
        }
        let (start, end) = (off as u64, off as u64 + u64::from(len));
        // Each turn either moves `next` on (a gap) or releases a buffered entry that starts at
        // or before it (data received earlier for part of the range), so the loop ends.
        while self.next >= start && self.next < end {
            let hole_end = self
                .ooo
                .first_key_value()
                .map_or(end, |(k, _)| (*k).min(end));
            if hole_end > self.next {
                self.gap(hole_end - self.next, &mut sink);
            }
            self.release_contiguous(&mut sink);
        }
        self.check_fin(&mut sink);
    }

    fn reset<F: FnMut(StreamEvent<'_>)>(&mut self, sink: &mut F) {
        self.closed = true;
        sink(StreamEvent::Reset);
    }

    /// Handles the payload of one segment at stream offset `off` (not before offset 0).
    fn data<F: FnMut(StreamEvent<'_>)>(&mut self, off: u64, payload: &[u8], sink: &mut F) {
        let mut off = off;
        let mut payload = payload;
        if let Some(fin_at) = self.fin_at {
            let room = fin_at.saturating_sub(off).min(payload.len() as u64) as usize;
            self.after_close((payload.len() - room) as u64, sink);
            payload = &payload[..room];
        }
        if payload.is_empty() {
            return;
        }
        if off < self.next {
            let dup = (self.next - off).min(payload.len() as u64) as usize;
            self.stats.duplicate_bytes += dup as u64;
            self.compare_with_recent(off, &payload[..dup], sink);
            payload = &payload[dup..];
            off = self.next;
            if payload.is_empty() {
                return;
            }
        }
        if off == self.next {
            self.deliver_in_order(payload, sink);
        } else {
            self.buffer(off, payload, sink);
            self.enforce_caps(sink);
        }
    }

    /// Delivers `payload`, which starts at `next`, interleaving any buffered data that was
    /// received first for the same offsets.
    fn deliver_in_order<F: FnMut(StreamEvent<'_>)>(&mut self, payload: &[u8], sink: &mut F) {
        let start = self.next;
        let end = start + payload.len() as u64;
        while self.next < end {
            match self
                .ooo
                .first_key_value()
                .map(|(k, v)| (*k, v.len() as u64))
            {
                Some((k, blen)) if k <= self.next => {
                    // Buffered data wins over the overlapping part of this segment.
                    let covered = (k + blen).min(end) - self.next;
                    self.stats.duplicate_bytes += covered;
                    let (at, from) = (self.next, (self.next - start) as usize);
                    let theirs = &payload[from..from + covered as usize];
                    let differs = self.ooo.get(&k).is_some_and(|kept| {
                        let skip = (at - k) as usize;
                        kept[skip..skip + covered as usize] != *theirs
                    });
                    if differs {
                        self.conflict(at, covered, sink);
                    }
                    self.release_first(sink);
                }
                first => {
                    let stop = first.map_or(end, |(k, _)| k.min(end));
                    let slice = &payload[(self.next - start) as usize..(stop - start) as usize];
                    self.emit_data(slice, sink);
                }
            }
        }
        self.release_contiguous(sink);
    }

    fn emit_data<F: FnMut(StreamEvent<'_>)>(&mut self, d: &[u8], sink: &mut F) {
        self.remember(d);
        self.next += d.len() as u64;
        self.stats.bytes_delivered += d.len() as u64;
        sink(StreamEvent::Data(d));
    }

    /// Delivers the first buffered entry, which must start at or before `next`.
    fn release_first<F: FnMut(StreamEvent<'_>)>(&mut self, sink: &mut F) {
        if let Some((k, v)) = self.ooo.pop_first() {
            self.buffered -= v.len();
            let skip = self.next.saturating_sub(k).min(v.len() as u64) as usize;
            if skip < v.len() {
                self.emit_data(&v[skip..], sink);
            }
        }
    }

    fn release_contiguous<F: FnMut(StreamEvent<'_>)>(&mut self, sink: &mut F) {
        while self
            .ooo
            .first_key_value()
            .is_some_and(|(k, _)| *k <= self.next)
        {
            self.release_first(sink);
        }
    }

    /// Buffers the parts of an early segment not already buffered (first copy wins), reporting
    /// the overlaps whose content differs.
    fn buffer<F: FnMut(StreamEvent<'_>)>(&mut self, off: u64, payload: &[u8], sink: &mut F) {
        let end = off + payload.len() as u64;
        // (offset, len, new) pieces: not yet buffered, or overlapping a buffered entry (`new`
        // false) that differs from this copy.
        let mut pieces: Vec<(u64, u64, bool)> = Vec::new();
        let from = self.ooo.range(..=off).next_back().map_or(off, |(k, _)| *k);
        let mut cur = off;
        for (&k, v) in self.ooo.range(from..end) {
            let kend = k + v.len() as u64;
            if kend <= cur {
                continue;
            }
            if k > cur {
                pieces.push((cur, k - cur, true));
            }
            let (o0, o1) = (k.max(off), kend.min(end));
            let kept = &v[(o0 - k) as usize..(o1 - k) as usize];
            if *kept != payload[(o0 - off) as usize..(o1 - off) as usize] {
                pieces.push((o0, o1 - o0, false));
            }
            cur = cur.max(kend);
            if cur >= end {
                break;
            }
        }
        if cur < end {
            pieces.push((cur, end - cur, true));
        }
        let mut kept = 0u64;
        for (o, l, new) in pieces {
            if !new {
                self.conflict(o, l, sink);
                continue;
            }
            let s = (o - off) as usize;
            self.ooo.insert(o, payload[s..s + l as usize].to_vec());
            kept += l;
        }
        self.buffered += kept as usize;
        self.stats.duplicate_bytes += payload.len() as u64 - kept;
    }

    /// Keeps the last `max_overlap_check_bytes` delivered bytes, to compare later copies with.
    fn remember(&mut self, d: &[u8]) {
        let cap = self.cfg.max_overlap_check_bytes;
        if cap == 0 {
            return;
        }
        let d = &d[d.len().saturating_sub(cap)..];
        let excess = (self.recent.len() + d.len()).saturating_sub(cap);
        self.recent.drain(..excess);
        self.recent.extend(d);
    }

    /// Compares a late copy of delivered bytes (from offset `off`) with what is remembered.
    fn compare_with_recent<F: FnMut(StreamEvent<'_>)>(
        &mut self,
        off: u64,
        copy: &[u8],
        sink: &mut F,
    ) {
        let kept_from = self.next - self.recent.len() as u64;
        let (o0, o1) = (off.max(kept_from), (off + copy.len() as u64).min(self.next));
        if o0 >= o1 {
            return;
        }
        let theirs = &copy[(o0 - off) as usize..(o1 - off) as usize];
        let ours = self
            .recent
            .range((o0 - kept_from) as usize..(o1 - kept_from) as usize);
        if !ours.eq(theirs.iter()) {
            self.conflict(o0, o1 - o0, sink);
        }
    }

    fn conflict<F: FnMut(StreamEvent<'_>)>(&mut self, at: u64, len: u64, sink: &mut F) {
        self.stats.conflicts += 1;
        sink(StreamEvent::Conflict { at, len });
    }

    fn after_close<F: FnMut(StreamEvent<'_>)>(&mut self, len: u64, sink: &mut F) {
        if len > 0 {
            self.stats.bytes_after_close += len;
            sink(StreamEvent::AfterClose { len });
        }
    }

    fn enforce_caps<F: FnMut(StreamEvent<'_>)>(&mut self, sink: &mut F) {
        while self.buffered > self.cfg.max_buffered_bytes
            || self.ooo.len() > self.cfg.max_buffered_segments
        {
            let Some(&k) = self.ooo.keys().next() else {
                break;
            };
            let len = k - self.next;
            self.stats.cap_gaps += 1;
            self.stats.bytes_in_cap_gaps += len;
            self.gap(len, sink);
            self.release_contiguous(sink);
        }
    }

    fn gap<F: FnMut(StreamEvent<'_>)>(&mut self, len: u64, sink: &mut F) {
        if len == 0 {
            return;
        }
        let at = self.next;
        self.next += len;
        // What was remembered ends before the hole: it no longer ends at `next`.
        self.recent.clear();
        self.stats.gaps += 1;
        self.stats.bytes_in_gaps += len;
        sink(StreamEvent::Gap { at, len });
    }

    /// Drops buffered data at or beyond the FIN.
    fn trim_beyond_fin<F: FnMut(StreamEvent<'_>)>(&mut self, sink: &mut F) {
        let Some(fin_at) = self.fin_at else { return };
        let beyond = self.ooo.split_off(&fin_at);
        let mut after = 0;
        for v in beyond.values() {
            self.buffered -= v.len();
            after += v.len() as u64;
        }
        if let Some(mut last) = self.ooo.last_entry() {
            let k = *last.key();
            let v = last.get_mut();
            if k + v.len() as u64 > fin_at {
                let keep = (fin_at - k) as usize;
                self.buffered -= v.len() - keep;
                after += (v.len() - keep) as u64;
                v.truncate(keep);
            }
        }
        self.after_close(after, sink);
    }

    fn check_fin<F: FnMut(StreamEvent<'_>)>(&mut self, sink: &mut F) {
        if !self.closed && self.fin_at.is_some_and(|f| f <= self.next) {
            self.closed = true;
            self.ended_by_fin = true;
            self.recent = VecDeque::new();
            sink(StreamEvent::Fin);
        }
    }

    /// Releases every buffered byte, reporting the holes before them as gaps.
    fn flush<F: FnMut(StreamEvent<'_>)>(&mut self, sink: &mut F) {
        while let Some(&k) = self.ooo.keys().next() {
            self.gap(k.saturating_sub(self.next), sink);
            self.release_contiguous(sink);
        }
    }

    /// Ends the stream (end of input, or the connection is being dropped): every remaining hole
    /// becomes a [`StreamEvent::Gap`] and the data after it is released; a hole before a known
    /// FIN is reported, then [`StreamEvent::Fin`]. Later segments are only counted.
    ///
    /// ```
    /// use sunpower_pcap::ip::{TCP_ACK, TCP_FIN};
    /// use sunpower_pcap::tcp::{Reassembler, StreamEvent};
    /// let mut r = Reassembler::new(Default::default());
    /// r.segment(0, TCP_ACK, b"ab", |_| {});
    /// r.segment(4, TCP_FIN, b"", |_| {});
    /// let mut ev = Vec::new();
    /// r.finish(|e| ev.push(format!("{e:?}")));
    /// assert_eq!(ev, ["Gap { at: 2, len: 2 }", "Fin"]);
    /// ```
    pub fn finish<F>(&mut self, mut sink: F)
    where
        F: FnMut(StreamEvent<'_>),
    {
        if self.closed {
            return;
        }
        self.flush(&mut sink);
        if let Some(fin_at) = self.fin_at {
            self.gap(fin_at.saturating_sub(self.next), &mut sink);
            self.check_fin(&mut sink);
        }
        self.closed = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ip::TCP_ACK;

    #[test]
    fn isn_window_and_distance_are_in_sequence_space() {
        let mut r = Reassembler::new(Default::default());
        r.segment(41, TCP_SYN, b"", |_| {});
        assert_eq!(r.isn(), Some(41));
        let mut r = Reassembler::new(Default::default());
        assert_eq!(r.distance(5), None);
        r.segment(1000, TCP_ACK, b"ab", |_| {});
        assert!(r.in_window(1002) && r.in_window(900));
        assert!(!r.in_window(1000u32.wrapping_add(3 << 30)));
        assert_eq!((r.distance(1012), r.distance(990)), (Some(10), Some(12)));
    }
    use proptest::prelude::*;

    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Ev {
        Data(Vec<u8>),
        Gap(u64, u64),
        Fin,
        Reset,
        Conflict(u64, u64),
        AfterClose(u64),
    }

    /// Collects events, merging adjacent data so tests don't depend on chunking.
    fn push(out: &mut Vec<Ev>, e: StreamEvent<'_>) {
        match e {
            StreamEvent::Data(d) => {
                assert!(!d.is_empty(), "empty data event");
                if let Some(Ev::Data(prev)) = out.last_mut() {
                    prev.extend_from_slice(d);
                } else {
                    out.push(Ev::Data(d.to_vec()));
                }
            }
            StreamEvent::Gap { at, len } => out.push(Ev::Gap(at, len)),
            StreamEvent::Fin => out.push(Ev::Fin),
            StreamEvent::Reset => out.push(Ev::Reset),
            StreamEvent::Conflict { at, len } => out.push(Ev::Conflict(at, len)),
            StreamEvent::AfterClose { len } => out.push(Ev::AfterClose(len)),
        }
    }

    fn feed(r: &mut Reassembler, out: &mut Vec<Ev>, seq: u32, flags: u8, p: &[u8]) {
        r.segment(seq, flags, p, |e| push(out, e));
    }

    fn data(s: &[u8]) -> Ev {
        Ev::Data(s.to_vec())
    }

    #[test]
    fn in_order_data_passes_caller_slice_through() {
        let mut r = Reassembler::new(Default::default());
        let payload = b"hello".to_vec();
        let mut same_ptr = false;
        r.segment(10, TCP_ACK, &payload, |e| {
            if let StreamEvent::Data(d) = e {
                same_ptr = d.as_ptr() == payload.as_ptr() && d.len() == 5;
            }
        });
        assert!(same_ptr);
        assert_eq!(r.buffered_bytes(), 0);
    }

    #[test]
    fn segment_split_at_every_byte_reassembles_whole() {
        let msg = b"POST /Data/SMS2DataCollector.aspx HTTP/1.1\r\n";
        let mut r = Reassembler::new(Default::default());
        let mut out = Vec::new();
        feed(&mut r, &mut out, 500, TCP_SYN, b"");
        // Reverse order, one byte each: everything is buffered until the first byte arrives.
        for i in (0..msg.len()).rev() {
            feed(&mut r, &mut out, 501 + i as u32, TCP_ACK, &msg[i..=i]);
        }
        assert_eq!(out, vec![data(msg)]);
        assert_eq!(r.stats().bytes_delivered, msg.len() as u64);
        assert_eq!(r.buffered_bytes(), 0);
    }

    #[test]
    fn retransmission_overlap_keeps_first_copy() {
        let mut r = Reassembler::new(Default::default());
        let mut out = Vec::new();
        feed(&mut r, &mut out, 0, TCP_ACK, b"abcd");
        // Partial retransmission with different content: the delivered copy stands.
        feed(&mut r, &mut out, 2, TCP_ACK, b"XYef");
        // Buffered early segment, then an overlapping one that arrives later.
        feed(&mut r, &mut out, 8, TCP_ACK, b"ij");
        feed(&mut r, &mut out, 6, TCP_ACK, b"ghQQkl");
        // Both copies that differ are reported, at the offsets compared.
        assert_eq!(
            out,
            vec![
                data(b"abcd"),
                Ev::Conflict(2, 2),
                data(b"efgh"),
                Ev::Conflict(8, 2),
                data(b"ijkl")
            ]
        );
        assert_eq!(r.stats().duplicate_bytes, 2 + 2);
        assert_eq!(r.stats().conflicts, 2);
        assert_eq!(r.stats().bytes_delivered, 12);
        // The same bytes again carry the kept content: a duplicate, no conflict.
        feed(&mut r, &mut out, 2, TCP_ACK, b"cdefghijkl");
        assert_eq!(r.stats().conflicts, 2);
        assert_eq!(r.stats().duplicate_bytes, 4 + 10);
    }

    #[test]
    fn buffered_overlaps_keep_first_copy() {
        let mut r = Reassembler::new(Default::default());
        let mut out = Vec::new();
        feed(&mut r, &mut out, 0, TCP_ACK, b"a");
        feed(&mut r, &mut out, 3, TCP_ACK, b"de");
        feed(&mut r, &mut out, 7, TCP_ACK, b"h");
        feed(&mut r, &mut out, 2, TCP_ACK, b"cXYfgZi"); // spans both buffered pieces
        assert_eq!(r.buffered_bytes(), 7);
        feed(&mut r, &mut out, 1, TCP_ACK, b"b");
        assert_eq!(
            out,
            vec![
                data(b"a"),
                Ev::Conflict(3, 2),
                Ev::Conflict(7, 1),
                data(b"bcdefghi")
            ]
        );
        assert_eq!(r.stats().duplicate_bytes, 3);
        assert_eq!(r.stats().conflicts, 2);
    }

    #[test]
    fn exact_duplicate_is_counted_not_delivered() {
        let mut r = Reassembler::new(Default::default());
        let mut out = Vec::new();
        feed(&mut r, &mut out, 0, TCP_ACK, b"abc");
        feed(&mut r, &mut out, 0, TCP_ACK, b"abc");
        assert_eq!(out, vec![data(b"abc")]);
        assert_eq!(r.stats().duplicate_bytes, 3);
    }

    #[test]
    fn sequence_wraparound_is_seamless() {
        let mut r = Reassembler::new(Default::default());
        let mut out = Vec::new();
        let isn = u32::MAX - 3;
        feed(&mut r, &mut out, isn, TCP_SYN, b"");
        feed(&mut r, &mut out, isn.wrapping_add(5), TCP_ACK, b"efgh"); // after the wrap
        feed(&mut r, &mut out, isn.wrapping_add(1), TCP_ACK, b"abcd");
        feed(&mut r, &mut out, isn.wrapping_add(9), TCP_FIN, b"");
        assert_eq!(out, vec![data(b"abcdefgh"), Ev::Fin]);
    }

    #[test]
    fn stream_longer_than_sequence_space_keeps_counting() {
        let cfg = TcpConfig::default();
        let mut r = Reassembler::new(cfg);
        let chunk = vec![7u8; 1 << 16];
        let mut seq = 123u32;
        let mut n = 0u64;
        // 5 GiB worth of offsets would be slow; jump through the space with gaps in window.
        for _ in 0..(1u64 << 16) + 10 {
            r.segment(seq, TCP_ACK, &chunk, |e| {
                if let StreamEvent::Data(d) = e {
                    n += d.len() as u64
                }
            });
            seq = seq.wrapping_add(chunk.len() as u32);
        }
        assert_eq!(n, ((1u64 << 16) + 10) << 16);
        assert_eq!(r.next_offset(), n);
        assert!(r.next_offset() > u64::from(u32::MAX));
    }

    #[test]
    fn bytes_cut_by_the_snaplen_are_a_gap_at_once() {
        let mut r = Reassembler::new(Default::default());
        let mut out = Vec::new();
        feed(&mut r, &mut out, 1000, TCP_ACK, b"abc");
        r.lost(1003, 5, |e| push(&mut out, e));
        assert_eq!(out, [data(b"abc"), Ev::Gap(3, 5)]);
        // A later segment follows straight on; nothing waits for the end of the stream.
        feed(&mut r, &mut out, 1008, TCP_ACK, b"ij");
        assert_eq!(out.last(), Some(&data(b"ij")));
        assert_eq!((r.stats().gaps, r.stats().bytes_in_gaps), (1, 5));
    }

    #[test]
    fn lost_range_partly_received_earlier_keeps_the_received_bytes() {
        let mut r = Reassembler::new(Default::default());
        let mut out = Vec::new();
        feed(&mut r, &mut out, 1000, TCP_ACK, b"ab");
        feed(&mut r, &mut out, 1004, TCP_ACK, b"ef"); // buffered, ahead
        r.lost(1002, 6, |e| push(&mut out, e)); // 1002..1008 cut from a later copy
        assert_eq!(
            out,
            [data(b"ab"), Ev::Gap(2, 2), data(b"ef"), Ev::Gap(6, 2)]
        );
        assert_eq!(r.next_offset(), 8);
    }

    #[test]
    fn lost_range_away_from_the_delivery_point_waits() {
        let mut r = Reassembler::new(Default::default());
        let mut out = Vec::new();
        feed(&mut r, &mut out, 1000, TCP_ACK, b"ab");
        r.lost(1010, 4, |e| push(&mut out, e));
        assert_eq!(out, [data(b"ab")]);
        assert_eq!(r.next_offset(), 2);
    }

    #[test]
    fn lost_segment_reports_gap_and_resumes() {
        let mut r = Reassembler::new(Default::default());
        let mut out = Vec::new();
        feed(&mut r, &mut out, 99, TCP_SYN, b"");
        feed(&mut r, &mut out, 100, TCP_ACK, b"abc");
        feed(&mut r, &mut out, 106, TCP_ACK, b"ghi");
        feed(&mut r, &mut out, 109, TCP_FIN, b"");
        assert_eq!(out, vec![data(b"abc")]);
        r.finish(|e| push(&mut out, e));
        assert_eq!(
            out,
            vec![data(b"abc"), Ev::Gap(3, 3), data(b"ghi"), Ev::Fin]
        );
        assert_eq!(r.stats().gaps, 1);
        assert_eq!(r.stats().bytes_in_gaps, 3);
        assert_eq!(r.stats().cap_gaps, 0);
    }

    #[test]
    fn buffer_cap_forces_gap_and_releases_following_data() {
        let cfg = TcpConfig {
            max_buffered_bytes: 4,
            ..Default::default()
        };
        let mut r = Reassembler::new(cfg);
        let mut out = Vec::new();
        feed(&mut r, &mut out, 0, TCP_ACK, b"ab");
        feed(&mut r, &mut out, 4, TCP_ACK, b"ef");
        feed(&mut r, &mut out, 6, TCP_ACK, b"gh");
        assert_eq!(out, vec![data(b"ab")]);
        feed(&mut r, &mut out, 9, TCP_ACK, b"j"); // 5 bytes buffered > 4
        assert_eq!(out, vec![data(b"ab"), Ev::Gap(2, 2), data(b"efgh")]);
        assert_eq!(r.buffered_bytes(), 1);
        // The lost bytes arriving late are old now.
        feed(&mut r, &mut out, 2, TCP_ACK, b"cd");
        assert_eq!(r.stats().duplicate_bytes, 2);
        assert_eq!(r.stats().cap_gaps, 1);
        assert_eq!(r.stats().bytes_in_cap_gaps, 2);
    }

    #[test]
    fn segment_count_cap_forces_gap() {
        let cfg = TcpConfig {
            max_buffered_segments: 2,
            ..Default::default()
        };
        let mut r = Reassembler::new(cfg);
        let mut out = Vec::new();
        feed(&mut r, &mut out, 0, TCP_ACK, b"a");
        feed(&mut r, &mut out, 2, TCP_ACK, b"c");
        feed(&mut r, &mut out, 4, TCP_ACK, b"e");
        feed(&mut r, &mut out, 6, TCP_ACK, b"g");
        assert_eq!(out, vec![data(b"a"), Ev::Gap(1, 1), data(b"c")]);
        assert_eq!(r.buffered_bytes(), 2);
    }

    #[test]
    fn far_forward_jump_is_out_of_window_and_not_buffered() {
        let mut r = Reassembler::new(Default::default());
        let mut out = Vec::new();
        feed(&mut r, &mut out, 0, TCP_ACK, b"a");
        feed(&mut r, &mut out, (1 << 30) + 2, TCP_ACK, b"far");
        feed(&mut r, &mut out, 0x8000_0000, TCP_ACK, b"half");
        feed(&mut r, &mut out, 1, TCP_ACK, b"b");
        r.finish(|e| push(&mut out, e));
        assert_eq!(out, vec![data(b"ab")]);
        assert_eq!(r.stats().segments_out_of_window, 2);
        assert_eq!(r.stats().bytes_out_of_window, 7);
        assert_eq!(r.buffered_bytes(), 0);
    }

    #[test]
    fn mid_stream_start_uses_first_data_segment() {
        let mut r = Reassembler::new(Default::default());
        let mut out = Vec::new();
        feed(&mut r, &mut out, 5000, TCP_ACK, b""); // bare ACK does not fix offset 0
        feed(&mut r, &mut out, 7000, TCP_ACK, b"xy");
        // Earlier bytes than the first seen one lie before offset 0.
        feed(&mut r, &mut out, 6998, TCP_ACK, b"vwxy");
        assert_eq!(r.base_seq(), Some(7000));
        assert_eq!(r.isn(), None);
        assert_eq!(out, vec![data(b"xy")]);
        assert_eq!(r.stats().bytes_out_of_window, 2);
        assert_eq!(r.stats().duplicate_bytes, 2);
    }

    #[test]
    fn stale_empty_fin_before_offset_zero_is_ignored() {
        let mut r = Reassembler::new(Default::default());
        let mut out = Vec::new();
        feed(&mut r, &mut out, 1000, TCP_ACK, b"ab");
        feed(&mut r, &mut out, 10, TCP_FIN, b"");
        feed(&mut r, &mut out, 1002, TCP_ACK, b"c");
        assert_eq!(out, vec![data(b"abc")]);
        assert!(!r.is_closed());
        assert_eq!(r.stats().segments_out_of_window, 1);
    }

    #[test]
    fn fin_waits_for_missing_data_and_trims_beyond() {
        let mut r = Reassembler::new(Default::default());
        let mut out = Vec::new();
        feed(&mut r, &mut out, 0, TCP_SYN, b"");
        feed(&mut r, &mut out, 4, TCP_FIN, b"de");
        feed(&mut r, &mut out, 6, TCP_ACK, b"zz"); // beyond the FIN
        assert_eq!(out, vec![Ev::AfterClose(2)]);
        feed(&mut r, &mut out, 1, TCP_ACK, b"abc");
        assert_eq!(out, vec![Ev::AfterClose(2), data(b"abcde"), Ev::Fin]);
        // A late retransmission is a duplicate; a segment across the end is partly after it.
        feed(&mut r, &mut out, 1, TCP_ACK, b"abc");
        feed(&mut r, &mut out, 4, TCP_ACK, b"dexyz");
        assert!(r.is_closed());
        assert_eq!(out[3..], [Ev::AfterClose(3)]);
        assert_eq!(r.stats().bytes_after_close, 2 + 3);
        assert_eq!(r.stats().duplicate_bytes, 3 + 2);
    }

    #[test]
    fn data_right_after_the_fin_is_recognised_and_nothing_else() {
        let mut r = Reassembler::new(Default::default());
        r.segment(99, TCP_SYN, b"", |_| {});
        r.segment(100, TCP_ACK, b"GET", |_| {});
        assert!(!r.continues_after_fin(104, TCP_ACK, b"x")); // no FIN yet
        r.segment(103, TCP_FIN, b"", |_| {});
        assert!(r.continues_after_fin(104, TCP_ACK, b"POST"));
        assert!(!r.continues_after_fin(104, TCP_ACK, b""));
        assert!(!r.continues_after_fin(104, TCP_SYN, b"x"));
        assert!(!r.continues_after_fin(103, TCP_ACK, b"x"));
        assert!(!r.continues_after_fin(105, TCP_ACK, b"x"));
        // A reset stream never continues.
        let mut r = Reassembler::new(Default::default());
        r.segment(100, TCP_ACK, b"GET", |_| {});
        r.segment(103, TCP_RST, b"", |_| {});
        assert!(!r.continues_after_fin(104, TCP_ACK, b"x"));
    }

    #[test]
    fn rst_flushes_holes_then_resets() {
        let mut r = Reassembler::new(Default::default());
        let mut out = Vec::new();
        feed(&mut r, &mut out, 0, TCP_ACK, b"ab");
        feed(&mut r, &mut out, 3, TCP_ACK, b"d");
        feed(&mut r, &mut out, 4, TCP_RST, b"");
        assert_eq!(out, vec![data(b"ab"), Ev::Gap(2, 1), data(b"d"), Ev::Reset]);
        feed(&mut r, &mut out, 4, TCP_ACK, b"x");
        assert_eq!(out[4..], [Ev::AfterClose(1)]);
    }

    #[test]
    fn syn_with_data_and_retransmitted_syn() {
        let mut r = Reassembler::new(Default::default());
        let mut out = Vec::new();
        feed(&mut r, &mut out, 10, TCP_SYN, b"ab");
        feed(&mut r, &mut out, 10, TCP_SYN, b"ab");
        feed(&mut r, &mut out, 13, TCP_ACK, b"c");
        assert_eq!(out, vec![data(b"abc")]);
        assert_eq!(r.isn(), Some(10));
        assert_eq!(r.stats().duplicate_bytes, 2);
    }

    #[test]
    fn finish_is_idempotent() {
        let mut r = Reassembler::new(Default::default());
        let mut out = Vec::new();
        feed(&mut r, &mut out, 0, TCP_ACK, b"a");
        feed(&mut r, &mut out, 2, TCP_ACK, b"c");
        r.finish(|e| push(&mut out, e));
        r.finish(|e| push(&mut out, e));
        assert_eq!(out, vec![data(b"a"), Ev::Gap(1, 1), data(b"c")]);
    }

    proptest! {
        #[test]
        fn any_permutation_with_duplicates_reassembles_exactly(
            msg in proptest::collection::vec(any::<u8>(), 1..600),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..20),
            dups in proptest::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>()), 0..10),
            order in any::<prop::sample::Index>(),
            isn in any::<u32>(),
        ) {
            let mut points: Vec<usize> = cuts.iter().map(|i| i.index(msg.len())).collect();
            points.push(0);
            points.push(msg.len());
            points.sort_unstable();
            points.dedup();
            let mut segs: Vec<(usize, usize)> = points.windows(2).map(|w| (w[0], w[1])).collect();
            // Extra overlapping copies of arbitrary ranges.
            for (a, b) in &dups {
                let (a, b) = (a.index(msg.len()), b.index(msg.len() + 1));
                if a < b { segs.push((a, b)); }
            }
            // A deterministic shuffle driven by `order`.
            let mut k = order.index(1 << 20) as u64 | 1;
            for i in (1..segs.len()).rev() {
                k = k.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                segs.swap(i, (k >> 33) as usize % (i + 1));
            }
            let mut r = Reassembler::new(Default::default());
            let mut out = Vec::new();
            feed(&mut r, &mut out, isn, TCP_SYN, b"");
            for (a, b) in segs {
                feed(&mut r, &mut out, isn.wrapping_add(1 + a as u32), TCP_ACK, &msg[a..b]);
            }
            feed(&mut r, &mut out, isn.wrapping_add(1 + msg.len() as u32), TCP_FIN, b"");
            prop_assert_eq!(out, vec![Ev::Data(msg.clone()), Ev::Fin]);
            prop_assert_eq!(r.buffered_bytes(), 0);
            prop_assert_eq!(r.stats().bytes_delivered, msg.len() as u64);
        }

        #[test]
        fn arbitrary_segments_never_panic_and_stay_bounded(
            segs in proptest::collection::vec(
                (any::<u32>(), any::<u8>(), proptest::collection::vec(any::<u8>(), 0..64)), 0..64),
            cap in 0usize..200,
        ) {
            let cfg = TcpConfig { max_buffered_bytes: cap, max_buffered_segments: 8, max_window_bytes: 1 << 12, max_overlap_check_bytes: 16, ..TcpConfig::default() };
            let mut r = Reassembler::new(cfg);
            let mut delivered = 0u64;
            for (seq, bits, p) in &segs {
                r.segment(*seq, *bits, p, |e| if let StreamEvent::Data(d) = e { delivered += d.len() as u64 });
                prop_assert!(r.buffered_bytes() <= cap);
            }
            r.finish(|e| if let StreamEvent::Data(d) = e { delivered += d.len() as u64 });
            prop_assert_eq!(r.buffered_bytes(), 0);
            prop_assert_eq!(delivered, r.stats().bytes_delivered);
        }
    }
}
