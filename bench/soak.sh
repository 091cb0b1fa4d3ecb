#!/usr/bin/env bash
# Soak: demo-app with 8 threads at full speed (--time-scale 0) under
# spanprobe for SOAK_MINUTES (default 10), exporting over OTLP/gRPC to the
# real Collector and Jaeger (tests/lib/peers.sh), or as jsonl to /dev/null
# when those can't be built (or SOAK_OUTPUT=jsonl). Every SOAK_SAMPLE_SECONDS
# (default 10) it samples, from the kernel's counters and /proc: traced calls
# and spans per second, cumulative kernel-side drops, spanprobe's CPU% and
# VmRSS. It prints a Markdown table, the final summary line, and verdicts:
#   rss:        the max VmRSS in the last third of the run vs in the first
#               third (warm-up); flat when it grew by at most SOAK_RSS_SLACK_MIB
#               (default 8)
#   accounting: spans received = OTLP exported + dropped (every span is
#               delivered or counted)
# and exits 1 when a verdict fails.
#   SOAK_MINUTES=10 bench/soak.sh
set -uo pipefail
source "$(dirname "$0")/../tests/lib/common.sh"
source "$ROOT/tests/lib/peers.sh"
scratch
SOAK_MINUTES=${SOAK_MINUTES:-10}
SAMPLE=${SOAK_SAMPLE_SECONDS:-10}
SLACK_MIB=${SOAK_RSS_SLACK_MIB:-8}
OUTPUT=${SOAK_OUTPUT:-otlp}
DURATION=$(awk -v m="$SOAK_MINUTES" 'BEGIN { printf "%d", m * 60 }')
HZ=$(getconf CLK_TCK)

# --- peers -------------------------------------------------------------------
if [ "$OUTPUT" = otlp ]; then
	if out=$("$ROOT/scripts/build-peers.sh" 2>&1); then
		COLLECTOR=$(printf '%s\n' "$out" | sed -n 's/^COLLECTOR=//p')
		JAEGER=$(printf '%s\n' "$out" | sed -n 's/^JAEGER=//p')
	fi
	if [ -x "${COLLECTOR:-}" ] && [ -x "${JAEGER:-}" ] && jaeger_start &&
		collector_start "$JAEGER_OTLP_GRPC"; then
		sp_out=(-o otlp --protocol grpc --endpoint "http://$COLLECTOR_GRPC" --service-name "soak-$$")
		echo "# output: OTLP/gRPC to the Collector ($COLLECTOR_GRPC) and Jaeger"
	else
		echo "# the Collector and Jaeger are not available: jsonl to /dev/null instead"
		OUTPUT=jsonl
	fi
fi
[ "$OUTPUT" = jsonl ] && sp_out=(-o jsonl --output-file /dev/null)

# --- run -----------------------------------------------------------------------
"$SPANPROBE" --ready-file "$SCRATCH/ready" "${sp_out[@]}" --error 'goo:ret<0' \
	"uprobe:$DEMO:foo,goo,zoo" >"$SCRATCH/sp.out" 2>"$SCRATCH/sp.err" &
SP=$!
bg_track "$SP"
if ! wait_for_line "$SCRATCH/ready" "" 15; then
	echo "spanprobe did not attach: $(cat "$SCRATCH/sp.err")" >&2
	exit 1
fi
"$DEMO" --threads 8 --time-scale 0 --requests 0 >/dev/null &
APP=$!
bg_track "$APP"

# The kernel counters of this spanprobe: per-function hits and the stats array.
map_id() {
	local id
	for id in $(cat /proc/"$SP"/fdinfo/* 2>/dev/null | sed -n 's/^map_id:[[:space:]]*//p'); do
		bpftool map show id "$id" 2>/dev/null | grep -q " name $1 " && echo "$id" && return
	done
}
STATS_MAP=$(map_id stats)
HITS_MAP=$(map_id func_hits)
map_sums() { # map_sums ID: each key's value summed over CPUs, space-separated
	bpftool map dump id "$1" -j 2>/dev/null | jq -r '[.[] | [.formatted.values[].value] | add] | map(tostring) | join(" ")'
}
# calls = function entries (per-function hits, plus STAT_CALLS for the rest);
# drops = ring buffer full + nesting + no thread slot (STAT_* 0, 1, 2).
read_counters() {
	local stats hits
	read -r -a stats <<<"$(map_sums "$STATS_MAP")"
	hits=0
	[ -n "$HITS_MAP" ] && hits=$(map_sums "$HITS_MAP" | tr ' ' '\n' | awk '{ s += $1 } END { print s + 0 }')
	CALLS=$((hits + ${stats[3]:-0}))
	DROPS=$((${stats[0]:-0} + ${stats[1]:-0} + ${stats[2]:-0}))
}
cpu_ticks() { awk '{ print $14 + $15 }' /proc/"$SP"/stat; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' /proc/"$SP"/status; }

echo "# $SOAK_MINUTES min, a sample every $SAMPLE s; spanprobe pid $SP, demo-app pid $APP ($(nproc) CPUs)"
printf '| t (s) | calls/s | spans/s | drops (total) | CPU %% | VmRSS (MiB) |\n|---:|---:|---:|---:|---:|---:|\n' |
	tee "$SCRATCH/table"
read_counters
prev_calls=$CALLS prev_drops=$DROPS prev_ticks=$(cpu_ticks) prev_t=$(date +%s.%N)
start=$(date +%s)
: >"$SCRATCH/rss"
while [ $(($(date +%s) - start)) -lt "$DURATION" ]; do
	sleep "$SAMPLE"
	kill -0 "$SP" 2>/dev/null || { echo "spanprobe died: $(tail -n 3 "$SCRATCH/sp.err")" >&2; exit 1; }
	read_counters
	ticks=$(cpu_ticks) rss=$(rss_kib) t=$(date +%s.%N)
	awk -v t="$(($(date +%s) - start))" -v dt="$(awk -v a="$t" -v b="$prev_t" 'BEGIN { print a - b }')" \
		-v c=$((CALLS - prev_calls)) -v d=$((DROPS - prev_drops)) -v drops="$DROPS" \
		-v cpu=$((ticks - prev_ticks)) -v hz="$HZ" -v rss="$rss" 'BEGIN {
		printf "| %d | %.0f | %.0f | %d | %.1f | %.1f |\n", t, c / dt, (c - d) / dt, drops,
			100 * cpu / hz / dt, rss / 1024 }' | tee -a "$SCRATCH/table"
	echo "$rss" >>"$SCRATCH/rss"
	prev_calls=$CALLS prev_drops=$DROPS prev_ticks=$ticks prev_t=$t
done

# --- stop: the app first (it finishes its calls), then spanprobe -------------
kill -TERM "$APP"
wait "$APP"
app_rc=$?
sleep 1
kill -TERM "$SP"
wait "$SP"
sp_rc=$?
summary=$(grep '^spanprobe: [0-9]* spans' "$SCRATCH/sp.err" | tail -n 1)
echo
echo "summary: ${summary#spanprobe: }"
grep -v '^spanprobe: [0-9]* spans\|^spanprobe: tracing\|hits per function' "$SCRATCH/sp.err" | sort | uniq -c | sort -rn | head -n 5 |
	sed 's/^/# other spanprobe output: /'

# --- verdicts ------------------------------------------------------------------
n=$(wc -l <"$SCRATCH/rss")
third=$(((n + 2) / 3))
first_max=$(head -n "$third" "$SCRATCH/rss" | sort -n | tail -n 1)
last_max=$(tail -n "$third" "$SCRATCH/rss" | sort -n | tail -n 1)
growth_kib=$((${last_max:-0} - ${first_max:-0}))
spans=$(sed -n 's/^spanprobe: \([0-9]*\) spans .*/\1/p' <<<"$summary")
exported=$(sed -n 's/.*OTLP exported \([0-9]*\),.*/\1/p' <<<"$summary")
dropped=$(sed -n 's/.*OTLP .*dropped \([0-9]*\).*/\1/p' <<<"$summary")
echo
expect_eq demo_app_exit_status "$app_rc" 0
expect_eq spanprobe_exit_status "$sp_rc" 0
echo "# RSS: max $((first_max / 1024)) MiB in the first third, $((last_max / 1024)) MiB in the last third ($n samples): grew $((growth_kib / 1024)) MiB, at most ${SLACK_MIB} allowed"
check rss_flat_after_warmup test "$growth_kib" -le $((SLACK_MIB * 1024))
check "spans_traced" test "${spans:-0}" -gt 0
if [ "$OUTPUT" = otlp ]; then
	echo "# received $spans = OTLP exported $exported + dropped $dropped?"
	expect_eq summary_accounts_for_every_span "${spans:-?}" "$((${exported:-0} + ${dropped:-0}))"
else
	skip "summary_accounts_for_every_span" "jsonl output: nothing to account for"
fi
