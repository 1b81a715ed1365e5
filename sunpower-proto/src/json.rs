//! The JSON shape of records in docs/design.md (`serde` feature): `record_type`, `raw`, `channel`,
//! typed fields.

use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::Serialize;

use crate::record::{FieldValue, RawFields, Record};
use crate::time::Rfc3339;
use crate::Channel;

impl Serialize for RawFields<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        for field in self.iter() {
            seq.serialize_element(field)?;
        }
        seq.end()
    }
}

/// A record with the channel it came in on, serialized with `channel` after `raw` as the CLI
/// prints it. `Record` itself serializes without `channel`.
///
/// ```
/// use sunpower_proto::{parse_line, Channel, JsonRecord};
/// let r = parse_line("102\tabc").unwrap();
/// let json = serde_json::to_string(&JsonRecord::new(&r, Some(Channel::Data))).unwrap();
/// assert_eq!(json, r#"{"record_type":102,"raw":["102","abc"],"channel":"data","token":"abc"}"#);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct JsonRecord<'r, 'a> {
    record: &'r Record<'a>,
    channel: Option<Channel>,
}

impl<'r, 'a> JsonRecord<'r, 'a> {
    /// Pairs a record with its channel (`None` for raw bodies).
    ///
    /// ```
    /// use sunpower_proto::{Channel, JsonRecord, Record};
    /// let record = Record::parse("102\tabc").unwrap();
    /// let json = serde_json::to_value(JsonRecord::new(&record, Some(Channel::Command))).unwrap();
    /// assert_eq!((json["record_type"].as_u64(), json["channel"].as_str()), (Some(102), Some("command")));
    /// ```
    pub fn new(record: &'r Record<'a>, channel: Option<Channel>) -> Self {
        JsonRecord { record, channel }
    }
}

impl Serialize for JsonRecord<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        let mut result = Ok(());
        self.record.visit_output(self.channel, |name, value| {
            if result.is_ok() {
                result = serialize_field(&mut map, name, value);
            }
        });
        result?;
        map.end()
    }
}

/// One visited field as a JSON map entry: the shape of every typed value in every output.
pub(crate) fn serialize_field<M: SerializeMap>(
    map: &mut M,
    name: &'static str,
    value: FieldValue<'_>,
) -> Result<(), M::Error> {
    match value {
        FieldValue::Time(t) => map.serialize_entry(name, &t.map(Rfc3339)),
        FieldValue::Text(t) => map.serialize_entry(name, &t),
        FieldValue::Decimal(v) => map.serialize_entry(name, &v),
        FieldValue::Integer(v) => map.serialize_entry(name, &v),
        FieldValue::Unsigned(v) => map.serialize_entry(name, &v),
        FieldValue::Fields(raw) => map.serialize_entry(name, &raw),
    }
}

impl Serialize for Record<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        JsonRecord::new(self, None).serialize(serializer)
    }
}

impl Serialize for Rfc3339 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl Serialize for Channel {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}
