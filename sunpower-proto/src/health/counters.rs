//! Counter problems: the interval stage's resets and glitches, per device and local day.

use chrono::{DateTime, NaiveDate, Utc};

use super::monitor::{usable, Health};
use super::{Device, Evidence, Finding, Kind, Status};
use crate::intervals::{local_date, Event};

/// Counter events kept per device at most before their day closes; more are only counted, so
/// that a counter gone mad cannot grow the state.
const MAX_COUNTER_KEYS: usize = 10_000;

/// Counter events of one device and day.
#[derive(Debug, Clone, Copy)]
pub(super) struct CounterTally {
    pub(super) first: DateTime<Utc>,
    pub(super) last: DateTime<Utc>,
    pub(super) count: u32,
}

impl Health {
    /// Feeds an event of the interval stage: counter resets and glitches become findings of
    /// their device and local day; other events are not health findings.
    ///
    /// ```
    /// use sunpower_proto::parse_line;
    /// use sunpower_proto::health::{Health, HealthConfig, Kind, Severity};
    /// use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
    /// let mut acc = IntervalAccumulator::new(IntervalConfig::default());
    /// acc.add(&parse_line("130\t20260601170000\tINV1\tAC_Module_Type_C\t\t100.000\t0.3").unwrap());
    /// acc.add(&parse_line("130\t20260601170500\tINV1\tAC_Module_Type_C\t\t3.000\t0.3").unwrap());
    /// acc.finish();
    /// let mut health = Health::new(HealthConfig::default(), chrono_tz::UTC);
    /// for event in acc.take_events() {
    ///     health.add_event(&event);
    /// }
    /// let findings = health.finish();
    /// assert_eq!((findings[0].kind, findings[0].severity), (Kind::CounterReset, Severity::Warning));
    /// ```
    pub fn add_event(&mut self, event: &Event) {
        let (kind, record_type, serial, t) = match event {
            Event::CounterReset {
                record_type,
                serial,
                timestamp,
                ..
            } => (Kind::CounterReset, *record_type, serial, *timestamp),
            Event::CounterGlitch {
                record_type,
                serial,
                timestamp,
                ..
            } => (Kind::CounterGlitch, *record_type, serial, *timestamp),
            _ => return,
        };
        if !usable(t) {
            return;
        }
        let date = local_date(t, self.tz);
        let key = (date, kind, record_type, serial.clone());
        if let Some(tally) = self.counters.get_mut(&key) {
            tally.first = tally.first.min(t);
            tally.last = tally.last.max(t);
            tally.count = tally.count.saturating_add(1);
        } else if self.counters.len() < MAX_COUNTER_KEYS {
            self.counters.insert(
                key,
                CounterTally {
                    first: t,
                    last: t,
                    count: 1,
                },
            );
        }
        // A day already judged: its counter findings go out now.
        if self.closed.is_some_and(|closed| date <= closed) {
            self.flush_counters(Some(date));
        }
    }

    /// Counter findings of the days up to `through` (all with `None`).
    pub(super) fn flush_counters(&mut self, through: Option<NaiveDate>) {
        while let Some(entry) = self.counters.first_entry() {
            let (date, kind, record_type, serial) = entry.key().clone();
            if through.is_some_and(|through| date > through) {
                break;
            }
            let tally = entry.remove();
            let evidence = Evidence {
                samples: tally.count,
                bad_samples: tally.count,
                days: 1,
                ..Evidence::default()
            };
            self.pending.push(Finding::new(
                kind,
                Status::Fault,
                Some(Device {
                    serial,
                    record_type,
                }),
                tally.first,
                tally.last,
                evidence,
            ));
        }
    }
}
