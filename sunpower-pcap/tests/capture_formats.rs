//! Writer -> reader round trips over every container variant, gzip, rotated sets, cut and
//! damaged files.

use std::io::{self, Cursor, Read};

use chrono::{DateTime, Utc};
use sunpower_pcap::capture::{CaptureErrorKind, CaptureReader, ContainerDecoder, Decoded, Input};
use sunpower_pcap::decoder::{CaptureDecoder, DecoderConfig, Event, ProblemKind};
use sunpower_testkit::{
    gzip, pcap_bytes, pcapng_bytes, Endian, Frame, InterfaceSpec, PcapFormat, PcapNgWriter,
    PcapWriter, TcpConversation,
};

/// The capture reader's initial buffer (1 MiB), grown only for a larger block.
const INITIAL_BUFFER_SIZE: usize = 1 << 20;

fn ts(secs: i64, nanos: u32) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, nanos).unwrap()
}

fn mem(name: &str, bytes: Vec<u8>) -> Input {
    Input::from_reader(name, Cursor::new(bytes))
}

/// (input index, packet number in the input, overall number, timestamp, link type, captured length, origlen, data)
type Row = (usize, u64, u64, DateTime<Utc>, u32, u32, u32, Vec<u8>);

/// Reads everything; packets as rows, errors as their kinds' messages.
fn read_all(inputs: Vec<Input>) -> (Vec<Row>, Vec<sunpower_pcap::capture::CaptureError>) {
    let mut reader = CaptureReader::new(inputs);
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut guard = 0;
    while let Some(item) = reader.next_packet() {
        guard += 1;
        assert!(guard < 1_000_000, "reader does not end");
        match item {
            Ok(p) => rows.push((
                p.input_index,
                p.packet,
                p.packet_number,
                p.timestamp,
                p.link_type,
                p.data.len() as u32,
                p.origlen,
                p.data.to_vec(),
            )),
            Err(e) => errors.push(e),
        }
    }
    (rows, errors)
}

fn sample_frames() -> Vec<Frame> {
    vec![
        Frame::new(ts(1_483_809_000, 123_456_000), vec![1; 60]),
        Frame::new(ts(1_483_809_001, 0), vec![2; 1514]),
        Frame::new(ts(1_483_809_002, 999_999_000), vec![3; 1]),
    ]
}

/// The sample frames `hours` later: the next file of a rotated set (a set's files follow each
/// other in time; a file that goes back in time is reported).
fn later_frames(hours: i64) -> Vec<Frame> {
    sample_frames()
        .into_iter()
        .map(|mut f| {
            f.timestamp += chrono::TimeDelta::hours(hours);
            f
        })
        .collect()
}

fn assert_pcap_round_trip(format: PcapFormat) {
    let frames = sample_frames();
    let bytes = pcap_bytes(1, format, &frames);
    let (rows, errors) = read_all(vec![mem("f", bytes)]);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(rows.len(), 3);
    for (i, (row, frame)) in rows.iter().zip(&frames).enumerate() {
        assert_eq!(row.0, 0);
        assert_eq!(row.1, i as u64 + 1);
        assert_eq!(row.2, i as u64 + 1);
        assert_eq!(row.3, frame.timestamp);
        assert_eq!(row.4, 1);
        assert_eq!(row.5 as usize, frame.data.len());
        assert_eq!(row.6, frame.origlen);
        assert_eq!(row.7, frame.data);
    }
}

#[test]
fn pcap_little_endian_microseconds_round_trips() {
    assert_pcap_round_trip(PcapFormat::LE_MICRO);
}

#[test]
fn pcap_big_endian_microseconds_round_trips() {
    assert_pcap_round_trip(PcapFormat::BE_MICRO);
}

#[test]
fn pcap_little_endian_nanoseconds_round_trips() {
    assert_pcap_round_trip(PcapFormat::LE_NANO);
}

#[test]
fn pcap_big_endian_nanoseconds_round_trips() {
    assert_pcap_round_trip(PcapFormat::BE_NANO);
}

#[test]
fn pcap_nanosecond_file_keeps_nanoseconds() {
    let f = Frame::new(ts(1_600_000_000, 123_456_789), vec![0; 20]);
    let (rows, _) = read_all(vec![mem("n", pcap_bytes(101, PcapFormat::BE_NANO, &[f]))]);
    assert_eq!(rows[0].3, ts(1_600_000_000, 123_456_789));
    assert_eq!(rows[0].4, 101);
}

#[test]
fn pcapng_interfaces_keep_their_link_types_and_resolutions() {
    for endian in [Endian::Little, Endian::Big] {
        let mut w = PcapNgWriter::new(Vec::new(), endian).unwrap();
        let micro = w.add_interface(InterfaceSpec::new(1)).unwrap();
        let nano = w
            .add_interface(InterfaceSpec {
                tsresol: Some(9),
                ..InterfaceSpec::new(113)
            })
            .unwrap();
        let binary = w
            .add_interface(InterfaceSpec {
                tsresol: Some(0x80 | 20),
                ..InterfaceSpec::new(101)
            })
            .unwrap();
        w.write_packet(micro, ts(1_483_809_000, 250_000), &[1; 14])
            .unwrap();
        w.write_packet(nano, ts(1_483_809_000, 123_456_789), &[2; 16])
            .unwrap();
        // 2^-20 s units: half a second is exact.
        w.write_packet(binary, ts(1_483_809_000, 500_000_000), &[0x45; 20])
            .unwrap();
        w.write_epb(nano, ts(1_483_809_001, 1), &[3; 16], 1500)
            .unwrap();
        let (rows, errors) = read_all(vec![mem("ng", w.into_inner())]);
        assert!(errors.is_empty(), "{errors:?}");
        let got: Vec<(DateTime<Utc>, u32, u32, u32)> =
            rows.iter().map(|r| (r.3, r.4, r.5, r.6)).collect();
        assert_eq!(
            got,
            vec![
                (ts(1_483_809_000, 250_000), 1, 14, 14),
                (ts(1_483_809_000, 123_456_789), 113, 16, 16),
                (ts(1_483_809_000, 500_000_000), 101, 20, 20),
                (ts(1_483_809_001, 1), 113, 16, 1500),
            ],
            "{endian:?}"
        );
    }
}

#[test]
fn pcapng_tsoffset_is_added_to_timestamps() {
    let mut w = PcapNgWriter::new(Vec::new(), Endian::Little).unwrap();
    w.add_interface(InterfaceSpec {
        tsoffset: Some(1_000_000_000),
        tsresol: Some(3),
        ..InterfaceSpec::new(1)
    })
    .unwrap();
    w.write_packet(0, ts(1_483_809_000, 7_000_000), &[0; 14])
        .unwrap();
    let bytes = w.into_inner();
    let (rows, errors) = read_all(vec![mem("off", bytes)]);
    assert!(errors.is_empty());
    assert_eq!(rows[0].3, ts(1_483_809_000, 7_000_000));
}

#[test]
fn pcapng_sections_renumber_interfaces_and_may_change_byte_order() {
    let mut w = PcapNgWriter::new(Vec::new(), Endian::Little).unwrap();
    w.add_interface(InterfaceSpec::new(1)).unwrap();
    w.write_packet(0, ts(10, 0), &[1; 14]).unwrap();
    w.new_section(Endian::Big).unwrap();
    w.add_interface(InterfaceSpec::new(101)).unwrap();
    w.write_packet(0, ts(20, 0), &[0x45; 20]).unwrap();
    let (rows, errors) = read_all(vec![mem("sections", w.into_inner())]);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        rows.iter().map(|r| (r.3, r.4)).collect::<Vec<_>>(),
        vec![(ts(10, 0), 1), (ts(20, 0), 101)]
    );
}

#[test]
fn pcapng_packet_for_missing_interface_is_an_error_and_reading_goes_on() {
    let mut w = PcapNgWriter::new(Vec::new(), Endian::Little).unwrap();
    w.add_interface(InterfaceSpec::new(1)).unwrap();
    w.write_packet(0, ts(1, 0), &[1; 14]).unwrap();
    w.write_packet(5, ts(2, 0), &[2; 14]).unwrap();
    w.write_packet(0, ts(3, 0), &[3; 14]).unwrap();
    let (rows, errors) = read_all(vec![mem("badif", w.into_inner())]);
    assert_eq!(
        rows.iter().map(|r| (r.1, r.7[0])).collect::<Vec<_>>(),
        vec![(1, 1), (3, 3)]
    );
    assert_eq!(errors.len(), 1);
    assert!(!errors[0].fatal);
    assert_eq!(errors[0].packet, 2);
    assert!(matches!(
        &errors[0].kind,
        CaptureErrorKind::Damaged(m) if m == "packet for interface 5, but the section describes 1 interface(s)"
    ));
}

#[test]
fn pcapng_simple_packet_block_uses_interface_zero_and_previous_time() {
    let mut w = PcapNgWriter::new(Vec::new(), Endian::Little).unwrap();
    w.add_interface(InterfaceSpec::new(101)).unwrap();
    w.write_packet(0, ts(100, 5_000), &[0x45; 20]).unwrap();
    w.write_spb(&[0x46; 21]).unwrap();
    let mut reader = CaptureReader::new(vec![mem("spb", w.into_inner())]);
    reader.next_packet().unwrap().unwrap();
    let p = reader.next_packet().unwrap().unwrap();
    assert_eq!(p.data, &[0x46; 21]);
    assert_eq!((p.data.len(), p.origlen, p.link_type), (21, 21, 101));
    assert!(p.timestamp_estimated);
    assert_eq!(p.timestamp, ts(100, 5_000));
}

#[test]
fn gzip_compressed_pcapng_reads_like_the_plain_file() {
    let frames = sample_frames();
    let plain = pcapng_bytes(1, Some(9), &frames);
    let (a, _) = read_all(vec![mem("plain", plain.clone())]);
    let (b, errors) = read_all(vec![mem("gz", gzip(&plain))]);
    assert!(errors.is_empty());
    assert_eq!(a.len(), 3);
    assert_eq!(a, b);
}

#[test]
fn two_member_gzip_file_reads_both_members() {
    let frames = sample_frames();
    let whole = pcap_bytes(1, PcapFormat::LE_MICRO, &frames);
    // Split inside the second record: the stream continues across members.
    let cut = 24 + 16 + 60 + 5;
    let mut gz = gzip(&whole[..cut]);
    gz.extend_from_slice(&gzip(&whole[cut..]));
    let (rows, errors) = read_all(vec![mem("two.gz", gz)]);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        rows.iter().map(|r| r.7.clone()).collect::<Vec<_>>(),
        frames.iter().map(|f| f.data.clone()).collect::<Vec<_>>()
    );
}

#[test]
fn rotated_set_reads_files_in_order_with_numbering_per_file_and_overall() {
    let a = pcap_bytes(1, PcapFormat::LE_MICRO, &sample_frames()[..2]);
    let b = gzip(&pcapng_bytes(113, None, &sample_frames()[2..]));
    let c = pcap_bytes(101, PcapFormat::BE_NANO, &later_frames(1));
    let (rows, errors) = read_all(vec![mem("a", a), mem("b.gz", b), mem("c", c)]);
    assert!(errors.is_empty());
    let got: Vec<(usize, u64, u64, u32)> = rows.iter().map(|r| (r.0, r.1, r.2, r.4)).collect();
    assert_eq!(
        got,
        vec![
            (0, 1, 1, 1),
            (0, 2, 2, 1),
            (1, 1, 3, 113),
            (2, 1, 4, 101),
            (2, 2, 5, 101),
            (2, 3, 6, 101)
        ]
    );
}

#[test]
fn rotated_set_goes_on_after_an_unreadable_input() {
    let good = pcap_bytes(1, PcapFormat::LE_MICRO, &sample_frames()[..1]);
    let inputs = vec![
        Input::from_path("/nonexistent/capture.pcap"),
        mem("junk", b"this is not a capture".to_vec()),
        mem("empty", Vec::new()),
        mem("good", good),
    ];
    let (rows, errors) = read_all(inputs);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].0, 3);
    assert_eq!(errors.len(), 3);
    assert!(matches!(errors[0].kind, CaptureErrorKind::Open(_)));
    assert!(matches!(
        errors[1].kind,
        CaptureErrorKind::UnknownFormat { .. }
    ));
    assert!(matches!(errors[2].kind, CaptureErrorKind::Empty));
    assert!(errors.iter().all(|e| e.fatal && e.input_unreadable()));
    assert_eq!(&*errors[1].input_name, "junk");
}

#[test]
fn progress_and_counters_follow_each_input() {
    let a = pcap_bytes(1, PcapFormat::LE_MICRO, &sample_frames());
    let b = gzip(&pcap_bytes(1, PcapFormat::LE_MICRO, &later_frames(1)));
    let (a_len, b_len) = (a.len() as u64, b.len() as u64);
    let mut reader = CaptureReader::new(vec![
        mem("a", a).with_len(a_len),
        mem("b", b).with_len(b_len),
    ]);
    assert_eq!(reader.input_lens(), &[Some(a_len), Some(b_len)]);
    let mut starts = Vec::new();
    let mut seen_inputs = 0;
    while let Some(p) = reader.next_packet() {
        p.unwrap();
        if reader.counters().inputs_started != seen_inputs {
            seen_inputs = reader.counters().inputs_started;
            let progress = reader.progress().unwrap();
            starts.push((progress.input_index, progress.input_len));
        }
    }
    assert_eq!(starts, vec![(0, Some(a_len)), (1, Some(b_len))]);
    let c = reader.counters();
    assert_eq!(c.packets, 6);
    assert_eq!(c.bytes_read, a_len + b_len);
    assert_eq!(c.capture_bytes, 2 * a_len);
    assert_eq!(c.errors, 0);
    assert!(reader.progress().is_none());
}

#[test]
fn file_cut_inside_a_packet_gives_earlier_packets_then_a_cut_error() {
    let whole = pcap_bytes(1, PcapFormat::LE_MICRO, &sample_frames());
    let second_record = 24 + 16 + 60;
    let cut = second_record + 16 + 700;
    let (rows, errors) = read_all(vec![mem("cut", whole[..cut].to_vec())]);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].7, vec![1; 60]);
    assert_eq!(errors.len(), 1);
    let e = &errors[0];
    assert!(e.fatal);
    assert_eq!(e.offset, second_record as u64);
    assert_eq!(e.packet, 2);
    assert!(
        matches!(e.kind, CaptureErrorKind::Cut { available: 716 }),
        "{e}"
    );
    assert!(
        e.to_string().contains("cut: packet 2, byte offset 100"),
        "{e}"
    );
}

#[test]
fn gzip_file_cut_in_the_middle_gives_earlier_packets_then_an_error() {
    let frames: Vec<Frame> = (0..200u32)
        .map(|i| {
            Frame::new(
                ts(i64::from(i), 0),
                (0..200).map(|b| (b ^ i) as u8).collect(),
            )
        })
        .collect();
    let gz = gzip(&pcap_bytes(1, PcapFormat::LE_MICRO, &frames));
    let (rows, errors) = read_all(vec![mem("cut.gz", gz[..gz.len() / 2].to_vec())]);
    assert!(!rows.is_empty() && rows.len() < 200);
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r.7, frames[i].data);
    }
    assert_eq!(errors.len(), 1);
    assert!(errors[0].fatal);
}

#[test]
fn pcapng_cut_inside_a_block_reports_the_cut() {
    let bytes = pcapng_bytes(1, None, &sample_frames());
    let (rows, errors) = read_all(vec![mem("cut.pcapng", bytes[..bytes.len() - 3].to_vec())]);
    assert_eq!(rows.len(), 2);
    assert!(matches!(errors[0].kind, CaptureErrorKind::Cut { .. }));
}

#[test]
fn file_cut_inside_its_header_is_a_truncated_header_error() {
    let bytes = pcap_bytes(1, PcapFormat::LE_MICRO, &[]);
    let (rows, errors) = read_all(vec![mem("hdr", bytes[..20].to_vec())]);
    assert!(rows.is_empty());
    assert_eq!(
        errors[0].kind.to_string(),
        "invalid capture header: the input ends inside it"
    );
}

#[test]
fn absurd_record_length_is_an_error_not_a_huge_allocation() {
    let mut bytes = pcap_bytes(1, PcapFormat::LE_MICRO, &sample_frames()[..1]);
    // A record header claiming 4 GB of data.
    bytes.extend_from_slice(&[
        0, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0xff, 0xff, 0xff, 0xf0, 0xff, 0xff, 0xff,
    ]);
    bytes.extend_from_slice(&[0; 100]);
    let (rows, errors) = read_all(vec![mem("absurd", bytes)]);
    assert_eq!(rows.len(), 1);
    assert_eq!(errors.len(), 1);
    assert!(errors[0].fatal);
    assert!(
        matches!(&errors[0].kind, CaptureErrorKind::Damaged(m) if m.contains("4294967280")),
        "{}",
        errors[0]
    );
    assert_eq!(errors[0].offset, 24 + 16 + 60);
}

#[test]
fn damaged_pcapng_block_reports_position_and_stops() {
    let mut bytes = pcapng_bytes(1, None, &sample_frames());
    // Corrupt the trailing length of the first EPB (after SHB 28 + IDB 20).
    let epb = 28 + 20;
    let epb_len = u32::from_le_bytes(bytes[epb + 4..epb + 8].try_into().unwrap()) as usize;
    bytes[epb + epb_len - 4] ^= 0x40;
    let (rows, errors) = read_all(vec![mem("damaged", bytes)]);
    assert!(rows.is_empty());
    assert_eq!(errors.len(), 1);
    assert!(matches!(errors[0].kind, CaptureErrorKind::Damaged(_)));
    assert_eq!(errors[0].offset, epb as u64);
}

/// Gives one byte per read, like a slow pipe.
struct Trickle(Cursor<Vec<u8>>);
impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(1);
        self.0.read(&mut buf[..n])
    }
}

#[test]
fn one_byte_reads_from_a_pipe_give_every_packet() {
    let bytes = pcapng_bytes(1, Some(9), &sample_frames());
    let (expected, _) = read_all(vec![mem("whole", bytes.clone())]);
    let gz = gzip(&pcap_bytes(1, PcapFormat::BE_MICRO, &later_frames(1)));
    let (rows, errors) = read_all(vec![
        Input::from_reader("pipe", Trickle(Cursor::new(bytes))),
        Input::from_reader("pipe.gz", Trickle(Cursor::new(gz))),
    ]);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(rows.len(), 6);
    assert_eq!(
        rows[..3].iter().map(|r| &r.7).collect::<Vec<_>>(),
        expected.iter().map(|r| &r.7).collect::<Vec<_>>()
    );
}

/// Fails after `ok` bytes.
struct FailAfter(Cursor<Vec<u8>>, usize);
impl Read for FailAfter {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let pos = self.0.position() as usize;
        if pos >= self.1 {
            return Err(io::Error::other("disk on fire"));
        }
        let n = buf.len().min(self.1 - pos);
        self.0.read(&mut buf[..n])
    }
}

#[test]
fn read_error_gives_earlier_packets_then_the_error() {
    let bytes = pcap_bytes(1, PcapFormat::LE_MICRO, &sample_frames());
    let (rows, errors) = read_all(vec![Input::from_reader(
        "failing",
        FailAfter(Cursor::new(bytes), 200),
    )]);
    assert_eq!(rows.len(), 1);
    assert_eq!(errors.len(), 1);
    assert!(
        matches!(&errors[0].kind, CaptureErrorKind::Read(e) if e.to_string() == "disk on fire")
    );
}

#[test]
fn packet_larger_than_the_initial_buffer_is_read() {
    let big = vec![0xab; INITIAL_BUFFER_SIZE * 3 + 5];
    let frames = vec![
        Frame::new(ts(1, 0), vec![1; 10]),
        Frame::new(ts(2, 0), big.clone()),
        Frame::new(ts(3, 0), vec![3; 10]),
    ];
    for bytes in [
        pcap_bytes(1, PcapFormat::LE_MICRO, &frames),
        pcapng_bytes(1, None, &frames),
    ] {
        let (rows, errors) = read_all(vec![mem("big", bytes)]);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1].7, big);
    }
}

#[test]
fn many_packets_stream_through_a_fixed_buffer() {
    let frames: Vec<Frame> = (0..20_000u32)
        .map(|i| Frame::new(ts(i64::from(i), i * 1000), i.to_be_bytes().repeat(100)))
        .collect();
    let bytes = pcap_bytes(1, PcapFormat::LE_MICRO, &frames);
    assert!(bytes.len() > 4 * INITIAL_BUFFER_SIZE);
    let mut reader = CaptureReader::new(vec![mem("many", bytes)]);
    let mut n = 0u32;
    while let Some(p) = reader.next_packet() {
        let p = p.unwrap();
        assert_eq!(&p.data[..4], &n.to_be_bytes());
        assert_eq!(p.timestamp, ts(i64::from(n), n * 1000));
        n += 1;
    }
    assert_eq!(n, 20_000);
}

#[test]
fn writer_snaplen_truncation_keeps_original_length() {
    let f = Frame::new(ts(5, 0), vec![9; 1500]).truncated(96);
    let mut w = PcapWriter::with_snaplen(Vec::new(), 1, PcapFormat::LE_MICRO, 96).unwrap();
    w.write_frame(&f).unwrap();
    let (rows, _) = read_all(vec![mem("snap", w.into_inner())]);
    assert_eq!((rows[0].5, rows[0].6), (96, 1500));
}

/// Serves the bytes sent so far, then fails as a still-open pipe would block.
struct LivePipe(Cursor<Vec<u8>>);
impl Read for LivePipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.0.read(buf)? {
            0 => Err(io::Error::new(io::ErrorKind::WouldBlock, "would block")),
            n => Ok(n),
        }
    }
}

#[test]
fn live_pipe_yields_packets_already_sent_without_waiting_for_more() {
    for bytes in [
        pcap_bytes(1, PcapFormat::LE_MICRO, &sample_frames()[..2]),
        pcapng_bytes(1, None, &sample_frames()[..2]),
    ] {
        let mut reader =
            CaptureReader::new(vec![Input::from_reader("-", LivePipe(Cursor::new(bytes)))]);
        assert_eq!(reader.next_packet().unwrap().unwrap().data, &[1; 60][..]);
        assert_eq!(reader.next_packet().unwrap().unwrap().data.len(), 1514);
        let e = reader.next_packet().unwrap().unwrap_err();
        assert!(
            matches!(&e.kind, CaptureErrorKind::Read(io) if io.kind() == io::ErrorKind::WouldBlock),
            "{e}"
        );
    }
}

/// A collector POST on one connection, as a pcap file.
fn collector_capture(start: DateTime<Utc>) -> Vec<u8> {
    let mut conv = TcpConversation::new(
        "10.0.0.2:50000".parse().unwrap(),
        "10.0.0.1:80".parse().unwrap(),
    );
    conv.starting_at(start)
        .handshake()
        .client_sends(
            b"POST /Command/SMS2DataCollector.aspx HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody",
            &[],
        )
        .close();
    pcap_bytes(1, PcapFormat::LE_MICRO, &conv.into_frames())
}

#[test]
fn same_file_twice_in_a_rotated_set_is_reported_and_counted() {
    let file = collector_capture(ts(1_483_809_000, 0));
    let n = read_all(vec![mem("a", file.clone())]).0.len();
    let mut reader = CaptureReader::new(vec![mem("a", file.clone()), mem("again", file)]);
    let mut items = Vec::new();
    while let Some(item) = reader.next_packet() {
        items.push(item.map(|p| (p.input_index, p.packet)));
    }
    // Every packet of both inputs, and one warning just before the second input's first packet.
    assert_eq!(items.len(), 2 * n + 1);
    let Err(e) = &items[n] else {
        panic!("no warning: {items:?}")
    };
    assert!(!e.fatal && !e.input_unreadable());
    assert_eq!(
        (e.input_index, &*e.input_name, e.packet, e.offset),
        (1, "again", 1, 24)
    );
    assert!(
        matches!(e.kind, CaptureErrorKind::InputOutOfOrder { starts, previous_end }
            if starts == ts(1_483_809_000, 0) && previous_end > starts),
        "{e}"
    );
    assert_eq!(items[n + 1].as_ref().ok(), Some(&(1, 1)));
    let c = reader.counters();
    assert_eq!(
        (c.inputs_out_of_order, c.errors, c.packets),
        (1, 1, 2 * n as u64)
    );

    // Through the decoder: the lost connection is explained by a problem at that position.
    let file = collector_capture(ts(1_483_809_000, 0));
    let mut decoder = CaptureDecoder::new(
        vec![mem("a", file.clone()), mem("again", file)],
        DecoderConfig::default(),
    );
    let mut problems = Vec::new();
    decoder.run(|event| {
        if let Event::Problem(p) = event
            && let ProblemKind::Capture(e) = &p.kind
        {
            problems.push((e.input_index, e.packet, format!("{e}")));
        }
    });
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!((problems[0].0, problems[0].1), (1, 1));
    assert!(problems[0]
        .2
        .contains("before the inputs read so far ended"));
    assert_eq!(decoder.stats().capture_errors, 1);
}

#[test]
fn rotated_set_in_time_order_gives_no_order_warning() {
    let a = collector_capture(ts(1_483_809_000, 0));
    let b = collector_capture(ts(1_483_812_600, 0));
    let mut reader = CaptureReader::new(vec![mem("a", a), mem("b", b)]);
    while let Some(item) = reader.next_packet() {
        item.unwrap();
    }
    assert_eq!(reader.counters().inputs_out_of_order, 0);
}

#[test]
fn pcapng_stopping_at_a_bad_block_before_any_packet_is_unreadable() {
    let bytes = pcapng_bytes(1, None, &sample_frames());
    let epb = 28 + 20;
    let epb_len = u32::from_le_bytes(bytes[epb + 4..epb + 8].try_into().unwrap()) as usize;
    for (damaged_at, packets_before) in [(epb, 0), (epb + epb_len, 1)] {
        let mut damaged = bytes.clone();
        // A block length that cannot be (not a multiple of 4).
        damaged[damaged_at + 4] = 0x0d;
        let mut reader = CaptureReader::new(vec![mem("ng", damaged.clone())]);
        let mut packets = 0;
        let mut errors = Vec::new();
        while let Some(item) = reader.next_packet() {
            match item {
                Ok(_) => packets += 1,
                Err(e) => errors.push(e),
            }
        }
        assert_eq!(packets, packets_before);
        assert_eq!(errors.len(), 1, "{errors:?}");
        let e = &errors[0];
        assert!(
            e.fatal && matches!(e.kind, CaptureErrorKind::Damaged(_)),
            "{e}"
        );
        assert_eq!(e.offset, damaged_at as u64);
        // Nothing at all read: as unreadable as a file with a bad header, and counted so.
        assert_eq!(e.input_unreadable(), packets_before == 0);
        let c = reader.counters();
        assert_eq!(c.inputs_unreadable, u64::from(packets_before == 0));
        assert_eq!(c.errors, 1);

        let mut decoder = CaptureDecoder::new(vec![mem("ng", damaged)], DecoderConfig::default());
        decoder.run(|_| {});
        assert_eq!(decoder.had_unreadable_input(), packets_before == 0);
        assert_eq!(decoder.stats().capture_errors, 1);
    }
}

#[test]
fn pcapng_with_a_bad_interface_block_is_unreadable() {
    let mut w = PcapNgWriter::new(Vec::new(), Endian::Little).unwrap();
    w.add_interface(InterfaceSpec {
        tsresol: Some(20), // 10^-20 s: libpcap refuses it
        ..InterfaceSpec::new(1)
    })
    .unwrap();
    w.write_packet(0, ts(1, 0), &[1; 14]).unwrap();
    let (rows, errors) = read_all(vec![mem("badidb", w.into_inner())]);
    assert!(rows.is_empty());
    assert_eq!(errors.len(), 1);
    assert!(
        matches!(&errors[0].kind, CaptureErrorKind::Damaged(m) if m.starts_with("invalid interface description: "))
    );
    assert_eq!(errors[0].offset, 28);
    assert!(errors[0].input_unreadable());
}

#[test]
fn timestamps_beyond_year_9999_or_before_year_0_are_dropped_with_an_error() {
    let last_second = DateTime::parse_from_rfc3339("9999-12-31T23:59:59Z")
        .unwrap()
        .to_utc();
    let year_10000 = last_second + chrono::TimeDelta::seconds(1);
    let year_minus_1 = DateTime::parse_from_rfc3339("0000-01-01T00:00:00Z")
        .unwrap()
        .to_utc()
        - chrono::TimeDelta::days(1);
    let mut w = PcapNgWriter::new(Vec::new(), Endian::Little).unwrap();
    w.add_interface(InterfaceSpec::new(1)).unwrap();
    // Before the epoch only through a negative offset.
    w.add_interface(InterfaceSpec {
        tsoffset: Some(-70_000_000_000),
        ..InterfaceSpec::new(1)
    })
    .unwrap();
    w.write_packet(0, last_second, &[1; 14]).unwrap();
    w.write_packet(0, year_10000, &[2; 14]).unwrap();
    w.write_packet(1, year_minus_1, &[3; 14]).unwrap();
    w.write_packet(0, ts(1_483_809_000, 0), &[4; 14]).unwrap();
    let mut reader = CaptureReader::new(vec![mem("far", w.into_inner())]);
    let mut got = Vec::new();
    while let Some(item) = reader.next_packet() {
        got.push(match item {
            Ok(p) => Ok((
                p.packet,
                p.data[0],
                sunpower_proto::rfc3339(p.timestamp).to_string(),
            )),
            Err(e) => Err((e.packet, e.fatal, e.kind)),
        });
    }
    assert_eq!(got.len(), 4);
    assert_eq!(
        got[0].as_ref().unwrap(),
        &(1, 1, "9999-12-31T23:59:59Z".to_string())
    );
    assert!(matches!(
        got[1],
        Err((
            2,
            false,
            CaptureErrorKind::TimestampOutOfRange {
                seconds: 253_402_300_800
            }
        ))
    ));
    assert!(matches!(
        got[2],
        Err((
            3,
            false,
            CaptureErrorKind::TimestampOutOfRange {
                seconds: -62_167_305_600
            }
        ))
    ));
    assert_eq!(
        got[3].as_ref().unwrap(),
        &(4, 4, "2017-01-07T17:10:00Z".to_string())
    );
    let c = reader.counters();
    assert_eq!((c.timestamps_out_of_range, c.errors, c.packets), (2, 2, 2));
}

/// Decodes `bytes` with a [`ContainerDecoder`] fed `chunk` bytes at a time; packets as rows.
fn feed_in_chunks(bytes: &[u8], chunk: usize) -> (Vec<Row>, Vec<String>) {
    let mut decoder = ContainerDecoder::new("fed");
    let (mut pending, mut rows, mut errors) = (Vec::new(), Vec::new(), Vec::new());
    let mut chunks = bytes.chunks(chunk.max(1));
    loop {
        let (used, want_more) = match decoder.decode(&pending) {
            (used, Decoded::Packet(p)) => {
                rows.push((
                    p.input_index,
                    p.packet,
                    p.packet_number,
                    p.timestamp,
                    p.link_type,
                    p.data.len() as u32,
                    p.origlen,
                    p.data.to_vec(),
                ));
                (used, false)
            }
            (used, Decoded::Error(e)) => {
                errors.push(format!("{} {} {:?}", e.packet, e.offset, e.kind));
                (used, false)
            }
            (used, Decoded::NeedMore { needed }) => {
                assert!(needed > pending.len() - used, "asks for bytes it has");
                (used, true)
            }
            (used, Decoded::Stopped) => {
                assert_eq!(used, 0);
                break;
            }
        };
        pending.drain(..used);
        if want_more {
            match chunks.next() {
                Some(c) => pending.extend_from_slice(c),
                None => {
                    if let Some(e) = decoder.finish(&pending) {
                        errors.push(format!("{} {} {:?}", e.packet, e.offset, e.kind));
                    }
                    break;
                }
            }
        }
    }
    (rows, errors)
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// However the bytes are cut into pieces, the container decoder finds the same packets and
    /// errors, at the same positions, as the reader does on the whole file.
    #[test]
    fn container_decoder_gives_the_same_packets_whatever_the_chunks(
        kind in 0u8..3,
        chunk in 1usize..300,
        edits in proptest::collection::vec((proptest::prelude::any::<usize>(), proptest::prelude::any::<u8>()), 0..3),
        cut in proptest::prelude::any::<usize>(),
    ) {
        let frames = sample_frames();
        let mut bytes = match kind {
            0 => pcap_bytes(1, PcapFormat::LE_MICRO, &frames),
            1 => pcap_bytes(101, PcapFormat::BE_NANO, &frames),
            _ => pcapng_bytes(1, Some(9), &frames),
        };
        for (at, value) in edits {
            let i = at % bytes.len();
            bytes[i] = value;
        }
        bytes.truncate(cut % (bytes.len() + 1));
        let (rows, errors) = feed_in_chunks(&bytes, chunk);
        let (whole_rows, whole_errors) = read_all(vec![mem("fed", bytes.clone())]);
        proptest::prop_assert_eq!(&rows, &whole_rows);
        let whole: Vec<String> = whole_errors
            .iter()
            .map(|e| format!("{} {} {:?}", e.packet, e.offset, e.kind))
            .collect();
        proptest::prop_assert_eq!(errors, whole);
    }
}
