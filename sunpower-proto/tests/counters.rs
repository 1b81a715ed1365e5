//! Energy from lifetime counters that misbehave (jitter, glitches, resets), from `/vars` polls,
//! from site totals with a battery and from a per-second telemetry stream.
#![cfg(feature = "varserver")]

use sunpower_proto::intervals::{Event, Flag, IntervalAccumulator, IntervalConfig};
use sunpower_proto::{parse_line, parse_vars, SiteTotals, TelemetryDecoder};

/// 130 lines of one inverter every 5 minutes from 2026-06-01 00:00 UTC, one per counter value.
fn inverter_lines(counters: &[&str]) -> Vec<String> {
    counters
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let t = 1_780_272_000 + i as i64 * 300;
            let stamp = chrono::DateTime::from_timestamp(t, 0).unwrap();
            format!("130\t{}\tINV1\tM\t\t{c}\t0", stamp.format("%Y%m%d%H%M%S"))
        })
        .collect()
}

fn run(lines: &[String]) -> (Vec<sunpower_proto::intervals::Interval>, Vec<Event>) {
    let mut acc = IntervalAccumulator::new(IntervalConfig::default());
    for line in lines {
        acc.add(&parse_line(line).unwrap());
    }
    let rows = acc.finish();
    (rows, acc.take_events())
}

fn total_wh(rows: &[sunpower_proto::intervals::Interval]) -> f64 {
    (rows.iter().map(|r| r.production_wh).sum::<f64>() * 1000.0).round() / 1000.0
}

#[test]
fn counter_dipping_a_tenth_of_a_wh_every_other_report_is_jitter_not_144_resets() {
    // A night of 288 reports: 100.0000, 99.9999, 100.0000, ... The counter never rose.
    let counters: Vec<&str> = (0..288)
        .map(|i| if i % 2 == 0 { "100.0000" } else { "99.9999" })
        .collect();
    let (rows, events) = run(&inverter_lines(&counters));
    assert_eq!(total_wh(&rows), 0.0);
    assert_eq!(events, []);
    let jitter = rows
        .iter()
        .filter(|r| r.flags.contains(Flag::CounterJitter))
        .count();
    assert_eq!(jitter, 144);
    assert!(rows.iter().all(|r| !r.flags.contains(Flag::CounterReset)));
}

#[test]
fn jitter_is_held_so_the_rise_after_it_is_counted_once() {
    let (rows, events) = run(&inverter_lines(&[
        "100.0000", "99.9995", "100.0003", "100.0002", "100.0100",
    ]));
    assert_eq!(events, []);
    let wh: Vec<f64> = rows.iter().map(|r| r.production_wh).collect();
    // 0.3 Wh over the held 100.0000, then 9.7 Wh over the held 100.0003: 10 Wh in all, the
    // counter's own rise.
    assert_eq!(wh, [0.0, 0.0, 0.3, 0.0, 9.7]);
    assert_eq!(total_wh(&rows), 10.0);
    assert!(rows[1].flags.contains(Flag::CounterJitter));
    assert!(rows[3].flags.contains(Flag::CounterJitter));
}

#[test]
fn counter_reading_zero_for_one_report_is_a_glitch_and_nothing_is_counted_twice() {
    let (rows, events) = run(&inverter_lines(&[
        "1915.2500",
        "1915.2600",
        "0",
        "1915.2800",
        "1915.2900",
    ]));
    let wh: Vec<f64> = rows.iter().map(|r| r.production_wh).collect();
    assert_eq!(wh, [0.0, 10.0, 0.0, 20.0, 10.0]);
    assert_eq!(total_wh(&rows), 40.0);
    assert!(rows[2].flags.contains(Flag::CounterGlitch));
    assert!(!rows[2].flags.contains(Flag::CounterReset));
    assert!(!rows[3].flags.contains(Flag::MissedReport));
    assert!(matches!(
        &events[..],
        [Event::CounterGlitch { value_kwh, held_kwh, .. }] if *value_kwh == 0.0 && *held_kwh == 1915.26
    ));
}

#[test]
fn replaced_inverter_restarting_near_zero_is_a_reset() {
    let (rows, events) = run(&inverter_lines(&[
        "1915.2500",
        "1915.2600",
        "0.0020",
        "0.0070",
        "0.0120",
    ]));
    let wh: Vec<f64> = rows.iter().map(|r| r.production_wh).collect();
    assert_eq!(wh, [0.0, 10.0, 0.0, 5.0, 5.0]);
    assert!(rows[2].flags.contains(Flag::CounterReset));
    assert!(matches!(
        &events[..],
        [Event::CounterReset { from_kwh, to_kwh, .. }] if *from_kwh == 1915.26 && *to_kwh == 0.002
    ));
}

#[test]
fn a_glitch_seen_live_is_revised_when_the_counter_resumes() {
    let lines = inverter_lines(&["50.0000", "50.0100", "0", "50.0300"]);
    let mut acc = IntervalAccumulator::new(IntervalConfig::streaming());
    let mut rows = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let record = parse_line(line).unwrap();
        let t = record.timestamp().unwrap();
        acc.add(&record);
        rows.extend(acc.advance_to(t + chrono::TimeDelta::minutes(20)));
        if i == 2 {
            // Until the next report, a drop to 0 looks like a reset.
            assert!(rows.last().unwrap().flags.contains(Flag::CounterReset));
        }
    }
    let revised: Vec<_> = rows.iter().filter(|r| r.revised).collect();
    assert_eq!(revised.len(), 1);
    assert!(revised[0].flags.contains(Flag::CounterGlitch));
    assert!(!revised[0].flags.contains(Flag::CounterReset));
    let last = rows.iter().rfind(|r| !r.revised).unwrap();
    assert_eq!(last.production_wh, 20.0);
}

/// A flat `/vars` poll: two inverters, a consumption meter, site totals.
fn poll(msmt: &str, time: i64, inv: [f64; 2], net: f64) -> String {
    format!(
        r#"{{"/sys/livedata/time": "{time}", "/sys/livedata/pv_en": "{pv}",
        "/sys/livedata/net_en": "{net}",
        "/sys/devices/inverter/0/sn": "E001", "/sys/devices/inverter/0/msmtEps": "{msmt}",
        "/sys/devices/inverter/0/ltea3phsumKwh": "{a}",
        "/sys/devices/inverter/1/sn": "E002", "/sys/devices/inverter/1/msmtEps": "{msmt}",
        "/sys/devices/inverter/1/ltea3phsumKwh": "{b}",
        "/sys/devices/meter/1/sn": "PVS6M1c", "/sys/devices/meter/1/msmtEps": "{msmt}",
        "/sys/devices/meter/1/netLtea3phsumKwh": "{net:.3}", "/sys/devices/meter/1/p3phsumKw": "0.5"}}"#,
        pv = 9000.0 + inv[0] + inv[1],
        a = inv[0],
        b = inv[1],
    )
}

#[test]
fn two_vars_polls_five_minutes_apart_give_the_counter_differences() {
    let mut acc = IntervalAccumulator::new(IntervalConfig::default());
    let first = parse_vars(poll(
        "2025-10-02T18:00:00Z",
        1_759_428_000,
        [100.0, 200.0],
        50.0,
    ));
    let second = parse_vars(poll(
        "2025-10-02T18:05:00Z",
        1_759_428_300,
        [100.125, 200.25],
        50.04,
    ));
    acc.add_vars(&first.unwrap());
    acc.add_vars(&second.unwrap());
    let rows = acc.finish();
    let last = rows.last().unwrap();
    assert_eq!(last.production_wh, 375.0); // 125 Wh + 250 Wh: per panel, not pv_en
    assert_eq!(last.net_wh, Some(40.0));
    assert_eq!(last.consumption_wh, Some(415.0));
    assert_eq!(last.inverters_reporting, 2);
    assert!(!last.flags.contains(Flag::ProductionFromSiteTotals));
    assert!(!last.flags.contains(Flag::NetFromSiteTotals));
}

fn site(time: i64, pv: f64, net: f64, ess: Option<f64>, soc: Option<f64>) -> SiteTotals {
    let mut s = SiteTotals::default();
    s.timestamp = chrono::DateTime::from_timestamp(time, 0);
    s.pv_energy_kwh = Some(pv);
    s.net_energy_kwh = Some(net);
    s.battery_energy_kwh = ess;
    s.battery_soc_pct = soc;
    s
}

#[test]
fn with_a_battery_consumption_is_production_plus_net_plus_battery() {
    // Starting from the pypvs sample's totals (40747.871094, 6121.310059, -490.477997).
    let mut acc = IntervalAccumulator::new(IntervalConfig::default());
    acc.add_site_totals(&site(
        1751083200,
        40747.875,
        6121.3125,
        Some(-490.5),
        Some(86.0),
    ));
    acc.add_site_totals(&site(
        1751083500,
        40748.0,
        6121.25,
        Some(-490.25),
        Some(84.0),
    ));
    let rows = acc.finish();
    let row = rows.last().unwrap();
    assert_eq!(row.production_wh, 125.0);
    assert_eq!(row.net_wh, Some(-62.5));
    assert_eq!(row.battery_wh, Some(250.0)); // discharging
    assert_eq!(row.consumption_wh, Some(312.5));
    assert_eq!(row.battery_soc_pct, Some(84.0));
    assert!(row.flags.contains(Flag::ProductionFromSiteTotals));
    assert!(row.flags.contains(Flag::NetFromSiteTotals));
    // A site without a battery has no battery values.
    let mut acc = IntervalAccumulator::new(IntervalConfig::default());
    acc.add_site_totals(&site(1751083200, 10.0, 5.0, None, None));
    acc.add_site_totals(&site(1751083500, 10.5, 5.0, None, None));
    let row = acc.finish().pop().unwrap();
    assert_eq!((row.battery_wh, row.battery_soc_pct), (None, None));
    assert_eq!(row.consumption_wh, Some(500.0));
}

#[test]
fn per_second_telemetry_gives_the_counters_difference_between_its_ends() {
    // Ten minutes of frames, one a second, time in milliseconds; production rises 0.5 Wh a
    // second, the grid exports 0.25 Wh a second.
    let start = 1_759_428_000_i64;
    let mut frames = Vec::new();
    for s in 0..=600 {
        frames.push(format!(
            r#"{{"notification":"power","params":{{"time":{},"pv_en":"{}","net_en":{},"soc":"nan","ess_en":"nan"}}}}"#,
            (start + s) * 1000,
            1000.0 + s as f64 * 0.0005,
            2000.0 - s as f64 * 0.00025,
        ));
        if s % 100 == 0 {
            frames.push(r#"{"notification":"heartbeat"}"#.to_owned());
        }
    }
    let mut decoder = TelemetryDecoder::new();
    let mut acc = IntervalAccumulator::new(
        IntervalConfig::default().with_cadence(chrono::TimeDelta::minutes(5)),
    );
    for frame in &frames {
        if let Some(site) = decoder.decode(frame.as_bytes()).unwrap() {
            acc.add_site_totals(&site);
        }
        // A frame sent twice is counted once.
        if frame.contains("\"time\":1759428300000") {
            let again = decoder.decode(frame.as_bytes()).unwrap().unwrap();
            acc.add_site_totals(&again);
        }
    }
    let stats = decoder.stats();
    assert_eq!((stats.power, stats.other_notifications), (602, 7));
    assert_eq!(acc.stats().duplicates, 1);
    let rows = acc.finish();
    let production: f64 = rows.iter().map(|r| r.production_wh).sum();
    let net: f64 = rows.iter().map(|r| r.net_wh.unwrap()).sum();
    assert_eq!((production * 1000.0).round() / 1000.0, 300.0);
    assert_eq!((net * 1000.0).round() / 1000.0, -150.0);
    // The frame at 18:00:00 ends 17:55-18:00 (its counters were read then), the frames after
    // it fill 18:00-18:05 and 18:05-18:10 with 300 steps each.
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].interval_start.timestamp(), start - 300);
    assert_eq!(rows[0].production_wh, 0.0);
    assert_eq!(rows[1].production_wh, 150.0);
}

#[test]
fn colliding_serials_are_flagged_and_never_mixed() {
    let doc = |msmt: &str, a: f64, b: f64, c: f64| {
        format!(
            r#"{{"/sys/devices/inverter/0/sn": "E00123456789", "/sys/devices/inverter/0/msmtEps": "{msmt}",
            "/sys/devices/inverter/0/ltea3phsumKwh": "{a}",
            "/sys/devices/inverter/1/sn": "E00123456789", "/sys/devices/inverter/1/msmtEps": "{msmt}",
            "/sys/devices/inverter/1/ltea3phsumKwh": "{b}",
            "/sys/devices/inverter/2/sn": "E00121950014152", "/sys/devices/inverter/2/msmtEps": "{msmt}",
            "/sys/devices/inverter/2/ltea3phsumKwh": "{c}"}}"#
        )
    };
    let mut acc = IntervalAccumulator::new(IntervalConfig::default());
    acc.add_vars(&parse_vars(doc("2025-09-30T15:50:00Z", 1915.0, 2732.0, 2244.0)).unwrap());
    acc.add_vars(&parse_vars(doc("2025-09-30T15:55:00Z", 1915.1, 2732.2, 2244.3)).unwrap());
    let rows = acc.finish();
    let last = rows.last().unwrap();
    // Only the panel with its own serial is counted; the shared serial never mixes 1915 and
    // 2732 into one counter (which would read as resets and phantom energy).
    assert_eq!(last.production_wh, 300.0);
    assert_eq!(last.inverters_reporting, 1);
    assert!(last.flags.contains(Flag::SerialCollision));
    assert!(!last.flags.contains(Flag::CounterReset));
    let events = acc.take_events();
    assert!(matches!(
        &events[..],
        [Event::SerialCollision { serial, devices: 2, .. }] if serial == "E00123456789"
    ));
    assert_eq!(acc.stats().serial_collisions, 4);
}

/// A telemetry `power` frame: `time` in seconds, production counter and power.
fn frame(time: i64, pv_en: f64, pv_p: f64) -> String {
    format!(
        r#"{{"notification":"power","params":{{"time":{time},"pv_en":{pv_en},"pv_p":{pv_p}}}}}"#
    )
}

/// Telemetry frames through the decoder into a documents accumulator (as `--telemetry FILE`).
fn telemetry(
    frames: &[String],
) -> (
    Vec<sunpower_proto::intervals::Interval>,
    IntervalAccumulator,
) {
    let mut decoder = TelemetryDecoder::new();
    let mut acc = IntervalAccumulator::new(IntervalConfig::documents());
    for f in frames {
        if let Some(site) = decoder.decode(f.as_bytes()).unwrap() {
            acc.add_site_totals(&site);
        }
    }
    (acc.finish(), acc)
}

/// Ten minutes at one frame a second from 2025-10-02 18:00 UTC, 1.8 kW (0.5 Wh a second).
fn ten_minutes() -> Vec<String> {
    (0..=600)
        .map(|s| frame(1_759_428_000 + s, 1000.0 + s as f64 * 0.0005, 1.8))
        .collect()
}

#[test]
fn a_far_future_telemetry_time_moves_no_horizon_and_is_reported() {
    // Issue 25: `time` 99999999999 (year 5138) used to fold every reading before it and refuse
    // the 600 frames after it.
    for at in [0, 1, 300] {
        let mut frames = ten_minutes();
        frames.insert(at, frame(99_999_999_999, 1000.1, 1.8));
        let (rows, mut acc) = telemetry(&frames);
        assert_eq!(total_wh(&rows), 300.0, "far frame at {at}");
        assert!(rows
            .iter()
            .all(|r| r.interval_start.timestamp() < 1_759_429_000));
        assert_eq!(acc.stats().beyond_horizon, 0);
        assert_eq!(acc.stats().implausible_times, 1);
        assert!(matches!(
            &acc.take_events()[..],
            [Event::ImplausibleTime { record_type: 0, timestamp, .. }] if timestamp.timestamp() == 99_999_999_999
        ));
    }
}

#[test]
fn an_inverter_dated_year_9000_between_three_vars_polls_costs_only_its_own_reading() {
    let polls = [
        poll("2025-10-02T18:00:00Z", 1_759_428_000, [100.0, 200.0], 50.0),
        poll(
            "2025-10-02T18:05:00Z",
            1_759_428_300,
            [100.125, 200.25],
            50.04,
        )
        .replacen("2025-10-02T18:05:00Z", "9000-01-01T00:00:00Z", 1),
        poll(
            "2025-10-02T18:10:00Z",
            1_759_428_600,
            [100.25, 200.5],
            50.08,
        ),
    ];
    let mut acc = IntervalAccumulator::new(IntervalConfig::documents());
    for p in &polls {
        acc.add_vars(&parse_vars(p).unwrap());
    }
    let rows = acc.finish();
    // E001's 250 Wh over ten minutes (counted at 18:10), E002's 250 + 250 Wh.
    assert_eq!(total_wh(&rows), 750.0);
    assert!(rows
        .iter()
        .all(|r| r.interval_start.timestamp() < 1_759_429_000));
    assert_eq!(acc.stats().implausible_times, 1);
    assert!(matches!(
        &acc.take_events()[..],
        [Event::ImplausibleTime { record_type: 130, serial, .. }] if serial == "E001"
    ));
}

#[test]
fn a_frame_at_time_zero_is_not_a_time_and_a_first_zero_counter_is_not_a_start() {
    // Issue 25: a first frame with `time` 0 and `pv_en` 0 made 27,867,650 Wh and 1970 rows.
    let mut frames = vec![frame(0, 0.0, 0.0)];
    frames.extend((0..=600).map(|s| frame(1_759_428_000 + s, 27867.65 + s as f64 * 0.0005, 1.8)));
    let (rows, mut acc) = telemetry(&frames);
    assert_eq!(total_wh(&rows), 300.0);
    // The frame at 18:00:00 ends 17:55-18:00 (issue 22).
    assert!(rows
        .iter()
        .all(|r| r.interval_start.timestamp() >= 1_759_427_700));
    assert_eq!(acc.stats().implausible_times, 1);
    assert!(matches!(
        &acc.take_events()[..],
        [Event::ImplausibleTime { .. }]
    ));
    // A counter that reads 0 once at the start of a stream is a glitch, not a reset from 0.
    let mut frames = vec![frame(1_759_427_999, 0.0, 1.8)];
    frames.extend(ten_minutes());
    let (rows, mut acc) = telemetry(&frames);
    assert_eq!(total_wh(&rows), 300.0);
    assert!(rows.iter().all(|r| !r.flags.contains(Flag::CounterReset)));
    assert!(acc.take_events().is_empty());
}

#[test]
fn a_one_report_upward_spike_is_a_glitch_not_energy() {
    let (rows, events) = run(&inverter_lines(&[
        "100.000", "100.025", "100.225", "100.050", "100.075",
    ]));
    let wh: Vec<f64> = rows.iter().map(|r| r.production_wh).collect();
    assert_eq!(wh, [0.0, 25.0, 0.0, 25.0, 25.0]);
    assert!(rows[2].flags.contains(Flag::CounterGlitch));
    assert!(rows.iter().all(|r| !r.flags.contains(Flag::CounterReset)));
    assert!(matches!(
        &events[..],
        [Event::CounterGlitch { value_kwh, held_kwh, .. }] if *value_kwh == 100.225 && *held_kwh == 100.025
    ));
    // The same spike at one frame a second in the site totals.
    let mut frames = ten_minutes();
    frames[300] = frame(1_759_428_300, 1000.15 + 0.2, 1.8);
    let (rows, _) = telemetry(&frames);
    assert_eq!(total_wh(&rows), 300.0);
    assert!(rows.iter().all(|r| !r.flags.contains(Flag::CounterReset)));
}

#[test]
fn a_jump_far_beyond_the_system_s_power_is_not_energy() {
    // 1.8 kW of panels cannot make 200 Wh in a second (720 kW); 1 MW was the only limit.
    let frames: Vec<String> = (0..=600)
        .map(|s| {
            let jump = if s >= 300 { 0.2 } else { 0.0 };
            frame(1_759_428_000 + s, 1000.0 + s as f64 * 0.0005 + jump, 1.8)
        })
        .collect();
    let (rows, mut acc) = telemetry(&frames);
    assert_eq!(total_wh(&rows), 299.5);
    assert!(rows.iter().any(|r| r.flags.contains(Flag::CounterReset)));
    assert!(matches!(
        &acc.take_events()[..],
        [Event::SiteCounterReset {
            counter: "pv_en",
            ..
        }]
    ));
}
