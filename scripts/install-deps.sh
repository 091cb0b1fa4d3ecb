#!/usr/bin/env bash
# Install spanprobe's build and test dependencies from Debian's packages.
# libbpf, bpftool and elfutils come from bookworm-backports: bookworm's libbpf 1.1 lacks
# uprobe_multi links and current USDT support, and the backported libbpf pulls
# elfutils 0.192 whose -dev packages must match. Idempotent: does nothing when
# everything is already present.
set -euo pipefail

backports_pkgs=(libbpf-dev bpftool libelf-dev libdw-dev)
pkgs=(clang-19 llvm-19 libclang-rt-19-dev lld-19 make pkg-config zlib1g-dev
      protobuf-c-compiler libprotobuf-c-dev libcurl4-openssl-dev libnghttp2-dev
      valgrind python3.11 python3.11-venv python3-flask curl ca-certificates jq procps util-linux)

missing=()
for p in "${backports_pkgs[@]}" "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# bookworm's own libbpf-dev (1.1) is too old; require the backport.
if dpkg-query -W -f='${Version}' libbpf-dev 2>/dev/null | grep -q '^1:1\.1'; then
	missing+=(libbpf-dev)
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
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq -t bookworm-backports "${backports_pkgs[@]}"
apt-get install -y -qq "${pkgs[@]}"
