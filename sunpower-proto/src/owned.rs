//! An owned record, for callers that keep records past the life of the body they came from.

use crate::error::ErrorKind;
use crate::record::{Record, Unknown};

/// A record that owns its line's text; [`RecordBuf::record`] gives the typed view.
///
/// Decoding again is cheap (no allocation), so the text is the only thing stored.
///
/// ```
/// use sunpower_proto::{RecordBuf, Record};
/// let kept = RecordBuf::parse("102\tabc").unwrap();
/// assert!(matches!(kept.record(), Record::Trailer(t) if t.token == Some("abc")));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecordBuf {
    line: Box<str>,
}

impl RecordBuf {
    /// Decodes and keeps a line (without its line ending).
    pub fn parse(line: &str) -> Result<RecordBuf, ErrorKind> {
        Record::parse(line)?;
        Ok(RecordBuf { line: line.into() })
    }

    /// The line as sent.
    pub fn line(&self) -> &str {
        &self.line
    }

    /// The typed record.
    pub fn record(&self) -> Record<'_> {
        // The line decoded when it was stored and decoding is deterministic; the fallback only
        // keeps this total.
        Record::parse(&self.line).unwrap_or_else(|_| {
            Record::Unknown(Unknown {
                raw: crate::RawFields::new(&self.line),
                record_type: 0,
                timestamp: None,
                serial: None,
            })
        })
    }
}

impl From<&Record<'_>> for RecordBuf {
    fn from(record: &Record<'_>) -> Self {
        RecordBuf {
            line: record.raw().as_str().into(),
        }
    }
}
