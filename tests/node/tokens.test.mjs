// worker/lib/tokens.mjs, assertion.mjs and log.mjs: Entra tokens (secret, certificate, managed
// identity), caching, single flight, errors that never leak a credential, and log redaction.
// Fake fetch and a hand-moved clock: exact and instant.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";

import { createTokenSource, TokenError, REFRESH_MARGIN_MS } from "../../worker/lib/tokens.mjs";
import { base64url, base64ToBytes } from "../../worker/lib/assertion.mjs";
import { createLogger } from "../../worker/lib/log.mjs";

const T0 = Date.UTC(2024, 2, 10, 12, 0, 0);
const SECRET = "Xy7~Q8s.very-secret-client-secret-value~42";
const TOKEN_URL = "https://login.test/contoso.onmicrosoft.com/oauth2/v2.0/token";
const CLIENT_ID = "11111111-2222-3333-4444-555555555555";

const dest = (credential, extra = {}) => ({
  name: "sentinel",
  client_id: CLIENT_ID,
  credential,
  endpoint: { token_url: TOKEN_URL, scope: "https://management.azure.com/.default", resource: "https://management.azure.com/" },
  ...extra,
});

/** A minimal fetch Response (what the loop reads: ok, status, headers, text). */
const res = (status, body, headers = {}) => ({
  ok: status >= 200 && status < 300,
  status,
  headers: new Headers(headers),
  text: async () => (typeof body === "string" ? body : JSON.stringify(body)),
});

/** A scripted fetch recording every call; `answer(call, n)` returns a response or throws. */
function scriptedFetch(answer) {
  const calls = [];
  const fetch = async (url, init = {}) => {
    const call = { url: String(url), method: init.method ?? "GET", headers: { ...init.headers }, body: init.body, signal: init.signal };
    calls.push(call);
    return answer(call, calls.length);
  };
  return { fetch, calls };
}

/** A log that keeps every line, and the source under test. */
function setup({ answer, secrets = { S: SECRET }, env = {}, options = {} }) {
  const clock = { t: T0 };
  const lines = [];
  const log = createLogger((line) => lines.push(line), { level: "debug", now: () => clock.t });
  const { fetch, calls } = scriptedFetch(answer);
  const source = createTokenSource({
    fetch,
    now: () => clock.t,
    secrets: async (name) => secrets[name],
    log,
    env,
    options,
  });
  return { source, calls, lines, clock, log };
}

const ok = (token = "tok-1", expires_in = 3599) => res(200, { token_type: "Bearer", expires_in, access_token: token });

async function rejects(promise) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail("expected a rejection");
}

test("secret: exact form POST, cached until 5 minutes before expiry, then refreshed", async () => {
  let n = 0;
  const { source, calls, clock } = setup({ answer: () => ok(`tok-${++n}`) });
  const d = dest({ secret: "S" });
  assert.equal(await source.get(d), "tok-1");
  assert.equal(calls.length, 1);
  const [call] = calls;
  assert.equal(call.url, TOKEN_URL);
  assert.equal(call.method, "POST");
  assert.equal(call.headers["content-type"], "application/x-www-form-urlencoded");
  assert.deepEqual([...new URLSearchParams(call.body)], [
    ["client_id", CLIENT_ID],
    ["scope", "https://management.azure.com/.default"],
    ["client_secret", SECRET],
    ["grant_type", "client_credentials"],
  ]);
  clock.t = T0 + 3599_000 - REFRESH_MARGIN_MS - 1;
  assert.equal(await source.get(d), "tok-1");
  assert.equal(calls.length, 1);
  clock.t = T0 + 3599_000 - REFRESH_MARGIN_MS;
  assert.equal(await source.get(d), "tok-2");
  assert.equal(calls.length, 2);
  // Another destination with the same app, tenant and scope shares the token; another scope does not.
  assert.equal(await source.get({ ...d, name: "other" }), "tok-2");
  assert.equal(calls.length, 2);
  await source.get({ ...d, endpoint: { ...d.endpoint, scope: "https://graph.microsoft.com/.default" } });
  assert.equal(calls.length, 3);
  // A request's audience is the scope asked for (the same as the endpoint's: the same token).
  assert.equal(await source.get(d, "https://management.azure.com/.default"), "tok-2");
  assert.equal(calls.length, 3);
  await source.get(d, "https://management.core.windows.net/.default");
  assert.equal(new URLSearchParams(calls[3].body).get("scope"), "https://management.core.windows.net/.default");
  // invalidate forgets the cached token.
  source.invalidate(d);
  assert.equal(await source.get(d), "tok-5");
});

test("single flight: 10 concurrent gets share one POST", async () => {
  let release;
  const gate = new Promise((r) => (release = r));
  const { source, calls } = setup({ answer: async () => (await gate, ok("shared")) });
  const d = dest({ secret: "S" });
  const all = Promise.all(Array.from({ length: 10 }, () => source.get(d)));
  await new Promise((r) => setImmediate(r));
  release();
  assert.deepEqual(await all, Array(10).fill("shared"));
  assert.equal(calls.length, 1);
});

test("a short-lived token is refreshed halfway, not on every call", async () => {
  let n = 0;
  const { source, calls, clock } = setup({ answer: () => ok(`t${++n}`, 120) });
  const d = dest({ secret: "S" });
  await source.get(d);
  clock.t += 59_000;
  assert.equal(await source.get(d), "t1");
  clock.t += 1_000;
  assert.equal(await source.get(d), "t2");
  assert.equal(calls.length, 2);
});

// ---- certificates ----

const pem = (label, bytes) => `-----BEGIN ${label}-----\n${btoa(String.fromCharCode(...bytes)).match(/.{1,64}/g).join("\n")}\n-----END ${label}-----\n`;

/** A key and certificate: emulator/testing/cert.mjs when another agent has written it, else a fresh
 * RSA key and arbitrary DER bytes (the relay only hashes the certificate). */
async function certificate() {
  const helper = new URL("../../emulator/testing/cert.mjs", import.meta.url);
  if (existsSync(helper)) {
    const { makeCertificate } = await import(helper.href);
    const c = await makeCertificate();
    return { privateKeyPem: c.privateKeyPem, certificatePem: c.certificatePem, der: new Uint8Array(c.der) };
  }
  const pair = await crypto.subtle.generateKey(
    { name: "RSA-PSS", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  );
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  const der = crypto.getRandomValues(new Uint8Array(700));
  return { privateKeyPem: pem("PRIVATE KEY", pkcs8), certificatePem: pem("CERTIFICATE", der), der };
}
// Lazily, inside the tests: a top-level await after the first test() would let --test-force-exit end
// the run before the tests registered after it.
let certPromise;
const getCert = () => (certPromise ??= certificate());

/** The public key of a PKCS#8 PEM, for `alg`. */
async function publicKey(privateKeyPem, alg) {
  const der = base64ToBytes(privateKeyPem.replace(/-----[^-]+-----/g, "").replace(/\s/g, ""));
  const algorithm = alg === "PS256" ? { name: "RSA-PSS", hash: "SHA-256" } : { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  const priv = await crypto.subtle.importKey("pkcs8", der, algorithm, true, ["sign"]);
  const { kty, n, e } = await crypto.subtle.exportKey("jwk", priv);
  return crypto.subtle.importKey("jwk", { kty, n, e }, algorithm, false, ["verify"]);
}

const decodePart = (part) => JSON.parse(new TextDecoder().decode(base64ToBytes(part)));
const sha = async (hash, bytes) => base64url(new Uint8Array(await crypto.subtle.digest(hash, bytes)));

for (const { alg, option, thumbKey, hash, verify } of [
  { alg: "PS256", option: undefined, thumbKey: "x5t#S256", hash: "SHA-256", verify: { name: "RSA-PSS", saltLength: 32 } },
  { alg: "RS256", option: "RS256", thumbKey: "x5t", hash: "SHA-1", verify: { name: "RSASSA-PKCS1-v1_5" } },
]) {
  test(`certificate ${alg}: exact header and claims, signature verifies, nothing leaks`, async () => {
    const cert = await getCert();
    const secrets = { CERT: cert.privateKeyPem + cert.certificatePem };
    const { source, calls, lines } = setup({
      answer: () => ok("cert-token"),
      secrets,
      options: option ? { certificateAlgorithm: option } : {},
    });
    assert.equal(await source.get(dest({ certificate: "CERT" })), "cert-token");
    const form = new URLSearchParams(calls[0].body);
    assert.deepEqual([...form.keys()], ["client_id", "scope", "client_assertion_type", "client_assertion", "grant_type"]);
    assert.equal(form.get("client_assertion_type"), "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    assert.equal(form.get("grant_type"), "client_credentials");
    const jwt = form.get("client_assertion");
    const [h, c, s] = jwt.split(".");
    assert.deepEqual(decodePart(h), { alg, typ: "JWT", [thumbKey]: await sha(hash, cert.der) });
    const claims = decodePart(c);
    assert.match(claims.jti, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.deepEqual(claims, {
      aud: TOKEN_URL,
      iss: CLIENT_ID,
      sub: CLIENT_ID,
      jti: claims.jti,
      nbf: T0 / 1000,
      iat: T0 / 1000,
      exp: T0 / 1000 + 600,
    });
    const key = await publicKey(cert.privateKeyPem, alg);
    assert.ok(await crypto.subtle.verify(verify, key, base64ToBytes(s), new TextEncoder().encode(`${h}.${c}`)));
    for (const line of lines) {
      assert.ok(!line.includes(jwt) && !line.includes(s) && !line.includes("cert-token"), line);
      assert.ok(!line.includes(cert.privateKeyPem.split("\n")[1]), line);
    }
  });
}

test("certificate: a fresh jti per assertion; the destination's credential.algorithm wins", async () => {
  const cert = await getCert();
  const { source, calls } = setup({ answer: () => ok(), secrets: { CERT: cert.certificatePem + cert.privateKeyPem }, options: { certificateAlgorithm: "PS256" } });
  const d = dest({ certificate: "CERT", algorithm: "RS256" });
  await source.get(d);
  source.invalidate(d);
  await source.get(d);
  const jwts = calls.map((c) => new URLSearchParams(c.body).get("client_assertion").split("."));
  assert.equal(decodePart(jwts[0][0]).alg, "RS256");
  assert.notEqual(decodePart(jwts[0][1]).jti, decodePart(jwts[1][1]).jti);
});

test("certificate secret problems are permanent errors that say what to do, without a request", async () => {
  const cert = await getCert();
  const cases = [
    { pemText: "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n" + cert.certificatePem, expect: /openssl pkcs8 -topk8 -nocrypt/ },
    { pemText: "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n" + cert.certificatePem, expect: /-nocrypt/ },
    { pemText: cert.privateKeyPem, expect: /missing "BEGIN CERTIFICATE"/ },
    { pemText: cert.certificatePem, expect: /missing "BEGIN PRIVATE KEY"/ },
    { pemText: pem("PRIVATE KEY", [1, 2, 3, 4]) + cert.certificatePem, expect: /not an RSA PKCS#8 key/ },
  ];
  for (const { pemText, expect } of cases) {
    const { source, calls } = setup({ answer: () => ok(), secrets: { CERT: pemText } });
    const err = await rejects(source.get(dest({ certificate: "CERT" })));
    assert.ok(err instanceof TokenError);
    assert.equal(err.transient, false);
    assert.match(err.message, expect);
    assert.match(err.message, /sentinel/);
    assert.match(err.message, /CERT/);
    assert.equal(calls.length, 0);
  }
});

// ---- managed identity ----

test("managed identity: GET with resource, api-version, client_id and the identity header; expires_on", async () => {
  const env = { IDENTITY_ENDPOINT: "http://127.0.0.1:41741/msi/token", IDENTITY_HEADER: "identity-header-secret-123" };
  const expiresOn = String(T0 / 1000 + 3600);
  const { source, calls, clock, lines } = setup({
    env,
    answer: () => res(200, { access_token: "mi-token-value", expires_on: expiresOn, resource: "https://management.azure.com/", token_type: "Bearer" }),
  });
  const system = dest({ managed_identity: { client_id: null } });
  assert.equal(await source.get(system), "mi-token-value");
  const url = new URL(calls[0].url);
  assert.equal(calls[0].method, "GET");
  assert.equal(url.origin + url.pathname, env.IDENTITY_ENDPOINT);
  assert.deepEqual([...url.searchParams], [["resource", "https://management.azure.com/"], ["api-version", "2019-08-01"]]);
  assert.equal(calls[0].headers["x-identity-header"], env.IDENTITY_HEADER);
  clock.t = T0 + 3600_000 - REFRESH_MARGIN_MS - 1;
  await source.get(system);
  assert.equal(calls.length, 1);
  const user = dest({ managed_identity: { client_id: "99999999-8888-7777-6666-555555555555" } });
  await source.get(user);
  assert.equal(new URL(calls[1].url).searchParams.get("client_id"), "99999999-8888-7777-6666-555555555555");
  await source.get(dest({ managed_identity: true }));
  assert.equal(calls.length, 2, "`true` and {client_id: null} are the same system identity");
  await source.get(system, "https://graph.microsoft.com/.default");
  assert.equal(new URL(calls[2].url).searchParams.get("resource"), "https://graph.microsoft.com", "a scope's v1 resource");
  for (const line of lines) assert.ok(!line.includes(env.IDENTITY_HEADER) && !line.includes("mi-token-value"), line);
  // Without the environment: a permanent error saying what is missing.
  const bare = setup({ answer: () => ok() });
  const err = await rejects(bare.source.get(system));
  assert.equal(err.transient, false);
  assert.match(err.message, /IDENTITY_ENDPOINT and IDENTITY_HEADER/);
});

// ---- errors ----

const aad = (error, code, description) =>
  res(code === 429 ? 429 : code >= 500 ? code : code, {
    error,
    error_description: `${description}\r\nTrace ID: 0000\r\nCorrelation ID: 1111\r\nTimestamp: 2024-03-10 12:00:00Z`,
    error_codes: [Number(/AADSTS(\d+)/.exec(description)?.[1] ?? 0)].filter(Boolean),
    timestamp: "2024-03-10 12:00:00Z",
  });

test("token errors: code, AADSTS number, transient or not; the message names the destination and never the secret", async () => {
  const table = [
    { name: "bad secret", answer: () => aad("invalid_client", 401, "AADSTS7000215: Invalid client secret provided."), status: 401, code: "invalid_client", aadsts: 7000215, transient: false },
    { name: "bad scope", answer: () => aad("invalid_scope", 400, "AADSTS70011: The provided request must include a 'scope' input parameter."), status: 400, code: "invalid_scope", aadsts: 70011, transient: false },
    { name: "unknown tenant", answer: () => aad("invalid_request", 400, "AADSTS90002: Tenant 'contoso' not found."), status: 400, code: "invalid_request", aadsts: 90002, transient: false },
    { name: "temporarily unavailable", answer: () => aad("temporarily_unavailable", 400, "AADSTS50196: The server terminated an operation."), status: 400, code: "temporarily_unavailable", aadsts: 50196, transient: true },
    { name: "503", answer: () => res(503, "<html>Service Unavailable</html>"), status: 503, transient: true },
    { name: "429", answer: () => res(429, "", { "retry-after": "7" }), status: 429, transient: true, retry_after_ms: 7000 },
    { name: "network", answer: () => Promise.reject(new TypeError("fetch failed")), status: 0, code: "network", transient: true },
    { name: "200 without a token", answer: () => res(200, { token_type: "Bearer" }), status: 200, transient: false },
    // A server that echoes what it got: the secret must still never come out.
    { name: "echo", answer: (call) => res(400, { error: "invalid_request", error_description: `AADSTS900144: bad body ${call.body}` }), status: 400, code: "invalid_request", aadsts: 900144, transient: false },
  ];
  for (const row of table) {
    const { source, lines } = setup({ answer: row.answer });
    const err = await rejects(source.get(dest({ secret: "S" })));
    assert.ok(err instanceof TokenError, row.name);
    assert.equal(err.destination, "sentinel", row.name);
    assert.equal(err.status, row.status, row.name);
    if (row.code) assert.equal(err.code, row.code, row.name);
    assert.equal(err.aadsts, row.aadsts, row.name);
    assert.equal(err.transient, row.transient, row.name);
    if (row.retry_after_ms) assert.equal(err.retry_after_ms, row.retry_after_ms);
    assert.match(err.message, /destination sentinel \(secret S\)/, row.name);
    if (row.aadsts) assert.match(err.message, new RegExp(`AADSTS${row.aadsts}`), row.name);
    assert.ok(!err.message.includes("Trace ID"), "only the first line of the description");
    for (const text of [err.message, JSON.stringify(err), ...lines]) {
      assert.ok(!text.includes(SECRET), `${row.name}: ${text}`);
      assert.ok(!text.includes(new URLSearchParams({ v: SECRET }).toString().slice(2)), `${row.name}: ${text}`);
      assert.ok(!text.includes(encodeURIComponent(SECRET)), `${row.name}: ${text}`);
    }
  }
});

test("token timeout is transient and says so", async () => {
  const { source } = setup({
    answer: (call) => new Promise((_, reject) => call.signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")))),
    options: { timeoutMs: 20 },
  });
  const err = await rejects(source.get(dest({ secret: "S" })));
  assert.equal(err.transient, true);
  assert.equal(err.code, "timeout");
  assert.match(err.message, /no answer within 20 ms/);
});

test("a missing secret is permanent and names only the secret's name; permanent failures are remembered briefly", async () => {
  const { source, calls, clock } = setup({ answer: () => ok(), secrets: {} });
  const err = await rejects(source.get(dest({ secret: "SENTINEL_CLIENT_SECRET" })));
  assert.equal(err.transient, false);
  assert.match(err.message, /secret SENTINEL_CLIENT_SECRET is not set/);
  assert.equal(calls.length, 0);
  const bad = setup({ answer: () => aad("invalid_client", 401, "AADSTS7000215: Invalid client secret provided.") });
  await rejects(bad.source.get(dest({ secret: "S" })));
  await rejects(bad.source.get(dest({ secret: "S" })));
  assert.equal(bad.calls.length, 1, "one token request per failure period, not one per API request");
  bad.clock.t += 30_001;
  await rejects(bad.source.get(dest({ secret: "S" })));
  assert.equal(bad.calls.length, 2);
  void clock;
});

test("a refresh that fails transiently keeps the still-valid token", async () => {
  let n = 0;
  const { source, clock } = setup({ answer: () => (++n === 1 ? ok("first") : res(503, "")) });
  const d = dest({ secret: "S" });
  await source.get(d);
  clock.t = T0 + 3599_000 - REFRESH_MARGIN_MS + 1;
  assert.equal(await source.get(d), "first");
  clock.t = T0 + 3599_000 - 10_000;
  const err = await rejects(source.get(d));
  assert.equal(err.transient, true);
});

// ---- log ----

test("log: JSON lines; credential keys redacted (URL keys kept); registered secrets scrubbed everywhere", () => {
  const lines = [];
  const log = createLogger((l) => lines.push(l), { level: "info", fields: { host: "cli" }, now: () => T0 });
  log.addSecret("s3cr3t-value-xyz");
  log.addSecret("abc"); // too short to scrub safely: ignored
  log.debug("hidden");
  log.info("got s3cr3t-value-xyz back", {
    token_url: "https://login.test/t/oauth2/v2.0/token",
    authorization: "Bearer abc.def",
    client_secret: "x",
    nested: { access_token: "y", note: "the value s3cr3t-value-xyz leaked", list: ["s3cr3t-value-xyz"] },
    Cookie: "a=b",
    signature: "sig",
    assertion: "jwt",
    password: "p",
    count: 3,
  });
  log.child({ request: "r1" }).warn("child", { error: new Error("boom s3cr3t-value-xyz") });
  assert.equal(lines.length, 2);
  const first = JSON.parse(lines[0]);
  assert.deepEqual(first, {
    ts: new Date(T0).toISOString(),
    level: "info",
    msg: "got [redacted] back",
    host: "cli",
    token_url: "https://login.test/t/oauth2/v2.0/token",
    authorization: "[redacted]",
    client_secret: "[redacted]",
    nested: { access_token: "[redacted]", note: "the value [redacted] leaked", list: ["[redacted]"] },
    Cookie: "[redacted]",
    signature: "[redacted]",
    assertion: "[redacted]",
    password: "[redacted]",
    count: 3,
  });
  const second = JSON.parse(lines[1]);
  assert.equal(second.request, "r1");
  assert.equal(second.error.message, "boom [redacted]");
  assert.ok(lines.every((l) => !l.includes("s3cr3t-value-xyz")));
});
