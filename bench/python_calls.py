"""Per-call cost of a Python function, for bench/python_overhead.sh.

usage: python_calls.py plain|sdk CALLS
Times CALLS calls of work() (the function a tracer traces) and of other()
(never traced) and CALLS iterations of a loop with no call, and prints
"work_ns=N other_ns=N inline_ns=N" (nanoseconds per call or iteration, loop
included; best of 3). With sdk, work() opens an OpenTelemetry SDK span, handed
to a BatchSpanProcessor whose exporter drops it: the in-process cost without
serialisation or network, a lower bound of the SDK's.
"""
import sys

from call_timing import inline_ns, per_call_ns

mode, calls = sys.argv[1], int(sys.argv[2])


def work(i):
    return i + 1


def other(i):
    return i + 1


if mode == "sdk":
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    class DropExporter(SpanExporter):
        def export(self, spans):
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(DropExporter()))
    tracer = trace.get_tracer(__name__, tracer_provider=provider)

    def work(i):  # noqa: F811 - the instrumented version
        with tracer.start_as_current_span("work"):
            return i + 1


per_call_ns(work, 1000)
per_call_ns(other, 1000)
best_work = min(per_call_ns(work, calls) for _ in range(3))
best_other = min(per_call_ns(other, calls) for _ in range(3))
best_inline = min(inline_ns(calls) for _ in range(3))
print(f"work_ns={best_work:.0f} other_ns={best_other:.0f} inline_ns={best_inline:.0f}")
if mode == "sdk":
    provider.shutdown()
