//! Records of a capture written as JSON Lines (`JsonLines`, which takes fields' text from the
//! line where the records' field bounds say it is) against serde_json on the same records: the
//! same bytes, on the sample capture, generated captures (damaged lines, escapes, long and short
//! lines, several posts and channels) and every third-party capture (skipped, with a message,
//! when the folder is missing).

use std::path::Path;

use sunpower_pcap::capture::Input;
use sunpower_pcap::records::{RecordDecoder, RecordEvent};
use sunpower_proto::{JsonLines, JsonRecord};
use sunpower_testkit::{pcap_bytes, PcapFormat, TcpConversation};

/// Decodes `inputs` twice, once writing each record with `JsonLines` and once with serde_json:
/// the same lines. Returns how many records there were.
fn assert_same(name: &str, inputs: impl Fn() -> Vec<Input>) -> usize {
    let mut lines = JsonLines::new(Vec::new());
    let mut want = Vec::new();
    let mut decoder = RecordDecoder::new(inputs(), Default::default());
    let mut records = 0;
    decoder.run(|event| {
        if let RecordEvent::Record { post, record } = event {
            lines.write_record(&record, post.channel).unwrap();
            serde_json::to_writer(&mut want, &JsonRecord::new(&record, post.channel)).unwrap();
            want.push(b'\n');
            records += 1;
        }
    });
    let got = lines.into_inner().unwrap();
    for (i, (got, want)) in got
        .split(|&b| b == b'\n')
        .zip(want.split(|&b| b == b'\n'))
        .enumerate()
    {
        assert_eq!(
            String::from_utf8_lossy(got),
            String::from_utf8_lossy(want),
            "{name}: record {i}"
        );
    }
    assert_eq!(got.len(), want.len(), "{name}");
    // Decoding again gives the same report: nothing of the writing leaks into the decoding.
    let mut again = RecordDecoder::new(inputs(), Default::default());
    again.run(|_| {});
    assert_eq!(again.report(), decoder.report(), "{name}");
    records
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
