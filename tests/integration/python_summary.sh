#!/usr/bin/env bash
# Python functions get what C functions get: the start messages count them as
# they are found, the summary has their calls (ids from DYN_FUNC_ID_BASE,
# counted in the kernel), and --metrics-addr their calls while running.
source "$(dirname "$0")/../lib/common.sh"
scratch
PY=/usr/bin/python3.11
if ! readelf -n "$PY" 2>/dev/null | grep -q function__entry; then
	skip all "$PY with USDT probes not installed (Debian package python3.11)"
	exit 0
fi
cat >"$SCRATCH/calls.py" <<'PYEOF'
import os, sys, time

def leaf(i):
    return i * 2

def branch(i):
    if i % 4 == 0:
        raise ValueError("every fourth")
    return leaf(i) + leaf(i + 1)

def main(n, gate):
    failed = 0
    for i in range(n):
        try:
            branch(i)
        except ValueError:
            failed += 1
    print("calls branch=%d leaf=%d failed=%d" % (n, 2 * (n - failed), failed), flush=True)
    # wait for the test to have read the metrics (hang guard: 60 s, 10x the usual)
    for _ in range(1200):
        if not gate or os.path.exists(gate):
            break
        time.sleep(0.05)

main(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "")
PYEOF

"$SPANPROBE" -o summary --metrics-addr 127.0.0.1:0 -c "$PY $SCRATCH/calls.py 400 $SCRATCH/gate" \
	"python:$PY:calls.py:leaf,branch" >"$SCRATCH/out" 2>"$SCRATCH/err" &
sp=$!
bg_track $sp
check metrics_announced wait_for_line "$SCRATCH/err" "metrics on http://127.0.0.1:[0-9]*/metrics" 30
check app_done wait_for_line "$SCRATCH/err" "^calls branch=" 60
url=$(grep -o "http://127.0.0.1:[0-9]*/metrics" "$SCRATCH/err")
read -r leaf failed < <(sed -n 's/^calls branch=[0-9]* leaf=\([0-9]*\) failed=\([0-9]*\)/\1 \2/p' "$SCRATCH/err")
curl -sf "$url" >"$SCRATCH/metrics.txt"
touch "$SCRATCH/gate"
wait_exit $sp 60 || fail exit "spanprobe still runs 60 s after the app was let go (hang guard)"
metric() { awk -v m="$1" 'index($0, m) == 1 { print $2 }' "$SCRATCH/metrics.txt"; }
expect_eq metrics.branch_calls "$(metric 'spanprobe_python_calls_total{function="branch"')" 400
expect_eq metrics.leaf_calls "$(metric 'spanprobe_python_calls_total{function="leaf"')" "$leaf"
expect_eq metrics.functions_found "$(metric spanprobe_python_functions_found)" 2
# The start messages: the functions as they are found, counted.
check found.first grep -qE "^spanprobe: python: tracing (main|branch|leaf) \(calls.py:[0-9]+, process [0-9]+\); 1 Python function found so far" "$SCRATCH/err"
check found.second grep -q "; 2 Python functions found so far" "$SCRATCH/err"
# The summary: every call counted in the kernel, the exceptions as errors.
row() { awk -v f="$1" '$1 == f { print $2, $3 }' "$SCRATCH/out"; }
expect_eq summary.branch "$(row branch)" "400 $failed"
expect_eq summary.leaf "$(row leaf)" "$leaf 0"
check summary.histogram grep -q "^@leaf_ns:" "$SCRATCH/out"
check summary.no_span_sent grep -q "^spanprobe: 0 spans" "$SCRATCH/err"
