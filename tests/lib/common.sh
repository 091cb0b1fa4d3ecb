# Shared helpers for the shell tests. Each test prints "PASS name",
# "FAIL name: why" or "SKIP name: why"; tests/run.sh counts them.
# shellcheck shell=bash

ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SPANPROBE=${SPANPROBE:-$ROOT/build/spanprobe}
DEMO=$ROOT/build/demo-app
TEST_NAME=${TEST_NAME:-$(basename "$0" .sh)}
# Hang guards are ~10x the usual time on this kind of machine; where the
# machine is slower by design (QEMU without KVM: the kernel matrix sets 10),
# they stretch by HANG_SCALE. A guard is never a speed check.
HANG_SCALE=${HANG_SCALE:-1}

pass() { echo "PASS $TEST_NAME.$1"; }
fail() { echo "FAIL $TEST_NAME.$1: ${*:2}"; }
skip() { echo "SKIP $TEST_NAME.$1: ${*:2}"; }

# check NAME CONDITION-COMMAND... : PASS when the command succeeds.
check() {
	local name=$1
	shift
	if "$@" >/dev/null; then pass "$name"; else fail "$name" "$*"; fi
}

# expect_eq NAME GOT WANT
expect_eq() {
	if [ "$2" == "$3" ]; then pass "$1"; else fail "$1" "got '$2', want '$3'"; fi
}

# A scratch directory removed at exit.
scratch() {
	SCRATCH=$(mktemp -d /tmp/spanprobe-test.XXXXXX)
	trap 'cleanup_scratch' EXIT
}
cleanup_scratch() {
	local p
	for p in ${BG_PIDS:-}; do kill "$p" 2>/dev/null; done
	for p in ${BG_PIDS:-}; do wait "$p" 2>/dev/null; done
	[ -n "${SCRATCH:-}" ] && rm -rf "$SCRATCH"
}
# Remember a background process to kill at exit.
bg_track() { BG_PIDS="${BG_PIDS:-} $1"; }

# wait_for_line FILE PATTERN [SECONDS]: wait until FILE has a line matching.
wait_for_line() {
	local file=$1 pattern=$2 secs=${3:-10} i
	for ((i = 0; i < secs * 20 * HANG_SCALE; i++)); do
		grep -q -- "$pattern" "$file" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# report_checks PREFIX CHECKER [ARGS...]: runs a checker
# (check_demo_spans.sh, check_summary.py) and turns its "property: ok|WHY"
# lines into PASS/FAIL lines named PREFIX.property ("# " lines are notes). A checker that dies (a jq
# error, a Python exception: any exit but 0, or 1 after a FAILED line) and a
# checker that prints no check are FAIL lines too, so a crashed checker never
# leaves a suite green. Without CHECKER the lines come from standard input,
# where only "no check read" can be seen: pass the checker instead.
report_checks() {
	local prefix=$1 line name n=0 bad=0 rc=0 out err
	shift
	if [ $# -gt 0 ]; then
		err=$(mktemp /tmp/spanprobe-checker.XXXXXX)
		out=$("$@" 2>"$err")
		rc=$?
	else
		out=$(cat)
	fi
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		[[ $line == "# "* ]] && { echo "$line"; continue; } # a note, not a check
		n=$((n + 1))
		name=${line%%: *}
		name=${name// /_}
		case $line in
		*": ok") pass "$prefix.$name" ;;
		*) fail "$prefix.$name" "$line"; bad=$((bad + 1)) ;;
		esac
	done <<<"$out"
	if [ "$n" -eq 0 ]; then
		fail "$prefix.checks_read" "the checker printed no check${err:+: $(tail -n 3 "$err" | tr '\n' ' ')}"
	elif [ "$rc" -ne 0 ] && { [ "$rc" -ne 1 ] || [ "$bad" -eq 0 ]; }; then
		fail "$prefix.checker_exit" "the checker exited $rc: $(tail -n 3 "$err" | tr '\n' ' ')"
	fi
	[ -n "${err:-}" ] && rm -f "$err"
	return 0
}

# wait_for_count FILE PATTERN N [SECONDS]: wait until FILE has N lines
# matching (SECONDS, default 60, is a hang guard).
wait_for_count() {
	local file=$1 pattern=$2 n=$3 secs=${4:-60} i got
	for ((i = 0; i < secs * 20 * HANG_SCALE; i++)); do
		got=$(grep -c -- "$pattern" "$file" 2>/dev/null)
		[ "${got:-0}" -ge "$n" ] && return 0
		sleep 0.05
	done
	return 1
}

# wait_exit PID SECONDS: wait for a child to exit (its status is then in
# WAIT_STATUS); 1 when it still runs after SECONDS (a hang guard).
wait_exit() {
	local pid=$1 secs=$2 i
	for ((i = 0; i < secs * 20 * HANG_SCALE; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$pid" 2>/dev/null && return 1
	wait "$pid" 2>/dev/null
	WAIT_STATUS=$?
	return 0
}

# wait_or_fail PID [SECONDS]: `wait PID` with a hang guard (default 60 s,
# times HANG_SCALE): returns the process's status, as wait does; one still
# running after SECONDS is a FAIL line, is killed, and the status is 124.
wait_or_fail() {
	local pid=$1 secs=${2:-60} comm
	wait_exit "$pid" "$secs" && return "$WAIT_STATUS"
	comm=$(ps -o comm= -p "$pid" 2>/dev/null)
	fail "hang_guard.${comm:-process}" "process $pid still runs $((secs * HANG_SCALE)) s on (killed)"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 124
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# Numbers from spanprobe's closing summary line (stderr saved in FILE).
summary_spans() { sed -n 's/^spanprobe: \([0-9]*\) spans .*/\1/p' "$1" | tail -n 1; }
summary_truncated() { sed -n 's/^spanprobe: [0-9]* spans ([0-9]* errors, \([0-9]*\) truncated).*/\1/p' "$1" | tail -n 1; }
summary_ring_full() { sed -n 's/.*ring buffer full \([0-9]*\).*/\1/p' "$1" | tail -n 1; }
# summary_field NAME FILE: an OTLP count (exported, dropped, rejected, retries).
summary_field() { sed -n "s/.*OTLP .*\b$1 \([0-9]*\).*/\1/p" "$2" | tail -n 1; }

# code_byte PID FILE OFFSET: the byte at file offset OFFSET of FILE in PID's
# memory, in hex (cc where a uprobe breakpoint is); empty when not mapped.
code_byte() {
	local pid=$1 off=$3 ino range perms moff inode s e o
	ino=$(stat -c %i "$2")
	while read -r range perms moff _ inode _; do
		[ "$inode" = "$ino" ] && [[ $perms == *x* ]] || continue
		s=$((16#${range%-*})) e=$((16#${range#*-})) o=$((16#$moff))
		if [ "$off" -ge "$o" ] && [ "$off" -lt $((o + e - s)) ]; then
			dd if="/proc/$pid/mem" bs=1 count=1 skip=$((s + off - o)) iflag=skip_bytes status=none |
				od -An -tx1 | tr -d ' '
			return
		fi
	done <"/proc/$pid/maps"
}

# test_cgroup_root: the writable cgroup hierarchy the container and pod
# tests put processes in: the unified one, or v1's pids controller on a host
# with v1 or hybrid cgroups.
test_cgroup_root() {
	if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
		echo /sys/fs/cgroup
	elif [ -d /sys/fs/cgroup/pids ]; then
		echo /sys/fs/cgroup/pids
	else
		return 1
	fi
}

# bpftrace_count_start FILE LIBRARY FUNCTION COMM: bpftrace counts the calls
# of FUNCTION in LIBRARY by processes named COMM (a copy of a workload under
# a name of its own, so nothing else on the machine counts), the workload's
# own count to compare spanprobe's with; returns once its probe is in.
# bpftrace_count_stop FILE: stops it and prints the count (empty if none).
bpftrace_count_start() {
	bpftrace -e "BEGIN { printf(\"ready\\n\"); } uprobe:$2:$3 /comm == \"$4\"/ { @n = count(); }" >"$1" 2>&1 &
	BPFTRACE_PID=$!
	bg_track $BPFTRACE_PID
	wait_for_line "$1" '^ready' 60
}
# bpftrace now and then misses a SIGINT (asleep in epoll_wait, the signal
# caught and nothing done): asked again each second (times HANG_SCALE).
bpftrace_count_stop() {
	local i
	for ((i = 0; i < 30; i++)); do
		kill -INT "$BPFTRACE_PID" 2>/dev/null
		wait_exit "$BPFTRACE_PID" 1 && break
	done
	kill -0 "$BPFTRACE_PID" 2>/dev/null &&
		echo "FAIL $TEST_NAME.bpftrace_exits: hang guard: bpftrace still runs $((30 * HANG_SCALE)) s after SIGINT" >&2
	sed -n 's/^@n: \([0-9]*\)/\1/p' "$1"
}
