//! Observable extraction: which observables a destination can act on, from a parsed pattern.
//!
//! A pattern is *atomic* when it is one or more alternatives, each of which names one observable:
//!
//! | pattern | observables |
//! | --- | --- |
//! | `[ipv4-addr:value = '1.2.3.4']` | one `ipv4` |
//! | `[url:value = 'a' OR url:value = 'b']`, `[url:value = 'a'] OR [domain-name:value = 'c']` | one each |
//! | `[network-traffic:dst_ref.value = '1.2.3.4' AND network-traffic:dst_port = 443]` (optionally `AND network-traffic:protocols[*] = 'tcp'`, `AND network-traffic:dst_ref.type = 'ipv4-addr'`) | the address with `port` / `protocol` |
//! | `[windows-registry-key:key = 'HKLM\\..' AND windows-registry-key:values[*].name = 'Run']` (optionally `values[*].data_type`) | the key with `value_name` / `value_type` |
//!
//! Alternatives are `OR`s at any depth, inside one observation or across observations. Anything
//! else is [`Extraction::NotAtomic`] with a reason: `FOLLOWEDBY`, `AND` between observations, any
//! qualifier, an operator other than `=`, `NOT`, `IN`, `EXISTS`, a conjunction other than the two
//! above, or a path no destination takes.
//!
//! Supported paths: `ipv4-addr:value`, `ipv6-addr:value`, `domain-name:value`, `hostname:value`
//! (as `OpenCTI` writes it), `url:value`, `file:hashes.<algorithm>`, `x509-certificate:hashes.<algorithm>`,
//! `email-addr:value`, `email-message:from_ref.value`, `email-message:sender_ref.value`,
//! `email-message:subject`, `autonomous-system:number`, `windows-registry-key:key` and
//! `network-traffic:dst_ref.value` (an IPv4 or IPv6 address or a domain, by `dst_ref.type` when
//! given, otherwise by the value's shape).
//!
//! Values go through [`normalize::observable`](crate::normalize::observable). A value that fails is
//! an `Err` in its place in the list; the other observables are still delivered. Identical
//! observables are listed once.

use std::net::Ipv4Addr;

use super::ast::{ComparisonExpression, ComparisonOperator, Constant, ObjectPath, ObservationExpression, PathStep, Pattern};
use crate::error::{Code, Error, quote};
use crate::model::{HashAlgorithm, Observable, ObservableType};
use crate::normalize;

/// What [`extract`] found.
#[derive(Clone, Debug, PartialEq)]
pub enum Extraction {
    /// The pattern is one or more alternatives of one observable each: one result per distinct
    /// observable, in pattern order; `Err` where the value is invalid.
    Atomic(Vec<Result<Observable, Error>>),
    /// The pattern cannot be reduced to observables; the sentence says why, for a SOC engineer
    /// ("the pattern joins observations with FOLLOWEDBY, which ...").
    NotAtomic(String),
}

/// Extracts the observables of `pattern` (see the [module docs](self) for the rules).
///
/// ```
/// use ti_relay::pattern::{Extraction, extract, parse};
///
/// let p = parse("[ipv4-addr:value = '198.51.100.1'] OR [url:value = 'http://example.com/']")?;
/// let Extraction::Atomic(observables) = extract(&p) else { panic!() };
/// assert_eq!(observables.len(), 2);
///
/// let p = parse("[file:name = 'a.exe'] FOLLOWEDBY [file:name = 'b.exe']")?;
/// assert!(matches!(extract(&p), Extraction::NotAtomic(_)));
/// # Ok::<(), ti_relay::Error>(())
/// ```
pub fn extract(pattern: &Pattern) -> Extraction {
    let mut alternatives = Vec::new();
    if let Err(reason) = observation_alternatives(&pattern.root, &mut alternatives, 0) {
        return Extraction::NotAtomic(reason);
    }
    let mut atoms = Vec::with_capacity(alternatives.len());
    for alternative in alternatives {
        match atom(alternative) {
            Ok(atom) => atoms.push(atom),
            Err(reason) => return Extraction::NotAtomic(reason),
        }
    }
    let mut observables: Vec<Result<Observable, Error>> = Vec::with_capacity(atoms.len());
    for atom in atoms {
        let result = atom.observable();
        let seen = matches!(&result, Ok(o) if observables.iter().any(|r| r.as_ref().is_ok_and(|p| p == o)));
        if !seen {
            observables.push(result);
        }
    }
    Extraction::Atomic(observables)
}

/// Deeper than the parser allows: only a tree built by hand gets here.
const MAX_DEPTH: usize = 2 * super::MAX_DEPTH + 8;

fn too_deep() -> String {
    "the pattern nests too deeply to be reduced to observables".to_owned()
}

/// Collects the comparison expressions that are alternatives: the operands of `OR`s, down through
/// observations, that are not `OR`s themselves.
fn observation_alternatives<'p>(
    e: &'p ObservationExpression,
    out: &mut Vec<&'p ComparisonExpression>,
    depth: usize,
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(too_deep());
    }
    match e {
        ObservationExpression::Observation { comparison } => comparison_alternatives(comparison, out, depth + 1),
        ObservationExpression::Or { operands } => {
            operands.iter().try_for_each(|o| observation_alternatives(o, out, depth + 1))
        }
        ObservationExpression::FollowedBy { .. } => Err(
            "the pattern joins observations with FOLLOWEDBY, which no destination can match as a single indicator"
                .to_owned(),
        ),
        ObservationExpression::And { .. } => Err(
            "the pattern joins observations with AND, which no destination can match as a single indicator".to_owned(),
        ),
        ObservationExpression::Qualified { qualifiers, .. } => {
            let first = qualifiers.first().map_or_else(String::new, ToString::to_string);
            Err(format!(
                "the pattern qualifies an observation with {}, which no destination can enforce on an indicator",
                quote(&first)
            ))
        }
    }
}

fn comparison_alternatives<'p>(
    c: &'p ComparisonExpression,
    out: &mut Vec<&'p ComparisonExpression>,
    depth: usize,
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(too_deep());
    }
    if let ComparisonExpression::Or { operands } = c {
        operands.iter().try_for_each(|o| comparison_alternatives(o, out, depth + 1))
    } else {
        out.push(c);
        Ok(())
    }
}

/// What an observable is made from, before its value is normalised.
struct Atom<'p> {
    kind: Kind,
    algorithm: Option<HashAlgorithm>,
    /// The path the value came from, for messages.
    path: &'p ObjectPath,
    value: &'p Constant,
    port: Option<&'p Constant>,
    protocol: Option<&'p Constant>,
    value_name: Option<&'p Constant>,
    value_type: Option<&'p Constant>,
}

#[derive(Clone, Copy)]
enum Kind {
    Fixed(ObservableType),
    /// `network-traffic:dst_ref.value`: IPv4, IPv6 or domain, by `dst_ref.type` or by shape.
    Address(Option<ObservableType>),
}

/// One `=` comparison: the parts of a `Comparison` node.
struct Equality<'p> {
    path: &'p ObjectPath,
    value: &'p Constant,
}

/// The atom of one alternative, or why it has none.
fn atom(alternative: &ComparisonExpression) -> Result<Atom<'_>, String> {
    if let ComparisonExpression::And { operands } = alternative {
        let mut parts = Vec::with_capacity(operands.len());
        conjuncts(operands, &mut parts, 0)?;
        conjunction(&parts)
    } else {
        let eq = equality(alternative)?;
        let (kind, algorithm) = supported(eq.path)?;
        Ok(Atom {
                kind,
                algorithm,
                path: eq.path,
                value: eq.value,
                port: None,
                protocol: None,
            value_name: None,
            value_type: None,
        })
    }
}

/// The comparison as an `=`, or why it is not one.
fn equality(c: &ComparisonExpression) -> Result<Equality<'_>, String> {
    match c {
        ComparisonExpression::Comparison { path, operator, negated, value } => {
            if *negated {
                Err(format!(
                    "the pattern negates a comparison ({}), which no destination can match as an indicator",
                    quote(&format!("{path} NOT {operator}"))
                ))
            } else if *operator != ComparisonOperator::Equal {
                Err(format!(
                    "the pattern compares {} with {}; only `=` comparisons become indicators",
                    quote(&path.to_string()),
                    quote(operator.as_str())
                ))
            } else {
                Ok(Equality { path, value })
            }
        }
        ComparisonExpression::Exists { path, .. } => Err(format!(
            "the pattern tests whether {} exists, which no destination can match as an indicator",
            quote(&path.to_string())
        )),
        ComparisonExpression::And { .. } | ComparisonExpression::Or { .. } => Err(
            "the pattern mixes AND and OR inside one observation, which no destination can match as a single indicator"
                .to_owned(),
        ),
    }
}

/// The observable type (and hash algorithm) a lone `=` on `path` gives.
fn supported(path: &ObjectPath) -> Result<(Kind, Option<HashAlgorithm>), String> {
    use ObservableType as T;
    let fixed = |t| Ok((Kind::Fixed(t), None));
    let ty = path.object_type.as_str();
    match path.steps.as_slice() {
        [a] => match (ty, name(a)) {
            ("ipv4-addr", Some("value")) => fixed(T::Ipv4),
            ("ipv6-addr", Some("value")) => fixed(T::Ipv6),
            ("domain-name" | "hostname", Some("value")) => fixed(T::Domain),
            ("url", Some("value")) => fixed(T::Url),
            ("email-addr", Some("value")) => fixed(T::Email),
            ("email-message", Some("subject")) => fixed(T::EmailSubject),
            ("autonomous-system", Some("number")) => fixed(T::Asn),
            ("windows-registry-key", Some("key")) => fixed(T::RegistryKey),
            _ => Err(unsupported(path)),
        },
        [a, b] => match (ty, name(a), name(b)) {
            ("file", Some("hashes"), Some(alg)) => hashed(T::File, alg),
            ("x509-certificate", Some("hashes"), Some(alg)) => hashed(T::Certificate, alg),
            ("email-message", Some("from_ref" | "sender_ref"), Some("value")) => fixed(T::Email),
            ("network-traffic", Some("dst_ref"), Some("value")) => Ok((Kind::Address(None), None)),
            _ => Err(unsupported(path)),
        },
        _ => Err(unsupported(path)),
    }
}

fn hashed(kind: ObservableType, algorithm: &str) -> Result<(Kind, Option<HashAlgorithm>), String> {
    match HashAlgorithm::from_name(algorithm) {
        Some(alg) => Ok((Kind::Fixed(kind), Some(alg))),
        None => Err(format!(
            "the pattern uses the hash algorithm {}, which no destination takes as an indicator",
            quote(algorithm)
        )),
    }
}

fn unsupported(path: &ObjectPath) -> String {
    format!("the pattern compares {}, which no destination takes as an indicator", quote(&path.to_string()))
}

fn name(step: &PathStep) -> Option<&str> {
    match step {
        PathStep::Property { name } => Some(name),
        _ => None,
    }
}

/// Flattens nested `AND`s into their `=` comparisons.
fn conjuncts<'p>(operands: &'p [ComparisonExpression], out: &mut Vec<Equality<'p>>, depth: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(too_deep());
    }
    for operand in operands {
        match operand {
            ComparisonExpression::And { operands } => conjuncts(operands, out, depth + 1)?,
            _ => out.push(equality(operand)?),
        }
    }
    Ok(())
}

/// The atom of a conjunction of `=` comparisons: a network-traffic destination with its port and
/// protocol, or a registry key with its value, or why not.
fn conjunction<'p>(parts: &[Equality<'p>]) -> Result<Atom<'p>, String> {
    let same_type = |ty: &str| parts.iter().all(|p| p.path.object_type == ty);
    if same_type("network-traffic") {
        network_traffic(parts)
    } else if same_type("windows-registry-key") {
        registry_key(parts)
    } else {
        Err(unrelated(parts))
    }
}

fn unrelated(parts: &[Equality<'_>]) -> String {
    let mut paths = parts.iter().map(|p| quote(&p.path.to_string()));
    let first = paths.next().unwrap_or_default();
    let second = paths.next().unwrap_or_default();
    format!("the pattern requires {first} and {second} to match together, which no destination can express as a single indicator")
}

/// Sets `slot` to `value` unless it is already set (a property given twice is not atomic).
fn once<'p>(slot: &mut Option<&'p Constant>, value: &'p Constant, parts: &[Equality<'_>]) -> Result<(), String> {
    if slot.replace(value).is_some() { Err(unrelated(parts)) } else { Ok(()) }
}

fn network_traffic<'p>(parts: &[Equality<'p>]) -> Result<Atom<'p>, String> {
    let (mut value, mut declared, mut port, mut protocol) = (None, None, None, None);
    let mut path = None;
    for part in parts {
        match part.path.steps.as_slice() {
            [a, b] if name(a) == Some("dst_ref") && name(b) == Some("value") => {
                once(&mut value, part.value, parts)?;
                path = Some(part.path);
            }
            [a, b] if name(a) == Some("dst_ref") && name(b) == Some("type") => once(&mut declared, part.value, parts)?,
            [a] if name(a) == Some("dst_port") => once(&mut port, part.value, parts)?,
            [a, PathStep::AnyIndex | PathStep::Index { .. }] if name(a) == Some("protocols") => {
                once(&mut protocol, part.value, parts)?;
            }
            _ => return Err(unrelated(parts)),
        }
    }
    let (Some(value), Some(path)) = (value, path) else {
        return Err(unrelated(parts));
    };
    let declared = match declared {
        None => None,
        Some(Constant::String(t)) if t == "ipv4-addr" => Some(ObservableType::Ipv4),
        Some(Constant::String(t)) if t == "ipv6-addr" => Some(ObservableType::Ipv6),
        Some(Constant::String(t)) if t == "domain-name" => Some(ObservableType::Domain),
        Some(other) => {
            return Err(format!(
                "the pattern's destination is of type {}, which no destination takes as an indicator",
                quote(&other.to_string())
            ));
        }
    };
    Ok(Atom {
        kind: Kind::Address(declared),
        algorithm: None,
        path,
        value,
        port,
        protocol,
        value_name: None,
        value_type: None,
    })
}

fn registry_key<'p>(parts: &[Equality<'p>]) -> Result<Atom<'p>, String> {
    let (mut key, mut value_name, mut value_type) = (None, None, None);
    let mut path = None;
    for part in parts {
        match part.path.steps.as_slice() {
            [a] if name(a) == Some("key") => {
                once(&mut key, part.value, parts)?;
                path = Some(part.path);
            }
            [a, PathStep::AnyIndex | PathStep::Index { .. }, b] if name(a) == Some("values") => match name(b) {
                Some("name") => once(&mut value_name, part.value, parts)?,
                Some("data_type") => once(&mut value_type, part.value, parts)?,
                _ => return Err(unrelated(parts)),
            },
            _ => return Err(unrelated(parts)),
        }
    }
    let (Some(key), Some(path)) = (key, path) else {
        return Err(unrelated(parts));
    };
    Ok(Atom {
        kind: Kind::Fixed(ObservableType::RegistryKey),
        algorithm: None,
        path,
        value: key,
        port: None,
        protocol: None,
        value_name,
        value_type,
    })
}

impl Atom<'_> {
    /// The normalised observable, or why the value is invalid.
    fn observable(&self) -> Result<Observable, Error> {
        let raw: std::borrow::Cow<'_, str> = match (self.kind, self.value) {
            (_, Constant::String(s)) => s.as_str().into(),
            (Kind::Fixed(ObservableType::Asn), Constant::Integer(n)) => {
                if u32::try_from(*n).is_err() {
                    return Err(self.invalid("an autonomous system number in 0–4294967295"));
                }
                n.to_string().into()
            }
            (Kind::Fixed(ObservableType::Asn), _) => return Err(self.invalid("an autonomous system number")),
            _ => return Err(self.invalid("a string")),
        };
        let kind = match self.kind {
            Kind::Fixed(kind) | Kind::Address(Some(kind)) => kind,
            Kind::Address(None) => address_shape(&raw),
        };
        let mut observable = normalize::observable(kind, self.algorithm, &raw)?;
        if let Some(port) = self.port {
            observable.port = Some(port_number(port)?);
        }
        if let Some(protocol) = self.protocol {
            observable.protocol = Some(text(protocol, "network-traffic:protocols")?.to_ascii_lowercase());
        }
        if let Some(name) = self.value_name {
            observable.value_name = Some(text(name, "windows-registry-key:values[*].name")?.to_owned());
        }
        if let Some(data_type) = self.value_type {
            observable.value_type = Some(text(data_type, "windows-registry-key:values[*].data_type")?.to_owned());
        }
        Ok(observable)
    }

    fn invalid(&self, expected: &str) -> Error {
        Error::new(
            Code::Value,
            format!("expected {expected} for {}, found {}", quote(&self.path.to_string()), quote(&self.value.to_string())),
        )
    }
}

/// IPv4 (also in CIDR notation) or IPv6 by shape; anything else is a domain.
fn address_shape(raw: &str) -> ObservableType {
    let raw = raw.trim();
    let host = raw.split_once('/').map_or(raw, |(host, _)| host);
    if host.parse::<Ipv4Addr>().is_ok() {
        ObservableType::Ipv4
    } else if host.contains(':') {
        ObservableType::Ipv6
    } else {
        ObservableType::Domain
    }
}

fn port_number(c: &Constant) -> Result<u16, Error> {
    let port = match c {
        Constant::Integer(n) => u16::try_from(*n).ok(),
        Constant::String(s) => s.trim().parse::<u16>().ok(),
        _ => None,
    };
    port.ok_or_else(|| {
        Error::new(
            Code::Value,
            format!("expected a port in 0–65535 for `network-traffic:dst_port`, found {}", quote(&c.to_string())),
        )
    })
}

fn text<'c>(c: &'c Constant, path: &str) -> Result<&'c str, Error> {
    match c {
        Constant::String(s) => Ok(s),
        _ => Err(Error::new(Code::Value, format!("expected a string for `{path}`, found {}", quote(&c.to_string())))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::parse;

    fn atomic(pattern: &str) -> Vec<Result<Observable, Error>> {
        match extract(&parse(pattern).unwrap()) {
            Extraction::Atomic(list) => list,
            Extraction::NotAtomic(reason) => panic!("{pattern}: not atomic: {reason}"),
        }
    }

    fn reason(pattern: &str) -> String {
        match extract(&parse(pattern).unwrap()) {
            Extraction::Atomic(list) => panic!("{pattern}: atomic: {list:?}"),
            Extraction::NotAtomic(reason) => reason,
        }
    }

    #[test]
    fn address_shapes() {
        assert_eq!(address_shape("1.2.3.4"), ObservableType::Ipv4);
        assert_eq!(address_shape("10.0.0.0/8"), ObservableType::Ipv4);
        assert_eq!(address_shape("2001:db8::1"), ObservableType::Ipv6);
        assert_eq!(address_shape("example.com"), ObservableType::Domain);
    }

    #[test]
    fn duplicates_are_listed_once() {
        let list = atomic("[url:value = 'http://a/'] OR [url:value = 'http://a/' OR url:value = 'http://b/']");
        assert_eq!(list.len(), 2);
    }

    #[test]
    fn reasons_name_the_offending_part() {
        assert_eq!(
            reason("[file:size > 10]"),
            "the pattern compares `file:size` with `>`; only `=` comparisons become indicators"
        );
        assert_eq!(
            reason("[a:b = 1] REPEATS 2 TIMES"),
            "the pattern qualifies an observation with `REPEATS 2 TIMES`, which no destination can enforce on an indicator"
        );
    }

    #[test]
    fn asn_takes_an_integer() {
        let list = atomic("[autonomous-system:number = 64496]");
        assert_eq!(list[0].as_ref().unwrap().value, "64496");
        let list = atomic("[autonomous-system:number = -1]");
        assert_eq!(
            list[0].as_ref().unwrap_err().message(),
            "expected an autonomous system number in 0–4294967295 for `autonomous-system:number`, found `-1`"
        );
    }

    #[test]
    fn deep_hand_built_trees_are_not_atomic() {
        let leaf = || ObservationExpression::Observation {
            comparison: ComparisonExpression::Comparison {
                path: ObjectPath::new("url", ["value"]),
                operator: ComparisonOperator::Equal,
                negated: false,
                value: Constant::String("http://a/".into()),
            },
        };
        let mut root = leaf();
        for _ in 0..1000 {
            root = ObservationExpression::Or { operands: vec![leaf(), root] };
        }
        assert_eq!(extract(&Pattern { root }), Extraction::NotAtomic(too_deep()));
    }
}
