//! One local day of readings, held until the day closes: power per device per time slot, and
//! the minutes in which the supervisor sent anything.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

/// Minutes a local day can have (25 hours on the day clocks go back), as bits.
const MINUTE_WORDS: usize = 25 * 60 / 64 + 1;

/// A local day's data.
#[derive(Debug, Clone)]
pub(crate) struct Day {
    pub(crate) date: NaiveDate,
    pub(crate) start: DateTime<Utc>,
    pub(crate) end: DateTime<Utc>,
    /// Slot start -> (device index, AC power kW if known), the first reading of each device kept.
    pub(crate) slots: BTreeMap<DateTime<Utc>, Vec<(usize, Option<f64>)>>,
    /// One bit per minute since `start` in which some record was stamped.
    active: [u64; MINUTE_WORDS],
}

impl Day {
    pub(crate) fn new(date: NaiveDate, start: DateTime<Utc>, end: DateTime<Utc>) -> Day {
        Day {
            date,
            start,
            end,
            slots: BTreeMap::new(),
            active: [0; MINUTE_WORDS],
        }
    }

    /// Adds a device's reading to its slot; a second reading of the device there is a duplicate.
    pub(crate) fn add(&mut self, slot: DateTime<Utc>, device: usize, power_kw: Option<f64>) {
        let readings = self.slots.entry(slot).or_default();
        if !readings.iter().any(|(d, _)| *d == device) {
            readings.push((device, power_kw));
        }
    }

    /// Marks the minute of `t` as one in which the supervisor sent data.
    pub(crate) fn mark_active(&mut self, t: DateTime<Utc>) {
        let Ok(minute) = usize::try_from((t - self.start).num_minutes()) else {
            return;
        };
        if let Some(word) = self.active.get_mut(minute / 64) {
            *word |= 1 << (minute % 64);
        }
    }

    /// The starts of the minutes with data, in order.
    pub(crate) fn active_minutes(&self) -> impl Iterator<Item = DateTime<Utc>> + '_ {
        let start = self.start;
        let end = self.end;
        (0..MINUTE_WORDS * 64)
            .filter(|m| self.active[m / 64] & (1 << (m % 64)) != 0)
            .filter_map(move |m| start.checked_add_signed(chrono::TimeDelta::minutes(m as i64)))
            .filter(move |t| *t < end)
    }
}

/// The median of the powers known, `None` without any.
pub(crate) fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&mut []), None);
    }

    #[test]
    fn active_minutes_in_order_and_within_the_day() {
        let start = Utc.with_ymd_and_hms(2026, 6, 1, 7, 0, 0).unwrap();
        let end = Utc.with_ymd_and_hms(2026, 6, 2, 7, 0, 0).unwrap();
        let mut day = Day::new(start.date_naive(), start, end);
        day.mark_active(start + chrono::TimeDelta::seconds(150));
        day.mark_active(start);
        day.mark_active(end);
        day.mark_active(start - chrono::TimeDelta::minutes(1));
        let minutes: Vec<_> = day.active_minutes().collect();
        assert_eq!(minutes, [start, start + chrono::TimeDelta::minutes(2)]);
    }

    #[test]
    fn second_reading_of_a_device_in_a_slot_is_ignored() {
        let start = Utc.with_ymd_and_hms(2026, 6, 1, 7, 0, 0).unwrap();
        let mut day = Day::new(start.date_naive(), start, start);
        day.add(start, 0, Some(1.0));
        day.add(start, 0, Some(2.0));
        day.add(start, 1, None);
        assert_eq!(day.slots[&start], [(0, Some(1.0)), (1, None)]);
    }
}
