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

#[cfg(test)]
mod tests {
    use std::hash::BuildHasher;

    use super::*;

    const PHI: u64 = 0x9E37_79B9_7F4A_7C15;

    #[test]
    fn a_flow_id_hashes_to_itself_times_the_golden_ratio() {
        let build = BuildHasherDefault::<FlowIdHasher>::default();
        assert_eq!(build.hash_one(0u64), 0);
        assert_eq!(build.hash_one(1u64), PHI);
        assert_eq!(build.hash_one(2u64), PHI.wrapping_mul(2));
        assert_eq!(build.hash_one(u64::MAX), PHI.wrapping_neg());
    }

    #[test]
    fn consecutive_ids_differ_in_the_high_bits_and_the_low_bits() {
        let build = BuildHasherDefault::<FlowIdHasher>::default();
        let hashes: Vec<u64> = (1..=16u64).map(|id| build.hash_one(id)).collect();
        let mut tags: Vec<u64> = hashes.iter().map(|h| h >> 57).collect();
        let mut buckets: Vec<u64> = hashes.iter().map(|h| h & 0xff).collect();
        tags.sort_unstable();
        tags.dedup();
        buckets.sort_unstable();
        buckets.dedup();
        assert_eq!((tags.len(), buckets.len()), (16, 16));
    }

    #[test]
    fn bytes_are_folded_into_the_same_multiplication() {
        let mut h = FlowIdHasher::default();
        h.write(&[1]);
        assert_eq!(h.finish(), PHI);
        h.write(&[2]);
        assert_eq!(h.finish(), (PHI.rotate_left(8) ^ 2).wrapping_mul(PHI));
    }

    #[test]
    fn a_connection_costs_twice_its_table_entry() {
        let entry = std::mem::size_of::<(FlowId, Connection)>();
        assert_eq!(CONNECTION_COST, 2 * entry);
        // Two endpoints and two boxed framers: the framers' state is counted on its own.
        assert!(entry < 128, "{entry} bytes");
    }
}
