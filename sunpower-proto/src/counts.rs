//! Counting what a run decoded: records by type and damaged lines, defined once for every front
//! end (`sunpower stats`, `sunpower stats --body`, Python's `stats`).

use std::collections::BTreeMap;

use crate::record::{InverterForm, Record};

/// Records and damaged lines counted over a run.
///
/// ```
/// use sunpower_proto::{Body, RecordCounts};
/// let mut counts = RecordCounts::default();
/// for item in Body::new(b"102\tabc\n130\tbad\n102\tdef\n").records() {
///     counts.count(&item);
/// }
/// assert_eq!((counts.records, counts.line_errors), (2, 1));
/// assert_eq!(counts.records_by_type.get(&102), Some(&2));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct RecordCounts {
    /// Records decoded.
    pub records: u64,
    /// Record type to count (a JSON object keyed by the type as a string).
    #[cfg_attr(feature = "serde", serde(serialize_with = "by_type_keys"))]
    pub records_by_type: BTreeMap<u16, u64>,
    /// Lines that could not be decoded.
    pub line_errors: u64,
    /// 130 lines in the 14-field form with field 4 collapsed.
    pub inverter_lines_collapsed: u64,
}

impl RecordCounts {
    /// Counts one item of a record iterator: a record, or a damaged line.
    ///
    /// ```
    /// use sunpower_proto::{Body, RecordCounts};
    /// let mut counts = RecordCounts::default();
    /// Body::new(b"130\tbad\n102\tabc\n").records().for_each(|item| counts.count(&item));
    /// assert_eq!((counts.records, counts.line_errors), (1, 1));
    /// ```
    pub fn count<E>(&mut self, item: &Result<Record<'_>, E>) {
        match item {
            Ok(record) => self.record(record),
            Err(_) => self.line_errors += 1,
        }
    }

    /// Counts one record.
    ///
    /// ```
    /// use sunpower_proto::{Record, RecordCounts};
    /// let mut counts = RecordCounts::default();
    /// counts.record(&Record::parse("102\tabc").unwrap());
    /// counts.record(&Record::parse("100\tSPMS\t10\tZT1\t20170107171925").unwrap());
    /// assert_eq!(counts.records, 2);
    /// assert_eq!(counts.records_by_type.into_iter().collect::<Vec<_>>(), [(100, 1), (102, 1)]);
    /// ```
    pub fn record(&mut self, record: &Record<'_>) {
        self.records += 1;
        *self
            .records_by_type
            .entry(record.record_type())
            .or_default() += 1;
        if let Record::Inverter(inv) = record
            && inv.form == InverterForm::Collapsed
        {
            self.inverter_lines_collapsed += 1;
        }
    }
}

#[cfg(feature = "serde")]
fn by_type_keys<S: serde::Serializer>(
    by_type: &BTreeMap<u16, u64>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    // Numeric order (a u16 key), written as strings since JSON keys are strings.
    serializer.collect_map(by_type.iter().map(|(t, n)| (t.to_string(), n)))
}
