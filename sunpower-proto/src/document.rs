//! What the JSON sources (DeviceList, varserver `/vars`, telemetry frames) share: one problem
//! type, where it happened and what it was, and one set of limits.

use std::fmt;

use crate::error::Expected;

/// A problem with a JSON document, or with one part of it, and where it is.
///
/// Every JSON source reports its problems in this one shape, as the collector's
/// [`LineError`](crate::LineError) does for lines: a position ([`DocumentPosition`]) and a
/// typed kind ([`DocumentProblemKind`]) shared by the sources. A problem with one device, path
/// or frame is kept beside what did decode ([`DeviceList::problems`], `Vars::problems`, the
/// `Err` of a `TelemetryDecoder` frame); one with the whole document is the `Err` of its parse
/// function, at [`DocumentPosition::Document`]. Messages never echo a secret: a varserver
/// document's Wi-Fi keys and MAC addresses are withheld before any problem is made.
///
/// ```
/// use sunpower_proto::{parse_device_list, DocumentPosition, DocumentProblemKind, Expected};
/// let json = r#"{"devices": [{"DEVICE_TYPE": "Inverter", "SERIAL": "E1",
///     "DATATIME": "2021,07,04,19,45,00", "ltea_3phsum_kwh": "12,5"}]}"#;
/// let list = parse_device_list(json).unwrap();
/// let problem = &list.problems[0];
/// assert_eq!(problem.at, DocumentPosition::Device { index: 0, serial: Some("E1".into()) });
/// assert_eq!(
///     problem.kind,
///     DocumentProblemKind::InvalidValue {
///         field: "ltea_3phsum_kwh",
///         expected: Expected::Decimal,
///         found: "12,5".into()
///     }
/// );
/// assert_eq!(problem.kind.name(), "invalid_value");
/// assert_eq!(
///     problem.to_string(),
///     r#"device 0 (E1): ltea_3phsum_kwh: expected a decimal number, found "12,5""#
/// );
/// ```
///
/// [`DeviceList::problems`]: crate::DeviceList::problems
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DocumentProblem {
    /// Where.
    pub at: DocumentPosition,
    /// What.
    pub kind: DocumentProblemKind,
}

impl fmt::Display for DocumentProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.at {
            DocumentPosition::Document => write!(f, "{}", self.kind),
            at => write!(f, "{at}: {}", self.kind),
        }
    }
}

impl std::error::Error for DocumentProblem {}

impl DocumentProblem {
    pub(crate) fn new(at: DocumentPosition, kind: DocumentProblemKind) -> Self {
        DocumentProblem { at, kind }
    }

    /// A problem with the whole document.
    pub(crate) fn document(kind: DocumentProblemKind) -> Self {
        DocumentProblem::new(DocumentPosition::Document, kind)
    }

    /// The problem of a document of `len` bytes over the limit `max`, for a front end that
    /// measures its input before it reads or copies it (the parse functions say the same).
    ///
    /// ```
    /// use sunpower_proto::{parse_vars_with, DocumentLimits, DocumentProblem};
    /// let mut limits = DocumentLimits::default();
    /// limits.max_bytes = 4;
    /// let refused = parse_vars_with("{ }  ", &limits).unwrap_err();
    /// assert_eq!(refused, DocumentProblem::too_large(5, 4));
    /// ```
    pub fn too_large(len: usize, max: usize) -> Self {
        DocumentProblem::document(DocumentProblemKind::TooLarge { len, max })
    }
}

/// Where a [`DocumentProblem`] is.
///
/// ```
/// use sunpower_proto::DocumentPosition;
/// let device = DocumentPosition::Device { index: 3, serial: Some("E1".into()) };
/// assert_eq!(device.to_string(), "device 3 (E1)");
/// assert_eq!(DocumentPosition::Path("/sys/devices/inverter/3".into()).to_string(), "/sys/devices/inverter/3");
/// assert_eq!(DocumentPosition::Frame(7).to_string(), "frame 7");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DocumentPosition {
    /// The document (or the frame given alone) as a whole; the kind says where in its text,
    /// when that is known (a JSON syntax error's line and column).
    Document,
    /// A device of a DeviceList: its position in the `devices` array, from 0, and its `SERIAL`
    /// when it has one (at most 256 bytes of it).
    Device {
        /// Position in the `devices` array, from 0.
        index: usize,
        /// The device's `SERIAL` as given, if any.
        serial: Option<String>,
    },
    /// A path of a `/vars` document: a device's (`/sys/devices/inverter/3`,
    /// `/sys/devices/21/inverter/data`), an entry's (`/sys/livedata/pv_p`), `count`, or
    /// `values[<n>]` for an entry of the array form (at most 256 bytes).
    Path(String),
    /// A frame of a telemetry stream, from 1 (blank lines count).
    Frame(u64),
}

impl fmt::Display for DocumentPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DocumentPosition::Document => f.write_str("document"),
            DocumentPosition::Device {
                index,
                serial: Some(serial),
            } => write!(f, "device {index} ({serial})"),
            DocumentPosition::Device {
                index,
                serial: None,
            } => write!(f, "device {index}"),
            DocumentPosition::Path(path) => f.write_str(path),
            DocumentPosition::Frame(frame) => write!(f, "frame {frame}"),
        }
    }
}

/// What was wrong, the same for every JSON source. Values found are kept to at most 48 bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DocumentProblemKind {
    /// The document or frame is longer than its limit
    /// ([`DocumentLimits::max_bytes`], [`DocumentLimits::max_frame_bytes`]).
    #[error("{len} bytes, over the limit of {max} bytes")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not valid JSON (or not UTF-8).
    #[error("invalid JSON at line {line} column {column}: {message}")]
    InvalidJson {
        /// Line of the error, from 1.
        line: usize,
        /// Column of the error, from 1.
        column: usize,
        /// The JSON parser's message.
        message: String,
    },
    /// A key the decoder uses given twice where which copy is meant cannot be known (a
    /// DeviceList's `devices`, or a key within one device): the document is refused.
    #[error("duplicate key {key:?} at line {line} column {column}: refused rather than guessing which copy is meant")]
    DuplicateKey {
        /// The key.
        key: String,
        /// Line of the second occurrence, from 1.
        line: usize,
        /// Column of the end of that key, from 1.
        column: usize,
    },
    /// Not a JSON object where one is expected (the document, a device, a nested device path).
    #[error("not a JSON object")]
    NotAnObject,
    /// The supervisor answered with a `result` other than `succeed`: the request failed.
    #[error("the supervisor reported \"result\": {result:?}: the request failed")]
    Failed {
        /// The `result` found (at most 256 bytes of it).
        result: String,
    },
    /// A member the document needs is missing or of the wrong form (a DeviceList's `devices`
    /// array, the supervisor-info `supervisor` object, a telemetry frame's `notification` or
    /// `params`, the `name` of an array-form entry).
    #[error("{key:?} is missing or of the wrong form")]
    MissingKey {
        /// The key.
        key: &'static str,
    },
    /// A device without its serial (`SERIAL`, `sn`): it gives no record.
    #[error("no {field}: a record needs the device's serial")]
    MissingSerial {
        /// The source's name of the serial.
        field: &'static str,
    },
    /// A device without the time of its reading (`DATATIME`, `msmtEps`): it gives no record.
    #[error("no {field}: a record needs the time of the reading")]
    MissingTime {
        /// The source's name of the time.
        field: &'static str,
    },
    /// A value of the wrong form. A serial or time that cannot be read costs the device's
    /// records; any other value costs its field only (the record is made without it).
    #[error("{field}: expected {expected}, found {found:?}")]
    InvalidValue {
        /// The source's name of the value (`ltea_3phsum_kwh`, `ltea3phsumKwh`, `pv_en`).
        field: &'static str,
        /// What it should hold.
        expected: Expected,
        /// The value found.
        found: String,
    },
    /// A `/vars` device field given twice: the first value is kept.
    #[error("{field} given again: the first value is kept")]
    RepeatedField {
        /// The varserver field name.
        field: &'static str,
    },
    /// More devices than [`DocumentLimits::max_devices`]: a DeviceList is refused, the `/vars`
    /// devices past the limit are not decoded (counted in `Vars::dropped`).
    #[error("more than {max} devices, over the limit")]
    TooManyDevices {
        /// The limit.
        max: usize,
    },
    /// A device of more values than are read: a DeviceList device of more than
    /// [`DocumentLimits::max_values_per_device`] JSON values is refused with its document; a
    /// nested `/vars` device object's fields past the first 256 are not read (counted in
    /// `Vars::dropped`).
    #[error("more than {max} values, over the limit")]
    TooManyValues {
        /// The limit.
        max: usize,
    },
    /// The `/vars` array form's `count` differs from the number of values it holds.
    #[error("\"count\" says {declared} values, the document holds {found}")]
    CountMismatch {
        /// The declared count.
        declared: String,
        /// The values found.
        found: usize,
    },
    /// A DeviceList device whose `STATE` is not `working` (micro-inverters report `error` at
    /// night and when shaded). With `decoded` the values present (the last reading, at its own
    /// `DATATIME`) became records anyway; without, the device had no `DATATIME` and gave none.
    #[error(
        "STATE is {state:?}, not \"working\"; {}",
        if *.decoded { "its values were decoded anyway" } else { "no data to decode" }
    )]
    NotWorking {
        /// The `STATE` found (at most 256 bytes of it).
        state: String,
        /// Whether the device's records were still made.
        decoded: bool,
    },
    /// A DeviceList device not `working` and without `DATATIME` that still carried readings:
    /// decoded with `CURTIME` (the supervisor's clock when it answered) as the reading's time.
    #[error("no DATATIME: CURTIME used as the time of the readings")]
    TimeFromCurTime,
    /// A power meter whose serial has no `p`/`c` suffix and whose `TYPE`, `MODEL` and
    /// `subtype` do not say production or consumption; its 140 has meter kind unknown.
    #[error("meter kind unknown: no p/c serial suffix and no production/consumption in TYPE, MODEL or subtype")]
    UnknownMeterKind,
}

impl DocumentProblemKind {
    /// The kind's name, the variant's in snake case (`"invalid_value"`): what Python's
    /// `DocumentProblem.kind` says, as [`ErrorKind::name`](crate::ErrorKind::name) does for
    /// lines.
    ///
    /// ```
    /// use sunpower_proto::parse_vars;
    /// let vars = parse_vars(r#"{"/sys/devices/inverter/0/msmtEps": "2025-09-30T15:50:00Z"}"#).unwrap();
    /// assert_eq!(vars.problems[0].kind.name(), "missing_serial");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            DocumentProblemKind::TooLarge { .. } => "too_large",
            DocumentProblemKind::InvalidJson { .. } => "invalid_json",
            DocumentProblemKind::DuplicateKey { .. } => "duplicate_key",
            DocumentProblemKind::NotAnObject => "not_an_object",
            DocumentProblemKind::Failed { .. } => "failed",
            DocumentProblemKind::MissingKey { .. } => "missing_key",
            DocumentProblemKind::MissingSerial { .. } => "missing_serial",
            DocumentProblemKind::MissingTime { .. } => "missing_time",
            DocumentProblemKind::InvalidValue { .. } => "invalid_value",
            DocumentProblemKind::RepeatedField { .. } => "repeated_field",
            DocumentProblemKind::TooManyDevices { .. } => "too_many_devices",
            DocumentProblemKind::TooManyValues { .. } => "too_many_values",
            DocumentProblemKind::CountMismatch { .. } => "count_mismatch",
            DocumentProblemKind::NotWorking { .. } => "not_working",
            DocumentProblemKind::TimeFromCurTime => "time_from_cur_time",
            DocumentProblemKind::UnknownMeterKind => "unknown_meter_kind",
        }
    }

    /// The JSON error of `serde_json`, with its position.
    pub(crate) fn invalid_json(e: &serde_json::Error) -> Self {
        let (line, column, message) = crate::jsonvalue::position(e);
        DocumentProblemKind::InvalidJson {
            line,
            column,
            message,
        }
    }
}

/// The limits of the JSON sources, which bound what a hostile or broken document can cost.
/// One set serves every source; the defaults are what [`parse_device_list`],
/// `parse_vars`, `parse_supervisor_info` and `TelemetryDecoder::new` use, and
/// [`parse_device_list_with`], `parse_vars_with` and `TelemetryDecoder::with_limits` take
/// others.
///
/// ```
/// use sunpower_proto::{parse_device_list_with, DocumentLimits, DocumentProblemKind};
/// let limits = DocumentLimits::default();
/// assert_eq!((limits.max_bytes, limits.max_devices), (32 << 20, 10_000));
/// // A front end reading a stream can stop one byte past `max_bytes`.
/// let mut small = DocumentLimits::default();
/// small.max_devices = 1;
/// let err = parse_device_list_with(r#"{"devices": [{}, {}]}"#, &small).unwrap_err();
/// assert_eq!(err.kind, DocumentProblemKind::TooManyDevices { max: 1 });
/// ```
///
/// [`parse_device_list`]: crate::parse_device_list
/// [`parse_device_list_with`]: crate::parse_device_list_with
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct DocumentLimits {
    /// Documents (DeviceList, `/vars`, supervisor info) larger than this many bytes are refused
    /// before parsing. Default 32 MiB: real documents are kilobytes (a PVS6's whole varserver
    /// dump 11 KB, a 44-inverter `/vars` poll about 50 KB) and 10,000 devices of a `/vars`
    /// answer fit in about 15 MiB, while a Python caller holds its own copy of the input beside
    /// ours, so a document at the cap stays within 72 MiB of memory there too.
    pub max_bytes: usize,
    /// Telemetry frames longer than this many bytes are refused (a `power` frame is about 300
    /// bytes); `TelemetryDecoder::feed` keeps at most this much of a line. Default 64 KiB.
    pub max_frame_bytes: usize,
    /// Devices decoded from one document: a DeviceList listing more is refused (decoding stops
    /// at the first one past the limit); `/vars` devices past it are counted in
    /// `Vars::dropped`. Default 10,000.
    pub max_devices: usize,
    /// JSON values of one DeviceList device object (every key, scalar, array and object counts
    /// one): a larger device is refused with its document. The document is decoded one device
    /// at a time, so this bounds what a device costs, whatever the document's size. Default
    /// 4,096.
    pub max_values_per_device: usize,
    /// Bytes of a DeviceList device of unknown type kept in `UnknownDevice::json`. Default
    /// 16 KiB.
    pub max_unknown_device_bytes: usize,
    /// Undecoded `/vars` paths kept raw in `Vars::other` (and supervisor values in
    /// `SupervisorInfo::other`); the rest are counted. Default 1,000.
    pub max_other_kept: usize,
    /// Problems kept in `Vars::problems`; the rest are counted in `Vars::dropped`. Default
    /// 1,000.
    pub max_problems_kept: usize,
    /// Bytes of an undecoded value kept in a `RawVar::value`, and the longest `/vars` string or
    /// number read at all: a longer one is not copied (a field holding one is a problem, an
    /// undecoded one is kept cut, `truncated`). Default 1 KiB.
    pub max_raw_value_bytes: usize,
}

impl Default for DocumentLimits {
    fn default() -> Self {
        DocumentLimits {
            max_bytes: 32 * 1024 * 1024,
            max_frame_bytes: 64 * 1024,
            max_devices: 10_000,
            max_values_per_device: 4_096,
            max_unknown_device_bytes: 16 * 1024,
            max_other_kept: 1_000,
            max_problems_kept: 1_000,
            max_raw_value_bytes: 1_024,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_limits_are_the_former_constants() {
        // MAX_DOCUMENT_BYTES (halved to 32 MiB for the Python memory budget), MAX_VARS_BYTES,
        // MAX_FRAME_BYTES, MAX_DEVICES, MAX_VARS_DEVICES, MAX_DEVICE_VALUES,
        // UNKNOWN_DEVICE_JSON_MAX, MAX_OTHER_KEPT, MAX_PROBLEMS_KEPT, RAW_VALUE_MAX, as they were.
        let l = DocumentLimits::default();
        assert_eq!(l.max_bytes, 33_554_432);
        assert_eq!(l.max_frame_bytes, 65_536);
        assert_eq!(l.max_devices, 10_000);
        assert_eq!(l.max_values_per_device, 4_096);
        assert_eq!(l.max_unknown_device_bytes, 16_384);
        assert_eq!(l.max_other_kept, 1_000);
        assert_eq!(l.max_problems_kept, 1_000);
        assert_eq!(l.max_raw_value_bytes, 1_024);
    }

    #[test]
    fn a_problem_reads_position_then_message() {
        let kind = DocumentProblemKind::MissingSerial { field: "sn" };
        let at = DocumentPosition::Path("/sys/devices/inverter/3".into());
        assert_eq!(
            DocumentProblem::new(at, kind.clone()).to_string(),
            "/sys/devices/inverter/3: no sn: a record needs the device's serial"
        );
        // A whole document's problem is its message alone.
        assert_eq!(
            DocumentProblem::document(kind).to_string(),
            "no sn: a record needs the device's serial"
        );
    }
}
