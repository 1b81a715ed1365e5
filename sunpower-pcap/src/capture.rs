//! Reading capture files: pcap (both byte orders, micro- and nanosecond, the "modified" variant),
//! pcapng (several sections and interfaces), either optionally gzip-compressed, from paths or any
//! reader (standard input, Python file objects), one after another as a rotated set.
//!
//! The container is parsed by `pcap-parser`'s streaming readers (`next` / `consume` / `refill`), so
//! memory stays constant whatever the file size: one buffer of 1 MiB per open file, grown (up to
//! 256 MiB) only when a single block is larger than the buffer. Packets borrow from that buffer:
//! [`CaptureReader::next_packet`] is a lending iterator, not an [`Iterator`].
//!
//! The format is found from the first bytes, never from the file name. Timestamps are decoded
//! here rather than by `pcap-parser`, whose helpers mishandle power-of-two resolutions.
//!
//! ```
//! use sunpower_pcap::capture::{CaptureReader, Input};
//! use sunpower_pcap::writer::{PcapFormat, PcapWriter};
//!
//! // A one-packet pcap file written in memory, read back.
//! let mut w = PcapWriter::new(Vec::new(), 101, PcapFormat::LE_MICRO).unwrap();
//! let ts = chrono::DateTime::from_timestamp(1_483_809_000, 250_000_000).unwrap();
//! w.write_packet(ts, &[0x45, 0, 0, 20]).unwrap();
//! let bytes = w.into_inner();
//!
//! let mut reader = CaptureReader::new(vec![Input::from_reader("mem", std::io::Cursor::new(bytes))]);
//! let packet = reader.next_packet().unwrap().unwrap();
//! assert_eq!(packet.link_type, 101);
//! assert_eq!(packet.timestamp, ts);
//! assert_eq!(packet.data, &[0x45, 0, 0, 20]);
//! assert!(reader.next_packet().is_none());
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::fs::File;
use std::io::{self, Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use flate2::read::MultiGzDecoder;
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{
    Block, LegacyPcapBlock, LegacyPcapReader, PcapBlockOwned, PcapError, PcapNGReader,
};

/// Initial reader buffer. 64 KiB fails on real files (jumbo frames, large NRBs).
pub const INITIAL_BUFFER_SIZE: usize = 1 << 20;
/// Most bytes one read brings into the buffer: packets are decoded while what was read is
/// still in the CPU's cache (a whole megabyte at a time would have been pushed out of it).
const READ_CHUNK: usize = 128 << 10;
/// The buffer never grows beyond this: a larger block is reported as damage.
pub const MAX_BUFFER_SIZE: usize = 256 << 20;

const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// One capture input: a path or an already open reader, with a display name.
///
/// ```
/// use sunpower_pcap::capture::Input;
/// let input = Input::from_reader("stdin", std::io::empty());
/// assert_eq!(input.name(), "stdin");
/// assert_eq!(input.len(), None);
/// ```
pub struct Input {
    name: String,
    source: Source,
    len: Option<u64>,
}

enum Source {
    Path(PathBuf),
    Reader(Box<dyn Read + Send>),
}

impl fmt::Debug for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Input")
            .field("name", &self.name)
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

impl Input {
    /// A file to open when its turn comes; its size (for progress) is taken now if available.
    ///
    /// ```
    /// use sunpower_pcap::capture::Input;
    /// let input = Input::from_path("/nonexistent/x.pcap");
    /// assert_eq!(input.name(), "/nonexistent/x.pcap");
    /// ```
    pub fn from_path(path: impl AsRef<Path>) -> Input {
        let path = path.as_ref();
        Input {
            name: path.display().to_string(),
            len: std::fs::metadata(path).ok().map(|m| m.len()),
            source: Source::Path(path.to_path_buf()),
        }
    }

    /// Any byte source, e.g. a pipe or a Python file object; `name` is used in messages.
    ///
    /// ```
    /// use sunpower_pcap::capture::Input;
    /// let input = Input::from_reader("data", std::io::Cursor::new(vec![1, 2, 3])).with_len(3);
    /// assert_eq!(input.len(), Some(3));
    /// ```
    pub fn from_reader(name: impl Into<String>, reader: impl Read + Send + 'static) -> Input {
        Input::from_boxed_reader(name, Box::new(reader))
    }

    /// Like [`Input::from_reader`] for an already boxed reader.
    ///
    /// ```
    /// use sunpower_pcap::capture::Input;
    /// let input = Input::from_boxed_reader("boxed", Box::new(std::io::empty()));
    /// assert_eq!(input.name(), "boxed");
    /// ```
    pub fn from_boxed_reader(name: impl Into<String>, reader: Box<dyn Read + Send>) -> Input {
        Input {
            name: name.into(),
            source: Source::Reader(reader),
            len: None,
        }
    }

    /// Standard input, named `-`.
    ///
    /// ```
    /// use sunpower_pcap::capture::Input;
    /// assert_eq!(Input::stdin().name(), "-");
    /// ```
    pub fn stdin() -> Input {
        Input::from_reader("-", io::stdin())
    }

    /// A command-line argument: `-` is standard input, anything else a path.
    ///
    /// ```
    /// use sunpower_pcap::capture::Input;
    /// assert_eq!(Input::from_arg("-").name(), "-");
    /// assert_eq!(Input::from_arg("a.pcap.gz").name(), "a.pcap.gz");
    /// ```
    pub fn from_arg(arg: impl AsRef<std::ffi::OsStr>) -> Input {
        let arg = arg.as_ref();
        if arg == "-" {
            Input::stdin()
        } else {
            Input::from_path(Path::new(arg))
        }
    }

    /// Sets the total size in bytes, for progress reporting.
    ///
    /// ```
    /// use sunpower_pcap::capture::Input;
    /// assert_eq!(Input::stdin().with_len(10).len(), Some(10));
    /// ```
    #[must_use]
    pub fn with_len(mut self, len: u64) -> Input {
        self.len = Some(len);
        self
    }

    /// The name used in messages and [`Packet::input_name`].
    ///
    /// ```
    /// use sunpower_pcap::capture::Input;
    /// assert_eq!(Input::from_path("a.pcap").name(), "a.pcap");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Size in bytes of the input as stored (compressed size for gzip files), if known.
    ///
    /// ```
    /// use sunpower_pcap::capture::Input;
    /// assert_eq!(Input::stdin().len(), None);
    /// ```
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> Option<u64> {
        self.len
    }
}

impl From<&Path> for Input {
    fn from(path: &Path) -> Input {
        Input::from_path(path)
    }
}

impl From<PathBuf> for Input {
    fn from(path: PathBuf) -> Input {
        Input::from_path(path)
    }
}

impl From<&PathBuf> for Input {
    fn from(path: &PathBuf) -> Input {
        Input::from_path(path)
    }
}

/// One captured packet, borrowed from the reader's buffer until the next call to
/// [`CaptureReader::next_packet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Packet<'a> {
    /// Index of the input (0-based) in the rotated set.
    pub input_index: usize,
    /// Name of the input (path as given, or the reader's name), shared: one allocation per
    /// input, so a consumer can tell inputs apart with [`Arc::ptr_eq`].
    pub input_name: &'a Arc<str>,
    /// Packet number within its input, from 1.
    pub file_packet_number: u64,
    /// Packet number across all inputs, from 1.
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
    /// Bytes captured; equals `data.len()`.
    pub caplen: u32,
    /// Length of the packet on the wire, as recorded (can exceed `caplen`: snaplen).
    pub origlen: u32,
    /// Byte offset of the packet's record in the (decompressed) capture stream.
    pub offset: u64,
    /// The link-layer frame as captured.
    pub data: &'a [u8],
}

/// Where an error happened and what it was. Reading goes on after an error unless
/// [`CaptureError::fatal`] is set, in which case the rest of that input is skipped.
#[derive(Debug, thiserror::Error)]
#[error("{}", self.describe())]
pub struct CaptureError {
    /// Index of the input in the rotated set.
    pub input_index: usize,
    /// Name of the input.
    pub input_name: Arc<str>,
    /// Number (from 1) within the input of the packet concerned, or of the next packet when the
    /// error is between packets.
    pub file_packet_number: u64,
    /// Byte offset in the (decompressed) capture stream of the record or header concerned.
    pub offset: u64,
    /// True when reading of this input stopped here.
    pub fatal: bool,
    /// What went wrong.
    #[source]
    pub kind: CaptureErrorKind,
}

impl CaptureError {
    fn describe(&self) -> String {
        format!(
            "{}: packet {}, byte offset {}: {}{}",
            self.input_name,
            self.file_packet_number,
            self.offset,
            self.kind,
            if self.fatal {
                " (rest of this input skipped)"
            } else {
                ""
            }
        )
    }

    /// True when the input could not be read at all (not opened, not a capture, bad header).
    ///
    /// ```
    /// use sunpower_pcap::capture::{CaptureReader, Input};
    /// let mut r = CaptureReader::new(vec![Input::from_path("/nonexistent/file.pcap")]);
    /// let err = r.next_packet().unwrap().unwrap_err();
    /// assert!(err.input_unreadable());
    /// ```
    pub fn input_unreadable(&self) -> bool {
        matches!(
            self.kind,
            CaptureErrorKind::Open(_)
                | CaptureErrorKind::Empty
                | CaptureErrorKind::UnknownFormat { .. }
                | CaptureErrorKind::TruncatedHeader
                | CaptureErrorKind::UnsupportedVersion { .. }
                | CaptureErrorKind::BadHeader(_)
        ) || (self.offset == 0 && self.fatal)
    }
}

/// The reasons a capture could not be read, or a packet was dropped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureErrorKind {
    /// The file could not be opened.
    #[error("cannot open: {0}")]
    Open(#[source] io::Error),
    /// Reading (or decompressing) failed.
    #[error("read error: {0}")]
    Read(#[source] io::Error),
    /// Zero bytes.
    #[error("empty input: no capture file header")]
    Empty,
    /// Neither pcap, pcapng nor gzip.
    #[error("not a pcap or pcapng capture (starts with {magic})")]
    UnknownFormat {
        /// The first bytes, in hex.
        magic: String,
    },
    /// The input ends inside its file or section header.
    #[error("input ends inside its capture file header")]
    TruncatedHeader,
    /// A format version this reader (like libpcap) does not accept.
    #[error("unsupported {format} version {major}.{minor}")]
    UnsupportedVersion {
        /// "pcap" or "pcapng".
        format: &'static str,
        /// Major version.
        major: u16,
        /// Minor version.
        minor: u16,
    },
    /// A file or section header that cannot be right.
    #[error("invalid capture header: {0}")]
    BadHeader(String),
    /// The input ends in the middle of a packet or block (an interrupted capture).
    #[error("capture cut: input ends inside a record ({available} bytes of it present)")]
    Cut {
        /// Bytes of the incomplete record that are present.
        available: usize,
    },
    /// The container structure is damaged.
    #[error("damaged capture: {0}")]
    Damaged(String),
    /// A single block needs more than [`MAX_BUFFER_SIZE`] bytes.
    #[error("record of at least {needed} bytes exceeds the {limit}-byte limit")]
    BlockTooLarge {
        /// Bytes needed.
        needed: usize,
        /// The limit.
        limit: usize,
    },
    /// A pcapng packet refers to an interface not described in its section.
    #[error("packet for interface {if_id}, but the section describes {count} interface(s)")]
    UnknownInterface {
        /// Interface id in the packet block.
        if_id: u32,
        /// Interfaces described so far in the section.
        count: usize,
    },
    /// An interface description block that libpcap would refuse.
    #[error("invalid interface description: {0}")]
    BadInterface(String),
    /// A pcapng input without any interface description block.
    #[error("pcapng input has no interface description block")]
    NoInterface,
    /// The timestamp cannot be represented (far outside years -262143..262142).
    #[error("timestamp out of range")]
    TimestampOutOfRange,
}

/// Running totals over all inputs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Counters {
    /// Bytes read from the inputs as stored (compressed bytes for gzip inputs).
    pub bytes_read: u64,
    /// Bytes of capture data consumed (after decompression).
    pub capture_bytes: u64,
    /// Packets returned.
    pub packets: u64,
    /// pcapng blocks that are not packets and not needed (statistics, name resolution, ...).
    pub blocks_skipped: u64,
    /// Errors returned (fatal or not).
    pub errors: u64,
    /// Inputs started so far (opened or attempted).
    pub inputs_started: u64,
}

/// Progress within the current input, for progress bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress<'a> {
    /// Index of the current input.
    pub input_index: usize,
    /// Its name.
    pub input_name: &'a str,
    /// Its size as stored, if known.
    pub input_len: Option<u64>,
    /// Bytes of it read so far, as stored.
    pub input_bytes_read: u64,
}

/// Splits a pcapng timestamp into whole seconds and nanoseconds, for any `if_tsresol`.
///
/// `tsresol`: high bit clear = 10^-n seconds per unit, high bit set = 2^-n. Never overflows:
/// resolutions finer than a nanosecond round down, and huge exponents give zero seconds.
///
/// ```
/// use sunpower_pcap::capture::split_timestamp;
/// assert_eq!(split_timestamp(1_500_000, 6), (1, 500_000_000));
/// assert_eq!(split_timestamp(3 << 19, 0x80 | 20), (1, 500_000_000)); // 2^-20 units
/// assert_eq!(split_timestamp(u64::MAX, 0xFF), (0, 0)); // 2^-127: under a nanosecond
/// ```
pub fn split_timestamp(ts: u64, tsresol: u8) -> (u64, u32) {
    let n = u32::from(tsresol & 0x7f);
    if tsresol & 0x80 != 0 {
        let secs = if n >= 64 { 0 } else { ts >> n };
        let frac = if n >= 64 {
            u128::from(ts)
        } else {
            u128::from(ts & ((1u64 << n) - 1))
        };
        // frac < 2^64, times 1e9 < 2^94: fits; n <= 127 is a valid u128 shift.
        let nanos = (frac * 1_000_000_000) >> n;
        (secs, nanos as u32)
    } else {
        // u128 holds 10^38; beyond that every u64 timestamp is under a nanosecond anyway.
        if n > 38 {
            return (0, 0);
        }
        let units = 10u128.pow(n);
        let ts = u128::from(ts);
        let secs = ts / units;
        let frac = ts % units;
        let nanos = frac * 1_000_000_000 / units;
        (secs as u64, nanos as u32)
    }
}

/// Turns capture timestamps into `DateTime`s, keeping the date of the last one: packets come
/// thousands a day, and finding the calendar date of a day number is most of chrono's work.
#[derive(Debug, Clone, Copy)]
struct Clock {
    /// Seconds since the Unix epoch at the start (midnight UTC) of `date`.
    day_start: i64,
    date: NaiveDate,
}

impl Clock {
    fn new() -> Clock {
        Clock {
            day_start: 0,
            date: DateTime::UNIX_EPOCH.date_naive(),
        }
    }

    /// The instant `secs` seconds and `nanos` (< 10^9) nanoseconds after the epoch, or `None`
    /// out of chrono's range: exactly `DateTime::from_timestamp`.
    #[inline]
    fn datetime(&mut self, secs: i128, nanos: u32) -> Option<DateTime<Utc>> {
        let secs = i64::try_from(secs).ok()?;
        match secs.checked_sub(self.day_start) {
            Some(second @ 0..86_400) => {
                let time = NaiveTime::from_num_seconds_from_midnight_opt(second as u32, nanos)?;
                Some(self.date.and_time(time).and_utc())
            }
            _ => {
                let t = DateTime::from_timestamp(secs, nanos)?;
                self.day_start = secs - secs.rem_euclid(86_400);
                self.date = t.date_naive();
                Some(t)
            }
        }
    }
}

/// Makes the first read return at least the whole file header (pcap-parser needs it in its
/// first read, which a pipe or a gzip stream does not give in one `read`); later reads return
/// what is available, so a live pipe yields each packet as soon as it arrives.
struct FillingReader<R> {
    inner: R,
    /// Bytes the next read must gather (unless the source ends); 0 after the first read.
    min_fill: usize,
    // pcap-parser turns read errors into a bare ReadError; keep the real one for the message.
    error: Arc<Mutex<Option<io::Error>>>,
    pending_error: Option<io::Error>,
}

impl<R: Read> Read for FillingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(e) = self.pending_error.take() {
            return Err(self.stash(e));
        }
        let target = self.min_fill.min(buf.len()).max(1);
        self.min_fill = 0;
        let limit = buf.len().min(READ_CHUNK.max(target));
        let buf = &mut buf[..limit];
        let mut filled = 0;
        while filled < target && filled < buf.len() {
            match self.inner.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    if filled == 0 {
                        return Err(self.stash(e));
                    }
                    // Hand over what was read first, so the packets before the error decode.
                    self.pending_error = Some(e);
                    break;
                }
            }
        }
        Ok(filled)
    }
}

impl<R> FillingReader<R> {
    fn stash(&self, e: io::Error) -> io::Error {
        let copy = io::Error::new(e.kind(), e.to_string());
        if let Ok(mut slot) = self.error.lock() {
            *slot = Some(e);
        }
        copy
    }
}

/// Counts the bytes read from the stored input (before decompression), for progress.
struct CountingReader<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[derive(Debug, Clone, Copy)]
struct Interface {
    link_type: u32,
    snaplen: u32,
    tsresol: u8,
    tsoffset: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Pcap { nanos: bool },
    PcapNg,
}

/// What the streaming readers read from: the input, its first read filled.
type Filled = FillingReader<Box<dyn Read + Send>>;

/// pcap-parser's two streaming readers behind one type. An enum rather than a
/// `Box<dyn PcapReaderIterator>`: the calls made for every packet (`data`, `next`, `consume`)
/// are then inlined instead of going through a vtable.
enum ContainerReader {
    Pcap(LegacyPcapReader<Filled>),
    PcapNg(PcapNGReader<Filled>),
}

/// Forwards a method call to whichever reader it is.
macro_rules! each_reader {
    ($self:expr, $r:ident => $call:expr) => {
        match $self {
            ContainerReader::Pcap($r) => $call,
            ContainerReader::PcapNg($r) => $call,
        }
    };
}

impl ContainerReader {
    #[inline]
    fn next(&mut self) -> Result<(usize, PcapBlockOwned<'_>), PcapError<&[u8]>> {
        each_reader!(self, r => r.next())
    }
    #[inline]
    fn data(&self) -> &[u8] {
        each_reader!(self, r => r.data())
    }
    #[inline]
    fn consume_noshift(&mut self, n: usize) {
        each_reader!(self, r => r.consume_noshift(n))
    }
    #[inline]
    fn consumed(&self) -> usize {
        each_reader!(self, r => r.consumed())
    }
    fn refill(&mut self) -> Result<(), PcapError<&[u8]>> {
        each_reader!(self, r => r.refill())
    }
    fn grow(&mut self, size: usize) -> bool {
        each_reader!(self, r => r.grow(size))
    }
    fn reader_exhausted(&self) -> bool {
        each_reader!(self, r => r.reader_exhausted())
    }
}

struct FileState {
    reader: ContainerReader,
    format: Format,
    /// pcap: the file's link type; pcapng: the current section's interfaces.
    pcap_link_type: u32,
    /// pcap: the file header has been returned (records follow).
    header_seen: bool,
    ng: NgState,
    pending_consume: usize,
    capacity: usize,
    packets: u64,
    raw_bytes: Arc<AtomicU64>,
    io_error: Arc<Mutex<Option<io::Error>>>,
}

/// pcapng state: interfaces of the current section, and what was seen in the file.
struct NgState {
    interfaces: Vec<Interface>,
    /// Byte order of the current section (pcapng) or of the file's records (pcap).
    big_endian: bool,
    saw_interface: bool,
    last_timestamp: DateTime<Utc>,
    clock: Clock,
}

struct PacketMeta {
    start: usize,
    len: usize,
    timestamp: DateTime<Utc>,
    timestamp_estimated: bool,
    link_type: u32,
    interface_id: u32,
    origlen: u32,
    offset: u64,
    file_packet_number: u64,
}

enum Step {
    Packet(PacketMeta),
    Continue,
    Error(CaptureError),
    EndOfInput,
}

/// Reads a rotated set of capture inputs in order, as one stream of packets.
///
/// ```
/// use sunpower_pcap::capture::{CaptureReader, Input};
/// use sunpower_pcap::writer::{PcapFormat, PcapWriter};
///
/// let file = |payload: u8| {
///     let mut w = PcapWriter::new(Vec::new(), 1, PcapFormat::BE_NANO).unwrap();
///     w.write_packet(chrono::DateTime::UNIX_EPOCH, &[payload; 14]).unwrap();
///     Input::from_reader(format!("part{payload}"), std::io::Cursor::new(w.into_inner()))
/// };
/// let mut reader = CaptureReader::new(vec![file(1), file(2)]);
/// let mut seen = Vec::new();
/// while let Some(packet) = reader.next_packet() {
///     let p = packet.unwrap();
///     seen.push((p.input_index, p.file_packet_number, p.packet_number, p.data[0]));
/// }
/// assert_eq!(seen, vec![(0, 1, 1, 1), (1, 1, 2, 2)]);
/// assert_eq!(reader.counters().packets, 2);
/// ```
pub struct CaptureReader {
    pending: VecDeque<Input>,
    input_count: usize,
    input_lens: Vec<Option<u64>>,
    current: Option<FileState>,
    current_index: usize,
    current_name: Arc<str>,
    started: bool,
    counters: Counters,
    finished_raw_bytes: u64,
    finished_capture_bytes: u64,
}

impl fmt::Debug for CaptureReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaptureReader")
            .field("input_count", &self.input_count)
            .field("current_index", &self.current_index)
            .field("counters", &self.counters())
            .finish_non_exhaustive()
    }
}

impl CaptureReader {
    /// A reader over `inputs`, read in order. Nothing is opened until the first packet is asked.
    ///
    /// ```
    /// use sunpower_pcap::capture::{CaptureReader, Input};
    /// let reader = CaptureReader::new(Vec::<Input>::new());
    /// assert_eq!(reader.input_count(), 0);
    /// ```
    pub fn new<I, T>(inputs: I) -> CaptureReader
    where
        I: IntoIterator<Item = T>,
        T: Into<Input>,
    {
        let pending: VecDeque<Input> = inputs.into_iter().map(Into::into).collect();
        CaptureReader {
            input_count: pending.len(),
            input_lens: pending.iter().map(Input::len).collect(),
            pending,
            current: None,
            current_index: 0,
            current_name: Arc::from(""),
            started: false,
            counters: Counters::default(),
            finished_raw_bytes: 0,
            finished_capture_bytes: 0,
        }
    }

    /// Number of inputs in the set.
    ///
    /// ```
    /// use sunpower_pcap::capture::{CaptureReader, Input};
    /// assert_eq!(CaptureReader::new(vec![Input::stdin()]).input_count(), 1);
    /// ```
    pub fn input_count(&self) -> usize {
        self.input_count
    }

    /// Stored size of each input where known (a progress bar's total).
    ///
    /// ```
    /// use sunpower_pcap::capture::{CaptureReader, Input};
    /// let r = CaptureReader::new(vec![Input::stdin().with_len(5)]);
    /// assert_eq!(r.input_lens(), &[Some(5)]);
    /// ```
    pub fn input_lens(&self) -> &[Option<u64>] {
        &self.input_lens
    }

    /// Totals so far. `counters().inputs_started` grows by one when a new input starts.
    ///
    /// ```
    /// use sunpower_pcap::capture::{CaptureReader, Input};
    /// let r = CaptureReader::new(vec![Input::stdin()]);
    /// assert_eq!(r.counters().inputs_started, 0);
    /// ```
    pub fn counters(&self) -> Counters {
        let mut c = self.counters;
        c.bytes_read = self.finished_raw_bytes;
        c.capture_bytes = self.finished_capture_bytes;
        if let Some(file) = &self.current {
            c.bytes_read += file.raw_bytes.load(Ordering::Relaxed);
            c.capture_bytes += (file.reader.consumed() + file.pending_consume) as u64;
        }
        c
    }

    /// Progress within the input being read, or `None` before the first and after the last.
    ///
    /// ```
    /// use sunpower_pcap::capture::{CaptureReader, Input};
    /// let r = CaptureReader::new(vec![Input::stdin()]);
    /// assert!(r.progress().is_none());
    /// ```
    pub fn progress(&self) -> Option<Progress<'_>> {
        let file = self.current.as_ref()?;
        Some(Progress {
            input_index: self.current_index,
            input_name: &self.current_name,
            input_len: self.input_lens.get(self.current_index).copied().flatten(),
            input_bytes_read: file.raw_bytes.load(Ordering::Relaxed),
        })
    }

    /// The next packet, an error (with its position), or `None` when every input is read.
    ///
    /// After a non-fatal error, the next call goes on with the same input; after a fatal one,
    /// with the next input. The packet borrows the reader until the next call.
    ///
    /// ```
    /// use sunpower_pcap::capture::{CaptureErrorKind, CaptureReader, Input};
    /// let mut r = CaptureReader::new(vec![Input::from_reader("junk", std::io::Cursor::new(b"hello world".to_vec()))]);
    /// let err = r.next_packet().unwrap().unwrap_err();
    /// assert!(matches!(err.kind, CaptureErrorKind::UnknownFormat { .. }));
    /// assert!(r.next_packet().is_none());
    /// ```
    #[inline(always)]
    pub fn next_packet(&mut self) -> Option<Result<Packet<'_>, CaptureError>> {
        if let Some(meta) = self.next_pcap_record() {
            let end = meta.start + meta.len;
            if self
                .current
                .as_ref()
                .is_some_and(|f| f.reader.data().len() >= end)
            {
                return self.packet(meta).map(Ok);
            }
        }
        self.next_block()
    }

    /// The common case, kept small so that it inlines: the next record of a pcap file whose
    /// header was read, complete in the buffer, with a valid timestamp. Anything else (first
    /// record, refill, pcapng, damage, errors) returns `None` having changed nothing but the
    /// consumption of the previous record, and [`next_block`](Self::next_block) handles it.
    #[inline(always)]
    fn next_pcap_record(&mut self) -> Option<PacketMeta> {
        let file = self.current.as_mut()?;
        let (Format::Pcap { nanos }, true) = (file.format, file.header_seen) else {
            return None;
        };
        let ContainerReader::Pcap(reader) = &mut file.reader else {
            return None;
        };
        if file.pending_consume > 0 {
            reader.consume_noshift(file.pending_consume);
            file.pending_consume = 0;
        }
        let offset = reader.consumed() as u64;
        let data = reader.data();
        // A length beyond the limit is reported by the slow path (as damage, before any refill).
        if data.len() < 16 || block_len(&data[4..], file.ng.big_endian) as usize > MAX_BUFFER_SIZE {
            return None;
        }
        let base = data.as_ptr() as usize;
        let Ok((consumed, PcapBlockOwned::Legacy(b))) = reader.next() else {
            return None;
        };
        let mut meta = pcap_record(&mut file.ng.clock, nanos, file.pcap_link_type, &b, base)?;
        file.pending_consume = consumed;
        file.packets += 1;
        meta.offset = offset;
        meta.file_packet_number = file.packets;
        Some(meta)
    }

    /// The packet described by `meta`, from the current input's buffer (counted).
    #[inline(always)]
    fn packet(&mut self, meta: PacketMeta) -> Option<Packet<'_>> {
        self.counters.packets += 1;
        let file = self.current.as_ref()?;
        let data = file.reader.data().get(meta.start..meta.start + meta.len)?;
        Some(Packet {
            input_index: self.current_index,
            input_name: &self.current_name,
            file_packet_number: meta.file_packet_number,
            packet_number: self.counters.packets,
            timestamp: meta.timestamp,
            timestamp_estimated: meta.timestamp_estimated,
            link_type: meta.link_type,
            interface_id: meta.interface_id,
            caplen: meta.len as u32,
            origlen: meta.origlen,
            offset: meta.offset,
            data,
        })
    }

    /// Everything but the common case of [`next_pcap_record`](Self::next_pcap_record): opening
    /// inputs, headers, pcapng blocks, refills, errors, the end.
    #[inline(never)]
    fn next_block(&mut self) -> Option<Result<Packet<'_>, CaptureError>> {
        loop {
            if self.current.is_none() {
                let input = self.pending.pop_front()?;
                if self.started {
                    self.current_index += 1;
                }
                self.started = true;
                self.counters.inputs_started += 1;
                self.current_name = Arc::from(input.name.as_str());
                match open(input) {
                    Ok(state) => self.current = Some(state),
                    Err((kind, raw)) => {
                        self.finished_raw_bytes += raw;
                        return Some(Err(self.error(kind, 0, 1, true)));
                    }
                }
            }
            match self.step() {
                Step::Packet(meta) => {
                    let end = meta.start.saturating_add(meta.len);
                    let in_buffer = self
                        .current
                        .as_ref()
                        .is_some_and(|f| f.reader.data().len() >= end);
                    if !in_buffer {
                        // Cannot happen (packet data is a sub-slice of the reader's buffer), but
                        // an error is better than a panic if pcap-parser ever changes.
                        let kind =
                            CaptureErrorKind::Damaged("packet data outside the buffer".into());
                        let e = self.error(kind, meta.offset, meta.file_packet_number, true);
                        self.close_current();
                        return Some(Err(e));
                    }
                    return self.packet(meta).map(Ok);
                }
                Step::Continue => {}
                Step::Error(e) => {
                    if e.fatal {
                        self.close_current();
                    }
                    return Some(Err(e));
                }
                Step::EndOfInput => self.close_current(),
            }
        }
    }

    fn close_current(&mut self) {
        if let Some(file) = self.current.take() {
            self.finished_raw_bytes += file.raw_bytes.load(Ordering::Relaxed);
            self.finished_capture_bytes += (file.reader.consumed() + file.pending_consume) as u64;
        }
    }

    fn error(
        &mut self,
        kind: CaptureErrorKind,
        offset: u64,
        packet: u64,
        fatal: bool,
    ) -> CaptureError {
        self.counters.errors += 1;
        CaptureError {
            input_index: self.current_index,
            input_name: self.current_name.clone(),
            file_packet_number: packet,
            offset,
            fatal,
            kind,
        }
    }

    /// Advances the current input by one block.
    fn step(&mut self) -> Step {
        let Some(file) = self.current.as_mut() else {
            return Step::EndOfInput;
        };
        if file.pending_consume > 0 {
            // No shift here: pcap-parser's `consume` moves the unread half of the buffer to its front
            // each time the read position passes the middle (a second copy of every byte);
            // `refill` shifts anyway, and then only the incomplete tail is left to move.
            file.reader.consume_noshift(file.pending_consume);
            file.pending_consume = 0;
        }
        let offset = file.reader.consumed() as u64;
        let next_number = file.packets + 1;
        let outcome = classify(file);
        match outcome {
            Outcome::Packet(mut meta) => {
                file.packets += 1;
                meta.offset = offset;
                meta.file_packet_number = file.packets;
                Step::Packet(meta)
            }
            Outcome::Skipped => {
                self.counters.blocks_skipped += 1;
                Step::Continue
            }
            Outcome::Continue => Step::Continue,
            Outcome::PacketError(kind) => {
                file.packets += 1;
                let n = file.packets;
                Step::Error(self.error(kind, offset, n, false))
            }
            Outcome::Fatal(kind) => Step::Error(self.error(kind, offset, next_number, true)),
            Outcome::End => {
                if file.format == Format::PcapNg && !file.ng.saw_interface {
                    // libpcap refuses such files; say so rather than end silently.
                    Step::Error(self.error(
                        CaptureErrorKind::NoInterface,
                        offset,
                        next_number,
                        true,
                    ))
                } else {
                    Step::EndOfInput
                }
            }
        }
    }
}

enum Outcome {
    Packet(PacketMeta),
    Skipped,
    Continue,
    PacketError(CaptureErrorKind),
    Fatal(CaptureErrorKind),
    End,
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Opens an input and its capture header. On failure, also returns the bytes read.
fn open(input: Input) -> Result<FileState, (CaptureErrorKind, u64)> {
    let raw: Box<dyn Read + Send> = match input.source {
        Source::Path(path) => match File::open(&path) {
            Ok(f) => Box::new(f),
            Err(e) => return Err((CaptureErrorKind::Open(e), 0)),
        },
        Source::Reader(r) => r,
    };
    let raw_bytes = Arc::new(AtomicU64::new(0));
    let mut counting = CountingReader {
        inner: raw,
        count: raw_bytes.clone(),
    };
    let fail = |kind, count: &Arc<AtomicU64>| Err((kind, count.load(Ordering::Relaxed)));
    // Enough to recognise gzip, pcap, and a pcapng section header's length and byte order.
    let mut head = [0u8; 16];
    let n = match read_up_to(&mut counting, &mut head) {
        Ok(n) => n,
        Err(e) => return fail(CaptureErrorKind::Read(e), &raw_bytes),
    };
    let replay: Box<dyn Read + Send> = Box::new(Cursor::new(head[..n].to_vec()).chain(counting));
    let (stream, head, n): (Box<dyn Read + Send>, [u8; 16], usize) =
        if n >= 2 && head[..2] == GZIP_MAGIC {
            // MultiGzDecoder: a concatenation of gzip members is one stream (GzDecoder stops
            // after the first).
            let mut gz = MultiGzDecoder::new(replay);
            let mut inner = [0u8; 16];
            let m = match read_up_to(&mut gz, &mut inner) {
                Ok(m) => m,
                Err(e) => return fail(CaptureErrorKind::Read(e), &raw_bytes),
            };
            // Put the bytes read for detection back in front of the decompressed stream.
            let stream = Cursor::new(inner[..m].to_vec()).chain(gz);
            (Box::new(stream), inner, m)
        } else {
            (replay, head, n)
        };
    if n == 0 {
        return fail(CaptureErrorKind::Empty, &raw_bytes);
    }
    if n < 4 {
        return fail(CaptureErrorKind::TruncatedHeader, &raw_bytes);
    }
    let magic = [head[0], head[1], head[2], head[3]];
    let format = match magic {
        PCAPNG_MAGIC => Format::PcapNg,
        [0xd4, 0xc3, 0xb2, 0xa1] | [0xa1, 0xb2, 0xc3, 0xd4] | [0x34, 0xcd, 0xb2, 0xa1] => {
            Format::Pcap { nanos: false }
        }
        [0x4d, 0x3c, 0xb2, 0xa1] | [0xa1, 0xb2, 0x3c, 0x4d] => Format::Pcap { nanos: true },
        _ => {
            return fail(
                CaptureErrorKind::UnknownFormat {
                    magic: hex(&head[..n.min(8)]),
                },
                &raw_bytes,
            )
        }
    };
    let header_len = match format {
        Format::PcapNg => match check_section_header(&head[..n]) {
            Ok(len) => len as usize,
            Err(kind) => return fail(kind, &raw_bytes),
        },
        Format::Pcap { .. } => 24,
    };
    let io_error = Arc::new(Mutex::new(None));
    let filling = FillingReader {
        inner: stream,
        min_fill: header_len,
        error: io_error.clone(),
        pending_error: None,
    };
    let reader = match format {
        Format::PcapNg => {
            PcapNGReader::new(INITIAL_BUFFER_SIZE, filling).map(ContainerReader::PcapNg)
        }
        Format::Pcap { .. } => {
            LegacyPcapReader::new(INITIAL_BUFFER_SIZE, filling).map(ContainerReader::Pcap)
        }
    };
    let reader = match reader {
        Ok(r) => r,
        Err(e) => {
            let kind = match e {
                PcapError::Incomplete(_) | PcapError::Eof | PcapError::UnexpectedEof => {
                    CaptureErrorKind::TruncatedHeader
                }
                PcapError::ReadError => CaptureErrorKind::Read(take_io_error(&io_error)),
                other => CaptureErrorKind::BadHeader(match format {
                    Format::PcapNg => format!("invalid pcapng section header block ({other})"),
                    Format::Pcap { .. } => format!("invalid pcap file header ({other})"),
                }),
            };
            return fail(kind, &raw_bytes);
        }
    };
    Ok(FileState {
        reader,
        format,
        pcap_link_type: 0,
        header_seen: false,
        ng: NgState {
            interfaces: Vec::new(),
            big_endian: false,
            saw_interface: false,
            last_timestamp: DateTime::UNIX_EPOCH,
            clock: Clock::new(),
        },
        pending_consume: 0,
        capacity: INITIAL_BUFFER_SIZE,
        packets: 0,
        raw_bytes,
        io_error,
    })
}

/// libpcap's sanity limit on a section header block's length.
const MAX_SHB_LEN: u32 = 1 << 20;

/// Checks the start of a pcapng section header block: byte-order magic and a sane length.
fn check_section_header(head: &[u8]) -> Result<u32, CaptureErrorKind> {
    if head.len() < 12 {
        return Err(CaptureErrorKind::TruncatedHeader);
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
    let len = block_len(head, big_endian);
    if !(28..=MAX_SHB_LEN).contains(&len) || len % 4 != 0 {
        return Err(CaptureErrorKind::BadHeader(format!(
            "section header block length {len} (must be a multiple of 4 from 28 to {MAX_SHB_LEN})"
        )));
    }
    Ok(len)
}

/// The total-length field of the pcapng block starting at `data` (at least 8 bytes).
fn block_len(data: &[u8], big_endian: bool) -> u32 {
    let b = [data[4], data[5], data[6], data[7]];
    if big_endian {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    }
}

/// Looks at the next pcapng block's length before pcap-parser does: a length under 12 or not
/// a multiple of 4 would otherwise read as a cut file or be silently accepted.
fn check_next_block(file: &FileState, data: &[u8]) -> Result<(), CaptureErrorKind> {
    if let Format::Pcap { .. } = file.format {
        // A record claiming more than the buffer may ever hold is damage: say so now rather
        // than after growing the buffer and reading up to that much.
        if file.header_seen && data.len() >= 16 {
            let caplen = block_len(&data[4..], file.ng.big_endian);
            if caplen as usize > MAX_BUFFER_SIZE {
                return Err(CaptureErrorKind::Damaged(format!(
                    "record claims {caplen} captured bytes (limit {MAX_BUFFER_SIZE})"
                )));
            }
        }
        return Ok(());
    }
    if data.len() < 12 {
        return Ok(());
    }
    if data[..4] == PCAPNG_MAGIC {
        return check_section_header(data).map(|_| ()).map_err(|e| match e {
            CaptureErrorKind::BadHeader(m) => CaptureErrorKind::Damaged(m),
            other => other,
        });
    }
    let len = block_len(data, file.ng.big_endian);
    if len as usize > MAX_BUFFER_SIZE {
        return Err(CaptureErrorKind::Damaged(format!(
            "block length {len} exceeds the {MAX_BUFFER_SIZE}-byte limit"
        )));
    }
    if len < 12 || len % 4 != 0 {
        return Err(CaptureErrorKind::Damaged(format!(
            "block length {len} (must be a multiple of 4, at least 12)"
        )));
    }
    Ok(())
}

fn take_io_error(slot: &Arc<Mutex<Option<io::Error>>>) -> io::Error {
    slot.lock()
        .ok()
        .and_then(|mut s| s.take())
        .unwrap_or_else(|| io::Error::other("read failed"))
}

/// Parses one block of `file` and decides what it means.
fn classify(file: &mut FileState) -> Outcome {
    let data = file.reader.data();
    if let Err(kind) = check_next_block(file, data) {
        return Outcome::Fatal(kind);
    }
    let (base, available) = (data.as_ptr() as usize, data.len());
    match file.reader.next() {
        Ok((consumed, block)) => {
            file.pending_consume = consumed;
            match block {
                PcapBlockOwned::LegacyHeader(h) => {
                    // libpcap accepts 2.0-2.4 and the odd 543.3 of some old systems.
                    let ok = (h.version_major == 2 && h.version_minor <= 4)
                        || (h.version_major == 543 && h.version_minor == 3);
                    if !ok {
                        return Outcome::Fatal(CaptureErrorKind::UnsupportedVersion {
                            format: "pcap",
                            major: h.version_major,
                            minor: h.version_minor,
                        });
                    }
                    let raw = h.network.0 as u32;
                    // Bits 16-25 are reserved; upper bits carry the FCS length.
                    if raw & 0x03ff_0000 != 0 {
                        return Outcome::Fatal(CaptureErrorKind::BadHeader(format!(
                            "link type field {raw:#010x} has reserved bits set"
                        )));
                    }
                    file.pcap_link_type = raw & 0xffff;
                    file.ng.saw_interface = true;
                    // Records use the header's byte order (the modified format is little-endian).
                    file.ng.big_endian = h.is_bigendian();
                    file.header_seen = true;
                    Outcome::Continue
                }
                PcapBlockOwned::Legacy(b) => {
                    let Format::Pcap { nanos } = file.format else {
                        return Outcome::Fatal(CaptureErrorKind::Damaged(
                            "pcap record in a pcapng file".into(),
                        ));
                    };
                    match pcap_record(&mut file.ng.clock, nanos, file.pcap_link_type, &b, base) {
                        Some(meta) => Outcome::Packet(meta),
                        None => Outcome::PacketError(CaptureErrorKind::TimestampOutOfRange),
                    }
                }
                PcapBlockOwned::NG(block) => {
                    if consumed % 4 != 0 {
                        return Outcome::Fatal(CaptureErrorKind::Damaged(format!(
                            "block length {consumed} is not a multiple of 4"
                        )));
                    }
                    classify_ng(&mut file.ng, block, base)
                }
            }
        }
        Err(PcapError::Eof) => Outcome::End,
        Err(PcapError::Incomplete(_)) => refill(file, 0),
        Err(PcapError::BufferTooSmall) => refill(file, available.saturating_add(1)),
        Err(PcapError::UnexpectedEof) => Outcome::Fatal(CaptureErrorKind::Cut { available }),
        Err(PcapError::ReadError) => {
            Outcome::Fatal(CaptureErrorKind::Read(take_io_error(&file.io_error)))
        }
        Err(PcapError::HeaderNotRecognized) => Outcome::Fatal(CaptureErrorKind::Damaged(
            "unrecognised block or record header".into(),
        )),
        Err(PcapError::NomError(_, kind)) | Err(PcapError::OwnedNomError(_, kind)) => {
            Outcome::Fatal(CaptureErrorKind::Damaged(format!(
                "block or record does not parse ({kind:?}: inconsistent lengths?)"
            )))
        }
    }
}

/// The packet a pcap record holds, its data at `base`-relative offsets (its offset in the
/// stream and its number are the caller's to fill in); `None` when its time is out of range.
/// Shared by the fast path and the general one.
#[inline]
fn pcap_record(
    clock: &mut Clock,
    nanos: bool,
    link_type: u32,
    b: &LegacyPcapBlock<'_>,
    base: usize,
) -> Option<PacketMeta> {
    // The sub-second field is in micro- or nanoseconds.
    let frac = if nanos {
        u64::from(b.ts_usec)
    } else {
        u64::from(b.ts_usec) * 1000
    };
    // A fraction of a second or more in the sub-second field: carry it.
    let secs = i128::from(b.ts_sec) + i128::from(frac / 1_000_000_000);
    let timestamp = clock.datetime(secs, (frac % 1_000_000_000) as u32)?;
    Some(PacketMeta {
        start: (b.data.as_ptr() as usize).wrapping_sub(base),
        len: (b.caplen as usize).min(b.data.len()),
        timestamp,
        timestamp_estimated: false,
        link_type,
        interface_id: 0,
        origlen: b.origlen,
        offset: 0,
        file_packet_number: 0,
    })
}

fn meta(
    start: usize,
    len: usize,
    timestamp: DateTime<Utc>,
    timestamp_estimated: bool,
    link_type: u32,
    interface_id: u32,
    origlen: u32,
) -> Outcome {
    Outcome::Packet(PacketMeta {
        start,
        len,
        timestamp,
        timestamp_estimated,
        link_type,
        interface_id,
        origlen,
        offset: 0,
        file_packet_number: 0,
    })
}

/// Reads more input; grows the buffer when a record does not fit (`need_at_least` > 0) or when
/// a refill brings nothing although the input is not exhausted (pcap-parser would otherwise
/// answer Incomplete forever).
fn refill(file: &mut FileState, need_at_least: usize) -> Outcome {
    let before = file.reader.data().len();
    if need_at_least > 0 || before >= file.capacity {
        let needed = need_at_least.max(before + 1);
        if file.capacity >= MAX_BUFFER_SIZE || needed > MAX_BUFFER_SIZE {
            return Outcome::Fatal(CaptureErrorKind::BlockTooLarge {
                needed,
                limit: MAX_BUFFER_SIZE,
            });
        }
        let target = file
            .capacity
            .saturating_mul(2)
            .max(needed)
            .min(MAX_BUFFER_SIZE);
        if !file.reader.grow(target) {
            return Outcome::Fatal(CaptureErrorKind::BlockTooLarge {
                needed,
                limit: MAX_BUFFER_SIZE,
            });
        }
        file.capacity = target;
    }
    if file.reader.refill().is_err() {
        return Outcome::Fatal(CaptureErrorKind::Read(take_io_error(&file.io_error)));
    }
    let after = file.reader.data().len();
    if after == before && !file.reader.reader_exhausted() {
        // Nothing read and not at end: the buffer is full of one incomplete record.
        return refill(file, file.capacity.saturating_add(1));
    }
    Outcome::Continue
}

fn classify_ng(file: &mut NgState, block: Block<'_>, base: usize) -> Outcome {
    match block {
        Block::SectionHeader(shb) => {
            if !(shb.major_version == 1 && (shb.minor_version == 0 || shb.minor_version == 2)) {
                return Outcome::Fatal(CaptureErrorKind::UnsupportedVersion {
                    format: "pcapng",
                    major: shb.major_version,
                    minor: shb.minor_version,
                });
            }
            // Interfaces are numbered per section.
            file.interfaces.clear();
            file.big_endian = shb.big_endian();
            Outcome::Continue
        }
        Block::InterfaceDescription(idb) => {
            match interface_from(&idb, file.big_endian) {
                Ok(iface) => {
                    file.interfaces.push(iface);
                    file.saw_interface = true;
                    Outcome::Continue
                }
                // libpcap refuses the whole file; so do we, rather than misdate packets.
                Err(msg) => Outcome::Fatal(CaptureErrorKind::BadInterface(msg)),
            }
        }
        Block::EnhancedPacket(epb) => {
            let Some(iface) = file.interfaces.get(epb.if_id as usize).copied() else {
                return Outcome::PacketError(CaptureErrorKind::UnknownInterface {
                    if_id: epb.if_id,
                    count: file.interfaces.len(),
                });
            };
            let raw = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
            let (secs, nanos) = split_timestamp(raw, iface.tsresol);
            let Some(ts) = file
                .clock
                .datetime(i128::from(secs) + i128::from(iface.tsoffset), nanos)
            else {
                return Outcome::PacketError(CaptureErrorKind::TimestampOutOfRange);
            };
            file.last_timestamp = ts;
            let len = (epb.caplen as usize).min(epb.data.len());
            meta(
                (epb.data.as_ptr() as usize).wrapping_sub(base),
                len,
                ts,
                false,
                iface.link_type,
                epb.if_id,
                epb.origlen,
            )
        }
        Block::SimplePacket(spb) => {
            let Some(iface) = file.interfaces.first().copied() else {
                return Outcome::PacketError(CaptureErrorKind::UnknownInterface {
                    if_id: 0,
                    count: 0,
                });
            };
            // An SPB's captured length is implied: the original length, cut at the snaplen
            // and at the block's data (which includes padding).
            let mut len = (spb.origlen as usize).min(spb.data.len());
            if iface.snaplen != 0 {
                len = len.min(iface.snaplen as usize);
            }
            meta(
                (spb.data.as_ptr() as usize).wrapping_sub(base),
                len,
                file.last_timestamp,
                true,
                iface.link_type,
                0,
                spb.origlen,
            )
        }
        _ => Outcome::Skipped,
    }
}

/// Validates an IDB's options as libpcap does, and extracts the timestamp parameters.
fn interface_from(
    idb: &pcap_parser::InterfaceDescriptionBlock<'_>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The cached date gives exactly what chrono computes from scratch, packet after packet,
        /// across days, backwards in time, before the epoch and out of chrono's range.
        #[test]
        fn clock_is_from_timestamp(
            stamps in proptest::collection::vec(
                (prop_oneof![
                    -200_000i128..200_000,
                    1_483_800_000i128..1_484_100_000,
                    any::<i64>().prop_map(i128::from),
                    any::<u32>().prop_map(|s| i128::from(s) * 4),
                ], 0u32..1_000_000_000),
                1..60),
        ) {
            let mut clock = Clock::new();
            for (secs, nanos) in stamps {
                let want = i64::try_from(secs).ok().and_then(|s| DateTime::from_timestamp(s, nanos));
                prop_assert_eq!(clock.datetime(secs, nanos), want, "{} {}", secs, nanos);
            }
        }
    }

    #[test]
    fn split_timestamp_handles_extreme_resolutions() {
        assert_eq!(split_timestamp(u64::MAX, 0), (u64::MAX, 0));
        assert_eq!(split_timestamp(u64::MAX, 0x80), (u64::MAX, 0));
        assert_eq!(split_timestamp(1_000_000_123, 9), (1, 123));
        assert_eq!(split_timestamp(u64::MAX, 127), (0, 0));
        assert_eq!(split_timestamp(u64::MAX, 38), (0, 0));
        assert_eq!(
            split_timestamp(0x7fff_ffff_ffff_ffff, 0x80 | 63),
            (0, 999_999_999)
        );
        assert_eq!(split_timestamp(1 << 63, 0x80 | 64), (0, 500_000_000));
    }

    #[test]
    fn filling_reader_fills_the_header_then_returns_what_is_available() {
        struct OneByte(Vec<u8>, usize);
        impl Read for OneByte {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.1 >= self.0.len() || buf.is_empty() {
                    return Ok(0);
                }
                buf[0] = self.0[self.1];
                self.1 += 1;
                Ok(1)
            }
        }
        let mut r = FillingReader {
            inner: OneByte((0..10).collect(), 0),
            min_fill: 8,
            error: Arc::new(Mutex::new(None)),
            pending_error: None,
        };
        let mut buf = [0u8; 8];
        assert_eq!(r.read(&mut buf).unwrap(), 8);
        assert_eq!(r.read(&mut buf).unwrap(), 1);
        assert_eq!(r.read(&mut buf).unwrap(), 1);
        assert_eq!(r.read(&mut buf).unwrap(), 0);
    }
}
