//! Local days, months and years from an IANA zone: totals of intervals.
//!
//! A local day is every interval whose start, in the zone, falls on that date. It starts at the
//! first instant of the date (local midnight, or the first valid time when a zone skips
//! midnight), so the spring-forward day has 23 hours and the fall-back day 25.

use chrono::{DateTime, Datelike, LocalResult, NaiveDate, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use super::{Flags, Interval};

/// A kind of local period.
///
/// ```
/// use chrono::NaiveDate;
/// use sunpower_proto::intervals::Period;
/// assert_eq!(Period::Month.label(NaiveDate::from_ymd_opt(2026, 2, 14).unwrap()), "2026-02");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// A local date, labelled `YYYY-MM-DD`.
    Day,
    /// A local month, labelled `YYYY-MM`.
    Month,
    /// A local year, labelled `YYYY`.
    Year,
}

impl Period {
    /// The label of the period containing local date `date`.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use sunpower_proto::intervals::Period;
    /// let d = NaiveDate::from_ymd_opt(2026, 3, 8).unwrap();
    /// assert_eq!(Period::Day.label(d), "2026-03-08");
    /// assert_eq!(Period::Month.label(d), "2026-03");
    /// assert_eq!(Period::Year.label(d), "2026");
    /// ```
    pub fn label(&self, date: NaiveDate) -> String {
        match self {
            Period::Day => format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day()),
            Period::Month => format!("{:04}-{:02}", date.year(), date.month()),
            Period::Year => format!("{:04}", date.year()),
        }
    }

    /// The first local date of the period containing `date`, and of the next period.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use sunpower_proto::intervals::Period;
    /// let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
    /// assert_eq!(Period::Month.bounds(d(2, 14)), (d(2, 1), d(3, 1)));
    /// assert_eq!(Period::Year.bounds(d(2, 14)), (d(1, 1), NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()));
    /// ```
    pub fn bounds(&self, date: NaiveDate) -> (NaiveDate, NaiveDate) {
        let first = match self {
            Period::Day => Some(date),
            Period::Month => date.with_day(1),
            Period::Year => NaiveDate::from_ymd_opt(date.year(), 1, 1),
        }
        .unwrap_or(date);
        let next = match self {
            Period::Day => first.succ_opt(),
            Period::Month => first.checked_add_months(chrono::Months::new(1)),
            Period::Year => first.checked_add_months(chrono::Months::new(12)),
        }
        .unwrap_or(first);
        (first, next)
    }
}

/// Energy totals over a local period.
///
/// ```
/// # use sunpower_proto::parse_line;
/// # use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
/// # let mut acc = IntervalAccumulator::new(IntervalConfig::default());
/// # for line in ["130\t20260601170000\tINV1\tM\t\t100.000\t0.3",
/// #              "130\t20260601170500\tINV1\tM\t\t100.025\t0.3"] {
/// #     acc.add(&parse_line(line).unwrap());
/// # }
/// # let rows = acc.finish();
/// // `rows`: the intervals of 17:00 (an inverter's first report) and 17:05 (25 Wh), UTC.
/// use sunpower_proto::intervals::{totals, Period};
/// let day = &totals(&rows, chrono_tz::UTC, Period::Day)[0];
/// assert_eq!((day.label.as_str(), day.production_wh, day.intervals), ("2026-06-01", 25.0, 2));
/// assert_eq!(day.net_wh, None); // no meter
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PeriodTotal {
    /// Day, month or year.
    pub period: Period,
    /// `YYYY-MM-DD`, `YYYY-MM` or `YYYY`.
    pub label: String,
    /// The period's first instant (UTC).
    pub start: DateTime<Utc>,
    /// The next period's first instant (UTC).
    pub end: DateTime<Utc>,
    /// Energy produced, Wh.
    pub production_wh: f64,
    /// Energy consumed, Wh, over the intervals that have it; `None` if none has.
    pub consumption_wh: Option<f64>,
    /// Net energy, Wh (import positive), over the intervals that have it; `None` if none has.
    pub net_wh: Option<f64>,
    /// How many intervals were summed.
    pub intervals: u32,
    /// The flags of any of its intervals.
    pub flags: Flags,
}

impl PeriodTotal {
    /// The period's length in hours (23 or 25 on daylight-saving days).
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use sunpower_proto::intervals::{Period, PeriodTotal};
    /// let tz = chrono_tz::America::Los_Angeles;
    /// let spring = PeriodTotal::empty(Period::Day, NaiveDate::from_ymd_opt(2026, 3, 8).unwrap(), tz);
    /// assert_eq!(spring.hours(), 23.0); // daylight saving starts
    /// ```
    pub fn hours(&self) -> f64 {
        (self.end - self.start).num_seconds() as f64 / 3600.0
    }

    /// An empty total for the period of kind `period` containing local `date`.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use sunpower_proto::intervals::{Period, PeriodTotal};
    /// let june = PeriodTotal::empty(Period::Month, NaiveDate::from_ymd_opt(2026, 6, 15).unwrap(), chrono_tz::UTC);
    /// assert_eq!((june.label.as_str(), june.start.to_rfc3339().as_str()), ("2026-06", "2026-06-01T00:00:00+00:00"));
    /// assert_eq!((june.production_wh, june.intervals), (0.0, 0));
    /// ```
    pub fn empty(period: Period, date: NaiveDate, tz: Tz) -> PeriodTotal {
        let (first, next) = period.bounds(date);
        PeriodTotal {
            period,
            label: period.label(date),
            start: local_day_start(first, tz),
            end: local_day_start(next, tz),
            production_wh: 0.0,
            consumption_wh: None,
            net_wh: None,
            intervals: 0,
            flags: Flags::empty(),
        }
    }

    /// Adds another total's energies (a day into its month, a month into its year).
    ///
    /// ```
    /// # use sunpower_proto::parse_line;
    /// # use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
    /// # let mut acc = IntervalAccumulator::new(IntervalConfig::default());
    /// # for line in ["130\t20260601170000\tINV1\tM\t\t100.000\t0.3",
    /// #              "130\t20260601170500\tINV1\tM\t\t100.025\t0.3"] {
    /// #     acc.add(&parse_line(line).unwrap());
    /// # }
    /// # let rows = acc.finish();
    /// // `rows`: the intervals of 17:00 (an inverter's first report) and 17:05 (25 Wh), UTC.
    /// use chrono::NaiveDate;
    /// use sunpower_proto::intervals::{totals, Period, PeriodTotal};
    /// let day = &totals(&rows, chrono_tz::UTC, Period::Day)[0];
    /// let mut month = PeriodTotal::empty(Period::Month, NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(), chrono_tz::UTC);
    /// month.absorb(day);
    /// month.absorb(day);
    /// assert_eq!((month.production_wh, month.intervals), (50.0, 4));
    /// ```
    pub fn absorb(&mut self, other: &PeriodTotal) {
        self.production_wh = round3(self.production_wh + other.production_wh);
        self.consumption_wh = add_opt(self.consumption_wh, other.consumption_wh);
        self.net_wh = add_opt(self.net_wh, other.net_wh);
        self.intervals = self.intervals.saturating_add(other.intervals);
        self.flags = self.flags.union(other.flags);
    }

    fn add_interval(&mut self, i: &Interval) {
        self.production_wh = round3(self.production_wh + i.production_wh);
        self.consumption_wh = add_opt(self.consumption_wh, i.consumption_wh);
        self.net_wh = add_opt(self.net_wh, i.net_wh);
        self.intervals = self.intervals.saturating_add(1);
        self.flags = self.flags.union(i.flags);
    }
}

fn round3(x: f64) -> f64 {
    let r = (x * 1000.0).round() / 1000.0;
    if r == 0.0 {
        0.0
    } else {
        r
    }
}

fn add_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(round3(a + b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// The local date of an instant in zone `tz`.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use sunpower_proto::intervals::local_date;
/// let t = Utc.with_ymd_and_hms(2026, 1, 1, 7, 59, 0).unwrap();
/// assert_eq!(local_date(t, chrono_tz::America::Los_Angeles).to_string(), "2025-12-31");
/// ```
pub fn local_date(t: DateTime<Utc>, tz: Tz) -> NaiveDate {
    t.with_timezone(&tz).date_naive()
}

/// The first instant of local date `date` in zone `tz`: local midnight, or the first valid local
/// time when the zone skips midnight; the earlier one when midnight happens twice.
///
/// ```
/// use chrono::NaiveDate;
/// use sunpower_proto::intervals::local_day_start;
/// let tz = chrono_tz::America::Los_Angeles;
/// let day = NaiveDate::from_ymd_opt(2026, 3, 8).unwrap();
/// let next = day.succ_opt().unwrap();
/// assert_eq!((local_day_start(next, tz) - local_day_start(day, tz)).num_hours(), 23);
/// ```
pub fn local_day_start(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let midnight = date.and_time(chrono::NaiveTime::MIN);
    // Zones move their clocks by at most a few hours; look a day ahead in 15-minute steps.
    for step in 0..=96 {
        let Some(local) = midnight.checked_add_signed(TimeDelta::minutes(15 * step)) else {
            break;
        };
        match tz.from_local_datetime(&local) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
                return t.with_timezone(&Utc);
            }
            LocalResult::None => {}
        }
    }
    midnight.and_utc()
}

/// Totals of `intervals` per local day, month or year in zone `tz`, in period order.
///
/// When several rows have the same `interval_start` (an interval and its revisions, as streaming
/// emits them), the last one counts.
///
/// ```
/// use sunpower_proto::parse_line;
/// use sunpower_proto::intervals::{totals, IntervalAccumulator, IntervalConfig, Period};
/// let mut acc = IntervalAccumulator::new(IntervalConfig::default());
/// for line in [
///     "130\t20260601065500\tINV1\tAC_Module_Type_C\t\t100.000\t0.3", // 23:55 local
///     "130\t20260601070000\tINV1\tAC_Module_Type_C\t\t100.010\t0.3", // 00:00 next local day
/// ] {
///     acc.add(&parse_line(line).unwrap());
/// }
/// let days = totals(&acc.finish(), chrono_tz::America::Los_Angeles, Period::Day);
/// assert_eq!(days.len(), 2);
/// assert_eq!(days[0].label, "2026-05-31");
/// assert_eq!(days[1].label, "2026-06-01");
/// assert_eq!(days[1].production_wh, 10.0);
/// ```
pub fn totals(intervals: &[Interval], tz: Tz, period: Period) -> Vec<PeriodTotal> {
    let mut by_label: std::collections::BTreeMap<String, PeriodTotal> = Default::default();
    for interval in latest(intervals) {
        let date = local_date(interval.interval_start, tz);
        let label = period.label(date);
        by_label
            .entry(label)
            .or_insert_with(|| PeriodTotal::empty(period, date, tz))
            .add_interval(interval);
    }
    by_label.into_values().collect()
}

/// The last row per `interval_start`, in start order: an interval's latest revision.
///
/// ```
/// use sunpower_proto::{intervals::latest, parse_line};
/// use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
/// let mut acc = IntervalAccumulator::new(IntervalConfig::default());
/// acc.add(&parse_line("130\t20260601170000\tINV1\tM\t\t100.000\t0.3").unwrap());
/// let row = acc.finish().remove(0);
/// let mut revised = row.clone();
/// revised.revised = true;
/// assert_eq!(latest(&[row, revised.clone()]), [&revised]);
/// ```
pub fn latest(intervals: &[Interval]) -> Vec<&Interval> {
    let mut by_start = std::collections::BTreeMap::new();
    for interval in intervals {
        by_start.insert(interval.interval_start, interval);
    }
    by_start.into_values().collect()
}
