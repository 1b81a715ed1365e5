//! Capture timestamps: pcapng resolutions split into seconds and nanoseconds, and the instant
//! they name, limited to the years RFC 3339 can write.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc};

/// Earliest capture time accepted: 0000-01-01T00:00:00Z, in seconds since the Unix epoch.
/// RFC 3339 writes four-digit years only, so earlier (and later) times are refused at decoding
/// rather than written in a form no RFC 3339 reader accepts.
pub(crate) const MIN_TIMESTAMP_SECS: i64 = -62_167_219_200;
/// Latest capture time accepted (exclusive): 10000-01-01T00:00:00Z, in seconds since the epoch.
pub(crate) const END_TIMESTAMP_SECS: i64 = 253_402_300_800;

/// Splits a pcapng timestamp into whole seconds and nanoseconds, for any `if_tsresol`.
///
/// `tsresol`: high bit clear = 10^-n seconds per unit, high bit set = 2^-n. Never overflows:
/// resolutions finer than a nanosecond round down, and huge exponents give zero seconds.
pub(crate) fn split_timestamp(ts: u64, tsresol: u8) -> (u64, u32) {
    let n = u32::from(tsresol & 0x7f);
    if tsresol & 0x80 != 0 {
        let secs = if n >= 64 { 0 } else { ts >> n };
        let frac = if n >= 64 {
            u128::from(ts)
        } else {
            u128::from(ts & ((1u64 << n) - 1))
        };
        // frac < 2^64, times 1e9 < 2^94: fits; n <= 127 is a valid u128 shift.
        let nanos = (frac * 1_000_000_000) >> n;
        (secs, nanos as u32)
    } else {
        // u128 holds 10^38; beyond that every u64 timestamp is under a nanosecond anyway.
        if n > 38 {
            return (0, 0);
        }
        let units = 10u128.pow(n);
        let ts = u128::from(ts);
        let secs = ts / units;
        let frac = ts % units;
        let nanos = frac * 1_000_000_000 / units;
        (secs as u64, nanos as u32)
    }
}

/// Turns capture timestamps into `DateTime`s, keeping the date of the last one: packets come
/// thousands a day, and finding the calendar date of a day number is most of chrono's work.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    /// Seconds since the Unix epoch at the start (midnight UTC) of `date`.
    day_start: i64,
    date: NaiveDate,
}

impl Clock {
    pub(crate) fn new() -> Clock {
        Clock {
            day_start: 0,
            date: DateTime::UNIX_EPOCH.date_naive(),
        }
    }

    /// The instant `secs` seconds and `nanos` (< 10^9) nanoseconds after the epoch, or `None`
    /// outside the years 0000 to 9999: `DateTime::from_timestamp` within those years.
    #[inline]
    pub(crate) fn datetime(&mut self, secs: i128, nanos: u32) -> Option<DateTime<Utc>> {
        let secs = i64::try_from(secs).ok()?;
        match secs.checked_sub(self.day_start) {
            // The cached day is always within the years accepted: no range check here.
            Some(second @ 0..86_400) => {
                let time = NaiveTime::from_num_seconds_from_midnight_opt(second as u32, nanos)?;
                Some(self.date.and_time(time).and_utc())
            }
            _ => {
                if !(MIN_TIMESTAMP_SECS..END_TIMESTAMP_SECS).contains(&secs) {
                    return None;
                }
                let t = DateTime::from_timestamp(secs, nanos)?;
                debug_assert!((0..=9999).contains(&t.year()));
                self.day_start = secs - secs.rem_euclid(86_400);
                self.date = t.date_naive();
                Some(t)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn split_timestamp_takes_decimal_and_binary_resolutions() {
        assert_eq!(split_timestamp(1_500_000, 6), (1, 500_000_000));
        assert_eq!(split_timestamp(3 << 19, 0x80 | 20), (1, 500_000_000)); // 2^-20 units
        assert_eq!(split_timestamp(u64::MAX, 0xFF), (0, 0)); // 2^-127: under a nanosecond
    }

    proptest! {
        /// The cached date gives exactly what chrono computes from scratch, packet after packet,
        /// across days, backwards in time, before the epoch and out of the years RFC 3339 writes.
        #[test]
        fn clock_is_from_timestamp_within_four_digit_years(
            stamps in proptest::collection::vec(
                (prop_oneof![
                    -200_000i128..200_000,
                    1_483_800_000i128..1_484_100_000,
                    i128::from(END_TIMESTAMP_SECS - 200_000)..i128::from(END_TIMESTAMP_SECS + 200_000),
                    i128::from(MIN_TIMESTAMP_SECS - 200_000)..i128::from(MIN_TIMESTAMP_SECS + 200_000),
                    any::<i64>().prop_map(i128::from),
                    any::<u32>().prop_map(|s| i128::from(s) * 4),
                ], 0u32..1_000_000_000),
                1..60),
        ) {
            let mut clock = Clock::new();
            for (secs, nanos) in stamps {
                let want = i64::try_from(secs)
                    .ok()
                    .and_then(|s| DateTime::from_timestamp(s, nanos))
                    .filter(|t| (0..=9999).contains(&t.year()));
                prop_assert_eq!(clock.datetime(secs, nanos), want, "{} {}", secs, nanos);
            }
        }
    }

    #[test]
    fn the_limits_are_the_first_and_last_four_digit_years() {
        let first = DateTime::from_timestamp(MIN_TIMESTAMP_SECS, 0).unwrap();
        assert_eq!(first.to_rfc3339(), "0000-01-01T00:00:00+00:00");
        let last = DateTime::from_timestamp(END_TIMESTAMP_SECS - 1, 999_999_999).unwrap();
        assert_eq!(last.year(), 9999);
        let mut clock = Clock::new();
        assert_eq!(
            clock.datetime(i128::from(END_TIMESTAMP_SECS) - 1, 5),
            DateTime::from_timestamp(END_TIMESTAMP_SECS - 1, 5)
        );
        assert_eq!(clock.datetime(END_TIMESTAMP_SECS.into(), 0), None);
        assert_eq!(clock.datetime(i128::from(MIN_TIMESTAMP_SECS) - 1, 0), None);
        assert_eq!(clock.datetime(MIN_TIMESTAMP_SECS.into(), 0), Some(first));
    }

    #[test]
    fn split_timestamp_handles_extreme_resolutions() {
        assert_eq!(split_timestamp(u64::MAX, 0), (u64::MAX, 0));
        assert_eq!(split_timestamp(u64::MAX, 0x80), (u64::MAX, 0));
        assert_eq!(split_timestamp(1_000_000_123, 9), (1, 123));
        assert_eq!(split_timestamp(u64::MAX, 127), (0, 0));
        assert_eq!(split_timestamp(u64::MAX, 38), (0, 0));
        assert_eq!(
            split_timestamp(0x7fff_ffff_ffff_ffff, 0x80 | 63),
            (0, 999_999_999)
        );
        assert_eq!(split_timestamp(1 << 63, 0x80 | 64), (0, 500_000_000));
    }
}
