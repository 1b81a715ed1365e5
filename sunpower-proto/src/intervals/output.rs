//! An interval row and a period total as every output shape writes them, described once: the
//! column lists ([`Interval::COLUMNS`], [`PeriodTotal::COLUMNS`]) give the CSV header, the Arrow
//! schema and Python's `interval_fields()`; the field visitor ([`Interval::visit_output`]) behind
//! the jsonl rows (`serde` feature), the Arrow batches, the CSV rows and Python's
//! `Interval.to_dict()` follows them (tests check it).
//!
//! The order is the CSV files' of the `--tree` folders on users' disks: new columns go at the
//! end (the battery columns came after `flags`), so that a file keeps its columns' positions.

use chrono_tz::Tz;

use super::{Interval, PeriodTotal};
use crate::{FieldSpec, FieldType, FieldValue};

/// A column that is always there.
const fn col(name: &'static str, field_type: FieldType, doc: &'static str) -> FieldSpec {
    FieldSpec::new(name, field_type, false, None, doc)
}

const fn quantity(
    name: &'static str,
    unit: &'static str,
    nullable: bool,
    doc: &'static str,
) -> FieldSpec {
    FieldSpec::new(name, FieldType::Decimal, nullable, Some(unit), doc)
}

use FieldType::{Bool, Flags as FlagNames, LocalTime, Text, Time, Unsigned as Count};

impl Interval {
    /// The columns of an interval row, in the order of every output (CSV, jsonl, Arrow,
    /// Python's `to_dict()`); `interval_start_local` only where a zone is given.
    ///
    /// ```
    /// use sunpower_proto::intervals::Interval;
    /// let names: Vec<&str> = Interval::COLUMNS.iter().map(|c| c.name).collect();
    /// assert_eq!(names[..3], ["interval_start", "interval_start_local", "interval_end"]);
    /// assert_eq!(names[11..], ["flags", "battery_wh", "battery_soc_pct"]);
    /// ```
    pub const COLUMNS: &'static [FieldSpec] = &[
        col("interval_start", Time, "Start, included."),
        col(
            "interval_start_local",
            LocalTime,
            "The start in the output's zone, with that zone's offset at the time.",
        ),
        col("interval_end", Time, "End, excluded: start + cadence."),
        quantity("production_wh", "Wh", false, "Energy produced."),
        quantity(
            "consumption_wh",
            "Wh",
            true,
            "Energy consumed by the house (never negative); none without a meter or site totals.",
        ),
        quantity(
            "net_wh",
            "Wh",
            true,
            "Energy from the grid, negative for export; none without a meter or site totals.",
        ),
        quantity("production_w", "W", false, "Mean production power."),
        quantity("consumption_w", "W", true, "Mean consumption power."),
        col(
            "net_source",
            Text,
            "Where net_wh came from: counter, power or none.",
        ),
        col(
            "inverters_reporting",
            Count,
            "How many inverters reported for the interval.",
        ),
        col(
            "revised",
            Bool,
            "Whether the row replaces one emitted before (streaming).",
        ),
        col("flags", FlagNames, "What was noteworthy."),
        quantity(
            "battery_wh",
            "Wh",
            true,
            "Energy from the battery into the house, negative while it charges.",
        ),
        quantity(
            "battery_soc_pct",
            "%",
            true,
            "The battery's state of charge at its last reading, 0 to 100.",
        ),
    ];

    /// Visits the row's output fields in the order of [`Interval::COLUMNS`];
    /// `interval_start_local` when a zone is given.
    ///
    /// ```
    /// use sunpower_proto::parse_line;
    /// use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
    /// let mut acc = IntervalAccumulator::new(IntervalConfig::default());
    /// acc.add(&parse_line("130\t20260601170000\tINV1\tM\t\t100.000\t0.3").unwrap());
    /// let row = acc.finish().remove(0);
    /// let mut names = Vec::new();
    /// row.visit_output(Some(chrono_tz::UTC), |name, _| names.push(name));
    /// assert_eq!(&names[..3], ["interval_start", "interval_start_local", "interval_end"]);
    /// assert_eq!(names.last(), Some(&"battery_soc_pct"));
    /// ```
    ///
    /// Every value is there but the nullable quantities', which may be `None`.
    pub fn visit_output(
        &self,
        tz: Option<Tz>,
        mut visit: impl FnMut(&'static str, FieldValue<'static>),
    ) {
        use FieldValue::{Bool, Decimal, LocalTime, Text, Time, Unsigned};
        visit("interval_start", Time(Some(self.interval_start)));
        if let Some(tz) = tz {
            visit("interval_start_local", LocalTime(self.interval_start, tz));
        }
        visit("interval_end", Time(Some(self.interval_end)));
        visit("production_wh", Decimal(Some(self.production_wh)));
        visit("consumption_wh", Decimal(self.consumption_wh));
        visit("net_wh", Decimal(self.net_wh));
        visit("production_w", Decimal(Some(self.production_w)));
        visit("consumption_w", Decimal(self.consumption_w));
        visit("net_source", Text(Some(self.net_source.as_str())));
        visit(
            "inverters_reporting",
            Unsigned(Some(self.inverters_reporting.into())),
        );
        visit("revised", Bool(self.revised));
        visit("flags", FieldValue::Flags(self.flags));
        visit("battery_wh", Decimal(self.battery_wh));
        visit("battery_soc_pct", Decimal(self.battery_soc_pct));
    }
}

impl PeriodTotal {
    /// The columns of a period total (`daily.csv`, `monthly.csv`, `yearly.csv`), in CSV order.
    ///
    /// ```
    /// use sunpower_proto::intervals::PeriodTotal;
    /// let names: Vec<&str> = PeriodTotal::COLUMNS.iter().map(|c| c.name).collect();
    /// assert_eq!(names, ["period", "start", "end", "hours", "production_wh", "consumption_wh", "net_wh", "intervals", "flags"]);
    /// ```
    pub const COLUMNS: &'static [FieldSpec] = &[
        col(
            "period",
            Text,
            "The period's label: YYYY-MM-DD, YYYY-MM or YYYY.",
        ),
        col(
            "start",
            Time,
            "The period's first instant (local midnight).",
        ),
        col("end", Time, "The next period's first instant."),
        quantity(
            "hours",
            "h",
            false,
            "The period's length (23 or 25 on daylight-saving days).",
        ),
        quantity("production_wh", "Wh", false, "Energy produced."),
        quantity(
            "consumption_wh",
            "Wh",
            true,
            "Energy consumed, over the intervals that have it; none if none has.",
        ),
        quantity(
            "net_wh",
            "Wh",
            true,
            "Net energy (import positive), over the intervals that have it; none if none has.",
        ),
        col("intervals", Count, "How many intervals were summed."),
        col("flags", FlagNames, "The flags of any of its intervals."),
    ];
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intervals::{Flags, NetSource};
    use chrono::DateTime;

    /// The column type of a value, and whether it is none: with [`row`], whose quantities that
    /// may be none all are, that is the column's `nullable`.
    fn field_type(value: FieldValue<'_>) -> (FieldType, bool) {
        match value {
            FieldValue::Time(t) => (FieldType::Time, t.is_none()),
            FieldValue::LocalTime(..) => (FieldType::LocalTime, false),
            FieldValue::Decimal(x) => (FieldType::Decimal, x.is_none()),
            FieldValue::Text(x) => (FieldType::Text, x.is_none()),
            FieldValue::Unsigned(x) => (FieldType::Unsigned, x.is_none()),
            FieldValue::Bool(_) => (FieldType::Bool, false),
            FieldValue::Flags(_) => (FieldType::Flags, false),
            other => panic!("not an interval value: {other:?}"),
        }
    }

    fn row() -> Interval {
        Interval {
            interval_start: DateTime::UNIX_EPOCH,
            interval_end: DateTime::UNIX_EPOCH,
            production_wh: 0.0,
            consumption_wh: None,
            net_wh: None,
            production_w: 0.0,
            consumption_w: None,
            battery_wh: None,
            battery_soc_pct: None,
            net_source: NetSource::None,
            inverters_reporting: 0,
            flags: Flags::empty(),
            revised: false,
        }
    }

    #[test]
    fn the_visitor_gives_the_columns_in_order_with_their_types() {
        let mut visited = Vec::new();
        row().visit_output(Some(Tz::UTC), |name, value| {
            visited.push((name, field_type(value)))
        });
        let columns: Vec<_> = Interval::COLUMNS
            .iter()
            .map(|c| (c.name, (c.field_type, c.nullable)))
            .collect();
        assert_eq!(visited, columns);
        // Without a zone, every column but the local start.
        let mut names = Vec::new();
        row().visit_output(None, |name, _| names.push(name));
        let expected: Vec<_> = Interval::COLUMNS
            .iter()
            .filter(|c| c.field_type != FieldType::LocalTime)
            .map(|c| c.name)
            .collect();
        assert_eq!(names, expected);
    }

    #[test]
    fn column_names_are_unique_and_numbers_have_decimals() {
        for columns in [Interval::COLUMNS, PeriodTotal::COLUMNS] {
            let mut names: Vec<_> = columns.iter().map(|c| c.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), columns.len());
            assert!(columns.iter().all(|c| c.decimals > 0 && !c.doc.is_empty()));
        }
    }
}
