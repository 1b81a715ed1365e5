//! Iterating a POST body: lines, then records, each error positioned and never fatal.

use crate::error::{ErrorKind, LineError};
use crate::record::{FieldProblems, Record};
use crate::value::LastTimestamp;

/// A raw POST body: lines of TAB-separated fields, ending in LF or CRLF.
///
/// Decoding borrows from the body; nothing is copied or allocated per record.
///
/// ```
/// use sunpower_proto::Body;
/// let body = b"100\tSPMS\t10\tZT1\t20170107171925\r\n\n102\tabc\r\n";
/// let types: Vec<u16> = Body::new(body)
///     .records()
///     .map(|r| r.unwrap().record_type())
///     .collect();
/// assert_eq!(types, [100, 102]);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Body<'a> {
    bytes: &'a [u8],
}

impl<'a> Body<'a> {
    /// Wraps the bytes of a body.
    ///
    /// ```
    /// use sunpower_proto::Body;
    /// let body = Body::new(b"102\tabc\n");
    /// assert_eq!(body.records().count(), 1);
    /// ```
    pub fn new(bytes: &'a [u8]) -> Self {
        Body { bytes }
    }

    /// The non-empty lines, with their numbers and offsets (an empty line is counted but not
    /// returned; CRLF is cut).
    fn lines(&self) -> Lines<'a> {
        Lines {
            rest: self.bytes,
            offset: 0,
            number: 0,
        }
    }

    /// Every non-empty line decoded: a record, or an error with the line's position.
    ///
    /// ```
    /// use sunpower_proto::{Body, ErrorKind, Record};
    /// let items: Vec<_> = Body::new(b"102\tabc\n\xff\xfe\n102\tdef\n").records().collect();
    /// assert!(matches!(items[0], Ok(Record::Trailer(_))));
    /// let error = items[1].as_ref().unwrap_err();
    /// assert_eq!((error.line, error.offset), (2, 8));
    /// assert!(matches!(error.kind, ErrorKind::InvalidUtf8 { valid_up_to: 0 }));
    /// assert!(items[2].is_ok()); // decoding goes on
    /// ```
    pub fn records(&self) -> Records<'a> {
        Records {
            body: self.bytes,
            lines: self.lines(),
            last: LastTimestamp::default(),
            checked: "",
            checked_at: 0,
            max_line: MAX_LINE_BYTES,
            problems: FieldProblems::new(),
            problems_at: (0, 0),
        }
    }
}

/// The longest line decoded, in bytes (its line ending excluded). A longer line is a
/// [`ErrorKind::LineTooLong`] error at its position; a [`BodyStream`] does not even keep it, so a
/// body read as a stream needs at most this much memory whatever it holds. Real lines are a few
/// hundred bytes.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// One non-empty line of a body, without its line ending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Line<'a> {
    /// Line number, from 1 (empty lines count).
    number: usize,
    /// Byte offset of the line's start in the body.
    offset: usize,
    /// The line's bytes, without LF or CRLF.
    bytes: &'a [u8],
}

impl<'a> Line<'a> {
    /// Decodes the line, strictly as [`Record::parse`] does (any unreadable value is the error;
    /// [`Body::records`] keeps the record instead); a non-UTF-8 line is an error for this line
    /// only.
    fn record(&self) -> Result<Record<'a>, LineError> {
        self.record_after(&mut LastTimestamp::default())
    }

    /// [`Line::record`] for the next line of a body, `last` holding the previous timestamp.
    fn record_after(&self, last: &mut LastTimestamp) -> Result<Record<'a>, LineError> {
        let mut problems = FieldProblems::new();
        let record = Record::parse_after(self.text()?, last, &mut problems);
        match (record, problems.into_iter().next()) {
            (Ok(record), None) => Ok(record),
            (Err(kind), _) | (Ok(_), Some(kind)) => Err(self.error(kind)),
        }
    }

    /// The line as text; a non-UTF-8 line is an error for this line only.
    #[inline]
    fn text(&self) -> Result<&'a str, LineError> {
        std::str::from_utf8(self.bytes).map_err(|e| {
            self.error(ErrorKind::InvalidUtf8 {
                valid_up_to: e.valid_up_to(),
            })
        })
    }

    /// `kind` at this line's position.
    #[inline]
    fn error(&self, kind: ErrorKind) -> LineError {
        LineError {
            line: self.number,
            offset: self.offset,
            kind,
        }
    }
}

/// Iterator over the non-empty lines of a body.
#[derive(Debug, Clone)]
struct Lines<'a> {
    rest: &'a [u8],
    offset: usize,
    number: usize,
}

impl<'a> Iterator for Lines<'a> {
    type Item = Line<'a>;

    #[inline]
    fn next(&mut self) -> Option<Line<'a>> {
        while !self.rest.is_empty() {
            let (line, advance) = match memchr::memchr(b'\n', self.rest) {
                Some(end) => (&self.rest[..end], end + 1),
                None => (self.rest, self.rest.len()),
            };
            let offset = self.offset;
            self.number += 1;
            self.offset += advance;
            self.rest = &self.rest[advance..];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if !line.is_empty() {
                return Some(Line {
                    number: self.number,
                    offset,
                    bytes: line,
                });
            }
        }
        None
    }
}

/// How many bytes of a body are checked for UTF-8 at once: enough that the per-call cost is
/// nothing, little enough that taking only the first records does not check the whole body.
const UTF8_CHUNK: usize = 64 * 1024;

/// Iterator over the decoded records of a body; see [`Body::records`].
///
/// ```
/// use sunpower_proto::Body;
/// let (ok, bad): (Vec<_>, Vec<_>) = Body::new(b"102\tabc\n130\tbad\n").records().partition(|r| r.is_ok());
/// assert_eq!((ok.len(), bad.len()), (1, 1));
/// ```
#[derive(Debug, Clone)]
pub struct Records<'a> {
    body: &'a [u8],
    lines: Lines<'a>,
    last: LastTimestamp,
    /// Bytes of the body known to be UTF-8, from `checked_at`: a line inside them is sliced
    /// from it, instead of checking each short line on its own (a call and a few mispredicted
    /// branches per line).
    checked: &'a str,
    checked_at: usize,
    max_line: usize,
    /// The errors of the last record's unreadable values, last first, still to be handed
    /// over, and that line's number and offset.
    problems: FieldProblems,
    problems_at: (usize, usize),
}

impl<'a> Records<'a> {
    /// The line's text if it lies in UTF-8 checked by the chunk; `None` when the line itself is
    /// not UTF-8 (or is longer than a chunk), to be checked alone so that its error is the
    /// same.
    #[inline(always)]
    fn checked_text(&mut self, line: &Line<'a>) -> Option<&'a str> {
        let end = line.offset + line.bytes.len();
        if end > self.checked_at + self.checked.len() {
            let rest = self.body.get(line.offset..)?;
            let chunk = &rest[..rest.len().min(UTF8_CHUNK)];
            self.checked = match std::str::from_utf8(chunk) {
                Ok(text) => text,
                // The valid part, which a chunk cut in the middle of a character also ends.
                Err(e) => std::str::from_utf8(&chunk[..e.valid_up_to()]).unwrap_or_default(),
            };
            self.checked_at = line.offset;
        }
        self.checked
            .get(line.offset.checked_sub(self.checked_at)?..end - self.checked_at)
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>, LineError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if !self.problems.is_empty() {
            return self.next_problem();
        }
        Some(self.next_text()?.and_then(|(text, line, offset)| {
            let record = Record::parse_after(text, &mut self.last, &mut self.problems);
            self.after_record(record.is_ok(), line, offset);
            record.map_err(|kind| LineError { line, offset, kind })
        }))
    }
}

impl<'a> Records<'a> {
    /// Decodes every line left, handing each record or error to `on_item` in order, each
    /// error through `place` (which positions it in a stream): what [`BodyStream`] runs.
    #[inline(always)]
    fn each(
        &mut self,
        on_item: &mut impl FnMut(Result<Record<'_>, LineError>),
        place: impl Fn(LineError) -> LineError,
    ) {
        while let Some(text) = self.next_text() {
            match text {
                Ok((text, line, offset)) => {
                    let record = Record::parse_after(text, &mut self.last, &mut self.problems);
                    self.after_record(record.is_ok(), line, offset);
                    on_item(record.map_err(|kind| place(LineError { line, offset, kind })));
                    while !self.problems.is_empty() {
                        if let Some(Err(problem)) = self.next_problem() {
                            on_item(Err(place(problem)));
                        }
                    }
                }
                Err(e) => on_item(Err(place(e))),
            }
        }
    }

    /// Keeps the field problems of the record just decoded at `line` (`ok`) to be handed over
    /// after it, in field order; a line that is an error is only that error.
    #[inline(always)]
    fn after_record(&mut self, ok: bool, line: usize, offset: usize) {
        if !self.problems.is_empty() {
            self.keep_problems(ok, line, offset);
        }
    }

    #[cold]
    fn keep_problems(&mut self, ok: bool, line: usize, offset: usize) {
        if ok {
            self.problems.reverse();
            self.problems_at = (line, offset);
        } else {
            self.problems.clear();
        }
    }

    /// The next problem kept by [`Records::after_record`].
    #[cold]
    fn next_problem(&mut self) -> Option<Result<Record<'a>, LineError>> {
        let (line, offset) = self.problems_at;
        let kind = self.problems.pop()?;
        Some(Err(LineError { line, offset, kind }))
    }

    /// The next line's text, with its number and offset, or its error (too long, not UTF-8).
    #[inline(always)]
    fn next_text(&mut self) -> Option<Result<(&'a str, usize, usize), LineError>> {
        let line = self.lines.next()?;
        if line.bytes.len() > self.max_line {
            return Some(Err(line.error(ErrorKind::LineTooLong {
                limit: self.max_line,
            })));
        }
        let text = match self.checked_text(&line) {
            Some(text) => Ok(text),
            None => line.text(),
        };
        Some(text.map(|text| (text, line.number, line.offset)))
    }
}

/// A body read as a stream: fed chunks of any size (from a pipe, a file, a socket), it yields the
/// same records and errors, with the same line numbers and offsets, as [`Body::records`] on the
/// whole body, while keeping at most one partial line ([`MAX_LINE_BYTES`]) in memory.
///
/// Sans I/O: the caller reads, and hands over what it read.
///
/// ```
/// use sunpower_proto::{Body, BodyStream};
/// let body = b"102\tabc\n130\tbad\n102\tdef";
/// let mut stream = BodyStream::new();
/// let mut items = Vec::new();
/// for chunk in body.chunks(3) {
///     stream.feed(chunk, |item| items.push(item.map(|r| r.raw().unwrap().as_str().to_owned())));
/// }
/// stream.finish(|item| items.push(item.map(|r| r.raw().unwrap().as_str().to_owned())));
/// let whole: Vec<_> = Body::new(body).records().map(|i| i.map(|r| r.raw().unwrap().as_str().to_owned())).collect();
/// assert_eq!(items, whole);
/// assert_eq!(items[1].as_ref().unwrap_err().line, 2);
/// ```
#[derive(Debug, Clone)]
pub struct BodyStream {
    /// The start of a line whose end has not arrived yet.
    partial: Vec<u8>,
    /// Lines completed before `partial`.
    lines: usize,
    /// Stream offset of `partial`'s first byte (or of the over-long line being skipped).
    offset: usize,
    /// Inside a line longer than the limit, already reported: its bytes are dropped up to its end.
    skipping: bool,
    max_line: usize,
}

impl Default for BodyStream {
    fn default() -> Self {
        BodyStream::new()
    }
}

impl BodyStream {
    /// A stream with the [`MAX_LINE_BYTES`] limit.
    ///
    /// ```
    /// use sunpower_proto::{BodyStream, MAX_LINE_BYTES};
    /// let mut stream = BodyStream::new();
    /// let mut n = 0;
    /// stream.feed(&vec![b'x'; MAX_LINE_BYTES + 2], |item| n += item.is_err() as u32);
    /// assert_eq!(n, 1); // past the limit and a CR: reported at once, not kept
    /// ```
    pub fn new() -> Self {
        BodyStream::with_max_line(MAX_LINE_BYTES)
    }

    /// A stream whose lines may be at most `max_line` bytes long.
    ///
    /// ```
    /// use sunpower_proto::{BodyStream, ErrorKind};
    /// let mut stream = BodyStream::with_max_line(8);
    /// let mut errors = Vec::new();
    /// stream.feed(b"102\tabc\n130\t123456789\n102\tdef\n", |item| {
    ///     if let Err(e) = item {
    ///         errors.push((e.line, matches!(e.kind, ErrorKind::LineTooLong { .. })));
    ///     }
    /// });
    /// assert_eq!(errors, [(2, true)]);
    /// ```
    pub fn with_max_line(max_line: usize) -> Self {
        BodyStream {
            partial: Vec::new(),
            lines: 0,
            offset: 0,
            skipping: false,
            max_line,
        }
    }

    /// Bytes fed so far.
    ///
    /// ```
    /// use sunpower_proto::BodyStream;
    /// let mut stream = BodyStream::new();
    /// stream.feed(b"102\tabc\n102", |_| {});
    /// stream.feed(b"\tdef", |_| {});
    /// assert_eq!(stream.bytes_fed(), 15);
    /// ```
    pub fn bytes_fed(&self) -> usize {
        self.offset + self.partial.len()
    }

    /// Decodes the lines `chunk` completes, handing each record or error to `on_item`.
    ///
    /// ```
    /// use sunpower_proto::BodyStream;
    /// let mut stream = BodyStream::new();
    /// let mut tokens = Vec::new();
    /// let mut on_item = |item: Result<sunpower_proto::Record<'_>, _>| {
    ///     if let Ok(sunpower_proto::Record::Trailer(t)) = item {
    ///         tokens.push(t.token.unwrap_or("").to_owned());
    ///     }
    /// };
    /// stream.feed(b"102\tab", &mut on_item); // no line complete yet
    /// stream.feed(b"c\n102\tde", &mut on_item);
    /// stream.finish(&mut on_item); // the last line has no line ending
    /// assert_eq!(tokens, ["abc", "de"]);
    /// ```
    pub fn feed(&mut self, chunk: &[u8], mut on_item: impl FnMut(Result<Record<'_>, LineError>)) {
        let on_item = &mut on_item;
        let mut rest = chunk;
        if self.skipping || !self.partial.is_empty() {
            let Some(end) = memchr::memchr(b'\n', rest) else {
                self.extend_partial(rest, on_item);
                return;
            };
            let (head, tail) = rest.split_at(end + 1);
            if self.skipping {
                self.skipping = false;
                self.lines += 1;
                self.offset += head.len();
            } else {
                let mut line = std::mem::take(&mut self.partial);
                line.extend_from_slice(head);
                self.decode(&line, on_item);
                line.clear();
                self.partial = line;
            }
            rest = tail;
        }
        let whole = memchr::memrchr(b'\n', rest).map_or(0, |i| i + 1);
        let (lines, tail) = rest.split_at(whole);
        self.decode(lines, on_item);
        self.extend_partial(tail, on_item);
    }

    /// The end of the stream: decodes a last line that has no line ending.
    ///
    /// ```
    /// use sunpower_proto::BodyStream;
    /// let mut stream = BodyStream::new();
    /// let mut n = 0;
    /// stream.feed(b"102\tabc", |_| n += 1);
    /// assert_eq!(n, 0);
    /// stream.finish(|item| n += item.is_ok() as u32);
    /// assert_eq!(n, 1);
    /// ```
    pub fn finish(&mut self, mut on_item: impl FnMut(Result<Record<'_>, LineError>)) {
        let line = std::mem::take(&mut self.partial);
        self.decode(&line, &mut on_item);
        self.skipping = false;
    }

    /// Adds bytes of a line not yet ended; a line that grows past the limit is reported once and
    /// its bytes dropped from then on.
    fn extend_partial<T>(&mut self, bytes: &[u8], on_item: &mut impl FnMut(Result<T, LineError>)) {
        if self.skipping {
            self.offset += bytes.len();
            return;
        }
        // One more byte than the limit may be the CR of a CRLF.
        if self.partial.len() + bytes.len() <= self.max_line + 1 {
            self.partial.extend_from_slice(bytes);
            return;
        }
        on_item(Err(LineError {
            line: self.lines + 1,
            offset: self.offset,
            kind: ErrorKind::LineTooLong {
                limit: self.max_line,
            },
        }));
        self.offset += self.partial.len() + bytes.len();
        self.partial.clear();
        self.skipping = true;
    }

    /// Decodes whole lines (each ending in LF but perhaps the last at the end of the stream),
    /// positioned after what was decoded before.
    fn decode(&mut self, bytes: &[u8], on_item: &mut impl FnMut(Result<Record<'_>, LineError>)) {
        if bytes.is_empty() {
            return;
        }
        let (lines, offset) = (self.lines, self.offset);
        let mut records = Body::new(bytes).records();
        records.max_line = self.max_line;
        records.each(on_item, |mut e| {
            e.line += lines;
            e.offset += offset;
            e
        });
        self.lines += records.lines.number;
        self.offset += bytes.len();
    }
}

/// Decodes one line (without its line ending); errors say line 1.
///
/// ```
/// use sunpower_proto::parse_line;
/// assert_eq!(parse_line("102\tabc").unwrap().record_type(), 102);
/// assert!(parse_line("1x2\tabc").is_err());
/// ```
pub fn parse_line(line: &str) -> Result<Record<'_>, LineError> {
    Line {
        number: 1,
        offset: 0,
        bytes: line.as_bytes(),
    }
    .record()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_numbered_with_their_offsets_and_empty_ones_counted_but_skipped() {
        let lines: Vec<_> = Body::new(b"100\tSPMS\r\n\n102\tabc")
            .lines()
            .map(|l| (l.number, l.offset, l.bytes))
            .collect();
        assert_eq!(
            lines,
            [(1, 0, &b"100\tSPMS"[..]), (3, 11, &b"102\tabc"[..])]
        );
        assert_eq!(Body::new(b"a\n\nb\r\n\r\nc").lines().count(), 3);
        let mut lines = Body::new(b"102\tabc\n130\tbad\n").lines();
        assert!(
            matches!(lines.next().unwrap().record(), Ok(Record::Trailer(t)) if t.token == Some("abc"))
        );
        assert_eq!(lines.next().unwrap().record().unwrap_err().line, 2);
    }

    /// `records()` against each line decoded alone, which checks its own UTF-8.
    fn same_as_alone(body: &[u8]) {
        let together: Vec<_> = Body::new(body).records().collect();
        let alone: Vec<_> = Body::new(body).lines().map(|l| l.record()).collect();
        assert_eq!(together.len(), alone.len());
        for (i, (a, b)) in together.iter().zip(&alone).enumerate() {
            assert_eq!(a, b, "line item {i}");
        }
    }

    #[test]
    fn utf8_chunks_give_the_errors_of_lines_checked_alone() {
        let line =
            "130\t20170107171000\t4140\tAC_Module_Type_\u{e9}\t\t17.5820\t0.0369\t-0.76\t0\n";
        // Every byte offset of the two-byte `é` against a chunk boundary, over several chunks.
        for shift in 0..line.len() {
            let mut body = "x".repeat(shift).into_bytes();
            body.push(b'\n');
            while body.len() < 3 * UTF8_CHUNK {
                body.extend_from_slice(line.as_bytes());
            }
            same_as_alone(&body);
        }
        // Invalid bytes: alone, at a line's start and end, a cut sequence at the body's end, and
        // a line longer than a chunk.
        let mut body = Vec::new();
        for (i, bad) in [&b"\xff"[..], b"\xe9", b"\xc3", b"\xed\xa0\x80"]
            .iter()
            .enumerate()
        {
            for _ in 0..UTF8_CHUNK / 100 {
                body.extend_from_slice(line.as_bytes());
            }
            body.extend_from_slice(bad);
            body.extend_from_slice(line.as_bytes());
            body.extend_from_slice(&line.as_bytes()[..line.len() - 1]);
            body.extend_from_slice(bad);
            body.extend_from_slice(b"\r\n");
            if i == 1 {
                body.extend_from_slice(&vec![b'9'; UTF8_CHUNK + 7]);
                body.push(b'\n');
            }
        }
        body.extend_from_slice(b"102\tabc\xc3");
        same_as_alone(&body);
        let utf8_errors = Body::new(&body)
            .records()
            .filter(|r| matches!(r, Err(e) if matches!(e.kind, ErrorKind::InvalidUtf8 { .. })))
            .count();
        assert_eq!(utf8_errors, 9);
    }

    #[test]
    fn a_stream_without_line_ends_is_one_error_in_bounded_memory() {
        // `sunpower parse /dev/zero`: 16 MiB of NUL bytes, never a line end.
        let mut stream = BodyStream::with_max_line(4096);
        let chunk = vec![0u8; 64 * 1024];
        let mut errors = Vec::new();
        for _ in 0..256 {
            stream.feed(&chunk, |item| errors.push(item.unwrap_err()));
            assert!(stream.partial.capacity() <= 64 * 1024 + 4097);
        }
        stream.feed(b"\n102\tafter\n", |item| {
            assert_eq!(item.unwrap().raw().unwrap().as_str(), "102\tafter");
        });
        stream.finish(|_| panic!("nothing is left"));
        assert_eq!(
            errors,
            [LineError {
                line: 1,
                offset: 0,
                kind: ErrorKind::LineTooLong { limit: 4096 }
            }]
        );
        assert_eq!(stream.bytes_fed(), 256 * 64 * 1024 + 11);
    }
}
