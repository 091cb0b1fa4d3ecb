#!/usr/bin/env bash
# Per-call cost of tracing a Python function: untraced, traced from outside
# by spanprobe (python: probe), and instrumented in process with the
# OpenTelemetry SDK. Prints nanoseconds per call and ratios to untraced.
#   work    the traced function (a one-line body)
#   other   a function nobody traces, in the same process
#   inline  one loop iteration without a call
# Usage: bench/python_overhead.sh [CALLS]   (root; the SDK column needs `make pyvenv`)
set -euo pipefail
cd "$(dirname "$0")/.."
calls=${1:-300000}
PY=/usr/bin/python3.11
SPANPROBE=${SPANPROBE:-build/spanprobe}
VENV_PY=build/pyvenv/bin/python

field() { sed -n "s/.*$1=\([0-9]*\).*/\1/p" <<<"$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", a / b }'; }
row() { # row LABEL OUTPUT
	printf '%-26s %10s %10s %10s   %8s %8s %8s\n' "$1" "$(field work_ns "$2")" \
		"$(field other_ns "$2")" "$(field inline_ns "$2")" \
		"$(ratio "$(field work_ns "$2")" "$(field work_ns "$plain")")" \
		"$(ratio "$(field other_ns "$2")" "$(field other_ns "$plain")")" \
		"$(ratio "$(field inline_ns "$2")" "$(field inline_ns "$plain")")"
}

plain=$("$PY" bench/python_calls.py plain "$calls")
traced=$("$SPANPROBE" -o jsonl --output-file /dev/null -c "$PY bench/python_calls.py plain $calls" \
	"python:$PY:python_calls.py:work" 2>/dev/null)
echo "$(uname -r), $("$PY" -V), $calls calls, ns per call (best of 3)"
printf '%-26s %10s %10s %10s   %8s %8s %8s\n' "" work other inline "work" "other" "inline"
row "untraced" "$plain"
row "spanprobe python: probe" "$traced"
if [ -x "$VENV_PY" ]; then
	row "OpenTelemetry SDK" "$("$VENV_PY" bench/python_calls.py sdk "$calls")"
else
	echo "OpenTelemetry SDK: skipped (make pyvenv)"
fi
