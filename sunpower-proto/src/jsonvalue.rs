//! Bounded JSON reading shared by the DeviceList and varserver decoders: values are visited as
//! they are parsed (serde visitors over `serde_json`), so no document is ever held as one
//! `serde_json::Value`, and every container is counted against a budget.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// A JSON value with containers left unread: what a varserver path or field holds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar<'de> {
    Null,
    Bool(bool),
    /// A JSON number, as text (`Display` of the parsed number reads back to the same value).
    Number(String),
    Text(Cow<'de, str>),
    /// An object or array, skipped; the number of its members.
    Container(usize),
    /// A string or number longer than the limit, not copied: its length as written, its first
    /// bytes as written (at most the limit, escapes left as they are), and whether anything
    /// shaped like a MAC address is anywhere in it.
    #[cfg(feature = "varserver")]
    Long {
        len: usize,
        head: &'de str,
        mac: bool,
    },
}

impl Scalar<'_> {
    /// The value as field text: strings trimmed, numbers as written; `None` for null, empty,
    /// booleans and containers.
    #[cfg(feature = "varserver")]
    pub(crate) fn text(&self) -> Option<Cow<'_, str>> {
        match self {
            Scalar::Number(n) => Some(Cow::Borrowed(n)),
            Scalar::Text(t) if !t.trim().is_empty() => Some(Cow::Borrowed(t.trim())),
            Scalar::Long { head, .. } => Some(Cow::Borrowed(head)),
            _ => None,
        }
    }

    /// Whether the value holds anything shaped like a MAC address, which no output may echo.
    #[cfg(feature = "varserver")]
    pub(crate) fn has_mac(&self) -> bool {
        match self {
            Scalar::Number(t) => looks_like_mac(t),
            Scalar::Text(t) => looks_like_mac(t),
            Scalar::Long { mac, .. } => *mac,
            _ => false,
        }
    }

    /// A value as written (`raw`), copying at most `max` bytes of a string or number: a longer
    /// one is [`Scalar::Long`]. Numbers keep their text, never range-checked (`1e400` is a
    /// number here; the field that wants it says it cannot be read).
    #[cfg(feature = "varserver")]
    pub(crate) fn from_raw<'de>(raw: &'de serde_json::value::RawValue, max: usize) -> Scalar<'de> {
        let text = raw.get();
        match text.as_bytes().first() {
            Some(b'"') if text.len() - 2 > max => Scalar::Long {
                len: text.len() - 2,
                head: head(&text[1..text.len() - 1], max),
                mac: looks_like_mac(text),
            },
            Some(b'-' | b'0'..=b'9') if text.len() > max => Scalar::Long {
                len: text.len(),
                head: head(text, max),
                mac: false,
            },
            Some(b'-' | b'0'..=b'9') => Scalar::Number(text.to_owned()),
            // Strings are borrowed when they have no escapes; containers are only counted
            // (their numbers skipped, not parsed); the text was already read once as JSON.
            _ => serde_json::from_str(text).unwrap_or(Scalar::Null),
        }
    }

    /// A short description for error messages, never a copy of a container.
    pub(crate) fn describe(&self) -> String {
        match self {
            Scalar::Null => "null".to_owned(),
            Scalar::Bool(b) => b.to_string(),
            Scalar::Number(n) => crate::error::excerpt(n),
            Scalar::Text(t) => crate::error::excerpt(t),
            Scalar::Container(_) => "an object or array".to_owned(),
            #[cfg(feature = "varserver")]
            Scalar::Long { len, head, .. } => {
                format!("{} ({len} bytes)", crate::error::excerpt(head))
            }
        }
    }
}

/// The first `max` bytes of `text`, cut at a character boundary.
#[cfg(feature = "varserver")]
fn head(text: &str, max: usize) -> &str {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Scalar::Number(v.to_string()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Scalar::Number(v.to_string()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Scalar::Number(v.to_string()))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Scalar::Text(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Scalar::Text(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Scalar::Text(Cow::Owned(v)))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut n = 0;
        while seq.next_element::<IgnoredAny>()?.is_some() {
            n += 1;
        }
        Ok(Scalar::Container(n))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut n = 0;
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {
            n += 1;
        }
        Ok(Scalar::Container(n))
    }
}

impl<'de> de::Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ScalarVisitor)
    }
}

/// A JSON object key, borrowed from the input when it has no escapes.
pub(crate) struct Key<'de>(pub(crate) Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Builds a `serde_json::Value` of at most `budget` values (every scalar, array, object and key
/// counts one); a larger value, or an object with a repeated key, is an error at its position.
pub(crate) struct Bounded<'b> {
    pub(crate) budget: &'b Cell<usize>,
}

impl Bounded<'_> {
    fn spend<E: de::Error>(&self) -> Result<(), E> {
        match self.budget.get().checked_sub(1) {
            Some(left) => {
                self.budget.set(left);
                Ok(())
            }
            None => Err(E::custom(BUDGET_MESSAGE)),
        }
    }
}

/// The message of the error [`Bounded`] raises, so callers can tell it from a syntax error.
pub(crate) const BUDGET_MESSAGE: &str = "more JSON values than the limit";
/// The prefix of the message of a repeated-key error.
pub(crate) const DUPLICATE_PREFIX: &str = "duplicate key ";

impl<'de> DeserializeSeed<'de> for Bounded<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Bounded<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        self.spend()?;
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        self.spend()?;
        Ok(Value::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        self.spend()?;
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        self.spend()?;
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        self.spend()?;
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        self.spend()?;
        Ok(Value::String(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.spend()?;
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        self.visit_unit()
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.spend()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Bounded {
            budget: self.budget,
        })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.spend()?;
        let mut object = Map::new();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            self.spend()?;
            if object.contains_key(key.as_ref()) {
                return Err(de::Error::custom(format_args!(
                    "{DUPLICATE_PREFIX}{:?}",
                    crate::error::excerpt(&key)
                )));
            }
            let value = map.next_value_seed(Bounded {
                budget: self.budget,
            })?;
            object.insert(key.into_owned(), value);
        }
        Ok(Value::Object(object))
    }
}

/// Where a `serde_json` error happened, and its message without serde_json's position suffix.
pub(crate) fn position(e: &serde_json::Error) -> (usize, usize, String) {
    let message = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = message
        .strip_suffix(&suffix)
        .map(str::to_owned)
        .unwrap_or(message);
    (e.line(), e.column(), message)
}

/// Whether `text` holds something shaped like a MAC address (six or more pairs of hex digits
/// joined by `:` or `-`, any case, anywhere in it), which no output may echo.
pub(crate) fn looks_like_mac(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut start = 0;
    while start + 17 <= bytes.len() {
        let mut pairs = 0;
        let mut at = start;
        while at + 2 <= bytes.len()
            && bytes[at].is_ascii_hexdigit()
            && bytes[at + 1].is_ascii_hexdigit()
        {
            pairs += 1;
            at += 2;
            if pairs >= 6 {
                return true;
            }
            match bytes.get(at) {
                Some(b':' | b'-') => at += 1,
                _ => break,
            }
        }
        start += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(feature = "varserver")]
    fn macs_are_recognised_anywhere() {
        assert!(looks_like_mac("00:22:F2:13:85:54"));
        assert!(looks_like_mac("00:00:00:00:00:00:00"));
        assert!(looks_like_mac("mac=aa-bb-cc-dd-ee-ff;"));
        assert!(!looks_like_mac("2025-09-30T15:50:00Z"));
        assert!(!looks_like_mac("00:22:F2:13:85"));
        assert!(!looks_like_mac("E00123456789"));
    }

    #[test]
    fn bounded_values_stop_at_the_budget_and_refuse_repeated_keys() {
        let parse = |json: &str, budget: usize| {
            let budget = Cell::new(budget);
            let mut de = serde_json::Deserializer::from_str(json);
            Bounded { budget: &budget }.deserialize(&mut de)
        };
        assert_eq!(parse("[1,2]", 3).unwrap(), serde_json::json!([1, 2]));
        let err = parse("[1,2,3]", 3).unwrap_err();
        assert!(err.to_string().starts_with(BUDGET_MESSAGE), "{err}");
        assert_eq!(err.column(), 6);
        let err = parse(r#"{"a":1,"a":2}"#, 100).unwrap_err();
        assert_eq!(position(&err).2, r#"duplicate key "a""#);
    }
}
