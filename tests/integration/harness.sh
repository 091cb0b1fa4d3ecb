#!/usr/bin/env bash
# The harness fails when it should: report_checks turns a checker that dies,
# a checker that prints nothing and a checker whose exit contradicts its lines
# into FAIL lines, and the case runner (lib/cases.sh) fails a row that is
# missed in any way (fake checkers and commands, no BPF).
source "$(dirname "$0")/../lib/common.sh"
scratch

# reported NAME CHECKER-SCRIPT: the PASS/FAIL lines report_checks prints for it.
reported() {
	printf '%s\n' "$2" >"$SCRATCH/$1.sh"
	(TEST_NAME=t report_checks x bash "$SCRATCH/$1.sh")
}
expect_eq all_ok "$(reported ok 'echo "a: ok"; echo "b: ok"')" $'PASS t.x.a\nPASS t.x.b'
expect_eq one_failed "$(reported failed 'echo "a: ok"; echo "b: FAILED why: 3"; exit 1' | tail -n 1)" \
	'FAIL t.x.b: b: FAILED why: 3'
expect_eq crashed_before_any_line "$(reported crashed 'echo boom >&2; exit 5' | cut -c 1-50)" \
	'FAIL t.x.checks_read: the checker printed no check'
expect_eq printed_nothing_exit_0 "$(reported silent 'exit 0' | cut -c 1-50)" \
	'FAIL t.x.checks_read: the checker printed no check'
expect_eq crashed_after_ok_lines "$(reported late 'echo "a: ok"; exit 2' | tail -n 1 | cut -c 1-43)" \
	'FAIL t.x.checker_exit: the checker exited 2'
expect_eq exit_1_without_a_failed_line "$(reported liar 'echo "a: ok"; exit 1' | tail -n 1 | cut -c 1-43)" \
	'FAIL t.x.checker_exit: the checker exited 1'
expect_eq stdin_empty "$( : | TEST_NAME=t report_checks x | cut -c 1-50)" \
	'FAIL t.x.checks_read: the checker printed no check'

# The case runner (lib/cases.sh) fails a row for each way a command can
# miss it: exit, message, one line, a hang, a sanitizer's report.
source "$ROOT/tests/lib/cases.sh"
# ran [SETTINGS...] -- ROW...: the lines case_row prints for ROW.
ran() {
	local settings=()
	while [ "$1" != -- ]; do settings+=("$1"); shift; done
	shift
	(TEST_NAME=t; for s in "${settings[@]}"; do export "${s?}"; done; case_row "$@") | cut -d: -f1
}
SAYS='echo "spanprobe: no such thing" >&2'
expect_eq case.passes "$(ran -- r 1 "no such" -- sh -c "$SAYS; exit 1")" 'PASS t.r'
expect_eq case.wrong_exit "$(ran -- r 64 "no such" -- sh -c "$SAYS; exit 1")" 'FAIL t.r'
expect_eq case.error_wanted "$(ran -- r err "" -- true)" 'FAIL t.r'
expect_eq case.wrong_message "$(ran -- r 1 "other thing" -- sh -c "$SAYS; exit 1")" 'FAIL t.r'
expect_eq case.two_lines "$(ran -- r 1 "no such" -- sh -c "$SAYS; $SAYS; exit 1")" 'FAIL t.r'
expect_eq case.sanitizer_report "$(ran -- r err "no such" -- \
	sh -c "$SAYS; echo 'SUMMARY: AddressSanitizer: heap-use-after-free' >&2; exit 1")" 'FAIL t.r'
expect_eq case.hang "$(ran CASE_TIMEOUT=1 -- r 0 "" -- sleep 600)" 'FAIL t.r'
expect_eq case.requires "$(ran -- r 0 "" requires=no-such-tool-here -- true)" 'SKIP t.r'
expect_eq case.split "$(ran CASE_SPLIT=1 CASE_ONE_LINE=only -- r err "no such" -- \
	sh -c "$SAYS; echo 'Try --help' >&2; echo more >&2; exit 1" | paste -sd' ')" \
	'PASS t.r.exit_status PASS t.r.message FAIL t.r.one_message'
expect_eq case.builds "$(ran CASE_BUILDS='a=/bin/true b=/bin/false' -- r 0 "" -- sh -c '"$SP"' | paste -sd' ')" \
	'PASS t.a.r FAIL t.b.r'
