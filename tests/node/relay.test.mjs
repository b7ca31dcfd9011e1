// Relay.plan / relay.interpret through the wasm package, as hosts call them (SPEC §7).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";

import { loadPkg, repoRoot } from "./load.mjs";

const pkg = await loadPkg();
const fixture = (name) => readFileSync(new URL(`tests/fixtures/decode/${name}`, repoRoot), "utf8");
const ids = { tenant: "contoso.onmicrosoft.com", client_id: "11111111-2222-3333-4444-555555555555" };
const config = {
  destinations: [
    { name: "sentinel", type: "sentinel", ...ids, credential: { secret: "S" }, sentinel: { workspace_id: "66666666-7777-8888-9999-000000000000" } },
    { name: "mde", type: "defender", ...ids, credential: { certificate: "C" } },
    { name: "graph", type: "graph", ...ids, credential: { managed_identity: true } },
  ],
};
const now = "2024-03-10T00:00:00Z";

test("plan: verdicts per destination and exact requests", () => {
  const relay = new pkg.Relay(config);
  const plan = relay.plan(fixture("threatconnect_v3.json"), { now });
  assert.deepEqual(Object.keys(plan).sort(), ["errors", "items", "requests"]);
  for (const item of plan.items) {
    assert.deepEqual(item.verdicts.map((v) => v.destination), ["sentinel", "mde", "graph"]);
  }
  const ops = plan.requests.map((r) => r.op);
  assert.deepEqual(ops, ["sentinel-upload", "defender-import", "graph-submit"]);
  for (const r of plan.requests) {
    assert.equal(typeof r.body, "string");
    JSON.parse(r.body);
    assert.ok(r.items.length > 0);
  }
  // Raw text and a parsed value plan alike; the same input twice gives the same plan.
  assert.deepEqual(relay.plan(JSON.parse(fixture("threatconnect_v3.json")), { now }), plan);
});

test("plan: missing facts.now throws and leaves the relay usable", () => {
  const relay = new pkg.Relay(config);
  let err;
  try {
    relay.plan("[]", {});
  } catch (e) {
    err = e;
  }
  assert.equal(err.code, "missing");
  assert.deepEqual(relay.plan("[]", { now }), { items: [], requests: [], errors: [] });
});

test("plan: facts.format forces the input format, with decode's names and error", () => {
  const relay = new pkg.Relay(config);
  const payload = fixture("threatconnect_v3.json");
  const detected = relay.plan(payload, { now });
  assert.ok(detected.items.length > 0);
  assert.deepEqual(relay.plan(payload, { now, format: "threatconnect" }), detected);
  assert.deepEqual(relay.plan(payload, { now, format: "TC" }), detected);
  // Forced as OpenCTI, ThreatConnect indicators are not events: no items.
  assert.equal(relay.plan(payload, { now, format: "opencti" }).items.length, 0);
  let err;
  try {
    relay.plan(payload, { now, format: "csv" });
  } catch (e) {
    err = e;
  }
  assert.equal(err.code, "options");
  assert.equal(err.path, "facts.format");
  let decodeErr;
  try {
    pkg.decode(payload, { format: "csv" });
  } catch (e) {
    decodeErr = e;
  }
  assert.equal(decodeErr.path, "options.format");
  assert.equal(err.message.replace("facts.format", "options.format"), decodeErr.message);
});

test("interpret: Sentinel partial failure maps recordIndex back to items", () => {
  const relay = new pkg.Relay(config);
  const plan = relay.plan(fixture("threatconnect_v3.json"), { now });
  const upload = plan.requests.find((r) => r.op === "sentinel-upload");
  const result = relay.interpret(upload, {
    status: 200,
    headers: {},
    body: JSON.stringify({ errors: [{ recordIndex: 1, errorMessages: ["Error for Property=id: Required property is missing."] }] }),
  });
  assert.equal(result.items.length, upload.items.length);
  assert.equal(result.items[1].outcome, "rejected");
  assert.equal(result.items[0].outcome, "accepted");
  assert.deepEqual(result.follow_up, []);
  const throttled = relay.interpret(upload, { status: 429, headers: {}, body: '{"statusCode":429,"message":"Rate limit is exceeded. Try again in 17 seconds."}' });
  assert.equal(throttled.retry_after_ms, 17000);
  assert.ok(throttled.items.every((i) => i.outcome === "retry"));
});

test("interpret: a Defender removal looks up, then deletes only what this relay created", () => {
  const relay = new pkg.Relay(config);
  const plan = relay.plan(fixture("opencti_legacy_delete.json"), { now });
  const lookup = plan.requests.find((r) => r.op === "defender-lookup");
  assert.equal(lookup.method, "GET");
  assert.equal(lookup.body, null);
  const value = "http://198.51.100.9/a.php?id=1&x=2";
  const list = {
    value: [
      { id: "10", indicatorValue: value, indicatorType: "Url", application: "ti-relay", createdBy: ids.client_id, createdBySource: "ti-relay" },
      { id: "11", indicatorValue: value, indicatorType: "Url", application: "Another Tool", createdBy: "someone-else" },
    ],
  };
  const result = relay.interpret(lookup, { status: 200, headers: {}, body: JSON.stringify(list) });
  assert.equal(result.follow_up.length, 1);
  const del = result.follow_up[0];
  assert.equal(del.op, "defender-batch-delete");
  assert.deepEqual(JSON.parse(del.body), { IndicatorIds: ["10"] });
  assert.deepEqual(del.items, lookup.items);
  const done = relay.interpret(del, { status: 204, headers: {}, body: "" });
  assert.ok(done.items.every((i) => i.outcome === "accepted"));
  // Nothing of ours: the removal already holds.
  const none = relay.interpret(lookup, { status: 200, headers: {}, body: JSON.stringify({ value: [list.value[1]] }) });
  assert.deepEqual(none.follow_up, []);
  assert.ok(none.items.every((i) => i.outcome === "accepted"));
});

// ---- rate, retain, resend, Defender removal follow-ups -------------------------------------------

const ipv4s = (n) => JSON.stringify(Array.from({ length: n }, (_, i) => ({ type: "ipv4-addr", value: `10.0.${i >> 8}.${i & 255}` })));
const removalsOf = (values) => JSON.stringify({ action: "delete", indicators: values });
const valuesOf = (n) => Array.from({ length: n }, (_, i) => `10.1.${i >> 8}.${i & 255}`);
const ours = (id, value) => ({ id: String(id), indicatorValue: value, indicatorType: "IpAddress", application: "ti-relay", createdBy: ids.client_id });

test("plan: every request carries its limit class's documented rate windows", () => {
  const relay = new pkg.Relay(config);
  const plan = relay.plan(ipv4s(2), { now });
  const rates = Object.fromEntries(plan.requests.map((r) => [r.limit.split(":")[0], r.rate]));
  assert.deepEqual(rates, {
    "sentinel-upload": [{ requests: 100, per_ms: 60000 }],
    "defender-import": [{ requests: 30, per_ms: 60000 }],
    graph: [{ requests: 1000, per_ms: 60000 }],
  });
  // `rate` follows `limit` in the request's key order.
  const keys = Object.keys(plan.requests[0]);
  assert.equal(keys[keys.indexOf("limit") + 1], "rate");
  const lookup = relay.plan(removalsOf(valuesOf(2)), { now }).requests.find((r) => r.op === "defender-lookup");
  assert.deepEqual(lookup.rate, [{ requests: 100, per_ms: 60000 }, { requests: 1500, per_ms: 3600000 }]);
});

test("retain: a request narrowed to some items, body byte-identical to a plan of those objects", () => {
  const relay = new pkg.Relay(config);
  const full = relay.plan(ipv4s(5), { now });
  const all = JSON.parse(ipv4s(5));
  const part = relay.plan(JSON.stringify([all[1], all[4]]), { now });
  for (const op of ["sentinel-upload", "defender-import", "graph-submit"]) {
    const request = full.requests.find((r) => r.op === op);
    const narrowed = relay.retain(request, [request.items[4], request.items[1]]);
    const expected = part.requests.find((r) => r.op === op);
    assert.equal(narrowed.body, expected.body, op);
    assert.deepEqual(narrowed.items, expected.items, op);
    for (const key of ["id", "op", "url", "headers", "limit", "rate"]) assert.deepEqual(narrowed[key], request[key], `${op} ${key}`);
    assert.deepEqual(relay.retain(request, request.items), request);
  }
  const request = full.requests[0];
  for (const [keys, message] of [
    [[], /^expected at least one item key to keep, found none/],
    [["nope"], /^unknown item key `nope`: request `sentinel:sentinel-upload:0` carries no such item/],
  ]) {
    assert.throws(() => relay.retain(request, keys), (e) => e.code === "options" && message.test(e.message));
  }
  assert.throws(() => relay.retain(request, "x"), (e) => e.code === "options" && e.path === "keys");
});

test("interpret: resend is the request narrowed to its retry items, absent otherwise", () => {
  const relay = new pkg.Relay(config);
  const plan = relay.plan(ipv4s(3), { now });
  const imp = plan.requests.find((r) => r.op === "defender-import");
  const body = JSON.stringify({ value: [
    { id: "1", indicator: "10.0.0.0", isFailed: false },
    { id: null, indicator: "10.0.0.1", isFailed: true, failureReason: "bad" },
  ] });
  const result = relay.interpret(imp, { status: 200, headers: {}, body });
  assert.deepEqual(result.items.map((i) => i.outcome), ["accepted", "rejected", "retry"]);
  assert.deepEqual(result.resend, relay.retain(imp, [imp.items[2]]));
  const throttled = relay.interpret(imp, { status: 429, headers: { "Retry-After": "12" }, body: "" });
  assert.equal(throttled.retry_after_ms, 12000);
  assert.deepEqual(throttled.resend, imp);
  const done = relay.interpret(imp, { status: 400, headers: {}, body: "" });
  assert.ok(!("resend" in done));
});

test("interpret: several Defender removals share one listing; a BatchDelete answered 404 deletes one by one", () => {
  const relay = new pkg.Relay(config);
  const plan = relay.plan(removalsOf(valuesOf(3)), { now });
  const lookups = plan.requests.filter((r) => r.op === "defender-lookup");
  assert.equal(lookups.length, 1);
  const lookup = lookups[0];
  assert.equal(lookup.url, "https://api.securitycenter.microsoft.com/api/indicators?$filter=application+eq+'ti-relay'&$top=10000");
  assert.deepEqual(lookup.values, valuesOf(3));
  assert.equal(lookup.items.length, 3);
  const listing = { value: [ours(1, lookup.values[0]), ours(2, lookup.values[2]), { ...ours(3, lookup.values[1]), application: "Other" }] };
  const result = relay.interpret(lookup, { status: 200, headers: {}, body: JSON.stringify(listing) });
  // The item with nothing of ours is accepted; the others wait for the BatchDelete.
  assert.deepEqual(result.items, [{ key: lookup.items[1], outcome: "accepted" }]);
  assert.equal(result.follow_up.length, 1);
  const batch = result.follow_up[0];
  assert.equal(batch.op, "defender-batch-delete");
  assert.deepEqual(JSON.parse(batch.body), { IndicatorIds: ["1", "2"] });
  assert.deepEqual(batch.items, [lookup.items[0], lookup.items[2]]);
  assert.ok(batch.limit.startsWith("defender-batch-delete:"));
  assert.deepEqual(batch.rate, [{ requests: 30, per_ms: 60000 }, { requests: 1500, per_ms: 3600000 }]);
  // 404: some id is gone and Defender does not say whether it deleted the others.
  const missing = relay.interpret(batch, { status: 404, headers: {}, body: '{"error":{"code":"NotFound","message":"not found"}}' });
  assert.deepEqual(missing.items, []);
  assert.ok(!("resend" in missing));
  assert.deepEqual(missing.follow_up.map((r) => [r.op, r.method, r.url, r.body, r.items]), [
    ["defender-delete", "DELETE", "https://api.securitycenter.microsoft.com/api/indicators/1", null, batch.items],
    ["defender-delete", "DELETE", "https://api.securitycenter.microsoft.com/api/indicators/2", null, batch.items],
  ]);
  const del = missing.follow_up[0];
  assert.deepEqual(del.headers, {});
  assert.deepEqual(del.rate, [{ requests: 100, per_ms: 60000 }, { requests: 1500, per_ms: 3600000 }]);
  for (const status of [204, 404]) {
    const done = relay.interpret(del, { status, headers: {}, body: "" });
    assert.deepEqual(done.items.map((i) => i.outcome), ["accepted", "accepted"], String(status));
  }
  const busy = relay.interpret(del, { status: 503, headers: {}, body: "" });
  assert.deepEqual(busy.resend, del);
});

test("config: the effective config carries what a host needs for a token; http only on loopback", () => {
  const local = {
    destinations: [{ ...config.destinations[1], login_base_url: "http://127.0.0.1:8788", api_base_url: "http://127.0.0.1:8787" }],
  };
  const relay = new pkg.Relay(local);
  const [d] = relay.config.destinations;
  assert.deepEqual(Object.keys(d), ["name", "type", "enabled", "tenant", "client_id", "credential", "cloud", "endpoint", "settings", "policy"]);
  assert.deepEqual(d.endpoint, {
    login_host: "127.0.0.1:8788",
    login_base_url: "http://127.0.0.1:8788",
    token_url: "http://127.0.0.1:8788/contoso.onmicrosoft.com/oauth2/v2.0/token",
    api_base_url: "http://127.0.0.1:8787",
    scope: "https://api.securitycenter.microsoft.com/.default",
    resource: "https://api.securitycenter.microsoft.com",
  });
  assert.deepEqual(d.credential, { certificate: "C" });
  assert.equal(relay.plan(ipv4s(1), { now }).requests[0].url, "http://127.0.0.1:8787/api/indicators/import");
  const { errors } = pkg.Relay.validateConfig({ destinations: [{ ...config.destinations[1], api_base_url: "http://x.example.com" }] });
  assert.equal(errors.length, 1);
  assert.match(errors[0].message, /`http:\/\/` is allowed only on a loopback host/);
});

test("plan: facts.defenderActive as one number or per destination name fills the Defender quota", () => {
  const relay = new pkg.Relay(config);
  const quotaSkips = (facts) =>
    relay
      .plan(fixture("threatconnect_v3.json"), { now, ...facts })
      .items.flatMap((i) => i.verdicts)
      .filter((v) => v.destination === "mde" && v.reason === "quota").length;
  const sent = relay.plan(fixture("threatconnect_v3.json"), { now }).items.flatMap((i) => i.verdicts)
    .filter((v) => v.destination === "mde" && v.verdict === "upsert").length;
  assert.ok(sent > 0);
  assert.equal(quotaSkips({}), 0);
  assert.equal(quotaSkips({ defenderActive: 15000 }), sent, "one number applies to every Defender destination");
  assert.equal(quotaSkips({ defenderActive: { mde: 15000 } }), sent);
  assert.equal(quotaSkips({ defenderActive: { other: 15000 } }), 0);
});

test("plan: payload text crosses into wasm intact (non-ASCII, astral, lone surrogates as U+FFFD)", () => {
  const relay = new pkg.Relay(config);
  const names = ["plain", "café ü", "日本語", "emoji 😀 end", "x".repeat(37) + "é", "lone \ud800 high", "lone \udc00 low"];
  for (const name of names) {
    const object = {
      type: "indicator", spec_version: "2.1", id: "indicator--8af3db94-fa68-4d29-8564-b5eda36de888", name,
      pattern: "[domain-name:value = 'a.example']", pattern_type: "stix", valid_from: now, created: now, modified: now,
    };
    // Raw text (the lone surrogate unescaped in the JS string), as a host hands over a body.
    const text = JSON.stringify(object).replace(/\\ud[89a-f][0-9a-f]{2}/g, (m) => String.fromCharCode(parseInt(m.slice(2), 16)));
    const want = name.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd");
    const [request] = relay.plan(text, { now }).requests;
    assert.equal(Object.values(JSON.parse(request.body)).find(Array.isArray)[0].name, want, JSON.stringify(name));
  }
});

test("plan: a body's raw bytes (Uint8Array) plan exactly as its text; bytes that are not UTF-8 throw code json", () => {
  const relay = new pkg.Relay(config);
  for (const name of ["threatconnect_v3.json", "stix_bundle.json", "opencti_create.json"]) {
    const text = fixture(name);
    assert.deepEqual(relay.plan(new TextEncoder().encode(text), { now }), relay.plan(text, { now }), name);
  }
  let err;
  try {
    relay.plan(new Uint8Array([0x5b, 0x22, 0x61, 0xff, 0x22, 0x5d]), { now });
  } catch (e) {
    err = e;
  }
  assert.equal(err.code, "json");
  assert.equal(err.message, "the payload is not valid UTF-8 (at byte 3): expected JSON text in UTF-8");
});

test("plan: the result is exactly what JSON.parse of the plan's JSON text gives, for every fixture and for text JSON escapes", () => {
  // relay.plan builds its objects from one string and numbers (src/boundary/plan.js), not with
  // JSON.parse; items_json is the items' JSON text written by the core. Same text, key for key.
  const relay = new pkg.Relay(config);
  const names = readdirSync(new URL("tests/fixtures/decode/", repoRoot)).filter((n) => /\.(json|sse)$/.test(n) && !n.endsWith(".decoded.json"));
  assert.ok(names.length >= 8, names.join(" "));
  const stix = (objects) => JSON.stringify({ type: "bundle", id: "bundle--1", objects });
  const indicator = (id, pattern, extra = {}) => ({
    type: "indicator", spec_version: "2.1", id: `indicator--${id}`, created: "2024-01-01T00:00:00Z",
    modified: "2024-01-01T00:00:00Z", pattern, pattern_type: "stix", valid_from: "2024-01-01T00:00:00Z", ...extra,
  });
  const payloads = names.map((n) => [n, fixture(n)]);
  payloads.push([
    "non-ASCII, escapes, not atomic, skipped, invalid",
    stix([
      indicator("11111111-1111-4111-8111-111111111111", "[domain-name:value = 'caf\u00e9.example']", { name: "café 🦀 \"q\" \u2028" }),
      indicator("22222222-2222-4222-8222-222222222222", "[ipv4-addr:value = '10.0.0.1'] FOLLOWEDBY [file:name = 'é🦀.exe']"),
      indicator("33333333-3333-4333-8333-333333333333", "[url:value = 'http://ex.example/ü\u0000']", { valid_until: "2024-02-01T00:00:00Z" }),
      indicator("44444444-4444-4444-8444-444444444444", 7),
    ]),
  ]);
  let planned = 0;
  for (const [name, payload] of payloads) {
    let whole;
    try {
      whole = relay.plan(payload, { now });
    } catch {
      continue; // a fixture for another test (e.g. not a plan input)
    }
    planned++;
    const split = relay.plan(payload, { now }, { itemsJson: true });
    assert.equal(JSON.stringify(whole.items), split.items_json, name);
    assert.deepEqual(whole, { items: JSON.parse(split.items_json), requests: split.requests, errors: split.errors }, name);
    assert.deepEqual(Object.keys(whole), ["items", "requests", "errors"], name);
  }
  assert.ok(planned >= 8, `${planned} planned`);
});

test("plan: options.itemsJson hands the items over as the JSON text of their array; unknown options throw", () => {
  const relay = new pkg.Relay(config);
  for (const name of ["threatconnect_v3.json", "stix_bundle.json", "opencti_create.json"]) {
    const whole = relay.plan(fixture(name), { now });
    const split = relay.plan(fixture(name), { now }, { itemsJson: true });
    assert.equal(typeof split.items_json, "string");
    assert.equal(split.items, undefined);
    assert.equal(split.items_json, JSON.stringify(whole.items), name);
    const { items, ...rest } = whole;
    assert.deepEqual({ ...split, items_json: undefined }, { ...rest, items_json: undefined }, name);
  }
  assert.deepEqual(relay.plan("[]", { now }, { itemsJson: false }), relay.plan("[]", { now }));
  let err;
  try {
    relay.plan("[]", { now }, { itemsJSON: true });
  } catch (e) {
    err = e;
  }
  assert.equal(err.code, "options");
  assert.match(err.message, /unknown option `itemsJSON`: expected one of `itemsJson`/);
});

test("interpret: outcomes keep the JSON shape (key, outcome, after_ms, message, in that order); keys are the request's", () => {
  const relay = new pkg.Relay(config);
  const plan = relay.plan(fixture("threatconnect_v3.json"), { now });
  const upload = plan.requests.find((r) => r.op === "sentinel-upload");
  const throttled = relay.interpret(upload, {
    status: 429,
    headers: { "retry-after": "17" },
    body: '{"error":{"code":"TooManyRequests","message":"Rate limit is exceeded. Try again in 17 seconds."}}',
  }, { now });
  assert.ok(throttled.items.length > 0);
  for (const [i, item] of throttled.items.entries()) {
    assert.equal(item.key, upload.items[i]);
    assert.deepEqual(Object.keys(item), ["key", "outcome", "after_ms", "message"]);
    assert.equal(item.outcome, "retry");
    assert.equal(item.after_ms, 17000);
  }
  assert.deepEqual(Object.keys(throttled), ["items", "retry_after_ms", "resend", "follow_up"]);
  const refused = relay.interpret(upload, { status: 400, headers: {}, body: '{"error":{"code":"BadRequest","message":"Invalid STIX: ü 🦀"}}' });
  for (const item of refused.items) {
    assert.deepEqual(Object.keys(item), ["key", "outcome", "message"]);
    assert.equal(item.outcome, "rejected");
    assert.match(item.message, /ü 🦀/);
  }
  const fine = relay.interpret(upload, { status: 200, headers: {}, body: "" });
  assert.equal(JSON.stringify(fine), JSON.stringify({ items: upload.items.map((key) => ({ key, outcome: "accepted" })), follow_up: [] }));
});

test("interpret and retain: a request that is not plan's says which field and what was expected", () => {
  const relay = new pkg.Relay(config);
  const plan = relay.plan(fixture("threatconnect_v3.json"), { now });
  const upload = plan.requests.find((r) => r.op === "sentinel-upload");
  const cases = [
    [null, "request", /expected `request` as an object, as `plan` gives it; found null/],
    [[upload], "request", /found an array/],
    [{ ...upload, url: undefined }, "request.url", /expected `request.url` as a string, as `plan` gives it; found nothing \(the key is missing\)/],
    [{ ...upload, items: "k" }, "request.items", /expected `request.items` as an array of item keys \(strings\), as `plan` gives it; found a string/],
    [{ ...upload, items: [1, 2] }, "request.items", /found an array holding something else/],
    [{ ...upload, headers: { a: 1 } }, "request.headers", /an object of strings/],
    [{ ...upload, dry_run: "no" }, "request.dry_run", /a boolean, as `plan` gives it; found a string/],
    [{ ...upload, rate: [{ requests: "x" }] }, "request.rate", /`\{requests, per_ms\}` windows/],
  ];
  for (const [request, path, message] of cases) {
    for (const call of [() => relay.interpret(request, { status: 200, headers: {}, body: "" }), () => relay.retain(request, [])]) {
      let err;
      try {
        call();
      } catch (e) {
        err = e;
      }
      assert.ok(err, `${path}: no error`);
      assert.equal(err.code, "options", path);
      assert.equal(err.path, path);
      assert.match(err.message, message, path);
    }
  }
  // What plan gave still works, and fields plan leaves out may be absent.
  const { rate, ...withoutRate } = upload;
  assert.equal(relay.interpret(withoutRate, { status: 200, headers: {}, body: "" }).items.length, upload.items.length);
});

test("interpret: the response is read field by field with the same rules (numbers as text, header pairs, null as absent)", () => {
  const relay = new pkg.Relay(config);
  const plan = relay.plan(fixture("threatconnect_v3.json"), { now });
  const upload = plan.requests.find((r) => r.op === "sentinel-upload");
  const body = '{"error":{"code":"TooManyRequests","message":"Rate limit is exceeded."}}';
  const asObject = relay.interpret(upload, { status: 429, headers: { "Retry-After": "9" }, body });
  assert.equal(asObject.retry_after_ms, 9000);
  assert.deepEqual(relay.interpret(upload, { status: "429", headers: [["retry-after", "9"], ["x", 1]], body }), asObject);
  assert.deepEqual(relay.interpret(upload, { status: 200, headers: null, body: null }), relay.interpret(upload, { status: 200 }));
  const cases = [
    [null, undefined, /missing response: expected `\{status, headers, body\}`/],
    ["200", "response", /expected an object, found the string `200`/],
    [{ status: 200, extra: 1 }, "options.extra", /unknown option `extra`: expected one of `status`, `headers`, `body`/],
    [{ status: "abc" }, "response.status", /expected a number, found the string `abc`/],
    [{ status: 1000 }, "response.status", /expected `status` as an HTTP status code/],
    [{ status: true }, "response.status", /expected a number, found `true`/],
    [{ status: 200, headers: "x" }, "response.headers", /expected `headers` as an object or `\[name, value\]` pairs/],
    [{ status: 200, body: 7 }, "response.body", /expected a string, found the number `7`/],
  ];
  for (const [response, path, message] of cases) {
    let err;
    try {
      relay.interpret(upload, response);
    } catch (e) {
      err = e;
    }
    assert.ok(err, JSON.stringify(response));
    assert.equal(err.code, "options");
    assert.equal(err.path, path, JSON.stringify(response));
    assert.match(err.message, message);
  }
});
