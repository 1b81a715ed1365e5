//! End to end from TCP segments to collector POST bodies: the flow table feeding one HTTP request
//! framer per direction, as the capture decoder wires them.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use sunpower_pcap::flow::{Direction, FlowEvent, FlowId, FlowTable};
use sunpower_pcap::http::{HttpEvent, RequestFramer};
use sunpower_pcap::ip::{TcpSegment, TCP_ACK, TCP_FIN, TCP_SYN};
use sunpower_pcap::tcp::StreamEvent;

const CLIENT: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(192, 168, 0, 20), 49152));
const SERVER: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(204, 194, 111, 66), 80));

#[derive(Debug, PartialEq, Eq)]
enum Post {
    Whole(String, Vec<u8>),
    Incomplete(String, Vec<u8>, Option<u64>),
}

/// Runs segments through a flow table and a framer per direction; returns the collector posts.
fn decode(segments: &[TcpSegment<'_>]) -> (Vec<Post>, u64) {
    let mut table = FlowTable::new(Default::default());
    let mut framers: HashMap<(FlowId, Direction), RequestFramer> = HashMap::new();
    let mut posts = Vec::new();
    let mut responses = 0;
    let mut on_flow = |e: FlowEvent<'_>| {
        let mut on_http = |e: HttpEvent<'_>| match e {
            HttpEvent::Request { target, body, .. } => {
                posts.push(Post::Whole(target.into(), body.to_vec()))
            }
            HttpEvent::IncompleteBody {
                target,
                received,
                missing,
                ..
            } => posts.push(Post::Incomplete(target.into(), received.to_vec(), missing)),
            HttpEvent::Response { .. } => responses += 1,
            _ => {}
        };
        match e {
            FlowEvent::Opened { flow, syn_seen, .. } => {
                for d in [Direction::FromInitiator, Direction::FromResponder] {
                    let f = RequestFramer::new(Default::default());
                    framers.insert((flow, d), if syn_seen { f } else { f.mid_stream() });
                }
            }
            FlowEvent::Stream {
                flow,
                direction,
                event,
            } => {
                let Some(f) = framers.get_mut(&(flow, direction)) else {
                    return;
                };
                match event {
                    StreamEvent::Data(d) => f.feed(d, &mut on_http),
                    StreamEvent::Gap { len, .. } => f.gap(len, &mut on_http),
                    StreamEvent::Fin | StreamEvent::Reset => f.finish(&mut on_http),
                    StreamEvent::Conflict { .. } | StreamEvent::AfterClose { .. } => {}
                }
            }
            FlowEvent::Closed { flow, .. } => {
                for d in [Direction::FromInitiator, Direction::FromResponder] {
                    if let Some(mut f) = framers.remove(&(flow, d)) {
                        f.finish(&mut on_http);
                    }
                }
            }
        }
    };
    for s in segments {
        table.segment(s, 0, &mut on_flow);
    }
    table.finish(&mut on_flow);
    (posts, responses)
}

fn up(seq: u32, flags: u8, payload: &[u8]) -> TcpSegment<'_> {
    TcpSegment::new(CLIENT, SERVER, seq, flags, payload)
}

fn down(seq: u32, flags: u8, payload: &[u8]) -> TcpSegment<'_> {
    TcpSegment::new(SERVER, CLIENT, seq, flags, payload)
}

const SYNACK: u8 = TCP_SYN | TCP_ACK;
const BODY: &[u8] = b"100\tSPMS\t10\tZT01\t20170107171500\n130\t20170107171000\tS1\tAC_Module_Type_C\t\t1.5\n102\tAAAAAAAAAAAAAAAAAAAA\n";

fn request() -> Vec<u8> {
    let mut r = format!(
        "POST /Data/SMS2DataCollector.aspx HTTP/1.1\r\nHost: collector.sunpowermonitor.com\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
        BODY.len()
    )
    .into_bytes();
    r.extend_from_slice(BODY);
    r
}

const TARGET: &str = "/Data/SMS2DataCollector.aspx";

#[test]
fn post_split_reordered_and_retransmitted_decodes_whole() {
    let req = request();
    let (a, b, c) = (&req[..50], &req[50..140], &req[140..]);
    let isn = u32::MAX - 60; // the stream wraps the sequence space
    let s = |off: usize| isn.wrapping_add(1 + off as u32);
    let segments = [
        up(isn, TCP_SYN, b""),
        down(7000, SYNACK, b""),
        up(s(140), TCP_ACK, c),
        up(s(0), TCP_ACK, a),
        up(s(0), TCP_ACK, a),
        up(s(50), TCP_ACK, b),
        down(
            7001,
            TCP_ACK,
            b"HTTP/1.1 200 OK\r\nContent-Length: 21\r\n\r\n1002\t20170107171501\r\n",
        ),
        up(s(req.len()), TCP_FIN, b""),
        down(7062, TCP_FIN, b""),
    ];
    let (posts, responses) = decode(&segments);
    assert_eq!(posts, vec![Post::Whole(TARGET.into(), BODY.to_vec())]);
    assert_eq!(responses, 1);
}

#[test]
fn lost_segment_gives_incomplete_post_then_next_post_decodes() {
    let req = request();
    let mut stream = req.clone();
    stream.extend_from_slice(&req);
    let segments = [
        up(0, TCP_SYN, b""),
        up(1, TCP_ACK, &stream[..150]),
        // stream[150..170] is never captured.
        up(171, TCP_ACK, &stream[170..]),
    ];
    let (posts, _) = decode(&segments);
    let head = req.len() - BODY.len();
    assert_eq!(
        posts,
        vec![
            Post::Incomplete(
                TARGET.into(),
                BODY[..150 - head].to_vec(),
                Some((BODY.len() - (150 - head)) as u64)
            ),
            Post::Whole(TARGET.into(), BODY.to_vec()),
        ]
    );
}

#[test]
fn connection_picked_up_mid_post_syncs_on_next_request() {
    let req = request();
    let mut stream = req[100..].to_vec();
    stream.extend_from_slice(&req);
    let segments = [
        up(5000, TCP_ACK, &stream[..70]),
        up(5070, TCP_ACK, &stream[70..]),
    ];
    let (posts, _) = decode(&segments);
    assert_eq!(posts, vec![Post::Whole(TARGET.into(), BODY.to_vec())]);
}
