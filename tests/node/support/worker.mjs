// Runs the Cloudflare Worker (worker/cloudflare/index.mjs) in workerd through Miniflare, configured
// like wrangler.toml but pointed at a local Microsoft emulator.
import { readdirSync, readFileSync } from "node:fs";
import { basename, dirname } from "node:path";

import { Miniflare, convertV4MiniflareOptions } from "miniflare";

export const repoRoot = new URL("../../../", import.meta.url);

export const HMAC_SECRET = "test-webhook-hmac-secret";
export const BEARER_TOKEN = "test-webhook-bearer-token";
export const CLIENT_SECRET = "emulator-dev-secret";

/** examples/local-config.json pointed at `emulatorUrl`, with optional edits. */
export function localConfig(emulatorUrl, edit = (c) => c) {
  const text = readFileSync(new URL("examples/local-config.json", repoRoot), "utf8").replaceAll("http://127.0.0.1:8788", emulatorUrl);
  return edit(JSON.parse(text));
}

const root = new URL(".", repoRoot).pathname;

/** Every module the Worker imports, listed explicitly (Miniflare 5 takes no module rules). */
function workerModules() {
  const modules = [];
  const add = (dir, filter, type) => {
    for (const name of readdirSync(new URL(dir, repoRoot)).filter(filter)) {
      const url = new URL(`${dir}${name}`, repoRoot);
      modules.push({ type, path: url.pathname, contents: type === "CompiledWasm" ? readFileSync(url) : readFileSync(url, "utf8") });
    }
  };
  // index.mjs first: Miniflare takes the first module as the entry point.
  add("worker/cloudflare/", (n) => n === "index.mjs", "ESModule");
  add("worker/cloudflare/", (n) => n.endsWith(".mjs") && n !== "index.mjs", "ESModule");
  add("worker/http/", (n) => n.endsWith(".mjs"), "ESModule");
  add("worker/lib/", (n) => n.endsWith(".mjs"), "ESModule");
  add("pkg/", (n) => n === "ti_relay.js", "ESModule");
  add("pkg/", (n) => n === "ti_relay_bg.wasm", "CompiledWasm");
  // The JS the package's glue imports (wasm-bindgen copies it to pkg/snippets/<crate-hash>/…).
  for (const entry of readdirSync(new URL("pkg/snippets/", repoRoot), { recursive: true })) {
    if (String(entry).endsWith(".js")) add(`pkg/snippets/${dirname(String(entry))}/`, (n) => n === basename(String(entry)), "ESModule");
  }
  return modules;
}

/**
 * Starts the Worker in workerd.
 * @param {{config: object, queue?: boolean, timeScale?: number, bindings?: Record<string, string>}} options
 */
export async function startWorker({ config, queue = false, timeScale = 1, bindings = {} }) {
  const options = {
    modulesRoot: root,
    modules: workerModules(),
    compatibilityDate: "2026-11-01",
    bindings: {
      TI_RELAY_CONFIG: JSON.stringify(config),
      EMULATOR_CLIENT_SECRET: CLIENT_SECRET,
      WEBHOOK_HMAC_SECRET: HMAC_SECRET,
      WEBHOOK_BEARER_TOKEN: BEARER_TOKEN,
      TIME_SCALE: String(timeScale),
      TIME_SCALE_ANCHOR_MS: String(Date.now()),
      LOG_LEVEL: "error",
      ...bindings,
    },
    durableObjects: { STATE: { className: "RelayState", useSQLite: true } },
    ...(queue
      ? {
          queueProducers: { DELIVERY: "ti-relay-delivery", DEAD_LETTERS: "ti-relay-dlq" },
          queueConsumers: {
            "ti-relay-delivery": { maxBatchSize: 10, maxBatchTimeout: 1, maxRetries: 5, deadLetterQueue: "ti-relay-dlq" },
            "ti-relay-dlq": { maxBatchSize: 100, maxBatchTimeout: 1 },
          },
        }
      : {}),
  };
  const mf = new Miniflare(typeof convertV4MiniflareOptions === "function" ? convertV4MiniflareOptions(options) : options);
  const url = await mf.ready;
  return {
    mf,
    url: url.href.replace(/\/$/, ""),
    fetch: (path, init) => mf.dispatchFetch(new URL(path, url).href, init),
    scheduled: async () => (await mf.getWorker()).scheduled({ cron: "*/5 * * * *" }),
    dispose: () => mf.dispose(),
  };
}
