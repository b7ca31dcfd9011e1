// Webhook authentication (worker/http/auth.mjs): HMAC over `<timestamp>.<raw body>` within a
// 5-minute window, or a bearer token; every refusal says why, none leaks a credential.
import { test } from "node:test";
import assert from "node:assert/strict";

import { authenticate, constantTimeEqual, sign, SIGNATURE_HEADER, TIMESTAMP_HEADER } from "../../worker/http/auth.mjs";

const secret = "s3cret-hmac-key";
const token = "bearer-token-value";
const body = new TextEncoder().encode('{"type":"create","data":{}}');
const nowMs = Date.UTC(2026, 10, 22, 12, 0, 0);
const nowS = nowMs / 1000;

const headersOf = (record) => new Headers(record);

test("a valid HMAC signature passes and yields the replay key", async () => {
  const signed = await sign(secret, body, nowS);
  const result = await authenticate(headersOf(signed), body, { hmacSecret: secret, nowMs });
  assert.equal(result.ok, true);
  assert.equal(result.scheme, "hmac");
  assert.match(result.replayKey, /^[0-9a-f]{64}$/);
});

test("refusals, each with its reason and without the credentials", async () => {
  const signed = await sign(secret, body, nowS);
  const cases = [
    { name: "nothing", headers: {}, reason: /missing `x-ti-relay-signature`/ },
    { name: "bad signature", headers: { ...signed, [SIGNATURE_HEADER]: `sha256=${"0".repeat(64)}` }, reason: /does not match/ },
    { name: "malformed signature", headers: { ...signed, [SIGNATURE_HEADER]: "md5=abc" }, reason: /expected `sha256=<64 hex digits>`/ },
    { name: "no timestamp", headers: { [SIGNATURE_HEADER]: signed[SIGNATURE_HEADER] }, reason: /missing or invalid `x-ti-relay-timestamp`/ },
    { name: "stale timestamp", headers: await sign(secret, body, nowS - 301), reason: /stale .* 301 s/ },
    { name: "future timestamp", headers: await sign(secret, body, nowS + 400), reason: /stale/ },
    { name: "other body", headers: await sign(secret, "{}", nowS), reason: /does not match/ },
    { name: "wrong secret", headers: await sign("other", body, nowS), reason: /does not match/ },
    { name: "wrong bearer", headers: { authorization: "Bearer nope" }, reason: /invalid bearer token/ },
  ];
  for (const c of cases) {
    const result = await authenticate(headersOf(c.headers), body, { hmacSecret: secret, bearerToken: token, nowMs });
    assert.equal(result.ok, false, c.name);
    assert.equal(result.code, "unauthorized", c.name);
    assert.match(result.message, c.reason, c.name);
    assert.ok(!result.message.includes(secret) && !result.message.includes(token), `${c.name} leaks a credential`);
  }
});

test("a timestamp just inside the window passes", async () => {
  const result = await authenticate(headersOf(await sign(secret, body, nowS - 299)), body, { hmacSecret: secret, nowMs });
  assert.equal(result.ok, true);
});

test("bearer token, and a relay with no credential configured", async () => {
  const ok = await authenticate(headersOf({ authorization: `Bearer ${token}` }), body, { bearerToken: token, nowMs });
  assert.deepEqual(ok, { ok: true, scheme: "bearer" });
  const none = await authenticate(headersOf({ authorization: `Bearer ${token}` }), body, { nowMs });
  assert.equal(none.ok, false);
  assert.match(none.message, /no webhook credential configured/);
});

test("a bearer header does not stop a valid signature", async () => {
  const signed = await sign(secret, body, nowS);
  const result = await authenticate(headersOf({ ...signed, authorization: "Bearer wrong" }), body, {
    hmacSecret: secret,
    bearerToken: token,
    nowMs,
  });
  assert.equal(result.ok, true);
  assert.equal(result.scheme, "hmac");
});

test("constantTimeEqual", () => {
  for (const [given, secret, equal] of [
    ["abc", "abc", true],
    ["abc", "abd", false],
    ["abc", "abcd", false],
    ["abcd", "abc", false],
    ["abcabc", "abc", false], // the secret is cycled over the given text: lengths still differ
    ["", "", true],
    ["", "abc", false],
    ["abc", "", false],
    ["töken 🦀", "töken 🦀", true],
    ["töken 🦀", "töken 🦁", false],
  ]) {
    assert.equal(constantTimeEqual(given, secret), equal, `${given} vs ${secret}`);
  }
});
