//! Typed records: one struct per record type, all borrowing from the line they came from.

use chrono::{DateTime, Utc};

use crate::error::ErrorKind;
use crate::json::json_escapes;
use crate::value::{
    decimal, integer, optional_timestamp, plain_decimal, printed_len, record_type, required_text,
    splat, swar_decimal, text, unsigned, zero_bytes, FieldResult, LastTimestamp,
};

/// The fields of one line exactly as sent: split strictly on single TABs, empty fields kept.
///
/// Nothing is copied: this is a view of the line, with where its first fields lie, found once
/// when the line is split (as `csv::ByteRecord` keeps its field bounds), so reading a field or
/// writing the line out again as JSON needs no second search.
///
/// ```
/// use sunpower_proto::RawFields;
/// let raw = RawFields::new("131\t20170107171000\t\tx");
/// assert_eq!(raw.len(), 4);
/// assert_eq!(raw.get(2), Some(""));
/// assert_eq!(raw.iter().collect::<Vec<_>>(), ["131", "20170107171000", "", "x"]);
/// ```
#[derive(Clone, Copy)]
pub struct RawFields<'a> {
    line: &'a str,
    /// Field `i` (for `i` below `count` and [`KNOWN_MAX`]) starts at `cuts[i]` and ends one
    /// byte before `cuts[i + 1]` (its TAB, or the end of the line). Offsets fit in `u16`
    /// (collector lines are a few hundred bytes): a longer line is not split (`count` 0) and
    /// is read with `str::split`.
    cuts: [u16; KNOWN_MAX + 1],
    /// How many fields the line has (0: not split).
    count: u32,
    /// No byte of the line but its TABs is one that JSON escapes.
    plain: bool,
    /// What decoding read from the decimal fields read in one go ([`RawFields::decimals`]), for
    /// the JSON writer.
    read: DecimalsRead,
}

/// The most decimal fields a record type reads in one go (an inverter's nine).
const DECIMALS_MAX: usize = 9;

/// The decimal fields from `first` on as decoding read them: for each one that was a short
/// plain decimal, the value read, and how many bytes of its text are what serde_json prints
/// for that value (see [`printed_len`]; 0 when unknown). The JSON writer takes a decimal's
/// text from the line when the record still holds the value read there (its fields are
/// public, and may have been changed).
#[derive(Clone, Copy)]
struct DecimalsRead {
    first: u8,
    printed: [u8; DECIMALS_MAX],
    values: [u64; DECIMALS_MAX],
}

impl std::fmt::Debug for RawFields<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("RawFields").field(&self.line).finish()
    }
}

/// Two views are equal when their lines are: the bounds are found from the line.
impl PartialEq for RawFields<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.line == other.line
    }
}

impl Eq for RawFields<'_> {}

impl std::hash::Hash for RawFields<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.line.hash(state);
    }
}

impl<'a> RawFields<'a> {
    /// Views `line` (without its line ending) as fields.
    ///
    /// ```
    /// use sunpower_proto::RawFields;
    /// assert_eq!(RawFields::new("102\tabc").len(), 2);
    /// ```
    #[inline]
    pub fn new(line: &'a str) -> Self {
        let mut split = RawFields {
            line,
            cuts: [0; KNOWN_MAX + 1],
            count: 0,
            plain: false,
            read: DecimalsRead {
                first: 0,
                printed: [0; DECIMALS_MAX],
                values: [0; DECIMALS_MAX],
            },
        };
        if u16::try_from(line.len() + 1).is_err() {
            return split;
        }
        let bytes = line.as_bytes();
        let mut at = 0;
        let mut escapes = 0;
        // Eight bytes at a time: fields are a few bytes long, so most words hold a TAB or two,
        // and a per-byte loop or a searcher call per field costs several times more.
        while let Some(chunk) = bytes.get(at..at + 8) {
            let word = load(chunk);
            let mut tabs = tab_bits(word);
            escapes |= json_escapes(word) & !tabs;
            while tabs != 0 {
                split.push(at + (tabs.trailing_zeros() / 8) as usize + 1);
                tabs &= tabs - 1;
            }
            at += 8;
        }
        for (i, &b) in bytes.iter().enumerate().skip(at) {
            if b == b'\t' {
                split.push(i + 1);
            } else if b < 0x20 || b == b'"' || b == b'\\' {
                escapes = 1;
            }
        }
        split.push(bytes.len() + 1);
        split.plain = escapes == 0;
        split
    }

    /// The line's text, without its line ending.
    ///
    /// ```
    /// use sunpower_proto::RawFields;
    /// assert_eq!(RawFields::new("102\tabc").as_str(), "102\tabc");
    /// ```
    pub fn as_str(&self) -> &'a str {
        self.line
    }

    /// The fields in order, field 0 (the record type) first.
    ///
    /// ```
    /// use sunpower_proto::RawFields;
    /// assert_eq!(RawFields::new("140\t\tx").iter().collect::<Vec<_>>(), ["140", "", "x"]);
    /// ```
    pub fn iter(&self) -> std::str::Split<'a, char> {
        self.line.split('\t')
    }

    /// How many fields the line has.
    ///
    /// ```
    /// use sunpower_proto::RawFields;
    /// assert_eq!(RawFields::new("130\t20170107171000\t").len(), 3); // an empty last field counts
    /// ```
    #[allow(clippy::len_without_is_empty)] // a line always has at least field 0
    pub fn len(&self) -> usize {
        match self.count {
            0 => self.line.bytes().filter(|&b| b == b'\t').count() + 1,
            count => count as usize,
        }
    }

    /// Field `index`, if the line has that many.
    ///
    /// ```
    /// use sunpower_proto::RawFields;
    /// let raw = RawFields::new("102\tabc");
    /// assert_eq!((raw.get(0), raw.get(1), raw.get(2)), (Some("102"), Some("abc"), None));
    /// ```
    pub fn get(&self, index: usize) -> Option<&'a str> {
        match self.bounds(index) {
            Some((start, end)) => self.line.get(start..end),
            None if index >= KNOWN_MAX || self.count == 0 => self.iter().nth(index),
            None => None,
        }
    }

    /// How many bytes of field `index`'s text print as `value`, when decoding read that value
    /// there as a short plain decimal (`None`: not read so, or the value is another).
    #[inline]
    pub(crate) fn printed(&self, index: usize, value: f64) -> Option<usize> {
        let slot = index.checked_sub(usize::from(self.read.first))?;
        let printed = *self.read.printed.get(slot)?;
        (printed != 0 && self.read.values[slot] == value.to_bits()).then_some(usize::from(printed))
    }

    /// Whether no byte of the line but its TABs is one that JSON escapes.
    #[inline]
    pub(crate) fn is_plain(&self) -> bool {
        self.plain
    }

    /// Where the fields kept start (all of them when the line has at most [`KNOWN_MAX`]).
    #[inline]
    pub(crate) fn starts(&self) -> &[u16] {
        &self.cuts[..(self.count as usize).min(KNOWN_MAX)]
    }

    /// Whether every field's bounds are kept (the line has at most [`KNOWN_MAX`] fields).
    #[inline]
    pub(crate) fn all_kept(&self) -> bool {
        self.count != 0 && self.count as usize <= KNOWN_MAX
    }

    /// Where field `index` starts and ends, when it is one of the fields kept.
    #[inline]
    pub(crate) fn bounds(&self, index: usize) -> Option<(usize, usize)> {
        (index < self.count as usize && index < KNOWN_MAX)
            .then(|| (self.cuts[index] as usize, self.cuts[index + 1] as usize - 1))
    }

    /// Ends field `count` where the next one starts (at most `u16::MAX`: see [`RawFields::new`]).
    #[inline]
    fn push(&mut self, next_start: usize) {
        let count = self.count as usize;
        if count < KNOWN_MAX {
            self.cuts[count + 1] = next_start as u16;
        }
        self.count += 1;
    }

    /// Field `index`, if the line has that many and it is one of the fields kept (any field of
    /// a line too long to be split).
    #[inline]
    fn field(&self, index: usize) -> Option<&'a str> {
        match self.bounds(index) {
            Some((start, end)) => self.line.get(start..end),
            None if self.count == 0 => self.unsplit_field(index),
            None => None,
        }
    }

    #[cold]
    #[inline(never)]
    fn unsplit_field(&self, index: usize) -> Option<&'a str> {
        self.iter().nth(index)
    }
    /// Field `index` as a decimal: plain decimals of at most 8 bytes straight from the word of
    /// the line that ends with them (see [`swar_decimal`]), anything else through [`decimal`].
    #[inline]
    fn decimal(&self, index: usize, name: &'static str) -> FieldResult<Option<f64>> {
        if let Some((start, end)) = self.bounds(index) {
            let bytes = self.line.as_bytes();
            if let Some(word) = end.checked_sub(8).and_then(|from| bytes.get(from..end))
                && let Some(value) = swar_decimal(load(word), end - start)
            {
                return Ok(Some(value));
            }
        }
        self.decimal_slow(index, name)
    }

    #[cold]
    #[inline(never)]
    fn decimal_slow(&self, index: usize, name: &'static str) -> FieldResult<Option<f64>> {
        decimal(self.field(index), index, name)
    }

    /// The `N` decimal fields from `first` on, named `names`, into `values`: when every one is
    /// empty or a short plain decimal (nearly always), one loop with one way out; otherwise
    /// field by field through [`RawFields::decimal`], each bad field left `None` with its problem
    /// noted. (Filling the caller's array, rather than returning one, keeps the values out of
    /// `memcpy` calls.)
    #[inline]
    fn decimals<const N: usize>(
        &mut self,
        first: usize,
        names: &[&'static str; N],
        values: &mut [Option<f64>; N],
        problems: &mut FieldProblems,
    ) {
        if self.short_decimals(first, values).is_none() {
            self.decimals_one_by_one(first, names, values, problems);
        }
    }

    /// The fast case of [`RawFields::decimals`]: `None` as soon as a field is not a short plain
    /// decimal. Notes each field's [`printed_len`] (with the value read, so that the lengths
    /// noted before a field that sends the line the long way stay true).
    fn short_decimals<const N: usize>(
        &mut self,
        first: usize,
        values: &mut [Option<f64>; N],
    ) -> Option<()> {
        let cuts = self.cuts.get(first..first + N + 1)?;
        if first + N > self.count as usize {
            return None;
        }
        let bytes = self.line.as_bytes();
        self.read.first = first as u8;
        for (i, (value, ends)) in values.iter_mut().zip(cuts.windows(2)).enumerate() {
            let (start, end) = (ends[0] as usize, ends[1] as usize - 1);
            *value = if start == end {
                None
            } else if end - start <= 8 {
                let word = load(bytes.get(end.checked_sub(8)?..end)?);
                let value = swar_decimal(word, end - start)?;
                if let (Some(printed), Some(read)) =
                    (self.read.printed.get_mut(i), self.read.values.get_mut(i))
                {
                    // At most 8.
                    *printed = printed_len(word, &bytes[start..end]) as u8;
                    *read = value.to_bits();
                }
                Some(value)
            } else {
                // Lifetime counters of a few years' production ("2868.0454") are 9 bytes or
                // more: plain decimals still, read byte by byte.
                Some(plain_decimal(self.line.get(start..end)?)?)
            };
        }
        Some(())
    }

    #[cold]
    #[inline(never)]
    fn decimals_one_by_one<const N: usize>(
        &self,
        first: usize,
        names: &[&'static str; N],
        values: &mut [Option<f64>; N],
        problems: &mut FieldProblems,
    ) {
        for (i, (value, name)) in values.iter_mut().zip(names).enumerate() {
            *value = kept(self.decimal(first + i, name), problems);
        }
    }
}

/// Where a record came from: a collector line, kept as sent, or a JSON source of the
/// supervisor's local API, whose records are built from its values and have no line.
///
/// ```
/// use sunpower_proto::{parse_line, Source};
/// let record = parse_line("102\tabc").unwrap();
/// assert_eq!(record.source().raw().map(|raw| raw.as_str()), Some("102\tabc"));
/// assert_eq!(Source::Vars.as_str(), "vars");
/// assert_eq!(Source::Vars.raw(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Source<'a> {
    /// A line of a collector POST body, its fields exactly as sent.
    Collector(RawFields<'a>),
    /// A device of a DeviceList document (`dl_cgi?Command=DeviceList`).
    DeviceList,
    /// A device of a varserver `/vars` document.
    Vars,
}

impl<'a> Source<'a> {
    /// `"collector"`, `"devicelist"` or `"vars"`, as in the JSON output.
    ///
    /// ```
    /// use sunpower_proto::Source;
    /// assert_eq!(Source::DeviceList.as_str(), "devicelist");
    /// ```
    pub fn as_str(&self) -> &'static str {
        match self {
            Source::Collector(_) => "collector",
            Source::DeviceList => "devicelist",
            Source::Vars => "vars",
        }
    }

    /// The line's fields as sent, for a collector line.
    ///
    /// ```
    /// use sunpower_proto::{RawFields, Source};
    /// assert_eq!(Source::Collector(RawFields::new("102\tx")).raw().map(|r| r.len()), Some(2));
    /// ```
    pub fn raw(&self) -> Option<RawFields<'a>> {
        self.raw_ref().copied()
    }

    /// [`Source::raw`], without a copy.
    #[inline]
    pub(crate) fn raw_ref(&self) -> Option<&RawFields<'a>> {
        match self {
            Source::Collector(raw) => Some(raw),
            Source::DeviceList | Source::Vars => None,
        }
    }
}

/// How many leading fields are split into a fixed array; no record type knows more.
pub(crate) const KNOWN_MAX: usize = 15;

/// The high bit of each byte of `word` that is a TAB, exactly (see [`zero_bytes`]; the shorter
/// "has zero byte" trick can flag a byte after a real match).
#[inline(always)]
pub(crate) fn tab_bits(word: u64) -> u64 {
    zero_bytes(word ^ splat(b'\t'))
}

/// Eight bytes as a little-endian word.
#[inline(always)]
pub(crate) fn load(chunk: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(chunk);
    u64::from_le_bytes(word)
}

/// The errors of a line's unreadable values, each of which cost its field, not the record.
pub(crate) type FieldProblems = Vec<ErrorKind>;

/// A field's value, or `None` with its error noted in `problems`.
#[inline(always)]
fn kept<T>(result: FieldResult<Option<T>>, problems: &mut FieldProblems) -> Option<T> {
    match result {
        Ok(value) => value,
        Err(problem) => note(problem, problems),
    }
}

#[cold]
#[inline(never)]
fn note<T>(problem: ErrorKind, problems: &mut FieldProblems) -> Option<T> {
    problems.push(problem);
    None
}

/// Which kind of power meter a 140 line comes from, by its serial's last letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MeterKind {
    /// Serial ending in `p`: the production meter.
    Production,
    /// Serial ending in `c`: the consumption (net) meter.
    Consumption,
    /// Any other serial.
    Unknown,
}

impl MeterKind {
    /// The kind of meter a serial names: `PVS5M508095c` is a consumption meter.
    ///
    /// ```
    /// use sunpower_proto::MeterKind;
    /// assert_eq!(MeterKind::from_serial("PVS5M508095c"), MeterKind::Consumption);
    /// assert_eq!(MeterKind::from_serial("PVS5M508095p"), MeterKind::Production);
    /// assert_eq!(MeterKind::from_serial("PVS5M508095"), MeterKind::Unknown);
    /// ```
    pub fn from_serial(serial: &str) -> Self {
        match serial.as_bytes().last() {
            Some(b'p') => MeterKind::Production,
            Some(b'c') => MeterKind::Consumption,
            _ => MeterKind::Unknown,
        }
    }

    /// The name used in JSON: `"production"`, `"consumption"` or `"unknown"`.
    ///
    /// ```
    /// use sunpower_proto::MeterKind;
    /// assert_eq!(MeterKind::Consumption.as_str(), "consumption");
    /// ```
    pub fn as_str(&self) -> &'static str {
        match self {
            MeterKind::Production => "production",
            MeterKind::Consumption => "consumption",
            MeterKind::Unknown => "unknown",
        }
    }
}

/// What a consumption meter measures: the grid connection (net: import minus export) or the
/// house's load (gross consumption). Decided from what its source says (a DeviceList `subtype`,
/// the varserver's livedata identity, a negative counter or power); see
/// docs/protocol-local-api.md for the evidence.
///
/// ```
/// use sunpower_proto::MeterRole;
/// assert_eq!(MeterRole::from_subtype("GROSS_CONSUMPTION_LINESIDE"), MeterRole::Load);
/// assert_eq!(MeterRole::from_subtype("NET_CONSUMPTION_LOADSIDE"), MeterRole::Net);
/// assert_eq!(MeterRole::from_name(MeterRole::Load.as_str()), Some(MeterRole::Load));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MeterRole {
    /// The CT is on the grid side: the meter measures net energy (import positive).
    Net,
    /// The CT is around the house's load: the meter measures consumption.
    Load,
    /// Nothing its source says tells.
    #[default]
    Unknown,
}

impl MeterRole {
    /// `"net"`, `"load"` or `"unknown"`, as in the JSON output.
    ///
    /// ```
    /// assert_eq!(sunpower_proto::MeterRole::Load.as_str(), "load");
    /// ```
    pub fn as_str(&self) -> &'static str {
        match self {
            MeterRole::Net => "net",
            MeterRole::Load => "load",
            MeterRole::Unknown => "unknown",
        }
    }

    /// The role named by [`MeterRole::as_str`].
    ///
    /// ```
    /// use sunpower_proto::MeterRole;
    /// assert_eq!(MeterRole::from_name("net"), Some(MeterRole::Net));
    /// assert_eq!(MeterRole::from_name("gross"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<MeterRole> {
        match name {
            "net" => Some(MeterRole::Net),
            "load" => Some(MeterRole::Load),
            "unknown" => Some(MeterRole::Unknown),
            _ => None,
        }
    }

    /// The role a DeviceList `subtype` names: `NET_CONSUMPTION_LOADSIDE` (a PVS6 build 61839
    /// sample) is net, `GROSS_CONSUMPTION_LINESIDE` (a public 2019 DeviceList) load; any other
    /// word unknown.
    ///
    /// ```
    /// use sunpower_proto::MeterRole;
    /// assert_eq!(MeterRole::from_subtype("GROSS_PRODUCTION_SITE"), MeterRole::Unknown);
    /// ```
    pub fn from_subtype(subtype: &str) -> MeterRole {
        let upper = subtype.to_ascii_uppercase();
        if !upper.contains("CONSUMPTION") {
            MeterRole::Unknown
        } else if upper.starts_with("NET") {
            MeterRole::Net
        } else if upper.starts_with("GROSS") {
            MeterRole::Load
        } else {
            MeterRole::Unknown
        }
    }

    /// What one reading tells by itself: a negative counter or power can only be net (a house's
    /// load is never negative; a little noise around zero is allowed).
    ///
    /// ```
    /// use sunpower_proto::MeterRole;
    /// assert_eq!(MeterRole::from_reading(Some(500.0), Some(-1.2)), MeterRole::Net);
    /// assert_eq!(MeterRole::from_reading(Some(500.0), Some(1.2)), MeterRole::Unknown);
    /// ```
    pub fn from_reading(counter_kwh: Option<f64>, power_kw: Option<f64>) -> MeterRole {
        if counter_kwh.is_some_and(|c| c < 0.0) || power_kw.is_some_and(|p| p < -NOISE_KW) {
            MeterRole::Net
        } else {
            MeterRole::Unknown
        }
    }
}

/// Power a load meter may read below zero around nothing (CT noise), kW.
const NOISE_KW: f64 = 0.05;

/// Which of the two known layouts a 130 line had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InverterForm {
    /// The 15-field line as the supervisor sends it.
    Full,
    /// The 14-field line with the (empty) field 4 collapsed, as in copies quoted on forums.
    Collapsed,
}

/// A 100 line: the header of a post.
///
/// ```
/// use sunpower_proto::{parse_line, Record};
/// let Record::Header(h) = parse_line("100\tSPMS\t10\tZT162585000441C1402\t20170107171925").unwrap()
///     else { panic!() };
/// assert_eq!(h.supervisor_serial, Some("ZT162585000441C1402"));
/// assert_eq!(h.sent_at.unwrap().to_rfc3339(), "2017-01-07T17:19:25+00:00");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Header<'a> {
    /// Where the record came from: a collector line (its fields as sent), or a JSON source.
    pub source: Source<'a>,
    /// Field 1, constant `SPMS`.
    pub tag: Option<&'a str>,
    /// Field 2, constant `10` (probably the protocol version).
    pub version: Option<&'a str>,
    /// Field 3.
    pub supervisor_serial: Option<&'a str>,
    /// Field 4: when the supervisor sent the post.
    pub sent_at: Option<DateTime<Utc>>,
}

/// A 102 line: the trailer of a post.
///
/// ```
/// use sunpower_proto::{parse_line, Record};
/// let Record::Trailer(t) = parse_line("102\t51oeIKDhOUeah8+9ZCME").unwrap() else { panic!() };
/// assert_eq!(t.token, Some("51oeIKDhOUeah8+9ZCME"));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Trailer<'a> {
    /// Where the record came from: a collector line (its fields as sent), or a JSON source.
    pub source: Source<'a>,
    /// Field 1: an opaque 20-character token.
    pub token: Option<&'a str>,
}

/// A 120 line: supervisor status.
///
/// ```
/// use sunpower_proto::{parse_line, Record};
/// let line = "120\t20170107171500\tZT162585000441C1402\t0\t445\t0\t0\t0\t81666\t0.21\t24876\t12408";
/// let Record::SupervisorStatus(s) = parse_line(line).unwrap() else { panic!() };
/// assert_eq!(s.comm_errors, Some(445));
/// assert_eq!(s.uptime_s, Some(81666));
/// assert_eq!(s.cpu_load, Some(0.21));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SupervisorStatus<'a> {
    /// Where the record came from: a collector line (its fields as sent), or a JSON source.
    pub source: Source<'a>,
    /// Field 1 (UTC).
    pub timestamp: DateTime<Utc>,
    /// Field 2: the supervisor's serial.
    pub serial: &'a str,
    /// Field 3 `[dl_err_count]`.
    pub error_count: Option<u64>,
    /// Field 4 `[dl_comm_err]`.
    pub comm_errors: Option<u64>,
    /// Field 5 `[dl_skipped_scans]`.
    pub skipped_scans: Option<u64>,
    /// Field 6 `[dl_scan_time]`, seconds.
    pub scan_time_s: Option<f64>,
    /// Field 7 `[dl_untransmitted]`: data points not yet sent (the backlog).
    pub untransmitted: Option<u64>,
    /// Field 8 `[dl_uptime]`, seconds.
    pub uptime_s: Option<u64>,
    /// Field 9 `[dl_cpu_load]`.
    pub cpu_load: Option<f64>,
    /// Field 10 `[dl_mem_used]`, kB.
    pub memory_used_kb: Option<u64>,
    /// Field 11 `[dl_flash_avail]`, kB.
    pub flash_available_kb: Option<u64>,
}

/// A 122 line: supervisor identity (seen on PVS2).
///
/// ```
/// use sunpower_proto::{parse_line, Record};
/// let line = "122\t20260105120000\tZT01\tSMSPVS20R1\t1.0\t2.1\tPV Supervisor\tSMS2.0";
/// let Record::SupervisorIdentity(i) = parse_line(line).unwrap() else { panic!() };
/// assert_eq!(i.description, Some("PV Supervisor"));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SupervisorIdentity<'a> {
    /// Where the record came from: a collector line (its fields as sent), or a JSON source.
    pub source: Source<'a>,
    /// Field 1 (UTC).
    pub timestamp: DateTime<Utc>,
    /// Field 2.
    pub serial: &'a str,
    /// Field 3 (`SMSPVS20R1`).
    pub model: Option<&'a str>,
    /// Field 4: a version string.
    pub version_a: Option<&'a str>,
    /// Field 5: a second version string (probably the supervisor software).
    pub version_b: Option<&'a str>,
    /// Field 6 (`PV Supervisor`).
    pub description: Option<&'a str>,
    /// Field 7 (`SMS2.0`).
    pub family: Option<&'a str>,
}

/// A 130 line: one inverter's interval readings.
///
/// ```
/// use sunpower_proto::{parse_line, InverterForm, Record};
/// let line = "130\t20170107171000\t414051637009125\tAC_Module_Type_C\t18.5466\t0.0417\t245.1503\t\
///             0.3643\t0.044\t59.0692\t0.7733\t1.25\t59.9772\t0";
/// let Record::Inverter(inv) = parse_line(line).unwrap() else { panic!() };
/// assert_eq!(inv.form, InverterForm::Collapsed);
/// assert_eq!(inv.lifetime_energy_kwh, Some(18.5466));
/// assert_eq!(inv.ac_power_kw, Some(0.0417));
/// assert_eq!(inv.aux, None);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Inverter<'a> {
    /// Where the record came from: a collector line (its fields as sent), or a JSON source.
    pub source: Source<'a>,
    /// Which layout the line had.
    pub form: InverterForm,
    /// Field 1: start of the interval (UTC).
    pub timestamp: DateTime<Utc>,
    /// Field 2.
    pub serial: &'a str,
    /// Field 3 (`AC_Module_Type_C`, `FRONIUS IG ...`).
    pub model: Option<&'a str>,
    /// Field 4: unknown; empty on micro-inverters, a small integer on Fronius.
    pub aux: Option<i64>,
    /// Field 5 `[ltea_3phsum_kwh]`: lifetime AC energy.
    pub lifetime_energy_kwh: Option<f64>,
    /// Field 6 `[p_3phsum_kw]`.
    pub ac_power_kw: Option<f64>,
    /// Field 7 `[vln_3phavg_v]`.
    pub ac_voltage_v: Option<f64>,
    /// Field 8 `[i_3phsum_a]`.
    pub ac_current_a: Option<f64>,
    /// Field 9 `[p_mpptsum_kw]`.
    pub dc_power_kw: Option<f64>,
    /// Field 10 `[v_mppt1_v]`.
    pub dc_voltage_v: Option<f64>,
    /// Field 11 `[i_mppt1_a]`.
    pub dc_current_a: Option<f64>,
    /// Field 12 `[t_htsnk_degc]`.
    pub heatsink_temp_c: Option<f64>,
    /// Field 13 `[freq_hz]`.
    pub frequency_hz: Option<f64>,
    /// Field 14 `[stat_ind]`, 0 = normal.
    pub status: Option<i64>,
}

/// A 131 line: inverter status (seen on PVS2 with Fronius; meaning unconfirmed).
///
/// ```
/// use sunpower_proto::{parse_line, Record};
/// let line = "131\t20260105120000\t12345\tFRONIUS IG 4000\t1\t1511\t502";
/// let Record::InverterStatus(s) = parse_line(line).unwrap() else { panic!() };
/// assert_eq!((s.value_1, s.value_2, s.value_3), (Some(1), Some(1511), Some(502)));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct InverterStatus<'a> {
    /// Where the record came from: a collector line (its fields as sent), or a JSON source.
    pub source: Source<'a>,
    /// Field 1 (UTC).
    pub timestamp: DateTime<Utc>,
    /// Field 2.
    pub serial: &'a str,
    /// Field 3.
    pub model: Option<&'a str>,
    /// Field 4: a small integer.
    pub value_1: Option<i64>,
    /// Field 5: an integer (1511).
    pub value_2: Option<i64>,
    /// Field 6: an integer (502, 546; perhaps W).
    pub value_3: Option<i64>,
}

/// A 140 line: one power meter's interval readings.
///
/// ```
/// use sunpower_proto::{parse_line, MeterKind, Record};
/// let line = "140\t20170107171000\tPVS5M508095c\tPVS5M0400c\t125\t607\t0.7075\t0.753\t1.3836\t0.5104\t59.978\t0";
/// let Record::Meter(m) = parse_line(line).unwrap() else { panic!() };
/// assert_eq!(m.meter_kind, MeterKind::Consumption);
/// assert_eq!(m.real_power_kw, Some(0.7075));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Meter<'a> {
    /// Where the record came from: a collector line (its fields as sent), or a JSON source.
    pub source: Source<'a>,
    /// Field 1 (UTC).
    pub timestamp: DateTime<Utc>,
    /// Field 2.
    pub serial: &'a str,
    /// Field 3.
    pub model: Option<&'a str>,
    /// From the serial's suffix.
    pub meter_kind: MeterKind,
    /// What a consumption meter measures, as its source says (JSON sources only: a
    /// collector line's is [`MeterRole::Unknown`], and absent from its JSON).
    pub role: MeterRole,
    /// Field 4 `[ct_scl_fctr]`.
    pub ct_scale: Option<f64>,
    /// Field 5 `[net_ltea_3phsum_kwh]`.
    pub lifetime_net_energy_kwh: Option<f64>,
    /// Field 6 `[p_3phsum_kw]`; on a net consumption meter, positive is import.
    pub real_power_kw: Option<f64>,
    /// Field 7 `[q_3phsum_kvar]`.
    pub reactive_power_kvar: Option<f64>,
    /// Field 8 `[s_3phsum_kva]`.
    pub apparent_power_kva: Option<f64>,
    /// Field 9 `[tot_pf_rto]`.
    pub power_factor: Option<f64>,
    /// Field 10 `[freq_hz]`.
    pub frequency_hz: Option<f64>,
    /// Field 11: unknown, always 0 so far.
    pub status: Option<i64>,
    /// Lifetime energy imported from the grid, kWh (`posLtea3phsumKwh` of the varserver,
    /// `pos_ltea_3phsum_kwh` of a 2025 DeviceList). No collector line carries it: `None` for
    /// records decoded from a line, and absent from their JSON.
    pub import_energy_kwh: Option<f64>,
    /// Lifetime energy exported to the grid, kWh (`negLtea3phsumKwh`, `neg_ltea_3phsum_kwh`);
    /// like [`Meter::import_energy_kwh`], only from the JSON sources.
    pub export_energy_kwh: Option<f64>,
    /// How finely a JSON source wrote [`Meter::lifetime_net_energy_kwh`], kWh (`1` for whole
    /// kWh, `0.01` for two decimals): an old meter's whole-kWh counter is too coarse for 5-minute
    /// energy. A collector line's is read from its text, so `None` for records decoded from a
    /// line, and absent from their JSON.
    pub lifetime_net_energy_resolution_kwh: Option<f64>,
    /// Leg 1 to leg 2 voltage, V (`v12V` of the varserver); no collector line or DeviceList
    /// carries it: `None` for those records, and absent from their JSON.
    pub line_voltage_v: Option<f64>,
}

/// A 141 line: the consumption meter per leg.
///
/// ```
/// use sunpower_proto::{parse_line, Record};
/// let line = "141\t20170107171000\tPVS5M508095c\tPVS5M0400c\t1\t5.6946\t5.5807\t122.7802\t122.6486\t0.1709\t0.5366\t120.27";
/// let Record::MeterLegs(l) = parse_line(line).unwrap() else { panic!() };
/// assert_eq!(l.leg1_power_kw, Some(0.1709));
/// assert_eq!(l.unknown_11, Some(120.27));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MeterLegs<'a> {
    /// Where the record came from: a collector line (its fields as sent), or a JSON source.
    pub source: Source<'a>,
    /// Field 1 (UTC).
    pub timestamp: DateTime<Utc>,
    /// Field 2.
    pub serial: &'a str,
    /// Field 3.
    pub model: Option<&'a str>,
    /// Field 4: unknown, always 1 so far.
    pub flag: Option<i64>,
    /// Field 5 `[i1_a]`.
    pub leg1_current_a: Option<f64>,
    /// Field 6 `[i2_a]`.
    pub leg2_current_a: Option<f64>,
    /// Field 7 `[v1n_v]`.
    pub leg1_voltage_v: Option<f64>,
    /// Field 8 `[v2n_v]`.
    pub leg2_voltage_v: Option<f64>,
    /// Field 9 `[p1_kw]`.
    pub leg1_power_kw: Option<f64>,
    /// Field 10 `[p2_kw]`.
    pub leg2_power_kw: Option<f64>,
    /// Field 11: unknown (perhaps lifetime exported energy, kWh).
    pub unknown_11: Option<f64>,
}

/// A record of a type this crate does not know, kept whole.
///
/// ```
/// use sunpower_proto::{parse_line, Record};
/// let Record::Unknown(u) = parse_line("170\t20170107171000\tGF1\t0").unwrap() else { panic!() };
/// assert_eq!(u.record_type, 170);
/// assert_eq!(u.serial, Some("GF1"));
/// assert!(u.timestamp.is_some());
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Unknown<'a> {
    /// Where the record came from: a collector line (its fields as sent), or a JSON source.
    pub source: Source<'a>,
    /// Field 0.
    pub record_type: u16,
    /// Field 1, when it is a valid timestamp.
    pub timestamp: Option<DateTime<Utc>>,
    /// Field 2, when field 1 is a valid timestamp and field 2 is not empty.
    pub serial: Option<&'a str>,
}

/// One decoded line: a typed record per known record type, or [`Unknown`].
///
/// ```
/// use sunpower_proto::Record;
/// match Record::parse("140\t20170107171000\tPVS5M508095c\tPVS5M0400c\t125\t607.11\t-0.5").unwrap() {
///     Record::Meter(m) => assert_eq!((m.serial, m.real_power_kw), ("PVS5M508095c", Some(-0.5))),
///     other => panic!("{other:?}"),
/// }
/// assert!(matches!(Record::parse("999\tx").unwrap(), Record::Unknown(u) if u.record_type == 999));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Record<'a> {
    /// 100.
    Header(Header<'a>),
    /// 102.
    Trailer(Trailer<'a>),
    /// 120.
    SupervisorStatus(SupervisorStatus<'a>),
    /// 122.
    SupervisorIdentity(SupervisorIdentity<'a>),
    /// 130.
    Inverter(Inverter<'a>),
    /// 131.
    InverterStatus(InverterStatus<'a>),
    /// 140.
    Meter(Meter<'a>),
    /// 141.
    MeterLegs(MeterLegs<'a>),
    /// Any other type.
    Unknown(Unknown<'a>),
}

/// A typed value of a record ([`Record::visit_fields`]) or of an interval row
/// ([`crate::intervals::Interval::visit_output`]), for code that walks fields generically (JSON,
/// Python, CSV, Arrow). Its kind is its field's [`crate::FieldType`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum FieldValue<'a> {
    /// A timestamp (UTC), `None` when not reported.
    Time(Option<DateTime<Utc>>),
    /// An instant shown in a zone (an interval row's `interval_start_local`).
    #[cfg(feature = "intervals")]
    LocalTime(DateTime<Utc>, chrono_tz::Tz),
    /// Text, `None` when empty or absent.
    Text(Option<&'a str>),
    /// A quantity, `None` when not reported.
    Decimal(Option<f64>),
    /// An integer, `None` when not reported.
    Integer(Option<i64>),
    /// A counter, `None` when not reported.
    Unsigned(Option<u64>),
    /// A collector line exactly as sent (`raw`, from [`Record::visit_output`] only): its fields
    /// are the line split on TABs ([`RawFields::new`] views it so).
    Fields(&'a str),
    /// Yes or no (interval rows).
    Bool(bool),
    /// An interval row's flags.
    #[cfg(feature = "intervals")]
    Flags(crate::intervals::Flags),
}

impl<'a> Record<'a> {
    /// Decodes one line (without its line ending), strictly: a value that cannot be read is an
    /// error here, as a line decoded alone has nowhere else to report it. In a body
    /// ([`crate::Body::records`], [`crate::BodyStream`]) the same line gives its record, with
    /// that field `None`, followed by the field's error.
    ///
    /// The error has no position; [`crate::parse_line`] and [`crate::Body`] add it.
    ///
    /// ```
    /// use sunpower_proto::{ErrorKind, Expected, Record};
    /// let Record::Inverter(inv) = Record::parse("130\t20170107171000\t414051637009125\tAC_Module_Type_C\t18.5466\t0.0417\t245.1503\t0.3643\t0.044\t59.0692\t0.7733\t1.25\t59.9772\t0").unwrap() else { unreachable!() };
    /// assert_eq!((inv.serial, inv.lifetime_energy_kwh), ("414051637009125", Some(18.5466)));
    /// assert!(matches!(
    ///     Record::parse("130\t2017-01-07"),
    ///     Err(ErrorKind::InvalidField { index: 1, expected: Expected::Timestamp, .. })
    /// ));
    /// ```
    pub fn parse(line: &'a str) -> Result<Record<'a>, ErrorKind> {
        let mut problems = FieldProblems::new();
        let record = Self::parse_after(line, &mut LastTimestamp::default(), &mut problems)?;
        match problems.into_iter().next() {
            Some(problem) => Err(problem),
            None => Ok(record),
        }
    }

    /// [`Record::parse`] for the next line of a body, `last` holding the previous line's
    /// timestamp, each unreadable value left `None` and its error added to `problems`.
    pub(crate) fn parse_after(
        line: &'a str,
        last: &mut LastTimestamp,
        problems: &mut FieldProblems,
    ) -> Result<Record<'a>, ErrorKind> {
        Self::parse_split(RawFields::new(line), last, problems)
    }

    /// Decodes the line `split` holds. Only what the record cannot do without (its type, and a
    /// data record's timestamp and serial) makes it an error; any other unreadable value costs
    /// its field, left `None`, with its error added to `problems`.
    #[inline(always)]
    pub(crate) fn parse_split(
        mut split: RawFields<'a>,
        last: &mut LastTimestamp,
        problems: &mut FieldProblems,
    ) -> Result<Record<'a>, ErrorKind> {
        // The line's bounds are copied into the record once, where it is built (for the
        // decimal kinds, after their decimals are read).
        let kind = record_type(split.field(0).unwrap_or_default())?;
        let p = problems;
        Ok(match kind {
            100 => Record::Header(Header {
                source: Source::Collector(split),
                tag: text(split.field(1)),
                version: text(split.field(2)),
                supervisor_serial: text(split.field(3)),
                sent_at: kept(optional_timestamp(split.field(4), 4, "sent_at"), p),
            }),
            102 => Record::Trailer(Trailer {
                source: Source::Collector(split),
                token: text(split.field(1)),
            }),
            120 => Record::SupervisorStatus(parse_120(&split, last.required(split.field(1))?, p)?),
            122 => Record::SupervisorIdentity(SupervisorIdentity {
                source: Source::Collector(split),
                timestamp: last.required(split.field(1))?,
                serial: required_text(split.field(2), 2, "serial")?,
                model: text(split.field(3)),
                version_a: text(split.field(4)),
                version_b: text(split.field(5)),
                description: text(split.field(6)),
                family: text(split.field(7)),
            }),
            130 => {
                let timestamp = last.required(split.field(1))?;
                Record::Inverter(parse_130(&mut split, timestamp, p)?)
            }
            131 => Record::InverterStatus(InverterStatus {
                source: Source::Collector(split),
                timestamp: last.required(split.field(1))?,
                serial: required_text(split.field(2), 2, "serial")?,
                model: text(split.field(3)),
                value_1: kept(integer(split.field(4), 4, "value_1"), p),
                value_2: kept(integer(split.field(5), 5, "value_2"), p),
                value_3: kept(integer(split.field(6), 6, "value_3"), p),
            }),
            140 => {
                let timestamp = last.required(split.field(1))?;
                Record::Meter(parse_140(&mut split, timestamp, p)?)
            }
            141 => {
                let timestamp = last.required(split.field(1))?;
                Record::MeterLegs(parse_141(&mut split, timestamp, p)?)
            }
            other => {
                let timestamp = split.field(1).and_then(crate::value::parse_timestamp);
                Record::Unknown(Unknown {
                    source: Source::Collector(split),
                    record_type: other,
                    timestamp,
                    serial: timestamp.and_then(|_| text(split.field(2))),
                })
            }
        })
    }

    /// The record type (field 0).
    ///
    /// ```
    /// use sunpower_proto::Record;
    /// assert_eq!(Record::parse("102\tabc").unwrap().record_type(), 102);
    /// assert_eq!(Record::parse("999\twhatever").unwrap().record_type(), 999); // unknown, kept
    /// ```
    pub fn record_type(&self) -> u16 {
        match self {
            Record::Header(_) => 100,
            Record::Trailer(_) => 102,
            Record::SupervisorStatus(_) => 120,
            Record::SupervisorIdentity(_) => 122,
            Record::Inverter(_) => 130,
            Record::InverterStatus(_) => 131,
            Record::Meter(_) => 140,
            Record::MeterLegs(_) => 141,
            Record::Unknown(u) => u.record_type,
        }
    }

    /// The line's fields exactly as sent, for a record from a collector line; `None` for a
    /// record from a JSON source, which has no line.
    ///
    /// ```
    /// use sunpower_proto::Record;
    /// let record = Record::parse("102\tabc").unwrap();
    /// let raw = record.raw().unwrap();
    /// assert_eq!((raw.as_str(), raw.get(1)), ("102\tabc", Some("abc")));
    /// ```
    pub fn raw(&self) -> Option<RawFields<'a>> {
        self.source().raw()
    }

    /// Where the record came from.
    ///
    /// ```
    /// use sunpower_proto::{Record, Source};
    /// let record = Record::parse("102\tabc").unwrap();
    /// assert!(matches!(record.source(), Source::Collector(raw) if raw.len() == 2));
    /// assert_eq!(record.source().as_str(), "collector");
    /// ```
    pub fn source(&self) -> Source<'a> {
        *self.source_ref()
    }

    /// [`Record::source`], without a copy (a collector line's bounds are a few hundred bytes).
    #[inline]
    pub(crate) fn source_ref(&self) -> &Source<'a> {
        match self {
            Record::Header(r) => &r.source,
            Record::Trailer(r) => &r.source,
            Record::SupervisorStatus(r) => &r.source,
            Record::SupervisorIdentity(r) => &r.source,
            Record::Inverter(r) => &r.source,
            Record::InverterStatus(r) => &r.source,
            Record::Meter(r) => &r.source,
            Record::MeterLegs(r) => &r.source,
            Record::Unknown(r) => &r.source,
        }
    }

    /// The data timestamp (field 1) of data records; `None` for 100, 102, and unknown types
    /// whose field 1 is not a timestamp.
    ///
    /// ```
    /// use sunpower_proto::Record;
    /// let record = Record::parse("130\t20170107171000\t414051637009125\tAC_Module_Type_C\t18.5466\t0.0417\t245.1503\t0.3643\t0.044\t59.0692\t0.7733\t1.25\t59.9772\t0").unwrap();
    /// assert_eq!(record.timestamp().unwrap().to_rfc3339(), "2017-01-07T17:10:00+00:00");
    /// assert_eq!(Record::parse("102\tabc").unwrap().timestamp(), None);
    /// ```
    pub fn timestamp(&self) -> Option<DateTime<Utc>> {
        match self {
            Record::Header(_) | Record::Trailer(_) => None,
            Record::SupervisorStatus(r) => Some(r.timestamp),
            Record::SupervisorIdentity(r) => Some(r.timestamp),
            Record::Inverter(r) => Some(r.timestamp),
            Record::InverterStatus(r) => Some(r.timestamp),
            Record::Meter(r) => Some(r.timestamp),
            Record::MeterLegs(r) => Some(r.timestamp),
            Record::Unknown(r) => r.timestamp,
        }
    }

    /// The device serial (field 2) of data records.
    ///
    /// ```
    /// use sunpower_proto::Record;
    /// assert_eq!(Record::parse("130\t20170107171000\t414051637009125\tAC_Module_Type_C\t18.5466\t0.0417\t245.1503\t0.3643\t0.044\t59.0692\t0.7733\t1.25\t59.9772\t0").unwrap().serial(), Some("414051637009125"));
    /// assert_eq!(Record::parse("102\tabc").unwrap().serial(), None);
    /// ```
    pub fn serial(&self) -> Option<&'a str> {
        match self {
            Record::Header(_) | Record::Trailer(_) => None,
            Record::SupervisorStatus(r) => Some(r.serial),
            Record::SupervisorIdentity(r) => Some(r.serial),
            Record::Inverter(r) => Some(r.serial),
            Record::InverterStatus(r) => Some(r.serial),
            Record::Meter(r) => Some(r.serial),
            Record::MeterLegs(r) => Some(r.serial),
            Record::Unknown(r) => r.serial,
        }
    }

    /// How many fields this record type is known to have (for 130, in the form seen).
    ///
    /// ```
    /// use sunpower_proto::Record;
    /// assert_eq!(Record::parse("102\tabc").unwrap().known_field_count(), 2);
    /// assert_eq!(Record::parse("130\t20170107171000\t414051637009125\tAC_Module_Type_C\t18.5466\t0.0417\t245.1503\t0.3643\t0.044\t59.0692\t0.7733\t1.25\t59.9772\t0").unwrap().known_field_count(), 14); // the collapsed 130
    /// ```
    pub fn known_field_count(&self) -> usize {
        match self {
            Record::Header(_) => 5,
            Record::Trailer(_) => 2,
            Record::SupervisorStatus(_) => 12,
            Record::SupervisorIdentity(_) => 8,
            Record::Inverter(r) if r.form == InverterForm::Collapsed => 14,
            Record::Inverter(_) => 15,
            Record::InverterStatus(_) => 7,
            Record::Meter(_) | Record::MeterLegs(_) => 12,
            Record::Unknown(r) => r.source.raw().map_or(1, |raw| raw.len()),
        }
    }

    /// Fields beyond those this crate knows, as sent (newer firmware adds fields at the end);
    /// none for a record from a JSON source.
    ///
    /// ```
    /// use sunpower_proto::parse_line;
    /// let r = parse_line("102\ttoken\tnew-field").unwrap();
    /// assert_eq!(r.extra_fields().collect::<Vec<_>>(), ["new-field"]);
    /// ```
    pub fn extra_fields(&self) -> std::iter::Skip<std::str::Split<'a, char>> {
        match self.raw() {
            Some(raw) => raw.iter().skip(self.known_field_count()),
            // No line: nothing beyond field 0 of an empty one.
            None => "".split('\t').skip(1),
        }
    }

    /// Walks the typed fields in the order of the JSON output, with their JSON names.
    ///
    /// ```
    /// use sunpower_proto::{parse_line, FieldValue};
    /// let r = parse_line("102\tabc").unwrap();
    /// let mut seen = Vec::new();
    /// r.visit_fields(|name, value| seen.push((name, value)));
    /// assert_eq!(seen, [("token", FieldValue::Text(Some("abc")))]);
    /// ```
    pub fn visit_fields(&self, mut visit: impl FnMut(&'static str, FieldValue<'a>)) {
        self.visit_fields_at(|name, value, _| visit(name, value));
    }

    /// [`Record::visit_fields`] with, for each number read from a field of the line, that
    /// field's index in [`Record::raw`] (`None` for the other values), so that a writer can copy
    /// the field's text where it is already the value's canonical form.
    pub(crate) fn visit_fields_at(
        &self,
        mut visit: impl FnMut(&'static str, FieldValue<'a>, Option<usize>),
    ) {
        use FieldValue::{Decimal as D, Integer as I, Text as T, Time, Unsigned as U};
        match self {
            Record::Header(r) => {
                visit("supervisor_serial", T(r.supervisor_serial), None);
                visit("sent_at", Time(r.sent_at), None);
                visit("tag", T(r.tag), None);
                visit("version", T(r.version), None);
            }
            Record::Trailer(r) => visit("token", T(r.token), None),
            Record::SupervisorStatus(r) => {
                visit("timestamp", Time(Some(r.timestamp)), None);
                visit("serial", T(Some(r.serial)), None);
                visit("error_count", U(r.error_count), Some(3));
                visit("comm_errors", U(r.comm_errors), Some(4));
                visit("skipped_scans", U(r.skipped_scans), Some(5));
                visit("scan_time_s", D(r.scan_time_s), Some(6));
                visit("untransmitted", U(r.untransmitted), Some(7));
                visit("uptime_s", U(r.uptime_s), Some(8));
                visit("cpu_load", D(r.cpu_load), Some(9));
                visit("memory_used_kb", U(r.memory_used_kb), Some(10));
                visit("flash_available_kb", U(r.flash_available_kb), Some(11));
            }
            Record::SupervisorIdentity(r) => {
                visit("timestamp", Time(Some(r.timestamp)), None);
                visit("serial", T(Some(r.serial)), None);
                visit("model", T(r.model), None);
                visit("version_a", T(r.version_a), None);
                visit("version_b", T(r.version_b), None);
                visit("description", T(r.description), None);
                visit("family", T(r.family), None);
            }
            Record::Inverter(r) => {
                // From field 5 on, full-form field n is at n - 1 in the collapsed form.
                let shift = usize::from(r.form == InverterForm::Collapsed);
                visit("timestamp", Time(Some(r.timestamp)), None);
                visit("serial", T(Some(r.serial)), None);
                visit("model", T(r.model), None);
                visit("aux", I(r.aux), (shift == 0).then_some(4));
                visit(
                    "lifetime_energy_kwh",
                    D(r.lifetime_energy_kwh),
                    Some(5 - shift),
                );
                visit("ac_power_kw", D(r.ac_power_kw), Some(6 - shift));
                visit("ac_voltage_v", D(r.ac_voltage_v), Some(7 - shift));
                visit("ac_current_a", D(r.ac_current_a), Some(8 - shift));
                visit("dc_power_kw", D(r.dc_power_kw), Some(9 - shift));
                visit("dc_voltage_v", D(r.dc_voltage_v), Some(10 - shift));
                visit("dc_current_a", D(r.dc_current_a), Some(11 - shift));
                visit("heatsink_temp_c", D(r.heatsink_temp_c), Some(12 - shift));
                visit("frequency_hz", D(r.frequency_hz), Some(13 - shift));
                visit("status", I(r.status), Some(14 - shift));
            }
            Record::InverterStatus(r) => {
                visit("timestamp", Time(Some(r.timestamp)), None);
                visit("serial", T(Some(r.serial)), None);
                visit("model", T(r.model), None);
                visit("value_1", I(r.value_1), Some(4));
                visit("value_2", I(r.value_2), Some(5));
                visit("value_3", I(r.value_3), Some(6));
            }
            Record::Meter(r) => {
                visit("timestamp", Time(Some(r.timestamp)), None);
                visit("serial", T(Some(r.serial)), None);
                visit("model", T(r.model), None);
                visit("meter_kind", T(Some(r.meter_kind.as_str())), None);
                visit("ct_scale", D(r.ct_scale), Some(4));
                visit(
                    "lifetime_net_energy_kwh",
                    D(r.lifetime_net_energy_kwh),
                    Some(5),
                );
                visit("real_power_kw", D(r.real_power_kw), Some(6));
                visit("reactive_power_kvar", D(r.reactive_power_kvar), Some(7));
                visit("apparent_power_kva", D(r.apparent_power_kva), Some(8));
                visit("power_factor", D(r.power_factor), Some(9));
                visit("frequency_hz", D(r.frequency_hz), Some(10));
                visit("status", I(r.status), Some(11));
                // Only the JSON sources have these: collector records keep their key set.
                if r.import_energy_kwh.is_some() || r.export_energy_kwh.is_some() {
                    visit("import_energy_kwh", D(r.import_energy_kwh), None);
                    visit("export_energy_kwh", D(r.export_energy_kwh), None);
                }
                if r.lifetime_net_energy_resolution_kwh.is_some() {
                    visit(
                        "lifetime_net_energy_resolution_kwh",
                        D(r.lifetime_net_energy_resolution_kwh),
                        None,
                    );
                }
                if r.line_voltage_v.is_some() {
                    visit("line_voltage_v", D(r.line_voltage_v), None);
                }
                if r.role != MeterRole::Unknown
                    || (r.source.raw().is_none() && r.meter_kind == MeterKind::Consumption)
                {
                    visit("meter_role", T(Some(r.role.as_str())), None);
                }
            }
            Record::MeterLegs(r) => {
                visit("timestamp", Time(Some(r.timestamp)), None);
                visit("serial", T(Some(r.serial)), None);
                visit("model", T(r.model), None);
                visit("flag", I(r.flag), Some(4));
                visit("leg1_current_a", D(r.leg1_current_a), Some(5));
                visit("leg2_current_a", D(r.leg2_current_a), Some(6));
                visit("leg1_voltage_v", D(r.leg1_voltage_v), Some(7));
                visit("leg2_voltage_v", D(r.leg2_voltage_v), Some(8));
                visit("leg1_power_kw", D(r.leg1_power_kw), Some(9));
                visit("leg2_power_kw", D(r.leg2_power_kw), Some(10));
                visit("unknown_11", D(r.unknown_11), Some(11));
            }
            Record::Unknown(r) => {
                if r.timestamp.is_some() {
                    visit("timestamp", Time(r.timestamp), None);
                    visit("serial", T(r.serial), None);
                }
            }
        }
    }
}

fn parse_120<'a>(
    f: &RawFields<'a>,
    timestamp: DateTime<Utc>,
    p: &mut FieldProblems,
) -> FieldResult<SupervisorStatus<'a>> {
    Ok(SupervisorStatus {
        source: Source::Collector(*f),
        timestamp,
        serial: required_text(f.field(2), 2, "serial")?,
        error_count: kept(unsigned(f.field(3), 3, "error_count"), p),
        comm_errors: kept(unsigned(f.field(4), 4, "comm_errors"), p),
        skipped_scans: kept(unsigned(f.field(5), 5, "skipped_scans"), p),
        scan_time_s: kept(f.decimal(6, "scan_time_s"), p),
        untransmitted: kept(unsigned(f.field(7), 7, "untransmitted"), p),
        uptime_s: kept(unsigned(f.field(8), 8, "uptime_s"), p),
        cpu_load: kept(f.decimal(9, "cpu_load"), p),
        memory_used_kb: kept(unsigned(f.field(10), 10, "memory_used_kb"), p),
        flash_available_kb: kept(unsigned(f.field(11), 11, "flash_available_kb"), p),
    })
}

fn parse_130<'a>(
    f: &mut RawFields<'a>,
    timestamp: DateTime<Utc>,
    p: &mut FieldProblems,
) -> FieldResult<Inverter<'a>> {
    // Decided by the field count, as docs/protocol.md ("130: inverter interval") says: exactly 14 fields is the collapsed form.
    let (form, shift) = if f.count == 14 {
        (InverterForm::Collapsed, 1)
    } else {
        (InverterForm::Full, 0)
    };
    // Fields 1 to 3 never move; from field 5 on, full-form field n is at n - shift.
    let serial = required_text(f.field(2), 2, "serial")?;
    let model = text(f.field(3));
    let aux = match form {
        InverterForm::Full => kept(integer(f.field(4), 4, "aux"), p),
        InverterForm::Collapsed => None,
    };
    let mut d = [None; 9];
    f.decimals(
        5 - shift,
        &[
            "lifetime_energy_kwh",
            "ac_power_kw",
            "ac_voltage_v",
            "ac_current_a",
            "dc_power_kw",
            "dc_voltage_v",
            "dc_current_a",
            "heatsink_temp_c",
            "frequency_hz",
        ],
        &mut d,
        p,
    );
    Ok(Inverter {
        source: Source::Collector(*f),
        form,
        timestamp,
        serial,
        model,
        aux,
        lifetime_energy_kwh: d[0],
        ac_power_kw: d[1],
        ac_voltage_v: d[2],
        ac_current_a: d[3],
        dc_power_kw: d[4],
        dc_voltage_v: d[5],
        dc_current_a: d[6],
        heatsink_temp_c: d[7],
        frequency_hz: d[8],
        status: kept(integer(f.field(14 - shift), 14 - shift, "status"), p),
    })
}

fn parse_140<'a>(
    f: &mut RawFields<'a>,
    timestamp: DateTime<Utc>,
    p: &mut FieldProblems,
) -> FieldResult<Meter<'a>> {
    let serial = required_text(f.field(2), 2, "serial")?;
    let model = text(f.field(3));
    let mut d = [None; 7];
    f.decimals(
        4,
        &[
            "ct_scale",
            "lifetime_net_energy_kwh",
            "real_power_kw",
            "reactive_power_kvar",
            "apparent_power_kva",
            "power_factor",
            "frequency_hz",
        ],
        &mut d,
        p,
    );
    Ok(Meter {
        source: Source::Collector(*f),
        timestamp,
        serial,
        model,
        meter_kind: MeterKind::from_serial(serial),
        role: MeterRole::Unknown,
        ct_scale: d[0],
        lifetime_net_energy_kwh: d[1],
        real_power_kw: d[2],
        reactive_power_kvar: d[3],
        apparent_power_kva: d[4],
        power_factor: d[5],
        frequency_hz: d[6],
        status: kept(integer(f.field(11), 11, "status"), p),
        import_energy_kwh: None,
        export_energy_kwh: None,
        lifetime_net_energy_resolution_kwh: None,
        line_voltage_v: None,
    })
}

fn parse_141<'a>(
    f: &mut RawFields<'a>,
    timestamp: DateTime<Utc>,
    p: &mut FieldProblems,
) -> FieldResult<MeterLegs<'a>> {
    let serial = required_text(f.field(2), 2, "serial")?;
    let model = text(f.field(3));
    let flag = kept(integer(f.field(4), 4, "flag"), p);
    let mut d = [None; 7];
    f.decimals(
        5,
        &[
            "leg1_current_a",
            "leg2_current_a",
            "leg1_voltage_v",
            "leg2_voltage_v",
            "leg1_power_kw",
            "leg2_power_kw",
            "unknown_11",
        ],
        &mut d,
        p,
    );
    Ok(MeterLegs {
        source: Source::Collector(*f),
        timestamp,
        serial,
        model,
        flag,
        leg1_current_a: d[0],
        leg2_current_a: d[1],
        leg1_voltage_v: d[2],
        leg2_voltage_v: d[3],
        leg1_power_kw: d[4],
        leg2_power_kw: d[5],
        unknown_11: d[6],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn split_matches_str_split_on_any_text(line in "[\t\u{8}\u{9}\u{89}a0é .\u{1}\u{0}-]{0,80}") {
            let split = RawFields::new(&line);
            let want: Vec<&str> = line.split('\t').collect();
            proptest::prop_assert_eq!(split.len(), want.len());
            let got: Vec<&str> = (0..split.len().min(KNOWN_MAX)).map(|i| split.field(i).unwrap()).collect();
            proptest::prop_assert_eq!(&got[..], &want[..want.len().min(KNOWN_MAX)]);
            let all: Vec<&str> = (0..want.len() + 1).map_while(|i| split.get(i)).collect();
            proptest::prop_assert_eq!(all, want);
            let escapes = line.bytes().any(|b| b != b'\t' && (b < 0x20 || b == b'"' || b == b'\\'));
            proptest::prop_assert_eq!(split.is_plain(), !escapes);
        }

        #[test]
        fn decimals_in_one_go_equal_the_fields_one_by_one(
            fields in proptest::collection::vec(
                "|0|-0.76|245.1503|17.5820|-245.8962|2868.0454|123456789.5|1e3|1.2.3|x|-|\\.|5\\.|\\.5|123456789012345678901.5",
                0..16,
            ),
            first in 0usize..12,
        ) {
            let line = fields.join("\t");
            let mut split = RawFields::new(&line);
            const NAMES: [&str; 7] = ["a", "b", "c", "d", "e", "f", "g"];
            let each: Vec<FieldResult<Option<f64>>> = (0..7)
                .map(|i| decimal(split.field(first + i), first + i, NAMES[i]))
                .collect();
            // Each bad field is `None` with its error; the others keep their values.
            let want_values: Vec<Option<f64>> = each.iter().map(|r| r.clone().ok().flatten()).collect();
            let want_problems: Vec<ErrorKind> = each.into_iter().filter_map(Result::err).collect();
            let mut values = [None; 7];
            let mut problems = FieldProblems::new();
            split.decimals(first, &NAMES, &mut values, &mut problems);
            proptest::prop_assert_eq!(Vec::from(values), want_values);
            proptest::prop_assert_eq!(problems, want_problems);
        }

        #[test]
        fn tab_bits_flags_exactly_the_tabs(word in proptest::array::uniform8(proptest::num::u8::ANY)) {
            let got = tab_bits(load(&word));
            let want = word
                .iter()
                .enumerate()
                .filter(|&(_, &b)| b == b'\t')
                .fold(0u64, |m, (i, _)| m | 0x80 << (8 * i));
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn tab_bits_marks_every_tab_and_nothing_else() {
        for byte in 0..=255u8 {
            for place in 0..8 {
                let mut word = [b'a'; 8];
                word[place] = byte;
                let expected = if byte == b'\t' {
                    0x80 << (8 * place)
                } else {
                    0
                };
                assert_eq!(
                    tab_bits(u64::from_le_bytes(word)),
                    expected,
                    "{byte} at {place}"
                );
            }
        }
        // Neighbours that make the classic zero-byte test report a false byte (0x08 after a
        // TAB, 0x09 ^ 0x01) are not marked.
        let word = u64::from_le_bytes([9, 8, 9, 9, 0x89, 0, 0xff, 9]);
        assert_eq!(tab_bits(word), 0x8000_0000_8080_0080);
    }
}
