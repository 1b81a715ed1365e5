//! The health stage on generated homes: ten micro-inverters under a sun-shaped curve over local
//! days in Los Angeles, lifetime counters consistent with their power, a supervisor posting every
//! five minutes day and night; with planted faults, each must be found on its device and days,
//! with its recovery, and nothing else; without them (cloudy days included) nothing at all.
#![cfg(feature = "intervals")]

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use sunpower_proto::health::{Finding, Health, HealthConfig, Kind, Severity, Status};
use sunpower_proto::intervals::{local_date, local_day_start, IntervalAccumulator, IntervalConfig};
use sunpower_proto::parse_line;
use sunpower_testkit::home::{Faults, Home};

const TZ: chrono_tz::Tz = chrono_tz::America::Los_Angeles;
const INVERTERS: usize = 10;
const DAYS: u32 = 9;

/// The generated home of these tests: ten inverters, nine days from 1 June 2026.
fn spec() -> Home {
    Home::new(NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(), DAYS)
}

fn date(day: u32) -> NaiveDate {
    spec().date(day)
}

/// Local time `hh:mm` of generated day `day`, in UTC.
fn local(day: u32, hour: i64, minute: i64) -> DateTime<Utc> {
    spec().local(day, hour, minute)
}

fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y%m%d%H%M%S").to_string()
}

/// The home's collector lines in posting order (`sunpower_testkit::home`). `weather` scales
/// each day's sun (cloud: all panels alike).
fn home(faults: Faults, weather: fn(u32) -> f64) -> Vec<String> {
    Home {
        faults,
        weather,
        ..spec()
    }
    .lines()
}

/// Runs the records through the interval stage and the health stage, as `sunpower health` does.
fn findings(lines: &[String]) -> Vec<Finding> {
    let mut acc = IntervalAccumulator::new(IntervalConfig::documents());
    let mut health = Health::new(HealthConfig::default(), TZ);
    for line in lines {
        let record = parse_line(line).unwrap();
        acc.add(&record);
        health.add(&record);
    }
    acc.finish();
    for event in acc.take_events() {
        health.add_event(&event);
    }
    health.finish()
}

fn sunny(_: u32) -> f64 {
    1.0
}

/// Sunny, but days 7 and 8 overcast (every panel at 20 %, then 8 %).
fn cloudy_end(day: u32) -> f64 {
    match day {
        7 => 0.2,
        8 => 0.08,
        _ => 1.0,
    }
}

fn one(found: &[Finding], kind: Kind, status: Status, device: &str) -> Finding {
    let matching: Vec<&Finding> = found
        .iter()
        .filter(|f| f.kind == kind && f.status == status && f.device_name() == device)
        .collect();
    assert_eq!(
        matching.len(),
        1,
        "{kind} {status:?} on {device}: {found:#?}"
    );
    matching[0].clone()
}

/// Local hours of `t` on generated day `day`.
fn hours_into(day: u32, t: DateTime<Utc>) -> f64 {
    assert_eq!(local_date(t, TZ), date(day), "{t} is not on day {day}");
    (t - local_day_start(date(day), TZ)).num_seconds() as f64 / 3600.0
}

#[test]
fn planted_faults_are_found_on_their_devices_and_days_with_their_recoveries() {
    let found = findings(&home(Faults::all(), cloudy_end));
    for f in &found {
        eprintln!("{f}");
    }

    let weak = one(&found, Kind::Underperforming, Status::Fault, "INV03");
    assert_eq!((weak.start, weak.end), (local(1, 0, 0), local(4, 0, 0)));
    assert_eq!((weak.evidence.days, weak.severity), (3, Severity::Warning));
    let ratio = weak.evidence.produced_kw.unwrap() / weak.evidence.peers_median_kw.unwrap();
    assert!((0.28..0.32).contains(&ratio), "{ratio}");
    assert!(weak.evidence.samples > 3 * 100, "{:?}", weak.evidence);
    assert_eq!(weak.evidence.bad_samples, weak.evidence.samples);
    let back = one(&found, Kind::Underperforming, Status::Recovered, "INV03");
    assert_eq!((back.start, back.end), (local(1, 0, 0), local(6, 0, 0)));
    assert_eq!(back.evidence.days, 5);

    let gone = one(&found, Kind::NotReporting, Status::Fault, "INV05");
    assert_eq!(gone.start, local(2, 12, 0));
    assert_eq!(gone.severity, Severity::Critical);
    assert_eq!(gone.evidence.produced_kw, None);
    assert!(hours_into(3, gone.end) > 19.0, "{gone}");
    let back = one(&found, Kind::NotReporting, Status::Recovered, "INV05");
    assert_eq!(back.start, local(2, 12, 0));
    let h = hours_into(5, back.end);
    assert!((6.0..7.0).contains(&h), "{back}");
    // Two and a half days of daylight, nights not counted.
    assert!((300..=420).contains(&back.evidence.samples), "{back}");

    let zero = one(&found, Kind::ReportingZero, Status::Fault, "INV07");
    assert!((6.0..7.0).contains(&hours_into(4, zero.start)), "{zero}");
    assert_eq!(zero.evidence.produced_kw, Some(0.0));
    let back = one(&found, Kind::ReportingZero, Status::Recovered, "INV07");
    assert_eq!(back.start, zero.start);
    assert!((6.0..7.0).contains(&hours_into(5, back.end)), "{back}");

    let stale = one(&found, Kind::Stale, Status::Fault, "INV08");
    assert_eq!(stale.start, local(2, 10, 0));
    // Found at 10:40, when the post's header was sent.
    assert_eq!(stale.end, local(2, 10, 40) + TimeDelta::seconds(25));
    assert_eq!(stale.evidence.samples, 3);
    let back = one(&found, Kind::Stale, Status::Recovered, "INV08");
    assert_eq!((back.start, back.end), (local(2, 10, 0), local(2, 13, 0)));
    // Readings from 10:30 (30 minutes on) to 12:55, each five minutes.
    assert_eq!(back.evidence.samples, 30);

    let gap = one(&found, Kind::Gap, Status::Fault, "supervisor");
    assert_eq!((gap.start, gap.end), (local(6, 8, 55), local(6, 15, 0)));
    let back = one(&found, Kind::Gap, Status::Recovered, "supervisor");
    assert_eq!((back.start, back.end), (gap.start, gap.end));

    let glitch = one(&found, Kind::CounterGlitch, Status::Fault, "INV09");
    assert_eq!(
        (glitch.start, glitch.end),
        (local(1, 12, 0), local(1, 12, 0))
    );
    assert_eq!(glitch.evidence.samples, 1);

    assert_eq!(found.len(), 11, "{found:#?}");
}

#[test]
fn a_home_without_faults_flags_nothing_on_sunny_or_cloudy_days() {
    let weather = |day: u32| [1.0, 0.2, 0.35, 0.08, 1.0, 0.5, 0.12, 1.0, 0.25][day as usize];
    assert_eq!(findings(&home(Faults::default(), weather)), []);
    assert_eq!(findings(&home(Faults::default(), sunny)), []);
}

#[test]
fn findings_come_out_as_days_complete_and_the_same_each_time() {
    let lines = home(Faults::all(), sunny);
    let mut health = Health::new(HealthConfig::default(), TZ);
    let mut early = Vec::new();
    for line in &lines {
        let record = parse_line(line).unwrap();
        health.add(&record);
        // Day 4 is judged a day after it ends: by day 6 the weak panel of days 1-3 is known.
        if record.timestamp() == Some(local(6, 0, 0)) && early.is_empty() {
            early = health.take_findings();
        }
    }
    assert!(early
        .iter()
        .any(|f| f.kind == Kind::Underperforming && f.status == Status::Fault));
    let mut all = early;
    all.extend(health.finish());
    assert_eq!(health.late_readings(), 0);
    // The same as fed at once (no counter events here: they come from the intervals).
    let mut again = findings(&lines);
    again.retain(|f| f.kind != Kind::CounterGlitch);
    assert_eq!(all, again);
}

#[test]
fn dead_after_a_set_number_of_samples() {
    let config = HealthConfig::default().with_dead_samples(12);
    let mut health = Health::new(config, TZ);
    for line in home(Faults::all(), sunny) {
        health.add(&parse_line(&line).unwrap());
    }
    let found = health.finish();
    // An hour of daylight: INV05 from 12:00 is dead at 12:55; the frozen INV08 (no new
    // measurement from 10:05 to 12:55, 35 samples) is stale, still sending: not dead.
    let gone = one(&found, Kind::NotReporting, Status::Fault, "INV05");
    assert_eq!((gone.start, gone.end), (local(2, 12, 0), local(2, 12, 55)));
    let back = one(&found, Kind::NotReporting, Status::Recovered, "INV05");
    assert_eq!(local_date(back.end, TZ), date(5));
    one(&found, Kind::Stale, Status::Fault, "INV08");
    assert!(!found
        .iter()
        .any(|f| f.kind == Kind::NotReporting && f.device_name() == "INV08"));
}

#[test]
fn odd_input_never_panics() {
    let mut health = Health::new(HealthConfig::default(), TZ);
    for t in [
        DateTime::<Utc>::MIN_UTC,
        DateTime::<Utc>::MAX_UTC,
        DateTime::UNIX_EPOCH,
    ] {
        for p in [f64::NAN, f64::INFINITY, -1.0, 0.0, 1e300] {
            health.add_reading(&sunpower_proto::health::InverterReading::new(
                "X",
                t,
                Some(p),
                Some(p),
            ));
            health.add_activity(t);
        }
    }
    let _ = health.finish();
    // The readings at the ends of time.
    assert_eq!(health.late_readings(), 2 * 5);

    // Past 4,096 serials, further ones are counted, not followed.
    let mut health = Health::new(HealthConfig::default(), TZ);
    for i in 0..5000 {
        let serial = format!("S{i}");
        let reading =
            sunpower_proto::health::InverterReading::new(&serial, local(0, 12, 0), Some(0.2), None);
        health.add_reading(&reading);
    }
    assert_eq!(health.late_readings(), 5000 - 4096);
    assert_eq!(health.finish(), []);
}

#[test]
fn a_replayed_post_or_an_old_backlog_is_not_stale() {
    let mut lines = home(Faults::default(), sunny);
    let noon = ts(local(2, 12, 0));
    let post: Vec<String> = lines
        .iter()
        .filter(|l| l.starts_with("130\t") && l.contains(&noon))
        .cloned()
        .collect();
    let morning = ts(local(2, 9, 0));
    let backlog: Vec<String> = lines
        .iter()
        .filter(|l| l.starts_with("130\t") && l.contains(&morning))
        .cloned()
        .collect();
    assert_eq!((post.len(), backlog.len()), (INVERTERS, INVERTERS));
    // After the 12:00 post: a status stamped 12:40, then the 12:00 post again (once), and the
    // 09:00 readings replayed three times.
    let at = lines.iter().rposition(|l| l.contains(&noon)).unwrap() + 1;
    let mut extra = vec![format!(
        "120\t{}\tZT163785000441C0593\t0",
        ts(local(2, 12, 40))
    )];
    extra.extend(post);
    for _ in 0..3 {
        extra.extend(backlog.iter().cloned());
    }
    lines.splice(at..at, extra);
    assert_eq!(findings(&lines), []);
}

#[test]
fn hourly_polls_are_not_gaps_but_six_silent_hours_are() {
    let mut health = Health::new(HealthConfig::default(), TZ);
    for hour in (0..48).filter(|h| !(30..36).contains(h)) {
        health.add_activity(local(0, hour, 0));
    }
    let found = health.finish();
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_eq!((found[0].kind, found[0].status), (Kind::Gap, Status::Fault));
    assert_eq!(
        (found[0].start, found[0].end),
        (local(0, 29, 0), local(0, 36, 0))
    );
}

/// A supervisor's 120 lines every five minutes for `days` days, its communication error counter
/// rising `per_day(day)` errors a day, evenly.
fn supervisor_days(days: u32, per_day: &dyn Fn(u32) -> f64) -> Vec<String> {
    let mut lines = Vec::new();
    let mut errors = 431.0;
    for day in 0..days {
        for step in 0..288 {
            let t = local(day, 0, 5 * step);
            errors += per_day(day) / 288.0;
            lines.push(format!(
                "120\t{}\tZT163785000441C0593\t0\t{}\t0\t0\t0\t1204611\t0.2\t24969\t12408",
                ts(t),
                errors.floor()
            ));
        }
    }
    lines
}

#[test]
fn communication_errors_rising_faster_than_usual_are_found_and_their_end() {
    // 23 errors a day (the sample's rate), 400 on days 5 and 6, then usual again.
    let lines = supervisor_days(9, &|day| if (5..=6).contains(&day) { 400.0 } else { 23.0 });
    let found = findings(&lines);
    assert_eq!(found.len(), 2, "{found:#?}");
    let fault = one(
        &found,
        Kind::CommErrors,
        Status::Fault,
        "ZT163785000441C0593",
    );
    assert_eq!(fault.start, local(5, 0, 0));
    assert_eq!(fault.device.as_ref().unwrap().record_type, 120);
    assert_eq!(fault.severity, Severity::Warning);
    assert!((395..=401).contains(&fault.evidence.samples), "{fault:?}");
    assert!(
        fault.evidence_text().contains("where 2"),
        "{}",
        fault.evidence_text()
    );
    let back = one(
        &found,
        Kind::CommErrors,
        Status::Recovered,
        "ZT163785000441C0593",
    );
    assert_eq!(back.start, local(5, 0, 0));
    assert_eq!(local_date(back.end, TZ), date(7));
    assert_eq!(back.evidence.days, 2);

    // A steady rate, a doubled one, a reboot (the counter back to 0) and a short first day:
    // nothing.
    assert_eq!(
        findings(&supervisor_days(9, &|day| 23.0 + 23.0 * f64::from(day % 2))),
        []
    );
    let mut rebooted = supervisor_days(6, &|_| 470.0);
    for line in &mut rebooted[4 * 288 + 100..] {
        let mut fields: Vec<String> = line.split('\t').map(String::from).collect();
        let count: f64 = fields[4].parse().unwrap();
        fields[4] = format!("{}", (count - 2300.0).max(0.0));
        *line = fields.join("\t");
    }
    assert_eq!(findings(&rebooted), []);
}

#[test]
fn two_snapshots_days_apart_are_not_a_gap() {
    // Two saved documents' records, minutes apart within each, 18 days apart (the shipped
    // DeviceList and /vars samples read together).
    let mut health = Health::new(HealthConfig::default(), TZ);
    for (day, minutes) in [(0, [0, 1, 10]), (18, [0, 3, 4])] {
        for m in minutes {
            health.add_activity(local(day, 14, m));
        }
    }
    assert_eq!(health.finish(), []);
}

#[test]
fn a_hostile_error_counter_never_panics() {
    // The counter jumping between 0 and the largest value every five minutes for days.
    let mut lines = Vec::new();
    for day in 0..6 {
        for step in 0..288 {
            let count = if step % 2 == 0 { u64::MAX } else { 0 };
            lines.push(format!(
                "120\t{}\tZT1\t0\t{count}",
                ts(local(day, 0, 5 * step))
            ));
        }
    }
    for f in findings(&lines) {
        assert!(
            f.start <= f.end && f.evidence.bad_samples <= f.evidence.samples,
            "{f}"
        );
    }
}
