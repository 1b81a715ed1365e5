//! Home Assistant discovery of real records: what Home Assistant requires of each config, and
//! the energy dashboard's classes.
#![cfg(all(feature = "homeassistant", feature = "varserver"))]

use std::collections::{HashMap, HashSet};

use serde_json::Value;
use sunpower_proto::homeassistant::{Discovery, Message, AVAILABILITY_TOPIC};
use sunpower_proto::{parse_vars, Body};

fn sample_body() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/bodies/forum-2017-body.txt"
    ))
    .unwrap()
}

fn vars_dump() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/local-api/pvs6-61845-varserver-dump.json"
    ))
    .unwrap()
}

fn configs(messages: &[Message]) -> Vec<(String, Value)> {
    messages
        .iter()
        .filter(|m| m.topic.ends_with("/config"))
        .map(|m| {
            (
                m.topic.clone(),
                serde_json::from_str(&m.payload).expect("a config is JSON"),
            )
        })
        .collect()
}

/// Every config has what Home Assistant requires, its state topic carries the field its
/// template reads, and the classes are the energy dashboard's.
fn check(messages: &[Message]) -> usize {
    let states: HashMap<&str, Value> = messages
        .iter()
        .filter(|m| m.topic.ends_with("/state"))
        .map(|m| (m.topic.as_str(), serde_json::from_str(&m.payload).unwrap()))
        .collect();
    let mut ids = HashSet::new();
    let configs = configs(messages);
    for (topic, config) in &configs {
        assert!(
            topic.starts_with("homeassistant/sensor/sunpower_"),
            "{topic}"
        );
        assert!(
            topic
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/_-".contains(c)),
            "{topic}"
        );
        let id = config["unique_id"].as_str().expect("unique_id");
        assert!(ids.insert(id.to_owned()), "unique_id {id} twice");
        assert!(
            config["device"]["identifiers"][0].as_str().is_some(),
            "{config}"
        );
        assert_eq!(config["device"]["manufacturer"], "SunPower");
        assert_eq!(config["availability_topic"], AVAILABILITY_TOPIC);
        let state_topic = config["state_topic"].as_str().unwrap();
        let template = config["value_template"].as_str().unwrap();
        let field = template.trim_start_matches("{{ value_json.");
        let field = &field[..field
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap()];
        let state = &states[state_topic];
        assert!(state.get(field).is_some(), "{state_topic} lacks {field}");
        if config["device_class"] == "enum" {
            // Home Assistant refuses an enum sensor with a state class or a unit, or without
            // its options; a state outside them must come out as None (unknown).
            assert!(config.get("state_class").is_none(), "{config}");
            assert!(config.get("unit_of_measurement").is_none(), "{config}");
            let options = config["options"].as_array().expect("options");
            assert!(!options.is_empty());
            for option in options {
                let option = option.as_str().unwrap();
                assert!(template.contains(&format!("'{option}'")), "{template}");
            }
            assert!(template.ends_with(" else None }}"), "{template}");
            continue;
        }
        let (class, state_class, unit) = (
            config["device_class"].as_str(),
            config["state_class"].as_str().unwrap(),
            config["unit_of_measurement"].as_str(),
        );
        match class {
            Some("energy") => {
                assert_eq!(unit, Some("kWh"));
                assert!(
                    ["total", "total_increasing"].contains(&state_class),
                    "{config}"
                );
            }
            Some("power") => assert_eq!((unit, state_class), (Some("kW"), "measurement")),
            Some("duration") => assert_eq!(unit, Some("s")),
            _ => assert!(
                ["measurement", "total_increasing"].contains(&state_class),
                "{config}"
            ),
        }
        // Counters that only rise are total_increasing; a net one total.
        match field {
            "lifetime_energy_kwh" | "import_energy_kwh" | "export_energy_kwh" | "pv_energy_kwh" => {
                assert_eq!(state_class, "total_increasing", "{topic}")
            }
            "net_energy_kwh" => assert_eq!(state_class, "total"),
            "lifetime_net_energy_kwh" if topic.contains("p/") => {
                assert_eq!(state_class, "total_increasing")
            }
            "lifetime_net_energy_kwh" => assert_eq!(state_class, "total", "{topic}"),
            _ => {}
        }
    }
    assert!(messages.iter().all(|m| m.retain));
    configs.len()
}

#[test]
fn a_collector_body_gives_each_device_its_sensors_once_and_its_states() {
    let body = sample_body();
    let mut discovery = Discovery::new();
    let mut messages = Vec::new();
    for record in Body::new(&body).records().flatten() {
        messages.extend(discovery.record(&record));
    }
    let sensors = check(&messages);
    let devices: HashSet<_> = configs(&messages)
        .iter()
        .map(|(_, c)| c["device"]["identifiers"][0].as_str().unwrap().to_owned())
        .collect();
    // The body's inverters and its two meters, each with its sensors.
    let inverters = Body::new(&body)
        .records()
        .flatten()
        .filter(|r| r.record_type() == 130)
        .map(|r| r.serial().unwrap().to_owned())
        .collect::<HashSet<_>>();
    assert!(inverters.len() >= 10, "{}", inverters.len());
    assert_eq!(devices.len(), inverters.len() + 2 + 1, "{devices:?}");
    assert!(sensors >= inverters.len() * 8);
    // The same records again: states only.
    let again: Vec<Message> = Body::new(&body)
        .records()
        .flatten()
        .flat_map(|r| discovery.record(&r))
        .collect();
    assert!(again.iter().all(|m| m.topic.ends_with("/state")));
}

#[test]
fn a_vars_dump_gives_inverters_meters_and_the_site() {
    let vars = parse_vars(vars_dump()).unwrap();
    let mut discovery = Discovery::new();
    let mut messages: Vec<Message> = vars
        .records()
        .flat_map(|r| discovery.record(&r.record()))
        .collect();
    let site = vars.site.clone().expect("the dump has livedata");
    messages.extend(discovery.site_totals(&site, "ZT0123456789A1234"));
    check(&messages);
    let fields: HashSet<String> = configs(&messages)
        .iter()
        .map(|(_, c)| c["value_template"].as_str().unwrap().to_owned())
        .collect();
    for field in [
        "pv_energy_kwh",
        "net_energy_kwh",
        "site_load_energy_kwh",
        "pv_power_kw",
    ] {
        assert!(
            fields.contains(&format!("{{{{ value_json.{field} }}}}")),
            "{field}"
        );
    }
    // No secret of the dump in any message.
    for m in &messages {
        for secret in ["SunPower44444", "DDDDDDDDD", "00:00:00:00:00:00"] {
            assert!(!m.payload.contains(secret) && !m.topic.contains(secret));
        }
    }
    assert_eq!(discovery.offline().payload, "offline");
    assert_eq!(discovery.online().topic, AVAILABILITY_TOPIC);
}

/// A transfer switch's two states are `enum` sensors with the known states as options, their
/// values (known or not) as sent in the state object; its quantities are sensors with units.
#[test]
fn a_transfer_switch_gives_its_states_as_enum_sensors() {
    let vars = parse_vars(
        r#"{"/sys/devices/transfer_switch/0/sn": "MIDC01",
            "/sys/devices/transfer_switch/0/msmtEps": "2025-09-30T15:50:00Z",
            "/sys/devices/transfer_switch/0/midStEnum": "MID_STATE_OPEN",
            "/sys/devices/transfer_switch/0/pvd1StEnum": "PVD_STATE_FAULT",
            "/sys/devices/transfer_switch/0/tDegc": "31.5"}"#,
    )
    .unwrap();
    let mut discovery = Discovery::new();
    let messages = discovery.transfer_switch(&vars.transfer_switches[0]);
    check(&messages);
    let configs: HashMap<String, Value> = configs(&messages).into_iter().collect();
    let config = |field: &str| {
        configs
            .get(&format!(
                "homeassistant/sensor/sunpower_MIDC01/{field}/config"
            ))
            .unwrap_or_else(|| panic!("no {field} sensor"))
    };
    let mid = config("mid_state");
    assert_eq!(mid["device_class"], "enum");
    assert_eq!(
        mid["options"],
        serde_json::json!(["MID_STATE_CLOSED", "MID_STATE_OPEN"])
    );
    assert_eq!(
        mid["value_template"],
        "{{ value_json.mid_state if value_json.mid_state in ['MID_STATE_CLOSED', \
         'MID_STATE_OPEN'] else None }}"
    );
    assert_eq!(mid["state_topic"], "sunpower/MIDC01/transfer_switch/state");
    let pvd = config("pv_disconnect_state");
    assert_eq!(pvd["device_class"], "enum");
    assert_eq!(
        pvd["options"],
        serde_json::json!(["PVD_STATE_CLOSED", "PVD_STATE_OPEN"])
    );
    let temperature = config("temperature_c");
    assert_eq!(
        (
            &temperature["device_class"],
            &temperature["unit_of_measurement"]
        ),
        (&Value::from("temperature"), &Value::from("°C"))
    );
    // The state as sent: an unknown state too (the template makes it unknown in Home
    // Assistant, the text stays in the state object).
    let state: Value = serde_json::from_str(&messages.last().unwrap().payload).unwrap();
    assert_eq!(state["mid_state"], "MID_STATE_OPEN");
    assert_eq!(state["pv_disconnect_state"], "PVD_STATE_FAULT");
    // Announced once: the next reading is its state only.
    let again = discovery.transfer_switch(&vars.transfer_switches[0]);
    assert_eq!(again.len(), 1);
}
