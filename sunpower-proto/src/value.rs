//! Field-level parsers (nom): timestamps, decimals and integers, strict about their form.

use chrono::{DateTime, NaiveDate, Utc};
use nom::branch::alt;
use nom::bytes::complete::take_while_m_n;
use nom::character::complete::{char, digit0, digit1, one_of};
use nom::combinator::{all_consuming, opt, recognize};
use nom::{IResult, Parser};

use crate::error::{excerpt, ErrorKind, Expected};

/// A parsed field, or the error for it; the caller adds the line position.
pub(crate) type FieldResult<T> = Result<T, ErrorKind>;

fn two_digits(input: &str) -> IResult<&str, u32> {
    take_while_m_n(2, 2, |c: char| c.is_ascii_digit())
        .map(|s: &str| {
            s.bytes()
                .fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0'))
        })
        .parse(input)
}

fn timestamp_parts(input: &str) -> IResult<&str, (i32, u32, u32, u32, u32, u32)> {
    let year = take_while_m_n(4, 4, |c: char| c.is_ascii_digit()).map(|s: &str| {
        s.bytes()
            .fold(0i32, |acc, b| acc * 10 + i32::from(b - b'0'))
    });
    all_consuming((
        year, two_digits, two_digits, two_digits, two_digits, two_digits,
    ))
    .parse(input)
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
    let (_, (y, mo, d, h, mi, s)) = timestamp_parts(value).ok()?;
    NaiveDate::from_ymd_opt(y, mo, d)?
        .and_hms_opt(h, mi, s)
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

fn integer_syntax(input: &str) -> IResult<&str, &str> {
    all_consuming(recognize((opt(one_of("+-")), digit1))).parse(input)
}

fn invalid(index: usize, name: &'static str, expected: Expected, found: &str) -> ErrorKind {
    ErrorKind::InvalidField {
        index,
        name,
        expected,
        found: excerpt(found),
    }
}

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
        Some(text) => integer_syntax(text)
            .ok()
            .and_then(|_| text.parse::<i64>().ok())
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
        Some(text) => integer_syntax(text)
            .ok()
            .filter(|_| !text.starts_with('-'))
            .and_then(|_| text.parse::<u64>().ok())
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

/// A text field: empty or absent is `None`.
pub(crate) fn text(field: Option<&str>) -> Option<&str> {
    field.filter(|t| !t.is_empty())
}

/// The record type in field 0.
pub(crate) fn record_type(field: &str) -> FieldResult<u16> {
    let ok = !field.is_empty() && field.len() <= 5 && field.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| field.parse::<u16>().ok())
        .flatten()
        .ok_or_else(|| invalid(0, "record_type", Expected::RecordType, field))
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
    }
}
