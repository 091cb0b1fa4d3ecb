#!/usr/bin/env bash
# The Kubernetes deployment (deploy/), checked without a cluster:
#  - tests/deploy/ (Go, kustomize's library and the Kubernetes API types)
#    renders deploy/ and deploy/production/, decodes every object and every
#    manifest strictly into its API type and checks the deployment's promises;
#  - the real OpenTelemetry Collector validates deploy/otel-collector.yaml, and
#    real Jaeger v2 deploy/production/jaeger-config.yaml, each with the
#    environment its Deployment gives it.
# The checker is built once per source version into the peers cache.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
cd "$ROOT" || exit 1

source "$ROOT/tests/lib/deploy_check.sh"
deploy_check_build build || exit 0
checker=$DEPLOY_CHECK
pass build

"$checker" check "$ROOT" "$TEST_NAME"
rc=$?

# validate_with ENV-SOURCE NAME BINARY CONFIG: run BINARY validate on CONFIG
# with the environment the rendered Deployment sets (deploy-check env ...).
validate_with() {
	local name=$1 binary=$2 config=$3 env_lines out
	shift 3
	if ! env_lines=$("$checker" env "$ROOT" "$@" 2>&1); then
		fail "$name" "reading the Deployment's environment: $env_lines"
		rc=1
		return
	fi
	local -a env_args=()
	mapfile -t env_args <<<"$env_lines"
	[ -z "$env_lines" ] && env_args=()
	if out=$(env "${env_args[@]}" "$binary" validate --config "$config" 2>&1); then
		pass "$name"
	else
		fail "$name" "$(echo "$out" | tail -n 3 | tr '\n' ' ')"
		rc=1
	fi
}

peers_log=$(mktemp)
if peers=$(scripts/build-peers.sh 2>"$peers_log"); then
	collector=$(sed -n 's/^COLLECTOR=//p' <<<"$peers")
	jaeger=$(sed -n 's/^JAEGER=//p' <<<"$peers")
	validate_with collector_validates_config "$collector" deploy/otel-collector.yaml \
		deploy otel-collector otel-collector
	# Real URLs, not placeholders: Jaeger checks server_urls are URLs.
	validate_with jaeger_validates_production_config "$jaeger" deploy/production/jaeger-config.yaml \
		deploy/production jaeger jaeger
else
	fail collector_validates_config "scripts/build-peers.sh failed: $(tail -n 3 "$peers_log" | tr '\n' ' ')"
	fail jaeger_validates_production_config "scripts/build-peers.sh failed"
	rc=1
fi
rm -f "$peers_log"
exit "$rc"
