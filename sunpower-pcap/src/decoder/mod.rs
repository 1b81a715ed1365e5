//! The whole pipeline, sans I/O: captured packets in, collector POSTs and positioned problems out.
//!
//! [`Decoder::packet`] takes one captured [`Packet`] and runs it down the stages: link layer
//! ([`crate::link`]), IP and TCP headers ([`crate::ip`]), the connection table and reassembly
//! ([`crate::flow`]), and one HTTP request framer per direction ([`crate::http`]). What comes out
//! is [`Event::Post`] for each collector request whose body is complete, or cut by a hole (then
//! marked incomplete, with the number of bytes missing), and [`Event::Problem`] for everything that
//! went wrong, with its position. [`Decoder::finish`] flushes the connections at the end of the
//! input. [`CaptureDecoder`] glues a [`CaptureReader`] in front of it.
//!
//! Nothing is dropped silently: every packet is either decoded or counted in [`DecodeStats`]
//! (not IP, not TCP, fragment, truncated, damaged), and every stream byte is either delivered,
//! counted as a gap, a duplicate, out of window, after the close (reported), or skipped by the
//! HTTP layer. A copy of stream bytes with another content than the kept one is reported too.
//!
//! Both directions of a connection get a framer: the one that sees a status line (the server's)
//! ignores the rest of its stream. This handles connections picked up without their SYN, where
//! who is the client is not known.
//!
//! ```
//! use sunpower_pcap::decoder::{CaptureDecoder, DecoderConfig, Event};
//! use sunpower_pcap::capture::Input;
//!
//! // The repository's sample capture: a day of a home's network, 336 collector posts among
//! // 12,324 packets, daylight bodies split over two or three TCP segments.
//! let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/sample.pcap");
//! let mut decoder = CaptureDecoder::new(vec![Input::from_path(sample)], DecoderConfig::default());
//! let mut bodies = Vec::new();
//! decoder.run(|event| {
//!     if let Event::Post(post) = event {
//!         assert!(post.complete());
//!         bodies.push(post.body.to_vec());
//!     }
//! });
//! assert_eq!(bodies.len(), 336);
//! assert!(bodies[0].starts_with(b"100\tSPMS\t10\tZT163785000441C0593\t20260621070425\n120\t"));
//! assert_eq!(bodies[80].len(), 2906); // the first daylight post, over three segments
//! assert_eq!(decoder.stats().posts, 336);
//! ```

mod config;
mod connections;
mod driver;
mod flow_events;
mod pipeline;
mod post;
mod problem;
mod stats;

pub use config::DecoderConfig;
pub use driver::CaptureDecoder;
pub use pipeline::Decoder;
pub use post::{Missing, Post};
pub use problem::{Problem, ProblemKind};
pub use stats::DecodeStats;

#[cfg(doc)]
use crate::capture::{CaptureReader, Packet};

/// What a [`Decoder`] reports.
///
/// ```
/// use sunpower_pcap::decoder::{Decoder, Event};
/// use sunpower_pcap::capture::ContainerDecoder;
/// let mut decoder = Decoder::new(Default::default());
/// let error = ContainerDecoder::new("x").finish(&[]).unwrap();
/// let mut events = Vec::new();
/// decoder.capture_error(error, |event| events.push(match event {
///     Event::Post(post) => format!("post {}", post.target),
///     Event::Problem(problem) => format!("problem: {}", problem.kind.name()),
/// }));
/// assert_eq!(events, ["problem: capture"]);
/// ```
#[derive(Debug)]
pub enum Event<'a> {
    /// A kept request (complete or cut).
    Post(Post<'a>),
    /// Something went wrong.
    Problem(Problem),
}
