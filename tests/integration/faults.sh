#!/usr/bin/env bash
# Faults around the traced program and spanprobe itself, each bounded in time:
#   traced_killed_in_zoo  demo-app SIGKILLed while its threads sleep in zoo:
#                         the open calls come out as truncated spans, and the
#                         same spanprobe then traces a new run correctly
#   sigterm_under_load    spanprobe SIGTERMed while 4 threads call at full
#                         speed: it exits within 5 s with its summary; the
#                         traced program finishes every request correctly
#   sigkill_spanprobe     spanprobe SIGKILLed under the same load: the traced
#                         program is unharmed (no SIGTRAP), and the next
#                         spanprobe attaches and traces correctly
#   ring_overflow         the reader stopped (SIGSTOP) while 8 threads burst
#                         calls: the ring buffer fills, and spans received +
#                         "ring buffer full" drops = calls the program made
source "$(dirname "$0")/../lib/common.sh"
scratch
BURST=$ROOT/build/fixtures/burst
PROBE="uprobe:$DEMO:foo,goo,zoo"


# start_spanprobe NAME ARGS...: in the background (SP_PID); returns once it
# has attached (its ready file exists; 10 s at most).
start_spanprobe() {
	local name=$1
	shift
	"$SPANPROBE" --ready-file "$SCRATCH/$name.ready" "$@" >"$SCRATCH/$name.out" 2>"$SCRATCH/$name.err" &
	SP_PID=$!
	bg_track "$SP_PID"
	wait_for_line "$SCRATCH/$name.ready" "" 10
}

# stop_within PID MS: SIGTERM and wait; sets STOP_MS (-1: still alive after
# MS times HANG_SCALE, then SIGKILLed: a hang guard) and STOP_RC, its exit status.
stop_within() {
	local pid=$1 bound=$(($2 * HANG_SCALE)) t0 i
	t0=$(now_ms)
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < bound / 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	STOP_MS=$(($(now_ms) - t0))
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		STOP_MS=-1
	fi
	wait "$pid" 2>/dev/null
	STOP_RC=$?
}

# in_nanosleep PID N: N of the process's threads sleep in nanosleep (zoo).
in_nanosleep() {
	local n
	local f n=0
	for f in /proc/"$1"/task/*/wchan; do
		[[ $(cat "$f" 2>/dev/null) == *nanosleep* ]] && n=$((n + 1))
	done
	[ "$n" -ge "$2" ]
}

# jsonl_of_pid FILE PID: the spans of one process.
jsonl_of_pid() {
	jq -c --arg pid "$2" 'select(any(.attributes[]; .key == "process.pid" and .value.intValue == $pid))' "$1"
}

# app_output_ok FILE THREADS REQUESTS: demo-app --annotate finished every
# request of every thread: one goo outcome and one zoo line each, numbered
# 1..REQUESTS per thread.
app_output_ok() {
	local file=$1 threads=$2 requests=$3 want=$(($2 * $3))
	[ "$(grep -c 'Zoo function completed' "$file")" -eq "$want" ] &&
		[ "$(grep -Ec 'Goo function completed|Exception in goo' "$file")" -eq "$want" ] &&
		[ "$(sed -n 's/^tid=\([0-9]*\) .*Zoo.*/\1/p' "$file" | sort -u | wc -l)" -eq "$threads" ] &&
		[ "$(grep -c "^tid=[0-9]* req=$requests zoo_sleep" "$file")" -eq "$threads" ]
}

# --- the traced program SIGKILLed inside zoo, then a new run ---------------
traced_killed_in_zoo() {
	local name=killed_in_zoo app i rc
	if ! start_spanprobe "$name" -o jsonl --output-file "$SCRATCH/$name.jsonl" --error 'goo:ret<0' "$PROBE"; then
		fail "$name.spanprobe_started" "$(cat "$SCRATCH/$name.err")"
		return
	fi
	# zoo sleeps 0-500 s: two threads will be in it within a second.
	"$DEMO" --requests 3 --threads 2 --seed 5 --time-scale 100 --annotate >"$SCRATCH/$name.app1" &
	app=$!
	for ((i = 0; i < 100; i++)); do
		in_nanosleep "$app" 2 && break
		sleep 0.05
	done
	check "$name.both_threads_in_zoo" in_nanosleep "$app" 2
	kill -KILL "$app"
	wait "$app" 2>/dev/null
	# The kernel's thread-exit hook sends their open foo and zoo.
	sleep 0.5
	"$DEMO" --requests 20 --threads 2 --seed 6 --time-scale 0.002 --annotate >"$SCRATCH/$name.app2" &
	app2=$!
	wait "$app2"
	rc=$?
	expect_eq "$name.second_run_exit_status" "$rc" 0
	sleep 0.3
	stop_within "$SP_PID" 30000
	check "$name.spanprobe_stops_on_sigterm" test "$STOP_MS" -ge 0
	expect_eq "$name.spanprobe_exit_status" "$STOP_RC" 0
	expect_eq "$name.summary_counts_4_truncated" "$(summary_truncated "$SCRATCH/$name.err")" 4
	jsonl_of_pid "$SCRATCH/$name.jsonl" "$app" >"$SCRATCH/$name.killed.jsonl"
	expect_eq "$name.killed_run_open_calls_truncated_by_thread_exit" "$(jq -r 'select(any(.attributes[]; .key == "spanprobe.truncated")) | .name + ":" +
		(.attributes[] | select(.key == "spanprobe.lost_reason") | .value.stringValue)' "$SCRATCH/$name.killed.jsonl" | sort | tr '\n' ';')" \
		"foo:thread exited inside the call;foo:thread exited inside the call;zoo:thread exited inside the call;zoo:thread exited inside the call;"
	expect_eq "$name.killed_run_zoo_under_foo" "$(jq -s -r 'map(select(.name == "foo")) as $f | map(select(.name == "zoo"))
		| all(.[]; .parentSpanId as $p | any($f[]; .spanId == $p))' "$SCRATCH/$name.killed.jsonl")" true
	# No stale per-thread state: the next process's traces are exact.
	jsonl_of_pid "$SCRATCH/$name.jsonl" "$app2" >"$SCRATCH/$name.next.jsonl"
	report_checks "$name.next_run" tests/lib/check_demo_spans.sh jsonl "$SCRATCH/$name.next.jsonl" "$SCRATCH/$name.app2" 40
}

# --- spanprobe stopped (SIGTERM or SIGKILL) while 4 threads call flat out ---
# The app runs long enough (about 2.5 s untraced) to outlive the stop.
LOAD_REQUESTS=30000
stop_under_load() {
	local name=$1 sig=$2 app rc t0 spans
	if ! start_spanprobe "$name" -o jsonl --output-file /dev/null "$PROBE"; then
		fail "$name.spanprobe_started" "$(cat "$SCRATCH/$name.err")"
		return
	fi
	"$DEMO" --requests "$LOAD_REQUESTS" --threads 4 --seed 7 --time-scale 0 --annotate >"$SCRATCH/$name.app" 2>"$SCRATCH/$name.app.err" &
	app=$!
	sleep 1
	if ! kill -0 "$app" 2>/dev/null; then
		fail "$name.app_still_running_at_the_stop" "demo-app finished within 1 s: raise LOAD_REQUESTS"
	fi
	t0=$(now_ms)
	if [ "$sig" = TERM ]; then
		# hang guard: ten times the usual second or so
		stop_within "$SP_PID" 30000
		echo "# $name: spanprobe exited $STOP_MS ms after SIGTERM"
		check "$name.exits_after_sigterm_hang_guard_30s" test "$STOP_MS" -ge 0
		expect_eq "$name.spanprobe_exit_status" "$STOP_RC" 0
		spans=$(summary_spans "$SCRATCH/$name.err")
		check "$name.summary_printed_with_spans" test "${spans:-0}" -gt 0
	else
		# The BPF links it holds, to check they go with it.
		KILLED_LINKS=$(cat /proc/"$SP_PID"/fdinfo/* 2>/dev/null | sed -n 's/^link_id:[[:space:]]*//p')
		kill -KILL "$SP_PID"
		wait "$SP_PID" 2>/dev/null
	fi
	check "$name.app_alive_after_the_stop" kill -0 "$app"
	wait "$app"
	rc=$?
	echo "# $name: demo-app ran on $(($(now_ms) - t0)) ms after spanprobe stopped"
	expect_eq "$name.app_exit_status" "$rc" 0
	check "$name.app_finished_every_request" app_output_ok "$SCRATCH/$name.app" 4 "$LOAD_REQUESTS"
	check "$name.app_no_stderr" test ! -s "$SCRATCH/$name.app.err"
}

sigkill_then_next() {
	local name=after_sigkill rc
	# Nothing of the killed spanprobe's may stay attached.
	local id left=""
	for id in $KILLED_LINKS; do
		bpftool link show id "$id" >/dev/null 2>&1 && left="$left $id"
	done
	check "$name.killed_spanprobe_had_links" test -n "$KILLED_LINKS"
	expect_eq "$name.no_bpf_link_left_behind" "$left" ""
	"$SPANPROBE" -c "$DEMO --requests 30 --threads 2 --seed 8 --time-scale 0.002 --annotate" \
		-o jsonl --output-file "$SCRATCH/$name.jsonl" --error 'goo:ret<0' "$PROBE" \
		>"$SCRATCH/$name.app" 2>"$SCRATCH/$name.err"
	rc=$?
	expect_eq "$name.exit_status" "$rc" 0
	report_checks "$name" tests/lib/check_demo_spans.sh jsonl "$SCRATCH/$name.jsonl" "$SCRATCH/$name.app" 60
}

# --- ring buffer overflow: exact accounting ---------------------------------
# ring_overflow NAME [--ring-buffer SIZE]: leaves the spans received in RECEIVED
ring_overflow() {
	local name=$1 rc i calls spans full threads=8 per_thread=100000
	shift
	rm -f "$SCRATCH/go"
	if ! start_spanprobe "$name" "$@" -o jsonl --output-file /dev/null \
		-c "$BURST $threads $per_thread $SCRATCH/go" "uprobe:$BURST:burst_call"; then
		fail "$name.spanprobe_started" "$(cat "$SCRATCH/$name.err")"
		return
	fi
	kill -STOP "$SP_PID"
	touch "$SCRATCH/go"
	wait_for_line "$SCRATCH/$name.out" "^calls " 30
	sleep 1
	kill -CONT "$SP_PID"
	wait_or_fail "$SP_PID"
	rc=$?
	expect_eq "$name.exit_status" "$rc" 0
	calls=$(sed -n 's/^calls //p' "$SCRATCH/$name.out")
	spans=$(summary_spans "$SCRATCH/$name.err")
	full=$(summary_ring_full "$SCRATCH/$name.err")
	echo "# $name: $calls calls, $spans spans received, $full lost to a full ring buffer"
	expect_eq "$name.burst_made_every_call" "$calls" $((threads * per_thread))
	check "$name.ring_buffer_full_counted" test "${full:-0}" -gt 0
	expect_eq "$name.received_plus_ring_drops_equals_calls" "$((${spans:-0} + ${full:-0}))" "$calls"
	check "$name.no_other_losses" grep -q "nesting > 32 0, no thread slot 0" "$SCRATCH/$name.err"
	RECEIVED=${spans:-0}
}

if [ ! -x "$BURST" ]; then
	fail burst_built "no $BURST (make fixtures)"
	exit 1
fi
traced_killed_in_zoo
stop_under_load sigterm_under_load TERM
stop_under_load sigkill_spanprobe KILL
sigkill_then_next
ring_overflow ring_overflow
default_received=$RECEIVED
# --ring-buffer sizes it: a 1 MiB ring holds at most 1 MiB of 88-byte
# records (header included) while the reader is stopped, the default more.
ring_overflow ring_overflow_1m --ring-buffer 1M
check ring_overflow_1m.fits_1_mib test "$RECEIVED" -le $(((1 << 20) / 88))
check ring_overflow_1m.default_holds_more test "$default_received" -gt $(((1 << 20) / 88))
