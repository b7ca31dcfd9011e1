//! The pattern tree: what [`parse`](super::parse) returns, [`Display`](std::fmt::Display) prints
//! and [`extract`](super::extract) reads.
//!
//! Names follow cti-python-stix2's `stix2/patterns.py` where they fit (`ObservationExpression`,
//! `ObjectPath`, `WithinQualifier` → [`Qualifier::Within`], `StartStopQualifier` →
//! [`Qualifier::StartStop`], `StringConstant` → [`Constant::String`], ...). Where that module has one
//! class per operator (`EqualityComparisonExpression`, `LikeComparisonExpression`, ...), this tree
//! has one [`ComparisonExpression::Comparison`] with a [`ComparisonOperator`], which is easier to
//! match on and to draw.
//!
//! Every node serialises as a JSON object tagged with `"kind"` (see the [module docs](super)).
//!
//! The tree borrows from the pattern text (`Cow<'a, str>` everywhere a string can be a slice of
//! it; see "Borrowing and allocation" in the [module docs](super)).

use std::borrow::Cow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

use serde::{Serialize, Serializer};

/// A parsed STIX pattern: the root observation expression.
///
/// Serialises as its root node (there is no wrapper object in the JSON).
///
/// # Invariants
///
/// Trees built by the parser satisfy these; a tree built by hand must too, or printing it and
/// parsing the text again may not give it back:
/// - `And`, `Or` and `FollowedBy` have at least two operands;
/// - `Qualified` has at least one qualifier;
/// - an [`ObjectPath`] starts with a [`PathStep::Property`];
/// - `IN` compares with a [`Constant::Set`] (of non-set constants), `LIKE`, `MATCHES`, `ISSUBSET`
///   and `ISSUPERSET` with a [`Constant::String`], `<`, `<=`, `>`, `>=` with anything but a boolean
///   or a set, `=` and `!=` with anything but a set;
/// - floats are finite; hex, binary and timestamp texts have the shapes the grammar allows;
/// - object types are identifiers (`[A-Za-z_][A-Za-z0-9_-]*`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Pattern<'a> {
    /// The whole pattern.
    pub root: ObservationExpression<'a>,
}

/// An observation expression: one bracketed observation, or observations joined by `AND`, `OR`
/// and `FOLLOWEDBY`, or one with qualifiers.
///
/// Chains of one operator are flat: `[a] OR [b] OR [c]` is one `Or` with three operands. An
/// operand of the same kind as its parent (`Or` inside `Or`) stands for explicit parentheses,
/// `[a] OR ([b] OR [c])`, and is printed with them.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ObservationExpression<'a> {
    /// `[comparison]` (python-stix2 `ObservationExpression`).
    Observation {
        /// What the observed objects must satisfy.
        comparison: ComparisonExpression<'a>,
    },
    /// `a AND b AND ...` (python-stix2 `AndObservationExpression`): every operand is observed.
    And {
        /// Two or more operands.
        operands: Vec<ObservationExpression<'a>>,
    },
    /// `a OR b OR ...` (python-stix2 `OrObservationExpression`): any operand is observed.
    Or {
        /// Two or more operands.
        operands: Vec<ObservationExpression<'a>>,
    },
    /// `a FOLLOWEDBY b FOLLOWEDBY ...` (python-stix2 `FollowedByObservationExpression`): the
    /// operands are observed in this order.
    FollowedBy {
        /// Two or more operands.
        operands: Vec<ObservationExpression<'a>>,
    },
    /// An expression with one or more qualifiers, applied left to right
    /// (python-stix2 `QualifiedObservationExpression`).
    ///
    /// A qualified `Observation` is printed bare (`[a] WITHIN 5 SECONDS`); any other expression,
    /// including another `Qualified`, is printed in parentheses
    /// (`([a] WITHIN 5 SECONDS) REPEATS 2 TIMES`).
    Qualified {
        /// What is qualified.
        expression: Box<ObservationExpression<'a>>,
        /// One or more qualifiers, in the order written.
        qualifiers: Vec<Qualifier<'a>>,
    },
}

/// A qualifier on an observation expression.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Qualifier<'a> {
    /// `WITHIN n SECONDS`: all of the expression is observed within that many seconds.
    Within {
        /// The window, an integer or a float (never negative).
        seconds: Number,
    },
    /// `REPEATS n TIMES`: the expression is observed that many times.
    Repeats {
        /// How many times.
        times: u64,
    },
    /// `START t'..' STOP t'..'`: the expression is observed in this time window.
    StartStop {
        /// The start, as written between the quotes (`2016-06-01T00:00:00Z`).
        start: Cow<'a, str>,
        /// The stop, as written between the quotes.
        stop: Cow<'a, str>,
    },
}

/// A number of seconds: an integer or a float. Serialises as a bare JSON number.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Number {
    /// An integer (`300`).
    Integer(u64),
    /// A float (`2.5`).
    Float(f64),
}

/// A comparison expression: what one observation tests, inside `[...]`.
///
/// As with [`ObservationExpression`], chains are flat and a same-kind child stands for
/// parentheses.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ComparisonExpression<'a> {
    /// `a AND b AND ...` (python-stix2 `AndBooleanExpression`).
    And {
        /// Two or more operands.
        operands: Vec<ComparisonExpression<'a>>,
    },
    /// `a OR b OR ...` (python-stix2 `OrBooleanExpression`).
    Or {
        /// Two or more operands.
        operands: Vec<ComparisonExpression<'a>>,
    },
    /// `path [NOT] operator value`, e.g. `file:name = 'a'`, `file:size NOT > 10`,
    /// `ipv4-addr:value IN ('1.2.3.4', '5.6.7.8')`.
    Comparison {
        /// The property compared.
        path: ObjectPath<'a>,
        /// The operator.
        operator: ComparisonOperator,
        /// `true` when `NOT` precedes the operator.
        negated: bool,
        /// The constant compared with (a [`Constant::Set`] for `IN`).
        value: Constant<'a>,
    },
    /// `[NOT] EXISTS path` (STIX 2.1).
    Exists {
        /// The property tested.
        path: ObjectPath<'a>,
        /// `true` for `NOT EXISTS`.
        negated: bool,
    },
}

/// A comparison operator. Serialises as its canonical text (`"="`, `"IN"`, `"ISSUBSET"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum ComparisonOperator {
    /// `=` (also written `==`).
    #[serde(rename = "=")]
    Equal,
    /// `!=` (also written `<>`).
    #[serde(rename = "!=")]
    NotEqual,
    /// `<`.
    #[serde(rename = "<")]
    LessThan,
    /// `<=`.
    #[serde(rename = "<=")]
    LessThanOrEqual,
    /// `>`.
    #[serde(rename = ">")]
    GreaterThan,
    /// `>=`.
    #[serde(rename = ">=")]
    GreaterThanOrEqual,
    /// `IN (set)`.
    #[serde(rename = "IN")]
    In,
    /// `LIKE 'pattern'` (SQL-style `%` and `_`).
    #[serde(rename = "LIKE")]
    Like,
    /// `MATCHES 'regex'` (PCRE).
    #[serde(rename = "MATCHES")]
    Matches,
    /// `ISSUBSET 'cidr'`.
    #[serde(rename = "ISSUBSET")]
    IsSubset,
    /// `ISSUPERSET 'cidr'`.
    #[serde(rename = "ISSUPERSET")]
    IsSuperset,
}

impl ComparisonOperator {
    /// The canonical text (`=`, `!=`, `IN`, ...), as printed and serialised.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Equal => "=",
            Self::NotEqual => "!=",
            Self::LessThan => "<",
            Self::LessThanOrEqual => "<=",
            Self::GreaterThan => ">",
            Self::GreaterThanOrEqual => ">=",
            Self::In => "IN",
            Self::Like => "LIKE",
            Self::Matches => "MATCHES",
            Self::IsSubset => "ISSUBSET",
            Self::IsSuperset => "ISSUPERSET",
        }
    }
}

/// An object path: `file:hashes.'SHA-256'`, `email-message:body_multipart[*].body_raw_ref.name`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct ObjectPath<'a> {
    /// The object type before the `:` (`file`, `network-traffic`, `x-usb-device`).
    pub object_type: Cow<'a, str>,
    /// The steps after the `:`; the first is always a property.
    pub steps: Steps<'a>,
}

impl<'a> ObjectPath<'a> {
    /// A path of `object_type` and property names, e.g. `ObjectPath::new("file", ["hashes", "MD5"])`.
    pub fn new<S: Into<Cow<'a, str>>>(
        object_type: impl Into<Cow<'a, str>>,
        properties: impl IntoIterator<Item = S>,
    ) -> Self {
        Self {
            object_type: object_type.into(),
            steps: properties.into_iter().map(|name| PathStep::Property { name: name.into() }).collect(),
        }
    }
}

/// One step of an [`ObjectPath`] after the object type.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PathStep<'a> {
    /// A property or dictionary key, `.name` or `.'quoted name'` (quotes and escapes removed).
    Property {
        /// The name, decoded.
        name: Cow<'a, str>,
    },
    /// A list index, `[0]` or `[-1]`.
    Index {
        /// The index as written (negative counts from the end).
        index: i64,
    },
    /// Any list element, `[*]`.
    AnyIndex,
}

/// How many steps a [`Steps`] holds without allocating.
const INLINE_STEPS: usize = 2;

/// The steps of an [`ObjectPath`]: a list of [`PathStep`]s that holds up to two without allocating
/// (`ipv4-addr:value`, `file:hashes.MD5`, `network-traffic:protocols[*]`), and spills to a `Vec`
/// beyond that.
///
/// It dereferences to `[PathStep]`, compares with slices, arrays and `Vec`s of steps, is built
/// with `collect()`, `From<Vec<PathStep>>` or [`push`](Self::push), and serialises as a JSON array.
///
/// ```
/// use ti_relay::pattern::{PathStep, Steps};
///
/// let mut steps: Steps = vec![PathStep::Property { name: "hashes".into() }].into();
/// steps.push(PathStep::Property { name: "MD5".into() });
/// assert_eq!(steps.len(), 2);
/// assert_eq!(steps, [PathStep::Property { name: "hashes".into() }, PathStep::Property { name: "MD5".into() }]);
/// ```
#[derive(Clone)]
pub struct Steps<'a>(Repr<'a>);

#[derive(Clone)]
enum Repr<'a> {
    /// `items[..len]` are the steps; the rest are `AnyIndex` placeholders.
    Inline {
        len: u8,
        items: [PathStep<'a>; INLINE_STEPS],
    },
    Heap(Vec<PathStep<'a>>),
}

impl<'a> Steps<'a> {
    /// No steps.
    pub const fn new() -> Self {
        Self(Repr::Inline { len: 0, items: [const { PathStep::AnyIndex }; INLINE_STEPS] })
    }

    /// Appends a step.
    pub fn push(&mut self, step: PathStep<'a>) {
        match &mut self.0 {
            Repr::Inline { len, items } => {
                if let Some(slot) = items.get_mut(usize::from(*len)) {
                    *slot = step;
                    *len += 1;
                } else {
                    let mut heap = Vec::with_capacity(2 * INLINE_STEPS);
                    heap.extend(std::mem::replace(items, [const { PathStep::AnyIndex }; INLINE_STEPS]));
                    heap.push(step);
                    self.0 = Repr::Heap(heap);
                }
            }
            Repr::Heap(heap) => heap.push(step),
        }
    }

    /// The steps as a slice.
    pub fn as_slice(&self) -> &[PathStep<'a>] {
        match &self.0 {
            Repr::Inline { len, items } => items.get(..usize::from(*len)).unwrap_or_default(),
            Repr::Heap(heap) => heap,
        }
    }
}

impl Default for Steps<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> Deref for Steps<'a> {
    type Target = [PathStep<'a>];

    fn deref(&self) -> &Self::Target {
        self.as_slice()
    }
}

impl<'a> From<Vec<PathStep<'a>>> for Steps<'a> {
    fn from(steps: Vec<PathStep<'a>>) -> Self {
        if steps.len() <= INLINE_STEPS { steps.into_iter().collect() } else { Self(Repr::Heap(steps)) }
    }
}

impl<'a> FromIterator<PathStep<'a>> for Steps<'a> {
    fn from_iter<I: IntoIterator<Item = PathStep<'a>>>(iter: I) -> Self {
        let mut steps = Self::new();
        steps.extend(iter);
        steps
    }
}

impl<'a> Extend<PathStep<'a>> for Steps<'a> {
    fn extend<I: IntoIterator<Item = PathStep<'a>>>(&mut self, iter: I) {
        iter.into_iter().for_each(|step| self.push(step));
    }
}

impl<'s, 'a> IntoIterator for &'s Steps<'a> {
    type Item = &'s PathStep<'a>;
    type IntoIter = std::slice::Iter<'s, PathStep<'a>>;

    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

impl fmt::Debug for Steps<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

impl PartialEq for Steps<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Steps<'_> {}

impl<'a> PartialEq<[PathStep<'a>]> for Steps<'a> {
    fn eq(&self, other: &[PathStep<'a>]) -> bool {
        self.as_slice() == other
    }
}

impl<'a, const N: usize> PartialEq<[PathStep<'a>; N]> for Steps<'a> {
    fn eq(&self, other: &[PathStep<'a>; N]) -> bool {
        self.as_slice() == other
    }
}

impl<'a> PartialEq<Vec<PathStep<'a>>> for Steps<'a> {
    fn eq(&self, other: &Vec<PathStep<'a>>) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Hash for Steps<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl Serialize for Steps<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.as_slice().serialize(serializer)
    }
}

/// A constant on the right of a comparison. Serialises as `{"kind": "...", "value": ...}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Constant<'a> {
    /// `'text'`: the decoded text (`\'` and `\\` resolved).
    String(Cow<'a, str>),
    /// `42`, `-7`, `+3`.
    Integer(i64),
    /// `7.0`, `-.5` (always finite).
    Float(f64),
    /// `true` / `false`.
    Boolean(bool),
    /// `b'base64'`: the base64 text as written.
    Binary(Cow<'a, str>),
    /// `h'hex'`: the hex digits as written.
    Hex(Cow<'a, str>),
    /// `t'2016-06-01T00:00:00Z'`: the timestamp as written between the quotes.
    Timestamp(Cow<'a, str>),
    /// `(a, b, ...)`, for `IN`; may be empty.
    Set(Vec<Constant<'a>>),
}
