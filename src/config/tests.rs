//! Table tests: one per rule of the schema.

// Long tables of cases.
#![allow(clippy::too_many_lines)]

use serde_json::{Value as Json, json};

use super::*;
use crate::model::{ObservableType as T, Tlp};

const GUID: &str = "00000000-0000-0000-0000-000000000000";
const DAY: i64 = 86_400_000;
const WS: &str = "11111111-2222-3333-4444-555555555555";

fn sentinel() -> Json {
    json!({"name": "sentinel-prod", "type": "sentinel", "tenant": "contoso.onmicrosoft.com", "client_id": GUID,
           "credential": {"secret": "SENTINEL_CLIENT_SECRET"}, "sentinel": {"workspace_id": WS}})
}
fn defender() -> Json {
    json!({"name": "mde", "type": "defender", "tenant": GUID, "client_id": GUID, "credential": {"certificate": "MDE_CERT"}})
}
fn graph() -> Json {
    json!({"name": "graph", "type": "graph", "tenant": "contoso.com", "credential": {"managed_identity": true}})
}

fn config(destinations: &[Json]) -> Json {
    json!({ "destinations": destinations })
}

fn ok(doc: &Json) -> Config {
    match from_value(doc) {
        Ok(c) => c,
        Err(e) => panic!("expected a valid config, got {e}"),
    }
}

fn errs(doc: &Json) -> Vec<(String, String)> {
    match from_value(doc) {
        Ok(_) => panic!("expected errors for {doc}"),
        Err(e) => e.errors.into_iter().map(|e| (e.path, e.message)).collect(),
    }
}

/// Exactly one error, at `path`, with `message`.
fn one(doc: &Json, path: &str, message: &str) {
    assert_eq!(errs(doc), vec![(path.to_owned(), message.to_owned())], "for {doc}");
}

/// `doc` with `value` set at a `/`-separated pointer (creating objects on the way).
fn with(mut doc: Json, pointer: &str, value: Json) -> Json {
    let mut cur = &mut doc;
    let parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    let (last, head) = parts.split_last().unwrap();
    for p in head {
        cur = match p.parse::<usize>() {
            Ok(i) => &mut cur[i],
            Err(_) => cur.as_object_mut().unwrap().entry(*p).or_insert(json!({})),
        };
    }
    cur.as_object_mut().unwrap().insert((*last).to_owned(), value);
    doc
}

fn without(mut doc: Json, pointer: &str) -> Json {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    doc.pointer_mut(parent).unwrap().as_object_mut().unwrap().remove(key);
    doc
}

#[test]
fn minimal_configs_per_type_take_every_default() {
    let c = ok(&config(&[sentinel(), defender(), graph()]));
    assert_eq!(c.source_system, "ti-relay");
    let [s, d, g] = &c.destinations[..] else { panic!() };

    assert_eq!((s.kind, s.enabled, s.cloud), (DestinationType::Sentinel, true, Cloud::Global));
    assert_eq!(s.credential, Credential::Secret("SENTINEL_CLIENT_SECRET".into()));
    assert_eq!(
        s.endpoint,
        Endpoint {
            login_host: "login.microsoftonline.com".into(),
            login_base_url: "https://login.microsoftonline.com".into(),
            token_url: "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token".into(),
            api_base_url: "https://api.ti.sentinel.azure.com".into(),
            scope: "https://management.azure.com/.default".into(),
            resource: "https://management.azure.com/".into(),
        }
    );
    assert_eq!(
        s.settings,
        Settings::Sentinel(SentinelSettings {
            workspace_id: WS.into(),
            api: SentinelApi::StixObjects,
            legacy_generation: None,
            split_patterns: true,
            source_system: "ti-relay".into(),
        })
    );
    assert_eq!(s.policy.types, T::ALL.to_vec());
    assert!(s.policy.action.is_empty() && s.policy.severity.is_empty());

    assert_eq!(d.credential, Credential::Certificate("MDE_CERT".into()));
    assert_eq!(
        d.settings,
        Settings::Defender(DefenderSettings {
            application: "ti-relay".into(),
            rbac_group_names: vec![],
            quota_reserve: 0,
            generate_alert: true,
            educate_url: None,
            recommended_actions: None,
        })
    );
    assert_eq!(d.policy.types, vec![T::Ipv4, T::Ipv6, T::Domain, T::Url, T::File, T::Certificate]);
    assert_eq!(
        d.policy.action,
        vec![ActionRule { min_score: None, action: IndicatorAction::Audit, generate_alert: false }]
    );
    let sev = |s| d.policy.severity_for(Some(s));
    assert_eq!(sev(60), Some(Severity::Defender(DefenderSeverity::High)));
    assert_eq!(sev(59), Some(Severity::Defender(DefenderSeverity::Medium)));
    assert_eq!(sev(20), Some(Severity::Defender(DefenderSeverity::Low)));
    assert_eq!(sev(19), Some(Severity::Defender(DefenderSeverity::Informational)));
    assert_eq!(d.endpoint.api_base_url, "https://api.securitycenter.microsoft.com");

    assert_eq!(g.client_id, None);
    assert_eq!(g.credential, Credential::ManagedIdentity { client_id: None });
    assert_eq!(
        g.settings,
        Settings::Graph(GraphSettings {
            target_product: TargetProduct::AzureSentinel,
            passive_only: false,
            resource_path: "/beta/security/tiIndicators".into(),
        })
    );
    assert_eq!(g.policy.types, vec![T::Ipv4, T::Ipv6, T::Cidr, T::Domain, T::Url, T::File, T::Email]);
    let act = |s| g.policy.action_for(Some(s)).map(|r| r.action);
    assert_eq!(act(50), Some(IndicatorAction::GraphBlock));
    assert_eq!(act(49), Some(IndicatorAction::GraphAlert));
    assert_eq!(act(1), Some(IndicatorAction::GraphAlert));
    assert_eq!(act(0), Some(IndicatorAction::GraphAllow));
    assert_eq!(g.policy.action_for(None).map(|r| r.action), Some(IndicatorAction::GraphAllow));
    let sev: Vec<_> = [70, 69, 50, 30, 10, 9, 1, 0].map(|s| g.policy.severity_for(Some(s))).into();
    let want: Vec<_> = [5, 4, 4, 3, 2, 1, 1, 0].map(|n| Some(Severity::Graph(n))).into();
    assert_eq!(sev, want);

    for p in [&s.policy, &d.policy, &g.policy] {
        assert_eq!(
            (p.min_score, p.min_confidence, p.min_threat_rating, p.max_false_positives),
            (None, None, None, None)
        );
        assert!(p.tags_any.is_empty() && p.tags_none.is_empty() && p.owners.is_empty());
        assert!(p.require_detection && p.dedup && !p.dry_run);
        assert_eq!((p.tlp_ceiling, p.tlp_default, p.tlp_override), (Tlp::Amber, None, None));
        assert_eq!((p.expiry.default_days, p.expiry.max_days), (30, 365));
        assert_eq!(p.modified_since, None);
    }
}

#[test]
fn full_settings_are_read() {
    let doc = json!({
        "source_system": "opencti",
        "destinations": [
            with(with(sentinel(), "/sentinel/api", json!("legacy")), "/sentinel/split_patterns", json!(false)),
            with(with(defender(), "/defender", json!({"application": "relay-prod", "rbac_group_names": ["Tier 1"],
                "quota_reserve": 15000, "generate_alert": false, "educate_url": "https://intranet.contoso.com/x",
                "recommended_actions": "Isolate"})), "/cloud", json!("usgov")),
            with(graph(), "/graph", json!({"target_product": "Microsoft Defender ATP", "passive_only": true})),
        ]
    });
    let c = ok(&doc);
    let Settings::Sentinel(s) = &c.destinations[0].settings else { panic!() };
    assert_eq!(
        (s.api, s.legacy_generation, s.split_patterns),
        (SentinelApi::Legacy, Some(LegacyGeneration::V2), false)
    );
    assert_eq!(s.source_system, "opencti");
    let Settings::Defender(d) = &c.destinations[1].settings else { panic!() };
    assert_eq!((d.application.as_str(), d.quota_reserve, d.generate_alert), ("relay-prod", 15000, false));
    assert_eq!(d.rbac_group_names, vec!["Tier 1".to_owned()]);
    assert_eq!(c.destinations[1].endpoint.api_base_url, "https://api-gcc.securitycenter.microsoft.us");
    let Settings::Graph(g) = &c.destinations[2].settings else { panic!() };
    assert_eq!((g.target_product, g.passive_only), (TargetProduct::DefenderAtp, true));
}

#[test]
fn sentinel_source_system_overrides_the_top_level_one() {
    let doc =
        json!({"source_system": "top", "destinations": [with(sentinel(), "/sentinel/source_system", json!("own"))]});
    let Settings::Sentinel(s) = &ok(&doc).destinations[0].settings else { panic!() };
    assert_eq!(s.source_system, "own");
}

#[test]
fn clouds_and_overrides_resolve_endpoints() {
    let c =
        ok(&config(&[with(with(sentinel(), "/cloud", json!("usgov-high")), "/login_host", json!("login.example.us"))]));
    let e = &c.destinations[0].endpoint;
    assert_eq!(e.login_host, "login.example.us");
    assert_eq!(e.token_url, "https://login.example.us/contoso.onmicrosoft.com/oauth2/v2.0/token");
    assert_eq!(e.api_base_url, "https://api.ti.sentinel.azure.us");
    assert_eq!(e.scope, "https://management.usgovcloudapi.net/.default");

    let c = ok(&config(&[with(defender(), "/api_base_url", json!("https://api-eu.securitycenter.microsoft.com"))]));
    assert_eq!(c.destinations[0].endpoint.api_base_url, "https://api-eu.securitycenter.microsoft.com");
    assert_eq!(c.destinations[0].endpoint.scope, "https://api.securitycenter.microsoft.com/.default");
    // `null` overrides count as absent.
    ok(&config(&[with(defender(), "/login_host", Json::Null)]));
}

#[test]
fn base_urls_are_https_or_http_on_loopback() {
    // (URL, valid as `api_base_url` and `login_base_url`)
    let cases: &[(&str, bool)] = &[
        ("https://api-eu.securitycenter.microsoft.com", true),
        ("https://api.example.com:8443", true),
        ("https://api.example.com/prefix/path", true),
        ("https://localhost:8787", true),
        ("https://[::1]:8787", true),
        ("http://127.0.0.1:8787", true),
        ("http://127.0.0.1", true),
        ("http://localhost:8787", true),
        ("http://localhost:8787/emulator/defender", true),
        ("http://[::1]:8787", true),
        ("http://[::1]", true),
        ("http://x.example.com", false),
        ("http://127.0.0.2:8787", false),
        ("http://localhost.example.com:8787", false),
        ("http://10.0.0.1:8787", false),
        ("ftp://127.0.0.1", false),
        ("127.0.0.1:8787", false),
        ("http://127.0.0.1:8787/", false),
        ("http://127.0.0.1:", false),
        ("http://127.0.0.1:0", false),
        ("http://127.0.0.1:65536", false),
        ("http://127.0.0.1:80a", false),
        ("http://127.0.0.1:8787?x=1", false),
        ("http://127.0.0.1:8787#f", false),
        ("http://user@127.0.0.1:8787", false),
        ("https://x.example.com/a b", false),
        ("https://", false),
        ("http://", false),
    ];
    for &(url, valid) in cases {
        for key in ["api_base_url", "login_base_url"] {
            let doc = config(&[with(defender(), &format!("/{key}"), json!(url))]);
            match from_value(&doc) {
                Ok(c) if valid => {
                    let e = &c.destinations[0].endpoint;
                    let got = if key == "api_base_url" { &e.api_base_url } else { &e.login_base_url };
                    assert_eq!(got, url);
                }
                Err(e) if !valid => {
                    assert_eq!(e.errors.len(), 1, "{key} {url}: {e}");
                    assert_eq!(e.errors[0].path, format!("destinations[0].{key}"));
                    assert!(e.errors[0].message.contains("allowed only on a loopback host"), "{}", e.errors[0].message);
                }
                other => panic!("{key} = {url}: expected valid = {valid}, got {other:?}"),
            }
        }
    }
}

#[test]
fn login_base_url_sets_the_token_url() {
    let c = ok(&config(&[with(defender(), "/login_base_url", json!("http://127.0.0.1:8788"))]));
    let e = &c.destinations[0].endpoint;
    assert_eq!(e.login_base_url, "http://127.0.0.1:8788");
    assert_eq!(e.login_host, "127.0.0.1:8788");
    assert_eq!(e.token_url, format!("http://127.0.0.1:8788/{GUID}/oauth2/v2.0/token"));
    let c = ok(&config(&[with(defender(), "/login_base_url", json!("https://login.example.us/tenants"))]));
    assert_eq!(c.destinations[0].endpoint.login_host, "login.example.us");
    assert_eq!(
        c.destinations[0].endpoint.token_url,
        format!("https://login.example.us/tenants/{GUID}/oauth2/v2.0/token")
    );
    // `login_host` keeps its https URL.
    let c = ok(&config(&[with(defender(), "/login_host", json!("login.example.us"))]));
    assert_eq!(c.destinations[0].endpoint.login_base_url, "https://login.example.us");
    one(
        &config(&[with(
            with(defender(), "/login_host", json!("login.example.us")),
            "/login_base_url",
            json!("http://localhost:8788"),
        )]),
        "destinations[0].login_base_url",
        "`login_base_url` and `login_host` are both set: keep one (`login_base_url` is the whole URL, e.g. `http://127.0.0.1:8788`; `login_host` only the host name)",
    );
    one(
        &config(&[with(defender(), "/login_base_url", json!("http://login.example.us"))]),
        "destinations[0].login_base_url",
        "invalid login base URL `http://login.example.us`: write an `https://` URL without a trailing slash, e.g. `https://login.microsoftonline.us`; `http://` is allowed only on a loopback host (`127.0.0.1`, `localhost` or `[::1]`), e.g. `http://127.0.0.1:8787`",
    );
}

#[test]
fn the_legacy_sentinel_api_has_its_own_host_unless_api_base_url_is_set() {
    let legacy = with(sentinel(), "/sentinel/api", json!("legacy"));
    let c = ok(&config(std::slice::from_ref(&legacy)));
    assert_eq!(c.destinations[0].endpoint.api_base_url, "https://sentinelus.azure-api.net");
    let c = ok(&config(&[with(legacy, "/api_base_url", json!("http://127.0.0.1:8787"))]));
    assert_eq!(c.destinations[0].endpoint.api_base_url, "http://127.0.0.1:8787");
    let c = ok(&config(&[with(sentinel(), "/api_base_url", json!("http://127.0.0.1:8787"))]));
    assert_eq!(c.destinations[0].endpoint.api_base_url, "http://127.0.0.1:8787");
    // The scope stays the cloud's.
    assert_eq!(c.destinations[0].endpoint.scope, "https://management.azure.com/.default");
}

#[test]
fn the_effective_config_carries_what_a_host_needs_for_a_token() {
    let c = ok(&config(&[sentinel(), defender(), graph()]));
    let v = serde_json::to_value(&c).unwrap();
    for d in v["destinations"].as_array().unwrap() {
        for key in ["name", "type", "tenant", "client_id", "credential"] {
            assert!(d.get(key).is_some(), "{key} in {d}");
        }
        for key in ["login_host", "login_base_url", "token_url", "scope", "resource", "api_base_url"] {
            assert!(d["endpoint"][key].is_string(), "endpoint.{key} in {d}");
        }
    }
    assert_eq!(v["destinations"][2]["credential"], json!({"managed_identity": {"client_id": null}}));
    assert_eq!(v["destinations"][2]["client_id"], Json::Null);
}

#[test]
fn one_error_each() {
    let long_name = format!("invalid name `{}…`: use 1–64 letters, digits, `.`, `_` or `-`", "x".repeat(64));
    let cases: Vec<(Json, &str, &str)> = vec![
        (json!([]), "$", "expected an object, found an array: a configuration is an object with `destinations`"),
        (json!({}), "destinations", "missing key `destinations`: add an array with at least one destination"),
        (config(&[]), "destinations", "`destinations` is empty: add at least one destination"),
        (json!({"destinations": {}}), "destinations", "expected an array of destinations, found an object"),
        (
            json!({"source_system": "Microsoft SENTINEL", "destinations": [defender()]}),
            "source_system",
            "`Microsoft SENTINEL` is reserved for Sentinel's own indicators: choose another `source_system`, e.g. `ti-relay`",
        ),
        (json!({"destinations": [defender()], "polcy": {}}), "polcy", "unknown key `polcy`: did you mean `policy`?"),
        (
            config(&[with(defender(), "/frobnicate", json!(1))]),
            "destinations[0].frobnicate",
            "unknown key `frobnicate`: expected one of `name`, `type`, `enabled`, `tenant`, `client_id`, `credential`, `cloud`, `login_host`, `login_base_url`, `api_base_url`, `sentinel`, `defender`, `graph` or `policy`",
        ),
        (
            config(&[without(defender(), "/name")]),
            "destinations[0].name",
            "missing key `name`: add a unique name, e.g. `sentinel-prod`",
        ),
        (
            config(&[with(defender(), "/name", json!("a b"))]),
            "destinations[0].name",
            "invalid name `a b`: use 1–64 letters, digits, `.`, `_` or `-`",
        ),
        (config(&[with(defender(), "/name", json!("x".repeat(65)))]), "destinations[0].name", &long_name),
        (
            config(&[with(defender(), "/type", json!("defendr"))]),
            "destinations[0].type",
            "invalid type `defendr`: did you mean `defender`?",
        ),
        (
            config(&[with(defender(), "/type", json!("splunk"))]),
            "destinations[0].type",
            "invalid type `splunk`: expected one of `sentinel`, `defender` or `graph`",
        ),
        (
            config(&[with(defender(), "/enabled", json!("yes"))]),
            "destinations[0].enabled",
            "expected `true` or `false`, found the string `yes`",
        ),
        (
            config(&[with(defender(), "/tenant", json!("not a tenant"))]),
            "destinations[0].tenant",
            "invalid tenant `not a tenant`: write the tenant's GUID or its domain name, e.g. `contoso.onmicrosoft.com`",
        ),
        (
            config(&[without(defender(), "/client_id")]),
            "destinations[0].client_id",
            "missing key `client_id`: add the app registration's client id (a GUID); only a managed identity needs none",
        ),
        (
            config(&[with(defender(), "/client_id", json!("abc"))]),
            "destinations[0].client_id",
            "invalid client id `abc`: expected a GUID like `00000000-0000-0000-0000-000000000000`",
        ),
        (
            config(&[with(defender(), "/cloud", json!("globl"))]),
            "destinations[0].cloud",
            "invalid cloud `globl`: did you mean `global`?",
        ),
        (
            config(&[with(defender(), "/cloud", json!("china"))]),
            "destinations[0].cloud",
            "the defender API is not offered in the `china` cloud: use one of `global`, `usgov`, `usgov-high` or `dod`",
        ),
        (
            config(&[with(graph(), "/cloud", json!("dod"))]),
            "destinations[0].cloud",
            "the graph API is not offered in the `dod` cloud: use one of `global` or `usgov`",
        ),
        (
            config(&[with(defender(), "/login_host", json!("https://login.microsoftonline.us/"))]),
            "destinations[0].login_host",
            "invalid login host `https://login.microsoftonline.us/`: write a host name only, e.g. `login.microsoftonline.us` (no `https://`, no path)",
        ),
        (
            config(&[with(defender(), "/api_base_url", json!("https://api.securitycenter.microsoft.com/"))]),
            "destinations[0].api_base_url",
            "invalid API base URL `https://api.securitycenter.microsoft.com/`: write an `https://` URL without a trailing slash, e.g. `https://api-eu.securitycenter.microsoft.com`; `http://` is allowed only on a loopback host (`127.0.0.1`, `localhost` or `[::1]`), e.g. `http://127.0.0.1:8787`",
        ),
        (
            config(&[with(defender(), "/api_base_url", json!("http://x.example.com"))]),
            "destinations[0].api_base_url",
            "invalid API base URL `http://x.example.com`: write an `https://` URL without a trailing slash, e.g. `https://api-eu.securitycenter.microsoft.com`; `http://` is allowed only on a loopback host (`127.0.0.1`, `localhost` or `[::1]`), e.g. `http://127.0.0.1:8787`",
        ),
        // Credentials.
        (
            config(&[without(defender(), "/credential")]),
            "destinations[0].credential",
            "missing key `credential`: add `{\"secret\": \"<name of the secret>\"}`, `{\"certificate\": \"<name>\"}` or `{\"managed_identity\": true}`",
        ),
        (
            config(&[with(defender(), "/credential", json!({}))]),
            "destinations[0].credential",
            "empty credential: write exactly one of `secret`, `certificate` or `managed_identity`",
        ),
        (
            config(&[with(defender(), "/credential", json!({"secret": "A", "certificate": "B"}))]),
            "destinations[0].credential",
            "a credential is exactly one of `secret`, `certificate` or `managed_identity`, found `secret` or `certificate`: keep one",
        ),
        (
            config(&[with(defender(), "/credential", json!({"secrt": "A"}))]),
            "destinations[0].credential.secrt",
            "unknown key `secrt`: did you mean `secret`?",
        ),
        (
            config(&[with(defender(), "/credential", json!({"secret": 5}))]),
            "destinations[0].credential.secret",
            "`credential.secret` must be a string: the name of the secret, e.g. `DEFENDER_CLIENT_SECRET`",
        ),
        (
            config(&[with(defender(), "/credential", json!({"secret": "my secret"}))]),
            "destinations[0].credential.secret",
            "`credential.secret` must be the name of a secret binding or environment variable (1–128 letters, digits, `_`, `.` or `-`), e.g. `DEFENDER_CLIENT_SECRET`",
        ),
        (
            config(&[with(defender(), "/credential", json!({"managed_identity": false}))]),
            "destinations[0].credential.managed_identity",
            "`managed_identity` must be `true` (system-assigned) or `{\"client_id\": \"<GUID>\"}` (user-assigned)",
        ),
        (
            config(&[with(graph(), "/credential", json!({"managed_identity": {"client_id": "x"}}))]),
            "destinations[0].credential.managed_identity.client_id",
            "invalid client id `x`: expected a GUID like `00000000-0000-0000-0000-000000000000`",
        ),
        // Sections.
        (
            config(&[without(sentinel(), "/sentinel")]),
            "destinations[0].sentinel",
            "missing key `sentinel`: add `{\"workspace_id\": \"<GUID>\"}` for a sentinel destination",
        ),
        (
            config(&[with(defender(), "/graph", json!({}))]),
            "destinations[0].graph",
            "`graph` settings are only for graph destinations and this one is `defender`: remove `graph`",
        ),
        (
            config(&[with(sentinel(), "/sentinel/workspace_id", json!("ws"))]),
            "destinations[0].sentinel.workspace_id",
            "invalid workspace id `ws`: expected the workspace's GUID (Log Analytics workspace → Overview → Workspace ID)",
        ),
        (
            config(&[with(sentinel(), "/sentinel/api", json!("stix"))]),
            "destinations[0].sentinel.api",
            "invalid api `stix`: expected one of `stix-objects` or `legacy`",
        ),
        (
            config(&[with(sentinel(), "/sentinel/legacy_generation", json!("v1"))]),
            "destinations[0].sentinel.legacy_generation",
            "`legacy_generation` applies only with `\"api\": \"legacy\"`: remove it or set `api`",
        ),
        (
            config(&[with(sentinel(), "/sentinel/source_system", json!("microsoft sentinel"))]),
            "destinations[0].sentinel.source_system",
            "`microsoft sentinel` is reserved for Sentinel's own indicators: choose another `source_system`, e.g. `ti-relay`",
        ),
        (
            config(&[with(defender(), "/defender/quota_reserve", json!(15001))]),
            "destinations[0].defender.quota_reserve",
            "expected an integer from 0 to 15000, found `15001`",
        ),
        (
            config(&[with(defender(), "/defender/quota_reserve", json!(-1))]),
            "destinations[0].defender.quota_reserve",
            "expected an integer from 0 to 15000, found `-1`",
        ),
        (
            config(&[with(defender(), "/defender/application", json!("a".repeat(129)))]),
            "destinations[0].defender.application",
            "`application` is longer than 128 characters: shorten it",
        ),
        (
            config(&[with(defender(), "/defender/educate_url", json!("http://x.com"))]),
            "destinations[0].defender.educate_url",
            "invalid educate URL `http://x.com`: write an `https://` URL",
        ),
        (
            config(&[with(defender(), "/defender/rbac_group_names", json!(["ok", 3]))]),
            "destinations[0].defender.rbac_group_names[1]",
            "expected a string, found the number `3`",
        ),
        (
            config(&[with(graph(), "/graph/target_product", json!("Microsoft Sentinel"))]),
            "destinations[0].graph.target_product",
            "the tiIndicators API rejects `Microsoft Sentinel`: write `Azure Sentinel`",
        ),
        (
            config(&[with(graph(), "/graph/resource_path", json!("beta/x/"))]),
            "destinations[0].graph.resource_path",
            "invalid resource path `beta/x/`: write a path starting with `/` and without a trailing slash, e.g. `/beta/security/tiIndicators`",
        ),
        (
            config(&[with(graph(), "/graph/passiveOnly", json!(true))]),
            "destinations[0].graph.passiveOnly",
            "unknown key `passiveOnly`: did you mean `passive_only`?",
        ),
    ];
    for (doc, path, message) in &cases {
        one(doc, path, message);
    }
}

#[test]
fn policy_errors() {
    let p = |key: &str, v: Json| config(&[with(defender(), &format!("/policy/{key}"), v)]);
    let cases: Vec<(Json, &str, &str)> = vec![
        (
            p("min_scroe", json!(1)),
            "destinations[0].policy.min_scroe",
            "unknown key `min_scroe`: did you mean `min_score`?",
        ),
        (
            p("min_score", json!(101)),
            "destinations[0].policy.min_score",
            "expected an integer from 0 to 100, found `101`",
        ),
        (
            p("min_score", json!(1.5)),
            "destinations[0].policy.min_score",
            "expected an integer from 0 to 100, found `1.5`",
        ),
        (
            p("min_confidence", json!("50")),
            "destinations[0].policy.min_confidence",
            "expected an integer from 0 to 100, found the string `50`",
        ),
        (
            p("min_threat_rating", json!(6)),
            "destinations[0].policy.min_threat_rating",
            "expected a number from 0 to 5, found `6`",
        ),
        (
            p("max_false_positives", json!(-2)),
            "destinations[0].policy.max_false_positives",
            "expected an integer ≥ 0, found `-2`",
        ),
        (
            p("tags_any", json!("apt")),
            "destinations[0].policy.tags_any",
            "expected an array of strings, found the string `apt`",
        ),
        (p("owners", json!(["a", ""])), "destinations[0].policy.owners[1]", "empty string: remove it or write a value"),
        (
            p("require_detection", json!(1)),
            "destinations[0].policy.require_detection",
            "expected `true` or `false`, found the number `1`",
        ),
        (
            p("modified_since", json!("yesterday")),
            "destinations[0].policy.modified_since",
            "invalid timestamp `yesterday`: expected RFC 3339, like `2024-01-31T12:00:00Z`",
        ),
        (
            p("tlp_ceiling", json!("purple")),
            "destinations[0].policy.tlp_ceiling",
            "invalid TLP `purple`: expected `clear` (or `white`), `green`, `amber`, `amber+strict` or `red`",
        ),
        (
            p("types", json!([])),
            "destinations[0].policy.types",
            "`types` is empty and would select nothing: list types, or remove `types` to take every type",
        ),
        (
            p("types", json!(["ipv4", "ipv5"])),
            "destinations[0].policy.types[1]",
            "invalid observable type `ipv5`: did you mean `ipv4`?",
        ),
        (
            p("types", json!(["ipv4", "cidr"])),
            "destinations[0].policy.types[1]",
            "defender cannot take `cidr` indicators: remove it from `types`",
        ),
        (
            p("action", json!("Drop")),
            "destinations[0].policy.action",
            "`Drop` is not a defender action: use one of `Allowed`, `Audit`, `Warn`, `Block` or `BlockAndRemediate`",
        ),
        (
            p("action", json!([{"action": "Audit"}, {"min_score": 80, "action": "Block"}])),
            "destinations[0].policy.action[0]",
            "a rule without `min_score` matches every score, so the rules after it never apply: move it last or give it a `min_score`",
        ),
        (
            p("action", json!([{"min_score": 80}])),
            "destinations[0].policy.action[0].action",
            "missing key `action`: every rule names its `action`",
        ),
        (
            p("action", json!([])),
            "destinations[0].policy.action",
            "no rules: add at least one, e.g. `{\"action\": …}`, or remove the key for the default",
        ),
        (
            p("action", json!([{"min_score": 80, "action": "Block", "sevrity": 1}])),
            "destinations[0].policy.action[0].sevrity",
            "unknown key `sevrity`: expected one of `min_score` or `action`",
        ),
        (
            p("severity", json!("High")),
            "destinations[0].policy.severity",
            "expected an array of rules, found the string `High`",
        ),
        (
            p("severity", json!([{"severity": 3}])),
            "destinations[0].policy.severity[0].severity",
            "`3` is not a defender severity: use one of `Informational`, `Low`, `Medium` or `High`",
        ),
        (
            p("expiry", json!({"default_days": 0})),
            "destinations[0].policy.expiry.default_days",
            "expected an integer from 1 to 36500, found `0`",
        ),
        (
            p("expiry", json!({"days": {"fille": 3}})),
            "destinations[0].policy.expiry.days.fille",
            "unknown key `fille`: did you mean `file`?",
        ),
        (
            p("expiry", json!({"days": {"file": 3}, "hours": {"file": 12}})),
            "destinations[0].policy.expiry.hours.file",
            "`file` is in both `days` and `hours` (also at `destinations[0].policy.expiry.days.file`): keep one",
        ),
        (
            p("expiry", json!({"default_days": 400})),
            "destinations[0].policy.expiry.default_days",
            "`default_days` (400) is more than `max_days` (365): lower `default_days` or raise `max_days`",
        ),
        (
            p("dry_run", json!("no")),
            "destinations[0].policy.dry_run",
            "expected `true` or `false`, found the string `no`",
        ),
        // Graph-specific values.
        (
            config(&[with(graph(), "/policy/action", json!("Audit"))]),
            "destinations[0].policy.action",
            "`Audit` is not a graph action: use one of `unknown`, `allow`, `block` or `alert`",
        ),
        (
            config(&[with(graph(), "/policy/severity", json!([{"severity": "High"}]))]),
            "destinations[0].policy.severity[0].severity",
            "`High` is not a graph severity: use an integer from 0 to 5",
        ),
        (
            config(&[with(graph(), "/policy/severity", json!([{"severity": 6}]))]),
            "destinations[0].policy.severity[0].severity",
            "expected an integer from 0 to 5, found `6`",
        ),
        (
            config(&[with(graph(), "/policy/types", json!(["certificate"]))]),
            "destinations[0].policy.types[0]",
            "graph cannot take `certificate` indicators: remove it from `types`",
        ),
        // Sentinel has no action or severity.
        (
            config(&[with(sentinel(), "/policy/action", json!("Block"))]),
            "destinations[0].policy.action",
            "sentinel has no action: remove `action` from this destination's `policy`",
        ),
        (
            config(&[with(sentinel(), "/policy/severity", json!([{"severity": "High"}]))]),
            "destinations[0].policy.severity",
            "sentinel has no severity: remove `severity` from this destination's `policy`",
        ),
    ];
    for (doc, path, message) in &cases {
        one(doc, path, message);
    }
}

#[test]
fn top_level_values_unfit_for_a_destination_are_reported_where_written() {
    let doc = json!({"policy": {"types": ["ipv4", "cidr"], "action": "Block"}, "destinations": [defender(), graph(), sentinel()]});
    assert_eq!(
        errs(&doc),
        vec![(
            "policy.types[1]".to_owned(),
            "defender cannot take `cidr` indicators: remove it from `types`, or set `types` in the `policy` of destination `mde`"
                .to_owned()
        )]
    );
    // A destination that overrides the key is not affected; Sentinel ignores a top-level action.
    let doc = json!({"policy": {"action": "Audit"}, "destinations": [defender(), graph(), sentinel()]});
    assert_eq!(
        errs(&doc),
        vec![(
            "policy.action".to_owned(),
            "`Audit` is not a graph action: use one of `unknown`, `allow`, `block` or `alert`, or set `action` in the `policy` of destination `graph`"
                .to_owned()
        )]
    );
    let doc = json!({"policy": {"action": "Audit"}, "destinations": [defender(), with(graph(), "/policy/action", json!("block")), sentinel()]});
    ok(&doc);
    // Reported once even when several destinations inherit it.
    let doc =
        json!({"policy": {"expiry": {"default_days": 40, "max_days": 10}}, "destinations": [defender(), sentinel()]});
    assert_eq!(errs(&doc).len(), 1);
}

#[test]
fn many_errors_are_reported_at_once_in_document_order() {
    let doc = json!({
        "source_systm": "x",
        "policy": {"min_score": 200},
        "destinations": [
            with(with(defender(), "/defender/quota_reserve", json!(20000)), "/tenant", json!("")),
            with(graph(), "/name", json!("mde")),
            5,
        ]
    });
    let paths: Vec<String> = errs(&doc).into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        paths,
        vec![
            "source_systm",
            "policy.min_score",
            "destinations[0].tenant",
            "destinations[0].defender.quota_reserve",
            "destinations[1].name",
            "destinations[2]",
        ]
    );
    let e = errs(&doc);
    assert_eq!(e[0].1, "unknown key `source_systm`: did you mean `source_system`?");
    assert_eq!(e[4].1, "duplicate name `mde` (also at `destinations[0].name`): give each destination its own name");
    assert_eq!(e[5].1, "expected an object, found the number `5`");
}

#[test]
fn malformed_json_is_one_error_at_the_root() {
    let e = parse("{\"destinations\": [}").unwrap_err();
    assert_eq!(e.errors.len(), 1);
    assert_eq!(e.errors[0].path, "$");
    assert!(e.errors[0].message.starts_with("malformed JSON: "), "{}", e.errors[0].message);
    assert_eq!(validate("").len(), 1);
    assert!(validate(&config(&[defender()]).to_string()).is_empty());
}

#[test]
fn duplicate_keys_are_errors() {
    let e = parse(r#"{"destinations": [], "destinations": []}"#).unwrap_err();
    assert_eq!(e.errors[0].path, "destinations");
    assert_eq!(e.errors[0].message, "duplicate key `destinations`: keep one");
}

#[test]
fn secret_values_are_refused_and_never_echoed() {
    let secrets = [
        "Abc8Q~xYz12345678901234567890abcdEFGHijk", // Entra client secret shape
        "q~x",                                      // any `~`
        "kR9vT2mXz8LpQw4nB7yC",                     // high entropy, mixed case and digits
        "3f9a1c0e7b2d4a6f8e0c1b3d5a7f9e2c",         // 32 hex digits
        "c3VwZXIgc2VjcmV0IHZhbHVlIGhlcmU=",         // base64
        "a_very_long_name_that_goes_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_x", // > 128 characters
    ];
    for secret in secrets {
        for key in ["secret", "certificate"] {
            let doc = config(&[with(sentinel(), "/credential", json!({ key: secret }))]);
            let e = errs(&doc);
            let (what, example) = if key == "secret" {
                ("secret", "SENTINEL_CLIENT_SECRET")
            } else {
                ("certificate", "SENTINEL_CERTIFICATE")
            };
            assert_eq!(
                e,
                vec![(
                    format!("destinations[0].credential.{key}"),
                    format!(
                        "`credential.{key}` names a {what}, it does not hold one: put the value in a secret named e.g. `{example}` and write that name here"
                    )
                )],
                "{secret}"
            );
            let text = from_value(&doc).unwrap_err().to_string();
            assert!(!text.contains(secret), "{text}");
        }
    }
    for name in
        ["SENTINEL_CLIENT_SECRET", "sentinel-prod-client-secret", "MdeCert", "kv.secret-2024", "MySentinelSecret2024"]
    {
        ok(&config(&[with(sentinel(), "/credential", json!({ "secret": name }))]));
    }
}

#[test]
fn policies_merge_key_by_key() {
    let doc = json!({
        "policy": {"min_score": 40, "tags_none": ["benign"], "tlp_ceiling": "green", "tlp_override": "amber",
                   "owners": ["CERT", "Vendor"], "dry_run": true,
                   "expiry": {"default_days": 10, "days": {"file": 90, "network": 7}, "max_days": 100}},
        "destinations": [
            with(defender(), "/policy", json!({"min_score": 70, "tlp_override": null, "dry_run": false,
                "expiry": {"hours": {"file": 6}, "max_days": 50}, "modified_since": "2024-01-01T00:00:00Z"})),
            graph(),
        ]
    });
    let c = ok(&doc);
    let (d, g) = (&c.destinations[0].policy, &c.destinations[1].policy);
    assert_eq!((d.min_score, g.min_score), (Some(70), Some(40)));
    assert_eq!(d.tags_none, vec!["benign".to_owned()]);
    assert_eq!((d.tlp_ceiling, g.tlp_ceiling), (Tlp::Green, Tlp::Green));
    assert_eq!((d.tlp_override, g.tlp_override), (None, Some(Tlp::Amber)));
    assert_eq!(d.owners, vec!["CERT".to_owned(), "Vendor".to_owned()]);
    assert_eq!((d.dry_run, g.dry_run), (false, true));
    assert_eq!(d.modified_since.map(|t| t.to_string()).as_deref(), Some("2024-01-01T00:00:00.000Z"));
    assert_eq!(g.modified_since, None);
    assert_eq!((d.expiry.default_days, d.expiry.max_days, g.expiry.max_days), (10, 50, 100));
    assert_eq!(d.expiry.days.get("file"), None);
    assert_eq!(d.expiry.hours.get("file"), Some(&6));
    assert_eq!(d.expiry.days.get("network"), Some(&7));
    assert_eq!(g.expiry.days.get("file"), Some(&90));
    assert_eq!(d.expiry.lifetime_millis(T::File), 6 * 3_600_000);
    assert_eq!(d.expiry.lifetime_millis(T::Domain), 7 * DAY);
    assert_eq!(d.expiry.lifetime_millis(T::Certificate), 10 * DAY);
    assert_eq!(g.expiry.lifetime_millis(T::File), 90 * DAY);
    let capped = ok(&config(&[with(defender(), "/policy/expiry", json!({"days": {"url": 500}, "max_days": 20}))]));
    assert_eq!(capped.destinations[0].policy.expiry.lifetime_millis(T::Url), 20 * DAY);
}

#[test]
fn action_rules_and_legacy_names() {
    let d = |action: Json| ok(&config(&[with(defender(), "/policy/action", action)])).destinations[0].policy.clone();
    let rule = |min_score, action, generate_alert| ActionRule { min_score, action, generate_alert };
    assert_eq!(d(json!("Alert")).action, vec![rule(None, IndicatorAction::Audit, true)]);
    assert_eq!(d(json!("AlertAndBlock")).action, vec![rule(None, IndicatorAction::Block, true)]);
    assert_eq!(d(json!("block")).action, vec![rule(None, IndicatorAction::Block, false)]);
    let p = d(json!([{"min_score": 80, "action": "Block"}, {"min_score": 50, "action": "Warn"}, {"action": "Audit"}]));
    assert_eq!(
        p.action,
        vec![
            rule(Some(80), IndicatorAction::Block, false),
            rule(Some(50), IndicatorAction::Warn, false),
            rule(None, IndicatorAction::Audit, false)
        ]
    );
    assert_eq!(p.action_for(Some(90)).map(|r| r.action), Some(IndicatorAction::Block));
    assert_eq!(p.action_for(Some(60)).map(|r| r.action), Some(IndicatorAction::Warn));
    assert_eq!(p.action_for(None).map(|r| r.action), Some(IndicatorAction::Audit));
    // Without a catch-all, a low score matches nothing.
    assert_eq!(d(json!([{"min_score": 80, "action": "Block"}])).action_for(Some(10)), None);
    // Legacy names are Defender's only.
    let e = errs(&config(&[with(graph(), "/policy/action", json!("AlertAndBlock"))]));
    assert_eq!(e[0].1, "`AlertAndBlock` is not a graph action: use one of `unknown`, `allow`, `block` or `alert`");
    let g =
        ok(&config(&[with(graph(), "/policy/severity", json!([{"min_score": 50, "severity": 5}, {"severity": 0}]))]));
    assert_eq!(g.destinations[0].policy.severity_for(Some(50)), Some(Severity::Graph(5)));
}

#[test]
fn serialises_the_effective_config() {
    let c = ok(&config(&[with(defender(), "/policy/action", json!("Alert")), graph()]));
    let v = serde_json::to_value(&c).unwrap();
    assert_eq!(v["destinations"][0]["type"], "defender");
    assert_eq!(v["destinations"][0]["credential"], json!({"certificate": "MDE_CERT"}));
    assert_eq!(v["destinations"][0]["cloud"], "global");
    assert_eq!(
        v["destinations"][0]["policy"]["action"],
        json!([{"min_score": null, "action": "Audit", "generate_alert": true}])
    );
    assert_eq!(v["destinations"][0]["policy"]["severity"][0], json!({"min_score": 60, "severity": "High"}));
    assert_eq!(v["destinations"][0]["policy"]["tlp_ceiling"], "amber");
    assert_eq!(v["destinations"][1]["policy"]["severity"][0], json!({"min_score": 70, "severity": 5}));
    assert_eq!(v["destinations"][1]["credential"], json!({"managed_identity": {"client_id": null}}));
    assert_eq!(v["destinations"][1]["settings"]["graph"]["target_product"], "Azure Sentinel");
    let e = serde_json::to_value(parse("[").unwrap_err()).unwrap();
    assert_eq!(e["errors"][0]["path"], "$");
}

#[test]
fn helpers() {
    use super::parse::{edit_distance, is_guid, is_host, is_https_url};
    assert_eq!(edit_distance("min_scroe", "min_score"), 2);
    assert_eq!(edit_distance("", "abc"), 3);
    assert!(is_guid(GUID) && !is_guid("0000-0000"));
    assert!(is_host("contoso.onmicrosoft.com") && !is_host("contoso") && !is_host("-a.com"));
    assert!(is_https_url("https://a.example.com:8443/x", false) && !is_https_url("https://a.example.com/", false));
    assert!(is_https_url("https://a.example.com/", true));
}

#[test]
fn a_managed_identity_needs_no_app_client_id() {
    let user_assigned = ok(&config(&[with(graph(), "/credential", json!({"managed_identity": {"client_id": GUID}}))]));
    let d = &user_assigned.destinations[0];
    assert_eq!(d.client_id, None);
    assert_eq!(d.credential, Credential::ManagedIdentity { client_id: Some(GUID.to_owned()) });
    // A 65–128 character name is a name, not a secret.
    let long = "SENTINEL_CLIENT_SECRET_FOR_THE_PRODUCTION_WORKSPACE_IN_WEST_EUROPE_2026";
    assert!(long.len() > 64);
    ok(&config(&[with(sentinel(), "/credential", json!({ "secret": long }))]));
}
