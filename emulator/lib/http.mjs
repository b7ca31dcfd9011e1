// Small HTTP helpers: reading a body, parsing JSON without throwing, building replies.

import crypto from "node:crypto";

/**
 * What a route handler answers: a status, an optional body (an object is sent as JSON, a string as
 * is) and extra headers.
 * @typedef {object} Reply
 * @property {number} status
 * @property {unknown} [body]
 * @property {Record<string, string>} [headers]
 * @property {string} [contentType]
 */

/** The largest request body read (larger ones get 413). */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;

/**
 * Reads the whole request body; resolves null when it exceeds `max` bytes (the rest is drained).
 * @param {import("node:http").IncomingMessage} req
 * @param {number} [max]
 * @returns {Promise<Buffer | null>}
 */
export function readBody(req, max = MAX_BODY_BYTES) {
  return new Promise((resolve) => {
    /** @type {Buffer[]} */
    const chunks = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk) => {
      size += chunk.length;
      if (size > max) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on("end", () => resolve(tooLarge ? null : Buffer.concat(chunks)));
    req.on("error", () => resolve(tooLarge ? null : Buffer.concat(chunks)));
  });
}

/**
 * Parses JSON text; never throws.
 * @param {Buffer | string} body
 * @returns {{ok: unknown} | {error: string}}
 */
export function parseJson(body) {
  const text = Buffer.isBuffer(body) ? body.toString("utf8") : body;
  if (text.trim() === "") return { error: "the request body is empty" };
  try {
    return { ok: JSON.parse(text) };
  } catch (e) {
    return { error: `malformed JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/**
 * A JSON reply.
 * @param {number} status
 * @param {unknown} body
 * @param {Record<string, string>} [headers]
 * @returns {Reply}
 */
export function json(status, body, headers = {}) {
  return { status, body, headers };
}

/** A fresh correlation id. */
export function correlationId() {
  return crypto.randomUUID();
}

/**
 * Decodes a URL path without throwing (a malformed escape is kept as is).
 * @param {string} path
 */
export function decodePath(path) {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/**
 * Escapes text for HTML.
 * @param {unknown} value
 */
export function escapeHtml(value) {
  return String(value)
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}
