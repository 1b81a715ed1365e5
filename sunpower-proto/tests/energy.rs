//! Issue 22, energy: every term of an interval's consumption measured or estimated the same way,
//! the consumption meter's role (net or load), telemetry frames carrying some fields only, and
//! battery energy per interval.
#![cfg(feature = "varserver")]

use sunpower_proto::intervals::{Flag, Interval, IntervalAccumulator, IntervalConfig};
use sunpower_proto::{
    parse_device_list, parse_vars, MeterKind, MeterRole, Record, SiteTotals, TelemetryDecoder,
};

/// A flat `/vars` poll of a 44-inverter home with a consumption meter (karak2112-style):
/// every inverter at `kw` with counter `base + i + step`, the meter at `meter_kw`.
fn poll_44(msmt: &str, step_kwh: f64, kw: f64, meter_kwh: f64, meter_kw: f64) -> String {
    let mut entries = Vec::new();
    for i in 0..44 {
        let dev = format!("/sys/devices/inverter/{i}");
        entries.push(format!(r#""{dev}/sn": "E0012{i:010}""#));
        entries.push(format!(r#""{dev}/prodMdlNm": "AC_Module_Type_H""#));
        entries.push(format!(r#""{dev}/msmtEps": "{msmt}""#));
        entries.push(format!(
            r#""{dev}/ltea3phsumKwh": "{:.4}""#,
            1000.0 + i as f64 + step_kwh
        ));
        entries.push(format!(r#""{dev}/p3phsumKw": "{kw:.4}""#));
    }
    let dev = "/sys/devices/meter/1";
    entries.push(format!(r#""{dev}/sn": "PVS6M23084351c""#));
    entries.push(format!(r#""{dev}/prodMdlNm": "PVS6M0400c""#));
    entries.push(format!(r#""{dev}/msmtEps": "{msmt}""#));
    entries.push(format!(r#""{dev}/netLtea3phsumKwh": "{meter_kwh:.3}""#));
    entries.push(format!(r#""{dev}/p3phsumKw": "{meter_kw:.4}""#));
    format!("{{{}}}", entries.join(",\n"))
}

fn rows_of(polls: &[String]) -> Vec<Interval> {
    let mut acc = IntervalAccumulator::new(IntervalConfig::documents());
    for p in polls {
        acc.add_vars(&parse_vars(p).unwrap());
    }
    acc.finish()
}

#[test]
fn a_first_poll_never_gives_a_consumption_without_the_production_it_did_not_measure() {
    // July, 15:10 and 15:15 UTC: 44 inverters at 120 W each (5.28 kW), exporting 3.66 kW.
    // Before issue 22 the first interval had production 0.0 (first_report) and a consumption
    // of the meter's power alone (net_from_power): 136.7 Wh in the report that found it.
    let polls = [
        poll_44("2025-07-15T15:10:00Z", 0.0, 0.12, 500.0, -3.66),
        poll_44("2025-07-15T15:15:00Z", 0.01, 0.12, 499.695, -3.66),
    ];
    let rows = rows_of(&polls);
    assert_eq!(rows.len(), 2);
    for row in &rows {
        if let Some(consumption) = row.consumption_wh {
            assert!(!row.flags.contains(Flag::FirstReport), "{row:?}");
            let battery = row.battery_wh.unwrap_or(0.0);
            let sum = row.production_wh + row.net_wh.unwrap() + battery;
            assert!((consumption - sum.max(0.0)).abs() < 1e-3, "{row:?}");
        }
    }
    // msmtEps is the time the counters were read (the end of what they measured): the first
    // poll ends the interval 15:05-15:10, its steps to the second fill 15:10-15:15.
    let first = &rows[0];
    assert_eq!(
        first.interval_start.to_rfc3339(),
        "2025-07-15T15:05:00+00:00"
    );
    assert!(first.flags.contains(Flag::FirstReport));
    assert!(first.flags.contains(Flag::NetFromPower));
    assert_eq!(first.production_wh, 0.0); // unknown, counted as 0 and flagged
    assert_eq!(first.net_wh, Some(-305.0)); // -3660 W × 5 min
    assert_eq!((first.consumption_wh, first.consumption_w), (None, None));
    let second = &rows[1];
    assert_eq!(
        second.interval_start.to_rfc3339(),
        "2025-07-15T15:10:00+00:00"
    );
    assert_eq!(second.production_wh, 440.0); // 44 × 10 Wh, the counters' steps
    assert_eq!(second.net_wh, Some(-305.0)); // the meter's counter step
    assert_eq!(second.consumption_wh, Some(135.0));
    assert_eq!(second.consumption_w, Some(1620.0));
    assert!(second.flags.is_empty(), "{}", second.flags);
}

#[test]
fn an_inverter_counter_reset_leaves_that_interval_without_consumption() {
    let polls = [
        poll_44("2025-07-15T15:10:00Z", 0.0, 0.12, 500.0, -3.66),
        poll_44("2025-07-15T15:15:00Z", 0.01, 0.12, 499.695, -3.66),
        // Inverter 7's counter starts again from 0.
        poll_44("2025-07-15T15:20:00Z", 0.02, 0.12, 499.39, -3.66).replace(
            r#""/sys/devices/inverter/7/ltea3phsumKwh": "1007.0200""#,
            r#""/sys/devices/inverter/7/ltea3phsumKwh": "0.0100""#,
        ),
        poll_44("2025-07-15T15:25:00Z", 0.03, 0.12, 499.085, -3.66).replace(
            r#""/sys/devices/inverter/7/ltea3phsumKwh": "1007.0300""#,
            r#""/sys/devices/inverter/7/ltea3phsumKwh": "0.0200""#,
        ),
    ];
    let rows = rows_of(&polls);
    let wh: Vec<(f64, Option<f64>)> = rows
        .iter()
        .map(|r| (r.production_wh, r.consumption_wh))
        .collect();
    assert_eq!(
        wh,
        [
            (0.0, None),
            (440.0, Some(135.0)),
            (430.0, None), // the reset step of inverter 7 is not known
            (440.0, Some(135.0)),
        ]
    );
    assert!(rows[2].flags.contains(Flag::CounterReset));
}

fn sample(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/local-api/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(path).unwrap()
}

/// The role of the consumption meter (serial ending in `c`) among `records`.
fn consumption_role<'a>(records: impl IntoIterator<Item = Record<'a>>) -> MeterRole {
    let roles: Vec<MeterRole> = records
        .into_iter()
        .filter_map(|r| match r {
            Record::Meter(m) if m.meter_kind == MeterKind::Consumption => Some(m.role),
            _ => None,
        })
        .collect();
    assert_eq!(roles.len(), 1);
    roles[0]
}

#[test]
fn a_devicelist_subtype_says_whether_the_consumption_meter_measures_net_or_load() {
    let text = String::from_utf8(sample("pvs6-61839-dl_cgi-devicelist.json")).unwrap();
    let net = parse_device_list(&text).unwrap();
    assert_eq!(
        consumption_role(net.records.iter().map(|r| r.record())),
        MeterRole::Net
    );
    let load_text = text.replace("NET_CONSUMPTION_LOADSIDE", "GROSS_CONSUMPTION_LINESIDE");
    let load = parse_device_list(&load_text).unwrap();
    assert_eq!(
        consumption_role(load.records.iter().map(|r| r.record())),
        MeterRole::Load
    );
    // The role is in the record's JSON, from the one table of fields.
    let json = serde_json::to_string(
        &load
            .records
            .iter()
            .find(|r| {
                r.record().record_type() == 140 && r.record().serial() == Some("PVS6M12345678c")
            })
            .unwrap()
            .record(),
    )
    .unwrap();
    assert!(json.contains(r#""meter_role":"load""#), "{json}");
    // Without a subtype (and with no negative reading) the role stays unknown.
    let unknown_text = text
        .replace(
            r#""consumption_subtype_enum": "NET_CONSUMPTION_LOADSIDE","#,
            "",
        )
        .replace(r#""subtype": "NET_CONSUMPTION_LOADSIDE","#, "");
    let unknown = parse_device_list(&unknown_text).unwrap();
    let role = consumption_role(unknown.records.iter().map(|r| r.record()));
    assert!(
        matches!(role, MeterRole::Unknown | MeterRole::Net),
        "{role:?}"
    );
}

/// The karak2112 poll (build 61846): livedata and the `c` meter's counter.
fn karak(
    msmt: &str,
    time: i64,
    step_kwh: f64,
    meter_kwh: f64,
    meter_kw: f64,
    load_en: f64,
) -> String {
    let devices = poll_44(msmt, step_kwh, 0.12, meter_kwh, meter_kw);
    let pv_en = 63686.29 + step_kwh * 44.0;
    let net_en = load_en - pv_en;
    format!(
        r#"{{"/sys/livedata/time": "{time}", "/sys/livedata/pv_en": "{pv_en:.2}",
        "/sys/livedata/net_en": "{net_en:.2}", "/sys/livedata/site_load_en": "{load_en:.2}",
        {}"#,
        &devices[1..]
    )
}

#[test]
fn the_varserver_livedata_identity_tells_a_load_meter_and_its_intervals_follow_it() {
    // 62,972.67 kWh on the `c` meter, site_load_en 62,972.78, pv_en 63,686.29, net_en -713.51.
    let first = karak(
        "2025-07-15T15:10:00Z",
        1_752_592_200,
        0.0,
        62972.67,
        1.64,
        62972.78,
    );
    let vars = parse_vars(&first).unwrap();
    assert_eq!(
        consumption_role(vars.records().map(|r| r.record())),
        MeterRole::Load
    );
    // The 61845 dump's `c` meter tracks net_en (and reads negative power): net.
    let dump = parse_vars(sample("pvs6-61845-varserver-dump.json")).unwrap();
    let roles: Vec<MeterRole> = dump
        .records()
        .filter_map(|r| match r.record() {
            Record::Meter(m) if m.meter_kind == MeterKind::Consumption => Some(m.role),
            _ => None,
        })
        .collect();
    assert_eq!(roles, [MeterRole::Net]);

    // Five minutes later the meter counted 137 Wh of load and the inverters 440 Wh.
    let second = karak(
        "2025-07-15T15:15:00Z",
        1_752_592_500,
        0.01,
        62972.807,
        1.64,
        62972.917,
    );
    let rows = rows_of(&[first, second]);
    assert_eq!(rows.len(), 2);
    let last = &rows[1];
    assert_eq!(last.production_wh, 440.0);
    assert_eq!(last.consumption_wh, Some(137.0)); // the meter's own step
    assert_eq!(last.net_wh, Some(-303.0)); // consumption - production
    assert!(!last.flags.contains(Flag::MeterRoleUnknown));
    // The first interval: the load from the meter's power, the net unknown (production was not
    // measured).
    let first_row = &rows[0];
    assert_eq!(first_row.consumption_wh, Some(136.667));
    assert_eq!(first_row.net_wh, None);
}

#[test]
fn a_consumption_meter_whose_role_nothing_tells_flags_its_intervals() {
    // No livedata, no subtype, the meter never negative: taken as net, and flagged.
    let polls = [
        poll_44("2025-07-15T15:10:00Z", 0.0, 0.12, 500.0, 0.5),
        poll_44("2025-07-15T15:15:00Z", 0.01, 0.12, 500.042, 0.5),
    ];
    let rows = rows_of(&polls);
    assert!(rows
        .iter()
        .all(|r| r.flags.contains(Flag::MeterRoleUnknown)));
    assert_eq!(rows[1].net_wh, Some(42.0));
    assert_eq!(rows[1].consumption_wh, Some(482.0));
    // One negative power reading settles it: net.
    let polls = [
        poll_44("2025-07-15T15:10:00Z", 0.0, 0.12, 500.0, -0.5),
        poll_44("2025-07-15T15:15:00Z", 0.01, 0.12, 499.958, -0.5),
    ];
    let rows = rows_of(&polls);
    assert!(rows
        .iter()
        .all(|r| !r.flags.contains(Flag::MeterRoleUnknown)));
    assert_eq!(rows[1].consumption_wh, Some(398.0));
}

/// A telemetry `power` frame with the given params (values as JSON text).
fn power_frame(params: &[(&str, String)]) -> String {
    let body: Vec<String> = params
        .iter()
        .map(|(k, v)| format!(r#""{k}":{v}"#))
        .collect();
    format!(
        r#"{{"notification":"power","params":{{{}}}}}"#,
        body.join(",")
    )
}

#[test]
fn telemetry_frames_carrying_some_fields_give_the_same_state_and_intervals_as_full_ones() {
    // Ten minutes at one frame a second. Production changes every second, the grid every other
    // second, the battery every third, the state of charge every 60 s: a partial frame carries
    // only the fields that changed (and `time`, in seconds or milliseconds frame by frame).
    let start = 1_759_428_000_i64;
    let value = |s: i64| {
        let pv = 1000.0 + s as f64 * 0.0005;
        let net = 2000.0 - (s / 2) as f64 * 0.0004;
        let ess = -50.0 + (s / 3) as f64 * 0.0003;
        let soc = 0.5 + (s / 60) as f64 * 0.01;
        [pv, net, ess, soc]
    };
    let keys = ["pv_en", "net_en", "ess_en", "soc"];
    let mut full = Vec::new();
    let mut partial = Vec::new();
    for s in 0..=600 {
        let time = if s % 2 == 0 {
            format!("{}", start + s)
        } else {
            format!("{}", (start + s) * 1000)
        };
        let now = value(s);
        let mut all = vec![("time", time.clone())];
        let mut some = vec![("time", time)];
        for (i, key) in keys.iter().enumerate() {
            all.push((key, format!("\"{:.4}\"", now[i])));
            if s == 0 || value(s - 1)[i] != now[i] {
                some.push((key, format!("{:.4}", now[i])));
            }
        }
        full.push(power_frame(&all));
        partial.push(power_frame(&some));
    }
    let decode = |frames: &[String]| {
        let mut decoder = TelemetryDecoder::new();
        let states: Vec<SiteTotals> = frames
            .iter()
            .map(|f| decoder.decode(f.as_bytes()).unwrap().unwrap())
            .collect();
        (states, *decoder.stats())
    };
    let (full_states, _) = decode(&full);
    let (partial_states, stats) = decode(&partial);
    assert_eq!(stats.power, 601);
    let fields = |site: &SiteTotals| {
        let mut v = Vec::new();
        site.visit_fields(|name, value| v.push((name, format!("{value:?}"))));
        v
    };
    for (i, (a, b)) in full_states.iter().zip(&partial_states).enumerate() {
        assert_eq!(fields(a), fields(b), "frame {i}");
    }
    // Each says what its own frame carried: every field in full frames, the changes in partial.
    assert!(full_states[7].carried.contains("net_en"));
    assert!(partial_states[7].carried.contains("pv_en"));
    assert!(!partial_states[7].carried.contains("net_en")); // 7 / 2 = 6 / 2
    assert!(!partial_states[7].carried.contains("soc"));
    assert_eq!(
        partial_states[60].carried.iter().collect::<Vec<_>>(),
        ["time", "pv_en", "net_en", "ess_en", "soc"]
    );
    let intervals = |states: &[SiteTotals]| {
        let mut acc = IntervalAccumulator::new(IntervalConfig::documents());
        for site in states {
            acc.add_site_totals(site);
        }
        acc.finish()
    };
    let (a, b) = (intervals(&full_states), intervals(&partial_states));
    assert_eq!(a.len(), 3);
    assert_eq!(a, b);
    let total = |f: fn(&Interval) -> Option<f64>| {
        (b.iter().filter_map(f).sum::<f64>() * 1000.0).round() / 1000.0
    };
    assert_eq!(total(|r| Some(r.production_wh)), 300.0);
    assert_eq!(total(|r| r.net_wh), -120.0);
    assert_eq!(total(|r| r.battery_wh), 60.0);
    assert_eq!(b.last().unwrap().battery_soc_pct, Some(60.0)); // `soc` 0.6: percent
}

#[test]
fn a_field_not_carried_for_fifteen_minutes_is_no_longer_held() {
    let mut decoder = TelemetryDecoder::new();
    let t = 1_759_428_000_i64;
    let frame = |time: i64, extra: &str| {
        format!(r#"{{"notification":"power","params":{{"time":{time},"pv_en":1000.5{extra}}}}}"#)
    };
    let first = decoder
        .decode(frame(t, r#","soc":0.5"#).as_bytes())
        .unwrap()
        .unwrap();
    assert_eq!(first.battery_soc_pct, Some(50.0));
    let held = decoder
        .decode(frame(t + 900, "").as_bytes())
        .unwrap()
        .unwrap();
    assert_eq!(held.battery_soc_pct, Some(50.0));
    let gone = decoder
        .decode(frame(t + 901, "").as_bytes())
        .unwrap()
        .unwrap();
    assert_eq!(gone.battery_soc_pct, None);
    // A frame that carries a field as not reported ("nan") makes it not reported at once.
    decoder
        .decode(frame(t + 902, r#","soc":0.7"#).as_bytes())
        .unwrap();
    let nan = decoder
        .decode(frame(t + 903, r#","soc":"nan""#).as_bytes())
        .unwrap()
        .unwrap();
    assert_eq!(nan.battery_soc_pct, None);
    assert!(nan.carried.contains("soc"));
}

/// `poll_44` with two SunVaults and livedata whose `ess_en` moves otherwise than they do.
fn battery_poll(msmt: &str, n: f64) -> String {
    let devices = poll_44(msmt, 0.01 * n, 0.12, 500.0 - 0.305 * n, -3.66);
    let mut entries = Vec::new();
    for (i, (discharged, charged, soc)) in [
        (100.0 + 0.1 * n, 200.0, 0.5),
        (300.0, 400.0 + 0.04 * n, 0.7),
    ]
    .into_iter()
    .enumerate()
    {
        let dev = format!("/sys/devices/ess/{i}");
        entries.push(format!(r#""{dev}/sn": "BAT{i}""#));
        entries.push(format!(r#""{dev}/msmtEps": "{msmt}""#));
        entries.push(format!(r#""{dev}/posLtea3phsumKwh": "{discharged:.3}""#));
        entries.push(format!(r#""{dev}/negLtea3phsumKwh": "{charged:.3}""#));
        entries.push(format!(r#""{dev}/socVal": "{soc}""#));
    }
    entries.push(format!(
        r#""/sys/livedata/ess_en": "{:.3}""#,
        -490.0 + 0.5 * n
    ));
    entries.push(r#""/sys/livedata/soc": "0.9""#.to_owned());
    let time = chrono::DateTime::parse_from_rfc3339(msmt)
        .unwrap()
        .timestamp();
    entries.push(format!(r#""/sys/livedata/time": "{time}""#));
    format!("{{{},\n{}", entries.join(",\n"), &devices[1..])
}

#[test]
fn two_polls_of_a_battery_site_give_the_battery_energy_of_its_own_counters() {
    let polls = [
        battery_poll("2025-07-15T15:10:00Z", 0.0),
        battery_poll("2025-07-15T15:15:00Z", 1.0),
    ];
    assert_eq!(parse_vars(&polls[0]).unwrap().batteries.len(), 2);
    let rows = rows_of(&polls);
    assert_eq!(rows.len(), 2);
    let last = &rows[1];
    // BAT0 discharged 100 Wh, BAT1 charged 40 Wh: +60 Wh into the house (not ess_en's 500).
    assert_eq!(last.battery_wh, Some(60.0));
    // The mean of the two states of charge at the interval's end (50 % and 70 %).
    assert_eq!(last.battery_soc_pct, Some(60.0)); // percent, from `socVal` 0.5 and 0.7
                                                  // consumption = production + net + battery = 440 - 305 + 60.
    assert_eq!(last.consumption_wh, Some(195.0));
    // The first poll: every counter's first reading, so no consumption.
    assert_eq!(rows[0].consumption_wh, None);
}

/// Issue 22: a telemetry `soc` is a fraction on the wire and percent in the site totals; over 1
/// is a problem of the frame (as any bad value of a frame is), never 100 times too high.
#[test]
fn telemetry_state_of_charge_is_percent_and_over_one_is_a_problem() {
    let frame = |soc: &str| {
        format!(r#"{{"notification":"power","params":{{"time":1759428000,"soc":{soc}}}}}"#)
    };
    let mut decoder = TelemetryDecoder::new();
    for (soc, pct) in [
        ("0", 0.0),
        ("1", 100.0),
        (r#""1.000000""#, 100.0),
        ("0.6", 60.0),
    ] {
        let site = decoder.decode(frame(soc).as_bytes()).unwrap().unwrap();
        assert_eq!(site.battery_soc_pct, Some(pct), "{soc}");
    }
    let mut decoder = TelemetryDecoder::new();
    for soc in ["1.5", r#""86""#] {
        let err = decoder.decode(frame(soc).as_bytes()).unwrap_err();
        assert_eq!(
            err.kind,
            sunpower_proto::DocumentProblemKind::InvalidValue {
                field: "soc",
                expected: sunpower_proto::Expected::Fraction,
                found: soc.trim_matches('"').into()
            }
        );
    }
    assert_eq!(decoder.stats().errors, 2);
    // Nothing was taken from the refused frames: no state of charge is held.
    let site = decoder
        .decode(br#"{"notification":"power","params":{"time":1759428001,"pv_en":1}}"#)
        .unwrap()
        .unwrap();
    assert_eq!(site.battery_soc_pct, None);
}

#[test]
fn a_long_silence_of_per_second_telemetry_does_not_set_the_interval_length() {
    // Two hours at one frame a second, four hours silent, one more hour: the readings under 30 s
    // apart vote for the default 5 minutes, the one silence of 4 h does not win.
    let start = 1_780_300_800_i64; // 2026-06-01 08:00 UTC
    let mut decoder = TelemetryDecoder::new();
    let mut acc = IntervalAccumulator::new(IntervalConfig::documents());
    for s in (0..2 * 3600).chain(6 * 3600..7 * 3600) {
        let frame = power_frame(&[
            ("time", (start + s).to_string()),
            ("pv_en", format!("\"{:.4}\"", 1000.0 + s as f64 * 0.0005)),
        ]);
        acc.add_site_totals(&decoder.decode(frame.as_bytes()).unwrap().unwrap());
    }
    assert_eq!(acc.cadence().num_seconds(), 300);
    let rows = acc.finish();
    assert!(rows
        .iter()
        .all(|r| r.interval_end - r.interval_start == chrono::TimeDelta::minutes(5)));
    // Every counter step is somewhere: 7 h of 1.8 kW less the first frame's second.
    let total: f64 = rows.iter().map(|r| r.production_wh).sum();
    assert!((total - (7.0 * 3600.0 - 1.0) * 0.5).abs() < 1e-6, "{total}");
}
