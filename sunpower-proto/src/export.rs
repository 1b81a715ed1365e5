//! Output formats for intervals: the CSV files of interval rows and period totals
//! ([`CsvWriter`], [`CsvReader`]), PVOutput `addbatchstatus` payloads, Home Assistant's hourly
//! energy, and the jsonl row with its local start (`serde` feature).
//!
//! Numbers are written with at most three decimals and no trailing zeros, so the text of a row
//! depends only on its values (the `--tree` files rely on that to be idempotent).

mod csv;

pub use self::csv::{CsvReader, CsvRow, CsvWriter, RowError};

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use chrono::{DateTime, NaiveDate, TimeDelta, Timelike, Utc};
use chrono_tz::Tz;

use crate::intervals::{local_date, Interval};

/// PVOutput accepts at most this many statuses in one `addbatchstatus` request.
pub const PVOUTPUT_BATCH_MAX: usize = 30;

/// A UTC instant in zone `tz` as RFC 3339 with its offset: `2026-03-08T01:55:00-08:00`.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use sunpower_proto::export::local_rfc3339;
/// let t = Utc.with_ymd_and_hms(2026, 3, 8, 10, 0, 0).unwrap();
/// assert_eq!(local_rfc3339(t, chrono_tz::America::Los_Angeles), "2026-03-08T03:00:00-07:00");
/// ```
pub fn local_rfc3339(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz)
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// PVOutput `addbatchstatus` payloads for a whole run of rows: a [`PvOutputEncoder`] fed them
/// all at once, its statuses cut into batches by [`pvoutput_payloads`].
///
/// ```
/// use sunpower_proto::{export, parse_line};
/// use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
/// let mut acc = IntervalAccumulator::new(IntervalConfig::default());
/// // From local midnight (07:00 UTC in Los Angeles in June).
/// for line in ["130\t20260601070000\tINV1\tM\t\t100.000\t0.3",
///              "140\t20260601070000\tPVS5M1c\tM\t125\t607\t0.2",
///              "130\t20260601070500\tINV1\tM\t\t100.025\t0.3",
///              "140\t20260601070500\tPVS5M1c\tM\t125\t607\t0.1"] {
///     acc.add(&parse_line(line).unwrap());
/// }
/// let rows = acc.finish();
/// let batches = export::pvoutput_batches(&rows, chrono_tz::America::Los_Angeles);
/// // The first interval's production is unknown (first report): no consumption.
/// assert_eq!(batches, ["data=20260601,00:05,0,0;20260601,00:10,25,300,33,400"]);
/// ```
pub fn pvoutput_batches(intervals: &[Interval], tz: Tz) -> Vec<String> {
    pvoutput_payloads(&PvOutputEncoder::new(tz).push(intervals))
}

/// Statuses (a [`PvOutputStatus`] or its text) as `addbatchstatus` form bodies,
/// `data=d,t,v1,v2,v3,v4;...`, at most [`PVOUTPUT_BATCH_MAX`] statuses each (to POST with the
/// API key and system id headers).
///
/// ```
/// use sunpower_proto::export::{pvoutput_payloads, PVOUTPUT_BATCH_MAX};
/// let statuses: Vec<String> = (0..31).map(|i| format!("20260601,{:02}:{:02},,0", i / 12, i % 12 * 5)).collect();
/// let payloads = pvoutput_payloads(&statuses);
/// assert_eq!(payloads.len(), 2); // 30 statuses, then 1
/// assert_eq!(payloads[0].matches(';').count(), PVOUTPUT_BATCH_MAX - 1);
/// assert_eq!(payloads[1], "data=20260601,02:30,,0");
/// ```
pub fn pvoutput_payloads<S: fmt::Display>(statuses: &[S]) -> Vec<String> {
    statuses
        .chunks(PVOUTPUT_BATCH_MAX)
        .map(|chunk| {
            let mut payload = String::from("data=");
            for (i, status) in chunk.iter().enumerate() {
                if i > 0 {
                    payload.push(';');
                }
                let _ = write!(payload, "{status}");
            }
            payload
        })
        .collect()
}

/// One PVOutput status: `d,t,v1,v2` and, with a consumption meter, `,v3,v4`.
///
/// - `d`: local date of the interval's start; `t`: local time of its end (the moment the energy
///   so far is known), `23:59` for the interval that ends at midnight.
/// - `v1`: energy generated since local midnight, Wh (cumulative for the day, as PVOutput reads
///   `v1` without `c1`); `v2`: mean power generated, W.
/// - `v3`, `v4`: the same for consumption, left out when no meter reported for the interval.
///
/// Values are written rounded to whole Wh and W.
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
/// use sunpower_proto::export::PvOutputEncoder;
/// let statuses = PvOutputEncoder::new(chrono_tz::UTC).push(&rows);
/// let last = statuses.last().unwrap();
/// assert_eq!((last.time, last.power_generated_w, last.power_consumed_w), ((17, 10), 300.0, None));
/// // The day was not seen from midnight: no running total, powers only.
/// assert_eq!(last.energy_generated_wh, None);
/// assert_eq!(last.to_string(), "20260601,17:10,,300");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PvOutputStatus {
    /// Local date (`d`).
    pub date: NaiveDate,
    /// Local time (`t`), hour and minute.
    pub time: (u32, u32),
    /// Energy generated since local midnight, Wh; `None` on a day not seen from its midnight.
    pub energy_generated_wh: Option<f64>,
    /// Mean power generated, W.
    pub power_generated_w: f64,
    /// Energy consumed since local midnight, Wh; `None` on a day not seen from its midnight or
    /// without a consumption meter report.
    pub energy_consumed_wh: Option<f64>,
    /// Mean power consumed, W; `None` without a consumption meter report (then `v3` and `v4` are
    /// left out).
    pub power_consumed_w: Option<f64>,
    /// The start of the interval the status is for.
    pub interval_start: DateTime<Utc>,
}

impl fmt::Display for PvOutputStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = |f: &mut fmt::Formatter<'_>, x: Option<f64>| match x {
            Some(x) => write!(f, "{}", x.round()),
            None => Ok(()),
        };
        let (hour, minute) = self.time;
        write!(f, "{},{hour:02}:{minute:02},", self.date.format("%Y%m%d"))?;
        whole(f, self.energy_generated_wh)?;
        write!(f, ",{}", self.power_generated_w.round())?;
        if let Some(power) = self.power_consumed_w {
            f.write_str(",")?;
            whole(f, self.energy_consumed_wh)?;
            write!(f, ",{}", power.round())?;
        }
        Ok(())
    }
}

/// Turns interval rows into PVOutput statuses, keeping each local day's running totals across
/// batches: a live run that pushes the rows a few at a time as they are emitted (and revised)
/// ends with the same status for every time of the day as an offline run that pushes them all at
/// once.
///
/// - A day that the rows do not cover from its local midnight (the input starts in the middle of
///   it) has no known running totals: its statuses carry the powers only (`d,t,,v2,,v4`), so they
///   never overwrite a whole day's total on PVOutput with a partial one.
/// - A new or revised row changes the running totals of the rest of its day: [`push`] returns
///   every status of that day from the row on, recomputed, to be sent again.
/// - A local time already used that day (the repeated hour when daylight saving ends) is not
///   sent twice: its energy is carried by the next status of the day.
/// - Days are kept from the newest day seen back to [`PvOutputEncoder::KEPT_DAYS`] days before
///   it; rows for older days change nothing and are counted ([`stale_rows`]).
///
/// [`push`]: PvOutputEncoder::push
/// [`stale_rows`]: PvOutputEncoder::stale_rows
///
/// ```
/// use sunpower_proto::export::PvOutputEncoder;
/// use sunpower_proto::parse_line;
/// use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
/// let mut acc = IntervalAccumulator::new(IntervalConfig::default());
/// for (i, kwh) in ["100.000", "100.025", "100.050"].iter().enumerate() {
///     let line = format!("130\t2026060107{:02}00\tINV1\tM\t\t{kwh}\t0.3", 5 * i);
///     acc.add(&parse_line(&line).unwrap());
/// }
/// let rows = acc.finish();
/// let mut live = PvOutputEncoder::new(chrono_tz::America::Los_Angeles);
/// let first: Vec<String> = live.push(&rows[..2]).iter().map(|s| s.to_string()).collect();
/// let then: Vec<String> = live.push(&rows[2..]).iter().map(|s| s.to_string()).collect();
/// assert_eq!(first, ["20260601,00:05,0,0", "20260601,00:10,25,300"]);
/// assert_eq!(then, ["20260601,00:15,50,300"]); // the day's total carried over
/// ```
#[derive(Debug, Clone)]
pub struct PvOutputEncoder {
    tz: Tz,
    days: BTreeMap<NaiveDate, BTreeMap<DateTime<Utc>, Interval>>,
    stale_rows: u64,
}

impl PvOutputEncoder {
    /// Days kept before the newest one, for revisions that arrive late.
    pub const KEPT_DAYS: u64 = 2;

    /// An encoder for local days in zone `tz`.
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
    /// use sunpower_proto::export::PvOutputEncoder;
    /// // Local days of Los Angeles: 17:05 UTC is 10:05 there.
    /// let mut encoder = PvOutputEncoder::new(chrono_tz::America::Los_Angeles);
    /// let times: Vec<(u32, u32)> = encoder.push(&rows).iter().map(|s| s.time).collect();
    /// assert_eq!(times, [(10, 5), (10, 10)]);
    /// ```
    pub fn new(tz: Tz) -> Self {
        PvOutputEncoder {
            tz,
            days: BTreeMap::new(),
            stale_rows: 0,
        }
    }

    /// Takes new or revised rows (any order; of several rows for one interval the last counts)
    /// and returns the statuses to send: for each day touched, from its earliest changed row to
    /// the last row known of the day, in date and time order.
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
    /// use sunpower_proto::export::PvOutputEncoder;
    /// let mut encoder = PvOutputEncoder::new(chrono_tz::UTC);
    /// assert_eq!(encoder.push(&rows).len(), 2);
    /// // A revised 17:00 row: every status of the day from 17:00 on is sent again.
    /// let mut revised = rows[0].clone();
    /// revised.revised = true;
    /// let again: Vec<String> = encoder.push([&revised]).iter().map(|s| s.to_string()).collect();
    /// assert_eq!(again, ["20260601,17:05,,0", "20260601,17:10,,300"]);
    /// ```
    pub fn push<'r>(
        &mut self,
        rows: impl IntoIterator<Item = &'r Interval>,
    ) -> Vec<PvOutputStatus> {
        let mut changed: BTreeMap<NaiveDate, DateTime<Utc>> = BTreeMap::new();
        let oldest = self.oldest_kept();
        for row in rows {
            let date = local_date(row.interval_start, self.tz);
            if oldest.is_some_and(|oldest| date < oldest) {
                self.stale_rows += 1;
                continue;
            }
            self.days
                .entry(date)
                .or_default()
                .insert(row.interval_start, row.clone());
            let since = changed.entry(date).or_insert(row.interval_start);
            *since = (*since).min(row.interval_start);
        }
        let mut statuses = Vec::new();
        for (date, since) in changed {
            statuses.extend(
                self.day_statuses(date)
                    .into_iter()
                    .filter(|s| s.interval_start >= since),
            );
        }
        // Forget the days too old to be revised; rows for them count as stale from now on.
        if let Some(oldest) = self.oldest_kept() {
            self.days = self.days.split_off(&oldest);
        }
        statuses
    }

    /// Rows not used because their day was older than the days kept.
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
    /// use sunpower_proto::export::PvOutputEncoder;
    /// let mut encoder = PvOutputEncoder::new(chrono_tz::UTC);
    /// let mut later = rows[1].clone();
    /// later.interval_start += chrono::TimeDelta::days(5); // five days on: 2026-06-01 is not kept
    /// later.interval_end += chrono::TimeDelta::days(5);
    /// encoder.push([&later]);
    /// assert!(encoder.push(&rows).is_empty());
    /// assert_eq!(encoder.stale_rows(), 2);
    /// ```
    pub fn stale_rows(&self) -> u64 {
        self.stale_rows
    }

    fn oldest_kept(&self) -> Option<NaiveDate> {
        let newest = *self.days.keys().next_back()?;
        newest.checked_sub_days(chrono::Days::new(Self::KEPT_DAYS))
    }

    /// Every status of a day, running totals from its first row.
    fn day_statuses(&self, date: NaiveDate) -> Vec<PvOutputStatus> {
        let Some(rows) = self.days.get(&date) else {
            return Vec::new();
        };
        let tz = self.tz;
        // Seen from midnight when the interval before the day's first one is on the day before.
        let whole_day = rows.values().next().is_some_and(|first| {
            let before = first.interval_start - (first.interval_end - first.interval_start);
            local_date(before, tz) != date
        });
        let (mut generated, mut consumed) = (0.0, 0.0);
        let mut used_times = std::collections::HashSet::new();
        let mut statuses = Vec::with_capacity(rows.len());
        for row in rows.values() {
            generated += row.production_wh;
            consumed += row.consumption_wh.unwrap_or(0.0);
            let end = row.interval_end.with_timezone(&tz);
            let time = if end.date_naive() == date {
                (end.hour(), end.minute())
            } else {
                (23, 59)
            };
            if !used_times.insert(time) {
                continue;
            }
            let total = |wh: f64| whole_day.then_some(wh);
            statuses.push(PvOutputStatus {
                date,
                time,
                energy_generated_wh: total(generated),
                power_generated_w: row.production_w,
                energy_consumed_wh: row.consumption_w.and(total(consumed)),
                power_consumed_w: row.consumption_w,
                interval_start: row.interval_start,
            });
        }
        statuses
    }
}

/// The energy of one hour, as Home Assistant's long-term statistics keep it (hourly rows on UTC
/// hours), from the intervals whose start falls in it.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct HourlyEnergy {
    /// The hour's start (UTC, a whole hour).
    pub start: DateTime<Utc>,
    /// Energy produced, Wh.
    pub production_wh: f64,
    /// Energy consumed by the house, Wh (intervals without a meter report add nothing).
    pub consumption_wh: f64,
    /// Energy bought from the grid (the positive net of each interval), Wh.
    pub grid_import_wh: f64,
    /// Energy sent to the grid (the negative net of each interval, as a positive number), Wh.
    pub grid_export_wh: f64,
}

/// Energy per hour: each interval (its latest revision) in the hour its start falls in, the top
/// of its local hour in zone `tz`, as a UTC instant. In the few zones with a half-hour offset
/// (India, parts of Australia) a local hour is not a UTC hour, and the UTC one is used, as Home
/// Assistant keeps UTC hours. Hours are in order; hours with no interval have no row.
///
/// ```
/// use sunpower_proto::{export, parse_line};
/// use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
/// let mut acc = IntervalAccumulator::new(IntervalConfig::default());
/// for (t, kwh) in [("20260601165500", "10.000"), ("20260601170000", "10.020"),
///                  ("20260601170500", "10.050")] {
///     acc.add(&parse_line(&format!("130\t{t}\tINV1\tM\t\t{kwh}\t0.3")).unwrap());
/// }
/// let hours = export::hourly_energy(&acc.finish(), chrono_tz::America::Los_Angeles);
/// assert_eq!(hours.len(), 2);
/// assert_eq!(hours[1].start.to_rfc3339(), "2026-06-01T17:00:00+00:00");
/// assert!((hours[1].production_wh - 50.0).abs() < 1e-9);
/// ```
pub fn hourly_energy(intervals: &[Interval], tz: Tz) -> Vec<HourlyEnergy> {
    let mut hours: BTreeMap<DateTime<Utc>, HourlyEnergy> = BTreeMap::new();
    for row in crate::intervals::latest(intervals) {
        let start = hour_of(row.interval_start, tz);
        let hour = hours.entry(start).or_insert(HourlyEnergy {
            start,
            production_wh: 0.0,
            consumption_wh: 0.0,
            grid_import_wh: 0.0,
            grid_export_wh: 0.0,
        });
        hour.production_wh += row.production_wh;
        hour.consumption_wh += row.consumption_wh.unwrap_or(0.0);
        match row.net_wh {
            Some(net) if net > 0.0 => hour.grid_import_wh += net,
            Some(net) => hour.grid_export_wh -= net,
            None => {}
        }
    }
    hours.into_values().collect()
}

/// The top of `t`'s local hour in `tz`, as a UTC instant; the UTC hour where that is not whole.
fn hour_of(t: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
    let utc_hour =
        |t: DateTime<Utc>| t - TimeDelta::seconds(i64::from(t.minute() * 60 + t.second()));
    let local = t.with_timezone(&tz);
    let top = local - TimeDelta::seconds(i64::from(local.minute() * 60 + local.second()));
    let start = top.with_timezone(&Utc);
    if start.minute() != 0 || start.second() != 0 {
        utc_hour(t)
    } else {
        start
    }
}
