#!/usr/bin/env bash
# Tell deploy-gate a deployment started, or how it ended, with only curl,
# jq and sha256sum. The same flags and exit codes as `deploy-gate report`:
#   0  recorded
#   1  the gate refused the report (a wrong field or token)
#   2  the gate could not be asked
#
#   DEPLOY_GATE_URL=https://gate.example DEPLOY_GATE_TOKEN=... \
#     report-deployment.sh --team payments --environment production \
#       --status started|succeeded|failed|rolled_back \
#       [--service api] [--id ID] [--decision-id ID] [--version V]
#
# Without --id, the id is made from the CI run, the team, the service and
# the environment (as `deploy-gate report` makes it), so the start and the
# end of one deployment in one pipeline run match. The decision's id comes
# from --decision-id or DEPLOY_GATE_DECISION_ID (which can-deploy.sh and
# `deploy-gate check` set for later steps in GitHub Actions).
set -euo pipefail

url=${DEPLOY_GATE_URL:-}
token=${DEPLOY_GATE_TOKEN:-}
team="" service="" environment="" status="" id="" version=""
decision_id=${DEPLOY_GATE_DECISION_ID:-}

die_usage() { echo "report-deployment.sh: $1" >&2; echo "usage: report-deployment.sh --team T --environment E --status started|succeeded|failed|rolled_back [--service S] [--id ID] [--decision-id ID] [--version V] [--url URL]" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --url) url=${2:-}; shift 2 ;;
    --team) team=${2:-}; shift 2 ;;
    --service) service=${2:-}; shift 2 ;;
    --environment) environment=${2:-}; shift 2 ;;
    --status) status=${2:-}; shift 2 ;;
    --id) id=${2:-}; shift 2 ;;
    --decision-id) decision_id=${2:-}; shift 2 ;;
    --version) version=${2:-}; shift 2 ;;
    -h|--help) die_usage "report a deployment to deploy-gate" ;;
    *) die_usage "unknown argument $1" ;;
  esac
done
[ -n "$url" ] || die_usage "set --url or DEPLOY_GATE_URL"
[ -n "$token" ] || die_usage "set DEPLOY_GATE_TOKEN to a token with the deploy (or admin) role"
[ -n "$team" ] || die_usage "--team is required"
[ -n "$environment" ] || die_usage "--environment is required"
case "$status" in started|succeeded|failed|rolled_back) ;; *) die_usage "--status is started, succeeded, failed or rolled_back" ;; esac
for tool in curl jq sha256sum; do
  command -v "$tool" >/dev/null || { echo "report-deployment.sh: $tool is not installed" >&2; exit 2; }
done

# The CI run, from the CI system's own variables.
pipeline_url="" commit=""
if [ -n "${GITHUB_ACTIONS:-}" ]; then
  commit=${GITHUB_SHA:-}
  pipeline_url="${GITHUB_SERVER_URL:-}/${GITHUB_REPOSITORY:-}/actions/runs/${GITHUB_RUN_ID:-}"
elif [ -n "${GITLAB_CI:-}" ]; then
  pipeline_url=${CI_JOB_URL:-${CI_PIPELINE_URL:-}}; commit=${CI_COMMIT_SHA:-}
elif [ -n "${JENKINS_URL:-}" ]; then
  pipeline_url=${BUILD_URL:-}; commit=${GIT_COMMIT:-}
elif [ -n "${CIRCLECI:-}" ]; then
  pipeline_url=${CIRCLE_BUILD_URL:-}; commit=${CIRCLE_SHA1:-}
elif [ -n "${BUILDKITE:-}" ]; then
  pipeline_url=${BUILDKITE_BUILD_URL:-}; commit=${BUILDKITE_COMMIT:-}
elif [ -n "${TF_BUILD:-}" ]; then
  commit=${BUILD_SOURCEVERSION:-}
  pipeline_url="${SYSTEM_COLLECTIONURI%/}/${SYSTEM_TEAMPROJECT:-}/_build/results?buildId=${BUILD_BUILDID:-}"
elif [ -n "${BITBUCKET_BUILD_NUMBER:-}" ]; then
  commit=${BITBUCKET_COMMIT:-}
  pipeline_url="${BITBUCKET_GIT_HTTP_ORIGIN:-}/pipelines/results/${BITBUCKET_BUILD_NUMBER}"
fi
if [ -z "$id" ] && [ -n "$pipeline_url" ]; then
  id="dep-$(printf '%s\0%s\0%s\0%s\0' "$pipeline_url" "$team" "$service" "$environment" | sha256sum | cut -c1-24)"
fi

body=$(jq -n --arg id "$id" --arg team "$team" --arg service "$service" --arg environment "$environment" \
  --arg status "$status" --arg decision_id "$decision_id" --arg version "$version" \
  --arg pipeline_url "$pipeline_url" --arg commit "$commit" \
  '{team: $team, environment: $environment, status: $status}
   + (if $id != "" then {id: $id} else {} end)
   + (if $service != "" then {service: $service} else {} end)
   + (if $decision_id != "" then {decision_id: $decision_id} else {} end)
   + (if $version != "" then {version: $version} else {} end)
   + (if $pipeline_url != "" then {pipeline_url: $pipeline_url} else {} end)
   + (if $commit != "" then {commit: $commit} else {} end)')

answer=$(mktemp)
trap 'rm -f "$answer"' EXIT
if ! code=$(curl -sS -o "$answer" -w '%{http_code}' --connect-timeout 5 --max-time 15 \
    --retry 2 --retry-connrefused --retry-delay 1 -X POST \
    -H 'Content-Type: application/json' -H "Authorization: Bearer $token" -d "$body" "${url%/}/deployments"); then
  echo "report-deployment.sh: cannot reach ${url%/}/deployments" >&2
  exit 2
fi
case "$code" in
  200|201) echo "deploy-gate: deployment $(jq -r .id "$answer") of $team${service:+/$service} in $environment: $(jq -r .status "$answer")" ;;
  4??) echo "report-deployment.sh: the gate refused the report ($code): $(jq -r '.error.message // empty' "$answer" 2>/dev/null)" >&2; exit 1 ;;
  *) echo "report-deployment.sh: ${url%/}/deployments answered $code" >&2; exit 2 ;;
esac
