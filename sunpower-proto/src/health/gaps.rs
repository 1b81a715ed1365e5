//! Gaps: silences in the data longer than the threshold and than its usual spacing.

use chrono::TimeDelta;

use super::day::Day;
use super::monitor::Health;
use super::{Evidence, Finding, Kind, Status};

/// Spacings between data (minutes) that vote for the usual one: up to half a day.
const MAX_SPACING_MINUTES: i64 = 12 * 60;

impl Health {
    pub(super) fn judge_gaps(&mut self, day: &Day) {
        for t in day.active_minutes() {
            if let Some(last) = self.last_active {
                // The minute marks round down: a silence is measured between minute starts.
                let silence = t - last;
                let minutes = silence.num_minutes();
                if (1..=MAX_SPACING_MINUTES).contains(&minutes) {
                    *self.spacings.entry(minutes).or_default() += 1;
                }
                let threshold = self.gap_threshold();
                if silence > threshold {
                    // Only a source seen reporting for a while before falls silent: two saved
                    // snapshots days apart are not a supervisor gone quiet between them.
                    let run = self
                        .run_start
                        .map_or(TimeDelta::zero(), |start| last - start);
                    if run >= threshold {
                        let evidence = Evidence::default();
                        for status in [Status::Fault, Status::Recovered] {
                            self.pending.push(Finding::new(
                                Kind::Gap,
                                status,
                                None,
                                last,
                                t,
                                evidence,
                            ));
                        }
                    }
                    self.run_start = Some(t);
                }
            }
            self.run_start.get_or_insert(t);
            self.last_active = Some(t);
        }
    }

    /// `gap_min`, or twice the data's usual spacing when that is longer: a source polled every
    /// hour is not silent between its polls.
    pub(super) fn gap_threshold(&self) -> TimeDelta {
        let usual = self
            .spacings
            .iter()
            // The most common spacing; the shorter on a tie.
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map_or(0, |(minutes, _)| *minutes);
        self.config.gap_min.max(TimeDelta::minutes(2 * usual))
    }
}
