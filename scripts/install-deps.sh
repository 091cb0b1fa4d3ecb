#!/usr/bin/env bash
# Install spanprobe's dependencies from Debian's packages. Idempotent: does
# nothing when everything is already present.
#   scripts/install-deps.sh          what `make` needs to build and `make demo` to run
#   scripts/install-deps.sh test     also what `make test` needs (containers, kernels, tools)
# From bookworm-backports: libbpf 1.4 and bpftool 7.5 (bookworm's libbpf 1.1 lacks
# uprobe_multi links and current USDT support), elfutils 0.192 (the backported
# libbpf pulls it, and its -dev packages must match), and libcurl 8.14 (7.88
# can't reuse a cleartext HTTP/2 connection, so every gRPC export would open one);
# curl with it, since bookworm's curl requires bookworm's libcurl4 exactly.
set -euo pipefail

backports_pkgs=(libbpf-dev bpftool libelf-dev libdw-dev libcurl4-openssl-dev curl)
pkgs=(clang-19 llvm-19 libclang-rt-19-dev lld-19 make pkg-config zlib1g-dev g++
      protobuf-c-compiler libprotobuf-c-dev libnghttp2-dev libcapstone-dev libiberty-dev libjson-c-dev
      libyaml-dev
      python3.11 python3.11-venv python3-flask ca-certificates jq procps util-linux)
if [ "${1:-}" = test ]; then
	# Containers (podman + runc; crun refuses hybrid cgroups), base images,
	# other kernels under QEMU, bpftrace to compare with, valgrind, strace (the
	# seccomp profile is derived from a traced run); the libraries and tools
	# the bpftrace count comparison runs (sqlite3, xz); Debian's redis-server
	# and nginx, binaries nobody here wrote (their counts against bpftrace's,
	# bench/redis_cost.sh, bench/entry_share.sh). Go and Rust fixtures
	# use the machine's own toolchains (go, rustc on PATH): Debian's are too
	# old for the module-built peers. The single-node cluster
	# (scripts/cluster.sh) uses runc too, Debian's CNI plugins and iptables
	# (kube-proxy).
	pkgs+=(valgrind bpftrace podman runc mmdebstrap uidmap fuse-overlayfs slirp4netns
	       containernetworking-plugins iptables
	       qemu-system-x86 busybox-static kmod iproute2 openssl strace sqlite3 libsqlite3-0 xz-utils
	       redis-server redis-tools nginx)
fi

missing=()
for p in "${backports_pkgs[@]}" "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# bookworm's own libbpf-dev (1.1) and libcurl (7.88) are too old; require the backports.
if dpkg-query -W -f='${Version}' libbpf-dev 2>/dev/null | grep -q '^1:1\.1'; then
	missing+=(libbpf-dev)
fi
if dpkg-query -W -f='${Version}' libcurl4-openssl-dev 2>/dev/null | grep -q '^7\.'; then
	missing+=(libcurl4-openssl-dev)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}; run as root (sudo make deps)" >&2
	exit 1
fi

src=/etc/apt/sources.list.d/bookworm-backports.sources
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	cat >"$src" <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
echo "install-deps: installing ${missing[*]} (a few minutes on a fresh machine)" >&2
source "$(dirname "$0")/progress.sh"
export DEBIAN_FRONTEND=noninteractive
with_progress "installing packages" apt-get update -qq
with_progress "installing packages" apt-get install -y -qq -t bookworm-backports "${backports_pkgs[@]}" >/dev/null
with_progress "installing packages" apt-get install -y -qq "${pkgs[@]}" >/dev/null
