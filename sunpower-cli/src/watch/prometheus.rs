//! `watch --prometheus ADDR`: sunpower-publish's [`MetricsServer`] bound at the start (its
//! address said on standard error, the real port of `:0` included), given every record and
//! site total, shut down at the stop.

use std::io;

use sunpower_proto::intervals::Interval;
use sunpower_proto::{Record, SiteTotals};
use sunpower_publish::{MetricsOptions, MetricsServer};

use super::Sink;

/// The Prometheus sink.
pub(super) struct PrometheusSink {
    server: Option<MetricsServer>,
}

impl PrometheusSink {
    /// Listens on `addr` now, so that a port in use is said before the run starts.
    pub(super) fn bind(addr: &str) -> io::Result<PrometheusSink> {
        let server = MetricsServer::bind(addr, MetricsOptions::default())?;
        eprintln!(
            "sunpower: Prometheus metrics on http://{}/metrics",
            server.local_addr()
        );
        Ok(PrometheusSink {
            server: Some(server),
        })
    }
}

impl Sink for PrometheusSink {
    fn record(&mut self, record: &Record<'_>) -> io::Result<()> {
        if let Some(server) = &self.server {
            server.update_record(record);
        }
        Ok(())
    }

    fn site_totals(&mut self, site: &SiteTotals, serial: &str) -> io::Result<()> {
        if let Some(server) = &self.server {
            server.update_site_totals(site, serial);
        }
        Ok(())
    }

    fn intervals(&mut self, _: &[Interval]) -> io::Result<()> {
        Ok(())
    }

    /// Nothing to do: a scrape reads the latest values.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        if let Some(server) = self.server.take() {
            server.shutdown();
        }
        Ok(())
    }
}
