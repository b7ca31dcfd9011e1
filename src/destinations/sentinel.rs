//! Microsoft Sentinel: one item, with its policy [`Decision`], into the STIX 2.1 `indicator` object
//! that the STIX objects upload (`threat-intelligence-stix-objects:upload`, 2024-02-01-preview) and
//! the legacy upload-indicators API take (reference/microsoft-apis.md §1.2, §1.6, §1.7).
//!
//! The planner wraps the objects as `{"sourcesystem": <SentinelSettings::source_system>,
//! "stixobjects": [...]}` in batches of at most 100; the `sourcesystem` belongs to the request, not
//! to the object, so [`map`] does not read the settings.
//!
//! # The object
//!
//! | property | value |
//! | --- | --- |
//! | `type`, `spec_version` | `indicator`, `2.1` |
//! | `id` | [`object_id`]: deterministic, so a replay updates and a removal revokes what the upsert made |
//! | `created` | the source's `created`, else now |
//! | `modified` | the source's `modified`, else now, never earlier than `created`; for a removal max(now, source `modified` + 1 ms) (SPEC §7) |
//! | `revoked` | `true` for a removal (re-upload with the same id, §1.6); absent otherwise |
//! | `name` | the item's name; else, for ThreatConnect, `<value> \| <owner>` (seed 004); else the observable's value (or the source id) |
//! | `description` | ThreatConnect: seed 004's JSON object as a string (below); others: the item's description. A port or protocol is appended as `port N/protocol P` (it is not in the pattern) |
//! | `pattern` | atomic items: [`pattern_for`] the observable; non-atomic items: the source's pattern verbatim |
//! | `pattern_type`, `pattern_version` | `stix`, `2.1` (`2.0` for a verbatim pattern of a STIX 2.0 object, or one without `spec_version`, that only the 2.0 grammar reads, such as `START '…'` with a plain string) |
//! | `valid_from` | the source's `valid_from`, else `created`, else now |
//! | `valid_until` | upserts: the policy's expiry, which must be later than `valid_from` (else the item cannot be sent: [`map`] returns why); removals: only the source's own, when later than `valid_from` |
//! | `indicator_types`, `kill_chain_phases` | the item's (kill chains from ThreatConnect "Phase of Intrusion" are decoded into them) |
//! | `confidence` | the item's confidence, else its score |
//! | `labels` | the item's labels, plus `tlp:amber+strict` when the TLP written is AMBER+STRICT (Sentinel has no marking for it) |
//! | `external_references` | the item's, plus `{"source_name": <format>, "url": <web link>}` for the source's link |
//! | `object_marking_refs` | the TLP 1.0 marking-definition id of the decision's TLP (§1.7): CLEAR → WHITE, AMBER+STRICT → AMBER |
//!
//! Absent values are omitted, and so are empty lists (STIX forbids empty lists). A port or protocol
//! is never put in the pattern: Sentinel fails to extract observables from `AND` patterns
//! (peers.md §4 items 27–28), so `[ipv4-addr:value = '…']` goes out and the port goes in the
//! description.
//!
//! The ThreatConnect description (seed 004, "Data Mappings") is the JSON text of
//! `{"type", "summary", "confidence", "rating", "threatAssessScore", "ownerName",
//! "associatedGroups", "attributes": [{"type", "value"}], "webLink"}`, in that order, with `null`
//! for what the source did not give, and `"port"` / `"protocol"` after them when the observable has
//! them. `associatedGroups` is always `[]`: the canonical model does not carry ThreatConnect group
//! associations.
//!
//! # Example
//!
//! An upsert of a ThreatConnect Address (with `now` = 2025-06-01, default 30-day expiry):
//!
//! ```json
//! {"type":"indicator","spec_version":"2.1","id":"indicator--<uuid v5>",
//!  "created":"2023-09-13T14:51:34.000Z","modified":"2023-09-19T14:51:51.000Z",
//!  "name":"123.45.67.89 | ABC-Owner",
//!  "description":"{\"type\":\"Address\",\"summary\":\"123.45.67.89\",\"confidence\":45,\"rating\":4,\"threatAssessScore\":548,\"ownerName\":\"ABC-Owner\",\"associatedGroups\":[],\"attributes\":[{\"type\":\"Last Seen\",\"value\":\"2023-09-19T14:51:51Z\"}],\"webLink\":\"https://companyabc.threatconnect.com/#/details/indicators/12345/overview\",\"port\":443,\"protocol\":\"tcp\"}",
//!  "pattern":"[ipv4-addr:value = '123.45.67.89']","pattern_type":"stix","pattern_version":"2.1",
//!  "valid_from":"2023-09-13T14:51:34.000Z","valid_until":"2025-07-01T00:00:00.000Z",
//!  "kill_chain_phases":[{"kill_chain_name":"lockheed-martin-cyber-kill-chain","phase_name":"delivery"}],
//!  "confidence":45,"labels":["APT28","C2"],
//!  "external_references":[{"source_name":"threatconnect","url":"https://companyabc.threatconnect.com/#/details/indicators/12345/overview"}],
//!  "object_marking_refs":["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"]}
//! ```
//!
//! ```
//! use ti_relay::destinations::sentinel;
//! use ti_relay::time::Timestamp;
//! use ti_relay::{DecodeOptions, config, decode, policy};
//!
//! let cfg = config::parse(r#"{"destinations": [{"name": "s", "type": "sentinel", "tenant": "contoso.onmicrosoft.com",
//!     "client_id": "11111111-2222-3333-4444-555555555555", "credential": {"secret": "S"},
//!     "sentinel": {"workspace_id": "66666666-7777-8888-9999-000000000000"}}]}"#).unwrap();
//! let payload = r#"{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
//!     "created":"2025-05-01T00:00:00Z","modified":"2025-05-02T00:00:00Z","valid_from":"2025-05-01T00:00:00Z",
//!     "pattern":"[ipv4-addr:value = '198.51.100.7'] OR [domain-name:value = 'evil.example']"}"#;
//! let decoded = decode(payload, &DecodeOptions::default())?;
//! let now = Timestamp::parse("2025-06-01T00:00:00Z")?;
//! let destination = &cfg.destinations[0];
//! let item = &decoded.items[1];
//! let decision = policy::decide(item, destination, now);
//! let object = sentinel::map(item, &decision, destination, now).unwrap();
//! assert_eq!(object.pattern, "[domain-name:value = 'evil.example']");
//! assert_eq!(object.id, sentinel::object_id(item));
//! let json = serde_json::to_string(&object).unwrap();
//! assert!(json.starts_with(r#"{"type":"indicator","spec_version":"2.1","id":"indicator--"#));
//! # Ok::<(), ti_relay::Error>(())
//! ```

use std::borrow::Cow;
use std::fmt::Write as _;

use serde::Serialize;

use crate::config::Destination;
use crate::destinations::blank;
use crate::destinations::write::{Object, Times, WriteJson, key};
use crate::model::{Attribute, Format, HashAlgorithm, Indicator, KillChainPhase, Observable, ObservableType, Tlp};
use crate::pattern::{self, SpecVersion};
use crate::policy::{Decision, Verdict};
use crate::time::Timestamp;

/// The TLP 1.0 marking-definition ids Sentinel knows (microsoft-apis.md §1.7).
const TLP_WHITE: &str = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9";
const TLP_GREEN: &str = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da";
const TLP_AMBER: &str = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82";
const TLP_RED: &str = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed";

/// The label that keeps AMBER+STRICT visible, since Sentinel only has the AMBER marking.
const AMBER_STRICT_LABEL: &str = "tlp:amber+strict";

/// A STIX 2.1 `indicator` as Sentinel's upload APIs take it. Serialises with the STIX property
/// names; `None` and empty lists are omitted.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StixIndicator<'a> {
    /// Always `indicator`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Always `2.1`.
    pub spec_version: &'static str,
    /// `indicator--<uuid>`, see [`object_id`].
    pub id: String,
    /// Creation time.
    pub created: Timestamp,
    /// This version's time.
    pub modified: Timestamp,
    /// `Some(true)` for a removal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked: Option<bool>,
    /// A display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Cow<'a, str>>,
    /// A description (ThreatConnect: a JSON object's text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<Cow<'a, str>>,
    /// STIX `indicator_types`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub indicator_types: Vec<&'a str>,
    /// The STIX pattern.
    pub pattern: Cow<'a, str>,
    /// Always `stix`.
    pub pattern_type: &'static str,
    /// `2.1` (or `2.0` for a verbatim 2.0-only pattern).
    pub pattern_version: &'static str,
    /// Start of validity.
    pub valid_from: Timestamp,
    /// End of validity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<Timestamp>,
    /// Kill-chain phases, as `{kill_chain_name, phase_name}` objects.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kill_chain_phases: Vec<&'a KillChainPhase<'a>>,
    /// 0–100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<u8>,
    /// Shown as Tags in Sentinel.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<&'a str>,
    /// External references.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub external_references: Vec<StixReference<'a>>,
    /// The TLP marking-definition id (a static list: no allocation per object).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub object_marking_refs: &'static [&'static str],
}

/// A STIX external reference, borrowing from the item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StixReference<'a> {
    /// The source's name.
    pub source_name: &'a str,
    /// A description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
    /// An id in that source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<&'a str>,
    /// A URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<&'a str>,
}

/// A Sentinel object checked and ready to be written: what [`map`] returns, but reading the item's
/// lists and texts as it is written instead of copying them (the planner writes one per item).
pub(crate) struct StixObject<'a, 'i> {
    item: &'a Indicator<'a>,
    /// The source's own id, kept for a compound pattern (see [`object_id`]).
    own_id: Option<&'a str>,
    /// The text of the item's [`crate::ids::item_uuid`], for every other id.
    uuid: &'i str,
    created: Timestamp,
    modified: Timestamp,
    removal: bool,
    name: Option<Cow<'a, str>>,
    description: Option<Cow<'a, str>>,
    pattern: Pattern<'a>,
    pattern_version: &'static str,
    valid_from: Timestamp,
    valid_until: Option<Timestamp>,
    tlp: Option<Tlp>,
}

/// The pattern of a Sentinel object: one written from the item's observable, or the source's own.
enum Pattern<'a> {
    Observable(&'a Observable),
    Verbatim(&'a str),
}

impl<'a> StixObject<'a, '_> {
    /// The object as [`StixIndicator`] (lists and texts copied out of the item).
    fn indicator(&self) -> StixIndicator<'a> {
        let item = self.item;
        StixIndicator {
            kind: "indicator",
            spec_version: "2.1",
            id: self.own_id.map_or_else(|| format!("indicator--{}", self.uuid), str::to_owned),
            created: self.created,
            modified: self.modified,
            revoked: self.removal.then_some(true),
            name: self.name.clone(),
            description: self.description.clone(),
            indicator_types: non_empty(&item.indicator_types),
            pattern: match self.pattern {
                Pattern::Observable(observable) => Cow::Owned(pattern_for(observable)),
                Pattern::Verbatim(text) => Cow::Borrowed(text),
            },
            pattern_type: "stix",
            pattern_version: self.pattern_version,
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            kill_chain_phases: item.kill_chain_phases.iter().filter(|k| whole_phase(k)).collect(),
            confidence: confidence(item),
            labels: labels(item, self.tlp),
            external_references: references(item),
            object_marking_refs: self.tlp.map_or(&[], marking),
        }
    }
}

impl WriteJson for StixObject<'_, '_> {
    /// The same bytes as `serde_json::to_writer(out, &self.indicator())`. Lists are written from
    /// the item as they are when nothing in them is left out or added (almost always).
    fn write_json(&self, out: &mut Vec<u8>, times: &mut Times) {
        let item = self.item;
        let mut o = Object::new(out, times);
        o.members(concat!(key!("type"), "\"indicator\"", key!("spec_version"), "\"2.1\""));
        match self.own_id {
            Some(id) => o.str(key!("id"), id),
            None => o.str_between(key!("id"), "indicator--", self.uuid, ""),
        };
        o.time(key!("created"), self.created)
            .time(key!("modified"), self.modified)
            .opt_bool(key!("revoked"), self.removal.then_some(true))
            .opt_str(key!("name"), self.name.as_deref())
            .opt_str(key!("description"), self.description.as_deref());
        if item.indicator_types.iter().any(|t| blank(t)) {
            o.strs(key!("indicator_types"), &non_empty(&item.indicator_types), true);
        } else {
            o.strs(key!("indicator_types"), &item.indicator_types, true);
        }
        match self.pattern {
            Pattern::Observable(observable) => match pattern_prefix(observable) {
                Some(prefix) if unescaped(&observable.value) => {
                    o.str_between(key!("pattern"), prefix, &observable.value, "']")
                }
                _ => o.str(key!("pattern"), &pattern_for(observable)),
            },
            Pattern::Verbatim(text) => o.str(key!("pattern"), text),
        };
        o.members(match self.pattern_version {
            "2.0" => concat!(key!("pattern_type"), "\"stix\"", key!("pattern_version"), "\"2.0\""),
            _ => concat!(key!("pattern_type"), "\"stix\"", key!("pattern_version"), "\"2.1\""),
        })
        .time(key!("valid_from"), self.valid_from)
        .opt_time(key!("valid_until"), self.valid_until);
        if item.kill_chain_phases.iter().all(whole_phase) {
            o.objects(key!("kill_chain_phases"), &item.kill_chain_phases, write_phase);
        } else {
            let phases: Vec<&KillChainPhase<'_>> = item.kill_chain_phases.iter().filter(|k| whole_phase(k)).collect();
            o.objects(key!("kill_chain_phases"), &phases, |k, o| write_phase(k, o));
        }
        o.opt_uint(key!("confidence"), confidence(item).map(u64::from));
        let amber_strict = self.tlp == Some(Tlp::AmberStrict);
        if amber_strict || item.labels.iter().any(|l| blank(l)) {
            o.strs(key!("labels"), &labels(item, self.tlp), true);
        } else {
            o.strs(key!("labels"), &item.labels, true);
        }
        if item.source.web_link.is_some() || item.external_references.iter().any(|r| blank(&r.source_name)) {
            o.objects(key!("external_references"), &references(item), |r, o| {
                write_reference(o, r.source_name, r.description, r.external_id, r.url);
            });
        } else {
            o.objects(key!("external_references"), &item.external_references, |r, o| {
                let (description, external_id) = (r.description.as_deref(), r.external_id.as_deref());
                write_reference(o, &r.source_name, description, external_id, r.url.as_deref());
            });
        }
        o.strs(key!("object_marking_refs"), self.tlp.map_or(&[], marking), true).close();
    }
}

/// Whether a kill-chain phase names both its chain and its phase (STIX requires both).
fn whole_phase(phase: &KillChainPhase<'_>) -> bool {
    !blank(&phase.kill_chain_name) && !blank(&phase.phase_name)
}

fn write_phase(phase: &KillChainPhase<'_>, o: &mut Object<'_>) {
    o.str(key!("kill_chain_name"), &phase.kill_chain_name).str(key!("phase_name"), &phase.phase_name);
}

fn write_reference(
    o: &mut Object<'_>,
    source_name: &str,
    description: Option<&str>,
    external_id: Option<&str>,
    url: Option<&str>,
) {
    o.str(key!("source_name"), source_name)
        .opt_str(key!("description"), description)
        .opt_str(key!("external_id"), external_id)
        .opt_str(key!("url"), url);
}

/// The item's confidence, else its score, at most 100.
fn confidence(item: &Indicator<'_>) -> Option<u8> {
    item.scoring.confidence.or(item.scoring.score).map(|c| c.min(100))
}

/// Maps `item` with its upsert or remove `decision` into the STIX indicator Sentinel takes, or says
/// why it cannot be made valid (the planner skips it with reason `invalid_value`).
///
/// `destination` is not read: everything Sentinel-specific in its settings (`source_system`,
/// `api`) belongs to the request.
pub fn map<'a>(
    item: &'a Indicator<'a>,
    decision: &Decision,
    destination: &Destination,
    now: Timestamp,
) -> Result<StixIndicator<'a>, String> {
    let _ = destination;
    let uuid = crate::ids::item_uuid(item).hyphenated();
    prepare(item, &uuid, decision, now).map(|object| object.indicator())
}

/// [`map`] with the text of the item's [`crate::ids::item_uuid`] already written (the planner
/// writes it once per item, as its key, for every destination), as an object to write.
pub(crate) fn prepare<'a, 'i>(
    item: &'a Indicator<'a>,
    uuid: &'i str,
    decision: &Decision,
    now: Timestamp,
) -> Result<StixObject<'a, 'i>, String> {
    let removal = match decision.verdict {
        Verdict::Upsert => false,
        Verdict::Remove => true,
        Verdict::Skip => return Err("the item is skipped at this destination: there is nothing to send".to_owned()),
    };
    let (pattern, pattern_version) = pattern_of(item)?;
    let life = &item.lifecycle;
    let created = life.created.unwrap_or(now);
    let modified = if removal {
        life.modified.map_or(now, |m| now.max(m.plus_millis(1))).max(created)
    } else {
        life.modified.unwrap_or(now).max(created)
    };
    let valid_from = life.valid_from.unwrap_or(created);
    let own_until = life.valid_until.filter(|until| *until > valid_from);
    let valid_until = match (removal, decision.expires) {
        (true, _) | (false, None) => own_until,
        (false, Some(expires)) if expires > valid_from => Some(expires),
        (false, Some(expires)) => {
            return Err(format!(
                "the expiry {expires} is not later than valid_from {valid_from}: Sentinel requires valid_until to be \
                 later than valid_from"
            ));
        }
    };
    Ok(StixObject {
        item,
        own_id: own_id(item),
        uuid,
        created,
        modified,
        removal,
        name: name(item),
        description: description(item)?,
        pattern,
        pattern_version,
        valid_from,
        valid_until,
        tlp: decision.tlp,
    })
}

/// The STIX id of the object `item` becomes: deterministic (UUIDv5 in [`crate::ids::Uuid::TI_RELAY`]), so the
/// same item gives the same id on every run and a removal revokes what the upsert created.
///
/// - atomic item: `indicator--` + v5 of `<format>|<source id>|<type>|<algorithm or ''>|<value>`
///   (the source id is empty for bare values without one);
/// - non-atomic item: the source's own id when it is `indicator--<uuid>`, else v5 of
///   `<format>|<source id>|pattern`, or of `<format>||pattern|<pattern>` when there is no source id.
pub fn object_id(item: &Indicator<'_>) -> String {
    own_id(item).map_or_else(|| format!("indicator--{}", crate::ids::item_uuid(item)), str::to_owned)
}

/// The source's own id, when the object keeps it as its id: a compound pattern whose source id is
/// `indicator--<uuid>`.
fn own_id<'a>(item: &'a Indicator<'_>) -> Option<&'a str> {
    let source_id = item.source.id.as_deref()?;
    (item.observable.is_none() && source_id.strip_prefix("indicator--").is_some_and(is_uuid)).then_some(source_id)
}

/// The canonical STIX pattern matching exactly `observable` (without its port and protocol, which
/// Sentinel could not extract from an `AND`): `[ipv4-addr:value = '198.51.100.7']`,
/// `[file:hashes.'SHA-256' = '…']`, `[autonomous-system:number = 64496]`,
/// `[windows-registry-key:key = 'HKLM\\…' AND windows-registry-key:values[*].name = 'Run']`.
/// Strings are quoted with `'` and `\` escaped; the result is what the pattern printer prints.
///
/// An ASN value that is not a number (never the case for a normalised observable) is written as a
/// string, which parses but does not extract.
pub fn pattern_for(observable: &Observable) -> String {
    let mut out = String::with_capacity(observable.value.len() + 40);
    let value = observable.value.as_str();
    if let Some(prefix) = pattern_prefix(observable) {
        out.push_str(prefix);
        quoted_body(&mut out, value);
        out.push_str("']");
        return out;
    }
    out.push('[');
    match observable.kind {
        ObservableType::Ipv4
        | ObservableType::Ipv6
        | ObservableType::Cidr
        | ObservableType::Domain
        | ObservableType::Url
        | ObservableType::Email
        | ObservableType::EmailSubject => {}
        ObservableType::Asn => match value.parse::<u32>() {
            Ok(number) => {
                let _ = write!(out, "autonomous-system:number = {number}");
            }
            Err(_) => comparison(&mut out, "autonomous-system:number", value),
        },
        ObservableType::File | ObservableType::Certificate => {
            out.push_str(if observable.kind == ObservableType::File { "file" } else { "x509-certificate" });
            out.push_str(":hashes.");
            // SHA-256 and friends must be quoted; MD5, SSDEEP and TLSH are bare identifiers.
            let algorithm = observable.algorithm.map_or("SHA-256", |a| a.stix_name());
            if algorithm.bytes().all(|b| b.is_ascii_alphanumeric()) {
                out.push_str(algorithm);
            } else {
                quoted(&mut out, algorithm);
            }
            out.push_str(" = ");
            quoted(&mut out, value);
        }
        ObservableType::RegistryKey => {
            comparison(&mut out, "windows-registry-key:key", value);
            if let Some(name) = &observable.value_name {
                out.push_str(" AND ");
                comparison(&mut out, "windows-registry-key:values[*].name", name);
                if let Some(data_type) = &observable.value_type {
                    out.push_str(" AND ");
                    comparison(&mut out, "windows-registry-key:values[*].data_type", data_type);
                }
            }
        }
    }
    out.push(']');
    out
}

/// What [`pattern_for`] writes before the quoted value of the observables whose pattern is one
/// comparison of it with a string (all but ASNs, registry keys and hashes of rarer algorithms).
fn pattern_prefix(observable: &Observable) -> Option<&'static str> {
    Some(match observable.kind {
        // A network goes on the address type of its family.
        ObservableType::Ipv6 => "[ipv6-addr:value = '",
        ObservableType::Cidr if observable.value.contains(':') => "[ipv6-addr:value = '",
        ObservableType::Ipv4 | ObservableType::Cidr => "[ipv4-addr:value = '",
        ObservableType::Domain => "[domain-name:value = '",
        ObservableType::Url => "[url:value = '",
        ObservableType::Email => "[email-addr:value = '",
        ObservableType::EmailSubject => "[email-message:subject = '",
        // SHA-256 and friends must be quoted; MD5 is a bare identifier.
        ObservableType::File => match observable.algorithm {
            None | Some(HashAlgorithm::Sha256) => "[file:hashes.'SHA-256' = '",
            Some(HashAlgorithm::Sha1) => "[file:hashes.'SHA-1' = '",
            Some(HashAlgorithm::Md5) => "[file:hashes.MD5 = '",
            Some(HashAlgorithm::Sha512) => "[file:hashes.'SHA-512' = '",
            Some(_) => return None,
        },
        ObservableType::Certificate if observable.algorithm == Some(HashAlgorithm::Sha1) => {
            "[x509-certificate:hashes.'SHA-1' = '"
        }
        ObservableType::Asn | ObservableType::RegistryKey | ObservableType::Certificate => return None,
    })
}

/// Whether `text` needs no escape in a pattern's string literal.
fn unescaped(text: &str) -> bool {
    !text.bytes().any(|b| b == b'\'' || b == b'\\')
}

/// `path = 'value'`.
fn comparison(out: &mut String, path: &str, value: &str) {
    out.push_str(path);
    out.push_str(" = ");
    quoted(out, value);
}

/// `'text'` with `'` and `\` escaped, as the patterning grammar's string literal.
fn quoted(out: &mut String, text: &str) {
    out.push('\'');
    quoted_body(out, text);
    out.push('\'');
}

/// [`quoted`] without its quotes.
fn quoted_body(out: &mut String, text: &str) {
    if unescaped(text) {
        // Most values have nothing to escape.
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        if matches!(c, '\'' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
}

/// The pattern and its `pattern_version`.
fn pattern_of<'a>(item: &'a Indicator<'a>) -> Result<(Pattern<'a>, &'static str), String> {
    if let Some(observable) = &item.observable {
        return Ok((Pattern::Observable(observable), "2.1"));
    }
    let Some(text) = item.pattern.as_deref() else {
        return Err("the item has neither an atomic observable nor a STIX pattern to send".to_owned());
    };
    match pattern::parse(text) {
        Ok(_) => Ok((Pattern::Verbatim(text), "2.1")),
        Err(e) => {
            // STIX 2.0 objects often carry no `spec_version`: only a declared 2.1 rules 2.0 out.
            let v2_0 = item.spec_version.as_deref().and_then(SpecVersion::from_name) != Some(SpecVersion::V2_1);
            if v2_0 && pattern::parse_version(text, SpecVersion::V2_0).is_ok() {
                Ok((Pattern::Verbatim(text), "2.0"))
            } else {
                Err(format!("the pattern does not parse, so Sentinel would reject it: {e}"))
            }
        }
    }
}

fn name<'a>(item: &'a Indicator<'a>) -> Option<Cow<'a, str>> {
    if let Some(name) = item.name.as_deref().filter(|n| !blank(n)) {
        return Some(Cow::Borrowed(name));
    }
    let value = item.observable.as_ref().map(|o| o.value.as_str());
    if item.format == Format::Threatconnect
        && let (Some(value), Some(owner)) = (value, item.source.owner.as_deref().filter(|o| !o.is_empty()))
    {
        return Some(Cow::Owned(format!("{value} | {owner}")));
    }
    value.or(item.source.id.as_deref()).map(Cow::Borrowed)
}

/// Seed 004's description object for ThreatConnect items.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ThreatConnectDescription<'a> {
    #[serde(rename = "type")]
    kind: Option<&'a str>,
    summary: Option<&'a str>,
    confidence: Option<u8>,
    rating: Option<serde_json::Number>,
    threat_assess_score: Option<u16>,
    owner_name: Option<&'a str>,
    /// Always empty: the model does not carry group associations.
    associated_groups: [&'a str; 0],
    attributes: &'a [Attribute<'a>],
    web_link: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    protocol: Option<&'a str>,
}

fn description<'a>(item: &'a Indicator<'a>) -> Result<Option<Cow<'a, str>>, String> {
    let observable = item.observable.as_ref();
    let port = observable.and_then(|o| o.port);
    let protocol = observable.and_then(|o| o.protocol.as_deref()).filter(|p| !p.is_empty());
    if item.format == Format::Threatconnect {
        let object = ThreatConnectDescription {
            kind: item.source.type_name.as_deref(),
            summary: item.source.summary.as_deref(),
            confidence: item.scoring.confidence,
            rating: item.scoring.threat_rating.and_then(rating),
            threat_assess_score: item.scoring.threat_assess_score,
            owner_name: item.source.owner.as_deref(),
            associated_groups: [],
            attributes: &item.attributes,
            web_link: item.source.web_link.as_deref(),
            port,
            protocol,
        };
        return serde_json::to_string(&object)
            .map(|text| Some(Cow::Owned(text)))
            .map_err(|e| format!("the ThreatConnect description cannot be written as JSON: {e}"));
    }
    let own = item.description.as_deref().filter(|d| !blank(d));
    let traffic = match (port, protocol) {
        (Some(port), Some(protocol)) => format!("port {port}/protocol {protocol}"),
        (Some(port), None) => format!("port {port}"),
        (None, Some(protocol)) => format!("protocol {protocol}"),
        (None, None) => return Ok(own.map(Cow::Borrowed)),
    };
    Ok(Some(Cow::Owned(match own {
        Some(own) => format!("{own}\n\n{traffic}"),
        None => traffic,
    })))
}

/// A threat rating as seed 004 writes it: `4`, not `4.0`, when it is whole.
fn rating(value: f64) -> Option<serde_json::Number> {
    if !value.is_finite() {
        return None;
    }
    if (value - value.round()).abs() < f64::EPSILON && value.abs() < 1e15 {
        Some(serde_json::Number::from(value.round() as i64))
    } else {
        serde_json::Number::from_f64(value)
    }
}

fn non_empty<'a>(list: &'a [Cow<'a, str>]) -> Vec<&'a str> {
    list.iter().map(AsRef::as_ref).filter(|s: &&str| !blank(s)).collect()
}

fn labels<'a>(item: &'a Indicator<'a>, tlp: Option<Tlp>) -> Vec<&'a str> {
    let mut labels = non_empty(&item.labels);
    if tlp == Some(Tlp::AmberStrict) && !labels.iter().any(|l| l.eq_ignore_ascii_case(AMBER_STRICT_LABEL)) {
        labels.push(AMBER_STRICT_LABEL);
    }
    labels
}

fn references<'a>(item: &'a Indicator<'a>) -> Vec<StixReference<'a>> {
    let mut refs: Vec<StixReference<'a>> = item
        .external_references
        .iter()
        .filter(|r| !blank(&r.source_name))
        .map(|r| StixReference {
            source_name: &r.source_name,
            description: r.description.as_deref(),
            external_id: r.external_id.as_deref(),
            url: r.url.as_deref(),
        })
        .collect();
    if let Some(link) = item.source.web_link.as_deref().filter(|l| !blank(l))
        && !refs.iter().any(|r| r.url == Some(link))
    {
        refs.push(StixReference {
            source_name: item.format.as_str(),
            description: None,
            external_id: None,
            url: Some(link),
        });
    }
    refs
}

/// The TLP 1.0 marking Sentinel shows for `tlp` (§1.7; CLEAR is WHITE, AMBER+STRICT is AMBER).
const fn marking(tlp: Tlp) -> &'static [&'static str] {
    match tlp {
        Tlp::Clear => &[TLP_WHITE],
        Tlp::Green => &[TLP_GREEN],
        Tlp::Amber | Tlp::AmberStrict => &[TLP_AMBER],
        Tlp::Red => &[TLP_RED],
    }
}

/// 8-4-4-4-12 hex digits.
fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text
            .bytes()
            .enumerate()
            .all(|(i, b)| if matches!(i, 8 | 13 | 18 | 23) { b == b'-' } else { b.is_ascii_hexdigit() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{self, Config};
    use crate::ids::Uuid;
    use crate::model::{Attribute, Event, ExternalReference, HashAlgorithm};
    use crate::normalize;
    use crate::pattern::{Extraction, extract, parse};
    use proptest::prelude::*;

    fn ts(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    fn now() -> Timestamp {
        ts("2025-06-01T00:00:00Z")
    }

    fn config() -> Config {
        config::parse(
            r#"{"destinations": [{"name": "s", "type": "sentinel", "tenant": "contoso.onmicrosoft.com",
                "client_id": "11111111-2222-3333-4444-555555555555", "credential": {"secret": "S"},
                "sentinel": {"workspace_id": "66666666-7777-8888-9999-000000000000"}}]}"#,
        )
        .unwrap()
    }

    fn decision(verdict: Verdict, expires: Option<Timestamp>, tlp: Option<Tlp>) -> Decision {
        Decision {
            verdict,
            reason: None,
            message: None,
            expires,
            action: None,
            generate_alert: false,
            severity: None,
            tlp,
        }
    }

    fn upsert() -> Decision {
        decision(Verdict::Upsert, Some(ts("2025-07-01T00:00:00Z")), Some(Tlp::Green))
    }

    fn item(observable: Observable) -> Indicator<'static> {
        let mut item = Indicator::new(Format::Stix, "objects[0]".to_owned());
        item.source.id = Some(Cow::Borrowed("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"));
        item.observable = Some(observable);
        item.lifecycle.created = Some(ts("2025-05-01T00:00:00Z"));
        item.lifecycle.modified = Some(ts("2025-05-02T00:00:00Z"));
        item
    }

    fn ip() -> Observable {
        Observable::new(ObservableType::Ipv4, "198.51.100.7")
    }

    fn json(object: &StixIndicator<'_>) -> serde_json::Value {
        serde_json::to_value(object).unwrap()
    }

    fn round_trip(observable: &Observable) {
        let text = pattern_for(observable);
        if let Some(prefix) = pattern_prefix(observable).filter(|_| unescaped(&observable.value)) {
            assert_eq!(format!("{prefix}{}']", observable.value), text, "as the planner writes it");
        }
        let parsed = parse(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(parsed.to_string(), text, "not the canonical form");
        let Extraction::Atomic(found) = extract(&parsed) else { panic!("{text} is not atomic") };
        let want = Observable { port: None, protocol: None, ..observable.clone() };
        assert_eq!(found, vec![Ok(want)], "{text}");
        assert!(!text.contains(" AND ") || observable.kind == ObservableType::RegistryKey, "{text}");
    }

    #[test]
    fn patterns_per_type() {
        let mut key = Observable::new(ObservableType::RegistryKey, r"HKEY_LOCAL_MACHINE\Software\It's");
        key.value_name = Some("Run".to_owned());
        let mut traffic = ip();
        traffic.port = Some(443);
        traffic.protocol = Some("tcp".to_owned());
        for (observable, want) in [
            (ip(), "[ipv4-addr:value = '198.51.100.7']"),
            (traffic, "[ipv4-addr:value = '198.51.100.7']"),
            (Observable::new(ObservableType::Ipv6, "2001:db8::1"), "[ipv6-addr:value = '2001:db8::1']"),
            (Observable::new(ObservableType::Cidr, "10.0.0.0/8"), "[ipv4-addr:value = '10.0.0.0/8']"),
            (Observable::new(ObservableType::Cidr, "2001:db8::/32"), "[ipv6-addr:value = '2001:db8::/32']"),
            (Observable::new(ObservableType::Domain, "evil.example"), "[domain-name:value = 'evil.example']"),
            (Observable::new(ObservableType::Url, "http://a.example/it's"), r"[url:value = 'http://a.example/it\'s']"),
            (Observable::new(ObservableType::Email, "a@evil.example"), "[email-addr:value = 'a@evil.example']"),
            (Observable::new(ObservableType::EmailSubject, r"Re: a\b"), r"[email-message:subject = 'Re: a\\b']"),
            (Observable::new(ObservableType::Asn, "64496"), "[autonomous-system:number = 64496]"),
            (
                Observable::hashed(ObservableType::File, HashAlgorithm::Sha256, "a".repeat(64)),
                &format!("[file:hashes.'SHA-256' = '{}']", "a".repeat(64)),
            ),
            (
                Observable::hashed(ObservableType::File, HashAlgorithm::Md5, "b".repeat(32)),
                &format!("[file:hashes.MD5 = '{}']", "b".repeat(32)),
            ),
            (
                Observable::hashed(ObservableType::Certificate, HashAlgorithm::Sha1, "c".repeat(40)),
                &format!("[x509-certificate:hashes.'SHA-1' = '{}']", "c".repeat(40)),
            ),
            (
                key,
                r"[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\Software\\It\'s' AND windows-registry-key:values[*].name = 'Run']",
            ),
        ] {
            assert_eq!(pattern_for(&observable), want);
            round_trip(&observable);
        }
    }

    fn hex(len: usize) -> impl Strategy<Value = String> {
        proptest::collection::vec(proptest::sample::select(b"0123456789abcdef".to_vec()), len)
            .prop_map(|b| String::from_utf8(b).unwrap())
    }

    /// A raw value of each type, normalised as a decoder would.
    fn observable() -> impl Strategy<Value = Observable> {
        let printable = "[ -~]{1,30}";
        let algorithms = proptest::sample::select(vec![
            HashAlgorithm::Md5,
            HashAlgorithm::Sha1,
            HashAlgorithm::Sha224,
            HashAlgorithm::Sha256,
            HashAlgorithm::Sha384,
            HashAlgorithm::Sha512,
            HashAlgorithm::Sha3_256,
            HashAlgorithm::Sha3_512,
        ]);
        let raw = prop_oneof![
            any::<u32>().prop_map(|n| (ObservableType::Ipv4, None, std::net::Ipv4Addr::from(n).to_string())),
            any::<u128>().prop_map(|n| (ObservableType::Ipv6, None, std::net::Ipv6Addr::from(n).to_string())),
            (any::<u32>(), 0u8..=32).prop_map(|(n, l)| (
                ObservableType::Cidr,
                None,
                format!("{}/{l}", std::net::Ipv4Addr::from(n))
            )),
            (any::<u128>(), 0u8..=128).prop_map(|(n, l)| (
                ObservableType::Cidr,
                None,
                format!("{}/{l}", std::net::Ipv6Addr::from(n))
            )),
            "[a-z0-9]{1,12}(\\.[a-z0-9-]{1,12}){0,3}\\.[a-z]{2,6}".prop_map(|d| (ObservableType::Domain, None, d)),
            "https?://[a-z]{1,10}\\.example/[!-~]{0,30}".prop_map(|u| (ObservableType::Url, None, u)),
            "[a-z0-9._'+-]{1,12}@[a-z]{1,10}\\.example".prop_map(|e| (ObservableType::Email, None, e)),
            printable.prop_map(|s| (ObservableType::EmailSubject, None, s)),
            any::<u32>().prop_map(|n| (ObservableType::Asn, None, n.to_string())),
            "(HKLM|HKEY_CURRENT_USER)\\\\[ -~]{1,30}".prop_map(|k| (ObservableType::RegistryKey, None, k)),
            algorithms.clone().prop_flat_map(|a| hex(a.hex_len().unwrap_or(64)).prop_map(move |h| (
                ObservableType::File,
                Some(a),
                h
            ))),
            algorithms.prop_flat_map(|a| hex(a.hex_len().unwrap_or(64)).prop_map(move |h| (
                ObservableType::Certificate,
                Some(a),
                h
            ))),
        ];
        (raw, proptest::option::of(printable), proptest::option::of("REG_[A-Z]{2,6}"), any::<Option<u16>>())
            .prop_filter_map("invalid value", |((kind, algorithm, raw), name, data_type, port)| {
                let mut o = normalize::observable(kind, algorithm, &raw).ok()?;
                if o.kind == ObservableType::RegistryKey {
                    o.value_type = name.as_ref().and(data_type);
                    o.value_name = name;
                } else {
                    o.port = port;
                    o.protocol = port.map(|_| "tcp".to_owned());
                }
                Some(o)
            })
    }

    proptest! {
        #[test]
        fn every_observable_round_trips(o in observable()) {
            round_trip(&o);
        }

        #[test]
        fn every_observable_maps(o in observable()) {
            let cfg = config();
            let it = item(o);
            let object = map(&it, &upsert(), &cfg.destinations[0], now()).unwrap();
            prop_assert!(object.id.starts_with("indicator--"));
            prop_assert_eq!(object.id.len(), "indicator--".len() + 36);
            prop_assert!(parse(&object.pattern).is_ok());
        }
    }

    #[test]
    fn upsert_shape() {
        let cfg = config();
        let mut it = item(ip());
        it.name = Some(Cow::Borrowed("C2 server"));
        it.description = Some(Cow::Borrowed("seen in campaign X"));
        it.labels = vec![Cow::Borrowed("c2"), Cow::Borrowed("")];
        it.indicator_types = vec![Cow::Borrowed("malicious-activity")];
        it.scoring.score = Some(80);
        it.kill_chain_phases = vec![KillChainPhase {
            kill_chain_name: Cow::Borrowed("mitre-attack"),
            phase_name: Cow::Borrowed("command-and-control"),
        }];
        it.external_references =
            vec![ExternalReference { source_name: Cow::Borrowed("mitre-attack"), ..ExternalReference::default() }];
        let object = map(&it, &upsert(), &cfg.destinations[0], now()).unwrap();
        let got = json(&object);
        let want = serde_json::json!({
            "type": "indicator", "spec_version": "2.1", "id": object_id(&it),
            "created": "2025-05-01T00:00:00.000Z", "modified": "2025-05-02T00:00:00.000Z",
            "name": "C2 server", "description": "seen in campaign X",
            "indicator_types": ["malicious-activity"],
            "pattern": "[ipv4-addr:value = '198.51.100.7']", "pattern_type": "stix", "pattern_version": "2.1",
            "valid_from": "2025-05-01T00:00:00.000Z", "valid_until": "2025-07-01T00:00:00.000Z",
            "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "command-and-control"}],
            "confidence": 80, "labels": ["c2"],
            "external_references": [{"source_name": "mitre-attack"}],
            "object_marking_refs": [TLP_GREEN],
        });
        assert_eq!(got, want);
        // Key order is fixed: type, spec_version and id lead.
        let text = serde_json::to_string(&object).unwrap();
        assert!(text.starts_with(r#"{"type":"indicator","spec_version":"2.1","id":"indicator--"#), "{text}");
    }

    #[test]
    fn removal_shape() {
        let cfg = config();
        let dest = &cfg.destinations[0];
        let mut it = item(ip());
        it.action = crate::model::Action::Remove;
        it.event = Some(Event::Delete);
        let remove = decision(Verdict::Remove, None, Some(Tlp::Amber));
        // now is later than source modified + 1 ms: modified = now.
        let object = map(&it, &remove, dest, now()).unwrap();
        assert_eq!(object.revoked, Some(true));
        assert_eq!(object.modified, now());
        assert_eq!(object.valid_until, None);
        assert_eq!(object.id, map(&it, &upsert(), dest, now()).unwrap().id);
        // A source modified at or after now: modified = source + 1 ms.
        it.lifecycle.modified = Some(now());
        assert_eq!(map(&it, &remove, dest, now()).unwrap().modified, now().plus_millis(1));
        it.lifecycle.modified = None;
        assert_eq!(map(&it, &remove, dest, now()).unwrap().modified, now());
        // The source's own expiry stays when it is after valid_from; a passed one too (revoked anyway).
        it.lifecycle.valid_until = Some(ts("2025-05-20T00:00:00Z"));
        assert_eq!(map(&it, &remove, dest, now()).unwrap().valid_until, Some(ts("2025-05-20T00:00:00Z")));
        it.lifecycle.valid_until = Some(ts("2025-05-01T00:00:00Z"));
        assert_eq!(map(&it, &remove, dest, now()).unwrap().valid_until, None);
        let text = serde_json::to_string(&map(&it, &remove, dest, now()).unwrap()).unwrap();
        assert!(text.contains(r#""revoked":true"#), "{text}");
        // Upserts carry no `revoked`.
        assert!(!serde_json::to_string(&map(&it, &upsert(), dest, now()).unwrap()).unwrap().contains("revoked"));
    }

    #[test]
    fn timestamps() {
        let cfg = config();
        let dest = &cfg.destinations[0];
        let mut it = item(ip());
        // No source times: created = modified = valid_from = now.
        it.lifecycle = crate::model::Lifecycle::default();
        let o = map(&it, &upsert(), dest, now()).unwrap();
        assert_eq!((o.created, o.modified, o.valid_from), (now(), now(), now()));
        // modified never before created.
        it.lifecycle.created = Some(ts("2025-05-03T00:00:00Z"));
        it.lifecycle.modified = Some(ts("2025-05-02T00:00:00Z"));
        let o = map(&it, &upsert(), dest, now()).unwrap();
        assert_eq!(o.modified, ts("2025-05-03T00:00:00Z"));
        assert_eq!(o.valid_from, ts("2025-05-03T00:00:00Z"));
        // valid_from from the source.
        it.lifecycle.valid_from = Some(ts("2025-05-10T00:00:00Z"));
        assert_eq!(map(&it, &upsert(), dest, now()).unwrap().valid_from, ts("2025-05-10T00:00:00Z"));
        // An expiry not after valid_from cannot be sent.
        let early = decision(Verdict::Upsert, Some(ts("2025-05-10T00:00:00Z")), None);
        let err = map(&it, &early, dest, now()).unwrap_err();
        assert!(err.contains("valid_until") && err.contains("2025-05-10T00:00:00.000Z"), "{err}");
        // Skips are not mapped.
        assert!(map(&it, &decision(Verdict::Skip, None, None), dest, now()).is_err());
    }

    #[test]
    fn tlp_markings_and_amber_strict_label() {
        let cfg = config();
        let dest = &cfg.destinations[0];
        let it = item(ip());
        for (tlp, want) in [
            (Tlp::Clear, TLP_WHITE),
            (Tlp::Green, TLP_GREEN),
            (Tlp::Amber, TLP_AMBER),
            (Tlp::AmberStrict, TLP_AMBER),
            (Tlp::Red, TLP_RED),
        ] {
            let d = decision(Verdict::Upsert, Some(ts("2025-07-01T00:00:00Z")), Some(tlp));
            let o = map(&it, &d, dest, now()).unwrap();
            assert_eq!(o.object_marking_refs, vec![want]);
            assert_eq!(o.labels.contains(&AMBER_STRICT_LABEL), tlp == Tlp::AmberStrict);
        }
        let d = decision(Verdict::Upsert, Some(ts("2025-07-01T00:00:00Z")), None);
        assert!(!serde_json::to_string(&map(&it, &d, dest, now()).unwrap()).unwrap().contains("object_marking_refs"));
    }

    #[test]
    fn ids() {
        let a = item(ip());
        let mut b = item(ip());
        assert_eq!(object_id(&a), object_id(&b));
        assert_ne!(object_id(&a), a.source.id.as_deref().unwrap(), "atomic items get their own ids");
        b.observable = Some(Observable::new(ObservableType::Domain, "evil.example"));
        assert_ne!(object_id(&a), object_id(&b));
        // Pinned: the name is `stix|<id>|ipv4||198.51.100.7`.
        let name = "stix|indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f|ipv4||198.51.100.7";
        assert_eq!(object_id(&a), format!("indicator--{}", Uuid::v5(Uuid::TI_RELAY, name.as_bytes())));
        // Bare values.
        let mut bare = Indicator::new(Format::Envelope, "indicators[0]".to_owned());
        bare.observable = Some(ip());
        let name = "envelope||ipv4||198.51.100.7";
        assert_eq!(object_id(&bare), format!("indicator--{}", Uuid::v5(Uuid::TI_RELAY, name.as_bytes())));
        // Non-atomic: the source's own STIX id, else derived.
        let mut compound = item(ip());
        compound.observable = None;
        compound.pattern = Some(Cow::Borrowed("[file:name = 'a'] FOLLOWEDBY [file:name = 'b']"));
        assert_eq!(object_id(&compound), "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f");
        compound.source.id = Some(Cow::Borrowed("123"));
        let want = Uuid::v5(Uuid::TI_RELAY, b"stix|123|pattern");
        assert_eq!(object_id(&compound), format!("indicator--{want}"));
        compound.source.id = None;
        assert!(object_id(&compound).starts_with("indicator--"));
        let cfg = config();
        let o = map(&compound, &upsert(), &cfg.destinations[0], now()).unwrap();
        assert_eq!(o.pattern, "[file:name = 'a'] FOLLOWEDBY [file:name = 'b']");
        compound.pattern = Some(Cow::Borrowed("[file:name = "));
        assert!(map(&compound, &upsert(), &cfg.destinations[0], now()).is_err());
        compound.pattern = None;
        assert!(map(&compound, &upsert(), &cfg.destinations[0], now()).is_err());
    }

    #[test]
    fn stix_2_0_patterns_keep_their_version() {
        let cfg = config();
        let mut it = item(ip());
        it.observable = None;
        it.spec_version = Some(Cow::Borrowed("2.0"));
        it.pattern = Some(Cow::Borrowed("[file:name = 'a'] START '2016-06-01T00:00:00Z' STOP '2016-07-01T00:00:00Z'"));
        let o = map(&it, &upsert(), &cfg.destinations[0], now()).unwrap();
        assert_eq!(o.pattern_version, "2.0");
        it.spec_version = None;
        assert_eq!(map(&it, &upsert(), &cfg.destinations[0], now()).unwrap().pattern_version, "2.0");
        it.spec_version = Some(Cow::Borrowed("2.1"));
        assert!(map(&it, &upsert(), &cfg.destinations[0], now()).is_err());
    }

    #[test]
    fn threatconnect_name_and_description() {
        let cfg = config();
        let mut o = ip();
        o.port = Some(443);
        o.protocol = Some("tcp".to_owned());
        let mut it = item(o);
        it.format = Format::Threatconnect;
        it.source.id = Some(Cow::Borrowed("12345"));
        it.source.type_name = Some(Cow::Borrowed("Address"));
        it.source.summary = Some(Cow::Borrowed("198.51.100.7"));
        it.source.owner = Some(Cow::Borrowed("ABC-Owner"));
        it.source.web_link = Some(Cow::Borrowed("https://tc.example/#/details/indicators/12345/overview"));
        it.scoring.confidence = Some(45);
        it.scoring.threat_rating = Some(4.0);
        it.scoring.threat_assess_score = Some(548);
        it.attributes =
            vec![Attribute { kind: Cow::Borrowed("Last Seen"), value: Cow::Borrowed("2023-09-19T14:51:51Z") }];
        let object = map(&it, &upsert(), &cfg.destinations[0], now()).unwrap();
        assert_eq!(object.name.as_deref(), Some("198.51.100.7 | ABC-Owner"));
        assert_eq!(
            object.description.as_deref(),
            Some(
                r#"{"type":"Address","summary":"198.51.100.7","confidence":45,"rating":4,"threatAssessScore":548,"ownerName":"ABC-Owner","associatedGroups":[],"attributes":[{"type":"Last Seen","value":"2023-09-19T14:51:51Z"}],"webLink":"https://tc.example/#/details/indicators/12345/overview","port":443,"protocol":"tcp"}"#
            )
        );
        assert_eq!(object.pattern, "[ipv4-addr:value = '198.51.100.7']");
        assert_eq!(
            object.external_references,
            vec![StixReference {
                source_name: "threatconnect",
                description: None,
                external_id: None,
                url: Some("https://tc.example/#/details/indicators/12345/overview"),
            }]
        );
        // A fractional rating stays fractional.
        it.scoring.threat_rating = Some(2.5);
        let object = map(&it, &upsert(), &cfg.destinations[0], now()).unwrap();
        assert!(object.description.unwrap().contains(r#""rating":2.5"#));
    }

    #[test]
    fn ports_go_in_the_description() {
        let cfg = config();
        let mut o = ip();
        o.port = Some(8080);
        let mut it = item(o);
        let object = map(&it, &upsert(), &cfg.destinations[0], now()).unwrap();
        assert_eq!(object.description.as_deref(), Some("port 8080"));
        assert_eq!(object.name.as_deref(), Some("198.51.100.7"));
        it.description = Some(Cow::Borrowed("C2"));
        if let Some(o) = &mut it.observable {
            o.protocol = Some("udp".to_owned());
        }
        let object = map(&it, &upsert(), &cfg.destinations[0], now()).unwrap();
        assert_eq!(object.description.as_deref(), Some("C2\n\nport 8080/protocol udp"));
    }
}
