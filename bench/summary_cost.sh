#!/usr/bin/env bash
# The summary-only mode's cost per call (spanprobe -o summary: per-function
# statistics and a latency histogram in the kernel, no span record) against
# bpftrace's hist() on the same function, in the same run:
#   uprobe { @start[tid] = nsecs } uretprobe { @ns = hist(nsecs - @start[tid]); delete(...) }
# For each kind of function entry (bench/bench.mk's call-cost builds), REPS
# rounds, each round running untraced, bpftrace and spanprobe back to back
# (so a busy machine weighs on all three alike); the median of each. Also the
# probes' floor: the median duration spanprobe's summary gives bench_target,
# an almost empty function (user/probes/probe_cost.c takes its constants
# from it). Writes bench/summary-results.md. Run as root; a few minutes.
set -uo pipefail
cd "$(dirname "$0")/.."

REPS=${BENCH_REPS:-5}
CALLS=${BENCH_CALLS:-200000}
SPANPROBE=build/spanprobe
BIN=build/bench
RESULTS=bench/summary-results.md
source bench/lib.sh # log, track, wait_for, wait_exit, median
bench_start

command -v bpftrace >/dev/null || { log "bpftrace is missing (scripts/install-deps.sh test)"; exit 1; }
make --no-print-directory -f Makefile -f bench/bench.mk bench-programs >"$tmp/build.log" 2>&1 ||
	{ cat "$tmp/build.log" >&2; exit 1; }

# one_run VARIANT MODE: ns per call of one run (MODE untraced|bpftrace|spanprobe);
# with spanprobe, also the function's median duration from its summary in $tmp/p50.
one_run() {
	local bin=$BIN/call-cost-$1 mode=$2 prog tracer=
	"$bin" "$CALLS" >"$tmp/prog.out" 2>&1 &
	prog=$!
	track "$prog"
	wait_for "$tmp/prog.out" '^ready' 10 || { log "$bin did not start"; return; }
	case $mode in
	bpftrace)
		bpftrace -p "$prog" -e "BEGIN { printf(\"ready\\n\"); }
			uprobe:$bin:bench_target { @start[tid] = nsecs; }
			uretprobe:$bin:bench_target /@start[tid]/ {
				@ns = hist(nsecs - @start[tid]); delete(@start[tid]); }" \
			>"$tmp/tracer.out" 2>&1 &
		tracer=$!
		wait_for "$tmp/tracer.out" '^ready' 60 || log "bpftrace did not attach"
		;;
	spanprobe)
		"$SPANPROBE" -p "$prog" -o summary "uprobe:$bin:bench_target" >"$tmp/tracer.out" \
			2>"$tmp/tracer.err" &
		tracer=$!
		wait_for "$tmp/tracer.err" '^spanprobe: tracing' 30 || log "spanprobe did not attach"
		;;
	esac
	[ -n "$tracer" ] && track "$tracer"
	kill -USR1 "$prog"
	wait_exit "$prog" 600
	if [ -n "$tracer" ]; then
		kill -INT "$tracer" 2>/dev/null
		wait_exit "$tracer" 60
	fi
	if [ "$mode" = spanprobe ]; then
		awk '$1 == "bench_target" { print $9, $10 }' "$tmp/tracer.out" >>"$tmp/p50.$1"
		grep -q "^bench_target *$((CALLS + 1000)) " "$tmp/tracer.out" ||
			log "call-cost-$1: the summary did not count every call"
	fi
	awk '/^ns_per_call/ { print $2 }' "$tmp/prog.out"
}

{
	echo "# The summary-only mode against bpftrace's hist()"
	echo
	echo "$(date -u +%Y-%m-%d), $(uname -r), $(nproc) CPUs, load average at start $(cut -d' ' -f1 /proc/loadavg);"
	echo "$CALLS calls of bench_target() per run, median of $REPS rounds (each round: untraced,"
	echo "bpftrace $(bpftrace --version | awk '{ print $2 }') \`hist()\` keyed by tid, spanprobe \`-o summary\`, back to back)."
	echo
	echo "| function entry | probe class | untraced | bpftrace hist() | spanprobe -o summary | spanprobe / bpftrace | target | spanprobe's p50 of bench_target (the probes' floor) |"
	echo "|---|---|---|---|---|---|---|---|"
} >"$tmp/table.md"
for v in o2 fp nop5 cet; do
	class=$("$SPANPROBE" -l "uprobe:$BIN/call-cost-$v:bench_target" 2>/dev/null | sed -n 's/.*\[\(.*\)\].*/\1/p')
	log "call-cost-$v [$class]"
	: >"$tmp/u" ; : >"$tmp/b" ; : >"$tmp/s"
	for ((r = 0; r < REPS; r++)); do
		one_run "$v" untraced >>"$tmp/u"
		one_run "$v" bpftrace >>"$tmp/b"
		one_run "$v" spanprobe >>"$tmp/s"
	done
	u=$(median <"$tmp/u") b=$(median <"$tmp/b") s=$(median <"$tmp/s")
	floor=$(sed 's/\*$//' "$tmp/p50.$v" 2>/dev/null | awk '{ print $1, $2 }' |
		awk '{ v = $1; if ($2 == "us") v *= 1000; if ($2 == "ms") v *= 1e6; print v }' | median)
	ratio=$(awk -v a="$s" -v b="$b" 'BEGIN { if (a != "" && b > 0) printf "%.2fx", a / b; else print "n/a" }')
	fmt() { awk -v n="$1" 'BEGIN { if (n == "") print "n/a"; else if (n < 100) printf "%.1f ns", n; else printf "%.2f µs", n / 1000 }'; }
	echo "| call-cost-$v | ${class:-?} | $(fmt "$u") | $(fmt "$b") | $(fmt "$s") | $ratio | ≤ 1.00x | $(fmt "$floor") |" >>"$tmp/table.md"
done
cat "$tmp/table.md"
cp "$tmp/table.md" "$RESULTS"
log "written to $RESULTS"
