//! IPv4 / IPv6 and TCP headers, without copying or allocating.
//!
//! [`decode_ip`] turns an IPv4 or IPv6 packet (from [`crate::link::decode_link`]) into a
//! [`Transport`]: a TCP segment, a fragment (reported, never misread as TCP), or another protocol.
//! Lengths come from the IP header, so link padding is dropped, and a packet cut short by the
//! capture's snaplen says how many payload bytes are missing ([`TcpSegment::payload_missing`]).
//!
//! ```
//! use std::net::{IpAddr, Ipv4Addr};
//! use sunpower_pcap::capture::{CaptureReader, Input};
//! use sunpower_pcap::ip::{decode_ip, Transport, TCP_ACK, TCP_PSH};
//! use sunpower_pcap::link::decode_link;
//!
//! // Packet 25 of the repository's sample capture: the supervisor's first collector request.
//! let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sample.pcap");
//! let mut reader = CaptureReader::new(vec![Input::from_path(sample)]);
//! while let Some(Ok(packet)) = reader.next_packet() {
//!     if packet.packet != 25 {
//!         continue;
//!     }
//!     let network = decode_link(packet.link_type, packet.data).unwrap(); // Ethernet
//!     assert_eq!(network.payload[0] >> 4, 4); // IPv4
//!     let Ok(Transport::Tcp(seg)) = decode_ip(network.payload) else { panic!() };
//!     assert_eq!(seg.src.ip, IpAddr::V4(Ipv4Addr::new(192, 168, 1, 50)));
//!     assert_eq!(seg.dst.ip, IpAddr::V4(Ipv4Addr::new(204, 194, 111, 66)));
//!     assert_eq!((seg.src.port, seg.dst.port, seg.seq, seg.ack), (50112, 80, 3_469_584_608, 3_839_259_272));
//!     assert_eq!(seg.flags, TCP_PSH | TCP_ACK);
//!     assert!(seg.payload.starts_with(b"POST /Data/SMS2DataCollector.aspx HTTP/1.1\r\n"));
//!     assert_eq!((seg.payload.len(), seg.payload_missing), (556, 0));
//!     break;
//! }
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::flow::Endpoint;

/// IP protocol number of TCP.
pub(crate) const PROTO_TCP: u8 = 6;

/// TCP header flag FIN: the bits of [`TcpSegment::flags`] (the header's flags byte) are these,
/// or'ed: `seg.flags & TCP_SYN != 0`, `TCP_SYN | TCP_ACK`.
///
/// ```
/// use sunpower_pcap::ip::{TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN};
/// assert_eq!([TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK], [1, 2, 4, 8, 16]);
/// ```
pub const TCP_FIN: u8 = 0x01;
/// TCP header flag SYN (see [`TCP_FIN`]).
pub const TCP_SYN: u8 = 0x02;
/// TCP header flag RST (see [`TCP_FIN`]).
pub const TCP_RST: u8 = 0x04;
/// TCP header flag PSH (see [`TCP_FIN`]).
pub const TCP_PSH: u8 = 0x08;
/// TCP header flag ACK (see [`TCP_FIN`]).
pub const TCP_ACK: u8 = 0x10;

/// A TCP segment borrowed from its packet: what [`decode_ip`] finds and what
/// [`crate::flow::FlowTable`] takes.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct TcpSegment<'a> {
    /// The sending end: source address and port.
    pub src: Endpoint,
    /// The receiving end: destination address and port.
    pub dst: Endpoint,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number (meaningful when `flags & TCP_ACK != 0`).
    pub ack: u32,
    /// The flags byte: [`TCP_FIN`], [`TCP_SYN`], [`TCP_RST`], [`TCP_PSH`], [`TCP_ACK`], or'ed.
    pub flags: u8,
    /// Receive window (unscaled).
    pub window: u16,
    /// The payload bytes present in the capture.
    pub payload: &'a [u8],
    /// Payload bytes the IP header says exist but the capture lacks (snaplen): the segment's
    /// data covers `seq .. seq + payload.len() + payload_missing`.
    pub payload_missing: u32,
}

impl<'a> TcpSegment<'a> {
    /// A segment from `src` to `dst` (acknowledgement and window 0, nothing missing), for tests
    /// and for callers that decode headers themselves.
    ///
    /// ```
    /// use sunpower_pcap::ip::{TCP_ACK, TcpSegment};
    /// let s = TcpSegment::new("10.0.0.2:40000".parse().unwrap(), "10.0.0.1:80".parse().unwrap(),
    ///     7, TCP_ACK, b"x");
    /// assert_eq!((s.src.port, s.dst.port, s.seq), (40000, 80, 7));
    /// assert_eq!(s.src.to_string(), "10.0.0.2:40000");
    /// ```
    pub fn new(
        src: SocketAddr,
        dst: SocketAddr,
        seq: u32,
        flags: u8,
        payload: &'a [u8],
    ) -> TcpSegment<'a> {
        let end = |a: SocketAddr| Endpoint {
            ip: a.ip(),
            port: a.port(),
        };
        TcpSegment {
            src: end(src),
            dst: end(dst),
            seq,
            ack: 0,
            flags,
            window: 0,
            payload,
            payload_missing: 0,
        }
    }
}

/// What an IP packet carries.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Transport<'a> {
    /// A TCP segment.
    Tcp(TcpSegment<'a>),
    /// A fragment of a larger IP datagram: not reassembled, reported for counting.
    Fragment {
        /// Source address.
        src: IpAddr,
        /// Destination address.
        dst: IpAddr,
        /// Protocol of the fragmented datagram (for IPv6, the header after the fragment header).
        protocol: u8,
        /// Fragment offset in bytes.
        offset: u32,
        /// More fragments follow.
        more: bool,
    },
    /// Another protocol (UDP, ICMP, ESP, no next header, ...).
    Other {
        /// IP protocol number (IPv6: the first header that is not an extension header).
        protocol: u8,
    },
}

/// Why a frame does not yield an IP packet ([`crate::link::decode_link`]), or an IP packet its
/// [`Transport`] ([`decode_ip`]).
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderError {
    /// The capture ends inside a header (link, IP, extension or TCP), e.g. a small snaplen.
    #[error("{header} header truncated: {needed} bytes needed, {available} captured")]
    Truncated {
        /// Which header.
        header: &'static str,
        /// Bytes needed.
        needed: usize,
        /// Bytes present.
        available: usize,
    },
    /// A length field that cannot be right.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// The link type is not one [`crate::link::decode_link`] knows.
    #[error("unsupported link type {0}")]
    UnsupportedLinkType(u32),
    /// The frame carries something other than IP (ARP, LLDP, ...): the EtherType.
    #[error("not IP: EtherType {0:#06x}")]
    NotIp(u16),
    /// A loopback frame with an address family other than IPv4/IPv6.
    #[error("not IP: address family {0}")]
    NotIpFamily(u32),
    /// An IP packet whose version nibble is not 4 or 6, or not the one the link header (EtherType,
    /// address family, link type) announces.
    #[error("not IP: version nibble {0}")]
    BadIpVersion(u8),
    /// More than 8 VLAN-like tags.
    #[error("more than 8 VLAN tags")]
    TooManyTags,
}

/// Decodes the IP header (and TCP header) of `packet`, IPv4 or IPv6 as its version nibble says.
///
/// ```
/// use sunpower_pcap::ip::{decode_ip, HeaderError};
/// assert!(matches!(decode_ip(&[0x45, 0]), Err(HeaderError::Truncated { header: "IPv4", .. })));
/// assert_eq!(decode_ip(&[0x50]), Err(HeaderError::BadIpVersion(5)));
/// ```
pub fn decode_ip(packet: &[u8]) -> Result<Transport<'_>, HeaderError> {
    match packet.first().map(|b| b >> 4) {
        Some(4) => decode_ipv4(packet),
        Some(6) => decode_ipv6(packet),
        Some(v) => Err(HeaderError::BadIpVersion(v)),
        // IPv4's header is the shorter one.
        None => Err(truncated("IP", 20, 0)),
    }
}

fn truncated(header: &'static str, needed: usize, available: usize) -> HeaderError {
    HeaderError::Truncated {
        header,
        needed,
        available,
    }
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Cuts `body` (captured bytes after the IP header) to the length the header declares.
/// Returns the body and how many declared bytes are missing from the capture.
fn trim(body: &[u8], declared: usize) -> (&[u8], u32) {
    if body.len() >= declared {
        // Extra bytes are link padding (Ethernet minimum size) or an FCS.
        (&body[..declared], 0)
    } else {
        (
            body,
            u32::try_from(declared - body.len()).unwrap_or(u32::MAX),
        )
    }
}

fn decode_ipv4(p: &[u8]) -> Result<Transport<'_>, HeaderError> {
    if p.len() < 20 {
        return Err(truncated("IPv4", 20, p.len()));
    }
    let ihl = usize::from(p[0] & 0x0f) * 4;
    if ihl < 20 {
        return Err(HeaderError::Malformed("IPv4 header length"));
    }
    if p.len() < ihl {
        return Err(truncated("IPv4", ihl, p.len()));
    }
    let total = usize::from(be16(p, 2));
    // Total length 0: a TSO packet captured on the sending host; trust the capture.
    let declared_body = if total == 0 {
        p.len() - ihl
    } else if total < ihl {
        return Err(HeaderError::Malformed("IPv4 total length"));
    } else {
        total - ihl
    };
    let src = IpAddr::V4(Ipv4Addr::new(p[12], p[13], p[14], p[15]));
    let dst = IpAddr::V4(Ipv4Addr::new(p[16], p[17], p[18], p[19]));
    let protocol = p[9];
    let frag = be16(p, 6);
    let more = frag & 0x2000 != 0;
    let offset = u32::from(frag & 0x1fff) * 8;
    if more || offset != 0 {
        return Ok(Transport::Fragment {
            src,
            dst,
            protocol,
            offset,
            more,
        });
    }
    let (body, missing) = trim(&p[ihl..], declared_body);
    transport(src, dst, protocol, body, missing)
}

fn decode_ipv6(p: &[u8]) -> Result<Transport<'_>, HeaderError> {
    if p.len() < 40 {
        return Err(truncated("IPv6", 40, p.len()));
    }
    let payload_len = usize::from(be16(p, 4));
    let mut next = p[6];
    let src = IpAddr::V6(Ipv6Addr::from(
        <[u8; 16]>::try_from(&p[8..24]).unwrap_or([0; 16]),
    ));
    let dst = IpAddr::V6(Ipv6Addr::from(
        <[u8; 16]>::try_from(&p[24..40]).unwrap_or([0; 16]),
    ));
    // Payload length 0 means a jumbogram (or TSO): trust the capture.
    let declared = if payload_len == 0 {
        p.len() - 40
    } else {
        payload_len
    };
    let (mut body, missing) = trim(&p[40..], declared);
    // Each extension header is at least 8 bytes, so this ends; the cap guards against nonsense.
    for _ in 0..32 {
        let len = match next {
            // Hop-by-hop, routing, destination options: (len + 1) * 8.
            0 | 43 | 60 => {
                if body.len() < 2 {
                    return Err(truncated("IPv6 extension", 2, body.len()));
                }
                (usize::from(body[1]) + 1) * 8
            }
            44 => {
                if body.len() < 8 {
                    return Err(truncated("IPv6 fragment", 8, body.len()));
                }
                let field = be16(body, 2);
                let offset = u32::from(field >> 3) * 8;
                let more = field & 1 != 0;
                if offset != 0 || more {
                    return Ok(Transport::Fragment {
                        src,
                        dst,
                        protocol: body[0],
                        offset,
                        more,
                    });
                }
                // An atomic fragment (RFC 6946) is a whole datagram: read on.
                8
            }
            // Authentication header: (len + 2) * 4.
            51 => {
                if body.len() < 2 {
                    return Err(truncated("IPv6 AH", 2, body.len()));
                }
                (usize::from(body[1]) + 2) * 4
            }
            _ => return transport(src, dst, next, body, missing),
        };
        if body.len() < len {
            if missing > 0 {
                return Err(truncated("IPv6 extension", len, body.len()));
            }
            return Err(HeaderError::Malformed("IPv6 extension header length"));
        }
        next = body[0];
        body = &body[len..];
    }
    Err(HeaderError::Malformed(
        "IPv6 extension header chain too long",
    ))
}

fn transport<'a>(
    src: IpAddr,
    dst: IpAddr,
    protocol: u8,
    body: &'a [u8],
    missing: u32,
) -> Result<Transport<'a>, HeaderError> {
    if protocol != PROTO_TCP {
        return Ok(Transport::Other { protocol });
    }
    if body.len() < 20 {
        return Err(truncated("TCP", 20, body.len()));
    }
    let data_offset = usize::from(body[12] >> 4) * 4;
    if data_offset < 20 {
        return Err(HeaderError::Malformed("TCP data offset"));
    }
    if body.len() < data_offset {
        if missing > 0 {
            return Err(truncated("TCP", data_offset, body.len()));
        }
        return Err(HeaderError::Malformed(
            "TCP data offset beyond the IP payload",
        ));
    }
    Ok(Transport::Tcp(TcpSegment {
        src: Endpoint {
            ip: src,
            port: be16(body, 0),
        },
        dst: Endpoint {
            ip: dst,
            port: be16(body, 2),
        },
        seq: be32(body, 4),
        ack: be32(body, 8),
        flags: body[13],
        window: be16(body, 14),
        payload: &body[data_offset..],
        payload_missing: missing,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_prefix_of_a_packet_decodes_without_panic() {
        let mut p = vec![
            0x45, 0, 0, 44, 0, 0, 0, 0, 64, 6, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8,
        ];
        p.extend_from_slice(&[
            0, 80, 0, 81, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 1, 0, 0, 0, 0, 0,
        ]);
        p.extend_from_slice(b"abcd");
        for n in 0..=p.len() {
            let _ = decode_ip(&p[..n]);
        }
        let Ok(Transport::Tcp(seg)) = decode_ip(&p[..42]) else {
            panic!("expected a TCP segment")
        };
        assert_eq!(seg.payload, b"ab");
        assert_eq!(seg.payload_missing, 2);
    }

    #[test]
    fn ipv4_zero_total_length_uses_captured_length() {
        let mut p = vec![
            0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8,
        ];
        p.extend_from_slice(&[0; 8]);
        assert_eq!(decode_ip(&p), Ok(Transport::Other { protocol: 17 }));
    }
}
