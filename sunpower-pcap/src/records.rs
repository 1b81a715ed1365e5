//! The whole flow from capture bytes to records: a [`CaptureDecoder`] whose posts are decoded
//! into records here, once, for every front end, with the run's counters ([`Report`]) and the
//! shared problem log ([`ProblemLog`]: which problems are shown, at most so many of each kind).
//!
//! ```
//! use sunpower_pcap::capture::Input;
//! use sunpower_pcap::decoder::DecoderConfig;
//! use sunpower_pcap::records::{RecordDecoder, RecordEvent};
//! use sunpower_pcap::writer::{pcap_bytes, PcapFormat, TcpConversation};
//!
//! let body = b"100\tSPMS\t10\tZT1\t20170107171925\n130\tbad\n102\tabc\n";
//! let head = format!("POST /Data/SMS2DataCollector.aspx HTTP/1.1\r\nContent-Length: {}\r\n\r\n", body.len());
//! let mut conv = TcpConversation::new("10.0.0.2:40000".parse().unwrap(), "204.194.111.66:80".parse().unwrap());
//! conv.handshake().client_sends(&[head.as_bytes(), body].concat(), &[]).close();
//! let pcap = pcap_bytes(conv.link_type(), PcapFormat::LE_MICRO, conv.frames());
//!
//! let input = Input::from_reader("mem", std::io::Cursor::new(pcap));
//! let mut decoder = RecordDecoder::new(vec![input], DecoderConfig::default());
//! let (mut types, mut errors) = (Vec::new(), Vec::new());
//! decoder.run(|event| match event {
//!     RecordEvent::Record { record, .. } => types.push(record.record_type()),
//!     RecordEvent::LineError { error, .. } => errors.push(error.to_string()),
//!     _ => {}
//! });
//! assert_eq!(types, [100, 102]);
//! assert_eq!(errors, ["mem: packet 4, flow 0: line 2: field 1 (timestamp): expected a YYYYMMDDhhmmss UTC timestamp, found \"bad\""]);
//! let report = decoder.report();
//! assert_eq!((report.decode.posts, report.records.records, report.records.line_errors), (1, 2, 1));
//! ```

use sunpower_proto::{NotShown, ProblemLog, Record, RecordCounts, LINE_ERROR_KIND};

use crate::capture::{CaptureReader, Counters, Input};
use crate::decoder::{
    CaptureDecoder, DecodeStats, DecoderConfig, Event, Post, PostLineError, Problem,
};

/// What a [`RecordDecoder`] reports, in capture order.
#[derive(Debug)]
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
        /// The line, where it came from, and what was wrong.
        error: PostLineError<'a>,
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
/// `stats` is it (`serde` feature: DESIGN.md's keys first, every other counter under `details`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
        map.serialize_entry("connections", &d.connections)?;
        map.serialize_entry("posts", &d.posts)?;
        map.serialize_entry("records", &r.records)?;
        map.serialize_entry("records_by_type", &by_type)?;
        map.serialize_entry("gaps", &d.gaps)?;
        map.serialize_entry("bytes_missing", &d.bytes_missing)?;
        map.serialize_entry("damaged_posts", &d.damaged_posts)?;
        map.serialize_entry("line_errors", &r.line_errors)?;
        map.serialize_entry("inverter_lines_collapsed", &r.inverter_lines_collapsed)?;
        map.serialize_entry(
            "details",
            &Details {
                decode: d,
                capture: &self.capture,
            },
        )?;
        map.end()
    }
}

/// Every counter of the decoder and the reader not at the report's top level.
#[cfg(feature = "serde")]
#[derive(serde::Serialize)]
struct Details<'r> {
    #[serde(flatten)]
    decode: &'r DecodeStats,
    #[serde(flatten)]
    capture: &'r Counters,
}

/// Capture inputs in, records, damaged lines and problems out; see the [module docs](self).
pub struct RecordDecoder {
    decoder: CaptureDecoder,
    counts: RecordCounts,
    log: ProblemLog,
}

impl RecordDecoder {
    /// Reads `inputs` in order as one capture (a rotated set).
    pub fn new(inputs: Vec<Input>, config: DecoderConfig) -> RecordDecoder {
        RecordDecoder::with_log(inputs, config, ProblemLog::default())
    }

    /// The same, with a problem log of the caller's (another limit per kind).
    pub fn with_log(inputs: Vec<Input>, config: DecoderConfig, log: ProblemLog) -> RecordDecoder {
        RecordDecoder {
            decoder: CaptureDecoder::new(inputs, config),
            counts: RecordCounts::default(),
            log,
        }
    }

    /// Decodes one more packet (or, at the end, flushes); false once everything was decoded.
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
    pub fn run(&mut self, mut sink: impl FnMut(RecordEvent<'_, '_>)) {
        while self.step(&mut sink) {}
    }

    /// Every counter so far.
    pub fn report(&self) -> Report {
        Report {
            decode: self.decoder.stats(),
            capture: self.decoder.reader().counters(),
            records: self.counts.clone(),
        }
    }

    /// The problems counted but not shown, one line per kind (`"3 more gap problems not shown"`).
    pub fn not_shown(&self) -> impl Iterator<Item = NotShown> + '_ {
        self.log.summary()
    }

    /// The capture reader, for progress reporting.
    pub fn reader(&self) -> &CaptureReader {
        self.decoder.reader()
    }

    /// True when some input could not be read at all (missing file, not a capture).
    pub fn had_unreadable_input(&self) -> bool {
        self.decoder.had_unreadable_input()
    }
}
