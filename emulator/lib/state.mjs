// Counters the tests and the inspection page read: requests per route and status, 429s (natural and
// injected) per limit class, injected faults, tokens issued, and the quirk counters.

/** The quirk counters, each starting at 0. */
const QUIRKS = [
  // Sentinel: a version whose `modified` is not newer than the stored one.
  "stale_modified",
  // Sentinel: a new version of an object that was already revoked.
  "revoked_then_updated",
  // Graph: an indicator created with an externalId the same app already used.
  "duplicate_external_id",
  // Defender: the legacy `Alert` / `AlertAndBlock` actions.
  "deprecated_action",
];

export class Counters {
  constructor() {
    this.reset();
  }

  reset() {
    /** @type {Record<string, Record<string, number>>} route → status → count */
    this.requests = {};
    /** @type {{natural: Record<string, number>, injected: Record<string, number>}} limit class → count */
    this.throttled = { natural: {}, injected: {} };
    /** @type {Record<string, number>} `route:kind` → count */
    this.faults = {};
    /** @type {Record<string, number>} client id → tokens issued */
    this.tokens = {};
    /** @type {Record<string, number>} */
    this.quirks = Object.fromEntries(QUIRKS.map((q) => [q, 0]));
  }

  /**
   * @param {string} route
   * @param {number | string} status  an HTTP status, or `timeout` / `reset`
   */
  request(route, status) {
    const byStatus = (this.requests[route] ??= {});
    byStatus[status] = (byStatus[status] ?? 0) + 1;
  }

  /**
   * @param {"natural" | "injected"} origin
   * @param {string} limitClass
   */
  throttle(origin, limitClass) {
    const counts = this.throttled[origin];
    counts[limitClass] = (counts[limitClass] ?? 0) + 1;
  }

  /**
   * @param {string} route
   * @param {string} kind
   */
  fault(route, kind) {
    const key = `${route}:${kind}`;
    this.faults[key] = (this.faults[key] ?? 0) + 1;
  }

  /** @param {string} clientId */
  tokenIssued(clientId) {
    this.tokens[clientId] = (this.tokens[clientId] ?? 0) + 1;
  }

  /**
   * @param {string} name one of the quirk counters
   * @param {number} [by]
   */
  quirk(name, by = 1) {
    this.quirks[name] = (this.quirks[name] ?? 0) + by;
  }

  /** A JSON snapshot. */
  snapshot() {
    return {
      requests: structuredClone(this.requests),
      throttled: structuredClone(this.throttled),
      faults: { ...this.faults },
      tokens_issued: { ...this.tokens },
      ...this.quirks,
    };
  }
}
