#!/usr/bin/env bash
# How long spanprobe takes to be ready (every probe attached: its
# --ready-file appears), against bpftrace with the same probes in the same
# run (ready when its BEGIN probe prints, which runs after its attach), and
# how system-wide start-up grows with the processes running. Numbers, not a
# test. Run as root after `make` (`make bench-startup`); about a minute.
# Writes bench/startup-results.md. BENCH_REPS runs per row (median).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SPANPROBE=${SPANPROBE:-build/spanprobe}
REPS=${BENCH_REPS:-5}
RESULTS=bench/startup-results.md
tmp=$(mktemp -d /tmp/spanprobe-startup.XXXXXX)
pids=()
cleanup() {
	[ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
log() { echo "bench-startup: $*" >&2; }

LIBZ=$(ldconfig -p | sed -n 's/.*libz.so.1 (libc6,x86-64) => //p' | head -n 1)
REDIS_FUNCS=processCommand,lookupKeyWrite,createStringObject,prepareClientToWrite

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ready_ms CMD...: ms from the start of CMD until $tmp/ready exists (or its
# output has a line "ready"); then CMD is stopped. Empty when it never was.
ready_ms() {
	local t0 t pid i
	rm -f "$tmp/ready" "$tmp/out"
	t0=$(now_ms)
	"$@" >"$tmp/out" 2>"$tmp/err" &
	pid=$!
	for ((i = 0; i < 15000; i++)); do
		if [ -e "$tmp/ready" ] || grep -q '^ready$' "$tmp/out" 2>/dev/null; then
			t=$(now_ms)
			break
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.002
	done
	kill -INT "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	[ -n "${t:-}" ] && echo $((t - t0))
}

# median_ms CMD...: the median of REPS ready_ms runs, "failed" if any failed.
median_ms() {
	local v all=()
	for ((r = 0; r < REPS; r++)); do
		v=$(ready_ms "$@")
		[ -n "$v" ] || { log "never ready: $* ($(tail -n 2 "$tmp/err" | tr '\n' ' '))"; echo failed; return; }
		all+=("$v")
	done
	printf '%s\n' "${all[@]}" | sort -n | sed -n "$(((REPS + 1) / 2))p"
}

sec() { [ "$1" = failed ] && echo failed || awk -v m="$1" 'BEGIN { printf "%.2f s", m / 1000 }'; }

rows=()
row() { # row WHAT SPANPROBE_MS BPFTRACE_MS
	local ratio=n/a bpftrace=n/a
	[ -n "$3" ] && bpftrace=$(sec "$3")
	[ "$2" != failed ] && [ -n "$3" ] && [ "$3" != failed ] && ratio=$(awk -v a="$2" -v b="$3" 'BEGIN { printf "%.1fx", a / b }')
	rows+=("| $1 | $(sec "$2") | $bpftrace | $ratio |")
	log "$1: spanprobe $2 ms, bpftrace ${3:-n/a} ms"
}

have_bpftrace=false
command -v bpftrace >/dev/null && have_bpftrace=true
bt() { $have_bpftrace && median_ms bpftrace "$@"; }

# -c: the demo app's three functions
log "-c: demo-app, 3 functions"
sp=$(median_ms "$SPANPROBE" --ready-file "$tmp/ready" -c "build/demo-app --requests 1000000 --time-scale 0.01" \
	"uprobe:build/demo-app:foo,goo,zoo")
row "\`-c\` demo-app, 3 functions" "$sp" ""

# -p: Debian's redis-server, four functions
if command -v redis-server >/dev/null; then
	log "-p: redis-server, 4 functions"
	redis-server --port 0 --unixsocket "$tmp/redis.sock" --save '' >/dev/null 2>&1 &
	redis=$!
	pids+=("$redis")
	sleep 0.5
	sp=$(median_ms "$SPANPROBE" --ready-file "$tmp/ready" -p "$redis" "uprobe:$(command -v redis-server):$REDIS_FUNCS")
	bprobes=$(tr ',' '\n' <<<"$REDIS_FUNCS" | sed "s#.*#uprobe:$(command -v redis-server):& {}#" | tr '\n' ' ')
	row "\`-p\` redis-server, 4 functions" "$sp" "$(bt -p "$redis" -e "BEGIN { printf(\"ready\\n\") } $bprobes")"
fi

# system-wide: libz's deflate and inflate, with N more processes running
for extra in 0 200 1000; do
	log "system-wide libz deflate,inflate, $extra more processes"
	for ((i = 0; i < extra; i++)); do
		sleep 600 &
		pids+=("$!")
	done
	n=$(ls -d /proc/[0-9]* | wc -l)
	sp=$(median_ms "$SPANPROBE" --ready-file "$tmp/ready" "uprobe:$LIBZ:deflate,inflate")
	row "system-wide \`uprobe:libz.so.1:deflate,inflate\`, $n processes" "$sp" \
		"$(bt -e "BEGIN { printf(\"ready\\n\") } uprobe:$LIBZ:deflate {} uprobe:$LIBZ:inflate {}")"
done

{
	echo "# Start-up: ready after"
	echo
	echo "Measured by \`make bench-startup\` (bench/startup.sh) on $(date -u +%Y-%m-%d), Linux $(uname -r), $(nproc) CPUs, load before: $(cut -d' ' -f1-3 /proc/loadavg)."
	echo "Ready: spanprobe's \`--ready-file\` exists (every probe attached); bpftrace's BEGIN probe printed (after its attach). Median of $REPS runs; spanprobe's \`-v\` line \"start-up: resolving probes …, loading the BPF object …, attaching …\" says where its time went."
	echo
	echo "| start-up | spanprobe | bpftrace $($have_bpftrace && bpftrace --version | awk '{print $2}') | spanprobe / bpftrace |"
	echo "|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
} >"$RESULTS"
cat "$RESULTS"
