#!/usr/bin/env bash
# Threads coming and going: the kernel keeps each thread's open calls in a
# slot found by its thread id (1024 slots), in task storage when another
# live thread holds that slot, and takes a slot back when its thread exits.
# Checked against what the program itself reports: every call a span, once,
# nested right, with ids of its own; nothing carried over from a slot's
# earlier owner. Also: one span and then nothing arrives while the program
# idles (records wake the reader only in batches), and calls open across an
# exec end there.
source "$(dirname "$0")/../lib/common.sh"
scratch
APP=$ROOT/build/fixtures/thread-churn
# The kernel's THREAD_SLOTS (bpf/shadow_stack.bpf.h): the fixture makes
# more threads than that (twice as many by default: every slot taken back
# and reused), until COLLISIONS of them had a live holder's slot. The
# kernel matrix (QEMU without KVM, where a thread start is slow) makes fewer.
SLOTS=1024
HOLDERS=${THREADS_HOLDERS:-4}
MIN_THREADS=${THREADS_MIN:-$((2 * SLOTS))}
COLLISIONS=${THREADS_COLLISIONS:-8}

# --- churn: HOLDERS threads inside held_call while MIN_THREADS or more short
# threads (4 at a time) each call churn_outer -> churn_middle -> churn_inner.
"$SPANPROBE" -c "$APP churn $HOLDERS $SLOTS $COLLISIONS $MIN_THREADS 20000" -o jsonl --output-file "$SCRATCH/churn.jsonl" \
	"uprobe:$APP:churn_outer,churn_middle,churn_inner,held_call" \
	>"$SCRATCH/churn.app" 2>"$SCRATCH/churn.err"
expect_eq "churn.exit_status" "$?" 0
app() { sed -n "s/^$1 \([0-9]*\)$/\1/p" "$SCRATCH/churn.app"; }
threads=$(app threads)
collisions=$(app collisions)
reused=$(app reused)
expect_eq "churn.program_reported" "$([ -n "$threads" ] && [ -n "$collisions" ] && echo yes)" yes
threads=${threads:-0}
# (at most SLOTS distinct slots: every thread past that many reuses one)
check "churn.slots_reused_by_later_threads" test "${reused:-0}" -gt 0 -a "${reused:-0}" -ge $((threads - SLOTS))
check "churn.threads_sharing_a_live_holders_slot" test "${collisions:-0}" -ge "$COLLISIONS"
check "churn.summary_nothing_lost_or_truncated" grep -q "spans (0 errors, 0 truncated); lost 0 " "$SCRATCH/churn.err"
expect_eq "churn.span_count" "$(wc -l <"$SCRATCH/churn.jsonl")" $((3 * threads + HOLDERS))

# Each churn thread: one trace of three spans on one thread, nested
# outer > middle > inner, outer a root, all returning the thread's index;
# the indexes 0..threads-1 each once.
result=$(jq -s -c --argjson n "$threads" '
	def attr($k): [.attributes[] | select(.key == $k) | .value.intValue][0];
	def truncated: any(.attributes[]; .key == "spanprobe.truncated");
	map(select(.name | startswith("churn_"))) | group_by(.traceId) | map(
		(map({key: .name, value: .}) | from_entries) as $by
		| {n: length,
		   index: ($by.churn_outer | attr("spanprobe.return_value")),
		   ok: ($by.churn_outer.parentSpanId == ""
			and $by.churn_middle.parentSpanId == $by.churn_outer.spanId
			and $by.churn_inner.parentSpanId == $by.churn_middle.spanId
			and ([.[] | attr("thread.id")] | unique | length) == 1
			and ([.[] | attr("spanprobe.return_value")] | unique | length) == 1
			and ([.[] | truncated] | any | not))})
	| {traces: length,
	   all_nested_right: all(.[]; .n == 3 and .ok),
	   indexes_once: ((map(.index | tonumber) | sort) == [range(0; $n)])}' "$SCRATCH/churn.jsonl")
expect_eq "churn.one_trace_per_thread_nested_right" "$result" \
	"{\"traces\":$threads,\"all_nested_right\":true,\"indexes_once\":true}"

# The holders: still one root span each, returned after the churn, on
# their own threads, each in a trace of its own.
result=$(jq -s -c '
	map(select(.name == "held_call"))
	| {n: length,
	   roots: all(.[]; .parentSpanId == ""),
	   complete: all(.[]; any(.attributes[]; .key == "spanprobe.truncated") | not),
	   returns: (map(.attributes[] | select(.key == "spanprobe.return_value") | .value.intValue | tonumber) | sort)}' \
	"$SCRATCH/churn.jsonl")
expect_eq "churn.holders_kept_their_calls" "$result" \
	"{\"n\":$HOLDERS,\"roots\":true,\"complete\":true,\"returns\":$(jq -c -n --argjson h "$HOLDERS" '[range(0; $h)]')}"

# Ids: no span id twice, none zero; every trace id distinct (one per
# thread's trace), none zero.
result=$(jq -s -c '
	{spans: length,
	 span_ids: (map(.spanId) | unique | length),
	 trace_ids: (map(.traceId) | unique | length),
	 zero_ids: (map(select((.spanId | test("^0+$")) or (.traceId | test("^0+$")))) | length)}' \
	"$SCRATCH/churn.jsonl")
expect_eq "churn.ids_unique_and_nonzero" "$result" \
	"{\"spans\":$((3 * threads + HOLDERS)),\"span_ids\":$((3 * threads + HOLDERS)),\"trace_ids\":$((threads + HOLDERS)),\"zero_ids\":0}"

# --- idle: one call, then the program waits with nothing more to send.
# The record alone must reach the output (the reader's periodic drain),
# not wait for more records or for the program's end.
go=$SCRATCH/go
"$SPANPROBE" -c "$APP idle $go" -o jsonl --output-file "$SCRATCH/idle.jsonl" \
	"uprobe:$APP:lonely_call" >"$SCRATCH/idle.app" 2>"$SCRATCH/idle.err" &
sp=$!
bg_track $sp
# (hang guards, stretched by HANG_SCALE: the reader drains every 100 ms)
if wait_for_line "$SCRATCH/idle.app" '^called$' $((60 * HANG_SCALE)); then
	if wait_for_count "$SCRATCH/idle.jsonl" '"name":"lonely_call"' 1 $((10 * HANG_SCALE)); then
		pass "idle.single_span_arrives_while_the_program_idles"
	else
		fail "idle.single_span_arrives_while_the_program_idles" \
			"no span $((10 * HANG_SCALE)) s after the call (hang guard); spanprobe: $(tail -n 3 "$SCRATCH/idle.err")"
	fi
else
	fail "idle.single_span_arrives_while_the_program_idles" "the program never said it called (hang guard, $((60 * HANG_SCALE)) s)"
fi
touch "$go"
if wait_exit $sp $((60 * HANG_SCALE)); then
	expect_eq "idle.exit_status" "$WAIT_STATUS" 0
else
	fail "idle.exit_status" "spanprobe still running $((60 * HANG_SCALE)) s after the program was let go (hang guard)"
fi
expect_eq "idle.exactly_one_span" "$(wc -l <"$SCRATCH/idle.jsonl")" 1

# --- exec: exec_call never returns (the program is replaced); the new
# program's churn_outer chain is its own trace, not nested in the old call.
# From the main thread, and from another thread (which the kernel gives the
# main thread's id as it execs).
for mode in exec exec-thread; do
	"$SPANPROBE" -c "$APP $mode" -o jsonl --output-file "$SCRATCH/$mode.jsonl" \
		"uprobe:$APP:exec_call,churn_outer,churn_middle,churn_inner" \
		>"$SCRATCH/$mode.app" 2>"$SCRATCH/$mode.err"
	expect_eq "$mode.exit_status" "$?" 0
	result=$(jq -s -c '
		(map({key: .name, value: .}) | from_entries) as $by
		| {n: length,
		   exec_call_ended_by_exec: ([$by.exec_call.attributes[] | select(.key == "spanprobe.lost_reason") | .value.stringValue][0]),
		   new_program_a_root: ($by.churn_outer.parentSpanId == ""),
		   new_trace: ($by.churn_outer.traceId != $by.exec_call.traceId),
		   nested: ($by.churn_middle.parentSpanId == $by.churn_outer.spanId and $by.churn_inner.parentSpanId == $by.churn_middle.spanId)}' \
		"$SCRATCH/$mode.jsonl")
	expect_eq "$mode.open_call_ends_at_exec_and_new_program_starts_a_trace" "$result" \
		'{"n":4,"exec_call_ended_by_exec":"the program was replaced (exec) inside the call","new_program_a_root":true,"new_trace":true,"nested":true}'
done
