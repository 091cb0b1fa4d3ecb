# shellcheck shell=bash
# with_progress WHAT COMMAND...: runs COMMAND; while it runs, a line every
# 30 s on the stderr the script started with (fd 7), even where COMMAND's
# output goes to a log, so no long step leaves the screen silent.
exec 7>&2
with_progress() {
	local what=$1 start ticker rc
	shift
	start=$(date +%s)
	(
		while sleep 30; do
			echo "  ... still $what ($(($(date +%s) - start)) s so far)" >&7
		done
	) &
	ticker=$!
	"$@"
	rc=$?
	kill "$ticker" 2>/dev/null
	wait "$ticker" 2>/dev/null
	return "$rc"
}
