#!/usr/bin/env bash
# "Where does the time go", on demo-app, checked against what the app itself
# printed: the summary's counts and zoo's histogram (counted in the kernel,
# exact also when no span is sent), the summary-only mode (no record at
# all), --min-duration and --errors-only (kept traces = exactly the app's
# slow / failed requests, whole), sampling at 0.25 over 2,000 traces, the
# lines output and the tree's wall-clock headers.
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/tests/lib/cases.sh"
scratch
# A private copy: other demo-app runs on the machine add no calls.
cp "$DEMO" "$SCRATCH/demo-app"
DEMO=$SCRATCH/demo-app
PROBE="uprobe:$DEMO:foo,goo,zoo"
CHECK="$ROOT/tests/lib/check_summary.py"

# run NAME SPANPROBE-ARGS... -- APP-ARGS...: one traced run under -c.
run() {
	local name=$1 sp=() app=()
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do sp+=("$1"); shift; done
	shift
	app=("$@")
	"$SPANPROBE" "${sp[@]}" --error 'goo:ret<0' -c "$DEMO ${app[*]} --annotate" "$PROBE" \
		>"$SCRATCH/$name.out" 2>"$SCRATCH/$name.err"
	expect_eq "$name.exit_status" "$?" 0
}

# 1. Summary only: no span record leaves the kernel, the counts are the app's
# (the summary on standard output, so the command's output goes to standard error).
run summary_only -o summary --top 0 -- --requests 300 --threads 3 --seed 5 --time-scale 0
check summary_only.no_span_sent grep -q "^spanprobe: 0 spans (0 errors, 0 truncated); lost 0" \
	"$SCRATCH/summary_only.err"
report_checks summary_only python3 "$CHECK" counts "$SCRATCH/summary_only.out" "$SCRATCH/summary_only.err"
check summary_only.sorted_by_total_time \
	sh -c "grep -A1 '^function' '$SCRATCH/summary_only.out' | tail -n 1 | grep -q '^foo '"

# 1b. --top N: the N functions with the most total time, most first. zoo
# sleeps (the app prints each sleep), foo holds it, goo does not sleep: foo,
# zoo, then goo.
run top2 -o summary --top 2 -- --requests 30 --seed 5 --time-scale 0.002
rows() { awk 'f && $2 !~ /^[0-9]+$/ { exit } f { print $1 } /^function/ { f = 1 }' "$SCRATCH/$1.out" | paste -sd' '; }
check top2.app_slept test "$(sed -n 's/.*zoo_sleep_us=\([0-9]*\).*/\1/p' "$SCRATCH/top2.err" |
	awk '{ s += $1 } END { print s + 0 }')" -gt 0
expect_eq top2.the_two_longest "$(rows top2)" "foo zoo"
check top2.said_so grep -q "^spanprobe summary: 3 functions called, the 2 with the most total time" "$SCRATCH/top2.out"
run top0 -o summary --top 0 -- --requests 30 --seed 5 --time-scale 0.002
expect_eq top0.every_function "$(rows top0)" "foo zoo goo"

# 2. Exact when spans are not sent: always_off sends none, the summary counts all.
OTEL_TRACES_SAMPLER=always_off run always_off -o jsonl --output-file "$SCRATCH/off.jsonl" --summary \
	-- --requests 100 --seed 6 --time-scale 0
expect_eq always_off.no_spans "$(wc -l <"$SCRATCH/off.jsonl")" 0
# (the summary goes to standard error when jsonl is on standard output or a file)
report_checks always_off python3 "$CHECK" counts "$SCRATCH/always_off.err" "$SCRATCH/always_off.out"

# 3. zoo's histogram holds its sleeps where the app says they fell.
run hist -o jsonl --output-file "$SCRATCH/hist.jsonl" --summary \
	-- --requests 120 --threads 2 --seed 7 --time-scale 0.01
report_checks hist python3 "$CHECK" hist "$SCRATCH/hist.err" "$SCRATCH/hist.jsonl" "$SCRATCH/hist.out"

# 4. --min-duration 20ms: exactly the traces with a zoo of 20 ms or more, whole.
run min_duration -o jsonl --output-file "$SCRATCH/min.jsonl" --min-duration 20ms \
	-- --requests 120 --seed 8 --time-scale 0.01
report_checks min_duration python3 "$CHECK" min_duration "$SCRATCH/min.jsonl" "$SCRATCH/min_duration.out" 20000000
check min_duration.filtered_counted grep -q "spans filtered out" "$SCRATCH/min_duration.err"

# 5. --errors-only: exactly the failed requests, foo with its goo.
run errors_only -o jsonl --output-file "$SCRATCH/err.jsonl" --errors-only \
	-- --requests 300 --seed 9 --time-scale 0
report_checks errors_only python3 "$CHECK" errors_only "$SCRATCH/err.jsonl" "$SCRATCH/errors_only.out"

# 6. traceidratio 0.25 over 2,000 traces: 4 binomial sigmas (sqrt(2000*0.25*0.75)
# = 19.4: 500 +- 77), whole traces only; the summary still counts every call.
OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG=0.25 \
	run sampled -o jsonl --output-file "$SCRATCH/sampled.jsonl" --summary \
	-- --requests 2000 --seed 10 --time-scale 0
report_checks sampled python3 "$CHECK" sampled "$SCRATCH/sampled.jsonl" "$SCRATCH/sampled.out" 0.25 4
report_checks sampled.summary python3 "$CHECK" counts "$SCRATCH/sampled.err" "$SCRATCH/sampled.out"
kept=$(jq -r 'select(.parentSpanId == "") | .traceId' "$SCRATCH/sampled.jsonl" | sort -u | wc -l)
expect_eq sampled.unsampled_counted \
	"$(sed -n 's/.*; \([0-9]*\) traces not sampled.*/\1/p' "$SCRATCH/sampled.err")" $((2000 - kept))

# 7. -o lines: one line a call, children indented under their caller, wall clock.
run lines -o lines --output-file "$SCRATCH/lines.txt" -- --requests 5 --seed 11 --time-scale 0
expect_eq lines.one_per_call "$(wc -l <"$SCRATCH/lines.txt")" 15
expect_eq lines.foo_at_depth_0 "$(grep -cE '^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6} [0-9]+/[0-9]+ foo\(\)' "$SCRATCH/lines.txt")" 5
expect_eq lines.zoo_indented "$(grep -cE '^[0-9:.]+ [0-9]+/[0-9]+   zoo\(\)' "$SCRATCH/lines.txt")" 5
expect_eq lines.goo_errors "$(grep -c '  goo() = -1 .*ERROR: goo returned -1' "$SCRATCH/lines.txt")" \
	"$(grep -c 'Exception in goo' "$SCRATCH/lines.out")"
check lines.no_summary_for_a_few test -s "$SCRATCH/lines.txt" -a "$(grep -c 'spanprobe summary' "$SCRATCH/lines.txt")" -eq 0

# 8. The tree's headers carry the wall-clock start; a flood brings the summary.
before=$(date +%s)
run tree -o tree --output-file "$SCRATCH/tree.txt" -- --requests 101 --seed 12 --time-scale 0
after=$(date +%s)
header_secs=$(sed -n 's/^trace [0-9a-f]\{32\}  pid [0-9]*  tid [0-9]*  at \([0-9-]* [0-9:]*\)\..*/\1/p' \
	"$SCRATCH/tree.txt" | head -n 1 | xargs -I{} date -d {} +%s)
check tree.header_wall_clock test "${header_secs:-0}" -ge "$before" -a "${header_secs:-0}" -le "$after"
check tree.flood_brings_the_summary grep -q "^spanprobe summary: 3 functions called" "$SCRATCH/tree.txt"
run few -o tree --output-file "$SCRATCH/few.txt" -- --requests 3 --seed 12 --time-scale 0
check tree.no_summary_without_flood test -s "$SCRATCH/few.txt" -a "$(grep -c 'spanprobe summary' "$SCRATCH/few.txt")" -eq 0

# 9. Bad input: refused, saying why. One row a case (tests/lib/cases.sh),
# each two checks: NAME.exit_status and NAME.message.
CASE_SPLIT=1 CASE_ONE_LINE=off CASE_TIMEOUT=30
SP=$SPANPROBE
case_row bad.min_duration_unit  err "no unit"                    -- $SP --min-duration 10 "$PROBE"
case_row bad.summary_both       err "exclude each other"         -- $SP --summary --no-summary "$PROBE"
case_row bad.summary_output_off err "exclude each other"         -- $SP -o summary --no-summary "$PROBE"
case_row bad.top                err "invalid --top"              -- $SP --top -1 "$PROBE"
case_row bad.sampler_arg        err "OTEL_TRACES_SAMPLER_ARG"    -- \
	env OTEL_TRACES_SAMPLER=traceidratio OTEL_TRACES_SAMPLER_ARG=2 $SP "$PROBE"
case_row bad.sampler_name       err "is not one spanprobe knows" -- env OTEL_TRACES_SAMPLER=xray $SP "$PROBE"
