//! The health stage's battery and flash wear findings on `/vars` documents, polled every five
//! minutes as a supervisor with a SunVault answers them: an inverter, the site totals' time, a
//! battery's state of health, the flash wear.
#![cfg(all(feature = "varserver", feature = "intervals"))]

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use sunpower_proto::health::{Device, Finding, HealthConfig, HealthStages, Kind, Severity, Status};
use sunpower_proto::intervals::IntervalConfig;
use sunpower_proto::parse_vars;

const BATTERY: &str = "BC2303001234";

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 8, 0, 0).unwrap()
}

fn poll_time(poll: i64) -> DateTime<Utc> {
    start() + TimeDelta::minutes(5 * poll)
}

/// One poll's document: the supervisor's serial and time, an inverter, the flash wear when
/// given, and the battery with its state of health (a fraction, as the varserver sends it) when
/// it answers.
fn document(poll: i64, soh: Option<f64>, wear: Option<&str>) -> String {
    let t = poll_time(poll);
    let eps = t.format("%Y-%m-%dT%H:%M:%SZ");
    let mut doc = format!(
        r#"{{"/sys/info/serialnum": "ZT01",
        "/sys/livedata/time": "{}",
        "/sys/devices/inverter/0/sn": "E00123456789",
        "/sys/devices/inverter/0/msmtEps": "{eps}",
        "/sys/devices/inverter/0/ltea3phsumKwh": "{:.3}",
        "/sys/devices/inverter/0/p3phsumKw": "0.2""#,
        t.timestamp(),
        1000.0 + poll as f64 * 0.016,
    );
    if let Some(wear) = wear {
        doc.push_str(&format!(r#", "/sys/pvs/flashwear_type_b": "{wear}""#));
    }
    if let Some(soh) = soh {
        doc.push_str(&format!(
            r#", "/sys/devices/ess/0/sn": "{BATTERY}",
            "/sys/devices/ess/0/msmtEps": "{eps}",
            "/sys/devices/ess/0/socVal": "0.5",
            "/sys/devices/ess/0/sohVal": "{soh}""#
        ));
    }
    doc.push('}');
    doc
}

/// The findings of these documents through the stages every front end runs.
fn health(documents: impl IntoIterator<Item = String>) -> Vec<Finding> {
    let mut stages = HealthStages::new(
        IntervalConfig::documents(),
        HealthConfig::default(),
        chrono_tz::UTC,
    );
    let mut found = Vec::new();
    for doc in documents {
        let vars = parse_vars(doc).unwrap();
        stages.add_vars(&vars);
        found.extend(stages.take_findings());
    }
    found.extend(stages.finish());
    found
}

fn of_kind(found: &[Finding], kind: Kind) -> Vec<&Finding> {
    found.iter().filter(|f| f.kind == kind).collect()
}

#[test]
fn a_falling_state_of_health_is_found_on_its_battery_at_its_time() {
    // 95 % for a day of polls, then 88 % (7 points under the best) from poll 288 on.
    let found = health((0..400).map(|poll| {
        let soh = if poll < 288 { 0.95 } else { 0.88 };
        document(poll, Some(soh), None)
    }));
    let soh = of_kind(&found, Kind::BatterySohFalling);
    assert_eq!(soh.len(), 1, "{found:#?}");
    let f = soh[0];
    assert_eq!((f.status, f.severity), (Status::Fault, Severity::Warning));
    assert_eq!(f.device, Some(Device::battery(BATTERY)));
    assert_eq!(f.start, poll_time(288));
    // Established at its third falling reading.
    assert_eq!(f.end, poll_time(290));
    assert_eq!((f.evidence.value, f.evidence.samples), (Some(88.0), 3));
    assert!(f.evidence_text().contains("88%"), "{}", f.evidence_text());
    // Nothing else: the battery reported throughout, the flash wear was never given.
    assert_eq!(found.len(), 1, "{found:#?}");
}

#[test]
fn a_steady_or_slightly_noisy_state_of_health_is_no_finding() {
    let steady = health((0..400).map(|poll| document(poll, Some(0.95), None)));
    assert_eq!(steady, []);
    // Within the drop: 95 % then 91 %, back and forth.
    let noisy = health((0..400).map(|poll| {
        let soh = if poll % 7 == 0 { 0.91 } else { 0.95 };
        document(poll, Some(soh), None)
    }));
    assert_eq!(noisy, []);
    // One odd reading far under is not a fault either (three in a row are).
    let odd = health((0..400).map(|poll| {
        let soh = if poll == 200 { 0.5 } else { 0.95 };
        document(poll, Some(soh), None)
    }));
    assert_eq!(odd, []);
}

#[test]
fn a_state_of_health_under_the_floor_is_found_and_recovers_when_it_reads_over_it() {
    // A battery first seen at 68 %: no better reading, but under the 70 % floor.
    let found = health((0..100).map(|poll| {
        let soh = if poll < 50 { 0.68 } else { 0.9 };
        document(poll, Some(soh), None)
    }));
    let soh = of_kind(&found, Kind::BatterySohFalling);
    assert_eq!(soh.len(), 2, "{found:#?}");
    assert_eq!((soh[0].status, soh[0].start), (Status::Fault, poll_time(0)));
    assert_eq!(
        (soh[1].status, soh[1].severity),
        (Status::Recovered, Severity::Info)
    );
    assert_eq!((soh[1].start, soh[1].end), (poll_time(0), poll_time(50)));
    assert_eq!(
        (soh[1].evidence.value, soh[1].evidence.samples),
        (Some(68.0), 50)
    );
}

#[test]
fn a_battery_missing_from_later_polls_stops_reporting_and_recovers_when_back() {
    // Present for polls 0..100, gone for 100..160 (five hours), back from 160.
    let found = health((0..200).map(|poll| {
        let soh = (!(100..160).contains(&poll)).then_some(0.95);
        document(poll, soh, None)
    }));
    let silent = of_kind(&found, Kind::BatteryNotReporting);
    assert_eq!(silent.len(), 2, "{found:#?}");
    let (fault, back) = (silent[0], silent[1]);
    assert_eq!(fault.status, Status::Fault);
    assert_eq!(fault.device, Some(Device::battery(BATTERY)));
    assert_eq!(fault.device_name(), BATTERY);
    // From its last reading; established two hours later (poll 99 + 24 polls), in the
    // documents that went on without it.
    assert_eq!(fault.start, poll_time(99));
    assert_eq!(fault.end, poll_time(99 + 24));
    assert_eq!(fault.evidence.samples, 24);
    assert_eq!(back.status, Status::Recovered);
    assert_eq!((back.start, back.end), (poll_time(99), poll_time(160)));
    assert_eq!(back.evidence.samples, 60);
    assert_eq!(found.len(), 2, "{found:#?}");
}

#[test]
fn a_battery_missing_for_less_than_the_silence_or_with_the_whole_supervisor_is_no_finding() {
    // An hour without it: under the two hours.
    let short = health((0..200).map(|poll| {
        let soh = (!(100..112).contains(&poll)).then_some(0.95);
        document(poll, soh, None)
    }));
    assert_eq!(
        of_kind(&short, Kind::BatteryNotReporting),
        Vec::<&Finding>::new()
    );
    // The whole supervisor silent for six hours (no documents at all): a gap, the battery
    // reporting in the first document after it.
    let silent = health(
        (0..100)
            .chain(172..250)
            .map(|poll| document(poll, Some(0.95), None)),
    );
    assert_eq!(
        of_kind(&silent, Kind::BatteryNotReporting),
        Vec::<&Finding>::new()
    );
    assert_eq!(of_kind(&silent, Kind::Gap).len(), 2, "{silent:#?}");
}

#[test]
fn flash_wear_at_ninety_percent_is_a_finding_and_fifty_none() {
    let worn = health((0..10).map(|poll| document(poll, None, Some("0x09"))));
    assert_eq!(worn.len(), 1, "{worn:#?}");
    let f = &worn[0];
    assert_eq!(
        (f.kind, f.status, f.severity),
        (Kind::FlashWear, Status::Fault, Severity::Warning)
    );
    assert_eq!(f.device_name(), "ZT01");
    assert_eq!(f.device.as_ref().map(|d| d.record_type), Some(120));
    assert_eq!((f.start, f.evidence.value), (poll_time(0), Some(90.0)));
    assert_eq!(f.evidence_text(), "flash 90% worn, in 1 reading");

    let fine = health((0..10).map(|poll| document(poll, None, Some("0x05"))));
    assert_eq!(fine, []);

    // Past its rated life, then (a replaced board) 10 %: the fault and its recovery.
    let replaced = health(
        (0..10).map(|poll| document(poll, None, Some(if poll < 6 { "0x0B" } else { "0x01" }))),
    );
    assert_eq!(replaced.len(), 2, "{replaced:#?}");
    assert_eq!(
        (replaced[1].kind, replaced[1].status),
        (Kind::FlashWear, Status::Recovered)
    );
    assert_eq!(
        (replaced[1].start, replaced[1].end),
        (poll_time(0), poll_time(6))
    );
    assert_eq!(
        (replaced[1].evidence.samples, replaced[1].evidence.value),
        (6, Some(100.0))
    );
}

#[test]
fn the_real_pvs6_dump_says_its_flash_is_past_its_rated_life_and_nothing_else() {
    // A PVS6 of build 61845 (tests/data/local-api): `flashwear_type_b` 0x0b, past the eMMC's
    // rated life; no battery, one reading of each inverter (nothing to compare over time).
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/local-api/pvs6-61845-varserver-dump.json"
    );
    let found = health([std::fs::read_to_string(path).unwrap()]);
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!((f.kind, f.status), (Kind::FlashWear, Status::Fault));
    assert_eq!(f.device.as_ref().map(|d| d.record_type), Some(120));
    assert_eq!(f.evidence.value, Some(100.0));
    // At the site totals' time, the document's own.
    assert_eq!(
        f.start,
        Utc.with_ymd_and_hms(2025, 9, 30, 15, 58, 22).unwrap()
    );
}

#[test]
fn usual_ageing_is_no_finding_until_the_floor() {
    // One poll a day (every 288th), the state of health losing a point every ten days: never
    // more than 3 points within the 30 days' window. From 100 % to 71 %: nothing; on to 69 %:
    // the floor, from the first day under it (established at its third reading).
    let day = |d: i64| document(288 * d, Some((100.0 - (d / 10) as f64) / 100.0), None);
    let aged = health((0..300).map(day));
    assert_eq!(
        of_kind(&aged, Kind::BatterySohFalling),
        Vec::<&Finding>::new()
    );
    let worn = health((0..320).map(day));
    let soh = of_kind(&worn, Kind::BatterySohFalling);
    assert_eq!(soh.len(), 1, "{soh:#?}");
    assert_eq!(
        (soh[0].start, soh[0].end),
        (poll_time(288 * 310), poll_time(288 * 312))
    );
    assert_eq!(soh[0].evidence.value, Some(69.0));
}
