//! The PVS6 live telemetry stream (WebSocket `ws://<pvs>:9002`, feature `varserver`): one JSON
//! text per frame, `{"notification": "power", "params": {"time", "pv_p", "pv_en", ...}}`,
//! decoded one frame at a time into [`SiteTotals`].
//!
//! No I/O: a front end reads frames (or lines, as `websocat ws://PVS:9002` prints them) and
//! hands each to [`TelemetryDecoder::decode`], which keeps the counts.

use serde_json::Value;

use crate::document::{DocumentLimits, DocumentPosition, DocumentProblem, DocumentProblemKind};
use crate::error::{excerpt, Expected};
use crate::site::{self, SiteTotals, KEYS};

/// How long a field a frame did not carry keeps the value last seen, seconds: frames carry the
/// fields that changed, and a field not seen for this long is no longer known.
pub const TELEMETRY_HOLD_S: i64 = 900;

/// Decodes one frame (surrounding whitespace, such as a line's CR, is ignored): the site totals
/// of a `power` notification, `None` for any other notification.
///
/// `time` may be seconds or milliseconds since 1970; values numbers or strings, `"nan"` or
/// `null` for "not reported". Unknown parameters are ignored ([`TelemetryDecoder`] counts
/// them). A frame that cannot be decoded is a [`DocumentProblem`] at
/// [`DocumentPosition::Document`] (a frame given alone; [`TelemetryDecoder`] numbers them),
/// its kind saying what was wrong and, for invalid JSON, where.
///
/// ```
/// use sunpower_proto::{parse_telemetry, DocumentProblemKind};
/// let frame = r#"{"notification":"power","params":{"time":1751083345000,"pv_p":"0.023758",
///     "pv_en":40747.871094,"net_en":6121.330078,"ess_en":-490.463989,"soc":0.86}}"#;
/// let site = parse_telemetry(frame).unwrap().unwrap();
/// assert_eq!(site.timestamp.unwrap().to_rfc3339(), "2025-06-28T04:02:25+00:00");
/// assert_eq!(site.pv_power_kw, Some(0.023758));
/// assert_eq!(site.battery_energy_kwh, Some(-490.463989));
/// assert_eq!(parse_telemetry(r#"{"notification":"hello"}"#).unwrap(), None);
/// let err = parse_telemetry("{oops").unwrap_err();
/// assert!(matches!(err.kind, DocumentProblemKind::InvalidJson { line: 1, column: 2, .. }));
/// ```
pub fn parse_telemetry(frame: impl AsRef<[u8]>) -> Result<Option<SiteTotals>, DocumentProblem> {
    let max = DocumentLimits::default().max_frame_bytes;
    parse(frame.as_ref(), max)
        .map(|(t, _)| t)
        .map_err(DocumentProblem::document)
}

/// The frame's site totals (`None` for another notification) and how many unknown parameters
/// it had.
fn parse(frame: &[u8], max: usize) -> Result<(Option<SiteTotals>, u64), DocumentProblemKind> {
    use DocumentProblemKind as K;
    if frame.len() > max {
        let len = frame.len();
        return Err(K::TooLarge { len, max });
    }
    // The frame is bounded, so a `Value` of it is too.
    let value: Value = serde_json::from_slice(frame).map_err(|e| K::invalid_json(&e))?;
    let Value::Object(top) = value else {
        return Err(K::NotAnObject);
    };
    let notification = match top.get("notification") {
        Some(Value::String(s)) => s.as_str(),
        _ => {
            return Err(K::MissingKey {
                key: "notification",
            })
        }
    };
    if notification != "power" {
        return Ok((None, 0));
    }
    let Some(Value::Object(params)) = top.get("params") else {
        return Err(K::MissingKey { key: "params" });
    };
    let mut site = SiteTotals::default();
    let mut unknown = 0;
    for (name, value) in params {
        let Some(param) = site::key(name) else {
            unknown += 1;
            continue;
        };
        let expected = |other| {
            if param == "time" {
                Expected::EpochTime
            } else {
                other
            }
        };
        let text = match value {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            other => {
                return Err(K::InvalidValue {
                    field: param,
                    expected: expected(Expected::Decimal),
                    found: if other.is_boolean() {
                        other.to_string()
                    } else {
                        "an object or array".to_owned()
                    },
                })
            }
        };
        if let Err(wanted) = site.set_key(param, text.as_deref()) {
            return Err(K::InvalidValue {
                field: param,
                expected: wanted,
                found: excerpt(text.as_deref().unwrap_or("")),
            });
        }
    }
    Ok((Some(site), unknown))
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
#[derive(Debug, Clone, Copy, Default, PartialEq)]
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
/// A frame may carry only some fields (those that changed): a field it does not carry keeps the
/// value last seen (for [`TELEMETRY_HOLD_S`] after it was seen), so the site state is never
/// nulled by a frame that leaves it out, and [`SiteTotals::carried`] says which fields the frame
/// itself carried. A field carried as `"nan"` or `null` is not reported from then on. `time` is
/// each frame's own, in seconds or milliseconds as that frame writes it.
///
/// ```
/// use sunpower_proto::TelemetryDecoder;
/// let mut decoder = TelemetryDecoder::new();
/// let full = br#"{"notification":"power","params":{"time":1751083345,"pv_en":"7.25","soc":0.86}}"#;
/// let partial = br#"{"notification":"power","params":{"time":1751083346000,"pv_en":"7.26"}}"#;
/// decoder.decode(full).unwrap();
/// let site = decoder.decode(partial).unwrap().unwrap();
/// assert_eq!((site.pv_energy_kwh, site.battery_soc_pct), (Some(7.26), Some(86.0)));
/// assert!(site.carried.contains("pv_en") && !site.carried.contains("soc"));
/// ```
///
/// ```
/// use sunpower_proto::{DocumentPosition, TelemetryDecoder};
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
/// assert_eq!(errors[0].at, DocumentPosition::Frame(4));
/// assert_eq!(errors[0].kind.name(), "invalid_json");
/// let stats = decoder.stats();
/// assert_eq!((stats.frames, stats.power, stats.other_notifications, stats.blank, stats.errors),
///            (4, 1, 1, 1, 1));
/// ```
#[derive(Debug, Clone)]
pub struct TelemetryDecoder {
    stats: TelemetryStats,
    /// Each field's last value (in a reading of its own) and the frame time it was seen at.
    last: SiteTotals,
    seen: [Option<i64>; KEYS.len()],
    /// [`DocumentLimits::max_frame_bytes`].
    max_frame_bytes: usize,
    /// [`feed`](Self::feed): the start of a frame whose line end has not arrived.
    partial: Vec<u8>,
    /// [`feed`](Self::feed): the length of an over-long frame being skipped, when in one.
    skipping: Option<usize>,
}

impl Default for TelemetryDecoder {
    fn default() -> Self {
        TelemetryDecoder::new()
    }
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
        TelemetryDecoder::with_limits(DocumentLimits::default())
    }

    /// A decoder with other limits than the default (of them, it uses
    /// [`DocumentLimits::max_frame_bytes`]).
    ///
    /// ```
    /// use sunpower_proto::{DocumentLimits, DocumentProblemKind, TelemetryDecoder};
    /// let mut limits = DocumentLimits::default();
    /// limits.max_frame_bytes = 8;
    /// let mut decoder = TelemetryDecoder::with_limits(limits);
    /// let err = decoder.decode(br#"{"notification":"status"}"#).unwrap_err();
    /// assert_eq!(err.kind, DocumentProblemKind::TooLarge { len: 25, max: 8 });
    /// ```
    pub fn with_limits(limits: DocumentLimits) -> Self {
        TelemetryDecoder {
            stats: TelemetryStats::default(),
            last: SiteTotals::default(),
            seen: [None; KEYS.len()],
            max_frame_bytes: limits.max_frame_bytes,
            partial: Vec::new(),
            skipping: None,
        }
    }

    /// Decodes the next frame: `Some` site totals for a `power` frame, `None` for a blank
    /// frame or another notification (counted), or the problem at the frame's position.
    ///
    /// ```
    /// use sunpower_proto::{DocumentPosition, TelemetryDecoder};
    /// let power = br#"{"notification":"power","params":{"time":1751083345,"pv_p":"2.5","pv_en":"40747.871094"}}"#;
    /// let mut decoder = TelemetryDecoder::new();
    /// let site = decoder.decode(power).unwrap().unwrap();
    /// assert_eq!(site.timestamp.unwrap().to_rfc3339(), "2025-06-28T04:02:25+00:00");
    /// assert_eq!(decoder.decode(b"").unwrap(), None); // blank: counted
    /// assert_eq!(decoder.decode(br#"{"notification":"status"}"#).unwrap(), None); // skipped: counted
    /// assert_eq!(decoder.decode(b"nope").unwrap_err().at, DocumentPosition::Frame(4));
    /// ```
    pub fn decode(&mut self, frame: &[u8]) -> Result<Option<SiteTotals>, DocumentProblem> {
        self.stats.frames += 1;
        let frame = frame.trim_ascii();
        if frame.is_empty() {
            self.stats.blank += 1;
            return Ok(None);
        }
        match parse(frame, self.max_frame_bytes) {
            Ok((Some(mut site), unknown)) => {
                self.stats.power += 1;
                self.stats.unknown_params += unknown;
                if site.timestamp.is_none() {
                    self.stats.without_time += 1;
                }
                self.hold(&mut site);
                Ok(Some(site))
            }
            Ok((None, _)) => {
                self.stats.other_notifications += 1;
                Ok(None)
            }
            Err(kind) => {
                self.stats.errors += 1;
                let at = DocumentPosition::Frame(self.stats.frames);
                Err(DocumentProblem::new(at, kind))
            }
        }
    }

    /// Keeps what the frame carried as each field's last value, and fills the fields it did not
    /// carry with theirs when seen within [`TELEMETRY_HOLD_S`] before it (`time` is always the frame's own;
    /// a frame without one fills nothing).
    fn hold(&mut self, site: &mut SiteTotals) {
        let now = site.timestamp.map(|t| t.timestamp());
        for (i, key) in KEYS.iter().enumerate().skip(1) {
            if site.carried.contains(key) {
                self.last.copy_key(site, key);
                self.seen[i] = now.or(self.seen[i]);
            } else if let (Some(now), Some(seen)) = (now, self.seen[i])
                && (0..=TELEMETRY_HOLD_S).contains(&(now - seen))
            {
                site.copy_key(&self.last, key);
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
    /// line ends. At most [`DocumentLimits::max_frame_bytes`] of a line are kept: a longer one
    /// is a [`DocumentProblemKind::TooLarge`] problem with its length, read past in bounded
    /// memory.
    ///
    /// ```
    /// use sunpower_proto::{DocumentPosition, TelemetryDecoder};
    /// let stream = b"{\"notification\":\"power\",\"params\":{\"time\":1751083345,\"pv_en\":1.5}}\n{\"notif";
    /// let mut decoder = TelemetryDecoder::new();
    /// let mut totals = Vec::new();
    /// for chunk in stream.chunks(7) {
    ///     decoder.feed(chunk, |frame| totals.push(frame));
    /// }
    /// decoder.finish(|frame| totals.push(frame));
    /// assert_eq!(totals[0].as_ref().unwrap().pv_energy_kwh, Some(1.5));
    /// assert_eq!(totals[1].as_ref().unwrap_err().at, DocumentPosition::Frame(2)); // cut short: not JSON
    /// ```
    pub fn feed(
        &mut self,
        chunk: &[u8],
        mut on_frame: impl FnMut(Result<SiteTotals, DocumentProblem>),
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
    pub fn finish(&mut self, mut on_frame: impl FnMut(Result<SiteTotals, DocumentProblem>)) {
        if !self.partial.is_empty() || self.skipping.is_some() {
            self.line_end(&[], &mut on_frame);
        }
    }

    fn extend(&mut self, bytes: &[u8]) {
        match &mut self.skipping {
            Some(len) => *len += bytes.len(),
            None if self.partial.len() + bytes.len() > self.max_frame_bytes => {
                self.skipping = Some(self.partial.len() + bytes.len());
                self.partial.clear();
            }
            None => self.partial.extend_from_slice(bytes),
        }
    }

    fn line_end(
        &mut self,
        line: &[u8],
        on_frame: &mut impl FnMut(Result<SiteTotals, DocumentProblem>),
    ) {
        self.extend(line);
        let decoded = match self.skipping.take() {
            Some(len) => {
                self.stats.frames += 1;
                self.stats.errors += 1;
                let at = DocumentPosition::Frame(self.stats.frames);
                let max = self.max_frame_bytes;
                Err(DocumentProblem::new(
                    at,
                    DocumentProblemKind::TooLarge { len, max },
                ))
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

    const MAX_FRAME_BYTES: usize = 64 * 1024;

    #[test]
    fn oversized_and_malformed_frames_are_problems_of_the_document_with_their_kind() {
        use DocumentProblemKind as K;
        let kind = |frame: &[u8]| {
            let problem = parse_telemetry(frame).unwrap_err();
            assert_eq!(problem.at, DocumentPosition::Document);
            problem.kind
        };
        let big = vec![b' '; MAX_FRAME_BYTES + 1];
        let len = MAX_FRAME_BYTES + 1;
        let max = MAX_FRAME_BYTES;
        assert_eq!(kind(&big), K::TooLarge { len, max });
        assert_eq!(kind(b"[1]"), K::NotAnObject);
        assert_eq!(
            kind(br#"{"params":{}}"#),
            K::MissingKey {
                key: "notification"
            }
        );
        assert_eq!(
            kind(br#"{"notification":"power"}"#),
            K::MissingKey { key: "params" }
        );
        assert_eq!(
            kind(br#"{"notification":"power","params":{"pv_p":"lots"}}"#),
            K::InvalidValue {
                field: "pv_p",
                expected: Expected::Decimal,
                found: "lots".into()
            }
        );
        assert_eq!(
            kind(br#"{"notification":"power","params":{"time":true}}"#),
            K::InvalidValue {
                field: "time",
                expected: Expected::EpochTime,
                found: "true".into()
            }
        );
        let err = parse_telemetry("{\"notification\":").unwrap_err();
        assert!(
            matches!(
                err.kind,
                K::InvalidJson {
                    line: 1,
                    column: 16,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err
            .to_string()
            .starts_with("invalid JSON at line 1 column 16: "));
    }
}

#[cfg(test)]
mod stream_tests {
    use super::*;

    const MAX_FRAME_BYTES: usize = 64 * 1024;

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
                &DocumentProblem::new(
                    DocumentPosition::Frame(4),
                    DocumentProblemKind::TooLarge {
                        len: 3 * MAX_FRAME_BYTES,
                        max: MAX_FRAME_BYTES
                    }
                )
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
