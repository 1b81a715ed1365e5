//! The capture test kit of sunpower-rs (not published): a small capture writer and frame
//! builders, used by the integration tests, benchmarks, fuzz seeds and the sample-capture
//! generator. It writes what `sunpower-pcap` reads (pcap in both byte orders and both
//! resolutions, pcapng with several interfaces), builds link / IP / TCP headers with correct
//! lengths and checksums, and plays TCP conversations.
//!
//! It is not a general capture writer: timestamps outside what the format can hold are clamped,
//! and nothing is validated beyond what producing well-formed bytes needs (odd packets are the
//! point). It was `sunpower_pcap::writer` (feature `writer`).
//!
//! ```
//! use sunpower_testkit::{pcap_bytes, Link, PcapFormat, TcpConversation};
//!
//! let mut conv = TcpConversation::new("10.0.0.2:49152".parse().unwrap(), "10.0.0.1:80".parse().unwrap());
//! conv.handshake()
//!     .client_sends(b"POST /SMS2DataCollector.aspx HTTP/1.1\r\n\r\n", &[10, 20])
//!     .server_sends(b"HTTP/1.1 200 OK\r\n\r\n", &[])
//!     .close();
//! let mut frames = conv.into_frames();
//! assert_eq!(frames.len(), 3 + 3 + 1 + 3);
//! frames.swap(3, 4); // reorder two data segments
//! let file = pcap_bytes(Link::ethernet().link_type(), PcapFormat::LE_MICRO, &frames);
//! assert_eq!(&file[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod home;
#[cfg(feature = "mock")]
pub mod mock;

use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use chrono::{DateTime, TimeDelta, Utc};
use flate2::write::GzEncoder;
use flate2::Compression;

pub use sunpower_pcap::ip::{TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN};
use sunpower_pcap::link::linktype;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;

/// Byte order of the headers a writer or frame builder writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endian {
    /// Least significant byte first (what x86 and most ARM machines write).
    Little,
    /// Most significant byte first.
    Big,
}

impl Endian {
    fn is_big(self) -> bool {
        self == Endian::Big
    }
}

/// Byte order and timestamp resolution of a pcap file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PcapFormat {
    /// Big-endian headers.
    pub big_endian: bool,
    /// Nanosecond timestamps (magic a1b23c4d) instead of microseconds (a1b2c3d4).
    pub nanos: bool,
}

impl PcapFormat {
    /// Little-endian, microseconds: what tcpdump writes on x86.
    pub const LE_MICRO: PcapFormat = PcapFormat {
        big_endian: false,
        nanos: false,
    };
    /// Little-endian, nanoseconds.
    pub const LE_NANO: PcapFormat = PcapFormat {
        big_endian: false,
        nanos: true,
    };
    /// Big-endian, microseconds.
    pub const BE_MICRO: PcapFormat = PcapFormat {
        big_endian: true,
        nanos: false,
    };
    /// Big-endian, nanoseconds.
    pub const BE_NANO: PcapFormat = PcapFormat {
        big_endian: true,
        nanos: true,
    };
}

fn u16_bytes(v: u16, be: bool) -> [u8; 2] {
    if be {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    }
}

fn u32_bytes(v: u32, be: bool) -> [u8; 4] {
    if be {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    }
}

fn clamp_secs(ts: DateTime<Utc>) -> u32 {
    ts.timestamp().clamp(0, i64::from(u32::MAX)) as u32
}

/// Writes a pcap file: header at creation, then records.
///
/// ```
/// use sunpower_testkit::{PcapFormat, PcapWriter};
/// let mut w = PcapWriter::new(Vec::new(), 1, PcapFormat::BE_NANO).unwrap();
/// w.write_packet(chrono::DateTime::UNIX_EPOCH, &[0; 60]).unwrap();
/// assert_eq!(w.into_inner().len(), 24 + 16 + 60);
/// ```
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
    format: PcapFormat,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header (snaplen 262144) for `link_type`.
    ///
    /// ```
    /// use sunpower_testkit::{PcapFormat, PcapWriter};
    /// let w = PcapWriter::new(Vec::new(), 101, PcapFormat::LE_NANO).unwrap();
    /// assert_eq!(&w.into_inner()[..4], &[0x4d, 0x3c, 0xb2, 0xa1]);
    /// ```
    pub fn new(out: W, link_type: u32, format: PcapFormat) -> io::Result<Self> {
        Self::with_snaplen(out, link_type, format, 262_144)
    }

    /// Like [`PcapWriter::new`] with a given snaplen in the header (records are not cut: use
    /// [`Frame::truncated`]).
    ///
    /// ```
    /// use sunpower_testkit::{PcapFormat, PcapWriter};
    /// let w = PcapWriter::with_snaplen(Vec::new(), 1, PcapFormat::LE_MICRO, 96).unwrap();
    /// assert_eq!(&w.into_inner()[16..20], &96u32.to_le_bytes());
    /// ```
    pub fn with_snaplen(
        mut out: W,
        link_type: u32,
        format: PcapFormat,
        snaplen: u32,
    ) -> io::Result<Self> {
        let be = format.big_endian;
        let magic: u32 = if format.nanos {
            0xa1b2_3c4d
        } else {
            0xa1b2_c3d4
        };
        out.write_all(&u32_bytes(magic, be))?;
        out.write_all(&u16_bytes(2, be))?;
        out.write_all(&u16_bytes(4, be))?;
        out.write_all(&[0; 8])?; // thiszone, sigfigs
        out.write_all(&u32_bytes(snaplen, be))?;
        out.write_all(&u32_bytes(link_type, be))?;
        Ok(PcapWriter { out, format })
    }

    /// Writes one record whose original length is the frame's length.
    ///
    /// ```
    /// use sunpower_testkit::{PcapFormat, PcapWriter};
    /// let mut w = PcapWriter::new(Vec::new(), 1, PcapFormat::LE_MICRO).unwrap();
    /// w.write_packet(chrono::DateTime::UNIX_EPOCH, b"abc").unwrap();
    /// ```
    pub fn write_packet(&mut self, ts: DateTime<Utc>, frame: &[u8]) -> io::Result<()> {
        self.write_packet_with_origlen(ts, frame, frame.len() as u32)
    }

    /// Writes one record with an explicit original length (snaplen truncation).
    ///
    /// ```
    /// use sunpower_testkit::{PcapFormat, PcapWriter};
    /// let mut w = PcapWriter::new(Vec::new(), 1, PcapFormat::LE_MICRO).unwrap();
    /// w.write_packet_with_origlen(chrono::DateTime::UNIX_EPOCH, b"abc", 1500).unwrap();
    /// ```
    pub fn write_packet_with_origlen(
        &mut self,
        ts: DateTime<Utc>,
        frame: &[u8],
        origlen: u32,
    ) -> io::Result<()> {
        let be = self.format.big_endian;
        let frac = if self.format.nanos {
            ts.timestamp_subsec_nanos()
        } else {
            ts.timestamp_subsec_micros()
        };
        self.out.write_all(&u32_bytes(clamp_secs(ts), be))?;
        self.out.write_all(&u32_bytes(frac, be))?;
        self.out.write_all(&u32_bytes(frame.len() as u32, be))?;
        self.out.write_all(&u32_bytes(origlen, be))?;
        self.out.write_all(frame)
    }

    /// Writes a [`Frame`].
    ///
    /// ```
    /// use sunpower_testkit::{Frame, PcapFormat, PcapWriter};
    /// let mut w = PcapWriter::new(Vec::new(), 1, PcapFormat::LE_MICRO).unwrap();
    /// w.write_frame(&Frame::new(chrono::DateTime::UNIX_EPOCH, vec![1, 2])).unwrap();
    /// ```
    pub fn write_frame(&mut self, frame: &Frame) -> io::Result<()> {
        self.write_packet_with_origlen(frame.timestamp, &frame.data, frame.origlen)
    }

    /// The underlying writer.
    ///
    /// ```
    /// use sunpower_testkit::{PcapFormat, PcapWriter};
    /// let w = PcapWriter::new(Vec::new(), 1, PcapFormat::LE_MICRO).unwrap();
    /// assert_eq!(w.into_inner().len(), 24);
    /// ```
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// Converts a time to pcapng timestamp units for `tsresol` (saturating).
///
/// ```
/// use sunpower_testkit::encode_timestamp;
/// let ts = chrono::DateTime::from_timestamp(1, 500_000_000).unwrap();
/// assert_eq!(encode_timestamp(ts, 6), 1_500_000);
/// assert_eq!(encode_timestamp(ts, 0x80 | 20), 3 << 19);
/// ```
pub fn encode_timestamp(ts: DateTime<Utc>, tsresol: u8) -> u64 {
    let secs = ts.timestamp().max(0) as u128;
    let nanos = u128::from(ts.timestamp_subsec_nanos());
    let n = u32::from(tsresol & 0x7f);
    let units: u128 = if tsresol & 0x80 != 0 {
        if n >= 100 {
            return u64::MAX;
        }
        1u128 << n
    } else {
        match 10u128.checked_pow(n) {
            Some(u) if n <= 30 => u,
            _ => return u64::MAX,
        }
    };
    let value = secs
        .saturating_mul(units)
        .saturating_add(nanos.saturating_mul(units) / 1_000_000_000);
    u64::try_from(value).unwrap_or(u64::MAX)
}

/// Parameters of a pcapng interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InterfaceSpec {
    /// Link type.
    pub link_type: u16,
    /// Snapshot length (0 = none).
    pub snaplen: u32,
    /// `if_tsresol` option (None: absent, meaning 10^-6).
    pub tsresol: Option<u8>,
    /// `if_tsoffset` option in seconds (None: absent).
    pub tsoffset: Option<i64>,
}

impl InterfaceSpec {
    /// An interface of `link_type` with default options.
    ///
    /// ```
    /// use sunpower_testkit::InterfaceSpec;
    /// assert_eq!(InterfaceSpec::new(1).tsresol, None);
    /// ```
    pub fn new(link_type: u16) -> InterfaceSpec {
        InterfaceSpec {
            link_type,
            snaplen: 0,
            tsresol: None,
            tsoffset: None,
        }
    }
}

/// Writes a pcapng file: a section header at creation, then interfaces and packets.
///
/// ```
/// use sunpower_testkit::{Endian, InterfaceSpec, PcapNgWriter};
/// let mut w = PcapNgWriter::new(Vec::new(), Endian::Little).unwrap();
/// let eth = w.add_interface(InterfaceSpec::new(1)).unwrap();
/// let raw = w.add_interface(InterfaceSpec { tsresol: Some(9), ..InterfaceSpec::new(101) }).unwrap();
/// w.write_packet(raw, chrono::DateTime::UNIX_EPOCH, &[0x45]).unwrap();
/// assert_eq!((eth, raw), (0, 1));
/// ```
#[derive(Debug)]
pub struct PcapNgWriter<W: Write> {
    out: W,
    big_endian: bool,
    interfaces: Vec<InterfaceSpec>,
}

impl<W: Write> PcapNgWriter<W> {
    /// Writes a section header block (version 1.0) in the given byte order.
    ///
    /// ```
    /// use sunpower_testkit::{Endian, PcapNgWriter};
    /// let w = PcapNgWriter::new(Vec::new(), Endian::Big).unwrap();
    /// assert_eq!(w.into_inner().len(), 28);
    /// ```
    pub fn new(out: W, endian: Endian) -> io::Result<Self> {
        let mut w = PcapNgWriter {
            out,
            big_endian: endian.is_big(),
            interfaces: Vec::new(),
        };
        w.new_section(endian)?;
        Ok(w)
    }

    /// Starts a new section (interfaces are numbered per section), in the given byte order.
    ///
    /// ```
    /// use sunpower_testkit::{Endian, PcapNgWriter};
    /// let mut w = PcapNgWriter::new(Vec::new(), Endian::Little).unwrap();
    /// w.new_section(Endian::Big).unwrap();
    /// assert_eq!(w.into_inner().len(), 56);
    /// ```
    pub fn new_section(&mut self, endian: Endian) -> io::Result<()> {
        self.big_endian = endian.is_big();
        self.interfaces.clear();
        let be = self.big_endian;
        let mut body = Vec::with_capacity(16);
        body.extend_from_slice(&u32_bytes(0x1a2b_3c4d, be));
        body.extend_from_slice(&u16_bytes(1, be));
        body.extend_from_slice(&u16_bytes(0, be));
        body.extend_from_slice(&[0xff; 8]); // section length unknown
        self.write_block(0x0a0d_0d0a, &body)
    }

    /// Writes an interface description block; returns the interface id.
    ///
    /// ```
    /// use sunpower_testkit::{Endian, InterfaceSpec, PcapNgWriter};
    /// let mut w = PcapNgWriter::new(Vec::new(), Endian::Little).unwrap();
    /// assert_eq!(w.add_interface(InterfaceSpec::new(113)).unwrap(), 0);
    /// ```
    pub fn add_interface(&mut self, spec: InterfaceSpec) -> io::Result<u32> {
        let be = self.big_endian;
        let mut body = Vec::new();
        body.extend_from_slice(&u16_bytes(spec.link_type, be));
        body.extend_from_slice(&[0, 0]);
        body.extend_from_slice(&u32_bytes(spec.snaplen, be));
        if let Some(r) = spec.tsresol {
            push_option(&mut body, 9, &[r], be);
        }
        if let Some(off) = spec.tsoffset {
            let bytes = if be {
                off.to_be_bytes()
            } else {
                off.to_le_bytes()
            };
            push_option(&mut body, 14, &bytes, be);
        }
        if spec.tsresol.is_some() || spec.tsoffset.is_some() {
            push_option(&mut body, 0, &[], be);
        }
        self.write_block(1, &body)?;
        self.interfaces.push(spec);
        Ok(self.interfaces.len() as u32 - 1)
    }

    /// Writes an enhanced packet block; the original length is the frame's.
    ///
    /// ```
    /// use sunpower_testkit::{Endian, InterfaceSpec, PcapNgWriter};
    /// let mut w = PcapNgWriter::new(Vec::new(), Endian::Little).unwrap();
    /// w.add_interface(InterfaceSpec::new(1)).unwrap();
    /// w.write_packet(0, chrono::DateTime::UNIX_EPOCH, &[0; 3]).unwrap();
    /// ```
    pub fn write_packet(&mut self, if_id: u32, ts: DateTime<Utc>, frame: &[u8]) -> io::Result<()> {
        self.write_epb(if_id, ts, frame, frame.len() as u32)
    }

    /// Writes an enhanced packet block with an explicit original length. An `if_id` with no
    /// interface is written as given (to test readers), with microsecond units.
    ///
    /// ```
    /// use sunpower_testkit::{Endian, InterfaceSpec, PcapNgWriter};
    /// let mut w = PcapNgWriter::new(Vec::new(), Endian::Little).unwrap();
    /// w.add_interface(InterfaceSpec::new(1)).unwrap();
    /// w.write_epb(0, chrono::DateTime::UNIX_EPOCH, &[0; 3], 60).unwrap();
    /// ```
    pub fn write_epb(
        &mut self,
        if_id: u32,
        ts: DateTime<Utc>,
        frame: &[u8],
        origlen: u32,
    ) -> io::Result<()> {
        let be = self.big_endian;
        let spec = self.interfaces.get(if_id as usize).copied();
        let tsresol = spec.and_then(|s| s.tsresol).unwrap_or(6);
        let offset = spec.and_then(|s| s.tsoffset).unwrap_or(0);
        let shifted = ts
            .checked_sub_signed(TimeDelta::seconds(offset))
            .unwrap_or(ts);
        let units = encode_timestamp(shifted, tsresol);
        let mut body = Vec::with_capacity(20 + frame.len() + 3);
        body.extend_from_slice(&u32_bytes(if_id, be));
        body.extend_from_slice(&u32_bytes((units >> 32) as u32, be));
        body.extend_from_slice(&u32_bytes(units as u32, be));
        body.extend_from_slice(&u32_bytes(frame.len() as u32, be));
        body.extend_from_slice(&u32_bytes(origlen, be));
        body.extend_from_slice(frame);
        pad4(&mut body);
        self.write_block(6, &body)
    }

    /// Writes a [`Frame`] as an enhanced packet block.
    ///
    /// ```
    /// use sunpower_testkit::{Endian, Frame, InterfaceSpec, PcapNgWriter};
    /// let mut w = PcapNgWriter::new(Vec::new(), Endian::Little).unwrap();
    /// w.add_interface(InterfaceSpec::new(1)).unwrap();
    /// w.write_frame(0, &Frame::new(chrono::DateTime::UNIX_EPOCH, vec![0; 14])).unwrap();
    /// ```
    pub fn write_frame(&mut self, if_id: u32, frame: &Frame) -> io::Result<()> {
        self.write_epb(if_id, frame.timestamp, &frame.data, frame.origlen)
    }

    /// Writes a simple packet block (no timestamp, interface 0).
    ///
    /// ```
    /// use sunpower_testkit::{Endian, InterfaceSpec, PcapNgWriter};
    /// let mut w = PcapNgWriter::new(Vec::new(), Endian::Little).unwrap();
    /// w.add_interface(InterfaceSpec::new(101)).unwrap();
    /// w.write_spb(&[0x45, 0, 0, 20]).unwrap();
    /// ```
    pub fn write_spb(&mut self, frame: &[u8]) -> io::Result<()> {
        let mut body = Vec::with_capacity(4 + frame.len() + 3);
        body.extend_from_slice(&u32_bytes(frame.len() as u32, self.big_endian));
        body.extend_from_slice(frame);
        pad4(&mut body);
        self.write_block(3, &body)
    }

    /// Writes any block: type, lengths and padding around `body`.
    ///
    /// ```
    /// use sunpower_testkit::{Endian, PcapNgWriter};
    /// let mut w = PcapNgWriter::new(Vec::new(), Endian::Little).unwrap();
    /// w.write_block(5, &[0; 8]).unwrap(); // an interface statistics-like block
    /// assert_eq!(w.into_inner().len(), 28 + 20);
    /// ```
    pub fn write_block(&mut self, block_type: u32, body: &[u8]) -> io::Result<()> {
        let be = self.big_endian;
        let padded = body.len().div_ceil(4) * 4;
        let total = (padded + 12) as u32;
        self.out.write_all(&u32_bytes(block_type, be))?;
        self.out.write_all(&u32_bytes(total, be))?;
        self.out.write_all(body)?;
        self.out.write_all(&[0; 3][..padded - body.len()])?;
        self.out.write_all(&u32_bytes(total, be))
    }

    /// The underlying writer.
    ///
    /// ```
    /// use sunpower_testkit::{Endian, PcapNgWriter};
    /// assert_eq!(&PcapNgWriter::new(Vec::new(), Endian::Little).unwrap().into_inner()[..4], &[0x0a, 0x0d, 0x0d, 0x0a]);
    /// ```
    pub fn into_inner(self) -> W {
        self.out
    }
}

fn pad4(v: &mut Vec<u8>) {
    while !v.len().is_multiple_of(4) {
        v.push(0);
    }
}

fn push_option(body: &mut Vec<u8>, code: u16, value: &[u8], be: bool) {
    body.extend_from_slice(&u16_bytes(code, be));
    body.extend_from_slice(&u16_bytes(value.len() as u16, be));
    body.extend_from_slice(value);
    pad4(body);
}

/// Gzip-compresses `bytes` (one member). Concatenate two results for a multi-member file.
///
/// ```
/// let gz = sunpower_testkit::gzip(b"hello");
/// assert_eq!(&gz[..2], &[0x1f, 0x8b]);
/// ```
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(bytes);
    enc.finish().unwrap_or_default()
}

/// One frame to write: time, captured bytes and original length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Capture time.
    pub timestamp: DateTime<Utc>,
    /// Captured bytes.
    pub data: Vec<u8>,
    /// Original length on the wire.
    pub origlen: u32,
}

impl Frame {
    /// A complete frame.
    ///
    /// ```
    /// use sunpower_testkit::Frame;
    /// assert_eq!(Frame::new(chrono::DateTime::UNIX_EPOCH, vec![1, 2, 3]).origlen, 3);
    /// ```
    pub fn new(timestamp: DateTime<Utc>, data: Vec<u8>) -> Frame {
        let origlen = data.len() as u32;
        Frame {
            timestamp,
            data,
            origlen,
        }
    }

    /// The frame as captured with `snaplen`: data cut, original length kept.
    ///
    /// ```
    /// use sunpower_testkit::Frame;
    /// let f = Frame::new(chrono::DateTime::UNIX_EPOCH, vec![0; 100]).truncated(60);
    /// assert_eq!((f.data.len(), f.origlen), (60, 100));
    /// ```
    #[must_use]
    pub fn truncated(mut self, snaplen: usize) -> Frame {
        self.data.truncate(snaplen);
        self
    }
}

/// A whole pcap file holding `frames`.
///
/// ```
/// use sunpower_testkit::{pcap_bytes, Frame, PcapFormat};
/// let f = Frame::new(chrono::DateTime::UNIX_EPOCH, vec![0; 4]);
/// assert_eq!(pcap_bytes(101, PcapFormat::LE_MICRO, &[f]).len(), 24 + 16 + 4);
/// ```
pub fn pcap_bytes(link_type: u32, format: PcapFormat, frames: &[Frame]) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    if let Ok(mut w) = PcapWriter::new(&mut out, link_type, format) {
        for f in frames {
            let _ = w.write_frame(f);
        }
    }
    out
}

/// A whole little-endian pcapng file with one interface holding `frames`.
///
/// ```
/// use sunpower_testkit::{pcapng_bytes, Frame};
/// let f = Frame::new(chrono::DateTime::UNIX_EPOCH, vec![0; 4]);
/// assert_eq!(&pcapng_bytes(1, Some(9), &[f])[..4], &[0x0a, 0x0d, 0x0d, 0x0a]);
/// ```
pub fn pcapng_bytes(link_type: u16, tsresol: Option<u8>, frames: &[Frame]) -> Vec<u8> {
    let mut out = Vec::new();
    if let Ok(mut w) = PcapNgWriter::new(&mut out, Endian::Little) {
        let spec = InterfaceSpec {
            tsresol,
            ..InterfaceSpec::new(link_type)
        };
        if w.add_interface(spec).is_ok() {
            for f in frames {
                let _ = w.write_frame(0, f);
            }
        }
    }
    out
}

/// A VLAN-like tag for [`ethernet_frame`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VlanTag {
    /// Tag protocol identifier: 0x8100 (802.1Q) or 0x88a8 (802.1ad).
    pub tpid: u16,
    /// VLAN id (12 bits).
    pub vid: u16,
}

/// An Ethernet II frame with optional VLAN tags (outermost first).
///
/// ```
/// use sunpower_testkit::{ethernet_frame, VlanTag};
/// let f = ethernet_frame([1; 6], [2; 6], &[VlanTag { tpid: 0x8100, vid: 5 }], 0x0800, &[0x45]);
/// assert_eq!(f.len(), 14 + 4 + 1);
/// ```
pub fn ethernet_frame(
    dst: [u8; 6],
    src: [u8; 6],
    vlans: &[VlanTag],
    ethertype: u16,
    payload: &[u8],
) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + 4 * vlans.len() + payload.len());
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    for tag in vlans {
        f.extend_from_slice(&tag.tpid.to_be_bytes());
        f.extend_from_slice(&(tag.vid & 0x0fff).to_be_bytes());
    }
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// A Linux cooked capture v1 frame (link type 113).
///
/// ```
/// assert_eq!(sunpower_testkit::linux_sll_frame(0x0800, &[0x45]).len(), 17);
/// ```
pub fn linux_sll_frame(protocol: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(16 + payload.len());
    f.extend_from_slice(&0u16.to_be_bytes()); // packet to us
    f.extend_from_slice(&1u16.to_be_bytes()); // ARPHRD_ETHER
    f.extend_from_slice(&6u16.to_be_bytes());
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, 1, 0, 0]);
    f.extend_from_slice(&protocol.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// A Linux cooked capture v2 frame (link type 276).
///
/// ```
/// assert_eq!(sunpower_testkit::linux_sll2_frame(0x86dd, &[0x60]).len(), 21);
/// ```
pub fn linux_sll2_frame(protocol: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(20 + payload.len());
    f.extend_from_slice(&protocol.to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(&2u32.to_be_bytes()); // interface index
    f.extend_from_slice(&1u16.to_be_bytes()); // ARPHRD_ETHER
    f.push(0); // packet to us
    f.push(6);
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, 1, 0, 0]);
    f.extend_from_slice(payload);
    f
}

/// A BSD null loopback frame (link type 0): the family in the capturing machine's byte order.
///
/// ```
/// use sunpower_testkit::{null_frame, Endian};
/// assert_eq!(&null_frame(2, Endian::Big, &[])[..], &[0, 0, 0, 2]);
/// ```
pub fn null_frame(family: u32, endian: Endian, payload: &[u8]) -> Vec<u8> {
    let mut f = u32_bytes(family, endian.is_big()).to_vec();
    f.extend_from_slice(payload);
    f
}

/// An OpenBSD loop frame (link type 108): the family big-endian.
///
/// ```
/// assert_eq!(&sunpower_testkit::loop_frame(24, &[])[..], &[0, 0, 0, 24]);
/// ```
pub fn loop_frame(family: u32, payload: &[u8]) -> Vec<u8> {
    null_frame(family, Endian::Big, payload)
}

/// The Internet checksum of `data` with an initial sum.
fn checksum(initial: u32, data: &[u8]) -> u16 {
    let mut sum = initial;
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum = sum.wrapping_add(u32::from(u16::from_be_bytes([c[0], c[1]])));
    }
    if let [last] = chunks.remainder() {
        sum = sum.wrapping_add(u32::from(*last) << 8);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// IPv4 header fields for [`ipv4_packet`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv4Options {
    /// Identification.
    pub id: u16,
    /// Time to live.
    pub ttl: u8,
    /// Don't-fragment flag.
    pub dont_fragment: bool,
    /// More-fragments flag.
    pub more_fragments: bool,
    /// Fragment offset in bytes (a multiple of 8).
    pub fragment_offset: u16,
    /// Raw IP options, zero-padded to a multiple of 4 (at most 40 bytes are kept).
    pub options: Vec<u8>,
}

impl Default for Ipv4Options {
    fn default() -> Self {
        Ipv4Options {
            id: 1,
            ttl: 64,
            dont_fragment: true,
            more_fragments: false,
            fragment_offset: 0,
            options: Vec::new(),
        }
    }
}

/// An IPv4 packet with correct lengths and header checksum.
///
/// ```
/// use std::net::Ipv4Addr;
/// use sunpower_testkit::{ipv4_packet, Ipv4Options};
/// let opts = Ipv4Options { options: vec![1, 1, 1, 0], ..Ipv4Options::default() };
/// let p = ipv4_packet(Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST, 17, b"x", &opts);
/// assert_eq!(p[0], 0x46); // header of 24 bytes
/// assert_eq!(p.len(), 25);
/// ```
pub fn ipv4_packet(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    protocol: u8,
    payload: &[u8],
    opts: &Ipv4Options,
) -> Vec<u8> {
    let mut options = opts.options.clone();
    options.truncate(40);
    pad4(&mut options);
    let ihl = 20 + options.len();
    let total = (ihl + payload.len()).min(0xffff) as u16;
    let mut p = Vec::with_capacity(ihl + payload.len());
    p.push(0x40 | (ihl / 4) as u8);
    p.push(0);
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&opts.id.to_be_bytes());
    let mut frag = (opts.fragment_offset / 8) & 0x1fff;
    if opts.dont_fragment {
        frag |= 0x4000;
    }
    if opts.more_fragments {
        frag |= 0x2000;
    }
    p.extend_from_slice(&frag.to_be_bytes());
    p.push(opts.ttl);
    p.push(protocol);
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(&options);
    let sum = checksum(0, &p[..ihl]);
    p[10..12].copy_from_slice(&sum.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// An IPv6 extension header for [`ipv6_packet`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ipv6Extension {
    /// Hop-by-hop options (padding only), `units` × 8 bytes.
    HopByHop {
        /// Length in 8-byte units (at least 1).
        units: u8,
    },
    /// Routing header (type 0 with no addresses left), `units` × 8 bytes.
    Routing {
        /// Length in 8-byte units (at least 1).
        units: u8,
    },
    /// Destination options (padding only), `units` × 8 bytes.
    DestinationOptions {
        /// Length in 8-byte units (at least 1).
        units: u8,
    },
    /// Fragment header.
    Fragment {
        /// Offset in bytes (a multiple of 8).
        offset: u16,
        /// More fragments.
        more: bool,
    },
    /// Authentication header with `icv_words` 4-byte words of ICV.
    Authentication {
        /// ICV length in 4-byte words (an even number keeps 8-byte alignment).
        icv_words: u8,
    },
}

impl Ipv6Extension {
    fn code(&self) -> u8 {
        match self {
            Ipv6Extension::HopByHop { .. } => 0,
            Ipv6Extension::Routing { .. } => 43,
            Ipv6Extension::DestinationOptions { .. } => 60,
            Ipv6Extension::Fragment { .. } => 44,
            Ipv6Extension::Authentication { .. } => 51,
        }
    }

    fn bytes(&self, next: u8) -> Vec<u8> {
        match *self {
            Ipv6Extension::HopByHop { units }
            | Ipv6Extension::Routing { units }
            | Ipv6Extension::DestinationOptions { units } => {
                let units = units.max(1);
                let mut b = vec![0u8; usize::from(units) * 8];
                b[0] = next;
                b[1] = units - 1;
                if let Ipv6Extension::Routing { .. } = self {
                    b[2] = 0; // routing type
                    b[3] = 0; // segments left
                } else {
                    // PadN option covering the rest.
                    b[2] = 1;
                    b[3] = (b.len() - 4) as u8;
                }
                b
            }
            Ipv6Extension::Fragment { offset, more } => {
                let field = (offset & !7) | u16::from(more);
                let mut b = vec![next, 0];
                b.extend_from_slice(&field.to_be_bytes());
                b.extend_from_slice(&0x1234_5678u32.to_be_bytes());
                b
            }
            Ipv6Extension::Authentication { icv_words } => {
                let len = (usize::from(icv_words) + 3) * 4;
                let mut b = vec![0u8; len];
                b[0] = next;
                b[1] = icv_words + 1;
                b
            }
        }
    }
}

/// An IPv6 packet with the given extension headers (in order) before `payload`.
///
/// ```
/// use std::net::Ipv6Addr;
/// use sunpower_testkit::{ipv6_packet, Ipv6Extension};
/// let p = ipv6_packet(Ipv6Addr::LOCALHOST, Ipv6Addr::LOCALHOST, 6,
///     &[Ipv6Extension::HopByHop { units: 1 }], &[0; 20]);
/// assert_eq!(p[6], 0); // next header: hop-by-hop
/// assert_eq!(p.len(), 40 + 8 + 20);
/// ```
pub fn ipv6_packet(
    src: Ipv6Addr,
    dst: Ipv6Addr,
    protocol: u8,
    extensions: &[Ipv6Extension],
    payload: &[u8],
) -> Vec<u8> {
    let mut chain = Vec::new();
    for (i, ext) in extensions.iter().enumerate() {
        let next = extensions.get(i + 1).map_or(protocol, Ipv6Extension::code);
        chain.extend_from_slice(&ext.bytes(next));
    }
    let first = extensions.first().map_or(protocol, Ipv6Extension::code);
    let plen = (chain.len() + payload.len()).min(0xffff) as u16;
    let mut p = Vec::with_capacity(40 + chain.len() + payload.len());
    p.extend_from_slice(&[0x60, 0, 0, 0]);
    p.extend_from_slice(&plen.to_be_bytes());
    p.push(first);
    p.push(64);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(&chain);
    p.extend_from_slice(payload);
    p
}

/// An IP packet of the addresses' family (IPv4 if both are IPv4, else IPv6, mapping IPv4).
///
/// ```
/// use sunpower_testkit::ip_packet;
/// let p = ip_packet("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap(), 6, &[0; 20]);
/// assert_eq!(p[0] >> 4, 4);
/// ```
pub fn ip_packet(src: IpAddr, dst: IpAddr, protocol: u8, payload: &[u8]) -> Vec<u8> {
    ip_packet_with_id(src, dst, protocol, payload, 1)
}

fn ip_packet_with_id(src: IpAddr, dst: IpAddr, protocol: u8, payload: &[u8], id: u16) -> Vec<u8> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let opts = Ipv4Options {
                id,
                ..Ipv4Options::default()
            };
            ipv4_packet(s, d, protocol, payload, &opts)
        }
        _ => ipv6_packet(v6(src), v6(dst), protocol, &[], payload),
    }
}

fn v6(a: IpAddr) -> Ipv6Addr {
    match a {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

/// The header fields of a segment for [`tcp_segment`]: from and to which address and port,
/// sequence and acknowledgement numbers, flags and raw options. Start from [`TcpHeader::new`]
/// and set the fields that matter.
///
/// ```
/// use sunpower_testkit::{TCP_SYN, TcpHeader};
/// let syn = TcpHeader {
///     seq: 1,
///     flags: TCP_SYN,
///     ..TcpHeader::new("10.0.0.1:1234".parse().unwrap(), "10.0.0.2:80".parse().unwrap())
/// };
/// assert_eq!((syn.ack, syn.options.len()), (0, 0));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpHeader {
    /// Source address and port.
    pub src: SocketAddr,
    /// Destination address and port.
    pub dst: SocketAddr,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number, written as given (whether `flags` has ACK or not).
    pub ack: u32,
    /// Flags.
    pub flags: u8,
    /// Raw TCP options, zero-padded to a multiple of 4 (at most 40 bytes are kept).
    pub options: Vec<u8>,
}

impl TcpHeader {
    /// A header from `src` to `dst` with sequence and acknowledgement numbers 0, no flags and no
    /// options.
    ///
    /// ```
    /// use sunpower_testkit::TcpHeader;
    /// let h = TcpHeader::new("10.0.0.1:1234".parse().unwrap(), "10.0.0.2:80".parse().unwrap());
    /// assert_eq!((h.seq, h.flags), (0, 0));
    /// ```
    pub fn new(src: SocketAddr, dst: SocketAddr) -> TcpHeader {
        TcpHeader {
            src,
            dst,
            seq: 0,
            ack: 0,
            flags: 0,
            options: Vec::new(),
        }
    }
}

/// A TCP segment: `header` (20 bytes and its options) and `payload`, with its checksum over the
/// pseudo-header of the addresses' family (IPv4 if both are IPv4, else IPv6, mapping IPv4).
///
/// ```
/// use sunpower_testkit::{tcp_segment, TCP_SYN, TcpHeader};
/// let (client, server) = ("10.0.0.1:1234".parse().unwrap(), "10.0.0.2:80".parse().unwrap());
/// let s = tcp_segment(&TcpHeader { seq: 1, flags: TCP_SYN, ..TcpHeader::new(client, server) }, &[]);
/// assert_eq!(s.len(), 20);
/// assert_eq!(s[13], 0x02);
/// let mss = TcpHeader { options: vec![2, 4, 0x05, 0xb4], ..TcpHeader::new(client, server) };
/// assert_eq!(tcp_segment(&mss, &[])[12] >> 4, 6); // a header of 24 bytes
/// ```
pub fn tcp_segment(header: &TcpHeader, payload: &[u8]) -> Vec<u8> {
    let TcpHeader {
        src,
        dst,
        seq,
        ack,
        flags,
        ref options,
    } = *header;
    let (src_port, dst_port) = (src.port(), dst.port());
    let (src, dst) = (src.ip(), dst.ip());
    let mut opts = options.clone();
    opts.truncate(40);
    pad4(&mut opts);
    let hlen = 20 + opts.len();
    let mut s = Vec::with_capacity(hlen + payload.len());
    s.extend_from_slice(&src_port.to_be_bytes());
    s.extend_from_slice(&dst_port.to_be_bytes());
    s.extend_from_slice(&seq.to_be_bytes());
    s.extend_from_slice(&ack.to_be_bytes());
    s.push(((hlen / 4) as u8) << 4);
    s.push(flags);
    s.extend_from_slice(&65535u16.to_be_bytes());
    s.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
    s.extend_from_slice(&opts);
    s.extend_from_slice(payload);
    let len = s.len() as u32;
    let pseudo = match (src, dst) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mut p = Vec::with_capacity(12);
            p.extend_from_slice(&a.octets());
            p.extend_from_slice(&b.octets());
            p.extend_from_slice(&[0, 6]);
            p.extend_from_slice(&(len as u16).to_be_bytes());
            p
        }
        _ => {
            let mut p = Vec::with_capacity(40);
            p.extend_from_slice(&v6(src).octets());
            p.extend_from_slice(&v6(dst).octets());
            p.extend_from_slice(&len.to_be_bytes());
            p.extend_from_slice(&[0, 0, 0, 6]);
            p
        }
    };
    let partial = !checksum(0, &pseudo);
    let sum = checksum(u32::from(partial), &s);
    s[16..18].copy_from_slice(&sum.to_be_bytes());
    s
}

/// How IP packets are framed for a capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// Ethernet II with VLAN tags (outermost first).
    Ethernet {
        /// Tags.
        vlans: Vec<VlanTag>,
    },
    /// Linux cooked capture v1.
    LinuxSll,
    /// Linux cooked capture v2.
    LinuxSll2,
    /// Raw IP under the given link type (101, 12, 14, 228 or 229).
    Raw {
        /// Link type to declare.
        link_type: u32,
    },
    /// BSD null loopback in the given byte order (IPv6 written as family 30, as on macOS).
    Null {
        /// Big-endian family field.
        big_endian: bool,
    },
    /// OpenBSD loop (IPv6 as family 24).
    Loop,
}

impl Link {
    /// Plain Ethernet.
    ///
    /// ```
    /// assert_eq!(sunpower_testkit::Link::ethernet().link_type(), 1);
    /// ```
    pub fn ethernet() -> Link {
        Link::Ethernet { vlans: Vec::new() }
    }

    /// The `LINKTYPE_*` value to write in the capture header.
    ///
    /// ```
    /// assert_eq!(sunpower_testkit::Link::LinuxSll2.link_type(), 276);
    /// ```
    pub fn link_type(&self) -> u32 {
        match self {
            Link::Ethernet { .. } => linktype::ETHERNET,
            Link::LinuxSll => linktype::LINUX_SLL,
            Link::LinuxSll2 => linktype::LINUX_SLL2,
            Link::Raw { link_type } => *link_type,
            Link::Null { .. } => linktype::NULL,
            Link::Loop => linktype::LOOP,
        }
    }

    /// Frames an IP packet (its version is read from the first nibble).
    ///
    /// ```
    /// use sunpower_testkit::Link;
    /// assert_eq!(Link::Loop.frame(&[0x60]), vec![0, 0, 0, 24, 0x60]);
    /// ```
    pub fn frame(&self, ip: &[u8]) -> Vec<u8> {
        let is_v6 = ip.first().is_some_and(|b| b >> 4 == 6);
        let ethertype = if is_v6 {
            ETHERTYPE_IPV6
        } else {
            ETHERTYPE_IPV4
        };
        match self {
            Link::Ethernet { vlans } => ethernet_frame(
                [0x02, 0, 0, 0, 0, 0x01],
                [0x02, 0, 0, 0, 0, 0x02],
                vlans,
                ethertype,
                ip,
            ),
            Link::LinuxSll => linux_sll_frame(ethertype, ip),
            Link::LinuxSll2 => linux_sll2_frame(ethertype, ip),
            Link::Raw { .. } => ip.to_vec(),
            Link::Null { big_endian } => {
                let endian = if *big_endian {
                    Endian::Big
                } else {
                    Endian::Little
                };
                null_frame(if is_v6 { 30 } else { 2 }, endian, ip)
            }
            Link::Loop => loop_frame(if is_v6 { 24 } else { 2 }, ip),
        }
    }
}

/// Which end of a [`TcpConversation`] sends a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The end that opens the connection (the supervisor).
    Client,
    /// The end that accepts it (the collector).
    Server,
}

/// Plays a TCP connection between a client and a server, producing frames: handshake, data
/// split into segments at chosen offsets, FIN or RST. Sequence numbers are tracked per side.
/// The frames can then be reordered, duplicated or dropped before writing.
///
/// ```
/// use sunpower_testkit::{Link, TcpConversation};
/// let mut c = TcpConversation::new("[fd00::2]:50000".parse().unwrap(), "[fd00::1]:80".parse().unwrap());
/// c.with_link(Link::LinuxSll).with_isn(100, 900);
/// c.handshake().client_sends(b"abcdef", &[2, 4]);
/// assert_eq!(c.client_next_seq(), 101 + 6);
/// let frames = c.into_frames();
/// assert_eq!(frames.len(), 3 + 3);
/// ```
#[derive(Debug, Clone)]
pub struct TcpConversation {
    client: SocketAddr,
    server: SocketAddr,
    client_next: u32,
    server_next: u32,
    link: Link,
    clock: DateTime<Utc>,
    step: TimeDelta,
    ip_id: u16,
    frames: Vec<Frame>,
}

impl TcpConversation {
    /// A conversation over Ethernet starting at 2017-01-07T17:10:00Z, 1 ms between frames,
    /// initial sequence numbers 1000 (client) and 5000 (server).
    ///
    /// ```
    /// use sunpower_testkit::TcpConversation;
    /// let c = TcpConversation::new("10.0.0.2:1".parse().unwrap(), "10.0.0.1:80".parse().unwrap());
    /// assert_eq!((c.client_next_seq(), c.server_next_seq()), (1000, 5000));
    /// ```
    pub fn new(client: SocketAddr, server: SocketAddr) -> TcpConversation {
        TcpConversation {
            client,
            server,
            client_next: 1000,
            server_next: 5000,
            link: Link::ethernet(),
            clock: DateTime::from_timestamp(1_483_809_000, 0).unwrap_or_default(),
            step: TimeDelta::milliseconds(1),
            ip_id: 1,
            frames: Vec::new(),
        }
    }

    /// Sets the initial sequence numbers (the SYNs carry them).
    ///
    /// ```
    /// use sunpower_testkit::TcpConversation;
    /// let mut c = TcpConversation::new("10.0.0.2:1".parse().unwrap(), "10.0.0.1:80".parse().unwrap());
    /// c.with_isn(u32::MAX, 0);
    /// assert_eq!(c.client_next_seq(), u32::MAX);
    /// ```
    pub fn with_isn(&mut self, client: u32, server: u32) -> &mut Self {
        self.client_next = client;
        self.server_next = server;
        self
    }

    /// Sets the link framing.
    ///
    /// ```
    /// use sunpower_testkit::{Link, TcpConversation};
    /// let mut c = TcpConversation::new("10.0.0.2:1".parse().unwrap(), "10.0.0.1:80".parse().unwrap());
    /// c.with_link(Link::Raw { link_type: 101 });
    /// assert_eq!(c.link_type(), 101);
    /// ```
    pub fn with_link(&mut self, link: Link) -> &mut Self {
        self.link = link;
        self
    }

    /// Sets the time of the next frame.
    ///
    /// ```
    /// use sunpower_testkit::TcpConversation;
    /// let mut c = TcpConversation::new("10.0.0.2:1".parse().unwrap(), "10.0.0.1:80".parse().unwrap());
    /// c.starting_at(chrono::DateTime::UNIX_EPOCH).handshake();
    /// assert_eq!(c.frames()[0].timestamp, chrono::DateTime::UNIX_EPOCH);
    /// ```
    pub fn starting_at(&mut self, ts: DateTime<Utc>) -> &mut Self {
        self.clock = ts;
        self
    }

    /// Sets the time between frames.
    ///
    /// ```
    /// use sunpower_testkit::TcpConversation;
    /// let mut c = TcpConversation::new("10.0.0.2:1".parse().unwrap(), "10.0.0.1:80".parse().unwrap());
    /// c.with_step(chrono::TimeDelta::seconds(1)).handshake();
    /// assert_eq!(c.frames()[1].timestamp - c.frames()[0].timestamp, chrono::TimeDelta::seconds(1));
    /// ```
    pub fn with_step(&mut self, step: TimeDelta) -> &mut Self {
        self.step = step;
        self
    }

    /// The link type of the frames.
    ///
    /// ```
    /// use sunpower_testkit::TcpConversation;
    /// let c = TcpConversation::new("10.0.0.2:1".parse().unwrap(), "10.0.0.1:80".parse().unwrap());
    /// assert_eq!(c.link_type(), 1);
    /// ```
    pub fn link_type(&self) -> u32 {
        self.link.link_type()
    }

    /// Next sequence number the client will send.
    ///
    /// ```
    /// use sunpower_testkit::TcpConversation;
    /// let mut c = TcpConversation::new("10.0.0.2:1".parse().unwrap(), "10.0.0.1:80".parse().unwrap());
    /// c.handshake();
    /// assert_eq!(c.client_next_seq(), 1001);
    /// ```
    pub fn client_next_seq(&self) -> u32 {
        self.client_next
    }

    /// Next sequence number the server will send.
    ///
    /// ```
    /// use sunpower_testkit::TcpConversation;
    /// let mut c = TcpConversation::new("10.0.0.2:1".parse().unwrap(), "10.0.0.1:80".parse().unwrap());
    /// c.handshake();
    /// assert_eq!(c.server_next_seq(), 5001);
    /// ```
    pub fn server_next_seq(&self) -> u32 {
        self.server_next
    }

    /// Sends one segment from `from`, with the other side's next sequence number as
    /// acknowledgement (when `flags` has ACK). Advances the sender's sequence number by the
    /// payload, SYN and FIN.
    ///
    /// ```
    /// use sunpower_testkit::{Side, TcpConversation, TCP_SYN};
    /// let mut c = TcpConversation::new("10.0.0.2:1".parse().unwrap(), "10.0.0.1:80".parse().unwrap());
    /// c.segment(Side::Client, TCP_SYN, b"");
    /// assert_eq!(c.client_next_seq(), 1001);
    /// ```
    pub fn segment(&mut self, from: Side, flags: u8, payload: &[u8]) -> &mut Self {
        let from_client = from == Side::Client;
        let (src, dst, seq, ack) = if from_client {
            (self.client, self.server, self.client_next, self.server_next)
        } else {
            (self.server, self.client, self.server_next, self.client_next)
        };
        let ack = if flags & TCP_ACK != 0 { ack } else { 0 };
        let header = TcpHeader {
            seq,
            ack,
            flags,
            ..TcpHeader::new(src, dst)
        };
        let tcp = tcp_segment(&header, payload);
        let ip = ip_packet_with_id(src.ip(), dst.ip(), 6, &tcp, self.ip_id);
        self.ip_id = self.ip_id.wrapping_add(1);
        let advance = payload.len() as u32
            + u32::from(flags & TCP_SYN != 0)
            + u32::from(flags & TCP_FIN != 0);
        if from_client {
            self.client_next = seq.wrapping_add(advance);
        } else {
            self.server_next = seq.wrapping_add(advance);
        }
        self.frames
            .push(Frame::new(self.clock, self.link.frame(&ip)));
        self.clock += self.step;
        self
    }

    /// SYN, SYN-ACK, ACK.
    ///
    /// ```
    /// use sunpower_testkit::TcpConversation;
    /// let mut c = TcpConversation::new("10.0.0.2:1".parse().unwrap(), "10.0.0.1:80".parse().unwrap());
    /// assert_eq!(c.handshake().frames().len(), 3);
    /// ```
    pub fn handshake(&mut self) -> &mut Self {
        self.segment(Side::Client, TCP_SYN, b"")
            .segment(Side::Server, TCP_SYN | TCP_ACK, b"")
            .segment(Side::Client, TCP_ACK, b"")
    }

    fn send(&mut self, from: Side, data: &[u8], split_at: &[usize]) -> &mut Self {
        let mut cuts: Vec<usize> = split_at
            .iter()
            .copied()
            .filter(|&c| c > 0 && c < data.len())
            .collect();
        cuts.sort_unstable();
        cuts.dedup();
        let mut start = 0;
        for end in cuts.into_iter().chain(std::iter::once(data.len())) {
            self.segment(from, TCP_PSH | TCP_ACK, &data[start..end]);
            start = end;
        }
        self
    }

    /// The client sends `data` in segments cut at the offsets `split_at` (one segment if empty).
    ///
    /// ```
    /// use sunpower_testkit::TcpConversation;
    /// let mut c = TcpConversation::new("10.0.0.2:1".parse().unwrap(), "10.0.0.1:80".parse().unwrap());
    /// c.client_sends(b"hello", &[1, 3]);
    /// assert_eq!(c.frames().len(), 3);
    /// ```
    pub fn client_sends(&mut self, data: &[u8], split_at: &[usize]) -> &mut Self {
        self.send(Side::Client, data, split_at)
    }

    /// The server sends `data` in segments cut at the offsets `split_at`.
    ///
    /// ```
    /// use sunpower_testkit::TcpConversation;
    /// let mut c = TcpConversation::new("10.0.0.2:1".parse().unwrap(), "10.0.0.1:80".parse().unwrap());
    /// c.server_sends(b"ok", &[]);
    /// assert_eq!(c.server_next_seq(), 5002);
    /// ```
    pub fn server_sends(&mut self, data: &[u8], split_at: &[usize]) -> &mut Self {
        self.send(Side::Server, data, split_at)
    }

    /// A bare ACK from `from`.
    ///
    /// ```
    /// use sunpower_testkit::{Side, TcpConversation};
    /// let mut c = TcpConversation::new("10.0.0.2:1".parse().unwrap(), "10.0.0.1:80".parse().unwrap());
    /// assert_eq!(c.ack(Side::Server).frames().len(), 1);
    /// ```
    pub fn ack(&mut self, from: Side) -> &mut Self {
        self.segment(from, TCP_ACK, b"")
    }

    /// FIN-ACK from `from`.
    ///
    /// ```
    /// use sunpower_testkit::{Side, TcpConversation};
    /// let mut c = TcpConversation::new("10.0.0.2:1".parse().unwrap(), "10.0.0.1:80".parse().unwrap());
    /// c.fin(Side::Client);
    /// assert_eq!(c.client_next_seq(), 1001);
    /// ```
    pub fn fin(&mut self, from: Side) -> &mut Self {
        self.segment(from, TCP_FIN | TCP_ACK, b"")
    }

    /// RST from `from`.
    ///
    /// ```
    /// use sunpower_testkit::{Side, TcpConversation};
    /// let mut c = TcpConversation::new("10.0.0.2:1".parse().unwrap(), "10.0.0.1:80".parse().unwrap());
    /// assert!(c.reset(Side::Client).frames()[0].data.len() > 0);
    /// ```
    pub fn reset(&mut self, from: Side) -> &mut Self {
        self.segment(from, TCP_RST | TCP_ACK, b"")
    }

    /// Client FIN, server FIN, client ACK.
    ///
    /// ```
    /// use sunpower_testkit::TcpConversation;
    /// let mut c = TcpConversation::new("10.0.0.2:1".parse().unwrap(), "10.0.0.1:80".parse().unwrap());
    /// assert_eq!(c.close().frames().len(), 3);
    /// ```
    pub fn close(&mut self) -> &mut Self {
        self.fin(Side::Client).fin(Side::Server).ack(Side::Client)
    }

    /// The frames so far.
    ///
    /// ```
    /// use sunpower_testkit::TcpConversation;
    /// let c = TcpConversation::new("10.0.0.2:1".parse().unwrap(), "10.0.0.1:80".parse().unwrap());
    /// assert!(c.frames().is_empty());
    /// ```
    pub fn frames(&self) -> &[Frame] {
        &self.frames
    }

    /// Takes the frames.
    ///
    /// ```
    /// use sunpower_testkit::TcpConversation;
    /// let mut c = TcpConversation::new("10.0.0.2:1".parse().unwrap(), "10.0.0.1:80".parse().unwrap());
    /// c.handshake();
    /// assert_eq!(c.into_frames().len(), 3);
    /// ```
    pub fn into_frames(self) -> Vec<Frame> {
        self.frames
    }
}

/// A deterministic value in `[0, 1)` from two numbers (a SplitMix64-style hash): the "noise" of
/// generated samples and benchmark inputs, the same on every run and machine.
///
/// ```
/// use sunpower_testkit::noise;
/// let x = noise(3, 7);
/// assert!((0.0..1.0).contains(&x));
/// assert_eq!(x, noise(3, 7));
/// assert_ne!(x, noise(7, 3));
/// ```
pub fn noise(a: u64, b: u64) -> f64 {
    let mut z = a
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        .wrapping_add(b.wrapping_mul(0xbf58_476d_1ce4_e5b9))
        .wrapping_add(0x94d0_49bb_1331_11eb);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_header_checksum_verifies() {
        let p = ipv4_packet(
            Ipv4Addr::new(192, 168, 1, 1),
            Ipv4Addr::new(192, 168, 1, 2),
            6,
            &[1, 2, 3],
            &Ipv4Options::default(),
        );
        assert_eq!(checksum(0, &p[..20]), 0);
    }

    #[test]
    fn tcp_checksum_verifies_over_pseudo_header() {
        let header = TcpHeader {
            seq: 3,
            ack: 4,
            flags: TCP_ACK,
            ..TcpHeader::new("10.1.1.1:1".parse().unwrap(), "10.1.1.2:2".parse().unwrap())
        };
        let s = tcp_segment(&header, b"odd");
        let mut pseudo = vec![10, 1, 1, 1, 10, 1, 1, 2, 0, 6, 0, s.len() as u8];
        pseudo.extend_from_slice(&s);
        assert_eq!(checksum(0, &pseudo), 0);
    }
}
