//! The committed sample capture (`examples/sample.pcap`) is byte for byte what the generator
//! (`examples/make_sample.rs`) writes; `sunpower-pcap/tests/scenarios.rs` checks what it decodes to.

#[allow(dead_code)]
#[path = "../examples/make_sample.rs"]
mod make_sample;

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sample.pcap");

#[test]
fn sample_capture_is_what_the_generator_writes() {
    let committed = std::fs::read(SAMPLE).unwrap();
    assert_eq!(make_sample::generate(), committed);
}
