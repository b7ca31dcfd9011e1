//! The policy: parsed per level into a [`PolicyPatch`], merged key by key, then defaulted and
//! checked against one destination's type.

use std::collections::BTreeMap;

use serde::Serialize;

use super::DestinationType;
use super::parse::{Cx, Fields, integer, list, one_of, unknown_key};
use crate::error::quote;
use crate::json::{Value, expected, join_index};
use crate::model::{ObservableType, Tlp};
use crate::time::Timestamp;

/// The effective policy of one destination (SPEC §5).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Policy {
    /// The observable types relayed.
    pub types: Vec<ObservableType>,
    /// Minimum score (0–100).
    pub min_score: Option<u8>,
    /// Minimum confidence (0–100).
    pub min_confidence: Option<u8>,
    /// Minimum threat rating (0–5).
    pub min_threat_rating: Option<f64>,
    /// Maximum false-positive count.
    pub max_false_positives: Option<u32>,
    /// Keep an indicator carrying any of these tags (empty: no filter).
    pub tags_any: Vec<String>,
    /// Drop an indicator carrying any of these tags.
    pub tags_none: Vec<String>,
    /// Owners allowed, highest priority first (empty: any owner).
    pub owners: Vec<String>,
    /// Whether OpenCTI's `detection` must be true.
    pub require_detection: bool,
    /// Only indicators modified at or after this instant.
    pub modified_since: Option<Timestamp>,
    /// The most restricted TLP that may leave.
    pub tlp_ceiling: Tlp,
    /// The TLP of an indicator that has none.
    pub tlp_default: Option<Tlp>,
    /// The TLP written into the target instead of the indicator's.
    pub tlp_override: Option<Tlp>,
    /// Action rules, first match wins (empty for Sentinel).
    pub action: Vec<ActionRule>,
    /// Severity rules, first match wins (empty for Sentinel).
    pub severity: Vec<SeverityRule>,
    /// Expiry.
    pub expiry: Expiry,
    /// Whether duplicates of (type, value) in one payload collapse to one.
    pub dedup: bool,
    /// Plan, send nothing.
    pub dry_run: bool,
}

impl Policy {
    /// The first action rule matching `score` (a rule with a `min_score` needs a score).
    pub fn action_for(&self, score: Option<u8>) -> Option<&ActionRule> {
        self.action.iter().find(|r| matches(r.min_score, score))
    }

    /// The first severity rule matching `score`.
    pub fn severity_for(&self, score: Option<u8>) -> Option<Severity> {
        self.severity.iter().find(|r| matches(r.min_score, score)).map(|r| r.severity)
    }
}

fn matches(min: Option<u8>, score: Option<u8>) -> bool {
    match (min, score) {
        (None, _) => true,
        (Some(min), Some(score)) => score >= min,
        (Some(_), None) => false,
    }
}

/// `score >= min_score → action` (no `min_score`: every score).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ActionRule {
    /// The lowest score this rule matches.
    pub min_score: Option<u8>,
    /// The action written.
    pub action: IndicatorAction,
    /// Forces Defender's `generateAlert: true` (set for the legacy `Alert` and `AlertAndBlock`).
    pub generate_alert: bool,
}

/// Defender and Graph actions, serialised as each API spells them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum IndicatorAction {
    /// Defender `Allowed`.
    Allowed,
    /// Defender `Audit`.
    Audit,
    /// Defender `Warn`.
    Warn,
    /// Defender `Block`.
    Block,
    /// Defender `BlockAndRemediate`.
    BlockAndRemediate,
    /// Graph `unknown`.
    #[serde(rename = "unknown")]
    GraphUnknown,
    /// Graph `allow`.
    #[serde(rename = "allow")]
    GraphAllow,
    /// Graph `block`.
    #[serde(rename = "block")]
    GraphBlock,
    /// Graph `alert`.
    #[serde(rename = "alert")]
    GraphAlert,
}

impl IndicatorAction {
    const DEFENDER: [Self; 5] = [Self::Allowed, Self::Audit, Self::Warn, Self::Block, Self::BlockAndRemediate];
    const GRAPH: [Self; 4] = [Self::GraphUnknown, Self::GraphAllow, Self::GraphBlock, Self::GraphAlert];

    /// The API's string.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "Allowed",
            Self::Audit => "Audit",
            Self::Warn => "Warn",
            Self::Block => "Block",
            Self::BlockAndRemediate => "BlockAndRemediate",
            Self::GraphUnknown => "unknown",
            Self::GraphAllow => "allow",
            Self::GraphBlock => "block",
            Self::GraphAlert => "alert",
        }
    }
}

/// `score >= min_score → severity`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct SeverityRule {
    /// The lowest score this rule matches.
    pub min_score: Option<u8>,
    /// The severity written.
    pub severity: Severity,
}

/// A severity: Defender's names or Graph's 0–5 (serialised as the API wants: a string or a number).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Severity {
    /// Defender.
    Defender(DefenderSeverity),
    /// Graph, 0–5.
    Graph(u8),
}

/// Defender severities.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum DefenderSeverity {
    /// `Informational`.
    Informational,
    /// `Low`.
    Low,
    /// `Medium`.
    Medium,
    /// `High`.
    High,
}

impl DefenderSeverity {
    const ALL: [Self; 4] = [Self::Informational, Self::Low, Self::Medium, Self::High];

    /// The API's string.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Informational => "Informational",
            Self::Low => "Low",
            Self::Medium => "Medium",
            Self::High => "High",
        }
    }
}

/// How long an indicator lives when its source gives no `valid_until`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Expiry {
    /// Days for types without an entry.
    pub default_days: u32,
    /// Days per key (a type name, `file`, or `network`).
    pub days: BTreeMap<String, u32>,
    /// Hours per key.
    pub hours: BTreeMap<String, u32>,
    /// The longest lifetime, also for a source's `valid_until`.
    pub max_days: u32,
}

/// The types `network` stands for in `expiry`.
pub const NETWORK_TYPES: [ObservableType; 5] =
    [ObservableType::Ipv4, ObservableType::Ipv6, ObservableType::Cidr, ObservableType::Domain, ObservableType::Url];

impl Expiry {
    /// The lifetime of a `kind` indicator in milliseconds: its own entry, else `network`'s for a
    /// network type, else `default_days`; never more than `max_days`.
    pub fn lifetime_millis(&self, kind: ObservableType) -> i64 {
        const HOUR: i64 = 3_600_000;
        let entry = |key: &str| {
            self.hours
                .get(key)
                .map(|h| i64::from(*h) * HOUR)
                .or_else(|| self.days.get(key).map(|d| i64::from(*d) * 24 * HOUR))
        };
        let chosen = entry(kind.as_str())
            .or_else(|| if NETWORK_TYPES.contains(&kind) { entry("network") } else { None })
            .unwrap_or(i64::from(self.default_days) * 24 * HOUR);
        chosen.min(i64::from(self.max_days) * 24 * HOUR)
    }
}

// ---- per-level patches --------------------------------------------------------------------------

/// A key of one policy level: absent, present but invalid (already reported), or set.
#[derive(Clone, Debug, Default)]
pub(super) enum Slot<T> {
    #[default]
    Absent,
    Invalid,
    Set(T, String),
}

impl<T> Slot<T> {
    fn from(value: Option<T>, path: String) -> Self {
        value.map_or(Self::Invalid, |v| Self::Set(v, path))
    }

    fn present(&self) -> bool {
        !matches!(self, Self::Absent)
    }

    /// The value and its path (`None` when absent or invalid).
    fn get(&self) -> Option<(&T, &str)> {
        match self {
            Self::Set(v, p) => Some((v, p)),
            _ => None,
        }
    }
}

/// The destination's slot if present, else the top-level one; and whether it came from the top.
fn pick<'s, T>(own: &'s Slot<T>, top: &'s Slot<T>) -> (&'s Slot<T>, bool) {
    if own.present() { (own, false) } else { (top, true) }
}

#[derive(Clone, Debug)]
pub(super) struct RawRule<V> {
    min_score: Option<u8>,
    value: V,
    /// Where `value` was written.
    path: String,
}

#[derive(Clone, Debug)]
pub(super) enum RawSeverity {
    Name(String),
    Number(i64),
}

#[derive(Clone, Debug, Default)]
pub(super) struct ExpiryPatch {
    default_days: Slot<u32>,
    max_days: Slot<u32>,
    /// `(key, value, is_hours, path)`.
    entries: Vec<(String, u32, bool, String)>,
}

/// One level's policy, as written.
#[derive(Clone, Debug, Default)]
pub(super) struct PolicyPatch {
    types: Slot<Vec<(ObservableType, String)>>,
    min_score: Slot<u8>,
    min_confidence: Slot<u8>,
    min_threat_rating: Slot<f64>,
    max_false_positives: Slot<u32>,
    tags_any: Slot<Vec<String>>,
    tags_none: Slot<Vec<String>>,
    owners: Slot<Vec<String>>,
    require_detection: Slot<bool>,
    modified_since: Slot<Timestamp>,
    tlp_ceiling: Slot<Tlp>,
    tlp_default: Slot<Option<Tlp>>,
    tlp_override: Slot<Option<Tlp>>,
    action: Slot<Vec<RawRule<String>>>,
    severity: Slot<Vec<RawRule<RawSeverity>>>,
    expiry: ExpiryPatch,
    dedup: Slot<bool>,
    dry_run: Slot<bool>,
}

const POLICY_KEYS: &[&str] = &[
    "types",
    "min_score",
    "min_confidence",
    "min_threat_rating",
    "max_false_positives",
    "tags_any",
    "tags_none",
    "owners",
    "require_detection",
    "modified_since",
    "tlp_ceiling",
    "tlp_default",
    "tlp_override",
    "action",
    "severity",
    "expiry",
    "dedup",
    "dry_run",
];

/// Reads one level's `policy` object.
pub(super) fn patch(cx: &mut Cx, p: &Fields<'_, '_>) -> PolicyPatch {
    p.check_keys(cx, POLICY_KEYS);
    let mut out = PolicyPatch::default();
    let slot = |key: &str| p.get(key).is_some();

    if slot("types") {
        out.types = Slot::from(types(cx, p), p.key("types"));
    }
    let score = |cx: &mut Cx, key: &str| p.int(cx, key, 0, 100).and_then(|n| u8::try_from(n).ok());
    if slot("min_score") {
        out.min_score = Slot::from(score(cx, "min_score"), p.key("min_score"));
    }
    if slot("min_confidence") {
        out.min_confidence = Slot::from(score(cx, "min_confidence"), p.key("min_confidence"));
    }
    if let Some(v) = p.get("min_threat_rating") {
        let rating = match v {
            Value::Number(n) if (0.0..=5.0).contains(&n.as_f64()) => Some(n.as_f64()),
            Value::Number(n) => {
                cx.err(p.key("min_threat_rating"), format!("expected a number from 0 to 5, found `{n}`"));
                None
            }
            other => {
                cx.err(p.key("min_threat_rating"), expected("a number from 0 to 5", other).message());
                None
            }
        };
        out.min_threat_rating = Slot::from(rating, p.key("min_threat_rating"));
    }
    if slot("max_false_positives") {
        let n = p.int(cx, "max_false_positives", 0, i64::from(u32::MAX)).and_then(|n| u32::try_from(n).ok());
        out.max_false_positives = Slot::from(n, p.key("max_false_positives"));
    }
    for (key, target) in
        [("tags_any", &mut out.tags_any), ("tags_none", &mut out.tags_none), ("owners", &mut out.owners)]
    {
        if slot(key) {
            *target = Slot::from(p.strings(cx, key).map(|v| v.into_iter().map(|(s, _)| s).collect()), p.key(key));
        }
    }
    for (key, target) in
        [("require_detection", &mut out.require_detection), ("dedup", &mut out.dedup), ("dry_run", &mut out.dry_run)]
    {
        if slot(key) {
            *target = Slot::from(p.bool(cx, key), p.key(key));
        }
    }
    if let Some(text) = p.str(cx, "modified_since") {
        let parsed = Timestamp::parse(text).map_err(|e| cx.err(p.key("modified_since"), e.message())).ok();
        out.modified_since = Slot::from(parsed, p.key("modified_since"));
    } else if slot("modified_since") {
        out.modified_since = Slot::Invalid;
    }
    if slot("tlp_ceiling") {
        out.tlp_ceiling = Slot::from(tlp(cx, p, "tlp_ceiling"), p.key("tlp_ceiling"));
    }
    // `null` is meaningful here: a destination clears a top-level default or override.
    for (key, target) in [("tlp_default", &mut out.tlp_default), ("tlp_override", &mut out.tlp_override)] {
        match p.raw(key) {
            None => {}
            Some(Value::Null) => *target = Slot::Set(None, p.key(key)),
            Some(_) => *target = Slot::from(tlp(cx, p, key).map(Some), p.key(key)),
        }
    }
    if let Some(v) = p.get("action") {
        out.action = Slot::from(action_rules(cx, v, p.key("action")), p.key("action"));
    }
    if let Some(v) = p.get("severity") {
        out.severity = Slot::from(severity_rules(cx, v, p.key("severity")), p.key("severity"));
    }
    if let Some(v) = p.get("expiry")
        && let Some(e) = Fields::of(cx, v, p.key("expiry"))
    {
        out.expiry = expiry(cx, &e);
    }
    out
}

fn types(cx: &mut Cx, p: &Fields<'_, '_>) -> Option<Vec<(ObservableType, String)>> {
    let names: Vec<&str> = ObservableType::ALL.iter().map(|t| t.as_str()).collect();
    let items = p.strings(cx, "types")?;
    if items.is_empty() {
        cx.err(
            p.key("types"),
            "`types` is empty and would select nothing: list types, or remove `types` to take every type",
        );
        return None;
    }
    let mut out = Vec::with_capacity(items.len());
    let mut ok = true;
    for (name, path) in items {
        if let Some(t) = ObservableType::from_name(&name) {
            out.push((t, path));
        } else {
            cx.err(path, one_of("observable type", &name, &names));
            ok = false;
        }
    }
    ok.then_some(out)
}

fn tlp(cx: &mut Cx, p: &Fields<'_, '_>, key: &str) -> Option<Tlp> {
    let name = p.str(cx, key)?;
    let tlp = Tlp::from_name(name);
    if tlp.is_none() {
        cx.err(
            p.key(key),
            format!(
                "invalid TLP {}: expected `clear` (or `white`), `green`, `amber`, `amber+strict` or `red`",
                quote(name)
            ),
        );
    }
    tlp
}

/// Reads `"Name"` or `[{"min_score"?, "<value_key>"}]`; checks a catch-all rule is last.
fn rules<V>(
    cx: &mut Cx,
    value: &Value<'_>,
    path: String,
    value_key: &str,
    allow_fixed: bool,
    read: impl Fn(&mut Cx, &Value<'_>, String) -> Option<V>,
) -> Option<Vec<RawRule<V>>> {
    let items = match value {
        Value::Array(items) => items,
        Value::String(_) if allow_fixed => {
            return read(cx, value, path.clone()).map(|v| vec![RawRule { min_score: None, value: v, path }]);
        }
        other => {
            let what = if allow_fixed { "an action name or an array of rules" } else { "an array of rules" };
            cx.err(path, expected(what, other).message());
            return None;
        }
    };
    if items.is_empty() {
        cx.err(
            path,
            format!("no rules: add at least one, e.g. `{{\"{value_key}\": …}}`, or remove the key for the default"),
        );
        return None;
    }
    let mut out = Vec::with_capacity(items.len());
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let Some(rule) = Fields::of(cx, item, join_index(&path, i)) else {
            ok = false;
            continue;
        };
        rule.check_keys(cx, &["min_score", value_key]);
        let min_score =
            rule.get("min_score").map(|_| rule.int(cx, "min_score", 0, 100).and_then(|n| u8::try_from(n).ok()));
        if matches!(min_score, Some(None)) {
            ok = false;
        }
        let read_value = match rule.get(value_key) {
            None => {
                cx.err(rule.key(value_key), format!("missing key `{value_key}`: every rule names its `{value_key}`"));
                None
            }
            Some(v) => read(cx, v, rule.key(value_key)),
        };
        if min_score.is_none() && i + 1 < items.len() {
            cx.err(
                rule.path.clone(),
                "a rule without `min_score` matches every score, so the rules after it never apply: move it last or give it a `min_score`",
            );
            ok = false;
        }
        match read_value {
            Some(v) => out.push(RawRule { min_score: min_score.flatten(), value: v, path: rule.key(value_key) }),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn action_rules(cx: &mut Cx, value: &Value<'_>, path: String) -> Option<Vec<RawRule<String>>> {
    rules(cx, value, path, "action", true, |cx, v, path| match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        other => {
            cx.err(path, expected("an action name", other).message());
            None
        }
    })
}

fn severity_rules(cx: &mut Cx, value: &Value<'_>, path: String) -> Option<Vec<RawRule<RawSeverity>>> {
    rules(cx, value, path, "severity", false, |cx, v, path| match v {
        Value::String(s) => Some(RawSeverity::Name(s.trim().to_owned())),
        Value::Number(_) => integer(cx, v, path, 0, 5).map(RawSeverity::Number),
        other => {
            cx.err(path, expected("a severity name or an integer from 0 to 5", other).message());
            None
        }
    })
}

const EXPIRY_KEYS: &[&str] = &["default_days", "days", "hours", "max_days"];
const MAX_EXPIRY_DAYS: i64 = 36_500;

fn expiry(cx: &mut Cx, e: &Fields<'_, '_>) -> ExpiryPatch {
    e.check_keys(cx, EXPIRY_KEYS);
    let mut out = ExpiryPatch::default();
    for (key, target) in [("default_days", &mut out.default_days), ("max_days", &mut out.max_days)] {
        if e.get(key).is_some() {
            *target = Slot::from(e.int(cx, key, 1, MAX_EXPIRY_DAYS).and_then(|n| u32::try_from(n).ok()), e.key(key));
        }
    }
    let mut keys: Vec<&str> = ObservableType::ALL.iter().map(|t| t.as_str()).collect();
    keys.push("network");
    for (map_key, hours) in [("days", false), ("hours", true)] {
        let Some(v) = e.get(map_key) else { continue };
        let Some(map) = Fields::of(cx, v, e.key(map_key)) else { continue };
        let max = if hours { MAX_EXPIRY_DAYS * 24 } else { MAX_EXPIRY_DAYS };
        for (key, value) in map.iter() {
            let path = map.key(key);
            if !keys.contains(&key) {
                cx.err(path, unknown_key(key, &keys));
                continue;
            }
            if let Some(n) = integer(cx, value, path.clone(), 1, max).and_then(|n| u32::try_from(n).ok()) {
                if let Some((_, _, _, other)) = out.entries.iter().find(|(k, _, _, _)| k == key) {
                    let (first, second) = if hours { ("days", "hours") } else { ("hours", "days") };
                    cx.err(path, format!("`{key}` is in both `{first}` and `{second}` (also at `{other}`): keep one"));
                    continue;
                }
                out.entries.push((key.to_owned(), n, hours, path));
            }
        }
    }
    out
}

// ---- merging and defaults -------------------------------------------------------------------------

const DEFENDER_TYPES: [ObservableType; 6] = [
    ObservableType::Ipv4,
    ObservableType::Ipv6,
    ObservableType::Domain,
    ObservableType::Url,
    ObservableType::File,
    ObservableType::Certificate,
];
const GRAPH_TYPES: [ObservableType; 7] = [
    ObservableType::Ipv4,
    ObservableType::Ipv6,
    ObservableType::Cidr,
    ObservableType::Domain,
    ObservableType::Url,
    ObservableType::File,
    ObservableType::Email,
];

/// The observable types a destination type can take.
pub fn supported_types(kind: DestinationType) -> &'static [ObservableType] {
    match kind {
        DestinationType::Sentinel => &ObservableType::ALL,
        DestinationType::Defender => &DEFENDER_TYPES,
        DestinationType::Graph => &GRAPH_TYPES,
    }
}

fn default_actions(kind: DestinationType) -> Vec<ActionRule> {
    let rule = |min_score, action| ActionRule { min_score, action, generate_alert: false };
    match kind {
        DestinationType::Sentinel => Vec::new(),
        DestinationType::Defender => vec![rule(None, IndicatorAction::Audit)],
        DestinationType::Graph => vec![
            rule(Some(50), IndicatorAction::GraphBlock),
            rule(Some(1), IndicatorAction::GraphAlert),
            rule(None, IndicatorAction::GraphAllow),
        ],
    }
}

fn default_severities(kind: DestinationType) -> Vec<SeverityRule> {
    let d = |min_score, s| SeverityRule { min_score, severity: Severity::Defender(s) };
    let g = |min_score, n| SeverityRule { min_score, severity: Severity::Graph(n) };
    match kind {
        DestinationType::Sentinel => Vec::new(),
        DestinationType::Defender => vec![
            d(Some(60), DefenderSeverity::High),
            d(Some(40), DefenderSeverity::Medium),
            d(Some(20), DefenderSeverity::Low),
            d(None, DefenderSeverity::Informational),
        ],
        DestinationType::Graph => {
            vec![g(Some(70), 5), g(Some(50), 4), g(Some(30), 3), g(Some(10), 2), g(Some(1), 1), g(None, 0)]
        }
    }
}

/// Where a top-level value does not suit one destination: the hint that ends the message.
fn from_top_hint(from_top: bool, key: &str, destination: &str) -> String {
    if from_top { format!(", or set `{key}` in the `policy` of destination `{destination}`") } else { String::new() }
}

/// The effective policy of a `kind` destination named `name`: `own` over `top`, defaulted.
#[allow(clippy::too_many_lines)] // one key after another
pub(super) fn resolve(
    cx: &mut Cx,
    kind: DestinationType,
    name: &str,
    top: &PolicyPatch,
    own: &PolicyPatch,
) -> Option<Policy> {
    fn value<T: Clone>(own: &Slot<T>, top: &Slot<T>) -> Option<T> {
        pick(own, top).0.get().map(|(v, _)| v.clone())
    }
    let mut ok = true;

    // Types.
    let supported = supported_types(kind);
    let (slot, from_top) = pick(&own.types, &top.types);
    let types = match slot.get() {
        None => supported.to_vec(),
        Some((list, _)) => {
            let mut out = Vec::with_capacity(list.len());
            for (t, path) in list {
                if !supported.contains(t) {
                    cx.err(
                        path.clone(),
                        format!(
                            "{kind} cannot take `{t}` indicators: remove it from `types`{}",
                            from_top_hint(from_top, "types", name)
                        ),
                    );
                    ok = false;
                } else if !out.contains(t) {
                    out.push(*t);
                }
            }
            out
        }
    };

    // Action.
    let (slot, from_top) = pick(&own.action, &top.action);
    let action = match (kind, slot.get()) {
        (_, None) => default_actions(kind),
        (DestinationType::Sentinel, Some((_, path))) => {
            if !from_top {
                cx.err(path.to_owned(), "sentinel has no action: remove `action` from this destination's `policy`");
                ok = false;
            }
            Vec::new()
        }
        (_, Some((rules, _))) => {
            let mut out = Vec::with_capacity(rules.len());
            for rule in rules {
                if let Some((action, generate_alert)) = action_named(kind, &rule.value) {
                    out.push(ActionRule { min_score: rule.min_score, action, generate_alert });
                } else {
                    let valid: Vec<&str> = if kind == DestinationType::Graph {
                        IndicatorAction::GRAPH.iter().map(|a| a.as_str()).collect()
                    } else {
                        IndicatorAction::DEFENDER.iter().map(|a| a.as_str()).collect()
                    };
                    cx.err(
                        rule.path.clone(),
                        format!(
                            "{} is not a {kind} action: use one of {}{}",
                            quote(&rule.value),
                            list(&valid),
                            from_top_hint(from_top, "action", name)
                        ),
                    );
                    ok = false;
                }
            }
            out
        }
    };

    // Severity.
    let (slot, from_top) = pick(&own.severity, &top.severity);
    let severity = match (kind, slot.get()) {
        (_, None) => default_severities(kind),
        (DestinationType::Sentinel, Some((_, path))) => {
            if !from_top {
                cx.err(path.to_owned(), "sentinel has no severity: remove `severity` from this destination's `policy`");
                ok = false;
            }
            Vec::new()
        }
        (_, Some((rules, _))) => {
            let mut out = Vec::with_capacity(rules.len());
            for rule in rules {
                let severity = match (&rule.value, kind) {
                    (RawSeverity::Number(n), DestinationType::Graph) => u8::try_from(*n).ok().map(Severity::Graph),
                    (RawSeverity::Name(s), DestinationType::Defender) => DefenderSeverity::ALL
                        .into_iter()
                        .find(|d| d.as_str().eq_ignore_ascii_case(s))
                        .map(Severity::Defender),
                    _ => None,
                };
                if let Some(severity) = severity {
                    out.push(SeverityRule { min_score: rule.min_score, severity });
                } else {
                    let found = match &rule.value {
                        RawSeverity::Name(s) => quote(s),
                        RawSeverity::Number(n) => format!("`{n}`"),
                    };
                    let valid = if kind == DestinationType::Graph {
                        "an integer from 0 to 5".to_owned()
                    } else {
                        format!("one of {}", list(&DefenderSeverity::ALL.map(DefenderSeverity::as_str)))
                    };
                    cx.err(
                        rule.path.clone(),
                        format!(
                            "{found} is not a {kind} severity: use {valid}{}",
                            from_top_hint(from_top, "severity", name)
                        ),
                    );
                    ok = false;
                }
            }
            out
        }
    };

    // Expiry: `default_days` and `max_days` key by key; a destination's entry for a key replaces
    // the top level's entry for that key, whether in days or hours.
    let mut days = BTreeMap::new();
    let mut hours = BTreeMap::new();
    for (key, n, is_hours, _) in &top.expiry.entries {
        if !own.expiry.entries.iter().any(|(k, ..)| k == key) {
            if *is_hours {
                hours.insert(key.clone(), *n)
            } else {
                days.insert(key.clone(), *n)
            };
        }
    }
    for (key, n, is_hours, _) in &own.expiry.entries {
        if *is_hours {
            hours.insert(key.clone(), *n)
        } else {
            days.insert(key.clone(), *n)
        };
    }
    let (dd_slot, _) = pick(&own.expiry.default_days, &top.expiry.default_days);
    let (md_slot, _) = pick(&own.expiry.max_days, &top.expiry.max_days);
    let max_days = md_slot.get().map_or(365, |(n, _)| *n);
    // The default 30 days gives way to a lower maximum; an explicit `default_days` does not.
    let default_days = dd_slot.get().map_or(30.min(max_days), |(n, _)| *n);
    if default_days > max_days {
        let path = dd_slot.get().map_or_else(String::new, |(_, p)| p.to_owned());
        cx.err(path, format!("`default_days` ({default_days}) is more than `max_days` ({max_days}): lower `default_days` or raise `max_days`"));
        ok = false;
    }

    let policy = Policy {
        types,
        min_score: value(&own.min_score, &top.min_score),
        min_confidence: value(&own.min_confidence, &top.min_confidence),
        min_threat_rating: value(&own.min_threat_rating, &top.min_threat_rating),
        max_false_positives: value(&own.max_false_positives, &top.max_false_positives),
        tags_any: value(&own.tags_any, &top.tags_any).unwrap_or_default(),
        tags_none: value(&own.tags_none, &top.tags_none).unwrap_or_default(),
        owners: value(&own.owners, &top.owners).unwrap_or_default(),
        require_detection: value(&own.require_detection, &top.require_detection).unwrap_or(true),
        modified_since: value(&own.modified_since, &top.modified_since),
        tlp_ceiling: value(&own.tlp_ceiling, &top.tlp_ceiling).unwrap_or(Tlp::Amber),
        tlp_default: value(&own.tlp_default, &top.tlp_default).flatten(),
        tlp_override: value(&own.tlp_override, &top.tlp_override).flatten(),
        action,
        severity,
        expiry: Expiry { default_days, days, hours, max_days },
        dedup: value(&own.dedup, &top.dedup).unwrap_or(true),
        dry_run: value(&own.dry_run, &top.dry_run).unwrap_or(false),
    };
    ok.then_some(policy)
}

/// An action name for `kind` (ignoring case), and whether it forces `generateAlert` (legacy names).
fn action_named(kind: DestinationType, name: &str) -> Option<(IndicatorAction, bool)> {
    let find = |set: &[IndicatorAction]| set.iter().copied().find(|a| a.as_str().eq_ignore_ascii_case(name));
    match kind {
        DestinationType::Sentinel => None,
        DestinationType::Defender => find(&IndicatorAction::DEFENDER).map(|a| (a, false)).or_else(|| {
            if name.eq_ignore_ascii_case("Alert") {
                Some((IndicatorAction::Audit, true))
            } else if name.eq_ignore_ascii_case("AlertAndBlock") {
                Some((IndicatorAction::Block, true))
            } else {
                None
            }
        }),
        DestinationType::Graph => find(&IndicatorAction::GRAPH).map(|a| (a, false)),
    }
}
