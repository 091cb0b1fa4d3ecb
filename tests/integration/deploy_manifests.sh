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

go_need=$(sed -n 's/^go //p' tests/deploy/go.mod)
if ! command -v go >/dev/null; then
	skip all "no Go toolchain on PATH (install Go >= $go_need to check deploy/)"
	exit 0
fi
go_have=$(go env GOVERSION | sed 's/^go//')
if [ "$(printf '%s\n%s\n' "$go_need" "$go_have" | sort -V | head -n 1)" != "$go_need" ]; then
	skip all "Go $go_have is older than the $go_need that tests/deploy needs"
	exit 0
fi

cache=${SPANPROBE_PEERS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/spanprobe-peers}
export GOPATH=${GOPATH:-$cache/gopath} GOTOOLCHAIN=local GOFLAGS=-mod=readonly
src_hash=$(cat tests/deploy/go.mod tests/deploy/go.sum tests/deploy/*.go | sha256sum | cut -c1-16)
checker=$cache/deploy-check-$src_hash/deploy-check
if [ ! -x "$checker" ]; then
	mkdir -p "$(dirname "$checker")"
	echo "deploy_manifests: building tests/deploy (once per version)" >&2
	log=$(dirname "$checker")/build.log
	if ! (cd tests/deploy && go build -o "$checker.tmp" .) >"$log" 2>&1; then
		fail build "go build tests/deploy failed: $(tail -n 5 "$log" | tr '\n' ' ')"
		exit 1
	fi
	mv "$checker.tmp" "$checker"
fi
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
