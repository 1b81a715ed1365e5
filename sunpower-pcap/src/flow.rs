//! A table of TCP connections, each with one [`Reassembler`] per direction, sans I/O.
//!
//! [`FlowTable::segment`] takes decoded TCP segments in capture order, finds (or opens) the
//! connection by its 4-tuple, and reports [`FlowEvent`]s: a connection opened, stream events of
//! one direction, a connection closed.
//!
//! # Policies
//!
//! - **Roles.** The *initiator* is the sender of the SYN (or the receiver of the SYN-ACK). Without
//!   either, the sender of the first segment seen is called initiator and
//!   [`FlowEvent::Opened::syn_seen`] is false: the roles are a guess, and the caller (the HTTP
//!   layer) should look at both directions.
//! - **Opening.** Only a SYN or a segment with payload opens a connection; a bare ACK, FIN or RST
//!   for an unknown connection (the tail of one that closed or was never seen) is counted in
//!   [`FlowStats::orphan_segments`].
//! - **Closing.** A connection closes when both directions sent a FIN, or at an RST; a
//!   [`FlowEvent::Closed`] follows, once. It stays in the table, so late retransmissions are
//!   counted rather than opening a phantom connection, until it idles out, is evicted, or its
//!   4-tuple is reused.
//! - **Reuse.** A SYN whose sequence number differs from the old connection's ISN, arriving after
//!   the old connection closed or far outside its window (or on a connection picked up without a
//!   SYN), starts a new connection: the old one is flushed and closed first
//!   ([`CloseReason::Reused`]). So does data at a sequence number more than
//!   [`TcpConfig::restart_distance_bytes`] from where its direction stands, on a connection closed or
//!   idle for [`TcpConfig::restart_idle_us`]: the address and port pair was reused by a
//!   connection whose SYN the capture missed, and its bytes are a new stream, not a gap of
//!   hundreds of megabytes ([`CloseReason::Restarted`], [`FlowStats::flows_restarted`]).
//! - **Far jumps.** Data further ahead of where its direction stands than
//!   [`TcpConfig::max_line_rate_bytes_per_s`] could have carried since that direction's last
//!   segment (plus 1 MiB) is counted out of window ([`TcpStats::segments_out_of_window`]) and
//!   not fed to the stream: a stray sequence number on a busy connection is not a hole of
//!   hundreds of megabytes, and the bytes missing never exceed what the wire could carry.
//! - **Data after a FIN.** Data that starts right after its sender's FIN
//!   ([`Reassembler::continues_after_fin`]) is decoded as a new connection picked up mid-way
//!   ([`CloseReason::ContinuedAfterFin`], [`FlowStats::flows_continued_after_fin`]); other bytes
//!   after a close are reported ([`StreamEvent::AfterClose`]) and counted.
//! - **Caps.** At most [`TcpConfig::max_flows`] connections; a new one evicts the least recently
//!   active (flushed, counted). A connection idle for [`TcpConfig::max_idle_us`] of capture
//!   time is flushed and removed; capture time is the largest timestamp seen, so a timestamp that
//!   goes backwards expires nothing. Flushing turns the holes of both directions into gaps.
//!
//! # Example
//!
//! ```
//! use std::net::SocketAddr;
//! use sunpower_pcap::flow::{FlowEvent, FlowTable};
//! use sunpower_pcap::ip::{TCP_ACK, TCP_FIN, TCP_SYN, TcpSegment};
//! use sunpower_pcap::tcp::StreamEvent;
//!
//! let client: SocketAddr = "10.0.0.2:40000".parse().unwrap();
//! let server: SocketAddr = "1.2.3.4:80".parse().unwrap();
//! let seg = |from_client: bool, seq, flags, payload: &'static [u8]| {
//!     let (src, dst) = if from_client { (client, server) } else { (server, client) };
//!     TcpSegment::new(src, dst, seq, flags, payload)
//! };
//! let mut table = FlowTable::new(Default::default());
//! let mut log = Vec::new();
//! let mut sink = |e: FlowEvent<'_>| log.push(match e {
//!     FlowEvent::Opened { flow, syn_seen, .. } => format!("open {flow} {syn_seen}"),
//!     FlowEvent::Stream { flow, direction, event: StreamEvent::Data(d) } =>
//!         format!("{flow} {direction:?} {}", String::from_utf8_lossy(d)),
//!     FlowEvent::Stream { flow, direction, event } => format!("{flow} {direction:?} {event:?}"),
//!     FlowEvent::Closed { flow, reason, .. } => format!("close {flow} {reason:?}"),
//! });
//! table.segment(&seg(true, 100, TCP_SYN, b""), 0, &mut sink);
//! table.segment(&seg(false, 500, TCP_SYN | TCP_ACK, b""), 1, &mut sink);
//! table.segment(&seg(true, 101, TCP_ACK, b"GET"), 2, &mut sink);
//! table.segment(&seg(false, 501, TCP_FIN, b"OK"), 3, &mut sink);
//! table.segment(&seg(true, 104, TCP_FIN, b""), 4, &mut sink);
//! assert_eq!(log, [
//!     "open 0 true",
//!     "0 FromInitiator GET",
//!     "0 FromResponder OK",
//!     "0 FromResponder Fin",
//!     "0 FromInitiator Fin",
//!     "close 0 Finished",
//! ]);
//! ```

use std::collections::HashMap;
use std::net::IpAddr;

use crate::ip::{TcpSegment, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN};
use crate::tcp::{Reassembler, StreamEvent, TcpConfig, TcpStats};

/// One end of a connection.
///
/// ```
/// use std::net::{IpAddr, Ipv4Addr};
/// use sunpower_pcap::flow::Endpoint;
/// let e = Endpoint { ip: IpAddr::V4(Ipv4Addr::LOCALHOST), port: 80 };
/// assert_eq!(e.to_string(), "127.0.0.1:80");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Endpoint {
    /// IP address.
    pub ip: IpAddr,
    /// TCP port.
    pub port: u16,
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::net::SocketAddr::new(self.ip, self.port).fmt(f)
    }
}

/// Identifies a connection: assigned in opening order, from 0.
pub type FlowId = u64;

/// Which way bytes travel within a connection.
///
/// ```
/// use sunpower_pcap::flow::Direction;
/// assert_eq!(Direction::FromInitiator.reverse(), Direction::FromResponder);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Sent by the initiator (the client, when the SYN was seen).
    FromInitiator,
    /// Sent by the responder (the server, when the SYN was seen).
    FromResponder,
}

impl Direction {
    /// The other direction.
    ///
    /// ```
    /// use sunpower_pcap::flow::Direction;
    /// assert_eq!(Direction::FromResponder.reverse(), Direction::FromInitiator);
    /// ```
    pub fn reverse(self) -> Direction {
        match self {
            Direction::FromInitiator => Direction::FromResponder,
            Direction::FromResponder => Direction::FromInitiator,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Why a connection was closed.
///
/// ```
/// use sunpower_pcap::flow::CloseReason;
/// assert_ne!(CloseReason::Idle, CloseReason::Evicted);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// Both directions sent a FIN.
    Finished,
    /// An RST.
    Reset,
    /// No segment for [`TcpConfig::max_idle_us`].
    Idle,
    /// The table was full and this was the least recently active connection.
    Evicted,
    /// A new connection reused the 4-tuple (a new SYN).
    Reused,
    /// Data far from where the stream stood, on a closed or idle connection: a new stream on the
    /// same 4-tuple.
    Restarted,
    /// Its sender went on after its FIN: those bytes are a new connection.
    ContinuedAfterFin,
    /// The memory budget was reached and this was the least recently active connection
    /// ([`FlowTable::evict_oldest`]).
    OverBudget,
    /// [`FlowTable::finish`]: the end of the input.
    EndOfInput,
}

/// What a [`FlowTable`] reports.
///
/// ```
/// use sunpower_pcap::flow::{Direction, FlowEvent};
/// use sunpower_pcap::tcp::StreamEvent;
/// let e = FlowEvent::Stream { flow: 3, direction: Direction::FromInitiator, event: StreamEvent::Fin };
/// assert!(matches!(e, FlowEvent::Stream { flow: 3, .. }));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum FlowEvent<'a> {
    /// A new connection.
    Opened {
        /// Its id.
        flow: FlowId,
        /// The SYN sender (or, without a SYN, the sender of the first segment seen).
        initiator: Endpoint,
        /// The other end.
        responder: Endpoint,
        /// Whether a SYN or SYN-ACK opened it, so that the roles are certain.
        syn_seen: bool,
    },
    /// A stream event of one direction.
    Stream {
        /// The connection.
        flow: FlowId,
        /// Which direction.
        direction: Direction,
        /// The event.
        event: StreamEvent<'a>,
    },
    /// The connection ended; no more events for this id.
    Closed {
        /// The connection.
        flow: FlowId,
        /// Why.
        reason: CloseReason,
        /// Counters of each direction, indexed by [`Direction`] (initiator first).
        stats: [TcpStats; 2],
    },
}

/// Counters of a [`FlowTable`].
///
/// ```
/// use sunpower_pcap::flow::FlowTable;
/// assert_eq!(FlowTable::new(Default::default()).stats().flows_opened, 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FlowStats {
    /// Connections opened.
    pub flows_opened: u64,
    /// [`FlowEvent::Closed`] events.
    pub flows_closed: u64,
    /// Connections evicted because the table was full.
    pub flows_evicted: u64,
    /// Connections removed after idling.
    pub flows_expired: u64,
    /// Connections replaced by a new one on the same 4-tuple (a new SYN).
    pub flows_reused: u64,
    /// Connections replaced by a new stream far from where they stood ([`CloseReason::Restarted`]).
    pub flows_restarted: u64,
    /// Connections whose sender went on after its FIN ([`CloseReason::ContinuedAfterFin`]).
    pub flows_continued_after_fin: u64,
    /// Connections flushed early by [`FlowTable::evict_oldest`] ([`CloseReason::OverBudget`]).
    pub flows_over_budget: u64,
    /// Segments that matched no connection and could not open one.
    pub orphan_segments: u64,
    /// Reassembly counters of the connections removed from the table so far.
    pub tcp: TcpStats,
}

type Key = (Endpoint, Endpoint);

#[derive(Debug)]
struct Flow {
    id: FlowId,
    /// Initiator, responder.
    ends: [Endpoint; 2],
    dirs: [Reassembler; 2],
    syn_seen: bool,
    closed: bool,
    last_ts: u64,
    /// Each direction's last segment that reached its stream (capture time): what bounds how
    /// far ahead its next one can plausibly be.
    progress_ts: [u64; 2],
}

/// Bytes a sender may have in flight at one instant, beyond what the line rate allows since
/// its last segment (timestamps are coarse, windows are sent back to back).
const JUMP_SLACK_BYTES: u64 = 1 << 20;

/// Whether `seg` (data or FIN) starts further ahead of where `r` stands than a sender at
/// [`TcpConfig::max_line_rate_bytes_per_s`] could have got since `since_us`: a hole that size
/// would be bytes that were never on the wire (a stray or forged sequence number).
fn implausibly_far(
    r: &Reassembler,
    seg: &TcpSegment<'_>,
    now_us: u64,
    since_us: u64,
    cfg: &TcpConfig,
) -> bool {
    if seg.flags & TCP_SYN != 0 || (seg.payload.is_empty() && seg.flags & TCP_FIN == 0) {
        return false;
    }
    if r.is_closed() {
        return false;
    }
    let elapsed = now_us.saturating_sub(since_us);
    let carried = u128::from(elapsed) * u128::from(cfg.max_line_rate_bytes_per_s) / 1_000_000;
    let reach = u128::from(JUMP_SLACK_BYTES) + carried;
    r.ahead(seg.seq)
        .is_some_and(|a| a > 0 && a.unsigned_abs() as u128 > reach)
}

/// "No slot": the end of the activity list.
const NIL: usize = usize::MAX;

/// A connection in the table's slab, linked into the activity list (least recently active
/// first), so that touching, evicting and expiring are O(1) without a second ordered map.
#[derive(Debug)]
struct Slot {
    key: Key,
    flow: Flow,
    older: usize,
    newer: usize,
}

/// Connections by 4-tuple; see the [module docs](self).
///
/// ```
/// use sunpower_pcap::flow::FlowTable;
/// use sunpower_pcap::ip::{TCP_ACK, TcpSegment};
/// let (a, b) = ("127.0.0.1:9".parse().unwrap(), "127.0.0.1:80".parse().unwrap());
/// let mut table = FlowTable::new(Default::default());
/// let s = TcpSegment::new(a, b, 7, TCP_ACK, b"hi");
/// let mut n = 0;
/// table.segment(&s, 0, |_| n += 1);
/// assert_eq!((n, table.len()), (2, 1)); // Opened, then Data
/// table.finish(|_| n += 1);
/// assert_eq!((n, table.len()), (3, 0)); // Closed
/// ```
#[derive(Debug)]
pub struct FlowTable {
    cfg: TcpConfig,
    /// 4-tuple → slot. foldhash: several times faster than SipHash on these small keys, and
    /// seeded per table, so crafted 4-tuples cannot aim at a known hash function.
    index: HashMap<Key, usize, foldhash::fast::RandomState>,
    /// The connections; at most `max_flows` slots are ever allocated (freed ones are reused).
    slots: Vec<Option<Slot>>,
    free: Vec<usize>,
    /// Ends of the activity list.
    oldest: usize,
    newest: usize,
    /// The connection of the last segment, and its slot (cleared when the slot is freed).
    last: Option<(Endpoint, Endpoint, usize)>,
    now: u64,
    next_id: FlowId,
    /// Sum of the connections' [`Reassembler::memory_used`].
    buffered: usize,
    stats: FlowStats,
}

/// What one connection costs the table besides what its reassemblers buffer: its slot and its
/// index entry (with the hash table's slack).
const FLOW_COST: usize =
    std::mem::size_of::<Option<Slot>>() + 2 * std::mem::size_of::<(Key, usize)>();

fn flow_memory(flow: &Flow) -> usize {
    flow.dirs[0].memory_used() + flow.dirs[1].memory_used()
}

fn key_of(a: Endpoint, b: Endpoint) -> Key {
    if (a.ip, a.port) <= (b.ip, b.port) {
        (a, b)
    } else {
        (b, a)
    }
}

impl FlowTable {
    /// A table with the given limits (`max_flows` of 0 is taken as 1).
    ///
    /// ```
    /// # use sunpower_pcap::flow::FlowTable;
    /// # use sunpower_pcap::tcp::TcpConfig;
    /// let t = FlowTable::new(TcpConfig { max_flows: 10, ..Default::default() });
    /// assert!(t.is_empty());
    /// ```
    pub fn new(mut cfg: TcpConfig) -> FlowTable {
        cfg.max_flows = cfg.max_flows.max(1);
        FlowTable {
            cfg,
            index: HashMap::default(),
            slots: Vec::new(),
            free: Vec::new(),
            oldest: NIL,
            newest: NIL,
            last: None,
            now: 0,
            next_id: 0,
            buffered: 0,
            stats: FlowStats::default(),
        }
    }

    /// Connections in the table (closed ones linger until they idle out).
    ///
    /// ```
    /// # use sunpower_pcap::flow::FlowTable;
    /// assert_eq!(FlowTable::new(Default::default()).len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether the table holds no connection.
    ///
    /// ```
    /// # use sunpower_pcap::flow::FlowTable;
    /// assert!(FlowTable::new(Default::default()).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Bytes the connections take, as counted against a memory budget: a few hundred per
    /// connection (its slot and index entry) plus what its reassemblers buffer.
    ///
    /// ```
    /// use sunpower_pcap::flow::FlowTable;
    /// use sunpower_pcap::ip::{TCP_SYN, TcpSegment};
    /// let mut table = FlowTable::new(Default::default());
    /// assert_eq!(table.memory_used(), 0);
    /// let (a, b) = ("10.0.0.2:9".parse().unwrap(), "10.0.0.1:80".parse().unwrap());
    /// table.segment(&TcpSegment::new(a, b, 7, TCP_SYN, b""), 0, |_| {});
    /// assert!(table.memory_used() < 1024);
    /// ```
    pub fn memory_used(&self) -> usize {
        self.index.len() * FLOW_COST + self.buffered
    }

    /// Flushes and removes the least recently active connection ([`CloseReason::OverBudget`],
    /// counted in [`FlowStats::flows_over_budget`]), for a caller over its memory budget;
    /// returns its id, or `None` when the table is empty.
    ///
    /// ```
    /// use sunpower_pcap::flow::FlowTable;
    /// use sunpower_pcap::ip::{TCP_SYN, TcpSegment};
    /// let mut table = FlowTable::new(Default::default());
    /// let (a, b) = ("10.0.0.2:9".parse().unwrap(), "10.0.0.1:80".parse().unwrap());
    /// table.segment(&TcpSegment::new(a, b, 7, TCP_SYN, b""), 0, |_| {});
    /// assert_eq!(table.evict_oldest(|_| {}), Some(0));
    /// assert_eq!((table.len(), table.memory_used(), table.stats().flows_over_budget), (0, 0, 1));
    /// ```
    pub fn evict_oldest<F>(&mut self, mut sink: F) -> Option<FlowId>
    where
        F: FnMut(FlowEvent<'_>),
    {
        let id = self.flow(self.oldest)?.id;
        self.stats.flows_over_budget += 1;
        self.remove(self.oldest, CloseReason::OverBudget, &mut sink);
        Some(id)
    }

    /// The counters so far.
    ///
    /// ```
    /// # use sunpower_pcap::flow::FlowTable;
    /// assert_eq!(FlowTable::new(Default::default()).stats().orphan_segments, 0);
    /// ```
    pub fn stats(&self) -> &FlowStats {
        &self.stats
    }

    /// Feeds one segment (in capture order). Idle connections are expired first, relative to
    /// the largest timestamp seen.
    ///
    /// ```
    /// use sunpower_pcap::flow::FlowTable;
    /// use sunpower_pcap::ip::{TCP_ACK, TcpSegment};
    /// let (a, b) = ("127.0.0.1:9".parse().unwrap(), "127.0.0.1:80".parse().unwrap());
    /// let mut table = FlowTable::new(Default::default());
    /// // A bare ACK of an unknown connection opens nothing.
    /// let s = TcpSegment::new(a, b, 7, TCP_ACK, b"");
    /// table.segment(&s, 0, |_| {});
    /// assert_eq!(table.stats().orphan_segments, 1);
    /// ```
    pub fn segment<F>(&mut self, seg: &TcpSegment<'_>, ts_us: u64, mut sink: F)
    where
        F: FnMut(FlowEvent<'_>),
    {
        self.now = self.now.max(ts_us);
        self.expire_idle(&mut sink);
        let (src, dst) = (seg.src, seg.dst);
        let mut slot = match self.last {
            // Segments come in runs of one connection (a bulk transfer and its ACKs): skip
            // ordering and hashing the 4-tuple.
            Some((a, b, i)) if (a == src && b == dst) || (a == dst && b == src) => Some(i),
            _ => self.index.get(&key_of(src, dst)).copied(),
        };
        if let Some(reason) = slot.and_then(|i| self.replaced(i, seg)) {
            match reason {
                CloseReason::Reused => self.stats.flows_reused += 1,
                CloseReason::Restarted => self.stats.flows_restarted += 1,
                _ => self.stats.flows_continued_after_fin += 1,
            }
            if let Some(i) = slot.take() {
                self.remove(i, reason, &mut sink);
            }
        }
        let i = match slot {
            Some(i) => i,
            None => {
                if seg.flags & TCP_SYN == 0 && seg.payload.is_empty() {
                    self.stats.orphan_segments += 1;
                    return;
                }
                self.open(key_of(src, dst), seg, &mut sink)
            }
        };
        self.last = Some((src, dst, i));
        self.touch(i);
        let now = self.now;
        // Field by field (not `flow_mut`), so that the counters stay usable below.
        let Some(flow) = self.slots.get_mut(i).and_then(Option::as_mut) else {
            return;
        };
        let flow = &mut flow.flow;
        flow.last_ts = now;
        let d = if flow.ends[0] == src {
            Direction::FromInitiator
        } else {
            Direction::FromResponder
        };
        let id = flow.id;
        if implausibly_far(
            &flow.dirs[d.index()],
            seg,
            now,
            flow.progress_ts[d.index()],
            &self.cfg,
        ) {
            flow.dirs[d.index()].refuse(seg.payload.len());
            return;
        }
        flow.progress_ts[d.index()] = now;
        let before = flow_memory(flow);
        flow.dirs[d.index()].segment(seg.seq, seg.flags, seg.payload, |event| {
            sink(FlowEvent::Stream {
                flow: id,
                direction: d,
                event,
            })
        });
        self.buffered = self.buffered + flow_memory(flow) - before;
        if flow.closed {
            return;
        }
        let reason = if seg.flags & TCP_RST != 0 && flow.dirs[d.index()].is_closed() {
            let o = d.reverse();
            let before = flow_memory(flow);
            flow.dirs[o.index()].finish(|event| {
                sink(FlowEvent::Stream {
                    flow: id,
                    direction: o,
                    event,
                })
            });
            self.buffered = self.buffered + flow_memory(flow) - before;
            Some(CloseReason::Reset)
        } else if flow.dirs.iter().all(Reassembler::is_closed) {
            Some(CloseReason::Finished)
        } else {
            None
        };
        if let Some(reason) = reason {
            flow.closed = true;
            self.stats.flows_closed += 1;
            let stats = [*flow.dirs[0].stats(), *flow.dirs[1].stats()];
            sink(FlowEvent::Closed {
                flow: id,
                reason,
                stats,
            });
        }
    }

    /// Whether `seg` starts a new connection on the 4-tuple of `slot`, and why.
    fn replaced(&self, slot: usize, seg: &TcpSegment<'_>) -> Option<CloseReason> {
        let flow = self.flow(slot)?;
        let r = &flow.dirs[usize::from(flow.ends[0] != seg.src)];
        if seg.flags & TCP_SYN != 0 {
            let reused = r.isn() != Some(seg.seq)
                && (flow.closed || !flow.syn_seen || !r.in_window(seg.seq));
            return reused.then_some(CloseReason::Reused);
        }
        if r.continues_after_fin(seg.seq, seg.flags, seg.payload) {
            return Some(CloseReason::ContinuedAfterFin);
        }
        let idle = flow.closed || flow.last_ts.saturating_add(self.cfg.restart_idle_us) <= self.now;
        let far = r
            .distance(seg.seq)
            .is_some_and(|d| d > self.cfg.restart_distance_bytes);
        (idle && far && !seg.payload.is_empty()).then_some(CloseReason::Restarted)
    }

    fn flow(&self, slot: usize) -> Option<&Flow> {
        self.slots.get(slot)?.as_ref().map(|s| &s.flow)
    }

    /// Takes `slot` out of the activity list.
    fn unlink(&mut self, slot: usize) {
        let Some((older, newer)) = self
            .slots
            .get(slot)
            .and_then(|s| s.as_ref().map(|s| (s.older, s.newer)))
        else {
            return;
        };
        match self.slots.get_mut(older).and_then(Option::as_mut) {
            Some(o) => o.newer = newer,
            None => self.oldest = newer,
        }
        match self.slots.get_mut(newer).and_then(Option::as_mut) {
            Some(n) => n.older = older,
            None => self.newest = older,
        }
    }

    /// Puts `slot` (unlinked) at the most recently active end of the list.
    fn push_newest(&mut self, slot: usize) {
        let previous = self.newest;
        let Some(s) = self.slots.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        s.older = previous;
        s.newer = NIL;
        match self.slots.get_mut(previous).and_then(Option::as_mut) {
            Some(p) => p.newer = slot,
            None => self.oldest = slot,
        }
        self.newest = slot;
    }

    /// Marks `slot` as the most recently active connection.
    fn touch(&mut self, slot: usize) {
        if self.newest != slot {
            self.unlink(slot);
            self.push_newest(slot);
        }
    }

    fn open<F: FnMut(FlowEvent<'_>)>(
        &mut self,
        key: Key,
        seg: &TcpSegment<'_>,
        sink: &mut F,
    ) -> usize {
        if self.index.len() >= self.cfg.max_flows && self.oldest != NIL {
            self.stats.flows_evicted += 1;
            self.remove(self.oldest, CloseReason::Evicted, sink);
        }
        // A SYN-ACK comes from the responder.
        let (initiator, responder) = if seg.flags & TCP_SYN != 0 && seg.flags & TCP_ACK != 0 {
            (seg.dst, seg.src)
        } else {
            (seg.src, seg.dst)
        };
        let id = self.next_id;
        self.next_id += 1;
        self.stats.flows_opened += 1;
        let filled = Some(Slot {
            key,
            flow: Flow {
                id,
                ends: [initiator, responder],
                dirs: [Reassembler::new(self.cfg), Reassembler::new(self.cfg)],
                syn_seen: seg.flags & TCP_SYN != 0,
                closed: false,
                last_ts: self.now,
                progress_ts: [self.now; 2],
            },
            older: NIL,
            newer: NIL,
        });
        let slot = match self.free.pop() {
            Some(i) => {
                self.slots[i] = filled;
                i
            }
            None => {
                self.slots.push(filled);
                self.slots.len() - 1
            }
        };
        self.index.insert(key, slot);
        self.push_newest(slot);
        sink(FlowEvent::Opened {
            flow: id,
            initiator,
            responder,
            syn_seen: seg.flags & TCP_SYN != 0,
        });
        slot
    }

    /// Flushes and removes a connection, reporting it closed unless it already was.
    fn remove<F: FnMut(FlowEvent<'_>)>(&mut self, slot: usize, reason: CloseReason, sink: &mut F) {
        self.unlink(slot);
        let Some(Slot { key, mut flow, .. }) = self.slots.get_mut(slot).and_then(Option::take)
        else {
            return;
        };
        self.index.remove(&key);
        self.free.push(slot);
        self.buffered -= flow_memory(&flow);
        if self.last.is_some_and(|(_, _, i)| i == slot) {
            self.last = None;
        }
        let id = flow.id;
        for d in [Direction::FromInitiator, Direction::FromResponder] {
            flow.dirs[d.index()].finish(|event| {
                sink(FlowEvent::Stream {
                    flow: id,
                    direction: d,
                    event,
                })
            });
        }
        let stats = [*flow.dirs[0].stats(), *flow.dirs[1].stats()];
        self.stats.tcp.merge(&stats[0]);
        self.stats.tcp.merge(&stats[1]);
        if !flow.closed {
            self.stats.flows_closed += 1;
            sink(FlowEvent::Closed {
                flow: id,
                reason,
                stats,
            });
        }
    }

    fn expire_idle<F: FnMut(FlowEvent<'_>)>(&mut self, sink: &mut F) {
        // `last_ts` is the running maximum at each connection's last activity, so it grows along
        // the activity order and the idle connections are all at its front.
        while let Some(flow) = self.flow(self.oldest) {
            if flow.last_ts.saturating_add(self.cfg.max_idle_us) >= self.now {
                break;
            }
            self.stats.flows_expired += 1;
            self.remove(self.oldest, CloseReason::Idle, sink);
        }
    }

    /// Declares the payload bytes of `seg` that the capture cut off (snaplen,
    /// [`TcpSegment::payload_missing`]) lost, on its connection and direction: see
    /// [`Reassembler::lost`]. Call it after [`segment`](Self::segment) with the same segment.
    ///
    /// ```
    /// use sunpower_pcap::flow::{FlowEvent, FlowTable};
    /// use sunpower_pcap::ip::{TCP_ACK, TcpSegment};
    /// use sunpower_pcap::tcp::StreamEvent;
    /// let (a, b) = ("127.0.0.1:9".parse().unwrap(), "127.0.0.1:80".parse().unwrap());
    /// let mut table = FlowTable::new(Default::default());
    /// let mut s = TcpSegment::new(a, b, 7, TCP_ACK, b"ab");
    /// s.payload_missing = 10;
    /// table.segment(&s, 0, |_| {});
    /// let mut gaps = Vec::new();
    /// table.lost(&s, |e| if let FlowEvent::Stream { event: StreamEvent::Gap { at, len }, .. } = e { gaps.push((at, len)) });
    /// assert_eq!(gaps, [(2, 10)]);
    /// ```
    pub fn lost<F>(&mut self, seg: &TcpSegment<'_>, mut sink: F)
    where
        F: FnMut(FlowEvent<'_>),
    {
        let missing = seg.payload_missing;
        if missing == 0 {
            return;
        }
        let (src, dst) = (seg.src, seg.dst);
        let Some(&slot) = self.index.get(&key_of(src, dst)) else {
            return;
        };
        let Some(flow) = self.slots.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        let flow = &mut flow.flow;
        let d = if flow.ends[0] == src {
            Direction::FromInitiator
        } else {
            Direction::FromResponder
        };
        let data_seq = if seg.flags & TCP_SYN != 0 {
            seg.seq.wrapping_add(1)
        } else {
            seg.seq
        };
        let id = flow.id;
        let start = data_seq.wrapping_add(seg.payload.len() as u32);
        let before = flow_memory(flow);
        flow.dirs[d.index()].lost(start, missing, |event| {
            sink(FlowEvent::Stream {
                flow: id,
                direction: d,
                event,
            })
        });
        self.buffered = self.buffered + flow_memory(flow) - before;
    }

    /// Advances capture time to `now_us` (if later) and expires idle connections, for a caller
    /// that wants them flushed without waiting for the next segment.
    ///
    /// ```
    /// use sunpower_pcap::flow::{FlowEvent, FlowTable};
    /// use sunpower_pcap::tcp::TcpConfig;
    /// use sunpower_pcap::ip::{TCP_ACK, TcpSegment};
    /// let (a, b) = ("127.0.0.1:9".parse().unwrap(), "127.0.0.1:80".parse().unwrap());
    /// let mut table = FlowTable::new(TcpConfig { max_idle_us: 10, ..Default::default() });
    /// let s = TcpSegment::new(a, b, 7, TCP_ACK, b"a");
    /// table.segment(&s, 100, |_| {});
    /// table.expire(105, |_| {});
    /// assert_eq!(table.len(), 1);
    /// table.expire(111, |_| {});
    /// assert_eq!(table.len(), 0);
    /// ```
    pub fn expire<F>(&mut self, now_us: u64, mut sink: F)
    where
        F: FnMut(FlowEvent<'_>),
    {
        self.now = self.now.max(now_us);
        self.expire_idle(&mut sink);
    }

    /// Flushes and removes every connection, in opening order (end of input).
    ///
    /// ```
    /// # use sunpower_pcap::flow::FlowTable;
    /// let mut t = FlowTable::new(Default::default());
    /// t.finish(|_| unreachable!());
    /// ```
    pub fn finish<F>(&mut self, mut sink: F)
    where
        F: FnMut(FlowEvent<'_>),
    {
        let mut open: Vec<(FlowId, usize)> = (self.slots.iter().enumerate())
            .filter_map(|(i, s)| Some((s.as_ref()?.flow.id, i)))
            .collect();
        open.sort_unstable();
        for (_, slot) in open {
            self.remove(slot, CloseReason::EndOfInput, &mut sink);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ip::{TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN};
    use proptest::prelude::*;
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Ev {
        Open(FlowId, u16, bool),
        Data(FlowId, Direction, Vec<u8>),
        Gap(FlowId, Direction, u64, u64),
        Fin(FlowId, Direction),
        Reset(FlowId, Direction),
        Conflict(FlowId, Direction, u64, u64),
        AfterClose(FlowId, Direction, u64),
        Close(FlowId, CloseReason),
    }
    use Direction::{FromInitiator as I, FromResponder as R};

    fn own(e: FlowEvent<'_>) -> Ev {
        match e {
            FlowEvent::Opened {
                flow,
                initiator,
                syn_seen,
                ..
            } => Ev::Open(flow, initiator.port, syn_seen),
            FlowEvent::Stream {
                flow,
                direction,
                event,
            } => match event {
                StreamEvent::Data(d) => Ev::Data(flow, direction, d.to_vec()),
                StreamEvent::Gap { at, len } => Ev::Gap(flow, direction, at, len),
                StreamEvent::Fin => Ev::Fin(flow, direction),
                StreamEvent::Reset => Ev::Reset(flow, direction),
                StreamEvent::Conflict { at, len } => Ev::Conflict(flow, direction, at, len),
                StreamEvent::AfterClose { len } => Ev::AfterClose(flow, direction, len),
            },
            FlowEvent::Closed { flow, reason, .. } => Ev::Close(flow, reason),
        }
    }

    const C: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 168, 1, 10));
    const S: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);
    const SYNACK: u8 = TCP_SYN | TCP_ACK;

    /// A segment from the client (port `cport`) or to it, with its capture time.
    fn seg(
        up: bool,
        cport: u16,
        seq: u32,
        flags: u8,
        payload: &[u8],
        ts_us: u64,
    ) -> (TcpSegment<'_>, u64) {
        let (client, server) = (SocketAddr::new(C, cport), SocketAddr::new(S, 80));
        let (src, dst) = if up {
            (client, server)
        } else {
            (server, client)
        };
        (TcpSegment::new(src, dst, seq, flags, payload), ts_us)
    }

    fn feed(t: &mut FlowTable, out: &mut Vec<Ev>, (s, ts): (TcpSegment<'_>, u64)) {
        t.segment(&s, ts, |e| out.push(own(e)));
    }

    #[test]
    fn syn_ack_seen_first_makes_its_receiver_the_initiator() {
        let mut t = FlowTable::new(Default::default());
        let mut out = Vec::new();
        feed(&mut t, &mut out, seg(false, 5000, 900, SYNACK, b"", 0));
        feed(&mut t, &mut out, seg(true, 5000, 11, TCP_ACK, b"req", 1));
        feed(&mut t, &mut out, seg(false, 5000, 901, TCP_ACK, b"resp", 2));
        assert_eq!(
            out,
            vec![
                Ev::Open(0, 5000, true),
                Ev::Data(0, I, b"req".to_vec()),
                Ev::Data(0, R, b"resp".to_vec())
            ]
        );
    }

    #[test]
    fn mid_stream_connection_exposes_both_directions() {
        let mut t = FlowTable::new(Default::default());
        let mut out = Vec::new();
        feed(
            &mut t,
            &mut out,
            seg(false, 5000, 900, TCP_ACK, b"HTTP/1.1 200", 0),
        );
        feed(&mut t, &mut out, seg(true, 5000, 11, TCP_ACK, b"POST", 1));
        assert_eq!(
            out,
            vec![
                Ev::Open(0, 80, false),
                Ev::Data(0, I, b"HTTP/1.1 200".to_vec()),
                Ev::Data(0, R, b"POST".to_vec())
            ]
        );
    }

    #[test]
    fn rst_closes_both_directions_and_flushes_holes() {
        let mut t = FlowTable::new(Default::default());
        let mut out = Vec::new();
        feed(&mut t, &mut out, seg(true, 1, 0, TCP_SYN, b"", 0));
        feed(&mut t, &mut out, seg(false, 1, 50, SYNACK, b"", 0));
        feed(&mut t, &mut out, seg(false, 1, 51, TCP_ACK, b"a", 0));
        feed(&mut t, &mut out, seg(false, 1, 53, TCP_ACK, b"c", 0));
        feed(&mut t, &mut out, seg(true, 1, 1, TCP_RST, b"", 0));
        feed(&mut t, &mut out, seg(true, 1, 1, TCP_ACK, b"late", 0));
        assert_eq!(
            out,
            vec![
                Ev::Open(0, 1, true),
                Ev::Data(0, R, b"a".to_vec()),
                Ev::Reset(0, I),
                Ev::Gap(0, R, 1, 1),
                Ev::Data(0, R, b"c".to_vec()),
                Ev::Close(0, CloseReason::Reset),
                Ev::AfterClose(0, I, 4),
            ]
        );
        assert_eq!(t.len(), 1);
        t.finish(|e| out.push(own(e)));
        assert_eq!(out.len(), 7);
        assert_eq!(t.stats().tcp.bytes_after_close, 4);
        assert_eq!(t.stats().flows_closed, 1);
    }

    #[test]
    fn port_reuse_after_close_starts_new_flow() {
        let mut t = FlowTable::new(Default::default());
        let mut out = Vec::new();
        feed(&mut t, &mut out, seg(true, 7, 100, TCP_SYN, b"", 0));
        feed(&mut t, &mut out, seg(true, 7, 101, TCP_FIN, b"x", 1));
        feed(&mut t, &mut out, seg(false, 7, 500, SYNACK, b"", 1));
        feed(&mut t, &mut out, seg(false, 7, 501, TCP_FIN, b"", 2));
        feed(&mut t, &mut out, seg(true, 7, 100, TCP_SYN, b"", 3)); // same ISN: old SYN
        feed(&mut t, &mut out, seg(true, 7, 7000, TCP_SYN, b"", 4));
        feed(&mut t, &mut out, seg(true, 7, 7001, TCP_ACK, b"y", 5));
        assert_eq!(
            out,
            vec![
                Ev::Open(0, 7, true),
                Ev::Data(0, I, b"x".to_vec()),
                Ev::Fin(0, I),
                Ev::Fin(0, R),
                Ev::Close(0, CloseReason::Finished),
                Ev::Open(1, 7, true),
                Ev::Data(1, I, b"y".to_vec()),
            ]
        );
        assert_eq!(t.stats().flows_reused, 1);
        assert_eq!(t.stats().flows_closed, 1);
    }

    #[test]
    fn syn_far_from_open_flow_replaces_it() {
        let mut t = FlowTable::new(Default::default());
        let mut out = Vec::new();
        feed(&mut t, &mut out, seg(true, 7, 100, TCP_SYN, b"", 0));
        feed(&mut t, &mut out, seg(true, 7, 101, TCP_ACK, b"a", 0));
        feed(&mut t, &mut out, seg(true, 7, 103, TCP_ACK, b"c", 0));
        feed(&mut t, &mut out, seg(true, 7, 0x9000_0000, TCP_SYN, b"", 0));
        assert_eq!(
            out,
            vec![
                Ev::Open(0, 7, true),
                Ev::Data(0, I, b"a".to_vec()),
                Ev::Gap(0, I, 1, 1),
                Ev::Data(0, I, b"c".to_vec()),
                Ev::Close(0, CloseReason::Reused),
                Ev::Open(1, 7, true),
            ]
        );
    }

    #[test]
    fn idle_flows_expire_in_capture_time() {
        let cfg = TcpConfig {
            max_idle_us: 1_000,
            ..Default::default()
        };
        let mut t = FlowTable::new(cfg);
        let mut out = Vec::new();
        feed(&mut t, &mut out, seg(true, 1, 0, TCP_ACK, b"a", 10_000));
        feed(&mut t, &mut out, seg(true, 1, 2, TCP_ACK, b"c", 10_000));
        feed(&mut t, &mut out, seg(true, 2, 0, TCP_ACK, b"b", 10_500));
        feed(&mut t, &mut out, seg(true, 2, 1, TCP_ACK, b"b", 5)); // time going back
        feed(&mut t, &mut out, seg(true, 3, 0, TCP_ACK, b"z", 11_001));
        assert_eq!(
            out,
            vec![
                Ev::Open(0, 1, false),
                Ev::Data(0, I, b"a".to_vec()),
                Ev::Open(1, 2, false),
                Ev::Data(1, I, b"b".to_vec()),
                Ev::Data(1, I, b"b".to_vec()),
                Ev::Gap(0, I, 1, 1),
                Ev::Data(0, I, b"c".to_vec()),
                Ev::Close(0, CloseReason::Idle),
                Ev::Open(2, 3, false),
                Ev::Data(2, I, b"z".to_vec()),
            ]
        );
        assert_eq!(t.stats().flows_expired, 1);
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn full_table_evicts_least_recently_active() {
        let cfg = TcpConfig {
            max_flows: 2,
            ..Default::default()
        };
        let mut t = FlowTable::new(cfg);
        let mut out = Vec::new();
        feed(&mut t, &mut out, seg(true, 1, 0, TCP_ACK, b"a", 0));
        feed(&mut t, &mut out, seg(true, 2, 0, TCP_ACK, b"b", 0));
        feed(&mut t, &mut out, seg(true, 1, 1, TCP_ACK, b"a", 0)); // 1 is now the fresher
        out.clear();
        feed(&mut t, &mut out, seg(true, 3, 0, TCP_ACK, b"c", 0));
        assert_eq!(
            out,
            vec![
                Ev::Close(1, CloseReason::Evicted),
                Ev::Open(2, 3, false),
                Ev::Data(2, I, b"c".to_vec())
            ]
        );
        assert_eq!(t.stats().flows_evicted, 1);
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn orphan_segments_open_nothing() {
        let mut t = FlowTable::new(Default::default());
        let mut out = Vec::new();
        feed(&mut t, &mut out, seg(true, 1, 0, TCP_FIN, b"", 0));
        feed(&mut t, &mut out, seg(true, 1, 0, TCP_RST, b"", 0));
        assert!(out.is_empty());
        assert_eq!(t.stats().orphan_segments, 2);
    }

    #[test]
    fn finish_flushes_in_opening_order() {
        let mut t = FlowTable::new(Default::default());
        let mut out = Vec::new();
        for port in [9u16, 3, 5] {
            feed(&mut t, &mut out, seg(true, port, 0, TCP_ACK, b"a", 0));
            feed(&mut t, &mut out, seg(true, port, 2, TCP_ACK, b"c", 0));
        }
        out.clear();
        t.finish(|e| out.push(own(e)));
        let closes: Vec<&Ev> = out.iter().filter(|e| matches!(e, Ev::Close(..))).collect();
        assert_eq!(
            closes,
            [
                &Ev::Close(0, CloseReason::EndOfInput),
                &Ev::Close(1, CloseReason::EndOfInput),
                &Ev::Close(2, CloseReason::EndOfInput)
            ]
        );
        assert_eq!(out.iter().filter(|e| matches!(e, Ev::Gap(..))).count(), 3);
        assert!(t.is_empty());
        assert_eq!(t.stats().tcp.gaps, 3);
    }

    proptest! {
        #[test]
        fn arbitrary_segments_never_panic_and_table_stays_bounded(
            segs in proptest::collection::vec(
                (any::<bool>(), 0u16..6, any::<u32>(), any::<u8>(), proptest::collection::vec(any::<u8>(), 0..8), 0u64..5_000),
                0..80),
        ) {
            let cfg = TcpConfig { max_flows: 3, max_idle_us: 1_000, ..Default::default() };
            let mut t = FlowTable::new(cfg);
            let mut opened = 0u64;
            let mut closed = 0u64;
            let mut count = |e: FlowEvent<'_>| match e {
                FlowEvent::Opened { .. } => opened += 1,
                FlowEvent::Closed { .. } => closed += 1,
                _ => {}
            };
            for (up, port, seq, bits, p, ts) in &segs {
                let (s, ts) = seg(*up, *port, *seq, *bits, p, *ts);
                t.segment(&s, ts, &mut count);
                prop_assert!(t.len() <= 3);
            }
            t.finish(&mut count);
            prop_assert_eq!(opened, closed);
            prop_assert_eq!(t.stats().flows_opened, opened);
        }

        /// The activity list against a plain model (ports, least recently active first): each
        /// eviction takes exactly the connection the model says, and idle expiry takes exactly
        /// those the model finds idle, oldest first.
        #[test]
        fn eviction_and_expiry_follow_the_least_recently_active(
            steps in proptest::collection::vec((1u16..7, 0u64..400), 1..200),
        ) {
            let cfg = TcpConfig { max_flows: 3, max_idle_us: 1_000, ..Default::default() };
            let mut t = FlowTable::new(cfg);
            let mut out = Vec::new();
            let mut model: Vec<(u16, u64)> = Vec::new(); // (port, last activity)
            let mut seqs = HashMap::new();
            let mut port_of = HashMap::new();
            let mut now = 0;
            for (port, advance) in steps {
                now += advance;
                out.clear();
                let seq = seqs.entry(port).or_insert(0u32);
                feed(&mut t, &mut out, seg(true, port, *seq, TCP_ACK, b"x", now));
                *seq += 1;
                let mut expected = Vec::new();
                while model.first().is_some_and(|&(_, last)| last + 1_000 < now) {
                    expected.push((model.remove(0).0, CloseReason::Idle));
                }
                match model.iter().position(|&(p, _)| p == port) {
                    Some(i) => {
                        model.remove(i);
                    }
                    None if model.len() == 3 => expected.push((model.remove(0).0, CloseReason::Evicted)),
                    None => {}
                }
                model.push((port, now));
                for e in &out {
                    if let Ev::Open(id, p, _) = e {
                        port_of.insert(*id, *p);
                    }
                }
                let closed: Vec<(u16, CloseReason)> = out
                    .iter()
                    .filter_map(|e| match e {
                        Ev::Close(id, reason) => Some((port_of[id], *reason)),
                        _ => None,
                    })
                    .collect();
                prop_assert_eq!(closed, expected);
                prop_assert_eq!(t.len(), model.len());
            }
        }
    }
}
