#!/usr/bin/env bash
# Where spans go when writing them fails, and what shares standard output:
# a full disk and a closed pipe are reported once with their cause, every
# span is accounted for, and the exit status says so; with -c, the command's
# own output never mixes into spans read by a program; return values print
# by their type.
source "$(dirname "$0")/../lib/common.sh"
scratch
P="uprobe:$DEMO:foo,goo,zoo"
# hits_total FILE: the sum of the "hits per function" line
hits_total() { sed -n 's/^spanprobe: hits per function: //p' "$1" | tr ',' '\n' | awk '{ s += $2 } END { print s + 0 }'; }
unwritten() { sed -n 's/.*; \([0-9]*\) not written to .*/\1/p' "$1" | tail -n 1; }

# --- a full disk: nothing written, all of it counted, non-zero exit
"$SPANPROBE" -o jsonl --output-file /dev/full -c "$DEMO --requests 5 --seed 3 --time-scale 0 --annotate" \
	"$P" >"$SCRATCH/full.app" 2>"$SCRATCH/full.err"
expect_eq "disk_full.exit_status" "$?" 1
expect_eq "disk_full.reported_once" "$(grep -c 'writing spans to /dev/full failed: No space left on device' "$SCRATCH/full.err")" 1
spans=$(summary_spans "$SCRATCH/full.err")
expect_eq "disk_full.every_call_a_span" "$spans" 15
expect_eq "disk_full.every_span_counted_unwritten" "$(unwritten "$SCRATCH/full.err")" "$spans"
expect_eq "disk_full.app_finished" "$(grep -c 'Zoo function completed' "$SCRATCH/full.app")" 5

# --- a closed pipe: the reader takes 300 bytes and goes
"$SPANPROBE" -o jsonl -c "$DEMO --requests 300 --seed 4 --time-scale 0" "$P" 2>"$SCRATCH/pipe.err" |
	head -c 300 >"$SCRATCH/pipe.head"
rc=${PIPESTATUS[0]}
expect_eq "closed_pipe.exit_status" "$rc" 1
expect_eq "closed_pipe.reported_once" "$(grep -c 'writing spans to standard output failed: Broken pipe' "$SCRATCH/pipe.err")" 1
spans=$(summary_spans "$SCRATCH/pipe.err")
lost=$(unwritten "$SCRATCH/pipe.err")
# every entry the kernel saw became a span (none silently dropped), and
# what could not be written is counted
# (what the kernel saw is what the app did: three calls per request it finished)
expect_eq "closed_pipe.app_finished" "$(grep -c 'Zoo function completed' "$SCRATCH/pipe.err")" 300
expect_eq "closed_pipe.spans_equal_the_apps_calls" "$spans" 900
expect_eq "closed_pipe.hits_equal_the_apps_calls" "$(hits_total "$SCRATCH/pipe.err")" 900
check "closed_pipe.unwritten_counted" test "${lost:-0}" -gt 0 -a "${lost:-0}" -le "${spans:-0}"
expect_eq "closed_pipe.reader_got_what_it_read" "$(wc -c <"$SCRATCH/pipe.head")" 300

# --- -c with spans on a pipe: standard output carries spans only; the
# command's output goes to standard error, unchanged
"$DEMO" --requests 20 --seed 5 --time-scale 0 >"$SCRATCH/untraced.app" 2>&1
"$SPANPROBE" -o jsonl -c "$DEMO --requests 20 --seed 5 --time-scale 0" "$P" \
	2>"$SCRATCH/mixed.err" | cat >"$SCRATCH/mixed.out"
check "stdout_spans_only.every_line_is_a_span" jq -e -s 'length == 60 and all(.[]; has("spanId"))' "$SCRATCH/mixed.out"
check "stdout_spans_only.said_where_the_output_goes" grep -q "the command's standard output goes to standard error" "$SCRATCH/mixed.err"
grep -v '^spanprobe: ' "$SCRATCH/mixed.err" >"$SCRATCH/mixed.app"
check "stdout_spans_only.command_output_unchanged" cmp -s "$SCRATCH/untraced.app" "$SCRATCH/mixed.app"

# --- on a terminal both share standard output, as bpftrace does
if command -v script >/dev/null; then
	script -qec "$SPANPROBE -c '$DEMO --requests 3 --seed 6 --time-scale 0' '$P'" /dev/null \
		>"$SCRATCH/tty.out" 2>&1
	check "terminal.spans_and_command_output_together" grep -q "Zoo function completed" "$SCRATCH/tty.out"
	check "terminal.trees_shown" grep -q "^trace [0-9a-f]\{32\}" "$SCRATCH/tty.out"
	# errors in red on a terminal, unless NO_COLOR is set (to anything)
	for nc in "" 1; do
		script -qec "env ${nc:+NO_COLOR=$nc} $SPANPROBE --error 'goo:ret<0' \
			-c '$DEMO --requests 20 --seed 6 --time-scale 0' '$P'" /dev/null >"$SCRATCH/color$nc.out" 2>&1
	done
	check "terminal.errors_shown" test "$(grep -c 'ERROR: goo returned' "$SCRATCH/color.out")" -eq \
		"$(grep -c 'Exception in goo' "$SCRATCH/color.out")" -a "$(grep -c 'Exception in goo' "$SCRATCH/color.out")" -gt 0
	check "terminal.errors_in_red" grep -q $'\e\\[31mERROR: goo returned' "$SCRATCH/color.out"
	check "terminal.no_color_errors_shown" test "$(grep -c 'ERROR: goo returned' "$SCRATCH/color1.out")" -gt 0
	check "terminal.no_color_no_escapes" test "$(grep -c $'\e\\[' "$SCRATCH/color1.out")" -eq 0
else
	fail "terminal" "script (util-linux) is not installed"
fi

# --- return values print by type: DWARF types, and none without DWARF
FX=$ROOT/build/fixtures
"$SPANPROBE" -c "$FX/elf-pie" "uprobe:$FX/elf-pie:fn_void,fn_int,fn_unsigned,fn_charp" \
	>"$SCRATCH/types.out" 2>"$SCRATCH/types.err"
check "return_types.void_has_none" grep -Eq '^fn_void  [0-9.]+ [num]?s  \(\+0 ns\)$' "$SCRATCH/types.out"
check "return_types.int" grep -Eq '^fn_int .*  = [0-9]+$' "$SCRATCH/types.out"
check "return_types.unsigned" grep -Eq '^fn_unsigned .*  = [0-9]+$' "$SCRATCH/types.out"
check "return_types.pointer_in_hex" grep -Eq '^fn_charp .*  = 0x[0-9a-f]+$' "$SCRATCH/types.out"
"$SPANPROBE" -c "$FX/elf-nodwarf" "uprobe:$FX/elf-nodwarf:fn_int" >"$SCRATCH/nodwarf.out" 2>/dev/null
check "return_types.no_dwarf_says_unknown" grep -q '= [0-9-]* (type unknown, read as int)$' "$SCRATCH/nodwarf.out"
