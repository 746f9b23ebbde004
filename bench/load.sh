#!/usr/bin/env bash
# Load benchmark: GET /can-deploy against GET /healthz with the same load
# tool, connections and duration, in one run, on the sample config.
# Prints requests per second, latency percentiles and the ratio.
#
#   bench/load.sh            # 10 s per route, 64 connections
#   DURATION=30s CONNECTIONS=128 bench/load.sh
#
# Needs wrk (Debian package `wrk`).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-1}
PORT=${PORT:-18181}

command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
cargo build --release --quiet
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

cp -r config "$work/config"
DEPLOY_GATE_STORE__URL="sqlite://$work/bench.db" RUST_LOG=warn \
  target/release/deploy-gate serve --config "$work/config" --listen "127.0.0.1:$PORT" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

run() { # name url
  local out rps p50 p99
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$2")
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  printf '%-34s %12s req/s   p50 %-9s p99 %s\n' "$1" "$rps" "$p50" "$p99" >&2
  echo "$rps"
}

echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $(nproc) cores, sample config" >&2
health=$(run "GET /healthz" "http://127.0.0.1:$PORT/healthz")
query="team=search&service=api&environment=production&expected_duration=30m"
echo "decision asked: $(curl -fsS "http://127.0.0.1:$PORT/can-deploy?$query" | head -c 160)..." >&2
decide=$(run "GET /can-deploy" "http://127.0.0.1:$PORT/can-deploy?$query")
awk -v d="$decide" -v h="$health" 'BEGIN { printf "ratio /can-deploy : /healthz = %.2f (target >= 0.50)\n", d / h }' >&2
