//! `JsonLines` against serde_json: the same bytes for every record of every sample, for
//! generated lines with odd numeric texts and strings that need escaping, and for records whose
//! values no longer match their line's text (the writer takes fields from the line, where the
//! record's field bounds say they are, only where that is what serde_json prints). The same for
//! records written as a stream decodes them (`BodyStream::feed`), chunk by chunk.
#![cfg(feature = "serde")]

use std::path::Path;

use proptest::prelude::*;
use sunpower_proto::{Body, BodyStream, Channel, JsonLines, JsonRecord, LineError, Record};

fn serde_bytes(record: &Record<'_>, channel: Option<Channel>) -> Vec<u8> {
    serde_json::to_vec(&JsonRecord::new(record, channel)).unwrap()
}

fn direct_bytes(record: &Record<'_>, channel: Option<Channel>) -> Vec<u8> {
    let mut lines = JsonLines::new(Vec::new());
    std::io::Write::write_all(&mut lines, b"previous line\n").unwrap();
    lines.write_record(record, channel).unwrap();
    let mut out = lines.into_inner().unwrap();
    // Appends, leaving what was there, and ends the line.
    assert_eq!(&out[..14], b"previous line\n");
    assert_eq!(out.pop(), Some(b'\n'));
    out.split_off(14)
}

fn assert_same(record: &Record<'_>, channel: Option<Channel>) {
    let want = serde_bytes(record, channel);
    let got = direct_bytes(record, channel);
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&want),
        "{record:?}"
    );
    assert_eq!(got, want);
}

/// `bytes` fed in `chunk`-byte pieces, each record written by serde_json and by one
/// `JsonLines` as the stream hands it over: the same lines; and the same errors as the whole
/// body decoded at once.
fn assert_decoded_same(bytes: &[u8], chunk: usize, channel: Option<Channel>) -> usize {
    let (mut want, mut errors) = (Vec::new(), Vec::new());
    let mut lines = JsonLines::new(Vec::new());
    let mut stream = BodyStream::new();
    let mut on_record = |item: Result<Record<'_>, LineError>| match item {
        Ok(record) => {
            want.extend(serde_bytes(&record, channel));
            want.push(b'\n');
            lines.write_record(&record, channel).unwrap();
        }
        Err(e) => errors.push(e),
    };
    for piece in bytes.chunks(chunk.max(1)) {
        stream.feed(piece, &mut on_record);
    }
    stream.finish(&mut on_record);
    let got = lines.into_inner().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&want)
    );
    let whole: Vec<LineError> = Body::new(bytes).records().filter_map(Result::err).collect();
    assert_eq!(errors, whole);
    want.iter().filter(|&&b| b == b'\n').count()
}

/// Every record of a body, on each channel; returns how many records there were.
fn check_body(body: &[u8]) -> usize {
    for (chunk, channel) in [
        (1 << 16, None),
        (7, Some(Channel::Data)),
        (1 << 20, Some(Channel::Command)),
    ] {
        assert_decoded_same(body, chunk, channel);
    }
    let mut n = 0;
    for record in Body::new(body).records().flatten() {
        for channel in [None, Some(Channel::Data), Some(Channel::Command)] {
            assert_same(&record, channel);
        }
        n += 1;
    }
    n
}

#[test]
fn every_sample_body_writes_as_serde_json_does() {
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/bodies")];
    // The project's shared samples, where this checkout has them.
    dirs.push("/work/shared/samples".into());
    let mut bodies = 0;
    for dir in dirs.iter().filter(|d| d.is_dir()) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "txt") && !path.ends_with("README.txt") {
                let n = check_body(&std::fs::read(&path).unwrap());
                assert!(n > 0, "{path:?} has no records");
                bodies += 1;
            }
        }
    }
    assert!(bodies >= 1);
}

#[cfg(feature = "devicelist")]
#[test]
fn every_device_list_and_vars_record_writes_as_serde_json_does() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut records = 0;
    for dir in ["devicelist", "local-api"] {
        for entry in std::fs::read_dir(data.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let doc = std::fs::read(&path).unwrap();
            if let Ok(list) = sunpower_proto::parse_device_list(&doc) {
                for kept in &list.records {
                    assert_same(&kept.record(), None);
                    records += 1;
                }
            }
            #[cfg(feature = "varserver")]
            if let Ok(vars) = sunpower_proto::parse_vars(&doc) {
                for kept in vars.records() {
                    assert_same(&kept.record(), Some(Channel::Data));
                    records += 1;
                }
            }
        }
    }
    assert!(records > 10, "{records}");
}

#[test]
fn every_field_name_needs_no_json_escaping() {
    let lines = [
        "100\tSPMS\t10\tZT1\t20170107171925",
        "102\tabc",
        "120\t20170107171500\tZT1\t0\t445\t0\t0\t0\t81666\t0.21\t24876\t12408",
        "122\t20260105120000\tZT01\tSMSPVS20R1\t1.0\t2.1\tPV Supervisor\tSMS2.0",
        "130\t20170107171000\t4140\tAC\t\t18.5\t0.04\t245.1\t0.36\t0.044\t59.06\t0.77\t1.25\t59.97\t0",
        "131\t20260105120000\t12345\tFRONIUS IG 4000\t1\t1511\t502",
        "140\t20170107171000\tPVS5M508095c\tPVS5M0400c\t125\t607\t0.7\t0.7\t1.3\t0.5\t59.9\t0",
        "141\t20170107171000\tPVS5M508095c\tPVS5M0400c\t1\t5.6\t5.5\t122.7\t122.6\t0.1\t0.5\t120.2",
        "170\t20170107171000\tGF1\t0",
    ];
    for line in lines {
        let mut record = Record::parse(line).unwrap();
        if let Record::Meter(m) = &mut record {
            m.import_energy_kwh = Some(1.0);
        }
        let mut names = 0;
        record.visit_output(Some(Channel::Data), |name, _| {
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{name}"
            );
            names += 1;
        });
        assert!(names >= 3);
        assert_same(&record, Some(Channel::Data));
    }
}

#[test]
fn odd_numeric_texts_print_as_serde_json_prints_their_values() {
    let texts = [
        "5",
        "0.10",
        "-0",
        "+1.5",
        "-0.0",
        "0.0",
        "0",
        "1e3",
        "1E-7",
        ".5",
        "5.",
        "00.5",
        "0.000001",
        "0.00001",
        "0.0000123",
        "0.00000123",
        "1e308",
        "-1e-300",
        "123456789012345678901234.5",
        "9007199254740993.0",
        "999999999999999.0",
        "9999999999999999.0",
        "1000000000000000.0",
        "10000000000000000.0",
        "0.30000000000000004",
        "0.1234567890123456789",
        "123456789012345.6",
        "12345678901234.56",
        "-245.8962",
        "2868.0454",
        "1.7976931348623157e308",
        "4.9e-324",
        "100.0",
        "100",
        "1.50",
        "-.5",
        "+0",
        "+.5e1",
        // Zeros ending the fraction: the text without them is the value's.
        "5.50",
        "12.00",
        "-3.10",
        "-0.00",
        "0.0000",
        "0.04200",
        "100.00",
        "1.0000000",
        "0.000010",
        "0.0000010",
        "00.50",
        "+5.50",
        "5.0500",
    ];
    for text in texts {
        for at in 4..14 {
            let mut fields = vec!["140", "20170107171000", "PVS5M1p", "M"];
            fields.extend(std::iter::repeat_n("", 8));
            fields[at.min(11)] = text;
            let line = fields.join("\t");
            if let Ok(record) = Record::parse(&line) {
                assert_same(&record, None);
            }
            assert_decoded_same(line.as_bytes(), 1 << 16, None);
        }
    }
}

/// The `raw` array is written a word (8 bytes) at a time when only TABs need escaping: a byte
/// JSON escapes at every place of a line (first, last, either side of a TAB, in the last short
/// word), in lines of every length up to three words, and TABs there too.
#[test]
fn raw_strings_escape_every_byte_at_every_place() {
    let specials = [
        "\"", "\\", "\n", "\r", "\u{0}", "\u{1f}", "\u{7f}", "é", "😀", "\t",
    ];
    let mut checked = 0;
    for len in 0..26 {
        // Fields of 1 to 4 bytes: TABs at many places of a word.
        let base: String = (0..len)
            .map(|i| {
                if i % (i % 4 + 2) == 1 {
                    '\t'
                } else {
                    char::from(b'a' + (i % 26) as u8)
                }
            })
            .collect();
        for special in specials {
            for at in 0..=base.len() {
                let line = format!(
                    "170\t20170107171000\tS{}{special}{}",
                    &base[..at],
                    &base[at..]
                );
                let record = Record::parse(&line).unwrap();
                assert_same(&record, None);
                if !matches!(special, "\n" | "\r") {
                    // (A line ending is a line ending to a stream.)
                    assert_eq!(assert_decoded_same(line.as_bytes(), 1 << 16, None), 1);
                }
                checked += 1;
                // The fields of the line are found again for the numbers after the byte.
                if special != "\t" {
                    let line = format!(
                        "141\t20170107171000\tS{special}{}\tM\t1\t5.50\t-1.25\t\t0.0\t\t\t+1",
                        &base[..at].replace('\t', " ")
                    );
                    assert_same(&Record::parse(&line).unwrap(), Some(Channel::Data));
                    assert_decoded_same(line.as_bytes(), 1 << 16, Some(Channel::Data));
                }
            }
        }
    }
    assert!(checked > 3000);
}

/// A field as a generator might write one: decimals of every shape, integers, text with
/// escapes, empty.
fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "-?(0|[1-9][0-9]{0,6})\\.[0-9]{1,5}",
        2 => "-?(0|[1-9][0-9]{0,17})\\.[0-9]{0,18}",
        2 => "[+-]?[0-9]{0,20}(\\.[0-9]{0,20})?([eE][+-]?[0-9]{1,3})?",
        1 => "-?0\\.0{0,7}[0-9]{1,4}",
        1 => "[0-9]{1,3}",
        1 => Just(String::new()),
        1 => "[^\t]{0,12}",
        1 => "[\u{0}-\u{1f}\"\\\\a\u{7f}é\u{2028}😀]{0,6}",
    ]
}

fn record_line() -> impl Strategy<Value = String> {
    let kind = prop_oneof![
        Just("100"),
        Just("102"),
        Just("120"),
        Just("122"),
        Just("130"),
        Just("131"),
        Just("140"),
        Just("141"),
        Just("170"),
        Just("999"),
    ];
    let timestamp = prop_oneof![
        8 => (1970u32..2100, 1u32..13, 1u32..29, 0u32..24, 0u32..60)
            .prop_map(|(y, mo, d, h, mi)| format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}00")),
        1 => "[0-9]{14}",
        1 => field(),
    ];
    (
        kind,
        timestamp,
        "[^\t]{1,16}",
        field(),
        prop::collection::vec(field(), 0..14),
    )
        .prop_map(|(kind, ts, serial, model, rest)| {
            let mut fields = vec![kind.to_string(), ts, serial, model];
            fields.extend(rest);
            fields.join("\t")
        })
}

fn channel() -> impl Strategy<Value = Option<Channel>> {
    prop_oneof![
        Just(None),
        Just(Some(Channel::Data)),
        Just(Some(Channel::Command))
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn generated_lines_write_as_serde_json_does(line in record_line(), channel in channel()) {
        if let Ok(record) = Record::parse(&line) {
            prop_assert_eq!(direct_bytes(&record, channel), serde_bytes(&record, channel));
        }
    }

    /// Bodies of generated lines (and what a line ending in a field makes of them), fed in
    /// pieces of any size: the records as a stream hands them over write as serde_json writes
    /// them.
    #[test]
    fn generated_bodies_as_decoded_write_as_serde_json_does(
        lines in prop::collection::vec(record_line(), 1..6),
        chunk in 1usize..300,
        crlf in any::<bool>(),
        channel in channel(),
    ) {
        let body = lines.join(if crlf { "\r\n" } else { "\n" });
        assert_decoded_same(body.as_bytes(), chunk, channel);
    }

    /// Values that no longer match their field's text (a caller changed them), any double,
    /// non-finite ones included: the value is what is written.
    #[test]
    fn changed_values_write_as_serde_json_does(
        line in record_line(),
        value in prop_oneof![any::<f64>(), (-1e6f64..1e6), Just(0.1), Just(-0.0)],
        count in any::<u64>(),
    ) {
        let Ok(mut record) = Record::parse(&line) else { return Ok(()) };
        match &mut record {
            Record::Inverter(r) => {
                r.ac_power_kw = Some(value);
                r.aux = Some(count as i64);
                // Text from elsewhere, to escape: not taken from the line.
                r.model = Some("M\"x");
            }
            Record::Meter(r) => { r.real_power_kw = Some(value); r.export_energy_kwh = Some(value); }
            Record::MeterLegs(r) => r.leg2_power_kw = Some(value),
            Record::SupervisorStatus(r) => { r.cpu_load = Some(value); r.uptime_s = Some(count); }
            _ => {}
        }
        prop_assert_eq!(direct_bytes(&record, None), serde_bytes(&record, None));
    }
}

/// A line too long for its field bounds to be kept (over 64 KiB) is read field by field from its
/// text instead: the same record, the same JSON.
#[test]
fn a_line_longer_than_the_kept_bounds_decodes_and_writes_the_same() {
    let model = "M".repeat(70_000);
    let line = format!(
        "130\t20170107171000\t414051637009125\t{model}\t\t18.5466\t0.0417\t245.1503\t0.3643\t0.044\t59.0692\t0.7733\t1.25\t59.9772\t0"
    );
    let record = Record::parse(&line).unwrap();
    let Record::Inverter(inverter) = &record else {
        panic!("{record:?}")
    };
    assert_eq!(inverter.serial, "414051637009125");
    assert_eq!(inverter.model.map(str::len), Some(70_000));
    assert_eq!(
        (
            inverter.lifetime_energy_kwh,
            inverter.frequency_hz,
            inverter.status
        ),
        (Some(18.5466), Some(59.9772), Some(0))
    );
    assert_eq!(record.raw().unwrap().len(), 15);
    assert_eq!(record.raw().unwrap().get(3).map(str::len), Some(70_000));
    assert_same(&record, Some(Channel::Data));
    assert_eq!(assert_decoded_same(line.as_bytes(), 1 << 12, None), 1);
}
