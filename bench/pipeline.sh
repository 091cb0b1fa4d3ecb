# Sections 2 and 3 of bench/run.sh (sourced): spans per CPU-second of
# spanprobe's user space (the encoder alone; ring buffer -> span -> jsonl /
# OTLP to a null sink and to the Collector, under a burst), and the steady
# 100,000 spans/s export into the real Collector with the default settings.
# Writes $tmp/table2.md, $tmp/table3.md and rows of the table of goals.
# shellcheck shell=bash

LOAD_THREADS=${BENCH_LOAD_THREADS:-4}
LOAD_CALLS=${BENCH_LOAD_CALLS:-250000}   # per thread
STEADY_RATE=${BENCH_STEADY_RATE:-100000} # spans/s, all threads together
STEADY_SECONDS=${BENCH_STEADY_SECONDS:-10}
STEADY_REPS=${BENCH_STEADY_REPS:-3}
RSS_GOAL_MIB=32

table2=$tmp/table2.md
{
	echo "| pipeline | spans received | lost in kernel | OTLP exported / dropped | load wall time | spans/s received (wall) | spanprobe CPU | delivered spans per CPU-second | peak RSS |"
	echo "|---|---|---|---|---|---|---|---|---|"
} >"$table2"
table3=$tmp/table3.md
{
	echo "| protocol, run | spans traced | lost in kernel | OTLP exported / dropped | peak RSS | TCP connections to the Collector | CPU per million spans: spanprobe | the Collector | the traced load | all three | spans/s $(nproc) CPUs could carry at that cost |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|"
} >"$table3"

# Not pinned: pinning spanprobe to a core of its own and the load to the
# other lost more spans in the kernel here, not fewer. Set BENCH_PIN=1 to try.
pin_tracer=() pin_rest=()
if [ "${BENCH_PIN:-0}" = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
	pin_tracer=(taskset -c "$(($(nproc) - 1))")
	pin_rest=(taskset -c "0-$(($(nproc) - 2))")
fi

# pipeline_run LABEL SPANPROBE_ARGS...: one load run traced by spanprobe.
# With COLLECTOR_PID and COLLECTOR_PORT set, the Collector's CPU time over the
# run and the TCP connections it was given are measured too. Leaves the
# figures in run_* variables; the caller writes the row.
pipeline_run() {
	local label=$1 load tracer a b ca cb la lb prev i
	shift
	run_spans= run_lost= run_exported= run_dropped= run_wall= run_cpu= run_hwm=
	run_col_cpu= run_conns= run_load_cpu=
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
	[ -n "${COLLECTOR_PORT:-}" ] && tcp_peers "$COLLECTOR_PORT" >"$tmp/peers.before"
	a=$(cpu_ticks "$tracer")
	la=$(cpu_ticks "$load")
	[ -n "${COLLECTOR_PID:-}" ] && ca=$(cpu_ticks "$COLLECTOR_PID")
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
	[ -n "${COLLECTOR_PID:-}" ] && cb=$(cpu_ticks "$COLLECTOR_PID")
	lb=$(cpu_ticks "$load")
	run_hwm=$(awk '/^VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$tracer/status")
	kill -USR1 "$load"
	wait_exit "$load" 10
	wait_exit "$tracer" 40 || log "$label: spanprobe had to be stopped"
	if [ -n "${COLLECTOR_PORT:-}" ]; then
		run_conns=$(tcp_peers "$COLLECTOR_PORT" | comm -13 "$tmp/peers.before" - | wc -l)
	fi
	run_wall=$(awk '/^done/ { print $5 }' "$tmp/load.out")
	# (the last summary line: only this run's spanprobe writes there)
	run_spans=$(sed -n 's/^spanprobe: \([0-9]*\) spans.*/\1/p' "$tmp/tracer.err" | tail -n 1)
	run_lost=$(sed -n 's/^spanprobe: [0-9]* spans.*; lost \([0-9]*\) .*/\1/p' "$tmp/tracer.err" | tail -n 1)
	run_exported=$(sed -n 's/^spanprobe: [0-9]* spans.*OTLP exported \([0-9]*\), dropped.*/\1/p' "$tmp/tracer.err" | tail -n 1)
	run_dropped=$(sed -n 's/^spanprobe: [0-9]* spans.*OTLP exported [0-9]*, dropped \([0-9]*\).*/\1/p' "$tmp/tracer.err" | tail -n 1)
	run_cpu=$(ticks_to_s $((b - a)))
	run_load_cpu=$(ticks_to_s $((lb - la)))
	[ -n "${ca:-}" ] && [ -n "${cb:-}" ] && run_col_cpu=$(ticks_to_s $((cb - ca)))
	# The first export error, if any, goes under the tables.
	grep -m1 'failed:' "$tmp/tracer.err" | sed "s|^|- $label: |" >>"$tmp/notes"
	[ "${run_spans:-0}" -gt 0 ] || echo "- $label: no spans: the probe was not in place when the load ran" >>"$tmp/notes"
	grep -q '^spanprobe: [0-9]* spans' "$tmp/tracer.err" || { log "$label: no summary:"; cat "$tmp/tracer.err" >&2; }
}

per_s() { awk -v s="${1:-0}" -v w="${2:-0}" 'BEGIN { if (w > 0) printf "%.0f", s / w; else print "n/a" }'; }
per_million() { awk -v c="$1" -v n="${2:-0}" 'BEGIN { if (c != "" && n > 0) printf "%.2f s", c * 1e6 / n; else print "n/a" }'; }

# burst_row LABEL SPANPROBE_ARGS...: a pipeline_run and its row of table 2.
burst_row() {
	local label=$1 exported delivered
	pipeline_run "$@"
	exported=n/a
	[ -n "$run_exported" ] && exported="$run_exported / $run_dropped"
	delivered=${run_exported:-$run_spans}
	echo "| $label | ${run_spans:-?} | ${run_lost:-?} | $exported | ${run_wall:-?} s |" \
		"$(per_s "$run_spans" "$run_wall") | ${run_cpu:-?} s | $(per_s "$delivered" "$run_cpu") |" \
		"${run_hwm:-?} MiB |" >>"$table2"
}

# BENCH_STEADY_ONLY=1: section 3 alone (a quicker check of the export).
if [ "${BENCH_STEADY_ONLY:-0}" != 1 ]; then
	log "pipeline: encoder alone"
	"$BIN/otlp-encode-bench" >"$tmp/encode.out" 2>&1
	enc_rate=$(sed -n 's/.* = \([0-9]*\) spans\/s.*/\1/p' "$tmp/encode.out")
	enc_bytes=$(sed -n 's/.*, \([0-9]*\) bytes\/span).*/\1/p' "$tmp/encode.out")
	echo "| (a) OTLP encode only (512-span requests, ${enc_bytes:-?} B/span) | | | | | | | ${enc_rate:-n/a} | |" >>"$table2"

	log "pipeline: jsonl to /dev/null"
	burst_row '(b) ring buffer → span → jsonl to /dev/null' -o jsonl --output-file /dev/null

	log "pipeline: OTLP/HTTP to a null sink"
	sink_port=$(free_port)
	"${pin_rest[@]}" "$BIN/otlp-null-sink" "$sink_port" 120 >"$tmp/sink.out" 2>&1 &
	sink=$!
	track "$sink"
	if wait_for "$tmp/sink.out" '^listening' 10; then
		burst_row '(b) ring buffer → span → OTLP/HTTP to a null sink' -o otlp \
			--protocol http/protobuf --endpoint "http://127.0.0.1:$sink_port"
		# The same with a queue that never fills: the exporter's own pace.
		(
			export OTEL_BSP_MAX_QUEUE_SIZE=$((LOAD_THREADS * LOAD_CALLS))
			burst_row "(b) same, OTLP queue $((LOAD_THREADS * LOAD_CALLS)) (never full)" -o otlp \
				--protocol http/protobuf --endpoint "http://127.0.0.1:$sink_port"
		)
	fi
	kill -TERM "$sink" 2>/dev/null
	wait_exit "$sink" 5
	sink_requests=$(sed -n 's/^requests \([0-9]*\).*/\1/p' "$tmp/sink.out")
fi

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
		if [ "${BENCH_STEADY_ONLY:-0}" != 1 ]; then
			log "pipeline: OTLP/HTTP to the Collector"
			burst_row '(b) ring buffer → span → OTLP/HTTP to the Collector' -o otlp \
				--protocol http/protobuf --endpoint "http://127.0.0.1:$http_port"
			log "pipeline: OTLP/gRPC to the Collector"
			burst_row '(b) ring buffer → span → OTLP/gRPC to the Collector' -o otlp \
				--protocol grpc --endpoint "http://127.0.0.1:$grpc_port"
		fi
		# A steady rate with the default settings: the loss goal is zero
		# here, not under the burst above.
		# The floor: the same load and tracer with no exporter at all.
		log "steady: $STEADY_RATE spans/s for $STEADY_SECONDS s, jsonl to /dev/null (no exporter)"
		LOAD_RATE=$((STEADY_RATE / LOAD_THREADS)) LOAD_CALLS=$((STEADY_RATE * STEADY_SECONDS / LOAD_THREADS)) \
			pipeline_run "steady jsonl" -o jsonl --output-file /dev/null
		echo "| jsonl to /dev/null (no exporter) | ${run_spans:-?} | ${run_lost:-?} | n/a | ${run_hwm:-?} MiB | | $(per_million "$run_cpu" "$run_spans") | | $(per_million "$run_load_cpu" "$run_spans") | | |" >>"$table3"
		summary_row "the same load with no exporter (jsonl to /dev/null): spanprobe's peak RSS, for reference" \
			"${run_hwm:-?} MiB" "" ""
		for proto in grpc http/protobuf; do
			port=$grpc_port
			[ "$proto" = grpc ] || port=$http_port
			offered=$((STEADY_RATE * STEADY_SECONDS))
			worst_exported= worst_run= worst_hwm=
			for ((rep = 1; rep <= STEADY_REPS; rep++)); do
				log "steady: $STEADY_RATE spans/s for $STEADY_SECONDS s, OTLP $proto to the Collector, run $rep"
				LOAD_RATE=$((STEADY_RATE / LOAD_THREADS)) LOAD_CALLS=$((offered / LOAD_THREADS)) \
					COLLECTOR_PID=$col COLLECTOR_PORT=$port \
					pipeline_run "steady $proto run $rep" -o otlp --protocol "$proto" \
					--endpoint "http://127.0.0.1:$port"
				all=$(awk -v a="$run_cpu" -v b="$run_col_cpu" -v c="$run_load_cpu" 'BEGIN { print a + b + c }')
				echo "| $proto, $rep | ${run_spans:-?} | ${run_lost:-?} | ${run_exported:-?} / ${run_dropped:-?} |" \
					"${run_hwm:-?} MiB | ${run_conns:-?} | $(per_million "$run_cpu" "$run_spans") |" \
					"$(per_million "$run_col_cpu" "$run_spans") | $(per_million "$run_load_cpu" "$run_spans") |" \
					"$(per_million "$all" "$run_spans") |" \
					"$(awk -v c="$all" -v n="${run_spans:-0}" -v p="$(nproc)" 'BEGIN { if (c > 0) printf "%.0f", p * n / c; else print "n/a" }') |" >>"$table3"
				if [ -z "$worst_exported" ] || [ "${run_exported:-0}" -lt "$worst_exported" ]; then
					worst_exported=${run_exported:-0}
					worst_run="${run_exported:-?} of $offered (${run_dropped:-?} dropped, ${run_lost:-?} lost in kernel)"
				fi
				[ -z "$worst_hwm" ] || [ "${run_hwm:-0}" -gt "$worst_hwm" ] && worst_hwm=${run_hwm:-0}
			done
			summary_row "steady $STEADY_RATE spans/s for $STEADY_SECONDS s, OTLP $proto, default settings: spans exported (worst of $STEADY_REPS runs)" \
				"$worst_run" "≥ $offered" "$(goal_ratio "$worst_exported" "≥ $offered")"
			summary_row "the same runs: spanprobe's peak RSS (highest)" "$worst_hwm MiB" "≤ $RSS_GOAL_MIB MiB" \
				"$(goal_ratio "$worst_hwm" "≤ $RSS_GOAL_MIB")"
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
