//! The canonical printer: upper-case keywords, `=` and `!=`, single spaces, `'` strings re-escaped,
//! `t'..'` timestamps, and only the parentheses the tree needs.
//!
//! For every tree `p` the parser returns, `parse(&p.to_string()) == Ok(p)`, and printing is
//! idempotent. Parentheses are printed where a child binds looser than its parent
//! (`FOLLOWEDBY` < `OR` < `AND` < qualifiers; `OR` < `AND` in brackets) or is of the same kind (the
//! tree keeps explicit grouping such as `[a] OR ([b] OR [c])`), and around a qualified
//! observation that repeats a qualifier, which STIX 2.1 allows only on a parenthesised group.

use std::fmt::{self, Display, Formatter, Write};

use super::ast::{
    ComparisonExpression, ComparisonOperator, Constant, Number, ObjectPath, ObservationExpression, PathStep, Pattern,
    Qualifier,
};

impl Display for Pattern<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.root.fmt(f)
    }
}

impl Display for ObservationExpression<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Self::Observation { comparison } => write!(f, "[{comparison}]"),
            Self::And { operands } => join(f, operands, " AND ", |e| {
                matches!(e, Self::And { .. } | Self::Or { .. } | Self::FollowedBy { .. })
            }),
            Self::Or { operands } => {
                join(f, operands, " OR ", |e| matches!(e, Self::Or { .. } | Self::FollowedBy { .. }))
            }
            Self::FollowedBy { operands } => {
                join(f, operands, " FOLLOWEDBY ", |e| matches!(e, Self::FollowedBy { .. }))
            }
            Self::Qualified { expression, qualifiers } => {
                let bare = matches!(**expression, Self::Observation { .. }) && !repeats_a_kind(qualifiers);
                if bare {
                    write!(f, "{expression}")?;
                } else {
                    write!(f, "({expression})")?;
                }
                qualifiers.iter().try_for_each(|q| write!(f, " {q}"))
            }
        }
    }
}

/// Whether two qualifiers are of the same kind (`WITHIN` twice, ...).
fn repeats_a_kind(qualifiers: &[Qualifier<'_>]) -> bool {
    qualifiers
        .iter()
        .enumerate()
        .any(|(i, q)| qualifiers.iter().skip(i + 1).any(|r| std::mem::discriminant(q) == std::mem::discriminant(r)))
}

impl Display for Qualifier<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Self::Within { seconds } => write!(f, "WITHIN {seconds} SECONDS"),
            Self::Repeats { times } => write!(f, "REPEATS {times} TIMES"),
            Self::StartStop { start, stop } => write!(f, "START t'{start}' STOP t'{stop}'"),
        }
    }
}

impl Display for Number {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Integer(n) => write!(f, "{n}"),
            Self::Float(x) => write_float(f, x),
        }
    }
}

impl Display for ComparisonExpression<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Self::And { operands } => join(f, operands, " AND ", |e| matches!(e, Self::And { .. } | Self::Or { .. })),
            Self::Or { operands } => join(f, operands, " OR ", |e| matches!(e, Self::Or { .. })),
            Self::Comparison { path, operator, negated, value } => {
                let not = if *negated { "NOT " } else { "" };
                write!(f, "{path} {not}{operator} {value}")
            }
            Self::Exists { path, negated } => {
                let not = if *negated { "NOT " } else { "" };
                write!(f, "{not}EXISTS {path}")
            }
        }
    }
}

impl Display for ComparisonOperator {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `operands` joined by `sep`, each in parentheses where `needs_parens` says.
fn join<T: Display>(
    f: &mut Formatter<'_>,
    operands: &[T],
    sep: &str,
    needs_parens: impl Fn(&T) -> bool,
) -> fmt::Result {
    for (i, operand) in operands.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        if needs_parens(operand) {
            write!(f, "({operand})")?;
        } else {
            write!(f, "{operand}")?;
        }
    }
    Ok(())
}

impl Display for ObjectPath<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(&self.object_type)?;
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                PathStep::Property { name } => {
                    f.write_str(if i == 0 { ":" } else { "." })?;
                    write_name(f, name)?;
                }
                PathStep::Index { index } => write!(f, "[{index}]")?,
                PathStep::AnyIndex => f.write_str("[*]")?,
            }
        }
        Ok(())
    }
}

/// The words the grammar lexes as keywords (`LAST` is reserved; `true` and `false` are lower-case
/// there). A property with one of these names is quoted, so that grammar-based tools read it too.
const RESERVED: [&str; 19] = [
    "AND",
    "OR",
    "NOT",
    "FOLLOWEDBY",
    "LIKE",
    "MATCHES",
    "ISSUPERSET",
    "ISSUBSET",
    "EXISTS",
    "LAST",
    "IN",
    "START",
    "STOP",
    "SECONDS",
    "true",
    "false",
    "WITHIN",
    "REPEATS",
    "TIMES",
];

/// A property name: bare when it is an `IdentifierWithoutHyphen`, otherwise quoted.
fn write_name(f: &mut Formatter<'_>, name: &str) -> fmt::Result {
    let mut bytes = name.bytes();
    let bare = bytes.next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !RESERVED.contains(&name);
    if bare { f.write_str(name) } else { write_quoted(f, name) }
}

/// `'text'` with `'` and `\` escaped.
fn write_quoted(f: &mut Formatter<'_>, text: &str) -> fmt::Result {
    f.write_char('\'')?;
    let mut rest = text;
    while let Some(i) = rest.find(['\'', '\\']) {
        let (plain, special) = rest.split_at(i);
        f.write_str(plain)?;
        let mut chars = special.chars();
        if let Some(c) = chars.next() {
            f.write_char('\\')?;
            f.write_char(c)?;
        }
        rest = chars.as_str();
    }
    f.write_str(rest)?;
    f.write_char('\'')
}

/// A float that reads back as the same float and as a float: always with a `.` (`7.0`, not `7`).
fn write_float(f: &mut Formatter<'_>, x: f64) -> fmt::Result {
    // Display never uses an exponent: an integral float prints as digits alone (`7`, `1000000`).
    if x.fract() == 0.0 { write!(f, "{x}.0") } else { write!(f, "{x}") }
}

impl Display for Constant<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Self::String(s) => write_quoted(f, s),
            Self::Integer(n) => write!(f, "{n}"),
            Self::Float(x) => write_float(f, *x),
            Self::Boolean(b) => write!(f, "{b}"),
            Self::Binary(s) => write!(f, "b'{s}'"),
            Self::Hex(s) => write!(f, "h'{s}'"),
            Self::Timestamp(s) => write!(f, "t'{s}'"),
            Self::Set(items) => {
                f.write_char('(')?;
                join(f, items, ", ", |_| false)?;
                f.write_char(')')
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::pattern::parse;

    /// `input` prints as `canonical`, which parses back to the same tree.
    #[track_caller]
    fn prints(input: &str, canonical: &str) {
        let p = parse(input).unwrap();
        assert_eq!(p.to_string(), canonical, "{input}");
        assert_eq!(parse(canonical).unwrap(), p, "{canonical}");
    }

    #[test]
    fn canonical_forms() {
        prints("[file:size == 1280]", "[file:size = 1280]");
        prints("[file:size <> 1280]", "[file:size != 1280]");
        prints("[ file:name  not   like 'a%' ]", "[file:name NOT LIKE 'a%']");
        prints("[foo:bar=1] within 2 seconds", "[foo:bar = 1] WITHIN 2 SECONDS");
        prints("[x:a = TRUE] Or [x:b = False]", "[x:a = true] OR [x:b = false]");
        prints(
            "[x:a = +3 AND x:b = -.5 AND x:c = 7.0 AND x:d = 7.50]",
            "[x:a = 3 AND x:b = -0.5 AND x:c = 7.0 AND x:d = 7.5]",
        );
        prints("[x:a IN(1,'b' , true)]", "[x:a IN (1, 'b', true)]");
        prints("[x:a IN ()]", "[x:a IN ()]");
        prints("[file:hashes.'MD5' = 'a']", "[file:hashes.MD5 = 'a']");
        prints("[file:'name' = 'a']", "[file:name = 'a']");
        prints("[file:hashes.'SHA-256' = 'a']", "[file:hashes.'SHA-256' = 'a']");
        prints("[x:'AND'.'true'.start = 'a']", "[x:'AND'.'true'.start = 'a']");
        prints("[x:a[+1][-1][*] = 1]", "[x:a[1][-1][*] = 1]");
        prints(r"[x:a = 'it\'s a \\ back\\slash']", r"[x:a = 'it\'s a \\ back\\slash']");
        prints("[x:a = 'é \n ✓']", "[x:a = 'é \n ✓']");
        prints("/* c */ [x:a = 1] // end", "[x:a = 1]");
        prints("[not exists x:a]", "[NOT EXISTS x:a]");
        prints("[x:a = 1] WITHIN +5 SECONDS", "[x:a = 1] WITHIN 5 SECONDS");
        prints("[x:a = 1] WITHIN 2.50 SECONDS", "[x:a = 1] WITHIN 2.5 SECONDS");
        prints("[x:a = 1] WITHIN 3.0 SECONDS", "[x:a = 1] WITHIN 3.0 SECONDS");
    }

    #[test]
    fn minimal_parentheses() {
        prints("([a:b = 1])", "[a:b = 1]");
        prints("[(a:b = 1)]", "[a:b = 1]");
        prints("[a:b = 1] OR [a:b = 2] AND [a:b = 3]", "[a:b = 1] OR [a:b = 2] AND [a:b = 3]");
        prints("([a:b = 1] OR [a:b = 2]) AND [a:b = 3]", "([a:b = 1] OR [a:b = 2]) AND [a:b = 3]");
        prints("[a:b = 1] OR ([a:b = 2] OR [a:b = 3])", "[a:b = 1] OR ([a:b = 2] OR [a:b = 3])");
        prints("([a:b = 1] OR [a:b = 2]) OR [a:b = 3]", "([a:b = 1] OR [a:b = 2]) OR [a:b = 3]");
        prints("[a:b = 1] FOLLOWEDBY ([a:b = 2] AND [a:b = 3])", "[a:b = 1] FOLLOWEDBY [a:b = 2] AND [a:b = 3]");
        prints("([a:b = 1] FOLLOWEDBY [a:b = 2]) OR [a:b = 3]", "([a:b = 1] FOLLOWEDBY [a:b = 2]) OR [a:b = 3]");
        prints("[a:b = 1 OR (a:c = 2 AND a:d = 3)]", "[a:b = 1 OR a:c = 2 AND a:d = 3]");
        prints("[(a:b = 1 OR a:c = 2) AND a:d = 3]", "[(a:b = 1 OR a:c = 2) AND a:d = 3]");
        prints("[a:b = 1 AND (a:c = 2 AND a:d = 3)]", "[a:b = 1 AND (a:c = 2 AND a:d = 3)]");
        prints("([a:b = 1] AND [a:c = 2]) WITHIN 5 SECONDS", "([a:b = 1] AND [a:c = 2]) WITHIN 5 SECONDS");
        prints("([a:b = 1]) WITHIN 5 SECONDS", "[a:b = 1] WITHIN 5 SECONDS");
        prints("([a:b = 1] WITHIN 5 SECONDS) REPEATS 2 TIMES", "([a:b = 1] WITHIN 5 SECONDS) REPEATS 2 TIMES");
        prints("([a:b = 1]) WITHIN 5 SECONDS WITHIN 6 SECONDS", "([a:b = 1]) WITHIN 5 SECONDS WITHIN 6 SECONDS");
        prints("[a:b = 1] REPEATS 5 TIMES WITHIN 1800 SECONDS", "[a:b = 1] REPEATS 5 TIMES WITHIN 1800 SECONDS");
    }

    #[test]
    fn floats_keep_a_point() {
        prints("[x:a = 1000000000000000000000000.0]", "[x:a = 1000000000000000000000000.0]");
        prints("[x:a = -0.0]", "[x:a = -0.0]");
        prints("[x:a = 0.000001]", "[x:a = 0.000001]");
    }
}
