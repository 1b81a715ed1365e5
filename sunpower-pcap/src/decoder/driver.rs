//! The I/O glue: a [`CaptureReader`] in front of a [`Decoder`], as [`CaptureDecoder`].

use crate::capture::{CaptureReader, Input};

use super::{DecodeStats, Decoder, DecoderConfig, Event};

/// A [`CaptureReader`] and a [`Decoder`] together: capture inputs in, events out (see the
/// [module docs](super) for a whole run).
///
/// ```
/// use sunpower_pcap::decoder::CaptureDecoder;
/// let mut decoder = CaptureDecoder::new(Vec::new(), Default::default());
/// assert!(decoder.step(|_| {})); // flushes at the end of no input
/// assert!(!decoder.step(|_| {})); // done
/// ```
pub struct CaptureDecoder {
    reader: CaptureReader,
    decoder: Decoder,
    finished: bool,
    /// True when some input could not be read at all.
    unreadable_input: bool,
}

impl CaptureDecoder {
    /// Reads `inputs` in order as one capture (a rotated set).
    ///
    /// ```
    /// use sunpower_pcap::capture::Input;
    /// use sunpower_pcap::decoder::{CaptureDecoder, DecoderConfig};
    /// let inputs = vec![Input::from_path("day-1.pcap"), Input::from_path("day-2.pcap.gz")];
    /// let decoder = CaptureDecoder::new(inputs, DecoderConfig::default());
    /// // Nothing is opened before the first step.
    /// assert_eq!((decoder.reader().input_count(), decoder.stats().packets), (2, 0));
    /// ```
    pub fn new(inputs: Vec<Input>, config: DecoderConfig) -> CaptureDecoder {
        CaptureDecoder {
            reader: CaptureReader::new(inputs),
            decoder: Decoder::new(config),
            finished: false,
            unreadable_input: false,
        }
    }

    /// Decodes one more packet (or, at the end, flushes); returns false once everything was
    /// decoded. Lets a caller pull events a packet at a time (a lazy iterator in Python).
    ///
    /// ```
    /// use sunpower_pcap::capture::Input;
    /// use sunpower_pcap::decoder::{CaptureDecoder, DecoderConfig, Event};
    /// let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sample.pcap");
    /// let mut decoder = CaptureDecoder::new(vec![Input::from_path(sample)], DecoderConfig::default());
    /// // Stop at the first post: the rest of the capture (12,324 packets) is not read.
    /// let mut first = None;
    /// while first.is_none() && decoder.step(|event| {
    ///     if let Event::Post(post) = event {
    ///         first = Some((post.packet, post.body.len()));
    ///     }
    /// }) {}
    /// assert_eq!(first, Some((25, 426)));
    /// assert_eq!(decoder.stats().packets, 25);
    /// ```
    pub fn step(&mut self, mut sink: impl FnMut(Event<'_>)) -> bool {
        if self.finished {
            return false;
        }
        match self.reader.next_packet() {
            Some(Ok(packet)) => self.decoder.packet(&packet, &mut sink),
            Some(Err(error)) => {
                self.unreadable_input |= error.input_unreadable();
                self.decoder.capture_error(error, &mut sink);
            }
            None => {
                self.decoder.finish(&mut sink);
                self.finished = true;
            }
        }
        true
    }

    /// Decodes everything.
    ///
    /// ```
    /// use sunpower_pcap::capture::Input;
    /// use sunpower_pcap::decoder::{CaptureDecoder, DecoderConfig, Event, ProblemKind};
    /// let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sample.pcap");
    /// let inputs = vec![Input::from_path(sample), Input::from_path("/nonexistent.pcap")];
    /// let mut decoder = CaptureDecoder::new(inputs, DecoderConfig::default());
    /// let (mut bodies, mut problems) = (Vec::new(), Vec::new());
    /// decoder.run(|event| match event {
    ///     Event::Post(post) => bodies.push(post.body.to_vec()),
    ///     Event::Problem(problem) => {
    ///         problems.push(matches!(problem.kind, ProblemKind::Capture(e) if e.input_unreadable()))
    ///     }
    /// });
    /// assert_eq!(bodies.len(), 336);
    /// assert_eq!(bodies[4], b"100\tSPMS\t10\tZT163785000441C0593\t20260621072311\n102\t+hZkcatbkafQsgUppyne\n");
    /// assert_eq!(problems, [true]); // the missing file, reported and counted
    /// assert!(decoder.had_unreadable_input());
    /// ```
    pub fn run(&mut self, mut sink: impl FnMut(Event<'_>)) {
        while self.step(&mut sink) {}
    }

    /// The counters so far.
    ///
    /// ```
    /// use sunpower_pcap::capture::Input;
    /// use sunpower_pcap::decoder::{CaptureDecoder, DecoderConfig};
    /// let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sample.pcap");
    /// let mut decoder = CaptureDecoder::new(vec![Input::from_path(sample)], DecoderConfig::default());
    /// decoder.run(|_| {});
    /// let stats = decoder.stats();
    /// // 336 collector posts, and 288 requests to another web server (not posts).
    /// assert_eq!((stats.packets, stats.flows.flows_opened, stats.requests, stats.posts), (12_324, 480, 624, 336));
    /// assert_eq!((stats.gaps, stats.capture_errors), (0, 0));
    /// assert_eq!(stats.flows.tcp.duplicate_bytes, 1448); // one retransmitted segment
    /// ```
    pub fn stats(&self) -> DecodeStats {
        self.decoder.stats()
    }

    /// The capture reader, for progress reporting.
    ///
    /// ```
    /// use sunpower_pcap::capture::Input;
    /// use sunpower_pcap::decoder::{CaptureDecoder, DecoderConfig};
    /// let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sample.pcap");
    /// let pcap = std::fs::read(sample).unwrap();
    /// let len = pcap.len() as u64;
    /// let input = Input::from_reader("sample.pcap", std::io::Cursor::new(pcap)).with_len(len);
    /// let mut decoder = CaptureDecoder::new(vec![input], DecoderConfig::default());
    /// decoder.step(|_| {});
    /// let progress = decoder.reader().progress().unwrap();
    /// assert_eq!((progress.input_name, progress.input_len), ("sample.pcap", Some(2_176_359)));
    /// assert!(progress.input_bytes_read > 0 && progress.input_bytes_read <= len);
    /// decoder.run(|_| {});
    /// assert_eq!(decoder.reader().counters().packets, decoder.stats().packets);
    /// assert_eq!(decoder.stats().packets, 12_324);
    /// ```
    pub fn reader(&self) -> &CaptureReader {
        &self.reader
    }

    /// True when some input could not be read at all (missing file, not a capture).
    ///
    /// ```
    /// use sunpower_pcap::capture::Input;
    /// use sunpower_pcap::decoder::{CaptureDecoder, DecoderConfig};
    /// let junk = Input::from_reader("notes.txt", std::io::Cursor::new(b"not a capture".to_vec()));
    /// let mut decoder = CaptureDecoder::new(vec![junk], DecoderConfig::default());
    /// assert!(!decoder.had_unreadable_input());
    /// decoder.run(|_| {});
    /// assert!(decoder.had_unreadable_input());
    /// assert_eq!(decoder.stats().capture_errors, 1);
    /// ```
    pub fn had_unreadable_input(&self) -> bool {
        self.unreadable_input
    }
}
