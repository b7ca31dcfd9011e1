// What every Node host (the CLI, the Azure Functions handler) injects into the shared delivery
// loop: the wasm package loaded from pkg/, a clock, secrets from the environment, a logger.

import { readFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const glueUrl = new URL("../../pkg/ti_relay.js", import.meta.url);
const wasmUrl = new URL("../../pkg/ti_relay_bg.wasm", import.meta.url);

let loaded;

/** The initialised wasm package (pkg/, built by `make build`). */
export async function loadPkg() {
  if (!loaded) {
    loaded = (async () => {
      if (!existsSync(wasmUrl)) throw new Error(`${fileURLToPath(wasmUrl)} is missing: run \`make build\` first`);
      const pkg = await import(glueUrl.href);
      pkg.initSync({ module: readFileSync(wasmUrl) });
      return pkg;
    })();
  }
  return loaded;
}

/**
 * The host clock. With `scale` S (tests and the local emulator only) every duration is S times
 * shorter: from `anchorMs` (default: when the clock is made) the clock runs S times faster, and a
 * sleep of `ms` lasts `ms / S` real milliseconds — the emulator's convention (its rate windows,
 * token lifetimes and Retry-After are documented durations divided by S; its "now" is real time).
 *
 * Anchored, not `Date.now() * S`: that is consistent for durations too, but its absolute time is
 * centuries ahead — past the year 9999 for S ≥ ~140 at today's epoch, where `facts.now` (RFC 3339)
 * is no longer a timestamp and the core refuses every `interpret` — and certificate assertions
 * (`nbf`, `exp`) would be far in the future. Anchored, the clock starts at real time and drifts by
 * (S − 1) × elapsed, which a run of a few real seconds keeps small.
 * @param {number | string} [scale]
 * @param {{anchorMs?: number}} [options]
 */
export function scaledClock(scale = 1, { anchorMs = Date.now() } = {}) {
  const s = Number(scale) > 0 && Number.isFinite(Number(scale)) ? Number(scale) : 1;
  return {
    scale: s,
    anchorMs,
    now: s === 1 ? () => Date.now() : () => anchorMs + (Date.now() - anchorMs) * s,
    /** Waits `ms` on this clock; resolves early when `signal` aborts. */
    sleep: (ms, signal) =>
      new Promise((resolve) => {
        if (signal?.aborted) return resolve();
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", done);
          resolve();
        };
        const timer = setTimeout(done, Math.max(0, ms) / s);
        signal?.addEventListener("abort", done, { once: true });
      }),
    /** A duration on this clock in real milliseconds. */
    realMs: (ms) => ms / s,
  };
}

/** Secrets by name from an environment object (process.env, app settings). */
export function envSecrets(env = process.env) {
  return async (name) => (typeof env[name] === "string" && env[name] !== "" ? env[name] : undefined);
}

/** Reads a configuration file (JSON) and says clearly what is wrong with it. */
export function readConfigFile(path) {
  let text;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`cannot read the configuration \`${path}\`: ${e.code === "ENOENT" ? "no such file" : e.message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`the configuration \`${path}\` is not JSON: ${e.message}`);
  }
}
