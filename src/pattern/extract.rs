//! Observable extraction: which observables a destination can act on, from a parsed pattern
//! (the rules are on [`extract`]).
//!
//! Allocation: on the success path the only allocations are the returned list and what
//! [`normalize::observable`] builds for each value. The alternatives and the parts of a
//! conjunction are collected in [`Buf`]s, which keep the common sizes inline; messages are built
//! only when a pattern is not atomic or a value is invalid.

use super::ast::{
    ComparisonExpression, ComparisonOperator, Constant, ObjectPath, ObservationExpression, PathStep, Pattern,
};
use crate::error::{Code, Error, quote};
use crate::model::{HashAlgorithm, Observable, ObservableType};
use crate::normalize;

/// What [`extract`] found.
#[derive(Clone, Debug, PartialEq)]
pub enum Extraction {
    /// The pattern is one or more alternatives of one observable each (or of a file's or a
    /// certificate's hashes): one result per distinct observable, in pattern order; `Err` where the
    /// value is invalid.
    Atomic(Vec<Result<Observable, Error>>),
    /// The pattern cannot be reduced to observables; the sentence says why, for a SOC engineer
    /// ("the pattern joins observations with FOLLOWEDBY, which ...").
    NotAtomic(String),
}

/// Extracts the observables a destination can act on from `pattern`.
///
/// A pattern is *atomic* when it is one or more alternatives, each of which names one observable
/// (or one file or certificate by its hashes):
///
/// | pattern | observables |
/// | --- | --- |
/// | `[ipv4-addr:value = '1.2.3.4']` | one `ipv4` |
/// | `[url:value = 'a' OR url:value = 'b']`, `[url:value = 'a'] OR [domain-name:value = 'c']` | one each |
/// | `[network-traffic:dst_ref.value = '1.2.3.4' AND network-traffic:dst_port = 443]` (optionally `AND network-traffic:protocols[*] = 'tcp'`, `AND network-traffic:dst_ref.type = 'ipv4-addr'`) | the address with `port` / `protocol` |
/// | `[windows-registry-key:key = 'HKLM\\..' AND windows-registry-key:values[*].name = 'Run']` (optionally `values[*].data_type`) | the key with `value_name` / `value_type` |
/// | `[file:hashes.MD5 = 'x' AND file:hashes.'SHA-256' = 'y']` (optionally `AND file:name = ..`, `AND file:size = ..`, which are ignored), `[x509-certificate:hashes.'SHA-1' = 'x' AND x509-certificate:hashes.'SHA-256' = 'y']` | one `file` / `certificate` per hash, strongest first |
///
/// Alternatives are `OR`s at any depth, inside one observation or across observations. Anything
/// else is [`Extraction::NotAtomic`] with a reason: `FOLLOWEDBY`, `AND` between observations, any
/// qualifier, an operator other than `=`, `NOT`, `IN`, `EXISTS`, a conjunction other than the
/// three above, or a path no destination takes.
///
/// Supported paths: `ipv4-addr:value`, `ipv6-addr:value`, `domain-name:value`, `hostname:value`
/// (OpenCTI), `url:value`, `file:hashes.<algorithm>`, `x509-certificate:hashes.<algorithm>`,
/// `email-addr:value`, `email-message:from_ref.value`, `email-message:sender_ref.value`,
/// `email-message:subject`, `autonomous-system:number`, `windows-registry-key:key` and
/// `network-traffic:dst_ref.value` (an IPv4 or IPv6 address or a domain, by `dst_ref.type` when
/// given, otherwise by the value's shape, as [`normalize::host`](crate::normalize::host) reads it).
///
/// Hashes joined by `AND` describe one file (or certificate), so each identifies it: the order is
/// SHA-256, SHA-1, SHA-512, SHA-384, SHA-224, SHA3-256, SHA3-512, MD5, SSDEEP, TLSH, as for a
/// `file` object's `hashes`. The same algorithm twice is not atomic. A hash whose algorithm no
/// destination takes (`file:hashes.CRC32`) is an `Err` ([`Code::Unsupported`]) after the others,
/// as for a `file` object; a conjunction with no hash a destination takes is not atomic.
///
/// Values go through [`normalize::observable`](crate::normalize::observable). A value that fails is
/// an `Err` in its place in the list; the other observables are still delivered. Identical
/// observables are listed once.
///
/// # Example
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
pub fn extract(pattern: &Pattern<'_>) -> Extraction {
    // First every alternative's shape, so that a pattern that is not atomic costs no normalising.
    let mut atoms = Atoms::new();
    if let Err(reason) = observation_alternatives(&pattern.root, &mut atoms, 0) {
        return Extraction::NotAtomic(reason);
    }
    let mut observables: Vec<Result<Observable, Error>> = Vec::with_capacity(atoms.iter().map(Atom::count).sum());
    let mut push = |result: Result<Observable, Error>| {
        let seen = matches!(&result, Ok(o) if observables.iter().any(|r| r.as_ref().is_ok_and(|p| p == o)));
        if !seen {
            observables.push(result);
        }
    };
    for atom in atoms.iter() {
        match atom {
            Atom::One(one) => push(one.observable()),
            Atom::Hashes { kind, operands, .. } => hash_observables(kind, operands, &mut push),
        }
    }
    Extraction::Atomic(observables)
}

/// [`extract`] of the most common pattern of all, `[<type>:value = '<value>']` for an IPv4 or IPv6
/// address, a domain (or `hostname`), a URL or an email address, read without the parser: a
/// webhook's patterns are nearly all this shape, and lexing, parsing and walking the tree cost
/// more than the rest of decoding such an indicator. `None` for any other text (other spacing,
/// escapes, qualifiers, several comparisons…), which the parser reads as ever.
///
/// For every text it answers, the answer is exactly `extract(&parse_version(text, v)?)` under
/// both spec versions: the value is normalised by the same function, and a test, a property test
/// and the `pattern` fuzz target hold the two to it.
pub fn extract_simple(text: &str) -> Option<Extraction> {
    use ObservableType as T;
    if text.len() > super::MAX_LEN {
        return None;
    }
    // Byte searches, not `str` pattern searchers: these strings are a few dozen bytes.
    let inside = text.strip_prefix('[')?;
    let colon = inside.bytes().position(|b| b == b':')?;
    let (object_type, rest) = (inside.get(..colon)?, inside.get(colon + 1..)?);
    let kind = match object_type {
        "ipv4-addr" => T::Ipv4,
        "ipv6-addr" => T::Ipv6,
        "domain-name" | "hostname" => T::Domain,
        "url" => T::Url,
        "email-addr" => T::Email,
        _ => return None,
    };
    let rest = rest.strip_prefix("value")?.trim_start_matches(' ').strip_prefix('=')?.trim_start_matches(' ');
    let value = rest.strip_prefix('\'')?.strip_suffix("']")?;
    if value.bytes().any(|b| b == b'\'' || b == b'\\') {
        return None;
    }
    Some(Extraction::Atomic(vec![normalize::observable(kind, None, value)]))
}

/// A list that holds its first `N` items inline and spills to a `Vec` after them, so that the
/// common patterns collect their alternatives and conjunctions without allocating.
struct Buf<T: Copy, const N: usize> {
    /// `None` until the first push, which fills every slot with that item (there is no other value
    /// to fill them with); `inline[..len.min(N)]` are the first items.
    inline: Option<[T; N]>,
    len: usize,
    /// The items after the first `N`.
    spill: Vec<T>,
}

impl<T: Copy, const N: usize> Buf<T, N> {
    fn new() -> Self {
        Self { inline: None, len: 0, spill: Vec::new() }
    }

    fn push(&mut self, item: T) {
        match &mut self.inline {
            None => self.inline = Some([item; N]),
            Some(items) => match items.get_mut(self.len) {
                Some(slot) => *slot = item,
                None => self.spill.push(item),
            },
        }
        self.len += 1;
    }

    fn inline(&self) -> &[T] {
        self.inline.as_ref().and_then(|items| items.get(..self.len.min(N))).unwrap_or_default()
    }

    fn iter(&self) -> impl Iterator<Item = T> + '_ {
        self.inline().iter().chain(&self.spill).copied()
    }

    fn get(&self, index: usize) -> Option<T> {
        self.inline().get(index).or_else(|| self.spill.get(index.checked_sub(N)?)).copied()
    }
}

/// Deeper than the parser allows: only a tree built by hand gets here.
const MAX_DEPTH: usize = 2 * super::MAX_DEPTH + 8;

fn too_deep() -> String {
    "the pattern nests too deeply to be reduced to observables".to_owned()
}

/// Collects the atoms of the alternatives: the operands of `OR`s, down through observations, that
/// are not `OR`s themselves.
fn observation_alternatives<'p>(
    e: &'p ObservationExpression<'p>,
    out: &mut Atoms<'p>,
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
        ObservationExpression::FollowedBy { .. } => {
            Err("the pattern joins observations with FOLLOWEDBY, which no destination can match as a single indicator"
                .to_owned())
        }
        ObservationExpression::And { .. } => {
            Err("the pattern joins observations with AND, which no destination can match as a single indicator"
                .to_owned())
        }
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
    c: &'p ComparisonExpression<'p>,
    out: &mut Atoms<'p>,
    depth: usize,
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(too_deep());
    }
    if let ComparisonExpression::Or { operands } = c {
        operands.iter().try_for_each(|o| comparison_alternatives(o, out, depth + 1))
    } else {
        out.push(atom(c)?);
        Ok(())
    }
}

/// What one alternative stands for, before its values are normalised.
#[derive(Clone, Copy)]
enum Atom<'p> {
    /// One observable.
    One(One<'p>),
    /// A file or certificate by its hashes: the operands of the `AND` (checked by [`hashes`]),
    /// `count` of them hashes.
    Hashes { kind: ObservableType, operands: &'p [ComparisonExpression<'p>], count: usize },
}

impl Atom<'_> {
    /// How many observables the atom gives (at most: duplicates are dropped).
    fn count(self) -> usize {
        match self {
            Self::One(_) => 1,
            Self::Hashes { count, .. } => count,
        }
    }
}

/// What one observable is made from.
#[derive(Clone, Copy)]
struct One<'p> {
    kind: Kind,
    algorithm: Option<HashAlgorithm>,
    /// The path the value came from, for messages.
    path: &'p ObjectPath<'p>,
    value: &'p Constant<'p>,
    port: Option<&'p Constant<'p>>,
    protocol: Option<&'p Constant<'p>>,
    value_name: Option<&'p Constant<'p>>,
    value_type: Option<&'p Constant<'p>>,
}

impl<'p> One<'p> {
    fn new(kind: Kind, algorithm: Option<HashAlgorithm>, eq: Equality<'p>) -> Self {
        Self {
            kind,
            algorithm,
            path: eq.path,
            value: eq.value,
            port: None,
            protocol: None,
            value_name: None,
            value_type: None,
        }
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Fixed(ObservableType),
    /// `network-traffic:dst_ref.value`: IPv4, IPv6 or domain, by `dst_ref.type` or else by shape.
    Address(Option<ObservableType>),
}

/// One `=` comparison: the parts of a `Comparison` node.
#[derive(Clone, Copy)]
struct Equality<'p> {
    path: &'p ObjectPath<'p>,
    value: &'p Constant<'p>,
}

/// The `=` comparisons of a conjunction; eight fit without allocating.
type Parts<'p> = Buf<Equality<'p>, 8>;

/// The atoms of a pattern's alternatives; two fit without allocating (most patterns have one or
/// two alternatives; a larger inline array costs more to fill than it saves).
type Atoms<'p> = Buf<Atom<'p>, 2>;

/// The atom of one alternative, or why it has none.
fn atom<'p>(alternative: &'p ComparisonExpression<'p>) -> Result<Atom<'p>, String> {
    if let ComparisonExpression::And { operands } = alternative {
        let mut parts = Parts::new();
        conjuncts(operands, &mut parts, 0)?;
        conjunction(operands, &parts)
    } else {
        let eq = equality(alternative)?;
        let (kind, algorithm) = supported(eq.path)?;
        Ok(Atom::One(One::new(kind, algorithm, eq)))
    }
}

/// The comparison as an `=`, or why it is not one.
fn equality<'p>(c: &'p ComparisonExpression<'p>) -> Result<Equality<'p>, String> {
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
fn supported(path: &ObjectPath<'_>) -> Result<(Kind, Option<HashAlgorithm>), String> {
    use ObservableType as T;
    let fixed = |t| Ok((Kind::Fixed(t), None));
    let ty: &str = &path.object_type;
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
        None => Err(unknown_algorithm(algorithm)),
    }
}

fn unknown_algorithm(algorithm: &str) -> String {
    format!("the pattern uses the hash algorithm {}, which no destination takes as an indicator", quote(algorithm))
}

fn unsupported(path: &ObjectPath<'_>) -> String {
    format!("the pattern compares {}, which no destination takes as an indicator", quote(&path.to_string()))
}

fn name<'s>(step: &'s PathStep<'_>) -> Option<&'s str> {
    match step {
        PathStep::Property { name } => Some(name),
        _ => None,
    }
}

/// Flattens nested `AND`s into their `=` comparisons.
fn conjuncts<'p>(operands: &'p [ComparisonExpression<'p>], out: &mut Parts<'p>, depth: usize) -> Result<(), String> {
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
/// protocol, a registry key with its value, a file's or certificate's hashes, or why not.
fn conjunction<'p>(operands: &'p [ComparisonExpression<'p>], parts: &Parts<'p>) -> Result<Atom<'p>, String> {
    /// The object types a conjunction can be about.
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum About {
        NetworkTraffic,
        RegistryKey,
        File,
        Certificate,
    }
    // Matched against literals, which compile to word compares (in wasm too) rather than `memcmp`.
    let about = |part: Equality<'_>| match &*part.path.object_type {
        "network-traffic" => Some(About::NetworkTraffic),
        "windows-registry-key" => Some(About::RegistryKey),
        "file" => Some(About::File),
        "x509-certificate" => Some(About::Certificate),
        _ => None,
    };
    let first = parts.get(0).and_then(about);
    if first.is_none() || !parts.iter().all(|part| about(part) == first) {
        return Err(unrelated(parts));
    }
    match first {
        Some(About::NetworkTraffic) => network_traffic(parts).map(Atom::One),
        Some(About::RegistryKey) => registry_key(parts).map(Atom::One),
        Some(About::File) => hashes(ObservableType::File, operands, parts),
        Some(About::Certificate) => hashes(ObservableType::Certificate, operands, parts),
        None => Err(unrelated(parts)),
    }
}

/// The reason for a conjunction that is not one of the atomic kinds, naming its first two parts.
fn unrelated(parts: &Parts<'_>) -> String {
    together(parts, 0, 1)
}

/// The reason for a conjunction whose parts `a` and `b` cannot be one indicator.
fn together(parts: &Parts<'_>, a: usize, b: usize) -> String {
    let shown = |i: usize| parts.get(i).map(|p| quote(&p.path.to_string())).unwrap_or_default();
    format!(
        "the pattern requires {} and {} to match together, which no destination can express as a single indicator",
        shown(a),
        shown(b)
    )
}

/// Sets `slot` to `value` unless it is already set (a property given twice is not atomic).
fn once<'p>(slot: &mut Option<&'p Constant<'p>>, value: &'p Constant<'p>, parts: &Parts<'_>) -> Result<(), String> {
    if slot.replace(value).is_some() { Err(unrelated(parts)) } else { Ok(()) }
}

fn network_traffic<'p>(parts: &Parts<'p>) -> Result<One<'p>, String> {
    let (mut value, mut declared, mut port, mut protocol) = (None, None, None, None);
    let mut path = None;
    for part in parts.iter() {
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
            let shown = match other {
                Constant::String(t) => quote(t),
                _ => quote(&other.to_string()),
            };
            return Err(format!(
                "the pattern's destination is of type {shown}, which no destination takes as an indicator"
            ));
        }
    };
    Ok(One {
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

fn registry_key<'p>(parts: &Parts<'p>) -> Result<One<'p>, String> {
    let (mut key, mut value_name, mut value_type) = (None, None, None);
    let mut path = None;
    for part in parts.iter() {
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
    Ok(One {
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

/// Hash algorithms, strongest first: the order of the observables of a hashes conjunction (and of
/// a `file` object's `hashes` in `decode::stix`). `STRENGTH[rank(a)] == a`.
const STRENGTH: [HashAlgorithm; 10] = [
    HashAlgorithm::Sha256,
    HashAlgorithm::Sha1,
    HashAlgorithm::Sha512,
    HashAlgorithm::Sha384,
    HashAlgorithm::Sha224,
    HashAlgorithm::Sha3_256,
    HashAlgorithm::Sha3_512,
    HashAlgorithm::Md5,
    HashAlgorithm::Ssdeep,
    HashAlgorithm::Tlsh,
];

/// The place of `algorithm` in [`STRENGTH`] (a `match`, so that a new algorithm must be placed).
const fn rank(algorithm: HashAlgorithm) -> usize {
    match algorithm {
        HashAlgorithm::Sha256 => 0,
        HashAlgorithm::Sha1 => 1,
        HashAlgorithm::Sha512 => 2,
        HashAlgorithm::Sha384 => 3,
        HashAlgorithm::Sha224 => 4,
        HashAlgorithm::Sha3_256 => 5,
        HashAlgorithm::Sha3_512 => 6,
        HashAlgorithm::Md5 => 7,
        HashAlgorithm::Ssdeep => 8,
        HashAlgorithm::Tlsh => 9,
    }
}

/// What a part of a file or certificate conjunction is.
enum HashPart<'p> {
    /// `hashes.<algorithm>`, an algorithm a destination takes.
    Known(HashAlgorithm),
    /// `hashes.<name>`, an algorithm no destination takes.
    Unknown(&'p str),
    /// `file:name` or `file:size`: describes the file, but no destination matches on it with a hash.
    Ignored,
    /// Anything else.
    Other,
}

fn hash_part<'p>(kind: ObservableType, path: &'p ObjectPath<'p>) -> HashPart<'p> {
    match path.steps.as_slice() {
        [a, b] if name(a) == Some("hashes") => match name(b) {
            Some(alg) => HashAlgorithm::from_name(alg).map_or(HashPart::Unknown(alg), HashPart::Known),
            None => HashPart::Other,
        },
        [a] if kind == ObservableType::File && matches!(name(a), Some("name" | "size")) => HashPart::Ignored,
        _ => HashPart::Other,
    }
}

/// The atom of a conjunction on one file (or certificate): its hashes, each algorithm at most
/// once, with `file:name` and `file:size` allowed beside them; or why not.
fn hashes<'p>(
    kind: ObservableType,
    operands: &'p [ComparisonExpression<'p>],
    parts: &Parts<'p>,
) -> Result<Atom<'p>, String> {
    // Where each algorithm of `STRENGTH` was first seen.
    let mut seen_at = [None; STRENGTH.len()];
    let (mut count, mut known, mut first_unknown) = (0, 0, None);
    for (at, part) in parts.iter().enumerate() {
        match hash_part(kind, part.path) {
            HashPart::Known(algorithm) => {
                if let Some(slot) = seen_at.get_mut(rank(algorithm)) {
                    if let Some(first) = *slot {
                        return Err(together(parts, first, at));
                    }
                    *slot = Some(at);
                }
                known += 1;
                count += 1;
            }
            HashPart::Unknown(alg) => {
                first_unknown.get_or_insert(alg);
                count += 1;
            }
            HashPart::Ignored => {}
            HashPart::Other => return Err(together(parts, 0, if at == 0 { 1 } else { at })),
        }
    }
    match first_unknown {
        _ if known > 0 => Ok(Atom::Hashes { kind, operands, count }),
        Some(alg) => Err(unknown_algorithm(alg)),
        None => Err(unrelated(parts)),
    }
}

/// The observables of a hashes conjunction that [`hashes`] accepted: one per hash, strongest
/// first, then an `Err` for each algorithm no destination takes.
fn hash_observables<'p>(
    kind: ObservableType,
    operands: &'p [ComparisonExpression<'p>],
    push: &mut impl FnMut(Result<Observable, Error>),
) {
    let mut parts = Parts::new();
    if conjuncts(operands, &mut parts, 0).is_err() {
        return; // not reached: `hashes` saw the same parts
    }
    // Each algorithm is there at most once (`hashes` checked): place the parts by strength.
    let mut by_rank = [None; STRENGTH.len()];
    let mut unknown = false;
    for part in parts.iter() {
        match hash_part(kind, part.path) {
            HashPart::Known(algorithm) => {
                if let Some(slot) = by_rank.get_mut(rank(algorithm)) {
                    *slot = Some((algorithm, part));
                }
            }
            HashPart::Unknown(_) => unknown = true,
            HashPart::Ignored | HashPart::Other => {}
        }
    }
    for (algorithm, part) in by_rank.into_iter().flatten() {
        push(One::new(Kind::Fixed(kind), Some(algorithm), part).observable());
    }
    for part in parts.iter().filter(|_| unknown) {
        if let HashPart::Unknown(alg) = hash_part(kind, part.path) {
            push(Err(Error::new(
                Code::Unsupported,
                format!(
                    "hash algorithm {} of {} is not supported: expected SHA-256, SHA-1, SHA-512, SHA-384, SHA-224, SHA3-256, SHA3-512, MD5, SSDEEP or TLSH",
                    quote(alg),
                    quote(&part.path.to_string())
                ),
            )));
        }
    }
}

impl One<'_> {
    /// The normalised observable, or why the value is invalid.
    fn observable(&self) -> Result<Observable, Error> {
        let mut digits = [0; 10];
        let raw: &str = match (self.kind, self.value) {
            (_, Constant::String(s)) => s,
            (Kind::Fixed(ObservableType::Asn), Constant::Integer(n)) => match u32::try_from(*n) {
                Ok(n) => decimal(n, &mut digits),
                Err(_) => return Err(self.invalid("an autonomous system number in 0–4294967295")),
            },
            (Kind::Fixed(ObservableType::Asn), _) => return Err(self.invalid("an autonomous system number")),
            _ => return Err(self.invalid("a string")),
        };
        let mut observable = match self.kind {
            Kind::Fixed(kind) | Kind::Address(Some(kind)) => normalize::observable(kind, self.algorithm, raw)?,
            Kind::Address(None) => normalize::host(raw)?,
        };
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
            format!(
                "expected {expected} for {}, found {}",
                quote(&self.path.to_string()),
                quote(&self.value.to_string())
            ),
        )
    }
}

/// `n` in decimal, written into `buf` (no allocation).
fn decimal(mut n: u32, buf: &mut [u8; 10]) -> &str {
    let mut start = buf.len();
    loop {
        start -= 1;
        if let Some(digit) = buf.get_mut(start) {
            *digit = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(buf.get(start..).unwrap_or_default()).unwrap_or_default()
}

fn port_number(c: &Constant<'_>) -> Result<u16, Error> {
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

fn text<'c>(c: &'c Constant<'_>, path: &str) -> Result<&'c str, Error> {
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

    /// `extract_simple` either passes, or answers exactly what the parser and `extract` give under
    /// both spec versions.
    fn simple_agrees(text: &str) -> bool {
        let Some(fast) = extract_simple(text) else { return false };
        for version in [crate::pattern::SpecVersion::V2_1, crate::pattern::SpecVersion::V2_0] {
            let slow =
                extract(&crate::pattern::parse_version(text, version).unwrap_or_else(|e| panic!("{text:?}: {e}")));
            assert_eq!(fast, slow, "{text:?} ({version:?})");
        }
        true
    }

    #[test]
    fn the_simple_shape_is_read_without_the_parser_and_agrees_with_it() {
        let answered = [
            "[ipv4-addr:value = '198.51.100.7']",
            "[ipv4-addr:value = '198.51.100.0/24']",
            "[ipv4-addr:value='10.0.0.1']",
            "[ipv4-addr:value  =   '010.0.0.1']",
            "[ipv6-addr:value = '2001:DB8::1']",
            "[domain-name:value = 'Example.COM.']",
            "[hostname:value = 'exloginex.kaupdatedatami.xyz']",
            "[domain-name:value = '']",
            "[domain-name:value = 'bad domain']",
            "[url:value = 'http://example.com/a]b[c?x=1&y=\u{e9}']",
            "[url:value = 'hxxp://bad']",
            "[email-addr:value = 'Alice@Example.com']",
            "[email-addr:value = 'caf\u{e9} \u{1f980}@x']",
            "[domain-name:value = 'line\nbreak']",
        ];
        for text in answered {
            assert!(simple_agrees(text), "{text:?} should be answered");
        }
        let passed = [
            "[domain-name:value = 'a\\'b']",
            "[domain-name:value = 'a\\\\b']",
            "[domain-name:value = 'a'] OR [domain-name:value = 'b']",
            "[domain-name:value = 'a' OR domain-name:value = 'b']",
            "[domain-name:value = 'a'] WITHIN 5 SECONDS",
            "[domain-name:value = 'a']]",
            "[domain-name:value != 'a']",
            "[domain-name:value == 'a']",
            "[domain-name:values = 'a']",
            "[domain-name:value.x = 'a']",
            "[ domain-name:value = 'a']",
            "[domain-name:value = 'a' ]",
            "[domain-name:value\t= 'a']",
            "[DOMAIN-NAME:value = 'a']",
            "[file:name = 'a.exe']",
            "[autonomous-system:number = 64496]",
            "[email-message:subject = 'x']",
            "[domain-name:value = 7]",
            " [domain-name:value = 'a']",
            "[domain-name:value = 'a'] ",
            "",
        ];
        for text in passed {
            assert_eq!(extract_simple(text), None, "{text:?} should go to the parser");
        }
        let long = format!("[url:value = 'http://x/{}']", "a".repeat(crate::pattern::MAX_LEN));
        assert_eq!(extract_simple(&long), None);
    }

    #[test]
    fn the_simple_shape_agrees_on_the_fixtures_and_the_conformance_corpus() {
        fn patterns(value: &serde_json::Value, out: &mut Vec<String>) {
            match value {
                serde_json::Value::Object(map) => {
                    for (key, v) in map {
                        match v {
                            serde_json::Value::String(p) if key == "pattern" => out.push(p.clone()),
                            _ => patterns(v, out),
                        }
                    }
                }
                serde_json::Value::Array(list) => list.iter().for_each(|v| patterns(v, out)),
                _ => {}
            }
        }
        let mut all = Vec::new();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/decode");
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            if let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) {
                patterns(&value, &mut all);
            }
        }
        for corpus in [
            include_str!("../../tests/conformance/stix21_spec_examples.txt"),
            include_str!("../../tests/conformance/stix20_spec_examples.txt"),
            include_str!("../../tests/conformance/validator_v21_pass.txt"),
            include_str!("../../tests/conformance/validator_v20_pass.txt"),
        ] {
            all.extend(corpus.lines().map(|l| l.trim().to_owned()));
        }
        let answered = all.iter().filter(|p| simple_agrees(p)).count();
        assert!(answered >= 5, "only {answered} of {} patterns have the simple shape", all.len());
    }

    proptest::proptest! {
        /// Patterns built from the simple shape's parts and near misses: what `extract_simple`
        /// answers is what the parser and `extract` give.
        #[test]
        fn the_simple_shape_agrees_with_the_parser(
            object_type in proptest::sample::select(vec!["ipv4-addr", "ipv6-addr", "domain-name", "hostname", "url",
                "email-addr", "file", "Domain-Name", "x-custom"]),
            property in proptest::sample::select(vec!["value", "value", "value", "values", "name", "value.x"]),
            before in "( {0,2}|\t)",
            op in proptest::sample::select(vec!["=", "=", "=", "!=", "==", "LIKE"]),
            after in "( {0,2}|\t)",
            value in "[a-zA-Z0-9.:/@\\'\\\\\\[\\] \u{e9}\u{1f980}-]{0,24}",
            tail in proptest::sample::select(vec!["]", "]", "]", "] ", "]]", " ]", "] OR [url:value = 'x']"]),
        ) {
            let text = format!("[{object_type}:{property}{before}{op}{after}'{value}'{tail}");
            if extract_simple(&text).is_some() {
                simple_agrees(&text);
            }
        }
    }

    #[test]
    fn strength_and_rank_agree() {
        for (i, algorithm) in STRENGTH.into_iter().enumerate() {
            assert_eq!(rank(algorithm), i, "{algorithm:?}");
        }
    }

    #[test]
    fn inline_buffers_spill_in_order() {
        let mut buf: Buf<usize, 3> = Buf::new();
        assert_eq!(buf.iter().count(), 0);
        assert_eq!(buf.get(0), None);
        for i in 0..7 {
            buf.push(i);
            assert_eq!(buf.iter().collect::<Vec<_>>(), (0..=i).collect::<Vec<_>>());
            assert_eq!(buf.get(i), Some(i));
            assert_eq!(buf.get(i + 1), None);
        }
    }

    #[test]
    fn asn_digits_are_written_without_allocating() {
        let mut buf = [0; 10];
        for n in [0, 7, 10, 64496, 1_000_000, u32::MAX] {
            assert_eq!(decimal(n, &mut buf), n.to_string());
        }
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
