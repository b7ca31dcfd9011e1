// Microsoft Graph tiIndicators (beta, deprecated; microsoft-apis.md §3). Indicators belong to the
// calling app in its tenant (ThreatIndicators.ReadWrite.OwnedBy): an app sees, updates and deletes
// only its own.
//
// Bulk answers: 200 with one element per request item when all went through; 206 when some failed,
// with `value` aligned with the request (element i for item i): a created/updated tiIndicator, or
// `{"error":{"code","message","status"}}` for a failed item (the shape src/interpret/graph.rs reads;
// UNVERIFIED: Graph does not document the 206 body).

import crypto from "node:crypto";

import { parseJson, json } from "./http.mjs";
import { parseTimestamp, isIpv4, isIpv6, isCidr, hostError, urlError, hexError, isObject, isIntegerIn, describe, quote } from "./checks.mjs";
import { parseFilter, matches, parseCount } from "./odata.mjs";

const ACTIONS = ["unknown", "allow", "block", "alert"];
const TARGETS = ["Azure Sentinel", "Microsoft Defender ATP"];
const THREAT_TYPES = ["Botnet", "C2", "CryptoMining", "Darknet", "DDoS", "MaliciousUrl", "Malware", "Phishing", "Proxy", "PUA", "WatchList"];
const TLP = ["unknown", "white", "green", "amber", "red"];
const DIAMOND = ["unknown", "adversary", "capability", "infrastructure", "victim", "unknownFutureValue"];
const KILL_CHAIN = ["Actions", "C2", "Delivery", "Exploitation", "Installation", "Reconnaissance", "Weaponization"];
const HASH_TYPES = ["unknown", "sha1", "sha256", "md5", "authenticodeHash256", "lsHash", "ctph"];

/** tiIndicators (or ids) per bulk request. */
export const GRAPH_MAX = 100;
/** The largest `$top` of a list. */
const GRAPH_TOP_MAX = 1000;
const INT32_MAX = 2147483647;

/** @typedef {(v: unknown) => string | null} Check */

/** @param {string[]} allowed @returns {Check} */
const oneOf = (allowed) => (v) => {
  if (typeof v !== "string") return `expected a string, found ${describe(v)}`;
  if (v === "Microsoft Sentinel") return "expected `Azure Sentinel` (the API rejects `Microsoft Sentinel`)";
  return allowed.includes(v) ? null : `expected one of ${allowed.join(", ")}, found ${quote(v)}`;
};
/** @type {Check} */
const text = (v) => (typeof v === "string" ? null : `expected a string, found ${describe(v)}`);
/** @type {Check} */
const texts = (v) => (Array.isArray(v) && v.every((s) => typeof s === "string") ? null : `expected a list of strings, found ${describe(v)}`);
/** @type {Check} */
const flag = (v) => (typeof v === "boolean" ? null : `expected a JSON boolean, found ${describe(v)}`);
/** @param {number} min @param {number} max @returns {Check} */
const int = (min, max) => (v) => (isIntegerIn(v, min, max) ? null : `expected an integer from ${min} to ${max}, found ${describe(v)}`);
/** @type {Check} */
const time = (v) => {
  const t = parseTimestamp(v);
  return "error" in t ? `expected an ISO 8601 UTC timestamp (${t.error}), found ${describe(v)}` : null;
};
/** @type {Check} */
const manyOf = (v) =>
  Array.isArray(v) && v.every((k) => KILL_CHAIN.includes(k)) ? null : `expected a list of ${KILL_CHAIN.join(", ")}, found ${describe(v)}`;
/** @param {(s: string) => boolean} ok @param {string} what @returns {Check} */
const address = (ok, what) => (v) => (typeof v === "string" && ok(v) ? null : `expected ${what}, found ${describe(v)}`);
/** @type {Check} */
const host = (v) => (typeof v === "string" && v.trim() !== "" ? hostError(v) : `expected a host name, found ${describe(v)}`);
/** @type {Check} */
const url = (v) => (typeof v === "string" ? urlError(v) : `expected a URL, found ${describe(v)}`);
/** @type {Check} */
const description = (v) => {
  if (typeof v !== "string" || v.trim() === "") return `expected a non-empty string, found ${describe(v)}`;
  // Counted as .NET counts: UTF-16 code units, which is JavaScript's length.
  return v.length > 100 ? `expected at most 100 characters, found ${v.length}` : null;
};

/** Every tiIndicator property and its check (ported from tests/support/msapi.rs). */
const PROPERTIES = {
  action: oneOf(ACTIONS),
  activityGroupNames: texts,
  additionalInformation: text,
  azureTenantId: text,
  confidence: int(0, 100),
  description,
  diamondModel: oneOf(DIAMOND),
  emailEncoding: text,
  emailLanguage: text,
  emailRecipient: text,
  emailSenderAddress: text,
  emailSenderName: text,
  emailSourceDomain: text,
  emailSourceIpAddress: text,
  emailSubject: text,
  emailXMailer: text,
  expirationDateTime: time,
  externalId: text,
  fileCompileDateTime: time,
  fileCreatedDateTime: time,
  fileHashType: oneOf(HASH_TYPES),
  fileHashValue: text,
  fileMutexName: text,
  fileName: text,
  filePacker: text,
  filePath: text,
  fileSize: int(0, Number.MAX_SAFE_INTEGER),
  fileType: text,
  domainName: host,
  id: text,
  ingestedDateTime: time,
  isActive: flag,
  killChain: manyOf,
  knownFalsePositives: text,
  lastReportedDateTime: time,
  malwareFamilyNames: texts,
  networkCidrBlock: address(isCidr, "a CIDR block like `203.0.113.0/24`"),
  networkDestinationAsn: int(0, INT32_MAX),
  networkDestinationCidrBlock: address(isCidr, "a CIDR block like `203.0.113.0/24`"),
  networkDestinationIPv4: address(isIpv4, "an IPv4 address"),
  networkDestinationIPv6: address(isIpv6, "an IPv6 address"),
  networkDestinationPort: int(0, 65535),
  networkIPv4: address(isIpv4, "an IPv4 address"),
  networkIPv6: address(isIpv6, "an IPv6 address"),
  networkPort: int(0, 65535),
  networkProtocol: int(0, 255),
  networkSourceAsn: int(0, INT32_MAX),
  networkSourceCidrBlock: address(isCidr, "a CIDR block like `203.0.113.0/24`"),
  networkSourceIPv4: address(isIpv4, "an IPv4 address"),
  networkSourceIPv6: address(isIpv6, "an IPv6 address"),
  networkSourcePort: int(0, 65535),
  passiveOnly: flag,
  severity: int(0, 5),
  tags: texts,
  targetProduct: oneOf(TARGETS),
  threatType: oneOf(THREAT_TYPES),
  tlpLevel: oneOf(TLP),
  url,
  userAgent: text,
};
const PROPERTY_NAMES = Object.keys(PROPERTIES);

const REQUIRED_ON_CREATE = ["action", "description", "expirationDateTime", "targetProduct", "threatType", "tlpLevel"];
const REQUIRED_ON_UPDATE = ["expirationDateTime", "targetProduct"];
/** What an update may change (the Sentinel list), plus the keys that address the indicator. */
const UPDATABLE = [
  "id", "targetProduct", "action", "activityGroupNames", "additionalInformation", "confidence", "description", "diamondModel",
  "expirationDateTime", "externalId", "isActive", "killChain", "knownFalsePositives", "lastReportedDateTime",
  "malwareFamilyNames", "passiveOnly", "severity", "tags", "tlpLevel",
];
/** The observables; a tiIndicator needs at least one (`fileHashType` only qualifies a hash). */
const OBSERVABLES = PROPERTY_NAMES.filter((p) => /^(email|file|network)/.test(p) && p !== "fileHashType").concat(["domainName", "url", "userAgent"]);
/** The observables Microsoft Defender ATP acts on. */
const MDE_OBSERVABLES = ["domainName", "url", "networkDestinationIPv4", "networkDestinationIPv6", "fileHashValue"];
/** Set by the service, never taken from a request. */
const SYSTEM = ["id", "azureTenantId", "ingestedDateTime"];

/**
 * A Graph error answer.
 * @param {number} status
 * @param {string} code
 * @param {string} message
 * @param {Record<string, string>} [headers]
 */
export function graphError(status, code, message, headers) {
  const requestId = crypto.randomUUID();
  return json(
    status,
    { error: { code, message, innerError: { date: new Date().toISOString().replace(/\.\d+Z$/, ""), "request-id": requestId, "client-request-id": requestId } } },
    { "request-id": requestId, ...headers },
  );
}

/**
 * The problems with the properties present in a tiIndicator (types, unknown names, wrong case).
 * @param {Record<string, unknown>} o
 * @returns {string[]}
 */
function propertyProblems(o) {
  const out = [];
  for (const [key, value] of Object.entries(o)) {
    if (key.includes("@")) continue; // OData annotations such as @odata.type
    const check = PROPERTIES[key];
    if (check) {
      if (value === null) continue;
      const problem = check(value);
      if (problem) out.push(`${key}: ${problem}`);
    } else {
      const named = PROPERTY_NAMES.find((p) => p.toLowerCase() === key.toLowerCase());
      out.push(named ? `${key}: property names are case-sensitive, expected '${named}'` : `${key}: a tiIndicator has no property ${quote(key)}`);
    }
  }
  return out;
}

/** @param {Record<string, unknown>} o @param {string} key */
const present = (o, key) => o[key] !== undefined && o[key] !== null;

/**
 * Every problem with a tiIndicator to create (empty = valid).
 * @param {unknown} o
 * @returns {string[]}
 */
export function validateCreate(o) {
  if (!isObject(o)) return [`expected a tiIndicator object, found ${describe(o)}`];
  const out = propertyProblems(o);
  for (const key of REQUIRED_ON_CREATE) if (!present(o, key)) out.push(`${key}: required property is missing`);
  if (!OBSERVABLES.some((k) => present(o, k))) {
    out.push("no observable: expected at least one email, file or network property (e.g. networkIPv4, domainName, fileHashValue)");
  }
  if (o.targetProduct === "Microsoft Defender ATP" && !MDE_OBSERVABLES.some((k) => present(o, k))) {
    out.push(`Microsoft Defender ATP needs one of ${MDE_OBSERVABLES.join(", ")}`);
  }
  if (present(o, "fileHashValue") && !present(o, "fileHashType")) out.push("fileHashType: required with fileHashValue");
  if (typeof o.fileHashType === "string" && typeof o.fileHashValue === "string") {
    const digits = { sha1: 40, md5: 32, sha256: 64, authenticodeHash256: 64 }[o.fileHashType];
    const problem = digits ? hexError(o.fileHashValue, digits, o.fileHashType) : null;
    if (problem) out.push(`fileHashValue: ${problem}`);
  }
  redPassive(o, out);
  return out;
}

/**
 * Every problem with a tiIndicator update (empty = valid); `needsId` for the bulk form.
 * @param {unknown} o
 * @param {boolean} needsId
 * @returns {string[]}
 */
export function validateUpdate(o, needsId) {
  if (!isObject(o)) return [`expected a tiIndicator object, found ${describe(o)}`];
  const out = propertyProblems(o);
  for (const key of Object.keys(o)) {
    if (PROPERTIES[key] && !UPDATABLE.includes(key)) out.push(`${key}: not editable by an update`);
  }
  if (needsId && !(typeof o.id === "string" && o.id.trim() !== "")) out.push("id: required property is missing");
  for (const key of REQUIRED_ON_UPDATE) if (!present(o, key)) out.push(`${key}: required property is missing`);
  if (o.targetProduct === "Microsoft Defender ATP") out.push("targetProduct: Microsoft Defender ATP does not support bulk updates of Sentinel fields");
  redPassive(o, out);
  return out;
}

/**
 * `tlpLevel: red` must come with `passiveOnly: true` (the docs say "should"; strict here).
 * @param {Record<string, unknown>} o
 * @param {string[]} out
 */
function redPassive(o, out) {
  if (o.tlpLevel === "red" && o.passiveOnly !== true) out.push("passiveOnly: tlpLevel red requires passiveOnly: true");
}

/**
 * @typedef {object} Stored
 * @property {string} tenant
 * @property {string} appid
 * @property {Record<string, unknown>} resource
 */

export class Graph {
  /** @param {import("./state.mjs").Counters} counters */
  constructor(counters) {
    this.counters = counters;
    this.reset();
  }

  reset() {
    /** @type {Map<string, Stored>} id → indicator, in creation order */
    this.records = new Map();
    /** @type {Map<string, Set<string>>} `tenant|app|externalId` → ids */
    this.byExternalId = new Map();
  }

  /**
   * The index key of an indicator's externalId (null when it has none).
   * @param {string} tenant
   * @param {string} appid
   * @param {unknown} externalId
   */
  externalKey(tenant, appid, externalId) {
    return typeof externalId === "string" ? `${tenant}|${appid}|${externalId}` : null;
  }

  /** @param {Stored} record @param {boolean} add */
  index(record, add) {
    const key = this.externalKey(record.tenant, record.appid, record.resource.externalId);
    if (key === null) return;
    let ids = this.byExternalId.get(key);
    if (add) {
      if (!ids) this.byExternalId.set(key, (ids = new Set()));
      ids.add(/** @type {string} */ (record.resource.id));
    } else if (ids) {
      ids.delete(/** @type {string} */ (record.resource.id));
      if (ids.size === 0) this.byExternalId.delete(key);
    }
  }

  /** @param {string} id */
  remove(id) {
    const record = this.records.get(id);
    if (!record) return;
    this.index(record, false);
    this.records.delete(id);
  }

  /**
   * @param {Stored} record
   * @param {import("./identity.mjs").Principal} principal
   */
  owns(record, principal) {
    return record.tenant === principal.tid && record.appid === principal.appid;
  }

  /**
   * Stores a valid tiIndicator for the caller.
   * @param {Record<string, unknown>} body
   * @param {import("./identity.mjs").Principal} principal
   */
  create(body, principal) {
    const key = this.externalKey(principal.tid, principal.appid, body.externalId);
    if (key !== null && this.byExternalId.has(key)) this.counters.quirk("duplicate_external_id");
    const resource = { isActive: true, passiveOnly: false, severity: 3 };
    for (const [name, value] of Object.entries(body)) if (!name.includes("@") && !SYSTEM.includes(name)) resource[name] = value;
    resource.id = crypto.randomUUID();
    resource.azureTenantId = principal.tid;
    resource.ingestedDateTime = new Date().toISOString();
    const record = { tenant: principal.tid, appid: principal.appid, resource };
    this.records.set(resource.id, record);
    this.index(record, true);
    return resource;
  }

  // ---- routes ---------------------------------------------------------------------------------

  /**
   * `POST /beta/security/tiIndicators`: 201 with the tiIndicator.
   * @param {{principal: import("./identity.mjs").Principal, body: Buffer}} request
   */
  createOne({ principal, body }) {
    const parsed = parseJson(body);
    if ("error" in parsed) return graphError(400, "BadRequest", `Unable to read JSON request payload: ${parsed.error}`);
    const problems = validateCreate(parsed.ok);
    if (problems.length > 0) return graphError(400, "BadRequest", `Invalid tiIndicator: ${problems.join("; ")}`);
    const resource = this.create(/** @type {Record<string, unknown>} */ (parsed.ok), principal);
    return json(201, { "@odata.context": "https://graph.microsoft.com/beta/$metadata#security/tiIndicators/$entity", ...resource });
  }

  /**
   * `POST …/submitTiIndicators` `{"value":[…]}`.
   * @param {{principal: import("./identity.mjs").Principal, body: Buffer, failItems: ((valid: number[]) => Set<number>) | null}} request
   */
  submit({ principal, body, failItems }) {
    return this.bulk(body, failItems, validateCreate, (item) => this.create(item, principal));
  }

  /**
   * `POST …/updateTiIndicators` `{"value":[{"id",…}]}`.
   * @param {{principal: import("./identity.mjs").Principal, body: Buffer, failItems: ((valid: number[]) => Set<number>) | null}} request
   */
  updateMany({ principal, body, failItems }) {
    return this.bulk(body, failItems, (o) => validateUpdate(o, true), (item) => this.update(String(item.id), item, principal));
  }

  /**
   * `PATCH /beta/security/tiIndicators/{id}`: 204, or 200 with `Prefer: return=representation`.
   * @param {{principal: import("./identity.mjs").Principal, id: string, body: Buffer, prefer: string | undefined}} request
   */
  patch({ principal, id, body, prefer }) {
    const parsed = parseJson(body);
    if ("error" in parsed) return graphError(400, "BadRequest", `Unable to read JSON request payload: ${parsed.error}`);
    const problems = validateUpdate(parsed.ok, false);
    if (isObject(parsed.ok) && parsed.ok.id !== undefined && parsed.ok.id !== id) problems.push("id: does not match the URL");
    if (problems.length > 0) return graphError(400, "BadRequest", `Invalid tiIndicator update: ${problems.join("; ")}`);
    const result = this.update(id, /** @type {Record<string, unknown>} */ (parsed.ok), principal);
    if (result.error) return graphError(404, "ResourceNotFound", result.error.message);
    if (/return=representation/i.test(prefer ?? "")) return json(200, result);
    return { status: 204, body: null };
  }

  /**
   * Applies an update to one of the caller's indicators.
   * @param {string} id
   * @param {Record<string, unknown>} changes
   * @param {import("./identity.mjs").Principal} principal
   * @returns {Record<string, any>} the updated tiIndicator, or `{error: {code, message, status}}`
   */
  update(id, changes, principal) {
    const record = this.records.get(id);
    if (!record || !this.owns(record, principal)) {
      return { error: { code: "ResourceNotFound", message: `No tiIndicator with id '${id}' belongs to this application.`, status: 404 } };
    }
    this.index(record, false);
    for (const [key, value] of Object.entries(changes)) if (!key.includes("@") && !SYSTEM.includes(key)) record.resource[key] = value;
    this.index(record, true);
    return structuredClone(record.resource);
  }

  /**
   * A bulk create/update: 200 when every item went through, 206 otherwise, `value` aligned with the
   * request.
   * @param {Buffer} body
   * @param {((valid: number[]) => Set<number>) | null} failItems
   * @param {(item: unknown) => string[]} validate
   * @param {(item: Record<string, unknown>) => Record<string, any>} apply
   */
  bulk(body, failItems, validate, apply) {
    const list = bulkList(body);
    if ("error" in list) return list.error;
    const problems = list.ok.map(validate);
    const valid = problems.flatMap((p, i) => (p.length === 0 ? [i] : []));
    const failed = failItems ? failItems(valid) : new Set();
    let anyFailed = false;
    const value = list.ok.map((item, i) => {
      if (problems[i].length > 0) {
        anyFailed = true;
        return { error: { code: "BadRequest", message: problems[i].join("; "), status: 400 } };
      }
      if (failed.has(i)) {
        anyFailed = true;
        return { error: { code: "ServiceUnavailable", message: "The provider is temporarily unavailable; retry later.", status: 503 } };
      }
      const result = apply(/** @type {Record<string, unknown>} */ (item));
      if (result.error) anyFailed = true;
      return result;
    });
    const headers = anyFailed ? { Warning: '199 - "Microsoft/Emulator/206/1"' } : {};
    return json(anyFailed ? 206 : 200, { "@odata.context": "https://graph.microsoft.com/beta/$metadata#Collection(tiIndicator)", value }, headers);
  }

  /**
   * `POST …/deleteTiIndicators` (by id) or `…/deleteTiIndicatorsByExternalId`: one resultInfo
   * `{code, message, subCode}` per item; code 0 = deleted, 404 = nothing to delete, 503 = an
   * injected transient failure (then the answer is 206).
   * @param {{principal: import("./identity.mjs").Principal, body: Buffer, byExternalId: boolean, failItems: ((valid: number[]) => Set<number>) | null}} request
   */
  deleteMany({ principal, body, byExternalId, failItems }) {
    const list = bulkList(body);
    if ("error" in list) return list.error;
    const valid = list.ok.flatMap((v, i) => (typeof v === "string" && v.trim() !== "" ? [i] : []));
    const failed = failItems ? failItems(valid) : new Set();
    let anyFailed = false;
    const value = list.ok.map((item, i) => {
      const key = /** @type {string} */ (item);
      if (!valid.includes(i)) {
        anyFailed = true;
        return { code: 400, message: `Expected a non-empty ${byExternalId ? "external id" : "id"}, found ${describe(item)}.`, subCode: "BadRequest" };
      }
      if (failed.has(i)) {
        anyFailed = true;
        return { code: 503, message: "The provider is temporarily unavailable; retry later.", subCode: "ServiceUnavailable" };
      }
      const ids = byExternalId
        ? [...(this.byExternalId.get(/** @type {string} */ (this.externalKey(principal.tid, principal.appid, key))) ?? [])]
        : [key].filter((id) => {
            const record = this.records.get(id);
            return record !== undefined && this.owns(record, principal);
          });
      for (const id of ids) this.remove(id);
      return ids.length > 0
        ? { code: 0, message: `Deleted ${ids.length} tiIndicator(s).`, subCode: null }
        : { code: 404, message: `No tiIndicator with ${byExternalId ? "externalId" : "id"} '${key}' belongs to this application.`, subCode: "NotFound" };
    });
    return json(anyFailed ? 206 : 200, { "@odata.context": "https://graph.microsoft.com/beta/$metadata#Collection(microsoft.graph.resultInfo)", value });
  }

  /**
   * `DELETE /beta/security/tiIndicators/{id}`: 204 or 404.
   * @param {{principal: import("./identity.mjs").Principal, id: string}} request
   */
  deleteOne({ principal, id }) {
    const record = this.records.get(id);
    if (!record || !this.owns(record, principal)) return graphError(404, "ResourceNotFound", `No tiIndicator with id '${id}' belongs to this application.`);
    this.remove(id);
    return { status: 204, body: null };
  }

  /**
   * `GET /beta/security/tiIndicators[/{id}]` with `$filter` (eq / and), `$top`, `$skip`.
   * @param {{principal: import("./identity.mjs").Principal, id: string | null, query: URLSearchParams, baseUrl: string}} request  `id` null = the collection
   */
  list({ principal, id, query, baseUrl }) {
    if (id !== null) {
      const record = this.records.get(id);
      if (!record || !this.owns(record, principal)) return graphError(404, "ResourceNotFound", `No tiIndicator with id '${id}' belongs to this application.`);
      return json(200, structuredClone(record.resource));
    }
    let clauses = [];
    const filterText = query.get("$filter");
    if (filterText !== null) {
      const filter = parseFilter(filterText, PROPERTY_NAMES);
      if ("error" in filter) return graphError(400, "BadRequest", `Invalid filter clause: ${filter.error}.`);
      clauses = filter.ok;
    }
    const top = parseCount(query.get("$top"), null, GRAPH_TOP_MAX, "$top");
    if ("error" in top) return graphError(400, "BadRequest", top.error);
    const skip = parseCount(query.get("$skip"), 0, Number.MAX_SAFE_INTEGER, "$skip");
    if ("error" in skip) return graphError(400, "BadRequest", skip.error);
    const all = [...this.records.values()].filter((r) => this.owns(r, principal) && matches(r.resource, clauses));
    const from = /** @type {number} */ (skip.ok);
    const size = top.ok ?? 100;
    /** @type {Record<string, unknown>} */
    const out = {
      "@odata.context": "https://graph.microsoft.com/beta/$metadata#security/tiIndicators",
      value: all.slice(from, from + size).map((r) => structuredClone(r.resource)),
    };
    if (top.ok === null && from + size < all.length) {
      const next = new URLSearchParams(query);
      next.set("$skip", String(from + size));
      out["@odata.nextLink"] = `${baseUrl}/beta/security/tiIndicators?${next.toString()}`;
    }
    return json(200, out);
  }

  /**
   * Every tiIndicator with its tenant and owning app.
   * @returns {Record<string, any>[]}
   */
  snapshot() {
    return [...this.records.values()].map((r) => ({ tenant: r.tenant, appId: r.appid, ...structuredClone(r.resource) }));
  }
}

/**
 * The `value` list of a bulk body: `{"value":[1..100]}` (OData annotations allowed beside it).
 * @param {Buffer} body
 * @returns {{ok: unknown[]} | {error: import("./http.mjs").Reply}}
 */
function bulkList(body) {
  const parsed = parseJson(body);
  if ("error" in parsed) return { error: graphError(400, "BadRequest", `Unable to read JSON request payload: ${parsed.error}`) };
  const root = parsed.ok;
  if (!isObject(root)) return { error: graphError(400, "BadRequest", 'The request body must be an object {"value": [...]}.') };
  const extra = Object.keys(root).filter((k) => k !== "value" && !k.includes("@"));
  if (extra.length > 0) {
    return { error: graphError(400, "BadRequest", `Unknown top-level propert${extra.length > 1 ? "ies" : "y"} ${extra.map((k) => `'${k}'`).join(", ")}: expected only 'value' (case-sensitive).`) };
  }
  if (!Array.isArray(root.value)) return { error: graphError(400, "BadRequest", "The 'value' property is required and must be a list.") };
  if (root.value.length === 0) return { error: graphError(400, "BadRequest", "The 'value' list is empty.") };
  if (root.value.length > GRAPH_MAX) {
    return { error: graphError(400, "BadRequest", `Too many items in 'value': ${root.value.length}, the maximum is ${GRAPH_MAX} per request.`) };
  }
  return { ok: root.value };
}
