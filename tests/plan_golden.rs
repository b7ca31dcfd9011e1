//! The plan, end to end in Rust: every decode fixture planned for one destination of each type.
//! Golden files under `tests/fixtures/plan/` (regenerate with `UPDATE_GOLDEN=1 cargo test --test
//! plan_golden` and review the diff); every request body checked against the documented
//! constraints of its API (`tests/support/msapi.rs`); invariants on verdicts and batch sizes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "support/msapi.rs"]
mod msapi;

use std::fs;
use std::path::{Path, PathBuf};

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

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/decode");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            !name.ends_with(".decoded.json") && (name.ends_with(".json") || name.ends_with(".sse"))
        })
        .collect();
    files.sort();
    files
}

fn plan_of(text: &str) -> Plan {
    let cfg = config::parse(CONFIG).unwrap();
    plan::plan(&cfg, text, &facts()).unwrap()
}

#[test]
fn every_fixture_matches_its_golden_plan() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut failures = Vec::new();
    for input in fixtures() {
        let text = fs::read_to_string(&input).unwrap();
        let mut got = serde_json::to_string_pretty(&plan_of(&text)).unwrap();
        got.push('\n');
        let stem = input.file_stem().unwrap().to_string_lossy().into_owned();
        let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/plan/{stem}.plan.json"));
        if update {
            fs::write(&golden, &got).unwrap();
            continue;
        }
        match fs::read_to_string(&golden) {
            Ok(want) if want == got => {}
            Ok(_) => failures.push(format!("{} differs from {}", input.display(), golden.display())),
            Err(_) => failures.push(format!("{} has no golden file {}", input.display(), golden.display())),
        }
    }
    assert!(failures.is_empty(), "{}\n(regenerate with UPDATE_GOLDEN=1 and review the diff)", failures.join("\n"));
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
                "defender-lookup" => (Vec::new(), 1),
                "graph-submit" => (msapi::graph_submit(body), 100),
                "graph-delete" => (msapi::graph_delete_by_external_id(body), 100),
                other => panic!("unexpected op {other}"),
            };
            assert!(violations.is_empty(), "{} {}: {violations:?}\n{body}", input.display(), request.id);
            assert!(!request.items.is_empty() && request.items.len() <= limit, "{}", request.id);
            assert!(request.url.starts_with("https://"), "{}", request.url);
            assert!(request.audience.ends_with("/.default"), "{}", request.audience);
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
            let names: Vec<&str> = item.verdicts.iter().map(|v| v.destination.as_str()).collect();
            assert_eq!(names, ["sentinel", "defender", "graph"], "{}", input.display());
            for v in &item.verdicts {
                let carried = plan
                    .requests
                    .iter()
                    .filter(|r| r.destination == v.destination && r.items.contains(&item.key))
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
fn missing_now_is_an_error() {
    let cfg = config::parse(CONFIG).unwrap();
    let err = plan::plan(&cfg, "[]", &PlanFacts::default()).unwrap_err();
    assert_eq!(err.code(), ti_relay::Code::Missing);
    assert!(err.message().starts_with("missing `facts.now`"));
}
