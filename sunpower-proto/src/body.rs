//! Iterating a POST body: lines, then records, each error positioned and never fatal.

use crate::error::{ErrorKind, LineError};
use crate::record::Record;
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
    pub fn new(bytes: &'a [u8]) -> Self {
        Body { bytes }
    }

    /// The non-empty lines, with their numbers and offsets.
    pub fn lines(&self) -> Lines<'a> {
        Lines {
            rest: self.bytes,
            offset: 0,
            number: 0,
        }
    }

    /// Every non-empty line decoded: a record, or an error with the line's position.
    pub fn records(&self) -> Records<'a> {
        Records {
            body: self.bytes,
            lines: self.lines(),
            last: LastTimestamp::default(),
            checked: "",
            checked_at: 0,
        }
    }
}

/// One non-empty line of a body, without its line ending.
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
    /// Decodes the line; a non-UTF-8 line is an error for this line only.
    pub fn record(&self) -> Result<Record<'a>, LineError> {
        self.record_after(&mut LastTimestamp::default())
    }

    /// [`Line::record`] for the next line of a body, `last` holding the previous timestamp.
    fn record_after(&self, last: &mut LastTimestamp) -> Result<Record<'a>, LineError> {
        let positioned = |kind| LineError {
            line: self.number,
            offset: self.offset,
            kind,
        };
        let text = std::str::from_utf8(self.bytes).map_err(|e| {
            positioned(ErrorKind::InvalidUtf8 {
                valid_up_to: e.valid_up_to(),
            })
        })?;
        Record::parse_after(text, last).map_err(positioned)
    }
}

/// Iterator over the non-empty lines of a body.
#[derive(Debug, Clone)]
pub struct Lines<'a> {
    rest: &'a [u8],
    offset: usize,
    number: usize,
}

impl<'a> Iterator for Lines<'a> {
    type Item = Line<'a>;

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
}

impl<'a> Records<'a> {
    /// The line's text if it lies in UTF-8 checked by the chunk; `None` when the line itself is
    /// not UTF-8 (or is longer than a chunk), to be checked alone so that its error is the
    /// same.
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

    fn next(&mut self) -> Option<Self::Item> {
        let line = self.lines.next()?;
        Some(match self.checked_text(&line) {
            Some(text) => Record::parse_after(text, &mut self.last).map_err(|kind| LineError {
                line: line.number,
                offset: line.offset,
                kind,
            }),
            None => line.record_after(&mut self.last),
        })
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
}
