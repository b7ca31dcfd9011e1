// Rate pacing: a sliding log of booked send times per rate-limit class (SPEC §7: "a relay that
// respects the documented limits should see no 429 under its own load").
//
// A request booked at time t fits a window {requests: N, per_ms: W} when fewer than N booked requests
// lie in (t − W − margin, t]. Bookings are handed out in increasing order, so the earliest fitting time
// is simply the N-th most recent booking + W + margin, over every window of the class; a server-imposed
// wait (`block`, after a 429) moves the floor. Any N+1 consecutive bookings thus span at least
// W + margin, so no window of length W on the server ever holds more than N of our requests as long
// as their arrival jitter stays below the margin.
//
// Margin: 2% of each window (1.2 s on a minute, 72 s on an hour). It absorbs the difference between
// when we send and when the API counts (network latency jitter, the server's clock and bucket
// boundaries) and costs 2% of throughput: 100/min paces at 98/min, 30/min at 29.4/min, 1,500/h at
// 1,470/h — comfortably above the 90%-of-ceiling goal. A sliding log (not a token bucket or even
// spacing) lets the first N requests of a window go at once, which is what a 100-request webhook wants,
// and is exact against both sliding-window and fixed-bucket counters on the server side.
//
// Each booking is moved to the time its answer came back (`settle`): the API counted the request at
// some point between send and answer, so spacing from the answer holds whatever the latency. Only the
// margin is then left to cover clock granularity on the server side.
//
// The state is a plain JSON object ({log, blockedUntil}) so the Cloudflare host can keep it in a
// Durable Object and call these same pure functions there (reserve, block, release, settle — the
// last two optional for a host, at the price of that safety); `createLocalBudget` keeps one state per
// limit key in memory for the Node hosts.

/** The default margin as a fraction of each window. */
export const DEFAULT_MARGIN_RATIO = 0.02;

/**
 * @typedef {{requests: number, per_ms: number}} RateWindow  One documented limit: `requests` per `per_ms`.
 * @typedef {{log: number[], blockedUntil: number}} BudgetState  Booked send times (ascending) and the
 *   end of any server-imposed wait. JSON-serialisable.
 * @typedef {{marginMs?: number, marginRatio?: number}} MarginOptions  `marginMs` (the same for every
 *   window) overrides `marginRatio` (a fraction of each window, default 0.02).
 */

/** A fresh state. */
export function createState() {
  return { log: [], blockedUntil: 0 };
}

/**
 * Books the earliest time ≥ `nowMs` at which one more request fits every window, records it in
 * `state` (mutated) and returns it. With no windows, only a `block` can delay (nothing is booked).
 * @param {BudgetState} state
 * @param {RateWindow[] | undefined} windows
 * @param {number} nowMs
 * @param {MarginOptions} [options]
 * @returns {number} atMs
 */
export function reserve(state, windows, nowMs, { marginMs, marginRatio = DEFAULT_MARGIN_RATIO } = {}) {
  const spans = (windows ?? [])
    .filter((w) => w && w.requests > 0 && w.per_ms > 0)
    .map((w) => ({ n: Math.floor(w.requests), span: w.per_ms + (marginMs ?? Math.ceil(w.per_ms * marginRatio)) }));
  let at = Math.max(nowMs, state.blockedUntil || 0);
  if (spans.length === 0) return at;
  trim(state, spans, nowMs);
  const log = state.log;
  if (log.length > 0) at = Math.max(at, log[log.length - 1]);
  for (const { n, span } of spans) {
    if (log.length >= n) at = Math.max(at, log[log.length - n] + span);
  }
  log.push(at);
  return at;
}

/** Records a server-imposed wait: nothing is booked before `untilMs`. */
export function block(state, untilMs) {
  state.blockedUntil = Math.max(state.blockedUntil || 0, untilMs);
}

/** Gives back a booking that will not be used (the loop stopped before its time came). */
export function release(state, atMs) {
  const i = state.log.lastIndexOf(atMs);
  if (i >= 0) state.log.splice(i, 1);
}

/**
 * Moves a booking to when its request was answered. The API counted the request somewhere between
 * the send and the answer; recording the answer time makes the spacing hold whatever the latency
 * (a slow first request no longer crowds the window that follows), at the cost of one latency per
 * window of throughput.
 */
export function settle(state, bookedAtMs, doneAtMs) {
  const log = state.log;
  const i = log.lastIndexOf(bookedAtMs);
  if (i < 0 || doneAtMs <= bookedAtMs) return;
  log.splice(i, 1);
  let j = i;
  while (j < log.length && log[j] <= doneAtMs) j += 1;
  log.splice(j, 0, doneAtMs);
}

/** Drops bookings no window can count any more, and keeps at most the largest N. */
function trim(state, spans, nowMs) {
  const longest = Math.max(...spans.map((s) => s.span));
  const keep = Math.max(...spans.map((s) => s.n));
  const log = state.log;
  let drop = 0;
  while (drop < log.length && log[drop] <= nowMs - longest) drop += 1;
  drop = Math.max(drop, log.length - keep);
  if (drop > 0) log.splice(0, drop);
}

/**
 * An in-memory budget (one state per limit key) with the async interface the delivery loop uses;
 * a Durable Object offers the same methods over the same pure functions.
 * @param {MarginOptions} [options]
 */
export function createLocalBudget(options = {}) {
  /** @type {Map<string, BudgetState>} */
  const states = new Map();
  const get = (key) => {
    let state = states.get(key);
    if (!state) states.set(key, (state = createState()));
    return state;
  };
  return {
    /** @returns {Promise<number>} the booked send time */
    async reserve(limitKey, windows, nowMs) {
      return reserve(get(limitKey), windows, nowMs, options);
    },
    async block(limitKey, untilMs) {
      block(get(limitKey), untilMs);
    },
    async release(limitKey, atMs) {
      release(get(limitKey), atMs);
    },
    async settle(limitKey, bookedAtMs, doneAtMs) {
      settle(get(limitKey), bookedAtMs, doneAtMs);
    },
    /** The state of one class (a copy), for tests and diagnostics. */
    state(limitKey) {
      return structuredClone(get(limitKey));
    },
  };
}
