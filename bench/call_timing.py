"""Timing loops shared by bench/python_calls.py and bench/python_eval_calls.py."""
import time


def per_call_ns(fn, n):
    """ns per call of fn(i) over n calls."""
    start = time.perf_counter_ns()
    for i in range(n):
        fn(i)
    return (time.perf_counter_ns() - start) / n


def inline_ns(n):
    """ns per iteration of the same loop without a call."""
    start = time.perf_counter_ns()
    x = 0
    for i in range(n):
        x = i + 1
    return (time.perf_counter_ns() - start) / n
