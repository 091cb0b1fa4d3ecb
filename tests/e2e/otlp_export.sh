#!/usr/bin/env bash
# The issue's promise end to end: demo-app traced by spanprobe, exported over
# OTLP (gRPC and HTTP/protobuf) through the real Collector, and read back
# from the real Jaeger's API: every request one trace, errors exactly where
# the app reported them, the process described by resource attributes.
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/tests/lib/peers.sh"
scratch
peers_build peers || exit 0

REQUESTS=50
UNIQUE=$$-$RANDOM

if ! jaeger_start; then
	fail jaeger_start "see the log above"
	exit 1
fi
if ! collector_start "$JAEGER_OTLP_GRPC"; then
	fail collector_start "see the log above"
	exit 1
fi

# The spans the Collector received so far, by its debug exporter's log.
collector_spans_received() {
	sed -n 's/.*"spans": \([0-9]*\).*/\1/p' "$SCRATCH"/collector-*.log | awk '{ s += $1 } END { print s + 0 }'
}

# export_demo NAME PROTOCOL ENDPOINT SEED [BATCH]: one traced run, checked in
# Jaeger. BATCH sets OTEL_BSP_MAX_EXPORT_BATCH_SIZE (default 512: one request).
export_demo() {
	local name=$1 protocol=$2 endpoint=$3 seed=$4 batch=${5:-512} rc
	local service=demo-app-$name-$UNIQUE received_before
	received_before=$(collector_spans_received)
	OTEL_BSP_MAX_EXPORT_BATCH_SIZE=$batch "$SPANPROBE" -o otlp --protocol "$protocol" --endpoint "$endpoint" \
		--service-name "$service" --error 'goo:ret<0' \
		-c "$DEMO --requests $REQUESTS --seed $seed --time-scale 0.002 --annotate" \
		"uprobe:$DEMO:foo,goo,zoo" >"$SCRATCH/$name.app" 2>"$SCRATCH/$name.err"
	rc=$?
	expect_eq "$name.exit_status" "$rc" 0
	check "$name.summary_exported_all" \
		grep -q "OTLP exported $((3 * REQUESTS)), dropped 0, rejected 0" "$SCRATCH/$name.err"
	if ! jaeger_wait_traces "$service" "$REQUESTS" $((3 * REQUESTS)) "$SCRATCH/$name.json" 30; then
		fail "$name.jaeger_has_every_trace" "$(tail -n 3 "$SCRATCH/$name.err")"
		return
	fi
	pass "$name.jaeger_has_every_trace"
	# Jaeger drops a span it already holds, so a span sent twice shows only
	# where the Collector counts what it received (its debug exporter's log)
	if [[ $endpoint == *"$COLLECTOR_GRPC"* || $endpoint == *"$COLLECTOR_HTTP"* ]]; then
		expect_eq "$name.collector_received_each_span_once" \
			"$(($(collector_spans_received) - received_before))" $((3 * REQUESTS))
	fi
	report_checks "$name" tests/lib/check_demo_spans.sh jaeger "$SCRATCH/$name.json" "$SCRATCH/$name.app" \
		"$REQUESTS"
	check_resource "$name" "$service" "$SCRATCH/$name.json"
}

# The resource, as Jaeger shows it: one process per trace, service.name as
# its serviceName, the rest as tags.
check_resource() {
	local name=$1 service=$2 json=$3 pid
	check "$name.resource.service_name" \
		jq -e --arg s "$service" '[.data[].processes[]] | length > 0 and all(.serviceName == $s)' "$json"
	for key in host.name process.pid process.executable.name; do
		check "$name.resource.$key" \
			jq -e --arg k "$key" '[.data[].processes[]] | all(any(.tags[]; .key == $k))' "$json"
	done
	pid=$(jq -r '[.data[].processes[].tags[] | select(.key == "process.pid") | .value] | unique | join(" ")' "$json")
	check "$name.resource.process_pid_is_a_number" test -n "$pid" -a -z "${pid//[0-9]/}"
	check "$name.resource.host_name_is_this_host" \
		jq -e --arg h "$(hostname)" '[.data[].processes[].tags[] | select(.key == "host.name") | .value] | unique == [$h]' "$json"
	check "$name.resource.executable_is_demo-app" \
		jq -e '[.data[].processes[].tags[] | select(.key == "process.executable.name") | .value] | unique == ["demo-app"]' "$json"
}

export_demo collector-grpc grpc "http://$COLLECTOR_GRPC" 3
export_demo collector-http http/protobuf "http://$COLLECTOR_HTTP" 5
# Straight to Jaeger's own OTLP receiver, no collector between, in batches
# of 32: several requests over one connection (libcurl < 8 broke reused
# HTTP/2 prior-knowledge connections; every gRPC export after the first failed).
export_demo jaeger-grpc grpc "http://$JAEGER_OTLP_GRPC" 7 32
export_demo jaeger-http http/protobuf "http://$JAEGER_OTLP_HTTP" 9 32
