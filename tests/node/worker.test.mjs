// The Cloudflare Worker in workerd (Miniflare), against the Microsoft emulator on 127.0.0.1:
// routes and errors, webhook authentication, create → update → delete for every input format family
// and every destination, queue delivery with the Durable Object rate budget, a fault-injection run,
// dead letters and the cron re-drive.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";

import { startEmulator } from "../../emulator/server.mjs";
import { sign } from "../../worker/http/auth.mjs";
import { families, stixBulk } from "./support/payloads.mjs";
import { BEARER_TOKEN, HMAC_SECRET, localConfig, startWorker } from "./support/worker.mjs";

const TIME_SCALE = 60;
const WORKSPACE = "11111111-2222-3333-4444-555555555555";
const OUR_APP = "00000000-0000-4000-8000-00000000c0de";

let emulator;
before(async () => {
  emulator = await startEmulator({ port: 0, timeScale: TIME_SCALE, seed: 7 });
});
after(async () => {
  await emulator?.close();
});

const bearer = { authorization: `Bearer ${BEARER_TOKEN}` };

async function post(worker, path, payload, headers = bearer) {
  const body = typeof payload === "string" ? payload : JSON.stringify(payload);
  const res = await worker.fetch(path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

/** Polls `check` until it returns a truthy value or `ms` pass. */
async function waitFor(check, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const sentinelObjects = () => Object.values(emulator.state().sentinel[WORKSPACE] ?? {});
const sentinelFor = (value) => sentinelObjects().filter((o) => o.latest.pattern.includes(`'${value}'`));
const defenderFor = (value) => emulator.state().defender.filter((i) => i.indicatorValue === value);
const graphFor = (value) =>
  emulator.state().graph.filter((i) => i.networkIPv4 === value || i.networkDestinationIPv4 === value);
const naturalThrottles = () => Object.values(emulator.state().counters.throttled.natural).reduce((a, b) => a + b, 0);

test("routes: health, index, 404, 405; a broken configuration answers 503, never 500", async () => {
  const worker = await startWorker({ config: localConfig(emulator.url), timeScale: TIME_SCALE });
  const broken = await startWorker({ config: { destinations: [{ name: "x", type: "sentinel", tenant: "t" }] } });
  try {
    const health = await (await worker.fetch("/healthz")).json();
    assert.equal(health.ok, true);
    assert.deepEqual(health.destinations.map((d) => d.type), ["sentinel", "defender", "graph"]);
    assert.equal(health.delivery, "inline");
    assert.equal((await worker.fetch("/")).status, 200);
    const missing = await worker.fetch("/v2/nothing");
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error.code, "not_found");
    const wrongMethod = await worker.fetch("/v1/events");
    assert.equal(wrongMethod.status, 405);

    const res = await broken.fetch("/healthz");
    assert.equal(res.status, 503);
    const { error } = await res.json();
    assert.equal(error.code, "config");
    assert.ok(error.details.some((d) => d.path === "destinations[0].tenant"), JSON.stringify(error.details));
    const events = await post(broken, "/v1/events", "{}");
    assert.equal(events.status, 503);
    assert.equal(events.json.error.code, "config");
  } finally {
    await worker.dispose();
    await broken.dispose();
  }
});

test("auth: HMAC valid, bad signature, stale timestamp, replay, missing; bearer", async () => {
  const worker = await startWorker({ config: localConfig(emulator.url, (c) => ({ ...c, policy: { dry_run: true } })) });
  try {
    const body = JSON.stringify(families.opencti.create("198.51.100.200", 900));
    const now = Math.floor(Date.now() / 1000);
    const signed = await sign(HMAC_SECRET, body, now);
    const cases = [
      { name: "valid signature", headers: signed, status: 200 },
      { name: "replay of the same signature", headers: signed, status: 401, message: /replayed/ },
      { name: "bad signature", headers: await sign("wrong-secret", body, now + 1), status: 401, message: /does not match/ },
      { name: "stale timestamp", headers: await sign(HMAC_SECRET, body, now - 600), status: 401, message: /stale/ },
      { name: "missing credentials", headers: {}, status: 401, message: /missing/ },
      { name: "wrong bearer", headers: { authorization: "Bearer nope" }, status: 401, message: /invalid bearer/ },
      { name: "bearer", headers: bearer, status: 200 },
    ];
    for (const c of cases) {
      const res = await post(worker, "/v1/plan", body, c.headers);
      assert.equal(res.status, c.status, `${c.name}: ${res.text}`);
      if (c.message) {
        assert.equal(res.json.error.code, "unauthorized", c.name);
        assert.match(res.json.error.message, c.message, c.name);
        assert.ok(!res.text.includes(HMAC_SECRET) && !res.text.includes(BEARER_TOKEN), `${c.name} leaks a credential`);
      }
    }
    // Refused requests process nothing: the dry-run plan above was the only thing that ran.
    assert.equal(emulator.state().counters.requests["sentinel-upload"], undefined);
  } finally {
    await worker.dispose();
  }
});

test("bad input answers 4xx with what and where, never 500", async () => {
  const worker = await startWorker({
    config: localConfig(emulator.url, (c) => ({ ...c, policy: { dry_run: true } })),
    bindings: { MAX_BODY_BYTES: "4096" },
  });
  try {
    const cases = [
      { name: "malformed JSON", body: '{"type": "create", "data": {', status: 400, code: "json" },
      { name: "unknown shape", body: '{"hello": "world"}', status: 400, code: "shape" },
      { name: "wrong type", body: "42", status: 400, code: "shape" },
      { name: "oversized", body: JSON.stringify(stixBulk(100)), status: 413, code: "too_large" },
      { name: "not UTF-8", body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), status: 400, code: "json" },
    ];
    for (const path of ["/v1/events", "/v1/plan"]) {
      for (const c of cases) {
        const res = await worker.fetch(path, { method: "POST", headers: bearer, body: c.body });
        const json = await res.json();
        assert.equal(res.status, c.status, `${path} ${c.name}: ${JSON.stringify(json)}`);
        assert.equal(json.error.code, c.code, `${path} ${c.name}: ${JSON.stringify(json)}`);
        assert.ok(json.error.message.length > 10, c.name);
      }
    }
    // A bad item inside a good payload is that item's error, not the request's.
    const mixed = { type: "bundle", id: "bundle--00000000-0000-4000-8000-000000000001", objects: [
      { type: "indicator", id: "indicator--00000000-0000-4000-8000-000000000002", spec_version: "2.1", created: "2026-11-01T00:00:00Z", modified: "2026-11-01T00:00:00Z", pattern: "[ipv4-addr:value = ", pattern_type: "stix", valid_from: "2026-11-01T00:00:00Z" },
      ...stixBulk(1).objects,
    ] };
    const res = await post(worker, "/v1/events", mixed);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.items.length, 1);
    assert.equal(res.json.errors.length, 1);
    assert.equal(res.json.errors[0].code, "pattern");
    assert.match(res.json.errors[0].path, /objects\[0\]/);
  } finally {
    await worker.dispose();
  }
});

test("create → update → delete for every format family and destination (inline delivery)", async () => {
  const worker = await startWorker({ config: localConfig(emulator.url), timeScale: TIME_SCALE });
  try {
    let n = 0;
    for (const [family, payloads] of Object.entries(families)) {
      n += 1;
      const value = `203.0.113.${10 + n}`;
      // Someone else's Defender indicator for the same value must survive our delete.
      emulator.seedDefender({
        indicatorValue: value,
        indicatorType: "IpAddress",
        action: "Block",
        title: "foreign",
        description: "created by another app",
        application: "another-app",
      });

      const created = await post(worker, "/v1/events", payloads.create(value, n * 10));
      assert.equal(created.status, 200, `${family} create: ${created.text}`);
      const verdicts = created.json.items.flatMap((i) => i.verdicts);
      assert.deepEqual(verdicts.map((v) => [v.verdict, v.outcome]), [["upsert", "accepted"], ["upsert", "accepted"], ["upsert", "accepted"]], `${family}: ${created.text}`);
      assert.equal(sentinelFor(value).length, 1, `${family}: one Sentinel object`);
      assert.equal(sentinelFor(value)[0].revoked, false);
      const ours = () => defenderFor(value).filter((i) => i.createdBy === OUR_APP);
      assert.equal(ours().length, 1, `${family}: one Defender indicator of ours`);
      assert.equal(graphFor(value).length, 1, `${family}: one Graph indicator`);

      const updated = await post(worker, "/v1/events", payloads.update(value, n * 10));
      assert.equal(updated.status, 200, `${family} update: ${updated.text}`);
      assert.ok(updated.json.items.flatMap((i) => i.verdicts).every((v) => v.outcome === "accepted"), `${family}: ${updated.text}`);
      const [object] = sentinelFor(value);
      assert.equal(object.versions.length, 2, `${family}: the update is a new version of the same STIX id`);
      assert.equal(ours().length, 1, `${family}: the update did not duplicate the Defender indicator`);

      const deleted = await post(worker, "/v1/events", payloads.delete(value, n * 10));
      assert.equal(deleted.status, 200, `${family} delete: ${deleted.text}`);
      const removals = deleted.json.items.flatMap((i) => i.verdicts);
      assert.ok(removals.length > 0 && removals.every((v) => v.verdict === "remove" && v.outcome === "accepted"), `${family}: ${deleted.text}`);
      assert.equal(sentinelFor(value)[0].revoked, true, `${family}: revoked in Sentinel`);
      assert.equal(ours().length, 0, `${family}: our Defender indicator removed`);
      assert.equal(defenderFor(value).filter((i) => i.createdBy !== OUR_APP).length, 1, `${family}: the foreign one untouched`);
      assert.equal(graphFor(value).length, 0, `${family}: deleted from Graph by externalId`);
    }
    assert.equal(emulator.state().counters.stale_modified, 0);
    assert.equal(naturalThrottles(), 0);
  } finally {
    await worker.dispose();
  }
});

test("concurrent webhooks share one rate budget (Durable Object): no 429 drawn", async () => {
  // Defender only: import is 30 calls per minute, so 45 concurrent webhooks span two windows.
  // A gentler scale than the other tests: a (scaled) minute lasts 6 s, so the pacing margin (2% of
  // the minute: 120 ms of real time) covers timer and scheduling jitter on a busy 2-core machine (at
  // 20×, its 60 ms drew one 429 once while other builds shared the cores).
  const scale = 10;
  const own = await startEmulator({ port: 0, timeScale: scale, seed: 3 });
  const config = localConfig(own.url, (c) => ({ ...c, destinations: c.destinations.filter((d) => d.type === "defender") }));
  const worker = await startWorker({ config, timeScale: scale });
  try {
    const values = Array.from({ length: 45 }, (_, i) => `192.0.2.${i + 1}`);
    const started = Date.now();
    const results = await Promise.all(values.map((v, i) => post(worker, "/v1/events", families.opencti.create(v, 2000 + i * 10))));
    const elapsed = Date.now() - started;
    for (const r of results) assert.equal(r.status, 200, r.text);
    for (const r of results) assert.equal(r.json.items[0].verdicts[0].outcome, "accepted", r.text);
    assert.deepEqual(own.state().counters.throttled.natural, {});
    assert.equal(own.state().defender.length, 45);
    // 45 calls at 30 per (scaled) minute: the second window had to wait about one minute / scale.
    assert.ok(elapsed >= 60_000 / scale, `took ${elapsed} ms`);
  } finally {
    await worker.dispose();
    await own.close();
  }
});

test("queue delivery: accepted events are enqueued and delivered by the consumer", async () => {
  emulator.reset();
  const worker = await startWorker({ config: localConfig(emulator.url), queue: true, timeScale: TIME_SCALE });
  try {
    const payload = stixBulk(250, 5000);
    const res = await post(worker, "/v1/events", payload);
    assert.equal(res.status, 202, res.text);
    assert.equal(res.json.delivery, "queued");
    assert.equal(res.json.items.length, 250);
    const health = await (await worker.fetch("/healthz")).json();
    assert.equal(health.delivery, "queue");
    await waitFor(
      () => sentinelObjects().length === 250 && emulator.state().defender.length === 250 && emulator.state().graph.length === 250,
      30_000,
      "the consumer to deliver 250 indicators to three destinations",
    );
    assert.equal(naturalThrottles(), 0);
  } finally {
    await worker.dispose();
  }
});

test("queue delivery: a request too large for one queue message (128 KB) is split, and all of it lands", async () => {
  emulator.reset();
  const config = localConfig(emulator.url, (c) => ({ ...c, destinations: c.destinations.filter((d) => d.type === "defender") }));
  const worker = await startWorker({ config, queue: true, timeScale: TIME_SCALE });
  try {
    // 500 URL indicators with long paths: one Defender import of ~300 KB, over the message limit.
    const objects = Array.from({ length: 500 }, (_, i) => {
      const url = `https://cdn-${i}.example/${"payload/".repeat(30)}${i}.bin`;
      return {
        type: "indicator",
        spec_version: "2.1",
        id: `indicator--6a1f0c2a-0000-4a7b-8c9d-${String(i).padStart(12, "0")}`,
        created: "2026-11-01T00:00:00.000Z",
        modified: "2026-11-10T00:00:00.000Z",
        pattern: `[url:value = '${url}']`,
        pattern_type: "stix",
        valid_from: "2026-11-01T00:00:00.000Z",
      };
    });
    const plan = await post(worker, "/v1/plan", { type: "bundle", id: "bundle--6a1f0c2a-0000-4a7b-8c9d-000000000000", objects });
    const imports = plan.json.requests.filter((r) => r.op === "defender-import");
    assert.equal(imports.length, 1);
    assert.ok(imports[0].body.length > 128_000, `one import of ${imports[0].body.length} bytes`);
    const res = await post(worker, "/v1/events", { type: "bundle", id: "bundle--6a1f0c2a-0000-4a7b-8c9d-000000000001", objects });
    assert.equal(res.status, 202, res.text);
    await waitFor(() => emulator.state().defender.length === 500, 30_000, "500 Defender URL indicators");
    const calls = emulator.state().counters.requests["defender-import"]["200"];
    assert.ok(calls >= 3, `split into ${calls} imports`);
  } finally {
    await worker.dispose();
  }
});

test("fault run: 20% of calls fail in assorted ways; every item ends accepted or dead-lettered, none lost, none duplicated", async () => {
  emulator.reset();
  // 150 webhooks of 8 indicators each: 450 API calls (one per destination per webhook) + tokens.
  const events = 150;
  const perEvent = 8;
  const total = events * perEvent;
  emulator.setFaults({
    seed: 11,
    rules: [
      { match: { route: "token" }, kind: "token", rate: 0.2 },
      { match: { route: "*" }, kind: "503", rate: 0.05 },
      { match: { route: "*" }, kind: "429", rate: 0.05 },
      { match: { route: "*" }, kind: "500", rate: 0.03 },
      { match: { route: "*" }, kind: "timeout", rate: 0.02, delayMs: 300 },
      { match: { route: "*" }, kind: "reset", rate: 0.02 },
      { match: { route: "*" }, kind: "partial", rate: 0.03 },
    ],
  });
  const worker = await startWorker({
    config: localConfig(emulator.url),
    queue: true,
    timeScale: TIME_SCALE,
    // The request timeout is generous on purpose: a Graph submit the emulator processed but answered
    // after the timeout (a loaded machine) is sent again, and Graph keeps both (submitting is not
    // idempotent). The injected `timeout` faults end in a reset after 300 ms, within it.
    bindings: { DELIVERY_REQUEST_TIMEOUT_MS: "10000", DELIVERY_BASE_DELAY_MS: "200" },
  });
  try {
    const keyToValue = new Map();
    const values = new Set();
    const responses = await Promise.all(
      Array.from({ length: events }, (_, e) => {
        const payload = stixBulk(perEvent, 20_000 + e * perEvent);
        for (const o of payload.objects) values.add(/'(.*)'/.exec(o.pattern)[1]);
        return post(worker, "/v1/events", payload);
      }),
    );
    for (const res of responses) {
      assert.equal(res.status, 202, res.text);
      for (const i of res.json.items) keyToValue.set(i.key, i.observable.value);
    }
    assert.equal(keyToValue.size, total);

    const account = async () => {
      const dead = (await (await worker.fetch("/v1/dead-letters", { headers: bearer })).json()).dead_letters;
      const deadBy = { sentinel: new Set(), defender: new Set(), graph: new Set() };
      for (const letter of dead) for (const key of letter.keys) deadBy[letter.destination].add(keyToValue.get(key));
      const state = emulator.state();
      const held = {
        sentinel: Object.values(state.sentinel[WORKSPACE] ?? {}).map((o) => /'(.*)'/.exec(o.latest.pattern)[1]),
        defender: state.defender.map((i) => i.indicatorValue),
        graph: state.graph.map((i) => i.networkIPv4 ?? i.networkDestinationIPv4),
      };
      return { dead, deadBy, held, state };
    };
    const done = await waitFor(
      async () => {
        const a = await account();
        const complete = Object.keys(a.held).every((d) => new Set([...a.held[d], ...a.deadBy[d]]).size === total);
        return complete ? a : undefined;
      },
      90_000,
      "every item to end accepted or dead-lettered",
    );
    for (const destination of ["sentinel", "defender", "graph"]) {
      const held = done.held[destination];
      assert.equal(new Set(held).size, held.length, `${destination}: no value held twice`);
      for (const v of held) assert.ok(values.has(v), `${destination}: ${v} was not sent`);
      for (const v of done.deadBy[destination]) assert.ok(!held.includes(v), `${destination}: ${v} both held and dead`);
    }
    for (const letter of done.dead) {
      console.log(`dead letter: ${letter.destination} ${letter.keys.length} item(s), ${letter.reason} after ${letter.attempts} attempt(s): ${letter.message}`);
      assert.ok(["rejected", "failed"].includes(letter.reason));
      assert.ok(letter.message, "every dead letter says why");
    }
    assert.equal(done.state.counters.stale_modified, 0, "no Sentinel object sent twice");
    assert.equal(done.state.counters.duplicate_external_id, 0, "no Graph indicator sent twice");
    const injected = Object.values(done.state.counters.faults).reduce((a, b) => a + b, 0);
    const calls = Object.entries(done.state.counters.requests)
      .filter(([route]) => route !== "token")
      .reduce((n, [, byStatus]) => n + Object.values(byStatus).reduce((a, b) => a + b, 0), 0);
    assert.ok(injected >= 0.1 * calls, `about 20% of ${calls} calls failed (${injected} injected)`);
    console.log(
      `fault run: ${total} items × 3 destinations, ${calls} API calls, ${injected} injected faults ` +
        `${JSON.stringify(done.state.counters.faults)}, held ${done.held.sentinel.length}/${done.held.defender.length}/` +
        `${done.held.graph.length}, dead-lettered items ${done.dead.reduce((n, l) => n + l.keys.length, 0)}`,
    );
    // Once the faults stop, the cron re-drives what failed, and everything is held exactly once.
    emulator.setFaults({ rules: [] });
    await worker.scheduled();
    const healed = await waitFor(
      async () => {
        const a = await account();
        const rejected = a.dead.filter((l) => l.reason === "rejected").reduce((n, l) => n + l.keys.length, 0);
        return a.held.sentinel.length + a.held.defender.length + a.held.graph.length + rejected === 3 * total ? a : undefined;
      },
      30_000,
      "the re-driven dead letters to land",
    );
    for (const destination of ["sentinel", "defender", "graph"]) {
      assert.equal(new Set(healed.held[destination]).size, healed.held[destination].length, `${destination}: no duplicates after replay`);
    }
    assert.equal(healed.state.counters.stale_modified, 0);
  } finally {
    emulator.setFaults({ rules: [] });
    await worker.dispose();
  }
});

test("dead letters: failed items are listed with their reason and the cron re-drives them", async () => {
  emulator.reset();
  emulator.setFaults({ rules: [{ match: { route: "sentinel-upload" }, kind: "503", times: 4 }] });
  const config = localConfig(emulator.url, (c) => ({ ...c, destinations: c.destinations.filter((d) => d.type === "sentinel") }));
  const worker = await startWorker({
    config,
    queue: true,
    timeScale: TIME_SCALE,
    bindings: { DELIVERY_MAX_ATTEMPTS: "2", DELIVERY_BASE_DELAY_MS: "100" },
  });
  try {
    // Two requests of 100 and 20 objects; each fails twice (503) and is dead-lettered.
    const res = await post(worker, "/v1/events", stixBulk(120, 40_000));
    assert.equal(res.status, 202, res.text);
    const dead = await waitFor(
      async () => {
        const list = (await (await worker.fetch("/v1/dead-letters", { headers: bearer })).json()).dead_letters;
        return list.reduce((n, l) => n + l.keys.length, 0) === 120 ? list : undefined;
      },
      20_000,
      "120 dead-lettered items",
    );
    assert.ok(dead.every((l) => l.reason === "failed" && /503/.test(l.message)), JSON.stringify(dead.map((l) => l.message)));
    assert.equal(sentinelObjects().length, 0);

    await worker.scheduled();
    await waitFor(() => sentinelObjects().length === 120, 20_000, "the re-driven items to land");
    const left = (await (await worker.fetch("/v1/dead-letters", { headers: bearer })).json()).dead_letters;
    assert.equal(left.length, 0);
  } finally {
    emulator.setFaults({ rules: [] });
    await worker.dispose();
  }
});
