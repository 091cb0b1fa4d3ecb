#!/usr/bin/env bash
# check_demo_spans.sh FORMAT SPANS APP_OUTPUT REQUESTS
# Checks traced spans of `demo-app --annotate` against what the app printed.
# FORMAT is jsonl (spanprobe -o jsonl) or jaeger (Jaeger's /api/traces JSON).
# Prints one "name: ok" or "name: WHY" line per property; exits 1 on any failure.
set -euo pipefail
format=$1 spans=$2 app=$3 requests=$4

# One normalised span a line: times in microseconds (ns strings lose
# precision as JSON numbers), error as a boolean.
case $format in
jsonl)
	norm=$(jq -c '{trace: .traceId, span: .spanId, parent: .parentSpanId, name: .name,
		start: (.startTimeUnixNano[:-3] | tonumber), end: (.endTimeUnixNano[:-3] | tonumber),
		tid: (.attributes[] | select(.key == "thread.id") | .value.intValue | tonumber),
		error: (.status.code == 2), truncated: any(.attributes[]; .key == "spanprobe.truncated")}' "$spans")
	;;
jaeger)
	norm=$(jq -c '.data[] | .traceID as $t | .spans[] | {trace: $t, span: .spanID,
		parent: ((.references // []) | map(select(.refType == "CHILD_OF")) | .[0].spanID // ""),
		name: .operationName, start: .startTime, end: (.startTime + .duration),
		tid: (.tags[] | select(.key == "thread.id") | .value),
		error: any(.tags[]; .key == "error" and .value == true),
		truncated: any(.tags[]; .key == "spanprobe.truncated")}' "$spans")
	;;
*) echo "unknown format $format" >&2; exit 2 ;;
esac
# Jaeger keeps startTime and duration, each cut to whole microseconds, so an
# end it implies can be up to 1 us early: a child may seem to end 1 us after
# its parent. jsonl cuts start and end themselves, which keeps their order.
slack=0
[ "$format" = jaeger ] && slack=1

# What the app did, per (thread, request number).
app_json=$(jq -R -c 'capture("^tid=(?<tid>[0-9]+) req=(?<req>[0-9]+) (zoo_sleep_us=(?<sleep>[0-9]+) )?(?<text>.*)$")
	| {tid: (.tid | tonumber), req: (.req | tonumber), sleep: ((.sleep // "-1") | tonumber), text}' "$app")

printf '%s\n' "$norm" | jq -s -r --argjson n "$requests" --argjson slack "$slack" --slurpfile app <(printf '%s\n' "$app_json") '
	. as $all
	| ($all | map(select(.name == "foo"))) as $foos
	# each foo with its children, numbered per thread in start order = request number
	| ($foos | group_by(.tid) | map(sort_by(.start) | to_entries
		| map(.value + {req: (.key + 1)})) | flatten) as $numbered
	| [$numbered[] | . as $f
		| ($all | map(select(.trace == $f.trace and .parent == $f.span))) as $kids
		| {tid: $f.tid, req: $f.req, foo: $f, kids: $kids,
		   goo: ($kids | map(select(.name == "goo")) | .[0]),
		   zoo: ($kids | map(select(.name == "zoo")) | .[0])}] as $reqs
	| ($app | map(select(.text | startswith("Exception in goo"))) | map("\(.tid)/\(.req)") | sort) as $app_errors
	| ($app | map(select(.sleep >= 0)) | map({key: "\(.tid)/\(.req)", value: .sleep}) | from_entries) as $sleeps
	| [
		["foo spans = \($n)", (($foos | length) == $n)],
		["every foo is a root", all($foos[]; .parent == "" or .parent == null)],
		["one trace per foo", (($foos | map(.trace) | unique | length) == $n)],
		["spans = 3 x foo", (($all | length) == 3 * $n)],
		["each foo has exactly goo and zoo as children",
			all($reqs[]; (.kids | map(.name) | sort) == ["goo", "zoo"])],
		["children inside the parent interval",
			all($reqs[]; .foo as $f | all(.kids[]; .start >= $f.start and .end <= $f.end + $slack))],
		["goo before zoo", all($reqs[]; .goo != null and .zoo != null and .goo.end <= .zoo.start)],
		["ERROR exactly on the goo calls the app reported",
			(($reqs | map(select(.goo.error)) | map("\(.tid)/\(.req)") | sort) == $app_errors)],
		["no ERROR on foo or zoo", all($reqs[]; (.foo.error | not) and (.zoo.error | not))],
		["app reported some errors and some successes",
			(($app_errors | length) > 0 and ($app_errors | length) < $n)],
		["zoo lasts at least its sleep",
			all($reqs[]; .zoo != null and (.zoo.end - .zoo.start) >= ($sleeps["\(.tid)/\(.req)"] // 1e18) - 1)],
		["no truncated spans", all($all[]; .truncated | not)]
	  ]
	| .[] | "\(.[0]): \(if .[1] then "ok" else "FAILED" end)"' >"${TMPDIR:-/tmp}/check.$$"
cat "${TMPDIR:-/tmp}/check.$$"
! grep -q FAILED "${TMPDIR:-/tmp}/check.$$"
status=$?
rm -f "${TMPDIR:-/tmp}/check.$$"
exit $status
