//! End-to-end decoding of whole bodies: the forum sample and hand-made variations of it.

use sunpower_proto::{
    parse_line, Body, ErrorKind, Expected, InverterForm, MeterKind, Record, RecordBuf,
};

const FORUM_BODY: &[u8] = include_bytes!("../../examples/bodies/forum-2017-body.txt");

fn decode(body: &[u8]) -> (Vec<Record<'_>>, Vec<sunpower_proto::LineError>) {
    let mut records = Vec::new();
    let mut errors = Vec::new();
    for item in Body::new(body).records() {
        match item {
            Ok(r) => records.push(r),
            Err(e) => errors.push(e),
        }
    }
    (records, errors)
}

#[test]
fn forum_sample_decodes_every_line_with_the_values_a_person_reads() {
    let (records, errors) = decode(FORUM_BODY);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(records.len(), 30);
    let count = |t| records.iter().filter(|r| r.record_type() == t).count();
    assert_eq!(
        [
            count(100),
            count(120),
            count(130),
            count(140),
            count(141),
            count(102)
        ],
        [1, 1, 24, 2, 1, 1]
    );

    let Record::Header(h) = &records[0] else {
        panic!("{:?}", records[0])
    };
    assert_eq!(h.supervisor_serial, Some("ZT162585000441C1402"));
    assert_eq!(h.tag, Some("SPMS"));
    assert_eq!(h.version, Some("10"));
    assert_eq!(h.sent_at.unwrap().to_rfc3339(), "2017-01-07T17:19:25+00:00");

    let Record::SupervisorStatus(s) = &records[1] else {
        panic!()
    };
    assert_eq!(s.timestamp.to_rfc3339(), "2017-01-07T17:15:00+00:00");
    assert_eq!(
        (
            s.error_count,
            s.comm_errors,
            s.uptime_s,
            s.memory_used_kb,
            s.flash_available_kb
        ),
        (Some(0), Some(445), Some(81666), Some(24876), Some(12408))
    );
    assert_eq!(s.cpu_load, Some(0.21));

    let inv = records
        .iter()
        .find_map(|r| match r {
            Record::Inverter(i) if i.serial == "414051637009125" => Some(i),
            _ => None,
        })
        .unwrap();
    assert_eq!(inv.form, InverterForm::Collapsed);
    assert_eq!(inv.lifetime_energy_kwh, Some(18.5466));
    assert_eq!(inv.ac_power_kw, Some(0.0417));
    assert_eq!(inv.ac_voltage_v, Some(245.1503));
    assert_eq!(inv.dc_current_a, Some(0.7733));
    assert_eq!(inv.frequency_hz, Some(59.9772));
    assert_eq!(inv.status, Some(0));
    assert_eq!(inv.model, Some("AC_Module_Type_C"));
    assert_eq!(inv.source.raw().unwrap().len(), 14);

    // Negative heatsink temperatures are in the sample.
    assert!(records
        .iter()
        .any(|r| matches!(r, Record::Inverter(i) if i.heatsink_temp_c == Some(-5.5))));

    let legs = records
        .iter()
        .find_map(|r| match r {
            Record::MeterLegs(l) => Some(l),
            _ => None,
        })
        .unwrap();
    let consumption = records
        .iter()
        .find_map(|r| match r {
            Record::Meter(m) if m.meter_kind == MeterKind::Consumption => Some(m),
            _ => None,
        })
        .unwrap();
    let leg_sum = legs.leg1_power_kw.unwrap() + legs.leg2_power_kw.unwrap();
    assert!((leg_sum - consumption.real_power_kw.unwrap()).abs() < 1e-9);
    assert_eq!(consumption.ct_scale, Some(125.0));
    assert_eq!(consumption.lifetime_net_energy_kwh, Some(607.0));

    let Record::Trailer(t) = records.last().unwrap() else {
        panic!()
    };
    assert_eq!(t.token, Some("51oeIKDhOUeah8+9ZCME"));
}

#[test]
fn damaged_value_in_the_middle_is_one_positioned_error_and_every_record_decodes() {
    let text = String::from_utf8(FORUM_BODY.to_vec()).unwrap();
    let line10 = text.lines().nth(9).unwrap();
    let damaged = line10.replacen("\t19.0379\t", "\t19.0x79\t", 1);
    assert_ne!(line10, damaged);
    let body = text.replacen(line10, &damaged, 1).into_bytes();

    let (records, errors) = decode(&body);
    // The damaged lifetime energy costs that field, not the line's record.
    assert_eq!(records.len(), 30);
    let damaged_record = records
        .iter()
        .find(|r| r.raw().unwrap().as_str() == damaged)
        .unwrap();
    let Record::Inverter(inverter) = damaged_record else {
        panic!("{damaged_record:?}")
    };
    assert_eq!(inverter.lifetime_energy_kwh, None);
    assert!(inverter.ac_power_kw.is_some());
    assert_eq!(errors.len(), 1);
    let e = &errors[0];
    assert_eq!(e.line, 10);
    assert_eq!(e.offset, text.find(line10).unwrap());
    assert_eq!(
        e.kind,
        ErrorKind::InvalidField {
            index: 4,
            name: "lifetime_energy_kwh",
            expected: Expected::Decimal,
            found: "19.0x79".into()
        }
    );
}

#[test]
fn crlf_and_lf_bodies_decode_alike_and_empty_lines_are_skipped_but_counted() {
    let crlf = String::from_utf8(FORUM_BODY.to_vec())
        .unwrap()
        .replace('\n', "\r\n");
    let (a, _) = decode(FORUM_BODY);
    let (b, _) = decode(crlf.as_bytes());
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(
            x.raw().unwrap().iter().collect::<Vec<_>>(),
            y.raw().unwrap().iter().collect::<Vec<_>>()
        );
    }

    let body = b"\n\n102\tabc\n\r\n1x\n";
    let (records, errors) = decode(body);
    assert_eq!(records.len(), 1);
    assert_eq!(errors[0].line, 5);
    assert_eq!(errors[0].offset, 12);
}

#[test]
fn full_form_130_keeps_aux_and_model_with_spaces() {
    let line = "130\t20260105121500\t27121234\tFRONIUS IG 4000\t3\t45123.5\t2.5\t240.1\t10.2\t2.6\t350\t7.4\t41\t60.01\t0";
    let Record::Inverter(inv) = parse_line(line).unwrap() else {
        panic!()
    };
    assert_eq!(inv.form, InverterForm::Full);
    assert_eq!(inv.model, Some("FRONIUS IG 4000"));
    assert_eq!(inv.aux, Some(3));
    assert_eq!(inv.lifetime_energy_kwh, Some(45123.5));
    assert_eq!(inv.status, Some(0));
    // An empty field 4 in the full form is "not reported", and later fields stay in place.
    let line = line.replacen("\t3\t", "\t\t", 1);
    let Record::Inverter(inv) = parse_line(&line).unwrap() else {
        panic!()
    };
    assert_eq!((inv.aux, inv.lifetime_energy_kwh), (None, Some(45123.5)));
}

#[test]
fn a_130_line_with_a_damaged_ac_power_yields_its_lifetime_energy() {
    let body =
        b"130\t20170107171000\t414051637009125\tAC_Module_Type_C\t\t18.5466\t0.04x7\t245.1503\t\
                 0.3643\t0.044\t59.0692\t0.7733\t1.25\t59.9772\t0\n102\tabc\n";
    let items: Vec<_> = Body::new(body).records().collect();
    assert_eq!(items.len(), 3, "{items:?}");
    let Ok(Record::Inverter(inverter)) = &items[0] else {
        panic!("{items:?}")
    };
    assert_eq!(inverter.serial, "414051637009125");
    assert_eq!(inverter.lifetime_energy_kwh, Some(18.5466));
    assert_eq!(inverter.ac_power_kw, None);
    assert_eq!(inverter.ac_voltage_v, Some(245.1503));
    assert_eq!(inverter.status, Some(0));
    // Then the damaged field's error, with its position and the text found.
    let error = items[1].as_ref().unwrap_err();
    assert_eq!((error.line, error.offset), (1, 0));
    assert_eq!(
        error.kind,
        ErrorKind::InvalidField {
            index: 6,
            name: "ac_power_kw",
            expected: Expected::Decimal,
            found: "0.04x7".into()
        }
    );
    assert!(matches!(items[2], Ok(Record::Trailer(_))));
    // Several damaged values: each is its own error, in field order; a line read alone is strict.
    let line = "120\t20170107171500\tZT1\tx\t445\t-1\t0\t0\t81666\tload\t24876\t12408";
    let items: Vec<_> = Body::new(line.as_bytes()).records().collect();
    let Ok(Record::SupervisorStatus(status)) = &items[0] else {
        panic!("{items:?}")
    };
    assert_eq!((status.error_count, status.comm_errors), (None, Some(445)));
    assert_eq!((status.skipped_scans, status.cpu_load), (None, None));
    assert_eq!(status.uptime_s, Some(81666));
    let fields: Vec<_> = items[1..]
        .iter()
        .map(|e| e.as_ref().unwrap_err().kind.field_index())
        .collect();
    assert_eq!(fields, [Some(3), Some(5), Some(9)]);
    assert_eq!(parse_line(line).unwrap_err().kind.field_index(), Some(3));
}

#[test]
fn error_in_collapsed_form_names_the_field_as_sent() {
    let line = "130\t20170107171000\tX\tM\t1\tbad\t1\t1\t1\t1\t1\t1\t1\t0";
    let err = parse_line(line).unwrap_err();
    assert_eq!(err.kind.field_index(), Some(5));
    assert!(err.to_string().contains("ac_power_kw"), "{err}");
}

#[test]
fn fewer_fields_are_not_reported_and_extra_fields_are_kept() {
    let Record::Meter(m) =
        parse_line("140\t20170107171000\tPVS5M1p\tPVS5M0400p\t50\t12.5").unwrap()
    else {
        panic!()
    };
    assert_eq!(m.lifetime_net_energy_kwh, Some(12.5));
    assert_eq!(
        (m.real_power_kw, m.frequency_hz, m.status),
        (None, None, None)
    );
    assert_eq!(m.meter_kind, MeterKind::Production);

    let line = "141\t20170107171000\tPVS5M508095c\tPVS5M0400c\t1\t5.6946\t5.5807\t122.7802\t122.6486\t0.1709\t0.5366\t120.27\t7\t\tz";
    let r = parse_line(line).unwrap();
    assert_eq!(r.extra_fields().collect::<Vec<_>>(), ["7", "", "z"]);
    assert_eq!(r.raw().unwrap().len(), 15);
}

#[test]
fn empty_quantities_are_not_reported_not_zero() {
    let line = "120\t20170107171500\tZT1\t\t\t\t\t\t\t\t\t";
    let Record::SupervisorStatus(s) = parse_line(line).unwrap() else {
        panic!()
    };
    assert_eq!(
        (s.error_count, s.cpu_load, s.flash_available_kb),
        (None, None, None)
    );
}

#[test]
fn unknown_types_are_kept_with_timestamp_and_serial_when_present() {
    let r = parse_line("170\t20170107171000\tGFM1\t1\t2").unwrap();
    assert_eq!(r.record_type(), 170);
    assert_eq!(r.serial(), Some("GFM1"));
    assert_eq!(r.raw().unwrap().len(), 5);
    let r = parse_line("101\tnot-a-time\tx").unwrap();
    assert_eq!(
        (r.record_type(), r.timestamp(), r.serial()),
        (101, None, None)
    );
}

#[test]
fn non_utf8_line_is_an_error_for_that_line_only() {
    let body = b"102\ta\n130\t20170107171000\t\xff\xfe\tM\n102\tb\n";
    let (records, errors) = decode(body);
    assert_eq!(records.len(), 2);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, 2);
    assert_eq!(errors[0].kind, ErrorKind::InvalidUtf8 { valid_up_to: 19 });
}

#[test]
fn data_records_need_a_valid_timestamp_and_a_serial() {
    let err = parse_line("130\t20170107251000\tX").unwrap_err();
    assert!(matches!(
        err.kind,
        ErrorKind::InvalidField {
            index: 1,
            expected: Expected::Timestamp,
            ..
        }
    ));
    let err = parse_line("130\t20170107171000").unwrap_err();
    assert!(matches!(
        err.kind,
        ErrorKind::MissingField {
            index: 2,
            name: "serial",
            ..
        }
    ));
    let err = parse_line("140").unwrap_err();
    assert!(matches!(err.kind, ErrorKind::MissingField { index: 1, .. }));
}

#[test]
fn long_bad_values_are_cut_in_errors() {
    let long = "9".repeat(10_000) + "x";
    let err = parse_line(&format!("130\t20170107171000\tX\tM\t{long}")).unwrap_err();
    let ErrorKind::InvalidField { found, .. } = err.kind else {
        panic!()
    };
    assert!(found.len() <= 51, "{}", found.len());
}

#[test]
fn record_buf_keeps_a_record_after_the_body_is_gone() {
    let kept: Vec<RecordBuf> = {
        let body = FORUM_BODY.to_vec();
        Body::new(&body)
            .records()
            .map(|r| RecordBuf::from(&r.unwrap()))
            .collect()
    };
    assert_eq!(kept.len(), 30);
    assert_eq!(kept[2].record().serial(), Some("414051637009125"));
}

#[cfg(feature = "serde")]
#[test]
fn json_shape_matches_design() {
    let (records, _) = decode(FORUM_BODY);
    let inv = serde_json::to_value(&records[2]).unwrap();
    assert_eq!(inv["record_type"], 130);
    assert_eq!(inv["raw"][2], "414051637009125");
    assert_eq!(inv["raw"].as_array().unwrap().len(), 14);
    assert_eq!(inv["timestamp"], "2017-01-07T17:10:00Z");
    assert_eq!(inv["lifetime_energy_kwh"], 18.5466);
    assert_eq!(inv["aux"], serde_json::Value::Null);
    assert!(inv.get("channel").is_none());
    let meter =
        serde_json::to_value(records.iter().find(|r| r.record_type() == 140).unwrap()).unwrap();
    assert_eq!(meter["meter_kind"], "consumption");
    assert_eq!(meter["ct_scale"], 125.0);
    assert_eq!(meter.as_object().unwrap().len(), 2 + 12);
}

/// docs/design.md lists each kind's typed field names: the same names, in the same order, as
/// the kind's table (`Record::fields`), from which the Arrow schema comes and against which the
/// visitor is checked.
#[test]
fn the_design_docs_field_lists_are_the_field_tables() {
    let design = include_str!("../../docs/design.md");
    let section = design
        .split("### Typed field names")
        .nth(1)
        .and_then(|s| s.split("\n### ").next())
        .unwrap();
    for record_type in [100, 102, 120, 122, 130, 131, 140, 141] {
        let start = format!("\n- {record_type}: ");
        let item = section.split(&start).nth(1).unwrap();
        let item = item.split("\n- ").next().unwrap();
        // The backticked names; quoted values (`"production"`) are not names.
        let listed: Vec<&str> = item
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|name| !name.starts_with('"'))
            .collect();
        let table: Vec<&str> = Record::fields(record_type).iter().map(|f| f.name).collect();
        assert_eq!(listed, table, "{record_type}");
    }
    // The kinds no collector line has, by name.
    for (kind, fields) in [
        ("battery", sunpower_proto::Battery::FIELDS),
        ("transfer_switch", sunpower_proto::TransferSwitch::FIELDS),
        (
            "supervisor_health",
            sunpower_proto::SupervisorHealth::FIELDS,
        ),
    ] {
        let start = format!("\n- `\"{kind}\"` (");
        let item = section.split(&start).nth(1).unwrap();
        let item = item.split("\n- ").next().unwrap();
        // The names follow the colon; quoted values and wire texts are not names.
        let (_, names) = item.split_once("):").unwrap();
        let listed: Vec<&str> = names
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|name| !name.starts_with('"') && !name.contains("STATE"))
            .collect();
        let table: Vec<&str> = fields.iter().map(|f| f.name).collect();
        assert_eq!(listed, table, "{kind}");
    }
}
