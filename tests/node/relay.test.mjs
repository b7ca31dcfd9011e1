// Relay.plan / relay.interpret through the wasm package, as hosts call them (SPEC §7).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

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
