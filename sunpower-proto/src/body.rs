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
            lines: self.lines(),
            last: LastTimestamp::default(),
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

/// Iterator over the decoded records of a body; see [`Body::records`].
#[derive(Debug, Clone)]
pub struct Records<'a> {
    lines: Lines<'a>,
    last: LastTimestamp,
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>, LineError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.lines
            .next()
            .map(|line| line.record_after(&mut self.last))
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
