//! [`CaptureReader`]: a rotated set of inputs read one after another as one stream of packets,
//! over `io::Read` (gzip decompressed here), decoded by the [`ContainerDecoder`].

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, Cursor, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use flate2::read::MultiGzDecoder;

use super::container::{ContainerDecoder, Next};
use super::error::{CaptureError, CaptureErrorKind};
use super::input::Input;
use super::{Packet, INITIAL_BUFFER_SIZE, MAX_BUFFER_SIZE};

/// Most bytes one read brings into the buffer: packets are decoded while what was read is
/// still in the CPU's cache (a whole megabyte at a time would have been pushed out of it).
const READ_CHUNK: usize = 128 << 10;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Running totals over all inputs.
///
/// They are in the `details` of `sunpower stats` ([`crate::records::Report`]), but for
/// `packets` and `errors` (the report's `packets` and `capture_errors`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
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
    /// Inputs nothing could be read from ([`CaptureError::input_unreadable`]).
    pub inputs_unreadable: u64,
    /// Inputs whose first packet is older than the latest packet of the inputs before them
    /// ([`CaptureErrorKind::InputOutOfOrder`]).
    pub inputs_out_of_order: u64,
    /// Packets dropped because their time is outside the years 0000 to 9999
    /// ([`CaptureErrorKind::TimestampOutOfRange`]).
    pub timestamps_out_of_range: u64,
}

/// Progress within the current input, for progress bars.
#[derive(Debug, Clone, Copy)]
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

/// The input being read.
struct Source {
    reader: Box<dyn Read + Send>,
    /// Bytes read as stored, shared with the counting reader under the decompressor.
    raw_bytes: Arc<AtomicU64>,
}

/// The bytes read and not consumed yet are `data[start..end]`.
struct Buffer {
    data: Vec<u8>,
    start: usize,
    end: usize,
}

/// What a refill of the buffer gave.
enum Fill {
    /// More bytes (at least as many as were needed, or all there are).
    More,
    /// The input ended, with this error if it did not end cleanly.
    Ended(Option<CaptureError>),
}

/// Reads a rotated set of capture inputs in order, as one stream of packets.
///
/// The format is found from the first bytes, never from the file name. Memory stays constant
/// whatever the size: one buffer of 1 MiB, grown (up to [`MAX_BUFFER_SIZE`])
/// only when a single block is larger. Packets borrow from that buffer:
/// [`next_packet`](Self::next_packet) is a lending iterator, not an [`Iterator`].
///
/// ```
/// use sunpower_pcap::capture::{CaptureReader, Input};
///
/// // Two one-packet pcap files (linktype 1), their headers and records written by hand.
/// let file = |payload: u8| {
///     let mut f = vec![0xa1, 0xb2, 0xc3, 0xd4, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0];
///     f.extend_from_slice(&[0, 0, 0xff, 0xff, 0, 0, 0, 1]);
///     f.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 14, 0, 0, 0, 14]);
///     f.extend_from_slice(&[payload; 14]);
///     Input::from_reader(format!("part{payload}"), std::io::Cursor::new(f))
/// };
/// let mut reader = CaptureReader::new(vec![file(1), file(2)]);
/// let mut seen = Vec::new();
/// while let Some(packet) = reader.next_packet() {
///     let p = packet.unwrap();
///     seen.push((p.input_index, p.packet, p.packet_number, p.data[0]));
/// }
/// assert_eq!(seen, vec![(0, 1, 1, 1), (1, 1, 2, 2)]);
/// assert_eq!(reader.counters().packets, 2);
/// ```
pub struct CaptureReader {
    pending: VecDeque<Input>,
    input_count: usize,
    input_lens: Vec<Option<u64>>,
    /// The decoder of the input being read; idle (stopped) between inputs.
    decoder: ContainerDecoder,
    source: Option<Source>,
    buffer: Buffer,
    /// Inputs started so far; the next one's index.
    started: usize,
    /// Totals of the inputs closed, and the error counts.
    counters: Counters,
    /// The latest packet time of the inputs closed.
    latest: Option<DateTime<Utc>>,
}

impl fmt::Debug for CaptureReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaptureReader")
            .field("input_count", &self.input_count)
            .field("current_index", &self.decoder.input_index())
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
    pub fn new(inputs: Vec<Input>) -> CaptureReader {
        let pending = VecDeque::from(inputs);
        CaptureReader {
            input_count: pending.len(),
            input_lens: pending.iter().map(Input::len).collect(),
            pending,
            decoder: ContainerDecoder::idle(),
            source: None,
            buffer: Buffer {
                data: Vec::new(),
                start: 0,
                end: 0,
            },
            started: 0,
            counters: Counters::default(),
            latest: None,
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
        c.packets += self.decoder.packets();
        c.capture_bytes += self.decoder.offset();
        c.blocks_skipped += self.decoder.blocks_skipped();
        if let Some(source) = &self.source {
            c.bytes_read += source.raw_bytes.load(Ordering::Relaxed);
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
        let source = self.source.as_ref()?;
        let index = self.decoder.input_index();
        Some(Progress {
            input_index: index,
            input_name: self.decoder.input_name(),
            input_len: self.input_lens.get(index).copied().flatten(),
            input_bytes_read: source.raw_bytes.load(Ordering::Relaxed),
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
        let base = self.buffer.start;
        let input = self
            .buffer
            .data
            .get(base..self.buffer.end)
            .unwrap_or_default();
        let (used, next) = self.decoder.next(input);
        self.buffer.start = base + used;
        match next {
            Next::Packet(meta) => {
                let input = self.buffer.data.get(base..).unwrap_or_default();
                Some(Ok(self.decoder.packet(&meta, input)))
            }
            other => self.next_slow(other),
        }
    }

    /// Everything but a packet complete in the buffer: refills, errors, the end of an input,
    /// opening the next.
    #[inline(never)]
    fn next_slow(&mut self, mut next: Next) -> Option<Result<Packet<'_>, CaptureError>> {
        loop {
            match next {
                // Only decoded below, where it is returned.
                Next::Packet(_) => {}
                Next::Error(e) => return Some(Err(self.report(e))),
                Next::NeedMore(needed) => match self.fill(needed) {
                    Fill::More => {}
                    Fill::Ended(Some(e)) => return Some(Err(self.report(e))),
                    Fill::Ended(None) => self.close(),
                },
                Next::Stopped => {
                    self.close();
                    if let Err(e) = self.open_next()? {
                        return Some(Err(self.report(e)));
                    }
                }
            }
            let base = self.buffer.start;
            let input = self
                .buffer
                .data
                .get(base..self.buffer.end)
                .unwrap_or_default();
            let (used, n) = self.decoder.next(input);
            self.buffer.start = base + used;
            if let Next::Packet(meta) = n {
                let input = self.buffer.data.get(base..).unwrap_or_default();
                return Some(Ok(self.decoder.packet(&meta, input)));
            }
            next = n;
        }
    }

    /// Counts an error about to be returned; a fatal one closes its input.
    fn report(&mut self, e: CaptureError) -> CaptureError {
        self.counters.errors += 1;
        match e.kind {
            CaptureErrorKind::InputOutOfOrder { .. } => self.counters.inputs_out_of_order += 1,
            CaptureErrorKind::TimestampOutOfRange { .. } => {
                self.counters.timestamps_out_of_range += 1
            }
            _ => {}
        }
        if e.input_unreadable() {
            self.counters.inputs_unreadable += 1;
        }
        if e.fatal {
            self.close();
        }
        e
    }

    /// Reads until `needed` bytes are unconsumed, or the input ends.
    fn fill(&mut self, needed: usize) -> Fill {
        let Some(source) = self.source.as_mut() else {
            return Fill::Ended(None);
        };
        let buffer = &mut self.buffer;
        if needed > MAX_BUFFER_SIZE {
            // The decoder reports larger blocks itself; this is only a guard.
            return Fill::Ended(Some(self.decoder.stop(super::container::too_large(needed))));
        }
        // The incomplete tail moves to the front, so that reads land where the last ones did
        // (still in the cache), and the buffer grows only for a block larger than it.
        if buffer.start > 0 {
            buffer.data.copy_within(buffer.start..buffer.end, 0);
            buffer.end -= buffer.start;
            buffer.start = 0;
        }
        if buffer.data.len() < needed {
            let size = (buffer.data.len() * 2)
                .max(needed)
                .clamp(INITIAL_BUFFER_SIZE, MAX_BUFFER_SIZE);
            buffer.data.resize(size, 0);
        }
        while buffer.end < needed {
            let limit = (buffer.end + READ_CHUNK.max(needed - buffer.end)).min(buffer.data.len());
            match source.reader.read(&mut buffer.data[buffer.end..limit]) {
                // Fewer bytes than needed, and no more: what the decoder makes of them.
                Ok(0) => return Fill::Ended(self.decoder.finish(&buffer.data[..buffer.end])),
                Ok(n) => buffer.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Fill::Ended(Some(self.decoder.stop(CaptureErrorKind::Read(e)))),
            }
        }
        Fill::More
    }

    /// Ends the input being read (if any), adding its totals.
    fn close(&mut self) {
        let decoder = std::mem::replace(&mut self.decoder, ContainerDecoder::idle());
        self.counters.packets += decoder.packets();
        self.counters.capture_bytes += decoder.offset();
        self.counters.blocks_skipped += decoder.blocks_skipped();
        if let Some(t) = decoder.latest_timestamp() {
            self.latest = Some(self.latest.map_or(t, |l| l.max(t)));
        }
        if let Some(source) = self.source.take() {
            self.counters.bytes_read += source.raw_bytes.load(Ordering::Relaxed);
        }
        self.buffer.start = 0;
        self.buffer.end = 0;
        if self.buffer.data.len() > INITIAL_BUFFER_SIZE {
            // One huge block does not keep its buffer for the inputs after it.
            self.buffer.data = Vec::new();
        }
    }

    /// Starts the next input: opens it and looks for gzip. `None` when there is none, an
    /// error when it cannot be opened or read.
    fn open_next(&mut self) -> Option<Result<(), CaptureError>> {
        let input = self.pending.pop_front()?;
        self.counters.inputs_started += 1;
        let name: Arc<str> = Arc::from(input.name());
        self.decoder =
            ContainerDecoder::in_set(self.started, name, self.counters.packets, self.latest);
        self.started += 1;
        if self.buffer.data.is_empty() {
            self.buffer.data = vec![0; INITIAL_BUFFER_SIZE];
        }
        let raw = match input.open() {
            Ok(raw) => raw,
            Err(e) => return Some(Err(self.decoder.stop(CaptureErrorKind::Open(e)))),
        };
        let raw_bytes = Arc::new(AtomicU64::new(0));
        let mut counting = CountingReader {
            inner: raw,
            count: raw_bytes.clone(),
        };
        let mut head = [0u8; 2];
        let n = match read_up_to(&mut counting, &mut head) {
            Ok(n) => n,
            Err(e) => {
                self.counters.bytes_read += raw_bytes.load(Ordering::Relaxed);
                return Some(Err(self.decoder.stop(CaptureErrorKind::Read(e))));
            }
        };
        let reader: Box<dyn Read + Send> = if head[..n] == GZIP_MAGIC {
            // MultiGzDecoder: a concatenation of gzip members is one stream (GzDecoder stops
            // after the first).
            Box::new(MultiGzDecoder::new(Cursor::new(head).chain(counting)))
        } else {
            self.buffer.data[..n].copy_from_slice(&head[..n]);
            self.buffer.end = n;
            Box::new(counting)
        };
        self.source = Some(Source { reader, raw_bytes });
        Some(Ok(()))
    }
}
