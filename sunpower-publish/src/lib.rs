//! Pushed outputs of sunpower-rs: the records and site totals decoded by `sunpower-proto`, sent
//! where owners look at them while a run goes on.
//!
//! - [`MqttPublisher`]: Home Assistant over MQTT. The discovery configs, states and
//!   availability of [`sunpower_proto::homeassistant`], sent by `rumqttc`: `online` at each
//!   connect and `offline` as the last will, retained configs sent again after each reconnect and
//!   when Home Assistant restarts, reconnection with back-off, and a bounded queue while the
//!   broker is away whose drops are counted ([`Stats`]). Its policy is the sans-I/O [`Outbox`].
//!
//! This crate is the thin I/O layer: what is sent is decided in `sunpower-proto`, and how it is
//! queued in [`Outbox`], both tested without a network.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod mqtt;
mod outbox;
mod url;

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
