//! Intervals as Arrow record batches: the schema of `sunpower intervals --format jsonl`.

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Float64Builder, ListBuilder, StringBuilder, TimestampMicrosecondBuilder,
    UInt32Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef, TimeUnit};

use super::{micros, string_item, utc};
use crate::intervals::{Interval, Tz};
use crate::FieldType;
use crate::FieldValue;

enum Column {
    Time(TimestampMicrosecondBuilder),
    Number(Float64Builder),
    Name(StringBuilder),
    Count(UInt32Builder),
    Bool(BooleanBuilder),
    Flags(ListBuilder<StringBuilder>),
}

/// The schema's columns and their builders, from the column list ([`Interval::COLUMNS`]):
/// `interval_start_local` only when a zone is given.
fn columns(tz: Option<Tz>) -> (SchemaRef, Vec<Column>) {
    let (mut fields, mut columns) = (Vec::new(), Vec::new());
    for column in Interval::COLUMNS {
        let (builder, data_type) = match column.field_type {
            FieldType::Time => (
                Column::Time(TimestampMicrosecondBuilder::new().with_timezone("UTC")),
                utc(),
            ),
            FieldType::LocalTime => {
                let Some(tz) = tz else { continue };
                (
                    Column::Time(TimestampMicrosecondBuilder::new().with_timezone(tz.name())),
                    DataType::Timestamp(TimeUnit::Microsecond, Some(tz.name().into())),
                )
            }
            FieldType::Decimal => (Column::Number(Float64Builder::new()), DataType::Float64),
            FieldType::Unsigned => (Column::Count(UInt32Builder::new()), DataType::UInt32),
            FieldType::Bool => (Column::Bool(BooleanBuilder::new()), DataType::Boolean),
            FieldType::Flags => (
                Column::Flags(ListBuilder::new(StringBuilder::new()).with_field(string_item())),
                DataType::List(string_item()),
            ),
            // Text, and any later type: strings.
            _ => (Column::Name(StringBuilder::new()), DataType::Utf8),
        };
        fields.push(Field::new(column.name, data_type, column.nullable));
        columns.push(builder);
    }
    (Arc::new(Schema::new(fields)), columns)
}

/// The schema of interval batches: the columns of an interval row ([`Interval::COLUMNS`], the
/// keys of `sunpower intervals --format jsonl`), with `interval_start_local` (a timestamp in the
/// zone) when a zone is given.
///
/// ```
/// let schema = sunpower_proto::arrow::interval_schema(Some(chrono_tz::UTC));
/// assert_eq!(schema.field(1).name(), "interval_start_local");
/// assert_eq!(schema.fields().last().unwrap().name(), "battery_soc_pct");
/// ```
pub fn interval_schema(tz: Option<Tz>) -> SchemaRef {
    columns(tz).0
}

/// `rows` as one batch of [`interval_schema`]; the caller chunks long runs.
///
/// ```
/// use sunpower_proto::parse_line;
/// use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
/// let mut acc = IntervalAccumulator::new(IntervalConfig::default());
/// acc.add(&parse_line("130\t20260601170000\tINV1\tM\t\t100.000\t0.3").unwrap());
/// let batch = sunpower_proto::arrow::interval_batch(&acc.finish(), None).unwrap();
/// assert_eq!(batch.num_rows(), 1);
/// ```
pub fn interval_batch(rows: &[Interval], tz: Option<Tz>) -> Result<RecordBatch, ArrowError> {
    let (schema, mut columns) = columns(tz);
    for row in rows {
        let mut i = 0;
        row.visit_output(tz, |_, value| {
            // The visitor follows the column list, as the schema does: column i is this field's.
            match (&mut columns[i], value) {
                (Column::Time(b), FieldValue::Time(t)) => b.append_option(t.map(micros)),
                (Column::Time(b), FieldValue::LocalTime(t, _)) => b.append_value(micros(t)),
                (Column::Number(b), FieldValue::Decimal(x)) => b.append_option(x),
                (Column::Name(b), FieldValue::Text(x)) => b.append_option(x),
                // Interval counts are u32 (`inverters_reporting`).
                (Column::Count(b), FieldValue::Unsigned(x)) => {
                    b.append_option(x.and_then(|x| u32::try_from(x).ok()))
                }
                (Column::Bool(b), FieldValue::Bool(x)) => b.append_value(x),
                (Column::Flags(b), FieldValue::Flags(flags)) => {
                    for flag in flags.iter() {
                        b.values().append_value(flag.as_str());
                    }
                    b.append(true);
                }
                // The visitor is the schema's: a mismatch cannot happen.
                (Column::Time(b), _) => b.append_null(),
                (Column::Number(b), _) => b.append_null(),
                (Column::Name(b), _) => b.append_null(),
                (Column::Count(b), _) => b.append_null(),
                (Column::Bool(b), _) => b.append_null(),
                (Column::Flags(b), _) => b.append_null(),
            }
            i += 1;
        });
    }
    let arrays: Vec<ArrayRef> = (columns.iter_mut())
        .map(|c| -> ArrayRef {
            match c {
                Column::Time(b) => Arc::new(b.finish()),
                Column::Number(b) => Arc::new(b.finish()),
                Column::Name(b) => Arc::new(b.finish()),
                Column::Count(b) => Arc::new(b.finish()),
                Column::Bool(b) => Arc::new(b.finish()),
                Column::Flags(b) => Arc::new(b.finish()),
            }
        })
        .collect();
    RecordBatch::try_new(schema, arrays)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intervals::{Flag, Flags, NetSource};
    use arrow_array::cast::AsArray;
    use arrow_array::types::Float64Type;
    use arrow_array::Array;
    use chrono::{TimeZone, Utc};

    #[test]
    fn the_schema_is_the_column_list_and_rows_fill_it() {
        let start = Utc.with_ymd_and_hms(2026, 6, 1, 17, 0, 0).unwrap();
        let mut flags = Flags::empty();
        flags.insert(Flag::NoMeter);
        let row = Interval {
            interval_start: start,
            interval_end: start + chrono::TimeDelta::minutes(5),
            production_wh: 25.0,
            consumption_wh: None,
            net_wh: Some(-3.5),
            production_w: 300.0,
            consumption_w: None,
            battery_wh: Some(-12.0),
            battery_soc_pct: Some(86.0),
            net_source: NetSource::Counter,
            inverters_reporting: 2,
            flags,
            revised: true,
        };
        for tz in [Some(Tz::America__Los_Angeles), None] {
            // try_new checks each column's type and nullability against the schema.
            let batch = interval_batch(&[row.clone(), row.clone()], tz).unwrap();
            let schema = batch.schema();
            let columns: Vec<_> = Interval::COLUMNS
                .iter()
                .filter(|c| tz.is_some() || c.field_type != FieldType::LocalTime)
                .map(|c| (c.name, c.nullable))
                .collect();
            let fields: Vec<_> = schema
                .fields()
                .iter()
                .map(|f| (f.name().as_str(), f.is_nullable()))
                .collect();
            assert_eq!(fields, columns);
            let soc = batch.column_by_name("battery_soc_pct").unwrap();
            assert_eq!(soc.as_primitive::<Float64Type>().value(1), 86.0);
            let consumption = batch.column_by_name("consumption_wh").unwrap();
            assert!(consumption.is_null(0));
            let flags = batch
                .column_by_name("flags")
                .unwrap()
                .as_list::<i32>()
                .value(0);
            assert_eq!(flags.as_string::<i32>().value(0), "no_meter");
        }
    }
}
