#!/usr/bin/env bash
# Stopping spanprobe while a traced call stays open and traced calls go on
# beneath it (a server's loop and its handlers): detaching must finish, and
# the program goes on untouched. Since 6.12 a pending return probe can hold
# up unregistering for as long as the call stays open (see attachment__destroy);
# before the fix this left spanprobe in uninterruptible sleep for good.
source "$(dirname "$0")/../lib/common.sh"
scratch

# run NAME PROBES...: spanprobe first, then a demo-app whose request_loop
# (the probed loop) opens after the probes are in; stop spanprobe mid-run.
run() {
	local name=$1 sp app
	shift
	"$SPANPROBE" -o jsonl --output-file "$SCRATCH/$name.jsonl" --ready-file "$SCRATCH/$name.ready" "$@" \
		>/dev/null 2>"$SCRATCH/$name.err" &
	sp=$!
	bg_track $sp
	wait_for_line "$SCRATCH/$name.ready" "" 30
	"$DEMO" --requests 0 --interval 1 --seed 31 --time-scale 0.0005 --annotate >"$SCRATCH/$name.app" &
	app=$!
	bg_track $app
	wait_for_count "$SCRATCH/$name.jsonl" '"name":"foo"' 50
	kill -INT $sp
	# hang guard: 30 s, against the usual second
	if wait_exit $sp 30; then
		pass "$name.spanprobe_exits"
		expect_eq "$name.exit_status" "$WAIT_STATUS" 0
	else
		fail "$name.spanprobe_exits" "hang guard: still running 30 s after SIGINT, state $(awk '{print $3}' /proc/$sp/stat)"
		kill -KILL $app
		return
	fi
	check "$name.app_still_running" kill -0 $app
	n=$(grep -c "Zoo function completed" "$SCRATCH/$name.app")
	wait_for_count "$SCRATCH/$name.app" "Zoo function completed" $((n + 20))
	check "$name.app_goes_on" test "$(grep -c "Zoo function completed" "$SCRATCH/$name.app")" -ge $((n + 20))
	kill $app
}

run one_file "uprobe:$DEMO:foo,goo,zoo,request_loop"
# two files: the return probes of each can hold up the other's unregistering
run two_files "uprobe:$DEMO:foo,goo,zoo,request_loop" "uprobe:libc:clock_nanosleep"
