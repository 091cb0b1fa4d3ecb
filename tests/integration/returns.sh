#!/usr/bin/env bash
# Programs whose stacks a uretprobe would break, traced with the default
# rule (returns seen at exit instructions for Go, C++, Rust and functions
# that return twice): each must behave exactly as untraced (stdout, exit
# status), give one span per call it reports, and ERROR exactly on the calls
# an exception or panic left.
source "$(dirname "$0")/../lib/common.sh"
scratch
FIX=$ROOT/build/fixtures

# run_both NAME CMD PROBE...: runs CMD untraced and traced (jsonl into
# $SCRATCH/NAME.jsonl); checks stdout and exit status are equal.
run_both() {
	local name=$1 cmd=$2
	shift 2
	$cmd >"$SCRATCH/$name.plain" 2>"$SCRATCH/$name.plain.err"
	local plain_rc=$?
	"$SPANPROBE" -c "$cmd" -o jsonl --output-file "$SCRATCH/$name.jsonl" "$@" \
		>"$SCRATCH/$name.out" 2>"$SCRATCH/$name.err"
	local traced_rc=$?
	expect_eq "$name.exit_status_as_untraced" "$traced_rc" "$plain_rc"
	if cmp -s "$SCRATCH/$name.plain" "$SCRATCH/$name.out"; then
		pass "$name.stdout_as_untraced"
	else
		fail "$name.stdout_as_untraced" "$(diff "$SCRATCH/$name.plain" "$SCRATCH/$name.out" | head -5 | tr '\n' ' ')"
	fi
}
# count NAME REGEX: a number the program printed after the words in REGEX
count() { sed -n "s/.*$2 \([0-9]*\).*/\1/p" "$SCRATCH/$1.out" | head -n 1; }
errors_in() { jq -s '[.[] | select(.status.code == 2)] | length' "$SCRATCH/$1.jsonl"; }

# --- C++: the issue's program: handler() catches what thrower() throws
run_both cxx_issue "$FIX/cpp-exceptions issue" "uprobe:$FIX/cpp-exceptions:issue_thrower,issue_handler"
check "cxx_issue.prints_sum_24" grep -qx "sum=24" "$SCRATCH/cxx_issue.out"
expect_eq "cxx_issue.one_span_per_call" "$(summary_spans "$SCRATCH/cxx_issue.err")" 16
expect_eq "cxx_issue.thrower_left_twice_is_error" "$(jq -s -c '[.[] | select(.status.code == 2) |
	[.name, (.events[0].attributes | map(.value.stringValue) | join(": "))]] | unique' "$SCRATCH/cxx_issue.jsonl")" \
	'[["issue_thrower(int)","std::runtime_error: four"]]'
expect_eq "cxx_issue.errors" "$(errors_in cxx_issue)" 2

# the same with one perf-event link per probe (kernels without uprobe_multi)
SPANPROBE_NO_UPROBE_MULTI=1 run_both cxx_issue_single "$FIX/cpp-exceptions issue" \
	"uprobe:$FIX/cpp-exceptions:issue_thrower,issue_handler"
expect_eq "cxx_issue_single.spans_and_errors" "$(summary_spans "$SCRATCH/cxx_issue_single.err") $(errors_in cxx_issue_single)" "16 2"

# --- C++: caught at depths 1..4 of a traced recursion (some rethrown to main),
# caught only in main, and both in 4 threads at once
for mode in "inside 24" "outside 12" "threads 4 12"; do
	name=cxx_${mode%% *}
	run_both "$name" "$FIX/cpp-exceptions $mode" "uprobe:$FIX/cpp-exceptions:descend,thrower"
	calls=$(($(count "$name" "descend calls") + $(count "$name" "thrower calls")))
	expect_eq "$name.one_span_per_call" "$(summary_spans "$SCRATCH/$name.err")" "$calls"
	expect_eq "$name.error_on_every_call_left" "$(errors_in "$name")" "$(count "$name" "left")"
	expect_eq "$name.none_truncated" "$(summary_truncated "$SCRATCH/$name.err")" 0
	# what flew: the four types thrower throws, the texts of the std ones
	bad=$(jq -r 'select(.status.code == 2) | .events[0].attributes |
		(map({key: .key, value: .value.stringValue}) | from_entries) |
		select(((.["exception.type"] == "std::runtime_error" and (.["exception.message"] | test("^bad [0-9]+$")))
			or (.["exception.type"] == "std::out_of_range" and (.["exception.message"] | test("^range [0-9]+$")))
			or ((.["exception.type"] == "int" or .["exception.type"] == "MyErr") and .["exception.message"] == null)) | not)
		| .["exception.type"]' "$SCRATCH/$name.jsonl" | sort -u | tr '\n' ' ')
	expect_eq "$name.exception_types_and_texts" "$bad" ""
	# nesting: every descend/thrower span's parent is a descend span of its trace
	orphans=$(jq -s '(map({key: .spanId, value: .name}) | from_entries) as $n |
		[.[] | select(.parentSpanId != "" and ($n[.parentSpanId] // "" | startswith("descend") | not))] | length' \
		"$SCRATCH/$name.jsonl")
	expect_eq "$name.nested_under_descend" "$orphans" 0
done
# the calls that caught an exception themselves returned normally
caught_ok=$(jq -s '[.[] | select(.name | startswith("descend")) | select(.status.code != 2) |
	select(any(.attributes[]; .key == "spanprobe.return_value" and .value.intValue == "-1"))] | length' \
	"$SCRATCH/cxx_inside.jsonl")
expect_eq "cxx_inside.catching_calls_returned_normally" "$caught_ok" \
	"$(($(count cxx_inside "caught inside") - $(count cxx_inside "rethrown")))"

# --- Go
if [ ! -x "$FIX/go-returns" ]; then
	skip go "go not installed (scripts/install-deps.sh test)"
else
	# stacks grow (and are copied) under open traced calls, in 4 goroutines
	run_both go_grow "$FIX/go-returns grow 4 20" "uprobe:$FIX/go-returns:main.recurse"
	expect_eq "go_grow.one_span_per_call" "$(summary_spans "$SCRATCH/go_grow.err")" \
		"$(count go_grow "recurse calls")"
	expect_eq "go_grow.none_truncated" "$(summary_truncated "$SCRATCH/go_grow.err")" 0
	expect_eq "go_grow.one_21_deep_chain_per_goroutine" "$(jq -s -c '[group_by(.traceId)[] |
		(map({key: .spanId, value: .parentSpanId}) | from_entries) as $p |
		{n: length, chain: (map(select(.parentSpanId == "" or $p[.parentSpanId] != null)) | length)}] |
		[length, (map(.n) | unique), (map(.chain) | unique)]' "$SCRATCH/go_grow.jsonl")" '[4,[21],[21]]'
	# the entry probe fires again when the prologue reruns after growing the
	# stack: more hits than calls, yet one span per call
	hits=$(sed -n 's/.*hits per function: main.recurse \([0-9]*\).*/\1/p' "$SCRATCH/go_grow.err")
	if [ "${hits:-0}" -gt "$(count go_grow "recurse calls")" ]; then
		pass "go_grow.entry_rerun_after_morestack_not_a_call ($hits hits)"
	else
		fail "go_grow.entry_rerun_after_morestack_not_a_call" "hits ${hits:-?}: the stack never grew under a probe"
	fi

	# panics recovered two levels up: mayPanic and middle left, safeCall returns
	run_both go_panic "$FIX/go-returns panic 12" \
		"uprobe:$FIX/go-returns:main.safeCall,main.middle,main.mayPanic"
	expect_eq "go_panic.one_span_per_call" "$(summary_spans "$SCRATCH/go_panic.err")" \
		$((3 * $(count go_panic "safeCall calls")))
	expect_eq "go_panic.error_on_every_call_left" "$(errors_in go_panic)" \
		$((2 * $(count go_panic "recovered")))
	expect_eq "go_panic.panic_values" "$(jq -r 'select(.status.code == 2 and .name == "main.mayPanic") |
		.events[0].attributes | map(.value.stringValue) | join(": ")' "$SCRATCH/go_panic.jsonl" |
		sed 's/[0-9]*$/N/' | sort | uniq -c | awk '{$1=$1};1' | tr '\n' ';')" \
		"4 *errors.errorString: bad N;4 string: boom N;"
	expect_eq "go_panic.safeCall_never_error" "$(jq -s '[.[] | select(.name == "main.safeCall" and .status.code == 2)] | length' \
		"$SCRATCH/go_panic.jsonl")" 0

	# goroutines moving between threads inside traced calls: the program
	# counts the hops that moved; a run where none did proves nothing and is
	# run again (a few times at most: moving is the scheduler's choice)
	for attempt in 1 2 3 4 5; do
		run_both go_hop "$FIX/go-returns hop 8 40" "uprobe:$FIX/go-returns:main.hop,main.inner" \
			>"$SCRATCH/go_hop.results"
		app_moved=$(sed -n 's/^hop calls that moved thread after inner: \([0-9]*\)/\1/p' "$SCRATCH/go_hop.err")
		[ "${app_moved:-0}" -gt 0 ] && break
	done
	cat "$SCRATCH/go_hop.results"
	expect_eq "go_hop.one_span_per_call" "$(summary_spans "$SCRATCH/go_hop.err")" \
		$((2 * $(count go_hop "hop calls")))
	expect_eq "go_hop.every_inner_inside_its_hop" "$(jq -s '(map(select(.name == "main.hop")) |
		map({key: .spanId, value: .}) | from_entries) as $h | [.[] | select(.name == "main.inner") |
		select($h[.parentSpanId] != null and $h[.parentSpanId].traceId == .traceId and
		(.startTimeUnixNano | tonumber) >= ($h[.parentSpanId].startTimeUnixNano | tonumber) and
		(.endTimeUnixNano | tonumber) <= ($h[.parentSpanId].endTimeUnixNano | tonumber))] | length' \
		"$SCRATCH/go_hop.jsonl")" "$(count go_hop "hop calls")"
	moved=$(jq -s '. as $all | ($all | map({key: .spanId, value: (.attributes[] |
		select(.key == "thread.id") | .value.intValue)}) | from_entries) as $tid |
		[$all[] | select(.name == "main.inner") | select($tid[.parentSpanId] != $tid[.spanId])] | length' \
		"$SCRATCH/go_hop.jsonl")
	check go_hop.some_goroutines_moved test "${app_moved:-0}" -gt 0
	check "go_hop.parent_and_child_ended_on_different_threads" test "$moved" -gt 0

	# a panic nobody recovers: the program dies as untraced (status 2, same message)
	run_both go_fatal "$FIX/go-returns fatal" "uprobe:$FIX/go-returns:main.main,main.middle,main.mayPanic"
	expect_eq "go_fatal.same_panic_message" "$(head -n 1 "$SCRATCH/go_fatal.err" | grep -c '^panic: boom 3')" 1
	expect_eq "go_fatal.every_open_call_error" "$(jq -r 'select(.status.code == 2) | .name' "$SCRATCH/go_fatal.jsonl" |
		sort | tr '\n' ' ')" "main.main main.mayPanic main.middle "
fi

# --- Rust: panics caught by catch_unwind
if [ ! -x "$FIX/rust-panics" ]; then
	skip rust "rustc not installed (scripts/install-deps.sh test)"
else
	run_both rust "$FIX/rust-panics 12" \
		"uprobe:$FIX/rust-panics:rust_panics::guarded,rust_panics::middle,rust_panics::thrower"
	expect_eq "rust.one_span_per_call" "$(summary_spans "$SCRATCH/rust.err")" \
		$((3 * $(count rust "guarded calls")))
	expect_eq "rust.error_on_every_call_left" "$(errors_in rust)" "$(count rust "left")"
	expect_eq "rust.exception_type" "$(jq -r 'select(.status.code == 2) | .events[0].attributes[] |
		select(.key == "exception.type") | .value.stringValue' "$SCRATCH/rust.jsonl" | sort -u)" panic
fi

# --- functions that return twice or in a vfork child, traced in libc
dmesg_before=$(dmesg 2>/dev/null | grep -c "returns-twice.*failed to handle uretprobe")
run_both twice "$FIX/returns-twice 4" \
	'uprobe:libc:vfork,posix_spawn,__spawni,*setjmp*,getcontext,setcontext,swapcontext,makecontext,clone3,__clone_internal,waitpid'
check "twice.every_step_ran" grep -q "vfork children exited 7: 4, spawned exited 5: 4, longjmps 4, siglongjmps 4, context switches 4" \
	"$SCRATCH/twice.out"
expect_eq "twice.no_sigill_from_the_kernel" \
	"$(dmesg 2>/dev/null | grep -c "returns-twice.*failed to handle uretprobe")" "$dmesg_before"
check "twice.vfork_returns_by_exit_sites" sh -c "'$SPANPROBE' -l -v 'uprobe:libc:vfork' | grep -q 'return: .* exit sites'"
expect_eq "twice.setcontext_never_returns_truncated" "$(jq -r 'select(any(.attributes[]; .key == "spanprobe.truncated")) | .name' \
	"$SCRATCH/twice.jsonl" | sort | uniq -c | awk '{$1=$1};1' | tr '\n' ';')" "4 setcontext;4 swapcontext;"

# --- tail calls between traced functions, by exit sites (C, forced)
"$SPANPROBE" --return-probes exits -c "$FIX/elf-shapes 3" -o jsonl --output-file "$SCRATCH/tail.jsonl" \
	"uprobe:$FIX/elf-shapes:shape_tail,shape_callee,shape_switch" >/dev/null 2>"$SCRATCH/tail.err"
expect_eq "tail.callee_nested_under_caller_same_return" "$(jq -s -c '(map({key: .name, value: .}) | from_entries) as $b |
	[($b.shape_callee.parentSpanId == $b.shape_tail.spanId),
	 ([$b.shape_tail, $b.shape_callee] | map(.attributes[] | select(.key == "spanprobe.return_value") | .value.intValue) | unique | length),
	 ($b.shape_switch.parentSpanId == "")]' "$SCRATCH/tail.jsonl")" '[true,1,true]'
expect_eq "tail.jump_table_is_no_exit" "$(summary_truncated "$SCRATCH/tail.err")" 0

# --- longjmp out of calls seen by exit sites: truncated as with uretprobes
APP=$FIX/unwind-app
"$SPANPROBE" --return-probes exits -c "$APP longjmp 20" -o jsonl --output-file "$SCRATCH/lj.jsonl" \
	"uprobe:$APP:outer,thrower,deep,after" >/dev/null 2>"$SCRATCH/lj.err"
check "longjmp_exits.summary_counts_truncated" grep -q "80 spans (0 errors, 40 truncated)" "$SCRATCH/lj.err"

# --- the rule, as -l -v shows it
list() { "$SPANPROBE" -l -v "$1" 2>&1 | grep -o 'return: [^(]*([^;)]*' | sort -u | tr '\n' ';'; }
expect_eq "rule.c_uretprobe" "$(list "uprobe:$APP:outer")" "return: uretprobe (C: nothing unwinds through it;"
expect_eq "rule.cxx_exits" "$(list "uprobe:$FIX/cpp-exceptions:descend")" \
	"return: 1 exit site [single-step] (C++: exceptions unwind through it;"
if [ -x "$FIX/go-returns" ]; then
	expect_eq "rule.go_exits" "$(list "uprobe:$FIX/go-returns:main.middle")" \
		"return: 1 exit site [single-step] (Go: the runtime copies and walks goroutine stacks;"
fi
check "rule.exits_unknown_skipped_not_uretprobed" sh -c "'$SPANPROBE' -l -v --return-probes exits \
	'uprobe:$FIX/elf-shapes:shape_no_size' | grep -q 'return needs exit sites, which are not all known'"
