#!/usr/bin/env bash
# What tracing costs Debian's redis-server, as a new user would try it:
# redis-benchmark (-t set,get -c 4) against an untraced server, then traced
# by spanprobe (and, with BEFORE=path, by an older spanprobe build, e.g. one
# that probes every function at its first instruction), and by bpftrace on
# the same four functions; SET and GET requests/s each ÷ untraced, rounds
# interleaved so drift on a shared machine hits every mode alike.
# "summary-only" is spanprobe -o summary: the same probes and programs, no
# span sent, so the reader's share of the cost shows. "floor": empty programs
# on spanprobe's entry sites, entry and return, what the kernel's traps alone
# cost these calls. Also the calls each
# tracer counted in its last round (tests/integration/real_binary_counts.sh
# is where counts are compared exactly). Prints a markdown table.
#   bench/redis_cost.sh                 ROUNDS=3 REQUESTS=100000
#   BEFORE=/path/to/old/spanprobe bench/redis_cost.sh
# Needs redis-server, redis-tools and bpftrace (scripts/install-deps.sh test).
set -uo pipefail
cd "$(dirname "$0")/.."
SPANPROBE=${SPANPROBE:-build/spanprobe}
EMPTY_UPROBE=build/bench/empty-uprobe
[ -x "$EMPTY_UPROBE" ] || make -s -f Makefile -f bench/bench.mk "$EMPTY_UPROBE"
BEFORE=${BEFORE:-}
ROUNDS=${ROUNDS:-3}
REQUESTS=${REQUESTS:-100000}
PORT=${PORT:-6399}
REDIS=${REDIS:-/usr/bin/redis-server}
FUNCS=processCommand,lookupKeyWrite,createStringObject,prepareClientToWrite
. bench/lib.sh
bench_start
for c in "$REDIS" redis-benchmark redis-cli bpftrace; do
	command -v "$c" >/dev/null || { log "$c missing: scripts/install-deps.sh test"; exit 1; }
done

"$REDIS" --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
	>"$tmp/redis.out" 2>&1 &
server=$!
track "$server"
for _ in $(seq 100); do redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG || { log "redis-server did not start"; exit 1; }

# probes KIND: "KIND:$REDIS:f1,KIND:$REDIS:f2,..." for bpftrace
probes() { tr ',' '\n' <<<"$FUNCS" | sed "s|^|$1:$REDIS:|" | paste -sd,; }
# sites: the file offsets where spanprobe puts each entry probe (and its
# uretprobe: the same instruction), from spanprobe -l -v
sites() {
	"$SPANPROBE" -l -v "uprobe:$REDIS:$FUNCS" 2>/dev/null | sed -n 's/^uprobe:.*  offset \(0x[0-9a-f]*\) .*/\1/p'
}

# attach MODE: starts the tracer of MODE on the server; its pid, or nothing.
attach() {
	local mode=$1 bin=$SPANPROBE
	case $mode in
	untraced) return ;;
	before | after | summary-only)
		local out=(-o jsonl --output-file /dev/null --summary)
		[ "$mode" = before ] && bin=$BEFORE
		[ "$mode" = summary-only ] && out=(-o summary)
		"$bin" -p "$server" "uprobe:$REDIS:$FUNCS" "${out[@]}" \
			>"$tmp/$mode.out" 2>"$tmp/$mode.err" &
		track $!
		wait_for "$tmp/$mode.err" '^spanprobe: tracing' 30 || { log "$mode did not attach"; cat "$tmp/$mode.err" >&2; }
		echo $!
		;;
	floor)
		# empty programs where spanprobe's entries and returns are: what
		# the kernel's traps alone cost these calls (bpftrace can't probe
		# inside a function: bench/empty_uprobe.c)
		# shellcheck disable=SC2046
		"$EMPTY_UPROBE" -r -n "$REDIS" $(sites) >"$tmp/$mode.out" 2>"$tmp/$mode.err" &
		track $!
		wait_for "$tmp/$mode.out" '^attached' 30 || { log "floor did not attach"; cat "$tmp/$mode.err" >&2; }
		echo $!
		;;
	bpftrace)
		bpftrace -p "$server" -e "BEGIN { printf(\"ready\\n\"); }
			$(probes uprobe) { @calls = count(); } $(probes uretprobe) {}" \
			>"$tmp/$mode.out" 2>"$tmp/$mode.err" &
		track $!
		wait_for "$tmp/$mode.out" '^ready' 60 || { log "bpftrace did not attach"; cat "$tmp/$mode.err" >&2; }
		echo $!
		;;
	esac
}

modes=(untraced after summary-only floor bpftrace)
[ -n "$BEFORE" ] && modes=(untraced before after summary-only floor bpftrace)
for ((r = 1; r <= ROUNDS; r++)); do
	for m in "${modes[@]}"; do
		tracer=$(attach "$m")
		redis-benchmark -p "$PORT" -t set,get -c 4 -n "$REQUESTS" -q --csv 2>/dev/null |
			awk -F'"' -v m="$m" '$2 == "SET" || $2 == "GET" { print m, $2, $4 }' >>"$tmp/rps"
		if [ -n "$tracer" ]; then
			kill -INT "$tracer" 2>/dev/null
			wait_exit "$tracer" 60
			case $m in
			bpftrace) awk -v r="$r" '/^@calls:/ { print "bpftrace", r, $2 }' "$tmp/$m.out" >>"$tmp/calls" ;;
			*) sed -n 's/^spanprobe: hits per function: //p' "$tmp/$m.err" | tr ',' '\n' |
				awk -v m="$m" -v r="$r" '{ n += $2 } END { print m, r, n + 0 }' >>"$tmp/calls" ;;
			esac
		fi
	done
done

# the median of each mode's rounds, per test, ÷ the untraced median
echo "| mode | SET/s | ×untraced | GET/s | ×untraced | calls traced (last round) |"
echo "|---|---:|---:|---:|---:|---:|"
for m in "${modes[@]}"; do
	line="| $m"
	for t in SET GET; do
		med=$(awk -v m="$m" -v t="$t" '$1 == m && $2 == t { print $3 }' "$tmp/rps" | sort -n |
			awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : 0 }')
		base=$(awk -v t="$t" '$1 == "untraced" && $2 == t { print $3 }' "$tmp/rps" | sort -n |
			awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : 0 }')
		line="$line | $(printf '%.0f' "$med") | $(awk -v a="$med" -v b="$base" 'BEGIN { printf "%.2f", b ? a / b : 0 }')"
	done
	calls=$(awk -v m="$m" '$1 == m { n = $3 } END { print n }' "$tmp/calls" 2>/dev/null)
	echo "$line | ${calls:--} |"
done
