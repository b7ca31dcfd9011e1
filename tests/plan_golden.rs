//! The plan, end to end in Rust: every decode fixture planned for one destination of each type.
//! Golden files under `tests/fixtures/plan/` (regenerate with `UPDATE_GOLDEN=1 cargo test --test
//! plan_golden` and review the diff); every request body checked against the documented
//! constraints of its API (`tests/support/msapi.rs`); invariants on verdicts and batch sizes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "support/golden.rs"]
mod golden;
#[path = "support/msapi.rs"]
mod msapi;

use std::fs;
use std::path::Path;

use golden::fixtures;

use ti_relay::config;
use ti_relay::plan::{self, Plan, PlanFacts};
use ti_relay::time::Timestamp;

const CONFIG: &str = r#"{
  "destinations": [
    {"name": "sentinel", "type": "sentinel", "tenant": "contoso.onmicrosoft.com",
     "client_id": "11111111-2222-3333-4444-555555555555", "credential": {"secret": "SENTINEL_SECRET"},
     "sentinel": {"workspace_id": "66666666-7777-8888-9999-000000000000"}},
    {"name": "defender", "type": "defender", "tenant": "contoso.onmicrosoft.com",
     "client_id": "11111111-2222-3333-4444-555555555555", "credential": {"secret": "DEFENDER_SECRET"}},
    {"name": "graph", "type": "graph", "tenant": "contoso.onmicrosoft.com",
     "client_id": "11111111-2222-3333-4444-555555555555", "credential": {"secret": "GRAPH_SECRET"}}
  ]
}"#;

fn facts() -> PlanFacts {
    PlanFacts { now: Some(Timestamp::parse("2024-03-10T00:00:00Z").unwrap()), ..PlanFacts::default() }
}

fn plan_of(text: &str) -> Plan {
    let cfg = config::parse(CONFIG).unwrap();
    plan::plan(&cfg, text, &facts()).unwrap()
}

#[test]
fn every_fixture_matches_its_golden_plan() {
    let mut failures = Vec::new();
    for input in fixtures() {
        let text = fs::read_to_string(&input).unwrap();
        let mut got = serde_json::to_string_pretty(&plan_of(&text)).unwrap();
        got.push('\n');
        let stem = input.file_stem().unwrap().to_string_lossy().into_owned();
        let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/plan/{stem}.plan.json"));
        golden::check(&input, &golden, &got, &mut failures);
    }
    golden::assert_none(&failures);
}

#[test]
fn every_request_satisfies_its_api() {
    for input in fixtures() {
        let text = fs::read_to_string(&input).unwrap();
        let plan = plan_of(&text);
        for request in &plan.requests {
            let body = request.body.as_deref().unwrap_or("");
            let (violations, limit) = match request.op.as_str() {
                "sentinel-upload" => (msapi::sentinel_stix_upload(body), 100),
                "defender-import" => (msapi::defender_import(body), 500),
                // One lookup serves every removal of the plan.
                "defender-lookup" => (Vec::new(), usize::MAX),
                "graph-submit" => (msapi::graph_submit(body), 100),
                "graph-delete" => (msapi::graph_delete_by_external_id(body), 100),
                other => panic!("unexpected op {other}"),
            };
            assert!(violations.is_empty(), "{} {}: {violations:?}\n{body}", input.display(), request.id);
            assert!(!request.items.is_empty() && request.items.len() <= limit, "{}", request.id);
            assert!(request.url.starts_with("https://"), "{}", request.url);
            assert!(request.audience.ends_with("/.default"), "{}", request.audience);
            // The rate windows are the limit class's.
            let class = plan::LimitClass::from_name(request.limit.split(':').next().unwrap()).unwrap();
            assert_eq!(request.rate, class.rate(), "{}", request.id);
            assert!(!request.rate.is_empty());
            if request.op == "defender-lookup" {
                assert_eq!(request.values.len(), request.items.len(), "{}", request.id);
            }
        }
    }
}

#[test]
fn every_item_has_one_verdict_per_destination_and_requests_carry_only_what_goes_out() {
    for input in fixtures() {
        let text = fs::read_to_string(&input).unwrap();
        let plan = plan_of(&text);
        let mut keys: Vec<&str> = plan.items.iter().map(|i| i.key.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), plan.items.len(), "item keys are unique");
        for item in &plan.items {
            let names: Vec<&str> = item.verdicts.iter().map(|v| &*v.destination).collect();
            assert_eq!(names, ["sentinel", "defender", "graph"], "{}", input.display());
            for v in &item.verdicts {
                let carried = plan
                    .requests
                    .iter()
                    .filter(|r| *r.destination == *v.destination && r.items.contains(&item.key))
                    .count();
                let expected = usize::from(v.verdict != ti_relay::policy::Verdict::Skip);
                assert_eq!(carried, expected, "{} {} at {}: {v:?}", input.display(), item.key, v.destination);
                assert_eq!(v.reason.is_some(), v.verdict == ti_relay::policy::Verdict::Skip);
            }
        }
    }
}

#[test]
fn the_same_input_gives_byte_identical_plans() {
    for input in fixtures() {
        let text = fs::read_to_string(&input).unwrap();
        let a = serde_json::to_string(&plan_of(&text)).unwrap();
        let b = serde_json::to_string(&plan_of(&text)).unwrap();
        assert_eq!(a, b, "{}", input.display());
    }
}

#[test]
fn batches_split_at_the_api_limits() {
    let objects: Vec<String> = (0..1234)
        .map(|i| {
            format!(
                r#"{{"type":"ipv4-addr","id":"ipv4-addr--{i}","value":"10.{}.{}.{}"}}"#,
                i / 65536,
                i / 256 % 256,
                i % 256
            )
        })
        .collect();
    let plan = plan_of(&format!("[{}]", objects.join(",")));
    let sizes = |op: &str| plan.requests.iter().filter(|r| r.op == op).map(|r| r.items.len()).collect::<Vec<_>>();
    assert_eq!(sizes("sentinel-upload"), [100; 12].iter().copied().chain([34]).collect::<Vec<_>>());
    assert_eq!(sizes("defender-import"), [500, 500, 234]);
    assert_eq!(sizes("graph-submit").len(), 13);
}

#[test]
fn dry_run_requests_are_marked_not_to_be_sent() {
    let cfg = config::parse(
        &CONFIG
            .replace(r#""sentinel": {"workspace_id""#, r#""policy": {"dry_run": true}, "sentinel": {"workspace_id""#),
    )
    .unwrap();
    let plan = plan::plan(&cfg, r#"[{"type":"ipv4-addr","value":"198.51.100.1"}]"#, &facts()).unwrap();
    let flags: Vec<(&str, bool)> = plan.requests.iter().map(|r| (r.destination.as_str(), r.dry_run)).collect();
    assert_eq!(flags, [("sentinel", true), ("defender", false), ("graph", false)]);
    assert!(serde_json::to_string(&plan.requests[0]).unwrap().contains(r#""dry_run":true"#));
    assert!(!serde_json::to_string(&plan.requests[1]).unwrap().contains("dry_run"));
}

#[test]
fn without_split_patterns_sentinel_gets_each_source_pattern_once() {
    let cfg = config::parse(
        &CONFIG.replace(r#""sentinel": {"workspace_id""#, r#""sentinel": {"split_patterns": false, "workspace_id""#),
    )
    .unwrap();
    let payload = r#"[
        {"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2024-03-01T00:00:00Z","modified":"2024-03-01T00:00:00Z","valid_from":"2024-03-01T00:00:00Z",
         "pattern":"[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f'] OR [file:hashes.MD5 = 'e5e8b4a4b5b5c2e1e8c4b5a4b5c2e1e8']","pattern_type":"stix"},
        {"type":"ipv4-addr","value":"198.51.100.1"}
    ]"#;
    let plan = plan::plan(&cfg, payload, &facts()).unwrap();
    assert_eq!(plan.items.len(), 3);
    let upload = plan.requests.iter().find(|r| r.op == "sentinel-upload").unwrap();
    assert_eq!(upload.items.len(), 3);
    assert_eq!(upload.objects, [0, 0, 1]);
    let body: serde_json::Value = serde_json::from_str(upload.body.as_deref().unwrap()).unwrap();
    let objects = body["stixobjects"].as_array().unwrap();
    assert_eq!(objects.len(), 2);
    assert_eq!(objects[0]["id"], "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f");
    assert!(objects[0]["pattern"].as_str().unwrap().contains(" OR "));
    assert!(msapi::sentinel_stix_upload(upload.body.as_deref().unwrap()).is_empty());
    // Defender still gets one indicator per hash.
    assert_eq!(plan.requests.iter().find(|r| r.op == "defender-import").unwrap().items.len(), 3);
    // A record error on the shared object rejects both of its items, and only them.
    let response = ti_relay::interpret::Response::new(
        200,
        &[],
        r#"{"errors":[{"recordIndex":0,"errorMessages":["Error for Property=pattern: invalid"]}]}"#,
    );
    let result = plan::interpret(&cfg, upload, &response).unwrap();
    let outcomes: Vec<bool> = result.items.iter().map(|i| i.outcome.is_accepted()).collect();
    assert_eq!(outcomes, [false, false, true]);
}

#[test]
fn missing_now_is_an_error() {
    let cfg = config::parse(CONFIG).unwrap();
    let err = plan::plan(&cfg, "[]", &PlanFacts::default()).unwrap_err();
    assert_eq!(err.code(), ti_relay::Code::Missing);
    assert!(err.message().starts_with("missing `facts.now`"));
}

mod properties {
    use proptest::prelude::*;

    use super::{CONFIG, facts, msapi};
    use ti_relay::config;
    use ti_relay::plan;
    use ti_relay::policy::Verdict;

    /// A random STIX object or OpenCTI event from a small vocabulary of real-looking values, with
    /// random TLP, score, validity and revocation.
    fn object() -> impl Strategy<Value = String> {
        let pattern = prop_oneof![
            (0u8..=255, 0u8..=255).prop_map(|(a, b)| format!("[ipv4-addr:value = '198.51.{a}.{b}']")),
            "[a-z]{1,12}".prop_map(|d| format!("[domain-name:value = '{d}.example']")),
            "[a-z0-9/]{0,20}".prop_map(|p| format!("[url:value = 'https://evil.example/{p}']")),
            "[0-9a-f]{64}".prop_map(|h| format!("[file:hashes.'SHA-256' = '{h}']")),
            ("[0-9a-f]{32}", "[0-9a-f]{40}")
                .prop_map(|(m, s)| format!("[file:hashes.MD5 = '{m}'] OR [file:hashes.'SHA-1' = '{s}']")),
            Just("[ipv4-addr:value = '198.51.100.1'] FOLLOWEDBY [domain-name:value = 'x.example']".to_owned()),
            "[a-z]{1,8}".prop_map(|u| format!("[email-addr:value = '{u}@evil.example']")),
            (1u32..400_000).prop_map(|n| format!("[autonomous-system:number = {n}]")),
        ];
        let tlp = prop_oneof![
            Just(""),
            Just(r#","object_marking_refs":["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"]"#),
            Just(r#","object_marking_refs":["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"]"#),
            Just(r#","object_marking_refs":["marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"]"#),
        ];
        let until = prop_oneof![
            Just(""),
            Just(r#","valid_until":"2024-03-01T00:00:00Z""#),
            Just(r#","valid_until":"2024-09-01T00:00:00Z""#)
        ];
        let event = prop_oneof![Just(None), Just(Some("create")), Just(Some("update")), Just(Some("delete"))];
        (pattern, tlp, until, 0u8..=100, any::<bool>(), 0u32..20, event).prop_map(|(pattern, tlp, until, score, revoked, id, event)| {
            let object = format!(
                r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-{id:012}",
                    "created":"2024-01-01T00:00:00Z","modified":"2024-02-01T00:00:00Z","valid_from":"2024-01-01T00:00:00Z",
                    "pattern":{},"pattern_type":"stix","x_opencti_score":{score},"revoked":{revoked}{tlp}{until}}}"#,
                serde_json::to_string(&pattern).unwrap()
            );
            match event {
                None => object,
                Some(kind) => format!(r#"{{"type":"{kind}","data":{object}}}"#),
            }
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Whatever the payload: one verdict per item and destination; requests within the API
        /// limits and satisfying the documented constraints; carried exactly when sent; and the
        /// same payload planned twice gives the same bytes.
        #[test]
        fn plans_are_sound(objects in prop::collection::vec(object(), 0..40), opencti: bool) {
            let payload = if opencti {
                format!("[{}]", objects.iter().map(|o| if o.starts_with(r#"{"type":"indicator""#) { format!(r#"{{"type":"create","data":{o}}}"#) } else { o.clone() }).collect::<Vec<_>>().join(","))
            } else {
                let plain: Vec<String> = objects.iter().map(|o| if o.starts_with(r#"{"type":"indicator""#) { o.clone() } else { serde_json::from_str::<serde_json::Value>(o).unwrap()["data"].to_string() }).collect();
                format!(r#"{{"type":"bundle","id":"bundle--1","objects":[{}]}}"#, plain.join(","))
            };
            let cfg = config::parse(CONFIG).unwrap();
            let plan = plan::plan(&cfg, &payload, &facts()).unwrap();
            prop_assert!(plan.errors.is_empty(), "{:?}", plan.errors);
            for item in &plan.items {
                prop_assert_eq!(item.verdicts.len(), 3);
                for v in &item.verdicts {
                    let carried = plan.requests.iter().filter(|r| *r.destination == *v.destination && r.items.contains(&item.key)).count();
                    prop_assert_eq!(carried, usize::from(v.verdict != Verdict::Skip));
                }
            }
            for r in &plan.requests {
                let body = r.body.as_deref().unwrap_or("");
                let (violations, limit) = match r.op.as_str() {
                    "sentinel-upload" => (msapi::sentinel_stix_upload(body), 100),
                    "defender-import" => (msapi::defender_import(body), 500),
                    "graph-submit" => (msapi::graph_submit(body), 100),
                    "graph-delete" => (msapi::graph_delete_by_external_id(body), 100),
                    _ => (Vec::new(), usize::MAX),
                };
                prop_assert!(violations.is_empty(), "{} {:?}\n{}", r.id, violations, body);
                prop_assert!(!r.items.is_empty() && r.items.len() <= limit);
            }
            let again = plan::plan(&cfg, &payload, &facts()).unwrap();
            prop_assert_eq!(serde_json::to_string(&plan).unwrap(), serde_json::to_string(&again).unwrap());
        }
    }
}
