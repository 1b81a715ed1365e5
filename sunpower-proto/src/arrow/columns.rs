//! The column buffers of record batches: plain vectors and validity bits, handed to Arrow
//! arrays without a copy when a batch leaves.
//!
//! Arrow's builders would do, but cost several times the decoding: a validity bit and an offset
//! check per string of `raw`, a `memchr` call per TAB, a `memcpy` call per short field, and
//! buffers grown again from nothing for every batch. These keep one vector per buffer, split
//! `raw` eight bytes at a time, and start each batch with the previous one's capacity.

use std::sync::Arc;

use arrow_array::types::{Float64Type, Int64Type, TimestampMicrosecondType, UInt64Type};
use arrow_array::{ArrayRef, ListArray, PrimitiveArray, StringArray};
use arrow_buffer::{
    ArrowNativeType, BooleanBuffer, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer,
};
use arrow_schema::{ArrowError, DataType, FieldRef};

use crate::record::{tab_bits, FieldValue};

/// What the arrays of every batch of a kind share, made once: the `raw` lists' item field and
/// the timestamps' zone.
pub(super) struct Shared {
    pub(super) item: FieldRef,
    pub(super) utc: Arc<str>,
}

impl Default for Shared {
    fn default() -> Self {
        Shared {
            item: super::string_item(),
            utc: "UTC".into(),
        }
    }
}

/// One column being built, typed as the field visitor's values are.
pub(super) enum Column {
    Time(Numbers<i64>),
    Text(Strings),
    Decimal(Numbers<f64>),
    Integer(Numbers<i64>),
    Unsigned(Numbers<u64>),
    Fields(FieldLists),
}

impl Column {
    /// The column for values like `value`, and its Arrow type.
    pub(super) fn for_value(value: &FieldValue<'_>) -> (Column, DataType) {
        match value {
            FieldValue::Time(_) => (Column::Time(Numbers::default()), super::utc()),
            FieldValue::Text(_) => (Column::Text(Strings::default()), DataType::Utf8),
            FieldValue::Decimal(_) => (Column::Decimal(Numbers::default()), DataType::Float64),
            FieldValue::Integer(_) => (Column::Integer(Numbers::default()), DataType::Int64),
            FieldValue::Unsigned(_) => (Column::Unsigned(Numbers::default()), DataType::UInt64),
            FieldValue::Fields(_) => (
                Column::Fields(FieldLists::default()),
                DataType::List(super::string_item()),
            ),
            // Interval rows' values (`arrow::interval_batch` has their columns); a record has
            // none of them.
            _ => (Column::Text(Strings::default()), DataType::Utf8),
        }
    }

    /// Appends `value`; false (and a null) when it is not of the column's type.
    #[inline]
    pub(super) fn append(&mut self, value: FieldValue<'_>) -> bool {
        match (self, value) {
            (Column::Time(c), FieldValue::Time(t)) => c.push(t.map(super::micros)),
            (Column::Text(c), FieldValue::Text(t)) => c.push(t),
            (Column::Decimal(c), FieldValue::Decimal(v)) => c.push(v),
            (Column::Integer(c), FieldValue::Integer(v)) => c.push(v),
            (Column::Unsigned(c), FieldValue::Unsigned(v)) => c.push(v),
            (Column::Fields(c), FieldValue::Fields(raw)) => c.push(raw),
            (column, _) => {
                column.append_null();
                return false;
            }
        }
        true
    }

    pub(super) fn append_null(&mut self) {
        match self {
            Column::Time(c) | Column::Integer(c) => c.push(None),
            Column::Text(c) => c.push(None),
            Column::Decimal(c) => c.push(None),
            Column::Unsigned(c) => c.push(None),
            Column::Fields(c) => c.push_null(),
        }
    }

    /// Reserves the room the last batch took (called at a batch's first row).
    pub(super) fn make_room(&mut self) {
        match self {
            Column::Time(c) | Column::Integer(c) => c.values.make_room(),
            Column::Text(c) => {
                c.ends.ends.make_room();
                c.data.make_room();
            }
            Column::Decimal(c) => c.values.make_room(),
            Column::Unsigned(c) => c.values.make_room(),
            Column::Fields(c) => {
                c.rows.ends.make_room();
                c.fields.ends.make_room();
                c.data.make_room();
            }
        }
    }

    /// The column's array; the buffers start again, empty.
    pub(super) fn finish(&mut self, shared: &Shared) -> Result<ArrayRef, ArrowError> {
        Ok(match self {
            Column::Time(c) => {
                let (values, nulls) = c.finish();
                let array = PrimitiveArray::<TimestampMicrosecondType>::try_new(values, nulls)?;
                Arc::new(array.with_timezone(shared.utc.clone()))
            }
            Column::Text(c) => Arc::new(c.finish()?),
            Column::Decimal(c) => {
                let (values, nulls) = c.finish();
                Arc::new(PrimitiveArray::<Float64Type>::try_new(values, nulls)?)
            }
            Column::Integer(c) => {
                let (values, nulls) = c.finish();
                Arc::new(PrimitiveArray::<Int64Type>::try_new(values, nulls)?)
            }
            Column::Unsigned(c) => {
                let (values, nulls) = c.finish();
                Arc::new(PrimitiveArray::<UInt64Type>::try_new(values, nulls)?)
            }
            Column::Fields(c) => Arc::new(c.finish(&shared.item)?),
        })
    }
}

/// A buffer's vector, and how long it was when its last batch left. The next batch takes that
/// room at its first row ([`Column::make_room`]), not when the last one leaves: by then the
/// consumer has mostly dropped the last batch's arrays, and the allocator can hand their memory
/// back instead of leaving it in holes (half a MiB of a Parquet run's peak).
#[derive(Default)]
struct Buf<T> {
    vec: Vec<T>,
    room: usize,
}

impl<T> Buf<T> {
    /// The contents, taken out.
    fn take(&mut self) -> Vec<T> {
        self.room = self.vec.len();
        std::mem::take(&mut self.vec)
    }

    fn make_room(&mut self) {
        self.vec.reserve(self.room);
    }
}

/// Validity bits, none kept until the first null (as Arrow's builders do, but inlined: this is
/// called for every value).
#[derive(Default)]
struct Validity {
    len: usize,
    /// The bits, LSB first, once a null came.
    bits: Option<Vec<u8>>,
}

impl Validity {
    #[inline]
    fn push(&mut self, valid: bool) {
        match &mut self.bits {
            None if valid => {}
            bits => {
                let bits = bits.get_or_insert_with(|| all_valid(self.len));
                if self.len.is_multiple_of(8) {
                    bits.push(0);
                }
                if let Some(last) = bits.last_mut() {
                    *last |= u8::from(valid) << (self.len % 8);
                }
            }
        }
        self.len += 1;
    }

    fn finish(&mut self) -> Option<NullBuffer> {
        let len = std::mem::take(&mut self.len);
        let bits = self.bits.take()?;
        Some(NullBuffer::new(BooleanBuffer::new(
            Buffer::from_vec(bits),
            0,
            len,
        )))
    }
}

/// The bits of `len` valid values.
#[cold]
fn all_valid(len: usize) -> Vec<u8> {
    let mut bits = vec![0xff; len / 8];
    if !len.is_multiple_of(8) {
        bits.push((1u8 << (len % 8)) - 1);
    }
    bits
}

/// Values of a fixed-width type; a null is a zero with its validity bit clear.
#[derive(Default)]
pub(super) struct Numbers<T> {
    values: Buf<T>,
    valid: Validity,
}

impl<T: ArrowNativeType> Numbers<T> {
    #[inline]
    fn push(&mut self, value: Option<T>) {
        self.values.vec.push(value.unwrap_or_default());
        self.valid.push(value.is_some());
    }

    fn finish(&mut self) -> (ScalarBuffer<T>, Option<NullBuffer>) {
        (self.values.take().into(), self.valid.finish())
    }
}

/// Where the next value starts, as Arrow's 32-bit offsets; `None` past their range (a batch is
/// flushed long before, at [`MAX_PENDING_BYTES`](super::MAX_PENDING_BYTES)).
#[inline]
fn offset(len: usize) -> Option<i32> {
    i32::try_from(len).ok()
}

/// The error of a column whose bytes passed the 32-bit offsets (not reachable with the
/// batcher's byte cap; an error rather than a panic all the same).
fn too_long() -> ArrowError {
    ArrowError::ComputeError("a column's strings passed 2 GiB".into())
}

/// Offsets that start at zero, and whether every one fitted.
struct Offsets {
    ends: Buf<i32>,
    overflowed: bool,
}

impl Default for Offsets {
    fn default() -> Self {
        Offsets {
            ends: Buf {
                vec: vec![0],
                room: 0,
            },
            overflowed: false,
        }
    }
}

impl Offsets {
    #[inline]
    fn push(&mut self, len: usize) {
        match offset(len) {
            Some(end) => self.ends.vec.push(end),
            None => {
                self.overflowed = true;
                self.ends.vec.push(i32::MAX);
            }
        }
    }

    fn count(&self) -> usize {
        self.ends.vec.len() - 1
    }

    /// The offsets, checked (monotonic from zero, as they were pushed); they start again at
    /// zero either way.
    fn finish(&mut self) -> Result<OffsetBuffer<i32>, ArrowError> {
        let ends = self.ends.take();
        self.ends.vec.push(0);
        match std::mem::take(&mut self.overflowed) {
            true => Err(too_long()),
            false => Ok(OffsetBuffer::new(ends.into())),
        }
    }
}

/// UTF-8 strings, back to back.
#[derive(Default)]
pub(super) struct Strings {
    ends: Offsets,
    data: Buf<u8>,
    valid: Validity,
}

impl Strings {
    #[inline]
    fn push(&mut self, text: Option<&str>) {
        if let Some(text) = text {
            self.data.vec.extend_from_slice(text.as_bytes());
        }
        self.ends.push(self.data.vec.len());
        self.valid.push(text.is_some());
    }

    fn finish(&mut self) -> Result<StringArray, ArrowError> {
        let (offsets, data, valid) = (self.ends.finish(), self.data.take(), self.valid.finish());
        StringArray::try_new(offsets?, Buffer::from_vec(data), valid)
    }
}

/// Lists of a line's TAB-separated fields (`raw`); null for a record without a line.
#[derive(Default)]
pub(super) struct FieldLists {
    rows: Offsets,
    fields: Offsets,
    data: Buf<u8>,
    valid: Validity,
}

impl FieldLists {
    fn push(&mut self, line: &str) {
        split_fields(line.as_bytes(), &mut self.fields, &mut self.data.vec);
        self.rows.push(self.fields.count());
        self.valid.push(true);
    }

    fn push_null(&mut self) {
        self.rows.push(self.fields.count());
        self.valid.push(false);
    }

    fn finish(&mut self, item: &FieldRef) -> Result<ListArray, ArrowError> {
        let (rows, fields, data) = (self.rows.finish(), self.fields.finish(), self.data.take());
        let valid = self.valid.finish();
        let values = StringArray::try_new(fields?, Buffer::from_vec(data), None)?;
        ListArray::try_new(item.clone(), rows?, Arc::new(values), valid)
    }
}

/// Appends the fields of `line` to `data`, each one's end to `ends`: eight bytes are copied at
/// a time and the copy cut back at the first TAB among them, so a field costs a load and a
/// store or two, not a search and a `memcpy` call. The bytes copied are the line's, split at
/// ASCII TABs, so `data` stays UTF-8.
fn split_fields(line: &[u8], ends: &mut Offsets, data: &mut Vec<u8>) {
    let mut at = 0;
    while let Some(word) = line
        .get(at..at + 8)
        .and_then(|w| <[u8; 8]>::try_from(w).ok())
    {
        data.extend_from_slice(&word);
        let tabs = tab_bits(u64::from_le_bytes(word));
        if tabs == 0 {
            at += 8;
            continue;
        }
        let before = (tabs.trailing_zeros() / 8) as usize;
        data.truncate(data.len() - (8 - before));
        ends.push(data.len());
        at += before + 1;
    }
    for &byte in line.get(at..).unwrap_or_default() {
        if byte == b'\t' {
            ends.push(data.len());
        } else {
            data.push(byte);
        }
    }
    ends.push(data.len());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(line: &str) -> Vec<String> {
        let (mut ends, mut data) = (Offsets::default(), Vec::new());
        split_fields(line.as_bytes(), &mut ends, &mut data);
        let data = String::from_utf8(data).unwrap();
        (ends.ends.vec.windows(2))
            .map(|w| data[w[0] as usize..w[1] as usize].to_string())
            .collect()
    }

    #[test]
    fn fields_are_str_split_at_tabs() {
        let lines = [
            "",
            "\t",
            "\t\t",
            "130",
            "130\t",
            "1234567\t",
            "12345678\t",
            "123456789\t",
            "\t12345678",
            "130\t20170107171000\t414051637009125\tAC_Module_Type_C\t18.5466\t\t245.15\t",
            "é\tü€\t𝄞xxxxxxxxxxxx\t\t\tlast one",
        ];
        for line in lines {
            assert_eq!(
                split(line),
                line.split('\t').collect::<Vec<_>>(),
                "{line:?}"
            );
        }
        // Every arrangement of TABs in lines up to 13 bytes long (a word and a tail).
        for len in 0..=13 {
            for mask in 0u32..1 << len {
                let line: String = (0..len)
                    .map(|i| if mask >> i & 1 == 1 { '\t' } else { 'x' })
                    .collect();
                assert_eq!(
                    split(&line),
                    line.split('\t').collect::<Vec<_>>(),
                    "{line:?}"
                );
            }
        }
    }

    #[test]
    fn validity_bits_are_the_pushed_ones() {
        for len in 0..40 {
            for nulls in [
                vec![],
                vec![0],
                vec![len / 2],
                vec![7, 8, 9],
                (0..len).collect(),
            ] {
                let mut validity = Validity::default();
                let valid: Vec<bool> = (0..len).map(|i| !nulls.contains(&i)).collect();
                for &v in &valid {
                    validity.push(v);
                }
                match validity.finish() {
                    None => assert!(valid.iter().all(|&v| v), "{len} {nulls:?}"),
                    Some(buffer) => {
                        assert_eq!(buffer.len(), len);
                        assert_eq!(buffer.iter().collect::<Vec<_>>(), valid, "{len} {nulls:?}");
                    }
                }
                // Finished, it starts again empty.
                validity.push(true);
                assert!(validity.finish().is_none());
            }
        }
    }

    #[test]
    fn offsets_past_their_range_are_an_error() {
        let mut offsets = Offsets::default();
        offsets.push(1);
        offsets.push(usize::MAX);
        assert!(offsets.finish().is_err());
        // And the buffer starts again usable.
        offsets.push(3);
        assert_eq!(offsets.finish().unwrap().as_ref(), &[0, 3]);
    }
}
