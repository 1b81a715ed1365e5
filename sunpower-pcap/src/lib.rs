//! Offline capture reading, TCP reassembly and HTTP request framing: from capture bytes to
//! complete SunPower collector POST bodies.
//!
//! Each stage is a sans-I/O state machine that is fed input and reports events, so the same core
//! serves a file, a rotated set and a live `tcpdump -w -` pipe:
//!
//! | module | stage |
//! | --- | --- |
//! | [`capture`] | pcap / pcapng / gzip / stdin / rotated sets to packets (the I/O edge) |
//! | [`link`] | link-layer frame to IP packet |
//! | [`ip`] | IPv4 / IPv6 / TCP headers to a segment |
//! | [`tcp`] | one direction of a connection: segments to in-order bytes and gaps |
//! | [`flow`] | the connection table: 4-tuples, roles, caps, idle expiry |
//! | [`http`] | one direction's bytes to requests and their bodies |
//! | [`decoder`] | all of the above: packets to collector posts and positioned problems |
//! | [`records`] | posts to records and damaged lines, with the run's [`records::Report`] and problem log |
//!
//! [`records::RecordDecoder`] is the usual entry point (records), [`decoder::CaptureDecoder`] the
//! one for posts; their documentation has examples.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod capture;
pub mod decoder;
pub mod flow;
pub mod http;
pub mod ip;
pub mod link;
pub mod records;
pub mod tcp;

/// The README's examples, run as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
