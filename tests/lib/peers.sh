# Real peers for the end-to-end tests: Jaeger v2 and the OpenTelemetry
# Collector, built by scripts/build-peers.sh, run on loopback on free ports.
# Source after common.sh, call `scratch` first (logs go to $SCRATCH).
#   peers_build NAME || exit 0     find the binaries; SKIP NAME when they can't be built
#   faults_suite_start             peers built, the fault proxy there and Jaeger
#                                  running, or the suite ends (SKIP or FAIL line)
#   jaeger_start                   sets JAEGER_PID, JAEGER_QUERY (http://host:port),
#                                  JAEGER_OTLP_GRPC, JAEGER_OTLP_HTTP (host:port)
#   collector_start UPSTREAM [GRPC_PORT [HTTP_PORT]]
#                                  deploy/otel-collector.yaml (or $COLLECTOR_CONFIG) exporting to UPSTREAM
#                                  (host:port, OTLP/gRPC); sets COLLECTOR_PID,
#                                  COLLECTOR_GRPC, COLLECTOR_HTTP (host:port)
#   peer_stop PID                  SIGTERM, then SIGKILL after 5 s
#   jaeger_wait_traces SERVICE N SPANS OUT [SECS]
#                                  poll /api/traces until SERVICE has N traces and
#                                  SPANS spans (or SECS pass), save the JSON in OUT
#   free_port VAR                  sets VAR to an unused loopback TCP port
# shellcheck shell=bash

PEERS_TIMEOUT=${PEERS_TIMEOUT:-20} # seconds for a peer to become ready
USED_PORTS=""

peers_build() {
	local name=$1 out
	if ! out=$("$ROOT/scripts/build-peers.sh" 2>&1); then
		skip "$name" "the real Collector and Jaeger can't be built: $(printf '%s' "$out" | tail -n 1)"
		return 1
	fi
	COLLECTOR=$(printf '%s\n' "$out" | sed -n 's/^COLLECTOR=//p')
	JAEGER=$(printf '%s\n' "$out" | sed -n 's/^JAEGER=//p')
	if [ ! -x "$COLLECTOR" ] || [ ! -x "$JAEGER" ]; then
		skip "$name" "scripts/build-peers.sh printed no usable binaries: $out"
		return 1
	fi
	command -v curl >/dev/null && command -v jq >/dev/null || {
		skip "$name" "curl and jq are needed to read Jaeger's API"
		return 1
	}
}

faults_suite_start() {
	peers_build peers || exit 0
	if [ ! -x "$FAULT_PROXY" ]; then
		fail proxy_built "$FAULT_PROXY missing (make fixtures)"
		exit 1
	fi
	if ! jaeger_start; then
		fail jaeger_start "see the log above"
		exit 1
	fi
}

port_in_use() { ss -Htln "sport = :$1" 2>/dev/null | grep -q .; }

# A random port not listening now and not handed out before in this test (a
# peer may not have bound the last one yet), below the kernel's ephemeral
# range: there a client's source port could take it first, or a retried
# connect to a port nobody listens on yet could connect to itself. Sets the
# variable named $1: a $(...) subshell would forget USED_PORTS.
free_port() {
	local p i low=32768 high
	read -r low high </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null
	[ "$low" -gt 12000 ] || low=32768
	for ((i = 0; i < 200; i++)); do
		p=$((10000 + RANDOM % (low - 10000)))
		[[ " $USED_PORTS " == *" $p "* ]] && continue
		port_in_use "$p" && continue
		USED_PORTS="$USED_PORTS $p"
		printf -v "$1" '%s' "$p"
		return 0
	done
	return 1
}

# wait_port HOST:PORT SECS PID: the port accepts connections while PID lives.
wait_port() {
	local addr=$1 secs=$2 pid=$3 i
	for ((i = 0; i < secs * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || return 1
		(exec 3<>"/dev/tcp/${addr%:*}/${addr##*:}") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

jaeger_start() {
	local http grpc otlp_grpc otlp_http i
	free_port http && free_port grpc && free_port otlp_grpc && free_port otlp_http || return 1
	JAEGER_OTLP_GRPC=127.0.0.1:$otlp_grpc
	JAEGER_OTLP_HTTP=127.0.0.1:$otlp_http
	JAEGER_QUERY=http://127.0.0.1:$http
	JAEGER_QUERY_HTTP_ENDPOINT=127.0.0.1:$http JAEGER_QUERY_GRPC_ENDPOINT=127.0.0.1:$grpc \
		JAEGER_OTLP_GRPC_ENDPOINT=$JAEGER_OTLP_GRPC JAEGER_OTLP_HTTP_ENDPOINT=$JAEGER_OTLP_HTTP \
		"$JAEGER" --config "$ROOT/tests/lib/jaeger.yaml" >>"$SCRATCH/jaeger.log" 2>&1 &
	JAEGER_PID=$!
	bg_track "$JAEGER_PID"
	for ((i = 0; i < PEERS_TIMEOUT * 10; i++)); do
		kill -0 "$JAEGER_PID" 2>/dev/null || break
		if curl -sf -o /dev/null "$JAEGER_QUERY/api/services" &&
			wait_port "$JAEGER_OTLP_GRPC" 1 "$JAEGER_PID" &&
			wait_port "$JAEGER_OTLP_HTTP" 1 "$JAEGER_PID"; then
			return 0
		fi
		sleep 0.1
	done
	echo "jaeger did not become ready in ${PEERS_TIMEOUT} s; its log:" >&2
	tail -n 20 "$SCRATCH/jaeger.log" >&2
	return 1
}

collector_start() {
	local upstream=$1 grpc=${2:-} http=${3:-} log
	[ -n "$grpc" ] || free_port grpc || return 1
	[ -n "$http" ] || free_port http || return 1
	# One log per collector, so "ready" is this one's.
	COLLECTOR_STARTS=$((${COLLECTOR_STARTS:-0} + 1))
	log=$SCRATCH/collector-$COLLECTOR_STARTS.log
	COLLECTOR_GRPC=127.0.0.1:$grpc
	COLLECTOR_HTTP=127.0.0.1:$http
	OTELCOL_OTLP_GRPC_ENDPOINT=$COLLECTOR_GRPC OTELCOL_OTLP_HTTP_ENDPOINT=$COLLECTOR_HTTP \
		OTELCOL_JAEGER_ENDPOINT=$upstream OTELCOL_METRICS_LEVEL=none \
		"$COLLECTOR" --config "${COLLECTOR_CONFIG:-$ROOT/deploy/otel-collector.yaml}" >"$log" 2>&1 &
	COLLECTOR_PID=$!
	bg_track "$COLLECTOR_PID"
	if wait_port "$COLLECTOR_GRPC" "$PEERS_TIMEOUT" "$COLLECTOR_PID" &&
		wait_port "$COLLECTOR_HTTP" "$PEERS_TIMEOUT" "$COLLECTOR_PID" &&
		wait_for_line "$log" "Everything is ready" "$PEERS_TIMEOUT"; then
		return 0
	fi
	echo "the collector (ports $grpc, $http) did not become ready in ${PEERS_TIMEOUT} s; its log:" >&2
	tail -n 20 "$log" >&2
	return 1
}

peer_stop() {
	local pid=$1 i
	kill "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# jaeger_count FILE: "traces spans" in a saved /api/traces answer.
jaeger_count() {
	jq -r '"\(.data // [] | length) \([.data[]?.spans[]] | length)"' "$1" 2>/dev/null || echo "0 0"
}

jaeger_wait_traces() {
	local service=$1 n=$2 spans=$3 out=$4 secs=${5:-30} i got
	# A limit above N, so extra traces (duplicates, strays) show.
	local url="$JAEGER_QUERY/api/traces?service=$service&limit=$((2 * n + 10))&lookback=1h"
	for ((i = 0; i < secs * 4 * HANG_SCALE; i++)); do
		if curl -sf -o "$out" "$url"; then
			got=$(jaeger_count "$out")
			if [ "$got" = "$n $spans" ]; then
				# Settle: late duplicates would land now.
				sleep 1
				curl -sf -o "$out" "$url"
				return 0
			fi
		fi
		sleep 0.25
	done
	echo "Jaeger has '$(jaeger_count "$out")' (traces spans) for $service after $secs s, want '$n $spans'" \
		"(its services: $(curl -sf "$JAEGER_QUERY/api/services" | jq -c '.data' 2>/dev/null))" >&2
	return 1
}

# check_in_jaeger NAME SERVICE REQUESTS: every trace of a demo-app run
# (--annotate output in $SCRATCH/NAME.app, spanprobe's stderr in NAME.err)
# arrived exactly once, and checks its spans against what the app printed.
check_in_jaeger() {
	local name=$1 service=$2 requests=$3
	if jaeger_wait_traces "$service" "$requests" $((3 * requests)) "$SCRATCH/$name.json" 30; then
		pass "$name.jaeger_has_every_trace_once"
		report_checks "$name" "$ROOT/tests/lib/check_demo_spans.sh" jaeger "$SCRATCH/$name.json" "$SCRATCH/$name.app" \
			"$requests"
	else
		fail "$name.jaeger_has_every_trace_once" "$(tail -n 3 "$SCRATCH/$name.err")"
	fi
}

# The fault-injecting OTLP proxy (tests/tools/otlp_fault_proxy.c).
FAULT_PROXY=$ROOT/build/tools/otlp-fault-proxy

# fault_proxy_start LOG ARGS...: starts the proxy on a free port with ARGS,
# its output in LOG; sets PROXY_PORT once it listens, else returns 1.
fault_proxy_start() {
	local log=$1
	shift
	"$FAULT_PROXY" --port 0 "$@" >"$log" 2>&1 &
	bg_track $!
	wait_for_line "$log" "^listening" 5 || return 1
	PROXY_PORT=$(sed -n 's/^listening //p' "$log")
}
