//! Request heads: the request line, the status line that tells a response stream, header
//! lines and what they say of the body's framing (`Content-Length`, `Transfer-Encoding`).

use super::events::{
    CONFLICTING_CONTENT_LENGTH, INVALID_CONTENT_LENGTH, MALFORMED_HEADER, MALFORMED_REQUEST_LINE,
    UNSUPPORTED_TRANSFER_ENCODING,
};
use super::framer::{HeadScan, Request, RequestFramer, State};
use super::resync::plausible_start;
use super::{FramingError, HttpEvent};

/// Longest method accepted; keeps the scan for a request line from buffering long lines.
pub(super) const MAX_METHOD: usize = 32;

pub(super) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

pub(super) fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

pub(super) fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// `METHOD SP target SP HTTP/1.d` → (method end, target range).
pub(super) fn parse_request_line(line: &[u8]) -> Option<(usize, (usize, usize))> {
    let sp1 = line.iter().position(|&b| b == b' ')?;
    if sp1 == 0 || sp1 > MAX_METHOD || !line[..sp1].iter().all(|&b| is_tchar(b)) {
        return None;
    }
    let t0 = sp1 + 1;
    let sp2 = t0 + line[t0..].iter().position(|&b| b == b' ')?;
    if sp2 == t0 || !line[t0..sp2].iter().all(|&b| (0x21..=0x7e).contains(&b)) {
        return None;
    }
    match &line[sp2 + 1..] {
        [b'H', b'T', b'T', b'P', b'/', b'1', b'.', d] if d.is_ascii_digit() => {
            Some((sp1, (t0, sp2)))
        }
        _ => None,
    }
}

/// `HTTP/1.d SP NNN` followed by the end or a space.
pub(super) fn is_status_line(line: &[u8]) -> bool {
    match line {
        [b'H', b'T', b'T', b'P', b'/', b'1', b'.', d, b' ', a, b, c, rest @ ..] => {
            d.is_ascii_digit()
                && [a, b, c].iter().all(|x| x.is_ascii_digit())
                && matches!(rest, [] | [b' ', ..])
        }
        _ => false,
    }
}

/// Appends input up to and including the first LF to `buf`, unless `buf` would exceed `cap`.
/// Returns the bytes consumed and whether the line is complete, or `None` when too long.
pub(super) fn take_line(buf: &mut Vec<u8>, input: &[u8], cap: usize) -> Option<(usize, bool)> {
    let (n, complete) = match memchr::memchr(b'\n', input) {
        Some(i) => (i + 1, true),
        None => (input.len(), false),
    };
    if buf.len() + n > cap {
        return None;
    }
    buf.extend_from_slice(&input[..n]);
    Some((n, complete))
}

pub(super) fn parse_decimal(s: &[u8]) -> Option<u64> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    s.iter().try_fold(0u64, |acc, &d| {
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

impl RequestFramer {
    /// Gives up on the head of `req` after an error: its bytes are skipped and the framer scans
    /// on from here.
    pub(super) fn abandon_head<F: FnMut(HttpEvent<'_>)>(
        &mut self,
        req: Request,
        error: FramingError,
        mid_line: bool,
        sink: &mut F,
    ) {
        self.error(req.at, error, sink);
        let n = self.head.len() as u64;
        self.skip_bytes(self.pos - n, n);
        self.head.clear();
        self.state = if mid_line {
            State::DeadLine
        } else {
            State::Line { synced: false }
        };
    }

    /// The method of `req`, read from `head`.
    pub(super) fn method(&self, req: &Request) -> &str {
        std::str::from_utf8(&self.head[..req.method_end]).unwrap_or("")
    }

    /// The request target of `req`, read from `head`.
    pub(super) fn target(&self, req: &Request) -> &str {
        std::str::from_utf8(&self.head[req.target.0..req.target.1]).unwrap_or("")
    }

    /// Handles the first line of a message (`head` holds it, LF included).
    pub(super) fn first_line<F: FnMut(HttpEvent<'_>)>(&mut self, synced: bool, sink: &mut F) {
        let at = self.pos - self.head.len() as u64;
        let line = trim_eol(&self.head);
        if synced && line.is_empty() {
            self.stats.blank_line_bytes += self.head.len() as u64;
            self.head.clear();
        } else if let Some((method_end, target)) = parse_request_line(line) {
            self.flush_skip(sink);
            self.state = State::Headers {
                req: Request::new(at, method_end, target),
                scan: HeadScan::new(self.head.len()),
            };
        } else if is_status_line(line) {
            self.flush_skip(sink);
            self.stats.response_bytes += self.head.len() as u64;
            self.head.clear();
            self.state = State::Response;
            sink(HttpEvent::Response { at });
        } else {
            if synced {
                self.error(at, MALFORMED_REQUEST_LINE, sink);
            }
            let n = self.head.len() as u64;
            self.skip_bytes(at, n);
            self.head.clear();
            self.state = State::Line { synced: false };
        }
    }

    /// Handles one complete header line (`head[scan.line_start..]`).
    pub(super) fn header_line<F: FnMut(HttpEvent<'_>)>(
        &mut self,
        req: Request,
        mut scan: HeadScan,
        sink: &mut F,
    ) {
        let line = trim_eol(&self.head[scan.line_start..]);
        if line.is_empty() {
            self.end_of_head(req, scan, sink);
            return;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return self.abandon_head(req, MALFORMED_HEADER, false, sink);
        };
        let name = &line[..colon];
        // Empty names, whitespace before the colon and obs-fold lines are rejected (RFC 9112 §5).
        if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
            return self.abandon_head(req, MALFORMED_HEADER, false, sink);
        }
        let value = trim_ows(&line[colon + 1..]);
        if name.eq_ignore_ascii_case(b"content-length") {
            for v in value.split(|&b| b == b',') {
                let Some(n) = parse_decimal(trim_ows(v)) else {
                    return self.abandon_head(req, INVALID_CONTENT_LENGTH, false, sink);
                };
                if scan.content_length.is_some_and(|c| c != n) {
                    return self.abandon_head(req, CONFLICTING_CONTENT_LENGTH, false, sink);
                }
                scan.content_length = Some(n);
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            scan.te_seen = true;
            if let Some(last) = value
                .split(|&b| b == b',')
                .map(trim_ows)
                .rfind(|c| !c.is_empty())
            {
                scan.te_chunked = last.eq_ignore_ascii_case(b"chunked");
            }
        }
        scan.line_start = self.head.len();
        self.state = State::Headers { req, scan };
    }

    /// The empty line after the headers: on to the body the headers announced.
    pub(super) fn end_of_head<F: FnMut(HttpEvent<'_>)>(
        &mut self,
        mut req: Request,
        scan: HeadScan,
        sink: &mut F,
    ) {
        if scan.te_seen && !scan.te_chunked {
            return self.abandon_head(req, UNSUPPORTED_TRANSFER_ENCODING, false, sink);
        }
        self.stats.requests += 1;
        req.keep = self.selected(&req);
        if scan.te_seen {
            if scan.content_length.is_some() {
                self.stats.content_length_with_chunked += 1;
            }
            self.line.clear();
            self.state = State::ChunkSize { req };
            return;
        }
        let len = scan.content_length.unwrap_or(0);
        if len > self.cfg.max_body_bytes {
            return self.oversized(req, len, false, sink);
        }
        if len == 0 {
            self.complete(req, None, sink);
        } else {
            self.state = State::Body {
                req,
                remaining: len,
            };
        }
    }

    /// Reads a request line (or, when `synced` is false, a candidate while scanning) into `head`.
    pub(super) fn step_first_line<F: FnMut(HttpEvent<'_>)>(
        &mut self,
        input: &[u8],
        synced: bool,
        sink: &mut F,
    ) -> usize {
        let Some((n, complete)) = take_line(&mut self.head, input, self.cfg.max_header_bytes)
        else {
            // A line this long is no request line: pass over the rest of it.
            if synced {
                let at = self.pos - self.head.len() as u64;
                let limit = self.cfg.max_header_bytes;
                self.error(at, FramingError::HeaderTooLarge { limit }, sink);
            }
            let n = self.head.len() as u64;
            self.skip_bytes(self.pos - n, n);
            self.head.clear();
            self.state = State::DeadLine;
            return 0;
        };
        self.pos += n as u64;
        if !synced && !plausible_start(&self.head) {
            let len = self.head.len() as u64;
            self.skip_bytes(self.pos - len, len);
            self.head.clear();
            if !complete {
                self.state = State::DeadLine;
            }
        } else if complete {
            self.first_line(synced, sink);
        }
        n
    }

    /// Reads header lines into `head`; `scan` holds what the previous ones said.
    pub(super) fn step_headers<F: FnMut(HttpEvent<'_>)>(
        &mut self,
        input: &[u8],
        req: Request,
        scan: HeadScan,
        sink: &mut F,
    ) -> usize {
        let Some((n, complete)) = take_line(&mut self.head, input, self.cfg.max_header_bytes)
        else {
            let limit = self.cfg.max_header_bytes;
            self.abandon_head(req, FramingError::HeaderTooLarge { limit }, true, sink);
            return 0;
        };
        self.pos += n as u64;
        if complete {
            self.header_line(req, scan, sink);
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::test_support::*;
    use crate::http::FramerConfig;

    #[test]
    fn header_names_in_any_case_and_lf_line_ends() {
        let s = b"POST http://collector.example/Data/SMS2DataCollector.aspx?a=b HTTP/1.0\nCONTENT-LENGTH:  2\n\nab";
        assert_eq!(
            run(s),
            vec![req(
                0,
                "http://collector.example/Data/SMS2DataCollector.aspx?a=b",
                b"ab"
            )]
        );
    }

    #[test]
    fn blank_lines_before_request_are_ignored() {
        let mut s = b"\r\n\n".to_vec();
        s.extend_from_slice(POST);
        let mut f = RequestFramer::new(Default::default());
        assert_eq!(
            run_with(&mut f, &[&s]),
            vec![req(3, COLLECTOR, b"100\tSPMS\t10\n")]
        );
        assert_eq!(f.stats().blank_line_bytes, 3);
    }

    #[test]
    fn conflicting_content_length_is_error_and_resyncs() {
        let bad = b"POST /Data/SMS2DataCollector.aspx HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd\n";
        let mut s = bad.to_vec();
        s.extend_from_slice(POST);
        let n = bad.len() as u64;
        let mut f = RequestFramer::new(Default::default());
        assert_eq!(
            run_with(&mut f, &[&s]),
            vec![
                Ev::Err(0, CONFLICTING_CONTENT_LENGTH),
                Ev::Skip(0, n),
                req(n, COLLECTOR, b"100\tSPMS\t10\n")
            ]
        );
    }

    #[test]
    fn repeated_equal_content_lengths_are_accepted() {
        let s = b"POST /SMS2DataCollector.aspx HTTP/1.1\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok";
        assert_eq!(run(s), vec![req(0, "/SMS2DataCollector.aspx", b"ok")]);
    }

    #[test]
    fn invalid_content_length_is_error() {
        let s = b"POST /a HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n";
        assert_eq!(
            run(s),
            vec![
                Ev::Err(0, INVALID_CONTENT_LENGTH),
                Ev::Skip(0, s.len() as u64)
            ]
        );
    }

    #[test]
    fn content_length_with_chunked_frames_as_chunked() {
        let s = b"POST /SMS2DataCollector.aspx HTTP/1.1\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n";
        let mut f = RequestFramer::new(Default::default());
        assert_eq!(
            run_with(&mut f, &[s]),
            vec![req(0, "/SMS2DataCollector.aspx", b"ab")]
        );
        assert_eq!(f.stats().content_length_with_chunked, 1);
    }

    #[test]
    fn transfer_coding_not_ending_in_chunked_is_error() {
        let s = b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n";
        assert_eq!(
            run(s),
            vec![
                Ev::Err(0, UNSUPPORTED_TRANSFER_ENCODING),
                Ev::Skip(0, s.len() as u64)
            ]
        );
    }

    #[test]
    fn header_section_over_cap_is_error() {
        let cfg = FramerConfig {
            max_header_bytes: 64,
            ..Default::default()
        };
        let mut f = RequestFramer::new(cfg);
        let mut s = b"GET / HTTP/1.1\r\nX: ".to_vec();
        s.extend_from_slice(&[b'a'; 100]);
        s.extend_from_slice(b"\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
        let n = s.len() as u64 - 19;
        assert_eq!(
            run_with(&mut f, &[&s]),
            vec![
                Ev::Err(0, FramingError::HeaderTooLarge { limit: 64 }),
                Ev::Skip(0, n),
                Ev::Unsel(n, "GET".into(), "/b".into(), 0)
            ]
        );
    }

    #[test]
    fn obs_fold_and_space_before_colon_are_rejected() {
        let s = b"GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n";
        assert_eq!(run(s)[0], Ev::Err(0, MALFORMED_HEADER));
        let s = b"GET / HTTP/1.1\r\nA : b\r\n\r\n";
        assert_eq!(run(s)[0], Ev::Err(0, MALFORMED_HEADER));
    }
}
