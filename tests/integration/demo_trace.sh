#!/usr/bin/env bash
# The core promise: demo-app's foo/goo/zoo, traced from outside, give exactly
# the spans the app's own output says it produced.
source "$(dirname "$0")/../lib/common.sh"
scratch
# Requests per thread; the kernel matrix (QEMU without KVM) runs fewer.
REQUESTS=${DEMO_TRACE_REQUESTS:-200}

# trace_demo NAME THREADS: REQUESTS requests per thread under -c, checked.
trace_demo() {
	local name=$1 threads=$2 rc
	"$SPANPROBE" -c "$DEMO --requests $REQUESTS --threads $threads --seed 11 --time-scale 0.002 --annotate" \
		-o jsonl --output-file "$SCRATCH/$name.jsonl" --error 'goo:ret<0' \
		"uprobe:$DEMO:foo,goo,zoo" >"$SCRATCH/$name.app" 2>"$SCRATCH/$name.err"
	rc=$?
	expect_eq "$name.exit_status_is_the_commands" "$rc" 0
	# every call the app made, every exception it printed: never 0 = 0
	check "$name.summary_line" grep -q "^spanprobe: $((3 * REQUESTS * threads)) spans ($(grep -c 'Exception in goo' "$SCRATCH/$name.app") errors, 0 truncated); lost 0" "$SCRATCH/$name.err"
	report_checks "$name" tests/lib/check_demo_spans.sh jsonl "$SCRATCH/$name.jsonl" "$SCRATCH/$name.app" \
		$((REQUESTS * threads))
}

trace_demo one_thread 1
trace_demo four_threads 4

# The jsonl lines carry the attributes the issue promises.
has_attribute() { head -n 1 "$SCRATCH/one_thread.jsonl" | jq -e --arg k "$1" 'any(.attributes[]; .key == $k)' >/dev/null; }
for key in process.pid thread.id code.function.name spanprobe.return_value code.file.path code.line.number; do
	check "attribute.$key" has_attribute "$key"
done
check "goo_error_message_names_the_rule" grep -q '"message":"goo returned -1 (error rule ret<0)"' "$SCRATCH/one_thread.jsonl"

# -c propagates the command's exit status.
"$SPANPROBE" -c "sh -c 'exit 7'" "uprobe:$DEMO:foo" >/dev/null 2>&1
expect_eq "exit_status_propagated" "$?" 7
