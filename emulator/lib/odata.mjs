// The slice of OData query options the emulator understands: `$filter` made of
// `<field> eq <literal>` comparisons joined by `and`, `$top` and `$skip`.
//
// Literals: 'text' (a quote inside is doubled: 'it''s'), true, false, null, numbers. The query
// string is decoded as a form (`+` is a space, %-escapes), which URLSearchParams does.

/**
 * @typedef {{field: string, value: string | number | boolean | null}} Clause
 */

/**
 * Parses a `$filter` expression.
 * @param {string} text
 * @param {readonly string[]} fields  the filterable field names (case-sensitive)
 * @returns {{ok: Clause[]} | {error: string}}
 */
export function parseFilter(text, fields) {
  const tokens = tokenize(text);
  if ("error" in tokens) return tokens;
  const list = tokens.ok;
  /** @type {Clause[]} */
  const clauses = [];
  let i = 0;
  for (;;) {
    const field = list[i];
    const op = list[i + 1];
    const literal = list[i + 2];
    if (!field || field.kind !== "name") return { error: `expected a property name at position ${field?.at ?? text.length}` };
    if (!fields.includes(field.text)) {
      return { error: `Could not find a property named '${field.text}' that can be filtered on; filterable: ${fields.join(", ")}` };
    }
    if (!op || op.kind !== "name" || op.text !== "eq") {
      return { error: `expected 'eq' after '${field.text}' (only 'eq' comparisons joined by 'and' are supported)` };
    }
    const isLiteral = literal && (literal.kind === "literal" || ["true", "false", "null"].includes(literal.text));
    if (!isLiteral) {
      const found = literal ? `'${literal.text}'` : "the end of the expression";
      return { error: `expected a literal after 'eq', found ${found}` };
    }
    clauses.push({ field: field.text, value: literal.value });
    i += 3;
    if (i === list.length) return { ok: clauses };
    if (list[i].kind !== "name" || list[i].text !== "and") return { error: `expected 'and' at position ${list[i].at}` };
    i += 1;
  }
}

/**
 * @typedef {{kind: "name" | "literal", text: string, value: string | number | boolean | null, at: number}} Token
 */

/**
 * @param {string} text
 * @returns {{ok: Token[]} | {error: string}}
 */
function tokenize(text) {
  /** @type {Token[]} */
  const out = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'") {
      const start = i;
      let value = "";
      i++;
      for (;;) {
        if (i >= text.length) return { error: `unterminated string literal starting at position ${start}` };
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += text[i];
        i++;
      }
      out.push({ kind: "literal", text: text.slice(start, i), value, at: start });
    } else if (/[A-Za-z_]/.test(c)) {
      const start = i;
      while (i < text.length && /[A-Za-z0-9_.]/.test(text[i])) i++;
      const word = text.slice(start, i);
      const value = word === "true" ? true : word === "false" ? false : word === "null" ? null : word;
      out.push({ kind: "name", text: word, value, at: start });
    } else if (/[-0-9]/.test(c)) {
      const start = i;
      i++;
      while (i < text.length && /[0-9.eE+-]/.test(text[i])) i++;
      const word = text.slice(start, i);
      const value = Number(word);
      if (!Number.isFinite(value)) return { error: `malformed number '${word}' at position ${start}` };
      out.push({ kind: "literal", text: word, value, at: start });
    } else {
      return { error: `unexpected character '${c}' at position ${i}` };
    }
  }
  if (out.length === 0) return { error: "the $filter expression is empty" };
  return { ok: out };
}

/**
 * Whether a record matches every clause. Text compares ignoring case; a list matches when one of its
 * elements does.
 * @param {Record<string, unknown>} record
 * @param {Clause[]} clauses
 */
export function matches(record, clauses) {
  return clauses.every(({ field, value }) => {
    const actual = record[field];
    const same = (a) => {
      if (value === null) return a === null || a === undefined;
      if (typeof value === "string" && typeof a === "string") return a.toLowerCase() === value.toLowerCase();
      return a === value;
    };
    return Array.isArray(actual) ? actual.some(same) : same(actual);
  });
}

/**
 * Parses `$top` / `$skip`: absent → `fallback`; otherwise a whole number within [0, max].
 * @param {string | null} text
 * @param {number | null} fallback
 * @param {number} max
 * @param {string} name
 * @returns {{ok: number | null} | {error: string}}
 */
export function parseCount(text, fallback, max, name) {
  if (text === null) return { ok: fallback };
  if (!/^\d+$/.test(text.trim())) return { error: `${name} must be a whole number, found '${text}'` };
  const n = Number(text.trim());
  if (n > max) return { error: `${name} must be at most ${max}, found ${n}` };
  return { ok: n };
}
