//! The line protocol of real records, read back by the InfluxDB IOx project's parser: every
//! line parses, its tags and fields are the record's values, and odd text is escaped.
#![cfg(all(feature = "intervals", feature = "varserver"))]

use influxdb_line_protocol::{parse_lines, FieldValue as Field};
use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
use sunpower_proto::{influx, parse_line, parse_vars, Body, Record};

fn body() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/bodies/forum-2017-body.txt"
    ))
    .unwrap()
}

fn float(fields: &[(influxdb_line_protocol::EscapedStr<'_>, Field<'_>)], key: &str) -> Option<f64> {
    fields
        .iter()
        .find(|(k, _)| k.as_str() == key)
        .and_then(|(_, v)| match v {
            Field::F64(f) => Some(*f),
            _ => None,
        })
}

#[test]
fn every_record_of_a_body_reads_back_with_its_values() {
    let body = body();
    let records: Vec<Record<'_>> = Body::new(&body).records().flatten().collect();
    let mut out = String::new();
    let mut written = Vec::new();
    for record in &records {
        if influx::write_record(&mut out, record) {
            written.push(record);
        }
    }
    let lines: Vec<_> = parse_lines(&out)
        .collect::<Result<_, _>>()
        .expect("every line parses");
    assert_eq!(lines.len(), written.len());
    assert!(
        written.len() >= records.len() - 2,
        "only the header and trailer lack values"
    );
    for (line, record) in lines.iter().zip(&written) {
        let ns = record.timestamp().unwrap().timestamp_nanos_opt().unwrap();
        assert_eq!(line.timestamp, Some(ns));
        if let Record::Inverter(inv) = record {
            assert_eq!(line.series.measurement.as_str(), "sunpower_inverter");
            let tags = line.series.tag_set.as_ref().unwrap();
            assert_eq!(tags[0].1.as_str(), inv.serial);
            assert_eq!(
                float(&line.field_set, "lifetime_energy_kwh"),
                inv.lifetime_energy_kwh
            );
            assert_eq!(float(&line.field_set, "ac_power_kw"), inv.ac_power_kw);
        }
    }
}

#[test]
fn site_totals_and_interval_rows_read_back() {
    let vars = parse_vars(
        std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/local-api/pvs6-61845-varserver-dump.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let site = vars.site.clone().unwrap();
    let mut out = String::new();
    assert!(influx::write_site_totals(&mut out, &site, "ZT 1,=x"));
    let line = parse_lines(&out).next().unwrap().unwrap();
    assert_eq!(line.series.tag_set.unwrap()[0].1.as_str(), "ZT 1,=x");
    assert_eq!(float(&line.field_set, "pv_energy_kwh"), site.pv_energy_kwh);

    let body = body();
    let mut acc = IntervalAccumulator::new(IntervalConfig::documents());
    for record in Body::new(&body).records().flatten() {
        acc.add(&record);
    }
    let rows = acc.finish();
    let mut out = String::new();
    for row in &rows {
        assert!(influx::write_interval(&mut out, row));
    }
    let lines: Vec<_> = parse_lines(&out).collect::<Result<_, _>>().unwrap();
    assert_eq!(lines.len(), rows.len());
    for (line, row) in lines.iter().zip(&rows) {
        assert_eq!(
            float(&line.field_set, "production_wh"),
            Some(row.production_wh)
        );
        assert_eq!(line.timestamp, row.interval_start.timestamp_nanos_opt());
    }
}

#[test]
fn odd_text_is_escaped_and_a_record_without_values_gives_no_line() {
    let mut out = String::new();
    // A serial and a model with the protocol's special characters, a text value with quotes.
    let record = parse_line("130\t20170107171000\tS N,1=2\tM \"q\"\\\t\t1.5").unwrap();
    assert!(influx::write_record(&mut out, &record));
    let line = parse_lines(&out).next().unwrap().unwrap();
    let tags = line.series.tag_set.unwrap();
    assert_eq!(tags[0].1.as_str(), "S N,1=2");
    // A backslash, which a tag cannot end with, is a slash.
    assert_eq!(tags[1].1.as_str(), "M \"q\"/");
    assert_eq!(float(&line.field_set, "lifetime_energy_kwh"), Some(1.5));
    // A whole number is still a float (a field's type must not change between lines).
    let mut out = String::new();
    influx::write_record(
        &mut out,
        &parse_line("130\t20170107171000\tS\tM\t\t18").unwrap(),
    );
    assert!(out.contains("lifetime_energy_kwh=18.0 "), "{out}");
    // No value: no line.
    let mut out = String::from("kept\n");
    assert!(!influx::write_record(
        &mut out,
        &parse_line("130\t20170107171000\tS\tM").unwrap()
    ));
    assert!(!influx::write_record(
        &mut out,
        &parse_line("102\ttoken").unwrap()
    ));
    assert_eq!(out, "kept\n");
}
