// Wasm decode throughput under Node, and the wasm size (`make bench`; run with Node >= 22 through
// scripts/node.sh). Reads the corpus that `cargo bench --bench throughput` writes to
// target/bench-corpus/, times the package's `decode(text)` (the JS API: the raw JSON text in, plain
// JS values out) the same way as the native bench, and prints the same table. Budget (SPEC §9,
// reported, not enforced): the mixed STIX corpus at >= 150,000 indicators/s in wasm.
//
// Usage: scripts/node.sh bench/wasm.mjs [--quick] [--plan-only] [FORMAT...]
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";
import { gzipSync } from "node:zlib";
import { loadPkg, repoRoot } from "../tests/node/load.mjs";

const MIN_MS = 2000; // repeat each format for at least this long after the warm-up
const MIN_RUNS = 5; // ... and at least this many times
const WARMUP_MS = 300;
const STIX_BUDGET = 150_000;

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const only = args.filter((a) => !a.startsWith("-"));
const planOnly = args.includes("--plan-only"); // skip the decode table

const corpusDir = new URL("target/bench-corpus/", repoRoot);
const manifestUrl = new URL("manifest.json", corpusDir);
if (!existsSync(manifestUrl)) {
  console.error(
    `${fileURLToPath(manifestUrl)} is missing: run \`cargo bench --bench throughput\` (or make bench) first`,
  );
  process.exit(1);
}
const manifest = JSON.parse(readFileSync(manifestUrl, "utf8"));
const pkg = await loadPkg();

// The bench build (`--features bench`, target/pkg-bench/) adds two exports that time the core apart
// from handing the result to JS: `benchDecode` (decode only) and `benchDecodeSerialize` (decode and
// serialise to JSON text). `decode` is the public API: text in, plain JS objects out.
const benchUrl = new URL("target/pkg-bench/ti_relay.js", repoRoot);
let bench = null;
if (existsSync(benchUrl)) {
  bench = await import(benchUrl.href);
  bench.initSync({ module: readFileSync(new URL("target/pkg-bench/ti_relay_bg.wasm", repoRoot)) });
}

function time(fn, text) {
  const times = [];
  if (quick) {
    const t = performance.now();
    fn(text);
    times.push(performance.now() - t);
  } else {
    const warm = performance.now();
    while (performance.now() - warm < WARMUP_MS) fn(text);
    const start = performance.now();
    while (performance.now() - start < MIN_MS || times.length < MIN_RUNS) {
      const t = performance.now();
      fn(text);
      times.push(performance.now() - t);
    }
  }
  times.sort((a, b) => a - b);
  return { runs: times.length, best: times[0], median: times[Math.floor(times.length / 2)] };
}

const fmt = (x) => Math.round(x).toLocaleString("en-US");
const pad = (s, n) => String(s).padStart(n);

const rows = [];
for (const entry of manifest) {
  const { format } = entry;
  if (planOnly || (only.length && !only.includes(format))) continue;
  const text = readFileSync(new URL(entry.file, corpusDir), "utf8");
  const row = { format, bytes: entry.bytes, indicators: entry.indicators };
  try {
    const first = pkg.decode(text);
    row.items = first.items.length;
    row.errors = first.errors.length;
    if (bench) {
      row.core = time(bench.benchDecode, text);
      row.serialize = time(bench.benchDecodeSerialize, text);
    }
    row.full = time(pkg.decode, text);
  } catch (e) {
    row.error = e?.message ?? String(e);
  }
  rows.push(row);
}

const rate = (r, m) => (m ? (r.indicators / m.median) * 1000 : NaN);
console.log("\nwasm decode throughput under Node " + process.version + " (median of runs, source indicators/s)");
console.log("  core       = decode inside wasm, result dropped there (bench build)");
console.log("  +serialise = core + the result serialised to JSON text inside wasm (bench build)");
console.log("  decode()   = the public API: raw JSON text in, plain JS objects out (pkg/)");
console.log(
  "format".padEnd(14) + pad("MB", 8) + pad("indicators", 11) + pad("items", 8) + pad("errors", 8) +
    pad("core", 12) + pad("+serialise", 12) + pad("decode()", 12) + pad("decode() ms", 13),
);
for (const r of rows) {
  const mb = r.bytes / 1e6;
  if (r.error) {
    console.log(r.format.padEnd(14) + pad(mb.toFixed(2), 8) + pad(r.indicators, 11) + `  decode failed: ${r.error}`);
    continue;
  }
  console.log(
    r.format.padEnd(14) + pad(mb.toFixed(2), 8) + pad(r.indicators, 11) + pad(r.items, 8) + pad(r.errors, 8) +
      pad(r.core ? fmt(rate(r, r.core)) : "-", 12) + pad(r.serialize ? fmt(rate(r, r.serialize)) : "-", 12) +
      pad(fmt(rate(r, r.full)), 12) + pad(r.full.median.toFixed(1), 13),
  );
}

const stix = rows.find((r) => r.format === "stix" && !r.error);
if (stix) {
  const verdict = (x) => `${fmt(x)}/s ${x >= STIX_BUDGET ? "within" : "OVER"} budget`;
  const core = stix.core ? verdict(rate(stix, stix.core)) : "not measured (no target/pkg-bench)";
  console.log(
    `\nbudget (>= ${fmt(STIX_BUDGET)} STIX indicators/s in wasm): core ${core}; ` +
      `public decode() ${verdict(rate(stix, stix.full))}`,
  );
}

// The plan (public API): the 10k corpora to three destinations, and a 100-indicator OpenCTI webhook.
const planConfigUrl = new URL("plan-config.json", corpusDir);
if (existsSync(planConfigUrl)) {
  const relay = new pkg.Relay(readFileSync(planConfigUrl, "utf8"));
  const facts = { now: "2025-06-01T00:00:00Z" };
  console.log("\nwasm plan throughput under Node (relay.plan, 3 destinations; median, source indicators/s)");
  for (const entry of manifest) {
    if (only.length && !only.includes(entry.format)) continue;
    const text = readFileSync(new URL(entry.file, corpusDir), "utf8");
    const m = time((t) => relay.plan(t, facts), text);
    let core = "";
    if (bench && entry.format === "stix") {
      const benchRelay = new bench.Relay(readFileSync(planConfigUrl, "utf8"));
      const c = time((t) => benchRelay.benchPlan(t, facts.now, false), text);
      core = `   (inside wasm, plan only: ${fmt((entry.indicators / c.median) * 1000)}/s)`;
    }
    console.log(`${entry.format.padEnd(14)}${pad(fmt((entry.indicators / m.median) * 1000), 12)}/s${pad(m.median.toFixed(1), 10)} ms${core}`);
  }
  const hundredUrl = new URL("opencti-100.json", corpusDir);
  if (existsSync(hundredUrl)) {
    const hundred = readFileSync(hundredUrl, "utf8");
    const m = time((t) => relay.plan(t, facts), hundred);
    console.log(`plan of a 100-indicator OpenCTI payload to 3 destinations: median ${m.median.toFixed(3)} ms, best ${m.best.toFixed(3)} ms (budget <= 1 ms)`);
    if (bench) {
      // The same inside wasm (bench build): the plan alone, then plus its JSON text; the rest of
      // plan() is JSON.parse of that text and the boundary.
      const benchRelay = new bench.Relay(readFileSync(planConfigUrl, "utf8"));
      const core = time((t) => benchRelay.benchPlan(t, facts.now, false), hundred);
      const ser = time((t) => benchRelay.benchPlan(t, facts.now, true), hundred);
      console.log(`  inside wasm: plan ${core.median.toFixed(3)} ms, plan + JSON text ${ser.median.toFixed(3)} ms (medians)`);
    }
  }
}

// Two deflaters, two sizes: the gate (scripts/size-gate.sh) counts GNU `gzip -9`; Node's zlib at
// level 9 (what JS tooling such as wrangler uses) comes out ~1.5% larger on this module.
const wasm = readFileSync(new URL("pkg/ti_relay_bg.wasm", repoRoot));
const gz = gzipSync(wasm, { level: 9 }).length;
const gnu = spawnSync("gzip", ["-9", "-n", "-c"], { input: wasm, maxBuffer: 64 << 20 });
const gnuSize = gnu.status === 0 ? gnu.stdout.length.toLocaleString("en-US") : "n/a";
console.log(
  `\nwasm size: pkg/ti_relay_bg.wasm ${wasm.length.toLocaleString("en-US")} bytes raw, ` +
    `${gnuSize} bytes gzip -9 (the gate: 300,000), ${gz.toLocaleString("en-US")} bytes Node zlib level 9`,
);
