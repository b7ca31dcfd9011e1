//! Where a plan's time goes, natively: its stages timed cumulatively on one corpus file, and a
//! mode that only plans, for `valgrind --tool=callgrind` (deterministic instruction counts: this
//! VM has no hardware counters and its wall time is noisy).
//!
//! ```text
//! cargo bench --bench throughput -- --quick stix     # once: writes target/bench-corpus/
//! cargo bench --bench phases -- stix 20              # stages of the 10k STIX plan, 20 runs each
//! cargo bench --bench phases -- opencti-100 500
//! cargo bench --bench phases --no-run                # then, with the binary it names:
//! valgrind --tool=callgrind target/release/deps/phases-<hash> --only-plan opencti-100 100
//! ```
//!
//! Stages (each includes the ones above it): decode; + the item ids (SHA-1); + the policy for
//! every destination; the whole plan; + its JSON text (`Plan::to_json`, bodies included).

#![allow(clippy::print_stdout)] // a benchmark reports on stdout

use std::error::Error;
use std::hint::black_box;
use std::time::Instant;

use ti_relay::{DecodeOptions, decode};

fn main() -> Result<(), Box<dyn Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let only_plan = args.iter().any(|a| a == "--only-plan");
    args.retain(|a| a != "--only-plan");
    let file = args.first().map_or("stix", String::as_str);
    let runs: usize = args.get(1).map(|n| n.parse()).transpose()?.unwrap_or(20);

    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-corpus");
    let text = std::fs::read_to_string(corpus.join(format!("{file}.json")))
        .map_err(|e| format!("{file}.json in target/bench-corpus: {e} (run `cargo bench --bench throughput` once)"))?;
    let config = ti_relay::config::parse(&std::fs::read_to_string(corpus.join("plan-config.json"))?)
        .map_err(|e| format!("plan-config.json: {e:?}"))?;
    let now = ti_relay::time::Timestamp::parse("2025-06-01T00:00:00Z")?;
    let facts = ti_relay::plan::PlanFacts { now: Some(now), ..Default::default() };

    if only_plan {
        for _ in 0..runs {
            black_box(ti_relay::plan::plan(&config, &text, &facts)?);
        }
        return Ok(());
    }
    println!("{file}: {runs} runs per stage (median, best)");
    stage("decode", runs, || {
        black_box(decode(&text, &DecodeOptions::default())?);
        Ok(())
    })?;
    stage("decode + ids", runs, || {
        let decoded = decode(&text, &DecodeOptions::default())?;
        black_box(decoded.items.iter().map(ti_relay::ids::item_uuid).collect::<Vec<_>>());
        Ok(())
    })?;
    stage("decode + policy x destinations", runs, || {
        let decoded = decode(&text, &DecodeOptions::default())?;
        for destination in &config.destinations {
            black_box(ti_relay::policy::decide_all(
                &decoded.items,
                destination,
                now,
                ti_relay::policy::Facts::default(),
            ));
        }
        Ok(())
    })?;
    stage("plan", runs, || {
        black_box(ti_relay::plan::plan(&config, &text, &facts)?);
        Ok(())
    })?;
    stage("plan + JSON text", runs, || {
        black_box(ti_relay::plan::plan(&config, &text, &facts)?.to_json()?);
        Ok(())
    })?;
    Ok(())
}

/// Runs `f` to warm up (a tenth of `runs`, at least three), then `runs` times, and prints the
/// median and best.
fn stage(name: &str, runs: usize, mut f: impl FnMut() -> Result<(), Box<dyn Error>>) -> Result<(), Box<dyn Error>> {
    for _ in 0..(runs / 10).max(3) {
        f()?;
    }
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        f()?;
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    let median = times.get(times.len() / 2).copied().unwrap_or_default();
    let best = times.first().copied().unwrap_or_default();
    println!("  {name:<32} {median:9.3} ms  {best:9.3} ms");
    Ok(())
}
