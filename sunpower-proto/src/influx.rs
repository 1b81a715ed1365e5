//! InfluxDB line protocol: records, site totals and interval rows as lines for InfluxDB (or
//! Telegraf, VictoriaMetrics, QuestDB), sans-I/O: each function appends one line to a `String`.
//!
//! A record is a line of measurement `sunpower_<kind>` (`sunpower_inverter`, `sunpower_meter`,
//! ...), tagged with its `serial` (and `model`, and a meter's `meter_kind`), whose fields are its
//! typed values that were reported (decimals as floats, counts as integers, other text as
//! strings), at its measurement time in nanoseconds. Escaping follows the protocol's rules
//! (`,`, `=` and spaces in tags, `"` and `\` in strings); a record without a time or without a
//! value gives no line.
//!
//! ```
//! use sunpower_proto::{influx, parse_line};
//! let line = "130\t20170107171000\t414051637009125\tAC_Module_Type_C\t\t18.5466\t0.0417";
//! let mut out = String::new();
//! assert!(influx::write_record(&mut out, &parse_line(line).unwrap()));
//! assert_eq!(
//!     out,
//!     "sunpower_inverter,serial=414051637009125,model=AC_Module_Type_C \
//!      lifetime_energy_kwh=18.5466,ac_power_kw=0.0417 1483809000000000000\n"
//! );
//! ```

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use crate::{FieldValue, MeterKind, MeterRole, Record, SiteTotals};

/// The measurement of a record kind.
fn measurement(record: &Record<'_>) -> &'static str {
    match record {
        Record::Header(_) => "sunpower_header",
        Record::Trailer(_) => "sunpower_trailer",
        Record::Inverter(_) => "sunpower_inverter",
        Record::InverterStatus(_) => "sunpower_inverter_status",
        Record::Meter(_) => "sunpower_meter",
        Record::MeterLegs(_) => "sunpower_meter_legs",
        Record::SupervisorStatus(_) => "sunpower_supervisor",
        Record::SupervisorIdentity(_) => "sunpower_supervisor_identity",
        _ => "sunpower_record",
    }
}

/// A tag key or value, or a measurement: `,`, `=` and spaces escaped; line ends (which cannot
/// be escaped) become spaces, escaped; a backslash becomes `/`, as the protocol reads one before
/// those characters as an escape and cannot end a tag with one (no serial or model has one).
fn push_tag(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            ',' | '=' | ' ' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push_str("\\ "),
            '\\' => out.push('/'),
            _ => out.push(c),
        }
    }
}

/// A string field's value, quoted.
fn push_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out.push('"');
}

/// Appends `key=value` for a reported value; nothing for one not reported (or not finite).
fn push_field(out: &mut String, first: &mut bool, key: &str, value: FieldValue<'_>) {
    let at = out.len();
    out.push(if *first { ' ' } else { ',' });
    push_tag(out, key);
    out.push('=');
    let written = match value {
        FieldValue::Decimal(Some(v)) if v.is_finite() => {
            // Always a float: `18` would be an integer, and a field's type must not change.
            if v.fract() == 0.0 && v.abs() < 1e15 {
                write!(out, "{v:.1}").is_ok()
            } else {
                write!(out, "{v}").is_ok()
            }
        }
        FieldValue::Integer(Some(v)) => write!(out, "{v}i").is_ok(),
        FieldValue::Unsigned(Some(v)) => match i64::try_from(v) {
            Ok(v) => write!(out, "{v}i").is_ok(),
            Err(_) => false,
        },
        FieldValue::Bool(b) => {
            out.push_str(if b { "true" } else { "false" });
            true
        }
        FieldValue::Text(Some(t)) => {
            push_string(out, t);
            true
        }
        _ => false,
    };
    if written {
        *first = false;
    } else {
        out.truncate(at);
    }
}

fn push_time(out: &mut String, t: DateTime<Utc>) -> bool {
    match t.timestamp_nanos_opt() {
        Some(ns) => {
            let _ = writeln!(out, " {ns}");
            true
        }
        None => false,
    }
}

/// Appends the line of `record`; false (and nothing appended) when it has no time or no value.
pub fn write_record(out: &mut String, record: &Record<'_>) -> bool {
    let (Some(time), start) = (record.timestamp(), out.len()) else {
        return false;
    };
    out.push_str(measurement(record));
    let serial = record.serial();
    if let Some(serial) = serial.filter(|s| !s.is_empty()) {
        out.push_str(",serial=");
        push_tag(out, serial);
    }
    // Two walks over the fields, the tags first, so that nothing is gathered per record.
    let mut model = None;
    record.visit_fields(|name, value| {
        if let ("model", FieldValue::Text(m)) = (name, value) {
            model = m;
        }
    });
    if let Some(model) = model.filter(|m| !m.is_empty()) {
        out.push_str(",model=");
        push_tag(out, model);
    }
    if let Record::Meter(m) = record {
        if m.meter_kind != MeterKind::Unknown {
            out.push_str(",meter_kind=");
            out.push_str(m.meter_kind.as_str());
        }
        if m.role != MeterRole::Unknown {
            out.push_str(",meter_role=");
            out.push_str(m.role.as_str());
        }
    }
    let mut first = true;
    record.visit_fields(|name, value| match name {
        // The time is the line's; the serial, the model and a meter's kind and role are tags.
        "timestamp" | "serial" | "model" | "meter_kind" | "meter_role" => {}
        _ => push_field(out, &mut first, name, value),
    });
    if first || !push_time(out, time) {
        out.truncate(start);
        return false;
    }
    true
}

/// Appends the line of the site totals (`sunpower_site`, tagged with the supervisor's serial);
/// false when they have no time or no value.
///
/// ```
/// use sunpower_proto::{influx, parse_telemetry};
/// let frame = r#"{"notification":"power","params":{"time":1751083345,"pv_p":"2.5","pv_en":"40747.87"}}"#;
/// let site = parse_telemetry(frame).unwrap().unwrap();
/// let mut out = String::new();
/// influx::write_site_totals(&mut out, &site, "ZT01");
/// assert_eq!(out, "sunpower_site,supervisor=ZT01 pv_power_kw=2.5,pv_energy_kwh=40747.87 1751083345000000000\n");
/// ```
pub fn write_site_totals(out: &mut String, site: &SiteTotals, supervisor_serial: &str) -> bool {
    let (Some(time), start) = (site.timestamp, out.len()) else {
        return false;
    };
    out.push_str("sunpower_site");
    if !supervisor_serial.is_empty() {
        out.push_str(",supervisor=");
        push_tag(out, supervisor_serial);
    }
    let mut first = true;
    site.visit_fields(|name, value| {
        if name != "timestamp" {
            push_field(out, &mut first, name, value);
        }
    });
    if first || !push_time(out, time) {
        out.truncate(start);
        return false;
    }
    true
}

/// Appends the line of a battery (`sunpower_battery`, tagged with its serial and model, at its
/// `timestamp`); its state of charge and health in percent. False when it has no value.
///
/// ```
/// # #[cfg(feature = "varserver")] {
/// use sunpower_proto::{influx, parse_vars};
/// let vars = parse_vars(r#"{"/sys/devices/ess/0/sn": "BC01",
///     "/sys/devices/ess/0/msmtEps": "2025-09-30T15:50:00Z", "/sys/devices/ess/0/socVal": "0.86"}"#).unwrap();
/// let mut out = String::new();
/// influx::write_battery(&mut out, &vars.batteries[0]);
/// assert_eq!(out, "sunpower_battery,serial=BC01 soc_pct=86.0 1759247400000000000\n");
/// # }
/// ```
pub fn write_battery(out: &mut String, battery: &crate::Battery) -> bool {
    write_device(out, "sunpower_battery", battery.timestamp, |v| {
        battery.visit_fields(v)
    })
}

/// Appends the line of a transfer switch (`sunpower_transfer_switch`, tagged with its serial and
/// model; its states as strings). False when it has no value.
pub fn write_transfer_switch(out: &mut String, switch: &crate::TransferSwitch) -> bool {
    write_device(out, "sunpower_transfer_switch", switch.timestamp, |v| {
        switch.visit_fields(v)
    })
}

/// One device's line: `serial` and `model` as tags, the other fields but the time as fields.
fn write_device(
    out: &mut String,
    measurement: &str,
    time: chrono::DateTime<chrono::Utc>,
    visit_all: impl Fn(&mut dyn FnMut(&'static str, FieldValue<'_>)),
) -> bool {
    let start = out.len();
    out.push_str(measurement);
    visit_all(&mut |name, value| {
        if let ("serial" | "model", FieldValue::Text(Some(text))) = (name, value) {
            out.push(',');
            out.push_str(name);
            out.push('=');
            push_tag(out, text);
        }
    });
    let mut first = true;
    visit_all(&mut |name, value| {
        if !matches!(name, "timestamp" | "serial" | "model") {
            push_field(out, &mut first, name, value);
        }
    });
    if first || !push_time(out, time) {
        out.truncate(start);
        return false;
    }
    true
}

/// Appends the line of an interval row (`sunpower_interval`, at its start): its columns but
/// the times, flags as a `|`-joined string.
///
/// ```
/// use sunpower_proto::{influx, parse_line};
/// use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
/// let mut acc = IntervalAccumulator::new(IntervalConfig::documents());
/// for line in ["130\t20260601170000\tINV1\tM\t\t100.000\t0.3", "130\t20260601170500\tINV1\tM\t\t100.025\t0.3"] {
///     acc.add(&parse_line(line).unwrap());
/// }
/// let mut out = String::new();
/// influx::write_interval(&mut out, &acc.finish()[1]);
/// assert!(out.starts_with("sunpower_interval production_wh=25.0,"));
/// assert!(out.ends_with(",flags=\"no_meter\" 1780333500000000000\n"));
/// ```
#[cfg(feature = "intervals")]
pub fn write_interval(out: &mut String, interval: &crate::intervals::Interval) -> bool {
    let start = out.len();
    out.push_str("sunpower_interval");
    let mut first = true;
    interval.visit_output(None, |name, value| match value {
        FieldValue::Time(_) => {}
        FieldValue::Flags(flags) => {
            let names = flags.to_string();
            push_field(out, &mut first, name, FieldValue::Text(Some(&names)));
        }
        _ => push_field(out, &mut first, name, value),
    });
    if first || !push_time(out, interval.interval_start) {
        out.truncate(start);
        return false;
    }
    true
}
