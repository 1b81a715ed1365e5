//! Columnar output (`arrow` feature): records as Arrow record batches, one schema per record
//! kind, and intervals as a schema of their own. Sans-I/O: a [`RecordBatcher`] is fed records
//! and hands out full batches; writing them (Parquet files, a Python stream) is the caller's.
//!
//! A kind's schema is its field table ([`Record::fields`]); the values come from the one field
//! visitor ([`Record::visit_output`],
//! [`Interval::visit_output`](crate::intervals::Interval::visit_output)), so the columns carry the
//! JSON Lines keys (units in the names) and the same values: `record_type` (`UInt64`), `raw` (a
//! list of strings; null for a JSON source's record), `source` (null for a collector line's
//! record, which has `raw`), `channel`, the typed fields (timestamps as `Timestamp(µs, "UTC")`,
//! decimals as `Float64`, integers as `Int64`, counters as `UInt64`, text as `Utf8`), then the
//! post's context: `captured_at` (`Timestamp(µs, "UTC")`) and `input`. Every type this crate does
//! not know shares one schema: `record_type`, `raw`, `source`, `channel`, `timestamp`, `serial`
//! and the context.
//!
//! ```
//! use sunpower_proto::arrow::{RecordBatcher, RecordContext};
//! use sunpower_proto::{parse_line, Channel};
//!
//! let mut batcher = RecordBatcher::new();
//! let context = RecordContext { channel: Some(Channel::Data), ..RecordContext::default() };
//! let mut batches = Vec::new();
//! for line in ["102\tabc", "102\tdef", "999\tx"] {
//!     batcher.push(&parse_line(line).unwrap(), &context, |b| batches.push(b)).unwrap();
//! }
//! batcher.finish(|b| batches.push(b)).unwrap();
//! let trailers = batches.iter().find(|b| b.record_type == 102).unwrap();
//! assert_eq!(trailers.batch.num_rows(), 2);
//! assert_eq!(trailers.batch.schema().field(4).name(), "token");
//! assert!(batches.iter().any(|b| b.record_type == 999 && b.batch.num_rows() == 1));
//! ```

use std::sync::Arc;

use arrow_array::RecordBatch;
pub use arrow_schema::ArrowError;
use arrow_schema::{DataType, Field, FieldRef, Schema, SchemaRef, TimeUnit};
use chrono::{DateTime, Utc};

use crate::fields::FieldType;
use crate::record::{FieldValue, Record};
use crate::Channel;

mod columns;

use columns::{Column, Shared};

/// Rows in a batch before the [`RecordBatcher`] hands it out.
pub const DEFAULT_BATCH_ROWS: usize = 8192;

/// At most this many record kinds are buffered at once; a new kind past it flushes the largest.
pub const MAX_PENDING_KINDS: usize = 32;

/// Bytes of raw lines buffered across all kinds before the largest kind is flushed: with
/// [`MAX_LINE_BYTES`](crate::MAX_LINE_BYTES) lines, rows alone would not bound memory.
pub const MAX_PENDING_BYTES: usize = 8 << 20;

/// The context columns of a record: where its post came from.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RecordContext<'c> {
    /// The post's collector channel (`None` for raw bodies).
    pub channel: Option<Channel>,
    /// When the post was captured (`None` for raw bodies).
    pub captured_at: Option<DateTime<Utc>>,
    /// The input the post was read from (a file name, `-`).
    pub input: Option<&'c str>,
}

/// A batch of records of one type.
#[derive(Debug, Clone)]
pub struct KindBatch {
    /// The record type of every row.
    pub record_type: u16,
    /// The rows.
    pub batch: RecordBatch,
}

/// The context columns after the visited fields, in this order.
const CONTEXT_COLUMNS: [&str; 2] = ["captured_at", "input"];

fn utc() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

fn string_item() -> FieldRef {
    Arc::new(Field::new("item", DataType::Utf8, false))
}

fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// A value of `field_type`, not reported: what tells a column its type.
fn empty(field_type: FieldType) -> FieldValue<'static> {
    match field_type {
        FieldType::Time => FieldValue::Time(None),
        FieldType::Decimal => FieldValue::Decimal(None),
        FieldType::Integer => FieldValue::Integer(None),
        FieldType::Unsigned => FieldValue::Unsigned(None),
        _ => FieldValue::Text(None),
    }
}

/// The schema of the batches of `record_type` (one per known type; every unknown type has the
/// same).
///
/// ```
/// let schema = sunpower_proto::arrow::record_schema(130);
/// assert_eq!(schema.field(0).name(), "record_type");
/// assert!(schema.field_with_name("ac_power_kw").is_ok());
/// assert_eq!(schema.fields().last().unwrap().name(), "input");
/// ```
pub fn record_schema(record_type: u16) -> SchemaRef {
    KindBuilder::new(record_type).schema
}

/// The columns of one record type.
struct KindBuilder {
    record_type: u16,
    schema: SchemaRef,
    names: Vec<&'static str>,
    columns: Vec<Column>,
    shared: Shared,
    rows: usize,
    bytes: usize,
}

impl KindBuilder {
    fn new(record_type: u16) -> KindBuilder {
        let mut names = Vec::new();
        let mut columns = Vec::new();
        let mut fields = Vec::new();
        let mut add = |name: &'static str, value: FieldValue<'_>| {
            let (column, data_type) = Column::for_value(&value);
            let nullable = name != "record_type";
            fields.push(Field::new(name, data_type, nullable));
            names.push(name);
            columns.push(column);
        };
        // What every record visits first (`raw` for a collector line, `source` for a JSON
        // source's record), then the kind's fields as its table describes them.
        add("record_type", FieldValue::Unsigned(None));
        add("raw", FieldValue::Fields(""));
        add("source", FieldValue::Text(None));
        add("channel", FieldValue::Text(None));
        for spec in Record::fields(record_type) {
            add(spec.name, empty(spec.field_type));
        }
        add("captured_at", FieldValue::Time(None));
        add("input", FieldValue::Text(None));
        KindBuilder {
            record_type,
            schema: Arc::new(Schema::new(fields)),
            names,
            columns,
            shared: Shared::default(),
            rows: 0,
            bytes: 0,
        }
    }

    /// Appends one row; the number of visited fields the schema had no place for (none unless
    /// the visitor and the prototypes disagree).
    fn push(&mut self, record: &Record<'_>, context: &RecordContext<'_>) -> u64 {
        if self.rows == 0 {
            self.columns.iter_mut().for_each(Column::make_room);
        }
        let mut cursor = 0;
        let mut unplaced = 0;
        let fields_end = self.columns.len() - CONTEXT_COLUMNS.len();
        let (names, columns) = (&self.names[..fields_end], &mut self.columns);
        record.visit_output_at(context.channel, |name, value, _| {
            // Fields come in schema order; the ones not visited (no channel, a meter without
            // the JSON counters) are null.
            // The visitor's names are the prototype's literals: the next column's, almost
            // always, and the same pointer, so a pointer comparison settles most of them.
            let next = names.get(cursor);
            let offset = match next {
                Some(n) if std::ptr::eq(n.as_ptr(), name.as_ptr()) && n.len() == name.len() => {
                    Some(0)
                }
                _ => names[cursor..].iter().position(|n| *n == name),
            };
            match offset {
                Some(offset) => {
                    for column in &mut columns[cursor..cursor + offset] {
                        column.append_null();
                    }
                    if !columns[cursor + offset].append(value) {
                        unplaced += 1;
                    }
                    cursor += offset + 1;
                }
                None => unplaced += 1,
            }
        });
        for column in &mut columns[cursor..fields_end] {
            column.append_null();
        }
        columns[fields_end].append(FieldValue::Time(context.captured_at));
        columns[fields_end + 1].append(FieldValue::Text(context.input));
        self.rows += 1;
        self.bytes += record.raw().map_or(0, |raw| raw.as_str().len())
            + context.input.map_or(0, str::len)
            + 64;
        unplaced
    }

    fn finish(&mut self) -> Result<KindBatch, ArrowError> {
        let shared = &self.shared;
        // Every column finished (and so emptied), even past an error: rows stay aligned.
        let arrays: Vec<_> = self.columns.iter_mut().map(|c| c.finish(shared)).collect();
        let arrays = arrays.into_iter().collect::<Result<_, _>>();
        self.rows = 0;
        self.bytes = 0;
        Ok(KindBatch {
            record_type: self.record_type,
            batch: RecordBatch::try_new(self.schema.clone(), arrays?)?,
        })
    }
}

/// Records in, [`KindBatch`]es out (see the [module docs](self)): a batch leaves when its kind
/// has [`batch_rows`](RecordBatcher::with_batch_rows) rows, or earlier when the buffered lines
/// pass [`MAX_PENDING_BYTES`] or a kind past [`MAX_PENDING_KINDS`] comes, so memory stays
/// bounded whatever the input.
pub struct RecordBatcher {
    /// The kinds being built, in the order they came (at most [`MAX_PENDING_KINDS`]).
    kinds: Vec<KindBuilder>,
    /// The index in `kinds` of the last record's kind: records come in runs of one kind.
    last: usize,
    batch_rows: usize,
    pending_bytes: usize,
    unplaced: u64,
}

impl Default for RecordBatcher {
    fn default() -> Self {
        RecordBatcher::new()
    }
}

impl RecordBatcher {
    /// Batches of [`DEFAULT_BATCH_ROWS`] rows.
    pub fn new() -> RecordBatcher {
        RecordBatcher::with_batch_rows(DEFAULT_BATCH_ROWS)
    }

    /// Batches of at most `rows` rows (at least 1).
    pub fn with_batch_rows(rows: usize) -> RecordBatcher {
        RecordBatcher {
            kinds: Vec::new(),
            last: 0,
            batch_rows: rows.max(1),
            pending_bytes: 0,
            unplaced: 0,
        }
    }

    /// The index of `record_type`'s builder, made (flushing the largest kind first when
    /// [`MAX_PENDING_KINDS`] are pending) if there is none.
    fn kind_index(
        &mut self,
        record_type: u16,
        emit: &mut impl FnMut(KindBatch),
    ) -> Result<usize, ArrowError> {
        if (self.kinds.get(self.last)).is_some_and(|k| k.record_type == record_type) {
            return Ok(self.last);
        }
        let index = match self.kinds.iter().position(|k| k.record_type == record_type) {
            Some(index) => index,
            None => {
                if self.kinds.len() >= MAX_PENDING_KINDS {
                    self.flush_largest(true, emit)?;
                }
                self.kinds.push(KindBuilder::new(record_type));
                self.kinds.len() - 1
            }
        };
        self.last = index;
        Ok(index)
    }

    /// Adds one record; the batches it completes go to `emit`.
    pub fn push(
        &mut self,
        record: &Record<'_>,
        context: &RecordContext<'_>,
        mut emit: impl FnMut(KindBatch),
    ) -> Result<(), ArrowError> {
        let index = self.kind_index(record.record_type(), &mut emit)?;
        let kind = &mut self.kinds[index];
        let before = kind.bytes;
        self.unplaced += kind.push(record, context);
        self.pending_bytes += kind.bytes - before;
        if kind.rows >= self.batch_rows {
            self.pending_bytes -= kind.bytes;
            emit(kind.finish()?);
        }
        while self.pending_bytes > MAX_PENDING_BYTES {
            self.flush_largest(false, &mut emit)?;
        }
        Ok(())
    }

    /// Flushes the kind with the most buffered bytes (dropping its builder when `remove`).
    fn flush_largest(
        &mut self,
        remove: bool,
        emit: &mut impl FnMut(KindBatch),
    ) -> Result<(), ArrowError> {
        let Some(index) = (self.kinds.iter().enumerate())
            .max_by_key(|(_, k)| (k.bytes, std::cmp::Reverse(k.record_type)))
            .map(|(i, _)| i)
        else {
            return Ok(());
        };
        let mut removed = None;
        let kind = match remove {
            true => removed.insert(self.kinds.swap_remove(index)),
            false => &mut self.kinds[index],
        };
        self.pending_bytes -= kind.bytes;
        if kind.rows > 0 {
            emit(kind.finish()?);
        }
        Ok(())
    }

    /// Hands out every batch still buffered, in record-type order.
    pub fn finish(&mut self, mut emit: impl FnMut(KindBatch)) -> Result<(), ArrowError> {
        self.kinds.sort_unstable_by_key(|k| k.record_type);
        self.last = 0;
        for kind in &mut self.kinds {
            if kind.rows > 0 {
                emit(kind.finish()?);
            }
        }
        self.pending_bytes = 0;
        Ok(())
    }

    /// Visited fields the schema of their kind had no column for (written as null); zero unless
    /// the field visitor grew a field this module's prototypes do not have.
    pub fn unplaced_fields(&self) -> u64 {
        self.unplaced
    }
}

#[cfg(feature = "intervals")]
pub use findings::{finding_batch, finding_schema};
#[cfg(feature = "intervals")]
pub use intervals::{interval_batch, interval_schema};

/// The batch of a kind no collector line has: `record_type` (the kind's name, `"battery"`), then
/// the kind's fields as its table describes them (`Battery::FIELDS`, ...), one row per item.
fn kind_batch<T>(
    kind: &str,
    table: &'static [crate::FieldSpec],
    items: &[T],
    visit: impl Fn(&T, &mut dyn FnMut(&'static str, FieldValue<'_>)),
) -> Result<RecordBatch, ArrowError> {
    let mut fields = vec![Field::new("record_type", DataType::Utf8, false)];
    let (mut kind_column, _) = Column::for_value(&FieldValue::Text(None));
    let mut columns: Vec<Column> = Vec::new();
    for spec in table {
        let (column, data_type) = Column::for_value(&empty(spec.field_type));
        fields.push(Field::new(spec.name, data_type, true));
        columns.push(column);
    }
    kind_column.make_room();
    columns.iter_mut().for_each(Column::make_room);
    for item in items {
        kind_column.append(FieldValue::Text(Some(kind)));
        // Fields come in table order; one not visited is null.
        let mut cursor = 0;
        visit(item, &mut |name, value| {
            if let Some(offset) = table[cursor..].iter().position(|f| f.name == name) {
                for column in &mut columns[cursor..cursor + offset] {
                    column.append_null();
                }
                columns[cursor + offset].append(value);
                cursor += offset + 1;
            }
        });
        for column in &mut columns[cursor..] {
            column.append_null();
        }
    }
    let shared = Shared::default();
    let mut arrays = vec![kind_column.finish(&shared)?];
    for column in &mut columns {
        arrays.push(column.finish(&shared)?);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
}

/// The batteries as one batch: `record_type` (`"battery"`), then [`crate::Battery::FIELDS`].
///
/// ```
/// # #[cfg(feature = "varserver")] {
/// let vars = sunpower_proto::parse_vars(r#"{"/sys/devices/ess/0/sn": "B1",
///     "/sys/devices/ess/0/msmtEps": "2025-09-30T15:50:00Z", "/sys/devices/ess/0/socVal": "0.5"}"#).unwrap();
/// let batch = sunpower_proto::arrow::battery_batch(&vars.batteries).unwrap();
/// assert_eq!((batch.num_rows(), batch.num_columns()), (1, 1 + sunpower_proto::Battery::FIELDS.len()));
/// assert!(batch.schema().field_with_name("soc_pct").is_ok());
/// # }
/// ```
pub fn battery_batch(batteries: &[crate::Battery]) -> Result<RecordBatch, ArrowError> {
    use crate::Battery;
    kind_batch(Battery::KIND, Battery::FIELDS, batteries, |b, v| {
        b.visit_fields(v)
    })
}

/// The transfer switches as one batch: `record_type` (`"transfer_switch"`), then
/// [`crate::TransferSwitch::FIELDS`].
pub fn transfer_switch_batch(
    switches: &[crate::TransferSwitch],
) -> Result<RecordBatch, ArrowError> {
    use crate::TransferSwitch;
    kind_batch(
        TransferSwitch::KIND,
        TransferSwitch::FIELDS,
        switches,
        |s, v| s.visit_fields(v),
    )
}

/// Supervisor health readings as one batch: `record_type` (`"supervisor_health"`), then
/// [`crate::SupervisorHealth::FIELDS`].
pub fn supervisor_health_batch(
    health: &[crate::SupervisorHealth],
) -> Result<RecordBatch, ArrowError> {
    use crate::SupervisorHealth;
    kind_batch(
        SupervisorHealth::KIND,
        SupervisorHealth::FIELDS,
        health,
        |h, v| h.visit_fields(v),
    )
}

#[cfg(feature = "intervals")]
mod findings;
#[cfg(feature = "intervals")]
mod intervals;

#[cfg(test)]
mod tests {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, TimestampMicrosecondType, UInt64Type};
    use arrow_array::Array;

    use std::collections::HashMap;

    use proptest::prelude::{prop, prop_oneof, Just, Strategy};
    use proptest::{prop_assert, prop_assert_eq};

    use super::*;
    use crate::parse_line;

    fn collect(
        batcher: &mut RecordBatcher,
        lines: &[&str],
        context: &RecordContext<'_>,
    ) -> Vec<KindBatch> {
        let mut out = Vec::new();
        for line in lines {
            batcher
                .push(&parse_line(line).unwrap(), context, |b| out.push(b))
                .unwrap();
        }
        batcher.finish(|b| out.push(b)).unwrap();
        out
    }

    /// A cell as the batch holds it, or as the visitor and the context say it should be.
    #[derive(Debug, PartialEq)]
    enum Cell {
        Null,
        Time(i64),
        Text(String),
        /// The bits, so that -0.0 and 0.0 differ.
        Decimal(u64),
        Integer(i64),
        Unsigned(u64),
        Fields(Vec<String>),
    }

    fn cell(array: &dyn Array, row: usize) -> Cell {
        use arrow_array::types::Int64Type;
        if array.is_null(row) {
            return Cell::Null;
        }
        match array.data_type() {
            DataType::Timestamp(..) => {
                Cell::Time(array.as_primitive::<TimestampMicrosecondType>().value(row))
            }
            DataType::Utf8 => Cell::Text(array.as_string::<i32>().value(row).to_string()),
            DataType::Float64 => {
                Cell::Decimal(array.as_primitive::<Float64Type>().value(row).to_bits())
            }
            DataType::Int64 => Cell::Integer(array.as_primitive::<Int64Type>().value(row)),
            DataType::UInt64 => Cell::Unsigned(array.as_primitive::<UInt64Type>().value(row)),
            DataType::List(_) => {
                let list = array.as_list::<i32>().value(row);
                let strings = list.as_string::<i32>();
                Cell::Fields(strings.iter().map(|s| s.unwrap().to_string()).collect())
            }
            other => panic!("no column of type {other}"),
        }
    }

    fn expected(value: FieldValue<'_>) -> Cell {
        match value {
            FieldValue::Time(t) => t.map_or(Cell::Null, |t| Cell::Time(micros(t))),
            FieldValue::Text(t) => t.map_or(Cell::Null, |t| Cell::Text(t.to_string())),
            FieldValue::Decimal(v) => v.map_or(Cell::Null, |v| Cell::Decimal(v.to_bits())),
            FieldValue::Integer(v) => v.map_or(Cell::Null, Cell::Integer),
            FieldValue::Unsigned(v) => v.map_or(Cell::Null, Cell::Unsigned),
            FieldValue::Fields(raw) => Cell::Fields(raw.split('\t').map(str::to_string).collect()),
            other => panic!("not a record's value: {other:?}"),
        }
    }

    fn field_text() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => Just(String::new()),
            4 => "-?[0-9]{1,6}(\\.[0-9]{1,5})?",
            2 => "[^\t]{0,20}",
            1 => "[é€😀x]{0,9}",
        ]
    }

    fn line() -> impl Strategy<Value = String> {
        let kinds = [
            "100", "102", "120", "122", "130", "131", "140", "141", "999",
        ];
        let kind = prop::sample::select(kinds.to_vec());
        let timestamp = prop_oneof![
            8 => (1970u32..2100, 1u32..13, 1u32..29, 0u32..24)
                .prop_map(|(y, mo, d, h)| format!("{y:04}{mo:02}{d:02}{h:02}0000")),
            1 => field_text(),
        ];
        let rest = prop::collection::vec(field_text(), 0..16);
        (kind, timestamp, "[^\t]{1,20}", rest).prop_map(|(kind, ts, serial, rest)| {
            let mut fields = vec![kind.to_string(), ts, serial];
            fields.extend(rest);
            fields.join("\t")
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        /// Records of every kind, some meters with the JSON sources' counters, contexts that
        /// change from record to record, batches of a few rows (so buffers are taken and made
        /// room for again and again): every row holds what the visitor visits and its context,
        /// null where it visits nothing, in the order the records came.
        #[test]
        fn batches_hold_what_the_visitor_visits(
            lines in prop::collection::vec(line(), 1..60),
            batch_rows in 1usize..7,
            counters in prop::collection::vec(proptest::option::of(-1e6f64..1e6), 60),
            channels in prop::collection::vec(0u8..3, 60),
        ) {
            let mut records: Vec<Record<'_>> =
                lines.iter().filter_map(|l| Record::parse(l).ok()).collect();
            for (i, (record, counter)) in records.iter_mut().zip(&counters).enumerate() {
                if let Record::Meter(m) = record {
                    m.import_energy_kwh = *counter;
                }
                // Every third record as a JSON source's: no line, a source.
                if i % 3 == 2 {
                    let mut fields = Vec::new();
                    record.visit_fields(|name, value| fields.push((name, value)));
                    let built = Record::from_fields(record.record_type(), crate::Source::Vars, |name| {
                        fields.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
                    });
                    if let Some(built) = built {
                        *record = built;
                    }
                }
            }
            let inputs = ["a.pcap", "", "longer/path/to/a/capture.pcapng.gz"];
            let context = |i: usize| RecordContext {
                channel: [None, Some(Channel::Data), Some(Channel::Command)][usize::from(channels[i])],
                captured_at: (i % 4 != 3).then(|| DateTime::from_timestamp(1_700_000_000 + i as i64, 0).unwrap()),
                input: (i % 5 != 4).then_some(inputs[i % 3]),
            };
            let mut batcher = RecordBatcher::with_batch_rows(batch_rows);
            let mut batches = Vec::new();
            for (i, record) in records.iter().enumerate() {
                batcher.push(record, &context(i), |b| batches.push(b)).unwrap();
            }
            batcher.finish(|b| batches.push(b)).unwrap();
            prop_assert_eq!(batcher.unplaced_fields(), 0);
            prop_assert_eq!(batches.iter().map(|b| b.batch.num_rows()).sum::<usize>(), records.len());
            // Each type's rows, in the order its records came.
            let mut rows: HashMap<u16, Vec<(usize, usize)>> = HashMap::new();
            for (b, batch) in batches.iter().enumerate() {
                prop_assert!(batch.batch.num_rows() <= batch_rows);
                prop_assert_eq!(batch.batch.schema(), record_schema(batch.record_type));
                let of_type = rows.entry(batch.record_type).or_default();
                of_type.extend((0..batch.batch.num_rows()).map(|row| (b, row)));
            }
            let mut next: HashMap<u16, usize> = HashMap::new();
            for (i, record) in records.iter().enumerate() {
                let t = record.record_type();
                let slot = next.entry(t).or_default();
                let (b, row) = rows[&t][*slot];
                *slot += 1;
                let batch = &batches[b].batch;
                let context = context(i);
                let mut visited = HashMap::new();
                record.visit_output(context.channel, |name, value| {
                    visited.insert(name, expected(value));
                });
                visited.insert("captured_at", expected(FieldValue::Time(context.captured_at)));
                visited.insert("input", expected(FieldValue::Text(context.input)));
                for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
                    let want = visited.remove(field.name().as_str()).unwrap_or(Cell::Null);
                    prop_assert_eq!(cell(column.as_ref(), row), want, "{} of {:?}", field.name(), record);
                }
                prop_assert!(visited.is_empty(), "not in the schema: {:?}", visited);
            }
        }
    }

    #[cfg(feature = "varserver")]
    #[test]
    fn device_kinds_batch_their_tables_values() {
        use arrow_array::cast::AsArray;
        use arrow_array::types::Float64Type;
        let vars = crate::parse_vars(
            r#"{"/sys/devices/ess/0/sn": "B0", "/sys/devices/ess/0/msmtEps": "2025-09-30T15:50:00Z",
                "/sys/devices/ess/0/socVal": "0.25", "/sys/devices/ess/1/sn": "B1",
                "/sys/devices/ess/1/msmtEps": "2025-09-30T15:50:00Z", "/sys/devices/ess/1/vBattV": "52.5",
                "/sys/devices/transfer_switch/0/sn": "T0",
                "/sys/devices/transfer_switch/0/msmtEps": "2025-09-30T15:50:00Z",
                "/sys/devices/transfer_switch/0/midStEnum": "MID_STATE_CLOSED",
                "/sys/pvs/flashwear_type_b": "0x02"}"#,
        )
        .unwrap();
        let batch = battery_batch(&vars.batteries).unwrap();
        let names: Vec<String> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let mut want = vec!["record_type".to_owned()];
        want.extend(crate::Battery::FIELDS.iter().map(|f| f.name.to_owned()));
        assert_eq!(names, want);
        let soc = batch
            .column_by_name("soc_pct")
            .unwrap()
            .as_primitive::<Float64Type>();
        assert_eq!((soc.value(0), soc.is_null(1)), (25.0, true));
        let volts = batch
            .column_by_name("battery_voltage_v")
            .unwrap()
            .as_primitive::<Float64Type>();
        assert_eq!((volts.is_null(0), volts.value(1)), (true, 52.5));
        let serials = batch.column_by_name("serial").unwrap().as_string::<i32>();
        assert_eq!((serials.value(0), serials.value(1)), ("B0", "B1"));
        let switches = transfer_switch_batch(&vars.transfer_switches).unwrap();
        let state = switches
            .column_by_name("mid_state")
            .unwrap()
            .as_string::<i32>();
        assert_eq!(state.value(0), "MID_STATE_CLOSED");
        let health = supervisor_health_batch(vars.health.as_slice()).unwrap();
        let wear = health
            .column_by_name("flash_wear_pct")
            .unwrap()
            .as_primitive::<Float64Type>();
        assert_eq!(wear.value(0), 20.0);
        assert_eq!(battery_batch(&[]).unwrap().num_rows(), 0);
    }

    #[test]
    fn every_known_type_has_its_own_schema() {
        let unknown = record_schema(999);
        for t in [100, 102, 120, 122, 130, 131, 140, 141] {
            assert_ne!(record_schema(t), unknown, "{t}");
            let schema = record_schema(t);
            let names: Vec<_> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            let table: Vec<_> = Record::fields(t).iter().map(|f| f.name).collect();
            assert_eq!(names[4..names.len() - 2], table[..], "{t}");
        }
        let names: Vec<_> = unknown.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(
            names,
            [
                "record_type",
                "raw",
                "source",
                "channel",
                "timestamp",
                "serial",
                "captured_at",
                "input"
            ]
        );
        let meter = record_schema(140);
        assert!(meter.field_with_name("import_energy_kwh").is_ok());
        assert_eq!(
            meter.field_with_name("real_power_kw").unwrap().data_type(),
            &DataType::Float64
        );
        assert_eq!(
            meter.field_with_name("timestamp").unwrap().data_type(),
            &utc()
        );
    }

    #[test]
    fn values_land_in_their_columns() {
        let at = DateTime::from_timestamp(1_700_000_000, 123_000).unwrap();
        let context = RecordContext {
            channel: None,
            captured_at: Some(at),
            input: Some("a.pcap"),
        };
        let mut batcher = RecordBatcher::new();
        let batches = collect(
            &mut batcher,
            &[
                "130\t20170107171000\tINV\tM\t\t18.5\t0.04",
                "130\t20170107171500\tINV2",
            ],
            &context,
        );
        assert_eq!(batcher.unplaced_fields(), 0);
        assert_eq!(batches.len(), 1);
        let b = &batches[0].batch;
        assert_eq!(b.num_rows(), 2);
        let col = |name: &str| b.column_by_name(name).unwrap().clone();
        assert_eq!(
            col("record_type").as_primitive::<UInt64Type>().value(1),
            130
        );
        assert_eq!(col("channel").null_count(), 2);
        let energy = col("lifetime_energy_kwh");
        assert_eq!(energy.as_primitive::<Float64Type>().value(0), 18.5);
        assert!(energy.is_null(1));
        assert!(col("aux").is_null(0));
        let ts = col("timestamp");
        assert_eq!(
            ts.as_primitive::<TimestampMicrosecondType>().value(0),
            1_483_809_000_000_000
        );
        let captured = col("captured_at");
        assert_eq!(
            captured.as_primitive::<TimestampMicrosecondType>().value(1),
            at.timestamp_micros()
        );
        assert_eq!(col("input").as_string::<i32>().value(0), "a.pcap");
        let raw = col("raw");
        let raw = raw.as_list::<i32>().value(1);
        let raw: Vec<_> = raw.as_string::<i32>().iter().map(Option::unwrap).collect();
        assert_eq!(raw, ["130", "20170107171500", "INV2"]);
    }

    #[test]
    fn memory_stays_bounded_and_no_row_is_lost() {
        let context = RecordContext::default();
        // Full batches leave as they fill.
        let mut batcher = RecordBatcher::with_batch_rows(2);
        let out = collect(&mut batcher, &["102\ta", "102\tb", "102\tc"], &context);
        assert_eq!(
            out.iter().map(|b| b.batch.num_rows()).collect::<Vec<_>>(),
            [2, 1]
        );
        // More kinds than MAX_PENDING_KINDS: older kinds are flushed, every row comes out.
        let lines: Vec<String> = (0..MAX_PENDING_KINDS as u16 * 3)
            .map(|t| format!("{}\tx", 1000 + t % 40))
            .collect();
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let mut batcher = RecordBatcher::new();
        let mut out = Vec::new();
        for line in &lines {
            batcher
                .push(&parse_line(line).unwrap(), &context, |b| out.push(b))
                .unwrap();
            assert!(batcher.kinds.len() <= MAX_PENDING_KINDS);
        }
        batcher.finish(|b| out.push(b)).unwrap();
        assert_eq!(
            out.iter().map(|b| b.batch.num_rows()).sum::<usize>(),
            lines.len()
        );
        // Long lines: buffered bytes stay under the cap.
        let long = format!("777\t{}", "x".repeat(1 << 20));
        let mut batcher = RecordBatcher::new();
        let mut rows = 0;
        for _ in 0..20 {
            batcher
                .push(&parse_line(&long).unwrap(), &context, |b| {
                    rows += b.batch.num_rows()
                })
                .unwrap();
            assert!(batcher.pending_bytes <= MAX_PENDING_BYTES);
        }
        batcher.finish(|b| rows += b.batch.num_rows()).unwrap();
        assert_eq!(rows, 20);
    }
}
