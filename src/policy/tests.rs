//! Table tests for each policy rule, and the one-verdict-per-destination invariant.

use super::*;
use crate::config::{self, Config};
use crate::decode::{DecodeOptions, decode};

const NOW: &str = "2025-06-01T00:00:00Z";

fn now() -> Timestamp {
    Timestamp::parse(NOW).unwrap()
}

/// A config with one destination of `kind` and `policy` (JSON object text) as its policy.
fn config(kind: &str, policy: &str) -> Config {
    let section = match kind {
        "sentinel" => r#""sentinel": {"workspace_id": "66666666-7777-8888-9999-000000000000"}"#,
        "defender" => r#""defender": {"quota_reserve": 100}"#,
        _ => r#""graph": {}"#,
    };
    let text = format!(
        r#"{{"destinations": [{{"name": "d", "type": "{kind}", "tenant": "contoso.onmicrosoft.com",
            "client_id": "11111111-2222-3333-4444-555555555555", "credential": {{"secret": "S"}}, {section},
            "policy": {policy}}}]}}"#
    );
    config::parse(&text).unwrap_or_else(|e| panic!("{e}"))
}

/// The decision for the first item of `payload` at a `kind` destination with `policy`.
fn judge(kind: &str, policy: &str, payload: &str) -> Decision {
    let cfg = config(kind, policy);
    let decoded = decode(payload, &DecodeOptions::default()).unwrap();
    assert!(decoded.errors.is_empty(), "{:?}", decoded.errors);
    decide(&decoded.items[0], &cfg.destinations[0], now())
}

fn indicator(extra: &str) -> String {
    format!(
        r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "created":"2025-05-01T00:00:00Z","modified":"2025-05-02T00:00:00Z","valid_from":"2025-05-01T00:00:00Z",
            "pattern":"[ipv4-addr:value = '198.51.100.7']"{extra}}}"#
    )
}

fn event(kind: &str, extra: &str) -> String {
    format!(r#"{{"type":"{kind}","data":{}}}"#, indicator(extra))
}

const RED: &str = r#","object_marking_refs":["marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"]"#;
const AMBER_STRICT: &str = r#","object_marking_refs":["marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"]"#;

#[test]
#[allow(clippy::too_many_lines)] // one table row per rule reads best as one table
fn each_rule_gives_its_reason() {
    let fp = r#"[{"type":"Address","ip":"198.51.100.7","ownerName":"Acme","falsePositives":3,"rating":2,"confidence":40,"threatAssessScore":300}]"#;
    for (kind, policy, payload, want, message) in [
        (
            "defender",
            "{}",
            indicator(RED),
            Some(Reason::Tlp),
            "TLP:RED is above this destination's ceiling TLP:AMBER; raise `tlp_ceiling` only if the source allows it",
        ),
        (
            "defender",
            "{}",
            indicator(AMBER_STRICT),
            Some(Reason::Tlp),
            "TLP:AMBER+STRICT is above this destination's ceiling TLP:AMBER; raise `tlp_ceiling` only if the source allows it",
        ),
        ("defender", r#"{"tlp_ceiling":"red"}"#, indicator(RED), None, ""),
        (
            "defender",
            r#"{"tlp_default":"red"}"#,
            indicator(""),
            Some(Reason::Tlp),
            "TLP:RED is above this destination's ceiling TLP:AMBER; raise `tlp_ceiling` only if the source allows it",
        ),
        (
            "defender",
            r#"{"min_score":50}"#,
            indicator(r#","confidence":40"#),
            Some(Reason::Score),
            "score 40 is below the minimum 50",
        ),
        (
            "defender",
            r#"{"min_score":50}"#,
            indicator(""),
            Some(Reason::Score),
            "the indicator has no score, and `min_score` requires one",
        ),
        ("defender", r#"{"min_confidence":50}"#, indicator(r#","confidence":60"#), None, ""),
        (
            "defender",
            r#"{"types":["domain"]}"#,
            indicator(""),
            Some(Reason::Type),
            "`ipv4` indicators are not relayed to `d` (see `types`)",
        ),
        (
            "defender",
            "{}",
            indicator(r#","x_opencti_detection":false"#),
            Some(Reason::Detection),
            "OpenCTI marks the indicator as not for detection (`detection: false`); set `require_detection: false` to relay it anyway",
        ),
        ("defender", r#"{"require_detection":false}"#, indicator(r#","x_opencti_detection":false"#), None, ""),
        (
            "defender",
            r#"{"modified_since":"2025-05-03T00:00:00Z"}"#,
            indicator(""),
            Some(Reason::NotModified),
            "not modified since 2025-05-03T00:00:00.000Z (`modified_since`)",
        ),
        (
            "defender",
            r#"{"tags_none":["Benign"]}"#,
            indicator(r#","labels":["benign"]"#),
            Some(Reason::FilteredTag),
            "tagged `Benign`, which `tags_none` excludes",
        ),
        (
            "defender",
            r#"{"tags_any":["c2"]}"#,
            indicator(r#","labels":["phishing"]"#),
            Some(Reason::FilteredTag),
            "carries none of the tags in `tags_any`",
        ),
        ("defender", r#"{"owners":["Other"]}"#, fp.to_owned(), Some(Reason::Owner), "owner `Acme` is not in `owners`"),
        (
            "defender",
            r#"{"max_false_positives":2}"#,
            fp.to_owned(),
            Some(Reason::FalsePositives),
            "3 false positives reported, more than the 2 allowed",
        ),
        (
            "defender",
            r#"{"min_threat_rating":3}"#,
            fp.to_owned(),
            Some(Reason::ThreatRating),
            "threat rating 2 is below the minimum 3",
        ),
        (
            "defender",
            "{}",
            indicator(r#","valid_until":"2025-05-20T00:00:00Z""#),
            Some(Reason::Expired),
            "the indicator has already expired (valid until 2025-05-20T00:00:00.000Z): nothing to create",
        ),
        (
            "defender",
            r#"{"action":[{"min_score":90,"action":"Block"}]}"#,
            indicator(r#","confidence":40"#),
            Some(Reason::Action),
            "no `action` rule matches score 40",
        ),
        (
            "defender",
            r#"{"action":"BlockAndRemediate"}"#,
            indicator(""),
            Some(Reason::Action),
            "Defender does not allow `BlockAndRemediate` on `ipv4` indicators: expected one of Allowed, Audit, Warn, Block",
        ),
        ("graph", "{}", indicator(""), None, ""),
    ] {
        let d = judge(kind, policy, &payload);
        assert_eq!(d.reason, want, "{policy} {payload}: {d:?}");
        if want.is_some() {
            assert_eq!(d.verdict, Verdict::Skip);
            assert_eq!(d.message.as_deref(), Some(message), "{policy}");
        } else {
            assert_eq!(d.verdict, Verdict::Upsert, "{policy}");
        }
    }
}

#[test]
fn expired_update_becomes_a_removal_and_create_is_skipped() {
    let until = r#","valid_until":"2025-05-20T00:00:00Z""#;
    let update = judge("sentinel", "{}", &event("update", until));
    assert_eq!(update.verdict, Verdict::Remove);
    assert_eq!(
        update.message.as_deref(),
        Some("the update arrived after the indicator expired (valid until 2025-05-20T00:00:00.000Z): removing it")
    );
    let create = judge("sentinel", "{}", &event("create", until));
    assert_eq!((create.verdict, create.reason), (Verdict::Skip, Some(Reason::Expired)));
}

#[test]
fn removals_go_out_whatever_the_filters_but_not_above_the_ceiling() {
    let d = judge("defender", r#"{"min_score":99,"tags_any":["x"]}"#, &event("delete", ""));
    assert_eq!(d.verdict, Verdict::Remove);
    let d = judge("defender", "{}", &event("delete", RED));
    assert_eq!((d.verdict, d.reason), (Verdict::Skip, Some(Reason::Tlp)));
    let d = judge("sentinel", "{}", &indicator(r#","revoked":true"#));
    assert_eq!(d.verdict, Verdict::Remove);
}

#[test]
fn expiry_defaults_caps_and_honours_valid_until() {
    let d = judge("defender", "{}", &indicator(""));
    assert_eq!(d.expires.unwrap().to_string(), "2025-07-01T00:00:00.000Z", "30 days by default");
    let d = judge("defender", r#"{"expiry":{"hours":{"ipv4":12}}}"#, &indicator(""));
    assert_eq!(d.expires.unwrap().to_string(), "2025-06-01T12:00:00.000Z");
    let d = judge("defender", r#"{"expiry":{"days":{"network":7}}}"#, &indicator(""));
    assert_eq!(d.expires.unwrap().to_string(), "2025-06-08T00:00:00.000Z");
    let d = judge("defender", "{}", &indicator(r#","valid_until":"2025-06-10T00:00:00Z""#));
    assert_eq!(d.expires.unwrap().to_string(), "2025-06-10T00:00:00.000Z");
    let d = judge("defender", r#"{"expiry":{"max_days":5}}"#, &indicator(r#","valid_until":"2030-01-01T00:00:00Z""#));
    assert_eq!(d.expires.unwrap().to_string(), "2025-06-06T00:00:00.000Z");
}

#[test]
fn action_severity_and_alert_defaults() {
    let d = judge("defender", "{}", &indicator(r#","x_opencti_score":65"#));
    assert_eq!((d.action, d.generate_alert), (Some(IndicatorAction::Audit), true));
    assert_eq!(serde_json::to_value(d.severity).unwrap(), "High");
    let d = judge(
        "defender",
        r#"{"action":[{"min_score":80,"action":"Block"},{"action":"Audit"}]}"#,
        &indicator(r#","x_opencti_score":85"#),
    );
    assert_eq!(d.action, Some(IndicatorAction::Block));
    let d = judge("defender", r#"{"action":"AlertAndBlock"}"#, &indicator(""));
    assert_eq!((d.action, d.generate_alert), (Some(IndicatorAction::Block), true));
    let d = judge("graph", "{}", &indicator(r#","x_opencti_score":55"#));
    assert_eq!(d.action, Some(IndicatorAction::GraphBlock));
    assert_eq!(serde_json::to_value(d.severity).unwrap(), 4);
    let d = judge("sentinel", "{}", &indicator(r#","x_opencti_score":55"#));
    assert_eq!((d.action, d.severity), (None, None));
}

#[test]
fn tlp_override_is_what_gets_written() {
    let d = judge(
        "graph",
        r#"{"tlp_override":"green"}"#,
        &indicator(r#","object_marking_refs":["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"]"#),
    );
    assert_eq!(d.tlp, Some(Tlp::Green));
    let d = judge("graph", "{}", &indicator(""));
    assert_eq!(d.tlp, None, "no marking: Graph writes `unknown`");
}

#[test]
fn compound_patterns_go_to_sentinel_only() {
    let compound = indicator("").replace(
        "[ipv4-addr:value = '198.51.100.7']",
        "[ipv4-addr:value = '198.51.100.7'] FOLLOWEDBY [domain-name:value = 'evil.example']",
    );
    assert_eq!(judge("sentinel", "{}", &compound).verdict, Verdict::Upsert);
    let d = judge("defender", "{}", &compound);
    assert_eq!(d.reason, Some(Reason::NotAtomic));
    assert_eq!(
        d.message.as_deref(),
        Some(
            "defender cannot take a compound pattern: the pattern joins observations with FOLLOWEDBY, which no destination can match as a single indicator"
        )
    );
}

#[test]
fn duplicates_keep_the_highest_priority_owner_then_score() {
    let payload = r#"[
        {"type":"Address","ip":"198.51.100.7","ownerName":"Low","threatAssessScore":900},
        {"type":"Address","ip":"198.51.100.7","ownerName":"High","threatAssessScore":100},
        {"type":"Host","hostName":"evil.example","ownerName":"Low","threatAssessScore":200},
        {"type":"Host","hostName":"evil.example","ownerName":"Low","threatAssessScore":800}
    ]"#;
    let decoded = decode(payload, &DecodeOptions::default()).unwrap();
    let cfg = config("sentinel", r#"{"owners":["High","Low"]}"#);
    let decisions = decide_all(&decoded.items, &cfg.destinations[0], now(), Facts::default());
    let verdicts: Vec<(Verdict, Option<Reason>)> = decisions.iter().map(|d| (d.verdict, d.reason)).collect();
    assert_eq!(
        verdicts,
        [
            (Verdict::Skip, Some(Reason::Duplicate)),
            (Verdict::Upsert, None),
            (Verdict::Skip, Some(Reason::Duplicate)),
            (Verdict::Upsert, None),
        ]
    );
    let cfg = config("sentinel", r#"{"dedup":false}"#);
    let decisions = decide_all(&decoded.items, &cfg.destinations[0], now(), Facts::default());
    assert!(decisions.iter().all(|d| d.verdict == Verdict::Upsert));
}

#[test]
fn defender_quota_admits_the_highest_scores_first() {
    let payload = r#"[
        {"type":"Address","ip":"198.51.100.1","threatAssessScore":100},
        {"type":"Address","ip":"198.51.100.2","threatAssessScore":900},
        {"type":"Address","ip":"198.51.100.3","threatAssessScore":500}
    ]"#;
    let decoded = decode(payload, &DecodeOptions::default()).unwrap();
    let cfg = config("defender", "{}");
    // Cap 15,000 minus the reserve of 100: two slots left.
    let decisions = decide_all(&decoded.items, &cfg.destinations[0], now(), Facts { defender_active: Some(14_898) });
    let reasons: Vec<Option<Reason>> = decisions.iter().map(|d| d.reason).collect();
    assert_eq!(reasons, [Some(Reason::Quota), None, None]);
    assert_eq!(
        decisions[0].message.as_deref(),
        Some(
            "the tenant's 14900 indicator slots (15000 minus a reserve of 100) are full; higher-scored indicators went first"
        )
    );
    let unknown = decide_all(&decoded.items, &cfg.destinations[0], now(), Facts::default());
    assert!(unknown.iter().all(|d| d.verdict == Verdict::Upsert), "no count given: no quota check");
}

#[test]
fn every_item_gets_exactly_one_verdict_per_destination() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/decode/stix_bundle.json"))
        .unwrap();
    let decoded = decode(&text, &DecodeOptions::default()).unwrap();
    for kind in ["sentinel", "defender", "graph"] {
        let cfg = config(kind, "{}");
        let decisions = decide_all(&decoded.items, &cfg.destinations[0], now(), Facts { defender_active: Some(0) });
        assert_eq!(decisions.len(), decoded.items.len());
        for d in &decisions {
            assert_eq!(d.verdict == Verdict::Skip, d.reason.is_some(), "{d:?}");
            assert_eq!(d.reason.is_some(), d.message.is_some(), "{d:?}");
        }
    }
}
