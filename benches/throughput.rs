//! Native decode throughput (`make bench`, `cargo bench --bench throughput`).
//!
//! Generates the deterministic corpus ([`corpus`]), writes it to `target/bench-corpus/` (the
//! wasm bench, `bench/wasm.mjs`, reads the same files), then times
//! `ti_relay::decode(text, &DecodeOptions::default())` on each format's payload: a warm-up, then
//! repeated runs for at least [`MIN_TIME`], reporting the best and median run as source
//! indicators per second and MB/s. Budget (SPEC §9, reported, not enforced): the mixed STIX
//! corpus at ≥ 300,000 indicators/s natively.
//!
//! Options: `cargo bench --bench throughput -- [--quick] [--plan-only] [FORMAT...]` (`--plan-only`
//! skips the decode table, for profiling the plan).

#![allow(clippy::print_stdout)] // a benchmark reports on stdout

mod corpus;

use std::error::Error;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use ti_relay::{DecodeOptions, decode};

/// Repeat each format's decode for at least this long (after the warm-up).
const MIN_TIME: Duration = Duration::from_secs(2);
/// ... and at least this many times.
const MIN_RUNS: usize = 5;
const WARMUP: Duration = Duration::from_millis(300);
/// The budget of SPEC §9 for the mixed STIX corpus, natively.
const STIX_BUDGET: f64 = 300_000.0;

struct Row {
    format: &'static str,
    bytes: usize,
    indicators: usize,
    outcome: Result<Measured, String>,
}

struct Measured {
    items: usize,
    errors: usize,
    runs: usize,
    best: Duration,
    median: Duration,
}

fn measure(text: &str) -> Result<Measured, String> {
    let options = DecodeOptions::default();
    let first = decode(text, &options).map_err(|e| e.to_string())?;
    let (items, errors) = (first.items.len(), first.errors.len());
    drop(first);

    let warm = Instant::now();
    while warm.elapsed() < WARMUP {
        black_box(decode(black_box(text), &options).map_err(|e| e.to_string())?);
    }
    let mut times = Vec::new();
    let start = Instant::now();
    while start.elapsed() < MIN_TIME || times.len() < MIN_RUNS {
        let t = Instant::now();
        let decoded = decode(black_box(text), &options);
        times.push(t.elapsed());
        black_box(decoded.map_err(|e| e.to_string())?);
    }
    times.sort_unstable();
    let best = times.first().copied().unwrap_or_default();
    let median = times.get(times.len() / 2).copied().unwrap_or_default();
    Ok(Measured { items, errors, runs: times.len(), best, median })
}

fn per_sec(count: usize, d: Duration) -> f64 {
    count as f64 / d.as_secs_f64().max(1e-9)
}

/// `1234567.8` → `1,234,568`.
fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn print_table(title: &str, rows: &[Row]) {
    println!("\n{title}");
    println!(
        "{:<14} {:>9} {:>10} {:>8} {:>7} {:>5} {:>10} {:>10} {:>13} {:>13} {:>8}",
        "format",
        "MB",
        "indicators",
        "items",
        "errors",
        "runs",
        "best ms",
        "median ms",
        "best ind/s",
        "median ind/s",
        "MB/s"
    );
    for r in rows {
        let mb = r.bytes as f64 / 1e6;
        match &r.outcome {
            Ok(m) => println!(
                "{:<14} {:>9.2} {:>10} {:>8} {:>7} {:>5} {:>10.1} {:>10.1} {:>13} {:>13} {:>8.1}",
                r.format,
                mb,
                r.indicators,
                m.items,
                m.errors,
                m.runs,
                m.best.as_secs_f64() * 1e3,
                m.median.as_secs_f64() * 1e3,
                thousands(per_sec(r.indicators, m.best)),
                thousands(per_sec(r.indicators, m.median)),
                mb / m.median.as_secs_f64().max(1e-9),
            ),
            Err(e) => println!("{:<14} {:>9.2} {:>10}  decode failed: {e}", r.format, mb, r.indicators),
        }
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let quick = args.iter().any(|a| a == "--quick");
    let plan_only = args.iter().any(|a| a == "--plan-only");
    let only: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();

    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target").join("bench-corpus");
    std::fs::create_dir_all(&dir)?;
    let corpora = corpus::all();
    // The manifest lists the files in the order the tables print them.
    let mut manifest = Vec::new();
    for c in &corpora {
        // The generator is hand-written JSON: check it is JSON at all before timing anything.
        serde_json::from_str::<serde::de::IgnoredAny>(&c.text)
            .map_err(|e| format!("corpus {} is not valid JSON: {e}", c.format))?;
        std::fs::write(dir.join(format!("{}.json", c.format)), &c.text)?;
        manifest.push(serde_json::json!({
            "format": c.format,
            "file": format!("{}.json", c.format),
            "bytes": c.text.len(),
            "indicators": c.indicators,
        }));
    }
    std::fs::write(dir.join("manifest.json"), serde_json::to_string_pretty(&manifest)?)?;
    println!(
        "corpus: {} formats x {} source indicators written to {}",
        corpora.len(),
        corpus::INDICATORS,
        dir.display()
    );

    let mut rows = Vec::new();
    for c in corpora.iter().filter(|c| !plan_only && (only.is_empty() || only.iter().any(|o| *o == c.format))) {
        let outcome = if quick {
            // One timed run: checks the bench works without spending its time.
            let t = Instant::now();
            decode(&c.text, &DecodeOptions::default())
                .map(|d| Measured {
                    items: d.items.len(),
                    errors: d.errors.len(),
                    runs: 1,
                    best: t.elapsed(),
                    median: t.elapsed(),
                })
                .map_err(|e| e.to_string())
        } else {
            measure(&c.text)
        };
        rows.push(Row { format: c.format, bytes: c.text.len(), indicators: c.indicators, outcome });
    }
    print_table("native decode throughput (ti_relay::decode, DecodeOptions::default())", &rows);

    if let Some(Row { outcome: Ok(m), indicators, .. }) = rows.iter().find(|r| r.format == "stix") {
        let rate = per_sec(*indicators, m.median);
        let verdict = if rate >= STIX_BUDGET { "within" } else { "OVER" };
        println!(
            "\nbudget: mixed STIX corpus {} indicators/s (median) vs >= {} natively: {verdict} budget",
            thousands(rate),
            thousands(STIX_BUDGET)
        );
    }
    plan_bench(&dir, &corpora, quick, &only)
}

/// Three destinations, one of each type, every indicator type and TLP allowed where the API takes
/// it: the plan's full work for every item.
const PLAN_CONFIG: &str = r#"{"destinations": [
  {"name": "sentinel", "type": "sentinel", "tenant": "contoso.onmicrosoft.com", "client_id": "11111111-2222-3333-4444-555555555555",
   "credential": {"secret": "S"}, "sentinel": {"workspace_id": "66666666-7777-8888-9999-000000000000"}, "policy": {"tlp_ceiling": "red"}},
  {"name": "defender", "type": "defender", "tenant": "contoso.onmicrosoft.com", "client_id": "11111111-2222-3333-4444-555555555555",
   "credential": {"secret": "D"}, "policy": {"tlp_ceiling": "red"}},
  {"name": "graph", "type": "graph", "tenant": "contoso.onmicrosoft.com", "client_id": "11111111-2222-3333-4444-555555555555",
   "credential": {"secret": "G"}, "policy": {"tlp_ceiling": "red"}}
]}"#;
const PLAN_NOW: &str = "2025-06-01T00:00:00Z";
/// Budgets (issue 3): ≥ 200,000 indicators/s natively for the 10k corpus to three destinations.
const PLAN_BUDGET: f64 = 200_000.0;

fn time_runs(quick: bool, mut f: impl FnMut()) -> (usize, Duration, Duration) {
    if !quick {
        let warm = Instant::now();
        while warm.elapsed() < WARMUP {
            f();
        }
    }
    let mut times = Vec::new();
    let start = Instant::now();
    while times.is_empty() || (!quick && (start.elapsed() < MIN_TIME || times.len() < MIN_RUNS)) {
        let t = Instant::now();
        f();
        times.push(t.elapsed());
    }
    times.sort_unstable();
    (times.len(), times.first().copied().unwrap_or_default(), times.get(times.len() / 2).copied().unwrap_or_default())
}

fn plan_bench(
    dir: &std::path::Path,
    corpora: &[corpus::Corpus],
    quick: bool,
    only: &[&String],
) -> Result<(), Box<dyn Error>> {
    use ti_relay::plan::{PlanFacts, plan};
    let config = ti_relay::config::parse(PLAN_CONFIG)?;
    let facts = PlanFacts { now: Some(ti_relay::time::Timestamp::parse(PLAN_NOW)?), ..PlanFacts::default() };
    std::fs::write(dir.join("plan-config.json"), PLAN_CONFIG)?;
    println!("\nnative plan throughput (ti_relay::plan::plan, 3 destinations: sentinel, defender, graph)");
    println!(
        "{:<14} {:>10} {:>8} {:>9} {:>5} {:>10} {:>13}",
        "format", "indicators", "items", "requests", "runs", "median ms", "median ind/s"
    );
    let mut stix_rate = None;
    for c in corpora.iter().filter(|c| only.is_empty() || only.iter().any(|o| *o == c.format)) {
        let first = plan(&config, &c.text, &facts)?;
        let (runs, _, median) = time_runs(quick, || {
            black_box(plan(&config, black_box(&c.text), &facts).map_or(0, |p| p.requests.len()));
        });
        let rate = per_sec(c.indicators, median);
        if c.format == "stix" {
            stix_rate = Some(rate);
        }
        println!(
            "{:<14} {:>10} {:>8} {:>9} {:>5} {:>10.1} {:>13}",
            c.format,
            c.indicators,
            first.items.len(),
            first.requests.len(),
            runs,
            median.as_secs_f64() * 1e3,
            thousands(rate)
        );
    }
    if let Some(rate) = stix_rate {
        let verdict = if rate >= PLAN_BUDGET { "within" } else { "OVER" };
        println!(
            "budget: plan of the mixed STIX corpus {} indicators/s vs >= {}: {verdict} budget",
            thousands(rate),
            thousands(PLAN_BUDGET)
        );
    }
    // A 100-indicator OpenCTI webhook payload: the first 100 events of the corpus.
    if let Some(opencti) =
        corpora.iter().find(|c| c.format == "opencti" && (only.is_empty() || only.iter().any(|o| *o == "opencti")))
    {
        let events: Vec<serde_json::Value> = serde_json::from_str(&opencti.text)?;
        let hundred = serde_json::to_string(&events.iter().take(100).collect::<Vec<_>>())?;
        std::fs::write(dir.join("opencti-100.json"), &hundred)?;
        let (runs, best, median) = time_runs(quick, || {
            black_box(plan(&config, black_box(&hundred), &facts).map_or(0, |p| p.requests.len()));
        });
        println!(
            "plan of a 100-indicator OpenCTI payload to 3 destinations: median {:.3} ms, best {:.3} ms ({runs} runs)",
            median.as_secs_f64() * 1e3,
            best.as_secs_f64() * 1e3
        );
    }
    Ok(())
}
