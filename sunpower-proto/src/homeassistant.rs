//! Home Assistant MQTT discovery (feature `homeassistant`), sans-I/O: records and site totals in,
//! MQTT messages (topic, payload, retain) out, for any MQTT client to publish.
//!
//! One Home Assistant device per supervisor, inverter and meter; one sensor per quantity, with
//! the device class, state class and unit the energy dashboard needs: `total_increasing` for
//! counters that only rise (production, import, export), `total` for a net counter (it falls
//! while the home exports), `measurement` for powers, voltages, currents, temperatures. Each
//! record's state is one retained JSON object on `sunpower/<device>/<record type>/state` (its
//! typed fields; a meter's 140 and 141 are one device with two), which the sensors read with a
//! `value_template`; discovery configs are retained and sent once per device and record type. Every sensor has the availability topic `sunpower/status`:
//! publish [`Discovery::online`] once connected and set [`Discovery::offline`] as the client's
//! last will.
//!
//! ```
//! use sunpower_proto::homeassistant::Discovery;
//! use sunpower_proto::parse_line;
//!
//! let mut discovery = Discovery::new();
//! let line = "130\t20260601170000\t414051637009125\tAC_Module_Type_C\t\t18.5466\t0.0417\t245.1\t0.36\t0.044\t59.1\t0.77\t1.25\t59.98\t0";
//! let messages = discovery.record(&parse_line(line).unwrap());
//! let energy = messages
//!     .iter()
//!     .find(|m| m.topic == "homeassistant/sensor/sunpower_414051637009125/lifetime_energy_kwh/config")
//!     .unwrap();
//! let config: serde_json::Value = serde_json::from_str(&energy.payload).unwrap();
//! assert_eq!(config["state_class"], "total_increasing");
//! assert_eq!(config["unit_of_measurement"], "kWh");
//! assert!(energy.retain);
//! // The state comes last; the same device again gives its state only.
//! assert_eq!(messages.last().unwrap().topic, "sunpower/414051637009125/130/state");
//! assert_eq!(discovery.record(&parse_line(line).unwrap()).len(), 1);
//! ```

use std::collections::HashSet;

use serde_json::{json, Map, Value};

use crate::{Battery, FieldValue, MeterKind, Record, SiteTotals, SupervisorHealth, TransferSwitch};

/// The topic of the availability of every sensor.
pub const AVAILABILITY_TOPIC: &str = "sunpower/status";

/// The most device parts whose discovery is remembered (a home has at most a few dozen): past it,
/// new devices still get their configs each time, never unbounded memory.
const MAX_DEVICES: usize = 4096;

/// One MQTT message to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The topic.
    pub topic: String,
    /// The payload (JSON, or `online`/`offline`).
    pub payload: String,
    /// Whether the broker keeps it for later subscribers (discovery configs and states are
    /// retained, so that Home Assistant finds them after its own restart).
    pub retain: bool,
}

/// How Home Assistant shows a quantity.
struct Class {
    device_class: Option<&'static str>,
    /// Empty for an `enum` sensor (Home Assistant refuses one with a state class).
    state_class: &'static str,
    unit: &'static str,
    /// An `enum` sensor's states.
    options: &'static [&'static str],
}

const fn class(device_class: &'static str, state_class: &'static str, unit: &'static str) -> Class {
    Class {
        device_class: Some(device_class),
        state_class,
        unit,
        options: &[],
    }
}

/// A sensor of a state among `options` (`device_class` `enum`: no state class, no unit).
const fn states(options: &'static [&'static str]) -> Class {
    Class {
        device_class: Some("enum"),
        state_class: "",
        unit: "",
        options,
    }
}

/// The sensor class of a field, by its name; `None` for fields that are not sensors (times,
/// text, status codes). A test checks each unit against the field tables.
fn sensor_class(field: &str, meter: Option<MeterKind>) -> Option<Class> {
    Some(match field {
        "lifetime_energy_kwh"
        | "import_energy_kwh"
        | "export_energy_kwh"
        | "pv_energy_kwh"
        | "site_load_energy_kwh"
        | "discharge_energy_kwh"
        | "charge_energy_kwh" => class("energy", "total_increasing", "kWh"),
        // A production meter's counter only rises; a consumption meter's is net (it falls
        // while the home exports), as is the site's.
        "lifetime_net_energy_kwh" if meter == Some(MeterKind::Production) => {
            class("energy", "total_increasing", "kWh")
        }
        "lifetime_net_energy_kwh" | "net_energy_kwh" | "battery_energy_kwh" => {
            class("energy", "total", "kWh")
        }
        "ac_power_kw" | "dc_power_kw" | "real_power_kw" | "leg1_power_kw" | "leg2_power_kw"
        | "pv_power_kw" | "net_power_kw" | "site_load_power_kw" | "battery_power_kw"
        | "power_kw" | "charge_limit_kw" | "discharge_limit_kw" => {
            class("power", "measurement", "kW")
        }
        // A battery's charge, in percent (never the wire's fraction).
        "soc_pct" | "customer_soc_pct" | "battery_soc_pct" => class("battery", "measurement", "%"),
        // Home Assistant has no device class for health or usage: plain percentages.
        "soh_pct" | "ram_usage_pct" | "cpu_usage_pct" | "flash_usage_pct" | "flash_wear_pct" => {
            Class {
                device_class: None,
                state_class: "measurement",
                unit: "%",
                options: &[],
            }
        }
        "reactive_power_kvar" => class("reactive_power", "measurement", "kvar"),
        "apparent_power_kva" => class("apparent_power", "measurement", "kVA"),
        "ac_voltage_v"
        | "dc_voltage_v"
        | "leg1_voltage_v"
        | "leg2_voltage_v"
        | "line_voltage_v"
        | "battery_voltage_v"
        | "max_cell_voltage_v"
        | "min_cell_voltage_v"
        | "grid_leg1_voltage_v"
        | "grid_leg2_voltage_v"
        | "supply_voltage_v" => class("voltage", "measurement", "V"),
        "ac_current_a" | "dc_current_a" | "leg1_current_a" | "leg2_current_a" => {
            class("current", "measurement", "A")
        }
        "heatsink_temp_c" | "inverter_temp_c" | "max_cell_temp_c" | "min_cell_temp_c"
        | "temperature_c" => class("temperature", "measurement", "°C"),
        "frequency_hz" => class("frequency", "measurement", "Hz"),
        // The transfer switch's states: the known ones as options; one not known here shows as
        // unknown (the value template gives `None`), as sent in the state object.
        "mid_state" => states(crate::MidState::KNOWN),
        "pv_disconnect_state" => states(crate::PvDisconnectState::KNOWN),
        "power_factor" => Class {
            device_class: Some("power_factor"),
            state_class: "measurement",
            unit: "",
            options: &[],
        },
        // The supervisor's health (120, SupervisorHealth).
        "uptime_s" => class("duration", "total_increasing", "s"),
        "scan_time_s" => class("duration", "measurement", "s"),
        "memory_used_kb" | "flash_available_kb" => class("data_size", "measurement", "kB"),
        "error_count" | "comm_errors" | "skipped_scans" => Class {
            device_class: None,
            state_class: "total_increasing",
            unit: "",
            options: &[],
        },
        "cpu_load" | "untransmitted" => Class {
            device_class: None,
            state_class: "measurement",
            unit: "",
            options: &[],
        },
        _ => return None,
    })
}

/// What a device is, for its name.
fn device_kind(record: &Record<'_>) -> Option<&'static str> {
    Some(match record {
        Record::Inverter(_) => "inverter",
        Record::Meter(_) | Record::MeterLegs(_) => "meter",
        Record::SupervisorStatus(_) | Record::SupervisorIdentity(_) => "supervisor",
        _ => return None,
    })
}

/// A serial as topic level and id: letters, digits, `-` and `_`, the rest `_`.
fn topic_id(serial: &str) -> String {
    serial
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The discovery state: which devices' configs were sent.
#[derive(Debug, Clone)]
pub struct Discovery {
    prefix: String,
    announced: HashSet<String>,
}

impl Default for Discovery {
    fn default() -> Self {
        Discovery::new()
    }
}

impl Discovery {
    /// Discovery under Home Assistant's default prefix, `homeassistant`.
    pub fn new() -> Discovery {
        Discovery::with_prefix("homeassistant")
    }

    /// Discovery under another prefix (Home Assistant's `discovery_prefix`).
    pub fn with_prefix(prefix: &str) -> Discovery {
        Discovery {
            prefix: prefix.trim_end_matches('/').to_owned(),
            announced: HashSet::new(),
        }
    }

    /// `online` on the availability topic, retained: publish it once connected.
    pub fn online(&self) -> Message {
        availability("online")
    }

    /// `offline` on the availability topic, retained: the client's last will.
    pub fn offline(&self) -> Message {
        availability("offline")
    }

    /// The messages of one record: its device's sensor configs the first time the device is
    /// seen, then its state. Records that are no device's (a post's header and trailer) give
    /// none.
    pub fn record(&mut self, record: &Record<'_>) -> Vec<Message> {
        let (Some(kind), Some(serial)) = (device_kind(record), record.serial()) else {
            return Vec::new();
        };
        let meter = match record {
            Record::Meter(m) => Some(m.meter_kind),
            Record::MeterLegs(_) => Some(MeterKind::from_serial(serial)),
            _ => None,
        };
        let model = match record {
            Record::Inverter(r) => r.model,
            Record::Meter(r) => r.model,
            Record::MeterLegs(r) => r.model,
            Record::SupervisorIdentity(r) => r.model,
            _ => None,
        };
        let mut state = Map::new();
        let mut fields = Vec::new();
        record.visit_fields(|name, value| {
            if let Some(value) = json_value(value) {
                state.insert(name.to_owned(), value);
            }
            fields.push(name);
        });
        let device = Device {
            id: topic_id(serial),
            name: format!("SunPower {kind} {serial}"),
            model: model.map(str::to_owned),
        };
        // A meter's 140 and 141 are one device with two states.
        let part = record.record_type().to_string();
        self.messages(&device, &part, fields, meter, state)
    }

    /// The messages of the site totals (`/sys/livedata`, telemetry), as the device of the
    /// supervisor `supervisor_serial`.
    pub fn site_totals(&mut self, site: &SiteTotals, supervisor_serial: &str) -> Vec<Message> {
        let mut state = Map::new();
        let mut fields = Vec::new();
        site.visit_fields(|name, value| {
            if let Some(value) = json_value(value) {
                state.insert(name.to_owned(), value);
            }
            fields.push(name);
        });
        let device = Device {
            id: format!("{}_site", topic_id(supervisor_serial)),
            name: format!("SunPower site {supervisor_serial}"),
            model: None,
        };
        self.messages(&device, "site", fields, None, state)
    }

    /// The messages of a battery: a device of its own (`SunPower battery <serial>`), its state
    /// on `sunpower/<serial>/battery/state`. Charge in percent (`battery` device class),
    /// energy counters `total_increasing`.
    ///
    /// ```
    /// # #[cfg(feature = "varserver")] {
    /// use sunpower_proto::{homeassistant::Discovery, parse_vars};
    /// let vars = parse_vars(r#"{"/sys/devices/ess/0/sn": "BC01",
    ///     "/sys/devices/ess/0/msmtEps": "2025-09-30T15:50:00Z", "/sys/devices/ess/0/socVal": "0.86"}"#).unwrap();
    /// let messages = Discovery::new().battery(&vars.batteries[0]);
    /// let soc = messages.iter().find(|m| m.topic.ends_with("/soc_pct/config")).unwrap();
    /// let config: serde_json::Value = serde_json::from_str(&soc.payload).unwrap();
    /// assert_eq!((config["device_class"].as_str(), config["unit_of_measurement"].as_str()), (Some("battery"), Some("%")));
    /// assert!(messages.last().unwrap().payload.contains(r#""soc_pct":86.0"#));
    /// # }
    /// ```
    pub fn battery(&mut self, battery: &Battery) -> Vec<Message> {
        let (state, fields) = state_of(|v| battery.visit_fields(v));
        let device = Device {
            id: topic_id(&battery.serial),
            name: format!("SunPower battery {}", battery.serial),
            model: battery.model.clone(),
        };
        self.messages(&device, Battery::KIND, fields, None, state)
    }

    /// The messages of a transfer switch: a device of its own, its state on
    /// `sunpower/<serial>/transfer_switch/state` (the states as sent, in the state object).
    /// Its two states, `mid_state` (grid or backup) and `pv_disconnect_state`, are sensors of
    /// their own, `device_class` `enum` with the known states as `options`.
    ///
    /// ```
    /// # #[cfg(feature = "varserver")] {
    /// use sunpower_proto::{homeassistant::Discovery, parse_vars};
    /// let vars = parse_vars(r#"{"/sys/devices/transfer_switch/0/sn": "MIDC01",
    ///     "/sys/devices/transfer_switch/0/msmtEps": "2025-09-30T15:50:00Z",
    ///     "/sys/devices/transfer_switch/0/midStEnum": "MID_STATE_OPEN"}"#).unwrap();
    /// let messages = Discovery::new().transfer_switch(&vars.transfer_switches[0]);
    /// let mid = messages.iter().find(|m| m.topic.ends_with("/mid_state/config")).unwrap();
    /// let config: serde_json::Value = serde_json::from_str(&mid.payload).unwrap();
    /// assert_eq!(config["device_class"], "enum");
    /// assert_eq!(config["options"], serde_json::json!(["MID_STATE_CLOSED", "MID_STATE_OPEN"]));
    /// assert!(messages.last().unwrap().payload.contains(r#""mid_state":"MID_STATE_OPEN""#));
    /// # }
    /// ```
    pub fn transfer_switch(&mut self, switch: &TransferSwitch) -> Vec<Message> {
        let (state, fields) = state_of(|v| switch.visit_fields(v));
        let device = Device {
            id: topic_id(&switch.serial),
            name: format!("SunPower transfer switch {}", switch.serial),
            model: switch.model.clone(),
        };
        self.messages(&device, TransferSwitch::KIND, fields, None, state)
    }

    /// The messages of the supervisor's health, as the device of the supervisor
    /// `supervisor_serial` (the one its 120 records are).
    pub fn supervisor_health(
        &mut self,
        health: &SupervisorHealth,
        supervisor_serial: &str,
    ) -> Vec<Message> {
        let (state, fields) = state_of(|v| health.visit_fields(v));
        let device = Device {
            id: topic_id(supervisor_serial),
            name: format!("SunPower supervisor {supervisor_serial}"),
            model: health.model.clone(),
        };
        self.messages(&device, SupervisorHealth::KIND, fields, None, state)
    }

    /// The configs of `device`'s sensors among `fields` the first time its `part` (a record
    /// type, or the site) is seen, then the part's state.
    fn messages(
        &mut self,
        device: &Device,
        part: &str,
        fields: Vec<&'static str>,
        meter: Option<MeterKind>,
        state: Map<String, Value>,
    ) -> Vec<Message> {
        let state_topic = format!("sunpower/{}/{part}/state", device.id);
        let mut out = Vec::new();
        if !self.announced.contains(&state_topic) {
            if self.announced.len() < MAX_DEVICES {
                self.announced.insert(state_topic.clone());
            }
            for field in fields {
                let Some(class) = sensor_class(field, meter) else {
                    continue;
                };
                let mut config = json!({
                    "name": field.replace('_', " "),
                    "unique_id": format!("sunpower_{}_{field}", device.id),
                    "object_id": format!("sunpower_{}_{field}", device.id),
                    "state_topic": state_topic,
                    "value_template": value_template(field, class.options),
                    "availability_topic": AVAILABILITY_TOPIC,
                    "device": {
                        "identifiers": [format!("sunpower_{}", device.id)],
                        "name": device.name,
                        "manufacturer": "SunPower",
                    },
                });
                if !class.state_class.is_empty() {
                    config["state_class"] = json!(class.state_class);
                }
                if !class.options.is_empty() {
                    config["options"] = json!(class.options);
                }
                if let Some(device_class) = class.device_class {
                    config["device_class"] = json!(device_class);
                }
                if !class.unit.is_empty() {
                    config["unit_of_measurement"] = json!(class.unit);
                }
                if let Some(model) = &device.model {
                    config["device"]["model"] = json!(model);
                }
                out.push(Message {
                    topic: format!(
                        "{}/sensor/sunpower_{}/{field}/config",
                        self.prefix, device.id
                    ),
                    payload: config.to_string(),
                    retain: true,
                });
            }
        }
        out.push(Message {
            topic: state_topic,
            payload: Value::Object(state).to_string(),
            retain: true,
        });
        out
    }
}

/// The template reading `field` from the state object; for an `enum` sensor, a state not
/// among `options` (or none) gives `None`, which Home Assistant's MQTT sensor takes as
/// unknown (a state outside the options would be refused with an error).
fn value_template(field: &str, options: &[&str]) -> String {
    if options.is_empty() {
        return format!("{{{{ value_json.{field} }}}}");
    }
    let list = options
        .iter()
        .map(|o| format!("'{o}'"))
        .collect::<Vec<_>>()
        .join(", ");
    format!("{{{{ value_json.{field} if value_json.{field} in [{list}] else None }}}}")
}

struct Device {
    id: String,
    name: String,
    model: Option<String>,
}

fn availability(payload: &str) -> Message {
    Message {
        topic: AVAILABILITY_TOPIC.to_owned(),
        payload: payload.to_owned(),
        retain: true,
    }
}

/// The state object of a kind's visited fields, and their names.
fn state_of(
    visit_all: impl FnOnce(&mut dyn FnMut(&'static str, FieldValue<'_>)),
) -> (Map<String, Value>, Vec<&'static str>) {
    let mut state = Map::new();
    let mut fields = Vec::new();
    visit_all(&mut |name, value| {
        if let Some(value) = json_value(value) {
            state.insert(name.to_owned(), value);
        }
        fields.push(name);
    });
    (state, fields)
}

/// A field's value in a state object; `None` for a record's `raw` line.
fn json_value(value: FieldValue<'_>) -> Option<Value> {
    Some(match value {
        FieldValue::Time(t) => json!(t.map(|t| crate::rfc3339(t).to_string())),
        FieldValue::Text(t) => json!(t),
        FieldValue::Decimal(v) => json!(v),
        FieldValue::Integer(v) => json!(v),
        FieldValue::Unsigned(v) => json!(v),
        FieldValue::Bool(b) => json!(b),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 22: the site's state of charge is announced and sent in percent.
    #[test]
    fn site_state_of_charge_is_a_battery_sensor_in_percent() {
        let site = SiteTotals {
            battery_soc_pct: Some(86.0),
            ..SiteTotals::default()
        };
        let messages = Discovery::new().site_totals(&site, "ZT01");
        let config = messages
            .iter()
            .find(|m| m.topic.ends_with("/battery_soc_pct/config"))
            .unwrap();
        let config: serde_json::Value = serde_json::from_str(&config.payload).unwrap();
        assert_eq!(config["unit_of_measurement"], "%");
        assert_eq!(config["device_class"], "battery");
        let state = messages.last().unwrap();
        assert!(
            state.payload.contains(r#""battery_soc_pct":86.0"#),
            "{}",
            state.payload
        );
    }

    /// Each sensor's unit is its field's unit in the field tables (the one description).
    #[test]
    fn sensor_units_are_the_field_tables_units() {
        let mut checked = 0;
        let tables = [120, 130, 140, 141].map(Record::fields).into_iter().chain([
            Battery::FIELDS,
            TransferSwitch::FIELDS,
            SupervisorHealth::FIELDS,
        ]);
        for (record_type, table) in tables.enumerate() {
            for spec in table {
                for meter in [
                    None,
                    Some(MeterKind::Production),
                    Some(MeterKind::Consumption),
                ] {
                    if let Some(class) = sensor_class(spec.name, meter) {
                        let unit = spec.unit.unwrap_or("");
                        assert_eq!(class.unit, unit, "{record_type} {}", spec.name);
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 60, "{checked}");
        // The site totals' state of charge: percent, as a battery's.
        let soc = sensor_class("battery_soc_pct", None).unwrap();
        assert_eq!((soc.device_class, soc.unit), (Some("battery"), "%"));
        // Every quantity of a battery and a transfer switch is a sensor.
        for table in [Battery::FIELDS, TransferSwitch::FIELDS] {
            for spec in table
                .iter()
                .filter(|f| f.field_type == crate::FieldType::Decimal)
            {
                assert!(sensor_class(spec.name, None).is_some(), "{}", spec.name);
            }
        }
    }
}
