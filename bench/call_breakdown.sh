#!/usr/bin/env bash
# Where the nanoseconds of one traced call go (separate from `make bench`:
# bench/call_breakdown.sh as root, about 15-25 minutes; writes
# bench/breakdown-results.md).
#
# The same call-cost programs as section 1 of bench/run.sh (push %rbp, the
# emulated entry, and the 5-byte nop), each run traced by one
# configuration:
#   - untraced, and bpftrace's empty uprobe+uretprobe pair (perf-event
#     uprobes): the baseline;
#   - spanprobe built with empty programs (bpf/bench_ablate.h, ABLATE_EMPTY),
#     attached by a uprobe_multi link and by per-function perf-event links
#     (SPANPROBE_NO_UPROBE_MULTI=1): the trap and the attach path alone;
#   - spanprobe, reader running and reader stopped (SIGSTOP);
#   - spanprobe builds that drop one part of the programs at a time (reader
#     stopped, so only the programs differ): a part's cost is the full
#     build's time minus the build without it.
# Every configuration runs once per round, in the same order, for ROUNDS
# rounds; each figure is the median over the rounds, so a burst of others'
# load on the machine falls on one round of every configuration rather than
# on all rounds of one. Per run: the traced program's own ns per call (wall
# time, bpf_stats off), and in a second run of the same configuration with
# BPF run-time statistics on (bench/bpf_stats_on.c), run_time_ns / run_cnt
# of the entry and the return program, read from the tracer's
# /proc/PID/fdinfo while the traced program waits at its end.
#
# Environment: BREAKDOWN_ROUNDS (5), BREAKDOWN_CALLS (40000: fits the 4 MiB
# ring buffer with the reader stopped), BREAKDOWN_VARIANTS ("fp nop5"),
# BREAKDOWN_CONFIGS (a subset of the configuration names below),
# BREAKDOWN_PASSES ("0 1": wall times, then program times; "1": program
# times alone),
# BENCH_SPANPROBE (the full build; build/spanprobe), BREAKDOWN_BEFORE (an
# older spanprobe build, run as the before-* configurations).
set -uo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${BREAKDOWN_ROUNDS:-5}
CALLS=${BREAKDOWN_CALLS:-40000}
VARIANTS=${BREAKDOWN_VARIANTS:-fp nop5}
SPANPROBE=${BENCH_SPANPROBE:-build/spanprobe}
BIN=build/bench
ABLATE=build/bench/ablate
RESULTS=bench/breakdown-results.md

# name|tracer|build|attach|reader: what each configuration runs.
ALL_CONFIGS="
untraced|none|||
bpftrace|bpftrace|||
bpftrace-span|bpftrace-span|||
empty-multi|spanprobe|empty|multi|run
empty-perf|spanprobe|empty|perf|run
full-multi|spanprobe|full|multi|run
full-perf|spanprobe|full|perf|run
full-multi-paused|spanprobe|full|multi|paused
full-perf-paused|spanprobe|full|perf|paused
before-multi|spanprobe|before|multi|run
before-multi-paused|spanprobe|before|multi|paused
no-hits|spanprobe|no-hits|multi|paused
no-stats|spanprobe|no-stats|multi|paused
no-ids|spanprobe|no-ids|multi|paused
no-time|spanprobe|no-time|multi|paused
no-wakeup|spanprobe|no-wakeup|multi|paused
no-record|spanprobe|no-record|multi|paused
exc-always|spanprobe|exc-always|multi|paused
no-filters|spanprobe|no-filters|multi|paused
no-tgid|spanprobe|no-tgid|multi|paused
ts-twice|spanprobe|ts-twice|multi|paused
task-storage|spanprobe|task-storage|multi|paused
"
# 0: wall time with statistics off; 1: program times with them on
PASSES=${BREAKDOWN_PASSES:-0 1}
CONFIGS=${BREAKDOWN_CONFIGS:-$(echo "$ALL_CONFIGS" | cut -d'|' -f1 | xargs)}
# before-*: an older build to compare with, in the same rounds
BEFORE=${BREAKDOWN_BEFORE:-}
[ -n "$BEFORE" ] || CONFIGS=$(echo "$CONFIGS" | tr ' ' '\n' | grep -v '^before-' | xargs)

source bench/lib.sh
bench_start
command -v bpftrace >/dev/null || { log "bpftrace is missing: make bench installs it"; exit 1; }
log "building the bench programs and the ablation builds"
make --no-print-directory -f Makefile -f bench/bench.mk bench-programs bench-ablations \
	>"$tmp/build.log" 2>&1 || { cat "$tmp/build.log" >&2; log "build failed"; exit 1; }

config_field() { echo "$ALL_CONFIGS" | awk -F'|' -v n="$1" -v f="$2" '$1 == n { print $f }'; }

# prog_times PID: "name avg_ns count" for each BPF program PID holds that ran.
prog_times() {
	local fd id info
	for fd in /proc/"$1"/fd/*; do
		[ "$(readlink "$fd" 2>/dev/null)" = anon_inode:bpf-prog ] || continue
		info=/proc/$1/fdinfo/${fd##*/}
		id=$(awk '$1 == "prog_id:" { print $2 }' "$info")
		awk -v id="$id" -v name="$(bpftool prog show id "$id" 2>/dev/null | sed -n 's/.* name \([^ ]*\) .*/\1/p;q')" '
			$1 == "run_time_ns:" { t = $2 } $1 == "run_cnt:" { c = $2 }
			END { if (c > 0) printf "%s %s %.1f %d\n", id, name, t / c, c }' "$info"
	done | sort -un | cut -d' ' -f2-
}

# one_run VARIANT CONFIG STATS: one traced process, one tracer; prints
# "NS BEST ENTRY_NS EXIT_NS": mean ns per call, ns per call of the fastest
# 1,000 calls, the programs' mean run times ("-" without STATS).
one_run() {
	local v=$1 name=$2 stats=$3 bin=$BIN/call-cost-$1 tracer_kind build attach reader
	local prog tracer= statsd= sp ns best enter=- exit=- times probes
	tracer_kind=$(config_field "$name" 2) build=$(config_field "$name" 3)
	attach=$(config_field "$name" 4) reader=$(config_field "$name" 5)
	if ((stats)); then
		"$BIN/bpf-stats-on" >"$tmp/stats.out" 2>&1 &
		statsd=$!
		track "$statsd"
		wait_for "$tmp/stats.out" '^on' 10 || { log "bpf-stats-on did not start"; return; }
	fi
	CALL_COST_HOLD=1 "$bin" "$CALLS" >"$tmp/prog.out" 2>&1 &
	prog=$!
	track "$prog"
	wait_for "$tmp/prog.out" '^ready' 10 || { log "$bin did not start"; return; }
	case $tracer_kind in
	spanprobe)
		case $build in
		full) sp=$SPANPROBE ;;
		before) sp=$BEFORE ;;
		*) sp=$ABLATE/$build/spanprobe ;;
		esac
		if [ "$attach" = perf ]; then
			SPANPROBE_NO_UPROBE_MULTI=1 "$sp" -p "$prog" "uprobe:$bin:bench_target" -o jsonl \
				--output-file /dev/null 2>"$tmp/tracer.err" &
		else
			"$sp" -p "$prog" "uprobe:$bin:bench_target" -o jsonl \
				--output-file /dev/null 2>"$tmp/tracer.err" &
		fi
		tracer=$!
		track "$tracer"
		wait_for "$tmp/tracer.err" '^spanprobe: tracing' 30 ||
			{ log "spanprobe ($name) did not attach:"; cat "$tmp/tracer.err" >&2; }
		[ "$reader" = paused ] && kill -STOP "$tracer"
		;;
	bpftrace | bpftrace-span)
		# bpftrace-span: the least a span needs (a clock read at entry and
		# return, the start kept per thread, a record to user space)
		probes="uprobe:$bin:bench_target {} uretprobe:$bin:bench_target {}"
		[ "$tracer_kind" = bpftrace-span ] &&
			probes="uprobe:$bin:bench_target { @start[tid] = nsecs; }
			uretprobe:$bin:bench_target { printf(\"%d %d\\n\", tid, nsecs - @start[tid]); }"
		bpftrace -p "$prog" -e "BEGIN { printf(\"ready\\n\"); } $probes" \
			>"$tmp/tracer.out" 2>"$tmp/tracer.err" &
		tracer=$!
		track "$tracer"
		wait_for "$tmp/tracer.out" '^ready' 60 ||
			{ log "bpftrace did not attach:"; cat "$tmp/tracer.err" >&2; }
		;;
	esac
	kill -USR1 "$prog"
	wait_for "$tmp/prog.out" '^ns_per_call' 120 || log "call-cost-$v ($name) did not finish"
	ns=$(awk '/^ns_per_call/ { print $2 }' "$tmp/prog.out")
	best=$(awk '/^ns_per_call/ { print $10 }' "$tmp/prog.out")
	if [ "$tracer_kind" != none ] && ! grep -q "probed yes" "$tmp/prog.out"; then
		log "call-cost-$v $name: the probe was not in place; dropped"
		ns= best=
	fi
	if [ -n "$tracer" ] && ((stats)); then
		times=$(prog_times "$tracer")
		# ours by name; bpftrace names both after the function, and loads
		# them in the order of its script: uprobe, then uretprobe
		if [ "$tracer_kind" = spanprobe ]; then
			enter=$(echo "$times" | awk -v n="$CALLS" '$3 >= n && $1 == "span_enter" { print $2; exit }')
			exit=$(echo "$times" | awk -v n="$CALLS" '$3 >= n && $1 == "span_exit" { print $2; exit }')
		else
			enter=$(echo "$times" | awk -v n="$CALLS" '$3 >= n { print $2 }' | sed -n 1p)
			exit=$(echo "$times" | awk -v n="$CALLS" '$3 >= n { print $2 }' | sed -n 2p)
		fi
		[ -n "$enter" ] || { log "$name: no entry program times in: $times"; enter=-; }
		[ -n "$exit" ] || { log "$name: no exit program times in: $times"; exit=-; }
	fi
	kill -USR1 "$prog"
	wait_exit "$prog" 30
	case $tracer_kind in
	spanprobe)
		[ "$reader" = paused ] && kill -CONT "$tracer"
		wait_exit "$tracer" 30
		;;
	bpftrace | bpftrace-span)
		kill -INT "$tracer" 2>/dev/null
		wait_exit "$tracer" 30
		;;
	esac
	if [ -n "$statsd" ]; then
		kill -TERM "$statsd"
		wait_exit "$statsd" 10
	fi
	echo "${ns:--} ${best:--} $enter $exit"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for ((r = 1; r <= ROUNDS; r++)); do
	for v in $VARIANTS; do
		for c in $CONFIGS; do
			for stats in $PASSES; do
				[ "$c" = untraced ] && ((stats)) && continue
				read -r ns best e x < <(one_run "$v" "$c" "$stats")
				if ((stats)); then
					echo "$v $c $e $x" >>"$tmp/progs"
				else
					echo "$v $c $ns $best" >>"$tmp/wall"
				fi
			done
		done
		log "round $r/$ROUNDS, call-cost-$v done (load $(cut -d' ' -f1 /proc/loadavg))"
	done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# med FILE VARIANT CONFIG FIELD: the median of a field over the rounds.
med() {
	awk -v v="$2" -v c="$3" -v f="$4" '$1 == v && $2 == c && $f != "-" && $f != "" { print $f }' \
		"$1" 2>/dev/null | median
}
# where_table VARIANT: one traced call taken apart, from the medians: wall
# times (fastest 1,000 calls) for the trap, the attach path and the reader,
# bpf_stats for the programs (each part: the full build minus the build
# without it, entry and return programs together).
where_table() {
	local v=$1 c f
	{
		for c in $CONFIGS; do
			for f in 3 4; do
				echo "wall $c $f $(med "$tmp/wall" "$v" "$c" "$f")"
				echo "prog $c $f $(med "$tmp/progs" "$v" "$c" "$f")"
			done
		done
	} | awk '
		NF == 4 { m[$1, $2, $3] = $4; have[$1, $2, $3] = 1 }
		function w(c) { return ((("wall", c, 4) in have) ? m["wall", c, 4] : "") }
		function wm(c) { return ((("wall", c, 3) in have) ? m["wall", c, 3] : "") }
		function pr(c) {  # entry + return program time
			if (!(("prog", c, 3) in have) || !(("prog", c, 4) in have)) return ""
			return m["prog", c, 3] + m["prog", c, 4]
		}
		function d(a, b) { return (a == "" || b == "") ? "" : a - b }
		function row(what, ns, how) {
			printf "| %s | %s | %s |\n", what, (ns == "" ? "n/a" : sprintf("%.0f", ns)), how
		}
		END {
			print "| part of one traced call (entry and return) | ns | measured as |"
			print "|---|---|---|"
			row("the trap: breakpoint or call into the kernel, the return probe, empty programs, uprobe_multi link",
			    d(w("empty-multi"), w("untraced")), "wall, empty programs − untraced")
			row("attach path: per-function perf-event links instead of one uprobe_multi link",
			    d(w("empty-perf"), w("empty-multi")), "wall, empty programs, perf-event − uprobe_multi")
			row("bpftrace'"'"'s empty pair (perf-event links) against our empty programs",
			    d(w("bpftrace"), w("empty-multi")), "wall")
			full = pr("full-multi-paused"); empty = pr("empty-multi")
			row("**our programs**, entry + return", d(full, empty), "bpf_stats, full − empty programs")
			row("· two clock reads (bpf_ktime_get_ns)", d(full, pr("no-time")), "bpf_stats, full − without")
			row("· the span record (ring buffer output)", d(full, pr("no-record")), "bpf_stats, full − without")
			row("· the wake-up rule (bpf_ringbuf_query, every 16th record)", d(full, pr("no-wakeup")), "bpf_stats, full − without")
			row("· the per-function statistics and histogram", d(full, pr("no-stats")), "bpf_stats, full − without")
			row("· the per-function hit counter", d(full, pr("no-hits")), "bpf_stats, full − without")
			row("· trace and span ids (splitmix64 stream per thread)", d(full, pr("no-ids")), "bpf_stats, full − without")
			row("· the sampling and filter checks", d(full, pr("no-filters")), "bpf_stats, full − without")
			row("· the traced-process check", d(full, pr("no-tgid")), "bpf_stats, full − without")
			row("· finding the thread'"'"'s stack (thread slot), once per program", d(pr("ts-twice"), full), "bpf_stats, looked up twice − once")
			row("· (task storage instead of the thread slot: what the slot saves)", d(pr("task-storage"), full), "bpf_stats, task storage − slot")
			row("· (the exception lookup on every call, as before: what the flag saves)", d(pr("exc-always"), full), "bpf_stats, always − only after a throw")
			row("(bpf_stats'"'"' own clock reads, per program pair, not in the wall times)", empty, "bpf_stats of the empty programs")
			row("**our programs, wall**", d(w("full-multi-paused"), w("empty-multi")), "wall, full (reader stopped) − empty programs")
			row("the reader running (jsonl to /dev/null), fastest 1,000 calls", d(w("full-multi"), w("full-multi-paused")), "wall, running − stopped")
			row("the reader running, mean of all calls (its CPU shared with the traced program)", d(wm("full-multi"), wm("full-multi-paused")), "wall (mean), running − stopped")
			row("**spanprobe, a traced call**", d(w("full-multi"), w("untraced")), "wall, − untraced")
			row("**bpftrace, empty uprobe+uretprobe**", d(w("bpftrace"), w("untraced")), "wall, − untraced")
			if (w("full-multi") != "" && w("bpftrace") > 0)
				printf "| spanprobe / bpftrace | %.2fx | wall, fastest 1,000 calls |\n", w("full-multi") / w("bpftrace")
			if (("prog", "before-multi-paused", 3) in have) {
				row("before this work: our programs, entry + return", d(pr("before-multi-paused"), empty), "bpf_stats, older build − empty")
				row("before this work: a traced call", d(w("before-multi"), w("untraced")), "wall, older build − untraced")
			}
		}'
}

fmt() { awk -v n="$1" 'BEGIN { if (n == "") print "n/a"; else printf "%.0f", n }'; }
diff_ns() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "") print "n/a"; else printf "%+.0f", a - b }'; }

{
	echo "# Where the nanoseconds of a traced call go"
	echo
	echo "Measured by bench/call_breakdown.sh on Linux $(uname -r), $(nproc) CPUs" \
		"($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), $(date -u +%Y-%m-%d)." \
		"$CALLS calls per run; every configuration once per round, $ROUNDS rounds, medians." \
		"Load average (1, 5, 15 min) at the start: $load_before; at the end: $load_after."
	for v in $VARIANTS; do
		echo
		echo "## Where the nanoseconds go: call-cost-$v"
		echo
		where_table "$v"
	done
	for v in $VARIANTS; do
		echo
		echo "## Every configuration: call-cost-$v"
		echo
		echo "| configuration | ns per call (mean) | − untraced | fastest 1,000 calls, ns per call | − untraced | entry program, ns (bpf_stats) | return program, ns (bpf_stats) |"
		echo "|---|---|---|---|---|---|---|"
		u=$(med "$tmp/wall" "$v" untraced 3)
		ub=$(med "$tmp/wall" "$v" untraced 4)
		for c in $CONFIGS; do
			w=$(med "$tmp/wall" "$v" "$c" 3)
			b=$(med "$tmp/wall" "$v" "$c" 4)
			echo "| $c | $(fmt "$w") | $(diff_ns "$w" "$u") | $(fmt "$b") | $(diff_ns "$b" "$ub") | $(fmt "$(med "$tmp/progs" "$v" "$c" 3)") | $(fmt "$(med "$tmp/progs" "$v" "$c" 4)") |"
		done
	done
	echo
	echo "Raw runs (variant, configuration, mean and fastest-chunk ns per call; then variant," \
		"configuration, entry and return program ns):"
	echo
	echo '```'
	cat "$tmp/wall" "$tmp/progs" 2>/dev/null
	echo '```'
} >"$tmp/out.md"
if [ -z "${BREAKDOWN_CONFIGS:-}" ] && [ "$VARIANTS" = "fp nop5" ] && [ "$PASSES" = "0 1" ]; then
	cp "$tmp/out.md" "$RESULTS"
	log "written to $RESULTS"
fi
cat "$tmp/out.md"
