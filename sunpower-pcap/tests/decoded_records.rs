//! `RecordDecoder::step_decoded` against `step`: the same events in the same order, every record
//! written by `DecodedRecord::json` as `JsonRecord::new` writes it, and the same report, on the sample
//! capture, generated captures (damaged lines, escapes, long and short lines, several posts and
//! channels) and every third-party capture (skipped, with a message, when the folder is missing).

use std::path::Path;

use sunpower_pcap::capture::Input;
use sunpower_pcap::records::{RecordDecoder, RecordEvent, Report};
use sunpower_proto::{Channel, DecodedRecord, JsonRecord, Record};
use sunpower_testkit::{pcap_bytes, PcapFormat, TcpConversation};

/// One event as text: a record as its JSON line.
fn describe<R>(event: &RecordEvent<'_, '_, R>, json: impl FnOnce(&R) -> Vec<u8>) -> String {
    match event {
        RecordEvent::Record { post, record } => format!(
            "record at packet {}: {}",
            post.packet,
            String::from_utf8(json(record)).unwrap()
        ),
        RecordEvent::LineError { error, shown, .. } => format!("line error {error} {shown}"),
        RecordEvent::PostEnd(post) => format!("post end at packet {}", post.packet),
        RecordEvent::Problem { problem, shown } => format!("problem {problem} {shown}"),
    }
}

/// The channel of a record's post.
fn channel<R>(event: &RecordEvent<'_, '_, R>) -> Option<Channel> {
    match event {
        RecordEvent::Record { post, .. } => post.channel,
        _ => None,
    }
}

/// What `write` appends to an empty buffer.
fn written(write: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::new();
    write(&mut out);
    out
}

/// The events and report of `inputs`, by `step` (`decoded` false) or `step_decoded`.
fn run(inputs: Vec<Input>, decoded: bool) -> (Vec<String>, Report) {
    let mut decoder = RecordDecoder::new(inputs, Default::default());
    let mut events = Vec::new();
    if decoded {
        decoder.run_decoded(|event| {
            let json = |d: &DecodedRecord<'_>| written(|out| d.json(channel(&event)).write_to(out));
            events.push(describe(&event, json));
        });
    } else {
        decoder.run(|event| {
            let json =
                |r: &Record<'_>| written(|out| JsonRecord::new(r, channel(&event)).write_to(out));
            events.push(describe(&event, json));
        });
    }
    (events, decoder.report())
}

fn assert_same(name: &str, inputs: impl Fn() -> Vec<Input>) -> usize {
    let (want, want_report) = run(inputs(), false);
    let (got, got_report) = run(inputs(), true);
    for (i, (got, want)) in got.iter().zip(&want).enumerate() {
        assert_eq!(got, want, "{name}: event {i}");
    }
    assert_eq!(got.len(), want.len(), "{name}");
    assert_eq!(got_report, want_report, "{name}");
    want.iter().filter(|e| e.starts_with("record")).count()
}

#[test]
fn the_sample_capture_decodes_to_the_same_json() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/sample.pcap");
    let records = assert_same("sample.pcap", || vec![Input::from_path(&path)]);
    assert!(records > 1000, "{records}");
}

/// A capture of one connection posting `bodies`, each in two segments cut at `cut`.
fn capture(bodies: &[&[u8]], cut: usize) -> Vec<u8> {
    let mut conv = TcpConversation::new(
        "10.0.0.2:40000".parse().unwrap(),
        "204.194.111.66:80".parse().unwrap(),
    );
    let mut c = conv.handshake();
    for body in bodies {
        let head = format!(
            "POST /Data/SMS2DataCollector.aspx HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let post = [head.as_bytes(), body].concat();
        let (a, b) = post.split_at(cut.min(post.len()));
        c = c.client_sends(a, &[]).client_sends(b, &[]);
    }
    c.close();
    pcap_bytes(conv.link_type(), PcapFormat::LE_MICRO, conv.frames())
}

#[test]
fn generated_captures_decode_to_the_same_json() {
    let bodies: [&[u8]; 4] = [
        b"100\tSPMS\t10\tZT1\t20170107171925\n\
          130\t20170107171000\t414051637009125\tAC_Module_Type_C\t18.5466\t0.0417\t245.1503\t0.3643\t0.044\t59.0692\t0.7733\t1.25\t59.9772\t0\n\
          130\tbad\n\
          140\t20170107171000\tPVS5M508095c\tPVS5M0400c\t125\t607.00\t0.4875\t-0.1462\t0.6825\t0.7276\t59.966\t0\n\
          141\t20170107171000\tPVS5M508095c\tPVS5M0400c\t1\t5.6946\t5.50\t\t\t\t\t+1\n\
          102\tabc\n",
        // Escapes, a line of more fields than any type has, odd numbers, CRLF.
        b"130\t20170107171000\tS\"1\\x\tM\x01\t1e3\t0.10\t+5\t5\t-0.0\t00.5\t.5\t5.\t123456789.25\t0\r\n\
          999\t20170107171000\ta\tb\tc\td\te\tf\tg\th\ti\tj\tk\tl\tm\tn\to\tp\tq\r\n\
          120\t20170107171000\tZT1\t1\t2\t3\t0.5\t4\t5\t0.25\t6\t7\r\n\
          102\t\xff\r\n",
        b"",
        b"141\t20170107171500\tPVS5M508095p\tPVS5M0400p\t1\t-1.25\t12.00\t0.0000\t0.04200\t100.00\t1.0000000\t0.000010",
    ];
    let mut records = 0;
    for cut in [1, 40, 90, 400] {
        let pcap = capture(&bodies, cut);
        records += assert_same(&format!("generated, cut at {cut}"), || {
            vec![Input::from_reader(
                "gen",
                std::io::Cursor::new(pcap.clone()),
            )]
        });
    }
    assert!(records >= 4 * 8, "{records}");
}

#[test]
fn third_party_captures_decode_to_the_same_json() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/captures/third_party");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("SKIPPED: no third-party captures at {}", dir.display());
        return;
    };
    let mut files = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "txt") {
            continue;
        }
        assert_same(&path.display().to_string(), || {
            vec![Input::from_path(&path)]
        });
        files += 1;
    }
    assert!(files > 0);
}
