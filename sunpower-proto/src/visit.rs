//! A record as every output shape writes it: the one field visitor behind the JSON Lines of the
//! command and Python's `Record.to_dict()`.

use crate::record::{FieldValue, Record, Source};
use crate::Channel;

impl<'a> Record<'a> {
    /// Visits the record's output fields in output order: `record_type`, then `raw` (the fields
    /// of a collector line) or `source` (`"devicelist"`, `"vars"`: a JSON source's record has
    /// no line), `channel` (when the record came from a post), then the typed fields of
    /// [`visit_fields`](Record::visit_fields).
    ///
    /// ```
    /// use sunpower_proto::{parse_line, Channel, FieldValue};
    /// let record = parse_line("102\tabc").unwrap();
    /// let mut names = Vec::new();
    /// record.visit_output(Some(Channel::Data), |name, value| {
    ///     if let FieldValue::Fields(raw) = value {
    ///         assert_eq!(raw, "102\tabc");
    ///     }
    ///     names.push(name);
    /// });
    /// assert_eq!(names, ["record_type", "raw", "channel", "token"]);
    /// ```
    pub fn visit_output(
        &self,
        channel: Option<Channel>,
        mut visit: impl FnMut(&'static str, FieldValue<'a>),
    ) {
        self.visit_output_at(channel, |name, value, _| visit(name, value));
    }

    /// [`Record::visit_output`] with the field indexes of
    /// [`visit_fields_at`](Record::visit_fields_at).
    pub(crate) fn visit_output_at(
        &self,
        channel: Option<Channel>,
        mut visit: impl FnMut(&'static str, FieldValue<'a>, Option<usize>),
    ) {
        visit(
            "record_type",
            FieldValue::Unsigned(Some(u64::from(self.record_type()))),
            None,
        );
        match self.source_ref() {
            Source::Collector(raw) => visit("raw", FieldValue::Fields(raw.as_str()), None),
            source => visit("source", FieldValue::Text(Some(source.as_str())), None),
        }
        if let Some(channel) = channel {
            visit("channel", FieldValue::Text(Some(channel.as_str())), None);
        }
        self.visit_fields_at(visit);
    }
}
