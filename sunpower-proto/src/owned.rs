//! An owned record, for callers that keep records past the life of the body they came from.

use crate::error::ErrorKind;
use crate::record::{Record, Unknown};
use crate::value::decimal;

/// A record that owns its line's text; [`RecordBuf::record`] gives the typed view.
///
/// Decoding again is cheap (no allocation), so the text is the only thing stored, plus, for a
/// meter read from a JSON source, the import and export counters no collector line carries.
///
/// ```
/// use sunpower_proto::{RecordBuf, Record};
/// let kept = RecordBuf::parse("102\tabc").unwrap();
/// assert!(matches!(kept.record(), Record::Trailer(t) if t.token == Some("abc")));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecordBuf {
    line: Box<str>,
    /// `import\texport` of a 140 from a JSON source (each a plain decimal or empty); text, so
    /// the type stays `Eq` and `Hash`.
    meter_counters: Option<Box<str>>,
}

impl RecordBuf {
    /// Decodes and keeps a line (without its line ending).
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
            line: line.into(),
            meter_counters: None,
        })
    }

    /// A 140 line with the meter's lifetime import and export counters, as plain decimals
    /// (checked by the caller; anything else reads as not reported).
    #[cfg(feature = "devicelist")]
    pub(crate) fn meter_with_counters(
        line: &str,
        import: Option<&str>,
        export: Option<&str>,
    ) -> Result<RecordBuf, ErrorKind> {
        let mut buf = RecordBuf::parse(line)?;
        if matches!(buf.record(), Record::Meter(_)) && (import.is_some() || export.is_some()) {
            let text = format!("{}\t{}", import.unwrap_or(""), export.unwrap_or(""));
            buf.meter_counters = Some(text.into());
        }
        Ok(buf)
    }

    /// The line as sent (or as synthesised from a JSON source).
    ///
    /// ```
    /// use sunpower_proto::RecordBuf;
    /// assert_eq!(RecordBuf::parse("102\tabc").unwrap().line(), "102\tabc");
    /// ```
    pub fn line(&self) -> &str {
        &self.line
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
        // The line decoded when it was stored and decoding is deterministic; the fallback only
        // keeps this total.
        let mut record = Record::parse(&self.line).unwrap_or_else(|_| {
            Record::Unknown(Unknown {
                raw: crate::RawFields::new(&self.line),
                record_type: 0,
                timestamp: None,
                serial: None,
            })
        });
        if let (Record::Meter(meter), Some(counters)) = (&mut record, &self.meter_counters) {
            let (import, export) = counters.split_once('\t').unwrap_or((counters, ""));
            let read = |text: &str| decimal(Some(text), 0, "").ok().flatten();
            meter.import_energy_kwh = read(import);
            meter.export_energy_kwh = read(export);
        }
        record
    }
}

impl From<&Record<'_>> for RecordBuf {
    fn from(record: &Record<'_>) -> Self {
        let meter_counters = match record {
            Record::Meter(m) if m.import_energy_kwh.is_some() || m.export_energy_kwh.is_some() => {
                // `Display` of an f64 reads back to the same value.
                let text = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
                let text = format!(
                    "{}\t{}",
                    text(m.import_energy_kwh),
                    text(m.export_energy_kwh)
                );
                Some(text.into())
            }
            _ => None,
        };
        RecordBuf {
            line: record.raw().as_str().into(),
            meter_counters,
        }
    }
}
