// The wasm package loads in Node and reports the crate's version.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { loadPkg, repoRoot } from "./load.mjs";

/** `version` of the [package] table of Cargo.toml. */
function cargoVersion() {
  const toml = readFileSync(new URL("Cargo.toml", repoRoot), "utf8");
  const pkgTable = toml.split(/^\[/m).find((t) => t.startsWith("package]"));
  const m = pkgTable?.match(/^version\s*=\s*"([^"]+)"/m);
  assert.ok(m, "no version in the [package] table of Cargo.toml");
  return m[1];
}

test("version() is the crate version from Cargo.toml", async () => {
  const pkg = await loadPkg();
  assert.equal(typeof pkg.version, "function", "pkg exports version()");
  assert.equal(pkg.version(), cargoVersion());
});
