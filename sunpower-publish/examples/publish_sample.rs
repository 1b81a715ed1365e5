//! Publishes the repository's sample capture to an MQTT broker for Home Assistant: every record
//! of `examples/sample.pcap` (or of the capture given), with discovery, then a clean stop.
//!
//! ```text
//! cargo run -p sunpower-publish --example publish_sample -- mqtt://127.0.0.1:1883 [CAPTURE]
//! ```

use std::time::Duration;

use sunpower_pcap::capture::Input;
use sunpower_pcap::records::{RecordDecoder, RecordEvent};
use sunpower_publish::{MqttOptions, MqttPublisher};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "mqtt://127.0.0.1:1883".to_owned());
    let capture = args.next().unwrap_or_else(|| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sample.pcap").to_owned()
    });
    let publisher = MqttPublisher::start(&url, MqttOptions::default())?;
    let mut decoder = RecordDecoder::new(vec![Input::from_path(&capture)], Default::default());
    let mut records = 0u64;
    decoder.run(|event| {
        if let RecordEvent::Record { record, .. } = event {
            publisher.publish_record(&record);
            records += 1;
        }
    });
    if decoder.had_unreadable_input() {
        return Err(format!("{capture}: could not be read").into());
    }
    let stats = publisher.shutdown(Duration::from_secs(30));
    println!(
        "{records} records: {} states published, {} dropped, {} not sent in time, {} discovery configs{}",
        stats.published,
        stats.dropped,
        stats.queued,
        stats.configs,
        match &stats.last_error {
            Some(error) if stats.connections == 0 => format!(" (never connected: {error})"),
            _ => String::new(),
        }
    );
    Ok(())
}
