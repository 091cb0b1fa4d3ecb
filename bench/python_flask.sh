#!/usr/bin/env bash
# Throughput of a Flask service under gunicorn (`-w 2 --threads 4`,
# bench/flask_shop.py: about 14 traced calls a request, one in four ending
# in an exception) per CPython, each way of tracing it against the untraced
# service in the same round:
#   untraced      no tracing
#   sdk           the in-process OpenTelemetry SDK, the same 4 functions as
#                 spans (BatchSpanProcessor -> the Collector over gRPC)
#   session       spanprobe's default: on 6.13+ the evaluator probe as a
#                 uprobe session (returns of traced calls only), also on a
#                 build with USDT probes
#   instructions  spanprobe, SPANPROBE_PYTHON_RETURN=instructions (the
#                 default before sessions: every call's return probed)
#   uretprobe     spanprobe, SPANPROBE_PYTHON_RETURN=uretprobe
#   before        with BEFORE=path: that spanprobe build as session (a change
#                 measured against the build before it, in the same rounds)
#   usdt          spanprobe on Debian's 3.11 through its USDT probes
#                 (SPANPROBE_PYTHON_PATH=usdt)
#   noinline      no tracing, 3.11+ only: inlining turned off in the workers
#                 as spanprobe's evaluator path does (what that costs alone)
#   floor         an empty bpftrace uprobe at _PyEval_EvalFrameDefault's entry
#                 (3.11+: with inlining turned off, as spanprobe does): one
#                 trap per Python call, the least a design probing the
#                 evaluator costs
#   monitor       3.12+: the prototype of bench/python_no_trap.md, no spanprobe:
#                 sys.monitoring events on the four functions only
#                 (flask_shop.py's SHOP_MONITOR=1) and an empty probe in
#                 CPython's two instrumentation calls, at their first branch
#                 (their first instruction, `sub $0x28,%rsp`, is single-
#                 stepped): untraced calls trap nowhere, inlining stays on
#                 ("spans" column: the probes' hits)
# spanprobe and the SDK both export OTLP/gRPC to one Collector (bench's
# config: nothing forwarded). The client is bench/http_load.c (C: a probed
# interpreter would slow a Python client too), 4 threads, keep-alive.
# The machine is shared: the rounds interleave every way, and each row gives
# the best round's req/s and its ratio to the best untraced round, the median
# of the per-round ratios, and the least CPU a request took (gunicorn's
# processes and spanprobe's own, user + system; spanprobe's own alone too);
# "spans sent" is what spanprobe's summary counted, +N the calls it counted
# as lost; every round's figures go to stderr.
# Usage: bench/python_flask.sh [REQUESTS [ROUNDS]]   (root)
#   FLASK_VERSIONS="3.9 3.10 3.12 3.13 3.11-usdt" (3.11-usdt: Debian's
#   /usr/bin/python3.11), FLASK_WAYS="untraced sdk session ..." choose rows.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/pyenvs.sh
requests=${1:-1000}
rounds=${2:-2}
VERSIONS=${FLASK_VERSIONS:-3.9 3.10 3.12 3.13 3.11-usdt}
WAYS=${FLASK_WAYS:-untraced sdk session instructions uretprobe usdt noinline floor monitor}
SPANPROBE=${SPANPROBE:-build/spanprobe}
BEFORE=${BEFORE:-}
LOAD=build/bench/http-load
EVAL_FRAME=build/tools/cpython-eval-frame
EMPTY_UPROBE=build/bench/empty-uprobe
FUNCS=handle_order,validate,price,fib
WARMUP=200
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

for p in "$LOAD" "$EMPTY_UPROBE"; do
	[ -x "$p" ] || make -s -f Makefile -f bench/bench.mk "$p"
done

# interp VERSION: the interpreter file (what python: names)
interp() {
	if [ "$1" = 3.11-usdt ]; then echo /usr/bin/python3.11; else echo "$(pyenv_prefix "$1")/bin/python$1"; fi
}
# evaluator_file VERSION: the file holding _PyEval_EvalFrameDefault
evaluator_file() {
	if [ "$1" = 3.11-usdt ]; then echo /usr/bin/python3.11; else libpython_of "$1"; fi
}
# venv VERSION: a venv with Flask, gunicorn and the SDK, made once (PyPI)
venv() {
	local d=$PYENVS_DIR/flask-bench-$1
	if [ ! -x "$d/bin/gunicorn" ]; then
		rm -rf "$d"
		"$(interp "$1")" -m venv "$d" >&2
		"$d/bin/pip" install --quiet --disable-pip-version-check flask gunicorn opentelemetry-sdk \
			opentelemetry-exporter-otlp-proto-grpc >&2
	fi
	echo "$d"
}
# first_jump LIB SYMBOL: the address of the symbol's first conditional jump
# (emulated by the kernel; the registers still hold the arguments there)
first_jump() {
	local a
	a=$(nm "$1" | awk -v s="$2" '$3 == s { print $1; exit }')
	objdump -d --no-show-raw-insn --start-address="0x$a" --stop-address="$(printf 0x%x $((0x$a + 64)))" "$1" |
		awk '$2 ~ /^j/ && $2 != "jmp" { sub(":", "", $1); print "0x" $1; exit }'
}
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# wait_for FILE PATTERN: hang guard 60 s
wait_for() {
	local i
	for ((i = 0; i < 600; i++)); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "timed out waiting for '$2' in $1: $(tail -n 3 "$1")" >&2
	return 1
}

collector=$(scripts/build-peers.sh 2>/dev/null | sed -n 's/^COLLECTOR=//p')
grpc=$(free_port)
http=$(free_port)
OTELCOL_OTLP_GRPC_ENDPOINT=127.0.0.1:$grpc OTELCOL_OTLP_HTTP_ENDPOINT=127.0.0.1:$http \
	"$collector" --config bench/otel-collector.yaml >"$tmp/collector.log" 2>&1 &
pids+=($!)
wait_for "$tmp/collector.log" "Everything is ready"

# cpu_ticks PID...: user + system clock ticks the processes used so far
cpu_ticks() {
	local p t=0 u s
	for p in "$@"; do
		read -r u s < <(awk '{ print $14, $15 }' "/proc/$p/stat" 2>/dev/null) || continue
		t=$((t + u + s))
	done
	echo $t
}

# row VERSION WAY: prints "rps cpu_us_per_request spans" for one run of the
# service (CPU: gunicorn's master and workers, and spanprobe's own process)
row() {
	local v=$1 way=$2 d port master tracer= sdk=0 py out spans=- lost
	d=$(venv "$v")
	py=$(interp "$v")
	port=$(free_port)
	[ "$way" = sdk ] && sdk=1
	SHOP_SDK=$sdk SHOP_MONITOR=$([ "$way" = monitor ] && echo 1) OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$grpc OTEL_BSP_SCHEDULE_DELAY=1000 \
		PYTHONPATH=bench "$d/bin/gunicorn" -w 2 --threads 4 -b "127.0.0.1:$port" \
		$([ $sdk = 1 ] && echo "-c python:flask_shop") flask_shop:app >"$tmp/app.log" 2>&1 &
	master=$!
	pids+=($master)
	local i
	for ((i = 0; i < 300; i++)); do
		"$LOAD" "$port" /order 1 1 >/dev/null 2>&1 && break
		sleep 0.1
	done
	case $way in
	session | instructions | uretprobe | usdt | before)
		rm -f "$tmp/ready"
		local bin=$SPANPROBE ret=$way
		[ "$way" = before ] && { bin=$BEFORE; ret=session; }
		[ "$way" = usdt ] && ret=
		SPANPROBE_PYTHON_PATH=$([ "$way" = usdt ] && echo usdt) \
			SPANPROBE_PYTHON_RETURN=$ret "$bin" -p "$master" -o otlp --endpoint "http://127.0.0.1:$grpc" \
			--ready-file "$tmp/ready" "python:$py:flask_shop.py:$FUNCS" 2>"$tmp/sp.err" &
		tracer=$!
		pids+=($tracer)
		wait_for "$tmp/ready" "" >/dev/null || true
		;;
	noinline)
		local w
		for w in $(pgrep -P "$master"); do
			"$EVAL_FRAME" "$w" "$(evaluator_file "$v")" off >/dev/null
		done
		;;
	floor)
		local w
		case $v in 3.8 | 3.9 | 3.10) ;; *)
			for w in $(pgrep -P "$master"); do
				"$EVAL_FRAME" "$w" "$(evaluator_file "$v")" off >/dev/null
			done ;;
		esac
		bpftrace -e "uprobe:$(evaluator_file "$v"):_PyEval_EvalFrameDefault { }" >"$tmp/bt.out" 2>&1 &
		tracer=$!
		pids+=($tracer)
		wait_for "$tmp/bt.out" "Attaching"
		sleep 1
		;;
	monitor)
		local lib
		lib=$(libpython_of "$v")
		"$EMPTY_UPROBE" "$lib" "$(first_jump "$lib" _Py_call_instrumentation)" \
			"$(first_jump "$lib" _Py_call_instrumentation_arg)" >"$tmp/bt.out" 2>&1 &
		tracer=$!
		pids+=($tracer)
		wait_for "$tmp/bt.out" "attached"
		;;
	esac
	"$LOAD" "$port" /order "$WARMUP" 4 >/dev/null
	local procs c0 c1 own=0 t0 t1
	procs="$master $(pgrep -P "$master" | tr '\n' ' ') $(case $way in floor | monitor) ;; *) echo "$tracer" ;; esac)"
	c0=$(cpu_ticks $procs)
	t0=$(cpu_ticks $tracer)
	out=$("$LOAD" "$port" /order "$requests" 4)
	c1=$(cpu_ticks $procs)
	t1=$(cpu_ticks $tracer)
	case $way in floor | monitor) ;; *) own=$(( (t1 - t0) * 1000000 / $(getconf CLK_TCK) / requests )) ;; esac
	if [ -n "$tracer" ]; then
		kill -INT "$tracer"
		wait "$tracer" 2>/dev/null || true
		case $way in
		floor) ;;
		monitor) spans=$(sed -n 's/^hits \([0-9]*\)/\1/p' "$tmp/bt.out") ;;
		*)
			spans=$(sed -n 's/^spanprobe: \([0-9]*\) spans.*/\1/p' "$tmp/sp.err" | tail -n 1)
			lost=$(sed -n 's/^spanprobe: .*; lost \([0-9]*\) .*/\1/p' "$tmp/sp.err" | tail -n 1)
			[ "${lost:-0}" = 0 ] || spans+="+$lost"
			;;
		esac
	fi
	kill -TERM "$master"
	wait "$master" 2>/dev/null || true
	echo "$(sed -n 's/.* rps \([0-9.]*\).*/\1/p' <<<"$out")" \
		"$(( (c1 - c0) * 1000000 / $(getconf CLK_TCK) / requests ))" "${spans:--}" "$own"
}

list() { sed 's/ $//; s/ /, /g' <<<"$1"; }
best() { tr ' ' '\n' <<<"$1" | grep . | sort -g | tail -n 1; }
least() { tr ' ' '\n' <<<"$1" | grep . | sort -g | head -n 1; }
median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ways_of() { # VERSION: the rows that apply
	local w
	for w in $WAYS; do
		[ "$w" = noinline ] && case $1 in 3.8 | 3.9 | 3.10) continue ;; esac
		[ "$w" = monitor ] && case $1 in 3.8 | 3.9 | 3.10 | 3.11*) continue ;; esac
		[ "$w" = usdt ] && [ "$1" != 3.11-usdt ] && continue
		[ "$w" = before ] && [ -z "$BEFORE" ] && continue
		echo "$w"
	done
}

echo "$(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg) at start; $requests requests" \
	"(after $WARMUP to warm up) from 4 client threads, $rounds rounds; gunicorn -w 2 --threads 4"
echo "| python | how it is traced | req/s (best) | of untraced (best ÷ best) | of untraced (median of rounds) | CPU µs/request (least) | extra CPU µs/request | of it spanprobe's own (least) | spans sent per round |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---|"
for v in $VERSIONS; do
	if [ "$v" != 3.11-usdt ] && [ -z "$(pyenv_prefix "$v")" ]; then
		echo "| $v | not installed | | | |"
		continue
	fi
	declare -A rps=() spans=() cpu=() own=()
	for ((r = 1; r <= rounds; r++)); do
		for w in $(ways_of "$v"); do
			read -r x c s o < <(row "$v" "$w")
			rps[$w]+="$x "
			cpu[$w]+="$c "
			own[$w]+="$o "
			spans[$w]+="$s "
		done
	done
	read -ra base <<<"${rps[untraced]}"
	read -ra base_cpu <<<"${cpu[untraced]}"
	for w in $(ways_of "$v"); do
		read -ra got <<<"${rps[$w]}"
		read -ra got_cpu <<<"${cpu[$w]}"
		ratios=""
		for ((r = 0; r < rounds; r++)); do
			ratios+=$(awk -v a="${got[$r]}" -v b="${base[$r]}" 'BEGIN { printf "%.2f ", a / b }')
		done
		printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$v" "$w" "$(best "${rps[$w]}")" \
			"$(awk -v a="$(best "${rps[$w]}")" -v b="$(best "${rps[untraced]}")" 'BEGIN { printf "%.2f", a / b }')" \
			"$(median "$ratios")" "$(least "${cpu[$w]}")" \
			"$(( $(least "${cpu[$w]}") - $(least "${cpu[untraced]}") ))" "$(least "${own[$w]}")" \
			"$(list "${spans[$w]}")"
		echo "$v $w rps: ${rps[$w]}; ratios: $ratios; cpu: ${cpu[$w]}" >&2
	done
	unset rps spans cpu own
done
echo "load $(cut -d' ' -f1-3 /proc/loadavg) at the end"
