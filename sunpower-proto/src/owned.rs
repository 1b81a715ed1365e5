//! An owned record, for callers that keep records past the life of the body or document they
//! came from.

use chrono::{DateTime, Utc};

use crate::error::ErrorKind;
use crate::record::{FieldProblems, FieldValue, Record, Source, Unknown};
use crate::value::LastTimestamp;

/// A record that owns its data; [`RecordBuf::record`] gives the typed view.
///
/// A record of a collector line keeps the line (decoding it again is cheap: no allocation); a
/// record of a JSON source keeps its typed values, as there is no line.
///
/// ```
/// use sunpower_proto::{RecordBuf, Record};
/// let kept = RecordBuf::parse("102\tabc").unwrap();
/// assert!(matches!(kept.record(), Record::Trailer(t) if t.token == Some("abc")));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecordBuf {
    stored: Stored,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Stored {
    /// A collector line, as sent.
    Line(Box<str>),
    /// A record of a JSON source.
    Built(Box<Built>),
}

/// A record without a line: its kind, source and visited fields.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Built {
    record_type: u16,
    source: Source<'static>,
    fields: Box<[(&'static str, Kept)]>,
}

/// A field's value, owned; a decimal by its bits, so that the type is `Eq` and `Hash` (every
/// decimal is finite).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Kept {
    Time(Option<DateTime<Utc>>),
    Text(Option<Box<str>>),
    Decimal(Option<u64>),
    Integer(Option<i64>),
    Unsigned(Option<u64>),
}

impl Kept {
    fn new(value: FieldValue<'_>) -> Option<Kept> {
        Some(match value {
            FieldValue::Time(t) => Kept::Time(t),
            FieldValue::Text(t) => Kept::Text(t.map(Box::from)),
            FieldValue::Decimal(v) => Kept::Decimal(v.map(f64::to_bits)),
            FieldValue::Integer(v) => Kept::Integer(v),
            FieldValue::Unsigned(v) => Kept::Unsigned(v),
            _ => return None,
        })
    }

    fn value(&self) -> FieldValue<'_> {
        match self {
            Kept::Time(t) => FieldValue::Time(*t),
            Kept::Text(t) => FieldValue::Text(t.as_deref()),
            Kept::Decimal(v) => FieldValue::Decimal(v.map(f64::from_bits)),
            Kept::Integer(v) => FieldValue::Integer(*v),
            Kept::Unsigned(v) => FieldValue::Unsigned(*v),
        }
    }
}

impl RecordBuf {
    /// Decodes and keeps a line (without its line ending), strictly as [`Record::parse`] does.
    ///
    /// ```
    /// use sunpower_proto::{ErrorKind, RecordBuf};
    /// let kept = RecordBuf::parse("100\tSPMS\t10\tZT1\t20170107171925").unwrap();
    /// assert_eq!(kept.record().record_type(), 100);
    /// assert!(matches!(RecordBuf::parse("130\tbad"), Err(ErrorKind::InvalidField { index: 1, .. })));
    /// ```
    pub fn parse(line: &str) -> Result<RecordBuf, ErrorKind> {
        Record::parse(line)?;
        Ok(RecordBuf {
            stored: Stored::Line(line.into()),
        })
    }

    /// The line as sent, for a record of a collector line; `None` for a record of a JSON
    /// source.
    ///
    /// ```
    /// use sunpower_proto::RecordBuf;
    /// assert_eq!(RecordBuf::parse("102\tabc").unwrap().line(), Some("102\tabc"));
    /// ```
    pub fn line(&self) -> Option<&str> {
        match &self.stored {
            Stored::Line(line) => Some(line),
            Stored::Built(_) => None,
        }
    }

    /// The typed record.
    ///
    /// ```
    /// use sunpower_proto::{Record, RecordBuf};
    /// let kept = RecordBuf::parse("100\tSPMS\t10\tZT1\t20170107171925").unwrap();
    /// let Record::Header(header) = kept.record() else { unreachable!() };
    /// assert_eq!(header.supervisor_serial, Some("ZT1"));
    /// ```
    pub fn record(&self) -> Record<'_> {
        let record = match &self.stored {
            // Decoded as in a body: a value that could not be read (reported when the line was
            // first decoded) is `None` again.
            Stored::Line(line) => Record::parse_after(
                line,
                &mut LastTimestamp::default(),
                &mut FieldProblems::new(),
            )
            .ok(),
            Stored::Built(built) => Record::from_fields(built.record_type, built.source, |name| {
                let (_, kept) = built.fields.iter().find(|(n, _)| *n == name)?;
                Some(kept.value())
            }),
        };
        // Both were a record when stored and decoding is deterministic; the fallback only keeps
        // this total.
        record.unwrap_or(Record::Unknown(Unknown {
            source: Source::Vars,
            record_type: 0,
            timestamp: None,
            serial: None,
        }))
    }
}

impl From<&Record<'_>> for RecordBuf {
    /// Keeps a record: a collector record as its line (so only what the line says is kept), a
    /// JSON source's record as its typed values.
    fn from(record: &Record<'_>) -> Self {
        // Matched whole, so that a new source must say how it is kept.
        let source = match record.source() {
            Source::Collector(raw) => {
                return RecordBuf {
                    stored: Stored::Line(raw.as_str().into()),
                }
            }
            Source::DeviceList => Source::DeviceList,
            Source::Vars => Source::Vars,
        };
        let mut fields = Vec::new();
        record.visit_fields(|name, value| {
            fields.extend(Kept::new(value).map(|kept| (name, kept)));
        });
        RecordBuf {
            stored: Stored::Built(Box::new(Built {
                record_type: record.record_type(),
                source,
                fields: fields.into(),
            })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_source_s_record_is_kept_whole_without_a_line() {
        let time = crate::parse_timestamp("20250930155000");
        for source in [Source::Vars, Source::DeviceList] {
            let record = Record::from_fields(140, source, |name| match name {
                "timestamp" => Some(FieldValue::Time(time)),
                "serial" => Some(FieldValue::Text(Some("PVS6M1c"))),
                "model" => Some(FieldValue::Text(Some("PVS6M0400c"))),
                "real_power_kw" => Some(FieldValue::Decimal(Some(-0.25))),
                "import_energy_kwh" => Some(FieldValue::Decimal(Some(1234.5))),
                _ => None,
            })
            .unwrap();
            let kept = RecordBuf::from(&record);
            assert_eq!(kept.line(), None);
            assert_eq!(kept.record(), record);
            assert_eq!(kept.record().source(), source);
            assert_eq!(kept, RecordBuf::from(&kept.record()));
        }
    }

    #[test]
    fn a_line_with_an_unreadable_value_is_kept_as_decoded_in_a_body() {
        let line = "130\t20170107171000\tS\tM\t\t18.5\tbad\t240";
        let mut items = crate::Body::new(line.as_bytes()).records();
        let record = items.next().unwrap().unwrap();
        assert!(items.next().unwrap().is_err());
        let kept = RecordBuf::from(&record);
        assert_eq!(kept.line(), Some(line));
        assert_eq!(kept.record(), record);
    }
}
