//! Defender for Endpoint indicators (SPEC §6; reference/microsoft-apis.md §2): one item with its
//! [`Decision`] into the body of `POST /api/indicators` (each element of an import's `Indicators`
//! list is the same object), plus what removal needs: the lookup path, the filter that keeps only
//! the indicators this relay created, and the `BatchDelete` body.
//!
//! # The body
//!
//! Property names are case-sensitive (`common-errors.md`); [`DefenderIndicator`] serialises exactly
//! these, in this order, and nothing undocumented:
//!
//! ```json
//! {"indicatorValue":"2001:db8:0:0:0:0:0:7","indicatorType":"IpAddress","action":"Audit",
//!  "title":"C2 server","description":"ThreatConnect Address | Owner: ACME | Id: 3507838",
//!  "expirationTime":"2025-07-01T00:00:00.000Z","severity":"Medium","application":"ti-relay",
//!  "generateAlert":true,"rbacGroupNames":["Tier 1"],"recommendedActions":"Isolate the device",
//!  "externalId":"6f1c…-5…"}
//! ```
//!
//! ```json
//! {"indicatorValue":"https://evil.example/login","indicatorType":"Url","action":"Warn",
//!  "title":"url https://evil.example/login","description":"stix indicator indicator--8e2e…",
//!  "expirationTime":"2025-07-01T00:00:00.000Z","severity":"High","application":"ti-relay",
//!  "generateAlert":false,"educateUrl":"https://intranet.example/why-blocked","externalId":"…"}
//! ```
//!
//! Rules ([`map`]):
//! - `indicatorType`: ipv4/ipv6 → `IpAddress`, IPv6 written with all 8 groups and no `::`
//!   (`indicators-overview.md`: "specify all 8 segments", e.g. `2001:4860:4860:0:0:0:0:8888`);
//!   domain → `DomainName` (ASCII only: an internationalised name is refused, Defender wants
//!   punycode and the model keeps Unicode); url → `Url`; file → `FileSha256` / `FileSha1` /
//!   `FileMd5` (MD5 is accepted by the API, addendum 1; the policy already prefers SHA-256 then
//!   SHA-1 where the source gave several); certificate with a SHA-1 thumbprint →
//!   `CertificateThumbprint`. Every other type or algorithm is an `Err`: the policy normally
//!   filters them out first, this is the safety net that keeps an invalid request from being sent.
//! - `action`: the decision's, in Defender's names (`Allowed`, `Audit`, `Warn`, `Block`,
//!   `BlockAndRemediate`; never the deprecated `Alert` / `AlertAndBlock`, addendum 4), checked
//!   again against the per-type table (files: any; IP/domain/URL: not `BlockAndRemediate`;
//!   certificates: `Allowed` or `BlockAndRemediate`).
//! - `generateAlert`: the decision's; always `true` with `Audit` (the API requires it).
//! - `severity`: the decision's (`Informational`, `Low`, `Medium`, `High`), omitted when it has none.
//! - `title`: the item's name, else `<type> <value>`, cut to [`TITLE_MAX_CHARS`] characters.
//!   UNVERIFIED: Defender documents no field lengths; 250 is a conservative cap.
//! - `description`: for ThreatConnect items the seed 002 format
//!   `ThreatConnect <type> | Owner: <owner> | Id: <owner id>` (a part the item lacks is left
//!   out); otherwise the item's description, else `<format> indicator <source id>` (or the value
//!   when there is no source id). Never empty. Not clipped: no limit is documented.
//! - `expirationTime`: the decision's expiry, RFC 3339 UTC with milliseconds.
//! - `application`: the destination's `application` — also what [`ours`] recognises (Defender
//!   applies it only on create, which is exactly the indicators this relay created).
//! - `rbacGroupNames`: the destination's, as a list (the examples' form), only when non-empty
//!   (empty means all devices, which is what omitting it means too).
//! - `educateUrl`: the destination's, only on `Url` indicators whose action is `Block` or `Warn`
//!   (the only ones Defender shows a notification for).
//! - `recommendedActions`: the destination's, when set.
//! - `externalId` (the spelling addendum 3 settles on): [`external_id`], deterministic, so replays
//!   and lookups agree without a database. The ThreatConnect `xid` of seed 002 is not used: one
//!   ThreatConnect File gives one item per hash, and they would share it.
//!
//! Seed 002's other ThreatConnect fields (confidence, Phase of Intrusion, Last Seen, false
//! positives, tags, security label) are Graph properties with no Defender counterpart; the threat
//! rating reaches `severity` through the policy's score rules.
//!
//! # Removal
//!
//! Removals are not mapped to a body. The planner asks `GET` [`lookup_path`] for one removal's
//! value, or, when a plan has several, one page of [`own_indicators_path`] (every indicator carrying
//! our `application`) for all of them; it keeps [`ours`] of the answer ([`OursIndex`] for many
//! values at once) — indicators with our `application` and, when the client id is known, created by
//! it; never someone else's (the OpenCTI connector deletes every indicator with the value, peers
//! §1.3) — and sends their ids in [`batch_delete_body`] chunks of at most [`BATCH_MAX`] (a chunk
//! answered 404 is then deleted id by id, [`delete_path`]).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv6Addr};

use serde::Serialize;

use crate::config::{DefenderSettings, Destination, IndicatorAction, Settings, Severity};
use crate::destinations::trimmed;
use crate::destinations::write::{Object, Times, WriteJson, key};
use crate::interpret::defender::DefenderIndicatorSummary;
use crate::model::{Format, HashAlgorithm, Indicator, Observable, ObservableType};
use crate::policy::{Decision, Verdict};
use crate::time::Timestamp;

/// The longest `title` written, in characters. UNVERIFIED: Defender documents no field lengths.
pub const TITLE_MAX_CHARS: usize = 250;

/// The most indicators per `POST /api/indicators/import` and ids per `POST
/// /api/indicators/BatchDelete` (microsoft-apis.md §2.2).
pub const BATCH_MAX: usize = 500;

/// One Defender indicator: the body of `POST /api/indicators`, and one element of an import's
/// `Indicators`. Field names serialise exactly as the API spells them (case-sensitive).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DefenderIndicator<'a> {
    /// The value: an IP (IPv6 with all 8 groups), a domain, a URL, a hash or a thumbprint.
    pub indicator_value: Cow<'a, str>,
    /// `IpAddress`, `DomainName`, `Url`, `FileSha256`, `FileSha1`, `FileMd5`,
    /// `CertificateThumbprint`.
    pub indicator_type: &'static str,
    /// `Allowed`, `Audit`, `Warn`, `Block` or `BlockAndRemediate`.
    pub action: &'static str,
    /// The alert title (required, non-empty).
    pub title: Cow<'a, str>,
    /// The description (required, non-empty).
    pub description: Cow<'a, str>,
    /// When Defender lets the indicator lapse.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_time: Option<Timestamp>,
    /// `Informational`, `Low`, `Medium` or `High`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<&'static str>,
    /// The destination's application name (applied by Defender on create only).
    pub application: &'a str,
    /// Whether a match raises an alert (`true` with `Audit`).
    pub generate_alert: bool,
    /// The device groups the indicator applies to (absent: all).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rbac_group_names: Option<&'a [String]>,
    /// The custom notification URL (URL indicators with `Block` / `Warn`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub educate_url: Option<&'a str>,
    /// Recommended actions shown with the alert.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recommended_actions: Option<&'a str>,
    /// The relay's deterministic correlation id ([`external_id`]).
    pub external_id: Cow<'a, str>,
}

impl WriteJson for DefenderIndicator<'_> {
    /// The same bytes as `serde_json::to_writer(out, self)`.
    fn write_json(&self, out: &mut Vec<u8>, times: &mut Times) {
        let mut o = Object::new(out, times);
        o.str(key!("indicatorValue"), &self.indicator_value)
            .lit(key!("indicatorType"), self.indicator_type)
            .lit(key!("action"), self.action)
            .str(key!("title"), &self.title)
            .str(key!("description"), &self.description)
            .opt_time(key!("expirationTime"), self.expiration_time)
            .opt_lit(key!("severity"), self.severity)
            .str(key!("application"), self.application)
            .bool(key!("generateAlert"), self.generate_alert);
        if let Some(groups) = &self.rbac_group_names {
            o.strs(key!("rbacGroupNames"), groups, false);
        }
        o.opt_str(key!("educateUrl"), self.educate_url)
            .opt_str(key!("recommendedActions"), self.recommended_actions)
            .str(key!("externalId"), &self.external_id)
            .close();
    }
}

/// Maps an upsert of `item` at the Defender `destination`, as `decision` says. `Err` is a
/// sentence saying why no valid Defender indicator can be made (the planner skips the item with
/// reason `invalid_value`). See the module docs for every rule.
pub fn map<'a>(
    item: &'a Indicator<'a>,
    decision: &Decision,
    destination: &'a Destination,
) -> Result<DefenderIndicator<'a>, String> {
    map_with_id(item, Cow::Owned(crate::ids::item_uuid(item).hyphenated()), decision, destination)
}

/// [`map`] with the text of the item's [`crate::ids::item_uuid`] already written (the planner
/// writes it once per item, as its key, for every destination).
pub(crate) fn map_with_id<'a>(
    item: &'a Indicator<'a>,
    id: Cow<'a, str>,
    decision: &Decision,
    destination: &'a Destination,
) -> Result<DefenderIndicator<'a>, String> {
    let Settings::Defender(settings) = &destination.settings else {
        return Err(format!("destination `{}` is not a Defender destination", destination.name));
    };
    if decision.verdict != Verdict::Upsert {
        return Err("only upserts are mapped to a Defender indicator; removals go lookup, then BatchDelete".to_owned());
    }
    let Some(observable) = &item.observable else {
        return Err("Defender takes only atomic observables, and this pattern has none".to_owned());
    };
    let value = observable.value.as_str();
    let (indicator_type, indicator_value) = typed_value(observable)?;
    let action = checked_action(decision, indicator_type)?;
    let severity = match decision.severity {
        Some(Severity::Defender(s)) => Some(s.as_str()),
        Some(Severity::Graph(n)) => return Err(format!("severity {n} is a Graph severity, not a Defender one")),
        None => None,
    };
    let educate_url = settings
        .educate_url
        .as_deref()
        .filter(|_| indicator_type == "Url" && matches!(action, IndicatorAction::Block | IndicatorAction::Warn));
    Ok(DefenderIndicator {
        indicator_value,
        indicator_type,
        action: action.as_str(),
        title: title(item, observable.kind, value),
        description: description(item, value),
        expiration_time: decision.expires,
        severity,
        application: &settings.application,
        generate_alert: decision.generate_alert || action == IndicatorAction::Audit,
        rbac_group_names: (!settings.rbac_group_names.is_empty()).then_some(settings.rbac_group_names.as_slice()),
        educate_url,
        recommended_actions: settings.recommended_actions.as_deref().filter(|r| !r.trim().is_empty()),
        external_id: id,
    })
}

/// The deterministic `externalId` of an item: the version-5 UUID, in the relay's namespace, of
/// `<format>|<source id>|<type>|<algorithm>|<value>` (absent parts empty), so that a replay of
/// the same source object and observable always carries the same id.
pub fn external_id(item: &Indicator<'_>) -> String {
    crate::ids::item_uuid(item).to_string()
}

/// The path and query of the lookup by value:
/// `/api/indicators?$filter=indicatorValue+eq+'<value>'`, to append to the API base URL.
///
/// The value is first escaped as an `OData` string literal (`'` doubled), then percent-encoded as
/// UTF-8 except for RFC 3986 unreserved characters, so `+`, `&`, `#`, `=`, `?`, `%`, spaces and
/// non-ASCII text survive the query string (the OpenCTI connector's lookups broke on these
/// until #7272). Pass the value as it was sent ([`DefenderIndicator::indicator_value`]).
pub fn lookup_path(value: &str) -> String {
    let mut path = String::with_capacity(value.len() * 3 + 48);
    path.push_str("/api/indicators?$filter=indicatorValue+eq+");
    push_literal(&mut path, value);
    path
}

/// The most indicators one `GET /api/indicators` returns (`$top` ≤ 10,000, microsoft-apis.md §2.2).
pub const LIST_PAGE: usize = 10_000;

/// The path and query of one page of the indicators carrying `application` (a documented `$filter`
/// field): `/api/indicators?$filter=application+eq+'<application>'&$top=10000`, plus
/// `&$skip=<skip>` after the first page. The application is escaped as in [`lookup_path`]. One such
/// page serves every removal of a plan (see [`OursIndex`]), where a lookup per value would cost one
/// request of the 100/min, 1,500/h budget each.
pub fn own_indicators_path(application: &str, skip: usize) -> String {
    let mut path = String::with_capacity(application.len() * 3 + 80);
    path.push_str("/api/indicators?$filter=application+eq+");
    push_literal(&mut path, application);
    let _ = write!(path, "&$top={LIST_PAGE}");
    if skip > 0 {
        let _ = write!(path, "&$skip={skip}");
    }
    path
}

/// The path of `DELETE /api/indicators/{id}` (the id percent-encoded; Defender's are digits).
pub fn delete_path(id: &str) -> String {
    let mut path = String::with_capacity(id.len() + 16);
    path.push_str("/api/indicators/");
    for byte in id.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            path.push(char::from(byte));
        } else {
            let _ = write!(path, "%{byte:02X}");
        }
    }
    path
}

/// `'<value>'` as an `OData` string literal, percent-encoded for a query string.
fn push_literal(path: &mut String, value: &str) {
    path.push('\'');
    for byte in value.bytes() {
        if byte == b'\'' {
            path.push_str("%27%27");
        } else if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            path.push(char::from(byte));
        } else {
            let _ = write!(path, "%{byte:02X}");
        }
    }
    path.push('\'');
}

/// The ids, in list order and without repeats, of the indicators of a lookup answer that carry
/// `value` and that this relay created — the only ones a removal may delete:
/// - `application` equals the destination's (Defender sets it only on create, from the body);
///   an indicator without one is not ours;
/// - when `client_id` (our app registration) is known, `createdBy` or `createdBySource` equals it
///   (ignoring case, as GUIDs); an indicator that names no creator is then not ours;
/// - an indicator whose `sourceType` is `User` (made in the portal) is never ours.
///
/// The value matches exactly, ignoring ASCII case except for `Url` indicators (a URL's path is
/// case-sensitive), and IP addresses match by address (so `2001:db8::7` finds
/// `2001:db8:0:0:0:0:0:7`).
pub fn ours<'l>(
    list: &'l [DefenderIndicatorSummary],
    value: &str,
    settings: &DefenderSettings,
    client_id: Option<&str>,
) -> Vec<&'l str> {
    OursIndex::new(list, settings, client_id).ids(value)
}

/// The indicators of a lookup answer that this relay created (the rules of [`ours`]), indexed by
/// value so that matching a thousand removals against a page of 10,000 indicators costs a thousand
/// look-ups, not ten million comparisons.
///
/// Each entry is indexed under one key that every value it matches shares: `u<value>` for a `Url`
/// indicator (matched exactly), `i<address>` for an IP address (matched by address), `f<value
/// lower-cased>` for anything else (matched ignoring ASCII case).
#[derive(Debug)]
pub struct OursIndex<'l> {
    list: &'l [DefenderIndicatorSummary],
    /// Key → the last entry under it; `chain[entry]` → the previous one.
    heads: BTreeMap<String, usize>,
    chain: Vec<Option<usize>>,
}

impl<'l> OursIndex<'l> {
    /// Indexes the entries of `list` this relay created.
    pub fn new(list: &'l [DefenderIndicatorSummary], settings: &DefenderSettings, client_id: Option<&str>) -> Self {
        let client_id = client_id.map(str::trim).filter(|c| !c.is_empty());
        let application = settings.application.trim();
        let mut index = Self { list, heads: BTreeMap::new(), chain: vec![None; list.len()] };
        for (at, entry) in list.iter().enumerate() {
            let Some(value) = entry.indicator_value.as_deref() else { continue };
            let same_app = entry.application.as_deref().is_some_and(|a| a.trim() == application);
            let by_user = entry.source_type.as_deref().is_some_and(|t| t.trim().eq_ignore_ascii_case("user"));
            let by_us = client_id.is_none_or(|ours| {
                [&entry.created_by, &entry.created_by_source]
                    .into_iter()
                    .any(|c| c.as_deref().is_some_and(|c| c.trim().eq_ignore_ascii_case(ours)))
            });
            if !same_app || by_user || !by_us {
                continue;
            }
            let url = entry.indicator_type.as_deref().is_some_and(|t| t.trim().eq_ignore_ascii_case("Url"));
            let head = index.heads.entry(match_key(value, url)).or_insert(at);
            if *head != at {
                if let Some(link) = index.chain.get_mut(at) {
                    *link = Some(*head);
                }
                *head = at;
            }
        }
        index
    }

    /// The ids of our indicators carrying `value`, in list order, without repeats.
    pub fn ids(&self, value: &str) -> Vec<&'l str> {
        let mut at: Vec<usize> = Vec::new();
        for url in [true, false] {
            let mut next = self.heads.get(match_key(value, url).as_str()).copied();
            while let Some(i) = next {
                if let Err(slot) = at.binary_search(&i) {
                    at.insert(slot, i);
                }
                next = self.chain.get(i).copied().flatten();
            }
        }
        let mut ids: Vec<&'l str> = Vec::with_capacity(at.len());
        for entry in at.iter().filter_map(|&i| self.list.get(i)) {
            if !ids.contains(&entry.id.as_str()) {
                ids.push(entry.id.as_str());
            }
        }
        ids
    }
}

/// The index key of a value (see [`OursIndex`]).
fn match_key(value: &str, url: bool) -> String {
    let value = value.trim();
    if url {
        format!("u{value}")
    } else if let Ok(address) = value.parse::<IpAddr>() {
        format!("i{address}")
    } else {
        format!("f{}", value.to_ascii_lowercase())
    }
}

/// The body of `POST /api/indicators/BatchDelete`: `{"IndicatorIds":["995","996"]}`. Defender
/// takes at most [`BATCH_MAX`] ids per call (and rejects an empty list); the caller chunks.
pub fn batch_delete_body(ids: &[&str]) -> String {
    #[derive(Serialize)]
    struct Body<'b> {
        #[serde(rename = "IndicatorIds")]
        indicator_ids: &'b [&'b str],
    }
    serde_json::to_string(&Body { indicator_ids: ids }).unwrap_or_else(|_| String::from("{\"IndicatorIds\":[]}"))
}

/// `indicatorType` and `indicatorValue` of an observable, or why Defender cannot take it.
fn typed_value(observable: &Observable) -> Result<(&'static str, Cow<'_, str>), String> {
    let value = observable.value.as_str();
    Ok(match observable.kind {
        ObservableType::Ipv4 => ("IpAddress", Cow::Borrowed(value)),
        ObservableType::Ipv6 => {
            let address: Ipv6Addr =
                value.parse().map_err(|_| format!("`{value}` is not an IPv6 address Defender can take"))?;
            ("IpAddress", Cow::Owned(full_ipv6(address)))
        }
        ObservableType::Domain => {
            if !value.is_ascii() {
                return Err(format!(
                    "Defender takes internationalised domain names only in punycode (`xn--…`), found `{value}`"
                ));
            }
            ("DomainName", Cow::Borrowed(value))
        }
        ObservableType::Url => {
            if value.is_empty() || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(format!("Defender takes URLs without whitespace, found `{value}`"));
            }
            ("Url", Cow::Borrowed(value))
        }
        ObservableType::File => {
            let ty = match observable.algorithm {
                Some(HashAlgorithm::Sha256) => "FileSha256",
                Some(HashAlgorithm::Sha1) => "FileSha1",
                Some(HashAlgorithm::Md5) => "FileMd5",
                _ => return Err("Defender takes only MD5, SHA-1 and SHA-256 file hashes".to_owned()),
            };
            check_hex(value, observable.algorithm)?;
            (ty, Cow::Borrowed(value))
        }
        ObservableType::Certificate => {
            if observable.algorithm != Some(HashAlgorithm::Sha1) {
                return Err("Defender takes certificates only by their SHA-1 thumbprint".to_owned());
            }
            check_hex(value, observable.algorithm)?;
            ("CertificateThumbprint", Cow::Borrowed(value))
        }
        kind @ (ObservableType::Cidr
        | ObservableType::Email
        | ObservableType::EmailSubject
        | ObservableType::Asn
        | ObservableType::RegistryKey) => {
            return Err(format!(
                "Defender has no `{kind}` indicators: it takes IP addresses, domains, URLs, file hashes and \
                 certificate thumbprints"
            ));
        }
    })
}

/// The decision's action, if it is a Defender action valid for `indicator_type`.
fn checked_action(decision: &Decision, indicator_type: &str) -> Result<IndicatorAction, String> {
    let action = match decision.action {
        Some(
            action @ (IndicatorAction::Allowed
            | IndicatorAction::Audit
            | IndicatorAction::Warn
            | IndicatorAction::Block
            | IndicatorAction::BlockAndRemediate),
        ) => action,
        Some(other) => return Err(format!("`{}` is not a Defender action", other.as_str())),
        None => return Err("the decision has no action for Defender".to_owned()),
    };
    let allowed: &[IndicatorAction] = match indicator_type {
        "FileSha256" | "FileSha1" | "FileMd5" => &[
            IndicatorAction::Allowed,
            IndicatorAction::Audit,
            IndicatorAction::Warn,
            IndicatorAction::Block,
            IndicatorAction::BlockAndRemediate,
        ],
        "CertificateThumbprint" => &[IndicatorAction::Allowed, IndicatorAction::BlockAndRemediate],
        _ => &[IndicatorAction::Allowed, IndicatorAction::Audit, IndicatorAction::Warn, IndicatorAction::Block],
    };
    if !allowed.contains(&action) {
        let names: Vec<&str> = allowed.iter().map(|a| a.as_str()).collect();
        return Err(format!(
            "Defender does not allow `{}` on `{indicator_type}` indicators: expected one of {}",
            action.as_str(),
            names.join(", ")
        ));
    }
    Ok(action)
}

/// An IPv6 address with all 8 groups, lower-case hex without leading zeros, no `::`.
fn full_ipv6(address: Ipv6Addr) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(39);
    for (i, group) in address.segments().into_iter().enumerate() {
        if i > 0 {
            text.push(':');
        }
        // Lower-case hex without leading zeros (`{:x}`): from the highest nibble that is set.
        let first = (group | 1).ilog2() / 4;
        for nibble in (0..=first).rev() {
            let digit = HEX.get(usize::from((group >> (4 * nibble)) & 0xf)).copied().unwrap_or(b'0');
            text.push(char::from(digit));
        }
    }
    text
}

fn check_hex(value: &str, algorithm: Option<HashAlgorithm>) -> Result<(), String> {
    let digits = algorithm.and_then(HashAlgorithm::hex_len).unwrap_or(0);
    if value.len() == digits && value.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(format!("expected {digits} hexadecimal digits, found `{value}`"))
    }
}

fn title<'a>(item: &'a Indicator<'a>, kind: ObservableType, value: &str) -> Cow<'a, str> {
    let title = match item.name.as_deref().map(trimmed).filter(|n| !n.is_empty()) {
        Some(name) => Cow::Borrowed(name),
        None => Cow::Owned([kind.as_str(), " ", value].concat()),
    };
    clip(title, TITLE_MAX_CHARS)
}

fn description<'a>(item: &'a Indicator<'a>, value: &str) -> Cow<'a, str> {
    if item.format == Format::Threatconnect {
        let mut text = format!("ThreatConnect {}", present(item.source.type_name.as_deref()).unwrap_or("Indicator"));
        if let Some(owner) = present(item.source.owner.as_deref()) {
            let _ = write!(text, " | Owner: {owner}");
        }
        if let Some(id) = present(item.source.owner_id.as_deref()) {
            let _ = write!(text, " | Id: {id}");
        }
        return Cow::Owned(text);
    }
    if let Some(description) = present(item.description.as_deref()) {
        return Cow::Borrowed(description);
    }
    let id = present(item.source.id.as_deref()).unwrap_or(value);
    Cow::Owned([item.format.as_str(), " indicator ", id].concat())
}

fn present(text: Option<&str>) -> Option<&str> {
    text.map(trimmed).filter(|t| !t.is_empty())
}

fn clip(text: Cow<'_, str>, max: usize) -> Cow<'_, str> {
    if text.len() <= max {
        // No more characters than bytes: most titles are told short without counting.
        return text;
    }
    match text.char_indices().nth(max) {
        None => text,
        Some((end, _)) => match text {
            Cow::Borrowed(s) => Cow::Borrowed(s.get(..end).unwrap_or(s)),
            Cow::Owned(s) => Cow::Owned(s.get(..end).unwrap_or(&s).to_owned()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_ipv6_is_every_group_in_lower_hex() {
        for text in
            ["::", "::1", "2001:db8::7", "ffff:0:1:10:100:1000:abcd:f", "1:2:3:4:5:6:7:8", "fe80::a:b0:c00:d000"]
        {
            let address: Ipv6Addr = text.parse().unwrap();
            let want: Vec<String> = address.segments().iter().map(|g| format!("{g:x}")).collect();
            assert_eq!(full_ipv6(address), want.join(":"), "{text}");
        }
    }
    use crate::config::{self, Config, DefenderSeverity};
    use crate::ids::Uuid;

    fn config(defender: &str) -> Config {
        let text = format!(
            r#"{{"destinations": [{{"name": "mde", "type": "defender", "tenant": "contoso.onmicrosoft.com",
                "client_id": "11111111-2222-3333-4444-555555555555", "credential": {{"secret": "S"}},
                "defender": {defender}}}]}}"#
        );
        config::parse(&text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn settings(cfg: &Config) -> &DefenderSettings {
        match &cfg.destinations[0].settings {
            Settings::Defender(d) => d,
            _ => unreachable!(),
        }
    }

    fn item(format: Format, observable: Observable) -> Indicator<'static> {
        let mut item = Indicator::new(format, String::new());
        item.source.id = Some(Cow::Borrowed("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"));
        item.observable = Some(observable);
        item
    }

    fn decision(action: IndicatorAction, generate_alert: bool) -> Decision {
        Decision {
            verdict: Verdict::Upsert,
            reason: None,
            message: None,
            expires: Some(Timestamp::parse("2025-07-01T00:00:00Z").unwrap()),
            action: Some(action),
            generate_alert,
            severity: Some(Severity::Defender(DefenderSeverity::Medium)),
            tlp: None,
        }
    }

    fn json(body: &DefenderIndicator<'_>) -> serde_json::Value {
        serde_json::to_value(body).unwrap()
    }

    #[test]
    fn types_and_values() {
        let cfg = config("{}");
        let d = &cfg.destinations[0];
        let audit = decision(IndicatorAction::Audit, true);
        let cases = [
            (Observable::new(ObservableType::Ipv4, "198.51.100.7"), "IpAddress", "198.51.100.7"),
            (Observable::new(ObservableType::Ipv6, "2001:db8::7"), "IpAddress", "2001:db8:0:0:0:0:0:7"),
            (Observable::new(ObservableType::Ipv6, "::"), "IpAddress", "0:0:0:0:0:0:0:0"),
            (Observable::new(ObservableType::Ipv6, "::ffff:1.2.3.4"), "IpAddress", "0:0:0:0:0:ffff:102:304"),
            (Observable::new(ObservableType::Domain, "evil.example"), "DomainName", "evil.example"),
            (Observable::new(ObservableType::Url, "https://evil.example/A?b=c"), "Url", "https://evil.example/A?b=c"),
            (
                Observable::hashed(ObservableType::File, HashAlgorithm::Sha256, "a".repeat(64)),
                "FileSha256",
                &"a".repeat(64),
            ),
            (
                Observable::hashed(ObservableType::File, HashAlgorithm::Sha1, "b".repeat(40)),
                "FileSha1",
                &"b".repeat(40),
            ),
            (Observable::hashed(ObservableType::File, HashAlgorithm::Md5, "c".repeat(32)), "FileMd5", &"c".repeat(32)),
        ];
        for (observable, ty, value) in cases {
            let it = item(Format::Stix, observable);
            let body = map(&it, &audit, d).unwrap();
            assert_eq!((body.indicator_type, body.indicator_value.as_ref()), (ty, value));
        }
        let cert =
            item(Format::Stix, Observable::hashed(ObservableType::Certificate, HashAlgorithm::Sha1, "d".repeat(40)));
        let body = map(&cert, &decision(IndicatorAction::BlockAndRemediate, false), d).unwrap();
        assert_eq!(body.indicator_type, "CertificateThumbprint");
    }

    #[test]
    fn unmappable_items_are_errors() {
        let cfg = config("{}");
        let d = &cfg.destinations[0];
        let audit = decision(IndicatorAction::Audit, true);
        let err = |o: Observable, dec: &Decision| map(&item(Format::Stix, o), dec, d).unwrap_err();
        assert_eq!(
            err(Observable::hashed(ObservableType::File, HashAlgorithm::Sha512, "e".repeat(128)), &audit),
            "Defender takes only MD5, SHA-1 and SHA-256 file hashes"
        );
        assert!(
            err(Observable::hashed(ObservableType::Certificate, HashAlgorithm::Sha256, "e".repeat(64)), &audit)
                .contains("SHA-1 thumbprint")
        );
        for kind in [
            ObservableType::Cidr,
            ObservableType::Email,
            ObservableType::EmailSubject,
            ObservableType::Asn,
            ObservableType::RegistryKey,
        ] {
            assert!(err(Observable::new(kind, "x"), &audit).contains("Defender has no"), "{kind}");
        }
        assert!(err(Observable::new(ObservableType::Domain, "bücher.example"), &audit).contains("punycode"));
        // The per-type action table, the deprecated and Graph actions, and removals.
        let cert = Observable::hashed(ObservableType::Certificate, HashAlgorithm::Sha1, "d".repeat(40));
        assert!(err(cert, &decision(IndicatorAction::Warn, false)).contains("does not allow `Warn`"));
        let ip = || Observable::new(ObservableType::Ipv4, "198.51.100.7");
        assert!(err(ip(), &decision(IndicatorAction::BlockAndRemediate, false)).contains("does not allow"));
        assert!(err(ip(), &decision(IndicatorAction::GraphBlock, false)).contains("not a Defender action"));
        let mut removal = decision(IndicatorAction::Block, false);
        removal.verdict = Verdict::Remove;
        assert!(err(ip(), &removal).contains("only upserts"));
        let mut no_atom = item(Format::Stix, ip());
        no_atom.observable = None;
        assert!(map(&no_atom, &audit, d).unwrap_err().contains("atomic"));
    }

    #[test]
    fn full_body_has_exact_field_names() {
        let cfg = config(
            r#"{"application": "relay-x", "rbac_group_names": ["Tier 1"], "generate_alert": false,
                "educate_url": "https://intranet.example/why", "recommended_actions": "Isolate"}"#,
        );
        let d = &cfg.destinations[0];
        let mut it = item(Format::Stix, Observable::new(ObservableType::Url, "https://evil.example/x"));
        it.name = Some(Cow::Borrowed("Phish"));
        it.description = Some(Cow::Borrowed("A phishing page"));
        let body = map(&it, &decision(IndicatorAction::Warn, false), d).unwrap();
        let text = serde_json::to_string(&body).unwrap();
        assert_eq!(
            text,
            format!(
                r#"{{"indicatorValue":"https://evil.example/x","indicatorType":"Url","action":"Warn","title":"Phish","description":"A phishing page","expirationTime":"2025-07-01T00:00:00.000Z","severity":"Medium","application":"relay-x","generateAlert":false,"rbacGroupNames":["Tier 1"],"educateUrl":"https://intranet.example/why","recommendedActions":"Isolate","externalId":"{}"}}"#,
                external_id(&it)
            )
        );
        // educateUrl only on Url with Block/Warn.
        assert!(map(&it, &decision(IndicatorAction::Audit, true), d).unwrap().educate_url.is_none());
        assert!(map(&it, &decision(IndicatorAction::Block, true), d).unwrap().educate_url.is_some());
        let domain = item(Format::Stix, Observable::new(ObservableType::Domain, "evil.example"));
        assert!(map(&domain, &decision(IndicatorAction::Block, true), d).unwrap().educate_url.is_none());
    }

    #[test]
    fn minimal_body_omits_optionals_and_audit_always_alerts() {
        let cfg = config(r#"{"generate_alert": false}"#);
        let d = &cfg.destinations[0];
        let it = item(Format::Stix, Observable::new(ObservableType::Ipv4, "198.51.100.7"));
        let mut dec = decision(IndicatorAction::Audit, false);
        dec.severity = None;
        dec.expires = None;
        let v = json(&map(&it, &dec, d).unwrap());
        // (serde_json's map sorts its keys; the serialised order is pinned in the full-body test.)
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "action",
                "application",
                "description",
                "externalId",
                "generateAlert",
                "indicatorType",
                "indicatorValue",
                "title"
            ]
        );
        assert_eq!(v["generateAlert"], true);
        assert_eq!(v["application"], "ti-relay");
        assert_eq!(v["title"], "ipv4 198.51.100.7");
        assert_eq!(v["description"], "stix indicator indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f");
        dec.severity = Some(Severity::Graph(3));
        assert!(map(&it, &dec, d).unwrap_err().contains("Graph severity"));
    }

    #[test]
    fn titles_and_descriptions() {
        let cfg = config("{}");
        let d = &cfg.destinations[0];
        let audit = decision(IndicatorAction::Audit, true);
        // Seed 002: `ThreatConnect <type> | Owner: <owner> | Id: <owner id>`.
        let mut tc = item(Format::Threatconnect, Observable::new(ObservableType::Ipv4, "123.45.67.89"));
        tc.source.type_name = Some(Cow::Borrowed("File"));
        tc.source.owner = Some(Cow::Borrowed("ACME"));
        tc.source.owner_id = Some(Cow::Borrowed("3507838"));
        tc.description = Some(Cow::Borrowed("ignored for ThreatConnect"));
        assert_eq!(map(&tc, &audit, d).unwrap().description, "ThreatConnect File | Owner: ACME | Id: 3507838");
        tc.source.owner_id = None;
        tc.source.owner = None;
        assert_eq!(map(&tc, &audit, d).unwrap().description, "ThreatConnect File");
        // Others: the description, else `<format> indicator <source id>`, else the value.
        let mut misp = item(Format::Misp, Observable::new(ObservableType::Domain, "evil.example"));
        misp.description = Some(Cow::Borrowed("  "));
        assert_eq!(
            map(&misp, &audit, d).unwrap().description,
            "misp indicator indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
        );
        misp.source.id = None;
        assert_eq!(map(&misp, &audit, d).unwrap().description, "misp indicator evil.example");
        // Titles: the name, else `<type> <value>`, at most 250 characters (by character).
        let long = format!("https://evil.example/{}", "é".repeat(300));
        let url = item(Format::Stix, Observable::new(ObservableType::Url, long.clone()));
        let title = map(&url, &audit, d).unwrap().title;
        assert_eq!(title.chars().count(), TITLE_MAX_CHARS);
        assert!(format!("url {long}").starts_with(title.as_ref()));
        let mut named = item(Format::Stix, Observable::new(ObservableType::Ipv4, "198.51.100.7"));
        named.name = Some(Cow::Owned("n".repeat(251)));
        assert_eq!(map(&named, &audit, d).unwrap().title, "n".repeat(250));
    }

    #[test]
    fn external_ids_are_deterministic_and_distinct() {
        let a = item(Format::Stix, Observable::new(ObservableType::Ipv4, "198.51.100.7"));
        let b = item(Format::Stix, Observable::new(ObservableType::Ipv4, "198.51.100.8"));
        let c = item(Format::Opencti, Observable::new(ObservableType::Ipv4, "198.51.100.7"));
        let sha1 = item(Format::Stix, Observable::hashed(ObservableType::File, HashAlgorithm::Sha1, "b".repeat(40)));
        let md5 = item(Format::Stix, Observable::hashed(ObservableType::File, HashAlgorithm::Md5, "b".repeat(40)));
        assert_eq!(external_id(&a), external_id(&a.clone()));
        let ids = [external_id(&a), external_id(&b), external_id(&c), external_id(&sha1), external_id(&md5)];
        for (i, x) in ids.iter().enumerate() {
            assert_eq!(x.len(), 36);
            assert!(ids.iter().skip(i + 1).all(|y| y != x));
        }
        let name = "stix|indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f|ipv4||198.51.100.7";
        assert_eq!(external_id(&a), Uuid::v5(Uuid::TI_RELAY, name.as_bytes()).to_string());
    }

    #[test]
    fn lookup_path_escapes_odata_and_url() {
        let base = "/api/indicators?$filter=indicatorValue+eq+";
        for (value, want) in [
            ("1.2.3.4", "'1.2.3.4'"),
            ("evil.example", "'evil.example'"),
            ("o'brien.example", "'o%27%27brien.example'"),
            ("''", "'%27%27%27%27'"),
            ("https://x.example/a?b=c&d=e#f", "'https%3A%2F%2Fx.example%2Fa%3Fb%3Dc%26d%3De%23f'"),
            ("a+b c%20", "'a%2Bb%20c%2520'"),
            ("https://bücher.example/ü", "'https%3A%2F%2Fb%C3%BCcher.example%2F%C3%BC'"),
            ("2001:db8:0:0:0:0:0:7", "'2001%3Adb8%3A0%3A0%3A0%3A0%3A0%3A7'"),
            ("~_-.", "'~_-.'"),
        ] {
            assert_eq!(lookup_path(value), format!("{base}{want}"), "{value}");
        }
    }

    #[test]
    fn own_indicators_path_filters_on_the_application_and_pages() {
        assert_eq!(own_indicators_path("ti-relay", 0), "/api/indicators?$filter=application+eq+'ti-relay'&$top=10000");
        assert_eq!(
            own_indicators_path("O'Brien & Co/ü", 20_000),
            "/api/indicators?$filter=application+eq+'O%27%27Brien%20%26%20Co%2F%C3%BC'&$top=10000&$skip=20000"
        );
        assert_eq!(delete_path("995"), "/api/indicators/995");
        assert_eq!(delete_path("a/b c"), "/api/indicators/a%2Fb%20c");
    }

    fn summary(id: &str, value: &str, application: Option<&str>, created_by: Option<&str>) -> DefenderIndicatorSummary {
        DefenderIndicatorSummary {
            id: id.to_owned(),
            indicator_value: Some(value.to_owned()),
            indicator_type: Some("IpAddress".to_owned()),
            application: application.map(str::to_owned),
            created_by: created_by.map(str::to_owned),
            ..DefenderIndicatorSummary::default()
        }
    }

    #[test]
    fn ours_keeps_only_our_application_and_creator() {
        let cfg = config("{}");
        let s = settings(&cfg);
        let me = "11111111-2222-3333-4444-555555555555";
        let other = "99999999-2222-3333-4444-555555555555";
        let mut by_source = summary("7", "1.2.3.4", Some("ti-relay"), None);
        by_source.created_by_source = Some(me.to_uppercase());
        let mut by_user = summary("8", "1.2.3.4", Some("ti-relay"), Some(me));
        by_user.source_type = Some("User".to_owned());
        let list = vec![
            summary("1", "1.2.3.4", Some("ti-relay"), Some(me)),
            summary("2", "1.2.3.4", Some("OpenCTI Microsoft Defender Intel"), Some(me)),
            summary("3", "1.2.3.4", Some("ti-relay"), Some(other)),
            summary("4", "1.2.3.4", None, Some(me)),
            summary("5", "1.2.3.5", Some("ti-relay"), Some(me)),
            summary("6", "1.2.3.4", Some("ti-relay"), None),
            by_source,
            by_user,
            summary("1", "1.2.3.4", Some("ti-relay"), Some(me)),
        ];
        assert_eq!(ours(&list, "1.2.3.4", s, Some(me)), ["1", "7"]);
        // Without a known client id: the application alone (still never a user's or another app's).
        assert_eq!(ours(&list, "1.2.3.4", s, None), ["1", "3", "6", "7"]);
        assert_eq!(ours(&list, "1.2.3.4", s, Some("  ")), ["1", "3", "6", "7"]);
        // IPv6 by address; case-insensitive values except URLs.
        let v6 = [summary("10", "2001:db8:0:0:0:0:0:7", Some("ti-relay"), Some(me))];
        assert_eq!(ours(&v6, "2001:db8::7", s, Some(me)), ["10"]);
        let mut url = summary("11", "https://x.example/A", Some("ti-relay"), Some(me));
        url.indicator_type = Some("Url".to_owned());
        let mut hash = summary("12", &"AB".repeat(20), Some("ti-relay"), Some(me));
        hash.indicator_type = Some("FileSha1".to_owned());
        let list = [url, hash];
        assert!(ours(&list, "https://x.example/a", s, Some(me)).is_empty());
        assert_eq!(ours(&list, "https://x.example/A", s, Some(me)), ["11"]);
        assert_eq!(ours(&list, &"ab".repeat(20), s, Some(me)), ["12"]);
    }

    #[test]
    fn one_index_answers_many_values_as_ours_does() {
        let cfg = config("{}");
        let s = settings(&cfg);
        let me = "11111111-2222-3333-4444-555555555555";
        let mut url = summary("3", "https://x.example/A", Some("ti-relay"), Some(me));
        url.indicator_type = Some("Url".to_owned());
        let list = vec![
            summary("1", "2001:db8:0:0:0:0:0:7", Some("ti-relay"), Some(me)),
            summary("2", "Evil.Example", Some("ti-relay"), Some(me)),
            url,
            summary("4", " evil.example ", Some("ti-relay"), Some(me)),
            summary("5", "evil.example", Some("other"), Some(me)),
            summary("2", "evil.example", Some("ti-relay"), Some(me)),
        ];
        let index = OursIndex::new(&list, s, Some(me));
        let cases: &[(&str, &[&str])] = &[
            ("2001:db8::7", &["1"]),
            ("2001:DB8::7", &["1"]),
            ("evil.example", &["2", "4"]),
            ("EVIL.EXAMPLE", &["2", "4"]),
            ("https://x.example/A", &["3"]),
            ("https://x.example/a", &[]),
            ("other.example", &[]),
        ];
        for &(value, ids) in cases {
            assert_eq!(index.ids(value), ids, "{value}");
            assert_eq!(ours(&list, value, s, Some(me)), ids, "{value}");
        }
    }

    #[test]
    fn batch_delete_body_shape() {
        assert_eq!(batch_delete_body(&["995", "996"]), r#"{"IndicatorIds":["995","996"]}"#);
        assert_eq!(batch_delete_body(&[]), r#"{"IndicatorIds":[]}"#);
    }

    #[test]
    fn non_defender_destination_is_an_error() {
        let text = r#"{"destinations": [{"name": "g", "type": "graph", "tenant": "contoso.onmicrosoft.com",
            "client_id": "11111111-2222-3333-4444-555555555555", "credential": {"secret": "S"}, "graph": {}}]}"#;
        let cfg = config::parse(text).unwrap();
        let it = item(Format::Stix, Observable::new(ObservableType::Ipv4, "198.51.100.7"));
        assert!(
            map(&it, &decision(IndicatorAction::Audit, true), &cfg.destinations[0])
                .unwrap_err()
                .contains("not a Defender")
        );
    }
}
