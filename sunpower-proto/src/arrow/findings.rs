//! Health findings as Arrow record batches: the schema of `sunpower health --format jsonl`.

use std::sync::Arc;

use arrow_array::builder::{
    Float64Builder, StringBuilder, TimestampMicrosecondBuilder, UInt32Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};

use super::{micros, utc};
use crate::health::Finding;
use crate::{FieldType, FieldValue};

enum Column {
    Time(TimestampMicrosecondBuilder),
    Number(Float64Builder),
    Name(StringBuilder),
    Count(UInt32Builder),
}

/// The schema's columns and their builders, from the column list ([`Finding::COLUMNS`]).
fn columns() -> (SchemaRef, Vec<Column>) {
    let (mut fields, mut columns) = (Vec::new(), Vec::new());
    for column in Finding::COLUMNS {
        let (builder, data_type) = match column.field_type {
            FieldType::Time => (
                Column::Time(TimestampMicrosecondBuilder::new().with_timezone("UTC")),
                utc(),
            ),
            FieldType::Decimal => (Column::Number(Float64Builder::new()), DataType::Float64),
            // Counts and record types, as the interval rows' counts.
            FieldType::Unsigned => (Column::Count(UInt32Builder::new()), DataType::UInt32),
            _ => (Column::Name(StringBuilder::new()), DataType::Utf8),
        };
        fields.push(Field::new(column.name, data_type, column.nullable));
        columns.push(builder);
    }
    (Arc::new(Schema::new(fields)), columns)
}

/// The schema of finding batches: the columns of a finding ([`Finding::COLUMNS`], the keys of
/// `sunpower health --format jsonl`).
///
/// ```
/// let schema = sunpower_proto::arrow::finding_schema();
/// assert_eq!(schema.field(0).name(), "kind");
/// assert!(schema.field_with_name("serial").unwrap().is_nullable());
/// ```
pub fn finding_schema() -> SchemaRef {
    columns().0
}

/// `findings` as one batch of [`finding_schema`].
///
/// ```
/// use chrono::DateTime;
/// use sunpower_proto::health::{Evidence, Finding, Kind, Status};
/// let t = DateTime::UNIX_EPOCH;
/// let gap = Finding::new(Kind::Gap, Status::Fault, None, t, t, Evidence::default());
/// let batch = sunpower_proto::arrow::finding_batch(&[gap]).unwrap();
/// assert_eq!((batch.num_rows(), batch.num_columns()), (1, 13));
/// ```
pub fn finding_batch(findings: &[Finding]) -> Result<RecordBatch, ArrowError> {
    let (schema, mut columns) = columns();
    for finding in findings {
        let mut i = 0;
        finding.visit(|_, value| {
            // The visitor follows the column list, as the schema does: column i is this field's.
            match (&mut columns[i], value) {
                (Column::Time(b), FieldValue::Time(t)) => b.append_option(t.map(micros)),
                (Column::Number(b), FieldValue::Decimal(x)) => b.append_option(x),
                (Column::Name(b), FieldValue::Text(x)) => b.append_option(x),
                (Column::Count(b), FieldValue::Unsigned(x)) => {
                    b.append_option(x.and_then(|x| u32::try_from(x).ok()))
                }
                // The visitor is the schema's: a mismatch cannot happen.
                (Column::Time(b), _) => b.append_null(),
                (Column::Number(b), _) => b.append_null(),
                (Column::Name(b), _) => b.append_null(),
                (Column::Count(b), _) => b.append_null(),
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
            }
        })
        .collect();
    RecordBatch::try_new(schema, arrays)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::{Device, Evidence, Kind, Status};
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, UInt32Type};
    use arrow_array::Array;
    use chrono::{TimeZone, Utc};

    #[test]
    fn the_schema_is_the_column_list_and_findings_fill_it() {
        let t = Utc.with_ymd_and_hms(2026, 6, 1, 17, 0, 0).unwrap();
        let evidence = Evidence {
            produced_kw: Some(0.07),
            peers_median_kw: Some(0.24),
            samples: 465,
            bad_samples: 465,
            days: 3,
            value: None,
        };
        let weak = Finding::new(
            Kind::Underperforming,
            Status::Fault,
            Some(Device::inverter("INV03")),
            t,
            t,
            evidence,
        );
        let gap = Finding::new(
            Kind::Gap,
            Status::Recovered,
            None,
            t,
            t,
            Evidence::default(),
        );
        // try_new checks each column's type and nullability against the schema.
        let batch = finding_batch(&[weak, gap]).unwrap();
        let schema = batch.schema();
        let fields: Vec<_> = (schema.fields().iter())
            .map(|f| (f.name().as_str(), f.is_nullable()))
            .collect();
        let columns: Vec<_> = Finding::COLUMNS
            .iter()
            .map(|c| (c.name, c.nullable))
            .collect();
        assert_eq!(fields, columns);
        let serial = batch.column_by_name("serial").unwrap().as_string::<i32>();
        assert_eq!((serial.value(0), serial.is_null(1)), ("INV03", true));
        let kind = batch.column_by_name("kind").unwrap().as_string::<i32>();
        assert_eq!((kind.value(0), kind.value(1)), ("underperforming", "gap"));
        let record_type = batch.column_by_name("record_type").unwrap();
        assert_eq!(record_type.as_primitive::<UInt32Type>().value(0), 130);
        assert!(record_type.is_null(1));
        let produced = batch.column_by_name("produced_kw").unwrap();
        assert_eq!(produced.as_primitive::<Float64Type>().value(0), 0.07);
        let days = batch.column_by_name("days").unwrap();
        assert_eq!(days.as_primitive::<UInt32Type>().value(0), 3);
    }
}
