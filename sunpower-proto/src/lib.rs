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
//! With the `serde` feature, records serialize to the JSON shape the `sunpower` command prints.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod body;
#[cfg(feature = "devicelist")]
mod devicelist;
mod error;
#[cfg(feature = "intervals")]
pub mod export;
#[cfg(feature = "intervals")]
pub mod intervals;
#[cfg(feature = "serde")]
mod json;
mod owned;
mod record;
mod time;
mod value;

pub use body::{parse_line, Body, Line, Lines, Records};
#[cfg(feature = "devicelist")]
pub use devicelist::{
    parse_device_list, DeviceError, DeviceErrorKind, DeviceList, DeviceListError, UnknownDevice,
    MAX_DEVICES, MAX_DOCUMENT_BYTES, UNKNOWN_DEVICE_JSON_MAX,
};
pub use error::{ErrorKind, Expected, LineError};
#[cfg(feature = "intervals")]
pub use intervals::{
    local_date, local_day_start, totals, Added, Event, Flag, Flags, Interval, IntervalAccumulator,
    IntervalConfig, Mode, NetSource, Period, PeriodTotal, Stats,
};
#[cfg(feature = "serde")]
pub use json::JsonRecord;
pub use owned::RecordBuf;
pub use record::{
    FieldValue, Header, Inverter, InverterForm, InverterStatus, Meter, MeterKind, MeterLegs,
    RawFields, Record, SupervisorIdentity, SupervisorStatus, Trailer, Unknown,
};
pub use time::Rfc3339;
pub use value::parse_timestamp;

/// Which collector channel a post came in on, from its request path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// `/Data/SMS2DataCollector.aspx`: interval data.
    Data,
    /// `/Command/SMS2DataCollector.aspx`: command polls (a 100 and a 102 line).
    Command,
}

impl Channel {
    /// The channel of a request path: the nearest directory named `Data` or `Command` (ASCII
    /// case-insensitive, as the collector's IIS server matches); a query string is ignored.
    ///
    /// ```
    /// use sunpower_proto::Channel;
    /// assert_eq!(Channel::from_path("/Data/SMS2DataCollector.aspx"), Some(Channel::Data));
    /// assert_eq!(Channel::from_path("/command/sms2datacollector.aspx?x=1"), Some(Channel::Command));
    /// assert_eq!(Channel::from_path("/SMS2DataCollector.aspx"), None);
    /// assert_eq!(Channel::from_path("/index.html"), None);
    /// ```
    pub fn from_path(path: &str) -> Option<Channel> {
        // On bytes: char-pattern splitting costs about a thousand instructions per post.
        let path = path.as_bytes();
        let end = (path.iter())
            .position(|&b| b == b'?' || b == b'#')
            .unwrap_or(path.len());
        let path = &path[..end];
        let dirs = &path[..path.iter().rposition(|&b| b == b'/')?];
        dirs.rsplit(|&b| b == b'/').find_map(|dir| {
            if dir.eq_ignore_ascii_case(b"data") {
                Some(Channel::Data)
            } else if dir.eq_ignore_ascii_case(b"command") {
                Some(Channel::Command)
            } else {
                None
            }
        })
    }

    /// `"data"` or `"command"`, as in the JSON output.
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
