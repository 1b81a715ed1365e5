//! Iterating a POST body: lines, then records, each error positioned and never fatal.

use crate::error::{ErrorKind, LineError};
use crate::json::JsonRecord;
use crate::record::{FieldProblems, LineMap, Record};
use crate::value::LastTimestamp;
use crate::Channel;

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

    /// The non-empty lines, with their numbers and offsets.
    ///
    /// ```
    /// use sunpower_proto::Body;
    /// let lines: Vec<_> = Body::new(b"100\tSPMS\r\n\n102\tabc").lines().map(|l| (l.number, l.offset, l.bytes)).collect();
    /// // The empty line 2 is counted but not returned; CRLF is cut.
    /// assert_eq!(lines, [(1, 0, &b"100\tSPMS"[..]), (3, 11, &b"102\tabc"[..])]);
    /// ```
    pub fn lines(&self) -> Lines<'a> {
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
///
/// ```
/// use sunpower_proto::Body;
/// let line = Body::new(b"\n102\tabc\n").lines().next().unwrap();
/// assert_eq!((line.number, line.offset, line.bytes), (2, 1, &b"102\tabc"[..]));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    /// Line number, from 1 (empty lines count).
    pub number: usize,
    /// Byte offset of the line's start in the body.
    pub offset: usize,
    /// The line's bytes, without LF or CRLF.
    pub bytes: &'a [u8],
}

impl<'a> Line<'a> {
    /// Decodes the line, strictly as [`Record::parse`] does (any unreadable value is the error;
    /// [`Body::records`] keeps the record instead); a non-UTF-8 line is an error for this line
    /// only.
    ///
    /// ```
    /// use sunpower_proto::{Body, Record};
    /// let mut lines = Body::new(b"102\tabc\n130\tbad\n").lines();
    /// assert!(matches!(lines.next().unwrap().record(), Ok(Record::Trailer(t)) if t.token == Some("abc")));
    /// assert_eq!(lines.next().unwrap().record().unwrap_err().line, 2);
    /// ```
    pub fn record(&self) -> Result<Record<'a>, LineError> {
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
///
/// ```
/// use sunpower_proto::Body;
/// assert_eq!(Body::new(b"a\n\nb\r\n\r\nc").lines().count(), 3);
/// ```
#[derive(Debug, Clone)]
pub struct Lines<'a> {
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
    /// Decodes every line left, handing each record over as [`DecodedRecord`] (for writing it as
    /// JSON) or its error, in order.
    ///
    /// ```
    /// use sunpower_proto::Body;
    /// let mut json = Vec::new();
    /// let mut errors = Vec::new();
    /// Body::new(b"102\tabc\n130\tbad\n").records().for_each_decoded(|item| match item {
    ///     Ok(decoded) => decoded.json(None).write_to(&mut json),
    ///     Err(e) => errors.push(e.line),
    /// });
    /// assert_eq!(json, br#"{"record_type":102,"raw":["102","abc"],"token":"abc"}"#);
    /// assert_eq!(errors, [2]);
    /// ```
    pub fn for_each_decoded(
        &mut self,
        mut on_item: impl FnMut(Result<DecodedRecord<'_>, LineError>),
    ) {
        self.each_decoded(&mut on_item, |e| e);
    }

    /// [`Records::for_each_decoded`], each error through `place`: the record and the line's
    /// map stay where they were made, and the item is a pair of references to them (moving
    /// them costs more than writing).
    #[inline(always)]
    fn each_decoded(
        &mut self,
        on_item: &mut impl FnMut(Result<DecodedRecord<'_>, LineError>),
        place: impl Fn(LineError) -> LineError,
    ) {
        while let Some(text) = self.next_text() {
            match text {
                Ok((text, line, offset)) => {
                    let mut map = LineMap::new(text);
                    let record = Record::parse_split(
                        &map.split,
                        &mut map.hints,
                        &mut self.last,
                        &mut self.problems,
                    );
                    self.after_record(record.is_ok(), line, offset);
                    match record {
                        Ok(record) => on_item(Ok(DecodedRecord {
                            record: &record,
                            map: &map,
                        })),
                        Err(kind) => on_item(Err(place(LineError { line, offset, kind }))),
                    }
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

/// What a line decodes to: a [`Record`], or a [`DecodedRecord`] with its line's map.
trait Decoding {
    type Item<'r>;

    /// Decodes every line left in `records`, handing each result to `on_item`, its error
    /// through `place` (which positions it in the stream).
    fn each(
        records: &mut Records<'_>,
        on_item: &mut impl FnMut(Result<Self::Item<'_>, LineError>),
        place: impl Fn(LineError) -> LineError,
    );
}

/// Lines decoded to [`Record`]s.
enum AsRecord {}

impl Decoding for AsRecord {
    type Item<'r> = Record<'r>;

    #[inline(always)]
    fn each(
        records: &mut Records<'_>,
        on_item: &mut impl FnMut(Result<Self::Item<'_>, LineError>),
        place: impl Fn(LineError) -> LineError,
    ) {
        for item in records {
            on_item(item.map_err(&place));
        }
    }
}

/// Lines decoded to [`DecodedRecord`]s ([`Records::for_each_decoded`]).
enum AsDecoded {}

impl Decoding for AsDecoded {
    type Item<'r> = DecodedRecord<'r>;

    #[inline(always)]
    fn each(
        records: &mut Records<'_>,
        on_item: &mut impl FnMut(Result<Self::Item<'_>, LineError>),
        place: impl Fn(LineError) -> LineError,
    ) {
        records.each_decoded(on_item, place);
    }
}

/// A record just decoded from its line, with what decoding found in the line: where its fields
/// are, and which of its decimals print as their own text. [`DecodedRecord::json`] writes it from
/// those instead of reading the line again (saving about a quarter of the writing time);
/// nothing can change the record meanwhile, so they stay true. From
/// [`BodyStream::feed_decoded`].
///
/// ```
/// use sunpower_proto::{BodyStream, JsonRecord};
/// let mut stream = BodyStream::new();
/// let (mut fast, mut plain) = (Vec::new(), Vec::new());
/// stream.feed_decoded(b"141\t20170107171000\tPVS5M508095c\tPVS5M0400c\t1\t5.6946\t5.50\n", |item| {
///     let decoded = item.unwrap();
///     decoded.json(None).write_to(&mut fast);
///     JsonRecord::new(decoded.record(), None).write_to(&mut plain);
/// });
/// assert_eq!(fast, plain);
/// let json = String::from_utf8(fast).unwrap();
/// assert!(json.contains(r#""leg1_current_a":5.6946,"leg2_current_a":5.5,"#)); // `5.50` as printed
/// ```
#[derive(Clone, Copy)]
pub struct DecodedRecord<'r> {
    record: &'r Record<'r>,
    map: &'r LineMap<'r>,
}

impl<'r> DecodedRecord<'r> {
    /// The record (to keep or change it, clone it).
    ///
    /// ```
    /// use sunpower_proto::BodyStream;
    /// let mut stream = BodyStream::new();
    /// stream.feed_decoded(b"102\tabc\n", |item| assert_eq!(item.unwrap().record().record_type(), 102));
    /// ```
    pub fn record(&self) -> &'r Record<'r> {
        self.record
    }

    /// The record's JSON, as [`JsonRecord::new`] writes it, byte for byte.
    ///
    /// ```
    /// use sunpower_proto::{BodyStream, Channel};
    /// let mut stream = BodyStream::new();
    /// stream.feed_decoded(b"102\tabc\n", |item| {
    ///     let mut json = Vec::new();
    ///     item.unwrap().json(Some(Channel::Data)).write_to(&mut json);
    ///     assert_eq!(json, br#"{"record_type":102,"raw":["102","abc"],"channel":"data","token":"abc"}"#);
    /// });
    /// ```
    pub fn json(&self, channel: Option<Channel>) -> JsonRecord<'r, 'r> {
        JsonRecord::mapped(self.record, channel, self.map)
    }
}

impl std::fmt::Debug for DecodedRecord<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecodedRecord")
            .field("record", self.record)
            .finish_non_exhaustive()
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
        self.feed_as::<AsRecord>(chunk, &mut on_item);
    }

    /// [`BodyStream::feed`], each record handed over as [`DecodedRecord`], for writing it as JSON.
    ///
    /// ```
    /// use sunpower_proto::BodyStream;
    /// let mut stream = BodyStream::new();
    /// let mut json = Vec::new();
    /// let mut on_item = |item: Result<sunpower_proto::DecodedRecord<'_>, _>| {
    ///     if let Ok(decoded) = item {
    ///         decoded.json(None).write_to(&mut json);
    ///         json.push(b'\n');
    ///     }
    /// };
    /// stream.feed_decoded(b"102\tab", &mut on_item);
    /// stream.feed_decoded(b"c\n130\tbad\n102", &mut on_item);
    /// stream.finish_decoded(&mut on_item);
    /// assert_eq!(json, b"{\"record_type\":102,\"raw\":[\"102\",\"abc\"],\"token\":\"abc\"}\n\
    ///                    {\"record_type\":102,\"raw\":[\"102\"],\"token\":null}\n");
    /// ```
    pub fn feed_decoded(
        &mut self,
        chunk: &[u8],
        mut on_item: impl FnMut(Result<DecodedRecord<'_>, LineError>),
    ) {
        self.feed_as::<AsDecoded>(chunk, &mut on_item);
    }

    fn feed_as<D: Decoding>(
        &mut self,
        chunk: &[u8],
        on_item: &mut impl FnMut(Result<D::Item<'_>, LineError>),
    ) {
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
                self.decode::<D>(&line, on_item);
                line.clear();
                self.partial = line;
            }
            rest = tail;
        }
        let whole = memchr::memrchr(b'\n', rest).map_or(0, |i| i + 1);
        let (lines, tail) = rest.split_at(whole);
        self.decode::<D>(lines, on_item);
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
        self.finish_as::<AsRecord>(&mut on_item);
    }

    /// [`BodyStream::finish`] for [`BodyStream::feed_decoded`].
    ///
    /// ```
    /// use sunpower_proto::BodyStream;
    /// let mut stream = BodyStream::new();
    /// stream.feed_decoded(b"102\tabc", |_| unreachable!());
    /// let mut types = Vec::new();
    /// stream.finish_decoded(|item| types.push(item.unwrap().record().record_type()));
    /// assert_eq!(types, [102]);
    /// ```
    pub fn finish_decoded(
        &mut self,
        mut on_item: impl FnMut(Result<DecodedRecord<'_>, LineError>),
    ) {
        self.finish_as::<AsDecoded>(&mut on_item);
    }

    fn finish_as<D: Decoding>(&mut self, on_item: &mut impl FnMut(Result<D::Item<'_>, LineError>)) {
        let line = std::mem::take(&mut self.partial);
        self.decode::<D>(&line, on_item);
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
    fn decode<D: Decoding>(
        &mut self,
        bytes: &[u8],
        on_item: &mut impl FnMut(Result<D::Item<'_>, LineError>),
    ) {
        if bytes.is_empty() {
            return;
        }
        let (lines, offset) = (self.lines, self.offset);
        let mut records = Body::new(bytes).records();
        records.max_line = self.max_line;
        D::each(&mut records, on_item, |mut e| {
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
