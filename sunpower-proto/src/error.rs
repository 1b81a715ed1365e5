//! Errors of record decoding, each with the position of what went wrong.

use std::fmt;

/// What a field was expected to hold, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expected {
    /// A `YYYYMMDDhhmmss` UTC timestamp with a real date and time of day.
    Timestamp,
    /// A plain decimal number such as `-5.5` or `245.1503`.
    Decimal,
    /// A whole number, possibly negative.
    Integer,
    /// A whole number that is zero or more.
    UnsignedInteger,
    /// A non-empty value.
    NonEmpty,
    /// The record type: one to five decimal digits.
    RecordType,
    /// Text that can be a field of a line: no TAB or line break (a serial, a model).
    Text,
    /// A DeviceList `DATATIME`: `YYYY,MM,DD,hh,mm,ss`, UTC.
    DataTime,
    /// An RFC 3339 time (a varserver `msmtEps`).
    Rfc3339,
    /// Seconds or milliseconds since 1970 (a site-totals `time`).
    EpochTime,
    /// A fraction from 0 to 1 (a battery's state of charge or health).
    Fraction,
    /// A hex count of tenths from `0x00` to `0x0B` (`/sys/pvs/flashwear_type_b`).
    FlashWear,
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Expected::Timestamp => "a YYYYMMDDhhmmss UTC timestamp",
            Expected::Decimal => "a decimal number",
            Expected::Integer => "an integer",
            Expected::UnsignedInteger => "an unsigned integer",
            Expected::NonEmpty => "a non-empty value",
            Expected::RecordType => "a numeric record type",
            Expected::Text => "text without TAB or line breaks",
            Expected::DataTime => "\"YYYY,MM,DD,hh,mm,ss\" (UTC)",
            Expected::Rfc3339 => "an RFC 3339 time such as 2025-09-30T15:50:00Z",
            Expected::EpochTime => "seconds or milliseconds since 1970",
            Expected::Fraction => "a fraction from 0 to 1",
            Expected::FlashWear => "a hex count of tenths from 0x00 to 0x0B",
        })
    }
}

/// How many bytes of a bad value an error keeps, so an error never holds an unbounded copy.
pub(crate) const FOUND_MAX: usize = 48;

pub(crate) fn excerpt(value: &str) -> String {
    if value.len() <= FOUND_MAX {
        return value.to_owned();
    }
    let mut end = FOUND_MAX;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &value[..end])
}

/// Why one line could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The line is not valid UTF-8; `valid_up_to` bytes of it are.
    #[error("invalid UTF-8 after byte {valid_up_to} of the line")]
    InvalidUtf8 {
        /// Length of the valid UTF-8 prefix of the line.
        valid_up_to: usize,
    },
    /// A field holds a value of the wrong form.
    #[error("field {index} ({name}): expected {expected}, found {found:?}")]
    InvalidField {
        /// Position of the field, counting the record type as field 0.
        index: usize,
        /// The field's name, as in the JSON output.
        name: &'static str,
        /// What the field should hold.
        expected: Expected,
        /// The value found (at most 48 bytes of it).
        found: String,
    },
    /// A field that the record cannot do without is missing or empty.
    #[error("field {index} ({name}) is missing: expected {expected}")]
    MissingField {
        /// Position of the field, counting the record type as field 0.
        index: usize,
        /// The field's name, as in the JSON output.
        name: &'static str,
        /// What the field should hold.
        expected: Expected,
    },
    /// The line is longer than the limit ([`crate::MAX_LINE_BYTES`]): it is not decoded, and,
    /// when a body is read as a stream, not kept in memory either.
    #[error("line longer than the limit of {limit} bytes")]
    LineTooLong {
        /// The limit, in bytes.
        limit: usize,
    },
}

impl ErrorKind {
    /// The kind's name, the variant's in snake case (`"invalid_field"`): what Python's
    /// `DecodeError.kind` says, as `DocumentProblemKind::name` does for the JSON sources.
    ///
    /// ```
    /// use sunpower_proto::Record;
    /// assert_eq!(Record::parse("130\tbad").unwrap_err().name(), "invalid_field");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            ErrorKind::InvalidUtf8 { .. } => "invalid_utf8",
            ErrorKind::InvalidField { .. } => "invalid_field",
            ErrorKind::MissingField { .. } => "missing_field",
            ErrorKind::LineTooLong { .. } => "line_too_long",
        }
    }

    /// The field the error is about, if it is about one field.
    ///
    /// ```
    /// use sunpower_proto::Record;
    /// assert_eq!(Record::parse("130\tbad").unwrap_err().field_index(), Some(1));
    /// ```
    pub fn field_index(&self) -> Option<usize> {
        match self {
            ErrorKind::InvalidField { index, .. } | ErrorKind::MissingField { index, .. } => {
                Some(*index)
            }
            ErrorKind::InvalidUtf8 { .. } | ErrorKind::LineTooLong { .. } => None,
        }
    }
}

/// A line of a body that could not be decoded, or a value of it that could not be read, with
/// its position.
///
/// Decoding of the rest of the body goes on after such an error. A value that cannot be read
/// costs its field, not its record: the record comes first, that field `None`, then this error.
///
/// ```
/// use sunpower_proto::{Body, Record};
/// let body = b"102\tok\n130\t20170107171000\tX\tM\t\tnot-a-number\t0.5\n";
/// let items: Vec<_> = Body::new(body).records().collect();
/// let Ok(Record::Inverter(inverter)) = &items[1] else { panic!("{items:?}") };
/// assert_eq!((inverter.lifetime_energy_kwh, inverter.ac_power_kw), (None, Some(0.5)));
/// let err = items[2].as_ref().unwrap_err();
/// assert_eq!(err.line, 2);
/// assert_eq!(err.kind.field_index(), Some(5));
/// assert!(err.to_string().starts_with("line 2: field 5 (lifetime_energy_kwh): expected a decimal"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {kind}")]
pub struct LineError {
    /// Line number in the body, from 1.
    pub line: usize,
    /// Byte offset of the line's start in the body.
    pub offset: usize,
    /// What was wrong.
    pub kind: ErrorKind,
}
