#!/usr/bin/env bash
# scripts/size-gate.sh WASM LIMIT: prints the wasm size raw and gzipped (-9) and fails when the
# gzipped size exceeds LIMIT bytes.
set -euo pipefail
wasm="$1"
limit="$2"
[ -f "$wasm" ] || { echo "size gate: $wasm not found (run make build)" >&2; exit 1; }
raw="$(wc -c <"$wasm")"
gz="$(gzip -9 -n -c "$wasm" | wc -c)"
printf 'wasm size: %s raw, %s gzipped (-9); limit %s gzipped\n' "$raw" "$gz" "$limit"
if [ "$gz" -gt "$limit" ]; then
  echo "size gate: FAILED: $wasm is $gz bytes gzipped, over the $limit byte budget" >&2
  exit 1
fi
