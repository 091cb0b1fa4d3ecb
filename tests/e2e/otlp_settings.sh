#!/usr/bin/env bash
# The OTLP exporter's settings the README documents, end to end through the
# real Collector into Jaeger: OTEL_EXPORTER_OTLP_COMPRESSION=gzip and
# OTEL_EXPORTER_OTLP_HEADERS as they leave spanprobe (seen on the wire by the
# proxy in front of the Collector, which accepts them), the _TRACES_ forms
# winning over the general ones, TLS with a client certificate against a
# Collector that requires one, and the parentbased_* samplers.
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/tests/lib/peers.sh"
scratch
peers_build peers || exit 0
[ -x "$FAULT_PROXY" ] || { fail proxy_built "$FAULT_PROXY is missing (make fixtures)"; exit 0; }

REQUESTS=30
UNIQUE=$$-$RANDOM
P="uprobe:$DEMO:foo,goo,zoo"

jaeger_start || { fail jaeger_start "see the log above"; exit 1; }
collector_start "$JAEGER_OTLP_GRPC" || { fail collector_start "see the log above"; exit 1; }

# traced NAME SEED [ENV...]: one traced demo-app run exporting over OTLP with
# ENV, its service demo-app-NAME-UNIQUE; the app's lines in NAME.app.
traced() {
	local name=$1 seed=$2
	shift 2
	env OTEL_SERVICE_NAME="demo-app-$name-$UNIQUE" "$@" \
		"$SPANPROBE" -o otlp --error 'goo:ret<0' \
		-c "$DEMO --requests $REQUESTS --seed $seed --time-scale 0.002 --annotate" "$P" \
		>"$SCRATCH/$name.app" 2>"$SCRATCH/$name.err"
	expect_eq "$name.exit_status" "$?" 0
}
# in_jaeger NAME: every request one trace in Jaeger, checked against the app
in_jaeger() {
	local name=$1
	if jaeger_wait_traces "demo-app-$name-$UNIQUE" "$REQUESTS" $((3 * REQUESTS)) "$SCRATCH/$name.json" 30; then
		pass "$name.jaeger_has_every_trace"
		report_checks "$name" tests/lib/check_demo_spans.sh jaeger "$SCRATCH/$name.json" "$SCRATCH/$name.app" \
			"$REQUESTS"
	else
		fail "$name.jaeger_has_every_trace" "$(tail -n 3 "$SCRATCH/$name.err")"
	fi
}
exported_all() {
	check "$1.exported_all" grep -q "OTLP exported $((3 * REQUESTS)), dropped 0, rejected 0" "$SCRATCH/$1.err"
}
# proxy_lines NAME PATTERN: how many of the proxy's lines for NAME match
proxy_lines() { grep -c -- "$2" "$SCRATCH/$1.proxy"; }
# every_request NAME WHAT LINE: each request the proxy forwarded had LINE
# (and there were some, each accepted by the Collector)
every_request() {
	local name=$1 what=$2 line=$3 n
	n=$(proxy_lines "$name" '^forwarded [0-9]* 200$')
	check "$name.requests_forwarded_and_accepted" test "$n" -gt 0 -a "$(proxy_lines "$name" '^forwarded')" -eq "$n"
	check "$name.$what" test "$(grep -cxF -- "$line" "$SCRATCH/$name.proxy")" -eq "$n"
}

# --- gzip and headers over HTTP, through a proxy that shows them -----------
start_proxy() { # NAME: a proxy in front of the Collector's OTLP/HTTP port
	fault_proxy_start "$SCRATCH/$1.proxy" --upstream "$COLLECTOR_HTTP" \
		--show-header Content-Encoding --show-header x-tenant --show-header authorization ||
		{ fail "$1.proxy_started" "$(cat "$SCRATCH/$1.proxy")"; return 1; }
}
if start_proxy http_gzip; then
	traced http_gzip 3 OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf \
		OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$PROXY_PORT" OTEL_EXPORTER_OTLP_COMPRESSION=gzip \
		OTEL_EXPORTER_OTLP_HEADERS='x-tenant=acme,authorization=Bearer%20s3cret'
	exported_all http_gzip
	every_request http_gzip gzip_sent "header Content-Encoding: gzip"
	every_request http_gzip header_sent "header x-tenant: acme"
	every_request http_gzip percent_decoded_header_sent "header authorization: Bearer s3cret"
	in_jaeger http_gzip
fi
# the control: no compression asked, none sent
if start_proxy http_plain; then
	traced http_plain 4 OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf \
		OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$PROXY_PORT" OTEL_EXPORTER_OTLP_COMPRESSION=none
	every_request http_plain uncompressed "header Content-Encoding absent"
	every_request http_plain no_header "header x-tenant absent"
fi
# gzip over gRPC, straight to the Collector: it decompresses every export
traced grpc_gzip 5 OTEL_EXPORTER_OTLP_PROTOCOL=grpc OTEL_EXPORTER_OTLP_ENDPOINT="http://$COLLECTOR_GRPC" \
	OTEL_EXPORTER_OTLP_COMPRESSION=gzip
exported_all grpc_gzip
in_jaeger grpc_gzip

# --- the _TRACES_ forms win: the general ones point nowhere -----------------
free_port closed
if start_proxy traces_vars; then
	traced traces_vars 6 OTEL_EXPORTER_OTLP_PROTOCOL=grpc OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$closed" \
		OTEL_EXPORTER_OTLP_HEADERS=x-tenant=general OTEL_EXPORTER_OTLP_COMPRESSION=none \
		OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/protobuf \
		OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="http://127.0.0.1:$PROXY_PORT/v1/traces" \
		OTEL_EXPORTER_OTLP_TRACES_HEADERS=x-tenant=traces OTEL_EXPORTER_OTLP_TRACES_COMPRESSION=gzip
	exported_all traces_vars
	every_request traces_vars traces_headers_win "header x-tenant: traces"
	every_request traces_vars traces_compression_wins "header Content-Encoding: gzip"
	in_jaeger traces_vars
fi

PLAIN_GRPC=$COLLECTOR_GRPC # the Collector without TLS, for the samplers below

# --- TLS with a client certificate, to a Collector that requires one --------
T=$SCRATCH/tls
mkdir -p "$T"
tls_files() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=test-ca \
		-keyout "$T/ca.key" -out "$T/ca.crt" &&
	openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout "$T/server.key" -out "$T/server.csr" &&
	openssl x509 -req -in "$T/server.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial -days 1 \
		-extfile <(printf 'subjectAltName=IP:127.0.0.1\n') -out "$T/server.crt" &&
	openssl req -newkey rsa:2048 -nodes -subj /CN=spanprobe -keyout "$T/client.key" -out "$T/client.csr" &&
	openssl x509 -req -in "$T/client.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial -days 1 \
		-extfile <(printf 'extendedKeyUsage=clientAuth\n') -out "$T/client.crt"
} >"$T/openssl.log" 2>&1
if ! tls_files; then
	fail tls.certificates_made "$(tail -n 3 "$T/openssl.log")"
elif ! OTELCOL_TLS_CERT=$T/server.crt OTELCOL_TLS_KEY=$T/server.key OTELCOL_TLS_CLIENT_CA=$T/ca.crt \
	COLLECTOR_CONFIG=$ROOT/tests/lib/otel-collector-mtls.yaml collector_start "$JAEGER_OTLP_GRPC"; then
	fail tls.collector_start "see the log above"
else
	for proto in grpc http; do
		addr=$COLLECTOR_GRPC
		[ $proto = http ] && addr=$COLLECTOR_HTTP
		protocol=$proto
		[ $proto = http ] && protocol=http/protobuf
		traced "tls_$proto" 7 OTEL_EXPORTER_OTLP_PROTOCOL=$protocol OTEL_EXPORTER_OTLP_ENDPOINT="https://$addr" \
			OTEL_EXPORTER_OTLP_CERTIFICATE="$T/ca.crt" OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE="$T/client.crt" \
			OTEL_EXPORTER_OTLP_CLIENT_KEY="$T/client.key"
		exported_all "tls_$proto"
		in_jaeger "tls_$proto"
		# without the client certificate the Collector refuses the
		# handshake: nothing exported, every span counted dropped
		traced "tls_${proto}_no_client_cert" 8 OTEL_EXPORTER_OTLP_PROTOCOL=$protocol \
			OTEL_EXPORTER_OTLP_ENDPOINT="https://$addr" OTEL_EXPORTER_OTLP_CERTIFICATE="$T/ca.crt" \
			OTEL_BSP_EXPORT_TIMEOUT=3000
		check "tls_${proto}_no_client_cert.refused" grep -q \
			"OTLP exported 0, dropped $((3 * REQUESTS))," "$SCRATCH/tls_${proto}_no_client_cert.err"
	done
fi

# --- parentbased samplers: every trace is a root here, so X is X ------------
traced pb_on 9 OTEL_EXPORTER_OTLP_PROTOCOL=grpc OTEL_EXPORTER_OTLP_ENDPOINT="http://$PLAIN_GRPC" \
	OTEL_TRACES_SAMPLER=parentbased_always_on
exported_all pb_on
in_jaeger pb_on
traced pb_off 10 OTEL_EXPORTER_OTLP_PROTOCOL=grpc OTEL_EXPORTER_OTLP_ENDPOINT="http://$PLAIN_GRPC" \
	OTEL_TRACES_SAMPLER=parentbased_always_off
# every call the app made was seen (hits), none became a span
check pb_off.app_made_its_requests test "$(grep -c 'Zoo function completed' "$SCRATCH/pb_off.app")" -eq "$REQUESTS"
check pb_off.every_call_seen grep -q "hits per function: foo $REQUESTS, goo $REQUESTS, zoo $REQUESTS" "$SCRATCH/pb_off.err"
check pb_off.no_span_exported grep -q "^spanprobe: 0 spans .*OTLP exported 0, dropped 0" "$SCRATCH/pb_off.err"
traced pb_ratio 11 OTEL_EXPORTER_OTLP_PROTOCOL=grpc OTEL_EXPORTER_OTLP_ENDPOINT="http://$PLAIN_GRPC" \
	OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG=0.5
unsampled=$(sed -n 's/.*; \([0-9]*\) traces not sampled.*/\1/p' "$SCRATCH/pb_ratio.err")
kept=$((REQUESTS - ${unsampled:-$REQUESTS}))
check pb_ratio.some_kept_some_not test "$kept" -gt 0 -a "$kept" -lt "$REQUESTS"
if jaeger_wait_traces "demo-app-pb_ratio-$UNIQUE" "$kept" $((3 * kept)) "$SCRATCH/pb_ratio.json" 30; then
	pass pb_ratio.jaeger_has_the_kept_traces_whole
	# the specification's rule: kept when the trace id's lowest 56 bits
	# are at least (1 - ratio) x 2^56
	check pb_ratio.kept_by_the_trace_id_rule jq -e '[.data[].traceID | .[-14:] |
		explode | map(if . >= 97 then . - 87 else . - 48 end) | reduce .[] as $d (0; . * 16 + $d)]
		| all(. >= 36028797018963968)' "$SCRATCH/pb_ratio.json"
else
	fail pb_ratio.jaeger_has_the_kept_traces_whole "$(tail -n 3 "$SCRATCH/pb_ratio.err")"
fi
# the same pipeline delivered pb_on's and pb_ratio's traces since; pb_off's
# service has none
check pb_off.none_in_jaeger test "$(curl -sf "$JAEGER_QUERY/api/services" |
	jq --arg s "demo-app-pb_off-$UNIQUE" '[.data // [] | .[] | select(. == $s)] | length')" = 0
