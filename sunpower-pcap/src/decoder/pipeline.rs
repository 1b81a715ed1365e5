//! The [`Decoder`]: packets down the stages (link, IP and TCP headers, the flow table), stream
//! events on to the HTTP framers, and the memory budget kept.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::connections::Connections;
use super::flow_events::{on_flow_event, Context};
use super::{DecodeStats, DecoderConfig, Event, Problem, ProblemKind};
use crate::capture::{CaptureError, Packet};
use crate::flow::{FlowEvent, FlowId, FlowTable};
use crate::ip::{decode_ip, HeaderError, Transport, PROTO_TCP};
use crate::link::decode_link;

/// The pipeline from captured packets to posts; see the [module docs](super).
///
/// ```
/// use sunpower_pcap::decoder::Decoder;
/// let mut decoder = Decoder::new(Default::default());
/// decoder.finish(|_| unreachable!("no connection, nothing to flush"));
/// assert_eq!(decoder.stats().flows.flows_opened, 0);
/// ```
pub struct Decoder {
    config: DecoderConfig,
    flows: FlowTable,
    connections: Connections,
    /// What the connections and their framers take (see [`DecoderConfig::max_memory_bytes`]).
    http_memory: usize,
    stats: DecodeStats,
    /// Position of the packet being decoded, for events.
    input: Arc<str>,
    packet: u64,
    captured_at: DateTime<Utc>,
}

impl Decoder {
    /// A decoder with the given limits.
    ///
    /// ```
    /// use sunpower_pcap::decoder::{Decoder, DecoderConfig};
    /// let mut config = DecoderConfig::default();
    /// config.max_memory_bytes = 1 << 20; // 1 MiB for all connections together
    /// let decoder = Decoder::new(config);
    /// assert_eq!((decoder.stats().packets, decoder.memory_used()), (0, 0));
    /// ```
    pub fn new(config: DecoderConfig) -> Decoder {
        Decoder {
            config,
            flows: FlowTable::new(config.tcp),
            connections: HashMap::default(),
            http_memory: 0,
            stats: DecodeStats::default(),
            input: Arc::from(""),
            packet: 0,
            captured_at: DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    /// The counters so far.
    ///
    /// ```
    /// use sunpower_pcap::capture::{CaptureReader, Input};
    /// use sunpower_pcap::decoder::{Decoder, DecoderConfig};
    ///
    /// let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sample.pcap");
    /// let mut reader = CaptureReader::new(vec![Input::from_path(sample)]);
    /// let mut decoder = Decoder::new(DecoderConfig::default());
    /// while let Some(Ok(packet)) = reader.next_packet() {
    ///     decoder.packet(&packet, |_| {});
    /// }
    /// let stats = decoder.stats();
    /// // The ARP frames are read and counted, not IP; DNS and mDNS are IP but not TCP.
    /// assert_eq!((stats.packets, stats.non_ip, stats.non_tcp), (12_324, 288, 6_480));
    /// assert_eq!((stats.flows.flows_opened, stats.posts), (480, 336));
    /// ```
    pub fn stats(&self) -> DecodeStats {
        DecodeStats {
            flows: *self.flows.stats(),
            ..self.stats
        }
    }

    /// Counts a capture error and reports it.
    ///
    /// ```
    /// use sunpower_pcap::capture::ContainerDecoder;
    /// use sunpower_pcap::decoder::{Decoder, DecoderConfig, Event};
    ///
    /// // The error an empty input gives, as a reader would hand it over.
    /// let error = ContainerDecoder::new("empty.pcap").finish(&[]).unwrap();
    /// let mut decoder = Decoder::new(DecoderConfig::default());
    /// let mut problems = Vec::new();
    /// decoder.capture_error(error, |event| {
    ///     if let Event::Problem(problem) = event {
    ///         problems.push((problem.kind.name(), format!("{}: packet {}", problem.input, problem.packet)));
    ///     }
    /// });
    /// assert_eq!(problems, [("capture", "empty.pcap: packet 1".to_string())]);
    /// assert_eq!(decoder.stats().capture_errors, 1);
    /// ```
    pub fn capture_error(&mut self, error: CaptureError, mut sink: impl FnMut(Event<'_>)) {
        self.stats.capture_errors += 1;
        sink(Event::Problem(Problem {
            input: error.input_name.clone(),
            packet: error.packet,
            flow: None,
            kind: ProblemKind::Capture(error),
        }));
    }

    /// Decodes one captured packet.
    ///
    /// ```
    /// use sunpower_pcap::capture::{CaptureReader, Input};
    /// use sunpower_pcap::decoder::{Decoder, DecoderConfig, Event};
    /// use sunpower_proto::Channel;
    ///
    /// // Packets from any source; here the crate's own reader, on the repository's sample.
    /// let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sample.pcap");
    /// let mut reader = CaptureReader::new(vec![Input::from_path(sample)]);
    /// let mut decoder = Decoder::new(DecoderConfig::default());
    /// let mut commands = Vec::new();
    /// while let Some(Ok(packet)) = reader.next_packet() {
    ///     decoder.packet(&packet, |event| {
    ///         if let Event::Post(post) = event {
    ///             if post.channel == Some(Channel::Command) {
    ///                 commands.push((post.packet, post.body.to_vec()));
    ///             }
    ///         }
    ///     });
    /// }
    /// decoder.finish(|_| {});
    /// assert_eq!(commands.len(), 48); // one every 1800 s
    /// assert_eq!(
    ///     commands[0],
    ///     (178, b"100\tSPMS\t10\tZT163785000441C0593\t20260621072311\n102\t+hZkcatbkafQsgUppyne\n".to_vec())
    /// );
    /// assert_eq!((decoder.stats().flows.flows_opened, decoder.stats().posts), (480, 336));
    /// ```
    pub fn packet(&mut self, packet: &Packet<'_>, mut sink: impl FnMut(Event<'_>)) {
        self.stats.packets += 1;
        // The reader shares one name per input: compare allocations, not bytes, per packet.
        if !Arc::ptr_eq(&self.input, packet.input_name) {
            self.input = Arc::clone(packet.input_name);
        }
        self.packet = packet.packet;
        self.captured_at = packet.timestamp;
        let problem = |this: &Self, kind| this.problem(None, kind);

        let network = match decode_link(packet.link_type, packet.data) {
            Ok(network) => network,
            Err(HeaderError::NotIp(_) | HeaderError::NotIpFamily(_)) => {
                self.stats.non_ip += 1;
                return;
            }
            Err(e) => {
                self.stats.link_errors += 1;
                sink(problem(self, ProblemKind::Link(e)));
                return;
            }
        };
        let segment = match decode_ip(network.payload) {
            Ok(Transport::Tcp(segment)) => segment,
            Ok(Transport::Fragment {
                protocol, offset, ..
            }) => {
                self.stats.fragments += 1;
                if protocol == PROTO_TCP {
                    sink(problem(self, ProblemKind::TcpFragment { offset }));
                }
                return;
            }
            Ok(Transport::Other { .. }) => {
                self.stats.non_tcp += 1;
                return;
            }
            Err(e) => {
                self.stats.ip_errors += 1;
                sink(problem(self, ProblemKind::Ip(e)));
                return;
            }
        };
        if segment.payload_missing > 0 {
            // The reassembler gets the bytes that were captured, then is told the rest is lost:
            // at the delivery point that is a gap at once (see `FlowTable::lost`).
            self.stats.truncated_segments += 1;
            self.stats.truncated_bytes += u64::from(segment.payload_missing);
            sink(problem(
                self,
                ProblemKind::Truncated {
                    missing: segment.payload_missing,
                },
            ));
        }
        let ts_us = u64::try_from(packet.timestamp.timestamp_micros()).unwrap_or(0);
        self.drive_flows(&mut sink, |flows, on_event| {
            flows.segment(&segment, ts_us, &mut *on_event);
            flows.lost(&segment, on_event);
        });
        self.keep_to_budget(&mut sink);
    }

    /// Bytes the connections take, counted against [`DecoderConfig::max_memory_bytes`].
    ///
    /// ```
    /// use sunpower_pcap::decoder::Decoder;
    /// assert_eq!(Decoder::new(Default::default()).memory_used(), 0);
    /// ```
    pub fn memory_used(&self) -> usize {
        self.flows.memory_used() + self.http_memory
    }

    /// Flushes the least recently active connections until the memory used is within budget.
    fn keep_to_budget(&mut self, sink: &mut impl FnMut(Event<'_>)) {
        let budget = self.config.max_memory_bytes;
        while self.memory_used() > budget {
            let mut evicted = None;
            self.drive_flows(sink, |flows, on_event| {
                evicted = flows.evict_oldest(on_event);
            });
            let Some(flow) = evicted else { break };
            sink(self.problem(Some(flow), ProblemKind::OverBudget { budget }));
        }
    }

    /// Flushes every connection at the end of the input: holes become gaps, cut bodies are
    /// delivered as incomplete posts.
    ///
    /// ```
    /// use sunpower_pcap::capture::{CaptureReader, Input};
    /// use sunpower_pcap::decoder::{Decoder, DecoderConfig, Event, Missing};
    ///
    /// // The repository's sample, read up to packet 2898: the capture ends after two of the
    /// // three segments of a post (its body is 2,906 bytes), and only `finish` can tell.
    /// let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sample.pcap");
    /// let mut reader = CaptureReader::new(vec![Input::from_path(sample)]);
    /// let mut decoder = Decoder::new(DecoderConfig::default());
    /// let mut posts = 0;
    /// while let Some(Ok(packet)) = reader.next_packet() {
    ///     let last = packet.packet == 2898;
    ///     decoder.packet(&packet, |event| posts += matches!(event, Event::Post(_)) as u32);
    ///     if last {
    ///         break;
    ///     }
    /// }
    /// assert_eq!(posts, 80);
    /// let mut cut = Vec::new();
    /// decoder.finish(|event| match event {
    ///     Event::Post(post) => cut.push((post.missing, post.body.len(), post.decodable_body().len())),
    ///     Event::Problem(problem) => assert_eq!(problem.kind.name(), "incomplete-post"),
    /// });
    /// // 2,765 bytes received, 141 missing; the whole lines before the hole are 2,701 bytes.
    /// assert_eq!(cut, [(Missing::Bytes(141), 2765, 2701)]);
    /// assert_eq!(decoder.stats().damaged_posts, 1);
    /// ```
    pub fn finish(&mut self, mut sink: impl FnMut(Event<'_>)) {
        self.drive_flows(&mut sink, |flows, on_event| flows.finish(on_event));
    }

    /// Runs `drive` on the flow table with a sink that takes its events through the HTTP layer
    /// to `sink`.
    fn drive_flows(
        &mut self,
        sink: &mut impl FnMut(Event<'_>),
        drive: impl FnOnce(&mut FlowTable, &mut dyn FnMut(FlowEvent<'_>)),
    ) {
        let Decoder {
            flows,
            connections,
            http_memory,
            stats,
            config,
            input,
            packet,
            captured_at,
        } = self;
        let at = Context {
            max_body_bytes: config.http.max_body_bytes,
            input,
            packet: *packet,
            captured_at: *captured_at,
        };
        drive(flows, &mut |event| {
            on_flow_event(event, connections, http_memory, stats, config, &at, sink)
        });
    }

    fn problem(&self, flow: Option<FlowId>, kind: ProblemKind) -> Event<'static> {
        Event::Problem(Problem {
            input: self.input.clone(),
            packet: self.packet,
            flow,
            kind,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{CaptureReader, Input};
    use crate::decoder::connections::CONNECTION_COST;

    const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sample.pcap");

    /// Decodes the sample with `budget`; returns the decoder, the complete posts, the over-budget problems
    /// and the most memory used after any packet.
    fn sample_with_budget(budget: usize) -> (Decoder, u64, Vec<(usize, bool)>, usize) {
        let mut decoder = Decoder::new(DecoderConfig {
            max_memory_bytes: budget,
            ..DecoderConfig::default()
        });
        let mut reader = CaptureReader::new(vec![Input::from_path(SAMPLE)]);
        let (mut posts, mut over, mut peak) = (0, Vec::new(), 0);
        let mut sink = |event: Event<'_>| match event {
            Event::Post(post) => posts += u64::from(post.complete()),
            Event::Problem(Problem {
                kind: ProblemKind::OverBudget { budget },
                flow,
                ..
            }) => over.push((budget, flow.is_some())),
            Event::Problem(_) => {}
        };
        while let Some(Ok(packet)) = reader.next_packet() {
            decoder.packet(&packet, &mut sink);
            peak = peak.max(decoder.memory_used());
        }
        decoder.finish(&mut sink);
        (decoder, posts, over, peak)
    }

    #[test]
    fn the_default_budget_is_never_reached_and_all_memory_is_given_back() {
        let (decoder, posts, over, peak) =
            sample_with_budget(DecoderConfig::default().max_memory_bytes);
        assert_eq!((posts, over.len()), (336, 0));
        assert!(peak > CONNECTION_COST, "{peak}");
        assert_eq!(decoder.memory_used(), 0);
        assert_eq!(decoder.stats().flows.flows_over_budget, 0);
    }

    #[test]
    fn a_zero_budget_flushes_every_connection_after_each_packet() {
        let (decoder, posts, over, peak) = sample_with_budget(0);
        let stats = decoder.stats();
        assert_eq!(peak, 0);
        // A flushed connection's next segment opens it again, picked up mid-stream, to be
        // flushed in turn: 2,724 connections for the sample's 480. A post that arrives in one
        // segment is still whole; one over two or three segments is cut after its first.
        assert_eq!(
            (stats.flows.flows_opened, stats.flows.flows_over_budget),
            (2724, 2724)
        );
        assert_eq!((posts, stats.damaged_posts), (162, 174));
        assert_eq!(over, vec![(0, true); stats.flows.flows_opened as usize]);
    }

    #[test]
    fn a_small_budget_is_kept_after_every_packet() {
        let budget = 4 * CONNECTION_COST + 2 * std::mem::size_of::<crate::http::RequestFramer>();
        let (decoder, _, over, peak) = sample_with_budget(budget);
        assert!(peak <= budget, "{peak} > {budget}");
        assert_eq!(decoder.memory_used(), 0);
        assert_eq!(decoder.stats().flows.flows_over_budget, over.len() as u64);
    }
}
