//! Zero-copy decoding of the plain-text stream a SunPower PV Supervisor (PVS2, PVS5, older PVS6)
//! POSTs to SunPower's collector: one record per line, TAB-separated fields, the record type in
//! field 0.
//!
//! The crate does no I/O. Hand it a body's bytes and iterate its records: each line gives a
//! typed [`Record`] borrowing from the body, or a [`LineError`] that says which line and field
//! was wrong and what was expected. One bad line never stops the others.
//!
//! ```
//! use sunpower_proto::{Body, Record};
//!
//! let body = b"100\tSPMS\t10\tZT162585000441C1402\t20170107171925\n\
//! 130\t20170107171000\t414051637009125\tAC_Module_Type_C\t18.5466\t0.0417\t245.1503\t0.3643\t0.044\t59.0692\t0.7733\t1.25\t59.9772\t0\n\
//! 130\t2017-bad\t414051636008165\tAC_Module_Type_C\t17.8875\n\
//! 102\t51oeIKDhOUeah8+9ZCME\n";
//!
//! let mut energy = 0.0;
//! let mut errors = Vec::new();
//! for item in Body::new(body).records() {
//!     match item {
//!         Ok(Record::Inverter(inv)) => energy += inv.lifetime_energy_kwh.unwrap_or(0.0),
//!         Ok(_) => {}
//!         Err(e) => errors.push(e),
//!     }
//! }
//! assert_eq!(energy, 18.5466);
//! assert_eq!(errors.len(), 1);
//! assert_eq!(errors[0].line, 3);
//! ```
//!
//! [`JsonRecord`] writes records in the JSON shape the `sunpower` command prints; with the `serde`
//! feature, records serialize to the same shape.
//!
//! # Modules and entry points
//!
//! | source or step | entry point | feature |
//! |---|---|---|
//! | collector POST bodies (plain text) | [`Body`], [`BodyStream`], [`parse_line`], [`Record`], [`RecordBuf`] | |
//! | DeviceList JSON (`dl_cgi?Command=DeviceList`, `/cgi-bin/dl_cgi/devices/list`) | `parse_device_list` | `devicelist` |
//! | varserver `/vars` documents (object or array form, flat or nested paths) | `parse_vars` | `varserver` |
//! | supervisor info (`/cgi-bin/dl_cgi/supervisor/info`) | `parse_supervisor_info` | `varserver` |
//! | telemetry WebSocket frames (`ws://<pvs>:9002`) | `TelemetryDecoder`, `parse_telemetry` | `varserver` |
//! | talking to a supervisor (which source, login, polls, back-off), sans-I/O | `session::Session` | `varserver` |
//! | InfluxDB line protocol of records, site totals and interval rows | [`influx`] | |
//! | Home Assistant MQTT discovery messages of records and site totals | `homeassistant::Discovery` | `homeassistant` |
//! | site totals (`/sys/livedata`, telemetry `power`) | [`SiteTotals`] | |
//! | interval energy | [`intervals::IntervalAccumulator`] (`add`, `add_site_totals`, `add_vars`) | `intervals` (default) |
//! | health findings (dead, missing, underperforming, stale inverters; gaps; counter problems; supervisor communication errors, memory, flash usage and wear; batteries' state of health and silence) | [`health::Health`] (`add`, `add_event`, `take_findings`, `finish`) | `intervals` |
//! | output shapes (CSV, PVOutput, jsonl rows) | [`export`] | `intervals` |
//! | a report people look at (one HTML page: daily energy, each panel's days, findings, gaps) | `report::ReportStages`, `report::Report` | `report` |
//! | JSON of records (JSON Lines) | [`JsonLines`] onto any `io::Write`; [`JsonRecord`] is the shape, `Serialize` with serde | `serde` for the impls |
//! | Arrow record batches of records and intervals | `arrow::RecordBatcher`, `arrow::interval_batch` | `arrow` |
//! | the `YYYY/MM/DD.csv` tree's files merged with what they hold (sans-I/O) | [`tree::files_to_read`], [`tree::merge`] | `intervals` |
//!
//! Writing files is not this crate's: the tree written to a folder (locked, crash-safe) is
//! `sunpower_store::tree::write_dir`, and the Parquet files of the Arrow batches (a Hive-style
//! records dataset, an intervals file) are `sunpower_store::parquet::Dataset` and
//! `IntervalsFile` (feature `parquet` of the `sunpower-store` crate).
//!
//! Every JSON reader works on a document already in memory but never builds it as one value:
//! documents are visited entry by entry and refused past a byte cap (`DocumentLimits`:
//! `max_bytes`, `max_frame_bytes`), which a front end reading a stream can use to stop reading.
//! Their problems all have one shape, `DocumentProblem` (a position and a kind shared by the
//! sources), as the collector lines' have [`LineError`]. Wi-Fi SSIDs and keys and MAC addresses
//! in a varserver document are counted and never kept, so no output can echo them.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "arrow")]
pub mod arrow;
mod body;
mod counts;
#[cfg(feature = "devicelist")]
mod devicelist;
mod devices;
#[cfg(feature = "devicelist")]
mod document;
mod error;
#[cfg(feature = "intervals")]
pub mod export;
mod fields;
#[cfg(feature = "intervals")]
pub mod health;
#[cfg(feature = "homeassistant")]
pub mod homeassistant;
pub mod influx;
#[cfg(feature = "intervals")]
pub mod intervals;
mod json;
#[cfg(feature = "devicelist")]
mod jsonvalue;
mod owned;
mod problems;
mod record;
#[cfg(feature = "report")]
pub mod report;
#[cfg(feature = "varserver")]
pub mod session;
mod site;
#[cfg(feature = "varserver")]
mod telemetry;
mod time;
#[cfg(feature = "intervals")]
pub mod tree;
mod value;
#[cfg(feature = "varserver")]
mod varserver;
mod visit;

pub use body::{parse_line, Body, BodyStream, Records, MAX_LINE_BYTES};
pub use counts::RecordCounts;
#[cfg(feature = "devicelist")]
pub use devicelist::{parse_device_list, parse_device_list_with, DeviceList, UnknownDevice};
pub use devices::{
    flash_wear_percent, percent_from_fraction, Battery, MidState, PvDisconnectState,
    SupervisorHealth, TransferSwitch,
};
#[cfg(feature = "devicelist")]
pub use document::{DocumentLimits, DocumentPosition, DocumentProblem, DocumentProblemKind};
pub use error::{ErrorKind, Expected, LineError};
pub use fields::{FieldSpec, FieldType};
pub use json::{JsonLines, JsonRecord};
pub use owned::RecordBuf;
pub use problems::{ProblemLog, LINE_ERROR_KIND, SHOWN_PER_KIND};
pub use record::{
    FieldValue, Header, Inverter, InverterForm, InverterStatus, Meter, MeterKind, MeterLegs,
    MeterRole, RawFields, Record, Source, SupervisorIdentity, SupervisorStatus, Trailer, Unknown,
};
pub use site::{SiteKeys, SiteTotals};
#[cfg(feature = "varserver")]
pub use telemetry::{parse_telemetry, TelemetryDecoder, TelemetryStats, TELEMETRY_HOLD_S};
pub use time::rfc3339;
pub use value::parse_timestamp;
#[cfg(feature = "varserver")]
pub use varserver::{
    parse_supervisor_info, parse_vars, parse_vars_with, PathShape, RawVar, SupervisorInfo, Vars,
    VarsDevice, VarsDeviceKind, VarsForm,
};

/// Which collector channel a post came in on, from its request path (the capture crate's
/// `sunpower_pcap::http::collector_target` reads it from the path).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// `/Data/SMS2DataCollector.aspx`: interval data.
    Data,
    /// `/Command/SMS2DataCollector.aspx`: command polls (a 100 and a 102 line).
    Command,
}

impl Channel {
    /// `"data"` or `"command"`, as in the JSON output.
    ///
    /// ```
    /// use sunpower_proto::Channel;
    /// assert_eq!((Channel::Data.as_str(), Channel::Command.as_str()), ("data", "command"));
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Data => "data",
            Channel::Command => "command",
        }
    }
}

/// The README's examples, run as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
