//! What can go wrong reading a capture, and where.

use std::io;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sunpower_proto::rfc3339;

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
    pub packet: u64,
    /// Byte offset in the (decompressed) capture stream of the record or header concerned.
    pub offset: u64,
    /// True when reading of this input stopped here.
    pub fatal: bool,
    /// What went wrong.
    #[source]
    pub kind: CaptureErrorKind,
    /// True when no packet of this input had been returned before this error.
    pub(crate) nothing_read: bool,
}

impl CaptureError {
    fn describe(&self) -> String {
        // About the input as a whole: no packet or offset to give, nothing else to skip.
        if matches!(
            self.kind,
            CaptureErrorKind::Open(_)
                | CaptureErrorKind::Empty
                | CaptureErrorKind::UnknownFormat { .. }
        ) {
            return format!("{}: {}", self.input_name, self.kind);
        }
        format!(
            "{}: packet {}, byte offset {}: {}{}",
            self.input_name,
            self.packet,
            self.offset,
            self.kind,
            if self.fatal {
                " (rest of this input skipped)"
            } else {
                ""
            }
        )
    }

    /// True when the input could not be read at all: not opened, not a capture, a bad header,
    /// or a fatal error before its first packet (a pcapng file that stops at a damaged block
    /// after its headers is no more readable than one whose header is damaged).
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
                | CaptureErrorKind::BadHeader(_)
        ) || (self.fatal && self.nothing_read)
    }
}

/// Inputs of the project that are not captures, told apart by their first bytes, so that an
/// error can say which was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputKind {
    /// A raw collector POST body: a record type, then a TAB.
    PostBody,
    /// A JSON document (a DeviceList, a varserver `/vars` document).
    Json,
}

impl InputKind {
    /// What `start`, the first bytes of an input, looks like, if one of these.
    ///
    /// ```
    /// use sunpower_pcap::capture::InputKind;
    /// assert_eq!(InputKind::of(b"100\tSPMS\t10"), Some(InputKind::PostBody));
    /// assert_eq!(InputKind::of(b"  {\"devices\""), Some(InputKind::Json));
    /// assert_eq!(InputKind::of(b"\xd4\xc3\xb2\xa1"), None);
    /// ```
    pub fn of(start: &[u8]) -> Option<InputKind> {
        let digits = start.iter().take_while(|b| b.is_ascii_digit()).count();
        if (1..=5).contains(&digits) && start.get(digits) == Some(&b'\t') {
            return Some(InputKind::PostBody);
        }
        match start.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{' | b'[') => Some(InputKind::Json),
            _ => None,
        }
    }
}

impl std::fmt::Display for InputKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            InputKind::PostBody => "a raw collector POST body",
            InputKind::Json => "a JSON document",
        })
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
    #[error("not a pcap or pcapng capture (starts with {magic}){}", looks_like.map(|l| format!(": it looks like {l}")).unwrap_or_default())]
    UnknownFormat {
        /// The first bytes, in hex.
        magic: String,
        /// What the bytes look like instead, when they look like another input of ours.
        looks_like: Option<InputKind>,
    },
    /// A file or section header that cannot be read: cut short, of a format version this reader
    /// (like libpcap) does not accept, or with values that cannot be right.
    #[error("invalid capture header: {0}")]
    BadHeader(String),
    /// The input ends in the middle of a packet or block (an interrupted capture).
    #[error("capture cut: input ends inside a record ({available} bytes of it present)")]
    Cut {
        /// Bytes of the incomplete record that are present.
        available: usize,
    },
    /// The container structure is damaged: a block that does not parse or is larger than
    /// [`MAX_BUFFER_SIZE`](super::MAX_BUFFER_SIZE), an interface description libpcap would
    /// refuse, a pcapng input without one, a packet for an interface its section does not
    /// describe.
    #[error("damaged capture: {0}")]
    Damaged(String),
    /// The packet's time is outside the years 0000 to 9999, the only ones RFC 3339 can write
    /// (pcapng timestamps reach far beyond with coarse resolutions or large offsets). The packet
    /// is dropped, not given a made-up time.
    #[error("timestamp {seconds} s from 1970 is outside the years 0000 to 9999 (packet dropped)")]
    TimestampOutOfRange {
        /// The packet's time in whole seconds since the Unix epoch, offset included.
        seconds: i128,
    },
    /// This input's first packet is older than the latest packet of the inputs before it: the
    /// same file given twice, or a rotated set out of order. Its packets are still decoded, but
    /// TCP will take them for retransmissions of what was already read, and drop them.
    #[error(
        "input starts at {}, before the inputs read so far ended ({}): the same capture \
         given twice, or files out of order? Its connections may be lost",
        rfc3339(*.starts),
        rfc3339(*.previous_end)
    )]
    InputOutOfOrder {
        /// Time of this input's first packet.
        starts: DateTime<Utc>,
        /// Time of the latest packet of the earlier inputs.
        previous_end: DateTime<Utc>,
    },
}
