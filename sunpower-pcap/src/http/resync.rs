//! Resynchronisation: finding the next request line after a loss, an error or inside a body over
//! the limit, and reporting every byte passed over in exactly one [`HttpEvent::Skipped`].

use super::framer::{Request, RequestFramer, State};
use super::head::{is_tchar, parse_request_line, take_line, trim_eol, MAX_METHOD};
use super::HttpEvent;

/// Whether a partial line could still become a request or status line.
pub(super) fn plausible_start(line: &[u8]) -> bool {
    let head = &line[..line.len().min(MAX_METHOD + 1)];
    let n = head.len().min(5);
    if head[..n] == b"HTTP/"[..n] {
        return true;
    }
    match head.iter().position(|&b| b == b' ') {
        Some(i) => i > 0 && head[..i].iter().all(|&b| is_tchar(b)),
        None => head.len() <= MAX_METHOD && head.iter().all(|&b| is_tchar(b)),
    }
}

/// Whether the line that starts `input` could be a request or status line, judging by what of
/// its first bytes is at hand (as [`plausible_start`] would once the line were collected).
pub(super) fn plausible_prefix(input: &[u8]) -> bool {
    let probe = &input[..input.len().min(MAX_METHOD + 1)];
    let probe = match memchr::memchr(b'\n', probe) {
        Some(i) => &probe[..=i],
        None => probe,
    };
    plausible_start(probe)
}

impl RequestFramer {
    pub(super) fn skip_bytes(&mut self, at: u64, len: u64) {
        if len == 0 {
            return;
        }
        self.skip = Some(match self.skip {
            Some((a, l)) if a + l == at => (a, l + len),
            Some((a, l)) => (a, l + len), // not reached: runs are flushed at every hole
            None => (at, len),
        });
    }

    pub(super) fn flush_skip<F: FnMut(HttpEvent<'_>)>(&mut self, sink: &mut F) {
        if let Some((at, len)) = self.skip.take() {
            sink(HttpEvent::Skipped { at, len });
        }
    }

    /// Starts skipping `len` bytes of a body over the size limit (the whole body, or one chunk);
    /// the request is reported the first time.
    pub(super) fn oversized<F: FnMut(HttpEvent<'_>)>(
        &mut self,
        mut req: Request,
        len: u64,
        chunked: bool,
        sink: &mut F,
    ) {
        if !req.oversized {
            req.oversized = true;
            self.stats.discarded_body_bytes += self.body.len() as u64;
            self.body.clear();
            let selected = self.selected(&req);
            req.keep = false;
            let (method, target) = (self.method(&req), self.target(&req));
            sink(HttpEvent::OversizedBody {
                at: req.at,
                method,
                target,
                selected,
                declared: (!chunked).then_some(len),
            });
        }
        self.line.clear();
        self.state = State::Oversized {
            req,
            remaining: len,
            chunked,
            at_line_start: true,
        };
    }

    /// Skips a prefix of an oversized body in `input` (at most `remaining` bytes, the first of
    /// them at the start of a line when `at_line_start`); a complete request line at the start
    /// of a line ends the skip. Returns the bytes consumed.
    pub(super) fn skip_oversized<F: FnMut(HttpEvent<'_>)>(
        &mut self,
        input: &[u8],
        req: Request,
        remaining: u64,
        chunked: bool,
        mut at_line_start: bool,
        sink: &mut F,
    ) -> usize {
        let input = &input[..remaining.min(input.len() as u64) as usize];
        let to_line_end = |input: &[u8]| match memchr::memchr(b'\n', input) {
            Some(i) => (i + 1, true),
            None => (input.len(), false),
        };
        let n = if !at_line_start || (self.line.is_empty() && !plausible_prefix(input)) {
            let (n, ended) = to_line_end(input);
            at_line_start = ended;
            self.stats.oversized_body_bytes += n as u64;
            n
        } else {
            match take_line(&mut self.line, input, self.cfg.max_header_bytes) {
                None => {
                    // Too long for a request line: the rest of this line is body.
                    self.stats.oversized_body_bytes += self.line.len() as u64;
                    self.line.clear();
                    at_line_start = false;
                    0
                }
                Some((n, complete)) if !plausible_start(&self.line) => {
                    self.stats.oversized_body_bytes += self.line.len() as u64;
                    self.line.clear();
                    at_line_start = complete;
                    n
                }
                Some((n, complete)) => {
                    if complete && parse_request_line(trim_eol(&self.line)).is_some() {
                        // The body was shorter than declared: frame the request found.
                        self.pos += n as u64;
                        self.end_request();
                        std::mem::swap(&mut self.head, &mut self.line);
                        self.line.clear();
                        self.first_line(true, sink);
                        return n;
                    }
                    if complete {
                        self.stats.oversized_body_bytes += self.line.len() as u64;
                        self.line.clear();
                    }
                    n
                }
            }
        };
        self.pos += n as u64;
        let remaining = remaining - n as u64;
        if remaining > 0 {
            self.state = State::Oversized {
                req,
                remaining,
                chunked,
                at_line_start,
            };
            return n;
        }
        // The declared length is used up: a partial line still held is body too.
        self.stats.oversized_body_bytes += self.line.len() as u64;
        self.line.clear();
        if chunked {
            self.state = State::ChunkDataEnd { req };
        } else {
            self.complete(req, None, sink);
        }
        n
    }

    /// Passes over a line whose first bytes already rule out a request, without copying it.
    pub(super) fn skip_unlikely_line(&mut self, input: &[u8]) -> usize {
        let n = match memchr::memchr(b'\n', input) {
            Some(i) => i + 1,
            None => {
                self.state = State::DeadLine;
                input.len()
            }
        };
        self.skip_bytes(self.pos, n as u64);
        self.pos += n as u64;
        n
    }

    /// Passes over the rest of a line that cannot be a request line.
    pub(super) fn skip_dead_line(&mut self, input: &[u8]) -> usize {
        let n = match memchr::memchr(b'\n', input) {
            Some(i) => {
                self.state = State::Line { synced: false };
                i + 1
            }
            None => input.len(),
        };
        self.skip_bytes(self.pos, n as u64);
        self.pos += n as u64;
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::events::MALFORMED_REQUEST_LINE;
    use crate::http::test_support::*;
    use crate::http::FramerConfig;

    #[test]
    fn mid_stream_start_syncs_on_next_request_line() {
        let mut s = b"130\t20170107171000\tserial\n140\tx\n".to_vec();
        let skipped = s.len() as u64;
        s.extend_from_slice(POST);
        let mut f = RequestFramer::new(Default::default()).mid_stream();
        assert_eq!(
            run_with(&mut f, &[&s]),
            vec![
                Ev::Skip(0, skipped),
                req(skipped, COLLECTOR, b"100\tSPMS\t10\n")
            ]
        );
    }

    #[test]
    fn malformed_request_line_is_error_then_resyncs() {
        let mut s = b"garbage line\r\nmore\r\n".to_vec();
        s.extend_from_slice(POST);
        assert_eq!(
            run(&s),
            vec![
                Ev::Err(0, MALFORMED_REQUEST_LINE),
                Ev::Skip(0, 20),
                req(20, COLLECTOR, b"100\tSPMS\t10\n")
            ]
        );
    }

    #[test]
    fn body_larger_than_max_is_skipped_and_next_request_follows() {
        let cfg = FramerConfig {
            max_body_bytes: 4,
            ..Default::default()
        };
        let mut f = RequestFramer::new(cfg);
        let mut s = POST.to_vec();
        s.extend_from_slice(
            b"POST /SMS2DataCollector.aspx HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd",
        );
        let second = POST.len() as u64;
        assert_eq!(
            run_with(&mut f, &[&s]),
            vec![
                Ev::Over(0, COLLECTOR.into(), true, Some(12)),
                req(second, "/SMS2DataCollector.aspx", b"abcd")
            ]
        );
        let st = f.stats();
        assert_eq!(st.oversized_body_bytes, 12);
        assert_eq!((st.requests, st.discarded_body_bytes), (2, 0));
    }

    /// Issue 12: a declared length over the limit, kept or not, must not swallow the requests
    /// that follow on the connection; every byte passed over is counted.
    #[test]
    fn a_huge_declared_body_is_skipped_up_to_the_next_request_line() {
        let huge: [(&[u8], &str, bool, u64); 3] = [
            (b"GET / HTTP/1.1\r\nContent-Length: 1000000000\r\n\r\n", "/", false, 1_000_000_000),
            (b"POST /favicon.ico HTTP/1.1\r\nContent-Length: 9223372036854775808\r\n\r\n", "/favicon.ico", false, 1 << 63),
            (b"POST /Data/SMS2DataCollector.aspx HTTP/1.1\r\nContent-Length: 9223372036854775808\r\n\r\n", COLLECTOR, true, 1 << 63),
        ];
        for (head, target, selected, declared) in huge {
            // The "body": a line of junk, a line that only starts like a request, then two posts.
            let junk: &[u8] = b"100\tSPMS\t1\nPOST /x HTTP/9.9 no\n";
            let mut s = [head, junk, POST].concat();
            s.extend_from_slice(POST);
            let first = (head.len() + junk.len()) as u64;
            let second = first + POST.len() as u64;
            for chunk in [1, 7, s.len()] {
                let mut f = RequestFramer::new(Default::default());
                let chunks: Vec<&[u8]> = s.chunks(chunk).collect();
                assert_eq!(
                    run_with(&mut f, &chunks),
                    vec![
                        Ev::Over(0, target.into(), selected, Some(declared)),
                        req(first, COLLECTOR, b"100\tSPMS\t10\n"),
                        req(second, COLLECTOR, b"100\tSPMS\t10\n"),
                    ],
                    "{target}, chunks of {chunk}"
                );
                let st = f.stats();
                assert_eq!(st.requests, 3);
                assert_eq!(st.oversized_body_bytes, junk.len() as u64);
            }
        }
    }

    #[test]
    fn an_oversized_body_cut_by_a_gap_or_the_end_counts_what_was_skipped() {
        let head = b"GET / HTTP/1.1\r\nContent-Length: 1000000000\r\n\r\n";
        let mut f = RequestFramer::new(Default::default());
        let mut ev = Vec::new();
        f.feed(head, |e| ev.push(own(e)));
        f.feed(b"abc\nPOS", |e| ev.push(own(e)));
        f.gap(10, |e| ev.push(own(e)));
        f.feed(POST, |e| ev.push(own(e)));
        let at = head.len() as u64 + 7 + 10;
        assert_eq!(
            ev,
            [
                Ev::Over(0, "/".into(), false, Some(1_000_000_000)),
                req(at, COLLECTOR, b"100\tSPMS\t10\n")
            ]
        );
        assert_eq!(f.stats().oversized_body_bytes, 7);
        // A body that really is as long as declared ends by count.
        let cfg = FramerConfig {
            max_body_bytes: 2,
            ..Default::default()
        };
        let mut f = RequestFramer::new(cfg);
        let s = [
            &b"GET / HTTP/1.1\r\nContent-Length: 6\r\n\r\nGET / "[..],
            POST,
        ]
        .concat();
        assert_eq!(
            run_with(&mut f, &[&s]),
            [
                Ev::Over(0, "/".into(), false, Some(6)),
                Ev::Over(43, COLLECTOR.into(), true, Some(12)),
            ]
        );
        assert_eq!(f.stats().oversized_body_bytes, 6 + 12);
    }

    #[test]
    fn chunked_body_over_max_is_skipped() {
        let cfg = FramerConfig {
            max_body_bytes: 3,
            ..Default::default()
        };
        let mut f = RequestFramer::new(cfg);
        let s = b"POST /SMS2DataCollector.aspx HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n2\r\ncd\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n";
        assert_eq!(
            run_with(&mut f, &[s]),
            vec![
                Ev::Over(0, "/SMS2DataCollector.aspx".into(), true, None),
                Ev::Unsel(88, "GET".into(), "/".into(), 0)
            ]
        );
        let st = f.stats();
        assert_eq!((st.discarded_body_bytes, st.oversized_body_bytes), (2, 2));
    }

    #[test]
    fn gap_in_body_delivers_incomplete_then_resyncs() {
        let mut f = RequestFramer::new(Default::default());
        let mut out = Vec::new();
        f.feed(&POST[..POST.len() - 8], |e| out.push(own(e)));
        f.gap(6, |e| out.push(own(e)));
        f.feed(b"\n", |e| out.push(own(e)));
        f.feed(POST, |e| out.push(own(e)));
        let at = POST.len() as u64 - 8 + 6;
        assert_eq!(
            out,
            vec![
                Ev::Incomplete(0, COLLECTOR.into(), b"100\t".to_vec(), Some(8)),
                Ev::Skip(at, 1),
                req(at + 1, COLLECTOR, b"100\tSPMS\t10\n"),
            ]
        );
        assert_eq!(
            f.position(),
            POST.len() as u64 - 8 + 6 + 1 + POST.len() as u64
        );
    }

    #[test]
    fn finish_mid_head_reports_skipped() {
        assert_eq!(run(&POST[..30]), vec![Ev::Skip(0, 30)]);
    }

    #[test]
    fn response_found_while_scanning() {
        let mut f = RequestFramer::new(Default::default()).mid_stream();
        assert_eq!(
            run_with(&mut f, &[b"ab\nHTTP/1.1 200\r\n"]),
            vec![Ev::Skip(0, 3), Ev::Resp(3)]
        );
    }
}
