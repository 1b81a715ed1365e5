//! `sunpower.RecordBatches`: the library's Arrow record batches, handed to pyarrow, polars,
//! DuckDB or pandas through the Arrow PyCapsule interface (`__arrow_c_stream__`), without a
//! Python object per record.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::CStr;

use arrow_array::ffi::FFI_ArrowSchema;
use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::{RecordBatch, RecordBatchIterator};
use arrow_schema::{ArrowError, Schema, SchemaRef};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyDict};
use sunpower_proto::arrow::{record_schema, KindBatch, RecordBatcher, RecordContext};

use crate::record::Record;

/// Rows of one schema (one record type, or intervals) as Arrow record batches. Immutable; every
/// `__arrow_c_stream__` call streams the same rows again.
#[pyclass(module = "sunpower", name = "RecordBatches", frozen)]
pub struct RecordBatches {
    record_type: Option<u16>,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
}

impl RecordBatches {
    pub fn new(record_type: Option<u16>, schema: SchemaRef, batches: Vec<RecordBatch>) -> Self {
        RecordBatches {
            record_type,
            schema,
            batches,
        }
    }
}

/// An Arrow error (not expected: the batches are built to their schema) as a `RuntimeError`.
pub fn arrow_error(e: impl std::fmt::Display) -> PyErr {
    PyRuntimeError::new_err(e.to_string())
}

#[pymethods]
impl RecordBatches {
    /// The record type of every row; `None` for intervals.
    #[getter]
    fn record_type(&self) -> Option<u16> {
        self.record_type
    }

    /// The column names, in order.
    #[getter]
    fn columns(&self) -> Vec<String> {
        (self.schema.fields().iter())
            .map(|f| f.name().clone())
            .collect()
    }

    #[getter]
    fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    fn __len__(&self) -> usize {
        self.num_rows()
    }

    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        schema_of(py, &self.schema)
    }

    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyCapsule>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let batches = self.batches.clone().into_iter().map(Ok);
        stream_of(py, &self.schema, batches, requested_schema)
    }

    /// A `pandas.DataFrame` of the rows (needs pyarrow and pandas).
    fn to_pandas<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let table = py.import("pyarrow")?.call_method1("table", (slf,))?;
        table.call_method0("to_pandas")
    }

    fn __repr__(&self) -> String {
        match self.record_type {
            Some(t) => format!("<RecordBatches record_type={t} rows={}>", self.num_rows()),
            None => format!("<RecordBatches intervals rows={}>", self.num_rows()),
        }
    }
}

/// The capsule names of the Arrow PyCapsule interface.
const SCHEMA_CAPSULE: &CStr = c"arrow_schema";
const STREAM_CAPSULE: &CStr = c"arrow_array_stream";

/// An `arrow_schema` capsule of `schema`: the Arrow C data interface's struct, as the Apache
/// crates export it. The capsule owns it; its destructor releases it unless a consumer took it.
fn schema_of<'py>(py: Python<'py>, schema: &Schema) -> PyResult<Bound<'py, PyCapsule>> {
    let exported = FFI_ArrowSchema::try_from(schema).map_err(arrow_error)?;
    PyCapsule::new_with_value(py, exported, SCHEMA_CAPSULE)
}

/// An `arrow_array_stream` capsule of `batches` of `schema` (the Arrow C stream interface, as
/// `arrow_array::ffi_stream` exports a reader: each batch a struct array). A consumer takes the
/// stream out of the capsule (and clears its release callback); one never taken is released
/// with the capsule.
///
/// `requested_schema` is the interface's hint, which a producer may leave unmet: every column
/// has one type, the one [`record_schema`] gives, and a consumer that wants another casts.
fn stream_of<'py>(
    py: Python<'py>,
    schema: &SchemaRef,
    batches: impl Iterator<Item = Result<RecordBatch, ArrowError>> + Send + 'static,
    _requested_schema: Option<Bound<'py, PyCapsule>>,
) -> PyResult<Bound<'py, PyCapsule>> {
    let reader = RecordBatchIterator::new(batches, schema.clone());
    let stream = FFI_ArrowArrayStream::new(Box::new(reader));
    PyCapsule::new_with_value(py, stream, STREAM_CAPSULE)
}

/// The stream capsule of a record type's batches as `batches` yields them.
pub fn stream_capsule<'py>(
    py: Python<'py>,
    record_type: u16,
    batches: impl Iterator<Item = Result<RecordBatch, ArrowError>> + Send + 'static,
    requested_schema: Option<Bound<'py, PyCapsule>>,
) -> PyResult<Bound<'py, PyCapsule>> {
    stream_of(py, &record_schema(record_type), batches, requested_schema)
}

/// The schema capsule of a record type.
pub fn schema_capsule(py: Python<'_>, record_type: u16) -> PyResult<Bound<'_, PyCapsule>> {
    schema_of(py, &record_schema(record_type))
}

/// Batches of a batcher, gathered per record type: every type, or only the chosen ones.
#[derive(Default)]
pub struct ByType {
    batches: BTreeMap<u16, Vec<RecordBatch>>,
    only: Option<BTreeSet<u16>>,
}

impl ByType {
    /// Keeps only the records of `types` (every type when `None`).
    pub fn only(types: Option<BTreeSet<u16>>) -> ByType {
        ByType {
            batches: BTreeMap::new(),
            only: types,
        }
    }

    /// Every batch gathered so far, taken out, in record-type order.
    pub fn drain(&mut self) -> Vec<KindBatch> {
        let batches = std::mem::take(&mut self.batches);
        (batches.into_iter())
            .flat_map(|(record_type, batches)| {
                (batches.into_iter()).map(move |batch| KindBatch { record_type, batch })
            })
            .collect()
    }

    fn wants(&self, record_type: u16) -> bool {
        self.only.as_ref().is_none_or(|t| t.contains(&record_type))
    }

    /// Rows gathered so far.
    pub fn rows(&self) -> usize {
        (self.batches.values().flatten())
            .map(RecordBatch::num_rows)
            .sum()
    }

    /// Moves `earlier`'s batches (rows an interrupted call had built) of the types this one
    /// keeps before this one's; the others stay in `earlier`, for a call that wants them.
    pub fn prepend(&mut self, earlier: &mut ByType) {
        let later = std::mem::take(&mut self.batches);
        let types: Vec<u16> = (earlier.batches.keys().copied())
            .filter(|t| self.wants(*t))
            .collect();
        for record_type in types {
            if let Some(batches) = earlier.batches.remove(&record_type) {
                self.batches.insert(record_type, batches);
            }
        }
        for (record_type, batches) in later {
            self.batches.entry(record_type).or_default().extend(batches);
        }
    }

    /// `later`'s batches after this one's (whatever its filter: they were built already).
    pub fn append(&mut self, later: ByType) {
        for (record_type, batches) in later.batches {
            self.batches.entry(record_type).or_default().extend(batches);
        }
    }

    pub fn add(&mut self, batch: KindBatch) {
        (self.batches.entry(batch.record_type).or_default()).push(batch.batch);
    }

    /// `{record_type: RecordBatches}`, in type order.
    pub fn into_dict(self, py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
        let dict = PyDict::new(py);
        for (record_type, batches) in self.batches {
            let schema = record_schema(record_type);
            dict.set_item(
                record_type,
                RecordBatches::new(Some(record_type), schema, batches),
            )?;
        }
        Ok(dict)
    }
}

/// Pushes one record into `batcher`, its completed batches into `out`.
pub fn push(
    batcher: &mut RecordBatcher,
    out: &mut ByType,
    record: &sunpower_proto::Record<'_>,
    context: &RecordContext<'_>,
) -> PyResult<()> {
    if !out.wants(record.record_type()) {
        return Ok(());
    }
    batcher
        .push(record, context, |b| out.add(b))
        .map_err(arrow_error)
}

/// The record types of an iterable of ints (a list, a set, a range).
pub fn record_type_set(types: &Bound<'_, PyAny>) -> PyResult<BTreeSet<u16>> {
    let mut set = BTreeSet::new();
    for item in types.try_iter()? {
        set.insert(item?.extract::<u16>()?);
    }
    Ok(set)
}

/// The rest of `batcher` into `out`.
pub fn finish(batcher: &mut RecordBatcher, out: &mut ByType) -> PyResult<()> {
    batcher.finish(|b| out.add(b)).map_err(arrow_error)
}

/// Records (from `parse_body`, `parse_device_list`, `Post.records` or any iterable of them) as
/// Arrow batches, one `RecordBatches` per record type.
#[pyfunction]
pub fn records_to_arrow<'py>(
    py: Python<'py>,
    records: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyDict>> {
    // The records are Python objects: they are read under the GIL, then built without it.
    let mut held: Vec<Py<Record>> = Vec::new();
    for item in records.try_iter()? {
        held.push(item?.cast_into::<Record>()?.unbind());
    }
    let out = py.detach(|| -> PyResult<ByType> {
        let mut batcher = RecordBatcher::new();
        let mut out = ByType::default();
        for record in &held {
            let record = record.get();
            let context = RecordContext {
                channel: record.post_channel(),
                ..RecordContext::default()
            };
            push(&mut batcher, &mut out, &record.core(), &context)?;
        }
        finish(&mut batcher, &mut out)?;
        Ok(out)
    })?;
    out.into_dict(py)
}
