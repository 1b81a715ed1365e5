//! `watch --mqtt URL`: every record and site total handed to sunpower-publish's
//! [`MqttPublisher`] (Home Assistant discovery, states, availability, its bounded queue); at the
//! stop, its queue flushed for a bounded time and its counters said on standard error.

use std::io;
use std::time::Duration;

use sunpower_proto::{Record, SiteTotals};
use sunpower_publish::{MqttOptions, MqttPublisher, MqttUrl, Stats};

use super::Sink;
use sunpower_proto::intervals::Interval;

/// The longest wait at the stop for the queue to reach the broker: a broker that is down
/// must not hold the run's end (what is left is said, not waited for).
const FINISH_TIMEOUT: Duration = Duration::from_secs(5);

/// The MQTT sink. The broker is named by its URL without the password (`MqttUrl`'s
/// `Display`).
pub(super) struct MqttSink {
    publisher: Option<MqttPublisher>,
    broker: String,
}

impl MqttSink {
    /// Starts publishing to `url` in the background: the run goes on whether the broker
    /// answers or not. An error only for a URL that cannot be used (it never repeats the URL).
    pub(super) fn start(url: &str) -> Result<MqttSink, sunpower_publish::Error> {
        let broker = url.parse::<MqttUrl>()?.to_string();
        let publisher = MqttPublisher::start(url, MqttOptions::default())?;
        eprintln!("sunpower: {broker}: publishing for Home Assistant (MQTT discovery)");
        Ok(MqttSink {
            publisher: Some(publisher),
            broker,
        })
    }
}

/// The counters in words; a loss is named as such.
fn summary(broker: &str, stats: &Stats) -> String {
    let mut text = if stats.connections == 0 {
        format!("sunpower: {broker}: never connected, 0 states published")
    } else {
        format!(
            "sunpower: {broker}: {} states published, {} sensors announced",
            stats.published, stats.configs
        )
    };
    if stats.dropped > 0 {
        text += &format!(
            ", {} DROPPED (the queue was full while the broker was away)",
            stats.dropped
        );
    }
    let unsent = stats.queued + stats.in_flight;
    if unsent > 0 {
        text += &format!(", {unsent} NOT SENT (still queued at the stop)");
    }
    let failing = unsent > 0 || stats.dropped > 0 || stats.connections == 0;
    if let Some(error) = stats.last_error.as_ref().filter(|_| failing) {
        text += &format!("; last error: {error}");
    }
    text
}

impl Sink for MqttSink {
    fn record(&mut self, record: &Record<'_>) -> io::Result<()> {
        if let Some(publisher) = &self.publisher {
            publisher.publish_record(record);
        }
        Ok(())
    }

    fn site_totals(&mut self, site: &SiteTotals, serial: &str) -> io::Result<()> {
        if let Some(publisher) = &self.publisher {
            publisher.publish_site_totals(site, serial);
        }
        Ok(())
    }

    fn intervals(&mut self, _: &[Interval]) -> io::Result<()> {
        Ok(())
    }

    /// Nothing to do: the publisher sends as it is given, in the background.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        if let Some(publisher) = self.publisher.take() {
            let stats = publisher.shutdown(FINISH_TIMEOUT);
            eprintln!("{}", summary(&self.broker, &stats));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_names_losses_and_never_a_password() {
        let broker = "mqtt://owner:s3cret@broker.lan:1884"
            .parse::<MqttUrl>()
            .unwrap()
            .to_string();
        let mut stats = Stats::default();
        stats.published = 12;
        stats.configs = 30;
        stats.connections = 1;
        assert_eq!(
            summary(&broker, &stats),
            "sunpower: mqtt://owner:***@broker.lan:1884: 12 states published, 30 sensors announced"
        );
        stats.dropped = 3;
        stats.queued = 2;
        stats.last_error = Some("connection refused".to_owned());
        let text = summary(&broker, &stats);
        assert!(text.contains(", 3 DROPPED (the queue"), "{text}");
        assert!(text.contains(", 2 NOT SENT"), "{text}");
        assert!(text.ends_with("; last error: connection refused"), "{text}");
        stats.connections = 0;
        let text = summary(&broker, &stats);
        assert!(
            text.contains(": never connected, 0 states published, 3 DROPPED"),
            "{text}"
        );
        assert!(!text.contains("s3cret"));
    }
}
