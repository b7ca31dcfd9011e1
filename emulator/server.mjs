#!/usr/bin/env node
// The Microsoft emulator: Entra ID tokens (client secret, certificate assertion, managed identity),
// Sentinel TI upload, Defender for Endpoint indicators and Graph tiIndicators, with their
// validation, rate limits and 429 shapes, fault injection and an inspection API. Loopback only.
//
//   import { startEmulator } from "./emulator/server.mjs";
//   const emu = await startEmulator({ timeScale: 60 });   // emu.url, emu.state(), emu.close(), …
//
//   node emulator/server.mjs [--port 8788] [--time-scale 1] [--seed N]
//
// See emulator/README.md for every route, the time-scale semantics and the fault rules.

import http from "node:http";
import { pathToFileURL } from "node:url";

import { readBody, json, decodePath } from "./lib/http.mjs";
import { createClock, RateLimiter } from "./lib/limits.mjs";
import { Counters } from "./lib/state.mjs";
import { Faults } from "./lib/faults.mjs";
import { Identity, aadError } from "./lib/identity.mjs";
import { Sentinel, sentinelError } from "./lib/sentinel.mjs";
import { Defender, defenderError } from "./lib/defender.mjs";
import { Graph, graphError } from "./lib/graph.mjs";
import { renderPage } from "./lib/page.mjs";

/**
 * @typedef {object} EmulatorOptions
 * @property {number} [port]            0 (default) = an ephemeral port
 * @property {number} [timeScale]       documented durations are divided by this (default 1)
 * @property {number} [seed]            PRNG seed for faults (default 1)
 * @property {import("./lib/identity.mjs").App[]} [apps]  extra registered clients
 * @property {string} [identityHeader]  the managed-identity X-IDENTITY-HEADER secret
 * @property {number} [defenderCap]     active Defender indicators per tenant (default 15000)
 * @property {number} [tokenLifetimeS]  `expires_in` of access tokens (default 3599)
 * @property {string[]} [tenants]       accepted tenants (default: any)
 * @property {Record<string, import("./lib/limits.mjs").Window[]>} [rateLimits]  per-class overrides
 */

/**
 * @typedef {object} Emulator
 * @property {string} url
 * @property {number} port
 * @property {() => Promise<void>} close
 * @property {() => ReturnType<EmulatorCore["state"]>} state
 * @property {() => void} reset
 * @property {(rules: unknown) => void} setFaults
 * @property {(app: import("./lib/identity.mjs").App) => void} registerApp
 * @property {(indicator: Record<string, unknown>) => Record<string, unknown>} seedDefender
 */

/** The default managed-identity header secret. */
export const DEFAULT_IDENTITY_HEADER = "emulator-identity-header";

/**
 * One route: its name (for counters and fault rules), the API whose shapes it answers in, its rate
 * limit class, and the handler.
 * @typedef {object} Route
 * @property {string} method
 * @property {RegExp} pattern
 * @property {string} id
 * @property {"entra" | "msi" | "sentinel" | "defender" | "graph" | "control"} api
 * @property {string | null} limitClass
 * @property {(ctx: Context) => import("./lib/http.mjs").Reply | Promise<import("./lib/http.mjs").Reply>} handle
 */

/**
 * @typedef {object} Context
 * @property {import("node:http").IncomingMessage} req
 * @property {string[]} params
 * @property {URLSearchParams} query
 * @property {Buffer} body
 * @property {string} baseUrl    `http://<host as called>`
 * @property {string} path       the decoded path
 * @property {import("./lib/identity.mjs").Principal} principal
 * @property {((valid: number[]) => Set<number>) | null} failItems
 */

const GRAPH = "/beta/security/tiIndicators";
const GRAPH_ACTION = (name) => new RegExp(`^${GRAPH}/(?:microsoft\\.graph\\.)?${name}$`);

export class EmulatorCore {
  /** @param {EmulatorOptions} options */
  constructor(options) {
    this.options = checkOptions(options);
    this.clock = createClock(this.options.timeScale);
    this.counters = new Counters();
    this.limiter = new RateLimiter(this.clock, this.options.rateLimits);
    this.faults = new Faults(this.options.seed, this.counters);
    this.identity = new Identity({
      clock: this.clock,
      counters: this.counters,
      tokenLifetimeS: this.options.tokenLifetimeS,
      identityHeader: this.options.identityHeader,
      tenants: this.options.tenants,
    });
    for (const app of this.options.apps) this.identity.registerApp(app);
    this.sentinel = new Sentinel(this.counters);
    this.defender = new Defender({ counters: this.counters, cap: this.options.defenderCap, now: this.clock.now });
    this.graph = new Graph(this.counters);
    /** @type {Set<NodeJS.Timeout>} timers of delayed (fault) answers, cleared on close */
    this.timers = new Set();
    this.routes = this.buildRoutes();
  }

  /** @returns {Route[]} */
  buildRoutes() {
    /** @returns {Route} */
    const route = (method, pattern, id, api, limitClass, handle) => ({ method, pattern, id, api, limitClass, handle });
    /** What the API handlers take from a request. @param {Context} ctx */
    const request = (ctx) => ({
      principal: ctx.principal,
      body: ctx.body,
      query: ctx.query,
      baseUrl: ctx.baseUrl,
      failItems: ctx.failItems,
      id: ctx.params[0] ?? null,
      prefer: header(ctx.req, "prefer"),
    });
    const { sentinel, defender, graph } = this;
    const upload = (api) => (ctx) => sentinel.upload({ ...request(ctx), api, workspace: ctx.params[0] });
    const one = `^${GRAPH}/([^/]+)$`;
    return [
      // Entra ID
      route("POST", /^\/([^/]+)\/oauth2\/v2\.0\/token$/, "token", "entra", null, (ctx) => this.token(ctx)),
      route("GET", /^\/msi\/token$/, "msi", "msi", null, (ctx) => this.identity.msi(ctx.query, header(ctx.req, "x-identity-header"))),
      // Sentinel: the STIX objects API, and the legacy V2 and V1 upload-indicators endpoints
      route("POST", /^\/workspaces\/([^/]+)\/threat-intelligence-stix-objects:upload$/, "sentinel-upload", "sentinel", "sentinel-upload", upload("stix")),
      route("POST", /^\/workspaces\/([^/]+)\/threatintelligenceindicators:upload$/, "sentinel-upload", "sentinel", "sentinel-upload", upload("v2")),
      route("POST", /^\/([^/]+)\/threatintelligence:upload-indicators$/, "sentinel-upload", "sentinel", "sentinel-upload", upload("v1")),
      // Defender for Endpoint
      route("POST", /^\/api\/indicators\/import$/i, "defender-import", "defender", "defender-import", (ctx) => defender.import(request(ctx))),
      route("POST", /^\/api\/indicators\/BatchDelete$/i, "defender-batch-delete", "defender", "defender-batch-delete", (ctx) => defender.batchDelete(request(ctx))),
      route("POST", /^\/api\/indicators$/i, "defender-submit", "defender", "defender-submit", (ctx) => defender.submit(request(ctx))),
      route("GET", /^\/api\/indicators$/i, "defender-list", "defender", "defender-read", (ctx) => defender.list(request(ctx))),
      route("GET", /^\/api\/indicators\/([^/]+)$/i, "defender-list", "defender", "defender-read", (ctx) => defender.get(request(ctx))),
      route("DELETE", /^\/api\/indicators\/([^/]+)$/i, "defender-delete", "defender", "defender-delete", (ctx) => defender.delete(request(ctx))),
      // Graph tiIndicators
      route("POST", GRAPH_ACTION("submitTiIndicators"), "graph-submit", "graph", "graph", (ctx) => graph.submit(request(ctx))),
      route("POST", GRAPH_ACTION("updateTiIndicators"), "graph-update", "graph", "graph", (ctx) => graph.updateMany(request(ctx))),
      route("POST", GRAPH_ACTION("deleteTiIndicatorsByExternalId"), "graph-delete-by-external-id", "graph", "graph", (ctx) => graph.deleteMany({ ...request(ctx), byExternalId: true })),
      route("POST", GRAPH_ACTION("deleteTiIndicators"), "graph-delete", "graph", "graph", (ctx) => graph.deleteMany({ ...request(ctx), byExternalId: false })),
      route("POST", new RegExp(`^${GRAPH}$`), "graph-create", "graph", "graph", (ctx) => graph.createOne(request(ctx))),
      route("GET", new RegExp(`^${GRAPH}$`), "graph-list", "graph", "graph", (ctx) => graph.list(request(ctx))),
      route("GET", new RegExp(one), "graph-list", "graph", "graph", (ctx) => graph.list(request(ctx))),
      route("PATCH", new RegExp(one), "graph-update", "graph", "graph", (ctx) => graph.patch(request(ctx))),
      route("DELETE", new RegExp(one), "graph-delete", "graph", "graph", (ctx) => graph.deleteOne(request(ctx))),
      // Inspection and control
      ...this.controlRoutes(),
    ];
  }

  /** @returns {Route[]} the inspection and control routes under /_emulator */
  controlRoutes() {
    /** @returns {Route} */
    const route = (method, pattern, handle) => ({ method, pattern, id: "control", api: "control", limitClass: null, handle });
    const noContent = { status: 204, body: null };
    return [
      route("GET", /^\/_emulator\/?$/, () => ({ status: 200, body: renderPage(this.state()), contentType: "text/html; charset=utf-8" })),
      route("GET", /^\/_emulator\/state$/, () => json(200, this.state())),
      route("POST", /^\/_emulator\/reset$/, () => {
        this.reset();
        return noContent;
      }),
      route("POST", /^\/_emulator\/apps$/, (ctx) =>
        control(ctx.body, (app) => {
          this.identity.registerApp(app);
          return { status: 201, body: null };
        }),
      ),
      route("GET", /^\/_emulator\/faults$/, () => json(200, this.faults.snapshot())),
      route("POST", /^\/_emulator\/faults$/, (ctx) =>
        control(ctx.body, (rules) => {
          this.faults.set(rules);
          return json(200, this.faults.snapshot());
        }),
      ),
      route("DELETE", /^\/_emulator\/faults$/, () => {
        this.faults.clear();
        return noContent;
      }),
      route("POST", /^\/_emulator\/defender\/indicators$/, (ctx) => control(ctx.body, (indicator) => json(201, this.defender.seed(indicator)))),
    ];
  }

  /** Clears the stores, counters, faults and rate-limit windows (registered apps stay). */
  reset() {
    this.sentinel.reset();
    this.defender.reset();
    this.graph.reset();
    this.counters.reset();
    this.faults.clear();
    this.limiter.reset();
  }

  /** Everything stored, plus the counters, the fault rules and the registered apps (no secrets). */
  state() {
    return {
      options: {
        timeScale: this.options.timeScale,
        defenderCap: this.options.defenderCap,
        tokenLifetimeS: this.options.tokenLifetimeS,
        seed: this.options.seed,
      },
      sentinel: this.sentinel.snapshot(),
      defender: this.defender.snapshot(),
      graph: this.graph.snapshot(),
      counters: this.counters.snapshot(),
      faults: this.faults.snapshot(),
      apps: this.identity.summary(),
    };
  }

  /** @param {Context} ctx */
  token(ctx) {
    const pathOnly = ctx.req.url?.split("?")[0] ?? "";
    return this.identity.token({
      tenant: ctx.params[0],
      body: ctx.body,
      authorization: header(ctx.req, "authorization"),
      endpointUrl: `${ctx.baseUrl}${pathOnly}`,
    });
  }

  // ---- the request pipeline -------------------------------------------------------------------

  /**
   * @param {import("node:http").IncomingMessage} req
   * @param {import("node:http").ServerResponse} res
   */
  async handle(req, res) {
    let routeId = "unknown";
    try {
      const url = req.url ?? "/";
      const at = url.indexOf("?");
      const path = decodePath(at < 0 ? url : url.slice(0, at));
      const query = new URLSearchParams(at < 0 ? "" : url.slice(at + 1));
      const found = this.findRoute(req.method ?? "GET", path);
      if ("error" in found) {
        await readBody(req);
        return this.send(res, routeId, found.error);
      }
      const { route, params } = found;
      routeId = route.id;
      const body = await readBody(req);
      if (body === null) return this.send(res, routeId, errorReply(route.api, 413, "RequestEntityTooLarge", "The request body is too large."));
      /** @type {Context} */
      const ctx = { req, params, query, body, path, baseUrl: `http://${req.headers.host ?? "127.0.0.1"}`, principal: /** @type {any} */ (null), failItems: null };
      if (route.api === "control") return this.send(res, routeId, await route.handle(ctx));

      const fault = this.faults.pick(route.id);
      if (fault && fault.kind !== "partial") return this.injectFault(req, res, route, fault);
      if (fault) ctx.failItems = (valid) => this.faults.failItems(fault, valid);

      if (route.api === "sentinel" || route.api === "defender" || route.api === "graph") {
        const auth = this.identity.authenticate(header(req, "authorization"), route.api);
        if ("error" in auth) return this.send(res, routeId, unauthorized(route.api, auth.error));
        ctx.principal = auth.ok;
        if (route.limitClass) {
          const admission = this.limiter.admit(route.limitClass, `${auth.ok.tid}|${auth.ok.appid}`);
          if (admission.ok === false) {
            this.counters.throttle("natural", route.limitClass);
            return this.send(res, routeId, tooMany(route.api, admission.retryAfterS));
          }
        }
      }
      return this.send(res, routeId, await route.handle(ctx));
    } catch (e) {
      process.stderr.write(`emulator: internal error on ${req.method} ${req.url?.split("?")[0]}: ${e instanceof Error ? e.stack : e}\n`);
      return this.send(res, routeId, json(500, { error: { code: "EmulatorError", message: "The emulator failed on this request (a bug in the emulator, not in the request)." } }));
    }
  }

  /**
   * @param {string} method
   * @param {string} path
   * @returns {{route: Route, params: string[]} | {error: import("./lib/http.mjs").Reply}}
   */
  findRoute(method, path) {
    const allowed = [];
    for (const route of this.routes) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      if (route.method === method) return { route, params: m.slice(1) };
      allowed.push(route.method);
    }
    if (allowed.length > 0) {
      return { error: json(405, { error: { code: "MethodNotAllowed", message: `${method} is not allowed on ${path}; allowed: ${allowed.join(", ")}.` } }, { Allow: allowed.join(", ") }) };
    }
    return { error: json(404, { error: { code: "NotFound", message: `No route for ${method} ${path}. See emulator/README.md for the routes.` } }) };
  }

  /**
   * Answers with an injected fault: not processed.
   * @param {import("node:http").IncomingMessage} req
   * @param {import("node:http").ServerResponse} res
   * @param {Route} route
   * @param {import("./lib/faults.mjs").Fault} fault
   */
  injectFault(req, res, route, fault) {
    if (fault.kind === "reset") {
      this.counters.request(route.id, "reset");
      destroy(req);
      return;
    }
    if (fault.kind === "timeout") {
      this.counters.request(route.id, "timeout");
      this.later(fault.delayMs, () => destroy(req));
      return;
    }
    let reply;
    if (fault.kind === "429") {
      this.counters.throttle("injected", route.limitClass ?? route.id);
      reply = tooMany(route.api, /** @type {number} */ (fault.retryAfterS));
    } else if (fault.kind === "token") {
      reply = route.api === "msi"
        ? json(500, { statusCode: 500, message: "An unexpected error occured while fetching the AAD Token." })
        : aadError(503, "temporarily_unavailable", 90006, "The service is temporarily unavailable. Please try again.");
    } else {
      const status = Number(fault.kind);
      reply = errorReply(route.api, status, status === 503 ? "ServiceUnavailable" : "InternalServerError", status === 503 ? "The service is temporarily unavailable; retry later." : "An internal server error occurred; retry later.");
    }
    if (fault.delayMs > 0) this.later(fault.delayMs, () => this.send(res, route.id, reply));
    else this.send(res, route.id, reply);
  }

  /**
   * Runs `fn` after `ms` real milliseconds, unless the emulator closes first.
   * @param {number} ms
   * @param {() => void} fn
   */
  later(ms, fn) {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  /**
   * Sends a reply and counts it.
   * @param {import("node:http").ServerResponse} res
   * @param {string} routeId
   * @param {import("./lib/http.mjs").Reply} reply
   */
  send(res, routeId, reply) {
    if (routeId !== "control") this.counters.request(routeId, reply.status);
    if (res.destroyed || res.headersSent) return;
    const headers = { ...(reply.headers ?? {}) };
    let payload = "";
    if (reply.body !== null && reply.body !== undefined) {
      payload = typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body);
      headers["Content-Type"] = reply.contentType ?? "application/json; charset=utf-8";
    }
    headers["Content-Length"] = String(Buffer.byteLength(payload));
    res.writeHead(reply.status, headers);
    res.end(payload);
  }
}

/**
 * The error shape of each API.
 * @param {Route["api"]} api
 * @param {number} status
 * @param {string} code
 * @param {string} message
 * @param {Record<string, string>} [headers]
 * @returns {import("./lib/http.mjs").Reply}
 */
function errorReply(api, status, code, message, headers) {
  switch (api) {
    case "sentinel":
      return sentinelError(status, message, headers);
    case "defender":
      return defenderError(status, code, message, headers);
    case "graph":
      return graphError(status, code, message, headers);
    case "entra": {
      const reply = status === 429
        ? aadError(429, "temporarily_unavailable", 90055, "There are too many incoming requests; retry later.")
        : aadError(status, status === 503 ? "temporarily_unavailable" : "server_error", status === 503 ? 90006 : 90100, message);
      return { ...reply, headers: { ...reply.headers, ...headers } };
    }
    default:
      return json(status, { statusCode: status, message }, headers);
  }
}

/**
 * A 429 in the API's shape, with `Retry-After` (emulated seconds).
 * @param {Route["api"]} api
 * @param {number} seconds
 */
function tooMany(api, seconds) {
  const headers = { "Retry-After": String(seconds) };
  if (api === "sentinel") return sentinelError(429, `Rate limit is exceeded. Try again in ${seconds} seconds.`, headers);
  if (api === "defender") return defenderError(429, "TooManyRequests", `Rate limit is exceeded. Try again in ${seconds} seconds.`, headers);
  if (api === "graph") return graphError(429, "TooManyRequests", `Too many requests. Retry after ${seconds} seconds.`, headers);
  return errorReply(api, 429, "TooManyRequests", `Too many requests. Try again in ${seconds} seconds.`, headers);
}

/**
 * A 401 in the API's shape.
 * @param {"sentinel" | "defender" | "graph"} api
 * @param {string} why
 */
function unauthorized(api, why) {
  const headers = { "WWW-Authenticate": 'Bearer error="invalid_token"' };
  if (api === "sentinel") return sentinelError(401, "Unauthorized. Access token is missing or invalid.", headers);
  if (api === "defender") return defenderError(401, "Unauthorized", why, headers);
  return graphError(401, "InvalidAuthenticationToken", why, headers);
}

/**
 * Runs a control action on a JSON body: 400 with the reason when the body or the action is wrong.
 * @param {Buffer} body
 * @param {(value: any) => import("./lib/http.mjs").Reply} action
 */
function control(body, action) {
  let value;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch (e) {
    return json(400, { error: { code: "BadRequest", message: `malformed JSON: ${e instanceof Error ? e.message : e}` } });
  }
  try {
    return action(value);
  } catch (e) {
    if (e instanceof TypeError) return json(400, { error: { code: "BadRequest", message: e.message } });
    throw e;
  }
}

/**
 * @param {import("node:http").IncomingMessage} req
 * @param {string} name lowercase
 */
function header(req, name) {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** @param {import("node:http").IncomingMessage} req */
function destroy(req) {
  const socket = req.socket;
  if (typeof socket.resetAndDestroy === "function" && !socket.destroyed) socket.resetAndDestroy();
  else socket.destroy();
}

/**
 * Fills in the defaults and rejects nonsense (a TypeError).
 * @param {EmulatorOptions} options
 */
function checkOptions(options = {}) {
  const o = {
    port: options.port ?? 0,
    timeScale: options.timeScale ?? 1,
    seed: options.seed ?? 1,
    apps: options.apps ?? [],
    identityHeader: options.identityHeader ?? DEFAULT_IDENTITY_HEADER,
    defenderCap: options.defenderCap ?? 15_000,
    tokenLifetimeS: options.tokenLifetimeS ?? 3599,
    tenants: options.tenants,
    rateLimits: options.rateLimits ?? {},
  };
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new TypeError(`port must be 0–65535, found ${o.port}`);
  if (typeof o.timeScale !== "number" || !(o.timeScale > 0) || !Number.isFinite(o.timeScale)) throw new TypeError(`timeScale must be a positive number, found ${o.timeScale}`);
  if (!Number.isInteger(o.seed)) throw new TypeError(`seed must be an integer, found ${o.seed}`);
  if (!Array.isArray(o.apps)) throw new TypeError("apps must be a list");
  if (typeof o.identityHeader !== "string" || o.identityHeader === "") throw new TypeError("identityHeader must be a non-empty string");
  if (!Number.isInteger(o.defenderCap) || o.defenderCap < 0) throw new TypeError(`defenderCap must be a whole number, found ${o.defenderCap}`);
  if (typeof o.tokenLifetimeS !== "number" || !(o.tokenLifetimeS > 0)) throw new TypeError(`tokenLifetimeS must be positive, found ${o.tokenLifetimeS}`);
  if (o.tenants !== undefined && !(Array.isArray(o.tenants) && o.tenants.every((t) => typeof t === "string"))) throw new TypeError("tenants must be a list of strings");
  return o;
}

/**
 * Starts an emulator on 127.0.0.1.
 * @param {EmulatorOptions} [options]
 * @returns {Promise<Emulator>}
 */
export async function startEmulator(options = {}) {
  const core = new EmulatorCore(options);
  const server = http.createServer((req, res) => {
    core.handle(req, res);
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(core.options.port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve(undefined);
    });
  });
  const address = /** @type {import("node:net").AddressInfo} */ (server.address());
  const url = `http://127.0.0.1:${address.port}`;
  let closing = null;
  return {
    url,
    port: address.port,
    close() {
      closing ??= new Promise((resolve) => {
        for (const timer of core.timers) clearTimeout(timer);
        core.timers.clear();
        server.close(() => resolve(undefined));
        server.closeAllConnections();
      });
      return closing;
    },
    state: () => core.state(),
    reset: () => core.reset(),
    setFaults: (rules) => core.faults.set(rules),
    registerApp: (app) => core.identity.registerApp(app),
    seedDefender: (indicator) => core.defender.seed(indicator),
  };
}

// ---- command line -------------------------------------------------------------------------------

const USAGE = `usage: node emulator/server.mjs [--port 8788] [--time-scale 1] [--seed N]
                                [--defender-cap 15000] [--token-lifetime 3599] [--identity-header X]
Prints {"emulator":"<url>"} once listening; stops on SIGINT/SIGTERM.`;

/** @param {string[]} argv */
export function parseArgs(argv) {
  /** @type {EmulatorOptions} */
  const options = { port: 8788 };
  const names = { "--port": "port", "--time-scale": "timeScale", "--seed": "seed", "--defender-cap": "defenderCap", "--token-lifetime": "tokenLifetimeS", "--identity-header": "identityHeader" };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split("=", 2);
    if (flag === "--help" || flag === "-h") return { help: true, options };
    const name = names[flag];
    if (!name) throw new TypeError(`unknown argument ${argv[i]}\n${USAGE}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new TypeError(`${flag} needs a value\n${USAGE}`);
    options[name] = name === "identityHeader" ? value : Number(value);
  }
  return { help: false, options };
}

async function main() {
  let parsed;
  try {
    parsed = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : e}\n`);
    process.exit(2);
  }
  if (parsed.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  let emulator;
  try {
    emulator = await startEmulator(parsed.options);
  } catch (e) {
    process.stderr.write(`emulator: ${e instanceof Error ? e.message : e}\n`);
    process.exit(1);
  }
  process.stdout.write(`${JSON.stringify({ emulator: emulator.url })}\n`);
  const stop = async () => {
    await emulator.close();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main();
}
