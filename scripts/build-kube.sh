#!/usr/bin/env bash
# Build a real Kubernetes control plane for the tests: etcd and kube-apiserver
# from their Go modules, once, cached outside the repository (their code is
# never committed here). No kubelet: pods stay Pending but are full API objects.
# With `cluster`, also what a single node needs (scripts/cluster.sh): kubelet,
# kube-controller-manager, kube-scheduler, kube-proxy and kubectl from the same
# module, containerd with its runc shim and ctr, CoreDNS, and crictl (the
# node's CRI client: `scripts/cluster.sh down` removes the pod sandboxes with
# it, networks included), from theirs.
# Prints nothing on success but NAME=PATH lines for the binaries.
# Usage: scripts/build-kube.sh [cluster]
set -euo pipefail

ETCD_VERSION=v3.7.3
KUBE_VERSION=v1.37.2
CONTAINERD_VERSION=v2.4.2
COREDNS_VERSION=v1.15.0
CRI_TOOLS_VERSION=v1.37.0
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
source "$(dirname "$0")/lib/go_module.sh"
export GOPATH=${GOPATH:-$cache/gopath} GOFLAGS=-mod=mod GOTOOLCHAIN=local GOWORK=off
# Builds of several minutes on a machine that runs tests at the same time.
GO=$(type -P go) || true
go() { nice -n 10 "$GO" "$@"; }

if [ -z "$GO" ]; then
	echo "build-kube: no Go toolchain on PATH (install golang-go or Go >= 1.24)" >&2
	exit 1
fi

# What `kubectl version` and the node's kubeletVersion report (the
# repository's build sets these from git; a module copy has no git).
KUBE_minor=${KUBE_VERSION#v1.}
KUBE_LDFLAGS="-X k8s.io/component-base/version.gitVersion=$KUBE_VERSION
 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${KUBE_minor%%.*}
 -X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION
 -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=${KUBE_minor%%.*}"

# kube_src DEST: k8s.io/kubernetes buildable outside its repository.
kube_src() {
	module_src "k8s.io/kubernetes@$KUBE_VERSION" "$1"
	rm -f "$1/go.work" "$1/go.work.sum"
	sed -i -e "s#^\(\s*k8s\.io/[a-z0-9-]*\) v0\.0\.0\$#\1 $KUBE_STAGING_VERSION#" \
		-e '/=> \.\/staging\//d' "$1/go.mod"
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
		kube_src "$dir/src"
		(cd "$dir/src" && go build -ldflags "$KUBE_LDFLAGS" -o "$apiserver.tmp" ./cmd/kube-apiserver &&
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
[ "${1:-}" = cluster ] || exit 0

# The node's Kubernetes parts: one `go build` of several commands in the same
# module copy shares the packages they have in common.
kube_dir=$cache/kube-$KUBE_VERSION
node_cmds=(kubelet kube-controller-manager kube-scheduler kube-proxy kubectl)
missing=()
for c in "${node_cmds[@]}"; do [ -x "$kube_dir/$c" ] || missing+=("$c"); done
if [ ${#missing[@]} -gt 0 ]; then
	echo "build-kube: building ${missing[*]} $KUBE_VERSION (once: 4 minutes here after kube-apiserver's build, which compiled most of their packages)" >&2
	# (run where set -e does not apply: every step is checked)
	build_node() {
		kube_src "$kube_dir/src" || return 1
		rm -rf "$kube_dir/tmp" && mkdir "$kube_dir/tmp" || return 1
		(cd "$kube_dir/src" && go build -ldflags "$KUBE_LDFLAGS" -o "$kube_dir/tmp/" "${missing[@]/#/./cmd/}") || return 1
		for c in "${missing[@]}"; do mv "$kube_dir/tmp/$c" "$kube_dir/$c" || return 1; done
		rmdir "$kube_dir/tmp"
	}
	with_progress "building the node's Kubernetes commands" build_node >"$kube_dir/build-node.log" 2>&1 || {
		echo "build-kube: kubelet etc. build failed; see $kube_dir/build-node.log" >&2
		exit 1
	}
	rm -rf "$kube_dir/src"
fi

# containerd 2.x (this kubelet's CRI needs containerd >= 2.0 or 1.7; Debian
# bookworm has 1.6), its runc shim and ctr. Without btrfs: its snapshotter
# needs the btrfs headers, and overlayfs is what the node uses.
ctrd_dir=$cache/containerd-$CONTAINERD_VERSION
if [ ! -x "$ctrd_dir/containerd" ] || [ ! -x "$ctrd_dir/containerd-shim-runc-v2" ] ||
	[ ! -x "$ctrd_dir/ctr" ]; then
	echo "build-kube: building containerd $CONTAINERD_VERSION (once, a few minutes)" >&2
	mkdir -p "$ctrd_dir"
	build_containerd() {
		module_src "github.com/containerd/containerd/v2@$CONTAINERD_VERSION" "$ctrd_dir/src" || return 1
		rm -rf "$ctrd_dir/tmp" && mkdir "$ctrd_dir/tmp" || return 1
		(cd "$ctrd_dir/src" && go build -tags no_btrfs -o "$ctrd_dir/tmp/" \
			./cmd/containerd ./cmd/ctr &&
			CGO_ENABLED=0 go build -o "$ctrd_dir/tmp/" ./cmd/containerd-shim-runc-v2) || return 1
		mv "$ctrd_dir"/tmp/* "$ctrd_dir/" && rmdir "$ctrd_dir/tmp"
	}
	with_progress "building containerd" build_containerd >"$ctrd_dir/build.log" 2>&1 || {
		echo "build-kube: containerd build failed; see $ctrd_dir/build.log" >&2
		exit 1
	}
	rm -rf "$ctrd_dir/src"
fi

coredns=$cache/coredns-$COREDNS_VERSION/coredns
if [ ! -x "$coredns" ]; then
	echo "build-kube: building CoreDNS $COREDNS_VERSION (once, a few minutes)" >&2
	CGO_ENABLED=0 module_binary CoreDNS "$coredns" "github.com/coredns/coredns@$COREDNS_VERSION" .
fi

crictl=$cache/cri-tools-$CRI_TOOLS_VERSION/crictl
if [ ! -x "$crictl" ]; then
	echo "build-kube: building crictl $CRI_TOOLS_VERSION (once, a minute)" >&2
	CGO_ENABLED=0 module_binary crictl "$crictl" "sigs.k8s.io/cri-tools@$CRI_TOOLS_VERSION" ./cmd/crictl
fi

for c in "${node_cmds[@]}"; do
	name=${c^^}
	echo "${name//-/_}=$kube_dir/$c"
done
echo "CONTAINERD=$ctrd_dir/containerd"
echo "CONTAINERD_SHIM=$ctrd_dir/containerd-shim-runc-v2"
echo "CTR=$ctrd_dir/ctr"
echo "COREDNS=$coredns"
echo "CRICTL=$crictl"
