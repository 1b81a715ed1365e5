//! `read_capture`: capture files or binary streams to a lazy iterator of `Post`s.
//!
//! Each `__next__` runs the capture decoder with the GIL released until it yields at least one
//! post (or the capture ends), so a capture of any size streams in constant memory. Python file
//! objects are read through [`PyReader`], which takes the GIL only around each `read` call.

use std::collections::VecDeque;
use std::io::{self, Read};
use std::sync::{Arc, Mutex, TryLockError};

use chrono::{DateTime, Utc};
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyString, PyTuple, PyType};
use sunpower_pcap::capture::Input;
use sunpower_pcap::decoder::{CaptureDecoder, DecoderConfig, Event, ProblemKind};
use sunpower_pcap::flow::Endpoint;
use sunpower_proto::{Body, Channel, LineError};

use crate::errors;
use crate::record::Record;

static CAPTURE_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// A Python exception raised inside a file object's `read`, kept to be raised again from
/// `__next__` (a `KeyboardInterrupt` while reading a pipe must not become a read error).
type PendingError = Arc<Mutex<Option<PyErr>>>;

/// A binary Python file object (`sys.stdin.buffer`, `open(..., "rb")`, `io.BytesIO`) as `Read`.
struct PyReader {
    file: Py<PyAny>,
    pending: PendingError,
}

impl Read for PyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Python::attach(|py| {
            let result = self
                .file
                .bind(py)
                .call_method1("read", (buf.len(),))
                .and_then(|data| {
                    if data.is_none() {
                        // A non-blocking stream with nothing ready: read it again.
                        return Ok(None);
                    }
                    let bytes = data.cast_into::<PyBytes>().map_err(|_| {
                        PyTypeError::new_err("read() of a capture source must return bytes")
                    })?;
                    let bytes = bytes.as_bytes();
                    let n = bytes.len().min(buf.len());
                    buf[..n].copy_from_slice(&bytes[..n]);
                    Ok(Some(n))
                });
            match result {
                Ok(Some(n)) => Ok(n),
                Ok(None) => Err(io::Error::from(io::ErrorKind::Interrupted)),
                Err(e) => {
                    let message = e.to_string();
                    if let Ok(mut slot) = self.pending.lock() {
                        slot.get_or_insert(e);
                    }
                    Err(io::Error::other(message))
                }
            }
        })
    }
}

/// A post as the decoder gave it, owned, with its body decoded (done without the GIL).
struct DecodedPost {
    channel: Option<Channel>,
    captured_at: DateTime<Utc>,
    input: String,
    packet: u64,
    target: String,
    client: Endpoint,
    server: Endpoint,
    body: Vec<u8>,
    missing: Option<Option<u64>>,
    records: Vec<Record>,
    errors: Vec<LineError>,
}

impl DecodedPost {
    fn new(post: &sunpower_pcap::decoder::Post<'_>) -> Self {
        let mut records = Vec::new();
        let mut errors = Vec::new();
        for item in Body::new(post.decodable_body()).records() {
            match item {
                Ok(record) => records.push(Record::new(&record, post.channel)),
                Err(e) => errors.push(e),
            }
        }
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
            records,
            errors,
        }
    }
}

/// What one run of the decoder produced.
enum Found {
    Post(Box<DecodedPost>),
    /// A problem: its message, and whether it is an input that could not be read at all.
    Problem(String, bool),
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

    /// One `DecodeError` per line of the body that could not be decoded.
    #[getter]
    fn errors<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let each = self
            .post
            .errors
            .iter()
            .map(|e| errors::decode_error(py, e))
            .collect::<PyResult<Vec<_>>>()?;
        PyTuple::new(py, each)
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
        self.post.missing.is_none()
    }

    /// Body bytes missing when the body was cut and its length declared; else `None`.
    #[getter]
    fn missing_bytes(&self) -> Option<u64> {
        self.post.missing.flatten()
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
            sunpower_proto::Rfc3339(self.post.captured_at),
            if self.post.missing.is_none() {
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
    decoder: CaptureDecoder,
    ready: VecDeque<Found>,
    records: u64,
    line_errors: u64,
}

impl State {
    /// Decodes until something is found or the capture ends; returns false at the end.
    fn pull(&mut self) -> bool {
        let State { decoder, ready, .. } = self;
        loop {
            let more = decoder.step(|event| match event {
                Event::Post(post) => {
                    ready.push_back(Found::Post(Box::new(DecodedPost::new(&post))))
                }
                Event::Problem(problem) => {
                    let unreadable =
                        matches!(&problem.kind, ProblemKind::Capture(e) if e.input_unreadable());
                    ready.push_back(Found::Problem(problem.to_string(), unreadable));
                }
            });
            if !more || !ready.is_empty() {
                return more;
            }
        }
    }
}

/// The lazy iterator `read_capture` returns.
#[pyclass(module = "sunpower", name = "CaptureReader", frozen)]
pub struct CaptureReader {
    state: Mutex<State>,
    pending: PendingError,
}

#[pymethods]
impl CaptureReader {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Post>> {
        let mut guard = match self.state.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::WouldBlock) => {
                return Err(PyRuntimeError::new_err(
                    "this capture is being read by another thread",
                ))
            }
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
        };
        let state: &mut State = &mut guard;
        loop {
            while let Some(found) = state.ready.pop_front() {
                match found {
                    Found::Post(post) => {
                        state.records += post.records.len() as u64;
                        state.line_errors += post.errors.len() as u64;
                        return make_post(py, *post).map(Some);
                    }
                    Found::Problem(message, true) => {
                        let error_type =
                            CAPTURE_ERROR.import(py, "sunpower._errors", "CaptureError")?;
                        return Err(PyErr::from_value(error_type.call1((message,))?));
                    }
                    Found::Problem(message, false) => errors::log_warning(py, &message)?,
                }
            }
            let more = py.detach(|| state.pull());
            if let Some(e) = self.pending.lock().ok().and_then(|mut slot| slot.take()) {
                return Err(e);
            }
            if !more && state.ready.is_empty() {
                return Ok(None);
            }
        }
    }

    /// Counters so far, with the keys of `sunpower stats`.
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let guard = self
            .state
            .try_lock()
            .map_err(|_| PyRuntimeError::new_err("this capture is being read by another thread"))?;
        let s = guard.decoder.stats();
        let dict = PyDict::new(py);
        for (key, value) in [
            ("packets", s.packets),
            ("connections", s.connections),
            ("posts", s.posts),
            ("records", guard.records),
            ("gaps", s.gaps),
            ("bytes_missing", s.bytes_missing),
            ("damaged_posts", s.damaged_posts),
            ("line_errors", guard.line_errors),
            ("capture_errors", s.capture_errors),
            ("http_errors", s.http_errors),
        ] {
            dict.set_item(key, value)?;
        }
        Ok(dict)
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
            let reader = PyReader {
                file: source.clone().unbind(),
                pending: Arc::clone(&pending),
            };
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
            decoder: CaptureDecoder::new(inputs, DecoderConfig::default()),
            ready: VecDeque::new(),
            records: 0,
            line_errors: 0,
        }),
        pending,
    })
}
