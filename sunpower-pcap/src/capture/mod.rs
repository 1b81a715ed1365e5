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
//! decoded here (any pcapng resolution, decimal or binary) and limited to the years 0000 to 9999, which RFC 3339 can
//! write; a packet outside them is dropped with an error
//! ([`CaptureErrorKind::TimestampOutOfRange`]).
//!
//! ```
//! use sunpower_pcap::capture::{CaptureReader, Input};
//!
//! // The repository's sample capture: pcap, Ethernet, little-endian, microseconds.
//! let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sample.pcap");
//! let mut reader = CaptureReader::new(vec![Input::from_path(sample)]);
//! let packet = reader.next_packet().unwrap().unwrap();
//! assert_eq!((packet.packet, packet.link_type), (1, 1));
//! assert_eq!(packet.timestamp.to_rfc3339(), "2026-06-21T07:00:13+00:00");
//! assert_eq!(packet.data.len(), 71);
//! assert_eq!(packet.data[12..14], [0x08, 0x00]); // EtherType: IPv4
//! let mut packets = 1;
//! while let Some(Ok(_)) = reader.next_packet() {
//!     packets += 1;
//! }
//! assert_eq!(packets, 12_324);
//! assert_eq!(reader.counters().bytes_read, 2_176_359);
//! ```

mod clock;
mod container;
mod error;
mod input;
mod reader;

pub use container::{ContainerDecoder, Decoded, Packet};
pub use error::{CaptureError, CaptureErrorKind, InputKind};
pub use input::Input;
pub use reader::{CaptureReader, Counters, Progress};

/// Initial reader buffer. 64 KiB fails on real files (jumbo frames, large NRBs).
pub(crate) const INITIAL_BUFFER_SIZE: usize = 1 << 20;
/// No block may be larger: one that is is reported as damage, and the buffer never grows
/// beyond this.
pub const MAX_BUFFER_SIZE: usize = 256 << 20;
