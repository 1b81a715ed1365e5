//! The problem log every front end shares: at most so many messages of each kind are shown, the
//! rest counted and summarised, so a capture full of unrelated damaged traffic cannot flood a
//! terminal or a Python log (and cannot take minutes to print).

use std::collections::BTreeMap;
use std::fmt;

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
/// let summary: Vec<String> = log.summary().map(|s| s.to_string()).collect();
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

    /// One line per kind that had problems not shown, in kind order.
    ///
    /// ```
    /// use sunpower_proto::{NotShown, ProblemLog};
    /// let mut log = ProblemLog::with_limit(1);
    /// for kind in ["line", "gap", "line", "line"] {
    ///     log.admit(kind);
    /// }
    /// assert_eq!(log.summary().collect::<Vec<_>>(), [NotShown { kind: "line", count: 2 }]);
    /// ```
    pub fn summary(&self) -> impl Iterator<Item = NotShown> + '_ {
        self.seen
            .iter()
            .filter(|(_, n)| **n > self.limit)
            .map(|(kind, n)| NotShown {
                kind,
                count: n - self.limit,
            })
    }
}

/// How many problems of a kind were counted but not shown: `"N more KIND problems not shown"`.
///
/// ```
/// use sunpower_proto::NotShown;
/// assert_eq!(NotShown { kind: "gap", count: 3 }.to_string(), "3 more gap problems not shown");
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NotShown {
    /// The kind.
    pub kind: &'static str,
    /// Problems not shown.
    pub count: u64,
}

impl fmt::Display for NotShown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} more {} problems not shown", self.count, self.kind)
    }
}

/// The first `limit` items of a list and the count of all of them: how a post or a body keeps
/// its damaged lines in bounded memory (a 32 MiB post of bad lines must not take gigabytes).
///
/// ```
/// use sunpower_proto::Capped;
/// let mut errors = Capped::with_limit(2);
/// for e in ["a", "b", "c"] { errors.push(e); }
/// assert_eq!(errors.kept(), ["a", "b"]);
/// assert_eq!(errors.total(), 3);
/// assert_eq!(errors.dropped(), 1);
/// ```
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
    ///
    /// ```
    /// use sunpower_proto::Capped;
    /// let mut kept = Capped::with_limit(1);
    /// kept.push(1);
    /// kept.push(2);
    /// assert_eq!((kept.kept(), kept.total()), (&[1][..], 2));
    /// ```
    pub fn with_limit(limit: usize) -> Self {
        Capped {
            kept: Vec::new(),
            total: 0,
            limit,
        }
    }

    /// Counts `item`, and keeps it while fewer than the limit are kept.
    ///
    /// ```
    /// use sunpower_proto::Capped;
    /// let mut errors = Capped::with_limit(2);
    /// (0..5).for_each(|i| errors.push(i));
    /// assert_eq!((errors.kept(), errors.dropped()), (&[0, 1][..], 3));
    /// ```
    pub fn push(&mut self, item: T) {
        self.total += 1;
        if self.kept.len() < self.limit {
            self.kept.push(item);
        }
    }

    /// The items kept, in order.
    ///
    /// ```
    /// use sunpower_proto::Capped;
    /// let mut c = Capped::with_limit(3);
    /// c.push("first");
    /// assert_eq!(c.kept(), ["first"]);
    /// ```
    pub fn kept(&self) -> &[T] {
        &self.kept
    }

    /// Every item pushed, kept or not.
    ///
    /// ```
    /// use sunpower_proto::Capped;
    /// let mut c = Capped::with_limit(0);
    /// c.push(());
    /// assert_eq!((c.total(), c.kept().len()), (1, 0));
    /// ```
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Items counted but not kept.
    ///
    /// ```
    /// use sunpower_proto::Capped;
    /// let mut c = Capped::with_limit(1);
    /// c.push('a');
    /// assert_eq!(c.dropped(), 0);
    /// c.push('b');
    /// assert_eq!(c.dropped(), 1);
    /// ```
    pub fn dropped(&self) -> u64 {
        self.total - self.kept.len() as u64
    }

    /// True when nothing was pushed.
    ///
    /// ```
    /// use sunpower_proto::Capped;
    /// let mut c = Capped::with_limit(0);
    /// assert!(c.is_empty());
    /// c.push(1); // counted though not kept
    /// assert!(!c.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The kept items.
    ///
    /// ```
    /// use sunpower_proto::Capped;
    /// let mut c = Capped::with_limit(2);
    /// ["a", "b", "c"].into_iter().for_each(|s| c.push(s));
    /// assert_eq!(c.into_kept(), ["a", "b"]);
    /// ```
    pub fn into_kept(self) -> Vec<T> {
        self.kept
    }
}
