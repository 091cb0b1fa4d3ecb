#!/usr/bin/env bash
# Regenerates the README's benchmark figures from bench/results.md (written
# by `make bench`): everything between the two marker lines below is
# replaced, headings moved one level down. Nothing between them is edited
# by hand.
#   bench/readme.sh [RESULTS [README]]
set -euo pipefail
cd "$(dirname "$0")/.."
results=${1:-bench/results.md}
readme=${2:-README.md}
begin='<!-- bench/readme.sh: generated from bench/results.md, do not edit by hand -->'
end='<!-- bench/readme.sh: end -->'

[ -s "$results" ] || { echo "readme.sh: $results is missing or empty: run make bench" >&2; exit 1; }
for marker in "$begin" "$end"; do
	[ "$(grep -cxF "$marker" "$readme")" = 1 ] ||
		{ echo "readme.sh: $readme needs the line '$marker' exactly once" >&2; exit 1; }
done

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
# The results without their title, "## n." headings as "### n.".
body=$(sed -e '1{/^# /d}' -e 's/^## /### /' "$results" | sed -e '/./,$!d')
# (through the environment: awk -v would expand backslashes)
BODY=$body BEGIN_LINE=$begin END_LINE=$end awk '
	BEGIN { begin = ENVIRON["BEGIN_LINE"]; end = ENVIRON["END_LINE"] }
	$0 == begin { print; print ""; print ENVIRON["BODY"]; print ""; skip = 1; next }
	$0 == end { skip = 0 }
	!skip { print }
' "$readme" >"$tmp"
cat "$tmp" >"$readme"
echo "readme.sh: $readme updated from $results"
