//! The decoder's table of connections: each one's HTTP framers, the hasher of their ids and what
//! an entry costs against the memory budget.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::flow::{Endpoint, FlowId};
use crate::http::RequestFramer;

/// Hashes [`FlowId`]s, which the flow table hands out in sequence (the traffic cannot choose
/// them, so no seeded hash is needed): one multiplication by 2^64 / φ (Fibonacci hashing)
/// spreads consecutive ids over both the low bits (the bucket) and the high bits (hashbrown's tag).
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct FlowIdHasher(u64);

impl Hasher for FlowIdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(self.0.rotate_left(8) ^ u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

pub(super) type Connections = HashMap<FlowId, Connection, BuildHasherDefault<FlowIdHasher>>;

/// One connection's HTTP state: a framer per direction.
pub(super) struct Connection {
    pub(super) initiator: Endpoint,
    pub(super) responder: Endpoint,
    /// Picked up without its SYN: the framers start by scanning for a request line.
    pub(super) mid_stream: bool,
    /// A framer per direction, made when the direction's first bytes (or hole) arrive, so that
    /// a connection that carried nothing costs a few words.
    pub(super) framers: [Option<Box<RequestFramer>>; 2],
}

/// What one connection costs the decoder besides its framers: its entry in the table, with the
/// hash table's slack.
pub(super) const CONNECTION_COST: usize = 2 * std::mem::size_of::<(FlowId, Connection)>();
