//! Site totals: the supervisor's own running totals of production, grid, house load and battery
//! (`/sys/livedata/*` of the varserver, and the `power` frames of the telemetry WebSocket).

use chrono::{DateTime, Utc};

#[cfg(feature = "varserver")]
use crate::error::Expected;
#[cfg(feature = "varserver")]
use crate::value::decimal;

/// One reading of the site totals, as `/sys/livedata/*` or a telemetry `power` frame gives it.
///
/// Powers in kW, energies in kWh (lifetime counters), `None` where not reported (the supervisor
/// writes `"nan"` for the battery fields of a site without one). Signs as the supervisor's own
/// sum shows (`site_load = pv + net + battery`): net is positive for import, battery positive
/// when it discharges into the house. Each field names the source's key it comes from; a
/// reading made by hand sets the fields.
///
/// ```
/// use chrono::DateTime;
/// use sunpower_proto::SiteTotals;
/// let mut site = SiteTotals::default();
/// site.timestamp = DateTime::from_timestamp(1751083263, 0);
/// site.pv_energy_kwh = Some(40747.871094);
/// assert_eq!(site.battery_energy_kwh, None);
/// assert_eq!(site.timestamp.unwrap().to_rfc3339(), "2025-06-28T04:01:03+00:00");
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct SiteTotals {
    /// `time`: when the totals were taken (seconds or milliseconds since 1970, UTC).
    pub timestamp: Option<DateTime<Utc>>,
    /// `pv_p`: production power, kW.
    pub pv_power_kw: Option<f64>,
    /// `pv_en`: lifetime production, kWh.
    pub pv_energy_kwh: Option<f64>,
    /// `net_p`: grid power, kW; negative is export.
    pub net_power_kw: Option<f64>,
    /// `net_en`: lifetime net grid energy, kWh (import minus export).
    pub net_energy_kwh: Option<f64>,
    /// `site_load_p`: house consumption power, kW.
    pub site_load_power_kw: Option<f64>,
    /// `site_load_en`: lifetime house consumption, kWh.
    pub site_load_energy_kwh: Option<f64>,
    /// `ess_p`: battery power, kW; positive when discharging.
    pub battery_power_kw: Option<f64>,
    /// `ess_en`: lifetime battery energy, kWh (discharged minus charged).
    pub battery_energy_kwh: Option<f64>,
    /// `soc`: battery state of charge, percent (0 to 100). The supervisor sends a fraction
    /// (`0.86`), scaled by [`percent_from_fraction`](crate::percent_from_fraction); a value
    /// outside 0..=1 is a problem of the field, never 100 times too high.
    pub battery_soc_pct: Option<f64>,
    /// `backupTimeRemaining`: minutes of backup the battery has left.
    pub backup_time_remaining_min: Option<f64>,
    /// `midstate`: the state of the microgrid interconnect device (MID), an integer code.
    pub midstate: Option<i64>,
    /// The keys this reading's own frame (or document) carried. A telemetry frame may carry
    /// only some; [`TelemetryDecoder`](crate::TelemetryDecoder) fills the others with the value
    /// last seen, so a key missing here is a held value, not a new reading.
    pub carried: SiteKeys,
}

/// A set of site-totals keys (`time`, `pv_en`, ... as the sources name them): which keys a
/// reading's frame carried ([`SiteTotals::carried`]).
///
/// ```
/// use sunpower_proto::SiteKeys;
/// let mut keys = SiteKeys::default();
/// keys.insert("pv_en");
/// keys.insert("time");
/// keys.insert("colour"); // not a key: ignored
/// assert!(keys.contains("pv_en") && !keys.contains("net_en"));
/// assert_eq!(keys.iter().collect::<Vec<_>>(), ["time", "pv_en"]);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SiteKeys(u16);

impl SiteKeys {
    /// Adds `key` (nothing when it is not a site-totals key).
    pub fn insert(&mut self, key: &str) {
        if let Some(i) = KEYS.iter().position(|k| *k == key) {
            self.0 |= 1 << i;
        }
    }

    /// Whether `key` is in the set.
    ///
    /// ```
    /// assert!(!sunpower_proto::SiteKeys::default().contains("time"));
    /// ```
    pub fn contains(&self, key: &str) -> bool {
        KEYS.iter()
            .position(|k| *k == key)
            .is_some_and(|i| self.0 & (1 << i) != 0)
    }

    /// Whether no key is in the set.
    ///
    /// ```
    /// assert!(sunpower_proto::SiteKeys::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    /// The keys in the set, in the sources' order (`time`, `pv_p`, `pv_en`, ...).
    ///
    /// ```
    /// assert_eq!(sunpower_proto::SiteKeys::default().iter().count(), 0);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = &'static str> + '_ {
        KEYS.iter()
            .enumerate()
            .filter(|(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, k)| *k)
    }
}

/// Values that mean "not reported" where a number is expected.
#[cfg(feature = "varserver")]
fn not_reported(text: &str) -> bool {
    let text = text.trim();
    text.is_empty()
        || text.eq_ignore_ascii_case("nan")
        || text.eq_ignore_ascii_case("n/a")
        || text.eq_ignore_ascii_case("null")
}

/// Seconds since 1970, or milliseconds: any value of 10^11 or more (year 5138 in seconds) is
/// milliseconds, as clients have met both and no supervisor clock is that far ahead.
#[cfg(feature = "varserver")]
pub(crate) fn epoch_time(text: &str) -> Option<DateTime<Utc>> {
    let value = decimal(Some(text.trim()), 0, "time").ok()??;
    if !(0.0..1e16).contains(&value) {
        return None;
    }
    let millis = if value >= 1e11 { value } else { value * 1000.0 };
    DateTime::from_timestamp_millis(millis.round() as i64)
}

/// The keys of the site totals in `/sys/livedata/<key>` and in a telemetry `power` frame's
/// `params`: the one key table of both sources.
pub(crate) const KEYS: [&str; 12] = [
    "time",
    "pv_p",
    "pv_en",
    "net_p",
    "net_en",
    "site_load_p",
    "site_load_en",
    "ess_p",
    "ess_en",
    "soc",
    "backupTimeRemaining",
    "midstate",
];

/// The key of [`KEYS`] named `name`, if it is one.
#[cfg(feature = "varserver")]
pub(crate) fn key(name: &str) -> Option<&'static str> {
    KEYS.iter().find(|k| **k == name).copied()
}

#[cfg(feature = "varserver")]
impl SiteTotals {
    /// Sets the field of `key` (one of [`KEYS`]) from its text; `None` or `"nan"` is "not
    /// reported". `Err` with what was expected for a value of the wrong form (nothing set).
    pub(crate) fn set_key(&mut self, key: &str, text: Option<&str>) -> Result<(), Expected> {
        let value = text.filter(|t| !not_reported(t));
        let slot = match key {
            "time" => {
                self.timestamp = match value {
                    None => None,
                    Some(t) => Some(epoch_time(t).ok_or(Expected::EpochTime)?),
                };
                self.carried.insert(key);
                return Ok(());
            }
            "midstate" => {
                self.midstate = match value {
                    None => None,
                    Some(t) => Some(t.trim().parse().map_err(|_| Expected::Integer)?),
                };
                self.carried.insert(key);
                return Ok(());
            }
            "pv_p" => &mut self.pv_power_kw,
            "pv_en" => &mut self.pv_energy_kwh,
            "net_p" => &mut self.net_power_kw,
            "net_en" => &mut self.net_energy_kwh,
            "site_load_p" => &mut self.site_load_power_kw,
            "site_load_en" => &mut self.site_load_energy_kwh,
            "ess_p" => &mut self.battery_power_kw,
            "ess_en" => &mut self.battery_energy_kwh,
            "soc" => {
                // A fraction on the wire, percent in the record; over 1 is not a fraction.
                self.battery_soc_pct = match value {
                    None => None,
                    Some(t) => {
                        let fraction =
                            decimal(Some(t.trim()), 0, "").map_err(|_| Expected::Fraction)?;
                        match fraction {
                            None => None,
                            Some(f) => {
                                Some(crate::percent_from_fraction(f).ok_or(Expected::Fraction)?)
                            }
                        }
                    }
                };
                self.carried.insert(key);
                return Ok(());
            }
            "backupTimeRemaining" => &mut self.backup_time_remaining_min,
            _ => return Ok(()),
        };
        *slot = match value {
            None => None,
            Some(t) => decimal(Some(t.trim()), 0, "").map_err(|_| Expected::Decimal)?,
        };
        self.carried.insert(key);
        Ok(())
    }
}

#[cfg(feature = "varserver")]
impl SiteTotals {
    /// Copies the value of `key` (not `time`) from `from`.
    pub(crate) fn copy_key(&mut self, from: &SiteTotals, key: &str) {
        match key {
            "pv_p" => self.pv_power_kw = from.pv_power_kw,
            "pv_en" => self.pv_energy_kwh = from.pv_energy_kwh,
            "net_p" => self.net_power_kw = from.net_power_kw,
            "net_en" => self.net_energy_kwh = from.net_energy_kwh,
            "site_load_p" => self.site_load_power_kw = from.site_load_power_kw,
            "site_load_en" => self.site_load_energy_kwh = from.site_load_energy_kwh,
            "ess_p" => self.battery_power_kw = from.battery_power_kw,
            "ess_en" => self.battery_energy_kwh = from.battery_energy_kwh,
            "soc" => self.battery_soc_pct = from.battery_soc_pct,
            "backupTimeRemaining" => {
                self.backup_time_remaining_min = from.backup_time_remaining_min
            }
            "midstate" => self.midstate = from.midstate,
            _ => {}
        }
    }
}

impl SiteTotals {
    /// The typed fields in output order, with their JSON names (`timestamp` first).
    ///
    /// ```
    /// use sunpower_proto::{FieldValue, SiteTotals};
    /// let mut site = SiteTotals::default();
    /// site.pv_power_kw = Some(2.5);
    /// let mut fields = Vec::new();
    /// site.visit_fields(|name, value| fields.push((name, value)));
    /// assert_eq!(fields[0], ("timestamp", FieldValue::Time(None)));
    /// assert_eq!(fields[1], ("pv_power_kw", FieldValue::Decimal(Some(2.5))));
    /// assert_eq!(fields.len(), 12);
    /// ```
    pub fn visit_fields(&self, mut visit: impl FnMut(&'static str, crate::FieldValue<'static>)) {
        use crate::FieldValue::{Decimal as D, Integer, Time};
        visit("timestamp", Time(self.timestamp));
        visit("pv_power_kw", D(self.pv_power_kw));
        visit("pv_energy_kwh", D(self.pv_energy_kwh));
        visit("net_power_kw", D(self.net_power_kw));
        visit("net_energy_kwh", D(self.net_energy_kwh));
        visit("site_load_power_kw", D(self.site_load_power_kw));
        visit("site_load_energy_kwh", D(self.site_load_energy_kwh));
        visit("battery_power_kw", D(self.battery_power_kw));
        visit("battery_energy_kwh", D(self.battery_energy_kwh));
        visit("battery_soc_pct", D(self.battery_soc_pct));
        visit(
            "backup_time_remaining_min",
            D(self.backup_time_remaining_min),
        );
        visit("midstate", Integer(self.midstate));
    }
}

/// `{"record_type": "site_totals", "timestamp": ..., "pv_power_kw": ..., ..., "carried":
/// ["time", "pv_en", ...]}`, `null` where not reported: a kind no collector line has says its
/// name where a record says its number; `carried` lists the keys the reading's own frame (or
/// document) carried, the others being held from earlier frames.
#[cfg(feature = "serde")]
impl serde::Serialize for SiteTotals {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("record_type", "site_totals")?;
        let mut result = Ok(());
        self.visit_fields(|name, value| {
            if result.is_ok() {
                result = crate::json::serialize_field(&mut map, name, value);
            }
        });
        result?;
        map.serialize_entry("carried", &self.carried)?;
        map.end()
    }
}

/// The keys, in the sources' order: `["time", "pv_en"]`.
#[cfg(feature = "serde")]
impl serde::Serialize for SiteKeys {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

#[cfg(all(test, feature = "varserver"))]
mod tests {
    use super::*;

    #[test]
    fn time_in_seconds_and_milliseconds_is_the_same_instant() {
        let s = epoch_time("1759247902").unwrap();
        assert_eq!(epoch_time("1759247902000").unwrap(), s);
        assert_eq!(
            epoch_time("1759247902.4").unwrap().timestamp_millis(),
            1759247902400
        );
        assert_eq!(s.to_rfc3339(), "2025-09-30T15:58:22+00:00");
        assert_eq!(epoch_time("-5"), None);
        assert_eq!(epoch_time("soon"), None);
    }

    #[test]
    fn every_key_sets_its_field_and_not_reported_is_none() {
        let mut site = SiteTotals::default();
        for key in KEYS {
            // `soc` is a fraction: 3 would be a problem.
            let text = if key == "soc" { "0.3" } else { "3" };
            site.set_key(key, Some(text)).unwrap();
        }
        use crate::FieldValue::{Decimal, Integer, Time};
        let mut unset = Vec::new();
        site.visit_fields(|name, value| {
            if matches!(value, Decimal(None) | Integer(None) | Time(None)) {
                unset.push(name);
            }
        });
        assert!(unset.is_empty(), "{unset:?}");
        assert_eq!(site.battery_soc_pct, Some(30.0));
        assert_eq!(site.set_key("soc", Some("nan")), Ok(()));
        assert_eq!(site.set_key("time", Some("1751083263000")), Ok(())); // milliseconds
        assert_eq!((site.battery_soc_pct, site.midstate), (None, Some(3)));
        assert_eq!(site.timestamp.unwrap().timestamp(), 1751083263);
        assert_eq!(key("pv_en"), Some("pv_en"));
        assert_eq!(key("colour"), None);
    }

    #[test]
    fn state_of_charge_is_percent_from_the_fraction_at_both_ends() {
        let mut site = SiteTotals::default();
        assert_eq!(site.set_key("soc", Some("0")), Ok(()));
        assert_eq!(site.battery_soc_pct, Some(0.0));
        assert_eq!(site.set_key("soc", Some("1.000000")), Ok(()));
        assert_eq!(site.battery_soc_pct, Some(100.0));
        assert_eq!(site.set_key("soc", Some("0.860000")), Ok(()));
        assert_eq!(site.battery_soc_pct, Some(86.0));
        // Over 1 (a value already in percent?) is a problem, never 150 % or 8600 %.
        let mut fresh = SiteTotals::default();
        assert_eq!(fresh.set_key("soc", Some("1.5")), Err(Expected::Fraction));
        assert_eq!(fresh.set_key("soc", Some("86")), Err(Expected::Fraction));
        assert_eq!(fresh.set_key("soc", Some("-0.1")), Err(Expected::Fraction));
        assert_eq!(fresh.set_key("soc", Some("full")), Err(Expected::Fraction));
        assert_eq!(fresh.battery_soc_pct, None);
        assert!(!fresh.carried.contains("soc"));
    }

    #[test]
    fn bad_values_say_what_was_expected_and_set_nothing() {
        let mut site = SiteTotals::default();
        assert_eq!(site.set_key("pv_p", Some("1.5kW")), Err(Expected::Decimal));
        assert_eq!(
            site.set_key("midstate", Some("2.5")),
            Err(Expected::Integer)
        );
        assert_eq!(
            site.set_key("time", Some("yesterday")),
            Err(Expected::EpochTime)
        );
        assert_eq!(site, SiteTotals::default());
    }
}
