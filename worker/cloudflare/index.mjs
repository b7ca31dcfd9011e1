// The Cloudflare Worker host (SPEC §8): the routes of worker/http/app.mjs, the shared delivery loop
// of worker/lib/, and the Cloudflare pieces around them:
// - a Durable Object (`RelayState`) that holds, in one place per name, what must be shared by
//   every isolate and queue consumer: the rate budget of each (identity, limit class), the
//   webhook signatures seen in the replay window, and the dead letters;
// - a Queue (`DELIVERY`): accepted events are planned at the edge and their requests enqueued, then
//   delivered by the consumer; what is still waiting when a consumer must stop is re-enqueued with
//   a delay; what ends rejected or failed goes to the dead-letter queue (`DEAD_LETTERS`), whose
//   consumer keeps it in the Durable Object for `GET /v1/dead-letters` and replay;
// - a cron trigger that re-drives failed dead letters.
// Without the DELIVERY binding, delivery is inline in the webhook request.

import { DurableObject } from "cloudflare:workers";
import wasmModule from "../../pkg/ti_relay_bg.wasm";
import { initSync, Relay, version } from "../../pkg/ti_relay.js";

import { createApp } from "../http/app.mjs";
import { block, createDelivery, createLogger, release, reserve, settle } from "../lib/index.mjs";
import { messageBody, messageText } from "./messages.mjs";

initSync({ module: wasmModule });

/** A queue message is at most 128 KB; leave room for the envelope. */
const MAX_MESSAGE_BYTES = 120_000;
/** `sendBatch` takes at most 100 messages and 256 KB. */
const MAX_BATCH_MESSAGES = 100;
const MAX_BATCH_BYTES = 250_000;
/** Where a scaled clock starts running fast (2026-01-01T00:00:00Z), unless TIME_SCALE_ANCHOR_MS says. */
const DEFAULT_ANCHOR_MS = 1_767_225_600_000;
/** How often the cron re-drives one dead letter before leaving it for the operator. */
const MAX_REPLAYS = 3;

let cached = { text: undefined, relay: undefined, error: undefined };

/** The Relay for this isolate's configuration (validated once per distinct config text). */
function relayFor(env) {
  const text = typeof env.TI_RELAY_CONFIG === "string" ? env.TI_RELAY_CONFIG : JSON.stringify(env.TI_RELAY_CONFIG ?? null);
  if (cached.text !== text) {
    cached = { text, relay: undefined, error: undefined };
    try {
      cached.relay = new Relay(JSON.parse(text));
    } catch (e) {
      cached.error = {
        code: "config",
        message: e instanceof SyntaxError ? `TI_RELAY_CONFIG is not JSON: ${e.message}` : String(e.message ?? e),
        ...(e.errors ? { details: e.errors } : {}),
      };
    }
  }
  return cached;
}

/**
 * The host clock. `TIME_SCALE` (tests and the local emulator only) makes every duration S times
 * shorter: from `TIME_SCALE_ANCHOR_MS` (default 2026-01-01) the clock runs S times faster, and sleeps
 * are S times shorter. A pure function of real time and two settings, so every isolate and the
 * Durable Object agree on it; set the anchor to the start of a scaled run to keep timestamps near
 * real time.
 */
function clock(env) {
  const scale = Number(env.TIME_SCALE ?? 1) || 1;
  const anchor = Number(env.TIME_SCALE_ANCHOR_MS ?? DEFAULT_ANCHOR_MS);
  return {
    scale,
    now: scale === 1 ? () => Date.now() : () => anchor + (Date.now() - anchor) * scale,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms) / scale)),
  };
}

function logger(env) {
  return createLogger((line) => console.log(line), { level: env.LOG_LEVEL ?? "info", fields: { host: "cloudflare" } });
}

function stateStub(env, name) {
  return env.STATE.get(env.STATE.idFromName(name));
}

/** The rate budget of every limit class, kept by one Durable Object per class. */
function durableBudget(env) {
  return {
    reserve: (limitKey, windows, nowMs) => stateStub(env, `budget:${limitKey}`).reserve(windows, nowMs),
    block: (limitKey, untilMs) => stateStub(env, `budget:${limitKey}`).block(untilMs),
    release: (limitKey, atMs) => stateStub(env, `budget:${limitKey}`).release(atMs),
    settle: (limitKey, bookedAtMs, doneAtMs) => stateStub(env, `budget:${limitKey}`).settle(bookedAtMs, doneAtMs),
  };
}

/** This isolate's delivery loop, rebuilt only when the configuration changes (the token cache lives in it). */
let current = { relay: undefined, delivery: undefined };

function deliveryFor(env, relay) {
  if (current.relay !== relay) {
    const { now, sleep } = clock(env);
    current = {
      relay,
      delivery: createDelivery({
        relay,
        fetch: (url, init) => fetch(url, init),
        now,
        sleep,
        random: Math.random,
        log: logger(env),
        secrets: async (name) => (typeof env[name] === "string" ? env[name] : undefined),
        env: { IDENTITY_ENDPOINT: env.IDENTITY_ENDPOINT, IDENTITY_HEADER: env.IDENTITY_HEADER },
        budget: durableBudget(env),
        options: deliveryOptions(env),
      }),
    };
  }
  return current.delivery;
}

function deliveryOptions(env) {
  const options = {};
  for (const [key, name] of [
    ["maxAttempts", "DELIVERY_MAX_ATTEMPTS"],
    ["requestTimeoutMs", "DELIVERY_REQUEST_TIMEOUT_MS"],
    ["baseDelayMs", "DELIVERY_BASE_DELAY_MS"],
  ]) {
    if (env[name] !== undefined) options[key] = Number(env[name]);
  }
  return options;
}

/**
 * When (host clock) one invocation stops starting new work and hands the rest back: after
 * DELIVERY_BUDGET_MS of real time (default 25 s; a queue consumer re-enqueues what is left).
 */
function deadline(env) {
  const { now, scale } = clock(env);
  return now() + Number(env.DELIVERY_BUDGET_MS ?? 25_000) * scale;
}

/**
 * Splits requests that would not fit in a queue message, then sends them in batches. A message is
 * the text of {@link messageText} (content type `text`): made once, here, where its size is needed
 * anyway.
 */
async function enqueueRequests(env, relay, requests, replays = 0) {
  const messages = [];
  const pending = [...requests];
  while (pending.length > 0) {
    const request = pending.shift();
    const text = messageText(request, replays);
    const size = utf8Length(text);
    if (size > MAX_MESSAGE_BYTES && request.items.length > 1) {
      const half = Math.ceil(request.items.length / 2);
      pending.unshift(relay.retain(request, request.items.slice(0, half)), relay.retain(request, request.items.slice(half)));
      continue;
    }
    messages.push({ text, size });
  }
  await sendInBatches(env.DELIVERY, messages);
  return messages.length;
}

/** Sends text messages `{text, size}` in batches within `sendBatch`'s limits (100 messages, 256 KB). */
async function sendInBatches(queue, messages) {
  let batch = [];
  let bytes = 0;
  for (const m of messages) {
    if (batch.length === MAX_BATCH_MESSAGES || bytes + m.size > MAX_BATCH_BYTES) {
      await queue.sendBatch(batch);
      batch = [];
      bytes = 0;
    }
    batch.push({ body: m.text, contentType: "text" });
    bytes += m.size;
  }
  if (batch.length > 0) await queue.sendBatch(batch);
}

/** The UTF-8 size of `text`, without encoding it when it cannot matter. */
function utf8Length(text) {
  if (text.length * 3 <= MAX_MESSAGE_BYTES) return text.length;
  return new TextEncoder().encode(text).length;
}

/**
 * Sends what the loop reported as rejected or failed to the dead-letter queue, one message per dead
 * letter, split (like delivery messages) when one would not fit in a queue message.
 */
async function sendDeadLetters(env, relay, dead, replaysOf) {
  const at = new Date().toISOString();
  const pending = [...dead];
  const messages = [];
  while (pending.length > 0) {
    const d = pending.shift();
    const text = JSON.stringify({
      v: 1,
      replays: replaysOf(d.request),
      at,
      destination: d.request.destination,
      reason: d.reason,
      message: d.message,
      ...(d.messages ? { messages: d.messages } : {}),
      attempts: d.attempts,
      keys: d.keys,
      request: d.request,
    });
    if (utf8Length(text) > MAX_MESSAGE_BYTES && d.keys.length > 1) {
      const halves = [d.keys.slice(0, Math.ceil(d.keys.length / 2)), d.keys.slice(Math.ceil(d.keys.length / 2))];
      for (const keys of halves.reverse()) {
        const messagesOf = d.messages ? Object.fromEntries(keys.map((k) => [k, d.messages[k]])) : undefined;
        pending.unshift({ ...d, keys, request: relay.retain(d.request, keys), ...(messagesOf ? { messages: messagesOf } : {}) });
      }
      continue;
    }
    messages.push({ text, size: utf8Length(text) });
  }
  await sendInBatches(env.DEAD_LETTERS, messages);
}

/** The core's version, read once per isolate. */
const VERSION = version();

/**
 * The routes for one `env` (the same object for every request an isolate serves): built once, not
 * per request.
 * @type {WeakMap<object, ReturnType<typeof createApp>>}
 */
const apps = new WeakMap();

function appFor(env) {
  let app = apps.get(env);
  if (app) return app;
  const log = logger(env);
  app = createApp({
    relay: () => relayFor(env),
    webhookSecrets: async () => ({ hmacSecret: env.WEBHOOK_HMAC_SECRET, bearerToken: env.WEBHOOK_BEARER_TOKEN }),
    wallClockMs: () => Date.now(),
    seenBefore: (key, ttlMs) => stateStub(env, "replay").seen(key, ttlMs, Date.now()),
    deliver: async (requests) => {
      const { relay } = relayFor(env);
      const report = await deliveryFor(env, relay).deliver(requests, { deadlineMs: deadline(env) });
      if (report.dead.length > 0) log.warn("dead letters (inline delivery has no dead-letter queue)", { dead: report.dead.length });
      return report;
    },
    enqueue: env.DELIVERY ? (requests) => enqueueRequests(env, relayFor(env).relay, requests) : undefined,
    deadLetters: env.DELIVERY
      ? {
          list: () => stateStub(env, "dead-letters").list(),
          replay: async () => {
            const letters = await stateStub(env, "dead-letters").take({ reason: "failed", maxReplays: Infinity });
            return enqueueReplays(env, letters);
          },
        }
      : undefined,
    version: VERSION,
    maxBodyBytes: env.MAX_BODY_BYTES ? Number(env.MAX_BODY_BYTES) : undefined,
    log,
  });
  apps.set(env, app);
  return app;
}

export default {
  async fetch(request, env) {
    return appFor(env).handle(request);
  },

  async queue(batch, env) {
    const log = logger(env);
    const { relay, error: configError } = relayFor(env);
    if (!relay) {
      log.error("queue: invalid configuration, messages retried later", { error: configError });
      batch.retryAll({ delaySeconds: 60 });
      return;
    }
    if (batch.queue === (env.DEAD_LETTER_QUEUE_NAME ?? "ti-relay-dlq")) {
      await stateStub(env, "dead-letters").add(batch.messages.map((m) => ({ id: m.id, ...messageBody(m) })));
      batch.ackAll();
      return;
    }
    const { now } = clock(env);
    const bodies = batch.messages.map(messageBody);
    const requests = bodies.map((b) => b.request);
    // How often each request was re-driven from the dead letters (resends keep the request id).
    const replaysById = new Map();
    for (const b of bodies) {
      replaysById.set(b.request.id, Math.max(replaysById.get(b.request.id) ?? 0, b.replays ?? 0));
    }
    const replaysOf = (request) => replaysById.get(request.id) ?? 0;
    const report = await deliveryFor(env, relay).deliver(requests, { deadlineMs: deadline(env) });
    if (report.dead.length > 0) await sendDeadLetters(env, relay, report.dead, replaysOf);
    if (report.pending.length > 0) {
      // Re-enqueue what is still waiting, delayed until its wait is over.
      for (const p of report.pending) {
        const delaySeconds = Math.min(43_200, Math.max(0, Math.ceil((p.not_before_ms - now()) / 1000 / clock(env).scale)));
        await env.DELIVERY.send(messageText(p.request, replaysOf(p.request)), { contentType: "text", delaySeconds });
      }
    }
    log.info("queue batch delivered", {
      messages: batch.messages.length,
      dead: report.dead.length,
      pending: report.pending.length,
      stats: report.stats,
    });
    batch.ackAll();
  },

  async scheduled(controller, env) {
    if (!env.DELIVERY) return;
    const letters = await stateStub(env, "dead-letters").take({ reason: "failed", maxReplays: MAX_REPLAYS });
    const n = await enqueueReplays(env, letters);
    logger(env).info("cron re-drive", { dead_letters: n });
  },
};

async function enqueueReplays(env, letters) {
  const { relay } = relayFor(env);
  if (!relay) return 0;
  let n = 0;
  for (const letter of letters) {
    await enqueueRequests(env, relay, [letter.request], (letter.replays ?? 0) + 1);
    n += 1;
  }
  return n;
}


/**
 * Shared state, one instance per name: `budget:<limit class>` (the rate budget), `replay` (seen
 * webhook signatures), `dead-letters`. Single-threaded per instance, so a reservation is atomic.
 */
export class RelayState extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.budget = undefined;
  }

  // The rate budget: the loop's pure functions (worker/lib/budget.mjs) over this object's state.
  async reserve(windows, nowMs) {
    return this.#budgetUpdate((state) => reserve(state, windows, nowMs));
  }

  async block(untilMs) {
    await this.#budgetUpdate((state) => block(state, untilMs));
  }

  async release(atMs) {
    await this.#budgetUpdate((state) => release(state, atMs));
  }

  async settle(bookedAtMs, doneAtMs) {
    await this.#budgetUpdate((state) => settle(state, bookedAtMs, doneAtMs));
  }

  async #budgetUpdate(change) {
    const state = await this.#budgetState();
    const result = change(state);
    await this.ctx.storage.put("budget", state);
    return result;
  }

  async #budgetState() {
    if (!this.budget) this.budget = (await this.ctx.storage.get("budget")) ?? { log: [], blockedUntil: 0 };
    return this.budget;
  }

  /** Records a webhook signature; answers whether it was seen within its time to live. */
  async seen(key, ttlMs, nowMs) {
    const storageKey = `sig:${key}`;
    const until = await this.ctx.storage.get(storageKey);
    if (until !== undefined && until > nowMs) return true;
    await this.ctx.storage.put(storageKey, nowMs + ttlMs);
    const alarm = await this.ctx.storage.getAlarm();
    if (alarm === null) await this.ctx.storage.setAlarm(nowMs + ttlMs);
    return false;
  }

  /** Drops expired signatures. */
  async alarm() {
    const now = Date.now();
    const entries = await this.ctx.storage.list({ prefix: "sig:" });
    const expired = [...entries].filter(([, until]) => until <= now).map(([k]) => k);
    for (let i = 0; i < expired.length; i += 128) await this.ctx.storage.delete(expired.slice(i, i + 128));
    if (entries.size > expired.length) await this.ctx.storage.setAlarm(now + 60_000);
  }

  async add(letters) {
    for (const letter of letters) {
      await this.ctx.storage.put(`dead:${letter.at}:${letter.id}`, { replays: 0, ...letter });
    }
  }

  async list() {
    const entries = await this.ctx.storage.list({ prefix: "dead:" });
    return [...entries.values()];
  }

  /** Removes and returns the dead letters to re-drive. */
  async take({ reason, maxReplays }) {
    const entries = await this.ctx.storage.list({ prefix: "dead:" });
    const taken = [];
    for (const [key, letter] of entries) {
      if (letter.reason === reason && (letter.replays ?? 0) < maxReplays) {
        taken.push(letter);
        await this.ctx.storage.delete(key);
      }
    }
    return taken;
  }
}

