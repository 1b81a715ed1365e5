//! From a link-layer frame to the network-layer packet it carries, without copying.
//!
//! Supported link types: Ethernet II (1) with any stack of 802.1Q / 802.1ad / QinQ / VN-Tag
//! tags and LLC/SNAP, Linux cooked capture v1 (113) and v2 (276), raw IP (101, and the values
//! 12, 14, 228, 229 some systems write), BSD null loopback (0, either byte order) and OpenBSD
//! loop (108).
//!
//! The IP packet comes out as it is: its version nibble (4 or 6) agrees with what the link
//! header says it carries, so [`crate::ip::decode_ip`] reads the version from the packet.
//!
//! ```
//! use sunpower_pcap::link::decode_link;
//! // Ethernet: two MAC addresses, EtherType 0x0800 (IPv4), then the IP packet.
//! let mut frame = vec![0u8; 12];
//! frame.extend_from_slice(&[0x08, 0x00, 0x45, 0x00]);
//! let packet = decode_link(1, &frame).unwrap();
//! assert_eq!(packet.payload, &[0x45, 0x00]);
//! assert_eq!(packet.vlan_tags, 0);
//! ```

use crate::ip::HeaderError;

/// Link types (`LINKTYPE_*` values) understood by [`decode_link`] (which also reads 12 and 14,
/// raw IP as some systems write it, as [`RAW`](linktype::RAW)).
pub mod linktype {
    /// BSD loopback: 4-byte address family in the writer's byte order.
    pub const NULL: u32 = 0;
    /// Ethernet II.
    pub const ETHERNET: u32 = 1;
    /// Raw IP (v4 or v6, from the version nibble).
    pub const RAW: u32 = 101;
    /// OpenBSD loopback: 4-byte address family, big-endian.
    pub const LOOP: u32 = 108;
    /// Linux cooked capture v1.
    pub const LINUX_SLL: u32 = 113;
    /// Raw IPv4.
    pub const IPV4: u32 = 228;
    /// Raw IPv6.
    pub const IPV6: u32 = 229;
    /// Linux cooked capture v2.
    pub const LINUX_SLL2: u32 = 276;
}

/// EtherType of IPv4.
const ETHERTYPE_IPV4: u16 = 0x0800;
/// EtherType of IPv6.
const ETHERTYPE_IPV6: u16 = 0x86dd;

/// At most this many VLAN-like tags are skipped; more means a malformed or hostile frame.
const MAX_VLAN_TAGS: usize = 8;

/// An IP packet borrowed from its frame.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct NetworkPacket<'a> {
    /// The IPv4 or IPv6 packet (header included), possibly followed by link padding or an FCS:
    /// when not empty, its version nibble is the one the link header announced.
    pub payload: &'a [u8],
    /// Number of VLAN-like tags skipped.
    pub vlan_tags: u8,
}

/// Decodes the link-layer header of `frame` for `link_type` (a `LINKTYPE_*` value).
///
/// ```
/// use sunpower_pcap::ip::HeaderError;
/// use sunpower_pcap::link::decode_link;
/// // BSD null loopback, written little-endian: AF_INET6 as on FreeBSD (28).
/// let frame = [28, 0, 0, 0, 0x60, 0, 0, 0];
/// let p = decode_link(0, &frame).unwrap();
/// assert_eq!(p.payload, [0x60, 0, 0, 0]);
/// assert_eq!(decode_link(0, &[2, 0, 0, 0, 0x60]), Err(HeaderError::BadIpVersion(6))); // AF_INET
/// assert_eq!(decode_link(147, &frame), Err(HeaderError::UnsupportedLinkType(147)));
/// ```
pub fn decode_link(link_type: u32, frame: &[u8]) -> Result<NetworkPacket<'_>, HeaderError> {
    match link_type {
        linktype::ETHERNET => {
            need(frame, 14)?;
            ethertype_payload(be16(frame, 12), &frame[14..], 0)
        }
        linktype::LINUX_SLL => {
            need(frame, 16)?;
            ethertype_payload(be16(frame, 14), &frame[16..], 0)
        }
        linktype::LINUX_SLL2 => {
            need(frame, 20)?;
            ethertype_payload(be16(frame, 0), &frame[20..], 0)
        }
        // 12 and 14: raw IP as some systems write DLT_RAW (BSD/OS and friends, OpenBSD).
        linktype::RAW | 12 | 14 => {
            need(frame, 1)?;
            match frame[0] >> 4 {
                4 | 6 => ok(frame[0] >> 4, frame, 0),
                v => Err(HeaderError::BadIpVersion(v)),
            }
        }
        linktype::IPV4 | linktype::IPV6 => {
            need(frame, 1)?;
            ok(if link_type == linktype::IPV4 { 4 } else { 6 }, frame, 0)
        }
        linktype::NULL => {
            need(frame, 4)?;
            let le = u32::from_le_bytes([frame[0], frame[1], frame[2], frame[3]]);
            // Written in the capturing host's byte order: a family never exceeds 16 bits.
            let family = if le > 0xffff { le.swap_bytes() } else { le };
            loopback(family, &frame[4..])
        }
        linktype::LOOP => {
            need(frame, 4)?;
            let family = u32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]);
            loopback(family, &frame[4..])
        }
        other => Err(HeaderError::UnsupportedLinkType(other)),
    }
}

fn need(frame: &[u8], needed: usize) -> Result<(), HeaderError> {
    if frame.len() < needed {
        Err(HeaderError::Truncated {
            header: "link",
            needed,
            available: frame.len(),
        })
    } else {
        Ok(())
    }
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Follows VLAN tags and LLC/SNAP to the IP payload.
fn ethertype_payload(
    mut ethertype: u16,
    mut rest: &[u8],
    mut tags: usize,
) -> Result<NetworkPacket<'_>, HeaderError> {
    loop {
        match ethertype {
            ETHERTYPE_IPV4 => return ok(4, rest, tags),
            ETHERTYPE_IPV6 => return ok(6, rest, tags),
            // 802.1Q, 802.1ad, pre-standard QinQ (0x9100..0x9300), VN-Tag: 2 or 4 bytes of tag
            // then the next EtherType. VN-Tag's tag is 4 bytes.
            0x8100 | 0x88a8 | 0x9100 | 0x9200 | 0x9300 => {
                tags += 1;
                if tags > MAX_VLAN_TAGS {
                    return Err(HeaderError::TooManyTags);
                }
                need(rest, 4)?;
                ethertype = be16(rest, 2);
                rest = &rest[4..];
            }
            0x8926 => {
                tags += 1;
                if tags > MAX_VLAN_TAGS {
                    return Err(HeaderError::TooManyTags);
                }
                need(rest, 6)?;
                ethertype = be16(rest, 4);
                rest = &rest[6..];
            }
            // An 802.3 length field: IP only inside LLC/SNAP with a zero OUI.
            len if len <= 1500 => {
                if rest.len() >= 8 && rest[..6] == [0xaa, 0xaa, 0x03, 0, 0, 0] {
                    ethertype = be16(rest, 6);
                    rest = &rest[8..];
                    if ethertype <= 1500 {
                        return Err(HeaderError::NotIp(ethertype));
                    }
                } else {
                    return Err(HeaderError::NotIp(len));
                }
            }
            other => return Err(HeaderError::NotIp(other)),
        }
    }
}

/// The IP packet `payload` (version `version`, as the link header says), once its own version
/// nibble agrees; an empty one is left to the IP layer to call truncated.
fn ok(version: u8, payload: &[u8], tags: usize) -> Result<NetworkPacket<'_>, HeaderError> {
    match payload.first() {
        Some(b) if b >> 4 != version => Err(HeaderError::BadIpVersion(b >> 4)),
        _ => Ok(NetworkPacket {
            payload,
            vlan_tags: tags as u8,
        }),
    }
}

fn loopback(family: u32, payload: &[u8]) -> Result<NetworkPacket<'_>, HeaderError> {
    match family {
        2 => ok(4, payload, 0),
        // AF_INET6 differs per system: NetBSD/OpenBSD 24, FreeBSD 28, macOS 30 (Linux 10).
        10 | 24 | 28 | 30 => ok(6, payload, 0),
        other => Err(HeaderError::NotIpFamily(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ethernet_short_frame_is_truncated_not_panic() {
        assert_eq!(
            decode_link(1, &[0; 13]),
            Err(HeaderError::Truncated {
                header: "link",
                needed: 14,
                available: 13
            })
        );
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x81, 0x00, 0x00]);
        assert!(matches!(
            decode_link(1, &f),
            Err(HeaderError::Truncated { .. })
        ));
    }

    #[test]
    fn too_many_vlan_tags_rejected() {
        let mut f = vec![0u8; 12];
        for _ in 0..=MAX_VLAN_TAGS {
            f.extend_from_slice(&[0x81, 0x00, 0x00, 0x01]);
        }
        f.extend_from_slice(&[0x08, 0x00, 0x45]);
        // The last tag's "next EtherType" is another tag: nine in all.
        f[12..14].copy_from_slice(&[0x81, 0x00]);
        assert_eq!(decode_link(1, &f), Err(HeaderError::TooManyTags));
    }

    #[test]
    fn llc_snap_ipv4_decodes() {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x00, 0x30, 0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00, 0x45]);
        let p = decode_link(1, &f).unwrap();
        assert_eq!(p.payload, &[0x45]);
    }

    #[test]
    fn arp_is_not_ip() {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x08, 0x06, 1, 2]);
        assert_eq!(decode_link(1, &f), Err(HeaderError::NotIp(0x0806)));
    }
}
