# Declarative cases, the way bpftrace's runtime tests are written: one row a
# case, and one runner for every suite of rows (sourced after common.sh and
# `scratch`).
#
#   case_row NAME EXIT REGEX [requires=TOOL]... -- COMMAND...
#
#   NAME     the check's name (PASS/FAIL NAME)
#   EXIT     the exit status wanted: a number, or "err" for any of 1..123
#   REGEX    an extended regular expression standard error must match
#            ("" for none)
#   REQUIRES requires=TOOL: one SKIP line naming TOOL instead, when it is
#            not installed
#   RUN      COMMAND, with standard input from /dev/null; a shell function
#            exported with `export -f` may be the command
#
# A row passes when the command ends with EXIT (no signal, no hang, no
# sanitizer report), standard error matches REGEX, and, where EXIT is an
# error, says it in one line (CASE_ONE_LINE). Settings, set before the rows:
#   CASE_TIMEOUT   the hang guard in seconds, times HANG_SCALE (default 30)
#   CASE_ONE_LINE  how "one line" is counted: "spanprobe" (exactly one
#                  "spanprobe: " line, the default), "only" (standard error is
#                  one line, argp's "Try ..." hint aside) or "off"
#   CASE_SPLIT     when set, a row is three checks, NAME.exit_status,
#                  NAME.message and NAME.one_message (the last two only where
#                  they apply), instead of one named NAME
#   CASE_BUILDS    "BUILD=PATH ...": each row runs once per build, named
#                  BUILD.NAME, with $SP (exported) that build's spanprobe
# The last row's output stays in $SCRATCH/case.out and $SCRATCH/case.err.
# shellcheck shell=bash

CASE_TIMEOUT=${CASE_TIMEOUT:-30}
CASE_ONE_LINE=${CASE_ONE_LINE:-spanprobe}
CASE_SPLIT=${CASE_SPLIT:-}
CASE_BUILDS=${CASE_BUILDS:-}

case_row() {
	local name=$1 want=$2 regex=$3 tool build
	shift 3
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		case $1 in
		requires=*)
			tool=${1#requires=}
			command -v "$tool" >/dev/null || { skip "$name" "$tool is not installed"; return 0; }
			;;
		*) fail "$name" "bad row: '$1' before --"; return 0 ;;
		esac
		shift
	done
	[ "${1:-}" = -- ] && [ $# -gt 1 ] || { fail "$name" "bad row: no -- COMMAND"; return 0; }
	shift
	if [ -z "$CASE_BUILDS" ]; then
		case_run "$name" "$want" "$regex" "$@"
		return 0
	fi
	for build in $CASE_BUILDS; do
		SP=${build#*=} case_run "${build%%=*}.$name" "$want" "$regex" "$@"
	done
	return 0
}

# case_run NAME EXIT REGEX COMMAND...: runs one row and reports it.
case_run() {
	local name=$1 want=$2 regex=$3 rc lines exit_why="" message_why="" line_why=""
	shift 3
	timeout $((CASE_TIMEOUT * HANG_SCALE)) bash -c '"$@"' case "$@" \
		>"$SCRATCH/case.out" 2>"$SCRATCH/case.err" </dev/null
	rc=$?
	# exit_status: the wanted exit, not a signal, a hang or a sanitizer's
	if [ "$rc" -ge 124 ] && [ "$rc" != "$want" ]; then
		exit_why="exit $rc (signal, timeout or sanitizer)"
	elif grep -Eq 'Sanitizer|runtime error' "$SCRATCH/case.err"; then
		exit_why="sanitizer report: $(grep -m1 -E 'Sanitizer|runtime error' "$SCRATCH/case.err")"
	elif [ "$want" = err ] && [ "$rc" -eq 0 ]; then
		exit_why="exit 0, want an error"
	elif [ "$want" != err ] && [ "$rc" != "$want" ]; then
		exit_why="exit $rc, want $want"
	fi
	[ -n "$exit_why" ] && exit_why="$exit_why; stderr: $(head -c 300 "$SCRATCH/case.err")"
	# message: standard error says what REGEX says
	if [ -n "$regex" ] && ! grep -Eq -- "$regex" "$SCRATCH/case.err"; then
		message_why="stderr '$(head -c 300 "$SCRATCH/case.err")' does not match /$regex/"
	fi
	# one_message: an error is one line
	if [ "$want" != 0 ]; then
		case $CASE_ONE_LINE in
		spanprobe) lines=$(grep -c '^spanprobe: ' "$SCRATCH/case.err") ;;
		only) lines=$(grep -vc '^Try ' "$SCRATCH/case.err") ;;
		*) lines=1 ;;
		esac
		[ "$lines" = 1 ] || line_why="$lines error lines: $(head -c 500 "$SCRATCH/case.err")"
	fi
	if [ -n "$CASE_SPLIT" ]; then
		case_report "$name.exit_status" "$exit_why"
		[ -n "$regex" ] && case_report "$name.message" "$message_why"
		[ "$want" != 0 ] && [ "$CASE_ONE_LINE" != off ] && case_report "$name.one_message" "$line_why"
	else
		case_report "$name" "${exit_why:-${message_why:-$line_why}}"
	fi
	return 0
}

# case_report NAME WHY: PASS NAME when WHY is empty, else FAIL NAME: WHY
# (on one line).
case_report() { if [ -z "$2" ]; then pass "$1"; else fail "$1" "${2//$'\n'/ | }"; fi; }
