# deploy_check_build: builds tests/deploy (the manifest checker: Kubernetes API
# types and kustomize's library) once per source version into the peers
# cache and sets DEPLOY_CHECK. Prints a SKIP (no or too old Go) or FAIL line
# named "$1.build" and returns 1 when it can't.
# shellcheck shell=bash

deploy_check_build() {
	local name=$1 go_need go_have cache src_hash log
	go_need=$(sed -n 's/^go //p' "$ROOT/tests/deploy/go.mod")
	if ! command -v go >/dev/null; then
		skip "$name" "no Go toolchain on PATH (install Go >= $go_need to check deploy/)"
		return 1
	fi
	go_have=$(go env GOVERSION | sed 's/^go//')
	if [ "$(printf '%s\n%s\n' "$go_need" "$go_have" | sort -V | head -n 1)" != "$go_need" ]; then
		skip "$name" "Go $go_have is older than the $go_need that tests/deploy needs"
		return 1
	fi
	cache=${SPANPROBE_PEERS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/spanprobe-peers}
	src_hash=$(cat "$ROOT"/tests/deploy/go.mod "$ROOT"/tests/deploy/go.sum "$ROOT"/tests/deploy/*.go |
		sha256sum | cut -c1-16)
	DEPLOY_CHECK=$cache/deploy-check-$src_hash/deploy-check
	[ -x "$DEPLOY_CHECK" ] && return 0
	mkdir -p "$(dirname "$DEPLOY_CHECK")"
	# one build at a time (scripts/prepare-tests.sh may be building it)
	exec 6>"$(dirname "$DEPLOY_CHECK")/.lock"
	flock 6
	if [ -x "$DEPLOY_CHECK" ]; then
		exec 6>&-
		return 0
	fi
	echo "building tests/deploy (once per version)" >&2
	log=$(dirname "$DEPLOY_CHECK")/build.log
	if ! (cd "$ROOT/tests/deploy" && GOPATH=${GOPATH:-$cache/gopath} GOTOOLCHAIN=local \
		GOFLAGS=-mod=readonly go build -o "$DEPLOY_CHECK.tmp" .) >"$log" 2>&1; then
		fail "$name" "go build tests/deploy failed: $(tail -n 5 "$log" | tr '\n' ' ')"
		exec 6>&-
		return 1
	fi
	mv "$DEPLOY_CHECK.tmp" "$DEPLOY_CHECK"
	exec 6>&-
}
