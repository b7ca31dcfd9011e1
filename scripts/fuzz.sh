#!/usr/bin/env bash
# scripts/fuzz.sh [SECONDS]: runs every cargo-fuzz target (as `cargo +nightly fuzz list` reports
# them, so new targets under fuzz/fuzz_targets/ are picked up) for SECONDS each (default 300),
# then prints each target's exec count. Exits non-zero if any target found a crash or failed.
# Crash inputs land in fuzz/artifacts/<target>/ (gitignored).
set -uo pipefail
seconds="${1:-300}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if [ ! -f fuzz/Cargo.toml ]; then
  echo "fuzz: no fuzz/Cargo.toml: there are no fuzz targets yet" >&2
  exit 1
fi
if ! targets="$(cargo +nightly fuzz list)"; then
  echo "fuzz: 'cargo +nightly fuzz list' failed" >&2
  exit 1
fi
if [ -z "$targets" ]; then
  echo "fuzz: no targets in fuzz/fuzz_targets/" >&2
  exit 1
fi

logdir="target/fuzz-logs"
mkdir -p "$logdir"
summary=()
status=0
for t in $targets; do
  printf '\n==> fuzz %s for %s s\n' "$t" "$seconds"
  start=$SECONDS
  # Seed each target with the project's own real inputs (libFuzzer reads extra corpus dirs).
  seeds=()
  case "$t" in
    decode | plan | json_parse) seeds=(tests/fixtures/decode) ;;
    pattern) seeds=(tests/conformance) ;;
  esac
  mkdir -p "fuzz/corpus/$t"
  cargo +nightly fuzz run "$t" "fuzz/corpus/$t" "${seeds[@]}" -- -max_total_time="$seconds" 2>&1 | tee "$logdir/$t.log"
  rc=${PIPESTATUS[0]}
  # libFuzzer's closing line: "Done 1234567 runs in 300 second(s)".
  execs="$(sed -nE 's/^Done ([0-9]+) runs in .*/\1/p' "$logdir/$t.log" | tail -n1)"
  if [ "$rc" -ne 0 ]; then
    status=1
    summary+=("$(printf '%-28s %14s  %6s s  FAILED (exit %s; see fuzz/artifacts/%s, %s)' \
      "$t" "${execs:--}" "$((SECONDS - start))" "$rc" "$t" "$logdir/$t.log")")
  else
    summary+=("$(printf '%-28s %14s  %6s s  ok' "$t" "${execs:--}" "$((SECONDS - start))")")
  fi
done

printf '\nfuzz summary (%s s per target)\n' "$seconds"
printf '%-28s %14s  %8s  %s\n' target execs wall result
printf '%s\n' "${summary[@]}"
exit "$status"
