#!/usr/bin/env bash
# How long the gate takes to fetch four weeks of traffic for 200 services
# from a real Prometheus (target: under a minute), and whether a decision
# with traffic data stays fast (that one is in `cargo bench`).
#
#   bench/traffic.sh                 # 200 services, 4 weeks, 5-minute samples
#   SERVICES=50 bench/traffic.sh
#
# Needs prometheus and promtool (Debian package `prometheus`), curl and jq.
set -euo pipefail
cd "$(dirname "$0")/.."

SERVICES=${SERVICES:-200}
WEEKS=${WEEKS:-4}
PROM_PORT=${PROM_PORT:-19190}
GATE_PORT=${GATE_PORT:-18182}
for tool in prometheus promtool curl jq; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed (apt-get install prometheus curl jq)" >&2; exit 1; }
done
cargo build --release --quiet
work=$(mktemp -d)
trap 'kill "$prom" "$gate" 2>/dev/null || true; rm -rf "$work"' EXIT

echo "backfilling $WEEKS weeks of 5-minute samples for $SERVICES services ..." >&2
now=$(( $(date +%s) / 300 * 300 ))
awk -v services="$SERVICES" -v weeks="$WEEKS" -v now="$now" 'BEGIN {
  print "# HELP requests_per_minute Requests a minute."
  print "# TYPE requests_per_minute gauge"
  for (s = 0; s < services; s++)
    for (t = now - weeks * 7 * 86400; t <= now; t += 300) {
      h = int(t / 3600) % 24
      printf "requests_per_minute{service=\"svc-%d\"} %d %d\n", s, (h >= 8 && h < 18) ? 100 + s : 10, t
    }
  print "# EOF"
}' >"$work/traffic.om"
promtool tsdb create-blocks-from openmetrics --max-block-duration=168h "$work/traffic.om" "$work/data" >/dev/null
printf 'global:\n  scrape_interval: 1m\n' >"$work/prometheus.yml"
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
  --web.listen-address="127.0.0.1:$PROM_PORT" --storage.tsdb.retention.time=120d >"$work/prometheus.log" 2>&1 &
prom=$!
for _ in $(seq 300); do curl -fsS "http://127.0.0.1:$PROM_PORT/-/ready" >/dev/null 2>&1 && break; sleep 0.1; done

mkdir "$work/config"
services=$(seq 0 $((SERVICES - 1)) | sed 's/.*/"svc-&"/' | paste -sd, -)
cat >"$work/config/deploy-gate.toml" <<TOML
[traffic]
weeks = $WEEKS

[[traffic.sources]]
id = "prom"
kind = "prometheus"
url = "http://127.0.0.1:$PROM_PORT"
services = [$services]
requests = 'sum(requests_per_minute{service="{service}"})'
TOML
DEPLOY_GATE_STORE__URL="sqlite://$work/gate.db" RUST_LOG=warn \
  target/release/deploy-gate serve --config "$work/config" --listen "127.0.0.1:$GATE_PORT" >"$work/gate.log" 2>&1 &
gate=$!
for _ in $(seq 1200); do
  status=$(curl -fsS "http://127.0.0.1:$GATE_PORT/readyz" 2>/dev/null | jq -c '.traffic[0]' || true)
  if [ -n "$status" ] && [ "$(jq -r '.last_attempt != null' <<<"$status")" = true ]; then break; fi
  sleep 0.1
done
jq -r '"fetched \(.services) services x '"$WEEKS"' weeks from Prometheus in \(.last_duration | . * 10 | round / 10) s (last error: \(.last_error // "none"))"' <<<"$status"
