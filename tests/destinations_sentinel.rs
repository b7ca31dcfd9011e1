//! The Sentinel mapping end to end: every decode fixture, judged by the policy for a Sentinel
//! destination, mapped, batched as the STIX objects upload body and checked against the API's
//! documented constraints (`tests/support/msapi.rs`); determinism; the removal shape.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "support/golden.rs"]
mod golden;
#[path = "support/msapi.rs"]
mod msapi;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use ti_relay::config::{self, Config};
use ti_relay::destinations::sentinel;
use ti_relay::policy::{self, Verdict};
use ti_relay::time::Timestamp;
use ti_relay::{DecodeOptions, decode};

const NOW: &str = "2025-06-01T00:00:00Z";

fn now() -> Timestamp {
    Timestamp::parse(NOW).unwrap()
}

/// A Sentinel destination; `policy` as JSON object text (a high ceiling lets RED through).
fn config(policy: &str) -> Config {
    let text = format!(
        r#"{{"destinations": [{{"name": "s", "type": "sentinel", "tenant": "contoso.onmicrosoft.com",
            "client_id": "11111111-2222-3333-4444-555555555555", "credential": {{"secret": "S"}},
            "sentinel": {{"workspace_id": "66666666-7777-8888-9999-000000000000"}}, "policy": {policy}}}]}}"#
    );
    config::parse(&text).unwrap_or_else(|e| panic!("{e}"))
}

fn fixtures() -> Vec<PathBuf> {
    let files = golden::fixtures();
    assert!(files.len() >= 9, "fixtures missing: {files:?}");
    files
}

/// Every mapped object of every fixture, as JSON text, with its verdict, for `policy`.
fn mapped(policy: &str) -> Vec<(String, Verdict, String)> {
    let cfg = config(policy);
    let destination = &cfg.destinations[0];
    let mut out = Vec::new();
    for file in fixtures() {
        let text = fs::read_to_string(&file).unwrap();
        let decoded = decode(&text, &DecodeOptions::default()).unwrap();
        for item in &decoded.items {
            let decision = policy::decide(item, destination, now());
            if decision.verdict == Verdict::Skip {
                continue;
            }
            let where_ = format!("{} {}", file.display(), item.path);
            let object = sentinel::map(item, &decision, destination, now())
                .unwrap_or_else(|e| panic!("{where_}: cannot map: {e}"));
            assert_eq!(object.id, sentinel::object_id(item), "{where_}");
            out.push((where_, decision.verdict, serde_json::to_string(&object).unwrap()));
        }
    }
    out
}

fn bodies(objects: &[(String, Verdict, String)]) -> Vec<String> {
    objects
        .chunks(100)
        .map(|chunk| {
            let list: Vec<&str> = chunk.iter().map(|(_, _, o)| o.as_str()).collect();
            format!(r#"{{"sourcesystem":"ti-relay","stixobjects":[{}]}}"#, list.join(","))
        })
        .collect()
}

#[test]
fn every_fixture_maps_to_a_valid_upload() {
    for policy in [r#"{"tlp_ceiling": "red"}"#, "{}"] {
        let objects = mapped(policy);
        assert!(objects.len() >= 10, "too few objects: {}", objects.len());
        assert!(objects.iter().any(|(_, v, _)| *v == Verdict::Upsert));
        assert!(objects.iter().any(|(_, v, _)| *v == Verdict::Remove));
        for body in bodies(&objects) {
            let violations = msapi::sentinel_stix_upload(&body);
            assert!(
                violations.is_empty(),
                "{}\n{body}",
                violations.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
            );
        }
    }
}

#[test]
fn batches_of_a_hundred_stay_valid() {
    // Repeat the objects to make several full batches.
    let objects = mapped(r#"{"tlp_ceiling": "red"}"#);
    let many: Vec<_> = objects.iter().cycle().take(250).cloned().collect();
    let bodies = bodies(&many);
    assert_eq!(bodies.len(), 3);
    for body in bodies {
        assert!(msapi::sentinel_stix_upload(&body).is_empty());
    }
}

#[test]
fn mapping_is_deterministic() {
    let a = mapped(r#"{"tlp_ceiling": "red"}"#);
    let b = mapped(r#"{"tlp_ceiling": "red"}"#);
    assert_eq!(a, b);
}

#[test]
fn an_id_always_carries_the_same_pattern() {
    let objects = mapped(r#"{"tlp_ceiling": "red"}"#);
    let mut patterns: BTreeMap<String, (String, String)> = BTreeMap::new();
    for (where_, _, text) in &objects {
        let v: Value = serde_json::from_str(text).unwrap();
        let id = v["id"].as_str().unwrap().to_owned();
        let pattern = v["pattern"].as_str().unwrap().to_owned();
        if let Some((other, first)) = patterns.insert(id.clone(), (pattern.clone(), where_.clone())) {
            assert_eq!(other, pattern, "{id}: {first} and {where_}");
        }
    }
    assert!(patterns.len() > 1);
}

#[test]
fn removals_revoke_with_a_later_modified() {
    let cfg = config(r#"{"tlp_ceiling": "red"}"#);
    let destination = &cfg.destinations[0];
    let mut removals = 0;
    for file in fixtures() {
        let text = fs::read_to_string(&file).unwrap();
        let decoded = decode(&text, &DecodeOptions::default()).unwrap();
        for item in &decoded.items {
            let decision = policy::decide(item, destination, now());
            if decision.verdict != Verdict::Remove {
                continue;
            }
            removals += 1;
            let object = sentinel::map(item, &decision, destination, now()).unwrap();
            assert_eq!(object.revoked, Some(true));
            assert!(object.modified >= now());
            if let Some(source) = item.lifecycle.modified {
                assert!(object.modified > source, "{}", item.path);
            }
            assert!(object.modified >= object.created);
            let v = serde_json::to_value(&object).unwrap();
            assert_eq!(v["revoked"], Value::Bool(true));
        }
    }
    assert!(removals > 0, "no fixture gives a removal");
}

#[test]
fn threatconnect_follows_seed_004() {
    let cfg = config("{}");
    let destination = &cfg.destinations[0];
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/decode/threatconnect_v3.json");
    let text = fs::read_to_string(path).unwrap();
    let decoded = decode(&text, &DecodeOptions::default()).unwrap();
    let item = &decoded.items[0];
    let decision = policy::decide(item, destination, now());
    let object = sentinel::map(item, &decision, destination, now()).unwrap();
    assert_eq!(object.name.as_deref(), Some("123.45.67.89 | ABC-Owner"));
    assert_eq!(object.pattern, "[ipv4-addr:value = '123.45.67.89']");
    let description: Value = serde_json::from_str(object.description.as_deref().unwrap()).unwrap();
    assert_eq!(description["type"], "Address");
    assert_eq!(description["summary"], "123.45.67.89");
    assert_eq!(description["confidence"], 45);
    assert_eq!(description["rating"], 4);
    assert_eq!(description["threatAssessScore"], 548);
    assert_eq!(description["ownerName"], "ABC-Owner");
    assert_eq!(description["associatedGroups"], serde_json::json!([]));
    assert_eq!(description["attributes"][0], serde_json::json!({"type": "Last Seen", "value": "2023-09-19T14:51:51Z"}));
    assert_eq!(description["webLink"], "https://companyabc.threatconnect.com/#/details/indicators/12345/overview");
    assert_eq!(description["port"], 443);
    let v = serde_json::to_value(&object).unwrap();
    assert_eq!(v["kill_chain_phases"][0]["phase_name"], "delivery");
    assert_eq!(v["labels"], serde_json::json!(["APT28", "C2"]));
    assert_eq!(v["confidence"], 45);
    assert_eq!(
        v["object_marking_refs"],
        serde_json::json!(["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"])
    );
}
