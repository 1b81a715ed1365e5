//! `read_capture`: capture files or binary streams to a lazy iterator of `Post`s.
//!
//! Each `__next__` runs the capture decoder with the GIL released until it yields at least one
//! post (or the capture ends), so a capture of any size streams in constant memory. Python file
//! objects are read through [`PyReader`], which takes the GIL only around each `read` call.

use std::collections::VecDeque;
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

use chrono::{DateTime, Utc};
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyString, PyTuple, PyType};
use sunpower_pcap::capture::Input;
use sunpower_pcap::decoder::{DecoderConfig, Missing, ProblemKind};
use sunpower_pcap::flow::Endpoint;
use sunpower_pcap::records::{RecordDecoder, RecordEvent};
use sunpower_proto::{Channel, LineError};

use crate::arrow::{self as batches, ByType};
use crate::capped::Capped;
use crate::errors;
use crate::record::Record;
use sunpower_proto::arrow::{KindBatch, RecordBatcher, RecordContext};
use sunpower_store::parquet::{Dataset, BATCH_ROWS as PARQUET_BATCH_ROWS};

static CAPTURE_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// A Python exception raised inside a file object's `read`, kept to be raised again from
/// `__next__` (a `KeyboardInterrupt` while reading a pipe must not become a read error).
type PendingError = Arc<Mutex<Option<PyErr>>>;

/// A binary Python file object (`sys.stdin.buffer`, `open(..., "rb")`, `io.BytesIO`) as `Read`.
struct PyReader {
    file: Py<PyAny>,
    pending: PendingError,
    /// Bytes a `read(n)` returned beyond the `n` asked for: kept for the next reads, not dropped.
    surplus: Vec<u8>,
    surplus_at: usize,
}

/// How long to wait before asking again a non-blocking stream that had nothing ready.
const NOTHING_READY_PAUSE: std::time::Duration = std::time::Duration::from_millis(20);

impl PyReader {
    fn new(file: Py<PyAny>, pending: PendingError) -> Self {
        PyReader {
            file,
            pending,
            surplus: Vec::new(),
            surplus_at: 0,
        }
    }

    /// Keeps a Python exception to raise from `__next__`, and stops the reading.
    fn fail(&self, e: PyErr) -> io::Error {
        let message = e.to_string();
        if let Ok(mut slot) = self.pending.lock() {
            slot.get_or_insert(e);
        }
        io::Error::other(message)
    }
}

impl Read for PyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.surplus_at < self.surplus.len() {
            let rest = &self.surplus[self.surplus_at..];
            let n = rest.len().min(buf.len());
            buf[..n].copy_from_slice(&rest[..n]);
            self.surplus_at += n;
            return Ok(n);
        }
        let got = Python::attach(|py| -> PyResult<Option<usize>> {
            let data = self.file.bind(py).call_method1("read", (buf.len(),))?;
            if data.is_none() {
                // A non-blocking stream with nothing ready. Ctrl-C must still work.
                py.check_signals()?;
                return Ok(None);
            }
            let bytes = data.cast_into::<PyBytes>().map_err(|_| {
                PyTypeError::new_err("read() of a capture source must return bytes")
            })?;
            let bytes = bytes.as_bytes();
            let n = bytes.len().min(buf.len());
            buf[..n].copy_from_slice(&bytes[..n]);
            self.surplus.clear();
            self.surplus.extend_from_slice(&bytes[n..]);
            self.surplus_at = 0;
            Ok(Some(n))
        });
        match got {
            Ok(Some(n)) => Ok(n),
            Ok(None) => {
                // Wait without the GIL and without spinning, then let the reader ask again.
                std::thread::sleep(NOTHING_READY_PAUSE);
                Err(io::Error::from(io::ErrorKind::Interrupted))
            }
            Err(e) => Err(self.fail(e)),
        }
    }
}

/// A post as the decoder gave it, owned, with its records and (at most 100 of)
/// its damaged lines, decoded without the GIL.
struct DecodedPost {
    channel: Option<Channel>,
    captured_at: DateTime<Utc>,
    input: String,
    packet: u64,
    target: String,
    client: Endpoint,
    server: Endpoint,
    body: Vec<u8>,
    missing: Missing,
    records: Vec<Record>,
    errors: Capped<LineError>,
}

impl DecodedPost {
    fn new(post: &sunpower_pcap::decoder::Post<'_>) -> Self {
        DecodedPost {
            channel: post.channel,
            captured_at: post.captured_at,
            input: post.input.to_owned(),
            packet: post.packet,
            target: post.target.to_owned(),
            client: post.client,
            server: post.server,
            body: post.body.to_vec(),
            missing: post.missing,
            records: Vec::new(),
            errors: Capped::default(),
        }
    }
}

/// What one run of the decoder produced.
enum Found {
    Post(Box<DecodedPost>),
    /// A problem the log shows: its message.
    Problem(String),
    /// An input that could not be read at all.
    Unreadable(String),
}

/// One collector request from a capture: its records and where it came from. Immutable.
#[pyclass(module = "sunpower", name = "Post", frozen)]
pub struct Post {
    post: DecodedPost,
    records: Py<PyTuple>,
    record_count: usize,
}

#[pymethods]
impl Post {
    /// The records of the body, in order, each with `channel` set.
    #[getter]
    fn records(&self, py: Python<'_>) -> Py<PyTuple> {
        self.records.clone_ref(py)
    }

    /// One `DecodeError` per line of the body that could not be decoded (the first 100; see
    /// `error_count`).
    #[getter]
    fn errors<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let each = self
            .post
            .errors
            .kept()
            .iter()
            .map(|e| errors::decode_error(py, e))
            .collect::<PyResult<Vec<_>>>()?;
        PyTuple::new(py, each)
    }

    /// How many lines of the body could not be decoded (`errors` holds the first 100).
    #[getter]
    fn error_count(&self) -> u64 {
        self.post.errors.total()
    }

    /// `"data"` or `"command"`, from the request path.
    #[getter]
    fn channel(&self) -> Option<&'static str> {
        self.post.channel.map(|c| c.as_str())
    }

    /// Capture time of the packet that completed the request (aware, UTC).
    #[getter]
    fn captured_at(&self) -> DateTime<Utc> {
        self.post.captured_at
    }

    /// Whether the whole body arrived; when not, `records` holds the whole lines before the hole.
    #[getter]
    fn complete(&self) -> bool {
        self.post.missing == Missing::Nothing
    }

    /// Body bytes missing when the body was cut and its length declared; else `None`.
    #[getter]
    fn missing_bytes(&self) -> Option<u64> {
        self.post.missing.bytes()
    }

    /// The body as received (de-chunked).
    #[getter]
    fn body<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.post.body)
    }

    /// The request target as sent (`/Data/SMS2DataCollector.aspx`).
    #[getter]
    fn target(&self) -> &str {
        &self.post.target
    }

    /// The name of the capture input it came from.
    #[getter]
    fn input(&self) -> &str {
        &self.post.input
    }

    /// The packet number (from 1, within its input) that completed it.
    #[getter]
    fn packet(&self) -> u64 {
        self.post.packet
    }

    /// The supervisor's address and port.
    #[getter]
    fn client(&self) -> (String, u16) {
        (self.post.client.ip.to_string(), self.post.client.port)
    }

    /// The collector's address and port.
    #[getter]
    fn server(&self) -> (String, u16) {
        (self.post.server.ip.to_string(), self.post.server.port)
    }

    fn __repr__(&self) -> String {
        format!(
            "Post({}, {} records, captured_at={}{}, {}:{})",
            self.post.channel.map_or("other", |c| c.as_str()),
            self.record_count,
            sunpower_proto::rfc3339(self.post.captured_at),
            if self.post.missing == Missing::Nothing {
                ""
            } else {
                ", incomplete"
            },
            self.post.input,
            self.post.packet,
        )
    }
}

/// The decoder and what it found but has not handed out yet.
struct State {
    decoder: RecordDecoder,
    ready: VecDeque<Found>,
    /// The post whose records are being decoded.
    current: Option<Box<DecodedPost>>,
    /// Whether the "N more ... not shown" lines were logged (once, at the end).
    summarised: bool,
}

/// Packets decoded between two looks at Python's signals (Ctrl-C) when nothing is found.
const STEPS_BETWEEN_SIGNAL_CHECKS: u32 = 4096;

impl State {
    /// Decodes until something is found, the capture ends, or it is time to look at signals;
    /// returns false at the end.
    fn pull(&mut self) -> bool {
        let State {
            decoder,
            ready,
            current,
            ..
        } = self;
        for _ in 0..STEPS_BETWEEN_SIGNAL_CHECKS {
            let more = decoder.step(|event| match event {
                RecordEvent::Record { post, record } => current
                    .get_or_insert_with(|| Box::new(DecodedPost::new(post)))
                    .records
                    .push(Record::new(&record, post.channel)),
                RecordEvent::LineError { post, error, shown } => {
                    if shown {
                        ready.push_back(Found::Problem(post.line_error_message(&error)));
                    }
                    current
                        .get_or_insert_with(|| Box::new(DecodedPost::new(post)))
                        .errors
                        .push(error);
                }
                RecordEvent::PostEnd(post) => {
                    let done = current
                        .take()
                        .unwrap_or_else(|| Box::new(DecodedPost::new(post)));
                    ready.push_back(Found::Post(done));
                }
                RecordEvent::Problem { problem, shown } => {
                    if matches!(&problem.kind, ProblemKind::Capture(e) if e.input_unreadable()) {
                        ready.push_back(Found::Unreadable(problem.to_string()));
                    } else if shown {
                        ready.push_back(Found::Problem(problem.to_string()));
                    }
                }
            });
            if !more || !ready.is_empty() {
                return more;
            }
        }
        true
    }
}

impl State {
    /// [`State::pull`] for `to_arrow`: the records go into `batcher` (no Python object, no
    /// post kept), problems into `ready` as for iteration.
    fn pull_arrow(&mut self, batcher: &mut RecordBatcher, out: &mut ByType) -> PyResult<bool> {
        let State { decoder, ready, .. } = self;
        let mut result = Ok(());
        for _ in 0..STEPS_BETWEEN_SIGNAL_CHECKS {
            let more = decoder.step(|event| match event {
                RecordEvent::Record { post, record } => {
                    let context = RecordContext {
                        channel: post.channel,
                        captured_at: Some(post.captured_at),
                        input: Some(post.input),
                    };
                    if result.is_ok() {
                        result = batches::push(batcher, out, &record, &context);
                    }
                }
                RecordEvent::LineError { post, error, shown } => {
                    if shown {
                        ready.push_back(Found::Problem(post.line_error_message(&error)));
                    }
                }
                RecordEvent::PostEnd(_) => {}
                RecordEvent::Problem { problem, shown } => {
                    if matches!(&problem.kind, ProblemKind::Capture(e) if e.input_unreadable()) {
                        ready.push_back(Found::Unreadable(problem.to_string()));
                    } else if shown {
                        ready.push_back(Found::Problem(problem.to_string()));
                    }
                }
            });
            result?;
            result = Ok(());
            if !more || !ready.is_empty() {
                return Ok(more);
            }
        }
        Ok(true)
    }
}

/// The lazy iterator `read_capture` returns.
#[pyclass(module = "sunpower", name = "CaptureReader", frozen)]
pub struct CaptureReader {
    state: Mutex<State>,
    pending: PendingError,
    /// Rows an interrupted `to_arrow` (Ctrl-C, an error) or an `arrow_stream` left unread had
    /// built: the decoder is past their records, so the next Arrow call hands them out first.
    /// A lock of its own, never held around Python or the decoder (a stream's drop takes it).
    carried: Mutex<Option<ByType>>,
    /// Whether an `arrow_stream` of this reader is unfinished: a second would share the
    /// records with it, each getting some.
    streaming: std::sync::atomic::AtomicBool,
}

impl CaptureReader {
    /// Keeps `out` (and what `batcher` holds) for the next Arrow call.
    fn carry(&self, batcher: &mut RecordBatcher, mut out: ByType) {
        // Only an Arrow error could stop it, which the batches are built not to raise.
        let _ = batches::finish(batcher, &mut out);
        if out.rows() == 0 {
            return;
        }
        let mut slot = self.carried.lock().unwrap_or_else(|p| p.into_inner());
        match slot.as_mut() {
            // Earlier rows first: capture order.
            Some(earlier) => earlier.append(out),
            None => *slot = Some(out),
        }
    }

    /// Moves the rows an interrupted call left, of the types `out` keeps, into `out`.
    fn take_carried(&self, out: &mut ByType) {
        let mut slot = self.carried.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(carried) = slot.as_mut() {
            out.prepend(carried);
            if carried.rows() == 0 {
                *slot = None;
            }
        }
    }

    /// Moves the decoding on into `batcher` and `out` (posts decoded by iteration but not
    /// handed out first), logging problems; at the end, the last batches. Whether there is
    /// more.
    fn arrow_step(
        &self,
        py: Python<'_>,
        batcher: &mut RecordBatcher,
        out: &mut ByType,
    ) -> PyResult<bool> {
        let mut guard = self.lock()?;
        let state: &mut State = &mut guard;
        while let Some(found) = state.ready.pop_front() {
            match found {
                Found::Post(post) => {
                    let context = RecordContext {
                        channel: post.channel,
                        captured_at: Some(post.captured_at),
                        input: Some(&post.input),
                    };
                    for record in &post.records {
                        batches::push(batcher, out, &record.core(), &context)?;
                    }
                }
                Found::Unreadable(message) => {
                    let error_type =
                        CAPTURE_ERROR.import(py, "sunpower._errors", "CaptureError")?;
                    return Err(PyErr::from_value(error_type.call1((message,))?));
                }
                Found::Problem(message) => errors::log_warning(py, &message)?,
            }
        }
        let more = py.detach(|| state.pull_arrow(batcher, out))?;
        if let Some(e) = self.pending.lock().ok().and_then(|mut slot| slot.take()) {
            return Err(e);
        }
        py.check_signals()?;
        if more || !state.ready.is_empty() {
            return Ok(true);
        }
        if !state.summarised {
            state.summarised = true;
            for line in state.decoder.not_shown() {
                errors::log_warning(py, &line)?;
            }
        }
        py.detach(|| batches::finish(batcher, out))?;
        Ok(false)
    }

    /// The decoder's state, for one thread at a time (a panic elsewhere left it usable).
    fn lock(&self) -> PyResult<MutexGuard<'_, State>> {
        match self.state.try_lock() {
            Ok(guard) => Ok(guard),
            Err(TryLockError::WouldBlock) => Err(PyRuntimeError::new_err(
                "this capture is being read by another thread",
            )),
            Err(TryLockError::Poisoned(p)) => Ok(p.into_inner()),
        }
    }
}

#[pymethods]
impl CaptureReader {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Post>> {
        let mut guard = self.lock()?;
        let state: &mut State = &mut guard;
        loop {
            while let Some(found) = state.ready.pop_front() {
                match found {
                    Found::Post(post) => return make_post(py, *post).map(Some),
                    Found::Unreadable(message) => {
                        let error_type =
                            CAPTURE_ERROR.import(py, "sunpower._errors", "CaptureError")?;
                        return Err(PyErr::from_value(error_type.call1((message,))?));
                    }
                    Found::Problem(message) => errors::log_warning(py, &message)?,
                }
            }
            let more = py.detach(|| state.pull());
            if let Some(e) = self.pending.lock().ok().and_then(|mut slot| slot.take()) {
                return Err(e);
            }
            py.check_signals()?;
            if !more && state.ready.is_empty() {
                if !state.summarised {
                    state.summarised = true;
                    for line in state.decoder.not_shown() {
                        errors::log_warning(py, &line)?;
                    }
                }
                return Ok(None);
            }
        }
    }

    /// The rest of the capture as Arrow batches, `{record_type: RecordBatches}`, with the
    /// post's context (`captured_at`, `input`) after the record's columns. Decoded and built
    /// without the GIL and without a Python object per record; problems are logged as
    /// iterating logs them. With `record_types`, only the records of those types are built
    /// (the others are decoded and counted all the same). An interrupted call (Ctrl-C, an
    /// error) keeps the rows it had built for the next Arrow call: none is lost.
    #[pyo3(signature = (record_types = None))]
    fn to_arrow<'py>(
        &self,
        py: Python<'py>,
        record_types: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let only = match record_types {
            Some(types) => Some(batches::record_type_set(types)?),
            None => None,
        };
        let mut batcher = RecordBatcher::new();
        let mut out = ByType::only(only);
        self.take_carried(&mut out);
        loop {
            match self.arrow_step(py, &mut batcher, &mut out) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    // Ctrl-C (or an error): the rows built so far are the next call's.
                    self.carry(&mut batcher, out);
                    return Err(e);
                }
            }
        }
        out.into_dict(py)
    }

    /// The rest of the capture as the Parquet dataset `sunpower decode --format parquet`
    /// writes (`directory/record_type=N/part-NNNNN.parquet`, by the library's writer: bounded
    /// memory, each file synced and renamed into place, `_SUCCESS` last); the number of files.
    /// `directory` must be new or empty (or hold what an interrupted run left: replaced). On
    /// an error the incomplete dataset is removed and a warning says how many records it had
    /// taken from this reader. Decoded and written without the GIL.
    fn write_parquet(&self, py: Python<'_>, directory: PathBuf) -> PyResult<u64> {
        let os_error = |e: io::Error| PyOSError::new_err(e.to_string());
        let mut dataset = Dataset::create(&directory).map_err(os_error)?;
        let mut batcher = RecordBatcher::with_batch_rows(PARQUET_BATCH_ROWS);
        let mut out = ByType::default();
        self.take_carried(&mut out);
        let decoded = || self.lock().map(|s| s.decoder.report().records.records);
        let (carried, before) = (out.rows() as u64, decoded()?);
        let mut step = || -> PyResult<bool> {
            let more = self.arrow_step(py, &mut batcher, &mut out)?;
            let batches = out.drain();
            py.detach(|| batches.iter().try_for_each(|b| dataset.write(b)))
                .map_err(os_error)?;
            Ok(more)
        };
        let result = loop {
            match step() {
                Ok(true) => {}
                Ok(false) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        match result {
            Ok(()) => py.detach(|| dataset.close()).map_err(os_error),
            Err(e) => {
                // The dataset goes (it is incomplete), and with it rows the decoder is past: the
                // user is told how many, not left to find fewer rows in a second call.
                drop(dataset);
                let lost = carried + decoded().unwrap_or(before).saturating_sub(before);
                errors::log_warning(
                    py,
                    &format!(
                        "{}: write_parquet() stopped ({e}): the incomplete dataset was removed; \
                         {lost} records it had taken from this reader are not read again \
                         (read_capture() the capture anew to write it)",
                        directory.display()
                    ),
                )?;
                Err(e)
            }
        }
    }

    /// The rest of the capture's records of `record_type` as a lazy Arrow stream: decoded as
    /// the consumer reads it (`pyarrow.RecordBatchReader.from_stream(...)`, `pyarrow.table`,
    /// DuckDB, polars), so memory holds a batch, not the capture. Read once.
    ///
    /// One stream at a time: a second while one is unfinished, or one on a capture already read
    /// to its end, raises `RuntimeError` (it would get none or some of the records, silently).
    /// A stream dropped before its end leaves the rows it had built to the next Arrow call.
    fn arrow_stream(slf: Py<Self>, py: Python<'_>, record_type: u16) -> PyResult<ArrowStream> {
        let reader = slf.get();
        if reader.streaming.load(Ordering::SeqCst) {
            return Err(PyRuntimeError::new_err(
                "another arrow_stream() of this capture is unfinished: read it to its end or \
                 drop it first (two streams would share the records, each getting some)",
            ));
        }
        let mut out = ByType::only(Some([record_type].into()));
        reader.take_carried(&mut out);
        let ended = {
            let state = reader.lock()?;
            state.summarised && state.ready.is_empty()
        };
        if ended && out.rows() == 0 {
            return Err(PyRuntimeError::new_err(
                "this capture was read to its end already: call read_capture() again to read \
                 it anew",
            ));
        }
        reader.streaming.store(true, Ordering::SeqCst);
        let stream = LazyBatches {
            reader: slf.clone_ref(py),
            record_type,
            batcher: RecordBatcher::new(),
            out,
            ready: VecDeque::new(),
            done: false,
        };
        Ok(ArrowStream {
            stream: Mutex::new(Some(stream)),
        })
    }

    /// Every counter so far: the same keys and values as `sunpower stats` prints (nested
    /// `records_by_type` and `details` included).
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let guard = self.lock()?;
        let json = serde_json::to_string(&guard.decoder.report())
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        py.import("json")?.call_method1("loads", (json,))
    }
}

fn make_post(py: Python<'_>, mut post: DecodedPost) -> PyResult<Post> {
    let record_count = post.records.len();
    let records = std::mem::take(&mut post.records)
        .into_iter()
        .map(|r| Bound::new(py, r))
        .collect::<PyResult<Vec<_>>>()?;
    let records = PyTuple::new(py, records)?.unbind();
    Ok(Post {
        post,
        records,
        record_count,
    })
}

/// Reads capture files (pcap or pcapng, optionally gzip-compressed) or binary streams as one
/// capture (several = a rotated set) and iterates over its collector posts.
#[pyfunction]
#[pyo3(signature = (*sources))]
pub fn read_capture(py: Python<'_>, sources: &Bound<'_, PyTuple>) -> PyResult<CaptureReader> {
    if sources.is_empty() {
        return Err(PyTypeError::new_err(
            "read_capture() needs at least one source",
        ));
    }
    let pending = PendingError::default();
    let fspath = py.import("os")?.getattr("fspath")?;
    let mut inputs = Vec::with_capacity(sources.len());
    for source in sources.iter() {
        if source.is_instance_of::<PyString>() || source.hasattr("__fspath__")? {
            let path: std::path::PathBuf = fspath.call1((&source,))?.extract()?;
            inputs.push(Input::from_path(path));
        } else if source.hasattr("read")? {
            let name = match source.getattr("name") {
                Ok(name) if name.is_instance_of::<PyString>() => name.extract::<String>()?,
                _ => "<stream>".to_owned(),
            };
            let reader = PyReader::new(source.clone().unbind(), Arc::clone(&pending));
            inputs.push(Input::from_reader(name, reader));
        } else {
            return Err(PyTypeError::new_err(format!(
                "a capture source is a path or a binary file object, not {}",
                source.get_type().name()?
            )));
        }
    }
    Ok(CaptureReader {
        state: Mutex::new(State {
            decoder: RecordDecoder::new(inputs, DecoderConfig::default()),
            ready: VecDeque::new(),
            current: None,
            summarised: false,
        }),
        pending,
        carried: Mutex::new(None),
        streaming: std::sync::atomic::AtomicBool::new(false),
    })
}

/// The decoding behind an [`ArrowStream`]: steps the reader until a batch of its type is ready.
struct LazyBatches {
    reader: Py<CaptureReader>,
    record_type: u16,
    batcher: RecordBatcher,
    out: ByType,
    ready: VecDeque<arrow_array::RecordBatch>,
    done: bool,
}

impl Iterator for LazyBatches {
    type Item = Result<arrow_array::RecordBatch, arrow_schema::ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(batch) = self.ready.pop_front() {
                return Some(Ok(batch));
            }
            if self.done {
                return None;
            }
            // The consumer may call from any thread, with or without the GIL.
            let step = Python::attach(|py| {
                let more = self
                    .reader
                    .get()
                    .arrow_step(py, &mut self.batcher, &mut self.out);
                // A Python exception (a capture that cannot be read, an interrupt) goes to the
                // consumer as the stream's error, with its message.
                more.map_err(|e| e.to_string())
            });
            // `out` keeps only this type.
            self.ready
                .extend(self.out.drain().into_iter().map(|kind| kind.batch));
            match step {
                Ok(more) => self.done = !more,
                Err(message) => {
                    self.done = true;
                    return Some(Err(arrow_schema::ArrowError::ExternalError(message.into())));
                }
            }
        }
    }
}

impl Drop for LazyBatches {
    fn drop(&mut self) {
        let reader = self.reader.get();
        // Rows read ahead but not consumed (a consumer that stopped early, an error) are the
        // next Arrow call's: the decoder is past their records.
        let mut out = ByType::only(Some([self.record_type].into()));
        for batch in self.ready.drain(..) {
            out.add(KindBatch {
                record_type: self.record_type,
                batch,
            });
        }
        out.append(std::mem::take(&mut self.out));
        reader.carry(&mut self.batcher, out);
        reader.streaming.store(false, Ordering::SeqCst);
    }
}

/// `CaptureReader.arrow_stream(record_type)`: a capture's records of one type as a lazy Arrow
/// stream (`__arrow_c_stream__`), decoded as it is read. Read once.
#[pyclass(module = "sunpower", name = "ArrowStream", frozen)]
pub struct ArrowStream {
    stream: Mutex<Option<LazyBatches>>,
}

#[pymethods]
impl ArrowStream {
    /// The record type of every row.
    #[getter]
    fn record_type(&self) -> PyResult<Option<u16>> {
        let guard = self
            .stream
            .lock()
            .map_err(|_| PyRuntimeError::new_err("poisoned"))?;
        Ok(guard.as_ref().map(|s| s.record_type))
    }

    fn __arrow_c_schema__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<Bound<'py, pyo3::types::PyCapsule>> {
        let guard = self
            .stream
            .lock()
            .map_err(|_| PyRuntimeError::new_err("poisoned"))?;
        let Some(stream) = guard.as_ref() else {
            return Err(PyRuntimeError::new_err(
                "this Arrow stream was read already",
            ));
        };
        batches::schema_capsule(py, stream.record_type)
    }

    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, pyo3::types::PyCapsule>>,
    ) -> PyResult<Bound<'py, pyo3::types::PyCapsule>> {
        let taken = self
            .stream
            .lock()
            .map_err(|_| PyRuntimeError::new_err("poisoned"))?
            .take();
        let Some(stream) = taken else {
            return Err(PyRuntimeError::new_err(
                "this Arrow stream was read already",
            ));
        };
        let record_type = stream.record_type;
        batches::stream_capsule(py, record_type, stream, requested_schema)
    }

    fn __repr__(&self) -> String {
        match self.record_type() {
            Ok(Some(t)) => format!("<ArrowStream record_type={t}>"),
            _ => "<ArrowStream read>".to_owned(),
        }
    }
}
