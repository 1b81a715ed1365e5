//! The PVS6 live telemetry stream (WebSocket `ws://<pvs>:9002`, feature `varserver`): one JSON
//! text per frame, `{"notification": "power", "params": {"time", "pv_p", "pv_en", ...}}`,
//! decoded one frame at a time into [`SiteTotals`].
//!
//! No I/O: a front end reads frames (or lines, as `websocat ws://PVS:9002` prints them) and
//! hands each to [`TelemetryDecoder::decode`], which keeps the counts.

use serde_json::Value;

use crate::error::{excerpt, Expected};
use crate::site::SiteTotals;

/// Frames longer than this many bytes are refused (a `power` frame is about 300 bytes); a
/// front end reading lines can stop reading a line at this length.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// How many bytes of a notification name are kept.
const NAME_MAX: usize = 64;

/// One decoded frame.
///
/// ```
/// use sunpower_proto::{parse_telemetry, Telemetry};
/// let power = br#"{"notification":"power","params":{"time":1751083345,"pv_p":"2.5","pv_en":"40747.871094"}}"#;
/// let Telemetry::Power(site) = parse_telemetry(power).unwrap() else { unreachable!() };
/// assert_eq!((site.pv_power_kw, site.pv_energy_kwh), (Some(2.5), Some(40747.871094)));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Telemetry {
    /// A `power` notification: the site totals it carried.
    Power(SiteTotals),
    /// Any other notification, skipped; its name (at most 64 bytes), if it had one.
    Other {
        /// The `notification` value.
        notification: Option<String>,
    },
}

/// Why one frame could not be decoded.
///
/// ```
/// use sunpower_proto::{parse_telemetry, TelemetryErrorKind};
/// assert_eq!(parse_telemetry("[1, 2]").unwrap_err(), TelemetryErrorKind::NotANotification);
/// assert_eq!(parse_telemetry(r#"{"notification":"power"}"#).unwrap_err(), TelemetryErrorKind::NoParams);
/// assert!(matches!(parse_telemetry("{oops").unwrap_err(), TelemetryErrorKind::InvalidJson { column: 2, .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TelemetryErrorKind {
    /// The frame is longer than [`MAX_FRAME_BYTES`].
    #[error("frame of {len} bytes is over the limit of {max} bytes")]
    TooLarge {
        /// The frame's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not valid JSON (or not UTF-8).
    #[error("invalid JSON at column {column}: {message}")]
    InvalidJson {
        /// Column of the error, from 1 (frames are one line).
        column: usize,
        /// The JSON parser's message.
        message: String,
    },
    /// JSON, but not an object with a `notification`.
    #[error("not a notification: expected {{\"notification\": ..., \"params\": {{...}}}}")]
    NotANotification,
    /// A `power` notification whose `params` is missing or not an object.
    #[error("power notification without a \"params\" object")]
    NoParams,
    /// A known parameter with a value of the wrong form.
    #[error("{param}: expected {expected}, found {found:?}")]
    InvalidValue {
        /// The parameter (`pv_en`).
        param: &'static str,
        /// What was expected.
        expected: Expected,
        /// The value found (at most 48 bytes of it).
        found: String,
    },
}

/// The parameters of a `power` frame this crate knows, as [`SiteTotals::set`] names them.
const PARAMS: [&str; 12] = [
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

/// Decodes one frame (surrounding whitespace, such as a line's CR, is ignored).
///
/// `time` may be seconds or milliseconds since 1970; values numbers or strings, `"nan"` or
/// `null` for "not reported". Unknown parameters are ignored ([`TelemetryDecoder`] counts
/// them).
///
/// ```
/// use sunpower_proto::{parse_telemetry, Telemetry};
/// let frame = r#"{"notification":"power","params":{"time":1751083345000,"pv_p":"0.023758",
///     "pv_en":40747.871094,"net_en":6121.330078,"ess_en":-490.463989,"soc":0.86}}"#;
/// let Telemetry::Power(site) = parse_telemetry(frame).unwrap() else { panic!() };
/// assert_eq!(site.timestamp.unwrap().to_rfc3339(), "2025-06-28T04:02:25+00:00");
/// assert_eq!(site.pv_power_kw, Some(0.023758));
/// assert_eq!(site.battery_energy_kwh, Some(-490.463989));
/// assert!(matches!(
///     parse_telemetry(r#"{"notification":"hello"}"#).unwrap(),
///     Telemetry::Other { notification: Some(n) } if n == "hello"
/// ));
/// ```
pub fn parse_telemetry(frame: impl AsRef<[u8]>) -> Result<Telemetry, TelemetryErrorKind> {
    parse(frame.as_ref()).map(|(t, _)| t)
}

/// The frame and how many unknown parameters it had.
fn parse(frame: &[u8]) -> Result<(Telemetry, u64), TelemetryErrorKind> {
    if frame.len() > MAX_FRAME_BYTES {
        return Err(TelemetryErrorKind::TooLarge {
            len: frame.len(),
            max: MAX_FRAME_BYTES,
        });
    }
    // The frame is bounded, so a `Value` of it is too.
    let value: Value =
        serde_json::from_slice(frame).map_err(|e| TelemetryErrorKind::InvalidJson {
            column: e.column(),
            message: crate::jsonvalue::position(&e).2,
        })?;
    let Value::Object(top) = value else {
        return Err(TelemetryErrorKind::NotANotification);
    };
    let notification = match top.get("notification") {
        Some(Value::String(s)) => s.as_str(),
        _ => return Err(TelemetryErrorKind::NotANotification),
    };
    if notification != "power" {
        let mut name = notification.to_owned();
        if name.len() > NAME_MAX {
            let mut end = NAME_MAX;
            while !name.is_char_boundary(end) {
                end -= 1;
            }
            name.truncate(end);
        }
        return Ok((
            Telemetry::Other {
                notification: Some(name),
            },
            0,
        ));
    }
    let Some(Value::Object(params)) = top.get("params") else {
        return Err(TelemetryErrorKind::NoParams);
    };
    let mut site = SiteTotals::default();
    let mut unknown = 0;
    for (name, value) in params {
        let Some(&param) = PARAMS.iter().find(|p| **p == name.as_str()) else {
            unknown += 1;
            continue;
        };
        let text = match value {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            other => {
                return Err(TelemetryErrorKind::InvalidValue {
                    param,
                    expected: if param == "time" {
                        Expected::Timestamp
                    } else {
                        Expected::Decimal
                    },
                    found: if other.is_boolean() {
                        other.to_string()
                    } else {
                        "an object or array".to_owned()
                    },
                })
            }
        };
        if let Err(expected) = site.set(param, text.as_deref()) {
            return Err(TelemetryErrorKind::InvalidValue {
                param,
                expected,
                found: excerpt(text.as_deref().unwrap_or("")),
            });
        }
    }
    Ok((Telemetry::Power(site), unknown))
}

/// A frame of the stream that could not be decoded, with its position.
///
/// ```
/// use sunpower_proto::{TelemetryDecoder, TelemetryErrorKind};
/// let mut decoder = TelemetryDecoder::new();
/// let error = decoder.decode(b"[]").unwrap_err();
/// assert_eq!((error.frame, &error.kind), (1, &TelemetryErrorKind::NotANotification));
/// assert!(error.to_string().starts_with("frame 1: not a notification"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("frame {frame}: {kind}")]
#[non_exhaustive]
pub struct TelemetryError {
    /// Which frame of the stream, from 1 (blank lines count).
    pub frame: u64,
    /// What was wrong.
    pub kind: TelemetryErrorKind,
}

/// Counts of what a [`TelemetryDecoder`] saw.
///
/// ```
/// use sunpower_proto::TelemetryDecoder;
/// let mut decoder = TelemetryDecoder::new();
/// decoder.decode(br#"{"notification":"power","params":{"pv_p":"1.0","colour":"blue"}}"#).unwrap();
/// let stats = decoder.stats();
/// assert_eq!((stats.power, stats.unknown_params, stats.without_time), (1, 1, 1));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TelemetryStats {
    /// Frames handed to [`TelemetryDecoder::decode`], blank ones included.
    pub frames: u64,
    /// `power` frames decoded.
    pub power: u64,
    /// Other notifications, skipped.
    pub other_notifications: u64,
    /// Blank frames (empty lines between frames).
    pub blank: u64,
    /// Frames that could not be decoded.
    pub errors: u64,
    /// Parameters of `power` frames this crate does not know, ignored.
    pub unknown_params: u64,
    /// `power` frames without a usable `time`.
    pub without_time: u64,
}

/// A streaming decoder of telemetry frames: one call per frame, counts kept across calls.
///
/// ```
/// use sunpower_proto::TelemetryDecoder;
/// let stream = "{\"notification\":\"power\",\"params\":{\"time\":1751083345,\"pv_en\":\"40747.871094\"}}\n\
///               {\"notification\":\"status\"}\n\
///               \n\
///               not json\n";
/// let mut decoder = TelemetryDecoder::new();
/// let mut totals = Vec::new();
/// let mut errors = Vec::new();
/// for line in stream.lines() {
///     match decoder.decode(line.as_bytes()) {
///         Ok(Some(site)) => totals.push(site),
///         Ok(None) => {}
///         Err(e) => errors.push(e),
///     }
/// }
/// assert_eq!(totals[0].pv_energy_kwh, Some(40747.871094));
/// assert_eq!(errors[0].frame, 4);
/// let stats = decoder.stats();
/// assert_eq!((stats.frames, stats.power, stats.other_notifications, stats.blank, stats.errors),
///            (4, 1, 1, 1, 1));
/// ```
#[derive(Debug, Clone, Default)]
pub struct TelemetryDecoder {
    stats: TelemetryStats,
    /// [`feed`](Self::feed): the start of a frame whose line end has not arrived.
    partial: Vec<u8>,
    /// [`feed`](Self::feed): the length of an over-long frame being skipped, when in one.
    skipping: Option<usize>,
}

impl TelemetryDecoder {
    /// A decoder that has seen nothing.
    ///
    /// ```
    /// use sunpower_proto::TelemetryDecoder;
    /// let decoder = TelemetryDecoder::new();
    /// assert_eq!(decoder.stats().frames, 0);
    /// ```
    pub fn new() -> Self {
        TelemetryDecoder::default()
    }

    /// Decodes the next frame: `Some` site totals for a `power` frame, `None` for a blank
    /// frame or another notification (counted), or the error with the frame's position.
    ///
    /// ```
    /// use sunpower_proto::TelemetryDecoder;
    /// let power = br#"{"notification":"power","params":{"time":1751083345,"pv_p":"2.5","pv_en":"40747.871094"}}"#;
    /// let mut decoder = TelemetryDecoder::new();
    /// let site = decoder.decode(power).unwrap().unwrap();
    /// assert_eq!(site.timestamp.unwrap().to_rfc3339(), "2025-06-28T04:02:25+00:00");
    /// assert_eq!(decoder.decode(b"").unwrap(), None); // blank: counted
    /// assert_eq!(decoder.decode(br#"{"notification":"status"}"#).unwrap(), None); // skipped: counted
    /// assert_eq!(decoder.decode(b"nope").unwrap_err().frame, 4);
    /// ```
    pub fn decode(&mut self, frame: &[u8]) -> Result<Option<SiteTotals>, TelemetryError> {
        self.stats.frames += 1;
        let frame = frame.trim_ascii();
        if frame.is_empty() {
            self.stats.blank += 1;
            return Ok(None);
        }
        match parse(frame) {
            Ok((Telemetry::Power(site), unknown)) => {
                self.stats.power += 1;
                self.stats.unknown_params += unknown;
                if site.timestamp.is_none() {
                    self.stats.without_time += 1;
                }
                Ok(Some(site))
            }
            Ok((Telemetry::Other { .. }, _)) => {
                self.stats.other_notifications += 1;
                Ok(None)
            }
            Err(kind) => {
                self.stats.errors += 1;
                Err(TelemetryError {
                    frame: self.stats.frames,
                    kind,
                })
            }
        }
    }

    /// Counts so far.
    ///
    /// ```
    /// use sunpower_proto::TelemetryDecoder;
    /// let mut decoder = TelemetryDecoder::new();
    /// for frame in [&b"{}"[..], b"", br#"{"notification":"power","params":{"time":1751083345}}"#] {
    ///     let _ = decoder.decode(frame);
    /// }
    /// let stats = decoder.stats();
    /// assert_eq!((stats.frames, stats.errors, stats.blank, stats.power), (3, 1, 1, 1));
    /// ```
    pub fn stats(&self) -> &TelemetryStats {
        &self.stats
    }

    /// Decodes a stream of frames, one per line (as `websocat ws://PVS:9002` prints them), fed
    /// in chunks of any size: each `power` frame's totals, or each error, to `on_frame` as its
    /// line ends. At most [`MAX_FRAME_BYTES`] of a line are kept: a longer one is a
    /// [`TelemetryErrorKind::TooLarge`] error with its length, read past in bounded memory.
    ///
    /// ```
    /// use sunpower_proto::TelemetryDecoder;
    /// let stream = b"{\"notification\":\"power\",\"params\":{\"time\":1751083345,\"pv_en\":1.5}}\n{\"notif";
    /// let mut decoder = TelemetryDecoder::new();
    /// let mut totals = Vec::new();
    /// for chunk in stream.chunks(7) {
    ///     decoder.feed(chunk, |frame| totals.push(frame));
    /// }
    /// decoder.finish(|frame| totals.push(frame));
    /// assert_eq!(totals[0].as_ref().unwrap().pv_energy_kwh, Some(1.5));
    /// assert_eq!(totals[1].as_ref().unwrap_err().frame, 2); // cut short: not JSON
    /// ```
    pub fn feed(
        &mut self,
        chunk: &[u8],
        mut on_frame: impl FnMut(Result<SiteTotals, TelemetryError>),
    ) {
        let mut rest = chunk;
        while let Some(end) = memchr::memchr(b'\n', rest) {
            let (line, tail) = rest.split_at(end);
            rest = &tail[1..];
            self.line_end(line, &mut on_frame);
        }
        self.extend(rest);
    }

    /// The end of the stream: decodes a last frame without a line end.
    ///
    /// ```
    /// use sunpower_proto::TelemetryDecoder;
    /// let mut decoder = TelemetryDecoder::new();
    /// let mut totals = Vec::new();
    /// decoder.feed(br#"{"notification":"power","params":{"pv_en":"7.25"}}"#, |f| totals.push(f));
    /// assert!(totals.is_empty()); // no line end yet
    /// decoder.finish(|f| totals.push(f));
    /// assert_eq!(totals[0].as_ref().unwrap().pv_energy_kwh, Some(7.25));
    /// ```
    pub fn finish(&mut self, mut on_frame: impl FnMut(Result<SiteTotals, TelemetryError>)) {
        if !self.partial.is_empty() || self.skipping.is_some() {
            self.line_end(&[], &mut on_frame);
        }
    }

    fn extend(&mut self, bytes: &[u8]) {
        match &mut self.skipping {
            Some(len) => *len += bytes.len(),
            None if self.partial.len() + bytes.len() > MAX_FRAME_BYTES => {
                self.skipping = Some(self.partial.len() + bytes.len());
                self.partial.clear();
            }
            None => self.partial.extend_from_slice(bytes),
        }
    }

    fn line_end(
        &mut self,
        line: &[u8],
        on_frame: &mut impl FnMut(Result<SiteTotals, TelemetryError>),
    ) {
        self.extend(line);
        let decoded = match self.skipping.take() {
            Some(len) => {
                self.stats.frames += 1;
                self.stats.errors += 1;
                Err(TelemetryError {
                    frame: self.stats.frames,
                    kind: TelemetryErrorKind::TooLarge {
                        len,
                        max: MAX_FRAME_BYTES,
                    },
                })
            }
            None => {
                let frame = std::mem::take(&mut self.partial);
                let decoded = self.decode(&frame);
                self.partial = frame;
                self.partial.clear();
                decoded
            }
        };
        match decoded {
            Ok(Some(site)) => on_frame(Ok(site)),
            Ok(None) => {}
            Err(e) => on_frame(Err(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_and_malformed_frames_are_errors_with_their_kind() {
        let big = vec![b' '; MAX_FRAME_BYTES + 1];
        assert_eq!(
            parse_telemetry(&big).unwrap_err(),
            TelemetryErrorKind::TooLarge {
                len: MAX_FRAME_BYTES + 1,
                max: MAX_FRAME_BYTES
            }
        );
        assert_eq!(
            parse_telemetry("[1]").unwrap_err(),
            TelemetryErrorKind::NotANotification
        );
        assert_eq!(
            parse_telemetry(r#"{"notification":"power"}"#).unwrap_err(),
            TelemetryErrorKind::NoParams
        );
        assert_eq!(
            parse_telemetry(r#"{"notification":"power","params":{"pv_p":"lots"}}"#).unwrap_err(),
            TelemetryErrorKind::InvalidValue {
                param: "pv_p",
                expected: Expected::Decimal,
                found: "lots".into()
            }
        );
        let err = parse_telemetry("{\"notification\":").unwrap_err();
        assert!(
            matches!(err, TelemetryErrorKind::InvalidJson { column: 16, .. }),
            "{err:?}"
        );
    }
}

#[cfg(test)]
mod stream_tests {
    use super::*;

    #[test]
    fn a_stream_decodes_as_its_lines_whatever_the_chunks_and_an_endless_line_is_one_error() {
        let frame = br#"{"notification":"power","params":{"time":1751083345,"pv_en":"40747.871094","net_en":"6121.3"}}"#;
        let mut stream = Vec::new();
        for _ in 0..3 {
            stream.extend_from_slice(frame);
            stream.extend_from_slice(b"\r\n");
        }
        stream.extend_from_slice(&vec![b'x'; 3 * MAX_FRAME_BYTES]);
        stream.extend_from_slice(b"\n\n{\"notification\":\"status\"}\n");
        stream.extend_from_slice(frame);
        for chunk in [1, 7, 4096, stream.len()] {
            let mut decoder = TelemetryDecoder::new();
            let mut out = Vec::new();
            for piece in stream.chunks(chunk) {
                decoder.feed(piece, |f| out.push(f));
                assert!(decoder.partial.capacity() <= 2 * MAX_FRAME_BYTES + chunk);
            }
            decoder.finish(|f| out.push(f));
            assert_eq!(out.len(), 5, "chunks of {chunk}");
            assert!(out[..3]
                .iter()
                .all(|f| f.as_ref().unwrap().pv_energy_kwh == Some(40747.871094)));
            assert_eq!(
                out[3].as_ref().unwrap_err(),
                &TelemetryError {
                    frame: 4,
                    kind: TelemetryErrorKind::TooLarge {
                        len: 3 * MAX_FRAME_BYTES,
                        max: MAX_FRAME_BYTES
                    }
                }
            );
            assert_eq!(out[4].as_ref().unwrap().net_energy_kwh, Some(6121.3));
            let s = decoder.stats();
            assert_eq!(
                (s.frames, s.power, s.blank, s.other_notifications, s.errors),
                (7, 4, 1, 1, 1)
            );
        }
    }
}
