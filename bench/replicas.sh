#!/usr/bin/env bash
# deploy-gate on PostgreSQL: audited decisions per second and p99 through
# one replica and through two sharing the database (target: at least 5,000/s
# with p99 under 10 ms at 64 connections), and how long a write on one
# replica takes to be in force on the other (target: within 1 second).
#
#   bench/replicas.sh        # 10 s per run, 64 connections
#
# Starts its own PostgreSQL 15 cluster on loopback (Debian `postgresql`),
# which needs root (the cluster belongs to the postgres user). Needs wrk,
# curl and jq; oha (cargo install oha) or autocannon for the fixed-rate run.
# `STORE=postgres bench/load.sh` runs this too.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
ADMIN=bench-admin-token-0123456789
for tool in wrk curl jq runuser; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed" >&2; exit 1; }
done
[ -x "$PG_BIN/initdb" ] || { echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
cargo build --release --quiet
work=$(mktemp -d)
chown postgres:postgres "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

pg_port=$((20000 + RANDOM % 20000))
runuser -u postgres -- "$PG_BIN/initdb" -A trust -U postgres -D "$work/pg" >/dev/null
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$work/pg" -w -l "$work/pg.log" \
  -o "-p $pg_port -k $work -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
url="postgres://postgres@127.0.0.1:$pg_port/postgres"

start() { # port
  DEPLOY_GATE_STORE__URL="$url" DEPLOY_GATE_ADMIN_TOKEN="$ADMIN" RUST_LOG=warn \
    target/release/deploy-gate serve --config config --listen "127.0.0.1:$1" >"$work/gate-$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 300); do curl -fsS "http://127.0.0.1:$1/readyz" >/dev/null 2>&1 && return; sleep 0.1; done
  echo "replica on $1 did not start" >&2; exit 1
}
a=$((pg_port + 1)); b=$((pg_port + 2))
start "$a"; start "$b"

query="team=search&service=api&environment=production"
wrk_run() { # connections url -> "rps p99"
  local out
  out=$(wrk -t1 -c"$1" -d"$DURATION" --latency "$2")
  echo "$(awk '/^Requests\/sec:/ {print $2}' <<<"$out") $(awk '$1 == "99%" {print $2}' <<<"$out")"
}
echo "wrk -c$CONNECTIONS -d$DURATION, $(nproc) cores, PostgreSQL 15 on the same machine" >&2
read -r rps p99 <<<"$(wrk_run "$CONNECTIONS" "http://127.0.0.1:$a/can-deploy?$query")"
printf 'audited decisions, one replica:   %10s/s   p99 %s\n' "$rps" "$p99" >&2
half=$((CONNECTIONS / 2))
wrk_run "$half" "http://127.0.0.1:$a/can-deploy?$query" >"$work/wa" &
wa=$!
wrk_run "$half" "http://127.0.0.1:$b/can-deploy?$query" >"$work/wb"
wait "$wa"
read -r ra pa <"$work/wa"; read -r rb pb <"$work/wb"
printf 'audited decisions, two replicas:  %10.0f/s   p99 %s and %s\n' "$(awk -v a="$ra" -v b="$rb" 'BEGIN {print a + b}')" "$pa" "$pb" >&2

# At a fixed rate, as CI fleets ask: open loop, so latency is not hidden by
# waiting clients. oha (cargo install oha) corrects for coordinated omission;
# autocannon (npm) is the fallback; skipped without either.
RATE=${RATE:-5000}
oha=${OHA:-$(command -v oha || true)}
autocannon=${AUTOCANNON:-$(command -v autocannon || true)}
fixed_rate() { # label
  local url="http://127.0.0.1:$a/can-deploy?$query"
  if [ -n "$oha" ]; then
    "$oha" -c "$CONNECTIONS" -q "$RATE" -z "$DURATION" --latency-correction --no-tui --output-format json "$url" 2>/dev/null |
      jq -r --arg rate "$RATE" --arg what "$1" '"audited decisions at \($rate)/s, one replica\($what): \(.summary.requestsPerSec | round)/s answered, p50 \(.latencyPercentiles.p50 * 1000 * 10 | round / 10) ms, p99 \(.latencyPercentiles.p99 * 1000 * 10 | round / 10) ms"' >&2
  elif [ -n "$autocannon" ]; then
    "$autocannon" -c "$CONNECTIONS" -R "$RATE" -d "${DURATION%s}" --json "$url" 2>/dev/null |
      jq -r --arg rate "$RATE" --arg what "$1" '"audited decisions at \($rate)/s, one replica\($what): \(.requests.average | round)/s answered, p50 \(.latency.p50) ms, p99 \(.latency.p99) ms"' >&2
  else
    echo "(no oha or autocannon: cargo install oha for the fixed-rate run)" >&2
  fi
}
fixed_rate ""

# What the database's own commits cost on this disk (pgbench, one-row
# inserts at 1,000/s): the floor under every audited decision's latency.
psql=$PG_BIN/psql
"$psql" -q -h 127.0.0.1 -p "$pg_port" -U postgres -c "CREATE TABLE bench_commit (id bigserial PRIMARY KEY, v text)"
echo "INSERT INTO bench_commit (v) VALUES ('x');" >"$work/commit.sql"
(cd "$work" && runuser -u postgres -- "$PG_BIN/pgbench" -h 127.0.0.1 -p "$pg_port" -U postgres -n -f commit.sql \
  -c 4 -R 1000 -T "${DURATION%s}" -l postgres >/dev/null 2>&1)
cat "$work"/pgbench_log.* | awk '{print $3}' | sort -n |
  awk '{a[NR] = $1} END {printf "PostgreSQL commits on this disk (pgbench, 1,000/s): p50 %.1f ms, p99 %.1f ms, p99.9 %.1f ms, max %.1f ms\n", a[int(NR * .5)] / 1000, a[int(NR * .99)] / 1000, a[int(NR * .999)] / 1000, a[NR] / 1000}' >&2

# For diagnosis only: the same fixed rate with commits not waiting for the
# disk (synchronous_commit off; never run the gate like this), to tell the
# gate's own latency from the disk's.
"$psql" -q -h 127.0.0.1 -p "$pg_port" -U postgres -c "ALTER SYSTEM SET synchronous_commit = off" -c "SELECT pg_reload_conf()" >/dev/null
fixed_rate " (diagnosis: commits not waiting for the disk)"
"$psql" -q -h 127.0.0.1 -p "$pg_port" -U postgres -c "ALTER SYSTEM RESET synchronous_commit" -c "SELECT pg_reload_conf()" >/dev/null

# A write on one replica, in force on the other: an override for identity,
# a red team the sample config denies in production.
times=()
for i in $(seq 10); do
  body=$(jq -nc --arg env "production" --arg r "Bench propagation run $i" '{team: "identity", environment: $env, reason: $r, ttl: "5m"}')
  t0=$(date +%s%N)
  id=$(curl -fsS -X POST -H "Authorization: Bearer $ADMIN" -H 'content-type: application/json' -d "$body" "http://127.0.0.1:$a/overrides" | jq -r .id)
  until [ "$(curl -fsS "http://127.0.0.1:$b/can-deploy?team=identity&environment=production&at=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" | jq -r .allowed)" = true ]; do sleep 0.01; done
  times+=($(( ($(date +%s%N) - t0) / 1000000 )))
  curl -fsS -X DELETE -H "Authorization: Bearer $ADMIN" "http://127.0.0.1:$a/overrides/$id" >/dev/null
  until [ "$(curl -fsS "http://127.0.0.1:$b/can-deploy?team=identity&environment=production&at=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" | jq -r .allowed)" = false ]; do sleep 0.01; done
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
printf 'a write on one replica in force on the other: median %s ms, max %s ms (target: within 1 s)\n' \
  "$(sed -n 5p <<<"$sorted")" "$(tail -1 <<<"$sorted")" >&2
