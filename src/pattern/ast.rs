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
//! # Invariants
//!
//! Trees built by the parser satisfy these; a tree built by hand must too, or printing it and
//! parsing the text again may not give it back:
//! - `And`, `Or` and `FollowedBy` have at least two operands;
//! - `Qualified` has at least one qualifier;
//! - an [`ObjectPath`] starts with a [`PathStep::Property`];
//! - `IN` compares with a [`Constant::Set`] (of non-set constants), `LIKE`, `MATCHES`, `ISSUBSET`
//!   and `ISSUPERSET` with a [`Constant::String`], `<`, `<=`, `>`, `>=` with anything but a boolean
//!   or a set, `=` and `!=` with anything but a set;
//! - floats are finite; hex, binary and timestamp texts have the shapes the grammar allows;
//! - object types are identifiers (`[A-Za-z_][A-Za-z0-9_-]*`).

use serde::Serialize;

/// A parsed STIX pattern: the root observation expression.
///
/// Serialises as its root node (there is no wrapper object in the JSON).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Pattern {
    /// The whole pattern.
    pub root: ObservationExpression,
}

/// An observation expression: one bracketed observation, or observations joined by `AND`, `OR`
/// and `FOLLOWEDBY`, or one with qualifiers.
///
/// Chains of one operator are flat: `[a] OR [b] OR [c]` is one `Or` with three operands. An
/// operand of the same kind as its parent (`Or` inside `Or`) stands for explicit parentheses,
/// `[a] OR ([b] OR [c])`, and is printed with them.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ObservationExpression {
    /// `[comparison]` (python-stix2 `ObservationExpression`).
    Observation {
        /// What the observed objects must satisfy.
        comparison: ComparisonExpression,
    },
    /// `a AND b AND ...` (python-stix2 `AndObservationExpression`): every operand is observed.
    And {
        /// Two or more operands.
        operands: Vec<ObservationExpression>,
    },
    /// `a OR b OR ...` (python-stix2 `OrObservationExpression`): any operand is observed.
    Or {
        /// Two or more operands.
        operands: Vec<ObservationExpression>,
    },
    /// `a FOLLOWEDBY b FOLLOWEDBY ...` (python-stix2 `FollowedByObservationExpression`): the
    /// operands are observed in this order.
    FollowedBy {
        /// Two or more operands.
        operands: Vec<ObservationExpression>,
    },
    /// An expression with one or more qualifiers, applied left to right
    /// (python-stix2 `QualifiedObservationExpression`).
    ///
    /// A qualified `Observation` is printed bare (`[a] WITHIN 5 SECONDS`); any other expression,
    /// including another `Qualified`, is printed in parentheses
    /// (`([a] WITHIN 5 SECONDS) REPEATS 2 TIMES`).
    Qualified {
        /// What is qualified.
        expression: Box<ObservationExpression>,
        /// One or more qualifiers, in the order written.
        qualifiers: Vec<Qualifier>,
    },
}

/// A qualifier on an observation expression.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Qualifier {
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
        start: String,
        /// The stop, as written between the quotes.
        stop: String,
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
pub enum ComparisonExpression {
    /// `a AND b AND ...` (python-stix2 `AndBooleanExpression`).
    And {
        /// Two or more operands.
        operands: Vec<ComparisonExpression>,
    },
    /// `a OR b OR ...` (python-stix2 `OrBooleanExpression`).
    Or {
        /// Two or more operands.
        operands: Vec<ComparisonExpression>,
    },
    /// `path [NOT] operator value`, e.g. `file:name = 'a'`, `file:size NOT > 10`,
    /// `ipv4-addr:value IN ('1.2.3.4', '5.6.7.8')`.
    Comparison {
        /// The property compared.
        path: ObjectPath,
        /// The operator.
        operator: ComparisonOperator,
        /// `true` when `NOT` precedes the operator.
        negated: bool,
        /// The constant compared with (a [`Constant::Set`] for `IN`).
        value: Constant,
    },
    /// `[NOT] EXISTS path` (STIX 2.1).
    Exists {
        /// The property tested.
        path: ObjectPath,
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
pub struct ObjectPath {
    /// The object type before the `:` (`file`, `network-traffic`, `x-usb-device`).
    pub object_type: String,
    /// The steps after the `:`; the first is always a property.
    pub steps: Vec<PathStep>,
}

impl ObjectPath {
    /// A path of `object_type` and property names, e.g. `ObjectPath::new("file", ["hashes", "MD5"])`.
    pub fn new<'a>(object_type: &str, properties: impl IntoIterator<Item = &'a str>) -> Self {
        Self {
            object_type: object_type.to_owned(),
            steps: properties
                .into_iter()
                .map(|name| PathStep::Property { name: name.to_owned() })
                .collect(),
        }
    }
}

/// One step of an [`ObjectPath`] after the object type.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PathStep {
    /// A property or dictionary key, `.name` or `.'quoted name'` (quotes and escapes removed).
    Property {
        /// The name, decoded.
        name: String,
    },
    /// A list index, `[0]` or `[-1]`.
    Index {
        /// The index as written (negative counts from the end).
        index: i64,
    },
    /// Any list element, `[*]`.
    AnyIndex,
}

/// A constant on the right of a comparison. Serialises as `{"kind": "...", "value": ...}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Constant {
    /// `'text'`: the decoded text (`\'` and `\\` resolved).
    String(String),
    /// `42`, `-7`, `+3`.
    Integer(i64),
    /// `7.0`, `-.5` (always finite).
    Float(f64),
    /// `true` / `false`.
    Boolean(bool),
    /// `b'base64'`: the base64 text as written.
    Binary(String),
    /// `h'hex'`: the hex digits as written.
    Hex(String),
    /// `t'2016-06-01T00:00:00Z'`: the timestamp as written between the quotes.
    Timestamp(String),
    /// `(a, b, ...)`, for `IN`; may be empty.
    Set(Vec<Constant>),
}
