#!/usr/bin/env bash
# Soak test, bounded: real decisions under load (wrk), admin writes and
# overrides in a loop, and the config rewritten every few seconds (in place
# and by rename, alternately), then a SIGKILL and a restart on the same store.
# Prints errors (want 0), acknowledged writes lost after the restart (want
# 0), decision latency, and resident memory at start and end.
#
#   bench/soak.sh                 # 5 minutes
#   DURATION=60 bench/soak.sh     # seconds
#
# Needs wrk, curl and jq (Debian packages of the same names).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-300}
PORT=${PORT:-18282}
ADMIN=soak-admin-token-0123456789abcdef
for tool in wrk curl jq; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed (apt-get install $tool)" >&2; exit 1; }
done
cargo build --release --quiet
work=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill -9 "$server" 2>/dev/null; rm -rf "$work"' EXIT
cp -r config "$work/config"
url="http://127.0.0.1:$PORT"

start() {
  DEPLOY_GATE_STORE__URL="sqlite://$work/soak.db" DEPLOY_GATE_ADMIN_TOKEN=$ADMIN RUST_LOG=warn \
    target/release/deploy-gate serve --config "$work/config" --listen "127.0.0.1:$PORT" >>"$work/server.log" 2>&1 &
  server=$!
  for _ in $(seq 300); do
    curl -fsS "$url/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "the gate did not start" >&2
  exit 1
}
rss() { awk '/^VmRSS:/ {printf "%.1f MB", $2 / 1024}' "/proc/$server/status"; }

start
sleep 2
rss_start=$(rss)
end=$(( $(date +%s) + DURATION ))

# Admin writes: a window put and deleted, an override created and revoked.
admin() {
  local i=0 status id
  while [ "$(date +%s)" -lt "$end" ]; do
    i=$(( i + 1 ))
    status=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: Bearer $ADMIN" \
      -d '{"start": "2030-01-01T00:00:00Z", "end": "2030-01-02T00:00:00Z"}' "$url/windows/soak-$i")
    case "$status" in 2??) ;; *) echo "PUT /windows/soak-$i: $status" >>"$work/errors" ;; esac
    id=$(curl -s -H "Authorization: Bearer $ADMIN" -H "Idempotency-Key: soak-$i" \
      -d "{\"team\": \"search\", \"environment\": \"staging\", \"reason\": \"Soak test override number $i\", \"ttl\": \"5m\"}" \
      "$url/overrides" | jq -r '.id // empty')
    if [ -n "$id" ]; then echo "$id" >>"$work/acked"; else echo "POST /overrides $i failed" >>"$work/errors"; fi
    if [ $(( i % 2 )) -eq 0 ] && [ -n "$id" ]; then
      status=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "Authorization: Bearer $ADMIN" "$url/overrides/$id")
      case "$status" in 2??) echo "$id" >>"$work/revoked" ;; *) echo "DELETE /overrides/$id: $status" >>"$work/errors" ;; esac
    fi
    status=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "Authorization: Bearer $ADMIN" "$url/windows/soak-$i")
    case "$status" in 2??) ;; *) echo "DELETE /windows/soak-$i: $status" >>"$work/errors" ;; esac
    sleep 0.1
  done
}

# The config rewritten every 3 s: in place (as `cat >` does) and by rename.
edits() {
  local i=0 file="$work/config/windows.toml"
  while [ "$(date +%s)" -lt "$end" ]; do
    sleep 3
    i=$(( i + 1 ))
    if [ $(( i % 2 )) -eq 0 ]; then
      cp "$file" "$work/windows.tmp"
      cat "$work/windows.tmp" >"$file"
    else
      cp "$file" "$work/windows.new"
      printf '\n# edit %s\n' "$i" >>"$work/windows.new"
      mv "$work/windows.new" "$file"
    fi
  done
}

touch "$work/errors" "$work/acked" "$work/revoked"
admin &
admin_loop=$!
edits &
edits_loop=$!
wrk -t1 -c16 -d"${DURATION}s" --latency \
  "$url/can-deploy?team=payments&service=api&environment=production&expected_duration=30m" >"$work/wrk.txt"
wait "$admin_loop" "$edits_loop"
sleep 4
rss_end=$(rss)

# A crash, then a restart on the same store: what was acknowledged is there.
kill -9 "$server"
wait "$server" 2>/dev/null || true
start
before=""
: >"$work/recorded"
while :; do
  page=$(curl -fsS -H "Authorization: Bearer $ADMIN" "$url/audit?kind=override.created&limit=1000${before:+&before=$before}")
  jq -r '.records[].details.override.id' <<<"$page" >>"$work/recorded"
  before=$(jq -r '.next_before // empty' <<<"$page")
  [ -n "$before" ] || break
done
lost=$(sort -u "$work/acked" | comm -23 - <(sort -u "$work/recorded") | wc -l)
active=$(curl -fsS -H "Authorization: Bearer $ADMIN" "$url/overrides?active=true&limit=1000" | jq -r '.[].id' | sort -u)
revived=$(sort -u "$work/revoked" | comm -12 - <(echo "$active") | wc -l)

non2xx=$(awk '/Non-2xx/ {print $NF}' "$work/wrk.txt")
echo "soak: ${DURATION}s, $(nproc) cores, sample config, 16 connections asking, admin writes and overrides, config rewritten every 3 s"
echo "decisions: $(awk '/^Requests\/sec:/ {print $2}' "$work/wrk.txt") /s, p50 $(awk '$1 == "50%" {print $2}' "$work/wrk.txt"), p99 $(awk '$1 == "99%" {print $2}' "$work/wrk.txt")"
echo "errors: $(( $(wc -l <"$work/errors") + ${non2xx:-0} )) (want 0)"
head -5 "$work/errors"
echo "acknowledged overrides: $(wc -l <"$work/acked"), lost after SIGKILL: $lost (want 0); revoked then in force again: $revived (want 0)"
echo "resident memory: $rss_start at start, $rss_end at the end"
