#!/usr/bin/env bash
# The share of functions whose entry probe the kernel emulates (or turns
# into a call: nop5) against those it single-steps, as `spanprobe -l` puts
# them, over binaries nobody here wrote: Debian's glibc, redis-server, nginx
# and libsqlite3, and the OpenTelemetry Collector (Go) the tests build.
# With BEFORE=path, an older spanprobe build's share beside it. Prints a
# markdown table; then the reasons the single-stepped ones stay so (-l -v).
# Needs redis-server, nginx (scripts/install-deps.sh test) and the test
# peers (scripts/build-peers.sh); a binary that is missing is left out.
set -uo pipefail
cd "$(dirname "$0")/.."
SPANPROBE=${SPANPROBE:-build/spanprobe}
BEFORE=${BEFORE:-}
PEERS=${PEERS:-$HOME/.cache/spanprobe-peers}
otelcol=$(ls "$PEERS"/otelcol-spanprobe-*/otelcol-spanprobe 2>/dev/null | tail -n 1)
specs=(
	"Debian's libc.so.6 (libc:*)|uprobe:libc:*"
	"Debian's redis-server (stripped: .dynsym)|uprobe:/usr/bin/redis-server:*"
	"Debian's nginx|uprobe:/usr/sbin/nginx:*"
	"Debian's libsqlite3|uprobe:/usr/lib/x86_64-linux-gnu/libsqlite3.so.0:*"
	"the OpenTelemetry Collector (Go), receiver*|uprobe:$otelcol:go.opentelemetry.io/collector/receiver*"
)

# share BIN SPEC: "emulated single-stepped total"
share() {
	"$1" -l "$2" 2>/dev/null | awk '
		/  \[(emulated|nop5)/ { e++ } /  \[single-step/ { s++ }
		END { printf "%d %d %d\n", e, s, e + s }'
}
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f %%", b ? 100 * a / b : 0 }'; }

if [ -n "$BEFORE" ]; then
	echo "| binary | before: emulated | before: single-stepped | after: emulated | after: single-stepped |"
	echo "|---|---:|---:|---:|---:|"
else
	echo "| binary | emulated | single-stepped |"
	echo "|---|---:|---:|"
fi
for s in "${specs[@]}"; do
	name=${s%%|*} spec=${s#*|}
	path=${spec#uprobe:}
	path=${path%%:*}
	[ "$path" = libc ] || [ -e "$path" ] || { echo "bench: $name: $path missing, left out" >&2; continue; }
	read -r e n t <<<"$(share "$SPANPROBE" "$spec")"
	row="| $name"
	if [ -n "$BEFORE" ]; then
		read -r be bn bt <<<"$(share "$BEFORE" "$spec")"
		row="$row | $be | $bn ($(pct "$bn" "$bt"))"
	fi
	echo "$row | $e | $n ($(pct "$n" "$t")) |"
done
echo
echo "Why the single-stepped entries stay so (spanprobe -l -v), all binaries above:"
echo
echo "| reason | functions |"
echo "|---|---:|"
for s in "${specs[@]}"; do
	spec=${s#*|}
	"$SPANPROBE" -l -v "$spec" 2>/dev/null | grep '  \[single-step' |
		sed -n 's/.*(not moved: //; s/)  .*//p'
done | sort | uniq -c | sort -rn | awk '{ n = $1; $1 = ""; sub(/^ /, ""); printf "| %s | %d |\n", $0, n }'
