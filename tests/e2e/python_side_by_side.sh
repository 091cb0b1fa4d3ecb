#!/usr/bin/env bash
# The exercise's two ways, side by side through the real Collector into the
# real Jaeger: app_sdk.py (the OpenTelemetry SDK in the process, OTLP/gRPC,
# BatchSpanProcessor) and the untouched app.py traced by spanprobe's
# python: probe (Debian's 3.11 with USDT, and pyenv's 3.10 without: the
# evaluator path), the same number of requests each. Read back from Jaeger's
# API, both give the same trace shapes: one trace per request, foo with
# exactly goo and zoo as children (CHILD_OF), and the error flag only on goo,
# on exactly the requests where the app printed "Exception in goo".
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/tests/lib/python.sh"
source "$ROOT/tests/lib/peers.sh"
source "$ROOT/tests/lib/pyenvs.sh"
scratch
PY=/usr/bin/python3.11
VENV_PY=$ROOT/build/pyvenv/bin/python
APPS=$ROOT/examples/python
# Each app must print an error and a success for the comparison to mean
# something: with goo failing one time in five, 30 requests miss one of them
# about once in 800 runs per app.
REQUESTS=40 # 0.8^40: an all-success run (nothing to compare) is 1 in ~7,500
UNIQUE=$$-$RANDOM

python_prereqs || exit 0
sdk_ready() {
	"$VENV_PY" -c 'import flask, opentelemetry.sdk.trace, opentelemetry.exporter.otlp.proto.grpc.trace_exporter' 2>/dev/null
}
# The SDK comes from PyPI: (re)build the venv when it does not work (once; not
# counted in the test's time).
if ! sdk_ready; then
	if ! out=$(make -C "$ROOT" --no-print-directory -B pyvenv 2>&1) || ! sdk_ready; then
		skip all "the venv with the OpenTelemetry SDK (make pyvenv) can't be built: $(printf '%s' "$out" | tail -n 1)"
		exit 0
	fi
fi
peers_build peers || exit 0
# Time from here: the venv and the peers are built once, then cached.
start=$SECONDS
if ! jaeger_start; then
	fail jaeger_start "see the log above"
	exit 0
fi
if ! collector_start "$JAEGER_OTLP_GRPC"; then
	fail collector_start "see the log above"
	exit 0
fi

# stop PID: SIGTERM, SIGKILL after 10 s; sets RC to its exit status.
stop() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid"
	RC=$?
}

# run_app NAME PID PORT: REQUESTS sequential requests once PORT answers, then
# stop PID. Every wait is bounded: the whole test stays under 90 s.
run_app() {
	local name=$1 pid=$2 port=$3 ok=1 i
	if ! wait_port "127.0.0.1:$port" 10 "$pid"; then
		fail "$name.app_answers" "nothing listens on port $port: $(tail -n 3 "$SCRATCH/$name.err")"
		stop "$pid"
		return 1
	fi
	for ((i = 0; i < REQUESTS; i++)); do
		curl -sf -m 5 "http://127.0.0.1:$port/" -o /dev/null || { ok=0; break; }
	done
	expect_eq "$name.all_requests_answered_200" "$ok" 1
	stop "$pid"
}

# shapes JAEGER_JSON: a line per trace, in the order of their roots' start
# times (the order of the sequential requests): the span tree with children
# sorted, a span's parent its CHILD_OF reference, "!" after an errored span's
# name, e.g. "foo(goo!,zoo)".
shapes() {
	jq -r '
		def shape($spans; $id):
			($spans[] | select(.id == $id)) as $s
			| [$spans[] | select(.parent == $id) | .id] as $kids
			| $s.name + (if $s.error then "!" else "" end)
			  + (if ($kids | length) > 0
			     then "(" + ([$kids[] as $k | shape($spans; $k)] | sort | join(",")) + ")"
			     else "" end);
		[.data[] | [.spans[] | {id: .spanID, name: .operationName, start: .startTime,
			error: any(.tags[]; .key == "error" and .value == true),
			parent: ((.references // []) | map(select(.refType == "CHILD_OF")) | .[0].spanID // "")}] as $spans
		 | ($spans | map(.id)) as $ids
		 | [$spans[] | select(.parent as $p | $ids | index($p) | not)] as $roots
		 | {start: ($roots | map(.start) | min),
		    shape: ([$roots[] | shape($spans; .id)] | sort | join(" "))}]
		| sort_by(.start) | .[].shape' "$1"
}

# compare NAME: checks NAME's Jaeger answer against what the app printed.
compare() {
	local name=$1 json=$SCRATCH/$1.json app=$SCRATCH/$1.app
	shapes "$json" >"$SCRATCH/$name.shapes"
	expect_eq "$name.one_trace_per_request" "$(wc -l <"$SCRATCH/$name.shapes")" "$REQUESTS"
	check "$name.every_trace_is_foo_with_goo_and_zoo_errors_only_on_goo" \
		test -z "$(grep -vxE 'foo\(goo!?,zoo\)' "$SCRATCH/$name.shapes")"
	# The app prints, per request, one of these two lines for goo's outcome.
	grep -oE 'Exception in goo|Goo function completed' "$app" |
		sed 's/^Exception.*/1/; s/^Goo.*/0/' >"$SCRATCH/$name.app_errors"
	sed 's/^.*goo!.*$/1/; /^1$/!s/.*/0/' "$SCRATCH/$name.shapes" >"$SCRATCH/$name.span_errors"
	expect_eq "$name.error_count_is_the_apps_exceptions" \
		"$(grep -c 1 "$SCRATCH/$name.span_errors")" "$(grep -c 'Exception in goo' "$app")"
	check "$name.errors_on_the_requests_the_app_reported" \
		cmp -s "$SCRATCH/$name.app_errors" "$SCRATCH/$name.span_errors"
	check "$name.app_reported_some_errors_and_some_successes" \
		test "$(sort -u "$SCRATCH/$name.app_errors" | tr -d '\n')" = 01
	check "$name.service_name" jq -e --arg s "$2" \
		'[.data[].processes[]] | length > 0 and all(.serviceName == $s)' "$json"
}


# 1. In process: app_sdk.py, the SDK exporting to the Collector itself.
free_port sdk_port
service_sdk=python-sdk-$UNIQUE
PORT=$sdk_port TIME_SCALE=0.002 OTEL_SERVICE_NAME=$service_sdk \
	OTEL_EXPORTER_OTLP_ENDPOINT=http://$COLLECTOR_GRPC \
	"$VENV_PY" "$APPS/app_sdk.py" >"$SCRATCH/sdk.app" 2>"$SCRATCH/sdk.err" &
sdk_pid=$!
bg_track $sdk_pid
if run_app sdk $sdk_pid "$sdk_port"; then
	# SIGTERM -> SystemExit -> provider.shutdown() exports what is queued.
	expect_eq sdk.exit_status_is_the_sigterm_handlers "$RC" 143
	if jaeger_wait_traces "$service_sdk" "$REQUESTS" $((3 * REQUESTS)) "$SCRATCH/sdk.json" 15; then
		pass sdk.jaeger_has_every_span
		compare sdk "$service_sdk"
	else
		fail sdk.jaeger_has_every_span "$(tail -n 3 "$SCRATCH/sdk.err")"
	fi
fi

# 2. From outside: app.py under spanprobe, its python: probe exporting to the
# same Collector; with Debian's CPython 3.11 (USDT probes) and with CPython
# 3.10 as the official image builds it (no USDT: the evaluator probe).
# 3. Side by side: the same shapes once error flags (random per app) are
# set aside, and the same span names, kinds and error status on goo.
# probe_side NAME PYTHON
probe_side() {
	local name=$1 py=$2 probe_port service_probe probe_pid
	free_port probe_port
	service_probe=python-$name-$UNIQUE
	PORT=$probe_port TIME_SCALE=0.002 ANNOTATE=1 "$SPANPROBE" -o otlp --protocol grpc \
		--endpoint "http://$COLLECTOR_GRPC" --service-name "$service_probe" \
		-c "$py $APPS/app.py" "python:$py:app.py:foo,goo,zoo" \
		>"$SCRATCH/$name.app" 2>"$SCRATCH/$name.err" &
	probe_pid=$!
	bg_track $probe_pid
	if run_app "$name" $probe_pid "$probe_port"; then
		expect_eq "$name.exit_status_is_the_apps_sigterm" "$RC" 143
		check "$name.summary_exported_all" \
			grep -q "OTLP exported $((3 * REQUESTS)), dropped 0, rejected 0" "$SCRATCH/$name.err"
		if jaeger_wait_traces "$service_probe" "$REQUESTS" $((3 * REQUESTS)) "$SCRATCH/$name.json" 15; then
			pass "$name.jaeger_has_every_span"
			compare "$name" "$service_probe"
			# app.py annotates its lines: the per-thread checks of the C demo too.
			report_checks "$name" tests/lib/check_demo_spans.sh jaeger "$SCRATCH/$name.json" "$SCRATCH/$name.app" \
				"$REQUESTS"
		else
			fail "$name.jaeger_has_every_span" "$(tail -n 3 "$SCRATCH/$name.err")"
		fi
	fi
	if [ -s "$SCRATCH/sdk.shapes" ] && [ -s "$SCRATCH/$name.shapes" ]; then
		expect_eq "$name.same_shapes_without_error_flags" \
			"$(tr -d '!' <"$SCRATCH/$name.shapes" | sort | uniq -c)" \
			"$(tr -d '!' <"$SCRATCH/sdk.shapes" | sort | uniq -c)"
		expect_eq "$name.same_shapes_with_an_error" \
			"$(grep '!' "$SCRATCH/$name.shapes" | sort -u)" "$(grep '!' "$SCRATCH/sdk.shapes" | sort -u)"
		expect_eq "$name.same_span_kinds" "$(kinds "$SCRATCH/$name.json")" "$(kinds "$SCRATCH/sdk.json")"
		expect_eq "$name.same_error_status_description" "$(msgs "$SCRATCH/$name.json")" \
			"$(msgs "$SCRATCH/sdk.json")"
	else
		fail "$name.side_by_side" "a side has no shapes to compare (see above)"
	fi
}
kinds() { jq -r '[.data[].spans[] | "\(.operationName) \(.tags[] | select(.key == "span.kind") | .value)"] | unique[]' "$1"; }
msgs() { jq -r '[.data[].spans[] | select(any(.tags[]; .key == "error")) | .operationName + ": "
	+ ([.tags[] | select(.key == "otel.status_description") | .value] | .[0] // "")] | unique[]' "$1"; }

probe_side spanprobe "$PY"
if venv310=$(pyenv_flask_venv 3.10 2>"$SCRATCH/venv.err"); then
	probe_side spanprobe-py3.10 "$venv310/bin/python"
else
	skip spanprobe-py3.10 "$(tail -n 1 "$SCRATCH/venv.err")"
fi
echo "# peers and both runs took $((SECONDS - start)) s"
