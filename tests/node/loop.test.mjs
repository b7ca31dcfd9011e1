// worker/lib/deliver.mjs and budget.mjs: the shared delivery loop (SPEC §7) against a scripted fetch,
// a virtual clock (sleeps advance time instantly, in order) and a fake relay with the core's
// interpret/retain/config contract; then against the real wasm Relay with real plans.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";

import { createDelivery } from "../../worker/lib/deliver.mjs";
import { reserve, block, release, settle, createState, createLocalBudget } from "../../worker/lib/budget.mjs";
import { createLogger } from "../../worker/lib/log.mjs";
import { loadPkg, repoRoot } from "./load.mjs";

const pkg = await loadPkg();

const T0 = Date.UTC(2024, 2, 10, 12, 0, 0);
const SECRET = "Zq9~client.secret-value-that-must-never-be-logged";
const TOKEN_URL = "https://login.test/tenant/oauth2/v2.0/token";
const SCOPE = "https://api.test/.default";
const LIMIT = "upload:tenant:client";
const PER_MIN = [{ requests: 100, per_ms: 60_000 }];

// ---------------------------------------------------------------- test doubles

/** Virtual time: `sleep` registers a timer; whenever the process is otherwise idle (setImmediate),
 * time jumps to the earliest timer and wakes it. Exact and instant. */
function virtualClock(start = T0) {
  let t = start;
  let seq = 0;
  let scheduled = false;
  const timers = [];
  const tick = () => {
    scheduled = false;
    if (timers.length === 0) return;
    timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const next = timers.shift();
    t = Math.max(t, next.at);
    next.resolve();
    schedule();
  };
  const schedule = () => {
    if (!scheduled && timers.length > 0) {
      scheduled = true;
      setImmediate(tick);
    }
  };
  return {
    now: () => t,
    sleep: (ms) =>
      ms <= 0
        ? Promise.resolve()
        : new Promise((resolve) => {
            timers.push({ at: t + ms, seq: seq++, resolve });
            schedule();
          }),
  };
}

/** A minimal fetch Response. */
const res = (status, body = "", headers = {}) => ({
  ok: status >= 200 && status < 300,
  status,
  headers: new Headers(headers),
  text: async () => (typeof body === "string" ? body : JSON.stringify(body)),
});

const DEST = {
  name: "d1",
  type: "sentinel",
  client_id: "client",
  credential: { secret: "S" },
  endpoint: { token_url: TOKEN_URL, scope: SCOPE, resource: "https://api.test/" },
};

/** A planned request as the core makes them (with the `limit` / `rate` additions). */
const req = (id, keys, extra = {}) => ({
  id,
  destination: "d1",
  op: "upload",
  method: "POST",
  url: `https://api.test/upload?batch=${id}`,
  audience: SCOPE,
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ keys }),
  items: keys,
  limit: LIMIT,
  rate: PER_MIN,
  ...extra,
});

/** The core's interpret/retain/config contract, scripted: a 2xx body `{"outcomes": {key: "rejected" |
 * "retry"}}` (others accepted); 429 → retry with Retry-After; 5xx → retry; other 4xx → rejected;
 * op "lookup" → no item outcome, one follow-up "delete" carrying every item. */
function fakeRelay({ destinations = [DEST], lookupAlsoAccepts = false, dropOutcomes = false } = {}) {
  const calls = [];
  const retain = (request, keys) => ({ ...request, id: `${request.id}~${keys.join("+")}`, items: [...keys], body: JSON.stringify({ keys }) });
  const interpret = (request, response) => {
    calls.push({ request, response });
    const { status, headers, body } = response;
    const uniform = (outcome, extra = {}) => request.items.map((key) => ({ key, outcome, ...extra }));
    let items;
    let retryAfter;
    if (dropOutcomes) return { items: [], follow_up: [] };
    if (request.op === "lookup" && status === 200) {
      const follow = { ...request, id: `${request.id}:delete`, op: "delete", method: "POST", url: `${request.url}&delete`, body: JSON.stringify({ ids: request.items }) };
      return { items: lookupAlsoAccepts ? uniform("accepted") : [], follow_up: [follow] };
    }
    if (status === 429) {
      retryAfter = Number(headers["retry-after"] ?? 0) * 1000;
      items = uniform("retry", { after_ms: retryAfter, message: "throttled (http 429)" });
    } else if (status >= 500) {
      items = uniform("retry", { message: `failed (http ${status})` });
    } else if (status >= 400) {
      items = uniform("rejected", { message: `refused (http ${status})` });
    } else {
      const outcomes = body ? JSON.parse(body).outcomes ?? {} : {};
      items = request.items.map((key) =>
        outcomes[key] === "rejected" ? { key, outcome: "rejected", message: `bad ${key}` }
          : outcomes[key] === "retry" ? { key, outcome: "retry", message: `later ${key}` }
            : { key, outcome: "accepted" });
    }
    const retryKeys = items.filter((i) => i.outcome === "retry").map((i) => i.key);
    return {
      items,
      ...(retryAfter ? { retry_after_ms: retryAfter } : {}),
      follow_up: [],
      ...(retryKeys.length ? { resend: retain(request, retryKeys) } : {}),
    };
  };
  return { config: { destinations }, retain, interpret, calls };
}

/**
 * A scripted Microsoft: the token endpoint and the API. `api({call, n, t})` answers the n-th API call
 * (1-based); `token(n)` the n-th token request. Records calls with their virtual time and the highest
 * number of simultaneous open connections.
 */
function fakeMicrosoft(clock, { api = () => res(200, ""), token = () => res(200, { access_token: "tok-1", expires_in: 3599 }), latencyMs = 0 } = {}) {
  const apiCalls = [];
  const tokenCalls = [];
  let open = 0;
  let maxOpen = 0;
  const fetch = async (url, init = {}) => {
    open += 1;
    maxOpen = Math.max(maxOpen, open);
    try {
      if (latencyMs) await clock.sleep(latencyMs);
      const call = { url: String(url), method: init.method, headers: { ...init.headers }, body: init.body, t: clock.now(), signal: init.signal };
      if (call.url === TOKEN_URL) {
        tokenCalls.push(call);
        return await token(tokenCalls.length, call);
      }
      apiCalls.push(call);
      return await api({ call, n: apiCalls.length, t: call.t });
    } finally {
      open -= 1;
    }
  };
  return { fetch, apiCalls, tokenCalls, maxOpen: () => maxOpen };
}

/** A delivery wired to the doubles; returns everything a test looks at. */
function harness({ relay = fakeRelay(), microsoft = {}, options = {}, budget, secrets = { S: SECRET }, random = () => 0.5, clock = virtualClock() } = {}) {
  const ms = fakeMicrosoft(clock, microsoft);
  const lines = [];
  const log = createLogger((line) => lines.push(line), { level: "debug", now: clock.now });
  const delivery = createDelivery({
    relay,
    fetch: ms.fetch,
    now: clock.now,
    sleep: clock.sleep,
    random,
    log,
    secrets: async (name) => secrets[name],
    budget: budget ?? createLocalBudget(),
    options,
  });
  return { delivery, relay, clock, lines, ...ms };
}

const outcomes = (report) => Object.fromEntries(report.items.map((i) => [i.key, i.outcome]));
const byKey = (report) => Object.fromEntries(report.items.map((i) => [i.key, i]));

/** Every window of `per_ms` holds at most `requests` of the times (ascending). */
function assertWithin(times, { requests, per_ms }) {
  for (let i = 0; i + requests < times.length; i += 1) {
    assert.ok(times[i + requests] - times[i] >= per_ms, `requests ${i} and ${i + requests} are ${times[i + requests] - times[i]} ms apart (< ${per_ms})`);
  }
}

// ---------------------------------------------------------------- budget (pure)

test("budget: 250 requests at 100/min — no window exceeded, two windows and within 10% of ideal", () => {
  const state = createState();
  const times = [];
  let now = T0;
  for (let i = 0; i < 250; i += 1) {
    const at = reserve(state, PER_MIN, now);
    assert.ok(at >= now);
    times.push(at);
    now = at;
  }
  assertWithin(times, PER_MIN[0]);
  const total = times.at(-1) - times[0];
  assert.ok(total >= 2 * 60_000, `total ${total}`);
  assert.ok(total <= 1.1 * 2 * 60_000, `total ${total}`);
  assert.ok(state.log.length <= 100, "the log keeps at most the largest window's count");
});

test("budget: two windows (100/min + 1,500/h) both hold, at ≥ 90% of each ceiling", () => {
  const windows = [{ requests: 100, per_ms: 60_000 }, { requests: 1500, per_ms: 3_600_000 }];
  const state = createState();
  const times = [];
  let now = T0;
  for (let i = 0; i < 3100; i += 1) {
    now = reserve(state, windows, now);
    times.push(now);
  }
  assertWithin(times, windows[0]);
  assertWithin(times, windows[1]);
  // Per-minute ceiling: the first 1,500 go at ≥ 90/min; per-hour: 3,000 take at most 2 h / 0.9.
  assert.ok(times[1499] - times[0] <= (1500 / 90) * 60_000, "minute pace");
  assert.ok(times[2999] - times[0] <= (2 * 3_600_000) / 0.9, "hour pace");
  assert.ok(times[1500] - times[0] >= 3_600_000, "the 1,501st waits for the hour");
  assert.ok(JSON.stringify(state).length < 40_000, "state stays small");
});

test("budget: several loops on one state interleave without exceeding; JSON round trip; block; release", async () => {
  const budget = createLocalBudget();
  const times = [];
  let now = T0;
  for (let i = 0; i < 90; i += 1) {
    // Three loops ask in turn, each at the current time.
    for (let loop = 0; loop < 3; loop += 1) times.push(await budget.reserve(LIMIT, PER_MIN, now));
    now = Math.max(now, times.at(-3));
  }
  times.sort((a, b) => a - b);
  assertWithin(times, PER_MIN[0]);
  assert.ok(times.at(-1) - times[0] <= 1.1 * 2 * 60_000);

  // A state survives JSON (a Durable Object keeps it as such) and answers the same.
  const a = createState();
  for (let i = 0; i < 150; i += 1) reserve(a, PER_MIN, T0);
  const b = JSON.parse(JSON.stringify(a));
  assert.equal(reserve(b, PER_MIN, T0), reserve(a, PER_MIN, T0));

  // A server-imposed wait moves the floor; a released booking frees its place.
  const s = createState();
  block(s, T0 + 17_000);
  assert.equal(reserve(s, PER_MIN, T0), T0 + 17_000);
  assert.equal(reserve(s, [], T0), T0 + 17_000, "no windows: only the block delays");
  const full = createState();
  for (let i = 0; i < 100; i += 1) reserve(full, PER_MIN, T0);
  const at = reserve(full, PER_MIN, T0);
  assert.equal(at, T0 + 60_000 + 1_200, "the 101st waits one window plus the 2% margin");
  release(full, at);
  assert.equal(full.log.length, 100);
  assert.equal(reserve(full, PER_MIN, T0, { marginMs: 0 }), T0 + 60_000);

  // settle: a booking moves to when its answer came, in order; the next window counts from there.
  const st = createState();
  for (let i = 0; i < 100; i += 1) reserve(st, PER_MIN, T0 + i);
  settle(st, T0, T0 + 500); // the first request was answered 500 ms after it left
  assert.deepEqual(st.log.slice(0, 3), [T0 + 1, T0 + 2, T0 + 3]);
  assert.equal(st.log.indexOf(T0 + 500), 99 - 0, "re-inserted in order");
  assert.equal(reserve(st, PER_MIN, T0 + 100), T0 + 1 + 61_200, "the oldest is now the second request");
  settle(st, T0 + 12345, T0 + 99999); // unknown booking: nothing happens
  assert.equal(st.log.length, 101);
});

// ---------------------------------------------------------------- delivery

test("deliver: sends exactly as planned, with the bearer token; one token for concurrent requests", async () => {
  const h = harness();
  const requests = [req("r1", ["k1", "k2"]), req("r2", ["k3"], { method: "GET", body: null, headers: { accept: "application/json" } })];
  const report = await h.delivery.deliver(requests);
  assert.equal(h.tokenCalls.length, 1);
  assert.equal(h.apiCalls.length, 2);
  const [first, second] = h.apiCalls;
  assert.equal(first.url, requests[0].url);
  assert.equal(first.method, "POST");
  assert.equal(first.body, requests[0].body, "the planned body text, byte for byte");
  assert.deepEqual(first.headers, { "content-type": "application/json", authorization: "Bearer tok-1" });
  assert.equal(second.method, "GET");
  assert.equal(second.body, undefined);
  assert.deepEqual(second.headers, { accept: "application/json", authorization: "Bearer tok-1" });
  assert.deepEqual(report.items, [
    { key: "k1", destination: "d1", outcome: "accepted", attempts: 1 },
    { key: "k2", destination: "d1", outcome: "accepted", attempts: 1 },
    { key: "k3", destination: "d1", outcome: "accepted", attempts: 1 },
  ]);
  assert.deepEqual(report.dead, []);
  assert.deepEqual(report.pending, []);
  assert.equal(report.stats.requests, 2);
  assert.deepEqual(report.stats.responses_by_status, { 200: 2 });
  // interpret got lower-cased headers and the body text.
  const seen = h.relay.calls[0].response;
  assert.deepEqual(Object.keys(seen).sort(), ["body", "headers", "status"]);
});

test("deliver: 429 honours Retry-After and blocks the class for everyone", async () => {
  const budget = createLocalBudget();
  const h = harness({
    budget,
    microsoft: { api: ({ n }) => (n === 1 ? res(429, "", { "Retry-After": "17" }) : res(200, "")) },
  });
  const report = await h.delivery.deliver([req("r1", ["k1", "k2"])]);
  assert.deepEqual(outcomes(report), { k1: "accepted", k2: "accepted" });
  assert.ok(h.apiCalls[1].t - h.apiCalls[0].t >= 17_000, `waited ${h.apiCalls[1].t - h.apiCalls[0].t}`);
  assert.equal(h.relay.calls[0].response.headers["retry-after"], "17");
  assert.equal(report.stats.throttled_429, 1);
  assert.equal(report.stats.retries, 1);
  assert.ok(report.stats.throttled_waits_ms >= 17_000);
  assert.equal(budget.state(LIMIT).blockedUntil, h.apiCalls[0].t + 17_000);
  assert.equal(byKey(report).k1.attempts, 2);
});

test("deliver: only the retry items are sent again (the core's resend), the rest is final", async () => {
  const h = harness({
    microsoft: { api: ({ n }) => res(200, n === 1 ? { outcomes: { k2: "retry", k3: "rejected" } } : "") },
  });
  const report = await h.delivery.deliver([req("r1", ["k1", "k2", "k3"])]);
  assert.equal(h.apiCalls.length, 2);
  assert.equal(h.apiCalls[1].body, JSON.stringify({ keys: ["k2"] }), "the narrowed request, not the original");
  assert.deepEqual(report.items, [
    { key: "k1", destination: "d1", outcome: "accepted", attempts: 1 },
    { key: "k2", destination: "d1", outcome: "accepted", attempts: 2 },
    { key: "k3", destination: "d1", outcome: "rejected", message: "bad k3", attempts: 1 },
  ]);
  assert.equal(report.dead.length, 1);
  assert.deepEqual({ ...report.dead[0], request: report.dead[0].request.items }, { request: ["k3"], keys: ["k3"], reason: "rejected", message: "bad k3", attempts: 1 });
  // Backoff with full jitter: attempt 1 → base·2⁰·random = 1000·0.5.
  assert.equal(h.apiCalls[1].t - h.apiCalls[0].t, 500);
});

test("deliver: follow-ups carry items; an item is accepted only when every request carrying it is", async () => {
  const table = [
    { name: "lookup then delete accepted", lookupAlsoAccepts: false, del: () => res(200, ""), expect: { k1: "accepted", k2: "accepted" } },
    { name: "delete rejects one", lookupAlsoAccepts: false, del: () => res(200, { outcomes: { k1: "rejected" } }), expect: { k1: "rejected", k2: "accepted" } },
    { name: "lookup accepts and the delete rejects", lookupAlsoAccepts: true, del: () => res(400, ""), expect: { k1: "rejected", k2: "rejected" } },
    { name: "lookup accepts and the delete accepts", lookupAlsoAccepts: true, del: () => res(200, ""), expect: { k1: "accepted", k2: "accepted" } },
  ];
  for (const row of table) {
    const h = harness({
      relay: fakeRelay({ lookupAlsoAccepts: row.lookupAlsoAccepts }),
      microsoft: { api: ({ call }) => (call.url.endsWith("&delete") ? row.del() : res(200, "")) },
    });
    const report = await h.delivery.deliver([req("look", ["k1", "k2"], { op: "lookup", method: "GET", body: null })]);
    assert.deepEqual(outcomes(report), row.expect, row.name);
    assert.equal(report.items.length, 2, `${row.name}: each item once`);
    assert.deepEqual(h.apiCalls.map((c) => c.method), ["GET", "POST"], row.name);
    assert.equal(h.apiCalls[1].body, JSON.stringify({ ids: ["k1", "k2"] }), row.name);
  }
});

test("deliver: an item the core gives no outcome and no follow-up for fails visibly", async () => {
  const h = harness({ relay: fakeRelay({ dropOutcomes: true }) });
  const report = await h.delivery.deliver([req("r1", ["k1"])]);
  assert.deepEqual(report.items, [{ key: "k1", destination: "d1", outcome: "failed", message: "the core returned no outcome for this item", attempts: 1 }]);
  assert.equal(report.dead[0].reason, "failed");
});

test("deliver: failures, retries and their limits", async (t) => {
  const abortable = ({ call }) => new Promise((_, reject) => call.signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError"))));
  const table = [
    {
      name: "5xx until attempts are spent → failed + dead",
      api: () => res(503, ""),
      expect: { outcome: "failed", message: "failed (http 503)", attempts: 6, calls: 6, dead: "failed" },
    },
    {
      name: "transport failure, then success",
      api: ({ n }) => (n === 1 ? Promise.reject(new TypeError("fetch failed")) : res(200, "")),
      expect: { outcome: "accepted", attempts: 2, calls: 2, status: { 0: 1, 200: 1 } },
    },
    {
      name: "transport failures until attempts are spent",
      options: { maxAttempts: 3 },
      api: () => Promise.reject(new TypeError("getaddrinfo ENOTFOUND api.test")),
      expect: { outcome: "failed", message: "network: getaddrinfo ENOTFOUND api.test", attempts: 3, calls: 3, dead: "failed" },
    },
    {
      name: "timeout",
      options: { maxAttempts: 2, requestTimeoutMs: 20 },
      api: abortable,
      expect: { outcome: "failed", message: "network: no response within 20 ms", attempts: 2, calls: 2, dead: "failed" },
    },
    {
      name: "401 → one token refresh, no attempt counted",
      api: ({ n }) => (n === 1 ? res(401, "") : res(200, "")),
      expect: { outcome: "accepted", attempts: 1, calls: 2, tokens: 2 },
    },
    {
      name: "401 twice → the core's rejection",
      api: () => res(401, ""),
      expect: { outcome: "rejected", message: "refused (http 401)", attempts: 1, calls: 2, tokens: 2, dead: "rejected" },
    },
    {
      name: "permanent token error → failed at once, nothing sent",
      token: () => res(401, { error: "invalid_client", error_description: "AADSTS7000215: Invalid client secret provided.", error_codes: [7000215] }),
      expect: { outcome: "failed", message: /destination d1 \(secret S\): http 401 invalid_client: AADSTS7000215/, attempts: 1, calls: 0, dead: "failed" },
    },
    {
      name: "transient token error → retried",
      token: (n) => (n === 1 ? res(503, "") : res(200, { access_token: "tok-2", expires_in: 3599 })),
      expect: { outcome: "accepted", attempts: 2, calls: 1, tokens: 2 },
    },
    {
      name: "missing secret → failed, naming the secret",
      secrets: {},
      expect: { outcome: "failed", message: /secret S is not set/, attempts: 1, calls: 0, dead: "failed" },
    },
  ];
  for (const row of table) {
    await t.test(row.name, async () => {
      const h = harness({ microsoft: { api: row.api, token: row.token }, options: row.options, secrets: row.secrets });
      const report = await h.delivery.deliver([req("r1", ["k1"])]);
      const [item] = report.items;
      assert.equal(item.outcome, row.expect.outcome);
      if (row.expect.message instanceof RegExp) assert.match(item.message, row.expect.message);
      else assert.equal(item.message, row.expect.message);
      assert.equal(item.attempts, row.expect.attempts);
      assert.equal(h.apiCalls.length, row.expect.calls);
      if (row.expect.tokens) assert.equal(h.tokenCalls.length, row.expect.tokens);
      if (row.expect.status) assert.deepEqual(report.stats.responses_by_status, row.expect.status);
      if (row.expect.dead) {
        assert.equal(report.dead.length, 1);
        assert.equal(report.dead[0].reason, row.expect.dead);
        assert.deepEqual(report.dead[0].keys, ["k1"]);
        assert.deepEqual(report.dead[0].request.items, ["k1"]);
        assert.equal(report.dead[0].request.url, req("r1", []).url);
        assert.equal(report.dead[0].message, item.message);
      } else {
        assert.deepEqual(report.dead, []);
      }
      for (const line of h.lines) {
        assert.ok(!line.includes(SECRET) && !line.includes("tok-1") && !line.includes("tok-2"), line);
      }
    });
  }
});

test("deliver: backoff grows exponentially with full jitter, capped, never below the server's hint", async () => {
  const randoms = [0.999, 0.999, 0.999, 0.999, 0.999];
  let i = 0;
  const h = harness({
    random: () => randoms[i++] ?? 0,
    options: { baseDelayMs: 1000, maxDelayMs: 5000 },
    microsoft: { api: ({ n }) => (n < 5 ? res(503, "") : n === 5 ? res(429, "", { "retry-after": "30" }) : res(200, "")) },
  });
  await h.delivery.deliver([req("r1", ["k1"])]);
  const gaps = h.apiCalls.slice(1).map((c, j) => c.t - h.apiCalls[j].t);
  assert.deepEqual(gaps.map((g) => Math.round(g)), [999, 1998, 3996, 4995, 30000]);
});

test("deliver: deadline → what is left is pending, and a later delivery finishes it", async () => {
  const clock = virtualClock();
  const h = harness({
    clock,
    options: { deadlineMs: T0 + 60_000 },
    microsoft: { api: ({ n }) => (n === 1 ? res(429, "", { "retry-after": "120" }) : res(200, "")) },
  });
  const report = await h.delivery.deliver([req("r1", ["k1", "k2"])]);
  assert.deepEqual(outcomes(report), { k1: "pending", k2: "pending" });
  assert.equal(report.pending.length, 1);
  assert.deepEqual(report.pending[0].request.items, ["k1", "k2"]);
  assert.equal(report.pending[0].attempts, 1);
  assert.equal(report.pending[0].not_before_ms, T0 + 120_000);
  assert.ok(report.stats.finished_ms <= T0 + 60_000, "no wait started past the deadline");
  // The host re-enqueues the pending entries; a later run (here: same clock, no deadline) finishes.
  const again = await harness({ clock }).delivery.deliver(report.pending);
  assert.deepEqual(outcomes(again), { k1: "accepted", k2: "accepted" });
  assert.equal(again.items[0].attempts, 2);
  assert.ok(clock.now() >= T0 + 120_000);
});

test("deliver: a deadline inside pacing sends what fits and leaves the rest pending", async () => {
  const requests = Array.from({ length: 150 }, (_, i) => req(`r${i}`, [`k${i}`]));
  const h = harness({ options: { deadlineMs: T0 + 30_000 } });
  const report = await h.delivery.deliver(requests);
  const counts = report.items.reduce((acc, item) => ((acc[item.outcome] = (acc[item.outcome] ?? 0) + 1), acc), {});
  assert.deepEqual(counts, { accepted: 100, pending: 50 });
  assert.equal(report.pending.length, 50);
  assert.equal(h.apiCalls.length, 100);
  assert.ok(report.pending.every((p) => p.not_before_ms > T0 + 30_000 && p.attempts === 0));
});

test("deliver: an abort signal stops the loop; the rest is pending", async () => {
  const controller = new AbortController();
  const requests = Array.from({ length: 120 }, (_, i) => req(`r${i}`, [`k${i}`]));
  const h = harness({ microsoft: { api: ({ n }) => (n === 100 && controller.abort(), res(200, "")) } });
  const report = await h.delivery.deliver(requests, { signal: controller.signal });
  assert.equal(report.items.filter((i) => i.outcome === "accepted").length, 100);
  assert.equal(report.items.filter((i) => i.outcome === "pending").length, 20);
  assert.equal(report.pending.length, 20);
});

test("deliver: dry_run requests are never sent", async () => {
  const h = harness();
  const progress = [];
  const report = await h.delivery.deliver([req("r1", ["k1", "k2"], { dry_run: true }), req("r2", ["k3"])], { onProgress: (p) => progress.push(p) });
  assert.deepEqual({ done: progress.at(-1).done, total: progress.at(-1).total }, { done: 1, total: 1 });
  assert.deepEqual(outcomes(report), { k1: "dry_run", k2: "dry_run", k3: "accepted" });
  assert.deepEqual(h.apiCalls.map((c) => c.url), [req("r2", []).url]);
  assert.equal(byKey(report).k1.attempts, 0);
});

test("deliver: open connections never exceed `concurrency` (tokens included)", async () => {
  for (const concurrency of [1, 3, 6]) {
    // 40 requests in 40 classes (no pacing between them), each taking 2 s to answer.
    const requests = Array.from({ length: 40 }, (_, i) => req(`r${i}`, [`k${i}`], { limit: `c${i}`, rate: [] }));
    const h = harness({ options: { concurrency }, microsoft: { latencyMs: 2000 } });
    const report = await h.delivery.deliver(requests);
    assert.equal(report.items.filter((i) => i.outcome === "accepted").length, 40);
    assert.equal(h.maxOpen(), concurrency, `concurrency ${concurrency}`);
    // Work-conserving: 40 answers of 2 s each through `concurrency` connections.
    assert.ok(report.stats.finished_ms - T0 <= Math.ceil(40 / concurrency) * 2000 + 2000 + 2000);
  }
});

/** A Microsoft that enforces `windows` strictly on arrival and answers 429 when one is exceeded. */
function strictApi(windows) {
  const arrivals = [];
  let throttled = 0;
  const api = ({ t }) => {
    for (const { requests, per_ms } of windows) {
      if (arrivals.filter((a) => a > t - per_ms).length >= requests) {
        throttled += 1;
        return res(429, "", { "retry-after": "5" });
      }
    }
    arrivals.push(t);
    return res(200, "");
  };
  return { api, arrivals, throttled: () => throttled };
}

test("deliver: 250 requests at 100/min against a strict server — no 429, two windows, within 10%", async () => {
  const server = strictApi(PER_MIN);
  const progress = [];
  const h = harness({ microsoft: { api: server.api } });
  const requests = Array.from({ length: 250 }, (_, i) => req(`r${i}`, [`k${i}`]));
  const report = await h.delivery.deliver(requests, { onProgress: (p) => progress.push(p) });
  assert.equal(server.throttled(), 0);
  assert.equal(report.items.filter((i) => i.outcome === "accepted").length, 250);
  assertWithin(server.arrivals, PER_MIN[0]);
  const total = report.stats.finished_ms - report.stats.started_ms;
  assert.ok(total >= 120_000 && total <= 132_000, `total ${total}`);
  assert.ok(report.stats.throttled_waits_ms > 0);
  assert.equal(progress.length, 250);
  assert.deepEqual(
    { ...progress.at(-1), rate_per_s: undefined, throttled_ms: undefined },
    { done: 250, total: 250, accepted: 250, rejected: 0, failed: 0, retries: 0, rate_per_s: undefined, throttled_ms: undefined },
  );
  assert.ok(progress.every((p, i) => i === 0 || p.done >= progress[i - 1].done));
  assert.ok(progress.at(-1).rate_per_s > 250 / 135);
});

test("deliver: two loops sharing one budget stay under the limit at ≥ 90% of it", async () => {
  const server = strictApi(PER_MIN);
  const clock = virtualClock();
  const budget = createLocalBudget();
  const a = harness({ clock, budget, microsoft: { api: server.api } });
  const b = harness({ clock, budget, microsoft: { api: server.api } });
  const batch = (prefix) => Array.from({ length: 200 }, (_, i) => req(`${prefix}${i}`, [`${prefix}${i}`]));
  const [ra, rb] = await Promise.all([a.delivery.deliver(batch("a")), b.delivery.deliver(batch("b"))]);
  assert.equal(server.throttled(), 0);
  assert.equal([...ra.items, ...rb.items].filter((i) => i.outcome === "accepted").length, 400);
  assertWithin(server.arrivals, PER_MIN[0]);
  const span = Math.max(ra.stats.finished_ms, rb.stats.finished_ms) - T0;
  // 400 at 100/min: 3 full windows to wait; ≥ 90% of the ceiling means at most 3 min / 0.9.
  assert.ok(span <= (3 * 60_000) / 0.9, `span ${span}`);
});

test("deliver: a send that came late never crowds the next window (rebooking; settling at the answer)", async () => {
  // 30 unpaced classes queue for the 2 connections first, so class "a"'s first booking (100/min) is
  // used seconds late while its next 99 go promptly. Spaced from that early booking, the 101st would
  // land less than a window after the 1st: a 429 from a strict server. Two independent guards stop
  // it: a booking used more than `lateToleranceMs` late is given back and booked again, and each
  // booking moves to the time its answer came (`budget.settle`). The control run, with neither,
  // shows the test sees the difference.
  const run = async ({ options = {}, withSettle = true }) => {
    const server = strictApi(PER_MIN);
    const api = ({ call, t }) => (call.url.includes("batch=a-") ? server.api({ t }) : res(200, ""));
    const local = createLocalBudget();
    const budget = withSettle ? local : { reserve: local.reserve, block: local.block, release: local.release };
    const h = harness({ budget, options: { concurrency: 2, ...options }, microsoft: { api, latencyMs: 400 } });
    const requests = [];
    for (let i = 0; i < 30; i += 1) requests.push(req(`z-${i}`, [`z${i}`], { limit: `z${i}`, rate: [] }));
    for (let i = 0; i < 250; i += 1) requests.push(req(`a-${i}`, [`a${i}`], { limit: "a" }));
    const report = await h.delivery.deliver(requests);
    assert.equal(h.maxOpen(), 2);
    return { report, server };
  };
  for (const variant of [{}, { withSettle: false }, { options: { lateToleranceMs: Infinity } }]) {
    const { report, server } = await run(variant);
    assert.equal(server.throttled(), 0, JSON.stringify(variant));
    assertWithin(server.arrivals, PER_MIN[0]);
    assert.equal(report.items.filter((i) => i.outcome === "accepted").length, 280);
    assert.ok(report.stats.finished_ms - T0 <= 2.5 * 60_000, `took ${report.stats.finished_ms - T0}`);
  }
  const control = await run({ withSettle: false, options: { lateToleranceMs: Infinity } });
  assert.ok(control.server.throttled() > 0, "with neither guard, a late send crowds the next window");
});

test("deliver: logs the loop's events as JSON, never a token, a secret or a body", async () => {
  const h = harness({ microsoft: { api: ({ n }) => (n === 1 ? res(429, "", { "retry-after": "2" }) : res(200, "")) } });
  await h.delivery.deliver([req("r1", ["k1"], { body: JSON.stringify({ keys: ["k1"], marker: "BODY-MARKER" }) })]);
  const events = h.lines.map((l) => JSON.parse(l));
  const msgs = events.map((e) => e.msg);
  for (const msg of ["delivery started", "token acquired", "request", "throttled", "wait", "delivery finished"]) assert.ok(msgs.includes(msg), msg);
  const sent = events.find((e) => e.msg === "request");
  assert.deepEqual(Object.keys(sent).sort(), ["attempt", "destination", "id", "items", "level", "ms", "msg", "op", "status", "ts"]);
  assert.deepEqual({ id: sent.id, op: sent.op, destination: sent.destination, items: sent.items, attempt: sent.attempt, status: sent.status }, { id: "r1", op: "upload", destination: "d1", items: 1, attempt: 1, status: 429 });
  const wait = events.find((e) => e.msg === "wait" && e.reason === "429");
  assert.equal(wait.limit, LIMIT);
  assert.ok(wait.ms >= 2000);
  for (const line of h.lines) {
    assert.ok(!line.includes(SECRET) && !line.includes("tok-1") && !line.includes("BODY-MARKER"), line);
  }
});

// ---------------------------------------------------------------- the real core

const fixture = (name) => readFileSync(new URL(`tests/fixtures/decode/${name}`, repoRoot), "utf8");

/** A key and arbitrary certificate bytes (the relay only hashes the certificate). */
async function certificatePem() {
  const pair = await crypto.subtle.generateKey(
    { name: "RSA-PSS", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign"],
  );
  const pem = (label, bytes) => `-----BEGIN ${label}-----\n${btoa(String.fromCharCode(...bytes)).match(/.{1,64}/g).join("\n")}\n-----END ${label}-----\n`;
  const key = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  return pem("PRIVATE KEY", key) + pem("CERTIFICATE", crypto.getRandomValues(new Uint8Array(600)));
}

test("real Relay: a plan to Sentinel (secret), Defender (certificate) and Graph (managed identity), delivered", async () => {
  const ids = { tenant: "contoso.onmicrosoft.com", client_id: "11111111-2222-3333-4444-555555555555" };
  const relay = new pkg.Relay({
    destinations: [
      { name: "sentinel", type: "sentinel", ...ids, credential: { secret: "SENTINEL_SECRET" }, sentinel: { workspace_id: "66666666-7777-8888-9999-000000000000" } },
      { name: "mde", type: "defender", ...ids, credential: { certificate: "MDE_CERT" } },
      { name: "graph", type: "graph", ...ids, credential: { managed_identity: true } },
    ],
  });
  const plan = relay.plan(fixture("threatconnect_v3.json"), { now: "2024-03-10T00:00:00Z" });
  const clock = virtualClock();
  const calls = [];
  const tokenForms = [];
  const fetch = async (url, init) => {
    const u = new URL(url);
    calls.push({ url: u.href, t: clock.now(), init });
    if (u.pathname.endsWith("/oauth2/v2.0/token")) {
      tokenForms.push(new URLSearchParams(init.body));
      return res(200, { access_token: `entra-${tokenForms.length}`, expires_in: 3599 });
    }
    if (u.host === "169.254.1.1:8081") return res(200, { access_token: "mi-token", expires_on: String(Math.floor(clock.now() / 1000) + 3600) });
    if (u.pathname.includes("threat-intelligence-stix-objects:upload")) {
      const n = calls.filter((c) => c.url.includes("stix-objects")).length;
      return n === 1
        ? res(429, { statusCode: 429, message: "Rate limit is exceeded. Try again in 17 seconds." })
        : res(200, { errors: [{ recordIndex: 1, errorMessages: ["Error for Property=pattern: invalid"] }] });
    }
    if (u.pathname.endsWith("/api/indicators/import")) {
      const { Indicators } = JSON.parse(init.body);
      return res(200, { value: Indicators.map((x, i) => ({ id: String(i + 1), indicator: x.indicatorValue, isFailed: false, failureReason: null })) });
    }
    if (u.pathname.endsWith("/submitTiIndicators")) return res(200, { value: [] });
    return res(404, "");
  };
  const secrets = { SENTINEL_SECRET: SECRET, MDE_CERT: await certificatePem() };
  const delivery = createDelivery({
    relay,
    fetch,
    now: clock.now,
    sleep: clock.sleep,
    random: () => 0.5,
    secrets: async (name) => secrets[name],
    env: { IDENTITY_ENDPOINT: "http://169.254.1.1:8081/msi/token", IDENTITY_HEADER: "header-value-1234" },
  });
  const report = await delivery.deliver(plan.requests);
  const upload = plan.requests.find((r) => r.op === "sentinel-upload");
  const expected = plan.requests.reduce((n, r) => n + r.items.length, 0);
  assert.equal(report.items.length, expected);
  for (const item of report.items) {
    const rejected = item.destination === "sentinel" && item.key === upload.items[1];
    assert.equal(item.outcome, rejected ? "rejected" : "accepted", `${item.destination} ${item.key}`);
  }
  assert.equal(report.dead.length, 1);
  assert.deepEqual(report.dead[0].keys, [upload.items[1]]);
  assert.match(report.dead[0].message, /invalid/);
  if (typeof relay.retain === "function") assert.deepEqual(report.dead[0].request.items, [upload.items[1]]);
  // The 429's "Try again in 17 seconds" was honoured.
  const uploads = calls.filter((c) => c.url.includes("stix-objects"));
  assert.ok(uploads[1].t - uploads[0].t >= 17_000);
  assert.equal(uploads[1].init.body, upload.body);
  // One token per credential; the certificate one is an assertion.
  assert.equal(tokenForms.length, 2);
  assert.ok(tokenForms.some((f) => f.get("client_secret") === SECRET));
  assert.ok(tokenForms.some((f) => f.get("client_assertion_type")?.endsWith("jwt-bearer")));
  const mi = calls.find((c) => c.url.startsWith("http://169.254.1.1:8081/"));
  assert.equal(new URL(mi.url).searchParams.get("resource"), "https://graph.microsoft.com");
  assert.equal(mi.init.headers["x-identity-header"], "header-value-1234");
  const graph = calls.find((c) => c.url.endsWith("/submitTiIndicators"));
  assert.equal(graph.init.headers.authorization, "Bearer mi-token");
});

test("real Relay: a Defender removal looks up, then BatchDeletes (a follow-up) before the item is accepted", async () => {
  const ids = { tenant: "contoso.onmicrosoft.com", client_id: "11111111-2222-3333-4444-555555555555" };
  const relay = new pkg.Relay({ destinations: [{ name: "mde", type: "defender", ...ids, credential: { secret: "S" } }] });
  const plan = relay.plan(fixture("opencti_legacy_delete.json"), { now: "2024-03-10T00:00:00Z" });
  const lookup = plan.requests.find((r) => r.op === "defender-lookup");
  assert.ok(lookup, "the fixture plans a lookup");
  const value = "http://198.51.100.9/a.php?id=1&x=2";
  const seen = [];
  const clock = virtualClock();
  const fetch = async (url, init) => {
    const u = new URL(url);
    if (u.pathname.endsWith("/token")) return res(200, { access_token: "t", expires_in: 3599 });
    seen.push(`${init.method} ${u.pathname}`);
    if (init.method === "GET") {
      return res(200, { value: [{ id: "10", indicatorValue: value, indicatorType: "Url", application: "ti-relay", createdBy: ids.client_id, createdBySource: "ti-relay" }] });
    }
    if (u.pathname.endsWith("/BatchDelete")) return res(204, "");
    const { Indicators } = JSON.parse(init.body);
    return res(200, { value: Indicators.map((x, i) => ({ id: String(i), indicator: x.indicatorValue, isFailed: false })) });
  };
  const delivery = createDelivery({ relay, fetch, now: clock.now, sleep: clock.sleep, secrets: async () => SECRET });
  const report = await delivery.deliver(plan.requests);
  assert.ok(seen.includes("POST /api/indicators/BatchDelete"), seen.join(", "));
  const lookupItems = new Set(lookup.items);
  for (const item of report.items) assert.equal(item.outcome, "accepted", item.key);
  assert.ok(report.items.some((i) => lookupItems.has(i.key)));
  assert.equal(report.items.length, new Set(plan.requests.flatMap((r) => r.items)).size);
});

// ---------------------------------------------------------------- the emulator (loopback)

const emulatorUrl = new URL("../../emulator/server.mjs", import.meta.url);
const certUrl = new URL("../../emulator/testing/cert.mjs", import.meta.url);
const haveEmulator = existsSync(emulatorUrl) && existsSync(certUrl);

/** A host clock `scale` times faster than real time (as the CLI's --time-scale), and its sleep. */
function scaledClock(scale) {
  const start = Date.now();
  return {
    now: () => start + (Date.now() - start) * scale,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms) / scale)),
  };
}

test("emulator: secret, PS256 and RS256 certificates and a managed identity get tokens; a plan is delivered", { skip: !haveEmulator && "emulator/ not there" }, async () => {
  const { startEmulator, DEFAULT_IDENTITY_HEADER } = await import(emulatorUrl.href);
  const { makeCertificate } = await import(certUrl.href);
  const emu = await startEmulator();
  try {
    const cert = await makeCertificate();
    const certClient = "00000000-0000-4000-8000-0000000000c1";
    emu.registerApp({ client_id: certClient, certificate: cert.certificatePem, name: "cert app" });
    const tenant = "contoso.onmicrosoft.com";
    const at = { login_base_url: emu.url, api_base_url: emu.url, tenant };
    const relay = new pkg.Relay({
      destinations: [
        { name: "sentinel", type: "sentinel", ...at, client_id: "00000000-0000-4000-8000-00000000c0de", credential: { secret: "EMU_SECRET" }, sentinel: { workspace_id: "11111111-2222-3333-4444-555555555555" } },
        { name: "mde", type: "defender", ...at, client_id: certClient, credential: { certificate: "EMU_CERT" } },
        { name: "graph", type: "graph", ...at, credential: { managed_identity: true } },
      ],
    });
    const secrets = { EMU_SECRET: "emulator-dev-secret", EMU_CERT: cert.privateKeyPem + cert.certificatePem };
    const lines = [];
    const log = createLogger((line) => lines.push(line), { level: "debug" });
    const env = { IDENTITY_ENDPOINT: `${emu.url}/msi/token`, IDENTITY_HEADER: DEFAULT_IDENTITY_HEADER };
    const clock = scaledClock(1);
    const deps = { relay, fetch, now: clock.now, sleep: clock.sleep, log, secrets: async (n) => secrets[n], env };

    // RS256 too: the emulator checks x5t against the registered certificate and verifies the signature.
    const { createTokenSource } = await import("../../worker/lib/tokens.mjs");
    const mde = relay.config.destinations.find((d) => d.name === "mde");
    for (const certificateAlgorithm of ["PS256", "RS256"]) {
      const source = createTokenSource({ ...deps, options: { certificateAlgorithm } });
      assert.equal(typeof (await source.get(mde)), "string", certificateAlgorithm);
    }

    const plan = relay.plan(fixture("threatconnect_v3.json"), { now: new Date().toISOString() });
    const report = await createDelivery(deps).deliver(plan.requests);
    const bad = report.items.filter((i) => i.outcome !== "accepted");
    assert.deepEqual(bad, [], JSON.stringify(bad));
    assert.equal(report.items.length, new Set(plan.requests.flatMap((r) => r.items.map((k) => `${r.destination} ${k}`))).size);
    assert.equal(report.stats.throttled_429, 0);
    for (const line of lines) {
      assert.ok(!line.includes("emulator-dev-secret") && !line.includes(DEFAULT_IDENTITY_HEADER) && !line.includes("BEGIN PRIVATE KEY"), line);
    }
  } finally {
    await emu.close();
  }
});

test("emulator at time scale 30: 150 Sentinel uploads paced under 100/min — no 429, no wait longer than the window", { skip: !haveEmulator && "emulator/ not there" }, async () => {
  const { startEmulator } = await import(emulatorUrl.href);
  const scale = 30;
  const emu = await startEmulator({ timeScale: scale });
  try {
    const relay = new pkg.Relay({
      destinations: [{
        name: "sentinel", type: "sentinel", tenant: "contoso.onmicrosoft.com", login_base_url: emu.url, api_base_url: emu.url,
        client_id: "00000000-0000-4000-8000-00000000c0de", credential: { secret: "EMU_SECRET" },
        sentinel: { workspace_id: "11111111-2222-3333-4444-555555555555" },
      }],
    });
    const [upload] = relay.plan(fixture("threatconnect_v3.json"), { now: new Date().toISOString() }).requests;
    // 150 uploads of one object each (re-uploads of the same ids are updates).
    const requests = Array.from({ length: 150 }, (_, i) => relay.retain({ ...upload, id: `${upload.id}#${i}` }, [upload.items[i % upload.items.length]]));
    const clock = scaledClock(scale);
    const sends = [];
    const timedFetch = async (url, init) => {
      if (String(url).includes("/oauth2/")) return fetch(url, init);
      const entry = { sent: clock.now() };
      sends.push(entry);
      const response = await fetch(url, init);
      entry.answered = clock.now();
      return response;
    };
    const delivery = createDelivery({ relay, fetch: timedFetch, now: clock.now, sleep: clock.sleep, secrets: async () => "emulator-dev-secret" });
    const report = await delivery.deliver(requests);
    assert.equal(report.stats.throttled_429, 0, JSON.stringify(report.stats));
    assert.deepEqual(report.stats.responses_by_status, { 200: 150 });
    assert.ok(report.items.every((i) => i.outcome === "accepted"));
    // The first window goes at once (as fast as this machine answers); the (k+100)-th send leaves one
    // window plus the 2% margin after the k-th answer — never much later (slack: timer and CPU jitter,
    // 3 emulated seconds = 100 ms real), i.e. ≥ 93% of the ceiling.
    const answers = sends.map((s) => s.answered).sort((a, b) => a - b);
    for (let k = 0; k + 100 < sends.length; k += 1) {
      const gap = sends[k + 100].sent - answers[k];
      assert.ok(gap >= 61_200 - 1 && gap <= 61_200 + 3_000, `send ${k + 100} left ${gap} ms after answer ${k}`);
    }
  } finally {
    await emu.close();
  }
});

// ---------------------------------------------------------------- workerd

const miniflareUrl = new URL("../../node_modules/miniflare/dist/src/index.js", import.meta.url);

test("workerd: worker/lib runs unchanged in the Workers runtime (PS256 assertion, pacing, report)", { skip: !existsSync(miniflareUrl) && "miniflare not installed" }, async () => {
  const { Miniflare, convertV4MiniflareOptions } = await import(miniflareUrl.href);
  const libDir = new URL("../../worker/lib/", import.meta.url);
  const { readdirSync } = await import("node:fs");
  const root = "/ti-relay-lib";
  const lib = readdirSync(libDir).filter((f) => f.endsWith(".mjs"));
  const main = `
    import { createDelivery, createLogger } from "./index.mjs";
    export default {
      async fetch() {
        const pair = await crypto.subtle.generateKey(
          { name: "RSA-PSS", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, true, ["sign"]);
        const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
        const pem = (label, bytes) => "-----BEGIN " + label + "-----\\n" + btoa(String.fromCharCode(...bytes)) + "\\n-----END " + label + "-----\\n";
        const certificate = pem("PRIVATE KEY", pkcs8) + pem("CERTIFICATE", new Uint8Array(64).fill(7));
        const lines = [];
        let assertion;
        const fetch = async (url, init) => {
          if (url.endsWith("/token")) {
            assertion = new URLSearchParams(init.body).get("client_assertion");
            return new Response(JSON.stringify({ access_token: "workerd-token", expires_in: 3599 }));
          }
          return new Response(init.headers.authorization === "Bearer workerd-token" ? "" : "no token", { status: 200 });
        };
        const relay = {
          config: { destinations: [{ name: "d", client_id: "c", credential: { certificate: "C" }, endpoint: { token_url: "https://login.test/t/token", scope: "s/.default" } }] },
          interpret: (request) => ({ items: request.items.map((key) => ({ key, outcome: "accepted" })), follow_up: [] }),
        };
        const delivery = createDelivery({
          relay, fetch, now: Date.now, sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
          log: createLogger((l) => lines.push(l)), secrets: async () => certificate,
        });
        const req = (id) => ({ id, destination: "d", op: "x", method: "POST", url: "https://api.test/" + id, headers: {}, body: "{}", items: [id], limit: "l", rate: [{ requests: 2, per_ms: 100 }] });
        const report = await delivery.deliver([req("a"), req("b"), req("c")]);
        const header = JSON.parse(atob(assertion.split(".")[0].replace(/-/g, "+").replace(/_/g, "/")));
        return Response.json({ report, header, leaked: lines.some((l) => l.includes("workerd-token")) });
      },
    };`;
  // Miniflare 4's option shape; Miniflare 5 converts it (`convertV4MiniflareOptions`).
  const v4 = {
    modulesRoot: root,
    modules: [
      { type: "ESModule", path: `${root}/main.mjs`, contents: main },
      ...lib.map((f) => ({ type: "ESModule", path: `${root}/${f}`, contents: readFileSync(new URL(f, libDir), "utf8") })),
    ],
    compatibilityDate: "2025-01-01",
  };
  const mf = new Miniflare(typeof convertV4MiniflareOptions === "function" ? convertV4MiniflareOptions(v4) : v4);
  try {
    const res = await mf.dispatchFetch("http://localhost/");
    const { report, header, leaked } = await res.json();
    assert.deepEqual(report.items.map((i) => i.outcome), ["accepted", "accepted", "accepted"]);
    assert.equal(header.alg, "PS256");
    assert.ok(header["x5t#S256"]);
    assert.ok(report.stats.finished_ms - report.stats.started_ms >= 100, "the third request waited for the window");
    assert.equal(leaked, false);
  } finally {
    await mf.dispose();
  }
});
