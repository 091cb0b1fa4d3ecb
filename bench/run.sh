#!/usr/bin/env bash
# spanprobe's benchmarks: numbers, not tests (no timing passes or fails).
#   1. ns per call of a traced function, per kind of function entry:
#      untraced, under spanprobe, under bpftrace's empty uprobe+uretprobe.
#   2. spans/s the user-space pipeline sustains per CPU-second: the encoder
#      alone, and ring buffer -> span -> jsonl / OTLP (null sink, Collector).
#   python: a Flask service under gunicorn per CPython: untraced, the in-process
#      OpenTelemetry SDK, spanprobe (bench/python_flask.sh; its table goes to
#      bench/python_flask_latest.md, read in bench/python_flask_results.md;
#      about 15 minutes).
# Prints a markdown table and writes it to bench/results.md. Run as root
# (`make bench`); about 2-4 minutes. Sizes can be changed through the
# environment: BENCH_REPS, BENCH_CALLS, BENCH_LOAD_THREADS, BENCH_LOAD_CALLS.
set -uo pipefail
cd "$(dirname "$0")/.."

ONLY=${BENCH_ONLY:-calls,pipeline,python} # sections: calls (1), pipeline (2 and 3), python
REPS=${BENCH_REPS:-3}
CALLS=${BENCH_CALLS:-200000}             # per traced run
CALLS_UNTRACED=$((CALLS * 250))
CALLS_PAUSED=${BENCH_CALLS_PAUSED:-40000} # fits the 4 MiB ring buffer unread
SPANPROBE=${BENCH_SPANPROBE:-build/spanprobe}
BIN=build/bench
RESULTS=bench/results.md

source bench/lib.sh
bench_start
make --no-print-directory -f Makefile -f bench/bench.mk bench-programs >"$tmp/build.log" 2>&1 || {
	cat "$tmp/build.log" >&2
	log "building the bench programs failed"
	exit 1
}

table1= table2= table3=
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
{
	echo "| figure | measured | goal | measured / goal |"
	echo "|---|---|---|---|"
} >"$tmp/summary.md"
[[ ,$ONLY, == *,calls,* ]] && source bench/per_call.sh
[[ ,$ONLY, == *,pipeline,* ]] && source bench/pipeline.sh
if [[ ,$ONLY, == *,python,* ]]; then
	log "python: a Flask service under gunicorn per CPython"
	if SPANPROBE=$SPANPROBE bench/python_flask.sh 1000 5 >"$tmp/python.md" 2>"$tmp/python.err"; then
		cp "$tmp/python.md" bench/python_flask_latest.md
		log "python: written to bench/python_flask_latest.md"
	else
		log "python: bench/python_flask.sh failed: $(tail -n 3 "$tmp/python.err")"
	fi
fi

# ---- the report -------------------------------------------------------------------
{
	echo "# spanprobe benchmarks"
	echo
	echo "Measured by \`make bench\` (bench/run.sh) on Linux $(uname -r), $(nproc) CPUs" \
		"($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), $(date -u +%Y-%m-%d)." \
		"Numbers, not pass/fail. Load average (1, 5, 15 min) at the start: $load_before; at the end:" \
		"$(cut -d' ' -f1-3 /proc/loadavg): whatever else runs on the machine shares its CPUs."
	echo
	echo "## Goals"
	echo
	echo "Each figure against its goal; \"measured / goal\" above 1 is over a \"≤\" goal, below 1" \
		"under a \"≥\" one."
	echo
	cat "$tmp/summary.md"
	if [ -n "$table1" ]; then
		echo
		echo "## 1. Cost of one call of a traced function"
		echo
		echo "Mean time per call of a one-instruction \`noinline\` function called in a tight loop:" \
			"$CALLS_UNTRACED calls untraced, $CALLS traced; median of $REPS runs, each a new process" \
			"and a new tracer attached with \`-p\`. spanprobe traces entry and return (\`-o jsonl\`" \
			"to /dev/null); bpftrace runs empty \`uprobe:BIN:bench_target {} uretprobe:BIN:bench_target {}\`" \
			"(plus a \`BEGIN\` that says when it has attached), attached at the symbol."
		echo "\"reader paused\": spanprobe with its user-space process stopped (SIGSTOP) during the" \
			"loop ($CALLS_PAUSED calls, which fit in the ring buffer): the probe and BPF programs" \
			"alone, without the reader's wake-ups. \"fastest 1,000 calls\": each run also times its" \
			"calls in chunks of 1,000 and keeps the fastest chunk, the cost of a call when neither" \
			"other work on the machine nor spanprobe's reader shared its CPU (medians of those);" \
			"bench/breakdown-results.md says where the nanoseconds go."
		((bpftrace_ok)) || echo "bpftrace could not run here, so there is no baseline column."
		echo
		cat "$table1"
	fi
	if [ -n "$table2" ]; then
		echo
		echo "## 2. User-space pipeline throughput"
		echo
		echo "$LOAD_THREADS threads × $LOAD_CALLS calls of a traced function (5-byte-nop entry, the cheapest" \
			"probe) in one process, as fast as they go, traced by spanprobe. \"delivered spans per" \
			"CPU-second\" is spans delivered (jsonl lines written, or spans OTLP exported)" \
			"divided by spanprobe's own CPU time (utime+stime from /proc) from attach until drained:" \
			"what one core sustains. The load itself is bounded by the uprobe's cost in the traced" \
			"threads, and its $LOAD_THREADS threads share the $(nproc) CPUs with spanprobe (and the" \
			"Collector): \"lost in kernel\" is the ring buffer filling while spanprobe waits for a CPU." \
			"So the wall rate is the load's, not spanprobe's ceiling. OTLP: spanprobe's default" \
			"settings (queue 2048, batch 512), which drop spans when the queue is full, as the" \
			"OpenTelemetry batch processor does; one row raises the queue so nothing is dropped." \
			"Null sink: bench/otlp_null_sink.c (${sink_requests:-?} requests answered). Collector:" \
			"$collector_note."
		echo
		cat "$table2"
		echo
		echo "## 3. Steady export into the Collector, default settings"
		echo
		echo "$LOAD_THREADS threads calling a traced function at $STEADY_RATE calls/s together" \
			"for $STEADY_SECONDS s (each thread paces itself every 1,000 calls), traced by spanprobe" \
			"with no OTEL_BSP_* or other export settings, into the same Collector; $STEADY_REPS runs" \
			"per protocol. Spans reach spanprobe's exporter in bursts of about 3,000 (its reader is" \
			"woken per 256 KiB of ring-buffer records), more than the 2,048-span queue. CPU: each" \
			"process's utime+stime over the same interval (from attach until spanprobe has" \
			"drained), per million spans traced; \"all three\" is what a span costs the machine" \
			"end to end, and the last column what $(nproc) CPUs could carry at that cost with" \
			"nothing else running: the physical limit the figure reads against. TCP connections:" \
			"the distinct client ports of connections to the Collector's port during a run (\`ss\`," \
			"TIME_WAIT included). The jsonl row is the floor: the tracer's own RSS with no exporter" \
			"(its ring buffer, 4 MiB by default, is mapped twice and counts 8 MiB)."
		echo
		cat "$table3"
	fi
	if [ -s "$tmp/notes" ]; then
		echo
		echo "Errors spanprobe reported (first per run):"
		echo
		cat "$tmp/notes"
	fi
} >"$tmp/results.md"

if [[ ,$ONLY, == *,calls,* && ,$ONLY, == *,pipeline,* ]]; then
	cp "$tmp/results.md" "$RESULTS"
	cat "$RESULTS"
	log "written to $RESULTS"
	bench/readme.sh "$RESULTS" README.md >&2
else
	cat "$tmp/results.md"
	log "BENCH_ONLY=$ONLY: $RESULTS left as it was"
fi
