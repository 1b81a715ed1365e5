//! Frames built by the writer decode through link.rs and ip.rs to exact TCP segments.

use std::io::Cursor;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use sunpower_pcap::capture::{CaptureReader, Input};
use sunpower_pcap::ip::{decode_ip, HeaderError, Transport, TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN};
use sunpower_pcap::link::decode_link;
use sunpower_testkit::{
    ethernet_frame, ipv4_packet, ipv6_packet, linux_sll2_frame, linux_sll_frame, loop_frame,
    null_frame, pcap_bytes, tcp_segment, Endian, Ipv4Options, Ipv6Extension, Link, PcapFormat,
    TcpConversation, TcpHeader, VlanTag,
};

const A4: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 10);
const B4: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const A6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2);
const B6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1);

/// A TCP header from `src` to `dst` with the given sequence and acknowledgement numbers.
fn header(src: SocketAddr, dst: SocketAddr, seq: u32, ack: u32, flags: u8) -> TcpHeader {
    TcpHeader {
        seq,
        ack,
        flags,
        ..TcpHeader::new(src, dst)
    }
}

fn tcp4(payload: &[u8]) -> Vec<u8> {
    let h = header(
        (A4, 49152).into(),
        (B4, 80).into(),
        1001,
        5001,
        TCP_PSH | TCP_ACK,
    );
    let tcp = tcp_segment(&h, payload);
    ipv4_packet(A4, B4, 6, &tcp, &Ipv4Options::default())
}

fn tcp6(payload: &[u8]) -> Vec<u8> {
    let h = header((A6, 49152).into(), (B6, 443).into(), 7, 8, TCP_ACK);
    let tcp = tcp_segment(&h, payload);
    ipv6_packet(A6, B6, 6, &[], &tcp)
}

/// Decodes a frame to (IP version, vlan tags, src, dst, ports, seq, ack, payload, missing).
fn segment(
    link_type: u32,
    frame: &[u8],
) -> (u8, u8, IpAddr, IpAddr, u16, u16, u32, u32, Vec<u8>, u32) {
    let net = decode_link(link_type, frame).unwrap();
    match decode_ip(net.payload).unwrap() {
        Transport::Tcp(s) => (
            net.payload[0] >> 4,
            net.vlan_tags,
            s.src.ip,
            s.dst.ip,
            s.src.port,
            s.dst.port,
            s.seq,
            s.ack,
            s.payload.to_vec(),
            s.payload_missing,
        ),
        other => panic!("expected TCP, got {other:?}"),
    }
}

fn expect_v4(link_type: u32, frame: &[u8]) {
    assert_eq!(
        segment(link_type, frame),
        (
            4,
            0,
            A4.into(),
            B4.into(),
            49152,
            80,
            1001,
            5001,
            b"POST".to_vec(),
            0
        ),
        "link type {link_type}"
    );
}

fn expect_v6(link_type: u32, frame: &[u8]) {
    assert_eq!(
        segment(link_type, frame),
        (
            6,
            0,
            A6.into(),
            B6.into(),
            49152,
            443,
            7,
            8,
            b"xyz".to_vec(),
            0
        ),
        "link type {link_type}"
    );
}

#[test]
fn ethernet_frames_decode_to_tcp() {
    expect_v4(
        1,
        &ethernet_frame([1; 6], [2; 6], &[], 0x0800, &tcp4(b"POST")),
    );
    expect_v6(
        1,
        &ethernet_frame([1; 6], [2; 6], &[], 0x86dd, &tcp6(b"xyz")),
    );
}

#[test]
fn ethernet_padding_is_trimmed_by_ip_total_length() {
    let mut frame = ethernet_frame([1; 6], [2; 6], &[], 0x0800, &tcp4(b"POST"));
    frame.resize(64, 0xee); // padding + a would-be FCS
    expect_v4(1, &frame);
}

#[test]
fn linux_cooked_v1_and_v2_decode_to_tcp() {
    expect_v4(113, &linux_sll_frame(0x0800, &tcp4(b"POST")));
    expect_v6(113, &linux_sll_frame(0x86dd, &tcp6(b"xyz")));
    expect_v4(276, &linux_sll2_frame(0x0800, &tcp4(b"POST")));
    expect_v6(276, &linux_sll2_frame(0x86dd, &tcp6(b"xyz")));
}

#[test]
fn raw_ip_link_types_decode_to_tcp() {
    for lt in [101, 12, 14, 228] {
        expect_v4(lt, &tcp4(b"POST"));
    }
    for lt in [101, 12, 14, 229] {
        expect_v6(lt, &tcp6(b"xyz"));
    }
    assert_eq!(
        decode_link(228, &tcp6(b"xyz")),
        Err(HeaderError::BadIpVersion(6))
    );
    assert_eq!(
        decode_link(101, &[0x20, 0]),
        Err(HeaderError::BadIpVersion(2))
    );
}

#[test]
fn null_loopback_decodes_in_both_byte_orders_and_all_inet6_families() {
    for endian in [Endian::Little, Endian::Big] {
        expect_v4(0, &null_frame(2, endian, &tcp4(b"POST")));
        for family in [24, 28, 30] {
            expect_v6(0, &null_frame(family, endian, &tcp6(b"xyz")));
        }
    }
    assert_eq!(
        decode_link(0, &null_frame(7, Endian::Little, &[0x45])),
        Err(HeaderError::NotIpFamily(7))
    );
}

#[test]
fn openbsd_loop_decodes_to_tcp() {
    expect_v4(108, &loop_frame(2, &tcp4(b"POST")));
    expect_v6(108, &loop_frame(24, &tcp6(b"xyz")));
}

#[test]
fn stacked_vlan_tags_are_skipped_and_counted() {
    let qinq = [
        VlanTag {
            tpid: 0x88a8,
            vid: 100,
        },
        VlanTag {
            tpid: 0x8100,
            vid: 200,
        },
    ];
    let frame = ethernet_frame([1; 6], [2; 6], &qinq, 0x0800, &tcp4(b"POST"));
    let s = segment(1, &frame);
    assert_eq!(s.1, 2);
    assert_eq!(s.8, b"POST");
    let triple = [VlanTag {
        tpid: 0x8100,
        vid: 1,
    }; 3];
    let frame = ethernet_frame([1; 6], [2; 6], &triple, 0x86dd, &tcp6(b"xyz"));
    let s = segment(1, &frame);
    assert_eq!((s.0, s.1, s.8), (6, 3, b"xyz".to_vec()));
}

#[test]
fn unsupported_link_type_and_non_ip_are_reported() {
    assert_eq!(
        decode_link(105, &[0; 40]),
        Err(HeaderError::UnsupportedLinkType(105))
    );
    let arp = ethernet_frame([0xff; 6], [2; 6], &[], 0x0806, &[0; 28]);
    assert_eq!(decode_link(1, &arp), Err(HeaderError::NotIp(0x0806)));
    assert_eq!(
        decode_link(276, &[0; 19]),
        Err(HeaderError::Truncated {
            header: "link",
            needed: 20,
            available: 19
        })
    );
}

#[test]
fn ipv4_options_are_skipped() {
    let h = header((A4, 1).into(), (B4, 2).into(), 3, 4, TCP_ACK);
    let tcp = tcp_segment(&h, b"data");
    let opts = Ipv4Options {
        options: vec![0x94, 0x04, 0, 0, 1, 1, 1, 0], // router alert, NOPs, end
        ..Ipv4Options::default()
    };
    let p = ipv4_packet(A4, B4, 6, &tcp, &opts);
    assert_eq!(p[0] & 0x0f, 7);
    let Ok(Transport::Tcp(s)) = decode_ip(&p) else {
        panic!()
    };
    assert_eq!(
        (s.src.port, s.dst.port, s.seq, s.ack, s.payload),
        (1, 2, 3, 4, &b"data"[..])
    );
}

#[test]
fn tcp_options_are_skipped() {
    let mss_sack_ts = [
        2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
    ];
    let h = TcpHeader {
        options: mss_sack_ts.to_vec(),
        ..header((A4, 1).into(), (B4, 2).into(), 3, 0, TCP_SYN)
    };
    let tcp = tcp_segment(&h, b"");
    let p = ipv4_packet(A4, B4, 6, &tcp, &Ipv4Options::default());
    let Ok(Transport::Tcp(s)) = decode_ip(&p) else {
        panic!()
    };
    assert!(s.flags & TCP_SYN != 0 && s.flags & TCP_ACK == 0);
    assert!(s.payload.is_empty());
}

#[test]
fn ipv4_fragments_are_reported_not_decoded() {
    let h = header((A4, 1).into(), (B4, 2).into(), 3, 4, TCP_ACK);
    let tcp = tcp_segment(&h, &[7; 64]);
    let first = Ipv4Options {
        more_fragments: true,
        dont_fragment: false,
        ..Ipv4Options::default()
    };
    let p = ipv4_packet(A4, B4, 6, &tcp[..48], &first);
    assert_eq!(
        decode_ip(&p),
        Ok(Transport::Fragment {
            src: A4.into(),
            dst: B4.into(),
            protocol: 6,
            offset: 0,
            more: true
        })
    );
    let last = Ipv4Options {
        fragment_offset: 48,
        dont_fragment: false,
        ..Ipv4Options::default()
    };
    let p = ipv4_packet(A4, B4, 6, &tcp[48..], &last);
    assert_eq!(
        decode_ip(&p),
        Ok(Transport::Fragment {
            src: A4.into(),
            dst: B4.into(),
            protocol: 6,
            offset: 48,
            more: false
        })
    );
}

#[test]
fn ipv6_extension_headers_are_skipped_to_tcp() {
    let h = header((A6, 5).into(), (B6, 6).into(), 70, 80, TCP_ACK);
    let tcp = tcp_segment(&h, b"ext");
    let exts = [
        Ipv6Extension::HopByHop { units: 1 },
        Ipv6Extension::Routing { units: 3 },
        Ipv6Extension::DestinationOptions { units: 2 },
        Ipv6Extension::Authentication { icv_words: 4 },
        Ipv6Extension::Fragment {
            offset: 0,
            more: false,
        }, // atomic fragment: a whole datagram
    ];
    let p = ipv6_packet(A6, B6, 6, &exts, &tcp);
    let Ok(Transport::Tcp(s)) = decode_ip(&p) else {
        panic!("{:?}", decode_ip(&p))
    };
    assert_eq!(
        (s.src.ip, s.dst.ip, s.seq, s.ack, s.payload),
        (A6.into(), B6.into(), 70, 80, &b"ext"[..])
    );
}

#[test]
fn ipv6_fragments_are_reported() {
    let p = ipv6_packet(
        A6,
        B6,
        6,
        &[
            Ipv6Extension::HopByHop { units: 1 },
            Ipv6Extension::Fragment {
                offset: 1232,
                more: true,
            },
        ],
        &[0; 16],
    );
    assert_eq!(
        decode_ip(&p),
        Ok(Transport::Fragment {
            src: A6.into(),
            dst: B6.into(),
            protocol: 6,
            offset: 1232,
            more: true
        })
    );
}

#[test]
fn ipv6_esp_and_no_next_header_stop_as_other() {
    assert_eq!(
        decode_ip(&ipv6_packet(A6, B6, 50, &[], &[0; 16])),
        Ok(Transport::Other { protocol: 50 })
    );
    let p = ipv6_packet(
        A6,
        B6,
        59,
        &[Ipv6Extension::DestinationOptions { units: 1 }],
        &[],
    );
    assert_eq!(decode_ip(&p), Ok(Transport::Other { protocol: 59 }));
}

#[test]
fn udp_is_other_not_tcp() {
    let p = ipv4_packet(A4, B4, 17, &[0; 8], &Ipv4Options::default());
    assert_eq!(decode_ip(&p), Ok(Transport::Other { protocol: 17 }));
}

#[test]
fn snaplen_truncation_reports_missing_payload_bytes() {
    let payload = vec![b'x'; 1000];
    let mut conv = TcpConversation::new(
        "192.168.1.10:49152".parse().unwrap(),
        "10.0.0.1:80".parse().unwrap(),
    );
    conv.client_sends(&payload, &[]);
    let frames: Vec<_> = conv
        .into_frames()
        .into_iter()
        .map(|f| f.truncated(14 + 20 + 20 + 100))
        .collect();
    let bytes = pcap_bytes(1, PcapFormat::LE_MICRO, &frames);
    let mut reader = CaptureReader::new(vec![Input::from_reader("snap", Cursor::new(bytes))]);
    let p = reader.next_packet().unwrap().unwrap();
    assert_eq!((p.data.len(), p.origlen), (154, 1054));
    let net = decode_link(p.link_type, p.data).unwrap();
    let Ok(Transport::Tcp(s)) = decode_ip(net.payload) else {
        panic!()
    };
    assert_eq!(s.payload, &payload[..100]);
    assert_eq!(s.payload_missing, 900);
    assert_eq!(s.seq, 1000);
}

#[test]
fn snaplen_inside_the_tcp_header_is_a_truncated_header_error() {
    let p = tcp4(b"POST");
    assert_eq!(
        decode_ip(&p[..30]),
        Err(HeaderError::Truncated {
            header: "TCP",
            needed: 20,
            available: 10
        })
    );
}

#[test]
fn conversation_tracks_sequence_numbers_through_handshake_data_and_fin() {
    let mut conv = TcpConversation::new(
        "10.0.0.2:50000".parse().unwrap(),
        "10.0.0.1:80".parse().unwrap(),
    );
    conv.with_link(Link::Ethernet {
        vlans: vec![VlanTag {
            tpid: 0x8100,
            vid: 7,
        }],
    })
    .with_isn(u32::MAX - 1, 100)
    .handshake()
    .client_sends(b"POST / HTTP/1.1\r\n\r\n", &[4, 10])
    .server_sends(b"HTTP/1.1 200 OK\r\n\r\n", &[])
    .close();
    let link_type = conv.link_type();
    let got: Vec<(bool, u8, u32, u32, Vec<u8>)> = conv
        .frames()
        .iter()
        .map(|f| {
            let net = decode_link(link_type, &f.data).unwrap();
            let Ok(Transport::Tcp(s)) = decode_ip(net.payload) else {
                panic!()
            };
            (
                s.src.port == 50000,
                s.flags,
                s.seq,
                s.ack,
                s.payload.to_vec(),
            )
        })
        .collect();
    let (syn, ack, psh, fin) = (TCP_SYN, TCP_ACK, TCP_PSH, TCP_FIN);
    let c0 = u32::MAX - 1;
    assert_eq!(
        got,
        vec![
            (true, syn, c0, 0, vec![]),
            (false, syn | ack, 100, c0.wrapping_add(1), vec![]),
            (true, ack, c0.wrapping_add(1), 101, vec![]),
            (true, psh | ack, c0.wrapping_add(1), 101, b"POST".to_vec()),
            (true, psh | ack, c0.wrapping_add(5), 101, b" / HTT".to_vec()),
            (
                true,
                psh | ack,
                c0.wrapping_add(11),
                101,
                b"P/1.1\r\n\r\n".to_vec()
            ),
            (
                false,
                psh | ack,
                101,
                c0.wrapping_add(20),
                b"HTTP/1.1 200 OK\r\n\r\n".to_vec()
            ),
            (true, fin | ack, c0.wrapping_add(20), 120, vec![]),
            (false, fin | ack, 120, c0.wrapping_add(21), vec![]),
            (true, ack, c0.wrapping_add(21), 121, vec![]),
        ]
    );
}
