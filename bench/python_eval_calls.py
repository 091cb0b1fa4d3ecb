"""Per-call costs for bench/python_eval_overhead.sh (the evaluator probe).

usage: python_eval_calls.py CALLS [GO_FILE DETACHED_FILE]
Without files: one phase, "plain". With them: phase "before", then waits for
GO_FILE (the tracer is in place), phase "during", prints "during done",
waits for DETACHED_FILE (the tracer has detached), phase "after". Each phase
prints "phase=NAME work_ns=N other_ns=N inline_ns=N fib_ns=N": ns per call of
work() (the function traced), other() (never traced), one loop iteration
without a call, and one call of a recursive fib() (call-heavy code, never
traced); best of 3.
"""
import os
import sys
import time

from call_timing import inline_ns, per_call_ns

calls = int(sys.argv[1])
go, detached = (sys.argv[2], sys.argv[3]) if len(sys.argv) > 3 else (None, None)


def work(i):
    return i + 1


def other(i):
    return i + 1


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


FIB_N = 20
FIB_CALLS = 21891  # calls of fib() made by fib(20)


def fib_ns():
    start = time.perf_counter_ns()
    for _ in range(max(1, calls // FIB_CALLS)):
        fib(FIB_N)
    return (time.perf_counter_ns() - start) / (max(1, calls // FIB_CALLS) * FIB_CALLS)


def phase(name):
    per_call_ns(work, 1000)
    per_call_ns(other, 1000)
    r = {
        "work_ns": min(per_call_ns(work, calls) for _ in range(3)),
        "other_ns": min(per_call_ns(other, calls) for _ in range(3)),
        "inline_ns": min(inline_ns(calls) for _ in range(3)),
        "fib_ns": min(fib_ns() for _ in range(3)),
    }
    print(f"phase={name} " + " ".join(f"{k}={v:.0f}" for k, v in r.items()), flush=True)


# The waits are inline in the module's frame, entered before the tracer
# attaches: a frame entered while it is attached and still running when it
# detaches would hold the detach up (see the prototype's notes).
if go is None:
    phase("plain")
else:
    phase("before")
    while not os.path.exists(go):
        time.sleep(0.01)
    phase("during")
    print("during done", flush=True)
    while not os.path.exists(detached):
        time.sleep(0.01)
    phase("after")
