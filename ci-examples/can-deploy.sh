#!/usr/bin/env bash
# Ask deploy-gate whether this deploy may go out now, with only curl and jq.
# The same flags and exit codes as `deploy-gate check`:
#   0  allowed
#   1  denied
#   2  the gate could not be asked (unreachable, timeout, 5xx, bad answer),
#      unless --on-error allow (then 0, with a loud warning); or the gate
#      refused the question (4xx: a wrong parameter or token), whatever
#      --on-error says
#
#   DEPLOY_GATE_URL=https://gate.example DEPLOY_GATE_TOKEN=... \
#     can-deploy.sh --team payments --environment production \
#       [--service api] [--expected-duration 20m] [--wait 30m] \
#       [--on-error deny|allow] [--json] [--timeout 10]
set -euo pipefail

url=${DEPLOY_GATE_URL:-}
token=${DEPLOY_GATE_TOKEN:-}
team="" service="" environment="" expected="" wait_for="" on_error=deny json=false timeout=10

die_usage() { echo "can-deploy.sh: $1" >&2; echo "usage: can-deploy.sh --team T --environment E [--service S] [--expected-duration D] [--wait MAX] [--on-error deny|allow] [--json] [--url URL]" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --url) url=${2:-}; shift 2 ;;
    --team) team=${2:-}; shift 2 ;;
    --service) service=${2:-}; shift 2 ;;
    --environment) environment=${2:-}; shift 2 ;;
    --expected-duration) expected=${2:-}; shift 2 ;;
    --wait) wait_for=${2:-}; shift 2 ;;
    --on-error) on_error=${2:-}; shift 2 ;;
    --timeout) timeout=${2:-}; shift 2 ;;
    --json) json=true; shift ;;
    -h|--help) die_usage "ask deploy-gate before a deploy" ;;
    *) die_usage "unknown argument $1" ;;
  esac
done
[ -n "$url" ] || die_usage "set --url or DEPLOY_GATE_URL"
[ -n "$team" ] || die_usage "--team is required"
[ -n "$environment" ] || die_usage "--environment is required"
case "$on_error" in deny|allow) ;; *) die_usage "--on-error is deny or allow" ;; esac
command -v curl >/dev/null || { echo "can-deploy.sh: curl is not installed" >&2; exit 2; }
command -v jq >/dev/null || { echo "can-deploy.sh: jq is not installed" >&2; exit 2; }

# 90, 90s, 10m, 2h -> seconds
seconds() {
  case "$1" in
    *h) echo $(( ${1%h} * 3600 )) ;;
    *m) echo $(( ${1%m} * 60 )) ;;
    *s) echo $(( ${1%s} )) ;;
    *) echo $(( $1 )) ;;
  esac
}
wait_seconds=0
if [ -n "$wait_for" ]; then
  wait_seconds=$(seconds "$wait_for" 2>/dev/null) || die_usage "--wait $wait_for is not a duration such as 90s, 10m or 1h"
fi

# Who asks, from the CI system's own variables, for the audit log.
actor="" pipeline_url="" commit=""
if [ -n "${GITHUB_ACTIONS:-}" ]; then
  actor=${GITHUB_ACTOR:-}; commit=${GITHUB_SHA:-}
  pipeline_url="${GITHUB_SERVER_URL:-}/${GITHUB_REPOSITORY:-}/actions/runs/${GITHUB_RUN_ID:-}"
elif [ -n "${GITLAB_CI:-}" ]; then
  actor=${GITLAB_USER_LOGIN:-}; pipeline_url=${CI_JOB_URL:-${CI_PIPELINE_URL:-}}; commit=${CI_COMMIT_SHA:-}
elif [ -n "${JENKINS_URL:-}" ]; then
  actor=${BUILD_USER_ID:-${CHANGE_AUTHOR:-}}; pipeline_url=${BUILD_URL:-}; commit=${GIT_COMMIT:-}
elif [ -n "${CIRCLECI:-}" ]; then
  actor=${CIRCLE_USERNAME:-}; pipeline_url=${CIRCLE_BUILD_URL:-}; commit=${CIRCLE_SHA1:-}
elif [ -n "${BUILDKITE:-}" ]; then
  actor=${BUILDKITE_BUILD_CREATOR:-}; pipeline_url=${BUILDKITE_BUILD_URL:-}; commit=${BUILDKITE_COMMIT:-}
elif [ -n "${TF_BUILD:-}" ]; then
  actor=${BUILD_REQUESTEDFOR:-}; commit=${BUILD_SOURCEVERSION:-}
  pipeline_url="${SYSTEM_COLLECTIONURI%/}/${SYSTEM_TEAMPROJECT:-}/_build/results?buildId=${BUILD_BUILDID:-}"
elif [ -n "${BITBUCKET_BUILD_NUMBER:-}" ]; then
  actor=${BITBUCKET_STEP_TRIGGERER_UUID:-}; commit=${BITBUCKET_COMMIT:-}
  pipeline_url="${BITBUCKET_GIT_HTTP_ORIGIN:-}/pipelines/results/${BITBUCKET_BUILD_NUMBER}"
fi

body=$(jq -n --arg team "$team" --arg service "$service" --arg environment "$environment" \
  --arg expected "$expected" --arg actor "$actor" --arg pipeline_url "$pipeline_url" --arg commit "$commit" \
  '{team: $team, environment: $environment}
   + (if $service != "" then {service: $service} else {} end)
   + (if $expected != "" then {expected_duration: $expected} else {} end)
   + (if $actor != "" then {actor: $actor} else {} end)
   + (if $pipeline_url != "" then {pipeline_url: $pipeline_url} else {} end)
   + (if $commit != "" then {commit: $commit} else {} end)')

answer=$(mktemp)
trap 'rm -f "$answer"' EXIT

could_not_ask() {
  if [ "$on_error" = allow ]; then
    echo "can-deploy.sh: WARNING: THE GATE COULD NOT BE ASKED: $1" >&2
    echo "can-deploy.sh: WARNING: DEPLOYING WITHOUT A DECISION because of --on-error allow" >&2
    exit 0
  fi
  echo "can-deploy.sh: the gate could not be asked: $1" >&2
  exit 2
}

# POST /can-deploy; the decision lands in $answer. Connection failures are
# retried twice, with backoff, by curl.
ask() {
  local auth=() status
  [ -n "$token" ] && auth=(-H "Authorization: Bearer $token")
  if ! status=$(curl -sS -o "$answer" -w '%{http_code}' --connect-timeout 5 --max-time "$timeout" \
      --retry 2 --retry-connrefused --retry-delay 1 \
      -H 'Content-Type: application/json' "${auth[@]}" -d "$body" "${url%/}/can-deploy"); then
    could_not_ask "cannot reach ${url%/}/can-deploy"
  fi
  case "$status" in
    4??)
      if jq -e '.error.code' "$answer" >/dev/null 2>&1; then
        echo "can-deploy.sh: the gate refused the question ($status $(jq -r .error.code "$answer")): $(jq -r '.error.message + (if .error.field then " (field \(.error.field))" else "" end)' "$answer")" >&2
        echo "can-deploy.sh: fix the request or the token; exit 2 whatever --on-error says" >&2
        exit 2
      fi ;;
  esac
  if [ "$status" != 200 ] || ! jq -e '.allowed | type == "boolean"' "$answer" >/dev/null 2>&1; then
    could_not_ask "${url%/}/can-deploy answered $status: $(jq -r '.error.message // empty' "$answer" 2>/dev/null || head -c 120 "$answer")"
  fi
}

both_zones() { # epoch seconds
  local local_time
  local_time=$(date -d "@$1" '+%Y-%m-%d %H:%M:%S %Z' 2>/dev/null || echo "?")
  echo "$(date -u -d "@$1" '+%Y-%m-%d %H:%M:%S UTC' 2>/dev/null || echo "@$1") ($local_time on this runner)"
}

next_epoch() { jq -r '.next_allowed_at // empty | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601' "$answer"; }

report() {
  if [ "$json" = true ]; then
    cat "$answer"; echo
  else
    local verdict=DENIED next
    [ "$(jq -r .allowed "$answer")" = true ] && verdict=ALLOWED
    echo "deploy-gate: $verdict $team${service:+/$service} in $environment"
    jq -r '(.reasons[] | "  reason   \(.code): \(.message)"),
           (.warnings[] | "  warning  \(.code): \(.message)"),
           (if .override then "  override \(.override.id) by \(.override.created_by) until \(.override.expires_at): \(.override.reason)" else empty end),
           (.overridden[] | "  lifted   \(.code): \(.message)")' "$answer"
    if [ "$verdict" = DENIED ]; then
      next=$(next_epoch)
      if [ -n "$next" ]; then echo "  next allowed at $(both_zones "$next")"
      else echo "  no time is known when this deploy would be allowed; the reasons above say why"; fi
    fi
    echo "  decision $(jq -r .decision_id "$answer")"
  fi
  # Later steps of a GitHub Actions job get the decision's id (report-deployment.sh reads it).
  if [ -n "${GITHUB_ENV:-}" ]; then
    echo "DEPLOY_GATE_DECISION_ID=$(jq -r .decision_id "$answer")" >>"$GITHUB_ENV" || true
  fi
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    jq -r --arg target "$team${service:+/$service} in $environment" \
      '"### deploy-gate: \(if .allowed then "✅ allowed" else "⛔ denied" end) \($target)\n",
       (.reasons[] | "- reason `\(.code)`: \(.message)"),
       (.warnings[] | "- warning `\(.code)`: \(.message)"),
       "", "Decision `\(.decision_id)`.", ""' "$answer" >>"$GITHUB_STEP_SUMMARY" || true
  fi
}

deadline=$(( $(date +%s) + wait_seconds ))
first=true
while true; do
  ask
  allowed=$(jq -r .allowed "$answer")
  next=$(next_epoch)
  now=$(date +%s)
  if [ "$allowed" = true ] || [ "$wait_seconds" -eq 0 ] || [ -z "$next" ] || [ "$next" -gt "$deadline" ]; then
    report
    [ "$allowed" = true ] && exit 0
    if [ "$wait_seconds" -gt 0 ]; then
      if [ -z "$next" ]; then
        echo "can-deploy.sh: not waiting: no time is known when this deploy would be allowed, so there is nothing to wait for" >&2
      elif [ "$first" = true ]; then
        echo "can-deploy.sh: not waiting: the next allowed time, $(both_zones "$next"), is more than --wait $wait_for away" >&2
      else
        echo "can-deploy.sh: not waiting: --wait is over" >&2
      fi
    fi
    exit 1
  fi
  [ "$first" = true ] && report
  first=false
  # Wait for the named time (a second past it), never past --wait, then ask again.
  until_next=$(( next - now + 1 ))
  [ "$until_next" -lt 1 ] && until_next=1
  echo "can-deploy.sh: waiting until $(both_zones "$next") (in ${until_next}s, --wait ends in $(( deadline - now ))s)" >&2
  while [ "$until_next" -gt 0 ]; do
    step=$(( until_next < 15 ? until_next : 15 ))
    sleep "$step"
    until_next=$(( until_next - step ))
    [ "$until_next" -gt 0 ] && echo "can-deploy.sh: still waiting: ${until_next}s to go" >&2
  done
done
