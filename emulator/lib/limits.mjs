// Rate limits: a sliding window per (limit class, calling identity), in scaled time.
//
// With time scale S, a documented window of W seconds lasts W / S real seconds, and a wait is told
// to the client in emulated seconds: ceil(realRemainingMs × S / 1000), at least 1.

/**
 * @typedef {object} Window
 * @property {number} windowS  the documented window, in seconds
 * @property {number} limit    requests allowed in the window
 */

/** The documented limits (microsoft-apis.md §1.5, §2.2, §3), per limit class (the names the
 * planner uses in `request.limit`, plus `defender-submit` for the single POST). */
export const DEFAULT_LIMITS = Object.freeze({
  "sentinel-upload": [{ windowS: 60, limit: 100 }],
  "defender-submit": [{ windowS: 60, limit: 100 }, { windowS: 3600, limit: 1500 }],
  "defender-import": [{ windowS: 60, limit: 30 }],
  "defender-read": [{ windowS: 60, limit: 100 }, { windowS: 3600, limit: 1500 }],
  "defender-delete": [{ windowS: 60, limit: 100 }, { windowS: 3600, limit: 1500 }],
  "defender-batch-delete": [{ windowS: 60, limit: 30 }, { windowS: 3600, limit: 1500 }],
  graph: [{ windowS: 60, limit: 1000 }],
});

/**
 * The emulator's clock: real wall time, with documented durations divided by the time scale.
 * @typedef {object} Clock
 * @property {number} scale
 * @property {() => number} now                          real Unix milliseconds
 * @property {(seconds: number) => number} realMs        a documented duration in real milliseconds
 * @property {(realMs: number) => number} retryAfterS    a real wait as emulated whole seconds (≥ 1)
 */

/**
 * @param {number} scale
 * @param {() => number} [now]
 * @returns {Clock}
 */
export function createClock(scale, now = Date.now) {
  return {
    scale,
    now,
    realMs: (seconds) => (seconds * 1000) / scale,
    retryAfterS: (realMs) => Math.max(1, Math.ceil((realMs * scale) / 1000)),
  };
}

/**
 * @typedef {{ok: true} | {ok: false, retryAfterS: number, windowS: number, limit: number}} Admission
 */

export class RateLimiter {
  /**
   * @param {Clock} clock
   * @param {Record<string, Window[]>} [limits] overrides per class (merged over the defaults)
   */
  constructor(clock, limits = {}) {
    this.clock = clock;
    /** @type {Record<string, Window[]>} */
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    /** @type {Map<string, number[][]>} one sorted list of admission times per window */
    this.hits = new Map();
  }

  /**
   * Admits one request of `limitClass` by `identity`, or says how long to wait. A refused request
   * does not count against the limit.
   * @param {string} limitClass
   * @param {string} identity
   * @returns {Admission}
   */
  admit(limitClass, identity) {
    const windows = this.limits[limitClass];
    if (!windows || windows.length === 0) return { ok: true };
    const key = `${limitClass}|${identity}`;
    let lists = this.hits.get(key);
    if (!lists) {
      lists = windows.map(() => []);
      this.hits.set(key, lists);
    }
    const now = this.clock.now();
    /** @type {Admission} */
    let refusal = { ok: true };
    let longest = -1;
    windows.forEach((w, i) => {
      const span = this.clock.realMs(w.windowS);
      const list = lists[i];
      const firstLive = list.findIndex((t) => t > now - span);
      list.splice(0, firstLive < 0 ? list.length : firstLive);
      if (list.length >= w.limit) {
        const wait = list[list.length - w.limit] + span - now;
        if (wait > longest) {
          longest = wait;
          refusal = { ok: false, retryAfterS: this.clock.retryAfterS(wait), windowS: w.windowS, limit: w.limit };
        }
      }
    });
    if (!refusal.ok) return refusal;
    for (const list of lists) list.push(now);
    return refusal;
  }

  /** Forgets every window. */
  reset() {
    this.hits.clear();
  }
}
