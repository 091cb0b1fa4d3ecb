#!/usr/bin/env bash
# What `make test`'s suites need beyond the build, made ahead of them: on a
# fresh machine these are downloads and Go builds that would otherwise run
# one after another inside the suites. tests/run.sh starts this in the
# background when it runs everything, in the order the suites need them;
# each builder takes its cache's lock, so a suite that gets there first
# waits for the build instead of starting a second one. Once cached, every
# step is a check of a few milliseconds. Never fails: a step that can't be
# made is made (and reported) again by the suite that needs it.
#   scripts/prepare-tests.sh    (as root, from the repository)
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
TEST_NAME=prepare
source tests/lib/common.sh

step() { # step NAME COMMAND...: runs it, says how long it took
	local name=$1 start=$SECONDS
	shift
	if "$@" >/dev/null 2>&1; then
		echo "prepare: $name ready ($((SECONDS - start)) s)"
	else
		echo "prepare: $name not made here (its suite will try and say why)"
	fi
}

hostile() { source tests/lib/hostile.sh && hostile_build hostile_root; }
pyenvs() {
	local v
	source tests/lib/pyenvs.sh
	for v in $PY_VERSIONS; do pyenv_flask_venv "$v" || return 1; done
}
deploy_check() { source tests/lib/deploy_check.sh && deploy_check_build prepare; }
kernels() {
	local name
	source tests/kernels/vm.sh
	kernels_setup || return 1
	for name in $(kernels_names); do kernel_fetch "$name" || return 1; done
}

# In the order the suites reach them (integration/hostile_*, python_*,
# deploy_manifests, then the end-to-end suites, the kube ones last (see
# tests/run.sh), then the kernel matrix, then the single-node cluster).
step "container root for the hostile-input tests" hostile
step "Flask venvs of pyenv's CPythons" pyenvs
step "OpenTelemetry Collector and Jaeger" scripts/build-peers.sh
step "manifest checker (tests/deploy)" deploy_check
step "container images" scripts/container-images.sh all peers
step "kube-apiserver and etcd" scripts/build-kube.sh
step "kernels of the matrix" kernels
step "the single-node cluster's parts (kubelet, containerd, CoreDNS)" scripts/build-kube.sh cluster
