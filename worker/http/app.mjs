// The relay's HTTP routes (SPEC §8), independent of the runtime: the Cloudflare Worker and the
// Azure Functions handler both call `createApp(host).handle(request)` with a standard `Request`
// and get a standard `Response`. The host injects everything with a side effect.
//
//   POST /v1/events                 the webhook: plan, then deliver inline or enqueue
//   POST /v1/plan                   dry run: the plan, nothing sent
//   GET  /healthz                   liveness + whether the config is valid
//   GET  /v1/dead-letters           what ended rejected or failed (needs a dead-letter store)
//   POST /v1/dead-letters/replay    re-drive the failed ones (needs a queue)
//
// Every error is JSON `{"error": {"code", "message", "details"?}}`; what a client sent never
// produces a 5xx.

import { authenticate, WINDOW_MS } from "./auth.mjs";

/** The largest webhook body accepted, in bytes (a 100k-indicator bundle is ~70 MB: use the CLI). */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

/**
 * @typedef {object} AppHost
 * @property {() => {relay?: any, error?: {code: string, message: string, details?: unknown}}} relay
 *   the Relay built from the configuration, or why there is none
 * @property {() => Promise<{hmacSecret?: string, bearerToken?: string}>} webhookSecrets
 * @property {() => number} wallClockMs real time (for `facts.now` and the signature window)
 * @property {(key: string, ttlMs: number) => Promise<boolean>} seenBefore records a signature,
 *   answering whether it was already there
 * @property {((requests: any[]) => Promise<any>)} [deliver] inline delivery (the shared loop)
 * @property {((requests: any[]) => Promise<number>)} [enqueue] queue delivery: returns how many
 *   messages were sent
 * @property {{list(): Promise<any[]>, replay(): Promise<number>}} [deadLetters]
 * @property {string} version the core's version
 * @property {number} [maxBodyBytes]
 * @property {{info: Function, warn: Function, error: Function}} log
 */

/** @param {AppHost} host */
export function createApp(host) {
  const maxBodyBytes = host.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;

  async function handle(request) {
    const url = new URL(request.url);
    const route = `${request.method} ${url.pathname.replace(/\/+$/, "") || "/"}`;
    try {
      switch (route) {
        case "GET /healthz":
          return health();
        case "GET /":
          return json(200, {
            name: "ti-relay",
            version: host.version,
            routes: ["POST /v1/events", "POST /v1/plan", "GET /healthz", "GET /v1/dead-letters", "POST /v1/dead-letters/replay"],
          });
        case "POST /v1/events":
          return await withBody(request, url, (relay, body, format) => events(relay, body, format));
        case "POST /v1/plan":
          return await withBody(request, url, (relay, body, format) => {
            try {
              return json(200, plan(relay, body, format));
            } catch (e) {
              return coreError(e);
            }
          });
        case "GET /v1/dead-letters":
          return await withBody(request, url, async () => {
            if (!host.deadLetters) return error(404, "not_configured", "this deployment has no dead-letter store (no queue binding)");
            return json(200, { dead_letters: await host.deadLetters.list() });
          });
        case "POST /v1/dead-letters/replay":
          return await withBody(request, url, async () => {
            if (!host.deadLetters) return error(404, "not_configured", "this deployment has no dead-letter store (no queue binding)");
            return json(202, { replayed: await host.deadLetters.replay() });
          });
        default:
          if (["/healthz", "/v1/events", "/v1/plan", "/v1/dead-letters", "/v1/dead-letters/replay", "/"].includes(url.pathname)) {
            return error(405, "method_not_allowed", `\`${request.method}\` is not allowed on \`${url.pathname}\``);
          }
          return error(404, "not_found", `no route \`${request.method} ${url.pathname}\`: see GET /`);
      }
    } catch (e) {
      // Only our own faults land here (a client's input is answered above); never echo internals.
      host.log.error("unhandled error", { route, error: String(e && e.stack ? e.stack : e) });
      return error(500, "internal", "internal error; the relay logged the details");
    }
  }

  function health() {
    const { relay, error: configError } = host.relay();
    if (!relay) return json(503, { ok: false, version: host.version, error: configError });
    return json(200, {
      ok: true,
      version: host.version,
      destinations: relay.config.destinations.map((d) => ({ name: d.name, type: d.type })),
      delivery: host.enqueue ? "queue" : "inline",
    });
  }

  /** Authenticates, reads the body within the size limit, and runs `then` with the relay. */
  async function withBody(request, url, then) {
    const { relay, error: configError } = host.relay();
    if (!relay) return json(503, { error: configError });
    const declared = Number(request.headers.get("content-length") ?? "0");
    if (declared > maxBodyBytes) return tooLarge(declared);
    const body = new Uint8Array(await request.arrayBuffer());
    if (body.length > maxBodyBytes) return tooLarge(body.length);
    const secrets = await host.webhookSecrets();
    const nowMs = host.wallClockMs();
    const auth = await authenticate(request.headers, body, { ...secrets, nowMs });
    if (!auth.ok) {
      host.log.warn("webhook refused", { path: url.pathname, reason: auth.message });
      return error(401, auth.code, auth.message, undefined, { "www-authenticate": 'Bearer realm="ti-relay"' });
    }
    if (auth.replayKey && (await host.seenBefore(auth.replayKey, 2 * WINDOW_MS))) {
      return error(401, "unauthorized", "replayed request: this signature was already accepted; sign each delivery with a fresh timestamp");
    }
    const format = url.searchParams.get("format") ?? undefined;
    // The raw bytes go to the core as they are (it checks the UTF-8): no decode into a JS string
    // and encode back into wasm memory.
    return then(relay, body, format);
  }

  function tooLarge(bytes) {
    return error(413, "too_large", `the body is ${bytes} bytes, the limit is ${maxBodyBytes}: split it, or use the CLI for backfills`);
  }

  /** The core's plan of the body's bytes (it throws what a 4xx says for input it refuses). */
  function plan(relay, body, format, options) {
    const facts = { now: new Date(host.wallClockMs()).toISOString() };
    if (format !== undefined) facts.format = format;
    return relay.plan(body, facts, options);
  }

  async function events(relay, body, format) {
    // Unless delivery is inline (where each verdict gets its outcome), the items only go into the
    // answer: the core hands them over as JSON text, spliced in as they are.
    const itemsJson = Boolean(host.enqueue) || !host.deliver;
    let planned;
    try {
      planned = plan(relay, body, format, itemsJson ? { itemsJson } : undefined);
    } catch (e) {
      return coreError(e);
    }
    const toSend = planned.requests.filter((r) => !r.dry_run);
    if (itemsJson) {
      let delivery = toSend.length === 0 ? "nothing_to_send" : "none";
      let head = "";
      if (host.enqueue && toSend.length > 0) {
        const messages = await host.enqueue(toSend);
        host.log.info("events queued", { requests: toSend.length, messages });
        delivery = "queued";
        head = `,"queued_requests":${toSend.length}`;
      }
      // Exactly JSON.stringify({delivery, queued_requests?, items, errors, requests}).
      const text = `{"delivery":${JSON.stringify(delivery)}${head},"items":${planned.items_json},"errors":${JSON.stringify(planned.errors)},"requests":${planned.requests.length}}`;
      return jsonText(delivery === "queued" ? 202 : 200, text);
    }
    const summary = { items: planned.items, errors: planned.errors, requests: planned.requests.length };
    if (toSend.length === 0) return json(200, { delivery: "nothing_to_send", ...summary });
    const report = await host.deliver(toSend);
    // Each verdict that was delivered gets its outcome (the plan's objects are this answer's own).
    const outcomes = new Map(); // destination → key → outcome
    for (const o of report.items) {
      let byKey = outcomes.get(o.destination);
      if (!byKey) outcomes.set(o.destination, (byKey = new Map()));
      byKey.set(o.key, o);
    }
    for (const item of summary.items) {
      for (const v of item.verdicts) {
        const o = outcomes.get(v.destination)?.get(item.key);
        if (!o) continue;
        v.outcome = o.outcome;
        if (o.message) v.outcome_message = o.message;
      }
    }
    return json(200, { delivery: "inline", ...summary, stats: report.stats });
  }

  return { handle };
}

/** A core error (it carries `code` and maybe `path`) as a 4xx response. */
export function coreError(e) {
  if (e && typeof e.code === "string") {
    const status = e.code === "too_large" ? 413 : 400;
    const details = {};
    if (e.path !== undefined) details.path = e.path;
    if (e.offset !== undefined) details.offset = e.offset;
    return error(status, e.code, e.message, Object.keys(details).length ? details : undefined);
  }
  throw e;
}

export function json(status, value, headers = {}) {
  return jsonText(status, JSON.stringify(value), headers);
}

/** A JSON response whose text is already written. */
function jsonText(status, text, headers = {}) {
  return new Response(text, {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

export function error(status, code, message, details, headers) {
  return json(status, { error: details === undefined ? { code, message } : { code, message, details } }, headers);
}
