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
