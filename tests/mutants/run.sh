#!/usr/bin/env bash
# make test-mutants: each spanprobe of build/mutants/NAME (one deliberate
# fault, tests/mutants/list) runs the suites its line names until one
# catches it. Caught means a test FAILs that passes with the normal build in
# the same run (the suites run once with build/spanprobe first, so a suite
# already failing for another reason catches nothing). Prints a markdown
# table; exits 1 when a mutant goes uncaught.
# Usage: tests/mutants/run.sh [NAME...]   (ALL=1: every named suite, not the first that catches)
set -uo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp -d /tmp/spanprobe-mutants.XXXXXX)
trap 'rm -rf "$out"' EXIT
list=$(grep -v '^#' tests/mutants/list | grep .)
[ $# -gt 0 ] && list=$(grep -E "^($(IFS='|'; echo "$*"))[[:space:]]" <<<"$list")

# run_suite SPANPROBE SUITE FILE: the suite's FAIL test names, one a line
run_suite() {
	SPANPROBE=$PWD/$1 tests/run.sh "$2" >"$3.log" 2>&1
	sed -n 's/^FAIL \([^:]*\):.*/\1/p' "$3.log" | sort -u >"$3"
}

suites=$(awk '{ for (i = 2; i <= NF && $i ~ /\//; i++) print $i }' <<<"$list" | sort -u)
for s in $suites; do
	echo "normal build: $s" >&2
	run_suite build/spanprobe "$s" "$out/base.${s//\//_}"
done

uncaught=0
echo "| mutant | fault | caught by |"
echo "|---|---|---|"
while read -r name rest; do
	read -ra words <<<"$rest"
	mine=() fault=""
	for w in "${words[@]}"; do
		if [ -z "$fault" ] && [[ $w == */* ]]; then mine+=("$w"); else fault+="${fault:+ }$w"; fi
	done
	bin=build/mutants/$name/spanprobe
	caught=""
	if [ ! -x "$bin" ]; then
		caught="NOT BUILT ($bin)"
	else
		for s in "${mine[@]}"; do
			echo "mutant $name: $s" >&2
			f=$out/$name.${s//\//_}
			run_suite "$bin" "$s" "$f"
			new=$(comm -23 "$f" "$out/base.${s//\//_}")
			if [ -n "$new" ]; then
				caught+="${caught:+; }$(head -n 3 <<<"$new" | paste -sd, | sed 's/,/, /g')"
				n=$(wc -l <<<"$new")
				[ "$n" -gt 3 ] && caught+=" (+$((n - 3)) more)"
				[ -n "${ALL:-}" ] || break
			fi
		done
	fi
	if [ -z "$caught" ] || [[ $caught == NOT* ]]; then
		uncaught=$((uncaught + 1))
		caught="**NOT CAUGHT** by ${mine[*]}${caught:+: $caught}"
	fi
	echo "| $name | $fault | $caught |"
done <<<"$list"
echo
echo "Suites with failures on the normal build (not counted as catches):"
for s in $suites; do
	[ -s "$out/base.${s//\//_}" ] && echo "   $s: $(paste -sd' ' "$out/base.${s//\//_}")"
done
echo "$(($(wc -l <<<"$list") - uncaught)) of $(wc -l <<<"$list") mutants caught"
[ "$uncaught" -eq 0 ]
