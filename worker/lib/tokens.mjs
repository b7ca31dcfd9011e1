// Entra ID tokens for the destinations (reference/microsoft-apis.md §4, §5.1, addendum 9): client
// secret, certificate assertion or managed identity; cached per (token URL or MI endpoint, client id,
// scope) until shortly before expiry; one acquisition in flight per cache key, shared by every caller.
//
// Nothing here ever puts a secret, an assertion or a token in a message or a log line: every value
// handled is registered with the logger (`log.addSecret`) so it is scrubbed even if it leaks into a
// server's error text, and error messages are built from names, statuses and Entra's codes only.

import { CertificateError, createAssertion, parseCertificateSecret } from "./assertion.mjs";
import { silentLogger } from "./log.mjs";

/** Refresh this long before a token expires (the injected clock's ms). */
export const REFRESH_MARGIN_MS = 5 * 60 * 1000;
const MI_API_VERSION = "2019-08-01";
const ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const MAX_MESSAGE = 500;

/**
 * A token could not be acquired. `transient` errors (5xx, 429, timeouts, network failures,
 * `temporarily_unavailable`, an unreadable secret store) are worth retrying; the others are
 * configuration problems that waiting does not fix.
 */
export class TokenError extends Error {
  /**
   * @param {{destination: string, status: number, code?: string, aadsts?: number, transient: boolean,
   *   message: string, retry_after_ms?: number}} fields
   */
  constructor({ destination, status, code, aadsts, transient, message, retry_after_ms }) {
    super(message);
    this.name = "TokenError";
    this.destination = destination;
    this.status = status;
    this.code = code;
    this.aadsts = aadsts;
    this.transient = transient;
    if (retry_after_ms !== undefined) this.retry_after_ms = retry_after_ms;
  }
}

/**
 * @typedef {object} Destination  A destination of the effective config (`relay.config.destinations[i]`).
 * @property {string} name
 * @property {string} [client_id]
 * @property {{secret: string} | {certificate: string, algorithm?: "PS256" | "RS256"}
 *   | {managed_identity: true | {client_id?: string | null}}} credential
 * @property {{token_url: string, scope: string, resource: string}} endpoint
 */

/**
 * @param {object} deps
 * @param {typeof fetch} deps.fetch
 * @param {() => number} deps.now  Epoch ms on the host's clock.
 * @param {(name: string) => Promise<string | undefined>} deps.secrets
 * @param {import("./log.mjs").Logger} [deps.log]
 * @param {{IDENTITY_ENDPOINT?: string, IDENTITY_HEADER?: string}} [deps.env]
 * @param {object} [deps.options]
 * @param {"PS256" | "RS256" | Record<string, "PS256" | "RS256">} [deps.options.certificateAlgorithm]
 *   The assertion algorithm: one for all, or per destination name (default PS256; a destination's
 *   `credential.algorithm` wins).
 * @param {number} [deps.options.timeoutMs]  Per token request, real time (default 30000).
 * @param {number} [deps.options.failureTtlMs]  How long a permanent failure is remembered, so a bad
 *   credential costs one token request per this period, not one per API request (default 30000).
 * @returns {{get(destination: Destination, scope?: string): Promise<string>,
 *   invalidate(destination: Destination, scope?: string): void}}  `scope` defaults to the
 *   destination's `endpoint.scope` (the loop passes each request's `audience`).
 */
export function createTokenSource({ fetch, now, secrets, log = silentLogger(), env = {}, options = {} }) {
  const { certificateAlgorithm = "PS256", timeoutMs = 30000, failureTtlMs = 30000 } = options;
  /** @type {Map<string, {token?: string, refreshAt?: number, expiresAt?: number, error?: TokenError, until?: number}>} */
  const cache = new Map();
  /** @type {Map<string, Promise<string>>} */
  const inflight = new Map();
  const scrub = (text) => (log.scrub ? log.scrub(text) : text);
  const addSecret = (value) => log.addSecret?.(value);
  addSecret(env.IDENTITY_HEADER);

  /** The destination asking for `scope` (a request's `audience`) instead of its endpoint's; a managed
   * identity asks for the matching v1 resource (the scope without `/.default`). */
  const forScope = (dest, scope) => {
    if (!scope || !dest.endpoint || scope === dest.endpoint.scope) return dest;
    return { ...dest, endpoint: { ...dest.endpoint, scope, resource: scope.replace(/\/\.default$/, "") } };
  };
  const isManaged = (dest) => dest.credential && "managed_identity" in dest.credential;
  const miClientId = (dest) => {
    const mi = dest.credential.managed_identity;
    return (mi && typeof mi === "object" && mi.client_id) || undefined;
  };
  const cacheKey = (dest) =>
    isManaged(dest)
      ? `mi|${env.IDENTITY_ENDPOINT}|${miClientId(dest) ?? "system"}|${dest.endpoint?.resource}`
      : `${dest.endpoint?.token_url}|${dest.client_id}|${dest.endpoint?.scope}`;
  const label = (dest) => {
    const c = dest.credential ?? {};
    if ("secret" in c) return `secret ${c.secret}`;
    if ("certificate" in c) return `certificate ${c.certificate}`;
    if ("managed_identity" in c) return "managed identity";
    return "no credential";
  };
  const fail = (dest, fields) =>
    new TokenError({
      destination: dest.name,
      status: 0,
      ...fields,
      message: scrub(`token for destination ${dest.name} (${label(dest)}): ${fields.message}`).slice(0, MAX_MESSAGE),
    });

  async function readSecret(dest, name) {
    let value;
    try {
      value = await secrets(name);
    } catch (err) {
      throw fail(dest, { transient: true, message: `secret ${name} could not be read: ${err?.message ?? err}` });
    }
    if (value === undefined || value === null || value === "") {
      throw fail(dest, { transient: false, code: "missing_secret", message: `secret ${name} is not set` });
    }
    const text = String(value);
    // Also as it travels in a form body or a URL, in case a server or proxy echoes the request.
    for (const form of [text, encodeURIComponent(text), new URLSearchParams({ v: text }).toString().slice(2)]) addSecret(form);
    return text;
  }

  /** fetch with a timeout; network failures and timeouts become transient TokenErrors. */
  async function call(dest, url, init) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      const response = await fetch(url, { ...init, signal: controller.signal });
      const text = await response.text();
      return { response, text };
    } catch (err) {
      const timedOut = controller.signal.aborted;
      throw fail(dest, {
        transient: true,
        code: timedOut ? "timeout" : "network",
        message: timedOut ? `no answer within ${timeoutMs} ms` : `network: ${err?.message ?? err}`,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /** The token of a 2xx answer, or the TokenError an answer describes. */
  function readAnswer(dest, { response, text }, acquiredAt) {
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (response.ok && json && typeof json.access_token === "string" && json.access_token) {
      addSecret(json.access_token);
      let expiresAt;
      if (json.expires_on !== undefined && Number.isFinite(Number(json.expires_on))) {
        expiresAt = Number(json.expires_on) * 1000;
      } else {
        const expiresIn = Number(json.expires_in);
        expiresAt = acquiredAt + (Number.isFinite(expiresIn) ? expiresIn : 3600) * 1000;
      }
      return { token: json.access_token, expiresAt };
    }
    const status = response.status;
    // Entra: {"error","error_description","error_codes"}; App Service MI: {"error":{"code","message"}}
    // or {"statusCode","message"}.
    const err = json && typeof json === "object" ? json : {};
    const code = typeof err.error === "string" ? err.error : err.error?.code ?? undefined;
    const description = String(err.error_description ?? err.error?.message ?? err.message ?? (json ? "" : text)).split(/\r?\n/)[0].slice(0, 300);
    const aadsts = Array.isArray(err.error_codes) && Number.isInteger(err.error_codes[0])
      ? err.error_codes[0]
      : Number(/AADSTS(\d+)/.exec(description)?.[1]) || undefined;
    let detail = [code, description].filter(Boolean).join(": ");
    if (aadsts && !detail.includes(`AADSTS${aadsts}`)) detail += ` (AADSTS${aadsts})`;
    if (response.ok) detail = "the answer holds no access_token";
    const transient = status >= 500 || status === 429 || status === 408 || code === "temporarily_unavailable";
    const retryAfter = Number(response.headers.get("retry-after"));
    return {
      error: fail(dest, {
        status,
        code,
        aadsts,
        transient,
        message: `http ${status}${detail ? ` ${detail}` : ""}`,
        ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retry_after_ms: retryAfter * 1000 } : {}),
      }),
    };
  }

  async function fromEntra(dest, form) {
    const acquiredAt = now();
    const answer = await call(dest, dest.endpoint.token_url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: new URLSearchParams(form).toString(),
    });
    return readAnswer(dest, answer, acquiredAt);
  }

  async function acquire(dest) {
    const credential = dest.credential ?? {};
    if (!dest.endpoint) throw fail(dest, { transient: false, code: "config", message: "the destination has no endpoint" });
    if ("secret" in credential) {
      const secret = await readSecret(dest, credential.secret);
      return fromEntra(dest, {
        client_id: dest.client_id,
        scope: dest.endpoint.scope,
        client_secret: secret,
        grant_type: "client_credentials",
      });
    }
    if ("certificate" in credential) {
      const name = credential.certificate;
      const pem = await readSecret(dest, name);
      const alg = credential.algorithm
        ?? (typeof certificateAlgorithm === "string" ? certificateAlgorithm : certificateAlgorithm?.[dest.name])
        ?? "PS256";
      let assertion;
      try {
        const { key, cert } = parseCertificateSecret(pem, name);
        assertion = await createAssertion({
          keyDer: key,
          certDer: cert,
          alg,
          clientId: dest.client_id,
          audience: dest.endpoint.token_url,
          nowMs: now(),
          name,
        });
      } catch (err) {
        if (err instanceof CertificateError) throw fail(dest, { transient: false, code: "certificate", message: err.message });
        throw err;
      }
      addSecret(assertion);
      return fromEntra(dest, {
        client_id: dest.client_id,
        scope: dest.endpoint.scope,
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: assertion,
        grant_type: "client_credentials",
      });
    }
    if ("managed_identity" in credential) {
      if (!env.IDENTITY_ENDPOINT || !env.IDENTITY_HEADER) {
        throw fail(dest, {
          transient: false,
          code: "managed_identity",
          message: "a managed identity needs IDENTITY_ENDPOINT and IDENTITY_HEADER (Azure Functions / App Service with an identity enabled)",
        });
      }
      const url = new URL(env.IDENTITY_ENDPOINT);
      url.searchParams.set("resource", dest.endpoint.resource);
      url.searchParams.set("api-version", MI_API_VERSION);
      const clientId = miClientId(dest);
      if (clientId) url.searchParams.set("client_id", clientId);
      const acquiredAt = now();
      const answer = await call(dest, url.toString(), {
        method: "GET",
        headers: { "x-identity-header": env.IDENTITY_HEADER, accept: "application/json" },
      });
      return readAnswer(dest, answer, acquiredAt);
    }
    throw fail(dest, { transient: false, code: "config", message: "the destination has no credential" });
  }

  return {
    async get(destination, scope) {
      const dest = forScope(destination, scope);
      const key = cacheKey(dest);
      const hit = cache.get(key);
      const t = now();
      if (hit?.token && t < hit.refreshAt) {
        log.debug?.("token", { destination: dest.name, cached: true, expires_in_s: Math.round((hit.expiresAt - t) / 1000) });
        return hit.token;
      }
      if (hit?.error && t < hit.until) throw hit.error;
      let pending = inflight.get(key);
      if (!pending) {
        pending = (async () => {
          try {
            const started = now();
            const result = await acquire(dest);
            if (result.error) throw result.error;
            // Refresh 5 minutes before expiry, or halfway through a token shorter-lived than 10 minutes.
            const lifetime = result.expiresAt - started;
            const refreshAt = result.expiresAt - Math.min(REFRESH_MARGIN_MS, lifetime / 2);
            cache.set(key, { token: result.token, expiresAt: result.expiresAt, refreshAt });
            log.info?.("token acquired", {
              destination: dest.name,
              credential: label(dest),
              cached: false,
              expires_in_s: Math.round((result.expiresAt - now()) / 1000),
            });
            return result.token;
          } catch (thrown) {
            const err = thrown instanceof TokenError
              ? thrown
              : fail(dest, { transient: false, code: "internal", message: `unexpected error: ${thrown?.message ?? thrown}` });
            // A refresh that fails transiently keeps using the current token while it is still valid.
            const previous = cache.get(key);
            if (err.transient && previous?.token && now() < previous.expiresAt - 30000) {
              log.warn?.("token refresh failed, using the current token", { destination: dest.name, error: err.message });
              return previous.token;
            }
            if (!err.transient) cache.set(key, { error: err, until: now() + failureTtlMs });
            else cache.delete(key);
            log.warn?.("token failed", {
              destination: dest.name,
              status: err.status,
              code: err.code,
              aadsts: err.aadsts,
              transient: err.transient,
              error: err.message,
            });
            throw err;
          } finally {
            inflight.delete(key);
          }
        })();
        inflight.set(key, pending);
      }
      return pending;
    },

    invalidate(destination, scope) {
      cache.delete(cacheKey(forScope(destination, scope)));
    },
  };
}
