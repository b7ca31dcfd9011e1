// Delivery pacing against the Microsoft emulator (SPEC §9: "delivery pacing against the emulator's
// rate limits"). A benchmark, not a test: run by hand or by `make bench`.
//
//   scripts/node.sh bench/pacing.mjs [--indicators 20000] [--sentinel-scale 10] [--defender-scale 20]
//                                    [--only sentinel|defender]
//
// For each API it plans a STIX bundle of N distinct IPv4 indicators for one destination, starts the
// emulator (emulator/server.mjs, a child process: its CPU is not the loop's) with the time scale,
// and delivers the plan through the real loop (worker/lib createDelivery + createLocalBudget) on a
// clock running at the same scale (worker/node/host.mjs scaledClock). Every API request's send and
// answer times are recorded on that clock (emulated time). It reports:
//
// - requests sent, and the emulated span from the first send to the last answer;
// - overall: requests / span, against the documented ceiling. The sliding log lets the first
//   window's worth go at once, so over a run only a few windows long this average includes that
//   burst and can exceed 100%: it says how long the run took, not how hard the API was pushed;
// - steady state: what a sliding window counts. The k-th request cannot go before request k−n plus
//   one window (n per window), so the pacing is measured by the spacing t(k) − t(k−n) over every
//   k ≥ n: rate = n per mean spacing. 100% = exactly the ceiling; the loop's 2% margin makes ~98%,
//   and each answer's latency (the loop spaces from the answer, not the send) costs the rest;
// - Sentinel: objects/min in steady state against 10,000/min (100 requests of 100 objects);
// - the most requests the emulator saw in any one window (must be ≤ the limit), the mean latency
//   (emulated s and real ms: the time scale multiplies latency, so a high scale understates the
//   rate a real tenant would see), and the 429s the emulator drew from its own limiter (must be 0).
//
// Exit status: 0 when no 429 was drawn, every item was accepted and every steady-state rate is at
// least 90% of the ceiling; 1 otherwise.

import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { createDelivery, createLocalBudget } from "../worker/lib/index.mjs";
import { loadPkg, scaledClock } from "../worker/node/host.mjs";

const BUDGET = 0.9;
const CLIENT_ID = "00000000-0000-4000-8000-00000000c0de";
const SECRET = "emulator-dev-secret";

const { values: opts } = parseArgs({
  options: {
    indicators: { type: "string", default: "20000" },
    "sentinel-scale": { type: "string", default: "10" },
    "defender-scale": { type: "string", default: "20" },
    only: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (opts.help) {
  process.stdout.write("usage: scripts/node.sh bench/pacing.mjs [--indicators 20000] [--sentinel-scale 10] [--defender-scale 20] [--only sentinel|defender]\n");
  process.exit(0);
}
const N = Number(opts.indicators);

const RUNS = [
  {
    api: "sentinel",
    scale: Number(opts["sentinel-scale"]),
    destination: { type: "sentinel", sentinel: { workspace_id: "11111111-2222-3333-4444-555555555555" } },
    ceiling: { requests: 100, per_ms: 60_000, label: "100 req/min" },
    objects: { per_min: 10_000, label: "10,000 obj/min" },
    emulatorArgs: [],
  },
  {
    api: "defender",
    scale: Number(opts["defender-scale"]),
    destination: { type: "defender" },
    ceiling: { requests: 30, per_ms: 60_000, label: "30 req/min" },
    // No `defenderActive` fact (no quota skips) and a cap above N: every indicator goes.
    emulatorArgs: ["--defender-cap", String(Math.max(15_000, N * 2))],
  },
].filter((r) => !opts.only || r.api === opts.only);

const pkg = await loadPkg();
const bundle = stixBundle(N);
const results = [];
for (const run of RUNS) results.push(await measure(run));
printTable(results);
const ok = results.every((r) => r.natural429 === 0 && r.accepted === r.items && r.steadyPct >= BUDGET * 100);
if (!ok) process.stderr.write(`pacing: budget missed (zero 429s, every item accepted, steady state ≥ ${BUDGET * 100}% of the ceiling)\n`);
process.exit(ok ? 0 : 1);

// ---------------------------------------------------------------- one run

async function measure(run) {
  const emu = await startEmulatorProcess(["--time-scale", String(run.scale), "--seed", "1", ...run.emulatorArgs]);
  try {
    const relay = new pkg.Relay({
      destinations: [{
        name: run.api,
        tenant: "contoso.onmicrosoft.com",
        client_id: CLIENT_ID,
        credential: { secret: "EMULATOR_CLIENT_SECRET" },
        login_base_url: emu.url,
        api_base_url: emu.url,
        ...run.destination,
      }],
    });
    const plan = relay.plan(bundle, { now: new Date().toISOString() });
    const clock = scaledClock(run.scale);
    const sends = [];
    const timedFetch = async (url, init) => {
      if (String(url).includes("/oauth2/")) return fetch(url, init);
      const entry = { sent: clock.now(), sentReal: performance.now() };
      sends.push(entry);
      const response = await fetch(url, init);
      const body = await response.text();
      entry.answered = clock.now();
      entry.answeredReal = performance.now();
      const nullBody = [101, 204, 205, 304].includes(response.status);
      return new Response(nullBody ? null : body, { status: response.status, headers: response.headers });
    };
    const delivery = createDelivery({
      relay,
      fetch: timedFetch,
      now: clock.now,
      sleep: clock.sleep,
      secrets: async () => SECRET,
      budget: createLocalBudget(),
    });
    const realStart = performance.now();
    const report = await delivery.deliver(plan.requests);
    const realS = (performance.now() - realStart) / 1000;
    const state = await (await fetch(`${emu.url}/_emulator/state`)).json();
    const natural429 = Object.values(state.counters.throttled.natural).reduce((a, b) => a + b, 0);
    const held = run.api === "sentinel"
      ? Object.keys(Object.values(state.sentinel)[0] ?? {}).length
      : state.defender.filter((i) => i.createdBy === CLIENT_ID).length;

    const { requests: n, per_ms: windowMs } = run.ceiling;
    const sent = [...sends].sort((a, b) => a.sent - b.sent);
    const first = sent[0].sent;
    const last = Math.max(...sent.map((s) => s.answered));
    const spanMs = last - first;
    const overallPerMin = (sent.length * 60_000) / spanMs;
    const gaps = [];
    for (let k = n; k < sent.length; k += 1) gaps.push(sent[k].sent - sent[k - n].sent);
    const meanGap = gaps.length ? gaps.reduce((a, b) => a + b, 0) / gaps.length : NaN;
    // The schedule alone: how long after the (k−n)-th answer the k-th request went (the loop books
    // one window plus its margin after an answer: 61.2 s for a minute).
    const answers = sent.map((x) => x.answered).sort((a, b) => a - b);
    const fromAnswer = [];
    for (let k = n; k < sent.length; k += 1) fromAnswer.push(sent[k].sent - answers[k - n]);
    const meanFromAnswer = fromAnswer.length ? fromAnswer.reduce((a, b) => a + b, 0) / fromAnswer.length : NaN;
    const steadyPerMin = (n * 60_000) / meanGap;
    let maxInWindow = 0;
    for (let i = 0, j = 0; i < sent.length; i += 1) {
      while (sent[i].sent - sent[j].sent >= windowMs) j += 1;
      maxInWindow = Math.max(maxInWindow, i - j + 1);
    }
    const latencyMs = sent.reduce((a, s) => a + (s.answered - s.sent), 0) / sent.length;
    const latencyRealMs = sent.reduce((a, s) => a + (s.answeredReal - s.sentReal), 0) / sent.length;
    const objectsPerRequest = N / plan.requests.length;
    return {
      api: run.api,
      scale: run.scale,
      items: N,
      accepted: report.items.filter((i) => i.outcome === "accepted").length,
      held,
      requests: sent.length,
      retries: report.stats.retries,
      spanS: spanMs / 1000,
      realS,
      ceiling: run.ceiling,
      overallPerMin,
      overallPct: (overallPerMin / (n * 60_000 / windowMs)) * 100,
      samples: gaps.length,
      steadyPerMin,
      steadyPct: (steadyPerMin / (n * 60_000 / windowMs)) * 100,
      objects: run.objects && { steadyPerMin: steadyPerMin * objectsPerRequest, overallPerMin: (N * 60_000) / spanMs, pct: ((steadyPerMin * objectsPerRequest) / run.objects.per_min) * 100, label: run.objects.label },
      maxInWindow,
      fromAnswerS: meanFromAnswer / 1000,
      latencyS: latencyMs / 1000,
      latencyRealMs,
      natural429,
    };
  } finally {
    await emu.close();
  }
}

// ---------------------------------------------------------------- helpers

/** The emulator as its own process (`emulator/server.mjs --port 0 …`), its URL read from stdout. */
function startEmulatorProcess(args) {
  const server = fileURLToPath(new URL("../emulator/server.mjs", import.meta.url));
  const child = spawn(process.execPath, [server, "--port", "0", ...args], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let out = "";
    child.on("error", reject);
    child.on("exit", (code) => reject(new Error(`the emulator exited (${code}) before listening`)));
    child.stdout.setEncoding("utf8").on("data", (d) => {
      out += d;
      const line = out.split("\n")[0];
      if (!out.includes("\n")) return;
      const { emulator: url } = JSON.parse(line);
      child.removeAllListeners("exit");
      resolve({
        url,
        close: () => new Promise((done) => {
          child.once("exit", done);
          child.kill("SIGTERM");
        }),
      });
    });
  });
}

function stixBundle(n) {
  const uuid = (name) => {
    const h = createHash("sha1").update(name).digest("hex");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
  };
  const objects = Array.from({ length: n }, (_, i) => {
    const value = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    return {
      type: "indicator", spec_version: "2.1", id: `indicator--${uuid(`pacing-${i}`)}`,
      created: "2026-01-01T00:00:00.000Z", modified: "2026-01-01T00:00:00.000Z", name: value,
      pattern: `[ipv4-addr:value = '${value}']`, pattern_type: "stix", valid_from: "2026-01-01T00:00:00.000Z",
    };
  });
  return JSON.stringify({ type: "bundle", id: `bundle--${uuid("pacing")}`, objects });
}

function printTable(rows) {
  const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : "—");
  const f0 = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "—");
  const lines = [
    ["api", "scale", "items", "requests", "span (emulated)", "real", "overall", "steady state (k vs k−n)", "objects/min steady", "max in a window", "send k − answer k−n", "latency", "429 natural"],
  ];
  for (const r of rows) {
    lines.push([
      r.api,
      `×${r.scale}`,
      `${f0(r.accepted)}/${f0(r.items)} (${f0(r.held)} held)`,
      `${f0(r.requests)}${r.retries ? ` (+${r.retries} retries)` : ""}`,
      `${f1(r.spanS)} s`,
      `${f1(r.realS)} s`,
      `${f1(r.overallPerMin)}/min = ${f0(r.overallPct)}%`,
      `${f1(r.steadyPerMin)}/min = ${f1(r.steadyPct)}% of ${r.ceiling.label} (${r.samples} pairs)`,
      r.objects ? `${f0(r.objects.steadyPerMin)} = ${f1(r.objects.pct)}% of ${r.objects.label}` : "—",
      `${r.maxInWindow} / ${r.ceiling.requests}`,
      `${f1(r.fromAnswerS)} s`,
      `${f1(r.latencyS)} s (${f0(r.latencyRealMs)} ms real)`,
      String(r.natural429),
    ]);
  }
  const widths = lines[0].map((_, c) => Math.max(...lines.map((l) => l[c].length)));
  const row = (l) => `| ${l.map((cell, c) => cell.padEnd(widths[c])).join(" | ")} |`;
  process.stdout.write(`delivery pacing: ${N.toLocaleString("en-US")} IPv4 indicators per API through the loop (createLocalBudget) against the emulator\n`);
  process.stdout.write(`${row(lines[0])}\n|${widths.map((w) => "-".repeat(w + 2)).join("|")}|\n`);
  for (const l of lines.slice(1)) process.stdout.write(`${row(l)}\n`);
  process.stdout.write(
    "overall = requests / (first send → last answer), including the first window's burst; steady state = n per mean(t(k) − t(k−n)), k ≥ n,\n" +
    "what a sliding window of n requests sees; the loop sends request k one window + 2% after request k−n's answer (61.2 s), so each answer's\n" +
    "latency lowers the steady state; latency is emulated (= real × scale): a higher scale understates the rate a real tenant gets.\n",
  );
}
