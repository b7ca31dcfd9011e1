#!/usr/bin/env bash
# scripts/bundle-gate.sh LIMIT: builds the Worker exactly as `wrangler deploy` would upload it
# (`wrangler deploy --dry-run`, which also checks wrangler.toml), prints each module's size raw and
# gzipped (-9), and fails when the gzipped total (source maps excluded) exceeds LIMIT bytes.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
limit="$1"
out="target/worker-bundle"
rm -rf "$out"
export WRANGLER_SEND_METRICS=false XDG_CONFIG_HOME="$root/target/xdg-config" XDG_CACHE_HOME="$root/target/xdg-cache"
if ! log="$(scripts/node.sh node_modules/wrangler/bin/wrangler.js deploy --dry-run --outdir "$out" 2>&1)"; then
  printf '%s\n' "$log" >&2
  echo "bundle gate: wrangler deploy --dry-run failed" >&2
  exit 1
fi
total=0
for f in "$out"/*; do
  case "$f" in *.map|*/README.md) continue ;; esac
  raw="$(wc -c <"$f")"
  gz="$(gzip -9 -n -c "$f" | wc -c)"
  total=$((total + gz))
  printf '  %-60s %9s raw %9s gzipped\n' "$(basename "$f")" "$raw" "$gz"
done
printf 'worker bundle: %s bytes gzipped (-9); limit %s\n' "$total" "$limit"
if [ "$total" -gt "$limit" ]; then
  echo "bundle gate: FAILED: the Worker is $total bytes gzipped, over the $limit byte budget" >&2
  exit 1
fi
