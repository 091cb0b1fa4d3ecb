# shellcheck shell=bash
# with_progress WHAT COMMAND...: runs COMMAND; while it runs, a line every
# 30 s on the stderr the script started with (fd 7), even where COMMAND's
# output goes to a log, so no long step leaves the screen silent.
exec 7>&2
with_progress() {
	local what=$1 start ticker rc
	shift
	start=$(date +%s)
	# its own stdout and stderr away from COMMAND's: a pipe it held open
	# would keep the reader waiting for its sleep to end
	(
		while sleep 30; do
			echo "  ... still $what ($(($(date +%s) - start)) s so far)" >&7
		done
	) >/dev/null 2>&1 &
	ticker=$!
	# (set -e in the caller: neither COMMAND's failure nor the ticker's
	# SIGTERM status may end the caller before the ticker is gone)
	"$@" && rc=0 || rc=$?
	kill "$ticker" 2>/dev/null || true
	wait "$ticker" 2>/dev/null || true
	return "$rc"
}
