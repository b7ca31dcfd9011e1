// Microsoft Defender for Endpoint indicators API (microsoft-apis.md §2): submit one, import up to
// 500, list with OData, delete one, BatchDelete up to 500. Indicators live per tenant; the upsert key
// is (indicatorType, indicatorValue, createdBy), so another app posting the same value gets its own
// indicator (UNVERIFIED). The tenant cap counts indicators that have not expired.

import { parseJson, json, correlationId } from "./http.mjs";
import { parseTimestamp, defenderIpError, hostError, urlError, hexError, isObject, describe, quote } from "./checks.mjs";
import { parseFilter, matches, parseCount } from "./odata.mjs";

export const DEFENDER_TYPES = Object.freeze(["FileSha1", "FileMd5", "FileSha256", "CertificateThumbprint", "IpAddress", "DomainName", "Url"]);
/** Supported actions, then the legacy ones (accepted, counted as `deprecated_action`). */
export const DEFENDER_ACTIONS = Object.freeze(["Allowed", "Audit", "Warn", "Block", "BlockAndRemediate"]);
const LEGACY_ACTIONS = { Alert: "Audit", AlertAndBlock: "BlockAndRemediate" };
export const DEFENDER_SEVERITIES = Object.freeze(["Informational", "Low", "Medium", "High"]);

/** Body fields we know, for the case-sensitivity rule (a different case → 400). */
const FIELDS = [
  "indicatorValue", "indicatorType", "action", "title", "description", "application", "expirationTime", "severity",
  "recommendedActions", "rbacGroupNames", "rbacGroupIds", "educateUrl", "generateAlert", "externalId", "id",
  "category", "mitreTechniques",
];

/** Fields the list's `$filter` accepts (§2.2). */
export const FILTER_FIELDS = Object.freeze([
  "application", "createdByDisplayName", "expirationTime", "generateAlert", "title", "rbacGroupNames", "rbacGroupIds",
  "indicatorValue", "indicatorType", "creationTimeDateTimeUtc", "createdBy", "action", "severity",
]);

/** Indicators per import, ids per BatchDelete. */
export const DEFENDER_BATCH_MAX = 500;
/** The largest `$top`. */
export const DEFENDER_TOP_MAX = 10_000;

/** The app a seeded ("foreign") indicator comes from unless the seed says otherwise. */
export const FOREIGN_APP = Object.freeze({ appid: "00000000-0000-4000-8000-00000000f0e1", name: "another app" });

/**
 * A Defender error answer `{"error":{"code","message","target"}}`.
 * @param {number} status
 * @param {string} code
 * @param {string} message
 * @param {Record<string, string>} [headers]
 */
export function defenderError(status, code, message, headers) {
  return json(status, { error: { code, message, target: correlationId() } }, headers);
}

/**
 * @typedef {object} Problem
 * @property {string} code     Defender's error code
 * @property {string} message
 */

/**
 * Every problem with one indicator body (empty = valid). Ported from tests/support/msapi.rs
 * `mde_indicator`, with the legacy actions accepted.
 * @param {unknown} body
 * @param {number} now  real Unix ms, for `expirationTime`
 * @returns {Problem[]}
 */
export function validateIndicator(body, now) {
  if (!isObject(body)) return [{ code: "InvalidRequestBody", message: `Expected an indicator object, found ${describe(body)}.` }];
  /** @type {Problem[]} */
  const out = [];
  const add = (code, message) => out.push({ code, message });
  for (const key of Object.keys(body)) {
    const known = FIELDS.find((f) => f !== key && f.toLowerCase() === key.toLowerCase());
    if (known && !(known in body)) add("InvalidRequestBody", `Property names are case-sensitive: found '${key}', expected '${known}'.`);
  }
  for (const key of ["indicatorValue", "indicatorType", "action", "title", "description"]) {
    if (body[key] === undefined || body[key] === null) add("MissingRequiredParameter", `The required parameter '${key}' is missing.`);
    else if (typeof body[key] !== "string" || body[key].trim() === "") add("InvalidRequestBody", `'${key}' must be a non-empty string, found ${describe(body[key])}.`);
  }
  const type = typeof body.indicatorType === "string" ? body.indicatorType : null;
  if (type !== null && !DEFENDER_TYPES.includes(type)) add("InvalidRequestBody", `'indicatorType' must be one of ${DEFENDER_TYPES.join(", ")}, found ${quote(type)}.`);
  const action = typeof body.action === "string" ? body.action : null;
  if (action !== null && !DEFENDER_ACTIONS.includes(action) && !(action in LEGACY_ACTIONS)) {
    add("InvalidRequestBody", `'action' must be one of ${DEFENDER_ACTIONS.join(", ")}, found ${quote(action)}.`);
  }
  if (body.severity !== undefined && body.severity !== null && !DEFENDER_SEVERITIES.includes(/** @type {string} */ (body.severity))) {
    add("InvalidRequestBody", `'severity' must be one of ${DEFENDER_SEVERITIES.join(", ")}, found ${describe(body.severity)}.`);
  }
  if (body.generateAlert !== undefined && typeof body.generateAlert !== "boolean") {
    add("InvalidRequestBody", `'generateAlert' must be a JSON boolean, found ${describe(body.generateAlert)}.`);
  }
  for (const key of ["application", "recommendedActions", "externalId", "category"]) {
    if (body[key] !== undefined && body[key] !== null && typeof body[key] !== "string") add("InvalidRequestBody", `'${key}' must be a string, found ${describe(body[key])}.`);
  }
  if (body.id !== undefined && body.id !== null && !(typeof body.id === "string" && /^\d+$/.test(body.id)) && !Number.isInteger(body.id)) {
    add("InvalidRequestBody", `'id' must be a numeric indicator id, found ${describe(body.id)}.`);
  }
  for (const key of ["rbacGroupNames", "rbacGroupIds", "mitreTechniques"]) {
    const v = body[key];
    if (v !== undefined && v !== null && typeof v !== "string" && !(Array.isArray(v) && v.every((s) => typeof s === "string"))) {
      add("InvalidRequestBody", `'${key}' must be a list of strings, found ${describe(v)}.`);
    }
  }
  if (body.educateUrl !== undefined && body.educateUrl !== null) {
    const problem = typeof body.educateUrl === "string" ? urlError(body.educateUrl) : "expected a string";
    if (problem) add("InvalidUrl", `'educateUrl': ${problem}.`);
  }
  if (body.expirationTime !== undefined && body.expirationTime !== null) {
    const t = parseTimestamp(body.expirationTime);
    if ("error" in t) add("InvalidInput", `'expirationTime' must be an ISO 8601 UTC timestamp (${t.error}), found ${describe(body.expirationTime)}.`);
    else if (t.ok.ms <= now) add("InvalidInput", `'expirationTime' ${body.expirationTime} is in the past.`);
  }
  if (action !== null) {
    const effective = LEGACY_ACTIONS[action] ?? action;
    if (action === "Audit" && body.generateAlert !== true) {
      add("InvalidInput", "The action 'Audit' requires 'generateAlert': true.");
    }
    if (type !== null && DEFENDER_TYPES.includes(type) && DEFENDER_ACTIONS.includes(effective)) {
      const allowed = actionsFor(type);
      if (!allowed.includes(effective)) add("InvalidInput", `The action '${action}' is not valid for ${type} indicators; expected one of ${allowed.join(", ")}.`);
    }
  }
  if (type !== null && typeof body.indicatorValue === "string" && body.indicatorValue.trim() !== "") {
    const problem = valueError(type, body.indicatorValue);
    if (problem) add(problem.code, `'indicatorValue': ${problem.message}.`);
  }
  return out;
}

/**
 * The actions each indicator type takes (indicators-overview.md).
 * @param {string} type
 */
function actionsFor(type) {
  if (type === "FileSha1" || type === "FileMd5" || type === "FileSha256") return ["Allowed", "Audit", "Warn", "Block", "BlockAndRemediate"];
  if (type === "CertificateThumbprint") return ["Allowed", "BlockAndRemediate"];
  return ["Allowed", "Audit", "Warn", "Block"];
}

/**
 * @param {string} type
 * @param {string} value
 * @returns {Problem | null}
 */
function valueError(type, value) {
  const wrap = (code, message) => (message === null ? null : { code, message });
  switch (type) {
    case "FileSha1":
      return wrap("InvalidHashValue", hexError(value, 40, "SHA-1"));
    case "FileMd5":
      return wrap("InvalidHashValue", hexError(value, 32, "MD5"));
    case "FileSha256":
      return wrap("InvalidHashValue", hexError(value, 64, "SHA-256"));
    case "CertificateThumbprint":
      return wrap("InvalidHashValue", hexError(value, 40, "a SHA-1 thumbprint"));
    case "IpAddress":
      return wrap("InvalidIpAddress", defenderIpError(value));
    case "DomainName":
      return wrap("InvalidDomainName", hostError(value));
    case "Url":
      return wrap("InvalidUrl", urlError(value));
    default:
      return null;
  }
}

/**
 * The value as the upsert key compares it: hashes, domains and IPv6 ignoring case.
 * @param {string} type
 * @param {string} value
 */
function keyValue(type, value) {
  return type === "Url" ? value : value.toLowerCase();
}

/** @param {unknown} v */
function asList(v) {
  if (v === undefined || v === null) return [];
  if (typeof v === "string") return v.split(",").map((s) => s.trim()).filter((s) => s !== "");
  return /** @type {string[]} */ (v);
}

/** Fields an update (a second POST of the same indicator) changes when given. */
const UPDATABLE = ["action", "title", "description", "expirationTime", "severity", "recommendedActions", "generateAlert", "externalId", "educateUrl", "category"];

/**
 * @typedef {object} Stored
 * @property {string} tenant    the tenant id (`*` = seeded for every tenant)
 * @property {string} key       the upsert key
 * @property {Record<string, any>} resource  the Indicator as the API returns it
 */

export class Defender {
  /**
   * @param {object} options
   * @param {import("./state.mjs").Counters} options.counters
   * @param {number} options.cap
   * @param {() => number} options.now
   */
  constructor({ counters, cap, now }) {
    this.counters = counters;
    this.cap = cap;
    this.now = now;
    this.reset();
  }

  reset() {
    /** @type {Map<string, Stored>} id → record, in creation order */
    this.records = new Map();
    /** @type {Map<string, string>} upsert key → id */
    this.byKey = new Map();
    this.nextId = 1000;
    this.deleted = 0;
  }

  /**
   * @param {Stored} record
   * @param {string} tenant
   */
  visible(record, tenant) {
    return record.tenant === tenant || record.tenant === "*";
  }

  /** @param {Stored} record */
  isActive(record) {
    const exp = record.resource.expirationTime;
    return exp === null || exp === undefined || Date.parse(exp) > this.now();
  }

  /** @param {string} tenant */
  activeCount(tenant) {
    let n = 0;
    for (const record of this.records.values()) if (this.visible(record, tenant) && this.isActive(record)) n++;
    return n;
  }

  /**
   * Creates or updates one valid indicator. Returns the record, or a problem (cap, unknown id).
   * @param {Record<string, any>} body  a validated body
   * @param {{appid: string, tid: string, name: string}} principal
   * @param {{active: number}} quota    the tenant's active count, kept up to date
   * @returns {{ok: Stored, created: boolean} | {error: Problem, status: number}}
   */
  upsert(body, principal, quota) {
    const now = new Date(this.now()).toISOString();
    const key = `${principal.tid}|${body.indicatorType}|${keyValue(body.indicatorType, body.indicatorValue)}|${principal.appid}`;
    let existing;
    if (body.id !== undefined && body.id !== null) {
      existing = this.records.get(String(body.id));
      if (!existing || !this.visible(existing, principal.tid)) {
        return { status: 404, error: { code: "NotFound", message: `Indicator ${body.id} was not found.` } };
      }
    } else {
      const id = this.byKey.get(key);
      existing = id === undefined ? undefined : this.records.get(id);
    }
    const willBeActive = body.expirationTime === undefined || body.expirationTime === null || Date.parse(body.expirationTime) > this.now();
    const wasActive = existing ? this.isActive(existing) : false;
    if (willBeActive && !wasActive && quota.active >= this.cap) {
      return {
        status: 400,
        error: { code: "BadRequest", message: `Indicator limit reached: the tenant already has ${quota.active} active indicators (maximum ${this.cap}); increases to this limit are not supported.` },
      };
    }
    if (body.action in LEGACY_ACTIONS) this.counters.quirk("deprecated_action");
    quota.active += (willBeActive ? 1 : 0) - (wasActive ? 1 : 0);
    if (existing) {
      const r = existing.resource;
      for (const field of UPDATABLE) if (body[field] !== undefined) r[field] = body[field];
      for (const field of ["rbacGroupNames", "rbacGroupIds", "mitreTechniques"]) if (body[field] !== undefined) r[field] = asList(body[field]);
      r.lastUpdateTime = now;
      r.lastUpdatedBy = principal.appid;
      return { ok: existing, created: false };
    }
    const id = String(this.nextId++);
    /** @type {Record<string, any>} */
    const resource = {
      id,
      indicatorValue: body.indicatorValue,
      indicatorType: body.indicatorType,
      action: body.action,
      application: body.application ?? null,
      source: principal.name,
      sourceType: "AadApp",
      createdBy: principal.appid,
      createdBySource: principal.name,
      createdByDisplayName: principal.name,
      creationTimeDateTimeUtc: now,
      expirationTime: body.expirationTime ?? null,
      lastUpdateTime: now,
      lastUpdatedBy: principal.appid,
      severity: body.severity ?? "Informational",
      title: body.title,
      description: body.description,
      recommendedActions: body.recommendedActions ?? null,
      rbacGroupNames: asList(body.rbacGroupNames),
      rbacGroupIds: asList(body.rbacGroupIds),
      generateAlert: body.generateAlert ?? false,
      externalId: body.externalId ?? null,
    };
    for (const field of ["educateUrl", "category"]) if (body[field] !== undefined) resource[field] = body[field];
    if (body.mitreTechniques !== undefined) resource.mitreTechniques = asList(body.mitreTechniques);
    const record = { tenant: principal.tid, key, resource };
    this.records.set(id, record);
    this.byKey.set(key, id);
    return { ok: record, created: true };
  }

  // ---- routes ---------------------------------------------------------------------------------

  /**
   * `POST /api/indicators`: 200 with the Indicator.
   * @param {{principal: import("./identity.mjs").Principal, body: Buffer}} request
   */
  submit({ principal, body }) {
    const parsed = parseJson(body);
    if ("error" in parsed) return defenderError(400, "InvalidRequestBody", `Request body is incorrect: ${parsed.error}`);
    const problems = validateIndicator(parsed.ok, this.now());
    if (problems.length > 0) return defenderError(400, problems[0].code, problems.map((p) => p.message).join(" "));
    const result = this.upsert(/** @type {Record<string, any>} */ (parsed.ok), principal, { active: this.activeCount(principal.tid) });
    if ("error" in result) return defenderError(result.status, result.error.code, result.error.message);
    return json(200, { "@odata.context": "https://api.securitycenter.microsoft.com/api/$metadata#Indicators/$entity", ...result.ok.resource });
  }

  /**
   * `POST /api/indicators/import`: 200 with one result per indicator, in request order.
   * @param {{principal: import("./identity.mjs").Principal, body: Buffer, failItems: ((valid: number[]) => Set<number>) | null}} request
   */
  import({ principal, body, failItems }) {
    const parsed = parseJson(body);
    if ("error" in parsed) return defenderError(400, "InvalidRequestBody", `Request body is incorrect: ${parsed.error}`);
    const list = batchList(parsed.ok, "Indicators");
    if ("error" in list) return defenderError(400, list.error.code, list.error.message);
    const now = this.now();
    const problems = list.ok.map((item) => validateIndicator(item, now));
    const valid = problems.flatMap((p, i) => (p.length === 0 ? [i] : []));
    const failed = failItems ? failItems(valid) : new Set();
    const quota = { active: this.activeCount(principal.tid) };
    const value = list.ok.map((item, i) => {
      const indicator = isObject(item) && typeof item.indicatorValue === "string" ? item.indicatorValue : null;
      if (problems[i].length > 0) return { id: null, indicator, isFailed: true, failureReason: problems[i].map((p) => `${p.code}: ${p.message}`).join(" ") };
      if (failed.has(i)) {
        return { id: null, indicator, isFailed: true, failureReason: "InternalServerError: A transient error occurred while saving the indicator; retry later." };
      }
      const result = this.upsert(/** @type {Record<string, any>} */ (item), principal, quota);
      if ("error" in result) return { id: null, indicator, isFailed: true, failureReason: `${result.error.code}: ${result.error.message}` };
      return { id: result.ok.resource.id, indicator, isFailed: false, failureReason: null };
    });
    return json(200, { "@odata.context": "https://api.securitycenter.microsoft.com/api/$metadata#Collection(microsoft.windowsDefenderATP.api.ImportIndicatorResult)", value });
  }

  /**
   * `GET /api/indicators` with `$filter`, `$top`, `$skip`.
   * @param {{principal: import("./identity.mjs").Principal, query: URLSearchParams, baseUrl: string}} request
   */
  list({ principal, query, baseUrl }) {
    for (const name of query.keys()) {
      if (name.startsWith("$") && !["$filter", "$top", "$skip"].includes(name)) {
        return defenderError(400, "ODataError", `The query option '${name}' is not supported (this emulator implements $filter, $top and $skip).`);
      }
    }
    const filterText = query.get("$filter");
    let clauses = [];
    if (filterText !== null) {
      const filter = parseFilter(filterText, FILTER_FIELDS);
      if ("error" in filter) return defenderError(400, "ODataError", `Invalid $filter: ${filter.error}.`);
      clauses = filter.ok;
    }
    const top = parseCount(query.get("$top"), null, DEFENDER_TOP_MAX, "$top");
    if ("error" in top) return defenderError(400, "ODataError", top.error);
    const skip = parseCount(query.get("$skip"), 0, Number.MAX_SAFE_INTEGER, "$skip");
    if ("error" in skip) return defenderError(400, "ODataError", skip.error);
    const all = [...this.records.values()].filter((r) => this.visible(r, principal.tid) && matches(r.resource, clauses));
    const from = /** @type {number} */ (skip.ok);
    const size = top.ok ?? DEFENDER_TOP_MAX;
    const page = all.slice(from, from + size).map((r) => structuredClone(r.resource));
    /** @type {Record<string, unknown>} */
    const out = { "@odata.context": `${baseUrl}/api/$metadata#Indicators`, value: page };
    if (top.ok === null && from + size < all.length) {
      const next = new URLSearchParams(query);
      next.set("$skip", String(from + size));
      out["@odata.nextLink"] = `${baseUrl}/api/indicators?${next.toString()}`;
    }
    return json(200, out);
  }

  /**
   * `GET /api/indicators/{id}`.
   * @param {{principal: import("./identity.mjs").Principal, id: string}} request
   */
  get({ principal, id }) {
    const record = this.records.get(id);
    if (!record || !this.visible(record, principal.tid)) return defenderError(404, "NotFound", `Indicator ${id} was not found.`);
    return json(200, structuredClone(record.resource));
  }

  /**
   * `DELETE /api/indicators/{id}`: 204, or 404.
   * @param {{principal: import("./identity.mjs").Principal, id: string}} request
   */
  delete({ principal, id }) {
    if (!/^\d+$/.test(id)) return defenderError(400, "InvalidInput", `'${id}' is not an indicator id: ids are numeric.`);
    const record = this.records.get(id);
    if (!record || !this.visible(record, principal.tid)) return defenderError(404, "NotFound", `Indicator ${id} was not found.`);
    this.remove(id);
    return { status: 204, body: null };
  }

  /**
   * `POST /api/indicators/BatchDelete` `{"IndicatorIds":[…]}`: 204 when every id existed (all
   * deleted); 404 when any did not (none deleted — UNVERIFIED: atomicity is not documented).
   * @param {{principal: import("./identity.mjs").Principal, body: Buffer}} request
   */
  batchDelete({ principal, body }) {
    const parsed = parseJson(body);
    if ("error" in parsed) return defenderError(400, "InvalidRequestBody", `Request body is incorrect: ${parsed.error}`);
    const list = batchList(parsed.ok, "IndicatorIds");
    if ("error" in list) return defenderError(400, list.error.code, list.error.message);
    const bad = list.ok.filter((id) => !(typeof id === "string" && /^\d+$/.test(id)));
    if (bad.length > 0) return defenderError(400, "InvalidInput", `Invalid indicator id(s): ${bad.slice(0, 10).map((b) => describe(b)).join(", ")}; ids are numeric strings like "995".`);
    const ids = /** @type {string[]} */ (list.ok);
    const missing = ids.filter((id) => {
      const record = this.records.get(id);
      return !record || !this.visible(record, principal.tid);
    });
    if (missing.length > 0) {
      return defenderError(404, "NotFound", `Indicator(s) not found: ${[...new Set(missing)].slice(0, 20).join(", ")}. No indicator was deleted.`);
    }
    for (const id of new Set(ids)) this.remove(id);
    return { status: 204, body: null };
  }

  /** @param {string} id */
  remove(id) {
    const record = this.records.get(id);
    if (!record) return;
    this.records.delete(id);
    if (this.byKey.get(record.key) === id) this.byKey.delete(record.key);
    this.deleted += 1;
  }

  /**
   * Creates an indicator as another app (for "foreign indicators are left alone" tests). The body is
   * an indicator plus optional `tenant` (default `*`: every tenant sees it), `createdBy` and
   * `createdBySource`. Throws a TypeError when the indicator is not valid.
   * @param {Record<string, any>} seed
   */
  seed(seed) {
    if (!isObject(seed)) throw new TypeError("expected an indicator object");
    const { tenant = "*", createdBy = FOREIGN_APP.appid, createdBySource = FOREIGN_APP.name, ...indicator } = seed;
    if (typeof tenant !== "string" || typeof createdBy !== "string" || typeof createdBySource !== "string") {
      throw new TypeError("tenant, createdBy and createdBySource must be strings");
    }
    const problems = validateIndicator(indicator, this.now());
    if (problems.length > 0) throw new TypeError(problems.map((p) => `${p.code}: ${p.message}`).join(" "));
    const principal = { appid: createdBy, tid: tenant, name: createdBySource, roles: [] };
    const result = this.upsert(indicator, principal, { active: this.activeCount(tenant) });
    if ("error" in result) throw new TypeError(`${result.error.code}: ${result.error.message}`);
    return structuredClone(result.ok.resource);
  }

  /**
   * Every indicator, with its tenant.
   * @returns {Record<string, any>[]}
   */
  snapshot() {
    return [...this.records.values()].map((r) => ({ tenant: r.tenant, ...structuredClone(r.resource) }));
  }
}

/**
 * The list under `key` of a batch body: an object whose `key` (exact case) is a list of 1–500.
 * @param {unknown} root
 * @param {string} key
 * @returns {{ok: unknown[]} | {error: Problem}}
 */
function batchList(root, key) {
  if (!isObject(root)) return { error: { code: "InvalidRequestBody", message: `Request body is incorrect: expected an object {"${key}": [...]}.` } };
  if (!(key in root)) {
    const variant = Object.keys(root).find((k) => k.toLowerCase() === key.toLowerCase());
    if (variant) return { error: { code: "InvalidRequestBody", message: `Property names are case-sensitive: found '${variant}', expected '${key}'.` } };
    return { error: { code: "MissingRequiredParameter", message: `The required parameter '${key}' is missing.` } };
  }
  const list = root[key];
  if (!Array.isArray(list)) return { error: { code: "InvalidRequestBody", message: `'${key}' must be a list, found ${describe(list)}.` } };
  if (list.length === 0) return { error: { code: "InvalidInput", message: `'${key}' is empty.` } };
  if (list.length > DEFENDER_BATCH_MAX) {
    return { error: { code: "MaximumBatchSizeExceeded", message: `Maximum batch size exceeded. Received: ${list.length}, allowed: ${DEFENDER_BATCH_MAX}.` } };
  }
  return { ok: list };
}
