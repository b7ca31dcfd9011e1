//! The plan (SPEC §7): a payload, a configuration, `now` and the host's facts in; per-item
//! verdicts and the exact HTTP requests out — each with its destination, operation, method, full
//! URL, token audience, headers, body text, the item keys it carries, the rate-limit class it
//! counts against and that class's documented rate windows. [`interpret()`] turns each response back
//! into per-item outcomes, the request to send again for the items to retry, and follow-up
//! requests; [`retain`] narrows a request to some of its items (to split one that is too large for
//! a queue message, or to resend only some).
//!
//! ```text
//!   payload ──decode──▶ items ──policy (per destination)──▶ verdicts ──map + batch──▶ requests
//!   response ──interpret──▶ outcomes per item (+ retry_after_ms, resend, follow_up requests)
//! ```
//!
//! Batching follows each API's documented limits: Sentinel 100 objects per upload, Defender 500
//! per import and per `BatchDelete`, Graph 100 per `submitTiIndicators` and per
//! `deleteTiIndicatorsByExternalId`. A value that a mapper cannot make valid for its API is a
//! `skip` with reason `invalid_value`, never a request the API would reject. Rate limits are one
//! table ([`LimitClass`]); every request carries its class's windows as `rate`.
//!
//! # Defender removals
//!
//! Defender deletes by its own ids, which the relay learns by listing. One removal in a plan is one
//! lookup of its value (`$filter=indicatorValue eq '…'`); several are ONE listing of the
//! indicators carrying the destination's `application` (`$top=10000`), carrying every removal's
//! item key and value (`values`, parallel to `items`). Interpreting a listing matches each value
//! to the ids of the indicators this relay created ([`defender::OursIndex`]) and answers with
//! `BatchDelete` follow-ups of at most 500 ids, each carrying the items whose ids it holds; an item
//! with no id of ours is accepted (its end state holds). A full page also yields a lookup of the
//! next page for the still-unmatched items, skipping what was read minus what the `BatchDelete`s
//! remove (so the next page is right whether or not they ran first). A `BatchDelete` of several
//! ids answered 404 (some id is gone; whether Defender deleted the others is not documented)
//! yields one `DELETE /api/indicators/{id}` per id, each carrying the batch's items; a delete
//! answered 2xx or 404 is accepted.
//!
//! An item carried by several requests (follow-ups) is accepted only when every request carrying
//! it accepted it; a request whose items get no outcome from its interpretation hands them to its
//! follow-ups.
//!
//! Known gap: Graph's `updateTiIndicators` needs the Graph-assigned `id`, which the relay never
//! learns, so an update is sent again through `submitTiIndicators` (same `externalId`); whether Graph
//! replaces or duplicates it is not documented (the API is deprecated and being removed).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::config::{Config, Destination, DestinationType, LegacyGeneration, SentinelApi, Settings};
use crate::decode::{DecodeOptions, ItemError, decode};
use crate::destinations::write::{Object, Times, WriteJson, key};
use crate::destinations::{defender, graph, sentinel};
use crate::error::{Code, Error};
use crate::ids::Uuid;
use crate::interpret::{self, Interpreted, Outcome, Response};
use crate::model::{Format, Indicator, ObservableType};
use crate::policy::{self, Decision, Facts, Reason, Verdict};
use crate::time::Timestamp;

mod retain;
#[cfg(test)]
mod tests;

pub use retain::retain;

/// Sentinel objects per upload request.
pub const SENTINEL_BATCH: usize = 100;
/// Defender indicators per import, and ids per `BatchDelete`.
pub const DEFENDER_BATCH: usize = 500;
/// Graph indicators per `submitTiIndicators` / `deleteTiIndicatorsByExternalId`.
pub const GRAPH_BATCH: usize = 100;

/// One documented rate window: at most `requests` requests in any `per_ms` milliseconds.
///
/// Serialised as `{"requests":100,"per_ms":60000}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateWindow {
    /// The most requests in one window.
    pub requests: u32,
    /// The window, in milliseconds.
    pub per_ms: u64,
}

const MINUTE_MS: u64 = 60_000;
const HOUR_MS: u64 = 3_600_000;

/// The rate-limit classes of the APIs: every request counts against one, per (tenant, client id).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitClass {
    /// Sentinel uploads, STIX objects and legacy alike.
    SentinelUpload,
    /// Defender `POST /api/indicators/import`.
    DefenderImport,
    /// Defender `GET /api/indicators` (the removal lookups).
    DefenderRead,
    /// Defender `POST /api/indicators/BatchDelete`.
    DefenderBatchDelete,
    /// Defender `DELETE /api/indicators/{id}`.
    DefenderDelete,
    /// Graph `tiIndicators`, any operation.
    Graph,
}

impl LimitClass {
    /// Every class.
    pub const ALL: [Self; 6] = [
        Self::SentinelUpload,
        Self::DefenderImport,
        Self::DefenderRead,
        Self::DefenderBatchDelete,
        Self::DefenderDelete,
        Self::Graph,
    ];

    /// THE table of the documented limits (reference/microsoft-apis.md §1.5, §2.2, §3 and "Numbers
    /// a relay must respect"): each class's name and its windows.
    const fn table(self) -> (&'static str, &'static [RateWindow]) {
        match self {
            // "100 requests per minute", applied per calling identity (§1.5).
            Self::SentinelUpload => ("sentinel-upload", &[RateWindow { requests: 100, per_ms: MINUTE_MS }]),
            // 30/min; no hourly limit stated (§2.2).
            Self::DefenderImport => ("defender-import", &[RateWindow { requests: 30, per_ms: MINUTE_MS }]),
            Self::DefenderRead => (
                "defender-read",
                &[RateWindow { requests: 100, per_ms: MINUTE_MS }, RateWindow { requests: 1_500, per_ms: HOUR_MS }],
            ),
            Self::DefenderBatchDelete => (
                "defender-batch-delete",
                &[RateWindow { requests: 30, per_ms: MINUTE_MS }, RateWindow { requests: 1_500, per_ms: HOUR_MS }],
            ),
            Self::DefenderDelete => (
                "defender-delete",
                &[RateWindow { requests: 100, per_ms: MINUTE_MS }, RateWindow { requests: 1_500, per_ms: HOUR_MS }],
            ),
            // 1,000 requests/min per app per tenant (§3).
            Self::Graph => ("graph", &[RateWindow { requests: 1_000, per_ms: MINUTE_MS }]),
        }
    }

    /// The class name (`sentinel-upload`, `defender-import`, `defender-read`,
    /// `defender-batch-delete`, `defender-delete`, `graph`).
    pub const fn name(self) -> &'static str {
        self.table().0
    }

    /// The documented windows: a request may go when every window has room.
    pub const fn rate(self) -> &'static [RateWindow] {
        self.table().1
    }

    /// The class named `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The key a host paces on at `destination`: `<class>:<tenant>:<client id>` (`managed-identity`
    /// for a system-assigned identity).
    pub fn key(self, destination: &Destination) -> String {
        format!(
            "{}:{}:{}",
            self.name(),
            destination.tenant,
            destination.client_id.as_deref().unwrap_or("managed-identity")
        )
    }
}

/// What the host knows that the plan needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanFacts {
    /// Now.
    pub now: Option<Timestamp>,
    /// Defender: the current count of active indicators per destination name.
    pub defender_active: BTreeMap<String, u32>,
    /// Forces the input format instead of detecting it (the webhook's `format` query parameter,
    /// SPEC §3); `None` detects it from the payload's shape.
    pub format: Option<Format>,
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

impl Plan {
    /// The plan as JSON text: exactly `serde_json::to_string(self)`, with the items (most of a
    /// plan's text once the bodies are taken out) written by hand ([`WriteJson`]).
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        self.json(true)
    }

    /// [`Plan::to_json`] without the items: `{"requests":…,"errors":…}`.
    pub fn to_json_without_items(&self) -> Result<String, serde_json::Error> {
        self.json(false)
    }

    /// The JSON text of the items alone, `[…]`, as [`Plan::to_json`] writes them.
    pub fn items_json(&self) -> String {
        let mut out = Vec::with_capacity(400 * self.items.len() + 2);
        self.write_items(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    fn write_items(&self, out: &mut Vec<u8>) {
        let mut times = Times::new();
        out.push(b'[');
        for (i, item) in self.items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            item.write_json(out, &mut times);
        }
        out.push(b']');
    }

    fn json(&self, items: bool) -> Result<String, serde_json::Error> {
        // Room for the requests at once (their bodies, escaped: a quote every few bytes, are most of
        // the text): a buffer grown by doubling is copied several times.
        let bodies: usize = self.requests.iter().map(|r| r.body.as_ref().map_or(0, String::len)).sum();
        let requests = bodies + bodies / 4 + 1024 * self.requests.len();
        let mut out = Vec::with_capacity(if items { 400 * self.items.len() } else { 0 } + requests + 1024);
        if items {
            out.extend_from_slice(b"{\"items\":");
            self.write_items(&mut out);
            out.extend_from_slice(b",\"requests\":");
        } else {
            out.extend_from_slice(b"{\"requests\":");
        }
        serde_json::to_writer(&mut out, &self.requests)?;
        out.extend_from_slice(b",\"errors\":");
        serde_json::to_writer(&mut out, &self.errors)?;
        out.push(b'}');
        Ok(String::from_utf8(out).unwrap_or_default())
    }
}

impl WriteJson for PlanItem {
    fn write_json(&self, out: &mut Vec<u8>, times: &mut Times) {
        let mut object = Object::new(out, times);
        object
            .str(key!("key"), &self.key)
            .lit(key!("format"), self.format.as_str())
            .str_or_null(key!("source_id"), self.source_id.as_deref())
            .object_or_null(key!("observable"), self.observable.as_ref(), |o, object| {
                object.lit(key!("type"), o.kind.as_str()).str(key!("value"), &o.value);
            })
            .array(key!("verdicts"), &self.verdicts, |v, object| {
                let verdict = match v.verdict {
                    Verdict::Upsert => "upsert",
                    Verdict::Remove => "remove",
                    Verdict::Skip => "skip",
                };
                object
                    .str(key!("destination"), &v.destination)
                    .lit(key!("verdict"), verdict)
                    .opt_lit(key!("reason"), v.reason)
                    .opt_str(key!("message"), v.message.as_deref());
            })
            .close();
    }
}

/// An item key: shared by the plan's item and every request carrying it (one allocation, not a
/// copy per request). Serialised as its text.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ItemKey(Arc<str>);

impl ItemKey {
    /// The key's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for ItemKey {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for ItemKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for ItemKey {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<&str> for ItemKey {
    fn from(key: &str) -> Self {
        Self(Arc::from(key))
    }
}

impl From<String> for ItemKey {
    fn from(key: String) -> Self {
        Self(Arc::from(key))
    }
}

impl From<ItemKey> for String {
    fn from(key: ItemKey) -> Self {
        key.as_str().to_owned()
    }
}

impl PartialEq<str> for ItemKey {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ItemKey {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for ItemKey {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl std::fmt::Display for ItemKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self)
    }
}

/// One item and its verdict at every destination.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlanItem {
    /// A key unique in the plan and stable across runs for the same input.
    pub key: ItemKey,
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
    /// The destination's name (shared by every verdict at that destination).
    pub destination: Arc<str>,
    /// `upsert`, `remove` or `skip`.
    pub verdict: Verdict,
    /// The skip reason code (`tlp`, `score`, `invalid_value`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
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
    /// `defender-delete`, `graph-submit`, `graph-delete`.
    pub op: String,
    /// `GET`, `POST` or `DELETE`.
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
    pub items: Vec<ItemKey>,
    /// The rate-limit class it counts against: `<api limit>:<tenant>:<client id>`.
    pub limit: String,
    /// The class's documented windows ([`LimitClass::rate`]).
    #[serde(default)]
    pub rate: Vec<RateWindow>,
    /// The destination's policy says `dry_run`: show the request, do not send it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
    /// For each item key, the index of the body object that carries it — present only when an
    /// object carries several items (Sentinel with `split_patterns: false`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<usize>,
    /// `defender-lookup` only: the observable value of each item, parallel to `items` (what the
    /// answer is matched against).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

/// What one response means.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Interpretation {
    /// One outcome per item key of the request.
    pub items: Vec<ItemOutcome>,
    /// How long to wait before retrying, when the API said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
    /// When some item is `retry`: the request narrowed ([`retain`]) to exactly those items, to send
    /// again after the wait.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resend: Option<Request>,
    /// Requests to send next (a Defender lookup's `BatchDelete`s and next page, a `BatchDelete`'s
    /// single deletes); they carry the items this interpretation gives no outcome.
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
    let decoded = decode(payload, &DecodeOptions { format: facts.format, ..DecodeOptions::default() })?;
    let destinations = &config.destinations;
    // One pass over the items per stage, every destination at once: an item is read while it is
    // in cache (a 10k payload and its items are far larger than the CPU's caches).
    let mut decisions: Vec<Vec<Decision>> =
        destinations.iter().map(|_| Vec::with_capacity(decoded.items.len())).collect();
    for item in &decoded.items {
        for (destination, column) in destinations.iter().zip(&mut decisions) {
            column.push(policy::decide(item, destination, now));
        }
    }
    let groups = policy::observable_groups(&decoded.items);
    for (destination, column) in destinations.iter().zip(&mut decisions) {
        let policy_facts = Facts {
            // Per destination name, or one number for every Defender destination (stored under "").
            defender_active: facts
                .defender_active
                .get(&destination.name)
                .or_else(|| facts.defender_active.get(""))
                .copied(),
        };
        policy::settle(&decoded.items, &groups, destination, policy_facts, column);
    }
    drop(groups);
    let names: Vec<Arc<str>> = destinations.iter().map(|d| Arc::from(d.name.as_str())).collect();
    let mut batchers: Vec<Batcher<'_>> = destinations.iter().map(|d| Batcher::new(d, decoded.items.len())).collect();
    let mut columns: Vec<std::vec::IntoIter<Decision>> = decisions.into_iter().map(Vec::into_iter).collect();
    let mut keys = ItemKeys::with_capacity(decoded.items.len());
    // The text of the timestamps written last, shared by every destination's bodies.
    let mut times = Times::new();
    let mut items: Vec<PlanItem> = Vec::with_capacity(decoded.items.len());
    // Each item by value: once its objects are written nothing borrows it, so its observable's
    // value and an owned source id move into the plan instead of being copied.
    for mut owned in decoded.items {
        let item = &owned;
        // The item's deterministic id, once: its key and every destination's ids derive from it.
        let key = keys.next(crate::ids::item_uuid(item));
        // The id's text, as every destination writes it: the key without its `#n` (the 36
        // characters of a hyphenated UUID).
        let id = key.as_str().get(..36).unwrap_or(&key);
        let mut verdicts = Vec::with_capacity(destinations.len());
        for ((batch, column), name) in batchers.iter_mut().zip(&mut columns).zip(&names) {
            let Some(decision) = column.next() else { continue };
            let outcome = match decision.verdict {
                Verdict::Skip => Ok(()),
                Verdict::Upsert | Verdict::Remove => batch.add(item, id, &decision, &key, now, &mut times),
            };
            verdicts.push(match outcome {
                Ok(()) => VerdictEntry {
                    destination: Arc::clone(name),
                    verdict: decision.verdict,
                    reason: decision.reason.map(Reason::as_str),
                    message: decision.message,
                },
                Err(message) => VerdictEntry {
                    destination: Arc::clone(name),
                    verdict: Verdict::Skip,
                    reason: Some("invalid_value"),
                    message: Some(message),
                },
            });
        }
        items.push(PlanItem {
            key,
            format: owned.format,
            // Taken, not moved out: the rest of the item is dropped whole (one drop function,
            // not its fields' drops inlined here).
            source_id: owned.source.id.take().map(Cow::into_owned),
            observable: owned.observable.take().map(|o| ObservableRef { kind: o.kind, value: o.value }),
            verdicts,
        });
    }
    let requests = batchers.into_iter().flat_map(Batcher::finish).collect();
    Ok(Plan { items, requests, errors: decoded.errors })
}

/// Item keys: the item's deterministic id ([`crate::ids::item_uuid`]), with `#n` for repeats of
/// the same (source, observable).
struct ItemKeys {
    seen: crate::fasthash::FastMap<Uuid, usize>,
}

impl ItemKeys {
    fn with_capacity(n: usize) -> Self {
        Self { seen: crate::fasthash::FastMap::with_capacity_and_hasher(n, crate::fasthash::FastBuild::default()) }
    }

    fn next(&mut self, id: Uuid) -> ItemKey {
        let text = id.text();
        let base = std::str::from_utf8(&text).unwrap_or_default();
        let n = self.seen.entry(id).or_insert(0);
        *n += 1;
        if *n == 1 { ItemKey::from(base) } else { ItemKey::from(format!("{base}#{n}")) }
    }
}

/// JSON bodies of at most `max` objects each, `<prefix>object,object,…]}`: every object is
/// written straight into its batch's body ([`WriteJson`]: no text per object, no join).
struct Bodies {
    prefix: String,
    max: usize,
    texts: Vec<Vec<u8>>,
    count: usize,
    /// The capacity of the first body: room for the objects the payload can fill it with.
    first: usize,
}

/// Bytes to reserve per object for a payload's first body (a mapped object is typically 200–900
/// bytes): a body grown by doubling would copy itself several times.
const OBJECT_BYTES_GUESS: usize = 768;

impl Bodies {
    /// Bodies of at most `max` objects each, for a payload of `items` items.
    fn new(prefix: String, max: usize, items: usize) -> Self {
        let first = prefix.len() + OBJECT_BYTES_GUESS * items.clamp(1, max);
        Self { prefix, max, texts: Vec::new(), count: 0, first }
    }

    /// Appends `object` to the open batch, opening one when it is full.
    fn push(&mut self, object: &dyn WriteJson, times: &mut Times) {
        if self.count.is_multiple_of(self.max) {
            // The previous body's size is the best guess of the next one's, with room for objects a
            // little larger and the closing `]}`: a body one byte short of its room is copied whole
            // into a buffer twice its size.
            let capacity = self.texts.last().map_or(self.first, |last| last.len() + last.len() / 8 + 2);
            let mut body = Vec::with_capacity(capacity);
            body.extend_from_slice(self.prefix.as_bytes());
            self.texts.push(body);
        } else if let Some(body) = self.texts.last_mut() {
            body.push(b',');
        }
        if let Some(body) = self.texts.last_mut() {
            object.write_json(body, times);
        }
        self.count += 1;
    }

    /// The closed bodies, in order.
    fn finish(self) -> impl Iterator<Item = String> {
        self.texts.into_iter().map(|mut body| {
            body.extend_from_slice(b"]}");
            String::from_utf8(body).unwrap_or_default()
        })
    }
}

/// The item keys one Sentinel object carries: one, except with `split_patterns: false`.
enum Keys {
    One(ItemKey),
    Many(Vec<ItemKey>),
}

impl Keys {
    fn len(&self) -> usize {
        match self {
            Self::One(_) => 1,
            Self::Many(keys) => keys.len(),
        }
    }

    fn push(&mut self, key: ItemKey) {
        match self {
            Self::One(first) => *self = Self::Many(vec![std::mem::take(first), key]),
            Self::Many(keys) => keys.push(key),
        }
    }

    fn extend_into(self, out: &mut Vec<ItemKey>) {
        match self {
            Self::One(key) => out.push(key),
            Self::Many(keys) => out.extend(keys),
        }
    }
}

/// Collects one destination's mapped objects into API-sized requests.
struct Batcher<'c> {
    destination: &'c Destination,
    /// Sentinel uploads, Defender imports, Graph submits: the bodies and the key of each object.
    upserts: Bodies,
    upsert_keys: Vec<ItemKey>,
    /// Graph `deleteTiIndicatorsByExternalId`: the bodies and the key of each id.
    removals: Bodies,
    removal_keys: Vec<ItemKey>,
    /// Defender: (key, value) of each removal to look up.
    lookups: Vec<(ItemKey, String)>,
    /// Sentinel: the keys each object carries (one per object, except with `split_patterns:
    /// false`, where one object carries a source's whole pattern for all its items).
    stix_keys: Vec<Keys>,
    /// Sentinel without `split_patterns`: the position in `stix_keys` of each source's object, by
    /// path.
    whole: BTreeMap<String, usize>,
}

impl<'c> Batcher<'c> {
    /// A batcher for `destination`, for a payload of `items` items.
    fn new(destination: &'c Destination, items: usize) -> Self {
        let prefix = match &destination.settings {
            Settings::Sentinel(s) => {
                let (_, key) = sentinel_upload_url(s, "");
                let source_system = serde_json::to_string(&s.source_system).unwrap_or_default();
                format!("{{\"sourcesystem\":{source_system},\"{key}\":[")
            }
            Settings::Defender(_) => "{\"Indicators\":[".to_owned(),
            Settings::Graph(_) => "{\"value\":[".to_owned(),
        };
        let max = match destination.kind {
            DestinationType::Sentinel => SENTINEL_BATCH,
            DestinationType::Defender => DEFENDER_BATCH,
            DestinationType::Graph => GRAPH_BATCH,
        };
        Self {
            destination,
            upserts: Bodies::new(prefix, max, items),
            upsert_keys: Vec::new(),
            // Removals are rarer than upserts: a small first body.
            removals: Bodies::new("{\"value\":[".to_owned(), GRAPH_BATCH, 1),
            removal_keys: Vec::new(),
            lookups: Vec::new(),
            stix_keys: Vec::new(),
            whole: BTreeMap::new(),
        }
    }

    /// Maps one item; `Err` is the sentence of an `invalid_value` skip.
    fn add(
        &mut self,
        item: &Indicator<'_>,
        id: &str,
        decision: &Decision,
        key: &ItemKey,
        now: Timestamp,
        times: &mut Times,
    ) -> Result<(), String> {
        match self.destination.kind {
            DestinationType::Sentinel => {
                let split = matches!(&self.destination.settings, Settings::Sentinel(s) if s.split_patterns);
                if split || item.observable.is_none() || item.pattern.is_none() {
                    let object = sentinel::prepare(item, id, decision, now)?;
                    self.upserts.push(&object, times);
                    self.stix_keys.push(Keys::One(key.clone()));
                } else if let Some(keys) = self.whole.get(&item.path).and_then(|&at| self.stix_keys.get_mut(at)) {
                    // The source's whole pattern is already planned: this item travels in it.
                    keys.push(key.clone());
                } else {
                    // `split_patterns: false`: the original pattern, once per source object.
                    let mut whole = item.clone();
                    whole.observable = None;
                    let uuid = crate::ids::item_uuid(&whole).hyphenated();
                    let object = sentinel::prepare(&whole, &uuid, decision, now)?;
                    self.upserts.push(&object, times);
                    self.whole.insert(item.path.clone(), self.stix_keys.len());
                    self.stix_keys.push(Keys::One(key.clone()));
                }
            }
            DestinationType::Defender => {
                if decision.verdict == Verdict::Remove {
                    let value =
                        item.observable.as_ref().map(|o| o.value.clone()).ok_or("a removal needs an observable")?;
                    self.lookups.push((key.clone(), value));
                } else {
                    let object = defender::map_with_id(item, Cow::Borrowed(id), decision, self.destination)?;
                    self.upserts.push(&object, times);
                    self.upsert_keys.push(key.clone());
                }
            }
            DestinationType::Graph => {
                if decision.verdict == Verdict::Remove {
                    self.removals.push(&graph::external_id_with(item, id), times);
                    self.removal_keys.push(key.clone());
                } else {
                    let object = graph::map_with_id(item, Cow::Borrowed(id), decision, self.destination)?;
                    self.upserts.push(&object, times);
                    self.upsert_keys.push(key.clone());
                }
            }
        }
        Ok(())
    }

    fn finish(self) -> Vec<Request> {
        let d = self.destination;
        let base = d.endpoint.api_base_url.as_str();
        let mut requests: Vec<Request> = Vec::new();
        let mut push = |mut request: Request, items: Vec<ItemKey>| {
            request.id = format!("{}:{}:{}", d.name, request.op, requests.len());
            request.items = items;
            requests.push(request);
        };
        match &d.settings {
            Settings::Sentinel(s) => {
                let (url, _) = sentinel_upload_url(s, base);
                let mut objects = self.stix_keys.into_iter();
                for body in self.upserts.finish() {
                    let chunk: Vec<Keys> = objects.by_ref().take(SENTINEL_BATCH).collect();
                    let several = chunk.iter().any(|k| k.len() != 1);
                    let mut request =
                        new_request(d, "sentinel-upload", "POST", url.clone(), Some(body), LimitClass::SentinelUpload);
                    if several {
                        request.objects =
                            chunk.iter().enumerate().flat_map(|(i, k)| std::iter::repeat_n(i, k.len())).collect();
                    }
                    let mut keys = Vec::with_capacity(chunk.len());
                    for k in chunk {
                        k.extend_into(&mut keys);
                    }
                    push(request, keys);
                }
            }
            Settings::Defender(settings) => {
                let mut keys = self.upsert_keys.into_iter();
                for body in self.upserts.finish() {
                    let url = format!("{base}/api/indicators/import");
                    let chunk = keys.by_ref().take(DEFENDER_BATCH).collect();
                    push(new_request(d, "defender-import", "POST", url, Some(body), LimitClass::DefenderImport), chunk);
                }
                let url = match self.lookups.as_slice() {
                    [] => None,
                    // One removal: look its value up.
                    [(_, value)] => Some(format!("{base}{}", defender::lookup_path(value))),
                    // Several: one listing of our own indicators serves them all.
                    _ => Some(format!("{base}{}", defender::own_indicators_path(&settings.application, 0))),
                };
                if let Some(url) = url {
                    let (keys, values) = self.lookups.into_iter().unzip();
                    let mut request = new_request(d, "defender-lookup", "GET", url, None, LimitClass::DefenderRead);
                    request.values = values;
                    push(request, keys);
                }
            }
            Settings::Graph(g) => {
                let root = format!("{base}{}", g.resource_path);
                let mut keys = self.upsert_keys.into_iter();
                for body in self.upserts.finish() {
                    let url = format!("{root}/submitTiIndicators");
                    let chunk = keys.by_ref().take(GRAPH_BATCH).collect();
                    push(new_request(d, "graph-submit", "POST", url, Some(body), LimitClass::Graph), chunk);
                }
                let mut keys = self.removal_keys.into_iter();
                for body in self.removals.finish() {
                    let url = format!("{root}/deleteTiIndicatorsByExternalId");
                    let chunk = keys.by_ref().take(GRAPH_BATCH).collect();
                    push(new_request(d, "graph-delete", "POST", url, Some(body), LimitClass::Graph), chunk);
                }
            }
        }
        requests
    }
}

/// A request of `destination` without id and items: headers (`content-type` when there is a
/// body), audience, limit class and rate, `dry_run`.
fn new_request(
    d: &Destination,
    op: &str,
    method: &str,
    url: String,
    body: Option<String>,
    class: LimitClass,
) -> Request {
    Request {
        id: String::new(),
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
        items: Vec::new(),
        limit: class.key(d),
        rate: class.rate().to_vec(),
        dry_run: d.policy.dry_run,
        objects: Vec::new(),
        values: Vec::new(),
    }
}

/// The `n`-th follow-up of `parent`: `request` with the id `<parent id>><op>:<n>`, `items`, and the
/// parent's `dry_run`.
fn child(parent: &Request, n: usize, mut request: Request, items: Vec<ItemKey>) -> Request {
    request.id = format!("{}>{}:{n}", parent.id, request.op);
    request.items = items;
    request.dry_run = parent.dry_run;
    request
}

/// The upload URL of a Sentinel destination and the body key of its object list. `base` is the
/// destination's API base URL (for the legacy API, `https://sentinelus.azure-api.net` unless
/// `api_base_url` is set).
fn sentinel_upload_url(s: &crate::config::SentinelSettings, base: &str) -> (String, &'static str) {
    match (s.api, s.legacy_generation) {
        (SentinelApi::StixObjects, _) => (
            format!(
                "{base}/workspaces/{}/threat-intelligence-stix-objects:upload?api-version=2024-02-01-preview",
                s.workspace_id
            ),
            "stixobjects",
        ),
        (SentinelApi::Legacy, Some(LegacyGeneration::V1)) => {
            (format!("{base}/{}/threatintelligence:upload-indicators?api-version=2022-07-01", s.workspace_id), "value")
        }
        (SentinelApi::Legacy, _) => (
            format!("{base}/workspaces/{}/threatintelligenceindicators:upload?api-version=2022-07-01", s.workspace_id),
            "indicators",
        ),
    }
}

/// Interprets the response to one planned request (or follow-up): one outcome per item key the
/// response decides, a wait hint, the request to resend for the items to retry, and follow-up
/// requests (which carry the items given no outcome here).
pub fn interpret(config: &Config, request: &Request, response: &Response<'_>) -> Result<Interpretation, Error> {
    let destination = config.destination(&request.destination).ok_or_else(|| {
        Error::new(
            Code::Options,
            format!("unknown destination `{}`: the request does not come from this relay's plan", request.destination),
        )
    })?;
    let n = request.items.len();
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
        "defender-batch-delete" => {
            let ids = batch_delete_ids(request)?;
            if response.status == 404 && ids.len() > 1 {
                return Ok(delete_one_by_one(destination, request, &ids));
            }
            interpret::defender::batch_delete(response, ids.len(), n)
        }
        "defender-delete" => interpret::defender::delete(response, n),
        "graph-submit" => interpret::graph::submit(response, n),
        "graph-delete" => interpret::graph::delete_by_external_id(response, n),
        "defender-lookup" => match interpret::defender::list(response) {
            Err(outcome) => Interpreted::uniform(n, &outcome, outcome_wait(&outcome)),
            Ok(list) => return lookup_follow_ups(destination, request, &list),
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
        .map(|(key, outcome)| ItemOutcome { key: key.as_str().to_owned(), outcome })
        .collect();
    with_resend(request, items, interpreted.retry_after_ms)
}

/// The interpretation of `items`, with `resend` when some of them are `retry`.
fn with_resend(
    request: &Request,
    items: Vec<ItemOutcome>,
    retry_after_ms: Option<u64>,
) -> Result<Interpretation, Error> {
    let retry: Vec<String> = items.iter().filter(|i| i.outcome.is_retry()).map(|i| i.key.clone()).collect();
    let resend = if retry.is_empty() { None } else { Some(retain(request, &retry)?) };
    Ok(Interpretation { items, retry_after_ms, resend, follow_up: Vec::new() })
}

/// The ids of a `defender-batch-delete` request's body.
fn batch_delete_ids(request: &Request) -> Result<Vec<String>, Error> {
    let body = request.body.as_deref().unwrap_or_default();
    let arena = crate::json::Arena::new();
    let ids = match crate::json::Value::parse(body, &arena) {
        Ok(crate::json::Value::Object(fields)) => {
            fields.iter().find(|(k, _)| *k == "IndicatorIds").and_then(|(_, ids)| match ids {
                crate::json::Value::Array(ids) => ids
                    .iter()
                    .map(|id| match id {
                        crate::json::Value::String(id) => Some((*id).to_owned()),
                        _ => None,
                    })
                    .collect(),
                _ => None,
            })
        }
        _ => None,
    };
    ids.ok_or_else(|| {
        Error::new(
            Code::Options,
            format!(
                "invalid body of request {}: expected `{{\"IndicatorIds\":[…]}}` as `interpret` wrote it, found {}",
                crate::error::quote(&request.id),
                crate::error::quote(body)
            ),
        )
        .at_path("request.body")
    })
}

/// A `BatchDelete` of several ids answered 404: one `DELETE /api/indicators/{id}` per id, each
/// carrying the batch's items; the items get their outcome from those.
fn delete_one_by_one(destination: &Destination, request: &Request, ids: &[String]) -> Interpretation {
    let base = destination.endpoint.api_base_url.as_str();
    let follow_up = ids
        .iter()
        .enumerate()
        .map(|(n, id)| {
            let url = format!("{base}{}", defender::delete_path(id));
            let delete = new_request(destination, "defender-delete", "DELETE", url, None, LimitClass::DefenderDelete);
            child(request, n, delete, request.items.clone())
        })
        .collect();
    Interpretation { items: Vec::new(), retry_after_ms: None, resend: None, follow_up }
}

/// A Defender listing (one value's lookup, or a page of our own indicators): `BatchDelete`s of the
/// ids this relay created, at most [`defender::BATCH_MAX`] each, carrying the items whose ids they
/// hold; the items with no id of ours are accepted — or, when the page is full, carried by a
/// lookup of the next page.
fn lookup_follow_ups(
    destination: &Destination,
    request: &Request,
    list: &interpret::defender::DefenderIndicatorList,
) -> Result<Interpretation, Error> {
    let Settings::Defender(settings) = &destination.settings else {
        return Err(Error::new(Code::Options, "a `defender-lookup` request for a destination that is not Defender"));
    };
    let n = request.items.len();
    let values: Vec<String> = if request.values.len() == n {
        request.values.clone()
    } else if n == 1 {
        vec![lookup_value(&request.url)]
    } else {
        return Err(Error::new(
            Code::Options,
            format!(
                "invalid `defender-lookup` request {}: expected {n} `values` (one per item, as `plan` wrote them), found {}",
                crate::error::quote(&request.id),
                request.values.len()
            ),
        )
        .at_path("request.values"));
    };
    let index = defender::OursIndex::new(&list.indicators, settings, destination.client_id.as_deref());
    let matched: Vec<Vec<&str>> = values.iter().map(|v| index.ids(v)).collect();
    // Our ids in first-seen order, each with the items whose value it carries.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut order: Vec<(&str, Vec<usize>)> = Vec::new();
    for (item, ids) in matched.iter().enumerate() {
        for &id in ids {
            let next = order.len();
            let at = *seen.entry(id.to_owned()).or_insert(next);
            if at == next {
                order.push((id, Vec::new()));
            }
            if let Some((_, holders)) = order.get_mut(at) {
                holders.push(item);
            }
        }
    }
    let base = destination.endpoint.api_base_url.as_str();
    let mut follow_up = Vec::new();
    for chunk in order.chunks(defender::BATCH_MAX) {
        let mut carried = vec![false; n];
        for item in chunk.iter().flat_map(|(_, holders)| holders) {
            if let Some(c) = carried.get_mut(*item) {
                *c = true;
            }
        }
        let ids: Vec<&str> = chunk.iter().map(|(id, _)| *id).collect();
        let items = request.items.iter().zip(&carried).filter(|(_, c)| **c).map(|(k, _)| k.clone()).collect();
        let url = format!("{base}/api/indicators/BatchDelete");
        let body = Some(defender::batch_delete_body(&ids));
        let delete =
            new_request(destination, "defender-batch-delete", "POST", url, body, LimitClass::DefenderBatchDelete);
        follow_up.push(child(request, follow_up.len(), delete, items));
    }
    let unmatched: Vec<usize> = matched.iter().enumerate().filter(|(_, ids)| ids.is_empty()).map(|(i, _)| i).collect();
    let read = list.indicators.len();
    let more = read >= defender::LIST_PAGE || list.next_link.is_some();
    let mut items = Vec::new();
    match own_listing_skip(&request.url) {
        Some(skip) if more && read > 0 && !unmatched.is_empty() => {
            // The next page, skipping what was read minus what the `BatchDelete`s above remove
            // (they come before it in the list): right whether or not they run first, and when
            // they do not, the indicators read twice carry no value still looked for.
            let next = (skip + read).saturating_sub(order.len()).max(skip);
            let url = format!("{base}{}", defender::own_indicators_path(&settings.application, next));
            let mut lookup = new_request(destination, "defender-lookup", "GET", url, None, LimitClass::DefenderRead);
            lookup.values = unmatched.iter().filter_map(|&i| values.get(i).cloned()).collect();
            let keys = unmatched.iter().filter_map(|&i| request.items.get(i).cloned()).collect();
            follow_up.push(child(request, follow_up.len(), lookup, keys));
        }
        _ => {
            // Nothing of ours carries these values: the removal's end state already holds.
            items = unmatched
                .iter()
                .filter_map(|&i| request.items.get(i))
                .map(|key| ItemOutcome { key: key.as_str().to_owned(), outcome: Outcome::Accepted })
                .collect();
        }
    }
    Ok(Interpretation { items, retry_after_ms: None, resend: None, follow_up })
}

/// The `$skip` of a listing of our own indicators ([`defender::own_indicators_path`]); `None` for a
/// lookup by value.
fn own_listing_skip(url: &str) -> Option<usize> {
    let (_, query) = url.split_once("?$filter=application+eq+")?;
    let top = query.find("&$top=")?;
    let skip = query.get(top..)?.split_once("&$skip=").map_or("0", |(_, rest)| rest);
    let digits = skip.find(|c: char| !c.is_ascii_digit()).map_or(skip, |end| skip.get(..end).unwrap_or(""));
    digits.parse().ok()
}

fn outcome_wait(outcome: &Outcome) -> Option<u64> {
    match outcome {
        Outcome::Retry { after_ms, .. } => *after_ms,
        _ => None,
    }
}

/// The `indicatorValue`s of an import body, in order.
fn import_values(body: &str) -> Vec<String> {
    let arena = crate::json::Arena::new();
    let Ok(value) = crate::json::Value::parse(body, &arena) else { return Vec::new() };
    match value.get("Indicators") {
        Some(crate::json::Value::Array(list)) => {
            list.iter().map(|i| i.get_str("indicatorValue").unwrap_or_default().to_owned()).collect()
        }
        _ => Vec::new(),
    }
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
