// Wasm decode throughput under Node, and the wasm size (`make bench`; run with Node >= 22 through
// scripts/node.sh). Reads the corpus that `cargo bench --bench throughput` writes to
// target/bench-corpus/, times the package's `decode(text)` (the JS API: the raw JSON text in, plain
// JS values out) the same way as the native bench, and prints the same table. Budget (SPEC §9,
// reported, not enforced): the mixed STIX corpus at >= 150,000 indicators/s in wasm.
//
// Usage: scripts/node.sh bench/wasm.mjs [--quick] [FORMAT...]
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { loadPkg, repoRoot } from "../tests/node/load.mjs";

const MIN_MS = 2000; // repeat each format for at least this long after the warm-up
const MIN_RUNS = 5; // ... and at least this many times
const WARMUP_MS = 300;
const STIX_BUDGET = 150_000;

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const only = args.filter((a) => !a.startsWith("-"));

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

function measure(text) {
  const first = pkg.decode(text);
  const items = first?.items?.length ?? 0;
  const errors = first?.errors?.length ?? 0;
  const times = [];
  if (quick) {
    const t = performance.now();
    pkg.decode(text);
    times.push(performance.now() - t);
  } else {
    const warm = performance.now();
    while (performance.now() - warm < WARMUP_MS) pkg.decode(text);
    const start = performance.now();
    while (performance.now() - start < MIN_MS || times.length < MIN_RUNS) {
      const t = performance.now();
      pkg.decode(text);
      times.push(performance.now() - t);
    }
  }
  times.sort((a, b) => a - b);
  return { items, errors, runs: times.length, best: times[0], median: times[Math.floor(times.length / 2)] };
}

const fmt = (x) => Math.round(x).toLocaleString("en-US");
const pad = (s, n) => String(s).padStart(n);

const rows = [];
for (const [format, entry] of Object.entries(manifest)) {
  if (only.length && !only.includes(format)) continue;
  const text = readFileSync(new URL(entry.file, corpusDir), "utf8");
  let outcome;
  try {
    outcome = measure(text);
  } catch (e) {
    outcome = { error: e?.message ?? String(e) };
  }
  rows.push({ format, bytes: entry.bytes, indicators: entry.indicators, ...outcome });
}

console.log("\nwasm decode throughput under Node " + process.version + " (pkg decode(text))");
console.log(
  "format".padEnd(14) +
    pad("MB", 10) + pad("indicators", 11) + pad("items", 9) + pad("errors", 8) + pad("runs", 6) +
    pad("best ms", 11) + pad("median ms", 11) + pad("best ind/s", 14) + pad("median ind/s", 14) + pad("MB/s", 9),
);
for (const r of rows) {
  const mb = r.bytes / 1e6;
  if (r.error) {
    console.log(r.format.padEnd(14) + pad(mb.toFixed(2), 10) + pad(r.indicators, 11) + `  decode failed: ${r.error}`);
    continue;
  }
  console.log(
    r.format.padEnd(14) +
      pad(mb.toFixed(2), 10) + pad(r.indicators, 11) + pad(r.items, 9) + pad(r.errors, 8) + pad(r.runs, 6) +
      pad(r.best.toFixed(1), 11) + pad(r.median.toFixed(1), 11) +
      pad(fmt((r.indicators / r.best) * 1000), 14) + pad(fmt((r.indicators / r.median) * 1000), 14) +
      pad((mb / (r.median / 1000)).toFixed(1), 9),
  );
}

const stix = rows.find((r) => r.format === "stix" && !r.error);
if (stix) {
  const rate = (stix.indicators / stix.median) * 1000;
  console.log(
    `\nbudget: mixed STIX corpus ${fmt(rate)} indicators/s (median) vs >= ${fmt(STIX_BUDGET)} in wasm: ` +
      `${rate >= STIX_BUDGET ? "within" : "OVER"} budget`,
  );
}

const wasm = readFileSync(new URL("pkg/ti_relay_bg.wasm", repoRoot));
const gz = gzipSync(wasm, { level: 9 }).length;
console.log(
  `\nwasm size: pkg/ti_relay_bg.wasm ${wasm.length.toLocaleString("en-US")} bytes raw, ` +
    `${gz.toLocaleString("en-US")} bytes gzipped (zlib level 9); gate 250,000 gzipped`,
);
