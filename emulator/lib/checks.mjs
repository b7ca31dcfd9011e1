// Value checks shared by the API modules, ported from tests/support/msapi.rs (the Rust validators
// written from reference/microsoft-apis.md). Each check returns `null` when the value is fine, or a
// short lowercase reason.

/**
 * A parsed RFC 3339 UTC timestamp.
 * @typedef {object} Timestamp
 * @property {number} ms    Unix milliseconds (fraction beyond ms dropped), for comparisons with "now".
 * @property {string} key   A fixed-width text that sorts in time order, sub-millisecond digits included.
 */

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Parses `YYYY-MM-DDTHH:MM:SS[.fraction]Z` (UTC only, as the docs ask).
 * @param {unknown} text
 * @returns {{ok: Timestamp} | {error: string}}
 */
export function parseTimestamp(text) {
  if (typeof text !== "string") return { error: `expected a timestamp string, found ${describe(text)}` };
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})?$/.exec(text);
  if (!m) return { error: "not `YYYY-MM-DDTHH:MM:SS[.fraction]Z`" };
  if (m[8] === undefined) return { error: "no offset: expected `Z`" };
  if (m[8] !== "Z") return { error: "offset must be `Z`" };
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && leap ? 29 : DAYS[month - 1];
  if (year === 0) return { error: "year out of range" };
  if (month < 1 || month > 12) return { error: "month out of range" };
  if (day < 1 || day > days) return { error: "day out of range" };
  if (hour > 23) return { error: "hour out of range" };
  if (minute > 59) return { error: "minute out of range" };
  if (second > 59) return { error: "second out of range" };
  const fraction = (m[7] ?? "").padEnd(12, "0").slice(0, 12);
  const ms = Date.UTC(year, month - 1, day, hour, minute, second, Number(fraction.slice(0, 3)));
  return { ok: { ms, key: `${text.slice(0, 19)}.${fraction}` } };
}

/** @param {string} s */
export function isUuid(s) {
  return /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(s);
}

/**
 * A dotted-quad IPv4 address: four decimal octets 0–255, no leading zeros.
 * @param {string} s
 */
export function isIpv4(s) {
  const parts = s.split(".");
  return (
    parts.length === 4 &&
    parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255)
  );
}

/**
 * Any IPv6 literal (compressed forms allowed; no zone id).
 * @param {string} s
 */
export function isIpv6(s) {
  if (s.includes("%") || !s.includes(":")) return false;
  const [head, tail, ...more] = s.split("::");
  if (more.length > 0) return false;
  const groups = (text) => (text === "" ? [] : text.split(":"));
  let left = groups(head);
  let right = tail === undefined ? [] : groups(tail);
  let budget = 8;
  const last = (right.length > 0 ? right : left).at(-1);
  if (last !== undefined && last.includes(".")) {
    if (!isIpv4(last)) return false;
    budget = 6;
    if (right.length > 0) right = right.slice(0, -1);
    else left = left.slice(0, -1);
  }
  const hex = (g) => /^[0-9a-fA-F]{1,4}$/.test(g);
  if (![...left, ...right].every(hex)) return false;
  const count = left.length + right.length;
  return tail === undefined ? count === budget : count < budget;
}

/**
 * What is wrong with a Defender IP indicator value: IPv4 dotted quad, or IPv6 with all 8 segments.
 * @param {string} value
 * @returns {string | null}
 */
export function defenderIpError(value) {
  if (value.includes("/")) return `CIDR ranges are not supported: expected a single address, found ${quote(value)}`;
  if (isIpv4(value)) return null;
  if (value.includes("::")) {
    return `expected an IPv6 address with all 8 segments spelled out (no \`::\`), found ${quote(value)}`;
  }
  const groups = value.split(":");
  const full = groups.length === 8 && groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g));
  return full ? null : `expected an IPv4 dotted quad or an IPv6 address with all 8 segments, found ${quote(value)}`;
}

/**
 * What is wrong with a host name: no scheme, path, port or wildcard; LDH labels (plus `_`).
 * @param {string} value
 * @returns {string | null}
 */
export function hostError(value) {
  let reason = null;
  if (value.includes("://")) reason = "no scheme";
  else if (/[/?#]/.test(value)) reason = "no path";
  else if (value.includes(":")) reason = "no port";
  else if (value.includes("*")) reason = "no wildcard";
  else if (isIpv4(value)) reason = "not an IP address";
  else if (!/^[\x00-\x7f]*$/.test(value)) reason = "internationalised names in punycode (`xn--…`)";
  else if (value.length > 253) reason = "at most 253 characters";
  else if (
    !value
      .split(".")
      .every((l) => l.length >= 1 && l.length <= 63 && !l.startsWith("-") && !l.endsWith("-") && /^[A-Za-z0-9_-]+$/.test(l))
  ) {
    reason = "dot-separated labels of 1 to 63 letters, digits, `-` or `_`";
  }
  return reason === null ? null : `expected a host name (${reason}), found ${quote(value)}`;
}

/**
 * What is wrong with a URL: it must not be empty or contain whitespace or control characters.
 * @param {string} value
 * @returns {string | null}
 */
export function urlError(value) {
  if (value.trim() === "") return "expected a URL, found an empty string";
  // eslint-disable-next-line no-control-regex
  return /[\s\x00-\x1f\x7f]/.test(value) ? `expected a URL without whitespace, found ${quote(value)}` : null;
}

/**
 * What is wrong with a hex digest of `digits` characters.
 * @param {string} value
 * @param {number} digits
 * @param {string} what
 * @returns {string | null}
 */
export function hexError(value, digits, what) {
  return value.length === digits && /^[0-9a-fA-F]+$/.test(value)
    ? null
    : `expected ${digits} hexadecimal digits (${what}), found ${quote(value)}`;
}

/**
 * A CIDR block like `203.0.113.0/24` or `2001:db8::/32`.
 * @param {string} s
 */
export function isCidr(s) {
  const at = s.indexOf("/");
  if (at < 0) return false;
  const address = s.slice(0, at);
  const bits = s.slice(at + 1);
  const max = isIpv4(address) ? 32 : isIpv6(address) ? 128 : -1;
  return max > 0 && /^(0|[1-9]\d*)$/.test(bits) && Number(bits) <= max;
}

/**
 * A STIX identifier `<type>--<UUID>`; `prefix` is the required type, or null for any.
 * @param {unknown} id
 * @param {string | null} prefix
 * @returns {string | null}
 */
export function stixIdError(id, prefix) {
  if (typeof id !== "string") return `expected a string, found ${describe(id)}`;
  const at = id.indexOf("--");
  if (at <= 0) return `expected \`${prefix ?? "<type>"}--<UUID>\``;
  const type = id.slice(0, at);
  if (prefix !== null && type !== prefix) return `expected the prefix \`${prefix}--\`, found \`${type}--\``;
  if (!isUuid(id.slice(at + 2))) return "expected a UUID (8-4-4-4-12 hexadecimal digits) after `--`";
  return null;
}

/**
 * A piece of input in backticks, shortened to 64 characters.
 * @param {string} s
 */
export function quote(s) {
  const chars = [...s];
  return chars.length > 64 ? `\`${chars.slice(0, 64).join("")}…\`` : `\`${s}\``;
}

/**
 * A value for "found …" in messages: scalars as JSON, containers by kind.
 * @param {unknown} v
 */
export function describe(v) {
  if (Array.isArray(v)) return "an array";
  if (v !== null && typeof v === "object") return "an object";
  if (v === undefined) return "nothing";
  return quote(JSON.stringify(v));
}

/**
 * A plain JSON object (not null, not an array).
 * @param {unknown} v
 * @returns {v is Record<string, unknown>}
 */
export function isObject(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** @param {unknown} v */
export function isNonEmptyString(v) {
  return typeof v === "string" && v.trim() !== "";
}

/**
 * An integer within [min, max].
 * @param {unknown} v
 * @param {number} min
 * @param {number} max
 */
export function isIntegerIn(v, min, max) {
  return typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;
}

/**
 * A quick structural check of a STIX pattern (not a full parse): at least one `[…]` observation,
 * brackets and parentheses balanced outside quoted strings, strings closed.
 * @param {string} pattern
 * @returns {string | null}
 */
export function stixPatternError(pattern) {
  const stack = [];
  let observations = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "'") {
      i++;
      while (i < pattern.length && pattern[i] !== "'") i += pattern[i] === "\\" ? 2 : 1;
      if (i >= pattern.length) return "a quoted string is not closed";
    } else if (c === "[" || c === "(") {
      stack.push(c);
      if (c === "[") observations++;
    } else if (c === "]" || c === ")") {
      const open = stack.pop();
      if (open !== (c === "]" ? "[" : "(")) return `unbalanced \`${c}\` at offset ${i}`;
    }
  }
  if (stack.length > 0) return `\`${stack.at(-1)}\` is not closed`;
  if (observations === 0) return "expected at least one observation expression `[…]`";
  return null;
}
