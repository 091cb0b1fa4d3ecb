"""The Flask throughput benchmark's service (bench/python_flask.sh), served
by gunicorn: GET /order/N calls handle_order(N) -> validate(N), which raises
for every 4th order (the request answers 400), else price(N) -> fib(5)
(15 calls). About 14 traced calls a request, and around them the hundreds
of untraced Python calls Flask and gunicorn make.

SHOP_SDK=1 makes the same four functions spans with the in-process
OpenTelemetry SDK (BatchSpanProcessor, OTLP/gRPC to
OTEL_EXPORTER_OTLP_ENDPOINT): what spanprobe is compared with. A span left
by an exception gets status ERROR, as spanprobe's do.

SHOP_MONITOR=1 (3.12+) is the prototype of bench/python_no_trap.md: the
four functions' code objects get sys.monitoring events (start and return;
unwind globally, as CPython only offers it) whose callback is `slice`, a C
callable that does nothing here, so only their calls leave the inlined path
for CPython's instrumentation functions, where a probe can sit. It is what
a tracer would install from outside through 3.14's sys.remote_exec."""
import os

from flask import Flask

app = Flask(__name__)


def validate(n):
    if n % 4 == 0:
        raise ValueError(f"order {n} refused")


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def price(n):
    return 10 + fib(5) + n % 7


def handle_order(n):
    validate(n)
    return price(n)


if os.environ.get("SHOP_SDK") == "1":
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    def setup_sdk():
        provider = TracerProvider(resource=Resource.create({"service.name": "flask-shop"}))
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(insecure=True)))
        trace.set_tracer_provider(provider)
        return trace.get_tracer(__name__)

    def spanned(tracer, f):
        def wrapper(*args):
            with tracer.start_as_current_span(f.__name__):
                return f(*args)
        return wrapper

    # gunicorn forks the workers after importing the app: the SDK's export
    # thread is started in each worker (gunicorn's post_fork hook calls this).
    def post_fork(server, worker):
        global validate, fib, price, handle_order
        tracer = setup_sdk()
        validate = spanned(tracer, validate)
        fib = spanned(tracer, fib)
        price = spanned(tracer, price)
        handle_order = spanned(tracer, handle_order)


if os.environ.get("SHOP_MONITOR") == "1":
    import sys

    def monitor_chosen():
        mon = sys.monitoring
        ev = mon.events
        mon.use_tool_id(mon.PROFILER_ID, "no-trap prototype")
        for e in (ev.PY_START, ev.PY_RETURN, ev.PY_UNWIND):
            mon.register_callback(mon.PROFILER_ID, e, slice)
        for f in (handle_order, validate, price, fib):
            mon.set_local_events(mon.PROFILER_ID, f.__code__, ev.PY_START | ev.PY_RETURN)
        mon.set_events(mon.PROFILER_ID, ev.PY_UNWIND)

    monitor_chosen()


@app.route("/order/<int:n>")
def order(n):
    try:
        return {"price": handle_order(n)}
    except ValueError as e:
        return {"error": str(e)}, 400
