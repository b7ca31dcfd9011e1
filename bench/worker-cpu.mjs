// Benchmark (not a test): CPU per 100-indicator webhook in the Worker's code path, excluding waits.
//
// workerd freezes its clocks during execution (a Spectre mitigation), so the CPU a request burns
// cannot be read from inside the Worker. This runs the same modules the Worker runs — the routes of
// worker/http/app.mjs, the core from pkg/, the delivery loop of worker/lib — in Node (the same V8),
// with the network replaced by instant answers shaped like the real APIs' and pacing disabled, and
// reads process.cpuUsage() around each webhook: authentication, plan, the requests sent through the
// loop (tokens cached after the first), their interpretations, the response.
//
// What is not the Worker's CPU stays outside the measured span: building the incoming Request (the
// client's and the runtime's work: workerd hands the Worker a Request whose body arrived from the
// network), reading the answer's text after the Worker returned it, and the fake API's Responses. Those
// are plain objects with `status`, `headers` and `text()` decoding the body's bytes natively, as a
// workerd fetch() gives, where undici's Response runs a JS ReadableStream per body that workerd does
// not run.
//
//   scripts/node.sh bench/worker-cpu.mjs [payload.json]     (default: the 100-event OpenCTI corpus)
// Budget (issue 4): ≤ 2 ms per 100-indicator webhook.

import { readFileSync, existsSync } from "node:fs";

import { messageText } from "../worker/cloudflare/messages.mjs";
import { createApp } from "../worker/http/app.mjs";
import { createDelivery, createLogger } from "../worker/lib/index.mjs";
import { loadPkg } from "../worker/node/host.mjs";

const root = new URL("../", import.meta.url);
const corpus = new URL("target/bench-corpus/opencti-100.json", root);
const payloadPath = process.argv[2] ?? (existsSync(corpus) ? corpus : undefined);
if (!payloadPath) {
  console.error("no payload: run `cargo bench --bench throughput` once (it writes target/bench-corpus/), or pass a file");
  process.exit(1);
}
const payload = readFileSync(payloadPath, "utf8");
const config = JSON.parse(readFileSync(new URL("examples/local-config.json", root), "utf8"));

const pkg = await loadPkg();
/**
 * The Worker's logger at its default level (info: a line per API request, two per delivery), writing
 * nowhere: making the lines is the Worker's CPU, printing them the runtime's.
 */
const logger = () => createLogger(() => {}, { level: "info", fields: { host: "cloudflare" } });
/** The webhooks' clock: fixed, so every run plans the same bodies (see fakeFetch). */
const FIXED_NOW = Date.parse("2025-06-01T00:00:00Z");
const relay = new pkg.Relay(config);

/**
 * Instant answers in each API's success shape. The fake API's own work (parsing a body to answer
 * it) is not the Worker's CPU: answers are made once per distinct request and replayed (the clock is
 * fixed, so every webhook plans the same bodies). They are found by method, URL and body length, so
 * the lookup costs nothing next to the Worker's work; while `verifying` (the unmeasured first webhook),
 * two different bodies behind one such key throw.
 */
const answers = new Map();
let verifying = true;
async function fakeFetch(url, init) {
  const body = typeof init.body === "string" ? init.body : "";
  const key = `${init.method ?? "GET"} ${url} ${body.length}`;
  let answer = answers.get(key);
  if (answer === undefined) {
    if (!verifying) throw new Error(`a request the first webhook did not make: ${key}`);
    const res = await apiAnswer(url, init);
    answer = { status: res.status, bytes: new Uint8Array(await res.arrayBuffer()), body };
    answers.set(key, answer);
  } else if (verifying && answer.body !== body) {
    throw new Error(`two different bodies for ${key}: the fake API cannot tell them apart`);
  }
  return networkResponse(answer.status, answer.bytes);
}

/**
 * A fetch() answer as the network delivers it: status, headers, and a body that arrives as bytes and
 * is decoded natively when read (as workerd's `text()` does; its cost stays in the measurement).
 */
function networkResponse(status, bytes) {
  return {
    status,
    ok: status >= 200 && status < 300,
    headers: new Headers({ "content-type": "application/json" }),
    text: async () => utf8.decode(bytes),
  };
}
const utf8 = new TextDecoder();

async function apiAnswer(url, init) {
  const path = new URL(url).pathname;
  if (path.endsWith("/oauth2/v2.0/token")) {
    return Response.json({ token_type: "Bearer", expires_in: 3599, access_token: "bench-token" });
  }
  if (path.endsWith("/api/indicators/import")) {
    const { Indicators } = JSON.parse(init.body);
    return Response.json({ value: Indicators.map((i, n) => ({ id: String(n), indicator: i.indicatorValue, isFailed: false, failureReason: null })) });
  }
  if (path.endsWith("/api/indicators") && init.method === "GET") {
    return Response.json({ "@odata.context": "https://api.securitycenter.microsoft.com/api/$metadata#Indicators", value: [] });
  }
  if (path.includes("submitTiIndicators")) {
    const { value } = JSON.parse(init.body);
    return Response.json({ value: value.map((v, n) => ({ ...v, id: String(n) })) });
  }
  return new Response("", { status: 200 });
}

const delivery = createDelivery({
  relay,
  fetch: fakeFetch,
  now: Date.now,
  sleep: async () => {},
  random: Math.random,
  log: logger(),
  secrets: async () => "bench-secret",
  budget: { reserve: async (_k, _w, now) => now, block: async () => {} },
});
const app = createApp({
  relay: () => ({ relay }),
  webhookSecrets: async () => ({ bearerToken: "bench" }),
  wallClockMs: () => FIXED_NOW,
  seenBefore: async () => false,
  deliver: (requests) => delivery.deliver(requests),
  version: pkg.version(),
  log: logger(),
});

// Queue mode: the webhook plans and enqueues (each request made into a message by the Worker's own
// messageText); the sending and interpreting happen later, in the queue consumer's own invocation.
const queuedApp = createApp({
  relay: () => ({ relay }),
  webhookSecrets: async () => ({ bearerToken: "bench" }),
  wallClockMs: () => FIXED_NOW,
  seenBefore: async () => false,
  enqueue: async (requests) => {
    let bytes = 0;
    for (const r of requests) bytes += messageText(r, 0).length;
    return bytes > 0 ? requests.length : 0;
  },
  version: pkg.version(),
  log: logger(),
});

const request = () =>
  new Request("http://relay.local/v1/events", { method: "POST", headers: { authorization: "Bearer bench" }, body: payload });

/** Checks an answer (after the measured span: reading it is the caller's CPU, not the Worker's). */
async function check(res, status) {
  if (res.status !== status) throw new Error(`webhook answered ${res.status}: ${await res.text()}`);
  return res.text();
}

const first = JSON.parse(await check(await app.handle(request()), 200));
verifying = false;
const items = first.items.length;
const outcomes = {};
for (const v of first.items.flatMap((i) => i.verdicts)) {
  const k = v.outcome ?? `skip (${v.reason})`;
  outcomes[k] = (outcomes[k] ?? 0) + 1;
}
const sent = outcomes.accepted ?? 0;
for (let i = 0; i < 200; i++) await check(await app.handle(request()), 200); // warm-up: JIT, token cache

/**
 * CPU (process.cpuUsage: every thread of the process, so V8's background GC and compiler threads
 * too, which a Worker is not billed for) and wall time (the main thread; nothing here waits) per call
 * of `fn(input)`; `prepare()` makes each call's input and `after(output)` checks it, both unmeasured.
 */
function measure(n, fn, prepare = () => undefined, after = async () => {}) {
  return (async () => {
    const cpu = [];
    const wall = [];
    for (let i = 0; i < n; i++) {
      const input = prepare();
      const before = process.cpuUsage();
      const start = performance.now();
      const output = await fn(input);
      wall.push(performance.now() - start);
      const used = process.cpuUsage(before);
      cpu.push((used.user + used.system) / 1000);
      await after(output);
    }
    for (const list of [cpu, wall]) list.sort((a, b) => a - b);
    const at = (samples, q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
    return { median: at(cpu, 0.5), p90: at(cpu, 0.9), min: cpu[0], wall: at(wall, 0.5) };
  })();
}

const runs = 500;
const whole = await measure(runs, (req) => app.handle(req), request, (res) => check(res, 200));
const queued = await measure(runs, (req) => queuedApp.handle(req), request, (res) => check(res, 202));
const planOnly = await measure(runs, async () => relay.plan(payload, { now: new Date(FIXED_NOW).toISOString() }));
// The inline webhook's delivery alone: the planned requests through the loop (tokens cached).
const planned = relay.plan(payload, { now: new Date(FIXED_NOW).toISOString() }).requests.filter((r) => !r.dry_run);
const deliveryOnly = await measure(runs, async () => delivery.deliver(planned));
const interpretOnly = await measure(runs, async () => {
  for (const r of planned) {
    const answer = await fakeFetch(r.url, { method: r.method, body: r.body });
    relay.interpret(r, { status: answer.status, headers: {}, body: await answer.text() }, { now: new Date(FIXED_NOW).toISOString() });
  }
});
const fmt = (ms) => `${ms.toFixed(3)} ms`;
console.log(`Worker CPU per webhook: ${items} indicators × 3 destinations (${sent} accepted deliveries), ${runs} runs`);
console.log(`  verdicts and outcomes: ${JSON.stringify(outcomes)}`);
console.log(`  whole webhook (auth, plan, the requests through the loop, their interpretations, the response)`);
console.log(`    median ${fmt(whole.median)}   p90 ${fmt(whole.p90)}   min ${fmt(whole.min)}   wall ${fmt(whole.wall)}   budget 2 ms`);
console.log(`  queue mode: the webhook's own invocation (auth, plan, enqueue, response)`);
console.log(`    median ${fmt(queued.median)}   p90 ${fmt(queued.p90)}   min ${fmt(queued.min)}   wall ${fmt(queued.wall)}   budget 2 ms`);
console.log(`  relay.plan alone`);
console.log(`    median ${fmt(planOnly.median)}   p90 ${fmt(planOnly.p90)}   min ${fmt(planOnly.min)}   wall ${fmt(planOnly.wall)}`);
console.log(`  inline delivery alone (${planned.length} requests through the loop, their interpretations)`);
console.log(`    median ${fmt(deliveryOnly.median)}   p90 ${fmt(deliveryOnly.p90)}   min ${fmt(deliveryOnly.min)}   wall ${fmt(deliveryOnly.wall)}`);
console.log(`  of which relay.interpret of the ${planned.length} answers (and the fake API's replies)`);
console.log(`    median ${fmt(interpretOnly.median)}   p90 ${fmt(interpretOnly.p90)}   min ${fmt(interpretOnly.min)}   wall ${fmt(interpretOnly.wall)}`);
