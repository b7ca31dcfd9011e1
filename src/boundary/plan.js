// Builds `relay.plan`'s and `relay.interpret`'s results from the parts the core hands over
// (src/transfer.rs documents the layout): the very objects `JSON.parse` of their JSON text would
// give — same keys in the same order, `null` where that has `null`, absent where that omits —
// made by object literals from one string and a list of numbers, in a fraction of `JSON.parse`'s
// time. It decides nothing; wasm-bindgen copies it into pkg/snippets/ and the package's glue
// imports it.

const NONE = 0xffffffff;
const VERDICTS = ["upsert", "remove", "skip"];

/**
 * @param {string} headText `{"requests":[…],"errors":[…]}`
 * @param {string} namesText the names (destinations, formats, types, reasons) joined by `,`
 * @param {string} text every string of the items, one after the other
 * @param {Uint32Array} codes lengths (UTF-16 units) and numbers; a view of wasm memory, read here
 *   and not kept
 */
export function planFromParts(headText, namesText, text, codes) {
  const head = JSON.parse(headText);
  const names = namesText.split(",");
  let at = 0; // into codes
  let from = 0; // into text
  const string = () => {
    const length = codes[at++];
    if (length === NONE) return null;
    const s = text.slice(from, from + length);
    from += length;
    return s;
  };
  const count = codes[at++];
  const items = new Array(count);
  for (let i = 0; i < count; i++) {
    const key = string();
    const format = names[codes[at++]];
    const source_id = string();
    const typeAt = codes[at++];
    const observable = typeAt === NONE ? null : { type: names[typeAt], value: string() };
    const verdicts = new Array(codes[at++]);
    for (let v = 0; v < verdicts.length; v++) {
      const verdict = { destination: names[codes[at++]], verdict: VERDICTS[codes[at++]] };
      const reasonAt = codes[at++];
      if (reasonAt !== NONE) verdict.reason = names[reasonAt];
      const message = string();
      if (message !== null) verdict.message = message;
      verdicts[v] = verdict;
    }
    items[i] = { key, format, source_id, observable, verdicts };
  }
  for (const request of head.requests) {
    const n = codes[at++];
    if (n === NONE) continue;
    const keys = new Array(n);
    for (let k = 0; k < n; k++) keys[k] = items[codes[at++]].key;
    request.items = keys;
  }
  return { items, requests: head.requests, errors: head.errors };
}

const OUTCOMES_BY_CODE = ["accepted", "rejected", "retry"];

/**
 * `relay.interpret`'s result from its parts (src/transfer.rs, `InterpretationParts`): the objects
 * `JSON.parse` of the interpretation's JSON text would give.
 * @param {string} headText the interpretation's JSON with `"items":[]`
 * @param {string} text the keys not at their place in the request, and the messages
 * @param {Uint32Array} codes a view of wasm memory, read here and not kept
 * @param {string[]} requestItems the interpreted request's `items` (their strings are reused)
 */
export function interpretationFromParts(headText, text, codes, requestItems) {
  const head = JSON.parse(headText);
  let at = 0;
  let from = 0;
  const string = () => {
    const length = codes[at++];
    const s = text.slice(from, from + length);
    from += length;
    return s;
  };
  const items = new Array(codes[at++]);
  for (let i = 0; i < items.length; i++) {
    const index = codes[at++];
    const key = index === NONE ? string() : requestItems[index];
    const outcome = OUTCOMES_BY_CODE[codes[at++]];
    if (outcome === "accepted") {
      items[i] = { key, outcome };
    } else if (outcome === "rejected") {
      items[i] = { key, outcome, message: string() };
    } else {
      const item = { key, outcome };
      if (codes[at++] === 1) {
        const low = codes[at++];
        item.after_ms = low + codes[at++] * 2 ** 32;
      }
      item.message = string();
      items[i] = item;
    }
  }
  head.items = items;
  return head;
}
