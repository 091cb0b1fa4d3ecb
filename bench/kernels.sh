#!/usr/bin/env bash
# The per-call cost table (bench/run.sh, table 1) on each pinned kernel
# (tests/kernels/kernels.list), booted under QEMU without KVM, and on the
# running kernel with the same counts. TCG emulates the CPU, so its times are
# not the hardware's: what carries over is each row's ratio to bpftrace in the
# same VM, and each entry kind's cost next to the single-stepped one (which
# shows what that kernel emulates). Writes bench/kernels.md (`make
# bench-kernels`; about 15 minutes).
#   bench/kernels.sh            host: every kernel (KERNELS="6.1" picks some)
#   bench/kernels.sh --guest D  inside a VM: the table into D/calls.md
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

# Small counts: a trapped call costs ~1 ms under TCG.
export BENCH_CALLS=${BENCH_CALLS:-20000} BENCH_CALLS_PAUSED=${BENCH_CALLS_PAUSED:-20000}
export BENCH_REPS=${BENCH_REPS:-3}

if [ "${1:-}" = --guest ]; then
	out=$2
	uname -r >"$out/uname.txt"
	build/tools/kernel-features >"$out/features.txt" 2>&1
	BENCH_CALLS_TABLE=$out/calls.md bench/run.sh >"$out/bench.log" 2>&1
	touch "$out/done"
	exit 0
fi

source tests/kernels/vm.sh
log() { echo "bench-kernels: $*" >&2; }
[ "$(id -u)" -eq 0 ] || { log "run as root"; exit 1; }
kernels_setup || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# section TITLE DIR: one kernel's table and what it offers.
section() {
	local title=$1 dir=$2
	echo "### $title"
	echo
	echo "Features (probed): $(awk '$1 == "feature" { printf "%s %s, ", $2, $3 }' "$dir/features.txt" | sed 's/, $//')."
	echo
	if [ -s "$dir/calls.md" ]; then
		cat "$dir/calls.md"
	else
		echo "No table: the run failed; its log ends with:"
		echo
		tail -n 5 "$dir/bench.log" 2>/dev/null | sed 's/^/    /'
	fi
	echo
}

sections=$tmp/sections.md
for name in $(kernels_names); do
	out=$tmp/$name
	mkdir -p "$out"
	kernel_fetch "$name" || exit 1
	log "$name: booting $KERNEL_LABEL"
	t0=$(date +%s)
	vm_run "$name" "$out" 0 "$ROOT/bench/kernels.sh" --guest "$out"
	rc=$?
	if [ "$rc" = 2 ]; then
		log "$name: QEMU was killed by this host's kernel (${VM_KILLED#*] }); once more"
		vm_run "$name" "$out" 0 "$ROOT/bench/kernels.sh" --guest "$out"
		rc=$?
	fi
	[ "$rc" = 0 ] || log "$name: the VM ended before the bench did; console: $(tail -n 3 "$out/console.log")"
	log "$name: $(($(date +%s) - t0)) s"
	section "Linux $(cat "$out/uname.txt" 2>/dev/null) ($KERNEL_LABEL), QEMU TCG: emulated timings" "$out" >>"$sections"
done

log "the running kernel, $(uname -r), same counts"
mkdir -p "$tmp/host"
t0=$(date +%s)
bench/kernels.sh --guest "$tmp/host"
log "host: $(($(date +%s) - t0)) s"
section "Linux $(uname -r), this machine (no emulation; other jobs may share its CPUs), same counts" \
	"$tmp/host" >>"$sections"

{
	echo "# Per-call cost on each kernel"
	echo
	echo "Measured by \`make bench-kernels\` (bench/kernels.sh): bench/run.sh's table 1 (see" \
		"bench/results.md for what it measures) with $BENCH_CALLS traced calls per run, median" \
		"of $BENCH_REPS runs, on each kernel of tests/kernels/kernels.list booted under QEMU" \
		"**without KVM (TCG): the CPU is emulated, so those times are not the hardware's**." \
		"Compare within one kernel: the spanprobe / bpftrace ratio (both traced in the same VM)," \
		"and each entry kind against the single-stepped \`lea\` row, which shows whether the" \
		"kernel emulates that first instruction. Under TCG the BPF programs themselves run" \
		"emulated too, which weighs spanprobe's larger programs more than on hardware: see the" \
		"\"reader paused\" column."
	echo
	cat "$sections"
} >bench/kernels.md
cat bench/kernels.md
log "written to bench/kernels.md"
