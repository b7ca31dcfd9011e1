// Structured JSON-lines logging with redaction, shared by every host (Worker, Azure handler, CLI).
//
// One line per event: {"ts","level","msg",...fields}. Two independent guards keep credentials out:
// - fields whose KEY names a credential (authorization, secret, password, assertion, token, cookie,
//   signature) are replaced by "[redacted]", except URL-valued keys (`token_url`, `*_url`);
// - every secret VALUE registered with `addSecret` (tokens.mjs registers each client secret,
//   certificate PEM, assertion and access token it handles) is scrubbed from every string, wherever it
//   appears: in `msg`, in any field, nested at any depth.

/** @typedef {"debug" | "info" | "warn" | "error"} Level */

/**
 * @typedef {object} Logger
 * @property {(msg: string, fields?: object) => void} debug
 * @property {(msg: string, fields?: object) => void} info
 * @property {(msg: string, fields?: object) => void} warn
 * @property {(msg: string, fields?: object) => void} error
 * @property {(fields: object) => Logger} child  A logger adding `fields` to every line (same secrets).
 * @property {(value: string | undefined | null) => void} addSecret  Scrub this value from all output.
 * @property {(text: string) => string} scrub  `text` with every registered secret replaced.
 * @property {<T>(value: T) => T} redact  A copy of `value` with credential keys and secret values removed.
 * @property {(level: Level) => boolean} enabled
 */

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 };
const REDACTED = "[redacted]";
const SENSITIVE_KEY = /authorization|secret|password|assertion|token|cookie|signature/i;
const URL_KEY = /(^|_)url$/i;
/** Values shorter than this are not registered: scrubbing "abc" everywhere would garble the log. */
const MIN_SECRET_LENGTH = 6;

/** Whether a field with this key must never be written. URL keys (`token_url`) are kept. */
export function isSensitiveKey(key) {
  return SENSITIVE_KEY.test(key) && !URL_KEY.test(key);
}

/**
 * @param {(line: string) => void} write  Where each JSON line goes (console.log, a stream, an array).
 * @param {{level?: Level, fields?: object, now?: () => number}} [options]
 *   `now` gives the `ts` (epoch ms; default `Date.now`), so a time-scaled host logs its own clock.
 * @returns {Logger}
 */
export function createLogger(write, { level = "info", fields = {}, now = Date.now } = {}) {
  const threshold = LEVELS[level] ?? LEVELS.info;
  /** Shared by every child: a secret registered anywhere is scrubbed everywhere. */
  const secrets = new Set();

  const scrub = (text) => {
    let out = text;
    for (const secret of secrets) {
      if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    }
    return out;
  };

  const redact = (value, depth = 0) => {
    if (typeof value === "string") return scrub(value);
    if (value === null || typeof value !== "object" || depth > 8) return value;
    if (value instanceof Error) {
      return { name: value.name, message: scrub(String(value.message)), ...redact({ ...value }, depth + 1) };
    }
    if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
    const out = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = isSensitiveKey(k) ? REDACTED : redact(v, depth + 1);
    }
    return out;
  };

  const make = (base) => {
    const emit = (lvl, msg, extra) => {
      if (LEVELS[lvl] < threshold) return;
      const line = { ts: new Date(now()).toISOString(), level: lvl, msg: scrub(String(msg)), ...redact({ ...base, ...extra }) };
      let text;
      try {
        text = JSON.stringify(line);
      } catch {
        text = JSON.stringify({ ts: line.ts, level: lvl, msg: line.msg, log_error: "fields not serialisable" });
      }
      write(text);
    };
    return {
      debug: (msg, extra) => emit("debug", msg, extra),
      info: (msg, extra) => emit("info", msg, extra),
      warn: (msg, extra) => emit("warn", msg, extra),
      error: (msg, extra) => emit("error", msg, extra),
      child: (more) => make({ ...base, ...more }),
      addSecret: (value) => {
        if (typeof value === "string" && value.length >= MIN_SECRET_LENGTH) secrets.add(value);
      },
      scrub,
      redact: (value) => redact(value),
      enabled: (lvl) => LEVELS[lvl] >= threshold,
    };
  };
  return make(fields);
}

/** A logger that writes nothing but still scrubs (the default when a host injects none). */
export function silentLogger() {
  return createLogger(() => {}, { level: "error" });
}
