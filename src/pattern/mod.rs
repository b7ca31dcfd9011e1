//! STIX patterning: a parser for the whole STIX 2.1 (and 2.0) patterning grammar, a canonical
//! printer, and the extraction of the observables a destination can act on.
//!
//! In scope: the grammar of OASIS `STIXPattern.g4` (cti-stix2-json-schemas), read by hand-written
//! recursive descent; error messages that say where and what was expected; a tree the browser
//! preview can draw; [`extract`]. Out of scope: evaluating a pattern against observed data, and
//! checking values against the STIX object model (that `file:size` is an integer, say).
//!
//! ```
//! use ti_relay::pattern::{self, Extraction};
//!
//! let p = pattern::parse("[ipv4-addr:value = '198.51.100.1'] or [domain-name:value == 'example.com']")?;
//! assert_eq!(p.to_string(), "[ipv4-addr:value = '198.51.100.1'] OR [domain-name:value = 'example.com']");
//! let Extraction::Atomic(observables) = pattern::extract(&p) else { unreachable!() };
//! assert_eq!(observables.len(), 2);
//!
//! let err = pattern::parse("[file:size = ]").unwrap_err();
//! assert_eq!(err.to_string(), "expected a value after `=`, found `]` at offset 13");
//! # Ok::<(), ti_relay::Error>(())
//! ```
//!
//! # The grammar
//!
//! A pattern is one or more observation expressions, `[` comparison expression `]`, joined by
//! `AND`, `OR` and `FOLLOWEDBY` (binding from tightest to loosest: `AND`, `OR`, `FOLLOWEDBY`) and
//! grouped with parentheses. Any observation expression can carry qualifiers: `WITHIN n SECONDS`
//! (an integer or a float), `REPEATS n TIMES` and `START t'..' STOP t'..'`. Inside brackets,
//! comparisons are joined by `AND` and `OR` (`AND` binds tighter) and grouped with parentheses.
//! A comparison is `object-path [NOT] operator constant` with the operators `=` (or `==`), `!=`
//! (or `<>`), `<`, `<=`, `>`, `>=`, `IN (set)`, `LIKE`, `MATCHES`, `ISSUBSET`, `ISSUPERSET`, or
//! `[NOT] EXISTS object-path`. Object paths are `type:property` followed by `.property`,
//! `.'quoted property'`, `[index]` (negative from the end) and `[*]` steps. Constants are strings
//! (`'it\'s'`, escapes `\'` and `\\` only), integers, floats, `true` / `false`, `b'base64'`,
//! `h'hex'` and `t'YYYY-MM-DDThh:mm:ss[.s]Z'`. Whitespace (including the Unicode spaces the
//! grammar lists) and `/* */` and `//` comments are skipped.
//!
//! Keywords are case-insensitive (`within 5 seconds`), and recognised only where the grammar
//! expects one, so `network-traffic:start` is a property. Strict grammar tools want keywords in
//! upper case and `true` / `false` in lower case; the printer writes them that way.
//!
//! [`SpecVersion::V2_0`] differs from 2.1 in two ways: it has no `EXISTS`, and `START` / `STOP`
//! also take a plain string holding a timestamp (`START '2016-06-01T00:00:00Z'`), as the STIX 2.0
//! grammar wrote them. In 2.1, as cti-pattern-validator checks, a bracketed observation takes each
//! kind of qualifier at most once (`[a] WITHIN 5 SECONDS WITHIN 6 SECONDS` is an error;
//! `([a]) WITHIN 5 SECONDS WITHIN 6 SECONDS` is fine).
//!
//! # Limits
//!
//! No input makes the parser panic or overflow its stack: patterns longer than [`MAX_LEN`] bytes
//! are refused with [`Code::TooLarge`], and nesting of brackets and
//! parentheses deeper than [`MAX_DEPTH`] is an error. Integers are `i64` (`u64` for qualifier
//! counts), floats must be finite; a number out of range is an error.
//!
//! # Errors
//!
//! Every error is a [`Error`] with [`Code::Pattern`], a message that
//! names what was expected and what was found ("expected \`SECONDS\` after \`WITHIN 5\`, found
//! \`TIMES\`"), and [`Error::offset`]: the position in characters (Unicode
//! scalar values) from the start of the pattern, which `Display` appends (" at offset 23").
//!
//! # The tree, and its JSON
//!
//! [`parse`] returns a [`Pattern`]. It serialises (serde) to plain JSON objects, each tagged with
//! `"kind"`, with arrays for operands and no maps keyed by data, so the preview can walk it without
//! knowing Rust:
//!
//! | node | JSON |
//! | --- | --- |
//! | [`ObservationExpression`] | `{"kind":"observation","comparison":C}`, `{"kind":"and"\|"or"\|"followed_by","operands":[O,...]}`, `{"kind":"qualified","expression":O,"qualifiers":[Q,...]}` |
//! | [`Qualifier`] | `{"kind":"within","seconds":300}`, `{"kind":"repeats","times":5}`, `{"kind":"start_stop","start":"2016-06-01T00:00:00Z","stop":"..."}` |
//! | [`ComparisonExpression`] | `{"kind":"and"\|"or","operands":[C,...]}`, `{"kind":"comparison","path":P,"operator":"=","negated":false,"value":V}`, `{"kind":"exists","path":P,"negated":false}` |
//! | [`ObjectPath`] | `{"object_type":"file","steps":[S,...]}` |
//! | [`PathStep`] | `{"kind":"property","name":"SHA-256"}`, `{"kind":"index","index":0}`, `{"kind":"any_index"}` |
//! | [`Constant`] | `{"kind":"string"\|"integer"\|"float"\|"boolean"\|"binary"\|"hex"\|"timestamp","value":...}`, `{"kind":"set","value":[V,...]}` |
//!
//! `operator` is one of `=`, `!=`, `<`, `<=`, `>`, `>=`, `IN`, `LIKE`, `MATCHES`, `ISSUBSET`,
//! `ISSUPERSET`. Strings are decoded (`'it\'s'` is `"it's"`); binary, hex and timestamp values are
//! the text between the quotes. The [`Pattern`] itself serialises as its root. For example,
//! `[file:hashes.'SHA-256' = 'ab'] WITHIN 5 SECONDS` is:
//!
//! ```json
//! {"kind":"qualified",
//!  "expression":{"kind":"observation",
//!                "comparison":{"kind":"comparison",
//!                              "path":{"object_type":"file",
//!                                      "steps":[{"kind":"property","name":"hashes"},
//!                                               {"kind":"property","name":"SHA-256"}]},
//!                              "operator":"=","negated":false,
//!                              "value":{"kind":"string","value":"ab"}}},
//!  "qualifiers":[{"kind":"within","seconds":5}]}
//! ```
//!
//! # Borrowing and allocation
//!
//! The tree borrows from the text it was parsed from ([`Pattern<'a>`](Pattern)): object types,
//! property names and constants are `Cow<'a, str>`, slices of the text except for strings and
//! quoted property names that held an escape, which are decoded into owned strings. Paths keep up
//! to two steps inline ([`Steps`]). So `[ipv4-addr:value = '198.51.100.1']` parses without
//! allocating; what allocates is the operand list of each `AND` / `OR` / `FOLLOWEDBY` chain (one
//! for `[a] OR [b]` or a four-part conjunction), qualifier lists, sets, longer paths and escaped
//! strings. The JSON and the printed form do not depend on which: a tree built by hand with owned
//! strings prints and serialises the same.
//!
//! # Printing
//!
//! `Display` prints the canonical form: upper-case keywords, `=` and `!=`, single spaces,
//! properties quoted only when they must be, floats always with a `.`, and the fewest parentheses
//! that keep the tree (see `print.rs`). `parse(&p.to_string()) == Ok(p)` for every parsed `p`, and
//! printing is idempotent.

mod ast;
mod extract;
mod lexer;
mod parser;
mod print;

pub use ast::{
    ComparisonExpression, ComparisonOperator, Constant, Number, ObjectPath, ObservationExpression, PathStep, Pattern,
    Qualifier, Steps,
};
pub use extract::{Extraction, extract, extract_simple};

use crate::error::{Code, Error};

/// The longest pattern [`parse`] reads, in bytes (64 KiB).
pub const MAX_LEN: usize = 64 * 1024;

/// The deepest nesting of `[` and `(` [`parse`] reads.
pub const MAX_DEPTH: usize = 100;

/// Which STIX version's patterning rules to apply.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SpecVersion {
    /// STIX 2.0: no `EXISTS`; `START` / `STOP` also take plain strings.
    V2_0,
    /// STIX 2.1 (the default).
    #[default]
    V2_1,
}

impl SpecVersion {
    /// Reads a STIX `spec_version` / `pattern_version` value: `2.0` or `2.1`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name.trim() {
            "2.0" => Some(Self::V2_0),
            "2.1" => Some(Self::V2_1),
            _ => None,
        }
    }
}

/// Parses a STIX 2.1 pattern.
///
/// ```
/// use ti_relay::pattern::{ObservationExpression, parse};
///
/// let p = parse("[url:value = 'http://example.com/'] FOLLOWEDBY [file:name = 'a.exe']")?;
/// assert!(matches!(p.root, ObservationExpression::FollowedBy { .. }));
/// # Ok::<(), ti_relay::Error>(())
/// ```
pub fn parse(text: &str) -> Result<Pattern<'_>, Error> {
    parse_version(text, SpecVersion::V2_1)
}

/// Parses a pattern by the rules of `version` (see the [module docs](self) for the differences).
///
/// ```
/// use ti_relay::pattern::{SpecVersion, parse_version};
///
/// let text = "[file:name = 'a'] START '2016-06-01T00:00:00Z' STOP '2016-07-01T00:00:00Z'";
/// let p = parse_version(text, SpecVersion::V2_0)?;
/// assert_eq!(p.to_string(), "[file:name = 'a'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'");
/// assert!(parse_version(text, SpecVersion::V2_1).is_err());
/// # Ok::<(), ti_relay::Error>(())
/// ```
pub fn parse_version(text: &str, version: SpecVersion) -> Result<Pattern<'_>, Error> {
    if text.len() > MAX_LEN {
        return Err(Error::new(
            Code::TooLarge,
            format!("pattern too long: {} bytes, more than the limit of {MAX_LEN}", text.len()),
        ));
    }
    let root = parser::Parser::new(text, version)?.pattern()?;
    Ok(Pattern { root })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(
        object_type: &'static str,
        property: &'static str,
        value: Constant<'static>,
    ) -> ObservationExpression<'static> {
        ObservationExpression::Observation { comparison: cmp(object_type, property, value) }
    }

    fn cmp(
        object_type: &'static str,
        property: &'static str,
        value: Constant<'static>,
    ) -> ComparisonExpression<'static> {
        ComparisonExpression::Comparison {
            path: ObjectPath::new(object_type, [property]),
            operator: ComparisonOperator::Equal,
            negated: false,
            value,
        }
    }

    fn int(n: i64) -> Constant<'static> {
        Constant::Integer(n)
    }

    #[test]
    fn simple_observation() {
        let p = parse("[ipv4-addr:value = '1.2.3.4']").unwrap();
        assert_eq!(p.root, obs("ipv4-addr", "value", Constant::String("1.2.3.4".into())));
    }

    /// Everything that can be a slice of the text is one; escaped strings are decoded copies.
    #[test]
    fn the_tree_borrows_from_the_text() {
        use std::borrow::Cow;
        let text = String::from(
            r"[file:hashes.'SHA-256' = 'ab' AND x:'it\'s'[*].b = 'c\'d' AND y:z = t'2016-06-01T00:00:00Z']",
        );
        let p = parse(&text).unwrap();
        let ObservationExpression::Observation { comparison: ComparisonExpression::And { operands } } = &p.root else {
            panic!("{p:?}")
        };
        let borrowed = |c: &Cow<'_, str>| match c {
            Cow::Borrowed(s) => text.as_bytes().as_ptr_range().contains(&s.as_ptr()),
            Cow::Owned(_) => false,
        };
        let parts: Vec<(&ObjectPath<'_>, &Constant<'_>)> = operands
            .iter()
            .map(|c| match c {
                ComparisonExpression::Comparison { path, value, .. } => (path, value),
                other => panic!("{other:?}"),
            })
            .collect();
        let names = |path: &ObjectPath<'_>| -> Vec<bool> {
            path.steps
                .iter()
                .filter_map(|s| match s {
                    PathStep::Property { name } => Some(borrowed(name)),
                    _ => None,
                })
                .collect()
        };
        // file:hashes.'SHA-256' = 'ab'
        assert!(borrowed(&parts[0].0.object_type));
        assert_eq!(names(parts[0].0), [true, true]);
        assert!(matches!(parts[0].1, Constant::String(s) if borrowed(s) && s == "ab"));
        // x:'it\'s'[*].b = 'c\'d': the escaped name and string are owned, decoded.
        assert_eq!(names(parts[1].0), [false, true]);
        assert_eq!(parts[1].0.steps[0], PathStep::Property { name: "it's".into() });
        assert!(matches!(parts[1].1, Constant::String(s) if !borrowed(s) && s == "c'd"));
        // Three steps spill out of the inline storage and still compare and print the same.
        assert_eq!(parts[1].0.steps.len(), 3);
        assert_eq!(parts[1].0.to_string(), r"x:'it\'s'[*].b");
        assert!(matches!(parts[2].1, Constant::Timestamp(s) if borrowed(s)));
    }

    #[test]
    fn steps_compare_hash_and_serialise_like_a_vec() {
        use std::hash::BuildHasher;
        let prop = |name: &'static str| PathStep::Property { name: name.into() };
        for n in 0..5 {
            let vec: Vec<PathStep<'_>> =
                (0..n).map(|i| if i % 2 == 0 { prop("a") } else { PathStep::Index { index: i } }).collect();
            let collected: Steps<'_> = vec.iter().cloned().collect();
            let converted = Steps::from(vec.clone());
            let mut pushed = Steps::new();
            vec.iter().cloned().for_each(|s| pushed.push(s));
            for steps in [&collected, &converted, &pushed] {
                assert_eq!(steps, &vec);
                assert_eq!(steps.as_slice(), vec.as_slice());
                assert_eq!(format!("{steps:?}"), format!("{vec:?}"));
                assert_eq!(serde_json::to_string(steps).unwrap(), serde_json::to_string(&vec).unwrap());
            }
            assert_eq!(collected, converted);
            assert_eq!(converted, pushed);
            let state = std::hash::RandomState::new();
            assert_eq!(state.hash_one(&collected), state.hash_one(&pushed));
        }
    }

    #[test]
    fn observation_precedence() {
        // FOLLOWEDBY < OR < AND
        let p = parse("[a:b = 1] AND [a:b = 2] OR [a:b = 3] FOLLOWEDBY [a:b = 4]").unwrap();
        let want = ObservationExpression::FollowedBy {
            operands: vec![
                ObservationExpression::Or {
                    operands: vec![
                        ObservationExpression::And { operands: vec![obs("a", "b", int(1)), obs("a", "b", int(2))] },
                        obs("a", "b", int(3)),
                    ],
                },
                obs("a", "b", int(4)),
            ],
        };
        assert_eq!(p.root, want);
    }

    #[test]
    fn comparison_precedence() {
        let p = parse("[a:b = 1 OR a:b = 2 AND a:b = 3]").unwrap();
        let want = ObservationExpression::Observation {
            comparison: ComparisonExpression::Or {
                operands: vec![
                    cmp("a", "b", int(1)),
                    ComparisonExpression::And { operands: vec![cmp("a", "b", int(2)), cmp("a", "b", int(3))] },
                ],
            },
        };
        assert_eq!(p.root, want);
    }

    #[test]
    fn qualifiers_bind_to_one_observation() {
        let p = parse("[a:b = 1] AND [a:b = 2] WITHIN 5 SECONDS REPEATS 2 TIMES").unwrap();
        let want = ObservationExpression::And {
            operands: vec![
                obs("a", "b", int(1)),
                ObservationExpression::Qualified {
                    expression: Box::new(obs("a", "b", int(2))),
                    qualifiers: vec![
                        Qualifier::Within { seconds: Number::Integer(5) },
                        Qualifier::Repeats { times: 2 },
                    ],
                },
            ],
        };
        assert_eq!(p.root, want);
    }

    #[test]
    fn keywords_are_case_insensitive_and_contextual() {
        let a = parse("[a:b = 1] and [a:b = 2] within 5.5 seconds").unwrap();
        let b = parse("[a:b = 1] AND [a:b = 2] WITHIN 5.5 SECONDS").unwrap();
        assert_eq!(a, b);
        // Keyword-like names are names where a name is expected.
        let p = parse("[network-traffic:start = 1 AND exists:not = 2 AND not:in = 3 AND x:and.or = 4]").unwrap();
        assert_eq!(p.to_string(), "[network-traffic:start = 1 AND exists:not = 2 AND not:in = 3 AND x:and.or = 4]");
        let p = parse("[EXISTS x:y AND NOT EXISTS x:z]").unwrap();
        assert_eq!(p.to_string(), "[EXISTS x:y AND NOT EXISTS x:z]");
    }

    #[test]
    fn path_steps() {
        let p = parse("[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]").unwrap();
        let ObservationExpression::Observation { comparison: ComparisonExpression::Comparison { path, .. } } = p.root
        else {
            panic!()
        };
        assert_eq!(path.object_type, "file");
        assert_eq!(
            path.steps,
            [
                PathStep::Property { name: "extensions".into() },
                PathStep::Property { name: "windows-pebinary-ext".into() },
                PathStep::Property { name: "sections".into() },
                PathStep::AnyIndex,
                PathStep::Property { name: "entropy".into() },
            ]
        );
    }

    #[test]
    fn constants() {
        let p = parse(
            r"[x:a IN ('it\'s', -5, +.5, true, b'dGVzdA==', h'ffd8', t'2016-06-01T00:00:00.123Z', 9223372036854775807)]",
        )
        .unwrap();
        let ObservationExpression::Observation { comparison: ComparisonExpression::Comparison { value, .. } } = p.root
        else {
            panic!()
        };
        assert_eq!(
            value,
            Constant::Set(vec![
                Constant::String("it's".into()),
                Constant::Integer(-5),
                Constant::Float(0.5),
                Constant::Boolean(true),
                Constant::Binary("dGVzdA==".into()),
                Constant::Hex("ffd8".into()),
                Constant::Timestamp("2016-06-01T00:00:00.123Z".into()),
                Constant::Integer(i64::MAX),
            ])
        );
    }

    #[test]
    fn versions_differ() {
        assert!(parse("[EXISTS x:y]").is_ok());
        assert_eq!(
            parse_version("[NOT EXISTS x:y]", SpecVersion::V2_0).unwrap_err().to_string(),
            "`EXISTS` is STIX 2.1 syntax, not available in STIX 2.0 at offset 5"
        );
        let dup = "[a:b = 1] WITHIN 5 SECONDS WITHIN 6 SECONDS";
        assert!(parse(dup).is_err());
        assert!(parse_version(dup, SpecVersion::V2_0).is_ok());
        // The printed form of the 2.0 tree is valid 2.1.
        let p = parse_version(dup, SpecVersion::V2_0).unwrap();
        assert_eq!(parse(&p.to_string()).unwrap(), p);
        assert_eq!(SpecVersion::from_name("2.0"), Some(SpecVersion::V2_0));
        assert_eq!(SpecVersion::from_name("2.1"), Some(SpecVersion::V2_1));
        assert_eq!(SpecVersion::from_name("3"), None);
    }

    #[test]
    fn limits() {
        let deep = format!("{}[a:b = 1]{}", "(".repeat(99), ")".repeat(99));
        assert!(parse(&deep).is_ok());
        let too_deep = format!("{}[a:b = 1]{}", "(".repeat(100), ")".repeat(100));
        assert_eq!(
            parse(&too_deep).unwrap_err().to_string(),
            "nesting too deep: more than 100 levels of brackets and parentheses at offset 100"
        );
        let inner = format!("[{}a:b = 1{}]", "(".repeat(100), ")".repeat(100));
        assert!(parse(&inner).is_err());
        // Unbounded input of any shape is an error, never a stack overflow.
        assert!(parse(&"(".repeat(1_000_000)).is_err());
        assert!(parse(&"[".repeat(60_000)).is_err());
        let long = format!("[a:b = '{}']", "x".repeat(MAX_LEN));
        let err = parse(&long).unwrap_err();
        assert_eq!(err.code(), Code::TooLarge);
        assert_eq!(err.to_string(), "pattern too long: 65546 bytes, more than the limit of 65536");
        // Long flat chains are fine: they are loops, not recursion.
        let chain = vec!["[a:b = 1]"; 5000].join(" OR ");
        assert!(parse(&chain).is_ok());
    }

    #[test]
    fn serialises_as_tagged_json() {
        let p = parse("[file:hashes.'SHA-256' = 'ab'] WITHIN 5 SECONDS").unwrap();
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"kind":"qualified","expression":{"kind":"observation","comparison":{"kind":"comparison","path":{"object_type":"file","steps":[{"kind":"property","name":"hashes"},{"kind":"property","name":"SHA-256"}]},"operator":"=","negated":false,"value":{"kind":"string","value":"ab"}}},"qualifiers":[{"kind":"within","seconds":5}]}"#
        );
        let p = parse("[x:a[*] IN (1, 2.5, true) OR NOT EXISTS x:b[0]] START t'2016-06-01T00:00:00Z' STOP t'2016-06-02T00:00:00Z'")
            .unwrap();
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"kind":"qualified","expression":{"kind":"observation","comparison":{"kind":"or","operands":[{"kind":"comparison","path":{"object_type":"x","steps":[{"kind":"property","name":"a"},{"kind":"any_index"}]},"operator":"IN","negated":false,"value":{"kind":"set","value":[{"kind":"integer","value":1},{"kind":"float","value":2.5},{"kind":"boolean","value":true}]}},{"kind":"exists","path":{"object_type":"x","steps":[{"kind":"property","name":"b"},{"kind":"index","index":0}]},"negated":true}]}},"qualifiers":[{"kind":"start_stop","start":"2016-06-01T00:00:00Z","stop":"2016-06-02T00:00:00Z"}]}"#
        );
    }
}
