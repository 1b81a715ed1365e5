//! Chunked bodies (RFC 9112 §7.1): chunk-size lines, and what a chunk framing error costs.

use super::events::{CHUNK_SIZE_OVERFLOW, MALFORMED_CHUNK, MALFORMED_HEADER};
use super::framer::{Request, RequestFramer, State};
use super::head::{is_tchar, take_line, trim_eol, trim_ows};
use super::{FramingError, HttpEvent};

/// Longest chunk-size line (size and extensions).
pub(super) const MAX_CHUNK_LINE: usize = 4096;

impl RequestFramer {
    /// Handles a complete chunk-size line (in `line`) of `req`.
    pub(super) fn chunk_size_line<F: FnMut(HttpEvent<'_>)>(&mut self, req: Request, sink: &mut F) {
        let line = trim_eol(&self.line);
        let size = match line.iter().position(|&b| b == b';') {
            Some(i) => &line[..i],
            None => line,
        };
        let size = trim_ows(size);
        let digits = {
            let z = size.iter().take_while(|&&b| b == b'0').count();
            &size[z.min(size.len().saturating_sub(1))..]
        };
        if size.is_empty() || !size.iter().all(u8::is_ascii_hexdigit) {
            return self.chunk_error(req, MALFORMED_CHUNK, sink);
        }
        if digits.len() > 16 {
            return self.chunk_error(req, CHUNK_SIZE_OVERFLOW, sink);
        }
        let n = digits.iter().fold(0u64, |acc, &d| {
            (acc << 4) | u64::from((d as char).to_digit(16).unwrap_or(0))
        });
        self.line.clear();
        if n == 0 {
            self.state = State::Trailers {
                req,
                trailer_bytes: 0,
            };
            return;
        }
        if req.oversized || req.body_len.saturating_add(n) > self.cfg.max_body_bytes {
            return self.oversized(req, n, true, sink);
        }
        self.state = State::ChunkData { req, remaining: n };
    }

    /// A chunked body whose framing broke: report, deliver what was kept, scan on.
    pub(super) fn chunk_error<F: FnMut(HttpEvent<'_>)>(
        &mut self,
        req: Request,
        error: FramingError,
        sink: &mut F,
    ) {
        let n = self.line.len() as u64;
        let at = self.pos - n;
        self.error(at, error, sink);
        self.incomplete(req, None, sink);
        self.skip_bytes(at, n);
        self.line.clear();
        self.state = State::Line { synced: false };
    }

    /// Reads a chunk-size line of `req`.
    pub(super) fn step_chunk_size<F: FnMut(HttpEvent<'_>)>(
        &mut self,
        input: &[u8],
        req: Request,
        sink: &mut F,
    ) -> usize {
        let Some((n, complete)) = take_line(&mut self.line, input, MAX_CHUNK_LINE) else {
            self.chunk_error(req, MALFORMED_CHUNK, sink);
            self.state = State::DeadLine;
            return 0;
        };
        self.pos += n as u64;
        if complete {
            self.chunk_size_line(req, sink);
        }
        n
    }

    /// Takes chunk data of `req`, `remaining` bytes of it still to come.
    pub(super) fn step_chunk_data(
        &mut self,
        input: &[u8],
        mut req: Request,
        remaining: u64,
    ) -> usize {
        let n = remaining.min(input.len() as u64) as usize;
        self.pos += n as u64;
        self.body_bytes(&mut req, &input[..n]);
        self.state = if n as u64 == remaining {
            State::ChunkDataEnd { req }
        } else {
            State::ChunkData {
                req,
                remaining: remaining - n as u64,
            }
        };
        n
    }

    /// Takes the line end after chunk data of `req`.
    pub(super) fn step_chunk_data_end<F: FnMut(HttpEvent<'_>)>(
        &mut self,
        input: &[u8],
        req: Request,
        sink: &mut F,
    ) -> usize {
        // Exactly CRLF (or a bare LF) follows chunk data. Judged byte by byte, so that
        // where the stream happens to be cut never moves the point of resynchronisation.
        match input.first() {
            Some(b'\n') => {
                self.pos += 1;
                self.line.clear();
                self.state = State::ChunkSize { req };
                1
            }
            Some(b'\r') if self.line.is_empty() => {
                self.pos += 1;
                self.line.push(b'\r');
                1
            }
            Some(_) => {
                self.chunk_error(req, MALFORMED_CHUNK, sink);
                0
            }
            None => 0,
        }
    }

    /// Reads the trailer section after the last chunk, `trailer_bytes` of it read already.
    pub(super) fn step_trailers<F: FnMut(HttpEvent<'_>)>(
        &mut self,
        input: &[u8],
        req: Request,
        trailer_bytes: usize,
        sink: &mut F,
    ) -> usize {
        let cap = self.cfg.max_header_bytes.saturating_sub(trailer_bytes);
        let Some((n, complete)) = take_line(&mut self.line, input, cap) else {
            let limit = self.cfg.max_header_bytes;
            self.chunk_error(req, FramingError::HeaderTooLarge { limit }, sink);
            self.state = State::DeadLine;
            return 0;
        };
        self.pos += n as u64;
        if complete {
            let trailer_bytes = trailer_bytes + self.line.len();
            let line = trim_eol(&self.line);
            let valid = line
                .iter()
                .position(|&b| b == b':')
                .is_some_and(|c| c > 0 && line[..c].iter().all(|&b| is_tchar(b)));
            if line.is_empty() {
                self.line.clear();
                self.complete(req, None, sink);
            } else if valid {
                self.line.clear();
                self.state = State::Trailers { req, trailer_bytes };
            } else {
                self.chunk_error(req, MALFORMED_HEADER, sink);
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::test_support::*;

    #[test]
    fn garbage_after_chunk_data_resyncs_at_the_same_byte_however_the_stream_is_cut() {
        let stream: &[u8] = b"POST /Data/SMS2DataCollector.aspx HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\naXYPOST / HTTP/1.1\r\n\r\n";
        let whole = run(stream);
        for cut in 1..stream.len() {
            let (a, b) = stream.split_at(cut);
            assert_eq!(
                run_with(&mut RequestFramer::new(Default::default()), &[a, b]),
                whole,
                "cut at {cut}"
            );
        }
        // The bad byte right after the chunk is where scanning starts: nothing is skipped.
        assert!(
            whole
                .iter()
                .any(|e| matches!(e, Ev::Unsel(_, m, _, _) if m == "XYPOST")),
            "{whole:?}"
        );
        assert!(
            !whole.iter().any(|e| matches!(e, Ev::Skip(..))),
            "{whole:?}"
        );
    }

    #[test]
    fn chunked_body_split_at_every_byte() {
        let want = vec![req(
            0,
            "/Command/SMS2DataCollector.aspx",
            b"100\tSPMS\t10\n",
        )];
        let mut f = RequestFramer::new(Default::default());
        let one: Vec<&[u8]> = CHUNKED.chunks(1).collect();
        assert_eq!(run_with(&mut f, &one), want);
        for i in 0..=CHUNKED.len() {
            assert_eq!(
                run_with(
                    &mut RequestFramer::new(Default::default()),
                    &[&CHUNKED[..i], &CHUNKED[i..]]
                ),
                want
            );
        }
    }

    #[test]
    fn chunk_size_overflow_is_error_and_partial_body_delivered() {
        let head = b"POST /SMS2DataCollector.aspx HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n";
        let mut s = head.to_vec();
        s.extend_from_slice(b"10000000000000000\r\n");
        s.extend_from_slice(POST);
        let h = head.len() as u64;
        assert_eq!(
            run(&s),
            vec![
                Ev::Err(h, CHUNK_SIZE_OVERFLOW),
                Ev::Incomplete(0, "/SMS2DataCollector.aspx".into(), b"a".to_vec(), None),
                Ev::Skip(h, 19),
                req(h + 19, COLLECTOR, b"100\tSPMS\t10\n"),
            ]
        );
    }

    #[test]
    fn missing_crlf_after_chunk_data_is_error() {
        let s = b"POST /SMS2DataCollector.aspx HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc\r\n";
        let ev = run(s);
        assert_eq!(ev[0], Ev::Err(73, MALFORMED_CHUNK));
        assert_eq!(
            ev[1],
            Ev::Incomplete(0, "/SMS2DataCollector.aspx".into(), b"a".to_vec(), None)
        );
    }
}
