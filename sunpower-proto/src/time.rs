//! Timestamp formatting without allocation.

use std::fmt;

use chrono::{DateTime, Datelike, Timelike, Utc};

/// Formats a UTC timestamp as RFC 3339 with a `Z`, to the second: `2017-01-07T17:10:00Z`.
///
/// ```
/// use sunpower_proto::{parse_timestamp, Rfc3339};
/// let t = parse_timestamp("20170107171000").unwrap();
/// assert_eq!(Rfc3339(t).to_string(), "2017-01-07T17:10:00Z");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rfc3339(pub DateTime<Utc>);

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.0;
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }
}
