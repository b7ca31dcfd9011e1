//! Graph `tiIndicator` (beta, deprecated): one upserted item, with its policy [`Decision`], into
//! the object `submitTiIndicators` takes (reference/microsoft-apis.md §3); removals into the body
//! of `deleteTiIndicatorsByExternalId`.
//!
//! The mapping follows seed 002 for ThreatConnect items and seed 000 / peers.md §1.4 (the OpenCTI
//! Graph connector) for the rest, with that connector's bugs fixed: the expiry is the policy's
//! (which honours `valid_until`), tags and description come from the item itself, a missing score
//! is no crash, and `passiveOnly` is a JSON boolean, not the string `"true"`.
//!
//! | tiIndicator | from |
//! |---|---|
//! | `action` | `decision.action` (a Graph action: `unknown`, `allow`, `block`, `alert`) |
//! | `targetProduct` | the destination's `graph.target_product` |
//! | `threatType` | the first label equal (ignoring case) to a Graph threat type; else `WatchList` |
//! | `tlpLevel` | `decision.tlp`: CLEAR → `white`, GREEN → `green`, AMBER → `amber`, AMBER+STRICT and RED → `red`; none → `unknown` |
//! | `passiveOnly` | `graph.passive_only`, or `true` whenever `tlpLevel` is `red` |
//! | `description` | ThreatConnect: `ThreatConnect <type> \| Owner: <owner> \| Id: <owner id>` (seed 002); else the item's description; else `<format> indicator <source id>`; at most 100 UTF-16 code units, cut with `…` |
//! | `expirationDateTime` | `decision.expires` |
//! | `confidence` | the source's confidence, else the score (0–100), else omitted |
//! | `severity` | the ThreatConnect threat rating, rounded (0–5), else `decision.severity` |
//! | `externalId` | [`external_id`]: the ThreatConnect `xid`, else a deterministic UUIDv5 |
//! | `tags` | the labels (omitted when there are none) |
//! | `killChain` | the Lockheed-Martin phases (`command-and-control` / `c2` → `C2`, `actions-on-objectives` → `Actions`); other phases dropped |
//! | `knownFalsePositives` | the false-positive count, as text, when above 0 |
//! | `lastReportedDateTime` | `last_seen`, else `modified` |
//! | observable | see below |
//!
//! Observables (`Azure Sentinel` / `Microsoft Defender ATP`): `ipv4` → `networkIPv4` /
//! `networkDestinationIPv4`; `ipv6` → `networkIPv6` / `networkDestinationIPv6`; `cidr` →
//! `networkCidrBlock` / refused; `domain` → `domainName`; `url` → `url`; `file` →
//! `fileHashType` (`md5`, `sha1`, `sha256` only) + `fileHashValue`; `email` →
//! `emailSenderAddress` / refused; `email-subject` → `emailSubject` / refused. A port goes to
//! `networkPort` / `networkDestinationPort`; a protocol to `networkProtocol` as its IANA number
//! (`tcp` 6, `udp` 17, `icmp` 1; other names are dropped, since the field is an Int32). Any other
//! type is refused: [`map`] returns the sentence, and the planner skips the item as `invalid_value`.
//!
//! TLP: Graph knows no AMBER+STRICT. Writing it as `amber` would widen who may see the indicator,
//! so it is written as the next stricter level, `red` (and so passive only).
//!
//! Example: a ThreatConnect Address (`TCP/443`, threat rating 4, tags `APT28` and `C2`, TLP:AMBER)
//! at an `Azure Sentinel` destination whose policy gives it `block`:
//!
//! ```json
//! {
//!   "action": "block",
//!   "targetProduct": "Azure Sentinel",
//!   "threatType": "C2",
//!   "tlpLevel": "amber",
//!   "passiveOnly": false,
//!   "description": "ThreatConnect Address | Owner: ABC-Owner | Id: 3507838",
//!   "expirationDateTime": "2025-07-01T00:00:00.000Z",
//!   "confidence": 45,
//!   "severity": 4,
//!   "externalId": "a8f1b2c3-tc-xid-12345",
//!   "tags": ["APT28", "C2"],
//!   "killChain": ["Delivery", "Reconnaissance"],
//!   "lastReportedDateTime": "2023-09-19T14:51:51.000Z",
//!   "networkIPv4": "123.45.67.89",
//!   "networkPort": 443,
//!   "networkProtocol": 6
//! }
//! ```

use std::borrow::Cow;

use serde::Serialize;

use crate::config::{Destination, IndicatorAction, Settings, Severity, TargetProduct};
use crate::destinations::trimmed;
use crate::destinations::write::{Object, Times, WriteJson, key};
use crate::model::{Format, HashAlgorithm, Indicator, ObservableType, Tlp};
use crate::policy::{Decision, Verdict};
use crate::time::Timestamp;

/// The most tiIndicators (or external ids) one bulk request may carry.
pub const MAX_BATCH: usize = 100;

/// The most characters (UTF-16 code units, as .NET counts them) a `description` may have.
pub const DESCRIPTION_MAX: usize = 100;

/// Graph's `threatType` values, as the API spells them.
const THREAT_TYPES: [&str; 11] = [
    "Botnet",
    "C2",
    "CryptoMining",
    "Darknet",
    "DDoS",
    "MaliciousUrl",
    "Malware",
    "Phishing",
    "Proxy",
    "PUA",
    "WatchList",
];

/// One Graph `tiIndicator`, as `POST /security/tiIndicators` and `submitTiIndicators` take it.
/// Absent optionals are omitted.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TiIndicator<'a> {
    /// `unknown`, `allow`, `block` or `alert`.
    pub action: &'static str,
    /// `Azure Sentinel` or `Microsoft Defender ATP`.
    pub target_product: &'static str,
    /// One of Graph's threat types.
    pub threat_type: &'static str,
    /// `unknown`, `white`, `green`, `amber` or `red`.
    pub tlp_level: &'static str,
    /// Silent mode: no alert, no block.
    pub passive_only: bool,
    /// At most 100 UTF-16 code units.
    pub description: Cow<'a, str>,
    /// When the indicator expires.
    pub expiration_date_time: Timestamp,
    /// 0–100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<u8>,
    /// 0–5.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<u8>,
    /// The key `deleteTiIndicatorsByExternalId` finds it by.
    pub external_id: Cow<'a, str>,
    /// The item's labels.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub tags: &'a [Cow<'a, str>],
    /// Kill-chain phases, in Graph's names.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kill_chain: Vec<&'static str>,
    /// The number of reported false positives, as text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub known_false_positives: Option<String>,
    /// The last sighting (else the last modification).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_reported_date_time: Option<Timestamp>,
    /// An IPv4 address (`Azure Sentinel`).
    #[serde(rename = "networkIPv4", skip_serializing_if = "Option::is_none")]
    pub network_ipv4: Option<&'a str>,
    /// An IPv6 address (`Azure Sentinel`).
    #[serde(rename = "networkIPv6", skip_serializing_if = "Option::is_none")]
    pub network_ipv6: Option<&'a str>,
    /// An IPv4 address (`Microsoft Defender ATP`).
    #[serde(rename = "networkDestinationIPv4", skip_serializing_if = "Option::is_none")]
    pub network_destination_ipv4: Option<&'a str>,
    /// An IPv6 address (`Microsoft Defender ATP`).
    #[serde(rename = "networkDestinationIPv6", skip_serializing_if = "Option::is_none")]
    pub network_destination_ipv6: Option<&'a str>,
    /// A CIDR block (`Azure Sentinel`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_cidr_block: Option<&'a str>,
    /// A port (`Azure Sentinel`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_port: Option<u16>,
    /// A port (`Microsoft Defender ATP`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_destination_port: Option<u16>,
    /// The IANA protocol number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_protocol: Option<u8>,
    /// A domain name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain_name: Option<&'a str>,
    /// A URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<&'a str>,
    /// `md5`, `sha1` or `sha256`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_hash_type: Option<&'static str>,
    /// The hash, lower-case hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_hash_value: Option<&'a str>,
    /// An email sender address (`Azure Sentinel`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_sender_address: Option<&'a str>,
    /// An email subject (`Azure Sentinel`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_subject: Option<&'a str>,
}

impl WriteJson for TiIndicator<'_> {
    /// The same bytes as `serde_json::to_writer(out, self)`.
    fn write_json(&self, out: &mut Vec<u8>, times: &mut Times) {
        let mut o = Object::new(out, times);
        o.lit(key!("action"), self.action)
            .lit(key!("targetProduct"), self.target_product)
            .lit(key!("threatType"), self.threat_type)
            .lit(key!("tlpLevel"), self.tlp_level)
            .bool(key!("passiveOnly"), self.passive_only)
            .str(key!("description"), &self.description)
            .time(key!("expirationDateTime"), self.expiration_date_time)
            .opt_uint(key!("confidence"), self.confidence.map(u64::from))
            .opt_uint(key!("severity"), self.severity.map(u64::from))
            .str(key!("externalId"), &self.external_id)
            .strs(key!("tags"), self.tags, true)
            .strs(key!("killChain"), &self.kill_chain, true)
            .opt_str(key!("knownFalsePositives"), self.known_false_positives.as_deref())
            .opt_time(key!("lastReportedDateTime"), self.last_reported_date_time)
            .opt_str(key!("networkIPv4"), self.network_ipv4)
            .opt_str(key!("networkIPv6"), self.network_ipv6)
            .opt_str(key!("networkDestinationIPv4"), self.network_destination_ipv4)
            .opt_str(key!("networkDestinationIPv6"), self.network_destination_ipv6)
            .opt_str(key!("networkCidrBlock"), self.network_cidr_block)
            .opt_uint(key!("networkPort"), self.network_port.map(u64::from))
            .opt_uint(key!("networkDestinationPort"), self.network_destination_port.map(u64::from))
            .opt_uint(key!("networkProtocol"), self.network_protocol.map(u64::from))
            .opt_str(key!("domainName"), self.domain_name)
            .opt_str(key!("url"), self.url)
            .opt_lit(key!("fileHashType"), self.file_hash_type)
            .opt_str(key!("fileHashValue"), self.file_hash_value)
            .opt_str(key!("emailSenderAddress"), self.email_sender_address)
            .opt_str(key!("emailSubject"), self.email_subject)
            .close();
    }
}

/// Maps one upserted item into a tiIndicator for a `graph` destination, or says why it cannot be
/// made valid for that destination (see the module docs for every field).
pub fn map<'a>(
    item: &'a Indicator<'a>,
    decision: &Decision,
    destination: &Destination,
) -> Result<TiIndicator<'a>, String> {
    map_with_id(item, Cow::Owned(crate::ids::item_uuid(item).hyphenated()), decision, destination)
}

/// [`map`] with the text of the item's [`crate::ids::item_uuid`] already written (the planner
/// writes it once per item, as its key, for every destination).
pub(crate) fn map_with_id<'a>(
    item: &'a Indicator<'a>,
    id: Cow<'a, str>,
    decision: &Decision,
    destination: &Destination,
) -> Result<TiIndicator<'a>, String> {
    let Settings::Graph(settings) = &destination.settings else {
        return Err(format!("destination `{}` is not a graph destination", destination.name));
    };
    if decision.verdict != Verdict::Upsert {
        return Err(
            "only upserts become tiIndicators: a removal is sent to deleteTiIndicatorsByExternalId with the external id"
                .to_owned(),
        );
    }
    let action = graph_action(decision.action)?;
    let Some(expires) = decision.expires else {
        return Err("the decision carries no expiry, and Graph requires `expirationDateTime`".to_owned());
    };
    let Some(observable) = &item.observable else {
        return Err("Graph cannot take a compound pattern: it needs one atomic observable".to_owned());
    };
    let target = settings.target_product;
    let atp = target == TargetProduct::DefenderAtp;
    let tlp_level = tlp_level(decision.tlp);
    let mut out = TiIndicator {
        action,
        target_product: target.as_str(),
        threat_type: threat_type(item),
        tlp_level,
        passive_only: settings.passive_only || tlp_level == "red",
        description: truncate_description(description(item)),
        expiration_date_time: expires,
        confidence: item.scoring.confidence.or(item.scoring.score).map(|c| c.min(100)),
        severity: severity(item, decision),
        external_id: xid(item).map_or(id, Cow::Borrowed),
        tags: &item.labels,
        kill_chain: kill_chain(item),
        known_false_positives: item.scoring.false_positives.filter(|n| *n > 0).map(|n| n.to_string()),
        last_reported_date_time: item.lifecycle.last_seen.or(item.lifecycle.modified),
        network_ipv4: None,
        network_ipv6: None,
        network_destination_ipv4: None,
        network_destination_ipv6: None,
        network_cidr_block: None,
        network_port: None,
        network_destination_port: None,
        network_protocol: None,
        domain_name: None,
        url: None,
        file_hash_type: None,
        file_hash_value: None,
        email_sender_address: None,
        email_subject: None,
    };
    let value = Some(observable.value.as_str());
    let not_on_atp = |what: &str| {
        Err(format!(
            "`Microsoft Defender ATP` does not take {what} indicators: it acts only on domains, URLs, destination IPs and file hashes"
        ))
    };
    match observable.kind {
        ObservableType::Ipv4 if atp => out.network_destination_ipv4 = value,
        ObservableType::Ipv4 => out.network_ipv4 = value,
        ObservableType::Ipv6 if atp => out.network_destination_ipv6 = value,
        ObservableType::Ipv6 => out.network_ipv6 = value,
        ObservableType::Cidr if atp => return not_on_atp("CIDR"),
        ObservableType::Cidr => out.network_cidr_block = value,
        ObservableType::Domain => out.domain_name = value,
        ObservableType::Url => out.url = value,
        ObservableType::File => {
            out.file_hash_type = Some(match observable.algorithm {
                Some(HashAlgorithm::Md5) => "md5",
                Some(HashAlgorithm::Sha1) => "sha1",
                Some(HashAlgorithm::Sha256) => "sha256",
                Some(other) => {
                    return Err(format!(
                        "Graph takes only MD5, SHA-1 and SHA-256 file hashes, not {}",
                        other.stix_name()
                    ));
                }
                None => return Err("the file hash has no algorithm, and Graph requires `fileHashType`".to_owned()),
            });
            out.file_hash_value = value;
        }
        ObservableType::Email if atp => return not_on_atp("email address"),
        ObservableType::Email => out.email_sender_address = value,
        ObservableType::EmailSubject if atp => return not_on_atp("email subject"),
        ObservableType::EmailSubject => out.email_subject = value,
        kind @ (ObservableType::Asn | ObservableType::RegistryKey | ObservableType::Certificate) => {
            return Err(format!("Graph tiIndicators have no field for `{kind}` indicators"));
        }
    }
    if atp {
        out.network_destination_port = observable.port;
    } else {
        out.network_port = observable.port;
    }
    out.network_protocol = observable.protocol.as_deref().and_then(protocol_number);
    Ok(out)
}

/// The `externalId` written on the item's tiIndicator and used to delete it: a ThreatConnect
/// item's `xid` when it has one (seed 002), else the UUIDv5, in ti-relay's namespace, of
/// `<format>|<source id>|<type>|<algorithm>|<value>` (absent parts empty), so that a replay or a
/// removal of the same item finds what the first upsert created.
///
/// The three hashes of one ThreatConnect File share its `xid`, so removing the File removes all
/// three, as the source means it.
pub fn external_id(item: &Indicator<'_>) -> String {
    if let Some(xid) = xid(item) {
        return xid.to_owned();
    }
    crate::ids::item_uuid(item).hyphenated()
}

/// [`external_id`] with the text of the item's [`crate::ids::item_uuid`] already written.
pub(crate) fn external_id_with<'a>(item: &'a Indicator<'_>, id: &'a str) -> &'a str {
    xid(item).unwrap_or(id)
}

/// A ThreatConnect item's `xid`, when it has one.
fn xid<'a>(item: &'a Indicator<'_>) -> Option<&'a str> {
    if item.format != Format::Threatconnect {
        return None;
    }
    item.source.external_id.as_deref().map(str::trim).filter(|x| !x.is_empty())
}

/// The body of `POST /security/tiIndicators/deleteTiIndicatorsByExternalId`: `{"value":[…]}`.
///
/// A request takes at most [`MAX_BATCH`] ids: only the first [`MAX_BATCH`] are written, so split
/// longer lists with `ids.chunks(MAX_BATCH)` (or use [`delete_by_external_id_bodies`]).
pub fn delete_by_external_id_body(ids: &[&str]) -> String {
    #[derive(Serialize)]
    struct Body<'b> {
        value: &'b [&'b str],
    }
    let ids = ids.get(..MAX_BATCH).unwrap_or(ids);
    serde_json::to_string(&Body { value: ids }).unwrap_or_else(|_| String::from("{\"value\":[]}"))
}

/// [`delete_by_external_id_body`] for every chunk of at most [`MAX_BATCH`] ids (none for none).
pub fn delete_by_external_id_bodies(ids: &[&str]) -> Vec<String> {
    ids.chunks(MAX_BATCH).map(delete_by_external_id_body).collect()
}

fn graph_action(action: Option<IndicatorAction>) -> Result<&'static str, String> {
    match action {
        Some(
            a @ (IndicatorAction::GraphUnknown
            | IndicatorAction::GraphAllow
            | IndicatorAction::GraphBlock
            | IndicatorAction::GraphAlert),
        ) => Ok(a.as_str()),
        Some(other) => {
            Err(format!("`{}` is not a Graph action: expected one of unknown, allow, block, alert", other.as_str()))
        }
        None => Err("the decision carries no action, and Graph requires `action`".to_owned()),
    }
}

/// Graph's TLP names. AMBER+STRICT has no Graph equivalent and becomes `red`: the stricter level,
/// never a weaker one.
fn tlp_level(tlp: Option<Tlp>) -> &'static str {
    match tlp {
        None => "unknown",
        Some(Tlp::Clear) => "white",
        Some(Tlp::Green) => "green",
        Some(Tlp::Amber) => "amber",
        Some(Tlp::AmberStrict | Tlp::Red) => "red",
    }
}

/// The first label that names a Graph threat type (ignoring case), else `WatchList`.
fn threat_type(item: &Indicator<'_>) -> &'static str {
    item.labels
        .iter()
        .find_map(|label| {
            let label = trimmed(label);
            THREAT_TYPES.into_iter().find(|t| t.eq_ignore_ascii_case(label))
        })
        .unwrap_or("WatchList")
}

/// The untruncated description (never empty).
fn description<'a>(item: &'a Indicator<'a>) -> Cow<'a, str> {
    if item.format == Format::Threatconnect {
        let kind = item.source.type_name.as_deref().unwrap_or("Indicator");
        let mut text = format!("ThreatConnect {kind}");
        if let Some(owner) = item.source.owner.as_deref() {
            text.push_str(" | Owner: ");
            text.push_str(owner);
        }
        if let Some(id) = item.source.owner_id.as_deref() {
            text.push_str(" | Id: ");
            text.push_str(id);
        }
        return Cow::Owned(text);
    }
    if let Some(text) = item.description.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        return Cow::Borrowed(text);
    }
    let id = item.source.id.as_deref().or_else(|| item.observable.as_ref().map(|o| o.value.as_str()));
    Cow::Owned(match id {
        Some(id) => [item.format.as_str(), " indicator ", id].concat(),
        None => [item.format.as_str(), " indicator"].concat(),
    })
}

/// Cuts `text` to at most [`DESCRIPTION_MAX`] UTF-16 code units, ending with `…` when cut. Cuts
/// fall between characters (never inside a surrogate pair), and a dangling zero-width joiner,
/// variation selector or space before the `…` is dropped.
fn truncate_description(text: Cow<'_, str>) -> Cow<'_, str> {
    // A text has at most as many UTF-16 code units as UTF-8 bytes: most are short enough to tell
    // without counting.
    if text.len() <= DESCRIPTION_MAX || utf16_len(&text) <= DESCRIPTION_MAX {
        return text;
    }
    let budget = DESCRIPTION_MAX - 1; // '…' is one code unit
    // ASCII is one code unit per byte (most descriptions): the cut is at `budget` bytes.
    let end = if text.as_bytes().get(..budget).is_some_and(<[u8]>::is_ascii) {
        budget
    } else {
        let mut used = 0;
        let mut end = 0;
        for (at, c) in text.char_indices() {
            used += c.len_utf16();
            if used > budget {
                break;
            }
            end = at + c.len_utf8();
        }
        end
    };
    let head = text.get(..end).unwrap_or("");
    let head = head.trim_end_matches(|c: char| c.is_whitespace() || matches!(c, '\u{200d}' | '\u{fe0e}' | '\u{fe0f}'));
    Cow::Owned([head, "…"].concat())
}

/// The UTF-16 code units of `text` (`text.encode_utf16().count()`), from its bytes: one per
/// character (every byte but a continuation byte) and a second for a four-byte one.
fn utf16_len(text: &str) -> usize {
    text.bytes().map(|b| usize::from(b & 0xc0 != 0x80) + usize::from(b >= 0xf0)).sum()
}

fn severity(item: &Indicator<'_>, decision: &Decision) -> Option<u8> {
    if let Some(rating) = item.scoring.threat_rating.filter(|r| r.is_finite()) {
        return Some(rating.round().clamp(0.0, 5.0) as u8);
    }
    match decision.severity {
        Some(Severity::Graph(level)) => Some(level.min(5)),
        _ => None,
    }
}

/// The kill-chain phases Graph knows, in first-seen order, without repeats.
fn kill_chain(item: &Indicator<'_>) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for phase in &item.kill_chain_phases {
        // The name lower-cased, with spaces and underscores as hyphens, on the stack: no known
        // name is longer than 24 bytes.
        let name = trimmed(&phase.phase_name).as_bytes();
        let mut folded = [0u8; 24];
        let Some(slot) = folded.get_mut(..name.len()) else { continue };
        for (to, &b) in slot.iter_mut().zip(name) {
            *to = if b == b' ' || b == b'_' { b'-' } else { b.to_ascii_lowercase() };
        }
        let graph = match &*slot {
            b"reconnaissance" => "Reconnaissance",
            b"weaponization" | b"weaponisation" => "Weaponization",
            b"delivery" => "Delivery",
            b"exploitation" => "Exploitation",
            b"installation" => "Installation",
            b"command-and-control" | b"c2" => "C2",
            b"actions-on-objectives" => "Actions",
            _ => continue,
        };
        if !out.contains(&graph) {
            out.push(graph);
        }
    }
    out
}

/// The IANA protocol number of a protocol name (or of a number already), for `networkProtocol`.
fn protocol_number(name: &str) -> Option<u8> {
    match name.trim().to_ascii_lowercase().as_str() {
        "tcp" => Some(6),
        "udp" => Some(17),
        "icmp" => Some(1),
        digits if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => digits.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{self, Config};
    use crate::ids::Uuid;
    use crate::model::{KillChainPhase, Observable, Scoring};

    #[test]
    fn utf16_lengths_are_encode_utf16s() {
        for text in ["", "a", "é", "€", "𝄞", "a€𝄞é\u{10ffff}\u{7f}\u{80}\u{7ff}\u{800}\u{ffff}\u{10000}"] {
            assert_eq!(utf16_len(text), text.encode_utf16().count(), "{text:?}");
        }
    }

    fn destination(graph: &str) -> Config {
        let text = format!(
            r#"{{"destinations": [{{"name": "g", "type": "graph", "tenant": "contoso.onmicrosoft.com",
                "client_id": "11111111-2222-3333-4444-555555555555", "credential": {{"secret": "S"}},
                "graph": {graph}}}]}}"#
        );
        config::parse(&text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn upsert(tlp: Option<Tlp>) -> Decision {
        Decision {
            verdict: Verdict::Upsert,
            reason: None,
            message: None,
            expires: Some(Timestamp::parse("2025-07-01T00:00:00Z").unwrap()),
            action: Some(IndicatorAction::GraphBlock),
            generate_alert: false,
            severity: Some(Severity::Graph(4)),
            tlp,
        }
    }

    fn item(observable: Observable) -> Indicator<'static> {
        let mut item = Indicator::new(Format::Stix, "objects[0]".to_owned());
        item.source.id = Some(Cow::Borrowed("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"));
        item.observable = Some(observable);
        item
    }

    fn json(item: &Indicator<'_>, decision: &Decision, graph: &str) -> serde_json::Value {
        let cfg = destination(graph);
        serde_json::to_value(map(item, decision, &cfg.destinations[0]).unwrap()).unwrap()
    }

    #[test]
    fn minimal_ipv4_for_sentinel() {
        let it = item(Observable::new(ObservableType::Ipv4, "198.51.100.7"));
        let v = json(&it, &upsert(Some(Tlp::Green)), "{}");
        let id = external_id(&it);
        assert_eq!(
            v,
            serde_json::json!({
                "action": "block",
                "targetProduct": "Azure Sentinel",
                "threatType": "WatchList",
                "tlpLevel": "green",
                "passiveOnly": false,
                "description": "stix indicator indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                "expirationDateTime": "2025-07-01T00:00:00.000Z",
                "severity": 4,
                "externalId": id,
                "networkIPv4": "198.51.100.7",
            })
        );
    }

    #[test]
    fn defender_atp_uses_destination_fields_and_refuses_what_it_cannot_take() {
        let mut ip = item(Observable::new(ObservableType::Ipv4, "198.51.100.7"));
        if let Some(o) = ip.observable.as_mut() {
            o.port = Some(443);
            o.protocol = Some("udp".to_owned());
        }
        let atp = r#"{"target_product": "Microsoft Defender ATP"}"#;
        let v = json(&ip, &upsert(None), atp);
        assert_eq!(v["networkDestinationIPv4"], "198.51.100.7");
        assert_eq!(v["networkDestinationPort"], 443);
        assert_eq!(v["networkProtocol"], 17);
        assert_eq!(v["targetProduct"], "Microsoft Defender ATP");
        assert_eq!(v["tlpLevel"], "unknown");
        assert!(v.get("networkIPv4").is_none() && v.get("networkPort").is_none());
        let v6 = json(&item(Observable::new(ObservableType::Ipv6, "2001:db8::1")), &upsert(None), atp);
        assert_eq!(v6["networkDestinationIPv6"], "2001:db8::1");

        let cfg = destination(atp);
        for kind in [ObservableType::Cidr, ObservableType::Email, ObservableType::EmailSubject] {
            let it = item(Observable::new(kind, "x"));
            let err = map(&it, &upsert(None), &cfg.destinations[0]).unwrap_err();
            assert!(err.contains("Microsoft Defender ATP"), "{err}");
        }
    }

    #[test]
    fn sentinel_observables() {
        for (kind, value, key) in [
            (ObservableType::Ipv6, "2001:db8::1", "networkIPv6"),
            (ObservableType::Cidr, "198.51.100.0/24", "networkCidrBlock"),
            (ObservableType::Domain, "evil.example", "domainName"),
            (ObservableType::Url, "https://evil.example/x", "url"),
            (ObservableType::Email, "a@evil.example", "emailSenderAddress"),
            (ObservableType::EmailSubject, "Invoice", "emailSubject"),
        ] {
            let v = json(&item(Observable::new(kind, value)), &upsert(None), "{}");
            assert_eq!(v[key], value, "{kind}");
        }
        let md5 =
            item(Observable::hashed(ObservableType::File, HashAlgorithm::Md5, "912ec803b2ce49e4a541068d495ab570"));
        let v = json(&md5, &upsert(None), "{}");
        assert_eq!(
            (v["fileHashType"].as_str(), v["fileHashValue"].as_str()),
            (Some("md5"), Some("912ec803b2ce49e4a541068d495ab570"))
        );
    }

    #[test]
    fn refusals_are_sentences() {
        let cfg = destination("{}");
        let d = &cfg.destinations[0];
        let sha512 = item(Observable::hashed(ObservableType::File, HashAlgorithm::Sha512, "ab"));
        assert_eq!(
            map(&sha512, &upsert(None), d).unwrap_err(),
            "Graph takes only MD5, SHA-1 and SHA-256 file hashes, not SHA-512"
        );
        for kind in [ObservableType::Asn, ObservableType::RegistryKey, ObservableType::Certificate] {
            assert!(map(&item(Observable::new(kind, "1")), &upsert(None), d).unwrap_err().starts_with("Graph"));
        }
        let ip = item(Observable::new(ObservableType::Ipv4, "198.51.100.7"));
        let mut removal = upsert(None);
        removal.verdict = Verdict::Remove;
        assert!(map(&ip, &removal, d).unwrap_err().contains("deleteTiIndicatorsByExternalId"));
        let mut defender_action = upsert(None);
        defender_action.action = Some(IndicatorAction::Block);
        assert!(map(&ip, &defender_action, d).unwrap_err().contains("not a Graph action"));
        let mut compound = ip.clone();
        compound.observable = None;
        assert!(map(&compound, &upsert(None), d).is_err());
    }

    #[test]
    fn tlp_levels_and_passive_only() {
        let ip = item(Observable::new(ObservableType::Ipv4, "198.51.100.7"));
        for (tlp, level, passive) in [
            (None, "unknown", false),
            (Some(Tlp::Clear), "white", false),
            (Some(Tlp::Green), "green", false),
            (Some(Tlp::Amber), "amber", false),
            (Some(Tlp::AmberStrict), "red", true),
            (Some(Tlp::Red), "red", true),
        ] {
            let v = json(&ip, &upsert(tlp), "{}");
            assert_eq!((v["tlpLevel"].as_str(), v["passiveOnly"].as_bool()), (Some(level), Some(passive)), "{tlp:?}");
        }
        let v = json(&ip, &upsert(Some(Tlp::Green)), r#"{"passive_only": true}"#);
        assert_eq!(v["passiveOnly"], serde_json::Value::Bool(true));
    }

    #[test]
    fn threat_type_is_the_first_matching_label() {
        let mut it = item(Observable::new(ObservableType::Domain, "evil.example"));
        it.labels = vec![Cow::Borrowed("apt28"), Cow::Borrowed("phishing"), Cow::Borrowed("c2")];
        let v = json(&it, &upsert(None), "{}");
        assert_eq!(v["threatType"], "Phishing");
        assert_eq!(v["tags"], serde_json::json!(["apt28", "phishing", "c2"]));
        it.labels = vec![Cow::Borrowed("ddos"), Cow::Borrowed("Malware")];
        assert_eq!(json(&it, &upsert(None), "{}")["threatType"], "DDoS");
    }

    #[test]
    fn scoring_fields() {
        let mut it = item(Observable::new(ObservableType::Domain, "evil.example"));
        it.scoring.score = Some(80);
        let v = json(&it, &upsert(None), "{}");
        assert_eq!((v["confidence"].as_u64(), v["severity"].as_u64()), (Some(80), Some(4)));
        it.scoring.confidence = Some(30);
        it.scoring.threat_rating = Some(2.6);
        it.scoring.false_positives = Some(2);
        let v = json(&it, &upsert(None), "{}");
        assert_eq!((v["confidence"].as_u64(), v["severity"].as_u64()), (Some(30), Some(3)));
        assert_eq!(v["knownFalsePositives"], "2");
        it.scoring = Scoring::default();
        it.scoring.false_positives = Some(0);
        let mut no_severity = upsert(None);
        no_severity.severity = None;
        let v = json(&it, &no_severity, "{}");
        assert!(v.get("confidence").is_none() && v.get("severity").is_none() && v.get("knownFalsePositives").is_none());
    }

    #[test]
    fn kill_chain_and_last_reported() {
        let mut it = item(Observable::new(ObservableType::Domain, "evil.example"));
        let phase = |chain: &'static str, name: &'static str| KillChainPhase {
            kill_chain_name: Cow::Borrowed(chain),
            phase_name: Cow::Borrowed(name),
        };
        it.kill_chain_phases = vec![
            phase("lockheed-martin-cyber-kill-chain", "delivery"),
            phase("mitre-attack", "initial-access"),
            phase("lockheed-martin-cyber-kill-chain", "command-and-control"),
            phase("x", "C2"),
            phase("lockheed-martin-cyber-kill-chain", "Actions on Objectives"),
            phase("lockheed-martin-cyber-kill-chain", "installation"),
        ];
        it.lifecycle.modified = Some(Timestamp::parse("2025-05-02T00:00:00Z").unwrap());
        let v = json(&it, &upsert(None), "{}");
        assert_eq!(v["killChain"], serde_json::json!(["Delivery", "C2", "Actions", "Installation"]));
        assert_eq!(v["lastReportedDateTime"], "2025-05-02T00:00:00.000Z");
        it.lifecycle.last_seen = Some(Timestamp::parse("2025-05-20T00:00:00Z").unwrap());
        assert_eq!(json(&it, &upsert(None), "{}")["lastReportedDateTime"], "2025-05-20T00:00:00.000Z");
    }

    #[test]
    fn protocols() {
        assert_eq!(protocol_number("TCP"), Some(6));
        assert_eq!(protocol_number("udp"), Some(17));
        assert_eq!(protocol_number("icmp"), Some(1));
        assert_eq!(protocol_number("47"), Some(47));
        assert_eq!(protocol_number("https"), None);
        assert_eq!(protocol_number("300"), None);
    }

    #[test]
    fn threatconnect_description_and_xid() {
        let mut it = item(Observable::new(ObservableType::Ipv4, "123.45.67.89"));
        it.format = Format::Threatconnect;
        it.description = Some(Cow::Borrowed("ignored for ThreatConnect"));
        it.source = crate::model::Source {
            id: Some(Cow::Borrowed("12345")),
            type_name: Some(Cow::Borrowed("Address")),
            owner: Some(Cow::Borrowed("ACME")),
            owner_id: Some(Cow::Borrowed("3507838")),
            external_id: Some(Cow::Borrowed("tc-xid-1")),
            ..Default::default()
        };
        let v = json(&it, &upsert(None), "{}");
        assert_eq!(v["description"], "ThreatConnect Address | Owner: ACME | Id: 3507838");
        assert_eq!(v["externalId"], "tc-xid-1");
        it.source.external_id = None;
        it.source.owner_id = None;
        let v = json(&it, &upsert(None), "{}");
        assert_eq!(v["description"], "ThreatConnect Address | Owner: ACME");
        let id = v["externalId"].as_str().unwrap();
        assert_eq!(id, Uuid::v5(Uuid::TI_RELAY, b"threatconnect|12345|ipv4||123.45.67.89").to_string());
    }

    #[test]
    fn external_id_is_deterministic_and_distinguishes_observables() {
        let a = item(Observable::hashed(ObservableType::File, HashAlgorithm::Md5, "912ec803b2ce49e4a541068d495ab570"));
        let b = item(Observable::hashed(
            ObservableType::File,
            HashAlgorithm::Sha1,
            "3da541559918a808c2402bba5012f6c60b27661c",
        ));
        assert_eq!(external_id(&a), external_id(&a.clone()));
        assert_ne!(external_id(&a), external_id(&b));
        assert_eq!(
            external_id(&a),
            Uuid::v5(
                Uuid::TI_RELAY,
                b"stix|indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f|file|md5|912ec803b2ce49e4a541068d495ab570"
            )
            .to_string()
        );
        // An OpenCTI internal id is not a ThreatConnect xid.
        let mut c = a.clone();
        c.source.external_id = Some(Cow::Borrowed("opencti-internal"));
        assert_eq!(external_id(&c), external_id(&a));
    }

    #[test]
    fn description_truncation_counts_utf16_units() {
        let short = "a".repeat(100);
        assert_eq!(truncate_description(Cow::Borrowed(&short)), short);
        let long = "a".repeat(101);
        let cut = truncate_description(Cow::Borrowed(&long));
        assert_eq!(cut.encode_utf16().count(), 100);
        assert!(cut.ends_with('…'));
        // 50 emoji = 100 code units: fits exactly.
        let emoji = "😀".repeat(50);
        assert_eq!(truncate_description(Cow::Borrowed(&emoji)), emoji);
        // 51 emoji: 49 fit beside the ellipsis (98 + 1), no surrogate split.
        let more = "😀".repeat(51);
        let cut = truncate_description(Cow::Borrowed(&more));
        assert_eq!(cut, format!("{}…", "😀".repeat(49)));
        // An odd start: "a" + emoji, the emoji that would straddle the limit is dropped whole.
        let odd = format!("a{}", "😀".repeat(60));
        let cut = truncate_description(Cow::Borrowed(&odd));
        assert_eq!(cut, format!("a{}…", "😀".repeat(49)));
        assert_eq!(cut.encode_utf16().count(), 100);
        // A dangling joiner is dropped.
        let zwj = format!("{}👩\u{200d}💻", "a".repeat(96));
        let cut = truncate_description(Cow::Borrowed(&zwj));
        assert_eq!(cut, format!("{}👩…", "a".repeat(96)));
    }

    proptest::proptest! {
        /// The ASCII shortcut and the byte count cut where counting characters cuts.
        #[test]
        fn truncation_cuts_where_counting_characters_does(text in "[a é€😀\u{200d}]{90,130}") {
            let want = if text.encode_utf16().count() <= DESCRIPTION_MAX {
                text.clone()
            } else {
                let mut used = 0;
                let mut end = 0;
                for (at, c) in text.char_indices() {
                    used += c.len_utf16();
                    if used > DESCRIPTION_MAX - 1 {
                        break;
                    }
                    end = at + c.len_utf8();
                }
                let head = text[..end].trim_end_matches(|c: char| c.is_whitespace() || matches!(c, '\u{200d}' | '\u{fe0e}' | '\u{fe0f}'));
                format!("{head}…")
            };
            proptest::prop_assert_eq!(truncate_description(Cow::Borrowed(&text)), want);
        }
    }

    #[test]
    fn delete_bodies() {
        assert_eq!(delete_by_external_id_body(&["a", "b\"c"]), r#"{"value":["a","b\"c"]}"#);
        let ids: Vec<String> = (0..250).map(|i| format!("id-{i}")).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let one: serde_json::Value = serde_json::from_str(&delete_by_external_id_body(&refs)).unwrap();
        assert_eq!(one["value"].as_array().unwrap().len(), MAX_BATCH);
        let bodies = delete_by_external_id_bodies(&refs);
        assert_eq!(bodies.len(), 3);
        assert!(delete_by_external_id_bodies(&[]).is_empty());
    }
}
