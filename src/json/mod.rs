//! A borrowed JSON tree and path-aware accessors for the decoders.
//!
//! Payloads are parsed once into [`Value`], a tree of `Copy` nodes in an arena ([`Arena`], one
//! `bumpalo` bump allocator per parse): every string without escapes is borrowed from the payload
//! text, a string with escapes is decoded into the arena, and each array or object is one slice in
//! it (STIX objects have a few dozen keys: [`Obj`] finds them through a table of 64 key shapes). Building the tree is
//! a few pointer bumps per container and dropping it is freeing the arena's chunks: nothing is
//! allocated or freed per node. The text is read by a hand-written parser (`parse.rs`) that
//! accepts what `serde_json` accepts and builds the tree its deserializer built (`oracle.rs`, for
//! the tests).
//!
//! The decoders' output borrows from the payload text, which outlives the arena: [`Text`] recovers
//! the text borrow of a tree string from where it lies (a string decoded into the arena is copied).
//!
//! [`Obj`] wraps an object together with its JSON path, so every accessor can say exactly where a
//! wrong type or a missing field is: "expected a string, found a number" at `objects[3].pattern`.

use std::borrow::Cow;
use std::fmt;

use crate::error::{Code, Error, quote};
use crate::time::Timestamp;

#[cfg(any(test, fuzzing))]
pub(crate) mod oracle;
mod parse;

pub(crate) use bumpalo::Bump as Arena;
pub(crate) use parse::special_bytes;

/// A JSON value: strings borrowed from the payload text or the arena, containers in the arena.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Value<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(&'a str),
    Array(&'a [Value<'a>]),
    Object(&'a [(&'a str, Value<'a>)]),
}

/// The members of an object, in document order (keys may repeat).
pub(crate) type Fields<'a> = [(&'a str, Value<'a>)];

/// The text a tree was parsed from: gives back, for a string of the tree, the same string
/// borrowed from the text (it lies there unless it had escapes), so what the decoders make of a
/// payload outlives its tree.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Text<'t>(&'t str);

impl<'t> Text<'t> {
    pub(crate) fn new(text: &'t str) -> Self {
        Self(text)
    }

    /// No text: every string is copied (for trees whose strings need not outlive them: the
    /// boundary's options).
    #[cfg(any(test, target_arch = "wasm32"))]
    pub(crate) const NONE: Text<'static> = Text("");

    /// `s` as a borrow of the text, if that is where it lies.
    pub(crate) fn borrow(self, s: &str) -> Option<&'t str> {
        let offset = s.as_ptr().addr().checked_sub(self.0.as_ptr().addr())?;
        self.0.get(offset..offset.checked_add(s.len())?)
    }

    /// `s` borrowed from the text where it lies there, else copied.
    pub(crate) fn cow(self, s: &str) -> Cow<'t, str> {
        match self.borrow(s) {
            Some(borrowed) => Cow::Borrowed(borrowed),
            None => Cow::Owned(s.to_owned()),
        }
    }
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
    /// Parses JSON text, into `arena`. Errors say where (line and column) as `serde_json` reports
    /// it.
    pub(crate) fn parse(text: &'a str, arena: &'a Arena) -> Result<Self, Error> {
        parse::parse(text, arena).map_err(|e| Error::new(Code::Json, format!("malformed JSON: {e}")))
    }

    /// [`Value::parse`] into an arena that lives as long as the test.
    #[cfg(test)]
    pub(crate) fn parse_leaked(text: &'a str) -> Result<Self, Error> {
        Self::parse(text, Box::leak(Box::default()))
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

    pub(crate) fn as_str(&self) -> Option<&'a str> {
        match *self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_object(&self) -> Option<&'a Fields<'a>> {
        match *self {
            Self::Object(fields) => Some(fields),
            _ => None,
        }
    }

    /// The field `key` of an object (the last one, if the key repeats — as `JSON.parse` does).
    pub(crate) fn get(&self, key: &str) -> Option<&'a Value<'a>> {
        self.as_object().and_then(|fields| lookup(fields, key))
    }

    /// A string field of an object, if present and a string.
    pub(crate) fn get_str(&self, key: &str) -> Option<&'a str> {
        self.get(key).and_then(Value::as_str)
    }
}

fn lookup<'a>(fields: &'a Fields<'a>, key: &str) -> Option<&'a Value<'a>> {
    // Length and first byte first: most probes are for keys the object does not have.
    let first = key.as_bytes().first();
    fields
        .iter()
        .rev()
        .find(|(k, _)| k.len() == key.len() && k.as_bytes().first() == first && *k == key)
        .map(|(_, v)| v)
}

/// [`lookup`] for [`Obj::get`], out of its way: only keys that share a shape with another get here.
#[cold]
#[inline(never)]
fn scan<'a>(fields: &'a Fields<'a>, key: &str) -> Option<&'a Value<'a>> {
    lookup(fields, key)
}

/// Appends `.key` (or `["key"]` when the key is not identifier-like) to a JSON path.
pub(crate) fn join_key(base: &str, key: &str) -> String {
    // Built with `push_str`, not `format!`: every item's path is rendered on the success path.
    let mut path = String::with_capacity(base.len() + key.len() + 4);
    path.push_str(base);
    push_key(&mut path, key);
    path
}

/// Appends `.key` (or `["key"]`) to the path in `path`.
fn push_key(path: &mut String, key: &str) {
    let plain = !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if plain {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
    } else {
        path.push('[');
        path.push_str(&serde_json::to_string(key).unwrap_or_default());
        path.push(']');
    }
}

/// Appends `[index]` to a JSON path.
pub(crate) fn join_index(base: &str, index: usize) -> String {
    let mut path = String::with_capacity(base.len() + 8);
    path.push_str(base);
    push_index(&mut path, index);
    path
}

/// Appends `[index]` to the path in `path`.
fn push_index(path: &mut String, index: usize) {
    path.push('[');
    push_decimal(path, index);
    path.push(']');
}

/// Appends `n` in decimal, without `fmt`.
pub(crate) fn push_decimal(out: &mut String, n: usize) {
    let mut digits = [0u8; 20];
    // Digit by digit, not through `str::from_utf8` (which costs more than the digits, for an
    // item index).
    for &digit in decimal_digits(n as u64, &mut digits) {
        out.push(char::from(digit));
    }
}

/// `n` in decimal ASCII digits, written at the end of `buf` (20 bytes hold any `u64`).
pub(crate) fn decimal_digits(n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    let mut n = n;
    loop {
        at -= 1;
        if let Some(slot) = buf.get_mut(at) {
            *slot = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || at == 0 {
            break;
        }
    }
    buf.get(at..).unwrap_or_default()
}

/// An object together with its path in the payload; accessors report errors at `path.key`.
#[derive(Clone, Copy)]
pub(crate) struct Obj<'v, 't> {
    fields: &'v Fields<'v>,
    path: Path<'v>,
    /// The text the tree was parsed from, to borrow strings from ([`Obj::cow`]).
    text: Text<'t>,
    /// For each key shape (see [`key_shape`]), where the last field of that shape is: 0 for none
    /// (most probes are for keys an object does not have: answered without looking at the fields),
    /// else its index plus one (checked against the key: a field of another key of the same shape
    /// sends the probe to a scan), or 255, scan (an index past 253).
    slots: [u8; 64],
}

/// A number in `0..64` standing for a key's length and first and last bytes.
#[inline]
fn key_shape(key: &str) -> usize {
    let bytes = key.as_bytes();
    let (first, last) = (bytes.first().copied().unwrap_or(0), bytes.last().copied().unwrap_or(0));
    // Coefficients that keep apart the keys of the objects of STIX, OpenCTI, MISP and ThreatConnect
    // payloads (the few that share a shape still get the right answer, from a scan).
    bytes.len().wrapping_mul(5).wrapping_add(usize::from(first) * 24).wrapping_add(usize::from(last)) % 64
}

/// A JSON path kept as links to its parent, rendered to text only when an error needs it, so the
/// success path of a decoder builds no path strings.
#[derive(Clone, Copy)]
pub(crate) enum Path<'p> {
    /// A complete path.
    Text(&'p str),
    /// `parent.key`.
    Key(&'p Path<'p>, &'p str),
    /// `parent[index]`.
    Index(&'p Path<'p>, usize),
}

impl Path<'_> {
    /// The path as text (`objects[3].kill_chain_phases[0]`).
    // Not inlined: called wherever an error or an item needs its path (wasm bytes at each).
    #[inline(never)]
    pub(crate) fn render(&self) -> String {
        // One allocation (every item's path is rendered on the success path).
        let mut path = String::with_capacity(self.capacity());
        self.render_into(&mut path);
        path
    }

    fn render_into(&self, path: &mut String) {
        match self {
            Self::Text(text) => path.push_str(text),
            Self::Key(parent, key) => {
                parent.render_into(path);
                push_key(path, key);
            }
            Self::Index(parent, index) => {
                parent.render_into(path);
                push_index(path, *index);
            }
        }
    }

    /// Enough room for the rendered path, unless a key needs quoting.
    fn capacity(&self) -> usize {
        match self {
            Self::Text(text) => text.len(),
            Self::Key(parent, key) => parent.capacity() + key.len() + 4,
            Self::Index(parent, _) => parent.capacity() + 8,
        }
    }
}

impl<'v, 't> Obj<'v, 't> {
    /// Wraps `value` (of a tree parsed from `text`) if it is an object; else a type error at `path`.
    pub(crate) fn new(value: &Value<'v>, path: &'v str, text: Text<'t>) -> Result<Self, Error> {
        Self::at(value, Path::Text(path), text)
    }

    /// Wraps `value` (of a tree parsed from `text`) if it is an object; else a type error at `path`
    /// (rendered only then).
    // Not inlined: a dozen decoders call it, and its loop over the keys costs wasm bytes at each.
    #[inline(never)]
    pub(crate) fn at(value: &Value<'v>, path: Path<'v>, text: Text<'t>) -> Result<Self, Error> {
        match *value {
            Value::Object(fields) => {
                let mut slots = [0; 64];
                for (i, (key, _)) in fields.iter().enumerate() {
                    if let Some(slot) = slots.get_mut(key_shape(key)) {
                        *slot = u8::try_from(i + 1).unwrap_or(u8::MAX);
                    }
                }
                Ok(Self { fields, path, text, slots })
            }
            ref other => Err(expected("an object", other).at_path(path.render())),
        }
    }

    /// This object's path, for building the paths of its children.
    pub(crate) fn path_ref(&self) -> &Path<'v> {
        &self.path
    }

    /// The text the tree was parsed from.
    pub(crate) fn source(&self) -> Text<'t> {
        self.text
    }

    /// This object's path, as text.
    pub(crate) fn path(&self) -> String {
        self.path.render()
    }

    pub(crate) fn key_path(&self, key: &str) -> String {
        Path::Key(&self.path, key).render()
    }

    /// The object-valued field `key`, if present; a field of another type is an error.
    pub(crate) fn child<'s>(&'s self, key: &'s str) -> Result<Option<Obj<'s, 't>>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(value) => Obj::at(value, Path::Key(&self.path, key), self.text).map(Some),
        }
    }

    /// The array-valued field `key` as a [`List`], if present.
    pub(crate) fn list<'s>(&'s self, key: &'s str) -> Result<Option<List<'s, 't>>, Error> {
        Ok(self.array(key)?.map(|items| List { items, path: Path::Key(&self.path, key), text: self.text }))
    }

    /// The raw field, `None` when absent or `null`.
    pub(crate) fn get(&self, key: &str) -> Option<&'v Value<'v>> {
        let found = match self.slots.get(key_shape(key)).copied().unwrap_or(u8::MAX) {
            0 => return None,
            u8::MAX => scan(self.fields, key),
            slot => match self.fields.get(usize::from(slot) - 1) {
                Some((k, value)) if *k == key => Some(value),
                _ => scan(self.fields, key),
            },
        };
        found.filter(|v| !matches!(v, Value::Null))
    }

    /// An optional string field; a field of another type is an error.
    pub(crate) fn str(&self, key: &str) -> Result<Option<&'v str>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(*s)),
            Some(other) => Err(expected("a string", other).at_path(self.key_path(key))),
        }
    }

    /// An optional string field that must not be blank; a blank one counts as absent.
    pub(crate) fn text(&self, key: &str) -> Result<Option<&'v str>, Error> {
        Ok(self.str(key)?.filter(|s| !s.trim().is_empty()))
    }

    /// An optional string field, borrowed from the payload when it had no escapes.
    pub(crate) fn cow(&self, key: &str) -> Result<Option<Cow<'t, str>>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(self.text.cow(s))),
            Some(other) => Err(expected("a string", other).at_path(self.key_path(key))),
        }
    }

    /// A required string field, borrowed where possible.
    pub(crate) fn req_cow(&self, key: &str) -> Result<Cow<'t, str>, Error> {
        self.cow(key)?.ok_or_else(|| missing(key).at_path(self.key_path(key)))
    }

    /// [`Obj::cow`] for a field that must not be blank; a blank one counts as absent.
    pub(crate) fn text_cow(&self, key: &str) -> Result<Option<Cow<'t, str>>, Error> {
        Ok(self.cow(key)?.filter(|s| !s.trim().is_empty()))
    }

    /// An optional array of strings, borrowed where possible; non-strings are errors at their index.
    pub(crate) fn cows(&self, key: &str) -> Result<Vec<Cow<'t, str>>, Error> {
        let Some(items) = self.array(key)? else { return Ok(Vec::new()) };
        let mut out = Vec::with_capacity(items.len());
        for (i, v) in items.iter().enumerate() {
            match v {
                Value::String(s) => out.push(self.text.cow(s)),
                Value::Null => {}
                other => return Err(expected("a string", other).at_path(join_index(&self.key_path(key), i))),
            }
        }
        Ok(out)
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
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") || *s == "1" => Ok(Some(true)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") || *s == "0" => Ok(Some(false)),
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
            Some(Value::String(s)) => {
                s.trim().parse::<f64>().ok().filter(|f| f.is_finite()).map(Some).ok_or_else(|| {
                    Error::new(Code::Type, format!("expected a number, found the string {}", quote(s)))
                        .at_path(self.key_path(key))
                })
            }
            Some(other) => Err(expected("a number", other).at_path(self.key_path(key))),
        }
    }

    /// An optional number within `min..=max`.
    pub(crate) fn number_in(&self, key: &str, min: f64, max: f64) -> Result<Option<f64>, Error> {
        match self.number(key)? {
            Some(n) if n < min || n > max => {
                Err(Error::new(Code::Value, format!("invalid {key} `{n}`: expected a number from {min} to {max}"))
                    .at_path(self.key_path(key)))
            }
            other => Ok(other),
        }
    }

    /// An optional timestamp: RFC 3339 text, or epoch seconds (number or numeric string, as MISP
    /// sends them).
    pub(crate) fn timestamp(&self, key: &str) -> Result<Option<Timestamp>, Error> {
        let value = self.get(key);
        // The usual form first, without the checks below (it is none of the other cases).
        if let Some(Value::String(s)) = value
            && let Some(timestamp) = Timestamp::parse_common(s)
        {
            return Ok(Some(timestamp));
        }
        let parsed = match value {
            None => return Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
            Some(Value::String(s)) if s.bytes().all(|b| b.is_ascii_digit()) => s
                .parse::<i64>()
                .map_err(|_| Error::new(Code::Value, format!("invalid timestamp {}", quote(s))))
                .and_then(Timestamp::from_unix_seconds),
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
    pub(crate) fn array(&self, key: &str) -> Result<Option<&'v [Value<'v>]>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(items)) => Ok(Some(*items)),
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
            .map(|(i, v)| v.as_str().ok_or_else(|| expected("a string", v).at_path(join_index(&self.key_path(key), i))))
            .collect()
    }

    /// Iterates the fields.
    pub(crate) fn fields(&self) -> impl Iterator<Item = (&'v str, &'v Value<'v>)> {
        self.fields.iter().map(|(k, v)| (*k, v))
    }
}

/// An array together with its path; its object elements come with their own paths.
pub(crate) struct List<'v, 't> {
    items: &'v [Value<'v>],
    path: Path<'v>,
    text: Text<'t>,
}

impl<'t> List<'_, 't> {
    /// Each element as an object (an element of another type is an error at its index).
    pub(crate) fn objects(&self) -> impl Iterator<Item = Result<Obj<'_, 't>, Error>> {
        self.items
            .iter()
            .enumerate()
            .filter(|(_, v)| !matches!(v, Value::Null))
            .map(|(i, v)| Obj::at(v, Path::Index(&self.path, i), self.text))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join_keys_and_indices() {
        assert_eq!(join_key("", "objects"), "objects");
        assert_eq!(join_key("objects[3]", "pattern"), "objects[3].pattern");
        assert_eq!(join_key("a", "b c"), r#"a["b c"]"#);
        assert_eq!(join_index("objects", 0), "objects[0]");
        assert_eq!(join_index("", 1_234_567), "[1234567]");
        let root = Path::Text("");
        let objects = Path::Key(&root, "objects");
        let third = Path::Index(&objects, 3);
        let hashes = Path::Key(&third, "hashes");
        assert_eq!(Path::Key(&hashes, "SHA-256").render(), "objects[3].hashes.SHA-256");
        assert_eq!(Path::Key(&hashes, "SHA 256").render(), r#"objects[3].hashes["SHA 256"]"#);
        assert_eq!(Path::Index(&root, 7).render(), "[7]");
        assert_eq!(Path::Key(&Path::Text("a"), "").render(), r#"a[""]"#);
        let mut text = String::new();
        push_decimal(&mut text, usize::MAX);
        assert_eq!(text, usize::MAX.to_string());
    }

    #[test]
    fn borrows_plain_strings_and_owns_escaped_ones() {
        let text = r#"{"a":"plain","b":"esc\"aped","n":1.5,"i":-2,"u":3,"x":null,"t":[true]}"#;
        let v = Value::parse_leaked(text).unwrap();
        let o = Obj::new(&v, "", Text::new(text)).unwrap();
        assert!(matches!(o.cow("a").unwrap(), Some(Cow::Borrowed("plain"))));
        assert!(matches!(o.cow("b").unwrap(), Some(Cow::Owned(s)) if s == "esc\"aped"));
        assert!(matches!(Obj::new(&v, "", Text::NONE).unwrap().cow("a").unwrap(), Some(Cow::Owned(s)) if s == "plain"));
        assert_eq!(v.get("n"), Some(&Value::Number(Number::Float(1.5))));
        assert_eq!(v.get("i"), Some(&Value::Number(Number::Signed(-2))));
        assert_eq!(v.get("x"), Some(&Value::Null));
    }

    #[test]
    fn accessors_report_path_and_types() {
        let v = Value::parse_leaked(r#"{"pattern":5,"ok":"x","flag":"true","score":"75","labels":["a",1]}"#).unwrap();
        let o = Obj::new(&v, "objects[3]", Text::NONE).unwrap();
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
        let e = Value::parse_leaked("[1,]").unwrap_err();
        assert_eq!(e.code(), Code::Json);
        assert_eq!(e.message(), "malformed JSON: trailing comma at line 1 column 4");
    }

    proptest::proptest! {
        /// The key-shape filter never hides a present key.
        #[test]
        fn key_filter_never_hides_a_key(keys in proptest::collection::vec("[a-z_]{0,12}", 0..300), probe in "[a-z_]{0,12}") {
            let fields: Vec<String> = keys.iter().enumerate().map(|(i, k)| format!("{}:{i}", serde_json::to_string(k).unwrap())).collect();
            let text = format!("{{{}}}", fields.join(","));
            let arena = Arena::new();
            let value = Value::parse(&text, &arena).unwrap();
            let obj = Obj::new(&value, "", Text::NONE).unwrap();
            for (i, key) in keys.iter().enumerate() {
                let last = keys.iter().rposition(|k| k == key).unwrap();
                proptest::prop_assert!(last >= i);
                proptest::prop_assert_eq!(obj.get(key), Some(&Value::Number(Number::Unsigned(last as u64))));
            }
            proptest::prop_assert_eq!(obj.get(&probe).is_some(), keys.contains(&probe));
        }
    }

    #[test]
    fn last_duplicate_key_wins() {
        let v = Value::parse_leaked(r#"{"a":1,"a":2}"#).unwrap();
        assert_eq!(v.get("a"), Some(&Value::Number(Number::Unsigned(2))));
    }
}
