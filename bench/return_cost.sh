#!/usr/bin/env bash
# What seeing a return costs, per call, by each mechanism, in the same run:
# a uretprobe (the kernel swaps the return address), a uprobe on the `ret`
# (single-stepped: the kernel never emulates ret), a uprobe on a tail-call
# `jmp` (emulated), against bpftrace's uprobe+uretprobe pair and its entry
# uprobe alone. The function: call-cost-fp's bench_target (push %rbp; ...;
# ret: the entry probe is emulated everywhere, so rows differ by the return
# only) and bench_tail (push %rbp; pop %rbp; jmp bench_callee).
# Numbers, not tests. Writes bench/return-results.md. Run as root.
set -uo pipefail
cd "$(dirname "$0")/.."

REPS=${BENCH_REPS:-3}
CALLS=${BENCH_CALLS:-200000}
CALLS_UNTRACED=$((CALLS * 250))
SPANPROBE=build/spanprobe
BIN=build/bench/call-cost-fp
RESULTS=bench/return-results.md
source bench/lib.sh
bench_start
make --no-print-directory -f Makefile -f bench/bench.mk "$BIN" >"$tmp/build.log" 2>&1 ||
	{ cat "$tmp/build.log" >&2; exit 1; }
bpftrace_ok=0
command -v bpftrace >/dev/null && bpftrace_ok=1

# one_run FUNC MODE: ns per call. FUNC: target | tail. MODE: untraced,
# uretprobe, exits (spanprobe --return-probes), bt-pair, bt-entry (bpftrace).
one_run() {
	local func=$1 mode=$2 n=$CALLS prog tracer= ns sym=bench_target arg=
	[ "$func" = tail ] && { sym=bench_tail; arg=tail; }
	[ "$mode" = untraced ] && n=$CALLS_UNTRACED
	"$BIN" "$n" $arg >"$tmp/prog.out" 2>&1 &
	prog=$!
	track "$prog"
	wait_for "$tmp/prog.out" '^ready' 10 || { log "$BIN did not start"; return; }
	case $mode in
	uretprobe | exits)
		"$SPANPROBE" --return-probes "$mode" -p "$prog" "uprobe:$BIN:$sym" -o jsonl \
			--output-file /dev/null 2>"$tmp/tracer.err" &
		tracer=$!
		wait_for "$tmp/tracer.err" '^spanprobe: tracing' 30 ||
			{ log "spanprobe did not attach:"; cat "$tmp/tracer.err" >&2; }
		;;
	bt-pair | bt-entry)
		local probes="uprobe:$BIN:$sym {}"
		[ "$mode" = bt-pair ] && probes="$probes uretprobe:$BIN:$sym {}"
		bpftrace -p "$prog" -e "BEGIN { printf(\"ready\\n\"); } $probes" \
			>"$tmp/tracer.out" 2>"$tmp/tracer.err" &
		tracer=$!
		wait_for "$tmp/tracer.out" '^ready' 60 ||
			{ log "bpftrace did not attach:"; cat "$tmp/tracer.err" >&2; }
		;;
	esac
	[ -n "$tracer" ] && track "$tracer"
	kill -USR1 "$prog"
	wait_exit "$prog" 120
	ns=$(awk '/^ns_per_call/ { print $2 }' "$tmp/prog.out")
	if [ "$mode" != untraced ] && ! grep -q "probed yes" "$tmp/prog.out"; then
		log "$func $mode: the probe was not in place; dropped"
		ns=
	fi
	if [ -n "$tracer" ]; then
		kill -INT "$tracer" 2>/dev/null
		wait_exit "$tracer" 30
		case $mode in
		uretprobe | exits)
			local spans
			spans=$(sed -n 's/^spanprobe: \([0-9]*\) spans.*/\1/p' "$tmp/tracer.err")
			[ "${spans:-0}" -ge "$n" ] || log "$func $mode: ${spans:-no} spans of $n calls"
			;;
		esac
	fi
	echo "$ns"
}
cost() {
	local r
	for ((r = 0; r < REPS; r++)); do one_run "$1" "$2"; done | median
}
us() { awk -v n="$1" 'BEGIN { if (n == "") print "n/a"; else if (n < 100) printf "%.1f ns", n; else printf "%.2f µs", n / 1000 }'; }
minus() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "") print ""; else print a - b }'; }

declare -A r
for func in target tail; do
	for mode in untraced uretprobe exits bt-pair bt-entry; do
		case $mode in bt-*) ((bpftrace_ok)) || continue ;; esac
		log "$func $mode"
		r[$func.$mode]=$(cost "$func" "$mode")
	done
done

ret_site() { "$SPANPROBE" -l -v --return-probes exits "uprobe:$BIN:$1" 2>/dev/null | grep -o 'return: [^(]*' | sed 's/^return: //; s/ *$//'; }
{
	echo "# What seeing a return costs"
	echo
	echo "Written by \`bench/return_cost.sh\` on $(uname -r), $(nproc) CPUs" \
		"($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)), $(date -u +%Y-%m-%d)." \
		"ns per call of a tiny function in a tight loop ($CALLS calls traced, median of $REPS runs)," \
		"traced with \`-p\`, spans as jsonl to /dev/null. The entry probe is the same everywhere" \
		"(\`push %rbp\`: emulated), so the rows differ by how the return is seen. \"return alone\"" \
		"subtracts bpftrace's entry-only run (uprobe, no uretprobe) of the same function." \
		"bpftrace: $( ((bpftrace_ok)) && bpftrace --version | awk '{ print $2 }' || echo 'not installed')." \
		"Load average when done: $(cut -d' ' -f1-3 /proc/loadavg) (other jobs on the machine make" \
		"single-stepping dearer: compare rows of one run, not runs)."
	echo
	echo "| function | how the return is seen | per call | return alone |"
	echo "|---|---|---|---|"
	echo "| bench_target (\`...; ret\`) | untraced | $(us "${r[target.untraced]}") | |"
	echo "| | bpftrace uprobe only (no return) | $(us "${r[target.bt-entry]:-}") | |"
	echo "| | bpftrace uprobe + uretprobe | $(us "${r[target.bt-pair]:-}") | $(us "$(minus "${r[target.bt-pair]:-}" "${r[target.bt-entry]:-}")") |"
	echo "| | spanprobe, uretprobe | $(us "${r[target.uretprobe]}") | $(us "$(minus "${r[target.uretprobe]}" "${r[target.bt-entry]:-}")") |"
	echo "| | spanprobe, exit site ($(ret_site bench_target)) | $(us "${r[target.exits]}") | $(us "$(minus "${r[target.exits]}" "${r[target.bt-entry]:-}")") |"
	echo "| bench_tail (\`...; jmp bench_callee\`) | untraced | $(us "${r[tail.untraced]}") | |"
	echo "| | bpftrace uprobe only (no return) | $(us "${r[tail.bt-entry]:-}") | |"
	echo "| | bpftrace uprobe + uretprobe | $(us "${r[tail.bt-pair]:-}") | $(us "$(minus "${r[tail.bt-pair]:-}" "${r[tail.bt-entry]:-}")") |"
	echo "| | spanprobe, uretprobe | $(us "${r[tail.uretprobe]}") | $(us "$(minus "${r[tail.uretprobe]}" "${r[tail.bt-entry]:-}")") |"
	echo "| | spanprobe, exit site ($(ret_site bench_tail)) | $(us "${r[tail.exits]}") | $(us "$(minus "${r[tail.exits]}" "${r[tail.bt-entry]:-}")") |"
} >"$tmp/results.md"
cp "$tmp/results.md" "$RESULTS"
cat "$RESULTS"
log "written to $RESULTS"
