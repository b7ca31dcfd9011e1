// The Microsoft emulator (emulator/): tokens, managed identity, each API's validation, stores and
// answer shapes, rate limits with time scale, fault injection, the control API and the CLI, and —
// when pkg/ is built — that the core's own plans are accepted and its interpreters read the answers.
//
//   scripts/node.sh --test --test-timeout=60000 --test-force-exit tests/node/emulator.test.mjs

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { startEmulator } from "../../emulator/server.mjs";
import { makeCertificate, signAssertion } from "../../emulator/testing/cert.mjs";
import { RateLimiter, createClock } from "../../emulator/lib/limits.mjs";
import { parseFilter, matches } from "../../emulator/lib/odata.mjs";
import { isIpv6, parseTimestamp } from "../../emulator/lib/checks.mjs";

const repoRoot = new URL("../../", import.meta.url);

const DEV = { client_id: "00000000-0000-4000-8000-00000000c0de", secret: "emulator-dev-secret" };
const OTHER = { client_id: "22222222-0000-4000-8000-000000000002", secret: "other-secret", name: "other app" };
const TENANT = "contoso.onmicrosoft.com";
const WS = "66666666-7777-8888-9999-000000000000";
const SENTINEL = "https://management.azure.com";
const DEFENDER = "https://api.securitycenter.microsoft.com";
const GRAPH = "https://graph.microsoft.com";
const ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const FUTURE = "2099-01-01T00:00:00.000Z";

/** @type {import("../../emulator/server.mjs").Emulator[]} */
const started = [];
/** Starts an emulator that `after` closes. */
async function start(options = {}) {
  const emu = await startEmulator(options);
  started.push(emu);
  return emu;
}

let emu; // the shared emulator (time scale 1), reset by the tests that need a clean slate
before(async () => {
  emu = await start({ apps: [OTHER] });
});
after(async () => {
  await Promise.all(started.map((e) => e.close()));
});

// ---- helpers ------------------------------------------------------------------------------------

/**
 * One HTTP call; the body is JSON unless a string is given.
 * @returns {Promise<{status: number, headers: Headers, text: string, json: any}>}
 */
async function call(target, method, path, { token, body, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  let payload;
  if (body !== undefined) {
    payload = typeof body === "string" ? body : JSON.stringify(body);
    h["content-type"] ??= "application/json";
  }
  const res = await fetch(target.url + path, { method, headers: h, body: payload, signal: AbortSignal.timeout(8000) });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: res.status, headers: res.headers, text, json };
}

const form = (fields) => new URLSearchParams(fields).toString();

/** POSTs a form to the token endpoint. */
function tokenRequest(target, fields, { tenant = TENANT, headers = {} } = {}) {
  return call(target, "POST", `/${tenant}/oauth2/v2.0/token`, {
    body: form(fields),
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
  });
}

/** A bearer token for `resource` from a secret app. */
async function tokenFor(target, resource, app = DEV, tenant = TENANT) {
  const r = await tokenRequest(target, { grant_type: "client_credentials", client_id: app.client_id, client_secret: app.secret, scope: `${resource}/.default` }, { tenant });
  assert.equal(r.status, 200, r.text);
  return r.json.access_token;
}

const claimsOf = (jwt) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString());
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const sentinelPath = (ws = WS) => `/workspaces/${ws}/threat-intelligence-stix-objects:upload?api-version=2024-02-01-preview`;

let uuidCounter = 0;
/** A valid STIX indicator (fresh id unless given). */
function stixIndicator(overrides = {}) {
  uuidCounter += 1;
  return {
    type: "indicator",
    spec_version: "2.1",
    id: `indicator--${String(uuidCounter).padStart(8, "0")}-71a2-445c-ab86-927291df48f8`,
    created: "2024-01-01T00:00:00.000Z",
    modified: "2024-01-01T00:00:00.000Z",
    pattern: "[ipv4-addr:value = '203.0.113.7']",
    pattern_type: "stix",
    valid_from: "2024-01-01T00:00:00.000Z",
    ...overrides,
  };
}

/** A valid Defender indicator. */
function mde(overrides = {}) {
  return {
    indicatorValue: "203.0.113.7",
    indicatorType: "IpAddress",
    action: "Audit",
    generateAlert: true,
    title: "relay",
    description: "relay",
    application: "ti-relay",
    expirationTime: FUTURE,
    ...overrides,
  };
}

/** A valid Graph tiIndicator. */
function ti(overrides = {}) {
  return {
    action: "alert",
    description: "relay",
    expirationDateTime: FUTURE,
    targetProduct: "Azure Sentinel",
    threatType: "WatchList",
    tlpLevel: "green",
    networkIPv4: "203.0.113.7",
    ...overrides,
  };
}

// ---- Entra token endpoint -----------------------------------------------------------------------

test("token: client secret (body and HTTP Basic), claims, and the AADSTS errors", async () => {
  emu.reset();
  const ok = await tokenRequest(emu, { grant_type: "client_credentials", client_id: DEV.client_id, client_secret: DEV.secret, scope: `${SENTINEL}/.default` });
  assert.equal(ok.status, 200);
  assert.equal(ok.json.token_type, "Bearer");
  assert.equal(ok.json.expires_in, 3599);
  assert.equal(ok.json.ext_expires_in, 3599);
  const claims = claimsOf(ok.json.access_token);
  assert.equal(claims.aud, SENTINEL);
  assert.equal(claims.tid, TENANT);
  assert.equal(claims.appid, DEV.client_id);
  assert.ok(Math.abs(claims.exp - (Date.now() / 1000 + 3599)) < 5);

  const basic = Buffer.from(`${encodeURIComponent(OTHER.client_id)}:${encodeURIComponent(OTHER.secret)}`).toString("base64");
  const viaBasic = await tokenRequest(emu, { grant_type: "client_credentials", scope: `${DEFENDER}/.default` }, { headers: { authorization: `Basic ${basic}` } });
  assert.equal(viaBasic.status, 200, viaBasic.text);
  assert.deepEqual(claimsOf(viaBasic.json.access_token).roles, ["Ti.ReadWrite.All"]);

  const cases = [
    [{ client_secret: "wrong" }, 401, "invalid_client", 7000215],
    [{ client_id: "99999999-0000-4000-8000-000000000009" }, 400, "unauthorized_client", 700016],
    [{ scope: `${SENTINEL}/.default ${GRAPH}/.default` }, 400, "invalid_scope", 70011],
    [{ scope: `${SENTINEL}/user_impersonation` }, 400, "invalid_scope", 70011],
    [{ scope: "" }, 400, "invalid_scope", 70011],
    [{ scope: "https://example.com/.default" }, 400, "invalid_resource", 500011],
    [{ grant_type: "password" }, 400, "unsupported_grant_type", 70003],
    [{ grant_type: "" }, 400, "invalid_request", 900144],
    [{ client_secret: undefined }, 401, "invalid_client", 7000218],
  ];
  for (const [change, status, error, code] of cases) {
    const fields = { grant_type: "client_credentials", client_id: DEV.client_id, client_secret: DEV.secret, scope: `${SENTINEL}/.default`, ...change };
    for (const [k, v] of Object.entries(fields)) if (v === undefined) delete fields[k];
    const r = await tokenRequest(emu, fields);
    assert.equal(r.status, status, JSON.stringify(change));
    assert.equal(r.json.error, error, JSON.stringify(change));
    assert.deepEqual(r.json.error_codes, [code]);
    assert.match(r.json.error_description, new RegExp(`^AADSTS${code}: `));
    for (const key of ["timestamp", "trace_id", "correlation_id"]) assert.equal(typeof r.json[key], "string");
  }
  // Sovereign audiences are known resources too.
  for (const resource of ["https://management.usgovcloudapi.net", "https://api-gov.securitycenter.microsoft.us", "https://securitycenter.onmicrosoft.com/windowsatpservice"]) {
    assert.equal((await tokenRequest(emu, { grant_type: "client_credentials", client_id: DEV.client_id, client_secret: DEV.secret, scope: `${resource}/.default` })).status, 200, resource);
  }
  const state = emu.state();
  assert.equal(state.counters.tokens_issued[DEV.client_id], 4);
  assert.ok(!JSON.stringify(state).includes(DEV.secret), "the state never shows a secret");
});

test("token: a tenant list rejects unknown tenants with AADSTS90002", async () => {
  const strict = await start({ tenants: [TENANT] });
  const fields = { grant_type: "client_credentials", client_id: DEV.client_id, client_secret: DEV.secret, scope: `${GRAPH}/.default` };
  assert.equal((await tokenRequest(strict, fields)).status, 200);
  const r = await tokenRequest(strict, fields, { tenant: "fabrikam.onmicrosoft.com" });
  assert.equal(r.status, 400);
  assert.deepEqual(r.json.error_codes, [90002]);
});

test("token: certificate assertions (PS256 + x5t#S256, RS256 + x5t) and what is refused", async () => {
  const cert = makeCertificate();
  const otherKey = makeCertificate();
  const app = "33333333-0000-4000-8000-000000000003";
  emu.registerApp({ client_id: app, certificate: cert.certificatePem, name: "cert app" });
  const audience = `${emu.url}/${TENANT}/oauth2/v2.0/token`;
  const send = (assertion, extra = {}) =>
    tokenRequest(emu, { grant_type: "client_credentials", client_id: app, client_assertion_type: ASSERTION_TYPE, client_assertion: assertion, scope: `${GRAPH}/.default`, ...extra });

  for (const alg of ["PS256", "RS256"]) {
    const r = await send(signAssertion({ cert, clientId: app, audience, alg }));
    assert.equal(r.status, 200, `${alg}: ${r.text}`);
    assert.equal(claimsOf(r.json.access_token).appid, app);
  }
  const now = Math.floor(Date.now() / 1000);
  const refused = [
    ["PS256 with only x5t", signAssertion({ cert, clientId: app, audience, header: { "x5t#S256": undefined, x5t: cert.sha1Thumbprint } }), 700027],
    ["RS256 with x5t#S256", signAssertion({ cert, clientId: app, audience, alg: "RS256", header: { x5t: undefined, "x5t#S256": cert.sha256Thumbprint } }), 700027],
    ["another key, same thumbprint", signAssertion({ cert: { ...otherKey, sha256Thumbprint: cert.sha256Thumbprint }, clientId: app, audience }), 700027],
    ["unknown certificate", signAssertion({ cert: otherKey, clientId: app, audience }), 700027],
    ["wrong audience", signAssertion({ cert, clientId: app, audience: `https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/token` }), 50013],
    ["iss is not the client", signAssertion({ cert, clientId: app, audience, claims: { iss: "someone" } }), 700021],
    ["expired", signAssertion({ cert, clientId: app, audience, claims: { exp: now - 60 } }), 700024],
    ["nbf in the future", signAssertion({ cert, clientId: app, audience, claims: { nbf: now + 600 } }), 700024],
    ["no jti", signAssertion({ cert, clientId: app, audience, claims: { jti: undefined } }), 50013],
  ];
  for (const [name, assertion, code] of refused) {
    const r = await send(assertion);
    assert.equal(r.status, 401, name);
    assert.equal(r.json.error, "invalid_client", name);
    assert.deepEqual(r.json.error_codes, [code], `${name}: ${r.json.error_description}`);
  }
  // nbf within the 5-minute skew is fine; a jti is good once.
  const once = signAssertion({ cert, clientId: app, audience, claims: { nbf: now + 120, jti: "fixed-jti" } });
  assert.equal((await send(once)).status, 200);
  const replay = await send(once);
  assert.equal(replay.status, 401);
  assert.match(replay.json.error_description, /already been used/);
  assert.equal((await send("not-a-jwt")).json.error_codes[0], 50027);
  assert.equal((await send(signAssertion({ cert, clientId: app, audience }), { client_assertion_type: "urn:other" })).status, 400);
  // A certificate app has no secret.
  const bySecret = await tokenRequest(emu, { grant_type: "client_credentials", client_id: app, client_secret: "x", scope: `${GRAPH}/.default` });
  assert.deepEqual(bySecret.json.error_codes, [7000215]);
  assert.throws(() => emu.registerApp({ client_id: "x", certificate: "not a pem" }), TypeError);
  assert.throws(() => emu.registerApp({ client_id: "x" }), TypeError);
});

test("managed identity: X-IDENTITY-HEADER, resource, client_id; the token works on the API", async () => {
  const mi = await start({ identityHeader: "s3cret" });
  const get = (query, headers = { "x-identity-header": "s3cret" }) => call(mi, "GET", `/msi/token?${new URLSearchParams(query)}`, { headers });
  const ok = await get({ resource: DEFENDER, "api-version": "2019-08-01" });
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual(Object.keys(ok.json).sort(), ["access_token", "client_id", "expires_on", "not_before", "resource", "token_type"]);
  assert.equal(ok.json.token_type, "Bearer");
  assert.equal(ok.json.resource, DEFENDER);
  assert.equal(ok.json.client_id, "00000000-0000-4000-8000-0000000000a1");
  assert.equal(typeof ok.json.expires_on, "string");
  assert.ok(Math.abs(Number(ok.json.expires_on) - (Date.now() / 1000 + 3599)) < 5);
  const created = await call(mi, "POST", "/api/indicators", { token: ok.json.access_token, body: mde() });
  assert.equal(created.status, 200, created.text);
  assert.equal(created.json.createdBy, "00000000-0000-4000-8000-0000000000a1");

  const user = await get({ resource: `${SENTINEL}/`, "api-version": "2019-08-01", client_id: "44444444-0000-4000-8000-000000000004" });
  assert.equal(user.status, 200);
  assert.equal(claimsOf(user.json.access_token).appid, "44444444-0000-4000-8000-000000000004");

  assert.equal((await get({ resource: DEFENDER, "api-version": "2019-08-01" }, {})).status, 401);
  assert.equal((await get({ resource: DEFENDER, "api-version": "2019-08-01" }, { "x-identity-header": "wrong" })).json.statusCode, 401);
  assert.equal((await get({ resource: DEFENDER, "api-version": "2017-09-01" })).status, 400);
  assert.equal((await get({ resource: `${DEFENDER}/.default`, "api-version": "2019-08-01" })).status, 400);
  assert.equal((await get({ "api-version": "2019-08-01" })).status, 400);
  assert.equal((await get({ resource: DEFENDER, "api-version": "2019-08-01", client_id: "a", object_id: "b" })).status, 400);
});

// ---- bearer tokens on the APIs --------------------------------------------------------------------

test("API auth: missing, foreign-audience and expired tokens get each API's 401", async () => {
  emu.reset();
  const graphToken = await tokenFor(emu, GRAPH);
  const s = await call(emu, "POST", sentinelPath(), { body: { sourcesystem: "x", stixobjects: [stixIndicator()] } });
  assert.equal(s.status, 401);
  assert.deepEqual(s.json, { statusCode: 401, message: "Unauthorized. Access token is missing or invalid." });
  assert.equal((await call(emu, "POST", sentinelPath(), { token: graphToken, body: {} })).status, 401);
  const d = await call(emu, "GET", "/api/indicators", { token: graphToken });
  assert.equal(d.status, 401);
  assert.equal(d.json.error.code, "Unauthorized");
  assert.equal(typeof d.json.error.target, "string");
  const g = await call(emu, "GET", "/beta/security/tiIndicators", { token: "abc.def.ghi" });
  assert.equal(g.status, 401);
  assert.equal(g.json.error.code, "InvalidAuthenticationToken");
  assert.ok(g.json.error.innerError["request-id"]);
  const tampered = graphToken.slice(0, -3) + (graphToken.endsWith("AAA") ? "BBB" : "AAA");
  assert.equal((await call(emu, "GET", "/beta/security/tiIndicators", { token: tampered })).status, 401);
  // With time scale 3600 a 3599 s token really lasts about a second.
  const fast = await start({ timeScale: 3600 });
  const token = await tokenFor(fast, GRAPH);
  assert.equal((await call(fast, "GET", "/beta/security/tiIndicators", { token })).status, 200);
  await sleep(1100);
  const expired = await call(fast, "GET", "/beta/security/tiIndicators", { token });
  assert.equal(expired.status, 401);
  assert.match(expired.json.error.message, /expired/);
});

// ---- Sentinel -------------------------------------------------------------------------------------

test("sentinel: valid objects → 200 empty; invalid ones → recordIndex errors; versions kept", async () => {
  emu.reset();
  const token = await tokenFor(emu, SENTINEL);
  const a = stixIndicator();
  const ok = await call(emu, "POST", sentinelPath(), { token, body: { sourcesystem: "ti-relay", stixobjects: [a, stixIndicator({ type: "attack-pattern", id: "attack-pattern--10000003-71a2-445c-ab86-927291df48f8", name: "T1566", pattern: undefined })] } });
  assert.equal(ok.status, 200);
  assert.equal(ok.text, "");

  const invalid = [
    [{ id: undefined }, "Error for Property=id: Required property is missing. Actual value: NULL."],
    [{ id: "indicator--nope" }, "Property=id"],
    [{ id: "malware--10000003-71a2-445c-ab86-927291df48f8" }, "Property=id"],
    [{ created: "2024-01-01T00:00:00+02:00" }, "Property=created"],
    [{ modified: "2023-01-01T00:00:00Z" }, "Property=modified"],
    [{ valid_until: "2023-12-31T00:00:00Z" }, "Property=valid_until"],
    [{ confidence: 101 }, "Property=confidence"],
    [{ pattern_type: "STIX" }, "Property=pattern_type"],
    [{ pattern: "[ipv4-addr:value = '1.2.3.4'" }, "Property=pattern"],
    [{ pattern: undefined }, "Property=pattern"],
    [{ valid_from: "yesterday" }, "Property=valid_from"],
    [{ labels: [] }, "Property=labels"],
    [{ revoked: "true" }, "Property=revoked"],
    [{ type: "malware" }, "Property=type"],
    [{ object_marking_refs: ["tlp:green"] }, "Property=object_marking_refs[0]"],
    [{ kill_chain_phases: [{ kill_chain_name: "x" }] }, "Property=kill_chain_phases[0].phase_name"],
  ];
  const objects = [stixIndicator(), ...invalid.map(([change]) => stixIndicator(change)), stixIndicator()];
  const mixed = await call(emu, "POST", sentinelPath(), { token, body: { sourcesystem: "ti-relay", stixobjects: objects } });
  assert.equal(mixed.status, 200);
  assert.deepEqual(mixed.json.errors.map((e) => e.recordIndex), invalid.map((_, i) => i + 1));
  invalid.forEach(([, expected], i) => {
    assert.ok(mixed.json.errors[i].errorMessages.some((m) => m.includes(expected)), `${expected}: ${mixed.json.errors[i].errorMessages}`);
  });
  // All invalid: nothing published → 400 with the same errors list.
  const none = await call(emu, "POST", sentinelPath(), { token, body: { sourcesystem: "ti-relay", stixobjects: [{ type: "indicator" }] } });
  assert.equal(none.status, 400);
  assert.equal(none.json.errors[0].recordIndex, 0);

  // A new version: kept, newest latest; an older `modified` is counted as stale; revoked sticks.
  const newer = { ...a, modified: "2024-02-01T00:00:00.000Z", name: "v2" };
  assert.equal((await call(emu, "POST", sentinelPath(), { token, body: { sourcesystem: "ti-relay", stixobjects: [newer] } })).status, 200);
  assert.equal(emu.state().counters.stale_modified, 0);
  assert.equal((await call(emu, "POST", sentinelPath(), { token, body: { sourcesystem: "ti-relay", stixobjects: [newer] } })).status, 200);
  assert.equal(emu.state().counters.stale_modified, 1);
  const revoke = { ...a, modified: "2024-03-01T00:00:00.000Z", revoked: true };
  await call(emu, "POST", sentinelPath(), { token, body: { sourcesystem: "ti-relay", stixobjects: [revoke] } });
  await call(emu, "POST", sentinelPath(), { token, body: { sourcesystem: "ti-relay", stixobjects: [{ ...a, modified: "2024-04-01T00:00:00.000Z" }] } });
  const entry = emu.state().sentinel[WS][a.id];
  assert.equal(entry.versions.length, 5);
  assert.deepEqual(entry.versions.map((v) => v.revoked), [false, false, false, true, false]);
  assert.equal(entry.revoked, true);
  assert.equal(entry.versions[0].sourcesystem, "ti-relay");
  assert.equal(emu.state().counters.revoked_then_updated, 1);
  assert.equal(Object.keys(emu.state().sentinel[WS]).length, 2 + 2, "the two valid neighbours of the mixed batch were stored too");
});

test("sentinel: malformed requests are 400; unknown workspace 404; legacy endpoints", async () => {
  emu.reset();
  const token = await tokenFor(emu, SENTINEL);
  const bad = [
    ["{not json", 400],
    [{ stixobjects: [stixIndicator()] }, 400],
    [{ sourcesystem: "Microsoft Sentinel", stixobjects: [stixIndicator()] }, 400],
    [{ sourcesystem: "x", stixobjects: [] }, 400],
    [{ sourcesystem: "x", stixobjects: Array.from({ length: 101 }, () => stixIndicator()) }, 400],
    [{ sourcesystem: "x", stixobjects: {} }, 400],
    [{ SourceSystem: "x", stixobjects: [stixIndicator()] }, 400],
    [{ sourcesystem: "x", value: [stixIndicator()] }, 400],
    [[1, 2], 400],
  ];
  for (const [body, status] of bad) {
    const r = await call(emu, "POST", sentinelPath(), { token, body });
    assert.equal(r.status, status, JSON.stringify(body).slice(0, 80));
    assert.equal(r.json.statusCode, status);
    assert.equal(typeof r.json.message, "string");
  }
  assert.equal((await call(emu, "POST", `/workspaces/${WS}/threat-intelligence-stix-objects:upload?api-version=2022-07-01`, { token, body: { sourcesystem: "x", stixobjects: [stixIndicator()] } })).status, 400);
  assert.equal((await call(emu, "POST", sentinelPath("not-a-guid"), { token, body: { sourcesystem: "x", stixobjects: [stixIndicator()] } })).status, 404);
  const v1 = await call(emu, "POST", `/${WS}/threatintelligence:upload-indicators?api-version=2022-07-01`, { token, body: { sourcesystem: "x", value: [stixIndicator(), stixIndicator({ type: "identity", id: "identity--10000003-71a2-445c-ab86-927291df48f8", name: "me" })] } });
  assert.equal(v1.status, 200);
  assert.equal(v1.json.errors[0].recordIndex, 1, "the legacy API uploads indicators only");
  const v2 = await call(emu, "POST", `/workspaces/${WS}/threatintelligenceindicators:upload?api-version=2022-07-01`, { token, body: { sourcesystem: "x", indicators: [stixIndicator()] } });
  assert.equal(v2.status, 200);
  assert.equal((await call(emu, "POST", `/workspaces/${WS}/threatintelligenceindicators:upload?api-version=2022-07-01`, { token, body: { sourcesystem: "x", value: [stixIndicator()] } })).status, 400);
  const versions = Object.values(emu.state().sentinel[WS]).map((e) => e.versions[0].api).sort();
  assert.deepEqual(versions, ["v1", "v2"]);
});

// ---- Defender -------------------------------------------------------------------------------------

test("defender: submit creates the documented resource; a second POST updates; another app gets its own", async () => {
  emu.reset();
  const token = await tokenFor(emu, DEFENDER);
  const first = await call(emu, "POST", "/api/indicators", { token, body: mde({ externalId: "ext-1", rbacGroupNames: ["g1"] }) });
  assert.equal(first.status, 200, first.text);
  const r = first.json;
  assert.match(r.id, /^\d+$/);
  assert.equal(r.createdBy, DEV.client_id);
  assert.equal(r.createdBySource, "ti-relay emulator dev app");
  assert.equal(r.source, "ti-relay emulator dev app");
  assert.equal(r.sourceType, "AadApp");
  assert.equal(r.application, "ti-relay");
  assert.equal(r.externalId, "ext-1");
  assert.deepEqual(r.rbacGroupNames, ["g1"]);
  for (const key of ["creationTimeDateTimeUtc", "lastUpdateTime", "expirationTime", "severity", "title", "description", "generateAlert"]) assert.ok(key in r, key);
  // Same (type, value, creator): an update; `application` only applies on create.
  const second = await call(emu, "POST", "/api/indicators", { token, body: mde({ action: "Block", application: "renamed", title: "t2" }) });
  assert.equal(second.json.id, r.id);
  assert.equal(second.json.action, "Block");
  assert.equal(second.json.title, "t2");
  assert.equal(second.json.application, "ti-relay");
  // Another app posting the same value gets its own indicator.
  const other = await call(emu, "POST", "/api/indicators", { token: await tokenFor(emu, DEFENDER, OTHER), body: mde() });
  assert.notEqual(other.json.id, r.id);
  assert.equal(other.json.createdBy, OTHER.client_id);
  assert.equal(emu.state().defender.length, 2);
  // POST with an explicit id updates that indicator.
  const byId = await call(emu, "POST", "/api/indicators", { token, body: mde({ id: r.id, severity: "High" }) });
  assert.equal(byId.json.id, r.id);
  assert.equal(byId.json.severity, "High");
  assert.equal((await call(emu, "POST", "/api/indicators", { token, body: mde({ id: "999999" }) })).status, 404);
});

test("defender: validation (case-sensitive names, enums, per-type actions, values) → 400 with codes", async () => {
  emu.reset();
  const token = await tokenFor(emu, DEFENDER);
  const { indicatorValue, ...noValue } = mde();
  assert.ok(indicatorValue);
  const cases = [
    [{ ...noValue }, "MissingRequiredParameter"],
    [{ ...noValue, IndicatorValue: "203.0.113.7" }, "InvalidRequestBody"],
    [mde({ title: "" }), "InvalidRequestBody"],
    [mde({ indicatorType: "IPAddress" }), "InvalidRequestBody"],
    [mde({ action: "Alerted" }), "InvalidRequestBody"],
    [mde({ severity: "Critical" }), "InvalidRequestBody"],
    [mde({ generateAlert: "true" }), "InvalidRequestBody"],
    [mde({ generateAlert: false }), "InvalidInput"],
    [mde({ action: "BlockAndRemediate" }), "InvalidInput"],
    [mde({ indicatorType: "CertificateThumbprint", indicatorValue: "a".repeat(40), action: "Warn" }), "InvalidInput"],
    [mde({ indicatorValue: "2001:db8::1" }), "InvalidIpAddress"],
    [mde({ indicatorValue: "203.0.113.0/24" }), "InvalidIpAddress"],
    [mde({ indicatorValue: "203.0.113.07" }), "InvalidIpAddress"],
    [mde({ indicatorType: "FileSha256", indicatorValue: "abc" }), "InvalidHashValue"],
    [mde({ indicatorType: "FileMd5", indicatorValue: "g".repeat(32) }), "InvalidHashValue"],
    [mde({ indicatorType: "DomainName", indicatorValue: "https://evil.example" }), "InvalidDomainName"],
    [mde({ indicatorType: "DomainName", indicatorValue: "*.evil.example" }), "InvalidDomainName"],
    [mde({ indicatorType: "Url", indicatorValue: "http://evil.example/a b" }), "InvalidUrl"],
    [mde({ expirationTime: "2001-01-01T00:00:00Z" }), "InvalidInput"],
    [mde({ expirationTime: "2099-01-01 00:00:00" }), "InvalidInput"],
    ["[]", "InvalidRequestBody"],
    ["{", "InvalidRequestBody"],
  ];
  for (const [body, code] of cases) {
    const r = await call(emu, "POST", "/api/indicators", { token, body });
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.json.error.code, code, `${JSON.stringify(body)}: ${r.json.error.message}`);
    assert.equal(typeof r.json.error.target, "string");
  }
  const valid = [
    mde({ indicatorValue: "2001:db8:0:0:0:0:0:1" }),
    mde({ indicatorType: "FileSha256", indicatorValue: "A".repeat(64), action: "BlockAndRemediate" }),
    mde({ indicatorType: "CertificateThumbprint", indicatorValue: "b".repeat(40), action: "Allowed" }),
    mde({ indicatorType: "DomainName", indicatorValue: "evil.example", action: "Warn", educateUrl: "https://intranet.example/why" }),
    mde({ indicatorType: "Url", indicatorValue: "http://evil.example/a?b=c", action: "Block" }),
    mde({ action: "Alert", indicatorValue: "203.0.113.8" }),
    mde({ action: "AlertAndBlock", indicatorType: "FileSha1", indicatorValue: "c".repeat(40) }),
    mde({ indicatorValue: "203.0.113.9", expirationTime: undefined, rbacGroupNames: "a, b" }),
  ];
  for (const body of valid) {
    const r = await call(emu, "POST", "/api/indicators", { token, body });
    assert.equal(r.status, 200, `${JSON.stringify(body)}: ${r.text}`);
  }
  assert.equal(emu.state().counters.deprecated_action, 2);
});

test("defender: import answers one result per indicator, in order; body errors are 400", async () => {
  emu.reset();
  const token = await tokenFor(emu, DEFENDER);
  const items = [mde(), mde({ indicatorValue: "2001:db8::1" }), mde({ indicatorType: "DomainName", indicatorValue: "evil.example" }), { indicatorValue: "x" }];
  const r = await call(emu, "POST", "/api/indicators/import", { token, body: { Indicators: items } });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.value.map((v) => [v.indicator, v.isFailed]), [["203.0.113.7", false], ["2001:db8::1", true], ["evil.example", false], ["x", true]]);
  assert.match(r.json.value[0].id, /^\d+$/);
  assert.equal(r.json.value[0].failureReason, null);
  assert.match(r.json.value[1].failureReason, /InvalidIpAddress/);
  assert.equal(r.json.value[1].id, null);
  assert.equal(emu.state().defender.length, 2);
  const bad = [
    [{ indicators: [mde()] }, "InvalidRequestBody"],
    [{}, "MissingRequiredParameter"],
    [{ Indicators: [] }, "InvalidInput"],
    [{ Indicators: Array.from({ length: 501 }, () => mde()) }, "MaximumBatchSizeExceeded"],
    [{ Indicators: "x" }, "InvalidRequestBody"],
  ];
  for (const [body, code] of bad) {
    const res = await call(emu, "POST", "/api/indicators/import", { token, body });
    assert.equal(res.status, 400);
    assert.equal(res.json.error.code, code);
  }
  assert.match((await call(emu, "POST", "/api/indicators/import", { token, body: { Indicators: Array.from({ length: 501 }, () => mde()) } })).json.error.message, /Received: 501, allowed: 500/);
});

test("defender: list with OData $filter, $top, $skip; the relay's own query shapes", async () => {
  emu.reset();
  const token = await tokenFor(emu, DEFENDER);
  const url = "http://198.51.100.9/a.php?id=1&x=2";
  const items = [
    mde(),
    mde({ indicatorType: "Url", indicatorValue: url }),
    mde({ indicatorType: "Url", indicatorValue: "http://evil.example/o'brien", application: "other tool" }),
    mde({ indicatorValue: "203.0.113.10" }),
  ];
  await call(emu, "POST", "/api/indicators/import", { token, body: { Indicators: items } });
  emu.seedDefender(mde({ application: "ti-relay" }));
  const list = (query) => call(emu, "GET", `/api/indicators${query}`, { token });

  const byValue = await list("?$filter=indicatorValue+eq+'203.0.113.7'");
  assert.equal(byValue.status, 200);
  assert.match(byValue.json["@odata.context"], /\$metadata#Indicators$/);
  assert.equal(byValue.json.value.length, 2, "ours and the seeded foreign one");
  const encoded = await list(`?$filter=indicatorValue+eq+'${encodeURIComponent(url)}'`);
  assert.deepEqual(encoded.json.value.map((v) => v.indicatorValue), [url]);
  const quoted = await list("?$filter=indicatorValue+eq+'http%3A%2F%2Fevil.example%2Fo%27%27brien'");
  assert.deepEqual(quoted.json.value.map((v) => v.application), ["other tool"]);
  const both = await list(`?$filter=${encodeURIComponent("application eq 'ti-relay' and createdBy eq '" + DEV.client_id + "'")}`);
  assert.equal(both.json.value.length, 3);
  const page = await list("?$filter=application+eq+'ti-relay'&$top=2&$skip=1");
  assert.equal(page.json.value.length, 2);
  assert.equal(page.json["@odata.nextLink"], undefined);
  const all = await list("");
  assert.equal(all.json.value.length, 5);
  assert.deepEqual(all.json.value.map((v) => Number(v.id)), [...all.json.value.map((v) => Number(v.id))].sort((a, b) => a - b));
  assert.equal((await list("?$filter=generateAlert+eq+true")).json.value.length, 5);
  for (const query of ["?$filter=bogus+eq+'x'", "?$filter=indicatorValue+ne+'x'", "?$filter=indicatorValue+eq+'x", "?$top=10001", "?$top=-1", "?$orderby=id", "?$filter=indicatorValue+eq+'x'+or+title+eq+'y'"]) {
    const r = await list(query);
    assert.equal(r.status, 400, query);
    assert.equal(r.json.error.code, "ODataError");
  }
  assert.equal((await call(emu, "GET", `/api/indicators/${all.json.value[0].id}`, { token })).json.id, all.json.value[0].id);
});

test("defender: DELETE one and BatchDelete (all or nothing, 204/404/400)", async () => {
  emu.reset();
  const token = await tokenFor(emu, DEFENDER);
  const imported = await call(emu, "POST", "/api/indicators/import", {
    token,
    body: { Indicators: ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"].map((v) => mde({ indicatorValue: v })) },
  });
  const ids = imported.json.value.map((v) => v.id);
  assert.equal((await call(emu, "DELETE", `/api/indicators/${ids[0]}`, { token })).status, 204);
  const gone = await call(emu, "DELETE", `/api/indicators/${ids[0]}`, { token });
  assert.equal(gone.status, 404);
  assert.equal(gone.json.error.code, "NotFound");
  assert.equal((await call(emu, "DELETE", "/api/indicators/abc", { token })).status, 400);
  // One id missing: 404 and nothing deleted.
  const partial = await call(emu, "POST", "/api/indicators/BatchDelete", { token, body: { IndicatorIds: [ids[1], ids[0]] } });
  assert.equal(partial.status, 404);
  assert.equal(emu.state().defender.length, 3);
  assert.equal((await call(emu, "POST", "/api/indicators/BatchDelete", { token, body: { IndicatorIds: [ids[1], ids[2]] } })).status, 204);
  assert.deepEqual(emu.state().defender.map((i) => i.id), [ids[3]]);
  for (const body of [{ IndicatorIds: [] }, { IndicatorIds: Array.from({ length: 501 }, (_, i) => String(i)) }, { IndicatorIds: [Number(ids[3])] }, { indicatorIds: [ids[3]] }, {}]) {
    assert.equal((await call(emu, "POST", "/api/indicators/BatchDelete", { token, body })).status, 400, JSON.stringify(body).slice(0, 60));
  }
  assert.equal(emu.state().defender.length, 1);
});

test("defender: the active-indicator cap fails imports per item and single POSTs with 400", async () => {
  const capped = await start({ defenderCap: 3 });
  const token = await tokenFor(capped, DEFENDER);
  capped.seedDefender(mde({ indicatorValue: "198.51.100.1" }));
  const r = await call(capped, "POST", "/api/indicators/import", { token, body: { Indicators: ["203.0.113.1", "203.0.113.2", "203.0.113.3"].map((v) => mde({ indicatorValue: v })) } });
  assert.deepEqual(r.json.value.map((v) => v.isFailed), [false, false, true]);
  assert.match(r.json.value[2].failureReason, /limit/i);
  const single = await call(capped, "POST", "/api/indicators", { token, body: mde({ indicatorValue: "203.0.113.9" }) });
  assert.equal(single.status, 400);
  // An update of an existing active indicator does not need room.
  assert.equal((await call(capped, "POST", "/api/indicators", { token, body: mde({ indicatorValue: "203.0.113.1", title: "updated" }) })).status, 200);
  // Deleting frees room.
  await call(capped, "DELETE", `/api/indicators/${r.json.value[0].id}`, { token });
  assert.equal((await call(capped, "POST", "/api/indicators", { token, body: mde({ indicatorValue: "203.0.113.9" }) })).status, 200);
  // Seeding over the cap throws.
  assert.throws(() => capped.seedDefender(mde({ indicatorValue: "198.51.100.2", tenant: TENANT })), /limit/i);
});

test("defender: seeded foreign indicators (API and control route)", async () => {
  emu.reset();
  const seeded = emu.seedDefender(mde({ application: "ti-relay", indicatorValue: "192.0.2.1" }));
  assert.equal(seeded.createdBy, "00000000-0000-4000-8000-00000000f0e1");
  const viaHttp = await call(emu, "POST", "/_emulator/defender/indicators", { body: { ...mde({ indicatorValue: "192.0.2.2" }), createdBy: "55555555-0000-4000-8000-000000000005", createdBySource: "Another Tool", tenant: TENANT } });
  assert.equal(viaHttp.status, 201);
  assert.equal(viaHttp.json.createdBySource, "Another Tool");
  assert.equal((await call(emu, "POST", "/_emulator/defender/indicators", { body: { indicatorValue: "x" } })).status, 400);
  const token = await tokenFor(emu, DEFENDER);
  const visible = await call(emu, "GET", "/api/indicators", { token });
  assert.equal(visible.json.value.length, 2);
  const elsewhere = await call(emu, "GET", "/api/indicators", { token: await tokenFor(emu, DEFENDER, DEV, "fabrikam.onmicrosoft.com") });
  assert.deepEqual(elsewhere.json.value.map((v) => v.indicatorValue), ["192.0.2.1"], "a tenant-less seed is in every tenant");
});

// ---- Graph ----------------------------------------------------------------------------------------

test("graph: submitTiIndicators 200, 206 aligned with the request, and the validation rules", async () => {
  emu.reset();
  const token = await tokenFor(emu, GRAPH);
  const ok = await call(emu, "POST", "/beta/security/tiIndicators/submitTiIndicators", { token, body: { value: [ti({ externalId: "e1" }), ti({ externalId: "e2", networkIPv4: undefined, domainName: "evil.example" })] } });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.value.length, 2);
  assert.ok(ok.json.value.every((v) => typeof v.id === "string" && v.azureTenantId === TENANT && v.isActive === true));
  const invalid = [
    ti({ targetProduct: "Microsoft Sentinel" }),
    ti({ description: "x".repeat(101) }),
    ti({ confidence: 101 }),
    ti({ severity: 6 }),
    ti({ killChain: ["Recon"] }),
    ti({ fileHashValue: "a".repeat(64) }),
    ti({ fileHashValue: "abc", fileHashType: "sha256" }),
    ti({ tlpLevel: "red" }),
    ti({ networkIPv4: undefined }),
    ti({ passiveOnly: "false" }),
    ti({ action: "Block" }),
    ti({ threatType: "Evil" }),
    ti({ expirationDateTime: undefined }),
    ti({ NetworkIPv4: "1.2.3.4" }),
    ti({ targetProduct: "Microsoft Defender ATP", networkIPv4: "1.2.3.4" }),
    "not an object",
  ];
  const body = { value: [ti(), ...invalid, ti({ tlpLevel: "red", passiveOnly: true, description: "x".repeat(100) })] };
  const r = await call(emu, "POST", "/beta/security/tiIndicators/submitTiIndicators", { token, body });
  assert.equal(r.status, 206);
  assert.equal(r.json.value.length, body.value.length);
  assert.ok(r.json.value[0].id);
  assert.ok(r.json.value.at(-1).id);
  invalid.forEach((item, i) => {
    const element = r.json.value[i + 1];
    assert.equal(element.error?.status, 400, JSON.stringify(item));
    assert.equal(typeof element.error.message, "string");
  });
  for (const bad of ["{", { value: [] }, { value: Array.from({ length: 101 }, () => ti()) }, { Value: [ti()] }, { value: ti() }]) {
    const res = await call(emu, "POST", "/beta/security/tiIndicators/submitTiIndicators", { token, body: bad });
    assert.equal(res.status, 400, JSON.stringify(bad).slice(0, 60));
    assert.equal(res.json.error.code, "BadRequest");
    assert.ok(res.json.error.innerError);
  }
  // Re-submitting an externalId creates a duplicate, and is counted.
  await call(emu, "POST", "/beta/security/tiIndicators/submitTiIndicators", { token, body: { value: [ti({ externalId: "e1" })] } });
  assert.equal(emu.state().counters.duplicate_external_id, 1);
  assert.equal(emu.state().graph.filter((g) => g.externalId === "e1").length, 2);
});

test("graph: create, PATCH, updateTiIndicators, deletes, list; each app sees only its own", async () => {
  emu.reset();
  const token = await tokenFor(emu, GRAPH);
  const otherToken = await tokenFor(emu, GRAPH, OTHER);
  const created = await call(emu, "POST", "/beta/security/tiIndicators", { token, body: ti({ externalId: "x1" }) });
  assert.equal(created.status, 201, created.text);
  const id = created.json.id;
  assert.equal(created.json.severity, 3);
  assert.equal((await call(emu, "POST", "/beta/security/tiIndicators", { token, body: ti({ tlpLevel: "purple" }) })).status, 400);

  const patch = (target, body, headers) => call(emu, "PATCH", `/beta/security/tiIndicators/${target}`, { token, body, headers });
  assert.equal((await patch(id, { expirationDateTime: FUTURE, targetProduct: "Azure Sentinel", confidence: 90 })).status, 204);
  const rep = await patch(id, { expirationDateTime: FUTURE, targetProduct: "Azure Sentinel", severity: 1 }, { prefer: "return=representation" });
  assert.equal(rep.status, 200);
  assert.equal(rep.json.confidence, 90);
  assert.equal((await patch(id, { expirationDateTime: FUTURE, targetProduct: "Azure Sentinel", networkIPv4: "1.1.1.1" })).status, 400, "not editable");
  assert.equal((await patch(id, { severity: 1 })).status, 400, "expirationDateTime and targetProduct are required");
  assert.equal((await patch("nope", { expirationDateTime: FUTURE, targetProduct: "Azure Sentinel" })).status, 404);

  const many = await call(emu, "POST", "/beta/security/tiIndicators/updateTiIndicators", {
    token,
    body: { value: [{ id, expirationDateTime: FUTURE, targetProduct: "Azure Sentinel", tags: ["t"] }, { id: "missing", expirationDateTime: FUTURE, targetProduct: "Azure Sentinel" }] },
  });
  assert.equal(many.status, 206);
  assert.deepEqual(many.json.value[0].tags, ["t"]);
  assert.equal(many.json.value[1].error.status, 404);

  // The other app neither sees nor deletes it.
  assert.equal((await call(emu, "GET", "/beta/security/tiIndicators", { token: otherToken })).json.value.length, 0);
  assert.equal((await call(emu, "GET", `/beta/security/tiIndicators/${id}`, { token: otherToken })).status, 404);
  const foreignDelete = await call(emu, "POST", "/beta/security/tiIndicators/deleteTiIndicatorsByExternalId", { token: otherToken, body: { value: ["x1"] } });
  assert.deepEqual(foreignDelete.json.value.map((v) => v.code), [404]);
  const listed = await call(emu, "GET", "/beta/security/tiIndicators?$filter=externalId+eq+'x1'", { token });
  assert.deepEqual(listed.json.value.map((v) => v.id), [id]);

  await call(emu, "POST", "/beta/security/tiIndicators/submitTiIndicators", { token, body: { value: [ti({ externalId: "x2" }), ti({ externalId: "x2" }), ti({ externalId: "x3" })] } });
  const del = await call(emu, "POST", "/beta/security/tiIndicators/deleteTiIndicatorsByExternalId", { token, body: { value: ["x1", "x2", "unknown"] } });
  assert.equal(del.status, 200);
  assert.deepEqual(del.json.value.map((v) => v.code), [0, 0, 404]);
  assert.ok(del.json.value.every((v) => "message" in v && "subCode" in v));
  assert.deepEqual(emu.state().graph.map((g) => g.externalId), ["x3"]);
  const byId = emu.state().graph[0].id;
  assert.deepEqual((await call(emu, "POST", "/beta/security/tiIndicators/deleteTiIndicators", { token, body: { value: [byId] } })).json.value.map((v) => v.code), [0]);
  created.json.id = (await call(emu, "POST", "/beta/security/tiIndicators", { token, body: ti() })).json.id;
  assert.equal((await call(emu, "DELETE", `/beta/security/tiIndicators/${created.json.id}`, { token })).status, 204);
  assert.equal((await call(emu, "DELETE", `/beta/security/tiIndicators/${created.json.id}`, { token })).status, 404);
  assert.equal(emu.state().graph.length, 0);
});

// ---- rate limits ----------------------------------------------------------------------------------

test("rate limits: sliding windows in scaled time (unit, fake clock)", () => {
  let now = 1_000_000;
  const clock = createClock(600, () => now);
  const limiter = new RateLimiter(clock);
  // Scale 600: Sentinel's 100 per minute is 100 per 100 ms.
  for (let i = 0; i < 100; i++) assert.equal(limiter.admit("sentinel-upload", "t|a").ok, true);
  const refused = limiter.admit("sentinel-upload", "t|a");
  assert.deepEqual(refused, { ok: false, retryAfterS: 60, windowS: 60, limit: 100 });
  assert.equal(limiter.admit("sentinel-upload", "t|other").ok, true, "per identity");
  now += 50; // half a window: 30 emulated seconds left
  assert.equal(limiter.admit("sentinel-upload", "t|a").retryAfterS, 30);
  now += 50; // the first hundred leave the window
  assert.equal(limiter.admit("sentinel-upload", "t|a").ok, true);
  // Defender's hourly 1500 binds when the minute window keeps sliding.
  const hourly = new RateLimiter(createClock(1, () => now));
  for (let minute = 0; minute < 15; minute++) {
    for (let i = 0; i < 100; i++) assert.equal(hourly.admit("defender-read", "x").ok, true);
    // The longer wait wins: the minute's until the last minute fills the hour.
    assert.equal(hourly.admit("defender-read", "x").windowS, minute < 14 ? 60 : 3600);
    now += 60_000;
  }
  const byHour = hourly.admit("defender-read", "x");
  assert.equal(byHour.ok, false);
  assert.equal(byHour.windowS, 3600);
  assert.equal(byHour.retryAfterS, 3600 - 15 * 60);
  // An empty list of windows means unlimited.
  const unlimited = new RateLimiter(clock, { graph: [] });
  for (let i = 0; i < 2000; i++) assert.equal(unlimited.admit("graph", "x").ok, true);
});

test("rate limits over HTTP: Sentinel 429 shape with Retry-After; recovery after the scaled wait", async () => {
  const fast = await start({ timeScale: 30 }); // 100 per minute = 100 per 2 seconds
  const token = await tokenFor(fast, SENTINEL);
  const body = { sourcesystem: "x", stixobjects: [stixIndicator()] };
  const results = await Promise.all(Array.from({ length: 101 }, () => call(fast, "POST", sentinelPath(), { token, body })));
  const throttled = results.filter((r) => r.status === 429);
  assert.equal(throttled.length, 1);
  assert.equal(results.filter((r) => r.status === 200).length, 100);
  const [t] = throttled;
  const seconds = Number(t.headers.get("retry-after"));
  assert.ok(seconds >= 1 && seconds <= 60, String(seconds));
  assert.deepEqual(t.json, { statusCode: 429, message: `Rate limit is exceeded. Try again in ${seconds} seconds.` });
  // Another identity is not throttled.
  const other = await call(fast, "POST", sentinelPath(), { token: await tokenFor(fast, SENTINEL, DEV, "fabrikam.onmicrosoft.com"), body });
  assert.equal(other.status, 200);
  await sleep((seconds * 1000) / 30 + 50);
  assert.equal((await call(fast, "POST", sentinelPath(), { token, body })).status, 200);
  const state = fast.state();
  assert.deepEqual(state.counters.throttled.natural, { "sentinel-upload": 1 });
  assert.equal(state.counters.requests["sentinel-upload"]["429"], 1);
});

test("rate limits over HTTP: Defender and Graph 429 shapes", async () => {
  const fast = await start({ timeScale: 30, rateLimits: { graph: [{ windowS: 60, limit: 2 }] } });
  const token = await tokenFor(fast, DEFENDER);
  const imports = await Promise.all(Array.from({ length: 31 }, (_, i) => call(fast, "POST", "/api/indicators/import", { token, body: { Indicators: [mde({ indicatorValue: `203.0.113.${i + 1}` })] } })));
  const refused = imports.filter((r) => r.status === 429);
  assert.equal(refused.length, 1);
  assert.equal(refused[0].json.error.code, "TooManyRequests");
  assert.equal(typeof refused[0].json.error.target, "string");
  assert.match(refused[0].headers.get("retry-after"), /^\d+$/);
  assert.equal(fast.state().defender.length, 30, "a throttled request is not processed");
  const graphToken = await tokenFor(fast, GRAPH);
  const lists = [];
  for (let i = 0; i < 3; i++) lists.push(await call(fast, "GET", "/beta/security/tiIndicators", { token: graphToken }));
  assert.deepEqual(lists.map((r) => r.status), [200, 200, 429]);
  assert.equal(lists[2].json.error.code, "TooManyRequests");
  assert.ok(Number(lists[2].headers.get("retry-after")) >= 1);
  assert.deepEqual(fast.state().counters.throttled.natural, { "defender-import": 1, graph: 1 });
});

// ---- faults ---------------------------------------------------------------------------------------

test("faults: 429, 500 and 503 in each API's shape, not processed, counted", async () => {
  emu.reset();
  const tokens = { sentinel: await tokenFor(emu, SENTINEL), defender: await tokenFor(emu, DEFENDER), graph: await tokenFor(emu, GRAPH) };
  const send = {
    sentinel: () => call(emu, "POST", sentinelPath(), { token: tokens.sentinel, body: { sourcesystem: "x", stixobjects: [stixIndicator()] } }),
    defender: () => call(emu, "POST", "/api/indicators/import", { token: tokens.defender, body: { Indicators: [mde()] } }),
    graph: () => call(emu, "POST", "/beta/security/tiIndicators/submitTiIndicators", { token: tokens.graph, body: { value: [ti()] } }),
  };
  const routes = { sentinel: "sentinel-upload", defender: "defender-import", graph: "graph-submit" };
  for (const kind of ["429", "500", "503"]) {
    emu.setFaults({ seed: 7, rules: Object.values(routes).map((route) => ({ match: { route }, kind, times: 1 })) });
    for (const api of ["sentinel", "defender", "graph"]) {
      const r = await send[api]();
      assert.equal(r.status, Number(kind), `${api} ${kind}`);
      if (api === "sentinel") assert.equal(r.json.statusCode, Number(kind));
      else assert.equal(typeof r.json.error.code, "string");
      if (kind === "429") {
        const seconds = Number(r.headers.get("retry-after"));
        assert.ok(seconds >= 1 && seconds <= 5);
        if (api === "sentinel") assert.equal(r.json.message, `Rate limit is exceeded. Try again in ${seconds} seconds.`);
        else assert.equal(r.json.error.code, "TooManyRequests");
      }
      assert.equal((await send[api]()).status < 300, true, "times: 1");
    }
  }
  const state = emu.state();
  assert.deepEqual(state.counters.throttled.injected, { "sentinel-upload": 1, "defender-import": 1, graph: 1 });
  assert.deepEqual(state.counters.throttled.natural, {});
  assert.equal(state.faults.injected.length, 3, "setFaults replaced the log each round");
  assert.equal(state.counters.faults["graph-submit:503"], 1);
  assert.equal(Object.keys(state.sentinel[WS]).length, 3, "only the un-faulted uploads were stored");
  assert.equal(state.defender.length, 1);
  assert.equal(state.graph.length, 3);
});

test("faults: timeout and reset destroy the connection without processing", async () => {
  emu.reset();
  const token = await tokenFor(emu, DEFENDER);
  emu.setFaults([{ match: { route: "defender-submit" }, kind: "timeout", delayMs: 300, times: 1 }, { match: { route: "defender-submit" }, kind: "reset", calls: [2] }]);
  const began = Date.now();
  await assert.rejects(call(emu, "POST", "/api/indicators", { token, body: mde() }), TypeError);
  assert.ok(Date.now() - began >= 280, "the timeout waited delayMs");
  const resetAt = Date.now();
  await assert.rejects(call(emu, "POST", "/api/indicators", { token, body: mde() }), TypeError);
  assert.ok(Date.now() - resetAt < 1000);
  assert.equal((await call(emu, "POST", "/api/indicators", { token, body: mde() })).status, 200);
  const state = emu.state();
  assert.equal(state.defender.length, 1);
  assert.deepEqual(state.counters.requests["defender-submit"], { timeout: 1, reset: 1, 200: 1 });
  assert.deepEqual(state.faults.injected.map((f) => [f.kind, f.call]), [["timeout", 1], ["reset", 2]]);
});

test("faults: token-endpoint and managed-identity failures", async () => {
  emu.reset();
  emu.setFaults({ rules: [{ match: { route: "token" }, kind: "token", calls: [1] }, { match: { route: "msi" }, kind: "token" }, { match: { route: "token" }, kind: "429", calls: [2] }] });
  const fields = { grant_type: "client_credentials", client_id: DEV.client_id, client_secret: DEV.secret, scope: `${GRAPH}/.default` };
  const first = await tokenRequest(emu, fields);
  assert.equal(first.status, 503);
  assert.equal(first.json.error, "temporarily_unavailable");
  assert.match(first.json.error_description, /^AADSTS\d+: /);
  const second = await tokenRequest(emu, fields);
  assert.equal(second.status, 429);
  assert.ok(Number(second.headers.get("retry-after")) >= 1);
  assert.equal((await tokenRequest(emu, fields)).status, 200);
  const mi = await call(emu, "GET", `/msi/token?resource=${encodeURIComponent(GRAPH)}&api-version=2019-08-01`, { headers: { "x-identity-header": "emulator-identity-header" } });
  assert.equal(mi.status, 500);
  assert.equal(mi.json.statusCode, 500);
  assert.equal(emu.state().counters.tokens_issued[DEV.client_id], 1);
  // `partial` makes no sense on the token route: such a rule never fires there.
  emu.setFaults([{ match: { route: "*" }, kind: "partial" }]);
  assert.equal((await tokenRequest(emu, fields)).status, 200);
  assert.equal(emu.state().faults.injected.length, 0);
});

test("faults: partial failures in each API's shape; failed items are not stored", async () => {
  emu.reset();
  emu.setFaults({ seed: 42, rules: [{ match: { route: "sentinel-upload" }, kind: "partial" }, { match: { route: "defender-import" }, kind: "partial" }, { match: { route: "graph-submit" }, kind: "partial" }, { match: { route: "graph-delete-by-external-id" }, kind: "partial" }] });
  const s = await call(emu, "POST", sentinelPath(), { token: await tokenFor(emu, SENTINEL), body: { sourcesystem: "x", stixobjects: Array.from({ length: 9 }, () => stixIndicator()) } });
  assert.equal(s.status, 200);
  assert.equal(s.json.errors.length, 3);
  assert.ok(s.json.errors.every((e) => /transient/i.test(e.errorMessages[0])));
  assert.equal(Object.keys(emu.state().sentinel[WS]).length, 6);

  const d = await call(emu, "POST", "/api/indicators/import", { token: await tokenFor(emu, DEFENDER), body: { Indicators: Array.from({ length: 6 }, (_, i) => mde({ indicatorValue: `203.0.113.${i + 1}` })) } });
  assert.equal(d.status, 200);
  assert.equal(d.json.value.filter((v) => v.isFailed).length, 2);
  assert.equal(emu.state().defender.length, 4);

  const graphToken = await tokenFor(emu, GRAPH);
  const g = await call(emu, "POST", "/beta/security/tiIndicators/submitTiIndicators", { token: graphToken, body: { value: [ti({ externalId: "a" }), ti({ externalId: "b" }), ti({ externalId: "c" })] } });
  assert.equal(g.status, 206);
  const failed = g.json.value.filter((v) => v.error);
  assert.equal(failed.length, 1);
  assert.equal(failed[0].error.status, 503);
  assert.equal(emu.state().graph.length, 2);
  const del = await call(emu, "POST", "/beta/security/tiIndicators/deleteTiIndicatorsByExternalId", { token: graphToken, body: { value: ["a"] } });
  assert.equal(del.status, 206);
  assert.deepEqual(del.json.value.map((v) => v.code), [503]);
  // One item alone fails entirely (at least one).
  const one = await call(emu, "POST", "/api/indicators/import", { token: await tokenFor(emu, DEFENDER), body: { Indicators: [mde({ indicatorValue: "198.51.100.99" })] } });
  assert.equal(one.json.value[0].isFailed, true);
  const injected = emu.state().faults.injected;
  assert.deepEqual(injected.map((f) => f.items.length), [3, 2, 1, 1, 1]);
});

test("faults: calls, times and rate are deterministic for a seed; control API", async () => {
  const runs = [];
  for (let run = 0; run < 2; run++) {
    const e = await start({ seed: 99 });
    const token = await tokenFor(e, GRAPH);
    e.setFaults({ rules: [{ match: { route: "graph-list" }, kind: "503", rate: 0.3 }] });
    const statuses = [];
    for (let i = 0; i < 30; i++) statuses.push((await call(e, "GET", "/beta/security/tiIndicators", { token })).status);
    runs.push(statuses);
    assert.deepEqual(e.state().faults.injected.map((f) => f.call), statuses.flatMap((s, i) => (s === 503 ? [i + 1] : [])));
  }
  assert.deepEqual(runs[0], runs[1]);
  const failures = runs[0].filter((s) => s === 503).length;
  assert.ok(failures > 2 && failures < 20, String(failures));

  // Over HTTP: set, read, clear; a bad rule is a 400 and keeps the old rules.
  emu.reset();
  const set = await call(emu, "POST", "/_emulator/faults", { body: { seed: 3, rules: [{ match: { route: "defender-list" }, kind: "500", calls: [2, 3], times: 1 }] } });
  assert.equal(set.status, 200);
  assert.equal(set.json.seed, 3);
  const bad = await call(emu, "POST", "/_emulator/faults", { body: { rules: [{ match: { route: "nope" }, kind: "500" }] } });
  assert.equal(bad.status, 400);
  assert.match(bad.json.error.message, /match\.route/);
  const token = await tokenFor(emu, DEFENDER);
  const statuses = [];
  for (let i = 0; i < 4; i++) statuses.push((await call(emu, "GET", "/api/indicators", { token })).status);
  assert.deepEqual(statuses, [200, 500, 200, 200]);
  assert.equal((await call(emu, "GET", "/_emulator/faults")).json.rules[0].fired, 1);
  assert.equal((await call(emu, "DELETE", "/_emulator/faults")).status, 204);
  assert.deepEqual((await call(emu, "GET", "/_emulator/faults")).json.rules, []);
  for (const rule of [{ match: { route: "token" }, kind: "boom" }, { match: { route: "token" }, kind: "500", rate: 2 }, { match: { route: "token" }, kind: "500", calls: [0] }, "x"]) {
    assert.throws(() => emu.setFaults([rule]), TypeError);
  }
});

// ---- control API, robustness, CLI -----------------------------------------------------------------

test("control API: state, HTML page, reset, app registration; unknown routes", async () => {
  emu.reset();
  const reg = await call(emu, "POST", "/_emulator/apps", { body: { client_id: "66666666-0000-4000-8000-000000000006", secret: "s6", name: "six" } });
  assert.equal(reg.status, 201);
  assert.equal((await call(emu, "POST", "/_emulator/apps", { body: { client_id: "" } })).status, 400);
  const token = await tokenFor(emu, SENTINEL, { client_id: "66666666-0000-4000-8000-000000000006", secret: "s6" });
  await call(emu, "POST", sentinelPath(), { token, body: { sourcesystem: "x", stixobjects: [stixIndicator({ pattern: "[domain-name:value = '<script>']" })] } });
  const state = (await call(emu, "GET", "/_emulator/state")).json;
  assert.deepEqual(Object.keys(state).sort(), ["apps", "counters", "defender", "faults", "graph", "options", "sentinel"]);
  for (const key of ["requests", "throttled", "faults", "tokens_issued", "stale_modified", "duplicate_external_id", "deprecated_action"]) assert.ok(key in state.counters, key);
  assert.ok(state.apps.some((a) => a.client_id === "66666666-0000-4000-8000-000000000006" && a.secret === true));
  const page = await call(emu, "GET", "/_emulator");
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type"), /text\/html/);
  assert.match(page.text, /<table>/);
  assert.ok(!page.text.includes("<script>"), "values are escaped");
  assert.ok(!/https?:\/\/(?!127\.0\.0\.1)[^"]*\.(css|js)/.test(page.text), "no external assets");
  assert.equal((await call(emu, "POST", "/_emulator/reset")).status, 204);
  const after = emu.state();
  assert.deepEqual(after.sentinel, {});
  assert.deepEqual(after.counters.requests, {});
  assert.ok(after.apps.some((a) => a.client_id === "66666666-0000-4000-8000-000000000006"), "apps survive a reset");
  const unknown = await call(emu, "GET", "/nope");
  assert.equal(unknown.status, 404);
  assert.equal(unknown.json.error.code, "NotFound");
  const wrongMethod = await call(emu, "PUT", "/api/indicators");
  assert.equal(wrongMethod.status, 405);
  assert.match(wrongMethod.headers.get("allow"), /GET/);
});

test("robustness: garbage to every route never gets a 5xx", async () => {
  emu.reset();
  const tokens = [undefined, await tokenFor(emu, SENTINEL), await tokenFor(emu, DEFENDER), await tokenFor(emu, GRAPH)];
  const bodies = ["", "{", "null", "[]", "123", '"x"', '{"value":null}', '{"Indicators":[null,1,"x",[]]}', '{"value":[null,1,{"id":5}]}', '{"sourcesystem":1,"stixobjects":[null,1,[],{"type":5,"id":[]}]}', '{"IndicatorIds":[null,{}]}', "\u0000\uffff", "%%%"];
  const targets = [
    ["POST", sentinelPath()],
    ["POST", `/${WS}/threatintelligence:upload-indicators?api-version=2022-07-01`],
    ["POST", "/api/indicators"],
    ["POST", "/api/indicators/import"],
    ["POST", "/api/indicators/BatchDelete"],
    ["GET", "/api/indicators?$filter=%27&$top=x&$skip=%ZZ"],
    ["DELETE", "/api/indicators/%2F..%2F"],
    ["POST", "/beta/security/tiIndicators"],
    ["POST", "/beta/security/tiIndicators/submitTiIndicators"],
    ["POST", "/beta/security/tiIndicators/updateTiIndicators"],
    ["POST", "/beta/security/tiIndicators/deleteTiIndicatorsByExternalId"],
    ["PATCH", "/beta/security/tiIndicators/x"],
    ["GET", "/beta/security/tiIndicators?$filter=(("],
    ["POST", `/${TENANT}/oauth2/v2.0/token`],
    ["GET", "/msi/token?resource=%ZZ"],
    ["POST", "/_emulator/faults"],
    ["POST", "/_emulator/apps"],
    ["POST", "/_emulator/defender/indicators"],
  ];
  for (const [method, path] of targets) {
    for (const token of tokens) {
      for (const body of method === "GET" || method === "DELETE" ? [undefined] : bodies) {
        const r = await call(emu, method, path, { token, body, headers: { authorization: token ? `Bearer ${token}` : "Basic !!!" } });
        assert.ok(r.status < 500, `${method} ${path} ${String(body).slice(0, 30)} → ${r.status} ${r.text.slice(0, 200)}`);
      }
    }
  }
});

test("throughput: 200 Sentinel uploads of 100 objects each", async () => {
  const fast = await start({ rateLimits: { "sentinel-upload": [] } });
  const token = await tokenFor(fast, SENTINEL);
  const batches = Array.from({ length: 200 }, () => JSON.stringify({ sourcesystem: "x", stixobjects: Array.from({ length: 100 }, () => stixIndicator()) }));
  const began = Date.now();
  for (let i = 0; i < batches.length; i += 10) {
    const results = await Promise.all(batches.slice(i, i + 10).map((body) => call(fast, "POST", sentinelPath(), { token, body })));
    assert.ok(results.every((r) => r.status === 200 && r.text === ""));
  }
  const seconds = (Date.now() - began) / 1000;
  assert.ok(seconds < 8, `${seconds} s for 200 requests`);
  assert.equal(Object.keys(fast.state().sentinel[WS]).length, 20_000);
});

test("CLI: prints {\"emulator\": url}, serves, stops on SIGTERM", async () => {
  const script = fileURLToPath(new URL("emulator/server.mjs", repoRoot));
  const child = spawn(process.execPath, [script, "--port", "0", "--time-scale", "60", "--seed", "5"], { stdio: ["ignore", "pipe", "pipe"] });
  const line = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`no line: ${out}`)), 5000);
    child.stdout.on("data", (chunk) => {
      out += chunk;
      if (out.includes("\n")) {
        clearTimeout(timer);
        resolve(out.split("\n")[0]);
      }
    });
    child.once("exit", (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
  const { emulator: url } = JSON.parse(line);
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const state = await (await fetch(`${url}/_emulator/state`)).json();
  assert.equal(state.options.timeScale, 60);
  assert.equal(state.options.seed, 5);
  const code = await new Promise((resolve) => {
    child.once("exit", (c) => resolve(c));
    child.kill("SIGTERM");
  });
  assert.equal(code, 0);
});

test("checks: IPv6 literals, timestamps, OData filters", () => {
  for (const ok of ["::", "::1", "2001:db8::1", "2001:db8:0:0:0:0:0:1", "::ffff:192.0.2.1", "fe80::"]) assert.ok(isIpv6(ok), ok);
  for (const bad of ["2001:db8::1::2", "1:2:3:4:5:6:7:8:9", "2001:db8:0:0:0:0:0", "g::1", "fe80::1%eth0", "1.2.3.4"]) assert.ok(!isIpv6(bad), bad);
  assert.ok("ok" in parseTimestamp("2024-02-29T12:00:00.1234Z"));
  for (const bad of ["2023-02-29T00:00:00Z", "2024-01-01T00:00:00", "2024-01-01T24:00:00Z", "2024-01-01"]) assert.ok("error" in parseTimestamp(bad), bad);
  assert.ok(parseTimestamp("2024-01-01T00:00:00.0001Z").ok.key > parseTimestamp("2024-01-01T00:00:00Z").ok.key);
  const f = parseFilter("indicatorValue eq 'it''s' and generateAlert eq true", ["indicatorValue", "generateAlert"]);
  assert.deepEqual(f.ok, [{ field: "indicatorValue", value: "it's" }, { field: "generateAlert", value: true }]);
  assert.ok(matches({ indicatorValue: "IT'S", generateAlert: true }, f.ok));
  assert.ok(!matches({ indicatorValue: "it's", generateAlert: false }, f.ok));
  assert.ok(matches({ rbacGroupNames: ["a", "B"] }, parseFilter("rbacGroupNames eq 'b'", ["rbacGroupNames"]).ok));
});

// ---- the core's plans against the emulator ----------------------------------------------------------

const pkgReady = existsSync(new URL("pkg/ti_relay_bg.wasm", repoRoot));

test("the core's golden plans: every planned body is accepted", async () => {
  const fast = await start({ rateLimits: { "sentinel-upload": [], "defender-import": [], "defender-read": [], graph: [] } });
  const tokens = { sentinel: await tokenFor(fast, SENTINEL), defender: await tokenFor(fast, DEFENDER), graph: await tokenFor(fast, GRAPH) };
  const dir = new URL("tests/fixtures/plan/", repoRoot);
  let sent = 0;
  for (const name of readdirSync(dir).filter((n) => n.endsWith(".plan.json"))) {
    const plan = JSON.parse(readFileSync(new URL(name, dir), "utf8"));
    for (const request of plan.requests) {
      const { pathname, search } = new URL(request.url);
      const api = request.op.split("-")[0];
      // The golden plans were made at 2024-03-10; move Defender's expiry past the emulator's "now".
      const body = request.body && api === "defender" ? request.body.replaceAll('"expirationTime":"2024-', '"expirationTime":"2099-') : request.body;
      const r = await call(fast, request.method, pathname + search, { token: tokens[api], body: body ?? undefined });
      sent += 1;
      assert.ok(r.status >= 200 && r.status < 300, `${name} ${request.id}: ${r.status} ${r.text.slice(0, 300)}`);
      if (request.op === "sentinel-upload") assert.equal(r.text, "", `${name}: ${r.text.slice(0, 300)}`);
      if (request.op === "defender-import") assert.ok(r.json.value.every((v) => !v.isFailed), `${name}: ${r.text.slice(0, 300)}`);
      if (request.op === "graph-submit") assert.equal(r.status, 200, `${name}: ${r.text.slice(0, 300)}`);
    }
  }
  assert.ok(sent > 10);
});

test("the core's interpreters read the emulator's answers (plan → send → interpret)", { skip: !pkgReady && "pkg/ is not built" }, async () => {
  const { loadPkg } = await import("./load.mjs");
  const pkg = await loadPkg();
  const relayApp = { client_id: "11111111-2222-3333-4444-555555555555", secret: "relay-secret", name: "ti-relay" };
  const fast = await start({ apps: [relayApp], rateLimits: { "sentinel-upload": [], "defender-import": [], "defender-read": [], "defender-batch-delete": [], graph: [] } });
  const ids = { tenant: TENANT, client_id: relayApp.client_id };
  const relay = new pkg.Relay({
    destinations: [
      { name: "sentinel", type: "sentinel", ...ids, credential: { secret: "S" }, sentinel: { workspace_id: WS } },
      { name: "mde", type: "defender", ...ids, credential: { secret: "S" } },
      { name: "graph", type: "graph", ...ids, credential: { secret: "S" } },
    ],
  });
  const tokens = {};
  for (const resource of [SENTINEL, DEFENDER, GRAPH]) tokens[resource] = await tokenFor(fast, resource, relayApp);
  const audienceToken = (audience) => tokens[audience.replace(/\/?\.default$/, "").replace(/\/$/, "")];
  /** Sends a request and its follow-ups; returns every outcome. */
  const deliver = async (requests) => {
    const outcomes = [];
    const queue = [...requests];
    while (queue.length > 0) {
      const request = queue.shift();
      const { pathname, search } = new URL(request.url);
      const r = await call(fast, request.method, pathname + search, { token: audienceToken(request.audience), body: request.body ?? undefined });
      const result = relay.interpret(request, { status: r.status, headers: Object.fromEntries(r.headers), body: r.text });
      outcomes.push(...result.items.map((i) => ({ op: request.op, ...i })));
      queue.push(...result.follow_up);
    }
    return outcomes;
  };
  const fixture = (name) => readFileSync(new URL(`tests/fixtures/decode/${name}`, repoRoot), "utf8");
  const now = new Date().toISOString();
  // A create "now": indicators valid from now on.
  const bundle = JSON.parse(fixture("stix_bundle.json"));
  const shift = (o) => {
    for (const k of ["created", "modified", "valid_from"]) if (k in o) o[k] = now;
    if ("valid_until" in o) o.valid_until = FUTURE;
  };
  (bundle.objects ?? []).forEach(shift);
  const created = await deliver(relay.plan(JSON.stringify(bundle), { now }).requests);
  assert.ok(created.length > 0);
  assert.deepEqual(created.filter((o) => o.outcome !== "accepted"), [], "every item accepted");
  const state = fast.state();
  assert.ok(Object.keys(state.sentinel[WS]).length > 0);
  assert.ok(state.defender.length > 0);
  assert.ok(state.graph.length > 0);

  // A foreign indicator with one of our values survives our removal of it.
  const ours = state.defender[0];
  fast.seedDefender({ indicatorValue: ours.indicatorValue, indicatorType: ours.indicatorType, action: "Block", title: "theirs", description: "theirs", application: "Another Tool", tenant: TENANT });
  // Revoking the same indicators removes what was created for them.
  const later = new Date(Date.now() + 1000).toISOString();
  const revoked = structuredClone(bundle);
  for (const o of revoked.objects ?? []) {
    if (o.type === "indicator") Object.assign(o, { revoked: true, modified: later });
  }
  const removalPlan = relay.plan(JSON.stringify(revoked), { now: later });
  const removedKeys = (destination) =>
    new Set(removalPlan.items.filter((i) => i.verdicts.some((v) => v.destination === destination && v.verdict === "remove")).map((i) => i.key));
  assert.ok(removedKeys("mde").has(state.defender[0].externalId));
  const removed = await deliver(removalPlan.requests);
  assert.deepEqual(removed.filter((o) => o.outcome !== "accepted"), [], "every removal accepted");
  const after = fast.state();
  assert.ok(after.defender.some((i) => i.application === "Another Tool"), "the foreign indicator is left alone");
  assert.deepEqual(after.defender.filter((i) => i.application === "ti-relay" && removedKeys("mde").has(i.externalId)), []);
  assert.deepEqual(after.graph.filter((i) => removedKeys("graph").has(i.externalId)), []);
  const revokedIds = removalPlan.requests
    .filter((r) => r.op === "sentinel-upload")
    .flatMap((r) => JSON.parse(r.body).stixobjects.filter((o) => o.revoked).map((o) => o.id));
  assert.ok(revokedIds.length > 0);
  for (const id of revokedIds) assert.equal(after.sentinel[WS][id]?.revoked, true, id);
  assert.equal(after.counters.stale_modified, 0);

  // The interpreters read injected faults as retries.
  fast.setFaults({ seed: 1, rules: [{ match: { route: "sentinel-upload" }, kind: "429" }, { match: { route: "graph-submit" }, kind: "partial" }, { match: { route: "defender-import" }, kind: "503" }] });
  (bundle.objects ?? []).forEach((o) => {
    if (o.type === "indicator") o.modified = new Date(Date.now() + 2000).toISOString();
  });
  const faulted = await deliver(relay.plan(JSON.stringify(bundle), { now: new Date(Date.now() + 2000).toISOString() }).requests);
  for (const o of faulted.filter((x) => x.op === "sentinel-upload" || x.op === "defender-import")) assert.equal(o.outcome, "retry", JSON.stringify(o));
  const sentinelRetry = faulted.find((o) => o.op === "sentinel-upload");
  assert.ok(sentinelRetry.after_ms >= 1000 && sentinelRetry.after_ms <= 5000, JSON.stringify(sentinelRetry));
  const graphOutcomes = faulted.filter((o) => o.op === "graph-submit").map((o) => o.outcome);
  assert.ok(graphOutcomes.includes("retry") && graphOutcomes.includes("accepted"), graphOutcomes.join());
});
