//! The first items of a list and the count of all of them, for the errors a Python call keeps.

use sunpower_proto::SHOWN_PER_KIND;

/// The first `limit` items of a list and the count of all of them: how a post or a body keeps
/// its damaged lines in bounded memory (a 32 MiB post of bad lines must not take gigabytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capped<T> {
    kept: Vec<T>,
    total: u64,
    limit: usize,
}

impl<T> Default for Capped<T> {
    fn default() -> Self {
        Capped::with_limit(SHOWN_PER_KIND as usize)
    }
}

impl<T> Capped<T> {
    /// Keeps at most `limit` items.
    pub fn with_limit(limit: usize) -> Self {
        Capped {
            kept: Vec::new(),
            total: 0,
            limit,
        }
    }

    /// Counts `item`, and keeps it while fewer than the limit are kept.
    pub fn push(&mut self, item: T) {
        self.total += 1;
        if self.kept.len() < self.limit {
            self.kept.push(item);
        }
    }

    /// The items kept, in order.
    pub fn kept(&self) -> &[T] {
        &self.kept
    }

    /// Every item pushed, kept or not.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// True when nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }
}
