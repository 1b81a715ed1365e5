//! Pushed outputs of sunpower-rs: the records and site totals decoded by `sunpower-proto`, sent
//! where owners look at them while a run goes on.
//!
//! - [`MqttPublisher`]: Home Assistant over MQTT. The discovery configs, states and
//!   availability of [`sunpower_proto::homeassistant`], sent by `rumqttc`: `online` at each
//!   connect and `offline` as the last will, retained configs sent again after each reconnect and
//!   when Home Assistant restarts, reconnection with back-off, and a bounded queue while the
//!   broker is away whose drops are counted ([`Stats`]). Its policy is the sans-I/O [`Outbox`].
//! - [`MetricsServer`]: Prometheus. `/metrics` in Prometheus' text exposition format, written by
//!   the Prometheus project's own client (`prometheus-client`): a gauge or counter per device
//!   quantity (label `serial`) and site total, in base units, the series of a device with no
//!   record for a while dropped. Its values are the sans-I/O [`Metrics`].
//!
//! This crate is the thin I/O layer: what is sent is decided in `sunpower-proto`, and how it is
//! queued in [`Outbox`] and kept in [`Metrics`], all tested without a network.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod metrics;
mod mqtt;
mod outbox;
mod url;

pub use metrics::{Metrics, MetricsOptions, MetricsServer, CONTENT_TYPE, MAX_DEVICES};
pub use mqtt::{MqttOptions, MqttPublisher};
pub use outbox::{Outbox, Stats, MAX_CONFIGS};
pub use url::{MqttUrl, DEFAULT_PORT};

/// The README's examples, run as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// What can go wrong starting an output. Never shows a credential.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The broker URL cannot be used: why (the URL itself is not repeated, as it may hold a
    /// password).
    #[error("broker URL: {0}")]
    Url(String),
    /// The background thread could not be started.
    #[error("cannot start the publishing thread: {0}")]
    Thread(#[source] std::io::Error),
}
