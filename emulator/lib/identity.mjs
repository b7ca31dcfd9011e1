// Microsoft Entra ID for the emulator: registered apps, the v2 token endpoint (client secret or
// certificate assertion), the App Service managed-identity endpoint, and the check every API route
// makes on the bearer token it receives. Secrets and assertions are never logged or stored in state.

import crypto from "node:crypto";

import { parseCertificate, decodeJwt, signHs256, verifyHs256, assertionSignatureError } from "./jwt.mjs";
import { json, correlationId } from "./http.mjs";

/** Token audiences each API accepts (compared without a trailing slash, ignoring case). */
export const AUDIENCES = Object.freeze({
  sentinel: [
    "https://management.azure.com",
    "https://management.core.windows.net",
    "https://management.usgovcloudapi.net",
    "https://management.chinacloudapi.cn",
  ],
  defender: [
    "https://api.securitycenter.microsoft.com",
    "https://api-gcc.securitycenter.microsoft.us",
    "https://api-gov.securitycenter.microsoft.us",
    "https://securitycenter.onmicrosoft.com/windowsatpservice",
  ],
  graph: ["https://graph.microsoft.com"],
});

/** The application roles a token for each API carries. */
const ROLES = { sentinel: [], defender: ["Ti.ReadWrite.All"], graph: ["ThreatIndicators.ReadWrite.OwnedBy"] };

/** The app registered in every emulator. */
export const DEFAULT_APP = Object.freeze({
  client_id: "00000000-0000-4000-8000-00000000c0de",
  secret: "emulator-dev-secret",
  name: "ti-relay emulator dev app",
});

/** The system-assigned managed identity's client id. */
export const DEFAULT_MI_CLIENT_ID = "00000000-0000-4000-8000-0000000000a1";

/** The tenant managed-identity tokens are issued in. */
export const DEFAULT_MI_TENANT = "emulator.onmicrosoft.com";

const ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const CLOCK_SKEW_MS = 5 * 60 * 1000;

/**
 * A registered application.
 * @typedef {object} App
 * @property {string} client_id
 * @property {string} [secret]
 * @property {string | string[]} [certificate]  PEM certificate(s) whose key signs assertions
 * @property {string} [name]
 */

/**
 * Who called an API, from a valid access token.
 * @typedef {object} Principal
 * @property {string} appid
 * @property {string} tid
 * @property {string} name
 * @property {string[]} roles
 */

/**
 * The API an audience belongs to, or null.
 * @param {string} resource
 * @returns {"sentinel" | "defender" | "graph" | null}
 */
export function apiOfResource(resource) {
  const normal = normalizeResource(resource);
  for (const [api, list] of Object.entries(AUDIENCES)) {
    if (list.includes(normal)) return /** @type {"sentinel" | "defender" | "graph"} */ (api);
  }
  return null;
}

/** @param {string} resource */
function normalizeResource(resource) {
  return resource.trim().replace(/\/+$/, "").toLowerCase();
}

export class Identity {
  /**
   * @param {object} options
   * @param {import("./limits.mjs").Clock} options.clock
   * @param {import("./state.mjs").Counters} options.counters
   * @param {number} options.tokenLifetimeS
   * @param {string} options.identityHeader
   * @param {string[] | undefined} options.tenants  accepted tenants; undefined or empty = any
   */
  constructor({ clock, counters, tokenLifetimeS, identityHeader, tenants }) {
    this.clock = clock;
    this.counters = counters;
    this.tokenLifetimeS = tokenLifetimeS;
    this.identityHeader = identityHeader;
    this.tenants = (tenants ?? []).map((t) => t.toLowerCase());
    this.key = crypto.randomBytes(32);
    /** @type {Map<string, {client_id: string, secret?: string, certificates: import("./jwt.mjs").Certificate[], name: string}>} */
    this.apps = new Map();
    /** @type {Map<string, number>} `client_id|jti` → when the entry may be forgotten (ms) */
    this.usedJtis = new Map();
    this.registerApp(DEFAULT_APP);
  }

  /**
   * Registers (or replaces) an application. Throws a TypeError on a bad shape or certificate.
   * @param {App} app
   */
  registerApp(app) {
    if (app === null || typeof app !== "object") throw new TypeError("an app is an object {client_id, secret?, certificate?, name?}");
    const { client_id: clientId, secret, certificate, name } = app;
    if (typeof clientId !== "string" || clientId.trim() === "") throw new TypeError("app.client_id must be a non-empty string");
    if (secret !== undefined && (typeof secret !== "string" || secret === "")) throw new TypeError("app.secret must be a non-empty string");
    if (name !== undefined && typeof name !== "string") throw new TypeError("app.name must be a string");
    const pems = certificate === undefined ? [] : Array.isArray(certificate) ? certificate : [certificate];
    const certificates = pems.map((pem, i) => {
      if (typeof pem !== "string") throw new TypeError(`app.certificate[${i}] must be a PEM string`);
      try {
        return parseCertificate(pem);
      } catch (e) {
        throw new TypeError(`app.certificate[${i}] is not a PEM X.509 certificate: ${e instanceof Error ? e.message : e}`);
      }
    });
    if (secret === undefined && certificates.length === 0) throw new TypeError("an app needs a secret or a certificate");
    this.apps.set(clientId.toLowerCase(), { client_id: clientId, secret, certificates, name: name ?? clientId });
  }

  /** The registered apps, without their secrets. */
  summary() {
    return [...this.apps.values()].map((a) => ({
      client_id: a.client_id,
      name: a.name,
      secret: a.secret !== undefined,
      certificates: a.certificates.map((c) => ({ x5t: c.x5t, "x5t#S256": c.x5tS256 })),
    }));
  }

  // ---- POST /{tenant}/oauth2/v2.0/token -------------------------------------------------------

  /**
   * @param {object} request
   * @param {string} request.tenant      the path segment
   * @param {Buffer} request.body
   * @param {string | undefined} request.authorization
   * @param {string} request.endpointUrl the token URL as the client called it (no query)
   * @returns {import("./http.mjs").Reply}
   */
  token({ tenant, body, authorization, endpointUrl }) {
    const form = new URLSearchParams(body.toString("utf8"));
    const grantType = form.get("grant_type");
    if (!grantType) return missingParameter("grant_type");
    if (grantType !== "client_credentials") {
      return aadError(400, "unsupported_grant_type", 70003, `The app requested an unsupported grant type '${grantType}'; this emulator implements client_credentials only.`);
    }
    let basic = null;
    if (authorization && /^basic\s/i.test(authorization)) {
      basic = parseBasic(authorization);
      if (!basic) return aadError(400, "invalid_request", 900144, "The HTTP Basic authorization header is malformed.");
    }
    const bodyClientId = form.get("client_id");
    if (basic && bodyClientId && bodyClientId !== basic.clientId) {
      return aadError(400, "invalid_request", 700021, "The client_id in the body does not match the one in the Authorization header.");
    }
    const clientId = bodyClientId ?? basic?.clientId;
    if (!clientId) return missingParameter("client_id");
    if (this.tenants.length > 0 && !this.tenants.includes(tenant.toLowerCase())) {
      return aadError(400, "invalid_request", 90002, `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
    }
    const app = this.apps.get(clientId.toLowerCase());
    if (!app) {
      return aadError(400, "unauthorized_client", 700016, `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`);
    }
    const scope = form.get("scope");
    if (scope === null || scope.trim() === "") {
      return aadError(400, "invalid_scope", 70011, "The provided request must include a 'scope' input parameter.");
    }
    const scopes = scope.trim().split(/\s+/);
    if (scopes.length !== 1 || !scopes[0].endsWith("/.default")) {
      return aadError(400, "invalid_scope", 70011, `The provided value for the input parameter 'scope' is not valid. The scope '${scope}' is not valid: client credential flows must ask for exactly one '<resource>/.default'.`);
    }
    const resource = scopes[0].slice(0, -"/.default".length);
    const api = apiOfResource(resource);
    if (!api) {
      return aadError(400, "invalid_resource", 500011, `The resource principal named ${resource} was not found in the tenant named ${tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`);
    }
    const bodySecret = form.get("client_secret");
    const secret = bodySecret ?? basic?.secret ?? null;
    const assertionType = form.get("client_assertion_type");
    const assertion = form.get("client_assertion");
    let failure;
    if (secret !== null && (assertion !== null || (basic && bodySecret !== null))) {
      failure = aadError(400, "invalid_request", 900144, "The request must use exactly one client authentication method.");
    } else if (secret !== null) {
      failure = this.checkSecret(app, secret);
    } else if (assertion !== null || assertionType !== null) {
      failure = this.checkAssertion(app, assertionType, assertion, endpointUrl);
    } else {
      failure = aadError(401, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    }
    if (failure) return failure;
    return json(200, this.issue(app.client_id, app.name, tenant, resource, api));
  }

  /**
   * @param {{secret?: string, client_id: string}} app
   * @param {string} secret
   */
  checkSecret(app, secret) {
    const expected = app.secret === undefined ? null : Buffer.from(app.secret);
    const given = Buffer.from(secret);
    if (expected && expected.length === given.length && crypto.timingSafeEqual(expected, given)) return null;
    return aadError(401, "invalid_client", 7000215, `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.client_id}'.`);
  }

  /**
   * @param {{client_id: string, certificates: import("./jwt.mjs").Certificate[]}} app
   * @param {string | null} assertionType
   * @param {string | null} assertion
   * @param {string} endpointUrl
   */
  checkAssertion(app, assertionType, assertion, endpointUrl) {
    if (assertionType !== ASSERTION_TYPE) {
      return aadError(400, "invalid_request", 900144, `The request body must contain the following parameter: 'client_assertion_type' = '${ASSERTION_TYPE}'.`);
    }
    if (!assertion) return missingParameter("client_assertion");
    const jwt = decodeJwt(assertion);
    if (!jwt) return aadError(400, "invalid_request", 50027, "JWT token is invalid or malformed.");
    const invalid = (code, text) => aadError(401, "invalid_client", code, text);
    if (app.certificates.length === 0) {
      return invalid(700027, "Client assertion contains an invalid signature. [Reason - No certificate is registered for the application.]");
    }
    const signature = assertionSignatureError(jwt, app.certificates);
    if (signature) return invalid(700027, `Client assertion contains an invalid signature. [Reason - ${signature}]`);
    const { aud, iss, sub, exp, nbf, jti } = jwt.claims;
    if (iss !== app.client_id || sub !== app.client_id) {
      return invalid(700021, `Client assertion application identifier doesn't match 'client_id' parameter: iss and sub must both be '${app.client_id}'.`);
    }
    if (aud !== endpointUrl) {
      return invalid(50013, `Assertion audience claim does not match the token endpoint. Expected '${endpointUrl}', found ${JSON.stringify(aud ?? null)}.`);
    }
    const now = Date.now();
    if (typeof exp !== "number" || exp * 1000 <= now) {
      return invalid(700024, "Client assertion is not within its valid time range: `exp` is missing or in the past.");
    }
    if (nbf !== undefined && (typeof nbf !== "number" || nbf * 1000 > now + CLOCK_SKEW_MS)) {
      return invalid(700024, "Client assertion is not within its valid time range: `nbf` is in the future.");
    }
    if (typeof jti !== "string" || jti === "") return invalid(50013, "Assertion is invalid: the `jti` claim is missing.");
    this.forgetOldJtis(now);
    const key = `${app.client_id}|${jti}`;
    if (this.usedJtis.has(key)) return invalid(50013, "Assertion is invalid: this `jti` has already been used (replay).");
    this.usedJtis.set(key, exp * 1000 + CLOCK_SKEW_MS);
    return null;
  }

  /** @param {number} now */
  forgetOldJtis(now) {
    if (this.usedJtis.size < 1000) return;
    for (const [key, until] of this.usedJtis) if (until < now) this.usedJtis.delete(key);
  }

  /**
   * Mints an access token: `expires_in` in documented seconds, the real expiry scaled.
   * @param {string} clientId
   * @param {string} name
   * @param {string} tenant
   * @param {string} resource
   * @param {"sentinel" | "defender" | "graph"} api
   */
  issue(clientId, name, tenant, resource, api) {
    const now = this.clock.now();
    const expMs = now + this.clock.realMs(this.tokenLifetimeS);
    const claims = {
      aud: resource,
      iss: `https://sts.windows.net/${tenant}/`,
      iat: Math.floor(now / 1000),
      nbf: Math.floor(now / 1000),
      exp: Math.round(expMs) / 1000,
      tid: tenant,
      appid: clientId,
      app_displayname: name,
      oid: clientId,
      sub: clientId,
      idtyp: "app",
      roles: ROLES[api],
      ver: "1.0",
    };
    this.counters.tokenIssued(clientId);
    return {
      token_type: "Bearer",
      expires_in: this.tokenLifetimeS,
      ext_expires_in: this.tokenLifetimeS,
      access_token: signHs256(claims, this.key),
    };
  }

  // ---- GET /msi/token -------------------------------------------------------------------------

  /**
   * The App Service managed-identity endpoint (api-version 2019-08-01).
   * @param {URLSearchParams} query
   * @param {string | undefined} header  the X-IDENTITY-HEADER value
   * @returns {import("./http.mjs").Reply}
   */
  msi(query, header) {
    const given = Buffer.from(header ?? "");
    const expected = Buffer.from(this.identityHeader);
    if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) {
      return json(401, { statusCode: 401, message: "Unauthorized. The X-IDENTITY-HEADER header is missing or does not match IDENTITY_HEADER." });
    }
    const version = query.get("api-version");
    if (version !== "2019-08-01") {
      return json(400, { statusCode: 400, message: `The api-version '${version ?? ""}' is not supported: use 2019-08-01.` });
    }
    const resource = query.get("resource");
    if (!resource) return json(400, { statusCode: 400, message: "The 'resource' query parameter is required." });
    const api = resource.endsWith("/.default") ? null : apiOfResource(resource);
    if (!api) {
      return json(400, { statusCode: 400, message: `AADSTS500011: The resource principal named ${resource} was not found in the tenant. Pass the resource URI without '/.default'.` });
    }
    const selectors = ["client_id", "principal_id", "object_id", "mi_res_id"].filter((k) => query.has(k));
    if (selectors.length > 1) {
      return json(400, { statusCode: 400, message: `Specify at most one of client_id, principal_id, object_id and mi_res_id; found ${selectors.join(", ")}.` });
    }
    const clientId = query.get("client_id") ?? DEFAULT_MI_CLIENT_ID;
    if (!/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(clientId)) {
      return json(400, { statusCode: 400, message: `The client_id '${clientId}' is not a GUID.` });
    }
    const token = this.issue(clientId, `managed identity ${clientId}`, DEFAULT_MI_TENANT, resource, api);
    const nowS = Math.floor(this.clock.now() / 1000);
    return json(200, {
      access_token: token.access_token,
      expires_on: String(nowS + this.tokenLifetimeS),
      not_before: String(nowS),
      resource,
      token_type: "Bearer",
      client_id: clientId,
    });
  }

  // ---- bearer tokens on API routes ------------------------------------------------------------

  /**
   * Checks an `Authorization: Bearer …` header for `api`.
   * @param {string | undefined} authorization
   * @param {"sentinel" | "defender" | "graph"} api
   * @returns {{ok: Principal} | {error: string}}
   */
  authenticate(authorization, api) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
    if (!match) return { error: "Access token is missing." };
    const claims = verifyHs256(match[1], this.key);
    if (!claims) return { error: "Access token is invalid: not issued by this emulator, or tampered with." };
    if (typeof claims.exp !== "number" || claims.exp * 1000 <= this.clock.now()) return { error: "Access token has expired." };
    const aud = typeof claims.aud === "string" ? claims.aud : "";
    if (apiOfResource(aud) !== api) {
      return { error: `Access token validation failure. Invalid audience '${aud}' for this API (expected one of ${AUDIENCES[api].join(", ")}).` };
    }
    return {
      ok: {
        appid: String(claims.appid),
        tid: String(claims.tid),
        name: String(claims.app_displayname ?? claims.appid),
        roles: Array.isArray(claims.roles) ? claims.roles.map(String) : [],
      },
    };
  }
}

/**
 * An Entra error answer (AADSTS shape).
 * @param {number} status
 * @param {string} error
 * @param {number} code
 * @param {string} description
 */
export function aadError(status, error, code, description) {
  const traceId = correlationId();
  const corr = correlationId();
  const timestamp = new Date().toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
  return json(status, {
    error,
    error_description: `AADSTS${code}: ${description}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${corr}\r\nTimestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: corr,
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
  });
}

/** @param {string} name */
function missingParameter(name) {
  return aadError(400, "invalid_request", 900144, `The request body must contain the following parameter: '${name}'.`);
}

/**
 * `Basic base64(urlencoded(id):urlencoded(secret))` (RFC 6749 §2.3.1).
 * @param {string} header
 * @returns {{clientId: string, secret: string} | null}
 */
function parseBasic(header) {
  const decoded = Buffer.from(header.replace(/^basic\s+/i, "").trim(), "base64").toString("utf8");
  const at = decoded.indexOf(":");
  if (at <= 0) return null;
  const unform = (s) => {
    try {
      return decodeURIComponent(s.replaceAll("+", " "));
    } catch {
      return null;
    }
  };
  const clientId = unform(decoded.slice(0, at));
  const secret = unform(decoded.slice(at + 1));
  return clientId === null || secret === null ? null : { clientId, secret };
}
