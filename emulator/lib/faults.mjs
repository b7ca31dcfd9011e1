// Fault injection: rules that make chosen requests fail (429, 5xx, timeouts, resets, token-endpoint
// failures, partial failures), deterministically for a given seed and request sequence.

import { createRandom } from "./random.mjs";

/** Route names a rule can match (`*` = every API and token route, never the control API). */
export const FAULT_ROUTES = Object.freeze([
  "sentinel-upload",
  "defender-submit",
  "defender-import",
  "defender-list",
  "defender-delete",
  "defender-batch-delete",
  "graph-submit",
  "graph-create",
  "graph-update",
  "graph-delete",
  "graph-delete-by-external-id",
  "graph-list",
  "token",
  "msi",
  "*",
]);

export const FAULT_KINDS = Object.freeze(["429", "500", "503", "timeout", "reset", "token", "partial"]);

/** Routes whose requests carry several items, where a `partial` fault applies. */
const PARTIAL_ROUTES = new Set(["sentinel-upload", "defender-import", "graph-submit", "graph-update", "graph-delete", "graph-delete-by-external-id"]);

/** Routes where a `token` fault applies. */
const TOKEN_ROUTES = new Set(["token", "msi"]);

/** The default delay of a `timeout` fault, in real milliseconds. */
export const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * @typedef {object} FaultRule
 * @property {{route: string}} match
 * @property {string} kind
 * @property {number} [rate]     probability per matching call, 0–1
 * @property {number[]} [calls]  1-based numbers of the matching calls to fail
 * @property {number} [times]    at most this many injections by this rule
 * @property {number} [delayMs]  real milliseconds before answering (default 30 000 for `timeout`, else 0)
 */

/**
 * One injected fault.
 * @typedef {object} Fault
 * @property {number} rule       the rule's index
 * @property {string} route
 * @property {string} kind
 * @property {number} call       the matching call number (per rule, from 1)
 * @property {number} delayMs
 * @property {number} [retryAfterS]  for `429`
 * @property {number[]} [items]      for `partial`: the indexes of the items made to fail
 * @property {string} at
 */

/**
 * Whether `kind` makes sense on `route`.
 * @param {string} kind
 * @param {string} route
 */
function applies(kind, route) {
  if (kind === "partial") return PARTIAL_ROUTES.has(route);
  if (kind === "token") return TOKEN_ROUTES.has(route);
  return true;
}

/**
 * Validates a rule; throws a TypeError saying what is wrong.
 * @param {unknown} rule
 * @param {number} i
 * @returns {FaultRule}
 */
function checkRule(rule, i) {
  const where = `rules[${i}]`;
  if (rule === null || typeof rule !== "object" || Array.isArray(rule)) throw new TypeError(`${where}: expected an object`);
  const r = /** @type {Record<string, any>} */ (rule);
  const route = r.match?.route;
  if (!FAULT_ROUTES.includes(route)) throw new TypeError(`${where}.match.route: expected one of ${FAULT_ROUTES.join(", ")}, found ${JSON.stringify(route)}`);
  if (!FAULT_KINDS.includes(r.kind)) throw new TypeError(`${where}.kind: expected one of ${FAULT_KINDS.join(", ")}, found ${JSON.stringify(r.kind)}`);
  if (r.rate !== undefined && !(typeof r.rate === "number" && r.rate >= 0 && r.rate <= 1)) throw new TypeError(`${where}.rate: expected a number from 0 to 1`);
  if (r.calls !== undefined && !(Array.isArray(r.calls) && r.calls.every((c) => Number.isInteger(c) && c >= 1))) {
    throw new TypeError(`${where}.calls: expected a list of call numbers counting from 1`);
  }
  if (r.times !== undefined && !(Number.isInteger(r.times) && r.times >= 0)) throw new TypeError(`${where}.times: expected a whole number`);
  if (r.delayMs !== undefined && !(typeof r.delayMs === "number" && r.delayMs >= 0 && r.delayMs <= 600_000)) {
    throw new TypeError(`${where}.delayMs: expected milliseconds from 0 to 600000`);
  }
  return { match: { route }, kind: r.kind, rate: r.rate, calls: r.calls, times: r.times, delayMs: r.delayMs };
}

export class Faults {
  /**
   * @param {number} seed
   * @param {import("./state.mjs").Counters} counters
   */
  constructor(seed, counters) {
    this.defaultSeed = seed;
    this.counters = counters;
    this.clear();
  }

  /** Removes every rule and forgets the injected faults; the seed goes back to the default. */
  clear() {
    this.seed = this.defaultSeed;
    this.random = createRandom(this.seed);
    /** @type {{rule: FaultRule, seen: number, fired: number}[]} */
    this.rules = [];
    /** @type {Fault[]} */
    this.injected = [];
  }

  /**
   * Replaces the rules: `{seed?, rules}` or just the list of rules. Throws a TypeError on a bad rule
   * (and then keeps the previous rules).
   * @param {unknown} config
   */
  set(config) {
    const body = Array.isArray(config) ? { rules: config } : config;
    if (body === null || typeof body !== "object") throw new TypeError("expected {seed?, rules: [...]}");
    const { seed, rules } = /** @type {{seed?: unknown, rules?: unknown}} */ (body);
    if (!Array.isArray(rules)) throw new TypeError("rules: expected a list");
    if (seed !== undefined && !Number.isInteger(seed)) throw new TypeError("seed: expected an integer");
    const checked = rules.map(checkRule);
    this.clear();
    this.seed = seed === undefined ? this.defaultSeed : /** @type {number} */ (seed);
    this.random = createRandom(this.seed);
    this.rules = checked.map((rule) => ({ rule, seen: 0, fired: 0 }));
  }

  /**
   * Decides whether this request on `route` gets a fault. Every matching rule counts the call; the
   * first one whose conditions hold fires.
   * @param {string} route
   * @returns {Fault | null}
   */
  pick(route) {
    /** @type {Fault | null} */
    let fault = null;
    this.rules.forEach((entry, index) => {
      const { rule } = entry;
      if (rule.match.route !== "*" && rule.match.route !== route) return;
      if (!applies(rule.kind, route)) return;
      entry.seen += 1;
      if (fault) return;
      if (rule.times !== undefined && entry.fired >= rule.times) return;
      if (rule.calls !== undefined && !rule.calls.includes(entry.seen)) return;
      if (rule.rate !== undefined && this.random.next() >= rule.rate) return;
      entry.fired += 1;
      fault = {
        rule: index,
        route,
        kind: rule.kind,
        call: entry.seen,
        delayMs: rule.delayMs ?? (rule.kind === "timeout" ? DEFAULT_TIMEOUT_MS : 0),
        at: new Date().toISOString(),
      };
      if (rule.kind === "429") fault.retryAfterS = this.random.int(1, 5);
    });
    if (fault) {
      this.injected.push(fault);
      if (this.injected.length > 10_000) this.injected.shift();
      this.counters.fault(route, /** @type {Fault} */ (fault).kind);
    }
    return fault;
  }

  /**
   * The items a `partial` fault fails, among `candidates` (indexes of items that would otherwise
   * succeed): about a third, at least one.
   * @param {Fault} fault
   * @param {number[]} candidates
   * @returns {Set<number>}
   */
  failItems(fault, candidates) {
    if (candidates.length === 0) {
      fault.items = [];
      return new Set();
    }
    const count = Math.max(1, Math.round(candidates.length / 3));
    const chosen = this.random.sample(candidates.length, count).map((i) => candidates[i]);
    fault.items = chosen;
    return new Set(chosen);
  }

  /** The rules and what they did, for the state. */
  snapshot() {
    return {
      seed: this.seed,
      rules: this.rules.map(({ rule, seen, fired }) => ({ ...rule, seen, fired })),
      injected: this.injected.map((f) => ({ ...f })),
    };
  }
}
