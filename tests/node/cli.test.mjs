// The command line (worker/cli/ti-relay.mjs) as users run it: a child process (`node
// worker/cli/ti-relay.mjs …`) against the Microsoft emulator running in this test process, on
// loopback. Usage and configuration errors, a dry run, 10k-indicator pushes to Sentinel and Defender
// (exact counts, exactly those indicators in the emulator, no 429), the Defender quota, injected
// faults (nothing lost, nothing duplicated, dead letters replayed) and Ctrl-C.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { startEmulator } from "../../emulator/server.mjs";

const CLI = fileURLToPath(new URL("../../worker/cli/ti-relay.mjs", import.meta.url));
const EXAMPLES = fileURLToPath(new URL("../../examples/", import.meta.url));
const CLIENT_ID = "00000000-0000-4000-8000-00000000c0de";
const WORKSPACE = "11111111-2222-3333-4444-555555555555";
const SECRET_ENV = { EMULATOR_CLIENT_SECRET: "emulator-dev-secret" };

// ---------------------------------------------------------------- helpers

/**
 * Runs the CLI in a child process. `onSpawn(child)` may signal it. Resolves with the exit status and
 * both streams; the child is killed if it outlives `timeoutMs`.
 */
function runCli(args, { cwd, env = {}, input, timeoutMs = 30_000, onSpawn } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd,
      // Only what the run needs: no secret of this machine's environment leaks into the CLI.
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(input ?? "");
    onSpawn?.(child);
  });
}

/** A temporary directory, removed after the test. */
function tempDir(t) {
  const dir = mkdtempSync(join(tmpdir(), "ti-relay-cli-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** An emulator for one test, closed after it. */
async function emulator(t, options = {}) {
  const emu = await startEmulator({ port: 0, seed: 7, ...options });
  t.after(() => emu.close());
  return emu;
}

/** A configuration pointed at `emu`: a Sentinel workspace and/or a Defender tenant. */
function config(emu, { sentinel = true, defender = true, defenderSettings } = {}) {
  const at = { tenant: "contoso.onmicrosoft.com", client_id: CLIENT_ID, credential: { secret: "EMULATOR_CLIENT_SECRET" }, login_base_url: emu.url, api_base_url: emu.url };
  return {
    source_system: "ti-relay-cli-test",
    destinations: [
      ...(sentinel ? [{ name: "sentinel", type: "sentinel", ...at, sentinel: { workspace_id: WORKSPACE } }] : []),
      ...(defender ? [{ name: "defender", type: "defender", ...at, ...(defenderSettings ? { defender: defenderSettings } : {}) }] : []),
    ],
  };
}

const uuid = (name) => {
  const h = createHash("sha1").update(name).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
};
const ipv4 = (i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

/** A STIX 2.1 bundle of `n` indicators of distinct IPv4 addresses; returns its text and the values. */
function stixBundle(n, tag = "cli") {
  const values = Array.from({ length: n }, (_, i) => ipv4(i));
  const objects = values.map((value, i) => ({
    type: "indicator",
    spec_version: "2.1",
    id: `indicator--${uuid(`${tag}-${i}`)}`,
    created: "2026-01-01T00:00:00.000Z",
    modified: "2026-01-01T00:00:00.000Z",
    name: value,
    pattern: `[ipv4-addr:value = '${value}']`,
    pattern_type: "stix",
    valid_from: "2026-01-01T00:00:00.000Z",
  }));
  return { text: JSON.stringify({ type: "bundle", id: `bundle--${uuid(tag)}`, objects }), values };
}

/** Writes the files of one run into `dir`. */
function files(dir, { cfg, bundle }) {
  const out = {};
  if (cfg) writeFileSync((out.config = join(dir, "config.json")), JSON.stringify(cfg, null, 2));
  if (bundle) writeFileSync((out.bundle = join(dir, "bundle.json")), bundle);
  out.dead = join(dir, "dead.jsonl");
  return out;
}

/** The emulator's Sentinel objects of the workspace and Defender indicators of our app. */
function held(emu) {
  const state = emu.state();
  const objects = Object.entries(state.sentinel[WORKSPACE] ?? {});
  const ours = state.defender.filter((i) => i.createdBy === CLIENT_ID);
  return { state, objects, ours };
}

const readDead = (path) => (existsSync(path) ? readFileSync(path, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l)) : []);

const parseSummary = (run) => {
  try {
    return JSON.parse(run.stdout);
  } catch {
    assert.fail(`stdout is not the JSON summary (exit ${run.code}):\n${run.stdout}\n--- stderr:\n${run.stderr}`);
  }
};

// ---------------------------------------------------------------- usage, configuration, plan

test("usage errors: exit 1, one clear sentence and the usage line on stderr, nothing on stdout", async (t) => {
  const dir = tempDir(t);
  const { bundle } = files(dir, { bundle: stixBundle(3).text });
  const cases = [
    [[], /missing command: expected `plan`, `push` or `replay`/],
    [["deliver", bundle], /unknown command `deliver`/],
    [["push"], /missing FILE: `ti-relay push FILE`/],
    [["plan", bundle, "other.json"], /unexpected argument `other.json`: one FILE per run/],
    [["plan", bundle, "--bogus"], /Unknown option '--bogus'/],
    [["plan", bundle, "--dead-letters", "x.jsonl"], /--dead-letters applies to push and replay only/],
    [["push", bundle, "--time-scale", "0"], /invalid --time-scale `0`: expected a number > 0/],
    [["push", bundle, "--request-timeout-ms", "1.5"], /invalid --request-timeout-ms `1.5`/],
    [["plan", bundle, "--format", "csv"], /invalid --format `csv`: expected one of stix, opencti, threatconnect, misp, envelope/],
    [["plan", bundle, "--defender-active", "many"], /invalid --defender-active `many`: expected a whole number ≥ 0/],
    [["replay", "-"], /replay needs a dead-letters file/],
  ];
  const runs = await Promise.all(cases.map(([args]) => runCli(args, { cwd: dir })));
  runs.forEach((run, i) => {
    const [args, message] = cases[i];
    assert.equal(run.code, 1, `${args.join(" ")}: ${run.stderr}`);
    assert.match(run.stderr, message, args.join(" "));
    assert.match(run.stderr, /^ti-relay: /);
    assert.equal(run.stdout, "", args.join(" "));
  });
  for (const i of [0, 1, 2, 4]) assert.match(runs[i].stderr, /usage: node worker\/cli\/ti-relay\.mjs <plan\|push\|replay> FILE/);

  const help = await runCli(["--help"], { cwd: dir });
  assert.equal(help.code, 0);
  for (const word of ["plan FILE", "push FILE", "replay FILE", "--time-scale", "--request-timeout-ms", "exit status", "130"]) assert.ok(help.stdout.includes(word), word);

  // Inputs: no configuration anywhere, a missing payload, a payload that is not JSON.
  const none = await runCli(["plan", bundle], { cwd: dir });
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no configuration: pass --config FILE/);
  const cfgPath = join(dir, "c.json");
  writeFileSync(cfgPath, JSON.stringify({ destinations: [{ name: "s", type: "sentinel", tenant: "contoso.onmicrosoft.com", client_id: CLIENT_ID, credential: { secret: "S" }, sentinel: { workspace_id: WORKSPACE } }] }));
  const missing = await runCli(["plan", join(dir, "nope.json"), "--config", cfgPath], { cwd: dir });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot read `.*nope\.json`: no such file/);
  writeFileSync(join(dir, "bad.json"), "{not json");
  const malformed = await runCli(["plan", join(dir, "bad.json"), "--config", cfgPath], { cwd: dir });
  assert.equal(malformed.code, 1);
  assert.match(malformed.stderr, /cannot plan `.*bad\.json` \(json\): /);
  // replay takes a dead-letters file, and says which lines are not dead letters.
  const notDead = await runCli(["replay", bundle, "--config", cfgPath], { cwd: dir });
  assert.equal(notDead.code, 1);
  assert.match(notDead.stderr, /`.*bundle\.json` is not a dead-letters file; nothing was sent:\n {2}line 1: no `request` with destination, url and items/);
  assert.ok(existsSync(bundle), "a file that is not replayed stays where it is");
});

test("bad configuration: exit 1 and every problem listed with its path; a missing secret stops the push before anything is sent", async (t) => {
  const dir = tempDir(t);
  const { bundle } = files(dir, { bundle: stixBundle(3).text });
  const bad = {
    source_systm: "x",
    policy: { min_scroe: 5 },
    destinations: [
      { name: "mde", type: "defender", tenant: "contoso.onmicrosoft.com", client_id: CLIENT_ID, credential: { secret: "Zq9~thisLooksLikeARealClientSecretValue123" }, defender: { quota_reserve: 20000 } },
      { name: "ws", type: "sentinel", tenant: "not a tenant", client_id: CLIENT_ID, credential: { secret: "S" } },
    ],
  };
  const cfgPath = join(dir, "bad-config.json");
  writeFileSync(cfgPath, JSON.stringify(bad));
  const run = await runCli(["plan", bundle, "--config", cfgPath], { cwd: dir });
  assert.equal(run.code, 1, run.stderr);
  assert.equal(run.stdout, "");
  const lines = run.stderr.trim().split("\n");
  const header = lines[0].match(/^ti-relay: the configuration `.*bad-config\.json` is invalid \((\d+) problems\):$/);
  assert.ok(header, lines[0]);
  const listed = lines.slice(1);
  assert.equal(listed.length, Number(header[1]));
  for (const path of ["source_systm", "policy.min_scroe", "destinations[0].credential.secret", "destinations[0].defender.quota_reserve", "destinations[1].tenant", "destinations[1].sentinel"]) {
    assert.ok(listed.some((l) => l.startsWith(`  ${path}: `)), `${path} not listed:\n${run.stderr}`);
  }
  assert.ok(!run.stderr.includes("thisLooksLikeARealClientSecretValue"), "the secret-looking value is never echoed");

  // Malformed JSON, from $TI_RELAY_CONFIG_FILE: one problem at `$`.
  writeFileSync(join(dir, "broken.json"), '{"destinations": [');
  const broken = await runCli(["plan", bundle], { cwd: dir, env: { TI_RELAY_CONFIG_FILE: join(dir, "broken.json") } });
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /is invalid \(1 problem\):\n {2}\$: malformed JSON/);

  // A valid configuration whose secret is not in the environment: exit 1, not one request sent.
  const emu = await emulator(t);
  const good = files(dir, { cfg: config(emu) });
  const push = await runCli(["push", bundle, "--config", good.config, "--dead-letters", good.dead], { cwd: dir });
  assert.equal(push.code, 1, push.stderr);
  assert.match(push.stderr, /missing secrets for the configuration `.*config\.json`; nothing was sent:/);
  assert.match(push.stderr, /destination `sentinel` needs the client secret `EMULATOR_CLIENT_SECRET`: set it in the environment or in an --env-file/);
  assert.match(push.stderr, /destination `defender` needs the client secret/);
  assert.deepEqual(emu.state().counters.requests, {});
  assert.ok(!existsSync(good.dead));
});

test("plan: the plan of a fixture as JSON on stdout (verdicts, exact requests), a one-line summary on stderr; stdin and --defender-active", async (t) => {
  const dir = tempDir(t);
  const example = join(EXAMPLES, "local-config.json");
  const fixture = join(EXAMPLES, "opencti-event.json");
  const run = await runCli(["plan", fixture, "--config", example, "--now", "2026-11-02T00:00:00Z"], { cwd: dir });
  assert.equal(run.code, 0, run.stderr);
  const plan = JSON.parse(run.stdout);
  assert.equal(plan.items.length, 1);
  const [item] = plan.items;
  assert.deepEqual(item.observable, { type: "domain", value: "login-microsoft-verify.example" });
  assert.deepEqual(item.verdicts.map((v) => [v.destination, v.verdict]), [["sentinel", "upsert"], ["defender", "upsert"], ["graph", "upsert"]]);
  assert.deepEqual(plan.requests.map((r) => r.op), ["sentinel-upload", "defender-import", "graph-submit"]);
  for (const request of plan.requests) {
    assert.ok(request.url.startsWith("http://127.0.0.1:8788/"), request.url);
    assert.deepEqual(request.items, [item.key]);
    JSON.parse(request.body);
  }
  assert.ok(JSON.parse(plan.requests[1].body).Indicators[0].action === "Block", "score 85 → Block (the example's policy)");
  assert.deepEqual(plan.errors, []);
  assert.match(run.stderr, /^ti-relay: planned `.*opencti-event\.json`: 1 items, 0 decode errors; sentinel: 1 upsert, 0 remove, 0 skip; defender: 1 upsert/);
  assert.ok(!run.stderr.includes("emulator-dev-secret"));

  // The same from stdin, byte for byte; --quiet leaves stderr empty.
  const piped = await runCli(["plan", "-", "--config", example, "--now", "2026-11-02T00:00:00Z", "--quiet"], { cwd: dir, input: readFileSync(fixture) });
  assert.equal(piped.code, 0, piped.stderr);
  assert.equal(piped.stdout, run.stdout);
  assert.equal(piped.stderr, "");

  // The Defender quota: 15,000 active already → the Defender verdict is a skip with reason `quota`.
  const full = await runCli(["plan", fixture, "--config", example, "--defender-active", "defender=15000", "--quiet"], { cwd: dir });
  assert.equal(full.code, 0, full.stderr);
  const quota = JSON.parse(full.stdout).items[0].verdicts.find((v) => v.destination === "defender");
  assert.equal(quota.verdict, "skip");
  assert.equal(quota.reason, "quota");

  // --format forces the decoder (the core decides; an OpenCTI event read as MISP is not MISP).
  const forced = await runCli(["plan", fixture, "--config", example, "--format", "misp"], { cwd: dir });
  assert.equal(forced.code, 1, forced.stdout);
  assert.match(forced.stderr, /^ti-relay: (cannot plan `.*opencti-event\.json` \(\w+\)|--format): /);
});

// ---------------------------------------------------------------- push

test("push: a 10k-indicator STIX bundle to Sentinel and Defender — 10,000 accepted each, exactly those in the emulator, no 429", async (t) => {
  const scale = 60;
  const emu = await emulator(t, { timeScale: scale });
  const dir = tempDir(t);
  const { text, values } = stixBundle(10_000);
  const f = files(dir, { cfg: config(emu), bundle: text });
  const started = Date.now();
  const logPath = join(dir, "push.log");
  const run = await runCli(["push", f.bundle, "--config", f.config, "--dead-letters", f.dead, "--time-scale", String(scale), "--defender-active", "0", "--log", logPath], { cwd: dir, env: SECRET_ENV });
  assert.equal(run.code, 0, run.stderr);
  const summary = parseSummary(run);
  const expected = { upsert: 10_000, remove: 0, skip: 0, accepted: 10_000, rejected: 0, failed: 0, pending: 0, dry_run: 0 };
  assert.deepEqual(summary.destinations, { sentinel: expected, defender: expected });
  assert.deepEqual(summary.totals, { accepted: 20_000, rejected: 0, failed: 0, pending: 0, dry_run: 0, skipped: 0 });
  // 100 uploads of 100 objects and 20 imports of 500: one window of each class, no retry.
  assert.equal(summary.requests, 120);
  assert.deepEqual(summary.responses_by_status, { 200: 120 });
  assert.equal(summary.retries, 0);
  assert.equal(summary.throttled_429, 0);
  assert.equal(summary.time_scale, scale);
  assert.deepEqual(summary.dead_letters, { file: f.dead, records: 0, items: 0 });
  assert.ok(!existsSync(f.dead), "no dead letters, no file");
  // Real seconds: the run took less than the test's own measure of it.
  assert.ok(summary.elapsed_s <= (Date.now() - started) / 1000 + 0.1, `${summary.elapsed_s}`);
  assert.ok(summary.rate_per_s > 0);
  // The progress bar's final line.
  assert.match(run.stderr, /\[#{20}\] 20,000\/20,000 · 0:\d\d elapsed · [\d,]+\/s · sent 20,000 · skipped 0 · failed 0 · throttled 0:00\n$/);

  // The delivery log: one line per request, the secret and the tokens nowhere.
  const log = readFileSync(logPath, "utf8");
  assert.equal(log.split("\n").filter((l) => l.includes('"msg":"request"')).length, 120);
  assert.ok(!log.includes("emulator-dev-secret") && !/eyJ[\w-]+\.eyJ/.test(log), "no secret or token in the log");

  const { state, objects, ours } = held(emu);
  assert.equal(objects.length, 10_000);
  const patterns = new Set(objects.map(([, o]) => o.latest.pattern));
  for (const value of values) assert.ok(patterns.has(`[ipv4-addr:value = '${value}']`), value);
  assert.ok(objects.every(([, o]) => o.versions.length === 1 && o.versions[0].sourcesystem === "ti-relay-cli-test"));
  assert.equal(ours.length, 10_000);
  assert.deepEqual(new Set(ours.map((i) => i.indicatorValue)), new Set(values));
  assert.ok(ours.every((i) => i.application === "ti-relay" && i.indicatorType === "IpAddress"));
  assert.deepEqual(state.counters.throttled.natural, {});
  assert.equal(state.counters.stale_modified, 0);
});

test("push: the Defender quota — 12,000 active in the tenant leave room for 3,000 of 10,000; the cap is never hit", async (t) => {
  const emu = await emulator(t, { timeScale: 60 });
  // 12,000 indicators another app created (they count against the tenant's 15,000).
  for (let i = 0; i < 12_000; i += 1) emu.seedDefender({ indicatorValue: `foreign-${i}.example`, indicatorType: "DomainName", action: "Audit", generateAlert: true, title: "t", description: "d" });
  const dir = tempDir(t);
  const { text, values } = stixBundle(10_000, "quota");
  const f = files(dir, { cfg: config(emu, { sentinel: false }), bundle: text });
  // The secret from an --env-file this time.
  const envFile = join(dir, ".env");
  writeFileSync(envFile, "# the emulator's development app\nEMULATOR_CLIENT_SECRET=\"emulator-dev-secret\"\n");
  const run = await runCli(["push", f.bundle, "--config", f.config, "--dead-letters", f.dead, "--time-scale", "60", "--defender-active", "12000", "--quiet", "--env-file", envFile], { cwd: dir });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, "", "--quiet: nothing on stderr");
  const summary = parseSummary(run);
  assert.deepEqual(summary.destinations.defender, {
    upsert: 3000, remove: 0, skip: 7000, skipped: { quota: 7000 },
    accepted: 3000, rejected: 0, failed: 0, pending: 0, dry_run: 0,
  });
  assert.equal(summary.requests, 6);
  const { state, ours } = held(emu);
  // Unscored indicators go in payload order: the first 3,000.
  assert.deepEqual(ours.map((i) => i.indicatorValue).sort(), values.slice(0, 3000).sort());
  assert.equal(state.defender.length, 15_000);
  assert.deepEqual(state.counters.throttled.natural, {});
});

test("push with injected faults (503, 429, timeouts, resets, partial failures): every item accepted or in the dead letters with its reason — none lost, none duplicated; replay delivers the rest", async (t) => {
  const scale = 60;
  const emu = await emulator(t, { timeScale: scale });
  const rules = [];
  for (const route of ["sentinel-upload", "defender-import"]) {
    rules.push(
      { match: { route }, kind: "503", rate: 0.06 },
      { match: { route }, kind: "429", rate: 0.05 },
      { match: { route }, kind: "timeout", rate: 0.04, delayMs: 4000 },
      { match: { route }, kind: "reset", rate: 0.02 },
      { match: { route }, kind: "partial", rate: 0.05 },
    );
  }
  emu.setFaults({ seed: 11, rules });
  const dir = tempDir(t);
  const { text, values } = stixBundle(10_000, "faults");
  const f = files(dir, { cfg: config(emu), bundle: text });
  const args = ["--config", f.config, "--dead-letters", f.dead, "--time-scale", String(scale), "--request-timeout-ms", "2500", "--max-attempts", "2"];
  const run = await runCli(["push", f.bundle, ...args], { cwd: dir, env: SECRET_ENV, timeoutMs: 45_000 });
  const summary = parseSummary(run);
  const dead = readDead(f.dead);
  assert.equal(run.code, dead.length > 0 ? 2 : 0, run.stderr);
  const injected = emu.state().faults.injected;
  assert.ok(injected.length >= 10, `faults fired: ${injected.length}`);
  assert.ok(summary.retries > 0);
  assert.ok(summary.responses_by_status["0"] > 0, "timeouts and resets are transport failures");

  // Every dead letter: a reason, a message, its keys with their values, and the request narrowed to them.
  const deadKeys = { sentinel: new Set(), defender: new Set() };
  for (const d of dead) {
    assert.ok(["failed", "rejected"].includes(d.reason), d.reason);
    assert.ok(d.message.length > 0);
    assert.equal(d.keys.length, d.values.length);
    assert.deepEqual(d.request.items, d.keys);
    assert.equal(d.request.destination, d.destination);
    for (const k of d.keys) {
      assert.ok(!deadKeys[d.destination].has(k), `${k} is dead twice`);
      deadKeys[d.destination].add(k);
    }
  }
  assert.equal(summary.dead_letters.records, dead.length);

  const check = () => {
    const { state, objects, ours } = held(emu);
    // Sentinel: one object per id, each stored once (a duplicate would be a stale version).
    assert.equal(state.counters.stale_modified, 0);
    assert.ok(objects.every(([, o]) => o.versions.length === 1));
    // Defender: one indicator per value for our app.
    assert.equal(new Set(ours.map((i) => i.indicatorValue)).size, ours.length);
    assert.deepEqual(state.counters.throttled.natural, {}, "429s come only from the fault rules");
    return { objects, ours };
  };
  const first = check();
  // None lost: what the emulator holds plus what is dead is everything, with no overlap.
  for (const [name, heldCount] of [["sentinel", first.objects.length], ["defender", first.ours.length]]) {
    assert.equal(summary.destinations[name].accepted, heldCount, name);
    assert.equal(summary.destinations[name].rejected + summary.destinations[name].failed, deadKeys[name].size, name);
    assert.equal(heldCount + deadKeys[name].size, 10_000, `${name}: ${heldCount} held + ${deadKeys[name].size} dead`);
  }
  const deadValues = new Set(dead.filter((d) => d.destination === "defender").flatMap((d) => d.values));
  for (const i of first.ours) assert.ok(!deadValues.has(i.indicatorValue), `${i.indicatorValue} held and dead`);

  // Replay the dead letters without faults: all delivered; the file then holds nothing.
  emu.setFaults({ rules: [] });
  const again = await runCli(["replay", f.dead, "--config", f.config, "--time-scale", String(scale)], { cwd: dir, env: SECRET_ENV });
  assert.equal(again.code, 0, again.stderr);
  const replayed = parseSummary(again);
  assert.equal(replayed.records, dead.length);
  assert.equal(replayed.totals.accepted, deadKeys.sentinel.size + deadKeys.defender.size);
  assert.ok(!existsSync(f.dead) || readDead(f.dead).length === 0);
  assert.ok(readdirSync(dir).some((name) => name.startsWith("dead.jsonl.replayed-")), "the replayed records are kept aside");
  const final = check();
  assert.equal(final.objects.length, 10_000);
  assert.deepEqual(new Set(final.ours.map((i) => i.indicatorValue)), new Set(values));
});

test("push interrupted (SIGINT): exit 130, the summary says so, the rest is `pending` in the dead letters; replay finishes it", async (t) => {
  // 15,000 objects = 150 Sentinel uploads: 100 go at once, the rest wait for the next window
  // (61.2 emulated s = 2 real s at scale 30) — the moment to press Ctrl-C.
  const scale = 30;
  const emu = await emulator(t, { timeScale: scale });
  const dir = tempDir(t);
  const { text } = stixBundle(15_000, "interrupt");
  const f = files(dir, { cfg: config(emu, { defender: false }), bundle: text });
  const args = ["--config", f.config, "--dead-letters", f.dead, "--time-scale", String(scale)];
  const run = await runCli(["push", f.bundle, ...args], {
    cwd: dir,
    env: SECRET_ENV,
    onSpawn: (child) => {
      const poll = setInterval(() => {
        if (Object.keys(emu.state().sentinel[WORKSPACE] ?? {}).length >= 10_000) {
          clearInterval(poll);
          child.kill("SIGINT");
        }
      }, 10);
      child.on("close", () => clearInterval(poll));
    },
  });
  assert.equal(run.code, 130, run.stderr);
  assert.match(run.stderr, /SIGINT: stopping; requests not confirmed go to .*dead\.jsonl as "pending"/);
  const summary = parseSummary(run);
  assert.equal(summary.interrupted, "SIGINT");
  const heldNow = held(emu).objects.length;
  assert.equal(summary.destinations.sentinel.accepted, heldNow);
  assert.equal(summary.destinations.sentinel.pending, 15_000 - heldNow);
  const dead = readDead(f.dead);
  assert.ok(dead.length > 0 && dead.every((d) => d.reason === "pending"));
  assert.equal(dead.reduce((n, d) => n + d.keys.length, 0), 15_000 - heldNow);

  // The replay shares no pacing state with the interrupted run: the emulator's window may still be
  // full, so a 429 here is possible and retried; what matters is that everything arrives once.
  const again = await runCli(["replay", f.dead, "--config", f.config, "--time-scale", String(scale)], { cwd: dir, env: SECRET_ENV });
  assert.equal(again.code, 0, again.stderr);
  const { state, objects } = held(emu);
  assert.equal(objects.length, 15_000);
  assert.equal(state.counters.stale_modified, 0);
});
