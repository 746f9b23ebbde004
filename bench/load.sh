#!/usr/bin/env bash
# Load benchmark, one run, same load tool, connections and duration for each
# route, on the sample config:
#   GET /healthz                      the baseline
#   GET /can-deploy?at=...            a simulation: the decision path, not audited
#   GET /can-deploy                   a real decision, committed to the audit
#                                     log (SQLite, synchronous=FULL) before
#                                     the answer
# Prints requests per second, latency percentiles and the ratios.
#
# and the server's resident memory (RSS) at start and after the load.
#
#   bench/load.sh            # 10 s per route, 64 connections, sample config
#   CONFIG=big bench/load.sh # 10,000 windows and 1,000 teams with 30 scorecard items (bench/big-config.sh)
#   CONFIG=big SCORECARD=0 bench/load.sh   # the same without the scorecard
#   DURATION=30s CONNECTIONS=128 bench/load.sh
#   STORE=postgres bench/load.sh   # on PostgreSQL, one replica and two (bench/replicas.sh)
#
# Needs wrk (Debian package `wrk`).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${STORE:-sqlite}" = postgres ]; then
  exec bench/replicas.sh
fi

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-1}
PORT=${PORT:-18181}

command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
cargo build --release --quiet
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

CONFIG=${CONFIG:-sample}
if [ "$CONFIG" = big ]; then
  mkdir "$work/config"
  bench/big-config.sh >"$work/config/windows.toml"
  printf '[policy.environments.production]\nred = "warn"\nyellow = "warn"\n' >"$work/config/policy.toml"
  team="team-7"
else
  cp -r config "$work/config"
  team=search
fi
DEPLOY_GATE_STORE__URL="sqlite://$work/bench.db" RUST_LOG=warn \
  target/release/deploy-gate serve --config "$work/config" --listen "127.0.0.1:$PORT" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 300); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
rss() { awk '/^VmRSS:/ {printf "%.1f MB", $2 / 1024}' "/proc/$server/status"; }
sleep 2 # a config load's peak is handed back within a second
rss_start=$(rss)

run() { # name url
  local out rps p50 p99
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$2")
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  printf '%-34s %12s req/s   p50 %-9s p99 %s\n' "$1" "$rps" "$p50" "$p99" >&2
  echo "$rps"
}

echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $(nproc) cores, $CONFIG config" >&2
health=$(run "GET /healthz" "http://127.0.0.1:$PORT/healthz")
query="team=$team&service=api&environment=production&expected_duration=30m"
echo "decision asked: $(curl -fsS "http://127.0.0.1:$PORT/can-deploy?$query" | head -c 160)..." >&2
simulated=$(run "GET /can-deploy?at= (not audited)" "http://127.0.0.1:$PORT/can-deploy?$query&at=2026-11-27T18:00:00Z")
audited=$(run "GET /can-deploy (audited)" "http://127.0.0.1:$PORT/can-deploy?$query")
sleep 2
echo "resident memory: $rss_start at start, $(rss) after the load" >&2
echo "dashboard: $(curl -fsS "http://127.0.0.1:$PORT/" | wc -c) bytes" >&2
awk -v s="$simulated" -v a="$audited" -v h="$health" 'BEGIN {
  printf "ratio simulated /can-deploy : /healthz = %.2f (target >= 0.50)\n", s / h
  printf "ratio audited   /can-deploy : /healthz = %.2f\n", a / h
  printf "audited decisions: %.0f/s (target >= 5000/s with p99 < 10 ms)\n", a
}' >&2
