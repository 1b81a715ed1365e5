//! The [`RequestFramer`] state machine: bytes, holes and the end of one direction's stream in,
//! [`HttpEvent`]s out, the work of each state done by the other files of the module.

use super::head::is_tchar;
use super::resync::plausible_prefix;
use super::{BodyFilter, FramingError, HttpEvent, HttpStats};

/// Limits and options of a [`RequestFramer`].
///
/// ```
/// use sunpower_pcap::http::FramerConfig;
/// let cfg = FramerConfig::default();
/// assert_eq!((cfg.max_header_bytes, cfg.max_body_bytes), (64 << 10, 16 << 20));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct FramerConfig {
    /// Longest request head (request line and headers, line ends included); also the limit on a
    /// chunked body's trailer section. Default 64 KiB.
    pub max_header_bytes: usize,
    /// Longest body: a longer one (kept or not) is skipped, see the [module docs](super).
    /// Default 16 MiB (a collector post is a few kB; a backlog after days offline a few MB), so
    /// that a kept body fits in the decoder's default memory budget.
    pub max_body_bytes: u64,
    /// Which bodies are kept.
    pub bodies: BodyFilter,
}

impl Default for FramerConfig {
    fn default() -> Self {
        FramerConfig {
            max_header_bytes: 64 << 10,
            max_body_bytes: 16 << 20,
            bodies: BodyFilter::CollectorPath,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    /// Reading a request line into `head`; `synced` is false while scanning after a loss.
    Line { synced: bool },
    /// Scanning: passing over the rest of a line that cannot be a request line.
    DeadLine,
    /// Reading the header lines of `req` into `head`.
    Headers { req: Request, scan: HeadScan },
    /// Content-Length body, `remaining` bytes of it still to come.
    Body { req: Request, remaining: u64 },
    /// Reading a chunk-size line into `line`.
    ChunkSize { req: Request },
    /// Chunk data, `remaining` bytes of it still to come.
    ChunkData { req: Request, remaining: u64 },
    /// The line end after chunk data (its CR, if any, in `line`).
    ChunkDataEnd { req: Request },
    /// Reading the trailer section into `line`; `trailer_bytes` of it were read already.
    Trailers { req: Request, trailer_bytes: usize },
    /// Skipping `remaining` bytes of a body over the limit (of a chunk when `chunked`), on the
    /// lookout for a request line at the start of a line; `at_line_start` tells whether the
    /// next byte starts one.
    Oversized {
        req: Request,
        remaining: u64,
        chunked: bool,
        at_line_start: bool,
    },
    /// The stream carries responses; everything is ignored.
    Response,
    /// The stream is not HTTP (judged by its first byte); everything is counted and ignored.
    NotHttp,
}

/// The request being framed, from its request line to the end of its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Request {
    /// Stream offset of the request line.
    pub(super) at: u64,
    /// End of the method, within `head`.
    pub(super) method_end: usize,
    /// The request target, a range of `head`.
    pub(super) target: (usize, usize),
    /// Whether the body is kept (copied into `body` unless handed over whole).
    pub(super) keep: bool,
    /// Body bytes taken so far (kept or counted).
    pub(super) body_len: u64,
    /// The body went over the limit: it is being skipped.
    pub(super) oversized: bool,
}

impl Request {
    /// A request whose line, at stream offset `at`, has the given method end and target range.
    pub(super) fn new(at: u64, method_end: usize, target: (usize, usize)) -> Request {
        Request {
            at,
            method_end,
            target,
            keep: false,
            body_len: 0,
            oversized: false,
        }
    }
}

/// What the header lines read so far say, while a request head is being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct HeadScan {
    /// Start of the header line being read, within `head`.
    pub(super) line_start: usize,
    pub(super) content_length: Option<u64>,
    pub(super) te_seen: bool,
    pub(super) te_chunked: bool,
}

impl HeadScan {
    /// Nothing said yet; the first header line starts at `line_start`.
    pub(super) fn new(line_start: usize) -> HeadScan {
        HeadScan {
            line_start,
            content_length: None,
            te_seen: false,
            te_chunked: false,
        }
    }
}

/// Frames HTTP/1.x requests from one direction of a connection; see the
/// [module docs](super) for the policies.
///
/// ```
/// use sunpower_pcap::http::{HttpEvent, RequestFramer};
/// let mut f = RequestFramer::new(Default::default());
/// let mut seen = Vec::new();
/// f.feed(b"POST /Data/SMS2DataCollector.aspx HTTP/1.1\r\nContent-Length: 10\r\n\r\n130\t20", |_| {});
/// f.gap(100, |e| seen.push(format!("{e:?}")));
/// assert_eq!(seen, [r#"IncompleteBody { at: 0, method: "POST", target: "/Data/SMS2DataCollector.aspx", received: [49, 51, 48, 9, 50, 48], missing: Some(4) }"#]);
/// ```
#[derive(Debug)]
pub struct RequestFramer {
    pub(super) cfg: FramerConfig,
    pub(super) state: State,
    /// Stream offset of the next byte fed.
    pub(super) pos: u64,
    /// The current request's head (request line first), or the candidate line while scanning.
    pub(super) head: Vec<u8>,
    /// Chunk-size line or trailer line being read.
    pub(super) line: Vec<u8>,
    /// The current request's body, when kept.
    pub(super) body: Vec<u8>,
    pub(super) skip: Option<(u64, u64)>,
    pub(super) stats: HttpStats,
}

impl RequestFramer {
    /// A framer with the given configuration, at the start of a stream.
    ///
    /// ```
    /// # use sunpower_pcap::http::{BodyFilter, FramerConfig, RequestFramer};
    /// let f = RequestFramer::new(FramerConfig { bodies: BodyFilter::All, ..Default::default() });
    /// assert_eq!((f.position(), f.is_response()), (0, false));
    /// ```
    pub fn new(cfg: FramerConfig) -> RequestFramer {
        RequestFramer {
            cfg,
            state: State::Line { synced: true },
            pos: 0,
            head: Vec::new(),
            line: Vec::new(),
            body: Vec::new(),
            skip: None,
            stats: HttpStats::default(),
        }
    }

    /// Makes the framer start by scanning for a request line, for a stream picked up mid-way
    /// (no SYN seen): what precedes the first request line is reported as skipped, not as an
    /// error.
    ///
    /// ```
    /// use sunpower_pcap::http::{HttpEvent, RequestFramer};
    /// let mut f = RequestFramer::new(Default::default()).mid_stream();
    /// let mut ev = Vec::new();
    /// f.feed(b"tail of a body\nGET / HTTP/1.1\r\n\r\n", |e| ev.push(format!("{e:?}")));
    /// assert_eq!(ev[0], "Skipped { at: 0, len: 15 }");
    /// ```
    pub fn mid_stream(mut self) -> RequestFramer {
        if self.state == (State::Line { synced: true }) && self.head.is_empty() {
            self.state = State::Line { synced: false };
        }
        self
    }

    /// The counters so far.
    ///
    /// ```
    /// # use sunpower_pcap::http::RequestFramer;
    /// assert_eq!(RequestFramer::new(Default::default()).stats().requests, 0);
    /// ```
    pub fn stats(&self) -> &HttpStats {
        &self.stats
    }

    /// Stream offset of the next byte to be fed (bytes fed plus gap lengths).
    ///
    /// ```
    /// # use sunpower_pcap::http::RequestFramer;
    /// let mut f = RequestFramer::new(Default::default());
    /// f.feed(b"GET", |_| {});
    /// f.gap(10, |_| {});
    /// assert_eq!(f.position(), 13);
    /// ```
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Bytes this framer takes, its own size and what its buffers hold (a request head, a kept
    /// body in progress), as counted against a memory budget.
    ///
    /// ```
    /// # use sunpower_pcap::http::RequestFramer;
    /// let mut f = RequestFramer::new(Default::default());
    /// let idle = f.memory_used();
    /// f.feed(b"POST /SMS2DataCollector.aspx HTTP/1.1\r\nContent-Length: 9\r\n\r\nabc", |_| {});
    /// assert!(f.memory_used() > idle);
    /// ```
    pub fn memory_used(&self) -> usize {
        std::mem::size_of::<RequestFramer>()
            + self.head.capacity()
            + self.line.capacity()
            + self.body.capacity()
    }

    /// Whether the stream was recognised as the server's side (responses).
    ///
    /// ```
    /// # use sunpower_pcap::http::RequestFramer;
    /// let mut f = RequestFramer::new(Default::default());
    /// f.feed(b"HTTP/1.1 200 OK\r\n", |_| {});
    /// assert!(f.is_response());
    /// ```
    pub fn is_response(&self) -> bool {
        self.state == State::Response
    }

    /// Whether the stream was found not to be HTTP ([`HttpEvent::NotHttp`]).
    #[cfg(test)]
    pub(crate) fn is_not_http(&self) -> bool {
        self.state == State::NotHttp
    }

    /// Feeds the next bytes of the stream; events are passed to `sink` as they complete.
    ///
    /// ```
    /// use sunpower_pcap::http::{HttpEvent, RequestFramer};
    /// let mut f = RequestFramer::new(Default::default());
    /// let mut n = 0;
    /// f.feed(b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n", |e| {
    ///     if let HttpEvent::Unselected { .. } = e { n += 1 }
    /// });
    /// assert_eq!(n, 2);
    /// ```
    pub fn feed<F>(&mut self, mut input: &[u8], mut sink: F)
    where
        F: FnMut(HttpEvent<'_>),
    {
        while !input.is_empty() {
            let n = self.step(input, &mut sink);
            input = &input[n..];
        }
    }

    /// Tells the framer that `len` bytes of the stream are missing here. A kept body in
    /// progress is delivered as [`HttpEvent::IncompleteBody`]; the framer then scans for the next
    /// request line.
    ///
    /// ```
    /// use sunpower_pcap::http::{HttpEvent, RequestFramer};
    /// let mut f = RequestFramer::new(Default::default());
    /// let mut ev = Vec::new();
    /// f.feed(b"GET /a HT", |_| {});
    /// f.gap(5, |e| ev.push(format!("{e:?}")));
    /// f.feed(b"xx\nGET /b HTTP/1.1\r\n\r\n", |e| ev.push(format!("{e:?}")));
    /// assert_eq!(ev[0], "Skipped { at: 0, len: 9 }");
    /// assert_eq!(ev[1], "Skipped { at: 14, len: 3 }");
    /// ```
    pub fn gap<F>(&mut self, len: u64, mut sink: F)
    where
        F: FnMut(HttpEvent<'_>),
    {
        self.interrupt(&mut sink);
        self.pos += len;
    }

    /// Ends the stream: a kept body in progress is delivered as [`HttpEvent::IncompleteBody`],
    /// a partial head is reported as skipped. The framer can be fed again afterwards, as a
    /// stream picked up mid-way.
    ///
    /// ```
    /// use sunpower_pcap::http::{HttpEvent, RequestFramer};
    /// let mut f = RequestFramer::new(Default::default());
    /// let mut ev = Vec::new();
    /// f.feed(b"POST /SMS2DataCollector.aspx HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", |_| {});
    /// f.finish(|e| ev.push(format!("{e:?}")));
    /// assert_eq!(ev, [r#"IncompleteBody { at: 0, method: "POST", target: "/SMS2DataCollector.aspx", received: [97, 98, 99], missing: None }"#]);
    /// ```
    pub fn finish<F>(&mut self, mut sink: F)
    where
        F: FnMut(HttpEvent<'_>),
    {
        self.interrupt(&mut sink);
    }

    fn interrupt<F: FnMut(HttpEvent<'_>)>(&mut self, sink: &mut F) {
        match self.state {
            State::Response | State::NotHttp => return,
            State::Line { .. } | State::DeadLine | State::Headers { .. } => {
                let n = self.head.len() as u64;
                self.skip_bytes(self.pos - n, n);
            }
            State::Body { req, remaining } => self.incomplete(req, Some(remaining), sink),
            State::ChunkSize { req }
            | State::ChunkData { req, .. }
            | State::ChunkDataEnd { req } => self.incomplete(req, None, sink),
            // Every chunk arrived: only the trailer section is cut, the body is whole.
            State::Trailers { req, .. } => self.complete(req, None, sink),
            State::Oversized { .. } => {
                self.stats.oversized_body_bytes += self.line.len() as u64;
                self.end_request();
            }
        }
        self.head.clear();
        self.line.clear();
        self.flush_skip(sink);
        self.state = State::Line { synced: false };
    }

    pub(super) fn error<F: FnMut(HttpEvent<'_>)>(
        &mut self,
        at: u64,
        error: FramingError,
        sink: &mut F,
    ) {
        sink(HttpEvent::Error { at, error });
    }

    /// Delivers `req`; `direct` is the whole body when it was never copied.
    pub(super) fn complete<F: FnMut(HttpEvent<'_>)>(
        &mut self,
        req: Request,
        direct: Option<&[u8]>,
        sink: &mut F,
    ) {
        if req.keep {
            let body = direct.unwrap_or(&self.body);
            let (method, target) = (self.method(&req), self.target(&req));
            sink(HttpEvent::Request {
                at: req.at,
                method,
                target,
                body,
            });
        } else if !req.oversized {
            let (method, target) = (self.method(&req), self.target(&req));
            sink(HttpEvent::Unselected {
                at: req.at,
                method,
                target,
                body_len: req.body_len,
            });
        }
        self.end_request();
        self.state = State::Line { synced: true };
    }

    /// Gives up on `req`, its body cut short (`missing` bytes of it, when known).
    pub(super) fn incomplete<F: FnMut(HttpEvent<'_>)>(
        &mut self,
        req: Request,
        missing: Option<u64>,
        sink: &mut F,
    ) {
        if req.keep {
            let (method, target) = (self.method(&req), self.target(&req));
            let received = &self.body[..];
            sink(HttpEvent::IncompleteBody {
                at: req.at,
                method,
                target,
                received,
                missing,
            });
        }
        self.end_request();
    }

    pub(super) fn end_request(&mut self) {
        self.head.clear();
        // Don't let one large body pin its buffer for the life of the connection.
        if self.body.capacity() > 1 << 20 {
            self.body = Vec::new();
        } else {
            self.body.clear();
        }
    }

    /// Body bytes of `req`: kept (copied) or counted.
    pub(super) fn body_bytes(&mut self, req: &mut Request, data: &[u8]) {
        req.body_len += data.len() as u64;
        if req.keep {
            self.body.extend_from_slice(data);
        } else {
            self.stats.discarded_body_bytes += data.len() as u64;
        }
    }

    /// Takes Content-Length body bytes of `req`, `remaining` of them still to come.
    fn step_body<F: FnMut(HttpEvent<'_>)>(
        &mut self,
        input: &[u8],
        mut req: Request,
        remaining: u64,
        sink: &mut F,
    ) -> usize {
        let n = remaining.min(input.len() as u64) as usize;
        self.pos += n as u64;
        if req.keep && self.body.is_empty() && n as u64 == remaining {
            // The whole body is in this chunk: hand it over without copying.
            req.body_len = remaining;
            self.complete(req, Some(&input[..n]), sink);
            return n;
        }
        self.body_bytes(&mut req, &input[..n]);
        if n as u64 == remaining {
            self.complete(req, None, sink);
        } else {
            self.state = State::Body {
                req,
                remaining: remaining - n as u64,
            };
        }
        n
    }

    /// Consumes a prefix of `input` (at least one byte, or a state change that will) and returns
    /// its length.
    fn step<F: FnMut(HttpEvent<'_>)>(&mut self, input: &[u8], sink: &mut F) -> usize {
        match self.state {
            // The very first byte of a stream fed from its start: HTTP/1 begins with a method
            // token (or a status line's `H`), possibly after empty lines.
            State::Line { synced: true }
                if self.pos == 0
                    && self.head.is_empty()
                    && !matches!(input.first(), Some(&b) if is_tchar(b) || b == b'\r' || b == b'\n') =>
            {
                self.state = State::NotHttp;
                sink(HttpEvent::NotHttp {
                    first_byte: input.first().copied().unwrap_or(0),
                });
                0
            }
            // Scanning for a request line (TLS and other non-HTTP streams land here): a line whose
            // first bytes already rule out a request is passed over without being copied.
            State::Line { synced: false } if self.head.is_empty() && !plausible_prefix(input) => {
                self.skip_unlikely_line(input)
            }
            State::Line { synced } => self.step_first_line(input, synced, sink),
            State::DeadLine => self.skip_dead_line(input),
            State::Headers { req, scan } => self.step_headers(input, req, scan, sink),
            State::Body { req, remaining } => self.step_body(input, req, remaining, sink),
            State::Oversized {
                req,
                remaining,
                chunked,
                at_line_start,
            } => self.skip_oversized(input, req, remaining, chunked, at_line_start, sink),
            State::ChunkSize { req } => self.step_chunk_size(input, req, sink),
            State::ChunkData { req, remaining } => self.step_chunk_data(input, req, remaining),
            State::ChunkDataEnd { req } => self.step_chunk_data_end(input, req, sink),
            State::Trailers { req, trailer_bytes } => {
                self.step_trailers(input, req, trailer_bytes, sink)
            }
            State::Response => {
                self.pos += input.len() as u64;
                self.stats.response_bytes += input.len() as u64;
                input.len()
            }
            State::NotHttp => {
                self.pos += input.len() as u64;
                self.stats.non_http_bytes += input.len() as u64;
                input.len()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::events::MALFORMED_REQUEST_LINE;
    use crate::http::test_support::*;
    use proptest::prelude::*;

    #[test]
    fn content_length_body_is_delivered_without_copy() {
        let mut f = RequestFramer::new(Default::default());
        let mut ok = false;
        let post = POST.to_vec();
        f.feed(&post, |e| {
            if let HttpEvent::Request { body, .. } = e {
                ok =
                    body.as_ptr() == post[post.len() - 12..].as_ptr() && body == b"100\tSPMS\t10\n";
            }
        });
        assert!(ok);
        assert_eq!(f.stats().requests, 1);
    }

    #[test]
    fn request_split_at_every_byte_yields_same_event() {
        for i in 0..=POST.len() {
            for j in i..=POST.len() {
                let ev = run_with(
                    &mut RequestFramer::new(Default::default()),
                    &[&POST[..i], &POST[i..j], &POST[j..]],
                );
                assert_eq!(
                    ev,
                    vec![req(0, COLLECTOR, b"100\tSPMS\t10\n")],
                    "split {i} {j}"
                );
            }
        }
    }

    #[test]
    fn keep_alive_two_requests() {
        let mut s = b"GET /status?x=1 HTTP/1.1\r\nHost: a\r\n\r\n".to_vec();
        s.extend_from_slice(POST);
        s.extend_from_slice(b"POST /other HTTP/1.1\r\ncontent-length: 3\r\n\r\nabc");
        s.extend_from_slice(CHUNKED);
        let first = 37u64;
        let third = first + POST.len() as u64;
        let fourth = third + 46;
        assert_eq!(
            run(&s),
            vec![
                Ev::Unsel(0, "GET".into(), "/status?x=1".into(), 0),
                req(first, COLLECTOR, b"100\tSPMS\t10\n"),
                Ev::Unsel(third, "POST".into(), "/other".into(), 3),
                req(
                    fourth,
                    "/Command/SMS2DataCollector.aspx",
                    b"100\tSPMS\t10\n"
                ),
            ]
        );
    }

    #[test]
    fn a_stream_starting_with_a_non_token_byte_is_not_http_and_is_not_scanned() {
        // A TLS ClientHello whose payload happens to hold a request line.
        let mut stream = vec![0x16, 0x03, 0x01, 0x00, 0x40];
        stream.extend_from_slice(b"x\nPOST /Data/SMS2DataCollector.aspx HTTP/1.1\r\n\r\n");
        for cut in 0..stream.len() {
            let mut f = RequestFramer::new(Default::default());
            let ev = run_with(&mut f, &[&stream[..cut], &stream[cut..]]);
            assert_eq!(ev, [Ev::NotHttp(0x16)], "cut at {cut}");
            assert!(f.is_not_http() && !f.is_response());
            let s = *f.stats();
            assert_eq!((s.non_http_bytes, s.requests), (stream.len() as u64, 0));
            // A hole and the end change nothing: the stream stays classified.
            f.gap(10, |_| panic!("event after a gap"));
            f.feed(b"GET / HTTP/1.1\r\n\r\n", |_| panic!("event after NotHttp"));
            f.finish(|_| panic!("event at the end"));
            assert_eq!(f.stats().non_http_bytes, stream.len() as u64 + 18);
        }
    }

    #[test]
    fn only_the_first_byte_of_a_stream_fed_from_its_start_decides() {
        // Empty lines may precede a request; a binary byte later is ordinary garbage.
        assert_eq!(
            run(b"\r\nGET / HTTP/1.1\r\n\r\n"),
            [Ev::Unsel(2, "GET".into(), "/".into(), 0)]
        );
        let ev = run(b"\x16\x03 junk\n");
        assert_eq!(ev, [Ev::NotHttp(0x16)]);
        let ev = run(b"GET / HTTP/1.1\r\n\r\n\x16\x03 junk\n");
        // Later in the stream it is a malformed request line, as any garbage would be.
        assert_eq!(
            ev,
            [
                Ev::Unsel(0, "GET".into(), "/".into(), 0),
                Ev::Err(18, MALFORMED_REQUEST_LINE),
                Ev::Skip(18, 8)
            ]
        );
        // Mid-stream, or after a hole at the start, the first byte proves nothing: scan.
        let mut f = RequestFramer::new(Default::default()).mid_stream();
        let ev = run_with(&mut f, &[b"\x16\x03 junk\nGET / HTTP/1.1\r\n\r\n"]);
        assert_eq!(
            ev,
            [Ev::Skip(0, 8), Ev::Unsel(8, "GET".into(), "/".into(), 0)]
        );
        assert!(!f.is_not_http());
        let mut f = RequestFramer::new(Default::default());
        f.gap(3, |_| {});
        let mut ev = Vec::new();
        f.feed(b"\x16\x03 junk\n", |e| ev.push(own(e)));
        f.finish(|e| ev.push(own(e)));
        assert_eq!(ev, [Ev::Skip(3, 8)]);
        assert!(!f.is_not_http());
    }

    #[test]
    fn finish_mid_body_reports_missing() {
        assert_eq!(
            run(&POST[..POST.len() - 2]),
            vec![Ev::Incomplete(
                0,
                COLLECTOR.into(),
                b"100\tSPMS\t1".to_vec(),
                Some(2)
            )]
        );
    }

    #[test]
    fn response_stream_is_detected_and_ignored() {
        let mut f = RequestFramer::new(Default::default());
        let s = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n1002\tPOST /x HTTP/1.1\r\n";
        assert_eq!(run_with(&mut f, &[s]), vec![Ev::Resp(0)]);
        assert!(f.is_response());
        assert_eq!(f.stats().response_bytes, s.len() as u64);
    }

    proptest! {
        #[test]
        fn any_split_yields_same_events(
            msgs in proptest::collection::vec(message(), 1..6),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
        ) {
            let stream: Vec<u8> = msgs.concat();
            let whole = run(&stream);
            let mut points: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
            points.push(0);
            points.push(stream.len());
            points.sort_unstable();
            let chunks: Vec<&[u8]> = points.windows(2).map(|w| &stream[w[0]..w[1]]).collect();
            prop_assert_eq!(run_with(&mut RequestFramer::new(Default::default()), &chunks), whole);
        }

        #[test]
        fn arbitrary_input_never_panics(
            parts in proptest::collection::vec(
                (proptest::collection::vec(prop_oneof![Just(b'\n'), Just(b' '), Just(b'0'), any::<u8>()], 0..80), 0u64..3),
                0..20),
            prefix in message(),
            cap in 8usize..100,
        ) {
            let cfg = FramerConfig { max_header_bytes: cap, max_body_bytes: 50, bodies: BodyFilter::All };
            let mut f = RequestFramer::new(cfg);
            let mut skipped = 0;
            f.feed(&prefix, |_| {});
            for (bytes, gap) in &parts {
                f.feed(bytes, |e| if let HttpEvent::Skipped { len, .. } = e { skipped += len });
                if *gap > 0 {
                    f.gap(*gap, |e| if let HttpEvent::Skipped { len, .. } = e { skipped += len });
                }
                prop_assert!(f.head.len() <= cap && f.body.len() <= 50);
            }
            f.finish(|e| if let HttpEvent::Skipped { len, .. } = e { skipped += len });
            prop_assert!(skipped <= f.position(), "more skipped than fed");
        }
    }
}
