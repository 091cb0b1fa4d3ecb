# shellcheck shell=bash
# What the demo scripts (demo.sh, container-demo.sh, cluster-demo.sh) print
# and wait with. Sourced; the caller defines die().

# say WHAT: a step's heading.
say() { printf '\n== %s\n' "$*"; }

# wait_until SECS WHAT COMMAND...: COMMAND succeeds within SECS (a hang
# guard), else the demo dies saying WHAT did not happen.
wait_until() {
	local secs=$1 what=$2 i
	shift 2
	for ((i = 0; i < secs * 4; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.25
	done
	die "$what did not happen in $secs s"
}
