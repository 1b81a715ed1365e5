//! The JSON shape of records in docs/design.md: `record_type`, `raw` (or `source`), `channel`,
//! typed fields. [`JsonLines`] writes it straight into its buffer; with the `serde` feature the
//! same shape is a `Serialize` impl ([`JsonRecord`]), and serde_json prints the same bytes.

use crate::record::{load, tab_bits, FieldValue, RawFields, Record};
use crate::time::Rfc3339;
use crate::value::{printed_len, splat, swar_decimal, zero_bytes, POW10};
use crate::Channel;

/// A record with the channel it came in on, in the JSON shape [`JsonLines`] writes: `channel`
/// after `raw`. With the `serde` feature it is `Serialize` (and `Record` itself serializes
/// without `channel`).
///
/// ```
/// use sunpower_proto::{parse_line, Channel, JsonRecord};
/// let r = parse_line("102\tabc").unwrap();
/// let json = JsonRecord::new(&r, Some(Channel::Data));
/// assert_eq!(format!("{json:?}").starts_with("JsonRecord"), true);
/// ```
#[derive(Clone, Copy)]
pub struct JsonRecord<'r, 'a> {
    record: &'r Record<'a>,
    channel: Option<Channel>,
}

impl std::fmt::Debug for JsonRecord<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonRecord")
            .field("record", self.record)
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

impl<'r, 'a> JsonRecord<'r, 'a> {
    /// Pairs a record with its channel (`None` for raw bodies).
    pub fn new(record: &'r Record<'a>, channel: Option<Channel>) -> Self {
        JsonRecord { record, channel }
    }

    /// Appends the record's JSON object to `out` (no line ending): byte for byte what
    /// `serde_json::to_writer` writes for it (the `serde` feature), without going through a
    /// serializer. Strings are escaped as serde_json escapes them (`"`, `\`, control
    /// characters; other text as UTF-8), times are RFC 3339 ([`rfc3339`](crate::rfc3339)), and a decimal is its field's
    /// text when that text is exactly what serde_json prints for the value (`245.1503`), else
    /// the value formatted as serde_json formats it (zmij) (`5` prints `5.0`, `0.10` prints `0.1`).
    /// A collector record's field bounds ([`RawFields`]) say where each field's text is.
    pub(crate) fn write_to(&self, out: &mut Vec<u8>) {
        let raw = self.record.source_ref().raw_ref();
        let mut writer = Writer {
            out: Out::new(out, 3 * raw.map_or(0, |raw| raw.as_str().len()) + 768),
            line: raw.map_or("", |raw| raw.as_str()),
            raw,
            fields: FieldStarts::default(),
            first: true,
        };
        self.record.visit_output_at(
            self.channel,
            #[inline(always)]
            |name, value, index| writer.field(name, value, index),
        );
        if writer.first {
            writer.out.array(b"{");
        }
        writer.out.array(b"}");
        writer.out.finish();
    }
}

/// JSON Lines onto any [`io::Write`](std::io::Write): each record is written straight into a
/// buffer ([`JsonRecord`]'s shape, byte for byte serde_json's), which goes out in one write once
/// it holds 64 KiB, as `BufWriter` would. It is itself an `io::Write`, buffered the same way,
/// for lines that are not records. What is left goes out on [`JsonLines::flush`], or when it is
/// dropped (where an error has nowhere to go: flush first to see it).
///
/// ```
/// use sunpower_proto::{parse_line, Channel, JsonLines};
/// let mut lines = JsonLines::new(Vec::new());
/// lines.write_record(&parse_line("102\tabc").unwrap(), Some(Channel::Data)).unwrap();
/// let out = lines.into_inner().unwrap();
/// assert_eq!(out, b"{\"record_type\":102,\"raw\":[\"102\",\"abc\"],\"channel\":\"data\",\"token\":\"abc\"}\n");
/// ```
pub struct JsonLines<W: std::io::Write> {
    buf: Vec<u8>,
    // `None` only once handed back by `into_inner`.
    inner: Option<W>,
}

/// The buffer's size: it is written out once it holds this much.
const JSON_LINES_BUFFER: usize = 1 << 16;

impl<W: std::io::Write> std::fmt::Debug for JsonLines<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonLines")
            .field("buffered", &self.buf.len())
            .finish_non_exhaustive()
    }
}

impl<W: std::io::Write> JsonLines<W> {
    /// A writer onto `inner` (a file, standard output's lock, a `Vec<u8>`, a socket).
    pub fn new(inner: W) -> Self {
        JsonLines {
            buf: Vec::with_capacity(JSON_LINES_BUFFER + 4096),
            inner: Some(inner),
        }
    }

    /// Writes `record`, with the channel it came in on (`None` for a raw body), as one line.
    ///
    /// ```
    /// use sunpower_proto::{parse_line, JsonLines};
    /// let mut lines = JsonLines::new(Vec::new());
    /// lines.write_record(&parse_line("141\t20170107171000\tPVS5M508095c\t\t1\t5.50").unwrap(), None)?;
    /// let out = String::from_utf8(lines.into_inner()?).unwrap();
    /// assert!(out.contains(r#""leg1_current_a":5.5,"#)); // `5.50`, as serde_json prints the value
    /// assert!(out.ends_with("}\n"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn write_record(
        &mut self,
        record: &Record<'_>,
        channel: Option<Channel>,
    ) -> std::io::Result<()> {
        JsonRecord::new(record, channel).write_to(&mut self.buf);
        self.buf.push(b'\n');
        self.flush_full()
    }

    /// Writes an interval row as one line: the keys of [`Interval::visit_output`], with
    /// `interval_start_local` when a zone is given; without one, the same bytes as serde_json
    /// prints for the row (the `serde` feature).
    ///
    /// [`Interval::visit_output`]: crate::intervals::Interval::visit_output
    ///
    /// ```
    /// use sunpower_proto::{parse_line, JsonLines};
    /// use sunpower_proto::intervals::{IntervalAccumulator, IntervalConfig};
    /// let mut acc = IntervalAccumulator::new(IntervalConfig::documents());
    /// for line in ["130\t20260601170000\tINV1\tM\t\t100.000\t0.3",
    ///              "130\t20260601170500\tINV1\tM\t\t100.025\t0.3"] {
    ///     acc.add(&parse_line(line).unwrap());
    /// }
    /// let rows = acc.finish();
    /// let mut lines = JsonLines::new(Vec::new());
    /// lines.write_interval(&rows[1], Some(chrono_tz::America::Los_Angeles))?;
    /// let out = String::from_utf8(lines.into_inner()?).unwrap();
    /// assert!(out.starts_with(
    ///     r#"{"interval_start":"2026-06-01T17:05:00Z","interval_start_local":"2026-06-01T10:05:00-07:00","#
    /// ));
    /// assert!(out.contains(r#""production_wh":25.0,"#));
    /// assert!(out.ends_with("\"flags\":[\"no_meter\"],\"battery_wh\":null,\"battery_soc_pct\":null}\n"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[cfg(feature = "intervals")]
    pub fn write_interval(
        &mut self,
        interval: &crate::intervals::Interval,
        tz: Option<chrono_tz::Tz>,
    ) -> std::io::Result<()> {
        let mut writer = Writer {
            out: Out::new(&mut self.buf, 1024),
            line: "",
            raw: None,
            fields: FieldStarts::default(),
            first: true,
        };
        interval.visit_output(tz, |name, value| writer.field(name, value, None));
        writer.out.array(b"}");
        writer.out.finish();
        self.buf.push(b'\n');
        self.flush_full()
    }

    /// Writes the buffer out and flushes, and hands back the writer.
    pub fn into_inner(mut self) -> std::io::Result<W> {
        std::io::Write::flush(&mut self)?;
        Ok(self.inner.take().expect("only taken here"))
    }

    #[inline]
    fn flush_full(&mut self) -> std::io::Result<()> {
        if self.buf.len() >= JSON_LINES_BUFFER {
            self.flush_buf()?;
        }
        Ok(())
    }

    fn flush_buf(&mut self) -> std::io::Result<()> {
        let result = match self.inner.as_mut() {
            Some(inner) if !self.buf.is_empty() => inner.write_all(&self.buf),
            _ => Ok(()),
        };
        // What failed is not written again: the line it held is lost either way.
        self.buf.clear();
        result
    }
}

impl<W: std::io::Write> std::io::Write for JsonLines<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        self.flush_full()?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.flush_buf()?;
        match self.inner.as_mut() {
            Some(inner) => inner.flush(),
            None => Ok(()),
        }
    }
}

impl<W: std::io::Write> Drop for JsonLines<W> {
    fn drop(&mut self) {
        let _ = self.flush_buf();
    }
}

/// One record being written.
struct Writer<'o, 'a> {
    out: Out<'o>,
    /// The record's line (empty for a record from a JSON source), and its fields' bounds.
    line: &'a str,
    raw: Option<&'o RawFields<'a>>,
    /// Where the fields of a line with more fields than [`RawFields`] keeps bounds for start,
    /// noted while its `raw` is written.
    fields: FieldStarts,
    /// No field written yet.
    first: bool,
}

impl<'a> Writer<'_, 'a> {
    /// One visited field. Inlined into every call of the visitor, where the value's kind and
    /// the name's length are constants, so that each field is a few straight-line copies.
    #[inline(always)]
    fn field(&mut self, name: &'static str, value: FieldValue<'a>, index: Option<usize>) {
        let out = &mut self.out;
        // The names are this crate's identifiers (`[a-z0-9_]`), which JSON does not escape (a
        // test walks every record type).
        debug_assert!(name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
        out.key(if self.first { b'{' } else { b',' }, name.as_bytes());
        self.first = false;
        match value {
            FieldValue::Time(None)
            | FieldValue::Text(None)
            | FieldValue::Decimal(None)
            | FieldValue::Integer(None)
            | FieldValue::Unsigned(None) => out.array(b"null"),
            FieldValue::Time(Some(t)) => {
                let text = Rfc3339(t).bytes();
                out.array(b"\"");
                out.array(&text);
                out.array(b"\"");
            }
            FieldValue::Text(Some(text)) => {
                out.array(b"\"");
                match self.raw.and_then(|raw| plain_part(raw, text)) {
                    // Text of a line with nothing to escape (a serial, a model).
                    Some((start, end)) => out.piece(self.line.as_bytes(), start, end),
                    None => escaped(out, text.as_bytes(), None),
                }
                out.array(b"\"");
            }
            FieldValue::Decimal(Some(v)) => {
                let line = self.line.as_bytes();
                let bounds = index.and_then(|i| {
                    let raw = self.raw?;
                    raw.bounds(i).or_else(|| self.fields.bounds(self.line, i))
                });
                // Decoding read this value there, and noted how much of its text prints as it.
                let printed = match (self.raw, index, bounds) {
                    (Some(raw), Some(i), Some((start, _))) => Some(start).zip(raw.printed(i, v)),
                    _ => None,
                };
                match printed {
                    Some((start, len)) => out.piece(line, start, start + len),
                    None => decimal(out, v, line, bounds.unwrap_or_default()),
                }
            }
            FieldValue::Integer(Some(v)) => out.bytes(itoa::Buffer::new().format(v).as_bytes()),
            FieldValue::Unsigned(Some(v)) => out.bytes(itoa::Buffer::new().format(v).as_bytes()),
            FieldValue::Fields(line) => {
                out.array(b"[\"");
                match self.raw {
                    Some(raw) if raw.is_plain() && raw.all_kept() => mapped_strings(out, raw),
                    // Escaped, or more fields than the line keeps bounds for: found again.
                    _ => {
                        self.fields = FieldStarts::default();
                        raw_strings(out, line.as_bytes(), &mut self.fields);
                    }
                }
                out.array(b"\"]");
            }
            // Interval rows' values, which records do not have; written all the same.
            FieldValue::Bool(b) => out.bytes(if b { b"true" } else { b"false" }),
            #[cfg(feature = "intervals")]
            FieldValue::LocalTime(t, tz) => {
                out.array(b"\"");
                out.bytes(crate::export::local_rfc3339(t, tz).as_bytes());
                out.array(b"\"");
            }
            #[cfg(feature = "intervals")]
            FieldValue::Flags(flags) => {
                out.array(b"[");
                for (i, flag) in flags.iter().enumerate() {
                    if i > 0 {
                        out.array(b",");
                    }
                    out.array(b"\"");
                    out.bytes(flag.as_str().as_bytes());
                    out.array(b"\"");
                }
                out.array(b"]");
            }
        }
    }
}

/// Where `text` lies in `raw`'s line, when it is part of it and the line has nothing to escape
/// in JSON.
#[inline]
fn plain_part(raw: &RawFields<'_>, text: &str) -> Option<(usize, usize)> {
    // Two slices alive at once are the same memory where their addresses meet.
    let line = raw.as_str();
    let start = (text.as_ptr() as usize).wrapping_sub(line.as_ptr() as usize);
    let end = start.checked_add(text.len())?;
    (raw.is_plain() && end <= line.len()).then_some((start, end))
}

/// The buffer being appended to: `buf[..pos]` is written, `buf[pos..]` zeroed room. Writing
/// into room that already exists lets short pieces (most are a few bytes) be moved with
/// fixed-size copies instead of one `memcpy` call and one capacity check each.
struct Out<'o> {
    buf: &'o mut Vec<u8>,
    pos: usize,
}

impl<'o> Out<'o> {
    /// Appends after what `buf` holds, with `room` bytes made ready (more are added if needed).
    fn new(buf: &'o mut Vec<u8>, room: usize) -> Self {
        let pos = buf.len();
        buf.resize(pos + room, 0);
        Out { buf, pos }
    }

    /// Drops the unused room.
    fn finish(self) {
        self.buf.truncate(self.pos);
    }

    /// The next `n` bytes of room.
    #[inline(always)]
    fn room(&mut self, n: usize) -> &mut [u8] {
        if self.buf.len() - self.pos < n {
            self.grow(n);
        }
        &mut self.buf[self.pos..self.pos + n]
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self, n: usize) {
        let len = self.buf.len().max(self.pos + n) + 1024;
        self.buf.resize(len, 0);
    }

    /// `{"name":` or `,"name":`, with one check for room.
    #[inline(always)]
    fn key(&mut self, open: u8, name: &[u8]) {
        let n = name.len();
        let dst = self.room(n + 4);
        dst[0] = open;
        dst[1] = b'"';
        copy_short(&mut dst[2..n + 2], name);
        dst[n + 2] = b'"';
        dst[n + 3] = b':';
        self.pos += n + 4;
    }

    /// A piece of a known size.
    #[inline(always)]
    fn array<const N: usize>(&mut self, bytes: &[u8; N]) {
        self.room(N).copy_from_slice(bytes);
        self.pos += N;
    }

    /// `text[start..end]`: when `text` has 16 bytes from `start` (a field of the line, nearly
    /// always), all 16 are copied and the room past `end - start` written over later, one copy
    /// whatever the length, so no branch on a length that changes from field to field.
    #[inline(always)]
    fn piece(&mut self, text: &[u8], start: usize, end: usize) {
        let n = end - start;
        if let Some(src) = text.get(start..start + 16).filter(|_| n <= 16) {
            self.room(16).copy_from_slice(src);
            self.pos += n;
        } else {
            self.bytes(&text[start..end]);
        }
    }

    /// [`Out::piece`] followed by `","`, the separator of the `raw` array.
    #[inline(always)]
    fn field(&mut self, text: &[u8], start: usize, end: usize) {
        let n = end - start;
        if let Some(src) = text.get(start..start + 16).filter(|_| n <= 16) {
            let dst = self.room(19);
            dst[..16].copy_from_slice(src);
            dst[n..n + 3].copy_from_slice(b"\",\"");
            self.pos += n + 3;
        } else {
            self.bytes(&text[start..end]);
            self.array(b"\",\"");
        }
    }

    /// A piece of any size: up to 16 bytes as two overlapping fixed-size copies.
    #[inline(always)]
    fn bytes(&mut self, src: &[u8]) {
        let n = src.len();
        copy_short(self.room(n), src);
        self.pos += n;
    }
}

/// `dst.copy_from_slice(src)` (the same length), up to 32 bytes as two overlapping fixed-size
/// copies rather than a `memcpy` call.
#[inline(always)]
fn copy_short(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    match n {
        0 => {}
        1..=3 => {
            dst[0] = src[0];
            dst[n / 2] = src[n / 2];
            dst[n - 1] = src[n - 1];
        }
        4..=7 => {
            dst[..4].copy_from_slice(&src[..4]);
            dst[n - 4..].copy_from_slice(&src[n - 4..]);
        }
        8..=16 => {
            dst[..8].copy_from_slice(&src[..8]);
            dst[n - 8..].copy_from_slice(&src[n - 8..]);
        }
        17..=32 => {
            dst[..16].copy_from_slice(&src[..16]);
            dst[n - 16..].copy_from_slice(&src[n - 16..]);
        }
        _ => dst.copy_from_slice(src),
    }
}

/// How many fields of a line the writer finds again: no number is read past field 14.
const KEPT_FIELDS: usize = 16;

/// Where the fields of the `raw` line start, noted while the line is written (its TABs are
/// found then anyway), so that a number's field text costs no second search.
#[derive(Default)]
struct FieldStarts {
    /// Field `i` starts at `starts[i]` (0 for field 0) and, when `i < ends`, ends one byte
    /// before `starts[i + 1]` (its TAB).
    starts: [usize; KEPT_FIELDS + 1],
    /// How many fields have a known end before the last one.
    ends: usize,
}

impl FieldStarts {
    /// The field ending with the TAB at `tab`.
    #[inline]
    fn push(&mut self, tab: usize) {
        if self.ends < KEPT_FIELDS {
            self.ends += 1;
            self.starts[self.ends] = tab + 1;
        }
    }

    /// Where field `index` of `line` (whose TABs were pushed) starts and ends, if it is one of
    /// the kept fields.
    #[inline]
    fn bounds(&self, line: &str, index: usize) -> Option<(usize, usize)> {
        let start = *self.starts.get(index)?;
        let end = match index.cmp(&self.ends) {
            std::cmp::Ordering::Less => self.starts[index + 1] - 1,
            // The last field, unless the line has more than were kept.
            std::cmp::Ordering::Equal if self.ends < KEPT_FIELDS => line.len(),
            _ => return None,
        };
        (end <= line.len()).then_some((start, end))
    }
}

/// The high bit of each byte of `word` that JSON escapes: a control character (below 0x20, TAB
/// among them), `"` or `\`. Exact per byte (see [`zero_bytes`]).
#[inline]
pub(crate) fn json_escapes(word: u64) -> u64 {
    zero_bytes(word & splat(0xe0))
        | zero_bytes(word ^ splat(b'"'))
        | zero_bytes(word ^ splat(b'\\'))
}

/// Appends `text` (UTF-8) escaped as serde_json escapes a string's contents. With `fields`, a
/// TAB ends a string of the `raw` array instead (`","`) and its position is noted.
#[inline]
fn escaped(out: &mut Out<'_>, text: &[u8], mut fields: Option<&mut FieldStarts>) {
    // Eight bytes at a time: nearly every byte is copied as it is.
    let mut done = 0;
    let mut at = 0;
    while let Some(chunk) = text.get(at..at + 8) {
        let mut mask = json_escapes(load(chunk));
        while mask != 0 {
            let i = at + (mask.trailing_zeros() / 8) as usize;
            match fields.as_deref_mut() {
                // The common case: a field and its separator in one go.
                Some(fields) if text[i] == b'\t' => {
                    fields.push(i);
                    out.field(text, done, i);
                }
                fields => {
                    out.piece(text, done, i);
                    escape(out, text[i], i, fields);
                }
            }
            done = i + 1;
            mask &= mask - 1;
        }
        at += 8;
    }
    // The last 1 to 7 bytes as one word too: the last 8 bytes of the text, the bytes already
    // seen dropped from the mask, or, for a text shorter than 8 bytes, padded with spaces
    // (which are not escaped).
    let tail = text.len().saturating_sub(at);
    if tail > 0 {
        let mut mask = if let Some(last) = text.len().checked_sub(8) {
            at = last;
            json_escapes(load(&text[last..])) & (u64::MAX << (8 * (8 - tail)))
        } else {
            let mut word = [b' '; 8];
            copy_short(&mut word[..tail], &text[at..]);
            json_escapes(u64::from_le_bytes(word))
        };
        while mask != 0 {
            let i = at + (mask.trailing_zeros() / 8) as usize;
            out.piece(text, done, i);
            escape(out, text[i], i, fields.as_deref_mut());
            done = i + 1;
            mask &= mask - 1;
        }
    }
    out.piece(text, done, text.len());
}

/// The strings of the `raw` array: `line` with each TAB written as `","` and noted in `fields`,
/// escaped as serde_json escapes strings.
#[inline]
fn raw_strings(out: &mut Out<'_>, line: &[u8], fields: &mut FieldStarts) {
    let pos = out.pos;
    if !raw_strings_plain(out, line, fields) {
        // A byte to escape other than a TAB (rare): start again byte by byte.
        out.pos = pos;
        *fields = FieldStarts::default();
        escaped(out, line, Some(fields));
    }
}

/// [`raw_strings`] for a line in which nothing but TABs needs escaping (nearly every line), in
/// one pass of eight bytes at a time: each word is stored as it is, and for each of its TABs
/// `","` is stored at the TAB's place and the rest of the word again after it, so a field
/// costs a few stores whatever its length, and no search for its end. `false`, with garbage
/// written past `out.pos`, when the line has another byte to escape.
#[inline]
fn raw_strings_plain(out: &mut Out<'_>, line: &[u8], fields: &mut FieldStarts) -> bool {
    // Each byte gives at most 3 (a TAB), and a word's store may reach 8 bytes past the end.
    let dst = out.room(3 * line.len() + 8);
    let mut o = 0;
    let mut at = 0;
    while at < line.len() {
        let n = (line.len() - at).min(8);
        let word = if n == 8 {
            load(&line[at..at + 8])
        } else {
            // The last 1 to 7 bytes, padded with spaces (which JSON does not escape).
            let mut word = [b' '; 8];
            copy_short(&mut word[..n], &line[at..]);
            u64::from_le_bytes(word)
        };
        let mut tabs = tab_bits(word);
        if json_escapes(word) & !tabs != 0 {
            return false;
        }
        // `word`'s bytes from `done` on are stored at `base`.
        let (mut base, mut done) = (o, 0);
        dst[base..base + 8].copy_from_slice(&word.to_le_bytes());
        while tabs != 0 {
            let i = (tabs.trailing_zeros() / 8) as usize;
            let tab = base + i - done;
            dst[tab..tab + 3].copy_from_slice(b"\",\"");
            base = tab + 3;
            done = i + 1;
            // Shifted in two steps: `done` is 8 after a TAB in the last byte.
            let rest = (word >> (8 * i)) >> 8;
            dst[base..base + 8].copy_from_slice(&rest.to_le_bytes());
            fields.push(at + i);
            tabs &= tabs - 1;
        }
        o = base + n - done;
        at += 8;
    }
    out.pos += o;
    true
}

/// The strings of the `raw` array for a line that needs no escaping, all of whose fields'
/// bounds `raw` keeps: each field copied from where it lies, with `","` after all but the last.
#[inline]
fn mapped_strings(out: &mut Out<'_>, raw: &RawFields<'_>) {
    let line = raw.as_str().as_bytes();
    let starts = raw.starts();
    for pair in starts.windows(2) {
        // Up to the TAB before the next field.
        out.field(line, pair[0] as usize, pair[1] as usize - 1);
    }
    out.piece(line, starts.last().map_or(0, |&s| s as usize), line.len());
}

/// One byte that [`json_escapes`] flags, at position `at` of its text.
#[inline]
fn escape(out: &mut Out<'_>, byte: u8, at: usize, fields: Option<&mut FieldStarts>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let short = match byte {
        b'\t' => {
            if let Some(fields) = fields {
                fields.push(at);
                out.array(b"\",\"");
                return;
            }
            b't'
        }
        b'"' => b'"',
        b'\\' => b'\\',
        0x08 => b'b',
        0x0c => b'f',
        b'\n' => b'n',
        b'\r' => b'r',
        _ => {
            let hex = [HEX[usize::from(byte >> 4)], HEX[usize::from(byte & 0xf)]];
            out.array(&[b'\\', b'u', b'0', b'0', hex[0], hex[1]]);
            return;
        }
    };
    out.array(&[b'\\', short]);
}

/// Appends a decimal as serde_json prints an `f64`: its field's text, or the text without the
/// zeros that end its fraction, when that is exactly what serde_json prints (see
/// [`short_printed_len`] and [`prints_as`]), else zmij's formatting, serde_json's (`null` for a
/// value that is not finite).
#[inline]
fn decimal(out: &mut Out<'_>, value: f64, line: &[u8], (start, end): (usize, usize)) {
    let len = short_printed_len(line, start, end, value)
        .unwrap_or_else(|| prints_as(&line[start..end], value).then_some(end - start));
    if let Some(len) = len {
        out.piece(line, start, start + len);
    } else if value.is_finite() {
        out.bytes(zmij::Buffer::new().format_finite(value).as_bytes());
    } else {
        out.array(b"null");
    }
}

/// How much of the field `line[start..end]` of 3 to 8 bytes (nearly every measurement) is what
/// serde_json prints for `value`: [`printed_len`], once the field is known to be a plain decimal
/// whose value is `value` ([`swar_decimal`] on the word of the line that ends with it, when the
/// line has 8 bytes up to `end`). `Some(None)`: not the value's text, zmij formats it; `None`
/// when the field is not of that kind: [`prints_as`] decides.
#[inline]
fn short_printed_len(line: &[u8], start: usize, end: usize, value: f64) -> Option<Option<usize>> {
    let n = end.checked_sub(start).filter(|n| (3..=8).contains(n))?;
    let word = load(line.get(end.checked_sub(8)?..end)?);
    match swar_decimal(word, n) {
        Some(parsed) if parsed.to_bits() == value.to_bits() => {}
        _ => return Some(None),
    }
    Some(Some(printed_len(word, &line[start..end])).filter(|&len| len != 0))
}

/// Whether serde_json's float formatting (zmij, shortest round-trip digits like ryu) prints
/// `value` as exactly `text`.
///
/// True only for the form zmij writes without an exponent (a first significant digit from
/// 10^-5 to 10^15): an optional `-`, an integer part without leading zeros, a point, and a
/// fraction that is `0` alone or ends in a non-zero digit (`0.0417`, `245.1503`, `-12.0`), with
/// at most 15 significant digits and at most four zeros after the point before the first
/// significant digit of a number below one (`1e-6` has an exponent, `0.00001` none). Then the
/// value is checked to be the one the text rounds to (Clinger's exact fast path: at most 15
/// digits and `10^k` are exact doubles), and that is enough: two decimals of at most 15
/// significant digits never round to the same double (`f64::DIGITS` is 15), so the text's
/// digits are the shortest that round to `value`, the digits zmij prints, and the layout above
/// is the one it gives them. Anything else (`5`, `0.10`, `+1.5`, `-0`, `1e3`, more digits) is
/// left to zmij.
fn prints_as(text: &[u8], value: f64) -> bool {
    // Written digit by digit; `short_prints_as` is the same test for the usual short field.

    let (negative, body) = match text {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, text),
    };
    // The integer part; wrapping arithmetic, as the digit counts are checked after.
    let mut mantissa: u64 = 0;
    let mut i = 0;
    while let Some(&d) = body.get(i).filter(|d| d.is_ascii_digit()) {
        mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
        i += 1;
    }
    let whole = i;
    if whole == 0 || whole > 15 || body.get(i) != Some(&b'.') || (whole > 1 && body[0] == b'0') {
        return false;
    }
    let fraction = &body[i + 1..];
    let scale = match fraction {
        [] => return false,
        [b'0'] => 0, // `12.0`: the digits are the integer part's
        [.., b'0'] => return false,
        _ if fraction.len() > 19 => return false,
        _ => {
            let mut zeros = 0;
            for &d in fraction {
                if !d.is_ascii_digit() {
                    return false;
                }
                if mantissa == 0 && d == b'0' {
                    zeros += 1;
                }
                mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
            }
            let significant = if whole == 1 && body[0] == b'0' {
                if zeros > 4 {
                    return false;
                }
                fraction.len() - zeros
            } else {
                whole + fraction.len()
            };
            if significant > 15 {
                return false;
            }
            fraction.len()
        }
    };
    // At most 15 significant digits: the mantissa is below 10^15, the scale at most 19.
    let magnitude = mantissa as f64 / POW10[scale];
    let parsed = if negative { -magnitude } else { magnitude };
    parsed.to_bits() == value.to_bits()
}

#[cfg(feature = "serde")]
mod serde_impls {
    use serde::ser::{SerializeMap, SerializeSeq, Serializer};
    use serde::Serialize;

    use super::JsonRecord;
    use crate::record::{FieldValue, RawFields, Record};
    use crate::time::Rfc3339;
    use crate::Channel;

    impl Serialize for RawFields<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut seq = serializer.serialize_seq(None)?;
            for field in self.iter() {
                seq.serialize_element(field)?;
            }
            seq.end()
        }
    }

    /// The same JSON as [`super::JsonLines`] writes, through serde.
    ///
    /// ```
    /// use sunpower_proto::{parse_line, Channel, JsonLines, JsonRecord};
    /// let r = parse_line("141\t20170107171000\tPVS5M508095c\tPVS5M0400c\t1\t5.6946\t5.50\t\t\t\t\t+1").unwrap();
    /// let json = serde_json::to_string(&JsonRecord::new(&r, Some(Channel::Data))).unwrap();
    /// assert!(json.starts_with(r#"{"record_type":141,"raw":["141","20170107171000","#));
    /// assert!(json.contains(r#""leg1_current_a":5.6946,"leg2_current_a":5.5,"leg1_voltage_v":null"#));
    /// let mut lines = JsonLines::new(Vec::new());
    /// lines.write_record(&r, Some(Channel::Data)).unwrap();
    /// assert_eq!(lines.into_inner().unwrap(), format!("{json}\n").into_bytes());
    /// ```
    impl Serialize for JsonRecord<'_, '_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut map = serializer.serialize_map(None)?;
            let mut result = Ok(());
            self.record.visit_output(self.channel, |name, value| {
                if result.is_ok() {
                    result = serialize_field(&mut map, name, value);
                }
            });
            result?;
            map.end()
        }
    }

    /// One visited field as a JSON map entry: the shape of every typed value in every output.
    pub(crate) fn serialize_field<M: SerializeMap>(
        map: &mut M,
        name: &'static str,
        value: FieldValue<'_>,
    ) -> Result<(), M::Error> {
        match value {
            FieldValue::Time(t) => map.serialize_entry(name, &t.map(Rfc3339)),
            FieldValue::Text(t) => map.serialize_entry(name, &t),
            FieldValue::Decimal(v) => map.serialize_entry(name, &v),
            FieldValue::Integer(v) => map.serialize_entry(name, &v),
            FieldValue::Unsigned(v) => map.serialize_entry(name, &v),
            FieldValue::Fields(line) => map.serialize_entry(name, &RawFields::new(line)),
            #[cfg(feature = "intervals")]
            FieldValue::LocalTime(t, tz) => {
                map.serialize_entry(name, &crate::export::local_rfc3339(t, tz))
            }
            FieldValue::Bool(b) => map.serialize_entry(name, &b),
            #[cfg(feature = "intervals")]
            FieldValue::Flags(flags) => map.serialize_entry(name, &FlagList(flags)),
        }
    }

    /// Flags as a list of their names.
    #[cfg(feature = "intervals")]
    struct FlagList(crate::intervals::Flags);

    #[cfg(feature = "intervals")]
    impl Serialize for FlagList {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_seq(self.0.iter().map(|flag| flag.as_str()))
        }
    }

    impl Serialize for Record<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            JsonRecord::new(self, None).serialize(serializer)
        }
    }

    impl Serialize for Rfc3339 {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_str(self)
        }
    }

    impl Serialize for Channel {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_str(self.as_str())
        }
    }
}

#[cfg(feature = "serde")]
pub(crate) use serde_impls::serialize_field;

#[cfg(test)]
mod tests {
    use super::*;

    fn zmij(v: f64) -> String {
        zmij::Buffer::new().format_finite(v).to_owned()
    }

    #[test]
    fn the_supervisors_decimals_are_copied_as_they_are() {
        for text in [
            "245.1503",
            "0.0417",
            "-0.76",
            "0.0",
            "-0.0",
            "12.0",
            "2868.0454",
            "0.00001",
        ] {
            let value: f64 = text.parse().unwrap();
            assert!(prints_as(text.as_bytes(), value), "{text}");
            assert_eq!(zmij(value), text);
        }
        // Not the value's text: left to zmij.
        for (text, value) in [
            ("5", 5.0),
            ("0.10", 0.1),
            ("-0", -0.0),
            ("+1.5", 1.5),
            ("1.5", 1.25),
        ] {
            assert!(!prints_as(text.as_bytes(), value), "{text}");
        }
        assert!(!prints_as(b"0.0", -0.0) && !prints_as(b"-0.0", 0.0));
    }

    #[test]
    fn fields_are_found_again_up_to_the_kept_ones() {
        let line = (0..20)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join("\t");
        let mut buf = Vec::new();
        let mut out = Out::new(&mut buf, 0);
        let mut fields = FieldStarts::default();
        escaped(&mut out, line.as_bytes(), Some(&mut fields));
        for i in 0..KEPT_FIELDS {
            let (start, end) = fields.bounds(&line, i).unwrap();
            assert_eq!(&line[start..end], i.to_string());
        }
        assert_eq!(fields.bounds(&line, KEPT_FIELDS), None);
        let mut fields = FieldStarts::default();
        escaped(&mut out, b"a\t\tbc", Some(&mut fields));
        out.finish();
        assert_eq!(
            buf,
            format!("{}a\",\"\",\"bc", line.replace('\t', "\",\"")).as_bytes()
        );
        let got: Vec<_> = (0..4).map(|i| fields.bounds("a\t\tbc", i)).collect();
        assert_eq!(got, [Some((0, 1)), Some((2, 2)), Some((3, 5)), None]);
    }

    proptest::proptest! {
        #[test]
        fn a_text_taken_as_it_is_is_what_zmij_prints(
            text in "-?(0|[1-9][0-9]{0,16})\\.[0-9]{1,19}|-?0\\.0{0,6}[1-9][0-9]{0,16}",
        ) {
            let value: f64 = text.parse().unwrap();
            if prints_as(text.as_bytes(), value) {
                proptest::prop_assert_eq!(zmij(value), text);
            } else {
                // Refused only for a reason the rules give.
                let digits = text.bytes().filter(u8::is_ascii_digit).count();
                proptest::prop_assert!(text.ends_with('0') || digits > 15 || text.contains("0.00000"));
            }
        }

        #[test]
        fn the_short_test_agrees_with_the_digit_by_digit_one(
            before in "[0-9\t]{0,9}",
            text in "[+-]?[0-9.]{1,8}|-?0\\.0{0,6}[0-9]|-?[0-9]{1,3}\\.[0-9]{0,2}0{1,4}",
            exact in proptest::bool::ANY,
        ) {
            let line = format!("{before}\t{text}");
            let (start, end) = (before.len() + 1, line.len());
            let value = text.parse::<f64>().unwrap_or(0.5);
            // The value read from the text, or one next to it.
            let value = if exact { value } else { f64::from_bits(value.to_bits() ^ 1) };
            if let Some(len) = short_printed_len(line.as_bytes(), start, end, value) {
                // The text without the zeros ending its fraction (but its first digit).
                let mut kept = text.as_str();
                while kept.ends_with('0') && kept.contains('.') && !kept.ends_with(".0") && !kept.ends_with('.') {
                    kept = &kept[..kept.len() - 1];
                }
                if !text.starts_with('+') && prints_as(kept.as_bytes(), value) {
                    proptest::prop_assert_eq!(len, Some(kept.len()), "{}", text);
                    proptest::prop_assert_eq!(kept, zmij(value));
                } else {
                    proptest::prop_assert_eq!(len, None, "{}", text);
                }
            }
        }

        #[test]
        fn escaping_is_serde_jsons(text in "[\u{0}-\u{7f}é😀]{0,40}") {
            let mut buf = vec![b'"'];
            let mut out = Out::new(&mut buf, 3);
            escaped(&mut out, text.as_bytes(), None);
            out.array(b"\"");
            out.finish();
            proptest::prop_assert_eq!(buf, serde_json::to_vec(&text).unwrap());
        }
    }
}
