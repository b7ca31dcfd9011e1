// Microsoft Sentinel threat-intelligence upload (microsoft-apis.md §1): the STIX objects API
// (2024-02-01-preview) and the two generations of the legacy upload-indicators API (2022-07-01).
//
// Answers: 200 with an empty body when every object was published; 200 with
// `{"errors":[{"recordIndex":i,"errorMessages":["Error for Property=…"]}]}` when some were not (the
// others are stored); 400 `{"statusCode":400,"message":…}` for a malformed request, and — with the
// same `errors` list — when no object at all was valid (UNVERIFIED: the docs say 200 means "at
// least one object published").

import { parseJson, json } from "./http.mjs";
import { parseTimestamp, stixIdError, stixPatternError, isObject, isIntegerIn, isUuid } from "./checks.mjs";

/** The three upload endpoints. */
export const SENTINEL_APIS = Object.freeze({
  stix: { arrayKey: "stixobjects", apiVersion: "2024-02-01-preview", indicatorsOnly: false },
  v1: { arrayKey: "value", apiVersion: "2022-07-01", indicatorsOnly: true },
  v2: { arrayKey: "indicators", apiVersion: "2022-07-01", indicatorsOnly: true },
});

/** Object types the STIX objects upload documents. */
const STIX_TYPES = ["indicator", "attack-pattern", "threat-actor", "identity", "relationship"];

/** Objects per request. */
export const SENTINEL_MAX = 100;

/**
 * A Sentinel (API Management gateway) error answer.
 * @param {number} status
 * @param {string} message
 * @param {Record<string, string>} [headers]
 */
export function sentinelError(status, message, headers) {
  return json(status, { statusCode: status, message }, headers);
}

/**
 * @typedef {object} Version
 * @property {string} sourcesystem
 * @property {string} modified
 * @property {boolean} revoked
 * @property {string} api
 * @property {string} received
 */

/**
 * @typedef {object} Entry
 * @property {Version[]} versions
 * @property {Record<string, unknown>} latest
 * @property {string} modifiedKey  the latest version's `modified`, comparable
 * @property {boolean} revoked     sticky: once revoked, always revoked
 */

export class Sentinel {
  /** @param {import("./state.mjs").Counters} counters */
  constructor(counters) {
    this.counters = counters;
    /** @type {Map<string, Map<string, Entry>>} workspace → STIX id → entry */
    this.workspaces = new Map();
  }

  reset() {
    this.workspaces.clear();
  }

  /**
   * One upload request (already authenticated and admitted by the rate limiter).
   * @param {object} request
   * @param {"stix" | "v1" | "v2"} request.api
   * @param {string} request.workspace
   * @param {URLSearchParams} request.query
   * @param {Buffer} request.body
   * @param {((valid: number[]) => Set<number>) | null} request.failItems  a `partial` fault's choice
   * @returns {import("./http.mjs").Reply}
   */
  upload({ api, workspace, query, body, failItems }) {
    const spec = SENTINEL_APIS[api];
    if (!isUuid(workspace)) return sentinelError(404, `Workspace '${workspace}' was not found: a workspace id is the Log Analytics workspace GUID.`);
    const version = query.get("api-version");
    if (version !== spec.apiVersion) {
      return sentinelError(400, `The api-version '${version ?? ""}' is not supported by this endpoint; use ${spec.apiVersion}.`);
    }
    const parsed = parseJson(body);
    if ("error" in parsed) return sentinelError(400, `The request body is not valid JSON: ${parsed.error}`);
    const root = parsed.ok;
    if (!isObject(root)) return sentinelError(400, `The request body must be an object {"sourcesystem", "${spec.arrayKey}"}.`);
    const unknown = Object.keys(root).filter((k) => k !== "sourcesystem" && k !== spec.arrayKey);
    if (unknown.length > 0) {
      return sentinelError(400, `Unknown top-level propert${unknown.length > 1 ? "ies" : "y"} ${unknown.map((k) => `'${k}'`).join(", ")}: this endpoint takes only 'sourcesystem' and '${spec.arrayKey}' (lowercase).`);
    }
    const source = root.sourcesystem;
    if (typeof source !== "string" || source.trim() === "") {
      return sentinelError(400, "The 'sourcesystem' property is required: the name of your source.");
    }
    if (source.trim().toLowerCase() === "microsoft sentinel") {
      return sentinelError(400, "The 'sourcesystem' value 'Microsoft Sentinel' is reserved; use your own source name.");
    }
    const objects = root[spec.arrayKey];
    if (!Array.isArray(objects)) return sentinelError(400, `The '${spec.arrayKey}' property is required and must be an array.`);
    if (objects.length === 0) return sentinelError(400, `The '${spec.arrayKey}' array is empty: send 1 to ${SENTINEL_MAX} objects.`);
    if (objects.length > SENTINEL_MAX) {
      return sentinelError(400, `Too many objects in '${spec.arrayKey}': ${objects.length}, the maximum is ${SENTINEL_MAX} per request.`);
    }

    const messages = objects.map((o) => validateObject(o, spec.indicatorsOnly));
    const valid = messages.flatMap((m, i) => (m.length === 0 ? [i] : []));
    if (valid.length === 0) return json(400, { errors: errorList(messages) });
    const failed = failItems ? failItems(valid) : new Set();
    for (const i of failed) {
      const id = /** @type {Record<string, unknown>} */ (objects[i]).id;
      messages[i] = [`Error for Property=id: The object could not be published because of a transient internal error; retry later. Actual value: ${show(id)}.`];
    }
    const received = new Date().toISOString();
    for (const i of valid) {
      if (!failed.has(i)) this.store(workspace, /** @type {Record<string, unknown>} */ (objects[i]), source, api, received);
    }
    const errors = errorList(messages);
    return errors.length === 0 ? { status: 200, body: null } : json(200, { errors });
  }

  /**
   * Keeps a new version of an object.
   * @param {string} workspace
   * @param {Record<string, unknown>} object
   * @param {string} sourcesystem
   * @param {string} api
   * @param {string} received
   */
  store(workspace, object, sourcesystem, api, received) {
    let objects = this.workspaces.get(workspace);
    if (!objects) {
      objects = new Map();
      this.workspaces.set(workspace, objects);
    }
    const id = /** @type {string} */ (object.id);
    const modified = /** @type {string} */ (object.modified);
    const modifiedKey = /** @type {{ok: import("./checks.mjs").Timestamp}} */ (parseTimestamp(modified)).ok.key;
    const revoked = object.revoked === true;
    const version = { sourcesystem, modified, revoked, api, received };
    const entry = objects.get(id);
    if (!entry) {
      objects.set(id, { versions: [version], latest: object, modifiedKey, revoked });
      return;
    }
    if (modifiedKey <= entry.modifiedKey) this.counters.quirk("stale_modified");
    if (entry.revoked) this.counters.quirk("revoked_then_updated");
    entry.versions.push(version);
    entry.latest = object;
    if (modifiedKey > entry.modifiedKey) entry.modifiedKey = modifiedKey;
    entry.revoked = entry.revoked || revoked;
  }

  /**
   * Everything stored: workspace → STIX id → {versions, latest, revoked}.
   * @returns {Record<string, Record<string, {versions: Version[], latest: Record<string, any>, revoked: boolean}>>}
   */
  snapshot() {
    /** @type {Record<string, Record<string, {versions: Version[], latest: Record<string, any>, revoked: boolean}>>} */
    const out = {};
    for (const [workspace, objects] of this.workspaces) {
      out[workspace] = {};
      for (const [id, entry] of objects) {
        out[workspace][id] = { versions: entry.versions.map((v) => ({ ...v })), latest: structuredClone(entry.latest), revoked: entry.revoked };
      }
    }
    return out;
  }
}

/**
 * The `errors` list of an answer: one entry per object with messages.
 * @param {string[][]} messages
 */
function errorList(messages) {
  return messages.flatMap((m, recordIndex) => (m.length === 0 ? [] : [{ recordIndex, errorMessages: m }]));
}

/**
 * A value as Sentinel's messages quote it.
 * @param {unknown} value
 */
function show(value) {
  if (value === undefined || value === null) return "NULL";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
}

/**
 * Every problem with one object, as Sentinel-style messages (empty = valid). Ported from
 * tests/support/msapi.rs `stix_object`.
 * @param {unknown} object
 * @param {boolean} indicatorsOnly
 * @returns {string[]}
 */
export function validateObject(object, indicatorsOnly) {
  /** @type {string[]} */
  const out = [];
  if (!isObject(object)) return [`Error for Property=object: Expected a STIX object. Actual value: ${show(object)}.`];
  const o = object;
  const fail = (property, message, value = o[property]) => out.push(`Error for Property=${property}: ${message}. Actual value: ${show(value)}.`);
  const missing = (property) => fail(property, "Required property is missing", null);
  const required = (property) => {
    if (o[property] === undefined || o[property] === null) {
      missing(property);
      return false;
    }
    return true;
  };
  const nonEmpty = (property, value = o[property]) => {
    if (typeof value !== "string" || value.trim() === "") {
      fail(property, "Expected a non-empty string", value);
      return false;
    }
    return true;
  };
  const timestamp = (property) => {
    if (!required(property)) return null;
    const t = parseTimestamp(o[property]);
    if ("error" in t) {
      fail(property, `Expected an RFC 3339 UTC timestamp (${t.error})`);
      return null;
    }
    return t.ok;
  };
  const stixList = (property) => {
    const v = o[property];
    if (!Array.isArray(v) || v.length === 0) {
      fail(property, "Expected a non-empty list (STIX forbids empty lists; omit the property instead)");
      return null;
    }
    return v;
  };

  // Common properties.
  let type = null;
  if (required("type") && nonEmpty("type")) {
    type = /** @type {string} */ (o.type);
    if (indicatorsOnly && type !== "indicator") {
      fail("type", "Expected 'indicator': this API uploads indicators only");
      return out;
    }
    if (!STIX_TYPES.includes(type)) fail("type", `Expected a supported type (${STIX_TYPES.join(", ")})`);
  }
  if (required("id")) {
    const problem = stixIdError(o.id, type && STIX_TYPES.includes(type) ? type : null);
    if (problem) fail("id", `Invalid STIX identifier: ${problem}`);
  }
  if (o.spec_version !== undefined && o.spec_version !== "2.0" && o.spec_version !== "2.1") fail("spec_version", "Expected '2.0' or '2.1'");
  const created = timestamp("created");
  const modified = timestamp("modified");
  if (created && modified && modified.key < created.key) fail("modified", "Must not be earlier than 'created'");
  if (o.created_by_ref !== undefined) {
    const problem = stixIdError(o.created_by_ref, "identity");
    if (problem) fail("created_by_ref", `Invalid identity reference: ${problem}`);
  }
  if (o.revoked !== undefined && typeof o.revoked !== "boolean") fail("revoked", "Expected a boolean");
  if (o.labels !== undefined) {
    const labels = stixList("labels");
    if (labels && !labels.every((l) => typeof l === "string" && l.trim() !== "")) fail("labels", "Expected non-empty strings");
  }
  if (o.confidence !== undefined && !isIntegerIn(o.confidence, 0, 100)) fail("confidence", "Expected an integer from 0 to 100");
  if (o.lang !== undefined) nonEmpty("lang");
  if (o.object_marking_refs !== undefined) {
    const refs = stixList("object_marking_refs");
    refs?.forEach((ref, i) => {
      const problem = stixIdError(ref, "marking-definition");
      if (problem) fail(`object_marking_refs[${i}]`, `Invalid marking reference: ${problem}`, ref);
    });
  }
  if (o.external_references !== undefined) {
    stixList("external_references")?.forEach((ref, i) => {
      const p = `external_references[${i}]`;
      if (!isObject(ref)) return fail(p, "Expected an object", ref);
      if (typeof ref.source_name !== "string" || ref.source_name.trim() === "") fail(`${p}.source_name`, "Required non-empty string", ref.source_name);
      for (const key of ["description", "external_id", "url"]) {
        if (ref[key] !== undefined && typeof ref[key] !== "string") fail(`${p}.${key}`, "Expected a string", ref[key]);
      }
      if (ref.hashes !== undefined && !(isObject(ref.hashes) && Object.values(ref.hashes).every((h) => typeof h === "string" && h !== ""))) {
        fail(`${p}.hashes`, "Expected an object of non-empty hash strings", ref.hashes);
      }
    });
  }
  if (o.granular_markings !== undefined) {
    stixList("granular_markings")?.forEach((marking, i) => {
      const p = `granular_markings[${i}]`;
      if (!isObject(marking)) return fail(p, "Expected an object", marking);
      if (!Array.isArray(marking.selectors) || marking.selectors.length === 0 || !marking.selectors.every((s) => typeof s === "string" && s !== "")) {
        fail(`${p}.selectors`, "Required non-empty list of strings", marking.selectors);
      }
      if ((marking.marking_ref === undefined) === (marking.lang === undefined)) fail(p, "Expected exactly one of 'marking_ref' and 'lang'", marking);
      if (marking.marking_ref !== undefined && stixIdError(marking.marking_ref, "marking-definition")) {
        fail(`${p}.marking_ref`, "Invalid marking reference", marking.marking_ref);
      }
    });
  }

  // Type-specific properties.
  if (type === "indicator") validateIndicator(o, { fail, required, nonEmpty, timestamp, stixList });
  else if (type === "relationship") {
    if (required("relationship_type")) nonEmpty("relationship_type");
    for (const key of ["source_ref", "target_ref"]) {
      if (required(key)) {
        const problem = stixIdError(o[key], null);
        if (problem) fail(key, `Invalid STIX identifier: ${problem}`);
      }
    }
  } else if (type === "attack-pattern" || type === "threat-actor" || type === "identity") {
    if (required("name")) nonEmpty("name");
  }
  return out;
}

/**
 * The indicator properties (§1.2).
 * @param {Record<string, unknown>} o
 * @param {Record<string, Function>} check
 */
function validateIndicator(o, { fail, required, nonEmpty, timestamp, stixList }) {
  const hasPattern = required("pattern") && nonEmpty("pattern");
  const hasType = required("pattern_type") && nonEmpty("pattern_type");
  if (o.pattern_version !== undefined && typeof o.pattern_version !== "string") fail("pattern_version", "Expected a string");
  if (hasType && o.pattern_type !== "stix" && String(o.pattern_type).toLowerCase() === "stix") {
    fail("pattern_type", "Expected 'stix' (pattern-type vocabulary values are lowercase)");
  }
  if (hasPattern && hasType && o.pattern_type === "stix") {
    const problem = stixPatternError(/** @type {string} */ (o.pattern));
    if (problem) fail("pattern", `The pattern type is 'stix' but the pattern is not valid STIX patterning: ${problem}`);
  }
  const from = timestamp("valid_from");
  if (o.valid_until !== undefined) {
    const until = parseTimestamp(o.valid_until);
    if ("error" in until) fail("valid_until", `Expected an RFC 3339 UTC timestamp (${until.error})`);
    else if (from && until.ok.key <= from.key) fail("valid_until", "Must be later than 'valid_from'");
  }
  for (const key of ["name", "description"]) {
    if (o[key] !== undefined && typeof o[key] !== "string") fail(key, "Expected a string");
  }
  if (o.indicator_types !== undefined) {
    const types = stixList("indicator_types");
    if (types && !types.every((t) => typeof t === "string" && t.trim() !== "")) fail("indicator_types", "Expected non-empty strings");
  }
  if (o.kill_chain_phases !== undefined) {
    stixList("kill_chain_phases")?.forEach((phase, i) => {
      const p = `kill_chain_phases[${i}]`;
      if (!isObject(phase)) return fail(p, "Expected an object {kill_chain_name, phase_name}", phase);
      for (const key of ["kill_chain_name", "phase_name"]) {
        if (typeof phase[key] !== "string" || phase[key].trim() === "") fail(`${p}.${key}`, "Required non-empty string", phase[key]);
      }
    });
  }
}
