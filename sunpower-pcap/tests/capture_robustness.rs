//! Damaged input never panics or loops: random corruption of valid captures, random frames.

use std::io::Cursor;

use proptest::prelude::*;
use sunpower_pcap::capture::{CaptureReader, Input};
use sunpower_pcap::ip::decode_ip;
use sunpower_pcap::link::decode_link;
use sunpower_testkit::{gzip, pcap_bytes, pcapng_bytes, PcapFormat, TcpConversation};

fn sample(kind: u8) -> Vec<u8> {
    let mut conv = TcpConversation::new(
        "10.0.0.2:50000".parse().unwrap(),
        "10.0.0.1:80".parse().unwrap(),
    );
    conv.handshake()
        .client_sends(b"POST /SMS2DataCollector.aspx HTTP/1.1\r\n\r\nbody", &[7])
        .close();
    let frames = conv.into_frames();
    match kind % 4 {
        0 => pcap_bytes(1, PcapFormat::LE_MICRO, &frames),
        1 => pcap_bytes(1, PcapFormat::BE_NANO, &frames),
        2 => pcapng_bytes(1, Some(0x80 | 20), &frames),
        _ => gzip(&pcapng_bytes(1, None, &frames)),
    }
}

/// Reads to the end, decoding every packet; returns (packets, errors).
fn drain(bytes: Vec<u8>) -> (usize, usize) {
    let mut reader = CaptureReader::new(vec![Input::from_reader("fuzz", Cursor::new(bytes))]);
    let (mut packets, mut errors) = (0, 0);
    let mut steps = 0;
    while let Some(item) = reader.next_packet() {
        steps += 1;
        assert!(steps < 100_000, "no progress");
        match item {
            Ok(p) => {
                packets += 1;
                if let Ok(net) = decode_link(p.link_type, p.data) {
                    let _ = decode_ip(net.payload);
                }
            }
            Err(_) => errors += 1,
        }
    }
    (packets, errors)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn corrupted_captures_end_without_panic(kind in 0u8..4, edits in prop::collection::vec((any::<usize>(), any::<u8>()), 0..8), cut in any::<usize>()) {
        let mut bytes = sample(kind);
        for (at, value) in edits {
            let i = at % bytes.len();
            bytes[i] = value;
        }
        let keep = cut % (bytes.len() + 1);
        bytes.truncate(keep);
        let (packets, _) = drain(bytes);
        prop_assert!(packets <= 8);
    }

    #[test]
    fn random_frames_decode_without_panic(link_type in prop::sample::select(vec![0u32, 1, 12, 14, 101, 108, 113, 228, 229, 276]), frame in prop::collection::vec(any::<u8>(), 0..120)) {
        if let Ok(net) = decode_link(link_type, &frame) {
            let _ = decode_ip(net.payload);
        }
    }

    #[test]
    fn random_ip_packets_decode_without_panic(v6 in any::<bool>(), mut packet in prop::collection::vec(any::<u8>(), 0..200)) {
        if let Some(first) = packet.first_mut() {
            *first = if v6 { 0x60 | (*first & 0x0f) } else { 0x40 | (*first & 0x0f) };
        }
        let _ = decode_ip(&packet);
    }
}

#[test]
fn uncorrupted_samples_read_whole() {
    for kind in 0..4 {
        assert_eq!(drain(sample(kind)), (8, 0));
    }
}
