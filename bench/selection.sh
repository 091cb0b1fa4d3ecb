#!/usr/bin/env bash
# What an unchosen process pays while spanprobe traces a chosen one running
# the same file: its per-call time against untraced, in the same run.
# Selection (--exe, or --namespace/--pod-selector/--container: the same
# per-process attach) puts the probes into the chosen processes alone, so an
# unchosen process should carry no breakpoint and pay nothing.
# Each round, back to back while spanprobe --exe '*/chosen' runs (so a busy
# machine weighs on all alike; their order alternates between rounds):
#   untraced   a copy of call-cost-o2 (bench_target's first instruction
#              single-stepped: the dearest probe, so a trap would show
#              most), a file spanprobe does not probe;
#   unchosen   call-cost-o2 itself through a hard link named "unchosen";
#   chosen     the same file through a hard link named "chosen", traced.
# The median of REPS rounds; call-cost reports whether its text changed
# (a breakpoint written into it). Writes bench/selection-results.md. Run as
# root; under a minute.
set -uo pipefail
cd "$(dirname "$0")/.."

REPS=${BENCH_REPS:-5}
CALLS=${BENCH_CALLS:-50000000}        # untraced and unchosen runs
CALLS_TRACED=${BENCH_CALLS_TRACED:-20000}
SPANPROBE=build/spanprobe
BIN=build/bench
RESULTS=bench/selection-results.md
source bench/lib.sh # log, track, wait_for, median
bench_start

make --no-print-directory -f Makefile -f bench/bench.mk "$BIN/call-cost-o2" >"$tmp/build.log" 2>&1 ||
	{ cat "$tmp/build.log" >&2; exit 1; }
# hard links: one file, told apart by the name each process runs it by
ln "$BIN/call-cost-o2" "$tmp/chosen" && ln "$BIN/call-cost-o2" "$tmp/unchosen" &&
	cp "$BIN/call-cost-o2" "$tmp/untraced" ||
	{ log "can't link $BIN/call-cost-o2 into $tmp"; exit 1; }


# one_run NAME CALLS LABEL [DECIDED-REGEX]: ns per call of $tmp/NAME (after
# spanprobe said it decided on it, when a regex is given); "probed yes|no"
# appended to $tmp/probed.LABEL
one_run() {
	local name=$1 calls=$2 label=$3 prog
	"$tmp/$name" "$calls" >"$tmp/prog.out" 2>&1 &
	prog=$!
	track "$prog"
	wait_for "$tmp/prog.out" '^ready' 10 || { log "$name did not start"; return; }
	if [ -n "${4:-}" ]; then
		wait_for "$tmp/sp.err" "process $prog $4" 30 || log "spanprobe did not decide on $name"
	fi
	kill -USR1 "$prog"
	wait_exit "$prog" 600
	awk '/^ns_per_call/ { print $6 }' "$tmp/prog.out" >>"$tmp/probed.$label"
	awk '/^ns_per_call/ { print $2 }' "$tmp/prog.out"
}

: >"$tmp/u"; : >"$tmp/n"; : >"$tmp/c"
for ((r = 0; r < REPS; r++)); do
	"$SPANPROBE" -v --exe '*/chosen' -o summary "uprobe:$tmp/chosen:bench_target" >/dev/null 2>"$tmp/sp.err" &
	sp=$!
	track "$sp"
	wait_for "$tmp/sp.err" '^spanprobe: tracing' 30 || log "spanprobe did not attach"
	if ((r % 2)); then
		one_run untraced "$CALLS" untraced 'not chosen' >>"$tmp/u"
		one_run unchosen "$CALLS" unchosen 'not chosen' >>"$tmp/n"
	else
		one_run unchosen "$CALLS" unchosen 'not chosen' >>"$tmp/n"
		one_run untraced "$CALLS" untraced 'not chosen' >>"$tmp/u"
	fi
	one_run chosen "$CALLS_TRACED" chosen 'chosen' >>"$tmp/c"
	kill -INT "$sp"
	wait_exit "$sp" 60
	grep -q "hits per function: bench_target $((CALLS_TRACED + 1000))\$" "$tmp/sp.err" ||
		log "round $r: the hits are not the chosen process's calls: $(grep 'hits per' "$tmp/sp.err")"
done
u=$(median <"$tmp/u") n=$(median <"$tmp/n") c=$(median <"$tmp/c")
fmt() { awk -v n="$1" 'BEGIN { if (n == "") print "n/a"; else if (n < 100) printf "%.2f ns", n; else printf "%.2f µs", n / 1000 }'; }
ratio=$(awk -v a="$n" -v b="$u" 'BEGIN { if (a != "" && b > 0) printf "%.2fx", a / b; else print "n/a" }')
probed() { sort -u "$tmp/probed.$1" | tr '\n' ' ' | sed 's/ $//'; }
{
	echo "# An unchosen process's cost under selection"
	echo
	echo "$(date -u +%Y-%m-%d), $(uname -r), $(nproc) CPUs, load average at start $(cut -d' ' -f1 /proc/loadavg);"
	echo "call-cost-o2 (bench_target's entry single-stepped), median of $REPS rounds, each while"
	echo "\`spanprobe --exe '*/chosen'\` runs: a copy of the file spanprobe does not probe (untraced) and"
	echo "the file itself run as \"unchosen\" ($CALLS calls each, in alternating order), then run as"
	echo "\"chosen\" ($CALLS_TRACED calls, traced). \"text changed\": call-cost saw its function's first"
	echo "bytes change (a breakpoint written) in every round (yes), in none (no)."
	echo
	echo "| process | ns per call | unchosen / untraced | text changed |"
	echo "|---|---|---|---|"
	echo "| untraced (a copy: not probed) | $(fmt "$u") | | $(probed untraced) |"
	echo "| unchosen, same file, spanprobe tracing the chosen one | $(fmt "$n") | $ratio | $(probed unchosen) |"
	echo "| chosen (traced) | $(fmt "$c") | | $(probed chosen) |"
} >"$tmp/table.md"
cat "$tmp/table.md"
cp "$tmp/table.md" "$RESULTS" && log "written to $RESULTS"
