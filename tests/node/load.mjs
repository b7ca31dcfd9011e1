// Loads the wasm package built by `make build` (pkg/, wasm-bindgen --target web) synchronously
// from disk, once per process, and returns its exports. Every Node test and bench uses this.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const glueUrl = new URL("../../pkg/ti_relay.js", import.meta.url);
const wasmUrl = new URL("../../pkg/ti_relay_bg.wasm", import.meta.url);

let loaded;

/** The initialised package: `const pkg = await loadPkg(); pkg.version()`. */
export async function loadPkg() {
  if (!loaded) {
    loaded = (async () => {
      if (!existsSync(glueUrl) || !existsSync(wasmUrl)) {
        throw new Error(`${fileURLToPath(glueUrl)} is missing: run \`make build\` first`);
      }
      const pkg = await import(glueUrl.href);
      pkg.initSync({ module: readFileSync(wasmUrl) });
      return pkg;
    })();
  }
  return loaded;
}

/** The repository root as a file URL (for reading fixtures, Cargo.toml, corpora). */
export const repoRoot = new URL("../../", import.meta.url);
