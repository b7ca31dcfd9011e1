//! The validating walk over the configuration document: every problem is collected, none stops it.

use super::policy::{self, PolicyPatch};
use super::{
    Config, ConfigError, ConfigErrors, Credential, DEFAULT_SOURCE_SYSTEM, DEFENDER_TENANT_CAP, DefenderSettings,
    Destination, DestinationType, Endpoint, GraphSettings, LegacyGeneration, MAX_DESTINATIONS, SentinelApi,
    SentinelSettings, Settings, TargetProduct,
};
use crate::cloud::{Cloud, SENTINEL_LEGACY_BASE_URL};
use crate::error::quote;
use crate::json::{Value, expected, join_index, join_key};

/// Collects problems.
#[derive(Default)]
pub(super) struct Cx {
    pub(super) errors: Vec<ConfigError>,
}

impl Cx {
    /// Records a problem (once: a top-level value checked for each destination may repeat).
    #[inline(never)]
    pub(super) fn err(&mut self, path: impl Into<String>, message: impl Into<String>) {
        let error = ConfigError { path: path.into(), message: message.into() };
        if !self.errors.contains(&error) {
            self.errors.push(error);
        }
    }
}

/// An object of the document with its path.
pub(super) struct Fields<'v, 'a> {
    fields: &'v crate::json::Fields<'a>,
    pub(super) path: String,
}

// Configuration is read once per isolate, and these accessors are called from a few long functions
// (`destination`, `policy::patch`): they stay out of line (`#[inline(never)]`), which keeps ~2.7 KB
// of inlined copies out of the gzipped wasm.
impl<'v, 'a> Fields<'v, 'a> {
    /// `value` as an object, else an error at `path`.
    #[inline(never)]
    pub(super) fn of(cx: &mut Cx, value: &'v Value<'a>, path: String) -> Option<Self> {
        if let Value::Object(fields) = value {
            Some(Self { fields: *fields, path })
        } else {
            cx.err(path, expected("an object", value).message());
            None
        }
    }

    /// Reports unknown and repeated keys.
    #[inline(never)]
    pub(super) fn check_keys(&self, cx: &mut Cx, known: &[&str]) {
        for (i, (key, _)) in self.fields.iter().enumerate() {
            let path = self.key(key);
            if !known.contains(key) {
                cx.err(path, unknown_key(key, known));
            } else if self.fields.iter().skip(i + 1).any(|(k, _)| k == key) {
                cx.err(path, format!("duplicate key `{key}`: keep one"));
            }
        }
    }

    /// The path of a child key.
    #[inline(never)]
    pub(super) fn key(&self, key: &str) -> String {
        join_key(&self.path, key)
    }

    /// A field including an explicit `null`.
    #[inline(never)]
    pub(super) fn raw(&self, key: &str) -> Option<&'v Value<'a>> {
        self.fields.iter().rev().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// A field; `null` counts as absent.
    #[inline(never)]
    pub(super) fn get(&self, key: &str) -> Option<&'v Value<'a>> {
        self.raw(key).filter(|v| !matches!(v, Value::Null))
    }

    /// The fields, in order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (&'v str, &'v Value<'a>)> {
        self.fields.iter().map(|(k, v)| (*k, v))
    }

    /// An optional string.
    #[inline(never)]
    pub(super) fn str(&self, cx: &mut Cx, key: &str) -> Option<&'v str> {
        match self.get(key)? {
            Value::String(s) => Some(*s),
            other => {
                cx.err(self.key(key), expected("a string", other).message());
                None
            }
        }
    }

    /// An optional non-blank string.
    #[inline(never)]
    pub(super) fn text(&self, cx: &mut Cx, key: &str) -> Option<&'v str> {
        let s = self.str(cx, key)?;
        if s.trim().is_empty() {
            cx.err(self.key(key), format!("`{key}` is empty: write a value or remove the key"));
            return None;
        }
        Some(s)
    }

    /// A required string (present, a string, not blank), with a hint of what to write.
    #[inline(never)]
    pub(super) fn req_text(&self, cx: &mut Cx, key: &str, hint: &str) -> Option<&'v str> {
        if self.get(key).is_none() {
            cx.err(self.key(key), format!("missing key `{key}`: add {hint}"));
            return None;
        }
        self.text(cx, key)
    }

    /// An optional boolean (JSON `true`/`false` only).
    #[inline(never)]
    pub(super) fn bool(&self, cx: &mut Cx, key: &str) -> Option<bool> {
        match self.get(key)? {
            Value::Bool(b) => Some(*b),
            other => {
                cx.err(self.key(key), expected("`true` or `false`", other).message());
                None
            }
        }
    }

    /// An optional integer within `min..=max`.
    #[inline(never)]
    pub(super) fn int(&self, cx: &mut Cx, key: &str, min: i64, max: i64) -> Option<i64> {
        let value = self.get(key)?;
        integer(cx, value, self.key(key), min, max)
    }

    /// An optional array of non-blank strings.
    #[inline(never)]
    pub(super) fn strings(&self, cx: &mut Cx, key: &str) -> Option<Vec<(String, String)>> {
        let value = self.get(key)?;
        let path = self.key(key);
        let Value::Array(items) = value else {
            cx.err(path, expected("an array of strings", value).message());
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let item_path = join_index(&path, i);
            match item {
                Value::String(s) if !s.trim().is_empty() => out.push((s.trim().to_owned(), item_path)),
                Value::String(_) => cx.err(item_path, "empty string: remove it or write a value"),
                other => cx.err(item_path, expected("a string", other).message()),
            }
        }
        Some(out)
    }
}

/// An integer within `min..=max` at `path`.
pub(super) fn integer(cx: &mut Cx, value: &Value<'_>, path: String, min: i64, max: i64) -> Option<i64> {
    let range = if max >= i64::from(u32::MAX) {
        format!("an integer ≥ {min}")
    } else {
        format!("an integer from {min} to {max}")
    };
    match value {
        Value::Number(n) => match n.as_i64() {
            Some(i) if (min..=max).contains(&i) => Some(i),
            _ => {
                cx.err(path, format!("expected {range}, found `{n}`"));
                None
            }
        },
        other => {
            cx.err(path, expected(&range, other).message());
            None
        }
    }
}

/// "unknown key `x`: did you mean `y`?" or the list of known keys.
pub(super) fn unknown_key(key: &str, known: &[&str]) -> String {
    match closest(key, known) {
        Some(best) => format!("unknown key {}: did you mean `{best}`?", quote(key)),
        None => format!("unknown key {}: expected one of {}", quote(key), list(known)),
    }
}

/// "invalid X `v`: did you mean `y`?" or "expected one of …".
pub(super) fn one_of(what: &str, found: &str, known: &[&str]) -> String {
    match closest(found, known) {
        Some(best) => format!("invalid {what} {}: did you mean `{best}`?", quote(found)),
        None => format!("invalid {what} {}: expected one of {}", quote(found), list(known)),
    }
}

/// `` `a`, `b` or `c` ``.
pub(super) fn list(items: &[&str]) -> String {
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => format!("`{last}`"),
        Some((last, rest)) => {
            let head: Vec<String> = rest.iter().map(|s| format!("`{s}`")).collect();
            format!("{} or `{last}`", head.join(", "))
        }
    }
}

/// The known word nearest to `word`, if within edit distance 2 (ignoring case).
pub(super) fn closest<'k>(word: &str, known: &[&'k str]) -> Option<&'k str> {
    if word.chars().count() > 64 {
        return None;
    }
    let lower = word.to_ascii_lowercase();
    known
        .iter()
        .map(|k| (edit_distance(&lower, &k.to_ascii_lowercase()), *k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance over characters.
pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut row = Vec::with_capacity(b.len() + 1);
        row.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev.get(j).copied().unwrap_or(usize::MAX).saturating_add(usize::from(ca != *cb));
            let delete = prev.get(j + 1).copied().unwrap_or(usize::MAX).saturating_add(1);
            let insert = row.last().copied().unwrap_or(usize::MAX).saturating_add(1);
            row.push(substitute.min(delete).min(insert));
        }
        prev = row;
    }
    prev.last().copied().unwrap_or(0)
}

/// `8-4-4-4-12` hexadecimal digits.
pub(super) fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A DNS host name: at least two labels of letters, digits and inner hyphens, ≤ 253 characters.
pub(super) fn is_host(s: &str) -> bool {
    let labels: Vec<&str> = s.split('.').collect();
    s.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

/// An `https://host[/path]` URL without whitespace, query or fragment; `trailing_slash` allows a
/// final `/`.
pub(super) fn is_https_url(s: &str, trailing_slash: bool) -> bool {
    let Some(rest) = s.strip_prefix("https://") else { return false };
    let (authority, _path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = authority.rsplit_once(':').map_or(authority, |(h, port)| {
        if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) { h } else { authority }
    });
    (is_host(host) || host == "localhost")
        && !s.chars().any(|c| c.is_whitespace() || c.is_control() || c == '#')
        && (trailing_slash || (!s.ends_with('/') && !s.contains('?')))
}

/// What the URL errors add: where plain `http://` is allowed.
const LOOPBACK_ONLY: &str =
    "`http://` is allowed only on a loopback host (`127.0.0.1`, `localhost` or `[::1]`), e.g. `http://127.0.0.1:8787`";

/// The hosts on which a base URL may be plain `http://` (a local emulator).
const LOOPBACK_HOSTS: [&str; 3] = ["127.0.0.1", "localhost", "[::1]"];

/// An API or login base URL: `https://host[:port][/path]`, or `http://` when the host is a loopback
/// host ([`LOOPBACK_HOSTS`]); no trailing slash, query, fragment, whitespace or userinfo.
pub(super) fn is_base_url(s: &str) -> bool {
    let (rest, https) = match (s.strip_prefix("https://"), s.strip_prefix("http://")) {
        (Some(rest), _) => (rest, true),
        (None, Some(rest)) => (rest, false),
        (None, None) => return false,
    };
    let authority = rest.split_once('/').map_or(rest, |(a, _)| a);
    let host = match authority.rsplit_once(':') {
        // `[::1]` alone splits inside the brackets: no port.
        Some((host, port)) if !port.ends_with(']') => {
            let valid = port.bytes().all(|b| b.is_ascii_digit()) && port.parse::<u16>().is_ok_and(|p| p != 0);
            if !valid {
                return false;
            }
            host
        }
        _ => authority,
    };
    let loopback = LOOPBACK_HOSTS.contains(&host);
    (loopback || (https && is_host(host)))
        && !s.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '#' | '?' | '@'))
        && !s.ends_with('/')
}

/// The `host[:port]` of a URL accepted by [`is_base_url`].
fn url_authority(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split_once('/').map_or(rest, |(authority, _)| authority)
}

/// Whether a credential "name" looks like a secret value pasted in its place.
pub(super) fn looks_like_secret(s: &str) -> bool {
    let len = s.chars().count();
    let (mut lower, mut upper, mut digit, mut hex) = (false, false, false, 0usize);
    for c in s.chars() {
        lower |= c.is_ascii_lowercase();
        upper |= c.is_ascii_uppercase();
        digit |= c.is_ascii_digit();
        hex += usize::from(c.is_ascii_hexdigit());
    }
    let odd = s.chars().any(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')));
    s.contains('~')
        || len > 128
        || (odd && len >= 16)
        || (len >= 16 && lower && upper && digit && entropy(s) >= 3.9)
        || (hex >= 32 && digit)
}

/// Shannon entropy in bits per character.
fn entropy(s: &str) -> f64 {
    let mut counts = std::collections::BTreeMap::new();
    let mut total = 0.0_f64;
    for c in s.chars() {
        *counts.entry(c).or_insert(0.0_f64) += 1.0;
        total += 1.0;
    }
    counts.values().map(|n| -(n / total) * (n / total).log2()).sum()
}

/// A credential name: 1–128 of `[A-Za-z0-9._-]`.
fn is_name(s: &str, max: usize) -> bool {
    !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

// ---- the document ---------------------------------------------------------------------------

const TOP_KEYS: &[&str] = &["source_system", "policy", "destinations"];
const DESTINATION_KEYS: &[&str] = &[
    "name",
    "type",
    "enabled",
    "tenant",
    "client_id",
    "credential",
    "cloud",
    "login_host",
    "login_base_url",
    "api_base_url",
    "sentinel",
    "defender",
    "graph",
    "policy",
];

pub(super) fn parse(text: &str) -> Result<Config, ConfigErrors> {
    let mut cx = Cx::default();
    let arena = crate::json::Arena::new();
    let value = match Value::parse(text, &arena) {
        Ok(value) => value,
        Err(e) => {
            cx.err("$", e.message());
            return Err(ConfigErrors { errors: cx.errors });
        }
    };
    let config = document(&mut cx, &value);
    match config {
        Some(config) if cx.errors.is_empty() => Ok(config),
        _ => {
            if cx.errors.is_empty() {
                cx.err("$", "the configuration could not be read (an internal error: please report it)");
            }
            Err(ConfigErrors { errors: cx.errors })
        }
    }
}

fn document(cx: &mut Cx, value: &Value<'_>) -> Option<Config> {
    let Value::Object(_) = value else {
        cx.err(
            "$",
            format!("{}: a configuration is an object with `destinations`", expected("an object", value).message()),
        );
        return None;
    };
    let top = Fields::of(cx, value, String::new())?;
    top.check_keys(cx, TOP_KEYS);
    let source_system = source_system(cx, &top).unwrap_or_else(|| DEFAULT_SOURCE_SYSTEM.to_owned());
    let top_policy = match top.get("policy") {
        Some(v) => Fields::of(cx, v, top.key("policy")).map(|f| policy::patch(cx, &f)).unwrap_or_default(),
        None => PolicyPatch::default(),
    };

    let path = top.key("destinations");
    let items: &[Value<'_>] = match top.get("destinations") {
        None => {
            cx.err(path, "missing key `destinations`: add an array with at least one destination");
            &[]
        }
        Some(Value::Array([])) => {
            cx.err(path, "`destinations` is empty: add at least one destination");
            &[]
        }
        Some(Value::Array(items)) if items.len() > MAX_DESTINATIONS => {
            cx.err(path, format!("too many destinations ({}): a config holds at most {MAX_DESTINATIONS}", items.len()));
            &[]
        }
        Some(Value::Array(items)) => items,
        Some(other) => {
            cx.err(path, expected("an array of destinations", other).message());
            &[]
        }
    };

    let mut destinations = Vec::with_capacity(items.len());
    let mut names: Vec<(String, String)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let item_path = join_index(&join_key("", "destinations"), i);
        let Some(fields) = Fields::of(cx, item, item_path) else { continue };
        if let Some(d) = destination(cx, &fields, &source_system, &top_policy, &mut names) {
            destinations.push(d);
        }
    }
    Some(Config { source_system, destinations })
}

/// `source_system` of an object, checked.
fn source_system(cx: &mut Cx, fields: &Fields<'_, '_>) -> Option<String> {
    let s = fields.text(cx, "source_system")?;
    if s.trim().eq_ignore_ascii_case("microsoft sentinel") {
        cx.err(
            fields.key("source_system"),
            format!(
                "{} is reserved for Sentinel's own indicators: choose another `source_system`, e.g. `{DEFAULT_SOURCE_SYSTEM}`",
                quote(s)
            ),
        );
        return None;
    }
    Some(s.trim().to_owned())
}

#[allow(clippy::too_many_lines)] // one destination, key by key, in schema order
fn destination(
    cx: &mut Cx,
    d: &Fields<'_, '_>,
    top_source_system: &str,
    top_policy: &PolicyPatch,
    names: &mut Vec<(String, String)>,
) -> Option<Destination> {
    d.check_keys(cx, DESTINATION_KEYS);

    let name = d.req_text(cx, "name", "a unique name, e.g. `sentinel-prod`").and_then(|name| {
        if !is_name(name, 64) {
            cx.err(d.key("name"), format!("invalid name {}: use 1–64 letters, digits, `.`, `_` or `-`", quote(name)));
            return None;
        }
        if let Some((_, first)) = names.iter().find(|(n, _)| n == name) {
            cx.err(
                d.key("name"),
                format!("duplicate name `{name}` (also at `{first}`): give each destination its own name"),
            );
            return None;
        }
        names.push((name.to_owned(), d.key("name")));
        Some(name.to_owned())
    });

    let kind_names: Vec<&str> = DestinationType::ALL.iter().map(|t| t.as_str()).collect();
    let kind = d.req_text(cx, "type", "`sentinel`, `defender` or `graph`").and_then(|t| {
        let kind = DestinationType::from_name(t);
        if kind.is_none() {
            cx.err(d.key("type"), one_of("type", t, &kind_names));
        }
        kind
    });

    let enabled = d.bool(cx, "enabled").unwrap_or(true);

    let tenant =
        d.req_text(cx, "tenant", "the tenant's GUID or domain name, e.g. `contoso.onmicrosoft.com`").and_then(|t| {
            if is_guid(t) || is_host(t) {
                Some(t.to_owned())
            } else {
                cx.err(
                    d.key("tenant"),
                    format!(
                        "invalid tenant {}: write the tenant's GUID or its domain name, e.g. `contoso.onmicrosoft.com`",
                        quote(t)
                    ),
                );
                None
            }
        });

    let credential = credential(cx, d, kind);
    // A managed identity (system- or user-assigned) needs no app registration's client id.
    let system_assigned = matches!(credential, Some(Credential::ManagedIdentity { .. }));
    let client_id = if d.get("client_id").is_none() {
        if !system_assigned && credential.is_some() {
            cx.err(
                d.key("client_id"),
                "missing key `client_id`: add the app registration's client id (a GUID); only a managed identity needs none",
            );
        }
        None
    } else {
        d.text(cx, "client_id").and_then(|c| {
            if is_guid(c) {
                Some(c.to_owned())
            } else {
                cx.err(
                    d.key("client_id"),
                    format!(
                        "invalid client id {}: expected a GUID like `00000000-0000-0000-0000-000000000000`",
                        quote(c)
                    ),
                );
                None
            }
        })
    };

    let cloud_names: Vec<&str> = Cloud::ALL.iter().map(|c| c.as_str()).collect();
    let cloud = match d.text(cx, "cloud") {
        None => Some(Cloud::Global),
        Some(c) => {
            let cloud = Cloud::from_name(c);
            if cloud.is_none() {
                cx.err(d.key("cloud"), one_of("cloud", c, &cloud_names));
            }
            cloud
        }
    };

    let login_host = d.text(cx, "login_host").and_then(|h| {
        if is_host(h) {
            Some(h.to_owned())
        } else {
            cx.err(d.key("login_host"), format!("invalid login host {}: write a host name only, e.g. `login.microsoftonline.us` (no `https://`, no path)", quote(h)));
            None
        }
    });
    let login_base_url = d.text(cx, "login_base_url").and_then(|u| {
        if is_base_url(u) {
            Some(u.to_owned())
        } else {
            cx.err(
                d.key("login_base_url"),
                format!("invalid login base URL {}: write an `https://` URL without a trailing slash, e.g. `https://login.microsoftonline.us`; {LOOPBACK_ONLY}", quote(u)),
            );
            None
        }
    });
    if d.get("login_host").is_some() && d.get("login_base_url").is_some() {
        cx.err(
            d.key("login_base_url"),
            "`login_base_url` and `login_host` are both set: keep one (`login_base_url` is the whole URL, e.g. `http://127.0.0.1:8788`; `login_host` only the host name)",
        );
    }
    let api_base_url = d.text(cx, "api_base_url").and_then(|u| {
        if is_base_url(u) {
            Some(u.to_owned())
        } else {
            cx.err(
                d.key("api_base_url"),
                format!("invalid API base URL {}: write an `https://` URL without a trailing slash, e.g. `https://api-eu.securitycenter.microsoft.com`; {LOOPBACK_ONLY}", quote(u)),
            );
            None
        }
    });

    let endpoint = match (kind, cloud) {
        (Some(kind), Some(cloud)) => {
            if let Some(e) = cloud.endpoint(kind.api()) {
                let login_base_url = login_base_url
                    .clone()
                    .unwrap_or_else(|| format!("https://{}", login_host.as_deref().unwrap_or(cloud.login_host())));
                Some(Endpoint {
                    login_host: url_authority(&login_base_url).to_owned(),
                    token_url: format!("{login_base_url}/{}/oauth2/v2.0/token", tenant.as_deref().unwrap_or("")),
                    login_base_url,
                    api_base_url: api_base_url.clone().unwrap_or_else(|| e.base_url.to_owned()),
                    scope: e.scope.to_owned(),
                    resource: e.resource.to_owned(),
                })
            } else {
                let offered: Vec<&str> =
                    Cloud::ALL.iter().filter(|c| c.endpoint(kind.api()).is_some()).map(|c| c.as_str()).collect();
                cx.err(
                    d.key("cloud"),
                    format!("the {kind} API is not offered in the `{cloud}` cloud: use one of {}", list(&offered)),
                );
                None
            }
        }
        _ => None,
    };

    // Type-specific sections: each parsed (so its own errors show), then checked against the type.
    let mut settings = None;
    for section in DestinationType::ALL {
        let key = section.as_str();
        let Some(value) = d.get(key) else {
            if kind == Some(section) && section == DestinationType::Sentinel {
                cx.err(
                    d.key(key),
                    "missing key `sentinel`: add `{\"workspace_id\": \"<GUID>\"}` for a sentinel destination",
                );
            }
            continue;
        };
        if let Some(kind) = kind
            && kind != section
        {
            cx.err(
                d.key(key),
                format!("`{key}` settings are only for {key} destinations and this one is `{kind}`: remove `{key}`"),
            );
        }
        let Some(fields) = Fields::of(cx, value, d.key(key)) else { continue };
        let parsed = match section {
            DestinationType::Sentinel => sentinel(cx, &fields, top_source_system).map(Settings::Sentinel),
            DestinationType::Defender => Some(Settings::Defender(defender(cx, &fields))),
            DestinationType::Graph => Some(Settings::Graph(graph(cx, &fields))),
        };
        if kind == Some(section) {
            settings = parsed;
        }
    }
    if settings.is_none() {
        settings = match kind {
            Some(DestinationType::Defender) => Some(Settings::Defender(defender_default())),
            Some(DestinationType::Graph) => Some(Settings::Graph(graph_default())),
            _ => None,
        };
    }

    // The legacy Sentinel upload API has one documented host in every cloud; an explicit
    // `api_base_url` (a regional gateway, a local emulator) replaces it like any other.
    let mut endpoint = endpoint;
    if let (Some(Settings::Sentinel(s)), Some(e)) = (&settings, endpoint.as_mut())
        && s.api == SentinelApi::Legacy
        && api_base_url.is_none()
    {
        SENTINEL_LEGACY_BASE_URL.clone_into(&mut e.api_base_url);
    }

    let own_policy = match d.get("policy") {
        Some(v) => Fields::of(cx, v, d.key("policy")).map(|f| policy::patch(cx, &f)).unwrap_or_default(),
        None => PolicyPatch::default(),
    };
    let policy =
        kind.and_then(|kind| policy::resolve(cx, kind, name.as_deref().unwrap_or("?"), top_policy, &own_policy));

    Some(Destination {
        name: name?,
        kind: kind?,
        enabled,
        tenant: tenant?,
        client_id,
        credential: credential?,
        cloud: cloud?,
        endpoint: endpoint?,
        settings: settings?,
        policy: policy?,
    })
}

const CREDENTIAL_KEYS: &[&str] = &["secret", "certificate", "managed_identity"];

/// The credential reference. Its errors never echo what was written (it may be a secret).
fn credential(cx: &mut Cx, d: &Fields<'_, '_>, kind: Option<DestinationType>) -> Option<Credential> {
    let path = d.key("credential");
    let Some(value) = d.get("credential") else {
        cx.err(path, "missing key `credential`: add `{\"secret\": \"<name of the secret>\"}`, `{\"certificate\": \"<name>\"}` or `{\"managed_identity\": true}`");
        return None;
    };
    let c = Fields::of(cx, value, path.clone())?;
    c.check_keys(cx, CREDENTIAL_KEYS);
    let present: Vec<&str> = CREDENTIAL_KEYS.iter().copied().filter(|k| c.get(k).is_some()).collect();
    let prefix = kind.map_or("CLIENT", |k| match k {
        DestinationType::Sentinel => "SENTINEL",
        DestinationType::Defender => "DEFENDER",
        DestinationType::Graph => "GRAPH",
    });
    match present.as_slice() {
        [] => {
            // An unknown key (a typo) has been reported already.
            if c.iter().next().is_none() {
                cx.err(path, "empty credential: write exactly one of `secret`, `certificate` or `managed_identity`");
            }
            None
        }
        ["secret" | "certificate"] => {
            let key = present.first().copied().unwrap_or("secret");
            let key_path = c.key(key);
            let (what, example) = if key == "secret" {
                ("secret", format!("{prefix}_CLIENT_SECRET"))
            } else {
                ("certificate", format!("{prefix}_CERTIFICATE"))
            };
            let Some(Value::String(s)) = c.get(key) else {
                cx.err(
                    key_path,
                    format!("`credential.{key}` must be a string: the name of the {what}, e.g. `{example}`"),
                );
                return None;
            };
            if looks_like_secret(s) {
                cx.err(
                    key_path,
                    format!("`credential.{key}` names a {what}, it does not hold one: put the value in a secret named e.g. `{example}` and write that name here"),
                );
                return None;
            }
            if !is_name(s, 128) {
                cx.err(
                    key_path,
                    format!("`credential.{key}` must be the name of a secret binding or environment variable (1–128 letters, digits, `_`, `.` or `-`), e.g. `{example}`"),
                );
                return None;
            }
            Some(if key == "secret" {
                Credential::Secret(s.to_string())
            } else {
                Credential::Certificate(s.to_string())
            })
        }
        ["managed_identity"] => {
            let key_path = c.key("managed_identity");
            match c.get("managed_identity") {
                Some(Value::Bool(true)) => Some(Credential::ManagedIdentity { client_id: None }),
                Some(v @ Value::Object(_)) => {
                    let mi = Fields::of(cx, v, key_path)?;
                    mi.check_keys(cx, &["client_id"]);
                    let id = mi.req_text(cx, "client_id", "the user-assigned identity's client id (a GUID), or write `\"managed_identity\": true` for the system-assigned one")?;
                    if is_guid(id) {
                        Some(Credential::ManagedIdentity { client_id: Some(id.to_owned()) })
                    } else {
                        cx.err(
                            mi.key("client_id"),
                            format!(
                                "invalid client id {}: expected a GUID like `00000000-0000-0000-0000-000000000000`",
                                quote(id)
                            ),
                        );
                        None
                    }
                }
                _ => {
                    cx.err(key_path, "`managed_identity` must be `true` (system-assigned) or `{\"client_id\": \"<GUID>\"}` (user-assigned)");
                    None
                }
            }
        }
        _ => {
            cx.err(
                path,
                format!(
                    "a credential is exactly one of `secret`, `certificate` or `managed_identity`, found {}: keep one",
                    list(&present)
                ),
            );
            None
        }
    }
}

const SENTINEL_KEYS: &[&str] = &["workspace_id", "api", "legacy_generation", "split_patterns", "source_system"];

fn sentinel(cx: &mut Cx, s: &Fields<'_, '_>, top_source_system: &str) -> Option<SentinelSettings> {
    s.check_keys(cx, SENTINEL_KEYS);
    let workspace_id = s.req_text(cx, "workspace_id", "the Log Analytics workspace id (a GUID)").and_then(|w| {
        if is_guid(w) {
            Some(w.to_owned())
        } else {
            cx.err(s.key("workspace_id"), format!("invalid workspace id {}: expected the workspace's GUID (Log Analytics workspace → Overview → Workspace ID)", quote(w)));
            None
        }
    });
    let api = match s.text(cx, "api") {
        None | Some("stix-objects") => Some(SentinelApi::StixObjects),
        Some("legacy") => Some(SentinelApi::Legacy),
        Some(other) => {
            cx.err(s.key("api"), one_of("api", other, &["stix-objects", "legacy"]));
            None
        }
    };
    let generation = match s.text(cx, "legacy_generation") {
        None => None,
        Some("v1") => Some(LegacyGeneration::V1),
        Some("v2") => Some(LegacyGeneration::V2),
        Some(other) => {
            cx.err(s.key("legacy_generation"), one_of("legacy_generation", other, &["v1", "v2"]));
            None
        }
    };
    if generation.is_some() && api == Some(SentinelApi::StixObjects) {
        cx.err(
            s.key("legacy_generation"),
            "`legacy_generation` applies only with `\"api\": \"legacy\"`: remove it or set `api`",
        );
    }
    let legacy_generation = (api == Some(SentinelApi::Legacy)).then(|| generation.unwrap_or(LegacyGeneration::V2));
    let split_patterns = s.bool(cx, "split_patterns").unwrap_or(true);
    let source_system = source_system(cx, s).unwrap_or_else(|| top_source_system.to_owned());
    Some(SentinelSettings { workspace_id: workspace_id?, api: api?, legacy_generation, split_patterns, source_system })
}

const DEFENDER_KEYS: &[&str] =
    &["application", "rbac_group_names", "quota_reserve", "generate_alert", "educate_url", "recommended_actions"];

fn defender_default() -> DefenderSettings {
    DefenderSettings {
        application: DEFAULT_SOURCE_SYSTEM.to_owned(),
        rbac_group_names: Vec::new(),
        quota_reserve: 0,
        generate_alert: true,
        educate_url: None,
        recommended_actions: None,
    }
}

fn defender(cx: &mut Cx, s: &Fields<'_, '_>) -> DefenderSettings {
    s.check_keys(cx, DEFENDER_KEYS);
    let mut out = defender_default();
    if let Some(app) = s.text(cx, "application") {
        if app.chars().count() > 128 {
            cx.err(s.key("application"), "`application` is longer than 128 characters: shorten it");
        } else {
            app.clone_into(&mut out.application);
        }
    }
    if let Some(groups) = s.strings(cx, "rbac_group_names") {
        out.rbac_group_names = groups.into_iter().map(|(g, _)| g).collect();
    }
    if let Some(reserve) = s.int(cx, "quota_reserve", 0, i64::from(DEFENDER_TENANT_CAP)) {
        out.quota_reserve = u32::try_from(reserve).unwrap_or(0);
    }
    if let Some(alert) = s.bool(cx, "generate_alert") {
        out.generate_alert = alert;
    }
    if let Some(url) = s.text(cx, "educate_url") {
        if is_https_url(url, true) {
            out.educate_url = Some(url.to_owned());
        } else {
            cx.err(s.key("educate_url"), format!("invalid educate URL {}: write an `https://` URL", quote(url)));
        }
    }
    out.recommended_actions = s.text(cx, "recommended_actions").map(str::to_owned);
    out
}

const GRAPH_KEYS: &[&str] = &["target_product", "passive_only", "resource_path"];
const DEFAULT_RESOURCE_PATH: &str = "/beta/security/tiIndicators";

fn graph_default() -> GraphSettings {
    GraphSettings {
        target_product: TargetProduct::AzureSentinel,
        passive_only: false,
        resource_path: DEFAULT_RESOURCE_PATH.to_owned(),
    }
}

fn graph(cx: &mut Cx, s: &Fields<'_, '_>) -> GraphSettings {
    s.check_keys(cx, GRAPH_KEYS);
    let mut out = graph_default();
    match s.text(cx, "target_product") {
        None => {}
        Some("Azure Sentinel") => out.target_product = TargetProduct::AzureSentinel,
        Some("Microsoft Defender ATP") => out.target_product = TargetProduct::DefenderAtp,
        Some(p) if p.trim().eq_ignore_ascii_case("microsoft sentinel") => cx
            .err(s.key("target_product"), format!("the tiIndicators API rejects {}: write `Azure Sentinel`", quote(p))),
        Some(p) => {
            cx.err(s.key("target_product"), one_of("target_product", p, &["Azure Sentinel", "Microsoft Defender ATP"]));
        }
    }
    if let Some(passive) = s.bool(cx, "passive_only") {
        out.passive_only = passive;
    }
    if let Some(path) = s.text(cx, "resource_path") {
        let valid = path.starts_with('/')
            && path.len() > 1
            && !path.ends_with('/')
            && !path.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '?' | '#'));
        if valid {
            path.clone_into(&mut out.resource_path);
        } else {
            cx.err(
                s.key("resource_path"),
                format!("invalid resource path {}: write a path starting with `/` and without a trailing slash, e.g. `{DEFAULT_RESOURCE_PATH}`", quote(path)),
            );
        }
    }
    out
}
