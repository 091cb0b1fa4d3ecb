#!/usr/bin/env bash
# Calls whose return never fires: left by longjmp, or by the thread exiting.
# They must come out as truncated spans, and later calls must still nest right.
source "$(dirname "$0")/../lib/common.sh"
scratch
APP=$ROOT/build/fixtures/unwind-app

# --- longjmp: outer -> thrower -> deep, deep longjmps into outer, which calls after
"$SPANPROBE" -c "$APP longjmp 20" -o jsonl --output-file "$SCRATCH/lj.jsonl" \
	"uprobe:$APP:outer,thrower,deep,after" >/dev/null 2>"$SCRATCH/lj.err"
expect_eq "longjmp.exit_status" "$?" 0
check "longjmp.summary_counts_truncated" grep -q "80 spans (0 errors, 40 truncated)" "$SCRATCH/lj.err"
result=$(jq -s -c '
	group_by(.traceId) | map(
		(map({key: .name, value: .}) | from_entries) as $by
		| {n: length,
		   outer_root: ($by.outer.parentSpanId == ""),
		   outer_complete: (any($by.outer.attributes[]; .key == "spanprobe.truncated") | not),
		   thrower_under_outer: ($by.thrower.parentSpanId == $by.outer.spanId),
		   deep_under_thrower: ($by.deep.parentSpanId == $by.thrower.spanId),
		   after_under_outer: ($by.after.parentSpanId == $by.outer.spanId),
		   thrower_truncated: any($by.thrower.attributes[]; .key == "spanprobe.truncated"),
		   deep_truncated: any($by.deep.attributes[]; .key == "spanprobe.truncated"),
		   after_complete: (any($by.after.attributes[]; .key == "spanprobe.truncated") | not),
		   after_returns_2: any($by.after.attributes[]; .key == "spanprobe.return_value" and .value.intValue == "2")})
	| {traces: length, all_ok: all(.[]; .n == 4 and ([.[] | select(type == "boolean")] | all))}' "$SCRATCH/lj.jsonl")
expect_eq "longjmp.twenty_traces_each_nested_right" "$result" '{"traces":20,"all_ok":true}'

# --- a thread ending inside in_thread -> exits_thread; then main calls after
"$SPANPROBE" -c "$APP thread-exit" -o jsonl --output-file "$SCRATCH/te.jsonl" \
	"uprobe:$APP:in_thread,exits_thread,after" >/dev/null 2>"$SCRATCH/te.err"
expect_eq "thread_exit.exit_status" "$?" 0
lost=$(jq -r 'select(any(.attributes[]; .key == "spanprobe.truncated")) | .name + ":" +
	(.attributes[] | select(.key == "spanprobe.lost_reason") | .value.stringValue)' "$SCRATCH/te.jsonl" | sort | tr '\n' ';')
expect_eq "thread_exit.both_calls_truncated_by_thread_exit" "$lost" \
	"exits_thread:thread exited inside the call;in_thread:thread exited inside the call;"
nested=$(jq -s -r '(map({key: .name, value: .}) | from_entries) as $b
	| ($b.exits_thread.parentSpanId == $b.in_thread.spanId) and ($b.after.parentSpanId == "")' "$SCRATCH/te.jsonl")
expect_eq "thread_exit.nesting_kept_and_later_call_is_a_root" "$nested" true

# --- nesting deeper than the kernel keeps (32): counted, the rest still right
"$SPANPROBE" -c "$APP recurse 40" -o jsonl --output-file "$SCRATCH/deep.jsonl" \
	"uprobe:$APP:recurse" >/dev/null 2>"$SCRATCH/deep.err"
expect_eq "depth.spans_kept" "$(wc -l <"$SCRATCH/deep.jsonl")" 32
check "depth.drops_counted" grep -q "nesting > 32 8" "$SCRATCH/deep.err"
# recurse(d) returns d: the outermost recorded call returns 40, depth 0
expect_eq "depth.root_return_value" "$(jq -r 'select(.parentSpanId == "") | .attributes[] |
	select(.key == "spanprobe.return_value") | .value.intValue' "$SCRATCH/deep.jsonl")" 40

# stop_inside NAME "CMD" OUTER INNER: the program says "ready", calls OUTER
# at SIGUSR1, which calls INNER and says "inside", and returns 3 at SIGUSR2.
# Tracing stops (SIGINT) while OUTER is open, INNER done: OUTER is sent as
# truncated with INNER under it, and the program, no longer traced, returns
# from OUTER as if never traced.
stop_inside() {
	local name=$1 cmd=$2 outer=$3 inner=$4 out=$SCRATCH/$1.out app tracer bin=${2%% *} got
	$cmd >"$out" 2>&1 &
	app=$!
	bg_track "$app"
	wait_for_line "$out" '^ready' 10
	"$SPANPROBE" -p "$app" -o jsonl --output-file "$SCRATCH/$name.jsonl" \
		"uprobe:$bin:$outer,$inner" >/dev/null 2>"$SCRATCH/$name.err" &
	tracer=$!
	bg_track "$tracer"
	wait_for_line "$SCRATCH/$name.err" '^spanprobe: tracing' 30
	kill -USR1 "$app"
	wait_for_line "$out" '^inside' 10 # INNER has returned, OUTER is open
	kill -INT "$tracer"
	wait_exit "$tracer" 30
	expect_eq "$name.tracer_exit_status" "$WAIT_STATUS" 0
	got=$(jq -s -c --arg o "$outer" --arg i "$inner" '(map({key: .name, value: .}) | from_entries) as $b
		| {spans: length,
		   outer_reason: ([$b[$o].attributes[] | select(.key == "spanprobe.lost_reason") | .value.stringValue] | first),
		   inner_complete: (any($b[$i].attributes[]; .key == "spanprobe.truncated") | not),
		   inner_under_outer: ($b[$i].parentSpanId == $b[$o].spanId and $b[$o].parentSpanId == ""),
		   outer_holds_inner: (($b[$o].startTimeUnixNano | tonumber) <= ($b[$i].startTimeUnixNano | tonumber)
		                      and ($b[$o].endTimeUnixNano | tonumber) >= ($b[$i].endTimeUnixNano | tonumber))}' \
		"$SCRATCH/$name.jsonl")
	expect_eq "$name.open_call_sent_truncated_as_parent" "$got" \
		'{"spans":2,"outer_reason":"tracing stopped inside the call","inner_complete":true,"inner_under_outer":true,"outer_holds_inner":true}'
	expect_eq "$name.summary_counts_it_truncated" "$(summary_truncated "$SCRATCH/$name.err")" 1
	kill -USR2 "$app"
	wait_exit "$app" 10
	expect_eq "$name.program_returns_as_untraced" "$WAIT_STATUS $(tail -n 1 "$out")" "0 waits returned 3"
}

stop_inside stop "$APP open-at-stop" waits after
if [ -x "$ROOT/build/fixtures/go-returns" ]; then
	stop_inside go_stop "$ROOT/build/fixtures/go-returns open-at-stop" main.waits main.inner
else
	skip go_stop "go not installed (scripts/install-deps.sh test)"
fi
