// Webhook authentication, shared by the HTTP hosts (Cloudflare Worker, Azure Functions handler).
//
// Two schemes, either is enough:
// - HMAC-SHA256: the sender signs `<timestamp>.<raw body>` with the shared secret and sends
//   `X-TI-Relay-Timestamp: <unix seconds>` and `X-TI-Relay-Signature: sha256=<hex>`. The timestamp
//   must lie within 5 minutes of the host's clock, and a signature is accepted once (the host's
//   replay store remembers it for the window).
// - Bearer: `Authorization: Bearer <token>`, compared in constant time.
//
// Only WebCrypto: runs unchanged in workerd, Node 22 and browsers.

/** Header names (lower case, as `Headers.get` takes them). */
export const SIGNATURE_HEADER = "x-ti-relay-signature";
export const TIMESTAMP_HEADER = "x-ti-relay-timestamp";
/** How far the timestamp may be from the host's clock, either way. */
export const WINDOW_MS = 5 * 60 * 1000;

const encoder = new TextEncoder();

/**
 * Signs a body as a sender must: returns the two headers to send.
 * @param {string} secret
 * @param {string | Uint8Array} body the raw body bytes (a string is UTF-8 encoded)
 * @param {number} timestampS unix seconds
 */
export async function sign(secret, body, timestampS) {
  const key = await hmacKey(secret);
  const mac = await crypto.subtle.sign("HMAC", key, signedBytes(String(timestampS), body));
  return { [TIMESTAMP_HEADER]: String(timestampS), [SIGNATURE_HEADER]: `sha256=${hex(new Uint8Array(mac))}` };
}

/**
 * @typedef {{ok: true, scheme: "hmac" | "bearer", replayKey?: string}
 *   | {ok: false, code: "unauthorized", message: string}} AuthResult
 */

/**
 * Checks a request's credentials. Nothing about the body is trusted before this passes.
 * @param {{get(name: string): string | null}} headers
 * @param {Uint8Array} body the raw body bytes
 * @param {{hmacSecret?: string, bearerToken?: string, nowMs: number}} options
 * @returns {Promise<AuthResult>} on HMAC success, `replayKey` is what the host must remember
 *   (for WINDOW_MS) and refuse when seen again.
 */
export async function authenticate(headers, body, { hmacSecret, bearerToken, nowMs }) {
  if (!hmacSecret && !bearerToken) {
    return deny("this relay has no webhook credential configured: set WEBHOOK_HMAC_SECRET or WEBHOOK_BEARER_TOKEN");
  }
  const authorization = headers.get("authorization");
  if (authorization !== null && bearerToken) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match && constantTimeEqual(match[1], bearerToken)) return { ok: true, scheme: "bearer" };
    if (!headers.get(SIGNATURE_HEADER)) return deny("invalid bearer token");
  }
  const signature = headers.get(SIGNATURE_HEADER);
  if (signature === null || !hmacSecret) {
    return deny(
      hmacSecret
        ? `missing \`${SIGNATURE_HEADER}\` header: sign \`<timestamp>.<body>\` with HMAC-SHA256 and send \`sha256=<hex>\``
        : "missing `Authorization: Bearer <token>` header",
    );
  }
  const timestamp = headers.get(TIMESTAMP_HEADER);
  if (timestamp === null || !/^\d{1,12}$/.test(timestamp.trim())) {
    return deny(`missing or invalid \`${TIMESTAMP_HEADER}\` header: expected unix seconds`);
  }
  const skewMs = Math.abs(nowMs - Number(timestamp.trim()) * 1000);
  if (skewMs > WINDOW_MS) {
    return deny(`stale \`${TIMESTAMP_HEADER}\`: it is ${Math.round(skewMs / 1000)} s from this host's clock, the window is 300 s`);
  }
  const match = /^sha256=([0-9a-fA-F]{64})$/.exec(signature.trim());
  if (!match) return deny(`invalid \`${SIGNATURE_HEADER}\` header: expected \`sha256=<64 hex digits>\``);
  const key = await hmacKey(hmacSecret);
  // crypto.subtle.verify compares in constant time.
  const valid = await crypto.subtle.verify("HMAC", key, unhex(match[1]), signedBytes(timestamp.trim(), body));
  if (!valid) return deny("signature does not match the body: sign `<timestamp>.<raw body>` with the shared secret");
  return { ok: true, scheme: "hmac", replayKey: match[1].toLowerCase() };
}

/** @returns {AuthResult} */
function deny(message) {
  return { ok: false, code: "unauthorized", message };
}

/**
 * Whether `given` (what the client sent) equals `secret`, in time that depends only on `given`'s
 * length: every code unit of `given` is compared (with the secret's unit at the same place, cycled),
 * and the lengths are folded into the same difference, so neither where they differ nor the secret's
 * length shows in the time taken.
 */
export function constantTimeEqual(given, secret) {
  if (secret.length === 0) return given.length === 0;
  let diff = given.length ^ secret.length;
  for (let i = 0; i < given.length; i++) diff |= given.charCodeAt(i) ^ secret.charCodeAt(i % secret.length);
  return diff === 0;
}

/** The last HMAC secret imported and its key. */
let lastKey = { secret: undefined, key: undefined };

async function hmacKey(secret) {
  if (lastKey.secret !== secret) {
    const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    lastKey = { secret, key };
  }
  return lastKey.key;
}

function signedBytes(timestamp, body) {
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  const prefix = encoder.encode(`${timestamp}.`);
  const out = new Uint8Array(prefix.length + bytes.length);
  out.set(prefix, 0);
  out.set(bytes, prefix.length);
  return out;
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function unhex(text) {
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}
