//! Interval energy end to end: records as text lines -> accumulator -> rows, totals, formats.
//! Every expectation is computed by hand in the comments.
#![cfg(feature = "intervals")]

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::America::Los_Angeles;
use proptest::prelude::*;
use sunpower_proto::intervals::{
    totals, Added, Event, Flag, Interval, IntervalAccumulator, IntervalConfig, NetSource, Period,
};
use sunpower_proto::{export, parse_line, Body};

/// A full-form (15-field) 130 line.
fn inv(ts: &str, serial: &str, kwh: &str) -> String {
    format!(
        "130\t{ts}\t{serial}\tAC_Module_Type_C\t\t{kwh}\t0.25\t245.1\t1.0\t0.26\t59.1\t4.4\t30\t60\t0"
    )
}

/// A 140 line of the consumption meter.
fn meter(ts: &str, kwh: &str, kw: &str) -> String {
    format!("140\t{ts}\tPVS5M508095c\tPVS5M0400c\t125\t{kwh}\t{kw}\t0.7\t1.3\t0.5\t60\t0")
}

/// Wraps lines in a post body (header and trailer included) and feeds every record.
fn feed(acc: &mut IntervalAccumulator, lines: &[String]) {
    let mut body = String::from("100\tSPMS\t10\tZT01\t20260601170925\n");
    for line in lines {
        body.push_str(line);
        body.push('\n');
    }
    body.push_str("102\t51oeIKDhOUeah8+9ZCME\n");
    for record in Body::new(body.as_bytes()).records() {
        acc.add(&record.unwrap());
    }
}

fn offline(lines: &[String]) -> Vec<Interval> {
    let mut acc = IntervalAccumulator::new(IntervalConfig::default());
    feed(&mut acc, lines);
    acc.finish()
}

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y%m%d%H%M%S").to_string()
}

fn approx(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

/// Two inverters and a meter (whole-kWh counter), 17:00 to 17:15 UTC.
fn clean_day() -> Vec<String> {
    vec![
        inv("20260601170000", "A", "10.000"),
        inv("20260601170000", "B", "20.000"),
        meter("20260601170000", "607", "0.5"),
        inv("20260601170500", "A", "10.020"),
        inv("20260601170500", "B", "20.010"),
        meter("20260601170500", "607", "0.2"),
        inv("20260601171000", "A", "10.045"),
        inv("20260601171000", "B", "20.030"),
        meter("20260601171000", "607", "-0.1"),
        inv("20260601171500", "A", "10.070"),
        inv("20260601171500", "B", "20.050"),
        meter("20260601171500", "607", "-0.3"),
    ]
}

#[test]
fn clean_day_gives_production_net_and_consumption_per_interval() {
    let rows = offline(&clean_day());
    assert_eq!(rows.len(), 4);
    // (production Wh, net Wh = kW × 1000 / 12, consumption = production + net)
    let expected = [
        (0.0, 41.667, f64::NAN), // production unknown (first report): no consumption
        (30.0, 16.667, 46.667),
        (45.0, -8.333, 36.667),
        (45.0, -25.0, 20.0),
    ];
    for (i, (row, (p, n, c))) in rows.iter().zip(expected).enumerate() {
        assert_eq!(row.interval_start, at(2026, 6, 1, 17, 5 * i as u32));
        assert_eq!(row.interval_end - row.interval_start, TimeDelta::minutes(5));
        assert_eq!(row.production_wh, p, "row {i}");
        assert_eq!(row.net_wh, Some(n), "row {i}");
        if i == 0 {
            assert_eq!(row.consumption_wh, None, "row {i}");
        } else {
            assert_eq!(row.consumption_wh, Some(c), "row {i}");
        }
        assert_eq!(row.net_source, NetSource::Power);
        assert!(row.flags.contains(Flag::NetFromPower));
        assert_eq!(row.inverters_reporting, 2);
        assert!(!row.revised);
    }
    assert!(rows[0].flags.contains(Flag::FirstReport));
    assert!(!rows[1].flags.contains(Flag::FirstReport));
    assert_eq!(rows[1].production_w, 360.0); // 30 Wh in 5 min
    assert_eq!(rows[1].consumption_w, Some(560.0)); // 46.667 Wh × 12
}

#[test]
fn fine_meter_counter_is_used_and_oriented_by_power() {
    // 3 decimals (1 Wh) is fine enough for 5 minutes: net from the counter.
    let lines = vec![
        meter("20260601170000", "1000.000", "0.6"),
        meter("20260601170500", "1000.050", "0.6"),
        meter("20260601171000", "1000.090", "0.5"),
    ];
    let rows = offline(&lines);
    assert_eq!(rows[0].net_source, NetSource::Power); // first report: no step yet
    assert_eq!(rows[1].net_source, NetSource::Counter);
    assert_eq!(rows[1].net_wh, Some(50.0));
    assert_eq!(rows[2].net_wh, Some(40.0));
    assert!(!rows[1].flags.contains(Flag::NoMeter));

    // The pre-2017 sign convention: the counter falls while importing. Power decides.
    let inverted = vec![
        meter("20260601170000", "1000.000", "0.6"),
        meter("20260601170500", "999.950", "0.6"),
    ];
    let rows = offline(&inverted);
    assert_eq!(rows[1].net_source, NetSource::Counter);
    assert_eq!(rows[1].net_wh, Some(50.0));
}

#[test]
fn replays_and_exact_duplicates_are_counted_once() {
    let mut lines = clean_day();
    let mut replay = clean_day();
    replay.reverse();
    lines.extend(replay);
    let mut acc = IntervalAccumulator::new(IntervalConfig::default());
    feed(&mut acc, &lines);
    assert_eq!(acc.stats().duplicates, 12);
    assert_eq!(acc.stats().stored, 12);
    assert_eq!(acc.finish(), offline(&clean_day()));
    assert!(acc.take_events().is_empty());
}

#[test]
fn conflicting_duplicate_is_reported_and_the_first_kept() {
    let mut lines = clean_day();
    lines.push(inv("20260601170500", "A", "10.999"));
    let mut acc = IntervalAccumulator::new(IntervalConfig::default());
    feed(&mut acc, &lines);
    assert_eq!(acc.stats().conflicts, 1);
    let events = acc.take_events();
    assert_eq!(
        events,
        [Event::DuplicateConflict {
            record_type: 130,
            serial: "A".into(),
            timestamp: at(2026, 6, 1, 17, 5),
        }]
    );
    assert_eq!(acc.finish(), offline(&clean_day()));
}

#[test]
fn production_and_meter_lines_in_separate_posts_pair_in_either_order() {
    let (inverters, meters): (Vec<String>, Vec<String>) =
        clean_day().into_iter().partition(|l| l.starts_with("130"));
    let expected = offline(&clean_day());
    for order in [[&inverters, &meters], [&meters, &inverters]] {
        let mut acc = IntervalAccumulator::new(IntervalConfig::default());
        feed(&mut acc, order[0]);
        feed(&mut acc, order[1]);
        assert_eq!(acc.finish(), expected);
    }
}

#[test]
fn inverter_missing_two_reports_carries_its_energy_to_the_next_report() {
    // A misses 17:10 and 17:15; its 17:20 report carries 10.020 -> 10.095 = 75 Wh.
    let lines = vec![
        inv("20260601170000", "A", "10.000"),
        inv("20260601170000", "B", "20.000"),
        inv("20260601170500", "A", "10.020"),
        inv("20260601170500", "B", "20.010"),
        inv("20260601171000", "B", "20.020"),
        inv("20260601171500", "B", "20.030"),
        inv("20260601172000", "A", "10.095"),
        inv("20260601172000", "B", "20.040"),
    ];
    let rows = offline(&lines);
    let production: Vec<f64> = rows.iter().map(|r| r.production_wh).collect();
    assert_eq!(production, [0.0, 30.0, 10.0, 10.0, 85.0]);
    let reporting: Vec<u32> = rows.iter().map(|r| r.inverters_reporting).collect();
    assert_eq!(reporting, [2, 2, 1, 1, 2]);
    assert!(rows[4].flags.contains(Flag::MissedReport));
    assert!(!rows[3].flags.contains(Flag::MissedReport));
    // Nothing lost: 95 Wh from A and 40 Wh from B.
    assert!(approx(production.iter().sum::<f64>(), 135.0));
    assert!(rows.iter().all(|r| r.flags.contains(Flag::NoMeter)));
    assert!(rows.iter().all(|r| r.consumption_wh.is_none()));
}

#[test]
fn counter_reset_counts_nothing_for_that_step_and_resumes() {
    let lines = vec![
        inv("20260601170000", "A", "10.000"),
        inv("20260601170500", "A", "10.020"),
        inv("20260601171000", "A", "0.005"),
        inv("20260601171500", "A", "0.030"),
    ];
    let mut acc = IntervalAccumulator::new(IntervalConfig::default());
    feed(&mut acc, &lines);
    let rows = acc.finish();
    let production: Vec<f64> = rows.iter().map(|r| r.production_wh).collect();
    assert_eq!(production, [0.0, 20.0, 0.0, 25.0]);
    assert!(rows[2].flags.contains(Flag::CounterReset));
    assert_eq!(
        acc.take_events(),
        [Event::CounterReset {
            record_type: 130,
            serial: "A".into(),
            timestamp: at(2026, 6, 1, 17, 10),
            from_kwh: 10.02,
            to_kwh: 0.005,
        }]
    );
}

#[test]
fn night_silence_is_not_a_reset_and_metered_nights_have_rows() {
    // Evening reports at 01:00 and 01:05 UTC, silence, morning reports at 14:00 and 14:05;
    // the meter reports every 5 minutes all night.
    let mut lines = vec![
        inv("20260601010000", "A", "100.500"),
        inv("20260601010500", "A", "100.500"),
        inv("20260601140000", "A", "100.500"),
        inv("20260601140500", "A", "100.510"),
    ];
    let mut t = at(2026, 6, 1, 1, 0);
    while t <= at(2026, 6, 1, 14, 5) {
        lines.push(meter(&ts(t), "607", "0.3"));
        t += TimeDelta::minutes(5);
    }
    let mut acc = IntervalAccumulator::new(IntervalConfig::default());
    feed(&mut acc, &lines);
    assert_eq!(acc.cadence(), TimeDelta::minutes(5));
    let rows = acc.finish();
    assert_eq!(rows.len(), 13 * 12 + 2); // 01:00 .. 14:05 every 5 minutes
    assert!(acc.take_events().is_empty());
    let night = rows
        .iter()
        .find(|r| r.interval_start == at(2026, 6, 1, 8, 0));
    let night = night.unwrap();
    assert_eq!(night.inverters_reporting, 0);
    assert_eq!(night.production_wh, 0.0);
    assert_eq!(night.consumption_wh, Some(25.0)); // 0.3 kW × 5 min
    let morning = rows
        .iter()
        .find(|r| r.interval_start == at(2026, 6, 1, 14, 0));
    let morning = morning.unwrap();
    assert_eq!(morning.production_wh, 0.0);
    assert!(!morning.flags.contains(Flag::CounterReset));
    assert!(!morning.flags.contains(Flag::MissedReport)); // nothing was carried
    assert_eq!(rows.last().unwrap().production_wh, 10.0);
}

/// One inverter reporting hourly from `from` to `to` (UTC), +100 Wh per hour.
fn hourly(from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<String> {
    let mut lines = Vec::new();
    let (mut t, mut i) = (from, 0);
    while t <= to {
        lines.push(inv(
            &ts(t),
            "F1",
            &format!("{:.3}", 1000.0 + 0.1 * i as f64),
        ));
        t += TimeDelta::hours(1);
        i += 1;
    }
    lines
}

#[test]
fn hourly_cadence_is_inferred() {
    let mut acc = IntervalAccumulator::new(IntervalConfig::default());
    feed(
        &mut acc,
        &hourly(at(2026, 1, 5, 10, 0), at(2026, 1, 5, 15, 0)),
    );
    assert_eq!(acc.cadence(), TimeDelta::hours(1));
    let rows = acc.finish();
    assert_eq!(rows.len(), 6);
    assert_eq!(rows[1].production_wh, 100.0);
    assert_eq!(rows[1].production_w, 100.0);
    assert_eq!(
        rows[1].interval_end - rows[1].interval_start,
        TimeDelta::hours(1)
    );
}

#[test]
fn local_day_start_is_total_at_the_ends_of_the_calendar() {
    use chrono::NaiveDate;
    let _ = sunpower_proto::intervals::local_day_start(NaiveDate::MAX, Los_Angeles);
    let _ = sunpower_proto::intervals::local_day_start(NaiveDate::MIN, Los_Angeles);
}

#[test]
fn totals_and_pvoutput_count_the_latest_revision_only() {
    let rows = offline(&clean_day());
    let mut revised = rows[1].clone();
    revised.production_wh = 31.0;
    revised.revised = true;
    let mut stream = rows.clone();
    stream.push(revised);
    let days = totals(&stream, Los_Angeles, Period::Day);
    assert_eq!(days[0].production_wh, 121.0); // 0 + 31 + 45 + 45
    assert_eq!(days[0].intervals, 4);
}

#[test]
fn spring_forward_day_has_23_hours_in_los_angeles() {
    // Local midnight of 2026-03-08 is 08:00 UTC (PST); of 2026-03-09, 07:00 UTC (PDT).
    let rows = offline(&hourly(at(2026, 3, 8, 6, 0), at(2026, 3, 9, 9, 0)));
    let days = totals(&rows, Los_Angeles, Period::Day);
    let labels: Vec<&str> = days.iter().map(|d| d.label.as_str()).collect();
    assert_eq!(labels, ["2026-03-07", "2026-03-08", "2026-03-09"]);
    assert_eq!(days[1].start, at(2026, 3, 8, 8, 0));
    assert_eq!(days[1].end, at(2026, 3, 9, 7, 0));
    assert_eq!(days[1].hours(), 23.0);
    assert_eq!(days[1].intervals, 23);
    assert!(approx(days[1].production_wh, 2300.0));
    assert!(approx(days[0].production_wh, 100.0)); // 06:00 first report, 07:00 +100
    assert!(approx(days[2].production_wh, 300.0)); // 07:00, 08:00, 09:00
}

#[test]
fn fall_back_day_has_25_hours_in_los_angeles() {
    // Local midnight of 2026-11-01 is 07:00 UTC (PDT); of 2026-11-02, 08:00 UTC (PST).
    let rows = offline(&hourly(at(2026, 11, 1, 6, 0), at(2026, 11, 2, 8, 0)));
    let days = totals(&rows, Los_Angeles, Period::Day);
    assert_eq!(days.len(), 3);
    assert_eq!(days[1].label, "2026-11-01");
    assert_eq!(days[1].hours(), 25.0);
    assert_eq!(days[1].intervals, 25);
    assert!(approx(days[1].production_wh, 2500.0));
    assert!(approx(days[2].production_wh, 100.0)); // 08:00 UTC = 00:00 PST
}

#[test]
fn month_and_year_boundaries_follow_local_time() {
    // 07:50 and 07:55 UTC on 2027-01-01 are 23:50 and 23:55 on 2026-12-31 in Los Angeles.
    let lines: Vec<String> = (0..5)
        .map(|i| {
            let t = at(2027, 1, 1, 7, 50) + TimeDelta::minutes(5 * i);
            inv(&ts(t), "A", &format!("{:.3}", 5.0 + 0.01 * i as f64))
        })
        .collect();
    let rows = offline(&lines);
    let years = totals(&rows, Los_Angeles, Period::Year);
    let summary: Vec<(&str, f64)> = years
        .iter()
        .map(|y| (y.label.as_str(), y.production_wh))
        .collect();
    assert_eq!(summary, [("2026", 10.0), ("2027", 30.0)]);
    let months = totals(&rows, Los_Angeles, Period::Month);
    assert_eq!(months[0].label, "2026-12");
    assert_eq!(months[1].label, "2027-01");
    assert_eq!(months[1].start, at(2027, 1, 1, 8, 0));
    assert_eq!(months[1].end, at(2027, 2, 1, 8, 0));
    // In UTC every row is on 2027-01-01.
    assert_eq!(totals(&rows, chrono_tz::UTC, Period::Year).len(), 1);
}

#[test]
fn consumption_is_clamped_at_zero_and_reported() {
    // Exporting 0.5 kW while producing 1 Wh: 1 + (-41.667) < 0. (The first report's interval
    // has no consumption at all: its production is unknown.)
    let lines = vec![
        inv("20260601170000", "A", "10.000"),
        meter("20260601170000", "607", "-0.5"),
        inv("20260601170500", "A", "10.001"),
        meter("20260601170500", "607", "-0.5"),
    ];
    let mut acc = IntervalAccumulator::new(IntervalConfig::default());
    feed(&mut acc, &lines);
    let rows = acc.finish();
    assert_eq!(rows[0].consumption_wh, None);
    assert_eq!(rows[1].consumption_wh, Some(0.0));
    assert_eq!(rows[1].net_wh, Some(-41.667));
    assert!(rows[1].flags.contains(Flag::ConsumptionClamped));
    assert_eq!(
        acc.take_events(),
        [Event::ConsumptionClamped {
            interval_start: at(2026, 6, 1, 17, 5),
            computed_wh: -40.667,
        }]
    );
}

#[test]
fn missing_meter_report_leaves_net_unknown() {
    let mut lines = clean_day();
    lines.retain(|l| !(l.starts_with("140") && l.contains("20260601171000")));
    let rows = offline(&lines);
    assert_eq!(rows[2].net_source, NetSource::None);
    assert_eq!(rows[2].net_wh, None);
    assert_eq!(rows[2].consumption_wh, None);
    assert!(rows[2].flags.contains(Flag::MeterMissing));
}

#[test]
fn records_older_than_the_horizon_are_refused_and_old_intervals_kept() {
    let mut acc =
        IntervalAccumulator::new(IntervalConfig::default().with_horizon(TimeDelta::days(1)));
    feed(
        &mut acc,
        &[
            inv("20260601170000", "A", "10.000"),
            inv("20260601170500", "A", "10.020"),
            inv("20260603170000", "A", "11.000"),
            inv("20260603170500", "A", "11.030"),
        ],
    );
    // The 06-01 rows are older than the horizon: final, and can be handed out already.
    let early = acc.drain_ready();
    assert_eq!(early.len(), 2);
    assert_eq!(early[1].production_wh, 20.0);
    let late_line = inv("20260601171000", "A", "10.040");
    let late = parse_line(&late_line).unwrap();
    assert_eq!(acc.add(&late), Added::BeyondHorizon);
    let rows = acc.finish();
    let production: Vec<f64> = rows.iter().map(|r| r.production_wh).collect();
    // The 06-03 17:00 step starts from the folded 06-01 17:05 counter: 980 Wh.
    assert_eq!(production, [980.0, 30.0]);
    assert!(rows[0].flags.contains(Flag::MissedReport));
}

#[test]
fn streaming_emits_complete_intervals_then_a_revision_for_a_late_replay() {
    let config = IntervalConfig::streaming().with_lateness(TimeDelta::minutes(15));
    let mut acc = IntervalAccumulator::new(config);
    let post = |acc: &mut IntervalAccumulator, lines: &[String], now: DateTime<Utc>| {
        feed(acc, lines);
        acc.advance_to(now)
    };
    let m = |t: &str| meter(t, "607", "0.1");

    // 17:00 from everyone: the first interval is complete (nothing was expected before it).
    let out = post(
        &mut acc,
        &[
            inv("20260601170000", "A", "10.000"),
            inv("20260601170000", "B", "20.000"),
            m("20260601170000"),
        ],
        at(2026, 6, 1, 17, 5),
    );
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].inverters_reporting, 2);

    // 17:05 without B: incomplete, held back.
    let out = post(
        &mut acc,
        &[inv("20260601170500", "A", "10.020"), m("20260601170500")],
        at(2026, 6, 1, 17, 10),
    );
    assert!(out.is_empty());

    // 17:10 from everyone: complete. B's 20.000 -> 20.030 crosses its missed report.
    let out = post(
        &mut acc,
        &[
            inv("20260601171000", "A", "10.040"),
            inv("20260601171000", "B", "20.030"),
            m("20260601171000"),
        ],
        at(2026, 6, 1, 17, 15),
    );
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].interval_start, at(2026, 6, 1, 17, 10));
    assert_eq!(out[0].production_wh, 50.0);
    assert!(out[0].flags.contains(Flag::MissedReport));

    // 15 minutes after its end, 17:05 is emitted anyway, with A alone.
    let out = acc.advance_to(at(2026, 6, 1, 17, 25));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].interval_start, at(2026, 6, 1, 17, 5));
    assert_eq!(out[0].production_wh, 20.0);
    assert_eq!(out[0].inverters_reporting, 1);
    assert!(!out[0].revised);

    // B's 17:05 line arrives in a backlog replay: both 17:05 and 17:10 change.
    let out = post(
        &mut acc,
        &[inv("20260601170500", "B", "20.010")],
        at(2026, 6, 1, 17, 30),
    );
    assert_eq!(out.len(), 2);
    assert!(out
        .iter()
        .all(|r| r.revised && r.flags.contains(Flag::Revised)));
    assert_eq!(out[0].interval_start, at(2026, 6, 1, 17, 5));
    assert_eq!(out[0].production_wh, 30.0);
    assert_eq!(out[0].inverters_reporting, 2);
    assert_eq!(out[1].production_wh, 40.0);
    assert!(!out[1].flags.contains(Flag::MissedReport));

    // The same replay again changes nothing.
    let out = post(
        &mut acc,
        &[inv("20260601170500", "B", "20.010")],
        at(2026, 6, 1, 17, 35),
    );
    assert!(out.is_empty());
    assert!(acc.finish().is_empty());
}

#[test]
fn streaming_meter_line_in_a_later_post_revises_or_completes() {
    let mut acc = IntervalAccumulator::new(IntervalConfig::streaming());
    feed(&mut acc, &clean_day()[..3]); // 17:00 from everyone
    assert_eq!(acc.advance_to(at(2026, 6, 1, 17, 5)).len(), 1);
    // 17:05 inverters now, meter later: held until the meter line comes.
    feed(&mut acc, &clean_day()[3..5]);
    assert!(acc.advance_to(at(2026, 6, 1, 17, 10)).is_empty());
    feed(&mut acc, &clean_day()[5..6]);
    let out = acc.advance_to(at(2026, 6, 1, 17, 10));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].consumption_wh, Some(46.667));
}

#[test]
fn csv_has_a_header_and_one_row_per_interval() {
    let rows = offline(&clean_day());
    let mut writer = export::CsvWriter::intervals(Vec::new(), Los_Angeles);
    for row in &rows {
        writer.write(row).unwrap();
    }
    let text = String::from_utf8(writer.into_inner().unwrap()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5);
    let names: Vec<&str> = Interval::COLUMNS.iter().map(|c| c.name).collect();
    assert_eq!(lines[0], names.join(","));
    assert_eq!(
        lines[2],
        "2026-06-01T17:05:00Z,2026-06-01T10:05:00-07:00,2026-06-01T17:10:00Z,30,46.667,16.667,\
         360,560,power,2,false,net_from_power,,"
    );
    let read: Vec<Interval> = export::CsvReader::intervals(text.as_bytes())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(read, rows);
}

#[test]
fn pvoutput_batches_hold_30_statuses_with_daily_cumulative_energy() {
    // 35 five-minute intervals of +10 Wh from 07:00 UTC (local midnight, PDT).
    let lines: Vec<String> = (0..35)
        .map(|i| {
            let t = at(2026, 6, 1, 7, 0) + TimeDelta::minutes(5 * i);
            inv(&ts(t), "A", &format!("{:.3}", 5.0 + 0.01 * i as f64))
        })
        .collect();
    let rows = offline(&lines);
    let batches = export::pvoutput_batches(&rows, Los_Angeles);
    assert_eq!(batches.len(), 2);
    let first: Vec<&str> = batches[0]
        .strip_prefix("data=")
        .unwrap()
        .split(';')
        .collect();
    assert_eq!(first.len(), 30);
    assert_eq!(first[0], "20260601,00:05,0,0"); // first report, no meter: no v3/v4
    assert_eq!(first[1], "20260601,00:10,10,120");
    assert_eq!(first[29], "20260601,02:30,290,120");
    assert!(batches[1].ends_with(";20260601,02:55,340,120"));
    assert_eq!(batches[1].split(';').count(), 5);

    // The same day seen from 00:25 on: its running totals are unknown, so powers only.
    let partial = export::pvoutput_batches(&offline(&lines[5..]), Los_Angeles);
    let statuses: Vec<&str> = partial[0]
        .strip_prefix("data=")
        .unwrap()
        .split(';')
        .collect();
    assert_eq!(statuses[0], "20260601,00:30,,0");
    assert_eq!(statuses[1], "20260601,00:35,,120");
    assert!(statuses.iter().all(|s| s.split(',').nth(2) == Some("")));
}

#[test]
fn pvoutput_energy_restarts_at_local_midnight() {
    let lines: Vec<String> = (0..4)
        .map(|i| {
            let t = at(2026, 6, 2, 6, 50) + TimeDelta::minutes(5 * i);
            inv(&ts(t), "A", &format!("{:.3}", 5.0 + 0.01 * i as f64))
        })
        .collect();
    let batches = export::pvoutput_batches(&offline(&lines), Los_Angeles);
    // 06:50-07:05 UTC = 23:50-00:05 PDT; the 23:55 interval ends at midnight: 23:59. June 1 is
    // seen only from 23:50 (powers only); June 2 from its midnight (running totals from 0).
    assert_eq!(
        batches,
        ["data=20260601,23:55,,0;20260601,23:59,,120;20260602,00:05,10,120;20260602,00:10,20,120"]
    );
}

/// A row as `JsonLines::write_interval` writes it.
fn jsonl(row: &Interval, tz: Option<chrono_tz::Tz>) -> String {
    let mut lines = sunpower_proto::JsonLines::new(Vec::new());
    lines.write_interval(row, tz).unwrap();
    String::from_utf8(lines.into_inner().unwrap()).unwrap()
}

#[cfg(feature = "serde")]
#[test]
fn jsonl_row_has_the_documented_keys() {
    let rows = offline(&clean_day());
    let value: serde_json::Value =
        serde_json::from_str(&jsonl(&rows[1], Some(Los_Angeles))).unwrap();
    assert_eq!(
        value,
        serde_json::json!({
            "interval_start": "2026-06-01T17:05:00Z",
            "interval_start_local": "2026-06-01T10:05:00-07:00",
            "interval_end": "2026-06-01T17:10:00Z",
            "production_wh": 30.0,
            "consumption_wh": 46.667,
            "net_wh": 16.667,
            "production_w": 360.0,
            "consumption_w": 560.0,
            "battery_wh": null,
            "battery_soc_pct": null,
            "net_source": "power",
            "inverters_reporting": 2,
            "revised": false,
            "flags": ["net_from_power"],
        })
    );
}

/// The jsonl keys are the column list, in its order (the CSV header's).
#[cfg(feature = "serde")]
#[test]
fn jsonl_keys_are_the_column_list_in_order() {
    let rows = offline(&clean_day());
    let json = jsonl(&rows[1], Some(Los_Angeles));
    // A key is a quoted string followed by a colon.
    let parts: Vec<&str> = json.split('"').collect();
    let keys: Vec<&str> = (1..parts.len())
        .step_by(2)
        .filter(|&i| parts.get(i + 1).is_some_and(|p| p.starts_with(':')))
        .map(|i| parts[i])
        .collect();
    let names: Vec<&str> = Interval::COLUMNS.iter().map(|c| c.name).collect();
    assert_eq!(keys, names);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value.as_object().unwrap().len(), names.len());
}

/// Without a zone, the JSON Lines writer and serde_json write the same bytes for every row
/// (fractions, nulls, flags, counter problems and all).
#[cfg(feature = "serde")]
#[test]
fn jsonl_rows_are_serde_json_s_bytes() {
    let mut rows = offline(&clean_day());
    // Five hours of readings whose differences are inexact in binary (0.0137 kWh steps), a
    // meter whose power swings both ways, and a counter that goes back (a reset).
    let start = at(2026, 6, 1, 17, 0);
    let lines: Vec<String> = (0..60i32)
        .flat_map(|i| {
            let t = ts(start + TimeDelta::minutes(5 * i64::from(i)));
            let kwh = if i == 30 {
                1.0
            } else {
                100.0 + 0.0137 * f64::from(i * i)
            };
            [
                inv(&t, "A", &format!("{kwh:.4}")),
                meter(
                    &t,
                    &format!("{:.2}", 50.0 + 0.07 * f64::from(i)),
                    &format!("{:.3}", f64::from(i % 7 - 3) / 3.0),
                ),
            ]
        })
        .collect();
    rows.extend(offline(&lines));
    assert!(rows.len() > 50, "{} rows", rows.len());
    for row in &rows {
        assert_eq!(jsonl(row, None), serde_json::to_string(row).unwrap() + "\n");
    }
}

/// docs/design.md lists the interval columns: the same names, in the same order, as the column
/// list from which the CSV header and the Arrow schema come.
#[test]
fn the_design_docs_interval_columns_are_the_column_list() {
    let design = include_str!("../../docs/design.md");
    let item = design
        .split("Interval columns, in this order")
        .nth(1)
        .and_then(|s| s.split(".\n").next())
        .unwrap();
    let listed: Vec<&str> = item.split('`').skip(1).step_by(2).collect();
    let names: Vec<&str> = Interval::COLUMNS.iter().map(|c| c.name).collect();
    assert_eq!(listed, names);
}

proptest! {
    #[test]
    fn production_sums_to_the_counter_increase_in_any_order(
        steps in prop::collection::vec(prop::collection::vec((0u32..200, any::<bool>()), 2..30), 1..4),
        seed in any::<u64>(),
        duplicates in 0usize..20,
    ) {
        // Per inverter: Wh increments and whether each report is sent (first and last always).
        let mut lines = Vec::new();
        let mut expected_wh = 0u64;
        for (n, inverter) in steps.iter().enumerate() {
            let mut counter_wh = 1_000_000u64 * (n as u64 + 1);
            let mut first = None;
            let mut last = 0;
            for (i, &(increment, sent)) in inverter.iter().enumerate() {
                counter_wh += u64::from(increment);
                if sent || i == 0 || i + 1 == inverter.len() {
                    let t = at(2026, 6, 1, 12, 0) + TimeDelta::minutes(5 * i as i64);
                    let kwh = format!("{}.{:03}", counter_wh / 1000, counter_wh % 1000);
                    lines.push(inv(&ts(t), &format!("INV{n}"), &kwh));
                    first.get_or_insert(counter_wh);
                    last = counter_wh;
                }
            }
            expected_wh += last - first.unwrap_or(last);
        }
        // A deterministic shuffle and some replays.
        let mut state = seed | 1;
        let mut next = move || { state ^= state << 13; state ^= state >> 7; state ^= state << 17; state };
        for _ in 0..duplicates {
            let pick = (next() % lines.len() as u64) as usize;
            lines.push(lines[pick].clone());
        }
        for i in (1..lines.len()).rev() {
            let j = (next() % (i as u64 + 1)) as usize;
            lines.swap(i, j);
        }
        let mut acc = IntervalAccumulator::new(IntervalConfig::default());
        feed(&mut acc, &lines);
        let total: f64 = acc.finish().iter().map(|r| r.production_wh).sum();
        prop_assert!((total - expected_wh as f64).abs() < 1e-6, "{} vs {}", total, expected_wh);
        prop_assert!(acc.take_events().is_empty());
    }
}

proptest! {
    #[test]
    fn streaming_with_revisions_ends_where_offline_does(
        increments in prop::collection::vec(prop::collection::vec(0u32..200, 2..20), 1..3),
        powers in prop::collection::vec(-3000i32..3000, 20),
        seed in any::<u64>(),
        posts in 1usize..8,
    ) {
        let mut lines = Vec::new();
        for (n, steps) in increments.iter().enumerate() {
            let mut counter_wh = 5_000u64;
            for (i, increment) in steps.iter().enumerate() {
                counter_wh += u64::from(*increment);
                let t = at(2026, 6, 1, 12, 0) + TimeDelta::minutes(5 * i as i64);
                let kwh = format!("{}.{:03}", counter_wh / 1000, counter_wh % 1000);
                lines.push(inv(&ts(t), &format!("INV{n}"), &kwh));
            }
        }
        for (i, watts) in powers.iter().enumerate().take(increments[0].len()) {
            let t = at(2026, 6, 1, 12, 0) + TimeDelta::minutes(5 * i as i64);
            lines.push(meter(&ts(t), "607", &format!("{:.3}", *watts as f64 / 1000.0)));
        }
        let expected = offline(&lines);

        let mut state = seed | 1;
        let mut next = move || { state ^= state << 13; state ^= state >> 7; state ^= state << 17; state };
        for i in (1..lines.len()).rev() {
            let j = (next() % (i as u64 + 1)) as usize;
            lines.swap(i, j);
        }
        // Streaming infers the cadence from what has arrived so far; shuffled records can show
        // odd gaps first, so the property fixes the cadence as a live pipeline would.
        let config = IntervalConfig::streaming().with_cadence(TimeDelta::minutes(5));
        let mut acc = IntervalAccumulator::new(config);
        let mut emitted = Vec::new();
        let chunk = lines.len().div_ceil(posts);
        let mut clock = at(2026, 6, 1, 12, 0);
        for post in lines.chunks(chunk) {
            feed(&mut acc, post);
            clock += TimeDelta::minutes((next() % 40) as i64);
            emitted.extend(acc.advance_to(clock));
        }
        emitted.extend(acc.finish());
        let got = sunpower_proto::intervals::latest(&emitted);
        prop_assert_eq!(got.len(), expected.len());
        for (g, e) in got.iter().zip(&expected) {
            prop_assert_eq!(g.interval_start, e.interval_start);
            prop_assert_eq!(g.production_wh, e.production_wh);
            prop_assert_eq!(g.net_wh, e.net_wh);
            prop_assert_eq!(g.consumption_wh, e.consumption_wh);
            prop_assert_eq!(g.inverters_reporting, e.inverters_reporting);
        }
    }
}

/// The status strings of rows pushed to an encoder, in the order returned.
fn statuses(encoder: &mut export::PvOutputEncoder, rows: &[Interval]) -> Vec<String> {
    encoder.push(rows).iter().map(ToString::to_string).collect()
}

#[test]
fn live_pvoutput_statuses_end_as_the_offline_ones_across_the_end_of_daylight_saving() {
    // 2026-11-01 in Los Angeles: 07:00 UTC is local midnight (PDT); at 09:00 UTC the clocks go
    // from 02:00 PDT back to 01:00 PST, so 01:00-01:55 happens twice. One inverter (+10 Wh per
    // 5 minutes) and the consumption meter (+1 kWh per hour), from local midnight to 02:00 UTC
    // on the 2nd, across the repeated hour.
    let start = at(2026, 11, 1, 7, 0);
    let steps = 25 * 12 + 6 * 12;
    let mut reports: Vec<(DateTime<Utc>, Vec<String>)> = Vec::new();
    for i in 0..=steps {
        let t = start + TimeDelta::minutes(5 * i);
        reports.push((
            t,
            vec![
                inv(&ts(t), "A", &format!("{:.3}", 100.0 + 0.01 * i as f64)),
                meter(&ts(t), &format!("{}", 500 + i / 12), "1.2"),
            ],
        ));
    }
    let all: Vec<String> = reports.iter().flat_map(|(_, l)| l.clone()).collect();
    let mut offline_encoder = export::PvOutputEncoder::new(Los_Angeles);
    let offline_statuses = statuses(&mut offline_encoder, &offline(&all));

    // Live: each report as its post arrives a minute later, rows pushed as they are emitted.
    let config = IntervalConfig::streaming().with_lateness(TimeDelta::minutes(15));
    let mut acc = IntervalAccumulator::new(config);
    let mut live = export::PvOutputEncoder::new(Los_Angeles);
    let mut live_statuses = Vec::new();
    for (t, lines) in &reports {
        feed(&mut acc, lines);
        let ready = acc.advance_to(*t + TimeDelta::minutes(1));
        live_statuses.extend(statuses(&mut live, &ready));
    }
    live_statuses.extend(statuses(&mut live, &acc.finish()));

    // The last status sent for each date and time is the offline one, and no time is missing.
    let key = |s: &String| s.split(',').take(2).collect::<Vec<_>>().join(",");
    let mut last = std::collections::BTreeMap::new();
    for s in &live_statuses {
        last.insert(key(s), s.clone());
    }
    let offline_by_key: std::collections::BTreeMap<String, String> = offline_statuses
        .iter()
        .map(|s| (key(s), s.clone()))
        .collect();
    assert_eq!(
        offline_by_key.len(),
        offline_statuses.len(),
        "a time sent twice offline"
    );
    assert_eq!(last, offline_by_key);

    // The repeated hour: 12 intervals of the day end at a local time already used, so the day
    // has 12 statuses fewer than intervals, and the energy of the skipped ones is carried: the
    // day's last status (23:59) holds all 25 hours of it: 299 steps of 10 Wh (the first report
    // has no baseline), and consumption = production + net, net from the meter's 1.2 kW (its
    // whole-kWh counter is too coarse for 5 minutes), from the second interval on:
    // 2990 + 25 * 1200 - 100.
    let day: Vec<&String> = offline_statuses
        .iter()
        .filter(|s| s.starts_with("20261101,"))
        .collect();
    assert_eq!(day.len(), 25 * 12 - 12);
    // The first interval has no consumption: its production is unknown (first report).
    assert_eq!(day[0].as_str(), "20261101,00:05,0,0");
    assert_eq!(
        day.last().unwrap().as_str(),
        "20261101,23:59,2990,120,32890,1320"
    );
    // The first status after the repeated hour (02:05 PST, three hours and one interval from
    // midnight, the 37th) carries the energy of both 01:00-01:55: 36 steps of 10 Wh, and
    // 36 * 100 Wh of net (the first interval's 100 Wh has no consumption).
    let after = day
        .iter()
        .find(|s| s.starts_with("20261101,02:05,"))
        .unwrap();
    assert_eq!(after.as_str(), "20261101,02:05,360,120,3960,1320");
}

proptest! {
    #[test]
    fn tree_merges_of_overlapping_pieces_in_any_order_give_the_files_of_one_merge(
        pieces in prop::collection::vec((0usize..60, 1usize..30), 1..6),
        order in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        // A day and a half of one inverter across local midnight; the writers each bring a piece
        // (overlapping or not), merged one after the other in a shuffled order, as interleaved
        // runs on one tree are, taking turns at its lock.
        let lines: Vec<String> = (0..60)
            .map(|i| {
                let t = at(2026, 6, 2, 5, 0) + TimeDelta::minutes(5 * i);
                inv(&ts(t), "A", &format!("{:.3}", 5.0 + 0.01 * i as f64))
            })
            .collect();
        let mut pieces: Vec<Vec<Interval>> = pieces
            .iter()
            .map(|&(from, len)| offline(&lines[from..(from + len).min(60)]))
            .collect();
        for (i, index) in order.iter().enumerate() {
            let n = pieces.len();
            pieces.swap(i % n, index.index(n));
        }
        let mut files = std::collections::BTreeMap::new();
        for piece in &pieces {
            for file in sunpower_proto::tree::merge(piece, Los_Angeles, &files).unwrap().files {
                files.insert(file.path, file.contents);
            }
        }
        // The same rows merged at once, each interval's best row (the one with the baseline).
        let mut best = std::collections::BTreeMap::new();
        for row in pieces.iter().flatten() {
            let keep = best
                .get(&row.interval_start)
                .is_some_and(|old: &Interval| !sunpower_proto::tree::prefer_new(old, row));
            if !keep {
                best.insert(row.interval_start, row.clone());
            }
        }
        let once: Vec<Interval> = best.into_values().collect();
        let mut at_once = std::collections::BTreeMap::new();
        for file in sunpower_proto::tree::merge(&once, Los_Angeles, &at_once.clone()).unwrap().files {
            at_once.insert(file.path, file.contents);
        }
        prop_assert_eq!(files, at_once);
    }
}

#[test]
fn hourly_energy_uses_local_hours_and_utc_ones_in_half_hour_zones() {
    // 07:55 to 09:00 UTC in 5-minute steps of 10 Wh from one inverter.
    let lines: Vec<String> = (0..14)
        .map(|i| {
            let t = at(2026, 6, 1, 7, 55) + TimeDelta::minutes(5 * i);
            inv(&ts(t), "A", &format!("{:.3}", 5.0 + 0.01 * i as f64))
        })
        .collect();
    let rows = offline(&lines);
    // Los Angeles (a whole-hour offset): hours 07:00, 08:00 and 09:00 UTC.
    let la = export::hourly_energy(&rows, Los_Angeles);
    let starts: Vec<String> = la.iter().map(|h| h.start.to_rfc3339()).collect();
    assert_eq!(
        starts,
        [
            "2026-06-01T07:00:00+00:00",
            "2026-06-01T08:00:00+00:00",
            "2026-06-01T09:00:00+00:00"
        ]
    );
    // The first report has no baseline; then 12 steps in the 08:00 hour and one in the 09:00.
    let wh: Vec<f64> = la.iter().map(|h| h.production_wh).collect();
    assert_eq!(wh, [0.0, 120.0, 10.0]);
    // Kolkata (+05:30): local hours start at :30 UTC, so the UTC hours are used, the same rows.
    let india = export::hourly_energy(&rows, chrono_tz::Asia::Kolkata);
    assert_eq!(india, la);
}
