// The wasm package's public API (SPEC §7) exactly as JS callers use it: names, argument forms,
// JSON-compatible outputs, thrown errors with stable codes. Run by `make test` after `make build`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";

import { loadPkg, repoRoot } from "./load.mjs";

const pkg = await loadPkg();
const fixtures = new URL("tests/fixtures/decode/", repoRoot);

/** Asserts a value is plain JSON: no Map, no undefined, no class instances, survives a round trip. */
function assertPlainJson(value) {
  const walk = (v, where) => {
    if (v === null || ["string", "number", "boolean"].includes(typeof v)) return;
    assert.ok(typeof v === "object", `${where}: ${typeof v} is not JSON`);
    assert.ok(!(v instanceof Map), `${where}: an ES Map`);
    const proto = Object.getPrototypeOf(v);
    assert.ok(proto === Object.prototype || proto === Array.prototype, `${where}: not a plain object/array`);
    for (const [k, child] of Object.entries(v)) {
      assert.notEqual(child, undefined, `${where}.${k} is undefined`);
      walk(child, `${where}.${k}`);
    }
  };
  walk(value, "$");
  assert.deepEqual(JSON.parse(JSON.stringify(value)), value);
}

function thrown(fn) {
  try {
    fn();
  } catch (err) {
    return err;
  }
  assert.fail("expected a throw");
}

test("exports exactly the documented functions", () => {
  for (const name of ["version", "parsePattern", "decode", "Relay"]) {
    assert.equal(typeof pkg[name], "function", name);
  }
});

test("parsePattern returns the tree, the observables and atomicity", () => {
  const r = pkg.parsePattern("[ipv4-addr:value = '198.51.100.7'] OR [domain-name:value = 'Evil.Example.']");
  assertPlainJson(r);
  assert.equal(r.atomic, true);
  assert.deepEqual(r.observables, [
    { type: "ipv4", value: "198.51.100.7" },
    { type: "domain", value: "evil.example" },
  ]);
  assert.equal(typeof r.tree.kind, "string");
  assert.equal(r.canonical, "[ipv4-addr:value = '198.51.100.7'] OR [domain-name:value = 'Evil.Example.']");
  assert.deepEqual(r.errors, []);

  const nt = pkg.parsePattern("[network-traffic:dst_ref.value = '203.0.113.7' AND network-traffic:dst_port = 443]");
  assert.deepEqual(nt.observables, [{ type: "ipv4", value: "203.0.113.7", port: 443 }]);

  const compound = pkg.parsePattern("[file:name = 'a.exe'] FOLLOWEDBY [ipv4-addr:value = '1.2.3.4']");
  assert.equal(compound.atomic, false);
  assert.deepEqual(compound.observables, []);
  assert.match(compound.reason, /FOLLOWEDBY/);
});

test("parsePattern throws code pattern with the offset", () => {
  const err = thrown(() => pkg.parsePattern("[ipv4-addr:value = '1.2.3.4'"));
  assert.ok(err instanceof Error);
  assert.equal(err.code, "pattern");
  assert.equal(err.offset, 28);
  assert.equal(err.message, "expected `]`, found end of input at offset 28");
  // The instance stays usable after a throw.
  assert.equal(pkg.parsePattern("[url:value = 'http://x.test/']").atomic, true);
  assert.equal(thrown(() => pkg.parsePattern(42)).code, "options");
  assert.equal(thrown(() => pkg.parsePattern("[x:y = 1]", { specVersion: "3.0" })).code, "options");
});

test("parsePattern follows the 2.0 rules on request", () => {
  assert.equal(thrown(() => pkg.parsePattern("[EXISTS file:name]", { specVersion: "2.0" })).code, "pattern");
  assert.equal(pkg.parsePattern("[EXISTS file:name]").atomic, false);
});

test("decode: raw text and a parsed value give the same result", () => {
  const text = readFileSync(new URL("stix_bundle.json", fixtures), "utf8");
  const fromText = pkg.decode(text);
  const fromValue = pkg.decode(JSON.parse(text));
  assertPlainJson(fromText);
  assert.deepEqual(fromValue, fromText);
  assert.equal(fromText.format, "stix");
  assert.ok(fromText.items.length > 0 && fromText.errors.length > 0);
  for (const e of fromText.errors) {
    assert.deepEqual(Object.keys(e).sort(), ["code", "index", "message", "path"]);
  }
});

test("decode matches the Rust golden files for every fixture", () => {
  for (const name of readdirSync(fixtures).filter((n) => /\.(json|sse)$/.test(n) && !n.endsWith(".decoded.json"))) {
    const input = readFileSync(new URL(name, fixtures), "utf8");
    const golden = JSON.parse(readFileSync(new URL(name.replace(/\.(json|sse)$/, ".decoded.json"), fixtures), "utf8"));
    assert.deepEqual(pkg.decode(input), golden, name);
  }
});

test("decode: options.format forces a format; unknown options and formats throw", () => {
  const tc = '[{"type":"Address","ip":"198.51.100.1"}]';
  assert.equal(pkg.decode(tc, { format: "threatconnect" }).items[0].observable.value, "198.51.100.1");
  assert.equal(thrown(() => pkg.decode(tc, { format: "csv" })).code, "options");
  const typo = thrown(() => pkg.decode(tc, { fromat: "stix" }));
  assert.equal(typo.code, "options");
  assert.equal(typo.path, "options.fromat");
  assert.equal(pkg.decode(tc, undefined).format, "threatconnect");
  assert.equal(pkg.decode(tc, null).format, "threatconnect");
});

test("decode: whole-payload failures throw with stable codes and leave the instance usable", () => {
  assert.equal(thrown(() => pkg.decode("{nope")).code, "json");
  assert.equal(thrown(() => pkg.decode('{"hello":"world"}')).code, "shape");
  assert.equal(thrown(() => pkg.decode("[1,2,3]", { maxBytes: 3 })).code, "too_large");
  assert.equal(thrown(() => pkg.decode(undefined)).code, "shape");
  assert.equal(thrown(() => pkg.decode({ big: 1n })).code, "json");
  assert.deepEqual(pkg.decode("[]"), { format: "stix", items: [], errors: [] });
  assert.deepEqual(pkg.decode({ type: "bundle", id: "bundle--1", objects: [] }), { format: "stix", items: [], errors: [] });
});

test("decode: item errors carry index, path, code and message", () => {
  const r = pkg.decode([
    { type: "ipv4-addr", value: "198.51.100.1" },
    { type: "indicator", id: "indicator--1", pattern: "[ipv4-addr:value = '1.2.3.4'", pattern_type: "stix" },
  ]);
  assert.equal(r.items.length, 1);
  assert.deepEqual(r.errors, [
    { index: 1, path: "[1].pattern", code: "pattern", message: "expected `]`, found end of input at offset 28" },
  ]);
});

test("TypeScript definitions ship with the package", () => {
  const dts = readFileSync(new URL("pkg/ti_relay.d.ts", repoRoot), "utf8");
  for (const name of ["export function version(): string", "export function parsePattern(", "export function decode(", "interface Indicator", "interface DecodeResult", "interface PatternReport", "interface RelayError"]) {
    assert.ok(dts.includes(name), `${name} missing from pkg/ti_relay.d.ts`);
  }
});

const minimalConfig = {
  destinations: [
    {
      name: "sentinel-prod",
      type: "sentinel",
      tenant: "contoso.onmicrosoft.com",
      client_id: "11111111-2222-3333-4444-555555555555",
      credential: { secret: "SENTINEL_CLIENT_SECRET" },
      sentinel: { workspace_id: "66666666-7777-8888-9999-000000000000" },
    },
  ],
};

test("new Relay(config) validates; the effective config has defaults and endpoints", () => {
  const relay = new pkg.Relay(minimalConfig);
  const effective = relay.config;
  assertPlainJson(effective);
  assert.equal(effective.destinations[0].name, "sentinel-prod");
  assert.equal(effective.destinations[0].endpoint.api_base_url, "https://api.ti.sentinel.azure.com");
  assert.deepEqual(new pkg.Relay(JSON.stringify(minimalConfig)).config, effective);
});

test("new Relay throws code config with every problem; validateConfig returns them", () => {
  const bad = structuredClone(minimalConfig);
  bad.destinations[0].credential = { secret: "Abc8Q~verySecretLookingValue1234567890xyz" };
  bad.destinations[0].sentinel.workspace_id = "nope";
  bad.policy = { min_scroe: 50 };
  const err = thrown(() => new pkg.Relay(bad));
  assert.equal(err.code, "config");
  assert.ok(Array.isArray(err.errors) && err.errors.length === 3, JSON.stringify(err.errors));
  for (const e of err.errors) assert.deepEqual(Object.keys(e).sort(), ["message", "path"]);
  assert.ok(!JSON.stringify(err.errors).includes("verySecretLooking"), "a secret value was echoed");
  assert.ok(!err.message.includes("verySecretLooking"), "a secret value was echoed");
  assert.deepEqual(pkg.Relay.validateConfig(bad), { errors: err.errors });
  assert.deepEqual(pkg.Relay.validateConfig(minimalConfig), { errors: [] });
  assert.equal(thrown(() => new pkg.Relay(undefined)).code, "config");
});
