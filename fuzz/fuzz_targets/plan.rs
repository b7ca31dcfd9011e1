//! Fuzzes the planner: any payload, planned for one destination of each type, must plan or fail
//! with an error — never panic — and every request must stay within its API's batch limit and
//! carry only items whose verdict sends something.
//!
//! Run with `make fuzz` or `cargo +nightly fuzz run plan fuzz/corpus/plan tests/fixtures/decode`.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use ti_relay::config::{self, Config};
use ti_relay::plan::{self, PlanFacts};
use ti_relay::policy::Verdict;
use ti_relay::time::Timestamp;

const CONFIG: &str = r#"{"destinations": [
  {"name": "s", "type": "sentinel", "tenant": "t.example", "client_id": "11111111-2222-3333-4444-555555555555",
   "credential": {"secret": "S"}, "sentinel": {"workspace_id": "66666666-7777-8888-9999-000000000000"}},
  {"name": "d", "type": "defender", "tenant": "t.example", "client_id": "11111111-2222-3333-4444-555555555555",
   "credential": {"secret": "D"}, "policy": {"tlp_ceiling": "red"}},
  {"name": "g", "type": "graph", "tenant": "t.example", "credential": {"managed_identity": true}}
]}"#;

fn config() -> &'static Config {
    static CONFIG_CELL: OnceLock<Config> = OnceLock::new();
    CONFIG_CELL.get_or_init(|| config::parse(CONFIG).expect("the fuzz config is valid"))
}

fuzz_target!(|text: &str| {
    let facts = PlanFacts { now: Timestamp::parse("2024-03-10T00:00:00Z").ok(), ..PlanFacts::default() };
    let Ok(plan) = plan::plan(config(), text, &facts) else { return };
    for request in &plan.requests {
        let limit = match request.op.as_str() {
            "sentinel-upload" | "graph-submit" | "graph-delete" => 100,
            "defender-import" => 500,
            // One lookup carries every removal of the plan.
            _ => usize::MAX,
        };
        if request.op == "defender-lookup" {
            assert_eq!(request.values.len(), request.items.len(), "{}", request.id);
        }
        // Narrowing to every item gives the same request back.
        let same = plan::retain(request, &request.items).expect("a planned request narrows");
        assert_eq!(&same, request, "{}", request.id);
        assert!(!request.items.is_empty() && request.items.len() <= limit, "{}", request.id);
        if let Some(body) = &request.body {
            serde_json::from_str::<serde_json::Value>(body).expect("a request body is JSON");
        }
    }
    for item in &plan.items {
        assert_eq!(item.verdicts.len(), 3);
        for v in &item.verdicts {
            let carried = plan.requests.iter().filter(|r| *r.destination == *v.destination && r.items.contains(&item.key)).count();
            assert_eq!(carried, usize::from(v.verdict != Verdict::Skip), "{} at {}", item.key, v.destination);
        }
    }
});
