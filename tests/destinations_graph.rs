//! The Graph tiIndicator mapping against the API's documented constraints: every decode fixture,
//! judged by the policy at a `graph` destination (both target products), mapped, batched into
//! `submitTiIndicators` bodies and checked by the validator in `support/msapi.rs`; removals as
//! `deleteTiIndicatorsByExternalId` bodies.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "support/golden.rs"]
mod golden;
#[path = "support/msapi.rs"]
mod msapi;

use std::fs;
use std::path::{Path, PathBuf};

use ti_relay::config::{self, Config};
use ti_relay::destinations::graph::{self, MAX_BATCH};
use ti_relay::model::ObservableType;
use ti_relay::policy::{self, Verdict};
use ti_relay::time::Timestamp;
use ti_relay::{DecodeOptions, decode};

const NOW: &str = "2024-01-01T00:00:00Z";

fn now() -> Timestamp {
    Timestamp::parse(NOW).unwrap()
}

fn fixtures() -> Vec<PathBuf> {
    let files = golden::fixtures();
    assert!(!files.is_empty(), "no fixtures in tests/fixtures/decode");
    files
}

/// One `graph` destination with `graph` settings and `policy` (JSON object texts).
fn config(graph: &str, policy: &str) -> Config {
    let text = format!(
        r#"{{"destinations": [{{"name": "g", "type": "graph", "tenant": "contoso.onmicrosoft.com",
            "client_id": "11111111-2222-3333-4444-555555555555", "credential": {{"secret": "S"}},
            "graph": {graph}, "policy": {policy}}}]}}"#
    );
    config::parse(&text).unwrap_or_else(|e| panic!("{e}"))
}

const SENTINEL: &str = r#"{"target_product": "Azure Sentinel"}"#;
const ATP: &str = r#"{"target_product": "Microsoft Defender ATP"}"#;
/// Lets as much through as the policy allows, so the mapping sees every fixture item it can.
const OPEN: &str = r#"{"tlp_ceiling": "red", "require_detection": false, "dedup": false}"#;

fn violations_text(violations: &[msapi::Violation]) -> String {
    violations.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

/// Submit bodies of at most 100 tiIndicators each, every one validated.
fn assert_submittable(values: &[serde_json::Value], what: &str) {
    for chunk in values.chunks(MAX_BATCH) {
        let body = serde_json::json!({ "value": chunk }).to_string();
        let violations = msapi::graph_submit(&body);
        assert!(violations.is_empty(), "{what}:\n{}\n{body}", violations_text(&violations));
    }
}

#[derive(Default, Debug)]
struct Counts {
    upserts: usize,
    removals: usize,
    refused: usize,
}

/// Decodes, decides and maps every fixture at one destination; validates every body.
fn run(graph_settings: &str) -> Counts {
    let cfg = config(graph_settings, OPEN);
    let destination = &cfg.destinations[0];
    let atp = graph_settings == ATP;
    let mut counts = Counts::default();
    let mut all = Vec::new();
    for path in fixtures() {
        let text = fs::read_to_string(&path).unwrap();
        let decoded = decode(&text, &DecodeOptions::default()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut values = Vec::new();
        let mut removal_ids = Vec::new();
        for item in &decoded.items {
            let decision = policy::decide(item, destination, now());
            match decision.verdict {
                Verdict::Upsert => match graph::map(item, &decision, destination) {
                    Ok(ti) => {
                        let value = serde_json::to_value(&ti).unwrap();
                        let one = msapi::graph_ti_indicator(&value);
                        assert!(
                            one.is_empty(),
                            "{} {}:\n{}\n{value}",
                            path.display(),
                            item.path,
                            violations_text(&one)
                        );
                        assert_eq!(value["externalId"], graph::external_id(item));
                        values.push(value);
                        counts.upserts += 1;
                    }
                    Err(why) => {
                        // Only Defender ATP refuses anything the graph policy lets through.
                        let kind = item.observable.as_ref().map(|o| o.kind);
                        assert!(
                            atp && matches!(kind, Some(ObservableType::Cidr | ObservableType::Email)),
                            "{} {}: unexpected refusal: {why}",
                            path.display(),
                            item.path
                        );
                        assert!(why.ends_with(|c: char| c.is_alphanumeric() || c == '.'), "{why}");
                        counts.refused += 1;
                    }
                },
                Verdict::Remove => {
                    assert!(graph::map(item, &decision, destination).is_err(), "removals have no body");
                    removal_ids.push(graph::external_id(item));
                    counts.removals += 1;
                }
                Verdict::Skip => {}
            }
        }
        assert_submittable(&values, &path.display().to_string());
        let refs: Vec<&str> = removal_ids.iter().map(String::as_str).collect();
        for body in graph::delete_by_external_id_bodies(&refs) {
            let violations = msapi::graph_delete_by_external_id(&body);
            assert!(violations.is_empty(), "{}:\n{}\n{body}", path.display(), violations_text(&violations));
        }
        all.extend(values);
    }
    // All fixtures together, to exercise the 100-per-request chunking.
    assert_submittable(&all, "all fixtures");
    counts
}

#[test]
fn every_fixture_maps_to_valid_tiindicators_for_azure_sentinel() {
    let counts = run(SENTINEL);
    assert!(counts.upserts >= 10, "{counts:?}");
    assert!(counts.removals >= 1, "{counts:?}");
    assert_eq!(counts.refused, 0, "{counts:?}");
}

#[test]
fn every_fixture_maps_to_valid_tiindicators_for_defender_atp() {
    let counts = run(ATP);
    assert!(counts.upserts >= 10, "{counts:?}");
    assert!(counts.removals >= 1, "{counts:?}");
}

#[test]
fn threatconnect_follows_seed_002() {
    let cfg = config(SENTINEL, OPEN);
    let destination = &cfg.destinations[0];
    let text =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/decode/threatconnect_v3.json"))
            .unwrap();
    let decoded = decode(&text, &DecodeOptions::default()).unwrap();
    let item = &decoded.items[0];
    let decision = policy::decide(item, destination, now());
    let v = serde_json::to_value(graph::map(item, &decision, destination).unwrap()).unwrap();
    assert_eq!(v["description"], "ThreatConnect Address | Owner: ABC-Owner | Id: 3507838");
    assert_eq!(v["externalId"], "a8f1b2c3-tc-xid-12345");
    assert_eq!(v["networkIPv4"], "123.45.67.89");
    assert_eq!((v["networkPort"].as_u64(), v["networkProtocol"].as_u64()), (Some(443), Some(6)));
    assert_eq!(v["severity"], 4);
    assert_eq!(v["confidence"], 45);
    assert_eq!(v["threatType"], "C2");
    assert_eq!(v["tlpLevel"], "amber");
    assert_eq!(v["passiveOnly"], false);
    assert_eq!(v["killChain"], serde_json::json!(["Delivery", "Reconnaissance"]));
    assert_eq!(v["tags"], serde_json::json!(["APT28", "C2"]));
    assert_eq!(v["lastReportedDateTime"], "2023-09-19T14:51:51.000Z");
}

/// A STIX indicator with a long emoji description, at both target products.
#[test]
fn long_emoji_description_is_cut_to_100_utf16_units() {
    let description = format!("x{}", "🦠".repeat(80));
    let payload = format!(
        r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "created":"2023-12-01T00:00:00Z","modified":"2023-12-02T00:00:00Z","valid_from":"2023-12-01T00:00:00Z",
            "valid_until":"2024-02-01T00:00:00Z","labels":["malware"],"confidence":70,
            "object_marking_refs":["marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"],
            "description":"{description}","pattern":"[domain-name:value = 'evil.example']"}}"#
    );
    let decoded = decode(&payload, &DecodeOptions::default()).unwrap();
    assert!(decoded.errors.is_empty(), "{:?}", decoded.errors);
    for settings in [SENTINEL, ATP] {
        let cfg = config(settings, OPEN);
        let destination = &cfg.destinations[0];
        let item = &decoded.items[0];
        let decision = policy::decide(item, destination, now());
        assert_eq!(decision.verdict, Verdict::Upsert, "{decision:?}");
        let v = serde_json::to_value(graph::map(item, &decision, destination).unwrap()).unwrap();
        let text = v["description"].as_str().unwrap();
        assert_eq!(text, format!("x{}…", "🦠".repeat(49)));
        assert_eq!(text.encode_utf16().count(), 100);
        // valid_until is honoured, TLP:AMBER+STRICT is written as red and so passive.
        assert_eq!(v["expirationDateTime"], "2024-02-01T00:00:00.000Z");
        assert_eq!((v["tlpLevel"].as_str(), v["passiveOnly"].as_bool()), (Some("red"), Some(true)));
        assert_eq!(v["threatType"], "Malware");
        assert_submittable(&[v], settings);
    }
}

#[test]
fn delete_bodies_are_valid_and_chunked() {
    let ids: Vec<String> = (0..205).map(|i| format!("ext-{i}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let bodies = graph::delete_by_external_id_bodies(&refs);
    assert_eq!(bodies.len(), 3);
    for body in &bodies {
        let violations = msapi::graph_delete_by_external_id(body);
        assert!(violations.is_empty(), "{}", violations_text(&violations));
    }
    assert!(msapi::graph_delete_by_external_id(&graph::delete_by_external_id_body(&refs)).is_empty());
}
