#!/usr/bin/env bash
# Build a real Kubernetes control plane for the tests: etcd and kube-apiserver
# from their Go modules, once, cached outside the repository (their code is
# never committed here). No kubelet: pods stay Pending but are full API objects.
# Prints nothing on success but the two binaries' paths.
# Usage: scripts/build-kube.sh
set -euo pipefail

ETCD_VERSION=v3.7.3
KUBE_VERSION=v1.37.2
# k8s.io/kubernetes requires its staging modules (k8s.io/api, apiserver, ...)
# at v0.0.0 replaced by ./staging folders its module zip lacks; the same
# modules are published as v0.<minor>.<patch>.
KUBE_STAGING_VERSION=v0.${KUBE_VERSION#v1.}

cache=${SPANPROBE_KUBE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/spanprobe-kube}
mkdir -p "$cache"
# One build at a time: tests/run.sh starts the test prerequisites in the
# background (scripts/prepare-tests.sh), and a test that needs them waits here.
exec 9>"$cache/.lock"
flock 9
source "$(dirname "$0")/progress.sh"
export GOPATH=${GOPATH:-$cache/gopath} GOFLAGS=-mod=mod GOTOOLCHAIN=local GOWORK=off

if ! command -v go >/dev/null; then
	echo "build-kube: no Go toolchain on PATH (install golang-go or Go >= 1.24)" >&2
	exit 1
fi

# module_src MODULE@VERSION DEST: a writable copy of the module's zip content.
module_src() {
	local src
	src=$(go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -n "$src" ] || { echo "go mod download $1: no module directory"; return 1; }
	rm -rf "$2"
	cp -r "$src" "$2"
	chmod -R u+w "$2"
}

# Build under a temporary name and rename: an interrupted build never leaves a
# binary that looks finished, and a second run only redoes what is missing.
etcd=$cache/etcd-$ETCD_VERSION/etcd
if [ ! -x "$etcd" ]; then
	echo "build-kube: building etcd $ETCD_VERSION (once, about a minute)" >&2
	dir=$(dirname "$etcd")
	mkdir -p "$dir"
	build_etcd() {
		module_src "go.etcd.io/etcd/server/v3@$ETCD_VERSION" "$dir/src"
		# Its replace block points at sibling folders of the etcd repository.
		sed -i '/^replace (/,/^)/d; /^replace .*=> \.\.\?\//d' "$dir/src/go.mod"
		(cd "$dir/src" && go build -o "$etcd.tmp" . && mv "$etcd.tmp" "$etcd")
	}
	with_progress "building etcd" build_etcd >"$dir/build.log" 2>&1 || {
		echo "build-kube: etcd build failed; see $dir/build.log" >&2
		exit 1
	}
	rm -rf "$dir/src"
fi

apiserver=$cache/kube-$KUBE_VERSION/kube-apiserver
if [ ! -x "$apiserver" ]; then
	echo "build-kube: building kube-apiserver $KUBE_VERSION (once, about 8 minutes)" >&2
	dir=$(dirname "$apiserver")
	mkdir -p "$dir"
	build_apiserver() {
		module_src "k8s.io/kubernetes@$KUBE_VERSION" "$dir/src"
		rm -f "$dir/src/go.work" "$dir/src/go.work.sum"
		sed -i -e "s#^\(\s*k8s\.io/[a-z0-9-]*\) v0\.0\.0\$#\1 $KUBE_STAGING_VERSION#" \
			-e '/=> \.\/staging\//d' "$dir/src/go.mod"
		(cd "$dir/src" && go build -o "$apiserver.tmp" ./cmd/kube-apiserver &&
			mv "$apiserver.tmp" "$apiserver")
	}
	with_progress "building kube-apiserver" build_apiserver >"$dir/build.log" 2>&1 || {
		echo "build-kube: kube-apiserver build failed; see $dir/build.log" >&2
		exit 1
	}
	rm -rf "$dir/src"
fi

echo "ETCD=$etcd"
echo "KUBE_APISERVER=$apiserver"
