// The delivery loop shared by the Worker, the Azure Functions handler and the CLI (SPEC §2, §7).
//
// It carries what the core decided: the planned requests go out exactly as planned (method, URL,
// headers, body text), paced under each rate-limit class, with a token per destination; every
// response goes back to `relay.interpret`, whose per-item outcomes, `resend` and `follow_up`
// requests drive what happens next. No decision about an indicator or a payload field is made here:
// the loop only moves requests, tokens, time and outcomes.
//
// Scheduling: one lane per rate-limit class (`request.limit`) books one send time at a time from the
// budget and sends when it comes due; the answer is awaited off the lane, so a class keeps its pace
// whatever the latency. A booking is only ever used on time (within `lateToleranceMs`): a request
// booked at t but sent much later could crowd the next window, so a late one is given back and booked
// again. A connection slot (`concurrency`) is taken after the wait, before the token, and held until
// the response body is read: open connections (token requests included) never exceed the option, and
// neither pacing nor backoff waits hold a slot.

import { createLocalBudget } from "./budget.mjs";
import { silentLogger } from "./log.mjs";
import { createTokenSource, TokenError } from "./tokens.mjs";
import { exchange, semaphore } from "./transport.mjs";

/** Defaults of `options`. */
export const DEFAULTS = Object.freeze({
  maxAttempts: 6,
  baseDelayMs: 1000,
  maxDelayMs: 60000,
  requestTimeoutMs: 30000,
  concurrency: 6,
  deadlineMs: undefined,
  lateToleranceMs: 250,
});

/**
 * @typedef {import("../../src/boundary.d.ts").PlannedRequest & {rate?: {requests: number, per_ms: number}[]}} Request
 * @typedef {{request: Request, attempts: number, not_before_ms: number}} PendingEntry
 * @typedef {"accepted" | "rejected" | "failed" | "pending" | "dry_run"} ItemOutcome
 * @typedef {object} Report
 * @property {{key: string, destination: string, outcome: ItemOutcome, message?: string, attempts: number}[]} items
 * @property {{request: Request, keys: string[], reason: "rejected" | "failed", message: string, messages?: Record<string, string>, attempts: number}[]} dead
 * @property {PendingEntry[]} pending
 * @property {{requests: number, responses_by_status: Record<string, number>, retries: number,
 *   throttled_waits_ms: number, throttled_429: number, started_ms: number, finished_ms: number}} stats
 * @typedef {{done: number, total: number, accepted: number, rejected: number, failed: number,
 *   retries: number, throttled_ms: number, rate_per_s: number}} Progress
 */

/**
 * @param {object} deps
 * @param {{interpret: Function, retain?: Function, config: {destinations: object[]}}} deps.relay
 * @param {typeof fetch} deps.fetch
 * @param {() => number} deps.now  Epoch ms on the host's (possibly time-scaled) clock.
 * @param {(ms: number, signal?: AbortSignal) => Promise<void>} deps.sleep  Waits `ms` on that clock.
 * @param {() => number} [deps.random]  Uniform in [0, 1), for the backoff jitter.
 * @param {import("./log.mjs").Logger} [deps.log]
 * @param {(name: string) => Promise<string | undefined>} [deps.secrets]
 * @param {object} [deps.env]  `IDENTITY_ENDPOINT`, `IDENTITY_HEADER` for managed identities.
 * @param {{reserve: Function, block: Function, release?: Function}} [deps.budget]  Default: in memory.
 * @param {{get: Function, invalidate: Function}} [deps.tokens]  Default: a token source over the same
 *   fetch/now/secrets/log/env (pass one to share its cache between several deliveries).
 * @param {Partial<typeof DEFAULTS> & {onProgress?: (p: Progress) => void, tokens?: object}} [deps.options]
 *   `maxAttempts` per item-request; `baseDelayMs`, `maxDelayMs`: exponential backoff with full jitter
 *   (never shorter than the server's hint); `requestTimeoutMs` (real time, AbortController);
 *   `concurrency`: open connections; `deadlineMs`: absolute host-clock time after which nothing new is
 *   sent and no new wait starts (the rest is reported `pending`); `lateToleranceMs`: how late after
 *   its booked time a request may still go; `tokens`: options of the default token source.
 */
export function createDelivery({
  relay,
  fetch,
  now,
  sleep,
  random = Math.random,
  log = silentLogger(),
  secrets = async () => undefined,
  env = {},
  budget = createLocalBudget(),
  tokens,
  options = {},
}) {
  const opts = { ...DEFAULTS, ...options };
  const tokenSource = tokens ?? createTokenSource({ fetch, now, secrets, log, env, options: options.tokens });
  /** @type {Map<string, object> | undefined} */
  let destinations;
  const destination = (name) => {
    destinations ??= new Map((relay.config?.destinations ?? []).map((d) => [d.name, d]));
    return destinations.get(name);
  };

  /**
   * Sends `requests` (planned requests, or `pending` entries of an earlier report) and reports a final
   * outcome per item.
   * @param {(Request | PendingEntry)[]} requests
   * @param {{signal?: AbortSignal, deadlineMs?: number, onProgress?: (p: Progress) => void}} [call]
   * @returns {Promise<Report>}
   */
  function deliver(requests, call = {}) {
    return run(requests, {
      signal: call.signal,
      deadlineMs: call.deadlineMs ?? opts.deadlineMs,
      onProgress: call.onProgress ?? opts.onProgress,
    });
  }

  async function run(input, { signal, deadlineMs, onProgress }) {
    const startedMs = now();
    const stats = {
      requests: 0,
      responses_by_status: {},
      retries: 0,
      throttled_waits_ms: 0,
      throttled_429: 0,
      started_ms: startedMs,
      finished_ms: startedMs,
    };
    /**
     * Per destination, per key: how many queued or in-flight requests still carry the item, the worst
     * outcome. `all` lists every item once, in the order first seen.
     */
    const items = new Map();
    const all = [];
    const dead = [];
    const pending = [];
    const counts = { done: 0, accepted: 0, rejected: 0, failed: 0 };
    let dryRun = 0;
    /** Per limit key: until when this loop saw the server block (to label waits "429"). */
    const blockedUntil = new Map();
    const lanes = new Map();
    const slots = semaphore(Math.max(1, opts.concurrency));
    let outstanding = 0;
    let resolveDone;
    const done = new Promise((resolve) => {
      resolveDone = resolve;
    });

    const stopped = () => signal?.aborted || (deadlineMs !== undefined && now() >= deadlineMs);
    const find = (dest, key) => items.get(dest)?.get(key);
    const track = (dest, key) => {
      let byKey = items.get(dest);
      if (!byKey) items.set(dest, (byKey = new Map()));
      let item = byKey.get(key);
      if (!item) {
        byKey.set(key, (item = { key, destination: dest, carriers: 0, attempts: 0, bad: undefined, outcome: undefined }));
        all.push(item);
      }
      return item;
    };
    const rank = { rejected: 1, failed: 2 };

    /** One request carrying `key` is done with it: accepted, rejected, failed, or handed to a follow-up. */
    const conclude = (entry, key, outcome, message) => {
      const item = find(entry.request.destination, key);
      if (!item || item.outcome) return;
      item.attempts = Math.max(item.attempts, entry.attempt);
      if (rank[outcome] && (!item.bad || rank[outcome] > rank[item.bad.outcome])) item.bad = { outcome, message };
      item.carriers -= 1;
      if (item.carriers <= 0) {
        item.outcome = item.bad?.outcome ?? "accepted";
        counts.done += 1;
        counts[item.outcome] += 1;
      }
    };

    /** Narrows a request to `keys` through the core (the request itself when it carries exactly those). */
    const narrow = (request, keys) => {
      const all = new Set(request.items);
      if (keys.length === all.size && keys.every((k) => all.has(k))) return request;
      return typeof relay.retain === "function" ? relay.retain(request, keys) : request;
    };

    const progress = () => {
      if (!onProgress) return;
      const elapsed = Math.max(1, now() - startedMs);
      try {
        onProgress({
          done: counts.done,
          total: all.length - dryRun,
          accepted: counts.accepted,
          rejected: counts.rejected,
          failed: counts.failed,
          retries: stats.retries,
          throttled_ms: stats.throttled_waits_ms,
          rate_per_s: (counts.done * 1000) / elapsed,
        });
      } catch (err) {
        log.warn("onProgress threw", { error: String(err?.message ?? err) });
      }
    };

    const finish = () => {
      outstanding -= 1;
      if (outstanding === 0) resolveDone();
    };

    const park = (entry, notBeforeMs) => {
      pending.push({ request: entry.request, attempts: entry.attempt - 1, not_before_ms: notBeforeMs });
    };

    const failAll = (entry, message, request = entry.request) => {
      for (const key of entry.keys) conclude(entry, key, "failed", message);
      dead.push({ request, keys: [...entry.keys], reason: "failed", message, attempts: entry.attempt });
      log.warn("items failed", { id: request.id, destination: request.destination, items: entry.keys.length, attempts: entry.attempt, error: message });
    };

    /** Queues an entry now or after `delayMs`; a wait that would end past the deadline is not started. */
    const enqueue = (entry, delayMs = 0, reason = "backoff") => {
      outstanding += 1;
      const due = now() + delayMs;
      if (stopped() || (delayMs > 0 && deadlineMs !== undefined && due > deadlineMs)) {
        park(entry, due);
        finish();
        return;
      }
      if (delayMs <= 0) {
        toLane(entry);
        return;
      }
      log.info("wait", { limit: entry.request.limit, id: entry.request.id, ms: Math.round(delayMs), reason });
      if (reason === "429") stats.throttled_waits_ms += delayMs;
      Promise.resolve(sleep(delayMs, signal)).then(
        () => toLane(entry),
        () => toLane(entry),
      );
    };

    const laneKey = (request) => request.limit ?? request.destination;
    const toLane = (entry) => {
      const key = laneKey(entry.request);
      let lane = lanes.get(key);
      if (!lane) lanes.set(key, (lane = { queue: [], running: false }));
      lane.queue.push(entry);
      if (!lane.running) runLane(lane);
    };
    const runLane = async (lane) => {
      lane.running = true;
      while (lane.queue.length > 0) {
        const entry = lane.queue.shift();
        try {
          await dispatch(entry);
        } catch (err) {
          // A bug or a broken host service must not hang the loop: the entry fails visibly.
          log.error("delivery error", { id: entry.request.id, error: String(err?.message ?? err) });
          failAll(entry, `internal: ${err?.message ?? err}`);
          finish();
        }
      }
      lane.running = false;
    };

    /**
     * Books a send time for one entry, waits for it, takes a connection slot and a token, then sends
     * (without awaiting the answer). A booking is only used on time: when the slot or the token came
     * too late (more than `lateToleranceMs` after the booked time), the booking is given back and a
     * new one taken, so a late send can never crowd the next window. Long waits hold no slot; a
     * rebooking's short wait (≤ `lateToleranceMs`) keeps the slot it already has.
     */
    const dispatch = async (entry) => {
      const { request } = entry;
      const limit = laneKey(request);
      const dest = destination(request.destination);
      if (!dest) {
        failAll(entry, `destination ${request.destination} is not in the configuration`);
        finish();
        return;
      }
      let releaseSlot;
      let handedOff = false;
      const paced = (request.rate?.length ?? 0) > 0;
      // A booking that will not be used goes back (only paced classes book anything).
      const giveBack = (at) => (paced ? Promise.resolve(budget.release?.(limit, at)).catch(() => {}) : undefined);
      try {
        for (;;) {
          if (stopped()) {
            park(entry, now());
            finish();
            return;
          }
          let at;
          try {
            at = await budget.reserve(limit, request.rate ?? [], now());
          } catch (err) {
            retry(entry, request, entry.keys, `rate budget: ${err?.message ?? err}`, 0, "backoff");
            finish();
            return;
          }
          if (deadlineMs !== undefined && at > deadlineMs) {
            await giveBack(at);
            park(entry, at);
            finish();
            return;
          }
          const wait = at - now();
          if (wait > 0) {
            const reason = at <= (blockedUntil.get(limit) ?? 0) ? "429" : "pace";
            log.debug("wait", { limit, id: request.id, ms: Math.round(wait), reason });
            stats.throttled_waits_ms += wait;
            if (releaseSlot && wait > opts.lateToleranceMs) {
              releaseSlot();
              releaseSlot = undefined;
            }
            // A host sleep may wake a little early (a scaled clock's rounding): never send before `at`.
            for (let naps = 0; naps < 5 && now() < at && !signal?.aborted; naps += 1) await sleep(at - now(), signal);
            if (signal?.aborted) {
              await giveBack(at);
              park(entry, now());
              finish();
              return;
            }
          }
          releaseSlot ??= await slots.acquire();
          if (stopped()) {
            await giveBack(at);
            park(entry, now());
            finish();
            return;
          }
          let token;
          try {
            token = await tokenSource.get(dest, request.audience);
          } catch (err) {
            await giveBack(at);
            if (err instanceof TokenError && err.transient) {
              retry(entry, request, entry.keys, err.message, err.retry_after_ms ?? 0, "backoff");
            } else {
              failAll(entry, err instanceof TokenError ? err.message : `token: ${err?.message ?? err}`);
            }
            finish();
            return;
          }
          const late = now() - at;
          if (paced && late > opts.lateToleranceMs) {
            await giveBack(at);
            log.debug("late for the booked time, booking again", { limit, id: request.id, late_ms: Math.round(late) });
            continue;
          }
          handedOff = true;
          const booked = paced ? at : undefined;
          send(entry, dest, token, releaseSlot, booked).catch((err) => {
            log.error("delivery error", { id: request.id, error: String(err?.message ?? err) });
            failAll(entry, `internal: ${err?.message ?? err}`);
            finish();
          });
          return;
        }
      } finally {
        if (!handedOff) releaseSlot?.();
      }
    };

    /** One HTTP exchange and what the core makes of it. */
    const send = async (entry, dest, token, releaseSlot, booked) => {
      const { request } = entry;
      const sentAt = now();
      stats.requests += 1;
      // The API counted this request somewhere before its answer: the booking moves there.
      const settleBooking = () => {
        if (booked === undefined || !budget.settle) return;
        Promise.resolve(budget.settle(laneKey(request), booked, now())).catch((err) =>
          log.warn("rate budget settle failed", { limit: laneKey(request), error: String(err?.message ?? err) }));
      };
      let response;
      try {
        response = await exchange(fetch, request, token, { signal, timeoutMs: opts.requestTimeoutMs });
      } catch (err) {
        settleBooking();
        releaseSlot();
        if (signal?.aborted) {
          park(entry, now());
        } else {
          count(stats, "0");
          const message = `network: ${err?.message ?? err}`;
          log.warn("request failed", { id: request.id, op: request.op, destination: request.destination, attempt: entry.attempt, error: message, ms: now() - sentAt });
          for (const key of entry.keys) touchAttempts(entry, key);
          retry(entry, request, entry.keys, message, 0, "backoff");
        }
        progress();
        finish();
        return;
      }
      settleBooking();
      releaseSlot();
      count(stats, String(response.status));
      log.info("request", {
        id: request.id,
        op: request.op,
        destination: request.destination,
        items: entry.keys.length,
        attempt: entry.attempt,
        status: response.status,
        ms: now() - sentAt,
      });
      if (response.status === 401 && !entry.refreshed) {
        // A token the API refuses may be one revoked or rotated since we cached it: one fresh token,
        // one more try, no attempt counted. A second 401 goes to the core (which rejects it).
        tokenSource.invalidate(dest, request.audience);
        log.info("token refused, refreshing", { destination: request.destination, id: request.id });
        enqueue({ ...entry, refreshed: true });
        finish();
        return;
      }
      const interpretation = relay.interpret(request, response, { now: new Date(now()).toISOString() });
      apply(entry, response.status, interpretation);
      progress();
      finish();
    };

    const touchAttempts = (entry, key) => {
      const item = find(entry.request.destination, key);
      if (item) item.attempts = Math.max(item.attempts, entry.attempt);
    };

    /** Applies one interpretation: follow-ups first (they take over items), then each item's outcome. */
    const apply = (entry, status, interpretation) => {
      const { request } = entry;
      const mine = new Set(entry.keys);
      const carried = new Set();
      for (const follow of interpretation.follow_up ?? []) {
        for (const key of follow.items) {
          track(follow.destination, key).carriers += 1;
          if (follow.destination === request.destination) carried.add(key);
        }
        enqueue({ request: follow, keys: [...follow.items], attempt: 1, refreshed: false });
      }
      const seen = new Set();
      const retryKeys = [];
      /** Final failures of this response, by reason → keys and each key's message: one dead letter each. */
      const finals = new Map();
      const final = (key, reason, message) => {
        conclude(entry, key, reason, message);
        if (!finals.has(reason)) finals.set(reason, { reason, keys: [], messages: new Map() });
        const group = finals.get(reason);
        group.keys.push(key);
        group.messages.set(key, message);
      };
      let hint = interpretation.retry_after_ms ?? 0;
      let retryMessage;
      for (const result of interpretation.items ?? []) {
        if (!mine.has(result.key) || seen.has(result.key)) continue;
        seen.add(result.key);
        if (result.outcome === "accepted") {
          conclude(entry, result.key, "accepted");
        } else if (result.outcome === "rejected") {
          final(result.key, "rejected", result.message ?? "rejected");
        } else if (result.outcome === "retry") {
          touchAttempts(entry, result.key);
          retryKeys.push(result.key);
          hint = Math.max(hint, result.after_ms ?? 0);
          retryMessage ??= result.message;
        } else {
          final(result.key, "failed", `unknown outcome ${JSON.stringify(result.outcome)} from the core`);
        }
      }
      for (const key of entry.keys) {
        if (seen.has(key)) continue;
        if (carried.has(key)) conclude(entry, key, "carried");
        else final(key, "failed", "the core returned no outcome for this item");
      }
      // One dead letter per reason, with the request narrowed to its items (one narrowing per
      // reason: a 500-indicator import rejected item by item costs one `retain`, not 500). When
      // the items' messages differ, `messages` has each key's own.
      for (const { reason, keys, messages } of finals.values()) {
        const distinct = new Set(messages.values());
        const [message] = distinct;
        dead.push({
          request: narrow(request, keys),
          keys,
          reason,
          message: distinct.size === 1 ? message : `${message} (and ${distinct.size - 1} other messages: see \`messages\`)`,
          ...(distinct.size > 1 ? { messages: Object.fromEntries(messages) } : {}),
          attempts: entry.attempt,
        });
      }
      if (finals.size > 0) {
        const groups = [...finals.values()];
        log.warn("items not accepted", {
          id: request.id,
          destination: request.destination,
          rejected: groups.filter((g) => g.reason === "rejected").reduce((n, g) => n + g.keys.length, 0),
          failed: groups.filter((g) => g.reason === "failed").reduce((n, g) => n + g.keys.length, 0),
          messages: groups.reduce((n, g) => n + new Set(g.messages.values()).size, 0),
          error: groups[0].messages.values().next().value,
        });
      }
      if (status === 429) {
        stats.throttled_429 += 1;
        const until = now() + (hint || opts.baseDelayMs);
        const limit = laneKey(request);
        blockedUntil.set(limit, Math.max(blockedUntil.get(limit) ?? 0, until));
        Promise.resolve(budget.block(limit, until)).catch((err) => log.warn("rate budget block failed", { limit, error: String(err?.message ?? err) }));
        log.warn("throttled", { limit, id: request.id, retry_after_ms: hint || undefined });
      }
      if (retryKeys.length > 0) {
        const resend = interpretation.resend ?? narrow(request, retryKeys);
        retry(entry, resend, retryKeys, retryMessage ?? `http ${status}`, hint, status === 429 ? "429" : "backoff");
      }
    };

    /** The next attempt of `keys` (carried by `request`) after backoff, or their failure when attempts are spent. */
    const retry = (entry, request, keys, message, hintMs, reason) => {
      if (entry.attempt >= opts.maxAttempts) {
        failAll({ ...entry, keys }, message, request);
        return;
      }
      const backoff = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** (entry.attempt - 1)) * random();
      const delay = Math.max(backoff, hintMs || 0);
      stats.retries += 1;
      enqueue({ request, keys: [...keys], attempt: entry.attempt + 1, refreshed: false }, delay, reason);
    };

    // Seed: every item of every request is tracked before anything is sent.
    const report = [];
    const seeds = [];
    for (const element of input) {
      const isPending = element && typeof element === "object" && "request" in element && !("items" in element);
      const request = isPending ? element.request : element;
      if (request.dry_run) {
        for (const key of request.items) {
          const item = track(request.destination, key);
          if (item.carriers === 0 && !item.outcome) item.outcome = "dry_run";
        }
        continue;
      }
      for (const key of request.items) {
        const item = track(request.destination, key);
        if (item.outcome === "dry_run") item.outcome = undefined;
        item.carriers += 1;
      }
      const attempt = isPending ? (element.attempts ?? 0) + 1 : 1;
      const delay = isPending ? Math.max(0, (element.not_before_ms ?? 0) - startedMs) : 0;
      seeds.push([{ request, keys: [...request.items], attempt, refreshed: false }, delay]);
    }
    for (const item of all) if (item.outcome === "dry_run") dryRun += 1;
    log.info("delivery started", { requests: seeds.length, items: all.length - dryRun, dry_run: dryRun });
    for (const [entry, delay] of seeds) enqueue(entry, delay, "backoff");
    if (outstanding > 0) await done;

    stats.finished_ms = now();
    const summary = { accepted: 0, rejected: 0, failed: 0, pending: 0, dry_run: 0 };
    for (const item of all) {
      const outcome = item.outcome ?? item.bad?.outcome ?? "pending";
      summary[outcome] += 1;
      const row = { key: item.key, destination: item.destination, outcome };
      const message = item.bad?.message;
      if (message && (outcome === "rejected" || outcome === "failed")) row.message = message;
      row.attempts = item.attempts;
      report.push(row);
    }
    log.info("delivery finished", {
      ...summary,
      requests: stats.requests,
      retries: stats.retries,
      throttled_429: stats.throttled_429,
      throttled_waits_ms: Math.round(stats.throttled_waits_ms),
      dead: dead.length,
      pending: pending.length,
      ms: stats.finished_ms - startedMs,
    });
    return { items: report, dead, pending, stats };
  }

  return { deliver };
}

function count(stats, key) {
  stats.responses_by_status[key] = (stats.responses_by_status[key] ?? 0) + 1;
}
