//! An interval row as every output shape writes it: the one field visitor behind the jsonl rows
//! of `sunpower intervals` (`serde` feature) and Python's `Interval.to_dict()`.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::{Flags, Interval};

/// One output field of an [`Interval`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum IntervalField {
    /// An instant, written in RFC 3339 UTC (`2026-06-01T17:00:00Z`).
    Time(DateTime<Utc>),
    /// An instant written in RFC 3339 with the zone's offset at the time
    /// (`2026-06-01T10:00:00-07:00`).
    LocalTime(DateTime<Utc>, Tz),
    /// A quantity.
    Number(f64),
    /// A quantity, `None` (JSON `null`) when not known.
    MaybeNumber(Option<f64>),
    /// A name (`"counter"`).
    Name(&'static str),
    /// A count.
    Count(u32),
    /// Yes or no.
    Bool(bool),
    /// The flags, written as a list of their names.
    Flags(Flags),
}

impl Interval {
    /// Visits the row's output fields in output order; `interval_start_local` (after
    /// `interval_start`) when a zone is given.
    ///
    /// ```
    /// use sunpower_proto::parse_line;
    /// use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
    /// let mut acc = IntervalAccumulator::new(IntervalConfig::offline());
    /// acc.add(&parse_line("130\t20260601170000\tINV1\tM\t\t100.000\t0.3").unwrap());
    /// let row = acc.finish().remove(0);
    /// let mut names = Vec::new();
    /// row.visit_output(Some(chrono_tz::UTC), |name, _| names.push(name));
    /// assert_eq!(&names[..3], ["interval_start", "interval_start_local", "interval_end"]);
    /// assert_eq!(names.last(), Some(&"flags"));
    /// ```
    pub fn visit_output(&self, tz: Option<Tz>, mut visit: impl FnMut(&'static str, IntervalField)) {
        use IntervalField::{Bool, Count, MaybeNumber, Name, Number, Time};
        visit("interval_start", Time(self.interval_start));
        if let Some(tz) = tz {
            visit(
                "interval_start_local",
                IntervalField::LocalTime(self.interval_start, tz),
            );
        }
        visit("interval_end", Time(self.interval_end));
        visit("production_wh", Number(self.production_wh));
        visit("consumption_wh", MaybeNumber(self.consumption_wh));
        visit("net_wh", MaybeNumber(self.net_wh));
        visit("production_w", Number(self.production_w));
        visit("consumption_w", MaybeNumber(self.consumption_w));
        visit("battery_wh", MaybeNumber(self.battery_wh));
        visit("battery_soc", MaybeNumber(self.battery_soc));
        visit("net_source", Name(self.net_source.as_str()));
        visit("inverters_reporting", Count(self.inverters_reporting));
        visit("revised", Bool(self.revised));
        visit("flags", IntervalField::Flags(self.flags));
    }
}
