#!/usr/bin/env bash
# Spans counted on binaries nobody here wrote equal bpftrace's counts of the
# same functions in the same run: Debian's redis-server under
# redis-benchmark, with functions of redis and of glibc whose entry probe
# spanprobe moves past their first instructions (-l shows "at +0x..")
# beside ones it probes at the symbol. A moved probe that fired on a path
# that is not a call (a jump into the skipped instructions), or missed
# calls, would show as a difference here.
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/tests/lib/peers.sh"
scratch
REDIS=/usr/bin/redis-server
LIBC=$(readlink -f /lib/x86_64-linux-gnu/libc.so.6)
for c in "$REDIS" redis-benchmark redis-cli bpftrace; do
	if ! command -v "$c" >/dev/null; then
		skip all "$c is not installed (scripts/install-deps.sh test)"
		exit 0
	fi
done
REDIS_FUNCS=(processCommand lookupKeyWrite createStringObject prepareClientToWrite call dictFind)
# (none that blocks: a call open at the stop would be a span short)
LIBC_FUNCS=(read write clock_gettime __errno_location)
# below the ephemeral range: a client's source port there made redis's bind fail once
free_port port || { fail all "no free loopback port"; exit 0; }

"$REDIS" --port "$port" --bind 127.0.0.1 --save '' --appendonly no >"$SCRATCH/redis.out" 2>&1 &
server=$!
bg_track "$server"
for _ in $(seq $((100 * HANG_SCALE))); do
	redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break
	sleep 0.1
done
if ! redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; then
	fail all "redis-server did not start: $(tail -n 3 "$SCRATCH/redis.out")"
	exit 0
fi

# The server is stopped while the tracers attach and detach: its timer
# (serverCron, 10 a second) calls some of these functions even when idle,
# and both tracers must see the same calls.
kill -STOP "$server"
join() { local IFS=,; echo "$*"; }
"$SPANPROBE" -l "uprobe:$REDIS:$(join "${REDIS_FUNCS[@]}")" "uprobe:$LIBC:$(join "${LIBC_FUNCS[@]}")" \
	>"$SCRATCH/list" 2>&1
moved=$(grep -c ', at +0x' "$SCRATCH/list")
check "some_entries_moved_past_the_first_instructions" test "${moved:-0}" -ge 4
check "some_entries_at_the_symbol" grep -Eq '\[(nop5|emulated|single-step)(, past endbr64)?\]' "$SCRATCH/list"

"$SPANPROBE" -p "$server" "uprobe:$REDIS:$(join "${REDIS_FUNCS[@]}")" \
	"uprobe:$LIBC:$(join "${LIBC_FUNCS[@]}")" -o jsonl --output-file "$SCRATCH/spans.jsonl" \
	>"$SCRATCH/sp.out" 2>"$SCRATCH/sp.err" &
sp=$!
bg_track "$sp"
bt_probes=()
for f in "${REDIS_FUNCS[@]}"; do bt_probes+=("uprobe:$REDIS:$f"); done
for f in "${LIBC_FUNCS[@]}"; do bt_probes+=("uprobe:$LIBC:$f"); done
# (-p alone does not keep bpftrace's library probes to the process)
bpftrace -p "$server" -e "BEGIN { printf(\"ready\\n\"); }
	$(join "${bt_probes[@]}") /pid == $server/ { @[probe] = count(); }" \
	>"$SCRATCH/bt.out" 2>"$SCRATCH/bt.err" &
bt=$!
bg_track "$bt"
if ! wait_for_line "$SCRATCH/sp.err" '^spanprobe: tracing' 60; then
	fail all "spanprobe did not attach: $(tail -n 3 "$SCRATCH/sp.err")"
	exit 0
fi
if ! wait_for_line "$SCRATCH/bt.out" '^ready' 120; then
	fail all "bpftrace did not attach: $(tail -n 3 "$SCRATCH/bt.err")"
	exit 0
fi

kill -CONT "$server"
redis-benchmark -p "$port" -t set,get -c 4 -n 2000 -q >"$SCRATCH/bench.out" 2>&1
check "benchmark_ran" grep -q 'GET: ' "$SCRATCH/bench.out"
kill -STOP "$server"
kill -TERM "$bt"
kill -INT "$sp"
wait_exit "$bt" 60 || fail bpftrace_stops "bpftrace still runs after SIGTERM: $(tail -n 3 "$SCRATCH/bt.err")"
wait_exit "$sp" 60 || fail spanprobe_stops "spanprobe still runs after SIGINT"
kill -CONT "$server"

for f in "${REDIS_FUNCS[@]}" "${LIBC_FUNCS[@]}"; do
	path=$REDIS
	[[ " ${LIBC_FUNCS[*]} " == *" $f "* ]] && path=$LIBC
	spans=$(grep -c "\"name\":\"$f\"" "$SCRATCH/spans.jsonl")
	bt_n=$(awk -v p="@[uprobe:$path:$f]:" '$1 == p { print $2 }' "$SCRATCH/bt.out")
	if [ -n "$bt_n" ] && [ "$spans" = "$bt_n" ]; then
		pass "$f"
	else
		fail "$f" "spanprobe $spans spans, bpftrace ${bt_n:-none}"
	fi
done
check "calls_counted" grep -q "\"name\":\"processCommand\"" "$SCRATCH/spans.jsonl"
