//! Generated homes for the health and report tests: micro-inverters under a sun-shaped curve over
//! local days, lifetime counters consistent with their power, a supervisor posting every few
//! minutes day and night, and the planted faults of issue 23.
//!
//! ```
//! use chrono::NaiveDate;
//! use sunpower_testkit::home::{Faults, Home};
//!
//! let home = Home::new(NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(), 9);
//! let posts = |lines: &[String]| lines.iter().filter(|l| l.starts_with("100\t")).count();
//! let lines = home.lines();
//! assert_eq!(posts(&lines), 9 * 288);
//! assert!(lines.iter().any(|l| l.starts_with("130\t") && l.contains("\tINV09\t")));
//! // The supervisor silent for six hours on day 6.
//! assert_eq!(posts(&Home { faults: Faults::all(), ..home }.lines()), 9 * 288 - 72);
//! ```

use chrono::{DateTime, LocalResult, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

/// The supervisor's serial in every generated line.
pub const SUPERVISOR: &str = "ZT163785000441C0593";

/// What goes wrong in a generated home (days count from [`Home::first_day`], 0 first).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Faults {
    /// INV03 at 30 % of its peers on days 1 to 5.
    pub weak_panel: bool,
    /// INV05 silent from day 2 12:00 to the end of day 4.
    pub stops_reporting: bool,
    /// INV07 reports zero power (its counter still) all of day 4.
    pub reports_zero: bool,
    /// INV08's measurement time frozen at 10:00 on day 2 until 13:00.
    pub frozen_time: bool,
    /// No data at all on day 6 from 09:00 to 15:00.
    pub silent_supervisor: bool,
    /// INV09's lifetime counter reads 0 once, day 1 at 12:00.
    pub zero_counter: bool,
}

impl Faults {
    /// Every fault.
    pub fn all() -> Faults {
        Faults {
            weak_panel: true,
            stops_reporting: true,
            reports_zero: true,
            frozen_time: true,
            silent_supervisor: true,
            zero_counter: true,
        }
    }
}

/// A generated home.
#[derive(Debug, Clone, Copy)]
pub struct Home {
    /// Micro-inverters, `INV00`, `INV01`...
    pub inverters: usize,
    /// The first local day.
    pub first_day: NaiveDate,
    /// Local days generated.
    pub days: u32,
    /// Minutes between posts (the faults' times assume a divisor of 60). Default 5.
    pub step_minutes: u32,
    /// The home's time zone. Default America/Los_Angeles.
    pub tz: Tz,
    /// The planted faults. Default none.
    pub faults: Faults,
    /// Each day's sun, a factor of every panel's power alike (cloud). Default: sunny.
    pub weather: fn(u32) -> f64,
    /// A net consumption meter (140 lines, `...c`): the house's load less the production.
    pub meter: bool,
}

fn sunny(_: u32) -> f64 {
    1.0
}

impl Home {
    /// Ten inverters for `days` days from `first_day`, every 5 minutes, sunny, in Los Angeles,
    /// no fault, no meter.
    pub fn new(first_day: NaiveDate, days: u32) -> Home {
        Home {
            inverters: 10,
            first_day,
            days,
            step_minutes: 5,
            tz: chrono_tz::America::Los_Angeles,
            faults: Faults::default(),
            weather: sunny,
            meter: false,
        }
    }

    /// Inverter `i`'s serial.
    pub fn serial(i: usize) -> String {
        format!("INV{i:02}")
    }

    /// Local date of generated day `day`.
    pub fn date(&self, day: u32) -> NaiveDate {
        self.first_day + TimeDelta::days(i64::from(day))
    }

    /// Local time `hh:mm` (hours may pass 24) of generated day `day`, in UTC.
    pub fn local(&self, day: u32, hour: i64, minute: i64) -> DateTime<Utc> {
        let midnight = self.date(day).and_time(NaiveTime::MIN);
        let start = match self.tz.from_local_datetime(&midnight) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
            // No zone generated here skips midnight; an hour later is a valid time.
            LocalResult::None => (self
                .tz
                .from_local_datetime(&(midnight + TimeDelta::hours(1))))
            .earliest()
            .map_or(DateTime::UNIX_EPOCH, |t| t.with_timezone(&Utc)),
        };
        start + TimeDelta::minutes(hour * 60 + minute)
    }

    /// The home's collector lines in posting order.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        self.for_each_line(|line| lines.push(line.to_string()));
        lines
    }

    /// Hands each line to `f` in posting order (a long home without holding its lines): per
    /// step a 100 header, a 120 status, a 140 meter line if any, and a 130 line per inverter
    /// while the sun is up.
    pub fn for_each_line(&self, mut f: impl FnMut(&str)) {
        let faults = self.faults;
        let mut lifetime: Vec<f64> = (0..self.inverters)
            .map(|i| 1000.0 + 37.0 * i as f64)
            .collect();
        let mut meter_kwh = 607.0;
        let mut frozen_line: Option<String> = None;
        let step = i64::from(self.step_minutes.max(1));
        let hours_per_step = step as f64 / 60.0;
        let mut line = String::new();
        for day in 0..self.days {
            // Until the next local midnight: 23 or 25 hours on the days clocks change.
            let next = self.local(day + 1, 0, 0);
            for minutes in (0..25 * 60).step_by(step as usize) {
                let t = self.local(day, 0, minutes);
                if t >= next {
                    break;
                }
                let hour = minutes as f64 / 60.0;
                if faults.silent_supervisor && day == 6 && (9.0..15.0).contains(&hour) {
                    continue;
                }
                let stamp = ts(t);
                line.clear();
                line.push_str(&format!(
                    "100\tSPMS\t10\t{SUPERVISOR}\t{}",
                    ts(t + TimeDelta::seconds(25))
                ));
                f(&line);
                f(&format!("120\t{stamp}\t{SUPERVISOR}\t0"));
                let sun = if (6.0..20.0).contains(&hour) {
                    (std::f64::consts::PI * (hour - 6.0) / 14.0).sin() * (self.weather)(day)
                } else {
                    0.0
                };
                let mut production = 0.0;
                let mut inverter_lines = Vec::new();
                for (i, kwh) in lifetime.iter_mut().enumerate() {
                    if sun <= 0.0 {
                        break;
                    }
                    let mut kw = 0.25 * sun * (0.95 + 0.01 * (i % 10) as f64);
                    if faults.weak_panel && i == 3 && (1..=5).contains(&day) {
                        kw *= 0.3;
                    }
                    if faults.reports_zero && i == 7 && day == 4 {
                        kw = 0.0;
                    }
                    *kwh += kw * hours_per_step;
                    production += kw;
                    let silent = faults.stops_reporting
                        && i == 5
                        && ((day == 2 && hour >= 12.0) || day == 3 || day == 4);
                    if silent {
                        continue;
                    }
                    let mut counter = *kwh;
                    if faults.zero_counter && i == 9 && day == 1 && minutes == 12 * 60 {
                        counter = 0.0;
                    }
                    let line = format!(
                        "130\t{stamp}\t{}\tAC_Module_Type_C\t\t{counter:.4}\t{kw:.4}",
                        Home::serial(i)
                    );
                    if faults.frozen_time && i == 8 && day == 2 && (10.0..13.0).contains(&hour) {
                        // The supervisor keeps sending the 10:00 reading, as it was.
                        inverter_lines.push(frozen_line.get_or_insert(line).clone());
                        continue;
                    }
                    inverter_lines.push(line);
                }
                if self.meter {
                    // The house: 0.4 kW, 1.5 kW in the evening.
                    let load = if (17.0..22.0).contains(&hour) {
                        1.5
                    } else {
                        0.4
                    };
                    let net = load - production;
                    meter_kwh += net * hours_per_step;
                    f(&format!(
                        "140\t{stamp}\tPVS5M508095c\tPVS5M0400c\t125\t{meter_kwh:.4}\t{net:.4}\t0\t0\t1\t60.0\t0"
                    ));
                }
                for line in &inverter_lines {
                    f(line);
                }
            }
        }
    }
}

fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y%m%d%H%M%S").to_string()
}
