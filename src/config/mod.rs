//! The relay's configuration: one JSON document, validated with every problem reported.
//!
//! [`parse`] turns the text into a [`Config`] of typed, defaulted and merged values, or into
//! [`ConfigErrors`]: every problem at once, each with its JSON path
//! (`destinations[1].defender.quota_reserve`) and a lowercase sentence that says how to fix it, the
//! offending input in backticks. Unknown keys are errors (a typo must not silently disable a filter)
//! and suggest the closest known key. Malformed JSON is one error at path `$`. A credential is only
//! ever a *name*; a value that looks like a real secret is refused and never echoed.
//!
//! Each [`Destination`] carries its effective [`Policy`] (the top-level `policy` merged key by key with
//! the destination's own `policy`, then defaulted for its type) and its resolved [`Endpoint`] (from the
//! [`Cloud`] profile or the overrides).
//!
//! # Reference
//!
//! Top level:
//!
//! | key | type | default | example |
//! |---|---|---|---|
//! | `source_system` | string; not `Microsoft Sentinel` (any case) | `"ti-relay"` | `"ti-relay"` |
//! | `policy` | [policy](#policy) object | all defaults | `{"min_score": 50}` |
//! | `destinations` | array of 1–64 [destinations](#destination) | required | `[{...}]` |
//!
//! ## Destination
//!
//! | key | type | default | example |
//! |---|---|---|---|
//! | `name` | string, 1–64 of `[A-Za-z0-9._-]`, unique | required | `"sentinel-prod"` |
//! | `type` | `"sentinel"` \| `"defender"` \| `"graph"` | required | `"defender"` |
//! | `enabled` | boolean | `true` | `false` |
//! | `tenant` | GUID or domain name | required | `"contoso.onmicrosoft.com"` |
//! | `client_id` | GUID | required unless `credential` is `{"managed_identity": true}` | `"00000000-0000-0000-0000-000000000000"` |
//! | `credential` | exactly one of `{"secret": name}`, `{"certificate": name}`, `{"managed_identity": true}`, `{"managed_identity": {"client_id": GUID}}`; a name is 1–128 of `[A-Za-z0-9._-]` | required | `{"secret": "SENTINEL_CLIENT_SECRET"}` |
//! | `cloud` | `global` \| `usgov` \| `usgov-high` \| `dod` \| `china`; the API must exist there | `"global"` | `"usgov-high"` |
//! | `login_host` | host name (no scheme, no path); not with `login_base_url` | the cloud's | `"login.microsoftonline.us"` |
//! | `login_base_url` | `https://` URL (or `http://` on a loopback host) without a trailing slash, query or fragment; not with `login_host` | `https://<login_host>` | `"http://127.0.0.1:8788"` |
//! | `api_base_url` | `https://` URL (or `http://` on a loopback host: `127.0.0.1`, `localhost`, `[::1]`) without a trailing slash, query or fragment | the cloud's (legacy Sentinel: `https://sentinelus.azure-api.net`) | `"https://api-eu.securitycenter.microsoft.com"` |
//! | `sentinel` | [sentinel settings](#sentinel); required for type `sentinel`, forbidden otherwise | — | `{"workspace_id": "…"}` |
//! | `defender` | [defender settings](#defender); only for type `defender` | all defaults | `{"quota_reserve": 500}` |
//! | `graph` | [graph settings](#graph); only for type `graph` | all defaults | `{"passive_only": true}` |
//! | `policy` | [policy](#policy) overrides, merged key by key over the top-level `policy` | none | `{"action": "Block"}` |
//!
//! ## Sentinel
//!
//! | key | type | default | example |
//! |---|---|---|---|
//! | `workspace_id` | GUID | required | `"11111111-2222-3333-4444-555555555555"` |
//! | `api` | `"stix-objects"` \| `"legacy"` | `"stix-objects"` | `"legacy"` |
//! | `legacy_generation` | `"v1"` \| `"v2"`; only with `api: "legacy"` | `"v2"` (legacy only) | `"v1"` |
//! | `split_patterns` | boolean | `true` | `false` |
//! | `source_system` | string; not `Microsoft Sentinel`; overrides the top-level one | top-level `source_system` | `"opencti"` |
//!
//! ## Defender
//!
//! | key | type | default | example |
//! |---|---|---|---|
//! | `application` | string, 1–128 characters | `"ti-relay"` | `"ti-relay-prod"` |
//! | `rbac_group_names` | array of non-empty strings | `[]` | `["Tier 1"]` |
//! | `quota_reserve` | integer 0–15000 (the tenant cap is 15,000) | `0` | `1000` |
//! | `generate_alert` | boolean | `true` | `false` |
//! | `educate_url` | `https://` URL | none | `"https://intranet/phishing"` |
//! | `recommended_actions` | non-empty string | none | `"Isolate the device"` |
//!
//! ## Graph
//!
//! | key | type | default | example |
//! |---|---|---|---|
//! | `target_product` | `"Azure Sentinel"` \| `"Microsoft Defender ATP"` (`"Microsoft Sentinel"` is refused by the API) | `"Azure Sentinel"` | `"Microsoft Defender ATP"` |
//! | `passive_only` | boolean | `false` | `true` |
//! | `resource_path` | path starting with `/`, no trailing slash | `"/beta/security/tiIndicators"` | `"/beta/security/tiIndicators"` |
//!
//! ## Policy
//!
//! Every key is optional, at the top level and in each destination. A destination's key replaces the
//! top-level one (`expiry` is merged one level deeper: `default_days`, `max_days`, and each entry of
//! `days`/`hours`). Where a merged value does not suit a destination (a type it cannot take, an action or
//! severity it does not know), the error is reported at the key that supplied it.
//!
//! | key | type | default | example |
//! |---|---|---|---|
//! | `types` | array of observable type names (`ipv4`, `ipv6`, `cidr`, `domain`, `url`, `file`, `email`, `email-subject`, `asn`, `registry-key`, `certificate`), each one the destination can take | sentinel: all; defender: `ipv4 ipv6 domain url file certificate`; graph: `ipv4 ipv6 cidr domain url file email` | `["ipv4", "domain"]` |
//! | `min_score` | integer 0–100 | none | `50` |
//! | `min_confidence` | integer 0–100 | none | `60` |
//! | `min_threat_rating` | number 0–5 | none | `3` |
//! | `max_false_positives` | integer ≥ 0 | none | `2` |
//! | `tags_any` | array of non-empty strings (keep an indicator with any of them) | `[]` (no filter) | `["apt"]` |
//! | `tags_none` | array of non-empty strings (drop an indicator with any of them) | `[]` | `["benign"]` |
//! | `owners` | array of non-empty strings, highest priority first | `[]` (any owner) | `["CERT", "Vendor"]` |
//! | `require_detection` | boolean | `true` | `false` |
//! | `modified_since` | RFC 3339 timestamp | none | `"2024-01-01T00:00:00Z"` |
//! | `tlp_ceiling` | TLP name (`clear`/`white`, `green`, `amber`, `amber+strict`, `red`) | `"amber"` | `"red"` |
//! | `tlp_default` | TLP name or `null` (the TLP of an indicator without one) | `null` | `"green"` |
//! | `tlp_override` | TLP name or `null` (the TLP written into the target) | `null` | `"amber"` |
//! | `action` | an action name, or an array of rules `{"min_score"?: 0–100, "action": name}`, the first match wins; a rule without `min_score` matches all and must be last. Defender: `Allowed`, `Audit`, `Warn`, `Block`, `BlockAndRemediate` (legacy `Alert` → `Audit` and `AlertAndBlock` → `Block`, both with `generate_alert`); Graph: `unknown`, `allow`, `block`, `alert`; Sentinel has no action (an error in a sentinel destination's `policy`, ignored at the top level) | defender: `Audit`; graph: ≥50 `block`, ≥1 `alert`, else `allow` | `[{"min_score": 80, "action": "Block"}, {"action": "Audit"}]` |
//! | `severity` | array of rules `{"min_score"?: 0–100, "severity": value}`, as for `action`. Defender: `Informational`, `Low`, `Medium`, `High`; Graph: integer 0–5; Sentinel has no severity (as for `action`) | defender: ≥60 `High`, ≥40 `Medium`, ≥20 `Low`, else `Informational`; graph: ≥70 5, ≥50 4, ≥30 3, ≥10 2, ≥1 1, else 0 | `[{"min_score": 75, "severity": "High"}, {"severity": "Low"}]` |
//! | `expiry` | `{"default_days": n, "days": {key: n}, "hours": {key: n}, "max_days": n}`, positive integers; a key is a type name, `file` or `network` (`ipv4 ipv6 cidr domain url`); one key may not be in both `days` and `hours`; `default_days` ≤ `max_days` | `{"default_days": 30, "days": {}, "hours": {}, "max_days": 365}` | `{"days": {"file": 90, "network": 14}}` |
//! | `dedup` | boolean | `true` | `false` |
//! | `dry_run` | boolean | `false` | `true` |
//!
//! Action and severity names are matched ignoring case and written canonically.

mod parse;
mod policy;
#[cfg(test)]
mod tests;

use std::fmt;

use serde::Serialize;

use crate::cloud::{Api, Cloud};

pub use policy::{
    ActionRule, DefenderSeverity, Expiry, IndicatorAction, NETWORK_TYPES, Policy, Severity, SeverityRule,
    supported_types,
};

/// The default `source_system` (Sentinel's `sourcesystem`) and Defender `application`.
pub const DEFAULT_SOURCE_SYSTEM: &str = "ti-relay";
/// The most destinations one config may hold.
pub const MAX_DESTINATIONS: usize = 64;
/// Defender's cap on active indicators per tenant.
pub const DEFENDER_TENANT_CAP: u32 = 15_000;

/// Parses and validates a configuration document, reporting every problem.
pub fn parse(text: &str) -> Result<Config, ConfigErrors> {
    parse::parse(text)
}

/// Parses an already-parsed JSON value (what a JS host hands over), exactly as [`parse`] would its text.
pub fn from_value(value: &serde_json::Value) -> Result<Config, ConfigErrors> {
    parse::parse(&value.to_string())
}

/// Every problem of a configuration, as a list (empty when the config is valid).
pub fn validate(text: &str) -> Vec<ConfigError> {
    parse(text).err().map(|e| e.errors).unwrap_or_default()
}

/// A validated configuration.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Config {
    /// The top-level `source_system`.
    pub source_system: String,
    /// The destinations, in document order.
    pub destinations: Vec<Destination>,
}

impl Config {
    /// The destination named `name`.
    pub fn destination(&self, name: &str) -> Option<&Destination> {
        self.destinations.iter().find(|d| d.name == name)
    }
}

/// One destination, with its effective policy and endpoint.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Destination {
    /// The unique name (used as `destination` in plans).
    pub name: String,
    /// The destination's API.
    #[serde(rename = "type")]
    pub kind: DestinationType,
    /// Whether the destination receives anything.
    pub enabled: bool,
    /// The tenant: a GUID or a domain name.
    pub tenant: String,
    /// The app registration's client id (absent for a system-assigned managed identity).
    pub client_id: Option<String>,
    /// How the shell gets a token: a secret's or certificate's *name*, or a managed identity.
    pub credential: Credential,
    /// The Microsoft cloud.
    pub cloud: Cloud,
    /// Where to log in and what to call.
    pub endpoint: Endpoint,
    /// The type-specific settings.
    pub settings: Settings,
    /// The effective policy: top-level merged with the destination's overrides, defaulted.
    pub policy: Policy,
}

/// The destination types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DestinationType {
    /// Microsoft Sentinel threat-intelligence upload.
    Sentinel,
    /// Defender for Endpoint indicators.
    Defender,
    /// Graph `tiIndicators` (beta).
    Graph,
}

impl DestinationType {
    /// Every type.
    pub const ALL: [Self; 3] = [Self::Sentinel, Self::Defender, Self::Graph];

    /// The configuration name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sentinel => "sentinel",
            Self::Defender => "defender",
            Self::Graph => "graph",
        }
    }

    /// Parses a configuration name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// The cloud API this type talks to.
    pub const fn api(self) -> Api {
        match self {
            Self::Sentinel => Api::Sentinel,
            Self::Defender => Api::Defender,
            Self::Graph => Api::Graph,
        }
    }
}

impl fmt::Display for DestinationType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A credential reference: never a secret itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Credential {
    /// The name of the secret binding or environment variable holding the client secret.
    Secret(String),
    /// The name of the secret binding holding the certificate.
    Certificate(String),
    /// A managed identity: system-assigned (`None`) or user-assigned (its client id).
    ManagedIdentity {
        /// The user-assigned identity's client id.
        client_id: Option<String>,
    },
}

/// Where a destination logs in and what it calls.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    /// The Entra ID login host (with its port, if `login_base_url` gave one).
    pub login_host: String,
    /// The login base URL without a trailing slash: `https://<login_host>`, or the destination's
    /// `login_base_url` (a local emulator's `http://127.0.0.1:8788`).
    pub login_base_url: String,
    /// `<login_base_url>/<tenant>/oauth2/v2.0/token`: where the host gets a client-credentials token.
    pub token_url: String,
    /// The API base URL, without a trailing slash (for the legacy Sentinel API, its own host
    /// `https://sentinelus.azure-api.net` unless `api_base_url` is set).
    pub api_base_url: String,
    /// The client-credentials scope (`<resource>/.default`).
    pub scope: String,
    /// The token audience as the managed-identity endpoint wants it.
    pub resource: String,
}

/// The type-specific settings of a destination.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Settings {
    /// For `sentinel`.
    Sentinel(SentinelSettings),
    /// For `defender`.
    Defender(DefenderSettings),
    /// For `graph`.
    Graph(GraphSettings),
}

/// Sentinel settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SentinelSettings {
    /// The Log Analytics workspace id.
    pub workspace_id: String,
    /// Which upload API.
    pub api: SentinelApi,
    /// The legacy API's generation (`Some` exactly when `api` is legacy).
    pub legacy_generation: Option<LegacyGeneration>,
    /// Whether a pattern with several observables becomes one indicator per observable.
    pub split_patterns: bool,
    /// The effective `sourcesystem`.
    pub source_system: String,
}

/// Sentinel's upload APIs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SentinelApi {
    /// `threat-intelligence-stix-objects:upload` (2024-02-01-preview).
    StixObjects,
    /// The 2022-07-01 upload-indicators API.
    Legacy,
}

/// Generations of the legacy upload-indicators API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LegacyGeneration {
    /// v1.
    V1,
    /// v2.
    V2,
}

/// Defender settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DefenderSettings {
    /// The `application` written on every indicator, and the one removal looks for.
    pub application: String,
    /// `rbacGroupNames`.
    pub rbac_group_names: Vec<String>,
    /// Active indicators left free under the tenant cap.
    pub quota_reserve: u32,
    /// `generateAlert`.
    pub generate_alert: bool,
    /// `educateUrl`.
    pub educate_url: Option<String>,
    /// `recommendedActions`.
    pub recommended_actions: Option<String>,
}

/// Graph settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GraphSettings {
    /// `targetProduct`.
    pub target_product: TargetProduct,
    /// `passiveOnly`.
    pub passive_only: bool,
    /// The `tiIndicators` path, appended to the API base URL.
    pub resource_path: String,
}

/// Graph `targetProduct` values the API accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum TargetProduct {
    /// `Azure Sentinel`.
    #[serde(rename = "Azure Sentinel")]
    AzureSentinel,
    /// `Microsoft Defender ATP`.
    #[serde(rename = "Microsoft Defender ATP")]
    DefenderAtp,
}

impl TargetProduct {
    /// The API's string.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AzureSentinel => "Azure Sentinel",
            Self::DefenderAtp => "Microsoft Defender ATP",
        }
    }
}

/// One problem in a configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConfigError {
    /// The JSON path of the offending input (`destinations[1].defender.quota_reserve`), `$` for the document.
    pub path: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at `{}`)", self.message, self.path)
    }
}

/// Every problem of a configuration (never empty when returned by [`parse`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConfigErrors {
    /// The problems, in document order.
    pub errors: Vec<ConfigError>,
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid configuration ({} problem{})",
            self.errors.len(),
            if self.errors.len() == 1 { "" } else { "s" }
        )?;
        for e in &self.errors {
            write!(f, "\n- {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}
