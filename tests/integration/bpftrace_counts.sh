#!/usr/bin/env bash
# Calls counted by spanprobe equal bpftrace's, in the same run, on three
# Debian libraries (libsqlite3, libz, liblzma) under real programs (the
# sqlite3 shell, Python's zlib, xz): bench/bpftrace_counts.sh runs them and
# prints one table row per function.
source "$(dirname "$0")/../lib/common.sh"
scratch
if ! command -v bpftrace >/dev/null; then
	fail all "bpftrace is not installed (scripts/install-deps.sh test)"
	exit 0
fi
SPANPROBE=$SPANPROBE "$ROOT/bench/bpftrace_counts.sh" >"$SCRATCH/table.md" 2>"$SCRATCH/err"
rows=0
while IFS='|' read -r _ lib func sp bt mark _; do
	lib=${lib// /} func=${func// /} sp=${sp// /} bt=${bt// /}
	[ -n "$func" ] && [ "$func" != function ] && [[ $func != -* ]] || continue
	rows=$((rows + 1))
	if [ "$sp" = "$bt" ] && [ "$sp" -gt 0 ] 2>/dev/null; then
		pass "$lib.$func"
	elif [ "$sp" = "$bt" ]; then
		# 0 = 0 proves nothing: the workload died or never called it
		fail "$lib.$func" "no call counted by either (the workload's output: $(head -c 200 "$SCRATCH/err"))"
	else
		fail "$lib.$func" "spanprobe $sp, bpftrace $bt"
	fi
done <"$SCRATCH/table.md"
check "fifteen_functions_compared" test "$rows" -eq 15
check "some_calls_counted" grep -Eq '\| [1-9][0-9]* \| [1-9][0-9]* \| ok' "$SCRATCH/table.md"
