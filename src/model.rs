//! The canonical indicator model: one type for "an observable a source wants acted on".
//!
//! Every decoder turns its format into [`Indicator`]s; everything downstream (policy, mappings,
//! the preview) reads only this model. One [`Indicator`] is one (source object, observable) pair:
//! a STIX indicator whose pattern is `[a] OR [b] OR [c]`, or a ThreatConnect File carrying three
//! hashes, becomes three indicators sharing `source.id`. A pattern that cannot be reduced to
//! atomic observables becomes one indicator with `observable: None`, its pattern kept verbatim and
//! `not_atomic` saying why.
//!
//! Serialised (for JS) with `snake_case` keys, absent optionals omitted, empty lists kept.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;

use crate::time::Timestamp;

/// The input format an item was decoded from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// STIX 2.0 / 2.1 objects, arrays and bundles.
    Stix,
    /// OpenCTI live-stream events (JSON or the SSE envelope).
    Opencti,
    /// ThreatConnect v3 indicators.
    Threatconnect,
    /// MISP events and attributes.
    Misp,
    /// The generic `{"action","indicators"}` envelope (its items keep their own format).
    Envelope,
}

impl Format {
    /// The stable name (`stix`, `opencti`, `threatconnect`, `misp`, `envelope`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Stix => "stix",
            Self::Opencti => "opencti",
            Self::Threatconnect => "threatconnect",
            Self::Misp => "misp",
            Self::Envelope => "envelope",
        }
    }

    /// Parses a format name as accepted in `options.format` / the `format` query parameter.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "stix" | "stix2" | "stix21" | "stix20" => Self::Stix,
            "opencti" => Self::Opencti,
            "threatconnect" | "tc" => Self::Threatconnect,
            "misp" => Self::Misp,
            "envelope" | "generic" => Self::Envelope,
            _ => return None,
        })
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the source wants done with the indicator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Create it, or update it where it exists.
    Upsert,
    /// Take it out of every destination (a delete event, `revoked: true`, an inactive indicator).
    Remove,
}

/// The kind of event that carried the indicator, when the source says (OpenCTI, the envelope).
/// Policy needs it: an expired `create` is skipped, an expired `update` becomes a removal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// The indicator is new to the source (or newly entered its stream filter).
    Create,
    /// The indicator changed.
    Update,
    /// The indicator was deleted (or left the stream filter).
    Delete,
}

/// Traffic Light Protocol level. Ordered from least to most restricted, so an egress ceiling is a
/// comparison: CLEAR (= TLP 1.0 WHITE) < GREEN < AMBER < AMBER+STRICT < RED.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Tlp {
    /// TLP:CLEAR, or TLP 1.0 WHITE.
    #[serde(rename = "clear")]
    Clear,
    /// TLP:GREEN.
    #[serde(rename = "green")]
    Green,
    /// TLP:AMBER.
    #[serde(rename = "amber")]
    Amber,
    /// TLP:AMBER+STRICT (TLP 2.0).
    #[serde(rename = "amber+strict")]
    AmberStrict,
    /// TLP:RED.
    #[serde(rename = "red")]
    Red,
}

impl Tlp {
    /// The stable name (`clear`, `green`, `amber`, `amber+strict`, `red`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Clear => "clear",
            Self::Green => "green",
            Self::Amber => "amber",
            Self::AmberStrict => "amber+strict",
            Self::Red => "red",
        }
    }

    /// Parses a TLP name as written in tags, labels and configs: `TLP:AMBER+STRICT`, `tlp:white`,
    /// `amber strict`, `TLP: Red`. Case and a `tlp:` prefix are ignored; WHITE is CLEAR.
    pub fn from_name(name: &str) -> Option<Self> {
        let lower = name.trim().to_ascii_lowercase();
        let bare = lower.strip_prefix("tlp").map_or(lower.as_str(), |rest| rest.trim_start_matches([':', ' ']));
        let compact: String = bare.chars().filter(|c| !matches!(c, ' ' | '_' | '-' | '"')).collect();
        Some(match compact.as_str() {
            "clear" | "white" => Self::Clear,
            "green" => Self::Green,
            "amber" => Self::Amber,
            "amber+strict" | "amberstrict" => Self::AmberStrict,
            "red" => Self::Red,
            _ => return None,
        })
    }
}

/// The kind of an observable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ObservableType {
    /// An IPv4 address, printed dotted-quad.
    Ipv4,
    /// An IPv6 address, printed in RFC 5952 canonical (compressed, lowercase) form.
    Ipv6,
    /// An IPv4 or IPv6 network in CIDR notation, host bits cleared.
    Cidr,
    /// A domain or host name, lower-case, without a trailing dot.
    Domain,
    /// A URL, trimmed and otherwise verbatim.
    Url,
    /// A file, by one hash (see `algorithm`), lower-case hex.
    File,
    /// An email address.
    Email,
    /// An email subject line.
    EmailSubject,
    /// An autonomous system, by number (value is the decimal number).
    Asn,
    /// A Windows registry key (with `value_name` / `value_type` where given).
    RegistryKey,
    /// An X.509 certificate, by thumbprint (see `algorithm`), lower-case hex.
    Certificate,
}

impl ObservableType {
    /// The stable name, as serialised (`ipv4`, `email-subject`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ipv4 => "ipv4",
            Self::Ipv6 => "ipv6",
            Self::Cidr => "cidr",
            Self::Domain => "domain",
            Self::Url => "url",
            Self::File => "file",
            Self::Email => "email",
            Self::EmailSubject => "email-subject",
            Self::Asn => "asn",
            Self::RegistryKey => "registry-key",
            Self::Certificate => "certificate",
        }
    }

    /// Every type, in declaration order.
    pub const ALL: [Self; 11] = [
        Self::Ipv4,
        Self::Ipv6,
        Self::Cidr,
        Self::Domain,
        Self::Url,
        Self::File,
        Self::Email,
        Self::EmailSubject,
        Self::Asn,
        Self::RegistryKey,
        Self::Certificate,
    ];

    /// Parses a stable name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

impl fmt::Display for ObservableType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A hash algorithm, for file hashes and certificate thumbprints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HashAlgorithm {
    /// MD5, 32 hex digits.
    Md5,
    /// SHA-1, 40 hex digits.
    Sha1,
    /// SHA-224, 56 hex digits.
    Sha224,
    /// SHA-256, 64 hex digits.
    Sha256,
    /// SHA-384, 96 hex digits.
    Sha384,
    /// SHA-512, 128 hex digits.
    Sha512,
    /// SHA3-256, 64 hex digits.
    #[serde(rename = "sha3-256")]
    Sha3_256,
    /// SHA3-512, 128 hex digits.
    #[serde(rename = "sha3-512")]
    Sha3_512,
    /// ssdeep fuzzy hash (`blocksize:hash:hash`).
    Ssdeep,
    /// TLSH fuzzy hash (70 or 72 hex digits).
    Tlsh,
}

impl HashAlgorithm {
    /// The stable name, as serialised (`md5`, `sha256`, `sha3-256`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Md5 => "md5",
            Self::Sha1 => "sha1",
            Self::Sha224 => "sha224",
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
            Self::Sha3_256 => "sha3-256",
            Self::Sha3_512 => "sha3-512",
            Self::Ssdeep => "ssdeep",
            Self::Tlsh => "tlsh",
        }
    }

    /// The STIX hash-algorithm-ov name (`MD5`, `SHA-256`, `SHA3-256`, `SSDEEP`, `TLSH`).
    pub const fn stix_name(self) -> &'static str {
        match self {
            Self::Md5 => "MD5",
            Self::Sha1 => "SHA-1",
            Self::Sha224 => "SHA-224",
            Self::Sha256 => "SHA-256",
            Self::Sha384 => "SHA-384",
            Self::Sha512 => "SHA-512",
            Self::Sha3_256 => "SHA3-256",
            Self::Sha3_512 => "SHA3-512",
            Self::Ssdeep => "SSDEEP",
            Self::Tlsh => "TLSH",
        }
    }

    /// Parses a hash name in any of the spellings sources use: `SHA-256`, `sha256`, `SHA256`,
    /// `sha_256`, `SHA3-256`, `ssdeep`. Case, `-` and `_` are ignored.
    pub fn from_name(name: &str) -> Option<Self> {
        let mut buf = [0u8; 12];
        let mut len = 0;
        for b in name.trim().bytes() {
            if b == b'-' || b == b'_' || b == b' ' {
                continue;
            }
            let slot = buf.get_mut(len)?;
            *slot = b.to_ascii_lowercase();
            len += 1;
        }
        Some(match buf.get(..len)? {
            b"md5" => Self::Md5,
            b"sha1" => Self::Sha1,
            b"sha224" => Self::Sha224,
            b"sha256" => Self::Sha256,
            b"sha384" => Self::Sha384,
            b"sha512" => Self::Sha512,
            b"sha3256" => Self::Sha3_256,
            b"sha3512" => Self::Sha3_512,
            b"ssdeep" => Self::Ssdeep,
            b"tlsh" => Self::Tlsh,
            _ => return None,
        })
    }

    /// The number of hex digits of a hash of this kind, for the fixed-length ones.
    pub const fn hex_len(self) -> Option<usize> {
        match self {
            Self::Md5 => Some(32),
            Self::Sha1 => Some(40),
            Self::Sha224 => Some(56),
            Self::Sha256 | Self::Sha3_256 => Some(64),
            Self::Sha384 => Some(96),
            Self::Sha512 | Self::Sha3_512 => Some(128),
            Self::Ssdeep | Self::Tlsh => None,
        }
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One observable: what a product matches on. `{type, value}` plus the details some types carry.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Observable {
    /// What kind of observable.
    #[serde(rename = "type")]
    pub kind: ObservableType,
    /// The normalised value (see [`ObservableType`] for each type's canonical form).
    pub value: String,
    /// The hash algorithm (files, certificates).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<HashAlgorithm>,
    /// A destination port that goes with an address or host (network-traffic patterns,
    /// ThreatConnect "Network Protocol Analysis", MISP `ip-dst|port`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// A protocol that goes with an address or host, lower-case (`tcp`, `udp`, `https`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// A registry value name (registry keys).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_name: Option<String>,
    /// A registry value data type, e.g. `REG_SZ` (registry keys).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_type: Option<String>,
}

impl Observable {
    /// An observable of `kind` with an already-normalised `value` and no details.
    pub fn new(kind: ObservableType, value: impl Into<String>) -> Self {
        Self {
            kind,
            value: value.into(),
            algorithm: None,
            port: None,
            protocol: None,
            value_name: None,
            value_type: None,
        }
    }

    /// A hash-identified observable (file or certificate).
    pub fn hashed(kind: ObservableType, algorithm: HashAlgorithm, value: impl Into<String>) -> Self {
        Self { algorithm: Some(algorithm), ..Self::new(kind, value) }
    }
}

/// Where an indicator came from.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Source<'a> {
    /// The source's own id: a STIX id, a ThreatConnect indicator id, a MISP attribute uuid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Cow<'a, str>>,
    /// The source's own type name, verbatim (`Address`, `Registry Key`, `ip-dst|port`, `indicator`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_name: Option<Cow<'a, str>>,
    /// The source's one-line summary of the value (ThreatConnect `summary`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<Cow<'a, str>>,
    /// The owner or author: ThreatConnect owner name, MISP organisation, the STIX identity's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<Cow<'a, str>>,
    /// The owner's id: ThreatConnect owner id, MISP org id, the STIX identity id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<Cow<'a, str>>,
    /// A link back to the indicator in the source platform.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web_link: Option<Cow<'a, str>>,
    /// A secondary id the source uses for correlation: ThreatConnect `xid`, OpenCTI's internal id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<Cow<'a, str>>,
}

/// When the indicator was made, changed and is valid.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Lifecycle {
    /// Creation time at the source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
    /// Last modification at the source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified: Option<Timestamp>,
    /// Start of validity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<Timestamp>,
    /// End of validity (expiry), if the source set one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<Timestamp>,
    /// First sighting (ThreatConnect "First Seen", MISP `first_seen`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<Timestamp>,
    /// Last sighting (ThreatConnect "Last Seen", MISP `last_seen`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<Timestamp>,
    /// STIX `revoked`, or an inactive ThreatConnect indicator.
    pub revoked: bool,
}

/// How much to trust the indicator: one normalised score plus the raw figures it came from.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Scoring {
    /// The normalised 0–100 score: OpenCTI `score`; ThreatConnect ThreatAssess score / 10; MISP
    /// `misp:confidence-level`; STIX `confidence` when nothing else. Absent when no source gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<u8>,
    /// The raw confidence (STIX / ThreatConnect / MISP), 0–100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<u8>,
    /// ThreatConnect threat rating, 0–5.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threat_rating: Option<f64>,
    /// ThreatConnect ThreatAssess score, 0–1000.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threat_assess_score: Option<u16>,
    /// Reported false positives (ThreatConnect `falsePositives`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub false_positives: Option<u32>,
}

/// A kill-chain phase (STIX `kill_chain_phases`, ThreatConnect "Phase of Intrusion", MISP
/// `kill-chain:` tags).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct KillChainPhase<'a> {
    /// The kill chain, e.g. `lockheed-martin-cyber-kill-chain` or `mitre-attack`.
    pub kill_chain_name: Cow<'a, str>,
    /// The phase, e.g. `delivery`.
    pub phase_name: Cow<'a, str>,
}

/// A STIX-style external reference.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct ExternalReference<'a> {
    /// The source's name (`mitre-attack`, `misp`, ...).
    pub source_name: Cow<'a, str>,
    /// A URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<Cow<'a, str>>,
    /// An id in that source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<Cow<'a, str>>,
    /// A description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<Cow<'a, str>>,
}

/// A typed free-form attribute the source attached (ThreatConnect attributes), kept for mappings
/// that reproduce them (the ThreatConnect Sentinel app's JSON description).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Attribute<'a> {
    /// The attribute type, e.g. `Last Seen`.
    #[serde(rename = "type")]
    pub kind: Cow<'a, str>,
    /// Its value, verbatim.
    pub value: Cow<'a, str>,
}

/// One observable a source wants acted on, with everything the policy and the mappings read.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Indicator<'a> {
    /// The format this item was decoded from.
    pub format: Format,
    /// Where in the payload the source object sits (`objects[3]`, `data[0]`, `Event.Attribute[2]`).
    pub path: String,
    /// What the source wants done.
    pub action: Action,
    /// The event kind, when the source says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<Event>,
    /// Where it came from.
    pub source: Source<'a>,
    /// The observable, or `None` for a pattern that is not atomic.
    pub observable: Option<Observable>,
    /// Why the pattern is not atomic, when `observable` is `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_atomic: Option<String>,
    /// The original STIX pattern, verbatim, when the source had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<Cow<'a, str>>,
    /// The STIX spec version the source object declared (`2.0` / `2.1`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec_version: Option<Cow<'a, str>>,
    /// A display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Cow<'a, str>>,
    /// A description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<Cow<'a, str>>,
    /// Validity and history.
    pub lifecycle: Lifecycle,
    /// Trust.
    pub scoring: Scoring,
    /// OpenCTI's `detection` flag, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detection: Option<bool>,
    /// TLP, or `None` when the source set none.
    pub tlp: Option<Tlp>,
    /// Labels / tags, in source order, deduplicated.
    pub labels: Vec<Cow<'a, str>>,
    /// STIX `indicator_types` (`malicious-activity`, ...).
    pub indicator_types: Vec<Cow<'a, str>>,
    /// Kill-chain phases.
    pub kill_chain_phases: Vec<KillChainPhase<'a>>,
    /// External references.
    pub external_references: Vec<ExternalReference<'a>>,
    /// Source attributes (ThreatConnect).
    pub attributes: Vec<Attribute<'a>>,
}

impl Indicator<'_> {
    /// An empty upsert from `format` at `path` (`""`, the payload's root, is written `$`), for
    /// decoders to fill in.
    pub fn new(format: Format, path: String) -> Self {
        Self {
            format,
            path: if path.is_empty() { "$".to_owned() } else { path },
            action: Action::Upsert,
            event: None,
            source: Source::default(),
            observable: None,
            not_atomic: None,
            pattern: None,
            spec_version: None,
            name: None,
            description: None,
            lifecycle: Lifecycle::default(),
            scoring: Scoring::default(),
            detection: None,
            tlp: None,
            labels: Vec::new(),
            indicator_types: Vec::new(),
            kill_chain_phases: Vec::new(),
            external_references: Vec::new(),
            attributes: Vec::new(),
        }
    }

    /// The same indicator, owning all its text (for items decoded from text that does not outlive
    /// the call, such as the JSON inside an SSE `data` string).
    pub fn into_owned(self) -> Indicator<'static> {
        Indicator {
            format: self.format,
            path: self.path,
            action: self.action,
            event: self.event,
            source: Source {
                id: owned(self.source.id),
                type_name: owned(self.source.type_name),
                summary: owned(self.source.summary),
                owner: owned(self.source.owner),
                owner_id: owned(self.source.owner_id),
                web_link: owned(self.source.web_link),
                external_id: owned(self.source.external_id),
            },
            observable: self.observable,
            not_atomic: self.not_atomic,
            pattern: owned(self.pattern),
            spec_version: owned(self.spec_version),
            name: owned(self.name),
            description: owned(self.description),
            lifecycle: self.lifecycle,
            scoring: self.scoring,
            detection: self.detection,
            tlp: self.tlp,
            labels: self.labels.into_iter().map(|l| Cow::Owned(l.into_owned())).collect(),
            indicator_types: self.indicator_types.into_iter().map(|l| Cow::Owned(l.into_owned())).collect(),
            kill_chain_phases: self
                .kill_chain_phases
                .into_iter()
                .map(|k| KillChainPhase {
                    kill_chain_name: Cow::Owned(k.kill_chain_name.into_owned()),
                    phase_name: Cow::Owned(k.phase_name.into_owned()),
                })
                .collect(),
            external_references: self
                .external_references
                .into_iter()
                .map(|r| ExternalReference {
                    source_name: Cow::Owned(r.source_name.into_owned()),
                    url: owned(r.url),
                    external_id: owned(r.external_id),
                    description: owned(r.description),
                })
                .collect(),
            attributes: self
                .attributes
                .into_iter()
                .map(|a| Attribute { kind: Cow::Owned(a.kind.into_owned()), value: Cow::Owned(a.value.into_owned()) })
                .collect(),
        }
    }
}

fn owned(text: Option<Cow<'_, str>>) -> Option<Cow<'static, str>> {
    text.map(|t| Cow::Owned(t.into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlp_names() {
        for (name, want) in [
            ("TLP:WHITE", Tlp::Clear),
            ("tlp:clear", Tlp::Clear),
            ("TLP:AMBER+STRICT", Tlp::AmberStrict),
            ("tlp:amber+strict", Tlp::AmberStrict),
            ("Amber Strict", Tlp::AmberStrict),
            ("TLP: Red", Tlp::Red),
            ("green", Tlp::Green),
        ] {
            assert_eq!(Tlp::from_name(name), Some(want), "{name}");
        }
        assert_eq!(Tlp::from_name("tlp:ex:chr"), None);
        assert!(Tlp::AmberStrict > Tlp::Amber && Tlp::Red > Tlp::AmberStrict && Tlp::Clear < Tlp::Green);
    }

    #[test]
    fn hash_names() {
        for (name, want) in [
            ("SHA-256", HashAlgorithm::Sha256),
            ("sha256", HashAlgorithm::Sha256),
            ("SHA3-256", HashAlgorithm::Sha3_256),
            ("MD5", HashAlgorithm::Md5),
            ("sha_1", HashAlgorithm::Sha1),
            ("SSDEEP", HashAlgorithm::Ssdeep),
        ] {
            assert_eq!(HashAlgorithm::from_name(name), Some(want), "{name}");
        }
        assert_eq!(HashAlgorithm::from_name("sha-256-but-much-too-long"), None);
        assert_eq!(HashAlgorithm::from_name("crc32"), None);
    }

    #[test]
    fn observable_serialises_flat() {
        let o = Observable::hashed(ObservableType::File, HashAlgorithm::Sha256, "ab");
        assert_eq!(serde_json::to_string(&o).unwrap(), r#"{"type":"file","value":"ab","algorithm":"sha256"}"#);
    }
}
