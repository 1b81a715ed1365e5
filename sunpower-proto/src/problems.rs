//! The problem log every front end shares: at most so many messages of each kind are shown, the
//! rest counted and summarised, so a capture full of unrelated damaged traffic cannot flood a
//! terminal or a Python log (and cannot take minutes to print).

use std::collections::BTreeMap;

/// The problem-log kind of damaged lines, in every front end.
pub const LINE_ERROR_KIND: &str = "line";

/// Messages of one kind shown before the rest are only counted.
pub const SHOWN_PER_KIND: u64 = 100;

/// Decides which problems are shown, and counts every one.
///
/// ```
/// use sunpower_proto::ProblemLog;
/// let mut log = ProblemLog::with_limit(2);
/// let shown: Vec<bool> = (0..5).map(|_| log.admit("gap")).collect();
/// assert_eq!(shown, [true, true, false, false, false]);
/// assert!(log.admit("line"));
/// let summary: Vec<String> = log.summary().collect();
/// assert_eq!(summary, ["3 more gap problems not shown"]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ProblemLog {
    limit: u64,
    seen: BTreeMap<&'static str, u64>,
}

impl Default for ProblemLog {
    fn default() -> Self {
        ProblemLog::with_limit(SHOWN_PER_KIND)
    }
}

impl ProblemLog {
    /// A log that shows at most `limit` problems of each kind.
    ///
    /// ```
    /// use sunpower_proto::ProblemLog;
    /// let mut log = ProblemLog::with_limit(0); // count everything, show nothing
    /// assert!(!log.admit("gap"));
    /// assert_eq!(log.count("gap"), 1);
    /// ```
    pub fn with_limit(limit: u64) -> Self {
        ProblemLog {
            limit,
            seen: BTreeMap::new(),
        }
    }

    /// Counts one problem of `kind`; true when it is to be shown.
    ///
    /// ```
    /// use sunpower_proto::{ProblemLog, SHOWN_PER_KIND};
    /// let mut log = ProblemLog::default();
    /// let shown = (0..SHOWN_PER_KIND + 1).filter(|_| log.admit("HTTP")).count() as u64;
    /// assert_eq!(shown, SHOWN_PER_KIND);
    /// ```
    pub fn admit(&mut self, kind: &'static str) -> bool {
        let n = self.seen.entry(kind).or_default();
        *n += 1;
        *n <= self.limit
    }

    /// Problems of `kind` counted so far.
    ///
    /// ```
    /// use sunpower_proto::ProblemLog;
    /// let mut log = ProblemLog::with_limit(1);
    /// log.admit("gap");
    /// log.admit("gap");
    /// assert_eq!((log.count("gap"), log.count("HTTP")), (2, 0));
    /// ```
    pub fn count(&self, kind: &str) -> u64 {
        self.seen.get(kind).copied().unwrap_or(0)
    }

    /// One line per kind that had problems not shown, in kind order: `"N more KIND problems not
    /// shown"` (how many of a kind were not shown is its [`ProblemLog::count`] less the limit).
    ///
    /// ```
    /// use sunpower_proto::ProblemLog;
    /// let mut log = ProblemLog::with_limit(1);
    /// for kind in ["line", "gap", "line", "line"] {
    ///     log.admit(kind);
    /// }
    /// assert_eq!(log.summary().collect::<Vec<_>>(), ["2 more line problems not shown"]);
    /// ```
    pub fn summary(&self) -> impl Iterator<Item = String> + '_ {
        self.seen
            .iter()
            .filter(|(_, n)| **n > self.limit)
            .map(|(kind, n)| format!("{} more {kind} problems not shown", n - self.limit))
    }
}
