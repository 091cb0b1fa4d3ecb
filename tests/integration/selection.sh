#!/usr/bin/env bash
# Choosing processes (--exe) instead of tracing every process that maps a
# probed file: two processes run the same binary (two hard links to it), one
# is chosen. Only the chosen one is traced, and the other carries no
# breakpoint at all (its code at the probed address is untouched: it pays
# nothing); a matching process started later is chosen as it starts.
source "$(dirname "$0")/../lib/common.sh"
scratch
mkdir -p "$SCRATCH/a" "$SCRATCH/b"
ln "$DEMO" "$SCRATCH/a/app-chosen"
ln "$DEMO" "$SCRATCH/b/app-other"
P="uprobe:$DEMO:foo,goo,zoo"

# first_byte PID OFFSET: the byte at OFFSET of the probed binary in PID (cc: a breakpoint)
first_byte() { code_byte "$1" "$DEMO" "$2"; }
foo_off=$(printf '%d' "$("$SPANPROBE" -l -v "uprobe:$DEMO:foo" | sed -n 's/.* offset \(0x[0-9a-f]*\) .*/\1/p')")

"$SCRATCH/b/app-other" --requests 0 --interval 5 --seed 21 --time-scale 0.002 --annotate >"$SCRATCH/other.app" &
other=$!
bg_track $other
"$SCRATCH/a/app-chosen" --requests 0 --interval 5 --seed 22 --time-scale 0.002 --annotate >"$SCRATCH/chosen.app" &
chosen=$!
bg_track $chosen
wait_for_line "$SCRATCH/chosen.app" "req=" 10
expect_eq "untraced_code_is_whole" "$(first_byte $other $foo_off)" "$(first_byte $chosen $foo_off)"

"$SPANPROBE" --exe '*/app-chosen' -v -o jsonl --output-file "$SCRATCH/spans.jsonl" --error 'goo:ret<0' "$P" \
	2>"$SCRATCH/sp.err" &
tracer=$!
bg_track $tracer
check "started" wait_for_line "$SCRATCH/sp.err" "tracing 3 functions in the processes chosen" 30
# requests each app says it made (its own count), while traced
requests_made() { grep -o '^tid=[0-9]* req=[0-9]*' "$1" | sort -u | wc -l; }
chosen0=$(requests_made "$SCRATCH/chosen.app") other0=$(requests_made "$SCRATCH/other.app")
check "chosen_said_why" grep -q "process $chosen chosen: .*/app-chosen matches --exe '\*/app-chosen'" "$SCRATCH/sp.err"
check "other_said_why" grep -q "process $other not chosen: .*/app-other matches no --exe" "$SCRATCH/sp.err"
expect_eq "chosen_has_the_breakpoint" "$(first_byte $chosen $foo_off)" cc
check "other_has_no_breakpoint" test "$(first_byte $other $foo_off)" != cc
wait_for_count "$SCRATCH/spans.jsonl" '"name":"foo"' 10

# a matching process started later is chosen as it execs (its first calls
# may run before its probes are in: they are decided once it runs)
"$SCRATCH/a/app-chosen" --requests 0 --interval 5 --seed 23 --time-scale 0.002 --annotate \
	>"$SCRATCH/later.app" &
later=$!
bg_track $later
check "later_chosen" wait_for_line "$SCRATCH/sp.err" "process $later chosen" 10
wait_for_count "$SCRATCH/spans.jsonl" "\"name\":\"foo\".*\"intValue\":\"$later\"" 10
kill -INT $tracer
wait_exit $tracer 60 || fail exits "hang guard: spanprobe still runs 60 s after SIGINT"
expect_eq "exit_status" "$WAIT_STATUS" 0
chosen1=$(requests_made "$SCRATCH/chosen.app") other1=$(requests_made "$SCRATCH/other.app")
later1=$(requests_made "$SCRATCH/later.app")

pids=$(jq -r 'select(.name == "foo") | .attributes[] | select(.key == "process.pid") | .value.intValue' \
	"$SCRATCH/spans.jsonl" | sort -u | tr '\n' ' ')
expect_eq "spans_from_chosen_only" "$pids" "$(printf '%s\n' $chosen $later | sort -u | tr '\n' ' ')"
summary=$(jq -s -c --arg pid "$later" '
	map(select(any(.attributes[]; .key == "process.pid" and .value.intValue == $pid))) as $mine
	| ($mine | map(select(.name == "foo" and .parentSpanId == ""))) as $all
	# the first foo may begin while the probes go in, the last one end while
	# they come out (one function probed, its callee not yet or no longer):
	# the ones between are whole
	| ($all | sort_by(.startTimeUnixNano | tonumber) | .[1:-1]) as $foos
	| {foos: ($foos | length),
	   nested: all($foos[]; .spanId as $id | .traceId as $t
		| ([$mine[] | select(.parentSpanId == $id and .traceId == $t) | .name] | sort) == ["goo", "zoo"])}' \
	"$SCRATCH/spans.jsonl")
check "started_later.traced_requests" jq -e '.foos >= 8' <<<"$summary"
check "started_later.foo_has_goo_and_zoo" jq -e '.nested' <<<"$summary"
# every entry the kernel saw was the chosen processes': the other's calls
# never trapped. The bound is what the chosen apps say they did while traced
# (a request on each side of the window), far below what the other did then.
foo_hits=$(sed -n 's/^spanprobe: hits per function: foo \([0-9]*\),.*/\1/p' "$SCRATCH/sp.err")
foo_spans=$(jq -s 'map(select(.name == "foo")) | length' "$SCRATCH/spans.jsonl")
chosen_made=$((chosen1 - chosen0 + 2 + later1))
check "other_made_calls_while_traced" test "$((other1 - other0))" -gt 10
check "hits_only_from_chosen" test "${foo_hits:-0}" -ge "$foo_spans" -a "$foo_spans" -gt 0 \
	-a "${foo_hits:-0}" -le "$chosen_made"
check "other_still_untouched_after" test "$(first_byte $other $foo_off)" != cc
"$SPANPROBE" --exe x -p $other "$P" >/dev/null 2>"$SCRATCH/both.err"
expect_eq "exe_with_pid.usage_exit" "$?" 64
check "exe_with_pid.says_why" grep -q "it can't go with -p or -c" "$SCRATCH/both.err"

# --- a chosen shell execs the traced program, which ends before spanprobe
# reads the exec (its reader held back, as on a busy machine): the calls
# were traced (the probes stay through the exec) and are named after the
# program the report names, though /proc has nothing of it any more
cp "$(command -v bash)" "$SCRATCH/a/chosen-sh"
"$SPANPROBE" --exe '*/chosen-sh' -v -o jsonl --output-file "$SCRATCH/gone.jsonl" "$P" 2>"$SCRATCH/gone.err" &
tracer=$!
bg_track $tracer
wait_for_line "$SCRATCH/gone.err" "tracing 3 functions in the processes chosen" 30
"$SCRATCH/a/chosen-sh" -c "until [ -e '$SCRATCH/go' ]; do sleep 0.05; done
	exec '$DEMO' --requests 3 --seed 24 --time-scale 0.0001" >/dev/null &
sh_pid=$!
bg_track $sh_pid
check "gone.shell_chosen" wait_for_line "$SCRATCH/gone.err" "process $sh_pid chosen" 10
kill -STOP $tracer
touch "$SCRATCH/go"
wait_or_fail $sh_pid
expect_eq "gone.program_exit_status" "$?" 0
kill -CONT $tracer
wait_for_count "$SCRATCH/gone.jsonl" '"name":"foo"' 3 30
kill -INT $tracer
wait_or_fail $tracer
expect_eq "gone.spans_named_after_the_program" "$(jq -r --arg pid "$sh_pid" 'select(any(.attributes[];
	.key == "process.pid" and .value.intValue == $pid)) | .attributes[] |
	select(.key == "process.executable.name") | .value.stringValue' "$SCRATCH/gone.jsonl" | sort | uniq -c |
	awk '{ print $2 ":" $1 }')" "demo-app:9"
