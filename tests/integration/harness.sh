#!/usr/bin/env bash
# The harness fails when it should: report_checks turns a checker that dies,
# a checker that prints nothing and a checker whose exit contradicts its lines
# into FAIL lines (fake checkers, no BPF).
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
