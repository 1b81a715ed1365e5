//! The container decoder: pcap and pcapng from byte slices, with no I/O inside.
//!
//! [`ContainerDecoder::decode`] is handed the bytes of the stream not consumed yet and answers
//! how many it consumed and why it stopped: a [`Packet`] (borrowing the slice), a positioned
//! [`CaptureError`], or [`Decoded::NeedMore`]. The caller owns the buffer, so a file, a live
//! pipe and a Python file object share this code; [`CaptureReader`](super::CaptureReader) is
//! its adapter over `io::Read` (and gzip). Decompression is not done here.
//!
//! pcap records are decoded by hand (a 16-byte header); pcapng blocks are cut here (length,
//! alignment, limits) and their contents parsed by `pcap-parser`, one exact block at a time, so
//! that inconsistent inner lengths read as damage rather than as a wait for more bytes.
//! Timestamps are decoded here too: `pcap-parser`'s helpers mishandle power-of-two resolutions.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use pcap_parser::nom;
use pcap_parser::{
    parse_block_be, parse_block_le, parse_sectionheaderblock, Block, InterfaceDescriptionBlock,
    PcapError,
};

use super::clock::{split_timestamp, Clock};
use super::error::{CaptureError, CaptureErrorKind, InputKind};
use super::MAX_BUFFER_SIZE;

const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
/// The [`CaptureErrorKind::BadHeader`] of an input that ends inside its file or section header.
const TRUNCATED_HEADER: &str = "the input ends inside it";

/// A format version this reader, like libpcap, does not accept.
fn unsupported_version(format: &str, major: u16, minor: u16) -> CaptureErrorKind {
    CaptureErrorKind::BadHeader(format!("unsupported {format} version {major}.{minor}"))
}

/// A block of `needed` bytes, more than the reader's buffer may hold.
pub(super) fn too_large(needed: usize) -> CaptureErrorKind {
    CaptureErrorKind::Damaged(format!(
        "record of at least {needed} bytes exceeds the {MAX_BUFFER_SIZE}-byte limit"
    ))
}

/// A pcapng packet for an interface its section does not describe.
fn unknown_interface(if_id: u32, count: usize) -> CaptureErrorKind {
    CaptureErrorKind::Damaged(format!(
        "packet for interface {if_id}, but the section describes {count} interface(s)"
    ))
}

/// libpcap's sanity limit on a section header block's length.
const MAX_SHB_LEN: u32 = 1 << 20;
/// Interfaces one pcapng section may describe: far above any real capture, and a bound on the
/// memory a hostile file of interface blocks can take.
const MAX_INTERFACES: usize = 1 << 16;

/// One captured packet, borrowed until the next call to
/// [`CaptureReader::next_packet`](super::CaptureReader::next_packet) (or, from a
/// [`ContainerDecoder`], for as long as the slice it was decoded from).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Packet<'a> {
    /// Index of the input (0-based) in the rotated set.
    pub input_index: usize,
    /// Name of the input (path as given, or the reader's name), shared: one allocation per
    /// input, so a consumer can tell inputs apart with [`Arc::ptr_eq`].
    pub input_name: &'a Arc<str>,
    /// Packet number within its input, from 1 (packets dropped with an error take a number).
    pub packet: u64,
    /// Packet number across all inputs, from 1 (packets returned only).
    pub packet_number: u64,
    /// Capture time. For pcapng simple packet blocks, which carry none, the previous packet's
    /// time in the section (or the Unix epoch) and [`Packet::timestamp_estimated`] is set.
    pub timestamp: DateTime<Utc>,
    /// True when the block had no timestamp of its own (pcapng SPB).
    pub timestamp_estimated: bool,
    /// Link type (`LINKTYPE_*` value): of the file for pcap, of the interface for pcapng.
    pub link_type: u32,
    /// pcapng interface id (0 for pcap files).
    pub interface_id: u32,
    /// Length of the packet on the wire, as recorded (can exceed `data.len()`: snaplen).
    pub origlen: u32,
    /// Byte offset of the packet's record in the (decompressed) capture stream.
    pub offset: u64,
    /// The link-layer frame as captured.
    pub data: &'a [u8],
}

/// What [`ContainerDecoder::decode`] stopped at.
#[derive(Debug)]
pub enum Decoded<'a> {
    /// A packet; its data borrows the slice given.
    Packet(Packet<'a>),
    /// Nothing more can be decoded until at least `needed` bytes follow the consumed ones. At
    /// the end of the input, call [`ContainerDecoder::finish`] instead.
    NeedMore {
        /// Bytes needed after the consumed ones (never more than [`MAX_BUFFER_SIZE`]).
        needed: usize,
    },
    /// Something is wrong at a position. After a non-fatal error decoding goes on; after a
    /// fatal one the decoder is stopped.
    Error(CaptureError),
    /// A fatal error was reported (or the input finished): the rest is not decoded.
    Stopped,
}

/// The packet a block holds, its data as a range of the slice it was decoded from: the reader
/// builds the borrowed [`Packet`] only where it returns it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PacketMeta {
    start: usize,
    end: usize,
    timestamp: DateTime<Utc>,
    timestamp_estimated: bool,
    link_type: u32,
    interface_id: u32,
    origlen: u32,
    offset: u64,
    packet: u64,
    packet_number: u64,
}

/// [`Decoded`] without the borrow.
#[derive(Debug)]
pub(crate) enum Next {
    Packet(PacketMeta),
    NeedMore(usize),
    Error(CaptureError),
    Stopped,
}

#[derive(Debug, Clone, Copy)]
struct Interface {
    link_type: u32,
    snaplen: u32,
    tsresol: u8,
    tsoffset: i64,
}

/// A pcap file's record layout, from its header.
#[derive(Debug, Clone, Copy)]
struct PcapLayout {
    big_endian: bool,
    nanos: bool,
    /// 16, or 24 for the "modified" format.
    record_header: usize,
    link_type: u32,
}

#[derive(Debug, Clone, Copy)]
enum State {
    /// Nothing decoded yet: the format is found from the first bytes.
    Start,
    Pcap(PcapLayout),
    PcapNg {
        big_endian: bool,
    },
    Stopped,
}

/// One step of the slow path; packets are numbered and counted by the caller.
enum Step {
    /// A header or a block not needed, consumed.
    Skip(usize),
    /// A packet: the record's length and what it holds.
    Packet(usize, PacketMeta),
    Need(usize),
    /// A record dropped with an error: consumes it and a packet number.
    PacketError(usize, CaptureErrorKind),
    Fatal(CaptureErrorKind),
}

/// Decodes one input's pcap or pcapng container from byte slices (no I/O): see the
/// [`capture` module](super) and below.
///
/// Each call to [`decode`](Self::decode) must be given the stream from the first byte not yet
/// consumed: what the previous call left (its slice minus the consumed count) plus anything
/// new. At the end of the input, [`finish`](Self::finish) says whether it ended cleanly.
///
/// ```
/// use sunpower_pcap::capture::{ContainerDecoder, Decoded};
///
/// // A little-endian microsecond pcap file with one 4-byte packet, linktype 101 (raw IP).
/// let mut file = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
/// file.extend_from_slice(&[0xff, 0xff, 0, 0, 101, 0, 0, 0]);
/// file.extend_from_slice(&[0xe8, 0x03, 0, 0, 0x20, 0xa1, 0x07, 0]); // 1000 s, 500000 us
/// file.extend_from_slice(&[4, 0, 0, 0, 4, 0, 0, 0, 0x45, 0, 0, 20]);
///
/// // Fed 7 bytes at a time, as a slow pipe would deliver them.
/// let mut decoder = ContainerDecoder::new("pipe");
/// let (mut pending, mut packets) = (Vec::new(), Vec::new());
/// for chunk in file.chunks(7) {
///     pending.extend_from_slice(chunk);
///     loop {
///         let (used, more) = match decoder.decode(&pending) {
///             (used, Decoded::Packet(p)) => {
///                 packets.push((p.packet, p.timestamp.timestamp_millis(), p.data.to_vec()));
///                 (used, true)
///             }
///             (used, Decoded::NeedMore { .. }) => (used, false),
///             (_, other) => panic!("{other:?}"),
///         };
///         pending.drain(..used);
///         if !more {
///             break;
///         }
///     }
/// }
/// assert!(decoder.finish(&pending).is_none());
/// assert_eq!(packets, vec![(1, 1_000_500, vec![0x45, 0, 0, 20])]);
/// ```
#[derive(Debug)]
pub struct ContainerDecoder {
    state: State,
    input_index: usize,
    input_name: Arc<str>,
    /// Packets of the inputs before this one (for [`Packet::packet_number`]).
    packets_before: u64,
    /// Stream offset of the first byte not consumed.
    offset: u64,
    /// Packet numbers given (packets returned and packets dropped with an error).
    numbered: u64,
    /// Packets returned.
    delivered: u64,
    blocks_skipped: u64,
    /// Latest packet time returned (meaningful once `delivered > 0`).
    latest: DateTime<Utc>,
    /// The time this input's first timestamped packet must not precede (the end of the inputs
    /// before it); taken when that packet is checked.
    not_before: Option<DateTime<Utc>>,
    clock: Clock,
    /// pcapng: the current section's interfaces.
    interfaces: Vec<Interface>,
    saw_interface: bool,
    /// Time of the last pcapng packet, for simple packet blocks.
    last_timestamp: DateTime<Utc>,
}

impl ContainerDecoder {
    /// A decoder for one input on its own (index 0, packets numbered from 1).
    ///
    /// ```
    /// use sunpower_pcap::capture::{ContainerDecoder, Decoded};
    /// let mut d = ContainerDecoder::new("stdin");
    /// assert!(matches!(d.decode(&[0xd4, 0xc3]).1, Decoded::NeedMore { needed: 4 }));
    /// ```
    pub fn new(input_name: impl Into<Arc<str>>) -> ContainerDecoder {
        ContainerDecoder::in_set(0, input_name.into(), 0, None)
    }

    /// The decoder of input `input_index` of a rotated set, after `packets_before` packets
    /// from the inputs before it, whose latest packet was at `previous_end`: a first packet
    /// older than that is reported ([`CaptureErrorKind::InputOutOfOrder`]) before it is
    /// returned.
    ///
    /// ```
    /// use sunpower_pcap::capture::ContainerDecoder;
    /// let d = ContainerDecoder::in_set(2, "c.pcap".into(), 10, None);
    /// assert_eq!((d.packets(), d.offset()), (0, 0));
    /// ```
    pub fn in_set(
        input_index: usize,
        input_name: Arc<str>,
        packets_before: u64,
        previous_end: Option<DateTime<Utc>>,
    ) -> ContainerDecoder {
        ContainerDecoder {
            state: State::Start,
            input_index,
            input_name,
            packets_before,
            offset: 0,
            numbered: 0,
            delivered: 0,
            blocks_skipped: 0,
            latest: DateTime::<Utc>::MIN_UTC,
            not_before: previous_end,
            clock: Clock::new(),
            interfaces: Vec::new(),
            saw_interface: false,
            last_timestamp: DateTime::UNIX_EPOCH,
        }
    }

    /// A stopped decoder with no input, decoding nothing.
    pub(crate) fn idle() -> ContainerDecoder {
        let mut d = ContainerDecoder::new("");
        d.state = State::Stopped;
        d
    }

    /// Decodes from `input`, the stream from the first byte not consumed yet. Returns the
    /// number of bytes consumed (headers and skipped blocks included) and what it stopped at.
    ///
    /// ```
    /// use sunpower_pcap::capture::{ContainerDecoder, Decoded};
    /// // A pcap file (linktype 101, raw IP) with one 4-byte packet at 1000.5 s.
    /// let mut file = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 101, 0, 0, 0];
    /// file.extend_from_slice(&[0xe8, 0x03, 0, 0, 0x20, 0xa1, 0x07, 0, 4, 0, 0, 0, 4, 0, 0, 0, 0x45, 0, 0, 20]);
    /// let mut decoder = ContainerDecoder::new("one.pcap");
    /// let (used, decoded) = decoder.decode(&file);
    /// let Decoded::Packet(packet) = decoded else { panic!("{decoded:?}") };
    /// assert_eq!((used, packet.packet, packet.link_type, packet.data), (file.len(), 1, 101, &[0x45, 0, 0, 20][..]));
    /// assert!(matches!(decoder.decode(&[]), (0, Decoded::NeedMore { .. })));
    /// ```
    #[inline]
    pub fn decode<'a>(&'a mut self, input: &'a [u8]) -> (usize, Decoded<'a>) {
        let (used, next) = self.next(input);
        let decoded = match next {
            Next::Packet(meta) => Decoded::Packet(self.packet(&meta, input)),
            Next::NeedMore(needed) => Decoded::NeedMore { needed },
            Next::Error(e) => Decoded::Error(e),
            Next::Stopped => Decoded::Stopped,
        };
        (used, decoded)
    }

    /// The input has ended with `rest` not consumed: the error that means, if any (an input
    /// cut inside a record, an empty input, a pcapng file without interfaces). The decoder is
    /// stopped afterwards.
    ///
    /// ```
    /// use sunpower_pcap::capture::{CaptureErrorKind, ContainerDecoder};
    /// let e = ContainerDecoder::new("empty").finish(&[]).unwrap();
    /// assert!(matches!(e.kind, CaptureErrorKind::Empty) && e.input_unreadable());
    /// ```
    pub fn finish(&mut self, rest: &[u8]) -> Option<CaptureError> {
        let kind = match self.state {
            State::Stopped => return None,
            State::Start if rest.is_empty() => CaptureErrorKind::Empty,
            State::Start if rest.len() >= 4 && format_of(rest).is_none() => {
                CaptureErrorKind::UnknownFormat {
                    magic: hex(&rest[..rest.len().min(8)]),
                    looks_like: InputKind::of(rest),
                }
            }
            State::Start => CaptureErrorKind::BadHeader(TRUNCATED_HEADER.into()),
            State::Pcap(_) | State::PcapNg { .. } if !rest.is_empty() => CaptureErrorKind::Cut {
                available: rest.len(),
            },
            State::PcapNg { .. } if !self.saw_interface => {
                CaptureErrorKind::Damaged("pcapng input without an interface description".into())
            }
            State::Pcap(_) | State::PcapNg { .. } => {
                self.state = State::Stopped;
                return None;
            }
        };
        Some(self.stop(kind))
    }

    /// Stops decoding with a fatal error at the current position (a read error, say).
    pub(crate) fn stop(&mut self, kind: CaptureErrorKind) -> CaptureError {
        self.state = State::Stopped;
        self.error(kind, self.offset, self.numbered + 1, true)
    }

    /// Bytes consumed so far: the stream offset of the next byte to give.
    ///
    /// ```
    /// use sunpower_pcap::capture::{ContainerDecoder, Decoded};
    /// // A pcap file (linktype 101, raw IP) with one 4-byte packet at 1000.5 s.
    /// let mut file = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 101, 0, 0, 0];
    /// file.extend_from_slice(&[0xe8, 0x03, 0, 0, 0x20, 0xa1, 0x07, 0, 4, 0, 0, 0, 4, 0, 0, 0, 0x45, 0, 0, 20]);
    /// let mut decoder = ContainerDecoder::new("one.pcap");
    /// let (used, _) = decoder.decode(&file[..30]); // the file header, and the packet still cut
    /// assert_eq!(decoder.offset(), used as u64);
    /// assert_eq!(decoder.offset(), 24);
    /// ```
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Packets returned so far.
    ///
    /// ```
    /// use sunpower_pcap::capture::{ContainerDecoder, Decoded};
    /// // A pcap file (linktype 101, raw IP) with one 4-byte packet at 1000.5 s.
    /// let mut file = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 101, 0, 0, 0];
    /// file.extend_from_slice(&[0xe8, 0x03, 0, 0, 0x20, 0xa1, 0x07, 0, 4, 0, 0, 0, 4, 0, 0, 0, 0x45, 0, 0, 20]);
    /// let mut decoder = ContainerDecoder::new("one.pcap");
    /// let _ = decoder.decode(&file);
    /// assert_eq!(decoder.packets(), 1);
    /// ```
    pub fn packets(&self) -> u64 {
        self.delivered
    }

    /// pcapng blocks consumed that are not packets and not needed (statistics, names, ...).
    ///
    /// ```
    /// use sunpower_pcap::capture::{ContainerDecoder, Decoded};
    /// // A pcap file (linktype 101, raw IP) with one 4-byte packet at 1000.5 s.
    /// let mut file = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 101, 0, 0, 0];
    /// file.extend_from_slice(&[0xe8, 0x03, 0, 0, 0x20, 0xa1, 0x07, 0, 4, 0, 0, 0, 4, 0, 0, 0, 0x45, 0, 0, 20]);
    /// let mut decoder = ContainerDecoder::new("one.pcap");
    /// let _ = decoder.decode(&file);
    /// assert_eq!(decoder.blocks_skipped(), 0); // pcap has no blocks to skip, pcapng may
    /// ```
    pub fn blocks_skipped(&self) -> u64 {
        self.blocks_skipped
    }

    /// The latest time of the packets returned so far, if any.
    ///
    /// ```
    /// use sunpower_pcap::capture::{ContainerDecoder, Decoded};
    /// // A pcap file (linktype 101, raw IP) with one 4-byte packet at 1000.5 s.
    /// let mut file = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 101, 0, 0, 0];
    /// file.extend_from_slice(&[0xe8, 0x03, 0, 0, 0x20, 0xa1, 0x07, 0, 4, 0, 0, 0, 4, 0, 0, 0, 0x45, 0, 0, 20]);
    /// let mut decoder = ContainerDecoder::new("one.pcap");
    /// assert_eq!(decoder.latest_timestamp(), None);
    /// let _ = decoder.decode(&file);
    /// assert_eq!(decoder.latest_timestamp().unwrap().timestamp_millis(), 1_000_500);
    /// ```
    pub fn latest_timestamp(&self) -> Option<DateTime<Utc>> {
        (self.delivered > 0).then_some(self.latest)
    }

    /// The index of the input in its rotated set.
    pub(crate) fn input_index(&self) -> usize {
        self.input_index
    }

    /// The input's name, as used in packets and errors.
    pub(crate) fn input_name(&self) -> &Arc<str> {
        &self.input_name
    }

    /// The borrowed packet `meta` describes, its data in `input` (the slice it was decoded from).
    #[inline(always)]
    pub(crate) fn packet<'a>(&'a self, meta: &PacketMeta, input: &'a [u8]) -> Packet<'a> {
        // The range is always within the slice; an empty packet rather than a panic otherwise.
        let data = input.get(meta.start..meta.end).unwrap_or_default();
        Packet {
            input_index: self.input_index,
            input_name: &self.input_name,
            packet: meta.packet,
            packet_number: meta.packet_number,
            timestamp: meta.timestamp,
            timestamp_estimated: meta.timestamp_estimated,
            link_type: meta.link_type,
            interface_id: meta.interface_id,
            origlen: meta.origlen,
            offset: meta.offset,
            data,
        }
    }

    /// [`decode`](Self::decode) without the borrow: the common case (a complete pcap record with
    /// a valid time) inline, everything else in [`next_slow`](Self::next_slow).
    #[inline(always)]
    pub(crate) fn next(&mut self, input: &[u8]) -> (usize, Next) {
        if let (State::Pcap(layout), None) = (self.state, self.not_before)
            && let Some((len, mut meta)) = self.pcap_record(layout, input)
        {
            self.commit(len, &mut meta);
            return (len, Next::Packet(meta));
        }
        self.next_slow(input)
    }

    /// The next pcap record if it is complete, within the limits and timed in range; `None`
    /// leaves the reporting to the slow path.
    #[inline(always)]
    fn pcap_record(&mut self, layout: PcapLayout, input: &[u8]) -> Option<(usize, PacketMeta)> {
        let header = input.get(..layout.record_header)?;
        let word = |at: usize| {
            let b = [header[at], header[at + 1], header[at + 2], header[at + 3]];
            if layout.big_endian {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        let caplen = word(8) as usize;
        let len = layout.record_header + caplen;
        if caplen > MAX_BUFFER_SIZE || len > MAX_BUFFER_SIZE || input.len() < len {
            return None;
        }
        // The sub-second field is in micro- or nanoseconds; a second or more in it is carried.
        let frac = if layout.nanos {
            u64::from(word(4))
        } else {
            u64::from(word(4)) * 1000
        };
        let secs = i128::from(word(0)) + i128::from(frac / 1_000_000_000);
        let timestamp = self.clock.datetime(secs, (frac % 1_000_000_000) as u32)?;
        Some((
            len,
            PacketMeta {
                start: layout.record_header,
                end: len,
                timestamp,
                timestamp_estimated: false,
                link_type: layout.link_type,
                interface_id: 0,
                origlen: word(12),
                offset: 0,
                packet: 0,
                packet_number: 0,
            },
        ))
    }

    /// Numbers and counts a packet of `len` bytes about to be returned.
    #[inline(always)]
    fn commit(&mut self, len: usize, meta: &mut PacketMeta) {
        self.numbered += 1;
        self.delivered += 1;
        meta.offset = self.offset;
        meta.packet = self.numbered;
        meta.packet_number = self.packets_before + self.delivered;
        self.offset += len as u64;
        if meta.timestamp > self.latest {
            self.latest = meta.timestamp;
        }
    }

    fn error(&self, kind: CaptureErrorKind, offset: u64, packet: u64, fatal: bool) -> CaptureError {
        CaptureError {
            input_index: self.input_index,
            input_name: self.input_name.clone(),
            packet,
            offset,
            fatal,
            kind,
            nothing_read: self.delivered == 0,
        }
    }

    /// Everything but the common case: headers, pcapng blocks, records that need more bytes,
    /// errors, the order check of a rotated set's input.
    #[inline(never)]
    fn next_slow(&mut self, input: &[u8]) -> (usize, Next) {
        let mut pos = 0;
        loop {
            let rest = input.get(pos..).unwrap_or_default();
            let step = match self.state {
                State::Stopped => return (pos, Next::Stopped),
                State::Start => self.start(rest),
                State::Pcap(layout) => self.pcap_step(layout, rest),
                State::PcapNg { big_endian } => self.pcapng_step(big_endian, rest),
            };
            match step {
                Step::Skip(len) => {
                    pos += len;
                    self.offset += len as u64;
                }
                Step::Need(needed) => return (pos, Next::NeedMore(needed)),
                Step::Packet(len, mut meta) => {
                    if let Some(previous_end) =
                        self.not_before.filter(|_| !meta.timestamp_estimated)
                    {
                        self.not_before = None;
                        if meta.timestamp < previous_end {
                            // Said before the packet, which the next call decodes again.
                            let kind = CaptureErrorKind::InputOutOfOrder {
                                starts: meta.timestamp,
                                previous_end,
                            };
                            let e = self.error(kind, self.offset, self.numbered + 1, false);
                            return (pos, Next::Error(e));
                        }
                    }
                    meta.start += pos;
                    meta.end += pos;
                    self.commit(len, &mut meta);
                    return (pos + len, Next::Packet(meta));
                }
                Step::PacketError(len, kind) => {
                    self.numbered += 1;
                    let e = self.error(kind, self.offset, self.numbered, false);
                    self.offset += len as u64;
                    return (pos + len, Next::Error(e));
                }
                Step::Fatal(kind) => return (pos, Next::Error(self.stop(kind))),
            }
        }
    }

    /// The file header: pcap or pcapng, from the magic number.
    fn start(&mut self, input: &[u8]) -> Step {
        if input.len() < 4 {
            return Step::Need(4);
        }
        match format_of(input) {
            Some(Format::PcapNg) => {
                if input.len() < 12 {
                    return Step::Need(12);
                }
                let len = match check_section_header(input) {
                    Ok(len) => len,
                    Err(kind) => return Step::Fatal(kind),
                };
                match self.section_header(input, len) {
                    Step::Fatal(CaptureErrorKind::Damaged(m)) => {
                        Step::Fatal(CaptureErrorKind::BadHeader(m))
                    }
                    other => other,
                }
            }
            Some(Format::Pcap {
                big_endian,
                nanos,
                modified,
            }) => {
                let Some(h) = input.get(..24) else {
                    return Step::Need(24);
                };
                let u16_at = |at: usize| {
                    let b = [h[at], h[at + 1]];
                    if big_endian {
                        u16::from_be_bytes(b)
                    } else {
                        u16::from_le_bytes(b)
                    }
                };
                let (major, minor) = (u16_at(4), u16_at(6));
                // libpcap accepts 2.0-2.4 and the odd 543.3 of some old systems.
                if !((major == 2 && minor <= 4) || (major == 543 && minor == 3)) {
                    return Step::Fatal(unsupported_version("pcap", major, minor));
                }
                let raw = read_u32(&h[20..24], big_endian);
                // Bits 16-25 are reserved; upper bits carry the FCS length.
                if raw & 0x03ff_0000 != 0 {
                    return Step::Fatal(CaptureErrorKind::BadHeader(format!(
                        "link type field {raw:#010x} has reserved bits set"
                    )));
                }
                self.saw_interface = true;
                self.state = State::Pcap(PcapLayout {
                    big_endian,
                    nanos,
                    record_header: if modified { 24 } else { 16 },
                    link_type: raw & 0xffff,
                });
                Step::Skip(24)
            }
            // Up to 8 bytes in the message, when there are.
            None if input.len() < 8 => Step::Need(8),
            None => Step::Fatal(CaptureErrorKind::UnknownFormat {
                magic: hex(&input[..8]),
                looks_like: InputKind::of(input),
            }),
        }
    }

    /// A pcap record that the fast path left: incomplete, over the limit, or out of range.
    fn pcap_step(&mut self, layout: PcapLayout, input: &[u8]) -> Step {
        let Some(header) = input.get(..layout.record_header) else {
            return Step::Need(layout.record_header);
        };
        let caplen = read_u32(&header[8..12], layout.big_endian) as usize;
        // A record claiming more than the buffer may ever hold is damage: said now rather than
        // after reading up to that much.
        if caplen > MAX_BUFFER_SIZE {
            return Step::Fatal(CaptureErrorKind::Damaged(format!(
                "record claims {caplen} captured bytes (limit {MAX_BUFFER_SIZE})"
            )));
        }
        let len = layout.record_header + caplen;
        if len > MAX_BUFFER_SIZE {
            return Step::Fatal(too_large(len));
        }
        if input.len() < len {
            return Step::Need(len);
        }
        match self.pcap_record(layout, input) {
            Some((len, meta)) => Step::Packet(len, meta),
            None => {
                let secs = read_u32(&header[..4], layout.big_endian);
                let sub = read_u32(&header[4..8], layout.big_endian);
                let carry = if layout.nanos {
                    sub / 1_000_000_000
                } else {
                    sub / 1_000_000
                };
                Step::PacketError(
                    len,
                    CaptureErrorKind::TimestampOutOfRange {
                        seconds: i128::from(secs) + i128::from(carry),
                    },
                )
            }
        }
    }

    /// One pcapng block.
    fn pcapng_step(&mut self, big_endian: bool, input: &[u8]) -> Step {
        if input.len() < 12 {
            return Step::Need(12);
        }
        if input[..4] == PCAPNG_MAGIC {
            let len = match check_section_header(input) {
                Ok(len) => len,
                Err(CaptureErrorKind::BadHeader(m)) => {
                    return Step::Fatal(CaptureErrorKind::Damaged(m))
                }
                Err(other) => return Step::Fatal(other),
            };
            return self.section_header(input, len);
        }
        let len = read_u32(&input[4..8], big_endian) as usize;
        if len > MAX_BUFFER_SIZE {
            return Step::Fatal(CaptureErrorKind::Damaged(format!(
                "block length {len} exceeds the {MAX_BUFFER_SIZE}-byte limit"
            )));
        }
        if len < 12 || !len.is_multiple_of(4) {
            return Step::Fatal(CaptureErrorKind::Damaged(format!(
                "block length {len} (must be a multiple of 4, at least 12)"
            )));
        }
        let Some(bytes) = input.get(..len) else {
            return Step::Need(len);
        };
        let parsed = if big_endian {
            parse_block_be(bytes)
        } else {
            parse_block_le(bytes)
        };
        match parsed {
            Ok((_, block)) => self.pcapng_block(block, len, bytes.as_ptr() as usize),
            Err(e) => Step::Fatal(CaptureErrorKind::Damaged(format!(
                "{len}-byte block does not parse ({})",
                describe(&e)
            ))),
        }
    }

    /// A section header block of `len` bytes (its start already checked): a new section.
    fn section_header(&mut self, input: &[u8], len: usize) -> Step {
        let Some(bytes) = input.get(..len) else {
            return Step::Need(len);
        };
        let shb = match parse_sectionheaderblock(bytes) {
            Ok((_, shb)) => shb,
            Err(e) => {
                return Step::Fatal(CaptureErrorKind::Damaged(format!(
                    "invalid pcapng section header block ({})",
                    describe(&e)
                )))
            }
        };
        if !(shb.major_version == 1 && (shb.minor_version == 0 || shb.minor_version == 2)) {
            return Step::Fatal(unsupported_version(
                "pcapng",
                shb.major_version,
                shb.minor_version,
            ));
        }
        // Interfaces are numbered per section.
        self.interfaces.clear();
        self.state = State::PcapNg {
            big_endian: shb.big_endian(),
        };
        Step::Skip(len)
    }

    /// What a parsed pcapng block (not a section header) means; `base` is the address of its
    /// first byte, to find its packet data within it.
    fn pcapng_block(&mut self, block: Block<'_>, len: usize, base: usize) -> Step {
        let big_endian = matches!(self.state, State::PcapNg { big_endian: true });
        let start_of = |data: &[u8]| (data.as_ptr() as usize).wrapping_sub(base);
        match block {
            Block::InterfaceDescription(idb) => {
                if self.interfaces.len() >= MAX_INTERFACES {
                    return Step::Fatal(CaptureErrorKind::Damaged(format!(
                        "invalid interface description: more than {MAX_INTERFACES} interfaces in one section"
                    )));
                }
                match interface_from(&idb, big_endian) {
                    Ok(iface) => {
                        self.interfaces.push(iface);
                        self.saw_interface = true;
                        Step::Skip(len)
                    }
                    // libpcap refuses the whole file; so do we, rather than misdate packets.
                    Err(msg) => Step::Fatal(CaptureErrorKind::Damaged(format!(
                        "invalid interface description: {msg}"
                    ))),
                }
            }
            Block::EnhancedPacket(epb) => {
                let Some(iface) = self.interfaces.get(epb.if_id as usize).copied() else {
                    return Step::PacketError(
                        len,
                        unknown_interface(epb.if_id, self.interfaces.len()),
                    );
                };
                let raw = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                let (secs, nanos) = split_timestamp(raw, iface.tsresol);
                let seconds = i128::from(secs) + i128::from(iface.tsoffset);
                let Some(timestamp) = self.clock.datetime(seconds, nanos) else {
                    return Step::PacketError(
                        len,
                        CaptureErrorKind::TimestampOutOfRange { seconds },
                    );
                };
                self.last_timestamp = timestamp;
                let start = start_of(epb.data);
                let caplen = (epb.caplen as usize).min(epb.data.len());
                Step::Packet(
                    len,
                    meta(
                        start,
                        caplen,
                        timestamp,
                        false,
                        iface.link_type,
                        epb.if_id,
                        epb.origlen,
                    ),
                )
            }
            Block::SimplePacket(spb) => {
                let Some(iface) = self.interfaces.first().copied() else {
                    return Step::PacketError(len, unknown_interface(0, 0));
                };
                // An SPB's captured length is implied: the original length, cut at the snaplen
                // and at the block's data (which includes padding).
                let mut caplen = (spb.origlen as usize).min(spb.data.len());
                if iface.snaplen != 0 {
                    caplen = caplen.min(iface.snaplen as usize);
                }
                Step::Packet(
                    len,
                    meta(
                        start_of(spb.data),
                        caplen,
                        self.last_timestamp,
                        true,
                        iface.link_type,
                        0,
                        spb.origlen,
                    ),
                )
            }
            _ => {
                self.blocks_skipped += 1;
                Step::Skip(len)
            }
        }
    }
}

fn meta(
    start: usize,
    len: usize,
    timestamp: DateTime<Utc>,
    timestamp_estimated: bool,
    link_type: u32,
    interface_id: u32,
    origlen: u32,
) -> PacketMeta {
    PacketMeta {
        start,
        end: start + len,
        timestamp,
        timestamp_estimated,
        link_type,
        interface_id,
        origlen,
        offset: 0,
        packet: 0,
        packet_number: 0,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Pcap {
        big_endian: bool,
        nanos: bool,
        modified: bool,
    },
    PcapNg,
}

/// The container a stream's first four bytes announce.
fn format_of(head: &[u8]) -> Option<Format> {
    let pcap = |big_endian, nanos, modified| {
        Some(Format::Pcap {
            big_endian,
            nanos,
            modified,
        })
    };
    match head.get(..4)? {
        m if m == PCAPNG_MAGIC => Some(Format::PcapNg),
        [0xd4, 0xc3, 0xb2, 0xa1] => pcap(false, false, false),
        [0xa1, 0xb2, 0xc3, 0xd4] => pcap(true, false, false),
        // The "modified" format (Alexey Kuznetsov's patches): little-endian, 24-byte records.
        [0x34, 0xcd, 0xb2, 0xa1] => pcap(false, false, true),
        [0x4d, 0x3c, 0xb2, 0xa1] => pcap(false, true, false),
        [0xa1, 0xb2, 0x3c, 0x4d] => pcap(true, true, false),
        _ => None,
    }
}

fn read_u32(bytes: &[u8], big_endian: bool) -> u32 {
    let b = [bytes[0], bytes[1], bytes[2], bytes[3]];
    if big_endian {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A pcap-parser failure on a complete block, for a message.
fn describe(e: &nom::Err<PcapError<&[u8]>>) -> String {
    match e {
        nom::Err::Error(e) | nom::Err::Failure(e) => match e {
            PcapError::NomError(_, kind) | PcapError::OwnedNomError(_, kind) => {
                format!("{kind:?}: inconsistent lengths?")
            }
            other => other.to_string(),
        },
        nom::Err::Incomplete(_) => "its contents overrun its length".into(),
    }
}

/// Checks the start of a pcapng section header block (at least 12 bytes): byte-order magic
/// and a sane length, which it returns.
fn check_section_header(head: &[u8]) -> Result<usize, CaptureErrorKind> {
    if head.len() < 12 {
        return Err(CaptureErrorKind::BadHeader(TRUNCATED_HEADER.into()));
    }
    let big_endian = match head[8..12] {
        [0x1a, 0x2b, 0x3c, 0x4d] => true,
        [0x4d, 0x3c, 0x2b, 0x1a] => false,
        _ => {
            return Err(CaptureErrorKind::BadHeader(format!(
                "unknown pcapng byte-order magic {}",
                hex(&head[8..12])
            )))
        }
    };
    let len = read_u32(&head[4..8], big_endian);
    if !(28..=MAX_SHB_LEN).contains(&len) || !len.is_multiple_of(4) {
        return Err(CaptureErrorKind::BadHeader(format!(
            "section header block length {len} (must be a multiple of 4 from 28 to {MAX_SHB_LEN})"
        )));
    }
    Ok(len as usize)
}

/// Validates an IDB's options as libpcap does, and extracts the timestamp parameters.
fn interface_from(
    idb: &InterfaceDescriptionBlock<'_>,
    big_endian: bool,
) -> Result<Interface, String> {
    let mut tsresol: Option<u8> = None;
    let mut tsoffset: Option<i64> = None;
    for opt in &idb.options {
        let value = opt.value.get(..usize::from(opt.len));
        match opt.code.0 {
            0 if opt.len != 0 => {
                return Err(format!("opt_endofopt with length {} != 0", opt.len));
            }
            9 => {
                if tsresol.is_some() {
                    return Err("more than one if_tsresol option".into());
                }
                let v = match value {
                    Some([v]) => *v,
                    _ => return Err(format!("if_tsresol option with length {} != 1", opt.len)),
                };
                // libpcap's limit: one unit per second must fit in 64 bits.
                let too_high = if v & 0x80 != 0 { v & 0x7f > 63 } else { v > 19 };
                if too_high {
                    let base = if v & 0x80 != 0 { 2 } else { 10 };
                    return Err(format!(
                        "if_tsresol resolution {base}^-{} is too high",
                        v & 0x7f
                    ));
                }
                tsresol = Some(v);
            }
            14 => {
                if tsoffset.is_some() {
                    return Err("more than one if_tsoffset option".into());
                }
                let bytes: [u8; 8] = match value.and_then(|v| <[u8; 8]>::try_from(v).ok()) {
                    Some(b) => b,
                    None => return Err(format!("if_tsoffset option with length {} != 8", opt.len)),
                };
                tsoffset = Some(if big_endian {
                    i64::from_be_bytes(bytes)
                } else {
                    i64::from_le_bytes(bytes)
                });
            }
            _ => {}
        }
    }
    Ok(Interface {
        link_type: u32::from(idb.linktype.0 as u16),
        snaplen: idb.snaplen,
        tsresol: tsresol.unwrap_or(6),
        tsoffset: tsoffset.unwrap_or(0),
    })
}
