// The delivery queue's message format (worker/cloudflare/messages.mjs): what one invocation writes,
// another (maybe a newer version of the Worker) reads.
import { test } from "node:test";
import assert from "node:assert/strict";

import { messageBody, messageText } from "../../worker/cloudflare/messages.mjs";

const request = {
  id: "sentinel:sentinel-upload:0",
  destination: "sentinel",
  op: "sentinel-upload",
  method: "POST",
  url: "https://api.ti.sentinel.azure.com/workspaces/w/threat-intelligence-stix-objects:upload?api-version=2024-02-01-preview",
  audience: "https://management.azure.com/.default",
  headers: { "content-type": "application/json" },
  body: '{"sourcesystem":"ti-relay","stixobjects":[{"name":"line\\nbreak \\"quoted\\" é 😀"}]}',
  items: ["a", "b"],
  limit: "sentinel-upload:t:c",
  rate: [{ requests: 100, per_ms: 60000 }],
};

test("messages: a request and its replay count round-trip; the body travels after the head, unescaped", () => {
  const text = messageText(request, 2);
  assert.ok(text.endsWith(`\n${request.body}`), "the body follows the first newline as it is");
  assert.equal(text.indexOf("\n"), text.length - request.body.length - 1, "the head holds no newline");
  assert.deepEqual(messageBody({ body: text }), { v: 2, request, replays: 2 });
  // A body with raw newlines of its own still splits at the first one (the head's end).
  const multiline = { ...request, body: '{\n  "value": []\n}' };
  assert.deepEqual(messageBody({ body: messageText(multiline, 0) }).request, multiline);
});

test("messages: a request without a body is the head alone; version-1 texts and objects are still read", () => {
  const lookup = { ...request, op: "defender-lookup", method: "GET", body: null };
  const text = messageText(lookup, 0);
  assert.ok(!text.includes("\n"));
  assert.deepEqual(messageBody({ body: text }), { v: 2, request: lookup, replays: 0 });
  const v1 = JSON.stringify({ v: 1, request, replays: 1 });
  assert.deepEqual(messageBody({ body: v1 }), { v: 1, request, replays: 1 });
  const object = { v: 1, request, replays: 0 };
  assert.equal(messageBody({ body: object }), object);
});
