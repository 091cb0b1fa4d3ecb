#!/usr/bin/env bash
# The exercise's Flask app under CPython 3.10 laid out as the official
# python:3.10 image lays it out (/usr/local/bin/python3.10 loading
# /usr/local/lib/libpython3.10.so.1.0 through the loader's cache; no USDT),
# each "container" in its own mount and PID namespaces, traced system-wide
# by the in-container path and exported over OTLP to the real Collector,
# then read back from Jaeger: one trace per request with foo -> goo, zoo,
# ERROR on as many goo calls as the app printed exceptions, each zoo lasting
# at least a sleep the app printed. A second container started while
# spanprobe runs is picked up.
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/tests/lib/peers.sh"
source "$ROOT/tests/lib/pyenvs.sh"
scratch
V=3.10
REQUESTS=${REQUESTS:-10}
APP=$ROOT/examples/python/app.py
IN_PY=/usr/local/bin/python$V

peers_build peers || exit 0
if ! venv=$(pyenv_flask_venv $V 2>"$SCRATCH/venv.err"); then
	skip all "$(tail -n 1 "$SCRATCH/venv.err")"
	exit 0
fi
prefix=$(pyenv_prefix $V)
check "interpreter_path_absent_on_the_host" test ! -e "$IN_PY"

# start_container NAME PORT: /usr/local replaced in a new mount namespace
# (the host's is untouched), pyenv's tree hidden, the loader's cache made
# for /usr/local/lib; the app runs as PID 1 of a new PID namespace.
start_container() {
	local name=$1 port=$2 root=$SCRATCH/$1
	mkdir -p "$root"
	ldconfig -C "$root/ld.so.cache" 2>/dev/null # built after /usr/local/lib is filled, below
	PORT=$port TIME_SCALE=0.002 ANNOTATE=1 unshare --mount --pid --fork --kill-child \
		--propagation private sh -c "
		set -e
		mount -t tmpfs tmpfs /usr/local
		mkdir -p /usr/local/bin /usr/local/lib/python$V
		cp '$prefix/bin/python$V' /usr/local/bin/
		cp '$prefix/lib/libpython$V.so.1.0' /usr/local/lib/
		mount --bind '$prefix/lib/python$V' /usr/local/lib/python$V
		mount --bind '$venv/lib/python$V/site-packages' /usr/local/lib/python$V/site-packages
		ldconfig -C '$root/ld.so.cache'
		mount --bind '$root/ld.so.cache' /etc/ld.so.cache
		mount -t tmpfs tmpfs '$(dirname "$prefix")'
		exec $IN_PY '$APP'" >"$SCRATCH/$name.app" 2>"$SCRATCH/$name.app.err" &
	bg_track $!
}
host_pid_of() { pgrep -f "^$IN_PY $APP" | sort -n | sed -n "${1}p"; }
# The app is PID 1 of its namespace: only SIGKILL ends it from here.
CTR_PIDS=""
kill_containers() {
	local p
	for p in $CTR_PIDS; do kill -KILL "$p" 2>/dev/null; done
	cleanup_scratch
}
trap kill_containers EXIT
# answers PORT: hang guard 30 s (the app starts in about a second)
answers() {
	local i
	for ((i = 0; i < 600; i++)); do
		curl -sf "http://127.0.0.1:$1/" -o /dev/null && return 0
		sleep 0.05
	done
	return 1
}

if ! jaeger_start || ! collector_start "$JAEGER_OTLP_GRPC"; then
	fail peers_start "see the logs in $SCRATCH"
	exit 0
fi
free_port port1
start_container first "$port1"
if ! answers "$port1"; then
	fail first_container_serves "$(tail -n 3 "$SCRATCH/first.app.err")"
	exit 0
fi
pid1=$(host_pid_of 1)
CTR_PIDS="$pid1"
check "lib_from_usr_local_inside" grep -q "/usr/local/lib/libpython$V.so.1.0" "/proc/$pid1/maps"

service=flask-container-$$
"$SPANPROBE" -v -o otlp --protocol grpc --endpoint "http://$COLLECTOR_GRPC" --service-name "$service" \
	"python:$IN_PY:app.py:foo,goo,zoo" 2>"$SCRATCH/sp.err" &
tracer=$!
bg_track $tracer
if ! wait_for_line "$SCRATCH/sp.err" "^spanprobe: attached" 30; then
	fail attached "$(tail -n 3 "$SCRATCH/sp.err")"
	exit 0
fi
check "found_in_the_container_by_its_path" grep -q "python:$IN_PY  \[evaluator\]  /proc/[0-9]*/root/usr/local/lib/libpython$V.so.1.0" "$SCRATCH/sp.err"
for ((i = 0; i < REQUESTS; i++)); do curl -sf "http://127.0.0.1:$port1/" -o /dev/null; done

free_port port2
start_container second "$port2"
answers "$port2" || fail second_container_serves "$(tail -n 3 "$SCRATCH/second.app.err")"
CTR_PIDS="$CTR_PIDS $(host_pid_of 2)"
check "second_container_picked_up" wait_for_line "$SCRATCH/sp.err" "tracing python $IN_PY (/proc/.*/root/usr/local/lib/libpython$V.so.1.0" 30
for ((i = 0; i < REQUESTS; i++)); do curl -sf "http://127.0.0.1:$port2/" -o /dev/null; done
kill -INT $tracer
wait_or_fail $tracer
expect_eq tracer_exit_status $? 0

# the first container's first request (answers, before spanprobe ran) is
# not traced; every request of the second is
{ sed '1,/zoo_sleep_us=/d' "$SCRATCH/first.app"; cat "$SCRATCH/second.app"; } >"$SCRATCH/all.app"
n=$(grep -c zoo_sleep_us= "$SCRATCH/all.app")
expect_eq requests_served "$n" $((2 * REQUESTS + 1))
# Only the traces of this test's two containers count: spanprobe traces
# every process running the interpreter's path, and another container on
# the machine (a pod of an image laid out the same way) may run it too.
ours() { # JAEGER_JSON: its traces whose spans all come from CTR_PIDS
	jq --argjson pids "[$(tr -s ' ' ',' <<<"${CTR_PIDS# }" | sed 's/,$//')]" '
		.data |= map(. as $t | select(all($t.spans[];
			($t.processes[.processID].tags[]? | select(.key == "process.pid") | .value)
			as $p | $pids | index($p) != null)))' "$1"
}
url="$JAEGER_QUERY/api/traces?service=$service&limit=$((4 * n + 50))&lookback=1h"
got="0 0"
for ((i = 0; i < 120 * HANG_SCALE; i++)); do
	curl -sf -o "$SCRATCH/all-traces.json" "$url" && ours "$SCRATCH/all-traces.json" >"$SCRATCH/jaeger.json" &&
		got=$(jaeger_count "$SCRATCH/jaeger.json")
	[ "$got" = "$n $((3 * n))" ] && break
	sleep 0.25
done
sleep 1 # late duplicates would land now
curl -sf -o "$SCRATCH/all-traces.json" "$url" && ours "$SCRATCH/all-traces.json" >"$SCRATCH/jaeger.json"
check "jaeger_answers" test -s "$SCRATCH/all-traces.json"
expect_eq jaeger_has_every_trace_once "$(jaeger_count "$SCRATCH/jaeger.json")" "$n $((3 * n))"
spans=$(jq -c '.data[] | .traceID as $t | .spans[] | {t: $t, id: .spanID, name: .operationName,
	parent: ((.references // []) | map(select(.refType == "CHILD_OF")) | .[0].spanID // ""),
	start: .startTime, dur: .duration, err: any(.tags[]; .key == "error" and .value == true)}' "$SCRATCH/jaeger.json")
expect_eq foo_root_of_each_trace \
	"$(jq -s '[.[] | select(.name == "foo" and .parent == "")] | length' <<<"$spans")" $n
expect_eq goo_and_zoo_children_of_foo "$(jq -s '(map(select(.name == "foo")) | map({(.id): 1}) | add) as $f
	| [.[] | select(.name != "foo" and ($f[.parent] // 0) == 1)] | length' <<<"$spans")" $((2 * n))
expect_eq error_on_the_goo_calls_the_app_reported \
	"$(jq -s '[.[] | select(.err)] | map(.name) | unique, length' <<<"$spans" | tr -d ' \n')" \
	"$( [ "$(grep -c 'Exception in goo' "$SCRATCH/all.app")" -gt 0 ] && echo '["goo"]' || echo '[]')$(grep -c 'Exception in goo' "$SCRATCH/all.app")"
# each zoo lasts at least its own sleep: then, both sorted, the i-th
# duration is at least the i-th sleep
durs=$(jq -s -c '[.[] | select(.name == "zoo") | .dur] | sort' <<<"$spans")
sleeps=$(sed -n 's/.*zoo_sleep_us=\([0-9]*\).*/\1/p' "$SCRATCH/all.app" | jq -s -c 'sort')
expect_eq zoo_lasts_at_least_its_sleep "$(jq -n --argjson d "$durs" --argjson s "$sleeps" \
	'($d | length) == ($s | length) and ([range(0; $d | length)] | all($d[.] >= $s[.]))')" true
