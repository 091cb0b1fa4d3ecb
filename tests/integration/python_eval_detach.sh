#!/usr/bin/env bash
# The evaluator path leaves a program as it found it, and never hangs:
# - detach while a thread keeps calling Python functions from a frame entered
#   after attach (what made a uretprobe's detach wait in the kernel on
#   3.8-3.10): spanprobe exits on SIGINT, the program keeps running;
# - a traced recursion 30 deep below 60 untraced Python frames: every call
#   is a whole span (a uretprobe keeps at most 64 pending returns a thread);
# - 3.11+: SIGTERM restores inlining (eval_frame read back as NULL); after
#   SIGKILL the hook stays, and the next spanprobe on that process takes it
#   as its own and restores it when it ends.
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/tests/lib/pyenvs.sh"
scratch
LOOP=$ROOT/tests/fixtures/py_busy_loop.py
EVAL_FRAME=$ROOT/build/tools/cpython-eval-frame
RUNS=${RUNS:-3}
PAD=60
DEPTH=30

[ -x "$EVAL_FRAME" ] || { fail all "$EVAL_FRAME not built (make fixtures)"; exit 0; }

# start_loop VERSION: the busy program, waiting for $SCRATCH/ready
start_loop() {
	rm -f "$SCRATCH/ready"
	"$(pyenv_prefix "$1")/bin/python$1" "$LOOP" "$SCRATCH/ready" $PAD $DEPTH >"$SCRATCH/loop.out" &
	LOOP_PID=$!
	bg_track $LOOP_PID
}
# trace VERSION EXTRA-ARGS...: spanprobe -p on the loop; it creates the ready file
trace() {
	local v=$1
	shift
	"$SPANPROBE" -p $LOOP_PID -o jsonl --output-file "$SCRATCH/spans.jsonl" --ready-file "$SCRATCH/ready" \
		"$@" "python:$(pyenv_prefix "$v")/bin/python$v:py_busy_loop.py:work,rec" 2>"$SCRATCH/sp.err" &
	TRACER=$!
	bg_track $TRACER
	wait_for_line "$SCRATCH/ready" . 30 && wait_for_line "$SCRATCH/loop.out" round 30
}

for v in $PY_VERSIONS; do
	if [ -z "$(pyenv_prefix "$v")" ]; then
		skip "py$v" "CPython $v is not installed (pyenv install $v)"
		continue
	fi
	hung=0 deep_ok=0
	for ((r = 0; r < RUNS; r++)); do
		start_loop "$v"
		if ! trace "$v"; then
			fail "py$v.attached" "no spans flowing (hang guard 30 s): $(tail -n 2 "$SCRATCH/sp.err")"
			kill $LOOP_PID $TRACER 2>/dev/null
			continue 2
		fi
		kill -INT $TRACER
		# hang guard: 30 s, 30x a detach's usual time (under a second)
		if ! wait_exit $TRACER 30; then
			hung=$((hung + 1))
			kill -9 $LOOP_PID
			wait_exit $TRACER 30
		else
			# the program goes on: it prints another round after the detach
			n=$(grep -c round "$SCRATCH/loop.out")
			wait_for_count "$SCRATCH/loop.out" round $((n + 1)) 30 || hung=$((hung + 100))
			kill $LOOP_PID
		fi
		wait $LOOP_PID 2>/dev/null
		# every rec() call is a whole span: none truncated (but those still
		# open when tracing stopped, which end there by design)
		got=$(jq -s '[.[] | select(.name == "rec")] | length' "$SCRATCH/spans.jsonl")
		trunc=$(jq -s '[.[] | select(.name == "rec" and any(.attributes[]; .key == "spanprobe.truncated")
			and (any(.attributes[]; .value.stringValue == "tracing stopped inside the call") | not))]
			| length' "$SCRATCH/spans.jsonl")
		[ "$got" -ge $((DEPTH + 1)) ] && [ "$trunc" -eq 0 ] && deep_ok=$((deep_ok + 1))
	done
	expect_eq "py$v.detach_never_hangs_and_the_program_goes_on" "$hung of $RUNS hung" "0 of $RUNS hung"
	expect_eq "py$v.calls_${PAD}_plus_${DEPTH}_deep_all_whole" "$deep_ok" "$RUNS"
	[ "${v#3.}" -ge 11 ] || continue

	lib=$(libpython_of "$v")
	start_loop "$v"
	trace "$v" || { fail "py$v.hook.attached" "$(tail -n 2 "$SCRATCH/sp.err")"; kill $LOOP_PID; continue; }
	read -r _ during _ default < <("$EVAL_FRAME" $LOOP_PID "$lib")
	expect_eq "py$v.hook.inlining_off_while_traced" "$during" "$default"
	kill -TERM $TRACER
	wait_exit $TRACER 30
	read -r _ after _ < <("$EVAL_FRAME" $LOOP_PID "$lib")
	expect_eq "py$v.hook.sigterm_restores_inlining" "$after" 0x0

	# SIGKILL: nothing can restore; the next run adopts and restores it
	rm -f "$SCRATCH/ready"
	trace "$v" || { fail "py$v.kill.attached" "$(tail -n 2 "$SCRATCH/sp.err")"; kill $LOOP_PID; continue; }
	kill -KILL $TRACER
	wait $TRACER 2>/dev/null
	read -r _ left _ < <("$EVAL_FRAME" $LOOP_PID "$lib")
	expect_eq "py$v.kill.hook_stays_after_sigkill" "$left" "$default"
	rm -f "$SCRATCH/ready"
	trace "$v" -v || { fail "py$v.kill.reattached" "$(tail -n 2 "$SCRATCH/sp.err")"; kill $LOOP_PID; continue; }
	kill -INT $TRACER
	wait_exit $TRACER 30
	check "py$v.kill.next_run_adopts_the_hook" grep -q "left by a spanprobe that was killed" "$SCRATCH/sp.err"
	read -r _ after _ < <("$EVAL_FRAME" $LOOP_PID "$lib")
	expect_eq "py$v.kill.next_run_restores_it" "$after" 0x0
	kill $LOOP_PID
	wait $LOOP_PID 2>/dev/null
done
exit 0 # the last wait returns the killed process's status, not a result
