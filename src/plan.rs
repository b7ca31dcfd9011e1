//! The plan (SPEC §7): a payload, a configuration, `now` and the host's facts in; per-item
//! verdicts and the exact HTTP requests out — each with its destination, operation, method, full
//! URL, token audience, headers, body text, the item keys it carries and the rate-limit class it
//! counts against. [`interpret`] turns each response back into per-item outcomes and follow-up
//! requests (a Defender lookup becomes a `BatchDelete` of the indicators this relay created).
//!
//! ```text
//!   payload ──decode──▶ items ──policy (per destination)──▶ verdicts ──map + batch──▶ requests
//!   response ──interpret──▶ outcomes per item (+ retry_after_ms, follow_up requests)
//! ```
//!
//! Batching follows each API's documented limits: Sentinel 100 objects per upload, Defender 500
//! per import and per `BatchDelete`, Graph 100 per `submitTiIndicators` and per
//! `deleteTiIndicatorsByExternalId`. A value that a mapper cannot make valid for its API is a
//! `skip` with reason `invalid_value`, never a request the API would reject.
//!
//! Known gap: Graph's `updateTiIndicators` needs the Graph-assigned `id`, which the relay never
//! learns, so an update is sent again through `submitTiIndicators` (same `externalId`); whether Graph
//! replaces or duplicates it is not documented (the API is deprecated and being removed).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::{Config, Destination, DestinationType, LegacyGeneration, SentinelApi, Settings};
use crate::decode::{DecodeOptions, ItemError, decode};
use crate::destinations::{defender, graph, sentinel};
use crate::error::{Code, Error};
use crate::interpret::{self, Interpreted, Outcome, Response};
use crate::model::{Format, Indicator, ObservableType};
use crate::policy::{self, Decision, Facts, Verdict};
use crate::time::Timestamp;

/// Sentinel objects per upload request.
pub const SENTINEL_BATCH: usize = 100;
/// Defender indicators per import, and ids per `BatchDelete`.
pub const DEFENDER_BATCH: usize = 500;
/// Graph indicators per `submitTiIndicators` / `deleteTiIndicatorsByExternalId`.
pub const GRAPH_BATCH: usize = 100;

/// What the host knows that the plan needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanFacts {
    /// Now.
    pub now: Option<Timestamp>,
    /// Defender: the current count of active indicators per destination name.
    pub defender_active: BTreeMap<String, u32>,
}

/// A whole plan.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Plan {
    /// One entry per item, in payload order.
    pub items: Vec<PlanItem>,
    /// The requests to send, in order.
    pub requests: Vec<Request>,
    /// The payload's items that could not be decoded.
    pub errors: Vec<ItemError>,
}

/// One item and its verdict at every destination.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlanItem {
    /// A key unique in the plan and stable across runs for the same input.
    pub key: String,
    /// The input format.
    pub format: Format,
    /// The source's id.
    pub source_id: Option<String>,
    /// `{type, value}`, or `null` for a pattern that is not atomic.
    pub observable: Option<ObservableRef>,
    /// One per configured destination, in config order.
    pub verdicts: Vec<VerdictEntry>,
}

/// An observable's type and value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ObservableRef {
    /// The type.
    #[serde(rename = "type")]
    pub kind: ObservableType,
    /// The value.
    pub value: String,
}

/// One destination's verdict on one item.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VerdictEntry {
    /// The destination's name.
    pub destination: String,
    /// `upsert`, `remove` or `skip`.
    pub verdict: Verdict,
    /// The skip reason code (`tlp`, `score`, `invalid_value`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A sentence for a SOC engineer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// One HTTP request, exactly as the host must send it (plus an `Authorization` header with a
/// token for `audience`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// Unique in the plan: `<destination>:<op>:<n>`.
    pub id: String,
    /// The destination's name.
    pub destination: String,
    /// `sentinel-upload`, `defender-import`, `defender-lookup`, `defender-batch-delete`,
    /// `graph-submit`, `graph-delete`.
    pub op: String,
    /// `GET` or `POST`.
    pub method: String,
    /// The full URL.
    pub url: String,
    /// The token scope to request (`<resource>/.default`).
    pub audience: String,
    /// Headers other than `Authorization`.
    pub headers: BTreeMap<String, String>,
    /// The body as exact JSON text (`null` for a GET).
    pub body: Option<String>,
    /// The keys of the items this request carries.
    pub items: Vec<String>,
    /// The rate-limit class it counts against: `<api limit>:<tenant>:<client id>`.
    pub limit: String,
    /// The destination's policy says `dry_run`: show the request, do not send it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
    /// For each item key, the index of the body object that carries it — present only when an
    /// object carries several items (Sentinel with `split_patterns: false`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<usize>,
}

/// What one response means.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Interpretation {
    /// One outcome per item key of the request.
    pub items: Vec<ItemOutcome>,
    /// How long to wait before retrying, when the API said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
    /// Requests to send next (a Defender lookup's `BatchDelete`).
    pub follow_up: Vec<Request>,
}

/// One item's outcome.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ItemOutcome {
    /// The item key.
    pub key: String,
    /// The outcome.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// Plans `payload` for every destination of `config`.
pub fn plan(config: &Config, payload: &str, facts: &PlanFacts) -> Result<Plan, Error> {
    let now = facts.now.ok_or_else(|| {
        Error::new(
            Code::Missing,
            "missing `facts.now`: expected the current time as RFC 3339, like `2025-06-01T12:00:00Z`",
        )
    })?;
    let decoded = decode(payload, &DecodeOptions::default())?;
    let keys = item_keys(&decoded.items);
    let mut items: Vec<PlanItem> = decoded
        .items
        .iter()
        .zip(&keys)
        .map(|(item, key)| PlanItem {
            key: key.clone(),
            format: item.format,
            source_id: item.source.id.as_deref().map(str::to_owned),
            observable: item.observable.as_ref().map(|o| ObservableRef { kind: o.kind, value: o.value.clone() }),
            verdicts: Vec::with_capacity(config.destinations.len()),
        })
        .collect();
    let mut requests = Vec::new();
    for destination in &config.destinations {
        let policy_facts = Facts { defender_active: facts.defender_active.get(&destination.name).copied() };
        let decisions = policy::decide_all(&decoded.items, destination, now, policy_facts);
        let mut batch = Batcher::new(destination, config);
        for ((item, decision), (entry, key)) in decoded.items.iter().zip(&decisions).zip(items.iter_mut().zip(&keys)) {
            let outcome = match decision.verdict {
                Verdict::Skip => Ok(()),
                Verdict::Upsert | Verdict::Remove => batch.add(item, decision, key, now),
            };
            entry.verdicts.push(match outcome {
                Ok(()) => VerdictEntry {
                    destination: destination.name.clone(),
                    verdict: decision.verdict,
                    reason: decision.reason.map(|r| r.as_str().to_owned()),
                    message: decision.message.clone(),
                },
                Err(message) => VerdictEntry {
                    destination: destination.name.clone(),
                    verdict: Verdict::Skip,
                    reason: Some("invalid_value".to_owned()),
                    message: Some(message),
                },
            });
        }
        requests.extend(batch.finish());
    }
    Ok(Plan { items, requests, errors: decoded.errors })
}

/// Keys: the item's deterministic id ([`crate::ids::item_uuid`]), with `#n` for repeats of the same
/// (source, observable).
fn item_keys(items: &[Indicator<'_>]) -> Vec<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    items
        .iter()
        .map(|item| {
            let base = crate::ids::item_uuid(item).to_string();
            let n = seen.entry(base.clone()).or_insert(0);
            *n += 1;
            if *n == 1 { base } else { format!("{base}#{n}") }
        })
        .collect()
}

/// Collects one destination's mapped objects into API-sized requests.
struct Batcher<'c> {
    destination: &'c Destination,
    source_system: String,
    /// (key, JSON object text) per operation.
    upserts: Vec<(String, String)>,
    removals: Vec<(String, String)>,
    lookups: Vec<(String, String)>,
    /// Sentinel: (the keys an object carries, its JSON text). One key per object, except with
    /// `split_patterns: false`, where one object carries a source's whole pattern for all its items.
    stix: Vec<(Vec<String>, String)>,
    /// Sentinel without `split_patterns`: the position in `stix` of each source's object, by path.
    whole: BTreeMap<String, usize>,
}

impl<'c> Batcher<'c> {
    fn new(destination: &'c Destination, config: &Config) -> Self {
        let source_system = match &destination.settings {
            Settings::Sentinel(s) => s.source_system.clone(),
            _ => config.source_system.clone(),
        };
        Self {
            destination,
            source_system,
            upserts: Vec::new(),
            removals: Vec::new(),
            lookups: Vec::new(),
            stix: Vec::new(),
            whole: BTreeMap::new(),
        }
    }

    /// Maps one item; `Err` is the sentence of an `invalid_value` skip.
    fn add(&mut self, item: &Indicator<'_>, decision: &Decision, key: &str, now: Timestamp) -> Result<(), String> {
        match self.destination.kind {
            DestinationType::Sentinel => {
                let split = matches!(&self.destination.settings, Settings::Sentinel(s) if s.split_patterns);
                if split || item.observable.is_none() || item.pattern.is_none() {
                    let object = sentinel::map(item, decision, self.destination, now)?;
                    self.stix.push((vec![key.to_owned()], to_json(&object)?));
                } else if let Some((keys, _)) = self.whole.get(&item.path).and_then(|&at| self.stix.get_mut(at)) {
                    // The source's whole pattern is already planned: this item travels in it.
                    keys.push(key.to_owned());
                } else {
                    // `split_patterns: false`: the original pattern, once per source object.
                    let mut whole = item.clone();
                    whole.observable = None;
                    let object = sentinel::map(&whole, decision, self.destination, now)?;
                    self.whole.insert(item.path.clone(), self.stix.len());
                    self.stix.push((vec![key.to_owned()], to_json(&object)?));
                }
            }
            DestinationType::Defender => {
                if decision.verdict == Verdict::Remove {
                    let value =
                        item.observable.as_ref().map(|o| o.value.clone()).ok_or("a removal needs an observable")?;
                    self.lookups.push((key.to_owned(), value));
                } else {
                    let object = defender::map(item, decision, self.destination)?;
                    self.upserts.push((key.to_owned(), to_json(&object)?));
                }
            }
            DestinationType::Graph => {
                if decision.verdict == Verdict::Remove {
                    self.removals.push((key.to_owned(), to_json(&graph::external_id(item))?));
                } else {
                    let object = graph::map(item, decision, self.destination)?;
                    self.upserts.push((key.to_owned(), to_json(&object)?));
                }
            }
        }
        Ok(())
    }

    fn finish(self) -> Vec<Request> {
        let d = self.destination;
        let base = d.endpoint.api_base_url.as_str();
        let mut requests = Vec::new();
        let mut push = |op: &str,
                        method: &str,
                        url: String,
                        body: Option<String>,
                        items: Vec<String>,
                        limit: &str,
                        objects: Vec<usize>| {
            let n = requests.len();
            requests.push(Request {
                id: format!("{}:{op}:{n}", d.name),
                destination: d.name.clone(),
                op: op.to_owned(),
                method: method.to_owned(),
                url,
                audience: d.endpoint.scope.clone(),
                headers: if body.is_some() {
                    BTreeMap::from([("content-type".to_owned(), "application/json".to_owned())])
                } else {
                    BTreeMap::new()
                },
                body,
                items,
                limit: format!("{limit}:{}:{}", d.tenant, d.client_id.as_deref().unwrap_or("managed-identity")),
                dry_run: d.policy.dry_run,
                objects,
            });
        };
        match &d.settings {
            Settings::Sentinel(s) => {
                let (url, key) = sentinel_upload_url(s, base);
                let source_system = serde_json::to_string(&self.source_system).unwrap_or_default();
                for chunk in self.stix.chunks(SENTINEL_BATCH) {
                    let objects: Vec<&str> = chunk.iter().map(|(_, o)| o.as_str()).collect();
                    let body = format!("{{\"sourcesystem\":{source_system},\"{key}\":[{}]}}", objects.join(","));
                    let keys = chunk.iter().flat_map(|(k, _)| k.iter().cloned()).collect();
                    let objects = if chunk.iter().all(|(k, _)| k.len() == 1) {
                        Vec::new()
                    } else {
                        chunk.iter().enumerate().flat_map(|(i, (k, _))| std::iter::repeat_n(i, k.len())).collect()
                    };
                    push("sentinel-upload", "POST", url.clone(), Some(body), keys, "sentinel-upload", objects);
                }
            }
            Settings::Defender(_) => {
                for chunk in self.upserts.chunks(DEFENDER_BATCH) {
                    let objects: Vec<&str> = chunk.iter().map(|(_, o)| o.as_str()).collect();
                    let body = format!("{{\"Indicators\":[{}]}}", objects.join(","));
                    let keys = chunk.iter().map(|(k, _)| k.clone()).collect();
                    push(
                        "defender-import",
                        "POST",
                        format!("{base}/api/indicators/import"),
                        Some(body),
                        keys,
                        "defender-import",
                        Vec::new(),
                    );
                }
                for (key, value) in self.lookups {
                    let url = format!("{base}{}", defender::lookup_path(&value));
                    push("defender-lookup", "GET", url, None, vec![key], "defender-read", Vec::new());
                }
            }
            Settings::Graph(g) => {
                let root = format!("{base}{}", g.resource_path);
                for chunk in self.upserts.chunks(GRAPH_BATCH) {
                    let objects: Vec<&str> = chunk.iter().map(|(_, o)| o.as_str()).collect();
                    let body = format!("{{\"value\":[{}]}}", objects.join(","));
                    let keys = chunk.iter().map(|(k, _)| k.clone()).collect();
                    push(
                        "graph-submit",
                        "POST",
                        format!("{root}/submitTiIndicators"),
                        Some(body),
                        keys,
                        "graph",
                        Vec::new(),
                    );
                }
                for chunk in self.removals.chunks(GRAPH_BATCH) {
                    let ids: Vec<&str> = chunk.iter().map(|(_, id)| id.as_str()).collect();
                    let body = format!("{{\"value\":[{}]}}", ids.join(","));
                    let keys = chunk.iter().map(|(k, _)| k.clone()).collect();
                    push(
                        "graph-delete",
                        "POST",
                        format!("{root}/deleteTiIndicatorsByExternalId"),
                        Some(body),
                        keys,
                        "graph",
                        Vec::new(),
                    );
                }
            }
        }
        requests
    }
}

/// The upload URL of a Sentinel destination and the body key of its object list.
fn sentinel_upload_url(s: &crate::config::SentinelSettings, base: &str) -> (String, &'static str) {
    match (s.api, s.legacy_generation) {
        (SentinelApi::StixObjects, _) => (
            format!(
                "{base}/workspaces/{}/threat-intelligence-stix-objects:upload?api-version=2024-02-01-preview",
                s.workspace_id
            ),
            "stixobjects",
        ),
        (SentinelApi::Legacy, Some(LegacyGeneration::V1)) => (
            format!(
                "https://sentinelus.azure-api.net/{}/threatintelligence:upload-indicators?api-version=2022-07-01",
                s.workspace_id
            ),
            "value",
        ),
        (SentinelApi::Legacy, _) => (
            format!(
                "https://sentinelus.azure-api.net/workspaces/{}/threatintelligenceindicators:upload?api-version=2022-07-01",
                s.workspace_id
            ),
            "indicators",
        ),
    }
}

fn to_json<T: Serialize>(object: &T) -> Result<String, String> {
    serde_json::to_string(object).map_err(|e| format!("cannot serialise the object: {e}"))
}

/// Interprets the response to one planned request: one outcome per item key, a wait hint, and
/// follow-up requests.
pub fn interpret(config: &Config, request: &Request, response: &Response<'_>) -> Result<Interpretation, Error> {
    let destination = config.destination(&request.destination).ok_or_else(|| {
        Error::new(
            Code::Options,
            format!("unknown destination `{}`: the request does not come from this relay's plan", request.destination),
        )
    })?;
    let n = request.items.len();
    let mut follow_up = Vec::new();
    let interpreted: Interpreted = match request.op.as_str() {
        "sentinel-upload" if request.objects.is_empty() => interpret::sentinel::upload(response, n),
        "sentinel-upload" => {
            // Several items per object: judge the objects, then give each item its object's outcome.
            let count = request.objects.iter().max().map_or(0, |m| m + 1);
            let per_object = interpret::sentinel::upload(response, count);
            let items = request
                .objects
                .iter()
                .map(|&i| per_object.items.get(i).cloned().unwrap_or(Outcome::Accepted))
                .collect();
            Interpreted { items, retry_after_ms: per_object.retry_after_ms, notes: per_object.notes }
        }
        "defender-import" => {
            let values = import_values(request.body.as_deref().unwrap_or(""));
            let refs: Vec<&str> = values.iter().map(String::as_str).collect();
            interpret::defender::import(response, &refs)
        }
        "defender-batch-delete" => interpret::defender::batch_delete(response, n),
        "graph-submit" => interpret::graph::submit(response, n),
        "graph-delete" => interpret::graph::delete_by_external_id(response, n),
        "defender-lookup" => match interpret::defender::list(response) {
            Err(outcome) => Interpreted::uniform(n, &outcome, outcome_wait(&outcome)),
            Ok(list) => {
                let Settings::Defender(settings) = &destination.settings else {
                    return Err(Error::new(
                        Code::Options,
                        "a `defender-lookup` request for a destination that is not Defender",
                    ));
                };
                let value = lookup_value(&request.url);
                let ids = defender::ours(&list.indicators, &value, settings, destination.client_id.as_deref());
                if ids.is_empty() {
                    // Nothing of ours carries the value: the removal's end state already holds.
                    Interpreted::accepted(n)
                } else {
                    let base = destination.endpoint.api_base_url.as_str();
                    follow_up.push(Request {
                        id: format!("{}:defender-batch-delete:{}", destination.name, request.id),
                        destination: destination.name.clone(),
                        op: "defender-batch-delete".to_owned(),
                        method: "POST".to_owned(),
                        url: format!("{base}/api/indicators/BatchDelete"),
                        audience: request.audience.clone(),
                        headers: BTreeMap::from([("content-type".to_owned(), "application/json".to_owned())]),
                        body: Some(defender::batch_delete_body(&ids)),
                        items: request.items.clone(),
                        limit: request.limit.replacen("defender-read", "defender-batch-delete", 1),
                        dry_run: request.dry_run,
                        objects: Vec::new(),
                    });
                    // The items' outcome is the follow-up's.
                    return Ok(Interpretation { items: Vec::new(), retry_after_ms: None, follow_up });
                }
            }
        },
        other => {
            return Err(Error::new(
                Code::Options,
                format!("unknown request op `{other}`: the request does not come from this relay's plan"),
            ));
        }
    };
    let items = request
        .items
        .iter()
        .zip(interpreted.items)
        .map(|(key, outcome)| ItemOutcome { key: key.clone(), outcome })
        .collect();
    Ok(Interpretation { items, retry_after_ms: interpreted.retry_after_ms, follow_up })
}

fn outcome_wait(outcome: &Outcome) -> Option<u64> {
    match outcome {
        Outcome::Retry { after_ms, .. } => *after_ms,
        _ => None,
    }
}

/// The `indicatorValue`s of an import body, in order.
fn import_values(body: &str) -> Vec<String> {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("Indicators").and_then(|i| i.as_array()).cloned())
        .unwrap_or_default()
        .iter()
        .map(|i| i.get("indicatorValue").and_then(|v| v.as_str()).unwrap_or_default().to_owned())
        .collect()
}

/// The value a lookup URL asks for (the inverse of `defender::lookup_path`).
fn lookup_value(url: &str) -> String {
    let Some((_, filter)) = url.split_once("indicatorValue+eq+") else { return String::new() };
    let decoded = percent_decode(filter);
    decoded.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')).unwrap_or(&decoded).replace("''", "'")
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
