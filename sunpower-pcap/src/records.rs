//! The whole flow from capture bytes to records: a [`CaptureDecoder`] whose posts are decoded
//! into records here, once, for every front end, with the run's counters ([`Report`]) and the
//! shared problem log ([`ProblemLog`]: which problems are shown, at most so many of each kind).
//!
//! ```
//! use sunpower_pcap::capture::Input;
//! use sunpower_pcap::decoder::DecoderConfig;
//! use sunpower_pcap::records::{RecordDecoder, RecordEvent};
//!
//! // The repository's sample capture (336 collector posts, 5,304 records), with one byte
//! // damaged: the first 120 line's timestamp starts with an `x`.
//! let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sample.pcap");
//! let mut pcap = std::fs::read(sample).unwrap();
//! let at = pcap.windows(5).position(|w| w == b"\n120\t").unwrap() + 5;
//! pcap[at] = b'x';
//!
//! let input = Input::from_reader("sample.pcap", std::io::Cursor::new(pcap));
//! let mut decoder = RecordDecoder::new(vec![input], DecoderConfig::default());
//! let (mut types, mut errors) = (Vec::new(), Vec::new());
//! decoder.run(|event| match event {
//!     RecordEvent::Record { record, .. } => types.push(record.record_type()),
//!     RecordEvent::LineError { post, error, .. } => errors.push(post.line_error_message(&error)),
//!     _ => {}
//! });
//! assert_eq!(types[..3], [100, 141, 140]); // the first post, its 120 line missing
//! assert_eq!(errors, ["sample.pcap: packet 25, flow 0: line 2: field 1 (timestamp): expected a YYYYMMDDhhmmss UTC timestamp, found \"x0260621070000\""]);
//! let report = decoder.report();
//! assert_eq!((report.decode.posts, report.records.records, report.records.line_errors), (336, 5303, 1));
//! assert_eq!(report.records.records_by_type.get(&120), Some(&287));
//! ```

use sunpower_proto::{LineError, ProblemLog, Record, RecordCounts, LINE_ERROR_KIND};

use crate::capture::{CaptureReader, Counters, Input};
use crate::decoder::{CaptureDecoder, DecodeStats, DecoderConfig, Event, Post, Problem};

/// What a [`RecordDecoder`] reports, in capture order.
///
/// ```
/// use sunpower_pcap::capture::Input;
/// use sunpower_pcap::records::{RecordDecoder, RecordEvent};
/// # let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sample.pcap");
/// # let mut pcap = std::fs::read(sample).unwrap();
/// # let at = pcap.windows(5).position(|w| w == b"\n120\t").unwrap() + 5;
/// # pcap[at] = b'x';
/// // `pcap`: the repository's sample capture, the first post's second line (120) damaged.
/// let input = Input::from_reader("sample.pcap", std::io::Cursor::new(pcap));
/// let mut decoder = RecordDecoder::new(vec![input], Default::default());
/// let mut events = Vec::new();
/// // To the end of the first post.
/// let mut end = false;
/// while !end && decoder.step(|event| events.push(match event {
///     RecordEvent::Record { record, .. } => format!("record {}", record.record_type()),
///     RecordEvent::LineError { error, shown, .. } => format!("line {} shown={shown}", error.line),
///     RecordEvent::PostEnd(post) => {
///         end = true;
///         format!("end of post at packet {}", post.packet)
///     }
///     RecordEvent::Problem { problem, .. } => format!("problem {problem}"),
/// })) {}
/// assert_eq!(
///     events,
///     ["record 100", "line 2 shown=true", "record 141", "record 140", "record 140", "record 102", "end of post at packet 25"]
/// );
/// ```
#[derive(Debug)]
// A record with its line's field bounds is a few hundred bytes; events are handed to the sink
// by value as they happen, never kept, so boxing it would cost an allocation per record for
// nothing.
#[allow(clippy::large_enum_variant)]
pub enum RecordEvent<'e, 'a> {
    /// One record of a post.
    Record {
        /// The post it is in.
        post: &'e Post<'a>,
        /// The record.
        record: Record<'a>,
    },
    /// A damaged line of a post.
    LineError {
        /// The post it is in.
        post: &'e Post<'a>,
        /// The line and what was wrong with it ([`Post::line_error_message`] says it with where
        /// the post came from).
        error: LineError,
        /// Whether the problem log shows it (the first ones of their kind).
        shown: bool,
    },
    /// A post all of whose records and damaged lines were reported: where a live front end
    /// flushes its output or advances its clock.
    PostEnd(&'e Post<'a>),
    /// Something else went wrong, with its position.
    Problem {
        /// What and where.
        problem: &'e Problem,
        /// Whether the problem log shows it.
        shown: bool,
    },
}

/// Every counter of a run: the decoder's and the records'. `sunpower stats` prints it, Python's
/// `stats` is it (`serde` feature: the keys of `sunpower stats` in docs/design.md first, every
/// other counter under `details`).
///
/// ```
/// use sunpower_pcap::capture::Input;
/// use sunpower_pcap::records::RecordDecoder;
/// # let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sample.pcap");
/// # let mut pcap = std::fs::read(sample).unwrap();
/// # let at = pcap.windows(5).position(|w| w == b"\n120\t").unwrap() + 5;
/// # pcap[at] = b'x';
/// // `pcap`: the repository's sample capture, one line damaged.
/// let input = Input::from_reader("sample.pcap", std::io::Cursor::new(pcap));
/// let mut decoder = RecordDecoder::new(vec![input], Default::default());
/// decoder.run(|_| {});
/// let report = decoder.report();
/// assert_eq!((report.decode.packets, report.capture.packets, report.decode.posts), (12_324, 12_324, 336));
/// assert_eq!((report.records.records, report.records.line_errors), (5303, 1));
/// assert_eq!(report.records.records_by_type.get(&130), Some(&3480));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Report {
    /// Capture, TCP and HTTP counters.
    pub decode: DecodeStats,
    /// The capture reader's counters (inputs, blocks, timestamps).
    pub capture: Counters,
    /// Records and damaged lines.
    pub records: RecordCounts,
}

#[cfg(feature = "serde")]
impl serde::Serialize for Report {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let (d, r) = (&self.decode, &self.records);
        let by_type: std::collections::BTreeMap<String, u64> = (r.records_by_type.iter())
            .map(|(t, n)| (t.to_string(), *n))
            .collect();
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("packets", &d.packets)?;
        map.serialize_entry("connections", &d.flows.flows_opened)?;
        map.serialize_entry("posts", &d.posts)?;
        map.serialize_entry("records", &r.records)?;
        map.serialize_entry("records_by_type", &by_type)?;
        map.serialize_entry("gaps", &d.gaps)?;
        map.serialize_entry("bytes_missing", &d.bytes_missing)?;
        map.serialize_entry("damaged_posts", &d.damaged_posts)?;
        map.serialize_entry("line_errors", &r.line_errors)?;
        map.serialize_entry("inverter_lines_collapsed", &r.inverter_lines_collapsed)?;
        map.serialize_entry("details", &Details::new(d, &self.capture))?;
        map.end()
    }
}

/// The `details` of `sunpower stats`: every counter of the decoder and the reader not at the
/// report's top level, under its key (some say what they count, some name a counter of
/// [`DecodeStats::flows`] or [`DecodeStats::http`]), in this order.
#[cfg(feature = "serde")]
#[derive(serde::Serialize)]
struct Details {
    non_ip_frames: u64,
    non_tcp_packets: u64,
    ip_fragments: u64,
    link_errors: u64,
    ip_errors: u64,
    truncated_segments: u64,
    truncated_bytes: u64,
    capture_errors: u64,
    requests: u64,
    other_requests: u64,
    oversized_bodies: u64,
    oversized_body_bytes: u64,
    http_errors: u64,
    skipped_bytes: u64,
    response_bytes: u64,
    non_http_streams: u64,
    non_http_bytes: u64,
    duplicate_bytes: u64,
    out_of_window_segments: u64,
    connections_evicted: u64,
    connections_over_budget: u64,
    connections_restarted: u64,
    connections_continued_after_fin: u64,
    bytes_after_close: u64,
    conflicting_overlaps: u64,
    orphan_segments: u64,
    bytes_read: u64,
    capture_bytes: u64,
    blocks_skipped: u64,
    inputs_started: u64,
    inputs_unreadable: u64,
    inputs_out_of_order: u64,
    timestamps_out_of_range: u64,
}

#[cfg(feature = "serde")]
impl Details {
    fn new(d: &DecodeStats, capture: &Counters) -> Details {
        let (flows, http) = (&d.flows, &d.http);
        Details {
            non_ip_frames: d.non_ip,
            non_tcp_packets: d.non_tcp,
            ip_fragments: d.fragments,
            link_errors: d.link_errors,
            ip_errors: d.ip_errors,
            truncated_segments: d.truncated_segments,
            truncated_bytes: d.truncated_bytes,
            capture_errors: d.capture_errors,
            requests: d.requests,
            other_requests: d.other_requests,
            oversized_bodies: d.oversized_bodies,
            oversized_body_bytes: http.oversized_body_bytes,
            http_errors: d.http_errors,
            skipped_bytes: d.skipped_bytes,
            response_bytes: http.response_bytes,
            non_http_streams: d.non_http_streams,
            non_http_bytes: http.non_http_bytes,
            duplicate_bytes: flows.tcp.duplicate_bytes,
            out_of_window_segments: flows.tcp.segments_out_of_window,
            connections_evicted: flows.flows_evicted,
            connections_over_budget: flows.flows_over_budget,
            connections_restarted: flows.flows_restarted,
            connections_continued_after_fin: flows.flows_continued_after_fin,
            bytes_after_close: d.bytes_after_close,
            conflicting_overlaps: d.conflicting_overlaps,
            orphan_segments: flows.orphan_segments,
            bytes_read: capture.bytes_read,
            capture_bytes: capture.capture_bytes,
            blocks_skipped: capture.blocks_skipped,
            inputs_started: capture.inputs_started,
            inputs_unreadable: capture.inputs_unreadable,
            inputs_out_of_order: capture.inputs_out_of_order,
            timestamps_out_of_range: capture.timestamps_out_of_range,
        }
    }
}

/// Capture inputs in, records, damaged lines and problems out; see the [module docs](self).
///
/// ```
/// use sunpower_pcap::records::RecordDecoder;
/// let mut decoder = RecordDecoder::new(Vec::new(), Default::default());
/// decoder.run(|_| unreachable!("no input, no event"));
/// assert_eq!(decoder.report().records.records, 0);
/// ```
pub struct RecordDecoder {
    decoder: CaptureDecoder,
    counts: RecordCounts,
    log: ProblemLog,
}

impl RecordDecoder {
    /// Reads `inputs` in order as one capture (a rotated set).
    ///
    /// ```
    /// use sunpower_pcap::capture::Input;
    /// use sunpower_pcap::decoder::DecoderConfig;
    /// use sunpower_pcap::records::RecordDecoder;
    /// let inputs = vec![Input::from_path("capture-0.pcap"), Input::from_path("capture-1.pcap")];
    /// let decoder = RecordDecoder::new(inputs, DecoderConfig::default());
    /// // Nothing is opened before the first step.
    /// assert_eq!(decoder.reader().input_count(), 2);
    /// assert!(!decoder.had_unreadable_input());
    /// ```
    pub fn new(inputs: Vec<Input>, config: DecoderConfig) -> RecordDecoder {
        RecordDecoder::with_log(inputs, config, ProblemLog::default())
    }

    /// The same, with a problem log of the caller's (another limit per kind).
    ///
    /// ```
    /// use sunpower_pcap::capture::Input;
    /// use sunpower_pcap::records::{RecordDecoder, RecordEvent};
    /// use sunpower_proto::ProblemLog;
    /// # let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sample.pcap");
    /// # let mut pcap = std::fs::read(sample).unwrap();
    /// # let mut at = 0;
    /// # for _ in 0..3 {
    /// #     at += pcap[at..].windows(5).position(|w| w == b"\n130\t").unwrap() + 5;
    /// #     pcap[at] = b'x';
    /// # }
    /// // `pcap`: the repository's sample capture, three lines of a post damaged; show one
    /// // problem of each kind.
    /// let input = Input::from_reader("sample.pcap", std::io::Cursor::new(pcap));
    /// let mut decoder = RecordDecoder::with_log(vec![input], Default::default(), ProblemLog::with_limit(1));
    /// let mut shown = Vec::new();
    /// decoder.run(|event| {
    ///     if let RecordEvent::LineError { shown: s, .. } = event {
    ///         shown.push(s);
    ///     }
    /// });
    /// assert_eq!(shown, [true, false, false]);
    /// let not_shown: Vec<String> = decoder.not_shown().collect();
    /// assert_eq!(not_shown, ["2 more line problems not shown"]);
    /// ```
    pub fn with_log(inputs: Vec<Input>, config: DecoderConfig, log: ProblemLog) -> RecordDecoder {
        RecordDecoder {
            decoder: CaptureDecoder::new(inputs, config),
            counts: RecordCounts::default(),
            log,
        }
    }

    /// Decodes one more packet (or, at the end, flushes); false once everything was decoded.
    ///
    /// ```
    /// use sunpower_pcap::capture::Input;
    /// use sunpower_pcap::records::{RecordDecoder, RecordEvent};
    /// let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sample.pcap");
    /// let mut decoder = RecordDecoder::new(vec![Input::from_path(sample)], Default::default());
    /// // One step per packet: a post's records all come at the step of the packet that
    /// // completes it.
    /// let mut records_per_step = Vec::new();
    /// loop {
    ///     let mut n = 0;
    ///     let more = decoder.step(|event| n += matches!(event, RecordEvent::Record { .. }) as u32);
    ///     if !more {
    ///         break;
    ///     }
    ///     records_per_step.push(n);
    /// }
    /// assert_eq!(records_per_step.len(), 12_325); // 12,324 packets, then the flush
    /// let posts: Vec<(usize, u32)> = (1..).zip(records_per_step).filter(|&(_, n)| n > 0).collect();
    /// assert_eq!(posts.len(), 336);
    /// assert_eq!(posts[..3], [(25, 6), (73, 6), (105, 6)]); // (packet, records)
    /// ```
    pub fn step(&mut self, mut sink: impl FnMut(RecordEvent<'_, '_>)) -> bool {
        let RecordDecoder {
            decoder,
            counts,
            log,
        } = self;
        decoder.step(|event| match event {
            Event::Post(post) => {
                for item in post.records() {
                    match item {
                        Ok(record) => {
                            counts.record(&record);
                            sink(RecordEvent::Record {
                                post: &post,
                                record,
                            });
                        }
                        Err(error) => {
                            counts.line_errors += 1;
                            let shown = log.admit(LINE_ERROR_KIND);
                            sink(RecordEvent::LineError {
                                post: &post,
                                error,
                                shown,
                            });
                        }
                    }
                }
                sink(RecordEvent::PostEnd(&post));
            }
            Event::Problem(problem) => {
                let shown = log.admit(problem.kind.name());
                sink(RecordEvent::Problem {
                    problem: &problem,
                    shown,
                });
            }
        })
    }

    /// Decodes everything.
    ///
    /// ```
    /// use sunpower_pcap::capture::Input;
    /// use sunpower_pcap::records::{RecordDecoder, RecordEvent};
    /// use sunpower_proto::Record;
    /// let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sample.pcap");
    /// let mut decoder = RecordDecoder::new(vec![Input::from_path(sample)], Default::default());
    /// let (mut supervisors, mut inverters) = (Vec::new(), std::collections::BTreeMap::new());
    /// decoder.run(|event| match event {
    ///     RecordEvent::Record { record: Record::Header(h), .. } => {
    ///         supervisors.extend(h.supervisor_serial.map(str::to_owned));
    ///     }
    ///     // Each inverter's first and last lifetime energy of the day.
    ///     RecordEvent::Record { record: Record::Inverter(i), .. } => {
    ///         let kwh = i.lifetime_energy_kwh.unwrap();
    ///         inverters.entry(i.serial.to_owned()).or_insert((kwh, kwh)).1 = kwh;
    ///     }
    ///     _ => {}
    /// });
    /// assert_eq!(supervisors.len(), 336); // one header per post
    /// supervisors.dedup();
    /// assert_eq!(supervisors, ["ZT163785000441C0593"]);
    /// assert_eq!(inverters.len(), 20);
    /// assert_eq!(inverters["414051637000000"], (2868.0454, 2870.3064)); // 2.26 kWh that day
    /// ```
    pub fn run(&mut self, mut sink: impl FnMut(RecordEvent<'_, '_>)) {
        while self.step(&mut sink) {}
    }

    /// Every counter so far.
    ///
    /// ```
    /// use sunpower_pcap::capture::Input;
    /// use sunpower_pcap::records::RecordDecoder;
    /// # let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sample.pcap");
    /// # let mut pcap = std::fs::read(sample).unwrap();
    /// # let at = pcap.windows(5).position(|w| w == b"\n120\t").unwrap() + 5;
    /// # pcap[at] = b'x';
    /// // `pcap`: the repository's sample capture, one line damaged; then a file that is not there.
    /// let inputs = vec![Input::from_reader("sample.pcap", std::io::Cursor::new(pcap)), Input::from_path("/nonexistent.pcap")];
    /// let mut decoder = RecordDecoder::new(inputs, Default::default());
    /// decoder.run(|_| {});
    /// let report = decoder.report();
    /// assert_eq!((report.decode.posts, report.records.records, report.records.line_errors), (336, 5303, 1));
    /// assert_eq!((report.capture.inputs_started, report.capture.inputs_unreadable), (2, 1));
    /// assert_eq!(report.decode.capture_errors, 1);
    /// ```
    pub fn report(&self) -> Report {
        Report {
            decode: self.decoder.stats(),
            capture: self.decoder.reader().counters(),
            records: self.counts.clone(),
        }
    }

    /// The problems counted but not shown, one line per kind (`"3 more gap problems not shown"`).
    ///
    /// ```
    /// use sunpower_pcap::capture::Input;
    /// use sunpower_pcap::records::RecordDecoder;
    /// use sunpower_proto::ProblemLog;
    /// // Three inputs that are not captures, one problem of a kind shown.
    /// let junk = |name: &str| Input::from_reader(name, std::io::Cursor::new(b"junk".to_vec()));
    /// let log = ProblemLog::with_limit(1);
    /// let mut decoder = RecordDecoder::with_log(vec![junk("a"), junk("b"), junk("c")], Default::default(), log);
    /// decoder.run(|_| {});
    /// assert_eq!(decoder.not_shown().collect::<Vec<_>>(), ["2 more capture problems not shown"]);
    /// ```
    pub fn not_shown(&self) -> impl Iterator<Item = String> + '_ {
        self.log.summary()
    }

    /// The capture reader, for progress reporting.
    ///
    /// ```
    /// use sunpower_pcap::capture::Input;
    /// use sunpower_pcap::records::RecordDecoder;
    /// let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sample.pcap");
    /// // A path's length is known: progress can be a fraction.
    /// let mut decoder = RecordDecoder::new(vec![Input::from_path(sample)], Default::default());
    /// assert!(decoder.reader().progress().is_none()); // not started
    /// decoder.step(|_| {});
    /// let progress = decoder.reader().progress().unwrap();
    /// assert_eq!((progress.input_index, progress.input_len), (0, Some(2_176_359)));
    /// assert!(progress.input_bytes_read > 0);
    /// ```
    pub fn reader(&self) -> &CaptureReader {
        self.decoder.reader()
    }

    /// True when some input could not be read at all (missing file, not a capture).
    ///
    /// ```
    /// use sunpower_pcap::capture::Input;
    /// use sunpower_pcap::records::RecordDecoder;
    /// let mut decoder = RecordDecoder::new(vec![Input::from_path("/nonexistent.pcap")], Default::default());
    /// decoder.run(|_| {});
    /// assert!(decoder.had_unreadable_input());
    /// ```
    pub fn had_unreadable_input(&self) -> bool {
        self.decoder.had_unreadable_input()
    }
}

#[cfg(all(test, feature = "serde"))]
mod tests {
    use super::*;
    use crate::flow::FlowStats;
    use crate::http::HttpStats;
    use crate::tcp::TcpStats;

    /// Every counter a distinct value: the JSON of `sunpower stats` (and Python's `stats`) says
    /// which counter each key holds, in which order. A renamed key, a moved or swapped counter
    /// fails here.
    #[test]
    fn the_report_serializes_every_counter_under_its_key() {
        let decode = DecodeStats {
            packets: 1,
            non_ip: 2,
            non_tcp: 3,
            fragments: 4,
            link_errors: 5,
            ip_errors: 6,
            truncated_segments: 7,
            truncated_bytes: 8,
            capture_errors: 9,
            gaps: 11,
            bytes_missing: 12,
            requests: 13,
            posts: 14,
            damaged_posts: 15,
            other_requests: 16,
            oversized_bodies: 17,
            http_errors: 19,
            skipped_bytes: 20,
            non_http_streams: 22,
            bytes_after_close: 30,
            conflicting_overlaps: 31,
            flows: FlowStats {
                flows_opened: 10,
                flows_evicted: 26,
                flows_over_budget: 27,
                flows_restarted: 28,
                flows_continued_after_fin: 29,
                orphan_segments: 32,
                // Not in the report.
                flows_closed: 60,
                flows_expired: 61,
                flows_reused: 62,
                tcp: TcpStats {
                    duplicate_bytes: 24,
                    segments_out_of_window: 25,
                    // Not in the report.
                    segments: 63,
                    ..TcpStats::default()
                },
            },
            http: HttpStats {
                oversized_body_bytes: 18,
                response_bytes: 21,
                non_http_bytes: 23,
                // Not in the report.
                requests: 64,
                discarded_body_bytes: 65,
                blank_line_bytes: 66,
                content_length_with_chunked: 67,
            },
        };
        let capture = Counters {
            bytes_read: 41,
            capture_bytes: 42,
            packets: 43,
            blocks_skipped: 44,
            errors: 45,
            inputs_started: 46,
            inputs_unreadable: 47,
            inputs_out_of_order: 48,
            timestamps_out_of_range: 49,
        };
        let mut records = RecordCounts::default();
        records.records = 51;
        records.records_by_type.insert(130, 52);
        records.line_errors = 53;
        records.inverter_lines_collapsed = 54;
        let report = Report {
            decode,
            capture,
            records,
        };
        let expected = concat!(
            r#"{"packets":1,"connections":10,"posts":14,"records":51,"records_by_type":{"130":52},"#,
            r#""gaps":11,"bytes_missing":12,"damaged_posts":15,"line_errors":53,"#,
            r#""inverter_lines_collapsed":54,"details":{"non_ip_frames":2,"non_tcp_packets":3,"#,
            r#""ip_fragments":4,"link_errors":5,"ip_errors":6,"truncated_segments":7,"#,
            r#""truncated_bytes":8,"capture_errors":9,"requests":13,"other_requests":16,"#,
            r#""oversized_bodies":17,"oversized_body_bytes":18,"http_errors":19,"#,
            r#""skipped_bytes":20,"response_bytes":21,"non_http_streams":22,"#,
            r#""non_http_bytes":23,"duplicate_bytes":24,"out_of_window_segments":25,"#,
            r#""connections_evicted":26,"connections_over_budget":27,"#,
            r#""connections_restarted":28,"connections_continued_after_fin":29,"#,
            r#""bytes_after_close":30,"conflicting_overlaps":31,"orphan_segments":32,"#,
            r#""bytes_read":41,"capture_bytes":42,"blocks_skipped":44,"inputs_started":46,"#,
            r#""inputs_unreadable":47,"inputs_out_of_order":48,"timestamps_out_of_range":49}}"#,
        );
        assert_eq!(serde_json::to_string(&report).unwrap(), expected);
    }
}
