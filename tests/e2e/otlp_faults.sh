#!/usr/bin/env bash
# The OTLP exporter when the peer misbehaves, proven against the real
# Collector and Jaeger:
#   late_collector  the collector starts ~2 s after spanprobe: the queue holds
#                   the spans, retries deliver every one of them
#   retry_after     an endpoint answering 503 + Retry-After three times, then
#                   the real collector: retried, waited, delivered once
#   shutdown        an endpoint that refuses or never answers when spanprobe
#                   gets SIGTERM: it exits within OTEL_BSP_EXPORT_TIMEOUT (even
#                   with a request in flight) and counts every span it could
#                   not deliver as dropped
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/tests/lib/peers.sh"
scratch
faults_suite_start
UNIQUE=$$-$RANDOM



# (a) Nothing listens when spanprobe starts; spans queue up (exports every
# 0.5 s fail and retry) until the collector comes up 2 s later.
late_collector() {
	local name=late_collector-$1 protocol=$2 grpc http sp rc requests=30
	local service=demo-app-$name-$UNIQUE endpoint
	free_port grpc && free_port http
	if [ "$protocol" = grpc ]; then endpoint=http://127.0.0.1:$grpc; else endpoint=http://127.0.0.1:$http; fi
	OTEL_BSP_SCHEDULE_DELAY=500 "$SPANPROBE" -o otlp --protocol "$protocol" --endpoint "$endpoint" \
		--service-name "$service" --error 'goo:ret<0' \
		-c "$DEMO --requests $requests --interval 100 --seed 21 --time-scale 0.002 --annotate" \
		"uprobe:$DEMO:foo,goo,zoo" >"$SCRATCH/$name.app" 2>"$SCRATCH/$name.err" &
	sp=$!
	bg_track "$sp"
	# the Collector comes up once an export has been refused (hang guard:
	# 30 s, about 50x the usual)
	if ! wait_for_line "$SCRATCH/$name.err" "connection refused" 30; then
		fail "$name.export_failed_first" "hang guard: no refused export in 30 s: $(tail -n 3 "$SCRATCH/$name.err")"
		return
	fi
	if ! collector_start "$JAEGER_OTLP_GRPC" "$grpc" "$http"; then
		fail "$name.collector_start" "see the log above"
		return
	fi
	wait_or_fail "$sp"
	rc=$?
	expect_eq "$name.exit_status" "$rc" 0
	check "$name.export_failed_first" grep -q "connection refused" "$SCRATCH/$name.err"
	expect_eq "$name.summary_exported" "$(summary_field exported "$SCRATCH/$name.err")" $((3 * requests))
	expect_eq "$name.summary_dropped" "$(summary_field dropped "$SCRATCH/$name.err")" 0
	check "$name.summary_retried" test "$(summary_field retries "$SCRATCH/$name.err")" -gt 0
	check_in_jaeger "$name" "$service" "$requests"
	peer_stop "$COLLECTOR_PID"
}

# (b) 503 with Retry-After: 1, three times, then the real collector.
retry_after() {
	local name=retry_after rc t0 t1 requests=30
	local service=demo-app-$name-$UNIQUE
	if ! collector_start "$JAEGER_OTLP_GRPC"; then
		fail "$name.collector_start" "see the log above"
		return
	fi
	if ! fault_proxy_start "$SCRATCH/proxy.log" --fail 3 --retry-after 1 --upstream "$COLLECTOR_HTTP"; then
		fail "$name.proxy_start" "$(cat "$SCRATCH/proxy.log")"
		return
	fi
	t0=$(now_ms)
	"$SPANPROBE" -o otlp --protocol http/protobuf --endpoint "http://127.0.0.1:$PROXY_PORT" \
		--service-name "$service" --error 'goo:ret<0' \
		-c "$DEMO --requests $requests --seed 23 --time-scale 0.002 --annotate" \
		"uprobe:$DEMO:foo,goo,zoo" >"$SCRATCH/$name.app" 2>"$SCRATCH/$name.err"
	rc=$?
	t1=$(now_ms)
	echo "# $name: spanprobe ran $((t1 - t0)) ms"
	expect_eq "$name.exit_status" "$rc" 0
	# One batch: three 503s, one forwarded request the collector accepted.
	expect_eq "$name.proxy_answered_503" "$(grep -c '^503 ' "$SCRATCH/proxy.log")" 3
	expect_eq "$name.proxy_forwarded_once_with_200" "$(grep '^forwarded ' "$SCRATCH/proxy.log" | cut -d' ' -f3 | tr '\n' ' ')" "200 "
	check "$name.no_other_requests" test "$(grep -vc '^\(listening\|503\|forwarded\) ' "$SCRATCH/proxy.log")" -eq 0
	expect_eq "$name.summary_retries" "$(summary_field retries "$SCRATCH/$name.err")" 3
	expect_eq "$name.summary_exported" "$(summary_field exported "$SCRATCH/$name.err")" $((3 * requests))
	expect_eq "$name.summary_dropped" "$(summary_field dropped "$SCRATCH/$name.err")" 0
	# Three waits of Retry-After: 1 s (its own backoff would be ~0.1-0.4 s).
	check "$name.waited_retry_after" test $((t1 - t0)) -ge 3000
	check_in_jaeger "$name" "$service" "$requests"
	peer_stop "$COLLECTOR_PID"
}

# (c) SIGTERM while the endpoint refuses or never answers: spanprobe gives up
# at the 2 s export timeout (not the 10 s request timeout) and counts every
# undelivered span as dropped. Exports every 0.5 s, so with a hanging
# endpoint a request is waiting when the signal comes. The wait is a hang
# guard only (30 s, ten times the usual 2-3 s); giving up is checked by what
# spanprobe says, not by the clock.
shutdown() {
	local name=shutdown-$1 protocol=$2 endpoint=$3 sp t0 t1 spans
	OTEL_BSP_EXPORT_TIMEOUT=2000 OTEL_BSP_SCHEDULE_DELAY=500 \
		"$SPANPROBE" -o otlp --protocol "$protocol" --endpoint "$endpoint" \
		--service-name "demo-app-$name-$UNIQUE" \
		-c "$DEMO --requests 100000 --interval 5 --time-scale 0.002 --annotate" \
		"uprobe:$DEMO:foo,goo,zoo" >"$SCRATCH/$name.app" 2>"$SCRATCH/$name.err" &
	sp=$!
	bg_track "$sp"
	# stopped once traced calls have been made (hang guard: 30 s)
	if ! wait_for_line "$SCRATCH/$name.app" "req=20 .*Zoo function completed" 30; then
		fail "$name.traced_calls_made" "hang guard: 20 requests not made in 30 s: $(tail -n 3 "$SCRATCH/$name.err")"
		kill -KILL "$sp"
		return
	fi
	t0=$(now_ms)
	kill -TERM "$sp"
	if ! wait_exit "$sp" 30; then
		fail "$name.exits_after_sigterm" "hang guard: still running 30 s after SIGTERM"
		return
	fi
	t1=$(now_ms)
	echo "# $name: exited $((t1 - t0)) ms after SIGTERM"
	# a request left hanging is abandoned at the export timeout, not the
	# request timeout (a refused endpoint has no request to abandon)
	if [[ $1 == hang* ]]; then
		# either the shutdown deadline aborted it, or the request's own
		# timeout, shortened to what was left of that deadline (on a busy
		# machine any part of it), ended it: both by 2 s, never the request
		# timeout of its own
		grep -Eq "shutdown timeout reached|no answer within ([1-9][0-9]{0,2}|1[0-9]{3}|2000) ms" "$SCRATCH/$name.err" &&
			pass "$name.abandoned_at_the_export_timeout" ||
			fail "$name.abandoned_at_the_export_timeout" "$(cat "$SCRATCH/$name.err")"
	fi
	spans=$(sed -n 's/^spanprobe: \([0-9]*\) spans .*/\1/p' "$SCRATCH/$name.err")
	check "$name.traced_spans" test "${spans:-0}" -gt 0
	expect_eq "$name.summary_exported" "$(summary_field exported "$SCRATCH/$name.err")" 0
	expect_eq "$name.summary_dropped_every_span" "$(summary_field dropped "$SCRATCH/$name.err")" "$spans"
}

late_collector grpc grpc
late_collector http http/protobuf
retry_after

free_port refused
shutdown refused-grpc grpc "http://127.0.0.1:$refused"
if fault_proxy_start "$SCRATCH/hang.log" --hang; then
	shutdown hang-grpc grpc "http://127.0.0.1:$PROXY_PORT"
	shutdown hang-http http/protobuf "http://127.0.0.1:$PROXY_PORT"
else
	fail hang_proxy_start "$(cat "$SCRATCH/hang.log")"
fi
