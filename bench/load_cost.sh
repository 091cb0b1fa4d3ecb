#!/usr/bin/env bash
# What loading spanprobe's BPF object costs on the running kernel: the peak
# memory charged to the loading process's memory cgroup (the verifier's
# states are charged there: a DaemonSet pod's limit must hold it), the
# kernel CPU it takes, and the verifier's work per program (-v). Numbers,
# not a test. Run as root after `make`; tests/kernels/guest.sh runs it on
# each kernel of the matrix.
#   bench/load_cost.sh [OUT.md]   markdown rows (stdout, or appended to OUT.md)
# Configurations: the C demo's three functions (-c), and everything the
# DaemonSet's configuration loads (an absolute C path and Python system-wide:
# every program of the object).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SPANPROBE=${SPANPROBE:-build/spanprobe}
out=${1:-/dev/stdout}
tmp=$(mktemp -d /tmp/spanprobe-load.XXXXXX)
trap 'rm -rf "$tmp"; [ -n "${cg:-}" ] && rmdir "$cg" 2>/dev/null' EXIT

# A memory cgroup of our own: v2 (memory.peak, Linux 5.19+) or v1
# (memory.max_usage_in_bytes); mounted here when the system has none.
cg= peak_file= kmem_file=
if [ -f /sys/fs/cgroup/cgroup.controllers ] || { [ ! -d /sys/fs/cgroup/memory ] &&
	mkdir -p "$tmp/cg2" && mount -t cgroup2 none "$tmp/cg2" 2>/dev/null; }; then
	base=/sys/fs/cgroup
	[ -f "$base/cgroup.controllers" ] || base=$tmp/cg2
	echo +memory >"$base/cgroup.subtree_control" 2>/dev/null
	cg=$base/spanprobe-load-$$
	mkdir "$cg" && peak_file=$cg/memory.peak
else
	cg=/sys/fs/cgroup/memory/spanprobe-load-$$
	mkdir "$cg" && peak_file=$cg/memory.max_usage_in_bytes && kmem_file=$cg/memory.kmem.max_usage_in_bytes
fi
[ -f "$peak_file" ] || { echo "load_cost: no memory cgroup to measure in" >&2; exit 1; }

PY=$(pyenv prefix 3.10 2>/dev/null)/bin/python3.10
[ -x "$PY" ] || PY=/usr/bin/python3.11
declare -a NAMES=("C demo, -c (3 functions)" "DaemonSet configuration (every program)")
declare -a ARGS=("-c true uprobe:$ROOT/build/demo-app:foo,goo,zoo"
	"--error 'goo:ret<0' uprobe:$ROOT/build/demo-app:foo,goo,zoo python:$PY:app.py:foo,goo,zoo")

mib() { echo $(($1 >> 20)); }
{
	echo "| kernel | configuration | peak memory charged | of it kernel memory | kernel CPU | wall, to attached | verified instructions (sum) | verifier time (sum) |"
	echo "|---|---|---|---|---|---|---|---|"
} >>"$out"
for i in "${!NAMES[@]}"; do
	# a fresh cgroup per run: v2's memory.peak can't be reset on older kernels
	rmdir "$cg" 2>/dev/null
	mkdir "$cg"
	# shellcheck disable=SC2086 # ARGS holds words
	/usr/bin/time -f "%S %e" -o "$tmp/time" sh -c "echo \$\$ >'$cg/cgroup.procs'; exec $SPANPROBE -v --dry-run ${ARGS[$i]}" \
		>"$tmp/out" 2>"$tmp/err"
	read -r sys wall <"$tmp/time"
	peak=$(cat "$peak_file")
	kmem="n/a (cgroup v2)"
	[ -n "$kmem_file" ] && kmem="$(mib "$(cat "$kmem_file")") MiB"
	insns=$(awk '$1 == "spanprobe:" && $4 == "insns" { s += $3 } END { print s + 0 }' "$tmp/err")
	vtime=$(awk '$1 == "spanprobe:" && $4 == "insns" { for (i = 1; i <= NF; i++) if ($i ~ /^ms,?$/) s += $(i - 1) } END { printf "%.0f ms", s }' "$tmp/err")
	echo "| $(uname -r) | ${NAMES[$i]} | $(mib "$peak") MiB | $kmem | ${sys} s | ${wall} s | $insns | $vtime |" >>"$out"
	grep -q "attached" "$tmp/err" || { echo "load_cost: spanprobe failed:" >&2; tail -n 3 "$tmp/err" >&2; }
done
