#!/usr/bin/env bash
# The collector failing under a running spanprobe, checked in the real
# Jaeger (tests/e2e/otlp_faults.sh covers a late start, 503 + Retry-After and
# an unreachable endpoint at shutdown):
#   collector_restart  the collector SIGKILLed mid-run and started again 2 s
#                      later on the same ports (gRPC): the spans made while it
#                      was down wait in the queue and arrive, each once
#   queue_overflow     the collector down while 300 spans are made over about
#                      6 s into a 30-span queue: a push into the full queue
#                      waits (at most half the time, the ring buffer holding
#                      what comes meanwhile), then what does not fit is
#                      counted as dropped; what fits is delivered once;
#                      exported + dropped = spans, and Jaeger holds exactly
#                      the exported ones
#   slow_collector     the first two requests held 3 s by a proxy, beyond a
#                      1 s OTEL_EXPORTER_OTLP_TIMEOUT: spanprobe gives up on
#                      each, retries, and every span arrives once
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/tests/lib/peers.sh"
scratch
faults_suite_start
UNIQUE=$$-$RANDOM
PROBE="uprobe:$DEMO:foo,goo,zoo"


# read_accounting NAME REQUESTS: spans, exported and dropped from the
# summary; every call made a span, and each span was exported or dropped.
read_accounting() {
	local name=$1 requests=$2
	spans=$(summary_spans "$SCRATCH/$name.err")
	exported=$(summary_field exported "$SCRATCH/$name.err")
	dropped=$(summary_field dropped "$SCRATCH/$name.err")
	echo "# $name: $spans spans, $exported exported, $dropped dropped"
	expect_eq "$name.spans_traced" "$spans" $((3 * requests))
	expect_eq "$name.exported_plus_dropped_is_every_span" $((${exported:-0} + ${dropped:-0})) "$spans"
}

# start_spanprobe NAME ENV... -- ARGS...: system-wide, in the background
# (SP_PID); returns once attached.
start_spanprobe() {
	local name=$1 envs=()
	shift
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	env "${envs[@]}" "$SPANPROBE" --ready-file "$SCRATCH/$name.ready" -o otlp --error 'goo:ret<0' \
		"$@" "$PROBE" >"$SCRATCH/$name.out" 2>"$SCRATCH/$name.err" &
	SP_PID=$!
	bg_track "$SP_PID"
	wait_for_line "$SCRATCH/$name.ready" "" 10
}

# stop_spanprobe NAME: SIGTERM; it must exit 0 (hang guard: 60 s, ten
# times the 5 s export timeout it may spend flushing).
stop_spanprobe() {
	local name=$1 i
	kill -TERM "$SP_PID"
	for ((i = 0; i < 600; i++)); do
		kill -0 "$SP_PID" 2>/dev/null || break
		sleep 0.1
	done
	check "$name.spanprobe_exits_on_sigterm" test "$i" -lt 600
	wait_or_fail "$SP_PID"
	expect_eq "$name.spanprobe_exit_status" "$?" 0
}


# jaeger_expect_spans NAME SERVICE N: Jaeger ends up with exactly N spans of
# SERVICE, no span twice (polls 15 s, then waits 1 s for late duplicates).
jaeger_expect_spans() {
	local name=$1 service=$2 n=$3 i got
	local url="$JAEGER_QUERY/api/traces?service=$service&limit=1000&lookback=1h"
	for ((i = 0; i < 60; i++)); do
		curl -sf -o "$SCRATCH/$name.json" "$url" &&
			got=$(jq '[.data[].spans[]] | length' "$SCRATCH/$name.json") &&
			[ "$got" = "$n" ] && break
		sleep 0.25
	done
	sleep 1
	curl -sf -o "$SCRATCH/$name.json" "$url"
	expect_eq "$name.jaeger_has_exactly_the_exported_spans_once" \
		"$(jq -r '[.data[].spans[].spanID] | "\(length) \(unique | length)"' "$SCRATCH/$name.json")" "$n $n"
}

collector_restart() {
	local name=collector_restart service=demo-app-collector-restart-$UNIQUE requests=40 app
	local grpc=${COLLECTOR_GRPC##*:} http=${COLLECTOR_HTTP##*:}
	if ! start_spanprobe "$name" OTEL_BSP_SCHEDULE_DELAY=200 -- --protocol grpc \
		--endpoint "http://$COLLECTOR_GRPC" --service-name "$service"; then
		fail "$name.spanprobe_started" "$(cat "$SCRATCH/$name.err")"
		return
	fi
	"$DEMO" --requests $requests --interval 100 --seed 31 --time-scale 0.002 --annotate >"$SCRATCH/$name.app" &
	app=$!
	wait_for_count "$SCRATCH/$name.app" "Zoo function completed" 10
	# Pause the app and wait until all it made so far is in Jaeger (export
	# every 0.2 s, the collector's batch 1 s): a collector's own loss of
	# spans it had accepted is not what this tests.
	kill -STOP "$app"
	done_so_far=$(grep -c "Zoo function completed" "$SCRATCH/$name.app")
	if ! jaeger_wait_traces "$service" "$done_so_far" $((3 * done_so_far)) "$SCRATCH/$name.before.json" 60; then
		kill -CONT "$app"
		fail "$name.spans_before_the_restart_in_jaeger" "see above"
		return
	fi
	kill -KILL "$COLLECTOR_PID"
	wait "$COLLECTOR_PID" 2>/dev/null
	kill -CONT "$app"
	# the restart comes once an export has failed against the dead collector
	wait_for_line "$SCRATCH/$name.err" "failed: .*retrying" 60
	if ! collector_start "$JAEGER_OTLP_GRPC" "$grpc" "$http"; then
		fail "$name.collector_restart" "see the log above"
		return
	fi
	wait_or_fail "$app" 120
	expect_eq "$name.app_exit_status" "$?" 0
	stop_spanprobe "$name" # flushes the queue
	check "$name.exports_failed_while_down" grep -q "failed: .*retrying" "$SCRATCH/$name.err"
	expect_eq "$name.summary_exported_all" "$(summary_field exported "$SCRATCH/$name.err")" $((3 * requests))
	expect_eq "$name.summary_dropped" "$(summary_field dropped "$SCRATCH/$name.err")" 0
	check_in_jaeger "$name" "$service" "$requests"
}

queue_overflow() {
	local name=queue_overflow service=demo-app-queue-overflow-$UNIQUE requests=100 app grpc http
	local spans exported dropped
	free_port grpc && free_port http
	if ! start_spanprobe "$name" OTEL_BSP_SCHEDULE_DELAY=200 OTEL_BSP_MAX_QUEUE_SIZE=30 \
		OTEL_BSP_MAX_EXPORT_BATCH_SIZE=10 -- --protocol grpc --endpoint "http://127.0.0.1:$grpc" \
		--service-name "$service"; then
		fail "$name.spanprobe_started" "$(cat "$SCRATCH/$name.err")"
		return
	fi
	"$DEMO" --requests $requests --interval 50 --seed 32 --time-scale 0.002 --annotate >"$SCRATCH/$name.app"
	expect_eq "$name.app_exit_status" "$?" 0
	if ! collector_start "$JAEGER_OTLP_GRPC" "$grpc" "$http"; then
		fail "$name.collector_start" "see the log above"
		return
	fi
	# The retried batch goes at its next backoff (5 s at most); SIGTERM then
	# flushes the rest of the queue.
	sleep 6
	stop_spanprobe "$name"
	read_accounting "$name" "$requests"
	check "$name.some_dropped_when_the_queue_was_full" test "${dropped:-0}" -gt 0
	check "$name.a_full_queue_delivered" test "${exported:-0}" -ge 30
	jaeger_expect_spans "$name" "$service" "$exported"
	peer_stop "$COLLECTOR_PID"
}

slow_collector() {
	local name=slow_collector service=demo-app-slow-collector-$UNIQUE requests=20
	local spans exported dropped
	if ! collector_start "$JAEGER_OTLP_GRPC"; then
		fail "$name.collector_start" "see the log above"
		return
	fi
	if ! fault_proxy_start "$SCRATCH/proxy.log" --delay 2 --delay-ms 3000 --upstream "$COLLECTOR_HTTP"; then
		fail "$name.proxy_start" "$(cat "$SCRATCH/proxy.log")"
		return
	fi
	OTEL_EXPORTER_OTLP_TIMEOUT=1000 OTEL_BSP_SCHEDULE_DELAY=500 "$SPANPROBE" -o otlp \
		--protocol http/protobuf --endpoint "http://127.0.0.1:$PROXY_PORT" \
		--service-name "$service" --error 'goo:ret<0' \
		-c "$DEMO --requests $requests --interval 100 --seed 33 --time-scale 0.002 --annotate" \
		"$PROBE" >"$SCRATCH/$name.app" 2>"$SCRATCH/$name.err"
	expect_eq "$name.exit_status" "$?" 0
	expect_eq "$name.proxy_dropped_both_abandoned_requests" "$(grep -c '^client-gone ' "$SCRATCH/proxy.log")" 2
	check "$name.every_forwarded_request_accepted" test "$(grep '^forwarded ' "$SCRATCH/proxy.log" | grep -vc ' 200$')" -eq 0
	check "$name.timeouts_reported" grep -q "no answer within 1000 ms" "$SCRATCH/$name.err"
	read_accounting "$name" "$requests"
	# OTEL_EXPORTER_OTLP_TIMEOUT bounds a batch's export, retries included
	# (as the Go SDK reads it): a batch whose request outlasts it is dropped.
	check "$name.timed_out_batches_counted_as_dropped" test "${dropped:-0}" -gt 0
	check "$name.later_batches_exported" test "${exported:-0}" -gt 0
	jaeger_expect_spans "$name" "$service" "$exported"
	peer_stop "$COLLECTOR_PID"
}

if collector_start "$JAEGER_OTLP_GRPC"; then
	collector_restart
	peer_stop "$COLLECTOR_PID"
else
	fail collector_restart.collector_start "see the log above"
fi
queue_overflow
slow_collector
