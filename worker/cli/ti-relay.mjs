#!/usr/bin/env node
// The ti-relay command line (SPEC §8): dry runs and backfills through the shared delivery loop
// (worker/lib). `plan` prints what the core decided; `push` sends it, paced under each API's rate
// limits, with a progress bar on stderr, a JSON summary on stdout and dead letters in a file;
// `replay` sends the requests of a dead-letter file again. The usage text below is the reference.

import { appendFileSync, existsSync, readFileSync, renameSync } from "node:fs";
import { resolve as resolvePath } from "node:path";
import { parseArgs, parseEnv } from "node:util";

import { createDelivery, createLocalBudget, createLogger, reserve as reserveIn, silentLogger } from "../lib/index.mjs";
import { envSecrets, loadPkg, scaledClock } from "../node/host.mjs";

export const USAGE = `usage: node worker/cli/ti-relay.mjs <command> FILE [options]

commands:
  plan FILE      dry run: print the plan as JSON on stdout (every item with its verdict and
                 reason per destination, the exact HTTP requests and bodies, decode errors);
                 sends nothing and needs no secrets
  push FILE      deliver FILE through the delivery loop, paced under each API's rate limits:
                 a progress bar on stderr, a JSON summary on stdout, and what ends rejected or
                 failed appended to the dead-letters file as JSON lines
  replay FILE    send the requests recorded in a dead-letters file again; FILE is first renamed
                 to FILE.replayed-<time>, and what fails again is appended to --dead-letters

FILE is a payload in any supported format (a STIX 2.x bundle, OpenCTI events, ThreatConnect,
MISP, an envelope), or - for stdin.

options:
  --config FILE             the configuration (JSON, docs/configuration.md); default:
                            $TI_RELAY_CONFIG_FILE, else the JSON text in $TI_RELAY_CONFIG,
                            else ./ti-relay.json
  --env-file FILE           read secrets from a .env file (KEY=value lines); variables already
                            in the environment win. Secrets are looked up by the names the
                            configuration gives (credential.secret / credential.certificate)
  --format NAME             force the input format: stix, opencti, threatconnect, misp, envelope
  --now RFC3339             plan as of this time [default: the current time]
  --defender-active N       the Defender tenant's current count of active indicators: turns on
                            the 15,000-indicator quota (minus defender.quota_reserve); the
                            lowest-priority indicators beyond it are skipped with reason "quota".
                            NAME=N for one destination; repeat for several
push and replay only:
  --dead-letters FILE       append what ends rejected, failed or (interrupted) pending here, one
                            JSON record per line, with the request to replay
                            [default: ti-relay-dead-letters.jsonl; for replay: FILE]
  --log FILE                append the delivery log (JSON lines, secrets redacted) to FILE
  --log-level LEVEL         debug, info, warn or error [default: info]
  --request-timeout-ms MS   give up on one HTTP request after MS real milliseconds (it is then
                            retried) [default: 30000]
  --max-attempts N          attempts per item before it fails into the dead letters [default: 6]
  --time-scale S            run the clock S times faster: only to match a local Microsoft emulator
                            started with the same --time-scale [default: 1]
  --quiet                   no progress bar or notes on stderr (errors still go there)
  -h, --help                this text

exit status:
  0    done: every item planned for sending was accepted (items the policy skipped, dry-run
       destinations and payload objects that could not be decoded are counted in the output)
  1    usage, configuration, input or secret error: nothing was sent
  2    some items were rejected or failed: they are in the dead-letters file
  3    internal error
  130  interrupted (Ctrl-C, SIGTERM): what was not confirmed is in the dead-letters file as
       "pending"; replay it with \`replay\`
`;

const SHORT_USAGE = "usage: node worker/cli/ti-relay.mjs <plan|push|replay> FILE [options]   (--help: the options and exit codes)\n";

const PUSH_ONLY = ["dead-letters", "log", "log-level", "request-timeout-ms", "max-attempts", "time-scale"];
const FORMATS = ["stix", "opencti", "threatconnect", "misp", "envelope"];
const DEFAULT_DEAD_LETTERS = "ti-relay-dead-letters.jsonl";

class UsageError extends Error {
  /** @param {string} message @param {{usage?: boolean, details?: string[]}} [extra] */
  constructor(message, { usage = false, details = [] } = {}) {
    super(message);
    this.usage = usage;
    this.details = details;
  }
}

/**
 * Runs one command. Returns the exit status; throws only on an internal error.
 * @param {string[]} argv
 * @param {{stdout?: NodeJS.WritableStream, stderr?: NodeJS.WritableStream, stdin?: NodeJS.ReadableStream,
 *   env?: Record<string, string | undefined>, signals?: NodeJS.EventEmitter | null}} [io]
 */
export async function main(argv, { stdout = process.stdout, stderr = process.stderr, stdin = process.stdin, env = process.env, signals = process } = {}) {
  try {
    const args = parseCommandLine(argv);
    if (args.help) {
      stdout.write(USAGE);
      return 0;
    }
    const { command, file, values } = args;
    if (values["env-file"]) loadEnvFile(values["env-file"], env);
    const pkg = await loadPkg();
    const { relay, configName } = loadRelay(pkg, values.config, env);
    if (command === "replay") return await replay({ relay, configName, file, values, env, stdout, stderr, signals });

    const payload = await readPayload(file, stdin);
    const facts = planFacts(values, relay);
    let plan;
    try {
      plan = relay.plan(payload, facts);
    } catch (e) {
      throw planError(e, file);
    }
    if (command === "plan") {
      await writePlan(stdout, plan);
      if (!values.quiet) stderr.write(`${planLine(plan, file)}\n`);
      return 0;
    }
    checkSecrets(relay, plan.requests, env, configName);
    return await push({ relay, plan, file, values, env, stdout, stderr, signals });
  } catch (e) {
    if (e instanceof UsageError) {
      stderr.write(`ti-relay: ${e.message}\n`);
      for (const line of e.details) stderr.write(`  ${line}\n`);
      if (e.usage) stderr.write(SHORT_USAGE);
      return 1;
    }
    throw e;
  }
}

// ---------------------------------------------------------------- arguments and inputs

function parseCommandLine(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: "string" },
        "env-file": { type: "string" },
        format: { type: "string" },
        now: { type: "string" },
        "defender-active": { type: "string", multiple: true },
        "dead-letters": { type: "string" },
        log: { type: "string" },
        "log-level": { type: "string" },
        "request-timeout-ms": { type: "string" },
        "max-attempts": { type: "string" },
        "time-scale": { type: "string" },
        quiet: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    // parseArgs' own words ("Unknown option '--x'. To specify a positional argument starting with a
    // '-', place it at the end of the command after '--', as in '-- \"--x\"") with a pointer to the list.
    throw new UsageError(e.message.replace(/\. To specify a positional.*$/s, ""), { usage: true });
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true };
  const [command, file, ...rest] = positionals;
  if (!command) throw new UsageError("missing command: expected `plan`, `push` or `replay`", { usage: true });
  if (!["plan", "push", "replay"].includes(command)) {
    throw new UsageError(`unknown command \`${command}\`: expected \`plan\`, \`push\` or \`replay\``, { usage: true });
  }
  if (!file) throw new UsageError(`missing FILE: \`ti-relay ${command} FILE\``, { usage: true });
  if (rest.length > 0) throw new UsageError(`unexpected argument \`${rest[0]}\`: one FILE per run`, { usage: true });
  if (command === "plan") {
    const misplaced = PUSH_ONLY.find((name) => values[name] !== undefined);
    if (misplaced) throw new UsageError(`--${misplaced} applies to push and replay only: plan sends nothing`);
  }
  if (command === "replay") {
    const misplaced = ["format", "now", "defender-active"].find((name) => values[name] !== undefined);
    if (misplaced) throw new UsageError(`--${misplaced} applies to plan and push only: replay sends requests already planned`);
    if (file === "-") throw new UsageError("replay needs a dead-letters file, not stdin");
  }
  if (values.format !== undefined && !FORMATS.includes(values.format)) {
    throw new UsageError(`invalid --format \`${values.format}\`: expected one of ${FORMATS.join(", ")}`);
  }
  if (values["log-level"] !== undefined && !["debug", "info", "warn", "error"].includes(values["log-level"])) {
    throw new UsageError(`invalid --log-level \`${values["log-level"]}\`: expected debug, info, warn or error`);
  }
  const numbers = {
    timeScale: positiveNumber(values["time-scale"], "--time-scale", 1),
    requestTimeoutMs: positiveInteger(values["request-timeout-ms"], "--request-timeout-ms"),
    maxAttempts: positiveInteger(values["max-attempts"], "--max-attempts"),
    defenderCounts: defenderCounts(values["defender-active"]),
  };
  return { command, file, values: { ...values, ...numbers } };
}

function positiveNumber(text, flag, fallback) {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n <= 0) throw new UsageError(`invalid ${flag} \`${text}\`: expected a number > 0`);
  return n;
}

function positiveInteger(text, flag) {
  if (text === undefined) return undefined;
  if (!/^[1-9]\d{0,8}$/.test(text)) throw new UsageError(`invalid ${flag} \`${text}\`: expected a whole number ≥ 1`);
  return Number(text);
}

/** `--defender-active` values: one bare count, or NAME=N pairs (checked before anything is read). */
function defenderCounts(list) {
  if (!list?.length) return undefined;
  const bare = list.filter((a) => !a.includes("="));
  if (bare.length > 0 && list.length > 1) {
    throw new UsageError("--defender-active: give one N for every Defender destination, or NAME=N per destination, not both");
  }
  if (bare.length === 1) return { all: wholeNumber(bare[0], "--defender-active") };
  const byName = {};
  for (const pair of list) {
    const at = pair.indexOf("=");
    const name = pair.slice(0, at);
    if (name === "") throw new UsageError(`invalid --defender-active \`${pair}\`: expected N or NAME=N`);
    byName[name] = wholeNumber(pair.slice(at + 1), `--defender-active ${name}`);
  }
  return { byName };
}

/** The facts of the plan from the command line; the core checks them again (and says so). */
function planFacts(values, relay) {
  const facts = { now: values.now ?? new Date().toISOString() };
  if (values.format !== undefined) facts.format = values.format;
  const counts = values.defenderCounts;
  if (counts) {
    const defenders = relay.config.destinations.filter((d) => d.type === "defender").map((d) => d.name);
    facts.defenderActive = {};
    if (counts.all !== undefined) {
      // One count for every Defender destination, spelled out by name: the core's bare-number form
      // is not applied to any destination (src/plan.rs looks the count up by name only).
      for (const name of defenders) facts.defenderActive[name] = counts.all;
    } else {
      for (const [name, n] of Object.entries(counts.byName)) {
        if (!defenders.includes(name)) {
          throw new UsageError(`--defender-active ${name}=${n}: the configuration has no Defender destination \`${name}\`${defenders.length ? ` (it has ${defenders.map((d) => `\`${d}\``).join(", ")})` : ""}`);
        }
        facts.defenderActive[name] = n;
      }
    }
  }
  return facts;
}

function wholeNumber(text, flag) {
  if (!/^\d{1,9}$/.test(text)) throw new UsageError(`invalid ${flag} \`${text}\`: expected a whole number ≥ 0`);
  return Number(text);
}

/** The core's plan errors, told in the command line's terms. */
function planError(e, file) {
  const flags = { "facts.now": "--now", "facts.format": "--format", "facts.defenderActive": "--defender-active" };
  const flag = e.path && Object.entries(flags).find(([path]) => e.path === path || e.path.startsWith(`${path}.`))?.[1];
  if (flag) return new UsageError(`${flag}: ${e.message}`);
  if (e.code) return new UsageError(`cannot plan \`${file}\` (${e.code}): ${e.message}${e.path && !e.message.includes(e.path) ? ` (at \`${e.path}\`)` : ""}`);
  return e;
}

/** A .env file (Node's own parser): KEY=value lines, quotes, comments; variables already set win. */
function loadEnvFile(path, env) {
  let text;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read --env-file \`${path}\`: ${e.code === "ENOENT" ? "no such file" : e.message}`);
  }
  for (const [name, value] of Object.entries(parseEnv(text))) {
    if (env[name] === undefined) env[name] = value;
  }
}

/** The configuration (the same JSON document as the Worker's), checked by the core: every problem listed. */
function loadRelay(pkg, configFlag, env) {
  let text;
  let name;
  const path = configFlag ?? env.TI_RELAY_CONFIG_FILE;
  if (path !== undefined) {
    name = `\`${path}\``;
    try {
      text = readFileSync(path, "utf8");
    } catch (e) {
      const where = configFlag !== undefined ? "--config" : "$TI_RELAY_CONFIG_FILE";
      throw new UsageError(`cannot read the configuration ${name} (${where}): ${e.code === "ENOENT" ? "no such file" : e.message}`);
    }
  } else if (env.TI_RELAY_CONFIG !== undefined && env.TI_RELAY_CONFIG.trim() !== "") {
    name = "in $TI_RELAY_CONFIG";
    text = env.TI_RELAY_CONFIG;
  } else if (existsSync("ti-relay.json")) {
    name = "`ti-relay.json`";
    text = readFileSync("ti-relay.json", "utf8");
  } else {
    throw new UsageError("no configuration: pass --config FILE, or set TI_RELAY_CONFIG_FILE (or TI_RELAY_CONFIG), or put a ti-relay.json here");
  }
  try {
    return { relay: new pkg.Relay(text), configName: name };
  } catch (e) {
    if (e.code !== "config") throw e;
    const errors = e.errors ?? [];
    throw new UsageError(
      `the configuration ${name} is invalid (${errors.length} problem${errors.length === 1 ? "" : "s"}):`,
      { details: errors.length > 0 ? errors.map((err) => `${err.path}: ${err.message}`) : [e.message] },
    );
  }
}

async function readPayload(file, stdin) {
  if (file === "-") {
    const chunks = [];
    for await (const chunk of stdin) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
    return Buffer.concat(chunks).toString("utf8");
  }
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read \`${file}\`: ${e.code === "ENOENT" ? "no such file" : e.code === "EISDIR" ? "a directory" : e.message}`);
  }
}

/** Before anything is sent: every destination this run sends to has its credential in the environment. */
function checkSecrets(relay, requests, env, configName) {
  const used = new Set(requests.filter((r) => !r.dry_run).map((r) => r.destination));
  const problems = [];
  for (const dest of relay.config.destinations) {
    if (!used.has(dest.name)) continue;
    const credential = dest.credential ?? {};
    const name = credential.secret ?? credential.certificate;
    if (name !== undefined && (typeof env[name] !== "string" || env[name] === "")) {
      problems.push(`destination \`${dest.name}\` needs the ${credential.secret !== undefined ? "client secret" : "certificate (PEM key + certificate)"} \`${name}\`: set it in the environment or in an --env-file`);
    }
    if ("managed_identity" in credential && (!env.IDENTITY_ENDPOINT || !env.IDENTITY_HEADER)) {
      problems.push(`destination \`${dest.name}\` uses a managed identity: IDENTITY_ENDPOINT and IDENTITY_HEADER must be set (App Service / Azure Functions)`);
    }
  }
  if (problems.length > 0) {
    throw new UsageError(`missing secret${problems.length === 1 ? "" : "s"} for the configuration ${configName}; nothing was sent:`, { details: problems });
  }
}

// ---------------------------------------------------------------- plan

/**
 * The plan as one JSON document, one item / request / error per line (valid JSON, greppable, and
 * written in chunks: a 100k-indicator plan is ~170 MB of text).
 */
async function writePlan(stream, plan) {
  const out = chunkedWriter(stream);
  const list = async (name, values, last) => {
    await out.write(`  ${JSON.stringify(name)}: [`);
    for (let i = 0; i < values.length; i += 1) await out.write(`${i === 0 ? "" : ","}\n    ${JSON.stringify(values[i])}`);
    await out.write(`${values.length > 0 ? "\n  " : ""}]${last ? "" : ","}\n`);
  };
  await out.write("{\n");
  const keys = Object.keys(plan);
  const lists = ["items", "requests", "errors"].filter((k) => Array.isArray(plan[k]));
  const others = keys.filter((k) => !lists.includes(k));
  for (const k of others) await out.write(`  ${JSON.stringify(k)}: ${JSON.stringify(plan[k])},\n`);
  for (let i = 0; i < lists.length; i += 1) await list(lists[i], plan[lists[i]], i === lists.length - 1);
  await out.write("}\n");
  await out.end();
}

/** Buffers writes into ~1 MB chunks and waits for `drain`; a closed pipe (`| head`) ends quietly. */
function chunkedWriter(stream) {
  let buffer = "";
  let closed = false;
  stream.on?.("error", (e) => {
    if (e.code === "EPIPE") closed = true;
    else throw e;
  });
  const flush = () =>
    new Promise((resolve) => {
      if (closed || buffer === "") return resolve();
      const text = buffer;
      buffer = "";
      if (stream.write(text)) resolve();
      else stream.once("drain", resolve);
    });
  return {
    async write(text) {
      if (closed) return;
      buffer += text;
      if (buffer.length >= 1 << 20) await flush();
    },
    end: flush,
  };
}

/** Verdicts per destination: {upsert, remove, skip, skipped: {reason: n}}. */
function countVerdicts(plan) {
  const byDest = new Map();
  for (const item of plan.items) {
    for (const v of item.verdicts) {
      let d = byDest.get(v.destination);
      if (!d) byDest.set(v.destination, (d = { upsert: 0, remove: 0, skip: 0, skipped: {} }));
      d[v.verdict] += 1;
      if (v.verdict === "skip") d.skipped[v.reason ?? "unknown"] = (d.skipped[v.reason ?? "unknown"] ?? 0) + 1;
    }
  }
  return byDest;
}

function planLine(plan, file) {
  const fmt = (n) => n.toLocaleString("en-US");
  const parts = [...countVerdicts(plan)].map(([dest, v]) => {
    const skipped = Object.entries(v.skipped).map(([r, n]) => `${r} ${fmt(n)}`).join(", ");
    return `${dest}: ${fmt(v.upsert)} upsert, ${fmt(v.remove)} remove, ${fmt(v.skip)} skip${skipped ? ` (${skipped})` : ""}`;
  });
  const dry = plan.requests.filter((r) => r.dry_run).length;
  return `ti-relay: planned \`${file}\`: ${fmt(plan.items.length)} items, ${fmt(plan.errors.length)} decode errors; ` +
    `${parts.join("; ") || "no destination"}; ${fmt(plan.requests.length)} requests${dry ? ` (${fmt(dry)} dry run)` : ""}`;
}

// ---------------------------------------------------------------- push / replay

async function push({ relay, plan, file, values, env, stdout, stderr, signals }) {
  const verdicts = countVerdicts(plan);
  let skipped = 0;
  for (const v of verdicts.values()) skipped += v.skip;
  if (plan.errors.length > 0 && !values.quiet) {
    stderr.write(`ti-relay: ${plan.errors.length.toLocaleString("en-US")} object(s) of \`${file}\` could not be decoded and are not relayed (see "errors" in the summary)\n`);
  }
  const valueByKey = new Map();
  for (const item of plan.items) valueByKey.set(item.key, item.observable?.value ?? null);
  const deadPath = values["dead-letters"] ?? DEFAULT_DEAD_LETTERS;
  const run = await deliverAll({ relay, requests: plan.requests, values, env, stderr, signals, skipped, deadPath, valueOf: (k) => valueByKey.get(k) });

  const destinations = {};
  for (const [name, v] of verdicts) {
    destinations[name] = { upsert: v.upsert, remove: v.remove, skip: v.skip, ...(v.skip > 0 ? { skipped: v.skipped } : {}), ...run.outcomes(name) };
  }
  const summary = {
    command: "push",
    file,
    items: plan.items.length,
    decode_errors: plan.errors.length,
    ...(plan.errors.length > 0 ? { errors: plan.errors.slice(0, 20) } : {}),
    destinations,
    ...run.summary,
  };
  stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  return run.exitCode;
}

async function replay({ relay, configName, file, values, env, stdout, stderr, signals }) {
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read \`${file}\`: ${e.code === "ENOENT" ? "no such file" : e.message}`);
  }
  const records = [];
  const problems = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    try {
      const record = JSON.parse(line);
      const r = record?.request;
      if (!r || typeof r !== "object" || typeof r.destination !== "string" || !Array.isArray(r.items) || typeof r.url !== "string") {
        throw new Error("no `request` with destination, url and items");
      }
      if (!relay.config.destinations.some((d) => d.name === r.destination)) throw new Error(`destination \`${r.destination}\` is not in the configuration`);
      records.push(record);
    } catch (e) {
      problems.push(`line ${i + 1}: ${e instanceof SyntaxError ? `not JSON (${e.message})` : e.message}`);
    }
  });
  if (problems.length > 0) throw new UsageError(`\`${file}\` is not a dead-letters file; nothing was sent:`, { details: problems.slice(0, 20) });
  const requests = records.map((r) => r.request);
  checkSecrets(relay, requests, env, configName);
  const valueByKey = new Map();
  for (const r of records) (r.keys ?? []).forEach((k, i) => valueByKey.set(`${r.request.destination}\u0000${k}`, r.values?.[i] ?? null));
  // FILE keeps what is still dead: the records being replayed move aside first.
  const deadPath = values["dead-letters"] ?? file;
  let movedTo;
  if (resolvePath(deadPath) === resolvePath(file)) {
    movedTo = `${file}.replayed-${new Date().toISOString().replace(/[:.]/g, "-")}`;
    renameSync(file, movedTo);
  }
  const run = await deliverAll({
    relay, requests, values, env, stderr, signals, skipped: 0, deadPath,
    valueOf: (k, dest) => valueByKey.get(`${dest}\u0000${k}`) ?? null,
  });
  const summary = { command: "replay", file, records: records.length, ...(movedTo ? { replayed_records_moved_to: movedTo } : {}), destinations: {} };
  for (const name of new Set(requests.map((r) => r.destination))) summary.destinations[name] = run.outcomes(name);
  Object.assign(summary, run.summary);
  stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  return run.exitCode;
}

/**
 * Sends `requests` through the shared loop with the CLI's clock, budget, logger, progress bar and
 * signal handling; appends dead letters (and, when interrupted, what is pending).
 */
async function deliverAll({ relay, requests, values, env, stderr, signals, skipped, deadPath, valueOf }) {
  const clock = scaledClock(values.timeScale);
  const fileLog = values.log
    ? createLogger((line) => appendFileSync(values.log, `${line}\n`), { level: values["log-level"] ?? "info", fields: { host: "cli" }, now: clock.now })
    : silentLogger();
  let throttled429 = 0;
  const log = tapLogger(fileLog, (msg) => {
    if (msg === "throttled") throttled429 += 1;
  });
  const pacing = trackedBudget(requests);
  const controller = new AbortController();
  let interrupted;
  const onSignal = (name) => {
    if (interrupted) {
      stderr.write(`\nti-relay: ${name} again: exiting without writing the pending requests\n`);
      process.exit(130);
    }
    interrupted = name;
    stderr.write(`\nti-relay: ${name}: stopping; requests not confirmed go to ${deadPath} as "pending" (again to quit at once)\n`);
    controller.abort();
  };
  const onInt = () => onSignal("SIGINT");
  const onTerm = () => onSignal("SIGTERM");
  signals?.on("SIGINT", onInt);
  signals?.on("SIGTERM", onTerm);

  const bar = values.quiet ? undefined : progressBar(stderr, { skipped, scale: clock.scale, eta: () => pacing.etaMs(clock.now()) / clock.scale, throttled: () => throttled429 });
  const options = { onProgress: bar ? (p) => bar.update(p) : undefined };
  if (values.requestTimeoutMs !== undefined) options.requestTimeoutMs = values.requestTimeoutMs;
  if (values.maxAttempts !== undefined) options.maxAttempts = values.maxAttempts;
  const delivery = createDelivery({
    relay,
    fetch: (url, init) => fetch(url, init),
    now: clock.now,
    sleep: clock.sleep,
    random: Math.random,
    log,
    secrets: envSecrets(env),
    env: { IDENTITY_ENDPOINT: env.IDENTITY_ENDPOINT, IDENTITY_HEADER: env.IDENTITY_HEADER },
    budget: pacing.budget,
    options,
  });
  const startedReal = Date.now();
  let report;
  try {
    report = await delivery.deliver(requests, { signal: controller.signal });
  } finally {
    signals?.off("SIGINT", onInt);
    signals?.off("SIGTERM", onTerm);
  }
  const elapsedS = (Date.now() - startedReal) / 1000;
  bar?.finish(report);

  // Dead letters: one record per dead entry (rejected / failed) and per pending request.
  const at = new Date().toISOString();
  const record = (request, keys, reason, message, attempts, extra = {}) => ({
    at,
    destination: request.destination,
    reason,
    message,
    attempts,
    keys,
    values: keys.map((k) => valueOf(k, request.destination) ?? null),
    ...extra,
    request,
  });
  const lines = [
    ...report.dead.map((d) => record(d.request, d.keys, d.reason, d.message, d.attempts)),
    ...report.pending.map((p) => record(p.request, [...p.request.items], "pending", `not sent or not confirmed (${interrupted ?? "stopped"})`, p.attempts, { not_before: isoOrNull(p.not_before_ms, clock) })),
  ];
  if (lines.length > 0) appendFileSync(deadPath, lines.map((l) => `${JSON.stringify(l)}\n`).join(""));

  const totals = { accepted: 0, rejected: 0, failed: 0, pending: 0, dry_run: 0 };
  const perDest = new Map();
  for (const item of report.items) {
    totals[item.outcome] = (totals[item.outcome] ?? 0) + 1;
    let d = perDest.get(item.destination);
    if (!d) perDest.set(item.destination, (d = { accepted: 0, rejected: 0, failed: 0, pending: 0, dry_run: 0 }));
    d[item.outcome] = (d[item.outcome] ?? 0) + 1;
  }
  const delivered = totals.accepted + totals.rejected + totals.failed;
  const deadItems = lines.reduce((n, l) => n + l.keys.length, 0);
  const summary = {
    totals: { ...totals, skipped },
    requests: report.stats.requests,
    responses_by_status: report.stats.responses_by_status,
    retries: report.stats.retries,
    throttled_429: report.stats.throttled_429,
    throttled_wait_s: round1(report.stats.throttled_waits_ms / clock.scale / 1000),
    elapsed_s: round1(elapsedS),
    rate_per_s: elapsedS > 0 ? Math.round(delivered / elapsedS) : delivered,
    ...(clock.scale !== 1 ? { time_scale: clock.scale, elapsed_scaled_s: round1((report.stats.finished_ms - report.stats.started_ms) / 1000) } : {}),
    dead_letters: { file: deadPath, records: lines.length, items: deadItems },
    ...(interrupted ? { interrupted } : {}),
  };
  const exitCode = interrupted ? 130 : totals.rejected + totals.failed + totals.pending > 0 ? 2 : 0;
  return { summary, exitCode, outcomes: (name) => perDest.get(name) ?? { accepted: 0, rejected: 0, failed: 0, pending: 0, dry_run: 0 } };
}

const round1 = (x) => Math.round(x * 10) / 10;

function isoOrNull(ms, clock) {
  if (!Number.isFinite(ms)) return null;
  // A host-clock time back into real time (the clock runs S times faster from its anchor).
  const real = clock.scale === 1 ? ms : clock.anchorMs + (ms - clock.anchorMs) / clock.scale;
  const d = new Date(real);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** The logger with a tap on every event (whatever the level written), for the progress bar. */
function tapLogger(inner, tap) {
  const wrap = (level) => (msg, fields) => {
    tap(msg, fields, level);
    inner[level](msg, fields);
  };
  return { ...inner, debug: wrap("debug"), info: wrap("info"), warn: wrap("warn"), error: wrap("error") };
}

/**
 * The in-memory budget, watched: per limit key how many requests the plan holds and how many have
 * been booked. The ETA is the pacing schedule itself: the remaining requests of each class booked on
 * a copy of its sliding log (the same pure `reserve` the loop uses) — exact when nothing is retried,
 * where an average rate would be fooled by the first window's burst.
 */
function trackedBudget(requests) {
  const inner = createLocalBudget();
  const lanes = new Map();
  const lane = (key) => {
    let l = lanes.get(key);
    if (!l) lanes.set(key, (l = { planned: 0, booked: 0, windows: [], last: 0 }));
    return l;
  };
  for (const r of requests) {
    if (r.dry_run || !(r.rate?.length > 0)) continue;
    const l = lane(r.limit ?? r.destination);
    l.planned += 1;
    l.windows = r.rate;
  }
  return {
    budget: {
      async reserve(key, windows, nowMs) {
        const at = await inner.reserve(key, windows, nowMs);
        const l = lane(key);
        l.booked += 1;
        l.windows = windows;
        l.last = Math.max(l.last, at);
        return at;
      },
      block: (key, until) => inner.block(key, until),
      async release(key, at) {
        lane(key).booked -= 1;
        return inner.release(key, at);
      },
      settle: (key, booked, done) => inner.settle(key, booked, done),
    },
    /** Host-clock ms until the last remaining request of the slowest class can go. */
    etaMs(nowMs) {
      let eta = 0;
      for (const [key, l] of lanes) {
        let at = l.last;
        const remaining = Math.max(0, l.planned - l.booked);
        if (remaining > 0) {
          const state = inner.state(key);
          for (let i = 0; i < remaining; i += 1) at = reserveIn(state, l.windows, Math.max(nowMs, at));
        }
        eta = Math.max(eta, at - nowMs);
      }
      return Math.max(0, eta);
    },
  };
}

/**
 * One status line on stderr, redrawn in place on a terminal (at most 10 times a second) and printed
 * every 5 s otherwise. Counts are item × destination pairs; rate, throttled time and ETA are real
 * seconds, whatever the time scale.
 */
function progressBar(stream, { skipped, scale, eta, throttled }) {
  const tty = Boolean(stream.isTTY);
  const started = Date.now();
  let lastDraw = 0;
  const fmt = (n) => Math.round(n).toLocaleString("en-US");
  const clockText = (s) => {
    if (!Number.isFinite(s)) return "--:--";
    const t = Math.max(0, Math.round(s));
    const h = Math.floor(t / 3600);
    const m = Math.floor((t % 3600) / 60);
    const sec = String(t % 60).padStart(2, "0");
    return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
  };
  // A redrawn line must not wrap: `\r` only goes back to the start of the last screen row.
  const fit = (line) => (stream.columns > 20 && line.length >= stream.columns ? `${line.slice(0, stream.columns - 2)}…` : line);
  const render = (p, final) => {
    const done = p.done + skipped;
    const total = p.total + skipped;
    const width = 20;
    const filled = total > 0 ? Math.round((done / total) * width) : width;
    const elapsed = (Date.now() - started) / 1000;
    const rate = elapsed > 0 ? p.done / elapsed : 0;
    const n429 = throttled();
    // Most important first: a narrow terminal cuts the end of the line.
    return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${fmt(done)}/${fmt(total)}` +
      (final ? ` · ${clockText(elapsed)} elapsed` : ` · ETA ${clockText(eta() / 1000)}`) +
      ` · ${fmt(rate)}/s · sent ${fmt(p.accepted)} · skipped ${fmt(skipped)} · failed ${fmt(p.rejected + p.failed)}` +
      (p.retries ? ` · retries ${fmt(p.retries)}` : "") +
      ` · throttled ${clockText(p.throttled_ms / scale / 1000)}${n429 ? ` (${fmt(n429)} × 429)` : ""}`;
  };
  return {
    update(p) {
      const now = Date.now();
      if (now - lastDraw < (tty ? 100 : 5000)) return;
      lastDraw = now;
      stream.write(tty ? `\r${fit(render(p, false))}\x1b[K` : `${render(p, false)}\n`);
    },
    finish(report) {
      const counts = { done: 0, total: 0, accepted: 0, rejected: 0, failed: 0 };
      for (const item of report.items) {
        if (item.outcome === "dry_run") continue;
        counts.total += 1;
        if (item.outcome !== "pending") counts.done += 1;
        if (item.outcome in counts) counts[item.outcome] += 1;
      }
      const p = { ...counts, retries: report.stats.retries, throttled_ms: report.stats.throttled_waits_ms };
      stream.write(tty ? `\r${fit(render(p, true))}\x1b[K\n` : `${render(p, true)}\n`);
    },
  };
}

// ---------------------------------------------------------------- entry point

const invoked = process.argv[1] && resolvePath(process.argv[1]) === resolvePath(new URL(import.meta.url).pathname);
if (invoked) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`ti-relay: internal error: ${e?.stack ?? e}\n`);
      process.exitCode = 3;
    },
  );
}
