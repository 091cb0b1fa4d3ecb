#!/usr/bin/env bash
# spanprobe's benchmarks: numbers, not tests (no timing passes or fails).
#   1. ns per call of a traced function, per kind of function entry:
#      untraced, under spanprobe, under bpftrace's empty uprobe+uretprobe.
#   2. spans/s the user-space pipeline sustains per CPU-second: the encoder
#      alone, and ring buffer -> span -> jsonl / OTLP (null sink, Collector).
# Prints a markdown table and writes it to bench/results.md. Run as root
# (`make bench`); about 2-4 minutes. Sizes can be changed through the
# environment: BENCH_REPS, BENCH_CALLS, BENCH_CALLS_PAUSED, BENCH_LOAD_THREADS,
# BENCH_LOAD_CALLS. BENCH_CALLS_TABLE=FILE writes table 1 alone to FILE and
# stops there (bench/kernels.sh, on other kernels).
set -uo pipefail
cd "$(dirname "$0")/.."

REPS=${BENCH_REPS:-3}
CALLS=${BENCH_CALLS:-200000}             # per traced run
CALLS_UNTRACED=$((CALLS * 250))
CALLS_PAUSED=${BENCH_CALLS_PAUSED:-50000} # fits the 8 MiB ring buffer unread
LOAD_THREADS=${BENCH_LOAD_THREADS:-4}
LOAD_CALLS=${BENCH_LOAD_CALLS:-250000}   # per thread
SPANPROBE=build/spanprobe
BIN=build/bench
RESULTS=bench/results.md

tmp=$(mktemp -d)

# Every background process this script starts is noted in $tmp/pids (a file,
# as some start in subshells), and only those are stopped at the end.
# Those reaped are noted in $tmp/ended, so a reused pid is never signalled.
track() { echo "$1" >>"$tmp/pids"; }

still_ours() { grep -sqx "$1" "$tmp/ended" || return 0; return 1; }

cleanup() {
	local pid sig
	for sig in TERM KILL; do
		for pid in $(cat "$tmp/pids" 2>/dev/null); do
			still_ours "$pid" && kill -0 "$pid" 2>/dev/null && kill -"$sig" "$pid" 2>/dev/null
		done
		sleep 0.2
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "bench: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
	log "run as root: the benchmarks attach uprobes"
	exit 1
fi
[ -x "$SPANPROBE" ] || { log "$SPANPROBE is missing: run make first"; exit 1; }
make --no-print-directory -f Makefile -f bench/bench.mk bench-programs >"$tmp/build.log" 2>&1 || {
	cat "$tmp/build.log" >&2
	log "building the bench programs failed"
	exit 1
}

# wait_for FILE REGEX SECONDS: until a line of FILE matches.
wait_for() {
	local i
	for ((i = 0; i < $3 * 20; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# wait_exit PID SECONDS: until PID (a child) ends; then SIGINT, SIGKILL.
wait_exit() {
	local i
	for ((i = 0; i < $2 * 20; i++)); do
		kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null; echo "$1" >>"$tmp/ended"; return 0; }
		sleep 0.05
	done
	kill -INT "$1" 2>/dev/null
	sleep 1
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	echo "$1" >>"$tmp/ended"
	return 1
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "" }'; }

# A loopback TCP port nobody listens on.
free_port() {
	local p
	for ((p = 20000 + RANDOM % 20000; ; p++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}

# ---- bpftrace, the baseline --------------------------------------------------
bpftrace_ok=0
if ! command -v bpftrace >/dev/null; then
	log "installing bpftrace (Debian's package) for the baseline"
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bpftrace; } \
		>"$tmp/apt.log" 2>&1 || log "apt-get install bpftrace failed (see below)"
fi
if command -v bpftrace >/dev/null; then
	# It must load and attach a uprobe on this kernel, not just start.
	if timeout 60 bpftrace -e "uprobe:$BIN/call-cost-o2:bench_target {}
		BEGIN { printf(\"attached\\n\"); exit(); }" >"$tmp/bt-check.out" 2>&1 &&
		grep -q attached "$tmp/bt-check.out"; then
		bpftrace_ok=1
	else
		log "bpftrace cannot attach a uprobe here; the baseline column is empty:"
		cat "$tmp/bt-check.out" >&2
	fi
fi
bpftrace_version=$( ((bpftrace_ok)) && bpftrace --version 2>/dev/null | awk '{ print $2 }')

# ---- 1. per-call cost ----------------------------------------------------------
# one_call_run VARIANT MODE: one process, one tracer; prints ns/call or "".
# MODE: untraced | spanprobe | paused (spanprobe, reader stopped) | bpftrace
one_call_run() {
	local bin=$BIN/call-cost-$1 mode=$2 n=$CALLS prog tracer= ns
	case $mode in
	untraced) n=$CALLS_UNTRACED ;;
	paused) n=$CALLS_PAUSED ;;
	esac
	"$bin" "$n" >"$tmp/prog.out" 2>&1 &
	prog=$!
	track "$prog"
	wait_for "$tmp/prog.out" '^ready' 10 || { log "$bin did not start"; return; }
	case $mode in
	spanprobe | paused)
		"$SPANPROBE" -p "$prog" "uprobe:$bin:bench_target" -o jsonl \
			--output-file /dev/null 2>"$tmp/tracer.err" &
		tracer=$!
		wait_for "$tmp/tracer.err" '^spanprobe: tracing' 30 ||
			{ log "spanprobe did not attach:"; cat "$tmp/tracer.err" >&2; }
		[ "$mode" = paused ] && kill -STOP "$tracer"
		;;
	bpftrace)
		# BEGIN fires once every probe is attached: the ready line.
		bpftrace -p "$prog" -e "BEGIN { printf(\"ready\\n\"); }
			uprobe:$bin:bench_target {} uretprobe:$bin:bench_target {}" \
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
	local want=yes
	[ "$mode" = untraced ] && want=no
	if ! grep -q "probed $want" "$tmp/prog.out"; then
		log "call-cost-$1 $mode: the probe was not (or still) in place; dropped"
		ns=
	fi
	case $mode in
	spanprobe | paused)
		[ "$mode" = paused ] && kill -CONT "$tracer"
		wait_exit "$tracer" 30 # it ends when the traced process does
		spans=$(sed -n 's/^spanprobe: \([0-9]*\) spans.*/\1/p' "$tmp/tracer.err")
		[ "${spans:-0}" -ge "$n" ] || log "call-cost-$1 $mode: spanprobe saw ${spans:-no} spans of $n calls"
		;;
	bpftrace)
		kill -INT "$tracer" 2>/dev/null
		wait_exit "$tracer" 30
		;;
	esac
	echo "$ns"
}

# call_cost VARIANT MODE: the median of REPS runs.
call_cost() {
	local r
	for ((r = 0; r < REPS; r++)); do one_call_run "$1" "$2"; done | median
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "" && b > 0) printf "%.2fx", a / b; else print "n/a" }'; }
us() { awk -v n="$1" 'BEGIN { if (n == "") print "n/a"; else if (n < 100) printf "%.1f ns", n; else printf "%.2f µs", n / 1000 }'; }

variants=(o2 fp nop5 cet)
declare -A entry=(
	[o2]='(a) -O2 first instruction (`lea`)'
	[fp]='(b) `push %rbp` (frame pointers)'
	[nop5]='(c) 5-byte nop (`-pg -mfentry -mnop-mcount`)'
	[cet]='(d) `endbr64; push %rbp` (CET)'
)
declare -A target=([o2]='≤ 1.10x' [fp]='≤ 1.10x' [nop5]='≤ 1.10x' [cet]='≤ 0.50x')

table1=$tmp/table1.md
{
	echo "| function entry | spanprobe attaches at | untraced | spanprobe | bpftrace $bpftrace_version | spanprobe / bpftrace | target | spanprobe, reader paused |"
	echo "|---|---|---|---|---|---|---|---|"
} >"$table1"
for v in "${variants[@]}"; do
	class=$("$SPANPROBE" -l "uprobe:$BIN/call-cost-$v:bench_target" 2>/dev/null |
		sed -n 's/.*\[\(.*\)\].*/\1/p')
	log "per-call cost: call-cost-$v [$class]"
	u=$(call_cost "$v" untraced)
	s=$(call_cost "$v" spanprobe)
	p=$(call_cost "$v" paused)
	b=
	((bpftrace_ok)) && b=$(call_cost "$v" bpftrace)
	echo "| ${entry[$v]} | ${class:-?} | $(us "$u") | $(us "$s") | $(us "$b") | $(ratio "$s" "$b") | ${target[$v]} | $(us "$p") |" >>"$table1"
done

if [ -n "${BENCH_CALLS_TABLE:-}" ]; then
	cp "$table1" "$BENCH_CALLS_TABLE"
	exit 0
fi

# ---- 2. pipeline throughput ------------------------------------------------------
table2=$tmp/table2.md
{
	echo "| pipeline | spans received | lost in kernel | OTLP exported / dropped | load wall time | spans/s received (wall) | spanprobe CPU | delivered spans per CPU-second | peak RSS |"
	echo "|---|---|---|---|---|---|---|---|---|"
} >"$table2"

log "pipeline: encoder alone"
"$BIN/otlp-encode-bench" >"$tmp/encode.out" 2>&1
enc_rate=$(sed -n 's/.* = \([0-9]*\) spans\/s.*/\1/p' "$tmp/encode.out")
enc_bytes=$(sed -n 's/.*, \([0-9]*\) bytes\/span).*/\1/p' "$tmp/encode.out")
echo "| (a) OTLP encode only (512-span requests, ${enc_bytes:-?} B/span) | | | | | | | ${enc_rate:-n/a} | |" >>"$table2"

# Not pinned: pinning spanprobe to a core of its own and the load to the
# other lost more spans in the kernel here, not fewer. Set BENCH_PIN=1 to try.
pin_tracer=() pin_rest=()
if [ "${BENCH_PIN:-0}" = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
	pin_tracer=(taskset -c "$(($(nproc) - 1))")
	pin_rest=(taskset -c "0-$(($(nproc) - 2))")
fi

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null; }
hz=$(getconf CLK_TCK)

# pipeline_run LABEL SPANPROBE_ARGS...: one load run traced by spanprobe.
pipeline_run() {
	local label=$1 load tracer a b prev i hwm wall spans lost exported delivered cpu
	shift
	"${pin_rest[@]}" "$BIN/span-load" "$LOAD_THREADS" "$LOAD_CALLS" ${LOAD_RATE:+"$LOAD_RATE"} \
		>"$tmp/load.out" 2>&1 &
	load=$!
	track "$load"
	wait_for "$tmp/load.out" '^ready' 10 || { log "span-load did not start"; return; }
	"${pin_tracer[@]}" "$SPANPROBE" -p "$load" "uprobe:$BIN/span-load:load_target" "$@" \
		2>"$tmp/tracer.err" &
	tracer=$!
	track "$tracer"
	if ! wait_for "$tmp/tracer.err" '^spanprobe: tracing' 30; then
		log "spanprobe did not attach:"
		cat "$tmp/tracer.err" >&2
		return
	fi
	a=$(cpu_ticks "$tracer")
	kill -USR1 "$load"
	wait_for "$tmp/load.out" '^done' 120 || log "$label: the load did not finish in 120 s"
	# Drained when spanprobe's CPU time stops moving (at most 10 s).
	prev=-1
	for ((i = 0; i < 50; i++)); do
		b=$(cpu_ticks "$tracer")
		[ "$b" = "$prev" ] && break
		prev=$b
		sleep 0.2
	done
	hwm=$(awk '/^VmHWM/ { printf "%.0f MiB", $2 / 1024 }' "/proc/$tracer/status")
	kill -USR1 "$load"
	wait_exit "$load" 10
	wait_exit "$tracer" 40 || log "$label: spanprobe had to be stopped"
	wall=$(awk '/^done/ { print $5 }' "$tmp/load.out")
	spans=$(sed -n 's/^spanprobe: \([0-9]*\) spans.*/\1/p' "$tmp/tracer.err")
	lost=$(sed -n 's/.*; lost \([0-9]*\) .*/\1/p' "$tmp/tracer.err")
	exported=$(sed -n 's/.*OTLP exported \([0-9]*\), dropped \([0-9]*\).*/\1 \/ \2/p' "$tmp/tracer.err")
	delivered=$spans
	[ -n "$exported" ] && delivered=${exported%% *}
	cpu=$(awk -v t=$((b - a)) -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }')
	# The first export error, if any, goes under the table.
	grep -m1 'failed:' "$tmp/tracer.err" | sed "s|^|- $label: |" >>"$tmp/notes"
	[ "${spans:-0}" -gt 0 ] || echo "- $label: no spans: the probe was not in place when the load ran" >>"$tmp/notes"
	grep -q '^spanprobe: [0-9]* spans' "$tmp/tracer.err" || { log "$label: no summary:"; cat "$tmp/tracer.err" >&2; }
	echo "| $label | ${spans:-?} | ${lost:-?} | ${exported:-n/a} | ${wall:-?} s |" \
		"$(awk -v s="${spans:-0}" -v w="${wall:-0}" 'BEGIN { if (w > 0) printf "%.0f", s / w; else print "n/a" }') |" \
		"$cpu s | $(awk -v s="${delivered:-0}" -v c="$cpu" 'BEGIN { if (c > 0) printf "%.0f", s / c; else print "n/a" }') |" \
		"${hwm:-?} |" >>"$table2"
}

log "pipeline: jsonl to /dev/null"
pipeline_run '(b) ring buffer → span → jsonl to /dev/null' -o jsonl --output-file /dev/null

log "pipeline: OTLP/HTTP to a null sink"
sink_port=$(free_port)
"${pin_rest[@]}" "$BIN/otlp-null-sink" "$sink_port" 120 >"$tmp/sink.out" 2>&1 &
sink=$!
track "$sink"
if wait_for "$tmp/sink.out" '^listening' 10; then
	pipeline_run '(b) ring buffer → span → OTLP/HTTP to a null sink' -o otlp \
		--protocol http/protobuf --endpoint "http://127.0.0.1:$sink_port"
	# The same with a queue that never fills: the exporter's own pace.
	(
		export OTEL_BSP_MAX_QUEUE_SIZE=$((LOAD_THREADS * LOAD_CALLS))
		pipeline_run "(b) same, OTLP queue $((LOAD_THREADS * LOAD_CALLS)) (never full)" -o otlp \
			--protocol http/protobuf --endpoint "http://127.0.0.1:$sink_port"
	)
fi
kill -TERM "$sink" 2>/dev/null
wait_exit "$sink" 5
sink_requests=$(sed -n 's/^requests \([0-9]*\).*/\1/p' "$tmp/sink.out")

collector=$(scripts/build-peers.sh 2>"$tmp/peers.err" | sed -n 's/^COLLECTOR=//p')
collector_note=
if [ -x "$collector" ]; then
	grpc_port=$(free_port)
	http_port=$(free_port)
	[ "$http_port" = "$grpc_port" ] && http_port=$((grpc_port + 1))
	# The deployed config when there is one, its Jaeger leg cut (no Jaeger
	# runs here): otlp receiver -> batch -> debug exporter (a line per batch).
	if [ -f deploy/otel-collector.yaml ]; then
		col_args=(--config deploy/otel-collector.yaml --set 'service::pipelines::traces::exporters=[debug]')
		collector_note="the deployed Collector config with its exporters cut to \`debug\` (basic)"
	else
		col_args=(--config bench/otel-collector.yaml)
		collector_note="bench/otel-collector.yaml: otlp receiver → batch → \`debug\` (basic)"
	fi
	OTELCOL_OTLP_GRPC_ENDPOINT=127.0.0.1:$grpc_port OTELCOL_OTLP_HTTP_ENDPOINT=127.0.0.1:$http_port \
		OTELCOL_METRICS_LEVEL=none OTELCOL_DEBUG_VERBOSITY=basic \
		"${pin_rest[@]}" "$collector" "${col_args[@]}" >"$tmp/collector.log" 2>&1 &
	col=$!
	track "$col"
	if wait_for "$tmp/collector.log" 'Everything is ready' 30; then
		log "pipeline: OTLP/HTTP to the Collector"
		pipeline_run '(b) ring buffer → span → OTLP/HTTP to the Collector' -o otlp \
			--protocol http/protobuf --endpoint "http://127.0.0.1:$http_port"
		log "pipeline: OTLP/gRPC to the Collector"
		pipeline_run '(b) ring buffer → span → OTLP/gRPC to the Collector' -o otlp \
			--protocol grpc --endpoint "http://127.0.0.1:$grpc_port"
		# A steady 100,000 spans/s for 10 s with the default queue: the loss
		# goal is zero here, not under the burst above.
		for proto in grpc http/protobuf; do
			port=$grpc_port
			[ "$proto" = grpc ] || port=$http_port
			log "pipeline: steady 100,000 spans/s, OTLP $proto to the Collector"
			(
				LOAD_RATE=$((100000 / LOAD_THREADS))
				LOAD_CALLS=$((1000000 / LOAD_THREADS))
				pipeline_run "(c) steady 100,000 spans/s for 10 s → OTLP $proto to the Collector, default queue" \
					-o otlp --protocol "$proto" --endpoint "http://127.0.0.1:$port"
			)
		done
	else
		log "the Collector did not start:"
		tail -5 "$tmp/collector.log" >&2
		collector_note="the Collector did not start; no Collector rows"
	fi
	kill -TERM "$col" 2>/dev/null
	wait_exit "$col" 10
else
	log "no Collector binary (scripts/build-peers.sh failed); no Collector rows"
	cat "$tmp/peers.err" >&2
	collector_note="no Collector could be built; no Collector rows"
fi

# ---- the report -------------------------------------------------------------------
{
	echo "# spanprobe benchmarks"
	echo
	echo "Measured by \`make bench\` (bench/run.sh) on Linux $(uname -r), $(nproc) CPUs" \
		"($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)). Numbers, not pass/fail."
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
		"alone, without the reader's wake-ups."
	((bpftrace_ok)) || echo "bpftrace could not run here, so there is no baseline column."
	echo
	cat "$table1"
	echo
	echo "## 2. User-space pipeline throughput"
	echo
	echo "$LOAD_THREADS threads × $LOAD_CALLS calls of a traced function (5-byte-nop entry, the cheapest" \
		"probe) in one process, traced by spanprobe. \"delivered spans per CPU-second\" is spans" \
		"delivered (jsonl lines written, or spans OTLP exported)" \
		"divided by spanprobe's own CPU time (utime+stime from /proc) from attach until drained:" \
		"what one core sustains. The load itself is bounded by the uprobe's cost in the traced" \
		"threads, and its $LOAD_THREADS threads share the $(nproc) CPUs with spanprobe (and the" \
		"Collector): \"lost in kernel\" is the ring buffer filling while spanprobe waits for a CPU." \
		"So the wall rate" \
		"is the load's, not spanprobe's ceiling. OTLP batching: spanprobe's defaults" \
		"(queue 2048, batch 512), which drop spans when the queue is full, as the OpenTelemetry" \
		"batch processor does; one row raises the queue so nothing is dropped. Null sink: bench/otlp_null_sink.c (${sink_requests:-?} requests" \
		"answered). Collector: $collector_note."
	echo
	cat "$table2"
	if [ -s "$tmp/notes" ]; then
		echo
		echo "Errors spanprobe reported (first per run):"
		echo
		cat "$tmp/notes"
	fi
} >"$tmp/results.md"

cp "$tmp/results.md" "$RESULTS"
cat "$RESULTS"
log "written to $RESULTS"
