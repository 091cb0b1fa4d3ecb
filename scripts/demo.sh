#!/usr/bin/env bash
# `make demo`: trace demo-app's foo/goo/zoo from outside and show the spans
# twice: as a tree here, and in a real Jaeger, exported over OTLP/gRPC
# through a real OpenTelemetry Collector, all on this machine:
#   spanprobe --OTLP/gRPC 14317--> Collector (deploy/otel-collector.yaml) --OTLP/gRPC 4317--> Jaeger
# Jaeger keeps its default ports (UI and API on 16686). The peers stop at the
# end; DEMO_KEEP=1 leaves them running to browse. When the peers can't be
# built (no Go toolchain), the tree is all there is.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/demo_steps.sh

SPANPROBE=build/spanprobe
DEMO=build/demo-app
DEMO_CMD="$DEMO --requests 20 --time-scale 0.2"
STATE=build/demo
JAEGER_UI=http://localhost:16686
JAEGER_API=http://127.0.0.1:16686
PIDS_FILE=$STATE/peers.pids
keep=${DEMO_KEEP:-0}
jaeger_pid="" collector_pid=""


tree_only() {
	say "spanprobe -o tree (only; $1)"
	exec "$SPANPROBE" -o tree --error 'goo:ret<0' -c "$DEMO_CMD" "uprobe:$DEMO:foo,goo,zoo" </dev/null
}

stop_peers() {
	local pid i
	for pid in $collector_pid $jaeger_pid; do
		kill "$pid" 2>/dev/null || continue
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null # reap quietly: no "Killed" job notice
	done
	rm -f "$PIDS_FILE"
}

on_exit() {
	if [ "$keep" = 1 ] && [ -n "$jaeger_pid" ] && kill -0 "$jaeger_pid" 2>/dev/null; then
		echo "Jaeger and the Collector keep running (DEMO_KEEP=1): UI $JAEGER_UI"
		echo "Stop them with: kill $collector_pid $jaeger_pid   (PIDs also in $PIDS_FILE)"
	else
		stop_peers
	fi
}

port_busy() { ss -Htln "sport = :$1" 2>/dev/null | grep -q .; }

# wait_ready SECS PID COMMAND...: until COMMAND succeeds, while PID lives.
wait_ready() {
	local secs=$1 pid=$2 i
	shift 2
	for ((i = 0; i < secs * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || return 1
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

for tool in curl jq ss; do
	command -v "$tool" >/dev/null || tree_only "$tool is not installed; the Jaeger part needs curl, jq and ss"
done
# its progress lines (a first build takes minutes) go straight to the screen
if ! peers=$(scripts/build-peers.sh); then
	tree_only "the real Collector and Jaeger could not be built (reason above)"
fi
COLLECTOR=$(printf '%s\n' "$peers" | sed -n 's/^COLLECTOR=//p')
JAEGER=$(printf '%s\n' "$peers" | sed -n 's/^JAEGER=//p')

for port in 16686 4317 4318 14317 14318; do
	if port_busy "$port"; then
		echo "demo: port $port is already in use (a demo left running with DEMO_KEEP=1?" \
			"see $PIDS_FILE); stop it and run again" >&2
		exit 1
	fi
done

mkdir -p "$STATE"
trap on_exit EXIT
trap 'exit 130' INT TERM

say "starting Jaeger (all-in-one, memory storage; log: $STATE/jaeger.log)"
"$JAEGER" </dev/null >"$STATE/jaeger.log" 2>&1 &
jaeger_pid=$!
echo "$jaeger_pid" >"$PIDS_FILE"
if ! wait_ready 30 "$jaeger_pid" curl -sf -o /dev/null "$JAEGER_API/api/services" ||
	! wait_ready 10 "$jaeger_pid" port_open 4317; then
	echo "demo: Jaeger did not start; last lines of its log:" >&2
	tail -n 15 "$STATE/jaeger.log" >&2
	exit 1
fi

say "starting the OpenTelemetry Collector on 127.0.0.1:14317/14318 (log: $STATE/collector.log)"
OTELCOL_OTLP_GRPC_ENDPOINT=127.0.0.1:14317 OTELCOL_OTLP_HTTP_ENDPOINT=127.0.0.1:14318 \
	OTELCOL_JAEGER_ENDPOINT=127.0.0.1:4317 OTELCOL_METRICS_LEVEL=none \
	"$COLLECTOR" --config deploy/otel-collector.yaml </dev/null >"$STATE/collector.log" 2>&1 &
collector_pid=$!
echo "$collector_pid" >>"$PIDS_FILE"
if ! wait_ready 30 "$collector_pid" port_open 14317 ||
	! wait_ready 10 "$collector_pid" grep -q "Everything is ready" "$STATE/collector.log"; then
	echo "demo: the Collector did not start; last lines of its log:" >&2
	tail -n 15 "$STATE/collector.log" >&2
	exit 1
fi

start_us=$(($(date +%s%N) / 1000))
say "spanprobe -o otlp -o tree: $DEMO_CMD"
"$SPANPROBE" -o otlp -o tree --protocol grpc --endpoint http://127.0.0.1:14317 \
	--error 'goo:ret<0' -c "$DEMO_CMD" "uprobe:$DEMO:foo,goo,zoo" </dev/null
rc=$?
[ "$rc" -eq 0 ] || echo "demo: spanprobe exited $rc" >&2

# The collector batches for up to 1 s; wait for all 20 traces (bounded).
say "reading the traces back from Jaeger's API"
url="$JAEGER_API/api/traces?service=demo-app&start=$start_us&limit=1000"
traces=0 answer='{}'
for ((i = 0; i < 60; i++)); do
	answer=$(curl -sf "$url") && traces=$(jq '.data | length' <<<"$answer")
	[ "${traces:-0}" -ge 20 ] && break
	sleep 0.5
done
errors=$(jq '[.data[]? | select(any(.spans[]; any(.tags[]; .key == "error" and .value == true)))]
	| length' <<<"$answer")
spans=$(jq '[.data[]?.spans[]] | length' <<<"$answer")
echo "Jaeger at $JAEGER_UI (service demo-app) holds from this run:"
echo "  $traces traces (want 20), $spans spans, $errors traces with an error (goo returned < 0)"
echo "  API: curl '$url'"
echo "  (a Jaeger built from its Go module serves a placeholder page instead of the UI;"
echo "   the API above, which the UI reads, is complete)"
[ "$traces" -ge 20 ] || { echo "demo: Jaeger did not receive every trace" >&2; exit 1; }
exit "$rc"
