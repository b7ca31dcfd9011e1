// The two pieces of plumbing under the delivery loop: one HTTP exchange exactly as planned, and the
// counting semaphore that caps open connections.

/**
 * Sends a planned request — its exact method, URL and body text, its headers plus the bearer token —
 * and reads the whole answer. Transport failures (DNS, reset, timeout) reject with an Error whose
 * message says what happened; an abort of `signal` rejects too (the caller checks `signal.aborted`).
 * @param {typeof fetch} fetch
 * @param {{method: string, url: string, headers?: Record<string, string>, body: string | null}} request
 * @param {string} token
 * @param {{signal?: AbortSignal, timeoutMs: number}} options  `timeoutMs` is real time.
 * @returns {Promise<{status: number, headers: Record<string, string>, body: string}>}
 *   `headers` with lower-cased names, as `relay.interpret` takes them.
 */
export async function exchange(fetch, request, token, { signal, timeoutMs }) {
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  signal?.addEventListener("abort", onAbort, { once: true });
  if (signal?.aborted) controller.abort();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  try {
    const response = await fetch(request.url, {
      method: request.method,
      headers: { ...request.headers, authorization: `Bearer ${token}` },
      body: request.body ?? undefined,
      signal: controller.signal,
    });
    const body = await response.text();
    const headers = {};
    response.headers.forEach((value, name) => {
      headers[name.toLowerCase()] = value;
    });
    return { status: response.status, headers, body };
  } catch (err) {
    if (timedOut) throw new Error(`no response within ${timeoutMs} ms`);
    throw err;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * A FIFO counting semaphore: `await acquire()` gives a release function (calling it twice is harmless).
 * @param {number} size
 */
export function semaphore(size) {
  let free = size;
  const waiters = [];
  const makeRelease = () => {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = waiters.shift();
      if (next) next(makeRelease());
      else free += 1;
    };
  };
  return {
    /** @returns {Promise<() => void>} */
    acquire() {
      if (free > 0) {
        free -= 1;
        return Promise.resolve(makeRelease());
      }
      return new Promise((resolve) => waiters.push(resolve));
    },
  };
}
