#!/usr/bin/env bash
# Where an untraced Python call's time goes under the evaluator probe (not
# part of `make bench`: bench/python_entry_cost.sh as root, a few minutes;
# writes the table to stdout, read in bench/python_eval_results.md).
#
# One process per version and configuration runs bench/python_eval_calls.py
# (calls of fib(), never traced; tracing work() only), measured before a
# tracer attaches and while it traces:
#   untraced     nothing attached
#   floor        an empty program at _PyEval_EvalFrameDefault's entry
#                (bench/empty_uprobe.c); 3.11+: inlining turned off as
#                spanprobe does (build/tools/cpython-eval-frame)
#   py-trap      spanprobe built to return from the evaluator's entry before
#                it reads the frame (bpf/bench_ablate.h, ABLATE_PY_TRAP): the
#                trap, the session link and the process checks
#   py-no-lookup ... returning after it read the frame's code object
#   spanprobe    the full build
#   before       with BEFORE=path: an older build, the same way
# Per configuration: ns per call of fib() (wall time, best of 3 passes,
# statistics off) and, for spanprobe's builds in a second run, the
# evaluator program's own ns per run (the kernel's BPF run-time statistics,
# bench/bpf_stats_on.c, which add their two clock reads to each run:
# compare rows, not absolutes). Configurations alternate within each of ROUNDS rounds; the medians.
# Usage: bench/python_entry_cost.sh   PY_ENTRY_VERSIONS="3.9 3.12" ROUNDS=3
set -uo pipefail
cd "$(dirname "$0")/.."
source tests/lib/pyenvs.sh
VERSIONS=${PY_ENTRY_VERSIONS:-3.9 3.12}
ROUNDS=${ROUNDS:-3}
CALLS=${CALLS:-300000}
SPANPROBE=${SPANPROBE:-build/spanprobe}
BEFORE=${BEFORE:-}
ABLATE=build/bench/ablate
EMPTY_UPROBE=build/bench/empty-uprobe
STATS_ON=build/bench/bpf-stats-on
EVAL_FRAME=build/tools/cpython-eval-frame
. bench/lib.sh
bench_start
make -s -f Makefile -f bench/bench.mk "$EMPTY_UPROBE" "$STATS_ON" "$ABLATE/py-trap/spanprobe" \
	"$ABLATE/py-no-lookup/spanprobe" >&2 || exit 1
[ -x "$EVAL_FRAME" ] || make -s fixtures >&2

configs=(untraced floor py-trap py-no-lookup spanprobe)
[ -n "$BEFORE" ] && configs+=(before)

binary_of() {
	case $1 in
	py-trap | py-no-lookup) echo "$ABLATE/$1/spanprobe" ;;
	spanprobe) echo "$SPANPROBE" ;;
	before) echo "$BEFORE" ;;
	esac
}
# entry_offset LIB: the file offset of _PyEval_EvalFrameDefault
entry_offset() {
	local a vma off
	a=$(nm -D --defined-only "$1" | awk '$3 == "_PyEval_EvalFrameDefault" { print $1; exit }')
	read -r vma off < <(objdump -h "$1" | awk '$2 == ".text" { print $4, $6 }')
	printf '0x%x\n' $((16#$a - 16#$vma + 16#$off))
}

# measure VERSION CONFIG STATS: "fib_ns prog_ns" (prog_ns "-" where none;
# STATS 1: with the BPF statistics on)
measure() {
	local v=$1 c=$2 with_stats=$3 py lib app tracer= stats= prog=- fib
	py=$(pyenv_prefix "$v")/bin/python$v
	lib=$(libpython_of "$v")
	rm -f "$tmp/go" "$tmp/detached" "$tmp/out" "$tmp/ready"
	"$py" bench/python_eval_calls.py "$CALLS" "$tmp/go" "$tmp/detached" >"$tmp/out" &
	app=$!
	track $app
	wait_for "$tmp/out" phase=before 60 || return
	case $c in
	untraced) touch "$tmp/go" ;;
	floor)
		[ "${v#3.}" -ge 11 ] && "$EVAL_FRAME" $app "$lib" off >/dev/null
		"$EMPTY_UPROBE" -n "$lib" "$(entry_offset "$lib")" >"$tmp/empty.out" 2>&1 &
		tracer=$!
		track $tracer
		wait_for "$tmp/empty.out" '^attached' 30 && touch "$tmp/go"
		;;
	*)
		if [ "$with_stats" = 1 ]; then
			"$STATS_ON" >"$tmp/stats.out" 2>&1 &
			stats=$!
			track $stats
			wait_for "$tmp/stats.out" '^on' 10
		fi
		"$(binary_of "$c")" -p $app -o jsonl --output-file /dev/null --ready-file "$tmp/go" \
			"python:$py:python_eval_calls.py:work" 2>"$tmp/sp.err" &
		tracer=$!
		track $tracer
		;;
	esac
	wait_for "$tmp/out" "during done" 120
	if [ -n "$stats" ]; then
		# the evaluator's program: its run time and runs, from the tracer's fds
		prog=$(for f in /proc/$tracer/fdinfo/*; do
			grep -q '^prog_type' "$f" 2>/dev/null || continue
			awk '/^run_time_ns/ { t = $2 } /^run_cnt/ { n = $2 } END { if (n > 1000) print t, n }' "$f"
		done | sort -k2 -n | tail -n 1 | awk '{ printf "%.0f", $1 / $2 }')
		kill "$stats" 2>/dev/null
	fi
	[ -n "$tracer" ] && { kill -INT $tracer; wait $tracer 2>/dev/null; }
	[ "$c" = floor ] && [ "${v#3.}" -ge 11 ] && "$EVAL_FRAME" $app "$lib" on >/dev/null
	touch "$tmp/detached"
	wait $app
	fib=$(sed -n 's/^phase=during.* fib_ns=\([0-9]*\).*/\1/p' "$tmp/out")
	echo "${fib:--} ${prog:--}"
}

median() { tr ' ' '\n' | grep -v '^-*$' | sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "-" }'; }

echo "$(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg) at start; $CALLS calls, $ROUNDS rounds, medians"
echo "| python | configuration | ns per fib() call | of it over untraced | the evaluator program's ns per run (statistics on) |"
echo "|---|---|---:|---:|---:|"
for v in $VERSIONS; do
	[ -n "$(pyenv_prefix "$v")" ] || { log "CPython $v not installed"; continue; }
	declare -A fibs=() progs=()
	for ((r = 1; r <= ROUNDS; r++)); do
		for c in "${configs[@]}"; do
			read -r f _ < <(measure "$v" "$c" 0)
			p=-
			[ -n "$(binary_of "$c")" ] && read -r _ p < <(measure "$v" "$c" 1)
			fibs[$c]+="$f "
			progs[$c]+="$p "
			log "$v $c round $r: fib ${f:--} ns, program ${p:--} ns"
		done
	done
	base=$(median <<<"${fibs[untraced]}")
	for c in "${configs[@]}"; do
		f=$(median <<<"${fibs[$c]}")
		over=$([ "$f" != - ] && [ "$base" != - ] && echo $((f - base)) || echo -)
		echo "| $v | $c | $f | $over | $(median <<<"${progs[$c]}") |"
	done
	unset fibs progs
done
echo "load $(cut -d' ' -f1-3 /proc/loadavg) at the end"
