//! Field-level parsers (nom): timestamps, decimals and integers, strict about their form.

use chrono::{DateTime, NaiveDate, Utc};
use nom::branch::alt;
use nom::character::complete::{char, digit0, digit1, one_of};
use nom::combinator::{all_consuming, opt, recognize};
use nom::{IResult, Parser};

use crate::error::{excerpt, ErrorKind, Expected};

/// A parsed field, or the error for it; the caller adds the line position.
pub(crate) type FieldResult<T> = Result<T, ErrorKind>;

/// Two ASCII digits at `at` as a number.
fn two_digits(bytes: &[u8], at: usize) -> Option<u32> {
    let tens = bytes.get(at)?.wrapping_sub(b'0');
    let ones = bytes.get(at + 1)?.wrapping_sub(b'0');
    (tens < 10 && ones < 10).then(|| u32::from(tens) * 10 + u32::from(ones))
}

/// Parses `YYYYMMDDhhmmss` (UTC), checking that the date exists and the time of day is real.
///
/// ```
/// use sunpower_proto::parse_timestamp;
/// let t = parse_timestamp("20170107171000").unwrap();
/// assert_eq!(t.to_rfc3339(), "2017-01-07T17:10:00+00:00");
/// assert!(parse_timestamp("20170230120000").is_none()); // 30 February
/// assert!(parse_timestamp("20170107240000").is_none()); // hour 24
/// ```
pub fn parse_timestamp(value: &str) -> Option<DateTime<Utc>> {
    // Every record carries one: read by hand, fourteen digits and no more; chrono checks that
    // the date exists and the time of day is real.
    let b = value.as_bytes();
    if b.len() != 14 {
        return None;
    }
    let year = two_digits(b, 0)? * 100 + two_digits(b, 2)?;
    let date = NaiveDate::from_ymd_opt(year as i32, two_digits(b, 4)?, two_digits(b, 6)?)?;
    date.and_hms_opt(two_digits(b, 8)?, two_digits(b, 10)?, two_digits(b, 12)?)
        .map(|naive| naive.and_utc())
}

fn decimal_syntax(input: &str) -> IResult<&str, &str> {
    all_consuming(recognize((
        opt(one_of("+-")),
        alt((
            recognize((digit1, opt((char('.'), digit0)))),
            recognize((char('.'), digit1)),
        )),
        opt((one_of("eE"), opt(one_of("+-")), digit1)),
    )))
    .parse(input)
}

fn invalid(index: usize, name: &'static str, expected: Expected, found: &str) -> ErrorKind {
    ErrorKind::InvalidField {
        index,
        name,
        expected,
        found: excerpt(found),
    }
}

/// Exact powers of ten: every one up to 10^22 is a double without rounding.
pub(crate) const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The plain decimals the supervisor writes (`-5.5`, `245.1503`), without a general float parser:
/// when the digits make an integer of at most 2^53 and there are at most 22 after the point,
/// both the digits and `10^k` are exact doubles and one division rounds correctly (Clinger's
/// fast path), so the result is the one `str::parse` gives. `None` sends anything else to the
/// full grammar.
pub(crate) fn plain_decimal(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    let (negative, digits) = match bytes.first()? {
        b'-' => (true, &bytes[1..]),
        b'+' => (false, &bytes[1..]),
        _ => (false, bytes),
    };
    // More than 19 digits are refused below; wrapping arithmetic keeps the 20th from
    // overflowing before that check (found by the record_line fuzz target).
    if digits.len() > 20 {
        return None;
    }
    let mut mantissa: u64 = 0;
    let mut rest = digits;
    while let [d @ b'0'..=b'9', tail @ ..] = rest {
        mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
        rest = tail;
    }
    let whole_digits = digits.len() - rest.len();
    let mut scale = 0;
    if let [b'.', tail @ ..] = rest {
        rest = tail;
        while let [d @ b'0'..=b'9', tail @ ..] = rest {
            mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
            rest = tail;
            scale += 1;
        }
    }
    if !rest.is_empty() || whole_digits + scale == 0 || whole_digits + scale > 19 {
        return None;
    }
    if mantissa > 1 << 53 {
        return None;
    }
    let value = mantissa as f64 / POW10[scale];
    Some(if negative { -value } else { value })
}

/// The high bit of each byte of `word` that is zero, exactly: adding 0x7f to the low seven bits
/// of a byte cannot carry into the next one, so no byte's result depends on its neighbours.
pub(crate) fn zero_bytes(word: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    !(((word & LOW7).wrapping_add(LOW7)) | word | LOW7)
}

/// `byte` in every byte of a word.
pub(crate) const fn splat(byte: u8) -> u64 {
    u64::from_le_bytes([byte; 8])
}

/// A plain decimal of `len` bytes (1 to 8: an optional sign, digits, at most one point) held in
/// the last `len` bytes of `word` (loaded little-endian, so the text reads from the low byte
/// up), decoded eight bytes at a time: the point is taken out, the bytes before the digits
/// count as `0` digits, the eight digits are checked and combined with three multiplications. The
/// mantissa is below 10^8 and the scale at most 7, so this is Clinger's exact fast path, as in
/// [`plain_decimal`]. `None` for anything else (no digit, a second point, a sign alone or not
/// first, any other byte), which the full path then decides.
#[inline]
pub(crate) fn swar_decimal(word: u64, len: usize) -> Option<f64> {
    if !(1..=8).contains(&len) {
        return None;
    }
    // The bytes of the text: the top `len` of the word; a sign drops out of them.
    let mut digits_mask = u64::MAX << (64 - 8 * len);
    let first = (word >> (64 - 8 * len)) as u8;
    let negative = first == b'-';
    if negative || first == b'+' {
        digits_mask <<= 8;
    }
    let mut word = word;
    let mut scale = 0;
    let points = zero_bytes(word ^ splat(b'.')) & digits_mask;
    if points != 0 {
        // The first point, at byte `at`: the bytes after it are the scale; the bytes before it
        // move up one byte over it, and there is one digit byte fewer.
        let at = points.trailing_zeros() / 8;
        scale = 7 - at as usize;
        let below = (1u64 << (8 * at)) - 1;
        let above = !((below << 8) | 0xff);
        word = (word & above) | ((word & below) << 8);
        digits_mask <<= 8;
    }
    if digits_mask == 0 {
        return None; // no digit at all: ".", "-", "+.", ...
    }
    // Digit values, and 0 for the bytes before the digits (`'0'..='9'` are 0x30 to 0x39).
    let mut v = (word ^ splat(b'0')) & digits_mask;
    // Every byte at most 9: its high bit clear, and still clear after adding 0x76 (a byte that
    // carries into the next has its own high bit set, so carries cannot hide a bad byte).
    if (v.wrapping_add(splat(0x76)) | v) & splat(0x80) != 0 {
        return None;
    }
    // Pairs, then fours, then all eight (the usual eight-digit SWAR combination).
    v = v * 10 + (v >> 8);
    const PAIRS: u64 = 0x0000_00ff_0000_00ff;
    v = ((v & PAIRS).wrapping_mul(100 + (1_000_000 << 32))
        + ((v >> 16) & PAIRS).wrapping_mul(1 + (10_000 << 32)))
        >> 32;
    // Dividing by -10^k rounds the magnitude as dividing by 10^k does (IEEE 754 signs are
    // exact), so this is `-(v / 10^k)`, without a branch that the fields whose sign changes from
    // line to line would mispredict.
    Some(v as f64 / SIGNED_POW10[usize::from(negative)][scale])
}

/// How many bytes of `text`, a plain decimal of 3 to 8 bytes that [`swar_decimal`] reads (the
/// last bytes of `word`), are what serde_json prints for its value: all of them, or all but the
/// zeros that end its fraction after its first digit (`5.50` prints as `5.5`, `12.00` as
/// `12.0`: the same value, and the text without them is the canonical one); 0 when the text is
/// not that form (a sign `+`, no point, a point without a digit on either side, a leading zero
/// but in `0.`, more than four zeros after `0.`). At most 7 digits are at most 7 significant
/// ones, so the digits are the shortest that round to the value, which zmij prints (see
/// `json::prints_as`).
#[inline]
pub(crate) fn printed_len(word: u64, text: &[u8]) -> usize {
    let n = text.len();
    if !(3..=8).contains(&n) {
        return 0;
    }
    // swar_decimal took the form: only its sign and the place of its point are left to see.
    let body = match text {
        [b'+', ..] => return 0,
        [b'-', rest @ ..] => rest,
        _ => text,
    };
    let points = zero_bytes(word ^ splat(b'.')) >> (8 * (8 - body.len()));
    // A point with a digit on each side; a leading zero only as `0.`.
    let point = points.trailing_zeros() as usize / 8;
    let last = body.len() - 1;
    if points == 0 || point == 0 || point == last || (body[0] == b'0' && point != 1) {
        return 0;
    }
    // The `0`s that end the text (its last bytes are the word's top ones), all but the
    // fraction's first digit: then the last digit is not `0`, or the fraction is `0` alone.
    let zeros = (!zero_bytes(word ^ splat(b'0')) & splat(0x80)).leading_zeros() as usize / 8;
    let dropped = zeros.min(last - point - 1);
    // At most four zeros between `0.` and the first significant digit.
    if body[..body.len() - dropped].starts_with(b"0.00000") {
        0
    } else {
        n - dropped
    }
}

/// `POW10[..8]`, then the same negated.
const SIGNED_POW10: [[f64; 8]; 2] = [
    [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7],
    [-1e0, -1e1, -1e2, -1e3, -1e4, -1e5, -1e6, -1e7],
];

/// A decimal quantity: empty (or absent) is "not reported"; `inf`, `nan` and hex are refused,
/// so every value is finite.
pub(crate) fn decimal(
    field: Option<&str>,
    index: usize,
    name: &'static str,
) -> FieldResult<Option<f64>> {
    match field {
        None | Some("") => Ok(None),
        Some(text) => {
            if let Some(value) = plain_decimal(text) {
                return Ok(Some(value));
            }
            let parsed = decimal_syntax(text)
                .ok()
                .and_then(|_| text.parse::<f64>().ok())
                .filter(|v| v.is_finite());
            parsed
                .map(Some)
                .ok_or_else(|| invalid(index, name, Expected::Decimal, text))
        }
    }
}

/// A signed integer; empty is "not reported".
pub(crate) fn integer(
    field: Option<&str>,
    index: usize,
    name: &'static str,
) -> FieldResult<Option<i64>> {
    match field {
        None | Some("") => Ok(None),
        // `i64::from_str` takes exactly an optional sign and digits: the grammar wanted here.
        Some(text) => text
            .parse::<i64>()
            .ok()
            .map(Some)
            .ok_or_else(|| invalid(index, name, Expected::Integer, text)),
    }
}

/// An unsigned counter; empty is "not reported".
pub(crate) fn unsigned(
    field: Option<&str>,
    index: usize,
    name: &'static str,
) -> FieldResult<Option<u64>> {
    match field {
        None | Some("") => Ok(None),
        // `u64::from_str` takes an optional `+` and digits, and refuses `-0` as any sign.
        Some(text) => text
            .parse::<u64>()
            .ok()
            .map(Some)
            .ok_or_else(|| invalid(index, name, Expected::UnsignedInteger, text)),
    }
}

/// A timestamp that may be absent (empty = not reported) but must be valid when present.
pub(crate) fn optional_timestamp(
    field: Option<&str>,
    index: usize,
    name: &'static str,
) -> FieldResult<Option<DateTime<Utc>>> {
    match field {
        None | Some("") => Ok(None),
        Some(text) => parse_timestamp(text)
            .map(Some)
            .ok_or_else(|| invalid(index, name, Expected::Timestamp, text)),
    }
}

/// A timestamp the record cannot do without.
pub(crate) fn required_timestamp(
    field: Option<&str>,
    index: usize,
    name: &'static str,
) -> FieldResult<DateTime<Utc>> {
    optional_timestamp(field, index, name)?.ok_or(ErrorKind::MissingField {
        index,
        name,
        expected: Expected::Timestamp,
    })
}

/// The timestamp of the previous line and its text: the lines of one interval share their
/// timestamp, so most lines of a post repeat the one before, and comparing 14 bytes costs far
/// less than decoding and checking a date.
#[derive(Debug, Clone, Default)]
pub(crate) struct LastTimestamp {
    text: [u8; 14],
    time: Option<DateTime<Utc>>,
}

impl LastTimestamp {
    /// The required timestamp of a data record (field 1), as `required_timestamp` gives it.
    #[inline]
    pub(crate) fn required(&mut self, field: Option<&str>) -> FieldResult<DateTime<Utc>> {
        match (field, self.time) {
            (Some(text), Some(time)) if text.as_bytes() == self.text => Ok(time),
            _ => self.decode(field),
        }
    }

    /// A timestamp other than the last one, remembered when it is valid.
    #[inline(never)]
    fn decode(&mut self, field: Option<&str>) -> FieldResult<DateTime<Utc>> {
        let time = required_timestamp(field, 1, "timestamp")?;
        // Valid, so fourteen bytes.
        if let Some(text) = field.and_then(|t| t.as_bytes().try_into().ok()) {
            *self = LastTimestamp {
                text,
                time: Some(time),
            };
        }
        Ok(time)
    }
}

/// A text field the record cannot do without (a serial).
pub(crate) fn required_text<'a>(
    field: Option<&'a str>,
    index: usize,
    name: &'static str,
) -> FieldResult<&'a str> {
    match field {
        None | Some("") => Err(ErrorKind::MissingField {
            index,
            name,
            expected: Expected::NonEmpty,
        }),
        Some(text) => Ok(text),
    }
}

/// The resolution of a decimal field as sent: `607` is 1, `18.5466` is 0.0001.
#[cfg(any(feature = "intervals", feature = "devicelist"))]
pub(crate) fn resolution(field: Option<&str>) -> Option<f64> {
    let field = field?.trim();
    if field.is_empty() || field.contains(['e', 'E']) {
        return None;
    }
    let decimals = field.split_once('.').map_or(0, |(_, d)| d.len()).min(12);
    Some(10f64.powi(-(decimals as i32)))
}

/// A text field: empty or absent is `None`.
pub(crate) fn text(field: Option<&str>) -> Option<&str> {
    field.filter(|t| !t.is_empty())
}

/// The record type in field 0.
pub(crate) fn record_type(field: &str) -> FieldResult<u16> {
    // One to five digits that make at most 65535, read by hand: `u16::from_str` costs several
    // times more for the three digits every line starts with.
    let digits = field.as_bytes();
    let mut value = u32::MAX; // refused unless set below
    if (1..=5).contains(&digits.len()) {
        value = 0;
        for &b in digits {
            let digit = b.wrapping_sub(b'0');
            if digit > 9 {
                value = u32::MAX;
                break;
            }
            value = value * 10 + u32::from(digit);
        }
    }
    u16::try_from(value).map_err(|_| invalid(0, "record_type", Expected::RecordType, field))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_checks_every_part_for_any_year() {
        assert!(parse_timestamp("20170107171000").is_some());
        assert!(parse_timestamp("20260101000000").is_some());
        assert!(parse_timestamp("19990101000000").is_some());
        assert!(parse_timestamp("20240229235959").is_some()); // leap day
        assert!(parse_timestamp("20230229000000").is_none());
        assert!(parse_timestamp("20171301000000").is_none()); // month 13
        assert!(parse_timestamp("20170100000000").is_none()); // day 0
        assert!(parse_timestamp("20170101006000").is_none()); // minute 60
        assert!(parse_timestamp("20170101000060").is_none()); // second 60
        assert!(parse_timestamp("2017010100000").is_none()); // 13 digits
        assert!(parse_timestamp("201701010000000").is_none()); // 15 digits
        assert!(parse_timestamp("2017-1-01000000").is_none());
        assert!(parse_timestamp("２０17010100000").is_none());
    }

    #[test]
    fn decimals_accept_plain_forms_and_refuse_the_rest() {
        let d = |s| decimal(Some(s), 5, "x");
        assert_eq!(d("18.5466"), Ok(Some(18.5466)));
        assert_eq!(d("-5.5"), Ok(Some(-5.5)));
        assert_eq!(d("0"), Ok(Some(0.0)));
        assert_eq!(d(".5"), Ok(Some(0.5)));
        assert_eq!(d("5."), Ok(Some(5.0)));
        assert_eq!(d("1e3"), Ok(Some(1000.0)));
        assert_eq!(d(""), Ok(None));
        for bad in [
            "nan", "inf", "-", ".", "1.2.3", " 1", "1 ", "0x10", "1e999", "--1",
        ] {
            assert!(d(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn fast_decimals_equal_the_standard_parser() {
        for text in [
            "0",
            "-0",
            "0.0417",
            "245.1503",
            "-5.5",
            "59.9772",
            "18.5466",
            "9007199254740992",
            "123456789.1234567",
            ".5",
            "5.",
            "+3.25",
            "0.1",
            "0.3",
            "123456789012345.6",
        ] {
            let fast = plain_decimal(text).unwrap_or_else(|| panic!("{text} not fast"));
            assert_eq!(
                fast.to_bits(),
                text.parse::<f64>().unwrap().to_bits(),
                "{text}"
            );
        }
        // Beyond the exact range: left to the full parser, which gives the same value.
        for text in [
            "9007199254740993",
            "1e5",
            "12345678901234567890",
            "1.00000000000000000000001",
            "123456789.123456789",
            "20170107174051112141",
            "99999999999999999999",
        ] {
            assert!(plain_decimal(text).is_none(), "{text}");
            assert_eq!(
                decimal(Some(text), 1, "x").unwrap().unwrap().to_bits(),
                text.parse::<f64>().unwrap().to_bits()
            );
        }
        for bad in ["", "-", ".", "+", "1.2.3", "1-2", "1 ", "--1"] {
            assert!(plain_decimal(bad).is_none(), "{bad:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_plain_decimal_decodes_as_the_standard_parser(
            int in "[0-9]{1,17}",
            frac in "[0-9]{0,23}",
            negative in proptest::bool::ANY,
        ) {
            let text = format!("{}{int}.{frac}", if negative { "-" } else { "" });
            let ours = decimal(Some(&text), 1, "x").unwrap().unwrap();
            proptest::prop_assert_eq!(ours.to_bits(), text.parse::<f64>().unwrap().to_bits());
        }
    }

    /// Whether `text` is an optional sign, digits and at most one point, with a digit somewhere.
    fn is_plain(text: &str) -> bool {
        let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
        unsigned.bytes().filter(|&b| b == b'.').count() <= 1
            && unsigned.bytes().any(|b| b.is_ascii_digit())
            && unsigned.bytes().all(|b| b == b'.' || b.is_ascii_digit())
    }

    /// `swar_decimal` as a line's decoding calls it: on the eight bytes that end with the text.
    fn swar_in_line(prefix: &str, text: &str) -> Option<f64> {
        let line = format!("{prefix}{text}");
        let mut word = [0; 8];
        word.copy_from_slice(&line.as_bytes()[line.len() - 8..]);
        swar_decimal(u64::from_le_bytes(word), text.len())
    }

    #[test]
    fn swar_decimals_equal_the_standard_parser() {
        for text in [
            "0", "-0", "+0", "5.", ".5", "-.5", "0.0417", "245.1503", "-5.5", "-0.76", "99999999",
            "9999999.", ".9999999", "-9999999", "+.000001", "00000001", "1.000000",
        ] {
            let fast = swar_in_line("130	2017", text).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(
                fast.to_bits(),
                text.parse::<f64>().unwrap().to_bits(),
                "{text}"
            );
        }
        for other in [
            "",
            ".",
            "-",
            "+",
            "-.",
            "1.2.3",
            "..5",
            "1-2",
            "--1",
            "+-1",
            "1+",
            "1e5",
            " 1",
            "1\t",
            "123456789",
            "-12345678",
            "0x10",
            "inf",
            "nan",
            "1:",
            "1/",
            "a",
        ] {
            assert!(
                swar_in_line("\t\t\t\t\t\t\t\t", other).is_none(),
                "{other:?}"
            );
        }
    }

    #[test]
    fn swar_decimals_refuse_every_other_byte_anywhere() {
        for byte in 0..=255u8 {
            for at in 0..4 {
                let mut text = *b"12.5";
                text[at] = byte;
                let mut line = *b"\t\t\t\t1234";
                line[4..].copy_from_slice(&text);
                let fast = swar_decimal(u64::from_le_bytes(line), 4);
                match std::str::from_utf8(&text).ok().filter(|t| is_plain(t)) {
                    Some(t) => assert_eq!(
                        fast.map(f64::to_bits),
                        Some(t.parse::<f64>().unwrap().to_bits())
                    ),
                    None => assert_eq!(fast, None, "{text:?}"),
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn swar_decimals_decode_as_the_full_parser(
            prefix in "[-+0-9.\t a]{8}",
            text in "[-+]?[0-9]{0,8}[.]?[0-9]{0,8}|[-+0-9.eE \t\u{0}/:a\u{7f}é\u{ff}]{0,9}",
        ) {
            let fast = swar_in_line(&prefix, &text);
            let full = decimal(Some(&text), 1, "x");
            if let Some(value) = fast {
                let Ok(Some(want)) = full else {
                    return Err(proptest::test_runner::TestCaseError::fail(format!(
                        "{text:?}: fast {value}, full {full:?}"
                    )));
                };
                proptest::prop_assert_eq!(value.to_bits(), want.to_bits(), "{:?}", text);
            } else {
                // Only what the fast path is not for goes to the full parser.
                proptest::prop_assert!(text.len() > 8 || !is_plain(&text), "{:?}", text);
            }
        }
    }

    #[test]
    fn integers_are_strict_and_overflow_is_an_error() {
        assert_eq!(integer(Some("-3"), 1, "x"), Ok(Some(-3)));
        assert_eq!(unsigned(Some("81666"), 1, "x"), Ok(Some(81666)));
        assert!(unsigned(Some("-1"), 1, "x").is_err());
        assert!(integer(Some("1.0"), 1, "x").is_err());
        assert!(unsigned(Some("99999999999999999999999"), 1, "x").is_err());
    }

    #[test]
    fn record_type_is_digits_only() {
        assert_eq!(record_type("130"), Ok(130));
        assert_eq!(record_type("170"), Ok(170));
        assert!(record_type("13a").is_err());
        assert!(record_type("").is_err());
        assert!(record_type("999999").is_err());
        assert!(record_type("99999999999").is_err());
        assert_eq!(record_type("00130"), Ok(130));
        assert_eq!(record_type("65535"), Ok(65535));
        assert!(record_type("65536").is_err());
        assert!(record_type("+130").is_err());
        assert!(record_type("-0").is_err());
    }

    proptest::proptest! {
        #[test]
        fn record_type_is_the_plain_digits_rule(field in "[0-9+\\-a ]{0,7}|[0-9]{1,6}") {
            let plain = (!field.is_empty()
                && field.len() <= 5
                && field.bytes().all(|b| b.is_ascii_digit()))
            .then(|| field.parse::<u16>().ok())
            .flatten();
            proptest::prop_assert_eq!(record_type(&field).ok(), plain);
        }
    }
}
