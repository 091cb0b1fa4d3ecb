# Helpers the benchmark scripts share (sourced by bench/run.sh and the
# section scripts it sources, and by the separate ones). Needs $tmp, a
# scratch directory: bench_start makes it.
# shellcheck shell=bash

log() { echo "bench: $*" >&2; }

# Every background process a benchmark starts is noted in $tmp/pids (a file,
# as some start in subshells), and only those are stopped at the end.
# Those reaped are noted in $tmp/ended, so a reused pid is never signalled.
track() { echo "$1" >>"$tmp/pids"; }

still_ours() { grep -sqx "$1" "$tmp/ended" || return 0; return 1; }

bench_cleanup() {
	local pid sig
	for sig in TERM KILL; do
		for pid in $(cat "$tmp/pids" 2>/dev/null); do
			still_ours "$pid" && kill -0 "$pid" 2>/dev/null && kill -"$sig" "$pid" 2>/dev/null
		done
		sleep 0.2
	done
	rm -rf "$tmp"
}

# bench_start: what every benchmark script does first: a scratch directory
# ($tmp), the tracked processes stopped and it removed at exit, and a check
# that it runs as root with $SPANPROBE built.
bench_start() {
	tmp=$(mktemp -d /tmp/spanprobe-bench.XXXXXX)
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
	[ "$(id -u)" -eq 0 ] || { log "run as root: the benchmarks attach uprobes"; exit 1; }
	[ -x "$SPANPROBE" ] || { log "$SPANPROBE is missing: run make first"; exit 1; }
}

# wait_for FILE REGEX SECONDS: until a line of FILE matches.
wait_for() {
	local i
	for ((i = 0; i < $3 * 20; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# wait_exit PID SECONDS: until PID (a child) ends; then SIGINT, SIGKILL.
wait_exit() {
	local i
	for ((i = 0; i < $2 * 20; i++)); do
		kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null; echo "$1" >>"$tmp/ended"; return 0; }
		sleep 0.05
	done
	kill -INT "$1" 2>/dev/null
	sleep 1
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	echo "$1" >>"$tmp/ended"
	return 1
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "" }'; }

# A loopback TCP port nobody listens on.
free_port() {
	local p
	for ((p = 20000 + RANDOM % 20000; ; p++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}

# CPU time of a process so far, in clock ticks (utime + stime).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null; }
hz=$(getconf CLK_TCK)
ticks_to_s() { awk -v t="$1" -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }'; }

# tcp_peers PORT: the client ports of every TCP connection to PORT the
# kernel still knows (established, closing, or in TIME_WAIT, which lasts
# 60 s on Linux: a run shorter than that loses none), one per line.
tcp_peers() {
	ss -Htan "( sport = :$1 or dport = :$1 )" 2>/dev/null | awk -v p="$1" '
		$1 == "LISTEN" { next }
		{ n = split($4, l, ":"); m = split($5, r, ":")
		  if (l[n] == p) print r[m]; else print l[n] }' | sort -u
}

# summary_row FIGURE MEASURED GOAL RATIO: a row of the table of goals.
summary_row() { echo "| $1 | $2 | $3 | $4 |" >>"$tmp/summary.md"; }

# goal_ratio MEASURED GOAL: measured / goal, and whether the goal is met.
# GOAL is "≤ N..." or "≥ N..."; the first number of each is used.
goal_ratio() {
	awk -v m="$1" -v g="$2" 'BEGIN {
		le = index(g, "≥") == 0
		if (match(m, /[0-9.]+/)) mv = substr(m, RSTART, RLENGTH); else { print "n/a"; exit }
		if (match(g, /[0-9.]+/)) gv = substr(g, RSTART, RLENGTH); else { print "n/a"; exit }
		if (gv + 0 == 0) { print "n/a"; exit }
		r = mv / gv
		printf "%.2f (%s)", r, (le ? r <= 1 : r >= 1) ? "met" : "missed"
	}'
}
