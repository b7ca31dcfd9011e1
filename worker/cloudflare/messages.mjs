// Delivery queue messages: made by the webhook's invocation, read by the queue consumer's. Kept
// apart from index.mjs (which imports `cloudflare:workers`) so the CPU benchmark runs the same code.

/**
 * A delivery message's text: the JSON of `{v: 2, request, replays}` with the request's `body` set
 * to null, then a newline and the body text as it is. The body (most of the bytes, JSON itself) is
 * not escaped into a JSON string and parsed back out: that was the largest cost of a queued webhook
 * after the plan. JSON text never holds a raw newline, so the first one ends the head.
 */
export function messageText(request, replays) {
  const head = JSON.stringify({ v: 2, request: { ...request, body: null }, replays });
  return typeof request.body === "string" ? `${head}\n${request.body}` : head;
}

/**
 * A delivery message's content: the text of {@link messageText}, the JSON text of version 1 (no
 * newline: the body inside), or an object from an older version of this Worker.
 */
export function messageBody(message) {
  if (typeof message.body !== "string") return message.body;
  const cut = message.body.indexOf("\n");
  if (cut < 0) return JSON.parse(message.body);
  const content = JSON.parse(message.body.slice(0, cut));
  content.request.body = message.body.slice(cut + 1);
  return content;
}
