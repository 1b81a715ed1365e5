//! Properties: generated records round-trip through their line form; no input panics.

use proptest::prelude::*;
use sunpower_proto::{parse_line, Body, BodyStream, InverterForm, Record};

/// A non-empty line of a body, as the tests split one: its number (from 1, empty lines
/// counted), its offset, its bytes without LF or CRLF.
#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    number: usize,
    offset: usize,
    bytes: &'a [u8],
}

/// The non-empty lines of `body`.
fn split_lines(body: &[u8]) -> Vec<Line<'_>> {
    let mut offset = 0;
    let mut out = Vec::new();
    for (i, line) in body.split(|&b| b == b'\n').enumerate() {
        let bytes = line.strip_suffix(b"\r").unwrap_or(line);
        if !bytes.is_empty() {
            out.push(Line {
                number: i + 1,
                offset,
                bytes,
            });
        }
        offset += line.len() + 1;
    }
    out
}

fn decimal_value() -> impl Strategy<Value = Option<f64>> {
    // Values as the supervisor writes them: up to 4 decimals, either sign, or not reported.
    prop::option::of((-100_000_000i64..100_000_000i64).prop_map(|v| v as f64 / 10_000.0))
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

fn timestamp() -> impl Strategy<Value = (i32, u32, u32, u32, u32, u32)> {
    (
        1970i32..2200,
        1u32..=12,
        1u32..=28,
        0u32..24,
        0u32..60,
        0u32..60,
    )
}

proptest! {
    #[test]
    fn generated_inverter_lines_parse_back_to_the_same_values(
        ts in timestamp(),
        serial in "[0-9A-Za-z]{1,20}",
        model in "[A-Za-z_ ]{0,20}",
        aux in prop::option::of(-1000i64..1000),
        values in prop::collection::vec(decimal_value(), 9),
        status in prop::option::of(-5i64..100),
        collapsed in any::<bool>(),
        extras in prop::collection::vec("[^\t\r\n]{0,5}", 0..3),
    ) {
        let (y, mo, d, h, mi, s) = ts;
        let mut fields = vec![
            "130".to_string(),
            format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}"),
            serial.clone(),
            model.clone(),
        ];
        if !collapsed {
            fields.push(aux.map(|a| a.to_string()).unwrap_or_default());
        }
        fields.extend(values.iter().map(|v| fmt_opt(*v)));
        fields.push(status.map(|a| a.to_string()).unwrap_or_default());
        // Extras only after a full line: 14 fields in all would mean the collapsed form.
        let extras = if collapsed { vec![] } else { extras };
        fields.extend(extras.iter().cloned());
        let line = fields.join("\t");

        let Record::Inverter(inv) = parse_line(&line).unwrap() else { panic!() };
        prop_assert_eq!(inv.form, if collapsed { InverterForm::Collapsed } else { InverterForm::Full });
        prop_assert_eq!(inv.serial, serial.as_str());
        prop_assert_eq!(inv.model, Some(model.as_str()).filter(|m| !m.is_empty()));
        prop_assert_eq!(inv.aux, if collapsed { None } else { aux });
        let got = [
            inv.lifetime_energy_kwh, inv.ac_power_kw, inv.ac_voltage_v, inv.ac_current_a,
            inv.dc_power_kw, inv.dc_voltage_v, inv.dc_current_a, inv.heatsink_temp_c,
            inv.frequency_hz,
        ];
        prop_assert_eq!(&got[..], &values[..]);
        prop_assert_eq!(inv.status, status);
        prop_assert_eq!(inv.timestamp.format("%Y%m%d%H%M%S").to_string(), fields[1].clone());
        let record = Record::Inverter(inv);
        prop_assert_eq!(record.extra_fields().count(), extras.len());
        let raw: Vec<&str> = record.raw().unwrap().iter().collect();
        let sent: Vec<&str> = fields.iter().map(String::as_str).collect();
        prop_assert_eq!(raw, sent);
    }

    #[test]
    fn generated_meter_lines_parse_back(
        ts in timestamp(),
        serial in "[0-9A-Z]{4,12}[pcx]",
        values in prop::collection::vec(decimal_value(), 7),
        status in prop::option::of(0i64..10),
    ) {
        let (y, mo, d, h, mi, s) = ts;
        let mut fields = vec![
            "140".to_string(),
            format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}"),
            serial.clone(),
            "PVS5M0400".into(),
        ];
        fields.extend(values.iter().map(|v| fmt_opt(*v)));
        fields.push(status.map(|a| a.to_string()).unwrap_or_default());
        let line = fields.join("\t");
        let Record::Meter(m) = parse_line(&line).unwrap() else { panic!() };
        let got = [m.ct_scale, m.lifetime_net_energy_kwh, m.real_power_kw, m.reactive_power_kvar,
                   m.apparent_power_kva, m.power_factor, m.frequency_hz];
        prop_assert_eq!(&got[..], &values[..]);
        prop_assert_eq!(m.status, status);
        let expected_kind = match serial.as_bytes()[serial.len() - 1] {
            b'p' => "production",
            b'c' => "consumption",
            _ => "unknown",
        };
        prop_assert_eq!(m.meter_kind.as_str(), expected_kind);
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_every_line_is_accounted(
        body in prop::collection::vec(any::<u8>(), 0..2000),
    ) {
        let lines = split_lines(&body).len();
        let items = Body::new(&body).records().count();
        prop_assert_eq!(lines, items);
        let non_empty = body
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty() && *l != b"\r")
            .count();
        prop_assert_eq!(lines, non_empty);
    }

    #[test]
    fn record_like_text_never_panics(body in "[0-9\t\r\n.\\-a-z]{0,400}") {
        for record in Body::new(body.as_bytes()).records().flatten() {
            let _ = record.extra_fields().count();
            record.visit_fields(|_, _| {});
        }
    }
}

/// One line of a body made of pieces that repeat, as in a real post: the same few timestamps,
/// damaged ones, short and long decimals, stray bytes (invalid UTF-8 among them).
fn body_line() -> impl Strategy<Value = Vec<u8>> {
    let record_type = prop::sample::select(vec![
        "130", "140", "141", "120", "131", "122", "170", "100", "1x0",
    ]);
    let timestamp = prop::sample::select(vec![
        "20170107171000",
        "20170107171500",
        "20170230120000",
        "2017010717100x",
        "201701071710000",
        "",
    ]);
    let field = prop::sample::select(vec![
        "",
        "0",
        "-0.76",
        "245.1503",
        "17.5820",
        "-245.8962",
        "123456789.5",
        "1e3",
        "1.2.3",
        "x",
        "ZT01",
        "\u{e9}",
    ]);
    let stray = prop::sample::select(vec![&b""[..], b"\xff", b"\xe9", b"\xc3\xa9", b"\r", b"\t"]);
    (
        record_type,
        timestamp,
        prop::collection::vec(field, 0..15),
        stray,
        0usize..40,
    )
        .prop_map(|(record_type, timestamp, fields, stray, at)| {
            let mut line =
                format!("{record_type}\t{timestamp}\t{}", fields.join("\t")).into_bytes();
            let at = at.min(line.len());
            line.splice(at..at, stray.iter().copied());
            line
        })
}

proptest! {
    #[test]
    fn a_body_decodes_each_line_as_that_line_alone(
        lines in prop::collection::vec(body_line(), 0..40),
        crlf in any::<bool>(),
    ) {
        let body = lines.join(if crlf { &b"\r\n"[..] } else { b"\n" });
        let together: Vec<_> = Body::new(&body).records().map(described).collect();
        let alone: Vec<_> = split_lines(&body).into_iter().flat_map(line_alone).collect();
        prop_assert_eq!(together, alone);
    }
}

/// A record, every field of it, or an error.
fn described(
    item: Result<Record<'_>, sunpower_proto::LineError>,
) -> Result<String, sunpower_proto::LineError> {
    item.map(|record| format!("{record:?}"))
}

/// What a line decodes to as a body of its own (its record, then each unreadable value's error;
/// or its error), positioned where it is.
fn line_alone(line: Line<'_>) -> Vec<Result<String, sunpower_proto::LineError>> {
    // CRLF, so that a CR the line ends with stays part of it.
    let alone = [line.bytes, b"\r\n"].concat();
    Body::new(&alone)
        .records()
        .map(|item| {
            described(item).map_err(|mut e| {
                (e.line, e.offset) = (line.number, line.offset);
                e
            })
        })
        .collect()
}

type Owned = (Option<String>, Option<sunpower_proto::LineError>);

/// A record's line or a line's error, owned.
fn owned(item: Result<Record<'_>, sunpower_proto::LineError>) -> Owned {
    match item {
        Ok(r) => (Some(r.raw().unwrap().as_str().to_owned()), None),
        Err(e) => (None, Some(e)),
    }
}

proptest! {
    #[test]
    fn a_body_streamed_in_any_chunks_decodes_as_the_whole_body(
        lines in prop::collection::vec(body_line(), 0..30),
        long in prop::collection::vec(0usize..90, 0..4),
        cuts in prop::collection::vec(0usize..2000, 0..12),
        crlf in any::<bool>(),
        final_newline in any::<bool>(),
    ) {
        // Some lines made longer than the small limit used here, so that over-long lines are cut
        // across chunks too.
        let mut lines = lines;
        for (i, n) in long.iter().enumerate() {
            if let Some(line) = lines.get_mut(i * 3) {
                line.extend(std::iter::repeat_n(b'7', *n));
            }
        }
        let mut body = lines.join(if crlf { &b"\r\n"[..] } else { b"\n" });
        if final_newline {
            body.push(b'\n');
        }
        let max = 64;
        let mut stream = BodyStream::with_max_line(max);
        let mut streamed = Vec::new();
        let mut cuts = cuts;
        cuts.sort_unstable();
        let mut at = 0;
        for cut in cuts.into_iter().map(|c| c.min(body.len())).chain([body.len()]) {
            stream.feed(&body[at..cut.max(at)], |item| streamed.push(owned(item)));
            at = cut.max(at);
        }
        stream.finish(|item| streamed.push(owned(item)));
        prop_assert_eq!(stream.bytes_fed(), body.len());
        // The whole body's decoding, in the same order with the same positions, but each line
        // over the limit one LineTooLong error at its own position.
        let expected: Vec<Owned> = split_lines(&body)
            .into_iter()
            .flat_map(|line| {
                if line.bytes.len() > max {
                    vec![(None, Some(sunpower_proto::LineError {
                        line: line.number,
                        offset: line.offset,
                        kind: sunpower_proto::ErrorKind::LineTooLong { limit: max },
                    }))]
                } else {
                    line_alone(line)
                        .into_iter()
                        .map(|item| match item {
                            Ok(_) => (Some(String::from_utf8_lossy(line.bytes).into_owned()), None),
                            Err(e) => (None, Some(e)),
                        })
                        .collect()
                }
            })
            .collect();
        prop_assert_eq!(streamed, expected);
    }
}
