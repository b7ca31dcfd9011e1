#!/usr/bin/env bash
# scripts/step.sh "label" cmd args...: runs one build/test step with a header and its wall time,
# so CI logs show where the time goes. Exits with the command's status.
set -uo pipefail
label="$1"
shift
printf '\n==> %s\n' "$label"
start="$(date +%s%N)"
"$@"
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [ "$rc" -eq 0 ]; then
  printf '<== %s: ok in %d.%01d s\n' "$label" $((ms / 1000)) $((ms % 1000 / 100))
else
  printf '<== %s: FAILED (exit %d) after %d.%01d s\n' "$label" "$rc" $((ms / 1000)) $((ms % 1000 / 100))
fi
exit "$rc"
