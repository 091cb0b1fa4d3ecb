#!/usr/bin/env bash
# Self-observability: per-probe hits and every loss, on the summary and on the
# Prometheus endpoint (--metrics-addr), matching what the workload did.
source "$(dirname "$0")/../lib/common.sh"
scratch
# A private copy: other demo-app runs on the machine must not add hits.
cp "$DEMO" "$SCRATCH/demo-app"
DEMO=$SCRATCH/demo-app

"$SPANPROBE" --metrics-addr 127.0.0.1:0 -o jsonl --output-file "$SCRATCH/spans.jsonl" \
	--error 'goo:ret<0' "uprobe:$DEMO:foo,goo,zoo" 2>"$SCRATCH/sp.err" &
sp=$!
bg_track $sp
check "endpoint_announced" wait_for_line "$SCRATCH/sp.err" "metrics on http://127.0.0.1:[0-9]*/metrics" 10
wait_for_line "$SCRATCH/sp.err" "tracing 3 functions" 10
url=$(grep -o "http://127.0.0.1:[0-9]*/metrics" "$SCRATCH/sp.err")
"$DEMO" --requests 30 --seed 3 --time-scale 0 >"$SCRATCH/app.out"
errors=$(grep -c "^Exception in goo" "$SCRATCH/app.out")
# the reader drains every 100 ms: scrape until every span is counted
for _ in $(seq 600); do
	curl -sf "$url" >"$SCRATCH/metrics.txt"
	grep -qx "spanprobe_spans_total 90" "$SCRATCH/metrics.txt" && break
	sleep 0.05
done
check "scrape_answers" test -s "$SCRATCH/metrics.txt"
metric() { awk -v m="$1" '$1 == m { print $2 }' "$SCRATCH/metrics.txt"; }
expect_eq "hits_foo" "$(metric "spanprobe_probe_hits_total{function=\"foo\",binary=\"$DEMO\"}")" 30
expect_eq "hits_goo" "$(metric "spanprobe_probe_hits_total{function=\"goo\",binary=\"$DEMO\"}")" 30
expect_eq "spans_total" "$(metric spanprobe_spans_total)" 90
expect_eq "span_errors_total" "$(metric spanprobe_span_errors_total)" "$errors"
expect_eq "ring_buffer_losses" "$(metric 'spanprobe_spans_lost_total{cause="ring_buffer_full"}')" 0
# every family served is in the README's list, and the counters the BPF
# programs keep are all served (the summary line is made from the same table)
families=$(sed -n 's/^# TYPE \([a-z_]*\) .*/\1/p' "$SCRATCH/metrics.txt")
undocumented=""
for f in $families; do grep -q "\`$f[{\`]" "$ROOT/README.md" || undocumented+=" $f"; done
check "families_served" test "$(wc -w <<<"$families")" -ge 15
expect_eq "families_in_readme" "${undocumented:- none}" " none"
expect_eq "spans_filtered_total" "$(metric spanprobe_spans_filtered_total)" 0
expect_eq "traces_unsampled_total" "$(metric spanprobe_traces_unsampled_total)" 0
kill -INT $sp
wait_or_fail $sp
check "summary_hits_line" grep -q "hits per function: foo 30, goo 30, zoo 30" "$SCRATCH/sp.err"
"$SPANPROBE" --metrics-addr nowhere "uprobe:$DEMO:foo" 2>"$SCRATCH/bad.err"
expect_eq "bad_address.exit_status" "$?" 1
check "bad_address.message" grep -q "expected HOST:PORT" "$SCRATCH/bad.err"
