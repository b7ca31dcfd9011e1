#!/usr/bin/env bash
# `make run`: the relay locally, against the Microsoft emulator, on a fresh machine.
#   1. installs what is missing and builds the wasm package;
#   2. starts the emulator (127.0.0.1:$EMULATOR_PORT) and the Worker under `wrangler dev`
#      (127.0.0.1:$WORKER_PORT) configured with examples/local-config.json pointed at the emulator;
#   3. prints the webhook URL, a ready-to-paste signed curl, and where to see the result.
# Ctrl-C stops both.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

EMULATOR_PORT="${EMULATOR_PORT:-8788}"
WORKER_PORT="${WORKER_PORT:-8787}"
run_dir="$root/.wrangler/run"
export XDG_CONFIG_HOME="$run_dir/xdg-config" XDG_CACHE_HOME="$run_dir/xdg-cache"
export WRANGLER_SEND_METRICS=false CI="${CI:-}"

scripts/ensure-tools.sh
make --no-print-directory build >/dev/null
mkdir -p "$run_dir"
node="$root/scripts/node.sh"

emulator_url="http://127.0.0.1:$EMULATOR_PORT"
worker_url="http://127.0.0.1:$WORKER_PORT"
secret_file="$run_dir/webhook-secret"
[ -s "$secret_file" ] || od -An -tx1 -N24 /dev/urandom | tr -d ' \n' >"$secret_file"
webhook_secret="$(cat "$secret_file")"

# The Worker's environment: the config (pointed at the emulator) and the secrets it names.
"$node" -e '
  const [config, url, secret, out] = process.argv.slice(1);
  const fs = require("node:fs");
  const text = fs.readFileSync(config, "utf8").replaceAll("http://127.0.0.1:8788", url);
  const env = {
    TI_RELAY_CONFIG: JSON.stringify(JSON.parse(text)),
    EMULATOR_CLIENT_SECRET: "emulator-dev-secret",
    WEBHOOK_HMAC_SECRET: secret,
  };
  // dotenv takes single-quoted values literally (the JSON keeps its double quotes).
  if (Object.values(env).some((v) => v.includes("\x27"))) throw new Error("a value contains a single quote");
  fs.writeFileSync(out, Object.entries(env).map(([k, v]) => `${k}=\x27${v}\x27`).join("\n") + "\n");
' examples/local-config.json "$emulator_url" "$webhook_secret" "$run_dir/.env"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

"$node" emulator/server.mjs --port "$EMULATOR_PORT" >"$run_dir/emulator.log" 2>&1 &
pids+=($!)
"$node" node_modules/wrangler/bin/wrangler.js dev --ip 127.0.0.1 --port "$WORKER_PORT" \
  --env-file "$run_dir/.env" --persist-to "$run_dir/state" --test-scheduled \
  >"$run_dir/worker.log" 2>&1 &
pids+=($!)

for _ in $(seq 1 120); do
  if curl -fsS "$worker_url/healthz" >/dev/null 2>&1 && curl -fsS "$emulator_url/_emulator/state" >/dev/null 2>&1; then
    break
  fi
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "a process exited; see $run_dir/emulator.log and $run_dir/worker.log" >&2; exit 1; }
  done
  sleep 0.5
done
curl -fsS "$worker_url/healthz" >/dev/null || { echo "the Worker did not come up; see $run_dir/worker.log" >&2; exit 1; }

cat <<EOF

  ti-relay is running locally.

  webhook      POST $worker_url/v1/events      (dry run: POST $worker_url/v1/plan)
  health       $worker_url/healthz
  emulator     $emulator_url/_emulator          (what Sentinel, Defender and Graph received)
  logs         $run_dir/worker.log, $run_dir/emulator.log

  Send the sample OpenCTI event (signed with this run's webhook secret; paste as is):

    body="\$(cat examples/opencti-event.json)"; ts="\$(date +%s)"; \\
    sig="\$(printf '%s.%s' "\$ts" "\$body" | openssl dgst -sha256 -hmac '$webhook_secret' | sed 's/^.*= //')"; \\
    curl -sS -X POST '$worker_url/v1/events' -H 'content-type: application/json' \\
      -H "x-ti-relay-timestamp: \$ts" -H "x-ti-relay-signature: sha256=\$sig" --data-binary "\$body"

  then open $emulator_url/_emulator.  Ctrl-C stops everything.

EOF
wait -n "${pids[@]}"
