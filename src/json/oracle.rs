//! The reference the hand-written parser (`super::parse`) is checked against: the tree builder
//! the crate used before it, `serde_json`'s deserializer driving a borrowing visitor, building the
//! tree of vectors the crate had before its arena ([`Tree`]). Compiled for the tests only, and for
//! the `json_parse` fuzz target (`--cfg fuzzing`, see `ti_relay::fuzz_json_parse`).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::json::{Number, Text, Value};

/// A JSON value as `serde_json`'s deserializer gives it: strings borrowed from the text when they
/// have no escapes, owned when they have.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tree<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Tree<'a>>),
    Object(Vec<(Cow<'a, str>, Tree<'a>)>),
}

/// Scratch stacks shared by the whole parse: a container's children are pushed here while it is
/// open and moved into one exactly-sized `Vec` when it closes, so no container ever reallocates.
#[derive(Default)]
struct Builder<'a> {
    elements: Vec<Tree<'a>>,
    entries: Vec<(Cow<'a, str>, Tree<'a>)>,
}

/// Parses `text` as the crate did before [`super::parse`]: `serde_json`'s deserializer driving a
/// visitor that builds the tree.
pub(crate) fn parse(text: &str) -> Result<Tree<'_>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let mut builder = Builder::default();
    let value = TreeSeed(&mut builder).deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

struct TreeSeed<'b, 'a>(&'b mut Builder<'a>);

impl<'de> DeserializeSeed<'de> for TreeSeed<'_, 'de> {
    type Value = Tree<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TreeSeed<'_, 'de> {
    type Value = Tree<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Tree::Null)
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Tree::Null)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Tree::Bool(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Tree::Number(Number::Unsigned(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Tree::Number(Number::Signed(v)))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Tree::Number(Number::Float(v)))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Tree::String(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Tree::String(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Tree::String(Cow::Owned(v)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let builder = self.0;
        let start = builder.elements.len();
        while let Some(item) = seq.next_element_seed(TreeSeed(&mut *builder))? {
            builder.elements.push(item);
        }
        Ok(Tree::Array(builder.elements.drain(start..).collect()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let builder = self.0;
        let start = builder.entries.len();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            let value = map.next_value_seed(TreeSeed(&mut *builder))?;
            builder.entries.push((key.0, value));
        }
        Ok(Tree::Object(builder.entries.drain(start..).collect()))
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

/// Whether `ours`, parsed from `text`, is `theirs` in every respect `PartialEq` would not look
/// at either: strings lying in `text` exactly where `theirs` borrows them (elsewhere, in the arena,
/// where it owns them), and floats equal bit for bit (so `-0.0` differs from `0.0`).
pub(crate) fn same(ours: &Value<'_>, text: &str, theirs: &Tree<'_>) -> bool {
    match (ours, theirs) {
        (Value::Null, Tree::Null) => true,
        (Value::Bool(x), Tree::Bool(y)) => x == y,
        (Value::Number(x), Tree::Number(y)) => match (x, y) {
            (Number::Unsigned(x), Number::Unsigned(y)) => x == y,
            (Number::Signed(x), Number::Signed(y)) => x == y,
            (Number::Float(x), Number::Float(y)) => x.to_bits() == y.to_bits(),
            _ => false,
        },
        (Value::String(x), Tree::String(y)) => same_str(x, text, y),
        (Value::Array(x), Tree::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, text, y)),
        (Value::Object(x), Tree::Object(y)) => {
            x.len() == y.len()
                && x.iter().zip(y).all(|((kx, vx), (ky, vy))| same_str(kx, text, ky) && same(vx, text, vy))
        }
        _ => false,
    }
}

/// The same string, borrowed from `text` where `theirs` is (at the same place).
#[allow(clippy::ptr_arg)] // whether it is borrowed is the point
fn same_str(ours: &str, text: &str, theirs: &Cow<'_, str>) -> bool {
    let in_text = Text::new(text).borrow(ours).is_some();
    let at_same_place = match theirs {
        Cow::Borrowed(b) => in_text && std::ptr::eq(ours.as_ptr(), b.as_ptr()),
        Cow::Owned(_) => !in_text,
    };
    at_same_place && ours == theirs.as_ref()
}
