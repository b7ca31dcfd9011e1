// Loads the wasm package built by `make build` (pkg/, wasm-bindgen --target web) synchronously
// from disk, once per process — the same loader the Node hosts use (worker/node/host.mjs).
export { loadPkg } from "../../worker/node/host.mjs";

/** The repository root as a file URL (for reading fixtures, Cargo.toml, corpora). */
export const repoRoot = new URL("../../", import.meta.url);
