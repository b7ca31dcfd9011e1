//! Checks request bodies against the documented constraints of the Microsoft APIs the relay calls:
//! Sentinel's STIX objects upload and its legacy upload-indicators API, the Defender for Endpoint
//! indicators API, and the Graph `tiIndicator` API (beta).
//!
//! Written from `reference/microsoft-apis.md` §1–§3 (plus the STIX 2.1 rules the Sentinel docs defer
//! to, and the stored `batch-delete-ti-indicators.md` for the one key the reference does not give),
//! never from the planner: it is the oracle that the planner's property tests run every request
//! body through. Each validator returns every violation it finds, an empty list meaning valid.
//! Malformed JSON is a violation at `$`; no input makes a validator panic.
//!
//! Include it from an integration test with `#[path = "support/msapi.rs"] mod msapi;`.

// Each test crate that includes this file uses only some of the validators; the rest would be dead
// code there.
#![allow(dead_code)]

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde_json::{Map, Value};
use ti_relay::pattern::{self, SpecVersion};

/// One broken constraint: where (`stixobjects[3].valid_until`; `$` for the whole body) and what.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Violation {
    /// The JSON path of the offending value: `stixobjects[3].valid_until`, `Indicators[0].action`, `$`.
    pub(crate) path: String,
    /// What is wrong, lowercase, with the offending input in backticks.
    pub(crate) message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// The two endpoint generations of Sentinel's legacy upload-indicators API (api-version 2022-07-01).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LegacyGeneration {
    /// `…/{workspaceId}/threatintelligence:upload-indicators`: array key `value`.
    V1,
    /// `…/workspaces/{workspaceId}/threatintelligenceindicators:upload`: array key `indicators`.
    V2,
}

// ---------------------------------------------------------------------------------------------
// Sentinel (microsoft-apis.md §1.2, §1.3)
// ---------------------------------------------------------------------------------------------

/// The object types the STIX objects upload documents (§1.2).
const STIX_TYPES: &[&str] = &["indicator", "attack-pattern", "threat-actor", "identity", "relationship"];

/// Objects (or indicators) per Sentinel upload request, both APIs (§1.5).
const SENTINEL_MAX: usize = 100;

/// Checks the body of `POST …/threat-intelligence-stix-objects:upload?api-version=2024-02-01-preview`.
pub(crate) fn sentinel_stix_upload(body: &str) -> Vec<Violation> {
    sentinel_body(body, "stixobjects", None, StixApi::Objects)
}

/// Checks the body of the legacy upload-indicators API (`value` for V1, `indicators` for V2).
pub(crate) fn sentinel_legacy_upload(body: &str, generation: LegacyGeneration) -> Vec<Violation> {
    match generation {
        LegacyGeneration::V1 => sentinel_body(body, "value", Some("indicators"), StixApi::Legacy),
        LegacyGeneration::V2 => sentinel_body(body, "indicators", Some("value"), StixApi::Legacy),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StixApi {
    /// The STIX objects upload: the five documented types.
    Objects,
    /// The legacy upload-indicators API: indicators only.
    Legacy,
}

fn sentinel_body(body: &str, array_key: &str, other_generation_key: Option<&str>, api: StixApi) -> Vec<Violation> {
    let mut r = Report::default();
    let Some(value) = r.parse(body) else { return r.0 };
    let Some(root) = r.object(&value, "") else { return r.0 };
    for key in root.keys() {
        if key == "sourcesystem" || key == array_key {
            continue;
        }
        let path = key_path("", key);
        if let Some(expected) = ["sourcesystem", array_key].into_iter().find(|k| k.eq_ignore_ascii_case(key)) {
            r.push(
                &path,
                format!("expected `{expected}`: send property names in lowercase, as the documented examples do"),
            );
        } else if other_generation_key == Some(key.as_str()) {
            r.push(&path, format!("wrong array key for this endpoint generation: expected `{array_key}`"));
        } else {
            r.push(&path, format!("unknown top-level property: expected only `sourcesystem` and `{array_key}`"));
        }
    }
    if let Some((v, path)) = r.required(root, "", "sourcesystem")
        && let Some(name) = r.non_empty(v, &path)
        && name.trim().eq_ignore_ascii_case("Microsoft Sentinel")
    {
        r.push(&path, format!("expected your own source name, found the reserved {}", quote(name)));
    }
    if let Some(items) = r.batch(root, "", array_key, SENTINEL_MAX, "object") {
        for (i, item) in items.iter().enumerate() {
            stix_object(&mut r, item, &index_path(array_key, i), api);
        }
    }
    r.0
}

fn stix_object(r: &mut Report, v: &Value, path: &str, api: StixApi) {
    let Some(obj) = r.object(v, path) else { return };
    let ty = r.required(obj, path, "type").and_then(|(v, p)| r.non_empty(v, &p).map(|t| (t, p)));
    let mut specific = true;
    if let Some((t, p)) = &ty {
        if api == StixApi::Legacy && *t != "indicator" {
            r.push(p, format!("expected `indicator` (the legacy API uploads only indicators), found {}", quote(t)));
            specific = false;
        } else if !STIX_TYPES.contains(t) {
            r.push(p, format!("expected a supported type ({}), found {}", list(STIX_TYPES), quote(t)));
        }
    }
    let ty = ty.map(|(t, _)| t);
    if let Some((v, p)) = r.required(obj, path, "id") {
        r.stix_id(v, &p, ty.map_or(Prefix::Any, Prefix::OfType));
    }
    if let Some((v, p)) = optional(obj, path, "spec_version") {
        r.one_of(v, &p, &["2.0", "2.1"]);
    }
    let created = r.required(obj, path, "created").and_then(|(v, p)| r.timestamp(v, &p));
    let modified = r.required(obj, path, "modified").and_then(|(v, p)| r.timestamp(v, &p).map(|t| (t, p)));
    if let (Some(created), Some((modified, p))) = (created, modified)
        && modified < created
    {
        r.push(&p, "must not be earlier than `created`");
    }
    stix_common(r, obj, path);
    if !specific {
        return;
    }
    match ty {
        Some("indicator") => stix_indicator(r, obj, path),
        Some("relationship") => {
            if let Some((v, p)) = r.required(obj, path, "relationship_type") {
                r.non_empty(v, &p);
            }
            for key in ["source_ref", "target_ref"] {
                if let Some((v, p)) = r.required(obj, path, key) {
                    r.stix_id(v, &p, Prefix::Any);
                }
            }
        }
        // STIX 2.1 requires `name` on these three.
        Some("attack-pattern" | "threat-actor" | "identity") => {
            if let Some((v, p)) = r.required(obj, path, "name") {
                r.non_empty(v, &p);
            }
        }
        _ => {}
    }
}

/// The optional common properties of §1.2 (every object type).
fn stix_common(r: &mut Report, obj: &Map<String, Value>, path: &str) {
    if let Some((v, p)) = optional(obj, path, "created_by_ref") {
        r.stix_id(v, &p, Prefix::Fixed("identity"));
    }
    if let Some((v, p)) = optional(obj, path, "revoked") {
        r.boolean(v, &p);
    }
    if let Some((v, p)) = optional(obj, path, "labels") {
        r.stix_strings(v, &p);
    }
    if let Some((v, p)) = optional(obj, path, "confidence") {
        r.integer(v, &p, 0, 100);
    }
    if let Some((v, p)) = optional(obj, path, "lang") {
        r.non_empty(v, &p);
    }
    if let Some((v, p)) = optional(obj, path, "object_marking_refs")
        && let Some(items) = r.stix_list(v, &p)
    {
        for (i, item) in items.iter().enumerate() {
            r.stix_id(item, &index_path(&p, i), Prefix::Fixed("marking-definition"));
        }
    }
    if let Some((v, p)) = optional(obj, path, "external_references")
        && let Some(items) = r.stix_list(v, &p)
    {
        for (i, item) in items.iter().enumerate() {
            external_reference(r, item, &index_path(&p, i));
        }
    }
    if let Some((v, p)) = optional(obj, path, "granular_markings")
        && let Some(items) = r.stix_list(v, &p)
    {
        for (i, item) in items.iter().enumerate() {
            granular_marking(r, item, &index_path(&p, i));
        }
    }
}

fn external_reference(r: &mut Report, v: &Value, path: &str) {
    let Some(obj) = r.object(v, path) else { return };
    if let Some((v, p)) = r.required(obj, path, "source_name") {
        r.non_empty(v, &p);
    }
    for key in ["description", "external_id", "url"] {
        if let Some((v, p)) = optional(obj, path, key) {
            r.string(v, &p);
        }
    }
    if let Some((v, p)) = optional(obj, path, "hashes")
        && let Some(hashes) = r.object(v, &p)
    {
        for (algorithm, value) in hashes {
            r.non_empty(value, &key_path(&p, algorithm));
        }
    }
}

fn granular_marking(r: &mut Report, v: &Value, path: &str) {
    let Some(obj) = r.object(v, path) else { return };
    if let Some((v, p)) = r.required(obj, path, "selectors") {
        r.stix_strings(v, &p);
    }
    let marking_ref = optional(obj, path, "marking_ref");
    if let Some((v, p)) = &marking_ref {
        r.stix_id(v, p, Prefix::Fixed("marking-definition"));
    }
    let lang = optional(obj, path, "lang");
    if let Some((v, p)) = &lang {
        r.non_empty(v, p);
    }
    match (marking_ref, lang) {
        (None, None) => r.push(here(path), "expected `marking_ref` or `lang`, found neither"),
        (Some(_), Some(_)) => r.push(here(path), "expected only one of `marking_ref` and `lang`, found both"),
        _ => {}
    }
}

/// The indicator properties of §1.2.
fn stix_indicator(r: &mut Report, obj: &Map<String, Value>, path: &str) {
    let text = r.required(obj, path, "pattern").and_then(|(v, p)| r.non_empty(v, &p).map(|s| (s, p)));
    let kind = r.required(obj, path, "pattern_type").and_then(|(v, p)| r.non_empty(v, &p).map(|s| (s, p)));
    let version = optional(obj, path, "pattern_version").and_then(|(v, p)| r.string(v, &p));
    if let Some((kind, p)) = &kind
        && *kind != "stix"
        && kind.eq_ignore_ascii_case("stix")
    {
        r.push(p, format!("expected `stix` (pattern-type vocabulary values are lowercase), found {}", quote(kind)));
    }
    if let (Some(("stix", _)), Some((text, p))) = (&kind, &text) {
        // The patterning rules follow `pattern_version`, else the object's `spec_version`, else 2.1
        // (for 2.1 this is exactly `ti_relay::pattern::parse`).
        let spec = obj.get("spec_version").and_then(Value::as_str).and_then(SpecVersion::from_name);
        let version = version.and_then(SpecVersion::from_name).or(spec).unwrap_or_default();
        if let Err(e) = pattern::parse_version(text, version) {
            r.push(p, format!("`pattern_type` is `stix` but the pattern does not parse: {e}"));
        }
    }
    let from = r.required(obj, path, "valid_from").and_then(|(v, p)| r.timestamp(v, &p));
    let until = optional(obj, path, "valid_until").and_then(|(v, p)| r.timestamp(v, &p).map(|t| (t, p)));
    if let (Some(from), Some((until, p))) = (from, until)
        && until <= from
    {
        r.push(&p, "must be later than `valid_from`");
    }
    for key in ["name", "description"] {
        if let Some((v, p)) = optional(obj, path, key) {
            r.string(v, &p);
        }
    }
    if let Some((v, p)) = optional(obj, path, "indicator_types") {
        r.stix_strings(v, &p);
    }
    // The doc's table says "list of string"; its examples and STIX use objects.
    if let Some((v, p)) = optional(obj, path, "kill_chain_phases")
        && let Some(items) = r.stix_list(v, &p)
    {
        for (i, item) in items.iter().enumerate() {
            let ip = index_path(&p, i);
            if let Some(phase) = r.object(item, &ip) {
                for key in ["kill_chain_name", "phase_name"] {
                    if let Some((v, p)) = r.required(phase, &ip, key) {
                        r.non_empty(v, &p);
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Defender for Endpoint (microsoft-apis.md §2)
// ---------------------------------------------------------------------------------------------

const MDE_TYPES: &[&str] =
    &["FileSha1", "FileMd5", "FileSha256", "CertificateThumbprint", "IpAddress", "DomainName", "Url"];

/// The supported actions; `Alert` and `AlertAndBlock` are deprecated and reported separately.
const MDE_ACTIONS: &[&str] = &["Allowed", "Audit", "Warn", "Block", "BlockAndRemediate"];

const MDE_SEVERITIES: &[&str] = &["Informational", "Low", "Medium", "High"];

/// Every body field we know, for the case-sensitivity rule. `externalId` is the spelling the addendum
/// settles on (`externalID` is the resource doc's); `lastUpdateTime` and `id` are resource properties.
const MDE_FIELDS: &[&str] = &[
    "indicatorValue",
    "indicatorType",
    "action",
    "title",
    "description",
    "application",
    "expirationTime",
    "severity",
    "recommendedActions",
    "rbacGroupNames",
    "rbacGroupIds",
    "educateUrl",
    "generateAlert",
    "externalId",
    "lastUpdateTime",
    "id",
];

/// Indicators per `/api/indicators/import` call, and ids per `BatchDelete` call.
const MDE_BATCH_MAX: usize = 500;

/// Checks the body of `POST /api/indicators` (one indicator).
pub(crate) fn defender_indicator(body: &str) -> Vec<Violation> {
    let mut r = Report::default();
    if let Some(value) = r.parse(body) {
        mde_indicator(&mut r, &value, "");
    }
    r.0
}

/// Checks the body of `POST /api/indicators/import`: `{"Indicators":[…]}`, 1–500 indicators.
pub(crate) fn defender_import(body: &str) -> Vec<Violation> {
    let mut r = Report::default();
    let Some(value) = r.parse(body) else { return r.0 };
    let Some(root) = r.object(&value, "") else { return r.0 };
    r.case_variants(root, "", &["Indicators"], "field names are case-sensitive");
    if let Some(items) = r.batch(root, "", "Indicators", MDE_BATCH_MAX, "indicator") {
        for (i, item) in items.iter().enumerate() {
            mde_indicator(&mut r, item, &index_path("Indicators", i));
        }
    }
    r.0
}

/// Checks the body of `POST /api/indicators/BatchDelete`: `{"IndicatorIds":["1","2"]}`, 1–500 ids.
///
/// `microsoft-apis.md` does not give the key; `IndicatorIds` (a list of strings) is from the stored
/// `MicrosoftDocs/defender-docs: defender-endpoint/api/batch-delete-ti-indicators.md` (07/31/2023).
/// That the ids are numeric strings is inferred from every documented id (`"995"`, `"2841"`).
pub(crate) fn defender_batch_delete(body: &str) -> Vec<Violation> {
    let mut r = Report::default();
    let Some(value) = r.parse(body) else { return r.0 };
    let Some(root) = r.object(&value, "") else { return r.0 };
    r.case_variants(root, "", &["IndicatorIds"], "field names are case-sensitive");
    if let Some(items) = r.batch(root, "", "IndicatorIds", MDE_BATCH_MAX, "id") {
        for (i, item) in items.iter().enumerate() {
            let p = index_path("IndicatorIds", i);
            if let Some(id) = r.string(item, &p)
                && (id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()))
            {
                r.push(&p, format!("expected a numeric indicator id like `995`, found {}", quote(id)));
            }
        }
    }
    r.0
}

fn mde_indicator(r: &mut Report, v: &Value, base: &str) {
    let Some(obj) = r.object(v, base) else { return };
    r.case_variants(obj, base, MDE_FIELDS, "field names are case-sensitive");
    let value = r.required(obj, base, "indicatorValue").and_then(|(v, p)| r.non_empty(v, &p).map(|s| (s, p)));
    let ty = r.required(obj, base, "indicatorType").and_then(|(v, p)| r.one_of(v, &p, MDE_TYPES));
    let action = r.required(obj, base, "action").and_then(|(v, p)| mde_action(r, v, &p).map(|a| (a, p)));
    for key in ["title", "description"] {
        if let Some((v, p)) = r.required(obj, base, key) {
            r.non_empty(v, &p);
        }
    }
    for key in ["application", "recommendedActions", "externalId", "id"] {
        if let Some((v, p)) = optional(obj, base, key) {
            r.string(v, &p);
        }
    }
    if let Some((v, p)) = optional(obj, base, "educateUrl")
        && let Some(url) = r.non_empty(v, &p)
    {
        r.url(url, &p);
    }
    for key in ["expirationTime", "lastUpdateTime"] {
        if let Some((v, p)) = optional(obj, base, key) {
            r.timestamp(v, &p);
        }
    }
    if let Some((v, p)) = optional(obj, base, "severity") {
        r.one_of(v, &p, MDE_SEVERITIES);
    }
    // The POST table says "comma-separated string"; the examples and the resource use an array.
    for key in ["rbacGroupNames", "rbacGroupIds"] {
        if let Some((v, p)) = optional(obj, base, key) {
            r.strings(v, &p);
        }
    }
    if let Some((v, p)) = optional(obj, base, "generateAlert") {
        r.boolean(v, &p);
    }
    if let Some((action, p)) = &action {
        if *action == "Audit" {
            r.requires_true(obj, base, "generateAlert", "`action` `Audit`");
        }
        if let Some(ty) = ty {
            let allowed = mde_actions_for(ty);
            if !allowed.contains(action) {
                let message =
                    format!("expected one of {} for `{ty}` indicators, found {}", list(allowed), quote(action));
                r.push(p, message);
            }
        }
    }
    if let (Some(ty), Some((value, p))) = (ty, &value)
        && let Some(message) = mde_value_error(ty, value)
    {
        r.push(p, message);
    }
}

fn mde_action<'a>(r: &mut Report, v: &'a Value, path: &str) -> Option<&'a str> {
    let action = r.string(v, path)?;
    let replacement = match action {
        "Alert" => "Audit",
        "AlertAndBlock" => "BlockAndRemediate",
        _ => return r.one_of(v, path, MDE_ACTIONS),
    };
    r.push(
        path,
        format!(
            "`{action}` is deprecated (supported until January 2022): expected `{replacement}` with `generateAlert: true`"
        ),
    );
    None
}

/// The actions each indicator type takes (`indicators-overview.md`).
fn mde_actions_for(ty: &str) -> &'static [&'static str] {
    match ty {
        "FileSha1" | "FileMd5" | "FileSha256" => &["Allowed", "Audit", "Warn", "Block", "BlockAndRemediate"],
        "CertificateThumbprint" => &["Allowed", "BlockAndRemediate"],
        _ => &["Allowed", "Audit", "Warn", "Block"],
    }
}

/// What is wrong with an `indicatorValue` of a given `indicatorType`, if anything.
fn mde_value_error(ty: &str, value: &str) -> Option<String> {
    match ty {
        "FileSha1" => hex_error(value, 40, "SHA-1"),
        "FileMd5" => hex_error(value, 32, "MD5"),
        "FileSha256" => hex_error(value, 64, "SHA-256"),
        "CertificateThumbprint" => hex_error(value, 40, "a SHA-1 thumbprint"),
        "IpAddress" => mde_ip_error(value),
        "DomainName" => host_error(value),
        "Url" => url_error(value),
        _ => None,
    }
}

fn hex_error(value: &str, digits: usize, what: &str) -> Option<String> {
    (value.len() != digits || !value.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("expected {digits} hexadecimal digits ({what}), found {}", quote(value)))
}

/// IPv4 as a dotted quad, IPv6 with all 8 segments spelled out, never a range.
fn mde_ip_error(value: &str) -> Option<String> {
    if value.contains('/') {
        return Some(format!("CIDR ranges are not supported: expected a single address, found {}", quote(value)));
    }
    if value.parse::<Ipv4Addr>().is_ok() {
        return None;
    }
    if value.contains("::") {
        return Some(format!(
            "expected an IPv6 address with all 8 segments spelled out (no `::`), found {}",
            quote(value)
        ));
    }
    let groups: Vec<&str> = value.split(':').collect();
    let full_ipv6 = groups.len() == 8
        && groups.iter().all(|g| (1..=4).contains(&g.len()) && g.bytes().all(|b| b.is_ascii_hexdigit()));
    (!full_ipv6)
        .then(|| format!("expected an IPv4 dotted quad or an IPv6 address with all 8 segments, found {}", quote(value)))
}

/// A host name: no scheme, path, port or wildcard; LDH labels (plus `_`, which DNS allows).
fn host_error(value: &str) -> Option<String> {
    let reason = if value.contains("://") {
        "no scheme"
    } else if value.contains(['/', '?', '#']) {
        "no path"
    } else if value.contains(':') {
        "no port"
    } else if value.contains('*') {
        "no wildcard"
    } else if value.parse::<Ipv4Addr>().is_ok() {
        "not an IP address"
    } else if !value.is_ascii() {
        "internationalised names in punycode (`xn--…`)"
    } else if value.len() > 253 {
        "at most 253 characters"
    } else if !value.split('.').all(|label| {
        (1..=63).contains(&label.len())
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }) {
        "dot-separated labels of 1 to 63 letters, digits, `-` or `_`"
    } else {
        return None;
    };
    Some(format!("expected a host name ({reason}), found {}", quote(value)))
}

fn url_error(value: &str) -> Option<String> {
    value
        .contains(|c: char| c.is_whitespace() || c.is_control())
        .then(|| format!("expected a URL without whitespace, found {}", quote(value)))
}

// ---------------------------------------------------------------------------------------------
// Graph tiIndicator (microsoft-apis.md §3)
// ---------------------------------------------------------------------------------------------

const GRAPH_ACTIONS: &[&str] = &["unknown", "allow", "block", "alert"];
const GRAPH_TARGETS: &[&str] = &["Azure Sentinel", "Microsoft Defender ATP"];
const GRAPH_THREAT_TYPES: &[&str] = &[
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
const GRAPH_TLP: &[&str] = &["unknown", "white", "green", "amber", "red"];
const GRAPH_DIAMOND: &[&str] =
    &["unknown", "adversary", "capability", "infrastructure", "victim", "unknownFutureValue"];
const GRAPH_KILL_CHAIN: &[&str] =
    &["Actions", "C2", "Delivery", "Exploitation", "Installation", "Reconnaissance", "Weaponization"];
const GRAPH_HASH_TYPES: &[&str] = &["unknown", "sha1", "sha256", "md5", "authenticodeHash256", "lsHash", "ctph"];

/// tiIndicators per `submitTiIndicators` request (stated); assumed for the other bulk methods.
const GRAPH_MAX: usize = 100;

const GRAPH_REQUIRED_ON_CREATE: &[&str] =
    &["action", "description", "expirationDateTime", "targetProduct", "threatType", "tlpLevel"];

const GRAPH_REQUIRED_ON_UPDATE: &[&str] = &["id", "expirationDateTime", "targetProduct"];

/// What `updateTiIndicators` may change (the Sentinel list; MDE does not support the bulk methods),
/// plus the two keys that address the indicator.
const GRAPH_UPDATABLE: &[&str] = &[
    "id",
    "targetProduct",
    "action",
    "activityGroupNames",
    "additionalInformation",
    "confidence",
    "description",
    "diamondModel",
    "expirationDateTime",
    "externalId",
    "isActive",
    "killChain",
    "knownFalsePositives",
    "lastReportedDateTime",
    "malwareFamilyNames",
    "passiveOnly",
    "severity",
    "tags",
    "tlpLevel",
];

/// The email, file and network observables; a tiIndicator needs at least one. `fileHashType` is
/// left out: it qualifies `fileHashValue` and observes nothing alone.
const GRAPH_OBSERVABLES: &[&str] = &[
    "emailEncoding",
    "emailLanguage",
    "emailRecipient",
    "emailSenderAddress",
    "emailSenderName",
    "emailSourceDomain",
    "emailSourceIpAddress",
    "emailSubject",
    "emailXMailer",
    "fileCompileDateTime",
    "fileCreatedDateTime",
    "fileHashValue",
    "fileMutexName",
    "fileName",
    "filePacker",
    "filePath",
    "fileSize",
    "fileType",
    "domainName",
    "url",
    "userAgent",
    "networkCidrBlock",
    "networkDestinationCidrBlock",
    "networkSourceCidrBlock",
    "networkIPv4",
    "networkIPv6",
    "networkDestinationIPv4",
    "networkDestinationIPv6",
    "networkSourceIPv4",
    "networkSourceIPv6",
    "networkPort",
    "networkDestinationPort",
    "networkSourcePort",
    "networkProtocol",
    "networkDestinationAsn",
    "networkSourceAsn",
];

/// The observables Microsoft Defender ATP acts on.
const GRAPH_MDE_OBSERVABLES: &[&str] =
    &["domainName", "url", "networkDestinationIPv4", "networkDestinationIPv6", "fileHashValue"];

/// What a property's value must be.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Text,
    Texts,
    Flag,
    Int(i64, i64),
    Time,
    OneOf(&'static [&'static str]),
    ManyOf(&'static [&'static str]),
    Ipv4,
    Ipv6,
    Cidr,
    Host,
    Url,
    Description,
}

const INT32_MAX: i64 = i32::MAX as i64;

/// Every tiIndicator property (§3) and its kind. Ports and the protocol number are Int32 narrowed to
/// their meaningful ranges; ASNs are Int32, so 4-byte ASNs above 2147483647 cannot be sent.
const GRAPH_PROPERTIES: &[(&str, Kind)] = &[
    ("action", Kind::OneOf(GRAPH_ACTIONS)),
    ("activityGroupNames", Kind::Texts),
    ("additionalInformation", Kind::Text),
    ("azureTenantId", Kind::Text),
    ("confidence", Kind::Int(0, 100)),
    ("description", Kind::Description),
    ("diamondModel", Kind::OneOf(GRAPH_DIAMOND)),
    ("emailEncoding", Kind::Text),
    ("emailLanguage", Kind::Text),
    ("emailRecipient", Kind::Text),
    ("emailSenderAddress", Kind::Text),
    ("emailSenderName", Kind::Text),
    ("emailSourceDomain", Kind::Text),
    ("emailSourceIpAddress", Kind::Text),
    ("emailSubject", Kind::Text),
    ("emailXMailer", Kind::Text),
    ("expirationDateTime", Kind::Time),
    ("externalId", Kind::Text),
    ("fileCompileDateTime", Kind::Time),
    ("fileCreatedDateTime", Kind::Time),
    ("fileHashType", Kind::OneOf(GRAPH_HASH_TYPES)),
    ("fileHashValue", Kind::Text),
    ("fileMutexName", Kind::Text),
    ("fileName", Kind::Text),
    ("filePacker", Kind::Text),
    ("filePath", Kind::Text),
    ("fileSize", Kind::Int(0, i64::MAX)),
    ("fileType", Kind::Text),
    ("domainName", Kind::Host),
    ("id", Kind::Text),
    ("ingestedDateTime", Kind::Time),
    ("isActive", Kind::Flag),
    ("killChain", Kind::ManyOf(GRAPH_KILL_CHAIN)),
    ("knownFalsePositives", Kind::Text),
    ("lastReportedDateTime", Kind::Time),
    ("malwareFamilyNames", Kind::Texts),
    ("networkCidrBlock", Kind::Cidr),
    ("networkDestinationAsn", Kind::Int(0, INT32_MAX)),
    ("networkDestinationCidrBlock", Kind::Cidr),
    ("networkDestinationIPv4", Kind::Ipv4),
    ("networkDestinationIPv6", Kind::Ipv6),
    ("networkDestinationPort", Kind::Int(0, 65535)),
    ("networkIPv4", Kind::Ipv4),
    ("networkIPv6", Kind::Ipv6),
    ("networkPort", Kind::Int(0, 65535)),
    ("networkProtocol", Kind::Int(0, 255)),
    ("networkSourceAsn", Kind::Int(0, INT32_MAX)),
    ("networkSourceCidrBlock", Kind::Cidr),
    ("networkSourceIPv4", Kind::Ipv4),
    ("networkSourceIPv6", Kind::Ipv6),
    ("networkSourcePort", Kind::Int(0, 65535)),
    ("passiveOnly", Kind::Flag),
    ("severity", Kind::Int(0, 5)),
    ("tags", Kind::Texts),
    ("targetProduct", Kind::OneOf(GRAPH_TARGETS)),
    ("threatType", Kind::OneOf(GRAPH_THREAT_TYPES)),
    ("tlpLevel", Kind::OneOf(GRAPH_TLP)),
    ("url", Kind::Url),
    ("userAgent", Kind::Text),
];

/// `description` is at most 100 characters, counted as .NET counts them (UTF-16 code units).
const GRAPH_DESCRIPTION_MAX: usize = 100;

/// Checks one tiIndicator as created by `POST /security/tiIndicators` (or inside `submitTiIndicators`).
pub(crate) fn graph_ti_indicator(body_object: &Value) -> Vec<Violation> {
    let mut r = Report::default();
    graph_create(&mut r, body_object, "");
    r.0
}

/// Checks the body of `POST /security/tiIndicators/submitTiIndicators`: `{"value":[…]}`, 1–100.
pub(crate) fn graph_submit(body: &str) -> Vec<Violation> {
    graph_body(body, "tiIndicator", graph_create)
}

/// Checks the body of `POST /security/tiIndicators/updateTiIndicators`: `{"value":[{"id":…,…}]}`.
pub(crate) fn graph_update(body: &str) -> Vec<Violation> {
    graph_body(body, "tiIndicator", graph_update_item)
}

/// Checks the body of `POST /security/tiIndicators/deleteTiIndicatorsByExternalId`: `{"value":["…"]}`.
pub(crate) fn graph_delete_by_external_id(body: &str) -> Vec<Violation> {
    graph_body(body, "external id", |r, v, p| {
        r.non_empty(v, p);
    })
}

fn graph_body(body: &str, noun: &str, mut each: impl FnMut(&mut Report, &Value, &str)) -> Vec<Violation> {
    let mut r = Report::default();
    let Some(value) = r.parse(body) else { return r.0 };
    let Some(root) = r.object(&value, "") else { return r.0 };
    // OData annotations (`@odata.context`) are not properties.
    for key in root.keys().filter(|k| *k != "value" && !k.contains('@')) {
        let message = if key.eq_ignore_ascii_case("value") {
            "property names are case-sensitive, expected `value`"
        } else {
            "unknown top-level property: expected only `value`"
        };
        r.push(&key_path("", key), message);
    }
    if let Some(items) = r.batch(root, "", "value", GRAPH_MAX, noun) {
        for (i, item) in items.iter().enumerate() {
            each(&mut r, item, &index_path("value", i));
        }
    }
    r.0
}

fn graph_create(r: &mut Report, v: &Value, base: &str) {
    let Some(obj) = r.object(v, base) else { return };
    graph_properties(r, obj, base);
    for key in GRAPH_REQUIRED_ON_CREATE {
        r.required(obj, base, key);
    }
    let present = |key: &&str| obj.get(*key).is_some_and(|v| !v.is_null());
    if !GRAPH_OBSERVABLES.iter().any(present) {
        r.push(
            here(base),
            "no observable: expected at least one email, file or network property (e.g. `networkIPv4`, `domainName`, `fileHashValue`)",
        );
    }
    if obj.get("targetProduct").and_then(Value::as_str) == Some("Microsoft Defender ATP")
        && !GRAPH_MDE_OBSERVABLES.iter().any(present)
    {
        r.push(here(base), format!("`Microsoft Defender ATP` needs one of {}", list(GRAPH_MDE_OBSERVABLES)));
    }
    if present(&"fileHashValue") && !present(&"fileHashType") {
        r.push(&key_path(base, "fileHashType"), "required with `fileHashValue`");
    }
    if let (Some(ty), Some(value)) =
        (obj.get("fileHashType").and_then(Value::as_str), obj.get("fileHashValue").and_then(Value::as_str))
    {
        let error = match ty {
            "sha1" => hex_error(value, 40, "`sha1`"),
            "md5" => hex_error(value, 32, "`md5`"),
            "sha256" | "authenticodeHash256" => hex_error(value, 64, &format!("`{ty}`")),
            _ => None,
        };
        if let Some(message) = error {
            r.push(&key_path(base, "fileHashValue"), message);
        }
    }
    graph_red_passive(r, obj, base);
}

fn graph_update_item(r: &mut Report, v: &Value, base: &str) {
    let Some(obj) = r.object(v, base) else { return };
    graph_properties(r, obj, base);
    for key in obj.keys() {
        if !GRAPH_UPDATABLE.contains(&key.as_str()) && GRAPH_PROPERTIES.iter().any(|(name, _)| name == key) {
            r.push(&key_path(base, key), "not editable by `updateTiIndicators`");
        }
    }
    for key in GRAPH_REQUIRED_ON_UPDATE {
        r.required(obj, base, key);
    }
    if let Some(id) = obj.get("id").and_then(Value::as_str)
        && id.trim().is_empty()
    {
        r.push(&key_path(base, "id"), "must not be empty");
    }
    if obj.get("targetProduct").and_then(Value::as_str) == Some("Microsoft Defender ATP") {
        r.push(
            &key_path(base, "targetProduct"),
            "`Microsoft Defender ATP` does not support `updateTiIndicators`: update its indicators one at a time",
        );
    }
    graph_red_passive(r, obj, base);
}

/// `tlpLevel` `red` should come with `passiveOnly: true`.
fn graph_red_passive(r: &mut Report, obj: &Map<String, Value>, base: &str) {
    if obj.get("tlpLevel").and_then(Value::as_str) == Some("red") {
        r.requires_true(obj, base, "passiveOnly", "`tlpLevel` `red`");
    }
}

/// The type of every present property; unknown properties (`OData` rejects them) and wrong case.
fn graph_properties(r: &mut Report, obj: &Map<String, Value>, base: &str) {
    for (key, v) in obj {
        let path = key_path(base, key);
        if let Some((_, kind)) = GRAPH_PROPERTIES.iter().find(|(name, _)| name == key) {
            graph_value(r, v, &path, *kind);
        } else if key.contains('@') {
            // OData annotations such as `@odata.type`.
        } else if let Some((name, _)) = GRAPH_PROPERTIES.iter().find(|(name, _)| name.eq_ignore_ascii_case(key)) {
            r.push(&path, format!("property names are case-sensitive, expected `{name}`"));
        } else {
            r.push(&path, format!("unknown property: a tiIndicator has no {}", quote(key)));
        }
    }
}

fn graph_value(r: &mut Report, v: &Value, path: &str, kind: Kind) {
    match kind {
        Kind::Text => {
            r.string(v, path);
        }
        Kind::Texts => r.strings(v, path),
        Kind::Flag => {
            r.boolean(v, path);
        }
        Kind::Int(min, max) => {
            r.integer(v, path, min, max);
        }
        Kind::Time => {
            r.timestamp(v, path);
        }
        Kind::OneOf(allowed) => {
            if let Some("Microsoft Sentinel") = v.as_str() {
                r.push(
                    path,
                    "expected `Azure Sentinel` (the API rejects `Microsoft Sentinel`), found `Microsoft Sentinel`",
                );
            } else {
                r.one_of(v, path, allowed);
            }
        }
        Kind::ManyOf(allowed) => {
            if let Some(items) = r.array(v, path) {
                for (i, item) in items.iter().enumerate() {
                    r.one_of(item, &index_path(path, i), allowed);
                }
            }
        }
        Kind::Ipv4 => {
            if let Some(s) = r.string(v, path)
                && s.parse::<Ipv4Addr>().is_err()
            {
                r.push(path, format!("expected an IPv4 address, found {}", quote(s)));
            }
        }
        Kind::Ipv6 => {
            if let Some(s) = r.string(v, path)
                && s.parse::<Ipv6Addr>().is_err()
            {
                r.push(path, format!("expected an IPv6 address, found {}", quote(s)));
            }
        }
        Kind::Cidr => {
            if let Some(s) = r.string(v, path)
                && !is_cidr(s)
            {
                r.push(path, format!("expected a CIDR block like `203.0.113.0/24`, found {}", quote(s)));
            }
        }
        Kind::Host => {
            if let Some(s) = r.non_empty(v, path)
                && let Some(message) = host_error(s)
            {
                r.push(path, message);
            }
        }
        Kind::Url => {
            if let Some(s) = r.non_empty(v, path) {
                r.url(s, path);
            }
        }
        Kind::Description => {
            if let Some(s) = r.non_empty(v, path) {
                let length = s.encode_utf16().count();
                if length > GRAPH_DESCRIPTION_MAX {
                    r.push(path, format!("expected at most {GRAPH_DESCRIPTION_MAX} characters, found {length}"));
                }
            }
        }
    }
}

fn is_cidr(s: &str) -> bool {
    let Some((address, bits)) = s.split_once('/') else { return false };
    let max = if address.parse::<Ipv4Addr>().is_ok() {
        32
    } else if address.parse::<Ipv6Addr>().is_ok() {
        128
    } else {
        return false;
    };
    // Plain decimal only: no sign, no leading zero.
    let canonical = bits.parse::<u8>().ok().filter(|n| n.to_string() == bits);
    canonical.is_some_and(|n| n <= max)
}

// ---------------------------------------------------------------------------------------------
// Shared checks
// ---------------------------------------------------------------------------------------------

/// What the prefix of a STIX identifier must be.
#[derive(Clone, Copy, Debug)]
enum Prefix<'a> {
    /// The object's own `type`.
    OfType(&'a str),
    /// A fixed type (`identity` for `created_by_ref`).
    Fixed(&'a str),
    /// Any type.
    Any,
}

/// The violations found so far.
#[derive(Default)]
struct Report(Vec<Violation>);

impl Report {
    fn push(&mut self, path: &str, message: impl Into<String>) {
        self.0.push(Violation { path: path.to_owned(), message: message.into() });
    }

    /// The body as JSON, or a violation at `$`.
    fn parse(&mut self, body: &str) -> Option<Value> {
        match serde_json::from_str(body) {
            Ok(value) => Some(value),
            Err(e) => {
                self.push("$", format!("malformed JSON: {e}"));
                None
            }
        }
    }

    /// A present property with its path, or a "required" violation.
    fn required<'a>(&mut self, obj: &'a Map<String, Value>, base: &str, key: &str) -> Option<(&'a Value, String)> {
        let path = key_path(base, key);
        let v = obj.get(key);
        if v.is_none() {
            self.push(&path, "required property is missing");
        }
        v.map(|v| (v, path))
    }

    /// Keys that match one of `known` only when case is ignored.
    fn case_variants(&mut self, obj: &Map<String, Value>, base: &str, known: &[&str], why: &str) {
        for key in obj.keys() {
            if !known.contains(&key.as_str())
                && let Some(expected) = known.iter().find(|k| k.eq_ignore_ascii_case(key))
            {
                self.push(&key_path(base, key), format!("{why}, expected `{expected}`"));
            }
        }
    }

    /// A required array of 1 to `max` items.
    fn batch<'a>(
        &mut self,
        obj: &'a Map<String, Value>,
        base: &str,
        key: &str,
        max: usize,
        noun: &str,
    ) -> Option<&'a [Value]> {
        let (v, path) = self.required(obj, base, key)?;
        let items = self.array(v, &path)?;
        if items.is_empty() {
            self.push(&path, format!("expected at least 1 {noun}, found an empty array"));
        } else if items.len() > max {
            self.push(&path, format!("expected at most {max} {noun}s per request, found {}", items.len()));
        }
        Some(items)
    }

    fn object<'a>(&mut self, v: &'a Value, path: &str) -> Option<&'a Map<String, Value>> {
        let obj = v.as_object();
        if obj.is_none() {
            self.push(here(path), format!("expected an object, found {}", found(v)));
        }
        obj
    }

    fn array<'a>(&mut self, v: &'a Value, path: &str) -> Option<&'a [Value]> {
        let items = v.as_array().map(Vec::as_slice);
        if items.is_none() {
            self.push(path, format!("expected an array, found {}", found(v)));
        }
        items
    }

    fn string<'a>(&mut self, v: &'a Value, path: &str) -> Option<&'a str> {
        let s = v.as_str();
        if s.is_none() {
            self.push(path, format!("expected a string, found {}", found(v)));
        }
        s
    }

    /// A string that is not empty or only whitespace.
    fn non_empty<'a>(&mut self, v: &'a Value, path: &str) -> Option<&'a str> {
        let s = self.string(v, path)?;
        if s.trim().is_empty() {
            self.push(path, format!("must not be empty, found {}", found(v)));
            return None;
        }
        Some(s)
    }

    /// A JSON boolean; the strings `"true"` and `"false"` get their own message (the `OpenCTI`
    /// connector sent strings, a bug not to repeat).
    fn boolean(&mut self, v: &Value, path: &str) -> Option<bool> {
        match v {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") => {
                let literal = s.to_ascii_lowercase();
                self.push(path, format!("expected a boolean, found the string {}: send JSON `{literal}`", found(v)));
                None
            }
            _ => {
                self.push(path, format!("expected a boolean, found {}", found(v)));
                None
            }
        }
    }

    fn integer(&mut self, v: &Value, path: &str, min: i64, max: i64) -> Option<i64> {
        let n = v.as_i64().filter(|n| (min..=max).contains(n));
        if n.is_none() {
            self.push(path, format!("expected an integer from {min} to {max}, found {}", found(v)));
        }
        n
    }

    fn one_of<'a>(&mut self, v: &'a Value, path: &str, allowed: &[&str]) -> Option<&'a str> {
        let s = self.string(v, path)?;
        if !allowed.contains(&s) {
            self.push(path, format!("expected one of {}, found {}", list(allowed), quote(s)));
            return None;
        }
        Some(s)
    }

    fn timestamp(&mut self, v: &Value, path: &str) -> Option<Timestamp> {
        let s = self.string(v, path)?;
        match Timestamp::parse(s) {
            Ok(t) => Some(t),
            Err(reason) => {
                self.push(path, format!("expected an RFC 3339 UTC timestamp, found {} ({reason})", quote(s)));
                None
            }
        }
    }

    /// An array of strings (may be empty).
    fn strings(&mut self, v: &Value, path: &str) {
        if let Some(items) = self.array(v, path) {
            for (i, item) in items.iter().enumerate() {
                self.string(item, &index_path(path, i));
            }
        }
    }

    /// A STIX list: an array that is not empty (STIX forbids empty lists).
    fn stix_list<'a>(&mut self, v: &'a Value, path: &str) -> Option<&'a [Value]> {
        let items = self.array(v, path)?;
        if items.is_empty() {
            self.push(path, "must not be empty: STIX forbids empty lists (omit the property instead)");
        }
        Some(items)
    }

    /// A STIX list of non-empty strings.
    fn stix_strings(&mut self, v: &Value, path: &str) {
        if let Some(items) = self.stix_list(v, path) {
            for (i, item) in items.iter().enumerate() {
                self.non_empty(item, &index_path(path, i));
            }
        }
    }

    /// A STIX identifier `<type>--<UUID>`.
    fn stix_id(&mut self, v: &Value, path: &str, prefix: Prefix<'_>) {
        let Some(id) = self.string(v, path) else { return };
        let want = match prefix {
            Prefix::OfType(t) | Prefix::Fixed(t) => t,
            Prefix::Any => "<type>",
        };
        let Some((got, uuid)) = id.split_once("--").filter(|(got, _)| !got.is_empty()) else {
            self.push(path, format!("expected `{want}--<UUID>`, found {}", quote(id)));
            return;
        };
        match prefix {
            Prefix::OfType(t) if got != t => {
                self.push(
                    path,
                    format!("expected the prefix `{t}--` to match `type`, found {}", quote(&format!("{got}--"))),
                );
            }
            Prefix::Fixed(t) if got != t => {
                self.push(path, format!("expected the prefix `{t}--`, found {}", quote(&format!("{got}--"))));
            }
            _ => {}
        }
        if !is_uuid(uuid) {
            self.push(
                path,
                format!("expected a UUID (8-4-4-4-12 hexadecimal digits) after `--`, found {}", quote(uuid)),
            );
        }
    }

    /// `key` must be `true` because of `cause` (a type error is reported by the field's own check).
    fn requires_true(&mut self, obj: &Map<String, Value>, base: &str, key: &str, cause: &str) {
        let found = match obj.get(key) {
            None => format!("no `{key}`"),
            Some(Value::Bool(false)) => "`false`".to_owned(),
            Some(_) => return,
        };
        self.push(&key_path(base, key), format!("{cause} requires `{key}: true`, found {found}"));
    }

    fn url(&mut self, url: &str, path: &str) {
        if let Some(message) = url_error(url) {
            self.push(path, message);
        }
    }
}

/// A present property with its path (absent optional properties are fine; `null` is checked as a value).
fn optional<'a>(obj: &'a Map<String, Value>, base: &str, key: &str) -> Option<(&'a Value, String)> {
    obj.get(key).map(|v| (v, key_path(base, key)))
}

fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// An RFC 3339 timestamp in UTC (`Z`), comparable in time order.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Timestamp {
    /// Year, month, day, hour, minute, second.
    fields: [u32; 6],
    /// The fraction's digits without trailing zeros, so that byte order is numeric order.
    fraction: Vec<u8>,
}

impl Timestamp {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction]Z`; the error is the reason in a few words.
    fn parse(s: &str) -> Result<Self, &'static str> {
        const SHAPE: &str = "not `YYYY-MM-DDTHH:MM:SS[.fraction]Z`";
        let b = s.as_bytes();
        let number = |from: usize, to: usize| -> Option<u32> {
            b.get(from..to)?.iter().try_fold(0u32, |n, &c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
        };
        let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
        if !separators.iter().all(|&(i, c)| b.get(i) == Some(&c)) {
            return Err(SHAPE);
        }
        let fields = [number(0, 4), number(5, 7), number(8, 10), number(11, 13), number(14, 16), number(17, 19)];
        let [Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)] = fields else {
            return Err(SHAPE);
        };
        let mut rest = b.get(19..).unwrap_or_default();
        let mut fraction = Vec::new();
        if let Some(after_dot) = rest.strip_prefix(b".") {
            let digits = after_dot.iter().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 {
                return Err(SHAPE);
            }
            let (head, tail) = after_dot.split_at(digits);
            fraction = head.to_vec();
            while fraction.last() == Some(&b'0') {
                fraction.pop();
            }
            rest = tail;
        }
        match rest {
            b"Z" => {}
            [] => return Err("no offset: expected `Z`"),
            [b'+' | b'-', ..] => return Err("offset must be `Z`"),
            _ => return Err(SHAPE),
        }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        let days = match month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        if year == 0 {
            Err("year out of range")
        } else if !(1..=12).contains(&month) {
            Err("month out of range")
        } else if !(1..=days).contains(&day) {
            Err("day out of range")
        } else if hour > 23 {
            Err("hour out of range")
        } else if minute > 59 {
            Err("minute out of range")
        } else if second > 59 {
            Err("second out of range")
        } else {
            Ok(Self { fields: [year, month, day, hour, minute, second], fraction })
        }
    }
}

/// `base.key`, or `base["odd key"]` when the key is not a plain name; `key` alone at the root.
fn key_path(base: &str, key: &str) -> String {
    let plain = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match (base.is_empty(), plain) {
        (true, true) => key.to_owned(),
        (false, true) => format!("{base}.{key}"),
        (_, false) => format!("{}[{}]", here(base), Value::from(key)),
    }
}

fn index_path(base: &str, index: usize) -> String {
    format!("{}[{index}]", here(base))
}

/// The path of a whole value: `$` for the root.
fn here(path: &str) -> &str {
    if path.is_empty() { "$" } else { path }
}

/// A piece of input in backticks, shortened to 64 characters.
fn quote(s: &str) -> String {
    const MAX: usize = 64;
    let mut chars = s.chars();
    let head: String = chars.by_ref().take(MAX).collect();
    if chars.next().is_some() { format!("`{head}…`") } else { format!("`{head}`") }
}

/// A value for "found …": scalars as JSON in backticks, containers by kind.
fn found(v: &Value) -> String {
    match v {
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
        _ => quote(&v.to_string()),
    }
}

/// "`a`, `b`, `c`".
fn list(items: &[&str]) -> String {
    items.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
}
