//! The posts the decoder hands out, and the bridge from a post's body to its records: the
//! decodable part of a cut body, and the message of a damaged line that says which post it
//! came from.

use chrono::{DateTime, Utc};
use sunpower_proto::{Body, Channel, LineError, Records};

use crate::flow::{Endpoint, FlowId};

#[cfg(doc)]
use super::Decoder;

/// A collector POST (or any kept request, see [`crate::http::BodyFilter`]).
///
/// [`Decoder`] hands them out; one can also be built, to test a consumer:
///
/// ```
/// use sunpower_pcap::decoder::{Missing, Post};
/// use sunpower_pcap::flow::Endpoint;
/// use sunpower_proto::Channel;
/// let supervisor = Endpoint { ip: "10.0.0.2".parse().unwrap(), port: 40000 };
/// let collector = Endpoint { ip: "204.194.111.66".parse().unwrap(), port: 80 };
/// let post = Post { flow: 0, client: supervisor, server: collector, method: "POST",
///     target: "/Command/SMS2DataCollector.aspx", channel: Some(Channel::Command),
///     captured_at: Default::default(), input: "day.pcap", packet: 4,
///     body: b"102\tabc\n", missing: Missing::Nothing };
/// assert!(post.complete());
/// assert_eq!(post.records().count(), 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Post<'a> {
    /// The connection it came on.
    pub flow: FlowId,
    /// The client (the supervisor).
    pub client: Endpoint,
    /// The server (the collector).
    pub server: Endpoint,
    /// The method, normally `POST`.
    pub method: &'a str,
    /// The request target as sent.
    pub target: &'a str,
    /// Data or command channel, from the path.
    pub channel: Option<Channel>,
    /// Capture time of the packet that completed the request (or revealed it incomplete).
    pub captured_at: DateTime<Utc>,
    /// Where: input and packet number of that packet.
    pub input: &'a str,
    /// Packet number within the input.
    pub packet: u64,
    /// The body (de-chunked); when incomplete, the bytes received before the hole.
    pub body: &'a [u8],
    /// What the body lacks: nothing, an unknown part, or a known number of bytes.
    pub missing: Missing,
}

/// What a post's body lacks.
///
/// ```
/// use sunpower_pcap::decoder::Missing;
/// assert_eq!(Missing::Bytes(8).bytes(), Some(8));
/// assert_eq!(Missing::Unknown.bytes(), None); // cut, length not declared (chunked)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// The whole body arrived.
    Nothing,
    /// The body was cut and its length was not declared (chunked, or cut before its end).
    Unknown,
    /// The body was cut; this many declared bytes did not arrive.
    Bytes(u64),
}

impl Missing {
    /// A cut body's missing bytes, when known.
    pub(super) fn cut(missing: Option<u64>) -> Missing {
        missing.map_or(Missing::Unknown, Missing::Bytes)
    }

    /// The missing byte count, when the body was cut and its length declared.
    ///
    /// ```
    /// use sunpower_pcap::decoder::Missing;
    /// assert_eq!((Missing::Bytes(92).bytes(), Missing::Nothing.bytes()), (Some(92), None));
    /// ```
    pub fn bytes(self) -> Option<u64> {
        match self {
            Missing::Bytes(n) => Some(n),
            Missing::Nothing | Missing::Unknown => None,
        }
    }
}

impl<'a> Post<'a> {
    /// Whether the whole body arrived.
    ///
    /// ```
    /// # use sunpower_pcap::decoder::{Missing, Post};
    /// # use sunpower_pcap::flow::Endpoint;
    /// # let e = Endpoint { ip: std::net::Ipv4Addr::LOCALHOST.into(), port: 80 };
    /// let mut post = Post { flow: 0, client: e, server: e, method: "POST", target: "/", channel: None,
    ///     captured_at: Default::default(), input: "x", packet: 1,
    ///     body: b"102\ta\n", missing: Missing::Nothing };
    /// assert!(post.complete());
    /// post.missing = Missing::Unknown;
    /// assert!(!post.complete());
    /// ```
    pub fn complete(&self) -> bool {
        self.missing == Missing::Nothing
    }

    /// The part of the body that can be decoded: all of it when complete; when incomplete, the
    /// whole lines before the hole (a line that touches the hole is never decoded).
    ///
    /// ```
    /// # use sunpower_pcap::decoder::{Missing, Post};
    /// # use sunpower_pcap::flow::Endpoint;
    /// # let e = Endpoint { ip: std::net::Ipv4Addr::LOCALHOST.into(), port: 80 };
    /// let post = Post { flow: 0, client: e, server: e, method: "POST", target: "/", channel: None,
    ///     captured_at: Default::default(), input: "x", packet: 1,
    ///     body: b"102\ta\n130\t2017", missing: Missing::Bytes(40) };
    /// assert_eq!(post.decodable_body(), b"102\ta\n");
    /// ```
    pub fn decodable_body(&self) -> &'a [u8] {
        if self.complete() {
            return self.body;
        }
        match self.body.iter().rposition(|&b| b == b'\n') {
            Some(end) => &self.body[..=end],
            None => &[],
        }
    }

    /// The records of the body's [decodable part](Self::decodable_body), in order, and its
    /// damaged lines ([`line_error_message`](Self::line_error_message) says where they are).
    ///
    /// ```
    /// # use sunpower_pcap::decoder::{Missing, Post};
    /// # use sunpower_pcap::flow::Endpoint;
    /// # let e = Endpoint { ip: std::net::Ipv4Addr::LOCALHOST.into(), port: 80 };
    /// let post = Post { flow: 0, client: e, server: e, method: "POST", target: "/", channel: None,
    ///     captured_at: Default::default(), input: "x", packet: 1,
    ///     body: b"102\ta\n130\tbad\n102\tb\n", missing: Missing::Nothing };
    /// let items: Vec<_> = post.records().collect();
    /// assert_eq!(items[0].as_ref().unwrap().record_type(), 102);
    /// assert_eq!(items[1].as_ref().unwrap_err().line, 2);
    /// assert_eq!(items[2].as_ref().unwrap().record_type(), 102);
    /// ```
    pub fn records(&self) -> Records<'a> {
        Body::new(self.decodable_body()).records()
    }

    /// What to show for a damaged line of the body: where the post came from (its input, the
    /// packet that completed it, its connection), then the line and what was wrong with it.
    ///
    /// ```
    /// # use sunpower_pcap::decoder::{Missing, Post};
    /// # use sunpower_pcap::flow::Endpoint;
    /// # let e = Endpoint { ip: std::net::Ipv4Addr::LOCALHOST.into(), port: 80 };
    /// let post = Post { flow: 7, client: e, server: e, method: "POST", target: "/", channel: None,
    ///     captured_at: Default::default(), input: "day.pcap", packet: 12,
    ///     body: b"102\ta\n130\tbad\n", missing: Missing::Nothing };
    /// let error = post.records().find_map(Result::err).unwrap();
    /// assert_eq!(
    ///     post.line_error_message(&error),
    ///     "day.pcap: packet 12, flow 7: line 2: field 1 (timestamp): expected a YYYYMMDDhhmmss UTC timestamp, found \"bad\""
    /// );
    /// ```
    pub fn line_error_message(&self, error: &LineError) -> String {
        format!(
            "{}: packet {}, flow {}: {error}",
            self.input, self.packet, self.flow
        )
    }
}
