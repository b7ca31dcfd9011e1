//! A borrowed JSON tree and path-aware accessors for the decoders.
//!
//! Payloads are parsed once into [`Value`], which borrows every string that has no escapes from
//! the payload text and keeps objects as small vectors (STIX objects have a few dozen keys; a
//! linear scan beats hashing them). This is the decoders' fast path: it allocates far less than
//! `serde_json::Value`.
//!
//! [`Obj`] wraps an object together with its JSON path, so every accessor can say exactly where a
//! wrong type or a missing field is: "expected a string, found a number" at `objects[3].pattern`.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::error::{Code, Error, quote};
use crate::time::Timestamp;

/// A JSON value borrowing from the payload text.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Value<'a>>),
    Object(Vec<(Cow<'a, str>, Value<'a>)>),
}

/// A JSON number, kept as exactly as it came.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Number {
    Unsigned(u64),
    Signed(i64),
    Float(f64),
}

impl Number {
    pub(crate) fn as_f64(self) -> f64 {
        match self {
            Self::Unsigned(n) => n as f64,
            Self::Signed(n) => n as f64,
            Self::Float(f) => f,
        }
    }

    /// The value as an integer, if it is one (a float with no fraction counts).
    pub(crate) fn as_i64(self) -> Option<i64> {
        match self {
            Self::Unsigned(n) => i64::try_from(n).ok(),
            Self::Signed(n) => Some(n),
            #[allow(clippy::float_cmp, clippy::cast_possible_truncation)] // exact integer check
            Self::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(f as i64),
            Self::Float(_) => None,
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unsigned(n) => write!(f, "{n}"),
            Self::Signed(n) => write!(f, "{n}"),
            Self::Float(x) => write!(f, "{x}"),
        }
    }
}

impl<'a> Value<'a> {
    /// Parses JSON text. Errors say where (line and column) as serde_json reports it.
    pub(crate) fn parse(text: &'a str) -> Result<Self, Error> {
        serde_json::from_str(text).map_err(|e| {
            let msg = e.to_string();
            Error::new(Code::Json, format!("malformed JSON: {msg}"))
        })
    }

    /// A phrase naming this value's JSON type, for "expected X, found Y" messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Bool(_) => "a boolean",
            Self::Number(_) => "a number",
            Self::String(_) => "a string",
            Self::Array(_) => "an array",
            Self::Object(_) => "an object",
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_object(&self) -> Option<&[(Cow<'a, str>, Value<'a>)]> {
        match self {
            Self::Object(fields) => Some(fields),
            _ => None,
        }
    }

    /// The field `key` of an object (the last one, if the key repeats — as `JSON.parse` does).
    pub(crate) fn get(&self, key: &str) -> Option<&Value<'a>> {
        self.as_object().and_then(|fields| lookup(fields, key))
    }

    /// A string field of an object, if present and a string.
    pub(crate) fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Value::as_str)
    }
}

fn lookup<'v, 'a>(fields: &'v [(Cow<'a, str>, Value<'a>)], key: &str) -> Option<&'v Value<'a>> {
    fields.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// Appends `.key` (or `["key"]` when the key is not identifier-like) to a JSON path.
pub(crate) fn join_key(base: &str, key: &str) -> String {
    let plain = !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if plain {
        if base.is_empty() { key.to_owned() } else { format!("{base}.{key}") }
    } else {
        let quoted = serde_json::to_string(key).unwrap_or_default();
        format!("{base}[{quoted}]")
    }
}

/// Appends `[index]` to a JSON path.
pub(crate) fn join_index(base: &str, index: usize) -> String {
    format!("{base}[{index}]")
}

/// An object together with its path in the payload; accessors report errors at `path.key`.
#[derive(Clone, Copy)]
pub(crate) struct Obj<'v, 'a> {
    fields: &'v [(Cow<'a, str>, Value<'a>)],
    path: &'v str,
}

impl<'v, 'a> Obj<'v, 'a> {
    /// Wraps `value` if it is an object; else a type error at `path`.
    pub(crate) fn new(value: &'v Value<'a>, path: &'v str) -> Result<Self, Error> {
        match value {
            Value::Object(fields) => Ok(Self { fields, path }),
            other => Err(expected("an object", other).at_path(path)),
        }
    }

    pub(crate) fn path(&self) -> &'v str {
        self.path
    }

    pub(crate) fn key_path(&self, key: &str) -> String {
        join_key(self.path, key)
    }

    /// The raw field, `None` when absent or `null`.
    pub(crate) fn get(&self, key: &str) -> Option<&'v Value<'a>> {
        lookup(self.fields, key).filter(|v| !matches!(v, Value::Null))
    }

    /// An optional string field; a field of another type is an error.
    pub(crate) fn str(&self, key: &str) -> Result<Option<&'v str>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(expected("a string", other).at_path(self.key_path(key))),
        }
    }

    /// An optional string field that must not be blank; a blank one counts as absent.
    pub(crate) fn text(&self, key: &str) -> Result<Option<&'v str>, Error> {
        Ok(self.str(key)?.filter(|s| !s.trim().is_empty()))
    }

    /// A required string field.
    pub(crate) fn req_str(&self, key: &str) -> Result<&'v str, Error> {
        self.str(key)?.ok_or_else(|| missing(key).at_path(self.key_path(key)))
    }

    /// An optional boolean; also accepts the strings `"true"`/`"false"` and 0/1 that TIPs send.
    pub(crate) fn bool(&self, key: &str) -> Result<Option<bool>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") || s.as_ref() == "1" => Ok(Some(true)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") || s.as_ref() == "0" => Ok(Some(false)),
            Some(Value::Number(n)) if n.as_i64() == Some(1) => Ok(Some(true)),
            Some(Value::Number(n)) if n.as_i64() == Some(0) => Ok(Some(false)),
            Some(other) => Err(expected("a boolean", other).at_path(self.key_path(key))),
        }
    }

    /// An optional number; numeric strings (`"75"`, as MISP and some TIPs send) are accepted.
    pub(crate) fn number(&self, key: &str) -> Result<Option<f64>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => Ok(Some(n.as_f64())),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()).map(Some).ok_or_else(|| {
                Error::new(Code::Type, format!("expected a number, found the string {}", quote(s))).at_path(self.key_path(key))
            }),
            Some(other) => Err(expected("a number", other).at_path(self.key_path(key))),
        }
    }

    /// An optional number within `min..=max`.
    pub(crate) fn number_in(&self, key: &str, min: f64, max: f64) -> Result<Option<f64>, Error> {
        match self.number(key)? {
            Some(n) if n < min || n > max => Err(Error::new(
                Code::Value,
                format!("invalid {key} `{n}`: expected a number from {min} to {max}"),
            )
            .at_path(self.key_path(key))),
            other => Ok(other),
        }
    }

    /// An optional timestamp: RFC 3339 text, or epoch seconds (number or numeric string, as MISP
    /// sends them).
    pub(crate) fn timestamp(&self, key: &str) -> Result<Option<Timestamp>, Error> {
        let parsed = match self.get(key) {
            None => return Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
            Some(Value::String(s)) if s.bytes().all(|b| b.is_ascii_digit()) => {
                s.parse::<i64>().map_err(|_| Error::new(Code::Value, format!("invalid timestamp {}", quote(s)))).and_then(Timestamp::from_unix_seconds)
            }
            Some(Value::String(s)) => Timestamp::parse(s),
            Some(Value::Number(n)) => match n.as_i64() {
                Some(secs) => Timestamp::from_unix_seconds(secs),
                None => Err(Error::new(Code::Value, format!("invalid timestamp `{n}`: expected whole epoch seconds"))),
            },
            Some(other) => Err(expected("a timestamp string", other)),
        };
        parsed.map(Some).map_err(|e| e.at_path(self.key_path(key)))
    }

    /// An optional array field.
    pub(crate) fn array(&self, key: &str) -> Result<Option<&'v [Value<'a>]>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items)),
            Some(other) => Err(expected("an array", other).at_path(self.key_path(key))),
        }
    }

    /// An optional array of strings; non-string elements are errors at their index.
    pub(crate) fn strings(&self, key: &str) -> Result<Vec<&'v str>, Error> {
        let Some(items) = self.array(key)? else { return Ok(Vec::new()) };
        items
            .iter()
            .enumerate()
            .filter(|(_, v)| !matches!(v, Value::Null))
            .map(|(i, v)| {
                v.as_str().ok_or_else(|| expected("a string", v).at_path(join_index(&self.key_path(key), i)))
            })
            .collect()
    }

    /// Iterates the fields.
    pub(crate) fn fields(&self) -> impl Iterator<Item = (&'v str, &'v Value<'a>)> {
        self.fields.iter().map(|(k, v)| (k.as_ref(), v))
    }
}

/// "expected X, found Y" for a value of the wrong JSON type.
pub(crate) fn expected(what: &str, found: &Value<'_>) -> Error {
    let found = match found {
        Value::String(s) => format!("the string {}", quote(s)),
        Value::Number(n) => format!("the number `{n}`"),
        Value::Bool(b) => format!("`{b}`"),
        other => other.kind().to_owned(),
    };
    Error::new(Code::Type, format!("expected {what}, found {found}"))
}

pub(crate) fn missing(key: &str) -> Error {
    Error::new(Code::Missing, format!("missing field `{key}`"))
}

// --- Deserialisation (borrowing) -------------------------------------------------------------

impl<'de> Deserialize<'de> for Value<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Value::Number(Number::Unsigned(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Value::Number(Number::Signed(v)))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Value::Number(Number::Float(v)))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Value::String(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Value::String(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Value::String(Cow::Owned(v)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(0).min(256));
        while let Some(key) = map.next_key::<Key<'de>>()? {
            let value = map.next_value()?;
            fields.push((key.0, value));
        }
        Ok(Value::Object(fields))
    }
}

/// An object key that borrows from the input when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrows_plain_strings_and_owns_escaped_ones() {
        let v = Value::parse(r#"{"a":"plain","b":"esc\"aped","n":1.5,"i":-2,"u":3,"x":null,"t":[true]}"#).unwrap();
        assert!(matches!(v.get("a"), Some(Value::String(Cow::Borrowed("plain")))));
        assert!(matches!(v.get("b"), Some(Value::String(Cow::Owned(s))) if s == "esc\"aped"));
        assert_eq!(v.get("n"), Some(&Value::Number(Number::Float(1.5))));
        assert_eq!(v.get("i"), Some(&Value::Number(Number::Signed(-2))));
        assert_eq!(v.get("x"), Some(&Value::Null));
    }

    #[test]
    fn accessors_report_path_and_types() {
        let v = Value::parse(r#"{"pattern":5,"ok":"x","flag":"true","score":"75","labels":["a",1]}"#).unwrap();
        let o = Obj::new(&v, "objects[3]").unwrap();
        let e = o.str("pattern").unwrap_err();
        assert_eq!(e.to_string(), "expected a string, found the number `5` (at `objects[3].pattern`)");
        assert_eq!(o.req_str("ok").unwrap(), "x");
        let e = o.req_str("nope").unwrap_err();
        assert_eq!(e.to_string(), "missing field `nope` (at `objects[3].nope`)");
        assert_eq!(o.bool("flag").unwrap(), Some(true));
        assert_eq!(o.number("score").unwrap(), Some(75.0));
        let e = o.strings("labels").unwrap_err();
        assert_eq!(e.path(), Some("objects[3].labels[1]"));
        let e = o.number_in("score", 0.0, 50.0).unwrap_err();
        assert_eq!(e.message(), "invalid score `75`: expected a number from 0 to 50");
    }

    #[test]
    fn paths() {
        assert_eq!(join_key("objects[0]", "hashes"), "objects[0].hashes");
        assert_eq!(join_key("objects[0].hashes", "SHA 256"), "objects[0].hashes[\"SHA 256\"]");
        assert_eq!(join_key("", "data"), "data");
    }

    #[test]
    fn malformed_json_says_where() {
        let e = Value::parse("[1,]").unwrap_err();
        assert_eq!(e.code(), Code::Json);
        assert_eq!(e.message(), "malformed JSON: trailing comma at line 1 column 4");
    }

    #[test]
    fn last_duplicate_key_wins() {
        let v = Value::parse(r#"{"a":1,"a":2}"#).unwrap();
        assert_eq!(v.get("a"), Some(&Value::Number(Number::Unsigned(2))));
    }
}
