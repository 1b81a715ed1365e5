//! Timestamp formatting without allocation.

use std::fmt;

use chrono::{DateTime, Datelike, Timelike, Utc};

/// Formats a UTC timestamp as RFC 3339 with a `Z`, to the second: `2017-01-07T17:10:00Z`.
///
/// RFC 3339 has four-digit years only, so the output is always one: a time after the year 9999
/// prints as `9999-12-31T23:59:59Z` and one before the year 0 as `0000-01-01T00:00:00Z` (the
/// nearest instant it can write). Decoders refuse such times where they arise (the capture
/// reader drops a packet dated outside those years, with an error), so this is a last guard,
/// not a way of reporting them.
///
/// ```
/// use sunpower_proto::{parse_timestamp, Rfc3339};
/// let t = parse_timestamp("20170107171000").unwrap();
/// assert_eq!(Rfc3339(t).to_string(), "2017-01-07T17:10:00Z");
///
/// let year_10000 = chrono::DateTime::from_timestamp(253_402_300_800, 0).unwrap();
/// assert_eq!(Rfc3339(year_10000).to_string(), "9999-12-31T23:59:59Z");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rfc3339(pub DateTime<Utc>);

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.0;
        let (year, month, day, hour, minute, second) = match t.year() {
            ..0 => (0, 1, 1, 0, 0, 0),
            10_000.. => (9999, 12, 31, 23, 59, 59),
            year => (year, t.month(), t.day(), t.hour(), t.minute(), t.second()),
        };
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> String {
        Rfc3339(DateTime::from_timestamp(secs, 999_999_999).unwrap()).to_string()
    }

    #[test]
    fn years_outside_0000_to_9999_print_as_the_nearest_rfc3339_instant() {
        // 9999-12-31T23:59:59 and the second after it (year 10000), then far beyond.
        assert_eq!(at(253_402_300_799), "9999-12-31T23:59:59Z");
        assert_eq!(at(253_402_300_800), "9999-12-31T23:59:59Z");
        assert_eq!(at(8_210_266_876_799), "9999-12-31T23:59:59Z");
        // 0000-01-01T00:00:00 and the second before it (year -1).
        assert_eq!(at(-62_167_219_200), "0000-01-01T00:00:00Z");
        assert_eq!(at(-62_167_219_201), "0000-01-01T00:00:00Z");
        assert_eq!(at(-8_334_601_228_800), "0000-01-01T00:00:00Z");
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
    }
}
