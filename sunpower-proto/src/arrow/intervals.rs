//! Intervals as Arrow record batches: the schema of `sunpower intervals --format jsonl`.

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Float64Builder, ListBuilder, StringBuilder, TimestampMicrosecondBuilder,
    UInt32Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef, TimeUnit};
use chrono::DateTime;

use super::{micros, string_item, utc};
use crate::intervals::{Flags, Interval, IntervalField, NetSource, Tz};

enum Column {
    Time(TimestampMicrosecondBuilder),
    Number(Float64Builder),
    Name(StringBuilder),
    Count(UInt32Builder),
    Bool(BooleanBuilder),
    Flags(ListBuilder<StringBuilder>),
}

fn prototype() -> Interval {
    Interval {
        interval_start: DateTime::UNIX_EPOCH,
        interval_end: DateTime::UNIX_EPOCH,
        production_wh: 0.0,
        consumption_wh: None,
        net_wh: None,
        production_w: 0.0,
        consumption_w: None,
        battery_wh: None,
        battery_soc: None,
        net_source: NetSource::None,
        inverters_reporting: 0,
        flags: Flags::empty(),
        revised: false,
    }
}

fn columns(tz: Option<Tz>) -> (SchemaRef, Vec<Column>) {
    let (mut fields, mut columns) = (Vec::new(), Vec::new());
    prototype().visit_output(tz, |name, value| {
        let (column, data_type, nullable) = match value {
            IntervalField::Time(_) => (
                Column::Time(TimestampMicrosecondBuilder::new().with_timezone("UTC")),
                utc(),
                false,
            ),
            IntervalField::LocalTime(_, tz) => (
                Column::Time(TimestampMicrosecondBuilder::new().with_timezone(tz.name())),
                DataType::Timestamp(TimeUnit::Microsecond, Some(tz.name().into())),
                false,
            ),
            IntervalField::Number(_) => (
                Column::Number(Float64Builder::new()),
                DataType::Float64,
                false,
            ),
            IntervalField::MaybeNumber(_) => (
                Column::Number(Float64Builder::new()),
                DataType::Float64,
                true,
            ),
            IntervalField::Name(_) => (Column::Name(StringBuilder::new()), DataType::Utf8, false),
            IntervalField::Count(_) => {
                (Column::Count(UInt32Builder::new()), DataType::UInt32, false)
            }
            IntervalField::Bool(_) => (
                Column::Bool(BooleanBuilder::new()),
                DataType::Boolean,
                false,
            ),
            IntervalField::Flags(_) => (
                Column::Flags(ListBuilder::new(StringBuilder::new()).with_field(string_item())),
                DataType::List(string_item()),
                false,
            ),
        };
        fields.push(Field::new(name, data_type, nullable));
        columns.push(column);
    });
    (Arc::new(Schema::new(fields)), columns)
}

/// The schema of interval batches: the keys of `sunpower intervals --format jsonl`, with
/// `interval_start_local` (a timestamp in the zone) when a zone is given.
///
/// ```
/// let schema = sunpower_proto::arrow::interval_schema(Some(chrono_tz::UTC));
/// assert_eq!(schema.field(1).name(), "interval_start_local");
/// assert_eq!(schema.fields().last().unwrap().name(), "flags");
/// ```
pub fn interval_schema(tz: Option<Tz>) -> SchemaRef {
    columns(tz).0
}

/// `rows` as one batch of [`interval_schema`]; the caller chunks long runs.
///
/// ```
/// use sunpower_proto::parse_line;
/// use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
/// let mut acc = IntervalAccumulator::new(IntervalConfig::offline());
/// acc.add(&parse_line("130\t20260601170000\tINV1\tM\t\t100.000\t0.3").unwrap());
/// let batch = sunpower_proto::arrow::interval_batch(&acc.finish(), None).unwrap();
/// assert_eq!(batch.num_rows(), 1);
/// ```
pub fn interval_batch(rows: &[Interval], tz: Option<Tz>) -> Result<RecordBatch, ArrowError> {
    let (schema, mut columns) = columns(tz);
    for row in rows {
        let mut i = 0;
        row.visit_output(tz, |_, value| {
            // Same visitor, same order as the schema: column i is this field's.
            match (&mut columns[i], value) {
                (Column::Time(b), IntervalField::Time(t))
                | (Column::Time(b), IntervalField::LocalTime(t, _)) => b.append_value(micros(t)),
                (Column::Number(b), IntervalField::Number(x)) => b.append_value(x),
                (Column::Number(b), IntervalField::MaybeNumber(x)) => b.append_option(x),
                (Column::Name(b), IntervalField::Name(x)) => b.append_value(x),
                (Column::Count(b), IntervalField::Count(x)) => b.append_value(x),
                (Column::Bool(b), IntervalField::Bool(x)) => b.append_value(x),
                (Column::Flags(b), IntervalField::Flags(flags)) => {
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
