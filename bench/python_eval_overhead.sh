#!/usr/bin/env bash
# Per-call cost of python: probes without USDT (the evaluator path), per
# pyenv CPython 3.8-3.13: one process per version and way measures before
# spanprobe attaches (-p, tracing work() only), while it traces, and after
# it detached (bench/python_eval_calls.py). Ways: session (the default: a
# uprobe session on 6.13+, return instructions before), uretprobe
# (SPANPROBE_PYTHON_RETURN=uretprobe, for comparison),
# and, 3.11+, inlining turned off alone (no probe). Then Debian's
# /usr/bin/python3.11 (USDT probes) the three ways it can be traced: its
# evaluator with a session (the default on 6.13+), with a uretprobe (as on
# older kernels) and through USDT (SPANPROBE_PYTHON_PATH=usdt, with 3.11's
# line semaphore). ns per call, best of 3:
#   work   the traced function     other  an untraced function
#   inline a loop iteration, no call   fib  a call of recursive fib() (untraced)
# Usage: bench/python_eval_overhead.sh [CALLS]   (root)
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/pyenvs.sh
calls=${1:-100000}
SPANPROBE=${SPANPROBE:-build/spanprobe}
EVAL_FRAME=build/tools/cpython-eval-frame
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

field() { sed -n "s/.*$1=\([0-9]*\).*/\1/p" <<<"$2"; }
row() { printf '| %-4s | %-22s | %7s | %7s | %7s | %7s |\n' "$1" "$2" "$(field work_ns "$3")" \
	"$(field other_ns "$3")" "$(field inline_ns "$3")" "$(field fib_ns "$3")"; }

# measure VERSION WAY [PYTHON]: prints the three phases' rows
measure() {
	local v=$1 way=$2 py=${3:-} app tracer
	[ -n "$py" ] || py=$(pyenv_prefix "$v")/bin/python$v
	rm -f "$tmp/go" "$tmp/detached" "$tmp/out"
	"$py" bench/python_eval_calls.py "$calls" "$tmp/go" "$tmp/detached" >"$tmp/out" &
	app=$!
	until grep -q phase=before "$tmp/out"; do sleep 0.1; done
	if [ "$way" = "inlining off only" ]; then
		"$EVAL_FRAME" $app "$(libpython_of "$v")" off >/dev/null
		touch "$tmp/go"
		until grep -q "during done" "$tmp/out"; do sleep 0.1; done
		"$EVAL_FRAME" $app "$(libpython_of "$v")" on >/dev/null
	else
		if [ "$way" = uretprobe ]; then export SPANPROBE_PYTHON_RETURN=uretprobe; fi
		if [ "$way" = usdt ]; then export SPANPROBE_PYTHON_PATH=usdt; fi
		"$SPANPROBE" -p $app -o jsonl --output-file /dev/null --ready-file "$tmp/go" \
			"python:$py:python_eval_calls.py:work" 2>"$tmp/err" &
		tracer=$!
		unset SPANPROBE_PYTHON_RETURN SPANPROBE_PYTHON_PATH
		until grep -q "during done" "$tmp/out"; do sleep 0.1; done
		kill -INT $tracer
		wait $tracer || true
	fi
	touch "$tmp/detached"
	wait $app
	[ "$way" = "inlining off only" ] || row "$v" "untraced (before)" "$(grep phase=before "$tmp/out")"
	row "$v" "$way" "$(grep phase=during "$tmp/out")"
	[ "$way" = "inlining off only" ] || row "$v" "after detach" "$(grep phase=after "$tmp/out")"
}

echo "$(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $calls calls"
echo "| ver  | phase                  |    work |   other |  inline |     fib |"
echo "|------|------------------------|--------:|--------:|--------:|--------:|"
for v in $PY_VERSIONS; do
	[ -n "$(pyenv_prefix "$v")" ] || { echo "| $v | not installed |"; continue; }
	measure "$v" session
	measure "$v" uretprobe
	[ "${v#3.}" -ge 11 ] && measure "$v" "inlining off only"
done
if readelf -n /usr/bin/python3.11 2>/dev/null | grep -q function__entry; then
	for way in session uretprobe usdt; do measure "3.11 debian" $way /usr/bin/python3.11; done
fi
