//! Reading capture files: pcap (both byte orders, micro- and nanosecond, the "modified" variant),
//! pcapng (several sections and interfaces), either optionally gzip-compressed, from paths or any
//! reader (standard input, Python file objects), one after another as a rotated set.
//!
//! Two layers, as in `csv-core` and `csv`:
//! - [`ContainerDecoder`] decodes the container from byte slices, with no I/O: it is handed the
//!   bytes not consumed yet and answers a [`Packet`], a positioned [`CaptureError`], or that it
//!   needs more bytes ([`Decoded`]). A file, a live pipe and a Python file object share it.
//! - [`CaptureReader`] is its adapter over [`std::io::Read`]: it opens each [`Input`] of a
//!   rotated set in turn, decompresses gzip, owns the one buffer (1 MiB, grown up to 256 MiB only
//!   for a larger block), and keeps the [`Counters`]. Packets borrow from that buffer:
//!   [`CaptureReader::next_packet`] is a lending iterator, not an [`Iterator`].
//!
//! The format is found from the first bytes, never from the file name. Capture times are
//! decoded here ([`split_timestamp`]) and limited to the years 0000 to 9999, which RFC 3339 can
//! write; a packet outside them is dropped with an error
//! ([`CaptureErrorKind::TimestampOutOfRange`]).
//!
//! ```
//! use sunpower_pcap::capture::{CaptureReader, Input};
//! use sunpower_testkit::{PcapFormat, PcapWriter};
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

mod clock;
mod container;
mod error;
mod input;
mod reader;

pub use clock::split_timestamp;
pub use container::{ContainerDecoder, Decoded, Packet, MAX_INTERFACES};
pub use error::{CaptureError, CaptureErrorKind, InputKind};
pub use input::Input;
pub use reader::{CaptureReader, Counters, Progress};

/// Initial reader buffer. 64 KiB fails on real files (jumbo frames, large NRBs).
pub const INITIAL_BUFFER_SIZE: usize = 1 << 20;
/// No block may be larger: one that is is reported as damage, and the buffer never grows
/// beyond this.
pub const MAX_BUFFER_SIZE: usize = 256 << 20;
