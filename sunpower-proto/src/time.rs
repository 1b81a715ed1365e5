//! Timestamp formatting without allocation.

use std::cell::Cell;
use std::fmt;

use chrono::{DateTime, Utc};

/// Formats a UTC timestamp as RFC 3339 with a `Z`, to the second: `2017-01-07T17:10:00Z`.
///
/// RFC 3339 has four-digit years only, so the output is always one: a time after the year 9999
/// prints as `9999-12-31T23:59:59Z` and one before the year 0 as `0000-01-01T00:00:00Z` (the
/// nearest instant it can write). Decoders refuse such times where they arise (the capture
/// reader drops a packet dated outside those years, with an error), so this is a last guard,
/// not a way of reporting them.
///
/// The text is written where it is displayed (`write!`, `to_string`), without allocating.
///
/// ```
/// use sunpower_proto::{parse_timestamp, rfc3339};
/// let t = parse_timestamp("20170107171000").unwrap();
/// assert_eq!(rfc3339(t).to_string(), "2017-01-07T17:10:00Z");
///
/// let year_10000 = chrono::DateTime::from_timestamp(253_402_300_800, 0).unwrap();
/// assert_eq!(rfc3339(year_10000).to_string(), "9999-12-31T23:59:59Z");
/// ```
pub fn rfc3339(t: DateTime<Utc>) -> impl fmt::Display + Copy {
    Rfc3339(t)
}

/// [`rfc3339`]'s text: displayed, serialized (as a string) or taken as bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rfc3339(pub(crate) DateTime<Utc>);

impl Rfc3339 {
    /// The 20 bytes of the text, for writers that append bytes (the JSON Lines writer): the
    /// last time this thread formatted is kept, as the records of one interval share their
    /// time (a post's twenty 130 lines and its 140s and 141), and a comparison costs less than
    /// the calendar arithmetic.
    pub(crate) fn bytes(&self) -> [u8; 20] {
        thread_local! {
            static LAST: Cell<(i64, [u8; 20])> = const { Cell::new((i64::MIN, [0; 20])) };
        }
        let secs = self.0.timestamp();
        LAST.with(|last| {
            let (at, text) = last.get();
            if at == secs {
                return text;
            }
            let text = Self::format(secs);
            last.set((secs, text));
            text
        })
    }

    /// [`Rfc3339::bytes`] worked out from the seconds since 1970.
    fn format(secs: i64) -> [u8; 20] {
        // From the seconds since 1970, without chrono's field getters (the writer's hot path):
        // days to a civil date by Hinnant's `civil_from_days`; times outside the years 0 to 9999
        // clamp to their ends.
        const FIRST: i64 = -62_167_219_200; // 0000-01-01T00:00:00Z
        const LAST: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
        let secs = secs.clamp(FIRST, LAST);
        let (days, of_day) = (secs.div_euclid(86_400), secs.rem_euclid(86_400) as u32);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097) as u32;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = (i64::from(yoe) + era * 400 + i64::from(month <= 2)) as u32;
        let mut out = *b"0000-00-00T00:00:00Z";
        let pairs = [
            (0, year / 100),
            (2, year % 100),
            (5, month),
            (8, day),
            (11, of_day / 3600),
            (14, of_day / 60 % 60),
            (17, of_day % 60),
        ];
        for (at, value) in pairs {
            out[at] = b'0' + (value / 10) as u8;
            out[at + 1] = b'0' + (value % 10) as u8;
        }
        out
    }
}

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = self.bytes();
        f.write_str(std::str::from_utf8(&bytes).map_err(|_| fmt::Error)?)
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

    #[test]
    fn a_repeated_time_prints_as_the_first_and_the_next_as_itself() {
        // The kept last time: the same, another, back again, within one second, far apart.
        let secs = [
            1_483_809_000,
            1_483_809_000,
            1_483_809_300,
            1_483_809_000,
            1_483_809_001,
            0,
            -1,
        ];
        for secs in secs {
            let t = DateTime::from_timestamp(secs, 0).unwrap();
            assert_eq!(
                Rfc3339(t).to_string(),
                t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
            );
        }
        // Clamped times are kept as their own seconds, not as the clamped ones.
        assert_eq!(at(253_402_300_800), "9999-12-31T23:59:59Z");
        assert_eq!(at(253_402_300_799), "9999-12-31T23:59:59Z");
        assert_eq!(at(253_402_300_798), "9999-12-31T23:59:58Z");
    }

    proptest::proptest! {
        #[test]
        fn within_0000_to_9999_the_text_is_chronos(secs in -62_167_219_200i64..253_402_300_800) {
            let t = DateTime::from_timestamp(secs, 0).unwrap();
            proptest::prop_assert_eq!(Rfc3339(t).to_string(), t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        }
    }
}
